// SPDX-License-Identifier: GPL-2.0-only
/*
 * swprof: sample the stacks of registered threads into per-thread rings.
 *
 * /dev/swprof is a misc device: the version handshake, registration (which
 * returns one fd per target) and module-wide statistics.  The node is
 * world-accessible on purpose (mode 0666): any thread may register itself;
 * every other right is checked per request (see docs/uapi.md).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "events.h"
#include "swprof.h"

#define __stringify_api(x, y) #x "." #y
#define SWPROF_API_STR(x, y) __stringify_api(x, y)

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

#define SWPROF_FEATURES (SWPROF_FEAT_MODE_CPU | SWPROF_FEAT_KSTACK | SWPROF_FEAT_USTACK_FP | \
			 SWPROF_FEAT_RAW_STACK | SWPROF_FEAT_COST_STATS | SWPROF_FEAT_MODE_OFFCPU | \
			 SWPROF_FEAT_MODE_WALL | SWPROF_FEAT_PROCESS | SWPROF_FEAT_TRACE | \
			 SWPROF_FEAT_EVENTS)

static int swprof_open(struct inode *inode, struct file *file)
{
	struct swprof_file *sf = kzalloc(sizeof(*sf), GFP_KERNEL);

	if (!sf)
		return -ENOMEM;
	sf->kstack_cap = perfmon_capable();
	sf->ptrace_cap = capable(CAP_SYS_PTRACE);
	file->private_data = sf;
	return 0;
}

static int swprof_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static long ioctl_version(struct swprof_file *sf, void __user *uarg)
{
	struct swprof_version v = {
		.major = SWPROF_API_MAJOR,
		.minor = SWPROF_API_MINOR,
		.features = SWPROF_FEATURES,
		.ring_version = SWPROF_RING_VERSION,
		.max_depth = SWPROF_MAX_DEPTH,
		.max_raw_stack = SWPROF_MAX_RAW_STACK,
		.max_targets = swprof_max_targets,
		.min_period_ns = SWPROF_MIN_PERIOD_NS,
		.max_ring_size = swprof_max_ring_size,
		.mem_limit = (u64)swprof_mem_limit_mb << 20,
		.mem_used = atomic64_read(&swprof_mem_used),
		.nr_targets = atomic_read(&swprof_nr_targets),
		.caps = (sf->kstack_cap ? SWPROF_CAP_KSTACK : 0) |
			(sf->ptrace_cap ? SWPROF_CAP_PTRACE : 0),
	};

	return swprof_copy_out(uarg, &v, sizeof(v));
}

static long ioctl_global_stats(void __user *uarg)
{
	struct swprof_global_stats *gs;
	long err;

	err = swprof_check_out_size(uarg);
	if (err)
		return err;
	gs = kzalloc(sizeof(*gs), GFP_KERNEL);
	if (!gs)
		return -ENOMEM;
	gs->nr_targets = atomic_read(&swprof_nr_targets);
	gs->mem_used = atomic64_read(&swprof_mem_used);
	swprof_stats_fill(gs);
	err = swprof_copy_out(uarg, gs, sizeof(*gs));
	kfree(gs);
	return err;
}

/*
 * Commands are matched on type, number and direction, not on the size
 * encoded in the command: the size travels in the struct itself, so that
 * newer and older headers keep working.
 */
static bool cmd_is(unsigned int cmd, unsigned int want)
{
	return _IOC_NR(cmd) == _IOC_NR(want) && _IOC_DIR(cmd) == _IOC_DIR(want);
}

static long swprof_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct swprof_file *sf = file->private_data;
	void __user *uarg = (void __user *)arg;

	if (_IOC_TYPE(cmd) != SWPROF_IOC_MAGIC)
		return -ENOTTY;
	if (cmd_is(cmd, SWPROF_IOC_VERSION))
		return ioctl_version(sf, uarg);
	if (cmd_is(cmd, SWPROF_IOC_REGISTER))
		return swprof_register(sf, uarg);
	if (cmd_is(cmd, SWPROF_IOC_GLOBAL_STATS))
		return ioctl_global_stats(uarg);
	if (cmd_is(cmd, SWPROF_IOC_TRACE_SESSION))
		return swprof_trace_session(sf, uarg);
	if (cmd_is(cmd, SWPROF_IOC_TRACE_BEGIN))
		return swprof_trace_begin(sf, uarg);
	if (cmd == SWPROF_IOC_TRACE_END)
		return swprof_trace_end();
	if (cmd == SWPROF_IOC_RESET_STATS) {
		if (!sf->kstack_cap)
			return -EPERM;
		swprof_stats_reset();
		return 0;
	}
	return -ENOTTY;
}

static const struct file_operations swprof_fops = {
	.owner = THIS_MODULE,
	.open = swprof_open,
	.release = swprof_release,
	.unlocked_ioctl = swprof_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice swprof_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "swprof",
	.fops = &swprof_fops,
	.mode = 0666,
};

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
	err = swprof_sampler_init();
	if (err)
		goto events;
	err = misc_register(&swprof_misc);
	if (err)
		goto sampler;
	pr_info("loaded, API %d.%d, version %s\n", SWPROF_API_MAJOR, SWPROF_API_MINOR,
		SWPROF_VERSION_STR);
	return 0;
sampler:
	swprof_sampler_exit();
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
	misc_deregister(&swprof_misc);
	swprof_sampler_exit();
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
