// SPDX-License-Identifier: GPL-2.0-only
/*
 * cpu_workload: the benchmark's victim.  N threads each do a fixed amount
 * of integer work through a three-deep call chain (level1 -> level2 ->
 * level3, each doing part of the work itself so that samples land in all
 * three), built with frame pointers so every profiler can walk it.
 *
 *   cpu_workload [--threads N] [--work M] [--wait]
 *
 * --work M: M million mixing steps per thread.
 * --wait:   create the threads, print their TIDs on one line, then wait for
 *           SIGUSR1 or a byte on stdin (when stdin is a pipe or a socket;
 *           its EOF before the byte aborts) before starting them.  A
 *           profiler registers the TIDs in between.
 *
 * Output (stdout): elapsed_ns=<from the start barrier to the last thread's
 * end> cpu_ns=<threads' CPU time summed> csw=<their context switches
 * during the compute phase> threads=N work=M
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

/* Million steps per thread by default: about 1 s natively, several under TCG. */
#define DEFAULT_WORK	400
#define STEPS_PER_CALL	100000	/* split 10% / 30% / 60% over the three levels */

struct worker {
	pthread_t th;
	unsigned int idx;
	pid_t tid;
	uint64_t calls;
	uint64_t end_ns;
	uint64_t cpu_ns;
	uint64_t csw;		/* context switches of the compute phase */
	uint64_t sink;
};

static pthread_barrier_t ready, go;

/* xorshift64* steps: cheap, data-dependent, not vectorizable away. */
static inline uint64_t mix(uint64_t x, unsigned int n)
{
	while (n--) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		x *= 0x2545f4914f6cdd1dull;
	}
	return x;
}

static volatile uint64_t progress;

static __attribute__((noinline)) uint64_t publish(uint64_t x)
{
	progress = x;
	return x;
}

/*
 * noinline and a use of each callee's result after the call keep the
 * three frames real (no inlining, no sibling call).  level3 calls
 * publish() so that it is no leaf: gcc gives a leaf that needs no stack
 * no frame even with -fno-omit-frame-pointer, and a frame-pointer walk
 * from inside it would then skip level2.
 */
static __attribute__((noinline)) uint64_t level3(uint64_t x)
{
	x = mix(x, STEPS_PER_CALL * 6 / 10);
	return publish(x) + 7;
}

static __attribute__((noinline)) uint64_t level2(uint64_t x)
{
	x = mix(x, STEPS_PER_CALL * 3 / 10);
	return level3(x) + 1;
}

static __attribute__((noinline)) uint64_t level1(uint64_t x)
{
	x = mix(x, STEPS_PER_CALL / 10);
	return level2(x) ^ 3;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t x = 0x9e3779b97f4a7c15ull ^ w->idx, i;
	struct rusage ru0, ru1;

	w->tid = gettid();
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	getrusage(RUSAGE_THREAD, &ru0);
	for (i = 0; i < w->calls; i++)
		x = level1(x);
	w->end_ns = ts_ns(CLOCK_MONOTONIC);
	w->cpu_ns = ts_ns(CLOCK_THREAD_CPUTIME_ID);
	getrusage(RUSAGE_THREAD, &ru1);
	w->csw = (ru1.ru_nvcsw + ru1.ru_nivcsw) - (ru0.ru_nvcsw + ru0.ru_nivcsw);
	w->sink = x;
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: cpu_workload [--threads N] [--work MILLION_STEPS] [--wait]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "work", required_argument, NULL, 'w' },
		{ "wait", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	unsigned long nthreads = 4, work = DEFAULT_WORK, i;
	uint64_t t0, end = 0, cpu = 0, csw = 0, sink = 0;
	struct worker *w;
	bool wait_start = false;
	sigset_t set;
	int c, err;

	while ((c = getopt_long(argc, argv, "t:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			nthreads = strtoul(optarg, NULL, 0);
			break;
		case 'w':
			work = strtoul(optarg, NULL, 0);
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
	if (optind != argc || !nthreads || nthreads > 1024 || !work) {
		usage(stderr);
		return 2;
	}

	/* Blocked before the threads exist, so they inherit the mask and it reaches the signalfd. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	w = calloc(nthreads, sizeof(*w));
	if (!w)
		return 1;
	pthread_barrier_init(&ready, NULL, nthreads + 1);
	pthread_barrier_init(&go, NULL, nthreads + 1);
	for (i = 0; i < nthreads; i++) {
		w[i].calls = (uint64_t)work * 1000000 / STEPS_PER_CALL;
		w[i].idx = i;
		err = pthread_create(&w[i].th, NULL, worker_main, &w[i]);
		if (err) {
			fprintf(stderr, "cpu_workload: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	pthread_barrier_wait(&ready);
	if (wait_start) {
		for (i = 0; i < nthreads; i++)
			printf("%s%d", i ? " " : "", (int)w[i].tid);
		printf("\n");
		fflush(stdout);
		if (wait_for_release("cpu_workload"))
			return 1;
	}
	t0 = ts_ns(CLOCK_MONOTONIC);
	pthread_barrier_wait(&go);
	for (i = 0; i < nthreads; i++) {
		pthread_join(w[i].th, NULL);
		if (w[i].end_ns > end)
			end = w[i].end_ns;
		cpu += w[i].cpu_ns;
		csw += w[i].csw;
		sink ^= w[i].sink;
	}
	printf("elapsed_ns=%llu cpu_ns=%llu csw=%llu threads=%lu work=%lu sink=%llx\n",
	       (unsigned long long)(end - t0), (unsigned long long)cpu,
	       (unsigned long long)csw, nthreads, work,
	       (unsigned long long)(sink & 0xffff));
	return 0;
}
