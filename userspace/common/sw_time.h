/* SPDX-License-Identifier: GPL-2.0-only */
/* Clocks, and durations as people write them on command lines and in config. */
#ifndef SW_TIME_H
#define SW_TIME_H

#include <stdint.h>
#include <time.h>

static inline uint64_t sw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline uint64_t sw_epoch_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * "30", "30s", "500ms", "250us", "100ns", "2m", "1h" -> ns.  Returns 0 and
 * *ns, or -EINVAL (garbage, a negative number, an unknown unit).  "0" is 0.
 */
int sw_parse_duration(const char *s, uint64_t *ns);

/* "1.23 s", "45.6 ms", "789 us" into buf; returns buf. */
const char *sw_format_ns(uint64_t ns, char *buf, size_t len);

#endif
