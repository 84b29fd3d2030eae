// SPDX-License-Identifier: GPL-2.0-only
/*
 * swctl report: the profile of records saved by swctl record --save-raw,
 * through the same pipeline and profile sink as a live recording.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_record.h"
#include "export.h"
#include "pipeline.h"
#include "record.h"
#include "sw_log.h"
#include "swctl.h"

static void usage(FILE *f)
{
	fputs("usage: swctl report --raw FILE [options]\n"
	      "\n"
	      "  --raw FILE             records saved by swctl record --save-raw FILE\n"
	      "  -o, --output FILE      write FILE; format from the extension: .pb.gz (pprof),\n"
	      "                         .folded, .svg (repeatable; default swprof.svg)\n"
	      "      --value count|ns   what folded counts and SVG widths measure\n"
	      "      --lines            source file:line and inline frames (DWARF)\n"
	      "      --by-thread        one root frame per thread in folded and SVG output\n"
	      "      --top N            functions in the summary (default 10, 0 = none)\n"
	      "      --title TEXT       SVG title\n"
	      "  -q, --quiet            no summary\n"
	      "  -h, --help\n"
	      "\n"
	      "Addresses are symbolized against the recorded processes as they are now:\n"
	      "report while they still run.  See man swctl-report.\n", f);
}

enum { OPT_RAW = 256, OPT_VALUE, OPT_LINES, OPT_BY_THREAD, OPT_TOP, OPT_TITLE };

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "raw", required_argument, NULL, OPT_RAW },
		{ "output", required_argument, NULL, 'o' },
		{ "value", required_argument, NULL, OPT_VALUE },
		{ "lines", no_argument, NULL, OPT_LINES },
		{ "by-thread", no_argument, NULL, OPT_BY_THREAD },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "title", required_argument, NULL, OPT_TITLE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rec_cli a = { .top = 10, .value = PROF_VALUE_DEFAULT, .cmd_name = "report" };
	const char *raw_path = NULL;
	struct pl_raw_info info;
	struct rec_session *r = NULL;
	struct pl *pl = NULL;
	struct rec_stats st;
	char *end;
	FILE *raw;
	long v;
	int c, n, ret = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_RAW:
			raw_path = optarg;
			break;
		case 'o':
			if (a.nout == REC_CLI_MAX_OUTPUTS || prof_format_from_path(optarg) < 0) {
				sw_err("report: cannot write '%s'; name it .pb.gz, .folded or .svg (at most %d)",
				       optarg, REC_CLI_MAX_OUTPUTS);
				return 2;
			}
			a.outputs[a.nout++] = optarg;
			break;
		case OPT_VALUE:
			if (!strcmp(optarg, "count"))
				a.value = PROF_VALUE_COUNT;
			else if (!strcmp(optarg, "ns"))
				a.value = PROF_VALUE_NS;
			else {
				sw_err("report: --value takes count or ns, not '%s'", optarg);
				return 2;
			}
			break;
		case OPT_LINES:
			a.lines = true;
			break;
		case OPT_BY_THREAD:
			a.by_thread = 1;
			break;
		case OPT_TOP:
			v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 100000) {
				sw_err("report: --top takes a number of functions, not '%s'", optarg);
				return 2;
			}
			a.top = v;
			break;
		case OPT_TITLE:
			a.title = optarg;
			break;
		case 'q':
			a.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!raw_path || optind < argc) {
		sw_err("report: give --raw FILE and nothing else; see swctl report --help");
		return 2;
	}
	if (!a.nout)
		a.outputs[a.nout++] = "swprof.svg";
	raw = fopen(raw_path, "re");
	if (!raw) {
		sw_err("report: cannot open %s: %s", raw_path, strerror(errno));
		return 1;
	}
	if (pl_raw_read_header(raw, &info)) {
		sw_err("report: %s is not a file of swctl record --save-raw", raw_path);
		goto out;
	}
	PL_OPTS(po, .offline = true, .sym_flags = a.lines ? SYM_OPT_LINES : 0);
	REC_OPTS(ro, .mode = info.mode, .period_ns = info.period_ns,
		 .state_frames = !!(info.flags & PL_RAW_STATE_FRAMES));
	if (pl_new(&po, &pl) || rec_new(pl, &ro, &r))
		goto out;
	n = pl_replay(pl, rec_sink(r), raw);
	if (n < 0) {
		sw_err("report: %s: %s", raw_path, n == -EBADMSG ? "truncated or corrupt" : strerror(-n));
		goto out;
	}
	rec_get_stats(r, &st);
	prof_add_lost(rec_profile(r), st.lost);
	ret = rec_write_outputs(rec_profile(r), &a);
	if (!a.quiet) {
		fprintf(stderr, "swctl: %d records, %llu samples from %llu threads, %llu lost\n", n,
			(unsigned long long)st.samples, (unsigned long long)st.threads,
			(unsigned long long)st.lost);
		rec_print_top(rec_profile(r), a.top);
	}
out:
	rec_free(r);
	pl_free(pl);
	fclose(raw);
	return ret;
}
