// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unwind tables (sym/utab.h): the rows compiled from .eh_frame against
 * libdw itself at many addresses of real binaries (this test and the host's
 * libc.so.6), and those compiled from .debug_frame (a C fixture without
 * .eh_frame, plain and compressed; the Go program of the selftests); a
 * reference walker (the module's algorithm, memory read
 * directly) over this process's own live stack through libc's qsort(),
 * which must reach main(); the mapper on child processes.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <dwarf.h>
#include <gelf.h>
#include <elfutils/libdw.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "fake_child.h"
#include "sym.h"
#include "utab.h"
#include "fixtures/sym/fixture.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

/* ---- tables and mappings kept in memory: the mapper's ops ---------------- */

#define MAX_T 128
#define MAX_P 4

static struct mem {
	struct swprof_unwind_row *rows[MAX_T];
	uint32_t nr[MAX_T];
	uint32_t next_id;
	unsigned int adds, frees, sets, removes;
	struct { pid_t pid; struct swprof_unwind_mapping maps[256]; uint32_t nr; } procs[MAX_P];
} mem;

static int mem_add(void *ctx, const struct swprof_unwind_row *rows, uint32_t nr, uint32_t *id)
{
	if (++mem.next_id >= MAX_T)
		return -ENOSPC;
	mem.rows[mem.next_id] = malloc(nr * sizeof(*rows));
	memcpy(mem.rows[mem.next_id], rows, nr * sizeof(*rows));
	mem.nr[mem.next_id] = nr;
	mem.adds++;
	*id = mem.next_id;
	return 0;
}

static int mem_free(void *ctx, uint32_t id)
{
	if (!mem.rows[id])
		return -ENOENT;
	free(mem.rows[id]);
	mem.rows[id] = NULL;
	mem.frees++;
	return 0;
}

static int mem_set(void *ctx, pid_t pid, const struct swprof_unwind_mapping *maps, uint32_t nr)
{
	int i, slot = -1;

	mem.sets++;
	if (!nr)
		mem.removes++;
	for (i = 0; i < MAX_P; i++)
		if (mem.procs[i].pid == pid || (slot < 0 && !mem.procs[i].pid))
			slot = i;
	if (slot < 0 || nr > 256)
		return -ENOSPC;
	mem.procs[slot].pid = nr ? pid : 0;
	mem.procs[slot].nr = nr;
	memcpy(mem.procs[slot].maps, maps, nr * sizeof(*maps));
	return 0;
}

static const struct utab_ops mem_ops = {
	.sz = sizeof(mem_ops), .table_add = mem_add, .table_free = mem_free, .maps_set = mem_set,
};

static void mem_reset(void)
{
	int i;

	for (i = 0; i < MAX_T; i++)
		free(mem.rows[i]);
	memset(&mem, 0, sizeof(mem));
}

static int mem_proc(pid_t pid)
{
	int i;

	for (i = 0; i < MAX_P; i++)
		if (mem.procs[i].pid == pid)
			return i;
	return -1;
}

/* ---- rows against libdw ---------------------------------------------------- */

static void check_invariants(struct __test_metadata *_metadata, const struct utab *t)
{
	uint32_t i;

	ASSERT_GT(t->nr, 0);
	for (i = 1; i < t->nr; i++) {
		const struct swprof_unwind_row *a = &t->rows[i - 1], *b = &t->rows[i];

		ASSERT_LT(a->pc, b->pc);
		/* merged: no two consecutive rows alike */
		ASSERT_FALSE(a->cfa == b->cfa && a->cfa_off == b->cfa_off && a->bp == b->bp &&
			     a->bp_off == b->bp_off);
	}
	for (i = 0; i < t->nr; i++) {
		ASSERT_LE(t->rows[i].cfa, SWPROF_CFA_END);
		ASSERT_LE(t->rows[i].bp, SWPROF_BP_CFA);
		if (t->rows[i].bp == SWPROF_BP_CFA) {
			ASSERT_EQ(0, t->rows[i].bp_off % 8);
		} else {
			ASSERT_EQ(0, t->rows[i].bp_off);
		}
	}
	ASSERT_TRUE(t->rows[t->nr - 1].cfa == SWPROF_CFA_NONE ||
		    t->rows[t->nr - 1].cfa == SWPROF_CFA_END);
}

/* A small evaluator of libdw's ops at fixed registers; false when it cannot. */
#define T_SP 0x7ff000100000ULL
#define T_BP 0x7ff000200000ULL

static bool eval(const Dwarf_Op *ops, size_t n, uint64_t ip, uint64_t cfa, uint64_t *out)
{
	uint64_t st[16];
	size_t sp = 0, i;

	for (i = 0; i < n; i++) {
		uint8_t a = ops[i].atom;
		uint64_t x, y;

		if (sp >= 15)
			return false;
		if (a == DW_OP_bregx || (a >= DW_OP_breg0 && a <= DW_OP_breg31)) {
			uint64_t reg = a == DW_OP_bregx ? ops[i].number : (uint64_t)(a - DW_OP_breg0);
			uint64_t off = a == DW_OP_bregx ? ops[i].number2 : ops[i].number;

			if (reg == 7)
				st[sp++] = T_SP + off;
			else if (reg == 6)
				st[sp++] = T_BP + off;
			else if (reg == 16)
				st[sp++] = ip + off;
			else
				return false;
		} else if (a >= DW_OP_lit0 && a <= DW_OP_lit31) {
			st[sp++] = a - DW_OP_lit0;
		} else if (a == DW_OP_call_frame_cfa) {
			st[sp++] = cfa;
		} else if (a == DW_OP_plus_uconst) {
			if (!sp)
				return false;
			st[sp - 1] += ops[i].number;
		} else if (a == DW_OP_and || a == DW_OP_ge || a == DW_OP_shl || a == DW_OP_plus) {
			if (sp < 2)
				return false;
			y = st[--sp];
			x = st[--sp];
			st[sp++] = a == DW_OP_and ? x & y : a == DW_OP_ge ? (int64_t)x >= (int64_t)y :
				   a == DW_OP_shl ? x << y : x + y;
		} else {
			return false;
		}
	}
	if (sp != 1)
		return false;
	*out = st[0];
	return true;
}

/*
 * libdw's view at @a against the table's row: 0 when they agree, -1 when
 * the row is NONE where libdw has a rule a row could say (frame pointers
 * instead: safe, counted), > 0 when they disagree.
 */
static int compare_at(Dwarf_CFI *cfi, const struct utab *t, uint64_t a)
{
	const struct swprof_unwind_row *r = utab_find(t->rows, t->nr, a);
	Dwarf_Op mem_ops_[3], *ops = NULL;
	Dwarf_Frame *f = NULL;
	uint64_t cfa = 0, ra = 0, rbp = 0, want;
	bool have_cfa, ra_ok, ra_undef, bp_saved = false;
	size_t n = 0;
	int kind = r ? r->cfa : SWPROF_CFA_NONE;

	if (dwarf_cfi_addrframe(cfi, a, &f))
		return kind == SWPROF_CFA_NONE ? 0 : 1;
	have_cfa = !dwarf_frame_cfa(f, &ops, &n) && n && eval(ops, n, a, 0, &cfa);
	ops = NULL;
	n = 0;
	ra_undef = !dwarf_frame_register(f, 16, mem_ops_, &ops, &n) && !n && ops;
	ra_ok = have_cfa && !ra_undef && n && ops && ops[n - 1].atom != DW_OP_stack_value &&
		eval(ops, n, a, cfa, &ra) && ra == cfa - 8;
	ops = NULL;
	n = 0;
	if (!dwarf_frame_register(f, 6, mem_ops_, &ops, &n) && n && ops &&
	    ops[n - 1].atom != DW_OP_stack_value && eval(ops, n, a, cfa, &rbp))
		bp_saved = true;
	free(f);
	if (ra_undef)
		return kind == SWPROF_CFA_END ? 0 : 2;
	if (kind == SWPROF_CFA_NONE)
		return ra_ok ? -1 : 0;	/* always safe: frame pointers */
	if (!ra_ok)
		return 3;
	want = kind == SWPROF_CFA_SP ? T_SP + r->cfa_off : kind == SWPROF_CFA_BP ?
	       T_BP + r->cfa_off : T_SP + 8 + ((a & 15) >= 11 ? 8 : 0);
	if (kind == SWPROF_CFA_END || want != cfa)
		return 4;
	if (bp_saved != (r->bp == SWPROF_BP_CFA))
		return 5;
	if (bp_saved && rbp != cfa + r->bp_off)
		return 6;
	return 0;
}

struct check_result {
	unsigned long checked, none, bad, missed;
	unsigned int kinds[SWPROF_CFA_END + 1], bp_cfa;
};

/*
 * Compile @path, expect its rows from @want, and compare them with libdw at
 * every 3rd byte of its code and both sides of every row start (more than
 * @min_checked addresses).  The oracle
 * is libdw reading the file itself: dwarf_getcfi_elf() for .eh_frame,
 * dwarf_begin_elf() and dwarf_getcfi() for .debug_frame.
 */
static void check_against_libdw(struct __test_metadata *_metadata, const char *path,
				enum utab_source want, unsigned long min_checked,
				struct check_result *res)
{
	struct check_result c = { 0 };
	Dwarf *dbg = NULL;
	struct utab t;
	Dwarf_CFI *cfi;
	size_t nphdr, i;
	Elf *elf;
	int fd;

	ASSERT_EQ(0, utab_compile_path(path, &t));
	check_invariants(_metadata, &t);
	ASSERT_EQ(want, t.source);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	ASSERT_NE(NULL, elf);
	if (want == UTAB_SRC_DEBUG_FRAME) {
		dbg = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
		ASSERT_NE(NULL, dbg);
		cfi = dwarf_getcfi(dbg);
	} else {
		cfi = dwarf_getcfi_elf(elf);
	}
	ASSERT_NE(NULL, cfi);
	ASSERT_EQ(0, elf_getphdrnum(elf, &nphdr));
	for (i = 0; i < nphdr; i++) {
		GElf_Phdr ph;
		uint64_t a;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		/* every 3rd byte of the code, and both sides of every row start */
		for (a = ph.p_vaddr; a < ph.p_vaddr + ph.p_memsz; a += 3) {
			int r = compare_at(cfi, &t, a);

			c.checked++;
			c.missed += r < 0;
			if (r > 0 && c.bad++ < 5)
				TH_LOG("%s: 0x%lx: row and libdw disagree (%d)", path, (long)a, r);
		}
	}
	for (i = 0; i < t.nr; i++) {
		c.bad += compare_at(cfi, &t, t.rows[i].pc) > 0;
		if (t.rows[i].pc)
			c.bad += compare_at(cfi, &t, t.rows[i].pc - 1) > 0;
		c.none += t.rows[i].cfa == SWPROF_CFA_NONE;
		c.kinds[t.rows[i].cfa]++;
		c.bp_cfa += t.rows[i].bp == SWPROF_BP_CFA;
		c.checked += 2;
	}
	TH_LOG("%s: %u rows (%lu NONE, %u SP, %u BP, %u with rbp saved), %lu addresses checked, "
	       "%lu NONE where libdw has a rule", path, t.nr, c.none, c.kinds[SWPROF_CFA_SP],
	       c.kinds[SWPROF_CFA_BP], c.bp_cfa, c.checked, c.missed);
	EXPECT_EQ(0, c.bad);
	EXPECT_GT(c.checked, min_checked);
	if (dbg)
		dwarf_end(dbg);	/* and its cfi */
	else
		dwarf_cfi_end(cfi);
	elf_end(elf);
	close(fd);
	utab_release(&t);
	if (res)
		*res = c;
}

TEST(rows_match_libdw_in_this_test)
{
	check_against_libdw(_metadata, "/proc/self/exe", UTAB_SRC_EH_FRAME, 1000, NULL);
}

TEST(rows_match_libdw_in_libc)
{
	if (access(LIBC, R_OK))
		SKIP(return, LIBC " not found");
	check_against_libdw(_metadata, LIBC, UTAB_SRC_EH_FRAME, 1000, NULL);
}

/*
 * No .eh_frame (nor .eh_frame_hdr): the rows come from .debug_frame, the
 * same as libdw's, and cover every address libdw has a rule for (a NONE
 * row there would be a missed FDE).  GCC's -O2 -fomit-frame-pointer code
 * saves rbp as a callee-saved register in places: BP_CFA rows too.
 */
TEST(debug_frame_rows_match_libdw)
{
	static const char *const names[] = { "debugframe-fixture", "debugframe-fixture-z" };
	size_t i;

	for (i = 0; i < 2; i++) {
		const char *path = fx_path(names[i]);
		struct check_result c;

		if (!path)
			SKIP(return, "fixture %s not built", names[i]);
		check_against_libdw(_metadata, path, UTAB_SRC_DEBUG_FRAME, 500, &c);
		EXPECT_EQ(0, c.missed);
		EXPECT_GT(c.kinds[SWPROF_CFA_SP], 10);
		EXPECT_GT(c.bp_cfa, 0);
	}
}

/* $BUILD/selftests/rover/sqrt_go (make selftests), $BUILD from this program's path */
static bool sqrt_go_path(char *buf, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int i;

	if (n <= 0)
		return false;
	exe[n] = '\0';
	for (i = 0; i < 3; i++) {	/* $BUILD/tests/host/test_sym_utab */
		char *slash = strrchr(exe, '/');

		if (!slash)
			return false;
		*slash = '\0';
	}
	fx_fmt(buf, size, "%s/selftests/rover/sqrt_go", exe);
	return true;
}

static bool have_go(void)
{
	return !system("command -v go >/dev/null 2>&1");
}

/*
 * Go (1.19 as Debian builds it) writes no .eh_frame, only a compressed
 * .debug_frame: CFA = rsp + frame size, return address at CFA - 8, rbp not
 * described (SAME).  Its leaf functions have no frame, which frame pointers
 * cannot step over: these rows can.
 */
TEST(go_rows_from_debug_frame_match_libdw)
{
	char path[PATH_MAX + 64];
	struct check_result c;

	if (!sqrt_go_path(path, sizeof(path)))
		SKIP(return, "cannot tell the build directory");
	if (access(path, R_OK)) {
		if (!have_go())
			SKIP(return, "go is not installed: no Go program to read (%.900s)", path);
		SKIP(return, "%.900s missing: build it with make selftests", path);
	}
	check_against_libdw(_metadata, path, UTAB_SRC_DEBUG_FRAME, 100000, &c);
	EXPECT_EQ(0, c.missed);
	EXPECT_GT(c.kinds[SWPROF_CFA_SP], 1000);
	EXPECT_EQ(0, c.kinds[SWPROF_CFA_BP]);
}

TEST(libc_has_end_rows_and_sp_rows)
{
	unsigned int kinds[5] = { 0 };
	struct utab t;
	uint32_t i;

	if (access(LIBC, R_OK))
		SKIP(return, LIBC " not found");
	ASSERT_EQ(0, utab_compile_path(LIBC, &t));
	for (i = 0; i < t.nr; i++)
		kinds[t.rows[i].cfa]++;
	/* clone3 and start_thread's outermost frames say "return address undefined" */
	EXPECT_GT(kinds[SWPROF_CFA_END], 0);
	EXPECT_GT(kinds[SWPROF_CFA_SP], 1000);
	EXPECT_GT(kinds[SWPROF_CFA_PLT], 0);
	utab_release(&t);
}

TEST(not_elf_and_missing_files)
{
	struct utab t;

	EXPECT_EQ(-ENOENT, utab_compile_path("/nonexistent/file", &t));
	EXPECT_EQ(0, t.nr);
	EXPECT_EQ(-ENOEXEC, utab_compile_path("/proc/self/status", &t));
	EXPECT_EQ(-ENOEXEC, utab_compile_image("not an ELF image", 16, &t));
}

/* ---- the reference walker on the live stack ---------------------------- */

static bool rd64(uint64_t addr, uint64_t *v)
{
	struct iovec l = { v, 8 }, r = { (void *)addr, 8 };

	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == 8;
}

enum { W_COMPLETE, W_INCOMPLETE, W_FAULT };

/* The module's walk (docs: issue 9), with this process's maps from the mapper. */
static int ref_walk(int slot, bool tables, uint64_t ip, uint64_t sp, uint64_t bp, uint64_t *out,
		    int max, int *n)
{
	bool first = true;

	*n = 0;
	out[(*n)++] = ip;
	while (*n < max) {
		uint64_t look = first ? ip : ip - 1, cfa, ra, new_sp;
		const struct swprof_unwind_row *row = NULL;
		uint32_t i;

		for (i = 0; tables && i < mem.procs[slot].nr; i++) {
			const struct swprof_unwind_mapping *m = &mem.procs[slot].maps[i];

			if (m->start <= look && look < m->end) {
				row = utab_find(mem.rows[m->table], mem.nr[m->table], look - m->bias);
				break;
			}
		}
		if (row && row->cfa != SWPROF_CFA_NONE) {
			if (row->cfa == SWPROF_CFA_END)
				return W_COMPLETE;
			cfa = row->cfa == SWPROF_CFA_SP ? sp + row->cfa_off :
			      row->cfa == SWPROF_CFA_BP ? bp + row->cfa_off :
			      sp + 8 + ((ip & 15) >= 11 ? 8 : 0);
			if (!rd64(cfa - 8, &ra))
				return W_FAULT;
			if (row->bp == SWPROF_BP_CFA && !rd64(cfa + row->bp_off, &bp))
				return W_FAULT;
			new_sp = cfa;
		} else {
			if (!bp)
				return W_COMPLETE;
			if ((bp & 7) || bp < sp)
				return W_INCOMPLETE;
			if (!rd64(bp + 8, &ra))
				return W_FAULT;
			new_sp = bp + 16;
			if (!rd64(bp, &bp))
				return W_FAULT;
		}
		if (!ra)
			return W_COMPLETE;
		if (new_sp <= sp)
			return W_INCOMPLETE;
		sp = new_sp;
		ip = ra;
		first = false;
		out[(*n)++] = ra;
	}
	return W_INCOMPLETE;
}

static struct {
	int slot;
	bool done;
	uint64_t frames[128], fp_frames[128];
	int n, nfp, result, fp_result;
} w;

static __attribute__((noinline)) int cmp_capture(const void *pa, const void *pb)
{
	int a = *(const int *)pa, b = *(const int *)pb;

	if (!w.done) {
		uint64_t ip, sp, bp;

		asm volatile("lea (%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
			     : "=r"(ip), "=r"(sp), "=r"(bp));
		w.result = ref_walk(w.slot, true, ip, sp, bp, w.frames, 128, &w.n);
		w.fp_result = ref_walk(w.slot, false, ip, sp, bp, w.fp_frames, 128, &w.nfp);
		w.done = true;
	}
	return a < b ? -1 : a > b;
}

static __attribute__((noinline)) int call_qsort(void)
{
	int v[32], i;

	for (i = 0; i < 32; i++)
		v[i] = (i * 7919) % 32;
	qsort(v, 32, sizeof(v[0]), cmp_capture);
	return v[0] + v[31];	/* no tail call: call_qsort stays on the stack */
}

static bool has_frame(struct sym_session *s, const uint64_t *ips, int n, const char *name,
		      int *where)
{
	struct sym_frame f[SYM_MAX_INLINE];
	int i, k;

	for (i = 0; i < n; i++) {
		k = sym_resolve(s, getpid(), ips[i], i ? SYM_RESOLVE_RETURN : 0, f, SYM_MAX_INLINE);
		if (k > 0 && f[k - 1].symbol && !strcmp(f[k - 1].symbol, name)) {
			if (where)
				*where = i;
			return true;
		}
	}
	return false;
}

TEST(reference_walk_through_libc_qsort_reaches_main)
{
	UTAB_MAPPER_OPTS(mo, .ops = &mem_ops);
	struct utab_mapper *m;
	struct sym_session *s;
	struct utab_stats st;
	int in_libc = 0, i, at_call = -1;

	mem_reset();
	ASSERT_EQ(0, utab_mapper_new(&mo, &m));
	ASSERT_LT(2, utab_mapper_push(m, getpid(), false));
	w.slot = mem_proc(getpid());
	ASSERT_LE(0, w.slot);
	ASSERT_EQ(42 - 42, call_qsort() - 31);
	ASSERT_TRUE(w.done);

	SYM_OPTS(so);
	ASSERT_EQ(0, sym_session_new(&so, &s));
	for (i = 0; i < w.n; i++) {
		struct sym_frame f[SYM_MAX_INLINE];
		int k = sym_resolve(s, getpid(), w.frames[i], i ? SYM_RESOLVE_RETURN : 0, f,
				    SYM_MAX_INLINE);

		if (k > 0 && f[k - 1].module_name && strstr(f[k - 1].module_name, "libc.so"))
			in_libc++;
		TH_LOG("#%d %s (%s)", i, k > 0 ? f[k - 1].name : "?",
		       k > 0 && f[k - 1].module_name ? f[k - 1].module_name : "?");
	}
	EXPECT_TRUE(has_frame(s, w.frames, w.n, "cmp_capture", NULL));
	EXPECT_TRUE(has_frame(s, w.frames, w.n, "call_qsort", &at_call));
	EXPECT_GT(at_call, 1);		/* above the libc frames */
	EXPECT_GT(in_libc, 0);
	EXPECT_TRUE(has_frame(s, w.frames, w.n, "main", NULL));
	EXPECT_EQ(W_COMPLETE, w.result);
	TH_LOG("tables: %d frames (%s); frame pointers only: %d frames (%s), main %s", w.n,
	       w.result == W_COMPLETE ? "complete" : "incomplete", w.nfp,
	       w.fp_result == W_COMPLETE ? "complete" : "incomplete",
	       has_frame(s, w.fp_frames, w.nfp, "main", NULL) ? "reached" : "not reached");
	utab_mapper_stats(m, &st);
	EXPECT_EQ(1, st.procs);
	EXPECT_EQ(st.tables, mem.adds);
	sym_session_free(s);
	utab_mapper_free(m);
	EXPECT_EQ(mem.adds, mem.frees);
	mem_reset();
}

/* ---- the mapper on child processes --------------------------------------- */

TEST(mapper_on_children)
{
	UTAB_MAPPER_OPTS(mo, .ops = &mem_ops);
	struct utab_mapper *m;
	struct utab_stats st;
	pid_t a, b;
	int n, slot, i, sets;

	mem_reset();
	ASSERT_EQ(0, utab_mapper_new(&mo, &m));
	a = spawn_sleep();
	b = spawn_sleep();
	ASSERT_TRUE(wait_exec(a));
	ASSERT_TRUE(wait_exec(b));

	/* sleep, libc, ld.so and the vdso: every executable mapping */
	n = utab_mapper_push(m, a, false);
	ASSERT_LE(4, n);
	slot = mem_proc(a);
	ASSERT_LE(0, slot);
	ASSERT_EQ(n, mem.procs[slot].nr);
	for (i = 0; i < n; i++) {
		const struct swprof_unwind_mapping *mp = &mem.procs[slot].maps[i];
		const struct swprof_unwind_row *rows = mem.rows[mp->table];
		uint32_t nr = mem.nr[mp->table];

		if (i)
			ASSERT_LE(mem.procs[slot].maps[i - 1].end, mp->start);
		/* the mapping's code lies within its table's rows */
		EXPECT_LE(rows[0].pc, mp->end - 1 - mp->bias);
		EXPECT_GE(rows[nr - 1].pc, mp->start - mp->bias);
	}
	/* nothing changed: no ioctl */
	sets = mem.sets;
	EXPECT_EQ(n, utab_mapper_push(m, a, false));
	EXPECT_EQ(sets, mem.sets);
	/* the same files in a second process: no new table */
	utab_mapper_stats(m, &st);
	EXPECT_EQ(n, st.tables);
	EXPECT_EQ(n, utab_mapper_push(m, b, false));
	utab_mapper_stats(m, &st);
	EXPECT_EQ(n, st.tables);
	EXPECT_EQ(n, mem.adds);
	EXPECT_EQ(2, st.procs);
	EXPECT_EQ(0, st.files_skipped);
	EXPECT_GT(st.rows, 1000);
	EXPECT_EQ(st.rows * sizeof(struct swprof_unwind_row), st.bytes);

	/*
	 * A gone process is forgotten (and its mappings removed, in case the
	 * module keeps them past the exit); its tables stay while the other
	 * process uses them.
	 */
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	EXPECT_EQ(-ESRCH, utab_mapper_push(m, a, false));
	EXPECT_FALSE(utab_mapper_knows(m, a));
	EXPECT_EQ(1, mem.removes);
	EXPECT_EQ(0, mem.frees);
	/* the last one: every table freed */
	utab_mapper_forget(m, b, true);
	EXPECT_EQ(2, mem.removes);
	EXPECT_EQ(n, mem.frees);
	utab_mapper_stats(m, &st);
	EXPECT_EQ(0, st.tables);
	EXPECT_EQ(0, st.rows);
	EXPECT_EQ(0, st.procs);
	kill(b, SIGKILL);
	waitpid(b, NULL, 0);
	utab_mapper_free(m);
	mem_reset();
}

/* A process of the .debug_frame fixture: its table comes from there, counted. */
TEST(mapper_counts_debug_frame_tables)
{
	UTAB_MAPPER_OPTS(mo, .ops = &mem_ops);
	const char *exe = fx_path("debugframe-fixture");
	char dump[] = "/tmp/swprof-utab-XXXXXX";
	char *argv[] = { (char *)exe, dump, NULL };
	struct utab_mapper *m;
	struct utab_stats st;
	struct fx_proc p;
	int fd, n;

	if (!exe)
		SKIP(return, "fixture debugframe-fixture not built");
	fd = mkstemp(dump);
	ASSERT_LE(0, fd);
	close(fd);
	mem_reset();
	ASSERT_EQ(0, utab_mapper_new(&mo, &m));
	ASSERT_EQ(0, fx_start(&p, argv));
	n = utab_mapper_push(m, p.pid, false);
	/* the fixture, libc, ld.so, the vdso */
	EXPECT_LE(4, n);
	utab_mapper_stats(m, &st);
	EXPECT_EQ(1, st.files_debug_frame);
	EXPECT_EQ(0, st.files_no_cfi);
	EXPECT_EQ(0, st.files_skipped);
	fx_stop(&p);
	unlink(dump);
	utab_mapper_free(m);
	mem_reset();
}

TEST(mapper_counts_unreadable_files_and_errors)
{
	UTAB_MAPPER_OPTS(mo, .ops = &mem_ops);
	struct utab_mapper *m;

	mem_reset();
	ASSERT_EQ(0, utab_mapper_new(&mo, &m));
	EXPECT_EQ(-ESRCH, utab_mapper_push(m, 999999999, false));
	utab_mapper_free(m);
	mem_reset();
}

TEST_HARNESS_MAIN
