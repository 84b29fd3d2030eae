/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's configuration: a YAML file that accepts SkyWalking Rover's
 * own keys where they mean the same (core.backend.*, process_discovery.*,
 * profiling.*, logger.level) and swprof's own under agent.*; every key,
 * its default and whether Rover has it: docs/configuration.md.  Any scalar
 * may hold SkyWalking's ${ENV_NAME:default} placeholders.
 *
 * agent_config_load() logs one line per problem through sw_log(), as
 * "FILE:LINE:COL: error: ..." or "FILE:LINE:COL: warning: ...", and goes on
 * to find the others.  Durations are nanoseconds.
 */
#ifndef AGENT_CONFIG_H
#define AGENT_CONFIG_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_log.h"

struct agent_template;

/* process_discovery.vm.finders[]: which processes, and their entity names. */
struct agent_finder {
	char *match_cmd_regex;		/* POSIX ERE, searched in the command line */
	regex_t re;			/* compiled when re_ok */
	bool re_ok;
	char *layer;			/* an OAP layer name, OS_LINUX by default */
	struct agent_template *service_name, *instance_name, *process_name;
	char **labels;			/* "labels" split at commas, trimmed */
	size_t nr_labels;
	int line;			/* of the finder in its file, for messages */
};

/* A service instance the agent represents for trace profiling (ProfileTask). */
struct agent_trace_instance {
	char *service, *instance, *layer;
	int line;			/* in its file, for messages */
};

struct agent_config {
	char *path;			/* the file read, for messages */
	struct {
		char **addrs;		/* core.backend.addr, split at commas */
		size_t nr_addrs;
		bool enable_tls;
		char *ca_pem_path, *client_pem_path, *client_key_path;
		bool insecure_skip_verify;
		char *authentication;	/* "" = none */
		uint64_t check_period_ns;
	} backend;
	struct {
		uint64_t heartbeat_period_ns;
		uint32_t properties_report_period;	/* full re-report every N heartbeats */
		bool vm_active;
		uint64_t vm_period_ns;
		struct agent_finder *finders;
		size_t nr_finders;
	} discovery;
	struct {
		bool active;
		uint64_t check_interval_ns, flush_interval_ns;
		uint64_t on_cpu_dump_period_ns;
		struct {
			char *meter_prefix;
			uint64_t fetch_interval_ns, check_interval_ns;
			uint64_t execute_duration_ns, silence_duration_ns;
		} continuous;
	} profiling;
	struct {			/* trace profiling (ProfileTask) */
		bool active;
		uint64_t check_interval_ns;	/* getProfileTaskCommands */
		uint64_t keep_alive_ns;		/* ManagementService.keepAlive */
		uint64_t flush_interval_ns;	/* ThreadSnapshot batches */
		uint32_t max_parallel;		/* segments sampled at once per task */
		uint32_t max_depth;		/* codeSignatures per snapshot, leaf side kept */
		bool line_numbers;		/* "function:line" */
		bool kernel_frames;
		struct agent_trace_instance *instances;
		size_t nr_instances;
	} trace;
	enum sw_log_level log_level;	/* logger.level */
	struct {			/* swprof's own keys */
		char *device;
		char *status_socket;
		char *spool_dir;
		uint64_t spool_max_bytes;
		/* user stack bytes copied per sample and unwound with DWARF (0: frame
		 * pointers only), and the per-thread ring size when they are */
		uint64_t on_cpu_stack_bytes, off_cpu_stack_bytes;
		/* the per-thread ring of a task without stack copies (its RSS) */
		uint64_t ring_bytes;
		uint64_t unwind_ring_bytes;
	} agent;
	unsigned int nr_errors, nr_warnings;
};

/* Every default, no file (for a caller without one, and the tests). */
int agent_config_defaults(struct agent_config *cfg);

/*
 * Read @path into @cfg (defaults for every key the file lacks).  Returns 0
 * when the file is valid (warnings allowed), -EINVAL when something was
 * wrong (each problem logged, counted in cfg->nr_errors), another negative
 * errno when the file cannot be read (logged).  @cfg must be given to
 * agent_config_free() in every case.
 */
int agent_config_load(const char *path, struct agent_config *cfg);
void agent_config_free(struct agent_config *cfg);

/* "ERROR", "warn", "info", "debug" (and logrus' fatal, panic, warning, trace). */
int agent_parse_log_level(const char *s, enum sw_log_level *level);
/* Go's time.ParseDuration forms ("20s", "1m30s", "500ms", "1.5h"); a bare number is seconds. */
int agent_parse_duration(const char *s, uint64_t *ns);
/* "256MB", "400KB", "1GiB", "4096": bytes (K/M/G = 1024-based, as Rover's sizes). */
int agent_parse_size(const char *s, uint64_t *bytes);
int agent_parse_bool(const char *s, bool *v);

#endif
