// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of process discovery without transport: templates (each
 * form, unknown forms, regex groups), finder order, /proc facts.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "agent_finder.h"
#include "agent_template.h"
#include "agent_test.h"

static char *env_[] = { "LANG=C", "APP_NAME=billing", "EMPTY=" };

static const struct agent_process_facts proc = {
	.pid = 4242,
	.exe_path = "/usr/lib/jvm/bin/java",
	.exe_name = "java",
	.cmdline = "java -jar /srv/billing-2.1.jar --port 8080",
	.workdir = "/srv",
	.env = env_,
	.nr_env = 3,
};

static const struct agent_host_iface ifaces[] = {
	{ .name = "lo", .ipv4 = "127.0.0.1", .ipv6 = "::1" },
	{ .name = "eth0", .ipv4 = "10.0.0.5", .ipv6 = "fe80::5" },
	{ .name = "eth1", .ipv4 = "192.168.1.9" },
};

static const struct agent_host_facts host = {
	.hostname = "node7",
	.instance_id = "0e9a1c4e-6a4b-4a43-9c3e-5f2b4b1d2a77",
	.ifaces = ifaces,
	.nr_ifaces = 3,
};

static const char *groups_[] = { "billing-2.1.jar", "billing", "2.1" };

/* @src rendered over the facts above; "<parse error>" or "<render error>". */
static char *render(const char *src)
{
	struct agent_template_ctx ctx = {
		.proc = &proc, .host = &host, .layer = "OS_LINUX",
		.groups = groups_, .nr_groups = 3,
	};
	struct agent_template *t;
	char why[256], *out;
	size_t pos;

	if (agent_template_parse(src, &t, &pos, why, sizeof(why)))
		return strdup("<parse error>");
	if (agent_template_render(t, &ctx, &out))
		out = strdup("<render error>");
	agent_template_free(t);
	return out;
}

#define EXPECT_RENDERS(want, src) do {			\
		char *_o = render(src);			\
		EXPECT_STREQ(want, _o);			\
		free(_o);				\
	} while (0)

TEST(each_template_form)
{
	EXPECT_RENDERS("java", "{{.Process.ExeName}}");
	EXPECT_RENDERS("/usr/lib/jvm/bin/java", "{{.Process.ExeFilePath}}");
	EXPECT_RENDERS("4242", "{{.Process.Pid}}");
	EXPECT_RENDERS("java -jar /srv/billing-2.1.jar --port 8080", "{{.Process.CommandLine}}");
	EXPECT_RENDERS("/srv", "{{.Process.WorkDir}}");
	EXPECT_RENDERS("billing", "{{.Process.Env \"APP_NAME\"}}");
	EXPECT_RENDERS("", "{{.Process.Env \"EMPTY\"}}");
	EXPECT_RENDERS("", "{{.Process.Env \"NOT_SET\"}}");
	EXPECT_RENDERS("node7", "{{.Rover.HostName}}");
	EXPECT_RENDERS("0e9a1c4e-6a4b-4a43-9c3e-5f2b4b1d2a77", "{{.Rover.InstanceID}}");
	EXPECT_RENDERS("10.0.0.5", "{{.Rover.HostIPV4 \"eth0\"}}");
	EXPECT_RENDERS("192.168.1.9", "{{.Rover.HostIPV4 \"eth1\"}}");
	EXPECT_RENDERS("fe80::5", "{{.Rover.HostIPV6 \"eth0\"}}");
	/* no such interface (Rover's default "en0"): the first non-loopback address */
	EXPECT_RENDERS("10.0.0.5", "{{.Rover.HostIPV4 \"en0\"}}");
	EXPECT_RENDERS("fe80::5", "{{.Rover.HostIPV6 \"eth1\"}}");
	EXPECT_RENDERS("OS_LINUX", "{{.Finder.Layer}}");
	EXPECT_RENDERS("billing-2.1.jar", "{{.Finder.RegexMatchGroup 0}}");
	EXPECT_RENDERS("billing", "{{.Finder.RegexMatchGroup 1}}");
	EXPECT_RENDERS("2.1", "{{.Finder.RegexMatchGroup 2}}");
	EXPECT_RENDERS("", "{{.Finder.RegexMatchGroup 7}}");
}

TEST(templates_mix_text_and_forms)
{
	EXPECT_RENDERS("plain text", "plain text");
	EXPECT_RENDERS("", "");
	EXPECT_RENDERS("svc-billing@node7:4242", "svc-{{.Finder.RegexMatchGroup 1}}@{{.Rover.HostName}}:{{.Process.Pid}}");
	EXPECT_RENDERS("java", "{{ .Process.ExeName }}");
	EXPECT_RENDERS("a-java-b", "a- {{- .Process.ExeName -}} -b");
	EXPECT_RENDERS("a java b", "a {{.Process.ExeName}} b");
	EXPECT_RENDERS("{ not a template }", "{ not a template }");
}

static void expect_parse_error(struct __test_metadata *_metadata, const char *src, size_t at,
			       const char *what)
{
	struct agent_template *t = NULL;
	char why[256] = "";
	size_t pos = 999;

	EXPECT_EQ(-EINVAL, agent_template_parse(src, &t, &pos, why, sizeof(why)));
	EXPECT_EQ(NULL, t);
	EXPECT_EQ(at, pos);
	if (!strstr(why, what)) {
		TH_LOG("'%s': expected '%s' in '%s'", src, what, why);
		EXPECT_TRUE(0);
	}
}

TEST(unknown_or_malformed_forms_are_errors)
{
	expect_parse_error(_metadata, "x{{.Process.Name}}", 1, "unknown template form '{{.Process.Name}}'");
	expect_parse_error(_metadata, "{{.Pod.Name}}", 0, "unknown template form");
	expect_parse_error(_metadata, "{{printf \"%d\" .Process.Pid}}", 0, "unknown template form");
	expect_parse_error(_metadata, "{{.Process.Pid}}-{{.Process.Pid", 17, "without its closing");
	expect_parse_error(_metadata, "{{.Process.Pid 1}}", 0, "takes no argument");
	expect_parse_error(_metadata, "{{.Rover.HostIPV4}}", 0, "one argument in double quotes");
	expect_parse_error(_metadata, "{{.Rover.HostIPV4 eth0}}", 0, "one argument in double quotes");
	expect_parse_error(_metadata, "{{.Process.Env \"A\" \"B\"}}", 0, "double quotes");
	expect_parse_error(_metadata, "{{.Finder.RegexMatchGroup}}", 0, "takes a group number");
	expect_parse_error(_metadata, "{{.Finder.RegexMatchGroup x}}", 0, "takes a group number");
	expect_parse_error(_metadata, "{{.Finder.RegexMatchGroup -1}}", 0, "takes a group number");
}

TEST(template_errors_in_the_file_name_their_line)
{
	struct agent_config c;

	EXPECT_EQ(-EINVAL, load_yaml("process_discovery:\n  vm:\n    active: true\n    finders:\n"
				     "      - match_cmd_regex: java\n        service_name: s\n"
				     "        process_name: \"{{.Process.Name}}\"\n", &c));
	EXPECT_EQ(1, c.nr_errors);
	EXPECT_TRUE(logged_at("7:24", "finders[0].process_name: unknown template form '{{.Process.Name}}'"));
	agent_config_free(&c);

	/* a plain value: at its "{{" too; a value over two lines: at its start */
	EXPECT_EQ(-EINVAL, load_yaml("process_discovery:\n  vm:\n    active: true\n    finders:\n"
				     "      - match_cmd_regex: java\n        service_name: s\n"
				     "        instance_name: a-{{.Rover.HostIPV4 \"eth0\"}}-{{.Bad}}\n"
				     "        process_name: \"x\n          {{.Bad}}\"\n", &c));
	EXPECT_EQ(2, c.nr_errors);
	EXPECT_TRUE(logged_at("7:53", "finders[0].instance_name: unknown template form '{{.Bad}}'"));
	EXPECT_TRUE(logged_at("8:23", "finders[0].process_name: unknown template form '{{.Bad}}'"));
	agent_config_free(&c);

	EXPECT_EQ(-EINVAL, load_yaml("process_discovery:\n  vm:\n    active: true\n    finders:\n"
				     "      - match_cmd_regex: java (a)\n"
				     "        service_name: \"{{.Finder.RegexMatchGroup 2}}\"\n", &c));
	EXPECT_EQ(1, c.nr_errors);
	EXPECT_TRUE(logged_at("6:23", "RegexMatchGroup 2, but match_cmd_regex has 1 group"));
	agent_config_free(&c);
}

static const char finders_yaml[] =
	"process_discovery:\n  vm:\n    active: true\n    finders:\n"
	"      - match_cmd_regex: \"-jar /srv/([a-z]+)-([0-9.]+)\\\\.jar\"\n"
	"        layer: GENERAL\n"
	"        service_name: \"{{.Finder.RegexMatchGroup 1}}\"\n"
	"        instance_name: \"{{.Rover.HostName}}-{{.Finder.RegexMatchGroup 2}}\"\n"
	"        process_name: \"{{.Process.ExeName}}-{{.Process.Pid}}\"\n"
	"        labels: jvm, billing ,\n"
	"      - match_cmd_regex: java\n"
	"        service_name: any-java\n"
	"      - match_cmd_regex: python3? (x)?([a-z]+)\\.py\n"
	"        service_name: \"py-{{.Finder.RegexMatchGroup 1}}{{.Finder.RegexMatchGroup 2}}\"\n"
	"      - match_cmd_regex: nginx\n"
	"        service_name: \"{{.Process.Env \\\"NOPE\\\"}}\"\n";

TEST(first_matching_finder_wins)
{
	struct agent_process_facts p = proc;
	struct agent_config c;
	struct agent_entity e;

	ASSERT_EQ(0, load_yaml(finders_yaml, &c)) {
		TH_LOG("%s", log_text);
	}
	ASSERT_EQ(4, c.discovery.nr_finders);

	/* matches finders 0 and 1: 0 wins */
	ASSERT_EQ(0, agent_find_entity(&c, &p, &host, &e));
	EXPECT_EQ(0, e.finder);
	EXPECT_STREQ("GENERAL", e.layer);
	EXPECT_STREQ("billing", e.service);
	EXPECT_STREQ("node7-2.1", e.instance);
	EXPECT_STREQ("java-4242", e.process);
	ASSERT_EQ(2, e.nr_labels);
	EXPECT_STREQ("jvm", e.labels[0]);
	EXPECT_STREQ("billing", e.labels[1]);
	agent_entity_free(&e);

	/* only finder 1, with its defaults: layer OS_LINUX, Rover's instance and process names */
	p.cmdline = "java -cp . Main";
	ASSERT_EQ(0, agent_find_entity(&c, &p, &host, &e));
	EXPECT_EQ(1, e.finder);
	EXPECT_STREQ("OS_LINUX", e.layer);
	EXPECT_STREQ("any-java", e.service);
	EXPECT_STREQ("10.0.0.5", e.instance);
	EXPECT_STREQ("java", e.process);
	EXPECT_EQ(0, e.nr_labels);
	agent_entity_free(&e);

	/* an optional group that took no part renders "" */
	p.cmdline = "python3 serve.py";
	ASSERT_EQ(0, agent_find_entity(&c, &p, &host, &e));
	EXPECT_EQ(2, e.finder);
	EXPECT_STREQ("py-serve", e.service);
	agent_entity_free(&e);

	p.cmdline = "/usr/bin/sleep 10";
	EXPECT_EQ(-ENOENT, agent_find_entity(&c, &p, &host, &e));

	/* a service name that renders empty is not reported, and logged */
	p.cmdline = "nginx: worker";
	log_start();
	EXPECT_EQ(-ENODATA, agent_find_entity(&c, &p, &host, &e));
	EXPECT_TRUE(strstr(log_text, "service_name '{{.Process.Env \"NOPE\"}}' is empty") != NULL);
	agent_config_free(&c);
}

TEST(proc_facts_of_this_process)
{
	struct agent_process_facts p;
	char cwd[PATH_MAX], exe[PATH_MAX];
	ssize_t n;
	size_t i;
	int found = 0;

	setenv("SWPROF_T_FACT", "present", 1);	/* not in environ: /proc shows the initial one */
	ASSERT_EQ(0, agent_process_facts_read(NULL, getpid(), &p));
	EXPECT_EQ(getpid(), p.pid);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_LT(0, n);
	exe[n] = 0;
	EXPECT_STREQ(exe, p.exe_path);
	EXPECT_STREQ(strrchr(exe, '/') + 1, p.exe_name);
	ASSERT_NE(NULL, getcwd(cwd, sizeof(cwd)));
	EXPECT_STREQ(cwd, p.workdir);
	EXPECT_TRUE(strstr(p.cmdline, strrchr(exe, '/') + 1) != NULL);
	for (i = 0; i < p.nr_env; i++)
		if (!strncmp(p.env[i], "PATH=", 5))
			found = 1;
	EXPECT_EQ(1, found);
	agent_process_facts_free(&p);

	EXPECT_EQ(-ENOENT, agent_process_facts_read("/nonexistent", 1, &p));
}

TEST(proc_facts_join_arguments_with_spaces)
{
	char dir[] = "/tmp/swprof-proc-XXXXXX", path[PATH_MAX];
	struct agent_process_facts p;
	FILE *f;

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/77", dir);
	ASSERT_EQ(0, mkdir(path, 0700));
	snprintf(path, sizeof(path), "%s/77/cmdline", dir);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fwrite("python3\0-m\0http.server\0", 1, 24, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/77/comm", dir);
	f = fopen(path, "w");
	fputs("python3\n", f);
	fclose(f);
	ASSERT_EQ(0, agent_process_facts_read(dir, 77, &p));
	EXPECT_STREQ("python3 -m http.server", p.cmdline);
	EXPECT_STREQ("python3", p.exe_name);	/* no exe link: comm */
	EXPECT_STREQ("", p.exe_path);
	EXPECT_EQ(0, p.nr_env);
	agent_process_facts_free(&p);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	EXPECT_EQ(0, system(path));
}

TEST(host_facts)
{
	struct agent_host_facts h;
	char name[256] = "";
	size_t i;
	int lo = 0;

	ASSERT_EQ(0, agent_host_facts_read("id-1", &h));
	gethostname(name, sizeof(name) - 1);
	EXPECT_STREQ(name, h.hostname);
	EXPECT_STREQ("id-1", h.instance_id);
	for (i = 0; i < h.nr_ifaces; i++)
		if (!strcmp(h.ifaces[i].name, "lo") && h.ifaces[i].ipv4 &&
		    !strcmp(h.ifaces[i].ipv4, "127.0.0.1"))
			lo = 1;
	EXPECT_EQ(1, lo);
	agent_host_facts_free(&h);
}

TEST_HARNESS_MAIN
