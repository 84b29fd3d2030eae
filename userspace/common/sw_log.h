/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logging for all userspace code but libswprof (which has its own
 * callback, swprof_set_log_fn()).  One line per message, no newline in
 * fmt.  By default, messages at or above the level go to stderr as
 * "<prefix>: <message>"; sw_log_set_fn() sends them elsewhere (a test, the
 * agent's log file).  The error convention (docs/hacking.md): a function
 * that fails returns a negative errno and, when the errno alone would not
 * tell a person what to do, logs exactly one sw_err() line saying what
 * failed on what; its callers do not log the same failure again.
 */
#ifndef SW_LOG_H
#define SW_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum sw_log_level {
	SW_LOG_ERROR,
	SW_LOG_WARN,
	SW_LOG_INFO,
	SW_LOG_DEBUG,
};

typedef void (*sw_log_fn)(void *ctx, enum sw_log_level level, const char *msg);

/* NULL: back to stderr.  Not thread-safe: set it before starting threads. */
void sw_log_set_fn(sw_log_fn fn, void *ctx);
/* Messages above @max are dropped (default SW_LOG_INFO). */
void sw_log_set_level(enum sw_log_level max);
/* The stderr prefix; default "swctl". */
void sw_log_set_prefix(const char *prefix);
bool sw_log_enabled(enum sw_log_level level);

void sw_log(enum sw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define sw_err(...)	sw_log(SW_LOG_ERROR, __VA_ARGS__)
#define sw_warn(...)	sw_log(SW_LOG_WARN, __VA_ARGS__)
#define sw_info(...)	sw_log(SW_LOG_INFO, __VA_ARGS__)
#define sw_debug(...)	sw_log(SW_LOG_DEBUG, __VA_ARGS__)

/*
 * At most @burst messages per @interval_ms; the first message after a
 * quiet interval says how many were suppressed.  Zero-initialised fields
 * besides the two limits; one per call site (static).  Thread-safe.
 */
struct sw_ratelimit {
	uint32_t interval_ms, burst;
	uint64_t begin_ns;
	uint32_t printed, missed;
	int lock;
};

#define SW_RATELIMIT_INIT(ms, n)	{ .interval_ms = (ms), .burst = (n) }

/* true when a message may be printed now; counts it. */
bool sw_ratelimit_ok(struct sw_ratelimit *rl, uint32_t *missed);

#define sw_log_ratelimited(level, ...)					\
	do {								\
		static struct sw_ratelimit _rl = SW_RATELIMIT_INIT(5000, 10); \
		uint32_t _missed;					\
		if (sw_ratelimit_ok(&_rl, &_missed)) {			\
			if (_missed)					\
				sw_log(level, "(%u similar messages suppressed)", _missed); \
			sw_log(level, __VA_ARGS__);			\
		}							\
	} while (0)

#endif
