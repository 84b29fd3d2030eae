// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent benchmark's workload (tools/bench/agent-in-guest): one process
 * of N threads that each spin for SPIN_US of their own CPU time, through one
 * of four call chains (so that a flame graph has a few distinct stacks), then
 * nap NAP_US, until killed.  The spin is measured in thread CPU time, so the
 * duty cycle is the same however slowly the VM runs.
 *
 *   agent_workload --id ID [--threads N] [--spin-us US] [--nap-us US]
 *
 * --id only names the process for the agent's finder (its command line).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))

static long spin_us = 1000, nap_us = 74000;
static volatile uint64_t sink;

static uint64_t thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

NOINLINE static uint64_t mix(uint64_t x, int n)
{
	while (n--)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	return x;
}

NOINLINE static uint64_t encode(uint64_t x) { return mix(x, 20000); }
NOINLINE static uint64_t hash_key(uint64_t x) { return mix(x ^ 0x9e37, 20000); }
NOINLINE static uint64_t lookup(uint64_t x) { return hash_key(x) + encode(x); }
NOINLINE static uint64_t serve(uint64_t x) { return lookup(x) ^ encode(x >> 1); }

/* spin until this thread has used spin_us of CPU time */
NOINLINE static void spin(unsigned int which)
{
	uint64_t end = thread_ns() + (uint64_t)spin_us * 1000;
	uint64_t x = which;

	while (thread_ns() < end) {
		switch (which++ & 3) {
		case 0: x += encode(x); break;
		case 1: x += hash_key(x); break;
		case 2: x += lookup(x); break;
		default: x += serve(x); break;
		}
	}
	sink += x;
}

static void *worker(void *arg)
{
	unsigned int i = (unsigned int)(uintptr_t)arg;
	struct timespec nap = { nap_us / 1000000, nap_us % 1000000 * 1000 };

	for (;;) {
		spin(i++);
		nanosleep(&nap, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 10, i;
	pthread_t t;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--threads"))
			threads = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--spin-us"))
			spin_us = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--nap-us"))
			nap_us = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--id"))
			break;
	}
	if (i < argc || threads < 1 || threads > 1000 || spin_us < 1 || nap_us < 0) {
		fprintf(stderr, "usage: agent_workload --id ID [--threads N] [--spin-us US] "
			"[--nap-us US]\n");
		return 2;
	}
	for (i = 1; i < threads; i++)
		if (pthread_create(&t, NULL, worker, (void *)(uintptr_t)i)) {
			perror("pthread_create");
			return 1;
		}
	worker((void *)0);
	return 0;
}
