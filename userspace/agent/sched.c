// SPDX-License-Identifier: GPL-2.0-only
/* The schedule of profiling tasks: when each starts and stops (agent_task.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_task.h"
#include "agent_task_priv.h"
#include "sw_log.h"

#define FORGET_AFTER_MS	(3600 * 1000)	/* DONE longer than this: only its id is kept */
#define FORGOTTEN_MAX	4096		/* ids kept of forgotten and expired tasks */

struct item {
	struct agent_sched_entry e;
	int64_t done_ms;		/* when it became DONE */
	bool restored;			/* restored_ms is its actual start */
	int64_t restored_ms;
};

/* A task that was running when the agent last saved (agent_sched_load()). */
struct restored {
	char *id;
	int64_t start_ms;
};

struct agent_sched {
	struct item **items;		/* in order of offer */
	size_t nr_items;
	char **forgotten;		/* a ring of FORGOTTEN_MAX ids, NULL when free */
	size_t next_forgotten;		/* the slot written next (the oldest id) */
	struct restored *restored;
	size_t nr_restored;
	int64_t latest_update;
	int64_t now_ms;			/* the last time given by the caller */
	struct agent_sched_stats st;	/* but waiting and running */
};

int agent_sched_new(struct agent_sched **out)
{
	struct agent_sched *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->forgotten = calloc(FORGOTTEN_MAX, sizeof(*s->forgotten));
	if (!s->forgotten) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

static void item_free(struct item *it)
{
	agent_task_free(&it->e.task);
	free(it);
}

void agent_sched_free(struct agent_sched *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nr_items; i++)
		item_free(s->items[i]);
	free(s->items);
	for (i = 0; i < FORGOTTEN_MAX; i++)
		free(s->forgotten[i]);
	free(s->forgotten);
	for (i = 0; i < s->nr_restored; i++)
		free(s->restored[i].id);
	free(s->restored);
	free(s);
}

/* Keep @id (taken) as seen; the oldest id kept goes when the ring is full. */
static void remember(struct agent_sched *s, char *id)
{
	free(s->forgotten[s->next_forgotten]);
	s->forgotten[s->next_forgotten] = id;
	s->next_forgotten = (s->next_forgotten + 1) % FORGOTTEN_MAX;
}

static bool seen(const struct agent_sched *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->nr_items; i++)
		if (!strcmp(s->items[i]->e.task.id, id))
			return true;
	for (i = 0; i < FORGOTTEN_MAX; i++)
		if (s->forgotten[i] && !strcmp(s->forgotten[i], id))
			return true;
	return false;
}

/* The saved actual start of task @id, taken out of the restored ones: true when there is one. */
static bool take_restored(struct agent_sched *s, const char *id, int64_t *start_ms)
{
	size_t i;

	for (i = 0; i < s->nr_restored; i++) {
		if (strcmp(s->restored[i].id, id))
			continue;
		*start_ms = s->restored[i].start_ms;
		free(s->restored[i].id);
		s->restored[i] = s->restored[--s->nr_restored];
		return true;
	}
	return false;
}

/* Room for one more item. */
static int reserve(struct agent_sched *s)
{
	struct item **v = realloc(s->items, (s->nr_items + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->items = v;
	return 0;
}

static enum agent_offer dropped(struct agent_sched *s, struct agent_task *t)
{
	sw_err("out of memory: profiling task %s dropped", t->id);
	s->st.failed++;
	agent_task_free(t);
	return AGENT_OFFER_EXPIRED;
}

enum agent_offer agent_sched_offer(struct agent_sched *s, struct agent_task *t, int64_t now_ms)
{
	struct item *it;
	int64_t begin;

	s->now_ms = now_ms;
	s->st.offered++;
	agent_sched_saw_update(s, t->update_ms);
	if (seen(s, t->id)) {
		agent_task_free(t);
		s->st.duplicates++;
		return AGENT_OFFER_DUPLICATE;
	}
	it = calloc(1, sizeof(*it));
	if (!it || reserve(s)) {
		free(it);
		return dropped(s, t);
	}
	it->e.task = *t;
	memset(t, 0, sizeof(*t));
	it->restored = take_restored(s, it->e.task.id, &it->restored_ms);
	begin = it->restored ? it->restored_ms : it->e.task.start_ms;
	if (begin <= now_ms - (int64_t)it->e.task.duration_ms) {	/* no overflow */
		s->st.expired++;
		remember(s, it->e.task.id);
		it->e.task.id = NULL;
		item_free(it);
		return AGENT_OFFER_EXPIRED;
	}
	s->items[s->nr_items++] = it;
	s->st.accepted++;
	return AGENT_OFFER_NEW;
}

void agent_sched_saw_update(struct agent_sched *s, int64_t update_ms)
{
	if (update_ms > s->latest_update)
		s->latest_update = update_ms;
}

int64_t agent_sched_latest_update(const struct agent_sched *s)
{
	return s->latest_update;
}

static void start(struct agent_sched *s, struct item *it, int64_t now_ms,
		  const struct agent_sched_ops *ops, void *ctx)
{
	struct agent_sched_entry *e = &it->e;
	int err;

	e->actual_start_ms = it->restored ? it->restored_ms : now_ms;
	e->stop_ms = e->actual_start_ms + (int64_t)e->task.duration_ms;
	err = ops->start(ctx, e);
	if (err < 0) {
		sw_debug("profiling task %s did not start: %s", e->task.id, strerror(-err));
		e->state = AGENT_TASK_DONE;
		it->done_ms = now_ms;
		s->st.failed++;
		return;
	}
	e->state = AGENT_TASK_RUNNING;
	s->st.started++;
}

static void stop(struct agent_sched *s, struct item *it, int64_t now_ms,
		 const struct agent_sched_ops *ops, void *ctx)
{
	ops->stop(ctx, &it->e);
	it->e.run = NULL;
	it->e.state = AGENT_TASK_DONE;
	it->done_ms = now_ms;
	s->st.stopped++;
}

/* Entries DONE for more than FORGET_AFTER_MS keep their id only. */
static void forget_done(struct agent_sched *s, int64_t now_ms)
{
	size_t i, n = 0;

	for (i = 0; i < s->nr_items; i++) {
		struct item *it = s->items[i];

		if (it->e.state == AGENT_TASK_DONE && now_ms - it->done_ms > FORGET_AFTER_MS) {
			remember(s, it->e.task.id);
			it->e.task.id = NULL;
			item_free(it);
		} else {
			s->items[n++] = it;
		}
	}
	s->nr_items = n;
}

void agent_sched_tick(struct agent_sched *s, int64_t now_ms, const struct agent_sched_ops *ops,
		      void *ctx)
{
	size_t i;

	s->now_ms = now_ms;
	for (i = 0; i < s->nr_items; i++) {
		struct item *it = s->items[i];

		if (it->e.state == AGENT_TASK_WAITING && it->e.task.start_ms <= now_ms)
			start(s, it, now_ms, ops, ctx);
	}
	for (i = 0; i < s->nr_items; i++) {
		struct item *it = s->items[i];

		if (it->e.state == AGENT_TASK_RUNNING && it->e.stop_ms <= now_ms)
			stop(s, it, now_ms, ops, ctx);
	}
	forget_done(s, now_ms);
}

void agent_sched_stop_all(struct agent_sched *s, const struct agent_sched_ops *ops, void *ctx)
{
	size_t i;

	for (i = 0; i < s->nr_items; i++)
		if (s->items[i]->e.state == AGENT_TASK_RUNNING)
			stop(s, s->items[i], s->now_ms, ops, ctx);
}

int64_t agent_sched_next_ms(const struct agent_sched *s, int64_t now_ms)
{
	int64_t next = -1;
	size_t i;

	for (i = 0; i < s->nr_items; i++) {
		const struct item *it = s->items[i];
		int64_t at, wait;

		if (it->e.state == AGENT_TASK_WAITING)
			at = it->e.task.start_ms;
		else if (it->e.state == AGENT_TASK_RUNNING)
			at = it->e.stop_ms;
		else
			continue;
		wait = at > now_ms ? at - now_ms : 0;
		if (next < 0 || wait < next)
			next = wait;
	}
	return next;
}

void agent_sched_each(struct agent_sched *s, int (*fn)(void *ctx, struct agent_sched_entry *e),
		      void *ctx)
{
	size_t i;

	for (i = 0; i < s->nr_items; i++)
		if (fn(ctx, &s->items[i]->e))
			return;
}

void agent_sched_stats(const struct agent_sched *s, struct agent_sched_stats *st)
{
	size_t i;

	*st = s->st;
	st->waiting = st->running = 0;
	for (i = 0; i < s->nr_items; i++) {
		st->waiting += s->items[i]->e.state == AGENT_TASK_WAITING;
		st->running += s->items[i]->e.state == AGENT_TASK_RUNNING;
	}
}

/* ---- surviving a restart ---------------------------------------------- */

static int write_running(const struct agent_sched *s, FILE *f)
{
	size_t i;

	for (i = 0; i < s->nr_items; i++) {
		const struct agent_sched_entry *e = &s->items[i]->e;

		if (e->state != AGENT_TASK_RUNNING)
			continue;
		if (strchr(e->task.id, '\n')) {
			sw_warn("profiling task id with a newline not saved: it will not resume");
			continue;
		}
		fprintf(f, "%s %lld\n", e->task.id, (long long)e->actual_start_ms);
	}
	if (fflush(f) || fsync(fileno(f)))
		return -errno;
	return 0;
}

/* fsync the directory of @path, so that a rename in it is durable. */
static int sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int fd, err = 0;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		err = -errno;
	if (fd >= 0)
		close(fd);
	return err;
}

int agent_sched_save(const struct agent_sched *s, const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;
	int err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f) {
		err = -errno;
		sw_err("cannot save the running profiling tasks to %s: %s", tmp, strerror(-err));
		return err;
	}
	err = write_running(s, f);
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		sw_err("cannot save the running profiling tasks to %s: %s", path, strerror(-err));
		unlink(tmp);
		return err;
	}
	err = sync_dir(path);
	if (err)
		sw_err("cannot sync the directory of %s: %s", path, strerror(-err));
	return err;
}

static int add_restored(struct agent_sched *s, const char *id, int64_t start_ms)
{
	struct restored *v = realloc(s->restored, (s->nr_restored + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->restored = v;
	v[s->nr_restored].id = strdup(id);
	if (!v[s->nr_restored].id)
		return -ENOMEM;
	v[s->nr_restored++].start_ms = start_ms;
	return 0;
}

/* One "<task id> <actual start ms>" line: 0, -EINVAL when malformed, -ENOMEM. */
static int load_line(struct agent_sched *s, char *line)
{
	char *sp;
	int64_t ms;

	line[strcspn(line, "\n")] = '\0';
	sp = strrchr(line, ' ');
	if (!sp || sp == line || agent_parse_decimal(sp + 1, &ms) || !ms ||
	    ms > INT64_MAX - AGENT_TASK_MAX_DURATION_MS)
		return -EINVAL;
	*sp = '\0';
	return add_restored(s, line, ms);
}

int agent_sched_load(struct agent_sched *s, const char *path)
{
	FILE *f = fopen(path, "re");
	size_t cap = 0;
	char *line = NULL;
	int n = 0, err = 0;

	if (!f) {
		if (errno == ENOENT)
			return 0;
		err = -errno;
		sw_err("cannot read the saved profiling tasks in %s: %s", path, strerror(-err));
		return err;
	}
	while (!err && getline(&line, &cap, f) >= 0) {
		n++;
		err = load_line(s, line);
		if (err == -EINVAL) {
			sw_warn("%s:%d: not '<task id> <start ms>': skipped", path, n);
			err = 0;
		}
	}
	free(line);
	fclose(f);
	return err;
}
