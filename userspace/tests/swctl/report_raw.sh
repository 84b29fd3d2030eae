#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# swctl report --raw: a fixed input, records of the demo workload
# (tools/demo/workload.c) written by fixtures/replay/gen_raw.py for a live
# process of it, gives the profile the recording code made before the
# pipeline (commit 2252918): fixtures/replay/{cpu,wall}.folded were
# written by tools/compare-old-record from the same input.  TAP output.
# Run from the repo top after the build: bash userspace/tests/swctl/report_raw.sh
set -u
cd "$(dirname "$0")/../../.." || exit 1

swctl=${BUILD:-build}/swctl
fx=userspace/tests/fixtures/replay
cc=${CC:-cc}
if [[ ! -x $swctl ]]; then
	echo "1..0 # SKIP $swctl not built (make -f userspace/Makefile)"
	exit 0
fi
tmp=$(mktemp -d)
wl_pid=
cleanup() {
	[[ -n $wl_pid ]] && kill "$wl_pid" 2> /dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "1..6"
n=0
report() {	# report NAME STATUS [FILE]
	n=$((n + 1))
	if [[ $2 == 0 ]]; then
		echo "ok $n $1"
	else
		echo "not ok $n $1"
		[[ -n ${3:-} && -s $3 ]] && head -n 40 "$3" | sed 's/^/# /'
	fi
}

# -O0: no clones (checksum.constprop.0) or inlining, whatever the compiler
"$cc" -O0 -g -fno-omit-frame-pointer -pthread -o "$tmp/workload" tools/demo/workload.c 2> "$tmp/cc.log"
report "the demo workload compiles" $? "$tmp/cc.log"
"$tmp/workload" 120 1 > /dev/null &
wl_pid=$!
# its maps are complete once it runs its worker
for _ in $(seq 50); do
	[[ $(ls /proc/$wl_pid/task 2> /dev/null | wc -l) -ge 2 ]] && break
	sleep 0.1
done

for mode in cpu wall; do
	python3 "$fx/gen_raw.py" "$tmp/$mode.raw" $mode $wl_pid "$tmp/workload" > "$tmp/gen.log" 2>&1 &&
		"$swctl" report -q --raw "$tmp/$mode.raw" -o "$tmp/$mode.folded" > "$tmp/report.log" 2>&1
	rc=$?
	cat "$tmp/gen.log" >> "$tmp/report.log"
	report "$mode: swctl report --raw writes a folded profile" $rc "$tmp/report.log"
	diff -u "$fx/$mode.folded" "$tmp/$mode.folded" > "$tmp/diff" 2>&1
	report "$mode: the same profile as the recording code before the pipeline" $? "$tmp/diff"
done

printf 'not a raw file' > "$tmp/bad.raw"
"$swctl" report --raw "$tmp/bad.raw" -o "$tmp/bad.folded" > "$tmp/bad.log" 2>&1
rc=$?
[[ $rc == 1 ]] && grep -q "is not a file of swctl record --save-raw" "$tmp/bad.log" && [[ ! -e $tmp/bad.folded ]]
report "a file that is not one: exit 1, one line saying so, no output" $? "$tmp/bad.log"
