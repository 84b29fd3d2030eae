// SPDX-License-Identifier: GPL-2.0-only
/*
 * libc_block PHASE_SECONDS STATS_FILE [PHASE...]: block in Debian's libc
 * (no frame pointers) from known application functions, one phase after
 * the other, each phase in its own named thread (so that swctl record
 * --by-thread puts it under its own root "NAME-TID"):
 *
 *   phase      thread      app function      blocks in
 *   nanosleep  b_nanosleep app_nanosleep     nanosleep(10 ms)
 *   select     b_select    app_select        select() on an idle pipe, 10 ms timeout
 *   poll       b_poll      app_poll          poll() on an idle pipe, 10 ms timeout
 *   read       b_read      app_read          read() of a pipe that h_feeder feeds a
 *                                            byte every 10 ms
 *   mutex      b_mutex     app_mutex_lock    pthread_mutex_lock() of a mutex that
 *                                            h_holder holds 10 ms at a time
 *   fprintf    b_fprintf   app_fprintf       fprintf() of 16 KiB to an unbuffered
 *                                            stream on a 4 KiB pipe that h_drainer
 *                                            drains 4 KiB every 10 ms: the write(2)
 *                                            blocks inside fprintf's own call chain
 *
 * The application code has frame pointers (selftests/Makefile); libc has
 * none.  For each phase, STATS_FILE gets one line
 *
 *   PHASE THREAD APP_FN calls N in_call_ns W in_call_cpu_ns C thread_ns T
 *
 * W: wall time spent inside APP_FN's calls, C: the thread's CPU time in
 * them (so W - C is the time it was off CPU there), T: the thread's life
 * from its start routine's first line to its last.  selftests/stacks-in-guest
 * compares swctl's offcpu and wall profiles with these.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#define FN __attribute__((noinline, noclone, used))
#define NOTAIL() __asm__ volatile("" ::: "memory")
#define STEP_NS 10000000L	/* 10 ms: every block's length */

static double phase_seconds = 0.4;
static FILE *stats;
static atomic_int stop;		/* helpers: the phase's thread is done */

static long clk(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static long now_ns(void) { return clk(CLOCK_MONOTONIC); }
static long cpu_ns(void) { return clk(CLOCK_THREAD_CPUTIME_ID); }

struct acct {
	const char *phase, *thread, *fn;
	long calls, in_call_ns, in_call_cpu_ns, t0;
	long w, c;	/* at the start of the current call */
};

static void acct_start(struct acct *a, const char *phase, const char *thread, const char *fn)
{
	memset(a, 0, sizeof(*a));
	a->phase = phase;
	a->thread = thread;
	a->fn = fn;
	pthread_setname_np(pthread_self(), thread);
	a->t0 = now_ns();
}

static inline void call_begin(struct acct *a)
{
	a->w = now_ns();
	a->c = cpu_ns();
}

static inline void call_end(struct acct *a)
{
	a->in_call_cpu_ns += cpu_ns() - a->c;
	a->in_call_ns += now_ns() - a->w;
	a->calls++;
}

static void acct_done(struct acct *a)
{
	long t = now_ns() - a->t0;

	fprintf(stats, "%s %s %s calls %ld in_call_ns %ld in_call_cpu_ns %ld thread_ns %ld\n",
		a->phase, a->thread, a->fn, a->calls, a->in_call_ns, a->in_call_cpu_ns, t);
	fflush(stats);
}

static long phase_end(void)
{
	return now_ns() + (long)(phase_seconds * 1e9);
}

/* Helpers sleep in their own functions, never in an app_* one. */
FN static void helper_nap(long ns)
{
	struct timespec ts = { 0, ns };

	nanosleep(&ts, NULL);
	NOTAIL();
}

/* ---- the application functions: each makes the one blocking libc call */

FN int app_nanosleep(void)
{
	struct timespec ts = { 0, STEP_NS };
	int r = nanosleep(&ts, NULL);

	NOTAIL();
	return r;
}

FN int app_select(int fd)
{
	struct timeval tv = { 0, STEP_NS / 1000 };
	fd_set rs;
	int r;

	FD_ZERO(&rs);
	FD_SET(fd, &rs);
	r = select(fd + 1, &rs, NULL, NULL, &tv);
	NOTAIL();
	return r;
}

FN int app_poll(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, STEP_NS / 1000000);

	NOTAIL();
	return r;
}

FN long app_read(int fd, char *buf, size_t n)
{
	long r = read(fd, buf, n);

	NOTAIL();
	return r;
}

FN int app_mutex_lock(pthread_mutex_t *m)
{
	int r = pthread_mutex_lock(m);

	NOTAIL();
	return r;
}

FN int app_fprintf(FILE *f, const char *s)
{
	int r = fprintf(f, "%s\n", s);

	NOTAIL();
	return r;
}

/* ---- the phases */

static void *run_nanosleep(void *arg)
{
	struct acct a;
	long end;

	acct_start(&a, "nanosleep", "b_nanosleep", "app_nanosleep");
	end = phase_end();
	while (now_ns() < end) {
		call_begin(&a);
		app_nanosleep();
		call_end(&a);
	}
	acct_done(&a);
	return NULL;
}

static int idle_pipe[2];

static void *run_select(void *arg)
{
	struct acct a;
	long end;

	acct_start(&a, "select", "b_select", "app_select");
	end = phase_end();
	while (now_ns() < end) {
		call_begin(&a);
		app_select(idle_pipe[0]);
		call_end(&a);
	}
	acct_done(&a);
	return NULL;
}

static void *run_poll(void *arg)
{
	struct acct a;
	long end;

	acct_start(&a, "poll", "b_poll", "app_poll");
	end = phase_end();
	while (now_ns() < end) {
		call_begin(&a);
		app_poll(idle_pipe[0]);
		call_end(&a);
	}
	acct_done(&a);
	return NULL;
}

static int data_pipe[2];

static void *feeder(void *arg)	/* a byte every 10 ms, then EOF */
{
	long end = phase_end();

	pthread_setname_np(pthread_self(), "h_feeder");
	while (now_ns() < end) {
		helper_nap(STEP_NS);
		if (write(data_pipe[1], "x", 1) != 1)
			break;
	}
	close(data_pipe[1]);
	return NULL;
}

static void *run_read(void *arg)
{
	struct acct a;
	char c;
	long r;

	acct_start(&a, "read", "b_read", "app_read");
	do {
		call_begin(&a);
		r = app_read(data_pipe[0], &c, 1);
		call_end(&a);
	} while (r > 0);
	acct_done(&a);
	return NULL;
}

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static atomic_long held_gen;

static void *holder(void *arg)	/* holds the mutex 10 ms, lets go 2 ms */
{
	pthread_setname_np(pthread_self(), "h_holder");
	while (!atomic_load(&stop)) {
		pthread_mutex_lock(&mtx);
		atomic_fetch_add(&held_gen, 1);
		helper_nap(STEP_NS);
		pthread_mutex_unlock(&mtx);
		helper_nap(STEP_NS / 5);
	}
	return NULL;
}

/* spin (no block) until the holder has taken the mutex again */
FN static void wait_held(long seen)
{
	while (atomic_load(&held_gen) == seen && !atomic_load(&stop))
		__builtin_ia32_pause();
}

static void *run_mutex(void *arg)
{
	struct acct a;
	long end, seen = 0;

	acct_start(&a, "mutex", "b_mutex", "app_mutex_lock");
	end = phase_end();
	while (now_ns() < end) {
		wait_held(seen);
		seen = atomic_load(&held_gen);
		call_begin(&a);
		app_mutex_lock(&mtx);
		call_end(&a);
		pthread_mutex_unlock(&mtx);
	}
	acct_done(&a);
	atomic_store(&stop, 1);
	return NULL;
}

static int print_pipe[2];

static void *drainer(void *arg)	/* 4 KiB every 10 ms while the writer writes, then all */
{
	static char buf[4096];

	pthread_setname_np(pthread_self(), "h_drainer");
	for (;;) {
		if (!atomic_load(&stop))
			helper_nap(STEP_NS);
		if (read(print_pipe[0], buf, sizeof(buf)) <= 0)
			break;
	}
	return NULL;
}

static void *run_fprintf(void *arg)
{
	static char text[16384];
	struct acct a;
	long end;
	FILE *f;

	memset(text, 'x', sizeof(text) - 1);
	f = fdopen(print_pipe[1], "w");
	if (!f || setvbuf(f, NULL, _IONBF, 0))
		exit(3);
	acct_start(&a, "fprintf", "b_fprintf", "app_fprintf");
	end = phase_end();
	while (now_ns() < end) {
		call_begin(&a);
		app_fprintf(f, text);
		call_end(&a);
	}
	acct_done(&a);
	atomic_store(&stop, 1);
	fclose(f);
	return NULL;
}

static void run_phase(const char *name)
{
	pthread_t t, h = 0;

	atomic_store(&stop, 0);
	if (!strcmp(name, "nanosleep")) {
		pthread_create(&t, NULL, run_nanosleep, NULL);
	} else if (!strcmp(name, "select")) {
		pthread_create(&t, NULL, run_select, NULL);
	} else if (!strcmp(name, "poll")) {
		pthread_create(&t, NULL, run_poll, NULL);
	} else if (!strcmp(name, "read")) {
		if (pipe(data_pipe))
			exit(3);
		pthread_create(&h, NULL, feeder, NULL);
		pthread_create(&t, NULL, run_read, NULL);
	} else if (!strcmp(name, "mutex")) {
		pthread_create(&h, NULL, holder, NULL);
		pthread_create(&t, NULL, run_mutex, NULL);
	} else if (!strcmp(name, "fprintf")) {
		if (pipe(print_pipe) || fcntl(print_pipe[1], F_SETPIPE_SZ, 4096) < 0)
			exit(3);
		pthread_create(&h, NULL, drainer, NULL);
		pthread_create(&t, NULL, run_fprintf, NULL);
	} else {
		fprintf(stderr, "libc_block: unknown phase %s\n", name);
		exit(2);
	}
	pthread_join(t, NULL);
	if (h)
		pthread_join(h, NULL);
	if (!strcmp(name, "read"))
		close(data_pipe[0]);
	if (!strcmp(name, "fprintf"))
		close(print_pipe[0]);
}

int main(int argc, char **argv)
{
	static const char *all[] = { "nanosleep", "select", "poll", "read", "mutex", "fprintf" };
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: libc_block PHASE_SECONDS STATS_FILE [PHASE...]\n");
		return 2;
	}
	phase_seconds = atof(argv[1]);
	stats = fopen(argv[2], "w");
	if (!stats || pipe(idle_pipe))
		return 3;
	/*
	 * The phases measure blocking calls in a running process, not its first
	 * milliseconds: a profiler started with it (swctl record -- CMD) learns
	 * of the libraries the loader maps only after they are mapped, and
	 * until their tables are in the module the walk is by frame pointers.
	 * stacks-in-guest measures that start-up window on its own.
	 */
	usleep(300000);
	if (argc > 3)
		for (i = 3; i < argc; i++)
			run_phase(argv[i]);
	else
		for (i = 0; i < (int)(sizeof(all) / sizeof(all[0])); i++)
			run_phase(all[i]);
	fclose(stats);
	return 0;
}
