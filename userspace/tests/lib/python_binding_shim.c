// SPDX-License-Identifier: GPL-2.0-only
/*
 * LD_PRELOAD shim for userspace/tests/python_binding.sh: counts the opens
 * of $SWPROF_DEVICE and, once shim_set_present(1) was called, answers them
 * with a fake swprof device (a memfd) whose VERSION, TRACE_BEGIN and
 * TRACE_END ioctls it serves.  Everything else goes to the kernel.
 * The test reads the counters through ctypes.CDLL(None).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/swprof.h>

#define SHIM_DEV "swprof-shim-dev"

static int present, begin_errno;
static unsigned int opens, begins, ends;
static struct swprof_trace_begin last;

int shim_set_present(int on);
int shim_set_begin_errno(int err);
unsigned int shim_opens(void);
unsigned int shim_begins(void);
unsigned int shim_ends(void);
const char *shim_last_endpoint(void);
const char *shim_last_segment_id(void);
int open(const char *path, int flags, ...);
int open64(const char *path, int flags, ...);
int ioctl(int fd, unsigned long cmd, ...);

int shim_set_present(int on)
{
	present = on;
	return 0;
}

int shim_set_begin_errno(int err)
{
	begin_errno = err;
	return 0;
}

unsigned int shim_opens(void)
{
	return __atomic_load_n(&opens, __ATOMIC_RELAXED);
}

unsigned int shim_begins(void)
{
	return __atomic_load_n(&begins, __ATOMIC_RELAXED);
}

unsigned int shim_ends(void)
{
	return __atomic_load_n(&ends, __ATOMIC_RELAXED);
}

const char *shim_last_endpoint(void)
{
	return last.endpoint;
}

const char *shim_last_segment_id(void)
{
	return last.segment_id;
}

static bool is_shim_fd(int fd)
{
	char link[64], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = 0;
	return !strncmp(target, "/memfd:" SHIM_DEV, strlen("/memfd:" SHIM_DEV));
}

static int shim_open(const char *path, int flags, mode_t mode)
{
	const char *dev = getenv("SWPROF_DEVICE");

	if (dev && !strcmp(path, dev)) {
		__atomic_add_fetch(&opens, 1, __ATOMIC_RELAXED);
		if (present)
			return memfd_create(SHIM_DEV, (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	}
	return syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return shim_open(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return shim_open(path, flags, mode);
}

static int shim_ioctl(unsigned long cmd, void *arg)
{
	switch (cmd) {
	case SWPROF_IOC_VERSION: {
		struct swprof_version *v = arg;
		__u32 size = v->size < sizeof(*v) ? v->size : sizeof(*v);
		struct swprof_version ans = {
			.size = size,
			.major = SWPROF_API_MAJOR,
			.minor = SWPROF_API_MINOR,
			.features = SWPROF_FEAT_MODE_CPU | SWPROF_FEAT_TRACE,
			.ring_version = SWPROF_RING_VERSION,
		};

		memcpy(v, &ans, size);
		return 0;
	}
	case SWPROF_IOC_TRACE_BEGIN:
		__atomic_add_fetch(&begins, 1, __ATOMIC_RELAXED);
		memcpy(&last, arg, sizeof(last));
		if (begin_errno) {
			errno = begin_errno;
			return -1;
		}
		((struct swprof_trace_begin *)arg)->task = 3;
		return 0;
	case SWPROF_IOC_TRACE_END:
		__atomic_add_fetch(&ends, 1, __ATOMIC_RELAXED);
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

int ioctl(int fd, unsigned long cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (is_shim_fd(fd))
		return shim_ioctl(cmd, arg);
	return syscall(SYS_ioctl, fd, cmd, arg);
}
