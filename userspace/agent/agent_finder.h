/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Process discovery without transport: a process's facts from /proc, the
 * host's, and the entity the first matching finder gives it (Rover's VM
 * finder: the first finder whose match_cmd_regex is found in the command
 * line wins; its templates name the service, instance and process).
 */
#ifndef AGENT_FINDER_H
#define AGENT_FINDER_H

#include <stddef.h>
#include <sys/types.h>

#include "agent_config.h"
#include "agent_template.h"

struct agent_entity {
	size_t finder;		/* index in cfg->discovery.finders */
	char *layer, *service, *instance, *process;
	char **labels;
	size_t nr_labels;
};

/*
 * The entity of @proc: 0 and *out filled (agent_entity_free() it), -ENOENT
 * when no finder matches, -ENODATA when the matching finder's service name
 * renders empty (logged, rate-limited), -ENOMEM.
 */
int agent_find_entity(const struct agent_config *cfg, const struct agent_process_facts *proc,
		      const struct agent_host_facts *host, struct agent_entity *out);
void agent_entity_free(struct agent_entity *e);

/* Read /proc/@pid (or @proc_root/@pid: tests).  0, or -errno when the process is gone. */
int agent_process_facts_read(const char *proc_root, pid_t pid, struct agent_process_facts *out);
void agent_process_facts_free(struct agent_process_facts *p);

/*
 * The host's name and interface addresses, with @instance_id; the strings
 * live in @h until agent_host_facts_free().
 */
int agent_host_facts_read(const char *instance_id, struct agent_host_facts *h);
void agent_host_facts_free(struct agent_host_facts *h);

#endif
