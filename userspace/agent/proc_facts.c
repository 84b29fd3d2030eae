// SPDX-License-Identifier: GPL-2.0-only
/* A process's and the host's facts for the finders (agent_finder.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_finder.h"

/* The whole of a small /proc file; *len its size.  NULL with errno. */
static char *read_whole(const char *path, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1), *nb;
	ssize_t r;
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	while ((r = read(fd, buf + n, cap - n)) > 0) {
		n += r;
		if (n == cap) {
			nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				free(buf);
				close(fd);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static char *read_link(const char *path)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return strdup("");
	buf[n] = '\0';
	/* a deleted executable keeps its name */
	if (n > 10 && !strcmp(buf + n - 10, " (deleted)"))
		buf[n - 10] = '\0';
	return strdup(buf);
}

void agent_process_facts_free(struct agent_process_facts *p)
{
	size_t i;

	free(p->exe_path);
	free(p->exe_name);
	free(p->cmdline);
	free(p->workdir);
	for (i = 0; i < p->nr_env; i++)
		free(p->env[i]);
	free(p->env);
	memset(p, 0, sizeof(*p));
}

int agent_process_facts_read(const char *proc_root, pid_t pid, struct agent_process_facts *out)
{
	char path[PATH_MAX], *buf, *s;
	size_t len, i;
	int err;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	if (!proc_root)
		proc_root = "/proc";
	snprintf(path, sizeof(path), "%s/%d/cmdline", proc_root, (int)pid);
	buf = read_whole(path, &len);
	if (!buf)
		return -errno;
	/* arguments end with a NUL each; joined by spaces as Rover does */
	while (len && buf[len - 1] == '\0')
		len--;
	for (i = 0; i < len; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[len] = '\0';
	out->cmdline = buf;

	snprintf(path, sizeof(path), "%s/%d/exe", proc_root, (int)pid);
	out->exe_path = read_link(path);
	snprintf(path, sizeof(path), "%s/%d/cwd", proc_root, (int)pid);
	out->workdir = read_link(path);
	if (!out->exe_path || !out->workdir)
		goto nomem;
	s = strrchr(out->exe_path, '/');
	if (s && s[1]) {
		out->exe_name = strdup(s + 1);
	} else {
		/* a kernel thread or another user's process: its comm */
		snprintf(path, sizeof(path), "%s/%d/comm", proc_root, (int)pid);
		buf = read_whole(path, &len);
		if (buf)
			buf[strcspn(buf, "\n")] = '\0';
		out->exe_name = buf ? buf : strdup("");
	}
	if (!out->exe_name)
		goto nomem;

	/* the environment is another user's secret: unreadable is empty */
	snprintf(path, sizeof(path), "%s/%d/environ", proc_root, (int)pid);
	buf = read_whole(path, &len);
	if (buf) {
		for (s = buf; s < buf + len; s += strlen(s) + 1) {
			char **nv;

			if (!strchr(s, '='))
				continue;
			nv = realloc(out->env, (out->nr_env + 1) * sizeof(*nv));
			if (!nv || !(nv[out->nr_env] = strdup(s))) {
				if (nv)
					out->env = nv;
				free(buf);
				goto nomem;
			}
			out->env = nv;
			out->nr_env++;
		}
		free(buf);
	}
	return 0;
nomem:
	err = -ENOMEM;
	agent_process_facts_free(out);
	return err;
}

void agent_host_facts_free(struct agent_host_facts *h)
{
	size_t i;

	for (i = 0; i < h->nr_ifaces; i++) {
		free((char *)h->ifaces[i].name);
		free((char *)h->ifaces[i].ipv4);
		free((char *)h->ifaces[i].ipv6);
	}
	free((void *)h->ifaces);
	free((char *)h->hostname);
	free((char *)h->instance_id);
	memset(h, 0, sizeof(*h));
}

/* The entry for @name, added when new; NULL when out of memory. */
static struct agent_host_iface *iface_of(struct agent_host_facts *h, const char *name)
{
	struct agent_host_iface *v = (struct agent_host_iface *)h->ifaces;
	size_t i;

	for (i = 0; i < h->nr_ifaces; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	v = realloc(v, (h->nr_ifaces + 1) * sizeof(*v));
	if (!v)
		return NULL;
	h->ifaces = v;
	memset(&v[h->nr_ifaces], 0, sizeof(*v));
	v[h->nr_ifaces].name = strdup(name);
	if (!v[h->nr_ifaces].name)
		return NULL;
	return &v[h->nr_ifaces++];
}

int agent_host_facts_read(const char *instance_id, struct agent_host_facts *h)
{
	char host[HOST_NAME_MAX + 1] = "";
	struct ifaddrs *ifa, *i;

	memset(h, 0, sizeof(*h));
	gethostname(host, sizeof(host) - 1);
	h->hostname = strdup(host);
	h->instance_id = strdup(instance_id ? instance_id : "");
	if (!h->hostname || !h->instance_id)
		goto nomem;
	if (getifaddrs(&ifa))
		return 0;	/* no addresses: the templates give "" */
	for (i = ifa; i; i = i->ifa_next) {
		char addr[INET6_ADDRSTRLEN];
		struct agent_host_iface *e;
		const char **slot;
		int fam;

		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP))
			continue;
		fam = i->ifa_addr->sa_family;
		if (fam != AF_INET && fam != AF_INET6)
			continue;
		if (!inet_ntop(fam, fam == AF_INET ? (void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr :
			       (void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, addr, sizeof(addr)))
			continue;
		e = iface_of(h, i->ifa_name);
		if (!e) {
			freeifaddrs(ifa);
			goto nomem;
		}
		slot = fam == AF_INET ? &e->ipv4 : &e->ipv6;
		if (*slot)
			continue;	/* the first address of each family */
		*slot = strdup(addr);
		if (!*slot) {
			freeifaddrs(ifa);
			goto nomem;
		}
	}
	freeifaddrs(ifa);
	return 0;
nomem:
	agent_host_facts_free(h);
	return -ENOMEM;
}
