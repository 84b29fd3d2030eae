// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's main thread (agentd.h): owns the pipeline, the process
 * table and the schedule; never waits on OAP (the uplink thread does).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "agent_agg.h"
#include "agent_config.h"
#include "agent_continuous.h"
#include "agent_discovery.h"
#include "agent_finder.h"
#include "agent_task.h"
#include "agentd.h"
#include "pipeline.h"
#include "status.h"
#include "sw_log.h"
#include "sw_time.h"
#include "swprof.h"
#include "tprof.h"
#include "uplink.h"

/* One process of a running task. */
struct task_proc {
	pid_t pid;
	char *process_id;
	struct agent_agg *agg;		/* NULL once its process is gone and flushed */
};

/* A running task: struct agent_sched_entry.run. */
struct task_run {
	struct task_proc *procs;
	size_t nr_procs;
};

struct agentd {
	struct agent_config cfg;
	const char *config_path;
	bool log_level_set;
	enum sw_log_level log_level;
	char agent_id[40];
	struct agent_host_facts host;
	char *host_ip;
	bool kernel;			/* kernel stacks allowed */
	struct pl *pl;
	struct agent_discovery *disc;
	struct agent_sched *sched;
	struct agent_cp *cp;		/* continuous profiling */
	int64_t next_policies;
	bool policies_busy;
	struct uplink *up;
	struct tprof *tp;		/* trace profiling; NULL when off */
	struct status_srv *status;
	char *state_path;		/* the schedule's, in the spool directory */
	int64_t next_scan, next_beat, next_query, next_flush, next_stats, next_status;
	int64_t next_rescan;		/* a module that cannot follow processes */
	unsigned int beats;
	bool report_busy, query_busy, keepalive_busy;
	bool reported_once, full_report;
	bool preloaded;			/* kallsyms read */
	uint64_t reconnects_seen;
	uint64_t tasks_refused, tasks_malformed;
	uint64_t batches_taken, samples_taken;
	int64_t started_ms;
};

static volatile sig_atomic_t stop_sig, reload_sig;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_sig = 1;
	else
		stop_sig = sig;
}

static int64_t now_ms(void)
{
	return (int64_t)(sw_epoch_ns() / 1000000);
}

static int64_t ns_ms(uint64_t ns)
{
	return (int64_t)(ns / 1000000);
}

static void log_line(void *ctx, enum sw_log_level level, const char *msg)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s %s\n", when, ts.tv_nsec / 1000000,
		level <= SW_LOG_DEBUG ? names[level] : "?", msg);
}

static int read_uuid(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/uuid", "re");
	int ok = f && fgets(buf, len, f);

	if (f)
		fclose(f);
	if (!ok)
		return -errno;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* ---- processes -------------------------------------------------------- */

static int desc_from(struct proc_desc *d, const struct agent_proc *p)
{
	size_t i;

	memset(d, 0, sizeof(*d));
	d->pid = p->pid;
	d->layer = strdup(p->ent.layer);
	d->service = strdup(p->ent.service);
	d->instance = strdup(p->ent.instance);
	d->process = strdup(p->ent.process);
	d->cmdline = strdup(p->cmdline);
	d->labels = calloc(p->ent.nr_labels + 1, sizeof(*d->labels));
	if (!d->layer || !d->service || !d->instance || !d->process || !d->cmdline || !d->labels)
		return -ENOMEM;
	for (i = 0; i < p->ent.nr_labels; i++, d->nr_labels++)
		if (!(d->labels[i] = strdup(p->ent.labels[i])))
			return -ENOMEM;
	return 0;
}

/* A job over the processes of the table: all, or those OAP has no id for. */
static struct job *procs_job(struct agentd *a, enum job_kind kind, bool all)
{
	size_t n = agent_discovery_count(a->disc), i;
	struct job *j = job_new(kind);

	if (!j)
		return NULL;
	j->procs = calloc(n + 1, sizeof(*j->procs));
	if (!j->procs)
		goto nomem;
	for (i = 0; i < n; i++) {
		struct agent_proc *p = agent_discovery_at(a->disc, i);

		if (kind == JOB_REPORT && !all && p->process_id)
			continue;
		if (kind == JOB_KEEPALIVE && !p->process_id)
			continue;
		if (desc_from(&j->procs[j->nr_procs++], p))
			goto nomem;
	}
	j->full = all;
	if (a->host_ip && !(j->host_ip = strdup(a->host_ip)))
		goto nomem;
	return j;
nomem:
	job_free(j);
	return NULL;
}

static void report(struct agentd *a, bool all)
{
	struct job *j;

	if (a->report_busy)
		return;
	j = procs_job(a, JOB_REPORT, all);
	if (!j)
		return;
	if (!j->nr_procs && a->reported_once) {
		job_free(j);
		return;
	}
	a->report_busy = true;
	uplink_submit(a->up, j);
}

static void report_done(struct agentd *a, struct job *j)
{
	size_t i, ok = 0;

	a->report_busy = false;
	if (j->err) {
		sw_debug("reportProcesses: %s", strerror(-j->err));
		return;
	}
	for (i = 0; j->procs_resp && i < j->procs_resp->n_processes; i++) {
		const Skywalking__V3__EBPFProcessDownstream *d = j->procs_resp->processes[i];
		const Skywalking__V3__EBPFHostProcessDownstream *h;

		if (d->process_case != SKYWALKING__V3__EBPFPROCESS_DOWNSTREAM__PROCESS_HOST_PROCESS ||
		    !d->hostprocess || !d->hostprocess->entitymetadata || !*d->processid)
			continue;
		h = d->hostprocess;
		if (!agent_discovery_set_id(a->disc, h->pid, h->entitymetadata->servicename,
					    h->entitymetadata->instancename,
					    h->entitymetadata->processname, d->processid))
			ok++;
	}
	if (ok || !a->reported_once)
		sw_info("reported %zu process%s to OAP, %zu with an id", j->nr_procs,
			j->nr_procs == 1 ? "" : "es", ok);
	if (!a->reported_once) {
		a->reported_once = true;
		a->next_query = now_ms();	/* tasks name processes: ask once they have ids */
	}
}

static void proc_added(void *ctx, struct agent_proc *p)
{
	struct agentd *a = ctx;
	struct agent_cp_entity ent = { .layer = p->ent.layer, .service = p->ent.service,
				       .instance = p->ent.instance, .process = p->ent.process };

	if (a->cp)
		agent_cp_process_add(a->cp, p->pid, p->start_time, &ent);
	sw_info("found process %d: service '%s', instance '%s', process '%s'%s", p->pid,
		p->ent.service, p->ent.instance, p->ent.process,
		p->other_mntns ? " (in a container)" : "");
}

static void proc_gone(void *ctx, struct agent_proc *p)
{
	struct agentd *a = ctx;

	if (a->cp)
		agent_cp_process_remove(a->cp, p->pid, p->start_time);
	sw_info("process %d ('%s') is gone", p->pid, p->ent.process);
}

static void scan(struct agentd *a)
{
	static const struct agent_discovery_ops ops = { .added = proc_added, .gone = proc_gone };
	int n = agent_discovery_scan(a->disc, &ops, a);

	if (n < 0)
		sw_log_ratelimited(SW_LOG_ERROR, "process discovery: cannot read /proc: %s",
				   strerror(-n));
	else if (n > 0)
		report(a, false);	/* new processes get their ids at once */
}

static void heartbeat(struct agentd *a)
{
	struct job *j;
	uint32_t every = a->cfg.discovery.properties_report_period;

	a->beats++;
	if (a->full_report || (every && a->beats % every == 0)) {
		a->full_report = false;
		report(a, true);
		return;
	}
	if (a->keepalive_busy)
		return;
	j = procs_job(a, JOB_KEEPALIVE, true);
	if (!j)
		return;
	if (!j->nr_procs) {
		job_free(j);
		return;
	}
	a->keepalive_busy = true;
	uplink_submit(a->up, j);
}

/* ---- tasks ------------------------------------------------------------ */

static void task_run_free(struct task_run *r)
{
	size_t i;

	for (i = 0; i < r->nr_procs; i++) {
		agent_agg_free(r->procs[i].agg);
		free(r->procs[i].process_id);
	}
	free(r->procs);
	free(r);
}

static int task_start(void *ctx, struct agent_sched_entry *e)
{
	struct agentd *a = ctx;
	const struct agent_task *t = &e->task;
	uint32_t raw = t->target == AGENT_TARGET_ON_CPU ? a->cfg.agent.on_cpu_stack_bytes :
							    a->cfg.agent.off_cpu_stack_bytes;
	uint32_t ring = a->cfg.agent.unwind_ring_bytes;
	struct task_run *r;
	size_t i;
	int err;

	if (t->target == AGENT_TARGET_NETWORK) {
		a->tasks_refused++;
		sw_warn("task %s: NETWORK profiling is not supported yet: refused", t->id);
		return -EOPNOTSUPP;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->procs = calloc(t->nr_process_ids, sizeof(*r->procs)))) {
		free(r);
		return -ENOMEM;
	}
	for (i = 0; i < t->nr_process_ids; i++) {
		struct agent_proc *p = agent_discovery_by_process_id(a->disc, t->process_ids[i]);
		AGENT_AGG_OPTS(o, .task_id = t->id, .process_id = t->process_ids[i],
			       .target = t->target, .start_ms = e->actual_start_ms,
			       .period_ns = a->cfg.profiling.on_cpu_dump_period_ns,
			       .kernel = a->kernel, .raw_stack = raw,
			       .ring_size = raw ? ring : a->cfg.agent.ring_bytes);
		struct task_proc *tp = &r->procs[r->nr_procs];

		if (!p) {
			sw_warn("task %s: process %s is not one this agent found (or it exited)",
				t->id, t->process_ids[i]);
			continue;
		}
		err = agent_agg_new(a->pl, &o, &tp->agg);
		if (!err) {
			err = agent_agg_add_process(tp->agg, p->pid);
			err = err < 0 ? err : 0;
		}
		tp->process_id = strdup(t->process_ids[i]);
		if (err || !tp->process_id) {
			sw_warn("task %s: cannot profile process %d: %s", t->id, p->pid,
				strerror(err ? -err : ENOMEM));
			agent_agg_free(tp->agg);
			free(tp->process_id);
			memset(tp, 0, sizeof(*tp));
			continue;
		}
		tp->pid = p->pid;
		r->nr_procs++;
	}
	if (!r->nr_procs) {
		task_run_free(r);
		sw_warn("task %s (%s): none of its processes can be profiled here: not started",
			t->id, agent_target_name(t->target));
		return -ESRCH;
	}
	e->run = r;
	/* the first samples reach OAP a second after the start, not a whole flush interval later */
	if (a->next_flush > now_ms() + 1000)
		a->next_flush = now_ms() + 1000;
	sw_info("task %s: %s profiling of %zu process%s started, for %llu s", t->id,
		agent_target_name(t->target), r->nr_procs, r->nr_procs == 1 ? "" : "es",
		(unsigned long long)(t->duration_ms / 1000));
	return 0;
}

/* Take the deltas of a task's processes into one upload job. */
static void flush_task(struct agentd *a, struct agent_sched_entry *e, bool last)
{
	struct task_run *r = e->run;
	int64_t now = now_ms();
	struct job *j;
	size_t i;

	if (!r)
		return;
	j = job_new(JOB_UPLOAD);
	if (!j || !(j->batches = calloc(r->nr_procs, sizeof(*j->batches)))) {
		job_free(j);
		return;		/* the aggregates keep it for the next flush */
	}
	for (i = 0; i < r->nr_procs; i++) {
		struct task_proc *tp = &r->procs[i];
		struct agent_batch *b = NULL;

		if (!tp->agg)
			continue;
		if (!agent_agg_take(tp->agg, now, &b) && b) {
			j->batches[j->nr_batches++] = b;
			a->batches_taken++;
			a->samples_taken += b->samples;
		}
		if (last || agent_agg_process_gone(tp->agg, tp->pid)) {
			agent_agg_free(tp->agg);
			tp->agg = NULL;
		}
	}
	if (j->nr_batches)
		uplink_submit(a->up, j);
	else
		job_free(j);
}

static void task_stop(void *ctx, struct agent_sched_entry *e)
{
	struct agentd *a = ctx;

	if (!e->run)
		return;
	pl_drain(a->pl);
	flush_task(a, e, true);
	task_run_free(e->run);
	e->run = NULL;
	sw_info("task %s: finished", e->task.id);
}

static const struct agent_sched_ops sched_ops = { .start = task_start, .stop = task_stop };

static int flush_one(void *ctx, struct agent_sched_entry *e)
{
	if (e->state == AGENT_TASK_RUNNING)
		flush_task(ctx, e, false);
	return 0;
}

static int rescan_one(void *ctx, struct agent_sched_entry *e)
{
	struct task_run *r = e->run;
	size_t i;

	for (i = 0; r && e->state == AGENT_TASK_RUNNING && i < r->nr_procs; i++)
		if (r->procs[i].agg)
			agent_agg_add_process(r->procs[i].agg, r->procs[i].pid);
	return 0;
}

static void save_state(struct agentd *a)
{
	int err = agent_sched_save(a->sched, a->state_path);

	if (err)
		sw_log_ratelimited(SW_LOG_WARN, "cannot save the running tasks to %s: %s",
				   a->state_path, strerror(-err));
}

static void query_done(struct agentd *a, struct job *j)
{
	size_t i;

	a->query_busy = false;
	if (j->err || !j->cmds)
		return;
	for (i = 0; i < j->cmds->n_commands; i++) {
		const Skywalking__V3__Command *c = j->cmds->commands[i];
		struct agent_kv *kv;
		struct agent_task t;
		int64_t update = 0;
		char why[160];
		int err;

		if (strcmp(c->command, "EBPFProfilingTaskQuery")) {
			sw_debug("OAP command %s: not one the agent knows, ignored", c->command);
			continue;
		}
		kv = job_command_args(c);
		if (!kv)
			return;
		err = agent_task_parse(kv, c->n_args, &t, &update, why, sizeof(why));
		free(kv);
		if (err) {
			a->tasks_malformed++;
			agent_sched_saw_update(a->sched, update);
			sw_err("OAP sent a malformed profiling task (%s): skipped", why);
			continue;
		}
		switch (agent_sched_offer(a->sched, &t, now_ms())) {
		case AGENT_OFFER_NEW:
			sw_debug("task accepted");
			break;
		case AGENT_OFFER_DUPLICATE:
			break;
		case AGENT_OFFER_EXPIRED:
			sw_info("a profiling task OAP sent has already ended: not started");
			break;
		}
	}
}

static void query(struct agentd *a)
{
	struct job *j;

	if (a->query_busy || !a->cfg.profiling.active)
		return;
	j = job_new(JOB_QUERY);
	if (!j)
		return;
	j->latest_update = agent_sched_latest_update(a->sched);
	a->query_busy = true;
	uplink_submit(a->up, j);
}

/* ---- continuous profiling -------------------------------------------- */

struct svc_list {
	struct job *j;
	int err;
};

static void add_service(void *ctx, const char *service, const char *uuid)
{
	struct svc_list *l = ctx;
	struct job *j = l->j;
	char **s = realloc(j->services, (j->nr_services + 1) * sizeof(*s));
	char **u = s ? realloc(j->uuids, (j->nr_services + 1) * sizeof(*u)) : NULL;

	if (s)
		j->services = s;
	if (u)
		j->uuids = u;
	if (!s || !u || !(s[j->nr_services] = strdup(service))) {
		l->err = -ENOMEM;
		return;
	}
	if (!(u[j->nr_services] = strdup(uuid))) {
		free(s[j->nr_services]);
		l->err = -ENOMEM;
		return;
	}
	j->nr_services++;
}

static void query_policies(struct agentd *a)
{
	struct svc_list l = { .j = job_new(JOB_POLICIES) };

	if (a->policies_busy || !l.j)
		goto out;
	agent_cp_each_service(a->cp, add_service, &l);
	if (l.err || !l.j->nr_services)
		goto out;
	a->policies_busy = true;
	uplink_submit(a->up, l.j);
	return;
out:
	job_free(l.j);
}

static void policies_done(struct agentd *a, struct job *j)
{
	size_t i;

	a->policies_busy = false;
	for (i = 0; !j->err && j->cmds && i < j->cmds->n_commands; i++) {
		const Skywalking__V3__Command *c = j->cmds->commands[i];
		const char *json = oap_command_arg(c, "ServiceWithPolicyJSON");

		if (strcmp(c->command, "ContinuousProfilingPolicyQuery"))
			continue;
		if (!json)
			sw_err("OAP sent a continuous-profiling policy command without "
			       "ServiceWithPolicyJSON: skipped");
		else
			agent_cp_apply_policies(a->cp, json);	/* logs what it skips */
	}
}

static char *dup0(const char *s)
{
	return strdup(s ? s : "");
}

static void take_report(void *ctx, const struct agent_cp_report *r)
{
	struct agentd *a = ctx;
	struct job *j = job_new(JOB_CP_REPORT);
	size_t i;

	if (!j) {
		agent_cp_report_failed(a->cp, r->id, sw_now_ns());
		return;
	}
	j->cp.id = r->id;
	j->cp.pid = r->pid;
	j->cp.layer = dup0(r->ent.layer);
	j->cp.service = dup0(r->ent.service);
	j->cp.instance = dup0(r->ent.instance);
	j->cp.process = dup0(r->ent.process);
	j->cp.target = r->target;
	j->cp.duration_s = r->duration_s;
	for (i = 0; i < r->nr_causes && i < 8; i++) {
		j->cp.causes[i].type = r->causes[i].type;
		j->cp.causes[i].threshold = r->causes[i].threshold;
		j->cp.causes[i].current = r->causes[i].current;
	}
	j->cp.nr_causes = i;
	if (!j->cp.layer || !j->cp.service || !j->cp.instance || !j->cp.process) {
		job_free(j);
		agent_cp_report_failed(a->cp, r->id, sw_now_ns());
		return;
	}
	/* the core said why at info level; this is the report going out */
	sw_debug("continuous profiling: process %d ('%s') met its %s policy (%s %.2f >= %.2f): "
		 "reporting a task", r->pid, r->ent.process, agent_target_name(r->target),
		agent_cp_monitor_name(r->causes[0].type), r->causes[0].current,
		r->causes[0].threshold);
	uplink_submit(a->up, j);
}

/* OAP gave the trigger a task id: run it as any task, from now, for its duration. */
static void cp_report_done(struct agentd *a, struct job *j)
{
	const char *task_id = NULL;
	struct agent_proc *p;
	struct agent_task t = { 0 };
	size_t i;

	for (i = 0; !j->err && j->cmds && i < j->cmds->n_commands && !task_id; i++)
		if (!strcmp(j->cmds->commands[i]->command, "ContinuousProfilingReportTask"))
			task_id = oap_command_arg(j->cmds->commands[i], "TaskId");
	if (!task_id || !*task_id) {
		sw_warn("continuous profiling: OAP did not take the task of process %d (%s): "
			"retrying", j->cp.pid, j->err ? strerror(-j->err) : "no TaskId");
		agent_cp_report_failed(a->cp, j->cp.id, sw_now_ns());
		return;
	}
	if (agent_cp_report_ok(a->cp, j->cp.id, task_id, sw_now_ns()))
		return;		/* the process exited meanwhile */
	p = agent_discovery_by_pid(a->disc, j->cp.pid);
	t.id = strdup(task_id);
	t.serial = strdup("");
	t.process_ids = calloc(1, sizeof(*t.process_ids));
	if (!p || !p->process_id || !t.id || !t.serial || !t.process_ids ||
	    !(t.process_ids[0] = strdup(p->process_id))) {
		sw_warn("continuous profiling: task %s: process %d has no OAP id (yet): not run",
			task_id, j->cp.pid);
		agent_task_free(&t);
		return;
	}
	t.nr_process_ids = 1;
	t.target = j->cp.target;
	t.start_ms = now_ms();
	t.duration_ms = (uint64_t)j->cp.duration_s * 1000;
	agent_sched_offer(a->sched, &t, now_ms());
}

static void cp_tick(struct agentd *a, int64_t now)
{
	struct agent_cp_meters m = { 0 };
	struct job *j;
	size_t i;

	if (now >= a->next_policies) {
		query_policies(a);
		a->next_policies = now + ns_ms(a->cfg.profiling.check_interval_ns);
	}
	if (agent_cp_tick(a->cp, sw_now_ns(), now, &m) == 1 && m.n && (j = job_new(JOB_METERS))) {
		j->meters = calloc(m.n, sizeof(*j->meters));
		for (i = 0; j->meters && i < m.n; i++) {
			struct meter_desc *d = &j->meters[j->nr_meters];

			d->name = dup0(m.v[i].name);
			d->process_name = dup0(m.v[i].labels[0].value);
			d->layer = dup0(m.v[i].labels[1].value);
			d->service = dup0(m.v[i].service);
			d->instance = dup0(m.v[i].instance);
			d->value = m.v[i].value;
			d->timestamp_ms = m.v[i].timestamp_ms;
			j->nr_meters++;
		}
		uplink_submit(a->up, j);
	}
	agent_cp_meters_free(&m);
	agent_cp_take_reports(a->cp, sw_now_ns(), take_report, a);
}

/* ---- status ----------------------------------------------------------- */

struct counts {
	uint64_t waiting, running, procs_live;
};

static int count_task(void *ctx, struct agent_sched_entry *e)
{
	struct counts *c = ctx;
	struct task_run *r = e->run;
	size_t i;

	if (e->state == AGENT_TASK_WAITING)
		c->waiting++;
	if (e->state != AGENT_TASK_RUNNING || !r)
		return 0;
	c->running++;
	for (i = 0; i < r->nr_procs; i++)
		c->procs_live += !!r->procs[i].agg;
	return 0;
}

static void status_text(struct agentd *a, char *buf, size_t len)
{
	struct agent_sched_stats ss;
	struct agent_cp_stats cs;
	struct uplink_stats us;
	struct pl_queue_stats qs;
	struct counts c = { 0 };
	size_t i, ids = 0, n = agent_discovery_count(a->disc);
	FILE *f = fmemopen(buf, len, "w");

	if (!f)
		return;
	for (i = 0; i < n; i++)
		ids += !!agent_discovery_at(a->disc, i)->process_id;
	agent_sched_stats(a->sched, &ss);
	agent_sched_each(a->sched, count_task, &c);
	uplink_stats(a->up, &us);
	pl_queue_stats(a->pl, &qs);
	fprintf(f, "agent: %s, up %lld s, pid %d, config %s\n", a->agent_id,
		(long long)((now_ms() - a->started_ms) / 1000), getpid(), a->config_path);
	if (us.up)
		fprintf(f, "oap: %s connected\n", us.addr);
	else if (us.down_ms)
		fprintf(f, "oap: %s unreachable for %llu s, next try in %u ms\n", us.addr,
			(unsigned long long)(us.down_ms / 1000), us.retry_in_ms);
	else
		fprintf(f, "oap: %s connecting\n", us.addr);
	fprintf(f, "processes: %zu found, %zu with an OAP id\n", n, ids);
	fprintf(f, "tasks: %llu running, %llu waiting, %llu done, %llu failed, %llu expired, "
		"%llu duplicates, %llu malformed, %llu refused\n",
		(unsigned long long)c.running, (unsigned long long)c.waiting,
		(unsigned long long)ss.stopped, (unsigned long long)ss.failed,
		(unsigned long long)ss.expired, (unsigned long long)ss.duplicates,
		(unsigned long long)a->tasks_malformed, (unsigned long long)a->tasks_refused);
	agent_cp_stats(a->cp, &cs);
	fprintf(f, "continuous: %llu services with policies, %llu processes watched, %llu triggers, "
		"%llu tasks, %llu reports failed\n", (unsigned long long)cs.services,
		(unsigned long long)cs.processes, (unsigned long long)cs.triggers,
		(unsigned long long)cs.tasks, (unsigned long long)cs.reports_failed);
	if (a->tp) {
		struct tprof_stats ts;

		tprof_stats(a->tp, &ts);
		fprintf(f, "trace profiling: %zu instances, %zu reported | tasks: %zu running, "
			"%zu waiting, %llu finished, %llu rejected, %llu failed | segments %llu, "
			"%llu reported for programs without a tracer, %llu not | "
			"snapshots: %llu taken, %llu delivered, %llu waiting, %llu dropped\n",
			ts.instances, ts.registered, ts.tasks_running, ts.tasks_waiting,
			(unsigned long long)ts.tasks_finished, (unsigned long long)ts.tasks_rejected,
			(unsigned long long)ts.tasks_failed, (unsigned long long)ts.segments,
			(unsigned long long)ts.segments_reported, (unsigned long long)ts.segments_dropped,
			(unsigned long long)ts.snapshots, (unsigned long long)us.snapshots_sent,
			(unsigned long long)ts.snapshots_queued, (unsigned long long)ts.snapshots_dropped);
	}
	fprintf(f, "samples: %llu taken, %llu delivered, %llu spooled, %llu dropped\n",
		(unsigned long long)a->samples_taken, (unsigned long long)us.samples_sent,
		(unsigned long long)us.samples_spooled, (unsigned long long)us.samples_dropped);
	fprintf(f, "rings: %llu records, %llu bytes read\n",
		(unsigned long long)qs.read_records, (unsigned long long)qs.read_bytes);
	fprintf(f, "dropped: %llu spool-full, %llu spool-error, %llu corrupt, %llu exit\n",
		(unsigned long long)us.dropped_spool_full,
		(unsigned long long)us.dropped_spool_error, (unsigned long long)us.dropped_corrupt,
		(unsigned long long)us.dropped_exit);
	fprintf(f, "spool: %llu batches, %llu bytes, %llu samples waiting\n",
		(unsigned long long)us.spool_entries, (unsigned long long)us.spool_bytes,
		(unsigned long long)us.spool_samples);
	fprintf(f, "uploads: %llu streams, %llu batches; %llu calls, %llu reconnects\n",
		(unsigned long long)us.uploads, (unsigned long long)us.batches_sent,
		(unsigned long long)us.calls, (unsigned long long)us.reconnects);
	fprintf(f, "oap errors:");
	for (i = 0; i < UPLINK_ERR_NR; i++)
		fprintf(f, " %s %llu", uplink_err_name(i), (unsigned long long)us.errors[i]);
	fprintf(f, "\n");
	fclose(f);
}

/* Every minute: the counters in one line. */
static void log_stats(struct agentd *a)
{
	char buf[2048], *p;

	status_text(a, buf, sizeof(buf));
	for (p = buf; *p; p++)
		if (*p == '\n')
			*p = p[1] ? ';' : 0;
	sw_info("%s", buf);
}

/* ---- configuration ---------------------------------------------------- */

static bool same_backend(const struct agent_config *x, const struct agent_config *y)
{
	size_t i;

#define SAME_STR(f) (!strcmp(x->backend.f ? x->backend.f : "", y->backend.f ? y->backend.f : ""))
	if (x->backend.nr_addrs != y->backend.nr_addrs || x->backend.enable_tls != y->backend.enable_tls ||
	    x->backend.insecure_skip_verify != y->backend.insecure_skip_verify ||
	    !SAME_STR(authentication) || !SAME_STR(ca_pem_path) || !SAME_STR(client_pem_path) ||
	    !SAME_STR(client_key_path))
		return false;
#undef SAME_STR
	for (i = 0; i < x->backend.nr_addrs; i++)
		if (strcmp(x->backend.addrs[i], y->backend.addrs[i]))
			return false;
	return true;
}

static void reload(struct agentd *a)
{
	struct agent_config cfg;
	int err;

	reload_sig = 0;
	err = agent_config_load(a->config_path, &cfg);
	if (err) {
		sw_err("SIGHUP: %s has %u error%s: keeping the running configuration",
		       a->config_path, cfg.nr_errors, cfg.nr_errors == 1 ? "" : "s");
		agent_config_free(&cfg);
		return;
	}
	if (!same_backend(&a->cfg, &cfg))
		uplink_reconfigure(a->up, &cfg);
	if (cfg.trace.nr_instances != a->cfg.trace.nr_instances ||
	    cfg.trace.active != a->cfg.trace.active)
		sw_warn("SIGHUP: trace_profiling.active and .instances take effect at the next start");
	if (strcmp(cfg.agent.spool_dir, a->cfg.agent.spool_dir) ||
	    strcmp(cfg.agent.status_socket, a->cfg.agent.status_socket) ||
	    strcmp(cfg.agent.device, a->cfg.agent.device))
		sw_warn("SIGHUP: agent.spool_dir, agent.status_socket and agent.device take "
			"effect at the next start");
	agent_config_free(&a->cfg);
	a->cfg = cfg;
	agent_discovery_reconfigure(a->disc, &a->cfg, &a->host);
	agent_cp_reconfigure(a->cp, &a->cfg);
	if (!a->log_level_set)
		sw_log_set_level(cfg.log_level);
	/* new periods count from now */
	a->next_scan = a->next_beat = now_ms();
	sw_info("SIGHUP: %s reloaded; running tasks go on", a->config_path);
}

/* ---- the loop --------------------------------------------------------- */

static void finish_jobs(struct agentd *a)
{
	struct job *j;

	while ((j = uplink_done(a->up))) {
		if (tprof_job_done(a->tp, j))
			continue;	/* a trace-profiling call: freed */
		switch (j->kind) {
		case JOB_REPORT:
			report_done(a, j);
			break;
		case JOB_KEEPALIVE:
			a->keepalive_busy = false;
			break;
		case JOB_QUERY:
			query_done(a, j);
			break;
		case JOB_POLICIES:
			policies_done(a, j);
			break;
		case JOB_CP_REPORT:
			cp_report_done(a, j);
			break;
		default:
			break;
		}
		job_free(j);
	}
}

static int64_t min64(int64_t x, int64_t y)
{
	return x < y ? x : y;
}

static void tick(struct agentd *a)
{
	struct uplink_stats us;
	int64_t now = now_ms();
	struct agent_sched_stats before, after;

	finish_jobs(a);
	uplink_stats(a->up, &us);
	if (us.reconnects != a->reconnects_seen) {
		/* OAP may have restarted: it learns every process again */
		a->reconnects_seen = us.reconnects;
		a->full_report = true;
		a->next_beat = now;
		tprof_reconnected(a->tp);
	}
	if (a->cfg.discovery.vm_active && now >= a->next_scan) {
		scan(a);
		a->next_scan = now + ns_ms(a->cfg.discovery.vm_period_ns);
	}
	if (now >= a->next_beat) {
		if (a->reported_once)
			heartbeat(a);
		else
			report(a, true);
		a->next_beat = now + ns_ms(a->cfg.discovery.heartbeat_period_ns);
	}
	if (a->kernel && !a->preloaded) {
		/* kallsyms takes seconds on a small machine: after the first report */
		a->preloaded = true;
		pl_preload_kernel(a->pl);
	}
	if (a->reported_once && now >= a->next_query) {
		query(a);
		a->next_query = now + ns_ms(a->cfg.profiling.check_interval_ns);
	}
	if (a->reported_once && a->cfg.profiling.active)
		cp_tick(a, now);
	tprof_tick(a->tp, now);
	agent_sched_stats(a->sched, &before);
	agent_sched_tick(a->sched, now, &sched_ops, a);
	agent_sched_stats(a->sched, &after);
	if (after.started != before.started || after.stopped != before.stopped)
		save_state(a);
	if (now >= a->next_flush) {
		agent_sched_each(a->sched, flush_one, a);
		a->next_flush = now + ns_ms(a->cfg.profiling.flush_interval_ns);
	}
	if (now >= a->next_rescan) {
		agent_sched_each(a->sched, rescan_one, a);
		a->next_rescan = now + 1000;
	}
	if (a->status && now >= a->next_status) {
		char buf[2048];

		status_text(a, buf, sizeof(buf));
		status_srv_set(a->status, buf);
		a->next_status = now + 1000;
	}
	if (now >= a->next_stats) {
		if (a->next_stats)
			log_stats(a);
		a->next_stats = now + 60000;
	}
}

static int64_t wait_ms(struct agentd *a)
{
	int64_t now = now_ms(), w = 100, next = agent_sched_next_ms(a->sched, now);

	if (next >= 0)
		w = min64(w, next);
	w = min64(w, a->next_flush - now);
	w = min64(w, tprof_wait_ms(a->tp, now));
	if (a->cp && a->reported_once) {
		uint64_t mono = sw_now_ns(), cp_next = agent_cp_next_ns(a->cp);

		/* 0: not started, the next tick starts it */
		if (cp_next)
			w = min64(w, cp_next > mono ? (int64_t)((cp_next - mono) / 1000000) : 0);
	}
	return w < 0 ? 0 : w;
}

static int setup(struct agentd *a)
{
	PL_OPTS(po, .device = a->cfg.agent.device,
		.sym_flags = a->cfg.trace.line_numbers ? SYM_OPT_LINES : 0);
	struct swprof *sw;
	int err;

	if (read_uuid(a->agent_id, sizeof(a->agent_id))) {
		sw_err("cannot read /proc/sys/kernel/random/uuid for the agent's id");
		return -ENOENT;
	}
	err = agent_host_facts_read(a->agent_id, &a->host);
	if (err) {
		sw_err("cannot read this host's name and addresses: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < a->host.nr_ifaces && !a->host_ip; i++)
		if (a->host.ifaces[i].ipv4 && strcmp(a->host.ifaces[i].ipv4, "127.0.0.1"))
			a->host_ip = strdup(a->host.ifaces[i].ipv4);
	err = pl_new(&po, &a->pl);
	if (err)
		return err;	/* pl_new() said why */
	sw = pl_device(a->pl);
	a->kernel = sw && (swprof_version(sw)->caps & SWPROF_CAP_KSTACK);
	AGENT_DISCOVERY_OPTS(dopts);
	err = agent_cp_new(&a->cfg, NULL, &a->cp);
	if (!err)
		err = agent_discovery_new(&a->cfg, &a->host, &dopts, &a->disc);
	if (!err)
		err = agent_sched_new(&a->sched);
	if (err)
		return err;
	if (asprintf(&a->state_path, "%s/tasks.state", a->cfg.agent.spool_dir) < 0)
		return -ENOMEM;
	err = uplink_new(&a->cfg, a->agent_id, &a->up);
	if (err)
		return err;
	err = tprof_new(&a->cfg, a->pl, a->up, a->host.hostname, a->host_ip, &a->tp);
	if (err)
		return err;
	err = agent_sched_load(a->sched, a->state_path);
	if (err)
		sw_warn("cannot read the tasks of the previous run from %s: %s", a->state_path,
			strerror(-err));
	if (*a->cfg.agent.status_socket)
		status_srv_new(a->cfg.agent.status_socket, &a->status);	/* said why not */
	return 0;
}

/* The agent stops: each running task's last delta goes to the uplink. */
static int final_flush(void *ctx, struct agent_sched_entry *e)
{
	if (e->state == AGENT_TASK_RUNNING && e->run) {
		flush_task(ctx, e, true);
		task_run_free(e->run);
		e->run = NULL;
	}
	return 0;
}

static void teardown(struct agentd *a)
{
	if (a->sched && a->up) {
		/* saved first: the running tasks resume if the agent is back within their window */
		save_state(a);
		pl_drain(a->pl);
		agent_sched_each(a->sched, final_flush, a);
	}
	tprof_free(a->tp);	/* its last snapshots go to the uplink */
	uplink_free(a->up, 5000);	/* what OAP does not take in 5 s is spooled */
	status_srv_free(a->status);
	agent_sched_free(a->sched);
	agent_discovery_free(a->disc);
	agent_cp_free(a->cp);
	pl_free(a->pl);
	agent_host_facts_free(&a->host);
	free(a->host_ip);
	free(a->state_path);
	agent_config_free(&a->cfg);
}

int agentd_run(const char *config_path, bool log_level_set, enum sw_log_level log_level)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct agentd a = { 0 };
	int err;

	sw_log_set_fn(log_line, NULL);
	a.config_path = config_path;
	a.log_level_set = log_level_set;
	err = agent_config_load(config_path, &a.cfg);
	if (err) {
		agent_config_free(&a.cfg);
		return 1;
	}
	sw_log_set_level(log_level_set ? log_level : a.cfg.log_level);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	a.started_ms = now_ms();
	err = setup(&a);
	if (err) {
		teardown(&a);
		return 1;
	}
	sw_info("agent %s started: OAP %s, %zu finder%s, spool %s", a.agent_id,
		a.cfg.backend.addrs[0], a.cfg.discovery.nr_finders,
		a.cfg.discovery.nr_finders == 1 ? "" : "s", a.cfg.agent.spool_dir);
	while (!stop_sig) {
		if (reload_sig)
			reload(&a);
		tick(&a);
		pl_poll(a.pl, (int)wait_ms(&a));
	}
	sw_info("%s: flushing and stopping", strsignal(stop_sig));
	log_stats(&a);
	teardown(&a);
	return 0;
}
