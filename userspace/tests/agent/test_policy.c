// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of continuous profiling policies: ServiceWithPolicyJSON with
 * several services, deletions, malformed JSON, invalid items left out
 * (unknown types, thresholds, Period and Count), HTTP items kept but
 * unsupported, the services and UUIDs for queryPolicies.
 */
#include <errno.h>
#include <stdlib.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "agent_continuous.h"
#include "agent_test.h"

static struct agent_config cfg;

static struct agent_cp *new_cp(void)
{
	struct agent_cp *cp;

	if (agent_config_defaults(&cfg) || agent_cp_new(&cfg, NULL, &cp))
		abort();
	log_start();
	return cp;
}

/* Lines logged that hold @what. */
static int lines_with(const char *what)
{
	const char *l = log_text;
	int n = 0;

	while ((l = strstr(l, what))) {
		n++;
		l = strchr(l, '\n');
	}
	return n;
}

static void done(struct agent_cp *cp)
{
	agent_cp_free(cp);
	agent_config_free(&cfg);
}

/* The item of @svc's @target policy for @m; NULL when none. */
static const struct agent_cp_item *item(const struct agent_cp *cp, const char *svc,
					enum agent_task_target target, enum agent_cp_monitor m)
{
	const struct agent_cp_service *s = agent_cp_policy(cp, svc);
	size_t i, j;

	for (i = 0; s && i < s->nr_policies; i++)
		for (j = 0; s->policies[i].target == target && j < s->policies[i].nr_items; j++)
			if (s->policies[i].items[j].type == m)
				return &s->policies[i].items[j];
	return NULL;
}

static enum agent_cp_monitor monitor(const char *name)
{
	int m;

	for (m = 0; m < AGENT_CP_NR_MONITORS; m++)
		if (!strcmp(name, agent_cp_monitor_name(m)))
			return m;
	abort();
}

static size_t nr_items(const struct agent_cp *cp, const char *svc)
{
	const struct agent_cp_service *s = agent_cp_policy(cp, svc);
	size_t i, n = 0;

	for (i = 0; s && i < s->nr_policies; i++)
		n += s->policies[i].nr_items;
	return n;
}

static const char two_services[] =
	"[{\"ServiceName\": \"billing\", \"UUID\": \"u-1\", \"Profiling\": {"
	"  \"ON_CPU\": {"
	"    \"PROCESS_CPU\": {\"Threshold\": \"10\", \"Period\": 10, \"Count\": 3,"
	"                      \"URIList\": null, \"URIRegex\": null},"
	"    \"PROCESS_THREAD_COUNT\": {\"Threshold\": \"500\", \"Period\": 5, \"Count\": 5}},"
	"  \"OFF_CPU\": {"
	"    \"SYSTEM_LOAD\": {\"Threshold\": \"1.5\", \"Period\": 60, \"Count\": 1}}}},"
	" {\"ServiceName\": \"orders\", \"UUID\": \"u-2\", \"Profiling\": {"
	"  \"NETWORK\": {"
	"    \"HTTP_ERROR_RATE\": {\"Threshold\": \"12.5\", \"Period\": 20, \"Count\": 4,"
	"                          \"URIList\": [\"/a\", \"/b\"]},"
	"    \"HTTP_AVG_RESPONSE_TIME\": {\"Threshold\": \"300\", \"Period\": 20, \"Count\": 4,"
	"                                 \"URIRegex\": \"/api/.*\"}}}}]";

TEST(two_services_parse)
{
	struct agent_cp *cp = new_cp();
	const struct agent_cp_item *it;
	const struct agent_cp_service *s;

	ASSERT_EQ(2, agent_cp_apply_policies(cp, two_services));
	s = agent_cp_policy(cp, "billing");
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("u-1", s->uuid);
	EXPECT_EQ(2, s->nr_policies);
	EXPECT_STREQ("u-1", agent_cp_policy_uuid(cp, "billing"));
	EXPECT_STREQ("u-2", agent_cp_policy_uuid(cp, "orders"));
	EXPECT_STREQ("", agent_cp_policy_uuid(cp, "nobody"));

	it = item(cp, "billing", AGENT_TARGET_ON_CPU, AGENT_CP_PROCESS_CPU);
	ASSERT_NE(NULL, it);
	EXPECT_STREQ("10", it->threshold_str);
	EXPECT_EQ(10.0, it->threshold);
	EXPECT_EQ(10, it->period);
	EXPECT_EQ(3, it->count);
	EXPECT_TRUE(it->supported);
	EXPECT_EQ(0, it->nr_uris);
	EXPECT_EQ(NULL, it->uri_regex);
	it = item(cp, "billing", AGENT_TARGET_ON_CPU, AGENT_CP_PROCESS_THREAD_COUNT);
	ASSERT_NE(NULL, it);
	EXPECT_EQ(500.0, it->threshold);
	EXPECT_EQ(5, it->count);
	it = item(cp, "billing", AGENT_TARGET_OFF_CPU, AGENT_CP_SYSTEM_LOAD);
	ASSERT_NE(NULL, it);
	EXPECT_EQ(1.5, it->threshold);
	EXPECT_EQ(60, it->period);
	EXPECT_EQ(NULL, item(cp, "billing", AGENT_TARGET_ON_CPU, AGENT_CP_SYSTEM_LOAD));

	it = item(cp, "orders", AGENT_TARGET_NETWORK, AGENT_CP_HTTP_ERROR_RATE);
	ASSERT_NE(NULL, it);
	EXPECT_EQ(12.5, it->threshold);
	ASSERT_EQ(2, it->nr_uris);
	EXPECT_STREQ("/a", it->uri_list[0]);
	EXPECT_STREQ("/b", it->uri_list[1]);
	EXPECT_FALSE(it->supported);
	it = item(cp, "orders", AGENT_TARGET_NETWORK, AGENT_CP_HTTP_AVG_RESPONSE_TIME);
	ASSERT_NE(NULL, it);
	EXPECT_STREQ("/api/.*", it->uri_regex);
	EXPECT_FALSE(it->supported);
	done(cp);
}

TEST(http_items_are_kept_and_logged_unsupported_once_per_policy)
{
	struct agent_cp *cp = new_cp();

	ASSERT_EQ(2, agent_cp_apply_policies(cp, two_services));
	/* one line for orders' policy naming both, none for billing's */
	EXPECT_NE(NULL, strstr(log_text, "u-2 of service orders: NETWORK HTTP_ERROR_RATE, "
			       "NETWORK HTTP_AVG_RESPONSE_TIME: not supported yet"));
	EXPECT_EQ(NULL, strstr(strstr(log_text, "not supported") + 1, "not supported"));
	EXPECT_EQ(NULL, strstr(log_text, "billing: ON_CPU"));
	EXPECT_EQ(2, nr_items(cp, "orders"));
	done(cp);
}

TEST(deletion_by_empty_uuid_absent_or_null_profiling)
{
	struct agent_cp *cp = new_cp();
	struct agent_cp_stats st;

	ASSERT_EQ(2, agent_cp_apply_policies(cp, two_services));
	ASSERT_EQ(1, agent_cp_apply_policies(cp, "[{\"ServiceName\": \"billing\", \"UUID\": \"\"}]"));
	EXPECT_EQ(NULL, agent_cp_policy(cp, "billing"));
	EXPECT_STREQ("", agent_cp_policy_uuid(cp, "billing"));
	EXPECT_NE(NULL, agent_cp_policy(cp, "orders"));
	/* a UUID but no Profiling: deleted too */
	ASSERT_EQ(1, agent_cp_apply_policies(cp, "[{\"ServiceName\": \"orders\", \"UUID\": \"u-3\"}]"));
	EXPECT_EQ(NULL, agent_cp_policy(cp, "orders"));
	agent_cp_stats(cp, &st);
	EXPECT_EQ(0, st.services);

	/* "Profiling": null, and an empty UUID with a Profiling */
	ASSERT_EQ(2, agent_cp_apply_policies(cp, two_services));
	ASSERT_EQ(2, agent_cp_apply_policies(cp,
		"[{\"ServiceName\": \"billing\", \"UUID\": \"u-9\", \"Profiling\": null},"
		" {\"ServiceName\": \"orders\", \"Profiling\": {\"ON_CPU\": {}}}]"));
	EXPECT_EQ(NULL, agent_cp_policy(cp, "billing"));
	EXPECT_EQ(NULL, agent_cp_policy(cp, "orders"));
	/* deleting what is not there changes nothing */
	EXPECT_EQ(0, agent_cp_apply_policies(cp, "[{\"ServiceName\": \"ghost\", \"UUID\": \"\"}]"));
	EXPECT_EQ(0, agent_cp_apply_policies(cp, "[]"));
	done(cp);
}

TEST(a_new_uuid_replaces_the_whole_policy)
{
	struct agent_cp *cp = new_cp();

	ASSERT_EQ(2, agent_cp_apply_policies(cp, two_services));
	ASSERT_EQ(1, agent_cp_apply_policies(cp,
		"[{\"ServiceName\": \"billing\", \"UUID\": \"u-4\", \"Profiling\": {\"OFF_CPU\": {"
		"\"PROCESS_THREAD_COUNT\": {\"Threshold\": \"7\", \"Period\": 2, \"Count\": 2}}}}]"));
	EXPECT_STREQ("u-4", agent_cp_policy_uuid(cp, "billing"));
	EXPECT_EQ(1, nr_items(cp, "billing"));
	EXPECT_EQ(NULL, item(cp, "billing", AGENT_TARGET_ON_CPU, AGENT_CP_PROCESS_CPU));
	EXPECT_NE(NULL, item(cp, "billing", AGENT_TARGET_OFF_CPU, AGENT_CP_PROCESS_THREAD_COUNT));
	/* the other service is untouched */
	EXPECT_STREQ("u-2", agent_cp_policy_uuid(cp, "orders"));
	done(cp);
}

TEST(malformed_json_rejects_the_whole_command_with_one_line)
{
	static const char *const bad[] = {
		"[{\"ServiceName\": \"billing\", \"UUID\": \"u-7\"",	/* cut short */
		"{\"ServiceName\": \"billing\"}",			/* not an array */
		"",
		"nonsense",
		"[{\"ServiceName\": \"billing\", \"UUID\": \"\"},]",	/* trailing comma */
	};
	struct agent_cp *cp = new_cp();
	size_t i;

	ASSERT_EQ(2, agent_cp_apply_policies(cp, two_services));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		log_start();
		EXPECT_EQ(-EINVAL, agent_cp_apply_policies(cp, bad[i])) {
			TH_LOG("'%s'", bad[i]);
		}
		EXPECT_EQ(1, log_lines) {
			TH_LOG("'%s': %s", bad[i], log_text);
		}
		EXPECT_NE(NULL, strstr(log_text, "policies unchanged"));
	}
	EXPECT_EQ(-EINVAL, agent_cp_apply_policies(cp, NULL));
	/* nothing applied: billing keeps its policy */
	EXPECT_STREQ("u-1", agent_cp_policy_uuid(cp, "billing"));
	EXPECT_EQ(3, nr_items(cp, "billing"));
	done(cp);
}

/* Apply one billing item @m = @body; returns how many items billing has then. */
static size_t with_item(struct agent_cp *cp, const char *target, const char *m, const char *body)
{
	char json[512];

	snprintf(json, sizeof(json),
		 "[{\"ServiceName\": \"billing\", \"UUID\": \"u-x\", \"Profiling\": {"
		 "\"NETWORK\": {\"PROCESS_CPU\": {\"Threshold\": \"50\", \"Period\": 4, \"Count\": 2}},"
		 "\"%s\": {\"%s\": %s}}}]",
		 target, m, body);
	log_start();
	if (agent_cp_apply_policies(cp, json) != 1)
		return 99;
	return nr_items(cp, "billing");
}

TEST(unknown_types_are_left_out_the_rest_applies)
{
	struct agent_cp *cp = new_cp();

	EXPECT_EQ(1, with_item(cp, "ON_CPU", "DISK_IO",
			       "{\"Threshold\": \"5\", \"Period\": 4, \"Count\": 2}"));
	EXPECT_EQ(1, lines_with("left out"));
	EXPECT_NE(NULL, strstr(log_text, "unknown monitor type 'DISK_IO': left out"));
	EXPECT_NE(NULL, item(cp, "billing", AGENT_TARGET_NETWORK, AGENT_CP_PROCESS_CPU));

	/* an unknown profiling type: its items left out, the service still gets its UUID */
	log_start();
	ASSERT_EQ(1, agent_cp_apply_policies(cp,
		"[{\"ServiceName\": \"billing\", \"UUID\": \"u-y\", \"Profiling\": {"
		"\"MEMORY\": {\"PROCESS_CPU\": {\"Threshold\": \"5\", \"Period\": 4, \"Count\": 2}},"
		"\"OFF_CPU\": {\"PROCESS_CPU\": {\"Threshold\": \"5\", \"Period\": 4, \"Count\": 2}}}},"
		" {\"UUID\": \"u-z\"}]"));
	EXPECT_NE(NULL, strstr(log_text, "unknown profiling type 'MEMORY'"));
	EXPECT_NE(NULL, strstr(log_text, "#1: no ServiceName: left out"));
	EXPECT_STREQ("u-y", agent_cp_policy_uuid(cp, "billing"));
	EXPECT_EQ(1, nr_items(cp, "billing"));
	EXPECT_NE(NULL, item(cp, "billing", AGENT_TARGET_OFF_CPU, AGENT_CP_PROCESS_CPU));
	done(cp);
}

TEST(thresholds)
{
	static const struct {
		const char *m, *thr;
		bool ok;
		double v;
	} cases[] = {
		{ "PROCESS_CPU", "\"10\"", true, 10 },
		{ "PROCESS_CPU", "\"0\"", true, 0 },
		{ "PROCESS_CPU", "10", true, 10 },		/* a JSON number is taken too */
		{ "PROCESS_CPU", "\"10.5\"", false },		/* Rover: ParseInt */
		{ "PROCESS_CPU", "\"abc\"", false },
		{ "PROCESS_CPU", "\"\"", false },
		{ "PROCESS_CPU", "\"-5\"", false },
		{ "PROCESS_CPU", "\" 5\"", false },
		{ "PROCESS_CPU", "\"5%\"", false },
		{ "PROCESS_CPU", "\"99999999999\"", false },
		{ "PROCESS_CPU", "null", false },
		{ "PROCESS_CPU", "true", false },
		{ "PROCESS_THREAD_COUNT", "\"500\"", true, 500 },
		{ "PROCESS_THREAD_COUNT", "\"5e2\"", false },
		{ "SYSTEM_LOAD", "\"1.25\"", true, 1.25 },
		{ "SYSTEM_LOAD", "\"3\"", true, 3 },
		{ "SYSTEM_LOAD", "\"nan\"", false },
		{ "SYSTEM_LOAD", "\"inf\"", false },
		{ "SYSTEM_LOAD", "\"1.5x\"", false },
		{ "HTTP_ERROR_RATE", "\"2.5\"", true, 2.5 },
		{ "HTTP_AVG_RESPONSE_TIME", "\"-1\"", false },
	};
	struct agent_cp *cp = new_cp();
	char body[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct agent_cp_item *it;

		snprintf(body, sizeof(body), "{\"Threshold\": %s, \"Period\": 4, \"Count\": 2}",
			 cases[i].thr);
		EXPECT_EQ(cases[i].ok ? 2 : 1, with_item(cp, "ON_CPU", cases[i].m, body)) {
			TH_LOG("%s %s: %s", cases[i].m, cases[i].thr, log_text);
		}
		if (!cases[i].ok) {
			EXPECT_EQ(1, lines_with("left out"));
			EXPECT_NE(NULL, strstr(log_text, cases[i].m));
			continue;
		}
		it = item(cp, "billing", AGENT_TARGET_ON_CPU, monitor(cases[i].m));
		ASSERT_NE(NULL, it);
		EXPECT_EQ(cases[i].v, it->threshold);
	}
	/* the value itself */
	EXPECT_EQ(2, with_item(cp, "ON_CPU", "SYSTEM_LOAD",
			       "{\"Threshold\": \"1.25\", \"Period\": 4, \"Count\": 2}"));
	EXPECT_EQ(1.25, item(cp, "billing", AGENT_TARGET_ON_CPU, AGENT_CP_SYSTEM_LOAD)->threshold);
	EXPECT_EQ(2, with_item(cp, "OFF_CPU", "PROCESS_CPU",
			       "{\"Threshold\": 10, \"Period\": 4, \"Count\": 2}"));
	EXPECT_EQ(10.0, item(cp, "billing", AGENT_TARGET_OFF_CPU, AGENT_CP_PROCESS_CPU)->threshold);
	EXPECT_EQ(1, with_item(cp, "OFF_CPU", "PROCESS_CPU",
			       "{\"Threshold\": \"abc\", \"Period\": 4, \"Count\": 2}"));
	EXPECT_NE(NULL, strstr(log_text, "Threshold 'abc' is not an integer >= 0"));
	done(cp);
}

TEST(period_and_count)
{
	static const struct {
		const char *pc;
		bool ok;
		const char *why;
	} cases[] = {
		{ "\"Period\": 10, \"Count\": 10", true },	/* Count = Period */
		{ "\"Period\": 1, \"Count\": 1", true },
		{ "\"Period\": 3600, \"Count\": 1", true },
		{ "\"Period\": 3, \"Count\": 4", false, "Count 4 is larger than Period 3" },
		{ "\"Period\": 0, \"Count\": 0", false, "must both be integers > 0" },
		{ "\"Period\": 5, \"Count\": 0", false, "must both be integers > 0" },
		{ "\"Period\": 0, \"Count\": 1", false, "must both be integers > 0" },
		{ "\"Count\": 1", false, "Period 0" },
		{ "\"Period\": 5", false, "Count 0" },
		{ "\"Period\": -5, \"Count\": 1", false, "must both be integers > 0" },
		{ "\"Period\": \"5\", \"Count\": 1", false, "must both be integers > 0" },
		{ "\"Period\": 5.5, \"Count\": 1", false, "must both be integers > 0" },
		{ "\"Period\": 3601, \"Count\": 1", false, "Period 3601 is over 3600 seconds" },
	};
	struct agent_cp *cp = new_cp();
	char body[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(body, sizeof(body), "{\"Threshold\": \"3\", %s}", cases[i].pc);
		EXPECT_EQ(cases[i].ok ? 2 : 1, with_item(cp, "ON_CPU", "SYSTEM_LOAD", body)) {
			TH_LOG("%s: %s", cases[i].pc, log_text);
		}
		if (cases[i].ok) {
			EXPECT_EQ(0, lines_with("left out"));
			continue;
		}
		EXPECT_EQ(1, lines_with("left out"));
		EXPECT_NE(NULL, strstr(log_text, "SYSTEM_LOAD")) {
			TH_LOG("%s: %s", cases[i].pc, log_text);
		}
		EXPECT_NE(NULL, strstr(log_text, cases[i].why)) {
			TH_LOG("%s: %s", cases[i].pc, log_text);
		}
	}
	done(cp);
}

static void collect(void *ctx, const char *service, const char *uuid)
{
	char *buf = ctx;

	sprintf(buf + strlen(buf), "%s=%s;", service, uuid);
}

TEST(services_and_uuids_for_query_policies)
{
	struct agent_cp *cp = new_cp();
	const struct agent_cp_entity a = { "OS_LINUX", "billing", "node", "java" };
	const struct agent_cp_entity b = { "OS_LINUX", "orders", "node", "python" };
	const struct agent_cp_entity c = { "OS_LINUX", "billing", "node", "java (pid 12)" };
	char buf[256] = "";

	ASSERT_EQ(0, agent_cp_process_add(cp, 11, 100, &a));
	ASSERT_EQ(0, agent_cp_process_add(cp, 12, 100, &c));
	ASSERT_EQ(0, agent_cp_process_add(cp, 13, 100, &b));
	EXPECT_EQ(-EEXIST, agent_cp_process_add(cp, 13, 100, &b));
	EXPECT_EQ(2, agent_cp_each_service(cp, collect, buf));
	EXPECT_STREQ("billing=;orders=;", buf);
	ASSERT_EQ(1, agent_cp_apply_policies(cp,
		"[{\"ServiceName\": \"billing\", \"UUID\": \"u-1\", \"Profiling\": {}}]"));
	buf[0] = 0;
	EXPECT_EQ(2, agent_cp_each_service(cp, collect, buf));
	EXPECT_STREQ("billing=u-1;orders=;", buf);
	/* an empty Profiling is a policy with no items: its UUID is kept */
	EXPECT_EQ(0, nr_items(cp, "billing"));
	ASSERT_EQ(0, agent_cp_process_remove(cp, 13, 100));
	EXPECT_EQ(-ENOENT, agent_cp_process_remove(cp, 13, 100));
	buf[0] = 0;
	EXPECT_EQ(1, agent_cp_each_service(cp, collect, buf));
	EXPECT_STREQ("billing=u-1;", buf);
	done(cp);
}

TEST_HARNESS_MAIN
