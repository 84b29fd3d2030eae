/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * User unwind tables (utab.c): the tables an opener of /dev/swprof uploads,
 * the per-process mappings that point into them, and the lockless lookup
 * the sampler does (unwind.c).
 */
#ifndef SWPROF_UTAB_H
#define SWPROF_UTAB_H

#include <linux/idr.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/swprof.h>

struct swprof_utab {
	refcount_t refs;
	u32 nr;
	u64 mem;
	struct swprof_unwind_row *rows;	/* kvmalloc'd */
	/*
	 * Page index: pidx[p] = the first row at or past page base_page + p
	 * (4 KiB pages of pc), so a lookup searches a page's few rows, not
	 * the whole table.  NULL for a sparse table (then: the whole table).
	 */
	u32 base_page, npages;
	u32 *pidx;
};

#define UTAB_PAGE_SHIFT	12

struct swprof_umap {
	u64 start, end, bias;
	struct swprof_utab *tab;	/* reference held */
};

/*
 * A map set's lookup cache, direct-mapped by the address's low bits: the
 * rules found before (a profile's return addresses repeat), so a frame
 * costs one load and a compare, not a search of the maps and a table.
 * An entry is one u64 holding the address and the rule itself, written by
 * samplers on any CPU without a lock (a reader sees an old entry or a new
 * one, never half of each):
 *   bits 63..26  address bits 9..46 (bits 0..8 are the slot; an address
 *                with a bit above 46, possible with 5-level paging, is never
 *                cached)
 *   bit  25      bp rule (SWPROF_BP_*)
 *   bits 24..22  the CFA rule (SWPROF_CFA_*) + 1; 0: an empty entry
 *   bits 21..13  bp_off / 8, signed
 *   bits 12..0   cfa_off / 8, signed
 * (the offsets at the bottom: a sign-extending shift pair each).  "No row
 * covers the address" is cached as SWPROF_CFA_NONE, which the walk treats
 * alike.  A rule whose offsets do not fit is not cached.
 */
#define UMAPS_CACHE_BITS	9
#define UMAPS_TAG_SHIFT		26
#define UMAPS_ADDR_BITS		47	/* 9 slot bits + 38 tag bits */

/* A row's rule, unpacked. */
struct swprof_urule {
	u32 cfa, bp;
	s32 cfa_off, bp_off;
};

struct swprof_umaps {
	struct hlist_node hnode;	/* utab_hash, by mm */
	struct list_head onode;		/* owner->sets */
	struct mm_struct *mm;		/* mmgrab'd */
	u64 mem;
	struct rcu_head rcu;
	u32 nr;
	u64 *cache;			/* cache_mem, below: written through a const set */
	u64 cache_mem[1U << UMAPS_CACHE_BITS];
	struct swprof_umap maps[];
};

/* What one open file of /dev/swprof owns: its tables by id, its map sets. */
struct swprof_utab_owner {
	struct idr ids;			/* id -> struct swprof_utab, the owner's reference */
	struct list_head sets;		/* struct swprof_umaps it installed */
};

void swprof_utab_owner_init(struct swprof_utab_owner *o);
void swprof_utab_owner_release(struct swprof_utab_owner *o);
long swprof_utab_add(struct swprof_utab_owner *o, void __user *uarg);
long swprof_utab_free(struct swprof_utab_owner *o, void __user *uarg);
int swprof_umaps_check(const struct swprof_unwind_maps *a);
long swprof_umaps_set(struct swprof_utab_owner *o, const struct swprof_unwind_maps *a,
		      struct mm_struct *mm);

/*
 * The sampler's side, under rcu_read_lock() or with preemption disabled:
 * the map set of @mm (NULL: none), and the row for @addr in it (NULL: no
 * mapping or no row covers it).
 */
const struct swprof_umaps *swprof_umaps_find(const struct mm_struct *mm);

static __always_inline u64 umaps_tag(unsigned long addr)
{
	return (u64)(addr >> UMAPS_CACHE_BITS) << UMAPS_TAG_SHIFT;
}

/*
 * The rule for @addr in @m: the row that covers it, else SWPROF_CFA_NONE,
 * as a cache entry (the tag bits aside), from the cache or 0 if it does
 * not hold it.  swprof_umaps_search() finds a rule and caches it; it is
 * out of line (the walk closes user access around the call).  A rule whose
 * offsets do not fit an entry comes back as UMAPS_WIDE with *wide filled.
 */
#define UMAPS_WIDE		(1ULL << 25 | 7ULL << 22)	/* an entry no rule makes */

static __always_inline u64 swprof_umaps_cached(const struct swprof_umaps *m, unsigned long addr)
{
	u64 e = READ_ONCE(m->cache[addr & GENMASK(UMAPS_CACHE_BITS - 1, 0)]);

	/* the tag holds address bits up to 46: above (5-level paging) nothing is cached */
	if (addr >> UMAPS_ADDR_BITS)
		return 0;
	return (e & GENMASK_ULL(63, UMAPS_TAG_SHIFT)) == umaps_tag(addr) ? e : 0;
}

u64 swprof_umaps_search(const struct swprof_umaps *m, unsigned long addr, struct swprof_urule *wide);

/* An entry's rule, unpacked. */
static __always_inline void swprof_urule_unpack(u64 e, struct swprof_urule *r)
{
	r->cfa = ((u32)e >> 22 & 7) - 1;
	r->bp = (u32)e >> 25 & 1;
	r->cfa_off = ((s32)((u32)e << 19) >> 19) * 8;	/* bits 12..0, signed */
	r->bp_off = ((s32)((u32)e << 10) >> 23) * 8;	/* bits 21..13, signed */
}

#endif
