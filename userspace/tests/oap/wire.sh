#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The field numbers of proto/skywalking/ against PROTOCOL.md: messages that
# test_oap_codec encodes, decoded by protoc without our .proto files
# (--decode_raw: numbers only) and with them (--decode: names).  TAP.
set -u
bin=build/tests/host/test_oap_codec
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "1..4"
n=0
ok() { n=$((n + 1)); if [[ $1 == 0 ]]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

OAP_WIRE_OUT=$dir "$bin" > "$dir/log" 2>&1
ok $? "test_oap_codec writes the messages"

raw() { protoc --decode_raw < "$dir/$1.bin" | tr -d ' \n'; }
# EBPFProfilingData { task=1 {taskId=1 processId=2 profilingStartTime=3 currentTime=4}
#   offCPU=3 { stacks=1 {stackType=1 stackId=2 stackSymbols=3} switchCount=2 duration=3 } }
want='1{1:"t1"2:"proc-1"3:10004:2000}3{1{1:12:73:"leaf"3:"root"}2:33:4000}'
got=$(raw profiling_data)
[[ $got == "$want" ]]; ok $? "EBPFProfilingData field numbers${got:+ ($got)}"

# EBPFProcessReportList { processes=1 { hostProcess=1 { entity=1 {layer=1 serviceName=2
#   instanceName=3 processName=4} pid=2 properties=3 {key=1 value=2} } } ebpfAgentID=2 }
want='1{1{1{1:"OS_LINUX"2:"svc"3:"inst"4:"proc"}2:423{1:"support_ebpf_profiling"2:"true"}}}2:"agent-1"'
got=$(raw process_report)
[[ $got == "$want" ]]; ok $? "EBPFProcessReportList field numbers${got:+ ($got)}"

got=$(protoc --proto_path=proto --decode=skywalking.v3.EBPFProfilingTaskQuery \
	skywalking/ebpf_profiling.proto < "$dir/task_query.bin" | tr -d ' \n')
[[ $got == 'roverInstanceId:"agent-1"latestUpdateTime:1234' ]]
ok $? "EBPFProfilingTaskQuery decodes by name${got:+ ($got)}"
