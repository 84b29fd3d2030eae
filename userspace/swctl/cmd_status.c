// SPDX-License-Identifier: GPL-2.0-only
/* Placeholder until the command lands; owned by its implementer. */
#include "swctl.h"

int cmd_status(int argc, char **argv)
{
	swctl_err("status: not built yet");
	return 2;
}
