#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tools/fake-oap on its own: it starts on 127.0.0.1, answers its control
# commands, refuses bad ones, and writes its dump at exit; a gRPC client
# (Python) checks what `stats` counts: bytes per method, the time of a
# task's first data.  TAP.
set -u
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "1..7"
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

# stats: a unary call and a two-message stream, their serialized sizes per
# method; the task's creation and first-data times; recv_ms and bytes per call
/usr/bin/python3 - "$dir" > "$dir/out" 2>&1 <<'EOT'
import importlib.machinery, importlib.util, json, subprocess, sys, time
import grpc
loader = importlib.machinery.SourceFileLoader("fake_oap", "tools/fake-oap")
spec = importlib.util.spec_from_loader("fake_oap", loader)
fo = importlib.util.module_from_spec(spec)
loader.exec_module(fo)
EP, EPF, C = fo.M["ebpf_process"], fo.M["ebpf_profiling"], fo.M["common"]
p = subprocess.Popen(["/usr/bin/python3", "tools/fake-oap", "--timeout", "60"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
port = int(p.stdout.readline().split()[1])
def cmd(**c):
    p.stdin.write(json.dumps(c) + "\n"); p.stdin.flush()
    return json.loads(p.stdout.readline())
ch = grpc.insecure_channel("127.0.0.1:%d" % port)
report = EP.EBPFProcessReportList(ebpfAgentID="a1")
h = report.processes.add().hostProcess
h.pid = 42
h.entity.layer, h.entity.serviceName, h.entity.instanceName, h.entity.processName = \
    "OS_LINUX", "svc", "inst", "proc"
h.properties.add(key="support_ebpf_profiling", value="true")
rep = ch.unary_unary("/skywalking.v3.EBPFProcessService/reportProcesses",
                     request_serializer=EP.EBPFProcessReportList.SerializeToString,
                     response_deserializer=EP.EBPFReportProcessDownstream.FromString)(report)
pid_ = rep.processes[0].processId
t = cmd(cmd="task", process_ids=[pid_], duration_s=5)
time.sleep(0.05)
msgs = []
for i in range(2):
    m = EPF.EBPFProfilingData()
    if i == 0:
        m.task.taskId, m.task.processId, m.task.currentTime = t["task_id"], pid_, 1000
    s = m.onCPU.stacks.add(stackType=1, stackId=i + 1)
    s.stackSymbols.extend(["leaf%d" % i, "main"])
    m.onCPU.dumpCount = 3
    msgs.append(m)
ch.stream_unary("/skywalking.v3.EBPFProfilingService/collectProfilingData",
                request_serializer=EPF.EBPFProfilingData.SerializeToString,
                response_deserializer=C.Commands.FromString)(iter(msgs))
st = cmd(cmd="stats", task_id=t["task_id"])
want_u = len(report.SerializeToString())
want_s = sum(len(m.SerializeToString()) for m in msgs)
got = st["methods"]
ok1 = got["EBPFProcessService/reportProcesses"] == {"calls": 1, "messages": 1, "bytes": want_u} \
    and got["EBPFProfilingService/collectProfilingData"] == {"calls": 1, "messages": 2,
                                                             "bytes": want_s} \
    and st["bytes"] == want_u + want_s
tk = st["task"]
ok2 = tk["records"] == 2 and tk["created_ms"] <= tk["first_data_ms"] <= tk["last_data_ms"] <= \
    st["now_ms"] and tk["first_data_ms"] - tk["created_ms"] >= 50
calls = cmd(cmd="get", path="calls")["value"]
ok3 = all(c["recv_ms"] >= st["since_ms"] for c in calls) and \
    [c["bytes"] for c in calls] == [want_u, want_s] and \
    cmd(cmd="stats", task_id="nope")["ok"] is False and \
    cmd(cmd="flame", task_id=t["task_id"])["folded"] == {"main;leaf0": 3, "main;leaf1": 3}
print(json.dumps(st))
p.stdin.write('{"cmd": "quit"}\n')
p.stdin.close()
p.wait(timeout=30)
for i, ok in enumerate((ok1, ok2, ok3)):
    print("RESULT %d %s" % (i, "ok" if ok else "fail"))
EOT
grep -q '^RESULT 0 ok$' "$dir/out"
ok $? "stats: calls, messages and serialized bytes per method (unary and stream), their sum"
grep -q '^RESULT 1 ok$' "$dir/out"
ok $? "stats task_id: created_ms <= first_data_ms <= last_data_ms, records"
grep -q '^RESULT 2 ok$' "$dir/out"
ok $? "every call has recv_ms and bytes; stats of an unknown task is an error; flame unchanged"
