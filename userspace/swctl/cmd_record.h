/* SPDX-License-Identifier: GPL-2.0-only */
/* swctl record's command line (cmd_record.c), for tests. */
#ifndef SWCTL_CMD_RECORD_H
#define SWCTL_CMD_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "record.h"

#define REC_CLI_MAX_OUTPUTS	8
#define REC_CLI_MAX_TIDS	256
#define REC_CLI_MAX_PIDS	64

struct rec_cli {
	pid_t pid;			/* the first -p */
	pid_t pids[REC_CLI_MAX_PIDS];	/* every -p */
	int npid;
	int per_process;		/* %p in an output: one recording per -p */
	pid_t tids[REC_CLI_MAX_TIDS];	/* -t */
	int ntid;
	char **cmd;			/* -- CMD ARGS, NULL-terminated; NULL if none */
	const char *outputs[REC_CLI_MAX_OUTPUTS];
	int nout;
	const char *title;
	int kernel;			/* -1: when allowed */
	int state_frames;		/* -1: on for wall, off for the others */
	int value;			/* enum prof_value of the exports */
	int top, quiet, by_thread;
	uint64_t duration_ns;		/* 0: until Ctrl-C or the targets' exit */
	double hz;
	struct rec_opts ro;		/* mode, period, min_block_ns, ring... */
	bool lines;			/* --lines: file:line and inline frames */
	bool fp_only;			/* --fp: frame pointers only, no unwind tables */
	const char *save_raw;		/* --save-raw FILE */
	const char *cmd_name;		/* "record", "report": for messages */
};

/*
 * Parse swctl record's arguments (argv[0] is "record").  Returns -1 to go
 * on, else the exit status: 0 after --help (printed to help), 2 after a
 * usage error (one line through sw_err()).
 */
int rec_cli_parse(int argc, char **argv, struct rec_cli *cli, FILE *help);

/* Export @p to every -o of @a; 0, or 1 after a line saying what failed. */
int rec_write_outputs(struct prof *p, const struct rec_cli *a);
/* The same, %p in an output's name replaced by @pid. */
int rec_write_outputs_of(struct prof *p, const struct rec_cli *a, pid_t pid);
/* The top-N functions by self value, on stdout. */
void rec_print_top(struct prof *p, int top);

#endif
