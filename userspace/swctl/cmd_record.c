// SPDX-License-Identifier: GPL-2.0-only
/*
 * swctl record: profile threads, a process or a command and write pprof,
 * folded stacks or an SVG flame graph.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd_record.h"
#include "export.h"
#include "pipeline.h"
#include "record.h"
#include "sw_log.h"
#include "sw_time.h"
#include "swctl.h"
#include "swprof.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	stop_requested = sig;
}

static void usage(FILE *f)
{
	fputs("usage: swctl record [options] -p PID | -t TID... | -- CMD [ARGS...]\n"
	      "\n"
	      "  -p, --pid PID          every thread of a process, and threads it starts later\n"
	      "                         (repeatable: several processes, one profile, or one\n"
	      "                         each when an output name holds %p, the pid)\n"
	      "  -t, --tid TID          one thread (repeatable)\n"
	      "  -m, --mode MODE        cpu (default): where threads run on a CPU;\n"
	      "                         offcpu: where and how long they block;\n"
	      "                         wall: where they are, running or not (a thread dump\n"
	      "                         every 1/HZ of wall time)\n"
	      "  -F, --freq HZ          samples per second of each thread's CPU time (cpu) or\n"
	      "                         wall time (wall); default 99\n"
	      "      --min-block TIME   offcpu: leave out blocks shorter than TIME (e.g. 1ms)\n"
	      "      --state-frames     a leaf frame [sleeping], [disk], [runnable]... for\n"
	      "                         samples not on a CPU (default for wall; offcpu too)\n"
	      "      --no-state-frames\n"
	      "  -d, --duration TIME    stop after TIME (e.g. 30, 30s, 500ms, 2m); default: until\n"
	      "                         Ctrl-C or until the targets exit\n"
	      "  -o, --output FILE      write FILE; format from the extension: .pb.gz (pprof),\n"
	      "                         .folded, .svg (repeatable; default swprof.svg); %p in\n"
	      "                         FILE: one profile per -p process, %p its pid\n"
	      "      --value count|ns   what folded counts and SVG widths measure (default:\n"
	      "                         samples; ns for offcpu SVG)\n"
	      "      --kernel           kernel stacks too (default when allowed: CAP_PERFMON/root)\n"
	      "      --no-kernel        user stacks only\n"
	      "      --dwarf[=BYTES]    copy BYTES of user stack per sample (default 8192) and\n"
	      "                         unwind it with .eh_frame: complete stacks through code\n"
	      "                         without frame pointers, such as Debian's libc\n"
	      "      --fp               user stacks by frame pointers only (by default, with a\n"
	      "                         1.2 module, swctl gives it unwind tables from .eh_frame)\n"
	      "      --lines            source file:line and inline frames (DWARF)\n"
	      "      --by-thread        one root frame per thread in folded and SVG output\n"
	      "      --ring BYTES       ring per thread (power of two, default 512 KiB)\n"
	      "      --scan-threads     follow -p/-- CMD's new threads by rescanning /proc\n"
	      "                         (as with a 1.0 module) instead of the module's group\n"
	      "      --top N            functions in the summary (default 10, 0 = none)\n"
	      "      --title TEXT       SVG title\n"
	      "      --save-raw FILE    also write every record read, as read, to FILE\n"
	      "                         (swctl report --raw reads it back)\n"
	      "  -q, --quiet            no progress line, no summary\n"
	      "  -h, --help\n"
	      "\n"
	      "Exit status: the command's own status with -- CMD, else 0; 1 when recording\n"
	      "failed; 2 for a usage error.  See man swctl-record.\n", f);
}

enum {
	OPT_KERNEL = 256, OPT_NO_KERNEL, OPT_DWARF, OPT_LINES, OPT_BY_THREAD, OPT_RING,
	OPT_TOP, OPT_TITLE, OPT_MIN_BLOCK, OPT_STATE_FRAMES, OPT_NO_STATE_FRAMES,
	OPT_SCAN_THREADS, OPT_VALUE, OPT_SAVE_RAW, OPT_FP,
};

int rec_cli_parse(int argc, char **argv, struct rec_cli *a, FILE *help)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "tid", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "freq", required_argument, NULL, 'F' },
		{ "duration", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "kernel", no_argument, NULL, OPT_KERNEL },
		{ "no-kernel", no_argument, NULL, OPT_NO_KERNEL },
		{ "dwarf", optional_argument, NULL, OPT_DWARF },
		{ "lines", no_argument, NULL, OPT_LINES },
		{ "by-thread", no_argument, NULL, OPT_BY_THREAD },
		{ "ring", required_argument, NULL, OPT_RING },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "title", required_argument, NULL, OPT_TITLE },
		{ "min-block", required_argument, NULL, OPT_MIN_BLOCK },
		{ "state-frames", no_argument, NULL, OPT_STATE_FRAMES },
		{ "no-state-frames", no_argument, NULL, OPT_NO_STATE_FRAMES },
		{ "scan-threads", no_argument, NULL, OPT_SCAN_THREADS },
		{ "value", required_argument, NULL, OPT_VALUE },
		{ "save-raw", required_argument, NULL, OPT_SAVE_RAW },
		{ "fp", no_argument, NULL, OPT_FP },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool min_block_set = false;
	char *end;
	long v;
	int c, i;

	memset(a, 0, sizeof(*a));
	a->kernel = -1;
	a->state_frames = -1;
	a->top = 10;
	a->hz = 99;
	a->value = PROF_VALUE_DEFAULT;
	a->ro.sz = sizeof(a->ro);
	a->cmd_name = "record";
	a->ro.mode = SWPROF_MODE_CPU;
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "+p:t:m:F:d:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			v = strtol(optarg, &end, 10);
			if (*end || v <= 0 || v > INT32_MAX || a->npid == REC_CLI_MAX_PIDS) {
				sw_err("record: -p needs a process id (at most %d of them), not '%s'",
				       REC_CLI_MAX_PIDS, optarg);
				return 2;
			}
			a->pids[a->npid++] = v;
			a->pid = a->pids[0];
			break;
		case 't':
			v = strtol(optarg, &end, 10);
			if (*end || v <= 0 || v > INT32_MAX || a->ntid == REC_CLI_MAX_TIDS) {
				sw_err("record: -t needs a thread id (at most %d of them), not '%s'",
					  REC_CLI_MAX_TIDS, optarg);
				return 2;
			}
			a->tids[a->ntid++] = v;
			break;
		case 'm':
			if (!strcmp(optarg, "cpu"))
				a->ro.mode = SWPROF_MODE_CPU;
			else if (!strcmp(optarg, "offcpu") || !strcmp(optarg, "off-cpu"))
				a->ro.mode = SWPROF_MODE_OFFCPU;
			else if (!strcmp(optarg, "wall"))
				a->ro.mode = SWPROF_MODE_WALL;
			else {
				sw_err("record: unknown mode '%s'; use cpu, offcpu or wall", optarg);
				return 2;
			}
			break;
		case 'F':
			a->hz = strtod(optarg, &end);
			if (*end || !(a->hz > 0 && a->hz <= 10000)) {
				sw_err("record: -F takes a rate in Hz between 0 and 10000, not '%s'", optarg);
				return 2;
			}
			break;
		case 'd':
			if (sw_parse_duration(optarg, &a->duration_ns) || !a->duration_ns) {
				sw_err("record: cannot read duration '%s'; write e.g. 30s, 500ms, 2m", optarg);
				return 2;
			}
			break;
		case 'o':
			if (a->nout == REC_CLI_MAX_OUTPUTS) {
				sw_err("record: at most %d outputs", REC_CLI_MAX_OUTPUTS);
				return 2;
			}
			if (prof_format_from_path(optarg) < 0) {
				sw_err("record: cannot tell the format of '%s'; name it .pb.gz, .folded or .svg",
					  optarg);
				return 2;
			}
			a->outputs[a->nout++] = optarg;
			break;
		case OPT_KERNEL:
			a->kernel = 1;
			break;
		case OPT_NO_KERNEL:
			a->kernel = 0;
			break;
		case OPT_DWARF:
			a->ro.raw_stack = 8192;
			if (optarg) {
				v = strtol(optarg, &end, 0);
				a->ro.raw_stack = *end || v < 0 || v > SWPROF_MAX_RAW_STACK ? 1 : v;
			}
			if (!a->ro.raw_stack || a->ro.raw_stack % 8) {
				sw_err("record: --dwarf takes a multiple of 8 up to %d bytes", SWPROF_MAX_RAW_STACK);
				return 2;
			}
			break;
		case OPT_LINES:
			a->lines = true;
			break;
		case OPT_BY_THREAD:
			a->by_thread = 1;
			break;
		case OPT_RING:
			v = strtol(optarg, &end, 0);
			if (*end || v < 4096 || v > (1L << 30) || (v & (v - 1))) {
				sw_err("record: --ring takes a power of two of at least 4096 bytes, not '%s'",
					  optarg);
				return 2;
			}
			a->ro.ring_size = v;
			break;
		case OPT_TOP:
			v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 100000) {
				sw_err("record: --top takes a number of functions, not '%s'", optarg);
				return 2;
			}
			a->top = v;
			break;
		case OPT_TITLE:
			a->title = optarg;
			break;
		case OPT_MIN_BLOCK:
			if (sw_parse_duration(optarg, &a->ro.min_block_ns)) {
				sw_err("record: cannot read --min-block '%s'; write e.g. 1ms, 100us", optarg);
				return 2;
			}
			min_block_set = true;
			break;
		case OPT_STATE_FRAMES:
			a->state_frames = 1;
			break;
		case OPT_NO_STATE_FRAMES:
			a->state_frames = 0;
			break;
		case OPT_SCAN_THREADS:
			a->ro.scan_threads = true;
			break;
		case OPT_VALUE:
			if (!strcmp(optarg, "count"))
				a->value = PROF_VALUE_COUNT;
			else if (!strcmp(optarg, "ns"))
				a->value = PROF_VALUE_NS;
			else {
				sw_err("record: --value takes count or ns, not '%s'", optarg);
				return 2;
			}
			break;
		case OPT_SAVE_RAW:
			a->save_raw = optarg;
			break;
		case OPT_FP:
			a->fp_only = true;
			break;
		case 'q':
			a->quiet = 1;
			break;
		case 'h':
			usage(help);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!!a->pid + !!a->ntid + (optind < argc) != 1) {
		sw_err("record: give exactly one of -p PID, -t TID or -- CMD; see swctl record --help");
		return 2;
	}
	for (i = 0; i < a->nout; i++)
		if (strstr(a->outputs[i], "%p"))
			a->per_process = 1;
	if (a->per_process && !a->pid) {
		sw_err("record: %%p in an output name needs -p");
		return 2;
	}
	if (min_block_set && a->ro.mode != SWPROF_MODE_OFFCPU) {
		sw_err("record: --min-block applies to --mode offcpu only");
		return 2;
	}
	if (optind < argc)
		a->cmd = argv + optind;
	if (!a->nout)
		a->outputs[a->nout++] = "swprof.svg";
	/* offcpu records one block per switch: no period (the module's default is fine) */
	a->ro.period_ns = a->ro.mode == SWPROF_MODE_OFFCPU ? 0 : (uint64_t)llround(1e9 / a->hz);
	if (a->state_frames < 0)
		a->ro.state_frames = a->ro.mode == SWPROF_MODE_WALL;
	else
		a->ro.state_frames = a->state_frames && a->ro.mode != SWPROF_MODE_CPU;
	return -1;
}

struct top_fn {
	int name;
	uint64_t self, total;
};

struct top_ctx {
	struct prof *p;
	struct top_fn *fns;	/* indexed by function id */
	uint64_t *seen;		/* per function: last sample index that counted total */
	uint64_t idx;
	bool by_ns;		/* offcpu, wall: time, not samples */
	bool user_self;		/* self = innermost user frame, not the leaf */
};

/* A frame of the program: not a kernel frame, not a synthetic one ("[sleeping]"). */
static bool user_frame(const struct prof_location_info *li)
{
	return !(li->flags & PROF_LOC_KERNEL) && (li->address || li->mapping);
}

static int top_visit(const struct prof_sample *s, void *ctx)
{
	struct top_ctx *t = ctx;
	struct prof_location_info li;
	uint64_t v = t->by_ns ? s->value_ns : s->count;
	unsigned int i, j, self = 0;

	t->idx++;
	if (t->user_self) {
		/* where the program waited: its innermost frame, below the kernel's */
		for (i = 0; i < s->n; i++)
			if (!prof_get_location(t->p, s->locs[i], &li) && user_frame(&li)) {
				self = i;
				break;
			}
	}
	for (i = 0; i < s->n; i++) {
		if (prof_get_location(t->p, s->locs[i], &li) || !li.nr_lines)
			continue;
		for (j = 0; j < li.nr_lines; j++) {
			int fn = li.lines[j].function;

			if (i == self && j == 0)
				t->fns[fn].self += v;
			if (t->seen[fn] != t->idx) {
				t->seen[fn] = t->idx;
				t->fns[fn].total += v;
			}
		}
	}
	return 0;
}

static int cmp_self(const void *a, const void *b)
{
	const struct top_fn *x = a, *y = b;

	return x->self < y->self ? 1 : x->self > y->self ? -1 : 0;
}

static void print_top(struct prof *p, int top)
{
	enum prof_kind kind = prof_get_kind(p);
	struct prof_stats ps;
	struct top_ctx t = { .p = p, .by_ns = kind != PROF_CPU, .user_self = kind != PROF_CPU };
	struct prof_function_info fi;
	int nfn = prof_nr_functions(p), i, shown = 0;
	uint64_t all;
	char b[32];

	prof_get_stats(p, &ps);
	all = t.by_ns ? ps.value_ns : ps.samples;
	if (!all || top <= 0)
		return;
	t.fns = calloc(nfn + 1, sizeof(*t.fns));
	t.seen = calloc(nfn + 1, sizeof(*t.seen));
	if (!t.fns || !t.seen)
		goto out;
	prof_for_each_sample(p, top_visit, &t);
	for (i = 1; i <= nfn; i++)
		t.fns[i].name = prof_get_function(p, i, &fi) ? 0 : fi.name;
	qsort(t.fns + 1, nfn, sizeof(*t.fns), cmp_self);
	if (t.by_ns)
		printf("%7s %7s %10s  %s\n", "self%", "total%",
		       kind == PROF_OFFCPU ? "off-CPU" : "wall", "function");
	else
		printf("%7s %7s  %s\n", "self%", "total%", "function");
	for (i = 1; i <= nfn && shown < top; i++) {
		if (!t.fns[i].self)
			break;
		if (t.by_ns)
			printf("%6.2f%% %6.2f%% %10s  %s\n", 100.0 * t.fns[i].self / all,
			       100.0 * t.fns[i].total / all, sw_format_ns(t.fns[i].self, b, sizeof(b)),
			       prof_str(p, t.fns[i].name));
		else
			printf("%6.2f%% %6.2f%%  %s\n", 100.0 * t.fns[i].self / all,
			       100.0 * t.fns[i].total / all, prof_str(p, t.fns[i].name));
		shown++;
	}
out:
	free(t.fns);
	free(t.seen);
}

static void progress(const struct rec_session *r, uint32_t mode, uint64_t start, bool final)
{
	struct rec_stats st;
	double secs = (sw_now_ns() - start) / 1e9;
	char b[32];

	rec_get_stats(r, &st);
	if (mode == SWPROF_MODE_OFFCPU)
		fprintf(stderr, "\r\033[K[swctl] %6.1fs  threads %llu  blocks %llu  off-CPU %s  lost %llu%s",
			secs, (unsigned long long)st.threads_live, (unsigned long long)st.offcpu,
			sw_format_ns(st.offcpu_ns, b, sizeof(b)), (unsigned long long)st.lost, final ? "\n" : "");
	else
		fprintf(stderr, "\r\033[K[swctl] %6.1fs  threads %llu  samples %llu  lost %llu  %.1f/s%s",
			secs, (unsigned long long)st.threads_live, (unsigned long long)st.samples,
			(unsigned long long)st.lost, secs > 0 ? st.samples / secs : 0.0, final ? "\n" : "");
}

/* CPU time of this process (both threads), in s */
static double cpu_time(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* One line on the unwind tables, when they were used. */
static void print_utab(const struct pl *pl)
{
	struct utab_stats st;

	if (!pl_utab_stats(pl, &st) || !(st.uploaded || st.files_skipped || st.push_errors))
		return;
	fprintf(stderr, "swctl: unwind tables: %llu uploaded (%llu from .debug_frame), %llu rows, "
		"%.1f KiB, compiled in %.0f ms; %llu files skipped, %llu without CFI, "
		"%llu push errors\n",
		(unsigned long long)st.uploaded, (unsigned long long)st.files_debug_frame,
		(unsigned long long)(st.uploaded_bytes / sizeof(struct swprof_unwind_row)),
		st.uploaded_bytes / 1024.0, st.compile_ns / 1e6,
		(unsigned long long)st.files_skipped, (unsigned long long)st.files_no_cfi,
		(unsigned long long)st.push_errors);
}

static void print_summary(struct rec_session *r, uint32_t mode, double secs, double cpu_secs)
{
	struct rec_stats st;
	struct prof_stats ps;
	const char *hint;
	char b[32];
	int i;

	rec_get_stats(r, &st);
	prof_get_stats(rec_profile(r), &ps);
	hint = mode == SWPROF_MODE_OFFCPU ? " (rings overflowed: use a bigger --ring or a --min-block)"
					  : " (rings overflowed: use a bigger --ring or a lower -F)";
	if (mode == SWPROF_MODE_OFFCPU)
		fprintf(stderr, "swctl: %llu blocks, %s off CPU, from %llu threads in %.1f s, %llu lost%s\n",
			(unsigned long long)st.offcpu, sw_format_ns(st.offcpu_ns, b, sizeof(b)),
			(unsigned long long)st.threads, secs, (unsigned long long)st.lost,
			st.lost ? hint : "");
	else if (mode == SWPROF_MODE_WALL)
		fprintf(stderr, "swctl: %llu samples (%s of wall time) from %llu threads in %.1f s, %llu lost%s\n",
			(unsigned long long)st.samples, sw_format_ns(st.wall_ns, b, sizeof(b)),
			(unsigned long long)st.threads, secs, (unsigned long long)st.lost,
			st.lost ? hint : "");
	else
		fprintf(stderr, "swctl: %llu samples from %llu threads in %.1f s, %llu lost%s\n",
			(unsigned long long)st.samples, (unsigned long long)st.threads, secs,
			(unsigned long long)st.lost, st.lost ? hint : "");
	if (mode != SWPROF_MODE_CPU && st.samples) {
		uint64_t all = 0;

		for (i = 0; i < REC_NR_STATES; i++)
			all += st.state_ns[i];
		fprintf(stderr, "swctl: %s", mode == SWPROF_MODE_OFFCPU ? "blocked in:" : "states:");
		for (i = 0; i < REC_NR_STATES; i++)
			if (st.state_samples[i])
				fprintf(stderr, " %s %.1f%%", rec_state_name(i),
					all ? 100.0 * st.state_ns[i] / all : 0.0);
		fprintf(stderr, "\n");
	}
	/* what profiling cost while it ran: reading, symbolization, aggregation */
	fprintf(stderr, "swctl: used %.2f s of CPU while recording (%.1f%% of one CPU); "
		"%llu records, each read within %.0f ms\n",
		cpu_secs, secs > 0 ? 100 * cpu_secs / secs : 0.0, (unsigned long long)st.records,
		st.ring_lag_max_ns / 1e6);
	if (st.seq_gaps)
		fprintf(stderr, "swctl: %llu records missing without a LOST record: please report this bug\n",
			(unsigned long long)st.seq_gaps);
	if (st.bad_records || st.unknown_records)
		fprintf(stderr, "swctl: %llu corrupt and %llu unknown records skipped\n",
			(unsigned long long)st.bad_records, (unsigned long long)st.unknown_records);
	if (st.group_missed || st.register_failed)
		fprintf(stderr, "swctl: %llu threads not followed (module limits max_targets or "
			"mem_limit_mb, or swctl out of fds)\n",
			(unsigned long long)(st.group_missed + st.register_failed));
	/* a second behind is worth knowing about: a slow first symbolization */
	if (st.sym_lag_max_ns > 1000000000ULL)
		fprintf(stderr, "swctl: symbolization ran up to %.1f s behind the samples "
			"(queue peak %.1f MiB)\n",
			st.sym_lag_max_ns / 1e9, st.queue_peak / 1048576.0);
	if (st.queue_full)
		fprintf(stderr, "swctl: symbolization fell behind %llu times (queue of %.0f MiB full)\n",
			(unsigned long long)st.queue_full, st.queue_peak / 1048576.0);
	if (ps.capped)
		fprintf(stderr, "swctl: profile memory cap reached: %llu samples folded into [truncated]\n",
			(unsigned long long)ps.truncated_samples);
	if (!st.samples)
		fprintf(stderr, "%s\n", mode == SWPROF_MODE_OFFCPU ?
			"swctl: no blocks: the targets did not block (for --min-block or longer) while recorded" :
			mode == SWPROF_MODE_WALL ? "swctl: no samples: the targets exited before the first period" :
			"swctl: no samples: the targets did not run on a CPU while recorded");
}

/* The file execvp() will run for @cmd, or NULL. */
static char *command_path(const char *cmd)
{
	const char *path = getenv("PATH"), *p, *end;
	char *full;

	if (strchr(cmd, '/'))
		return access(cmd, X_OK) ? NULL : strdup(cmd);
	for (p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if (asprintf(&full, "%.*s/%s", (int)(end - p), end == p ? "." : p, cmd) < 0)
			return NULL;
		if (!access(full, X_OK))
			return full;
		free(full);
	}
	return NULL;
}

/* Fork CMD stopped before exec, so that it is registered before it runs. */
static pid_t spawn_stopped(char **argv, int *go_fd)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(127);
		signal(SIGINT, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "swctl: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	*go_fd = p[1];
	return pid;
}

/* One fd per followed thread: a process with thousands needs more than 1024. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int register_tids(struct rec_session *r, const struct rec_cli *a)
{
	int i, err = 0;

	for (i = 0; i < a->ntid && !err; i++) {
		char path[64];
		FILE *f;
		int tgid = a->tids[i];

		/* the thread's process, for symbolization */
		snprintf(path, sizeof(path), "/proc/%d/status", a->tids[i]);
		f = fopen(path, "re");
		if (f) {
			char line[128];

			while (fgets(line, sizeof(line), f))
				if (sscanf(line, "Tgid: %d", &tgid) == 1)
					break;
			fclose(f);
		}
		err = rec_add_thread(r, tgid, a->tids[i]);
		if (err)
			sw_err("record: cannot register thread %d: %s", a->tids[i], swprof_strerror(err));
	}
	return err;
}

/* @path with every %p replaced by @pid */
static void expand_pid(const char *path, pid_t pid, char *out, size_t len)
{
	size_t o = 0;

	for (; *path && o + 12 < len; path++) {
		if (path[0] == '%' && path[1] == 'p') {
			o += snprintf(out + o, len - o, "%d", pid);
			path++;
		} else {
			out[o++] = *path;
		}
	}
	out[o] = 0;
}

int rec_write_outputs_of(struct prof *p, const struct rec_cli *a, pid_t pid)
{
	char path[PATH_MAX];
	int i, err, ret = 0;

	for (i = 0; i < a->nout; i++) {
		PROF_EXPORT_OPTS(eo, .by_thread = a->by_thread, .title = a->title, .value = a->value);

		expand_pid(a->outputs[i], pid, path, sizeof(path));
		/* a failure was said, with the file's name, by prof_export() */
		err = prof_export(p, path, &eo);
		if (err) {
			ret = 1;
		} else if (!a->quiet) {
			fprintf(stderr, "swctl: wrote %s\n", path);
		}
	}
	return ret;
}

int rec_write_outputs(struct prof *p, const struct rec_cli *a)
{
	return rec_write_outputs_of(p, a, 0);
}

void rec_print_top(struct prof *p, int top)
{
	print_top(p, top);
}

/* The one pipeline of this swctl process, with --save-raw's file. */
static int pipeline_open(const struct rec_cli *a, struct pl **pl, FILE **raw)
{
	struct pl_raw_info info = {
		.mode = a->ro.mode,
		.flags = a->ro.state_frames ? PL_RAW_STATE_FRAMES : 0,
		.period_ns = a->ro.period_ns,
	};
	int err;

	*raw = NULL;
	if (a->save_raw) {
		*raw = fopen(a->save_raw, "we");
		if (!*raw || pl_raw_write_header(*raw, &info)) {
			sw_err("record: cannot write %s: %s", a->save_raw, strerror(errno));
			if (*raw)
				fclose(*raw);
			return -errno;
		}
	}
	PL_OPTS(po, .sym_flags = a->lines ? SYM_OPT_LINES : 0, .save_raw = *raw,
		.fp_only = a->fp_only);
	err = pl_new(&po, pl);
	if (err && *raw) {
		fclose(*raw);
		*raw = NULL;
	}
	return err;
}

static bool all_gone(struct rec_session *const *recs, const struct rec_cli *a)
{
	int i;

	for (i = 0; i < a->npid; i++)
		if (!rec_process_gone(recs[a->per_process ? i : 0], a->pids[i]))
			return false;
	return true;
}

int cmd_record(int argc, char **argv)
{
	struct rec_session *recs[REC_CLI_MAX_PIDS] = { NULL }, *r;
	struct rec_cli a;
	pid_t child = -1;
	int go_fd = -1, status = 0, ret = 0, err, i, nrec;
	uint64_t start, last_progress = 0, last_scan = 0;
	double secs, cpu, cpu0;
	struct rec_stats st;
	struct pl *pl = NULL;
	FILE *raw = NULL;
	bool tty = isatty(STDERR_FILENO), follows;
	struct sigaction sa = { .sa_handler = on_signal };

	ret = rec_cli_parse(argc, argv, &a, stdout);
	if (ret >= 0)
		return ret;
	ret = 0;
	if (a.kernel < 0) {
		/* kernel stacks when this user may have them */
		struct swprof *sw;

		a.kernel = 0;
		if (!swprof_open(NULL, &sw)) {
			a.kernel = !!(swprof_version(sw)->caps & SWPROF_CAP_KSTACK);
			swprof_close(sw);
		}
	}
	a.ro.kernel = a.kernel;
	raise_fd_limit();
	/* pl_new() and rec_new() said what failed */
	if (pipeline_open(&a, &pl, &raw))
		return 1;
	/* one recording, or one per process: all on the one pipeline */
	nrec = a.per_process ? a.npid : 1;
	for (i = 0; i < nrec; i++) {
		if (rec_new(pl, &a.ro, &recs[i])) {
			ret = 1;
			goto out;
		}
	}
	r = recs[0];
	follows = rec_follows_processes(r);
	if (a.cmd) {
		child = spawn_stopped(a.cmd, &go_fd);
		if (child < 0) {
			sw_err("record: cannot start %s: %s", a.cmd[0], strerror(errno));
			ret = 1;
			goto out;
		}
		a.pids[a.npid++] = a.pid = child;
	}
	err = a.pid ? 0 : register_tids(r, &a);
	for (i = 0; i < a.npid && err >= 0; i++) {
		err = rec_add_process(recs[a.per_process ? i : 0], a.pids[i]);
		if (err < 0)
			sw_err("record: cannot register process %d: %s", a.pids[i], swprof_strerror(err));
	}
	if (err < 0) {
		if (child > 0) {
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
		}
		ret = 1;
		goto out;
	}
	if (child > 0) {
		/* its tables ready before it runs (the default user walk) */
		char *path = command_path(a.cmd[0]);

		pl_preload_tables(pl, path);
		free(path);
	}
	/* registered first: a short-lived -p target is not missed while kallsyms loads */
	if (a.ro.kernel)
		pl_preload_kernel(pl);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	start = sw_now_ns();
	cpu0 = cpu_time();
	for (i = 0; i < nrec; i++)
		prof_set_times(rec_profile(recs[i]), sw_epoch_ns(), 0);
	if (go_fd >= 0) {
		if (write(go_fd, "x", 1) != 1)
			sw_err("record: cannot start the command");
		close(go_fd);
	}
	while (!stop_requested) {
		uint64_t t = sw_now_ns();

		if (a.duration_ns && t - start >= a.duration_ns)
			break;
		pl_poll(pl, 100);
		t = sw_now_ns();
		/* a 1.0 module: pick up threads created since by rescanning */
		if (a.pid && !follows && t - last_scan > 100000000ULL) {
			last_scan = t;
			for (i = 0; i < a.npid; i++)
				rec_add_process(recs[a.per_process ? i : 0], a.pids[i]);
		}
		if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
			child = -1;
			break;
		}
		if (!a.pid && rec_all_exited(r))
			break;
		if (a.pid && child < 0 && !a.cmd && all_gone(recs, &a))
			break;
		if (tty && !a.quiet && t - last_progress > 500000000ULL) {
			last_progress = t;
			progress(r, a.ro.mode, start, false);
		}
	}
	for (i = 0; i < nrec; i++)
		rec_enable(recs[i], false);
	pl_drain(pl);
	secs = (sw_now_ns() - start) / 1e9;
	cpu = cpu_time() - cpu0;
	if (child > 0) {
		/* the command outlived the recording: let it run, as perf does on -d */
		if (stop_requested)
			kill(child, stop_requested);
		waitpid(child, &status, 0);
	}
	for (i = 0; i < nrec; i++) {
		struct prof *p = rec_profile(recs[i]);

		prof_set_times(p, prof_get_time_nanos(p), sw_now_ns() - start);
		rec_get_stats(recs[i], &st);
		prof_add_lost(p, st.lost);
	}
	if (tty && !a.quiet)
		progress(r, a.ro.mode, start, true);

	for (i = 0; i < nrec; i++)
		ret |= rec_write_outputs_of(rec_profile(recs[i]), &a, a.per_process ? a.pids[i] : 0);
	if (!a.quiet) {
		for (i = 0; i < nrec; i++) {
			if (nrec > 1)
				fprintf(stderr, "swctl: process %d:\n", a.pids[i]);
			print_summary(recs[i], a.ro.mode, secs, cpu);
		}
		print_utab(pl);
		print_top(rec_profile(r), a.top);
	}
	if (!ret && WIFEXITED(status) && a.cmd)
		ret = WEXITSTATUS(status);
	else if (!ret && WIFSIGNALED(status) && a.cmd)
		ret = 128 + WTERMSIG(status);
out:
	for (i = 0; i < REC_CLI_MAX_PIDS; i++)
		rec_free(recs[i]);
	pl_free(pl);
	if (raw && fclose(raw)) {
		sw_err("record: cannot write %s: %s", a.save_raw, strerror(errno));
		ret = ret ? ret : 1;
	}
	return ret;
}
