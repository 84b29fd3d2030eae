/* SPDX-License-Identifier: GPL-2.0-only */
/* The scheduler tracepoints the module attaches to (hooks.c). */
#ifndef SWPROF_HOOKS_H
#define SWPROF_HOOKS_H

int swprof_hooks_init(void);
void swprof_hooks_exit(void);

#endif
