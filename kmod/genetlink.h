/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Events for the controller (genetlink.c), multicast on the generic
 * netlink family "swprof" (group "events").  swprof_event() may be called
 * from any context, hardirq and scheduler hooks included: it only queues;
 * a work item builds and sends the messages.
 */
#ifndef SWPROF_GENETLINK_H
#define SWPROF_GENETLINK_H

#include <linux/types.h>
#include <linux/swprof.h>

struct swprof_event_info {
	u32 pid, tid;		/* init pid namespace; 0 = absent */
	u64 lost;		/* SAMPLES_LOST */
	u64 unread, ring_size;	/* RING_WATERMARK */
	u32 task;		/* trace task id; 0 = absent */
	u32 admitted;		/* TRACE_TASK_ENDED */
	const char *segment_id;	/* copied; NULL = absent */
	const char *endpoint;	/* copied; NULL = absent */
};

int swprof_events_init(void);
void swprof_events_exit(void);
void swprof_event(enum swprof_genl_cmd cmd, const struct swprof_event_info *info);

#endif
