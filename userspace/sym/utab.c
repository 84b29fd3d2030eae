// SPDX-License-Identifier: GPL-2.0-only
/*
 * utab: .eh_frame (or .debug_frame) -> struct swprof_unwind_row (see utab.h).
 *
 * The FDE starts come from .eh_frame_hdr's sorted table.  A file without
 * one (or without .eh_frame: Go binaries have only .debug_frame) takes its
 * CFI from .debug_frame instead (decompressed by libelf when it is
 * SHF_COMPRESSED or .zdebug_frame), through a libdw Dwarf handle on an
 * image holding that section alone, and the FDE starts from walking that
 * section's entries.  From each start, libdw's dwarf_cfi_addrframe() gives
 * the rule at an address and the range [start, end) it holds for; asking
 * again at end walks the FDE row by row, into the next FDE when they touch.
 * Where no FDE covers an address (a gap, code without CFI) a NONE row stops
 * the previous FDE's rule, up to the next FDE start.
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
 *    Go's .debug_frame never mentions rbp (Go saves it below the return
 *    address but does not say so): SAME in every Go row.
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

/* True when [a, a + len) starts in an executable PT_LOAD segment. */
static bool in_code(Elf *elf, uint64_t a, uint64_t len)
{
	size_t nphdr, i;
	GElf_Phdr ph;

	if (!len || a + len < a || elf_getphdrnum(elf, &nphdr))
		return false;
	for (i = 0; i < nphdr; i++)
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    (ph.p_flags & PF_X) && a >= ph.p_vaddr && a - ph.p_vaddr < ph.p_memsz)
			return true;
	return false;
}

/* The .debug_frame (or .zdebug_frame) section, decompressed; NULL if none. */
static Elf_Data *debug_frame_data(Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;
		bool gnu;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || (strcmp(name, ".debug_frame") && strcmp(name, ".zdebug_frame")))
			continue;
		gnu = name[1] == 'z';
		/* decompressed in this Elf handle (freed by elf_end()) */
		if ((sh.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
			return NULL;
		if (gnu) {
			d = elf_getdata(scn, NULL);
			if (d && d->d_size >= 4 && !memcmp(d->d_buf, "ZLIB", 4) &&
			    elf_compress_gnu(scn, 0, 0) < 0)
				return NULL;
		}
		d = elf_getdata(scn, NULL);
		return d && d->d_buf && d->d_size ? d : NULL;
	}
	return NULL;
}

/*
 * The FDE starts (sorted, malloc'd) of .debug_frame: each FDE's
 * initial_location, a plain address (no pointer encoding in .debug_frame;
 * 8 bytes in a 64-bit file), with its address_range after it.  FDEs outside
 * the executable segments (those of code the linker discarded: address 0
 * or a tombstone) are left out.  Returns their number, 0 when none.
 */
static long debug_frame_starts(Elf *elf, Elf_Data *d, uint64_t **out)
{
	const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
	uint64_t *starts = NULL;
	size_t n = 0, cap = 0, i;
	Dwarf_Off off = 0, next;

	*out = NULL;
	if (!ident)
		return 0;
	while (off != (Dwarf_Off)-1 && off < d->d_size) {
		Dwarf_CFI_Entry e;
		uint64_t loc, len;
		int r = dwarf_next_cfi(ident, d, false, off, &next, &e);

		if (r > 0)
			break;
		if (r < 0) {
			if (next == (Dwarf_Off)-1 || next <= off)
				break;	/* cannot skip it: what was read so far */
			off = next;
			continue;
		}
		off = next;
		if (dwarf_cfi_cie_p(&e) || e.fde.end - e.fde.start < 16)
			continue;
		memcpy(&loc, e.fde.start, 8);
		memcpy(&len, e.fde.start + 8, 8);
		if (!in_code(elf, loc, len))
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 1024;
			void *p = realloc(starts, c * sizeof(*starts));

			if (!p) {
				free(starts);
				return -ENOMEM;
			}
			starts = p;
			cap = c;
		}
		starts[n++] = loc;
	}
	if (!n) {
		free(starts);
		return 0;
	}
	/* .debug_frame is in link order, mostly sorted but not necessarily */
	for (i = 1; i < n && starts[i - 1] <= starts[i]; i++)
		;
	if (i < n)
		qsort(starts, n, sizeof(*starts), cmp_u64);
	*out = starts;
	return (long)n;
}

/* Walk the FDEs of @cfi from the @n sorted @starts into rows. */
static int build_rows(Dwarf_CFI *cfi, const uint64_t *starts, size_t n, struct utab *t)
{
	static const struct swprof_unwind_row none;
	struct builder b = { 0 };
	uint64_t a = starts[0];

	while (a != UINT64_MAX && !b.err) {
		Dwarf_Frame *frame = NULL;
		struct swprof_unwind_row r;
		Dwarf_Addr start, end;

		if (dwarf_cfi_addrframe(cfi, a, &frame) || !frame) {
			/* no FDE here (or one libdw cannot read): frame pointers */
			emit(&b, a, &none);
			a = next_start(starts, n, a);
			continue;
		}
		if (dwarf_frame_info(frame, &start, &end, NULL) < 0 || end <= a)
			end = a + 1;
		frame_row(frame, &r);
		free(frame);
		emit(&b, a, &r);
		a = end;
	}
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

/*
 * A little ELF image in memory with @eh's identity and one section,
 * .debug_frame holding @d: what dwarf_begin_elf() is given instead of the
 * file, which would have it decompress and read every debug section (80 of
 * the 100 ms a 15 MB Go binary takes, and the memory of all its DWARF) when
 * the CFI needs only this one (of the host's byte order).  NULL on ENOMEM.
 */
static void *frame_image(const GElf_Ehdr *eh, const Elf_Data *d, size_t *size)
{
	static const char names[] = "\0.shstrtab\0.debug_frame";
	size_t at_names = sizeof(Elf64_Ehdr), at_frame, at_sh;
	Elf64_Ehdr *h;
	Elf64_Shdr *sh;
	unsigned char *p;

	at_frame = (at_names + sizeof(names) + 7) & ~(size_t)7;
	at_sh = (at_frame + d->d_size + 7) & ~(size_t)7;
	*size = at_sh + 3 * sizeof(Elf64_Shdr);
	p = calloc(1, *size);
	if (!p)
		return NULL;
	h = (Elf64_Ehdr *)p;
	memcpy(h->e_ident, eh->e_ident, EI_NIDENT);
	h->e_type = eh->e_type;
	h->e_machine = eh->e_machine;	/* libdw's ABI defaults (rbp same value) */
	h->e_version = EV_CURRENT;
	h->e_ehsize = sizeof(Elf64_Ehdr);
	h->e_shoff = at_sh;
	h->e_shentsize = sizeof(Elf64_Shdr);
	h->e_shnum = 3;
	h->e_shstrndx = 1;
	memcpy(p + at_names, names, sizeof(names));
	memcpy(p + at_frame, d->d_buf, d->d_size);
	sh = (Elf64_Shdr *)(p + at_sh);
	sh[1].sh_name = 1;			/* .shstrtab */
	sh[1].sh_type = SHT_STRTAB;
	sh[1].sh_offset = at_names;
	sh[1].sh_size = sizeof(names);
	sh[1].sh_addralign = 1;
	sh[2].sh_name = 11;			/* .debug_frame */
	sh[2].sh_type = SHT_PROGBITS;
	sh[2].sh_offset = at_frame;
	sh[2].sh_size = d->d_size;
	sh[2].sh_addralign = 8;
	return p;
}

/* The rows from .debug_frame: 0 with t->nr 0 when there is none (or no FDE in the code). */
static int compile_debug_frame(Elf *elf, const GElf_Ehdr *eh, struct utab *t)
{
	uint64_t *starts = NULL;
	Elf *img_elf = NULL;
	Dwarf *dbg = NULL;
	Dwarf_CFI *cfi;
	Elf_Data *d;
	size_t size;
	void *img;
	long n;
	int err = 0;

	if (eh->e_ident[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB :
				     ELFDATA2MSB))
		return 0;	/* the image below would be wrong: no table */
	d = debug_frame_data(elf);
	if (!d)
		return 0;
	n = debug_frame_starts(elf, d, &starts);
	if (n <= 0)
		return (int)n;
	img = frame_image(eh, d, &size);
	if (!img) {
		free(starts);
		return -ENOMEM;
	}
	img_elf = elf_memory(img, size);
	if (img_elf)
		dbg = dwarf_begin_elf(img_elf, DWARF_C_READ, NULL);
	/* owned by dbg: no dwarf_cfi_end() */
	cfi = dbg ? dwarf_getcfi(dbg) : NULL;
	if (cfi) {
		err = build_rows(cfi, starts, (size_t)n, t);
		if (!err && t->nr)
			t->source = UTAB_SRC_DEBUG_FRAME;
	}
	if (dbg)
		dwarf_end(dbg);
	if (img_elf)
		elf_end(img_elf);
	free(img);
	free(starts);
	return err;
}

static void utab_clear(struct utab *t)
{
	t->rows = NULL;
	t->nr = 0;
	t->source = UTAB_SRC_NONE;
}

static int compile_elf(Elf *elf, struct utab *t)
{
	uint64_t *starts = NULL;
	Dwarf_CFI *cfi;
	GElf_Ehdr eh;
	long n = 0;
	int err;

	utab_clear(t);
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64)
		return -ENOEXEC;
	cfi = dwarf_getcfi_elf(elf);
	if (cfi)
		n = fde_starts(elf, &starts);
	if (n > 0) {
		err = build_rows(cfi, starts, (size_t)n, t);
		if (!err)
			t->source = UTAB_SRC_EH_FRAME;
		free(starts);
		dwarf_cfi_end(cfi);
		return err;
	}
	if (cfi)
		dwarf_cfi_end(cfi);
	if (n == -ENOMEM || n == -ENOEXEC)
		return (int)n;
	/*
	 * No .eh_frame, no .eh_frame_hdr, or a table this code does not
	 * read (-ENOTSUP): .debug_frame if there is one.
	 */
	err = compile_debug_frame(elf, &eh, t);
	if (err || t->nr)
		return err;
	return (int)n;
}

int utab_compile_fd(int fd, struct utab *t)
{
	Elf *elf;
	int err;

	utab_clear(t);
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

	utab_clear(t);
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

	utab_clear(t);
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
	utab_clear(t);
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
