// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every error path of the uapi, with arguments pre-filled with 0xcc so that
 * a field the kernel forgets to check shows up as a wrong answer.
 */
#include <sys/mman.h>

#include "common.h"
#include "kselftest_harness.h"

static int dev_open(void)
{
	return open(SWPROF_DEVICE, O_RDWR | O_CLOEXEC);
}

static void attr_init(struct swprof_target_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->flags = SWPROF_TARGET_USTACK;
	a->mode = SWPROF_MODE_CPU;
	a->period_ns = 1000000;
	a->ring_size = 16384;
}

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = dev_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", SWPROF_DEVICE, strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

TEST_F(dev, version_handshake)
{
	struct swprof_version v;

	memset(&v, 0xcc, sizeof(v));
	v.size = sizeof(v);
	ASSERT_EQ(0, ioctl(self->fd, SWPROF_IOC_VERSION, &v));
	EXPECT_EQ(SWPROF_API_MAJOR, v.major);
	EXPECT_EQ(SWPROF_API_MINOR, v.minor);
	EXPECT_EQ(SWPROF_RING_VERSION, v.ring_version);
	EXPECT_TRUE(v.features & SWPROF_FEAT_MODE_CPU);
	EXPECT_TRUE(v.features & SWPROF_FEAT_RAW_STACK);
	EXPECT_EQ(SWPROF_MAX_DEPTH, v.max_depth);
	EXPECT_EQ(SWPROF_MIN_PERIOD_NS, v.min_period_ns);
	EXPECT_GE(v.mem_limit, v.mem_used);
	EXPECT_EQ(0, v.caps & ~(SWPROF_CAP_KSTACK | SWPROF_CAP_PTRACE));
}

TEST_F(dev, version_sizes)
{
	unsigned char buf[sizeof(struct swprof_version) + 64];
	struct swprof_version *v = (void *)buf;
	size_t i;

	memset(buf, 0xcc, sizeof(buf));
	v->size = 0xcccccccc;
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_VERSION, v));
	EXPECT_EQ(E2BIG, errno);
	v->size = 4;
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_VERSION, v));
	EXPECT_EQ(EINVAL, errno);
	/* a newer caller: the tail it knows and we don't comes back zeroed */
	memset(buf, 0xcc, sizeof(buf));
	v->size = sizeof(buf);
	ASSERT_EQ(0, ioctl(self->fd, SWPROF_IOC_VERSION, v));
	for (i = sizeof(*v); i < sizeof(buf); i++)
		ASSERT_EQ(0, buf[i]);
	/* an older caller: nothing past its size is written */
	memset(buf, 0xcc, sizeof(buf));
	v->size = 16;
	ASSERT_EQ(0, ioctl(self->fd, SWPROF_IOC_VERSION, v));
	EXPECT_EQ(SWPROF_API_MAJOR, v->major);
	for (i = 16; i < sizeof(buf); i++)
		ASSERT_EQ(0xcc, buf[i]);
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_VERSION, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(dev, unknown_commands)
{
	unsigned char buf[64];

	memset(buf, 0xcc, sizeof(buf));
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(SWPROF_IOC_MAGIC, 0x7f, struct swprof_version), buf));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR('x', 0x00, struct swprof_version), buf));
	EXPECT_EQ(ENOTTY, errno);
	/* a target command on the device fd */
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_ENABLE));
	EXPECT_EQ(ENOTTY, errno);
	/* right number, wrong direction */
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(SWPROF_IOC_MAGIC, 0x01, struct swprof_target_attr), buf));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, register_garbage)
{
	struct swprof_target_attr a;

	memset(&a, 0xcc, sizeof(a));
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_REGISTER, &a));
	EXPECT_EQ(E2BIG, errno);
	a.size = sizeof(a);
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_REGISTER, &a));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_REGISTER, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(dev, register_sizes)
{
	unsigned char buf[sizeof(struct swprof_target_attr) + 16];
	struct swprof_target_attr *a = (void *)buf;
	int fd;

	memset(buf, 0xcc, sizeof(buf));
	attr_init(a);
	a->size = 8;
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_REGISTER, a));
	EXPECT_EQ(EINVAL, errno);
	a->size = sizeof(*a) - 8;
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_REGISTER, a));
	EXPECT_EQ(EINVAL, errno);
	/* larger with a non-zero tail */
	a->size = sizeof(buf);
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_REGISTER, a));
	EXPECT_EQ(E2BIG, errno);
	a->size = 8192;
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_REGISTER, a));
	EXPECT_EQ(E2BIG, errno);
	/* larger with a zero tail is fine */
	memset(buf + sizeof(*a), 0, sizeof(buf) - sizeof(*a));
	a->size = sizeof(buf);
	fd = ioctl(self->fd, SWPROF_IOC_REGISTER, a);
	ASSERT_LE(0, fd) TH_LOG("register: %s", strerror(errno));
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

struct bad_attr {
	const char *what;
	void (*set)(struct swprof_target_attr *a);
	int err;
};

static void bad_flags(struct swprof_target_attr *a) { a->flags |= 1u << 31; }
static void bad_mode(struct swprof_target_attr *a) { a->mode = 77; }
static void bad_period_small(struct swprof_target_attr *a) { a->period_ns = SWPROF_MIN_PERIOD_NS - 1; }
static void bad_period_big(struct swprof_target_attr *a) { a->period_ns = 3600ull * 1000000000ull; }
static void bad_ring_pow2(struct swprof_target_attr *a) { a->ring_size = 12288; }
static void bad_ring_small(struct swprof_target_attr *a) { a->ring_size = 1024; }
static void bad_ring_big(struct swprof_target_attr *a) { a->ring_size = 1u << 31; }
static void bad_raw_align(struct swprof_target_attr *a) { a->raw_stack_size = 1001; }
static void bad_raw_big(struct swprof_target_attr *a) { a->raw_stack_size = SWPROF_MAX_RAW_STACK + 8; }
static void bad_kdepth(struct swprof_target_attr *a) { a->max_kernel_depth = SWPROF_MAX_DEPTH + 1; }
static void bad_udepth(struct swprof_target_attr *a) { a->max_user_depth = 0xcccc; }
static void bad_nothing(struct swprof_target_attr *a) { a->flags = SWPROF_TARGET_ENABLE; }
static void bad_wakeup(struct swprof_target_attr *a) { a->wakeup_bytes = a->ring_size + 8; }
static void bad_fit(struct swprof_target_attr *a)
{
	a->ring_size = 4096;
	a->raw_stack_size = 8192;
}
static void bad_tid(struct swprof_target_attr *a) { a->tid = 0x3fffffff; }
static void bad_tid_huge(struct swprof_target_attr *a) { a->tid = 0xcccccccc; }
static void bad_kthread(struct swprof_target_attr *a) { a->tid = 2; /* kthreadd */ }

TEST_F(dev, register_invalid_fields)
{
	static const struct bad_attr cases[] = {
		{ "unknown flag", bad_flags, EINVAL },
		{ "unknown mode", bad_mode, EINVAL },
		{ "period below minimum", bad_period_small, EINVAL },
		{ "period of an hour", bad_period_big, EINVAL },
		{ "ring not a power of two", bad_ring_pow2, EINVAL },
		{ "ring below a page", bad_ring_small, EINVAL },
		{ "ring above max_ring_size", bad_ring_big, EINVAL },
		{ "raw stack not 8-aligned", bad_raw_align, EINVAL },
		{ "raw stack too big", bad_raw_big, EINVAL },
		{ "kernel depth too big", bad_kdepth, EINVAL },
		{ "user depth too big", bad_udepth, EINVAL },
		{ "nothing to capture", bad_nothing, EINVAL },
		{ "wakeup beyond ring", bad_wakeup, EINVAL },
		{ "record larger than ring", bad_fit, EINVAL },
		{ "no such thread", bad_tid, ESRCH },
		{ "tid beyond pid_max", bad_tid_huge, ESRCH },
		{ "kernel thread", bad_kthread, EINVAL },
	};
	struct swprof_target_attr a;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		attr_init(&a);
		cases[i].set(&a);
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_REGISTER, &a)) TH_LOG("%s", cases[i].what);
		EXPECT_EQ(cases[i].err, errno) TH_LOG("%s: got %s", cases[i].what, strerror(errno));
	}
}

FIXTURE(target) {
	int dev, fd;
	long page;
};

FIXTURE_SETUP(target)
{
	struct swprof_target_attr a;

	self->page = sysconf(_SC_PAGESIZE);
	self->dev = dev_open();
	ASSERT_LE(0, self->dev);
	attr_init(&a);
	self->fd = ioctl(self->dev, SWPROF_IOC_REGISTER, &a);
	ASSERT_LE(0, self->fd) TH_LOG("register self: %s", strerror(errno));
}

FIXTURE_TEARDOWN(target)
{
	close(self->fd);
	close(self->dev);
}

TEST_F(target, unknown_commands)
{
	unsigned char buf[256];

	memset(buf, 0xcc, sizeof(buf));
	EXPECT_EQ(-1, ioctl(self->fd, _IO(SWPROF_IOC_MAGIC, 0x7e)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_REGISTER, buf));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO('x', 0x10)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOW(SWPROF_IOC_MAGIC, 0x10, int), buf));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(target, stats)
{
	struct swprof_target_stats st;

	memset(&st, 0xcc, sizeof(st));
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_TARGET_STATS, &st));
	EXPECT_EQ(E2BIG, errno);
	st.size = 2;
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_TARGET_STATS, &st));
	EXPECT_EQ(EINVAL, errno);
	st.size = sizeof(st);
	ASSERT_EQ(0, ioctl(self->fd, SWPROF_IOC_TARGET_STATS, &st));
	EXPECT_EQ(gettid_(), (pid_t)st.tid);
	EXPECT_EQ(getpid(), (pid_t)st.pid);
	EXPECT_EQ(16384, st.ring_size);
	EXPECT_EQ(0, st.flags & SWPROF_TSTATE_ENABLED);
	EXPECT_EQ(0, st.samples);
	EXPECT_EQ(0, st.lost);
	EXPECT_EQ(0, ioctl(self->fd, SWPROF_IOC_ENABLE));
	EXPECT_EQ(0, ioctl(self->fd, SWPROF_IOC_ENABLE));
	ASSERT_EQ(0, ioctl(self->fd, SWPROF_IOC_TARGET_STATS, &st));
	EXPECT_TRUE(st.flags & SWPROF_TSTATE_ENABLED);
	EXPECT_EQ(0, ioctl(self->fd, SWPROF_IOC_DISABLE));
	EXPECT_EQ(0, ioctl(self->fd, SWPROF_IOC_DISABLE));
	ASSERT_EQ(0, ioctl(self->fd, SWPROF_IOC_TARGET_STATS, &st));
	EXPECT_FALSE(st.flags & SWPROF_TSTATE_ENABLED);
}

TEST_F(target, mmap_rules)
{
	const struct swprof_ring_header *h;
	void *p, *cons, *data;

	h = mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, h);
	EXPECT_EQ(SWPROF_RING_VERSION, h->version);
	EXPECT_EQ(sizeof(*h), h->header_size);
	EXPECT_EQ(16384, h->data_size);
	EXPECT_EQ(self->page, h->consumer_offset);
	EXPECT_EQ(2 * self->page, h->data_offset);
	EXPECT_EQ(gettid_(), (pid_t)h->tid);
	/* header: never writable, not even through mprotect */
	p = mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, mprotect((void *)h, self->page, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	/* consumer page: writable alone */
	cons = mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, h->consumer_offset);
	ASSERT_NE(MAP_FAILED, cons);
	p = mmap(NULL, 2 * self->page, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, h->consumer_offset);
	EXPECT_EQ(MAP_FAILED, p);
	/* data: read-only, twice its size, nothing beyond */
	data = mmap(NULL, 2 * h->data_size, PROT_READ, MAP_SHARED, self->fd, h->data_offset);
	ASSERT_NE(MAP_FAILED, data);
	EXPECT_EQ(-1, mprotect(data, self->page, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	p = mmap(NULL, 2 * h->data_size + self->page, PROT_READ, MAP_SHARED, self->fd, h->data_offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd, 1ul << 40);
	EXPECT_EQ(MAP_FAILED, p);
	/* a private writable mapping would let the process write its own copy */
	p = mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	munmap(data, 2 * h->data_size);
	munmap(cons, self->page);
	munmap((void *)h, self->page);
}

TEST_F(target, untrusted_consumer)
{
	struct swprof_ring_consumer *cons;
	struct spinner sp;
	struct swprof_target_attr a;
	struct swprof_target_stats st = { .size = sizeof(st) };
	int fd;

	spinner_start(&sp);
	attr_init(&a);
	a.tid = atomic_load(&sp.tid);
	a.flags |= SWPROF_TARGET_ENABLE;
	a.ring_size = 4096;
	a.max_user_depth = 8;
	fd = ioctl(self->dev, SWPROF_IOC_REGISTER, &a);
	ASSERT_LE(0, fd);
	cons = mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, self->page);
	ASSERT_NE(MAP_FAILED, cons);
	/* a consumer position ahead of the producer: the ring looks full, nothing breaks */
	cons->consumer_pos = 1ull << 62;
	usleep(200000);
	cons->consumer_pos = (uint64_t)-8;
	usleep(200000);
	spinner_stop(&sp);
	ASSERT_EQ(0, ioctl(fd, SWPROF_IOC_TARGET_STATS, &st));
	EXPECT_GT(st.lost, 0);
	EXPECT_LE(st.unread, 4096);
	munmap(cons, self->page);
	close(fd);
}

TEST_F(dev, global_stats)
{
	struct swprof_global_stats gs;

	memset(&gs, 0xcc, sizeof(gs));
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_GLOBAL_STATS, &gs));
	EXPECT_EQ(E2BIG, errno);
	gs.size = sizeof(gs);
	ASSERT_EQ(0, ioctl(self->fd, SWPROF_IOC_GLOBAL_STATS, &gs));
	EXPECT_LE(gs.cost_count, gs.samples + gs.lost + gs.timer_misses + gs.cost_count);
}

TEST_HARNESS_MAIN
