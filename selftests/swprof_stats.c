// SPDX-License-Identifier: GPL-2.0-only
/*
 * Module-wide counters agree with the per-target ones: every timer miss a
 * target counts in its ring header is counted in SWPROF_IOC_GLOBAL_STATS
 * too, and nothing else is.
 *
 * The misses come from WALL targets whose threads hop on and off a CPU:
 * a tick on CPU 0 sees the thread running on CPU 1 and sends an IPI there,
 * and by the time the IPI arrives another thread often runs (the miss that
 * the IPI itself counts), or the previous IPI is still on its way.
 */
#include <sched.h>

#include "common.h"
#include "kselftest_harness.h"

#define MS 1000000ull
#define NR_HOPPERS 6
#define ROUNDS 3

static atomic_int hop_stop;

struct hopper {
	pthread_t thread;
	atomic_int tid;
};

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* Spin a few microseconds, give the CPU to the next hopper, again. */
static void *hop(void *arg)
{
	struct hopper *h = arg;
	uint64_t until;

	pin(1);
	atomic_store(&h->tid, gettid_());
	while (!atomic_load_explicit(&hop_stop, memory_order_relaxed)) {
		until = mono_ns() + 20000;
		while (mono_ns() < until)
			chain_sink++;
		sched_yield();
	}
	return NULL;
}

TEST(timer_misses_global_equals_sum_of_targets)
{
	struct swprof_target *t[NR_HOPPERS];
	struct hopper h[NR_HOPPERS];
	struct swprof_global_stats before = { .size = sizeof(before) };
	struct swprof_global_stats after = { .size = sizeof(after) };
	struct swprof *sw;
	uint64_t sum = 0, global;
	int i, round;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs: a tick on one, the thread on the other");
	ASSERT_EQ(0, swprof_open(NULL, &sw));
	ASSERT_TRUE(swprof_has_feature(sw, SWPROF_FEAT_MODE_WALL));
	/* the ticks are armed (and stay) on the registering CPU */
	ASSERT_EQ(0, pin(0));
	atomic_store(&hop_stop, 0);
	for (i = 0; i < NR_HOPPERS; i++) {
		atomic_store(&h[i].tid, 0);
		ASSERT_EQ(0, pthread_create(&h[i].thread, NULL, hop, &h[i]));
	}
	for (i = 0; i < NR_HOPPERS; i++) {
		while (!atomic_load(&h[i].tid))
			usleep(1000);
		SWPROF_OPTS(swprof_target_opts, opts,
			.tid = atomic_load(&h[i].tid),
			.mode = SWPROF_MODE_WALL,
			.flags = SWPROF_TARGET_USTACK,
			.period_ns = 1 * MS,
			.ring_size = 1 << 20,
		);
		ASSERT_EQ(0, swprof_register(sw, &opts, &t[i]));
	}
	/* whatever earlier tests left in flight has landed by now */
	usleep(200000);
	ASSERT_EQ(0, swprof_global_stats(sw, &before));
	for (round = 0; round < ROUNDS && !sum; round++) {
		for (i = 0; i < NR_HOPPERS; i++)
			ASSERT_EQ(0, swprof_target_enable(t[i]));
		usleep(2000000);
		for (i = 0; i < NR_HOPPERS; i++)
			ASSERT_EQ(0, swprof_target_disable(t[i]));
		/* an IPI sent by the last ticks may still count a miss: let it */
		usleep(200000);
		sum = 0;
		for (i = 0; i < NR_HOPPERS; i++) {
			struct swprof_target_stats st = { .size = sizeof(st) };

			ASSERT_EQ(0, swprof_target_stats(t[i], &st));
			sum += st.timer_misses;
			/* the header and the stats ioctl read the same counter */
			EXPECT_EQ(st.timer_misses, swprof_target_header(t[i])->timer_misses);
		}
	}
	ASSERT_EQ(0, swprof_global_stats(sw, &after));
	atomic_store(&hop_stop, 1);
	for (i = 0; i < NR_HOPPERS; i++)
		pthread_join(h[i].thread, NULL);
	global = after.timer_misses - before.timer_misses;
	TH_LOG("%d round(s): timer misses: %llu in the targets' rings, %llu module-wide; samples %llu",
	       round, (unsigned long long)sum, (unsigned long long)global,
	       (unsigned long long)(after.samples - before.samples));
	for (i = 0; i < NR_HOPPERS; i++)
		swprof_target_free(t[i]);
	swprof_close(sw);
	if (!sum && !global)
		SKIP(return, "no timer miss in %d rounds: nothing to compare", ROUNDS);
	EXPECT_EQ(sum, global);
}

TEST_HARNESS_MAIN
