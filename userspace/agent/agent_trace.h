/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Trace-profiling tasks (SkyWalking's ProfileTask: "profile the slow
 * requests of this endpoint") for one service instance, without transport:
 * the daemon turns each ProfileTaskQuery command into key/value pairs and
 * offers it here, then asks which tasks start and stop now.
 *
 * The rules are the language agents' (PROTOCOL.md, ProfileTask):
 *  - a task is checked as the Java agent checks it: an endpoint name;
 *    Duration 1..15 minutes; MinDurationThreshold >= 0 ms; DumpPeriod >= 10
 *    ms; 0 < MaxSamplingCount < 10; and it must not overlap a task already
 *    queued (its end inside the other's window) - one line per rejection;
 *  - OAP hands out every task created after lastCommandTime whose start is
 *    within 5 minutes of now, again at each poll: lastCommandTime is the
 *    largest CreateTime seen (rejected tasks too), and a SerialNumber or
 *    TaskId seen before is a duplicate, ignored without a word;
 *  - a task starts at StartTime (at once if that is past) and stops at
 *    StartTime + Duration; one whose end has passed is never started; a
 *    stopped task is reported finished (reportTaskFinish) by the caller.
 */
#ifndef AGENT_TRACE_H
#define AGENT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_task.h"		/* struct agent_kv */

#define AGENT_TRACE_MIN_MINUTES		1
#define AGENT_TRACE_MAX_MINUTES		15
#define AGENT_TRACE_MIN_DUMP_MS		10
#define AGENT_TRACE_MAX_SAMPLING	10	/* MaxSamplingCount must be below it */

struct agent_trace_task {
	char *id;			/* TaskId */
	char *serial;			/* SerialNumber; "" when absent */
	char *endpoint;			/* EndpointName */
	int64_t start_ms;		/* StartTime, epoch ms */
	int64_t create_ms;		/* CreateTime, epoch ms */
	int64_t end_ms;			/* start_ms + Duration */
	uint32_t duration_min;		/* Duration, minutes */
	uint32_t min_duration_ms;	/* MinDurationThreshold */
	uint32_t dump_period_ms;	/* DumpPeriod */
	uint32_t max_sampling;		/* MaxSamplingCount */
};

/*
 * Parse and check the args of one ProfileTaskQuery command.  Keys matched
 * exactly, unknown ones ignored, a key given twice: the first counts.
 * Returns 0 and fills @out (agent_trace_task_free() it), or -EINVAL with
 * the reason in @why ("DumpPeriod '5' is below 10 ms") and @out zeroed,
 * or -ENOMEM.  *create_ms gets CreateTime whenever it parsed, even on
 * -EINVAL (lastCommandTime moves past a bad task too); else 0.
 */
int agent_trace_parse(const struct agent_kv *args, size_t nr_args, struct agent_trace_task *out,
		      int64_t *create_ms, char *why, size_t whylen);
void agent_trace_task_free(struct agent_trace_task *t);

/* ---- one instance's queue --------------------------------------------- */

enum agent_trace_state {
	AGENT_TRACE_WAITING,		/* accepted, StartTime not reached */
	AGENT_TRACE_RUNNING,		/* the start callback ran */
	AGENT_TRACE_DONE,		/* the stop callback ran, or it expired unstarted */
};

struct agent_trace_entry {
	struct agent_trace_task task;
	enum agent_trace_state state;
	bool started;			/* the start callback ran (and succeeded) */
	void *run;			/* the caller's, while running */
};

struct agent_trace_queue;

struct agent_trace_queue *agent_trace_queue_new(void);
void agent_trace_queue_free(struct agent_trace_queue *q);

enum agent_trace_offer {
	AGENT_TRACE_QUEUED = 1,		/* a new task, waiting or due */
	AGENT_TRACE_DUPLICATE = 0,	/* SerialNumber or TaskId seen before */
};

/*
 * Offer one command's args at @now_ms.  Returns AGENT_TRACE_QUEUED,
 * AGENT_TRACE_DUPLICATE, -EINVAL (malformed, out of the limits, expired or
 * overlapping: the reason in @why; its serial and id count as seen, so it
 * is refused once, not at every poll) or -ENOMEM.
 */
int agent_trace_offer(struct agent_trace_queue *q, const struct agent_kv *args, size_t nr_args,
		      int64_t now_ms, char *why, size_t whylen);

/* lastCommandTime for the next getProfileTaskCommands: the largest CreateTime seen. */
int64_t agent_trace_last_command(const struct agent_trace_queue *q);

struct agent_trace_ops {
	/* A task's window opened: 0 = it runs (e->run may be set), < 0 = it could not start. */
	int (*start)(void *ctx, struct agent_trace_entry *e);
	/* A running task's window closed (or agent_trace_stop_all()): release e->run. */
	void (*stop)(void *ctx, struct agent_trace_entry *e);
	/* A task ended: report it finished to OAP (once per started task). */
	void (*finished)(void *ctx, struct agent_trace_entry *e);
};

/*
 * Start the tasks whose StartTime is reached (not those whose end passed:
 * they are dropped), stop those whose end is reached.  Tasks that are done
 * are forgotten, their serial and id still remembered.  Returns the
 * number of tasks running.
 */
size_t agent_trace_tick(struct agent_trace_queue *q, int64_t now_ms,
			const struct agent_trace_ops *ops, void *ctx);

/* When the next start or stop is due (INT64_MAX: nothing waits). */
int64_t agent_trace_next(const struct agent_trace_queue *q);

/* Stop every running task now (the agent exits): stopped, not reported finished; all done. */
void agent_trace_stop_all(struct agent_trace_queue *q, const struct agent_trace_ops *ops,
			  void *ctx);

/* Counters for the status line. */
struct agent_trace_counts {
	uint64_t queued, duplicates, rejected, started, failed, expired, finished;
	size_t waiting, running;
};
void agent_trace_counts(const struct agent_trace_queue *q, struct agent_trace_counts *out);

#endif
