/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The lines userspace code logs through sw_log() (common/sw_log.h),
 * captured for tests that check what a person is told, and how often.
 */
#ifndef FAKE_LOG_H
#define FAKE_LOG_H

#include <stdio.h>
#include <string.h>

#include "sw_log.h"

static char logged[1024];	/* the last line */
static char log_text[65536];	/* every line since log_capture(), '\n' after each */
static int log_lines;		/* lines since log_capture() */

static void fake_log_fn(void *ctx, enum sw_log_level level, const char *msg)
{
	size_t l = strlen(log_text);

	log_lines++;
	snprintf(logged, sizeof(logged), "%s", msg);
	snprintf(log_text + l, sizeof(log_text) - l, "%s\n", msg);
}

/* Start counting afresh (and stop printing to stderr). */
static inline void log_capture(void)
{
	logged[0] = 0;
	log_text[0] = 0;
	log_lines = 0;
	sw_log_set_fn(fake_log_fn, NULL);
}

/* log_capture(), debug lines included. */
static inline void log_start(void)
{
	log_capture();
	sw_log_set_level(SW_LOG_DEBUG);
}

/* Lines logged since log_capture() that contain @needle. */
static inline int log_count(const char *needle)
{
	const char *p = log_text;
	int n = 0;

	while ((p = strstr(p, needle))) {
		n++;
		p = strchr(p, '\n');
		if (!p)
			break;
	}
	return n;
}

#endif
