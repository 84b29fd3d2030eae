// SPDX-License-Identifier: GPL-2.0-only
/* Placeholder until the command lands; owned by its implementer. */
#include "swctl.h"

int cmd_symbolize(int argc, char **argv)
{
	swctl_err("symbolize: not built yet");
	return 2;
}
