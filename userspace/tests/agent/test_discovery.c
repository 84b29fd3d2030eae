// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of the process table over a fake /proc: matching, exits, pid
 * reuse, the naming of processes that render the same entity, OAP's ids,
 * reconfiguration.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "agent_discovery.h"
#include "agent_test.h"

#define SELF 999

static const char finders_yaml[] =
	"process_discovery:\n  vm:\n    active: true\n    finders:\n"
	"      - match_cmd_regex: \"-jar /srv/([a-z]+)\\\\.jar\"\n"
	"        service_name: \"{{.Finder.RegexMatchGroup 1}}\"\n"
	"        instance_name: node\n"
	"        process_name: \"{{.Process.ExeName}}\"\n"
	"      - match_cmd_regex: java\n"
	"        service_name: any-java\n"
	"        instance_name: node\n"
	"        process_name: java\n";

/* After a SIGHUP: billing is renamed, any-java is no more, python is new. */
static const char other_yaml[] =
	"process_discovery:\n  vm:\n    active: true\n    finders:\n"
	"      - match_cmd_regex: billing\n"
	"        service_name: renamed\n"
	"        instance_name: node\n"
	"      - match_cmd_regex: python\n"
	"        service_name: py\n"
	"        instance_name: node\n";

static const struct agent_host_facts host = { .hostname = "node7", .instance_id = "agent-1" };

static char root[64];

static void put(const char *rel, const char *data, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	if (!f || fwrite(data, 1, len, f) != len)
		abort();
	fclose(f);
}

/* @root/@fmt... as a symbolic link to @target, or (@target NULL) a directory. */
static void __attribute__((format(printf, 2, 3))) mk(const char *target, const char *fmt, ...)
{
	char rel[64], path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (target ? symlink(target, path) : mkdir(path, 0700))
		abort();
}

/* @pid's stat with @comm and field 22 @start. */
static void put_stat(int pid, const char *comm, unsigned long long start)
{
	char rel[32], buf[512];
	int n;

	snprintf(rel, sizeof(rel), "%d/stat", pid);
	n = snprintf(buf, sizeof(buf),
		     "%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 %llu 123456 789 "
		     "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
		     pid, comm, pid, pid, start);
	put(rel, buf, n);
}

/*
 * A process: @args separated by spaces (written NUL-separated), @exe its
 * executable, @mntns its mount namespace link (NULL: none).
 */
static void mkproc(int pid, unsigned long long start, const char *exe, const char *args,
		   const char *mntns)
{
	char rel[32], buf[256], *s;
	size_t n = strlen(args) + 1;

	mk(NULL, "%d", pid);
	put_stat(pid, strrchr(exe, '/') + 1, start);
	snprintf(buf, sizeof(buf), "%s", args);
	for (s = buf; *s; s++)
		if (*s == ' ')
			*s = '\0';
	snprintf(rel, sizeof(rel), "%d/cmdline", pid);
	put(rel, buf, n);
	snprintf(rel, sizeof(rel), "%d/environ", pid);
	put(rel, "LANG=C\0HOME=/root\0", 18);
	snprintf(rel, sizeof(rel), "%d/comm", pid);
	snprintf(buf, sizeof(buf), "%s\n", strrchr(exe, '/') + 1);
	put(rel, buf, strlen(buf));
	mk(exe, "%d/exe", pid);
	mk("/srv", "%d/cwd", pid);
	if (mntns) {
		mk(NULL, "%d/ns", pid);
		mk(mntns, "%d/ns/mnt", pid);
	}
}

static void rmproc(int pid)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/%d'", root, pid);
	if (system(cmd))
		abort();
}

/* What the callbacks saw, in order: "+PID SERVICE/PROCESS;" and "-PID START;". */
static char events[4096];

static void on_added(void *ctx, struct agent_proc *p)
{
	struct agent_discovery *d = ctx;
	size_t l = strlen(events);

	/* in the table already */
	snprintf(events + l, sizeof(events) - l, "+%d %s/%s%s;", (int)p->pid, p->ent.service,
		 p->ent.process, agent_discovery_by_pid(d, p->pid) == p ? "" : " NOT IN TABLE");
}

static void on_gone(void *ctx, struct agent_proc *p)
{
	size_t l = strlen(events);

	snprintf(events + l, sizeof(events) - l, "-%d %llu;", (int)p->pid,
		 (unsigned long long)p->start_time);
}

static const struct agent_discovery_ops ops = { .added = on_added, .gone = on_gone };

static int scan(struct agent_discovery *d)
{
	events[0] = '\0';
	return agent_discovery_scan(d, &ops, d);
}

FIXTURE(procfs) {
	struct agent_config cfg;
	struct agent_discovery *d;
};

FIXTURE_SETUP(procfs)
{
	AGENT_DISCOVERY_OPTS(opts, .proc_root = root, .self = SELF);

	strcpy(root, "/tmp/swprof-procfs-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(root));
	mk(NULL, "self");	/* the agent's own mount namespace */
	mk(NULL, "self/ns");
	mk("mnt:[4026531841]", "self/ns/mnt");
	ASSERT_EQ(0, load_yaml(finders_yaml, &self->cfg)) {
		TH_LOG("%s", log_text);
	}
	ASSERT_EQ(0, agent_discovery_new(&self->cfg, &host, &opts, &self->d));
}

FIXTURE_TEARDOWN(procfs)
{
	char cmd[128];

	agent_discovery_free(self->d);
	agent_config_free(&self->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	EXPECT_EQ(0, system(cmd));
	sw_log_set_fn(NULL, NULL);
}

TEST_F(procfs, matches_the_first_finder_not_itself)
{
	struct agent_discovery *d = self->d;
	struct agent_proc *p;

	mkproc(100, 5000, "/usr/bin/java", "java -jar /srv/billing.jar --port 80",
	       "mnt:[4026531841]");
	mkproc(101, 4000, "/usr/bin/java", "java -cp . Main", "mnt:[4026532999]");
	mkproc(102, 3000, "/usr/bin/sleep", "sleep 100", NULL);
	mkproc(SELF, 1000, "/usr/bin/java", "java -jar /srv/agent.jar", NULL);
	mk(NULL, "%d", 103);	/* vanishes while read: no stat */

	log_start();
	sw_log_set_level(SW_LOG_INFO);
	EXPECT_EQ(2, scan(d));
	EXPECT_EQ(0, log_lines) {
		TH_LOG("%s", log_text);	/* nothing above debug for what does not match */
	}
	/* oldest first */
	EXPECT_STREQ("+101 any-java/java;+100 billing/java;", events);
	ASSERT_EQ(2, agent_discovery_count(d));
	EXPECT_EQ(NULL, agent_discovery_at(d, 2));

	p = agent_discovery_by_pid(d, 100);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(p, agent_discovery_at(d, 1));
	EXPECT_EQ(5000, p->start_time);
	EXPECT_EQ(0, p->ent.finder);
	EXPECT_STREQ("node", p->ent.instance);
	EXPECT_STREQ("java -jar /srv/billing.jar --port 80", p->cmdline);
	EXPECT_STREQ("/usr/bin/java", p->exe_path);
	EXPECT_FALSE(p->other_mntns);
	EXPECT_EQ(NULL, p->process_id);
	EXPECT_FALSE(p->reported);

	p = agent_discovery_by_pid(d, 101);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(1, p->ent.finder);
	EXPECT_TRUE(p->other_mntns);
	EXPECT_EQ(NULL, agent_discovery_by_pid(d, 102));
	EXPECT_EQ(NULL, agent_discovery_by_pid(d, SELF));

	/* nothing changed: nothing to say, the same entries */
	EXPECT_EQ(0, scan(d));
	EXPECT_STREQ("", events);
	EXPECT_EQ(p, agent_discovery_by_pid(d, 101));
}

TEST_F(procfs, the_start_time_follows_the_last_parenthesis)
{
	struct agent_proc *p;

	mkproc(100, 1, "/usr/bin/java", "java -jar /srv/billing.jar", NULL);
	put_stat(100, "my) (odd ) 1 2 3 proc", 987654321);
	mkproc(101, 1, "/usr/bin/java", "java x", NULL);
	put("101/stat", "101 (java S 1 2 3\n", 18);	/* no ')': not a process to us */
	mkproc(102, 1, "/usr/bin/java", "java y", NULL);
	put("102/stat", "102 (java) S 1 2 3\n", 19);	/* too short */
	EXPECT_EQ(1, scan(self->d));
	p = agent_discovery_by_pid(self->d, 100);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(987654321, p->start_time);
}

TEST_F(procfs, exits_and_reused_pids)
{
	struct agent_discovery *d = self->d;
	struct agent_proc *p;

	mkproc(100, 5000, "/usr/bin/java", "java -jar /srv/billing.jar", NULL);
	mkproc(101, 4000, "/usr/bin/java", "java -cp . Main", NULL);
	mkproc(102, 6000, "/usr/bin/java", "java -jar /srv/orders.jar", NULL);
	EXPECT_EQ(3, scan(d));

	rmproc(100);
	EXPECT_EQ(1, scan(d));
	EXPECT_STREQ("-100 5000;", events);
	EXPECT_EQ(NULL, agent_discovery_by_pid(d, 100));
	ASSERT_EQ(2, agent_discovery_count(d));
	EXPECT_EQ(101, agent_discovery_at(d, 0)->pid);
	EXPECT_EQ(102, agent_discovery_at(d, 1)->pid);

	/* pid 101 reused by another process: the old one is gone, the new one added */
	rmproc(101);
	mkproc(101, 9000, "/usr/bin/java", "java -jar /srv/billing.jar", NULL);
	EXPECT_EQ(2, scan(d));
	EXPECT_STREQ("-101 4000;+101 billing/java;", events);
	p = agent_discovery_by_pid(d, 101);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(9000, p->start_time);
	EXPECT_STREQ("billing", p->ent.service);
	EXPECT_EQ(p, agent_discovery_at(d, 1));

	/* a reused pid that matches nothing any more: gone only */
	rmproc(102);
	mkproc(102, 9500, "/usr/bin/sleep", "sleep 1", NULL);
	EXPECT_EQ(1, scan(d));
	EXPECT_STREQ("-102 6000;", events);
	EXPECT_EQ(1, agent_discovery_count(d));

	/* several at once */
	mkproc(103, 9600, "/usr/bin/java", "java -jar /srv/a.jar", NULL);
	mkproc(104, 9700, "/usr/bin/java", "java -jar /srv/b.jar", NULL);
	EXPECT_EQ(2, scan(d));
	rmproc(101);
	rmproc(103);
	EXPECT_EQ(2, scan(d));
	EXPECT_STREQ("-101 9000;-103 9600;", events);
	ASSERT_EQ(1, agent_discovery_count(d));
	EXPECT_EQ(104, agent_discovery_at(d, 0)->pid);
}

TEST_F(procfs, processes_of_one_entity_get_distinct_names)
{
	struct agent_discovery *d = self->d;

	mkproc(200, 50, "/usr/bin/java", "java -jar /srv/billing.jar", NULL);
	mkproc(202, 40, "/usr/bin/java", "java -jar /srv/billing.jar", NULL);
	mkproc(201, 40, "/usr/bin/java", "java -jar /srv/billing.jar", NULL);
	mkproc(300, 10, "/usr/bin/java", "java -jar /srv/orders.jar", NULL);
	EXPECT_EQ(4, scan(d));
	/* the oldest (by start time, then pid) keeps the name */
	EXPECT_STREQ("+300 orders/java;+201 billing/java;+202 billing/java (pid 202);"
		     "+200 billing/java (pid 200);", events);

	/* stable across rescans */
	EXPECT_EQ(0, scan(d));
	EXPECT_STREQ("java", agent_discovery_by_pid(d, 201)->ent.process);
	EXPECT_STREQ("java (pid 202)", agent_discovery_by_pid(d, 202)->ent.process);

	/* the oldest exits: the others keep their names for their whole life */
	rmproc(201);
	EXPECT_EQ(1, scan(d));
	EXPECT_STREQ("java (pid 202)", agent_discovery_by_pid(d, 202)->ent.process);
	EXPECT_STREQ("java (pid 200)", agent_discovery_by_pid(d, 200)->ent.process);

	/* the bare name is free again: the next new one takes it, then suffixes again */
	mkproc(203, 70, "/usr/bin/java", "java -jar /srv/billing.jar", NULL);
	mkproc(204, 80, "/usr/bin/java", "java -jar /srv/billing.jar", NULL);
	EXPECT_EQ(2, scan(d));
	EXPECT_STREQ("+203 billing/java;+204 billing/java (pid 204);", events);
}

TEST_F(procfs, oap_ids)
{
	struct agent_discovery *d = self->d;
	struct agent_proc *p;

	mkproc(100, 10, "/usr/bin/java", "java -jar /srv/billing.jar", NULL);
	mkproc(101, 20, "/usr/bin/java", "java -jar /srv/billing.jar", NULL);
	EXPECT_EQ(2, scan(d));

	EXPECT_EQ(0, agent_discovery_set_id(d, 100, "billing", "node", "java", "id-100"));
	p = agent_discovery_by_pid(d, 100);
	EXPECT_STREQ("id-100", p->process_id);
	EXPECT_TRUE(p->reported);
	EXPECT_EQ(p, agent_discovery_by_process_id(d, "id-100"));
	EXPECT_EQ(NULL, agent_discovery_by_process_id(d, "id-101"));

	/* pid and every name must match */
	EXPECT_EQ(-ENOENT, agent_discovery_set_id(d, 101, "billing", "node", "java", "id-101"));
	EXPECT_EQ(-ENOENT, agent_discovery_set_id(d, 102, "billing", "node", "java", "id-101"));
	EXPECT_EQ(-ENOENT, agent_discovery_set_id(d, 100, "billing", "other", "java", "id-101"));
	EXPECT_EQ(-ENOENT, agent_discovery_set_id(d, 100, "orders", "node", "java", "id-101"));
	EXPECT_EQ(NULL, agent_discovery_by_pid(d, 101)->process_id);
	EXPECT_EQ(0, agent_discovery_set_id(d, 101, "billing", "node", "java (pid 101)", "id-101"));
	EXPECT_EQ(agent_discovery_by_pid(d, 101), agent_discovery_by_process_id(d, "id-101"));
	/* a new answer replaces the id */
	EXPECT_EQ(0, agent_discovery_set_id(d, 100, "billing", "node", "java", "id-100b"));
	EXPECT_EQ(NULL, agent_discovery_by_process_id(d, "id-100"));
	EXPECT_EQ(p, agent_discovery_by_process_id(d, "id-100b"));

	agent_discovery_reset_ids(d);
	EXPECT_EQ(NULL, p->process_id);
	EXPECT_FALSE(p->reported);
	EXPECT_FALSE(agent_discovery_by_pid(d, 101)->reported);
	EXPECT_EQ(NULL, agent_discovery_by_process_id(d, "id-101"));

	/* a process that exited keeps no id */
	EXPECT_EQ(0, agent_discovery_set_id(d, 101, "billing", "node", "java (pid 101)", "id-101"));
	rmproc(101);
	EXPECT_EQ(1, scan(d));
	EXPECT_EQ(NULL, agent_discovery_by_process_id(d, "id-101"));
}

TEST_F(procfs, reconfigured_finders)
{
	struct agent_discovery *d = self->d;
	struct agent_config other;
	struct agent_proc *p;

	mkproc(100, 10, "/usr/bin/java", "java -jar /srv/billing.jar", NULL);
	mkproc(101, 20, "/usr/bin/java", "java -cp . Main", NULL);
	mkproc(102, 30, "/usr/bin/python3", "python3 app.py", NULL);
	EXPECT_EQ(2, scan(d));
	EXPECT_EQ(0, agent_discovery_set_id(d, 100, "billing", "node", "java", "id-100"));

	ASSERT_EQ(0, load_yaml(other_yaml, &other));
	agent_discovery_reconfigure(d, &other, &host);
	EXPECT_EQ(2, scan(d));
	EXPECT_STREQ("-101 20;+102 py/python3;", events);
	/* still matched: its entity and id as they were */
	p = agent_discovery_by_pid(d, 100);
	ASSERT_NE(NULL, p);
	EXPECT_STREQ("billing", p->ent.service);
	EXPECT_STREQ("id-100", p->process_id);
	/* matched again only once after a reconfiguration: an exec changes nothing */
	put("100/cmdline", "sleep\0", 6);
	EXPECT_EQ(0, scan(d));
	EXPECT_EQ(p, agent_discovery_by_pid(d, 100));
	put("100/cmdline", "java\0-jar\0/srv/billing.jar\0", 27);

	/* the old configuration back: 101 again, new */
	agent_discovery_reconfigure(d, &self->cfg, &host);
	EXPECT_EQ(2, scan(d));
	EXPECT_STREQ("-102 30;+101 any-java/java;", events);
	agent_config_free(&other);
}

TEST(an_unreadable_proc_root)
{
	AGENT_DISCOVERY_OPTS(opts, .proc_root = "/nonexistent/proc");
	struct agent_discovery *d;
	struct agent_config cfg;

	ASSERT_EQ(0, agent_config_defaults(&cfg));
	ASSERT_EQ(0, agent_discovery_new(&cfg, &host, &opts, &d));
	log_start();
	EXPECT_EQ(-ENOENT, agent_discovery_scan(d, NULL, NULL));
	EXPECT_EQ(1, log_lines);
	EXPECT_TRUE(strstr(log_text, "/nonexistent/proc") != NULL);
	sw_log_set_fn(NULL, NULL);
	agent_discovery_free(d);
	agent_config_free(&cfg);
}

TEST(the_real_proc_never_matches_this_process)
{
	AGENT_DISCOVERY_OPTS(opts);
	struct agent_discovery *d;
	struct agent_config cfg;
	char yaml[512];

	/* a finder that matches this test program's command line */
	snprintf(yaml, sizeof(yaml), "process_discovery:\n  vm:\n    active: true\n    finders:\n"
		 "      - match_cmd_regex: \"%s\"\n        service_name: t\n",
		 program_invocation_short_name);
	ASSERT_EQ(0, load_yaml(yaml, &cfg));
	ASSERT_EQ(0, agent_discovery_new(&cfg, &host, &opts, &d));
	EXPECT_LE(0, agent_discovery_scan(d, NULL, NULL));
	EXPECT_EQ(NULL, agent_discovery_by_pid(d, getpid()));
	/* the harness runs each test in a child: its parent is the same program */
	EXPECT_NE(NULL, agent_discovery_by_pid(d, getppid()));
	agent_discovery_free(d);
	agent_config_free(&cfg);
}

TEST_HARNESS_MAIN
