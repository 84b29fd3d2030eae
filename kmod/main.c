// SPDX-License-Identifier: GPL-2.0-only
/*
 * swprof: sample the stacks of registered threads into per-thread rings.
 *
 * The module's life: what is set up at load, in order, and undone at
 * unload.  Each object lives in a file of its own, with a header of its
 * own (README.md, "Layout"): device.c (/dev/swprof), target.c, group.c,
 * session.c, ring.c, sampler.c and hooks.c (when samples are taken),
 * emit.c, unwind.c, stats.c, genetlink.c, params.c, uapi.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/swprof.h>

#include "device.h"
#include "genetlink.h"
#include "group.h"
#include "hooks.h"
#include "target.h"

#define __stringify_api(x, y) #x "." #y
#define SWPROF_API_STR(x, y) __stringify_api(x, y)

static int __init swprof_init(void)
{
	int err;

	err = swprof_targets_init();
	if (err)
		return err;
	err = swprof_groups_init();
	if (err)
		goto targets;
	err = swprof_events_init();
	if (err)
		goto groups;
	err = swprof_hooks_init();
	if (err)
		goto events;
	err = swprof_device_init();
	if (err)
		goto hooks;
	pr_info("loaded, API %d.%d, version %s\n", SWPROF_API_MAJOR, SWPROF_API_MINOR,
		SWPROF_VERSION_STR);
	return 0;
hooks:
	swprof_hooks_exit();
events:
	swprof_events_exit();
groups:
	swprof_groups_exit();
targets:
	swprof_targets_exit();
	return err;
}

static void __exit swprof_exit(void)
{
	swprof_device_exit();
	swprof_hooks_exit();
	swprof_groups_exit();
	swprof_targets_exit();
	swprof_events_exit();
}

module_init(swprof_init);
module_exit(swprof_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("swprof developers");
MODULE_DESCRIPTION("Stack sampling of registered threads for Apache SkyWalking");
MODULE_VERSION(SWPROF_VERSION_STR);
MODULE_INFO(swprof_api, SWPROF_API_STR(SWPROF_API_MAJOR, SWPROF_API_MINOR));
