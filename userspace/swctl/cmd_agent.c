// SPDX-License-Identifier: GPL-2.0-only
/*
 * swctl agent: the SkyWalking agent (agentd.h), or with --check-config
 * only the check of its configuration (one line per problem).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agent_config.h"
#include "agentd.h"
#include "sw_log.h"
#include "swctl.h"

#define DEFAULT_CONFIG "/etc/swprof/swctl-agent.yaml"

static void usage(FILE *f)
{
	fprintf(f, "usage: swctl agent [--config FILE] [--log-level LEVEL] [--check-config]\n"
		   "Run swprof as a SkyWalking agent (Rover-compatible configuration).\n"
		   "  -c, --config FILE     the configuration (default " DEFAULT_CONFIG ")\n"
		   "  -l, --log-level LEVEL error, warn, info or debug (overrides logger.level)\n"
		   "      --check-config    read and check the configuration, print one line per\n"
		   "                        problem; exit 0 when it is valid\n"
		   "See man swctl-agent and docs/configuration.md.\n");
}

int cmd_agent(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *level_arg = NULL;
	enum sw_log_level level = SW_LOG_INFO;
	struct agent_config cfg;
	bool check = false;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hc:l:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'l':
			level_arg = optarg;
			if (agent_parse_log_level(optarg, &level)) {
				sw_err("agent: --log-level '%s': use error, warn, info or debug", optarg);
				return 2;
			}
			break;
		case 'C':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		sw_err("agent: unexpected argument '%s'; see swctl agent --help", argv[optind]);
		return 2;
	}
	/* warnings of the file must show even when the file asks for less */
	sw_log_set_level(level > SW_LOG_WARN ? level : SW_LOG_WARN);
	err = agent_config_load(path, &cfg);
	if (!err && !level_arg)
		level = cfg.log_level;
	sw_log_set_level(level);
	if (check) {
		if (!err)
			printf("%s: valid (%u warning%s)\n", path, cfg.nr_warnings,
			       cfg.nr_warnings == 1 ? "" : "s");
		else if (err == -EINVAL)
			printf("%s: %u error%s, %u warning%s\n", path, cfg.nr_errors,
			       cfg.nr_errors == 1 ? "" : "s", cfg.nr_warnings,
			       cfg.nr_warnings == 1 ? "" : "s");
		agent_config_free(&cfg);
		return err ? 1 : 0;
	}
	agent_config_free(&cfg);
	if (err)
		return 1;
	return agentd_run(path, level_arg != NULL, level);
}
