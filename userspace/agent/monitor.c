// SPDX-License-Identifier: GPL-2.0-only
/* Monitor readings from /proc: process CPU time, threads, system load (agent_continuous_priv.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_continuous_priv.h"

/* @root/@rel (printf) into @buf, NUL-terminated.  Bytes read, or -errno (-ENOENT when gone). */
static ssize_t __attribute__((format(printf, 4, 5)))
read_small(const char *root, char *buf, size_t len, const char *fmt, ...)
{
	char rel[64], path[PATH_MAX];
	ssize_t n, got = 0;
	va_list ap;
	int fd;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", root ? root : "/proc", rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ESRCH ? -ENOENT : -errno;
	while ((size_t)got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = errno == ESRCH ? -ENOENT : -errno;
			close(fd);
			return n;
		}
		if (!n)
			break;
		got += n;
	}
	close(fd);
	buf[got] = 0;
	return got;
}

int agent_cp_read_cpu(const char *proc_root, pid_t pid, uint64_t *ticks, uint64_t *start_time)
{
	unsigned long long utime, stime, start;
	char buf[1024], *p;
	ssize_t n;
	int field;

	n = read_small(proc_root, buf, sizeof(buf), "%d/stat", (int)pid);
	if (n < 0)
		return n;
	/* the command may hold spaces and parentheses: fields start after the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p++;
	/* p is at field 3 (state); utime and stime are 14 and 15, starttime 22 */
	for (field = 3; field < 14; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EINVAL;
	}
	if (sscanf(p, " %llu %llu %*d %*d %*d %*d %*d %*u %llu", &utime, &stime, &start) != 3)
		return -EINVAL;
	*ticks = utime + stime;
	*start_time = start;
	return 0;
}

int agent_cp_read_threads(const char *proc_root, pid_t pid, uint32_t *threads)
{
	char buf[4096], *p;
	unsigned int v;
	ssize_t n;

	n = read_small(proc_root, buf, sizeof(buf), "%d/status", (int)pid);
	if (n < 0)
		return n;
	p = strstr(buf, "\nThreads:");
	if (!p || sscanf(p + 9, "%u", &v) != 1)
		return -EINVAL;
	*threads = v;
	return 0;
}

int agent_cp_read_loadavg(const char *proc_root, double *load1)
{
	char buf[256];
	ssize_t n;

	n = read_small(proc_root, buf, sizeof(buf), "loadavg");
	if (n < 0)
		return n;
	if (sscanf(buf, "%lf", load1) != 1 || *load1 < 0)
		return -EINVAL;
	return 0;
}

double agent_cp_cpu_percent(uint64_t ticks0, uint64_t ns0, uint64_t ticks1, uint64_t ns1,
			    long clk_tck)
{
	double cpu_s, wall_s;

	if (ns1 <= ns0 || ticks1 < ticks0 || clk_tck <= 0)
		return -1;
	cpu_s = (double)(ticks1 - ticks0) / clk_tck;
	wall_s = (double)(ns1 - ns0) / NSEC;
	return cpu_s / wall_s * 100;
}
