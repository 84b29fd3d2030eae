// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reload stress: unload and load swprof.ko SWPROF_RELOAD_CYCLES times (200
 * by default) while the module is busy.  Each cycle registers a spinning
 * thread in CPU mode, a thread that sleeps 1 ms at a time in OFFCPU mode,
 * a half-spinning, half-sleeping thread in WALL mode and a whole child
 * process (two threads) in WALL mode, waits for records from each, joins
 * the netlink events group, then lets go of every fd and unloads the
 * module while the threads go on running and switching (so the scheduler
 * tracepoints are detached, and __schedule's text patched, while both CPUs
 * run it) and while the listener is still subscribed, which must then read
 * -ENODEV.  Then the module is loaded again.  The threads live across the
 * cycles.
 *
 * Needs the module to itself: run-in-guest runs it with
 * SWPROF_RELOAD_KO=path/to/swprof.ko; without it, it skips.  tools/vm
 * fails the run if the kernel log shows any report (docs/testing.md).
 */
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "common.h"
#include "blocking.h"
#include "events_dl.h"
#include "kselftest_harness.h"

static atomic_int stop_all;

struct worker {
	pthread_t thread;
	atomic_int tid;
	void (*body)(void);
};

static void body_offcpu(void)
{
	while (!atomic_load_explicit(&stop_all, memory_order_relaxed))
		block_nanosleep(1000000);
}

static void body_wall(void)
{
	uint64_t t0;

	while (!atomic_load_explicit(&stop_all, memory_order_relaxed)) {
		t0 = mono_ns();
		while (mono_ns() - t0 < 2000000)
			chain_sink++;
		block_nanosleep(2000000);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	atomic_store(&w->tid, gettid_());
	w->body();
	return NULL;
}

static void worker_start(struct worker *w, void (*body)(void))
{
	w->body = body;
	atomic_store(&w->tid, 0);
	pthread_create(&w->thread, NULL, worker_main, w);
	while (!atomic_load(&w->tid))
		usleep(1000);
}

/* The child process: a spinner and a sleeper until its parent goes away. */
static void child_main(void)
{
	struct worker w;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	worker_start(&w, body_wall);
	for (;;)
		block_nanosleep(3000000);
}

static int reg(struct swprof *sw, pid_t tid, __u32 mode, struct swprof_target **t)
{
	SWPROF_OPTS(swprof_target_opts, o,
		.tid = tid,
		.mode = mode,
		.flags = SWPROF_TARGET_USTACK | SWPROF_TARGET_KSTACK | SWPROF_TARGET_ENABLE,
		.period_ns = 1000000,
		.ring_size = 16384,
		.max_user_depth = 16,
	);
	return swprof_register(sw, &o, t);
}

static int reg_process(struct swprof *sw, pid_t pid, struct swprof_group **g)
{
	SWPROF_OPTS(swprof_target_opts, o,
		.tid = pid,
		.mode = SWPROF_MODE_WALL,
		.flags = SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE,
		.period_ns = 1000000,
		.ring_size = 16384,
		.max_user_depth = 16,
	);
	return swprof_register_process(sw, &o, g);
}

static int count_rec(void *ctx, const struct swprof_rec *rec)
{
	if (swprof_rec_valid(rec))
		++*(unsigned long *)ctx;
	return 0;
}

/* Records read from @t within @ms (at least one is wanted). */
static unsigned long wait_records(struct swprof_target *t, int ms)
{
	uint64_t end = mono_ns() + (uint64_t)ms * 1000000;
	unsigned long n = 0;

	while (!n && mono_ns() < end) {
		swprof_target_wait(t, 50);
		swprof_target_read(t, count_rec, &n, 0);
	}
	return n;
}

static int ignore_event(void *ctx, const struct swprof_event *e)
{
	return 0;
}

/* -ENODEV from the listener once the family is gone (within ~2 s). */
static int listener_sees_unload(struct swprof_events *ev)
{
	struct pollfd p = { .fd = evl.fd(ev), .events = POLLIN };
	int rc = 0, i;

	for (i = 0; i < 200; i++) {
		rc = evl.read(ev, ignore_event, NULL);
		if (rc == -ENODEV)
			return rc;
		poll(&p, 1, 10);
	}
	return rc;
}

struct cycle_counts {
	unsigned long cpu, offcpu, wall, process;
	unsigned int process_threads;
};

/* One load of the module: everything busy, then unloaded under the listener. */
static void cycle(struct __test_metadata *_metadata, const char *ko, pid_t cpu_tid,
		  pid_t offcpu_tid, pid_t wall_tid, pid_t child, struct cycle_counts *c)
{
	struct swprof_target *t[3], *pt[4];
	struct swprof_events *ev, *ev2;
	struct swprof_group *g;
	struct swprof *sw;
	unsigned int npt = 0, i;
	uint64_t end;

	ASSERT_EQ(0, swprof_open(NULL, &sw));
	ASSERT_EQ(0, evl.open(NULL, &ev));
	ASSERT_EQ(0, reg(sw, cpu_tid, SWPROF_MODE_CPU, &t[0]));
	ASSERT_EQ(0, reg(sw, offcpu_tid, SWPROF_MODE_OFFCPU, &t[1]));
	ASSERT_EQ(0, reg(sw, wall_tid, SWPROF_MODE_WALL, &t[2]));
	ASSERT_EQ(0, reg_process(sw, child, &g));
	/* the child's two threads are attached by a work item: accept them */
	end = mono_ns() + 2000000000ull;
	while (npt < 2 && mono_ns() < end) {
		if (swprof_group_wait(g, 50) == SWPROF_WAIT_DATA)
			while (npt < 4 && !swprof_group_accept(g, &pt[npt]))
				npt++;
	}
	c->process_threads += npt;
	EXPECT_EQ(2, npt);

	c->cpu += wait_records(t[0], 3000);
	c->offcpu += wait_records(t[1], 3000);
	c->wall += wait_records(t[2], 3000);
	for (i = 0; i < npt; i++)
		c->process += wait_records(pt[i], 3000);

	for (i = 0; i < npt; i++)
		swprof_target_free(pt[i]);
	swprof_group_free(g);
	for (i = 0; i < 3; i++)
		swprof_target_free(t[i]);
	swprof_close(sw);

	/* the threads go on switching while the tracepoints are detached */
	ASSERT_EQ(0, module_unload());
	EXPECT_EQ(-ENODEV, listener_sees_unload(ev));
	EXPECT_NE(0, evl.open(NULL, &ev2));
	evl.close(ev);
	ASSERT_EQ(0, module_load(ko));
}

FIXTURE(reload) {};
FIXTURE_SETUP(reload) {}
FIXTURE_TEARDOWN(reload) {}

/* ~0.25 s per cycle under TCG on an idle 2-core host */
TEST_F_TIMEOUT(reload, under_load, 1800)
{
	const char *ko = getenv("SWPROF_RELOAD_KO");
	const char *cycles_env = getenv("SWPROF_RELOAD_CYCLES");
	unsigned int cycles = cycles_env ? (unsigned int)atoi(cycles_env) : 200, i;
	struct worker offcpu, wall;
	struct cycle_counts c = { 0 };
	struct spinner sp;
	uint64_t t0;
	pid_t child;
	int status;

	if (!ko)
		SKIP(return, "set SWPROF_RELOAD_KO=path/to/swprof.ko to unload and reload the module");
	ASSERT_LT(0, cycles);
	LOAD_EVL();
	ASSERT_EQ(0, access("/sys/module/swprof", F_OK)) TH_LOG("load the module first");

	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		child_main();
		_exit(0);
	}
	spinner_start(&sp);
	worker_start(&offcpu, body_offcpu);
	worker_start(&wall, body_wall);

	t0 = mono_ns();
	for (i = 0; i < cycles; i++) {
		cycle(_metadata, ko, atomic_load(&sp.tid), atomic_load(&offcpu.tid),
		      atomic_load(&wall.tid), child, &c);
		if (!_metadata->passed)
			break;
	}
	TH_LOG("%u of %u cycles in %.1f s; records: cpu %lu, offcpu %lu, wall %lu, "
	       "process %lu from %u threads",
	       i, cycles, (mono_ns() - t0) / 1e9, c.cpu, c.offcpu, c.wall, c.process,
	       c.process_threads);

	atomic_store(&stop_all, 1);
	spinner_stop(&sp);
	pthread_join(offcpu.thread, NULL);
	pthread_join(wall.thread, NULL);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);

	EXPECT_EQ(cycles, i);
	/* every target gave records in every cycle */
	EXPECT_LE(cycles, c.cpu);
	EXPECT_LE(cycles, c.offcpu);
	EXPECT_LE(cycles, c.wall);
	EXPECT_LE(2UL * cycles, c.process);
	/* and the module is back, working */
	EXPECT_EQ(0, access("/dev/swprof", F_OK));
}

TEST_HARNESS_MAIN
