/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Entity-name templates: the forms of Rover's Go templates a user would
 * write, over a process's facts.  Text outside {{ }} is kept as is; inside,
 * exactly one of:
 *
 *	.Process.ExeName  .Process.ExeFilePath  .Process.Pid
 *	.Process.CommandLine  .Process.WorkDir  .Process.Env "NAME"
 *	.Rover.HostName  .Rover.InstanceID  .Rover.HostIPV4 "IFACE"
 *	.Rover.HostIPV6 "IFACE"  .Finder.Layer  .Finder.RegexMatchGroup N
 *
 * with spaces allowed around them and Go's trim markers ({{- and -}}).
 * .Process.Env is swprof's (Rover has no such form); an unset variable is "".
 * HostIPV4/6 of an interface without such an address give the host's first
 * non-loopback one (Rover's default names "en0", which Linux rarely has).
 */
#ifndef AGENT_TEMPLATE_H
#define AGENT_TEMPLATE_H

#include <stddef.h>
#include <sys/types.h>

/* What /proc says of one process (agent_process_facts_read()). */
struct agent_process_facts {
	pid_t pid;
	char *exe_path;		/* /proc/PID/exe's target; "" when unreadable */
	char *exe_name;		/* its last component (or /proc/PID/comm) */
	char *cmdline;		/* the arguments joined by one space each */
	char *workdir;		/* /proc/PID/cwd's target; "" when unreadable */
	char **env;		/* "NAME=VALUE", from /proc/PID/environ */
	size_t nr_env;
};

struct agent_host_iface {
	const char *name;
	const char *ipv4, *ipv6;	/* NULL when it has none */
};

struct agent_host_facts {
	const char *hostname;
	const char *instance_id;	/* the agent's UUID of this run */
	const struct agent_host_iface *ifaces;
	size_t nr_ifaces;
};

/* Everything a template may ask for. */
struct agent_template_ctx {
	const struct agent_process_facts *proc;
	const struct agent_host_facts *host;
	const char *layer;
	const char *const *groups;	/* groups[0]: the whole match, [i]: group i */
	size_t nr_groups;
};

struct agent_template;

/*
 * Parse @src.  Returns 0, -ENOMEM, or -EINVAL with *errpos (the offset of the
 * bad "{{" in @src) and a reason in @why (a buffer of @whylen bytes).
 */
int agent_template_parse(const char *src, struct agent_template **out, size_t *errpos,
			 char *why, size_t whylen);
void agent_template_free(struct agent_template *t);
/* The template as written. */
const char *agent_template_source(const struct agent_template *t);
/* The largest N of its .Finder.RegexMatchGroup N (0 when none). */
unsigned int agent_template_max_group(const struct agent_template *t);
/* Render into *out (malloc'd).  0 or -ENOMEM. */
int agent_template_render(const struct agent_template *t, const struct agent_template_ctx *ctx,
			  char **out);

#endif
