// SPDX-License-Identifier: GPL-2.0-only
/* Continuous profiling triggers: causes, reports, retries, silence (agent_continuous.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent_continuous_priv.h"
#include "sw_log.h"

void cp_trigger_free(struct cp_trigger *t)
{
	free(t->task_id);
	memset(t, 0, sizeof(*t));
}

static void drop(struct agent_cp *cp, struct cp_proc *p, struct cp_trigger *t, const char *why)
{
	sw_warn("continuous profiling: %s task for process %s (pid %d) of service %s not reported: %s",
		agent_target_name(t - p->trig + AGENT_TARGET_ON_CPU), p->process, (int)p->pid,
		p->service, why);
	cp->st.reports_dropped++;
	cp_trigger_free(t);
}

void cp_trigger_age(struct agent_cp *cp, struct cp_proc *p, uint64_t now_ns)
{
	int i;

	for (i = 0; i < NR_TARGETS; i++) {
		struct cp_trigger *t = &p->trig[i];

		if (t->state == CP_RUNNING && now_ns >= t->quiet_until_ns)
			cp_trigger_free(t);
		else if (t->state == CP_FAILED && now_ns >= t->deadline_ns)
			drop(cp, p, t, "its window passed while reportProfilingTask failed");
		else if (t->state == CP_FAILED)
			t->state = CP_PENDING;
	}
}

void cp_trigger_drop(struct agent_cp *cp, struct cp_proc *p)
{
	int i;

	for (i = 0; i < NR_TARGETS; i++)
		if (p->trig[i].state == CP_PENDING || p->trig[i].state == CP_FAILED)
			drop(cp, p, &p->trig[i], "the process exited");
}

/* The window of @p for monitor @m: the system load's is everybody's. */
static const struct agent_cp_window *window_of(const struct agent_cp *cp, const struct cp_proc *p,
					       enum agent_cp_monitor m)
{
	return m == AGENT_CP_SYSTEM_LOAD ? &cp->load : &p->win[m];
}

int cp_trigger_check(struct agent_cp *cp, struct cp_proc *p, const struct agent_cp_service *svc,
		     uint64_t now_ns)
{
	uint64_t sec = now_ns / NSEC;
	size_t i, j;
	int n = 0;

	for (i = 0; i < svc->nr_policies; i++) {
		const struct agent_cp_policy *pol = &svc->policies[i];
		struct cp_trigger *t = cp_trig(p, pol->target);
		uint32_t maxp = 0;

		/* one task at a time per process and target, then silence */
		if (t->state != CP_IDLE)
			continue;
		for (j = 0; j < pol->nr_items; j++) {
			const struct agent_cp_item *it = &pol->items[j];
			const struct agent_cp_window *w = window_of(cp, p, it->type);
			double cur = 0;

			if (!it->supported || !w->len ||
			    agent_cp_window_count(w, sec, it->period, it->threshold, &cur) < it->count)
				continue;
			t->causes[t->nr_causes++] = (struct agent_cp_cause){
				.type = it->type, .threshold = it->threshold, .current = cur,
			};
			if (it->period > maxp)
				maxp = it->period;
			sw_info("continuous profiling: %s >= %s in %u of the last %u s (now %.2f): %s task for process %s (pid %d) of service %s",
				agent_cp_monitor_name(it->type), it->threshold_str, it->count,
				it->period, cur, agent_target_name(pol->target), p->process,
				(int)p->pid, p->service);
		}
		if (!t->nr_causes)
			continue;
		t->state = CP_PENDING;
		t->report_id = ++cp->next_report_id;
		t->triggered_ns = now_ns;
		/* retried within the window, and at least once (two checks) */
		t->deadline_ns = now_ns + (maxp * NSEC > 2 * cp->check_ns ? maxp * NSEC :
					   2 * cp->check_ns);
		t->attempt = 0;
		cp->st.triggers++;
		n++;
	}
	return n;
}

size_t agent_cp_take_reports(struct agent_cp *cp, uint64_t mono_ns,
			     void (*fn)(void *ctx, const struct agent_cp_report *r), void *ctx)
{
	struct agent_cp_report r;
	size_t i, n = 0;
	int k;

	for (i = 0; i < cp->nr_procs; i++) {
		struct cp_proc *p = cp->procs[i];

		for (k = 0; k < NR_TARGETS && !p->gone; k++) {
			struct cp_trigger *t = &p->trig[k];

			if (t->state != CP_PENDING)
				continue;
			t->state = CP_IN_FLIGHT;
			t->attempt++;
			memset(&r, 0, sizeof(r));
			r.id = t->report_id;
			r.pid = p->pid;
			r.start_time = p->start_time;
			r.ent = (struct agent_cp_entity){ p->layer, p->service, p->instance, p->process };
			r.target = k + AGENT_TARGET_ON_CPU;
			memcpy(r.causes, t->causes, sizeof(r.causes));
			r.nr_causes = t->nr_causes;
			r.duration_s = cp->execute_ns / NSEC;
			r.attempt = t->attempt;
			cp->st.reports_taken++;
			n++;
			fn(ctx, &r);
		}
	}
	return n;
}

/* The trigger in flight with report @id, and its process. */
static struct cp_trigger *in_flight(struct agent_cp *cp, uint64_t id, struct cp_proc **pp)
{
	size_t i;
	int k;

	for (i = 0; id && i < cp->nr_procs; i++) {
		for (k = 0; k < NR_TARGETS; k++) {
			struct cp_trigger *t = &cp->procs[i]->trig[k];

			if (t->report_id == id && t->state == CP_IN_FLIGHT) {
				*pp = cp->procs[i];
				return t;
			}
		}
	}
	return NULL;
}

int agent_cp_report_ok(struct agent_cp *cp, uint64_t id, const char *task_id, uint64_t mono_ns)
{
	struct cp_proc *p;
	struct cp_trigger *t = in_flight(cp, id, &p);
	uint64_t quiet;

	if (!t)
		return -ENOENT;
	/* no new trigger while the task runs, nor until silence after its start */
	quiet = cp->silence_ns > cp->execute_ns ? cp->silence_ns : cp->execute_ns;
	t->state = CP_RUNNING;
	t->task_start_ns = mono_ns;
	t->quiet_until_ns = mono_ns + quiet;
	free(t->task_id);
	t->task_id = strdup(task_id ? task_id : "");
	cp->st.tasks++;
	if (p->gone)
		return -ENOENT;
	sw_info("continuous profiling: task %s: %s of process %s (pid %d) of service %s for %llu s",
		task_id, agent_target_name(t - p->trig + AGENT_TARGET_ON_CPU), p->process,
		(int)p->pid, p->service, (unsigned long long)(cp->execute_ns / NSEC));
	return 0;
}

int agent_cp_report_failed(struct agent_cp *cp, uint64_t id, uint64_t mono_ns)
{
	struct cp_proc *p;
	struct cp_trigger *t = in_flight(cp, id, &p);

	if (!t)
		return -ENOENT;
	cp->st.reports_failed++;
	if (p->gone) {
		cp_trigger_free(t);
		cp->st.reports_dropped++;
		return -ENOENT;
	}
	if (mono_ns >= t->deadline_ns) {
		drop(cp, p, t, "its window passed while reportProfilingTask failed");
		return -ETIMEDOUT;
	}
	t->state = CP_FAILED;
	return 0;
}
