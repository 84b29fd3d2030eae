// SPDX-License-Identifier: GPL-2.0-only
/* libswprof cost histogram: bucket bounds, bucket lookup, percentiles. */
#include <math.h>
#include <stdint.h>

/* The 6.1 harness defines global functions and compares with the literal's type. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "swprof_internal.h"

TEST(bucket_bounds_follow_the_documented_definition)
{
	static const __u64 lower[] = {
		0, 8, 16, 24, 32, 40, 48, 56,		/* linear, 8 ns wide */
		64, 80, 96, 112,			/* 64 * (1, 1.25, 1.5, 1.75) */
		128, 160, 192, 224,
		256, 320, 384, 448,
	};
	unsigned int i;

	for (i = 0; i < sizeof(lower) / sizeof(lower[0]); i++)
		EXPECT_EQ(lower[i], swprof_cost_bucket_ns(i));
	/* bucket 8 + 4k + j = 64 * 2^k * (1 + j/4): k = 20, j = 3 */
	EXPECT_EQ(64ULL * (1 << 20) * 7 / 4, swprof_cost_bucket_ns(8 + 4 * 20 + 3));
	EXPECT_GT(swprof_cost_bucket_ns(SWPROF_COST_BUCKETS),
		  swprof_cost_bucket_ns(SWPROF_COST_BUCKETS - 1));
	EXPECT_EQ(UINT64_MAX, swprof_cost_bucket_ns(SWPROF_COST_BUCKETS + 1));
}

TEST(bounds_grow_strictly)
{
	unsigned int i;

	for (i = 0; i < SWPROF_COST_BUCKETS; i++)
		ASSERT_LT(swprof_cost_bucket_ns(i), swprof_cost_bucket_ns(i + 1));
}

/* The definition, read literally: the last bucket whose lower bound is <= ns. */
static unsigned int bucket_by_search(__u64 ns)
{
	unsigned int i = 0;

	while (i + 1 < SWPROF_COST_BUCKETS && swprof_cost_bucket_ns(i + 1) <= ns)
		i++;
	return i;
}

TEST(bucket_lookup_matches_the_bounds)
{
	unsigned int i;
	__u64 ns, lo;

	for (i = 0; i < SWPROF_COST_BUCKETS; i++) {
		lo = swprof_cost_bucket_ns(i);
		ASSERT_EQ(i, swprof_cost_bucket(lo));
		ASSERT_EQ(i, swprof_cost_bucket(swprof_cost_bucket_ns(i + 1) - 1));
	}
	for (ns = 0; ns < 100000; ns += 7)
		ASSERT_EQ(bucket_by_search(ns), swprof_cost_bucket(ns));
	for (ns = 1; ns < (1ULL << 62); ns = ns * 3 + 1)
		ASSERT_EQ(bucket_by_search(ns), swprof_cost_bucket(ns));
	EXPECT_EQ(SWPROF_COST_BUCKETS - 1, swprof_cost_bucket(UINT64_MAX));
}

FIXTURE(hist) {
	struct swprof_global_stats st;
};

/* 50 samples in [8,16), 40 in [64,80), 10 in [512,640). */
FIXTURE_SETUP(hist)
{
	memset(&self->st, 0, sizeof(self->st));
	self->st.cost_hist[1] = 50;
	self->st.cost_hist[8] = 40;
	self->st.cost_hist[20] = 10;
}

FIXTURE_TEARDOWN(hist)
{
}

TEST_F(hist, percentiles_are_bucket_midpoints)
{
	EXPECT_EQ(12, swprof_cost_percentile(&self->st, 0));	/* the minimum */
	EXPECT_EQ(12, swprof_cost_percentile(&self->st, 50));	/* 50th sample */
	EXPECT_EQ(72, swprof_cost_percentile(&self->st, 50.5));	/* 51st */
	EXPECT_EQ(72, swprof_cost_percentile(&self->st, 90));
	EXPECT_EQ(576, swprof_cost_percentile(&self->st, 90.01));
	EXPECT_EQ(576, swprof_cost_percentile(&self->st, 99));
	EXPECT_EQ(576, swprof_cost_percentile(&self->st, 100));	/* the maximum */
}

TEST_F(hist, out_of_range_percentile_is_zero)
{
	EXPECT_EQ(0, swprof_cost_percentile(&self->st, -1));
	EXPECT_EQ(0, swprof_cost_percentile(&self->st, 100.5));
	EXPECT_EQ(0, swprof_cost_percentile(&self->st, NAN));
}

TEST_F(hist, empty_histogram_is_zero)
{
	memset(self->st.cost_hist, 0, sizeof(self->st.cost_hist));
	EXPECT_EQ(0, swprof_cost_percentile(&self->st, 50));
}

TEST_F(hist, last_bucket_has_a_midpoint)
{
	__u64 lo = swprof_cost_bucket_ns(SWPROF_COST_BUCKETS - 1);
	__u64 hi = swprof_cost_bucket_ns(SWPROF_COST_BUCKETS);

	memset(self->st.cost_hist, 0, sizeof(self->st.cost_hist));
	self->st.cost_hist[SWPROF_COST_BUCKETS - 1] = 1;
	EXPECT_EQ(lo + (hi - lo) / 2, swprof_cost_percentile(&self->st, 50));
}

TEST_HARNESS_MAIN
