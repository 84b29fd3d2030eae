// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/swprof is a misc device: the version handshake, registration (which
 * returns one fd per target, or a group fd), trace sessions and the
 * integrators' trace_begin/end, and module-wide statistics.  The node is
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

#include "device.h"
#include "group.h"
#include "params.h"
#include "sampler.h"
#include "session.h"
#include "stats.h"
#include "target.h"
#include "uapi.h"
#include "utab.h"

#define SWPROF_FEATURES (SWPROF_FEAT_MODE_CPU | SWPROF_FEAT_KSTACK | SWPROF_FEAT_USTACK_FP | \
			 SWPROF_FEAT_RAW_STACK | SWPROF_FEAT_COST_STATS | SWPROF_FEAT_MODE_OFFCPU | \
			 SWPROF_FEAT_MODE_WALL | SWPROF_FEAT_PROCESS | SWPROF_FEAT_TRACE | \
			 SWPROF_FEAT_EVENTS | SWPROF_FEAT_UNWIND_TABLES)

/* Per open of /dev/swprof: the opener's rights, fixed at open, and its unwind tables. */
struct swprof_opener {
	struct swprof_caps caps;
	struct swprof_utab_owner utab;
};

static int swprof_open(struct inode *inode, struct file *file)
{
	struct swprof_opener *op = kzalloc(sizeof(*op), GFP_KERNEL);

	if (!op)
		return -ENOMEM;
	op->caps.kstack = perfmon_capable();
	op->caps.ptrace = capable(CAP_SYS_PTRACE);
	swprof_utab_owner_init(&op->utab);
	file->private_data = op;
	return 0;
}

static int swprof_release(struct inode *inode, struct file *file)
{
	struct swprof_opener *op = file->private_data;

	swprof_utab_owner_release(&op->utab);
	kfree(op);
	return 0;
}

static long ioctl_version(const struct swprof_caps *caps, void __user *uarg)
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
		.mem_used = swprof_mem_used(),
		.nr_targets = atomic_read(&swprof_nr_targets),
		.caps = (caps->kstack ? SWPROF_CAP_KSTACK : 0) |
			(caps->ptrace ? SWPROF_CAP_PTRACE : 0),
	};

	return swprof_copy_out(uarg, &v, sizeof(v));
}

/* A thread: a target fd; SWPROF_TARGET_PROCESS: a group fd. */
static long ioctl_register(const struct swprof_caps *caps, void __user *uarg)
{
	struct swprof_target_params p;
	struct swprof_target_attr a;
	int err;

	err = swprof_copy_in(&a, sizeof(a), SWPROF_TARGET_ATTR_SIZE_VER0, uarg);
	if (err)
		return err;
	err = swprof_target_params_from_attr(caps, &a, &p);
	if (err)
		return err;
	p.ops = swprof_sampler_ops(p.mode);
	if (a.flags & SWPROF_TARGET_PROCESS)
		return swprof_group_register_process(&p, a.tid);
	return swprof_target_register(&p, a.tid, a.flags & SWPROF_TARGET_ENABLE);
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
	gs->mem_used = swprof_mem_used();
	swprof_stats_fill(gs);
	err = swprof_copy_out(uarg, gs, sizeof(*gs));
	kfree(gs);
	return err;
}

static long ioctl_reset_stats(const struct swprof_caps *caps)
{
	if (!caps->kstack)
		return -EPERM;
	swprof_stats_reset();
	return 0;
}

/* The mappings of a process the caller may sample: SWPROF_IOC_UNWIND_MAPS. */
static long ioctl_unwind_maps(struct swprof_opener *op, void __user *uarg)
{
	struct swprof_unwind_maps a;
	struct mm_struct *mm;
	int err;

	err = swprof_copy_in(&a, sizeof(a), sizeof(a), uarg);
	if (!err)
		err = swprof_umaps_check(&a);
	if (err)
		return err;
	mm = swprof_process_mm(&op->caps, a.pid, &err);
	if (!mm)
		return err;
	return swprof_umaps_set(&op->utab, &a, mm);
}

static long swprof_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct swprof_opener *op = file->private_data;
	const struct swprof_caps *caps = &op->caps;
	void __user *uarg = (void __user *)arg;

	switch (swprof_ioc_key(cmd)) {
	case SWPROF_IOC_KEY(SWPROF_IOC_VERSION):
		return ioctl_version(caps, uarg);
	case SWPROF_IOC_KEY(SWPROF_IOC_REGISTER):
		return ioctl_register(caps, uarg);
	case SWPROF_IOC_KEY(SWPROF_IOC_GLOBAL_STATS):
		return ioctl_global_stats(uarg);
	case SWPROF_IOC_KEY(SWPROF_IOC_RESET_STATS):
		return ioctl_reset_stats(caps);
	case SWPROF_IOC_KEY(SWPROF_IOC_TRACE_SESSION):
		return swprof_session_new(caps, uarg);
	case SWPROF_IOC_KEY(SWPROF_IOC_TRACE_BEGIN):
		return swprof_trace_begin(uarg);
	case SWPROF_IOC_KEY(SWPROF_IOC_TRACE_END):
		return swprof_trace_end();
	case SWPROF_IOC_KEY(SWPROF_IOC_UNWIND_TABLE_ADD):
		return swprof_utab_add(&op->utab, uarg);
	case SWPROF_IOC_KEY(SWPROF_IOC_UNWIND_TABLE_FREE):
		return swprof_utab_free(&op->utab, uarg);
	case SWPROF_IOC_KEY(SWPROF_IOC_UNWIND_MAPS):
		return ioctl_unwind_maps(op, uarg);
	default:
		return -ENOTTY;
	}
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

int swprof_device_init(void)
{
	return misc_register(&swprof_misc);
}

void swprof_device_exit(void)
{
	misc_deregister(&swprof_misc);
}
