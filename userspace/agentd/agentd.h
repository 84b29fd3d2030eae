/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * swctl agent, the daemon: finds processes (agent_discovery.h), reports
 * them to OAP, takes ON_CPU / OFF_CPU tasks from it (agent_task.h), runs
 * each as per-process aggregates on the one pipeline (agent_agg.h), and
 * uploads their deltas every flush interval through the uplink thread,
 * which spools what OAP cannot take (uplink.h).  docs/agent.md.
 */
#ifndef AGENTD_H
#define AGENTD_H

#include <stdbool.h>
#include <stdio.h>

#include "sw_log.h"

/*
 * Run until SIGTERM or SIGINT with the configuration at @config_path;
 * @log_level overrides logger.level when @log_level_set.  SIGHUP reloads
 * the file.  Returns the process's exit status: 0 after a clean stop, 1
 * when it could not start (said on stderr).
 */
int agentd_run(const char *config_path, bool log_level_set, enum sw_log_level log_level);

/* swctl status --agent: print what the agent at @socket_path says.  0, or 1 (said). */
int agentd_status(const char *socket_path, FILE *out);

#endif
