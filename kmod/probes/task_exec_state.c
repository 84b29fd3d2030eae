// SPDX-License-Identifier: GPL-2.0-only
/* Probe: dumpability moved from mm->flags to task->exec_state (7.x). */
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/exec_state.h>

int probe_fn(struct task_struct *t);
int probe_fn(struct task_struct *t)
{
	struct task_exec_state *es = rcu_dereference_raw(t->exec_state);

	return es && es->dumpable == TASK_DUMPABLE_OWNER;
}
MODULE_LICENSE("GPL");
