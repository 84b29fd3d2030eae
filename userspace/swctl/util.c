// SPDX-License-Identifier: GPL-2.0-only
/* Small helpers shared by every swctl command. */
#include <stdarg.h>
#include <stdio.h>

#include "swctl.h"

void swctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("swctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
