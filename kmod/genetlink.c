// SPDX-License-Identifier: GPL-2.0-only
/* Placeholder: the genetlink implementation replaces this file. */
#include "events.h"

int swprof_events_init(void)
{
	return 0;
}

void swprof_events_exit(void)
{
}

void swprof_event(enum swprof_genl_cmd cmd, const struct swprof_event_info *info)
{
}
