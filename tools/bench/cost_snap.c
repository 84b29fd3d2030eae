// SPDX-License-Identifier: GPL-2.0-only
/*
 * cost_snap: the module's per-sample cost since the last reset, for
 * benchmarks that profile with swctl itself (tools/bench/unwind-in-guest).
 *
 *   cost_snap reset    zero the module's cost histogram (CAP_PERFMON)
 *   cost_snap print    one line: cost_count=N cost_mean_ns=M cost_p50_ns=P cost_p99_ns=Q
 */
#include <stdio.h>
#include <string.h>

#include "swprof.h"

int main(int argc, char **argv)
{
	struct swprof_global_stats gs = { .size = sizeof(gs) };
	struct swprof *sw;
	int err;

	if (argc != 2 || (strcmp(argv[1], "reset") && strcmp(argv[1], "print"))) {
		fprintf(stderr, "usage: cost_snap reset|print\n");
		return 2;
	}
	err = swprof_open(NULL, &sw);
	if (err) {
		fprintf(stderr, "cost_snap: %s\n", swprof_strerror(err));
		return 1;
	}
	if (!strcmp(argv[1], "reset"))
		err = swprof_reset_stats(sw);
	else if (!(err = swprof_global_stats(sw, &gs)))
		printf("cost_count=%llu cost_mean_ns=%llu cost_p50_ns=%llu cost_p99_ns=%llu\n",
		       (unsigned long long)gs.cost_count,
		       (unsigned long long)(gs.cost_count ? gs.cost_total_ns / gs.cost_count : 0),
		       (unsigned long long)swprof_cost_percentile(&gs, 50),
		       (unsigned long long)swprof_cost_percentile(&gs, 99));
	swprof_close(sw);
	if (err)
		fprintf(stderr, "cost_snap %s: %s\n", argv[1], swprof_strerror(err));
	return !!err;
}
