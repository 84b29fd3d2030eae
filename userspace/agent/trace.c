// SPDX-License-Identifier: GPL-2.0-only
/* ProfileTaskQuery commands into trace-profiling tasks, and their queue (agent_trace.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_task_priv.h"
#include "agent_trace.h"

#define SEEN_MAX	4096	/* serials and ids remembered (oldest forgotten first) */

enum key {
	K_SERIAL, K_TASK_ID, K_ENDPOINT, K_DURATION, K_MIN_DURATION, K_DUMP_PERIOD, K_MAX_SAMPLING,
	K_START, K_CREATE, NR_KEYS
};

static const char *const key_names[NR_KEYS] = {
	[K_SERIAL] = "SerialNumber", [K_TASK_ID] = "TaskId", [K_ENDPOINT] = "EndpointName",
	[K_DURATION] = "Duration", [K_MIN_DURATION] = "MinDurationThreshold",
	[K_DUMP_PERIOD] = "DumpPeriod", [K_MAX_SAMPLING] = "MaxSamplingCount",
	[K_START] = "StartTime", [K_CREATE] = "CreateTime",
};

void agent_trace_task_free(struct agent_trace_task *t)
{
	free(t->id);
	free(t->serial);
	free(t->endpoint);
	memset(t, 0, sizeof(*t));
}

static int bad_value(char *why, size_t whylen, enum key k, const char *value, const char *what)
{
	return agent_bad_value(why, whylen, key_names[k], value, what);
}

static int number(const char *const *v, enum key k, int64_t *out, char *why, size_t whylen)
{
	return agent_arg_number(key_names[k], v[k], out, why, whylen);
}

/* The numbers and their limits: 0 or -EINVAL with the reason. */
static int check(const char *const *v, struct agent_trace_task *t, char *why, size_t whylen)
{
	int64_t dur, min_dur, dump, max;
	int err;

	if (!v[K_TASK_ID])
		return agent_bad(why, whylen, "no TaskId");
	if (!*v[K_TASK_ID])
		return agent_bad(why, whylen, "TaskId is empty");
	if (!v[K_ENDPOINT])
		return agent_bad(why, whylen, "no EndpointName");
	if (!*v[K_ENDPOINT])
		return agent_bad(why, whylen, "EndpointName is empty");
	if ((err = number(v, K_START, &t->start_ms, why, whylen)) ||
	    (err = number(v, K_DURATION, &dur, why, whylen)) ||
	    (err = number(v, K_MIN_DURATION, &min_dur, why, whylen)) ||
	    (err = number(v, K_DUMP_PERIOD, &dump, why, whylen)) ||
	    (err = number(v, K_MAX_SAMPLING, &max, why, whylen)))
		return err;
	if (dur < AGENT_TRACE_MIN_MINUTES || dur > AGENT_TRACE_MAX_MINUTES)
		return bad_value(why, whylen, K_DURATION, v[K_DURATION], "is not 1..15 minutes");
	if (min_dur > UINT32_MAX)
		return bad_value(why, whylen, K_MIN_DURATION, v[K_MIN_DURATION], "is out of range");
	if (dump < AGENT_TRACE_MIN_DUMP_MS)
		return bad_value(why, whylen, K_DUMP_PERIOD, v[K_DUMP_PERIOD], "is below 10 ms");
	if (dump > UINT32_MAX)
		return bad_value(why, whylen, K_DUMP_PERIOD, v[K_DUMP_PERIOD], "is out of range");
	if (max < 1 || max >= AGENT_TRACE_MAX_SAMPLING)
		return bad_value(why, whylen, K_MAX_SAMPLING, v[K_MAX_SAMPLING], "is not 1..9");
	if (t->start_ms > INT64_MAX - AGENT_TRACE_MAX_MINUTES * 60000LL)
		return bad_value(why, whylen, K_START, v[K_START], "is out of range");
	t->duration_min = dur;
	t->min_duration_ms = min_dur;
	t->dump_period_ms = dump;
	t->max_sampling = max;
	t->end_ms = t->start_ms + dur * 60000;
	return 0;
}

int agent_trace_parse(const struct agent_kv *args, size_t nr_args, struct agent_trace_task *out,
		      int64_t *create_ms, char *why, size_t whylen)
{
	const char *v[NR_KEYS] = { 0 };
	size_t i;
	int k, err;

	memset(out, 0, sizeof(*out));
	*create_ms = 0;
	for (i = 0; i < nr_args; i++)
		for (k = 0; k < NR_KEYS; k++)
			if (args[i].key && args[i].value && !strcmp(args[i].key, key_names[k]) && !v[k])
				v[k] = args[i].value;
	/* CreateTime first: lastCommandTime moves past a bad task all the same */
	err = number(v, K_CREATE, &out->create_ms, why, whylen);
	if (err)
		goto fail;
	*create_ms = out->create_ms;
	err = check(v, out, why, whylen);
	if (err)
		goto fail;
	out->id = strdup(v[K_TASK_ID]);
	out->serial = strdup(v[K_SERIAL] ? v[K_SERIAL] : "");
	out->endpoint = strdup(v[K_ENDPOINT]);
	if (!out->id || !out->serial || !out->endpoint) {
		agent_trace_task_free(out);
		return -ENOMEM;
	}
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return err;
}

/* ---- the queue -------------------------------------------------------- */

struct agent_trace_queue {
	struct agent_trace_entry **tasks;	/* waiting and running, by StartTime */
	size_t nr, cap;
	char **seen;				/* serials and task ids, a ring */
	size_t nr_seen, seen_next;
	int64_t last_command_ms;
	struct agent_trace_counts counts;
};

struct agent_trace_queue *agent_trace_queue_new(void)
{
	return calloc(1, sizeof(struct agent_trace_queue));
}

static void entry_free(struct agent_trace_entry *e)
{
	agent_trace_task_free(&e->task);
	free(e);
}

void agent_trace_queue_free(struct agent_trace_queue *q)
{
	size_t i;

	if (!q)
		return;
	for (i = 0; i < q->nr; i++)
		entry_free(q->tasks[i]);
	free(q->tasks);
	for (i = 0; i < q->nr_seen; i++)
		free(q->seen[i]);
	free(q->seen);
	free(q);
}

static bool seen(const struct agent_trace_queue *q, const char *s)
{
	size_t i;

	if (!s || !*s)
		return false;
	for (i = 0; i < q->nr_seen; i++)
		if (!strcmp(q->seen[i], s))
			return true;
	return false;
}

static int remember(struct agent_trace_queue *q, const char *s)
{
	char *copy;

	if (!s || !*s || seen(q, s))
		return 0;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	if (!q->seen) {
		q->seen = calloc(SEEN_MAX, sizeof(*q->seen));
		if (!q->seen) {
			free(copy);
			return -ENOMEM;
		}
	}
	if (q->nr_seen < SEEN_MAX) {
		q->seen[q->nr_seen++] = copy;
	} else {
		free(q->seen[q->seen_next]);
		q->seen[q->seen_next] = copy;
		q->seen_next = (q->seen_next + 1) % SEEN_MAX;
	}
	return 0;
}

/* The value of @key in @args, or NULL. */
static const char *arg(const struct agent_kv *args, size_t nr_args, const char *key)
{
	size_t i;

	for (i = 0; i < nr_args; i++)
		if (args[i].key && args[i].value && !strcmp(args[i].key, key))
			return args[i].value;
	return NULL;
}

/* The Java agent's rule: a task whose end falls inside a queued task's window overlaps it. */
static const struct agent_trace_entry *overlapped(const struct agent_trace_queue *q,
						  const struct agent_trace_task *t)
{
	size_t i;

	for (i = 0; i < q->nr; i++) {
		const struct agent_trace_task *o = &q->tasks[i]->task;

		if (t->end_ms >= o->start_ms && t->end_ms <= o->end_ms)
			return q->tasks[i];
	}
	return NULL;
}

int agent_trace_offer(struct agent_trace_queue *q, const struct agent_kv *args, size_t nr_args,
		      int64_t now_ms, char *why, size_t whylen)
{
	const char *serial = arg(args, nr_args, key_names[K_SERIAL]);
	const char *id = arg(args, nr_args, key_names[K_TASK_ID]);
	const struct agent_trace_entry *o;
	struct agent_trace_entry *e;
	int64_t create_ms;
	size_t at;
	int err;

	if (seen(q, serial) || seen(q, id)) {
		q->counts.duplicates++;
		return AGENT_TRACE_DUPLICATE;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	err = agent_trace_parse(args, nr_args, &e->task, &create_ms, why, whylen);
	if (create_ms > q->last_command_ms)
		q->last_command_ms = create_ms;
	if (!err && now_ms >= e->task.end_ms) {
		q->counts.expired++;
		err = agent_bad(why, whylen, "task %s ended at %lld, before it could start", e->task.id,
			  (long long)e->task.end_ms);
	} else if (!err && (o = overlapped(q, &e->task))) {
		err = agent_bad(why, whylen, "task %s (%s) ends inside the window of task %s (%s)",
			  e->task.id, e->task.endpoint, o->task.id, o->task.endpoint);
	}
	if (err == -EINVAL)
		q->counts.rejected++;
	/* refused once, not at every poll: OAP hands it out again for 5 minutes */
	if ((remember(q, serial) || remember(q, id)) && !err)
		err = -ENOMEM;
	if (err) {
		entry_free(e);
		return err;
	}
	if (q->nr == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 4;
		struct agent_trace_entry **n = realloc(q->tasks, cap * sizeof(*n));

		if (!n) {
			entry_free(e);
			return -ENOMEM;
		}
		q->tasks = n;
		q->cap = cap;
	}
	/* by StartTime, a later equal one after the earlier */
	at = q->nr;

	while (at && q->tasks[at - 1]->task.start_ms > e->task.start_ms)
		at--;
	memmove(&q->tasks[at + 1], &q->tasks[at], (q->nr - at) * sizeof(*q->tasks));
	q->tasks[at] = e;
	q->nr++;
	q->counts.queued++;
	return AGENT_TRACE_QUEUED;
}

int64_t agent_trace_last_command(const struct agent_trace_queue *q)
{
	return q->last_command_ms;
}

static void end_task(struct agent_trace_queue *q, struct agent_trace_entry *e,
		     const struct agent_trace_ops *ops, void *ctx, bool finished)
{
	if (e->state == AGENT_TRACE_RUNNING && e->started && ops->stop)
		ops->stop(ctx, e);
	e->run = NULL;
	if (finished && e->started) {
		q->counts.finished++;
		if (ops->finished)
			ops->finished(ctx, e);
	}
	e->state = AGENT_TRACE_DONE;
}

size_t agent_trace_tick(struct agent_trace_queue *q, int64_t now_ms,
			const struct agent_trace_ops *ops, void *ctx)
{
	size_t i, kept = 0, running = 0;

	for (i = 0; i < q->nr; i++) {
		struct agent_trace_entry *e = q->tasks[i];

		if (e->state == AGENT_TRACE_WAITING && now_ms >= e->task.start_ms) {
			if (now_ms >= e->task.end_ms) {
				q->counts.expired++;
				e->state = AGENT_TRACE_DONE;
			} else if (ops->start && ops->start(ctx, e) < 0) {
				q->counts.failed++;
				e->state = AGENT_TRACE_DONE;
			} else {
				q->counts.started++;
				e->started = true;
				e->state = AGENT_TRACE_RUNNING;
			}
		}
		if (e->state == AGENT_TRACE_RUNNING && now_ms >= e->task.end_ms)
			end_task(q, e, ops, ctx, true);
		if (e->state == AGENT_TRACE_DONE) {
			entry_free(e);
			continue;
		}
		running += e->state == AGENT_TRACE_RUNNING;
		q->tasks[kept++] = e;
	}
	q->nr = kept;
	return running;
}

int64_t agent_trace_next(const struct agent_trace_queue *q)
{
	int64_t next = INT64_MAX, t;
	size_t i;

	for (i = 0; i < q->nr; i++) {
		const struct agent_trace_entry *e = q->tasks[i];

		t = e->state == AGENT_TRACE_WAITING ? e->task.start_ms : e->task.end_ms;
		if (t < next)
			next = t;
	}
	return next;
}

void agent_trace_stop_all(struct agent_trace_queue *q, const struct agent_trace_ops *ops,
			  void *ctx)
{
	size_t i;

	for (i = 0; i < q->nr; i++)
		if (q->tasks[i]->state == AGENT_TRACE_RUNNING)
			end_task(q, q->tasks[i], ops, ctx, false);
}

void agent_trace_counts(const struct agent_trace_queue *q, struct agent_trace_counts *out)
{
	size_t i;

	*out = q->counts;
	out->waiting = out->running = 0;
	for (i = 0; i < q->nr; i++) {
		out->waiting += q->tasks[i]->state == AGENT_TRACE_WAITING;
		out->running += q->tasks[i]->state == AGENT_TRACE_RUNNING;
	}
}
