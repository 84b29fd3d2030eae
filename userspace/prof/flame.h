/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * flame: the merged call tree of a profile, behind folded stacks and SVG
 * flame graphs (export/).  No I/O.
 */
#ifndef SWCTL_FLAME_H
#define SWCTL_FLAME_H

#include <stddef.h>
#include <stdint.h>

#include "prof.h"

enum flame_kind {
	FLAME_ROOT,
	FLAME_USER,
	FLAME_KERNEL,
	FLAME_THREAD,		/* the "comm-tid" root of a thread (by_thread) */
};

#define FLAME_INLINED	(1u << 0)	/* at least one merged frame was inlined */
#define FLAME_MISSING	(1u << 1)	/* "[MISSING] ...", "[unknown]", truncated */

/* One frame of the merged call tree; node 0 is the root. */
struct flame_node {
	uint64_t count, value;		/* totals, children included */
	uint64_t self_count, self_value;
	int name;			/* string index; thread id for FLAME_THREAD */
	uint8_t kind;			/* enum flame_kind */
	uint8_t flags;			/* FLAME_* */
	uint16_t pad;
	uint32_t depth;			/* root 0 */
	uint32_t parent, first_child, next_sibling;	/* 0: none (root is never a child) */
};

struct flame {
	const struct prof *prof;
	struct flame_node *nodes;
	uint32_t nr_nodes;
	uint32_t max_depth;
};

/* Builds the tree, children sorted by name; 0 or -ENOMEM. */
int flame_build(struct flame *fl, const struct prof *p, int by_thread);
void flame_free(struct flame *fl);

/*
 * The frame's display name with ';' and control characters replaced, no
 * "_[k]" suffix; "[unknown]" for an empty name.  Uses buf (>= 256 bytes) for
 * names it must build or rewrite.
 */
const char *flame_name(const struct flame *fl, const struct flame_node *n,
		       char *buf, size_t size);

static inline uint64_t flame_metric(const struct flame_node *n, int ns)
{
	return ns ? n->value : n->count;
}

#endif
