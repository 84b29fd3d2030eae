// SPDX-License-Identifier: GPL-2.0-only
/* Host tests of the profile model: interning, stack merging, memory cap. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "fixtures/prof/prof_fixture.h"
#include "prof.h"

static int func(struct prof *p, const char *name)
{
	struct prof_function f = { .name = name };

	return prof_function(p, &f);
}

/* A location with one line, at an address (0: none). */
static int loc(struct prof *p, int mapping, uint64_t addr, const char *name)
{
	struct prof_line l = { .function = func(p, name) };
	struct prof_location lo = { .mapping = mapping, .address = addr, .lines = &l,
				    .nr_lines = 1 };

	return prof_location(p, &lo);
}

struct collect {
	int n;
	uint64_t count, value;
	struct prof_sample s[16];
};

static int collect(const struct prof_sample *s, void *ctx)
{
	struct collect *c = ctx;

	if (c->n < 16)
		c->s[c->n] = *s;
	c->n++;
	c->count += s->count;
	c->value += s->value_ns;
	return 0;
}

TEST(new_rejects_bad_arguments)
{
	PROF_OPTS(small, .mem_cap = 1024);
	struct prof *p;

	p = (void *)1;
	EXPECT_EQ(-EINVAL, prof_new((enum prof_kind)42, NULL, &p));
	EXPECT_NULL(p);
	p = (void *)1;
	EXPECT_EQ(-EINVAL, prof_new(PROF_CPU, &small, &p));
	EXPECT_NULL(p);
	p = fx_prof_new(PROF_OFFCPU, NULL);
	ASSERT_NE(NULL, p);
	EXPECT_EQ((int)PROF_OFFCPU, (int)prof_get_kind(p));
	EXPECT_STREQ("offcpu", prof_kind_name(PROF_OFFCPU));
	EXPECT_STREQ("cpu", prof_kind_name(PROF_CPU));
	EXPECT_STREQ("wall", prof_kind_name(PROF_WALL));
	prof_free(p);
	prof_free(NULL);
}

TEST(strings_are_interned_with_empty_at_zero)
{
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	int a, b;

	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, prof_string(p, ""));
	EXPECT_EQ(0, prof_string(p, NULL));
	EXPECT_STREQ("", prof_str(p, 0));
	a = prof_string(p, "main");
	b = prof_string(p, "libc.so.6");
	EXPECT_GT(a, 0);
	EXPECT_GT(b, 0);
	EXPECT_NE(a, b);
	EXPECT_EQ(a, prof_string(p, "main"));
	EXPECT_STREQ("main", prof_str(p, a));
	EXPECT_NULL(prof_str(p, prof_nr_strings(p)));
	EXPECT_NULL(prof_str(p, -1));
	prof_free(p);
}

TEST(mappings_and_functions_are_deduplicated)
{
	struct prof_mapping m = { .start = 0x400000, .limit = 0x500000, .offset = 0x1000,
				  .file = "/usr/bin/app", .build_id = "abcdef0123" };
	struct prof_function f = { .name = "std::foo()", .system_name = "_Z3foov",
				   .file = "foo.cc", .start_line = 7 };
	struct prof_mapping_info mi;
	struct prof_function_info fi;
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	int m1, f1;

	ASSERT_NE(NULL, p);
	m1 = prof_mapping(p, &m);
	EXPECT_GT(m1, 0);
	EXPECT_EQ(m1, prof_mapping(p, &m));
	m.offset = 0;
	EXPECT_NE(m1, prof_mapping(p, &m));
	EXPECT_EQ(2, prof_nr_mappings(p));
	ASSERT_EQ(0, prof_get_mapping(p, m1, &mi));
	EXPECT_EQ(0x400000u, mi.start);
	EXPECT_EQ(0x1000u, mi.offset);
	EXPECT_STREQ("/usr/bin/app", prof_str(p, mi.file));
	EXPECT_STREQ("abcdef0123", prof_str(p, mi.build_id));
	EXPECT_EQ(-ENOENT, prof_get_mapping(p, 3, &mi));
	EXPECT_EQ(-ENOENT, prof_get_mapping(p, 0, &mi));

	f1 = prof_function(p, &f);
	EXPECT_GT(f1, 0);
	EXPECT_EQ(f1, prof_function(p, &f));
	f.system_name = NULL;
	EXPECT_NE(f1, prof_function(p, &f));
	ASSERT_EQ(0, prof_get_function(p, f1, &fi));
	EXPECT_STREQ("std::foo()", prof_str(p, fi.name));
	EXPECT_STREQ("_Z3foov", prof_str(p, fi.system_name));
	EXPECT_STREQ("foo.cc", prof_str(p, fi.file));
	EXPECT_EQ(7, fi.start_line);
	prof_free(p);
}

TEST(locations_dedup_by_address_or_by_lines)
{
	struct prof_mapping m = { .start = 0x1000, .limit = 0x2000, .file = "libfoo.so" };
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	struct prof_line inl[2];
	struct prof_location lo = { 0 };
	struct prof_location_info li;
	int map, a, b, c, d, e;

	ASSERT_NE(NULL, p);
	map = prof_mapping(p, &m);
	a = loc(p, map, 0x1234, "foo");
	/* The first call for an address decides its lines. */
	EXPECT_EQ(a, loc(p, map, 0x1234, "other"));
	EXPECT_EQ(a, prof_location_find(p, map, 0x1234, 0));
	EXPECT_EQ(0, prof_location_find(p, map, 0x1235, 0));
	EXPECT_EQ(0, prof_location_find(p, map, 0x1234, PROF_LOC_KERNEL));
	b = loc(p, map, 0x1238, "foo");
	EXPECT_NE(a, b);
	/* Address-less frames: one location per name. */
	c = loc(p, map, 0, "[MISSING] libfoo.so");
	EXPECT_EQ(c, loc(p, map, 0, "[MISSING] libfoo.so"));
	d = loc(p, 0, 0, "schedule");
	EXPECT_NE(c, d);
	EXPECT_EQ(d, loc(p, 0, 0, "schedule"));

	/* Inline frames: innermost first, kept in order. */
	inl[0].function = func(p, "inlined_leaf");
	inl[0].line = 42;
	inl[1].function = func(p, "caller");
	inl[1].line = 7;
	lo.mapping = map;
	lo.address = 0x1300;
	lo.lines = inl;
	lo.nr_lines = 2;
	lo.flags = 0;
	e = prof_location(p, &lo);
	ASSERT_GT(e, 0);
	ASSERT_EQ(0, prof_get_location(p, e, &li));
	EXPECT_EQ(map, li.mapping);
	EXPECT_EQ(0x1300u, li.address);
	ASSERT_EQ(2u, li.nr_lines);
	EXPECT_EQ(inl[0].function, li.lines[0].function);
	EXPECT_EQ(42, li.lines[0].line);
	EXPECT_EQ(inl[1].function, li.lines[1].function);

	/* Bad ids. */
	lo.mapping = 99;
	EXPECT_EQ(-EINVAL, prof_location(p, &lo));
	lo.mapping = map;
	inl[1].function = 999;
	EXPECT_EQ(-EINVAL, prof_location(p, &lo));
	lo.nr_lines = 0;
	EXPECT_EQ(-EINVAL, prof_location(p, &lo));
	prof_free(p);
}

TEST(identical_stacks_merge)
{
	PROF_OPTS(opts, .period = 1000000);
	struct prof *p = fx_prof_new(PROF_CPU, &opts);
	struct collect c = { 0 };
	struct prof_stats st;
	int s1[3], s2[3], s3[2];

	ASSERT_NE(NULL, p);
	s1[0] = loc(p, 0, 0, "leaf");
	s1[1] = loc(p, 0, 0, "mid");
	s1[2] = loc(p, 0, 0, "main");
	s2[0] = s1[1];
	s2[1] = s1[0];
	s2[2] = s1[2];
	s3[0] = s1[1];
	s3[1] = s1[2];
	ASSERT_EQ(0, prof_add_sample(p, s1, 3, 1, 0));
	ASSERT_EQ(0, prof_add_sample(p, s1, 3, 2, 0));
	ASSERT_EQ(0, prof_add_sample(p, s2, 3, 1, 0));	/* same frames, other order */
	ASSERT_EQ(0, prof_add_sample(p, s3, 2, 4, 5));	/* a prefix of s1 */
	ASSERT_EQ(0, prof_add_sample(p, s1, 3, 1, 0));
	prof_get_stats(p, &st);
	EXPECT_EQ(3u, st.stacks);
	EXPECT_EQ(9u, st.samples);
	EXPECT_EQ(0u, st.truncated_samples);
	ASSERT_EQ(0, prof_for_each_sample(p, collect, &c));
	ASSERT_EQ(3, c.n);
	/* Insertion order; CPU value 0 means count * period. */
	EXPECT_EQ(4u, c.s[0].count);
	EXPECT_EQ(4000000u, c.s[0].value_ns);
	EXPECT_EQ(3u, c.s[0].n);
	EXPECT_EQ(s1[0], c.s[0].locs[0]);
	EXPECT_EQ(1u, c.s[1].count);
	EXPECT_EQ(4u, c.s[2].count);
	EXPECT_EQ(5u, c.s[2].value_ns);
	EXPECT_EQ(0, c.s[0].thread);
	prof_free(p);
}

TEST(threads_split_stacks)
{
	struct prof_thread t1 = { .pid = 10, .tid = 11, .name = "worker" };
	struct prof_thread t2 = { .pid = 10, .tid = 12, .name = "worker" };
	struct prof *p = fx_prof_new(PROF_OFFCPU, NULL);
	struct collect c = { 0 };
	struct prof_thread_info ti;
	int a, b, s[1];

	ASSERT_NE(NULL, p);
	a = prof_thread(p, &t1);
	b = prof_thread(p, &t2);
	EXPECT_GT(a, 0);
	EXPECT_NE(a, b);
	EXPECT_EQ(a, prof_thread(p, &t1));
	t1.name = "renamed";
	EXPECT_NE(a, prof_thread(p, &t1));
	ASSERT_EQ(0, prof_get_thread(p, b, &ti));
	EXPECT_EQ(10u, ti.pid);
	EXPECT_EQ(12u, ti.tid);
	EXPECT_STREQ("worker", prof_str(p, ti.name));

	s[0] = loc(p, 0, 0, "futex_wait");
	ASSERT_EQ(0, prof_add_thread_sample(p, a, s, 1, 1, 100));
	ASSERT_EQ(0, prof_add_thread_sample(p, b, s, 1, 1, 200));
	ASSERT_EQ(0, prof_add_thread_sample(p, a, s, 1, 2, 300));
	/* OFFCPU keeps a zero value as zero. */
	ASSERT_EQ(0, prof_add_thread_sample(p, 0, s, 1, 1, 0));
	ASSERT_EQ(0, prof_for_each_sample(p, collect, &c));
	ASSERT_EQ(3, c.n);
	EXPECT_EQ(a, c.s[0].thread);
	EXPECT_EQ(3u, c.s[0].count);
	EXPECT_EQ(400u, c.s[0].value_ns);
	EXPECT_EQ(b, c.s[1].thread);
	EXPECT_EQ(0u, c.s[2].value_ns);
	EXPECT_EQ(-EINVAL, prof_add_thread_sample(p, 99, s, 1, 1, 0));
	prof_free(p);
}

TEST(add_sample_rejects_bad_stacks)
{
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	int s[2];

	ASSERT_NE(NULL, p);
	s[0] = loc(p, 0, 0, "a");
	s[1] = 12345;
	EXPECT_EQ(-EINVAL, prof_add_sample(p, s, 0, 1, 0));
	EXPECT_EQ(-EINVAL, prof_add_sample(p, NULL, 1, 1, 0));
	EXPECT_EQ(-EINVAL, prof_add_sample(p, s, 2, 1, 0));
	s[1] = 0;
	EXPECT_EQ(-EINVAL, prof_add_sample(p, s, 2, 1, 0));
	s[1] = -3;
	EXPECT_EQ(-EINVAL, prof_add_sample(p, s, 2, 1, 0));
	EXPECT_EQ(0, prof_add_sample(p, s, 1, 1, 0));
	prof_free(p);
}

TEST(memory_cap_folds_new_stacks_into_truncated)
{
	PROF_OPTS(opts, .mem_cap = 256 << 10);
	struct prof *p = fx_prof_new(PROF_WALL, &opts);
	struct prof_location_info li;
	struct prof_function_info fi;
	struct collect c = { 0 };
	struct prof_stats st;
	uint64_t added = 0, i;
	int first[4], s[4], n0, trunc;

	ASSERT_NE(NULL, p);
	for (i = 0; i < 4; i++)
		first[i] = loc(p, 0, 0x1000 + i, "first");
	ASSERT_EQ(0, prof_add_sample(p, first, 4, 1, 10));
	added++;
	/* Distinct stacks until the cap is hit, and well beyond. */
	for (i = 0; i < 20000; i++) {
		int l = loc(p, 0, 0x100000 + i, "f");

		ASSERT_GT(l, 0);
		s[0] = l;
		s[1] = first[1];
		s[2] = first[2];
		s[3] = first[3];
		ASSERT_EQ(0, prof_add_sample(p, s, 4, 2, 20));
		added += 2;
	}
	prof_get_stats(p, &st);
	EXPECT_TRUE(st.capped);
	EXPECT_LE(st.mem_used, st.mem_cap);
	EXPECT_EQ((size_t)(256 << 10), st.mem_cap);
	EXPECT_GT(st.truncated_samples, 0u);
	EXPECT_GT(st.truncated_adds, 0u);
	EXPECT_EQ(added, st.samples);
	EXPECT_GT(st.stacks, 10u);

	/* New locations are the truncated one; known ones still resolve. */
	trunc = prof_truncated_location(p);
	EXPECT_EQ(trunc, loc(p, 0, 0xdead0000, "brand_new"));
	EXPECT_EQ(first[0], loc(p, 0, 0x1000, "first"));
	EXPECT_EQ(-ENOSPC, prof_string(p, "never seen before"));
	EXPECT_EQ(prof_string(p, "first"), prof_string(p, "first"));
	EXPECT_GT(prof_string(p, "first"), 0);
	ASSERT_EQ(0, prof_get_location(p, trunc, &li));
	ASSERT_EQ(0, prof_get_function(p, li.lines[0].function, &fi));
	EXPECT_STREQ("[truncated: memory cap]", prof_str(p, fi.name));

	/* Existing stacks keep counting exactly. */
	n0 = (int)st.stacks;
	ASSERT_EQ(0, prof_add_sample(p, first, 4, 5, 50));
	added += 5;
	prof_get_stats(p, &st);
	EXPECT_EQ((uint32_t)n0, st.stacks);
	ASSERT_EQ(0, prof_for_each_sample(p, collect, &c));
	EXPECT_EQ(n0 + 1, c.n);		/* + the truncated stack, first */
	EXPECT_EQ(trunc, c.s[0].locs[0]);
	EXPECT_EQ(st.truncated_samples, c.s[0].count);
	EXPECT_EQ(6u, c.s[1].count);
	EXPECT_EQ(60u, c.s[1].value_ns);
	EXPECT_EQ(added, c.count);
	EXPECT_EQ(st.value_ns, c.value);
	prof_free(p);
}

TEST(many_distinct_stacks_keep_their_counts)
{
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	struct prof_stats st;
	int locs[64], s[3], i, round;

	ASSERT_NE(NULL, p);
	for (i = 0; i < 64; i++)
		locs[i] = loc(p, 0, 0x1000 + (uint64_t)i * 16, "fn");
	/* 64^3 = 262144 distinct stacks, each added (a + 1) times. */
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 64 * 64 * 64; i++) {
			s[0] = locs[i % 64];
			s[1] = locs[i / 64 % 64];
			s[2] = locs[i / 4096];
			if (round == 0 || i % 64 == 0)
				ASSERT_EQ(0, prof_add_sample(p, s, 3, 1, 0));
		}
	}
	prof_get_stats(p, &st);
	EXPECT_EQ(262144u, st.stacks);
	EXPECT_EQ(262144u + 4096u, st.samples);
	EXPECT_FALSE(st.capped);
	prof_free(p);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The hot path: 1M samples over 10k distinct stacks of depth 30. */
TEST(add_sample_speed)
{
	enum { STACKS = 10000, DEPTH = 30, SAMPLES = 1000000 };
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	int *stacks = malloc(sizeof(int) * STACKS * DEPTH), lids[512];
	int *order = malloc(sizeof(int) * SAMPLES);
	unsigned int seed = 1;
	struct prof_stats st;
	uint64_t t0, t1;
	int i, j;

	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, stacks);
	ASSERT_NE(NULL, order);
	for (i = 0; i < 512; i++)
		lids[i] = loc(p, 0, 0x400000 + (uint64_t)i * 8, i % 2 ? "odd" : "even");
	for (i = 0; i < STACKS; i++) {
		for (j = 0; j < DEPTH; j++)
			stacks[i * DEPTH + j] = lids[rand_r(&seed) % 512];
	}
	for (i = 0; i < SAMPLES; i++)
		order[i] = (int)(rand_r(&seed) % STACKS);
	t0 = now_ns();
	for (i = 0; i < SAMPLES; i++)
		prof_add_sample(p, &stacks[order[i] * DEPTH], DEPTH, 1, 0);
	t1 = now_ns();
	prof_get_stats(p, &st);
	EXPECT_EQ((uint64_t)SAMPLES, st.samples);
	EXPECT_EQ((uint32_t)STACKS, st.stacks);
	ksft_print_msg("prof_add_sample: %.1f ns/op (1M samples, 10k stacks, depth 30), %zu KiB\n",
		       (double)(t1 - t0) / SAMPLES, st.mem_used >> 10);
	fflush(stdout);	/* the harness child leaves with _exit() */
	/* Generous: 64 threads x 999 Hz is 64k samples/s, 15 us each. */
	EXPECT_LT((t1 - t0) / SAMPLES, 2000u);
	free(order);
	free(stacks);
	prof_free(p);
}

TEST(fixture_text_builds_a_profile)
{
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	struct collect c = { 0 };
	struct prof_location_info li;
	struct prof_stats st;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, fx_apply(p,
		"mapping app 0x400000 0x500000 0 /usr/bin/app 00ff\n"
		"thread w 1 2 worker one\n"
		"sample 3 0 thread=w main|main.c|10;run>helper|h.c|5@app+0x401000;k:sys_read\n"
		"lost 7\n"));
	prof_get_stats(p, &st);
	EXPECT_EQ(7u, st.lost);
	EXPECT_EQ(3u, st.samples);
	ASSERT_EQ(0, prof_for_each_sample(p, collect, &c));
	ASSERT_EQ(1, c.n);
	ASSERT_EQ(3u, c.s[0].n);
	ASSERT_EQ(0, prof_get_location(p, c.s[0].locs[0], &li));
	EXPECT_EQ(PROF_LOC_KERNEL, li.flags);
	ASSERT_EQ(0, prof_get_location(p, c.s[0].locs[1], &li));
	EXPECT_EQ(0x401000u, li.address);
	EXPECT_EQ(2u, li.nr_lines);
	EXPECT_EQ(5, li.lines[0].line);
	prof_free(p);
}

TEST_HARNESS_MAIN
