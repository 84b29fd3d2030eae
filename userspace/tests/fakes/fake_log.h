/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The lines userspace code logs through sw_log() (common/sw_log.h),
 * captured for tests that check what a person is told, and how often.
 */
#ifndef FAKE_LOG_H
#define FAKE_LOG_H

#include <stdio.h>

#include "sw_log.h"

static char logged[1024];	/* the last line */
static int log_lines;		/* lines since log_capture() */

static void fake_log_fn(void *ctx, enum sw_log_level level, const char *msg)
{
	log_lines++;
	snprintf(logged, sizeof(logged), "%s", msg);
}

/* Start counting afresh (and stop printing to stderr). */
static inline void log_capture(void)
{
	logged[0] = 0;
	log_lines = 0;
	sw_log_set_fn(fake_log_fn, NULL);
}

#endif
