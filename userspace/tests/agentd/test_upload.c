// SPDX-License-Identifier: GPL-2.0-only
/*
 * upload_batches() against tools/fake-oap: batches become the messages of one
 * collectProfilingData stream as OAP needs them (task metadata first per
 * batch, leaf-first symbols, stack ids unique in the upload, counts, [MISSING]
 * for a stack without frames, zero counts left out), read back from the
 * fake's record and the flame graph it would show.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "agentd_test.h"
#include "fake_oap.h"
#include "uplink.h"

FIXTURE(upload)
{
	struct fake_oap fake;
	struct oap *c;
	struct agent_batch *b[4];
	size_t nr;
};

FIXTURE_SETUP(upload)
{
	const char *addrs[1];
	OAP_OPTS(o, .addrs = addrs, .nr_addrs = 1, .deadline_ms = 5000,
		 .stream_deadline_ms = 5000, .backoff_base_ms = 100, .backoff_max_ms = 200);

	log_start();
	ASSERT_EQ(0, fake_oap_start(&self->fake, NULL));
	addrs[0] = self->fake.addr;
	ASSERT_EQ(0, oap_new(&o, &self->c));
	/* the fake checks every message's task and process against its tasks */
	fake_oap_cmd(&self->fake, "{\"cmd\": \"task\", \"task_id\": \"t-on\", "
		     "\"target\": \"ON_CPU\", \"process_ids\": [\"p1\", \"p2\"]}");
	fake_oap_cmd(&self->fake, "{\"cmd\": \"task\", \"task_id\": \"t-off\", \"target\": "
		     "\"OFF_CPU\", \"process_ids\": [\"p1\"]}");
}

FIXTURE_TEARDOWN(upload)
{
	size_t i;

	for (i = 0; i < self->nr; i++)
		agent_batch_free(self->b[i]);
	oap_free(self->c);
	fake_oap_stop(&self->fake);
}

static struct agent_batch *batch(FIXTURE_DATA(upload) *self, const char *task, const char *proc,
				 enum agent_task_target target, int64_t start, int64_t time)
{
	struct agent_batch *b = NULL;

	if (agent_batch_new(task, proc, target, start, time, &b))
		return NULL;
	self->b[self->nr++] = b;
	return b;
}

/* The JSON of the last collectProfilingData stream's message @i, field @path. */
static const char *msg(FIXTURE_DATA(upload) *self, int i, const char *path)
{
	char p[256];

	snprintf(p, sizeof(p), "last.collectProfilingData.messages.%d%s%s", i, *path ? "." : "",
		 path);
	return fake_oap_get(&self->fake, p);
}

/* How many paths a "flame" answer holds. */
static int flame_paths(const char *r)
{
	const char *f = strstr(r, "\"folded\": {");

	return f ? count_of(f, "\": ") - 1 : -1;
}

/* The ON_CPU batch of p1: every kind of stack. */
static struct agent_batch *on_cpu_p1(FIXTURE_DATA(upload) *self)
{
	struct agent_batch *b = batch(self, "t-on", "p1", AGENT_TARGET_ON_CPU, 1000, 5000);

	if (!b || add_stack(b, "k_leaf,k_entry|u_leaf,u_mid,main", 3, 0) ||
	    add_stack(b, "|u2,main", 2, 0) ||
	    add_stack(b, "kthread_leaf,kthread|", 1, 0) ||
	    add_stack(b, "|", 6, 0) ||			/* no frame at all */
	    add_stack(b, "|zero_leaf,main", 0, 0) ||	/* a zero delta */
	    add_stack(b, "k_leaf,k_entry|u_leaf,u_mid,main", 2, 0))	/* merged: 5 */
		return NULL;
	return b;
}

TEST_F(upload, messages_as_oap_needs_them)
{
	struct agent_batch *a = on_cpu_p1(self), *p2, *off;
	long long ids[64];
	const char *r;
	int n, i, j;

	ASSERT_NE(NULL, a);
	ASSERT_EQ(5, a->nr_stacks);	/* the zero one is in the batch, not on the wire */
	ASSERT_EQ(14, a->samples);
	p2 = batch(self, "t-on", "p2", AGENT_TARGET_ON_CPU, 1000, 5000);
	ASSERT_NE(NULL, p2);
	ASSERT_EQ(0, add_stack(p2, "|u_leaf,main", 7, 0));
	ASSERT_EQ(0, add_stack(p2, "k_leaf,k_entry|u_leaf,u_mid,main", 1, 0));
	off = batch(self, "t-off", "p1", AGENT_TARGET_OFF_CPU, 2000, 6000);
	ASSERT_NE(NULL, off);
	ASSERT_EQ(0, add_stack(off, "schedule,do_nanosleep|nanosleep,main", 2, 3000000));
	ASSERT_EQ(0, add_stack(off, "|read,main", 1, 500));

	ASSERT_EQ(0, upload_batches(self->c, self->b, self->nr));
	ASSERT_TRUE(fake_oap_wait(&self->fake, "collectProfilingData", 1));
	EXPECT_STREQ("\"OK\"", fake_oap_get(&self->fake, "last.collectProfilingData.status"));
	EXPECT_STREQ("[]", fake_oap_get(&self->fake, "violations"));

	/* one message per non-zero stack: 4 + 2 + 2 */
	EXPECT_NE(NULL, strstr(msg(self, 7, ""), "offCPU"));
	EXPECT_NE(NULL, strstr(msg(self, 8, ""), "\"ok\": false"));

	/* each batch's first message carries its task, the others none */
	EXPECT_STREQ("\"t-on\"", msg(self, 0, "task.taskId"));
	EXPECT_STREQ("\"p1\"", msg(self, 0, "task.processId"));
	EXPECT_STREQ("\"1000\"", msg(self, 0, "task.profilingStartTime"));
	EXPECT_STREQ("\"5000\"", msg(self, 0, "task.currentTime"));
	for (i = 1; i < 4; i++)
		EXPECT_EQ(NULL, strstr(msg(self, i, ""), "\"task\""));
	EXPECT_STREQ("\"p2\"", msg(self, 4, "task.processId"));
	EXPECT_STREQ("\"t-on\"", msg(self, 4, "task.taskId"));
	EXPECT_EQ(NULL, strstr(msg(self, 5, ""), "\"task\""));
	EXPECT_STREQ("\"t-off\"", msg(self, 6, "task.taskId"));
	EXPECT_STREQ("\"p1\"", msg(self, 6, "task.processId"));
	EXPECT_STREQ("\"2000\"", msg(self, 6, "task.profilingStartTime"));
	EXPECT_STREQ("\"6000\"", msg(self, 6, "task.currentTime"));

	/* kernel then user, each leaf first; counts */
	EXPECT_STREQ("\"PROCESS_KERNEL_SPACE\"", msg(self, 0, "onCPU.stacks.0.stackType"));
	EXPECT_STREQ("[\"k_leaf\", \"k_entry\"]", msg(self, 0, "onCPU.stacks.0.stackSymbols"));
	EXPECT_STREQ("\"PROCESS_USER_SPACE\"", msg(self, 0, "onCPU.stacks.1.stackType"));
	EXPECT_STREQ("[\"u_leaf\", \"u_mid\", \"main\"]",
		     msg(self, 0, "onCPU.stacks.1.stackSymbols"));
	EXPECT_STREQ("5", msg(self, 0, "onCPU.dumpCount"));
	/* user only, kernel only: one stack each */
	EXPECT_STREQ("[\"u2\", \"main\"]", msg(self, 1, "onCPU.stacks.0.stackSymbols"));
	EXPECT_STREQ("\"PROCESS_USER_SPACE\"", msg(self, 1, "onCPU.stacks.0.stackType"));
	EXPECT_NE(NULL, strstr(msg(self, 1, "onCPU.stacks.1"), "\"ok\": false"));
	EXPECT_STREQ("2", msg(self, 1, "onCPU.dumpCount"));
	EXPECT_STREQ("\"PROCESS_KERNEL_SPACE\"", msg(self, 2, "onCPU.stacks.0.stackType"));
	EXPECT_NE(NULL, strstr(msg(self, 2, "onCPU.stacks.1"), "\"ok\": false"));
	EXPECT_STREQ("1", msg(self, 2, "onCPU.dumpCount"));
	/* no frame: one [MISSING] user frame, still counted */
	EXPECT_STREQ("\"PROCESS_USER_SPACE\"", msg(self, 3, "onCPU.stacks.0.stackType"));
	EXPECT_STREQ("[\"[MISSING]\"]", msg(self, 3, "onCPU.stacks.0.stackSymbols"));
	EXPECT_STREQ("6", msg(self, 3, "onCPU.dumpCount"));
	EXPECT_STREQ("7", msg(self, 4, "onCPU.dumpCount"));
	/* OFF_CPU: switchCount and duration (ns) */
	EXPECT_STREQ("2", msg(self, 6, "offCPU.switchCount"));
	EXPECT_STREQ("\"3000000\"", msg(self, 6, "offCPU.duration"));
	EXPECT_STREQ("1", msg(self, 7, "offCPU.switchCount"));
	EXPECT_STREQ("\"500\"", msg(self, 7, "offCPU.duration"));

	/* stack ids: unique across the whole upload, both types */
	r = fake_oap_get(&self->fake, "last.collectProfilingData.messages");
	n = numbers_of(r, "stackId", ids, 64);
	EXPECT_EQ(11, n);	/* 2 + 1 + 1 + 1, 1 + 2, 2 + 1 */
	for (i = 0; i < n; i++) {
		EXPECT_GT(ids[i], 0);
		for (j = 0; j < i; j++)
			EXPECT_NE(ids[i], ids[j]);
	}
	EXPECT_EQ(0, count_of(r, "zero_leaf"));

	/* what OAP would show: root first, both processes in the task's graph */
	r = fake_oap_cmd(&self->fake, "{\"cmd\": \"flame\", \"task_id\": \"t-on\"}");
	EXPECT_NE(NULL, strstr(r, "\"main;u_mid;u_leaf;k_entry;k_leaf\": 6"));
	EXPECT_NE(NULL, strstr(r, "\"main;u2\": 2"));
	EXPECT_NE(NULL, strstr(r, "\"kthread;kthread_leaf\": 1"));
	EXPECT_NE(NULL, strstr(r, "\"[MISSING]\": 6"));
	EXPECT_NE(NULL, strstr(r, "\"main;u_leaf\": 7"));
	EXPECT_EQ(0, count_of(r, "zero_leaf"));
	EXPECT_EQ(5, flame_paths(r));
	r = fake_oap_cmd(&self->fake, "{\"cmd\": \"flame\", \"task_id\": \"t-off\", \"by\": "
			 "\"DURATION\"}");
	EXPECT_NE(NULL, strstr(r, "\"main;nanosleep;do_nanosleep;schedule\": 3000000"));
	EXPECT_NE(NULL, strstr(r, "\"main;read\": 500"));
	r = fake_oap_cmd(&self->fake, "{\"cmd\": \"flame\", \"task_id\": \"t-off\"}");
	EXPECT_NE(NULL, strstr(r, "\"main;nanosleep;do_nanosleep;schedule\": 2"));
	EXPECT_NE(NULL, strstr(r, "\"main;read\": 1"));
}

/* Two processes' batches taken at the same time: no record of one overwrites the other's. */
TEST_F(upload, two_processes_one_upload)
{
	struct agent_batch *a, *b;
	long long times[8];
	const char *r;

	a = batch(self, "t-on", "p1", AGENT_TARGET_ON_CPU, 1000, 7000);
	b = batch(self, "t-on", "p2", AGENT_TARGET_ON_CPU, 1000, 7000);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, add_stack(a, "|same,main", 3, 0));
	ASSERT_EQ(0, add_stack(b, "|same,main", 4, 0));
	ASSERT_EQ(0, upload_batches(self->c, self->b, self->nr));
	ASSERT_TRUE(fake_oap_wait(&self->fake, "collectProfilingData", 1));
	EXPECT_STREQ("[]", fake_oap_get(&self->fake, "violations"));
	EXPECT_STREQ("\"p1\"", msg(self, 0, "task.processId"));
	EXPECT_STREQ("\"p2\"", msg(self, 1, "task.processId"));
	r = fake_oap_get(&self->fake, "records");
	EXPECT_EQ(2, numbers_of(r, "upload_time", times, 8));
	EXPECT_EQ(1, count_of(r, "\"process_id\": \"p1\""));
	EXPECT_EQ(1, count_of(r, "\"process_id\": \"p2\""));
	r = fake_oap_cmd(&self->fake, "{\"cmd\": \"flame\", \"task_id\": \"t-on\"}");
	EXPECT_NE(NULL, strstr(r, "\"main;same\": 7"));
}

/* Batches with nothing to send: no message, and the call still succeeds. */
TEST_F(upload, nothing_to_send)
{
	struct agent_batch *a = batch(self, "t-on", "p1", AGENT_TARGET_ON_CPU, 1000, 8000);
	struct agent_batch *b = batch(self, "t-on", "p2", AGENT_TARGET_ON_CPU, 1000, 8000);

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, add_stack(a, "|zero,main", 0, 0));
	ASSERT_EQ(0, add_stack(b, "|one,main", 1, 0));
	ASSERT_EQ(0, upload_batches(self->c, self->b, self->nr));
	ASSERT_TRUE(fake_oap_wait(&self->fake, "collectProfilingData", 1));
	/* p1 sent nothing, so p2's message is the first and carries p2's task */
	EXPECT_STREQ("\"p2\"", msg(self, 0, "task.processId"));
	EXPECT_NE(NULL, strstr(msg(self, 1, ""), "\"ok\": false"));
	EXPECT_STREQ("[]", fake_oap_get(&self->fake, "violations"));
}

/* A stream that breaks is an error (the uplink spools it); sent again, nothing is lost. */
TEST_F(upload, broken_stream_fails_then_resends)
{
	struct agent_batch *a = on_cpu_p1(self);
	const char *r;
	int err;

	ASSERT_NE(NULL, a);
	fake_oap_cmd(&self->fake, "{\"cmd\": \"fault\", \"method\": \"collectProfilingData\", "
		     "\"code\": \"UNAVAILABLE\", \"after_messages\": 2}");
	err = upload_batches(self->c, self->b, self->nr);
	EXPECT_NE(0, err);
	ASSERT_TRUE(fake_oap_wait(&self->fake, "collectProfilingData", 1));
	EXPECT_TRUE(WAIT_UNTIL(2000, oap_retry_in_ms(self->c) == 0));
	ASSERT_EQ(0, upload_batches(self->c, self->b, self->nr));
	ASSERT_TRUE(fake_oap_wait(&self->fake, "collectProfilingData", 2));
	EXPECT_STREQ("[]", fake_oap_get(&self->fake, "violations"));
	r = fake_oap_cmd(&self->fake, "{\"cmd\": \"flame\", \"task_id\": \"t-on\"}");
	EXPECT_NE(NULL, strstr(r, "\"main;u_mid;u_leaf;k_entry;k_leaf\": 5"));
	EXPECT_NE(NULL, strstr(r, "\"[MISSING]\": 6"));
	EXPECT_EQ(4, flame_paths(r));
}

/* OAP unreachable: the upload says so at once (-ECONNREFUSED), then backs off (-EAGAIN). */
TEST_F(upload, unreachable)
{
	ASSERT_NE(NULL, on_cpu_p1(self));
	fake_oap_cmd(&self->fake, "{\"cmd\": \"down\"}");
	EXPECT_EQ(-ECONNREFUSED, upload_batches(self->c, self->b, self->nr));
	EXPECT_EQ(-EAGAIN, upload_batches(self->c, self->b, self->nr));
}

TEST_HARNESS_MAIN
