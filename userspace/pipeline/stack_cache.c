// SPDX-License-Identifier: GPL-2.0-only
/*
 * The stack cache: every distinct (process, address, return?) is
 * symbolized once, when it is first seen, while the process still lives;
 * after that a frame costs one hash lookup, for every sink.  Entries keep
 * their own copy of the frames (the symbolizer's strings live only until
 * its next call), with strings interned here.
 *
 * Bounded: past STACK_CACHE_MAX entries it starts over.  It never does so
 * in the middle of a stack: pl_process() asks for room first
 * (stack_cache_make_room()), so that every frame of a sample stays valid
 * while the sinks look at it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr_hash.h"
#include "pipeline_priv.h"

#define STACK_CACHE_MAX (1u << 22)

struct slot {
	uint64_t addr;
	int32_t pid;			/* 0 for kernel addresses */
	uint8_t used, ret;
	struct pl_frames *fr;
};

struct str_chunk {
	struct str_chunk *next;
	size_t used, cap;
	char data[];
};

struct stack_cache {
	struct slot *slots;
	size_t nr_slots, used;
	/* interned strings: open addressing over pointers into the chunks */
	const char **strs;
	size_t nr_strs, used_strs;
	struct str_chunk *chunks;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static void clear_all(struct stack_cache *c)
{
	size_t i;

	for (i = 0; i < c->nr_slots; i++)
		if (c->slots[i].used)
			free(c->slots[i].fr);
	memset(c->slots, 0, c->nr_slots * sizeof(*c->slots));
	c->used = 0;
	while (c->chunks) {
		struct str_chunk *n = c->chunks->next;

		free(c->chunks);
		c->chunks = n;
	}
	memset(c->strs, 0, c->nr_strs * sizeof(*c->strs));
	c->used_strs = 0;
}

struct stack_cache *stack_cache_new(void)
{
	struct stack_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->nr_slots = 4096;
	c->slots = calloc(c->nr_slots, sizeof(*c->slots));
	c->nr_strs = 1024;
	c->strs = calloc(c->nr_strs, sizeof(*c->strs));
	if (!c->slots || !c->strs) {
		stack_cache_free(c);
		return NULL;
	}
	return c;
}

void stack_cache_free(struct stack_cache *c)
{
	if (!c)
		return;
	if (c->slots && c->strs)
		clear_all(c);
	free(c->slots);
	free(c->strs);
	free(c);
}

size_t stack_cache_entries(const struct stack_cache *c)
{
	return c->used;
}

/* Insert into a table known to have room (rehash, grow). */
static void slot_put(struct slot *slots, size_t n, const struct slot *s)
{
	size_t j = pl_addr_hash(s->addr, s->pid, s->ret) & (n - 1);

	while (slots[j].used)
		j = (j + 1) & (n - 1);
	slots[j] = *s;
}

static int slots_grow(struct stack_cache *c)
{
	size_t n = c->nr_slots * 2, i;
	struct slot *s = calloc(n, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (i = 0; i < c->nr_slots; i++)
		if (c->slots[i].used)
			slot_put(s, n, &c->slots[i]);
	free(c->slots);
	c->slots = s;
	c->nr_slots = n;
	return 0;
}

void stack_cache_make_room(struct stack_cache *c, size_t n);
void stack_cache_make_room(struct stack_cache *c, size_t n)
{
	if (c->used + n >= STACK_CACHE_MAX)
		clear_all(c);
}

static const char *intern(struct stack_cache *c, const char *s)
{
	size_t len, i, mask;
	struct str_chunk *ch;
	char *p;

	if (!s)
		return NULL;
	if ((c->used_strs + 1) * 2 > c->nr_strs) {
		size_t n = c->nr_strs * 2;
		const char **t = calloc(n, sizeof(*t));

		if (!t)
			return NULL;
		for (i = 0; i < c->nr_strs; i++) {
			size_t j;

			if (!c->strs[i])
				continue;
			j = str_hash(c->strs[i]) & (n - 1);
			while (t[j])
				j = (j + 1) & (n - 1);
			t[j] = c->strs[i];
		}
		free(c->strs);
		c->strs = t;
		c->nr_strs = n;
	}
	mask = c->nr_strs - 1;
	for (i = str_hash(s) & mask; c->strs[i]; i = (i + 1) & mask)
		if (!strcmp(c->strs[i], s))
			return c->strs[i];
	len = strlen(s) + 1;
	ch = c->chunks;
	if (!ch || ch->cap - ch->used < len) {
		size_t cap = len > 65536 ? len : 65536;

		ch = malloc(sizeof(*ch) + cap);
		if (!ch)
			return NULL;
		ch->next = c->chunks;
		ch->used = 0;
		ch->cap = cap;
		c->chunks = ch;
	}
	p = ch->data + ch->used;
	memcpy(p, s, len);
	ch->used += len;
	c->strs[i] = p;
	c->used_strs++;
	return p;
}

static struct pl_frames *frames_copy(struct stack_cache *c, uint64_t addr,
				     const struct sym_frame *f, int n)
{
	struct pl_frames *fr = malloc(sizeof(*fr) + n * sizeof(fr->f[0]));
	int i;

	if (!fr)
		return NULL;
	fr->addr = addr;
	fr->n = n;
	for (i = 0; i < n; i++) {
		fr->f[i] = f[i];
		/* a failed intern leaves NULL, which every reader takes as "unknown" */
		fr->f[i].name = intern(c, f[i].name);
		fr->f[i].symbol = intern(c, f[i].symbol);
		fr->f[i].module = intern(c, f[i].module);
		fr->f[i].module_name = intern(c, f[i].module_name);
		fr->f[i].build_id = intern(c, f[i].build_id);
		fr->f[i].file = intern(c, f[i].file);
	}
	return fr;
}

const struct pl_frames *stack_cache_get(struct stack_cache *c, struct sym_session *sym,
					pid_t pid, uint64_t addr, bool ret, bool kernel)
{
	struct sym_frame f[SYM_MAX_INLINE];
	int32_t key = kernel ? 0 : pid;
	struct pl_frames *fr;
	size_t i, mask;
	int n;

	if ((c->used + 1) * 4 > c->nr_slots * 3 && slots_grow(c))
		return NULL;
	mask = c->nr_slots - 1;
	for (i = pl_addr_hash(addr, key, ret) & mask; c->slots[i].used; i = (i + 1) & mask)
		if (c->slots[i].addr == addr && c->slots[i].pid == key && c->slots[i].ret == ret)
			return c->slots[i].fr;
	if (kernel)
		n = sym_resolve_kernel(sym, addr, 0, f, SYM_MAX_INLINE);
	else
		n = sym_resolve(sym, pid, addr, ret ? SYM_RESOLVE_RETURN : 0, f, SYM_MAX_INLINE);
	if (n < 1)
		return NULL;
	fr = frames_copy(c, addr, f, n);
	if (!fr)
		return NULL;
	c->slots[i] = (struct slot){ .addr = addr, .pid = key, .used = 1, .ret = ret, .fr = fr };
	c->used++;
	return fr;
}

void stack_cache_forget_pid(struct stack_cache *c, pid_t pid)
{
	struct slot *old = c->slots, *s;
	size_t n = c->nr_slots, i;

	/* removing from a linear-probing table: rebuild without the pid */
	s = calloc(n, sizeof(*s));
	if (!s) {
		clear_all(c);
		return;
	}
	c->used = 0;
	for (i = 0; i < n; i++) {
		if (!old[i].used)
			continue;
		if (old[i].pid == pid) {
			free(old[i].fr);
			continue;
		}
		slot_put(s, n, &old[i]);
		c->used++;
	}
	free(old);
	c->slots = s;
}
