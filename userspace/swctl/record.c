// SPDX-License-Identifier: GPL-2.0-only
/*
 * A recording session: registration, symbolization, aggregation (the
 * reader thread, which drains the rings, is in record_reader.c).
 *
 * Every distinct (process, address) is symbolized once, when it is first
 * seen, while the process still lives; after that a sample costs one hash
 * lookup per frame plus one merge into the profile.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "record_priv.h"
#include "sym.h"

#define MAX_FRAMES (1 + 2 * SWPROF_MAX_DEPTH * SYM_MAX_INLINE)
#define MAX_UNWIND 256
#define ADDR_CACHE_MAX (1u << 22)
#define REC_DEFAULT_QUEUE ((size_t)64 << 20)

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

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static int cache_grow(struct rec_session *r)
{
	size_t n = r->nr_slots ? r->nr_slots * 2 : 4096, i, j;
	struct addr_slot *s;

	if (n > ADDR_CACHE_MAX) {
		/* bounded: start over (the profile still dedups locations) */
		memset(r->slots, 0, r->nr_slots * sizeof(*r->slots));
		r->used_slots = 0;
		return 0;
	}
	s = calloc(n, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (i = 0; i < r->nr_slots; i++) {
		struct addr_slot *o = &r->slots[i];

		if (!o->used)
			continue;
		j = mix64(o->addr ^ ((uint64_t)o->pid << 32) ^ o->ret) & (n - 1);
		while (s[j].used)
			j = (j + 1) & (n - 1);
		s[j] = *o;
	}
	free(r->slots);
	r->slots = s;
	r->nr_slots = n;
	return 0;
}

static struct addr_slot *cache_slot(struct rec_session *r, int32_t pid, uint64_t addr, bool ret)
{
	size_t i, mask;

	if ((r->used_slots + 1) * 4 > r->nr_slots * 3 && cache_grow(r))
		return NULL;
	mask = r->nr_slots - 1;
	i = mix64(addr ^ ((uint64_t)pid << 32) ^ ret) & mask;
	while (r->slots[i].used) {
		if (r->slots[i].addr == addr && r->slots[i].pid == pid && r->slots[i].ret == ret)
			return &r->slots[i];
		i = (i + 1) & mask;
	}
	return &r->slots[i];
}

static void cache_clear_pid(struct rec_session *r, int32_t pid)
{
	size_t i;

	/* removing from a linear-probing table: rebuild without the pid */
	for (i = 0; i < r->nr_slots; i++)
		if (r->slots[i].used && r->slots[i].pid == pid)
			r->slots[i].used = 2;	/* tombstone, rehashed below */
	{
		struct addr_slot *old = r->slots;
		size_t n = r->nr_slots, j;

		r->slots = calloc(n, sizeof(*r->slots));
		if (!r->slots) {
			r->slots = old;
			for (i = 0; i < n; i++)
				old[i].used = 0;
			r->used_slots = 0;
			return;
		}
		r->used_slots = 0;
		for (i = 0; i < n; i++) {
			if (old[i].used != 1)
				continue;
			j = mix64(old[i].addr ^ ((uint64_t)old[i].pid << 32) ^ old[i].ret) & (n - 1);
			while (r->slots[j].used)
				j = (j + 1) & (n - 1);
			r->slots[j] = old[i];
			r->used_slots++;
		}
		free(old);
	}
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

static int frames_location(struct rec_session *r, struct sym_frame *f, int n, uint64_t addr,
			   unsigned int locflags)
{
	struct prof_line lines[SYM_MAX_INLINE];
	char missing[512];
	int i, mapping = frame_mapping(r, &f[n - 1]);

	for (i = 0; i < n; i++) {
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
		.address = addr,
		.lines = lines,
		.nr_lines = n,
		.flags = locflags,
	});
}

static int addr_location(struct rec_session *r, pid_t pid, uint64_t addr, bool ret, bool kernel)
{
	struct sym_frame f[SYM_MAX_INLINE];
	struct addr_slot *slot;
	int n, loc;

	slot = cache_slot(r, kernel ? 0 : pid, addr, ret);
	if (slot && slot->used)
		return slot->loc;
	if (kernel)
		n = sym_resolve_kernel(r->sym, addr, 0, f, SYM_MAX_INLINE);
	else
		n = sym_resolve(r->sym, pid, addr, ret ? SYM_RESOLVE_RETURN : 0, f, SYM_MAX_INLINE);
	if (n < 1)
		return r->noframe_loc;
	loc = frames_location(r, f, n, addr, kernel ? PROF_LOC_KERNEL : 0);
	if (loc < 0)
		return r->noframe_loc;
	if (slot) {
		*slot = (struct addr_slot){ .addr = addr, .pid = kernel ? 0 : pid, .used = 1,
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

/* A SAMPLE or an OFFCPU record (same layout). */
static void on_sample(struct rec_session *r, struct rec_target *rt, const struct swprof_sample *s)
{
	const __u64 *ips = swprof_sample_ips(s);
	const __u64 *uips;
	unsigned int nu = s->nr_user, n = 0, first, i, state = state_index(s->hdr.flags);
	pid_t pid = s->pid;

	if (!ips) {
		r->ws.bad_records++;
		return;
	}
	uips = ips + s->nr_kernel;
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
	if (!rt->thread)
		rt->thread = thread_id(r, rt->pid, rt->tid, NULL);
	if (r->o.raw_stack && s->raw_size) {
		int got = sym_unwind_raw(r->sym, pid, (const uint64_t *)swprof_sample_regs(s),
					 swprof_sample_raw_stack(s), s->raw_size, r->ips, MAX_UNWIND);

		/* keep the frame-pointer walk when it went deeper (e.g. no CFI at all) */
		if (got > 0 && (unsigned int)got >= nu) {
			uips = (const __u64 *)r->ips;
			nu = got;
			r->ws.unwound++;
		}
	}
	/* the state leaf: where a wall-clock flame graph shows waiting */
	if (r->state_loc[state] && r->o.mode != SWPROF_MODE_CPU)
		r->locs[n++] = r->state_loc[state];
	first = n;
	sym_session_hold(r->sym);
	for (i = 0; i < s->nr_kernel && n < MAX_FRAMES; i++)
		r->locs[n++] = addr_location(r, pid, ips[i], false, true);
	for (i = 0; i < nu && n < MAX_FRAMES; i++)
		r->locs[n++] = addr_location(r, pid, uips[i], i > 0, false);
	sym_session_release(r->sym);
	if (n == first)
		r->locs[n++] = r->noframe_loc;
	prof_add_thread_sample(r->prof, rt->thread, r->locs, n, 1, s->period_ns);
}

static void comm_copy(char *dst, const char *src)
{
	memcpy(dst, src, SWPROF_COMM_LEN);
	dst[SWPROF_COMM_LEN] = '\0';
}

void rec_process(struct rec_session *r, struct rec_target *rt, const struct swprof_rec *rec)
{
	char comm[SWPROF_COMM_LEN + 1];

	switch (rec->type) {
	case SWPROF_REC_SAMPLE:
	case SWPROF_REC_OFFCPU:
		on_sample(r, rt, (const struct swprof_sample *)rec);
		break;
	case SWPROF_REC_EXIT:
		r->ws.exits++;
		break;
	case SWPROF_REC_EXEC: {
		const struct swprof_exec *e = (const void *)rec;

		comm_copy(comm, e->comm);
		r->ws.execs++;
		/* a new image: forget the old maps and every address resolved in it */
		sym_proc_forget(r->sym, e->pid);
		cache_clear_pid(r, e->pid);
		rt->pid = e->pid;
		rt->tid = e->tid;
		rt->thread = thread_id(r, e->pid, e->tid, comm);
		break;
	}
	case SWPROF_REC_COMM: {
		const struct swprof_comm *c = (const void *)rec;

		comm_copy(comm, c->comm);
		r->ws.comms++;
		rt->pid = c->pid;
		rt->tid = c->tid;
		rt->thread = thread_id(r, c->pid, c->tid, comm);
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

int rec_new(const struct rec_opts *opts, struct rec_session **out, char *errbuf, size_t errlen)
{
	struct rec_session *r;
	pthread_condattr_t ca;
	unsigned int i;
	int err;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	memcpy(&r->o, opts, opts->sz < sizeof(r->o) ? opts->sz : sizeof(r->o));
	r->epfd = -1;
	r->wakefd = -1;
	r->q_max = r->o.queue_bytes ? r->o.queue_bytes : REC_DEFAULT_QUEUE;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	SWPROF_OPTS(swprof_open_opts, oo, .path = opts->device);
	err = swprof_open(&oo, &r->sw);
	if (err) {
		snprintf(errbuf, errlen, "cannot open %s: %s", opts->device ? opts->device : SWPROF_DEVICE,
			 swprof_strerror(err));
		goto fail;
	}
	if (opts->mode != SWPROF_MODE_CPU &&
	    !swprof_has_feature(r->sw, opts->mode == SWPROF_MODE_OFFCPU ? SWPROF_FEAT_MODE_OFFCPU
								     : SWPROF_FEAT_MODE_WALL)) {
		snprintf(errbuf, errlen, "this swprof.ko (API %u.%u) has no %s mode; load a newer module",
			 swprof_version(r->sw)->major, swprof_version(r->sw)->minor,
			 opts->mode == SWPROF_MODE_OFFCPU ? "offcpu" : "wall");
		err = -EOPNOTSUPP;
		goto fail;
	}
	if (opts->kernel && !(swprof_version(r->sw)->caps & SWPROF_CAP_KSTACK)) {
		snprintf(errbuf, errlen, "kernel stacks need CAP_PERFMON or CAP_SYS_ADMIN; run as root or use --no-kernel");
		err = -EPERM;
		goto fail;
	}
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	SYM_OPTS(so, .flags = opts->lines ? SYM_OPT_LINES : 0);
	r->sym = sym_session_new(&so);
	PROF_OPTS(po, .mem_cap = opts->mem_cap,
		  .period = opts->mode == SWPROF_MODE_OFFCPU ? 0 : opts->period_ns);
	r->prof = prof_new(opts->mode == SWPROF_MODE_CPU ? PROF_CPU :
			   opts->mode == SWPROF_MODE_WALL ? PROF_WALL : PROF_OFFCPU, &po);
	r->locs = calloc(MAX_FRAMES, sizeof(*r->locs));
	r->ips = calloc(MAX_UNWIND, sizeof(*r->ips));
	if (r->epfd < 0 || !r->sym || !r->prof || !r->locs || !r->ips || cache_grow(r)) {
		snprintf(errbuf, errlen, "out of memory setting up the recording");
		err = -ENOMEM;
		goto fail;
	}
	r->noframe_loc = name_location(r, "[no stack]");
	for (i = 0; i < REC_NR_STATES && r->o.state_frames; i++)
		if (state_frames[i])
			r->state_loc[i] = name_location(r, state_frames[i]);
	err = rec_reader_start(r);
	if (err) {
		snprintf(errbuf, errlen, "cannot start the ring reader: %s", strerror(-err));
		goto fail;
	}
	*out = r;
	return 0;
fail:
	rec_free(r);
	return err;
}

/* [lock] held, or no reader any more */
static void free_retired(struct rec_session *r)
{
	while (r->retired) {
		struct rec_target *rt = r->retired;

		r->retired = rt->next;
		free(rt);
	}
}

void rec_free(struct rec_session *r)
{
	size_t i;

	if (!r)
		return;
	rec_reader_stop(r);
	for (i = 0; i < r->nr_targets; i++) {
		swprof_target_free(r->targets[i]->t);
		free(r->targets[i]);
	}
	free(r->targets);
	free_retired(r);
	for (i = 0; i < r->nr_groups; i++) {
		swprof_group_free(r->groups[i]->g);
		free(r->groups[i]);
	}
	free(r->groups);
	rq_free(r->q_head);
	rq_free(r->w_list);
	if (r->wakefd >= 0)
		close(r->wakefd);
	if (r->epfd >= 0)
		close(r->epfd);
	sym_session_free(r->sym);
	prof_free(r->prof);
	swprof_close(r->sw);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r->slots);
	free(r->locs);
	free(r->ips);
	free(r);
}

void rec_preload(struct rec_session *r)
{
	struct sym_frame f;

	if (r->o.kernel)
		sym_resolve_kernel(r->sym, 0, 0, &f, 1);
}

/* [lock] held */
static bool registered(const struct rec_session *r, pid_t tid)
{
	size_t i;

	for (i = 0; i < r->nr_targets; i++)
		if (r->targets[i]->tid == tid && !r->targets[i]->exited)
			return true;
	return false;
}

/* Ring per thread: a second or more of samples at 999 Hz, raw stack copies included. */
static uint32_t ring_bytes(const struct rec_session *r)
{
	return r->o.ring_size ? r->o.ring_size : r->o.raw_stack ? 8 << 20 : 512 << 10;
}

static void target_opts(const struct rec_session *r, struct swprof_target_opts *to, pid_t tid,
			__u32 flags)
{
	uint32_t ring = ring_bytes(r);

	memset(to, 0, sizeof(*to));
	to->sz = sizeof(*to);
	to->tid = tid;
	to->mode = r->o.mode;
	to->flags = flags | SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE |
		    (r->o.kernel ? SWPROF_TARGET_KSTACK : 0);
	to->period_ns = r->o.period_ns;
	to->ring_size = ring;
	to->raw_stack_size = r->o.raw_stack;
	/* batch wakeups; the reader also sweeps every ring every 100 ms */
	to->wakeup_bytes = ring / 4;
	to->min_block_ns = r->o.min_block_ns;
}

int rec_add_thread(struct rec_session *r, pid_t pid, pid_t tid)
{
	struct swprof_target_opts to;
	struct rec_target *rt;
	int err;

	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	target_opts(r, &to, tid, 0);
	err = swprof_register(r->sw, &to, &rt->t);
	if (err) {
		free(rt);
		if (err != -ESRCH)	/* a thread that exited meanwhile was not missed */
			r->ws.register_failed++;
		return err;
	}
	rt->kind = REC_POLL_TARGET;
	rt->pid = pid;
	rt->tid = tid;
	swprof_seq_tracker_init(&rt->tr);
	rt->thread = thread_id(r, pid, tid, NULL);
	/* read the maps now, while the process surely lives */
	sym_proc_refresh(r->sym, pid);
	pthread_mutex_lock(&r->lock);
	err = rec_target_publish(r, rt);
	pthread_mutex_unlock(&r->lock);
	if (err) {
		swprof_target_free(rt->t);
		free(rt);
	}
	return err;
}

bool rec_follows_processes(const struct rec_session *r)
{
	return !r->o.scan_threads && swprof_has_feature(r->sw, SWPROF_FEAT_PROCESS);
}

static struct rec_group *group_of(const struct rec_session *r, pid_t pid)
{
	size_t i;

	for (i = 0; i < r->nr_groups; i++)
		if (r->groups[i]->pid == pid)
			return r->groups[i];
	return NULL;
}

/* The module follows the process: one group fd, its threads come through it. */
static int add_process_group(struct rec_session *r, pid_t pid)
{
	struct swprof_target_opts to;
	struct rec_group *g;
	int err;

	pthread_mutex_lock(&r->lock);
	g = group_of(r, pid);
	pthread_mutex_unlock(&r->lock);
	if (g)
		return 0;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->kind = REC_POLL_GROUP;
	g->pid = pid;
	target_opts(r, &to, pid, 0);
	err = swprof_register_process(r->sw, &to, &g->g);
	if (err) {
		free(g);
		r->ws.register_failed++;
		return err;
	}
	sym_proc_refresh(r->sym, pid);
	pthread_mutex_lock(&r->lock);
	err = rec_group_publish(r, g);
	pthread_mutex_unlock(&r->lock);
	if (err) {
		swprof_group_free(g->g);
		free(g);
		return err;
	}
	rec_reader_wake(r);
	return 1;
}

int rec_add_process(struct rec_session *r, pid_t pid)
{
	char path[64];
	struct dirent *de;
	int added = 0, first_err = 0, err;
	bool known;
	DIR *d;

	if (rec_follows_processes(r))
		return add_process_group(r, pid);
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		pid_t tid = atoi(de->d_name);

		if (tid <= 0)
			continue;
		pthread_mutex_lock(&r->lock);
		known = registered(r, tid);
		pthread_mutex_unlock(&r->lock);
		if (known)
			continue;
		err = rec_add_thread(r, pid, tid);
		if (!err)
			added++;
		else if (err != -ESRCH && !first_err)
			first_err = err;	/* a thread that just exited is no error */
	}
	closedir(d);
	return added || !first_err ? added : first_err;
}

bool rec_process_gone(const struct rec_session *r, pid_t pid)
{
	struct rec_group *g;
	bool gone;

	pthread_mutex_lock((pthread_mutex_t *)&r->lock);
	g = group_of(r, pid);
	gone = g && g->gone;
	pthread_mutex_unlock((pthread_mutex_t *)&r->lock);
	if (g)
		return gone;
	return kill(pid, 0) && errno == ESRCH;
}

/*
 * Process queued records until the queue is empty or the deadline (0: none)
 * passes.  Returns true when everything queued was processed.
 */
static bool process_queue(struct rec_session *r, uint64_t deadline)
{
	unsigned int n = 0;
	uint64_t now = 0;

	for (;;) {
		struct rq_chunk *c = r->w_list;

		if (!c) {
			pthread_mutex_lock(&r->lock);
			r->w_list = r->q_head;
			r->q_head = r->q_tail = NULL;
			/* nothing queued: no record names a retired target any more */
			if (!r->w_list)
				free_retired(r);
			pthread_mutex_unlock(&r->lock);
			r->w_off = 0;
			if (!r->w_list)
				return true;
			continue;
		}
		while (r->w_off < c->used) {
			const struct rq_ent *e = (const void *)(c->data + r->w_off);
			const struct swprof_rec *rec = (const void *)(e + 1);

			if (!(n & 63))
				now = rec_now_ns();
			/* how far symbolization runs behind the samples */
			if (rec->time_ns && rec->time_ns < now && now - rec->time_ns > r->ws.sym_lag_max_ns)
				r->ws.sym_lag_max_ns = now - rec->time_ns;
			rec_process(r, e->rt, rec);
			r->w_off += sizeof(*e) + e->size;
			if (deadline && !(++n & 63) && rec_now_ns() >= deadline)
				return false;
		}
		r->w_list = c->next;
		r->w_off = 0;
		pthread_mutex_lock(&r->lock);
		r->q_bytes -= c->cap;
		pthread_cond_broadcast(&r->cond);	/* room again for the reader */
		pthread_mutex_unlock(&r->lock);
		free(c);
	}
}

static void deadline_ts(uint64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / 1000000000ULL;
	ts->tv_nsec = ns % 1000000000ULL;
}

int rec_poll(struct rec_session *r, int timeout_ms)
{
	uint64_t deadline = rec_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ULL;
	struct timespec ts;

	if (!r->w_list) {
		deadline_ts(deadline, &ts);
		pthread_mutex_lock(&r->lock);
		while (!r->q_head && rec_now_ns() < deadline)
			if (pthread_cond_timedwait(&r->cond, &r->lock, &ts) == ETIMEDOUT)
				break;
		pthread_mutex_unlock(&r->lock);
	}
	/* at least a little work even when the wait used the whole timeout */
	if (deadline < rec_now_ns() + 10000000ULL)
		deadline = rec_now_ns() + 10000000ULL;
	process_queue(r, deadline);
	return 0;
}

int rec_drain(struct rec_session *r)
{
	uint64_t req;
	bool done;

	pthread_mutex_lock(&r->lock);
	req = ++r->drain_req;
	pthread_mutex_unlock(&r->lock);
	rec_reader_wake(r);
	for (;;) {
		process_queue(r, 0);
		pthread_mutex_lock(&r->lock);
		done = r->drain_done >= req && !r->q_head;
		if (!done && !r->q_head)
			pthread_cond_wait(&r->cond, &r->lock);
		pthread_mutex_unlock(&r->lock);
		if (done)
			break;
	}
	return 0;
}

int rec_enable(struct rec_session *r, bool on)
{
	size_t i;
	int err, first = 0;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->nr_targets; i++) {
		if (r->targets[i]->exited)
			continue;
		err = on ? swprof_target_enable(r->targets[i]->t) : swprof_target_disable(r->targets[i]->t);
		if (err && err != -ESRCH && !first)
			first = err;
	}
	pthread_mutex_unlock(&r->lock);
	return first;
}

bool rec_all_exited(const struct rec_session *r)
{
	bool all = true;
	size_t i;

	pthread_mutex_lock((pthread_mutex_t *)&r->lock);
	for (i = 0; i < r->nr_targets && all; i++)
		if (!r->targets[i]->exited)
			all = false;
	pthread_mutex_unlock((pthread_mutex_t *)&r->lock);
	return all;
}

void rec_get_stats(const struct rec_session *r, struct rec_stats *st)
{
	const uint64_t *a = (const uint64_t *)&r->rs, *b = (const uint64_t *)&r->ws;
	uint64_t *o = (uint64_t *)st;
	size_t i;

	pthread_mutex_lock((pthread_mutex_t *)&r->lock);
	/* every counter is kept by one side only: the sum is the session's */
	for (i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		o[i] = a[i] + b[i];
	st->lost = r->closed_lost;
	st->seq_gaps = r->closed_gaps;
	for (i = 0; i < r->nr_targets; i++) {
		const struct rec_target *rt = r->targets[i];

		/* and drops not yet reported in-band */
		st->lost += rt->tr.lost + swprof_target_header(rt->t)->lost_pending;
		st->seq_gaps += rt->tr.gaps;
	}
	st->queue_bytes = r->q_bytes;
	st->queue_peak = r->rs.queue_peak;
	pthread_mutex_unlock((pthread_mutex_t *)&r->lock);
}

struct prof *rec_profile(struct rec_session *r)
{
	return r->prof;
}
