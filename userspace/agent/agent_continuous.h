/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Continuous profiling without transport (Rover's pkg/profiling/continuous;
 * PROTOCOL.md, ContinuousProfilingService): OAP's policies per service, one
 * sample a second per watched process (process CPU, thread count, system
 * load, from /proc), a window of one-second slots per process and monitor,
 * and the tasks the policies trigger, handed to the daemon as reports for
 * reportProfilingTask; and the meters for MeterReportService.collectBatch.
 *
 * The daemon's main thread calls everything (single-threaded).  Time comes
 * in as arguments: mono_ns (CLOCK_MONOTONIC, sw_now_ns()) for every window,
 * trigger, silence and retry, so a wall-clock jump changes nothing; epoch_ms
 * only for the meters' timestamps.
 *
 * How the daemon drives it:
 *   - discovery's added/gone: agent_cp_process_add() / agent_cp_process_remove();
 *   - every poll of queryPolicies: agent_cp_each_service() gives the services
 *     and last UUIDs to ask about; the ServiceWithPolicyJSON of the answer
 *     goes to agent_cp_apply_policies();
 *   - every loop iteration: agent_cp_tick() (a sample at each new second,
 *     a check every check interval: meters out, new triggers), then
 *     agent_cp_take_reports() and, for each report, reportProfilingTask;
 *     its answer (in a later iteration is fine) goes back through
 *     agent_cp_report_ok() with the TaskId, or agent_cp_report_failed();
 *     agent_cp_next_ns() says when the next tick is due.
 *
 * Rules (Rover's, differences noted):
 *   - a window slot holds the value sampled in that monotonic second; a
 *     second without a sample is an empty slot, and an item reads the
 *     Period seconds up to the check's own second (Rover reads its whole
 *     window, as long as the longest Period, up to its newest sample), so
 *     a stalled agent never judges on stale values;
 *   - PROCESS_CPU is the CPU time between two samples over the wall time
 *     between them, x 100 (100 = one CPU busy): Rover's scale, but Rover
 *     (gopsutil's CPUPercent) averages over the process's whole life;
 *     a cause's current is the newest matching slot (Rover's: the oldest);
 *   - an item triggers when at least Count of the last Period slots have
 *     value >= Threshold; HTTP_ERROR_RATE and HTTP_AVG_RESPONSE_TIME are
 *     kept but never trigger (no network observation yet), logged once per
 *     policy;
 *   - every item of one process and target that triggers in one check goes
 *     into one report (its causes); one task at a time per process and
 *     target: no new trigger while a report is pending, in flight, or its
 *     task runs, nor until silence_duration after the task's start (the
 *     report's success);
 *   - a failed report is retried at each following check until its window
 *     (the largest Period of its causes, at least two check intervals)
 *     has passed since the trigger, then dropped (logged): it never becomes
 *     two tasks.
 */
#ifndef AGENT_CONTINUOUS_H
#define AGENT_CONTINUOUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent_config.h"
#include "agent_task.h"
#include "sw_opts.h"

/* The values of ContinuousProfilingTriggeredMonitorType. */
enum agent_cp_monitor {
	AGENT_CP_PROCESS_CPU = 0,		/* percent of one CPU: 100 = one CPU busy */
	AGENT_CP_PROCESS_THREAD_COUNT = 1,
	AGENT_CP_SYSTEM_LOAD = 2,		/* /proc/loadavg, 1 minute */
	AGENT_CP_HTTP_ERROR_RATE = 3,		/* kept, never triggers (yet) */
	AGENT_CP_HTTP_AVG_RESPONSE_TIME = 4,	/* likewise */
	AGENT_CP_NR_MONITORS
};

/* "PROCESS_CPU" ...; "?" for anything else. */
const char *agent_cp_monitor_name(enum agent_cp_monitor m);

#define AGENT_CP_MAX_PERIOD	3600	/* seconds: a longer Period is refused */

/* ---- policies ---------------------------------------------------------- */

struct agent_cp_item {
	enum agent_cp_monitor type;
	char *threshold_str;		/* as OAP sent it */
	double threshold;
	uint32_t period;		/* seconds (slots), 1 .. AGENT_CP_MAX_PERIOD */
	uint32_t count;			/* 1 .. period */
	char **uri_list;		/* HTTP items' URIList */
	size_t nr_uris;
	char *uri_regex;		/* NULL when absent */
	bool supported;			/* false: kept, never triggers */
};

struct agent_cp_policy {
	enum agent_task_target target;
	struct agent_cp_item *items;	/* valid items only, in OAP's order */
	size_t nr_items;
};

struct agent_cp_service {
	char *service;
	char *uuid;			/* never "" (that is a deletion) */
	struct agent_cp_policy *policies;	/* at most one per target */
	size_t nr_policies;
};

/* ---- the core ---------------------------------------------------------- */

struct agent_cp_opts {
	size_t sz;
	const char *proc_root;		/* NULL: /proc (tests: a fake tree) */
	long clk_tck;			/* /proc/PID/stat ticks a second; 0: sysconf() */
};
#define agent_cp_opts__last_field clk_tck
#define AGENT_CP_OPTS(name, ...) SW_OPTS(agent_cp_opts, name, __VA_ARGS__)

struct agent_cp;

/*
 * Intervals, durations and the meter prefix come from @cfg (copied:
 * profiling.continuous.*).  0, -EINVAL (bad opts, a zero interval), -ENOMEM.
 */
int agent_cp_new(const struct agent_config *cfg, const struct agent_cp_opts *opts,
		 struct agent_cp **out);
void agent_cp_free(struct agent_cp *cp);
/* New intervals, durations and prefix (SIGHUP); policies, windows and tasks stay. */
int agent_cp_reconfigure(struct agent_cp *cp, const struct agent_config *cfg);

/*
 * The argument ServiceWithPolicyJSON of a ContinuousProfilingPolicyQuery
 * command.  Each service named replaces its policy, or loses it when its
 * UUID is "" or Profiling is absent (or null).  An invalid item (unknown
 * target or monitor type, a Threshold that is not a number of the monitor's
 * kind, Period or Count missing, zero, or Period > AGENT_CP_MAX_PERIOD,
 * Count > Period) is logged (one line) and left out, the rest apply.
 * Returns the number of services changed, or -EINVAL when the text is not
 * a JSON array (one line logged, nothing applied); -ENOMEM.
 */
int agent_cp_apply_policies(struct agent_cp *cp, const char *json);

/* The policy of @service, NULL when none. */
const struct agent_cp_service *agent_cp_policy(const struct agent_cp *cp, const char *service);
/* Its UUID, "" when none: queryPolicies' uuid for @service. */
const char *agent_cp_policy_uuid(const struct agent_cp *cp, const char *service);

/*
 * Each distinct service of the watched processes once, with its last UUID
 * ("" when none), for queryPolicies.  Returns how many.
 */
size_t agent_cp_each_service(const struct agent_cp *cp,
			     void (*fn)(void *ctx, const char *service, const char *uuid),
			     void *ctx);

/* What a process is to OAP (strings copied). */
struct agent_cp_entity {
	const char *layer, *service, *instance, *process;
};

/*
 * Watch a process: (@pid, @start_time) is its key (/proc/PID/stat field 22;
 * 0 = not checked), @ent its names.  Sampled only while its service has a
 * policy.  0, -EEXIST, -EINVAL, -ENOMEM.
 */
int agent_cp_process_add(struct agent_cp *cp, pid_t pid, uint64_t start_time,
			 const struct agent_cp_entity *ent);
/* Forget it (it exited): its windows, a report not yet sent.  0 or -ENOENT. */
int agent_cp_process_remove(struct agent_cp *cp, pid_t pid, uint64_t start_time);
size_t agent_cp_process_count(const struct agent_cp *cp);

/* ---- sampling, checks, meters ------------------------------------------ */

struct agent_cp_label {
	const char *name, *value;
};

/* One MeterData with a MeterSingleValue; strings valid until the next agent_cp_* call. */
struct agent_cp_meter {
	const char *name;		/* "<meter_prefix>_process_cpu", ... */
	struct agent_cp_label labels[2];	/* process_name, layer */
	const char *service, *instance;
	double value;
	int64_t timestamp_ms;		/* the check's epoch_ms */
};

struct agent_cp_meters {
	struct agent_cp_meter *v;
	size_t n, cap;
};
void agent_cp_meters_free(struct agent_cp_meters *m);

/*
 * One sample of every process whose service has a policy, for the monitors
 * its items use (and the system load once): what agent_cp_tick() does at
 * each new second.  A process found gone (no /proc/PID, or another start
 * time) loses its windows and pending report and is never sampled again.
 * A process's CPU percent needs two samples: the first gives none.
 */
void agent_cp_sample(struct agent_cp *cp, uint64_t mono_ns);

/*
 * Feed one value directly (tests; later the network monitors): the slot of
 * second mono_ns / 1e9 of that process and monitor (the system load's
 * window when @m is AGENT_CP_SYSTEM_LOAD: @pid ignored).  0, -ENOENT.
 */
int agent_cp_put(struct agent_cp *cp, pid_t pid, uint64_t start_time, enum agent_cp_monitor m,
		 uint64_t mono_ns, double value);

/*
 * The check: @meters (emptied first; NULL: none) gets, per process with a
 * policy, the newest sample of each monitor its items use, if sampled since
 * the last check; then every item is evaluated; a process and target that
 * may trigger and has causes gets a report to send.  Returns the number of
 * new reports, or -ENOMEM.
 */
int agent_cp_check(struct agent_cp *cp, uint64_t mono_ns, int64_t epoch_ms,
		   struct agent_cp_meters *meters);

/*
 * Sample when a new second began since the last sample (and fetch_interval
 * has passed), check when check_interval has passed since the last check
 * (@meters filled then).  Returns 1 when it checked, 0 when not, or
 * agent_cp_check()'s error.
 */
int agent_cp_tick(struct agent_cp *cp, uint64_t mono_ns, int64_t epoch_ms,
		  struct agent_cp_meters *meters);
/* When agent_cp_tick() next has something to do (mono ns). */
uint64_t agent_cp_next_ns(const struct agent_cp *cp);

/* ---- reports (reportProfilingTask) ------------------------------------- */

/* ContinuousProfilingSingleValueCause: raw values, as Rover sends them (OAP stores x100). */
struct agent_cp_cause {
	enum agent_cp_monitor type;
	double threshold;		/* the policy's */
	double current;			/* the newest matching sample of the window */
};

struct agent_cp_report {
	uint64_t id;			/* for agent_cp_report_ok() / _failed() */
	pid_t pid;
	uint64_t start_time;
	struct agent_cp_entity ent;	/* borrowed: valid until the process is removed */
	enum agent_task_target target;	/* the oneof targetTask (NETWORK: no URIs yet) */
	struct agent_cp_cause causes[AGENT_CP_NR_MONITORS];
	size_t nr_causes;		/* >= 1 */
	uint32_t duration_s;		/* execute_duration */
	uint32_t attempt;		/* 1 for the first try */
};

/*
 * @fn for every report to send now: new ones, and failed ones still within
 * their window (at the first check after the failure).  Each is in flight
 * afterwards until agent_cp_report_ok() or _failed() (the daemon must call
 * one of them for each).  Returns how many.
 */
size_t agent_cp_take_reports(struct agent_cp *cp, uint64_t mono_ns,
			     void (*fn)(void *ctx, const struct agent_cp_report *r), void *ctx);

/*
 * OAP answered with a TaskId: the task runs now, for duration_s; no trigger
 * for this process and target until silence_duration (or the run, if
 * longer) has passed.  0; -ENOENT when the report is unknown or its process
 * gone (the daemon then does not start it).
 */
int agent_cp_report_ok(struct agent_cp *cp, uint64_t id, const char *task_id, uint64_t mono_ns);
/*
 * The report failed: 0 when it will be offered again, -ETIMEDOUT when its
 * window has passed (dropped, logged), -ENOENT when unknown.
 */
int agent_cp_report_failed(struct agent_cp *cp, uint64_t id, uint64_t mono_ns);

struct agent_cp_stats {
	uint64_t samples, sample_errors;	/* process samples taken, failed reads */
	uint64_t triggers, reports_taken, reports_failed, reports_dropped, tasks;
	uint64_t services, processes, running;	/* now */
};
void agent_cp_stats(const struct agent_cp *cp, struct agent_cp_stats *st);

#endif
