// SPDX-License-Identifier: GPL-2.0-only
/*
 * The unwind benchmark's workload (tools/bench/unwind-in-guest), built with
 * -O2 -fno-omit-frame-pointer only, as users are told to build: GCC still
 * omits the frame of leaf functions.
 *
 *   unwind_workload leaf SECONDS    main -> uw_top -> uw_mid -> uw_leaf (frameless leaf)
 *   unwind_workload qsort SECONDS   main -> uw_sort -> qsort (libc) -> ... -> uw_compare
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOINLINE __attribute__((noinline, noclone))

static volatile uint64_t sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

NOINLINE static uint64_t uw_leaf(uint64_t x)
{
	for (int i = 0; i < 100000; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	return x;
}

NOINLINE static uint64_t uw_mid(uint64_t x)
{
	x = uw_leaf(x);
	__asm__ volatile("" ::: "memory");
	return x;
}

NOINLINE static uint64_t uw_top(uint64_t x)
{
	x = uw_mid(x);
	__asm__ volatile("" ::: "memory");
	return x;
}

NOINLINE static int uw_compare(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	for (int i = 0; i < 300; i++)
		sink += x ^ y ^ i;
	return x < y ? -1 : x > y;
}

NOINLINE static void uw_sort(uint32_t *v, size_t n)
{
	uint32_t s = 1;

	for (size_t i = 0; i < n; i++)
		v[i] = s = s * 1103515245u + 12345u;
	qsort(v, n, sizeof(*v), uw_compare);
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	double end;
	uint32_t *v;

	if (argc != 3 || (strcmp(argv[1], "leaf") && strcmp(argv[1], "qsort"))) {
		fprintf(stderr, "usage: unwind_workload leaf|qsort SECONDS\n");
		return 2;
	}
	end = now() + atof(argv[2]);
	v = malloc(4096 * sizeof(*v));
	while (now() < end) {
		if (argv[1][0] == 'l')
			sink += uw_top(sink);
		else
			uw_sort(v, 4096);
	}
	free(v);
	return 0;
}
