// SPDX-License-Identifier: GPL-2.0-only
/* Probe: genl multicast groups restricted to CAP_NET_ADMIN (6.7; 6.1.y, 6.6.y). */
#include <linux/module.h>
#include <net/genetlink.h>

static const struct genl_multicast_group grp = {
	.name = "probe",
	.flags = GENL_MCAST_CAP_NET_ADMIN,
};

const struct genl_multicast_group *probe_grp(void);
const struct genl_multicast_group *probe_grp(void)
{
	return &grp;
}
MODULE_LICENSE("GPL");
