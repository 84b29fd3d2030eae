// SPDX-License-Identifier: GPL-2.0-only
/* Host tests of folded-stack output and of the format dispatcher. */
#include <errno.h>
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

TEST_HARNESS_MAIN
