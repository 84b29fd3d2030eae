/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by task.c and sched.c (agent_task.h): not for the daemon. */
#ifndef AGENT_TASK_PRIV_H
#define AGENT_TASK_PRIV_H

#include <stdint.h>

#define AGENT_TASK_MAX_DURATION_MS	(86400 * 1000LL)	/* FixedTriggerDuration's limit */

/*
 * A decimal integer >= 0, digits only (no sign, no spaces, no junk):
 * 0, -EINVAL when @s is not one, -ERANGE when it does not fit.
 */
int agent_parse_decimal(const char *s, int64_t *out);

#endif
