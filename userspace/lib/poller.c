// SPDX-License-Identifier: GPL-2.0-only
/*
 * The multi-target poller: one epoll set over many target and group fds,
 * records handed to each target's callback (as libbpf's ring_buffer__new,
 * __add, __poll, __free do for BPF ring buffers).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "swprof_internal.h"

enum poll_kind { POLL_TARGET, POLL_GROUP };

struct poll_ent {
	enum poll_kind kind;
	struct swprof_target *t;
	struct swprof_group *g;
	swprof_rec_fn rec_fn;
	swprof_group_fn group_fn;
	void *ctx;
	struct poll_ent *next;
};

struct swprof_poller {
	int epfd;
	struct poll_ent *ents;
	struct epoll_event *evs;
	int nr_evs;
};

int swprof_poller_new(const struct swprof_poller_opts *opts, struct swprof_poller **out)
{
	struct swprof_poller *p;
	int err = SWPROF_OPTS_CHECK(opts, swprof_poller_opts);

	*out = NULL;
	if (err)
		return err;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->nr_evs = 64;
	p->evs = calloc(p->nr_evs, sizeof(*p->evs));
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0 || !p->evs) {
		err = p->epfd < 0 ? -errno : -ENOMEM;
		swprof_poller_free(p);
		return err;
	}
	*out = p;
	return 0;
}

void swprof_poller_free(struct swprof_poller *p)
{
	if (!p)
		return;
	while (p->ents) {
		struct poll_ent *n = p->ents->next;

		free(p->ents);
		p->ents = n;
	}
	if (p->epfd >= 0)
		close(p->epfd);
	free(p->evs);
	free(p);
}

int swprof_poller_fd(const struct swprof_poller *p)
{
	return p->epfd;
}

static int add(struct swprof_poller *p, struct poll_ent *e, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = e };

	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int err = -errno;

		swprof_log(SWPROF_LOG_WARN, "poller: cannot watch fd %d: %s", fd, strerror(-err));
		free(e);
		return err;
	}
	e->next = p->ents;
	p->ents = e;
	return 0;
}

int swprof_poller_add(struct swprof_poller *p, struct swprof_target *t, swprof_rec_fn fn, void *ctx)
{
	struct poll_ent *e;

	if (!t || !fn)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = (struct poll_ent){ .kind = POLL_TARGET, .t = t, .rec_fn = fn, .ctx = ctx };
	return add(p, e, t->fd);
}

int swprof_poller_add_group(struct swprof_poller *p, struct swprof_group *g, swprof_group_fn fn,
			    void *ctx)
{
	struct poll_ent *e;

	if (!g || !fn)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = (struct poll_ent){ .kind = POLL_GROUP, .g = g, .group_fn = fn, .ctx = ctx };
	return add(p, e, g->fd);
}

static int remove_ent(struct swprof_poller *p, const void *obj)
{
	struct poll_ent **pp;

	for (pp = &p->ents; *pp; pp = &(*pp)->next) {
		struct poll_ent *e = *pp;

		if (e->t != obj && e->g != obj)
			continue;
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, e->t ? e->t->fd : e->g->fd, NULL);
		*pp = e->next;
		free(e);
		return 0;
	}
	return -ENOENT;
}

int swprof_poller_remove(struct swprof_poller *p, struct swprof_target *t)
{
	return remove_ent(p, t);
}

int swprof_poller_remove_group(struct swprof_poller *p, struct swprof_group *g)
{
	return remove_ent(p, g);
}

/*
 * Every record of a target to its callback; on HUP once drained, the end
 * (a NULL record) and out of the set.  Records read, or a negative errno.
 */
static int target_ready(struct swprof_poller *p, struct poll_ent *e, bool hup)
{
	int n = swprof_target_read(e->t, e->rec_fn, e->ctx, 0), err;

	if (n < 0)
		return n;
	if (hup || swprof_target_wait(e->t, 0) == SWPROF_WAIT_EXITED) {
		swprof_rec_fn fn = e->rec_fn;
		void *ctx = e->ctx;

		remove_ent(p, e->t);
		err = fn(ctx, NULL);
		if (err < 0)
			return err;
	}
	return n;
}

static int dispatch(struct swprof_poller *p, struct poll_ent *e, uint32_t events)
{
	unsigned int what = 0;

	if (e->kind == POLL_TARGET)
		return target_ready(p, e, (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN));
	if (events & EPOLLIN)
		what |= SWPROF_POLL_PENDING;
	if (events & (EPOLLHUP | EPOLLERR))
		what |= SWPROF_POLL_HUP;
	if (what & SWPROF_POLL_HUP && !(what & SWPROF_POLL_PENDING)) {
		/* nothing more will come: out of the set before the callback may free it */
		struct swprof_group *g = e->g;
		swprof_group_fn fn = e->group_fn;
		void *ctx = e->ctx;

		remove_ent(p, g);
		return fn(ctx, g, what) < 0 ? -ECANCELED : 0;
	}
	return e->group_fn(e->ctx, e->g, what) < 0 ? -ECANCELED : 0;
}

int swprof_poller_poll(struct swprof_poller *p, int timeout_ms)
{
	int n, i, got, total = 0;

	n = epoll_wait(p->epfd, p->evs, p->nr_evs, timeout_ms);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		got = dispatch(p, p->evs[i].data.ptr, p->evs[i].events);
		if (got < 0)
			return got;
		total += got;
	}
	return total;
}

int swprof_poller_consume(struct swprof_poller *p)
{
	struct poll_ent *e, *next;
	int got, total = 0;

	for (e = p->ents; e; e = next) {
		next = e->next;		/* a target at its end leaves the list */
		if (e->kind != POLL_TARGET)
			continue;
		got = target_ready(p, e, false);
		if (got < 0)
			return got;
		total += got;
	}
	return total;
}
