// SPDX-License-Identifier: GPL-2.0-only
/* swctl status: the module's version, features, limits and counters. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agentd.h"
#include "sw_log.h"
#include "swctl.h"
#include "swprof.h"

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static void print_features(__u64 f)
{
	static const struct { __u64 bit; const char *name; } names[] = {
		{ SWPROF_FEAT_MODE_CPU, "cpu" },
		{ SWPROF_FEAT_MODE_OFFCPU, "offcpu" },
		{ SWPROF_FEAT_MODE_WALL, "wall" },
		{ SWPROF_FEAT_KSTACK, "kernel-stacks" },
		{ SWPROF_FEAT_USTACK_FP, "user-stacks" },
		{ SWPROF_FEAT_RAW_STACK, "raw-stack" },
		{ SWPROF_FEAT_COST_STATS, "cost-stats" },
		{ SWPROF_FEAT_PROCESS, "process" },
		{ SWPROF_FEAT_TRACE, "trace" },
		{ SWPROF_FEAT_EVENTS, "events" },
	};
	__u64 known = 0;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		known |= names[i].bit;
		if (f & names[i].bit)
			printf(" %s", names[i].name);
	}
	/* bits of a newer module: shown, so that nothing is hidden */
	if (f & ~known)
		printf(" (unknown 0x%llx)", (unsigned long long)(f & ~known));
	printf("\n");
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "agent", no_argument, NULL, 'a' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dev = NULL, *sock = "/run/swprof/agent.sock";
	bool agent = false;
	struct swprof_global_stats gs;
	const struct swprof_version *v;
	struct swprof *sw;
	char modver[64];
	int err, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hD:", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			agent = true;
			break;
		case 's':
			sock = optarg;
			agent = true;
			break;
		case 'D':
			dev = optarg;
			break;
		case 'h':
			printf("usage: swctl status [-D DEVICE]\n"
			       "       swctl status --agent [--socket PATH]\n"
			       "Show the loaded swprof.ko: version, API, features, this user's rights,\n"
			       "limits, registered targets, samples, lost samples and per-sample cost.\n"
			       "--agent: what the running swctl agent says of itself instead (OAP,\n"
			       "processes, tasks, samples taken, delivered, spooled and dropped), from\n"
			       "its status socket (agent.status_socket, default /run/swprof/agent.sock).\n");
			return 0;
		default:
			return 2;
		}
	}
	if (agent)
		return agentd_status(sock, stdout);
	SWPROF_OPTS(swprof_open_opts, oo, .path = dev);
	err = swprof_open(&oo, &sw);
	if (err) {
		sw_err("status: cannot open %s: %s", dev ? dev : SWPROF_DEVICE, swprof_strerror(err));
		return 1;
	}
	v = swprof_version(sw);
	read_line("/sys/module/swprof/version", modver, sizeof(modver));
	printf("module:        swprof %s, API %u.%u, ring format %u\n", modver[0] ? modver : "?",
	       v->major, v->minor, v->ring_version);
	printf("features:     ");
	print_features(v->features);
	printf("this user:     %s, %s\n",
	       v->caps & SWPROF_CAP_KSTACK ? "kernel stacks allowed" : "no kernel stacks (needs CAP_PERFMON)",
	       v->caps & SWPROF_CAP_PTRACE ? "may register any thread" : "may register own threads only");
	printf("limits:        %u targets, %llu MiB of rings, rings up to %llu KiB, period >= %llu ns, depth <= %u\n",
	       v->max_targets, (unsigned long long)(v->mem_limit >> 20),
	       (unsigned long long)(v->max_ring_size >> 10), (unsigned long long)v->min_period_ns,
	       v->max_depth);
	err = swprof_global_stats(sw, &gs);
	if (err) {
		sw_err("status: cannot read statistics: %s", swprof_strerror(err));
		swprof_close(sw);
		return 1;
	}
	printf("targets:       %u registered, %.1f MiB of rings in use\n", gs.nr_targets,
	       gs.mem_used / 1048576.0);
	printf("samples:       %llu written, %llu lost (rings full), %llu timer misses\n",
	       (unsigned long long)gs.samples, (unsigned long long)gs.lost,
	       (unsigned long long)gs.timer_misses);
	if (gs.cost_count)
		printf("sample cost:   median %llu ns, p99 %llu ns, mean %llu ns over %llu samples\n",
		       (unsigned long long)swprof_cost_percentile(&gs, 50),
		       (unsigned long long)swprof_cost_percentile(&gs, 99),
		       (unsigned long long)(gs.cost_total_ns / gs.cost_count),
		       (unsigned long long)gs.cost_count);
	swprof_close(sw);
	return 0;
}
