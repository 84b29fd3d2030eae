#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# swctl agent --check-config, the command: the shipped example and a
# Rover-style file are valid, each problem is one file:line:col line, the
# exit status says whether the file is valid.  TAP on stdout.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
build=${BUILD:-$top/build}
swctl=$build/swctl
rover=$top/userspace/tests/fixtures/agent/rover-0.5.yaml
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

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
# run EXPECTED_STATUS ARGS...: swctl's stdout in $tmp/out, stderr in $tmp/err
run() {
	local want=$1 got
	shift
	"$swctl" "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	[[ $got == "$want" ]] || { echo "exit status $got, expected $want" >>"$tmp/err"; return 1; }
}
# expect NAME EXPECTED_STATUS ARGS... -- PATTERN...: each PATTERN (grep -E) is in stderr
expect() {
	local name=$1 want=$2 p
	shift 2
	local args=()
	while [[ $1 != -- ]]; do args+=("$1"); shift; done
	shift
	if ! run "$want" "${args[@]}"; then
		not_ok "$name" "$(cat "$tmp/err")"
		return
	fi
	for p in "$@"; do
		if ! grep -Eq -- "$p" "$tmp/err"; then
			not_ok "$name" "no line matching '$p' in:" "$(cat "$tmp/err")"
			return
		fi
	done
	ok "$name"
}

echo "1..10"

# the example shipped in configs/ is valid and silent
if run 0 agent --check-config --config "$top/configs/swctl-agent.yaml" && [[ ! -s $tmp/err ]] &&
	grep -q "valid (0 warnings)" "$tmp/out"; then
	ok "configs/swctl-agent.yaml is valid, without a warning"
else
	not_ok "configs/swctl-agent.yaml is valid, without a warning" "$(cat "$tmp/out" "$tmp/err")"
fi

# a Rover file: accepted; only Rover keys swprof does not use are warned about
if run 0 agent --check-config --config "$rover" && [[ $(wc -l <"$tmp/err") == 3 ]] &&
	! grep -q "error" "$tmp/err" && [[ $(grep -c "is a Rover key that swprof does not use" "$tmp/err") == 3 ]]; then
	ok "a Rover-style configuration is accepted"
else
	not_ok "a Rover-style configuration is accepted" "$(cat "$tmp/out" "$tmp/err")"
fi

# Rover's environment variables still work; a bad one is reported at its line
ROVER_PROFILING_FLUSH_INTERVAL=soon ROVER_BACKEND_ADDR=oap expect \
	"a Rover variable with a bad value: an error at the key's line" 1 \
	agent --check-config --config "$rover" -- \
	"rover-0.5.yaml:41:19: error: profiling.flush_interval: 'soon' is not a duration" \
	"rover-0.5.yaml:11:11: error: core.backend.addr: 'oap' is not HOST:PORT"
grep -q "2 errors, 3 warnings" "$tmp/out" && ok "the summary counts them" ||
	not_ok "the summary counts them" "$(cat "$tmp/out")"

cat >"$tmp/bad.yaml" <<'YAML'
core:
  backend:
    check_period: 5 minutes
    enable_TLS: si
process_discovery:
  vm:
    active: true
    finders:
      - match_cmd_regex: "(unclosed"
        service_name: "{{.Process.Nme}}"
nonsense: 1
YAML
expect "each problem: one line with file:line:col" 1 agent --check-config --config "$tmp/bad.yaml" -- \
	"bad.yaml:3:19: error: core.backend.check_period: '5 minutes' is not a duration" \
	"bad.yaml:4:17: error: core.backend.enable_TLS: 'si' is not a boolean" \
	"bad.yaml:9:26: error: .*match_cmd_regex: bad regular expression" \
	"bad.yaml:10:24: error: .*service_name: unknown template form '\{\{.Process.Nme\}\}'" \
	"bad.yaml:11:1: warning: unknown key nonsense"
[[ $(wc -l <"$tmp/err") == 5 ]] && ok "and nothing else" || not_ok "and nothing else" "$(cat "$tmp/err")"

printf 'core:\n  backend: [\n' >"$tmp/syntax.yaml"
expect "bad YAML: an error at libyaml's position" 1 agent --check-config --config "$tmp/syntax.yaml" -- \
	"syntax.yaml:3:1: error: bad YAML: "

expect "a missing file: one line" 1 agent --check-config --config "$tmp/none.yaml" -- \
	"cannot read the configuration .*none.yaml: No such file"

expect "a bad --log-level is a usage error" 2 agent --check-config --log-level loud -- \
	"--log-level 'loud'"

# the daemon itself: without the device it stops at once with one line that says what to do
sed "s|device: /dev/swprof|device: $tmp/no-such-device|" "$top/configs/swctl-agent.yaml" > "$tmp/nodev.yaml"
expect "without --check-config and no device: exit 1, one actionable line" 1 \
	agent --config "$tmp/nodev.yaml" -- "cannot open $tmp/no-such-device: .*load the module"

if ((failed)); then exit 1; fi
exit 0
