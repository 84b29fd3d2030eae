// SPDX-License-Identifier: GPL-2.0-only
/* Probe: hrtimer_setup() (6.13+). */
#include <linux/hrtimer.h>
#include <linux/module.h>

static enum hrtimer_restart fn(struct hrtimer *t) { return HRTIMER_NORESTART; }
static struct hrtimer timer;
static int __init probe_init(void)
{
	hrtimer_setup(&timer, fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	return 0;
}
module_init(probe_init);
MODULE_LICENSE("GPL");
