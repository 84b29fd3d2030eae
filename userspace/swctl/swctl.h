/* SPDX-License-Identifier: GPL-2.0-only */
/* swctl: the commands of the controller; messages go through sw_log.h. */
#ifndef SWCTL_H
#define SWCTL_H

/* Each command: argv[0] is the command name; returns the process exit status. */
int cmd_record(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_symbolize(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_agent(int argc, char **argv);

#endif
