// SPDX-License-Identifier: GPL-2.0-only
/* Trace sessions and tasks: the controller's side of trace profiling. */
#include <sys/ioctl.h>

#include "swprof_internal.h"

int swprof_trace_session_new(struct swprof *sw, const struct swprof_trace_session_opts *opts,
			     struct swprof_group **out)
{
	struct swprof_trace_session_attr attr;
	int err, fd;

	*out = NULL;
	err = SWPROF_OPTS_CHECK(opts, swprof_trace_session_opts);
	if (err)
		return err;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.flags = SWPROF_OPTS_GET(opts, flags, 0);
	attr.ring_size = SWPROF_OPTS_GET(opts, ring_size, 0);
	attr.raw_stack_size = SWPROF_OPTS_GET(opts, raw_stack_size, 0);
	attr.max_kernel_depth = SWPROF_OPTS_GET(opts, max_kernel_depth, 0);
	attr.max_user_depth = SWPROF_OPTS_GET(opts, max_user_depth, 0);
	fd = ioctl(sw->fd, SWPROF_IOC_TRACE_SESSION, &attr);
	if (fd < 0)
		return -errno;
	return swprof_group_new(fd, out);
}

int swprof_trace_task_add(struct swprof_group *session, const struct swprof_trace_task_opts *opts,
			  __u32 *id)
{
	struct swprof_trace_task task;
	const char *endpoint;
	size_t len;
	int err;

	if (id)
		*id = 0;
	if (!opts)
		return -EINVAL;
	err = SWPROF_OPTS_CHECK(opts, swprof_trace_task_opts);
	if (err)
		return err;
	endpoint = SWPROF_OPTS_GET(opts, endpoint, NULL);
	len = endpoint ? strnlen(endpoint, SWPROF_ENDPOINT_MAX) : 0;
	if (!len || len >= SWPROF_ENDPOINT_MAX)
		return -EINVAL;

	memset(&task, 0, sizeof(task));
	task.size = sizeof(task);
	memcpy(task.endpoint, endpoint, len + 1);
	task.start_ns = SWPROF_OPTS_GET(opts, start_ns, 0);
	task.end_ns = SWPROF_OPTS_GET(opts, end_ns, 0);
	task.min_duration_ns = SWPROF_OPTS_GET(opts, min_duration_ns, 0);
	task.dump_period_ns = SWPROF_OPTS_GET(opts, dump_period_ns, 0);
	task.max_sampling_count = SWPROF_OPTS_GET(opts, max_sampling_count, 0);
	task.max_parallel = SWPROF_OPTS_GET(opts, max_parallel, 0);
	if (!task.max_parallel)
		task.max_parallel = SWPROF_TRACE_DEFAULT_MAX_PARALLEL;
	task.max_samples = SWPROF_OPTS_GET(opts, max_samples, 0);
	if (ioctl(session->fd, SWPROF_IOC_TRACE_TASK_ADD, &task) < 0)
		return -errno;
	if (id)
		*id = task.id;
	return 0;
}

int swprof_trace_task_end(struct swprof_group *session, __u32 id)
{
	struct swprof_trace_task_ref ref = { .size = sizeof(ref), .id = id };

	return ioctl(session->fd, SWPROF_IOC_TRACE_TASK_END, &ref) < 0 ? -errno : 0;
}

int swprof_trace_task_stats(struct swprof_group *session, __u32 id,
			    struct swprof_trace_task_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->id = id;
	return ioctl(session->fd, SWPROF_IOC_TRACE_TASK_STATS, st) < 0 ? -errno : 0;
}
