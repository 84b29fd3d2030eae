// SPDX-License-Identifier: GPL-2.0-only
/*
 * sym: sorted symbol tables (built once per ELF file, binary searched per
 * address), demangling, and the session's interned strings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libiberty/demangle.h>

#include "sym_priv.h"

/* ------------------------------------------------------------------ */
/* Interned strings: an open-addressing set over arena chunks. */

struct sym_chunk {
	struct sym_chunk *next;
	size_t used, size;
	char data[];
};

struct sym_intern {
	const char **slots;
	size_t nr, cap;
	struct sym_chunk *chunks;
};

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

struct sym_intern *sym_intern_new(void)
{
	struct sym_intern *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cap = 256;
	t->slots = calloc(t->cap, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

void sym_intern_free(struct sym_intern *t)
{
	struct sym_chunk *c, *n;

	if (!t)
		return;
	for (c = t->chunks; c; c = n) {
		n = c->next;
		free(c);
	}
	free(t->slots);
	free(t);
}

static char *intern_alloc(struct sym_intern *t, size_t len)
{
	struct sym_chunk *c = t->chunks;
	char *p;

	if (!c || c->size - c->used < len + 1) {
		size_t size = len + 1 > 16000 ? len + 1 : 16000;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = t->chunks;
		t->chunks = c;
	}
	p = c->data + c->used;
	c->used += len + 1;
	return p;
}

static int intern_grow(struct sym_intern *t)
{
	size_t cap = t->cap * 2, i;
	const char **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++) {
		const char *s = t->slots[i];
		size_t j;

		if (!s)
			continue;
		j = hash_bytes(s, strlen(s)) & (cap - 1);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = s;
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

const char *sym_intern(struct sym_intern *t, const char *s, size_t len)
{
	size_t i;
	char *p;

	if ((t->nr + 1) * 2 > t->cap && intern_grow(t))
		return NULL;
	i = hash_bytes(s, len) & (t->cap - 1);
	while (t->slots[i]) {
		const char *o = t->slots[i];

		if (!strncmp(o, s, len) && o[len] == '\0')
			return o;
		i = (i + 1) & (t->cap - 1);
	}
	p = intern_alloc(t, len);
	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	t->slots[i] = p;
	t->nr++;
	return p;
}

/* ------------------------------------------------------------------ */
/* Building a table. */

int sym_builder_add(struct sym_builder *b, uint64_t start, uint64_t size,
		    uint32_t name, uint16_t rank, uint64_t limit)
{
	struct sym_cand *c;
	size_t li;

	if (b->nr == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;

		c = realloc(b->c, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		b->c = c;
		b->cap = cap;
	}
	/* Section limits repeat: the last one is almost always the same. */
	if (b->nr_limits && b->limits[b->nr_limits - 1] == limit) {
		li = b->nr_limits - 1;
	} else {
		if (b->nr_limits == b->cap_limits) {
			size_t cap = b->cap_limits ? b->cap_limits * 2 : 16;
			uint64_t *l = realloc(b->limits, cap * sizeof(*l));

			if (!l)
				return -ENOMEM;
			b->limits = l;
			b->cap_limits = cap;
		}
		if (b->nr_limits >= UINT16_MAX)
			limit = 0;
		li = b->nr_limits < UINT16_MAX ? b->nr_limits++ : UINT16_MAX - 1;
		b->limits[li] = limit;
	}
	c = &b->c[b->nr++];
	c->start = start;
	c->size = size;
	c->name = name;
	c->rank = rank;
	c->limit_idx = li;
	return 0;
}

void sym_builder_free(struct sym_builder *b)
{
	free(b->c);
	free(b->limits);
	memset(b, 0, sizeof(*b));
}

static const char *cand_name(const struct sym_table *t, uint32_t name)
{
	unsigned int tab = name >> SYM_NAME_TAB_SHIFT;

	return t->strtabs[tab] + (name & SYM_NAME_OFF_MASK);
}

static unsigned int leading_underscores(const char *s)
{
	unsigned int n = 0;

	while (s[n] == '_')
		n++;
	return n;
}

/*
 * Among aliases at one address, prefer a sized symbol, then a function,
 * then global over weak over local, then not a glibc-internal "__GI_" name,
 * then fewer leading underscores ("malloc" over "__libc_malloc"), then the
 * default version ("f@@V2" over "f@V1"), then the longer name.
 */
static int cand_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sym_cand *a = pa, *b = pb;
	const struct sym_table *t = arg;
	const char *na, *nb;
	unsigned int ua, ub;
	size_t la, lb;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (!a->size != !b->size)
		return a->size ? -1 : 1;
	if (a->rank != b->rank)
		return a->rank > b->rank ? -1 : 1;
	if (a->name == b->name)
		return 0;
	na = cand_name(t, a->name);
	nb = cand_name(t, b->name);
	ua = !strncmp(na, "__GI_", 5);
	ub = !strncmp(nb, "__GI_", 5);
	if (ua != ub)
		return ua < ub ? -1 : 1;
	ua = leading_underscores(na);
	ub = leading_underscores(nb);
	if (ua != ub)
		return ua < ub ? -1 : 1;
	ua = strchr(na, '@') && !strstr(na, "@@");
	ub = strchr(nb, '@') && !strstr(nb, "@@");
	if (ua != ub)
		return ua < ub ? -1 : 1;
	la = strlen(na);
	lb = strlen(nb);
	if (la != lb)
		return la > lb ? -1 : 1;
	return strcmp(na, nb);
}

/*
 * Candidates sorted by start with a radix sort (tables of a big C++ binary
 * have 100k+ entries; qsort's indirect calls were a tenth of a run), then
 * aliases, which share a start, ordered by cand_cmp() within their run.
 */
static int sort_candidates(struct sym_builder *b, const struct sym_table *t)
{
	struct sym_cand *tmp, *src = b->c, *dst;
	size_t count[2048], i, j, n = b->nr;
	unsigned int shift;

	if (n < 2)
		return 0;
	tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	dst = tmp;
	for (shift = 0; shift < 64; shift += 11) {
		size_t sum = 0;

		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(src[i].start >> shift) & 2047]++;
		for (i = 0; i < 2048 && count[i] != n; i++)
			;
		if (i < 2048 && count[i] == n)
			continue;	/* every key has the same digit here */
		for (i = 0; i < 2048; i++) {
			size_t c = count[i];

			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[count[(src[i].start >> shift) & 2047]++] = src[i];
		tmp = src;
		src = dst;
		dst = tmp;
	}
	if (src != b->c) {
		memcpy(b->c, src, n * sizeof(*src));
		free(src);
	} else {
		free(dst);
	}
	/* Insertion sort inside runs of one start: they are a few aliases. */
	for (i = 1; i < n; i++) {
		struct sym_cand c;

		if (b->c[i].start != b->c[i - 1].start)
			continue;
		c = b->c[i];
		for (j = i; j > 0 && b->c[j - 1].start == c.start &&
		     cand_cmp(&c, &b->c[j - 1], (void *)t) < 0; j--)
			b->c[j] = b->c[j - 1];
		b->c[j] = c;
	}
	return 0;
}

/* One bucket per symbol or so: a lookup searches a handful, not 2^17. */
static void build_index(struct sym_table *t)
{
	uint64_t span;
	size_t i, b;

	t->index = NULL;
	if (t->nr < 64)
		return;
	t->base = t->syms[0].start;
	span = t->syms[t->nr - 1].start - t->base;
	for (t->shift = 0; t->shift < 63 && (span >> t->shift) > t->nr; t->shift++)
		;
	t->nr_buckets = (size_t)(span >> t->shift) + 2;
	t->index = malloc(t->nr_buckets * sizeof(*t->index));
	if (!t->index)
		return;
	for (i = 0, b = 0; b < t->nr_buckets; b++) {
		while (i < t->nr && ((t->syms[i].start - t->base) >> t->shift) < b)
			i++;
		t->index[b] = (uint32_t)i;
	}
}

int sym_builder_finish(struct sym_builder *b, struct sym_table *t)
{
	size_t i, n = 0, total;
	struct sym_sym *out;

	if (!b->nr) {
		sym_builder_free(b);
		t->syms = NULL;
		t->nr = 0;
		return 0;
	}
	if (sort_candidates(b, t)) {
		sym_builder_free(b);
		return -ENOMEM;
	}
	out = malloc(b->nr * sizeof(*out));
	if (!out) {
		sym_builder_free(b);
		return -ENOMEM;
	}
	for (i = 0; i < b->nr; i++) {
		const struct sym_cand *c = &b->c[i];

		if (n && out[n - 1].start == c->start)
			continue;	/* an alias: the best one came first */
		out[n].start = c->start;
		out[n].size = c->size > UINT32_MAX ? UINT32_MAX : (uint32_t)c->size;
		out[n].name = c->name;
		n++;
	}
	/*
	 * Size-0 symbols (assembly, some linkers) cover up to the next symbol,
	 * but never past the end of their section.  A second pass needs the
	 * limits, which live in the candidates: walk both in step.
	 */
	{
		size_t j = 0;

		for (i = 0; i < n; i++) {
			uint64_t limit, end;

			while (b->c[j].start != out[i].start)
				j++;
			if (out[i].size)
				continue;
			limit = b->limits[b->c[j].limit_idx];
			end = i + 1 < n ? out[i + 1].start : limit;
			if (limit && limit > out[i].start && limit < end)
				end = limit;
			if (!end || end <= out[i].start)
				end = out[i].start + 1;
			if (end - out[i].start > UINT32_MAX)
				end = out[i].start + UINT32_MAX;
			out[i].size = (uint32_t)(end - out[i].start);
		}
	}
	total = b->nr;
	sym_builder_free(b);
	if (n < total / 2 + 1) {
		struct sym_sym *shrunk = realloc(out, n * sizeof(*out));

		if (shrunk)
			out = shrunk;
	}
	t->syms = out;
	t->nr = n;
	build_index(t);
	return 0;
}

const char *sym_table_name(const struct sym_table *t, const struct sym_sym *sym)
{
	return cand_name(t, sym->name);
}

const struct sym_sym *sym_table_find(const struct sym_table *t, uint64_t addr)
{
	size_t lo = 0, hi = t->nr, i, k;

	if (t->index && addr >= t->base) {
		size_t b = (size_t)((addr - t->base) >> t->shift);

		if (b + 1 < t->nr_buckets) {
			/* The last start <= addr is in this bucket or is the one before. */
			lo = t->index[b] ? t->index[b] - 1 : 0;
			hi = t->index[b + 1];
		} else {
			lo = t->index[t->nr_buckets - 1];
			lo = lo ? lo - 1 : 0;
		}
	}

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->syms[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	i = lo - 1;
	/* Nested symbols: a big one may cover what a small one before did not. */
	for (k = 0; k < 8 && k <= i; k++) {
		const struct sym_sym *sym = &t->syms[i - k];

		if (addr - sym->start < sym->size)
			return sym;
	}
	return NULL;
}

void sym_table_free(struct sym_table *t)
{
	size_t i;

	if (t->demangled) {
		for (i = 0; i < t->nr; i++)
			if (t->demangled[i] != (char *)1)
				free(t->demangled[i]);
		free(t->demangled);
	}
	free(t->syms);
	free(t->index);
	free(t->synth);
	memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------------ */
/* Demangling (libiberty: C++, Rust legacy and v0, D). */

static bool looks_mangled(const char *name)
{
	if (name[0] != '_')
		return false;
	return name[1] == 'Z' || name[1] == 'R' ||
	       !strncmp(name, "_GLOBAL_", 8) || !strncmp(name, "__Z", 3) ||
	       (name[1] == 'D' && name[2] >= '0' && name[2] <= '9');
}

/* Rust legacy symbols are C++ ones ending in a hash: "...17h<16 hex>E". */
static bool rust_legacy_hash(const char *name)
{
	size_t len = strlen(name), i;

	if (len < 21 || name[len - 1] != 'E' || memcmp(name + len - 20, "17h", 3))
		return false;
	for (i = len - 17; i < len - 1; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return true;
}

char *sym_demangle(const char *name, unsigned int opt_flags)
{
	int dmgl = DMGL_ANSI;

	if ((opt_flags & SYM_OPT_NO_DEMANGLE) || !looks_mangled(name))
		return NULL;
	if (!(opt_flags & SYM_OPT_NO_PARAMS))
		dmgl |= DMGL_PARAMS;
	if (name[0] == '_' && name[1] == '_' && name[2] == 'Z')
		name++;	/* Mach-O style extra underscore, seen in some JITs */
	/* Pick the style: DMGL_AUTO tries Rust first on every C++ name. */
	if (name[1] == 'R')
		dmgl |= DMGL_RUST;
	else if (name[1] == 'Z' && !rust_legacy_hash(name))
		dmgl |= DMGL_GNU_V3;
	else
		dmgl |= DMGL_AUTO;
	return cplus_demangle(name, dmgl);
}

/*
 * "f@@GLIBC_2.34" -> "f": the version is no part of the function's name.
 * "f@plt" (made up for PLT stubs) stays.
 */
static char *strip_version(const char *raw)
{
	const char *at = strchr(raw, '@');

	if (!at || at == raw || !strcmp(at, "@plt"))
		return NULL;
	return strndup(raw, (size_t)(at - raw));
}

/* "_ZN...@plt" -> "ns::f(int)@plt" */
static char *plt_demangle(const char *raw, unsigned int opt_flags)
{
	size_t len = strlen(raw);
	char *base, *d, *out = NULL;

	if (len < 5 || strcmp(raw + len - 4, "@plt"))
		return NULL;
	base = strndup(raw, len - 4);
	d = base ? sym_demangle(base, opt_flags) : NULL;
	if (d && asprintf(&out, "%s@plt", d) < 0)
		out = NULL;
	free(d);
	free(base);
	return out;
}

const char *sym_table_demangle(struct sym_table *t, size_t idx, unsigned int opt_flags)
{
	const char *raw = cand_name(t, t->syms[idx].name);
	char *d, *plain;

	if ((opt_flags & SYM_OPT_NO_DEMANGLE) && !strchr(raw, '@'))
		return raw;	/* versions are cut even from raw names */
	if (!t->demangled) {
		t->demangled = calloc(t->nr, sizeof(*t->demangled));
		if (!t->demangled)
			return raw;
		t->demangled_bytes += t->nr * sizeof(*t->demangled);
	}
	d = t->demangled[idx];
	if (d == (char *)1)
		return raw;
	if (d)
		return d;
	plain = strip_version(raw);
	d = sym_demangle(plain ? plain : raw, opt_flags);
	if (d)
		free(plain);
	else
		d = plain;
	if (!d && (plain = plt_demangle(raw, opt_flags)))
		d = plain;
	if (!d) {
		t->demangled[idx] = (char *)1;
		return raw;
	}
	t->demangled[idx] = d;
	t->demangled_bytes += strlen(d) + 1;
	return d;
}
