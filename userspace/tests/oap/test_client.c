// SPDX-License-Identifier: GPL-2.0-only
/*
 * The OAP client against tools/fake-oap: each call's round trip (fields
 * checked in the fake's record), a client stream in order, deadlines,
 * failover, back-off and reconnect, the token, the one-line errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "fake_oap.h"
#include "oap.h"
#include "sw_log.h"

/* Every line logged, for counting what a person is told. */
static char lines[64][512];
static int nr_lines;

static void capture(void *ctx, enum sw_log_level level, const char *msg)
{
	if (nr_lines < 64)
		snprintf(lines[nr_lines++], sizeof(lines[0]), "%s", msg);
}

static int count_lines(const char *needle)
{
	int n = 0;

	for (int i = 0; i < nr_lines && i < 64; i++)
		n += strstr(lines[i], needle) != NULL;
	return n;
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

FIXTURE(oap)
{
	struct fake_oap fake;
	struct oap *c;
};

FIXTURE_SETUP(oap)
{
	nr_lines = 0;
	sw_log_set_fn(capture, NULL);
	sw_log_set_level(SW_LOG_DEBUG);
	ASSERT_EQ(0, fake_oap_start(&self->fake, NULL));
	self->c = NULL;
}

FIXTURE_TEARDOWN(oap)
{
	oap_free(self->c);
	fake_oap_stop(&self->fake);
}

static struct oap *client(struct fake_oap *f, const char *token, uint32_t deadline_ms)
{
	const char *addrs[] = { f->addr };
	OAP_OPTS(o, .addrs = addrs, .nr_addrs = 1, .token = token, .deadline_ms = deadline_ms,
		 .backoff_base_ms = 100, .backoff_max_ms = 400);
	struct oap *c = NULL;

	oap_new(&o, &c);
	return c;
}

/* Report one host process; its id from OAP. */
static int report(struct oap *c, int pid, char *id, size_t sz)
{
	Skywalking__V3__EBPFProcessReportList l = SKYWALKING__V3__EBPFPROCESS_REPORT_LIST__INIT;
	Skywalking__V3__EBPFProcessProperties p = SKYWALKING__V3__EBPFPROCESS_PROPERTIES__INIT;
	Skywalking__V3__EBPFHostProcessMetadata h = SKYWALKING__V3__EBPFHOST_PROCESS_METADATA__INIT;
	Skywalking__V3__EBPFProcessEntityMetadata e = SKYWALKING__V3__EBPFPROCESS_ENTITY_METADATA__INIT;
	Skywalking__V3__KeyStringValuePair kv[2] = { SKYWALKING__V3__KEY_STRING_VALUE_PAIR__INIT,
						     SKYWALKING__V3__KEY_STRING_VALUE_PAIR__INIT };
	Skywalking__V3__KeyStringValuePair *kvp[2] = { &kv[0], &kv[1] };
	Skywalking__V3__EBPFProcessProperties *pp = &p;
	Skywalking__V3__EBPFReportProcessDownstream *down = NULL;
	int err;

	e.layer = "OS_LINUX";
	e.servicename = "svc";
	e.instancename = "inst";
	e.processname = "proc";
	kv[0].key = "support_ebpf_profiling";
	kv[0].value = "true";
	kv[1].key = "command_line";
	kv[1].value = "/bin/proc --flag";
	h.entity = &e;
	h.pid = pid;
	h.n_properties = 2;
	h.properties = kvp;
	p.metadata_case = SKYWALKING__V3__EBPFPROCESS_PROPERTIES__METADATA_HOST_PROCESS;
	p.hostprocess = &h;
	l.n_processes = 1;
	l.processes = &pp;
	l.ebpfagentid = "agent-1";
	err = oap_ebpf_report_processes(c, &l, &down);
	if (!err) {
		if (down->n_processes == 1 && down->processes[0]->hostprocess &&
		    down->processes[0]->hostprocess->pid == pid)
			snprintf(id, sz, "\"%s\"", down->processes[0]->processid);
		else
			err = -EPROTO;
	}
	oap_ebpf_processes_free(down);
	return err;
}

TEST_F(oap, report_processes_round_trip)
{
	char id[128] = "";

	self->c = client(&self->fake, NULL, 5000);
	ASSERT_NE(NULL, self->c);
	ASSERT_EQ(0, report(self->c, 4242, id, sizeof(id)));
	EXPECT_STREQ("4242", fake_oap_get(&self->fake,
					  "last.reportProcesses.request.processes.0.hostProcess.pid"));
	EXPECT_STREQ("\"agent-1\"", fake_oap_get(&self->fake, "last.reportProcesses.request.ebpfAgentID"));
	EXPECT_STREQ("\"OS_LINUX\"", fake_oap_get(&self->fake,
		"last.reportProcesses.request.processes.0.hostProcess.entity.layer"));
	EXPECT_STREQ("\"proc\"", fake_oap_get(&self->fake,
		"last.reportProcesses.request.processes.0.hostProcess.entity.processName"));
	EXPECT_STREQ("\"/bin/proc --flag\"", fake_oap_get(&self->fake,
		"last.reportProcesses.request.processes.0.hostProcess.properties.1.value"));
	/* OAP's id: sha256hex("proc_" + base64("svc") + ".1_" + base64("inst")) */
	EXPECT_STREQ("\"5aebe619cb9b70527c90e217b312bc36972950e2e46f4defee296de0b6953fb8\"", id);
	EXPECT_STREQ(id, fake_oap_get(&self->fake, "last.reportProcesses.reply.processes.0.processId"));
	EXPECT_STREQ("[]", fake_oap_get(&self->fake, "violations"));
}

TEST_F(oap, keepalive_and_query_tasks)
{
	Skywalking__V3__EBPFProcessPingPkgList l = SKYWALKING__V3__EBPFPROCESS_PING_PKG_LIST__INIT;
	Skywalking__V3__EBPFProcessPingPkg p = SKYWALKING__V3__EBPFPROCESS_PING_PKG__INIT;
	Skywalking__V3__EBPFProcessEntityMetadata e = SKYWALKING__V3__EBPFPROCESS_ENTITY_METADATA__INIT;
	Skywalking__V3__EBPFProcessPingPkg *pp = &p;
	Skywalking__V3__Commands *cmds = NULL;
	char id[128], task[256];
	long long upd = 0;

	self->c = client(&self->fake, NULL, 5000);
	ASSERT_EQ(0, report(self->c, 7, id, sizeof(id)));
	e.layer = "OS_LINUX";
	e.servicename = "svc";
	e.instancename = "inst";
	e.processname = "proc";
	p.entitymetadata = &e;
	l.n_processes = 1;
	l.processes = &pp;
	l.ebpfagentid = "agent-1";
	ASSERT_EQ(0, oap_ebpf_keepalive(self->c, &l, &cmds));
	oap_commands_free(cmds);
	EXPECT_STREQ("\"inst\"", fake_oap_get(&self->fake,
		"last.keepAlive.request.processes.0.entityMetadata.instanceName"));

	snprintf(task, sizeof(task), "%s", fake_oap_cmd(&self->fake,
		"{\"cmd\": \"task\", \"task_id\": \"task-1\", \"target\": \"OFF_CPU\", "
		"\"process_ids\": [%s], \"duration_s\": 30}", id));
	ASSERT_NE(NULL, strstr(task, "\"update_ms\": "));
	upd = atoll(strstr(task, "\"update_ms\": ") + 13);

	ASSERT_EQ(0, oap_ebpf_query_tasks(self->c, "agent-1", 0, &cmds));
	ASSERT_EQ(1, cmds->n_commands);
	EXPECT_STREQ("EBPFProfilingTaskQuery", cmds->commands[0]->command);
	EXPECT_STREQ("SerialNumber", cmds->commands[0]->args[0]->key);
	EXPECT_STREQ("task-1", oap_command_arg(cmds->commands[0], "TaskId"));
	EXPECT_STREQ("OFF_CPU", oap_command_arg(cmds->commands[0], "TargetType"));
	EXPECT_STREQ("30", oap_command_arg(cmds->commands[0], "FixedTriggerDuration"));
	EXPECT_EQ(upd, atoll(oap_command_arg(cmds->commands[0], "TaskUpdateTime")));
	oap_commands_free(cmds);
	EXPECT_STREQ("\"agent-1\"", fake_oap_get(&self->fake, "last.queryTasks.request.roverInstanceId"));

	/* OAP filters by update time: nothing newer than the task */
	ASSERT_EQ(0, oap_ebpf_query_tasks(self->c, "agent-1", upd, &cmds));
	EXPECT_EQ(0, cmds->n_commands);
	oap_commands_free(cmds);
	snprintf(task, sizeof(task), "\"%lld\"", upd);
	EXPECT_STREQ(task, fake_oap_get(&self->fake, "last.queryTasks.request.latestUpdateTime"));
	/* another agent's processes get none */
	ASSERT_EQ(0, oap_ebpf_query_tasks(self->c, "agent-2", 0, &cmds));
	EXPECT_EQ(0, cmds->n_commands);
	oap_commands_free(cmds);
}

TEST_F(oap, unknown_layer_fails_keepalive)
{
	Skywalking__V3__EBPFProcessPingPkgList l = SKYWALKING__V3__EBPFPROCESS_PING_PKG_LIST__INIT;
	Skywalking__V3__EBPFProcessPingPkg p = SKYWALKING__V3__EBPFPROCESS_PING_PKG__INIT;
	Skywalking__V3__EBPFProcessEntityMetadata e = SKYWALKING__V3__EBPFPROCESS_ENTITY_METADATA__INIT;
	Skywalking__V3__EBPFProcessPingPkg *pp = &p;
	Skywalking__V3__Commands *cmds = NULL;

	self->c = client(&self->fake, NULL, 5000);
	e.layer = "NO_SUCH_LAYER";
	e.servicename = "svc";
	p.entitymetadata = &e;
	l.n_processes = 1;
	l.processes = &pp;
	EXPECT_EQ(-EPROTO, oap_ebpf_keepalive(self->c, &l, &cmds));
	EXPECT_EQ(NULL, cmds);
	EXPECT_STREQ("\"UNKNOWN\"", fake_oap_get(&self->fake, "last.keepAlive.status"));
}

TEST_F(oap, management_round_trip)
{
	Skywalking__V3__InstanceProperties ip = SKYWALKING__V3__INSTANCE_PROPERTIES__INIT;
	Skywalking__V3__InstancePingPkg ping = SKYWALKING__V3__INSTANCE_PING_PKG__INIT;
	Skywalking__V3__KeyStringValuePair kv = SKYWALKING__V3__KEY_STRING_VALUE_PAIR__INIT;
	Skywalking__V3__KeyStringValuePair *kvp = &kv;
	Skywalking__V3__Commands *cmds = NULL;

	self->c = client(&self->fake, NULL, 5000);
	ip.service = "svc";
	ip.serviceinstance = "inst";
	ip.layer = "OS_LINUX";
	kv.key = "hostname";
	kv.value = "h1";
	ip.n_properties = 1;
	ip.properties = &kvp;
	ASSERT_EQ(0, oap_mgmt_report_properties(self->c, &ip, &cmds));
	oap_commands_free(cmds);
	EXPECT_STREQ("\"h1\"", fake_oap_get(&self->fake,
		"last.reportInstanceProperties.request.properties.0.value"));
	EXPECT_STREQ("\"OS_LINUX\"", fake_oap_get(&self->fake, "last.reportInstanceProperties.request.layer"));
	ping.service = "svc";
	ping.serviceinstance = "inst";
	ping.layer = "OS_LINUX";
	ASSERT_EQ(0, oap_mgmt_keepalive(self->c, &ping, &cmds));
	oap_commands_free(cmds);
	EXPECT_STREQ("\"inst\"", fake_oap_get(&self->fake, "last.keepAlive.request.serviceInstance"));
}

TEST_F(oap, continuous_and_trace_round_trip)
{
	Skywalking__V3__ContinuousProfilingReport r = SKYWALKING__V3__CONTINUOUS_PROFILING_REPORT__INIT;
	Skywalking__V3__ContinuousOnCPUProfilingTask on = SKYWALKING__V3__CONTINUOUS_ON_CPUPROFILING_TASK__INIT;
	Skywalking__V3__ContinuousProfilingPolicyQuery pq = SKYWALKING__V3__CONTINUOUS_PROFILING_POLICY_QUERY__INIT;
	Skywalking__V3__ProfileTaskCommandQuery tq = SKYWALKING__V3__PROFILE_TASK_COMMAND_QUERY__INIT;
	Skywalking__V3__ProfileTaskFinishReport fin = SKYWALKING__V3__PROFILE_TASK_FINISH_REPORT__INIT;
	Skywalking__V3__Commands *cmds = NULL;

	self->c = client(&self->fake, NULL, 5000);
	r.layer = "OS_LINUX";
	r.servicename = "svc";
	r.duration = 600;
	r.target_task_case = SKYWALKING__V3__CONTINUOUS_PROFILING_REPORT__TARGET_TASK_ON_CPU;
	r.oncpu = &on;
	ASSERT_EQ(0, oap_cont_report_task(self->c, &r, &cmds));
	ASSERT_EQ(1, cmds->n_commands);
	EXPECT_STREQ("ContinuousProfilingReportTask", cmds->commands[0]->command);
	EXPECT_NE(NULL, oap_command_arg(cmds->commands[0], "TaskId"));
	oap_commands_free(cmds);
	EXPECT_STREQ("600", fake_oap_get(&self->fake, "last.reportProfilingTask.request.duration"));
	EXPECT_STREQ("{}", fake_oap_get(&self->fake, "last.reportProfilingTask.request.onCPU"));
	ASSERT_EQ(0, oap_cont_query_policies(self->c, &pq, &cmds));
	oap_commands_free(cmds);

	tq.service = "svc";
	tq.lastcommandtime = 99;
	ASSERT_EQ(0, oap_trace_query_tasks(self->c, &tq, &cmds));
	oap_commands_free(cmds);
	EXPECT_STREQ("\"99\"", fake_oap_get(&self->fake,
		"last.getProfileTaskCommands.request.lastCommandTime"));
	fin.taskid = "t-7";
	ASSERT_EQ(0, oap_trace_report_finish(self->c, &fin, &cmds));
	oap_commands_free(cmds);
	EXPECT_STREQ("\"t-7\"", fake_oap_get(&self->fake, "last.reportTaskFinish.request.taskId"));
}

#define N_MSGS 50

TEST_F(oap, profiling_stream_in_order)
{
	Skywalking__V3__EBPFProfilingTaskMetadata t = SKYWALKING__V3__EBPFPROFILING_TASK_METADATA__INIT;
	Skywalking__V3__Commands *cmds = NULL;
	struct oap_stream *s = NULL;
	char id[128], path[256], want[32];

	self->c = client(&self->fake, NULL, 5000);
	ASSERT_EQ(0, report(self->c, 9, id, sizeof(id)));
	fake_oap_cmd(&self->fake, "{\"cmd\": \"task\", \"task_id\": \"task-s\", \"process_ids\": [%s]}", id);
	id[strlen(id) - 1] = 0;
	t.taskid = "task-s";
	t.processid = id + 1;
	t.profilingstarttime = 1000;
	t.currenttime = 2000;

	ASSERT_EQ(0, oap_ebpf_collect_open(self->c, &s));
	for (int i = 0; i < N_MSGS; i++) {
		Skywalking__V3__EBPFProfilingData d = SKYWALKING__V3__EBPFPROFILING_DATA__INIT;
		Skywalking__V3__EBPFOnCPUProfiling on = SKYWALKING__V3__EBPFON_CPUPROFILING__INIT;
		Skywalking__V3__EBPFProfilingStackMetadata k = SKYWALKING__V3__EBPFPROFILING_STACK_METADATA__INIT;
		Skywalking__V3__EBPFProfilingStackMetadata u = SKYWALKING__V3__EBPFPROFILING_STACK_METADATA__INIT;
		Skywalking__V3__EBPFProfilingStackMetadata *st[2] = { &k, &u };
		char *ksyms[] = { "schedule", "do_syscall_64" };
		char *usyms[] = { "leaf", "main" };

		k.stacktype = SKYWALKING__V3__EBPFPROFILING_STACK_TYPE__PROCESS_KERNEL_SPACE;
		k.stackid = 2 * i + 1;
		k.n_stacksymbols = 2;
		k.stacksymbols = ksyms;
		u.stacktype = SKYWALKING__V3__EBPFPROFILING_STACK_TYPE__PROCESS_USER_SPACE;
		u.stackid = 2 * i + 2;
		u.n_stacksymbols = 2;
		u.stacksymbols = usyms;
		on.n_stacks = 2;
		on.stacks = st;
		on.dumpcount = i + 1;
		d.task = i ? NULL : &t;		/* metadata on the first message only */
		d.profiling_case = SKYWALKING__V3__EBPFPROFILING_DATA__PROFILING_ON_CPU;
		d.oncpu = &on;
		ASSERT_EQ(0, oap_ebpf_collect_send(s, &d)) TH_LOG("message %d", i);
	}
	ASSERT_EQ(0, oap_ebpf_collect_close(s, &cmds));
	oap_commands_free(cmds);
	for (int i = 0; i < N_MSGS; i++) {
		snprintf(path, sizeof(path), "last.collectProfilingData.messages.%d.onCPU.dumpCount", i);
		snprintf(want, sizeof(want), "%d", i + 1);
		EXPECT_STREQ(want, fake_oap_get(&self->fake, path));
	}
	snprintf(path, sizeof(path), "last.collectProfilingData.messages.%d", N_MSGS);
	EXPECT_EQ(NULL, strstr(fake_oap_get(&self->fake, path), "\"value\""));
	EXPECT_STREQ("\"OK\"", fake_oap_get(&self->fake, "last.collectProfilingData.status"));
	/* OAP's tree: user root first, then the kernel from its entry (records by schedule) */
	snprintf(path, sizeof(path), "records.task-s/%s/1_2/2000.path", id + 1);
	EXPECT_STREQ("[\"main\", \"leaf\", \"do_syscall_64\", \"schedule\"]",
		     fake_oap_get(&self->fake, path));
	EXPECT_STREQ("[]", fake_oap_get(&self->fake, "violations"));
}

TEST_F(oap, other_streams_round_trip)
{
	Skywalking__V3__ThreadSnapshot ts = SKYWALKING__V3__THREAD_SNAPSHOT__INIT;
	Skywalking__V3__ThreadStack stk = SKYWALKING__V3__THREAD_STACK__INIT;
	Skywalking__V3__SegmentObject seg = SKYWALKING__V3__SEGMENT_OBJECT__INIT;
	Skywalking__V3__MeterDataCollection mc = SKYWALKING__V3__METER_DATA_COLLECTION__INIT;
	Skywalking__V3__MeterData md = SKYWALKING__V3__METER_DATA__INIT;
	Skywalking__V3__MeterSingleValue sv = SKYWALKING__V3__METER_SINGLE_VALUE__INIT;
	Skywalking__V3__MeterData *mdp = &md;
	Skywalking__V3__Commands *cmds = NULL;
	struct oap_stream *s;
	char *sigs[] = { "main", "work" };

	self->c = client(&self->fake, NULL, 5000);
	ASSERT_EQ(0, oap_trace_snapshot_open(self->c, &s));
	ts.taskid = "t";
	ts.tracesegmentid = "seg-1";
	stk.n_codesignatures = 2;
	stk.codesignatures = sigs;
	ts.stack = &stk;
	for (int i = 0; i < 3; i++) {
		ts.sequence = i;
		ASSERT_EQ(0, oap_trace_snapshot_send(s, &ts));
	}
	ASSERT_EQ(0, oap_trace_snapshot_close(s, &cmds));
	oap_commands_free(cmds);
	EXPECT_STREQ("2", fake_oap_get(&self->fake, "last.collectSnapshot.messages.2.sequence"));

	ASSERT_EQ(0, oap_segment_open(self->c, &s));
	seg.tracesegmentid = "seg-1";
	ASSERT_EQ(0, oap_segment_send(s, &seg));
	ASSERT_EQ(0, oap_segment_close(s, &cmds));
	oap_commands_free(cmds);
	EXPECT_STREQ("\"seg-1\"", fake_oap_get(&self->fake, "last.collect.messages.0.traceSegmentId"));

	ASSERT_EQ(0, oap_meter_open(self->c, &s));
	sv.name = "rover_con_p_process_cpu";
	sv.value = 12.5;
	md.metric_case = SKYWALKING__V3__METER_DATA__METRIC_SINGLE_VALUE;
	md.singlevalue = &sv;
	mc.n_meterdata = 1;
	mc.meterdata = &mdp;
	ASSERT_EQ(0, oap_meter_send(s, &mc));
	ASSERT_EQ(0, oap_meter_close(s, &cmds));
	oap_commands_free(cmds);
	EXPECT_STREQ("12.5", fake_oap_get(&self->fake,
		"last.collectBatch.messages.0.meterData.0.singleValue.value"));
	EXPECT_STREQ("[]", fake_oap_get(&self->fake, "violations"));
}

TEST_F(oap, deadline_exceeded_then_backoff)
{
	Skywalking__V3__Commands *cmds = NULL;

	self->c = client(&self->fake, NULL, 300);
	fake_oap_cmd(&self->fake, "{\"cmd\": \"fault\", \"method\": \"queryTasks\", \"delay_ms\": 1500}");
	EXPECT_EQ(-ETIMEDOUT, oap_ebpf_query_tasks(self->c, "a", 0, &cmds));
	EXPECT_EQ(NULL, cmds);
	EXPECT_GT(oap_retry_in_ms(self->c), 0);
	EXPECT_LE(oap_retry_in_ms(self->c), 120);
	/* while backing off, no call goes out */
	EXPECT_EQ(-EAGAIN, oap_ebpf_query_tasks(self->c, "a", 0, &cmds));
	EXPECT_EQ(1, count_lines("DEADLINE_EXCEEDED"));
}

TEST_F(oap, resource_exhausted_backs_off)
{
	Skywalking__V3__Commands *cmds = NULL;

	self->c = client(&self->fake, NULL, 5000);
	fake_oap_cmd(&self->fake, "{\"cmd\": \"fault\", \"method\": \"queryTasks\", "
		     "\"code\": \"RESOURCE_EXHAUSTED\"}");
	EXPECT_EQ(-ENOBUFS, oap_ebpf_query_tasks(self->c, "a", 0, &cmds));
	EXPECT_GT(oap_retry_in_ms(self->c), 0);
	EXPECT_EQ(-EAGAIN, oap_ebpf_query_tasks(self->c, "a", 0, &cmds));
	sleep_ms(oap_retry_in_ms(self->c));	/* the back-off itself */
	EXPECT_EQ(0, oap_ebpf_query_tasks(self->c, "a", 0, &cmds));
	oap_commands_free(cmds);
}

/* A port that refuses connections: bound, not listening (kept until exit). */
static int refusing_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		return -1;
	return ntohs(a.sin_port);
}

TEST_F(oap, failover_to_the_second_address)
{
	char refused[64];
	const char *addrs[] = { refused, self->fake.addr };
	OAP_OPTS(o, .addrs = addrs, .nr_addrs = 2, .deadline_ms = 3000, .backoff_base_ms = 100);
	Skywalking__V3__Commands *cmds = NULL;
	int port = refusing_port();

	ASSERT_GT(port, 0);
	snprintf(refused, sizeof(refused), "127.0.0.1:%d", port);
	ASSERT_EQ(0, oap_new(&o, &self->c));
	EXPECT_STREQ(refused, oap_current_addr(self->c));
	ASSERT_EQ(0, oap_ebpf_query_tasks(self->c, "a", 0, &cmds));
	oap_commands_free(cmds);
	EXPECT_STREQ(self->fake.addr, oap_current_addr(self->c));
	EXPECT_EQ(0, oap_retry_in_ms(self->c));
	EXPECT_TRUE(fake_oap_wait(&self->fake, "queryTasks", 1));
}

TEST_F(oap, reconnects_after_oap_comes_back)
{
	Skywalking__V3__Commands *cmds = NULL;
	int err = 0, tries = 0;

	self->c = client(&self->fake, NULL, 2000);
	ASSERT_EQ(0, oap_ebpf_query_tasks(self->c, "a", 0, &cmds));
	oap_commands_free(cmds);
	ASSERT_NE(NULL, strstr(fake_oap_cmd(&self->fake, "{\"cmd\": \"down\"}"), "true"));
	EXPECT_EQ(-ECONNREFUSED, oap_ebpf_query_tasks(self->c, "a", 0, &cmds));
	EXPECT_EQ(-EAGAIN, oap_ebpf_query_tasks(self->c, "a", 0, &cmds));
	/* still down: the back-off grows */
	sleep_ms(oap_retry_in_ms(self->c));
	EXPECT_EQ(-ECONNREFUSED, oap_ebpf_query_tasks(self->c, "a", 0, &cmds));
	EXPECT_GT(oap_retry_in_ms(self->c), 120);
	ASSERT_NE(NULL, strstr(fake_oap_cmd(&self->fake, "{\"cmd\": \"up\"}"), "true"));
	do {
		sleep_ms(oap_retry_in_ms(self->c));
		err = oap_ebpf_query_tasks(self->c, "a", 0, &cmds);
	} while (err && ++tries < 20);
	ASSERT_EQ(0, err);
	oap_commands_free(cmds);
	EXPECT_EQ(1, count_lines("unavailable"));
	EXPECT_EQ(1, count_lines("reachable again"));
}

TEST_F(oap, dropped_stream_fails_its_close)
{
	Skywalking__V3__EBPFProfilingData d = SKYWALKING__V3__EBPFPROFILING_DATA__INIT;
	Skywalking__V3__Commands *cmds = NULL;
	struct oap_stream *s;
	int err = 0;

	self->c = client(&self->fake, NULL, 5000);
	fake_oap_cmd(&self->fake, "{\"cmd\": \"fault\", \"method\": \"collectProfilingData\", "
		     "\"code\": \"UNAVAILABLE\", \"after_messages\": 3}");
	ASSERT_EQ(0, oap_ebpf_collect_open(self->c, &s));
	for (int i = 0; i < 10 && !err; i++)
		err = oap_ebpf_collect_send(s, &d);
	EXPECT_EQ(-ECONNREFUSED, oap_ebpf_collect_close(s, &cmds));
	EXPECT_EQ(NULL, cmds);
	EXPECT_STREQ("\"UNAVAILABLE\"", fake_oap_get(&self->fake, "last.collectProfilingData.status"));
}

TEST(token_sent)
{
	const char *args[] = { "--token", "s3cret", NULL };
	struct fake_oap f;
	struct oap *c;
	Skywalking__V3__Commands *cmds = NULL;

	ASSERT_EQ(0, fake_oap_start(&f, args));
	c = client(&f, "s3cret", 5000);
	ASSERT_NE(NULL, c);
	EXPECT_EQ(0, oap_ebpf_query_tasks(c, "a", 0, &cmds));
	oap_commands_free(cmds);
	EXPECT_STREQ("\"s3cret\"", fake_oap_get(&f, "last.queryTasks.metadata.authentication"));
	oap_free(c);
	fake_oap_stop(&f);
}

TEST(wrong_token_one_line)
{
	const char *args[] = { "--token", "s3cret", NULL };
	Skywalking__V3__Commands *cmds = NULL;
	struct fake_oap f;
	struct oap *c;

	nr_lines = 0;
	sw_log_set_fn(capture, NULL);
	sw_log_set_level(SW_LOG_DEBUG);		/* the client's state lines are debug */
	ASSERT_EQ(0, fake_oap_start(&f, args));
	c = client(&f, "wrong", 5000);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(-EACCES, oap_ebpf_query_tasks(c, "a", 0, &cmds));
	EXPECT_EQ(1, nr_lines);
	EXPECT_EQ(1, count_lines("refused the authentication token (PERMISSION_DENIED)"));
	EXPECT_EQ(0, oap_retry_in_ms(c));
	oap_free(c);
	fake_oap_stop(&f);
}

TEST_F(oap, unimplemented_one_line)
{
	Skywalking__V3__Commands *cmds = NULL;

	self->c = client(&self->fake, NULL, 5000);
	fake_oap_cmd(&self->fake, "{\"cmd\": \"unimplement\", \"service\": \"EBPFProfilingService\"}");
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(-EOPNOTSUPP, oap_ebpf_query_tasks(self->c, "a", 0, &cmds));
	EXPECT_EQ(1, nr_lines);
	EXPECT_EQ(1, count_lines("does not implement /skywalking.v3.EBPFProfilingService/queryTasks"));
}

TEST(insecure_skip_verify_refused)
{
	const char *addrs[] = { "127.0.0.1:1" };
	OAP_OPTS(o, .addrs = addrs, .nr_addrs = 1, .tls = true, .insecure_skip_verify = true);
	struct oap *c = NULL;

	nr_lines = 0;
	sw_log_set_fn(capture, NULL);
	EXPECT_EQ(-EOPNOTSUPP, oap_new(&o, &c));
	EXPECT_EQ(NULL, c);
	EXPECT_EQ(1, nr_lines);
	EXPECT_EQ(1, count_lines("insecure_skip_verify is not supported"));
}

TEST(options_checked)
{
	struct { struct oap_opts o; char more[8]; } big;
	const char *addrs[] = { "127.0.0.1:1" };
	struct oap *c = NULL;

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.o.addrs = addrs;
	big.o.nr_addrs = 1;
	big.more[3] = 1;	/* a field this code does not know */
	EXPECT_EQ(-EINVAL, oap_new(&big.o, &c));
	sw_log_set_fn(capture, NULL);
	OAP_OPTS(none, .nr_addrs = 0);
	EXPECT_EQ(-EINVAL, oap_new(&none, &c));
}


/* One OFF_CPU message: a user and a kernel stack, given ids. */
static int send_off(struct oap_stream *s, Skywalking__V3__EBPFProfilingTaskMetadata *t, int kid,
		    int uid, int switches, int64_t ns, const char *user_leaf)
{
	Skywalking__V3__EBPFProfilingData d = SKYWALKING__V3__EBPFPROFILING_DATA__INIT;
	Skywalking__V3__EBPFOffCPUProfiling off = SKYWALKING__V3__EBPFOFF_CPUPROFILING__INIT;
	Skywalking__V3__EBPFProfilingStackMetadata k = SKYWALKING__V3__EBPFPROFILING_STACK_METADATA__INIT;
	Skywalking__V3__EBPFProfilingStackMetadata u = SKYWALKING__V3__EBPFPROFILING_STACK_METADATA__INIT;
	Skywalking__V3__EBPFProfilingStackMetadata *st[2] = { &k, &u };
	char *ksyms[] = { "schedule" };
	char *usyms[] = { (char *)user_leaf, "main" };

	k.stacktype = SKYWALKING__V3__EBPFPROFILING_STACK_TYPE__PROCESS_KERNEL_SPACE;
	k.stackid = kid;
	k.n_stacksymbols = 1;
	k.stacksymbols = ksyms;
	u.stacktype = SKYWALKING__V3__EBPFPROFILING_STACK_TYPE__PROCESS_USER_SPACE;
	u.stackid = uid;
	u.n_stacksymbols = 2;
	u.stacksymbols = usyms;
	off.n_stacks = 2;
	off.stacks = st;
	off.switchcount = switches;
	off.duration = ns;
	d.task = t;
	d.profiling_case = SKYWALKING__V3__EBPFPROFILING_DATA__PROFILING_OFF_CPU;
	d.offcpu = &off;
	return oap_ebpf_collect_send(s, &d);
}

TEST_F(oap, fake_flame_graph_by_count_and_duration)
{
	Skywalking__V3__EBPFProfilingTaskMetadata t = SKYWALKING__V3__EBPFPROFILING_TASK_METADATA__INIT;
	Skywalking__V3__Commands *cmds = NULL;
	struct oap_stream *s;
	char id[128];

	self->c = client(&self->fake, NULL, 5000);
	ASSERT_EQ(0, report(self->c, 11, id, sizeof(id)));
	fake_oap_cmd(&self->fake, "{\"cmd\": \"task\", \"task_id\": \"off\", \"target\": \"OFF_CPU\", "
		     "\"process_ids\": [%s]}", id);
	id[strlen(id) - 1] = 0;
	t.taskid = "off";
	t.processid = id + 1;
	t.profilingstarttime = 1;
	t.currenttime = 5000;
	ASSERT_EQ(0, oap_ebpf_collect_open(self->c, &s));
	ASSERT_EQ(0, send_off(s, &t, 1, 2, 3, 3000, "vfprintf"));
	ASSERT_EQ(0, send_off(s, NULL, 3, 4, 2, 5000, "fclose"));
	ASSERT_EQ(0, oap_ebpf_collect_close(s, &cmds));
	oap_commands_free(cmds);
	/* a second upload, later: adds up */
	t.currenttime = 10000;
	ASSERT_EQ(0, oap_ebpf_collect_open(self->c, &s));
	ASSERT_EQ(0, send_off(s, &t, 1, 2, 1, 700, "vfprintf"));
	ASSERT_EQ(0, oap_ebpf_collect_close(s, &cmds));
	oap_commands_free(cmds);

	EXPECT_STREQ("{\"ok\": true, \"folded\": {\"main;vfprintf;schedule\": 4, "
		     "\"main;fclose;schedule\": 2}}",
		     fake_oap_cmd(&self->fake, "{\"cmd\": \"flame\", \"task_id\": \"off\"}"));
	EXPECT_STREQ("{\"ok\": true, \"folded\": {\"main;vfprintf;schedule\": 3700, "
		     "\"main;fclose;schedule\": 5000}}",
		     fake_oap_cmd(&self->fake, "{\"cmd\": \"flame\", \"task_id\": \"off\", "
				  "\"by\": \"DURATION\"}"));
	EXPECT_STREQ("[]", fake_oap_get(&self->fake, "violations"));
}

TEST_F(oap, fake_reports_protocol_violations)
{
	Skywalking__V3__EBPFProfilingTaskMetadata t = SKYWALKING__V3__EBPFPROFILING_TASK_METADATA__INIT;
	Skywalking__V3__ThreadSnapshot ts = SKYWALKING__V3__THREAD_SNAPSHOT__INIT;
	Skywalking__V3__Commands *cmds = NULL;
	struct oap_stream *s;
	char id[128];

	self->c = client(&self->fake, NULL, 5000);
	ASSERT_EQ(0, report(self->c, 12, id, sizeof(id)));
	fake_oap_cmd(&self->fake, "{\"cmd\": \"task\", \"task_id\": \"v\", \"process_ids\": [%s]}", id);
	id[strlen(id) - 1] = 0;
	t.taskid = "v";
	t.processid = id + 1;
	t.currenttime = 42;
	ASSERT_EQ(0, oap_ebpf_collect_open(self->c, &s));
	ASSERT_EQ(0, send_off(s, NULL, 1, 2, 1, 1, "a"));	/* no task metadata yet */
	ASSERT_EQ(0, send_off(s, &t, 1, 2, 1, 1, "a"));
	ASSERT_EQ(0, send_off(s, NULL, 1, 2, 1, 1, "b"));	/* same pair, same upload */
	ASSERT_EQ(0, oap_ebpf_collect_close(s, &cmds));
	oap_commands_free(cmds);
	EXPECT_NE(NULL, strstr(fake_oap_get(&self->fake, "violations.0.what"), "before any task metadata"));
	EXPECT_NE(NULL, strstr(fake_oap_get(&self->fake, "violations.1.what"), "OAP overwrites"));

	ASSERT_EQ(0, oap_trace_snapshot_open(self->c, &s));
	ts.taskid = "tx";
	ts.tracesegmentid = "seg-x";
	ts.sequence = 1;		/* sequence 0 never sent */
	ASSERT_EQ(0, oap_trace_snapshot_send(s, &ts));
	ASSERT_EQ(0, oap_trace_snapshot_close(s, &cmds));
	oap_commands_free(cmds);
	/* OAP shows a segment from its sequence 0: the fake's analysis says it is not listed */
	EXPECT_NE(NULL, strstr(fake_oap_cmd(&self->fake, "{\"cmd\": \"trace\", \"task_id\": \"tx\"}"),
			       "\"seg-x\": {\"sequences\": 1, \"first\": 1, \"last\": 1, "
			       "\"gap_free\": false, \"listed\": false}"));
}


#define N_THREADS 4
#define N_CALLS 25

static void *caller(void *arg)
{
	Skywalking__V3__Commands *cmds;
	long failed = 0;

	for (int i = 0; i < N_CALLS; i++) {
		cmds = NULL;
		failed += oap_ebpf_query_tasks(arg, "a", i, &cmds) != 0;
		oap_commands_free(cmds);
	}
	return (void *)failed;
}

TEST_F(oap, concurrent_callers_share_one_client)
{
	pthread_t t[N_THREADS];
	void *failed;
	char want[32];

	self->c = client(&self->fake, NULL, 5000);
	for (int i = 0; i < N_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, caller, self->c));
	for (int i = 0; i < N_THREADS; i++) {
		pthread_join(t[i], &failed);
		EXPECT_EQ(0, (long)failed);
	}
	snprintf(want, sizeof(want), "\"count\": %d", N_THREADS * N_CALLS);
	EXPECT_NE(NULL, strstr(fake_oap_cmd(&self->fake, "{\"cmd\": \"wait\", \"method\": \"queryTasks\", "
					    "\"count\": %d}", N_THREADS * N_CALLS), want));
}


TEST_F(oap, pprof_upload_bidirectional)
{
	Skywalking__V10__PprofMetaData meta = SKYWALKING__V10__PPROF_META_DATA__INIT;
	Skywalking__V10__PprofData d = SKYWALKING__V10__PPROF_DATA__INIT;
	Skywalking__V10__PprofCollectionResponse *r = NULL;
	Skywalking__V10__PprofTaskCommandQuery q = SKYWALKING__V10__PPROF_TASK_COMMAND_QUERY__INIT;
	Skywalking__V3__Commands *cmds = NULL;
	uint8_t gz[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct oap_stream *s;

	self->c = client(&self->fake, NULL, 5000);
	q.service = "svc";
	ASSERT_EQ(0, oap_pprof_query_tasks(self->c, &q, &cmds));
	oap_commands_free(cmds);

	ASSERT_EQ(0, oap_pprof_collect_open(self->c, &s));
	meta.service = "svc";
	meta.taskid = "pp-1";
	meta.contentsize = sizeof(gz);
	d.metadata = &meta;
	ASSERT_EQ(0, oap_pprof_collect_send(s, &d));
	ASSERT_EQ(0, oap_pprof_collect_recv(s, &r));
	EXPECT_EQ(SKYWALKING__V10__PPROF_PROFILING_STATUS__PPROF_PROFILING_SUCCESS, r->status);
	oap_pprof_response_free(r);
	d.metadata = NULL;
	d.result_case = SKYWALKING__V10__PPROF_DATA__RESULT_CONTENT;
	d.content.data = gz;
	d.content.len = 10;
	ASSERT_EQ(0, oap_pprof_collect_send(s, &d));
	d.content.data = gz + 10;
	d.content.len = sizeof(gz) - 10;
	ASSERT_EQ(0, oap_pprof_collect_send(s, &d));
	EXPECT_EQ(0, oap_pprof_collect_close(s));
	EXPECT_STREQ("20", fake_oap_get(&self->fake, "last.collect.content_bytes"));
	EXPECT_STREQ("\"pp-1\"", fake_oap_get(&self->fake, "last.collect.messages.0.metadata.taskId"));
	EXPECT_STREQ("[]", fake_oap_get(&self->fake, "violations"));
}


TEST_F(oap, fake_policies_and_trace_tasks)
{
	Skywalking__V3__ContinuousProfilingPolicyQuery pq = SKYWALKING__V3__CONTINUOUS_PROFILING_POLICY_QUERY__INIT;
	Skywalking__V3__ContinuousProfilingServicePolicyQuery sq =
		SKYWALKING__V3__CONTINUOUS_PROFILING_SERVICE_POLICY_QUERY__INIT;
	Skywalking__V3__ContinuousProfilingServicePolicyQuery *sqp = &sq;
	Skywalking__V3__ProfileTaskCommandQuery tq = SKYWALKING__V3__PROFILE_TASK_COMMAND_QUERY__INIT;
	Skywalking__V3__Commands *cmds = NULL;
	char uuid[64] = "", reply[256];
	const char *json, *u;
	long long created;

	self->c = client(&self->fake, NULL, 5000);
	snprintf(reply, sizeof(reply), "%s", fake_oap_cmd(&self->fake, "{\"cmd\": \"policy\", "
		 "\"service\": \"svc\", \"profiling\": {\"ON_CPU\": {\"PROCESS_CPU\": "
		 "{\"Threshold\": \"10\", \"Period\": 10, \"Count\": 3}}}}"));
	u = strstr(reply, "\"uuid\": \"");
	ASSERT_NE(NULL, u);
	snprintf(uuid, sizeof(uuid), "%.36s", u + 9);
	sq.servicename = "svc";
	sq.uuid = "";
	pq.n_policies = 1;
	pq.policies = &sqp;
	ASSERT_EQ(0, oap_cont_query_policies(self->c, &pq, &cmds));
	ASSERT_EQ(1, cmds->n_commands);
	json = oap_command_arg(cmds->commands[0], "ServiceWithPolicyJSON");
	ASSERT_NE(NULL, json);
	EXPECT_NE(NULL, strstr(json, uuid));
	EXPECT_NE(NULL, strstr(json, "\"PROCESS_CPU\""));
	oap_commands_free(cmds);
	/* no change: nothing */
	sq.uuid = uuid;
	ASSERT_EQ(0, oap_cont_query_policies(self->c, &pq, &cmds));
	EXPECT_EQ(0, cmds->n_commands);
	oap_commands_free(cmds);

	snprintf(reply, sizeof(reply), "%s", fake_oap_cmd(&self->fake, "{\"cmd\": \"trace_task\", "
		 "\"service\": \"svc\", \"task_id\": \"tt\", \"endpoint\": \"GET:/a\"}"));
	ASSERT_NE(NULL, strstr(reply, "\"create_ms\": "));
	created = atoll(strstr(reply, "\"create_ms\": ") + 13);
	tq.service = "svc";
	tq.lastcommandtime = created - 1;
	ASSERT_EQ(0, oap_trace_query_tasks(self->c, &tq, &cmds));
	ASSERT_EQ(1, cmds->n_commands);
	EXPECT_STREQ("ProfileTaskQuery", cmds->commands[0]->command);
	EXPECT_STREQ("GET:/a", oap_command_arg(cmds->commands[0], "EndpointName"));
	oap_commands_free(cmds);
	tq.lastcommandtime = created;
	ASSERT_EQ(0, oap_trace_query_tasks(self->c, &tq, &cmds));
	EXPECT_EQ(0, cmds->n_commands);
	oap_commands_free(cmds);
}

TEST_HARNESS_MAIN
