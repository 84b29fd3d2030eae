// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one reader thread of a pipeline: waits on every ring and process group
 * with epoll, copies records into the queue and gives the ring space back
 * at once, accepts the threads groups hand out, closes rings whose thread
 * exited.  It never symbolizes: that is the decoder's job (pipeline.c), so a
 * slow first look at a big binary never keeps a ring from being drained.
 *
 * Rings wake the reader only every ring_size / 4 bytes (fewer wakeups);
 * every PL_SWEEP_NS it reads every ring anyway, so that a quiet thread's
 * few samples do not wait until the end.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pipeline_priv.h"
#include "sw_log.h"

#define PL_SWEEP_NS	100000000ULL	/* read every ring this often */
#define PL_READER_NICE	(-10)
#define RQ_CHUNK	(256u << 10)

void rq_free(struct rq_chunk *c)
{
	while (c) {
		struct rq_chunk *next = c->next;

		free(c);
		c = next;
	}
}

/* Append a copy of rec; [lock] held.  The queue may exceed q_max by one record. */
static int rq_push(struct pl *pl, struct pl_target *rt, const struct swprof_rec *rec)
{
	size_t need = sizeof(struct rq_ent) + rec->size;
	struct rq_chunk *c = pl->q_tail;
	struct rq_ent *e;

	if (!c || c->cap - c->used < need) {
		size_t cap = need > RQ_CHUNK ? need : RQ_CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return -ENOMEM;
		c->next = NULL;
		c->used = 0;
		c->cap = cap;
		if (pl->q_tail)
			pl->q_tail->next = c;
		else
			pl->q_head = c;
		pl->q_tail = c;
		pl->q_bytes += cap;
		if (pl->q_bytes > pl->qs.peak)
			pl->qs.peak = pl->q_bytes;
	}
	e = (struct rq_ent *)(c->data + c->used);
	e->rt = rt;
	e->size = rec->size;
	memcpy(e + 1, rec, rec->size);
	c->used += need;	/* record sizes are multiples of 8 */
	return 0;
}

static bool rq_full(const struct pl *pl)
{
	return pl->q_bytes >= pl->q_max;
}

void pl_target_close(struct pl *pl, struct pl_target *rt)
{
	struct pl_target *last;

	if (rt->done)
		return;
	swprof_seq_tracker_finish(&rt->tr, rt->t);
	rt->reg->st.lost += rt->tr.lost + rt->tr.lost_pending;
	rt->reg->st.seq_gaps += rt->tr.gaps;
	epoll_ctl(pl->epfd, EPOLL_CTL_DEL, swprof_target_fd(rt->t), NULL);
	swprof_target_free(rt->t);
	rt->t = NULL;
	rt->done = true;
	/* out of targets[]: sweeps and stats stay proportional to live threads */
	last = pl->targets[--pl->nr_targets];
	pl->targets[rt->idx] = last;
	last->idx = rt->idx;
	rt->retired_gen = 0;	/* the reader's own: no event of its names it any more */
	rt->next = pl->retired;
	pl->retired = rt;
	if (rt->reg->st.threads_live)
		rt->reg->st.threads_live--;
}

struct copy_ctx {
	struct pl *pl;
	struct pl_target *rt;
	uint64_t now;
	int err;
};

static int copy_cb(void *ctx, const struct swprof_rec *rec)
{
	struct copy_ctx *c = ctx;
	struct pl *pl = c->pl;
	struct pl_target_stats *st = &c->rt->reg->st;

	st->records++;
	pl->qs.read_records++;
	pl->qs.read_bytes += rec->size;
	/* how long records wait in the ring before the reader takes them */
	if (rec->time_ns && rec->time_ns < c->now && c->now - rec->time_ns > st->ring_lag_max_ns)
		st->ring_lag_max_ns = c->now - rec->time_ns;
	if (pl->o.save_raw)
		pl_raw_write(pl, c->rt, rec);
	if (!swprof_rec_valid(rec)) {
		st->bad_records++;
		return 0;
	}
	swprof_seq_tracker_add(&c->rt->tr, rec);
	if (rec->type == SWPROF_REC_LOST)
		return 0;	/* counted by the tracker; nothing to aggregate */
	if (rec->type == SWPROF_REC_EXIT)
		c->rt->exited = true;
	c->err = rq_push(pl, c->rt, rec);
	if (c->err)
		return c->err;
	return rq_full(pl) ? 1 : 0;	/* stop: wait for the worker to catch up */
}

/*
 * Copy everything the ring holds; [lock] held, released while waiting for
 * queue space.  hup: the ring reported POLLHUP (drained and the thread gone).
 */
static void target_read(struct pl *pl, struct pl_target *rt, bool hup)
{
	struct copy_ctx c = { pl, rt, 0, 0 };
	int n;

	while (!rt->done) {
		c.now = sw_now_ns();
		n = swprof_target_read(rt->t, copy_cb, &c, 0);
		if (n == -EBADMSG) {
			/* a corrupt ring cannot be resynchronised: give up on this thread, loudly */
			rt->reg->st.bad_records++;
			sw_err("the ring of thread %d is corrupt; dropping it", rt->tid);
			pl_target_close(pl, rt);
			return;
		}
		if (n < 0) {
			/* out of memory: the records stay in the ring, try again later */
			return;
		}
		if (!rq_full(pl))
			break;
		/* the worker is behind: let it take the queue, then go on */
		pl->qs.full++;
		pthread_cond_broadcast(&pl->cond);
		while (rq_full(pl) && !pl->stop)
			pthread_cond_wait(&pl->cond, &pl->lock);
		if (pl->stop)
			return;
	}
	if (rt->done)
		return;
	/*
	 * POLLHUP: exited (or sampling denied on exec) and drained.  Without
	 * epoll's word for it, ask once the EXIT record was read.
	 */
	if (hup || (rt->exited && swprof_target_wait(rt->t, 0) == SWPROF_WAIT_EXITED))
		pl_target_close(pl, rt);
}

struct pl_target *pl_target_alloc(struct pl *pl, struct pl_reg *reg, pid_t pid, pid_t tid)
{
	struct pl_target *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return NULL;
	rt->kind = PL_POLL_TARGET;
	rt->reg = reg;
	rt->id = ++pl->next_target_id;
	rt->pid = rt->pid0 = pid;
	rt->tid = rt->tid0 = tid;
	swprof_seq_tracker_init(&rt->tr);
	return rt;
}

void pl_group_close(struct pl *pl, struct pl_group *g)
{
	if (!g->g)
		return;
	if (!g->gone && !g->stalled)
		epoll_ctl(pl->epfd, EPOLL_CTL_DEL, swprof_group_fd(g->g), NULL);
	swprof_group_free(g->g);
	g->g = NULL;
	g->gone = true;
}

int pl_target_publish(struct pl *pl, struct pl_target *rt)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = rt };

	if (pl->nr_targets == pl->cap_targets) {
		size_t n = pl->cap_targets ? 2 * pl->cap_targets : 64;
		struct pl_target **t = realloc(pl->targets, n * sizeof(*t));

		if (!t)
			return -ENOMEM;
		pl->targets = t;
		pl->cap_targets = n;
	}
	if (epoll_ctl(pl->epfd, EPOLL_CTL_ADD, swprof_target_fd(rt->t), &ev))
		return -errno;
	rt->idx = pl->nr_targets;
	pl->targets[pl->nr_targets++] = rt;
	rt->reg->st.threads++;
	rt->reg->st.threads_live++;
	return 0;
}

int pl_group_publish(struct pl *pl, struct pl_group *g)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = g };
	struct pl_group **gs = realloc(pl->groups, (pl->nr_groups + 1) * sizeof(*gs));

	if (!gs)
		return -ENOMEM;
	pl->groups = gs;
	if (epoll_ctl(pl->epfd, EPOLL_CTL_ADD, swprof_group_fd(g->g), &ev))
		return -errno;
	pl->groups[pl->nr_groups++] = g;
	return 0;
}

static uint32_t fd_events(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 ? (p.revents & POLLHUP ? EPOLLHUP : 0) |
				     (p.revents & POLLERR ? EPOLLERR : 0) : 0;
}

/* Take every thread the group has for us; [lock] held. */
static void group_accept(struct pl *pl, struct pl_group *g, uint32_t events)
{
	struct swprof_group_stats gst;

	if (g->gone || !g->g)
		return;
	for (;;) {
		struct swprof_target *t;
		struct pl_target *rt;
		int err = swprof_group_accept(g->g, &t);

		if (err == -EAGAIN)
			break;
		if (err) {
			/*
			 * Out of fds or memory: the thread waits in the group.
			 * Leave the epoll set (a level-triggered POLLIN would spin)
			 * and retry on the next sweep.
			 */
			if (!g->stalled) {
				g->stalled = true;
				g->reg->st.register_failed++;
				epoll_ctl(pl->epfd, EPOLL_CTL_DEL, swprof_group_fd(g->g), NULL);
			}
			return;
		}
		rt = pl_target_alloc(pl, g->reg, swprof_target_pid(t), swprof_target_tid(t));
		if (!rt) {
			swprof_target_free(t);
			g->reg->st.register_failed++;
			continue;
		}
		rt->t = t;
		if (pl_target_publish(pl, rt)) {
			swprof_target_free(t);
			free(rt);
			g->reg->st.register_failed++;
		}
	}
	if (g->stalled) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = g };

		g->stalled = false;
		epoll_ctl(pl->epfd, EPOLL_CTL_ADD, swprof_group_fd(g->g), &ev);
	}
	if (!events)
		events = fd_events(swprof_group_fd(g->g));
	if (events & (EPOLLHUP | EPOLLERR)) {
		/* every thread exited and was handed out: nothing more will come */
		g->gone = true;
		epoll_ctl(pl->epfd, EPOLL_CTL_DEL, swprof_group_fd(g->g), NULL);
	}
	if (!swprof_group_stats(g->g, &gst))
		g->reg->st.group_missed = gst.missed;
}

static void sweep(struct pl *pl)
{
	size_t i;

	for (i = 0; i < pl->nr_groups; i++)
		group_accept(pl, pl->groups[i], 0);
	/*
	 * Downwards: closing targets[i] moves the last one, already read, into
	 * its place.  Targets added meanwhile (the lock is dropped while the
	 * queue is full) wait for the next sweep.
	 */
	for (i = pl->nr_targets; i-- > 0 && !pl->stop;) {
		if (i < pl->nr_targets)
			target_read(pl, pl->targets[i], false);
	}
}

static void *reader_main(void *arg)
{
	struct pl *pl = arg;
	struct epoll_event ev[64];
	uint64_t last_sweep = sw_now_ns(), v;
	bool drained;
	int n, i, fresh_ms;

	/*
	 * The reader does little but must run often: when allowed (root,
	 * CAP_SYS_NICE), let it ahead of the threads it samples, which may
	 * keep every CPU busy.  Symbolization, in the caller's thread, keeps
	 * its normal priority.
	 */
	setpriority(PRIO_PROCESS, gettid(), PL_READER_NICE);
	for (;;) {
		uint64_t since = sw_now_ns() - last_sweep;
		int wait_ms = since >= PL_SWEEP_NS ? 0 :
			      (int)((PL_SWEEP_NS - since + 999999) / 1000000);

		/* maps of processes that just started: not while holding pl->lock */
		fresh_ms = pl_utab_fresh_tick(pl);
		if (fresh_ms >= 0 && fresh_ms < wait_ms)
			wait_ms = fresh_ms;
		/* sleep until the next sweep is due: no wakeup without a reason */
		n = epoll_wait(pl->epfd, ev, 64, wait_ms);
		pthread_mutex_lock(&pl->lock);
		for (i = 0; i < n && !pl->stop; i++) {
			enum pl_pollable_kind *k = ev[i].data.ptr;

			if (!k) {
				if (read(pl->wakefd, &v, sizeof(v)) < 0)
					(void)0;	/* EAGAIN: already read */
			} else if (*k == PL_POLL_GROUP) {
				group_accept(pl, (struct pl_group *)k, ev[i].events);
			} else {
				struct pl_target *rt = (struct pl_target *)k;

				/* a HUP seen with IN still has records: read them first */
				if (!rt->done)
					target_read(pl, rt, (ev[i].events & (EPOLLHUP | EPOLLERR)) &&
							   !(ev[i].events & EPOLLIN));
			}
		}
		/* the events of this round are used: their targets may be freed */
		pl->reader_gen++;
		if (pl->stop) {
			pthread_mutex_unlock(&pl->lock);
			break;
		}
		drained = false;
		if (pl->drain_req != pl->drain_done || sw_now_ns() - last_sweep >= PL_SWEEP_NS) {
			uint64_t req = pl->drain_req;

			sweep(pl);
			last_sweep = sw_now_ns();
			drained = pl->drain_done != req;
			pl->drain_done = req;
		}
		pl->qs.bytes = pl->q_bytes;
		/* the worker waits for records or for the end of a drain */
		if (pl->q_head || drained)
			pthread_cond_broadcast(&pl->cond);
		pthread_mutex_unlock(&pl->lock);
	}
	return NULL;
}

void pl_reader_wake(struct pl *pl)
{
	uint64_t one = 1;

	if (write(pl->wakefd, &one, sizeof(one)) < 0)
		(void)0;	/* the counter is full: the reader is awake anyway */
}

int pl_reader_start(struct pl *pl)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int err;

	pl->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pl->wakefd < 0)
		return -errno;
	if (epoll_ctl(pl->epfd, EPOLL_CTL_ADD, pl->wakefd, &ev))
		return -errno;
	err = pthread_create(&pl->reader, NULL, reader_main, pl);
	if (err)
		return -err;
	pl->reader_running = true;
	return 0;
}

void pl_reader_stop(struct pl *pl)
{
	if (!pl->reader_running)
		return;
	pthread_mutex_lock(&pl->lock);
	pl->stop = true;
	pthread_cond_broadcast(&pl->cond);
	pthread_mutex_unlock(&pl->lock);
	pl_reader_wake(pl);
	pthread_join(pl->reader, NULL);
	pl->reader_running = false;
}
