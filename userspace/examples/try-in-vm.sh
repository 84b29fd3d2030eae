#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Trace profiling end to end in a VM (tools/vm): trace_controller runs a task
# for GET:/slow (threshold 20 ms, dump period 10 ms, 3 segments, 2 in
# parallel); trace_server serves 6 requests; then the Python binding is
# traced by a task for GET:/py.  Prints both sides.
#
#   make kmod userspace && userspace/examples/try-in-vm.sh [--kernel REL]
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ ${1:-} != --guest ]]; then
	out=$PWD/build/try-trace
	mkdir -p "$out" build/examples
	for ex in trace_server trace_controller; do
		cc -O2 -g -fno-omit-frame-pointer -Wall -Wextra -Iinclude/uapi -Iuserspace/lib \
			-o "build/examples/$ex" "userspace/examples/$ex.c" build/lib/libswprof.a -lpthread
	done
	exec tools/vm run "$@" --timeout 300 --out "$out" -- "$PWD/$0" --guest "$out"
fi

out=$2
insmod "build/kmod/$(uname -r)/swprof.ko"

request() {	# request PORT PATH: print the answer's body
	exec 3<> "/dev/tcp/127.0.0.1/$1"
	printf 'GET %s HTTP/1.0\r\n\r\n' "$2" >&3
	tail -n1 <&3
	exec 3<&-
}
wait_for() {	# wait_for FILE REGEX
	for _ in $(seq 100); do
		grep -q "$2" "$1" 2> /dev/null && return
		sleep 0.1
	done
	echo "timed out waiting for '$2' in $1" >&2
	exit 1
}

echo "== the application: trace_server"
build/examples/trace_controller -e GET:/slow -d 60 -m 20 -p 10 -c 3 -P 2 > "$out/controller.out" 2>&1 &
ctl=$!
wait_for "$out/controller.out" ready
build/examples/trace_server -p 0 -n 6 -t 4 > "$out/server.out" &
srv=$!
wait_for "$out/server.out" listening
port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out/server.out")
request "$port" /fast
request "$port" /slow
request "$port" /slow
request "$port" /slow & r1=$!
request "$port" /slow & r2=$!
wait $r1 $r2
request "$port" /slow
wait $srv
kill -INT $ctl
wait $ctl
echo "== the controller: trace_controller"
cat "$out/controller.out"

echo "== the Python binding"
build/examples/trace_controller -e GET:/py -d 60 > "$out/controller-py.out" 2>&1 &
ctl=$!
wait_for "$out/controller-py.out" ready
SWPROF_LIB=$PWD/build/lib/libswprof.so /usr/bin/python3 - << 'EOF'
import sys, time
sys.path.insert(0, "userspace/python")
import swprof

with swprof.traced("GET:/py", "py-segment-1") as admitted:
    print("GET:/py admitted:", admitted, "task", swprof.current_task())
    t = time.monotonic()
    while time.monotonic() - t < 0.05:
        pass
    time.sleep(0.05)
with swprof.traced("GET:/other", "py-segment-2") as admitted:
    print("GET:/other admitted:", admitted, "(%s)" % swprof.reason())
EOF
kill -INT $ctl
wait $ctl
cat "$out/controller-py.out"
