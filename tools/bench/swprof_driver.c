// SPDX-License-Identifier: GPL-2.0-only
/*
 * swprof_driver: profile a benchmark workload with swprof the way a cheap
 * profiler would, and report what it cost.
 *
 *   swprof_driver [--mode cpu|offcpu|wall] -F HZ | --period-ns NS [--kernel | --no-stacks]
 *                 [--raw N] [--ring BYTES] [--drain-ms MS] [--no-drain]
 *                 [--stacks FILE] [--maps FILE] -- CMD ARGS...
 *
 * Runs CMD with --wait (added right after CMD), reads the TIDs it prints,
 * registers each thread (user stacks, kernel stacks with --kernel, only the
 * interrupted user IP with --no-stacks, N bytes
 * of raw stack with --raw), releases CMD with a byte on its stdin, then
 * drains every ring from an epoll loop (ring wakeups at a quarter full,
 * plus a periodic drain) until CMD exits.  Each sample's stack is hashed
 * and counted in a table, as an aggregating profiler does before it
 * symbolizes; nothing is symbolized here.  --no-drain reads the rings only
 * once CMD has exited (to tell the reader's cost from the module's; the
 * rings must be large enough to hold everything).
 *
 * --mode: how the threads are registered.  cpu (default): a sample every
 * period of on-CPU time (-F HZ or --period-ns).  offcpu: one OFFCPU record
 * per voluntary block, whatever its length (min_block_ns 0); -F and
 * --period-ns are ignored.  wall: a sample every period of wall time.
 * SAMPLE and OFFCPU records are hashed and counted alike.
 *
 * Output on stdout: CMD's own output after its TID line, then one line
 *   swprof_driver: samples=... lost=... bytes=... stacks=... cost_p50_ns=... ...
 * Exit status: CMD's (or 1 when the driver itself fails).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "swprof.h"

#define MAX_THREADS	1024
#define MAX_EVENTS	64

/* ------------------------------------------------------------------ */
/* Stack table: open addressing on a 64-bit hash, exact compare of the ips */

struct stack_entry {
	uint64_t hash;
	uint64_t count;
	uint32_t nr_kernel;
	uint32_t nr_user;
	uint64_t *ips;		/* NULL = empty slot */
};

struct stack_table {
	struct stack_entry *slots;
	size_t cap;		/* power of two */
	size_t used;
};

static uint64_t stack_hash(const uint64_t *ips, unsigned int n, unsigned int nk)
{
	uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)nk << 32 | n);
	unsigned int i;

	for (i = 0; i < n; i++) {
		h ^= ips[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h;
}

static int stack_table_grow(struct stack_table *tb)
{
	size_t cap = tb->cap ? tb->cap * 2 : 1024, i, j;
	struct stack_entry *s = calloc(cap, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (i = 0; i < tb->cap; i++) {
		if (!tb->slots[i].ips)
			continue;
		for (j = tb->slots[i].hash & (cap - 1); s[j].ips; j = (j + 1) & (cap - 1))
			;
		s[j] = tb->slots[i];
	}
	free(tb->slots);
	tb->slots = s;
	tb->cap = cap;
	return 0;
}

static int stack_table_add(struct stack_table *tb, const uint64_t *ips, unsigned int nk,
			   unsigned int nu)
{
	unsigned int n = nk + nu;
	uint64_t h = stack_hash(ips, n, nk);
	struct stack_entry *e;
	size_t j;

	if (2 * (tb->used + 1) > tb->cap && stack_table_grow(tb))
		return -ENOMEM;
	for (j = h & (tb->cap - 1);; j = (j + 1) & (tb->cap - 1)) {
		e = &tb->slots[j];
		if (!e->ips)
			break;
		if (e->hash == h && e->nr_kernel == nk && e->nr_user == nu &&
		    !memcmp(e->ips, ips, 8 * (size_t)n)) {
			e->count++;
			return 0;
		}
	}
	e->ips = malloc(8 * (size_t)(n ? n : 1));
	if (!e->ips)
		return -ENOMEM;
	memcpy(e->ips, ips, 8 * (size_t)n);
	e->hash = h;
	e->count = 1;
	e->nr_kernel = nk;
	e->nr_user = nu;
	tb->used++;
	return 0;
}

/* "count k:ip,ip,...;u:ip,ip,..." per stack, leaf first, for an offline symbolizer. */
static int stack_table_dump(const struct stack_table *tb, const char *path)
{
	FILE *f = fopen(path, "w");
	size_t i;
	unsigned int k;

	if (!f)
		return -errno;
	for (i = 0; i < tb->cap; i++) {
		const struct stack_entry *e = &tb->slots[i];

		if (!e->ips)
			continue;
		fprintf(f, "%llu k:", (unsigned long long)e->count);
		for (k = 0; k < e->nr_kernel; k++)
			fprintf(f, "%s%llx", k ? "," : "", (unsigned long long)e->ips[k]);
		fprintf(f, ";u:");
		for (k = 0; k < e->nr_user; k++)
			fprintf(f, "%s%llx", k ? "," : "",
				(unsigned long long)e->ips[e->nr_kernel + k]);
		fputc('\n', f);
	}
	return fclose(f) ? -errno : 0;
}

/* ------------------------------------------------------------------ */
/* Reading */

struct target_ctx {
	struct swprof_target *t;
	struct swprof_seq_tracker seq;
	bool in_epoll;
};

struct totals {
	struct stack_table stacks;
	uint64_t samples, lost_records, lost, other, bytes, bad;
	uint64_t offcpu, offcpu_ns;	/* OFFCPU records among samples, their summed time */
	uint64_t ring_wakeups, timer_drains, epoll_wakeups, drains_with_data;
	int err;
};

struct read_ctx {
	struct totals *tot;
	struct target_ctx *tc;
};

static int on_record(void *arg, const struct swprof_rec *rec)
{
	struct read_ctx *rc = arg;
	struct totals *tot = rc->tot;
	const struct swprof_sample *s;
	const __u64 *ips;
	int err;

	swprof_seq_tracker_add(&rc->tc->seq, rec);
	tot->bytes += rec->size;
	if (!swprof_rec_valid(rec)) {
		tot->bad++;
		return 0;
	}
	switch (rec->type) {
	case SWPROF_REC_OFFCPU:
		tot->offcpu++;
		tot->offcpu_ns += ((const struct swprof_sample *)rec)->period_ns;
		/* counted and hashed like a sample */
		__attribute__((fallthrough));
	case SWPROF_REC_SAMPLE:
		s = (const void *)rec;
		ips = swprof_sample_ips(s);
		tot->samples++;
		err = stack_table_add(&tot->stacks, (const uint64_t *)ips, s->nr_kernel, s->nr_user);
		if (err)
			return err;
		break;
	case SWPROF_REC_LOST:
		tot->lost_records++;
		tot->lost += ((const struct swprof_lost *)rec)->count;
		break;
	default:
		tot->other++;
	}
	return 0;
}

static int drain(struct target_ctx *tc, struct totals *tot)
{
	struct read_ctx rc = { .tot = tot, .tc = tc };
	int n = swprof_target_read(tc->t, on_record, &rc, 0);

	if (n < 0)
		return n;
	if (n > 0)
		tot->drains_with_data++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The child */

struct child {
	pid_t pid;
	int in_fd;		/* its stdin: the release byte */
	int out_fd;		/* its stdout: TIDs, then what it prints */
};

static int spawn(char **argv, struct child *ch)
{
	int in[2], out[2];
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(in[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "swprof_driver: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	ch->pid = pid;
	ch->in_fd = in[1];
	ch->out_fd = out[0];
	return 0;
}

/* Read the child's first line (its TIDs); whatever follows it goes to stdout. */
static int read_tids(struct child *ch, pid_t *tids, int max)
{
	char buf[16384], *nl, *p, *end;
	size_t len = 0;
	ssize_t n;
	int nr = 0;

	for (;;) {
		if (len == sizeof(buf) - 1)
			return -E2BIG;
		n = read(ch->out_fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		len += n;
		buf[len] = '\0';
		nl = strchr(buf, '\n');
		if (nl)
			break;
	}
	*nl = '\0';
	for (p = buf; *p;) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		if (v <= 0 || nr == max)
			return -EINVAL;
		tids[nr++] = (pid_t)v;
		p = end;
	}
	if (nl + 1 < buf + len)
		fwrite(nl + 1, 1, buf + len - (nl + 1), stdout);
	return nr ? nr : -EINVAL;
}

static bool forward_output(int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n > 0) {
		fwrite(buf, 1, n, stdout);
		return true;
	}
	return n < 0 && errno == EINTR;
}

static int copy_file(const char *from, const char *to)
{
	char buf[8192];
	FILE *in = fopen(from, "r"), *out;
	size_t n;

	if (!in)
		return -errno;
	out = fopen(to, "w");
	if (!out) {
		fclose(in);
		return -errno;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	return fclose(out) ? -errno : 0;
}

static uint64_t rusage_ns(const struct rusage *ru)
{
	return (uint64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000000000ull +
	       (uint64_t)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) * 1000ull;
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: swprof_driver [--mode cpu|offcpu|wall] -F HZ | --period-ns NS [--kernel | --no-stacks]\n"
		"                     [--raw BYTES] [--ring BYTES] [--drain-ms MS] [--no-drain]\n"
		"                     [--stacks FILE] [--maps FILE] -- CMD [ARGS...]\n"
		"  (--mode offcpu ignores -F and --period-ns)\n");
}

static void die_child(struct child *ch)
{
	if (ch->pid > 0) {
		kill(ch->pid, SIGKILL);
		waitpid(ch->pid, NULL, 0);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "freq", required_argument, NULL, 'F' },
		{ "kernel", no_argument, NULL, 'k' },
		{ "no-stacks", no_argument, NULL, 'N' },
		{ "raw", required_argument, NULL, 'r' },
		{ "ring", required_argument, NULL, 'R' },
		{ "drain-ms", required_argument, NULL, 'd' },
		{ "no-drain", no_argument, NULL, 'n' },
		{ "stacks", required_argument, NULL, 's' },
		{ "maps", required_argument, NULL, 'm' },
		{ "mode", required_argument, NULL, 'M' },
		{ "period-ns", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	unsigned long long period_ns = 0;
	const char *mode_name = "cpu";
	__u32 mode = SWPROF_MODE_CPU;
	unsigned long hz = 0, raw = 0, ring = 1 << 20, drain_ms = 100;
	const char *stacks_path = NULL, *maps_path = NULL;
	bool kstack = false, ustack = true, child_done = false, out_open = true, no_drain = false;
	static struct target_ctx tcs[MAX_THREADS];
	static pid_t tids[MAX_THREADS];
	struct epoll_event ev, evs[MAX_EVENTS];
	struct totals tot = {};
	struct swprof_global_stats gs;
	struct child ch = { .pid = -1 };
	struct swprof *sw = NULL;
	struct rusage ru0, ru1;
	int c, i, n, nr, err, ep, sfd, tfd, status = 0, exit_code = 1;
	uint64_t faults = 0, misses = 0, utrunc = 0, gaps = 0, seq_bad = 0, pending = 0;
	char **cargv;
	sigset_t set;

	while ((c = getopt_long(argc, argv, "+F:h", opts, NULL)) != -1) {
		switch (c) {
		case 'F': hz = strtoul(optarg, NULL, 0); break;
		case 'k': kstack = true; break;
		case 'N': ustack = false; kstack = false; break;	/* the interrupted IP only */
		case 'r': raw = strtoul(optarg, NULL, 0); break;
		case 'R': ring = strtoul(optarg, NULL, 0); break;
		case 'd': drain_ms = strtoul(optarg, NULL, 0); break;
		case 'n': no_drain = true; break;
		case 's': stacks_path = optarg; break;
		case 'm': maps_path = optarg; break;
		case 'M': mode_name = optarg; break;
		case 'P': period_ns = strtoull(optarg, NULL, 0); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!strcmp(mode_name, "cpu")) {
		mode = SWPROF_MODE_CPU;
	} else if (!strcmp(mode_name, "offcpu")) {
		mode = SWPROF_MODE_OFFCPU;
	} else if (!strcmp(mode_name, "wall")) {
		mode = SWPROF_MODE_WALL;
	} else {
		fprintf(stderr, "swprof_driver: --mode wants cpu, offcpu or wall\n");
		return 2;
	}
	if (mode == SWPROF_MODE_OFFCPU) {
		hz = 0;
		period_ns = 0;
	} else {
		if (hz > 1000000000ul)
			hz = 0;
		if (!period_ns && hz)
			period_ns = 1000000000ull / hz;
		if (!period_ns) {
			usage(stderr);
			return 2;
		}
		if (!hz)
			hz = (unsigned long)(1000000000ull / period_ns);
	}
	if (optind >= argc || !drain_ms) {
		usage(stderr);
		return 2;
	}

	/* CMD --wait ARGS... */
	cargv = calloc(argc - optind + 2, sizeof(*cargv));
	if (!cargv)
		return 1;
	cargv[0] = argv[optind];
	cargv[1] = "--wait";
	for (i = optind + 1; i < argc; i++)
		cargv[i - optind + 1] = argv[i];

	err = swprof_open(NULL, &sw);
	if (err) {
		fprintf(stderr, "swprof_driver: cannot open %s: %s (is swprof.ko loaded?)\n",
			SWPROF_DEVICE, swprof_strerror(err));
		return 1;
	}
	err = swprof_reset_stats(sw);
	if (err) {
		fprintf(stderr, "swprof_driver: cannot reset the module's statistics: %s\n",
			swprof_strerror(err));
		goto out;
	}

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (sfd < 0 || ep < 0 || tfd < 0) {
		perror("swprof_driver: signalfd/epoll/timerfd");
		goto out;
	}

	err = spawn(cargv, &ch);
	if (err) {
		fprintf(stderr, "swprof_driver: cannot start %s: %s\n", cargv[0], strerror(-err));
		goto out;
	}
	nr = read_tids(&ch, tids, MAX_THREADS);
	if (nr < 0) {
		fprintf(stderr, "swprof_driver: %s did not print its thread ids (%s): does it take --wait?\n",
			cargv[0], strerror(-nr));
		goto fail_child;
	}
	if (maps_path) {
		char p[64];

		snprintf(p, sizeof(p), "/proc/%d/maps", ch.pid);
		err = copy_file(p, maps_path);
		if (err)
			fprintf(stderr, "swprof_driver: cannot copy %s to %s: %s\n", p, maps_path,
				strerror(-err));
	}

	for (i = 0; i < nr; i++) {
		SWPROF_OPTS(swprof_target_opts, o,
			.tid = (__u32)tids[i],
			.mode = mode,
			.flags = SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE |
				 (kstack ? SWPROF_TARGET_KSTACK : 0),
			.max_user_depth = ustack ? 0 : 1,
			.period_ns = period_ns,
			.min_block_ns = 0,
			.ring_size = (__u32)ring,
			.wakeup_bytes = (__u32)(ring / 4),
			.raw_stack_size = (__u32)raw,
		);

		err = swprof_register(sw, &o, &tcs[i].t);
		if (err) {
			fprintf(stderr, "swprof_driver: cannot register thread %d: %s\n", tids[i],
				swprof_strerror(err));
			goto fail_child;
		}
		swprof_seq_tracker_init(&tcs[i].seq);
		if (no_drain)
			continue;
		ev.events = EPOLLIN;
		ev.data.ptr = &tcs[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, swprof_target_fd(tcs[i].t), &ev)) {
			perror("swprof_driver: epoll_ctl");
			goto fail_child;
		}
		tcs[i].in_epoll = true;
	}

	ev.events = EPOLLIN;
	ev.data.ptr = &sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.ptr = &tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	ev.data.ptr = &ch.out_fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, ch.out_fd, &ev);
	if (!no_drain) {
		struct itimerspec its = {
			.it_interval = { drain_ms / 1000, (drain_ms % 1000) * 1000000 },
			.it_value = { drain_ms / 1000, (drain_ms % 1000) * 1000000 },
		};

		timerfd_settime(tfd, 0, &its, NULL);
	}

	getrusage(RUSAGE_SELF, &ru0);
	if (write(ch.in_fd, "g", 1) != 1) {
		perror("swprof_driver: cannot release the workload");
		goto fail_child;
	}
	close(ch.in_fd);
	ch.in_fd = -1;

	/* Until the child has exited and its output is all forwarded. */
	while (!child_done || out_open) {
		n = epoll_wait(ep, evs, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("swprof_driver: epoll_wait");
			goto fail_child;
		}
		tot.epoll_wakeups++;
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &sfd) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo != SIGCHLD) {
						kill(ch.pid, SIGTERM);
						continue;
					}
					if (!child_done && waitpid(ch.pid, &status, WNOHANG) == ch.pid)
						child_done = true;
				}
			} else if (p == &tfd) {
				uint64_t ticks;
				int k;

				if (read(tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
					continue;
				tot.timer_drains++;
				for (k = 0; k < nr; k++) {
					err = drain(&tcs[k], &tot);
					if (err)
						goto read_fail;
				}
			} else if (p == &ch.out_fd) {
				if (!forward_output(ch.out_fd)) {
					epoll_ctl(ep, EPOLL_CTL_DEL, ch.out_fd, NULL);
					out_open = false;
				}
			} else {
				struct target_ctx *tc = p;

				tot.ring_wakeups++;
				err = drain(tc, &tot);
				if (err)
					goto read_fail;
				/* exited and drained: level-triggered HUP would spin */
				if ((evs[i].events & EPOLLHUP) && tc->in_epoll) {
					epoll_ctl(ep, EPOLL_CTL_DEL, swprof_target_fd(tc->t), NULL);
					tc->in_epoll = false;
				}
			}
		}
	}
	for (i = 0; i < nr; i++) {
		struct swprof_target_stats ts;

		err = drain(&tcs[i], &tot);
		if (err)
			goto read_fail;
		swprof_seq_tracker_finish(&tcs[i].seq, tcs[i].t);
		gaps += tcs[i].seq.gaps;
		seq_bad += tcs[i].seq.bad;
		pending += tcs[i].seq.lost_pending;
		if (!swprof_target_stats(tcs[i].t, &ts)) {
			faults += ts.faults;
			misses += ts.timer_misses;
			utrunc += ts.utrunc;
		}
	}
	getrusage(RUSAGE_SELF, &ru1);

	memset(&gs, 0, sizeof(gs));
	err = swprof_global_stats(sw, &gs);
	if (err) {
		fprintf(stderr, "swprof_driver: cannot read the module's statistics: %s\n",
			swprof_strerror(err));
		goto out;
	}
	fflush(stdout);
	printf("swprof_driver: mode=%s period_ns=%llu threads=%d hz=%lu kernel=%d raw=%lu ring=%lu no_drain=%d"
	       " samples=%llu offcpu_records=%llu offcpu_ns=%llu lost=%llu lost_pending=%llu bytes=%llu stacks=%zu other_records=%llu"
	       " bad_records=%llu seq_gaps=%llu seq_bad=%llu faults=%llu utrunc=%llu"
	       " timer_misses=%llu epoll_wakeups=%llu ring_wakeups=%llu timer_drains=%llu"
	       " drains_with_data=%llu driver_cpu_ns=%llu"
	       " module_samples=%llu module_lost=%llu module_timer_misses=%llu"
	       " cost_count=%llu cost_mean_ns=%llu cost_p50_ns=%llu cost_p99_ns=%llu\n",
	       mode_name, period_ns, nr, hz, kstack, raw, ring, no_drain,
	       (unsigned long long)tot.samples, (unsigned long long)tot.offcpu,
	       (unsigned long long)tot.offcpu_ns, (unsigned long long)tot.lost,
	       (unsigned long long)pending, (unsigned long long)tot.bytes, tot.stacks.used,
	       (unsigned long long)tot.other, (unsigned long long)tot.bad,
	       (unsigned long long)gaps, (unsigned long long)seq_bad,
	       (unsigned long long)faults, (unsigned long long)utrunc,
	       (unsigned long long)misses, (unsigned long long)tot.epoll_wakeups,
	       (unsigned long long)tot.ring_wakeups, (unsigned long long)tot.timer_drains,
	       (unsigned long long)tot.drains_with_data,
	       (unsigned long long)(rusage_ns(&ru1) - rusage_ns(&ru0)),
	       (unsigned long long)gs.samples, (unsigned long long)gs.lost,
	       (unsigned long long)gs.timer_misses, (unsigned long long)gs.cost_count,
	       (unsigned long long)(gs.cost_count ? gs.cost_total_ns / gs.cost_count : 0),
	       (unsigned long long)swprof_cost_percentile(&gs, 50),
	       (unsigned long long)swprof_cost_percentile(&gs, 99));
	fflush(stdout);
	if (stacks_path) {
		err = stack_table_dump(&tot.stacks, stacks_path);
		if (err)
			fprintf(stderr, "swprof_driver: cannot write %s: %s\n", stacks_path,
				strerror(-err));
	}
	exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	goto out;

read_fail:
	fprintf(stderr, "swprof_driver: reading a ring failed: %s\n", swprof_strerror(err));
fail_child:
	if (!child_done)
		die_child(&ch);
out:
	for (i = 0; i < MAX_THREADS; i++)
		swprof_target_free(tcs[i].t);
	swprof_close(sw);
	return exit_code;
}
