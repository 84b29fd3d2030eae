/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Trace sessions (session.c): the controller's tasks, the integrators'
 * trace_begin/end, and the segments they admit.
 */
#ifndef SWPROF_SESSION_H
#define SWPROF_SESSION_H

#include <linux/types.h>

#include "target.h"

int swprof_session_new(const struct swprof_caps *caps, void __user *uarg);
int swprof_trace_begin(void __user *uarg);
int swprof_trace_end(void);
void swprof_segment_end(struct swprof_target *t, u32 reason);

#endif
