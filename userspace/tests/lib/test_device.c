// SPDX-License-Identifier: GPL-2.0-only
/*
 * libswprof device and target plumbing without the module: the handshake,
 * registration, mmap of a target, options compatibility and errors.
 *
 * This program defines ioctl() itself; libswprof.a, linked statically,
 * calls it.  ioctls on fds that are memfds named "swprof-fake-*" are
 * answered by a fake swprof.ko, every other one goes to the kernel.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The 6.1 harness defines global functions and compares with the literal's type. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "swprof_internal.h"

#define FAKE_DEV	"swprof-fake-dev"
#define FAKE_TARGET	"swprof-fake-target"
#define FAKE_RING	4096

/* What the fake module answers and what it was asked. */
static struct {
	struct swprof_version version;
	__u32 ring_version;		/* written into target headers */
	int register_errno;
	struct swprof_target_attr attr;	/* last REGISTER */
	unsigned int enables, disables, resets;
} fake;

static bool fd_is(int fd, const char *name)
{
	char link[64], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = 0;
	return !strncmp(target, "/memfd:", 7) && !strncmp(target + 7, name, strlen(name));
}

/* Output structs: written up to the caller's size, as the module does. */
static int fake_copy_out(void *arg, const void *src, __u32 ksize)
{
	__u32 usize = *(__u32 *)arg;

	memcpy(arg, src, usize < ksize ? usize : ksize);
	*(__u32 *)arg = usize < ksize ? usize : ksize;
	return 0;
}

/* A target fd: header page, consumer page, data; one EXIT record in it. */
static int fake_register(const struct swprof_target_attr *attr)
{
	long page = sysconf(_SC_PAGESIZE);
	struct swprof_ring_header hdr = {
		.version = fake.ring_version,
		.header_size = sizeof(hdr),
		.consumer_offset = page,
		.data_offset = 2 * page,
		.data_size = FAKE_RING,
		.tid = attr->tid ? attr->tid : (__u32)gettid(),
		.pid = getpid(),
		.producer_pos = sizeof(struct swprof_exit),
	};
	struct swprof_exit rec = {
		.hdr = { .size = sizeof(rec), .type = SWPROF_REC_EXIT, .seq = 0 },
		.tid = hdr.tid,
		.exit_code = 42,
	};
	int fd;

	if (fake.register_errno) {
		errno = fake.register_errno;
		return -1;
	}
	/* A file cannot alias its own pages: the second data copy stays zero. */
	fd = memfd_create(FAKE_TARGET, MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 2 * page + 2 * FAKE_RING) ||
	    pwrite(fd, &hdr, sizeof(hdr), 0) != sizeof(hdr) ||
	    pwrite(fd, &rec, sizeof(rec), 2 * page) != sizeof(rec))
		abort();
	return fd;
}

static int fake_dev_ioctl(unsigned long cmd, void *arg)
{
	switch (cmd) {
	case SWPROF_IOC_VERSION:
		return fake_copy_out(arg, &fake.version, sizeof(fake.version));
	case SWPROF_IOC_REGISTER:
		memcpy(&fake.attr, arg, sizeof(fake.attr));
		return fake_register(arg);
	case SWPROF_IOC_GLOBAL_STATS: {
		struct swprof_global_stats gs = { .nr_targets = 3, .cost_count = 1 };

		gs.cost_hist[9] = 1;
		return fake_copy_out(arg, &gs, sizeof(gs));
	}
	case SWPROF_IOC_RESET_STATS:
		fake.resets++;
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

static int fake_target_ioctl(unsigned long cmd, void *arg)
{
	switch (cmd) {
	case SWPROF_IOC_ENABLE:
		fake.enables++;
		return 0;
	case SWPROF_IOC_DISABLE:
		fake.disables++;
		return 0;
	case SWPROF_IOC_TARGET_STATS: {
		struct swprof_target_stats st = { .tid = fake.attr.tid, .samples = 5 };

		return fake_copy_out(arg, &st, sizeof(st));
	}
	}
	errno = ENOTTY;
	return -1;
}

int ioctl(int fd, unsigned long cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd_is(fd, FAKE_DEV))
		return fake_dev_ioctl(cmd, arg);
	if (fd_is(fd, FAKE_TARGET))
		return fake_target_ioctl(cmd, arg);
	return syscall(SYS_ioctl, fd, cmd, arg);
}

FIXTURE(dev) {
	int memfd;
	char path[64];
	struct swprof *sw;
};

FIXTURE_SETUP(dev)
{
	memset(&fake, 0, sizeof(fake));
	fake.version = (struct swprof_version) {
		.size = sizeof(fake.version),
		.major = SWPROF_API_MAJOR,
		.minor = SWPROF_API_MINOR + 3,
		.features = SWPROF_FEAT_MODE_CPU | SWPROF_FEAT_USTACK_FP,
		.ring_version = SWPROF_RING_VERSION,
		.max_depth = SWPROF_MAX_DEPTH,
		.caps = SWPROF_CAP_PTRACE,
	};
	fake.ring_version = SWPROF_RING_VERSION;
	self->memfd = memfd_create(FAKE_DEV, MFD_CLOEXEC);
	ASSERT_LE(0, self->memfd);
	snprintf(self->path, sizeof(self->path), "/proc/self/fd/%d", self->memfd);
	self->sw = NULL;
}

FIXTURE_TEARDOWN(dev)
{
	swprof_close(self->sw);
	close(self->memfd);
}

static int open_fake(FIXTURE_DATA(dev) *self)
{
	SWPROF_OPTS(swprof_open_opts, opts, .path = self->path);

	return swprof_open(&opts, &self->sw);
}

TEST_F(dev, handshake_keeps_version_features_and_caps)
{
	const struct swprof_version *v;

	ASSERT_EQ(0, open_fake(self));
	v = swprof_version(self->sw);
	EXPECT_EQ(SWPROF_API_MAJOR, v->major);
	EXPECT_EQ(SWPROF_API_MINOR + 3, v->minor);	/* a newer minor is fine */
	EXPECT_EQ(SWPROF_MAX_DEPTH, v->max_depth);
	EXPECT_EQ(SWPROF_CAP_PTRACE, v->caps);
	EXPECT_TRUE(swprof_has_feature(self->sw, SWPROF_FEAT_MODE_CPU));
	EXPECT_TRUE(swprof_has_feature(self->sw, SWPROF_FEAT_MODE_CPU | SWPROF_FEAT_USTACK_FP));
	EXPECT_FALSE(swprof_has_feature(self->sw, SWPROF_FEAT_MODE_CPU | SWPROF_FEAT_KSTACK));
	EXPECT_FALSE(swprof_has_feature(self->sw, 0));
	EXPECT_LE(0, swprof_fd(self->sw));
	EXPECT_EQ(FD_CLOEXEC, fcntl(swprof_fd(self->sw), F_GETFD) & FD_CLOEXEC);
}

TEST_F(dev, other_major_is_eproto)
{
	fake.version.major = SWPROF_API_MAJOR + 1;
	EXPECT_EQ(-EPROTO, open_fake(self));
	EXPECT_EQ(NULL, self->sw);
	EXPECT_NE(NULL, strstr(swprof_strerror(-EPROTO), "API major"));
}

TEST_F(dev, other_ring_format_is_eproto)
{
	fake.version.ring_version = SWPROF_RING_VERSION + 1;
	EXPECT_EQ(-EPROTO, open_fake(self));
}

TEST_F(dev, register_passes_every_option)
{
	SWPROF_OPTS(swprof_target_opts, opts,
		.tid = 77,
		.mode = SWPROF_MODE_CPU,
		.flags = SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE,
		.ring_size = 1 << 16,
		.period_ns = 1000000,
		.max_kernel_depth = 10,
		.max_user_depth = 20,
		.raw_stack_size = 512,
		.wakeup_bytes = 4096,
	);
	struct swprof_target *t;

	ASSERT_EQ(0, open_fake(self));
	ASSERT_EQ(0, swprof_register(self->sw, &opts, &t));
	EXPECT_EQ(sizeof(struct swprof_target_attr), fake.attr.size);
	EXPECT_EQ(77, fake.attr.tid);
	EXPECT_EQ(SWPROF_MODE_CPU, fake.attr.mode);
	EXPECT_EQ(SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE, fake.attr.flags);
	EXPECT_EQ(1 << 16, fake.attr.ring_size);
	EXPECT_EQ(1000000, fake.attr.period_ns);
	EXPECT_EQ(10, fake.attr.max_kernel_depth);
	EXPECT_EQ(20, fake.attr.max_user_depth);
	EXPECT_EQ(512, fake.attr.raw_stack_size);
	EXPECT_EQ(4096, fake.attr.wakeup_bytes);
	EXPECT_EQ(77, swprof_target_tid(t));
	swprof_target_free(t);
}

TEST_F(dev, registered_target_is_mapped_and_controlled)
{
	const struct swprof_rec *rec;
	struct swprof_target_stats st;
	struct swprof_target *t;
	int fd;

	ASSERT_EQ(0, open_fake(self));
	ASSERT_EQ(0, swprof_register(self->sw, NULL, &t));
	EXPECT_EQ(0, fake.attr.tid);			/* NULL opts: all zero */
	EXPECT_EQ(0, fake.attr.flags);
	EXPECT_EQ(gettid(), swprof_target_tid(t));
	EXPECT_EQ(FAKE_RING, swprof_target_header(t)->data_size);

	ASSERT_EQ(1, swprof_target_next(t, &rec));
	EXPECT_EQ(SWPROF_REC_EXIT, rec->type);
	EXPECT_EQ(42, ((const struct swprof_exit *)rec)->exit_code);
	EXPECT_EQ(0, swprof_target_next(t, &rec));
	swprof_target_consume(t);	/* writes the mapped consumer page */

	EXPECT_EQ(0, swprof_target_enable(t));
	EXPECT_EQ(0, swprof_target_disable(t));
	EXPECT_EQ(1, fake.enables);
	EXPECT_EQ(1, fake.disables);
	memset(&st, 0xcc, sizeof(st));
	EXPECT_EQ(0, swprof_target_stats(t, &st));
	EXPECT_EQ(sizeof(st), st.size);
	EXPECT_EQ(5, st.samples);
	EXPECT_EQ(0, st.lost);

	fd = swprof_target_fd(t);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	swprof_target_free(t);
	EXPECT_EQ(-1, fcntl(fd, F_GETFD));	/* closed: unregistered */
}

TEST_F(dev, consumer_position_reaches_the_kernel_side)
{
	const struct swprof_rec *rec;
	struct swprof_ring_consumer cons;
	struct swprof_target *t;

	ASSERT_EQ(0, open_fake(self));
	ASSERT_EQ(0, swprof_register(self->sw, NULL, &t));
	ASSERT_EQ(1, swprof_target_next(t, &rec));
	swprof_target_consume(t);
	ASSERT_EQ(sizeof(cons), pread(swprof_target_fd(t), &cons, sizeof(cons),
				      sysconf(_SC_PAGESIZE)));
	EXPECT_EQ(sizeof(struct swprof_exit), cons.consumer_pos);
	swprof_target_free(t);
}

TEST_F(dev, register_errors_are_negative_errno)
{
	struct swprof_target *t = (void *)1;

	ASSERT_EQ(0, open_fake(self));
	fake.register_errno = ESRCH;
	EXPECT_EQ(-ESRCH, swprof_register(self->sw, NULL, &t));
	EXPECT_EQ(NULL, t);
	fake.register_errno = ENOSPC;
	EXPECT_EQ(-ENOSPC, swprof_register(self->sw, NULL, &t));
}

TEST_F(dev, register_refuses_another_ring_format_without_leaking_the_fd)
{
	struct swprof_target *t;
	int probe;

	ASSERT_EQ(0, open_fake(self));
	fake.ring_version = SWPROF_RING_VERSION + 1;
	probe = dup(0);
	close(probe);
	EXPECT_EQ(-EPROTO, swprof_register(self->sw, NULL, &t));
	EXPECT_EQ(NULL, t);
	/* The lowest free fd is the same again: the target fd was closed. */
	EXPECT_EQ(probe, dup(0));
}

TEST_F(dev, target_from_fd_leaves_the_callers_fd_open)
{
	struct swprof_target *t, *t2;
	const struct swprof_rec *rec;
	int fd;

	ASSERT_EQ(0, open_fake(self));
	ASSERT_EQ(0, swprof_register(self->sw, NULL, &t));
	fd = swprof_target_fd(t);
	ASSERT_EQ(0, swprof_target_from_fd(fd, &t2));
	EXPECT_NE(fd, swprof_target_fd(t2));
	EXPECT_EQ(1, swprof_target_next(t2, &rec));
	swprof_target_free(t2);
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & ~FD_CLOEXEC);	/* still open */
	swprof_target_free(t);
	EXPECT_EQ(-EBADF, swprof_target_from_fd(-1, &t2));
	EXPECT_EQ(NULL, t2);
}

TEST_F(dev, global_stats_and_reset)
{
	struct swprof_global_stats gs;

	ASSERT_EQ(0, open_fake(self));
	memset(&gs, 0xcc, sizeof(gs));
	EXPECT_EQ(0, swprof_global_stats(self->sw, &gs));
	EXPECT_EQ(3, gs.nr_targets);
	EXPECT_EQ(0, gs.samples);
	EXPECT_EQ(88, swprof_cost_percentile(&gs, 50));	/* [80, 96) */
	EXPECT_EQ(0, swprof_reset_stats(self->sw));
	EXPECT_EQ(1, fake.resets);
}

TEST_F(dev, open_opts_with_unknown_nonzero_tail_are_refused)
{
	struct {
		struct swprof_open_opts o;
		__u64 newer_field;
	} big = { .o = { .sz = sizeof(big), .path = self->path }, .newer_field = 1 };

	EXPECT_EQ(-EINVAL, swprof_open(&big.o, &self->sw));
	big.newer_field = 0;
	EXPECT_EQ(0, swprof_open(&big.o, &self->sw));
}

TEST_F(dev, open_opts_smaller_than_path_use_the_default_device)
{
	struct swprof_open_opts o = { .sz = offsetof(struct swprof_open_opts, path),
				      .path = self->path };

	/* path lies past sz: ignored, so /dev/swprof is opened. */
	if (!access(SWPROF_DEVICE, F_OK))
		SKIP(return, SWPROF_DEVICE " exists on this host");
	EXPECT_EQ(-ENOENT, swprof_open(&o, &self->sw));
	o.sz = 4;
	EXPECT_EQ(-EINVAL, swprof_open(&o, &self->sw));
}

TEST(missing_device_is_enoent_with_modprobe_hint)
{
	SWPROF_OPTS(swprof_open_opts, opts, .path = "/nonexistent/swprof");
	struct swprof *sw = (void *)1;
	int err;

	err = swprof_open(&opts, &sw);
	EXPECT_EQ(-ENOENT, err);
	EXPECT_EQ(NULL, sw);
	EXPECT_NE(NULL, strstr(swprof_strerror(err), "modprobe swprof"));
}

TEST(default_device_when_module_absent)
{
	struct swprof *sw;

	if (!access(SWPROF_DEVICE, F_OK))
		SKIP(return, SWPROF_DEVICE " exists on this host");
	EXPECT_EQ(-ENOENT, swprof_open(NULL, &sw));
}

TEST(not_a_swprof_device_is_enotty)
{
	SWPROF_OPTS(swprof_open_opts, opts, .path = "/dev/null");
	struct swprof *sw;

	EXPECT_EQ(-ENOTTY, swprof_open(&opts, &sw));
}

TEST(target_opts_sizes)
{
	struct {
		struct swprof_target_opts o;
		__u32 newer_field;
	} big;
	struct swprof_target_attr attr;

	memset(&big, 0, sizeof(big));
	big.o = (struct swprof_target_opts) {
		.sz = sizeof(big), .tid = 5, .period_ns = 123456, .wakeup_bytes = 64,
	};
	EXPECT_EQ(0, swprof_target_attr_from_opts(&big.o, &attr));
	EXPECT_EQ(5, attr.tid);
	EXPECT_EQ(123456, attr.period_ns);
	EXPECT_EQ(64, attr.wakeup_bytes);
	big.newer_field = 1;
	EXPECT_EQ(-EINVAL, swprof_target_attr_from_opts(&big.o, &attr));

	/* An older caller that knew only tid, mode and flags: the rest is 0. */
	big.o.sz = offsetofend(struct swprof_target_opts, flags);
	EXPECT_EQ(0, swprof_target_attr_from_opts(&big.o, &attr));
	EXPECT_EQ(sizeof(attr), attr.size);
	EXPECT_EQ(5, attr.tid);
	EXPECT_EQ(0, attr.period_ns);
	EXPECT_EQ(0, attr.wakeup_bytes);

	big.o.sz = 0;
	EXPECT_EQ(-EINVAL, swprof_target_attr_from_opts(&big.o, &attr));
	EXPECT_EQ(0, swprof_target_attr_from_opts(NULL, &attr));
	EXPECT_EQ(sizeof(attr), attr.size);
	EXPECT_EQ(0, attr.tid);
}

TEST(strerror_speaks_swprof)
{
	EXPECT_NE(NULL, strstr(swprof_strerror(-EPERM), "CAP_SYS_PTRACE"));
	EXPECT_NE(NULL, strstr(swprof_strerror(-EPERM), "CAP_PERFMON"));
	EXPECT_NE(NULL, strstr(swprof_strerror(EPERM), "CAP_SYS_PTRACE"));
	EXPECT_NE(NULL, strstr(swprof_strerror(-ESRCH), "no such thread"));
	EXPECT_NE(NULL, strstr(swprof_strerror(-ENOSPC), "ring memory"));
	EXPECT_NE(NULL, strstr(swprof_strerror(-E2BIG), "does not"));
	EXPECT_NE(NULL, strstr(swprof_strerror(-ENOTTY), "not a swprof"));
	EXPECT_NE(NULL, strstr(swprof_strerror(-EBADMSG), "corrupt"));
	/* Anything else: the C library's words. */
	EXPECT_STREQ(strerror(EAGAIN), swprof_strerror(-EAGAIN));
	EXPECT_NE(NULL, swprof_strerror(INT_MIN));
	EXPECT_NE(NULL, swprof_strerror(100000));
}

TEST_HARNESS_MAIN
