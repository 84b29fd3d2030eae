#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# swctl symbolize, the command: input forms, output format, options and
# errors.  TAP on stdout.  Uses build/swctl and the symbolizer fixtures
# (userspace/tests/fixtures/sym/build.sh builds them).
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
build=${BUILD:-$top/build}
swctl=$build/swctl
fx=$build/tests/fixtures/sym
n=0 failed=0
tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $1"
	shift
	local l
	for l in "$@"; do
		echo "#   $l"
	done
}
check() {	# check NAME COMMAND...: ok when the command succeeds
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }

nm_addr() { nm "$1" | awk -v s="$2" '$3 == s { print $1; exit }'; }
src_line() { grep -n "LINE:$2 " "$top/userspace/tests/fixtures/sym/$1" | cut -d: -f1; }

if [[ ! -x $swctl ]]; then
	echo "1..0 # SKIP $swctl is not built"
	exit 0
fi
if ! bash "$top/userspace/tests/fixtures/sym/build.sh" "$top/userspace/tests/fixtures/sym" "$fx" >&2; then
	echo "1..0 # SKIP the fixtures do not build"
	exit 0
fi
echo "1..16"

pie=$fx/target-pie
alpha=$(nm_addr "$pie" fix_alpha)
beta=$(nm_addr "$pie" fix_beta)

# 1: addresses as arguments, with and without 0x
out=$("$swctl" symbolize -e "$pie" "0x$alpha" "$beta" 2>&1)
want=$(printf '0x%x fix_alpha+0x0 (target-pie)\n0x%x fix_beta+0x0 (target-pie)' "0x$alpha" "0x$beta")
if [[ $out == "$want" ]]; then
	ok "arguments: one line per address"
else
	not_ok "arguments: one line per address" "got: $out" "want: $want"
fi

# 2: stdin, blank lines and comments skipped, offsets
out=$(printf '# a comment\n\n  0x%x\n%x\n' $((0x$alpha + 2)) $((0x$beta + 1)) |
	"$swctl" symbolize -e "$pie")
if [[ $(wc -l <<<"$out") == 2 && $out == *"fix_alpha+0x2 (target-pie)"* &&
	$out == *"fix_beta+0x1 (target-pie)"* ]]; then
	ok "stdin: hex with or without 0x, comments and blank lines"
else
	not_ok "stdin: hex with or without 0x, comments and blank lines" "got: $out"
fi

# 3: a bad line is reported, the others still resolved, exit status 1
out=$(printf '0x%s\nnot-an-address\n' "$alpha" | "$swctl" symbolize -e "$pie" 2>"$tmp/err")
rc=$?
if ((rc == 1)) && [[ $out == *fix_alpha* ]] && grep -q "line 2: 'not-an-address' is not a hex address" "$tmp/err"; then
	ok "bad input line: message, exit 1, the rest resolved"
else
	not_ok "bad input line: message, exit 1, the rest resolved" "rc=$rc out=$out" "err=$(cat "$tmp/err")"
fi

# 4: --lines: file:line
out=$("$swctl" symbolize --lines -e "$pie" "$alpha")
if [[ $out == *"fix_alpha+0x0 (target-pie) ["*"/target.c:$(src_line target.c alpha)]" ]]; then
	ok "--lines: [file:line]"
else
	not_ok "--lines: [file:line]" "got: $out" "want line $(src_line target.c alpha)"
fi

# 5: --lines: inline frames on the following, indented lines
read -r start size < <(nm -S "$pie" | awk '$4 == "fix_gamma" { print $1, $2 }')
for ((i = 0; i < 0x$size; i++)); do printf '0x%x\n' $((0x$start + i)); done > "$tmp/gamma"
"$swctl" symbolize --lines -e "$pie" < "$tmp/gamma" > "$tmp/gamma.out"
if grep -A1 "^0x[0-9a-f]* fix_leaf_inline (inlined) (target-pie) \[.*target.c:$(src_line target.c leaf_call)\]$" "$tmp/gamma.out" |
	grep -q "^    fix_gamma+0x[0-9a-f]* (target-pie) \[.*target.c:$(src_line target.c gamma_call)\]$"; then
	ok "--lines: inline frames, innermost first, callers indented"
else
	not_ok "--lines: inline frames, innermost first, callers indented" "$(head -n 12 "$tmp/gamma.out")"
fi

# 6: --json
out=$("$swctl" symbolize --json --lines -e "$pie" "$alpha")
if python3 -c '
import json, sys
o = json.loads(sys.argv[1])
f = o["frames"][-1]
assert o["addr"] == "0x" + sys.argv[2].lstrip("0"), o
assert f["name"] == "fix_alpha" and f["status"] == "ok" and f["inline"] is False, f
assert f["module"].endswith("/target-pie") and f["file"].endswith("target.c"), f
assert len(f["build_id"]) == 40, f
' "$out" "$alpha" 2>"$tmp/err"; then
	ok "--json: one object per address"
else
	not_ok "--json: one object per address" "$out" "$(cat "$tmp/err")"
fi

# 7: --return looks up ADDR-1
out=$("$swctl" symbolize --return -e "$pie" "$beta")
if [[ $out != *fix_beta* && -n $out ]]; then
	ok "--return: a return address belongs to the call before it"
else
	not_ok "--return: a return address belongs to the call before it" "got: $out"
fi

# 8: [MISSING] keeps the module
bad=$fx/target-badcrc
a=$(nm_addr "$fx/full/target-badcrc" fix_alpha)
out=$("$swctl" symbolize -e "$bad" "$a")
want=$(printf '0x%x [MISSING] target-badcrc+0x%x' "0x$a" "0x$a")
if [[ $out == "$want" ]]; then
	ok "unresolved: [MISSING] module+offset"
else
	not_ok "unresolved: [MISSING] module+offset" "got: $out" "want: $want"
fi

# 9: C++ demangling, and --no-demangle / --no-params
cxx=$fx/cxx-fixture
c=$(nm_addr "$cxx" _ZN5fixns5inner7computeEid)
o1=$("$swctl" symbolize -e "$cxx" "$c")
o2=$("$swctl" symbolize --no-demangle -e "$cxx" "$c")
o3=$("$swctl" symbolize --no-params -e "$cxx" "$c")
if [[ $o1 == *" fixns::inner::compute(int, double)+0x0 "* && $o2 == *" _ZN5fixns5inner7computeEid+0x0 "* &&
	$o3 == *" fixns::inner::compute+0x0 "* ]]; then
	ok "C++: demangled, raw with --no-demangle, short with --no-params"
else
	not_ok "C++: demangled, raw with --no-demangle, short with --no-params" "$o1" "$o2" "$o3"
fi

# 10: -p PID: a running fixture
mkfifo "$tmp/in"
"$pie" < "$tmp/in" > "$tmp/pout" &
ppid=$!
pids+=("$ppid")
exec 3> "$tmp/in"
for ((i = 0; i < 100; i++)); do
	grep -q '^ready' "$tmp/pout" 2>/dev/null && break
	sleep 0.05
done
ra=$(awk '$1 == "fix_alpha" { print $2 }' "$tmp/pout")
rl=$(awk '$1 == "lib_func" { print $2 }' "$tmp/pout")
out=$("$swctl" symbolize -p "$ppid" "$ra" "$rl")
if [[ $(sed -n 1p <<<"$out") == "$ra fix_alpha+0x0 (target-pie)" &&
	$(sed -n 2p <<<"$out") == "$rl lib_func+0x0 (libfix.so)" ]]; then
	ok "-p PID: absolute addresses of a live process"
else
	not_ok "-p PID: absolute addresses of a live process" "got: $out" "from: $(cat "$tmp/pout")"
fi
exec 3>&-
wait "$ppid" 2>/dev/null

# 11: --kallsyms FILE (--kernel on a saved copy)
cat > "$tmp/kallsyms" <<'EOT'
ffffffff81000000 T _stext
ffffffff81000100 T start_kernel
ffffffff81000200 T _etext
ffffffffc0001000 t mod_fn	[fake_mod]
EOT
out=$("$swctl" symbolize --kallsyms "$tmp/kallsyms" ffffffff81000110 0xffffffffc0001004)
if [[ $(sed -n 1p <<<"$out") == "0xffffffff81000110 start_kernel+0x10 ([kernel.kallsyms])" &&
	$(sed -n 2p <<<"$out") == "0xffffffffc0001004 mod_fn+0x4 ([fake_mod])" ]]; then
	ok "--kallsyms: kernel and module symbols"
else
	not_ok "--kallsyms: kernel and module symbols" "got: $out"
fi

# 12-15: usage errors
"$swctl" symbolize 0x1 >/dev/null 2>"$tmp/err"
check "no -p/-e/--kernel: exit 2 with a message" test $? == 2 -a -s "$tmp/err"
"$swctl" symbolize -p 1 -e "$pie" 0x1 >/dev/null 2>&1
check "both -p and -e: exit 2" test $? == 2
"$swctl" symbolize -p 2147483000 0x1 >/dev/null 2>"$tmp/err"
rc=$?
if ((rc == 1)) && grep -q "no process 2147483000" "$tmp/err"; then
	ok "no such process: exit 1, says so"
else
	not_ok "no such process: exit 1, says so" "rc=$rc $(cat "$tmp/err")"
fi
"$swctl" symbolize -e /nonexistent/elf 0x1 >/dev/null 2>"$tmp/err"
rc=$?
if ((rc == 1)) && grep -q "cannot read ELF file /nonexistent/elf" "$tmp/err"; then
	ok "no such ELF file: exit 1, says so"
else
	not_ok "no such ELF file: exit 1, says so" "rc=$rc $(cat "$tmp/err")"
fi

# 16: --help
if "$swctl" symbolize --help | grep -q -- "--lines"; then
	ok "--help lists the options"
else
	not_ok "--help lists the options"
fi

exit $((failed != 0))
