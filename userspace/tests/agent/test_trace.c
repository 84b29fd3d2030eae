// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of trace-profiling tasks: parsing ProfileTaskQuery commands
 * with the language agents' limits, and one instance's queue (duplicates,
 * overlaps, lastCommandTime, when tasks start, stop and are reported).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "agent_trace.h"

#define T0	1700000000000LL		/* "now" in epoch ms */
#define MIN	60000LL

static const struct agent_kv good[] = {
	{ "SerialNumber", "sn-1" },
	{ "TaskId", "task-1" },
	{ "EndpointName", "GET:/slow" },
	{ "Duration", "5" },
	{ "MinDurationThreshold", "100" },
	{ "DumpPeriod", "10" },
	{ "MaxSamplingCount", "5" },
	{ "StartTime", "1700000060000" },	/* T0 + 1 min */
	{ "CreateTime", "1699999999000" },
};
#define NR_GOOD (sizeof(good) / sizeof(good[0]))

static char why[256];

/* The good args with @key's value @value (NULL: left out), into @a; returns the count. */
static size_t with(struct agent_kv *a, const char *key, const char *value)
{
	size_t i, n = 0;

	for (i = 0; i < NR_GOOD; i++) {
		a[n] = good[i];
		if (key && !strcmp(key, good[i].key)) {
			if (!value)
				continue;
			a[n].value = value;
		}
		n++;
	}
	return n;
}

static int parse_with(const char *key, const char *value, struct agent_trace_task *t,
		      int64_t *create)
{
	struct agent_kv a[NR_GOOD];
	size_t n = with(a, key, value);

	strcpy(why, "untouched");
	return agent_trace_parse(a, n, t, create, why, sizeof(why));
}

TEST(parse_good)
{
	struct agent_trace_task t;
	int64_t create;

	ASSERT_EQ(0, parse_with(NULL, NULL, &t, &create));
	EXPECT_STREQ("task-1", t.id);
	EXPECT_STREQ("sn-1", t.serial);
	EXPECT_STREQ("GET:/slow", t.endpoint);
	EXPECT_EQ(T0 + MIN, t.start_ms);
	EXPECT_EQ(T0 + MIN + 5 * MIN, t.end_ms);
	EXPECT_EQ(5, t.duration_min);
	EXPECT_EQ(100, t.min_duration_ms);
	EXPECT_EQ(10, t.dump_period_ms);
	EXPECT_EQ(5, t.max_sampling);
	EXPECT_EQ(1699999999000LL, create);
	EXPECT_EQ(create, t.create_ms);
	agent_trace_task_free(&t);
}

TEST(parse_every_key_missing)
{
	static const char *const required[] = {
		"TaskId", "EndpointName", "Duration", "MinDurationThreshold", "DumpPeriod",
		"MaxSamplingCount", "StartTime", "CreateTime",
	};
	struct agent_trace_task t;
	char want[64];
	int64_t create;
	size_t i;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		EXPECT_EQ(-EINVAL, parse_with(required[i], NULL, &t, &create));
		snprintf(want, sizeof(want), "no %s", required[i]);
		EXPECT_STREQ(want, why);
		EXPECT_EQ(NULL, t.id);
		/* lastCommandTime still moves when CreateTime parsed */
		EXPECT_EQ(strcmp(required[i], "CreateTime") ? 1699999999000LL : 0, create);
	}
	/* SerialNumber is optional */
	ASSERT_EQ(0, parse_with("SerialNumber", NULL, &t, &create));
	EXPECT_STREQ("", t.serial);
	agent_trace_task_free(&t);
}

TEST(parse_limits)
{
	static const struct {
		const char *key, *value, *why;
	} cases[] = {
		{ "Duration", "0", "Duration '0' is not 1..15 minutes" },
		{ "Duration", "16", "Duration '16' is not 1..15 minutes" },
		{ "Duration", "-1", "Duration '-1' is not a number" },
		{ "DumpPeriod", "9", "DumpPeriod '9' is below 10 ms" },
		{ "MaxSamplingCount", "0", "MaxSamplingCount '0' is not 1..9" },
		{ "MaxSamplingCount", "10", "MaxSamplingCount '10' is not 1..9" },
		{ "MinDurationThreshold", "ten", "MinDurationThreshold 'ten' is not a number" },
		{ "StartTime", "99999999999999999999", "StartTime '99999999999999999999' is out of range" },
		{ "StartTime", " 1", "StartTime ' 1' is not a number" },
		{ "EndpointName", "", "EndpointName is empty" },
		{ "TaskId", "", "TaskId is empty" },
		{ "CreateTime", "null", "CreateTime 'null' is not a number" },
	};
	struct agent_trace_task t;
	int64_t create;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EXPECT_EQ(-EINVAL, parse_with(cases[i].key, cases[i].value, &t, &create))
			TH_LOG("%s=%s", cases[i].key, cases[i].value);
		EXPECT_STREQ(cases[i].why, why);
	}
	/* the edges that pass */
	ASSERT_EQ(0, parse_with("Duration", "15", &t, &create));
	agent_trace_task_free(&t);
	ASSERT_EQ(0, parse_with("MaxSamplingCount", "9", &t, &create));
	agent_trace_task_free(&t);
	ASSERT_EQ(0, parse_with("MinDurationThreshold", "0", &t, &create));
	agent_trace_task_free(&t);
}

/* ---- the queue */

struct calls {
	int started, stopped, finished, fail_start;
	char last[64];
};

static int on_start(void *ctx, struct agent_trace_entry *e)
{
	struct calls *c = ctx;

	if (c->fail_start)
		return -EIO;
	c->started++;
	snprintf(c->last, sizeof(c->last), "start %s", e->task.id);
	e->run = c;
	return 0;
}

static void on_stop(void *ctx, struct agent_trace_entry *e)
{
	struct calls *c = ctx;

	c->stopped++;
	snprintf(c->last, sizeof(c->last), "stop %s%s", e->task.id, e->run == c ? "" : " (no run)");
}

static void on_finished(void *ctx, struct agent_trace_entry *e)
{
	struct calls *c = ctx;

	c->finished++;
	snprintf(c->last, sizeof(c->last), "finished %s", e->task.id);
}

static const struct agent_trace_ops ops = {
	.start = on_start, .stop = on_stop, .finished = on_finished,
};

/* Offer the good task with @id, @serial, start @start_ms, @minutes long. */
static int offer(struct agent_trace_queue *q, const char *id, const char *serial,
		 int64_t start_ms, int minutes, int64_t create_ms, int64_t now)
{
	char start[32], dur[16], create[32];
	struct agent_kv a[NR_GOOD];
	size_t i;

	snprintf(start, sizeof(start), "%lld", (long long)start_ms);
	snprintf(dur, sizeof(dur), "%d", minutes);
	snprintf(create, sizeof(create), "%lld", (long long)create_ms);
	memcpy(a, good, sizeof(a));
	for (i = 0; i < NR_GOOD; i++) {
		if (!strcmp(a[i].key, "TaskId"))
			a[i].value = id;
		else if (!strcmp(a[i].key, "SerialNumber"))
			a[i].value = serial;
		else if (!strcmp(a[i].key, "StartTime"))
			a[i].value = start;
		else if (!strcmp(a[i].key, "Duration"))
			a[i].value = dur;
		else if (!strcmp(a[i].key, "CreateTime"))
			a[i].value = create;
	}
	strcpy(why, "untouched");
	return agent_trace_offer(q, a, NR_GOOD, now, why, sizeof(why));
}

TEST(queue_starts_at_start_time_and_stops_at_its_end)
{
	struct agent_trace_queue *q = agent_trace_queue_new();
	struct agent_trace_counts n;
	struct calls c = { 0 };

	ASSERT_NE(NULL, q);
	EXPECT_EQ(INT64_MAX, agent_trace_next(q));
	ASSERT_EQ(AGENT_TRACE_QUEUED, offer(q, "a", "s-a", T0 + MIN, 2, T0 - 5, T0));
	EXPECT_EQ(T0 - 5, agent_trace_last_command(q));
	EXPECT_EQ(T0 + MIN, agent_trace_next(q));
	/* not before its start (Rover starts future tasks at once: the agents do not) */
	EXPECT_EQ(0, agent_trace_tick(q, T0 + MIN - 1, &ops, &c));
	EXPECT_EQ(0, c.started);
	EXPECT_EQ(1, agent_trace_tick(q, T0 + MIN, &ops, &c));
	EXPECT_STREQ("start a", c.last);
	EXPECT_EQ(T0 + 3 * MIN, agent_trace_next(q));
	EXPECT_EQ(1, agent_trace_tick(q, T0 + 3 * MIN - 1, &ops, &c));
	EXPECT_EQ(0, agent_trace_tick(q, T0 + 3 * MIN, &ops, &c));
	EXPECT_EQ(1, c.started);
	EXPECT_EQ(1, c.stopped);
	EXPECT_EQ(1, c.finished);
	EXPECT_STREQ("finished a", c.last);
	EXPECT_EQ(INT64_MAX, agent_trace_next(q));
	/* done and forgotten, but a re-delivery is still a duplicate */
	EXPECT_EQ(AGENT_TRACE_DUPLICATE, offer(q, "a", "s-a2", T0 + MIN, 2, T0 - 5, T0 + 3 * MIN));
	agent_trace_counts(q, &n);
	EXPECT_EQ(1, n.queued);
	EXPECT_EQ(1, n.started);
	EXPECT_EQ(1, n.finished);
	EXPECT_EQ(1, n.duplicates);
	EXPECT_EQ(0, n.waiting);
	EXPECT_EQ(0, n.running);
	agent_trace_queue_free(q);
}

TEST(queue_past_start_runs_at_once_until_its_original_end)
{
	struct agent_trace_queue *q = agent_trace_queue_new();
	struct calls c = { 0 };

	ASSERT_EQ(AGENT_TRACE_QUEUED, offer(q, "a", "s-a", T0 - MIN, 2, T0 - MIN, T0));
	EXPECT_EQ(1, agent_trace_tick(q, T0, &ops, &c));
	EXPECT_EQ(T0 + MIN, agent_trace_next(q));
	EXPECT_EQ(0, agent_trace_tick(q, T0 + MIN, &ops, &c));
	EXPECT_EQ(1, c.finished);
	agent_trace_queue_free(q);
}

TEST(queue_duplicates_by_serial_or_id)
{
	struct agent_trace_queue *q = agent_trace_queue_new();
	struct agent_trace_counts n;

	ASSERT_EQ(AGENT_TRACE_QUEUED, offer(q, "a", "s-1", T0 + MIN, 1, T0, T0));
	/* OAP hands the same task out at every poll, with a new serial */
	EXPECT_EQ(AGENT_TRACE_DUPLICATE, offer(q, "a", "s-2", T0 + MIN, 1, T0, T0));
	/* a serial seen before, whatever the id */
	EXPECT_EQ(AGENT_TRACE_DUPLICATE, offer(q, "b", "s-1", T0 + 10 * MIN, 1, T0, T0));
	EXPECT_STREQ("untouched", why);
	agent_trace_counts(q, &n);
	EXPECT_EQ(2, n.duplicates);
	EXPECT_EQ(1, n.waiting);
	agent_trace_queue_free(q);
}

TEST(queue_overlap_rejected_once)
{
	struct agent_trace_queue *q = agent_trace_queue_new();
	struct agent_trace_counts n;

	ASSERT_EQ(AGENT_TRACE_QUEUED, offer(q, "a", "s-a", T0 + 10 * MIN, 5, T0, T0));
	/* b ends at T0 + 12 min, inside a's window [T0 + 10, T0 + 15] */
	EXPECT_EQ(-EINVAL, offer(q, "b", "s-b", T0 + 7 * MIN, 5, T0 + 1, T0));
	EXPECT_STREQ("task b (GET:/slow) ends inside the window of task a (GET:/slow)", why);
	EXPECT_EQ(T0 + 1, agent_trace_last_command(q));
	/* the next poll brings b again: refused without a second line */
	EXPECT_EQ(AGENT_TRACE_DUPLICATE, offer(q, "b", "s-b2", T0 + 7 * MIN, 5, T0 + 1, T0));
	/* ending before a starts is fine, and so is starting after a ends */
	EXPECT_EQ(AGENT_TRACE_QUEUED, offer(q, "c", "s-c", T0 + 2 * MIN, 5, T0 + 2, T0));
	EXPECT_EQ(AGENT_TRACE_QUEUED, offer(q, "d", "s-d", T0 + 15 * MIN + 1, 1, T0 + 3, T0));
	/* queued by start time */
	EXPECT_EQ(T0 + 2 * MIN, agent_trace_next(q));
	agent_trace_counts(q, &n);
	EXPECT_EQ(1, n.rejected);
	EXPECT_EQ(3, n.waiting);
	agent_trace_queue_free(q);
}

TEST(queue_expired_and_malformed)
{
	struct agent_trace_queue *q = agent_trace_queue_new();
	struct agent_trace_counts n;
	struct agent_kv a[NR_GOOD];
	size_t nr = with(a, "DumpPeriod", "abc");

	/* ended 1 ms ago: never started */
	EXPECT_EQ(-EINVAL, offer(q, "old", "s-old", T0 - 5 * MIN - 1, 5, T0 - 6 * MIN, T0));
	EXPECT_STREQ("task old ended at 1699999999999, before it could start", why);
	/* malformed: rejected, lastCommandTime still moves */
	EXPECT_EQ(-EINVAL, agent_trace_offer(q, a, nr, T0, why, sizeof(why)));
	EXPECT_STREQ("DumpPeriod 'abc' is not a number", why);
	EXPECT_EQ(1699999999000LL, agent_trace_last_command(q));
	EXPECT_EQ(AGENT_TRACE_DUPLICATE, agent_trace_offer(q, a, nr, T0, why, sizeof(why)));
	agent_trace_counts(q, &n);
	EXPECT_EQ(1, n.expired);
	EXPECT_EQ(2, n.rejected);
	EXPECT_EQ(0, n.waiting);
	agent_trace_queue_free(q);
}

TEST(queue_failed_start_is_not_reported_finished)
{
	struct agent_trace_queue *q = agent_trace_queue_new();
	struct agent_trace_counts n;
	struct calls c = { .fail_start = 1 };

	ASSERT_EQ(AGENT_TRACE_QUEUED, offer(q, "a", "s-a", T0, 1, T0, T0));
	EXPECT_EQ(0, agent_trace_tick(q, T0, &ops, &c));
	EXPECT_EQ(0, agent_trace_tick(q, T0 + MIN, &ops, &c));
	EXPECT_EQ(0, c.stopped);
	EXPECT_EQ(0, c.finished);
	agent_trace_counts(q, &n);
	EXPECT_EQ(1, n.failed);
	EXPECT_EQ(0, n.waiting);
	agent_trace_queue_free(q);
}

TEST(queue_stop_all_on_exit)
{
	struct agent_trace_queue *q = agent_trace_queue_new();
	struct calls c = { 0 };

	ASSERT_EQ(AGENT_TRACE_QUEUED, offer(q, "a", "s-a", T0, 1, T0, T0));
	ASSERT_EQ(AGENT_TRACE_QUEUED, offer(q, "b", "s-b", T0 + 5 * MIN, 1, T0, T0));
	EXPECT_EQ(1, agent_trace_tick(q, T0, &ops, &c));
	agent_trace_stop_all(q, &ops, &c);
	EXPECT_EQ(1, c.stopped);
	EXPECT_STREQ("stop a", c.last);
	EXPECT_EQ(0, c.finished);
	agent_trace_queue_free(q);	/* b, never started: freed without a call */
	EXPECT_EQ(1, c.started);
}

TEST_HARNESS_MAIN
