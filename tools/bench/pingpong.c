// SPDX-License-Identifier: GPL-2.0-only
/*
 * pingpong: the scheduling benchmark's victim.  Two threads pass one byte
 * back and forth over two pipes for a fixed number of round trips: every
 * trip blocks each thread once in pipe_read, so the run is nothing but
 * voluntary context switches and the system calls around them.  Built with
 * frame pointers; each side blocks through a three-deep chain
 * (ping_loop/pong_loop -> trip -> xfer) so every profiler's user stacks
 * have something to walk.
 *
 *   pingpong [--trips N] [--wait]
 *
 * --trips N: round trips (default 20000).
 * --wait:    create the threads, print their TIDs on one line, then wait for
 *            SIGUSR1 or a byte on stdin (when stdin is a pipe or a socket;
 *            its EOF before the byte aborts) before starting them, as
 *            cpu_workload does.  A profiler registers the TIDs in between.
 *
 * Output (stdout): elapsed_ns=<from the start barrier to the end of the
 * last trip> cpu_ns=<both threads' CPU time> csw=<their context switches
 * during the exchange> vcsw=<voluntary ones> threads=2 trips=N
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#define DEFAULT_TRIPS	20000

struct side {
	pthread_t th;
	bool ping;		/* ping writes first */
	int rfd, wfd;
	pid_t tid;
	uint64_t trips;
	uint64_t end_ns;
	uint64_t cpu_ns;
	uint64_t csw, vcsw;
	int err;
};

static pthread_barrier_t ready, go;

/* noinline, and a use of each result after the call: real frames, no sibling calls */
static __attribute__((noinline)) int xfer(int fd, bool out)
{
	char c = 'x';
	ssize_t n;

	do
		n = out ? write(fd, &c, 1) : read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

static __attribute__((noinline)) int trip(struct side *s)
{
	int err;

	if (s->ping) {
		err = xfer(s->wfd, true);
		if (!err)
			err = xfer(s->rfd, false);
	} else {
		err = xfer(s->rfd, false);
		if (!err)
			err = xfer(s->wfd, true);
	}
	return err ? -1 : 0;
}

static __attribute__((noinline)) int ping_loop(struct side *s)
{
	uint64_t i;

	for (i = 0; i < s->trips; i++)
		if (trip(s))
			return -1;
	return 0;
}

static __attribute__((noinline)) int pong_loop(struct side *s)
{
	uint64_t i;

	for (i = 0; i < s->trips; i++)
		if (trip(s))
			return -1;
	return 0;
}

static void *side_main(void *arg)
{
	struct side *s = arg;
	struct rusage ru0, ru1;

	s->tid = gettid();
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	getrusage(RUSAGE_THREAD, &ru0);
	s->err = s->ping ? ping_loop(s) : pong_loop(s);
	s->end_ns = ts_ns(CLOCK_MONOTONIC);
	s->cpu_ns = ts_ns(CLOCK_THREAD_CPUTIME_ID);
	getrusage(RUSAGE_THREAD, &ru1);
	s->vcsw = ru1.ru_nvcsw - ru0.ru_nvcsw;
	s->csw = s->vcsw + (ru1.ru_nivcsw - ru0.ru_nivcsw);
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pingpong [--trips N] [--wait]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trips", required_argument, NULL, 'n' },
		{ "wait", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	unsigned long trips = DEFAULT_TRIPS;
	uint64_t t0, end = 0, cpu = 0, csw = 0, vcsw = 0;
	struct side s[2] = {};
	int ab[2], ba[2], c, i, err;
	bool wait_start = false;
	sigset_t set;

	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			trips = strtoul(optarg, NULL, 0);
			break;
		case 'W':
			wait_start = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !trips) {
		usage(stderr);
		return 2;
	}
	if (pipe(ab) || pipe(ba)) {
		perror("pingpong: pipe");
		return 1;
	}

	/* Blocked before the threads exist, so they inherit the mask and it reaches the signalfd. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	s[0] = (struct side){ .ping = true, .wfd = ab[1], .rfd = ba[0], .trips = trips };
	s[1] = (struct side){ .ping = false, .rfd = ab[0], .wfd = ba[1], .trips = trips };
	pthread_barrier_init(&ready, NULL, 3);
	pthread_barrier_init(&go, NULL, 3);
	for (i = 0; i < 2; i++) {
		err = pthread_create(&s[i].th, NULL, side_main, &s[i]);
		if (err) {
			fprintf(stderr, "pingpong: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	pthread_barrier_wait(&ready);
	if (wait_start) {
		printf("%d %d\n", (int)s[0].tid, (int)s[1].tid);
		fflush(stdout);
		if (wait_for_release("pingpong"))
			return 1;
	}
	t0 = ts_ns(CLOCK_MONOTONIC);
	pthread_barrier_wait(&go);
	for (i = 0; i < 2; i++) {
		pthread_join(s[i].th, NULL);
		if (s[i].err) {
			fprintf(stderr, "pingpong: a pipe transfer failed\n");
			return 1;
		}
		if (s[i].end_ns > end)
			end = s[i].end_ns;
		cpu += s[i].cpu_ns;
		csw += s[i].csw;
		vcsw += s[i].vcsw;
	}
	printf("elapsed_ns=%llu cpu_ns=%llu csw=%llu vcsw=%llu threads=2 trips=%lu\n",
	       (unsigned long long)(end - t0), (unsigned long long)cpu,
	       (unsigned long long)csw, (unsigned long long)vcsw, trips);
	return 0;
}
