// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sequence accounting: every record but LOST takes the next seq of its
 * ring; a LOST record accounts for the seqs of the records it replaces.
 * Anything else missing is a kernel bug that tests want to see.
 */
#include "swprof_internal.h"

void swprof_seq_tracker_init(struct swprof_seq_tracker *tr)
{
	memset(tr, 0, sizeof(*tr));
}

/* Account for seqs first..last arriving now. */
static void tracker_advance(struct swprof_seq_tracker *tr, __u64 first, __u64 last)
{
	if (!tr->started) {
		/* A reader may start mid-stream: the first record sets the base. */
		tr->started = true;
	} else if (first > tr->next_seq) {
		tr->gaps += first - tr->next_seq;
	} else if (first < tr->next_seq) {
		tr->bad++;
	}
	tr->next_seq = last + 1;
}

void swprof_seq_tracker_add(struct swprof_seq_tracker *tr, const struct swprof_rec *rec)
{
	const struct swprof_lost *lost = (const void *)rec;

	if (rec->type != SWPROF_REC_LOST) {
		tracker_advance(tr, rec->seq, rec->seq);
		tr->records++;
		return;
	}
	if (!swprof_rec_valid(rec) || !lost->count || lost->last_seq < lost->first_seq ||
	    lost->last_seq - lost->first_seq + 1 != lost->count ||
	    rec->seq != lost->first_seq) {
		tr->bad++;
		return;
	}
	tracker_advance(tr, lost->first_seq, lost->last_seq);
	tr->lost += lost->count;
}

void swprof_seq_tracker_finish(struct swprof_seq_tracker *tr, const struct swprof_target *t)
{
	if (t)
		tr->lost_pending = __atomic_load_n(&t->hdr->lost_pending, __ATOMIC_RELAXED);
}
