/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A task's aggregate for one process: a pipeline sink (pipeline.h) that
 * subscribes to every thread of the process, now and later, in the task's
 * mode (ON_CPU: SWPROF_MODE_CPU; OFF_CPU: SWPROF_MODE_OFFCPU), and counts
 * symbolized stacks into a batch (agent_batch.h).  agent_agg_take() hands
 * over what came since the previous take (the delta OAP expects) and
 * starts a new batch.  Several aggregates over the same process with the
 * same options share one registration (the pipeline's rule).
 */
#ifndef AGENT_AGG_H
#define AGENT_AGG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent_batch.h"
#include "sw_opts.h"

struct pl;
struct agent_agg;

struct agent_agg_opts {
	size_t sz;
	const char *task_id;
	const char *process_id;
	enum agent_task_target target;	/* ON_CPU or OFF_CPU */
	int64_t start_ms;		/* profilingStartTime of every batch */
	uint64_t period_ns;		/* ON_CPU: sampling period; 0: 10 ms (99 Hz is Rover's) */
	bool kernel;			/* kernel stacks too (when the user may have them) */
	uint64_t min_block_ns;		/* OFF_CPU: shorter blocks are not recorded; 0: all */
	/* bytes of user stack copied per sample and unwound with DWARF (complete
	 * stacks through code without frame pointers, libc's); 0: frame pointers */
	uint32_t raw_stack;
	uint32_t ring_size;		/* per thread; 0: the pipeline's default */
};
#define agent_agg_opts__last_field ring_size
#define AGENT_AGG_OPTS(name, ...) SW_OPTS(agent_agg_opts, name, __VA_ARGS__)

/* A sink on @pl; nothing subscribed yet.  0, -EINVAL (a bad option), -ENOMEM. */
int agent_agg_new(struct pl *pl, const struct agent_agg_opts *opts, struct agent_agg **out);
/* Unsubscribes (the pipeline closes registrations no one else uses) and frees. */
void agent_agg_free(struct agent_agg *a);

/*
 * Subscribe to every thread of @pid.  With a module that follows processes
 * this registers the process once; otherwise call it again from time to
 * time to pick up new threads (pl_add_process()).  Returns what
 * pl_add_process() returns.
 */
int agent_agg_add_process(struct agent_agg *a, pid_t pid);
/* Stop sampling (the task's end) or start again. */
int agent_agg_enable(struct agent_agg *a, bool on);
/* Every thread of the process exited. */
bool agent_agg_process_gone(const struct agent_agg *a, pid_t pid);

/*
 * The stacks since the previous take, stamped @now_ms: 0 and *out (the
 * caller frees it), or 0 and *out = NULL when nothing came (no empty
 * uploads), -ENOMEM (the stacks stay for the next take).
 */
int agent_agg_take(struct agent_agg *a, int64_t now_ms, struct agent_batch **out);

struct agent_agg_stats {
	uint64_t samples;		/* SAMPLE/OFFCPU records counted, every take included */
	uint64_t taken;			/* ... of them handed over by agent_agg_take() */
	uint64_t dropped_nomem;		/* lost to allocation failures */
	uint64_t lost;			/* the pipeline's count for these targets (ring overflows) */
	uint64_t threads;		/* threads registered for it */
};
void agent_agg_stats(const struct agent_agg *a, struct agent_agg_stats *st);

#endif
