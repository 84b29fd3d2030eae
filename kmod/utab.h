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
#include <linux/types.h>
#include <linux/swprof.h>

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
struct swprof_umaps;
const struct swprof_umaps *swprof_umaps_find(const struct mm_struct *mm);
const struct swprof_unwind_row *swprof_umaps_row(const struct swprof_umaps *m,
						 unsigned long addr, const void **hint);

#endif
