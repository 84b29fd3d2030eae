// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of batches (agent_batch.h): identical stacks merge whatever
 * pointers their strings come from, frame order and the kernel/user split
 * keep stacks apart, batches merge, and the spool encoding round-trips
 * while its decoder refuses every truncation and each kind of lie.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "agent_batch.h"
#include "agent_bytes.h"

static struct agent_batch *new_batch(void)
{
	struct agent_batch *b;

	if (agent_batch_new("task-1", "proc-7", AGENT_TARGET_OFF_CPU, 1700000000000LL,
			    1700000005000LL, &b))
		abort();
	return b;
}

/* The stack whose frames are @kernel and @user (NULL-terminated lists); NULL when none. */
static const struct agent_stack *find(const struct agent_batch *b, const char *const *kernel,
				      const char *const *user)
{
	size_t i;
	uint32_t j, nk = 0, nu = 0;

	while (kernel[nk])
		nk++;
	while (user[nu])
		nu++;
	for (i = 0; i < b->nr_stacks; i++) {
		const struct agent_stack *s = &b->stacks[i];
		bool same = s->nr_kernel == nk && s->nr_user == nu;

		for (j = 0; same && j < nk; j++)
			same = !strcmp(s->kernel[j], kernel[j]);
		for (j = 0; same && j < nu; j++)
			same = !strcmp(s->user[j], user[j]);
		if (same)
			return s;
	}
	return NULL;
}

static const char *const none[] = { NULL };

TEST(identical_stacks_merge_whatever_their_pointers)
{
	struct agent_batch *b = new_batch();
	char leaf1[] = "leaf", leaf2[] = "leaf", root1[] = "main", root2[] = "main";
	const char *u1[] = { leaf1, root1 }, *u2[] = { leaf2, root2 };
	const char *k[] = { "do_syscall_64" };
	const struct agent_stack *s;

	ASSERT_EQ(0, agent_batch_add(b, k, 1, u1, 2, 1, 100));
	ASSERT_EQ(0, agent_batch_add(b, k, 1, u2, 2, 2, 250));
	/* the caller's buffers change: the batch holds copies */
	strcpy(leaf1, "xxxx");
	strcpy(leaf2, "yyyy");
	ASSERT_EQ(1, b->nr_stacks);
	s = &b->stacks[0];
	EXPECT_EQ(3, s->count);
	EXPECT_EQ(350, s->duration_ns);
	EXPECT_EQ(3, b->samples);
	ASSERT_EQ(1, s->nr_kernel);
	ASSERT_EQ(2, s->nr_user);
	EXPECT_STREQ("do_syscall_64", s->kernel[0]);
	EXPECT_STREQ("leaf", s->user[0]);
	EXPECT_STREQ("main", s->user[1]);
	agent_batch_free(b);
}

TEST(strings_are_interned_once_per_batch)
{
	struct agent_batch *b = new_batch();
	const char *u1[] = { "f", "main" }, *u2[] = { "g", "main" };

	ASSERT_EQ(0, agent_batch_add(b, NULL, 0, u1, 2, 1, 0));
	ASSERT_EQ(0, agent_batch_add(b, NULL, 0, u2, 2, 1, 0));
	ASSERT_EQ(2, b->nr_stacks);
	EXPECT_EQ(b->stacks[0].user[1], b->stacks[1].user[1]);
	EXPECT_NE(b->stacks[0].user[0], b->stacks[1].user[0]);
	agent_batch_free(b);
}

TEST(frame_order_and_the_kernel_user_split_keep_stacks_apart)
{
	struct agent_batch *b = new_batch();
	const char *ab[] = { "a", "b" }, *ba[] = { "b", "a" }, *a[] = { "a" }, *bb[] = { "b" };

	ASSERT_EQ(0, agent_batch_add(b, NULL, 0, ab, 2, 1, 10));
	ASSERT_EQ(0, agent_batch_add(b, NULL, 0, ba, 2, 2, 20));
	ASSERT_EQ(0, agent_batch_add(b, a, 1, bb, 1, 4, 40));
	ASSERT_EQ(0, agent_batch_add(b, ab, 2, NULL, 0, 8, 80));
	ASSERT_EQ(0, agent_batch_add(b, NULL, 0, a, 1, 16, 160));
	ASSERT_EQ(0, agent_batch_add(b, NULL, 0, NULL, 0, 32, 320));
	ASSERT_EQ(6, b->nr_stacks);
	EXPECT_EQ(63, b->samples);
	EXPECT_EQ(1, find(b, none, (const char *[]){ "a", "b", NULL })->count);
	EXPECT_EQ(2, find(b, none, (const char *[]){ "b", "a", NULL })->count);
	EXPECT_EQ(4, find(b, (const char *[]){ "a", NULL }, (const char *[]){ "b", NULL })->count);
	EXPECT_EQ(8, find(b, (const char *[]){ "a", "b", NULL }, none)->count);
	EXPECT_EQ(16, find(b, none, (const char *[]){ "a", NULL })->count);
	EXPECT_EQ(320, find(b, none, none)->duration_ns);
	/* adding again lands on the same stacks */
	ASSERT_EQ(0, agent_batch_add(b, a, 1, bb, 1, 1, 1));
	ASSERT_EQ(0, agent_batch_add(b, NULL, 0, NULL, 0, 1, 1));
	EXPECT_EQ(6, b->nr_stacks);
	EXPECT_EQ(5, find(b, (const char *[]){ "a", NULL }, (const char *[]){ "b", NULL })->count);
	EXPECT_EQ(33, find(b, none, none)->count);
	EXPECT_EQ(65, b->samples);
	agent_batch_free(b);
}

TEST(many_stacks_stay_found_as_the_tables_grow)
{
	struct agent_batch *b = new_batch();
	char name[32];
	const char *u[2] = { name, "main" };
	int i, round;

	for (round = 0; round < 2; round++) {
		for (i = 0; i < 1000; i++) {
			snprintf(name, sizeof(name), "fn_%d", i);
			ASSERT_EQ(0, agent_batch_add(b, NULL, 0, u, 2, 1, i));
		}
	}
	EXPECT_EQ(1000, b->nr_stacks);
	EXPECT_EQ(2000, b->samples);
	EXPECT_EQ(2 * 777, find(b, none, (const char *[]){ "fn_777", "main", NULL })->duration_ns);
	agent_batch_free(b);
}

TEST(merge_adds_every_stack_and_keeps_the_later_time)
{
	struct agent_batch *a = new_batch(), *b = new_batch(), *other;
	const char *x[] = { "x", "main" }, *y[] = { "y", "main" }, *k[] = { "schedule" };

	ASSERT_EQ(0, agent_batch_add(a, k, 1, x, 2, 1, 10));
	ASSERT_EQ(0, agent_batch_add(b, k, 1, x, 2, 2, 20));
	ASSERT_EQ(0, agent_batch_add(b, NULL, 0, y, 2, 4, 40));
	b->time_ms += 5000;
	ASSERT_EQ(0, agent_batch_merge(a, b));
	EXPECT_EQ(2, a->nr_stacks);
	EXPECT_EQ(7, a->samples);
	EXPECT_EQ(1700000010000LL, a->time_ms);
	EXPECT_EQ(3, find(a, (const char *[]){ "schedule", NULL },
			  (const char *[]){ "x", "main", NULL })->count);
	EXPECT_EQ(30, find(a, (const char *[]){ "schedule", NULL },
			   (const char *[]){ "x", "main", NULL })->duration_ns);
	EXPECT_EQ(4, find(a, none, (const char *[]){ "y", "main", NULL })->count);
	/* the source is untouched, and an earlier time does not move the later one */
	EXPECT_EQ(6, b->samples);
	b->time_ms = 1;
	ASSERT_EQ(0, agent_batch_merge(a, b));
	EXPECT_EQ(1700000010000LL, a->time_ms);
	EXPECT_EQ(13, a->samples);
	/* another task's batch is refused */
	ASSERT_EQ(0, agent_batch_new("task-2", "proc-7", AGENT_TARGET_OFF_CPU, 0, 0, &other));
	EXPECT_EQ(-EINVAL, agent_batch_merge(a, other));
	agent_batch_free(other);
	agent_batch_free(a);
	agent_batch_free(b);
}

TEST(bytes_grow_with_content)
{
	struct agent_batch *b = new_batch();
	size_t empty = agent_batch_bytes(b), one, many;
	char name[64];
	const char *u[] = { name };
	int i;

	EXPECT_LT(sizeof(*b), empty);
	snprintf(name, sizeof(name), "a_function_with_a_long_name_0");
	ASSERT_EQ(0, agent_batch_add(b, NULL, 0, u, 1, 1, 0));
	one = agent_batch_bytes(b);
	EXPECT_LT(empty + strlen(name), one);
	for (i = 1; i < 500; i++) {
		snprintf(name, sizeof(name), "a_function_with_a_long_name_%d", i);
		ASSERT_EQ(0, agent_batch_add(b, NULL, 0, u, 1, 1, 0));
	}
	many = agent_batch_bytes(b);
	EXPECT_LT(one + 499 * strlen(name), many);
	/* merging into an existing stack costs nothing */
	ASSERT_EQ(0, agent_batch_add(b, NULL, 0, u, 1, 1, 0));
	EXPECT_EQ(many, agent_batch_bytes(b));
	agent_batch_free(b);
}

/* A batch of a few stacks, empty ones and shared strings included. */
static struct agent_batch *sample_batch(void)
{
	struct agent_batch *b = new_batch();
	const char *k[] = { "schedule", "do_nanosleep" }, *u1[] = { "nanosleep", "main" },
		   *u2[] = { "[MISSING]", "worker", "start_thread" }, *e[] = { "" };

	if (agent_batch_add(b, k, 2, u1, 2, 3, 3000000) ||
	    agent_batch_add(b, NULL, 0, u2, 3, 1, 17) ||
	    agent_batch_add(b, k, 1, NULL, 0, 5, 1ULL << 40) ||
	    agent_batch_add(b, NULL, 0, e, 1, 7, 0) ||
	    agent_batch_add(b, NULL, 0, NULL, 0, 11, 12))
		abort();
	return b;
}

static void expect_same(struct __test_metadata *_metadata, const struct agent_batch *a,
			const struct agent_batch *b)
{
	size_t i;
	uint32_t j;

	EXPECT_STREQ(a->task_id, b->task_id);
	EXPECT_STREQ(a->process_id, b->process_id);
	EXPECT_EQ(a->target, b->target);
	EXPECT_EQ(a->start_ms, b->start_ms);
	EXPECT_EQ(a->time_ms, b->time_ms);
	EXPECT_EQ(a->samples, b->samples);
	ASSERT_EQ(a->nr_stacks, b->nr_stacks);
	for (i = 0; i < a->nr_stacks; i++) {
		const struct agent_stack *x = &a->stacks[i], *y = &b->stacks[i];

		ASSERT_EQ(x->nr_kernel, y->nr_kernel);
		ASSERT_EQ(x->nr_user, y->nr_user);
		EXPECT_EQ(x->count, y->count);
		EXPECT_EQ(x->duration_ns, y->duration_ns);
		for (j = 0; j < x->nr_kernel; j++)
			EXPECT_STREQ(x->kernel[j], y->kernel[j]);
		for (j = 0; j < x->nr_user; j++)
			EXPECT_STREQ(x->user[j], y->user[j]);
	}
}

TEST(encode_decode_round_trip)
{
	struct agent_batch *b = sample_batch(), *d, *e;
	void *buf, *buf2;
	size_t len, len2;

	b->start_ms = -5;	/* signed fields survive */
	ASSERT_EQ(0, agent_batch_encode(b, &buf, &len));
	ASSERT_EQ(0, agent_batch_decode(buf, len, &d));
	expect_same(_metadata, b, d);
	EXPECT_EQ(-5, d->start_ms);
	EXPECT_EQ(AGENT_TARGET_OFF_CPU, d->target);
	/* the decoded batch is a batch like any: interned, mergeable, the same bytes again */
	EXPECT_EQ(d->stacks[0].kernel[0], d->stacks[2].kernel[0]);
	ASSERT_EQ(0, agent_batch_encode(d, &buf2, &len2));
	ASSERT_EQ(len, len2);
	EXPECT_EQ(0, memcmp(buf, buf2, len));
	ASSERT_EQ(0, agent_batch_merge(d, b));
	EXPECT_EQ(2 * b->samples, d->samples);
	EXPECT_EQ(b->nr_stacks, d->nr_stacks);
	free(buf2);
	free(buf);
	/* an empty batch too */
	ASSERT_EQ(0, agent_batch_new("", "p", AGENT_TARGET_ON_CPU, 0, 0, &e));
	ASSERT_EQ(0, agent_batch_encode(e, &buf, &len));
	agent_batch_free(d);
	ASSERT_EQ(0, agent_batch_decode(buf, len, &d));
	expect_same(_metadata, e, d);
	free(buf);
	agent_batch_free(d);
	agent_batch_free(e);
	agent_batch_free(b);
}

TEST(decode_refuses_every_truncation)
{
	struct agent_batch *b = sample_batch(), *d;
	unsigned char *copy;
	void *buf;
	size_t len, n;

	ASSERT_EQ(0, agent_batch_encode(b, &buf, &len));
	for (n = 0; n < len; n++) {
		/* a copy of exactly n bytes, so that a read past it is caught by ASan/valgrind */
		copy = malloc(n ? n : 1);
		memcpy(copy, buf, n);
		d = (void *)1;
		EXPECT_EQ(-EBADMSG, agent_batch_decode(copy, n, &d))
			TH_LOG("prefix of %zu bytes", n);
		EXPECT_EQ(NULL, d);
		free(copy);
	}
	/* and a byte too many */
	copy = calloc(1, len + 1);
	memcpy(copy, buf, len);
	EXPECT_EQ(-EBADMSG, agent_batch_decode(copy, len + 1, &d));
	free(copy);
	free(buf);
	agent_batch_free(b);
}

/*
 * Offsets in the encoding of a batch with task "t", process "p", one
 * string "s" and one user stack of that string.
 */
#define OFF_MAGIC	0
#define OFF_VERSION	4
#define OFF_TARGET	8
#define OFF_SAMPLES	28
#define OFF_NR_STRS	46
#define OFF_NR_STACKS	55
#define OFF_NK		59
#define OFF_COUNT	67
#define OFF_INDEX	83
#define SMALL_LEN	87

static void small(void **buf, size_t *len)
{
	struct agent_batch *b;
	const char *u[] = { "s" };

	if (agent_batch_new("t", "p", AGENT_TARGET_ON_CPU, 1, 2, &b) ||
	    agent_batch_add(b, NULL, 0, u, 1, 9, 90) || agent_batch_encode(b, buf, len))
		abort();
	agent_batch_free(b);
}

/* Decode the small encoding with the u32 (or u64) at @off set to @v. */
static int decode_with(size_t off, uint64_t v, bool wide)
{
	struct agent_batch *d = NULL;
	size_t len;
	void *buf;
	int err;

	small(&buf, &len);
	if (wide)
		ab_put64((unsigned char *)buf + off, v);
	else
		ab_put32((unsigned char *)buf + off, v);
	err = agent_batch_decode(buf, len, &d);
	agent_batch_free(d);
	free(buf);
	return err;
}

TEST(decode_refuses_lies)
{
	struct agent_batch *d;
	size_t len;
	void *buf;

	/* the layout the offsets above assume: unchanged fields decode */
	small(&buf, &len);
	ASSERT_EQ(SMALL_LEN, len);
	EXPECT_EQ(1, ab_le32((unsigned char *)buf + OFF_NR_STRS));
	EXPECT_EQ(1, ab_le32((unsigned char *)buf + OFF_NR_STACKS));
	EXPECT_EQ(9, ab_le64((unsigned char *)buf + OFF_COUNT));
	EXPECT_EQ(0, ab_le32((unsigned char *)buf + OFF_INDEX));
	ASSERT_EQ(0, agent_batch_decode(buf, len, &d));
	EXPECT_EQ(9, d->samples);
	agent_batch_free(d);
	free(buf);
	EXPECT_EQ(0, decode_with(OFF_NR_STRS, 1, false));

	/* a flipped magic, another version, an unknown target */
	EXPECT_EQ(-EBADMSG, decode_with(OFF_MAGIC, 0x42425754, false));
	EXPECT_EQ(-EBADMSG, decode_with(OFF_VERSION, 2, false));
	EXPECT_EQ(-EBADMSG, decode_with(OFF_VERSION, 0, false));
	EXPECT_EQ(-EBADMSG, decode_with(OFF_TARGET, 0, false));
	EXPECT_EQ(-EBADMSG, decode_with(OFF_TARGET, 4, false));
	/* a string index past the table */
	EXPECT_EQ(-EBADMSG, decode_with(OFF_INDEX, 1, false));
	EXPECT_EQ(-EBADMSG, decode_with(OFF_INDEX, 0xffffffff, false));
	/* huge counts: strings, stacks, frames (nothing that size is allocated) */
	EXPECT_EQ(-EBADMSG, decode_with(OFF_NR_STRS, 0xffffffff, false));
	EXPECT_EQ(-EBADMSG, decode_with(OFF_NR_STACKS, 0xffffffff, false));
	EXPECT_EQ(-EBADMSG, decode_with(OFF_NK, 0xffffffff, false));
	EXPECT_EQ(-EBADMSG, decode_with(OFF_NR_STACKS, 2, false));
	/* samples that are not the sum of the counts */
	EXPECT_EQ(-EBADMSG, decode_with(OFF_SAMPLES, 10, true));
	EXPECT_EQ(-EBADMSG, decode_with(OFF_COUNT, 8, true));
	/* a string length past the end */
	EXPECT_EQ(-EBADMSG, decode_with(OFF_NR_STRS + 4, 1000, false));
}

TEST(decode_refuses_nul_in_strings_and_duplicate_stacks)
{
	struct agent_batch *b, *d = NULL;
	const char *u[] = { "s" };
	unsigned char *p;
	size_t len;
	void *buf;

	small(&buf, &len);
	p = buf;
	p[OFF_NR_STRS + 8] = '\0';	/* the string "s" */
	EXPECT_EQ(-EBADMSG, agent_batch_decode(buf, len, &d));
	free(buf);

	/* two stacks, then made the same: not a batch this code wrote */
	ASSERT_EQ(0, agent_batch_new("t", "p", AGENT_TARGET_ON_CPU, 1, 2, &b));
	ASSERT_EQ(0, agent_batch_add(b, NULL, 0, u, 1, 1, 0));
	u[0] = "r";
	ASSERT_EQ(0, agent_batch_add(b, NULL, 0, u, 1, 1, 0));
	ASSERT_EQ(0, agent_batch_encode(b, &buf, &len));
	p = buf;
	ASSERT_EQ(1, ab_le32(p + len - 4));	/* the second stack's index */
	ab_put32(p + len - 4, 0);
	EXPECT_EQ(-EBADMSG, agent_batch_decode(buf, len, &d));
	EXPECT_EQ(NULL, d);
	free(buf);
	agent_batch_free(b);
}

TEST_HARNESS_MAIN
