// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of continuous profiling's monitors over a fake /proc: process
 * CPU percent from two readings of stat, thread count, system load; the
 * sampling of watched processes, their exit and pid reuse, the tick's
 * schedule, and a trigger from /proc alone, with its meters.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "agent_continuous.h"
#include "agent_continuous_priv.h"
#include "agent_test.h"

#define PID	4242
#define START	777
#define EPOCH	1700000000000LL

static char root[64];
static struct agent_config cfg;
static struct agent_cp_meters meters;

static void __attribute__((format(printf, 2, 3))) put(const char *data, const char *fmt, ...)
{
	char rel[64], path[PATH_MAX];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	if (!f || fputs(data, f) < 0)
		abort();
	fclose(f);
}

static void mkroot(void)
{
	strcpy(root, "/tmp/swprof-cp-test-XXXXXX");
	if (!mkdtemp(root))
		abort();
}

static void rm_pid(int pid)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/%d", root, pid);
	if (system(cmd))
		abort();
}

static void rmroot(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		abort();
}

/* @pid's stat: @comm, utime @ut, stime @st, start time @start. */
static void put_stat(int pid, const char *comm, unsigned long ut, unsigned long st,
		     unsigned long long start)
{
	char buf[512], rel[32];

	snprintf(rel, sizeof(rel), "%d", pid);
	snprintf(buf, sizeof(buf), "%s/%s", root, rel);
	mkdir(buf, 0700);
	snprintf(buf, sizeof(buf),
		 "%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 %lu %lu 5 6 20 0 37 0 %llu "
		 "123456 789 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n",
		 pid, comm, pid, pid, ut, st, start);
	put(buf, "%d/stat", pid);
}

static void put_threads(int pid, unsigned int n)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "Name:\tjava\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%d\n"
		 "Threads:\t%u\nSigQ:\t0/63068\n", pid, n);
	put(buf, "%d/status", pid);
}

TEST(cpu_ticks_and_start_time_from_stat)
{
	uint64_t ticks = 0, start = 0;

	mkroot();
	put_stat(PID, "a b) (c", 120, 30, 4242424242ULL);
	ASSERT_EQ(0, agent_cp_read_cpu(root, PID, &ticks, &start));
	EXPECT_EQ(150, ticks);
	EXPECT_EQ(4242424242ULL, start);
	put("1 (x) S 1 2 3\n", "%d/stat", PID);
	EXPECT_EQ(-EINVAL, agent_cp_read_cpu(root, PID, &ticks, &start));
	put("garbage\n", "%d/stat", PID);
	EXPECT_EQ(-EINVAL, agent_cp_read_cpu(root, PID, &ticks, &start));
	EXPECT_EQ(-ENOENT, agent_cp_read_cpu(root, PID + 1, &ticks, &start));
	/* the real thing parses too */
	EXPECT_EQ(0, agent_cp_read_cpu(NULL, getpid(), &ticks, &start));
	EXPECT_NE(0, start);
	rmroot();
}

TEST(cpu_percent_of_one_cpu)
{
	/* 50 ticks at 100 Hz in 1 s: half a CPU */
	EXPECT_EQ(50.0, agent_cp_cpu_percent(1000, 7 * SEC, 1050, 8 * SEC, 100));
	/* two CPUs busy for 2 s: 200 (Rover's scale: 100 = one CPU) */
	EXPECT_EQ(200.0, agent_cp_cpu_percent(0, 10 * SEC, 400, 12 * SEC, 100));
	/* 1.5 s between samples, idle */
	EXPECT_EQ(0.0, agent_cp_cpu_percent(5, SEC, 5, SEC * 5 / 2, 100));
	EXPECT_EQ(25.0, agent_cp_cpu_percent(0, 0, 250, 10 * SEC, 100));
	EXPECT_EQ(-1, agent_cp_cpu_percent(10, SEC, 20, SEC, 100));	/* no time passed */
	EXPECT_EQ(-1, agent_cp_cpu_percent(30, SEC, 20, 2 * SEC, 100));	/* ticks went back */
}

TEST(thread_count_and_load)
{
	uint32_t threads = 0;
	double load = -1;

	mkroot();
	put_stat(PID, "java", 0, 0, START);
	put_threads(PID, 37);
	ASSERT_EQ(0, agent_cp_read_threads(root, PID, &threads));
	EXPECT_EQ(37, threads);
	put("Name:\tjava\nThreadz:\t3\n", "%d/status", PID);
	EXPECT_EQ(-EINVAL, agent_cp_read_threads(root, PID, &threads));
	EXPECT_EQ(-ENOENT, agent_cp_read_threads(root, PID + 1, &threads));

	EXPECT_EQ(-ENOENT, agent_cp_read_loadavg(root, &load));
	put("0.42 0.30 0.20 1/123 4567\n", "loadavg");
	ASSERT_EQ(0, agent_cp_read_loadavg(root, &load));
	EXPECT_EQ(0.42, load);
	put("x\n", "loadavg");
	EXPECT_EQ(-EINVAL, agent_cp_read_loadavg(root, &load));
	EXPECT_EQ(0, agent_cp_read_loadavg(NULL, &load));
	EXPECT_GE(load, 0);
	rmroot();
}

static const char all_three[] =
	"[{\"ServiceName\": \"billing\", \"UUID\": \"u-1\", \"Profiling\": {\"ON_CPU\": {"
	"\"PROCESS_CPU\": {\"Threshold\": \"10\", \"Period\": 10, \"Count\": 3},"
	"\"PROCESS_THREAD_COUNT\": {\"Threshold\": \"500\", \"Period\": 10, \"Count\": 3}},"
	"\"OFF_CPU\": {\"SYSTEM_LOAD\": {\"Threshold\": \"8\", \"Period\": 10, \"Count\": 3}}}}]";

static const struct agent_cp_entity billing = { "OS_LINUX", "billing", "node-1", "java" };

/* A core over the fake tree, 100 Hz, watching PID under @json. */
static struct agent_cp *setup(const char *json)
{
	AGENT_CP_OPTS(opts, .proc_root = root, .clk_tck = 100);
	struct agent_cp *cp;

	mkroot();
	put("0.42 0.30 0.20 1/123 4567\n", "loadavg");
	put_stat(PID, "java", 1000, 0, START);
	put_threads(PID, 37);
	if (agent_config_defaults(&cfg) || agent_cp_new(&cfg, &opts, &cp))
		abort();
	log_start();
	if ((json && agent_cp_apply_policies(cp, json) != 1) ||
	    agent_cp_process_add(cp, PID, START, &billing))
		abort();
	return cp;
}

static void done(struct agent_cp *cp)
{
	agent_cp_free(cp);
	agent_config_free(&cfg);
	agent_cp_meters_free(&meters);
	rmroot();
}

/* The meter named <prefix>_@suffix's value; -1 when none. */
static double meter(const char *suffix)
{
	char name[64];
	size_t i;

	snprintf(name, sizeof(name), "rover_con_p_%s", suffix);
	for (i = 0; i < meters.n; i++)
		if (!strcmp(meters.v[i].name, name))
			return meters.v[i].value;
	return -1;
}

TEST(samples_of_a_watched_process)
{
	struct agent_cp *cp = setup(all_three);
	struct agent_cp_stats st;

	agent_cp_sample(cp, 100 * SEC);
	/* the first sample gives no CPU percent: two readings needed */
	ASSERT_EQ(0, agent_cp_check(cp, 100 * SEC + 1, EPOCH, &meters));
	EXPECT_EQ(2, meters.n);
	EXPECT_EQ(-1, meter("process_cpu"));
	EXPECT_EQ(37, meter("process_thread_count"));
	EXPECT_EQ(0.42, meter("system_load"));

	put_stat(PID, "java", 1030, 20, START);		/* 50 ticks in 1 s */
	put_threads(PID, 40);
	put("1.5 0.30 0.20 1/123 4567\n", "loadavg");
	agent_cp_sample(cp, 101 * SEC);
	ASSERT_EQ(0, agent_cp_check(cp, 101 * SEC + 1, EPOCH, &meters));
	EXPECT_EQ(3, meters.n);
	EXPECT_EQ(50.0, meter("process_cpu"));
	EXPECT_EQ(40, meter("process_thread_count"));
	EXPECT_EQ(1.5, meter("system_load"));
	agent_cp_stats(cp, &st);
	EXPECT_EQ(2, st.samples);
	EXPECT_EQ(0, st.sample_errors);
	done(cp);
}

TEST(no_policy_no_sampling)
{
	struct agent_cp *cp = setup(NULL);
	struct agent_cp_stats st;

	agent_cp_sample(cp, 100 * SEC);
	rm_pid(PID);		/* not even noticed: never read */
	agent_cp_sample(cp, 101 * SEC);
	agent_cp_stats(cp, &st);
	EXPECT_EQ(0, st.samples);
	ASSERT_EQ(0, agent_cp_check(cp, 101 * SEC + 1, EPOCH, &meters));
	EXPECT_EQ(0, meters.n);
	done(cp);
}

TEST(a_process_that_exits_mid_window)
{
	struct agent_cp *cp = setup(
		"[{\"ServiceName\": \"billing\", \"UUID\": \"u-1\", \"Profiling\": {\"ON_CPU\": {"
		"\"PROCESS_CPU\": {\"Threshold\": \"10\", \"Period\": 5, \"Count\": 3}}}}]");
	struct agent_cp_stats st;

	agent_cp_sample(cp, 100 * SEC);
	put_stat(PID, "java", 1100, 0, START);
	agent_cp_sample(cp, 101 * SEC);
	put_stat(PID, "java", 1200, 0, START);
	agent_cp_sample(cp, 102 * SEC);			/* two slots at 100 % */
	rm_pid(PID);
	agent_cp_sample(cp, 103 * SEC);
	/* gone: its windows are freed, nothing more is stored or triggered */
	EXPECT_EQ(-ENOENT, agent_cp_put(cp, PID, START, AGENT_CP_PROCESS_CPU, 103 * SEC, 100));
	EXPECT_EQ(0, agent_cp_check(cp, 103 * SEC + 1, EPOCH, &meters));
	EXPECT_EQ(0, meters.n);
	agent_cp_sample(cp, 104 * SEC);
	agent_cp_stats(cp, &st);
	EXPECT_EQ(3, st.samples);
	EXPECT_EQ(0, st.triggers);
	EXPECT_EQ(1, st.processes);		/* until the daemon removes it */
	ASSERT_EQ(0, agent_cp_process_remove(cp, PID, START));
	done(cp);
}

TEST(a_reused_pid_is_another_process)
{
	struct agent_cp *cp = setup(all_three);
	struct agent_cp_stats st;

	agent_cp_sample(cp, 100 * SEC);
	put_stat(PID, "java", 1050, 0, START + 1);	/* exited, the pid given again */
	agent_cp_sample(cp, 101 * SEC);
	EXPECT_EQ(-ENOENT, agent_cp_put(cp, PID, START, AGENT_CP_PROCESS_CPU, 101 * SEC, 1));
	agent_cp_stats(cp, &st);
	EXPECT_EQ(1, st.samples);
	done(cp);
}

TEST(the_tick_samples_each_second_and_checks_every_interval)
{
	struct agent_cp *cp = setup(all_three);
	struct agent_cp_stats st;
	uint64_t t0 = 100 * SEC + SEC * 3 / 10;

	EXPECT_EQ(0, agent_cp_next_ns(cp));
	EXPECT_EQ(0, agent_cp_tick(cp, t0, EPOCH, &meters));		/* 100.3: a sample */
	EXPECT_EQ(101 * SEC, agent_cp_next_ns(cp));
	EXPECT_EQ(0, agent_cp_tick(cp, t0 + SEC / 2, EPOCH, &meters));	/* 100.8: none */
	agent_cp_stats(cp, &st);
	EXPECT_EQ(1, st.samples);
	EXPECT_EQ(0, agent_cp_tick(cp, 101 * SEC, EPOCH, &meters));	/* 101.0: a sample */
	/* a late wake-up (101.99) still samples second 101 once... */
	EXPECT_EQ(0, agent_cp_tick(cp, 101 * SEC + SEC * 99 / 100, EPOCH, &meters));
	/* ... and 102.01 gets its own */
	EXPECT_EQ(0, agent_cp_tick(cp, 102 * SEC + SEC / 100, EPOCH, &meters));
	agent_cp_stats(cp, &st);
	EXPECT_EQ(3, st.samples);
	/* the check: 5 s after the first tick, with its meters */
	EXPECT_EQ(0, agent_cp_tick(cp, 105 * SEC + SEC / 10, EPOCH, &meters));
	EXPECT_EQ(t0 + 5 * SEC, agent_cp_next_ns(cp));
	EXPECT_EQ(1, agent_cp_tick(cp, t0 + 5 * SEC, EPOCH + 5000, &meters));
	EXPECT_EQ(3, meters.n);
	EXPECT_EQ(EPOCH + 5000, meters.v[0].timestamp_ms);
	EXPECT_EQ(0, agent_cp_tick(cp, t0 + 5 * SEC + 1, EPOCH, &meters));
	EXPECT_EQ(0, meters.n);
	/* an agent that slept through two intervals checks once, then every 5 s from now */
	EXPECT_EQ(1, agent_cp_tick(cp, t0 + 17 * SEC, EPOCH, &meters));
	EXPECT_EQ(t0 + 18 * SEC - SEC * 3 / 10, agent_cp_next_ns(cp));
	EXPECT_EQ(0, agent_cp_tick(cp, t0 + 21 * SEC, EPOCH, &meters));
	EXPECT_EQ(1, agent_cp_tick(cp, t0 + 22 * SEC, EPOCH, &meters));
	done(cp);
}

static struct agent_cp_report rep;

static void got(void *ctx, const struct agent_cp_report *r)
{
	rep = *r;
	(*(int *)ctx)++;
}

/* Rover's end-to-end case: ON_CPU / PROCESS_CPU threshold 10, period 10, count 3. */
TEST(a_busy_process_triggers_from_proc_alone)
{
	struct agent_cp *cp = setup(
		"[{\"ServiceName\": \"billing\", \"UUID\": \"u-1\", \"Profiling\": {\"ON_CPU\": {"
		"\"PROCESS_CPU\": {\"Threshold\": \"10\", \"Period\": 10, \"Count\": 3}}}}]");
	uint64_t s, ticks = 1000;
	int n = 0, checks = 0, first = 0;

	for (s = 100; s < 120 && !n; s++) {
		put_stat(PID, "java", ticks, 0, START);
		ticks += 99;				/* one CPU, nearly */
		if (agent_cp_tick(cp, s * SEC + SEC / 2, EPOCH + s * 1000, &meters) == 1) {
			checks++;
			EXPECT_EQ(1, meters.n);
		}
		agent_cp_take_reports(cp, s * SEC + SEC / 2, got, &n);
		if (n && !first)
			first = s;
	}
	/* the first check (105.5) sees 5 slots at 99 %: the baseline sample gives none */
	EXPECT_EQ(105, first);
	EXPECT_EQ(1, checks);
	ASSERT_EQ(1, n);
	EXPECT_EQ(AGENT_TARGET_ON_CPU, rep.target);
	EXPECT_EQ(600, rep.duration_s);
	ASSERT_EQ(1, rep.nr_causes);
	EXPECT_EQ(AGENT_CP_PROCESS_CPU, rep.causes[0].type);
	EXPECT_EQ(10.0, rep.causes[0].threshold);
	EXPECT_EQ(99.0, rep.causes[0].current);
	EXPECT_STREQ("rover_con_p_process_cpu", meters.v[0].name);
	EXPECT_EQ(99.0, meters.v[0].value);
	EXPECT_EQ(0, agent_cp_report_ok(cp, rep.id, "task-1", 106 * SEC));
	done(cp);
}

TEST_HARNESS_MAIN
