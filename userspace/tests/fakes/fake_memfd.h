/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The smallest fake of swprof.ko for host tests: fds are memfds named after
 * what they stand for (fd_is()), and fake_version_ioctl() answers VERSION on
 * the device with a given struct.  fake_swprof.h builds the whole fake on
 * these; tests that only need the handshake define their ioctl() with them.
 */
#ifndef FAKE_MEMFD_H
#define FAKE_MEMFD_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/swprof.h>

#define FAKE_DEV	"swprof-fake-dev"

/* Is @fd a memfd whose name starts with @name? */
static inline bool fd_is(int fd, const char *name)
{
	char link[64], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = 0;
	return !strncmp(target, "/memfd:", 7) && !strncmp(target + 7, name, strlen(name));
}

/*
 * ioctl() of a fake device that answers VERSION with @v and nothing else
 * (ENOTTY); other fds go to the kernel.
 */
static inline int fake_version_ioctl(int fd, unsigned long cmd, void *arg, const struct swprof_version *v)
{
	if (fd_is(fd, FAKE_DEV)) {
		if (cmd == SWPROF_IOC_VERSION) {
			__u32 usize = *(__u32 *)arg;

			memcpy(arg, v, usize < sizeof(*v) ? usize : sizeof(*v));
			return 0;
		}
		errno = ENOTTY;
		return -1;
	}
	return syscall(SYS_ioctl, fd, cmd, arg);
}

#endif
