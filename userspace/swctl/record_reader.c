// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reader thread of a recording: waits on every ring and process group
 * with epoll, copies records into the queue and gives the ring space back
 * at once, accepts the threads groups hand out, closes rings whose thread
 * exited.  It never symbolizes: that is the worker's job (record.c), so a
 * slow first look at a big binary never keeps a ring from being drained.
 *
 * Rings wake the reader only every ring_size / 4 bytes (fewer wakeups);
 * every REC_SWEEP_NS it reads every ring anyway, so that a quiet thread's
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

#include "record_priv.h"

#define REC_SWEEP_NS	100000000ULL	/* read every ring this often */
#define REC_READER_NICE	(-10)
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
static int rq_push(struct rec_session *r, struct rec_target *rt, const struct swprof_rec *rec)
{
	size_t need = sizeof(struct rq_ent) + rec->size;
	struct rq_chunk *c = r->q_tail;
	struct rq_ent *e;

	if (!c || c->cap - c->used < need) {
		size_t cap = need > RQ_CHUNK ? need : RQ_CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return -ENOMEM;
		c->next = NULL;
		c->used = 0;
		c->cap = cap;
		if (r->q_tail)
			r->q_tail->next = c;
		else
			r->q_head = c;
		r->q_tail = c;
		r->q_bytes += cap;
		if (r->q_bytes > r->rs.queue_peak)
			r->rs.queue_peak = r->q_bytes;
	}
	e = (struct rq_ent *)(c->data + c->used);
	e->rt = rt;
	e->size = rec->size;
	memcpy(e + 1, rec, rec->size);
	c->used += need;	/* record sizes are multiples of 8 */
	return 0;
}

static bool rq_full(const struct rec_session *r)
{
	return r->q_bytes >= r->q_max;
}

/* Closes a target whose thread is gone; [lock] held. */
static void target_close(struct rec_session *r, struct rec_target *rt)
{
	struct rec_target *last;

	if (rt->done)
		return;
	swprof_seq_tracker_finish(&rt->tr, rt->t);
	r->closed_lost += rt->tr.lost + rt->tr.lost_pending;
	r->closed_gaps += rt->tr.gaps;
	epoll_ctl(r->epfd, EPOLL_CTL_DEL, swprof_target_fd(rt->t), NULL);
	swprof_target_free(rt->t);
	rt->t = NULL;
	rt->done = true;
	/* out of targets[]: sweeps and stats stay proportional to live threads */
	last = r->targets[--r->nr_targets];
	r->targets[rt->idx] = last;
	last->idx = rt->idx;
	rt->next = r->retired;
	r->retired = rt;
	if (r->rs.threads_live)
		r->rs.threads_live--;
}

struct copy_ctx {
	struct rec_session *r;
	struct rec_target *rt;
	uint64_t now;
	int err;
};

static int copy_cb(void *ctx, const struct swprof_rec *rec)
{
	struct copy_ctx *c = ctx;
	struct rec_session *r = c->r;

	r->rs.records++;
	/* how long records wait in the ring before the reader takes them */
	if (rec->time_ns && rec->time_ns < c->now && c->now - rec->time_ns > r->rs.ring_lag_max_ns)
		r->rs.ring_lag_max_ns = c->now - rec->time_ns;
	if (!swprof_rec_valid(rec)) {
		r->rs.bad_records++;
		return 0;
	}
	swprof_seq_tracker_add(&c->rt->tr, rec);
	if (rec->type == SWPROF_REC_LOST)
		return 0;	/* counted by the tracker; nothing to aggregate */
	if (rec->type == SWPROF_REC_EXIT)
		c->rt->exited = true;
	c->err = rq_push(r, c->rt, rec);
	if (c->err)
		return c->err;
	return rq_full(r) ? 1 : 0;	/* stop: wait for the worker to catch up */
}

/*
 * Copy everything the ring holds; [lock] held, released while waiting for
 * queue space.  hup: the ring reported POLLHUP (drained and the thread gone).
 */
static void target_read(struct rec_session *r, struct rec_target *rt, bool hup)
{
	struct copy_ctx c = { r, rt, 0, 0 };
	int n;

	while (!rt->done) {
		c.now = rec_now_ns();
		n = swprof_target_read(rt->t, copy_cb, &c, 0);
		if (n == -EBADMSG) {
			/* a corrupt ring cannot be resynchronised: give up on this thread, loudly */
			r->rs.bad_records++;
			fprintf(stderr, "\nswctl: the ring of thread %d is corrupt; dropping it\n", rt->tid);
			target_close(r, rt);
			return;
		}
		if (n < 0) {
			/* out of memory: the records stay in the ring, try again later */
			return;
		}
		if (!rq_full(r))
			break;
		/* the worker is behind: let it take the queue, then go on */
		r->rs.queue_full++;
		pthread_cond_broadcast(&r->cond);
		while (rq_full(r) && !r->stop)
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->stop)
			return;
	}
	if (rt->done)
		return;
	/*
	 * POLLHUP: exited (or sampling denied on exec) and drained.  Without
	 * epoll's word for it, ask once the EXIT record was read.
	 */
	if (hup || (rt->exited && swprof_target_wait(rt->t, 0) == SWPROF_WAIT_EXITED))
		target_close(r, rt);
}

int rec_target_publish(struct rec_session *r, struct rec_target *rt)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = rt };

	if (r->nr_targets == r->cap_targets) {
		size_t n = r->cap_targets ? 2 * r->cap_targets : 64;
		struct rec_target **t = realloc(r->targets, n * sizeof(*t));

		if (!t)
			return -ENOMEM;
		r->targets = t;
		r->cap_targets = n;
	}
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, swprof_target_fd(rt->t), &ev))
		return -errno;
	rt->idx = r->nr_targets;
	r->targets[r->nr_targets++] = rt;
	r->rs.threads++;
	r->rs.threads_live++;
	return 0;
}

int rec_group_publish(struct rec_session *r, struct rec_group *g)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = g };
	struct rec_group **gs = realloc(r->groups, (r->nr_groups + 1) * sizeof(*gs));

	if (!gs)
		return -ENOMEM;
	r->groups = gs;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, swprof_group_fd(g->g), &ev))
		return -errno;
	r->groups[r->nr_groups++] = g;
	return 0;
}

static uint32_t fd_events(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 ? (p.revents & POLLHUP ? EPOLLHUP : 0) |
				     (p.revents & POLLERR ? EPOLLERR : 0) : 0;
}

/* Take every thread the group has for us; [lock] held. */
static void group_accept(struct rec_session *r, struct rec_group *g, uint32_t events)
{
	struct swprof_group_stats gst;

	if (g->gone)
		return;
	for (;;) {
		struct swprof_target *t;
		struct rec_target *rt;
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
				r->rs.register_failed++;
				epoll_ctl(r->epfd, EPOLL_CTL_DEL, swprof_group_fd(g->g), NULL);
			}
			return;
		}
		rt = calloc(1, sizeof(*rt));
		if (!rt) {
			swprof_target_free(t);
			r->rs.register_failed++;
			continue;
		}
		rt->kind = REC_POLL_TARGET;
		rt->t = t;
		rt->pid = swprof_target_pid(t);
		rt->tid = swprof_target_tid(t);
		swprof_seq_tracker_init(&rt->tr);
		if (rec_target_publish(r, rt)) {
			swprof_target_free(t);
			free(rt);
			r->rs.register_failed++;
		}
	}
	if (g->stalled) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = g };

		g->stalled = false;
		epoll_ctl(r->epfd, EPOLL_CTL_ADD, swprof_group_fd(g->g), &ev);
	}
	if (!events)
		events = fd_events(swprof_group_fd(g->g));
	if (events & (EPOLLHUP | EPOLLERR)) {
		/* every thread exited and was handed out: nothing more will come */
		g->gone = true;
		epoll_ctl(r->epfd, EPOLL_CTL_DEL, swprof_group_fd(g->g), NULL);
	}
	if (!swprof_group_stats(g->g, &gst))
		r->rs.group_missed = gst.missed;
}

static void sweep(struct rec_session *r)
{
	size_t i;

	for (i = 0; i < r->nr_groups; i++)
		group_accept(r, r->groups[i], 0);
	/*
	 * Downwards: closing targets[i] moves the last one, already read, into
	 * its place.  Targets added meanwhile (the lock is dropped while the
	 * queue is full) wait for the next sweep.
	 */
	for (i = r->nr_targets; i-- > 0 && !r->stop;) {
		if (i < r->nr_targets)
			target_read(r, r->targets[i], false);
	}
}

static void *reader_main(void *arg)
{
	struct rec_session *r = arg;
	struct epoll_event ev[64];
	uint64_t last_sweep = rec_now_ns(), v;
	bool drained;
	int n, i;

	/*
	 * The reader does little but must run often: when allowed (root,
	 * CAP_SYS_NICE), let it ahead of the threads it samples, which may
	 * keep every CPU busy.  Symbolization, in the caller's thread, keeps
	 * its normal priority.
	 */
	setpriority(PRIO_PROCESS, gettid(), REC_READER_NICE);
	for (;;) {
		uint64_t since = rec_now_ns() - last_sweep;

		/* sleep until the next sweep is due: no wakeup without a reason */
		n = epoll_wait(r->epfd, ev, 64, since >= REC_SWEEP_NS ? 0 :
			       (int)((REC_SWEEP_NS - since + 999999) / 1000000));
		pthread_mutex_lock(&r->lock);
		for (i = 0; i < n && !r->stop; i++) {
			enum rec_pollable_kind *k = ev[i].data.ptr;

			if (!k) {
				if (read(r->wakefd, &v, sizeof(v)) < 0)
					(void)0;	/* EAGAIN: already read */
			} else if (*k == REC_POLL_GROUP) {
				group_accept(r, (struct rec_group *)k, ev[i].events);
			} else {
				struct rec_target *rt = (struct rec_target *)k;

				/* a HUP seen with IN still has records: read them first */
				if (!rt->done)
					target_read(r, rt, (ev[i].events & (EPOLLHUP | EPOLLERR)) &&
							   !(ev[i].events & EPOLLIN));
			}
		}
		if (r->stop) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		drained = false;
		if (r->drain_req != r->drain_done || rec_now_ns() - last_sweep >= REC_SWEEP_NS) {
			uint64_t req = r->drain_req;

			sweep(r);
			last_sweep = rec_now_ns();
			drained = r->drain_done != req;
			r->drain_done = req;
		}
		r->rs.queue_bytes = r->q_bytes;
		/* the worker waits for records or for the end of a drain */
		if (r->q_head || drained)
			pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

void rec_reader_wake(struct rec_session *r)
{
	uint64_t one = 1;

	if (write(r->wakefd, &one, sizeof(one)) < 0)
		(void)0;	/* the counter is full: the reader is awake anyway */
}

int rec_reader_start(struct rec_session *r)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int err;

	r->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->wakefd < 0)
		return -errno;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->wakefd, &ev))
		return -errno;
	err = pthread_create(&r->reader, NULL, reader_main, r);
	if (err)
		return -err;
	r->reader_running = true;
	return 0;
}

void rec_reader_stop(struct rec_session *r)
{
	if (!r->reader_running)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	rec_reader_wake(r);
	pthread_join(r->reader, NULL);
	r->reader_running = false;
}
