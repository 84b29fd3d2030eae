// SPDX-License-Identifier: GPL-2.0-only
/* A task's aggregate for one process: a pipeline sink counting into batches (agent_agg.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent_agg.h"
#include "pipeline.h"

#define MISSING			"[MISSING]"
#define DEFAULT_PERIOD_NS	10000000ULL

struct agent_agg {
	struct pl *pl;
	struct pl_sink *sink;
	struct pl_reg_opts reg;		/* what agent_agg_add_process() registers */
	char *task_id, *process_id;
	enum agent_task_target target;
	int64_t start_ms;
	struct agent_batch *cur;	/* what came since the last take */
	const char **syms;		/* scratch: one sample's symbols */
	size_t cap_syms;
	struct agent_agg_stats st;	/* samples, taken, dropped_nomem */
};

/* The symbols of @nr frames into a->syms + @at, inline frames expanded; the new end. */
static size_t frame_syms(struct agent_agg *a, size_t at, const struct pl_frames *const *frames,
			 unsigned int nr)
{
	unsigned int i, j;

	for (i = 0; i < nr; i++) {
		const struct pl_frames *fr = frames[i];

		if (!fr) {
			a->syms[at++] = MISSING;
			continue;
		}
		for (j = 0; j < fr->n; j++)
			a->syms[at++] = fr->f[j].status == SYM_OK && fr->f[j].name ? fr->f[j].name
										  : MISSING;
	}
	return at;
}

/* Symbols one sample can have at most: every frame with its inline frames. */
static size_t max_syms(const struct pl_stack *st)
{
	size_t n = 0, i;

	for (i = 0; i < (size_t)st->nr_kernel + st->nr_user; i++)
		n += st->frames[i] ? st->frames[i]->n : 1;
	return n;
}

static int syms_reserve(struct agent_agg *a, size_t n)
{
	const char **p;

	if (n <= a->cap_syms)
		return 0;
	p = realloc(a->syms, (n + 64) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	a->syms = p;
	a->cap_syms = n + 64;
	return 0;
}

static void on_sample(void *ctx, const struct pl_stack *st)
{
	struct agent_agg *a = ctx;
	size_t nk, n;

	if (syms_reserve(a, max_syms(st))) {
		a->st.dropped_nomem++;
		return;
	}
	nk = frame_syms(a, 0, st->frames, st->nr_kernel);
	n = frame_syms(a, nk, st->frames + st->nr_kernel, st->nr_user);
	/* ON_CPU: one sample of period_ns; OFF_CPU: one block of period_ns off CPU */
	if (agent_batch_add(a->cur, a->syms, nk, a->syms + nk, n - nk, 1, st->s->period_ns)) {
		a->st.dropped_nomem++;
		return;
	}
	a->st.samples++;
}

static int new_batch(const struct agent_agg *a, int64_t now_ms, struct agent_batch **out)
{
	return agent_batch_new(a->task_id, a->process_id, a->target, a->start_ms, now_ms, out);
}

int agent_agg_new(struct pl *pl, const struct agent_agg_opts *opts, struct agent_agg **out)
{
	static const struct pl_sink_ops ops = {
		.sz = sizeof(ops),
		.sample = on_sample,
	};
	enum agent_task_target target;
	struct agent_agg *a;
	int err;

	*out = NULL;
	if (!opts || !SW_OPTS_VALID(opts, agent_agg_opts) || !opts->task_id || !opts->process_id)
		return -EINVAL;
	target = SW_OPTS_GET(opts, target, 0);
	if (target != AGENT_TARGET_ON_CPU && target != AGENT_TARGET_OFF_CPU)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->pl = pl;
	a->target = target;
	a->start_ms = SW_OPTS_GET(opts, start_ms, 0);
	/* only what the mode uses: aggregates that differ elsewhere share a registration */
	a->reg = (struct pl_reg_opts){
		.sz = sizeof(a->reg),
		.kernel = SW_OPTS_GET(opts, kernel, false),
		.raw_stack = SW_OPTS_GET(opts, raw_stack, 0),
		.ring_size = SW_OPTS_GET(opts, ring_size, 0),
	};
	if (target == AGENT_TARGET_ON_CPU) {
		a->reg.mode = SWPROF_MODE_CPU;
		a->reg.period_ns = SW_OPTS_GET_OR(opts, period_ns, DEFAULT_PERIOD_NS);
	} else {
		a->reg.mode = SWPROF_MODE_OFFCPU;
		a->reg.min_block_ns = SW_OPTS_GET(opts, min_block_ns, 0);
	}
	a->task_id = strdup(opts->task_id);
	a->process_id = strdup(opts->process_id);
	err = a->task_id && a->process_id ? new_batch(a, 0, &a->cur) : -ENOMEM;
	if (!err)
		err = pl_sink_new(pl, &ops, a, &a->sink);
	if (err) {
		agent_agg_free(a);
		return err;
	}
	*out = a;
	return 0;
}

void agent_agg_free(struct agent_agg *a)
{
	if (!a)
		return;
	pl_sink_free(a->sink);
	agent_batch_free(a->cur);
	free(a->syms);
	free(a->task_id);
	free(a->process_id);
	free(a);
}

int agent_agg_add_process(struct agent_agg *a, pid_t pid)
{
	return pl_add_process(a->pl, a->sink, pid, &a->reg);
}

int agent_agg_enable(struct agent_agg *a, bool on)
{
	return pl_enable(a->pl, a->sink, on);
}

bool agent_agg_process_gone(const struct agent_agg *a, pid_t pid)
{
	return pl_process_gone(a->pl, pid);
}

int agent_agg_take(struct agent_agg *a, int64_t now_ms, struct agent_batch **out)
{
	struct agent_batch *fresh;

	*out = NULL;
	if (!a->cur->nr_stacks)
		return 0;
	if (new_batch(a, 0, &fresh))
		return -ENOMEM;
	*out = a->cur;
	(*out)->time_ms = now_ms;
	a->st.taken += (*out)->samples;
	a->cur = fresh;
	return 0;
}

void agent_agg_stats(const struct agent_agg *a, struct agent_agg_stats *st)
{
	struct pl_target_stats ts;

	pl_target_stats(a->pl, a->sink, &ts);
	*st = a->st;
	st->lost = ts.lost;
	st->threads = ts.threads;
}
