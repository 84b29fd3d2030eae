/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers of the agent's host tests: a config file from a string, every logged line. */
#ifndef AGENT_TEST_H
#define AGENT_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_config.h"
#include "fake_log.h"
#include "sw_log.h"

static char cfg_path[64];

/* Write @yaml to a temporary file and load it; returns agent_config_load()'s result. */
static inline int load_yaml(const char *yaml, struct agent_config *cfg)
{
	FILE *f;
	int fd, err;

	strcpy(cfg_path, "/tmp/swprof-agent-test-XXXXXX");
	fd = mkstemp(cfg_path);
	if (fd < 0)
		return -999;
	f = fdopen(fd, "w");
	fputs(yaml, f);
	fclose(f);
	log_start();
	err = agent_config_load(cfg_path, cfg);
	unlink(cfg_path);
	return err;
}

/* The log holds "FILE:@where: @what" on one line */
static inline int logged_at(const char *where, const char *what)
{
	char needle[256];
	const char *line = log_text;

	snprintf(needle, sizeof(needle), "%s:%s: ", cfg_path, where);
	while ((line = strstr(line, needle))) {
		const char *eol = strchr(line, '\n');

		if (strstr(line, what) && strstr(line, what) < eol)
			return 1;
		line = eol;
	}
	return 0;
}

#define SEC 1000000000ULL

#endif
