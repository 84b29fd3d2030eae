/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * record internals shared by record.c (the session, symbolization and
 * aggregation: the caller's thread, "the worker") and record_reader.c (the
 * reader thread: rings, process groups, the queue between the two).
 *
 * Ownership.  Fields marked [lock] are read and written under
 * rec_session.lock.  Fields marked [worker] belong to the caller's thread.
 * A struct rec_target is freed only by rec_free(); its ring (t) is unmapped
 * by the reader, under the lock, once the thread exited and the ring is
 * drained.
 */
#ifndef SWCTL_RECORD_PRIV_H
#define SWCTL_RECORD_PRIV_H

#include <pthread.h>
#include <time.h>

#include "record.h"
#include "swprof.h"

enum rec_pollable_kind {
	REC_POLL_TARGET,
	REC_POLL_GROUP,
};

struct rec_target {
	enum rec_pollable_kind kind;	/* REC_POLL_TARGET; first: epoll data */
	struct swprof_target *t;	/* [lock] NULL once closed */
	pid_t pid, tid;			/* [worker] after creation; EXEC changes them */
	int thread;			/* [worker] prof thread id; 0 = not known yet */
	bool exited;			/* [lock] EXIT record read */
	bool done;			/* [lock] closed, moved to the retired list */
	size_t idx;			/* [lock] in targets[] while not done */
	struct rec_target *next;	/* [lock] retired list */
	struct swprof_seq_tracker tr;	/* [lock] */
};

struct rec_group {
	enum rec_pollable_kind kind;	/* REC_POLL_GROUP */
	struct swprof_group *g;
	pid_t pid;
	bool gone;			/* [lock] POLLHUP: every thread exited */
	bool stalled;			/* [lock] accept failed: out of the epoll set for now */
};

/* One queued record: this header, then the record, 8-byte aligned. */
struct rq_ent {
	struct rec_target *rt;
	uint32_t size;
	uint32_t pad;
};

struct rq_chunk {
	struct rq_chunk *next;
	size_t used, cap;
	unsigned char data[] __attribute__((aligned(8)));
};

/* (pid, address, kind) -> location id; open addressing, linear probing. */
struct addr_slot {
	uint64_t addr;
	int32_t pid;			/* 0 for kernel addresses */
	uint8_t used, ret;
	int loc;
};

struct rec_session {
	struct rec_opts o;
	struct swprof *sw;
	int epfd;
	int wakefd;			/* eventfd in the epoll set: drain request, stop */
	pthread_t reader;
	bool reader_running;

	pthread_mutex_t lock;
	pthread_cond_t cond;		/* queue grew or shrank, drain done (CLOCK_MONOTONIC) */
	struct rec_target **targets;	/* [lock] open rings */
	size_t nr_targets, cap_targets;	/* [lock] */
	/*
	 * [lock] closed targets, still named by queued records; freed by the
	 * worker once it finds the queue empty (their last record is older).
	 */
	struct rec_target *retired;
	uint64_t closed_lost, closed_gaps; /* [lock] of the closed targets */
	struct rec_group **groups;	/* [lock] */
	size_t nr_groups;		/* [lock] */
	struct rq_chunk *q_head, *q_tail; /* [lock] filled by the reader */
	size_t q_bytes;			/* [lock] queued + being processed */
	size_t q_max;
	bool stop;			/* [lock] */
	uint64_t drain_req, drain_done;	/* [lock] */
	struct rec_stats rs;		/* [lock] the reader's and lifecycle counters */

	/* [worker] */
	struct rq_chunk *w_list;	/* taken from the queue, not processed yet */
	size_t w_off;			/* in w_list's first chunk */
	struct sym_session *sym;
	struct prof *prof;
	struct addr_slot *slots;
	size_t nr_slots, used_slots;
	int *locs;			/* scratch: one sample's location ids */
	uint64_t *ips;			/* scratch: unwound user IPs */
	int noframe_loc;
	int state_loc[REC_NR_STATES];	/* 0: no state frame */
	struct rec_stats ws;		/* the worker's counters */
};

/* record_reader.c */
int rec_reader_start(struct rec_session *r);
void rec_reader_stop(struct rec_session *r);
/* Wake the reader (it then checks stop and drain requests). */
void rec_reader_wake(struct rec_session *r);
/* Publish a new target (registered by either thread) to the reader; [lock] held. */
int rec_target_publish(struct rec_session *r, struct rec_target *rt);
/* Publish a process group; [lock] held. */
int rec_group_publish(struct rec_session *r, struct rec_group *g);
/* Free a queue chunk list. */
void rq_free(struct rq_chunk *c);

/* record.c: symbolize and aggregate one queued record [worker] */
void rec_process(struct rec_session *r, struct rec_target *rt, const struct swprof_rec *rec);

static inline uint64_t rec_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

#endif
