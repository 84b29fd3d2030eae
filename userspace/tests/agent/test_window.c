// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of continuous profiling's windows and triggers, with values
 * fed directly (agent_cp_put()): Count = Period, Count = 1, gaps, a process
 * that exits mid-window, clock jumps, silence, causes merged per process
 * and target, report retries, meters.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "agent_continuous.h"
#include "agent_continuous_priv.h"
#include "agent_test.h"

#define PID	100
#define START	7
#define EPOCH	1700000000000LL		/* ms */
#define NOPE	NAN			/* no sample that second */

static struct agent_config cfg;
static struct agent_cp_meters meters;

static struct agent_cp_report reports[8];
static size_t nr_reports;

static const struct agent_cp_entity billing = { "OS_LINUX", "billing", "node-1", "java" };

/* A core watching billing's java (PID, START) under @json's policies. */
static struct agent_cp *setup(const char *json)
{
	struct agent_cp *cp;

	if (agent_config_defaults(&cfg) || agent_cp_new(&cfg, NULL, &cp))
		abort();
	log_start();
	if (agent_cp_apply_policies(cp, json) != 1 || agent_cp_process_add(cp, PID, START, &billing))
		abort();
	return cp;
}

static void done(struct agent_cp *cp)
{
	agent_cp_free(cp);
	agent_config_free(&cfg);
	agent_cp_meters_free(&meters);
}

/* @m's values of seconds @from, @from + 1, ... (NOPE: none that second). */
static void feed(struct agent_cp *cp, enum agent_cp_monitor m, uint64_t from, const double *v,
		 size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isnan(v[i]) && agent_cp_put(cp, PID, START, m, (from + i) * SEC + SEC / 3, v[i]))
			abort();
}
#define FEED(cp, m, from, ...) do {						\
	static const double _v[] = { __VA_ARGS__ };				\
	feed(cp, m, from, _v, sizeof(_v) / sizeof(_v[0]));			\
} while (0)

/* The check in second @sec (its second half: after that second's sample). */
static int check_at(struct agent_cp *cp, uint64_t sec)
{
	return agent_cp_check(cp, sec * SEC + SEC * 2 / 3, EPOCH + sec * 1000, &meters);
}

static void got(void *ctx, const struct agent_cp_report *r)
{
	if (nr_reports < sizeof(reports) / sizeof(reports[0]))
		reports[nr_reports++] = *r;
}

static size_t take_at(struct agent_cp *cp, uint64_t sec)
{
	nr_reports = 0;
	return agent_cp_take_reports(cp, sec * SEC + SEC * 2 / 3, got, NULL);
}

static const char cpu_3_of_3[] =
	"[{\"ServiceName\": \"billing\", \"UUID\": \"u-1\", \"Profiling\": {\"ON_CPU\": {"
	"\"PROCESS_CPU\": {\"Threshold\": \"10\", \"Period\": 3, \"Count\": 3}}}}]";

TEST(window_slots)
{
	struct agent_cp_window w = { 0 };
	uint64_t sec;
	double v = -1;

	ASSERT_EQ(0, agent_cp_window_resize(&w, 5));
	EXPECT_FALSE(agent_cp_window_latest(&w, &sec, &v));
	EXPECT_EQ(0, agent_cp_window_count(&w, 10, 5, 0, &v));
	agent_cp_window_put(&w, 10, 1);
	agent_cp_window_put(&w, 11, 2);
	agent_cp_window_put(&w, 13, 4);		/* 12: a gap */
	agent_cp_window_put(&w, 14, 3);
	agent_cp_window_put(&w, 14, 5);		/* the last value of a second counts */
	EXPECT_EQ(4, agent_cp_window_count(&w, 14, 5, 0, &v));
	EXPECT_EQ(5, v);			/* the newest match */
	EXPECT_EQ(2, agent_cp_window_count(&w, 14, 5, 3.5, &v));
	EXPECT_EQ(5, v);
	EXPECT_EQ(1, agent_cp_window_count(&w, 14, 5, 4.5, &v));
	EXPECT_EQ(2, agent_cp_window_count(&w, 14, 2, 0, &v));	/* the last 2 s only */
	EXPECT_EQ(1, agent_cp_window_count(&w, 12, 2, 0, &v));	/* 11 and the gap */
	EXPECT_EQ(2, v);
	EXPECT_TRUE(agent_cp_window_latest(&w, &sec, &v));
	EXPECT_EQ(14, sec);
	EXPECT_EQ(5, v);
	/* time moved on: seconds past the window do not count, the ring needs no clearing */
	EXPECT_EQ(2, agent_cp_window_count(&w, 17, 5, 0, &v));
	EXPECT_EQ(0, agent_cp_window_count(&w, 19, 5, 0, &v));
	agent_cp_window_put(&w, 21, 9);		/* slot 1: was 11's */
	EXPECT_EQ(1, agent_cp_window_count(&w, 21, 5, 0, &v));
	EXPECT_EQ(0, agent_cp_window_count(&w, 11, 1, 0, &v));	/* 11 is gone */
	/* too old for the ring now: ignored, does not clobber 21 */
	agent_cp_window_put(&w, 11, 7);
	EXPECT_EQ(9, w.val[1]);
	/* a later second not yet sampled: the window reads empty up to it */
	EXPECT_EQ(1, agent_cp_window_count(&w, 22, 5, 0, &v));

	/* resizing keeps the newest seconds that fit */
	agent_cp_window_free(&w);
	ASSERT_EQ(0, agent_cp_window_resize(&w, 5));
	for (sec = 30; sec < 35; sec++)
		agent_cp_window_put(&w, sec, sec);
	ASSERT_EQ(0, agent_cp_window_resize(&w, 3));
	EXPECT_EQ(3, agent_cp_window_count(&w, 34, 10, 0, &v));
	EXPECT_EQ(3, agent_cp_window_count(&w, 34, 10, 0, NULL));
	EXPECT_EQ(0, agent_cp_window_count(&w, 31, 3, 0, &v));
	ASSERT_EQ(0, agent_cp_window_resize(&w, 8));
	EXPECT_EQ(3, agent_cp_window_count(&w, 34, 8, 0, &v));
	EXPECT_EQ(34, v);
	agent_cp_window_put(&w, 35, 35);
	EXPECT_EQ(4, agent_cp_window_count(&w, 35, 8, 0, &v));
	ASSERT_EQ(0, agent_cp_window_resize(&w, 0));
	EXPECT_EQ(NULL, w.val);
	agent_cp_window_free(&w);
}

TEST(count_equals_period)
{
	struct agent_cp *cp = setup(cpu_3_of_3);

	/* one slot below the threshold: no trigger */
	FEED(cp, AGENT_CP_PROCESS_CPU, 100, 50, 9.5, 50);
	EXPECT_EQ(0, check_at(cp, 102));
	EXPECT_EQ(0, take_at(cp, 102));
	/* three in a row, the threshold itself included */
	FEED(cp, AGENT_CP_PROCESS_CPU, 103, 10, 40, 30);
	EXPECT_EQ(0, check_at(cp, 104));
	EXPECT_EQ(1, check_at(cp, 105));
	ASSERT_EQ(1, take_at(cp, 105));
	EXPECT_EQ(PID, reports[0].pid);
	EXPECT_EQ(START, reports[0].start_time);
	EXPECT_STREQ("billing", reports[0].ent.service);
	EXPECT_STREQ("node-1", reports[0].ent.instance);
	EXPECT_STREQ("java", reports[0].ent.process);
	EXPECT_STREQ("OS_LINUX", reports[0].ent.layer);
	EXPECT_EQ(AGENT_TARGET_ON_CPU, reports[0].target);
	EXPECT_EQ(600, reports[0].duration_s);
	EXPECT_EQ(1, reports[0].attempt);
	ASSERT_EQ(1, reports[0].nr_causes);
	EXPECT_EQ(AGENT_CP_PROCESS_CPU, reports[0].causes[0].type);
	/* Rover sends the policy's threshold as it is: OAP multiplies by 100 */
	EXPECT_EQ(10.0, reports[0].causes[0].threshold);
	EXPECT_EQ(30.0, reports[0].causes[0].current);	/* the newest matching slot */
	done(cp);
}

TEST(count_one)
{
	struct agent_cp *cp = setup(
		"[{\"ServiceName\": \"billing\", \"UUID\": \"u-1\", \"Profiling\": {\"OFF_CPU\": {"
		"\"PROCESS_THREAD_COUNT\": {\"Threshold\": \"500\", \"Period\": 10, \"Count\": 1}}}}]");

	FEED(cp, AGENT_CP_PROCESS_THREAD_COUNT, 100, 20, 20, 20, 499, 20);
	EXPECT_EQ(0, check_at(cp, 104));
	FEED(cp, AGENT_CP_PROCESS_THREAD_COUNT, 105, 20, 800, 20);
	EXPECT_EQ(1, check_at(cp, 107));
	ASSERT_EQ(1, take_at(cp, 107));
	EXPECT_EQ(AGENT_TARGET_OFF_CPU, reports[0].target);
	EXPECT_EQ(AGENT_CP_PROCESS_THREAD_COUNT, reports[0].causes[0].type);
	EXPECT_EQ(500.0, reports[0].causes[0].threshold);
	EXPECT_EQ(800.0, reports[0].causes[0].current);
	done(cp);
}

TEST(a_missed_second_is_an_empty_slot)
{
	struct agent_cp *cp = setup(
		"[{\"ServiceName\": \"billing\", \"UUID\": \"u-1\", \"Profiling\": {\"ON_CPU\": {"
		"\"PROCESS_CPU\": {\"Threshold\": \"10\", \"Period\": 5, \"Count\": 5}},"
		"\"OFF_CPU\": {"
		"\"PROCESS_CPU\": {\"Threshold\": \"10\", \"Period\": 5, \"Count\": 4}}}}]");

	/* 5 s, one missed: 4 high slots make OFF_CPU's 4 of 5, never ON_CPU's 5 of 5 */
	FEED(cp, AGENT_CP_PROCESS_CPU, 100, 90, 90, NOPE, 90, 90);
	EXPECT_EQ(1, check_at(cp, 104));
	ASSERT_EQ(1, take_at(cp, 104));
	EXPECT_EQ(AGENT_TARGET_OFF_CPU, reports[0].target);
	done(cp);

	/* the agent stalled: what was high 10 s ago is no reason now */
	cp = setup(cpu_3_of_3);
	FEED(cp, AGENT_CP_PROCESS_CPU, 100, 90, 90, 90);
	EXPECT_EQ(0, check_at(cp, 110));
	/* ... nor when sampling resumes with one high value */
	FEED(cp, AGENT_CP_PROCESS_CPU, 111, 90);
	EXPECT_EQ(0, check_at(cp, 111));
	/* a second not sampled yet when the check runs is empty too */
	FEED(cp, AGENT_CP_PROCESS_CPU, 112, 90);
	EXPECT_EQ(0, agent_cp_check(cp, 113 * SEC, EPOCH, NULL));
	FEED(cp, AGENT_CP_PROCESS_CPU, 113, 90);
	EXPECT_EQ(1, agent_cp_check(cp, 113 * SEC + 1, EPOCH, NULL));
	done(cp);
}

TEST(exit_mid_window)
{
	struct agent_cp *cp = setup(cpu_3_of_3);
	struct agent_cp_stats st;

	FEED(cp, AGENT_CP_PROCESS_CPU, 100, 90, 90);
	ASSERT_EQ(0, agent_cp_process_remove(cp, PID, START));
	EXPECT_EQ(-ENOENT, agent_cp_put(cp, PID, START, AGENT_CP_PROCESS_CPU, 102 * SEC, 90));
	EXPECT_EQ(0, check_at(cp, 102));
	EXPECT_EQ(0, meters.n);
	/* the pid comes back as another process: its windows start empty */
	ASSERT_EQ(0, agent_cp_process_add(cp, PID, START + 1, &billing));
	ASSERT_EQ(0, agent_cp_put(cp, PID, START + 1, AGENT_CP_PROCESS_CPU, 102 * SEC, 90));
	EXPECT_EQ(0, check_at(cp, 102));
	EXPECT_EQ(0, take_at(cp, 102));
	agent_cp_stats(cp, &st);
	EXPECT_EQ(0, st.triggers);
	EXPECT_EQ(1, st.processes);
	done(cp);

	/* exit with a report triggered but not taken yet: dropped, logged */
	cp = setup(cpu_3_of_3);
	FEED(cp, AGENT_CP_PROCESS_CPU, 100, 90, 90, 90);
	EXPECT_EQ(1, check_at(cp, 102));
	ASSERT_EQ(0, agent_cp_process_remove(cp, PID, START));
	EXPECT_EQ(0, take_at(cp, 102));
	agent_cp_stats(cp, &st);
	EXPECT_EQ(1, st.reports_dropped);
	EXPECT_NE(NULL, strstr(log_text, "not reported: the process exited"));
	done(cp);

	/* exit with the report in flight: OAP's answer finds no process */
	cp = setup(cpu_3_of_3);
	FEED(cp, AGENT_CP_PROCESS_CPU, 100, 90, 90, 90);
	EXPECT_EQ(1, check_at(cp, 102));
	ASSERT_EQ(1, take_at(cp, 102));
	ASSERT_EQ(0, agent_cp_process_remove(cp, PID, START));
	EXPECT_EQ(-ENOENT, agent_cp_report_ok(cp, reports[0].id, "task-1", 103 * SEC));
	done(cp);
}

TEST(windows_run_on_the_monotonic_clock_only)
{
	struct agent_cp *cp = setup(cpu_3_of_3);
	uint64_t s;

	/* the wall clock jumps back a day between checks: nothing changes but timestamps */
	FEED(cp, AGENT_CP_PROCESS_CPU, 100, 90, 90);
	EXPECT_EQ(0, agent_cp_check(cp, 101 * SEC + SEC / 2, EPOCH, &meters));
	ASSERT_EQ(1, meters.n);
	EXPECT_EQ(EPOCH, meters.v[0].timestamp_ms);
	FEED(cp, AGENT_CP_PROCESS_CPU, 102, 90);
	EXPECT_EQ(1, agent_cp_check(cp, 102 * SEC + SEC / 2, EPOCH - 86400000, &meters));
	ASSERT_EQ(1, meters.n);
	EXPECT_EQ(EPOCH - 86400000, meters.v[0].timestamp_ms);
	done(cp);

	/* monotonic time jumps ahead an hour (a suspended agent): the window is empty again */
	cp = setup(cpu_3_of_3);
	FEED(cp, AGENT_CP_PROCESS_CPU, 100, 90, 90);
	FEED(cp, AGENT_CP_PROCESS_CPU, 3702, 90);
	EXPECT_EQ(0, check_at(cp, 3702));
	for (s = 3703; s < 3705; s++)
		FEED(cp, AGENT_CP_PROCESS_CPU, s, 90);
	EXPECT_EQ(1, check_at(cp, 3704));
	done(cp);
}

/* Feed high CPU every second of [@from, @to] with a check every 5 s; new reports taken, counted. */
static int run_high(struct agent_cp *cp, uint64_t from, uint64_t to, uint64_t *first)
{
	uint64_t s;
	int n = 0;

	for (s = from; s <= to; s++) {
		FEED(cp, AGENT_CP_PROCESS_CPU, s, 95);
		if (s % 5)
			continue;
		if (check_at(cp, s) < 0)
			abort();
		if (take_at(cp, s) && !n++ && first)
			*first = s;
	}
	return n;
}

TEST(silence_after_the_task_start)
{
	struct agent_cp *cp = setup(cpu_3_of_3);
	struct agent_cp_stats st;
	uint64_t first = 0;

	ASSERT_EQ(1, run_high(cp, 100, 105, &first));
	EXPECT_EQ(105, first);
	ASSERT_EQ(0, agent_cp_report_ok(cp, reports[0].id, "task-1", 106 * SEC));
	agent_cp_stats(cp, &st);
	EXPECT_EQ(1, st.running);
	EXPECT_EQ(1, st.tasks);
	/* while it runs (10 min) and the silence lasts (20 min from its start): nothing */
	EXPECT_EQ(0, run_high(cp, 106, 106 + 1199, NULL));
	/* the silence is over: the same load triggers again */
	ASSERT_EQ(1, run_high(cp, 106 + 1200, 106 + 1210, &first));
	EXPECT_EQ(1310, first);
	EXPECT_NE(reports[0].id, 0);
	agent_cp_stats(cp, &st);
	EXPECT_EQ(0, st.running);
	EXPECT_EQ(2, st.triggers);
	done(cp);

	/* a task longer than the silence: no trigger before it ends */
	cp = setup(cpu_3_of_3);
	cfg.profiling.continuous.execute_duration_ns = 1800 * SEC;
	cfg.profiling.continuous.silence_duration_ns = 60 * SEC;
	ASSERT_EQ(0, agent_cp_reconfigure(cp, &cfg));
	ASSERT_EQ(1, run_high(cp, 100, 105, NULL));
	EXPECT_EQ(1800, reports[0].duration_s);
	ASSERT_EQ(0, agent_cp_report_ok(cp, reports[0].id, "task-1", 105 * SEC));
	EXPECT_EQ(0, run_high(cp, 106, 105 + 1799, NULL));
	ASSERT_EQ(1, run_high(cp, 105 + 1800, 105 + 1810, &first));
	done(cp);
}

TEST(two_items_at_once_make_one_report_per_target)
{
	struct agent_cp *cp = setup(
		"[{\"ServiceName\": \"billing\", \"UUID\": \"u-1\", \"Profiling\": {"
		"\"ON_CPU\": {"
		"  \"PROCESS_CPU\": {\"Threshold\": \"10\", \"Period\": 3, \"Count\": 2},"
		"  \"PROCESS_THREAD_COUNT\": {\"Threshold\": \"50\", \"Period\": 3, \"Count\": 2}},"
		"\"OFF_CPU\": {"
		"  \"SYSTEM_LOAD\": {\"Threshold\": \"2.5\", \"Period\": 4, \"Count\": 1}}}}]");
	struct agent_cp_stats st;

	FEED(cp, AGENT_CP_PROCESS_CPU, 100, 20, 30, 40);
	FEED(cp, AGENT_CP_PROCESS_THREAD_COUNT, 100, 10, 60, 70);
	FEED(cp, AGENT_CP_SYSTEM_LOAD, 100, 1, 3.5, 1);
	EXPECT_EQ(2, check_at(cp, 102));
	ASSERT_EQ(2, take_at(cp, 102));
	EXPECT_EQ(AGENT_TARGET_ON_CPU, reports[0].target);
	ASSERT_EQ(2, reports[0].nr_causes);
	EXPECT_EQ(AGENT_CP_PROCESS_CPU, reports[0].causes[0].type);
	EXPECT_EQ(40, reports[0].causes[0].current);
	EXPECT_EQ(AGENT_CP_PROCESS_THREAD_COUNT, reports[0].causes[1].type);
	EXPECT_EQ(50, reports[0].causes[1].threshold);
	EXPECT_EQ(70, reports[0].causes[1].current);
	EXPECT_EQ(AGENT_TARGET_OFF_CPU, reports[1].target);
	ASSERT_EQ(1, reports[1].nr_causes);
	EXPECT_EQ(AGENT_CP_SYSTEM_LOAD, reports[1].causes[0].type);
	EXPECT_EQ(2.5, reports[1].causes[0].threshold);
	EXPECT_EQ(3.5, reports[1].causes[0].current);
	EXPECT_NE(reports[0].id, reports[1].id);
	/* in flight: no second report for either target, however high it stays */
	FEED(cp, AGENT_CP_PROCESS_CPU, 103, 90, 90);
	EXPECT_EQ(0, check_at(cp, 104));
	EXPECT_EQ(0, take_at(cp, 104));
	agent_cp_stats(cp, &st);
	EXPECT_EQ(2, st.triggers);
	done(cp);
}

TEST(http_items_never_trigger)
{
	struct agent_cp *cp = setup(
		"[{\"ServiceName\": \"billing\", \"UUID\": \"u-1\", \"Profiling\": {\"NETWORK\": {"
		"\"HTTP_ERROR_RATE\": {\"Threshold\": \"10\", \"Period\": 2, \"Count\": 1},"
		"\"HTTP_AVG_RESPONSE_TIME\": {\"Threshold\": \"5\", \"Period\": 2, \"Count\": 1}}}}]");

	EXPECT_NE(NULL, strstr(log_text, "NETWORK HTTP_ERROR_RATE, NETWORK HTTP_AVG_RESPONSE_TIME: not supported yet"));
	FEED(cp, AGENT_CP_HTTP_ERROR_RATE, 100, 90, 90);
	EXPECT_EQ(0, check_at(cp, 101));
	EXPECT_EQ(0, take_at(cp, 101));
	/* values there (none yet in the daemon) would give their meter */
	ASSERT_EQ(1, meters.n);
	EXPECT_STREQ("rover_con_p_http_error_rate", meters.v[0].name);
	done(cp);
}

TEST(a_failed_report_is_retried_and_gives_one_task)
{
	struct agent_cp *cp = setup(cpu_3_of_3);
	struct agent_cp_stats st;
	uint64_t id;

	ASSERT_EQ(1, run_high(cp, 100, 105, NULL));
	id = reports[0].id;
	EXPECT_EQ(0, agent_cp_report_failed(cp, id, 105 * SEC + SEC / 2));
	EXPECT_EQ(-ENOENT, agent_cp_report_failed(cp, id, 105 * SEC + SEC / 2));	/* not in flight */
	/* not before the next check */
	EXPECT_EQ(0, take_at(cp, 106));
	FEED(cp, AGENT_CP_PROCESS_CPU, 106, 95, 95, 95, 95);
	EXPECT_EQ(0, check_at(cp, 110));		/* no new trigger: a retry */
	ASSERT_EQ(1, take_at(cp, 110));
	EXPECT_EQ(id, reports[0].id);
	EXPECT_EQ(2, reports[0].attempt);
	EXPECT_EQ(95.0, reports[0].causes[0].current);
	EXPECT_EQ(0, agent_cp_report_ok(cp, id, "task-7", 111 * SEC));
	EXPECT_EQ(-ENOENT, agent_cp_report_ok(cp, id, "task-8", 111 * SEC));	/* once */
	EXPECT_EQ(0, run_high(cp, 111, 200, NULL));
	agent_cp_stats(cp, &st);
	EXPECT_EQ(1, st.triggers);
	EXPECT_EQ(2, st.reports_taken);
	EXPECT_EQ(1, st.reports_failed);
	EXPECT_EQ(1, st.tasks);
	EXPECT_EQ(1, st.running);
	done(cp);
}

TEST(a_report_failing_past_its_window_is_dropped)
{
	struct agent_cp *cp = setup(cpu_3_of_3);
	struct agent_cp_stats st;
	uint64_t id;

	/* Period 3 s, checks every 5 s: retried for two checks (10 s) */
	ASSERT_EQ(1, run_high(cp, 100, 105, NULL));
	id = reports[0].id;
	EXPECT_EQ(0, agent_cp_report_failed(cp, id, 106 * SEC));
	ASSERT_EQ(0, run_high(cp, 106, 109, NULL));
	ASSERT_EQ(0, check_at(cp, 110));
	ASSERT_EQ(1, take_at(cp, 110));
	EXPECT_EQ(id, reports[0].id);
	EXPECT_EQ(-ETIMEDOUT, agent_cp_report_failed(cp, id, 115 * SEC + SEC * 2 / 3));
	EXPECT_NE(NULL, strstr(log_text, "its window passed"));
	agent_cp_stats(cp, &st);
	EXPECT_EQ(1, st.reports_dropped);
	EXPECT_EQ(0, st.tasks);
	/* fresh data may trigger again: a new report */
	ASSERT_EQ(1, run_high(cp, 116, 120, NULL));
	EXPECT_NE(id, reports[0].id);
	EXPECT_EQ(1, reports[0].attempt);
	done(cp);

	/* failed, and the window passes before the next check: dropped at that check */
	cp = setup(cpu_3_of_3);
	ASSERT_EQ(1, run_high(cp, 100, 105, NULL));
	EXPECT_EQ(0, agent_cp_report_failed(cp, reports[0].id, 106 * SEC));
	EXPECT_EQ(0, agent_cp_check(cp, 116 * SEC, EPOCH, NULL));
	EXPECT_EQ(0, take_at(cp, 116));
	agent_cp_stats(cp, &st);
	EXPECT_EQ(1, st.reports_dropped);
	done(cp);
}

TEST(meters_per_check)
{
	struct agent_cp *cp = setup(
		"[{\"ServiceName\": \"billing\", \"UUID\": \"u-1\", \"Profiling\": {\"ON_CPU\": {"
		"\"PROCESS_CPU\": {\"Threshold\": \"90\", \"Period\": 3, \"Count\": 3},"
		"\"SYSTEM_LOAD\": {\"Threshold\": \"90\", \"Period\": 3, \"Count\": 3}}}}]");
	const struct agent_cp_entity other = { "GENERAL", "orders", "node-2", "python" };
	size_t i;

	free(cfg.profiling.continuous.meter_prefix);
	cfg.profiling.continuous.meter_prefix = strdup("swp_con");
	ASSERT_EQ(0, agent_cp_reconfigure(cp, &cfg));
	/* a process of a service without a policy: no meters */
	ASSERT_EQ(0, agent_cp_process_add(cp, PID + 1, 1, &other));
	EXPECT_EQ(-ENOENT, agent_cp_put(cp, PID + 1, 1, AGENT_CP_PROCESS_CPU, 100 * SEC, 1));
	/* a monitor the policy does not use: not even stored */
	EXPECT_EQ(-ENOENT, agent_cp_put(cp, PID, START, AGENT_CP_PROCESS_THREAD_COUNT, 100 * SEC, 1));
	FEED(cp, AGENT_CP_PROCESS_CPU, 100, 12.5, 25);
	FEED(cp, AGENT_CP_SYSTEM_LOAD, 100, 0.5, 0.75);
	EXPECT_EQ(0, check_at(cp, 101));
	ASSERT_EQ(2, meters.n);
	EXPECT_STREQ("swp_con_process_cpu", meters.v[0].name);
	EXPECT_EQ(25, meters.v[0].value);		/* the newest sample */
	EXPECT_STREQ("swp_con_system_load", meters.v[1].name);
	EXPECT_EQ(0.75, meters.v[1].value);
	for (i = 0; i < 2; i++) {
		EXPECT_STREQ("process_name", meters.v[i].labels[0].name);
		EXPECT_STREQ("java", meters.v[i].labels[0].value);
		EXPECT_STREQ("layer", meters.v[i].labels[1].name);
		EXPECT_STREQ("OS_LINUX", meters.v[i].labels[1].value);
		EXPECT_STREQ("billing", meters.v[i].service);
		EXPECT_STREQ("node-1", meters.v[i].instance);
		EXPECT_EQ(EPOCH + 101000, meters.v[i].timestamp_ms);
	}
	/* nothing sampled since: no meters */
	EXPECT_EQ(0, check_at(cp, 102));
	EXPECT_EQ(0, meters.n);
	FEED(cp, AGENT_CP_PROCESS_CPU, 103, 50);
	EXPECT_EQ(0, check_at(cp, 103));
	ASSERT_EQ(1, meters.n);
	EXPECT_STREQ("swp_con_process_cpu", meters.v[0].name);
	EXPECT_EQ(50, meters.v[0].value);
	/* the default prefix, Rover's */
	done(cp);
	cp = setup(cpu_3_of_3);
	FEED(cp, AGENT_CP_PROCESS_CPU, 100, 1);
	EXPECT_EQ(0, check_at(cp, 100));
	ASSERT_EQ(1, meters.n);
	EXPECT_STREQ("rover_con_p_process_cpu", meters.v[0].name);
	done(cp);
}

TEST(a_policy_change_keeps_the_windows)
{
	struct agent_cp *cp = setup(cpu_3_of_3);

	FEED(cp, AGENT_CP_PROCESS_CPU, 100, 90, 90);
	ASSERT_EQ(1, agent_cp_apply_policies(cp,
		"[{\"ServiceName\": \"billing\", \"UUID\": \"u-2\", \"Profiling\": {\"ON_CPU\": {"
		"\"PROCESS_CPU\": {\"Threshold\": \"80\", \"Period\": 6, \"Count\": 3}}}}]"));
	FEED(cp, AGENT_CP_PROCESS_CPU, 102, 85);
	EXPECT_EQ(1, check_at(cp, 102));
	/* deleted: nothing triggers, nothing is sampled */
	ASSERT_EQ(1, agent_cp_apply_policies(cp, "[{\"ServiceName\": \"billing\", \"UUID\": \"\"}]"));
	EXPECT_EQ(-ENOENT, agent_cp_put(cp, PID, START, AGENT_CP_PROCESS_CPU, 103 * SEC, 90));
	done(cp);
}

TEST_HARNESS_MAIN
