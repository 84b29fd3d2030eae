// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of the multi-target poller (swprof_poller_*): records of many
 * rings to their own callbacks, a ring that ends (POLLHUP once drained)
 * gets a NULL record and leaves, remove, consume without waiting, a
 * callback's error stops the poll, and the log callback.  Rings are laid
 * out in memory; a pipe per ring stands for its fd (data: POLLIN; write
 * end closed: POLLHUP).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "swprof_internal.h"

#define RING 8192

struct mem_ring {
	struct swprof_ring_header hdr;
	struct swprof_ring_consumer cons;
	unsigned char *data;
	int pfd[2];
	__u64 seq;
	struct swprof_target *t;
};

static void ring_init(struct mem_ring *m, __u32 tid)
{
	memset(m, 0, sizeof(*m));
	m->hdr.version = SWPROF_RING_VERSION;
	m->hdr.header_size = sizeof(m->hdr);
	m->hdr.data_size = RING;
	m->hdr.tid = m->hdr.pid = tid;
	m->data = aligned_alloc(4096, 2 * RING);
	memset(m->data, 0, 2 * RING);
	if (pipe2(m->pfd, O_CLOEXEC | O_NONBLOCK) ||
	    swprof_target_from_mem(&m->hdr, &m->cons, m->data, m->pfd[0], &m->t))
		abort();
}

static void ring_free(struct mem_ring *m)
{
	swprof_target_free(m->t);
	close(m->pfd[0]);
	if (m->pfd[1] >= 0)
		close(m->pfd[1]);
	free(m->data);
}

/* An EXIT-less record of type COMM (no stack to build), and a wakeup. */
static void ring_put(struct mem_ring *m, unsigned int n)
{
	struct swprof_comm c = { .hdr = { .size = sizeof(c), .type = SWPROF_REC_COMM } };

	while (n--) {
		c.hdr.seq = m->seq++;
		c.tid = m->hdr.tid;
		memcpy(m->data + m->hdr.producer_pos, &c, sizeof(c));
		__atomic_store_n(&m->hdr.producer_pos, m->hdr.producer_pos + sizeof(c), __ATOMIC_RELEASE);
	}
	if (write(m->pfd[1], "x", 1) != 1)
		abort();
}

/* The thread exits: no more records, POLLHUP once the pipe is drained. */
static void ring_end(struct mem_ring *m)
{
	char buf[64];

	while (read(m->pfd[0], buf, sizeof(buf)) > 0)
		;
	close(m->pfd[1]);
	m->pfd[1] = -1;
}

struct counts {
	unsigned int records, ends, bad_tid;
	__u32 tid;
	int fail_at;		/* return -EIO at this record (1-based); 0 = never */
};

static int count_cb(void *ctx, const struct swprof_rec *rec)
{
	struct counts *c = ctx;

	if (!rec) {
		c->ends++;
		return 0;
	}
	c->records++;
	if (((const struct swprof_comm *)rec)->tid != c->tid)
		c->bad_tid++;
	return c->fail_at && c->records == (unsigned int)c->fail_at ? -EIO : 0;
}

/* Drain the pipes' wakeups so that level-triggered epoll calms down. */
static void quiet(struct mem_ring *m, int n)
{
	char buf[64];
	int i;

	for (i = 0; i < n; i++)
		while (m[i].pfd[1] >= 0 && read(m[i].pfd[0], buf, sizeof(buf)) > 0)
			;
}

TEST(records_go_to_their_own_callback)
{
	struct swprof_poller *p;
	struct mem_ring m[3];
	struct counts c[3] = { { .tid = 101 }, { .tid = 102 }, { .tid = 103 } };
	int i, got = 0;

	ASSERT_EQ(0, swprof_poller_new(NULL, &p));
	ASSERT_LE(0, swprof_poller_fd(p));
	for (i = 0; i < 3; i++) {
		ring_init(&m[i], 101 + i);
		ASSERT_EQ(0, swprof_poller_add(p, m[i].t, count_cb, &c[i]));
	}
	ring_put(&m[0], 5);
	ring_put(&m[2], 7);
	got = swprof_poller_poll(p, 1000);
	EXPECT_EQ(12, got);
	EXPECT_EQ(5, c[0].records);
	EXPECT_EQ(0, c[1].records);
	EXPECT_EQ(7, c[2].records);
	quiet(m, 3);
	EXPECT_EQ(0, swprof_poller_poll(p, 0));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, c[i].bad_tid);
		EXPECT_EQ(0, c[i].ends);
		/* consumed: the space went back to the producer */
		EXPECT_EQ(m[i].hdr.producer_pos, m[i].cons.consumer_pos);
	}
	swprof_poller_free(p);
	for (i = 0; i < 3; i++)
		ring_free(&m[i]);
}

TEST(an_ended_ring_gets_null_and_leaves)
{
	struct swprof_poller *p;
	struct mem_ring m[2];
	struct counts c[2] = { { .tid = 7 }, { .tid = 8 } };
	int i;

	ASSERT_EQ(0, swprof_poller_new(NULL, &p));
	for (i = 0; i < 2; i++) {
		ring_init(&m[i], 7 + i);
		ASSERT_EQ(0, swprof_poller_add(p, m[i].t, count_cb, &c[i]));
	}
	ring_put(&m[0], 3);
	ring_end(&m[0]);	/* the records are there; only HUP says so */
	EXPECT_EQ(3, swprof_poller_poll(p, 1000));
	EXPECT_EQ(3, c[0].records);
	EXPECT_EQ(1, c[0].ends);
	/* out of the poller: removing it again is -ENOENT, and no second end */
	EXPECT_EQ(-ENOENT, swprof_poller_remove(p, m[0].t));
	EXPECT_EQ(0, swprof_poller_poll(p, 0));
	EXPECT_EQ(1, c[0].ends);
	EXPECT_EQ(0, c[1].ends);
	swprof_poller_free(p);
	for (i = 0; i < 2; i++)
		ring_free(&m[i]);
}

TEST(removed_targets_are_not_read_and_consume_needs_no_wakeup)
{
	struct swprof_poller *p;
	struct mem_ring m[2];
	struct counts c[2] = { { .tid = 1 }, { .tid = 2 } };
	struct swprof_comm rec = { .hdr = { .size = sizeof(rec), .type = SWPROF_REC_COMM }, .tid = 2 };
	int i;

	ASSERT_EQ(0, swprof_poller_new(NULL, &p));
	for (i = 0; i < 2; i++) {
		ring_init(&m[i], 1 + i);
		ASSERT_EQ(0, swprof_poller_add(p, m[i].t, count_cb, &c[i]));
	}
	EXPECT_EQ(0, swprof_poller_remove(p, m[0].t));
	ring_put(&m[0], 4);
	/* a record with no wakeup at all: only a sweep finds it */
	memcpy(m[1].data, &rec, sizeof(rec));
	m[1].hdr.producer_pos = sizeof(rec);
	EXPECT_EQ(0, swprof_poller_poll(p, 0) < 0);
	EXPECT_EQ(1, swprof_poller_consume(p));
	EXPECT_EQ(0, c[0].records);
	EXPECT_EQ(1, c[1].records);
	swprof_poller_free(p);
	for (i = 0; i < 2; i++)
		ring_free(&m[i]);
}

TEST(a_callback_error_stops_the_poll)
{
	struct swprof_poller *p;
	struct mem_ring m;
	struct counts c = { .tid = 5, .fail_at = 2 };

	ASSERT_EQ(0, swprof_poller_new(NULL, &p));
	ring_init(&m, 5);
	ASSERT_EQ(0, swprof_poller_add(p, m.t, count_cb, &c));
	ring_put(&m, 4);
	EXPECT_EQ(-EIO, swprof_poller_poll(p, 1000));
	EXPECT_EQ(2, c.records);
	/* the failing record was consumed; the rest comes next time */
	EXPECT_EQ(2, swprof_poller_poll(p, 1000));
	EXPECT_EQ(4, c.records);
	EXPECT_EQ(-EINVAL, swprof_poller_add(p, NULL, count_cb, &c));
	EXPECT_EQ(-EINVAL, swprof_poller_add(p, m.t, NULL, &c));
	swprof_poller_free(p);
	ring_free(&m);
}

TEST(options_from_the_future_are_einval)
{
	struct { struct swprof_poller_opts o; long extra; } big = { .o = { .sz = sizeof(big) }, .extra = 1 };
	struct swprof_poller *p = (void *)1;

	EXPECT_EQ(-EINVAL, swprof_poller_new(&big.o, &p));
	EXPECT_EQ(NULL, p);
	big.extra = 0;
	ASSERT_EQ(0, swprof_poller_new(&big.o, &p));
	swprof_poller_free(p);
}

static char logged[512];
static int log_calls;

static void log_cb(void *ctx, enum swprof_log_level level, const char *msg)
{
	log_calls++;
	snprintf(logged, sizeof(logged), "%d %s %s", level, (const char *)ctx, msg);
}

TEST(the_library_logs_through_the_callback_only)
{
	struct mem_ring m;
	const struct swprof_rec *rec;

	ring_init(&m, 9);
	/* a record whose size is not a multiple of 8: a corrupt ring */
	((struct swprof_rec *)m.data)->size = 13;
	m.hdr.producer_pos = 16;
	log_calls = 0;
	EXPECT_EQ(-EBADMSG, swprof_target_next(m.t, &rec));
	EXPECT_EQ(0, log_calls);	/* no callback: nothing, anywhere */
	swprof_set_log_fn(log_cb, "ctx");
	EXPECT_EQ(-EBADMSG, swprof_target_next(m.t, &rec));
	swprof_set_log_fn(NULL, NULL);
	EXPECT_EQ(1, log_calls);
	EXPECT_NE(NULL, strstr(logged, "0 ctx ring of fd")) TH_LOG("%s", logged);
	EXPECT_NE(NULL, strstr(logged, "record of 13 bytes")) TH_LOG("%s", logged);
	ring_free(&m);
}

TEST_HARNESS_MAIN
