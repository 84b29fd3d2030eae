/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A child process that runs /bin/sleep 30, for the tests of what reads a
 * process's maps (the unwind-table mapper, the pipeline's pushes).
 */
#ifndef SWPROF_FAKE_CHILD_H
#define SWPROF_FAKE_CHILD_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static inline pid_t spawn_sleep(void)
{
	pid_t pid = fork();
	char *argv[] = { "sleep", "30", NULL };

	if (!pid) {
		execv("/bin/sleep", argv);
		_exit(127);
	}
	return pid;
}

/* Wait until @pid runs /bin/sleep with libc mapped (its maps show both). */
static inline bool wait_exec(pid_t pid)
{
	char path[64], buf[8192];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	for (i = 0; i < 500; i++) {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

		if (f)
			fclose(f);
		buf[n] = 0;
		if (strstr(buf, "/sleep") && strstr(buf, "libc.so"))
			return true;
		usleep(10000);
	}
	return false;
}

#endif
