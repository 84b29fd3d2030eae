// SPDX-License-Identifier: GPL-2.0-only
/* Host tests of folded-stack output, of reading it back, and of the format dispatcher. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "export.h"
#include "fake_log.h"
#include "fixtures/prof/prof_fixture.h"
#include "prof.h"

static int func(struct prof *p, const char *name)
{
	struct prof_function f = { .name = name };

	return prof_function(p, &f);
}

static int loc1(struct prof *p, int map, uint64_t addr, unsigned int flags, const char *name)
{
	struct prof_line l = { .function = func(p, name) };
	struct prof_location lo = { .mapping = map, .address = addr, .lines = &l,
				    .nr_lines = 1, .flags = flags };

	return prof_location(p, &lo);
}

/* Exports to a string the caller frees. */
static char *folded(const struct prof *p, const struct prof_export_opts *opts)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (prof_export_folded(p, f, opts)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

/* The profile of the exact-output test, built through the API only. */
static struct prof *hand_built(void)
{
	struct prof_mapping m = { .start = 0x400000, .limit = 0x500000, .file = "/usr/bin/app" };
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	struct prof_line inl[2];
	struct prof_location lo = { 0 };
	int map, main_, run_helper, leaf1, leaf2, k1, k2, k3, missing, weird, s[8];

	if (!p)
		return NULL;
	map = prof_mapping(p, &m);
	main_ = loc1(p, map, 0x401000, 0, "main");
	/* helper inlined into run at one address: innermost first. */
	inl[0].function = func(p, "helper");
	inl[0].line = 12;
	inl[1].function = func(p, "run");
	inl[1].line = 30;
	lo.mapping = map;
	lo.address = 0x402000;
	lo.lines = inl;
	lo.nr_lines = 2;
	run_helper = prof_location(p, &lo);
	leaf1 = loc1(p, map, 0x403000, 0, "leaf");
	leaf2 = loc1(p, map, 0x403010, 0, "leaf");	/* same function, other pc */
	k1 = loc1(p, 0, 0xffffffff81000000, PROF_LOC_KERNEL, "entry_SYSCALL_64");
	k2 = loc1(p, 0, 0xffffffff81000100, PROF_LOC_KERNEL, "do_syscall_64");
	k3 = loc1(p, 0, 0, PROF_LOC_KERNEL, "sys_read");
	missing = loc1(p, 0, 0, 0, "[MISSING] libfoo.so");
	weird = loc1(p, map, 0x404000, 0, "weird;name\nx");

	s[0] = leaf1, s[1] = run_helper, s[2] = main_;
	prof_add_sample(p, s, 3, 3, 0);
	s[0] = leaf2;
	prof_add_sample(p, s, 3, 2, 0);
	s[0] = k3, s[1] = k2, s[2] = k1, s[3] = run_helper, s[4] = main_;
	prof_add_sample(p, s, 5, 4, 0);
	s[0] = main_;
	prof_add_sample(p, s, 1, 1, 0);
	s[0] = weird, s[1] = main_;
	prof_add_sample(p, s, 2, 1, 0);
	s[0] = missing, s[1] = main_;
	prof_add_sample(p, s, 2, 2, 0);
	return p;
}

TEST(folded_exact_output)
{
	struct prof_export_result res = { 0 };
	PROF_EXPORT_OPTS(opts, .result = &res);
	struct prof *p = hand_built();
	char *out;

	ASSERT_NE(NULL, p);
	out = folded(p, &opts);
	ASSERT_NE(NULL, out);
	EXPECT_STREQ("main 1\n"
		     "main;[MISSING] libfoo.so 2\n"
		     "main;run;helper;entry_SYSCALL_64_[k];do_syscall_64_[k];sys_read_[k] 4\n"
		     "main;run;helper;leaf 5\n"
		     "main;weird:name x 1\n", out);
	EXPECT_EQ((int)PROF_FMT_FOLDED, (int)res.format);
	EXPECT_EQ(5u, res.frames);
	free(out);
	prof_free(p);
}

TEST(folded_offcpu_in_ns)
{
	struct prof *p = fx_prof_new(PROF_OFFCPU, NULL);
	PROF_EXPORT_OPTS(ns, .value = PROF_VALUE_NS);
	char *out;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, fx_apply(p,
		"sample 2 3000 main;read;k:schedule\n"
		"sample 1 500 main;futex_wait;k:schedule\n"
		"sample 1 0 main;poll\n"));
	out = folded(p, NULL);
	ASSERT_NE(NULL, out);
	EXPECT_STREQ("main;futex_wait;schedule_[k] 1\n"
		     "main;poll 1\n"
		     "main;read;schedule_[k] 2\n", out);
	free(out);
	out = folded(p, &ns);
	ASSERT_NE(NULL, out);
	/* A stack worth 0 ns has no line. */
	EXPECT_STREQ("main;futex_wait;schedule_[k] 500\n"
		     "main;read;schedule_[k] 3000\n", out);
	free(out);
	prof_free(p);
}

TEST(folded_by_thread_prefixes_comm_tid)
{
	struct prof *p = fx_prof_new(PROF_WALL, NULL);
	PROF_EXPORT_OPTS(opts, .by_thread = 1);
	char *out;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, fx_apply(p,
		"thread a 100 101 http;worker\n"
		"thread b 100 102 http;worker\n"
		"thread c 100 100\n"
		"sample 2 0 thread=a main;serve\n"
		"sample 1 0 thread=b main;serve\n"
		"sample 1 0 thread=a main;serve\n"
		"sample 5 0 thread=c main;wait\n"
		"sample 1 0 main;idle\n"));
	out = folded(p, &opts);
	ASSERT_NE(NULL, out);
	/* Names are sanitised; a nameless thread is its tid; none: [no thread]. */
	EXPECT_STREQ("100;main;wait 5\n"
		     "[no thread];main;idle 1\n"
		     "http:worker-101;main;serve 3\n"
		     "http:worker-102;main;serve 1\n", out);
	free(out);
	out = folded(p, NULL);
	ASSERT_NE(NULL, out);
	EXPECT_STREQ("main;idle 1\nmain;serve 4\nmain;wait 5\n", out);
	free(out);
	prof_free(p);
}

TEST(folded_shows_truncated_samples)
{
	PROF_OPTS(popts, .mem_cap = 64 << 10);
	struct prof *p = fx_prof_new(PROF_CPU, &popts);
	struct prof_stats st;
	char *out, *line;
	int i, s[2];

	ASSERT_NE(NULL, p);
	s[1] = loc1(p, 0, 0x10, 0, "main");
	for (i = 0; i < 5000; i++) {
		s[0] = loc1(p, 0, 0x1000 + (uint64_t)i, 0, "f");
		prof_add_sample(p, s, 2, 1, 0);
	}
	prof_get_stats(p, &st);
	ASSERT_TRUE(st.capped);
	out = folded(p, NULL);
	ASSERT_NE(NULL, out);
	line = strstr(out, "[truncated: memory cap] ");
	ASSERT_NE(NULL, line);
	EXPECT_EQ(st.truncated_samples, strtoull(line + 24, NULL, 10));
	free(out);
	prof_free(p);
}

TEST(format_from_extension)
{
	EXPECT_EQ((int)PROF_FMT_PPROF, prof_format_from_path("out.pb.gz"));
	EXPECT_EQ((int)PROF_FMT_PPROF, prof_format_from_path("/tmp/x/cpu.pprof"));
	EXPECT_EQ((int)PROF_FMT_FOLDED, prof_format_from_path("a.folded"));
	EXPECT_EQ((int)PROF_FMT_SVG, prof_format_from_path("flame.SVG"));
	EXPECT_EQ(-EINVAL, prof_format_from_path("out.gz"));
	EXPECT_EQ(-EINVAL, prof_format_from_path("out.txt"));
	EXPECT_EQ(-EINVAL, prof_format_from_path(".svg"));
	EXPECT_EQ(-EINVAL, prof_format_from_path(NULL));
	EXPECT_STREQ("pprof", prof_format_name(PROF_FMT_PPROF));
	EXPECT_STREQ("svg", prof_format_name(PROF_FMT_SVG));
	EXPECT_NULL(prof_format_name(PROF_FMT_AUTO));
}

TEST(export_writes_file_atomically_and_explains_errors)
{
	char dir[] = "/tmp/swprof-test-XXXXXX", path[256], *err = logged;
	PROF_EXPORT_OPTS(opts);
	struct prof *p = hand_built();
	struct stat sb;
	char buf[512];
	FILE *f;
	size_t n;

	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out.txt", dir);
	log_capture();
	EXPECT_EQ(-EINVAL, prof_export(p, path, &opts));
	EXPECT_EQ(1, log_lines);
	EXPECT_NE(NULL, strstr(err, "out.txt"));
	EXPECT_NE(NULL, strstr(err, ".pb.gz"));
	EXPECT_NE(NULL, strstr(err, ".svg"));
	EXPECT_NE(0, stat(path, &sb));

	snprintf(path, sizeof(path), "%s/no/such/dir/out.svg", dir);
	log_capture();
	EXPECT_EQ(-ENOENT, prof_export(p, path, &opts));
	EXPECT_EQ(1, log_lines);
	EXPECT_NE(NULL, strstr(err, "no/such/dir/out.svg"));

	snprintf(path, sizeof(path), "%s/out.folded", dir);
	umask(022);
	log_capture();
	EXPECT_EQ(0, prof_export(p, path, &opts));
	EXPECT_EQ(0, log_lines);
	EXPECT_STREQ("", err);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	EXPECT_EQ(0, strncmp(buf, "main 1\nmain;[MISSING]", 21));
	ASSERT_EQ(0, stat(path, &sb));
	EXPECT_EQ(0644, (int)(sb.st_mode & 0777));
	unlink(path);
	EXPECT_EQ(0, rmdir(dir));	/* no temporary file left behind */
	prof_free(p);
}

TEST(empty_profile_writes_nothing)
{
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	char *out;

	ASSERT_NE(NULL, p);
	out = folded(p, NULL);
	ASSERT_NE(NULL, out);
	EXPECT_STREQ("", out);
	free(out);
	prof_free(p);
}

/* ---- reading folded stacks --------------------------------------------- */

#define FIXTURES "userspace/tests/fixtures/prof/"

/* Reads text (len bytes: it may hold a NUL) into a new profile of kind. */
static int read_text_len(const char *text, size_t len, enum prof_kind kind, enum prof_value value,
			 struct prof **out, struct prof_folded_read *res)
{
	FILE *f = fmemopen((void *)text, len, "r");
	int err;

	*out = fx_prof_new(kind, NULL);
	if (!f || !*out) {
		if (f)
			fclose(f);
		return -ENOMEM;
	}
	err = prof_read_folded(*out, f, value, res);
	fclose(f);
	return err;
}

static int read_text(const char *text, enum prof_value value, struct prof **out,
		     struct prof_folded_read *res)
{
	return read_text_len(text, strlen(text), value == PROF_VALUE_NS ? PROF_OFFCPU : PROF_CPU,
			     value, out, res);
}

/* Reads text and writes it again as folded stacks (value both ways). */
static char *reread(const char *text, enum prof_value value)
{
	PROF_EXPORT_OPTS(opts, .value = value);
	struct prof_folded_read res;
	struct prof *p;
	char *out = NULL;

	if (!read_text(text, value, &p, &res))
		out = folded(p, &opts);
	prof_free(p);
	return out;
}

/* An error's line and message, for one bad input. */
struct bad_line {
	const char *text;
	uint64_t line;
	const char *msg;
};

TEST(folded_read_write_round_trip)
{
	static const char *const fixtures[] = { "webserver-cpu.txt", "mysql-offcpu.txt" };
	PROF_EXPORT_OPTS(by_thread, .by_thread = 1);
	PROF_EXPORT_OPTS(ns, .value = PROF_VALUE_NS);
	struct prof *p = hand_built(), *q;
	char *once, *twice;
	size_t i;

	ASSERT_NE(NULL, p);
	once = folded(p, NULL);
	ASSERT_NE(NULL, once);
	twice = reread(once, PROF_VALUE_COUNT);
	ASSERT_NE(NULL, twice);
	EXPECT_STREQ(once, twice);
	free(once);
	free(twice);
	/* the per-thread roots are frames like any other */
	once = folded(p, &by_thread);
	ASSERT_NE(NULL, once);
	twice = reread(once, PROF_VALUE_COUNT);
	ASSERT_NE(NULL, twice);
	EXPECT_STREQ(once, twice);
	free(once);
	free(twice);
	prof_free(p);

	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		char path[256];

		snprintf(path, sizeof(path), FIXTURES "%s", fixtures[i]);
		q = fx_load(path);
		ASSERT_NE(NULL, q) TH_LOG("%s", path);
		once = folded(q, NULL);
		ASSERT_NE(NULL, once);
		EXPECT_NE(0, strlen(once));
		twice = reread(once, PROF_VALUE_COUNT);
		ASSERT_NE(NULL, twice);
		EXPECT_STREQ(once, twice) TH_LOG("%s in counts", path);
		free(once);
		free(twice);
		once = folded(q, &ns);
		ASSERT_NE(NULL, once);
		twice = reread(once, PROF_VALUE_NS);
		ASSERT_NE(NULL, twice);
		EXPECT_STREQ(once, twice) TH_LOG("%s in ns", path);
		free(once);
		free(twice);
		prof_free(q);
	}
}

TEST(folded_read_builds_the_profile)
{
	struct prof_folded_read res;
	struct prof_location_info loc;
	struct prof_function_info fn;
	struct prof_stats st;
	struct prof *p;
	int i, kernel = 0, named = 0;

	ASSERT_EQ(0, read_text("main;run;sys_read_[k] 4\n"
			       "main;run 2\n"
			       "main;run;sys_read_[k] 1\n", PROF_VALUE_COUNT, &p, &res));
	EXPECT_EQ(3u, res.lines);
	EXPECT_EQ(3u, res.stacks);
	EXPECT_EQ(7u, res.total);
	EXPECT_EQ(0u, res.err_line);
	prof_get_stats(p, &st);
	EXPECT_EQ(7u, st.samples);
	EXPECT_EQ(0u, st.value_ns);
	EXPECT_EQ(2u, st.stacks);	/* identical stacks merged */
	/* and the truncated location every profile has */
	EXPECT_EQ(3 + 1, prof_nr_locations(p));
	for (i = 1; i <= prof_nr_locations(p); i++) {
		if (i == prof_truncated_location(p))
			continue;
		ASSERT_EQ(0, prof_get_location(p, i, &loc));
		EXPECT_EQ(0u, loc.address);
		EXPECT_EQ(0, loc.mapping);
		ASSERT_EQ(1u, loc.nr_lines);
		ASSERT_EQ(0, prof_get_function(p, loc.lines[0].function, &fn));
		if (loc.flags & PROF_LOC_KERNEL) {
			kernel++;
			EXPECT_STREQ("sys_read", prof_str(p, fn.name));
		}
		named += !strcmp(prof_str(p, fn.name), "run");
	}
	EXPECT_EQ(1, kernel);
	EXPECT_EQ(1, named);
	prof_free(p);

	/* in ns: no count, the time as it is, whatever the period */
	ASSERT_EQ(0, read_text("main;read;schedule_[k] 3000\nmain;poll 500\n", PROF_VALUE_NS,
			       &p, &res));
	prof_get_stats(p, &st);
	EXPECT_EQ(0u, st.samples);
	EXPECT_EQ(3500u, st.value_ns);
	EXPECT_EQ(3500u, res.total);
	prof_free(p);
}

TEST(folded_read_frames_with_spaces_and_markers)
{
	char *out;

	/* the count is the last field: C++ signatures keep their spaces */
	out = reread("main;foo(int, char) const;"
		     "std::vector<int, std::allocator<int> >::push_back 3\n", PROF_VALUE_COUNT);
	ASSERT_NE(NULL, out);
	EXPECT_STREQ("main;foo(int, char) const;"
		     "std::vector<int, std::allocator<int> >::push_back 3\n", out);
	free(out);
	/*
	 * The writer never puts ';' in a frame (it writes ':'), so every ';'
	 * splits, in parentheses too, as flamegraph.pl splits: 3 frames here.
	 */
	out = reread("main;f(a; b) 1\nmain;f(a 2\n", PROF_VALUE_COUNT);
	ASSERT_NE(NULL, out);
	EXPECT_STREQ("main;f(a 2\nmain;f(a; b) 1\n", out);
	free(out);
	/* kernel and user frames of one name are two frames; the suffix only at the end */
	out = reread("main;read_[k] 1\nmain;read 2\nmain;x_[k]y 4\nmain;_[k] 8\n",
		     PROF_VALUE_COUNT);
	ASSERT_NE(NULL, out);
	EXPECT_STREQ("main;[unknown]_[k] 8\nmain;read 2\nmain;read_[k] 1\nmain;x_[k]y 4\n", out);
	free(out);
	/* a tab before the count, spaces after it, a frame ending in a space */
	out = reread("main;a\t5\nmain;b 6  \t\nmain;c  7\n", PROF_VALUE_COUNT);
	ASSERT_NE(NULL, out);
	EXPECT_STREQ("main;a 5\nmain;b 6\nmain;c  7\n", out);
	free(out);
}

TEST(folded_read_crlf_blank_and_zero_lines)
{
	struct prof_folded_read res;
	struct prof_stats st;
	struct prof *p;
	char *out;

	/* CRLF line ends are accepted (a file from Windows), blank lines skipped */
	out = reread("main;a 1\r\n\r\n\n   \nmain;b 2\r\nmain;c 3", PROF_VALUE_COUNT);
	ASSERT_NE(NULL, out);
	EXPECT_STREQ("main;a 1\nmain;b 2\nmain;c 3\n", out);
	free(out);
	/* a count of 0 is valid and adds nothing */
	ASSERT_EQ(0, read_text("\nmain;a 0\nmain;b 1\n", PROF_VALUE_COUNT, &p, &res));
	EXPECT_EQ(3u, res.lines);
	EXPECT_EQ(2u, res.stacks);
	EXPECT_EQ(1u, res.total);
	prof_get_stats(p, &st);
	EXPECT_EQ(1u, st.stacks);
	prof_free(p);
	/* nothing at all: an empty profile */
	ASSERT_EQ(0, read_text("", PROF_VALUE_COUNT, &p, &res));
	EXPECT_EQ(0u, res.lines);
	prof_free(p);
}

TEST(folded_read_huge_counts)
{
	struct prof_folded_read res;
	struct prof_stats st;
	struct prof *p;
	char *out;

	out = reread("a;b 18446744073709551615\n", PROF_VALUE_COUNT);
	ASSERT_NE(NULL, out);
	EXPECT_STREQ("a;b 18446744073709551615\n", out);
	free(out);
	out = reread("a;b 18446744073709551615\n", PROF_VALUE_NS);
	ASSERT_NE(NULL, out);
	EXPECT_STREQ("a;b 18446744073709551615\n", out);
	free(out);
	/* leading zeros are digits like others */
	ASSERT_EQ(0, read_text("a 00000000000000000000000000042\nb 9223372036854775808\n"
			       "c 9223372036854775765\n", PROF_VALUE_COUNT, &p, &res));
	EXPECT_EQ(UINT64_MAX, res.total);
	prof_get_stats(p, &st);
	EXPECT_EQ(UINT64_MAX, st.samples);
	prof_free(p);
}

TEST(folded_read_bad_lines_say_where)
{
	static const struct bad_line bad[] = {
		{ "main;a\n", 1, "no count" },
		{ "a 1\n\nmain;a 1\nmain;b\n", 4, "no count" },
		{ "a 1\r\n\r\nmain;b\r\n", 3, "no count" },
		{ "42\n", 1, "no count" },
		{ "main;a x\n", 1, "count 'x' is not a whole number" },
		{ "a 1\nmain;a 1.5\n", 2, "count '1.5' is not a whole number" },
		{ "main;a -1\n", 1, "not a whole number" },
		{ "main;a +1\n", 1, "not a whole number" },
		{ "main;a 0x10\n", 1, "not a whole number" },
		{ "main;a 12abc\n", 1, "not a whole number" },
		{ " 5\n", 1, "empty stack" },
		{ "a 1\n\t7\n", 2, "empty stack" },
		{ "main;a 18446744073709551616\n", 1, "is larger than 18446744073709551615" },
		{ "main;a 99999999999999999999999\n", 1, "is larger than" },
		{ "a 18446744073709551615\nb 0\nc 1\n", 3, "add up to more than" },
	};
	struct prof_folded_read res;
	struct prof *p;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, read_text(bad[i].text, PROF_VALUE_COUNT, &p, &res))
			TH_LOG("input %zu", i);
		EXPECT_EQ(bad[i].line, res.err_line) TH_LOG("input %zu: %s", i, res.err);
		EXPECT_NE(NULL, strstr(res.err, bad[i].msg)) TH_LOG("input %zu: %s", i, res.err);
		prof_free(p);
	}
	/* a NUL byte: an error too, on its line */
	EXPECT_EQ(-EINVAL, read_text_len("a 1\nb\0c 2\n", 10, PROF_CPU, PROF_VALUE_COUNT,
					 &p, &res));
	EXPECT_EQ(2u, res.err_line);
	EXPECT_NE(NULL, strstr(res.err, "NUL"));
	prof_free(p);
}

TEST_HARNESS_MAIN
