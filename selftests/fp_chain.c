// SPDX-License-Identifier: GPL-2.0-only
/*
 * fp_chain SECONDS [DELAY_MS]: after DELAY_MS, start a thread that spins
 * for SECONDS in chain_top -> chain_mid -> chain_leaf (frame pointers on).
 * Used by the swctl tests: the known chain must come out of swctl record.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

static double seconds = 1;

static void *run(void *arg)
{
	uint64_t end = mono_ns() + seconds * 1e9;

	atomic_store(&chain_stop, 0);
	while (mono_ns() < end) {
		chain_top();
		break;
	}
	return NULL;
}

static void *stopper(void *arg)
{
	usleep(seconds * 1e6);
	atomic_store(&chain_stop, 1);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th, st;

	if (argc > 1)
		seconds = atof(argv[1]);
	if (argc > 2)
		usleep(atoi(argv[2]) * 1000);
	pthread_create(&th, NULL, run, NULL);
	pthread_create(&st, NULL, stopper, NULL);
	pthread_join(th, NULL);
	pthread_join(st, NULL);
	return 0;
}
