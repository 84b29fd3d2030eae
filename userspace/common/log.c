// SPDX-License-Identifier: GPL-2.0-only
/* Leveled, rate-limited logging (sw_log.h). */
#include <stdarg.h>
#include <stdio.h>

#include "sw_log.h"
#include "sw_time.h"

static sw_log_fn log_fn;
static void *log_ctx;
static enum sw_log_level log_max = SW_LOG_INFO;
static const char *log_prefix = "swctl";

void sw_log_set_fn(sw_log_fn fn, void *ctx)
{
	log_fn = fn;
	log_ctx = ctx;
}

void sw_log_set_level(enum sw_log_level max)
{
	log_max = max;
}

void sw_log_set_prefix(const char *prefix)
{
	log_prefix = prefix;
}

bool sw_log_enabled(enum sw_log_level level)
{
	return level <= log_max;
}

void sw_log(enum sw_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!sw_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_fn)
		log_fn(log_ctx, level, msg);
	else
		fprintf(stderr, "%s: %s\n", log_prefix, msg);
}

bool sw_ratelimit_ok(struct sw_ratelimit *rl, uint32_t *missed)
{
	uint64_t now = sw_now_ns();
	bool ok;

	while (__atomic_exchange_n(&rl->lock, 1, __ATOMIC_ACQUIRE))
		;
	*missed = 0;
	if (!rl->begin_ns || now - rl->begin_ns >= (uint64_t)rl->interval_ms * 1000000ULL) {
		*missed = rl->missed;
		rl->begin_ns = now;
		rl->printed = 0;
		rl->missed = 0;
	}
	ok = rl->printed < rl->burst;
	if (ok)
		rl->printed++;
	else
		rl->missed++;
	__atomic_store_n(&rl->lock, 0, __ATOMIC_RELEASE);
	return ok;
}
