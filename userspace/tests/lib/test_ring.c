// SPDX-License-Identifier: GPL-2.0-only
/*
 * libswprof ring reader against a ring laid out in memory exactly as
 * swprof.ko lays it out: header page, consumer page, and the data pages
 * mapped twice in a row (a memfd mapped at two adjacent addresses).  The
 * producer here behaves as the kernel's: release store of producer_pos,
 * drop-new when full, in-band LOST records.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* The 6.1 harness defines global functions and compares with the literal's type. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "swprof_internal.h"

#define RING_SIZE	4096

struct fake_ring {
	struct swprof_ring_header *hdr;
	struct swprof_ring_consumer *cons;
	unsigned char *data;		/* RING_SIZE bytes, twice */
	__u64 seq;			/* next seq to hand out */
	__u64 lost_first;		/* seq of the first record in lost_pending */
	__u64 dropped;			/* every record dropped, reported or not */
};

static int fake_ring_init(struct fake_ring *r)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *base;
	int fd;

	memset(r, 0, sizeof(*r));
	r->hdr = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r->cons = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->hdr == MAP_FAILED || r->cons == MAP_FAILED)
		return -1;
	r->hdr->version = SWPROF_RING_VERSION;
	r->hdr->header_size = sizeof(*r->hdr);
	r->hdr->data_size = RING_SIZE;
	r->hdr->tid = 4242;

	fd = memfd_create("fake-ring", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, RING_SIZE))
		return -1;
	base = mmap(NULL, 2 * RING_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED ||
	    mmap(base, RING_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED ||
	    mmap(base + RING_SIZE, RING_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
		return -1;
	close(fd);
	r->data = base;
	return 0;
}

static __u64 fake_prod(struct fake_ring *r)
{
	return r->hdr->producer_pos;
}

/* Copy a whole record at the producer position and publish it. */
static void fake_publish(struct fake_ring *r, const void *rec, __u32 size)
{
	__u64 prod = fake_prod(r);

	memcpy(r->data + (prod & (RING_SIZE - 1)), rec, size);
	__atomic_store_n(&r->hdr->producer_pos, prod + size, __ATOMIC_RELEASE);
}

static bool fake_room(struct fake_ring *r, __u32 size)
{
	__u64 cons = __atomic_load_n(&r->cons->consumer_pos, __ATOMIC_ACQUIRE);

	return fake_prod(r) - cons + size <= RING_SIZE;
}

/* Bytes of payload after the 24-byte header: a pattern derived from seq. */
static void fill_payload(struct swprof_rec *rec)
{
	__u64 *w = (__u64 *)(rec + 1);
	__u32 i;

	for (i = 0; i < (rec->size - sizeof(*rec)) / 8; i++)
		w[i] = rec->seq * 1000 + i;
}

static bool payload_ok(const struct swprof_rec *rec)
{
	const __u64 *w = (const __u64 *)(rec + 1);
	__u32 i;

	for (i = 0; i < (rec->size - sizeof(*rec)) / 8; i++)
		if (w[i] != rec->seq * 1000 + i)
			return false;
	return true;
}

/*
 * Kernel-like producer of one record of @size bytes: report pending drops
 * first, and drop the new record when there is no room.  Returns true if
 * the record went in.
 */
static bool fake_produce(struct fake_ring *r, __u16 type, __u32 size)
{
	union {
		struct swprof_rec rec;
		struct swprof_lost lost;
		__u64 words[RING_SIZE / 8];
	} buf;
	__u64 pending = r->hdr->lost_pending;

	if (pending) {
		if (!fake_room(r, sizeof(buf.lost) + size))
			goto drop;
		memset(&buf, 0, sizeof(buf.lost));
		buf.lost.hdr.size = sizeof(buf.lost);
		buf.lost.hdr.type = SWPROF_REC_LOST;
		buf.lost.hdr.seq = r->lost_first;
		buf.lost.count = pending;
		buf.lost.first_seq = r->lost_first;
		buf.lost.last_seq = r->lost_first + pending - 1;
		fake_publish(r, &buf, sizeof(buf.lost));
		r->hdr->lost_pending = 0;
	}
	if (!fake_room(r, size))
		goto drop;
	memset(&buf, 0, size);
	buf.rec.size = size;
	buf.rec.type = type;
	buf.rec.seq = r->seq++;
	buf.rec.time_ns = buf.rec.seq;
	fill_payload(&buf.rec);
	fake_publish(r, &buf, size);
	return true;
drop:
	if (!r->hdr->lost_pending)
		r->lost_first = r->seq;
	r->hdr->lost_pending++;
	r->hdr->lost++;
	r->dropped++;
	r->seq++;
	return false;
}

FIXTURE(ring) {
	struct fake_ring r;
	struct swprof_target *t;
};

FIXTURE_SETUP(ring)
{
	ASSERT_EQ(0, fake_ring_init(&self->r));
	ASSERT_EQ(0, swprof_target_from_mem(self->r.hdr, self->r.cons, self->r.data, -1, &self->t));
}

FIXTURE_TEARDOWN(ring)
{
	swprof_target_free(self->t);
}

TEST_F(ring, empty_ring_has_no_record)
{
	const struct swprof_rec *rec = (void *)1;

	EXPECT_EQ(0, swprof_target_next(self->t, &rec));
	EXPECT_EQ(NULL, rec);
	EXPECT_EQ(4242, swprof_target_tid(self->t));
	EXPECT_EQ(self->r.hdr, swprof_target_header(self->t));
}

TEST_F(ring, next_returns_records_in_order_and_consume_publishes)
{
	const struct swprof_rec *rec;
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_TRUE(fake_produce(&self->r, SWPROF_REC_EXIT, 24 + 8 * i));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, swprof_target_next(self->t, &rec));
		EXPECT_EQ(i, rec->seq);
		EXPECT_EQ(24 + 8 * i, rec->size);
		EXPECT_TRUE(payload_ok(rec));
	}
	EXPECT_EQ(0, swprof_target_next(self->t, &rec));
	/* Nothing is given back before consume. */
	EXPECT_EQ(0, self->r.cons->consumer_pos);
	swprof_target_consume(self->t);
	EXPECT_EQ(fake_prod(&self->r), self->r.cons->consumer_pos);
}

TEST_F(ring, records_across_the_end_read_whole_through_the_double_map)
{
	const struct swprof_rec *rec;
	__u64 expect = 0, pos, straddled = 0;
	int i;

	/* 200 does not divide 4096: records keep landing across the end. */
	for (i = 0; i < 200; i++) {
		ASSERT_TRUE(fake_produce(&self->r, SWPROF_REC_SAMPLE, 200));
		if (i % 3 != 2)
			continue;
		while (pos = self->r.cons->consumer_pos,
		       swprof_target_next(self->t, &rec) == 1) {
			EXPECT_EQ(expect++, rec->seq);
			ASSERT_TRUE(payload_ok(rec));
			straddled += (pos & (RING_SIZE - 1)) + rec->size > RING_SIZE;
			swprof_target_consume(self->t);
		}
	}
	EXPECT_EQ(198, expect);
	EXPECT_GT(straddled, 5);
	EXPECT_GT(fake_prod(&self->r), 9 * RING_SIZE);
}

TEST_F(ring, a_record_as_large_as_the_ring_is_readable_anywhere)
{
	const struct swprof_rec *rec;

	ASSERT_TRUE(fake_produce(&self->r, SWPROF_REC_EXEC, 1000));
	ASSERT_EQ(1, swprof_target_next(self->t, &rec));
	swprof_target_consume(self->t);
	ASSERT_TRUE(fake_produce(&self->r, SWPROF_REC_SAMPLE, RING_SIZE));
	ASSERT_EQ(1, swprof_target_next(self->t, &rec));
	EXPECT_EQ(RING_SIZE, rec->size);
	EXPECT_TRUE(payload_ok(rec));
}

static int count_cb(void *ctx, const struct swprof_rec *rec)
{
	int *n = ctx;

	(*n)++;
	return 0;
}

struct stop_at {
	__u64 seq;
	int ret;
};

static int stop_cb(void *ctx, const struct swprof_rec *rec)
{
	const struct stop_at *stop = ctx;

	return rec->seq == stop->seq ? stop->ret : 0;
}

static int produce_cb(void *ctx, const struct swprof_rec *rec)
{
	fake_produce(ctx, SWPROF_REC_EXIT, 32);
	return 0;
}

TEST_F(ring, read_honours_max_records_and_consumes_what_it_read)
{
	int seen = 0, i;

	for (i = 0; i < 10; i++)
		ASSERT_TRUE(fake_produce(&self->r, SWPROF_REC_EXIT, 32));
	EXPECT_EQ(4, swprof_target_read(self->t, count_cb, &seen, 4));
	EXPECT_EQ(4, seen);
	EXPECT_EQ(4 * 32, self->r.cons->consumer_pos);
	EXPECT_EQ(6, swprof_target_read(self->t, count_cb, &seen, 0));
	EXPECT_EQ(fake_prod(&self->r), self->r.cons->consumer_pos);
	EXPECT_EQ(0, swprof_target_read(self->t, count_cb, &seen, 0));
}

TEST_F(ring, read_stops_on_callback_request)
{
	struct stop_at fail = { .seq = 1, .ret = -ECANCELED }, stop = { .seq = 3, .ret = 1 };
	int i;

	for (i = 0; i < 5; i++)
		ASSERT_TRUE(fake_produce(&self->r, SWPROF_REC_EXIT, 32));
	/* Negative: that error; the record is consumed all the same. */
	EXPECT_EQ(-ECANCELED, swprof_target_read(self->t, stop_cb, &fail, 0));
	EXPECT_EQ(2 * 32, self->r.cons->consumer_pos);
	/* Positive: stop without error, counting the record. */
	EXPECT_EQ(2, swprof_target_read(self->t, stop_cb, &stop, 0));
	EXPECT_EQ(4 * 32, self->r.cons->consumer_pos);
}

TEST_F(ring, read_of_a_busy_ring_ends)
{
	/* Each record read makes one more: the producer snapshot bounds the read. */
	ASSERT_TRUE(fake_produce(&self->r, SWPROF_REC_EXIT, 32));
	ASSERT_TRUE(fake_produce(&self->r, SWPROF_REC_EXIT, 32));
	ASSERT_TRUE(fake_produce(&self->r, SWPROF_REC_EXIT, 32));
	EXPECT_EQ(3, swprof_target_read(self->t, produce_cb, &self->r, 0));
	EXPECT_EQ(3, swprof_target_read(self->t, produce_cb, &self->r, 0));
}

/* Publish raw bytes as if they were a record, for corruption tests. */
static void publish_raw(struct fake_ring *r, __u32 size_field, __u32 bytes)
{
	struct swprof_rec rec = { .size = size_field, .type = SWPROF_REC_SAMPLE };
	__u64 prod = fake_prod(r);

	memcpy(r->data + (prod & (RING_SIZE - 1)), &rec, sizeof(rec));
	__atomic_store_n(&r->hdr->producer_pos, prod + bytes, __ATOMIC_RELEASE);
}

static void expect_corrupt_twice(struct __test_metadata *_metadata, struct swprof_target *t)
{
	const struct swprof_rec *rec;
	int seen = 0;

	EXPECT_EQ(-EBADMSG, swprof_target_next(t, &rec));
	/* Stays stuck on the bad record instead of skipping into garbage. */
	EXPECT_EQ(-EBADMSG, swprof_target_next(t, &rec));
	EXPECT_EQ(-EBADMSG, swprof_target_read(t, count_cb, &seen, 0));
	EXPECT_EQ(0, seen);
}

TEST_F(ring, size_zero_is_corruption)
{
	publish_raw(&self->r, 0, 64);
	expect_corrupt_twice(_metadata, self->t);
}

TEST_F(ring, misaligned_size_is_corruption)
{
	publish_raw(&self->r, 28, 32);
	expect_corrupt_twice(_metadata, self->t);
}

TEST_F(ring, size_below_the_header_is_corruption)
{
	publish_raw(&self->r, 16, 16);
	expect_corrupt_twice(_metadata, self->t);
}

TEST_F(ring, size_larger_than_the_ring_is_corruption)
{
	publish_raw(&self->r, RING_SIZE + 8, RING_SIZE);
	expect_corrupt_twice(_metadata, self->t);
}

TEST_F(ring, record_past_the_producer_is_corruption)
{
	publish_raw(&self->r, 64, 32);
	expect_corrupt_twice(_metadata, self->t);
}

TEST_F(ring, producer_behind_the_reader_is_corruption)
{
	const struct swprof_rec *rec;

	ASSERT_TRUE(fake_produce(&self->r, SWPROF_REC_EXIT, 32));
	ASSERT_EQ(1, swprof_target_next(self->t, &rec));
	self->r.hdr->producer_pos = 8;
	expect_corrupt_twice(_metadata, self->t);
}

TEST_F(ring, producer_more_than_a_ring_ahead_is_corruption)
{
	self->r.hdr->producer_pos = RING_SIZE + 8;
	expect_corrupt_twice(_metadata, self->t);
}

TEST_F(ring, misaligned_producer_is_corruption)
{
	self->r.hdr->producer_pos = 4;
	expect_corrupt_twice(_metadata, self->t);
}

TEST_F(ring, read_consumes_good_records_before_a_corrupt_one)
{
	int seen = 0;

	ASSERT_TRUE(fake_produce(&self->r, SWPROF_REC_EXIT, 32));
	ASSERT_TRUE(fake_produce(&self->r, SWPROF_REC_EXIT, 32));
	publish_raw(&self->r, 0, 32);
	EXPECT_EQ(-EBADMSG, swprof_target_read(self->t, count_cb, &seen, 0));
	EXPECT_EQ(2, seen);
	EXPECT_EQ(64, self->r.cons->consumer_pos);
}

TEST_F(ring, reader_starts_at_the_consumer_position)
{
	struct swprof_target *t2;
	const struct swprof_rec *rec;

	ASSERT_TRUE(fake_produce(&self->r, SWPROF_REC_EXIT, 32));
	ASSERT_TRUE(fake_produce(&self->r, SWPROF_REC_EXIT, 32));
	ASSERT_EQ(1, swprof_target_next(self->t, &rec));
	swprof_target_consume(self->t);
	ASSERT_EQ(0, swprof_target_from_mem(self->r.hdr, self->r.cons, self->r.data, -1, &t2));
	ASSERT_EQ(1, swprof_target_next(t2, &rec));
	EXPECT_EQ(1, rec->seq);
	swprof_target_free(t2);
}

TEST_F(ring, overflow_is_fully_accounted_by_lost_records)
{
	struct swprof_seq_tracker tr;
	const struct swprof_rec *rec;
	__u64 written = 0;
	int i, lost_recs = 0;

	swprof_seq_tracker_init(&tr);
	for (i = 0; i < 2000; i++) {
		written += fake_produce(&self->r, SWPROF_REC_SAMPLE, 8 * (3 + i % 13));
		if (i % 97)	/* a slow reader: the ring overflows */
			continue;
		while (swprof_target_next(self->t, &rec) == 1) {
			lost_recs += rec->type == SWPROF_REC_LOST;
			swprof_seq_tracker_add(&tr, rec);
		}
		swprof_target_consume(self->t);
	}
	while (swprof_target_next(self->t, &rec) == 1)
		swprof_seq_tracker_add(&tr, rec);
	swprof_seq_tracker_finish(&tr, self->t);

	EXPECT_GT(lost_recs, 5);
	EXPECT_EQ(0, tr.gaps);
	EXPECT_EQ(0, tr.bad);
	EXPECT_EQ(written, tr.records);
	EXPECT_EQ(self->r.dropped, tr.lost + tr.lost_pending);
	EXPECT_EQ(2000, tr.records + tr.lost + tr.lost_pending);
}

TEST(bad_ring_headers_are_refused)
{
	struct swprof_ring_header hdr = {
		.version = SWPROF_RING_VERSION,
		.header_size = sizeof(hdr),
		.data_size = 4096,
	};
	struct swprof_ring_consumer cons = { 0 };
	struct swprof_target *t;

	ASSERT_EQ(0, swprof_target_from_mem(&hdr, &cons, NULL, -1, &t));
	swprof_target_free(t);
	hdr.version = SWPROF_RING_VERSION + 1;
	EXPECT_EQ(-EPROTO, swprof_target_from_mem(&hdr, &cons, NULL, -1, &t));
	EXPECT_EQ(NULL, t);
	hdr.version = SWPROF_RING_VERSION;
	hdr.header_size = 64;
	EXPECT_EQ(-EPROTO, swprof_target_from_mem(&hdr, &cons, NULL, -1, &t));
	hdr.header_size = sizeof(hdr);
	hdr.data_size = 3 * 4096;
	EXPECT_EQ(-EPROTO, swprof_target_from_mem(&hdr, &cons, NULL, -1, &t));
	hdr.data_size = 0;
	EXPECT_EQ(-EPROTO, swprof_target_from_mem(&hdr, &cons, NULL, -1, &t));
}

FIXTURE(wait) {
	struct fake_ring r;
	struct swprof_target *t;
	int pipe[2];
};

/* A pipe stands in for the target fd: readable = data, writer gone = HUP. */
FIXTURE_SETUP(wait)
{
	ASSERT_EQ(0, fake_ring_init(&self->r));
	ASSERT_EQ(0, pipe2(self->pipe, O_CLOEXEC));
	ASSERT_EQ(0, swprof_target_from_mem(self->r.hdr, self->r.cons, self->r.data,
					    self->pipe[0], &self->t));
}

FIXTURE_TEARDOWN(wait)
{
	swprof_target_free(self->t);
	close(self->pipe[0]);
	if (self->pipe[1] >= 0)
		close(self->pipe[1]);
}

TEST_F(wait, times_out_with_nothing_to_read)
{
	EXPECT_EQ(SWPROF_WAIT_TIMEOUT, swprof_target_wait(self->t, 10));
	EXPECT_EQ(self->pipe[0], swprof_target_fd(self->t));
}

TEST_F(wait, reports_data)
{
	ASSERT_EQ(1, write(self->pipe[1], "x", 1));
	EXPECT_EQ(SWPROF_WAIT_DATA, swprof_target_wait(self->t, -1));
}

TEST_F(wait, reports_data_before_exit)
{
	ASSERT_EQ(1, write(self->pipe[1], "x", 1));
	close(self->pipe[1]);
	self->pipe[1] = -1;
	EXPECT_EQ(SWPROF_WAIT_DATA, swprof_target_wait(self->t, -1));
}

TEST_F(wait, reports_exit_when_drained)
{
	close(self->pipe[1]);
	self->pipe[1] = -1;
	EXPECT_EQ(SWPROF_WAIT_EXITED, swprof_target_wait(self->t, -1));
}

TEST_HARNESS_MAIN
