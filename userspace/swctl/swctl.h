/* SPDX-License-Identifier: GPL-2.0-only */
/* swctl: commands and shared helpers of the controller. */
#ifndef SWCTL_H
#define SWCTL_H

/* Each command: argv[0] is the command name; returns the process exit status. */
int cmd_record(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_symbolize(int argc, char **argv);

/* Print "swctl: <msg>" to stderr; one actionable line. */
void swctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
