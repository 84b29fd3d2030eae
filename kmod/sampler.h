/* SPDX-License-Identifier: GPL-2.0-only */
/* When samples are taken (sampler.c): the timers, the IPI, the context switch. */
#ifndef SWPROF_SAMPLER_H
#define SWPROF_SAMPLER_H

#include <linux/hrtimer.h>
#include <linux/types.h>

#include "target.h"

const struct swprof_target_ops *swprof_sampler_ops(u32 mode);
void swprof_sampler_wall_tick(struct swprof_target *t);
void swprof_sampler_wall_ipi(void *arg);
void swprof_sampler_switch_out(struct swprof_target *t, bool preempt, unsigned int prev_state);
void swprof_sampler_switch_in(struct swprof_target *t);

#endif
