// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of the SVG flame graph: well-formed XML (xmllint), one frame
 * group per tree node, colours per frame kind, narrow frames omitted and
 * counted, the script and its entry points present, nothing external.
 *
 * With SWPROF_SVG_OUT=DIR, svg_fixtures_for_the_browser_test also leaves
 * the fixture graphs in DIR for export_svg_browser.sh to screenshot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "export.h"
#include "fake_log.h"
#include "fixtures/prof/prof_fixture.h"
#include "prof.h"

#define FIXTURES "userspace/tests/fixtures/prof/"

static char *svg(const struct prof *p, const struct prof_export_opts *opts)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (prof_export_svg(p, f, opts)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* The <g> of the frame named name (its title starts with it), or NULL. */
static const char *frame(const char *doc, const char *name)
{
	char key[256];

	snprintf(key, sizeof(key), "><title>%s\n", name);
	return strstr(doc, key);
}

static int starts(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

static void frame_fill(const char *g, int rgb[3])
{
	const char *fill = strstr(g, "fill=\"rgb(");

	rgb[0] = rgb[1] = rgb[2] = -1;
	if (fill)
		sscanf(fill, "fill=\"rgb(%d,%d,%d)", &rgb[0], &rgb[1], &rgb[2]);
}

/* Runs xmllint on the document; 1 if well-formed, 0 if not, -1 if no xmllint. */
static int xml_ok(const char *doc, double *frames_counted)
{
	char path[] = "/tmp/swprof-svg-XXXXXX", cmd[256];
	FILE *f;
	int fd, ok;

	if (system("command -v xmllint >/dev/null 2>&1"))
		return -1;
	fd = mkstemp(path);
	if (fd < 0)
		return 0;
	f = fdopen(fd, "w");
	fputs(doc, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "xmllint --noout %s", path);
	ok = system(cmd) == 0;
	if (ok && frames_counted) {
		/* An independent count of frame groups, by XPath. */
		snprintf(cmd, sizeof(cmd), "xmllint --xpath "
			 "'count(//*[local-name()=\"g\"][@class=\"f\"])' %s", path);
		f = popen(cmd, "r");
		if (!f || fscanf(f, "%lf", frames_counted) != 1)
			*frames_counted = -1;
		if (f)
			pclose(f);
	}
	unlink(path);
	return ok;
}

static const char small_fixture[] =
	"period 1000000\n"
	"duration 2000000000\n"
	"lost 3\n"
	"sample 3 0 main;run>helper;leaf\n"
	"sample 2 0 main;run>helper;leaf@+0x10\n"
	"sample 4 0 main;run>helper;k:entry_SYSCALL_64;k:do_syscall_64;k:sys_read\n"
	"sample 1 0 main\n"
	"sample 1 0 main;weird <& \"name\"\n"
	"sample 2 0 main;[MISSING] libfoo.so\n";

TEST(svg_is_valid_xml_with_one_group_per_frame)
{
	struct prof_export_result res = { 0 };
	PROF_EXPORT_OPTS(opts, .result = &res);
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	double counted = -1;
	char *doc;
	int ok;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, fx_apply(p, small_fixture));
	doc = svg(p, &opts);
	ASSERT_NE(NULL, doc);
	/* all, main, run, helper, leaf, 3 kernel, weird, [MISSING] */
	EXPECT_EQ(10u, res.frames);
	EXPECT_EQ(0u, res.omitted);
	EXPECT_EQ(10, count(doc, "<g class=\"f\""));
	EXPECT_EQ(10, count(doc, "<rect x=") - 1);	/* + the background */
	ok = xml_ok(doc, &counted);
	if (ok < 0)
		SKIP(goto out, "xmllint not installed");
	EXPECT_EQ(1, ok);
	EXPECT_EQ(10.0, counted);
out:
	free(doc);
	prof_free(p);
}

TEST(svg_titles_texts_and_subtitle)
{
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	const char *g;
	char *doc;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, fx_apply(p, small_fixture));
	doc = svg(p, NULL);
	ASSERT_NE(NULL, doc);
	EXPECT_NE(NULL, strstr(doc, "<text id=\"title\" x=\"600\" y=\"24\">CPU flame graph</text>"));
	/* mode, duration, rate, total samples, lost samples */
	EXPECT_NE(NULL, strstr(doc, ">cpu \xc2\xb7 2 s \xc2\xb7 1000 Hz \xc2\xb7 13 samples (13 ms)"
			       " \xc2\xb7 3 lost</text>"));
	g = frame(doc, "main");
	ASSERT_NE(NULL, g);
	EXPECT_TRUE(starts(g, "><title>main\n13 samples (100.00%), 13 ms</title>"));
	g = frame(doc, "run");
	ASSERT_NE(NULL, g);
	EXPECT_TRUE(starts(g, "><title>run\n9 samples (69.23%), 9 ms</title>"));
	g = frame(doc, "helper");
	ASSERT_NE(NULL, g);
	EXPECT_NE(NULL, strstr(g, "\ninlined</title>"));
	/* Escaped, and a label short enough is written whole. */
	EXPECT_NE(NULL, frame(doc, "weird &lt;&amp; &quot;name&quot;"));
	EXPECT_NE(NULL, strstr(doc, ">main</text>"));
	free(doc);
	prof_free(p);
}

TEST(svg_colours_kernel_user_missing_apart)
{
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	int k[3], u[3], m[3], i;
	static const char *const users[] = { "main", "run", "helper", "leaf" };
	char *doc;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, fx_apply(p, small_fixture));
	doc = svg(p, NULL);
	ASSERT_NE(NULL, doc);
	frame_fill(frame(doc, "sys_read"), k);
	frame_fill(frame(doc, "[MISSING] libfoo.so"), m);
	/* kernel: orange */
	EXPECT_GE(k[0], 240);
	EXPECT_GE(k[1], 120);
	EXPECT_LE(k[1], 160);
	EXPECT_LE(k[2], 60);
	/* unresolved: grey */
	EXPECT_EQ(m[0], m[1]);
	EXPECT_EQ(m[1], m[2]);
	/* user: warm, red or yellow, never the kernel's orange band */
	for (i = 0; i < 4; i++) {
		frame_fill(frame(doc, users[i]), u);
		EXPECT_GE(u[0], 205);
		EXPECT_LE(u[2], 55);
		EXPECT_TRUE(u[1] < 92 || u[1] >= 180);
	}
	free(doc);
	prof_free(p);
}

TEST(svg_has_interactive_script_and_nothing_external)
{
	struct prof *p = fx_prof_new(PROF_WALL, NULL);
	const char *cdata, *end;
	char *doc;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, fx_apply(p, small_fixture));
	doc = svg(p, NULL);
	ASSERT_NE(NULL, doc);
	cdata = strstr(doc, "<script type=\"text/ecmascript\"><![CDATA[");
	ASSERT_NE(NULL, cdata);
	end = strstr(cdata, "]]></script>");
	ASSERT_NE(NULL, end);
	EXPECT_NE(NULL, strstr(cdata, "function zoom("));
	EXPECT_NE(NULL, strstr(cdata, "function unzoom("));
	EXPECT_NE(NULL, strstr(cdata, "function search("));
	EXPECT_NE(NULL, strstr(cdata, "function clearSearch("));
	EXPECT_NE(NULL, strstr(cdata, "e.ctrlKey"));
	EXPECT_NE(NULL, strstr(cdata, "\"Matched: \""));
	EXPECT_NE(NULL, strstr(doc, "onload=\"init()\""));
	EXPECT_NE(NULL, strstr(doc, "<text id=\"search\" class=\"button\""));
	EXPECT_NE(NULL, strstr(doc, "<text id=\"unzoom\" class=\"button hide\""));
	EXPECT_NE(NULL, strstr(doc, "<text id=\"details\""));
	EXPECT_NE(NULL, strstr(doc, ">Wall-clock flame graph<"));
	/* Self-contained: no link, no external script, no URL but namespaces. */
	EXPECT_NULL(strstr(doc, "href"));
	EXPECT_NULL(strstr(doc, "src="));
	EXPECT_EQ(1, count(doc, "http://"));	/* xmlns="http://www.w3.org/2000/svg" */
	free(doc);
	prof_free(p);
}

TEST(svg_omits_and_counts_narrow_frames)
{
	struct prof_export_result res = { 0 };
	PROF_EXPORT_OPTS(opts, .result = &res);
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	char line[128], *doc;
	double counted = -1;
	int i;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, fx_apply(p, "sample 1000000 0 main;big\n"));
	/* 500 stacks of 1 sample: 0.0012 px each at 1200 px, 2 frames each */
	for (i = 0; i < 500; i++) {
		snprintf(line, sizeof(line), "sample 1 0 main;tiny_%d;leaf_%d\n", i, i);
		ASSERT_EQ(0, fx_apply(p, line));
	}
	doc = svg(p, &opts);
	ASSERT_NE(NULL, doc);
	EXPECT_EQ(3u, res.frames);		/* all, main, big */
	EXPECT_EQ(1000u, res.omitted);
	EXPECT_EQ(3, count(doc, "<g class=\"f\""));
	EXPECT_NE(NULL, strstr(doc, "1,000 frames under 0.1 px not drawn"));
	if (xml_ok(doc, &counted) >= 0)
		EXPECT_EQ(3.0, counted);
	free(doc);

	/* min_width 0 draws everything */
	opts.min_width = 1e-9;
	doc = svg(p, &opts);
	ASSERT_NE(NULL, doc);
	EXPECT_EQ(1003u, res.frames);
	EXPECT_EQ(0u, res.omitted);
	free(doc);
	prof_free(p);
}

TEST(svg_icicle_puts_root_on_top_and_offcpu_uses_time)
{
	PROF_EXPORT_OPTS(opts, .icicle = 1, .title = "Blocked <time>", .width = 1000);
	struct prof *p = fx_prof_new(PROF_OFFCPU, NULL);
	const char *g;
	char *doc;
	double w;

	ASSERT_NE(NULL, p);
	/* Switch counts and off-cpu time disagree: widths follow time. */
	ASSERT_EQ(0, fx_apply(p, "sample 90 1000 main;spin\nsample 10 9000 main;sleep\n"));
	doc = svg(p, &opts);
	ASSERT_NE(NULL, doc);
	EXPECT_NE(NULL, strstr(doc, ">Blocked &lt;time&gt;</text>"));
	EXPECT_NE(NULL, strstr(doc, "width=\"1000\""));
	g = frame(doc, "all");
	ASSERT_NE(NULL, g);
	EXPECT_NE(NULL, strstr(g, "y=\"64\""));	/* the first row under the titles */
	g = frame(doc, "sleep");
	ASSERT_NE(NULL, g);
	EXPECT_TRUE(starts(g, "><title>sleep\n9 us (90.00%), 10 switches</title>"));
	g = strstr(g, "width=\"");
	ASSERT_NE(NULL, g);
	w = strtod(g + 7, NULL);
	EXPECT_TRUE(w > 881 && w < 883);	/* 90% of 980 px */
	free(doc);
	prof_free(p);
}

TEST(svg_by_thread_and_odd_bytes_stay_valid)
{
	PROF_EXPORT_OPTS(opts, .by_thread = 1);
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	int ok, rgb[3];
	char *doc;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, fx_apply(p,
		"thread t 1 7 w\xff\xfe" "rk\n"
		"sample 2 0 thread=t main;caf\xc3\xa9;bad\xc3(\n"));
	doc = svg(p, &opts);
	ASSERT_NE(NULL, doc);
	EXPECT_NE(NULL, frame(doc, "w??rk-7"));
	frame_fill(frame(doc, "w??rk-7"), rgb);
	EXPECT_GT(rgb[2], 200);			/* threads: lavender */
	EXPECT_NE(NULL, frame(doc, "caf\xc3\xa9"));
	EXPECT_NE(NULL, frame(doc, "bad?("));
	ok = xml_ok(doc, NULL);
	if (ok >= 0)
		EXPECT_EQ(1, ok);
	free(doc);
	prof_free(p);
}

TEST(svg_empty_profile_says_so)
{
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	char *doc;
	int ok;

	ASSERT_NE(NULL, p);
	doc = svg(p, NULL);
	ASSERT_NE(NULL, doc);
	EXPECT_NE(NULL, strstr(doc, ">No samples</text>"));
	EXPECT_EQ(0, count(doc, "<g class=\"f\""));
	ok = xml_ok(doc, NULL);
	if (ok >= 0)
		EXPECT_EQ(1, ok);
	free(doc);
	prof_free(p);
}

TEST(svg_rejects_bad_width)
{
	char *err = logged;
	PROF_EXPORT_OPTS(opts, .width = 10);
	struct prof *p = fx_prof_new(PROF_CPU, NULL);

	ASSERT_NE(NULL, p);
	log_capture();
	EXPECT_EQ(-EINVAL, prof_export_svg(p, stdout, &opts));
	EXPECT_EQ(1, log_lines);
	EXPECT_NE(NULL, strstr(err, "width"));
	prof_free(p);
}

/* The fixture files render, and are kept for the browser test if asked. */
TEST(svg_fixtures_for_the_browser_test)
{
	static const struct {
		const char *fixture, *out;
		int icicle, by_thread;
	} graphs[] = {
		{ FIXTURES "webserver-cpu.txt", "webserver-cpu.svg", 0, 0 },
		{ FIXTURES "webserver-cpu.txt", "webserver-threads.svg", 0, 1 },
		{ FIXTURES "mysql-offcpu.txt", "mysql-offcpu-icicle.svg", 1, 0 },
	};
	const char *dir = getenv("SWPROF_SVG_OUT");
	char tmp[] = "/tmp/swprof-svg-XXXXXX", path[512];
	size_t i;

	if (access(FIXTURES "webserver-cpu.txt", R_OK))
		SKIP(return, "fixtures not found (run from the repo top)");
	if (!dir || !*dir) {
		ASSERT_NE(NULL, mkdtemp(tmp));
		dir = tmp;
	}
	for (i = 0; i < sizeof(graphs) / sizeof(graphs[0]); i++) {
		PROF_EXPORT_OPTS(opts, .icicle = graphs[i].icicle, .by_thread = graphs[i].by_thread);
		struct prof *p = fx_load(graphs[i].fixture);

		ASSERT_NE(NULL, p);
		snprintf(path, sizeof(path), "%s/%s", dir, graphs[i].out);
		log_capture();
		EXPECT_EQ(0, prof_export(p, path, &opts));
		if (logged[0])
			TH_LOG("%s", logged);
		EXPECT_EQ(0, access(path, R_OK));
		if (dir == tmp)
			unlink(path);
		prof_free(p);
	}
	if (dir == tmp)
		rmdir(tmp);
}

TEST_HARNESS_MAIN
