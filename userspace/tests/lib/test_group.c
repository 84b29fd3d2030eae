// SPDX-License-Identifier: GPL-2.0-only
/*
 * libswprof group fds without the module: process registration, accept and
 * the mmap of accepted targets, group statistics and waits, and the options
 * (min_block_ns, SWPROF_TARGET_PROCESS) that API 1.1 added.
 */
#include <poll.h>

/* The 6.1 harness defines global functions and compares with the literal's type. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "fake_swprof.h"

FIXTURE(group) {
	int memfd;
	char path[64];
	struct swprof *sw;
	struct swprof_group *g;
};

FIXTURE_SETUP(group)
{
	SWPROF_OPTS(swprof_open_opts, opts, .path = self->path);

	self->memfd = fake_setup(self->path, sizeof(self->path));
	self->g = NULL;
	ASSERT_EQ(0, swprof_open(&opts, &self->sw));
}

FIXTURE_TEARDOWN(group)
{
	swprof_group_free(self->g);
	swprof_close(self->sw);
	close(self->memfd);
}

static void add_pending(__u32 tid, __u32 pid)
{
	fake.pending[fake.nr_pending].tid = tid;
	fake.pending[fake.nr_pending].pid = pid;
	fake.nr_pending++;
}

TEST_F(group, register_process_passes_every_option_and_the_process_flag)
{
	SWPROF_OPTS(swprof_target_opts, opts,
		.tid = 4321,
		.mode = SWPROF_MODE_OFFCPU,
		.flags = SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE,
		.ring_size = 1 << 16,
		.period_ns = 2000000,
		.max_kernel_depth = 11,
		.max_user_depth = 22,
		.raw_stack_size = 256,
		.wakeup_bytes = 1024,
		.min_block_ns = 50000,
	);
	int fd;

	ASSERT_EQ(0, swprof_register_process(self->sw, &opts, &self->g));
	EXPECT_EQ(1, fake.registers);
	EXPECT_EQ(sizeof(struct swprof_target_attr), fake.attr.size);
	EXPECT_EQ(4321, fake.attr.tid);
	EXPECT_EQ(SWPROF_MODE_OFFCPU, fake.attr.mode);
	EXPECT_EQ(SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE | SWPROF_TARGET_PROCESS,
		  fake.attr.flags);
	EXPECT_EQ(1 << 16, fake.attr.ring_size);
	EXPECT_EQ(2000000, fake.attr.period_ns);
	EXPECT_EQ(11, fake.attr.max_kernel_depth);
	EXPECT_EQ(22, fake.attr.max_user_depth);
	EXPECT_EQ(256, fake.attr.raw_stack_size);
	EXPECT_EQ(1024, fake.attr.wakeup_bytes);
	EXPECT_EQ(50000, fake.attr.min_block_ns);
	fd = swprof_group_fd(self->g);
	EXPECT_TRUE(fd_is(fd, FAKE_GROUP));
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

TEST_F(group, min_block_ns_reaches_a_single_thread_registration_too)
{
	SWPROF_OPTS(swprof_target_opts, opts, .mode = SWPROF_MODE_OFFCPU,
		    .flags = SWPROF_TARGET_USTACK, .min_block_ns = 777);
	struct swprof_target *t;

	ASSERT_EQ(0, swprof_register(self->sw, &opts, &t));
	EXPECT_EQ(777, fake.attr.min_block_ns);
	EXPECT_EQ(0, fake.attr.flags & SWPROF_TARGET_PROCESS);
	swprof_target_free(t);
}

TEST_F(group, register_refuses_the_process_flag_without_asking_the_module)
{
	SWPROF_OPTS(swprof_target_opts, opts, .tid = 1,
		    .flags = SWPROF_TARGET_USTACK | SWPROF_TARGET_PROCESS);
	struct swprof_target *t = (void *)1;

	EXPECT_EQ(-EINVAL, swprof_register(self->sw, &opts, &t));
	EXPECT_EQ(NULL, t);
	EXPECT_EQ(0, fake.registers);
}

TEST_F(group, older_opts_without_min_block_ns_read_it_as_zero)
{
	struct {
		struct swprof_target_opts o;
	} old;
	struct swprof_target_attr attr;

	memset(&old, 0, sizeof(old));
	old.o.sz = offsetofend(struct swprof_target_opts, wakeup_bytes);
	old.o.wakeup_bytes = 64;
	old.o.min_block_ns = 999;	/* past sz: not the caller's */
	ASSERT_EQ(0, swprof_target_attr_from_opts(&old.o, &attr));
	EXPECT_EQ(64, attr.wakeup_bytes);
	EXPECT_EQ(0, attr.min_block_ns);
}

TEST_F(group, newer_opts_with_unknown_nonzero_tail_are_refused)
{
	struct {
		struct swprof_target_opts o;
		__u64 newer_field;
	} big;

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.o.flags = SWPROF_TARGET_USTACK;
	big.newer_field = 1;
	EXPECT_EQ(-EINVAL, swprof_register_process(self->sw, &big.o, &self->g));
	EXPECT_EQ(NULL, self->g);
	EXPECT_EQ(0, fake.registers);
	big.newer_field = 0;
	EXPECT_EQ(0, swprof_register_process(self->sw, &big.o, &self->g));
}

TEST_F(group, register_process_errors_are_negative_errno)
{
	fake.register_errno = ESRCH;
	EXPECT_EQ(-ESRCH, swprof_register_process(self->sw, NULL, &self->g));
	EXPECT_EQ(NULL, self->g);
	EXPECT_EQ(SWPROF_TARGET_PROCESS, fake.attr.flags);	/* NULL opts: the flag alone */
}

TEST_F(group, accept_maps_each_pending_thread_then_eagain)
{
	const struct swprof_comm *comm;
	const struct swprof_rec *rec;
	struct swprof_target *t1, *t2, *t3 = (void *)1;

	ASSERT_EQ(0, swprof_register_process(self->sw, NULL, &self->g));
	add_pending(101, 100);
	add_pending(102, 100);

	ASSERT_EQ(0, swprof_group_accept(self->g, &t1));
	EXPECT_EQ(101, swprof_target_tid(t1));
	EXPECT_EQ(100, swprof_target_pid(t1));
	EXPECT_EQ(FAKE_RING, swprof_target_header(t1)->data_size);
	EXPECT_TRUE(fd_is(swprof_target_fd(t1), FAKE_TARGET));
	ASSERT_EQ(1, swprof_target_next(t1, &rec));
	comm = swprof_rec_comm(rec);
	ASSERT_NE(NULL, comm);
	EXPECT_STREQ("worker-101", comm->comm);
	swprof_target_consume(t1);

	ASSERT_EQ(0, swprof_group_accept(self->g, &t2));
	EXPECT_EQ(102, swprof_target_tid(t2));
	EXPECT_EQ(-EAGAIN, swprof_group_accept(self->g, &t3));
	EXPECT_EQ(NULL, t3);
	EXPECT_EQ(3, fake.accepts);
	swprof_target_free(t1);
	swprof_target_free(t2);
}

TEST_F(group, accept_of_a_ring_in_another_format_closes_that_target)
{
	struct swprof_target *t = (void *)1;
	int probe;

	ASSERT_EQ(0, swprof_register_process(self->sw, NULL, &self->g));
	add_pending(7, 7);
	fake.ring_version = SWPROF_RING_VERSION + 1;
	probe = dup(0);
	close(probe);
	EXPECT_EQ(-EPROTO, swprof_group_accept(self->g, &t));
	EXPECT_EQ(NULL, t);
	EXPECT_EQ(probe, dup(0));	/* the accepted fd was closed */
}

TEST_F(group, accept_errors_are_negative_errno)
{
	struct swprof_target *t;

	ASSERT_EQ(0, swprof_register_process(self->sw, NULL, &self->g));
	fake.accept_errno = EMFILE;
	EXPECT_EQ(-EMFILE, swprof_group_accept(self->g, &t));
	EXPECT_EQ(NULL, t);
}

TEST_F(group, stats_are_passed_through)
{
	struct swprof_group_stats st;

	ASSERT_EQ(0, swprof_register_process(self->sw, NULL, &self->g));
	fake.group_stats = (struct swprof_group_stats) {
		.size = sizeof(st), .state = SWPROF_GSTATE_EXITED, .pid = 55,
		.pending = 2, .attached = 9, .missed = 1,
	};
	memset(&st, 0xcc, sizeof(st));
	ASSERT_EQ(0, swprof_group_stats(self->g, &st));
	EXPECT_EQ(sizeof(st), st.size);
	EXPECT_EQ(SWPROF_GSTATE_EXITED, st.state);
	EXPECT_EQ(55, st.pid);
	EXPECT_EQ(2, st.pending);
	EXPECT_EQ(9, st.attached);
	EXPECT_EQ(1, st.missed);
}

TEST_F(group, trace_task_calls_on_a_process_group_are_enotty)
{
	SWPROF_OPTS(swprof_trace_task_opts, opts, .endpoint = "GET:/x",
		    .max_sampling_count = 1);
	__u32 id = 5;

	ASSERT_EQ(0, swprof_register_process(self->sw, NULL, &self->g));
	EXPECT_EQ(-ENOTTY, swprof_trace_task_add(self->g, &opts, &id));
	EXPECT_EQ(0, id);
}

TEST_F(group, from_fd_duplicates_and_free_closes_only_the_copy)
{
	struct swprof_group *copy = (void *)1;
	int fd;

	ASSERT_EQ(0, swprof_register_process(self->sw, NULL, &self->g));
	fd = swprof_group_fd(self->g);
	ASSERT_EQ(0, swprof_group_from_fd(fd, &copy));
	EXPECT_NE(fd, swprof_group_fd(copy));
	EXPECT_TRUE(fd_is(swprof_group_fd(copy), FAKE_GROUP));
	EXPECT_EQ(FD_CLOEXEC, fcntl(swprof_group_fd(copy), F_GETFD) & FD_CLOEXEC);
	swprof_group_free(copy);
	EXPECT_LE(0, fcntl(fd, F_GETFD));
	EXPECT_EQ(-EBADF, swprof_group_from_fd(-1, &copy));
	EXPECT_EQ(NULL, copy);
	swprof_group_free(NULL);
}

/* The wait results, on a pipe standing in for the group fd's poll. */
TEST(group_wait_maps_pollin_and_pollhup)
{
	struct swprof_group *g;
	int p[2];
	char c;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, swprof_group_from_fd(p[0], &g));
	EXPECT_EQ(SWPROF_WAIT_TIMEOUT, swprof_group_wait(g, 0));
	ASSERT_EQ(1, write(p[1], "x", 1));
	EXPECT_EQ(SWPROF_WAIT_DATA, swprof_group_wait(g, 0));
	close(p[1]);
	EXPECT_EQ(SWPROF_WAIT_DATA, swprof_group_wait(g, 0));	/* pending first */
	ASSERT_EQ(1, read(p[0], &c, 1));
	EXPECT_EQ(SWPROF_WAIT_EXITED, swprof_group_wait(g, -1));
	swprof_group_free(g);
	close(p[0]);
}

TEST(group_wait_on_a_closed_fd_is_ebadf)
{
	struct swprof_group *g;
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, swprof_group_from_fd(p[0], &g));
	close(swprof_group_fd(g));
	EXPECT_EQ(-EBADF, swprof_group_wait(g, 0));
	g->fd = -1;		/* already closed */
	swprof_group_free(g);
	close(p[0]);
	close(p[1]);
}

TEST_HARNESS_MAIN
