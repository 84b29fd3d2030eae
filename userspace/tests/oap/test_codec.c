// SPDX-License-Identifier: GPL-2.0-only
/*
 * The codec and the generated messages.  With OAP_WIRE_OUT=DIR it also
 * writes encoded messages there, for tests/oap/wire.sh to decode with
 * protoc and compare with PROTOCOL.md's field numbers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "oap.h"

static void save(const char *name, const ProtobufCMessage *m)
{
	const char *dir = getenv("OAP_WIRE_OUT");
	uint8_t buf[4096];
	char path[512];
	size_t n;
	FILE *f;

	if (!dir)
		return;
	n = protobuf_c_message_pack(m, buf);
	snprintf(path, sizeof(path), "%s/%s.bin", dir, name);
	f = fopen(path, "w");
	if (f) {
		fwrite(buf, 1, n, f);
		fclose(f);
	}
}

TEST(profiling_data_round_trip)
{
	Skywalking__V3__EBPFProfilingData d = SKYWALKING__V3__EBPFPROFILING_DATA__INIT;
	Skywalking__V3__EBPFProfilingTaskMetadata t = SKYWALKING__V3__EBPFPROFILING_TASK_METADATA__INIT;
	Skywalking__V3__EBPFOffCPUProfiling off = SKYWALKING__V3__EBPFOFF_CPUPROFILING__INIT;
	Skywalking__V3__EBPFProfilingStackMetadata st = SKYWALKING__V3__EBPFPROFILING_STACK_METADATA__INIT;
	Skywalking__V3__EBPFProfilingStackMetadata *stp = &st;
	char *syms[] = { "leaf", "root" };
	Skywalking__V3__EBPFProfilingData *back;
	uint8_t buf[1024];
	size_t n;

	t.taskid = "t1";
	t.processid = "proc-1";
	t.profilingstarttime = 1000;
	t.currenttime = 2000;
	st.stacktype = SKYWALKING__V3__EBPFPROFILING_STACK_TYPE__PROCESS_USER_SPACE;
	st.stackid = 7;
	st.n_stacksymbols = 2;
	st.stacksymbols = syms;
	off.n_stacks = 1;
	off.stacks = &stp;
	off.switchcount = 3;
	off.duration = 4000;
	d.task = &t;
	d.profiling_case = SKYWALKING__V3__EBPFPROFILING_DATA__PROFILING_OFF_CPU;
	d.offcpu = &off;
	save("profiling_data", &d.base);

	n = protobuf_c_message_pack(&d.base, buf);
	back = skywalking__v3__ebpfprofiling_data__unpack(NULL, n, buf);
	ASSERT_NE(NULL, back);
	EXPECT_STREQ("t1", back->task->taskid);
	EXPECT_EQ(2000, back->task->currenttime);
	ASSERT_EQ(SKYWALKING__V3__EBPFPROFILING_DATA__PROFILING_OFF_CPU, back->profiling_case);
	EXPECT_EQ(4000, back->offcpu->duration);
	EXPECT_STREQ("leaf", back->offcpu->stacks[0]->stacksymbols[0]);
	skywalking__v3__ebpfprofiling_data__free_unpacked(back, NULL);
}

TEST(process_report_encodes)
{
	Skywalking__V3__EBPFProcessReportList l = SKYWALKING__V3__EBPFPROCESS_REPORT_LIST__INIT;
	Skywalking__V3__EBPFProcessProperties p = SKYWALKING__V3__EBPFPROCESS_PROPERTIES__INIT;
	Skywalking__V3__EBPFHostProcessMetadata h = SKYWALKING__V3__EBPFHOST_PROCESS_METADATA__INIT;
	Skywalking__V3__EBPFProcessEntityMetadata e = SKYWALKING__V3__EBPFPROCESS_ENTITY_METADATA__INIT;
	Skywalking__V3__KeyStringValuePair kv = SKYWALKING__V3__KEY_STRING_VALUE_PAIR__INIT;
	Skywalking__V3__KeyStringValuePair *kvp = &kv;
	Skywalking__V3__EBPFProcessProperties *pp = &p;
	Skywalking__V3__EBPFProfilingTaskQuery q = SKYWALKING__V3__EBPFPROFILING_TASK_QUERY__INIT;

	e.layer = "OS_LINUX";
	e.servicename = "svc";
	e.instancename = "inst";
	e.processname = "proc";
	kv.key = "support_ebpf_profiling";
	kv.value = "true";
	h.entity = &e;
	h.pid = 42;
	h.n_properties = 1;
	h.properties = &kvp;
	p.metadata_case = SKYWALKING__V3__EBPFPROCESS_PROPERTIES__METADATA_HOST_PROCESS;
	p.hostprocess = &h;
	l.n_processes = 1;
	l.processes = &pp;
	l.ebpfagentid = "agent-1";
	save("process_report", &l.base);
	q.roverinstanceid = "agent-1";
	q.latestupdatetime = 1234;
	save("task_query", &q.base);
	EXPECT_GT(protobuf_c_message_get_packed_size(&l.base), 30);
}

TEST(command_args_by_key)
{
	Skywalking__V3__KeyStringValuePair a = SKYWALKING__V3__KEY_STRING_VALUE_PAIR__INIT;
	Skywalking__V3__KeyStringValuePair b = SKYWALKING__V3__KEY_STRING_VALUE_PAIR__INIT;
	Skywalking__V3__KeyStringValuePair *args[] = { &a, &b };
	Skywalking__V3__Command c = SKYWALKING__V3__COMMAND__INIT;

	a.key = "SerialNumber";
	a.value = "u-1";
	b.key = "TaskId";
	b.value = "t-9";
	c.command = "EBPFProfilingTaskQuery";
	c.n_args = 2;
	c.args = args;
	EXPECT_STREQ("t-9", oap_command_arg(&c, "TaskId"));
	EXPECT_STREQ("u-1", oap_command_arg(&c, "SerialNumber"));
	EXPECT_EQ(NULL, oap_command_arg(&c, "Missing"));
}

TEST_HARNESS_MAIN
