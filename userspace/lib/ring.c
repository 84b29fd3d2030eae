// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ring reading.  The kernel publishes records by storing producer_pos with
 * release semantics; we load it with acquire, read records below it, and
 * give their space back by storing consumer_pos with release.  Positions
 * are byte counts that only grow; the data is mapped twice in a row so a
 * record at (pos & (data_size - 1)) is always contiguous.  Nothing from
 * the ring is trusted: every size is checked before it is used.
 */
#include <limits.h>

#include "swprof_internal.h"

/* Next record below @prod, or 0 when there is none, or -EBADMSG. */
static int ring_next(struct swprof_target *t, __u64 prod, const struct swprof_rec **out)
{
	const struct swprof_rec *rec;
	__u64 avail = prod - t->pos;
	__u32 size;

	if (!avail)
		return 0;
	/* Covers prod < pos (unsigned wrap) and a producer that lapped us. */
	if (avail > t->data_size || (avail | t->pos) & 7) {
		swprof_log(SWPROF_LOG_WARN, "ring of fd %d: producer at %llu, reader at %llu of %llu bytes",
			   t->fd, (unsigned long long)prod, (unsigned long long)t->pos,
			   (unsigned long long)t->data_size);
		return -EBADMSG;
	}
	rec = (const void *)(t->data + (t->pos & (t->data_size - 1)));
	size = __atomic_load_n(&rec->size, __ATOMIC_RELAXED);
	if (size < sizeof(*rec) || size & 7 || size > avail) {
		swprof_log(SWPROF_LOG_WARN, "ring of fd %d: record of %u bytes at %llu, %llu bytes written",
			   t->fd, size, (unsigned long long)t->pos, (unsigned long long)avail);
		return -EBADMSG;
	}
	t->pos += size;
	*out = rec;
	return 1;
}

static __u64 producer_pos(const struct swprof_target *t)
{
	return __atomic_load_n(&t->hdr->producer_pos, __ATOMIC_ACQUIRE);
}

int swprof_target_next(struct swprof_target *t, const struct swprof_rec **rec)
{
	*rec = NULL;
	return ring_next(t, producer_pos(t), rec);
}

void swprof_target_consume(struct swprof_target *t)
{
	__atomic_store_n(&t->cons->consumer_pos, t->pos, __ATOMIC_RELEASE);
}

int swprof_target_read(struct swprof_target *t, swprof_rec_fn fn, void *ctx,
		       size_t max_records)
{
	/* One producer snapshot bounds the loop even under a busy producer. */
	__u64 prod = producer_pos(t);
	const struct swprof_rec *rec;
	int n = 0, ret;

	if (!max_records || max_records > INT_MAX)
		max_records = INT_MAX;
	while ((size_t)n < max_records) {
		ret = ring_next(t, prod, &rec);
		if (ret <= 0)
			return ret < 0 ? ret : n;
		n++;
		ret = fn(ctx, rec);
		swprof_target_consume(t);
		if (ret)
			return ret < 0 ? ret : n;
	}
	return n;
}
