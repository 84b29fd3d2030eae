#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The layering of userspace/ holds (docs/hacking.md): tools/check-layering
# passes on the tree, catches a forbidden #include and an include cycle in
# a copy of it, each with its file:line, and the compiler itself refuses a
# forbidden include (a folder is built with the include paths of the
# folders it may use only).  TAP output.  Run from the repo top:
#   bash userspace/tests/layering.sh
set -u
cd "$(dirname "$0")/../.." || exit 1

if [[ ! -x /usr/bin/python3 ]]; then
	echo "1..0 # SKIP /usr/bin/python3 not installed (tools/setup installs it)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "1..6"
n=0
report() {	# report NAME STATUS [FILE]
	n=$((n + 1))
	if [[ $2 == 0 ]]; then
		echo "ok $n $1"
	else
		echo "not ok $n $1"
		[[ -n ${3:-} && -s $3 ]] && sed 's/^/# /' "$3" | head -n 30
	fi
}

tools/check-layering > "$tmp/tree.log" 2>&1
report "tools/check-layering passes on the tree" $? "$tmp/tree.log"

# a copy where the symbolizer includes a pipeline header
fresh() {
	rm -rf "$tmp/t"
	mkdir -p "$tmp/t"
	cp -r userspace "$tmp/t/"
}
fresh
sed -i '0,/#include "sym_priv.h"/s//#include "sym_priv.h"\n#include "pipeline.h"/' "$tmp/t/userspace/sym/proc.c"
line=$(grep -n '#include "pipeline.h"' "$tmp/t/userspace/sym/proc.c" | cut -d: -f1)
tools/check-layering --root "$tmp/t" > "$tmp/up.log" 2>&1
rc=$?
[[ $rc == 1 ]] && grep -q "^# userspace/sym/proc.c:$line: sym may not include pipeline/pipeline.h" "$tmp/up.log" &&
	grep -q "^not ok 1 " "$tmp/up.log"
report "an include up the layers is caught at its file:line" $? "$tmp/up.log"
grep -q "^# include cycle between folders pipeline -> sym -> pipeline: .*userspace/sym/proc.c:$line" "$tmp/up.log"
report "the cycle it makes is caught, with the lines that make it" $? "$tmp/up.log"

# a test that includes what its folder may not use
fresh
sed -i '0,/#include "kselftest_harness.h"/s//#include "kselftest_harness.h"\n#include "sym.h"/' \
	"$tmp/t/userspace/tests/prof/test_model.c"
tools/check-layering --root "$tmp/t" > "$tmp/test.log" 2>&1
[[ $? == 1 ]] && grep -q "^# userspace/tests/prof/test_model.c:[0-9]*: tests of prof may not include sym/sym.h" "$tmp/test.log"
report "a test that includes a folder its own may not use is caught" $? "$tmp/test.log"

# grpc outside oap/
fresh
sed -i '0,/#include "sym_priv.h"/s//#include "sym_priv.h"\n#include <grpc\/grpc.h>/' "$tmp/t/userspace/sym/proc.c"
tools/check-layering --root "$tmp/t" > "$tmp/grpc.log" 2>&1
[[ $? == 1 ]] && grep -q "^# userspace/sym/proc.c:[0-9]*: only userspace/oap/ may include grpc" "$tmp/grpc.log"
report "grpc included outside oap/ is caught" $? "$tmp/grpc.log"

# the compiler: sym's include paths do not contain pipeline/
incs=$(make -s -f userspace/Makefile print-incs-sym 2> /dev/null)
printf '#include "sym.h"\n#include "pipeline.h"\n' > "$tmp/x.c"
# shellcheck disable=SC2086
if [[ -n $incs ]] && ! cc -fsyntax-only -Iinclude/uapi $incs "$tmp/x.c" > "$tmp/cc.log" 2>&1 &&
	grep -q "pipeline.h: No such file" "$tmp/cc.log"; then
	report "the compiler refuses pipeline.h in sym/ (include paths: $incs)" 0
else
	report "the compiler refuses pipeline.h in sym/ (include paths: $incs)" 1 "$tmp/cc.log"
fi
