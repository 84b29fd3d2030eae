// SPDX-License-Identifier: GPL-2.0-only
/*
 * qsort_chain SECONDS: main -> sort_outer -> qsort (libc, no frame
 * pointers) -> compare_slow, for SECONDS.  Only a DWARF unwind of the raw
 * stack copy finds sort_outer and main above libc.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static volatile uint64_t sink;

NOINLINE static int compare_slow(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int i;

	for (i = 0; i < 200; i++)
		sink += x ^ y ^ i;
	return x < y ? -1 : x > y;
}

NOINLINE static void sort_outer(uint32_t *v, size_t n)
{
	size_t i;
	uint32_t s = 1;

	for (i = 0; i < n; i++)
		v[i] = s = s * 1103515245 + 12345;
	qsort(v, n, sizeof(*v), compare_slow);
	__asm__ volatile("" ::: "memory");	/* not a tail call */
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1;
	static uint32_t v[20000];
	struct timespec t0, t;

	usleep(300000);		/* a running process, as leaf_chain.c says */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		sort_outer(v, sizeof(v) / sizeof(v[0]));
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	return 0;
}
