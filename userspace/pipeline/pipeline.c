// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pipeline: registrations shared by sinks, the decoder (records ->
 * symbolized stacks) and the dispatch to sinks.  The reader thread, which
 * drains the rings, is in reader.c; the stack cache in stack_cache.c.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline_priv.h"
#include "sw_log.h"

#define PL_DEFAULT_QUEUE ((size_t)64 << 20)

/* ---- unwind tables: the mapper's ops are libswprof's calls ------------ */

static int utab_add(void *ctx, const struct swprof_unwind_row *rows, uint32_t nr, uint32_t *id)
{
	return swprof_unwind_table_add(ctx, rows, nr, id);
}

static int utab_free(void *ctx, uint32_t id)
{
	return swprof_unwind_table_free(ctx, id);
}

static int utab_set(void *ctx, pid_t pid, const struct swprof_unwind_mapping *maps, uint32_t nr)
{
	return swprof_unwind_maps_set(ctx, (__u32)pid, maps, nr);
}

static const struct utab_ops pl_utab_ops = {
	.sz = sizeof(pl_utab_ops),
	.table_add = utab_add,
	.table_free = utab_free,
	.maps_set = utab_set,
};

/* Registrations of this kind are walked by tables: user stacks, no raw copy. */
static bool utab_wanted(const struct pl *pl, const struct pl_reg_opts *o)
{
	return pl->utab && !o->raw_stack;
}

/*
 * @pid's maps change soon (it exec'd, or @pre_exec: it will): the reader
 * checks them often for a while (pl_utab_fresh_tick()).  Under utab_lock.
 */
static void utab_fresh(struct pl *pl, pid_t pid, bool pre_exec)
{
	struct pl_fresh *f, *slot = &pl->utab_fresh[0];
	uint64_t now = sw_now_ns();

	for (f = pl->utab_fresh; f < pl->utab_fresh + PL_UTAB_NFRESH; f++) {
		if (f->until && f->pid == pid) {
			slot = f;
			break;
		}
		if (f->until < slot->until)
			slot = f;	/* a free one, else the one that ends first */
	}
	slot->pid = pid;
	slot->pre_exec = pre_exec;
	slot->since = now;
	slot->until = pre_exec ? UINT64_MAX : now + PL_UTAB_FRESH_FOR_NS;
	pl->utab_fresh_next = now + PL_UTAB_EARLY_NS;
}

/* Is @pid a child of ours that still runs our image (forked, not exec'd yet)? */
static bool own_child_before_exec(pid_t pid)
{
	char path[64], line[256];
	struct stat self, other;
	bool child = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "PPid:", 5)) {
			child = atoi(line + 5) == (int)getpid();
			break;
		}
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	return child && !stat("/proc/self/exe", &self) && !stat(path, &other) &&
	       self.st_dev == other.st_dev && self.st_ino == other.st_ino;
}

/*
 * Before a child of ours execs: the libraries almost every program maps
 * (ours, as /proc/self/maps names them) get their tables now, so that the
 * new image's first milliseconds do not wait for their compilation.
 */
static void utab_preload(struct pl *pl)
{
	static const char *const common[] = {
		"libc.so.", "ld-linux-", "libm.so.", "libstdc++.so.", "libgcc_s.so.",
	};
	char line[512], *path, *base;
	FILE *f;
	size_t i;

	if (pl->utab_preloaded)
		return;
	pl->utab_preloaded = true;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		path = strchr(line, '/');
		if (!path || !strstr(line, " r-xp "))
			continue;
		path[strcspn(path, "\n")] = 0;
		base = strrchr(path, '/') + 1;
		for (i = 0; i < sizeof(common) / sizeof(common[0]); i++)
			if (!strncmp(base, common[i], strlen(common[i])))
				utab_mapper_preload(pl->utab, path);
	}
	fclose(f);
}

/*
 * Push @pid's mappings (before sampling starts; @execd: after an exec).
 * Failures leave the process to frame pointers; the mapper counts them.
 */
static void utab_push(struct pl *pl, pid_t pid, bool force, bool execd)
{
	bool fresh = execd;
	int err = 0;

	pthread_mutex_lock(&pl->utab_lock);
	/* our own child before its exec (record -- CMD): its image comes next */
	if (!execd && own_child_before_exec(pid)) {
		utab_preload(pl);
		fresh = true;
	} else if (force || execd || !utab_mapper_knows(pl->utab, pid)) {
		err = utab_mapper_push(pl->utab, pid, force);
	}
	if (fresh)
		utab_fresh(pl, pid, !execd);	/* from now: a push can take a while */
	pthread_mutex_unlock(&pl->utab_lock);
	if (fresh)
		pl_reader_wake(pl);	/* to take the fresh process into account */
	if (err < 0 && err != -ESRCH)
		sw_debug("unwind tables of process %d: %s", (int)pid, strerror(-err));
}

/* Is a registration of @pid that wants tables still open? */
static bool utab_keep(void *ctx, pid_t pid)
{
	struct pl *pl = ctx;
	const struct pl_reg *reg;
	bool keep = false;

	size_t i;

	pthread_mutex_lock(&pl->lock);
	for (reg = pl->regs; reg && !keep; reg = reg->next)
		keep = reg->pid == pid && !reg->closed && utab_wanted(pl, &reg->o) &&
		       !(reg->grp && reg->grp->gone);
	for (i = 0; i < pl->nr_utab_held && !keep; i++)
		keep = pl->utab_held[i] == pid;
	pthread_mutex_unlock(&pl->lock);
	return keep;
}

int pl_hold_tables(struct pl *pl, const pid_t *pids, size_t n)
{
	pid_t *copy = NULL;
	size_t i;
	int err, ret = 0;

	if (!pl->utab)
		return 0;
	if (n && !(copy = malloc(n * sizeof(*copy))))
		return -ENOMEM;
	if (n)
		memcpy(copy, pids, n * sizeof(*copy));
	pthread_mutex_lock(&pl->lock);
	free(pl->utab_held);
	pl->utab_held = copy;
	pl->nr_utab_held = pl->cap_utab_held = n;
	pthread_mutex_unlock(&pl->lock);
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&pl->utab_lock);
		err = utab_mapper_knows(pl->utab, pids[i]) ? 0 : utab_mapper_push(pl->utab, pids[i], false);
		pthread_mutex_unlock(&pl->utab_lock);
		if (err < 0 && err != -ESRCH) {
			sw_debug("unwind tables of process %d: %s", (int)pids[i], strerror(-err));
			ret = ret ?: err;
		}
	}
	return ret;
}

/*
 * The reader thread, between rounds (not under pl->lock): the processes
 * that just started or exec'd get the libraries their loader maps within
 * ~PL_UTAB_FRESH_NS, whatever the worker thread is busy with (symbolizing
 * a new process's first samples can take longer).  Returns the ms until
 * the next check is due, or -1.
 */
int pl_utab_fresh_tick(struct pl *pl)
{
	struct pl_fresh *f;
	uint64_t now, next;
	bool any = false, early = false;

	if (!pl->utab)
		return -1;
	pthread_mutex_lock(&pl->utab_lock);
	now = sw_now_ns();
	if (pl->utab_fresh_next && now >= pl->utab_fresh_next) {
		for (f = pl->utab_fresh; f < pl->utab_fresh + PL_UTAB_NFRESH; f++) {
			if (f->until && now >= f->until)
				f->until = 0;
			if (!f->until)
				continue;
			any = true;
			if (f->pre_exec) {
				if (own_child_before_exec(f->pid)) {
					early = true;
					continue;
				}
				/* it exec'd: the window starts now */
				f->pre_exec = false;
				f->since = now;
				f->until = now + PL_UTAB_FRESH_FOR_NS;
			}
			early |= now - f->since < PL_UTAB_EARLY_FOR_NS;
			if (utab_mapper_push(pl->utab, f->pid, false) == -ESRCH)
				f->until = 0;
		}
		pl->utab_fresh_next = !any ? 0 :
				      sw_now_ns() + (early ? PL_UTAB_EARLY_NS : PL_UTAB_FRESH_NS);
	}
	next = pl->utab_fresh_next;
	pthread_mutex_unlock(&pl->utab_lock);
	if (!next)
		return -1;
	now = sw_now_ns();
	return next > now ? (int)((next - now + 999999) / 1000000) : 0;
}

/* Every second: dlopen()ed libraries get tables, gone processes lose theirs. */
static void utab_check(struct pl *pl)
{
	uint64_t now;

	if (!pl->utab)
		return;
	now = sw_now_ns();
	if (now - pl->utab_checked_ns < PL_UTAB_CHECK_NS)
		return;
	pl->utab_checked_ns = now;
	pthread_mutex_lock(&pl->utab_lock);
	utab_mapper_check_all(pl->utab, utab_keep, pl);
	pthread_mutex_unlock(&pl->utab_lock);
}

bool pl_utab_stats(const struct pl *pl, struct utab_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!pl->utab)
		return false;
	pthread_mutex_lock((pthread_mutex_t *)&pl->utab_lock);
	utab_mapper_stats(pl->utab, st);
	pthread_mutex_unlock((pthread_mutex_t *)&pl->utab_lock);
	return true;
}

int pl_new(const struct pl_opts *opts, struct pl **out)
{
	pthread_condattr_t ca;
	struct pl *pl;
	int err;

	*out = NULL;
	if (!SW_OPTS_VALID(opts, pl_opts))
		return -EINVAL;
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	if (opts)
		memcpy(&pl->o, opts, opts->sz < sizeof(pl->o) ? opts->sz : sizeof(pl->o));
	pl->epfd = -1;
	pl->wakefd = -1;
	pl->q_max = pl->o.queue_bytes ? pl->o.queue_bytes : PL_DEFAULT_QUEUE;
	pthread_mutex_init(&pl->lock, NULL);
	pthread_mutex_init(&pl->utab_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pl->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (!pl->o.offline) {
		SWPROF_OPTS(swprof_open_opts, oo, .path = pl->o.device);

		err = swprof_open(&oo, &pl->sw);
		if (err) {
			sw_err("cannot open %s: %s", pl->o.device ? pl->o.device : SWPROF_DEVICE,
			       swprof_strerror(err));
			goto fail;
		}
		pl->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (!pl->o.fp_only && swprof_has_feature(pl->sw, SWPROF_FEAT_UNWIND_TABLES)) {
			UTAB_MAPPER_OPTS(mo, .ops = &pl_utab_ops, .ctx = pl->sw);

			err = utab_mapper_new(&mo, &pl->utab);
			if (err) {
				sw_err("out of memory setting up the pipeline");
				goto fail;
			}
		}
	}
	SYM_OPTS(so, .flags = pl->o.sym_flags);
	sym_session_new(&so, &pl->sym);
	pl->cache = stack_cache_new();
	pl->ips = calloc(PL_MAX_UNWIND, sizeof(*pl->ips));
	if ((!pl->o.offline && pl->epfd < 0) || !pl->sym || !pl->cache || !pl->ips) {
		sw_err("out of memory setting up the pipeline");
		err = -ENOMEM;
		goto fail;
	}
	if (!pl->o.offline) {
		err = pl_reader_start(pl);
		if (err) {
			sw_err("cannot start the ring reader: %s", strerror(-err));
			goto fail;
		}
	}
	*out = pl;
	return 0;
fail:
	pl_free(pl);
	return err;
}

/*
 * [lock] held, or no reader any more.  Only targets no epoll event the
 * reader holds can name (see pl.reader_gen), unless @all.
 */
static void free_retired(struct pl *pl, bool all)
{
	struct pl_target **pp = &pl->retired;

	while (*pp) {
		struct pl_target *rt = *pp;

		if (all || !pl->reader_running || rt->retired_gen <= pl->reader_gen) {
			*pp = rt->next;
			free(rt);
		} else {
			pp = &rt->next;
		}
	}
}

static void free_subs(struct pl_reg *reg)
{
	while (reg->subs) {
		struct pl_sub *n = reg->subs->next;

		free(reg->subs);
		reg->subs = n;
	}
}

void pl_free(struct pl *pl)
{
	size_t i;

	if (!pl)
		return;
	pl_reader_stop(pl);
	for (i = 0; i < pl->nr_targets; i++) {
		swprof_target_free(pl->targets[i]->t);
		free(pl->targets[i]);
	}
	free(pl->targets);
	free_retired(pl, true);
	while (pl->offline) {
		struct pl_target *n = pl->offline->next;

		free(pl->offline);
		pl->offline = n;
	}
	for (i = 0; i < pl->nr_groups; i++) {
		swprof_group_free(pl->groups[i]->g);
		free(pl->groups[i]);
	}
	free(pl->groups);
	while (pl->regs) {
		struct pl_reg *n = pl->regs->next;

		free_subs(pl->regs);
		free(pl->regs);
		pl->regs = n;
	}
	while (pl->sinks) {
		struct pl_sink *n = pl->sinks->next;

		free(pl->sinks);
		pl->sinks = n;
	}
	rq_free(pl->q_head);
	rq_free(pl->w_list);
	if (pl->wakefd >= 0)
		close(pl->wakefd);
	if (pl->epfd >= 0)
		close(pl->epfd);
	sym_session_free(pl->sym);
	stack_cache_free(pl->cache);
	utab_mapper_free(pl->utab);	/* frees the tables; closing the device drops the rest */
	swprof_close(pl->sw);
	pthread_cond_destroy(&pl->cond);
	pthread_mutex_destroy(&pl->lock);
	pthread_mutex_destroy(&pl->utab_lock);
	free(pl->frames);
	free(pl->ips);
	free(pl->utab_held);
	free(pl);
}

struct swprof *pl_device(const struct pl *pl)
{
	return pl->sw;
}

struct sym_session *pl_symbolizer(const struct pl *pl)
{
	return pl->sym;
}

unsigned int pl_nr_threads(const struct pl *pl)
{
	return pl->reader_running ? 1 : 0;
}

/* ---- sinks and subscriptions ------------------------------------------ */

int pl_sink_new(struct pl *pl, const struct pl_sink_ops *ops, void *ctx, struct pl_sink **out)
{
	struct pl_sink *s;

	*out = NULL;
	if (!ops || !SW_OPTS_VALID(ops, pl_sink_ops))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->pl = pl;
	memcpy(&s->ops, ops, ops->sz < sizeof(s->ops) ? ops->sz : sizeof(s->ops));
	s->ctx = ctx;
	s->next = pl->sinks;
	pl->sinks = s;
	*out = s;
	return 0;
}

static bool subscribed(const struct pl_reg *reg, const struct pl_sink *s)
{
	const struct pl_sub *sub;

	for (sub = reg->subs; sub; sub = sub->next)
		if (sub->sink == s)
			return true;
	return false;
}

static int subscribe(struct pl_reg *reg, struct pl_sink *s)
{
	struct pl_sub *sub;

	if (subscribed(reg, s))
		return 0;
	sub = calloc(1, sizeof(*sub));
	if (!sub)
		return -ENOMEM;
	sub->sink = s;
	sub->next = reg->subs;
	reg->subs = sub;
	return 0;
}

/* The last sink left: close the rings and the group. */
static void reg_close(struct pl *pl, struct pl_reg *reg)
{
	size_t i;

	pthread_mutex_lock(&pl->lock);
	reg->closed = true;
	for (i = pl->nr_targets; i-- > 0;) {
		struct pl_target *rt = pl->targets[i];

		if (rt->reg != reg)
			continue;
		pl_target_close(pl, rt);
		/* an event the reader got before we took the lock may name it */
		rt->retired_gen = pl->reader_gen + 1;
	}
	if (reg->grp)
		pl_group_close(pl, reg->grp);
	pthread_mutex_unlock(&pl->lock);
}

void pl_sink_free(struct pl_sink *s)
{
	struct pl_sink **pp;
	struct pl_reg *reg;
	struct pl *pl;

	if (!s)
		return;
	pl = s->pl;
	for (reg = pl->regs; reg; reg = reg->next) {
		struct pl_sub **sp;

		for (sp = &reg->subs; *sp; sp = &(*sp)->next) {
			if ((*sp)->sink == s) {
				struct pl_sub *dead = *sp;

				*sp = dead->next;
				free(dead);
				if (!reg->subs && !reg->closed)
					reg_close(pl, reg);
				break;
			}
		}
	}
	for (pp = &pl->sinks; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	free(s);
}

/* ---- registration ----------------------------------------------------- */

static struct pl_reg *reg_find(const struct pl *pl, pid_t pid, pid_t tid,
			       const struct pl_reg_opts *o)
{
	struct pl_reg *reg;

	for (reg = pl->regs; reg; reg = reg->next)
		if (!reg->closed && !reg->adopted && reg->pid == pid && reg->tid == tid &&
		    !memcmp(&reg->o, o, sizeof(*o)))
			return reg;
	return NULL;
}

static struct pl_reg *reg_new(struct pl *pl, pid_t pid, pid_t tid, const struct pl_reg_opts *o)
{
	struct pl_reg *reg = calloc(1, sizeof(*reg));

	if (!reg)
		return NULL;
	reg->o = *o;
	reg->pid = pid;
	reg->tid = tid;
	reg->next = pl->regs;
	pl->regs = reg;
	return reg;
}

/* The options as this pipeline compares them: known fields only, zero padding. */
static int reg_opts(const struct pl_reg_opts *in, struct pl_reg_opts *o)
{
	if (!in || !SW_OPTS_VALID(in, pl_reg_opts))
		return -EINVAL;
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->mode = SW_OPTS_GET(in, mode, 0);
	o->period_ns = SW_OPTS_GET(in, period_ns, 0);
	o->kernel = SW_OPTS_GET(in, kernel, false);
	o->raw_stack = SW_OPTS_GET(in, raw_stack, 0);
	o->ring_size = SW_OPTS_GET(in, ring_size, 0);
	o->min_block_ns = SW_OPTS_GET(in, min_block_ns, 0);
	o->scan_threads = SW_OPTS_GET(in, scan_threads, false);
	return 0;
}

/* [lock] held */
static bool registered(const struct pl *pl, const struct pl_reg *reg, pid_t tid)
{
	size_t i;

	for (i = 0; i < pl->nr_targets; i++)
		if (pl->targets[i]->reg == reg && pl->targets[i]->tid == tid &&
		    !pl->targets[i]->exited)
			return true;
	return false;
}

/* Ring per thread: a second or more of samples at 999 Hz, raw stack copies included. */
static uint32_t ring_bytes(const struct pl_reg_opts *o)
{
	return o->ring_size ? o->ring_size : o->raw_stack ? 8 << 20 : 512 << 10;
}

static void target_opts(const struct pl_reg_opts *o, struct swprof_target_opts *to, pid_t tid)
{
	uint32_t ring = ring_bytes(o);

	memset(to, 0, sizeof(*to));
	to->sz = sizeof(*to);
	to->tid = tid;
	to->mode = o->mode;
	to->flags = SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE | (o->kernel ? SWPROF_TARGET_KSTACK : 0);
	to->period_ns = o->period_ns;
	to->ring_size = ring;
	to->raw_stack_size = o->raw_stack;
	/* batch wakeups; the reader also sweeps every ring every 100 ms */
	to->wakeup_bytes = ring / 4;
	to->min_block_ns = o->min_block_ns;
}

/* Hand @t to the reader as a target of @reg: 0, or -ENOMEM (@t is the caller's still). */
static int publish_target(struct pl *pl, struct pl_reg *reg, pid_t pid, pid_t tid,
			  struct swprof_target *t)
{
	struct pl_target *rt;
	int err;

	pthread_mutex_lock(&pl->lock);
	rt = pl_target_alloc(pl, reg, pid, tid);
	err = rt ? 0 : -ENOMEM;
	if (rt) {
		rt->t = t;
		err = pl_target_publish(pl, rt);
		if (err)
			free(rt);
	}
	pthread_mutex_unlock(&pl->lock);
	return err;
}

/* Register one thread of @reg. */
static int reg_add_thread(struct pl *pl, struct pl_sink *s, struct pl_reg *reg, pid_t pid, pid_t tid)
{
	struct swprof_target_opts to;
	struct swprof_target *t;
	int err;

	if (!pl->sw)
		return -ENODEV;
	if (utab_wanted(pl, &reg->o))
		utab_push(pl, pid, false, false);	/* before sampling starts */
	target_opts(&reg->o, &to, tid);
	err = swprof_register(pl->sw, &to, &t);
	if (err) {
		if (err != -ESRCH)	/* a thread that exited meanwhile was not missed */
			s->register_failed++;
		return err;
	}
	/* read the maps now, while the process surely lives */
	sym_proc_refresh(pl->sym, pid);
	err = publish_target(pl, reg, pid, tid, t);
	if (err)
		swprof_target_free(t);
	return err;
}

int pl_add_thread(struct pl *pl, struct pl_sink *s, pid_t pid, pid_t tid,
		  const struct pl_reg_opts *opts)
{
	struct pl_reg_opts o;
	struct pl_reg *reg;
	int err = reg_opts(opts, &o);

	if (err)
		return err;
	reg = reg_find(pl, pid, tid, &o);
	if (reg)
		return subscribe(reg, s);
	reg = reg_new(pl, pid, tid, &o);
	if (!reg)
		return -ENOMEM;
	err = reg_add_thread(pl, s, reg, pid, tid);
	if (!err)
		err = subscribe(reg, s);
	if (err)
		reg->closed = true;	/* nothing registered: never found again */
	return err;
}

int pl_adopt_target(struct pl *pl, struct pl_sink *s, struct swprof_target *t, pid_t pid,
		    pid_t tid)
{
	PL_REG_OPTS(o);
	struct pl_reg *reg;
	int err;

	/* never shared: the sink that adopts it decides its life */
	reg = reg_new(pl, pid, tid, &o);
	if (reg && utab_wanted(pl, &o))
		utab_push(pl, pid, false, false);	/* a trace segment's process */
	if (reg)
		reg->adopted = true;
	if (!reg || subscribe(reg, s)) {
		swprof_target_free(t);
		return -ENOMEM;
	}
	err = publish_target(pl, reg, pid, tid, t);
	if (err) {
		swprof_target_free(t);
		free_subs(reg);
		reg->closed = true;
	}
	return err;
}

bool pl_follows_processes(const struct pl *pl, const struct pl_reg_opts *opts)
{
	return pl->sw && !SW_OPTS_GET(opts, scan_threads, false) &&
	       swprof_has_feature(pl->sw, SWPROF_FEAT_PROCESS);
}

/* The module follows the process: one group fd, its threads come through it. */
static int reg_add_group(struct pl *pl, struct pl_sink *s, struct pl_reg *reg)
{
	struct swprof_target_opts to;
	struct pl_group *g;
	int err;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->kind = PL_POLL_GROUP;
	g->reg = reg;
	if (utab_wanted(pl, &reg->o))
		utab_push(pl, reg->pid, false, false);	/* before sampling starts */
	target_opts(&reg->o, &to, reg->pid);
	err = swprof_register_process(pl->sw, &to, &g->g);
	if (err) {
		free(g);
		s->register_failed++;
		return err;
	}
	sym_proc_refresh(pl->sym, reg->pid);
	pthread_mutex_lock(&pl->lock);
	err = pl_group_publish(pl, g);
	if (!err)
		reg->grp = g;
	pthread_mutex_unlock(&pl->lock);
	if (err) {
		swprof_group_free(g->g);
		free(g);
		return err;
	}
	pl_reader_wake(pl);
	return 1;
}

static int reg_scan(struct pl *pl, struct pl_sink *s, struct pl_reg *reg)
{
	char path[64];
	struct dirent *de;
	int added = 0, first_err = 0, err;
	bool known;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", reg->pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		pid_t tid = atoi(de->d_name);

		if (tid <= 0)
			continue;
		pthread_mutex_lock(&pl->lock);
		known = registered(pl, reg, tid);
		pthread_mutex_unlock(&pl->lock);
		if (known)
			continue;
		err = reg_add_thread(pl, s, reg, reg->pid, tid);
		if (!err)
			added++;
		else if (err != -ESRCH && !first_err)
			first_err = err;	/* a thread that just exited is no error */
	}
	closedir(d);
	return added || !first_err ? added : first_err;
}

int pl_add_process(struct pl *pl, struct pl_sink *s, pid_t pid, const struct pl_reg_opts *opts)
{
	struct pl_reg_opts o;
	struct pl_reg *reg;
	bool fresh = false;
	int err = reg_opts(opts, &o), ret;

	if (err)
		return err;
	reg = reg_find(pl, pid, 0, &o);
	if (!reg) {
		reg = reg_new(pl, pid, 0, &o);
		if (!reg)
			return -ENOMEM;
		fresh = true;
	}
	err = subscribe(reg, s);
	if (err)
		return err;
	if (pl_follows_processes(pl, &o))
		ret = fresh ? reg_add_group(pl, s, reg) : 0;
	else
		ret = reg_scan(pl, s, reg);
	if (ret < 0 && fresh) {
		free_subs(reg);
		reg->closed = true;	/* nothing registered: never found again */
	}
	return ret;
}

bool pl_process_gone(const struct pl *pl, pid_t pid)
{
	const struct pl_reg *reg;
	bool gone = false, found = false;

	pthread_mutex_lock((pthread_mutex_t *)&pl->lock);
	for (reg = pl->regs; reg; reg = reg->next) {
		if (reg->pid == pid && reg->grp && !reg->closed) {
			found = true;
			gone = reg->grp->gone;
			break;
		}
	}
	pthread_mutex_unlock((pthread_mutex_t *)&pl->lock);
	if (found)
		return gone;
	return kill(pid, 0) && errno == ESRCH;
}

int pl_enable(struct pl *pl, struct pl_sink *s, bool on)
{
	size_t i;
	int err, first = 0;

	pthread_mutex_lock(&pl->lock);
	for (i = 0; i < pl->nr_targets; i++) {
		struct pl_target *rt = pl->targets[i];

		if (rt->exited || !subscribed(rt->reg, s))
			continue;
		err = on ? swprof_target_enable(rt->t) : swprof_target_disable(rt->t);
		if (err && err != -ESRCH && !first)
			first = err;
	}
	pthread_mutex_unlock(&pl->lock);
	return first;
}

bool pl_all_exited(const struct pl *pl, const struct pl_sink *s)
{
	bool all = true;
	size_t i;

	pthread_mutex_lock((pthread_mutex_t *)&pl->lock);
	for (i = 0; i < pl->nr_targets && all; i++)
		if (!pl->targets[i]->exited && subscribed(pl->targets[i]->reg, s))
			all = false;
	pthread_mutex_unlock((pthread_mutex_t *)&pl->lock);
	return all;
}

void pl_target_stats(const struct pl *pl, const struct pl_sink *s, struct pl_target_stats *st)
{
	const struct pl_reg *reg;
	size_t i;

	memset(st, 0, sizeof(*st));
	st->register_failed = s->register_failed;
	pthread_mutex_lock((pthread_mutex_t *)&pl->lock);
	for (reg = pl->regs; reg; reg = reg->next) {
		if (!subscribed(reg, s))
			continue;
		st->records += reg->st.records;
		st->lost += reg->st.lost;
		st->seq_gaps += reg->st.seq_gaps;
		st->bad_records += reg->st.bad_records;
		st->threads += reg->st.threads;
		st->threads_live += reg->st.threads_live;
		st->register_failed += reg->st.register_failed;
		st->group_missed += reg->st.group_missed;
		if (reg->st.ring_lag_max_ns > st->ring_lag_max_ns)
			st->ring_lag_max_ns = reg->st.ring_lag_max_ns;
	}
	for (i = 0; i < pl->nr_targets; i++) {
		const struct pl_target *rt = pl->targets[i];

		if (!subscribed(rt->reg, s))
			continue;
		/* and drops not yet reported in-band */
		st->lost += rt->tr.lost + swprof_target_header(rt->t)->lost_pending;
		st->seq_gaps += rt->tr.gaps;
	}
	pthread_mutex_unlock((pthread_mutex_t *)&pl->lock);
}

void pl_queue_stats(const struct pl *pl, struct pl_queue_stats *st)
{
	pthread_mutex_lock((pthread_mutex_t *)&pl->lock);
	*st = pl->qs;
	st->bytes = pl->q_bytes;
	pthread_mutex_unlock((pthread_mutex_t *)&pl->lock);
}

void pl_preload_tables(struct pl *pl, const char *path)
{
	if (!pl->utab)
		return;
	pthread_mutex_lock(&pl->utab_lock);
	utab_preload(pl);
	if (path)
		utab_mapper_preload(pl->utab, path);
	pthread_mutex_unlock(&pl->utab_lock);
}

void pl_preload_kernel(struct pl *pl)
{
	struct sym_frame f;

	sym_resolve_kernel(pl->sym, 0, 0, &f, 1);
}

/* ---- the decoder ------------------------------------------------------ */

static void dispatch_record(struct pl_target *rt, const struct swprof_rec *rec)
{
	struct pl_sub *sub;

	for (sub = rt->reg->subs; sub; sub = sub->next)
		if (sub->sink->ops.record)
			sub->sink->ops.record(sub->sink->ctx, rt->id, rt->pid, rt->tid, rec);
}

/* A SAMPLE or an OFFCPU record (same layout). */
static void on_sample(struct pl *pl, struct pl_target *rt, const struct swprof_sample *s)
{
	const __u64 *ips = swprof_sample_ips(s);
	const __u64 *uips;
	unsigned int nu = s->nr_user, n = 0, i;
	struct pl_stack st = { .s = s, .target = rt->id, .pid = rt->pid, .tid = rt->tid };
	struct pl_sub *sub;
	pid_t pid = s->pid;

	if (!ips) {
		dispatch_record(rt, &s->hdr);	/* the sinks count it as bad */
		return;
	}
	uips = ips + s->nr_kernel;
	if (rt->reg->o.raw_stack && s->raw_size) {
		int got = sym_unwind_raw(pl->sym, pid, (const uint64_t *)swprof_sample_regs(s),
					 swprof_sample_raw_stack(s), s->raw_size, pl->ips, PL_MAX_UNWIND);

		/* keep the frame-pointer walk when it went deeper (e.g. no CFI at all) */
		if (got > 0 && (unsigned int)got >= nu) {
			uips = (const __u64 *)pl->ips;
			nu = got;
			st.unwound = true;
			pl->qs.unwound++;
		}
	}
	if ((size_t)s->nr_kernel + nu > pl->frames_cap) {
		/* scratch for the frames: grows to the deepest stack seen */
		size_t cap = (size_t)s->nr_kernel + nu + 64;
		const struct pl_frames **f = realloc(pl->frames, cap * sizeof(*f));

		if (!f)
			return;
		pl->frames = f;
		pl->frames_cap = cap;
	}
	stack_cache_make_room(pl->cache, (size_t)s->nr_kernel + nu);
	sym_session_hold(pl->sym);
	for (i = 0; i < s->nr_kernel; i++)
		pl->frames[n++] = stack_cache_get(pl->cache, pl->sym, pid, ips[i], false, true);
	for (i = 0; i < nu; i++)
		pl->frames[n++] = stack_cache_get(pl->cache, pl->sym, pid, uips[i], i > 0, false);
	sym_session_release(pl->sym);
	st.nr_kernel = s->nr_kernel;
	st.nr_user = nu;
	st.frames = pl->frames;
	for (sub = rt->reg->subs; sub; sub = sub->next)
		if (sub->sink->ops.sample)
			sub->sink->ops.sample(sub->sink->ctx, &st);
}

void pl_process(struct pl *pl, struct pl_target *rt, const struct swprof_rec *rec)
{
	if (!rt->reg->subs)
		return;		/* no sink any more */
	switch (rec->type) {
	case SWPROF_REC_SAMPLE:
	case SWPROF_REC_OFFCPU:
		on_sample(pl, rt, (const struct swprof_sample *)rec);
		return;
	case SWPROF_REC_EXEC: {
		const struct swprof_exec *e = (const void *)rec;

		/* a new image: forget the old maps and every address resolved in it */
		sym_proc_forget(pl->sym, e->pid);
		stack_cache_forget_pid(pl->cache, e->pid);
		/* the new image's files: once per process (every thread has the record) */
		if (utab_wanted(pl, &rt->reg->o))
			utab_push(pl, e->pid, false, true);
		rt->pid = e->pid;
		rt->tid = e->tid;
		break;
	}
	case SWPROF_REC_COMM: {
		const struct swprof_comm *c = (const void *)rec;

		rt->pid = c->pid;
		rt->tid = c->tid;
		break;
	}
	}
	dispatch_record(rt, rec);
}

/*
 * Process queued records until the queue is empty or the deadline (0: none)
 * passes.  Returns true when everything queued was processed.
 */
static bool process_queue(struct pl *pl, uint64_t deadline)
{
	unsigned int n = 0;
	uint64_t now = 0;

	for (;;) {
		struct rq_chunk *c = pl->w_list;

		if (!c) {
			pthread_mutex_lock(&pl->lock);
			pl->w_list = pl->q_head;
			pl->q_head = pl->q_tail = NULL;
			/* nothing queued: no record names a retired target any more */
			if (!pl->w_list)
				free_retired(pl, false);
			pthread_mutex_unlock(&pl->lock);
			pl->w_off = 0;
			if (!pl->w_list)
				return true;
			continue;
		}
		while (pl->w_off < c->used) {
			const struct rq_ent *e = (const void *)(c->data + pl->w_off);
			const struct swprof_rec *rec = (const void *)(e + 1);

			if (!(n & 63))
				now = sw_now_ns();
			/* how far decoding runs behind the samples */
			if (rec->time_ns && rec->time_ns < now && now - rec->time_ns > pl->qs.sym_lag_max_ns)
				pl->qs.sym_lag_max_ns = now - rec->time_ns;
			pl_process(pl, e->rt, rec);
			pl->w_off += sizeof(*e) + e->size;
			if (deadline && !(++n & 63) && sw_now_ns() >= deadline)
				return false;
		}
		pl->w_list = c->next;
		pl->w_off = 0;
		pthread_mutex_lock(&pl->lock);
		pl->q_bytes -= c->cap;
		pthread_cond_broadcast(&pl->cond);	/* room again for the reader */
		pthread_mutex_unlock(&pl->lock);
		free(c);
	}
}

static void deadline_ts(uint64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / 1000000000ULL;
	ts->tv_nsec = ns % 1000000000ULL;
}

int pl_poll(struct pl *pl, int timeout_ms)
{
	uint64_t deadline = sw_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ULL;
	struct timespec ts;

	if (!pl->w_list) {
		deadline_ts(deadline, &ts);
		pthread_mutex_lock(&pl->lock);
		while (!pl->q_head && sw_now_ns() < deadline)
			if (pthread_cond_timedwait(&pl->cond, &pl->lock, &ts) == ETIMEDOUT)
				break;
		pthread_mutex_unlock(&pl->lock);
	}
	/* at least a little work even when the wait used the whole timeout */
	if (deadline < sw_now_ns() + 10000000ULL)
		deadline = sw_now_ns() + 10000000ULL;
	process_queue(pl, deadline);
	utab_check(pl);
	return 0;
}

int pl_drain(struct pl *pl)
{
	uint64_t req;
	bool done;

	if (!pl->reader_running) {
		process_queue(pl, 0);
		return 0;
	}
	pthread_mutex_lock(&pl->lock);
	req = ++pl->drain_req;
	pthread_mutex_unlock(&pl->lock);
	pl_reader_wake(pl);
	for (;;) {
		process_queue(pl, 0);
		pthread_mutex_lock(&pl->lock);
		done = pl->drain_done >= req && !pl->q_head;
		if (!done && !pl->q_head)
			pthread_cond_wait(&pl->cond, &pl->lock);
		pthread_mutex_unlock(&pl->lock);
		if (done)
			break;
	}
	return 0;
}
