// SPDX-License-Identifier: GPL-2.0-only
/* Unwind tables (API 1.2): thin wrappers of the three ioctls (see swprof.h). */
#include <sys/ioctl.h>

#include "swprof_internal.h"

int swprof_unwind_table_add(struct swprof *sw, const struct swprof_unwind_row *rows, __u32 nr,
			    __u32 *id)
{
	struct swprof_unwind_table t = {
		.size = sizeof(t),
		.nr_rows = nr,
		.rows = (__u64)(unsigned long)rows,
	};

	if (id)
		*id = 0;
	if (!rows || !nr || !id)
		return -EINVAL;
	if (ioctl(sw->fd, SWPROF_IOC_UNWIND_TABLE_ADD, &t) < 0)
		return -errno;
	*id = t.id;
	return 0;
}

int swprof_unwind_table_free(struct swprof *sw, __u32 id)
{
	struct swprof_unwind_ref ref = { .size = sizeof(ref), .id = id };

	return ioctl(sw->fd, SWPROF_IOC_UNWIND_TABLE_FREE, &ref) < 0 ? -errno : 0;
}

int swprof_unwind_maps_set(struct swprof *sw, __u32 pid, const struct swprof_unwind_mapping *maps,
			   __u32 nr)
{
	struct swprof_unwind_maps m = {
		.size = sizeof(m),
		.pid = pid,
		.nr_maps = nr,
		.maps = (__u64)(unsigned long)maps,
	};

	if (nr && !maps)
		return -EINVAL;
	return ioctl(sw->fd, SWPROF_IOC_UNWIND_MAPS, &m) < 0 ? -errno : 0;
}
