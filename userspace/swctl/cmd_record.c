// SPDX-License-Identifier: GPL-2.0-only
/*
 * swctl record: profile threads, a process or a command and write pprof,
 * folded stacks or an SVG flame graph.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "record.h"
#include "swctl.h"
#include "swprof.h"

#define MAX_OUTPUTS 8
#define MAX_TIDS 256

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
	      "  -t, --tid TID          one thread (repeatable)\n"
	      "  -m, --mode MODE        cpu (default), offcpu or wall\n"
	      "  -F, --freq HZ          samples per second of each thread's time (default 99)\n"
	      "  -d, --duration TIME    stop after TIME (e.g. 30, 30s, 500ms, 2m); default: until\n"
	      "                         Ctrl-C or until the targets exit\n"
	      "  -o, --output FILE      write FILE; format from the extension: .pb.gz (pprof),\n"
	      "                         .folded, .svg (repeatable; default swprof.svg)\n"
	      "      --kernel           kernel stacks too (default when allowed: CAP_PERFMON/root)\n"
	      "      --no-kernel        user stacks only\n"
	      "      --dwarf[=BYTES]    copy BYTES of user stack per sample (default 8192) and\n"
	      "                         unwind it with .eh_frame: complete stacks through code\n"
	      "                         without frame pointers, such as Debian's libc\n"
	      "      --lines            source file:line and inline frames (DWARF)\n"
	      "      --by-thread        one root frame per thread in folded and SVG output\n"
	      "      --ring BYTES       ring per thread (power of two, default 512 KiB)\n"
	      "      --top N            functions in the summary (default 10, 0 = none)\n"
	      "      --title TEXT       SVG title\n"
	      "  -q, --quiet            no progress line, no summary\n"
	      "  -h, --help\n"
	      "\n"
	      "Exit status: the command's own status with -- CMD, else 0; 1 when recording\n"
	      "failed; 2 for a usage error.  See man swctl-record.\n", f);
}

/* "30", "30s", "500ms", "2m", "1h" -> ns; 0 on error. */
static uint64_t parse_duration(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v <= 0)
		return 0;
	if (!*end || !strcmp(end, "s"))
		return v * 1e9;
	if (!strcmp(end, "ms"))
		return v * 1e6;
	if (!strcmp(end, "m"))
		return v * 60e9;
	if (!strcmp(end, "h"))
		return v * 3600e9;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t epoch_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

struct top_fn {
	int name;
	uint64_t self, total;
};

struct top_ctx {
	struct prof *p;
	struct top_fn *fns;	/* indexed by function id */
	int *seen;		/* per function: last sample index that counted total */
	uint64_t idx;
};

static int top_visit(const struct prof_sample *s, void *ctx)
{
	struct top_ctx *t = ctx;
	struct prof_location_info li;
	unsigned int i, j;

	t->idx++;
	for (i = 0; i < s->n; i++) {
		if (prof_get_location(t->p, s->locs[i], &li) || !li.nr_lines)
			continue;
		for (j = 0; j < li.nr_lines; j++) {
			int fn = li.lines[j].function;

			if (i == 0 && j == 0)
				t->fns[fn].self += s->count;
			if (t->seen[fn] != (int)t->idx) {
				t->seen[fn] = t->idx;
				t->fns[fn].total += s->count;
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
	struct prof_stats ps;
	struct top_ctx t = { .p = p };
	struct prof_function_info fi;
	int nfn = prof_nr_functions(p), i, shown = 0;

	prof_get_stats(p, &ps);
	if (!ps.samples || top <= 0)
		return;
	t.fns = calloc(nfn + 1, sizeof(*t.fns));
	t.seen = calloc(nfn + 1, sizeof(*t.seen));
	if (!t.fns || !t.seen)
		goto out;
	prof_for_each_sample(p, top_visit, &t);
	for (i = 1; i <= nfn; i++) {
		t.fns[i].name = prof_get_function(p, i, &fi) ? 0 : fi.name;
	}
	qsort(t.fns + 1, nfn, sizeof(*t.fns), cmp_self);
	printf("%7s %7s  %s\n", "self%", "total%", "function");
	for (i = 1; i <= nfn && shown < top; i++) {
		if (!t.fns[i].self)
			break;
		printf("%6.2f%% %6.2f%%  %s\n", 100.0 * t.fns[i].self / ps.samples,
		       100.0 * t.fns[i].total / ps.samples, prof_str(p, t.fns[i].name));
		shown++;
	}
out:
	free(t.fns);
	free(t.seen);
}

static void progress(const struct rec_session *r, uint64_t start, bool final)
{
	struct rec_stats st;
	double secs = (now_ns() - start) / 1e9;

	rec_get_stats(r, &st);
	fprintf(stderr, "\r\033[K[swctl] %6.1fs  threads %llu  samples %llu  lost %llu  %.1f/s%s",
		secs, (unsigned long long)st.threads_live, (unsigned long long)st.samples,
		(unsigned long long)st.lost, secs > 0 ? st.samples / secs : 0.0, final ? "\n" : "");
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

int cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "tid", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "freq", required_argument, NULL, 'F' },
		{ "duration", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "kernel", no_argument, NULL, 'K' },
		{ "no-kernel", no_argument, NULL, 'N' },
		{ "dwarf", optional_argument, NULL, 'D' },
		{ "lines", no_argument, NULL, 'L' },
		{ "by-thread", no_argument, NULL, 'B' },
		{ "ring", required_argument, NULL, 'R' },
		{ "top", required_argument, NULL, 'T' },
		{ "title", required_argument, NULL, 'I' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *outputs[MAX_OUTPUTS], *title = NULL;
	pid_t tids[MAX_TIDS], pid = 0, child = -1;
	int nout = 0, ntid = 0, kernel = -1, top = 10, quiet = 0, by_thread = 0, c, err, i;
	int go_fd = -1, status = 0, ret = 0;
	uint64_t duration = 0, start, last_progress = 0, last_scan = 0;
	double hz = 99;
	REC_OPTS(ro, .mode = SWPROF_MODE_CPU);
	struct rec_session *r = NULL;
	struct rec_stats st;
	struct prof_stats ps;
	char errbuf[256];
	bool tty = isatty(STDERR_FILENO);
	struct sigaction sa = { .sa_handler = on_signal };

	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:t:m:F:d:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pid = atoi(optarg);
			if (pid <= 0) {
				swctl_err("record: -p needs a process id, not '%s'", optarg);
				return 2;
			}
			break;
		case 't':
			if (ntid == MAX_TIDS || atoi(optarg) <= 0) {
				swctl_err("record: -t needs a thread id (at most %d of them)", MAX_TIDS);
				return 2;
			}
			tids[ntid++] = atoi(optarg);
			break;
		case 'm':
			if (!strcmp(optarg, "cpu"))
				ro.mode = SWPROF_MODE_CPU;
			else if (!strcmp(optarg, "offcpu"))
				ro.mode = SWPROF_MODE_OFFCPU;
			else if (!strcmp(optarg, "wall"))
				ro.mode = SWPROF_MODE_WALL;
			else {
				swctl_err("record: unknown mode '%s'; use cpu, offcpu or wall", optarg);
				return 2;
			}
			break;
		case 'F':
			hz = strtod(optarg, NULL);
			if (hz <= 0 || hz > 10000) {
				swctl_err("record: -F takes a rate in Hz between 0 and 10000, not '%s'", optarg);
				return 2;
			}
			break;
		case 'd':
			duration = parse_duration(optarg);
			if (!duration) {
				swctl_err("record: cannot read duration '%s'; write e.g. 30s, 500ms, 2m", optarg);
				return 2;
			}
			break;
		case 'o':
			if (nout == MAX_OUTPUTS) {
				swctl_err("record: at most %d outputs", MAX_OUTPUTS);
				return 2;
			}
			if (prof_format_from_path(optarg) < 0) {
				swctl_err("record: cannot tell the format of '%s'; name it .pb.gz, .folded or .svg",
					  optarg);
				return 2;
			}
			outputs[nout++] = optarg;
			break;
		case 'K':
			kernel = 1;
			break;
		case 'N':
			kernel = 0;
			break;
		case 'D':
			ro.raw_stack = optarg ? strtoul(optarg, NULL, 0) : 8192;
			if (!ro.raw_stack || ro.raw_stack % 8 || ro.raw_stack > SWPROF_MAX_RAW_STACK) {
				swctl_err("record: --dwarf takes a multiple of 8 up to %d bytes", SWPROF_MAX_RAW_STACK);
				return 2;
			}
			break;
		case 'L':
			ro.lines = true;
			break;
		case 'B':
			by_thread = 1;
			break;
		case 'R':
			ro.ring_size = strtoul(optarg, NULL, 0);
			if (ro.ring_size < 4096 || (ro.ring_size & (ro.ring_size - 1))) {
				swctl_err("record: --ring takes a power of two of at least 4096 bytes");
				return 2;
			}
			break;
		case 'T':
			top = atoi(optarg);
			break;
		case 'I':
			title = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!!pid + !!ntid + (optind < argc) != 1) {
		swctl_err("record: give exactly one of -p PID, -t TID or -- CMD; see swctl record --help");
		return 2;
	}
	if (!nout)
		outputs[nout++] = "swprof.svg";
	ro.period_ns = 1e9 / hz;
	if (kernel < 0) {
		/* kernel stacks when this user may have them */
		struct swprof *sw;

		kernel = 0;
		if (!swprof_open(NULL, &sw)) {
			kernel = !!(swprof_version(sw)->caps & SWPROF_CAP_KSTACK);
			swprof_close(sw);
		}
	}
	ro.kernel = kernel;
	err = rec_new(&ro, &r, errbuf, sizeof(errbuf));
	if (err) {
		swctl_err("record: %s", errbuf);
		return 1;
	}
	if (optind < argc) {
		child = spawn_stopped(argv + optind, &go_fd);
		if (child < 0) {
			swctl_err("record: cannot start %s: %s", argv[optind], strerror(errno));
			rec_free(r);
			return 1;
		}
		pid = child;
	}
	if (pid) {
		err = rec_add_process(r, pid);
	} else {
		err = 0;
		for (i = 0; i < ntid && !err; i++) {
			char path[64];
			FILE *f;
			int tgid = tids[i];

			/* the thread's process, for symbolization */
			snprintf(path, sizeof(path), "/proc/%d/status", tids[i]);
			f = fopen(path, "re");
			if (f) {
				char line[128];

				while (fgets(line, sizeof(line), f))
					if (sscanf(line, "Tgid: %d", &tgid) == 1)
						break;
				fclose(f);
			}
			err = rec_add_thread(r, tgid, tids[i]);
			if (err)
				swctl_err("record: cannot register thread %d: %s", tids[i], swprof_strerror(err));
		}
	}
	if (err < 0) {
		if (pid)
			swctl_err("record: cannot register process %d: %s", pid, swprof_strerror(err));
		if (child > 0) {
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
		}
		rec_free(r);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	start = now_ns();
	prof_set_times(rec_profile(r), epoch_ns(), 0);
	if (go_fd >= 0) {
		if (write(go_fd, "x", 1) != 1)
			swctl_err("record: cannot start the command");
		close(go_fd);
	}
	while (!stop_requested) {
		uint64_t t = now_ns();

		if (duration && t - start >= duration)
			break;
		rec_poll(r, 100);
		t = now_ns();
		/* threads created since: until the module follows processes itself */
		if (pid && t - last_scan > 100000000ULL) {
			last_scan = t;
			rec_add_process(r, pid);
		}
		if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
			child = -1;
			break;
		}
		if (!pid && rec_all_exited(r))
			break;
		if (pid && child < 0 && kill(pid, 0) && errno == ESRCH)
			break;
		if (tty && !quiet && t - last_progress > 500000000ULL) {
			last_progress = t;
			progress(r, start, false);
		}
	}
	rec_enable(r, false);
	rec_drain(r);
	if (child > 0) {
		/* the command outlived the recording: let it run, as perf does on -d */
		if (stop_requested)
			kill(child, stop_requested);
		waitpid(child, &status, 0);
	}
	prof_set_times(rec_profile(r), prof_get_time_nanos(rec_profile(r)), now_ns() - start);
	rec_get_stats(r, &st);
	prof_add_lost(rec_profile(r), st.lost);
	if (tty && !quiet)
		progress(r, start, true);

	for (i = 0; i < nout; i++) {
		char eb[256] = "";
		PROF_EXPORT_OPTS(eo, .by_thread = by_thread, .title = title, .errbuf = eb,
				 .errbuf_sz = sizeof(eb));

		err = prof_export(rec_profile(r), outputs[i], &eo);
		if (err) {
			swctl_err("record: cannot write %s: %s", outputs[i], eb[0] ? eb : strerror(-err));
			ret = 1;
		} else if (!quiet) {
			fprintf(stderr, "swctl: wrote %s\n", outputs[i]);
		}
	}
	prof_get_stats(rec_profile(r), &ps);
	if (!quiet) {
		fprintf(stderr, "swctl: %llu samples from %llu threads in %.1f s, %llu lost%s\n",
			(unsigned long long)st.samples, (unsigned long long)st.threads,
			(now_ns() - start) / 1e9, (unsigned long long)st.lost,
			st.lost ? " (rings overflowed: use a bigger --ring or a lower -F)" : "");
		if (st.seq_gaps)
			fprintf(stderr, "swctl: %llu records missing without a LOST record: please report this bug\n",
				(unsigned long long)st.seq_gaps);
		if (ps.capped)
			fprintf(stderr, "swctl: profile memory cap reached: %llu samples folded into [truncated]\n",
				(unsigned long long)ps.truncated_samples);
		if (!st.samples)
			fprintf(stderr, "swctl: no samples: the targets did not run on a CPU while recorded\n");
		print_top(rec_profile(r), top);
	}
	rec_free(r);
	if (!ret && WIFEXITED(status) && optind < argc)
		ret = WEXITSTATUS(status);
	else if (!ret && WIFSIGNALED(status) && optind < argc)
		ret = 128 + WTERMSIG(status);
	return ret;
}
