// SPDX-License-Identifier: GPL-2.0-only
/*
 * User unwind tables.  Userspace compiles each ELF file's .eh_frame into
 * rows (struct swprof_unwind_row) and uploads the table once; then, per
 * process, says which executable mapping uses which table at which bias.
 * The sampler (unwind.c) looks a process's map set up by its mm and walks
 * the rows in the interrupt, with no stack copy.
 *
 * Objects and lifetimes:
 *  - a table (struct swprof_utab) is immutable once uploaded, refcounted:
 *    one reference for its id in the owner's idr, one per map set that
 *    points into it.  Samplers reach a table only through a set, and a set
 *    drops its references a grace period after it was unhashed: so when
 *    the last reference goes no sampler can be looking, and the table is
 *    freed at once (no RCU callback of its own, none queued by another:
 *    the module's exit needs one rcu_barrier());
 *  - a map set (struct swprof_umaps) is immutable too, hashed by mm (RCU),
 *    on its owner's list; replaced whole, never edited; it pins the mm
 *    struct (mmgrab: the pointer cannot be reused while it is hashed), not
 *    the address space;
 *  - the owner (struct swprof_utab_owner) is the open file: closing it
 *    unhashes its sets and drops its ids.
 * Writers serialise on one mutex; readers take nothing but RCU.  Memory is
 * charged to the module-wide limit (mem_limit_mb) with the rings.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "stats.h"
#include "uapi.h"
#include "utab.h"


static DEFINE_MUTEX(utab_lock);
static DEFINE_HASHTABLE(utab_hash, 8);

int swprof_umaps_check(const struct swprof_unwind_maps *a)
{
	if (a->flags || (a->nr_maps && !a->maps))
		return -EINVAL;
	if (a->nr_maps > SWPROF_MAX_UNWIND_MAPS)
		return -E2BIG;
	return 0;
}

/* Also from a set's RCU callback (softirq): kvfree() defers vmalloc'd memory there. */
static void utab_put(struct swprof_utab *t)
{
	if (!refcount_dec_and_test(&t->refs))
		return;
	kvfree(t->rows);
	kvfree(t->pidx);
	swprof_mem_uncharge(t->mem);
	kfree(t);
}

static bool row_ok(const struct swprof_unwind_row *r)
{
	switch (r->cfa) {
	case SWPROF_CFA_NONE:
	case SWPROF_CFA_END:
	case SWPROF_CFA_PLT:
		if (r->cfa_off)
			return false;
		break;
	case SWPROF_CFA_SP:
	case SWPROF_CFA_BP:
		break;
	default:
		return false;
	}
	switch (r->bp) {
	case SWPROF_BP_SAME:
		return !r->bp_off;
	case SWPROF_BP_CFA:
		return !(r->bp_off & 7) && r->cfa != SWPROF_CFA_NONE && r->cfa != SWPROF_CFA_END;
	default:
		return false;
	}
}

static int utab_index(struct swprof_utab *t)
{
	u32 base = t->rows[0].pc >> UTAB_PAGE_SHIFT;
	u32 npages = (t->rows[t->nr - 1].pc >> UTAB_PAGE_SHIFT) - base + 1;
	u32 p, i = 0;
	u64 mem = (u64)npages * sizeof(*t->pidx);
	int err;

	if (npages > t->nr / 4 + 1024)
		return 0;
	err = swprof_mem_charge(mem);
	if (err)
		return err;
	t->pidx = kvmalloc_array(npages, sizeof(*t->pidx), GFP_KERNEL_ACCOUNT);
	if (!t->pidx) {
		swprof_mem_uncharge(mem);
		return -ENOMEM;
	}
	t->mem += mem;
	t->base_page = base;
	t->npages = npages;
	for (p = 0; p < npages; p++) {
		while (i < t->nr && (t->rows[i].pc >> UTAB_PAGE_SHIFT) < base + p)
			i++;
		t->pidx[p] = i;
	}
	return 0;
}

long swprof_utab_add(struct swprof_utab_owner *o, void __user *uarg)
{
	struct swprof_unwind_table a;
	struct swprof_utab *t;
	u32 i;
	int err, id;

	err = swprof_copy_in(&a, sizeof(a), sizeof(a), uarg);
	if (err)
		return err;
	if (a.flags || a.id || !a.nr_rows)
		return -EINVAL;
	if (a.nr_rows > SWPROF_MAX_UNWIND_ROWS)
		return -E2BIG;
	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	t->nr = a.nr_rows;
	t->mem = sizeof(*t) + (u64)a.nr_rows * sizeof(*t->rows);
	/* the page index, if the rows are not too sparse: at most a page entry per 4 rows + 1 Ki */
	err = swprof_mem_charge(t->mem);
	if (err) {
		kfree(t);
		return err;
	}
	refcount_set(&t->refs, 1);
	t->rows = kvmalloc_array(a.nr_rows, sizeof(*t->rows), GFP_KERNEL_ACCOUNT);
	err = -ENOMEM;
	if (!t->rows)
		goto fail;
	err = -EFAULT;
	if (copy_from_user(t->rows, u64_to_user_ptr(a.rows), (u64)a.nr_rows * sizeof(*t->rows)))
		goto fail;
	err = -EINVAL;
	for (i = 0; i < a.nr_rows; i++) {
		if (!row_ok(&t->rows[i]) || (i && t->rows[i].pc <= t->rows[i - 1].pc))
			goto fail;
	}
	/* nothing may apply past the last row's start but "no rule" or "end" */
	if (t->rows[a.nr_rows - 1].cfa != SWPROF_CFA_NONE &&
	    t->rows[a.nr_rows - 1].cfa != SWPROF_CFA_END)
		goto fail;
	err = utab_index(t);
	if (err)
		goto fail;
	mutex_lock(&utab_lock);
	id = idr_alloc(&o->ids, t, 1, 0, GFP_KERNEL);
	mutex_unlock(&utab_lock);
	if (id < 0) {
		err = id;
		goto fail;
	}
	a.id = id;
	if (put_user(a.id, &((struct swprof_unwind_table __user *)uarg)->id)) {
		mutex_lock(&utab_lock);
		idr_remove(&o->ids, id);
		mutex_unlock(&utab_lock);
		err = -EFAULT;
		goto fail;
	}
	return 0;
fail:
	utab_put(t);
	return err;
}

long swprof_utab_free(struct swprof_utab_owner *o, void __user *uarg)
{
	struct swprof_unwind_ref a;
	struct swprof_utab *t;
	int err;

	err = swprof_copy_in(&a, sizeof(a), sizeof(a), uarg);
	if (err)
		return err;
	if (!a.id || a.id > INT_MAX)
		return -ENOENT;
	mutex_lock(&utab_lock);
	t = idr_remove(&o->ids, a.id);
	mutex_unlock(&utab_lock);
	if (!t)
		return -ENOENT;
	utab_put(t);
	return 0;
}

static void umaps_free_rcu(struct rcu_head *head)
{
	struct swprof_umaps *m = container_of(head, struct swprof_umaps, rcu);
	u32 i;

	for (i = 0; i < m->nr; i++)
		utab_put(m->maps[i].tab);
	swprof_mem_uncharge(m->mem);
	kvfree(m);
}

/* Under utab_lock.  The mm is dropped at once: no reader can match it once unhashed. */
static void umaps_remove(struct swprof_umaps *m)
{
	hash_del_rcu(&m->hnode);
	list_del(&m->onode);
	mmdrop(m->mm);
	call_rcu(&m->rcu, umaps_free_rcu);
}

/* Under utab_lock: the owner's set for @mm, if any. */
static struct swprof_umaps *umaps_owned(struct swprof_utab_owner *o, struct mm_struct *mm)
{
	struct swprof_umaps *m;

	list_for_each_entry(m, &o->sets, onode)
		if (m->mm == mm)
			return m;
	return NULL;
}

/* Under utab_lock: the owner's sets of processes that have exited go. */
static void umaps_reap(struct swprof_utab_owner *o)
{
	struct swprof_umaps *m, *tmp;

	list_for_each_entry_safe(m, tmp, &o->sets, onode)
		if (!atomic_read(&m->mm->mm_users))
			umaps_remove(m);
}

/* A checked struct swprof_unwind_maps (swprof_umaps_check()) for @mm, whose mmgrab() it takes. */
long swprof_umaps_set(struct swprof_utab_owner *o, const struct swprof_unwind_maps *ap,
		      struct mm_struct *mm)
{
	struct swprof_unwind_mapping *in = NULL;
	struct swprof_umaps *m = NULL, *old;
	struct swprof_unwind_maps a = *ap;
	u32 i;
	int err;

	/* a cache entry holds the CFA rule + 1 in 3 bits (utab.h) */
	BUILD_BUG_ON(SWPROF_CFA_END + 1 > 7);
	if (a.nr_maps) {
		in = kvmalloc_array(a.nr_maps, sizeof(*in), GFP_KERNEL);
		m = kvzalloc(struct_size(m, maps, a.nr_maps), GFP_KERNEL_ACCOUNT);
		err = -ENOMEM;
		if (!in || !m)
			goto out;
		err = -EFAULT;
		if (copy_from_user(in, u64_to_user_ptr(a.maps), (u64)a.nr_maps * sizeof(*in)))
			goto out;
		err = -EINVAL;
		for (i = 0; i < a.nr_maps; i++) {
			if (in[i].__pad || !in[i].table || in[i].start >= in[i].end ||
			    (i && in[i].start < in[i - 1].end))
				goto out;
		}
		m->mem = struct_size(m, maps, a.nr_maps);
		m->cache = m->cache_mem;
		err = swprof_mem_charge(m->mem);
		if (err) {
			m->mem = 0;
			goto out;
		}
	}

	mutex_lock(&utab_lock);
	umaps_reap(o);
	if (m) {
		for (i = 0; i < a.nr_maps; i++) {
			struct swprof_utab *t = in[i].table <= INT_MAX ?
						idr_find(&o->ids, in[i].table) : NULL;

			if (!t) {
				err = -ENOENT;
				break;
			}
			refcount_inc(&t->refs);
			m->maps[i] = (struct swprof_umap){
				.start = in[i].start, .end = in[i].end, .bias = in[i].bias, .tab = t,
			};
			m->nr = i + 1;
		}
		if (m->nr != a.nr_maps) {
			mutex_unlock(&utab_lock);
			goto out;
		}
	}
	old = umaps_owned(o, mm);
	if (old)
		umaps_remove(old);
	if (m) {
		m->mm = mm;
		mm = NULL;		/* the set's now */
		list_add(&m->onode, &o->sets);
		hash_add_rcu(utab_hash, &m->hnode, hash_ptr(m->mm, 8));
		m = NULL;
	}
	err = 0;
	if (!old && !a.nr_maps)
		err = -ENOENT;
	mutex_unlock(&utab_lock);
out:
	kvfree(in);
	if (m) {
		/* not published: drop what it took, synchronously */
		for (i = 0; i < m->nr; i++)
			utab_put(m->maps[i].tab);
		swprof_mem_uncharge(m->mem);
		kvfree(m);
	}
	if (mm)
		mmdrop(mm);
	return err;
}

void swprof_utab_owner_init(struct swprof_utab_owner *o)
{
	idr_init(&o->ids);
	INIT_LIST_HEAD(&o->sets);
}

void swprof_utab_owner_release(struct swprof_utab_owner *o)
{
	struct swprof_umaps *m, *tmp;
	struct swprof_utab *t;
	int id;

	mutex_lock(&utab_lock);
	list_for_each_entry_safe(m, tmp, &o->sets, onode)
		umaps_remove(m);
	idr_for_each_entry(&o->ids, t, id)
		utab_put(t);
	mutex_unlock(&utab_lock);
	idr_destroy(&o->ids);
}

const struct swprof_umaps *swprof_umaps_find(const struct mm_struct *mm)
{
	struct swprof_umaps *m;

	hash_for_each_possible_rcu(utab_hash, m, hnode, hash_ptr(mm, 8))
		if (m->mm == mm)
			return m;
	return NULL;
}

/* The last row of @t whose pc <= @pc (pc >= the first row's). */
static const struct swprof_unwind_row *utab_find(const struct swprof_utab *t, u32 pc)
{
	u32 lo = 0, hi = t->nr, mid;

	/* among the rows of pc's page */
	if (t->pidx) {
		u32 page = (pc >> UTAB_PAGE_SHIFT) - t->base_page;

		if (page >= t->npages)
			return &t->rows[t->nr - 1];
		lo = t->pidx[page] ? t->pidx[page] - 1 : 0;
		if (page + 1 < t->npages)
			hi = t->pidx[page + 1];
		/* hi > lo: the row starting the page, or the one before it, covers pc */
		if (hi <= lo)
			hi = lo + 1;
	}
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (t->rows[mid].pc <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return &t->rows[lo];
}

u64 swprof_umaps_search(const struct swprof_umaps *m, unsigned long addr, struct swprof_urule *wide)
{
	const struct swprof_unwind_row *row = NULL;
	const struct swprof_umap *map = NULL;
	struct swprof_urule r = { .cfa = SWPROF_CFA_NONE };
	u32 lo = 0, hi = m->nr, mid;
	u64 pc, e;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (addr < m->maps[mid].start) {
			hi = mid;
		} else if (addr >= m->maps[mid].end) {
			lo = mid + 1;
		} else {
			map = &m->maps[mid];
			break;
		}
	}
	if (map) {
		pc = addr - map->bias;
		if (pc <= U32_MAX && pc >= map->tab->rows[0].pc)
			row = utab_find(map->tab, pc);
	}
	if (row)
		r = (struct swprof_urule){
			.cfa = row->cfa, .bp = row->bp, .cfa_off = row->cfa_off, .bp_off = row->bp_off,
		};
	/* an entry holds offsets that are multiples of 8, 13 and 9 bits signed (utab.h) */
	if ((r.cfa_off & 7) || r.cfa_off < -(8 << 12) || r.cfa_off >= (8 << 12) ||
	    r.bp_off < -(8 << 8) || r.bp_off >= (8 << 8)) {
		*wide = r;
		return UMAPS_WIDE;
	}
	e = (u64)r.bp << 25 | (u64)(r.cfa + 1) << 22 | (u64)((r.bp_off >> 3) & 0x1ff) << 13 |
	    ((r.cfa_off >> 3) & 0x1fff);
	if (!(addr >> UMAPS_ADDR_BITS))
		WRITE_ONCE(m->cache[addr & GENMASK(UMAPS_CACHE_BITS - 1, 0)], umaps_tag(addr) | e);
	return e;
}
