// SPDX-License-Identifier: GPL-2.0-only
/* Probe: sched_process_exit(p, group_dead) (6.16+). */
#include <linux/module.h>
#include <trace/events/sched.h>

static void probe(void *data, struct task_struct *p, bool group_dead) { }
static int __init probe_init(void)
{
	return register_trace_sched_process_exit(probe, NULL);
}
module_init(probe_init);
MODULE_LICENSE("GPL");
