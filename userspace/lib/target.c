// SPDX-License-Identifier: GPL-2.0-only
/* Targets: register a thread, map its ring, control it, wait for records. */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "swprof_internal.h"

int swprof_target_attr_from_opts(const struct swprof_target_opts *opts,
				 struct swprof_target_attr *attr)
{
	int err = SWPROF_OPTS_CHECK(opts, swprof_target_opts);

	if (err)
		return err;
	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
	attr->tid = SWPROF_OPTS_GET(opts, tid, 0);
	attr->mode = SWPROF_OPTS_GET(opts, mode, SWPROF_MODE_CPU);
	attr->flags = SWPROF_OPTS_GET(opts, flags, 0);
	attr->ring_size = SWPROF_OPTS_GET(opts, ring_size, 0);
	attr->period_ns = SWPROF_OPTS_GET(opts, period_ns, 0);
	attr->max_kernel_depth = SWPROF_OPTS_GET(opts, max_kernel_depth, 0);
	attr->max_user_depth = SWPROF_OPTS_GET(opts, max_user_depth, 0);
	attr->raw_stack_size = SWPROF_OPTS_GET(opts, raw_stack_size, 0);
	attr->wakeup_bytes = SWPROF_OPTS_GET(opts, wakeup_bytes, 0);
	attr->min_block_ns = SWPROF_OPTS_GET(opts, min_block_ns, 0);
	return 0;
}

int swprof_ring_header_check(const struct swprof_ring_header *hdr)
{
	__u64 size = hdr->data_size;

	if (hdr->version != SWPROF_RING_VERSION ||
	    hdr->header_size < sizeof(struct swprof_ring_header))
		return -EPROTO;
	/* Power of two, room for a record, and both copies addressable. */
	if (size < sizeof(struct swprof_rec) || (size & (size - 1)) ||
	    size > SIZE_MAX / 2)
		return -EPROTO;
	return 0;
}

static void target_unmap(struct swprof_target *t)
{
	if (!t->own_maps)
		return;
	if (t->data)
		munmap((void *)t->data, 2 * t->data_size);
	if (t->cons)
		munmap(t->cons, t->map_page);
	if (t->hdr)
		munmap((void *)t->hdr, t->map_page);
}

/* Map header, consumer page and the doubled data, as laid out in the uapi. */
static int target_map(struct swprof_target *t)
{
	size_t page = sysconf(_SC_PAGESIZE);
	void *p;
	int err;

	t->own_maps = true;
	t->map_page = page;
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, t->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	t->hdr = p;
	err = swprof_ring_header_check(t->hdr);
	if (err)
		return err;
	t->data_size = t->hdr->data_size;

	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd,
		 t->hdr->consumer_offset);
	if (p == MAP_FAILED)
		return -errno;
	t->cons = p;

	p = mmap(NULL, 2 * t->data_size, PROT_READ, MAP_SHARED, t->fd,
		 t->hdr->data_offset);
	if (p == MAP_FAILED)
		return -errno;
	t->data = p;
	t->pos = __atomic_load_n(&t->cons->consumer_pos, __ATOMIC_RELAXED);
	return 0;
}

int swprof_target_new(int fd, struct swprof_target **out)
{
	struct swprof_target *t;
	int err;

	t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		return -ENOMEM;
	}
	t->fd = fd;
	err = target_map(t);
	if (err) {
		swprof_target_free(t);
		return err;
	}
	*out = t;
	return 0;
}

int swprof_register(struct swprof *sw, const struct swprof_target_opts *opts,
		    struct swprof_target **out)
{
	struct swprof_target_attr attr;
	int err, fd;

	*out = NULL;
	err = swprof_target_attr_from_opts(opts, &attr);
	if (err)
		return err;
	if (attr.flags & SWPROF_TARGET_PROCESS)	/* a group fd: swprof_register_process() */
		return -EINVAL;
	fd = ioctl(sw->fd, SWPROF_IOC_REGISTER, &attr);
	if (fd < 0)
		return -errno;
	return swprof_target_new(fd, out);
}

int swprof_target_from_fd(int fd, struct swprof_target **out)
{
	int copy;

	*out = NULL;
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (copy < 0)
		return -errno;
	return swprof_target_new(copy, out);
}

int swprof_target_from_mem(const struct swprof_ring_header *hdr,
			   struct swprof_ring_consumer *cons, const void *data,
			   int fd, struct swprof_target **out)
{
	struct swprof_target *t;
	int err;

	*out = NULL;
	err = swprof_ring_header_check(hdr);
	if (err)
		return err;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = fd;
	t->hdr = hdr;
	t->cons = cons;
	t->data = data;
	t->data_size = hdr->data_size;
	t->pos = __atomic_load_n(&cons->consumer_pos, __ATOMIC_RELAXED);
	*out = t;
	return 0;
}

void swprof_target_free(struct swprof_target *t)
{
	if (!t)
		return;
	target_unmap(t);
	if (t->own_maps && t->fd >= 0)
		close(t->fd);
	free(t);
}

int swprof_target_fd(const struct swprof_target *t)
{
	return t->fd;
}

__u32 swprof_target_tid(const struct swprof_target *t)
{
	return t->hdr->tid;
}

__u32 swprof_target_pid(const struct swprof_target *t)
{
	return t->hdr->pid;
}

const struct swprof_ring_header *swprof_target_header(const struct swprof_target *t)
{
	return t->hdr;
}

static int target_ioctl(struct swprof_target *t, unsigned long cmd, void *arg)
{
	return ioctl(t->fd, cmd, arg) < 0 ? -errno : 0;
}

int swprof_target_enable(struct swprof_target *t)
{
	return target_ioctl(t, SWPROF_IOC_ENABLE, NULL);
}

int swprof_target_disable(struct swprof_target *t)
{
	return target_ioctl(t, SWPROF_IOC_DISABLE, NULL);
}

int swprof_target_stats(struct swprof_target *t, struct swprof_target_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return target_ioctl(t, SWPROF_IOC_TARGET_STATS, st);
}

/* poll() an fd that reports POLLIN for data and POLLHUP once it is over. */
int swprof_fd_wait(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n;

	n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return -errno;
	if (n == 0)
		return SWPROF_WAIT_TIMEOUT;
	if (pfd.revents & POLLNVAL)
		return -EBADF;
	if (pfd.revents & POLLIN)	/* before HUP: read (or accept) what is left first */
		return SWPROF_WAIT_DATA;
	if (pfd.revents & POLLHUP)
		return SWPROF_WAIT_EXITED;
	return -EIO;			/* POLLERR */
}

int swprof_target_wait(struct swprof_target *t, int timeout_ms)
{
	return swprof_fd_wait(t->fd, timeout_ms);
}
