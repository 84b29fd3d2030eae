// SPDX-License-Identifier: GPL-2.0-only
/* Windows of one-second slots on the monotonic clock (agent_continuous_priv.h). */
#include <errno.h>
#include <stdlib.h>

#include "agent_continuous_priv.h"

void agent_cp_window_free(struct agent_cp_window *w)
{
	free(w->val);
	free(w->tag);
	w->val = NULL;
	w->tag = NULL;
	w->len = 0;
	w->newest = 0;
}

int agent_cp_window_resize(struct agent_cp_window *w, uint32_t len)
{
	struct agent_cp_window n = { 0 };
	uint64_t s, first;

	if (len == w->len)
		return 0;
	if (!len) {
		agent_cp_window_free(w);
		return 0;
	}
	n.val = calloc(len, sizeof(*n.val));
	n.tag = calloc(len, sizeof(*n.tag));
	if (!n.val || !n.tag) {
		free(n.val);
		free(n.tag);
		return -ENOMEM;
	}
	n.len = len;
	if (w->newest) {
		/* the newest min(old, new length) seconds move over */
		uint64_t last = w->newest - 1;
		uint32_t keep = len < w->len ? len : w->len;

		first = last + 1 >= keep ? last + 1 - keep : 0;
		for (s = first; s <= last; s++) {
			uint32_t i = s % w->len;

			if (w->tag[i] == s + 1)
				agent_cp_window_put(&n, s, w->val[i]);
		}
		n.newest = w->newest;
	}
	agent_cp_window_free(w);
	*w = n;
	return 0;
}

void agent_cp_window_put(struct agent_cp_window *w, uint64_t sec, double v)
{
	uint32_t i;

	if (!w->len)
		return;
	/* older than the ring reaches: its slot belongs to a newer second now */
	if (w->newest && sec + w->len < w->newest)
		return;
	i = sec % w->len;
	w->val[i] = v;
	w->tag[i] = sec + 1;
	if (sec + 1 > w->newest)
		w->newest = sec + 1;
}

uint32_t agent_cp_window_count(const struct agent_cp_window *w, uint64_t now_sec,
			       uint32_t period, double threshold, double *newest)
{
	uint32_t n = 0, k;
	bool found = false;

	if (period > w->len)
		period = w->len;
	for (k = 0; k < period && k <= now_sec; k++) {
		uint64_t s = now_sec - k;
		uint32_t i = s % w->len;

		if (w->tag[i] != s + 1 || !(w->val[i] >= threshold))
			continue;
		if (!found && newest)
			*newest = w->val[i];
		found = true;
		n++;
	}
	return n;
}

bool agent_cp_window_latest(const struct agent_cp_window *w, uint64_t *sec, double *v)
{
	uint32_t i;

	if (!w->len || !w->newest)
		return false;
	i = (w->newest - 1) % w->len;
	if (w->tag[i] != w->newest)
		return false;
	*sec = w->newest - 1;
	*v = w->val[i];
	return true;
}
