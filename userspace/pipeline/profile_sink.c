// SPDX-License-Identifier: GPL-2.0-only
/*
 * A recording (record.h): the profile aggregate sink.  The pipeline hands
 * it symbolized stacks; it turns each distinct (process, address) into a
 * profile location once (its own small cache: locations are per profile)
 * and merges the sample into the profile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr_hash.h"
#include "record.h"
#include "sw_log.h"
#include "swprof.h"

static const char *const state_names[REC_NR_STATES] = {
	[SWPROF_STATE_RUNNING] = "running",
	[SWPROF_STATE_RUNNABLE] = "runnable",
	[SWPROF_STATE_SLEEPING] = "sleeping",
	[SWPROF_STATE_DISK] = "disk",
	[SWPROF_STATE_STOPPED] = "stopped",
	[SWPROF_STATE_OTHER] = "other",
};

static const char *const state_frames[REC_NR_STATES] = {
	[SWPROF_STATE_RUNNABLE] = "[runnable]",
	[SWPROF_STATE_SLEEPING] = "[sleeping]",
	[SWPROF_STATE_DISK] = "[disk]",
	[SWPROF_STATE_STOPPED] = "[stopped]",
	[SWPROF_STATE_OTHER] = "[other]",
};

#define LOC_CACHE_MAX (1u << 22)

/* (pid, address, return?) -> location id; open addressing, linear probing. */
struct loc_slot {
	uint64_t addr;
	int32_t pid;			/* 0 for kernel addresses */
	uint8_t used, ret;
	int loc;
};

/* ring id -> profile thread id */
struct thread_slot {
	uint64_t target;		/* 0: empty */
	int thread;
};

struct rec_session {
	struct rec_opts o;
	struct pl *pl;
	struct pl_sink *sink;
	struct prof *prof;
	struct loc_slot *slots;
	size_t nr_slots, used_slots;
	struct thread_slot *threads;
	size_t nr_threads, used_threads;
	int *locs;			/* scratch: one sample's location ids */
	size_t locs_cap;
	int noframe_loc;
	int state_loc[REC_NR_STATES];	/* 0: no state frame */
	struct rec_stats ws;		/* the sink's counters */
};

static unsigned int state_index(unsigned int state)
{
	return state < REC_NR_STATES ? state : SWPROF_STATE_OTHER;
}

const char *rec_state_name(unsigned int state)
{
	return state_names[state_index(state)];
}

const char *rec_state_frame(unsigned int state)
{
	return state_frames[state_index(state)];
}

static void loc_put(struct loc_slot *slots, size_t n, const struct loc_slot *o)
{
	size_t j = pl_addr_hash(o->addr, o->pid, o->ret) & (n - 1);

	while (slots[j].used)
		j = (j + 1) & (n - 1);
	slots[j] = *o;
}

static int cache_grow(struct rec_session *r)
{
	size_t n = r->nr_slots ? r->nr_slots * 2 : 256, i;
	struct loc_slot *s;

	if (n > LOC_CACHE_MAX) {
		/* bounded: start over (the profile still dedups locations) */
		memset(r->slots, 0, r->nr_slots * sizeof(*r->slots));
		r->used_slots = 0;
		return 0;
	}
	s = calloc(n, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (i = 0; i < r->nr_slots; i++)
		if (r->slots[i].used)
			loc_put(s, n, &r->slots[i]);
	free(r->slots);
	r->slots = s;
	r->nr_slots = n;
	return 0;
}

static struct loc_slot *cache_slot(struct rec_session *r, int32_t pid, uint64_t addr, bool ret)
{
	size_t i, mask;

	if ((r->used_slots + 1) * 4 > r->nr_slots * 3 && cache_grow(r))
		return NULL;
	mask = r->nr_slots - 1;
	i = pl_addr_hash(addr, pid, ret) & mask;
	while (r->slots[i].used) {
		if (r->slots[i].addr == addr && r->slots[i].pid == pid && r->slots[i].ret == ret)
			return &r->slots[i];
		i = (i + 1) & mask;
	}
	return &r->slots[i];
}

static void cache_clear_pid(struct rec_session *r, int32_t pid)
{
	struct loc_slot *old = r->slots, *s;
	size_t n = r->nr_slots, i;

	/* removing from a linear-probing table: rebuild without the pid */
	s = calloc(n, sizeof(*s));
	if (!s) {
		memset(old, 0, n * sizeof(*old));
		r->used_slots = 0;
		return;
	}
	r->used_slots = 0;
	for (i = 0; i < n; i++) {
		if (!old[i].used || old[i].pid == pid)
			continue;
		loc_put(s, n, &old[i]);
		r->used_slots++;
	}
	free(old);
	r->slots = s;
}

/*
 * The pprof mapping of a frame.  sym gives the address inside the module's
 * file; addresses of one segment share addr - file_offset, which is the
 * mapping's start for a mapping of file offset 0.
 */
static int frame_mapping(struct rec_session *r, const struct sym_frame *f)
{
	struct prof_mapping m = {
		.start = f->addr - f->file_offset,
		.limit = f->addr - f->file_offset + (1ULL << 32),
		.offset = 0,
		.file = f->module,
		.build_id = f->build_id && f->build_id[0] ? f->build_id : NULL,
	};

	if (!f->module || f->status == SYM_NO_MODULE)
		return 0;
	if (f->flags & SYM_FRAME_KERNEL) {
		m.start = 0;
		m.limit = 0;
	}
	return prof_mapping(r->prof, &m);
}

static int frames_location(struct rec_session *r, const struct pl_frames *fr, unsigned int locflags)
{
	struct prof_line lines[SYM_MAX_INLINE];
	const struct sym_frame *f = fr->f;
	char missing[512];
	int mapping = frame_mapping(r, &f[fr->n - 1]);
	unsigned int i;

	for (i = 0; i < fr->n; i++) {
		struct prof_function fn = {
			.name = f[i].name,
			.system_name = f[i].symbol,
			.file = f[i].file,
		};

		if (f[i].status != SYM_OK) {
			/* one "[MISSING] module" function per module: they merge in flame graphs */
			snprintf(missing, sizeof(missing), "[MISSING] %s",
				 f[i].module_name && f[i].module_name[0] ? f[i].module_name : "[unknown]");
			fn.name = missing;
			fn.system_name = NULL;
			fn.file = NULL;
		}
		lines[i].function = prof_function(r->prof, &fn);
		lines[i].line = f[i].line;
		if (lines[i].function < 0)
			return lines[i].function;
	}
	return prof_location(r->prof, &(struct prof_location){
		.mapping = mapping,
		.address = fr->addr,
		.lines = lines,
		.nr_lines = fr->n,
		.flags = locflags,
	});
}

static int addr_location(struct rec_session *r, pid_t pid, const struct pl_frames *fr,
			 bool ret, bool kernel)
{
	struct loc_slot *slot;
	int loc;

	if (!fr)
		return r->noframe_loc;
	slot = cache_slot(r, kernel ? 0 : pid, fr->addr, ret);
	if (slot && slot->used)
		return slot->loc;
	loc = frames_location(r, fr, kernel ? PROF_LOC_KERNEL : 0);
	if (loc < 0)
		return r->noframe_loc;
	if (slot) {
		*slot = (struct loc_slot){ .addr = fr->addr, .pid = kernel ? 0 : pid, .used = 1,
					   .ret = ret, .loc = loc };
		r->used_slots++;
	}
	return loc;
}

/* A frame without address: "[no stack]", "[sleeping]"... */
static int name_location(struct rec_session *r, const char *name)
{
	struct prof_line l = {
		.function = prof_function(r->prof, &(struct prof_function){ .name = name }),
	};

	return prof_location(r->prof, &(struct prof_location){ .lines = &l, .nr_lines = 1 });
}

static int thread_id(struct rec_session *r, pid_t pid, pid_t tid, const char *comm)
{
	char path[64], name[64] = "";
	FILE *f;

	if (!comm) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
		f = fopen(path, "re");
		if (f) {
			if (fgets(name, sizeof(name), f))
				name[strcspn(name, "\n")] = '\0';
			fclose(f);
		}
		comm = name;
	}
	return prof_thread(r->prof, &(struct prof_thread){ .pid = pid, .tid = tid, .name = comm });
}

/* The profile thread of a ring: 0 when not known yet. */
static struct thread_slot *thread_slot(struct rec_session *r, uint64_t target)
{
	size_t i, mask;

	if ((r->used_threads + 1) * 2 > r->nr_threads) {
		size_t n = r->nr_threads ? r->nr_threads * 2 : 16, j;
		struct thread_slot *t = calloc(n, sizeof(*t));

		if (!t)
			return NULL;
		for (i = 0; i < r->nr_threads; i++) {
			if (!r->threads[i].target)
				continue;
			for (j = pl_mix64(r->threads[i].target) & (n - 1); t[j].target; j = (j + 1) & (n - 1))
				;
			t[j] = r->threads[i];
		}
		free(r->threads);
		r->threads = t;
		r->nr_threads = n;
	}
	mask = r->nr_threads - 1;
	for (i = pl_mix64(target) & mask; r->threads[i].target; i = (i + 1) & mask)
		if (r->threads[i].target == target)
			return &r->threads[i];
	r->threads[i].target = target;
	r->threads[i].thread = 0;
	r->used_threads++;
	return &r->threads[i];
}

static void on_sample(void *ctx, const struct pl_stack *st)
{
	struct rec_session *r = ctx;
	const struct swprof_sample *s = st->s;
	unsigned int n = 0, first, i, state = state_index(s->hdr.flags);
	struct thread_slot *ts;
	int thread = 0;

	r->ws.samples++;
	if (s->hdr.type == SWPROF_REC_OFFCPU) {
		r->ws.offcpu++;
		r->ws.offcpu_ns += s->period_ns;
	} else if (r->o.mode == SWPROF_MODE_WALL) {
		r->ws.wall_ns += s->period_ns;
	}
	if (r->o.mode != SWPROF_MODE_CPU) {
		r->ws.state_samples[state]++;
		r->ws.state_ns[state] += s->period_ns;
	}
	ts = thread_slot(r, st->target);
	if (ts) {
		if (!ts->thread)
			ts->thread = thread_id(r, st->pid, st->tid, NULL);
		thread = ts->thread;
	}
	if (st->unwound)
		r->ws.unwound++;
	if (st->nr_kernel + st->nr_user + 2 > r->locs_cap) {
		size_t cap = st->nr_kernel + st->nr_user + 64;
		int *l = realloc(r->locs, cap * sizeof(*l));

		if (!l)
			return;
		r->locs = l;
		r->locs_cap = cap;
	}
	/* the state leaf: where a wall-clock flame graph shows waiting */
	if (r->state_loc[state] && r->o.mode != SWPROF_MODE_CPU)
		r->locs[n++] = r->state_loc[state];
	first = n;
	for (i = 0; i < st->nr_kernel; i++)
		r->locs[n++] = addr_location(r, s->pid, st->frames[i], false, true);
	for (i = 0; i < st->nr_user; i++)
		r->locs[n++] = addr_location(r, s->pid, st->frames[st->nr_kernel + i], i > 0, false);
	if (n == first)
		r->locs[n++] = r->noframe_loc;
	prof_add_thread_sample(r->prof, thread, r->locs, n, 1, s->period_ns);
}

static void comm_copy(char *dst, const char *src)
{
	memcpy(dst, src, SWPROF_COMM_LEN);
	dst[SWPROF_COMM_LEN] = '\0';
}

static void set_thread(struct rec_session *r, uint64_t target, pid_t pid, pid_t tid, const char *comm)
{
	struct thread_slot *ts = thread_slot(r, target);

	if (ts)
		ts->thread = thread_id(r, pid, tid, comm);
}

static void on_record(void *ctx, uint64_t target, pid_t pid, pid_t tid, const struct swprof_rec *rec)
{
	struct rec_session *r = ctx;
	char comm[SWPROF_COMM_LEN + 1];

	switch (rec->type) {
	case SWPROF_REC_SAMPLE:
	case SWPROF_REC_OFFCPU:
		r->ws.bad_records++;	/* the pipeline could not decode it */
		break;
	case SWPROF_REC_EXIT:
		r->ws.exits++;
		break;
	case SWPROF_REC_EXEC: {
		const struct swprof_exec *e = (const void *)rec;

		comm_copy(comm, e->comm);
		r->ws.execs++;
		cache_clear_pid(r, e->pid);
		set_thread(r, target, pid, tid, comm);
		break;
	}
	case SWPROF_REC_COMM: {
		const struct swprof_comm *c = (const void *)rec;

		comm_copy(comm, c->comm);
		r->ws.comms++;
		set_thread(r, target, pid, tid, comm);
		break;
	}
	case SWPROF_REC_TRACE_BEGIN:
	case SWPROF_REC_TRACE_END:
		/* trace segments come through trace sessions, not recordings */
		r->ws.trace_records++;
		break;
	default:
		r->ws.unknown_records++;
	}
}

int rec_new(struct pl *pl, const struct rec_opts *opts, struct rec_session **out)
{
	static const struct pl_sink_ops ops = {
		.sz = sizeof(ops),
		.sample = on_sample,
		.record = on_record,
	};
	struct swprof *sw = pl_device(pl);
	struct rec_session *r;
	unsigned int i;
	int err;

	*out = NULL;
	if (!opts || !SW_OPTS_VALID(opts, rec_opts))
		return -EINVAL;
	if (sw && opts->mode != SWPROF_MODE_CPU &&
	    !swprof_has_feature(sw, opts->mode == SWPROF_MODE_OFFCPU ? SWPROF_FEAT_MODE_OFFCPU
								 : SWPROF_FEAT_MODE_WALL)) {
		sw_err("this swprof.ko (API %u.%u) has no %s mode; load a newer module",
		       swprof_version(sw)->major, swprof_version(sw)->minor,
		       opts->mode == SWPROF_MODE_OFFCPU ? "offcpu" : "wall");
		return -EOPNOTSUPP;
	}
	if (sw && opts->kernel && !(swprof_version(sw)->caps & SWPROF_CAP_KSTACK)) {
		sw_err("kernel stacks need CAP_PERFMON or CAP_SYS_ADMIN; run as root or use --no-kernel");
		return -EPERM;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	memcpy(&r->o, opts, opts->sz < sizeof(r->o) ? opts->sz : sizeof(r->o));
	r->pl = pl;
	PROF_OPTS(po, .mem_cap = opts->mem_cap,
		  .period = opts->mode == SWPROF_MODE_OFFCPU ? 0 : opts->period_ns);
	err = prof_new(opts->mode == SWPROF_MODE_CPU ? PROF_CPU :
		       opts->mode == SWPROF_MODE_WALL ? PROF_WALL : PROF_OFFCPU, &po, &r->prof);
	if (!err)
		err = pl_sink_new(pl, &ops, r, &r->sink);
	if (err || cache_grow(r)) {
		sw_err("out of memory setting up the recording");
		rec_free(r);
		return -ENOMEM;
	}
	r->noframe_loc = name_location(r, "[no stack]");
	for (i = 0; i < REC_NR_STATES && r->o.state_frames; i++)
		if (state_frames[i])
			r->state_loc[i] = name_location(r, state_frames[i]);
	*out = r;
	return 0;
}

void rec_free(struct rec_session *r)
{
	if (!r)
		return;
	pl_sink_free(r->sink);
	prof_free(r->prof);
	free(r->slots);
	free(r->threads);
	free(r->locs);
	free(r);
}

struct pl_sink *rec_sink(struct rec_session *r)
{
	return r->sink;
}

static void reg_opts(const struct rec_session *r, struct pl_reg_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->mode = r->o.mode;
	o->period_ns = r->o.period_ns;
	o->kernel = r->o.kernel;
	o->raw_stack = r->o.raw_stack;
	o->ring_size = r->o.ring_size;
	o->min_block_ns = r->o.min_block_ns;
	o->scan_threads = r->o.scan_threads;
}

int rec_add_thread(struct rec_session *r, pid_t pid, pid_t tid)
{
	struct pl_reg_opts o;

	reg_opts(r, &o);
	return pl_add_thread(r->pl, r->sink, pid, tid, &o);
}

int rec_add_process(struct rec_session *r, pid_t pid)
{
	struct pl_reg_opts o;

	reg_opts(r, &o);
	return pl_add_process(r->pl, r->sink, pid, &o);
}

bool rec_follows_processes(const struct rec_session *r)
{
	struct pl_reg_opts o;

	reg_opts(r, &o);
	return pl_follows_processes(r->pl, &o);
}

bool rec_process_gone(const struct rec_session *r, pid_t pid)
{
	return pl_process_gone(r->pl, pid);
}

int rec_enable(struct rec_session *r, bool on)
{
	return pl_enable(r->pl, r->sink, on);
}

bool rec_all_exited(const struct rec_session *r)
{
	return pl_all_exited(r->pl, r->sink);
}

void rec_get_stats(const struct rec_session *r, struct rec_stats *st)
{
	struct pl_target_stats ts;
	struct pl_queue_stats qs;

	pl_target_stats(r->pl, r->sink, &ts);
	pl_queue_stats(r->pl, &qs);
	*st = r->ws;
	st->records = ts.records;
	st->lost = ts.lost;
	st->seq_gaps = ts.seq_gaps;
	st->bad_records += ts.bad_records;
	st->threads = ts.threads;
	st->threads_live = ts.threads_live;
	st->register_failed = ts.register_failed;
	st->group_missed = ts.group_missed;
	st->ring_lag_max_ns = ts.ring_lag_max_ns;
	st->queue_bytes = qs.bytes;
	st->queue_peak = qs.peak;
	st->queue_full = qs.full;
	st->sym_lag_max_ns = qs.sym_lag_max_ns;
}

struct prof *rec_profile(struct rec_session *r)
{
	return r->prof;
}
