// SPDX-License-Identifier: GPL-2.0-only
/*
 * The merged call tree behind folded stacks and SVG flame graphs: frames
 * root first, inline frames expanded, siblings merged by (kind, name) as
 * FlameGraph merges identical folded lines, children sorted by name.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flame.h"

/* Child index: (parent, kind, name) -> node. */
struct child_map {
	uint32_t *slots;	/* node index, 0 = empty */
	uint32_t mask;
	uint32_t n;
};

static inline uint64_t child_hash(uint32_t parent, uint8_t kind, int name)
{
	uint64_t x = (uint64_t)parent << 32 ^ (uint64_t)kind << 29 ^ (uint32_t)name;

	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ULL;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dULL;
	return x ^ (x >> 33);
}

struct builder {
	struct flame *fl;
	struct child_map map;
	uint32_t cap;
	int by_thread;
};

static int node_new(struct builder *b, uint32_t parent, uint8_t kind, int name)
{
	struct flame *fl = b->fl;
	struct flame_node *n;

	if (fl->nr_nodes == b->cap) {
		uint32_t ncap = b->cap ? b->cap * 2 : 1024;
		struct flame_node *nn;

		if (ncap <= b->cap)
			return -ENOMEM;
		nn = realloc(fl->nodes, (size_t)ncap * sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		fl->nodes = nn;
		b->cap = ncap;
	}
	n = &fl->nodes[fl->nr_nodes];
	memset(n, 0, sizeof(*n));
	n->name = name;
	n->kind = kind;
	n->parent = parent;
	n->depth = parent == UINT32_MAX ? 0 : fl->nodes[parent].depth + 1;
	if (n->depth > fl->max_depth)
		fl->max_depth = n->depth;
	return (int)fl->nr_nodes++;
}

static int map_grow(struct builder *b)
{
	uint32_t ncap = b->map.slots ? (b->map.mask + 1) * 2 : 4096, i, j;
	uint32_t *ns = calloc(ncap, sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (j = 0; b->map.slots && j <= b->map.mask; j++) {
		uint32_t idx = b->map.slots[j];
		const struct flame_node *n;

		if (!idx)
			continue;
		n = &b->fl->nodes[idx];
		for (i = child_hash(n->parent, n->kind, n->name) & (ncap - 1); ns[i];
		     i = (i + 1) & (ncap - 1))
			;
		ns[i] = idx;
	}
	free(b->map.slots);
	b->map.slots = ns;
	b->map.mask = ncap - 1;
	return 0;
}

/* The child of parent for (kind, name), created if needed; < 0 on error. */
static int64_t child_get(struct builder *b, uint32_t parent, uint8_t kind, int name)
{
	uint32_t i, idx;
	int err;

	if (!b->map.slots || (b->map.n + 1) * 2 > b->map.mask + 1) {
		err = map_grow(b);
		if (err)
			return err;
	}
	for (i = child_hash(parent, kind, name) & b->map.mask; (idx = b->map.slots[i]);
	     i = (i + 1) & b->map.mask) {
		const struct flame_node *n = &b->fl->nodes[idx];

		if (n->parent == parent && n->kind == kind && n->name == name)
			return idx;
	}
	err = node_new(b, parent, kind, name);
	if (err < 0)
		return err;
	b->map.slots[i] = (uint32_t)err;
	b->map.n++;
	return err;
}

static bool is_missing(const char *name)
{
	return !*name || name[0] == '[';
}

static int add_sample(const struct prof_sample *s, void *ctx)
{
	struct builder *b = ctx;
	struct flame *fl = b->fl;
	uint32_t cur = 0;
	unsigned int i, j;
	int64_t idx;

	fl->nodes[0].count += s->count;
	fl->nodes[0].value += s->value_ns;
	if (b->by_thread) {
		idx = child_get(b, cur, FLAME_THREAD, s->thread);
		if (idx < 0)
			return (int)idx;
		cur = (uint32_t)idx;
		fl->nodes[cur].count += s->count;
		fl->nodes[cur].value += s->value_ns;
	}
	for (i = s->n; i-- > 0;) {
		struct prof_location_info loc;
		uint8_t kind;

		if (prof_get_location(fl->prof, s->locs[i], &loc))
			return -EINVAL;
		kind = loc.flags & PROF_LOC_KERNEL ? FLAME_KERNEL : FLAME_USER;
		for (j = loc.nr_lines; j-- > 0;) {
			struct prof_function_info fn;
			struct flame_node *n;

			if (prof_get_function(fl->prof, loc.lines[j].function, &fn))
				return -EINVAL;
			idx = child_get(b, cur, kind, fn.name);
			if (idx < 0)
				return (int)idx;
			cur = (uint32_t)idx;
			n = &fl->nodes[cur];
			n->count += s->count;
			n->value += s->value_ns;
			/* the last line is the function the others were inlined into */
			if (j + 1 < loc.nr_lines)
				n->flags |= FLAME_INLINED;
			if (is_missing(prof_str(fl->prof, fn.name)))
				n->flags |= FLAME_MISSING;
		}
	}
	fl->nodes[cur].self_count += s->count;
	fl->nodes[cur].self_value += s->value_ns;
	return 0;
}

static int cmp_nodes(const void *a, const void *b, void *ctx)
{
	const struct flame *fl = ctx;
	const struct flame_node *x = &fl->nodes[*(const uint32_t *)a];
	const struct flame_node *y = &fl->nodes[*(const uint32_t *)b];
	char bx[256], by[256];
	int r;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	r = strcmp(flame_name(fl, x, bx, sizeof(bx)), flame_name(fl, y, by, sizeof(by)));
	if (r)
		return r;
	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	/* Same display name: threads that differ only by pid, say. */
	return x->name < y->name ? -1 : x->name > y->name;
}

/* Links children in name order: deterministic output whatever the input order. */
static int link_children(struct flame *fl)
{
	uint32_t *order, *last, i;

	order = malloc((size_t)fl->nr_nodes * sizeof(*order));
	last = calloc(fl->nr_nodes, sizeof(*last));
	if (!order || !last) {
		free(order);
		free(last);
		return -ENOMEM;
	}
	for (i = 0; i + 1 < fl->nr_nodes; i++)
		order[i] = i + 1;
	/* Sorting all non-root nodes by (parent, name) groups siblings in order. */
	qsort_r(order, fl->nr_nodes - 1, sizeof(*order), cmp_nodes, fl);
	for (i = 0; i + 1 < fl->nr_nodes; i++) {
		uint32_t idx = order[i], parent = fl->nodes[idx].parent;

		if (last[parent])
			fl->nodes[last[parent]].next_sibling = idx;
		else
			fl->nodes[parent].first_child = idx;
		last[parent] = idx;
	}
	free(order);
	free(last);
	return 0;
}

int flame_build(struct flame *fl, const struct prof *p, int by_thread)
{
	struct builder b = { .fl = fl, .by_thread = by_thread };
	int err;

	memset(fl, 0, sizeof(*fl));
	fl->prof = p;
	err = node_new(&b, UINT32_MAX, FLAME_ROOT, 0);
	if (err < 0)
		goto fail;
	fl->nodes[0].parent = 0;
	err = prof_for_each_sample(p, add_sample, &b);
	if (err)
		goto fail;
	free(b.map.slots);
	b.map.slots = NULL;
	err = link_children(fl);
	if (err)
		goto fail;
	return 0;
fail:
	free(b.map.slots);
	flame_free(fl);
	return err < 0 ? err : -EINVAL;
}

void flame_free(struct flame *fl)
{
	free(fl->nodes);
	fl->nodes = NULL;
	fl->nr_nodes = 0;
}

static const char *sanitize(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] == ';' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			break;
	}
	if (!s[i])
		return s;
	for (i = 0; s[i] && i + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = c == ';' ? ':' : c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	buf[i] = 0;
	return buf;
}

const char *flame_name(const struct flame *fl, const struct flame_node *n,
		       char *buf, size_t size)
{
	struct prof_thread_info t;
	const char *s;

	switch (n->kind) {
	case FLAME_ROOT:
		return "all";
	case FLAME_THREAD:
		if (prof_get_thread(fl->prof, n->name, &t))
			return "[no thread]";
		s = prof_str(fl->prof, t.name);
		if (!s || !*s) {
			snprintf(buf, size, "%u", t.tid);
		} else {
			char tmp[256];

			snprintf(buf, size, "%s-%u", sanitize(s, tmp, sizeof(tmp)), t.tid);
		}
		return buf;
	default:
		s = prof_str(fl->prof, n->name);
		if (!s || !*s)
			return "[unknown]";
		return sanitize(s, buf, size);
	}
}
