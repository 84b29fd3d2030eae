// SPDX-License-Identifier: GPL-2.0-only
/* libswprof record decoding and sequence accounting, on records built by hand. */
#include <stdlib.h>

/* The 6.1 harness defines global functions and compares with the literal's type. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "swprof_internal.h"

#define KBASE	0xffffffff81000000ULL
#define UBASE	0x0000555555554000ULL

static __u64 buf[4096];

/* A sample as the kernel writes it: ips, then regs and raw bytes if raw. */
static struct swprof_sample *make_sample(__u16 nk, __u16 nu, __u32 raw)
{
	struct swprof_sample *s = (void *)buf;
	__u64 *p = s->data;
	unsigned int i;

	memset(buf, 0, sizeof(buf));
	s->hdr.type = SWPROF_REC_SAMPLE;
	s->hdr.seq = 7;
	s->tid = 1234;
	s->nr_kernel = nk;
	s->nr_user = nu;
	s->raw_size = raw;
	for (i = 0; i < nk; i++)
		*p++ = KBASE + i;
	for (i = 0; i < nu; i++)
		*p++ = UBASE + i;
	if (raw) {
		for (i = 0; i < SWPROF_UREGS_NR; i++)
			*p++ = 100 + i;
		memset(p, 0xab, raw);
		p += (raw + 7) / 8;
	}
	s->hdr.size = (char *)p - (char *)s;
	return s;
}

TEST(sample_without_raw_stack_has_ips_only)
{
	struct swprof_sample *s = make_sample(3, 5, 0);
	const __u64 *ips;

	ASSERT_TRUE(swprof_rec_valid(&s->hdr));
	ips = swprof_sample_ips(s);
	ASSERT_NE(NULL, ips);
	EXPECT_EQ(KBASE, ips[0]);	/* kernel leaf first */
	EXPECT_EQ(KBASE + 2, ips[2]);
	EXPECT_EQ(UBASE, ips[3]);	/* then the user leaf */
	EXPECT_EQ(UBASE + 4, ips[7]);
	EXPECT_EQ(NULL, swprof_sample_regs(s));
	EXPECT_EQ(NULL, swprof_sample_raw_stack(s));
}

TEST(sample_with_raw_stack_has_regs_and_bytes)
{
	struct swprof_sample *s = make_sample(0, 2, 20);	/* 20: padded to 24 */
	const __u64 *regs;
	const __u8 *raw;
	unsigned int i;

	ASSERT_TRUE(swprof_rec_valid(&s->hdr));
	EXPECT_EQ(sizeof(*s) + 8 * 2 + 8 * SWPROF_UREGS_NR + 24, s->hdr.size);
	EXPECT_EQ(UBASE + 1, swprof_sample_ips(s)[1]);
	regs = swprof_sample_regs(s);
	ASSERT_NE(NULL, regs);
	EXPECT_EQ(100 + SWPROF_UREG_SP, regs[SWPROF_UREG_SP]);
	EXPECT_EQ(100 + SWPROF_UREG_IP, regs[SWPROF_UREG_IP]);
	raw = swprof_sample_raw_stack(s);
	ASSERT_NE(NULL, raw);
	EXPECT_EQ((const __u8 *)(regs + SWPROF_UREGS_NR), raw);
	for (i = 0; i < 20; i++)
		EXPECT_EQ(0xab, raw[i]);
}

TEST(sample_with_empty_stacks_is_valid)
{
	struct swprof_sample *s = make_sample(0, 0, 0);

	EXPECT_EQ(sizeof(*s), s->hdr.size);
	EXPECT_TRUE(swprof_rec_valid(&s->hdr));
	EXPECT_NE(NULL, swprof_sample_ips(s));
}

TEST(sample_larger_than_its_parts_is_valid)
{
	struct swprof_sample *s = make_sample(1, 1, 8);

	s->hdr.size += 16;	/* a later minor may append fields */
	EXPECT_TRUE(swprof_rec_valid(&s->hdr));
	EXPECT_NE(NULL, swprof_sample_raw_stack(s));
}

TEST(sample_whose_ips_overflow_is_refused)
{
	struct swprof_sample *s = make_sample(2, 2, 0);

	s->nr_user = 3;
	EXPECT_FALSE(swprof_rec_valid(&s->hdr));
	EXPECT_EQ(NULL, swprof_sample_ips(s));
	s->nr_kernel = 0xffff;
	s->nr_user = 0xffff;
	EXPECT_FALSE(swprof_rec_valid(&s->hdr));
}

TEST(sample_whose_raw_stack_overflows_is_refused)
{
	struct swprof_sample *s = make_sample(1, 1, 64);

	s->raw_size = 65;	/* padding makes it 72: 8 bytes too many */
	EXPECT_FALSE(swprof_rec_valid(&s->hdr));
	EXPECT_EQ(NULL, swprof_sample_regs(s));
	EXPECT_EQ(NULL, swprof_sample_raw_stack(s));
	s->raw_size = 0xffffffff;
	EXPECT_FALSE(swprof_rec_valid(&s->hdr));
	/* Without raw_size, regs would not fit in zero bytes either. */
	s = make_sample(1, 1, 0);
	s->raw_size = 8;
	EXPECT_FALSE(swprof_rec_valid(&s->hdr));
}

TEST(sample_shorter_than_its_fixed_part_is_refused)
{
	struct swprof_sample *s = make_sample(0, 0, 0);

	s->hdr.size = sizeof(*s) - 8;
	EXPECT_FALSE(swprof_rec_valid(&s->hdr));
	EXPECT_EQ(NULL, swprof_sample_ips(s));
}

TEST(sample_helpers_refuse_other_types)
{
	struct swprof_sample *s = make_sample(1, 1, 8);

	s->hdr.type = SWPROF_REC_EXIT;
	EXPECT_TRUE(swprof_rec_valid(&s->hdr));
	EXPECT_EQ(NULL, swprof_sample_ips(s));
	EXPECT_EQ(NULL, swprof_sample_regs(s));
}

TEST(fixed_size_records_must_fit)
{
	static const struct { __u16 type; __u32 size; } types[] = {
		{ SWPROF_REC_LOST, sizeof(struct swprof_lost) },
		{ SWPROF_REC_EXIT, sizeof(struct swprof_exit) },
		{ SWPROF_REC_EXEC, sizeof(struct swprof_exec) },
	};
	struct swprof_rec *rec = (void *)buf;
	unsigned int i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memset(buf, 0, sizeof(buf));
		rec->type = types[i].type;
		rec->size = types[i].size;
		EXPECT_TRUE(swprof_rec_valid(rec));
		rec->size = types[i].size - 8;
		EXPECT_FALSE(swprof_rec_valid(rec));
	}
}

TEST(unknown_types_are_only_checked_for_size)
{
	struct swprof_rec rec = { .size = sizeof(rec), .type = 999 };

	EXPECT_TRUE(swprof_rec_valid(&rec));
	rec.size = 28;
	EXPECT_FALSE(swprof_rec_valid(&rec));
	rec.size = 16;
	EXPECT_FALSE(swprof_rec_valid(&rec));
	rec.size = 0;
	EXPECT_FALSE(swprof_rec_valid(&rec));
}

TEST(type_names)
{
	EXPECT_STREQ("sample", swprof_rec_type_name(SWPROF_REC_SAMPLE));
	EXPECT_STREQ("lost", swprof_rec_type_name(SWPROF_REC_LOST));
	EXPECT_STREQ("exit", swprof_rec_type_name(SWPROF_REC_EXIT));
	EXPECT_STREQ("exec", swprof_rec_type_name(SWPROF_REC_EXEC));
	EXPECT_STREQ("unknown", swprof_rec_type_name(0));
	EXPECT_STREQ("unknown", swprof_rec_type_name(77));
}

/* ---- sequence tracker ---- */

static void add_rec(struct swprof_seq_tracker *tr, __u64 seq)
{
	struct swprof_rec rec = { .size = sizeof(rec), .type = SWPROF_REC_SAMPLE, .seq = seq };

	swprof_seq_tracker_add(tr, &rec);
}

static void add_lost(struct swprof_seq_tracker *tr, __u64 first, __u64 last, __u64 count)
{
	struct swprof_lost l = {
		.hdr = { .size = sizeof(l), .type = SWPROF_REC_LOST, .seq = first },
		.count = count,
		.first_seq = first,
		.last_seq = last,
	};

	swprof_seq_tracker_add(tr, &l.hdr);
}

FIXTURE(tracker) {
	struct swprof_seq_tracker tr;
};

FIXTURE_SETUP(tracker)
{
	memset(&self->tr, 0xcc, sizeof(self->tr));
	swprof_seq_tracker_init(&self->tr);
}

FIXTURE_TEARDOWN(tracker)
{
}

TEST_F(tracker, contiguous_records_have_no_gap)
{
	int i;

	for (i = 0; i < 10; i++)
		add_rec(&self->tr, i);
	EXPECT_EQ(10, self->tr.records);
	EXPECT_EQ(0, self->tr.gaps);
	EXPECT_EQ(0, self->tr.lost);
	EXPECT_EQ(0, self->tr.bad);
	EXPECT_EQ(10, self->tr.next_seq);
}

TEST_F(tracker, gap_covered_by_lost_is_explained)
{
	add_rec(&self->tr, 0);
	add_rec(&self->tr, 1);
	add_lost(&self->tr, 2, 4, 3);
	add_rec(&self->tr, 5);
	add_rec(&self->tr, 6);
	EXPECT_EQ(4, self->tr.records);
	EXPECT_EQ(3, self->tr.lost);
	EXPECT_EQ(0, self->tr.gaps);
	EXPECT_EQ(0, self->tr.bad);
}

TEST_F(tracker, gap_without_lost_is_counted)
{
	add_rec(&self->tr, 0);
	add_rec(&self->tr, 1);
	add_rec(&self->tr, 4);
	EXPECT_EQ(2, self->tr.gaps);
	add_lost(&self->tr, 5, 6, 2);
	add_rec(&self->tr, 9);	/* 7 and 8 unexplained */
	EXPECT_EQ(4, self->tr.gaps);
	EXPECT_EQ(2, self->tr.lost);
}

TEST_F(tracker, first_record_sets_the_base)
{
	add_rec(&self->tr, 100);
	add_rec(&self->tr, 101);
	EXPECT_EQ(0, self->tr.gaps);
}

TEST_F(tracker, ring_may_start_with_lost)
{
	add_lost(&self->tr, 0, 2, 3);
	add_rec(&self->tr, 3);
	EXPECT_EQ(0, self->tr.gaps);
	EXPECT_EQ(3, self->tr.lost);
	EXPECT_EQ(1, self->tr.records);
}

TEST_F(tracker, seq_going_back_is_bad)
{
	add_rec(&self->tr, 0);
	add_rec(&self->tr, 1);
	add_rec(&self->tr, 1);
	EXPECT_EQ(1, self->tr.bad);
	EXPECT_EQ(0, self->tr.gaps);
}

TEST_F(tracker, inconsistent_lost_is_bad)
{
	struct swprof_lost l = {
		.hdr = { .size = sizeof(l), .type = SWPROF_REC_LOST, .seq = 9 },
		.count = 2, .first_seq = 1, .last_seq = 2,
	};

	add_rec(&self->tr, 0);
	add_lost(&self->tr, 1, 2, 5);		/* count does not match the range */
	add_lost(&self->tr, 2, 1, 0);		/* empty range */
	swprof_seq_tracker_add(&self->tr, &l.hdr);	/* hdr.seq != first_seq */
	l.hdr.seq = 1;
	l.hdr.size = 24;			/* too short for a LOST record */
	swprof_seq_tracker_add(&self->tr, &l.hdr);
	EXPECT_EQ(4, self->tr.bad);
	EXPECT_EQ(0, self->tr.lost);
}

TEST_F(tracker, finish_takes_lost_pending_from_the_header)
{
	struct swprof_ring_header *hdr = calloc(1, sizeof(*hdr));
	struct swprof_ring_consumer cons = { 0 };
	struct swprof_target *t;

	ASSERT_NE(NULL, hdr);
	hdr->version = SWPROF_RING_VERSION;
	hdr->header_size = sizeof(*hdr);
	hdr->data_size = 4096;
	hdr->lost_pending = 7;
	ASSERT_EQ(0, swprof_target_from_mem(hdr, &cons, NULL, -1, &t));
	swprof_seq_tracker_finish(&self->tr, NULL);
	EXPECT_EQ(0, self->tr.lost_pending);
	swprof_seq_tracker_finish(&self->tr, t);
	EXPECT_EQ(7, self->tr.lost_pending);
	swprof_target_free(t);
	free(hdr);
}

TEST_HARNESS_MAIN
