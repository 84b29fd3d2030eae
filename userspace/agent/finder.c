// SPDX-License-Identifier: GPL-2.0-only
/* Finder matching and entity names (agent_finder.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent_finder.h"
#include "sw_log.h"

void agent_entity_free(struct agent_entity *e)
{
	size_t i;

	free(e->layer);
	free(e->service);
	free(e->instance);
	free(e->process);
	for (i = 0; i < e->nr_labels; i++)
		free(e->labels[i]);
	free(e->labels);
	memset(e, 0, sizeof(*e));
}

static int render(const struct agent_finder *f, const struct agent_process_facts *proc,
		  const struct agent_host_facts *host, const regmatch_t *m, struct agent_entity *e)
{
	size_t i, n = f->re.re_nsub + 1;
	char **groups = calloc(n, sizeof(*groups));
	int err = -ENOMEM;

	if (!groups)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		/* a group that did not take part in the match is "" */
		size_t len = m[i].rm_so >= 0 ? (size_t)(m[i].rm_eo - m[i].rm_so) : 0;

		groups[i] = strndup(m[i].rm_so >= 0 ? proc->cmdline + m[i].rm_so : "", len);
		if (!groups[i])
			goto out;
	}
	struct agent_template_ctx ctx = {
		.proc = proc, .host = host, .layer = f->layer,
		.groups = (const char *const *)groups, .nr_groups = n,
	};
	if ((err = agent_template_render(f->service_name, &ctx, &e->service)) ||
	    (err = agent_template_render(f->instance_name, &ctx, &e->instance)) ||
	    (err = agent_template_render(f->process_name, &ctx, &e->process)))
		goto out;
	err = -ENOMEM;
	if (!(e->layer = strdup(f->layer)))
		goto out;
	if (f->nr_labels && !(e->labels = calloc(f->nr_labels, sizeof(char *))))
		goto out;
	for (; e->nr_labels < f->nr_labels; e->nr_labels++)
		if (!(e->labels[e->nr_labels] = strdup(f->labels[e->nr_labels])))
			goto out;
	err = 0;
out:
	for (i = 0; i < n; i++)
		free(groups[i]);
	free(groups);
	return err;
}

int agent_find_entity(const struct agent_config *cfg, const struct agent_process_facts *proc,
		      const struct agent_host_facts *host, struct agent_entity *out)
{
	size_t i;
	int err;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < cfg->discovery.nr_finders; i++) {
		const struct agent_finder *f = &cfg->discovery.finders[i];
		regmatch_t *m;

		if (!f->re_ok)
			continue;
		m = calloc(f->re.re_nsub + 1, sizeof(*m));
		if (!m)
			return -ENOMEM;
		if (regexec(&f->re, proc->cmdline ? proc->cmdline : "", f->re.re_nsub + 1, m, 0)) {
			free(m);
			continue;
		}
		out->finder = i;
		err = render(f, proc, host, m, out);
		free(m);
		if (!err && !*out->service) {
			sw_log_ratelimited(SW_LOG_WARN,
					   "process %d matches finder %zu (line %d) but its service_name '%s' is empty for it: not reported",
					   (int)proc->pid, i, f->line, agent_template_source(f->service_name));
			err = -ENODATA;
		}
		if (err)
			agent_entity_free(out);
		return err;
	}
	return -ENOENT;
}
