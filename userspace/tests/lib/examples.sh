#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# userspace/examples/*.c stay correct: each compiles warning-free against
# libswprof.a; trace_server serves requests without the module (every
# swprof_trace_begin() says why it did not trace); trace_controller says what
# to do without the module; docs/integrators.md carries trace_server.c as
# it is.  TAP output.  Run from the repo top after the build:
#   bash userspace/tests/lib/examples.sh
#
# SWPROF_KEEP=DIR keeps the binaries there (the VM test uses them).
set -u
cd "$(dirname "$0")/../../.." || exit 1

lib=${SWPROF_TEST_LIBA:-build/lib/libswprof.a}
cc=${CC:-cc}
if [[ ! -f $lib ]]; then
	echo "1..0 # SKIP $lib not built (make -f userspace/Makefile)"
	exit 0
fi

examples=(userspace/examples/*.c)
echo "1..$((${#examples[@]} + 6))"

out=${SWPROF_KEEP:-$(mktemp -d)}
mkdir -p "$out"
[[ -n ${SWPROF_KEEP:-} ]] || trap 'rm -rf "$out"' EXIT

n=0 failed=0
report() {	# report NAME STATUS [LOGFILE]
	n=$((n + 1))
	if [[ $2 == 0 ]]; then
		echo "ok $n $1"
	else
		echo "not ok $n $1"
		failed=$((failed + 1))
		[[ -n ${3:-} && -s $3 ]] && head -n 60 "$3" | sed 's/^/# /'
	fi
}

nl_libs=$(pkg-config --libs libnl-genl-3.0 libnl-3.0 2>/dev/null)
for src in "${examples[@]}"; do
	name=$(basename "$src" .c)
	# shellcheck disable=SC2086
	"$cc" -O2 -g -fno-omit-frame-pointer -Wall -Wextra -Werror -Iinclude/uapi -Iuserspace/lib -o "$out/$name" \
		"$src" "$lib" -lpthread $nl_libs > "$out/$name.cc.log" 2>&1
	report "$name compiles with -Wall -Wextra -Werror" $? "$out/$name.cc.log"
done

# trace_server without a module: requests are served, begin says why not.
export SWPROF_DEVICE=/nonexistent/swprof
request() {	# request PORT PATH -> response on stdout
	exec 3<> "/dev/tcp/127.0.0.1/$1" || return 1
	printf 'GET %s HTTP/1.0\r\n\r\n' "$2" >&3
	timeout 10 cat <&3
	exec 3<&-
}
status=1
if [[ -x $out/trace_server ]]; then
	"$out/trace_server" -p 0 -n 3 -t 2 > "$out/server.out" 2> "$out/server.err" &
	server=$!
	for _ in $(seq 100); do
		grep -q '^listening on' "$out/server.out" 2>/dev/null && break
		sleep 0.05
	done
	port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out/server.out")
	if [[ -n $port ]]; then
		{
			request "$port" /fast
			request "$port" /slow
			request "$port" /fast
		} > "$out/responses" 2>&1
		grep -c '^HTTP/1.0 200 OK' "$out/responses" | grep -qx 3 &&
			grep -q '^GET:/slow traced=0 error=No such file or directory$' "$out/responses" &&
			status=0
	fi
	timeout 10 tail --pid="$server" -f /dev/null
	wait "$server" || status=1
	cat "$out/server.out" "$out/server.err" "$out/responses" > "$out/server.log" 2>/dev/null
fi
report "trace_server serves requests without the module" $status "$out/server.log"
grep -q 'unavailable: /dev/swprof is missing' "$out/server.err" 2>/dev/null
report "trace_server says why it cannot be profiled" $? "$out/server.err"
[[ $(grep -c '^GET:/fast traced=0' "$out/responses" 2>/dev/null) == 2 ]]
report "trace_server answers each request" $? "$out/responses"

# trace_controller without a module: one actionable line, exit 1.
status=1
if [[ -x $out/trace_controller ]]; then
	"$out/trace_controller" -e GET:/slow -d 1 > "$out/ctl.out" 2>&1
	[[ $? == 1 ]] && grep -q 'modprobe swprof' "$out/ctl.out" && status=0
fi
report "trace_controller without the module says to load it" $status "$out/ctl.out"
status=1
if [[ -x $out/trace_controller ]]; then
	"$out/trace_controller" > "$out/usage.out" 2>&1
	[[ $? == 2 ]] && grep -q '^usage:' "$out/usage.out" && status=0
fi
report "trace_controller without -e prints its usage" $status "$out/usage.out"

# The documentation shows trace_server.c as it is.
awk '/^<!-- begin userspace\/examples\/trace_server.c -->$/ { on = 1; next }
     /^<!-- end userspace\/examples\/trace_server.c -->$/ { on = 0 }
     on' docs/integrators.md | sed '1{/^```c$/d}; ${/^```$/d}' > "$out/doc_example.c"
diff -u userspace/examples/trace_server.c "$out/doc_example.c" > "$out/doc.diff" 2>&1
report "docs/integrators.md shows userspace/examples/trace_server.c unchanged" $? "$out/doc.diff"
exit $((failed > 0))
