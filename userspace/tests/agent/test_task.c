// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of profiling tasks: parsing EBPFProfilingTaskQuery commands,
 * and the schedule (when tasks start and stop, duplicates, expiry,
 * latestUpdateTime, resuming after a restart).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "agent_task.h"
#include "agent_test.h"

#define T0	1700000000000LL		/* "now" in epoch ms */
#define HOUR	(3600 * 1000LL)

static const struct agent_kv good[] = {
	{ "SerialNumber", "sn-1" },
	{ "TaskId", "task-1" },
	{ "ProcessId", "p1" },
	{ "TaskUpdateTime", "1700000000123" },
	{ "TriggerType", "FIXED_TIME" },
	{ "TargetType", "OFF_CPU" },
	{ "TaskStartTime", "1700000005000" },
	{ "ExtensionConfigJSON", "null" },
	{ "FixedTriggerDuration", "60" },
};
#define NR_GOOD (sizeof(good) / sizeof(good[0]))

static char why[256];

/* agent_task_parse() of the good args with @key's value @value (NULL: @key left out). */
static int parse_with(const char *key, const char *value, struct agent_task *t, int64_t *upd)
{
	struct agent_kv a[NR_GOOD];
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
	strcpy(why, "untouched");
	return agent_task_parse(a, n, t, upd, why, sizeof(why));
}

static bool zeroed(const struct agent_task *t)
{
	static const struct agent_task zero;

	return !memcmp(t, &zero, sizeof(zero));
}

TEST(a_good_task)
{
	struct agent_task t;
	int64_t upd = -1;

	ASSERT_EQ(0, parse_with(NULL, NULL, &t, &upd));
	EXPECT_STREQ("task-1", t.id);
	EXPECT_STREQ("sn-1", t.serial);
	ASSERT_EQ(1, t.nr_process_ids);
	EXPECT_STREQ("p1", t.process_ids[0]);
	EXPECT_EQ(AGENT_TARGET_OFF_CPU, t.target);
	EXPECT_EQ(1700000000123LL, t.update_ms);
	EXPECT_EQ(1700000000123LL, upd);
	EXPECT_EQ(1700000005000LL, t.start_ms);
	EXPECT_EQ(60000, t.duration_ms);
	EXPECT_EQ(NULL, t.ext_json);	/* the literal null */
	agent_task_free(&t);
	EXPECT_TRUE(zeroed(&t));

	/* no SerialNumber: ""; a JSON extension is kept as is; update_ms may be NULL */
	ASSERT_EQ(0, parse_with("SerialNumber", NULL, &t, NULL));
	EXPECT_STREQ("", t.serial);
	agent_task_free(&t);
	ASSERT_EQ(0, parse_with("ExtensionConfigJSON", "{\"a\": null}", &t, NULL));
	EXPECT_STREQ("{\"a\": null}", t.ext_json);
	agent_task_free(&t);
	ASSERT_EQ(0, parse_with("ExtensionConfigJSON", NULL, &t, NULL));
	EXPECT_EQ(NULL, t.ext_json);
	agent_task_free(&t);
}

TEST(each_required_key_missing_is_named)
{
	static const char *const required[] = {
		"TaskId", "ProcessId", "TaskUpdateTime", "TaskStartTime", "TriggerType",
		"TargetType", "FixedTriggerDuration",
	};
	struct agent_task t;
	size_t i;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		int64_t upd = -1;

		memset(&t, 0x5a, sizeof(t));
		EXPECT_EQ(-EINVAL, parse_with(required[i], NULL, &t, &upd));
		EXPECT_TRUE(strstr(why, required[i]) != NULL) {
			TH_LOG("without %s: '%s'", required[i], why);
		}
		EXPECT_TRUE(zeroed(&t));
		/* the update time still advances latestUpdateTime, when there is one */
		EXPECT_EQ(strcmp(required[i], "TaskUpdateTime") ? 1700000000123LL : 0, upd);
	}
	EXPECT_EQ(-EINVAL, parse_with("TaskId", "", &t, NULL));
	EXPECT_STREQ("TaskId is empty", why);
}

#define FORTY "0123456789012345678901234567890123456789"

TEST(malformed_numbers)
{
	static const char *const bad[] = {
		"12a", "", " 5", "5 ", "-1", "+5", "0x10", "1.5", "99999999999999999999",
	};
	struct agent_task t;
	char want[64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t upd = -1;

		EXPECT_EQ(-EINVAL, parse_with("TaskStartTime", bad[i], &t, &upd));
		snprintf(want, sizeof(want), "TaskStartTime '%s' is ", bad[i]);
		EXPECT_TRUE(!strncmp(why, want, strlen(want))) {
			TH_LOG("'%s': '%s'", bad[i], why);
		}
		EXPECT_EQ(1700000000123LL, upd);

		EXPECT_EQ(-EINVAL, parse_with("TaskUpdateTime", bad[i], &t, &upd));
		EXPECT_EQ(0, upd);
		EXPECT_EQ(-EINVAL, parse_with("FixedTriggerDuration", bad[i], &t, &upd));
		EXPECT_TRUE(strstr(why, "FixedTriggerDuration") != NULL);
	}
	parse_with("TaskStartTime", "12a", &t, NULL);
	EXPECT_STREQ("TaskStartTime '12a' is not a number", why);
	parse_with("TaskStartTime", "99999999999999999999", &t, NULL);
	EXPECT_STREQ("TaskStartTime '99999999999999999999' is out of range", why);

	/* the largest int64 is a number; a long bad value is cut */
	EXPECT_EQ(0, parse_with("TaskStartTime", "9223372036854775807", &t, NULL));
	EXPECT_EQ(INT64_MAX, t.start_ms);
	agent_task_free(&t);
	EXPECT_EQ(-EINVAL, parse_with("TaskStartTime", FORTY "x-this is cut", &t, NULL));
	EXPECT_STREQ("TaskStartTime '" FORTY "...' is not a number", why);
}

TEST(duration_range)
{
	struct agent_task t;

	EXPECT_EQ(-EINVAL, parse_with("FixedTriggerDuration", "0", &t, NULL));
	EXPECT_STREQ("FixedTriggerDuration '0' is not 1..86400 seconds", why);
	EXPECT_EQ(-EINVAL, parse_with("FixedTriggerDuration", "86401", &t, NULL));
	EXPECT_TRUE(zeroed(&t));
	ASSERT_EQ(0, parse_with("FixedTriggerDuration", "1", &t, NULL));
	EXPECT_EQ(1000, t.duration_ms);
	agent_task_free(&t);
	ASSERT_EQ(0, parse_with("FixedTriggerDuration", "86400", &t, NULL));
	EXPECT_EQ(86400000, t.duration_ms);
	agent_task_free(&t);
}

TEST(process_id_lists)
{
	struct agent_task t;

	ASSERT_EQ(0, parse_with("ProcessId", "a, b,,c", &t, NULL));
	ASSERT_EQ(3, t.nr_process_ids);
	EXPECT_STREQ("a", t.process_ids[0]);
	EXPECT_STREQ("b", t.process_ids[1]);
	EXPECT_STREQ("c", t.process_ids[2]);
	agent_task_free(&t);
	ASSERT_EQ(0, parse_with("ProcessId", " x y ,", &t, NULL));
	ASSERT_EQ(1, t.nr_process_ids);
	EXPECT_STREQ("x y", t.process_ids[0]);
	agent_task_free(&t);
	EXPECT_EQ(-EINVAL, parse_with("ProcessId", " , ,", &t, NULL));
	EXPECT_STREQ("ProcessId ' , ,' names no process", why);
	EXPECT_TRUE(zeroed(&t));
	EXPECT_EQ(-EINVAL, parse_with("ProcessId", "", &t, NULL));
}

TEST(trigger_and_target_types)
{
	static const struct {
		const char *name;
		enum agent_task_target t;
	} targets[] = {
		{ "ON_CPU", AGENT_TARGET_ON_CPU }, { "OFF_CPU", AGENT_TARGET_OFF_CPU },
		{ "NETWORK", AGENT_TARGET_NETWORK },
	};
	struct agent_task t;
	size_t i;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, parse_with("TargetType", targets[i].name, &t, NULL));
		EXPECT_EQ(targets[i].t, t.target);
		EXPECT_STREQ(targets[i].name, agent_target_name(t.target));
		agent_task_free(&t);
	}
	EXPECT_STREQ("?", agent_target_name(0));
	EXPECT_STREQ("?", agent_target_name(4));
	EXPECT_EQ(-EINVAL, parse_with("TargetType", "on_cpu", &t, NULL));
	EXPECT_STREQ("TargetType 'on_cpu' is not ON_CPU, OFF_CPU or NETWORK", why);
	EXPECT_EQ(-EINVAL, parse_with("TriggerType", "CONTINUOUS", &t, NULL));
	EXPECT_STREQ("TriggerType 'CONTINUOUS' is not FIXED_TIME", why);
	EXPECT_EQ(-EINVAL, parse_with("TriggerType", "", &t, NULL));
	EXPECT_TRUE(zeroed(&t));
}

TEST(unknown_keys_ignored_first_of_two_counts)
{
	struct agent_kv a[NR_GOOD + 3];
	struct agent_task t;

	memcpy(a + 1, good, sizeof(good));
	a[0] = (struct agent_kv){ "Mystery", "42" };
	a[NR_GOOD + 1] = (struct agent_kv){ "TaskId", "second" };
	a[NR_GOOD + 2] = (struct agent_kv){ "taskid", "lower" };
	ASSERT_EQ(0, agent_task_parse(a, NR_GOOD + 3, &t, NULL, why, sizeof(why)));
	EXPECT_STREQ("task-1", t.id);
	agent_task_free(&t);

	/* a bad value given first wins over a good one given later */
	a[NR_GOOD + 1] = (struct agent_kv){ "FixedTriggerDuration", "60" };
	a[0] = (struct agent_kv){ "FixedTriggerDuration", "sixty" };
	EXPECT_EQ(-EINVAL, agent_task_parse(a, NR_GOOD + 2, &t, NULL, why, sizeof(why)));
	EXPECT_STREQ("FixedTriggerDuration 'sixty' is not a number", why);
}

/* ---- the schedule ----------------------------------------------------- */

struct calls {
	int starts, stops;
	int fail;			/* start() returns this when non-zero */
	char started[64], stopped[64];	/* the last task ids */
	int64_t actual, stop_ms;	/* of the last start */
	int run;			/* what start() hands the schedule as e->run */
	int stopped_running;		/* stop() saw state RUNNING and our run */
};

static int on_start(void *ctx, struct agent_sched_entry *e)
{
	struct calls *c = ctx;

	c->starts++;
	snprintf(c->started, sizeof(c->started), "%s", e->task.id);
	c->actual = e->actual_start_ms;
	c->stop_ms = e->stop_ms;
	if (c->fail)
		return c->fail;
	e->run = &c->run;
	return 0;
}

static void on_stop(void *ctx, struct agent_sched_entry *e)
{
	struct calls *c = ctx;

	c->stops++;
	snprintf(c->stopped, sizeof(c->stopped), "%s", e->task.id);
	c->stopped_running += e->state == AGENT_TASK_RUNNING && e->run == &c->run;
}

static const struct agent_sched_ops ops = { .start = on_start, .stop = on_stop };

/* A task through the parser; the caller offers it. */
static struct agent_task mk(const char *id, int64_t start_ms, int duration_s, int64_t update_ms)
{
	char start[32], dur[32], upd[32];
	struct agent_kv a[] = {
		{ "TaskId", id }, { "ProcessId", "p1" }, { "TaskUpdateTime", upd },
		{ "TaskStartTime", start }, { "TriggerType", "FIXED_TIME" },
		{ "TargetType", "ON_CPU" }, { "FixedTriggerDuration", dur },
	};
	struct agent_task t;

	snprintf(start, sizeof(start), "%" PRId64, start_ms);
	snprintf(dur, sizeof(dur), "%d", duration_s);
	snprintf(upd, sizeof(upd), "%" PRId64, update_ms);
	if (agent_task_parse(a, sizeof(a) / sizeof(a[0]), &t, NULL, NULL, 0))
		abort();
	return t;
}

static enum agent_offer offer(struct agent_sched *s, const char *id, int64_t start_ms,
			      int duration_s, int64_t now_ms)
{
	struct agent_task t = mk(id, start_ms, duration_s, 1);
	enum agent_offer r = agent_sched_offer(s, &t, now_ms);

	if (!zeroed(&t))
		abort();	/* taken in every case */
	return r;
}

static int state_fn(void *ctx, struct agent_sched_entry *e)
{
	struct agent_sched_entry **out = ctx;

	*out = e;
	return 1;
}

/* The first entry not forgotten, NULL when none. */
static struct agent_sched_entry *first(struct agent_sched *s)
{
	struct agent_sched_entry *e = NULL;

	agent_sched_each(s, state_fn, &e);
	return e;
}

TEST(a_future_task_starts_at_its_start_not_before)
{
	struct agent_sched *s;
	struct calls c = { 0 };

	ASSERT_EQ(0, agent_sched_new(&s));
	EXPECT_EQ(-1, agent_sched_next_ms(s, T0));
	EXPECT_EQ(AGENT_OFFER_NEW, offer(s, "t", T0 + 5000, 10, T0));
	EXPECT_EQ(AGENT_TASK_WAITING, first(s)->state);
	EXPECT_EQ(0, first(s)->actual_start_ms);
	EXPECT_EQ(5000, agent_sched_next_ms(s, T0));
	agent_sched_tick(s, T0, &ops, &c);
	agent_sched_tick(s, T0 + 4999, &ops, &c);
	EXPECT_EQ(0, c.starts);
	EXPECT_EQ(1, agent_sched_next_ms(s, T0 + 4999));

	agent_sched_tick(s, T0 + 5000, &ops, &c);
	EXPECT_EQ(1, c.starts);
	EXPECT_EQ(T0 + 5000, c.actual);
	EXPECT_EQ(T0 + 15000, c.stop_ms);
	EXPECT_EQ(AGENT_TASK_RUNNING, first(s)->state);
	EXPECT_EQ(&c.run, first(s)->run);
	EXPECT_EQ(10000, agent_sched_next_ms(s, T0 + 5000));

	agent_sched_tick(s, T0 + 14999, &ops, &c);
	EXPECT_EQ(0, c.stops);
	agent_sched_tick(s, T0 + 15000, &ops, &c);
	EXPECT_EQ(1, c.stops);
	EXPECT_EQ(1, c.stopped_running);
	EXPECT_STREQ("t", c.stopped);
	EXPECT_EQ(AGENT_TASK_DONE, first(s)->state);
	EXPECT_EQ(-1, agent_sched_next_ms(s, T0 + 15000));
	agent_sched_tick(s, T0 + 99999, &ops, &c);
	EXPECT_EQ(1, c.starts);
	EXPECT_EQ(1, c.stops);
	agent_sched_free(s);
}

TEST(a_past_start_starts_at_once_and_runs_its_duration_from_then)
{
	struct agent_sched *s;
	struct calls c = { 0 };

	ASSERT_EQ(0, agent_sched_new(&s));
	EXPECT_EQ(AGENT_OFFER_NEW, offer(s, "t", T0 - 3000, 10, T0));
	EXPECT_EQ(0, agent_sched_next_ms(s, T0));
	agent_sched_tick(s, T0 + 7, &ops, &c);
	EXPECT_EQ(1, c.starts);
	EXPECT_EQ(T0 + 7, c.actual);	/* now, not TaskStartTime */
	EXPECT_EQ(T0 + 10007, first(s)->stop_ms);
	agent_sched_tick(s, T0 + 10006, &ops, &c);
	EXPECT_EQ(0, c.stops);
	agent_sched_tick(s, T0 + 10007, &ops, &c);
	EXPECT_EQ(1, c.stops);
	agent_sched_free(s);
}

TEST(a_redelivered_task_is_never_restarted)
{
	struct agent_sched_stats st;
	struct agent_sched *s;
	struct calls c = { 0 };

	ASSERT_EQ(0, agent_sched_new(&s));
	EXPECT_EQ(AGENT_OFFER_NEW, offer(s, "t", T0 + 1000, 10, T0));
	EXPECT_EQ(AGENT_OFFER_DUPLICATE, offer(s, "t", T0 + 1000, 10, T0));	/* waiting */
	agent_sched_tick(s, T0 + 1000, &ops, &c);
	/* running */
	EXPECT_EQ(AGENT_OFFER_DUPLICATE, offer(s, "t", T0 + 1000, 10, T0 + 1000));
	agent_sched_tick(s, T0 + 11000, &ops, &c);
	EXPECT_EQ(AGENT_OFFER_DUPLICATE, offer(s, "t", T0 + 1000, 10, T0 + 11000));	/* done */
	/* forgotten more than an hour after it is done: the id only */
	agent_sched_tick(s, T0 + 11000 + HOUR, &ops, &c);
	EXPECT_NE(NULL, first(s));
	agent_sched_tick(s, T0 + 11000 + HOUR + 1, &ops, &c);
	EXPECT_EQ(NULL, first(s));
	/* even with a start in the future: still the same task */
	EXPECT_EQ(AGENT_OFFER_DUPLICATE, offer(s, "t", T0 + 3 * HOUR, 10, T0 + 2 * HOUR));
	agent_sched_tick(s, T0 + 4 * HOUR, &ops, &c);
	EXPECT_EQ(1, c.starts);
	EXPECT_EQ(1, c.stops);
	agent_sched_stats(s, &st);
	EXPECT_EQ(5, st.offered);
	EXPECT_EQ(1, st.accepted);
	EXPECT_EQ(4, st.duplicates);
	EXPECT_EQ(1, st.started);
	EXPECT_EQ(1, st.stopped);
	agent_sched_free(s);
}

TEST(an_expired_task_is_never_started)
{
	struct agent_sched_stats st;
	struct agent_sched *s;
	struct calls c = { 0 };

	ASSERT_EQ(0, agent_sched_new(&s));
	EXPECT_EQ(AGENT_OFFER_EXPIRED, offer(s, "old", T0 - 20000, 10, T0));
	EXPECT_EQ(AGENT_OFFER_EXPIRED, offer(s, "edge", T0 - 10000, 10, T0));	/* ends now */
	EXPECT_EQ(AGENT_OFFER_NEW, offer(s, "last-ms", T0 - 9999, 10, T0));
	/* remembered: a re-delivery is a duplicate */
	EXPECT_EQ(AGENT_OFFER_DUPLICATE, offer(s, "old", T0 - 20000, 10, T0));
	/* the end of time does not wrap around into the past */
	EXPECT_EQ(AGENT_OFFER_NEW, offer(s, "far", INT64_MAX, 86400, T0));
	agent_sched_tick(s, T0, &ops, &c);
	EXPECT_EQ(1, c.starts);
	EXPECT_STREQ("last-ms", c.started);
	agent_sched_stats(s, &st);
	EXPECT_EQ(2, st.expired);
	EXPECT_EQ(2, st.accepted);
	EXPECT_EQ(1, st.duplicates);
	EXPECT_EQ(1, st.running);
	EXPECT_EQ(1, st.waiting);
	agent_sched_free(s);
}

TEST(forgotten_ids_are_bounded_oldest_dropped)
{
	struct agent_sched *s;
	char id[32];
	int i;

	ASSERT_EQ(0, agent_sched_new(&s));
	for (i = 0; i <= 4096; i++) {
		snprintf(id, sizeof(id), "x%d", i);
		ASSERT_EQ(AGENT_OFFER_EXPIRED, offer(s, id, T0 - 20000, 10, T0));
	}
	/* x0 was dropped for x4096: expired again rather than a duplicate */
	EXPECT_EQ(AGENT_OFFER_EXPIRED, offer(s, "x0", T0 - 20000, 10, T0));
	EXPECT_EQ(AGENT_OFFER_DUPLICATE, offer(s, "x2", T0 - 20000, 10, T0));
	EXPECT_EQ(AGENT_OFFER_DUPLICATE, offer(s, "x4096", T0 - 20000, 10, T0));
	agent_sched_free(s);
}

TEST(latest_update_time_is_the_largest_seen)
{
	struct agent_sched *s;
	struct agent_task t;

	ASSERT_EQ(0, agent_sched_new(&s));
	EXPECT_EQ(0, agent_sched_latest_update(s));
	t = mk("a", T0, 10, 500);
	EXPECT_EQ(AGENT_OFFER_NEW, agent_sched_offer(s, &t, T0));
	EXPECT_EQ(500, agent_sched_latest_update(s));
	t = mk("b", T0, 10, 300);
	agent_sched_offer(s, &t, T0);
	EXPECT_EQ(500, agent_sched_latest_update(s));
	/* a duplicate and an expired task count too */
	t = mk("a", T0, 10, 700);
	EXPECT_EQ(AGENT_OFFER_DUPLICATE, agent_sched_offer(s, &t, T0));
	EXPECT_EQ(700, agent_sched_latest_update(s));
	t = mk("c", 0, 10, 800);
	EXPECT_EQ(AGENT_OFFER_EXPIRED, agent_sched_offer(s, &t, T0));
	EXPECT_EQ(800, agent_sched_latest_update(s));
	/* and a command that did not parse */
	agent_sched_saw_update(s, 900);
	EXPECT_EQ(900, agent_sched_latest_update(s));
	agent_sched_saw_update(s, 100);
	EXPECT_EQ(900, agent_sched_latest_update(s));
	agent_sched_free(s);
}

TEST(a_start_that_fails_leaves_the_task_done)
{
	struct agent_sched_stats st;
	struct agent_sched *s;
	struct calls c = { .fail = -EIO };

	ASSERT_EQ(0, agent_sched_new(&s));
	log_start();
	EXPECT_EQ(AGENT_OFFER_NEW, offer(s, "t", T0, 10, T0));
	agent_sched_tick(s, T0, &ops, &c);
	EXPECT_EQ(1, c.starts);
	EXPECT_EQ(AGENT_TASK_DONE, first(s)->state);
	EXPECT_EQ(-1, agent_sched_next_ms(s, T0));
	agent_sched_tick(s, T0 + 20000, &ops, &c);
	agent_sched_stop_all(s, &ops, &c);
	EXPECT_EQ(0, c.stops);
	EXPECT_EQ(1, c.starts);
	agent_sched_stats(s, &st);
	EXPECT_EQ(1, st.failed);
	EXPECT_EQ(0, st.started);
	EXPECT_EQ(0, st.stopped);
	EXPECT_EQ(0, st.running);
	EXPECT_EQ(AGENT_OFFER_DUPLICATE, offer(s, "t", T0, 10, T0 + 20000));
	sw_log_set_fn(NULL, NULL);
	agent_sched_free(s);
}

TEST(stop_all_and_next_ms)
{
	struct agent_sched_stats st;
	struct agent_sched *s;
	struct calls c = { 0 };

	ASSERT_EQ(0, agent_sched_new(&s));
	EXPECT_EQ(AGENT_OFFER_NEW, offer(s, "a", T0, 60, T0));
	EXPECT_EQ(AGENT_OFFER_NEW, offer(s, "b", T0, 30, T0));
	EXPECT_EQ(AGENT_OFFER_NEW, offer(s, "later", T0 + 40000, 10, T0));
	agent_sched_tick(s, T0, &ops, &c);
	EXPECT_EQ(2, c.starts);
	EXPECT_EQ(30000, agent_sched_next_ms(s, T0));	/* b stops */
	EXPECT_EQ(0, agent_sched_next_ms(s, T0 + 31000));	/* overdue */
	agent_sched_tick(s, T0 + 30000, &ops, &c);
	EXPECT_EQ(10000, agent_sched_next_ms(s, T0 + 30000));	/* later starts */
	agent_sched_stats(s, &st);
	EXPECT_EQ(1, st.running);
	EXPECT_EQ(1, st.waiting);

	agent_sched_stop_all(s, &ops, &c);
	EXPECT_EQ(2, c.stops);
	EXPECT_STREQ("a", c.stopped);
	EXPECT_EQ(2, c.stopped_running);
	agent_sched_stats(s, &st);
	EXPECT_EQ(0, st.running);
	EXPECT_EQ(1, st.waiting);
	EXPECT_EQ(2, st.stopped);
	EXPECT_EQ(10000, agent_sched_next_ms(s, T0 + 30000));
	agent_sched_free(s);
}

static char dir[64], path[96];

static void tmpdir(void)
{
	strcpy(dir, "/tmp/swprof-sched-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/tasks", dir);
}

static void rmdir_all(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		abort();
}

static char *slurp(const char *p)
{
	static char buf[1024];
	FILE *f = fopen(p, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

TEST(a_restart_resumes_running_tasks_where_they_were)
{
	struct agent_sched *s;
	struct calls c = { 0 };
	char want[128];

	tmpdir();
	ASSERT_EQ(0, agent_sched_new(&s));
	/* "run": its own end would be T0 + 59500, but it started late */
	EXPECT_EQ(AGENT_OFFER_NEW, offer(s, "run", T0 - 500, 60, T0));
	EXPECT_EQ(AGENT_OFFER_NEW, offer(s, "short", T0, 1, T0));
	EXPECT_EQ(AGENT_OFFER_NEW, offer(s, "future", T0 + HOUR, 60, T0));
	agent_sched_tick(s, T0 + 1000, &ops, &c);
	EXPECT_EQ(2, c.starts);
	agent_sched_tick(s, T0 + 2000, &ops, &c);	/* short is done: not saved */
	EXPECT_EQ(1, c.stops);
	ASSERT_EQ(0, agent_sched_save(s, path));
	snprintf(want, sizeof(want), "run %lld\n", T0 + 1000);
	EXPECT_STREQ(want, slurp(path));
	snprintf(want, sizeof(want), "%s.tmp", path);
	EXPECT_EQ(-1, access(want, F_OK));
	agent_sched_free(s);

	/* the agent restarts; OAP delivers everything again */
	memset(&c, 0, sizeof(c));
	ASSERT_EQ(0, agent_sched_new(&s));
	ASSERT_EQ(0, agent_sched_load(s, path));
	EXPECT_EQ(AGENT_OFFER_NEW, offer(s, "run", T0 - 500, 60, T0 + 60000));
	EXPECT_EQ(AGENT_OFFER_EXPIRED, offer(s, "short", T0, 1, T0 + 60000));
	EXPECT_EQ(AGENT_OFFER_NEW, offer(s, "future", T0 + HOUR, 60, T0 + 60000));
	EXPECT_EQ(0, agent_sched_next_ms(s, T0 + 60000));
	agent_sched_tick(s, T0 + 60000, &ops, &c);
	EXPECT_EQ(1, c.starts);
	EXPECT_STREQ("run", c.started);
	EXPECT_EQ(T0 + 1000, c.actual);
	EXPECT_EQ(T0 + 61000, c.stop_ms);
	EXPECT_EQ(1000, agent_sched_next_ms(s, T0 + 60000));
	agent_sched_tick(s, T0 + 60999, &ops, &c);
	EXPECT_EQ(0, c.stops);
	agent_sched_tick(s, T0 + 61000, &ops, &c);
	EXPECT_EQ(1, c.stops);
	agent_sched_free(s);

	/* restarted again after the end of its run: expired */
	ASSERT_EQ(0, agent_sched_new(&s));
	ASSERT_EQ(0, agent_sched_load(s, path));
	EXPECT_EQ(AGENT_OFFER_EXPIRED, offer(s, "run", T0 - 500, 60, T0 + 61000));
	agent_sched_free(s);
	rmdir_all();
}

TEST(save_file_problems)
{
	struct agent_sched *s;
	struct calls c = { 0 };
	char want[PATH_MAX + 64];
	FILE *f;

	tmpdir();
	ASSERT_EQ(0, agent_sched_new(&s));
	log_start();
	EXPECT_EQ(0, agent_sched_load(s, path));	/* no file: nothing to resume */
	EXPECT_EQ(0, log_lines);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "nospace\nid 12a\nid2 -5\n\n 5\nid3 0\nbig 9223372036854775807\n"
		"sp ace %lld\nok %lld", T0, T0);
	fclose(f);
	ASSERT_EQ(0, agent_sched_load(s, path));
	EXPECT_EQ(7, log_lines) {
		TH_LOG("%s", log_text);
	}
	snprintf(want, sizeof(want), "%s:1: not '<task id> <start ms>': skipped\n", path);
	EXPECT_TRUE(strstr(log_text, want) != NULL);
	snprintf(want, sizeof(want), "%s:6: ", path);
	EXPECT_TRUE(strstr(log_text, want) != NULL);
	/* the good lines count, the last one without its newline too */
	EXPECT_EQ(AGENT_OFFER_NEW, offer(s, "sp ace", T0, 10, T0 + 5000));
	EXPECT_EQ(AGENT_OFFER_NEW, offer(s, "ok", T0 - HOUR, 10, T0 + 5000));
	EXPECT_EQ(AGENT_OFFER_EXPIRED, offer(s, "id", T0 - HOUR, 10, T0 + 5000));
	agent_sched_tick(s, T0 + 5000, &ops, &c);
	EXPECT_EQ(2, c.starts);
	EXPECT_EQ(T0, c.actual);

	/* an unwritable place: the errno, one line saying where */
	log_start();
	snprintf(want, sizeof(want), "%s/no/such/dir", dir);
	EXPECT_EQ(-ENOENT, agent_sched_save(s, want));
	EXPECT_EQ(1, log_lines);
	EXPECT_TRUE(strstr(log_text, want) != NULL);
	sw_log_set_fn(NULL, NULL);
	agent_sched_free(s);
	rmdir_all();
}

TEST_HARNESS_MAIN
