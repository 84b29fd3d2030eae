#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# swctl report --folded: folded stacks in, an SVG flame graph (frames named,
# as wide as their counts), pprof or folded stacks out; what swctl writes
# reads back to the same file; a bad line stops it with FILE:LINE, exit 1
# and no output.  TAP output.
# Run from the repo top after the build: bash userspace/tests/swctl/report_folded.sh
set -u
cd "$(dirname "$0")/../../.." || exit 1

swctl=${BUILD:-build}/swctl
fx=userspace/tests/fixtures/replay
if [[ ! -x $swctl ]]; then
	echo "1..0 # SKIP $swctl not built (make -f userspace/Makefile)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "1..13"
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

# "NAME WIDTH" for every frame of an SVG (the name is the first line of its <title>)
frame_widths() {
	awk '/<g class="f"/ { sub(/.*<title>/, ""); name = $0; next }
	     name != "" && /width="/ { w = $0; sub(/.*width="/, "", w); sub(/".*/, "", w)
				       print name " " w; name = "" }' "$1"
}

# the width of frame $2 in $1
width_of() {
	frame_widths "$1" | awk -v n="$2" '{ w = $NF; sub(/ [^ ]*$/, "") } $0 == n { print w; exit }'
}

cat > "$tmp/oap.folded" <<'EOF'
main;serve;parse_request 300
main;serve;send_reply(int, const char*) 100
main;serve;write;entry_SYSCALL_64_[k];ksys_write_[k] 50

main;idle 50
EOF

"$swctl" report --folded "$tmp/oap.folded" -o "$tmp/flame.svg" --title "OAP task 42" \
	> "$tmp/out.log" 2>&1
report "an SVG from folded stacks" $? "$tmp/out.log"

missing=
for f in main serve parse_request "send_reply(int, const char*)" write entry_SYSCALL_64 \
	ksys_write idle; do
	frame_widths "$tmp/flame.svg" | grep -qF -- "$f " || missing+=" '$f'"
done
grep -q '<text id="title"[^>]*>OAP task 42</text>' "$tmp/flame.svg" || missing+=" (the title)"
[[ -z $missing ]]
report "the SVG has the title and every frame, without _[k]${missing:+; missing:$missing}" \
	$? "$tmp/out.log"

# widths: all is 500 samples wide; parse_request 300, send_reply 100, ksys_write and idle 50
all=$(width_of "$tmp/flame.svg" all)
pr=$(width_of "$tmp/flame.svg" parse_request)
sr=$(width_of "$tmp/flame.svg" "send_reply(int, const char*)")
kw=$(width_of "$tmp/flame.svg" ksys_write)
idle=$(width_of "$tmp/flame.svg" idle)
serve=$(width_of "$tmp/flame.svg" serve)
frame_widths "$tmp/flame.svg" > "$tmp/widths"
awk -v a="$all" -v pr="$pr" -v sr="$sr" -v kw="$kw" -v i="$idle" -v s="$serve" '
	function near(x, want) { return x != "" && x - want < 0.02 * a && want - x < 0.02 * a }
	BEGIN { exit !(a > 0 && near(pr, a * 300 / 500) && near(sr, a * 100 / 500) &&
		       near(kw, a * 50 / 500) && near(i, a * 50 / 500) && near(s, a * 450 / 500)) }'
report "frame widths follow the counts (px: $all, $pr, $sr, $kw, $idle)" $? "$tmp/widths"
grep -A2 '<title>ksys_write$' "$tmp/flame.svg" | grep -q '^kernel</title>'
report "a _[k] frame is drawn as a kernel frame" $? "$tmp/flame.svg"

# what swctl writes reads back to the same file, in counts and in ns
rc=0
for mode in cpu wall; do
	"$swctl" report -q --folded "$fx/$mode.folded" -o "$tmp/$mode.folded" > "$tmp/rt.log" 2>&1 &&
		cmp "$fx/$mode.folded" "$tmp/$mode.folded" >> "$tmp/rt.log" 2>&1 || rc=1
done
report "swctl's folded profiles read back to the same files" $rc "$tmp/rt.log"
printf 'main;poll 250\nmain;read;schedule_[k] 3000000\n' > "$tmp/ns.folded"
"$swctl" report -q --folded - --value ns -o "$tmp/ns-again.folded" -o "$tmp/ns.svg" \
	< "$tmp/ns.folded" > "$tmp/ns.log" 2>&1 && cmp "$tmp/ns.folded" "$tmp/ns-again.folded" \
	>> "$tmp/ns.log" 2>&1 && grep -q '<text id="subtitle"[^>]*>offcpu' "$tmp/ns.svg"
report "--folded - --value ns: stdin, nanoseconds as they are, an off-CPU graph" $? "$tmp/ns.log"

"$swctl" report -q --folded "$tmp/oap.folded" -o "$tmp/oap.pb.gz" > "$tmp/pb.log" 2>&1 &&
	[[ $(head -c 2 "$tmp/oap.pb.gz" | od -An -tx1 | tr -d ' ') == 1f8b ]] &&
	gzip -dc "$tmp/oap.pb.gz" | grep -qa "send_reply(int, const char\*)"
report "pprof from folded stacks" $? "$tmp/pb.log"

"$swctl" report --folded "$tmp/oap.folded" -o "$tmp/top.svg" > "$tmp/top.out" 2> "$tmp/top.err" &&
	grep -q "4 stacks, 500 samples" "$tmp/top.err" && grep -q "parse_request" "$tmp/top.out"
report "the summary counts stacks and samples and names the top functions" $? "$tmp/top.err"

# a bad line: exit 1, one line FILE:LINE: why, no output left
printf 'main;a 1\n\nmain;b 2\nmain;c many\nmain;d 4\n' > "$tmp/bad.folded"
mkdir "$tmp/out"
"$swctl" report --folded "$tmp/bad.folded" -o "$tmp/out/bad.svg" -o "$tmp/out/bad.folded" \
	> "$tmp/bad.out" 2> "$tmp/bad.err"
rc=$?
[[ $rc == 1 && $(wc -l < "$tmp/bad.err") == 1 && -z $(ls -A "$tmp/out") ]] &&
	grep -qxF "swctl: report: $tmp/bad.folded:4: count 'many' is not a whole number" "$tmp/bad.err"
report "a count that is not a number: exit 1 (got $rc), FILE:4 in one line, no output file" \
	$? "$tmp/bad.err"
printf 'main;a 1\nmain;b\n' | "$swctl" report --folded - -o "$tmp/bad2.svg" > /dev/null 2> "$tmp/bad2.err"
rc=$?
[[ $rc == 1 && ! -e $tmp/bad2.svg ]] &&
	grep -qxF "swctl: report: stdin:2: no count: a line is 'root;...;leaf COUNT'" "$tmp/bad2.err"
report "a line without a count on stdin: exit 1 (got $rc), stdin:2" $? "$tmp/bad2.err"

"$swctl" report --folded "$tmp/no-such.folded" -o "$tmp/x.svg" > /dev/null 2> "$tmp/nf.err"
rc=$?
[[ $rc == 1 && ! -e $tmp/x.svg ]] && grep -q "cannot open $tmp/no-such.folded" "$tmp/nf.err"
report "a missing file: exit 1 (got $rc), one line" $? "$tmp/nf.err"

rc=0
"$swctl" report --folded "$tmp/oap.folded" --raw x.raw -o "$tmp/u.svg" 2> "$tmp/usage.err"
[[ $? == 2 ]] || rc=1
"$swctl" report -o "$tmp/u.svg" 2>> "$tmp/usage.err"
[[ $? == 2 ]] || rc=1
"$swctl" report --folded "$tmp/oap.folded" --lines -o "$tmp/u.svg" 2>> "$tmp/usage.err"
[[ $? == 2 ]] || rc=1
"$swctl" report --folded "$tmp/oap.folded" --by-thread -o "$tmp/u.svg" 2>> "$tmp/usage.err"
[[ $? == 2 ]] || rc=1
"$swctl" report --raw x.raw --mode cpu -o "$tmp/u.svg" 2>> "$tmp/usage.err"
[[ $? == 2 ]] || rc=1
[[ ! -e $tmp/u.svg && $(wc -l < "$tmp/usage.err") == 5 ]] || rc=1
report "usage errors (--raw and --folded, neither, misplaced options): one line, exit 2" \
	$rc "$tmp/usage.err"

"$swctl" report --help | grep -q -- "--folded FILE" && grep -qF -- '.BI \-\-folded' docs/man/swctl-report.1
report "--help and the man page describe --folded" $?
