// SPDX-License-Identifier: GPL-2.0-only
/* Trace profiling in the daemon (tprof.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_trace.h"
#include "sw_log.h"
#include "sw_time.h"
#include "swprof.h"
#include "tprof.h"

#define QUEUE_MAX	20000	/* snapshots waiting for OAP at most (oldest dropped) */
#define BATCH_MAX	2000	/* snapshots per collectSnapshot stream */
#define SIG_MAX		512	/* bytes of one code signature */

struct tp_inst {
	struct agent_trace_instance cfg;	/* a copy: a SIGHUP frees the configuration's */
	struct agent_trace_queue *q;
	bool registered;		/* reportInstanceProperties went through */
	bool busy_props, busy_query;	/* a call of that kind is with the uplink */
	int64_t next_ping, next_query;
};

/* A task of the module's session: its id there, the OAP task it is. */
struct tp_task {
	uint32_t mod_id;
	size_t inst;
	char *task_id;
	char *endpoint;
	int64_t forget_ms;		/* 0 while running; then kept a while for late samples */
};

/* A segment the pipeline reads for us. */
struct tp_seg {
	uint64_t target;		/* pl_stack.target */
	char segment_id[SWPROF_SEGMENT_ID_MAX];
	uint32_t task;			/* the module's task id */
	uint64_t begin_realtime_ns, begin_ns;
	bool own;			/* an id libswprof made: no tracer reports it */
	bool sampled;			/* a snapshot of it was taken (OAP knows it) */
	bool ended;
};

#define SEGS_MAX	1000	/* segment reports waiting for OAP at most */

struct tprof {
	const struct agent_config *cfg;
	struct pl *pl;
	struct uplink *up;
	char *host_name, *host_ip;
	struct tp_inst *insts;
	size_t nr_insts;
	struct swprof_group *session;
	struct pl_sink *sink;
	struct tp_task *tasks;
	size_t nr_tasks, cap_tasks;
	struct tp_seg *segs;
	size_t nr_segs, cap_segs;
	struct tp_snapshot *queue;	/* FIFO: [head, head + nr) of cap */
	size_t head, nr_queued, cap_queue;
	bool sending;			/* a snapshot job is with the uplink */
	struct tp_segment *reports;	/* segments of programs without a tracer, to send */
	size_t nr_reports;
	bool sending_reports;
	int64_t next_flush;
	int64_t next_hold;		/* the next look for integrators */
	struct tprof_stats st;
};

/* ---- snapshots -------------------------------------------------------- */

static struct tp_snapshot *queue_at(struct tprof *tp, size_t i)
{
	return &tp->queue[(tp->head + i) % tp->cap_queue];
}

/* Append @s (taken); the oldest goes when the queue is full. */
static void queue_push(struct tprof *tp, struct tp_snapshot *s)
{
	if (!tp->cap_queue) {
		tp->queue = calloc(QUEUE_MAX, sizeof(*tp->queue));
		if (!tp->queue) {
			tp_snapshot_free(s);
			tp->st.snapshots_dropped++;
			return;
		}
		tp->cap_queue = QUEUE_MAX;
	}
	if (tp->nr_queued == tp->cap_queue) {
		tp_snapshot_free(queue_at(tp, 0));
		tp->head = (tp->head + 1) % tp->cap_queue;
		tp->nr_queued--;
		tp->st.snapshots_dropped++;
		sw_log_ratelimited(SW_LOG_WARN, "trace profiling: %d thread snapshots wait for OAP: "
				   "the oldest are dropped", QUEUE_MAX);
	}
	*queue_at(tp, tp->nr_queued++) = *s;
}

/* Put the unsent snapshots of a failed job back in front, in order. */
static void queue_unshift(struct tprof *tp, struct tp_snapshot *s, size_t n)
{
	while (n--) {
		if (tp->nr_queued == tp->cap_queue) {
			/* full of newer ones: the older ones go */
			tp_snapshot_free(&s[n]);
			tp->st.snapshots_dropped++;
			continue;
		}
		tp->head = (tp->head + tp->cap_queue - 1) % tp->cap_queue;
		tp->queue[tp->head] = s[n];
		tp->nr_queued++;
	}
}

static void send_batch(struct tprof *tp)
{
	struct job *j;
	size_t n = tp->nr_queued < BATCH_MAX ? tp->nr_queued : BATCH_MAX, i;

	if (!n || tp->sending)
		return;
	j = job_new(JOB_TP_SNAPSHOTS);
	if (!j || !(j->tp.snaps = calloc(n, sizeof(*j->tp.snaps)))) {
		job_free(j);
		return;
	}
	for (i = 0; i < n; i++)
		j->tp.snaps[i] = *queue_at(tp, i);
	j->tp.nr_snaps = n;
	tp->head = (tp->head + n) % tp->cap_queue;
	tp->nr_queued -= n;
	tp->sending = true;
	uplink_submit(tp->up, j);
}

/* One frame's code signature: "function", "function:line", or the module when unresolved. */
static char *signature(const struct tprof *tp, const struct sym_frame *f)
{
	char buf[SIG_MAX];

	if (f->status != SYM_OK || !f->name || !strcmp(f->name, "[MISSING]"))
		snprintf(buf, sizeof(buf), "[MISSING] %s", f->module_name ? f->module_name : "[unknown]");
	else if (tp->cfg->trace.line_numbers && f->line)
		snprintf(buf, sizeof(buf), "%s:%u", f->name, f->line);
	else
		snprintf(buf, sizeof(buf), "%s", f->name);
	return strdup(buf);
}

static struct tp_seg *seg_find(struct tprof *tp, uint64_t target)
{
	size_t i;

	for (i = 0; i < tp->nr_segs; i++)
		if (tp->segs[i].target == target)
			return &tp->segs[i];
	return NULL;
}

static const struct tp_task *task_find(const struct tprof *tp, uint32_t mod_id)
{
	size_t i;

	for (i = 0; i < tp->nr_tasks; i++)
		if (tp->tasks[i].mod_id == mod_id)
			return &tp->tasks[i];
	return NULL;
}

/* Add @f's frames to @sigs root first (the real function, then what is inlined into it). */
static int add_frames(const struct tprof *tp, const struct pl_frames *f, __u64 addr,
		      char **sigs, size_t *n)
{
	unsigned int k;
	char buf[64];

	if (!f) {
		snprintf(buf, sizeof(buf), "[MISSING] 0x%llx", (unsigned long long)addr);
		return (sigs[(*n)++] = strdup(buf)) ? 0 : -ENOMEM;
	}
	for (k = f->n; k-- > 0;)
		if (!(sigs[(*n)++] = signature(tp, &f->f[k])))
			return -ENOMEM;
	return 0;
}

static void on_sample(void *ctx, const struct pl_stack *st)
{
	struct tprof *tp = ctx;
	const struct swprof_sample *s = st->s;
	struct tp_seg *seg = seg_find(tp, st->target);
	const struct tp_task *task = task_find(tp, s->trace_task);
	struct tp_snapshot sn = { 0 };
	size_t cap = 0, i, keep;
	const __u64 *ips = s->data;

	if (!seg || !task) {
		tp->st.snapshots_dropped++;
		return;
	}
	for (i = 0; i < st->nr_kernel + st->nr_user; i++)
		cap += st->frames[i] ? st->frames[i]->n : 1;
	sn.sigs = calloc(cap + 1, sizeof(*sn.sigs));
	sn.task_id = strdup(task->task_id);
	sn.segment_id = strdup(seg->segment_id);
	if (!sn.sigs || !sn.task_id || !sn.segment_id)
		goto nomem;
	/* root first: the outermost user frame ... the user leaf, then the kernel's */
	for (i = st->nr_user; i-- > 0;)
		if (add_frames(tp, st->frames[st->nr_kernel + i], ips[st->nr_kernel + i], sn.sigs,
			       &sn.nr_sigs))
			goto nomem;
	if (tp->cfg->trace.kernel_frames)
		for (i = st->nr_kernel; i-- > 0;)
			if (add_frames(tp, st->frames[i], ips[i], sn.sigs, &sn.nr_sigs))
				goto nomem;
	/* too deep: keep the leaf side, as the Java agent does */
	keep = tp->cfg->trace.max_depth;
	if (sn.nr_sigs > keep) {
		for (i = 0; i < sn.nr_sigs - keep; i++)
			free(sn.sigs[i]);
		memmove(sn.sigs, sn.sigs + (sn.nr_sigs - keep), keep * sizeof(*sn.sigs));
		sn.nr_sigs = keep;
	}
	/* record times are CLOCK_MONOTONIC: the segment's begin pairs them with epoch time */
	sn.time_ms = (int64_t)((seg->begin_realtime_ns + (s->hdr.time_ns - seg->begin_ns)) / 1000000);
	sn.sequence = (int32_t)s->trace_seq;
	seg->sampled = true;
	tp->st.snapshots++;
	queue_push(tp, &sn);
	return;
nomem:
	tp_snapshot_free(&sn);
	tp->st.snapshots_dropped++;
}

/* A program without a tracer: its segment goes to OAP from here (tp_send_segments()). */
static void report_segment(struct tprof *tp, const struct tp_seg *seg, uint64_t end_ns)
{
	const struct tp_task *task = task_find(tp, seg->task);
	const struct tp_inst *in;
	struct tp_segment *r;

	if (!task)
		return;
	if (tp->nr_reports == SEGS_MAX) {
		tp->st.segments_dropped++;
		return;
	}
	if (!tp->reports && !(tp->reports = calloc(SEGS_MAX, sizeof(*tp->reports)))) {
		tp->st.segments_dropped++;
		return;
	}
	in = &tp->insts[task->inst];
	r = &tp->reports[tp->nr_reports];
	*r = (struct tp_segment){
		.service = strdup(in->cfg.service), .instance = strdup(in->cfg.instance),
		.segment_id = strdup(seg->segment_id), .endpoint = strdup(task->endpoint),
		.start_ms = (int64_t)(seg->begin_realtime_ns / 1000000),
		.end_ms = (int64_t)((seg->begin_realtime_ns + (end_ns - seg->begin_ns)) / 1000000),
	};
	if (!r->service || !r->instance || !r->segment_id || !r->endpoint) {
		tp_segment_free(r);
		tp->st.segments_dropped++;
		return;
	}
	tp->nr_reports++;
}

static void send_reports(struct tprof *tp)
{
	struct job *j;

	if (!tp->nr_reports || tp->sending_reports)
		return;
	j = job_new(JOB_TP_SEGMENTS);
	if (!j)
		return;
	j->tp.segs = tp->reports;
	j->tp.nr_segs = tp->nr_reports;
	tp->reports = NULL;
	tp->nr_reports = 0;
	tp->sending_reports = true;
	uplink_submit(tp->up, j);
}

static void on_record(void *ctx, uint64_t target, pid_t pid, pid_t tid, const struct swprof_rec *rec)
{
	const struct swprof_trace_rec *begin = swprof_rec_trace_begin(rec);
	struct tprof *tp = ctx;
	struct tp_seg *seg;

	if (begin) {
		if (tp->nr_segs == tp->cap_segs) {
			size_t cap = tp->cap_segs ? 2 * tp->cap_segs : 16;
			struct tp_seg *n = realloc(tp->segs, cap * sizeof(*n));

			if (!n)
				return;
			tp->segs = n;
			tp->cap_segs = cap;
		}
		seg = &tp->segs[tp->nr_segs++];
		memset(seg, 0, sizeof(*seg));
		seg->target = target;
		snprintf(seg->segment_id, sizeof(seg->segment_id), "%s", begin->segment_id);
		seg->task = begin->task;
		seg->own = !strncmp(seg->segment_id, SWPROF_TRACE_OWN_SEGMENT,
				    strlen(SWPROF_TRACE_OWN_SEGMENT));
		seg->begin_realtime_ns = begin->begin_realtime_ns;
		seg->begin_ns = begin->begin_ns;
		sw_debug("trace profiling: segment %s of thread %d, task %u", seg->segment_id, (int)tid,
			 begin->task);
	} else if (swprof_rec_trace_end(rec) && (seg = seg_find(tp, target))) {
		seg->ended = true;
		/* ended at the threshold (the task's maximum reached): nothing to list */
		if (seg->own && seg->sampled)
			report_segment(tp, seg, rec->time_ns);
	}
}

/* The segments the session admitted: to the pipeline, which reads and symbolizes them. */
static void accept_segments(struct tprof *tp)
{
	struct swprof_target *t;
	int err;

	while (!(err = swprof_group_accept(tp->session, &t))) {
		const struct swprof_ring_header *h = swprof_target_header(t);

		err = pl_adopt_target(tp->pl, tp->sink, t, h->pid, h->tid);
		if (err)
			sw_log_ratelimited(SW_LOG_WARN, "trace profiling: a segment of thread %u: %s",
					   h->tid, strerror(-err));
		else
			tp->st.segments++;
	}
	if (err != -EAGAIN)
		sw_log_ratelimited(SW_LOG_WARN, "trace profiling: accepting segments: %s",
				   swprof_strerror(err));
}

/* Forget segments that ended (the pipeline read their TRACE_END) and tasks long done. */
static void reap(struct tprof *tp, int64_t now)
{
	size_t i, k;

	for (i = k = 0; i < tp->nr_segs; i++)
		if (!tp->segs[i].ended)
			tp->segs[k++] = tp->segs[i];
	tp->nr_segs = k;
	for (i = k = 0; i < tp->nr_tasks; i++) {
		if (tp->tasks[i].forget_ms && now >= tp->tasks[i].forget_ms) {
			free(tp->tasks[i].task_id);
			free(tp->tasks[i].endpoint);
			continue;
		}
		tp->tasks[k++] = tp->tasks[i];
	}
	tp->nr_tasks = k;
}

/*
 * The processes that have the device open: integrators (libswprof opens it
 * at a program's first swprof_trace_begin(), task or not).  Their unwind
 * tables are kept in the module, so that a segment is walked completely
 * from its first sample: a task's first segments come within a second of
 * its start, before tables made at their arrival could be there.
 */
static void hold_integrators(struct tprof *tp)
{
	pid_t *pids = NULL, self = getpid();
	size_t n = 0, cap = 0;
	struct stat dev, st;
	struct dirent *d, *e;
	DIR *proc, *fds;
	char path[64];

	if (stat(tp->cfg->agent.device, &dev) || !S_ISCHR(dev.st_mode))
		return;
	proc = opendir("/proc");
	if (!proc)
		return;
	while ((d = readdir(proc))) {
		pid_t pid = (pid_t)atoi(d->d_name);
		bool found = false;

		if (pid <= 0 || pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!found && (e = readdir(fds)))
			found = e->d_name[0] != '.' && !fstatat(dirfd(fds), e->d_name, &st, 0) &&
				S_ISCHR(st.st_mode) && st.st_rdev == dev.st_rdev;
		closedir(fds);
		if (!found)
			continue;
		if (n == cap) {
			pid_t *np = realloc(pids, (cap = cap ? 2 * cap : 16) * sizeof(*pids));

			if (!np)
				break;
			pids = np;
		}
		pids[n++] = pid;
	}
	closedir(proc);
	pl_hold_tables(tp->pl, pids, n);
	free(pids);
}

/* ---- tasks ------------------------------------------------------------ */

struct tp_ctx {
	struct tprof *tp;
	size_t inst;
};

static int task_start(void *ctx, struct agent_trace_entry *e)
{
	struct tp_ctx *c = ctx;
	struct tprof *tp = c->tp;
	const struct agent_trace_task *t = &e->task;
	SWPROF_OPTS(swprof_trace_task_opts, o,
		.endpoint = t->endpoint,
		.start_ns = (uint64_t)t->start_ms * 1000000,
		.end_ns = (uint64_t)t->end_ms * 1000000,
		.min_duration_ns = (uint64_t)t->min_duration_ms * 1000000,
		.dump_period_ns = (uint64_t)t->dump_period_ms * 1000000,
		.max_sampling_count = t->max_sampling,
		.max_parallel = tp->cfg->trace.max_parallel,
	);
	struct tp_task *slot;
	uint32_t id;
	int err;

	if (tp->nr_tasks == tp->cap_tasks) {
		size_t cap = tp->cap_tasks ? 2 * tp->cap_tasks : 8;
		struct tp_task *n = realloc(tp->tasks, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		tp->tasks = n;
		tp->cap_tasks = cap;
	}
	hold_integrators(tp);	/* their tables before the first segment */
	err = swprof_trace_task_add(tp->session, &o, &id);
	if (err) {
		sw_err("trace task %s (%s): the module refused it: %s", t->id, t->endpoint,
		       swprof_strerror(err));
		return err;
	}
	slot = &tp->tasks[tp->nr_tasks];
	*slot = (struct tp_task){ .mod_id = id, .inst = c->inst, .task_id = strdup(t->id),
				  .endpoint = strdup(t->endpoint) };
	if (!slot->task_id || !slot->endpoint) {
		free(slot->task_id);
		free(slot->endpoint);
		swprof_trace_task_end(tp->session, id);
		return -ENOMEM;
	}
	tp->nr_tasks++;
	e->run = slot->task_id;		/* identifies the slot: mod ids are not kept in e */
	sw_info("trace task %s started: endpoint '%s' of %s / %s until %" PRId64
		", segments slower than %u ms sampled every %u ms, at most %u", t->id, t->endpoint,
		tp->insts[c->inst].cfg.service, tp->insts[c->inst].cfg.instance, t->end_ms,
		t->min_duration_ms, t->dump_period_ms, t->max_sampling);
	return 0;
}

static void task_stop(void *ctx, struct agent_trace_entry *e)
{
	struct tp_ctx *c = ctx;
	struct tprof *tp = c->tp;
	struct swprof_trace_task_stats st;
	size_t i;

	for (i = 0; i < tp->nr_tasks; i++) {
		struct tp_task *t = &tp->tasks[i];

		if (t->task_id != e->run)
			continue;
		if (!swprof_trace_task_stats(tp->session, t->mod_id, &st))
			sw_info("trace task %s ended: %u segments sampled; refused: %llu at the "
				"maximum sampling count, %llu at the maximum in parallel", e->task.id,
				st.admitted, (unsigned long long)st.refused_count,
				(unsigned long long)st.refused_parallel);
		swprof_trace_task_end(tp->session, t->mod_id);	/* its segments get TRACE_END */
		t->forget_ms = e->task.end_ms + 60000;		/* late samples still find it */
	}
}

static void task_finished(void *ctx, struct agent_trace_entry *e)
{
	struct tp_ctx *c = ctx;
	struct tp_inst *in = &c->tp->insts[c->inst];
	struct job *j = job_new(JOB_TP_FINISH);

	if (!j)
		return;
	j->tp.inst = c->inst;
	j->tp.service = strdup(in->cfg.service);
	j->tp.instance = strdup(in->cfg.instance);
	j->tp.layer = strdup(in->cfg.layer);
	j->tp.task_id = strdup(e->task.id);
	if (!j->tp.service || !j->tp.instance || !j->tp.layer || !j->tp.task_id) {
		job_free(j);
		return;
	}
	/* the samples of its last dump period come first */
	send_batch(c->tp);
	uplink_submit(c->tp->up, j);
}

static const struct agent_trace_ops trace_ops = {
	.start = task_start, .stop = task_stop, .finished = task_finished,
};

/* ---- instances -------------------------------------------------------- */

static struct job *inst_job(struct tprof *tp, size_t i, enum job_kind kind)
{
	const struct agent_trace_instance *c = &tp->insts[i].cfg;
	struct job *j = job_new(kind);

	if (!j)
		return NULL;
	j->tp.inst = i;
	j->tp.service = strdup(c->service);
	j->tp.instance = strdup(c->instance);
	j->tp.layer = strdup(c->layer);
	if (!j->tp.service || !j->tp.instance || !j->tp.layer) {
		job_free(j);
		return NULL;
	}
	return j;
}

static void inst_tick(struct tprof *tp, size_t i, int64_t now)
{
	struct tp_inst *in = &tp->insts[i];
	struct tp_ctx ctx = { tp, i };
	struct job *j;

	if (now >= in->next_ping && !in->busy_props) {
		j = inst_job(tp, i, in->registered ? JOB_TP_PING : JOB_TP_INSTANCE);
		if (j && !in->registered) {
			j->tp.host_name = tp->host_name ? strdup(tp->host_name) : NULL;
			j->tp.host_ip = tp->host_ip ? strdup(tp->host_ip) : NULL;
		}
		if (j) {
			in->busy_props = true;
			uplink_submit(tp->up, j);
		}
		in->next_ping = now + (int64_t)(tp->cfg->trace.keep_alive_ns / 1000000);
	}
	if (now >= in->next_query && !in->busy_query) {
		j = inst_job(tp, i, JOB_TP_QUERY);
		if (j) {
			j->tp.last_command = agent_trace_last_command(in->q);
			in->busy_query = true;
			uplink_submit(tp->up, j);
		}
		in->next_query = now + (int64_t)(tp->cfg->trace.check_interval_ns / 1000000);
	}
	agent_trace_tick(in->q, now, &trace_ops, &ctx);
}

static void take_tasks(struct tprof *tp, struct job *j)
{
	struct tp_inst *in = &tp->insts[j->tp.inst];
	int64_t now = (int64_t)(sw_epoch_ns() / 1000000);
	size_t i;

	for (i = 0; j->cmds && i < j->cmds->n_commands; i++) {
		const Skywalking__V3__Command *c = j->cmds->commands[i];
		struct agent_kv *kv;
		char why[256] = "";
		int ret;

		if (!c->command || strcmp(c->command, "ProfileTaskQuery"))
			continue;	/* OAP may add commands: unknown ones are ignored */
		kv = job_command_args(c);
		if (!kv)
			return;
		ret = agent_trace_offer(in->q, kv, c->n_args, now, why, sizeof(why));
		if (ret == -EINVAL)
			sw_warn("trace task for %s / %s rejected: %s", in->cfg.service,
				in->cfg.instance, why);
		else if (ret == AGENT_TRACE_QUEUED)
			sw_info("trace task %s queued for %s / %s", oap_command_arg(c, "TaskId"),
				in->cfg.service, in->cfg.instance);
		free(kv);
	}
}

bool tprof_job_done(struct tprof *tp, struct job *j)
{
	struct tp_inst *in;

	switch (j->kind) {
	case JOB_TP_INSTANCE:
	case JOB_TP_PING:
	case JOB_TP_QUERY:
	case JOB_TP_FINISH:
	case JOB_TP_SNAPSHOTS:
	case JOB_TP_SEGMENTS:
		break;
	default:
		return false;
	}
	if (!tp) {
		job_free(j);
		return true;
	}
	in = j->tp.inst < tp->nr_insts ? &tp->insts[j->tp.inst] : NULL;
	switch (j->kind) {
	case JOB_TP_INSTANCE:
		in->busy_props = false;
		if (!j->err && !in->registered)
			sw_info("service instance %s / %s reported to OAP (layer %s)", in->cfg.service,
				in->cfg.instance, in->cfg.layer);
		in->registered = !j->err;
		if (j->err)	/* again soon, not at every tick: OAP may be down */
			in->next_ping = (int64_t)(sw_epoch_ns() / 1000000) + 2000;
		break;
	case JOB_TP_PING:
		in->busy_props = false;
		break;
	case JOB_TP_QUERY:
		in->busy_query = false;
		if (!j->err)
			take_tasks(tp, j);
		break;
	case JOB_TP_FINISH:
		if (j->err)
			sw_warn("trace task %s: reportTaskFinish failed: %s", j->tp.task_id,
				strerror(-j->err));
		break;
	case JOB_TP_SEGMENTS:
		tp->sending_reports = false;
		if (j->err) {
			/* back in front of the newer ones, as many as fit */
			size_t k, room = SEGS_MAX - tp->nr_reports, n = j->tp.nr_segs;

			if (!tp->reports && !(tp->reports = calloc(SEGS_MAX, sizeof(*tp->reports))))
				room = 0;
			if (n > room) {
				tp->st.segments_dropped += n - room;
				n = room;
			}
			if (n) {
				memmove(tp->reports + n, tp->reports, tp->nr_reports * sizeof(*tp->reports));
				for (k = 0; k < n; k++) {
					tp->reports[k] = j->tp.segs[k];
					memset(&j->tp.segs[k], 0, sizeof(j->tp.segs[k]));
				}
				tp->nr_reports += n;
			}
		} else {
			tp->st.segments_reported += j->tp.nr_segs;
		}
		break;
	default:	/* JOB_TP_SNAPSHOTS */
		tp->sending = false;
		if (j->tp.sent < j->tp.nr_snaps) {
			queue_unshift(tp, j->tp.snaps + j->tp.sent, j->tp.nr_snaps - j->tp.sent);
			j->tp.nr_snaps = j->tp.sent;	/* the rest are the queue's now */
		}
		break;
	}
	job_free(j);
	return true;
}

void tprof_reconnected(struct tprof *tp)
{
	size_t i;

	for (i = 0; tp && i < tp->nr_insts; i++) {
		tp->insts[i].registered = false;
		tp->insts[i].next_ping = 0;
	}
}

void tprof_tick(struct tprof *tp, int64_t now)
{
	size_t i;

	if (!tp)
		return;
	accept_segments(tp);
	if (now >= tp->next_hold) {
		hold_integrators(tp);
		tp->next_hold = now + (int64_t)(tp->cfg->trace.check_interval_ns / 1000000);
	}
	for (i = 0; i < tp->nr_insts; i++)
		inst_tick(tp, i, now);
	if (now >= tp->next_flush) {
		send_batch(tp);
		send_reports(tp);
		reap(tp, now);
		tp->next_flush = now + (int64_t)(tp->cfg->trace.flush_interval_ns / 1000000);
	}
}

int64_t tprof_wait_ms(const struct tprof *tp, int64_t now)
{
	int64_t w = INT64_MAX, t;
	size_t i;

	if (!tp)
		return w;
	/* segments are accepted at every tick: the daemon ticks at least every 100 ms */
	w = tp->next_flush - now;
	for (i = 0; i < tp->nr_insts; i++) {
		t = agent_trace_next(tp->insts[i].q);
		if (t != INT64_MAX && t - now < w)
			w = t - now;
	}
	return w < 0 ? 0 : w;
}

void tprof_stats(const struct tprof *tp, struct tprof_stats *out)
{
	struct agent_trace_counts n;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!tp)
		return;
	*out = tp->st;
	out->instances = tp->nr_insts;
	out->snapshots_queued = tp->nr_queued;
	for (i = 0; i < tp->nr_insts; i++) {
		agent_trace_counts(tp->insts[i].q, &n);
		out->registered += tp->insts[i].registered;
		out->tasks_waiting += n.waiting;
		out->tasks_running += n.running;
		out->tasks_started += n.started;
		out->tasks_finished += n.finished;
		out->tasks_rejected += n.rejected;
		out->tasks_failed += n.failed;
	}
}

int tprof_new(const struct agent_config *cfg, struct pl *pl, struct uplink *up,
	      const char *host_name, const char *host_ip, struct tprof **out)
{
	SWPROF_OPTS(swprof_trace_session_opts, so, .flags = SWPROF_TARGET_USTACK);
	static const struct pl_sink_ops ops = {
		.sz = sizeof(ops), .sample = on_sample, .record = on_record,
	};
	struct swprof *sw = pl_device(pl);
	struct tprof *tp;
	size_t i;
	int err;

	*out = NULL;
	if (!cfg->trace.active || !cfg->trace.nr_instances)
		return 0;
	if (!sw || !swprof_has_feature(sw, SWPROF_FEAT_TRACE)) {
		sw_err("trace profiling: %s has no trace sessions (swprof.ko older than API 1.1): "
		       "trace_profiling.instances are not profiled; upgrade the module",
		       cfg->agent.device);
		return 0;
	}
	tp = calloc(1, sizeof(*tp));
	if (!tp)
		return -ENOMEM;
	tp->cfg = cfg;
	tp->pl = pl;
	tp->up = up;
	tp->host_name = host_name ? strdup(host_name) : NULL;
	tp->host_ip = host_ip ? strdup(host_ip) : NULL;
	tp->insts = calloc(cfg->trace.nr_instances, sizeof(*tp->insts));
	err = -ENOMEM;
	if (!tp->insts)
		goto fail;
	for (i = 0; i < cfg->trace.nr_instances; i++) {
		const struct agent_trace_instance *c = &cfg->trace.instances[i];
		struct tp_inst *in = &tp->insts[i];

		tp->nr_insts++;
		in->cfg.service = strdup(c->service);
		in->cfg.instance = strdup(c->instance);
		in->cfg.layer = strdup(c->layer);
		in->q = agent_trace_queue_new();
		if (!in->cfg.service || !in->cfg.instance || !in->cfg.layer || !in->q)
			goto fail;
	}
	if (cfg->trace.kernel_frames && (swprof_version(sw)->caps & SWPROF_CAP_KSTACK))
		so.flags |= SWPROF_TARGET_KSTACK;
	err = swprof_trace_session_new(sw, &so, &tp->session);
	if (err) {
		sw_err("trace profiling: cannot open a trace session: %s", swprof_strerror(err));
		goto fail;
	}
	err = pl_sink_new(pl, &ops, tp, &tp->sink);
	if (err)
		goto fail;
	for (i = 0; i < tp->nr_insts; i++)
		sw_info("trace profiling for %s / %s (layer %s)", tp->insts[i].cfg.service,
			tp->insts[i].cfg.instance, tp->insts[i].cfg.layer);
	*out = tp;
	return 0;
fail:
	tprof_free(tp);
	return err;
}

void tprof_free(struct tprof *tp)
{
	size_t i;

	if (!tp)
		return;
	for (i = 0; i < tp->nr_insts; i++) {
		struct tp_ctx ctx = { tp, i };

		if (tp->session)
			agent_trace_stop_all(tp->insts[i].q, &trace_ops, &ctx);
	}
	if (tp->session) {
		pl_drain(tp->pl);	/* the last samples of the segments */
		for (;;) {
			size_t before = tp->nr_queued;

			tp->sending = false;
			send_batch(tp);
			if (!tp->nr_queued || tp->nr_queued == before)
				break;
		}
		tp->sending_reports = false;
		send_reports(tp);
	}
	pl_sink_free(tp->sink);
	swprof_group_free(tp->session);
	for (i = 0; i < tp->nr_insts; i++) {
		agent_trace_queue_free(tp->insts[i].q);
		free(tp->insts[i].cfg.service);
		free(tp->insts[i].cfg.instance);
		free(tp->insts[i].cfg.layer);
	}
	free(tp->insts);
	for (i = 0; i < tp->nr_tasks; i++) {
		free(tp->tasks[i].task_id);
		free(tp->tasks[i].endpoint);
	}
	free(tp->tasks);
	for (i = 0; i < tp->nr_reports; i++)
		tp_segment_free(&tp->reports[i]);
	free(tp->reports);
	free(tp->segs);
	for (i = 0; i < tp->nr_queued; i++)
		tp_snapshot_free(queue_at(tp, i));
	free(tp->queue);
	free(tp->host_name);
	free(tp->host_ip);
	free(tp);
}
