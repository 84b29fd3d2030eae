/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pipeline internals shared by pipeline.c (registration, the decoder: the
 * caller's thread, "the worker"), reader.c (the reader thread: rings,
 * process groups, the queue between the two), stack_cache.c and raw.c.
 *
 * Ownership.  Fields marked [lock] are read and written under pl.lock.
 * Fields marked [worker] belong to the caller's thread.  A struct
 * pl_target is freed only once no queued record names it (the retired
 * list); its ring (t) is unmapped by the reader, under the lock, once the
 * thread exited and the ring is drained.  A struct pl_reg lives until
 * pl_free(): queued records reach it through their target.
 */
#ifndef SWCTL_PIPELINE_PRIV_H
#define SWCTL_PIPELINE_PRIV_H

#include <pthread.h>

#include "pipeline.h"
#include "sw_time.h"
#include "swprof.h"

enum pl_pollable_kind {
	PL_POLL_TARGET,
	PL_POLL_GROUP,
};

struct pl_sub {
	struct pl_sink *sink;
	struct pl_sub *next;
};

/* One registration: a thread, or a process (a group, or /proc rescans). */
struct pl_reg {
	struct pl_reg_opts o;		/* immutable */
	pid_t pid;
	pid_t tid;			/* 0: the whole process */
	struct pl_group *grp;		/* the module follows the process */
	struct pl_sub *subs;		/* [worker] the sinks it feeds */
	bool closed;			/* [lock] no sink left: its rings are closed */
	bool adopted;			/* pl_adopt_target(): never shared */
	struct pl_target_stats st;	/* [lock] of its rings (lost/gaps: closed ones) */
	struct pl_reg *next;		/* [worker] pl.regs */
};

struct pl_target {
	enum pl_pollable_kind kind;	/* PL_POLL_TARGET; first: epoll data */
	struct swprof_target *t;	/* [lock] NULL once closed */
	struct pl_reg *reg;		/* immutable */
	uint64_t id;			/* immutable, unique */
	pid_t pid, tid;			/* [worker] after creation; EXEC and COMM change them */
	pid_t pid0, tid0;		/* immutable: the thread as registered */
	bool exited;			/* [lock] EXIT record read */
	bool done;			/* [lock] closed, moved to the retired list */
	size_t idx;			/* [lock] in targets[] while not done */
	struct pl_target *next;		/* [lock] retired list */
	uint64_t retired_gen;		/* [lock] free once pl.reader_gen reaches it */
	struct swprof_seq_tracker tr;	/* [lock] */
};

struct pl_group {
	enum pl_pollable_kind kind;	/* PL_POLL_GROUP */
	struct swprof_group *g;		/* [lock] NULL once closed */
	struct pl_reg *reg;
	bool gone;			/* [lock] POLLHUP: every thread exited */
	bool stalled;			/* [lock] accept failed: out of the epoll set for now */
};

/* One queued record: this header, then the record, 8-byte aligned. */
struct rq_ent {
	struct pl_target *rt;
	uint32_t size;
	uint32_t pad;
};

struct rq_chunk {
	struct rq_chunk *next;
	size_t used, cap;
	unsigned char data[] __attribute__((aligned(8)));
};

struct pl_sink {
	struct pl *pl;
	struct pl_sink_ops ops;
	void *ctx;
	uint64_t register_failed;	/* [worker] */
	struct pl_sink *next;		/* [worker] pl.sinks */
};

struct stack_cache;

#define PL_UTAB_NFRESH		8

struct pl {
	struct pl_opts o;
	struct swprof *sw;
	int epfd;
	int wakefd;			/* eventfd in the epoll set: drain request, stop */
	pthread_t reader;
	bool reader_running;
	uint64_t next_target_id;	/* [lock] */
	/*
	 * [lock] the reader's rounds: a target the worker closes at round g may
	 * still be named by an event the reader got from epoll before it took
	 * the lock; once reader_gen > g it is not, and the target may be freed.
	 */
	uint64_t reader_gen;

	pthread_mutex_t lock;
	pthread_cond_t cond;		/* queue grew or shrank, drain done (CLOCK_MONOTONIC) */
	struct pl_target **targets;	/* [lock] open rings */
	size_t nr_targets, cap_targets;	/* [lock] */
	/*
	 * [lock] closed targets, still named by queued records; freed by the
	 * worker once it finds the queue empty (their last record is older).
	 */
	struct pl_target *retired;
	struct pl_group **groups;	/* [lock] */
	size_t nr_groups;		/* [lock] */
	struct rq_chunk *q_head, *q_tail; /* [lock] filled by the reader */
	size_t q_bytes;			/* [lock] queued + being processed */
	size_t q_max;
	bool stop;			/* [lock] */
	uint64_t drain_req, drain_done;	/* [lock] */
	struct pl_queue_stats qs;	/* [lock] peak, full; [worker] sym_lag, unwound */

	/* [worker] */
	struct pl_reg *regs;
	struct pl_sink *sinks;
	struct pl_target *offline;	/* pl_offline_target()s, freed by pl_free() */
	struct rq_chunk *w_list;	/* taken from the queue, not processed yet */
	size_t w_off;			/* in w_list's first chunk */
	struct sym_session *sym;
	struct stack_cache *cache;
	const struct pl_frames **frames; /* scratch: one sample's frames */
	size_t frames_cap;
	uint64_t *ips;			/* scratch: unwound user IPs */
	/*
	 * Unwind tables; NULL when off.  The mapper and the fresh list are
	 * under utab_lock, taken before pl->lock (utab_keep()), never inside it.
	 */
	pthread_mutex_t utab_lock;
	struct utab_mapper *utab;
	bool utab_preloaded;		/* utab_preload() ran */
	pid_t *utab_held;		/* [lock] pl_hold_tables(): kept without a registration */
	size_t nr_utab_held, cap_utab_held;
	uint64_t utab_checked_ns;	/* last check of the processes' maps */
	/*
	 * Processes that just exec'd (or our child about to): the dynamic
	 * loader maps their libraries in the next milliseconds, so their maps
	 * are checked every PL_UTAB_EARLY_NS, then every PL_UTAB_FRESH_NS for
	 * PL_UTAB_FRESH_FOR_NS, not every second.  A process registered while
	 * it runs has its libraries mapped already: it is not fresh.
	 */
	struct pl_fresh {
		pid_t pid;
		uint64_t since;		/* when it became fresh */
		uint64_t until;		/* 0: free; UINT64_MAX: pre_exec */
		bool pre_exec;		/* our child, its exec still to come: the clock starts then */
	} utab_fresh[PL_UTAB_NFRESH];
	uint64_t utab_fresh_next;	/* next check of the fresh ones; 0: none */
};

#define PL_UTAB_CHECK_NS	1000000000ULL
#define PL_UTAB_FRESH_NS	10000000ULL
/* ... and every PL_UTAB_EARLY_NS in the first PL_UTAB_EARLY_FOR_NS (the loader's work) */
#define PL_UTAB_EARLY_NS	2000000ULL
#define PL_UTAB_EARLY_FOR_NS	300000000ULL
#define PL_UTAB_FRESH_FOR_NS	3000000000ULL

#define PL_MAX_UNWIND	256

int pl_utab_fresh_tick(struct pl *pl);

/* reader.c */
int pl_reader_start(struct pl *pl);
void pl_reader_stop(struct pl *pl);
/* Wake the reader (it then checks stop and drain requests). */
void pl_reader_wake(struct pl *pl);
/* Publish a new target (registered by either thread) to the reader; [lock] held. */
int pl_target_publish(struct pl *pl, struct pl_target *rt);
/* Publish a process group; [lock] held. */
int pl_group_publish(struct pl *pl, struct pl_group *g);
/* Close a target (its thread is gone, or no sink wants it); [lock] held. */
void pl_target_close(struct pl *pl, struct pl_target *rt);
/* Close a group: no more threads are attached; [lock] held. */
void pl_group_close(struct pl *pl, struct pl_group *g);
/* Free a queue chunk list. */
void rq_free(struct rq_chunk *c);
/* A new target for @reg; [lock] held.  NULL when out of memory. */
struct pl_target *pl_target_alloc(struct pl *pl, struct pl_reg *reg, pid_t pid, pid_t tid);

/* pipeline.c: decode one record and call the sinks of its target [worker] */
void pl_process(struct pl *pl, struct pl_target *rt, const struct swprof_rec *rec);

/*
 * A target fed by the caller instead of a ring (pl_replay(), tests): its
 * records go to pl_process() directly; @s subscribes to it.  NULL when out
 * of memory.
 */
struct pl_target *pl_offline_target(struct pl *pl, struct pl_sink *s, pid_t pid, pid_t tid,
				    uint32_t raw_stack);

/* raw.c: append one record to o.save_raw; [lock] held */
void pl_raw_write(struct pl *pl, const struct pl_target *rt, const struct swprof_rec *rec);

/* stack_cache.c: (pid, address, return?) -> frames, symbolized once */
struct stack_cache *stack_cache_new(void);
void stack_cache_free(struct stack_cache *c);
/* pid 0 for kernel addresses; NULL when the symbolizer gave nothing. */
const struct pl_frames *stack_cache_get(struct stack_cache *c, struct sym_session *sym,
					pid_t pid, uint64_t addr, bool ret, bool kernel);
/* Start over if @n more entries would pass the bound (never mid-stack). */
void stack_cache_make_room(struct stack_cache *c, size_t n);
/* A new image: forget every address of @pid. */
void stack_cache_forget_pid(struct stack_cache *c, pid_t pid);
size_t stack_cache_entries(const struct stack_cache *c);

#endif
