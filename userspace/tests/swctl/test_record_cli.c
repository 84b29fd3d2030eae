// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of swctl record's command line (rec_cli_parse), its time
 * syntax and the names of thread states in profiles.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "export.h"
#include "cmd_record.h"
#include "sw_time.h"

/* What sw_err() printed during the last parse(). */
static char last_err[512];

/* Parse a NULL-terminated argument list (without "record"). */
static int parse(struct rec_cli *cli, ...)
{
	static char *argv[64];
	static char bufs[64][128];
	FILE *devnull = fopen("/dev/null", "w"), *errf = tmpfile();
	va_list ap;
	const char *s;
	int argc = 0, ret, saved;
	size_t n;

	argv[argc++] = "record";
	va_start(ap, cli);
	while ((s = va_arg(ap, const char *)) && argc < 63) {
		snprintf(bufs[argc], sizeof(bufs[argc]), "%s", s);
		argv[argc] = bufs[argc];
		argc++;
	}
	va_end(ap);
	argv[argc] = NULL;
	/* catch stderr: the one line a usage error prints */
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(errf), 2);
	ret = rec_cli_parse(argc, argv, cli, devnull);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(errf);
	n = fread(last_err, 1, sizeof(last_err) - 1, errf);
	last_err[n] = '\0';
	fclose(errf);
	fclose(devnull);
	return ret;
}

TEST(time_units)
{
	uint64_t ns = 1;

	EXPECT_EQ(0, sw_parse_duration("30", &ns));
	EXPECT_EQ(30000000000ULL, ns);
	EXPECT_EQ(0, sw_parse_duration("1.5s", &ns));
	EXPECT_EQ(1500000000ULL, ns);
	EXPECT_EQ(0, sw_parse_duration("500ms", &ns));
	EXPECT_EQ(500000000ULL, ns);
	EXPECT_EQ(0, sw_parse_duration("250us", &ns));
	EXPECT_EQ(250000ULL, ns);
	EXPECT_EQ(0, sw_parse_duration("100ns", &ns));
	EXPECT_EQ(100ULL, ns);
	EXPECT_EQ(0, sw_parse_duration("2m", &ns));
	EXPECT_EQ(120000000000ULL, ns);
	EXPECT_EQ(0, sw_parse_duration("1h", &ns));
	EXPECT_EQ(3600000000000ULL, ns);
	EXPECT_EQ(0, sw_parse_duration("0", &ns));
	EXPECT_EQ(0ULL, ns);
}

TEST(time_garbage_is_einval)
{
	uint64_t ns = 7;

	EXPECT_EQ(-EINVAL, sw_parse_duration("", &ns));
	EXPECT_EQ(-EINVAL, sw_parse_duration("ms", &ns));
	EXPECT_EQ(-EINVAL, sw_parse_duration("-1s", &ns));
	EXPECT_EQ(-EINVAL, sw_parse_duration("10 s", &ns));
	EXPECT_EQ(-EINVAL, sw_parse_duration("10sec", &ns));
	EXPECT_EQ(-EINVAL, sw_parse_duration("nan", &ns));
	EXPECT_EQ(-EINVAL, sw_parse_duration("1e30h", &ns));
	EXPECT_EQ(7ULL, ns);
}

TEST(state_names_and_frames)
{
	EXPECT_STREQ("running", rec_state_name(SWPROF_STATE_RUNNING));
	EXPECT_STREQ("runnable", rec_state_name(SWPROF_STATE_RUNNABLE));
	EXPECT_STREQ("sleeping", rec_state_name(SWPROF_STATE_SLEEPING));
	EXPECT_STREQ("disk", rec_state_name(SWPROF_STATE_DISK));
	EXPECT_STREQ("stopped", rec_state_name(SWPROF_STATE_STOPPED));
	EXPECT_STREQ("other", rec_state_name(SWPROF_STATE_OTHER));
	/* a state a newer module adds is "other", never out of bounds */
	EXPECT_STREQ("other", rec_state_name(SWPROF_STATE_OTHER + 1));
	EXPECT_STREQ("other", rec_state_name(0xffff));

	/* running samples carry their live stack: no synthetic frame */
	EXPECT_EQ(NULL, rec_state_frame(SWPROF_STATE_RUNNING));
	EXPECT_STREQ("[runnable]", rec_state_frame(SWPROF_STATE_RUNNABLE));
	EXPECT_STREQ("[sleeping]", rec_state_frame(SWPROF_STATE_SLEEPING));
	EXPECT_STREQ("[disk]", rec_state_frame(SWPROF_STATE_DISK));
	EXPECT_STREQ("[stopped]", rec_state_frame(SWPROF_STATE_STOPPED));
	EXPECT_STREQ("[other]", rec_state_frame(SWPROF_STATE_OTHER));
	EXPECT_STREQ("[other]", rec_state_frame(77));
}

TEST(defaults)
{
	struct rec_cli c;

	ASSERT_EQ(-1, parse(&c, "-p", "123", NULL));
	EXPECT_EQ(123, c.pid);
	EXPECT_EQ(0, c.ntid);
	EXPECT_EQ(NULL, c.cmd);
	EXPECT_EQ(SWPROF_MODE_CPU, c.ro.mode);
	EXPECT_EQ(sizeof(c.ro), c.ro.sz);
	EXPECT_EQ(10101010ULL, c.ro.period_ns);	/* 99 Hz */
	EXPECT_EQ(-1, c.kernel);
	EXPECT_FALSE(c.ro.state_frames);
	EXPECT_FALSE(c.ro.scan_threads);
	EXPECT_EQ(0ULL, c.ro.min_block_ns);
	EXPECT_EQ(1, c.nout);
	EXPECT_STREQ("swprof.svg", c.outputs[0]);
	EXPECT_EQ(10, c.top);
	EXPECT_EQ(0ULL, c.duration_ns);
	EXPECT_EQ(PROF_VALUE_DEFAULT, c.value);
}

TEST(command_after_double_dash_keeps_its_options)
{
	struct rec_cli c;

	ASSERT_EQ(-1, parse(&c, "-F", "999", "-o", "a.folded", "--", "prog", "-p", "5", NULL));
	ASSERT_NE(NULL, c.cmd);
	EXPECT_STREQ("prog", c.cmd[0]);
	EXPECT_STREQ("-p", c.cmd[1]);
	EXPECT_STREQ("5", c.cmd[2]);
	EXPECT_EQ(NULL, c.cmd[3]);
	EXPECT_EQ(0, c.pid);
	EXPECT_EQ(1001001ULL, c.ro.period_ns);
	EXPECT_STREQ("a.folded", c.outputs[0]);
}

TEST(exactly_one_target)
{
	struct rec_cli c;

	EXPECT_EQ(2, parse(&c, NULL));
	EXPECT_NE(NULL, strstr(last_err, "exactly one"));
	EXPECT_EQ(2, parse(&c, "-p", "1", "-t", "2", NULL));
	EXPECT_EQ(2, parse(&c, "-p", "1", "--", "true", NULL));
	ASSERT_EQ(-1, parse(&c, "-t", "2", "-t", "3", NULL));
	EXPECT_EQ(2, c.ntid);
	EXPECT_EQ(3, c.tids[1]);
}

TEST(several_processes_one_profile_or_one_each)
{
	struct rec_cli c;

	ASSERT_EQ(-1, parse(&c, "-p", "11", "-p", "12", "-o", "all.folded", NULL));
	EXPECT_EQ(2, c.npid);
	EXPECT_EQ(11, c.pid);
	EXPECT_EQ(12, c.pids[1]);
	EXPECT_EQ(0, c.per_process);
	ASSERT_EQ(-1, parse(&c, "-p", "11", "-p", "12", "-o", "out-%p.folded", "-o", "all.svg", NULL));
	EXPECT_EQ(1, c.per_process);
	/* %p names a process: threads and commands have none of their own */
	EXPECT_EQ(2, parse(&c, "-t", "5", "-o", "out-%p.folded", NULL));
	EXPECT_NE(NULL, strstr(last_err, "%p in an output name needs -p")) TH_LOG("%s", last_err);
	EXPECT_EQ(2, parse(&c, "-o", "out-%p.folded", "--", "true", NULL));
}

TEST(bad_ids_are_usage_errors)
{
	struct rec_cli c;

	EXPECT_EQ(2, parse(&c, "-p", "0", NULL));
	EXPECT_EQ(2, parse(&c, "-p", "12x", NULL));
	EXPECT_NE(NULL, strstr(last_err, "12x"));
	EXPECT_EQ(2, parse(&c, "-t", "-4", NULL));
}

TEST(offcpu_mode_has_no_period_and_takes_min_block)
{
	struct rec_cli c;

	ASSERT_EQ(-1, parse(&c, "-m", "offcpu", "--min-block", "1ms", "-p", "9", NULL));
	EXPECT_EQ(SWPROF_MODE_OFFCPU, c.ro.mode);
	EXPECT_EQ(1000000ULL, c.ro.min_block_ns);
	EXPECT_EQ(0ULL, c.ro.period_ns);
	EXPECT_FALSE(c.ro.state_frames);	/* off by default for offcpu */
	ASSERT_EQ(-1, parse(&c, "--mode", "off-cpu", "--min-block", "250us", "-p", "9", NULL));
	EXPECT_EQ(250000ULL, c.ro.min_block_ns);
	ASSERT_EQ(-1, parse(&c, "--mode", "offcpu", "--state-frames", "-p", "9", NULL));
	EXPECT_TRUE(c.ro.state_frames);
}

TEST(min_block_needs_offcpu)
{
	struct rec_cli c;

	EXPECT_EQ(2, parse(&c, "--min-block", "1ms", "-p", "9", NULL));
	EXPECT_NE(NULL, strstr(last_err, "offcpu"));
	EXPECT_EQ(2, parse(&c, "-m", "wall", "--min-block", "1ms", "-p", "9", NULL));
	EXPECT_EQ(2, parse(&c, "-m", "offcpu", "--min-block", "soon", "-p", "9", NULL));
	EXPECT_NE(NULL, strstr(last_err, "soon"));
}

TEST(wall_mode_has_state_frames_unless_asked_not_to)
{
	struct rec_cli c;

	ASSERT_EQ(-1, parse(&c, "-m", "wall", "-F", "50", "-p", "9", NULL));
	EXPECT_EQ(SWPROF_MODE_WALL, c.ro.mode);
	EXPECT_TRUE(c.ro.state_frames);
	EXPECT_EQ(20000000ULL, c.ro.period_ns);
	ASSERT_EQ(-1, parse(&c, "-m", "wall", "--no-state-frames", "-p", "9", NULL));
	EXPECT_FALSE(c.ro.state_frames);
	/* the last of the two wins */
	ASSERT_EQ(-1, parse(&c, "--no-state-frames", "--state-frames", "-m", "wall", "-p", "9", NULL));
	EXPECT_TRUE(c.ro.state_frames);
}

TEST(cpu_mode_never_has_state_frames)
{
	struct rec_cli c;

	ASSERT_EQ(-1, parse(&c, "--state-frames", "-p", "9", NULL));
	EXPECT_FALSE(c.ro.state_frames);
}

TEST(unknown_mode_names_the_choices)
{
	struct rec_cli c;

	EXPECT_EQ(2, parse(&c, "-m", "gpu", "-p", "9", NULL));
	EXPECT_NE(NULL, strstr(last_err, "cpu, offcpu or wall"));
}

TEST(rate_ring_dwarf_top_limits)
{
	struct rec_cli c;

	EXPECT_EQ(2, parse(&c, "-F", "0", "-p", "9", NULL));
	EXPECT_EQ(2, parse(&c, "-F", "10001", "-p", "9", NULL));
	EXPECT_EQ(2, parse(&c, "-F", "99hz", "-p", "9", NULL));
	EXPECT_EQ(2, parse(&c, "--ring", "3000", "-p", "9", NULL));
	EXPECT_EQ(2, parse(&c, "--ring", "12288", "-p", "9", NULL));
	ASSERT_EQ(-1, parse(&c, "--ring", "65536", "-p", "9", NULL));
	EXPECT_EQ(65536U, c.ro.ring_size);
	EXPECT_EQ(2, parse(&c, "--dwarf=12", "-p", "9", NULL));
	EXPECT_EQ(2, parse(&c, "--dwarf=1000000", "-p", "9", NULL));
	ASSERT_EQ(-1, parse(&c, "--dwarf", "-p", "9", NULL));
	EXPECT_EQ(8192U, c.ro.raw_stack);
	ASSERT_EQ(-1, parse(&c, "--dwarf=4096", "-p", "9", NULL));
	EXPECT_EQ(4096U, c.ro.raw_stack);
	EXPECT_EQ(2, parse(&c, "--top", "many", "-p", "9", NULL));
	ASSERT_EQ(-1, parse(&c, "--top", "0", "-p", "9", NULL));
	EXPECT_EQ(0, c.top);
}

TEST(outputs_values_and_switches)
{
	struct rec_cli c;

	ASSERT_EQ(-1, parse(&c, "-o", "a.pb.gz", "-o", "b.svg", "--value", "ns", "--by-thread",
			    "--no-kernel", "--lines", "--scan-threads", "-q", "-d", "2s",
			    "--title", "T", "-p", "9", NULL));
	EXPECT_EQ(2, c.nout);
	EXPECT_STREQ("b.svg", c.outputs[1]);
	EXPECT_EQ(PROF_VALUE_NS, c.value);
	EXPECT_EQ(1, c.by_thread);
	EXPECT_EQ(0, c.kernel);
	EXPECT_TRUE(c.lines);
	EXPECT_TRUE(c.ro.scan_threads);
	EXPECT_EQ(1, c.quiet);
	EXPECT_EQ(2000000000ULL, c.duration_ns);
	EXPECT_STREQ("T", c.title);
	EXPECT_EQ(2, parse(&c, "-o", "x.txt", "-p", "9", NULL));
	EXPECT_NE(NULL, strstr(last_err, ".pb.gz"));
	EXPECT_EQ(2, parse(&c, "--value", "bytes", "-p", "9", NULL));
	EXPECT_EQ(2, parse(&c, "-d", "0", "-p", "9", NULL));
}

TEST(help_is_exit_0)
{
	struct rec_cli c;

	EXPECT_EQ(0, parse(&c, "--help", NULL));
	EXPECT_EQ(2, parse(&c, "--no-such-option", "-p", "9", NULL));
}

TEST_HARNESS_MAIN
