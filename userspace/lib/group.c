// SPDX-License-Identifier: GPL-2.0-only
/* Group fds: a whole process or a trace session; accept hands out targets. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "swprof_internal.h"

int swprof_group_new(int fd, struct swprof_group **out)
{
	struct swprof_group *g = calloc(1, sizeof(*g));

	if (!g) {
		close(fd);
		return -ENOMEM;
	}
	g->fd = fd;
	*out = g;
	return 0;
}

int swprof_register_process(struct swprof *sw, const struct swprof_target_opts *opts,
			    struct swprof_group **out)
{
	struct swprof_target_attr attr;
	int err, fd;

	*out = NULL;
	err = swprof_target_attr_from_opts(opts, &attr);
	if (err)
		return err;
	attr.flags |= SWPROF_TARGET_PROCESS;
	fd = ioctl(sw->fd, SWPROF_IOC_REGISTER, &attr);
	if (fd < 0)
		return -errno;
	return swprof_group_new(fd, out);
}

int swprof_group_from_fd(int fd, struct swprof_group **out)
{
	int copy;

	*out = NULL;
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (copy < 0)
		return -errno;
	return swprof_group_new(copy, out);
}

void swprof_group_free(struct swprof_group *g)
{
	if (!g)
		return;
	close(g->fd);
	free(g);
}

int swprof_group_fd(const struct swprof_group *g)
{
	return g->fd;
}

int swprof_group_accept(struct swprof_group *g, struct swprof_target **out)
{
	struct swprof_accept acc;

	*out = NULL;
	memset(&acc, 0, sizeof(acc));
	acc.size = sizeof(acc);
	acc.fd = -1;
	if (ioctl(g->fd, SWPROF_IOC_ACCEPT, &acc) < 0)
		return -errno;
	if (acc.fd < 0)		/* a module bug; do not wrap garbage */
		return -EBADF;
	return swprof_target_new(acc.fd, out);
}

int swprof_group_stats(struct swprof_group *g, struct swprof_group_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return ioctl(g->fd, SWPROF_IOC_GROUP_STATS, st) < 0 ? -errno : 0;
}

int swprof_group_wait(struct swprof_group *g, int timeout_ms)
{
	return swprof_fd_wait(g->fd, timeout_ms);
}
