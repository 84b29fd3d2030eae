/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * record: a recording, the profile aggregate sink of a pipeline
 * (pipeline.h).  It subscribes to threads or processes, and aggregates the
 * stacks the pipeline decodes for them into a profile (prof.h): what
 * `swctl record` writes.  Any number of recordings share one pipeline, so
 * one reader thread, one stack cache and one symbolizer.
 *
 *	rec_new(pl, &opts, &r);
 *	rec_add_process(r, pid);
 *	while (...) pl_poll(pl, 100);
 *	pl_drain(pl);
 *	prof_export(rec_profile(r), "out.svg", NULL);
 *	rec_free(r);
 *
 * Every rec_*() call is for the pipeline's caller thread only.
 */
#ifndef SWCTL_RECORD_H
#define SWCTL_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/swprof.h>

#include "pipeline.h"
#include "prof.h"
#include "sw_opts.h"

struct rec_session;

struct rec_opts {
	size_t sz;
	uint32_t mode;		/* SWPROF_MODE_* */
	uint64_t period_ns;
	bool kernel;		/* kernel stacks (needs CAP_PERFMON) */
	uint32_t raw_stack;	/* bytes of raw user stack per sample (--dwarf); 0 = off */
	uint32_t ring_size;	/* per thread; 0 = default */
	size_t mem_cap;		/* profile memory cap; 0 = default */
	uint64_t min_block_ns;	/* OFFCPU: shorter blocks are not recorded */
	/* a leaf frame "[sleeping]", "[disk]", "[runnable]"... for samples not on a CPU */
	bool state_frames;
	/* follow processes by rescanning /proc/PID/task even when the module
	 * can follow them itself (what a 1.0 module needs; for tests) */
	bool scan_threads;
};
#define rec_opts__last_field scan_threads
#define REC_OPTS(name, ...) SW_OPTS(rec_opts, name, __VA_ARGS__)

/* enum swprof_task_state values, + 1 for anything newer */
#define REC_NR_STATES	(SWPROF_STATE_OTHER + 1)

struct rec_stats {
	uint64_t samples;	/* SAMPLE and OFFCPU records aggregated */
	uint64_t offcpu;	/* OFFCPU records among them (blocks) */
	uint64_t offcpu_ns;	/* time off CPU they stand for */
	uint64_t wall_ns;	/* WALL: time the samples stand for */
	uint64_t state_samples[REC_NR_STATES];	/* by hdr.flags (WALL, OFFCPU) */
	uint64_t state_ns[REC_NR_STATES];
	uint64_t lost;		/* reported by LOST records and lost_pending */
	uint64_t seq_gaps;	/* gaps no LOST record explains: a kernel bug, should be 0 */
	uint64_t bad_records;	/* corrupt records */
	uint64_t unknown_records; /* valid records of a type this swctl does not know */
	uint64_t trace_records;	/* TRACE_BEGIN/END: not expected in a recording */
	uint64_t threads;	/* threads registered over the session */
	uint64_t threads_live;	/* still registered and running */
	uint64_t exits, execs, comms;
	uint64_t register_failed;
	uint64_t group_missed;	/* threads a process group could not follow (module limits) */
	uint64_t unwound;	/* --dwarf: samples unwound from the raw copy */
	uint64_t records;	/* records copied out of the rings */
	uint64_t queue_bytes;	/* waiting for symbolization now (the pipeline's) */
	uint64_t queue_peak;	/* ... at most */
	uint64_t queue_full;	/* times the reader waited because the queue was full */
	uint64_t ring_lag_max_ns; /* longest a record waited in its ring */
	uint64_t sym_lag_max_ns;  /* longest from a record's time to its aggregation */
};

/*
 * A recording on @pl.  Returns 0, or a negative errno after one sw_err()
 * line a person can act on (a mode or kernel stacks the module cannot do).
 */
int rec_new(struct pl *pl, const struct rec_opts *opts, struct rec_session **out);
/* Unsubscribes (targets no other sink wants are closed) and frees the profile. */
void rec_free(struct rec_session *r);
/* The recording as a sink of its pipeline (pl_replay()). */
struct pl_sink *rec_sink(struct rec_session *r);

/* Register one thread (tid in our pid namespace) of process pid. */
int rec_add_thread(struct rec_session *r, pid_t pid, pid_t tid);
/*
 * Register every thread of pid, now and later.  With a module that follows
 * processes (SWPROF_FEAT_PROCESS) this registers the process once and its
 * threads arrive through the group; later calls return 0.  Otherwise it
 * registers the threads of /proc/PID/task not registered yet: call it again
 * (rec_follows_processes() false) to pick up threads created since.
 * Returns the number of threads added, -ESRCH when the process is gone, or
 * the first registration error when none could be added.
 */
int rec_add_process(struct rec_session *r, pid_t pid);
/* true when the module follows registered processes' new threads itself */
bool rec_follows_processes(const struct rec_session *r);
/*
 * The registered process is gone: its group reported that every thread
 * exited (or, following by rescanning, the pid no longer exists).
 */
bool rec_process_gone(const struct rec_session *r, pid_t pid);

/* Enable or disable sampling of every registered thread. */
int rec_enable(struct rec_session *r, bool on);

/* No registered thread is running any more (all exited). */
bool rec_all_exited(const struct rec_session *r);

void rec_get_stats(const struct rec_session *r, struct rec_stats *st);
struct prof *rec_profile(struct rec_session *r);

/*
 * "running", "runnable", "sleeping", "disk", "stopped", "other": an enum
 * swprof_task_state (unknown values are "other").
 */
const char *rec_state_name(unsigned int state);
/*
 * The synthetic leaf frame of a state: "[runnable]", "[sleeping]", "[disk]",
 * "[stopped]", "[other]"; NULL for running (its stack is the live one).
 */
const char *rec_state_frame(unsigned int state);

#endif
