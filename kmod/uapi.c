// SPDX-License-Identifier: GPL-2.0-only
/*
 * Size-first structs in and out of every ioctl, and the one way an object
 * becomes an fd.
 */
#include <linux/anon_inodes.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/minmax.h>
#include <linux/uaccess.h>

#include "uapi.h"

/*
 * Output structs: the caller's size says how much it knows; we write that
 * much (zero-filling what we do not have) and never more.
 */
int swprof_check_out_size(void __user *uarg)
{
	u32 usize;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < sizeof(u64))
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return 0;
}

int swprof_copy_out(void __user *uarg, void *kbuf, size_t ksize)
{
	u32 usize;
	int err;

	err = swprof_check_out_size(uarg);
	if (err)
		return err;
	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	*(u32 *)kbuf = min_t(u32, usize, ksize);
	if (copy_to_user(uarg, kbuf, min_t(size_t, usize, ksize)))
		return -EFAULT;
	if (usize > ksize && clear_user(uarg + ksize, usize - ksize))
		return -EFAULT;
	return 0;
}

/* Input: copy_struct_from_user() rules, size first. */
int swprof_copy_in(void *kbuf, size_t ksize, size_t minsize, const void __user *uarg)
{
	u32 usize;

	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (usize < minsize)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(kbuf, ksize, uarg, usize);
}

/*
 * A new O_CLOEXEC fd on an anonymous file over @priv, whose release then
 * owns @priv.  Without @reserved the fd is installed at once.  With it, the
 * fd is only reserved and the file returned there, for a caller that has
 * something left to do that may fail: it then calls fd_install(), or
 * put_unused_fd() and fput() (the release runs).  On error nothing is left
 * and @priv is still the caller's.
 */
int swprof_new_fd(const char *name, const struct file_operations *fops, void *priv,
		  struct file **reserved)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	file = anon_inode_getfile(name, fops, priv, O_RDWR | O_CLOEXEC);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	if (reserved)
		*reserved = file;
	else
		fd_install(fd, file);
	return fd;
}
