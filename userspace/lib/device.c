// SPDX-License-Identifier: GPL-2.0-only
/* The /dev/swprof handle: open + version handshake, global statistics. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "swprof_internal.h"

int swprof_open(const struct swprof_open_opts *opts, struct swprof **out)
{
	const char *path;
	struct swprof *sw;
	int err;

	*out = NULL;
	err = SWPROF_OPTS_CHECK(opts, swprof_open_opts);
	if (err)
		return err;
	path = SWPROF_OPTS_GET(opts, path, NULL);
	if (!path)
		path = SWPROF_DEVICE;

	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return -ENOMEM;
	sw->fd = open(path, O_RDWR | O_CLOEXEC);
	if (sw->fd < 0) {
		err = -errno;
		goto err_free;
	}
	sw->version.size = sizeof(sw->version);
	if (ioctl(sw->fd, SWPROF_IOC_VERSION, &sw->version) < 0) {
		err = -errno;
		goto err_close;
	}
	if (sw->version.major != SWPROF_API_MAJOR ||
	    sw->version.ring_version != SWPROF_RING_VERSION) {
		swprof_log(SWPROF_LOG_WARN, "%s: module API %u.%u ring format %u; this library: API %u.x ring format %u",
			   path ? path : SWPROF_DEVICE, sw->version.major, sw->version.minor,
			   sw->version.ring_version, SWPROF_API_MAJOR, SWPROF_RING_VERSION);
		err = -EPROTO;
		goto err_close;
	}
	*out = sw;
	return 0;

err_close:
	close(sw->fd);
err_free:
	free(sw);
	return err;
}

void swprof_close(struct swprof *sw)
{
	if (!sw)
		return;
	close(sw->fd);
	free(sw);
}

const struct swprof_version *swprof_version(const struct swprof *sw)
{
	return &sw->version;
}

bool swprof_has_feature(const struct swprof *sw, __u64 features)
{
	return features && (sw->version.features & features) == features;
}

int swprof_fd(const struct swprof *sw)
{
	return sw->fd;
}

int swprof_global_stats(struct swprof *sw, struct swprof_global_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return ioctl(sw->fd, SWPROF_IOC_GLOBAL_STATS, st) < 0 ? -errno : 0;
}

int swprof_reset_stats(struct swprof *sw)
{
	return ioctl(sw->fd, SWPROF_IOC_RESET_STATS) < 0 ? -errno : 0;
}
