/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by task.c, sched.c and trace.c (agent_task.h, agent_trace.h): not for the daemon. */
#ifndef AGENT_TASK_PRIV_H
#define AGENT_TASK_PRIV_H

#include <stddef.h>
#include <stdint.h>

#define AGENT_TASK_MAX_DURATION_MS	(86400 * 1000LL)	/* FixedTriggerDuration's limit */

/*
 * A decimal integer >= 0, digits only (no sign, no spaces, no junk):
 * 0, -EINVAL when @s is not one, -ERANGE when it does not fit.
 */
int agent_parse_decimal(const char *s, int64_t *out);

/*
 * The reasons a command is refused, in @why (up to @whylen bytes): each
 * returns -EINVAL.  agent_bad_value(): "KEY 'VALUE' WHAT", the value cut at
 * AGENT_SHOWN characters.  agent_arg_number(): @value (NULL: "no KEY") as
 * agent_parse_decimal() reads it, else "is out of range" / "is not a number".
 */
#define AGENT_SHOWN	40
int agent_bad(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int agent_bad_value(char *why, size_t whylen, const char *key, const char *value, const char *what);
int agent_arg_number(const char *key, const char *value, int64_t *out, char *why, size_t whylen);

#endif
