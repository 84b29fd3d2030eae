/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One ring (ring.c): its pages, its producer state, its readers' wait queue
 * and the irq_work that wakes them.  Every function takes only the ring.
 */
#ifndef SWPROF_RING_H
#define SWPROF_RING_H

#include <linux/fs.h>
#include <linux/irq_work.h>
#include <linux/mm_types.h>
#include <linux/poll.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/swprof.h>

/*
 * Page 0 header (RO to userspace), page 1 consumer (RW), then the data
 * pages mapped twice in a row in one vmap() area, so a record that runs
 * past the end of the data continues at its start without a split.
 */
struct swprof_ring {
	struct page **pages;		/* 2 + nr_data, each once */
	unsigned int nr_data;
	void *base;			/* vmap of header, consumer, data, data */
	struct swprof_ring_header *hdr;
	struct swprof_ring_consumer *cons;
	u8 *data;
	u64 size;			/* data bytes, power of two */
	u64 prod;			/* producer position, private copy */
	u64 next_seq;
	u64 lost_first;			/* first seq of the pending lost range */
	u64 lost_count;			/* dropped, LOST record not yet written */
	u32 wakeup_bytes;
	bool wm_armed;			/* a RING_WATERMARK may be due */
	bool lost_armed;		/* a SAMPLES_LOST may be due */
	bool hup;			/* the producer is done: POLLHUP once drained */
	wait_queue_head_t wq;		/* readers in poll() */
	struct irq_work wake_work;	/* wakes them from any context */
};

int swprof_ring_alloc(struct swprof_ring *r, u64 size, u32 wakeup_bytes);
void swprof_ring_free(struct swprof_ring *r);
int swprof_ring_mmap(struct swprof_ring *r, struct vm_area_struct *vma);
__poll_t swprof_ring_poll(struct swprof_ring *r, struct file *file, poll_table *pt);
void *swprof_ring_reserve(struct swprof_ring *r, u32 size);
bool swprof_ring_drop(struct swprof_ring *r, u64 *used);
u64 swprof_ring_commit(struct swprof_ring *r, void *rec, u32 type, u16 flags, u32 size,
		       u64 time_ns);
u64 swprof_ring_unread(struct swprof_ring *r);
void swprof_ring_hangup(struct swprof_ring *r);
void swprof_ring_count(struct swprof_ring *r, u64 *counter);

#endif
