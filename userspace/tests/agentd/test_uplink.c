// SPDX-License-Identifier: GPL-2.0-only
/*
 * The uplink thread against tools/fake-oap: report, keep-alive and query
 * jobs answered through uplink_done(); uploads delivered; an outage spooled
 * and delivered in order afterwards with exact accounting; the spool's bound
 * dropping exactly what it says; a stop during an outage spooling the queue
 * and the next run delivering it; a wrong token refused, said once, nothing lost.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "agent_spool.h"
#include "agentd_test.h"
#include "fake_oap.h"
#include "uplink.h"

#define AGENT_ID "agent-under-test"

FIXTURE(uplink)
{
	struct fake_oap fake;
	char dir[64], spool[96];
	struct agent_config cfg;
	struct uplink *u;
	uint64_t submitted;	/* samples */
};

FIXTURE_SETUP(uplink)
{
	log_start();
	ASSERT_EQ(0, fake_oap_start(&self->fake, NULL));
	strcpy(self->dir, "/tmp/swprof-uplink-test-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->spool, sizeof(self->spool), "%s/spool", self->dir);
	ASSERT_EQ(0, agent_config_defaults(&self->cfg));
	free(self->cfg.backend.addrs[0]);
	self->cfg.backend.addrs[0] = strdup(self->fake.addr);
	free(self->cfg.agent.spool_dir);
	self->cfg.agent.spool_dir = strdup(self->spool);
	ASSERT_NE(NULL, self->cfg.backend.addrs[0]);
	ASSERT_NE(NULL, self->cfg.agent.spool_dir);
	/*
	 * The longest back-off: what OAP's return waits for at most.  Not
	 * shorter: it is grpc's connect timeout too (oap/channel.c), and a
	 * loaded host may take longer than that to connect to the fake.
	 */
	self->cfg.backend.check_period_ns = 1000 * 1000000ULL;
	fake_oap_cmd(&self->fake, "{\"cmd\": \"task\", \"task_id\": \"t1\", "
		     "\"target\": \"ON_CPU\", \"process_ids\": [\"p1\", \"p2\"]}");
}

FIXTURE_TEARDOWN(uplink)
{
	uplink_free(self->u, 0);
	fake_oap_stop(&self->fake);
	agent_config_free(&self->cfg);
	rm_rf(self->dir);
}

static struct uplink_stats stats(struct uplink *u)
{
	struct uplink_stats st;

	uplink_stats(u, &st);
	return st;
}

/* The next finished job, waiting for it at most @ms. */
static struct job *done(struct uplink *u, int ms)
{
	struct job *j = NULL;

	WAIT_UNTIL(ms, (j = uplink_done(u)) != NULL);
	return j;
}

static struct job *procs_job(enum job_kind kind, int n)
{
	struct job *j = job_new(kind);
	int i;

	if (!j || !(j->procs = calloc(n, sizeof(*j->procs))))
		return NULL;
	for (i = 0; i < n; i++) {
		struct proc_desc *p = &j->procs[i];

		p->pid = 100 + i;
		p->layer = strdup("OS_LINUX");
		p->service = strdup("svc");
		p->instance = strdup("inst");
		asprintf(&p->process, "proc-%d", i);
		asprintf(&p->cmdline, "/usr/bin/proc-%d --serve", i);
		p->labels = calloc(1, sizeof(*p->labels));
		if (p->labels && (p->labels[0] = strdup("label-a")))
			p->nr_labels = 1;
		j->nr_procs++;
	}
	j->host_ip = strdup("10.1.2.3");
	return j;
}

/* One upload job: a batch of task t1 per process given, two stacks, @count + 1 samples each. */
static struct job *upload_job(FIXTURE_DATA(uplink) *self, int64_t time_ms, uint64_t count,
			      const char *const *procs, int nr)
{
	struct job *j = job_new(JOB_UPLOAD);
	int i;

	if (!j || !(j->batches = calloc(nr, sizeof(*j->batches))))
		return NULL;
	for (i = 0; i < nr; i++) {
		struct agent_batch *b = NULL;
		char leaf[32];

		if (agent_batch_new("t1", procs[i], AGENT_TARGET_ON_CPU, 1000, time_ms, &b))
			return NULL;
		j->batches[j->nr_batches++] = b;
		snprintf(leaf, sizeof(leaf), "|leaf_%lld,main", (long long)time_ms);
		if (add_stack(b, leaf, count, 0) || add_stack(b, "|other,main", 1, 0))
			return NULL;
		self->submitted += b->samples;
	}
	return j;
}

static void submit_upload(FIXTURE_DATA(uplink) *self, int64_t time_ms, uint64_t count)
{
	static const char *const p1[] = { "p1" };

	uplink_submit(self->u, upload_job(self, time_ms, count, p1, 1));
}

/* The fake's records' upload times, in the order they first arrived. */
static int upload_times(FIXTURE_DATA(uplink) *self, long long *t, int max)
{
	long long all[256];
	int n = numbers_of(fake_oap_get(&self->fake, "records"), "upload_time", all, 256), i, k = 0;

	/* two stacks per batch: one time each */
	for (i = 0; i < n && k < max; i++)
		if (!k || t[k - 1] != all[i])
			t[k++] = all[i];
	return k;
}

TEST_F(uplink, report_keepalive_query)
{
	Skywalking__V3__EBPFReportProcessDownstream *down;
	char cmd[512], id0[80];
	struct uplink_stats st;
	const char *r;
	long long upd;
	struct job *j;
	int i;

	ASSERT_EQ(0, uplink_new(&self->cfg, AGENT_ID, &self->u));
	uplink_submit(self->u, procs_job(JOB_REPORT, 2));
	j = done(self->u, 5000);
	ASSERT_NE(NULL, j);
	ASSERT_EQ(JOB_REPORT, j->kind);
	ASSERT_EQ(0, j->err) TH_LOG("%s", log_text);
	down = j->procs_resp;
	ASSERT_NE(NULL, down);
	ASSERT_EQ(2, down->n_processes);
	for (i = 0; i < 2; i++) {
		ASSERT_NE(NULL, down->processes[i]->hostprocess);
		EXPECT_EQ(100 + i, down->processes[i]->hostprocess->pid);
		EXPECT_EQ(64, strlen(down->processes[i]->processid));
	}
	EXPECT_STRNE(down->processes[0]->processid, down->processes[1]->processid);
	snprintf(id0, sizeof(id0), "%s", down->processes[0]->processid);
	snprintf(cmd, sizeof(cmd), "\"%s\"", id0);
	EXPECT_STREQ(cmd, fake_oap_get(&self->fake,
				       "last.reportProcesses.reply.processes.0.processId"));
	job_free(j);
	/* what OAP was told */
	EXPECT_STREQ("\"" AGENT_ID "\"", fake_oap_get(&self->fake,
		     "last.reportProcesses.request.ebpfAgentID"));
	EXPECT_STREQ("[\"label-a\"]", fake_oap_get(&self->fake,
		     "last.reportProcesses.request.processes.1.hostProcess.entity.labels"));
	EXPECT_STREQ("\"proc-1\"", fake_oap_get(&self->fake,
		     "last.reportProcesses.request.processes.1.hostProcess.entity.processName"));
	r = fake_oap_get(&self->fake, "last.reportProcesses.request.processes.1.hostProcess");
	EXPECT_NE(NULL, strstr(r, "\"pid\": 101,"));
	EXPECT_NE(NULL, strstr(r, "{\"key\": \"host_ip\", \"value\": \"10.1.2.3\"}"));
	EXPECT_NE(NULL, strstr(r, "{\"key\": \"pid\", \"value\": \"101\"}"));
	EXPECT_NE(NULL, strstr(r, "{\"key\": \"command_line\", \"value\": "
			       "\"/usr/bin/proc-1 --serve\"}"));
	EXPECT_NE(NULL, strstr(r, "{\"key\": \"support_ebpf_profiling\", \"value\": \"true\"}"));
	EXPECT_STREQ("[]", fake_oap_get(&self->fake, "violations"));

	uplink_submit(self->u, procs_job(JOB_KEEPALIVE, 2));
	j = done(self->u, 5000);
	ASSERT_NE(NULL, j);
	EXPECT_EQ(JOB_KEEPALIVE, j->kind);
	EXPECT_EQ(0, j->err);
	job_free(j);
	EXPECT_STREQ("\"proc-1\"", fake_oap_get(&self->fake,
		     "last.keepAlive.request.processes.1.entityMetadata.processName"));
	EXPECT_STREQ("\"" AGENT_ID "\"", fake_oap_get(&self->fake,
						     "last.keepAlive.request.ebpfAgentID"));

	/* a task for the first process: the next query returns it */
	snprintf(cmd, sizeof(cmd), "%s", fake_oap_cmd(&self->fake, "{\"cmd\": \"task\", "
		 "\"task_id\": \"t-q\", \"target\": \"OFF_CPU\", \"process_ids\": [\"%s\"], "
		 "\"duration_s\": 9}", id0));
	ASSERT_NE(NULL, strstr(cmd, "\"update_ms\": "));
	upd = atoll(strstr(cmd, "\"update_ms\": ") + 13);
	j = job_new(JOB_QUERY);
	ASSERT_NE(NULL, j);
	uplink_submit(self->u, j);
	j = done(self->u, 5000);
	ASSERT_NE(NULL, j);
	EXPECT_EQ(JOB_QUERY, j->kind);
	ASSERT_EQ(0, j->err);
	ASSERT_NE(NULL, j->cmds);
	ASSERT_EQ(1, j->cmds->n_commands);
	EXPECT_STREQ("EBPFProfilingTaskQuery", j->cmds->commands[0]->command);
	EXPECT_STREQ("t-q", oap_command_arg(j->cmds->commands[0], "TaskId"));
	EXPECT_STREQ(id0, oap_command_arg(j->cmds->commands[0], "ProcessId"));
	EXPECT_STREQ("OFF_CPU", oap_command_arg(j->cmds->commands[0], "TargetType"));
	EXPECT_STREQ("9", oap_command_arg(j->cmds->commands[0], "FixedTriggerDuration"));
	EXPECT_EQ(upd, atoll(oap_command_arg(j->cmds->commands[0], "TaskUpdateTime")));
	job_free(j);
	EXPECT_STREQ("\"" AGENT_ID "\"", fake_oap_get(&self->fake,
		     "last.queryTasks.request.roverInstanceId"));
	/* nothing newer than what it has */
	j = job_new(JOB_QUERY);
	ASSERT_NE(NULL, j);
	j->latest_update = upd;
	uplink_submit(self->u, j);
	j = done(self->u, 5000);
	ASSERT_NE(NULL, j);
	EXPECT_EQ(0, j->err);
	EXPECT_EQ(0, j->cmds ? j->cmds->n_commands : 99);
	job_free(j);

	st = stats(self->u);
	EXPECT_TRUE(st.up);
	EXPECT_EQ(4, st.calls);
	for (i = 0; i < UPLINK_ERR_NR; i++)
		EXPECT_EQ(0, st.errors[i]);
	EXPECT_STREQ(self->fake.addr, st.addr);
	EXPECT_EQ(0, st.queued_jobs);
	EXPECT_EQ(NULL, uplink_done(self->u));
}

/* A trace-profiling job of instance svc / inst. */
static struct job *tp_job(enum job_kind kind)
{
	struct job *j = job_new(kind);

	if (j) {
		j->tp.service = strdup("svc");
		j->tp.instance = strdup("inst");
		j->tp.layer = strdup("GENERAL");
	}
	return j;
}

TEST_F(uplink, trace_profiling_calls)
{
	char cmd[512];
	struct job *j;
	const char *r;
	long long created;
	size_t i;

	ASSERT_EQ(0, uplink_new(&self->cfg, AGENT_ID, &self->u));
	/* the instance, with the language agents' properties */
	j = tp_job(JOB_TP_INSTANCE);
	ASSERT_NE(NULL, j);
	j->tp.host_name = strdup("host-1");
	j->tp.host_ip = strdup("10.1.2.3");
	uplink_submit(self->u, j);
	j = done(self->u, 5000);
	ASSERT_NE(NULL, j);
	EXPECT_EQ(JOB_TP_INSTANCE, j->kind);
	EXPECT_EQ(0, j->err) TH_LOG("%s", log_text);
	job_free(j);
	EXPECT_STREQ("\"svc\"", fake_oap_get(&self->fake, "last.reportInstanceProperties.request.service"));
	EXPECT_STREQ("\"inst\"", fake_oap_get(&self->fake,
		     "last.reportInstanceProperties.request.serviceInstance"));
	EXPECT_STREQ("\"GENERAL\"", fake_oap_get(&self->fake, "last.reportInstanceProperties.request.layer"));
	r = fake_oap_get(&self->fake, "last.reportInstanceProperties.request.properties");
	EXPECT_NE(NULL, strstr(r, "{\"key\": \"hostname\", \"value\": \"host-1\"}"));
	EXPECT_NE(NULL, strstr(r, "{\"key\": \"ipv4\", \"value\": \"10.1.2.3\"}"));
	EXPECT_NE(NULL, strstr(r, "{\"key\": \"language\", \"value\": \"native (swprof)\"}"));
	uplink_submit(self->u, tp_job(JOB_TP_PING));
	j = done(self->u, 5000);
	ASSERT_NE(NULL, j);
	EXPECT_EQ(0, j->err);
	job_free(j);
	EXPECT_STREQ("\"inst\"", fake_oap_get(&self->fake, "last.keepAlive.request.serviceInstance"));

	/* tasks of the service created after lastCommandTime */
	snprintf(cmd, sizeof(cmd), "%s", fake_oap_cmd(&self->fake, "{\"cmd\": \"trace_task\", "
		 "\"task_id\": \"tt\", \"service\": \"svc\", \"endpoint\": \"GET:/x\"}"));
	ASSERT_NE(NULL, strstr(cmd, "\"create_ms\": "));
	created = atoll(strstr(cmd, "\"create_ms\": ") + 13);
	j = tp_job(JOB_TP_QUERY);
	ASSERT_NE(NULL, j);
	j->tp.last_command = created - 1;
	uplink_submit(self->u, j);
	j = done(self->u, 5000);
	ASSERT_NE(NULL, j);
	ASSERT_EQ(0, j->err);
	ASSERT_NE(NULL, j->cmds);
	ASSERT_EQ(1, j->cmds->n_commands);
	EXPECT_STREQ("ProfileTaskQuery", j->cmds->commands[0]->command);
	EXPECT_STREQ("tt", oap_command_arg(j->cmds->commands[0], "TaskId"));
	EXPECT_STREQ("GET:/x", oap_command_arg(j->cmds->commands[0], "EndpointName"));
	job_free(j);
	j = tp_job(JOB_TP_QUERY);
	ASSERT_NE(NULL, j);
	j->tp.last_command = created;
	uplink_submit(self->u, j);
	j = done(self->u, 5000);
	ASSERT_NE(NULL, j);
	EXPECT_EQ(0, j->cmds ? j->cmds->n_commands : 99);
	job_free(j);

	/* snapshots, root first as given, in one stream; then a segment; then the finish */
	j = tp_job(JOB_TP_SNAPSHOTS);
	ASSERT_NE(NULL, j);
	j->tp.snaps = calloc(3, sizeof(*j->tp.snaps));
	ASSERT_NE(NULL, j->tp.snaps);
	for (i = 0; i < 3; i++) {
		struct tp_snapshot *sn = &j->tp.snaps[i];

		sn->task_id = strdup("tt");
		sn->segment_id = strdup("swprof.1.2.3.4");
		sn->time_ms = 1000 + 20 * i;
		sn->sequence = i;
		sn->sigs = calloc(2, sizeof(*sn->sigs));
		sn->sigs[0] = strdup("main");
		sn->sigs[1] = strdup(i == 2 ? "nanosleep" : "compute");
		sn->nr_sigs = 2;
	}
	j->tp.nr_snaps = 3;
	uplink_submit(self->u, j);
	j = done(self->u, 5000);
	ASSERT_NE(NULL, j);
	EXPECT_EQ(JOB_TP_SNAPSHOTS, j->kind);
	EXPECT_EQ(0, j->err);
	EXPECT_EQ(3, j->tp.sent);
	job_free(j);
	EXPECT_STREQ("[\"main\", \"nanosleep\"]", fake_oap_get(&self->fake,
		     "last.collectSnapshot.messages.2.stack.codeSignatures"));
	EXPECT_STREQ("\"1040\"", fake_oap_get(&self->fake, "last.collectSnapshot.messages.2.time"));
	j = tp_job(JOB_TP_SEGMENTS);
	ASSERT_NE(NULL, j);
	j->tp.segs = calloc(1, sizeof(*j->tp.segs));
	ASSERT_NE(NULL, j->tp.segs);
	j->tp.segs[0] = (struct tp_segment){
		.service = strdup("svc"), .instance = strdup("inst"),
		.segment_id = strdup("swprof.1.2.3.4"), .endpoint = strdup("GET:/x"),
		.start_ms = 990, .end_ms = 1150,
	};
	j->tp.nr_segs = 1;
	uplink_submit(self->u, j);
	j = done(self->u, 5000);
	ASSERT_NE(NULL, j);
	EXPECT_EQ(0, j->err);
	job_free(j);
	r = fake_oap_get(&self->fake, "last.collect.messages.0");
	EXPECT_NE(NULL, strstr(r, "\"traceSegmentId\": \"swprof.1.2.3.4\""));
	EXPECT_NE(NULL, strstr(r, "\"operationName\": \"GET:/x\""));
	EXPECT_NE(NULL, strstr(r, "\"parentSpanId\": -1"));
	EXPECT_NE(NULL, strstr(r, "\"startTime\": \"990\""));
	/* OAP's analysis: the segment is listed (stored, sequence 0), 3 snapshots */
	r = fake_oap_cmd(&self->fake, "{\"cmd\": \"trace\", \"task_id\": \"tt\"}");
	EXPECT_NE(NULL, strstr(r, "\"gap_free\": true, \"listed\": true")) TH_LOG("%s", r);
	EXPECT_NE(NULL, strstr(r, "\"compute\": {\"count\": 2, \"duration_ms\": 20}")) TH_LOG("%s", r);
	j = tp_job(JOB_TP_FINISH);
	ASSERT_NE(NULL, j);
	j->tp.task_id = strdup("tt");
	uplink_submit(self->u, j);
	j = done(self->u, 5000);
	ASSERT_NE(NULL, j);
	EXPECT_EQ(0, j->err);
	job_free(j);
	r = fake_oap_cmd(&self->fake, "{\"cmd\": \"trace\", \"task_id\": \"tt\"}");
	EXPECT_NE(NULL, strstr(r, "\"finished\": true"));
	EXPECT_STREQ("[]", fake_oap_get(&self->fake, "violations"));
	EXPECT_EQ(3, stats(self->u).snapshots_sent);
}

TEST_F(uplink, upload_delivered)
{
	static const char *const both[] = { "p1", "p2" };
	struct uplink_stats st;
	long long t[8];

	ASSERT_EQ(0, uplink_new(&self->cfg, AGENT_ID, &self->u));
	uplink_submit(self->u, upload_job(self, 5000, 4, both, 2));
	ASSERT_TRUE(WAIT_UNTIL(5000, stats(self->u).samples_sent == self->submitted));
	EXPECT_EQ(10, self->submitted);
	st = stats(self->u);
	EXPECT_EQ(1, st.uploads);
	EXPECT_EQ(2, st.batches_sent);
	EXPECT_EQ(0, st.samples_spooled);
	EXPECT_EQ(0, st.samples_dropped);
	EXPECT_EQ(0, st.spool_entries);
	EXPECT_EQ(1, st.calls);
	/* upload jobs do not come back */
	EXPECT_EQ(NULL, uplink_done(self->u));
	ASSERT_TRUE(fake_oap_wait(&self->fake, "collectProfilingData", 1));
	EXPECT_STREQ("[]", fake_oap_get(&self->fake, "violations"));
	EXPECT_EQ(4, numbers_of(fake_oap_get(&self->fake, "records"), "upload_time", t, 8));
	EXPECT_EQ(2, count_of(fake_oap_get(&self->fake, "records"), "\"process_id\": \"p2\""));
	EXPECT_EQ(0, files_in(self->spool, ".swb"));
}

/* OAP away: every upload spooled; back: delivered in the order submitted, all of it. */
TEST_F(uplink, outage_spooled_then_delivered_in_order)
{
	struct uplink_stats st;
	uint64_t spooled;
	char line[256];
	long long t[64];
	int64_t end;
	int i, k, n;

	ASSERT_EQ(0, uplink_new(&self->cfg, AGENT_ID, &self->u));
	submit_upload(self, 1000, 1);
	ASSERT_TRUE(WAIT_UNTIL(5000, stats(self->u).samples_sent == self->submitted));

	fake_oap_cmd(&self->fake, "{\"cmd\": \"down\"}");
	for (i = 1; i <= 6; i++)
		submit_upload(self, 1000 + i, i);
	/* the counts first, then what the thread publishes of its state */
	ASSERT_TRUE(WAIT_UNTIL(5000, stats(self->u).samples_spooled == self->submitted - 2 &&
			       stats(self->u).spool_entries == 6));
	st = stats(self->u);
	EXPECT_FALSE(st.up);
	EXPECT_EQ(6, st.spool_entries);
	EXPECT_EQ(self->submitted - 2, st.spool_samples);
	EXPECT_GT(st.spool_bytes, 0);
	EXPECT_GT(st.errors[UPLINK_ERR_UNAVAILABLE], 0);
	EXPECT_EQ(2, st.samples_sent);
	EXPECT_EQ(0, st.samples_dropped);
	EXPECT_GT(st.down_since_ms, 0);
	EXPECT_EQ(6, files_in(self->spool, ".swb"));
	snprintf(line, sizeof(line), "OAP at %s: Connection refused; retrying with back-off, "
		 "profiles are spooled meanwhile", self->fake.addr);
	EXPECT_EQ(1, log_count(line)) TH_LOG("%s", log_text);

	/*
	 * OAP back, and the flushes go on meanwhile (one every 50 ms): the new
	 * ones wait their turn behind the spool.
	 */
	fake_oap_cmd(&self->fake, "{\"cmd\": \"up\"}");
	end = mono_ms() + 10000;
	for (i = 7; !(stats(self->u).samples_sent == self->submitted &&
		      stats(self->u).spool_entries == 0 && stats(self->u).up);) {
		ASSERT_LT(mono_ms(), end);
		if (i < 60)
			submit_upload(self, 1000 + i++, 1);
		sleep_ms(50);
	}
	st = stats(self->u);
	EXPECT_EQ(0, st.samples_dropped);
	EXPECT_EQ(0, st.spool_samples);
	EXPECT_EQ(1, st.reconnects);
	EXPECT_EQ(0, st.down_since_ms);
	EXPECT_EQ(0, files_in(self->spool, ".swb"));
	/* the uplink says so once (the client has its own line) */
	snprintf(line, sizeof(line), "OAP at %s reachable again after", self->fake.addr);
	EXPECT_EQ(1, log_count(line)) TH_LOG("%s", log_text);
	n = upload_times(self, t, 64);
	EXPECT_EQ(i, n);
	EXPECT_EQ(i, st.batches_sent);
	for (k = 0; k < n; k++)
		EXPECT_EQ(1000 + k, t[k]);
	EXPECT_STREQ("[]", fake_oap_get(&self->fake, "violations"));
	/* and later uploads go straight through again */
	spooled = st.samples_spooled;
	submit_upload(self, 2000, 3);
	ASSERT_TRUE(WAIT_UNTIL(5000, stats(self->u).samples_sent == self->submitted));
	EXPECT_EQ(spooled, stats(self->u).samples_spooled);
	EXPECT_EQ(n + 1, stats(self->u).batches_sent);
}

/* The bytes of one spool entry of upload_job()'s batch (all are the same size). */
static uint64_t entry_bytes(FIXTURE_DATA(uplink) *self)
{
	static const char *const p1[] = { "p1" };
	AGENT_SPOOL_OPTS(o, .dir = self->dir);
	struct job *j = upload_job(self, 1000, 1, p1, 1);
	struct agent_spool_stats ss = { 0 };
	struct agent_spool *sp;
	size_t len;
	void *buf;

	self->submitted = 0;
	if (!j || agent_spool_open(&o, &sp))
		return 0;
	if (!agent_batch_encode(j->batches[0], &buf, &len)) {
		agent_spool_put(sp, buf, len, 1);
		free(buf);
	}
	agent_spool_stats(sp, &ss);
	agent_spool_close(sp);
	job_free(j);
	return ss.bytes;
}

/* A spool of three entries: the oldest go, counted exactly; one too big for it, too. */
TEST_F(uplink, spool_bound)
{
	static const char *const p1[] = { "p1" };
	uint64_t sz = entry_bytes(self), big_samples;
	struct uplink_stats st;
	long long t[16];
	struct job *big;
	int i, n;

	ASSERT_GT(sz, 0);
	self->cfg.agent.spool_max_bytes = 3 * sz + sz / 2;
	ASSERT_EQ(0, uplink_new(&self->cfg, AGENT_ID, &self->u));
	fake_oap_cmd(&self->fake, "{\"cmd\": \"down\"}");
	for (i = 1; i <= 6; i++)	/* 2, 3, ..., 7 samples */
		submit_upload(self, 1000 + i, i);
	/* a batch larger than the whole spool: 100 stacks */
	big = upload_job(self, 1100, 1, p1, 1);
	ASSERT_NE(NULL, big);
	for (i = 0; i < 100; i++) {
		char s[64];

		snprintf(s, sizeof(s), "|a_rather_long_function_name_%d,main", i);
		ASSERT_EQ(0, add_stack(big->batches[0], s, 1, 0));
	}
	big_samples = big->batches[0]->samples;
	self->submitted += 100;
	uplink_submit(self->u, big);
	ASSERT_TRUE(WAIT_UNTIL(5000, stats(self->u).samples_dropped == 2 + 3 + 4 + big_samples &&
			       stats(self->u).spool_entries == 3));
	st = stats(self->u);
	/* the first three went to make room, the big one never fit */
	EXPECT_EQ(2 + 3 + 4 + big_samples, st.dropped_spool_full);
	EXPECT_EQ(0, st.dropped_spool_error);
	EXPECT_EQ(3, st.spool_entries);
	EXPECT_EQ(5 + 6 + 7, st.spool_samples);
	EXPECT_LE(st.spool_bytes, self->cfg.agent.spool_max_bytes);
	EXPECT_EQ(3, files_in(self->spool, ".swb"));

	fake_oap_cmd(&self->fake, "{\"cmd\": \"up\"}");
	ASSERT_TRUE(WAIT_UNTIL(10000, stats(self->u).spool_entries == 0));
	st = stats(self->u);
	EXPECT_EQ(5 + 6 + 7, st.samples_sent);
	EXPECT_EQ(self->submitted, st.samples_sent + st.samples_dropped);
	EXPECT_EQ(st.samples_dropped, st.dropped_spool_full);
	n = upload_times(self, t, 16);
	ASSERT_EQ(3, n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(1004 + i, t[i]);
}

/* Stopped while OAP is away: the queue goes to the spool; the next run delivers it. */
TEST_F(uplink, stop_spools_then_restart_delivers)
{
	struct uplink_stats st;
	long long t[16];
	int i, n;

	fake_oap_cmd(&self->fake, "{\"cmd\": \"down\"}");
	ASSERT_EQ(0, uplink_new(&self->cfg, AGENT_ID, &self->u));
	for (i = 0; i < 5; i++)
		submit_upload(self, 3000 + i, i + 1);
	uplink_free(self->u, 3000);
	self->u = NULL;
	EXPECT_EQ(0, log_count("still queued for OAP were dropped"));
	EXPECT_EQ(5, files_in(self->spool, ".swb"));

	ASSERT_EQ(0, uplink_new(&self->cfg, AGENT_ID, &self->u));
	st = stats(self->u);
	EXPECT_EQ(5, st.spool_entries);
	EXPECT_EQ(self->submitted, st.spool_samples);
	fake_oap_cmd(&self->fake, "{\"cmd\": \"up\"}");
	ASSERT_TRUE(WAIT_UNTIL(10000, stats(self->u).samples_sent == self->submitted &&
			       stats(self->u).spool_entries == 0));
	st = stats(self->u);
	EXPECT_EQ(0, st.samples_dropped);
	EXPECT_EQ(0, files_in(self->spool, ".swb"));
	n = upload_times(self, t, 16);
	ASSERT_EQ(5, n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(3000 + i, t[i]);
	EXPECT_STREQ("[]", fake_oap_get(&self->fake, "violations"));
}

/*
 * OAP slow when the agent stops: the grace runs out during the first upload;
 * the jobs still queued go to the spool (docs/agent.md: dropped only when
 * the spool cannot take them), and the next run delivers them, in order.
 */
TEST_F(uplink, grace_runs_out_rest_spooled)
{
	struct uplink_stats st;
	long long t[16];
	int i, n;

	ASSERT_EQ(0, uplink_new(&self->cfg, AGENT_ID, &self->u));
	fake_oap_cmd(&self->fake, "{\"cmd\": \"fault\", \"method\": \"collectProfilingData\", "
		     "\"delay_ms\": 1500}");
	for (i = 0; i < 4; i++)
		submit_upload(self, 6000 + i, i + 1);
	/* the first one under way */
	ASSERT_TRUE(WAIT_UNTIL(5000, stats(self->u).queued_jobs == 3));
	uplink_free(self->u, 200);
	self->u = NULL;
	ASSERT_TRUE(fake_oap_wait(&self->fake, "collectProfilingData", 1));
	EXPECT_EQ(0, log_count("still queued for OAP were dropped")) TH_LOG("%s", log_text);
	EXPECT_EQ(3, files_in(self->spool, ".swb"));

	ASSERT_EQ(0, uplink_new(&self->cfg, AGENT_ID, &self->u));
	EXPECT_EQ(self->submitted - 2, stats(self->u).spool_samples);
	ASSERT_TRUE(WAIT_UNTIL(10000, stats(self->u).spool_entries == 0));
	st = stats(self->u);
	EXPECT_EQ(self->submitted - 2, st.samples_sent);
	EXPECT_EQ(0, st.samples_dropped);
	n = upload_times(self, t, 16);
	ASSERT_EQ(4, n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(6000 + i, t[i]);
}

/* No grace at all: still nothing lost, whatever the thread had taken up. */
TEST_F(uplink, stop_without_grace_spools_everything)
{
	int i;

	fake_oap_cmd(&self->fake, "{\"cmd\": \"down\"}");
	ASSERT_EQ(0, uplink_new(&self->cfg, AGENT_ID, &self->u));
	for (i = 0; i < 20; i++)
		submit_upload(self, 4000 + i, 1);
	uplink_free(self->u, 0);
	self->u = NULL;
	EXPECT_EQ(0, log_count("exit: "));
	EXPECT_EQ(20, files_in(self->spool, ".swb"));
	ASSERT_EQ(0, uplink_new(&self->cfg, AGENT_ID, &self->u));
	EXPECT_EQ(self->submitted, stats(self->u).spool_samples);
}

/* No spool (its directory cannot be made): what OAP cannot take is dropped, and counted. */
TEST_F(uplink, no_spool_drops_and_counts)
{
	struct uplink_stats st;
	int64_t end;
	int i;

	free(self->cfg.agent.spool_dir);
	self->cfg.agent.spool_dir = strdup("/dev/null/spool");
	fake_oap_cmd(&self->fake, "{\"cmd\": \"down\"}");
	ASSERT_EQ(0, uplink_new(&self->cfg, AGENT_ID, &self->u));
	EXPECT_EQ(1, log_count("running without a spool"));
	for (i = 0; i < 3; i++)
		submit_upload(self, 7000 + i, 2);
	ASSERT_TRUE(WAIT_UNTIL(5000, stats(self->u).samples_dropped == self->submitted));
	st = stats(self->u);
	EXPECT_EQ(self->submitted, st.dropped_spool_error);
	/* not told that they are spooled */
	EXPECT_EQ(0, log_count("spooled meanwhile"));
	EXPECT_EQ(1, log_count("profiles are dropped (no spool) meanwhile"));
	EXPECT_EQ(0, st.samples_spooled);
	EXPECT_EQ(0, st.spool_entries);
	/* OAP back: each upload is delivered or (still backing off) dropped, never lost */
	fake_oap_cmd(&self->fake, "{\"cmd\": \"up\"}");
	end = mono_ms() + 8000;
	for (i = 0; !stats(self->u).samples_sent && mono_ms() < end; i++) {
		submit_upload(self, 7100 + i, 2);
		ASSERT_TRUE(WAIT_UNTIL(5000, stats(self->u).samples_sent +
				       stats(self->u).samples_dropped == self->submitted));
		sleep_ms(50);	/* pacing, not waiting for something */
	}
	st = stats(self->u);
	EXPECT_EQ(3, st.samples_sent) TH_LOG("%s", log_text);
	EXPECT_EQ(self->submitted, st.samples_sent + st.samples_dropped);
	EXPECT_EQ(st.samples_dropped, st.dropped_spool_error);
}

/* SIGHUP's new core.backend: the next call goes to the new address, without back-off. */
TEST_F(uplink, new_backend_address)
{
	char line[128];
	struct job *j;

	free(self->cfg.backend.addrs[0]);
	self->cfg.backend.addrs[0] = strdup("127.0.0.1:1");
	ASSERT_EQ(0, uplink_new(&self->cfg, AGENT_ID, &self->u));
	uplink_submit(self->u, procs_job(JOB_REPORT, 1));
	j = done(self->u, 5000);
	ASSERT_NE(NULL, j);
	EXPECT_EQ(-ECONNREFUSED, j->err);
	job_free(j);
	EXPECT_STREQ("127.0.0.1:1", stats(self->u).addr);

	free(self->cfg.backend.addrs[0]);
	self->cfg.backend.addrs[0] = strdup(self->fake.addr);
	ASSERT_EQ(0, uplink_reconfigure(self->u, &self->cfg));
	uplink_submit(self->u, procs_job(JOB_REPORT, 1));
	j = done(self->u, 5000);
	ASSERT_NE(NULL, j);
	EXPECT_EQ(0, j->err);
	job_free(j);
	EXPECT_STREQ(self->fake.addr, stats(self->u).addr);
	EXPECT_TRUE(stats(self->u).up);
	snprintf(line, sizeof(line), "core.backend: now %s", self->fake.addr);
	EXPECT_EQ(1, log_count(line));
}

/* A token OAP refuses: -EACCES, counted, said once; the uploads wait in the spool. */
TEST_F(uplink, wrong_token)
{
	static const char *const kinds[] = { "report", "keepalive", "query" };
	struct uplink_stats st;
	struct job *j;
	int i, round;

	free(self->cfg.backend.authentication);
	self->cfg.backend.authentication = strdup("not-the-token");
	fake_oap_cmd(&self->fake, "{\"cmd\": \"token\", \"token\": \"the-token\"}");
	ASSERT_EQ(0, uplink_new(&self->cfg, AGENT_ID, &self->u));
	for (round = 0; round < 2; round++) {
		uplink_submit(self->u, procs_job(JOB_REPORT, 1));
		uplink_submit(self->u, procs_job(JOB_KEEPALIVE, 1));
		uplink_submit(self->u, job_new(JOB_QUERY));
		submit_upload(self, 5000 + round, 2);
		for (i = 0; i < 3; i++) {
			j = done(self->u, 5000);
			ASSERT_NE(NULL, j);
			EXPECT_EQ(-EACCES, j->err) TH_LOG("%s", kinds[i]);
			EXPECT_EQ(NULL, j->procs_resp);
			EXPECT_EQ(NULL, j->cmds);
			job_free(j);
		}
	}
	ASSERT_TRUE(WAIT_UNTIL(5000, stats(self->u).samples_spooled == self->submitted &&
			       stats(self->u).spool_entries == 2));
	st = stats(self->u);
	EXPECT_FALSE(st.up);
	EXPECT_GE(st.errors[UPLINK_ERR_DENIED], 8);
	EXPECT_EQ(st.calls, st.errors[UPLINK_ERR_DENIED]);
	EXPECT_EQ(0, st.samples_sent);
	EXPECT_EQ(0, st.samples_dropped);
	EXPECT_EQ(2, st.spool_entries);
	EXPECT_EQ(1, log_count("refused the token"));

	/* OAP takes it now: the spool is delivered */
	fake_oap_cmd(&self->fake, "{\"cmd\": \"token\", \"token\": \"\"}");
	ASSERT_TRUE(WAIT_UNTIL(10000, stats(self->u).samples_sent == self->submitted &&
			       stats(self->u).up));
	EXPECT_EQ(0, stats(self->u).samples_dropped);
	EXPECT_EQ(1, log_count("refused the token"));
}

TEST_HARNESS_MAIN
