// SPDX-License-Identifier: GPL-2.0-only
/*
 * leaf_chain SECONDS: main -> lc_top -> lc_mid -> lc_leaf, spinning in
 * lc_leaf for SECONDS.  Built with -O2 -fno-omit-frame-pointer and nothing
 * else (selftests/Makefile), so GCC's default -momit-leaf-frame-pointer
 * leaves lc_leaf without a frame: while the IP is in lc_leaf, %rbp is still
 * lc_mid's frame and a frame-pointer walk reads lc_mid's return address
 * (into lc_top) as the leaf's caller: lc_mid is lost.  Only .eh_frame (or
 * tables made from it) gives main;lc_top;lc_mid;lc_leaf.
 * selftests/stacks-in-guest checks the share of complete stacks.
 */
#include <stdlib.h>
#include <unistd.h>
#include <time.h>

/* noipa: no inlining, cloning (lc_leaf.constprop.0) or IPA-RA */
#define FN __attribute__((noipa, used))

static volatile unsigned long sink;

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* a true leaf: no call, so no frame at -O2 (the check below keeps it one) */
FN void lc_leaf(unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		sink += i;
}

FN void lc_mid(unsigned long n)
{
	lc_leaf(n);
	__asm__ volatile("" ::: "memory");	/* not a tail call */
}

FN void lc_top(long end)
{
	do {
		lc_mid(2000000);
		__asm__ volatile("" ::: "memory");
	} while (now_ns() < end);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1;

	/*
	 * Measure a running process, not its first milliseconds: until the
	 * tables of what the loader mapped reach the module, a process that
	 * swctl record -- CMD started is walked by frame pointers (the start-up
	 * window, docs/testing.md).  Sleeping takes no CPU samples.
	 */
	usleep(300000);
	lc_top(now_ns() + (long)(seconds * 1e9));
	return 0;
}
