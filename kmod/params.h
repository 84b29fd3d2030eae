/* SPDX-License-Identifier: GPL-2.0-only */
/* The module's parameters (params.c): defaults and limits, read anywhere. */
#ifndef SWPROF_PARAMS_H
#define SWPROF_PARAMS_H

#include <linux/types.h>

extern unsigned long swprof_default_period_ns;
extern unsigned int swprof_default_ring_size;
extern unsigned int swprof_max_ring_size;
extern unsigned int swprof_mem_limit_mb;
extern unsigned int swprof_max_targets;
extern unsigned int swprof_default_depth;
extern bool swprof_cost_stats;

#endif
