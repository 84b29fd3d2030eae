// SPDX-License-Identifier: GPL-2.0-only
/*
 * OFFCPU and WALL modes: off-CPU durations of known blocks (nanosleep,
 * futex wait, pipe read) with their stacks and states, preemption not
 * counted, the minimum block duration, and wall-clock samples of a thread
 * that alternates spinning and sleeping.
 */
#include <poll.h>
#include <sched.h>

#include "common.h"
#include "blocking.h"
#include "kselftest_harness.h"

#define MS 1000000ull
#define MAX_BLOCKS 16
/* CLOCK_MONOTONIC read by the module (fast accessor) and by the vDSO may differ by this much */
#define CLOCK_SLACK (200 * 1000ull)

enum blocker { NANOSLEEP, FUTEX, PIPE_READ };

struct block_arg {
	enum blocker how;
	int n;
	long ns;
	atomic_int tid;
	atomic_int go;
	int pipe[2];
	/* CLOCK_MONOTONIC around each block, and around each write of the pipe's writer */
	uint64_t before[MAX_BLOCKS], after[MAX_BLOCKS];
	uint64_t wbefore[MAX_BLOCKS], wafter[MAX_BLOCKS];
};

struct offcpu_seen {
	const struct block_arg *a;
	unsigned int records, in_block_fn, sleeping, with_kernel, cpu_samples;
	uint64_t total_ns, min_ns, max_ns;
	/* records that fit the bounds the user-space clock readings prove */
	unsigned int fits;
	char misfit[160];
};

/*
 * What a record of a block must satisfy whatever the host's load (a TCG vCPU
 * can stall anywhere, so durations alone prove little): the thread left the CPU
 * inside the call and came back before it returned; a timed sleep cannot end
 * before its timeout counted from the call's start; a pipe read cannot end
 * before the write that wakes it started, nor begin after that write ended.
 */
static bool fits_block(struct offcpu_seen *o, uint64_t out, uint64_t in)
{
	const struct block_arg *a = o->a;
	int i;

	for (i = 0; i < a->n; i++) {
		if (out + CLOCK_SLACK < a->before[i] || in > a->after[i] + CLOCK_SLACK)
			continue;
		if (a->how == PIPE_READ) {
			int j;

			for (j = 0; j < a->n; j++)
				if (in + CLOCK_SLACK >= a->wbefore[j] &&
				    out <= a->wafter[j] + CLOCK_SLACK)
					return true;
		} else if (in + CLOCK_SLACK >= a->before[i] + a->ns) {
			return true;
		}
		if (!o->misfit[0])
			snprintf(o->misfit, sizeof(o->misfit),
				 "block %d: call 0..%.3f ms, off-CPU %.3f..%.3f ms (from the call's start)",
				 i, (a->after[i] - a->before[i]) / 1e6,
				 ((int64_t)out - (int64_t)a->before[i]) / 1e6,
				 ((int64_t)in - (int64_t)a->before[i]) / 1e6);
		return false;
	}
	if (!o->misfit[0])
		snprintf(o->misfit, sizeof(o->misfit), "off-CPU %.3f ms at %llu matches no call",
			 (in - out) / 1e6, (unsigned long long)out);
	return false;
}

static int offcpu_cb(void *ctx, const struct swprof_rec *rec)
{
	struct offcpu_seen *o = ctx;
	const struct swprof_sample *s = (const void *)rec;
	const __u64 *ips;

	if (rec->type == SWPROF_REC_SAMPLE)
		o->cpu_samples++;
	if (rec->type != SWPROF_REC_OFFCPU || !swprof_rec_valid(rec))
		return 0;
	ips = swprof_sample_ips(s);
	o->records++;
	if (!s->nr_user || !in_block_fns(ips[s->nr_kernel]))
		return 0;	/* the thread's own waiting and exit: not the blocks under test */
	o->in_block_fn++;
	o->total_ns += s->period_ns;
	if (!o->min_ns || s->period_ns < o->min_ns)
		o->min_ns = s->period_ns;
	if (s->period_ns > o->max_ns)
		o->max_ns = s->period_ns;
	if (rec->flags == SWPROF_STATE_SLEEPING)
		o->sleeping++;
	if (s->nr_kernel)
		o->with_kernel++;
	/* the record is written at switch-in; period_ns is how long it was off */
	if (fits_block(o, rec->time_ns - s->period_ns, rec->time_ns))
		o->fits++;
	return 0;
}

static void *blocker_main(void *p)
{
	struct block_arg *a = p;
	int i, word = 0;
	char c;

	atomic_store(&a->tid, gettid_());
	while (!atomic_load(&a->go))
		usleep(1000);
	for (i = 0; i < a->n; i++) {
		a->before[i] = mono_ns();
		switch (a->how) {
		case NANOSLEEP:
			block_nanosleep(a->ns);
			break;
		case FUTEX:
			block_futex(&word, a->ns);	/* nobody wakes it: it times out */
			break;
		case PIPE_READ:
			block_read(a->pipe[0], &c, 1);
			break;
		}
		a->after[i] = mono_ns();
	}
	return NULL;
}

static void *pipe_writer(void *p)
{
	struct block_arg *a = p;
	int i;

	while (!atomic_load(&a->go))
		usleep(1000);
	for (i = 0; i < a->n; i++) {
		usleep(a->ns / 1000);
		a->wbefore[i] = mono_ns();
		if (write(a->pipe[1], "x", 1) != 1)
			break;
		a->wafter[i] = mono_ns();
	}
	return NULL;
}

static void run_offcpu(struct __test_metadata *_metadata, enum blocker how, int n, long ns,
		       uint64_t min_block, struct offcpu_seen *o)
{
	struct swprof *sw;
	struct swprof_target *t;
	struct block_arg *a;
	pthread_t th, wr;
	uint64_t slow = 0;
	int err, i;

	ASSERT_LE(n, MAX_BLOCKS);
	a = calloc(1, sizeof(*a));
	ASSERT_NE(NULL, a);
	a->how = how;
	a->n = n;
	a->ns = ns;
	ASSERT_EQ(0, swprof_open(NULL, &sw));
	ASSERT_TRUE(swprof_has_feature(sw, SWPROF_FEAT_MODE_OFFCPU));
	if (how == PIPE_READ)
		ASSERT_EQ(0, pipe(a->pipe));
	pthread_create(&th, NULL, blocker_main, a);
	if (how == PIPE_READ)
		pthread_create(&wr, NULL, pipe_writer, a);
	while (!atomic_load(&a->tid))
		usleep(1000);
	SWPROF_OPTS(swprof_target_opts, opts,
		.tid = a->tid,
		.mode = SWPROF_MODE_OFFCPU,
		.flags = SWPROF_TARGET_USTACK | SWPROF_TARGET_KSTACK | SWPROF_TARGET_ENABLE,
		.ring_size = 1 << 18,
		.min_block_ns = min_block,
	);
	err = swprof_register(sw, &opts, &t);
	ASSERT_EQ(0, err) TH_LOG("register: %s", swprof_strerror(err));
	atomic_store(&a->go, 1);
	pthread_join(th, NULL);
	if (how == PIPE_READ) {
		pthread_join(wr, NULL);
		close(a->pipe[0]);
		close(a->pipe[1]);
	}
	memset(o, 0, sizeof(*o));
	o->a = a;
	swprof_target_read(t, offcpu_cb, o, 0);
	for (i = 0; i < n; i++)
		if (a->after[i] - a->before[i] > slow)
			slow = a->after[i] - a->before[i];
	TH_LOG("%u records, total %.1f ms, min %.1f max %.1f ms (calls took up to %.1f ms), "
	       "in the blocking function %u, within their calls' bounds %u, S %u, kernel frames %u",
	       o->records, o->total_ns / 1e6, o->min_ns / 1e6, o->max_ns / 1e6, slow / 1e6,
	       o->in_block_fn, o->fits, o->sleeping, o->with_kernel);
	if (o->fits != o->in_block_fn)
		TH_LOG("first misfit: %s", o->misfit);
	swprof_target_free(t);
	swprof_close(sw);
}

/* How many calls took at least ns, by the user-space clock. */
static unsigned int calls_at_least(const struct block_arg *a, uint64_t ns)
{
	unsigned int k = 0;
	int i;

	for (i = 0; i < a->n; i++)
		k += a->after[i] - a->before[i] >= ns;
	return k;
}

/*
 * One record per block, each inside its own call and no shorter than the
 * timeout allows (fits_block); the total no longer than the calls took.
 */
static void check_blocks(struct __test_metadata *_metadata, struct offcpu_seen *o, int n)
{
	const struct block_arg *a = o->a;
	uint64_t calls = 0;
	int i;

	for (i = 0; i < n; i++)
		calls += a->after[i] - a->before[i];
	EXPECT_EQ(o->in_block_fn, n);
	EXPECT_EQ(o->fits, o->in_block_fn);
	EXPECT_LE(o->total_ns, calls + CLOCK_SLACK);
	EXPECT_GE(o->sleeping, n);
	EXPECT_GE(o->with_kernel, n);
	EXPECT_EQ(0, o->cpu_samples);
}

TEST(offcpu_nanosleep)
{
	struct offcpu_seen o;

	run_offcpu(_metadata, NANOSLEEP, 10, 50 * MS, 0, &o);
	check_blocks(_metadata, &o, 10);
	free((void *)o.a);
}

TEST(offcpu_futex_wait)
{
	struct offcpu_seen o;

	run_offcpu(_metadata, FUTEX, 8, 40 * MS, 0, &o);
	check_blocks(_metadata, &o, 8);
	free((void *)o.a);
}

TEST(offcpu_pipe_read)
{
	struct offcpu_seen o;

	/* the writer sleeps 30 ms between bytes: each read blocks until a write */
	run_offcpu(_metadata, PIPE_READ, 8, 30 * MS, 0, &o);
	check_blocks(_metadata, &o, 8);
	free((void *)o.a);
}

TEST(offcpu_min_block)
{
	struct offcpu_seen o;
	unsigned int longer;

	/* 20 ms sleeps, 60 ms minimum: none is kept unless the VM stalled one past 60 ms */
	run_offcpu(_metadata, NANOSLEEP, 6, 20 * MS, 60 * MS, &o);
	longer = calls_at_least(o.a, 60 * MS);
	EXPECT_LE(o.in_block_fn, longer);
	if (o.in_block_fn)
		EXPECT_GE(o.min_ns, 60 * MS);
	free((void *)o.a);
	run_offcpu(_metadata, NANOSLEEP, 4, 80 * MS, 60 * MS, &o);
	EXPECT_EQ(4, o.in_block_fn);
	EXPECT_EQ(o.fits, o.in_block_fn);
	EXPECT_GE(o.min_ns, 60 * MS);
	free((void *)o.a);
}

/* Two spinners pinned to one CPU preempt each other: that is not off-CPU time. */
static atomic_int hog_stop;

static void *hog(void *arg)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	*(atomic_int *)arg = gettid_();
	while (!atomic_load(&hog_stop))
		chain_sink++;
	return NULL;
}

static unsigned long nonvoluntary(pid_t tid)
{
	char path[64], line[128];
	unsigned long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "nonvoluntary_ctxt_switches: %lu", &n);
	fclose(f);
	return n;
}

TEST(offcpu_preemption_not_counted)
{
	struct swprof *sw;
	struct swprof_target *t;
	struct offcpu_seen o = {};
	atomic_int tid1 = 0, tid2 = 0;
	pthread_t a, b;
	unsigned long before;

	ASSERT_EQ(0, swprof_open(NULL, &sw));
	atomic_store(&hog_stop, 0);
	pthread_create(&a, NULL, hog, &tid1);
	pthread_create(&b, NULL, hog, &tid2);
	while (!atomic_load(&tid1) || !atomic_load(&tid2))
		usleep(1000);
	SWPROF_OPTS(swprof_target_opts, opts,
		.tid = tid1,
		.mode = SWPROF_MODE_OFFCPU,
		.flags = SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE,
	);
	ASSERT_EQ(0, swprof_register(sw, &opts, &t));
	before = nonvoluntary(tid1);
	usleep(500000);
	TH_LOG("preempted %lu times meanwhile", nonvoluntary(tid1) - before);
	EXPECT_GT(nonvoluntary(tid1) - before, 5);
	swprof_target_read(t, offcpu_cb, &o, 0);
	EXPECT_EQ(0, o.records);
	atomic_store(&hog_stop, 1);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	swprof_target_free(t);
	swprof_close(sw);
}

/* WALL: 50 ms spinning, 50 ms sleeping: both stacks, in about equal shares. */
extern char __start_swprof_wspin[], __stop_swprof_wspin[];
static atomic_int wall_stop;

static volatile uint64_t ticker_ns;	/* the time, kept by a ticker thread */

static void *ticker(void *arg)
{
	while (!atomic_load(&wall_stop)) {
		ticker_ns = mono_ns();
		block_nanosleep(MS / 2);
	}
	return NULL;
}

/* Spins without calling anything, so every running sample has it as its leaf. */
__attribute__((noinline, noclone, used, section("swprof_wspin"))) static void wall_spin(uint64_t ns)
{
	uint64_t end = ticker_ns + ns;

	/* the ticker stops with wall_stop: do not wait for it then */
	while (ticker_ns < end && !atomic_load_explicit(&wall_stop, memory_order_relaxed))
		chain_sink++;
}

static void *alternate(void *arg)
{
	*(atomic_int *)arg = gettid_();
	while (!atomic_load(&wall_stop)) {
		wall_spin(50 * MS);
		block_nanosleep(50 * MS);
	}
	return NULL;
}

struct wall_seen {
	unsigned int samples, spin_running, sleep_sleeping, snapshot, other;
	uint64_t period_sum;
};

static int wall_cb(void *ctx, const struct swprof_rec *rec)
{
	struct wall_seen *w = ctx;
	const struct swprof_sample *s = (const void *)rec;
	const __u64 *u;

	if (rec->type != SWPROF_REC_SAMPLE || !swprof_rec_valid(rec))
		return 0;
	w->samples++;
	w->period_sum += s->period_ns;
	if (s->flags & SWPROF_SAMPLE_SNAPSHOT)
		w->snapshot++;
	u = swprof_sample_ips(s) + s->nr_kernel;
	if (!s->nr_user)
		w->other++;
	else if (rec->flags == SWPROF_STATE_RUNNING &&
		 u[0] >= (uintptr_t)__start_swprof_wspin && u[0] < (uintptr_t)__stop_swprof_wspin)
		w->spin_running++;
	else if (rec->flags == SWPROF_STATE_SLEEPING && in_block_fns(u[0]))
		w->sleep_sleeping++;
	else
		w->other++;
	return 0;
}

TEST(wall_spin_and_sleep)
{
	struct swprof *sw;
	struct swprof_target *t;
	struct wall_seen w = {};
	atomic_int tid = 0;
	pthread_t th;

	ASSERT_EQ(0, swprof_open(NULL, &sw));
	ASSERT_TRUE(swprof_has_feature(sw, SWPROF_FEAT_MODE_WALL));
	pthread_t tk;

	atomic_store(&wall_stop, 0);
	ticker_ns = mono_ns();
	pthread_create(&tk, NULL, ticker, NULL);
	pthread_create(&th, NULL, alternate, &tid);
	while (!atomic_load(&tid))
		usleep(1000);
	SWPROF_OPTS(swprof_target_opts, opts,
		.tid = tid,
		.mode = SWPROF_MODE_WALL,
		.flags = SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE,
		.period_ns = 10 * MS,
		.ring_size = 1 << 20,
	);
	ASSERT_EQ(0, swprof_register(sw, &opts, &t));
	usleep(2000000);
	swprof_target_disable(t);
	atomic_store(&wall_stop, 1);
	pthread_join(th, NULL);
	pthread_join(tk, NULL);
	swprof_target_read(t, wall_cb, &w, 0);
	TH_LOG("%u samples over %.2f s: spinning %u, sleeping %u (snapshots %u), other %u, misses %llu",
	       w.samples, w.period_sum / 1e9, w.spin_running, w.sleep_sleeping, w.snapshot, w.other,
	       (unsigned long long)swprof_target_header(t)->timer_misses);
	/* one sample per 10 ms of wall time: 2 s give ~200 (TCG timers are late, not early) */
	EXPECT_GE(w.samples, 120);
	EXPECT_LE(w.samples, 210);
	EXPECT_GE(w.spin_running * 100, w.samples * 30);
	EXPECT_GE(w.sleep_sleeping * 100, w.samples * 30);
	EXPECT_GE((w.spin_running + w.sleep_sleeping) * 100, w.samples * 85);
	EXPECT_GE(w.snapshot, w.sleep_sleeping);
	swprof_target_free(t);
	swprof_close(sw);
}

TEST_HARNESS_MAIN
