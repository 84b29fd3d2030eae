// SPDX-License-Identifier: GPL-2.0-only
/* Module parameters: defaults for what a target leaves at 0, and limits. */
#include <linux/moduleparam.h>

#include "params.h"

unsigned long swprof_default_period_ns = 10101010;	/* 99 Hz */
module_param_named(default_period_ns, swprof_default_period_ns, ulong, 0644);
MODULE_PARM_DESC(default_period_ns, "Sampling period when a target asks for 0 (ns)");

unsigned int swprof_default_ring_size = 256 * 1024;
module_param_named(default_ring_size, swprof_default_ring_size, uint, 0644);
MODULE_PARM_DESC(default_ring_size, "Data bytes of a ring when a target asks for 0 (power of two)");

unsigned int swprof_max_ring_size = 64 << 20;
module_param_named(max_ring_size, swprof_max_ring_size, uint, 0644);
MODULE_PARM_DESC(max_ring_size, "Largest ring a target may ask for (bytes)");

unsigned int swprof_mem_limit_mb = 512;
module_param_named(mem_limit_mb, swprof_mem_limit_mb, uint, 0644);
MODULE_PARM_DESC(mem_limit_mb, "Ring memory for all targets together (MiB); beyond it, registration fails with ENOSPC");

unsigned int swprof_max_targets = 65536;
module_param_named(max_targets, swprof_max_targets, uint, 0644);
MODULE_PARM_DESC(max_targets, "Targets registered at once, all openers together");

unsigned int swprof_default_depth = 127;
module_param_named(default_depth, swprof_default_depth, uint, 0644);
MODULE_PARM_DESC(default_depth, "Kernel and user frames kept when a target asks for 0");

bool swprof_cost_stats = true;
module_param_named(cost_stats, swprof_cost_stats, bool, 0644);
MODULE_PARM_DESC(cost_stats, "Time every sample for the cost histogram");
