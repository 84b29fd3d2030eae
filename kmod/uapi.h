/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The rules of include/uapi/linux/swprof.h that every fd type applies
 * (uapi.c): size-first structs in and out, how a command is matched, and
 * how a new object becomes an fd.
 */
#ifndef SWPROF_UAPI_H
#define SWPROF_UAPI_H

#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/swprof.h>

/*
 * What an ioctl is dispatched on: type, number and direction, not the size
 * encoded in the command, which travels in the struct itself so that newer
 * and older headers keep working.  A command without argument (_IO) must
 * have size 0.  One switch (swprof_ioc_key(cmd)) per fd type, its cases
 * SWPROF_IOC_KEY(SWPROF_IOC_...), default -ENOTTY.
 */
#define SWPROF_IOC_KEY(cmd)	((cmd) & ~IOCSIZE_MASK)

static inline unsigned int swprof_ioc_key(unsigned int cmd)
{
	return _IOC_DIR(cmd) == _IOC_NONE ? cmd : SWPROF_IOC_KEY(cmd);
}

int swprof_check_out_size(void __user *uarg);
int swprof_copy_out(void __user *uarg, void *kbuf, size_t ksize);
int swprof_copy_in(void *kbuf, size_t ksize, size_t minsize, const void __user *uarg);
int swprof_new_fd(const char *name, const struct file_operations *fops, void *priv,
		  struct file **reserved);

#endif
