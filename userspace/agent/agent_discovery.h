/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The process table: which processes of this host the finders match
 * (agent_finder.h), rescanned every process_discovery.vm.period, with
 * OAP's process ids once reported.  Without transport: the daemon builds
 * reportProcesses / keepAlive from the table and gives OAP's answer back.
 *
 * A process is (pid, start time): a pid reused by a new process is a new
 * entry.  The agent's own process is never matched.  Processes in other
 * mount or pid namespaces (containers) are found like any other: their
 * facts come from /proc/PID, their files through /proc/PID/root.
 *
 * Unlike Rover, several processes that render the same entity (service,
 * instance, process name) are all kept: the oldest one (by start time, then
 * pid) keeps the name, each other one gets " (pid N)" appended to its
 * process name, so OAP sees distinct processes.  A process keeps the name
 * it was first given for its whole life.
 */
#ifndef AGENT_DISCOVERY_H
#define AGENT_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent_config.h"
#include "agent_finder.h"
#include "sw_opts.h"

struct agent_proc {
	pid_t pid;
	uint64_t start_time;		/* /proc/PID/stat field 22, clock ticks since boot */
	struct agent_entity ent;	/* ent.process with " (pid N)" when needed */
	char *cmdline;			/* the arguments joined by one space */
	char *exe_path;			/* "" when unreadable */
	bool other_mntns;		/* /proc/PID/ns/mnt differs from the agent's */
	char *process_id;		/* OAP's id; NULL until OAP answered */
	bool reported;			/* in a reportProcesses OAP answered */
	void *priv;			/* the daemon's */
};

struct agent_discovery_opts {
	size_t sz;
	const char *proc_root;		/* NULL: /proc (tests: a fake tree) */
	pid_t self;			/* never matched; 0: getpid() */
};
#define agent_discovery_opts__last_field self
#define AGENT_DISCOVERY_OPTS(name, ...) SW_OPTS(agent_discovery_opts, name, __VA_ARGS__)

struct agent_discovery;

/* @cfg and @host must outlive the table (the daemon swaps both on SIGHUP with
 * agent_discovery_reconfigure()). */
int agent_discovery_new(const struct agent_config *cfg, const struct agent_host_facts *host,
			const struct agent_discovery_opts *opts, struct agent_discovery **out);
void agent_discovery_free(struct agent_discovery *d);

/*
 * New finders and host facts (SIGHUP): entries already in the table keep
 * their entity and id; the next scan matches with the new finders, and
 * drops entries no finder matches any more (through @gone).
 */
void agent_discovery_reconfigure(struct agent_discovery *d, const struct agent_config *cfg,
				 const struct agent_host_facts *host);

struct agent_discovery_ops {
	/* a new entry, after it is in the table */
	void (*added)(void *ctx, struct agent_proc *p);
	/* an entry whose process exited (or no longer matches), just before it is freed */
	void (*gone)(void *ctx, struct agent_proc *p);
};

/*
 * Rescan /proc: add the processes a finder matches now, drop those that
 * exited.  Processes that vanish while being read are skipped silently.
 * Returns the number of entries added plus removed, or a negative errno
 * when /proc itself cannot be read.
 */
int agent_discovery_scan(struct agent_discovery *d, const struct agent_discovery_ops *ops,
			 void *ctx);

size_t agent_discovery_count(const struct agent_discovery *d);
/* Entry @i (0 .. count-1), in order of discovery; valid until the next scan. */
struct agent_proc *agent_discovery_at(struct agent_discovery *d, size_t i);
struct agent_proc *agent_discovery_by_pid(struct agent_discovery *d, pid_t pid);
struct agent_proc *agent_discovery_by_process_id(struct agent_discovery *d, const char *id);

/*
 * OAP's answer to reportProcesses: the entry with @pid whose entity is
 * (@service, @instance, @process) gets @process_id (copied) and reported.
 * 0, -ENOENT when no such entry (it exited meanwhile), -ENOMEM.
 */
int agent_discovery_set_id(struct agent_discovery *d, pid_t pid, const char *service,
			   const char *instance, const char *process, const char *process_id);
/* Forget every OAP id (after a reconnect: the next report gives them again). */
void agent_discovery_reset_ids(struct agent_discovery *d);

#endif
