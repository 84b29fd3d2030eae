// SPDX-License-Identifier: GPL-2.0-only
/*
 * utab: .eh_frame -> struct swprof_unwind_row (see utab.h).
 *
 * The FDE starts come from .eh_frame_hdr's sorted table.  From each one,
 * libdw's dwarf_cfi_addrframe() gives the rule at an address and the range
 * [start, end) it holds for; asking again at end walks the FDE row by row,
 * into the next FDE when they touch.  Where no FDE covers an address (a
 * gap, code without CFI) a NONE row stops the previous FDE's rule, up to
 * the next FDE start.
 *
 * A libdw frame becomes a row as follows (libdw.h, dwarf_frame_cfa() and
 * dwarf_frame_register()):
 *  - CFA: a register + offset rule comes back as one DW_OP_bregx op (rsp:
 *    SP, rbp: BP); the expression of binutils' 16-byte PLT entries
 *    (rsp + 8 + ((rip & 15) >= 11) << 3) is PLT; anything else NONE.
 *  - return address (DWARF register 16): "undefined" (nops 0, ops set) is
 *    END, the outermost frame; at CFA - 8 (DW_OP_call_frame_cfa,
 *    DW_OP_plus_uconst -8) is the normal case; anything else (signal
 *    frames, same value, an expression) NONE.
 *  - rbp (register 6): saved at CFA + n (the same two ops) is BP_CFA;
 *    anything else SAME (libdw's x86-64 default for it is same value).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dwarf.h>
#include <gelf.h>
#include <elfutils/libdw.h>

#include "utab.h"

#define REG_BP		6
#define REG_SP		7
#define REG_RA		16

/* ---- one libdw frame -> one row ----------------------------------------- */

static bool is_breg(const Dwarf_Op *op, unsigned int reg, int64_t *off)
{
	if (op->atom == DW_OP_bregx && op->number == reg) {
		*off = (int64_t)op->number2;
		return true;
	}
	if (op->atom == DW_OP_breg0 + reg) {
		*off = (int64_t)op->number;
		return true;
	}
	return false;
}

/* binutils' .plt: DW_OP_breg7 8; DW_OP_breg16 0; lit15; and; lit11; ge; lit3; shl; plus */
static bool is_plt_expr(const Dwarf_Op *ops, size_t n)
{
	static const uint8_t atoms[] = {
		DW_OP_breg7, DW_OP_breg16, DW_OP_lit15, DW_OP_and, DW_OP_lit11, DW_OP_ge,
		DW_OP_lit3, DW_OP_shl, DW_OP_plus,
	};
	size_t i;

	if (n != sizeof(atoms))
		return false;
	for (i = 0; i < n; i++)
		if (ops[i].atom != atoms[i])
			return false;
	return ops[0].number == 8 && ops[1].number == 0;
}

/* The register is saved at CFA + *off (libdw: call_frame_cfa, plus_uconst). */
static bool saved_at_cfa(const Dwarf_Op *ops, size_t n, int64_t *off)
{
	if (n == 1 && ops[0].atom == DW_OP_call_frame_cfa) {
		*off = 0;
		return true;
	}
	if (n == 2 && ops[0].atom == DW_OP_call_frame_cfa && ops[1].atom == DW_OP_plus_uconst) {
		*off = (int64_t)ops[1].number;
		return true;
	}
	return false;
}

enum ra_rule { RA_CFA8, RA_UNDEFINED, RA_OTHER };

static enum ra_rule ra_rule(Dwarf_Frame *frame)
{
	Dwarf_Op mem[3], *ops = NULL;
	size_t n = 0;
	int64_t off;

	if (dwarf_frame_register(frame, REG_RA, mem, &ops, &n))
		return RA_OTHER;
	if (!n)
		return ops ? RA_UNDEFINED : RA_OTHER;	/* ops NULL: same value */
	return saved_at_cfa(ops, n, &off) && off == -8 ? RA_CFA8 : RA_OTHER;
}

static void frame_row(Dwarf_Frame *frame, struct swprof_unwind_row *r)
{
	Dwarf_Op mem[3], *ops = NULL;
	size_t n = 0;
	int64_t off;

	memset(r, 0, sizeof(*r));
	switch (ra_rule(frame)) {
	case RA_UNDEFINED:
		r->cfa = SWPROF_CFA_END;
		return;
	case RA_OTHER:
		return;		/* NONE */
	case RA_CFA8:
		break;
	}
	if (dwarf_frame_cfa(frame, &ops, &n) || !n)
		return;
	if (n == 1 && is_breg(&ops[0], REG_SP, &off) && off >= INT32_MIN && off <= INT32_MAX) {
		r->cfa = SWPROF_CFA_SP;
		r->cfa_off = (int32_t)off;
	} else if (n == 1 && is_breg(&ops[0], REG_BP, &off) && off >= INT32_MIN &&
		   off <= INT32_MAX) {
		r->cfa = SWPROF_CFA_BP;
		r->cfa_off = (int32_t)off;
	} else if (is_plt_expr(ops, n)) {
		r->cfa = SWPROF_CFA_PLT;
	} else {
		return;		/* NONE */
	}
	ops = NULL;
	n = 0;
	if (!dwarf_frame_register(frame, REG_BP, mem, &ops, &n) && n &&
	    saved_at_cfa(ops, n, &off) && !(off & 7) && off >= INT16_MIN && off <= INT16_MAX) {
		r->bp = SWPROF_BP_CFA;
		r->bp_off = (int16_t)off;
	}
}

/* ---- building the table -------------------------------------------------- */

struct builder {
	struct swprof_unwind_row *rows;
	size_t nr, cap;
	int err;
};

static bool same_rule(const struct swprof_unwind_row *a, const struct swprof_unwind_row *b)
{
	return a->cfa == b->cfa && a->cfa_off == b->cfa_off && a->bp == b->bp &&
	       a->bp_off == b->bp_off;
}

static void emit(struct builder *b, uint64_t pc, const struct swprof_unwind_row *r)
{
	if (b->err)
		return;
	if (pc > UINT32_MAX) {
		b->err = -ERANGE;
		return;
	}
	if (b->nr && same_rule(&b->rows[b->nr - 1], r))
		return;		/* merged into the row before */
	if (b->nr && b->rows[b->nr - 1].pc >= pc)
		return;		/* cannot happen: addresses only grow */
	if (b->nr == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		void *p = realloc(b->rows, cap * sizeof(*b->rows));

		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->rows = p;
		b->cap = cap;
	}
	b->rows[b->nr] = *r;
	b->rows[b->nr].pc = (uint32_t)pc;
	b->nr++;
}

/* ---- .eh_frame_hdr ------------------------------------------------------- */

#define PE_OMIT		0xff

/* Size of a DW_EH_PE_* value format (the low 4 bits); 0 for what we do not read. */
static size_t pe_size(uint8_t enc)
{
	switch (enc & 0x0f) {
	case DW_EH_PE_udata2: case DW_EH_PE_sdata2: return 2;
	case DW_EH_PE_udata4: case DW_EH_PE_sdata4: return 4;
	case DW_EH_PE_udata8: case DW_EH_PE_sdata8: case DW_EH_PE_absptr: return 8;
	}
	return 0;
}

static uint64_t rd(const unsigned char *p, size_t size, bool sign)
{
	uint64_t v = 0;

	switch (size) {
	case 2: { uint16_t x; memcpy(&x, p, 2); v = sign ? (uint64_t)(int16_t)x : x; break; }
	case 4: { uint32_t x; memcpy(&x, p, 4); v = sign ? (uint64_t)(int32_t)x : x; break; }
	case 8: memcpy(&v, p, 8); break;
	}
	return v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The FDE starts (sorted, malloc'd) from the PT_GNU_EH_FRAME segment.
 * Returns their number, 0 when there is no such segment, -ENOTSUP for a
 * table encoding other than datarel sdata4/udata4 (what linkers write).
 */
static long fde_starts(Elf *elf, uint64_t **out)
{
	const unsigned char *p, *end;
	uint8_t ptr_enc, cnt_enc, tab_enc;
	size_t nphdr, i, sz;
	uint64_t count, base = 0, *starts;
	Elf_Data *d = NULL;
	GElf_Phdr ph;

	*out = NULL;
	if (elf_getphdrnum(elf, &nphdr))
		return -ENOEXEC;
	for (i = 0; i < nphdr; i++) {
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_GNU_EH_FRAME) {
			d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_BYTE);
			base = ph.p_vaddr;
			break;
		}
	}
	if (!d || d->d_size < 4)
		return 0;
	p = d->d_buf;
	end = p + d->d_size;
	if (p[0] != 1)
		return -ENOTSUP;
	ptr_enc = p[1];
	cnt_enc = p[2];
	tab_enc = p[3];
	p += 4;
	if (ptr_enc != PE_OMIT) {
		sz = pe_size(ptr_enc);
		if (!sz || end - p < (ptrdiff_t)sz)
			return -ENOTSUP;
		p += sz;
	}
	if (cnt_enc == PE_OMIT || tab_enc == PE_OMIT)
		return 0;	/* no table */
	sz = pe_size(cnt_enc);
	if (!sz || (cnt_enc & 0x70) || end - p < (ptrdiff_t)sz)
		return -ENOTSUP;
	count = rd(p, sz, false);
	p += sz;
	if (tab_enc != (DW_EH_PE_datarel | DW_EH_PE_sdata4) &&
	    tab_enc != (DW_EH_PE_datarel | DW_EH_PE_udata4))
		return -ENOTSUP;
	if (count > (uint64_t)(end - p) / 8)
		return -ENOTSUP;
	if (!count)
		return 0;
	starts = malloc(count * sizeof(*starts));
	if (!starts)
		return -ENOMEM;
	for (i = 0; i < count; i++)
		starts[i] = base + rd(p + 8 * i, 4, tab_enc & DW_EH_PE_signed);
	/* sorted by the linker; be sure */
	for (i = 1; i < count && starts[i - 1] <= starts[i]; i++)
		;
	if (i < count)
		qsort(starts, count, sizeof(*starts), cmp_u64);
	*out = starts;
	return (long)count;
}

/* The first FDE start above @a, or UINT64_MAX. */
static uint64_t next_start(const uint64_t *s, size_t n, uint64_t a)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n ? s[lo] : UINT64_MAX;
}

static int compile_elf(Elf *elf, struct utab *t)
{
	static const struct swprof_unwind_row none;
	struct builder b = { 0 };
	uint64_t *starts, a;
	Dwarf_CFI *cfi;
	GElf_Ehdr eh;
	long n;

	t->rows = NULL;
	t->nr = 0;
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64)
		return -ENOEXEC;
	cfi = dwarf_getcfi_elf(elf);
	if (!cfi)
		return 0;	/* no .eh_frame */
	n = fde_starts(elf, &starts);
	if (n <= 0) {
		dwarf_cfi_end(cfi);
		return (int)n;
	}
	a = starts[0];
	while (a != UINT64_MAX && !b.err) {
		Dwarf_Frame *frame = NULL;
		struct swprof_unwind_row r;
		Dwarf_Addr start, end;

		if (dwarf_cfi_addrframe(cfi, a, &frame) || !frame) {
			/* no FDE here (or one libdw cannot read): frame pointers */
			emit(&b, a, &none);
			a = next_start(starts, (size_t)n, a);
			continue;
		}
		if (dwarf_frame_info(frame, &start, &end, NULL) < 0 || end <= a)
			end = a + 1;
		frame_row(frame, &r);
		free(frame);
		emit(&b, a, &r);
		a = end;
	}
	free(starts);
	dwarf_cfi_end(cfi);
	/* the last row must be NONE or END: the end of the last FDE is NONE */
	if (!b.err && b.nr && b.rows[b.nr - 1].cfa != SWPROF_CFA_NONE)
		b.err = -ERANGE;	/* cannot happen: the loop ends on a NONE */
	if (!b.err && b.nr > SWPROF_MAX_UNWIND_ROWS)
		b.err = -E2BIG;
	if (b.err) {
		free(b.rows);
		return b.err;
	}
	t->rows = b.rows;
	t->nr = (uint32_t)b.nr;
	return 0;
}

int utab_compile_fd(int fd, struct utab *t)
{
	Elf *elf;
	int err;

	t->rows = NULL;
	t->nr = 0;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -ENOEXEC;
	err = compile_elf(elf, t);
	elf_end(elf);
	return err;
}

int utab_compile_path(const char *path, struct utab *t)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	t->rows = NULL;
	t->nr = 0;
	if (fd < 0)
		return -errno;
	err = utab_compile_fd(fd, t);
	close(fd);
	return err;
}

int utab_compile_image(const void *image, size_t size, struct utab *t)
{
	Elf *elf;
	int err;

	t->rows = NULL;
	t->nr = 0;
	elf_version(EV_CURRENT);
	elf = elf_memory((char *)image, size);
	if (!elf)
		return -ENOEXEC;
	err = compile_elf(elf, t);
	elf_end(elf);
	return err;
}

void utab_release(struct utab *t)
{
	free(t->rows);
	t->rows = NULL;
	t->nr = 0;
}

const struct swprof_unwind_row *utab_find(const struct swprof_unwind_row *rows, size_t nr,
					  uint64_t pc)
{
	size_t lo = 0, hi = nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rows[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &rows[lo - 1] : NULL;
}
