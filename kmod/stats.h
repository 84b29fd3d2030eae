/* SPDX-License-Identifier: GPL-2.0-only */
/* Module-wide counters and the per-sample cost histogram (stats.c). */
#ifndef SWPROF_STATS_H
#define SWPROF_STATS_H

#include <linux/types.h>
#include <linux/swprof.h>

void swprof_stats_sample(bool written, u64 cost_ns);
void swprof_stats_lost(void);
void swprof_stats_miss(void);
void swprof_stats_fill(struct swprof_global_stats *gs);
void swprof_stats_reset(void);
unsigned int swprof_cost_bucket(u64 ns);

/* Memory charged to the module-wide limit (mem_limit_mb): rings, snapshots, unwind tables. */
int swprof_mem_charge(u64 bytes);	/* 0 or -ENOSPC (nothing charged) */
void swprof_mem_uncharge(u64 bytes);
u64 swprof_mem_used(void);

#endif
