// SPDX-License-Identifier: GPL-2.0-only
/*
 * Lifecycle: thread exit and exec while registered, close while sampling,
 * a reader killed with SIGKILL, 1024 threads registered at once, and 1000
 * short-lived threads registering and exiting concurrently.
 */
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "common.h"
#include "kselftest_harness.h"

static unsigned int nr_targets(struct swprof *sw)
{
	struct swprof_global_stats gs;

	if (swprof_global_stats(sw, &gs))
		return ~0u;
	return gs.nr_targets;
}

/* Targets are freed after an RCU grace period: wait for the count to settle. */
static unsigned int wait_nr_targets(struct swprof *sw, unsigned int want)
{
	unsigned int n = nr_targets(sw);
	int i;

	for (i = 0; i < 300 && n != want; i++) {
		usleep(10000);
		n = nr_targets(sw);
	}
	return n;
}

static int reg_tid(struct swprof *sw, pid_t tid, __u64 period, __u32 ring, struct swprof_target **t)
{
	SWPROF_OPTS(swprof_target_opts, o,
		.tid = tid,
		.mode = SWPROF_MODE_CPU,
		.flags = SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE,
		.period_ns = period,
		.ring_size = ring,
		.max_user_depth = 16,
	);
	return swprof_register(sw, &o, t);
}

static void *spin_then_exit(void *arg)
{
	uint64_t t0;

	atomic_store((atomic_int *)arg, gettid_());
	t0 = mono_ns();
	while (mono_ns() - t0 < 300000000ull)
		chain_sink++;
	return NULL;
}

TEST(exit_while_registered)
{
	struct swprof *sw;
	struct swprof_target *t;
	struct swprof_target_stats st;
	struct drained d;
	struct pollfd pfd;
	atomic_int tid = 0;
	pthread_t th;

	ASSERT_EQ(0, swprof_open(NULL, &sw));
	pthread_create(&th, NULL, spin_then_exit, &tid);
	while (!atomic_load(&tid))
		usleep(100);
	ASSERT_EQ(0, reg_tid(sw, tid, 1000000, 1 << 18, &t));
	pthread_join(th, NULL);
	usleep(50000);
	drained_init(&d);
	drain(t, &d);
	EXPECT_GT(d.samples, 10);
	EXPECT_EQ(1, d.exits);
	EXPECT_EQ(SWPROF_REC_EXIT, d.last_type);
	pfd.fd = swprof_target_fd(t);
	pfd.events = POLLIN;
	EXPECT_EQ(1, poll(&pfd, 1, 1000));
	EXPECT_TRUE(pfd.revents & POLLHUP);
	ASSERT_EQ(0, swprof_target_stats(t, &st));
	EXPECT_TRUE(st.flags & SWPROF_TSTATE_EXITED);
	EXPECT_FALSE(st.flags & SWPROF_TSTATE_ENABLED);
	EXPECT_EQ(-ESRCH, swprof_target_enable(t));
	swprof_target_free(t);
	swprof_close(sw);
}

TEST(exec_while_registered)
{
	struct swprof *sw;
	struct swprof_target *t;
	struct drained d;
	int go[2], status;
	pid_t child;
	char c;

	ASSERT_EQ(0, swprof_open(NULL, &sw));
	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		execl("/bin/sh", "sh", "-c", "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done", NULL);
		_exit(4);
	}
	close(go[0]);
	ASSERT_EQ(0, reg_tid(sw, child, 1000000, 1 << 18, &t));
	ASSERT_EQ(1, write(go[1], "x", 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	usleep(50000);
	drained_init(&d);
	drain(t, &d);
	TH_LOG("samples %u, exec %u (%s), exit %u", d.samples, d.execs, d.exec_comm, d.exits);
	EXPECT_EQ(1, d.execs);
	EXPECT_STREQ("sh", d.exec_comm);
	EXPECT_EQ(0, d.exec_flags);
	EXPECT_GT(d.samples, 0);
	EXPECT_EQ(1, d.exits);
	EXPECT_EQ(SWPROF_REC_EXIT, d.last_type);
	swprof_target_free(t);
	swprof_close(sw);
}

TEST(close_while_sampling)
{
	struct swprof *sw;
	struct swprof_target *t;
	struct spinner sp;
	unsigned int base;
	int i;

	ASSERT_EQ(0, swprof_open(NULL, &sw));
	base = wait_nr_targets(sw, 0);
	spinner_start(&sp);
	for (i = 0; i < 200; i++) {
		ASSERT_EQ(0, reg_tid(sw, sp.tid, 100000, 8192, &t));
		usleep(i % 7 * 300);
		swprof_target_free(t);
	}
	spinner_stop(&sp);
	EXPECT_EQ(base, wait_nr_targets(sw, base));
	swprof_close(sw);
}

TEST(reader_killed)
{
	struct swprof *sw;
	struct spinner sp;
	unsigned int base;
	int ready[2], status;
	pid_t child;
	char c;

	ASSERT_EQ(0, swprof_open(NULL, &sw));
	base = wait_nr_targets(sw, 0);
	spinner_start(&sp);
	ASSERT_EQ(0, pipe(ready));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		struct swprof *csw;
		struct swprof_target *ct;

		if (swprof_open(NULL, &csw) || reg_tid(csw, sp.tid, 100000, 1 << 16, &ct))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	EXPECT_EQ(base + 1, nr_targets(sw));
	usleep(100000);
	kill(child, SIGKILL);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(base, wait_nr_targets(sw, base));
	spinner_stop(&sp);
	swprof_close(sw);
}

/*
 * The sleepers block in read() on a pipe until its write end is closed:
 * no wakeups while 1024 threads are registered one by one (a thread that
 * polled every 20 ms made 51k wakeups a second, which kept both TCG vCPUs
 * busy and made this test take minutes).
 */
static int sleepers_pipe[2];

static void *sleeper(void *arg)
{
	char c;

	atomic_store((atomic_int *)arg, gettid_());
	while (read(sleepers_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

#define MANY 1024

/*
 * On the debug kernel (tools/debug-kernel: KASAN, lockdep; run-in-guest sets
 * SWPROF_DEBUG_KERNEL=1) registration slowed down with every thread added
 * when the sleepers still woke every 20 ms: 256 passed in under a minute
 * there, 512 had not finished after 7 minutes.  The debug kernel is there
 * for KASAN/lockdep/kmemleak, not for scale: it registers 256.
 */
static int many_threads(void)
{
	return getenv("SWPROF_DEBUG_KERNEL") ? 256 : MANY;
}

/* Heavy tests: TCG on a busy 2-core host needs more than the default 30 s. */
FIXTURE(heavy) {
	int unused;
};

FIXTURE_SETUP(heavy)
{
}

FIXTURE_TEARDOWN(heavy)
{
}

TEST_F_TIMEOUT(heavy, many_registered, 600)
{
	static pthread_t th[MANY];
	static atomic_int tids[MANY];
	static struct swprof_target *t[MANY];
	struct swprof *sw;
	pthread_attr_t attr;
	unsigned int base;
	int i, err, many = many_threads();

	struct rlimit rl = { MANY + 64, MANY + 64 };

	if (many != MANY)
		TH_LOG("SWPROF_DEBUG_KERNEL: %d threads, not %d", many, MANY);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl)) TH_LOG("one fd per target: need %d fds", MANY + 64);
	ASSERT_EQ(0, swprof_open(NULL, &sw));
	base = wait_nr_targets(sw, 0);
	ASSERT_EQ(0, pipe(sleepers_pipe));
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (i = 0; i < many; i++) {
		tids[i] = 0;
		ASSERT_EQ(0, pthread_create(&th[i], &attr, sleeper, &tids[i]));
	}
	for (i = 0; i < many; i++) {
		while (!atomic_load(&tids[i]))
			usleep(1000);
		err = reg_tid(sw, tids[i], 1000000, 4096, &t[i]);
		ASSERT_EQ(0, err) TH_LOG("thread %d: %s", i, swprof_strerror(err));
	}
	EXPECT_EQ(base + many, nr_targets(sw));
	close(sleepers_pipe[1]);		/* every sleeper's read() returns 0 */
	for (i = 0; i < many; i++)
		pthread_join(th[i], NULL);
	close(sleepers_pipe[0]);
	for (i = 0; i < many; i++)
		swprof_target_free(t[i]);
	EXPECT_EQ(base, wait_nr_targets(sw, base));
	swprof_close(sw);
}

/* 1000 threads, 32 at a time, each registering itself, sampled, exiting. */
#define SHORT_LIVED 1000
#define WAVE 32

struct short_arg {
	struct swprof *sw;
	struct swprof_target *t;
	int err;
	bool close_before_exit;
};

static void *short_lived(void *p)
{
	struct short_arg *a = p;
	uint64_t t0 = mono_ns();

	a->err = reg_tid(a->sw, 0, 100000, 8192, &a->t);
	while (mono_ns() - t0 < 2000000)
		chain_sink++;
	if (!a->err && a->close_before_exit) {
		swprof_target_free(a->t);
		a->t = NULL;
	}
	return NULL;
}

TEST_F_TIMEOUT(heavy, short_lived_threads, 600)
{
	static struct short_arg args[WAVE];
	pthread_t th[WAVE];
	struct swprof *sw;
	unsigned int base, failures = 0;
	int i, w;

	ASSERT_EQ(0, swprof_open(NULL, &sw));
	base = wait_nr_targets(sw, 0);
	for (w = 0; w < SHORT_LIVED / WAVE + 1; w++) {
		int n = w == SHORT_LIVED / WAVE ? SHORT_LIVED % WAVE : WAVE;

		for (i = 0; i < n; i++) {
			args[i] = (struct short_arg){ .sw = sw, .close_before_exit = (i + w) & 1 };
			ASSERT_EQ(0, pthread_create(&th[i], NULL, short_lived, &args[i]));
		}
		for (i = 0; i < n; i++) {
			pthread_join(th[i], NULL);
			if (args[i].err)
				failures++;
			if (args[i].t)
				swprof_target_free(args[i].t);
		}
	}
	EXPECT_EQ(0, failures);
	EXPECT_EQ(base, wait_nr_targets(sw, base));
	swprof_close(sw);
}

TEST_HARNESS_MAIN
