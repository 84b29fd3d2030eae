/* SPDX-License-Identifier: GPL-2.0-only */
/* /dev/swprof (device.c). */
#ifndef SWPROF_DEVICE_H
#define SWPROF_DEVICE_H

int swprof_device_init(void);
void swprof_device_exit(void);

#endif
