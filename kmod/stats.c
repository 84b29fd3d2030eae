// SPDX-License-Identifier: GPL-2.0-only
/*
 * Module-wide counters and the per-sample cost histogram, per CPU so the
 * sampling path never shares a cache line with another CPU.
 */
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/percpu.h>
#include <linux/string.h>

#include "params.h"
#include "stats.h"

static atomic64_t mem_used = ATOMIC64_INIT(0);

int swprof_mem_charge(u64 bytes)
{
	if (atomic64_add_return(bytes, &mem_used) > (u64)swprof_mem_limit_mb << 20) {
		atomic64_sub(bytes, &mem_used);
		return -ENOSPC;
	}
	return 0;
}

void swprof_mem_uncharge(u64 bytes)
{
	atomic64_sub(bytes, &mem_used);
}

u64 swprof_mem_used(void)
{
	return atomic64_read(&mem_used);
}

struct swprof_cpu_stats {
	u64 samples;
	u64 lost;
	u64 misses;
	u64 cost_count;
	u64 cost_total_ns;
	u64 cost_hist[SWPROF_COST_BUCKETS];
};

static DEFINE_PER_CPU(struct swprof_cpu_stats, swprof_cpu_stats);

/*
 * Buckets 0..7: [8i, 8i+8) ns.  Then four log-linear sub-buckets per power
 * of two from 64 ns: bucket 8+4k+j covers [64*2^k*(1+j/4), 64*2^k*(1+(j+1)/4)).
 * The same definition is in libswprof (swprof_cost_bucket_ns()).
 */
unsigned int swprof_cost_bucket(u64 ns)
{
	unsigned int msb, b;

	if (ns < 64)
		return ns >> 3;
	msb = fls64(ns) - 1;
	b = 8 + 4 * (msb - 6) + ((ns >> (msb - 2)) & 3);
	return min_t(unsigned int, b, SWPROF_COST_BUCKETS - 1);
}

/* @written: a record went into a ring; @cost_ns: U64_MAX when not timed. */
void swprof_stats_sample(bool written, u64 cost_ns)
{
	struct swprof_cpu_stats *s = this_cpu_ptr(&swprof_cpu_stats);

	if (written)
		s->samples++;
	if (cost_ns == U64_MAX)
		return;
	s->cost_count++;
	s->cost_total_ns += cost_ns;
	s->cost_hist[swprof_cost_bucket(cost_ns)]++;
}

void swprof_stats_lost(void)
{
	this_cpu_inc(swprof_cpu_stats.lost);
}

void swprof_stats_miss(void)
{
	this_cpu_inc(swprof_cpu_stats.misses);
}

void swprof_stats_fill(struct swprof_global_stats *gs)
{
	unsigned int cpu, i;

	for_each_possible_cpu(cpu) {
		struct swprof_cpu_stats *s = per_cpu_ptr(&swprof_cpu_stats, cpu);

		gs->samples += READ_ONCE(s->samples);
		gs->lost += READ_ONCE(s->lost);
		gs->timer_misses += READ_ONCE(s->misses);
		gs->cost_count += READ_ONCE(s->cost_count);
		gs->cost_total_ns += READ_ONCE(s->cost_total_ns);
		for (i = 0; i < SWPROF_COST_BUCKETS; i++)
			gs->cost_hist[i] += READ_ONCE(s->cost_hist[i]);
	}
}

/* Racy against concurrent samples by design: a reset between benchmark runs. */
void swprof_stats_reset(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(&swprof_cpu_stats, cpu), 0, sizeof(struct swprof_cpu_stats));
}
