// SPDX-License-Identifier: GPL-2.0-only
/*
 * sym_unwind_raw(): unwinding a raw stack copy with CFI, on the host.  The
 * fixture captures its registers and stack inside a qsort() comparator, as
 * swprof.ko would for a sample; libc's qsort has no frame pointers.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sym.h"
#include "fixtures/sym/fixture.h"

struct dump {
	uint64_t regs[SYM_UNWIND_NR_REGS];
	uint64_t size;
	unsigned char *stack;
};

static int read_dump(const char *path, struct dump *d)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fread(d->regs, sizeof(d->regs), 1, f) == 1 && fread(&d->size, 8, 1, f) == 1 &&
	     d->size <= (1 << 20);
	d->stack = ok ? malloc(d->size) : NULL;
	ok = ok && d->stack && fread(d->stack, 1, d->size, f) == d->size;
	fclose(f);
	return ok ? 0 : -1;
}

FIXTURE(qsort_dump) {
	struct fx_proc p;
	struct dump d;
	char path[64];
	struct sym_session *s;
};

FIXTURE_SETUP(qsort_dump)
{
	const char *exe = fx_path("unwind-fixture");
	char *argv[3];
	int fd;

	memset(&self->d, 0, sizeof(self->d));
	ASSERT_NE(NULL, exe);
	snprintf(self->path, sizeof(self->path), "/tmp/swprof-unwind-XXXXXX");
	fd = mkstemp(self->path);
	ASSERT_LE(0, fd);
	close(fd);
	argv[0] = (char *)exe;
	argv[1] = self->path;
	argv[2] = NULL;
	ASSERT_EQ(0, fx_start(&self->p, argv));
	ASSERT_EQ(0, read_dump(self->path, &self->d));
	self->s = fx_sym_new(NULL);
	ASSERT_NE(NULL, self->s);
}

FIXTURE_TEARDOWN(qsort_dump)
{
	fx_stop(&self->p);
	unlink(self->path);
	free(self->d.stack);
	sym_session_free(self->s);
}

/* Resolved name of IP @i (return address unless it is the first). */
static const char *ip_name(struct sym_session *s, pid_t pid, const uint64_t *ips, int i,
			   const char **module)
{
	struct sym_frame fr[SYM_MAX_INLINE];
	int n = sym_resolve(s, pid, ips[i], i ? SYM_RESOLVE_RETURN : 0, fr, SYM_MAX_INLINE);

	if (n < 1)
		return "?";
	*module = fr[n - 1].module_name;
	return fr[n - 1].name;
}

static int find(const char **names, int n, int from, const char *want)
{
	int i;

	for (i = from; i < n; i++)
		if (!strcmp(names[i], want))
			return i;
	return -1;
}

TEST_F(qsort_dump, through_libc_qsort)
{
	uint64_t ips[64];
	const char *names[64], *mods[64];
	int n, i, cmp, sort, mainidx, libc = 0;

	n = sym_unwind_raw(self->s, self->p.pid, self->d.regs, self->d.stack, self->d.size,
			   ips, 64);
	ASSERT_LE(4, n);
	EXPECT_EQ(self->d.regs[16], ips[0]);
	for (i = 0; i < n; i++) {
		mods[i] = "?";
		names[i] = ip_name(self->s, self->p.pid, ips, i, &mods[i]);
		TH_LOG("#%d 0x%lx %s (%s)", i, (unsigned long)ips[i], names[i], mods[i]);
	}
	cmp = find(names, n, 0, "compare_ints");
	sort = find(names, n, 0, "sort_numbers");
	mainidx = find(names, n, 0, "main");
	ASSERT_EQ(0, cmp);
	ASSERT_LT(cmp + 1, sort);
	ASSERT_LT(sort, mainidx);
	/* Everything between the comparator and its caller is libc's qsort. */
	for (i = cmp + 1; i < sort; i++) {
		EXPECT_EQ(0, strncmp(mods[i], "libc.so", 7));
		libc++;
	}
	EXPECT_LE(1, libc);
	/* main is called from libc's start code. */
	ASSERT_LT(mainidx + 1, n);
	EXPECT_EQ(0, strncmp(mods[mainidx + 1], "libc.so", 7));
}

TEST_F(qsort_dump, same_after_exit)
{
	uint64_t a[64], b[64];
	int na, nb;

	pid_t pid = self->p.pid;

	na = sym_unwind_raw(self->s, pid, self->d.regs, self->d.stack, self->d.size, a, 64);
	ASSERT_LE(4, na);
	fx_stop(&self->p);
	/* The maps read while it ran are kept. */
	nb = sym_unwind_raw(self->s, pid, self->d.regs, self->d.stack, self->d.size, b, 64);
	ASSERT_EQ(na, nb);
	EXPECT_EQ(0, memcmp(a, b, (size_t)na * sizeof(a[0])));
}

TEST_F(qsort_dump, short_copy_stops_cleanly)
{
	uint64_t ips[64], full[64];
	int n, nfull;

	nfull = sym_unwind_raw(self->s, self->p.pid, self->d.regs, self->d.stack,
			       self->d.size, full, 64);
	n = sym_unwind_raw(self->s, self->p.pid, self->d.regs, self->d.stack, 48, ips, 64);
	ASSERT_LE(1, n);
	ASSERT_LT(n, nfull);
	EXPECT_EQ(0, memcmp(ips, full, (size_t)n * sizeof(ips[0])));
	/* No stack at all: just the IP. */
	n = sym_unwind_raw(self->s, self->p.pid, self->d.regs, NULL, 0, ips, 64);
	EXPECT_LE(1, n);
	EXPECT_EQ(self->d.regs[16], ips[0]);
}

TEST_F(qsort_dump, max_bounds_output)
{
	uint64_t ips[3] = { 0 };
	int n;

	n = sym_unwind_raw(self->s, self->p.pid, self->d.regs, self->d.stack, self->d.size, ips, 2);
	EXPECT_EQ(2, n);
	EXPECT_EQ(0, ips[2]);
	EXPECT_EQ(0, sym_unwind_raw(self->s, self->p.pid, self->d.regs, self->d.stack,
				    self->d.size, ips, 0));
}

/* Through the kernel's signal frame (glibc's __restore_rt, an 'S' FDE). */
TEST(through_a_signal_frame)
{
	const char *exe = fx_path("unwind-fixture");
	struct sym_session *s = fx_sym_new(NULL);
	const char *names[64], *mods[64];
	char path[64], *argv[4];
	struct fx_proc p;
	struct dump d = { 0 };
	uint64_t ips[64];
	int n, i, fd;

	ASSERT_NE(NULL, exe);
	snprintf(path, sizeof(path), "/tmp/swprof-unwind-XXXXXX");
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	close(fd);
	argv[0] = (char *)exe;
	argv[1] = path;
	argv[2] = "signal";
	argv[3] = NULL;
	ASSERT_EQ(0, fx_start(&p, argv));
	ASSERT_EQ(0, read_dump(path, &d));
	n = sym_unwind_raw(s, p.pid, d.regs, d.stack, d.size, ips, 64);
	for (i = 0; i < n; i++) {
		mods[i] = "?";
		names[i] = ip_name(s, p.pid, ips, i, &mods[i]);
		TH_LOG("#%d 0x%lx %s (%s)", i, (unsigned long)ips[i], names[i], mods[i]);
	}
	ASSERT_LE(4, n);
	EXPECT_STREQ("on_alarm", names[0]);
	EXPECT_STREQ("__restore_rt", names[1]);
	/* The interrupted PC is exact: inside spin_loop, past its start. */
	EXPECT_STREQ("spin_loop", names[2]);
	EXPECT_LT(fx_addr(&p, "spin_loop"), ips[2]);
	EXPECT_STREQ("main", names[3]);
	fx_stop(&p);
	unlink(path);
	free(d.stack);
	sym_session_free(s);
}

TEST(bad_arguments)
{
	struct sym_session *s = fx_sym_new(NULL);
	uint64_t regs[SYM_UNWIND_NR_REGS] = { 0 }, ips[4];

	ASSERT_NE(NULL, s);
	EXPECT_EQ(-EINVAL, sym_unwind_raw(NULL, getpid(), regs, NULL, 0, ips, 4));
	EXPECT_EQ(-EINVAL, sym_unwind_raw(s, getpid(), NULL, NULL, 0, ips, 4));
	EXPECT_EQ(-EINVAL, sym_unwind_raw(s, getpid(), regs, NULL, 16, ips, 4));
	/* Garbage registers: one frame, no crash. */
	regs[16] = 0x1234;
	regs[7] = 0x10;
	regs[6] = 0x10;
	EXPECT_EQ(1, sym_unwind_raw(s, getpid(), regs, NULL, 0, ips, 4));
	sym_session_free(s);
}

/*
 * Code without CFI (JIT code in an anonymous mapping) falls back to frame
 * pointers: a fake stack holding one frame record.
 */
TEST(frame_pointer_fallback)
{
	struct sym_session *s = fx_sym_new(NULL);
	uint64_t regs[SYM_UNWIND_NR_REGS] = { 0 }, ips[4], stack[16] = { 0 };
	struct sym_stats st = { .sz = sizeof(st) };
	uint64_t base = 0x7ff000000000ULL;
	unsigned char *code;
	int n;

	ASSERT_NE(NULL, s);
	code = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, code);
	regs[16] = (uint64_t)(uintptr_t)code + 16;
	regs[7] = base;
	regs[6] = base + 32;		/* rbp -> stack[4] */
	stack[4] = 0;			/* saved rbp: the outermost frame */
	stack[5] = (uint64_t)(uintptr_t)code + 100;	/* return address */
	n = sym_unwind_raw(s, getpid(), regs, stack, sizeof(stack), ips, 4);
	ASSERT_LE(2, n);
	EXPECT_EQ((uint64_t)(uintptr_t)code + 100, ips[1]);
	ASSERT_EQ(0, sym_session_stats(s, &st));
	EXPECT_LE(1, st.unwind_fp_steps);
	munmap(code, 4096);
	sym_session_free(s);
}

TEST_HARNESS_MAIN
