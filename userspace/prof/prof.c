// SPDX-License-Identifier: GPL-2.0-only
/*
 * prof: interning tables and the stack aggregator.
 *
 * Every table is a dense vector (ids are 1-based indices) plus an open
 * addressing index.  Distinct stacks live in a chunked arena, header and
 * location ids together, so a hit on the hot path touches one index slot
 * and one record.  All memory goes through mem_reserve() so that the cap
 * is exact to the byte and the profile never allocates past it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "prof.h"

#define TRUNCATED_NAME "[truncated: memory cap]"
#define MIN_MEM_CAP (64u << 10)
#define ARENA_MIN_CHUNK (4u << 10)
#define ARENA_MAX_CHUNK (1u << 20)

/* An interning index: slot = hash32 << 32 | id, 0 = empty. */
struct imap {
	uint64_t *slots;
	uint32_t mask;
	uint32_t n;
};

/* A vector of fixed-size elements; element 0 is unused for 1-based ids. */
struct vec {
	void *data;
	uint32_t n, cap;
};

struct chunk {
	struct chunk *next;
	size_t size, used;
	/* 8-byte aligned payload follows */
	uint64_t data[];
};

struct arena {
	struct chunk *head, *tail;
	size_t next_size;
};

/* One distinct (stack, thread), followed by its location ids. */
struct stack {
	uint64_t hash;
	uint64_t count;
	uint64_t value;
	int thread;
	uint32_t depth;
	int locs[];
};

struct stack_slot {
	uint64_t hash;
	struct stack *s;	/* NULL: empty */
};

struct loc_rec {
	int mapping;
	unsigned int flags;
	uint64_t address;
	uint32_t line_off;
	uint32_t nr_lines;
};

struct prof {
	enum prof_kind kind;
	uint64_t period, time_nanos, duration_nanos, lost;
	size_t mem_cap, mem_used;
	bool capped;

	struct arena text;		/* string bytes */
	struct vec strs;		/* const char *, index 0 is "" */
	struct imap str_idx;

	struct vec maps;		/* struct prof_mapping_info, from id 1 */
	struct imap map_idx;
	struct vec funcs;		/* struct prof_function_info */
	struct imap func_idx;
	struct vec locs;		/* struct loc_rec */
	struct vec lines;		/* struct prof_line */
	struct imap loc_idx;
	struct vec threads;		/* struct prof_thread_info */
	struct imap thread_idx;

	struct arena stack_arena;
	struct stack_slot *stack_slots;
	uint32_t stack_mask, nr_stacks;
	struct stack *truncated;	/* not in the index: never matched */

	int trunc_func, trunc_loc;
	uint64_t samples, value_ns, truncated_samples, truncated_adds;
};

/* ---- memory ---------------------------------------------------------- */

static bool mem_reserve(struct prof *p, size_t size)
{
	if (p->capped)
		return false;
	if (size > p->mem_cap - p->mem_used) {
		p->capped = true;
		return false;
	}
	p->mem_used += size;
	return true;
}

static void mem_release(struct prof *p, size_t size)
{
	p->mem_used -= size;
}

static void *mem_alloc(struct prof *p, size_t size)
{
	void *m;

	if (!mem_reserve(p, size))
		return NULL;
	m = calloc(1, size);
	if (!m) {
		/* The system ran out before the cap: behave as if capped. */
		mem_release(p, size);
		p->capped = true;
	}
	return m;
}

static void *arena_alloc(struct prof *p, struct arena *a, size_t size)
{
	struct chunk *c = a->tail;
	void *m;

	size = (size + 7) & ~(size_t)7;
	if (!c || c->size - c->used < size) {
		size_t csize = a->next_size ? a->next_size : ARENA_MIN_CHUNK;

		while (csize < size)
			csize *= 2;
		c = mem_alloc(p, sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->size = csize;
		if (a->tail)
			a->tail->next = c;
		else
			a->head = c;
		a->tail = c;
		a->next_size = csize < ARENA_MAX_CHUNK ? csize * 2 : csize;
	}
	m = (char *)c->data + c->used;
	c->used += size;
	return m;
}

static void arena_free(struct arena *a)
{
	struct chunk *c, *next;

	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
}

/* Makes room for one more element; returns its address (zeroed) or NULL. */
static void *vec_push(struct prof *p, struct vec *v, size_t esz)
{
	if (v->n == v->cap) {
		uint32_t ncap = v->cap ? v->cap * 2 : 16;
		void *d;

		if (ncap <= v->cap || !mem_reserve(p, (size_t)(ncap - v->cap) * esz))
			return NULL;
		d = realloc(v->data, (size_t)ncap * esz);
		if (!d) {
			mem_release(p, (size_t)(ncap - v->cap) * esz);
			p->capped = true;
			return NULL;
		}
		v->data = d;
		v->cap = ncap;
	}
	return memset((char *)v->data + (size_t)v->n++ * esz, 0, esz);
}

/* Reserves room for n more elements without adding them. */
static bool vec_reserve(struct prof *p, struct vec *v, size_t esz, uint32_t more)
{
	uint32_t ncap = v->cap ? v->cap : 16;
	void *d;

	if (v->n + more <= v->cap)
		return true;
	while (ncap < v->n + more) {
		if (ncap * 2 <= ncap)
			return false;
		ncap *= 2;
	}
	if (!mem_reserve(p, (size_t)(ncap - v->cap) * esz))
		return false;
	d = realloc(v->data, (size_t)ncap * esz);
	if (!d) {
		mem_release(p, (size_t)(ncap - v->cap) * esz);
		p->capped = true;
		return false;
	}
	v->data = d;
	v->cap = ncap;
	return true;
}

#define VEC_AT(v, type, i) (&((type *)(v).data)[i])

/* ---- hashing --------------------------------------------------------- */

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ULL;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dULL;
	x ^= x >> 33;
	return x;
}

static inline uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t hash_bytes(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *s = data;
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);
	uint64_t w;

	while (len >= 8) {
		memcpy(&w, s, 8);
		h = rotl64((h ^ w) * 0xd6e8feb86659fd93ULL, 31);
		s += 8;
		len -= 8;
	}
	if (len) {
		w = 0;
		memcpy(&w, s, len);
		h = rotl64((h ^ w) * 0xd6e8feb86659fd93ULL, 31);
	}
	return mix64(h);
}

static inline uint64_t hash_u64s(const uint64_t *w, size_t n)
{
	return hash_bytes(w, n * sizeof(*w), 0x5eed);
}

/* ---- interning index ------------------------------------------------- */

typedef bool (*imap_eq_fn)(const struct prof *p, uint32_t id, const void *key);

static uint32_t imap_find(const struct prof *p, const struct imap *m, uint64_t hash,
			  imap_eq_fn eq, const void *key)
{
	uint32_t h32 = (uint32_t)(hash >> 32), i;
	uint64_t slot;

	if (!m->slots)
		return 0;
	for (i = h32 & m->mask; (slot = m->slots[i]); i = (i + 1) & m->mask) {
		if ((uint32_t)(slot >> 32) == h32 && eq(p, (uint32_t)slot, key))
			return (uint32_t)slot;
	}
	return 0;
}

static bool imap_insert(struct prof *p, struct imap *m, uint64_t hash, uint32_t id)
{
	uint32_t h32 = (uint32_t)(hash >> 32), i;

	if (!m->slots || (uint64_t)(m->n + 1) * 10 > (uint64_t)(m->mask + 1) * 7) {
		uint32_t ncap = m->slots ? (m->mask + 1) * 2 : 64, j;
		uint64_t *ns;

		if (ncap == 0)
			return false;
		ns = mem_alloc(p, (size_t)ncap * sizeof(*ns));
		if (!ns)
			return false;
		for (j = 0; m->slots && j <= m->mask; j++) {
			uint64_t slot = m->slots[j];

			if (!slot)
				continue;
			for (i = (uint32_t)(slot >> 32) & (ncap - 1); ns[i]; i = (i + 1) & (ncap - 1))
				;
			ns[i] = slot;
		}
		if (m->slots) {
			free(m->slots);
			mem_release(p, (size_t)(m->mask + 1) * sizeof(*ns));
		}
		m->slots = ns;
		m->mask = ncap - 1;
	}
	for (i = h32 & m->mask; m->slots[i]; i = (i + 1) & m->mask)
		;
	m->slots[i] = (uint64_t)h32 << 32 | id;
	m->n++;
	return true;
}

/* ---- strings --------------------------------------------------------- */

static bool str_eq(const struct prof *p, uint32_t id, const void *key)
{
	return !strcmp(*VEC_AT(p->strs, const char *, id - 1), key);
}

static int string_find(const struct prof *p, const char *s)
{
	uint32_t id;

	if (!s || !*s)
		return 0;
	id = imap_find(p, &p->str_idx, hash_bytes(s, strlen(s), 1), str_eq, s);
	return id ? (int)id - 1 : -ENOENT;
}

int prof_string(struct prof *p, const char *s)
{
	uint64_t hash;
	size_t len;
	char *copy;
	int idx;

	if (!s || !*s)
		return 0;
	len = strlen(s);
	hash = hash_bytes(s, len, 1);
	idx = (int)imap_find(p, &p->str_idx, hash, str_eq, s);
	if (idx)
		return idx - 1;
	if (p->capped || p->strs.n >= INT32_MAX || !vec_reserve(p, &p->strs, sizeof(char *), 1))
		return -ENOSPC;
	copy = arena_alloc(p, &p->text, len + 1);
	if (!copy)
		return -ENOSPC;
	memcpy(copy, s, len + 1);
	idx = (int)p->strs.n;
	/* Index ids are 1-based; string indices are 0-based. */
	if (!imap_insert(p, &p->str_idx, hash, (uint32_t)idx + 1))
		return -ENOSPC;
	*VEC_AT(p->strs, const char *, p->strs.n++) = copy;
	return idx;
}

/* Interns s, or only finds it once capped; -ENOSPC if it is not there. */
static int string_get(struct prof *p, const char *s)
{
	return p->capped ? string_find(p, s) : prof_string(p, s);
}

/* ---- mappings, functions, threads ------------------------------------ */

static uint64_t mapping_hash(const struct prof_mapping_info *m)
{
	uint64_t w[5] = { m->start, m->limit, m->offset, (uint64_t)(uint32_t)m->file,
			  (uint64_t)(uint32_t)m->build_id };

	return hash_u64s(w, 5);
}

static bool mapping_eq(const struct prof *p, uint32_t id, const void *key)
{
	const struct prof_mapping_info *a = VEC_AT(p->maps, struct prof_mapping_info, id);
	const struct prof_mapping_info *b = key;

	return a->start == b->start && a->limit == b->limit && a->offset == b->offset &&
	       a->file == b->file && a->build_id == b->build_id;
}

int prof_mapping(struct prof *p, const struct prof_mapping *m)
{
	struct prof_mapping_info key = { 0 }, *rec;
	uint64_t hash;
	uint32_t id;

	if (!m)
		return -EINVAL;
	key.start = m->start;
	key.limit = m->limit;
	key.offset = m->offset;
	key.file = string_get(p, m->file);
	key.build_id = string_get(p, m->build_id);
	if (key.file < 0 || key.build_id < 0)
		return 0;
	hash = mapping_hash(&key);
	id = imap_find(p, &p->map_idx, hash, mapping_eq, &key);
	if (id)
		return (int)id;
	if (p->capped || p->maps.n >= INT32_MAX ||
	    !vec_reserve(p, &p->maps, sizeof(key), 1) ||
	    !imap_insert(p, &p->map_idx, hash, p->maps.n))
		return 0;
	id = p->maps.n;
	rec = vec_push(p, &p->maps, sizeof(key));
	*rec = key;
	return (int)id;
}

static uint64_t function_hash(const struct prof_function_info *f)
{
	uint64_t w[3] = { (uint64_t)(uint32_t)f->name << 32 | (uint32_t)f->system_name,
			  (uint64_t)(uint32_t)f->file, (uint64_t)f->start_line };

	return hash_u64s(w, 3);
}

static bool function_eq(const struct prof *p, uint32_t id, const void *key)
{
	const struct prof_function_info *a = VEC_AT(p->funcs, struct prof_function_info, id);
	const struct prof_function_info *b = key;

	return a->name == b->name && a->system_name == b->system_name &&
	       a->file == b->file && a->start_line == b->start_line;
}

static int function_add(struct prof *p, const struct prof_function_info *key)
{
	uint64_t hash = function_hash(key);
	struct prof_function_info *rec;
	uint32_t id;

	id = imap_find(p, &p->func_idx, hash, function_eq, key);
	if (id)
		return (int)id;
	if (p->capped || p->funcs.n >= INT32_MAX ||
	    !vec_reserve(p, &p->funcs, sizeof(*key), 1) ||
	    !imap_insert(p, &p->func_idx, hash, p->funcs.n))
		return p->trunc_func;
	id = p->funcs.n;
	rec = vec_push(p, &p->funcs, sizeof(*key));
	*rec = *key;
	return (int)id;
}

int prof_function(struct prof *p, const struct prof_function *f)
{
	struct prof_function_info key = { 0 };

	if (!f)
		return -EINVAL;
	key.name = string_get(p, f->name);
	key.system_name = string_get(p, f->system_name);
	key.file = string_get(p, f->file);
	key.start_line = f->start_line;
	if (key.name < 0 || key.system_name < 0 || key.file < 0)
		return p->trunc_func;
	return function_add(p, &key);
}

static bool thread_eq(const struct prof *p, uint32_t id, const void *key)
{
	const struct prof_thread_info *a = VEC_AT(p->threads, struct prof_thread_info, id);
	const struct prof_thread_info *b = key;

	return a->pid == b->pid && a->tid == b->tid && a->name == b->name;
}

int prof_thread(struct prof *p, const struct prof_thread *t)
{
	struct prof_thread_info key = { 0 }, *rec;
	uint64_t hash, w[2];
	uint32_t id;

	if (!t)
		return -EINVAL;
	key.pid = t->pid;
	key.tid = t->tid;
	key.name = string_get(p, t->name);
	if (key.name < 0)
		return 0;
	w[0] = (uint64_t)key.pid << 32 | key.tid;
	w[1] = (uint32_t)key.name;
	hash = hash_u64s(w, 2);
	id = imap_find(p, &p->thread_idx, hash, thread_eq, &key);
	if (id)
		return (int)id;
	if (p->capped || p->threads.n >= INT32_MAX ||
	    !vec_reserve(p, &p->threads, sizeof(key), 1) ||
	    !imap_insert(p, &p->thread_idx, hash, p->threads.n))
		return 0;
	id = p->threads.n;
	rec = vec_push(p, &p->threads, sizeof(key));
	*rec = key;
	return (int)id;
}

/* ---- locations ------------------------------------------------------- */

static uint64_t location_hash(const struct prof_location *l)
{
	uint64_t h, w[2];
	unsigned int i;

	w[0] = (uint64_t)(uint32_t)l->mapping << 32 | l->flags;
	w[1] = l->address;
	h = hash_u64s(w, 2);
	if (l->address)
		return h;
	for (i = 0; i < l->nr_lines; i++) {
		w[0] = (uint64_t)(uint32_t)l->lines[i].function;
		w[1] = (uint64_t)l->lines[i].line;
		h = hash_bytes(w, sizeof(w), h);
	}
	return h;
}

static bool location_eq(const struct prof *p, uint32_t id, const void *key)
{
	const struct loc_rec *a = VEC_AT(p->locs, struct loc_rec, id);
	const struct prof_location *b = key;
	const struct prof_line *la;
	unsigned int i;

	if (a->mapping != b->mapping || a->flags != b->flags || a->address != b->address)
		return false;
	if (b->address)
		return true;
	if (a->nr_lines != b->nr_lines)
		return false;
	la = VEC_AT(p->lines, struct prof_line, a->line_off);
	for (i = 0; i < a->nr_lines; i++) {
		if (la[i].function != b->lines[i].function || la[i].line != b->lines[i].line)
			return false;
	}
	return true;
}

int prof_location_find(const struct prof *p, int mapping, uint64_t address,
		       unsigned int flags)
{
	struct prof_location key = { .mapping = mapping, .address = address, .flags = flags };

	if (!address)
		return 0;
	return (int)imap_find(p, &p->loc_idx, location_hash(&key), location_eq, &key);
}

int prof_truncated_location(const struct prof *p)
{
	return p->trunc_loc;
}

int prof_location(struct prof *p, const struct prof_location *loc)
{
	struct loc_rec *rec;
	unsigned int i;
	uint64_t hash;
	uint32_t id;

	if (!loc || !loc->lines || !loc->nr_lines || loc->mapping < 0 ||
	    (uint32_t)loc->mapping >= p->maps.n)
		return -EINVAL;
	for (i = 0; i < loc->nr_lines; i++) {
		int f = loc->lines[i].function;

		if (f <= 0 || (uint32_t)f >= p->funcs.n)
			return -EINVAL;
		if (f == p->trunc_func)
			return p->trunc_loc;
	}
	hash = location_hash(loc);
	id = imap_find(p, &p->loc_idx, hash, location_eq, loc);
	if (id)
		return (int)id;
	if (p->capped || p->locs.n >= INT32_MAX || p->lines.n > UINT32_MAX - loc->nr_lines ||
	    !vec_reserve(p, &p->locs, sizeof(*rec), 1) ||
	    !vec_reserve(p, &p->lines, sizeof(struct prof_line), loc->nr_lines) ||
	    !imap_insert(p, &p->loc_idx, hash, p->locs.n))
		return p->trunc_loc;
	id = p->locs.n;
	rec = vec_push(p, &p->locs, sizeof(*rec));
	rec->mapping = loc->mapping;
	rec->flags = loc->flags;
	rec->address = loc->address;
	rec->line_off = p->lines.n;
	rec->nr_lines = loc->nr_lines;
	for (i = 0; i < loc->nr_lines; i++) {
		struct prof_line *l = vec_push(p, &p->lines, sizeof(*l));

		l->function = loc->lines[i].function;
		l->line = loc->lines[i].line;
	}
	return (int)id;
}

/* ---- samples --------------------------------------------------------- */

static size_t stack_size(uint32_t depth)
{
	return (sizeof(struct stack) + (size_t)depth * sizeof(int) + 7) & ~(size_t)7;
}

static bool stacks_grow(struct prof *p)
{
	uint32_t ncap = (p->stack_mask + 1) * 2, i, j;
	struct stack_slot *ns;

	if (ncap == 0)
		return false;
	ns = mem_alloc(p, (size_t)ncap * sizeof(*ns));
	if (!ns)
		return false;
	for (j = 0; j <= p->stack_mask; j++) {
		struct stack_slot *s = &p->stack_slots[j];

		if (!s->s)
			continue;
		for (i = (uint32_t)s->hash & (ncap - 1); ns[i].s; i = (i + 1) & (ncap - 1))
			;
		ns[i] = *s;
	}
	free(p->stack_slots);
	mem_release(p, (size_t)(p->stack_mask + 1) * sizeof(*ns));
	p->stack_slots = ns;
	p->stack_mask = ncap - 1;
	return true;
}

static void fold_truncated(struct prof *p, uint64_t count, uint64_t value)
{
	p->truncated->count += count;
	p->truncated->value += value;
	p->truncated_samples += count;
	p->truncated_adds++;
}

int prof_add_thread_sample(struct prof *p, int thread, const int *locs,
			   unsigned int n, uint64_t count, uint64_t value_ns)
{
	uint32_t nlocs = p->locs.n, i, j;
	struct stack *s;
	uint64_t hash;

	if (!locs || !n || n > (UINT32_MAX - sizeof(*s)) / sizeof(int) / 2 ||
	    thread < 0 || (uint32_t)thread >= p->threads.n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (locs[i] <= 0 || (uint32_t)locs[i] >= nlocs)
			return -EINVAL;
	}
	if (!value_ns && p->kind != PROF_OFFCPU)
		value_ns = count * p->period;
	p->samples += count;
	p->value_ns += value_ns;

	hash = hash_bytes(locs, (size_t)n * sizeof(int), (uint64_t)thread);
	for (i = (uint32_t)hash & p->stack_mask; (s = p->stack_slots[i].s);
	     i = (i + 1) & p->stack_mask) {
		if (p->stack_slots[i].hash == hash && s->depth == n && s->thread == thread &&
		    !memcmp(s->locs, locs, (size_t)n * sizeof(int))) {
			s->count += count;
			s->value += value_ns;
			return 0;
		}
	}

	/* A new stack: fold it if it cannot or must not be kept. */
	if (p->capped)
		goto fold;
	for (j = 0; j < n; j++) {
		if (locs[j] == p->trunc_loc)
			goto fold;
	}
	if ((uint64_t)(p->nr_stacks + 1) * 3 > (uint64_t)(p->stack_mask + 1) * 2) {
		if (!stacks_grow(p))
			goto fold;
		for (i = (uint32_t)hash & p->stack_mask; p->stack_slots[i].s;
		     i = (i + 1) & p->stack_mask)
			;
	}
	s = arena_alloc(p, &p->stack_arena, stack_size(n));
	if (!s)
		goto fold;
	s->hash = hash;
	s->count = count;
	s->value = value_ns;
	s->thread = thread;
	s->depth = n;
	memcpy(s->locs, locs, (size_t)n * sizeof(int));
	p->stack_slots[i].hash = hash;
	p->stack_slots[i].s = s;
	p->nr_stacks++;
	return 0;
fold:
	fold_truncated(p, count, value_ns);
	return 0;
}

int prof_for_each_sample(const struct prof *p, prof_sample_fn fn, void *ctx)
{
	const struct chunk *c;

	for (c = p->stack_arena.head; c; c = c->next) {
		size_t off = 0;

		while (off < c->used) {
			const struct stack *s = (const void *)((const char *)c->data + off);
			struct prof_sample ps = {
				.locs = s->locs, .n = s->depth, .thread = s->thread,
				.count = s->count, .value_ns = s->value,
			};
			int err;

			off += stack_size(s->depth);
			if (s == p->truncated && !s->count && !s->value)
				continue;
			err = fn(&ps, ctx);
			if (err)
				return err;
		}
	}
	return 0;
}

/* ---- life cycle ------------------------------------------------------ */

const char *prof_kind_name(enum prof_kind kind)
{
	switch (kind) {
	case PROF_CPU:
		return "cpu";
	case PROF_WALL:
		return "wall";
	case PROF_OFFCPU:
		return "offcpu";
	}
	return NULL;
}

#define OPT(opts, field, def) SW_OPTS_GET_OR(opts, field, def)

static struct prof *prof_alloc(enum prof_kind kind, const struct prof_opts *opts)
{
	struct prof_function_info tf = { 0 };
	struct prof_line tl = { 0 };
	struct prof_location loc = { .lines = &tl, .nr_lines = 1 };
	struct prof *p;
	int err = ENOMEM;

	if (!prof_kind_name(kind) || !SW_OPTS_VALID(opts, prof_opts)) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		goto fail;
	p->kind = kind;
	p->mem_cap = OPT(opts, mem_cap, PROF_DEFAULT_MEM_CAP);
	p->period = OPT(opts, period, 0);
	p->time_nanos = OPT(opts, time_nanos, 0);
	p->duration_nanos = OPT(opts, duration_nanos, 0);
	if (p->mem_cap < MIN_MEM_CAP) {
		err = EINVAL;
		goto fail;
	}
	p->mem_used = sizeof(*p);

	/* Element 0 of every id table is a placeholder: ids start at 1. */
	p->stack_slots = mem_alloc(p, 256 * sizeof(*p->stack_slots));
	if (!p->stack_slots || !vec_push(p, &p->maps, sizeof(struct prof_mapping_info)) ||
	    !vec_push(p, &p->funcs, sizeof(struct prof_function_info)) ||
	    !vec_push(p, &p->locs, sizeof(struct loc_rec)) ||
	    !vec_push(p, &p->threads, sizeof(struct prof_thread_info)) ||
	    !vec_reserve(p, &p->strs, sizeof(char *), 1))
		goto fail;
	p->stack_mask = 255;
	*VEC_AT(p->strs, const char *, p->strs.n++) = "";

	/* The truncation sentinels are made now so they never need memory later. */
	tf.name = prof_string(p, TRUNCATED_NAME);
	if (tf.name < 0)
		goto fail;
	p->trunc_func = function_add(p, &tf);
	if (p->trunc_func != 1)
		goto fail;
	tl.function = p->trunc_func;
	p->trunc_func = 0;	/* so that prof_location() interns it */
	p->trunc_loc = prof_location(p, &loc);
	p->trunc_func = tl.function;
	if (p->trunc_loc != 1)
		goto fail;
	p->truncated = arena_alloc(p, &p->stack_arena, stack_size(1));
	if (!p->truncated || p->capped)
		goto fail;
	p->truncated->depth = 1;
	p->truncated->locs[0] = p->trunc_loc;
	return p;
fail:
	prof_free(p);
	errno = err;
	return NULL;
}

int prof_new(enum prof_kind kind, const struct prof_opts *opts, struct prof **out)
{
	*out = prof_alloc(kind, opts);
	return *out ? 0 : -errno;
}

void prof_free(struct prof *p)
{
	if (!p)
		return;
	arena_free(&p->text);
	arena_free(&p->stack_arena);
	free(p->strs.data);
	free(p->str_idx.slots);
	free(p->maps.data);
	free(p->map_idx.slots);
	free(p->funcs.data);
	free(p->func_idx.slots);
	free(p->locs.data);
	free(p->lines.data);
	free(p->loc_idx.slots);
	free(p->threads.data);
	free(p->thread_idx.slots);
	free(p->stack_slots);
	free(p);
}

void prof_set_times(struct prof *p, uint64_t time_nanos, uint64_t duration_nanos)
{
	p->time_nanos = time_nanos;
	p->duration_nanos = duration_nanos;
}

void prof_set_period(struct prof *p, uint64_t period_ns)
{
	p->period = period_ns;
}

void prof_add_lost(struct prof *p, uint64_t lost)
{
	p->lost += lost;
}

void prof_get_stats(const struct prof *p, struct prof_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->samples = p->samples;
	st->value_ns = p->value_ns;
	st->lost = p->lost;
	st->truncated_samples = p->truncated_samples;
	st->truncated_adds = p->truncated_adds;
	st->stacks = p->nr_stacks;
	st->strings = p->strs.n;
	st->mappings = p->maps.n - 1;
	st->functions = p->funcs.n - 1;
	st->locations = p->locs.n - 1;
	st->threads = p->threads.n - 1;
	st->capped = p->capped;
	st->mem_used = p->mem_used;
	st->mem_cap = p->mem_cap;
}

/* ---- reading --------------------------------------------------------- */

enum prof_kind prof_get_kind(const struct prof *p)
{
	return p->kind;
}

uint64_t prof_get_period(const struct prof *p)
{
	return p->period;
}

uint64_t prof_get_time_nanos(const struct prof *p)
{
	return p->time_nanos;
}

uint64_t prof_get_duration_nanos(const struct prof *p)
{
	return p->duration_nanos;
}

const char *prof_str(const struct prof *p, int idx)
{
	if (idx < 0 || (uint32_t)idx >= p->strs.n)
		return NULL;
	return *VEC_AT(p->strs, const char *, idx);
}

int prof_nr_strings(const struct prof *p)
{
	return (int)p->strs.n;
}

int prof_nr_mappings(const struct prof *p)
{
	return (int)p->maps.n - 1;
}

int prof_nr_functions(const struct prof *p)
{
	return (int)p->funcs.n - 1;
}

int prof_nr_locations(const struct prof *p)
{
	return (int)p->locs.n - 1;
}

int prof_nr_threads(const struct prof *p)
{
	return (int)p->threads.n - 1;
}

int prof_get_mapping(const struct prof *p, int id, struct prof_mapping_info *out)
{
	if (id <= 0 || (uint32_t)id >= p->maps.n)
		return -ENOENT;
	*out = *VEC_AT(p->maps, struct prof_mapping_info, id);
	return 0;
}

int prof_get_function(const struct prof *p, int id, struct prof_function_info *out)
{
	if (id <= 0 || (uint32_t)id >= p->funcs.n)
		return -ENOENT;
	*out = *VEC_AT(p->funcs, struct prof_function_info, id);
	return 0;
}

int prof_get_location(const struct prof *p, int id, struct prof_location_info *out)
{
	const struct loc_rec *l;

	if (id <= 0 || (uint32_t)id >= p->locs.n)
		return -ENOENT;
	l = VEC_AT(p->locs, struct loc_rec, id);
	out->mapping = l->mapping;
	out->flags = l->flags;
	out->address = l->address;
	out->lines = VEC_AT(p->lines, struct prof_line, l->line_off);
	out->nr_lines = l->nr_lines;
	return 0;
}

int prof_get_thread(const struct prof *p, int id, struct prof_thread_info *out)
{
	if (id <= 0 || (uint32_t)id >= p->threads.n)
		return -ENOENT;
	*out = *VEC_AT(p->threads, struct prof_thread_info, id);
	return 0;
}
