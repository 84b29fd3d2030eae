// SPDX-License-Identifier: GPL-2.0-only
/* The process table: what the finders match, rescanned over /proc (agent_discovery.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_discovery.h"
#include "sw_log.h"

struct entry {
	struct agent_proc p;
	bool seen;			/* in the scan under way, and still matched */
};

struct agent_discovery {
	const struct agent_config *cfg;
	const struct agent_host_facts *host;
	char *proc_root;
	pid_t self;
	char mntns[64];			/* the agent's mount namespace; "" when unknown */
	struct entry **v;		/* in order of discovery */
	struct entry **by_pid;		/* the same entries, sorted by pid */
	size_t nr, cap;
	bool recheck;			/* reconfigured: match the entries again */
};

static void entry_free(struct entry *e)
{
	agent_entity_free(&e->p.ent);
	free(e->p.cmdline);
	free(e->p.exe_path);
	free(e->p.process_id);
	free(e);
}

/* The target of @root/@pid/@what into @buf; "" when unreadable. */
static void read_ns(const char *root, const char *pid, const char *what, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s/ns/%s", root, pid, what);
	n = readlink(path, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
}

int agent_discovery_new(const struct agent_config *cfg, const struct agent_host_facts *host,
			const struct agent_discovery_opts *opts, struct agent_discovery **out)
{
	struct agent_discovery *d;

	*out = NULL;
	if (!SW_OPTS_VALID(opts, agent_discovery_opts))
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cfg = cfg;
	d->host = host;
	d->self = SW_OPTS_GET_OR(opts, self, getpid());
	d->proc_root = strdup(SW_OPTS_GET_OR(opts, proc_root, "/proc"));
	if (!d->proc_root) {
		free(d);
		return -ENOMEM;
	}
	read_ns(d->proc_root, "self", "mnt", d->mntns, sizeof(d->mntns));
	*out = d;
	return 0;
}

void agent_discovery_free(struct agent_discovery *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->nr; i++)
		entry_free(d->v[i]);
	free(d->v);
	free(d->by_pid);
	free(d->proc_root);
	free(d);
}

void agent_discovery_reconfigure(struct agent_discovery *d, const struct agent_config *cfg,
				 const struct agent_host_facts *host)
{
	d->cfg = cfg;
	d->host = host;
	d->recheck = true;
}

/* ---- the pid index ---------------------------------------------------- */

/* Where @pid is in by_pid, or where it would go. */
static size_t pid_slot(const struct agent_discovery *d, pid_t pid)
{
	size_t lo = 0, hi = d->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->by_pid[mid]->p.pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct entry *find_pid(const struct agent_discovery *d, pid_t pid)
{
	size_t i = pid_slot(d, pid);

	return i < d->nr && d->by_pid[i]->p.pid == pid ? d->by_pid[i] : NULL;
}

static int reserve(struct agent_discovery *d, size_t n)
{
	struct entry **v, **b;
	size_t cap = d->cap ? d->cap : 16;

	if (n <= d->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	v = realloc(d->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	d->v = v;
	b = realloc(d->by_pid, cap * sizeof(*b));
	if (!b)
		return -ENOMEM;
	d->by_pid = b;
	d->cap = cap;
	return 0;
}

/* Append @e (room reserved) to the table and the index. */
static void insert(struct agent_discovery *d, struct entry *e)
{
	size_t i = pid_slot(d, e->p.pid);

	memmove(&d->by_pid[i + 1], &d->by_pid[i], (d->nr - i) * sizeof(*d->by_pid));
	d->by_pid[i] = e;
	d->v[d->nr++] = e;
}

/* Take entry @i out of the table and the index. */
static void remove_at(struct agent_discovery *d, size_t i)
{
	size_t j = pid_slot(d, d->v[i]->p.pid);

	memmove(&d->by_pid[j], &d->by_pid[j + 1], (d->nr - j - 1) * sizeof(*d->by_pid));
	memmove(&d->v[i], &d->v[i + 1], (d->nr - i - 1) * sizeof(*d->v));
	d->nr--;
}

/* ---- reading /proc ---------------------------------------------------- */

/* A /proc entry's name as a pid; 0 when it is not one. */
static pid_t pid_of(const char *name)
{
	long v = 0;

	if (!*name)
		return 0;
	for (; *name; name++) {
		if (*name < '0' || *name > '9' || v > (INT_MAX - 9) / 10)
			return 0;
		v = v * 10 + (*name - '0');
	}
	return v;
}

/*
 * Field 22 of @root/@pid/stat, the start time.  The comm (field 2) may hold
 * spaces and parentheses: the fields after it follow the last ')'.
 */
static int read_start_time(const char *root, pid_t pid, uint64_t *out)
{
	char path[PATH_MAX], buf[4096], *p;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "%s/%d/stat", root, (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* one space before each field: field 22 follows the 20th after the comm */
	for (i = 3; p && i <= 22; i++)
		p = strchr(p + 1, ' ');
	if (!p || p[1] < '0' || p[1] > '9')
		return -EINVAL;
	*out = strtoull(p + 1, NULL, 10);
	return 0;
}

static bool other_mntns(const struct agent_discovery *d, pid_t pid)
{
	char name[16], ns[64];

	snprintf(name, sizeof(name), "%d", (int)pid);
	read_ns(d->proc_root, name, "mnt", ns, sizeof(ns));
	return *d->mntns && *ns && strcmp(ns, d->mntns);
}

/* Process @pid, when a finder matches it: a new entry, not yet named nor in the table. */
static struct entry *candidate(const struct agent_discovery *d, pid_t pid, uint64_t start_time)
{
	struct agent_process_facts f;
	struct entry *e;
	int err;

	err = agent_process_facts_read(d->proc_root, pid, &f);
	if (err) {
		if (err != -ENOENT && err != -ESRCH)
			sw_debug("process %d skipped: %s", (int)pid, strerror(-err));
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	err = e ? agent_find_entity(d->cfg, &f, d->host, &e->p.ent) : -ENOMEM;
	if (err) {
		if (err != -ENOENT)
			sw_debug("process %d (%s) skipped: %s", (int)pid, f.exe_name,
				 strerror(-err));
		free(e);
		agent_process_facts_free(&f);
		return NULL;
	}
	e->p.pid = pid;
	e->p.start_time = start_time;
	e->p.cmdline = f.cmdline;
	e->p.exe_path = f.exe_path;
	f.cmdline = f.exe_path = NULL;
	e->p.other_mntns = other_mntns(d, pid);
	agent_process_facts_free(&f);
	return e;
}

/* After a reconfiguration: whether a finder (the new ones) still matches @e. */
static bool still_matches(const struct agent_discovery *d, const struct entry *e)
{
	struct agent_process_facts f;
	struct agent_entity ent;
	int err;

	if (agent_process_facts_read(d->proc_root, e->p.pid, &f))
		return false;
	err = agent_find_entity(d->cfg, &f, d->host, &ent);
	agent_process_facts_free(&f);
	if (!err)
		agent_entity_free(&ent);
	if (err == -ENOENT || err == -ENODATA) {
		sw_debug("process %d (%s) no longer matches a finder", (int)e->p.pid,
			 e->p.ent.process);
		return false;
	}
	return true;
}

/* ---- the scan --------------------------------------------------------- */

struct news {
	struct entry **v;
	size_t nr;
};

static void news_add(struct news *n, struct entry *e)
{
	struct entry **v = realloc(n->v, (n->nr + 1) * sizeof(*v));

	if (!v) {
		sw_warn("out of memory: process %d is not discovered in this scan", (int)e->p.pid);
		entry_free(e);
		return;
	}
	n->v = v;
	v[n->nr++] = e;
}

/* Process @pid of /proc: an entry of the table seen, or a new one into @n. */
static void visit(struct agent_discovery *d, pid_t pid, struct news *n)
{
	struct entry *e;
	uint64_t start_time;

	if (pid == d->self || read_start_time(d->proc_root, pid, &start_time))
		return;
	e = find_pid(d, pid);
	if (e && e->p.start_time == start_time) {
		e->seen = !d->recheck || still_matches(d, e);
		return;
	}
	/* new, or the pid of an exited process reused (that entry is not seen) */
	e = candidate(d, pid, start_time);
	if (e)
		news_add(n, e);
}

/* Drop the entries not seen; how many. */
static int drop_unseen(struct agent_discovery *d, const struct agent_discovery_ops *ops, void *ctx)
{
	size_t i = 0;
	int n = 0;

	while (i < d->nr) {
		struct entry *e = d->v[i];

		if (e->seen) {
			i++;
			continue;
		}
		remove_at(d, i);
		sw_debug("process %d (%s) is gone", (int)e->p.pid, e->p.ent.process);
		if (ops && ops->gone)
			ops->gone(ctx, &e->p);
		entry_free(e);
		n++;
	}
	return n;
}

/* Oldest first: by start time, then pid. */
static int by_age(const void *a, const void *b)
{
	const struct agent_proc *x = &(*(struct entry *const *)a)->p;
	const struct agent_proc *y = &(*(struct entry *const *)b)->p;

	if (x->start_time != y->start_time)
		return x->start_time < y->start_time ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Whether an entry of the table has @ent's names. */
static bool name_taken(const struct agent_discovery *d, const struct agent_entity *ent)
{
	size_t i;

	for (i = 0; i < d->nr; i++) {
		const struct agent_entity *o = &d->v[i]->p.ent;

		if (!strcmp(o->process, ent->process) && !strcmp(o->service, ent->service) &&
		    !strcmp(o->instance, ent->instance))
			return true;
	}
	return false;
}

/* " (pid N)" after @e's process name when another entry has its names already. */
static int give_name(const struct agent_discovery *d, struct entry *e)
{
	char *s;

	if (!name_taken(d, &e->p.ent))
		return 0;
	if (asprintf(&s, "%s (pid %d)", e->p.ent.process, (int)e->p.pid) < 0)
		return -ENOMEM;
	free(e->p.ent.process);
	e->p.ent.process = s;
	return 0;
}

/* Add the new entries, oldest first (which keeps a shared name); how many. */
static int add_news(struct agent_discovery *d, struct news *n,
		    const struct agent_discovery_ops *ops, void *ctx)
{
	size_t i;
	int added = 0;

	if (!n->nr)
		return 0;	/* n->v is NULL: not for qsort() */
	qsort(n->v, n->nr, sizeof(*n->v), by_age);
	for (i = 0; i < n->nr; i++) {
		struct entry *e = n->v[i];

		if (reserve(d, d->nr + 1) || give_name(d, e)) {
			sw_warn("out of memory: process %d is not discovered in this scan",
				(int)e->p.pid);
			entry_free(e);
			continue;
		}
		insert(d, e);
		sw_debug("process %d is %s / %s / %s", (int)e->p.pid, e->p.ent.service,
			 e->p.ent.instance, e->p.ent.process);
		if (ops && ops->added)
			ops->added(ctx, &e->p);
		added++;
	}
	return added;
}

int agent_discovery_scan(struct agent_discovery *d, const struct agent_discovery_ops *ops,
			 void *ctx)
{
	struct news n = { 0 };
	struct dirent *de;
	DIR *dir;
	size_t i;
	int changes, err;

	dir = opendir(d->proc_root);
	if (!dir) {
		err = -errno;
		sw_log_ratelimited(SW_LOG_ERROR, "cannot list the processes in %s: %s",
				   d->proc_root, strerror(-err));
		return err;
	}
	for (i = 0; i < d->nr; i++)
		d->v[i]->seen = false;
	while ((de = readdir(dir))) {
		pid_t pid = pid_of(de->d_name);

		if (pid > 0)
			visit(d, pid, &n);
	}
	closedir(dir);
	d->recheck = false;
	changes = drop_unseen(d, ops, ctx);
	changes += add_news(d, &n, ops, ctx);
	free(n.v);
	return changes;
}

/* ---- lookups and OAP's ids -------------------------------------------- */

size_t agent_discovery_count(const struct agent_discovery *d)
{
	return d->nr;
}

struct agent_proc *agent_discovery_at(struct agent_discovery *d, size_t i)
{
	return i < d->nr ? &d->v[i]->p : NULL;
}

struct agent_proc *agent_discovery_by_pid(struct agent_discovery *d, pid_t pid)
{
	struct entry *e = find_pid(d, pid);

	return e ? &e->p : NULL;
}

struct agent_proc *agent_discovery_by_process_id(struct agent_discovery *d, const char *id)
{
	size_t i;

	for (i = 0; i < d->nr; i++)
		if (d->v[i]->p.process_id && !strcmp(d->v[i]->p.process_id, id))
			return &d->v[i]->p;
	return NULL;
}

int agent_discovery_set_id(struct agent_discovery *d, pid_t pid, const char *service,
			   const char *instance, const char *process, const char *process_id)
{
	struct entry *e = find_pid(d, pid);
	char *id;

	if (!e || strcmp(e->p.ent.service, service) || strcmp(e->p.ent.instance, instance) ||
	    strcmp(e->p.ent.process, process))
		return -ENOENT;
	id = strdup(process_id);
	if (!id)
		return -ENOMEM;
	free(e->p.process_id);
	e->p.process_id = id;
	e->p.reported = true;
	return 0;
}

void agent_discovery_reset_ids(struct agent_discovery *d)
{
	size_t i;

	for (i = 0; i < d->nr; i++) {
		free(d->v[i]->p.process_id);
		d->v[i]->p.process_id = NULL;
		d->v[i]->p.reported = false;
	}
}
