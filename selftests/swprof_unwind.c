// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unwind tables (API 1.2): the uapi's checks, the walk by table rows, the
 * flags and counters of an incomplete walk, memory accounting and release.
 *
 * The workload is an assembly leaf that keeps no frame (as GCC's leaf
 * functions under -momit-leaf-frame-pointer): a frame-pointer walk from it
 * skips its caller; a one-row table (CFA = rsp + 8) brings the caller back.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "common.h"
#include "kselftest_harness.h"

extern char ut_leaf[], ut_leaf_end[];
int ut_stop;

__asm__(".pushsection .text\n"
	".globl ut_leaf\n"
	".type ut_leaf, @function\n"
	"ut_leaf:\n"
	"1:	movl ut_stop(%rip), %eax\n"
	"	testl %eax, %eax\n"
	"	jz 1b\n"
	"	ret\n"
	".globl ut_leaf_end\n"
	"ut_leaf_end:\n"
	"	nop\n"
	".popsection\n");

void ut_leaf_fn(void) __asm__("ut_leaf");

__attribute__((section("ut_midsec"), noinline, noclone, used)) void ut_mid(void)
{
	ut_leaf_fn();
	__asm__ volatile("" ::: "memory");
}

__attribute__((section("ut_topsec"), noinline, noclone, used)) void ut_top(void)
{
	ut_mid();
	__asm__ volatile("" ::: "memory");
}

extern char __start_ut_midsec[], __stop_ut_midsec[], __start_ut_topsec[], __stop_ut_topsec[];

static atomic_int ut_tid;

static void *ut_main(void *arg)
{
	atomic_store(&ut_tid, gettid_());
	ut_top();
	return NULL;
}

/* The executable mapping that holds @addr, from /proc/self/maps. */
static int text_mapping(const void *addr, uint64_t *start, uint64_t *end)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long long s, e;
	char perms[8], line[512];
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %7s", &s, &e, perms) == 3 && perms[2] == 'x' &&
		    (uintptr_t)addr >= s && (uintptr_t)addr < e) {
			*start = s;
			*end = e;
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

static int table_add(int fd, const struct swprof_unwind_row *rows, __u32 nr, __u32 *id)
{
	struct swprof_unwind_table a = {
		.size = sizeof(a), .nr_rows = nr, .rows = (uintptr_t)rows,
	};
	int r = ioctl(fd, SWPROF_IOC_UNWIND_TABLE_ADD, &a);

	if (!r)
		*id = a.id;
	return r ? -errno : 0;
}

static int table_free(int fd, __u32 id)
{
	struct swprof_unwind_ref a = { .size = sizeof(a), .id = id };

	return ioctl(fd, SWPROF_IOC_UNWIND_TABLE_FREE, &a) ? -errno : 0;
}

static int maps_set(int fd, __u32 pid, const struct swprof_unwind_mapping *m, __u32 nr)
{
	struct swprof_unwind_maps a = {
		.size = sizeof(a), .pid = pid, .nr_maps = nr, .maps = (uintptr_t)m,
	};

	return ioctl(fd, SWPROF_IOC_UNWIND_MAPS, &a) ? -errno : 0;
}

static uint64_t mem_used(int fd)
{
	struct swprof_version v = { .size = sizeof(v) };

	if (ioctl(fd, SWPROF_IOC_VERSION, &v))
		return 0;
	return v.mem_used;
}

FIXTURE(utab) {
	struct swprof *sw;
	int fd;
	pthread_t th;
	uint64_t start, end;
};

FIXTURE_SETUP(utab)
{
	int err = swprof_open(NULL, &self->sw);

	ASSERT_EQ(0, err) TH_LOG("swprof_open: %s", swprof_strerror(err));
	self->fd = swprof_fd(self->sw);
	ASSERT_TRUE(swprof_has_feature(self->sw, SWPROF_FEAT_UNWIND_TABLES));
	ASSERT_EQ(0, text_mapping(ut_leaf, &self->start, &self->end));
	ut_stop = 0;
	atomic_store(&ut_tid, 0);
	ASSERT_EQ(0, pthread_create(&self->th, NULL, ut_main, NULL));
	while (!atomic_load(&ut_tid))
		usleep(1000);
}

FIXTURE_TEARDOWN(utab)
{
	__atomic_store_n(&ut_stop, 1, __ATOMIC_RELAXED);
	pthread_join(self->th, NULL);
	swprof_close(self->sw);
}

/* A table for the leaf alone: @cfa/@off for it, "no rule" around it. */
static int leaf_table(int fd, uint64_t start, __u8 cfa, __s32 off, __u32 *id)
{
	struct swprof_unwind_row rows[2] = {
		{ .pc = (uintptr_t)ut_leaf - start, .cfa = cfa, .cfa_off = off },
		{ .pc = (uintptr_t)ut_leaf_end - start, .cfa = SWPROF_CFA_NONE },
	};

	return table_add(fd, rows, 2, id);
}

static int use_table(int fd, uint64_t start, uint64_t end, __u32 id)
{
	struct swprof_unwind_mapping m = { .start = start, .end = end, .bias = start, .table = id };

	return maps_set(fd, 0, &m, 1);
}

struct leaf_counts {
	unsigned int samples, in_leaf, mid_kept, mid_skipped, utable, incomplete, depth1;
	uint64_t ring_incomplete;
};

static int leaf_count(void *ctx, const struct swprof_rec *rec)
{
	struct leaf_counts *c = ctx;
	const struct swprof_sample *s = swprof_rec_sample(rec);
	const __u64 *u;

	if (!s || rec->type != SWPROF_REC_SAMPLE)
		return 0;
	c->samples++;
	u = swprof_sample_ips(s) + s->nr_kernel;
	if (s->flags & SWPROF_SAMPLE_UTABLE)
		c->utable++;
	if (s->flags & SWPROF_SAMPLE_UINCOMPLETE)
		c->incomplete++;
	if (!s->nr_user || !in_range(u[0], ut_leaf, ut_leaf_end))
		return 0;
	c->in_leaf++;
	if (s->nr_user == 1)
		c->depth1++;
	if (s->nr_user >= 3 && in_range(u[1], __start_ut_midsec, __stop_ut_midsec) &&
	    in_range(u[2], __start_ut_topsec, __stop_ut_topsec))
		c->mid_kept++;
	if (s->nr_user >= 2 && in_range(u[1], __start_ut_topsec, __stop_ut_topsec))
		c->mid_skipped++;
	return 0;
}

/* Sample the leaf thread for @ms of wall time at 1 ms. */
static void sample_leaf(struct __test_metadata *_metadata, struct swprof *sw,
			struct leaf_counts *c, unsigned int ms)
{
	struct swprof_target *t = NULL;
	struct swprof_target_stats st = { .size = sizeof(st) };
	uint64_t end;
	int err;

	SWPROF_OPTS(swprof_target_opts, o,
		.tid = atomic_load(&ut_tid),
		.mode = SWPROF_MODE_CPU,
		.flags = SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE,
		.period_ns = 1000000,
		.ring_size = 1 << 20,
		.max_user_depth = 32,
	);
	memset(c, 0, sizeof(*c));
	err = swprof_register(sw, &o, &t);
	ASSERT_EQ(0, err) TH_LOG("register: %s", swprof_strerror(err));
	end = mono_ns() + ms * 1000000ull;
	while (mono_ns() < end) {
		swprof_target_wait(t, 50);
		swprof_target_read(t, leaf_count, c, 0);
	}
	ASSERT_EQ(0, swprof_target_disable(t));
	usleep(20000);
	swprof_target_read(t, leaf_count, c, 0);
	ASSERT_EQ(0, swprof_target_stats(t, &st));
	EXPECT_EQ(0, st.lost);
	c->ring_incomplete = st.uincomplete;
	swprof_target_free(t);
	TH_LOG("samples %u, in the leaf %u: caller kept %u, skipped %u; UTABLE %u, "
	       "UINCOMPLETE %u (counter %llu), one frame %u", c->samples, c->in_leaf, c->mid_kept,
	       c->mid_skipped, c->utable, c->incomplete, (unsigned long long)c->ring_incomplete,
	       c->depth1);
	ASSERT_GE(c->in_leaf, 50);
}

/* Frame pointers alone lose the leaf's caller; the table keeps it in >= 95% of the samples. */
TEST_F(utab, leaf_caller)
{
	struct leaf_counts c;
	__u32 id;

	sample_leaf(_metadata, self->sw, &c, 1500);
	EXPECT_GE(c.mid_skipped * 100, c.in_leaf * 95);
	EXPECT_EQ(0, c.utable);

	ASSERT_EQ(0, leaf_table(self->fd, self->start, SWPROF_CFA_SP, 8, &id));
	ASSERT_EQ(0, use_table(self->fd, self->start, self->end, id));
	sample_leaf(_metadata, self->sw, &c, 1500);
	EXPECT_GE(c.mid_kept * 100, c.in_leaf * 95);
	EXPECT_EQ(c.samples, c.utable);

	/* removed: frame pointers again */
	ASSERT_EQ(0, maps_set(self->fd, 0, NULL, 0));
	sample_leaf(_metadata, self->sw, &c, 800);
	EXPECT_EQ(0, c.utable);
	EXPECT_GE(c.mid_skipped * 100, c.in_leaf * 95);
}

/* An END row: the walk stops at the leaf, complete. */
TEST_F(utab, end_row)
{
	struct leaf_counts c;
	__u32 id;

	ASSERT_EQ(0, leaf_table(self->fd, self->start, SWPROF_CFA_END, 0, &id));
	ASSERT_EQ(0, use_table(self->fd, self->start, self->end, id));
	sample_leaf(_metadata, self->sw, &c, 800);
	EXPECT_EQ(c.in_leaf, c.depth1);
	EXPECT_EQ(0, c.incomplete);
}

/* A rule that cannot be followed (a misaligned CFA): every such sample flagged and counted. */
TEST_F(utab, incomplete_flagged_and_counted)
{
	struct leaf_counts c;
	__u32 id;

	ASSERT_EQ(0, leaf_table(self->fd, self->start, SWPROF_CFA_SP, 12, &id));
	ASSERT_EQ(0, use_table(self->fd, self->start, self->end, id));
	sample_leaf(_metadata, self->sw, &c, 800);
	EXPECT_EQ(c.in_leaf, c.depth1);
	EXPECT_GE(c.incomplete, c.in_leaf);
	EXPECT_EQ(c.incomplete, c.ring_incomplete);
}

/* A CFA 1 GiB below the stack pointer (a fault, or a step down the stack): flagged, no frame. */
TEST_F(utab, wild_cfa)
{
	struct leaf_counts c;
	__u32 id;

	ASSERT_EQ(0, leaf_table(self->fd, self->start, SWPROF_CFA_SP, -(1 << 30), &id));
	ASSERT_EQ(0, use_table(self->fd, self->start, self->end, id));
	sample_leaf(_metadata, self->sw, &c, 500);
	EXPECT_GE(c.incomplete, c.in_leaf);
	EXPECT_EQ(c.in_leaf, c.depth1);
}

TEST_F(utab, table_checks)
{
	struct swprof_unwind_row rows[3] = {
		{ .pc = 0x10, .cfa = SWPROF_CFA_SP, .cfa_off = 8 },
		{ .pc = 0x20, .cfa = SWPROF_CFA_BP, .cfa_off = 16, .bp = SWPROF_BP_CFA, .bp_off = -16 },
		{ .pc = 0x30, .cfa = SWPROF_CFA_NONE },
	};
	struct swprof_unwind_table big[2];
	struct swprof_unwind_row bad[3];
	__u32 id = 0, id2 = 0;

	ASSERT_EQ(0, table_add(self->fd, rows, 3, &id));
	EXPECT_GE(id, 1);
	ASSERT_EQ(0, table_add(self->fd, rows, 3, &id2));
	EXPECT_NE(id, id2);
	EXPECT_EQ(-EINVAL, table_add(self->fd, rows, 0, &id2));
	EXPECT_EQ(-E2BIG, table_add(self->fd, rows, SWPROF_MAX_UNWIND_ROWS + 1, &id2));
	EXPECT_EQ(-EFAULT, table_add(self->fd, (void *)8, 3, &id2));
	/* the last row leaves a rule open */
	EXPECT_EQ(-EINVAL, table_add(self->fd, rows, 2, &id2));
#define BAD(field, value) do {						\
		memcpy(bad, rows, sizeof(rows));			\
		bad[1].field = value;					\
		EXPECT_EQ(-EINVAL, table_add(self->fd, bad, 3, &id2)) TH_LOG(#field " = " #value); \
	} while (0)
	BAD(pc, 0x10);		/* not increasing */
	BAD(pc, 0x5);
	BAD(cfa, 5);
	BAD(bp, 2);
	BAD(bp_off, -12);	/* not a multiple of 8 */
	BAD(cfa, SWPROF_CFA_NONE);	/* NONE with an offset */
	memcpy(bad, rows, sizeof(rows));
	bad[2].bp = SWPROF_BP_CFA;	/* a saved rbp with no CFA */
	bad[2].bp_off = -16;
	EXPECT_EQ(-EINVAL, table_add(self->fd, bad, 3, &id2));
	/* flags, a preset id, and a struct larger than ours with a non-zero tail */
	memset(big, 0, sizeof(big));
	big[0] = (struct swprof_unwind_table){ .size = sizeof(big[0]), .flags = 1, .nr_rows = 3,
					       .rows = (uintptr_t)rows };
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_UNWIND_TABLE_ADD, &big[0]));
	EXPECT_EQ(EINVAL, errno);
	big[0].flags = 0;
	big[0].id = 7;
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_UNWIND_TABLE_ADD, &big[0]));
	EXPECT_EQ(EINVAL, errno);
	big[0].id = 0;
	big[0].size = sizeof(big);
	((char *)big)[sizeof(big) - 1] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_UNWIND_TABLE_ADD, &big[0]));
	EXPECT_EQ(E2BIG, errno);

	EXPECT_EQ(0, table_free(self->fd, id));
	EXPECT_EQ(-ENOENT, table_free(self->fd, id));
	EXPECT_EQ(-ENOENT, table_free(self->fd, 0));
	EXPECT_EQ(-ENOENT, table_free(self->fd, 0x80000000u));
}

TEST_F(utab, maps_checks)
{
	struct swprof_unwind_mapping m[2];
	struct swprof_unwind_maps a;
	__u32 id;
	pid_t child;

	ASSERT_EQ(0, leaf_table(self->fd, self->start, SWPROF_CFA_SP, 8, &id));
	m[0] = (struct swprof_unwind_mapping){ .start = 0x1000, .end = 0x3000, .table = id };
	m[1] = (struct swprof_unwind_mapping){ .start = 0x2000, .end = 0x4000, .table = id };
	EXPECT_EQ(-EINVAL, maps_set(self->fd, 0, m, 2));	/* overlapping */
	m[1].start = 0x3000;
	EXPECT_EQ(0, maps_set(self->fd, 0, m, 2));
	m[1].table = id + 100;
	EXPECT_EQ(-ENOENT, maps_set(self->fd, 0, m, 2));	/* no such table */
	m[1].table = id;
	m[1].__pad = 1;
	EXPECT_EQ(-EINVAL, maps_set(self->fd, 0, m, 2));
	m[1].__pad = 0;
	m[1].end = m[1].start;
	EXPECT_EQ(-EINVAL, maps_set(self->fd, 0, m, 2));	/* empty */
	EXPECT_EQ(-EINVAL, maps_set(self->fd, 0, NULL, 2));
	EXPECT_EQ(-E2BIG, maps_set(self->fd, 0, m, SWPROF_MAX_UNWIND_MAPS + 1));
	EXPECT_EQ(-ESRCH, maps_set(self->fd, 0x7fffffff, m, 1));
	a = (struct swprof_unwind_maps){ .size = sizeof(a), .flags = 1, .nr_maps = 1,
					 .maps = (uintptr_t)m };
	EXPECT_EQ(-1, ioctl(self->fd, SWPROF_IOC_UNWIND_MAPS, &a));
	EXPECT_EQ(EINVAL, errno);
	/* removal, then nothing left to remove */
	EXPECT_EQ(0, maps_set(self->fd, 0, NULL, 0));
	EXPECT_EQ(-ENOENT, maps_set(self->fd, 0, NULL, 0));
	/* a freed id can no longer be named, though a set may still use its table */
	EXPECT_EQ(0, maps_set(self->fd, 0, m, 1));
	EXPECT_EQ(0, table_free(self->fd, id));
	EXPECT_EQ(-ENOENT, maps_set(self->fd, 0, m, 1));

	/* a kernel thread has no user memory */
	EXPECT_EQ(-ESRCH, maps_set(self->fd, 2, NULL, 0));

	/* an unprivileged opener may not give another user's process tables */
	child = fork();
	ASSERT_GE(child, 0);
	if (!child) {
		struct swprof_unwind_row r = { .pc = 0, .cfa = SWPROF_CFA_NONE };
		struct swprof_unwind_mapping mm = { .start = 0x1000, .end = 0x2000 };
		int fd;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		prctl(PR_SET_DUMPABLE, 1);	/* setuid cleared it; its own process is its */
		fd = open(SWPROF_DEVICE, O_RDWR | O_CLOEXEC);
		if (fd < 0 || table_add(fd, &r, 1, &mm.table))
			_exit(11);
		if (maps_set(fd, getppid(), &mm, 1) != -EPERM)
			_exit(12);
		if (maps_set(fd, 0, &mm, 1))	/* its own: fine */
			_exit(13);
		_exit(0);
	}
	{
		int status = 0;

		ASSERT_EQ(child, waitpid(child, &status, 0));
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status));
	}
}

/* Tables and sets are charged to mem_limit_mb and given back on free, exit and close. */
TEST_F(utab, memory)
{
	static struct swprof_unwind_row rows[100000];
	struct swprof_unwind_mapping m;
	uint64_t base, with;
	__u32 id, i;
	pid_t child;
	int fd2, status, pfd[2];
	FILE *lim;
	char old[32] = "";

	for (i = 0; i < 100000; i++)
		rows[i] = (struct swprof_unwind_row){ .pc = i * 4, .cfa = SWPROF_CFA_SP, .cfa_off = 8 };
	rows[99999].cfa = SWPROF_CFA_NONE;
	rows[99999].cfa_off = 0;
	fd2 = open(SWPROF_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd2, 0);
	/* what earlier tests freed goes a grace period later */
	for (i = 0, base = mem_used(fd2); i < 50; i++, base = mem_used(fd2)) {
		usleep(20000);
		if (mem_used(fd2) == base)
			break;
	}
	ASSERT_EQ(0, table_add(fd2, rows, 100000, &id));
	with = mem_used(fd2);
	EXPECT_GE(with - base, 100000 * sizeof(rows[0]));
	EXPECT_LT(with - base, 100000 * sizeof(rows[0]) + 65536);

	/* a set for a child: reaped once the child is gone, at the opener's next MAPS call */
	ASSERT_EQ(0, pipe(pfd));
	child = fork();
	ASSERT_GE(child, 0);
	if (!child) {
		char b;

		close(pfd[1]);
		read(pfd[0], &b, 1);
		_exit(0);
	}
	close(pfd[0]);
	m = (struct swprof_unwind_mapping){ .start = 0x1000, .end = 0x2000, .table = id };
	ASSERT_EQ(0, maps_set(fd2, child, &m, 1));
	EXPECT_GT(mem_used(fd2), with);
	close(pfd[1]);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(-ENOENT, maps_set(fd2, 0, NULL, 0));	/* reaps */
	usleep(100000);		/* call_rcu */
	for (i = 0; i < 50 && mem_used(fd2) != with; i++)
		usleep(20000);
	EXPECT_EQ(with, mem_used(fd2));

	/* the limit: lowered below what one more table needs, ENOSPC, nothing charged */
	lim = fopen("/sys/module/swprof/parameters/mem_limit_mb", "r+");
	ASSERT_NE(NULL, lim);
	ASSERT_NE(NULL, fgets(old, sizeof(old), lim));
	fprintf(lim, "%llu\n", (unsigned long long)(with >> 20) + 1);
	fclose(lim);
	{
		__u32 id3;
		int r = table_add(fd2, rows, 100000, &id3);
		uint64_t after = mem_used(fd2);

		lim = fopen("/sys/module/swprof/parameters/mem_limit_mb", "w");
		ASSERT_NE(NULL, lim);
		fputs(old, lim);
		fclose(lim);
		/* with + 1.2 MB is always past (with >> 20) + 1 MiB */
		EXPECT_EQ(-ENOSPC, r);
		EXPECT_EQ(with, after);
	}

	/* close: everything back */
	close(fd2);
	for (i = 0; i < 50 && mem_used(self->fd) != base; i++)
		usleep(20000);
	EXPECT_EQ(base, mem_used(self->fd));
}

TEST_HARNESS_MAIN
