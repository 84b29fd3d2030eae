/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Profiling tasks from OAP (EBPFProfilingTaskQuery commands) and their
 * schedule, without transport: the daemon (agentd/) turns each protobuf
 * Command into key/value pairs, offers the parsed task to the schedule, and
 * asks the schedule which tasks start and stop now.
 *
 * Rules (PROTOCOL.md, EBPFProfilingService): a task starts at TaskStartTime,
 * at once if that is past (not before: Rover's bug starts future tasks at
 * once), and runs FixedTriggerDuration seconds after its actual start; OAP
 * re-delivers tasks, so a task id seen before is never started again; an
 * expired task (now > start + duration) is never started; latestUpdateTime
 * is the largest TaskUpdateTime seen, rejected tasks included.
 */
#ifndef AGENT_TASK_H
#define AGENT_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum agent_task_target {
	AGENT_TARGET_ON_CPU = 1,
	AGENT_TARGET_OFF_CPU,
	AGENT_TARGET_NETWORK,
};

/* "ON_CPU", "OFF_CPU", "NETWORK"; "?" for anything else. */
const char *agent_target_name(enum agent_task_target t);

/* One argument of a command: both strings borrowed from the caller. */
struct agent_kv {
	const char *key;
	const char *value;
};

struct agent_task {
	char *id;			/* TaskId */
	char *serial;			/* SerialNumber; "" when absent */
	char **process_ids;		/* ProcessId, split at commas, trimmed, none empty */
	size_t nr_process_ids;
	enum agent_task_target target;	/* TargetType */
	int64_t update_ms;		/* TaskUpdateTime, epoch ms */
	int64_t start_ms;		/* TaskStartTime, epoch ms */
	uint64_t duration_ms;		/* FixedTriggerDuration (seconds) x 1000, > 0 */
	char *ext_json;			/* ExtensionConfigJSON; NULL when absent or "null" */
};

/*
 * Parse the args of one EBPFProfilingTaskQuery command.  Keys are matched
 * exactly, unknown keys ignored, a key given twice: the first counts.
 * Required: TaskId, ProcessId (at least one id), TaskUpdateTime,
 * TaskStartTime (decimal integers >= 0), TriggerType = FIXED_TIME,
 * TargetType (ON_CPU, OFF_CPU, NETWORK), FixedTriggerDuration (a decimal
 * integer, 1 .. 86400 seconds).  Returns 0 and fills @out
 * (agent_task_free() it), or -EINVAL with the reason in @why ("TaskStartTime
 * 'abc' is not a number", "no TaskId") and @out zeroed; -ENOMEM.  When
 * TaskUpdateTime itself parsed, *update_ms gets it even on -EINVAL (so the
 * caller can still advance latestUpdateTime past a malformed task); else 0.
 */
int agent_task_parse(const struct agent_kv *args, size_t nr_args, struct agent_task *out,
		     int64_t *update_ms, char *why, size_t whylen);
void agent_task_free(struct agent_task *t);

/* ---- the schedule ----------------------------------------------------- */

enum agent_task_state {
	AGENT_TASK_WAITING,		/* accepted, TaskStartTime not reached */
	AGENT_TASK_RUNNING,		/* started: the start callback ran */
	AGENT_TASK_DONE,		/* stopped: the stop callback ran */
};

struct agent_sched_entry {
	struct agent_task task;
	enum agent_task_state state;
	int64_t actual_start_ms;	/* when started (or restored); 0 while waiting */
	int64_t stop_ms;		/* actual_start_ms + duration; 0 while waiting */
	void *run;			/* the caller's, for a running task */
};

enum agent_offer {
	AGENT_OFFER_NEW,		/* accepted: waiting or due now */
	AGENT_OFFER_DUPLICATE,		/* task id seen before: ignored */
	AGENT_OFFER_EXPIRED,		/* now > start + duration (or the restored
					 * run ended): ignored, remembered */
};

struct agent_sched;

int agent_sched_new(struct agent_sched **out);
void agent_sched_free(struct agent_sched *s);

/*
 * Offer a parsed task.  Takes *t in every case (moved out: *t is zeroed).
 * Raises latestUpdateTime to t->update_ms in every case.
 */
enum agent_offer agent_sched_offer(struct agent_sched *s, struct agent_task *t, int64_t now_ms);
/* A TaskUpdateTime from a command that did not parse: latestUpdateTime only. */
void agent_sched_saw_update(struct agent_sched *s, int64_t update_ms);
/* The largest TaskUpdateTime seen; 0 at first (queryTasks' latestUpdateTime). */
int64_t agent_sched_latest_update(const struct agent_sched *s);

/*
 * Start what is due (state WAITING, start_ms <= now: actual start = now, or
 * the restored one), stop what ran its duration (stop_ms <= now), in that
 * order, calling @start and @stop once per transition.  A @start that
 * returns a negative errno leaves the task DONE (the stop callback is not
 * called) and is counted in failed.  Entries DONE for more than an hour are
 * forgotten except for their id (still a duplicate when re-delivered).
 */
struct agent_sched_ops {
	int (*start)(void *ctx, struct agent_sched_entry *e);
	void (*stop)(void *ctx, struct agent_sched_entry *e);
};
void agent_sched_tick(struct agent_sched *s, int64_t now_ms, const struct agent_sched_ops *ops,
		      void *ctx);
/* Stop every running task now (the agent exits): @stop for each RUNNING one. */
void agent_sched_stop_all(struct agent_sched *s, const struct agent_sched_ops *ops, void *ctx);
/* Milliseconds until the next start or stop; -1 when nothing is pending. */
int64_t agent_sched_next_ms(const struct agent_sched *s, int64_t now_ms);

/* Walk every entry not forgotten (for status and tests); stop when @fn returns non-zero. */
void agent_sched_each(struct agent_sched *s, int (*fn)(void *ctx, struct agent_sched_entry *e),
		      void *ctx);

struct agent_sched_stats {
	uint64_t offered, accepted, duplicates, expired;
	uint64_t started, stopped, failed;
	uint64_t waiting, running;	/* now */
};
void agent_sched_stats(const struct agent_sched *s, struct agent_sched_stats *st);

/*
 * Survive a restart: agent_sched_save() writes the RUNNING tasks' ids and
 * actual starts to @path atomically (a temporary file, fsync, rename);
 * agent_sched_load() reads them back into a fresh schedule, so that when
 * OAP delivers such a task again after the restart, it resumes with its
 * first actual start (and ends when it would have), or counts as expired
 * when that end is past.  A missing file is no error; a malformed line is
 * skipped with a warning.  0 or a negative errno.
 */
int agent_sched_save(const struct agent_sched *s, const char *path);
int agent_sched_load(struct agent_sched *s, const char *path);

#endif
