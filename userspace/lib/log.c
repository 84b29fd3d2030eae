// SPDX-License-Identifier: GPL-2.0-only
/*
 * The library's diagnostics: why a call failed, in words, beyond its errno.
 * Nothing is printed unless the program installs a callback: a library
 * does not write to a program's stderr.
 */
#include <stdarg.h>
#include <stdio.h>

#include "swprof_internal.h"

static swprof_log_fn log_fn;
static void *log_ctx;

void swprof_set_log_fn(swprof_log_fn fn, void *ctx)
{
	__atomic_store_n(&log_ctx, ctx, __ATOMIC_RELAXED);
	__atomic_store_n(&log_fn, fn, __ATOMIC_RELEASE);
}

void swprof_log(enum swprof_log_level level, const char *fmt, ...)
{
	swprof_log_fn fn = __atomic_load_n(&log_fn, __ATOMIC_ACQUIRE);
	char msg[512];
	va_list ap;

	if (!fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(__atomic_load_n(&log_ctx, __ATOMIC_RELAXED), level, msg);
}
