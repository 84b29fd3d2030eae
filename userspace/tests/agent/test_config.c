// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of the agent's configuration: defaults, Rover's keys, each
 * malformed value reported at its file:line:col, placeholders, bad YAML.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "agent_config.h"
#include "agent_placeholder.h"
#include "agent_template.h"
#include "agent_test.h"

static void expect_defaults(struct __test_metadata *_metadata, const struct agent_config *c)
{
	ASSERT_EQ(1, c->backend.nr_addrs);
	EXPECT_STREQ("localhost:11800", c->backend.addrs[0]);
	EXPECT_FALSE(c->backend.enable_tls);
	EXPECT_STREQ("ca.pem", c->backend.ca_pem_path);
	EXPECT_STREQ("client.pem", c->backend.client_pem_path);
	EXPECT_STREQ("client.key", c->backend.client_key_path);
	EXPECT_FALSE(c->backend.insecure_skip_verify);
	EXPECT_STREQ("", c->backend.authentication);
	EXPECT_EQ(5 * SEC, c->backend.check_period_ns);
	EXPECT_EQ(20 * SEC, c->discovery.heartbeat_period_ns);
	EXPECT_EQ(10, c->discovery.properties_report_period);
	EXPECT_FALSE(c->discovery.vm_active);
	EXPECT_EQ(3 * SEC, c->discovery.vm_period_ns);
	EXPECT_EQ(0, c->discovery.nr_finders);
	EXPECT_TRUE(c->profiling.active);
	EXPECT_EQ(10 * SEC, c->profiling.check_interval_ns);
	EXPECT_EQ(5 * SEC, c->profiling.flush_interval_ns);
	EXPECT_EQ(9000000ULL, c->profiling.on_cpu_dump_period_ns);
	EXPECT_STREQ("rover_con_p", c->profiling.continuous.meter_prefix);
	EXPECT_EQ(1 * SEC, c->profiling.continuous.fetch_interval_ns);
	EXPECT_EQ(5 * SEC, c->profiling.continuous.check_interval_ns);
	EXPECT_EQ(600 * SEC, c->profiling.continuous.execute_duration_ns);
	EXPECT_EQ(1200 * SEC, c->profiling.continuous.silence_duration_ns);
	EXPECT_TRUE(c->trace.active);
	EXPECT_EQ(20 * SEC, c->trace.check_interval_ns);
	EXPECT_EQ(30 * SEC, c->trace.keep_alive_ns);
	EXPECT_EQ(SEC / 2, c->trace.flush_interval_ns);
	EXPECT_EQ(5, c->trace.max_parallel);
	EXPECT_EQ(500, c->trace.max_depth);
	EXPECT_FALSE(c->trace.line_numbers);
	EXPECT_FALSE(c->trace.kernel_frames);
	EXPECT_EQ(0, c->trace.nr_instances);
	EXPECT_EQ(SW_LOG_INFO, c->log_level);
	EXPECT_STREQ("/dev/swprof", c->agent.device);
	EXPECT_STREQ("/run/swprof/agent.sock", c->agent.status_socket);
	EXPECT_STREQ("/var/lib/swprof/spool", c->agent.spool_dir);
	EXPECT_EQ(256ULL << 20, c->agent.spool_max_bytes);
	EXPECT_EQ(0, c->agent.off_cpu_stack_bytes);
	EXPECT_EQ(0, c->agent.on_cpu_stack_bytes);
	EXPECT_EQ(1ULL << 20, c->agent.unwind_ring_bytes);
	EXPECT_EQ(64ULL << 10, c->agent.ring_bytes);
}

TEST(every_key_missing_gives_the_defaults)
{
	struct agent_config c;

	ASSERT_EQ(0, load_yaml("", &c));
	expect_defaults(_metadata, &c);
	EXPECT_EQ(0, c.nr_errors + c.nr_warnings);
	EXPECT_EQ(0, log_lines);
	agent_config_free(&c);

	/* sections present but empty are the same */
	ASSERT_EQ(0, load_yaml("core:\n  backend:\nprofiling:\n  continuous:\n", &c));
	expect_defaults(_metadata, &c);
	agent_config_free(&c);

	ASSERT_EQ(0, agent_config_defaults(&c));
	expect_defaults(_metadata, &c);
	agent_config_free(&c);
}

TEST(every_key_set)
{
	struct agent_config c;

	ASSERT_EQ(0, load_yaml(
		"logger:\n  level: DEBUG\n"
		"core:\n  backend:\n"
		"    addr: oap1:11800, oap2:11801 ,[::1]:11800\n"
		"    enable_TLS: true\n    ca_pem_path: /etc/ca.pem\n"
		"    client_pem_path: /etc/c.pem\n    client_key_path: /etc/c.key\n"
		"    insecure_skip_verify: yes\n    authentication: tok\n    check_period: 7\n"
		"process_discovery:\n  heartbeat_period: 1m30s\n  properties_report_period: 4\n"
		"  vm:\n    active: true\n    period: 500ms\n"
		"    finders:\n      - match_cmd_regex: x\n        service_name: s\n"
		"profiling:\n  active: false\n  check_interval: 2s\n  flush_interval: 1s\n"
		"  task:\n    on_cpu:\n      dump_period: 10ms\n"
		"  continuous:\n    meter_prefix: p\n    fetch_interval: 2s\n    check_interval: 3s\n"
		"    trigger:\n      execute_duration: 1h\n      silence_duration: 0\n"
		"agent:\n  device: /dev/x\n  status_socket: /tmp/s\n"
		"  spool:\n    dir: /tmp/spool\n    max_size: 1GB\n  unwind:\n    on_cpu_stack: 4KB\n    ring_size: 400KB\n",
		&c)) {
		TH_LOG("%s", log_text);
	}
	EXPECT_EQ(0, c.nr_warnings);
	EXPECT_EQ(SW_LOG_DEBUG, c.log_level);
	ASSERT_EQ(3, c.backend.nr_addrs);
	EXPECT_STREQ("oap2:11801", c.backend.addrs[1]);
	EXPECT_STREQ("[::1]:11800", c.backend.addrs[2]);
	EXPECT_TRUE(c.backend.enable_tls);
	EXPECT_STREQ("/etc/ca.pem", c.backend.ca_pem_path);
	EXPECT_STREQ("/etc/c.pem", c.backend.client_pem_path);
	EXPECT_STREQ("/etc/c.key", c.backend.client_key_path);
	EXPECT_TRUE(c.backend.insecure_skip_verify);
	EXPECT_STREQ("tok", c.backend.authentication);
	EXPECT_EQ(7 * SEC, c.backend.check_period_ns);
	EXPECT_EQ(90 * SEC, c.discovery.heartbeat_period_ns);
	EXPECT_EQ(4, c.discovery.properties_report_period);
	EXPECT_TRUE(c.discovery.vm_active);
	EXPECT_EQ(SEC / 2, c.discovery.vm_period_ns);
	ASSERT_EQ(1, c.discovery.nr_finders);
	EXPECT_STREQ("OS_LINUX", c.discovery.finders[0].layer);
	EXPECT_FALSE(c.profiling.active);
	EXPECT_EQ(2 * SEC, c.profiling.check_interval_ns);
	EXPECT_EQ(1 * SEC, c.profiling.flush_interval_ns);
	EXPECT_EQ(10000000ULL, c.profiling.on_cpu_dump_period_ns);
	EXPECT_STREQ("p", c.profiling.continuous.meter_prefix);
	EXPECT_EQ(2 * SEC, c.profiling.continuous.fetch_interval_ns);
	EXPECT_EQ(3 * SEC, c.profiling.continuous.check_interval_ns);
	EXPECT_EQ(3600 * SEC, c.profiling.continuous.execute_duration_ns);
	EXPECT_EQ(0, c.profiling.continuous.silence_duration_ns);
	EXPECT_STREQ("/dev/x", c.agent.device);
	EXPECT_STREQ("/tmp/s", c.agent.status_socket);
	EXPECT_STREQ("/tmp/spool", c.agent.spool_dir);
	EXPECT_EQ(1ULL << 30, c.agent.spool_max_bytes);
	EXPECT_EQ(4096, c.agent.on_cpu_stack_bytes);
	EXPECT_EQ(400ULL << 10, c.agent.unwind_ring_bytes);
	agent_config_free(&c);
}

/* One malformed value: -EINVAL, one error line at @where naming the key. */
static void expect_one_error(struct __test_metadata *_metadata, const char *yaml,
			     const char *where, const char *what)
{
	struct agent_config c;

	EXPECT_EQ(-EINVAL, load_yaml(yaml, &c));
	EXPECT_EQ(1, c.nr_errors);
	EXPECT_EQ(1, log_lines);
	if (!logged_at(where, what)) {
		TH_LOG("expected '%s: ... %s' in:\n%s", where, what, log_text);
		EXPECT_TRUE(0);
	}
	EXPECT_TRUE(strstr(log_text, ": error: ") != NULL);
	agent_config_free(&c);
}

TEST(malformed_values_are_errors_at_their_line)
{
	expect_one_error(_metadata, "core:\n  backend:\n    check_period: 5x\n", "3:19",
			 "core.backend.check_period: '5x' is not a duration");
	expect_one_error(_metadata, "profiling:\n  flush_interval: -1s\n", "2:19",
			 "profiling.flush_interval: '-1s' is not a duration");
	expect_one_error(_metadata, "profiling:\n  check_interval: 0s\n", "2:19", "must be more than 0");
	expect_one_error(_metadata, "profiling:\n  task:\n    on_cpu:\n      dump_period: 9 ms\n",
			 "4:20", "is not a duration");
	expect_one_error(_metadata, "core:\n  backend:\n    enable_TLS: maybe\n", "3:17",
			 "core.backend.enable_TLS: 'maybe' is not a boolean");
	expect_one_error(_metadata, "process_discovery:\n  properties_report_period: 1O\n", "2:29",
			 "'1O' is not a whole number");
	expect_one_error(_metadata, "process_discovery:\n  properties_report_period: 99999999999\n",
			 "2:29", "is not a whole number");
	expect_one_error(_metadata, "agent:\n  spool:\n    max_size: 12XB\n", "3:15",
			 "'12XB' is not a size");
	expect_one_error(_metadata, "logger:\n  level: loud\n", "2:10", "is not a log level");
	expect_one_error(_metadata, "core:\n  backend:\n    addr: oap:11800,oap\n", "3:11",
			 "'oap' is not HOST:PORT");
	expect_one_error(_metadata, "core:\n  backend:\n    addr: oap:118000\n", "3:11",
			 "has no port number");
	expect_one_error(_metadata, "core:\n  backend: 1\n", "2:12", "core.backend: expected a mapping");
	expect_one_error(_metadata, "core:\n  backend:\n    addr: [a, b]\n", "3:11",
			 "expected a single value, found a list");
	expect_one_error(_metadata,
			 "process_discovery:\n  vm:\n    active: true\n    finders:\n"
			 "      - match_cmd_regex: \"java (.*\"\n        service_name: s\n",
			 "5:26", "bad regular expression 'java (.*'");
	expect_one_error(_metadata,
			 "process_discovery:\n  vm:\n    active: true\n    finders:\n"
			 "      - match_cmd_regex: x\n        service_name: s\n        layer: os linux\n",
			 "7:16", "not an OAP layer name");
	expect_one_error(_metadata, "process_discovery:\n  vm:\n    active: true\n", "1:1",
			 "process_discovery.vm.finders is empty");
	expect_one_error(_metadata, "agent:\n  unwind:\n    off_cpu_stack: 12\n", "1:1",
			 "agent.unwind.off_cpu_stack: 12 bytes; use a multiple of 8 up to 65536");
	expect_one_error(_metadata, "agent:\n  unwind:\n    on_cpu_stack: 128KB\n", "1:1",
			 "agent.unwind.on_cpu_stack: 131072 bytes");
	expect_one_error(_metadata, "agent:\n  unwind:\n    ring_size: 4KB\n", "1:1",
			 "agent.unwind.ring_size: 4096 bytes; use 64KB to 64MB");
	expect_one_error(_metadata,
			 "process_discovery:\n  vm:\n    active: true\n    finders:\n"
			 "      - match_cmd_regex: x\n        layer: GENERAL\n",
			 "5:9", "service_name is required");
}

TEST(trace_profiling_instances)
{
	struct agent_config c;

	setenv("SW_AGENT_NAME", "checkout", 1);
	unsetenv("SW_AGENT_INSTANCE_NAME");
	ASSERT_EQ(0, load_yaml("trace_profiling:\n"
			       "  check_interval: 5s\n"
			       "  max_parallel: 3\n"
			       "  line_numbers: true\n"
			       "  instances:\n"
			       "    - service: ${SW_AGENT_NAME:}\n"
			       "      instance: ${SW_AGENT_INSTANCE_NAME:checkout-1}\n"
			       "    - service: search\n"
			       "      instance: search@10.0.0.2\n"
			       "      layer: OS_LINUX\n", &c));
	EXPECT_EQ(0, c.nr_errors + c.nr_warnings);
	EXPECT_EQ(5 * SEC, c.trace.check_interval_ns);
	EXPECT_EQ(3, c.trace.max_parallel);
	EXPECT_TRUE(c.trace.line_numbers);
	ASSERT_EQ(2, c.trace.nr_instances);
	EXPECT_STREQ("checkout", c.trace.instances[0].service);
	EXPECT_STREQ("checkout-1", c.trace.instances[0].instance);
	EXPECT_STREQ("GENERAL", c.trace.instances[0].layer);
	EXPECT_EQ(6, c.trace.instances[0].line);
	EXPECT_STREQ("search", c.trace.instances[1].service);
	EXPECT_STREQ("OS_LINUX", c.trace.instances[1].layer);
	agent_config_free(&c);

	unsetenv("SW_AGENT_NAME");
	expect_one_error(_metadata, "trace_profiling:\n  instances:\n"
			 "    - service: ${SW_AGENT_NAME:}\n      instance: i\n", "3:7",
			 "trace_profiling.instances[0]: service is required (SkyWalking's SW_AGENT_NAME)");
	expect_one_error(_metadata, "trace_profiling:\n  instances:\n    - service: s\n", "3:7",
			 "instance is required (SkyWalking's SW_AGENT_INSTANCE_NAME)");
	expect_one_error(_metadata, "trace_profiling:\n  instances:\n"
			 "    - service: s\n      instance: i\n      layer: general\n", "5:14",
			 "trace_profiling.instances[0].layer: 'general' is not an OAP layer name");
	expect_one_error(_metadata, "trace_profiling:\n  instances: s\n", "2:14",
			 "trace_profiling.instances: expected a list, found a single value");
	expect_one_error(_metadata, "trace_profiling:\n  instances:\n"
			 "    - service: s\n      instance: i\n"
			 "    - service: s\n      instance: i\n", "3:5",
			 "trace_profiling.instances[1] repeats instances[0] (s / i)");
	expect_one_error(_metadata, "trace_profiling:\n  max_depth: 0\n", "2:14",
			 "'0' is not a whole number");
}

TEST(every_problem_is_reported_not_only_the_first)
{
	struct agent_config c;

	EXPECT_EQ(-EINVAL, load_yaml("core:\n  backend:\n    check_period: x\n    enable_TLS: 2\n"
				     "profiling:\n  active: nope\n  flush_interval: 1s\n", &c));
	EXPECT_EQ(3, c.nr_errors);
	EXPECT_EQ(3, log_lines);
	EXPECT_TRUE(logged_at("3:19", "check_period"));
	EXPECT_TRUE(logged_at("4:17", "enable_TLS"));
	EXPECT_TRUE(logged_at("6:11", "profiling.active"));
	EXPECT_EQ(SEC, c.profiling.flush_interval_ns);	/* the good ones still read */
	agent_config_free(&c);
}

TEST(unknown_keys_are_warnings_with_their_line)
{
	struct agent_config c;

	EXPECT_EQ(0, load_yaml("core:\n  backend:\n    adr: x\n  cluster_name: c\nfoo: 1\n"
			       "profiling:\n  task:\n    network:\n      report_interval: 2s\n", &c));
	EXPECT_EQ(0, c.nr_errors);
	EXPECT_EQ(4, c.nr_warnings);
	EXPECT_TRUE(logged_at("3:5", "warning: unknown key core.backend.adr"));
	EXPECT_TRUE(logged_at("4:3", "warning: core.cluster_name is a Rover key that swprof does not use"));
	EXPECT_TRUE(logged_at("5:1", "warning: unknown key foo"));
	EXPECT_TRUE(logged_at("8:5", "profiling.task.network is a Rover key"));
	agent_config_free(&c);
}

TEST(a_key_set_twice_is_a_warning_and_the_last_wins)
{
	struct agent_config c;

	EXPECT_EQ(0, load_yaml("profiling:\n  flush_interval: 1s\n  flush_interval: 2s\n", &c));
	EXPECT_EQ(1, c.nr_warnings);
	EXPECT_TRUE(logged_at("3:3", "warning: profiling.flush_interval is set twice"));
	EXPECT_EQ(2 * SEC, c.profiling.flush_interval_ns);
	agent_config_free(&c);
}

TEST(bad_yaml_is_an_error_at_libyamls_position)
{
	struct agent_config c;

	EXPECT_EQ(-EINVAL, load_yaml("core:\n  backend:\n    addr: \"oap:11800\n", &c));
	EXPECT_EQ(1, c.nr_errors);
	EXPECT_TRUE(logged_at("4:1", "error: bad YAML: found unexpected end of stream"));
	agent_config_free(&c);

	EXPECT_EQ(-EINVAL, load_yaml("core:\n  backend:\n    addr: a\n   check_period: 5\n", &c));
	EXPECT_EQ(1, c.nr_errors);
	EXPECT_TRUE(strstr(log_text, ":4:") != NULL);
	EXPECT_TRUE(strstr(log_text, "bad YAML") != NULL);
	agent_config_free(&c);

	EXPECT_EQ(-EINVAL, load_yaml("- a\n- b\n", &c));
	EXPECT_TRUE(logged_at("1:1", "expected a mapping of keys at the top, found a list"));
	agent_config_free(&c);
}

TEST(missing_file_is_one_line)
{
	struct agent_config c;

	log_start();
	EXPECT_EQ(-ENOENT, agent_config_load("/nonexistent/swctl-agent.yaml", &c));
	EXPECT_EQ(1, log_lines);
	EXPECT_TRUE(strstr(log_text, "cannot read the configuration /nonexistent/swctl-agent.yaml") != NULL);
	agent_config_free(&c);
}

static char *expand(const char *s)
{
	char *out = NULL;

	if (agent_expand_placeholders(s, &out, NULL, NULL))
		return strdup("<error>");
	return out;
}

#define EXPECT_EXPANDS(want, in) do {			\
		char *_o = expand(in);			\
		EXPECT_STREQ(want, _o);			\
		free(_o);				\
	} while (0)

TEST(placeholders)
{
	size_t pos;
	const char *why;
	char *out;

	setenv("SWPROF_T_SET", "oap:11800", 1);
	setenv("SWPROF_T_EMPTY", "", 1);
	unsetenv("SWPROF_T_UNSET");
	EXPECT_EXPANDS("oap:11800", "${SWPROF_T_SET:localhost:11800}");
	EXPECT_EXPANDS("localhost:11800", "${SWPROF_T_UNSET:localhost:11800}");
	EXPECT_EXPANDS("", "${SWPROF_T_UNSET}");
	EXPECT_EXPANDS("", "${SWPROF_T_UNSET:}");
	EXPECT_EXPANDS("", "${SWPROF_T_EMPTY:default}");	/* set to "" is set */
	EXPECT_EXPANDS("a-oap:11800-b-x-c", "a-${SWPROF_T_SET}-b-${SWPROF_T_UNSET:x}-c");
	EXPECT_EXPANDS("client.pem", "${SWPROF_T_UNSET:\"client.pem\"}");
	EXPECT_EXPANDS("", "${SWPROF_T_UNSET:\"\"}");
	EXPECT_EXPANDS("{{.Rover.HostIPV4 \"en0\"}}", "${SWPROF_T_UNSET:{{.Rover.HostIPV4 \"en0\"}}}");
	EXPECT_EXPANDS("oap:11800", "${SWPROF_T_UNSET:${SWPROF_T_SET}}");
	EXPECT_EXPANDS("no $ placeholder {here}", "no $ placeholder {here}");

	EXPECT_EQ(-EINVAL, agent_expand_placeholders("ab${X:1", &out, &pos, &why));
	EXPECT_EQ(2, pos);
	EXPECT_TRUE(strstr(why, "closing") != NULL);
	EXPECT_EQ(-EINVAL, agent_expand_placeholders("${1X}", &out, &pos, &why));
	EXPECT_EQ(-EINVAL, agent_expand_placeholders("${A-B:x}", &out, &pos, &why));
}

TEST(placeholders_in_the_file)
{
	struct agent_config c;

	setenv("SWPROF_T_ADDR", "a:1,b:2", 1);
	setenv("SWPROF_T_TLS", "true", 1);
	unsetenv("SWPROF_T_UNSET");
	ASSERT_EQ(0, load_yaml("core:\n  backend:\n    addr: ${SWPROF_T_ADDR:localhost:11800}\n"
			       "    enable_TLS: ${SWPROF_T_TLS:false}\n"
			       "    check_period: ${SWPROF_T_UNSET:9}\n"
			       "    authentication: ${SWPROF_T_UNSET}\n"
			       "    ca_pem_path: /etc/${SWPROF_T_UNSET:swprof}/ca.pem\n"
			       "profiling:\n  flush_interval: ${SWPROF_T_UNSET:}\n", &c));
	ASSERT_EQ(2, c.backend.nr_addrs);
	EXPECT_STREQ("b:2", c.backend.addrs[1]);
	EXPECT_TRUE(c.backend.enable_tls);
	EXPECT_EQ(9 * SEC, c.backend.check_period_ns);
	EXPECT_STREQ("", c.backend.authentication);
	EXPECT_STREQ("/etc/swprof/ca.pem", c.backend.ca_pem_path);
	EXPECT_EQ(5 * SEC, c.profiling.flush_interval_ns);	/* empty: the default */
	agent_config_free(&c);

	setenv("SWPROF_T_BAD", "soon", 1);
	expect_one_error(_metadata, "profiling:\n  check_interval: ${SWPROF_T_BAD:10s}\n", "2:19",
			 "'soon' is not a duration");
	expect_one_error(_metadata, "profiling:\n  check_interval: x${SWPROF_T_BAD:10s\n", "2:20",
			 "without its closing");
}

TEST(durations_sizes_bools)
{
	uint64_t v;
	bool b;

	EXPECT_EQ(0, agent_parse_duration("20s", &v));
	EXPECT_EQ(20 * SEC, v);
	EXPECT_EQ(0, agent_parse_duration("1m", &v));
	EXPECT_EQ(60 * SEC, v);
	EXPECT_EQ(0, agent_parse_duration("500ms", &v));
	EXPECT_EQ(SEC / 2, v);
	EXPECT_EQ(0, agent_parse_duration("1h2m3.5s", &v));
	EXPECT_EQ(3723 * SEC + SEC / 2, v);
	EXPECT_EQ(0, agent_parse_duration("5", &v));
	EXPECT_EQ(5 * SEC, v);
	EXPECT_EQ(0, agent_parse_duration("250us", &v));
	EXPECT_EQ(250000, v);
	EXPECT_EQ(-EINVAL, agent_parse_duration("", &v));
	EXPECT_EQ(-EINVAL, agent_parse_duration("s", &v));
	EXPECT_EQ(-EINVAL, agent_parse_duration("5 s", &v));
	EXPECT_EQ(-EINVAL, agent_parse_duration("5d", &v));
	EXPECT_EQ(-EINVAL, agent_parse_duration("1.5", &v));
	EXPECT_EQ(0, agent_parse_size("400KB", &v));
	EXPECT_EQ(409600, v);
	EXPECT_EQ(-EINVAL, agent_parse_size("-1MB", &v));
	EXPECT_EQ(-EINVAL, agent_parse_size("99999999999999999999", &v));
	EXPECT_EQ(0, agent_parse_bool("True", &b));
	EXPECT_TRUE(b);
	EXPECT_EQ(0, agent_parse_bool("off", &b));
	EXPECT_FALSE(b);
	EXPECT_EQ(-EINVAL, agent_parse_bool("", &b));
}

TEST_HARNESS_MAIN
