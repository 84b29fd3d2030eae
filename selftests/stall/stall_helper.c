// SPDX-License-Identifier: GPL-2.0-only
/*
 * stall_helper.ko: a test helper that stalls the test VM on purpose, to
 * prove that tools/vm fails a stalled guest fast (tools/check's vm-stall
 * suites).  Never part of swprof.ko.
 *
 *   insmod stall_helper.ko how=softlockup   a CPU spins with preemption off
 *   insmod stall_helper.ko how=rcu          a task spins in an RCU read-side
 *                                           critical section (preemptible)
 *   insmod stall_helper.ko how=hung         a task sleeps uninterruptibly
 *   insmod stall_helper.ko how=wedge        every CPU spins with interrupts
 *                                           off: the guest goes silent
 *
 * Each stall lasts secs seconds (default 600) and then ends by itself, so a
 * kernel that never notices still comes back.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/smp.h>

static char *how = "softlockup";
module_param(how, charp, 0444);
MODULE_PARM_DESC(how, "softlockup, rcu, hung or wedge");
static unsigned int secs = 600;
module_param(secs, uint, 0444);
MODULE_PARM_DESC(secs, "how long the stall lasts");

static unsigned long until;

static void spin_until_deadline(void)
{
	while (time_before(jiffies, until))
		cpu_relax();
}

/* jiffies do not advance with interrupts off everywhere: count loops instead */
static void wedge_cpu(void *unused)
{
	u64 n = (u64)secs * 100000000ULL;

	while (n--)
		cpu_relax();
}

static int stall_fn(void *unused)
{
	until = jiffies + secs * HZ;
	if (!strcmp(how, "softlockup")) {
		preempt_disable();
		spin_until_deadline();
		preempt_enable();
	} else if (!strcmp(how, "rcu")) {
		rcu_read_lock();
		while (time_before(jiffies, until)) {
			cpu_relax();
			cond_resched();
		}
		rcu_read_unlock();
	} else if (!strcmp(how, "hung")) {
		schedule_timeout_uninterruptible(secs * HZ);
	} else if (!strcmp(how, "wedge")) {
		on_each_cpu(wedge_cpu, NULL, 0);
	}
	pr_info("stall '%s' over\n", how);
	return 0;
}

static int __init stall_init(void)
{
	struct task_struct *t;

	if (strcmp(how, "softlockup") && strcmp(how, "rcu") && strcmp(how, "hung") &&
	    strcmp(how, "wedge"))
		return -EINVAL;
	t = kthread_run(stall_fn, NULL, "stall_helper");
	if (IS_ERR(t))
		return PTR_ERR(t);
	pr_info("stalling the guest on purpose: %s for %u s\n", how, secs);
	return 0;
}

static void __exit stall_exit(void)
{
}

module_init(stall_init);
module_exit(stall_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("swprof test helper: stalls the test VM on purpose");
