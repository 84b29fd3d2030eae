/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by the continuous profiling files (agent_continuous.h): not for the daemon. */
#ifndef AGENT_CONTINUOUS_PRIV_H
#define AGENT_CONTINUOUS_PRIV_H

#include "agent_continuous.h"

#define NSEC		1000000000ULL
#define NR_TARGETS	3		/* AGENT_TARGET_ON_CPU .. AGENT_TARGET_NETWORK */

/* ---- window.c: one-second slots on the monotonic clock ---------------- */

/*
 * A ring of @len slots; slot i holds the value of second s when
 * s % len == i and tag[i] == s + 1 (0: empty).  A second never written is
 * empty whatever the ring held before: gaps need no clearing.
 */
struct agent_cp_window {
	double *val;
	uint64_t *tag;
	uint32_t len;
	uint64_t newest;		/* newest second written + 1; 0: none */
};

/* Resize to @len slots (0 frees), keeping the newest seconds that fit.  0 or -ENOMEM. */
int agent_cp_window_resize(struct agent_cp_window *w, uint32_t len);
void agent_cp_window_free(struct agent_cp_window *w);
/* The value of second @sec (the last one put for that second counts). */
void agent_cp_window_put(struct agent_cp_window *w, uint64_t sec, double v);
/*
 * How many of the seconds (@now_sec - @period, @now_sec] have a value
 * >= @threshold (@period is capped at the ring's length); *newest gets the
 * value of the newest such second when there is one.
 */
uint32_t agent_cp_window_count(const struct agent_cp_window *w, uint64_t now_sec,
			       uint32_t period, double threshold, double *newest);
/* The newest value and its second: false when the window is empty. */
bool agent_cp_window_latest(const struct agent_cp_window *w, uint64_t *sec, double *v);

/* ---- monitor.c: /proc ---------------------------------------------------- */

/*
 * utime + stime (clock ticks) and the start time (field 22) of
 * @proc_root/@pid/stat.  0, -ENOENT when the process is gone, -EINVAL when
 * the file does not parse.
 */
int agent_cp_read_cpu(const char *proc_root, pid_t pid, uint64_t *ticks, uint64_t *start_time);
/* "Threads:" of @proc_root/@pid/status.  0, -ENOENT, -EINVAL. */
int agent_cp_read_threads(const char *proc_root, pid_t pid, uint32_t *threads);
/* The 1-minute load of @proc_root/loadavg.  0, -errno, -EINVAL. */
int agent_cp_read_loadavg(const char *proc_root, double *load1);
/*
 * Percent of one CPU between two readings: ticks delta / @clk_tck over the
 * wall delta, x 100 (100 = one CPU busy all along; more with more threads).
 * -1 when it cannot be told (no time passed, or the ticks went backwards).
 */
double agent_cp_cpu_percent(uint64_t ticks0, uint64_t ns0, uint64_t ticks1, uint64_t ns1,
			    long clk_tck);

/* ---- policy.c: the policies of every service ---------------------------- */

struct agent_cp_policies {
	struct agent_cp_service *v;
	size_t n, cap;
	uint64_t gen;			/* +1 at every change */
};

int agent_cp_policies_apply(struct agent_cp_policies *ps, const char *json);
const struct agent_cp_service *agent_cp_policies_find(const struct agent_cp_policies *ps,
						      const char *service);
void agent_cp_policies_free(struct agent_cp_policies *ps);

/* ---- watch.c and trigger.c: processes, triggers ------------------------- */

enum cp_state {
	CP_IDLE,			/* may trigger */
	CP_PENDING,			/* triggered: a report to take */
	CP_IN_FLIGHT,			/* taken: waiting for ok / failed */
	CP_FAILED,			/* failed: offered again at the next check */
	CP_RUNNING,			/* OAP gave a task: until silence ends */
};

struct cp_trigger {
	enum cp_state state;
	uint64_t report_id;
	uint64_t triggered_ns, deadline_ns;	/* retries until deadline_ns */
	uint64_t task_start_ns, quiet_until_ns;	/* CP_RUNNING */
	struct agent_cp_cause causes[AGENT_CP_NR_MONITORS];
	size_t nr_causes;
	uint32_t attempt;
	char *task_id;
};

struct cp_proc {
	pid_t pid;
	uint64_t start_time;
	char *layer, *service, *instance, *process;
	bool gone;			/* its /proc entry vanished: never sampled again */
	struct agent_cp_window win[AGENT_CP_NR_MONITORS];	/* system load: cp->load */
	uint64_t flushed[AGENT_CP_NR_MONITORS];	/* newest second given as a meter + 1 */
	uint64_t cpu_ticks, cpu_ns;	/* the previous CPU reading; cpu_ns 0: none */
	struct cp_trigger trig[NR_TARGETS];
};

struct agent_cp {
	char *proc_root;
	long clk_tck;
	uint64_t fetch_ns, check_ns, execute_ns, silence_ns;
	char *meter_name[AGENT_CP_NR_MONITORS];
	struct agent_cp_policies policies;
	struct cp_proc **procs;
	size_t nr_procs, cap_procs;
	struct agent_cp_window load;
	uint64_t next_sample_ns, next_check_ns;
	bool started;			/* next_* set by the first tick */
	uint64_t next_report_id;
	struct agent_cp_stats st;
};

/* The trigger of @p for @target (AGENT_TARGET_*). */
static inline struct cp_trigger *cp_trig(struct cp_proc *p, enum agent_task_target target)
{
	return &p->trig[target - AGENT_TARGET_ON_CPU];
}

/* trigger.c: evaluate @p's items against @svc's policy at @now_ns; new reports counted. */
int cp_trigger_check(struct agent_cp *cp, struct cp_proc *p, const struct agent_cp_service *svc,
		     uint64_t now_ns);
/* trigger.c: a task's silence over, a failed report due again or past its window. */
void cp_trigger_age(struct agent_cp *cp, struct cp_proc *p, uint64_t now_ns);
/* trigger.c: @p's reports cannot be sent any more (gone): pending ones dropped. */
void cp_trigger_drop(struct agent_cp *cp, struct cp_proc *p);
void cp_trigger_free(struct cp_trigger *t);

#endif
