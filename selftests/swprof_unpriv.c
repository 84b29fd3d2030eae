// SPDX-License-Identifier: GPL-2.0-only
/*
 * What an unprivileged user may do: register its own threads, never with
 * kernel stacks, never another user's thread, never see a kernel address,
 * and never keep sampling a thread that exec'd into a setuid program.
 * run-in-guest runs this as nobody.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include "common.h"
#include "kselftest_harness.h"

FIXTURE(nobody) {
	struct swprof *sw;
};

FIXTURE_SETUP(nobody)
{
	ASSERT_NE(0, geteuid()) TH_LOG("run me as an unprivileged user (run-in-guest uses nobody)");
	ASSERT_EQ(0, swprof_open(NULL, &self->sw));
}

FIXTURE_TEARDOWN(nobody)
{
	swprof_close(self->sw);
}

static int reg(struct swprof *sw, pid_t tid, __u32 flags, __u32 raw, struct swprof_target **t)
{
	SWPROF_OPTS(swprof_target_opts, o,
		.tid = tid,
		.mode = SWPROF_MODE_CPU,
		.flags = flags,
		.period_ns = 1000000,
		.ring_size = 1 << 18,
		.raw_stack_size = raw,
	);
	return swprof_register(sw, &o, t);
}

TEST_F(nobody, no_caps)
{
	EXPECT_EQ(0, swprof_version(self->sw)->caps);
	EXPECT_EQ(-EPERM, swprof_reset_stats(self->sw));
}

TEST_F(nobody, kernel_stacks_refused)
{
	struct swprof_target *t;

	EXPECT_EQ(-EPERM, reg(self->sw, 0, SWPROF_TARGET_KSTACK, 0, &t));
	EXPECT_EQ(-EPERM, reg(self->sw, 0, SWPROF_TARGET_KSTACK | SWPROF_TARGET_USTACK, 0, &t));
}

TEST_F(nobody, other_users_thread_refused)
{
	struct swprof_target *t;

	/* pid 1 is the guest's init, running as root */
	EXPECT_EQ(-EPERM, reg(self->sw, 1, SWPROF_TARGET_USTACK, 0, &t));
}

static atomic_int zstop;

static void *zero_reader(void *arg)
{
	static char buf[1 << 16];
	int fd = open("/dev/zero", O_RDONLY);

	atomic_store((atomic_int *)arg, gettid_());
	while (!atomic_load(&zstop))
		if (read(fd, buf, sizeof(buf)) < 0)
			break;
	close(fd);
	return NULL;
}

/* Its own thread, busy in the kernel: samples carry user frames and registers only. */
TEST_F(nobody, no_kernel_addresses)
{
	struct swprof_target *t;
	struct drained d;
	atomic_int tid = 0;
	pthread_t th;
	uint64_t c0;

	atomic_store(&zstop, 0);
	pthread_create(&th, NULL, zero_reader, &tid);
	while (!atomic_load(&tid))
		usleep(1000);
	ASSERT_EQ(0, reg(self->sw, tid, SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE, 512, &t));
	drained_init(&d);
	c0 = thread_cpu_ns(th);
	while (thread_cpu_ns(th) - c0 < 300000000ull) {
		swprof_target_wait(t, 50);
		drain(t, &d);
	}
	atomic_store(&zstop, 1);
	pthread_join(th, NULL);
	drain(t, &d);
	TH_LOG("samples %u, with kernel frames %u, kernel-looking values %u, without user context %u",
	       d.samples, d.with_kernel, d.kernel_addr_seen, d.no_user);
	EXPECT_GT(d.samples, 50);
	EXPECT_EQ(0, d.with_kernel);
	EXPECT_EQ(0, d.kernel_addr_seen);
	/*
	 * Every sample with a user context has its registers and raw copy.  The
	 * thread exits still registered: a tick in do_exit() after its mm is
	 * gone has none (seen once on the debug kernel, where that path is slow).
	 */
	EXPECT_EQ(d.samples - d.no_user, d.raw_samples);
	EXPECT_LE(d.no_user, 2);
	swprof_target_free(t);
}

TEST_F(nobody, own_threads_allowed)
{
	struct swprof_target *t;
	struct spinner sp;
	struct drained d;

	spinner_start(&sp);
	ASSERT_EQ(0, reg(self->sw, sp.tid, SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE, 0, &t));
	usleep(300000);
	drained_init(&d);
	drain(t, &d);
	spinner_stop(&sp);
	EXPECT_GT(d.samples, 10);
	EXPECT_GE(d.chain_ok * 100, d.samples * 90);
	swprof_target_free(t);
}

/* A child of ours that execs a setuid-root program: sampling stops, EXEC says why. */
TEST_F(nobody, setuid_exec_stops_sampling)
{
	static const char *const prog = "/usr/bin/passwd";
	struct swprof_target *t;
	struct swprof_target_stats st;
	struct drained d;
	struct stat sb;
	int go[2], status;
	pid_t child;
	char c;

	ASSERT_EQ(0, stat(prog, &sb));
	ASSERT_TRUE(sb.st_mode & S_ISUID) TH_LOG("%s is not setuid here", prog);
	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		execl(prog, "passwd", "--help", NULL);
		_exit(4);
	}
	close(go[0]);
	ASSERT_EQ(0, reg(self->sw, child, SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE, 0, &t));
	ASSERT_EQ(1, write(go[1], "x", 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	drained_init(&d);
	drain(t, &d);
	ASSERT_EQ(0, swprof_target_stats(t, &st));
	TH_LOG("exec records %u, flags %#x, samples %u", d.execs, d.exec_flags, d.samples);
	EXPECT_EQ(1, d.execs);
	EXPECT_TRUE(d.exec_flags & SWPROF_EXEC_DENIED);
	EXPECT_EQ(0, d.samples_after_exec);
	EXPECT_TRUE(st.flags & SWPROF_TSTATE_DENIED);
	EXPECT_EQ(-EPERM, swprof_target_enable(t));
	swprof_target_free(t);
}

TEST_HARNESS_MAIN
