// SPDX-License-Identifier: GPL-2.0-only
/*
 * swctl report: the profile of records saved by swctl record --save-raw,
 * through the same pipeline and profile sink as a live recording, or of
 * folded stacks (another tool's, OAP's flame graph) as SVG or pprof.
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
	      "       swctl report --folded FILE|- [options]\n"
	      "\n"
	      "  --raw FILE             records saved by swctl record --save-raw FILE\n"
	      "  --folded FILE          folded stacks, 'root;...;leaf COUNT' lines (- for stdin)\n"
	      "  -o, --output FILE      write FILE; format from the extension: .pb.gz (pprof),\n"
	      "                         .folded, .svg (repeatable; default swprof.svg)\n"
	      "      --value count|ns   what folded counts and SVG widths measure; with\n"
	      "                         --folded, what the input's counts are (default count)\n"
	      "  -m, --mode MODE        --folded: cpu, wall or offcpu, what the stacks are\n"
	      "                         (names and units; default cpu, offcpu with --value ns)\n"
	      "      --lines            --raw: source file:line and inline frames (DWARF)\n"
	      "      --by-thread        --raw: one root frame per thread in folded and SVG output\n"
	      "      --top N            functions in the summary (default 10, 0 = none)\n"
	      "      --title TEXT       SVG title\n"
	      "  -q, --quiet            no summary\n"
	      "  -h, --help\n"
	      "\n"
	      "Addresses of --raw are symbolized against the recorded processes as they\n"
	      "are now: report while they still run.  See man swctl-report.\n", f);
}

enum { OPT_RAW = 256, OPT_FOLDED, OPT_VALUE, OPT_LINES, OPT_BY_THREAD, OPT_TOP, OPT_TITLE };

/* The records of --raw, replayed through the pipeline. */
static int report_raw(const char *raw_path, struct rec_cli *a)
{
	struct pl_raw_info info;
	struct rec_session *r = NULL;
	struct pl *pl = NULL;
	struct rec_stats st;
	FILE *raw;
	int n, ret = 1;

	raw = fopen(raw_path, "re");
	if (!raw) {
		sw_err("report: cannot open %s: %s", raw_path, strerror(errno));
		return 1;
	}
	if (pl_raw_read_header(raw, &info)) {
		sw_err("report: %s is not a file of swctl record --save-raw", raw_path);
		goto out;
	}
	PL_OPTS(po, .offline = true, .sym_flags = a->lines ? SYM_OPT_LINES : 0);
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
	ret = rec_write_outputs(rec_profile(r), a);
	if (!a->quiet) {
		fprintf(stderr, "swctl: %d records, %llu samples from %llu threads, %llu lost\n", n,
			(unsigned long long)st.samples, (unsigned long long)st.threads,
			(unsigned long long)st.lost);
		rec_print_top(rec_profile(r), a->top);
	}
out:
	rec_free(r);
	pl_free(pl);
	fclose(raw);
	return ret;
}

/* The folded stacks of --folded (a.value: what their counts are), as they are. */
static int report_folded(const char *path, enum prof_kind kind, struct rec_cli *a)
{
	bool is_stdin = !strcmp(path, "-");
	const char *name = is_stdin ? "stdin" : path;
	struct prof_folded_read res;
	struct prof *p = NULL;
	FILE *f;
	int err, ret = 1;

	f = is_stdin ? stdin : fopen(path, "re");
	if (!f) {
		sw_err("report: cannot open %s: %s", path, strerror(errno));
		return 1;
	}
	err = prof_new(kind, NULL, &p);
	if (err) {
		sw_err("report: %s", strerror(-err));
		goto out;
	}
	err = prof_read_folded(p, f, a->value, &res);
	if (err && res.err_line) {
		sw_err("report: %s:%llu: %s", name, (unsigned long long)res.err_line, res.err);
		goto out;
	} else if (err) {
		sw_err("report: cannot read %s: %s", name, res.err);
		goto out;
	}
	ret = rec_write_outputs(p, a);
	if (!a->quiet) {
		fprintf(stderr, "swctl: %llu stacks, %llu %s\n",
			(unsigned long long)res.stacks, (unsigned long long)res.total,
			a->value == PROF_VALUE_NS ? "ns" : "samples");
		rec_print_top(p, a->top);
	}
out:
	prof_free(p);
	if (!is_stdin)
		fclose(f);
	return ret;
}

static int parse_mode(const char *s, enum prof_kind *kind)
{
	static const enum prof_kind kinds[] = { PROF_CPU, PROF_WALL, PROF_OFFCPU };
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!strcmp(s, prof_kind_name(kinds[i]))) {
			*kind = kinds[i];
			return 0;
		}
	}
	sw_err("report: --mode takes cpu, wall or offcpu, not '%s'", s);
	return -EINVAL;
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "raw", required_argument, NULL, OPT_RAW },
		{ "folded", required_argument, NULL, OPT_FOLDED },
		{ "mode", required_argument, NULL, 'm' },
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
	const char *raw_path = NULL, *folded_path = NULL, *mode = NULL;
	enum prof_kind kind;
	char *end;
	long v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:m:qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_RAW:
			raw_path = optarg;
			break;
		case OPT_FOLDED:
			folded_path = optarg;
			break;
		case 'm':
			mode = optarg;
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
	if (!raw_path == !folded_path || optind < argc) {
		sw_err("report: give --raw FILE or --folded FILE, one of them, and nothing else; "
		       "see swctl report --help");
		return 2;
	}
	if (raw_path && mode) {
		sw_err("report: --mode is for --folded; --raw files say their mode");
		return 2;
	}
	if (folded_path && (a.lines || a.by_thread)) {
		sw_err("report: --%s is for --raw; folded stacks hold names, not %s",
		       a.lines ? "lines" : "by-thread", a.lines ? "addresses" : "threads");
		return 2;
	}
	if (!a.nout)
		a.outputs[a.nout++] = "swprof.svg";
	if (raw_path)
		return report_raw(raw_path, &a);

	kind = a.value == PROF_VALUE_NS ? PROF_OFFCPU : PROF_CPU;
	if (mode && parse_mode(mode, &kind))
		return 2;
	/* the outputs measure what the input counted, whatever the mode */
	if (a.value == PROF_VALUE_DEFAULT)
		a.value = PROF_VALUE_COUNT;
	return report_folded(folded_path, kind, &a);
}
