// SPDX-License-Identifier: GPL-2.0-only
/*
 * sym: JIT symbols from /tmp/perf-PID.map ("START SIZE name" per line, hex),
 * the convention of perf, V8, the JVM agents, LuaJIT...  The file lives in
 * the target's mount namespace and is named after its pid there, so it is
 * /proc/PID/root/tmp/perf-<NSpid>.map.  Re-read when it changed and an
 * address is not found.  Later lines win over earlier ones (code reuse).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sym_priv.h"

/* How often a miss may stat the file again, seconds. */
#define PERFMAP_RECHECK		0.05

void sym_perfmap_free(void *arg)
{
	struct sym_perfmap *pm = arg;

	if (!pm)
		return;
	free(pm->text);
	free(pm->e);
	free(pm);
}

struct jit_sort {
	struct sym_jit j;
	size_t line;
};

static int jit_cmp(const void *pa, const void *pb)
{
	const struct jit_sort *a = pa, *b = pb;

	if (a->j.start != b->j.start)
		return a->j.start < b->j.start ? -1 : 1;
	return a->line < b->line ? 1 : a->line > b->line ? -1 : 0;	/* newest first */
}

static bool parse_hex(char **p, uint64_t *v)
{
	char *end;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	errno = 0;
	*v = strtoull(*p, &end, 16);
	if (end == *p || errno)
		return false;
	*p = end;
	return true;
}

static struct sym_perfmap *perfmap_parse(char *text, size_t len)
{
	struct sym_perfmap *pm = calloc(1, sizeof(*pm));
	struct jit_sort *t = NULL, *grown;
	size_t nr = 0, cap = 0, i, n;
	char *p = text, *end = text + len;

	if (!pm)
		return NULL;
	pm->text = text;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line = p, *name;
		uint64_t start, size;

		if (!nl)
			nl = end;
		*nl = '\0';
		p = nl + 1;
		if (!parse_hex(&line, &start) || !parse_hex(&line, &size) || !size)
			continue;
		while (*line == ' ' || *line == '\t')
			line++;
		name = line;
		if (!*name)
			continue;
		if (nl > name && nl[-1] == '\r')
			nl[-1] = '\0';
		if (nr == cap) {
			cap = cap ? cap * 2 : 256;
			grown = realloc(t, cap * sizeof(*t));
			if (!grown)
				goto fail;
			t = grown;
		}
		t[nr].j.start = start;
		t[nr].j.size = size;
		t[nr].j.name = name;
		t[nr].line = nr;
		nr++;
	}
	if (nr)
		qsort(t, nr, sizeof(*t), jit_cmp);
	pm->e = malloc((nr ? nr : 1) * sizeof(*pm->e));
	if (!pm->e)
		goto fail;
	for (i = 0, n = 0; i < nr; i++) {
		if (n && pm->e[n - 1].start == t[i].j.start)
			continue;	/* the newest came first */
		pm->e[n++] = t[i].j;
	}
	pm->nr = n;
	free(t);
	return pm;
fail:
	free(t);
	pm->text = NULL;
	sym_perfmap_free(pm);
	return NULL;
}

static char *read_all(int fd, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1), *grown;
	ssize_t r;

	if (!buf)
		return NULL;
	while ((r = read(fd, buf + n, cap - n)) > 0) {
		n += (size_t)r;
		if (n == cap) {
			cap *= 2;
			grown = realloc(buf, cap + 1);
			if (!grown) {
				free(buf);
				return NULL;
			}
			buf = grown;
		}
	}
	if (r < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void perfmap_load(struct sym_session *s, struct sym_proc *p)
{
	char path[128], shown[64];
	struct sym_perfmap *pm;
	struct timespec now;
	struct stat st;
	size_t len;
	char *text;
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->perfmap_tried &&
	    (double)(now.tv_sec - p->perfmap_check.tv_sec) +
	    (double)(now.tv_nsec - p->perfmap_check.tv_nsec) / 1e9 < PERFMAP_RECHECK)
		return;
	p->perfmap_tried = true;
	p->perfmap_check = now;
	snprintf(path, sizeof(path), "%s/tmp/perf-%d.map", p->root, (int)p->nspid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) || (p->perfmap && st.st_size == p->perfmap_size &&
			       st.st_mtim.tv_sec == p->perfmap_mtime.tv_sec &&
			       st.st_mtim.tv_nsec == p->perfmap_mtime.tv_nsec)) {
		close(fd);
		return;
	}
	text = read_all(fd, &len);
	close(fd);
	if (!text)
		return;
	pm = perfmap_parse(text, len);
	if (!pm) {
		free(text);
		return;
	}
	snprintf(shown, sizeof(shown), "/tmp/perf-%d.map", (int)p->nspid);
	pm->path = sym_intern(s->strings, shown, strlen(shown));
	pm->name = pm->path ? pm->path + 5 : NULL;
	if (!pm->path) {
		sym_perfmap_free(pm);
		return;
	}
	if (p->perfmap)
		sym_bury(s, sym_perfmap_free, p->perfmap);
	p->perfmap = pm;
	p->perfmap_size = st.st_size;
	p->perfmap_mtime = st.st_mtim;
}

static const struct sym_jit *perfmap_search(const struct sym_perfmap *pm, uint64_t addr)
{
	size_t lo = 0, hi = pm->nr, k;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pm->e[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = 0; k < 4 && k < lo; k++) {
		const struct sym_jit *j = &pm->e[lo - 1 - k];

		if (addr - j->start < j->size)
			return j;
	}
	return NULL;
}

const struct sym_jit *sym_perfmap_find(struct sym_session *s, struct sym_proc *p,
				       uint64_t addr, struct sym_perfmap **pmp)
{
	const struct sym_jit *j = NULL;

	if (p->perfmap)
		j = perfmap_search(p->perfmap, addr);
	if (!j && !p->gone) {
		perfmap_load(s, p);
		if (p->perfmap)
			j = perfmap_search(p->perfmap, addr);
	}
	*pmp = p->perfmap;
	return j;
}
