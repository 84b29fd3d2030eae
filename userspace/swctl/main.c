// SPDX-License-Identifier: GPL-2.0-only
/* swctl: the swprof controller.  Dispatches to one command per file. */
#include <stdio.h>
#include <string.h>

#include "sw_log.h"
#include "swctl.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "agent", cmd_agent, "run as a SkyWalking agent: profiling tasks from OAP (Rover-compatible)" },
	{ "record", cmd_record, "profile threads, a process or a command into pprof/folded/SVG" },
	{ "report", cmd_report, "profile of record --save-raw records, or of folded stacks" },
	{ "status", cmd_status, "show the module version, targets and counters" },
	{ "symbolize", cmd_symbolize, "resolve addresses of a process or an ELF file" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: swctl <command> [options]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'swctl <command> --help' for a command's options; man swctl-<command>.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("swctl %s\n", SWPROF_VERSION_STR);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	sw_err("unknown command '%s'; run 'swctl --help' for the list", argv[1]);
	return 2;
}
