// SPDX-License-Identifier: GPL-2.0-only
/*
 * sym: DWARF source lines and inline frames (libdw).  For an address: the
 * line table gives the innermost file:line; each enclosing
 * DW_TAG_inlined_subroutine gives a frame, and its DW_AT_call_file/line is
 * where the next frame out stands.  The real function comes last.
 *
 * dwarf_getscopes() walks a CU's DIE tree from the top for every address;
 * instead each CU is walked once into a sorted array of the address ranges
 * of its subprograms and inline instances, with the enclosing range of
 * each, so that a lookup is a binary search and a short climb.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>

#include "sym_priv.h"

#define NO_PARENT	UINT32_MAX

/* 32 bytes: .debug_info offsets fit in 32 bits (bigger ones are skipped). */
struct scope_ent {
	uint64_t lo;
	uint32_t len;		/* hi - lo */
	uint32_t parent;	/* enclosing entry, NO_PARENT at the top */
	uint32_t die;		/* the subprogram or inlined_subroutine */
	uint32_t name_die;	/* its abstract origin, shared by all instances */
	uint32_t call_line;	/* inline instances: where they were called */
	uint16_t call_file;	/* NO_FILE when unknown */
	uint8_t call_col;	/* 255 and more: 255 */
	uint8_t is_inline;
};

#define NO_FILE		UINT16_MAX
#define SCOPE_HI(e)	((e)->lo + (e)->len)

/* What is known of one CU, found by the offset of its DIE. */
struct cu_scopes {
	Dwarf_Off cu;		/* offset of the CU DIE + 1; 0 = empty slot */
	Dwarf_Die die;
	Dwarf_Files *files;
	size_t nfiles;
	bool built;
	struct scope_ent *e;
	size_t nr;
};

struct name_ent {
	Dwarf_Off die;		/* 0 = empty slot */
	const char *name;
	const char *raw;
};

struct cu_range {
	uint64_t lo, hi;
	Dwarf_Off cu;
};

struct sym_dwarf_cache {
	struct sym_intern *names;	/* demangled names */
	struct cu_scopes *cus;		/* open addressing by CU offset */
	size_t nr_cus, cap_cus;
	struct name_ent *dnames;	/* open addressing by DIE offset */
	size_t nr_dnames, cap_dnames;
	struct cu_range *aranges;	/* from .debug_aranges */
	size_t nr_aranges;
	bool aranges_built;
	struct cu_range *ranges;	/* from the CUs, when .debug_aranges fails us */
	size_t nr_ranges;
	bool ranges_built;
};

void sym_dwarf_cache_free(struct sym_dwarf_cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->cap_cus; i++)
		free(c->cus[i].e);
	free(c->cus);
	free(c->dnames);
	free(c->aranges);
	free(c->ranges);
	sym_intern_free(c->names);
	free(c);
}

static struct sym_dwarf_cache *dcache(struct sym_file *f)
{
	if (!f->dcache) {
		f->dcache = calloc(1, sizeof(*f->dcache));
		if (f->dcache) {
			f->dcache->names = sym_intern_new();
			if (!f->dcache->names) {
				free(f->dcache);
				f->dcache = NULL;
			}
		}
	}
	return f->dcache;
}

static size_t hash_off(Dwarf_Off off, size_t cap)
{
	return (size_t)((off * 0x9E3779B97F4A7C15ULL) >> 20) & (cap - 1);
}

/* ------------------------------------------------------------------ */
/* Names. */

static const char *die_linkage_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *n;

	n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	if (!n)
		n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
	return n;
}

/* Demangled linkage name, else DW_AT_name, of the DIE at @off; cached. */
static const char *die_func_name(struct sym_session *s, struct sym_file *f, Dwarf_Off off,
				 const char **raw)
{
	struct sym_dwarf_cache *c = dcache(f);
	const char *link, *name = NULL;
	struct name_ent *slot = NULL;
	Dwarf_Die mem, *die;
	char *d;

	if (c && off) {
		size_t i;

		if ((c->nr_dnames + 1) * 2 > c->cap_dnames) {
			size_t cap = c->cap_dnames ? c->cap_dnames * 2 : 256, j;
			struct name_ent *t = calloc(cap, sizeof(*t));

			if (t) {
				for (j = 0; j < c->cap_dnames; j++) {
					struct name_ent *o = &c->dnames[j];

					if (!o->die)
						continue;
					i = hash_off(o->die, cap);
					while (t[i].die)
						i = (i + 1) & (cap - 1);
					t[i] = *o;
				}
				free(c->dnames);
				c->dnames = t;
				c->cap_dnames = cap;
			}
		}
		if (c->cap_dnames) {
			i = hash_off(off, c->cap_dnames);
			while (c->dnames[i].die && c->dnames[i].die != off)
				i = (i + 1) & (c->cap_dnames - 1);
			slot = &c->dnames[i];
			if (slot->die) {
				*raw = slot->raw;
				return slot->name;
			}
		}
	}
	die = dwarf_offdie(f->dwarf, off, &mem);
	if (!die) {
		*raw = NULL;
		return "??";
	}
	link = die_linkage_name(die);
	*raw = link;
	if (link && (d = sym_demangle(link, s->flags))) {
		if (c)
			name = sym_intern(c->names, d, strlen(d));
		free(d);
	}
	if (!name && link && (s->flags & SYM_OPT_NO_DEMANGLE))
		name = link;
	if (!name) {
		name = dwarf_diename(die);
		if (!*raw)
			*raw = name;
		if (!name)
			name = "??";
	}
	if (slot) {
		slot->die = off;
		slot->name = name;
		slot->raw = *raw;
		c->nr_dnames++;
	}
	return name;
}

/* ------------------------------------------------------------------ */
/* Scopes of a CU. */

struct scope_builder {
	struct scope_ent *e;
	size_t nr, cap;
	int err;
};

static void scope_add(struct scope_builder *b, uint64_t lo, uint64_t hi, Dwarf_Off die,
		      Dwarf_Off name_die, bool is_inline, const uint32_t call[3])
{
	if (b->err || lo >= hi || hi - lo > UINT32_MAX || die > UINT32_MAX ||
	    name_die > UINT32_MAX)
		return;
	if (b->nr == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;
		struct scope_ent *n = realloc(b->e, cap * sizeof(*n));

		if (!n) {
			b->err = -ENOMEM;
			return;
		}
		b->e = n;
		b->cap = cap;
	}
	b->e[b->nr].lo = lo;
	b->e[b->nr].len = (uint32_t)(hi - lo);
	b->e[b->nr].die = (uint32_t)die;
	b->e[b->nr].name_die = (uint32_t)name_die;
	b->e[b->nr].is_inline = is_inline;
	b->e[b->nr].call_file = call[0] < NO_FILE ? (uint16_t)call[0] : NO_FILE;
	b->e[b->nr].call_line = call[1];
	b->e[b->nr].call_col = call[2] < 255 ? (uint8_t)call[2] : 255;
	b->e[b->nr].parent = NO_PARENT;
	b->nr++;
}

static uint32_t die_udata(Dwarf_Die *die, unsigned int at)
{
	Dwarf_Attribute a;
	Dwarf_Word v;

	if (dwarf_formudata(dwarf_attr(die, at, &a), &v))
		return 0;
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static bool add_ranges(struct scope_builder *b, Dwarf_Die *die, bool is_inline)
{
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;
	uint32_t call[3] = { UINT32_MAX, 0, 0 };
	Dwarf_Off self = dwarf_dieoffset(die), name_die = self;
	Dwarf_Attribute a;
	Dwarf_Die origin;
	bool any = false;

	/* Name inline instances by their abstract origin: demangled once. */
	if (dwarf_formref_die(dwarf_attr(die, DW_AT_abstract_origin, &a), &origin))
		name_die = dwarf_dieoffset(&origin);
	if (is_inline) {
		Dwarf_Word idx;

		if (!dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &a), &idx) &&
		    idx < UINT32_MAX)
			call[0] = (uint32_t)idx;
		call[1] = die_udata(die, DW_AT_call_line);
		call[2] = die_udata(die, DW_AT_call_column);
	}
	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		scope_add(b, lo, hi, self, name_die, is_inline, call);
		any = true;
	}
	return any;
}

static void walk_scopes(struct scope_builder *b, Dwarf_Die *parent, unsigned int depth)
{
	Dwarf_Die child;

	if (depth > 256 || dwarf_child(parent, &child))
		return;
	do {
		switch (dwarf_tag(&child)) {
		case DW_TAG_subprogram:
			if (add_ranges(b, &child, false))
				walk_scopes(b, &child, depth + 1);
			break;
		case DW_TAG_inlined_subroutine:
			if (add_ranges(b, &child, true))
				walk_scopes(b, &child, depth + 1);
			break;
		case DW_TAG_lexical_block:
		case DW_TAG_namespace:
		case DW_TAG_module:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
		case DW_TAG_union_type:
		case DW_TAG_try_block:
		case DW_TAG_catch_block:
			walk_scopes(b, &child, depth + 1);
			break;
		default:
			break;	/* types, variables, parameters: no code inside */
		}
	} while (!b->err && !dwarf_siblingof(&child, &child));
}

/*
 * By start address, stable (LSD radix): on equal starts the pre-order of
 * the walk keeps the enclosing scope first, which the nesting pass needs.
 */
static int sort_scopes(struct scope_builder *b)
{
	struct scope_ent *src = b->e, *dst, *t;
	size_t count[2048], i, n = b->nr;
	unsigned int shift;

	if (n < 2)
		return 0;
	dst = malloc(n * sizeof(*dst));
	if (!dst)
		return -ENOMEM;
	for (shift = 0; shift < 64; shift += 11) {
		size_t sum = 0;

		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(src[i].lo >> shift) & 2047]++;
		for (i = 0; i < 2048 && count[i] != n; i++)
			;
		if (i < 2048)
			continue;	/* one digit value for all: nothing to do */
		for (i = 0; i < 2048; i++) {
			size_t c = count[i];

			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[count[(src[i].lo >> shift) & 2047]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != b->e) {
		memcpy(b->e, src, n * sizeof(*src));
		free(src);
	} else {
		free(dst);
	}
	return 0;
}

static int build_scopes(Dwarf_Die *cu, struct cu_scopes *out)
{
	struct scope_builder b = { 0 };
	uint32_t *stack = NULL;
	size_t i, sp = 0;

	walk_scopes(&b, cu, 0);
	if (b.err || sort_scopes(&b)) {
		free(b.e);
		return b.err ? b.err : -ENOMEM;
	}
	if (b.nr) {
		stack = malloc(b.nr * sizeof(*stack));
		if (!stack) {
			free(b.e);
			return -ENOMEM;
		}
	}
	/* Ranges nest: the enclosing one is on the stack. */
	for (i = 0; i < b.nr; i++) {
		struct scope_ent *e = &b.e[i];

		while (sp && !(b.e[stack[sp - 1]].lo <= e->lo &&
			       SCOPE_HI(e) <= SCOPE_HI(&b.e[stack[sp - 1]])))
			sp--;
		e->parent = sp ? stack[sp - 1] : NO_PARENT;
		stack[sp++] = (uint32_t)i;
	}
	free(stack);
	/* Most CUs hold a few functions: no slack kept per CU. */
	if (b.nr && b.nr < b.cap) {
		struct scope_ent *fit = realloc(b.e, b.nr * sizeof(*fit));

		if (fit)
			b.e = fit;
	}
	out->e = b.e;
	out->nr = b.nr;
	return 0;
}

/* The CU whose DIE is at @cu_off, its DIE read once. */
static struct cu_scopes *cu_get(struct sym_session *s, struct sym_file *f, Dwarf_Off cu_off)
{
	struct sym_dwarf_cache *c = dcache(f);
	Dwarf_Off off = cu_off + 1;	/* never 0 */
	size_t i;

	if (!c)
		return NULL;
	if ((c->nr_cus + 1) * 2 > c->cap_cus) {
		size_t cap = c->cap_cus ? c->cap_cus * 2 : 64, j;
		struct cu_scopes *t = calloc(cap, sizeof(*t));

		if (!t)
			return NULL;
		for (j = 0; j < c->cap_cus; j++) {
			if (!c->cus[j].cu)
				continue;
			i = hash_off(c->cus[j].cu, cap);
			while (t[i].cu)
				i = (i + 1) & (cap - 1);
			t[i] = c->cus[j];
		}
		free(c->cus);
		c->cus = t;
		c->cap_cus = cap;
	}
	i = hash_off(off, c->cap_cus);
	while (c->cus[i].cu && c->cus[i].cu != off)
		i = (i + 1) & (c->cap_cus - 1);
	if (c->cus[i].cu)
		return &c->cus[i];
	if (!dwarf_offdie(f->dwarf, cu_off, &c->cus[i].die))
		return NULL;
	c->cus[i].cu = off;
	c->nr_cus++;
	sym_charge(s, f, sizeof(struct cu_scopes));
	return &c->cus[i];
}

static int cu_build(struct sym_session *s, struct sym_file *f, struct cu_scopes *cs)
{
	int err;

	if (cs->built)
		return cs->e || !cs->nr ? 0 : -ENOMEM;
	cs->built = true;
	err = build_scopes(&cs->die, cs);
	if (err)
		return err;
	if (dwarf_getsrcfiles(&cs->die, &cs->files, &cs->nfiles))
		cs->files = NULL;
	sym_charge(s, f, cs->nr * sizeof(struct scope_ent));
	return 0;
}

/* Innermost scope entry holding @addr, or NULL. */
static const struct scope_ent *scope_find(const struct cu_scopes *cs, uint64_t addr)
{
	size_t lo = 0, hi = cs->nr;
	uint32_t i;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cs->e[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	/* Whatever holds addr also holds the last start before it. */
	for (i = (uint32_t)(lo - 1); i != NO_PARENT; i = cs->e[i].parent)
		if (addr < SCOPE_HI(&cs->e[i]))
			return &cs->e[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* CUs by address. */

static int range_cmp(const void *pa, const void *pb)
{
	const struct cu_range *a = pa, *b = pb;

	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

static int off_cmp(const void *pa, const void *pb)
{
	Dwarf_Off a = *(const Dwarf_Off *)pa, b = *(const Dwarf_Off *)pb;

	return a < b ? -1 : a > b;
}

/*
 * DW_AT_ranges of the CUs that .debug_aranges leaves out (hand-written
 * assembly, some producers).  Only those: reading a CU's DIE makes libdw
 * keep a CU structure, and all of them add up.
 */
static void build_cu_ranges(struct sym_session *s, struct sym_file *f, struct sym_dwarf_cache *c)
{
	Dwarf_Off off = 0, next, *known;
	size_t hsize, cap = 0, i, nknown = 0;

	c->ranges_built = true;
	known = malloc((c->nr_aranges ? c->nr_aranges : 1) * sizeof(*known));
	if (!known)
		return;
	for (i = 0; i < c->nr_aranges; i++)
		known[nknown++] = c->aranges[i].cu;
	qsort(known, nknown, sizeof(*known), off_cmp);
	while (!dwarf_nextcu(f->dwarf, off, &next, &hsize, NULL, NULL, NULL)) {
		Dwarf_Addr base, lo, hi;
		Dwarf_Off cuoff = off + hsize;
		ptrdiff_t r = 0;
		Dwarf_Die cu;

		off = next;
		if (bsearch(&cuoff, known, nknown, sizeof(*known), off_cmp))
			continue;
		if (dwarf_offdie(f->dwarf, cuoff, &cu)) {
			while ((r = dwarf_ranges(&cu, r, &base, &lo, &hi)) > 0) {
				if (lo >= hi)
					continue;
				if (c->nr_ranges == cap) {
					struct cu_range *n;

					cap = cap ? cap * 2 : 256;
					n = realloc(c->ranges, cap * sizeof(*n));
					if (!n) {
						free(known);
						return;
					}
					c->ranges = n;
				}
				c->ranges[c->nr_ranges].lo = lo;
				c->ranges[c->nr_ranges].hi = hi;
				c->ranges[c->nr_ranges].cu = cuoff;
				c->nr_ranges++;
			}
		}
	}
	free(known);
	if (c->nr_ranges)
		qsort(c->ranges, c->nr_ranges, sizeof(*c->ranges), range_cmp);
	sym_charge(s, f, c->nr_ranges * sizeof(*c->ranges));
}

static void build_aranges(struct sym_session *s, struct sym_file *f, struct sym_dwarf_cache *c)
{
	Dwarf_Aranges *ar;
	size_t n, i, k = 0;

	c->aranges_built = true;
	if (dwarf_getaranges(f->dwarf, &ar, &n) || !n)
		return;
	c->aranges = malloc(n * sizeof(*c->aranges));
	if (!c->aranges)
		return;
	for (i = 0; i < n; i++) {
		Dwarf_Addr start;
		Dwarf_Word len;
		Dwarf_Off off;

		if (dwarf_getarangeinfo(dwarf_onearange(ar, i), &start, &len, &off) || !len)
			continue;
		c->aranges[k].lo = start;
		c->aranges[k].hi = start + len;
		c->aranges[k].cu = off;
		k++;
	}
	c->nr_aranges = k;
	qsort(c->aranges, k, sizeof(*c->aranges), range_cmp);
	sym_charge(s, f, k * sizeof(*c->aranges));
}

static const struct cu_range *range_find(const struct cu_range *r, size_t nr, uint64_t addr)
{
	size_t lo = 0, hi = nr, k;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = lo; k-- > 0 && lo - k <= 16;)
		if (addr < r[k].hi)
			return &r[k];
	return NULL;
}

/*
 * The CU holding @addr: our own sorted copy of .debug_aranges (libdw's
 * dwarf_addrdie() searches the CU tree again on every call), else the CUs'
 * DW_AT_ranges for producers that leave .debug_aranges out or incomplete.
 */
static struct cu_scopes *find_cu(struct sym_session *s, struct sym_file *f, Dwarf_Addr addr)
{
	struct sym_dwarf_cache *c = dcache(f);
	const struct cu_range *r;

	if (!c)
		return NULL;
	if (!c->aranges_built)
		build_aranges(s, f, c);
	r = range_find(c->aranges, c->nr_aranges, addr);
	if (!r) {
		if (!c->ranges_built)
			build_cu_ranges(s, f, c);
		r = range_find(c->ranges, c->nr_ranges, addr);
	}
	return r ? cu_get(s, f, r->cu) : NULL;
}

/* ------------------------------------------------------------------ */

int sym_dwarf_frames(struct sym_session *s, struct sym_file *f, uint64_t rel,
		     const struct sym_frame *outer, struct sym_frame *frames, size_t max)
{
	const char *file = NULL, *raw;
	unsigned int line = 0, col = 0;
	const struct scope_ent *e;
	struct cu_scopes *cs;
	Dwarf_Line *l;
	size_t n = 0;

	if (max < 1 || sym_file_ensure_dwarf(s, f))
		return 0;
	cs = find_cu(s, f, rel);
	if (!cs)
		return 0;
	l = dwarf_getsrc_die(&cs->die, rel);
	if (l) {
		int li = 0, ci = 0;

		file = dwarf_linesrc(l, NULL, NULL);
		dwarf_lineno(l, &li);
		dwarf_linecol(l, &ci);
		line = li > 0 ? (unsigned int)li : 0;
		col = ci > 0 ? (unsigned int)ci : 0;
	}
	e = cu_build(s, f, cs) ? NULL : scope_find(cs, rel);
	for (; e; e = e->parent == NO_PARENT ? NULL : &cs->e[e->parent]) {
		struct sym_frame *fr;

		if (!e->is_inline) {
			if (outer->status != SYM_OK) {
				/* No symbol, but DWARF knows the function. */
				Dwarf_Die die;
				Dwarf_Addr lo;

				frames[n] = *outer;
				frames[n].name = die_func_name(s, f, e->die, &raw);
				frames[n].symbol = raw;
				frames[n].status = SYM_OK;
				if (dwarf_offdie(f->dwarf, e->die, &die) && !dwarf_lowpc(&die, &lo) &&
				    lo <= rel)
					frames[n].offset = outer->rel_addr - lo;
				goto outer_done;
			}
			break;
		}
		if (n + 1 >= max)
			continue;
		fr = &frames[n++];
		*fr = *outer;
		fr->name = die_func_name(s, f, e->name_die, &raw);
		fr->symbol = raw;
		fr->offset = 0;
		fr->status = SYM_OK;
		fr->flags |= SYM_FRAME_INLINE;
		fr->file = file;
		fr->line = line;
		fr->column = col;
		/* The caller of this inline instance stands at its call site. */
		file = cs->files && e->call_file != NO_FILE && e->call_file < cs->nfiles ?
		       dwarf_filesrc(cs->files, e->call_file, NULL, NULL) : NULL;
		line = e->call_line;
		col = e->call_col;
	}
	frames[n] = *outer;
outer_done:
	frames[n].file = file;
	frames[n].line = line;
	frames[n].column = col;
	return (int)(n + 1);
}
