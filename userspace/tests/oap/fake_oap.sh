#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tools/fake-oap on its own: it starts on 127.0.0.1, answers its control
# commands, refuses bad ones, and writes its dump at exit.  TAP.
set -u
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "1..4"
n=0
ok() { n=$((n + 1)); if [[ $1 == 0 ]]; then echo "ok $n - $2"; else echo "not ok $n - $2"; sed 's/^/# /' "$dir/out"; fi; }

printf '%s\n' '{"cmd": "task", "task_id": "t1", "process_ids": ["p"], "target": "OFF_CPU"}' \
	'not json' '{"cmd": "nope"}' '{"cmd": "get", "path": "tasks.0.target"}' '{"cmd": "quit"}' |
	timeout 30 /usr/bin/python3 tools/fake-oap --timeout 20 --dump "$dir/dump.json" > "$dir/out" 2>&1
rc=$?
[[ $rc == 0 ]] && grep -q '^READY [0-9][0-9]*$' "$dir/out"; ok $? "starts, prints READY <port>, exits on quit"
grep -q '"error": "bad JSON' "$dir/out" && grep -q '"error": "unknown command' "$dir/out"
ok $? "a bad command gets an error answer, not a crash"
grep -q '^{"ok": true, "value": "OFF_CPU"}$' "$dir/out"; ok $? "get reads back what it holds"
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tasks"][0]["task_id"] == "t1" and d["calls"] == [] and d["violations"] == []
' "$dir/dump.json" 2>> "$dir/out"
ok $? "--dump writes the record as JSON"
