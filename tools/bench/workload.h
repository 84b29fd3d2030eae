/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the benchmark workloads (cpu_workload, pingpong) share: their clock,
 * and the --wait protocol by which a profiler attaches before the timed
 * phase starts.
 */
#ifndef SWPROF_BENCH_WORKLOAD_H
#define SWPROF_BENCH_WORKLOAD_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t ts_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* SIGUSR1 (blocked, read through a signalfd) or one byte on a pipe stdin. */
static int wait_for_release(const char *prog)
{
	struct pollfd pfd[2];
	struct stat st;
	sigset_t set;
	int nfds = 1;
	char c;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pfd[0].fd = signalfd(-1, &set, SFD_CLOEXEC);
	pfd[0].events = POLLIN;
	if (pfd[0].fd < 0) {
		fprintf(stderr, "%s: signalfd: %s\n", prog, strerror(errno));
		return -1;
	}
	if (fstat(STDIN_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		pfd[1].fd = STDIN_FILENO;
		pfd[1].events = POLLIN;
		nfds = 2;
	}
	for (;;) {
		if (poll(pfd, nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: poll: %s\n", prog, strerror(errno));
			return -1;
		}
		if (pfd[0].revents)
			return 0;
		if (nfds == 2 && pfd[1].revents) {
			ssize_t n = read(STDIN_FILENO, &c, 1);

			if (n == 1)
				return 0;
			if (n < 0 && errno == EINTR)
				continue;
			fprintf(stderr, "%s: stdin closed before the start byte\n", prog);
			return -1;
		}
	}
}

#endif
