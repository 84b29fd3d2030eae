// SPDX-License-Identifier: GPL-2.0-only
/* Continuous profiling: watched processes, samples, checks, meters, tick (agent_continuous.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_continuous_priv.h"
#include "sw_log.h"

static void free_names(struct agent_cp *cp)
{
	int m;

	for (m = 0; m < AGENT_CP_NR_MONITORS; m++) {
		free(cp->meter_name[m]);
		cp->meter_name[m] = NULL;
	}
}

/* "<prefix>_process_cpu", ...: Rover's names, the monitor type in lower case. */
static int make_names(struct agent_cp *cp, const char *prefix)
{
	char *names[AGENT_CP_NR_MONITORS] = { 0 };
	int m;

	for (m = 0; m < AGENT_CP_NR_MONITORS; m++) {
		char *s;

		if (asprintf(&names[m], "%s_%s", prefix, agent_cp_monitor_name(m)) < 0) {
			names[m] = NULL;
			while (m--)
				free(names[m]);
			return -ENOMEM;
		}
		for (s = names[m] + strlen(prefix); *s; s++)
			*s = tolower((unsigned char)*s);
	}
	free_names(cp);
	memcpy(cp->meter_name, names, sizeof(names));
	return 0;
}

int agent_cp_reconfigure(struct agent_cp *cp, const struct agent_config *cfg)
{
	const typeof(cfg->profiling.continuous) *c = &cfg->profiling.continuous;

	if (!c->fetch_interval_ns || !c->check_interval_ns || !c->meter_prefix ||
	    !*c->meter_prefix)
		return -EINVAL;
	if (make_names(cp, c->meter_prefix))
		return -ENOMEM;
	cp->fetch_ns = c->fetch_interval_ns;
	cp->check_ns = c->check_interval_ns;
	cp->execute_ns = c->execute_duration_ns;
	cp->silence_ns = c->silence_duration_ns;
	return 0;
}

int agent_cp_new(const struct agent_config *cfg, const struct agent_cp_opts *opts,
		 struct agent_cp **out)
{
	struct agent_cp *cp;
	int err;

	*out = NULL;
	if (!SW_OPTS_VALID(opts, agent_cp_opts))
		return -EINVAL;
	cp = calloc(1, sizeof(*cp));
	if (!cp)
		return -ENOMEM;
	cp->clk_tck = SW_OPTS_GET_OR(opts, clk_tck, sysconf(_SC_CLK_TCK));
	cp->proc_root = strdup(SW_OPTS_GET_OR(opts, proc_root, "/proc"));
	err = cp->proc_root ? agent_cp_reconfigure(cp, cfg) : -ENOMEM;
	if (err) {
		agent_cp_free(cp);
		return err;
	}
	*out = cp;
	return 0;
}

static void proc_free(struct cp_proc *p)
{
	int i;

	for (i = 0; i < AGENT_CP_NR_MONITORS; i++)
		agent_cp_window_free(&p->win[i]);
	for (i = 0; i < NR_TARGETS; i++)
		cp_trigger_free(&p->trig[i]);
	free(p->layer);
	free(p->service);
	free(p->instance);
	free(p->process);
	free(p);
}

void agent_cp_free(struct agent_cp *cp)
{
	size_t i;

	if (!cp)
		return;
	for (i = 0; i < cp->nr_procs; i++)
		proc_free(cp->procs[i]);
	free(cp->procs);
	agent_cp_policies_free(&cp->policies);
	agent_cp_window_free(&cp->load);
	free_names(cp);
	free(cp->proc_root);
	free(cp);
}

int agent_cp_apply_policies(struct agent_cp *cp, const char *json)
{
	return agent_cp_policies_apply(&cp->policies, json);
}

const struct agent_cp_service *agent_cp_policy(const struct agent_cp *cp, const char *service)
{
	return agent_cp_policies_find(&cp->policies, service);
}

const char *agent_cp_policy_uuid(const struct agent_cp *cp, const char *service)
{
	const struct agent_cp_service *s = agent_cp_policy(cp, service);

	return s ? s->uuid : "";
}

size_t agent_cp_each_service(const struct agent_cp *cp,
			     void (*fn)(void *ctx, const char *service, const char *uuid),
			     void *ctx)
{
	size_t i, j, n = 0;

	for (i = 0; i < cp->nr_procs; i++) {
		const struct cp_proc *p = cp->procs[i];

		for (j = 0; j < i; j++)
			if (!strcmp(cp->procs[j]->service, p->service))
				break;
		if (j < i)
			continue;
		fn(ctx, p->service, agent_cp_policy_uuid(cp, p->service));
		n++;
	}
	return n;
}

static ssize_t proc_index(const struct agent_cp *cp, pid_t pid, uint64_t start_time)
{
	size_t i;

	for (i = 0; i < cp->nr_procs; i++)
		if (cp->procs[i]->pid == pid && cp->procs[i]->start_time == start_time)
			return i;
	return -1;
}

int agent_cp_process_add(struct agent_cp *cp, pid_t pid, uint64_t start_time,
			 const struct agent_cp_entity *ent)
{
	struct cp_proc *p;

	if (pid <= 0 || !ent->layer || !ent->service || !ent->instance || !ent->process)
		return -EINVAL;
	if (proc_index(cp, pid, start_time) >= 0)
		return -EEXIST;
	if (cp->nr_procs == cp->cap_procs) {
		size_t cap = cp->cap_procs ? 2 * cp->cap_procs : 16;
		struct cp_proc **v = realloc(cp->procs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		cp->procs = v;
		cp->cap_procs = cap;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pid = pid;
	p->start_time = start_time;
	p->layer = strdup(ent->layer);
	p->service = strdup(ent->service);
	p->instance = strdup(ent->instance);
	p->process = strdup(ent->process);
	if (!p->layer || !p->service || !p->instance || !p->process) {
		proc_free(p);
		return -ENOMEM;
	}
	cp->procs[cp->nr_procs++] = p;
	return 0;
}

int agent_cp_process_remove(struct agent_cp *cp, pid_t pid, uint64_t start_time)
{
	ssize_t i = proc_index(cp, pid, start_time);

	if (i < 0)
		return -ENOENT;
	cp_trigger_drop(cp, cp->procs[i]);
	proc_free(cp->procs[i]);
	/* keep the order: reports and meters come out in the order of adding */
	memmove(&cp->procs[i], &cp->procs[i + 1], (cp->nr_procs - i - 1) * sizeof(*cp->procs));
	cp->nr_procs--;
	return 0;
}

size_t agent_cp_process_count(const struct agent_cp *cp)
{
	return cp->nr_procs;
}

/* The largest Period per monitor among @svc's items (0: not used). */
static void periods(const struct agent_cp_service *svc, uint32_t maxp[AGENT_CP_NR_MONITORS])
{
	size_t i, j;

	memset(maxp, 0, AGENT_CP_NR_MONITORS * sizeof(*maxp));
	for (i = 0; svc && i < svc->nr_policies; i++) {
		for (j = 0; j < svc->policies[i].nr_items; j++) {
			const struct agent_cp_item *it = &svc->policies[i].items[j];

			if (it->period > maxp[it->type])
				maxp[it->type] = it->period;
		}
	}
}

/* The system load's window: as long as the longest SYSTEM_LOAD Period of any policy. */
static uint32_t load_period(const struct agent_cp *cp)
{
	uint32_t maxp[AGENT_CP_NR_MONITORS], best = 0;
	size_t i;

	for (i = 0; i < cp->policies.n; i++) {
		periods(&cp->policies.v[i], maxp);
		if (maxp[AGENT_CP_SYSTEM_LOAD] > best)
			best = maxp[AGENT_CP_SYSTEM_LOAD];
	}
	return best;
}

/* Size @p's windows for its service's policy (none: freed).  0 or -ENOMEM. */
static int size_windows(struct agent_cp *cp, struct cp_proc *p, const struct agent_cp_service *svc)
{
	uint32_t maxp[AGENT_CP_NR_MONITORS];
	int m;

	periods(svc, maxp);
	for (m = 0; m < AGENT_CP_NR_MONITORS; m++)
		if (m != AGENT_CP_SYSTEM_LOAD && agent_cp_window_resize(&p->win[m], maxp[m]))
			return -ENOMEM;
	if (!maxp[AGENT_CP_PROCESS_CPU])
		p->cpu_ns = 0;
	return 0;
}

static void mark_gone(struct agent_cp *cp, struct cp_proc *p)
{
	int m;

	p->gone = true;
	for (m = 0; m < AGENT_CP_NR_MONITORS; m++)
		agent_cp_window_free(&p->win[m]);
	cp_trigger_drop(cp, p);
	sw_debug("continuous profiling: process %d (%s) exited: its windows are dropped",
		 (int)p->pid, p->process);
}

/* One sample of @p.  false when it turned out gone. */
static bool sample_proc(struct agent_cp *cp, struct cp_proc *p, uint64_t now_ns)
{
	uint64_t sec = now_ns / NSEC, ticks, start;
	uint32_t threads;
	int err;

	if (p->win[AGENT_CP_PROCESS_CPU].len) {
		err = agent_cp_read_cpu(cp->proc_root, p->pid, &ticks, &start);
		if (err == -ENOENT || (!err && p->start_time && start != p->start_time))
			return false;
		if (err) {
			cp->st.sample_errors++;
		} else {
			double pct = p->cpu_ns ? agent_cp_cpu_percent(p->cpu_ticks, p->cpu_ns, ticks,
								      now_ns, cp->clk_tck) : -1;

			if (pct >= 0)
				agent_cp_window_put(&p->win[AGENT_CP_PROCESS_CPU], sec, pct);
			p->cpu_ticks = ticks;
			p->cpu_ns = now_ns;
		}
	}
	if (p->win[AGENT_CP_PROCESS_THREAD_COUNT].len) {
		err = agent_cp_read_threads(cp->proc_root, p->pid, &threads);
		if (err == -ENOENT)
			return false;
		if (err)
			cp->st.sample_errors++;
		else
			agent_cp_window_put(&p->win[AGENT_CP_PROCESS_THREAD_COUNT], sec, threads);
	}
	cp->st.samples++;
	return true;
}

void agent_cp_sample(struct agent_cp *cp, uint64_t mono_ns)
{
	uint32_t load_len = load_period(cp);
	size_t i;
	double load;

	for (i = 0; i < cp->nr_procs; i++) {
		struct cp_proc *p = cp->procs[i];
		const struct agent_cp_service *svc;

		if (p->gone)
			continue;
		svc = agent_cp_policies_find(&cp->policies, p->service);
		if (size_windows(cp, p, svc)) {
			cp->st.sample_errors++;
			continue;
		}
		if (svc && !sample_proc(cp, p, mono_ns))
			mark_gone(cp, p);
	}
	if (agent_cp_window_resize(&cp->load, load_len) || !load_len)
		return;
	if (agent_cp_read_loadavg(cp->proc_root, &load))
		cp->st.sample_errors++;
	else
		agent_cp_window_put(&cp->load, mono_ns / NSEC, load);
}

int agent_cp_put(struct agent_cp *cp, pid_t pid, uint64_t start_time, enum agent_cp_monitor m,
		 uint64_t mono_ns, double value)
{
	struct cp_proc *p;
	ssize_t i;

	if ((unsigned int)m >= AGENT_CP_NR_MONITORS)
		return -EINVAL;
	if (m == AGENT_CP_SYSTEM_LOAD) {
		if (agent_cp_window_resize(&cp->load, load_period(cp)))
			return -ENOMEM;
		if (!cp->load.len)
			return -ENOENT;
		agent_cp_window_put(&cp->load, mono_ns / NSEC, value);
		return 0;
	}
	i = proc_index(cp, pid, start_time);
	if (i < 0 || cp->procs[i]->gone)
		return -ENOENT;
	p = cp->procs[i];
	if (size_windows(cp, p, agent_cp_policies_find(&cp->policies, p->service)))
		return -ENOMEM;
	if (!p->win[m].len)
		return -ENOENT;
	agent_cp_window_put(&p->win[m], mono_ns / NSEC, value);
	return 0;
}

void agent_cp_meters_free(struct agent_cp_meters *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static int add_meter(struct agent_cp *cp, struct agent_cp_meters *ms, const struct cp_proc *p,
		     enum agent_cp_monitor m, double v, int64_t epoch_ms)
{
	struct agent_cp_meter *e;

	if (ms->n == ms->cap) {
		size_t cap = ms->cap ? 2 * ms->cap : 32;
		struct agent_cp_meter *nv = realloc(ms->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		ms->v = nv;
		ms->cap = cap;
	}
	e = &ms->v[ms->n++];
	e->name = cp->meter_name[m];
	e->labels[0] = (struct agent_cp_label){ "process_name", p->process };
	e->labels[1] = (struct agent_cp_label){ "layer", p->layer };
	e->service = p->service;
	e->instance = p->instance;
	e->value = v;
	e->timestamp_ms = epoch_ms;
	return 0;
}

/* @p's newest samples not given yet: a meter per monitor of its policy (FlushMostRecentData). */
static int meters_of(struct agent_cp *cp, struct cp_proc *p, const struct agent_cp_service *svc,
		     struct agent_cp_meters *ms, int64_t epoch_ms)
{
	uint32_t maxp[AGENT_CP_NR_MONITORS];
	uint64_t sec;
	double v;
	int m;

	periods(svc, maxp);
	for (m = 0; m < AGENT_CP_NR_MONITORS; m++) {
		const struct agent_cp_window *w = m == AGENT_CP_SYSTEM_LOAD ? &cp->load : &p->win[m];

		if (!maxp[m] || !agent_cp_window_latest(w, &sec, &v) || sec + 1 <= p->flushed[m])
			continue;
		if (add_meter(cp, ms, p, m, v, epoch_ms))
			return -ENOMEM;
		p->flushed[m] = sec + 1;
	}
	return 0;
}

int agent_cp_check(struct agent_cp *cp, uint64_t mono_ns, int64_t epoch_ms,
		   struct agent_cp_meters *meters)
{
	int n = 0, err;
	size_t i;

	if (meters)
		meters->n = 0;
	for (i = 0; i < cp->nr_procs; i++) {
		struct cp_proc *p = cp->procs[i];
		const struct agent_cp_service *svc;

		cp_trigger_age(cp, p, mono_ns);
		if (p->gone)
			continue;
		svc = agent_cp_policies_find(&cp->policies, p->service);
		if (!svc)
			continue;
		if (meters && meters_of(cp, p, svc, meters, epoch_ms))
			return -ENOMEM;
		err = cp_trigger_check(cp, p, svc, mono_ns);
		n += err;
	}
	return n;
}

int agent_cp_tick(struct agent_cp *cp, uint64_t mono_ns, int64_t epoch_ms,
		  struct agent_cp_meters *meters)
{
	if (meters)
		meters->n = 0;
	if (!cp->started) {
		cp->started = true;
		cp->next_sample_ns = mono_ns;
		cp->next_check_ns = mono_ns + cp->check_ns;
	}
	if (mono_ns >= cp->next_sample_ns) {
		agent_cp_sample(cp, mono_ns);
		/* the start of the second fetch_interval from now: one sample a second */
		cp->next_sample_ns = (mono_ns + cp->fetch_ns) / NSEC * NSEC;
		if (cp->next_sample_ns <= mono_ns)
			cp->next_sample_ns = mono_ns + cp->fetch_ns;
	}
	if (mono_ns < cp->next_check_ns)
		return 0;
	cp->next_check_ns += cp->check_ns;
	if (cp->next_check_ns <= mono_ns)
		cp->next_check_ns = mono_ns + cp->check_ns;
	return agent_cp_check(cp, mono_ns, epoch_ms, meters) < 0 ? -ENOMEM : 1;
}

uint64_t agent_cp_next_ns(const struct agent_cp *cp)
{
	if (!cp->started)
		return 0;
	return cp->next_sample_ns < cp->next_check_ns ? cp->next_sample_ns : cp->next_check_ns;
}

void agent_cp_stats(const struct agent_cp *cp, struct agent_cp_stats *st)
{
	size_t i;
	int t;

	*st = cp->st;
	st->services = cp->policies.n;
	st->processes = cp->nr_procs;
	st->running = 0;
	for (i = 0; i < cp->nr_procs; i++)
		for (t = 0; t < NR_TARGETS; t++)
			st->running += cp->procs[i]->trig[t].state == CP_RUNNING;
}
