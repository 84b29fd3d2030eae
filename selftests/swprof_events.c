// SPDX-License-Identifier: GPL-2.0-only
/*
 * Netlink events end to end: subscribe with libswprof and provoke what the
 * module sends for CPU-mode targets: RING_WATERMARK and SAMPLES_LOST (a
 * 4096-byte ring on a spinning thread nobody reads: once per burst), and
 * TARGET_EXITED (once per target, to every listener).  Also: joining needs
 * CAP_NET_ADMIN, a listener that does not read gets ENOBUFS, nothing is
 * dropped in the module's queue; and with trace sessions, TARGET_ADDED and
 * TRACE_TASK_ENDED with strings at their longest.
 *
 * With SWPROF_EVENTS_KO=path/to/swprof.ko in the environment, one more test
 * unloads and reloads the module 20 times (SWPROF_EVENTS_CYCLES) while
 * events flow and a listener stays subscribed, and checks that no socket
 * buffer is left behind; run-in-guest leaves it out (it needs the module
 * to itself).
 *
 * The selftests link libswprof.a alone; the events API needs libnl, which
 * libswprof.so brings along, so it is loaded from build/lib here (or from
 * SWPROF_LIBSO).  That also checks the shared library exports it.
 */
#include <grp.h>
#include <poll.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "common.h"
#include "events_dl.h"
#include "kselftest_harness.h"

/* Skip the tests that need events from the module when it has none. */
#define NEED_EVENTS(sw) do {						\
	if (!swprof_has_feature(sw, SWPROF_FEAT_EVENTS)) {		\
		swprof_close(sw);					\
		SKIP(return, "the module does not send events (no SWPROF_FEAT_EVENTS)"); \
	}								\
} while (0)

#define NCMD (__SWPROF_CMD_MAX + 1)

/* What a listener saw, of one thread's events (tid 0: of every thread). */
struct evlog {
	pid_t tid;
	pid_t other;			/* also count this thread's events */
	unsigned int other_n;
	unsigned int n[NCMD];		/* per cmd; unknown ones in [0] */
	unsigned int at[NCMD];		/* order of the last of each cmd */
	struct swprof_event last[NCMD];
	unsigned int order, total;
	int err;			/* first error swprof_events_read() returned */
};

static int evlog_add(void *ctx, const struct swprof_event *e)
{
	struct evlog *l = ctx;
	unsigned int c = e->cmd < __SWPROF_CMD_MAX ? e->cmd : 0;

	l->total++;
	if (l->other && e->tid == (__u32)l->other)
		l->other_n++;
	if (l->tid && e->tid != (__u32)l->tid)
		return 0;
	l->n[c]++;
	l->at[c] = ++l->order;
	l->last[c] = *e;
	return 0;
}

/*
 * Read for up to @ms, or until @cmd has been seen @want times (cmd 0: for
 * the whole time).  Returns how many @cmd were seen.
 */
static unsigned int evlog_wait(struct swprof_events *ev, struct evlog *l, int cmd,
			       unsigned int want, int ms)
{
	uint64_t end = mono_ns() + (uint64_t)ms * 1000000, now;
	struct pollfd p = { .fd = evl.fd(ev), .events = POLLIN };
	int rc;

	for (;;) {
		rc = evl.read(ev, evlog_add, l);
		if (rc < 0 && !l->err)
			l->err = rc;
		if (rc < 0 && rc != -ENOBUFS)
			break;
		if (cmd && l->n[cmd] >= want)
			break;
		now = mono_ns();
		if (now >= end)
			break;
		poll(&p, 1, (int)((end - now) / 1000000) + 1);
	}
	return cmd ? l->n[cmd] : 0;
}

static int reg(struct swprof *sw, pid_t tid, __u32 ring, __u64 period, struct swprof_target **t)
{
	SWPROF_OPTS(swprof_target_opts, o,
		.tid = tid,
		.mode = SWPROF_MODE_CPU,
		.flags = SWPROF_TARGET_USTACK | SWPROF_TARGET_ENABLE,
		.period_ns = period,
		.ring_size = ring,
		.max_user_depth = 16,
	);
	return swprof_register(sw, &o, t);
}

static int consume_all(void *ctx, const struct swprof_rec *rec)
{
	return 0;
}

TEST(subscribe)
{
	struct swprof_events *ev = NULL;
	struct evlog l = { 0 };
	int fd, err;

	LOAD_EVL();
	err = evl.open(NULL, &ev);
	ASSERT_EQ(0, err) TH_LOG("%s", evl.strerror(err));
	ASSERT_NE(NULL, ev);
	fd = evl.fd(ev);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
	/* nothing waiting, or someone else's events: never blocks, never fails */
	EXPECT_LE(0, evl.read(ev, evlog_add, &l));
	evl.close(ev);
	evl.close(NULL);
}

/* Child: drop CAP_NET_ADMIN (or become nobody) and try to join. */
static int join_without_net_admin(bool as_nobody)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	struct swprof_events *ev;

	if (as_nobody) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			return 10;
	} else {
		if (syscall(SYS_capget, &h, d))
			return 11;
		d[CAP_NET_ADMIN / 32].effective &= ~(1U << (CAP_NET_ADMIN % 32));
		if (syscall(SYS_capset, &h, d))
			return 12;
	}
	return evl.open(NULL, &ev) == -EPERM ? 0 : 1;
}

TEST(joining_needs_cap_net_admin)
{
	int i, status;
	pid_t pid;

	LOAD_EVL();
	for (i = 0; i < 2; i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			_exit(join_without_net_admin(i));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("%s: not EPERM",
							 i ? "nobody" : "root without CAP_NET_ADMIN");
	}
}

TEST(watermark_and_lost_once_per_burst)
{
	struct swprof_events *ev;
	struct swprof_target *t;
	struct spinner sp;
	struct swprof *sw;
	struct evlog l = { 0 };
	struct swprof_event *wm, *lost;
	__u64 lost1;

	LOAD_EVL();
	ASSERT_EQ(0, swprof_open(NULL, &sw));
	NEED_EVENTS(sw);
	ASSERT_EQ(0, evl.open(NULL, &ev));
	spinner_start(&sp);
	l.tid = atomic_load(&sp.tid);
	/* 4096 bytes: about 20 samples at 1 ms, and nobody reads */
	ASSERT_EQ(0, reg(sw, l.tid, 4096, 1000000, &t));

	EXPECT_EQ(1, evlog_wait(ev, &l, SWPROF_CMD_SAMPLES_LOST, 1, 20000));
	evlog_wait(ev, &l, 0, 0, 500);	/* the ring stays full: no more events */
	EXPECT_EQ(1, l.n[SWPROF_CMD_SAMPLES_LOST]);
	EXPECT_EQ(1, l.n[SWPROF_CMD_RING_WATERMARK]);
	EXPECT_EQ(0, l.n[SWPROF_CMD_TARGET_EXITED]);
	EXPECT_EQ(0, l.n[0]);
	EXPECT_EQ(0, l.err);
	/* 3/4 is passed before the ring is full */
	EXPECT_LT(l.at[SWPROF_CMD_RING_WATERMARK], l.at[SWPROF_CMD_SAMPLES_LOST]);

	wm = &l.last[SWPROF_CMD_RING_WATERMARK];
	EXPECT_EQ(getpid(), wm->pid);
	EXPECT_EQ(l.tid, wm->tid);
	EXPECT_EQ(4096, wm->ring_size);
	EXPECT_LE(3072, wm->unread);
	EXPECT_GE(4096, wm->unread);
	EXPECT_TRUE(wm->attrs & (1U << SWPROF_ATTR_UNREAD));
	EXPECT_TRUE(wm->attrs & (1U << SWPROF_ATTR_RING_SIZE));
	EXPECT_FALSE(wm->attrs & (1U << SWPROF_ATTR_LOST));
	lost = &l.last[SWPROF_CMD_SAMPLES_LOST];
	EXPECT_EQ(getpid(), lost->pid);
	EXPECT_EQ(l.tid, lost->tid);
	EXPECT_LE(1, lost->lost);
	EXPECT_TRUE(lost->attrs & (1U << SWPROF_ATTR_LOST));
	EXPECT_EQ(0, lost->task);
	lost1 = lost->lost;

	/* reading everything ends the burst: the next one is announced again */
	ASSERT_LT(0, swprof_target_read(t, consume_all, NULL, 0));
	EXPECT_EQ(2, evlog_wait(ev, &l, SWPROF_CMD_SAMPLES_LOST, 2, 20000));
	EXPECT_EQ(2, l.n[SWPROF_CMD_RING_WATERMARK]);
	EXPECT_LT(lost1, l.last[SWPROF_CMD_SAMPLES_LOST].lost);

	spinner_stop(&sp);
	swprof_target_free(t);
	swprof_close(sw);
	evl.close(ev);
}

static void *spin_then_exit(void *arg)
{
	uint64_t t0;

	atomic_store((atomic_int *)arg, gettid_());
	t0 = mono_ns();
	while (mono_ns() - t0 < 200000000ull)
		chain_sink++;
	return NULL;
}

TEST(exit_announced_once_to_every_listener)
{
	struct swprof_events *ev[2];
	struct evlog l[2] = { 0 };
	atomic_int tid = 0, tid2 = 0;
	struct swprof_target *t;
	struct swprof *sw;
	pthread_t th, th2;
	int i;

	LOAD_EVL();
	ASSERT_EQ(0, swprof_open(NULL, &sw));
	NEED_EVENTS(sw);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, evl.open(NULL, &ev[i]));
	pthread_create(&th, NULL, spin_then_exit, &tid);
	pthread_create(&th2, NULL, spin_then_exit, &tid2);	/* not registered */
	while (!atomic_load(&tid) || !atomic_load(&tid2))
		usleep(100);
	/* the default ring is far from full after 200 ms at 1 kHz */
	ASSERT_EQ(0, reg(sw, tid, 0, 1000000, &t));
	pthread_join(th, NULL);
	pthread_join(th2, NULL);

	for (i = 0; i < 2; i++) {
		l[i].tid = tid;
		l[i].other = tid2;
		EXPECT_EQ(1, evlog_wait(ev[i], &l[i], SWPROF_CMD_TARGET_EXITED, 1, 10000));
	}
	usleep(300000);
	for (i = 0; i < 2; i++) {
		evlog_wait(ev[i], &l[i], 0, 0, 100);
		EXPECT_EQ(1, l[i].n[SWPROF_CMD_TARGET_EXITED]);
		EXPECT_EQ(getpid(), l[i].last[SWPROF_CMD_TARGET_EXITED].pid);
		EXPECT_EQ(tid, l[i].last[SWPROF_CMD_TARGET_EXITED].tid);
		EXPECT_EQ((1U << SWPROF_ATTR_PID) | (1U << SWPROF_ATTR_TID),
			  l[i].last[SWPROF_CMD_TARGET_EXITED].attrs);
		EXPECT_EQ(0, l[i].n[SWPROF_CMD_SAMPLES_LOST]);
		EXPECT_EQ(0, l[i].n[SWPROF_CMD_RING_WATERMARK]);
		EXPECT_EQ(0, l[i].other_n);	/* the unregistered thread: nothing */
		EXPECT_EQ(0, l[i].err);
		evl.close(ev[i]);
	}
	swprof_target_free(t);
	swprof_close(sw);
}

/* Threads that wait, then all exit at once: a burst of TARGET_EXITED. */
struct crowd {
	atomic_int go, ready;
	atomic_int tids[256];
	pthread_t th[256];
	unsigned int n;
};

/*
 * A waiting member checks @go every 1 ms.  On the debug kernel (KASAN,
 * lockdep; run-in-guest sets SWPROF_DEBUG_KERNEL=1) 200 members waking 1000
 * times a second each saturate both TCG vCPUs and registering the crowd
 * outlasts the test's timeout: there they check every 20 ms, which still
 * makes their exits one burst for a listener that does not read.
 */
static void *crowd_member(void *arg)
{
	struct crowd *c = arg;
	int i = atomic_fetch_add(&c->ready, 1);
	useconds_t nap = getenv("SWPROF_DEBUG_KERNEL") ? 20000 : 1000;

	atomic_store(&c->tids[i], gettid_());
	while (!atomic_load(&c->go))
		usleep(nap);
	return NULL;
}

/* Start @n threads and register each; returns how many were registered. */
static unsigned int crowd_start(struct crowd *c, unsigned int n, struct swprof *sw,
				struct swprof_target **ts)
{
	unsigned int i, ok = 0;

	memset(c, 0, sizeof(*c));
	c->n = n;
	for (i = 0; i < n; i++)
		pthread_create(&c->th[i], NULL, crowd_member, c);
	while ((unsigned int)atomic_load(&c->ready) < n)
		usleep(1000);
	for (i = 0; i < n; i++) {
		while (!atomic_load(&c->tids[i]))
			usleep(100);
		if (reg(sw, atomic_load(&c->tids[i]), 4096, 10000000, &ts[i]) == 0)
			ok++;
		else
			ts[i] = NULL;
	}
	return ok;
}

static void crowd_finish(struct crowd *c, struct swprof_target **ts)
{
	unsigned int i;

	atomic_store(&c->go, 1);
	for (i = 0; i < c->n; i++)
		pthread_join(c->th[i], NULL);
	for (i = 0; i < c->n; i++)
		swprof_target_free(ts[i]);
}

/* 200 threads registered one by one: more than the default 30 s on the debug kernel */
FIXTURE(crowd) {};
FIXTURE_SETUP(crowd) {}
FIXTURE_TEARDOWN(crowd) {}

TEST_F_TIMEOUT(crowd, listener_that_does_not_read_gets_enobufs, 300)
{
	SWPROF_OPTS(swprof_events_opts, small, .rcvbuf = 4096);
	static struct swprof_target *ts[256];
	static struct crowd c;
	struct swprof_events *ev, *big;
	struct evlog l = { 0 }, lb = { 0 };
	struct swprof *sw;
	unsigned int n;

	LOAD_EVL();
	ASSERT_EQ(0, swprof_open(NULL, &sw));
	NEED_EVENTS(sw);
	ASSERT_EQ(0, evl.open(&small, &ev));
	ASSERT_EQ(0, evl.open(NULL, &big));	/* 1 MiB: holds them all */
	n = crowd_start(&c, 200, sw, ts);
	ASSERT_EQ(200, n);
	crowd_finish(&c, ts);
	evlog_wait(big, &lb, SWPROF_CMD_TARGET_EXITED, n, 20000);
	EXPECT_EQ(n, lb.n[SWPROF_CMD_TARGET_EXITED]);
	EXPECT_EQ(0, lb.err);
	evlog_wait(ev, &l, 0, 0, 200);
	EXPECT_EQ(-ENOBUFS, l.err);
	EXPECT_LT(0, l.n[SWPROF_CMD_TARGET_EXITED]);
	EXPECT_GT(n, l.n[SWPROF_CMD_TARGET_EXITED]);
	/* after the overrun the socket works on */
	EXPECT_LE(0, evl.read(ev, evlog_add, &l));
	evl.close(ev);
	evl.close(big);
	swprof_close(sw);
}

/* Strings at their longest: the module's largest queued events. */
TEST(trace_segment_added_and_task_ended)
{
	SWPROF_OPTS(swprof_trace_session_opts, so, .flags = SWPROF_TARGET_USTACK);
	char endpoint[SWPROF_ENDPOINT_MAX], seg[SWPROF_SEGMENT_ID_MAX];
	struct swprof_event *added, *ended;
	struct swprof_events *ev;
	struct evlog l = { 0 };
	struct swprof_group *g;
	struct swprof *sw;
	struct timespec now;
	__u64 now_ns;
	__u32 id;

	LOAD_EVL();
	ASSERT_EQ(0, swprof_open(NULL, &sw));
	NEED_EVENTS(sw);
	if (!swprof_has_feature(sw, SWPROF_FEAT_TRACE)) {
		swprof_close(sw);
		SKIP(return, "the module has no trace sessions");
	}
	memset(endpoint, 'e', sizeof(endpoint) - 1);
	endpoint[sizeof(endpoint) - 1] = '\0';
	memcpy(endpoint, "GET:/events/", 12);
	memset(seg, 's', sizeof(seg) - 1);
	seg[sizeof(seg) - 1] = '\0';
	memcpy(seg, "segment.1.", 10);
	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (__u64)now.tv_sec * 1000000000ull + now.tv_nsec;
	{
		SWPROF_OPTS(swprof_trace_task_opts, to,
			.endpoint = endpoint,
			.start_ns = now_ns - 1000000000ull,
			.end_ns = now_ns + 120000000000ull,
			.dump_period_ns = 10000000,
			.max_sampling_count = 5,
		);

		ASSERT_EQ(0, swprof_trace_session_new(sw, &so, &g));
		ASSERT_EQ(0, swprof_trace_task_add(g, &to, &id));
	}
	ASSERT_EQ(0, evl.open(NULL, &ev));

	l.tid = gettid_();
	ASSERT_EQ(1, swprof_trace_begin(endpoint, seg));
	usleep(30000);
	EXPECT_EQ(0, swprof_trace_end());
	EXPECT_EQ(1, evlog_wait(ev, &l, SWPROF_CMD_TARGET_ADDED, 1, 10000));
	added = &l.last[SWPROF_CMD_TARGET_ADDED];
	EXPECT_EQ(getpid(), added->pid);
	EXPECT_EQ(l.tid, added->tid);
	EXPECT_EQ(id, added->task);
	EXPECT_STREQ(seg, added->segment_id);
	EXPECT_STREQ(endpoint, added->endpoint);

	l.tid = 0;	/* a task's end names no thread */
	ASSERT_EQ(0, swprof_trace_task_end(g, id));
	EXPECT_EQ(1, evlog_wait(ev, &l, SWPROF_CMD_TRACE_TASK_ENDED, 1, 10000));
	swprof_group_free(g);	/* the task ended already: no second event */
	evlog_wait(ev, &l, 0, 0, 300);
	EXPECT_EQ(1, l.n[SWPROF_CMD_TRACE_TASK_ENDED]);
	ended = &l.last[SWPROF_CMD_TRACE_TASK_ENDED];
	EXPECT_EQ(id, ended->task);
	EXPECT_EQ(1, ended->admitted);
	EXPECT_STREQ(endpoint, ended->endpoint);
	EXPECT_EQ((1U << SWPROF_ATTR_TASK) | (1U << SWPROF_ATTR_ADMITTED) |
		  (1U << SWPROF_ATTR_ENDPOINT), ended->attrs);
	EXPECT_EQ(0, l.err);
	swprof_close(sw);
	evl.close(ev);
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

TEST(module_queue_dropped_nothing)
{
	long dropped = read_long("/sys/module/swprof/parameters/events_dropped");

	if (dropped < 0)
		SKIP(return, "no events_dropped parameter");
	EXPECT_EQ(0, dropped);
}

/* active_objs of a slab cache, -1 if unknown */
static long slab_active(const char *cache)
{
	char line[512], name[64];
	long active = -1, a;
	FILE *f;

	/*
	 * Shrink the cache first: KASAN (the debug kernel) keeps freed objects
	 * in its quarantine, where slabinfo counts them as active, and a shrink
	 * gives the cache's back; elsewhere it only flushes the per-CPU slabs.
	 */
	snprintf(line, sizeof(line), "/sys/kernel/slab/%s/shrink", cache);
	f = fopen(line, "w");
	if (f) {
		fputs("1", f);
		fclose(f);
	}
	f = fopen("/proc/slabinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", name, &a) == 2 && !strcmp(name, cache))
			active = a;
	fclose(f);
	return active;
}

/* One load of the module: events flow, then rmmod under a subscribed listener. */
static void reload_cycle(struct __test_metadata *_metadata, const char *ko,
			 unsigned long *events)
{
	static struct swprof_target *ts[64];
	static struct crowd c;
	struct swprof_events *ev, *ev2;
	struct swprof_target *t;
	struct evlog l = { 0 };
	struct spinner sp;
	struct swprof *sw;

	ASSERT_EQ(0, swprof_open(NULL, &sw));
	ASSERT_EQ(0, evl.open(NULL, &ev));
	spinner_start(&sp);
	ASSERT_EQ(0, reg(sw, atomic_load(&sp.tid), 4096, 1000000, &t));
	ASSERT_EQ(64, crowd_start(&c, 64, sw, ts));
	crowd_finish(&c, ts);
	usleep(50000);
	spinner_stop(&sp);
	swprof_target_free(t);
	swprof_close(sw);
	/* some events still queued in the module, some in the socket */
	ASSERT_EQ(0, module_unload());
	evlog_wait(ev, &l, 0, 0, 50);
	for (int i = 0; i < 100 && l.err != -ENODEV; i++)
		evlog_wait(ev, &l, 0, 0, 20);
	EXPECT_EQ(-ENODEV, l.err);
	EXPECT_EQ(-ENODEV, evl.read(ev, evlog_add, &l));
	*events += l.total;
	EXPECT_NE(0, evl.open(NULL, &ev2));
	evl.close(ev);
	ASSERT_EQ(0, module_load(ko));
}

FIXTURE(reload) {};
FIXTURE_SETUP(reload) {}
FIXTURE_TEARDOWN(reload) {}

/* ~3 s per cycle under TCG */
TEST_F_TIMEOUT(reload, while_events_flow, 600)
{
	const char *ko = getenv("SWPROF_EVENTS_KO");
	const char *cycles_env = getenv("SWPROF_EVENTS_CYCLES");
	unsigned int cycles = cycles_env ? atoi(cycles_env) : 20, i;
	unsigned long events = 0;
	long skb0, skb1;

	if (!ko)
		SKIP(return, "set SWPROF_EVENTS_KO=path/to/swprof.ko to unload and reload the module");
	LOAD_EVL();
	ASSERT_EQ(0, access("/sys/module/swprof", F_OK));
	skb0 = slab_active("skbuff_head_cache");
	for (i = 0; i < cycles; i++) {
		reload_cycle(_metadata, ko, &events);
		if (!_metadata->passed)
			break;
	}
	skb1 = slab_active("skbuff_head_cache");
	TH_LOG("%u cycles, %lu events read, skbuff_head_cache active %ld -> %ld",
	       i, events, skb0, skb1);
	/* 64 exits per cycle at least, every one read before -ENODEV */
	EXPECT_LE(64UL * cycles, events);
	/* one leaked message per event would show as thousands */
	if (skb0 >= 0 && skb1 >= 0)
		EXPECT_GT((long)events / 4, skb1 - skb0);
}

TEST_HARNESS_MAIN
