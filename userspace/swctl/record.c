// SPDX-License-Identifier: GPL-2.0-only
/*
 * A recording session: registration, draining, symbolization, aggregation.
 *
 * Every distinct (process, address) is symbolized once, when it is first
 * seen, while the process still lives; after that a sample costs one hash
 * lookup per frame plus one merge into the profile.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "record.h"
#include "swprof.h"
#include "sym.h"

struct rec_target {
	struct swprof_target *t;
	pid_t pid, tid;
	int thread;			/* prof thread id */
	bool exited;
	bool done;			/* drained after exit, fd closed */
	struct swprof_seq_tracker tr;
};

/* (pid, address, kind) -> location id; open addressing, linear probing. */
struct addr_slot {
	uint64_t addr;
	int32_t pid;			/* 0 for kernel addresses */
	uint8_t used, ret;
	int loc;
};

struct rec_session {
	struct rec_opts o;
	struct swprof *sw;
	int epfd;
	struct rec_target **targets;
	size_t nr_targets, cap_targets;
	struct sym_session *sym;
	struct prof *prof;
	struct addr_slot *slots;
	size_t nr_slots, used_slots;
	int *locs;			/* scratch: one sample's location ids */
	uint64_t *ips;			/* scratch: unwound user IPs */
	int noframe_loc;
	struct rec_stats st;
};

#define MAX_FRAMES (2 * SWPROF_MAX_DEPTH * SYM_MAX_INLINE)
#define MAX_UNWIND 256
#define ADDR_CACHE_MAX (1u << 22)

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

static void on_sample(struct rec_session *r, struct rec_target *rt, const struct swprof_sample *s)
{
	const __u64 *ips = swprof_sample_ips(s);
	const __u64 *uips = ips + s->nr_kernel;
	unsigned int nu = s->nr_user, n = 0, i;
	pid_t pid = s->pid;

	r->st.samples++;
	if (r->o.raw_stack && s->raw_size) {
		int got = sym_unwind_raw(r->sym, pid, (const uint64_t *)swprof_sample_regs(s),
					 swprof_sample_raw_stack(s), s->raw_size, r->ips, MAX_UNWIND);

		/* keep the frame-pointer walk when it went deeper (e.g. no CFI at all) */
		if (got > 0 && (unsigned int)got >= nu) {
			uips = (const __u64 *)r->ips;
			nu = got;
			r->st.unwound++;
		}
	}
	sym_session_hold(r->sym);
	for (i = 0; i < s->nr_kernel && n < MAX_FRAMES; i++)
		r->locs[n++] = addr_location(r, pid, ips[i], false, true);
	for (i = 0; i < nu && n < MAX_FRAMES; i++)
		r->locs[n++] = addr_location(r, pid, uips[i], i > 0, false);
	sym_session_release(r->sym);
	if (!n)
		r->locs[n++] = r->noframe_loc;
	prof_add_thread_sample(r->prof, rt->thread, r->locs, n, 1, s->period_ns);
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

struct drain_ctx {
	struct rec_session *r;
	struct rec_target *rt;
};

static int drain_cb(void *ctx, const struct swprof_rec *rec)
{
	struct drain_ctx *d = ctx;
	struct rec_session *r = d->r;
	struct rec_target *rt = d->rt;

	if (!swprof_rec_valid(rec)) {
		r->st.bad_records++;
		return 0;
	}
	swprof_seq_tracker_add(&rt->tr, rec);
	switch (rec->type) {
	case SWPROF_REC_SAMPLE:
		on_sample(r, rt, (const struct swprof_sample *)rec);
		break;
	case SWPROF_REC_LOST:
		break;	/* counted by the tracker */
	case SWPROF_REC_EXIT:
		rt->exited = true;
		r->st.exits++;
		break;
	case SWPROF_REC_EXEC: {
		const struct swprof_exec *e = (const void *)rec;
		char comm[SWPROF_COMM_LEN + 1];

		memcpy(comm, e->comm, SWPROF_COMM_LEN);
		comm[SWPROF_COMM_LEN] = '\0';
		r->st.execs++;
		/* a new image: forget the old maps and every address resolved in it */
		sym_proc_forget(r->sym, e->pid);
		cache_clear_pid(r, e->pid);
		rt->pid = e->pid;
		rt->tid = e->tid;
		rt->thread = thread_id(r, e->pid, e->tid, comm);
		break;
	}
	default:
		r->st.bad_records++;
	}
	return 0;
}

static void target_close(struct rec_session *r, struct rec_target *rt)
{
	if (rt->done)
		return;
	swprof_seq_tracker_finish(&rt->tr, rt->t);
	epoll_ctl(r->epfd, EPOLL_CTL_DEL, swprof_target_fd(rt->t), NULL);
	swprof_target_free(rt->t);
	rt->t = NULL;
	rt->done = true;
	if (r->st.threads_live)
		r->st.threads_live--;
}

static int drain_target(struct rec_session *r, struct rec_target *rt)
{
	struct drain_ctx d = { r, rt };
	int n;

	if (rt->done)
		return 0;
	n = swprof_target_read(rt->t, drain_cb, &d, 0);
	if (n == -EBADMSG) {
		/* a corrupt ring cannot be resynchronised: give up on this thread, loudly */
		r->st.bad_records++;
		fprintf(stderr, "swctl: the ring of thread %d is corrupt; dropping it\n", rt->tid);
		target_close(r, rt);
		return n;
	}
	if (rt->exited && !swprof_target_header(rt->t)->lost_pending &&
	    swprof_target_wait(rt->t, 0) == SWPROF_WAIT_EXITED)
		target_close(r, rt);
	return n < 0 ? n : 0;
}

int rec_new(const struct rec_opts *opts, struct rec_session **out, char *errbuf, size_t errlen)
{
	struct rec_session *r;
	int err;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	memcpy(&r->o, opts, opts->sz < sizeof(r->o) ? opts->sz : sizeof(r->o));
	r->epfd = -1;
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
	PROF_OPTS(po, .mem_cap = opts->mem_cap, .period = opts->period_ns);
	r->prof = prof_new(opts->mode == SWPROF_MODE_CPU ? PROF_CPU :
			   opts->mode == SWPROF_MODE_WALL ? PROF_WALL : PROF_OFFCPU, &po);
	r->locs = calloc(MAX_FRAMES, sizeof(*r->locs));
	r->ips = calloc(MAX_UNWIND, sizeof(*r->ips));
	if (r->epfd < 0 || !r->sym || !r->prof || !r->locs || !r->ips || cache_grow(r)) {
		snprintf(errbuf, errlen, "out of memory setting up the recording");
		err = -ENOMEM;
		goto fail;
	}
	if (opts->kernel) {
		struct sym_frame f;

		/* read kallsyms now, not in the middle of the recording */
		sym_resolve_kernel(r->sym, 0, 0, &f, 1);
	}
	{
		int fn = prof_function(r->prof, &(struct prof_function){ .name = "[no stack]" });
		struct prof_line l = { .function = fn };

		r->noframe_loc = prof_location(r->prof, &(struct prof_location){
			.lines = &l, .nr_lines = 1 });
	}
	*out = r;
	return 0;
fail:
	rec_free(r);
	return err;
}

void rec_free(struct rec_session *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nr_targets; i++) {
		if (!r->targets[i]->done && r->targets[i]->t)
			swprof_target_free(r->targets[i]->t);
		free(r->targets[i]);
	}
	free(r->targets);
	if (r->epfd >= 0)
		close(r->epfd);
	sym_session_free(r->sym);
	prof_free(r->prof);
	swprof_close(r->sw);
	free(r->slots);
	free(r->locs);
	free(r->ips);
	free(r);
}

static bool registered(const struct rec_session *r, pid_t tid)
{
	size_t i;

	for (i = 0; i < r->nr_targets; i++)
		if (r->targets[i]->tid == tid && !r->targets[i]->exited)
			return true;
	return false;
}

int rec_add_thread(struct rec_session *r, pid_t pid, pid_t tid)
{
	struct rec_target *rt;
	struct epoll_event ev;
	/* room for ~0.5 s of samples at 999 Hz, raw stack copies included */
	uint32_t ring = r->o.ring_size ? r->o.ring_size : r->o.raw_stack ? 8 << 20 : 512 << 10;
	int err;

	if (r->nr_targets == r->cap_targets) {
		size_t n = r->cap_targets ? 2 * r->cap_targets : 64;
		struct rec_target **t = realloc(r->targets, n * sizeof(*t));

		if (!t)
			return -ENOMEM;
		r->targets = t;
		r->cap_targets = n;
	}
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	SWPROF_OPTS(swprof_target_opts, to,
		.tid = tid,
		.mode = r->o.mode,
		.flags = SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE |
			 (r->o.kernel ? SWPROF_TARGET_KSTACK : 0),
		.period_ns = r->o.period_ns,
		.ring_size = ring,
		.raw_stack_size = r->o.raw_stack,
		/* batch wakeups; rec_poll() also drains on its timeout */
		.wakeup_bytes = ring / 4,
	);
	err = swprof_register(r->sw, &to, &rt->t);
	if (err) {
		free(rt);
		r->st.register_failed++;
		return err;
	}
	rt->pid = pid;
	rt->tid = tid;
	swprof_seq_tracker_init(&rt->tr);
	rt->thread = thread_id(r, pid, tid, NULL);
	/* read the maps now, while the process surely lives */
	sym_proc_refresh(r->sym, pid);
	ev.events = EPOLLIN;
	ev.data.ptr = rt;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, swprof_target_fd(rt->t), &ev)) {
		err = -errno;
		swprof_target_free(rt->t);
		free(rt);
		return err;
	}
	r->targets[r->nr_targets++] = rt;
	r->st.threads++;
	r->st.threads_live++;
	return 0;
}

int rec_add_process(struct rec_session *r, pid_t pid)
{
	char path[64];
	struct dirent *de;
	int added = 0, first_err = 0, err;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		pid_t tid = atoi(de->d_name);

		if (tid <= 0 || registered(r, tid))
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

int rec_poll(struct rec_session *r, int timeout_ms)
{
	struct epoll_event ev[64];
	size_t i;
	int n;

	n = epoll_wait(r->epfd, ev, 64, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < (size_t)n; i++)
		drain_target(r, ev[i].data.ptr);
	if (n == 0)
		return rec_drain(r);	/* below the wakeup threshold: drain on the timeout */
	return 0;
}

int rec_drain(struct rec_session *r)
{
	size_t i;

	for (i = 0; i < r->nr_targets; i++)
		drain_target(r, r->targets[i]);
	return 0;
}

int rec_enable(struct rec_session *r, bool on)
{
	size_t i;
	int err, first = 0;

	for (i = 0; i < r->nr_targets; i++) {
		if (r->targets[i]->done || r->targets[i]->exited)
			continue;
		err = on ? swprof_target_enable(r->targets[i]->t) : swprof_target_disable(r->targets[i]->t);
		if (err && err != -ESRCH && !first)
			first = err;
	}
	return first;
}

bool rec_all_exited(const struct rec_session *r)
{
	size_t i;

	for (i = 0; i < r->nr_targets; i++)
		if (!r->targets[i]->exited)
			return false;
	return true;
}

void rec_get_stats(const struct rec_session *r, struct rec_stats *st)
{
	size_t i;

	*st = r->st;
	st->lost = 0;
	st->seq_gaps = 0;
	for (i = 0; i < r->nr_targets; i++) {
		const struct rec_target *rt = r->targets[i];

		st->lost += rt->tr.lost;
		st->seq_gaps += rt->tr.gaps;
		/* drops not yet reported in-band, for rings still open */
		if (!rt->done && rt->t)
			st->lost += swprof_target_header(rt->t)->lost_pending;
		else
			st->lost += rt->tr.lost_pending;
	}
}

struct prof *rec_profile(struct rec_session *r)
{
	return r->prof;
}
