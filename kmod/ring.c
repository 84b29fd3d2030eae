// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-target ring buffers.
 *
 * Single producer: every record of a ring is written in the context of the
 * target thread (its hrtimer interrupt, its scheduler hooks, its exit and
 * exec), with interrupts off and a nesting guard, so the producer side needs
 * no lock.  The consumer position lives on its own page, the only one
 * userspace may write, and is treated as untrusted: a bogus value can make
 * the ring look full, never make the kernel write out of bounds.
 *
 * When a record does not fit, it is dropped (never overwriting unread
 * data), its sequence number is consumed, and a LOST record reporting the
 * dropped range goes in before the next record that fits.
 *
 * The ring owns its readers' wait queue and the irq_work that wakes them,
 * so that a record can be published from hardirq and scheduler context.
 * It sends no event itself: drop and commit tell the producer when one is
 * due (once per loss burst; the watermark crossed upward).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>

#include "kcompat.h"
#include "ring.h"

static void ring_wake_fn(struct irq_work *work)
{
	struct swprof_ring *r = container_of(work, struct swprof_ring, wake_work);

	wake_up_all(&r->wq);
}

/* On failure the ring is freed already; swprof_ring_free() again is harmless. */
int swprof_ring_alloc(struct swprof_ring *r, u64 size, u32 wakeup_bytes)
{
	unsigned int nr_data = size >> PAGE_SHIFT, nr_meta = 2, i;
	struct page **map;

	init_waitqueue_head(&r->wq);
	init_irq_work(&r->wake_work, ring_wake_fn);
	r->wakeup_bytes = wakeup_bytes;
	r->nr_data = nr_data;
	r->size = size;
	r->pages = kvcalloc(nr_meta + nr_data, sizeof(*r->pages), GFP_KERNEL);
	map = kvcalloc(nr_meta + 2 * nr_data, sizeof(*map), GFP_KERNEL);
	if (!r->pages || !map)
		goto fail;
	for (i = 0; i < nr_meta + nr_data; i++) {
		r->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO | __GFP_ACCOUNT);
		if (!r->pages[i])
			goto fail;
	}
	for (i = 0; i < nr_meta + nr_data; i++)
		map[i] = r->pages[i];
	for (i = 0; i < nr_data; i++)
		map[nr_meta + nr_data + i] = r->pages[nr_meta + i];
	r->base = vmap(map, nr_meta + 2 * nr_data, VM_MAP | VM_USERMAP, PAGE_KERNEL);
	if (!r->base)
		goto fail;
	kvfree(map);

	r->hdr = r->base;
	r->cons = r->base + PAGE_SIZE;
	r->data = r->base + 2 * PAGE_SIZE;
	r->hdr->version = SWPROF_RING_VERSION;
	r->hdr->header_size = sizeof(*r->hdr);
	r->hdr->consumer_offset = PAGE_SIZE;
	r->hdr->data_offset = 2 * PAGE_SIZE;
	r->hdr->data_size = size;
	r->wm_armed = true;
	r->lost_armed = true;
	return 0;
fail:
	kvfree(map);
	swprof_ring_free(r);
	return -ENOMEM;
}

/* No producer can run any more; a wakeup may still be queued. */
void swprof_ring_free(struct swprof_ring *r)
{
	unsigned int i;

	irq_work_sync(&r->wake_work);
	if (r->base)
		vunmap(r->base);
	r->base = NULL;
	if (r->pages) {
		for (i = 0; i < 2 + r->nr_data; i++)
			if (r->pages[i])
				__free_page(r->pages[i]);
		kvfree(r->pages);
		r->pages = NULL;
	}
}

/*
 * mmap layout (page offsets): 0 header (read-only), 1 consumer (the only
 * writable page), 2.. data twice (read-only).  A writable mapping must be
 * exactly the consumer page; read-only mappings lose VM_MAYWRITE so that
 * mprotect() cannot upgrade them.
 */
int swprof_ring_mmap(struct swprof_ring *r, struct vm_area_struct *vma)
{
	unsigned long pages = vma_pages(vma);
	unsigned long total = 2 + 2 * (unsigned long)r->nr_data;

	if (vma->vm_pgoff >= total || pages > total - vma->vm_pgoff)
		return -EINVAL;
	if (vma->vm_flags & VM_WRITE) {
		if (vma->vm_pgoff != 1 || pages != 1)
			return -EPERM;
	} else if (!(vma->vm_pgoff == 1 && pages == 1)) {
		swprof_vm_flags_clear(vma, VM_MAYWRITE);
	}
	if (!(vma->vm_flags & VM_SHARED) && (vma->vm_flags & VM_MAYWRITE) &&
	    !(vma->vm_pgoff == 1 && pages == 1))
		return -EINVAL;
	return remap_vmalloc_range(vma, r->base, vma->vm_pgoff);
}

/*
 * POLLIN once the unread bytes reach the wakeup threshold (any byte once
 * the producer is done), POLLHUP when it is done and everything was read.
 */
__poll_t swprof_ring_poll(struct swprof_ring *r, struct file *file, poll_table *pt)
{
	u64 unread, mark = r->wakeup_bytes ? r->wakeup_bytes : 1;
	__poll_t mask = 0;
	bool hup;

	poll_wait(file, &r->wq, pt);
	unread = swprof_ring_unread(r);
	hup = READ_ONCE(r->hup);
	if (unread >= mark || (hup && unread))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (hup && !unread)
		mask |= EPOLLHUP;
	return mask;
}

/* The producer is done (exit, exec into privilege, end of a trace segment). */
void swprof_ring_hangup(struct swprof_ring *r)
{
	WRITE_ONCE(r->hup, true);
	irq_work_queue(&r->wake_work);
}

/*
 * One more in a header counter that more than one CPU may count at once
 * (a WALL tick and the IPI it sent earlier): never a lost update.
 */
void swprof_ring_count(struct swprof_ring *r, u64 *counter)
{
	u64 old = READ_ONCE(*counter), prev;

	while ((prev = cmpxchg64(counter, old, old + 1)) != old)
		old = prev;
}

u64 swprof_ring_unread(struct swprof_ring *r)
{
	u64 prod = smp_load_acquire(&r->hdr->producer_pos);
	u64 cons = READ_ONCE(r->cons->consumer_pos);
	u64 unread = prod - cons;

	return unread > r->size ? r->size : unread;
}

static u32 ring_free_bytes(struct swprof_ring *r)
{
	u64 cons = READ_ONCE(r->cons->consumer_pos);
	u64 used = r->prod - cons;

	/* a consumer ahead of the producer or too far behind: untrusted, full */
	if (used > r->size)
		return 0;
	return r->size - used;
}

/*
 * Reserve room for a record of at most @size bytes (and for the LOST record
 * owed before it).  Returns where to write it, or NULL when it does not fit:
 * then the producer calls swprof_ring_drop().
 */
void *swprof_ring_reserve(struct swprof_ring *r, u32 size)
{
	u32 need = size;

	if (r->lost_count)
		need += sizeof(struct swprof_lost);
	if (need > ring_free_bytes(r))
		return NULL;
	if (r->lost_count) {
		struct swprof_lost *l = (void *)(r->data + (r->prod & (r->size - 1)));

		l->hdr.size = sizeof(*l);
		l->hdr.type = SWPROF_REC_LOST;
		l->hdr.flags = 0;
		l->hdr.seq = r->lost_first;
		l->hdr.time_ns = ktime_get_mono_fast_ns();
		l->count = r->lost_count;
		l->first_seq = r->lost_first;
		l->last_seq = r->lost_first + r->lost_count - 1;
		r->prod += sizeof(*l);
		r->lost_count = 0;
		WRITE_ONCE(r->hdr->lost_pending, 0);
	}
	return r->data + (r->prod & (r->size - 1));
}

/*
 * The record that would have had the next seq does not fit.  True (and
 * *used, the bytes in use) when a SAMPLES_LOST event is due: at the first
 * drop of a burst (no loss pending), re-armed only when the reader caught
 * up to half the ring.
 */
bool swprof_ring_drop(struct swprof_ring *r, u64 *used)
{
	bool burst = !r->lost_count;

	if (!r->lost_count)
		r->lost_first = r->next_seq;
	r->lost_count++;
	r->next_seq++;
	WRITE_ONCE(r->hdr->lost, r->hdr->lost + 1);
	WRITE_ONCE(r->hdr->lost_pending, r->lost_count);
	if (!burst || !r->lost_armed)
		return false;
	r->lost_armed = false;
	*used = r->size - ring_free_bytes(r);
	return true;
}

/*
 * Publish a record written at the reserved place, stamped @time_ns.
 * Readers are woken when the unread bytes cross the wakeup threshold (by
 * default: when the ring stops being empty, the only moment a reader can
 * be asleep on it), through irq_work because we may be in hardirq or
 * scheduler context.  Returns the unread bytes when they crossed 3/4 of the
 * ring upward (a RING_WATERMARK event is due), else 0.
 */
u64 swprof_ring_commit(struct swprof_ring *r, void *rec, u32 type, u16 flags, u32 size,
		       u64 time_ns)
{
	struct swprof_rec *h = rec;
	u64 cons, before, after, mark, high = r->size / 4 * 3;

	h->size = size;
	h->type = type;
	h->flags = flags;
	h->seq = r->next_seq++;
	h->time_ns = time_ns;
	cons = READ_ONCE(r->cons->consumer_pos);
	before = smp_load_acquire(&r->hdr->producer_pos) - cons;
	r->prod += size;
	smp_store_release(&r->hdr->producer_pos, r->prod);
	after = r->prod - cons;
	mark = r->wakeup_bytes ? r->wakeup_bytes : 1;
	if (before < mark && after >= mark)
		irq_work_queue(&r->wake_work);
	/* hysteresis: a reader hovering at 3/4 gets one event, not one per record */
	if (after < r->size / 2) {
		r->wm_armed = true;
		r->lost_armed = true;
	}
	if (before < high && after >= high && after <= r->size && r->wm_armed) {
		r->wm_armed = false;
		return after;
	}
	return 0;
}
