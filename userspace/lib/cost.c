// SPDX-License-Identifier: GPL-2.0-only
/* The per-sample cost histogram: bucket bounds and percentiles (see swprof.h). */
#include <stdint.h>

#include "swprof_internal.h"

__u64 swprof_cost_bucket_ns(unsigned int i)
{
	unsigned int k, j;

	if (i > SWPROF_COST_BUCKETS)
		return UINT64_MAX;
	if (i < 8)
		return 8ULL * i;
	k = (i - 8) / 4;
	j = (i - 8) % 4;
	return (16ULL << k) * (4 + j);	/* 64 * 2^k * (1 + j/4) */
}

unsigned int swprof_cost_bucket(__u64 ns)
{
	unsigned int k, j, i;

	if (ns < 64)
		return (unsigned int)(ns / 8);
	k = 63 - __builtin_clzll(ns) - 6;	/* ns in [64 << k, 128 << k) */
	j = (ns >> (k + 4)) & 3;		/* which quarter of that range */
	i = 8 + 4 * k + j;
	return i < SWPROF_COST_BUCKETS ? i : SWPROF_COST_BUCKETS - 1;
}

__u64 swprof_cost_percentile(const struct swprof_global_stats *st, double p)
{
	__u64 total = 0, rank, seen = 0;
	double x;
	unsigned int i;

	if (!(p >= 0 && p <= 100))	/* also refuses NaN */
		return 0;
	for (i = 0; i < SWPROF_COST_BUCKETS; i++)
		total += st->cost_hist[i];
	if (!total)
		return 0;
	/* The rank-th smallest sample, 1-based: p=0 is the minimum, p=100 the maximum. */
	x = p * total / 100;
	rank = (__u64)x;
	if ((double)rank < x || !rank)
		rank++;
	if (rank > total)
		rank = total;
	for (i = 0; i < SWPROF_COST_BUCKETS; i++) {
		seen += st->cost_hist[i];
		if (seen >= rank)
			break;
	}
	return (swprof_cost_bucket_ns(i) + swprof_cost_bucket_ns(i + 1)) / 2;
}
