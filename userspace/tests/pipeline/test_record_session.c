// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of a recording (the profile sink of a pipeline) without the
 * module: records of every type decoded into the profile (wall states as
 * leaf frames, off-CPU time, thread names from COMM), and the reader thread
 * draining rings laid out in memory into the decoder, LOST records
 * accounted, a full queue waited out.
 *
 * The device is a fake: this program defines ioctl() (libswprof.a, linked
 * statically, calls it) and answers the handshake on memfds named
 * "swprof-fake-dev".  Sample addresses are this program's own functions,
 * so the real symbolizer names them.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "swprof_internal.h"
#include "fake_memfd.h"
#include "pipeline_priv.h"
#include "record.h"
#include "sw_log.h"


static struct swprof_version fake_version;

int ioctl(int fd, unsigned long cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fake_version_ioctl(fd, cmd, arg, &fake_version);
}

/* Functions whose addresses the samples carry: big enough that fn + 4 is inside. */
static volatile int rs_sink;
__attribute__((noinline, used)) void rs_wait_for_disk(void) { for (int i = 0; i < 8; i++) rs_sink += i; }
__attribute__((noinline, used)) void rs_handle_request(void) { for (int i = 0; i < 8; i++) rs_sink += i; }
__attribute__((noinline, used)) void rs_serve(void) { for (int i = 0; i < 8; i++) rs_sink += i; }

#define IP(fn) ((__u64)(uintptr_t)(fn) + 4)

/* A SAMPLE or OFFCPU record with user frames ips[] (leaf first); returns its size. */
static size_t make_sample(void *buf, __u16 type, __u16 state, __u64 seq, __u64 period,
			  const __u64 *ips, unsigned int n)
{
	struct swprof_sample *s = buf;
	size_t size = sizeof(*s) + 8 * n;

	memset(s, 0, size);
	s->hdr = (struct swprof_rec){ .size = size, .type = type, .flags = state, .seq = seq };
	s->pid = getpid();
	s->tid = gettid();
	s->nr_user = n;
	s->period_ns = period;
	memcpy(s->data, ips, 8 * n);
	return size;
}

/* Stacks of the profile as "root;...;leaf" (folded order), with their values. */
struct stacks {
	const struct prof *p;
	char text[8192];
	uint64_t count, value;
};

static int stacks_cb(const struct prof_sample *s, void *ctx)
{
	struct stacks *st = ctx;
	size_t len = strlen(st->text);
	int i;

	for (i = s->n - 1; i >= 0; i--) {
		struct prof_location_info li;
		struct prof_function_info fi;

		if (prof_get_location(st->p, s->locs[i], &li) ||
		    prof_get_function(st->p, li.lines[li.nr_lines - 1].function, &fi))
			return -1;
		len += snprintf(st->text + len, sizeof(st->text) - len, "%s%s",
				prof_str(st->p, fi.name), i ? ";" : "");
	}
	len += snprintf(st->text + len, sizeof(st->text) - len, " %llu %llu\n",
			(unsigned long long)s->count, (unsigned long long)s->value_ns);
	st->count += s->count;
	st->value += s->value_ns;
	return 0;
}

static void stacks_of(const struct prof *p, struct stacks *st)
{
	memset(st, 0, sizeof(*st));
	st->p = p;
	prof_for_each_sample(p, stacks_cb, st);
}

FIXTURE(rec) {
	int memfd;
	char path[64];
	struct pl *pl;
	struct rec_session *r;
	struct pl_target *rt;
	unsigned char buf[4096] __attribute__((aligned(8)));
};

FIXTURE_SETUP(rec)
{
	fake_version = (struct swprof_version){
		.size = sizeof(fake_version),
		.major = SWPROF_API_MAJOR,
		.minor = SWPROF_API_MINOR,
		.features = SWPROF_FEAT_MODE_CPU | SWPROF_FEAT_MODE_OFFCPU | SWPROF_FEAT_MODE_WALL |
			    SWPROF_FEAT_USTACK_FP | SWPROF_FEAT_PROCESS,
		.ring_version = SWPROF_RING_VERSION,
		.max_depth = SWPROF_MAX_DEPTH,
	};
	self->memfd = memfd_create(FAKE_DEV, MFD_CLOEXEC);
	ASSERT_LE(0, self->memfd);
	snprintf(self->path, sizeof(self->path), "/proc/self/fd/%d", self->memfd);
	self->pl = NULL;
	self->r = NULL;
	self->rt = NULL;
}

FIXTURE_TEARDOWN(rec)
{
	rec_free(self->r);
	pl_free(self->pl);
	close(self->memfd);
}

/* sw_err() lines, for the tests that check what a person is told */
static char logged[1024];

static void log_to_buf(void *ctx, enum sw_log_level level, const char *msg)
{
	snprintf(logged, sizeof(logged), "%s", msg);
}

static int pipeline(FIXTURE_DATA(rec) *self, size_t queue_bytes)
{
	PL_OPTS(po, .device = self->path, .queue_bytes = queue_bytes);

	return pl_new(&po, &self->pl);
}

/* A pipeline and a recording on it. */
static int session(FIXTURE_DATA(rec) *self, uint32_t mode, bool state_frames)
{
	REC_OPTS(o, .mode = mode, .period_ns = 10000000, .state_frames = state_frames);
	int ret = self->pl ? 0 : pipeline(self, 0);

	return ret ? ret : rec_new(self->pl, &o, &self->r);
}

/* Records fed to the decoder directly, from a target of this thread. */
static struct pl_target *fed_target(FIXTURE_DATA(rec) *self)
{
	if (!self->rt)
		self->rt = pl_offline_target(self->pl, rec_sink(self->r), getpid(), gettid(), 0);
	if (!self->rt)
		abort();
	return self->rt;
}

#define rec_process(r, rt, rec) pl_process(self->pl, fed_target(self), rec)

/* The profile thread of the last stack added. */
static int sample_thread_cb(const struct prof_sample *s, void *ctx)
{
	*(int *)ctx = s->thread;
	return 0;
}

static int last_thread(const struct prof *p)
{
	int thread = 0;

	prof_for_each_sample(p, sample_thread_cb, &thread);
	return thread;
}

TEST_F(rec, wall_states_become_leaf_frames)
{
	const __u64 ips[] = { IP(rs_wait_for_disk), IP(rs_handle_request), IP(rs_serve) };
	struct stacks st;
	struct rec_stats rs;
	__u64 seq = 0;

	ASSERT_EQ(0, session(self, SWPROF_MODE_WALL, true));
	EXPECT_EQ(PROF_WALL, prof_get_kind(rec_profile(self->r)));
	make_sample(self->buf, SWPROF_REC_SAMPLE, SWPROF_STATE_RUNNING, seq++, 10000000, ips + 1, 2);
	rec_process(self->r, &self->rt, (void *)self->buf);
	make_sample(self->buf, SWPROF_REC_SAMPLE, SWPROF_STATE_DISK, seq++, 10000000, ips, 3);
	rec_process(self->r, &self->rt, (void *)self->buf);
	rec_process(self->r, &self->rt, (void *)self->buf);
	make_sample(self->buf, SWPROF_REC_SAMPLE, SWPROF_STATE_SLEEPING, seq++, 30000000, ips + 1, 2);
	rec_process(self->r, &self->rt, (void *)self->buf);
	make_sample(self->buf, SWPROF_REC_SAMPLE, SWPROF_STATE_RUNNABLE, seq++, 10000000, ips + 2, 1);
	rec_process(self->r, &self->rt, (void *)self->buf);

	stacks_of(rec_profile(self->r), &st);
	EXPECT_NE(NULL, strstr(st.text, "rs_serve;rs_handle_request 1 10000000\n")) TH_LOG("%s", st.text);
	EXPECT_NE(NULL, strstr(st.text, "rs_serve;rs_handle_request;rs_wait_for_disk;[disk] 2 20000000\n"))
		TH_LOG("%s", st.text);
	EXPECT_NE(NULL, strstr(st.text, "rs_serve;rs_handle_request;[sleeping] 1 30000000\n"))
		TH_LOG("%s", st.text);
	EXPECT_NE(NULL, strstr(st.text, "rs_serve;[runnable] 1 10000000\n")) TH_LOG("%s", st.text);
	EXPECT_EQ(5, st.count);
	EXPECT_EQ(70000000, st.value);

	rec_get_stats(self->r, &rs);
	EXPECT_EQ(5, rs.samples);
	EXPECT_EQ(0, rs.offcpu);
	EXPECT_EQ(70000000, rs.wall_ns);
	EXPECT_EQ(1, rs.state_samples[SWPROF_STATE_RUNNING]);
	EXPECT_EQ(2, rs.state_samples[SWPROF_STATE_DISK]);
	EXPECT_EQ(30000000, rs.state_ns[SWPROF_STATE_SLEEPING]);
	EXPECT_EQ(10000000, rs.state_ns[SWPROF_STATE_RUNNABLE]);
}

TEST_F(rec, wall_without_state_frames_keeps_the_stack_only)
{
	const __u64 ips[] = { IP(rs_handle_request), IP(rs_serve) };
	struct stacks st;

	ASSERT_EQ(0, session(self, SWPROF_MODE_WALL, false));
	make_sample(self->buf, SWPROF_REC_SAMPLE, SWPROF_STATE_SLEEPING, 0, 10000000, ips, 2);
	rec_process(self->r, &self->rt, (void *)self->buf);
	stacks_of(rec_profile(self->r), &st);
	EXPECT_STREQ("rs_serve;rs_handle_request 1 10000000\n", st.text);
}

TEST_F(rec, state_without_stack_is_state_then_no_stack)
{
	struct stacks st;

	ASSERT_EQ(0, session(self, SWPROF_MODE_WALL, true));
	make_sample(self->buf, SWPROF_REC_SAMPLE, SWPROF_STATE_STOPPED, 0, 10000000, NULL, 0);
	rec_process(self->r, &self->rt, (void *)self->buf);
	/* an unknown state from a newer module is "other", not out of bounds */
	make_sample(self->buf, SWPROF_REC_SAMPLE, 42, 1, 10000000, NULL, 0);
	rec_process(self->r, &self->rt, (void *)self->buf);
	stacks_of(rec_profile(self->r), &st);
	EXPECT_NE(NULL, strstr(st.text, "[no stack];[stopped] 1 10000000\n")) TH_LOG("%s", st.text);
	EXPECT_NE(NULL, strstr(st.text, "[no stack];[other] 1 10000000\n")) TH_LOG("%s", st.text);
}

TEST_F(rec, offcpu_records_count_switches_and_time)
{
	const __u64 ips[] = { IP(rs_wait_for_disk), IP(rs_serve) };
	struct stacks st;
	struct rec_stats rs;
	int i;

	ASSERT_EQ(0, session(self, SWPROF_MODE_OFFCPU, false));
	EXPECT_EQ(PROF_OFFCPU, prof_get_kind(rec_profile(self->r)));
	EXPECT_EQ(0, prof_get_period(rec_profile(self->r)));
	for (i = 0; i < 10; i++) {
		make_sample(self->buf, SWPROF_REC_OFFCPU, SWPROF_STATE_SLEEPING, i, 100000000 + i, ips, 2);
		rec_process(self->r, &self->rt, (void *)self->buf);
	}
	make_sample(self->buf, SWPROF_REC_OFFCPU, SWPROF_STATE_DISK, 10, 5000, ips + 1, 1);
	rec_process(self->r, &self->rt, (void *)self->buf);
	stacks_of(rec_profile(self->r), &st);
	EXPECT_NE(NULL, strstr(st.text, "rs_serve;rs_wait_for_disk 10 1000000045\n")) TH_LOG("%s", st.text);
	EXPECT_NE(NULL, strstr(st.text, "rs_serve 1 5000\n")) TH_LOG("%s", st.text);
	rec_get_stats(self->r, &rs);
	EXPECT_EQ(11, rs.offcpu);
	EXPECT_EQ(11, rs.samples);
	EXPECT_EQ(1000005045ULL, rs.offcpu_ns);
	EXPECT_EQ(10, rs.state_samples[SWPROF_STATE_SLEEPING]);
	EXPECT_EQ(1, rs.state_samples[SWPROF_STATE_DISK]);
}

TEST_F(rec, offcpu_state_frames_when_asked)
{
	const __u64 ips[] = { IP(rs_wait_for_disk) };
	struct stacks st;

	ASSERT_EQ(0, session(self, SWPROF_MODE_OFFCPU, true));
	make_sample(self->buf, SWPROF_REC_OFFCPU, SWPROF_STATE_DISK, 0, 7, ips, 1);
	rec_process(self->r, &self->rt, (void *)self->buf);
	stacks_of(rec_profile(self->r), &st);
	EXPECT_STREQ("rs_wait_for_disk;[disk] 1 7\n", st.text);
}

TEST_F(rec, cpu_mode_ignores_state_bits)
{
	const __u64 ips[] = { IP(rs_serve) };
	struct stacks st;

	ASSERT_EQ(0, session(self, SWPROF_MODE_CPU, true));
	make_sample(self->buf, SWPROF_REC_SAMPLE, SWPROF_STATE_SLEEPING, 0, 10000000, ips, 1);
	rec_process(self->r, &self->rt, (void *)self->buf);
	stacks_of(rec_profile(self->r), &st);
	EXPECT_STREQ("rs_serve 1 10000000\n", st.text);
}

static int thread_name(const struct prof *p, int id, char *out, size_t len)
{
	struct prof_thread_info ti;
	int err = prof_get_thread(p, id, &ti);

	if (!err)
		snprintf(out, len, "%u/%u/%s", ti.pid, ti.tid, prof_str(p, ti.name));
	return err;
}

TEST_F(rec, comm_record_names_the_thread)
{
	const __u64 ips[] = { IP(rs_serve) };
	struct swprof_comm c = {
		.hdr = { .size = sizeof(c), .type = SWPROF_REC_COMM, .seq = 0 },
		.pid = getpid(),
		.tid = 4242,
		.comm = "worker-7",
	};
	char name[64], want[64];

	ASSERT_EQ(0, session(self, SWPROF_MODE_CPU, false));
	rec_process(self->r, &self->rt, &c.hdr);
	EXPECT_EQ(4242, self->rt->tid);
	make_sample(self->buf, SWPROF_REC_SAMPLE, 0, 1, 10000000, ips, 1);
	rec_process(self->r, &self->rt, (void *)self->buf);
	EXPECT_LT(0, last_thread(rec_profile(self->r)));
	ASSERT_EQ(0, thread_name(rec_profile(self->r), last_thread(rec_profile(self->r)), name, sizeof(name)));
	snprintf(want, sizeof(want), "%u/4242/worker-7", getpid());
	EXPECT_STREQ(want, name);
	/* a comm filling all 16 bytes, no NUL: still a bounded name */
	memset(c.comm, 'x', sizeof(c.comm));
	rec_process(self->r, &self->rt, &c.hdr);
	rec_process(self->r, &self->rt, (void *)self->buf);
	ASSERT_EQ(0, thread_name(rec_profile(self->r), last_thread(rec_profile(self->r)), name, sizeof(name)));
	EXPECT_NE(NULL, strstr(name, "/xxxxxxxxxxxxxxxx")) TH_LOG("%s", name);
	EXPECT_EQ(NULL, strstr(name, "xxxxxxxxxxxxxxxxx"));
}

TEST_F(rec, exec_record_renames_and_counts)
{
	struct swprof_exec e = {
		.hdr = { .size = sizeof(e), .type = SWPROF_REC_EXEC },
		.pid = getpid(),
		.tid = getpid(),
		.comm = "newimage",
	};
	struct rec_stats rs;
	char name[64];

	const __u64 ips[] = { IP(rs_serve) };

	ASSERT_EQ(0, session(self, SWPROF_MODE_CPU, false));
	rec_process(self->r, &self->rt, &e.hdr);
	rec_get_stats(self->r, &rs);
	EXPECT_EQ(1, rs.execs);
	make_sample(self->buf, SWPROF_REC_SAMPLE, 0, 1, 10000000, ips, 1);
	rec_process(self->r, &self->rt, (void *)self->buf);
	ASSERT_EQ(0, thread_name(rec_profile(self->r), last_thread(rec_profile(self->r)), name, sizeof(name)));
	EXPECT_NE(NULL, strstr(name, "/newimage"));
}

TEST_F(rec, other_records_are_counted_not_aggregated)
{
	struct swprof_trace_end te = { .hdr = { .size = sizeof(te), .type = SWPROF_REC_TRACE_END } };
	struct swprof_exit ex = { .hdr = { .size = sizeof(ex), .type = SWPROF_REC_EXIT } };
	struct swprof_rec unknown = { .size = sizeof(unknown), .type = 200 };
	struct swprof_sample bad = {
		.hdr = { .size = sizeof(bad), .type = SWPROF_REC_SAMPLE },
		.nr_user = 100,		/* more frames than the record holds */
	};
	struct rec_stats rs;
	struct prof_stats ps;

	ASSERT_EQ(0, session(self, SWPROF_MODE_WALL, true));
	rec_process(self->r, &self->rt, &te.hdr);
	rec_process(self->r, &self->rt, &ex.hdr);
	rec_process(self->r, &self->rt, &unknown);
	rec_process(self->r, &self->rt, &bad.hdr);
	rec_get_stats(self->r, &rs);
	EXPECT_EQ(1, rs.trace_records);
	EXPECT_EQ(1, rs.exits);
	EXPECT_EQ(1, rs.unknown_records);
	EXPECT_EQ(1, rs.bad_records);
	EXPECT_EQ(0, rs.samples);
	prof_get_stats(rec_profile(self->r), &ps);
	EXPECT_EQ(0, ps.samples);
}

TEST_F(rec, missing_mode_is_a_clear_error)
{
	REC_OPTS(o, .mode = SWPROF_MODE_OFFCPU);

	fake_version.features &= ~SWPROF_FEAT_MODE_OFFCPU;
	fake_version.minor = 0;
	ASSERT_EQ(0, pipeline(self, 0));
	logged[0] = 0;
	sw_log_set_fn(log_to_buf, NULL);
	EXPECT_EQ(-EOPNOTSUPP, rec_new(self->pl, &o, &self->r));
	sw_log_set_fn(NULL, NULL);
	EXPECT_NE(NULL, strstr(logged, "(API 1.0) has no offcpu mode")) TH_LOG("%s", logged);
	EXPECT_FALSE(fake_version.features & SWPROF_FEAT_MODE_OFFCPU);
}

TEST_F(rec, follows_processes_only_with_the_feature)
{
	ASSERT_EQ(0, session(self, SWPROF_MODE_CPU, false));
	EXPECT_TRUE(rec_follows_processes(self->r));
	rec_free(self->r);
	pl_free(self->pl);
	self->r = NULL;
	self->pl = NULL;
	fake_version.features &= ~SWPROF_FEAT_PROCESS;
	ASSERT_EQ(0, session(self, SWPROF_MODE_CPU, false));
	EXPECT_FALSE(rec_follows_processes(self->r));
}

/* ---- the reader thread, over a ring laid out in memory ---------------- */

#define RING 65536

struct mem_ring {
	struct swprof_ring_header hdr;
	struct swprof_ring_consumer cons;
	unsigned char *data;		/* 2 * RING: records never wrap here */
	int pfd[2];			/* poll fd: data = POLLIN, write end closed = POLLHUP */
	__u64 seq;
};

/* End the session first: its reader may look at the ring until then. */
static void ring_free(FIXTURE_DATA(rec) *self, struct mem_ring *m)
{
	rec_free(self->r);
	pl_free(self->pl);
	self->r = NULL;
	self->pl = NULL;
	close(m->pfd[0]);
	if (m->pfd[1] >= 0)
		close(m->pfd[1]);
	free(m->data);
}

static void ring_init(struct mem_ring *m)
{
	memset(m, 0, sizeof(*m));
	m->hdr.version = SWPROF_RING_VERSION;
	m->hdr.header_size = sizeof(m->hdr);
	m->hdr.data_size = RING;
	m->hdr.tid = gettid();
	m->hdr.pid = getpid();
	m->data = aligned_alloc(4096, 2 * RING);
	memset(m->data, 0, 2 * RING);
	if (pipe2(m->pfd, O_CLOEXEC | O_NONBLOCK))
		abort();
}

static void ring_put(struct mem_ring *m, const void *rec)
{
	const struct swprof_rec *h = rec;
	__u64 pos = m->hdr.producer_pos;

	memcpy(m->data + pos, rec, h->size);
	__atomic_store_n(&m->hdr.producer_pos, pos + h->size, __ATOMIC_RELEASE);
}

static void ring_sample(struct mem_ring *m, const __u64 *ips, unsigned int n)
{
	unsigned char buf[512] __attribute__((aligned(8)));

	make_sample(buf, SWPROF_REC_SAMPLE, 0, m->seq++, 1000000, ips, n);
	ring_put(m, buf);
}

static void ring_publish(struct pl *pl, struct rec_session *r, struct mem_ring *m)
{
	struct swprof_target *t;

	if (swprof_target_from_mem(&m->hdr, &m->cons, m->data, m->pfd[0], &t))
		abort();
	if (pl_adopt_target(pl, rec_sink(r), t, getpid(), gettid()))
		abort();
}

/* pl_poll() until the stats say so or 5 s pass. */
static bool poll_until(struct pl *pl, struct rec_session *r, uint64_t samples, uint64_t live)
{
	struct rec_stats st;
	int i;

	for (i = 0; i < 500; i++) {
		pl_poll(pl, 10);
		rec_get_stats(r, &st);
		if (st.samples >= samples && st.threads_live == live)
			return true;
	}
	return false;
}

TEST_F(rec, reader_drains_rings_and_accounts_lost)
{
	const __u64 ips[] = { IP(rs_handle_request), IP(rs_serve) };
	struct swprof_lost lost = {
		.hdr = { .size = sizeof(lost), .type = SWPROF_REC_LOST },
		.count = 3,
	};
	struct swprof_exit ex = { .hdr = { .size = sizeof(ex), .type = SWPROF_REC_EXIT } };
	struct mem_ring m;
	struct rec_stats st;
	struct stacks sk;
	int i;

	ASSERT_EQ(0, session(self, SWPROF_MODE_CPU, false));
	ring_init(&m);
	for (i = 0; i < 20; i++)
		ring_sample(&m, ips, 2);
	lost.hdr.seq = lost.first_seq = m.seq;
	lost.last_seq = m.seq + 2;
	m.seq += 3;
	ring_put(&m, &lost);
	for (i = 0; i < 5; i++)
		ring_sample(&m, ips, 2);
	ring_publish(self->pl, self->r, &m);
	/* no wakeup: the reader's sweep finds them */
	ASSERT_TRUE(poll_until(self->pl, self->r, 25, 1));
	rec_get_stats(self->r, &st);
	EXPECT_EQ(3, st.lost);
	EXPECT_EQ(0, st.seq_gaps);
	EXPECT_EQ(1, st.threads);
	EXPECT_EQ(25 * (sizeof(struct swprof_sample) + 16) + sizeof(lost),
		  m.cons.consumer_pos);

	/* the thread exits: EXIT, then POLLHUP once drained; the ring is closed */
	ex.hdr.seq = m.seq++;
	ring_put(&m, &ex);
	close(m.pfd[1]);
	m.pfd[1] = -1;
	ASSERT_TRUE(poll_until(self->pl, self->r, 25, 0));
	EXPECT_TRUE(rec_all_exited(self->r));
	pl_drain(self->pl);
	rec_get_stats(self->r, &st);
	EXPECT_EQ(1, st.exits);
	EXPECT_EQ(3, st.lost);
	stacks_of(rec_profile(self->r), &sk);
	EXPECT_STREQ("rs_serve;rs_handle_request 25 25000000\n", sk.text);
	ring_free(self, &m);
}

TEST_F(rec, closed_rings_leave_the_sweep_and_keep_their_counts)
{
	const __u64 ips[] = { IP(rs_serve) };
	struct swprof_exit ex = { .hdr = { .size = sizeof(ex), .type = SWPROF_REC_EXIT } };
	struct swprof_lost lost = { .hdr = { .size = sizeof(lost), .type = SWPROF_REC_LOST }, .count = 2 };
	struct mem_ring m[3];
	struct rec_stats st;
	size_t live;
	int i, k;

	ASSERT_EQ(0, session(self, SWPROF_MODE_CPU, false));
	for (k = 0; k < 3; k++) {
		ring_init(&m[k]);
		for (i = 0; i < 10; i++)
			ring_sample(&m[k], ips, 1);
		ring_publish(self->pl, self->r, &m[k]);
	}
	/* rings 0 and 1 end: a LOST record, EXIT, then POLLHUP */
	for (k = 0; k < 2; k++) {
		lost.hdr.seq = lost.first_seq = m[k].seq;
		lost.last_seq = m[k].seq + 1;
		m[k].seq += 2;
		ring_put(&m[k], &lost);
		ex.hdr.seq = m[k].seq++;
		ring_put(&m[k], &ex);
		close(m[k].pfd[1]);
		m[k].pfd[1] = -1;
	}
	ASSERT_TRUE(poll_until(self->pl, self->r, 30, 1));
	for (i = 0; i < 10; i++)
		ring_sample(&m[2], ips, 1);
	ASSERT_TRUE(poll_until(self->pl, self->r, 40, 1));
	pl_drain(self->pl);
	rec_get_stats(self->r, &st);
	EXPECT_EQ(40, st.samples);
	EXPECT_EQ(4, st.lost);
	EXPECT_EQ(0, st.seq_gaps);
	EXPECT_EQ(3, st.threads);
	EXPECT_EQ(2, st.exits);
	EXPECT_FALSE(rec_all_exited(self->r));
	pthread_mutex_lock(&self->pl->lock);
	live = self->pl->nr_targets;
	EXPECT_EQ(NULL, self->pl->retired);	/* freed: the queue was empty */
	pthread_mutex_unlock(&self->pl->lock);
	EXPECT_EQ(1, live);
	rec_free(self->r);
	pl_free(self->pl);
	self->r = NULL;
	self->pl = NULL;
	for (k = 0; k < 3; k++) {
		close(m[k].pfd[0]);
		if (m[k].pfd[1] >= 0)
			close(m[k].pfd[1]);
		free(m[k].data);
	}
}

TEST_F(rec, full_queue_makes_the_reader_wait_not_drop)
{
	const __u64 ips[] = { IP(rs_serve) };
	REC_OPTS(o, .mode = SWPROF_MODE_CPU);
	struct mem_ring m;
	struct rec_stats st;
	int i;

	ASSERT_EQ(0, pipeline(self, 1));
	ASSERT_EQ(0, rec_new(self->pl, &o, &self->r));
	ring_init(&m);
	for (i = 0; i < 100; i++)
		ring_sample(&m, ips, 1);
	ring_publish(self->pl, self->r, &m);
	/* each record fills the queue: the reader stops until the worker takes it */
	pl_drain(self->pl);
	rec_get_stats(self->r, &st);
	EXPECT_EQ(100, st.samples);
	EXPECT_EQ(0, st.lost);
	EXPECT_LT(10, st.queue_full);
	EXPECT_EQ(0, st.queue_bytes);
	ring_free(self, &m);
}

TEST_F(rec, drain_takes_what_arrived_just_before)
{
	const __u64 ips[] = { IP(rs_serve) };
	struct mem_ring m;
	struct rec_stats st;
	int i, round;

	ASSERT_EQ(0, session(self, SWPROF_MODE_CPU, false));
	ring_init(&m);
	ring_publish(self->pl, self->r, &m);
	for (round = 1; round <= 20; round++) {
		for (i = 0; i < 10; i++)
			ring_sample(&m, ips, 1);
		pl_drain(self->pl);
		rec_get_stats(self->r, &st);
		ASSERT_EQ(10 * round, st.samples);
	}
	ring_free(self, &m);
}

TEST_HARNESS_MAIN
