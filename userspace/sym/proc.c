// SPDX-License-Identifier: GPL-2.0-only
/*
 * sym: processes.  /proc/PID/maps is read once and again only when an
 * address falls outside every known mapping (a library dlopen'ed later),
 * at a bounded rate.  Files are opened through /proc/PID/root (containers)
 * and, when the mapped file was deleted or replaced, through
 * /proc/PID/map_files.  A process that exits keeps what was read.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sym_priv.h"

#define PROC_BUCKETS_MIN	64
/* Re-reads of the maps on misses: a burst of 8, then 10 a second. */
#define REFRESH_BURST		8.0
#define REFRESH_RATE		10.0

static size_t proc_bucket(const struct sym_session *s, pid_t pid)
{
	return (size_t)((uint32_t)pid * 2654435761U) % s->proc_hash_size;
}

struct sym_proc *sym_proc_get(struct sym_session *s, pid_t pid, bool create)
{
	struct sym_proc *p;
	size_t b;

	if (!s->proc_hash) {
		if (!create)
			return NULL;
		s->proc_hash_size = PROC_BUCKETS_MIN;
		s->proc_hash = calloc(s->proc_hash_size, sizeof(*s->proc_hash));
		if (!s->proc_hash)
			return NULL;
	}
	b = proc_bucket(s, pid);
	for (p = s->proc_hash[b]; p; p = p->next)
		if (p->pid == pid)
			return p;
	if (!create)
		return NULL;
	if (s->nr_procs >= s->proc_hash_size * 2) {
		size_t size = s->proc_hash_size * 4, i;
		struct sym_proc **h = calloc(size, sizeof(*h)), *n;

		if (h) {
			for (i = 0; i < s->proc_hash_size; i++)
				for (p = s->proc_hash[i]; p; p = n) {
					n = p->next;
					p->next = h[(size_t)((uint32_t)p->pid * 2654435761U) % size];
					h[(size_t)((uint32_t)p->pid * 2654435761U) % size] = p;
				}
			free(s->proc_hash);
			s->proc_hash = h;
			s->proc_hash_size = size;
			b = proc_bucket(s, pid);
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->nspid = pid;
	p->refresh_tokens = REFRESH_BURST;
	snprintf(p->root, sizeof(p->root), "/proc/%d/root", (int)pid);
	p->next = s->proc_hash[b];
	s->proc_hash[b] = p;
	s->nr_procs++;
	s->st.procs = s->nr_procs;
	return p;
}

void sym_proc_destroy(struct sym_session *s, struct sym_proc *p)
{
	free(p->maps);
	if (p->perfmap)
		sym_perfmap_free(p->perfmap);
	free(p);
}

void sym_proc_forget(struct sym_session *s, pid_t pid)
{
	struct sym_proc **pp, *p;

	if (!s || !s->proc_hash)
		return;
	for (pp = &s->proc_hash[proc_bucket(s, pid)]; (p = *pp); pp = &p->next) {
		if (p->pid != pid)
			continue;
		*pp = p->next;
		s->nr_procs--;
		s->st.procs = s->nr_procs;
		/* Frames handed out may still point at its perf map names. */
		sym_bury(s, free, p->maps);
		if (p->perfmap)
			sym_bury(s, sym_perfmap_free, p->perfmap);
		free(p);
		return;
	}
}

/* NSpid: the last field is the pid as the process sees itself. */
static void read_nspid(struct sym_proc *p)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)p->pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *last, *tok, *save = NULL;

		if (strncmp(line, "NSpid:", 6))
			continue;
		last = NULL;
		for (tok = strtok_r(line + 6, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save))
			last = tok;
		if (last)
			p->nspid = (pid_t)atoi(last);
		break;
	}
	fclose(f);
}

static void read_root(struct sym_proc *p)
{
	struct stat a, b;

	p->foreign_root = !stat(p->root, &a) && !stat("/", &b) &&
			  (a.st_dev != b.st_dev || a.st_ino != b.st_ino);
}

static int parse_maps_line(struct sym_session *s, char *line, struct sym_map *m)
{
	unsigned long long start, end, pgoff, ino;
	unsigned int maj, min;
	char perms[8];
	int pos = 0;
	char *path;
	size_t len;

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &pgoff,
		   &maj, &min, &ino, &pos) < 7 || !pos)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->start = start;
	m->end = end;
	m->pgoff = pgoff;
	m->ino = ino;
	m->dev = makedev(maj, min);
	m->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		  (perms[2] == 'x' ? PROT_EXEC : 0);
	path = line + pos;
	len = strlen(path);
	while (len && (path[len - 1] == '\n' || path[len - 1] == ' '))
		path[--len] = '\0';
	if (len > 10 && !strcmp(path + len - 10, " (deleted)")) {
		m->deleted = true;
		len -= 10;
		path[len] = '\0';
	}
	if (!len) {
		m->kind = SYM_MAP_ANON;
		path = "[anon]";
		len = 6;
	} else if (!strcmp(path, "[vdso]")) {
		m->kind = SYM_MAP_VDSO;
	} else if (path[0] == '[') {
		m->kind = !strncmp(path, "[anon:", 6) ? SYM_MAP_ANON : SYM_MAP_SPECIAL;
	} else if (!strncmp(path, "/memfd:", 7) || !ino) {
		m->kind = SYM_MAP_ANON;	/* JIT code in memfds, or sockets/devices */
	} else {
		m->kind = SYM_MAP_FILE;
	}
	m->path = sym_intern(s->strings, path, len);
	if (!m->path)
		return -ENOMEM;
	{
		const char *slash = strrchr(m->path, '/');
		const char *base = slash && slash[1] ? slash + 1 : m->path;

		m->name = sym_intern(s->strings, base, strlen(base));
	}
	return m->name ? 0 : -ENOMEM;
}

static const struct sym_map *old_map(const struct sym_map *maps, size_t nr,
				     const struct sym_map *m)
{
	size_t lo = 0, hi = nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (maps[mid].start < m->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < nr && maps[lo].start == m->start && maps[lo].end == m->end &&
	    maps[lo].pgoff == m->pgoff && maps[lo].ino == m->ino && maps[lo].dev == m->dev &&
	    maps[lo].path == m->path)
		return &maps[lo];
	return NULL;
}

static int proc_read_maps(struct sym_session *s, struct sym_proc *p)
{
	struct sym_map *maps = NULL, *grown;
	size_t nr = 0, cap = 0, i;
	char path[64], *line = NULL;
	size_t linecap = 0;
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)p->pid);
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		if (err == -ENOENT)
			p->gone = true;
		p->maps_err = err;
		return err;
	}
	s->st.maps_reads++;
	if (!p->maps_read) {
		read_nspid(p);
		read_root(p);
	}
	while (getline(&line, &linecap, f) > 0) {
		if (nr == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(maps, cap * sizeof(*maps));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			maps = grown;
		}
		err = parse_maps_line(s, line, &maps[nr]);
		if (err == -ENOMEM)
			break;
		if (!err)
			nr++;
		err = 0;
	}
	free(line);
	fclose(f);
	if (err) {
		free(maps);
		return err;
	}
	if (!nr && p->maps_read) {
		/* An exiting process shows empty maps: keep what we had. */
		free(maps);
		p->gone = true;
		return -ESRCH;
	}
	/* Files already opened for an unchanged mapping stay. */
	for (i = 0; i < nr; i++) {
		const struct sym_map *o = old_map(p->maps, p->nr_maps, &maps[i]);

		if (o) {
			maps[i].file = o->file;
			maps[i].file_tried = o->file_tried;
		}
	}
	if (p->maps)
		sym_bury(s, free, p->maps);
	p->maps = maps;
	p->nr_maps = nr;
	p->maps_read = true;
	p->maps_err = 0;
	clock_gettime(CLOCK_MONOTONIC, &p->refresh_time);
	return 0;
}

int sym_proc_refresh(struct sym_session *s, pid_t pid)
{
	struct sym_proc *p;
	int err;

	if (!s || pid <= 0)
		return -EINVAL;
	sym_evict(s);
	p = sym_proc_get(s, pid, true);
	if (!p)
		return -ENOMEM;
	err = proc_read_maps(s, p);
	if (err && p->maps_read)
		return 0;	/* gone, but we keep what was read */
	return err;
}

static struct sym_map *map_search(struct sym_proc *p, uint64_t addr)
{
	size_t lo = 0, hi = p->nr_maps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct sym_map *m = &p->maps[mid];

		if (addr < m->start)
			hi = mid;
		else if (addr >= m->end)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

static bool refresh_allowed(struct sym_proc *p)
{
	struct timespec now;
	double dt;

	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = (double)(now.tv_sec - p->refresh_time.tv_sec) +
	     (double)(now.tv_nsec - p->refresh_time.tv_nsec) / 1e9;
	p->refresh_tokens += dt * REFRESH_RATE;
	if (p->refresh_tokens > REFRESH_BURST)
		p->refresh_tokens = REFRESH_BURST;
	p->refresh_time = now;
	if (p->refresh_tokens < 1.0)
		return false;
	p->refresh_tokens -= 1.0;
	return true;
}

struct sym_map *sym_proc_find_map(struct sym_session *s, struct sym_proc *p, uint64_t addr)
{
	struct sym_map *m;

	if (!p->maps_read) {
		if (p->gone || proc_read_maps(s, p))
			return NULL;
		return map_search(p, addr);
	}
	m = map_search(p, addr);
	if (m || p->gone || !refresh_allowed(p))
		return m;
	if (proc_read_maps(s, p))
		return NULL;
	return map_search(p, addr);
}

/* ------------------------------------------------------------------ */

static int open_checked(const char *path, uint64_t ino)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || (ino && st.st_ino != ino)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Our own vdso, the same image as every process's on this kernel. */
static void *own_vdso(size_t max, size_t *size)
{
	const unsigned char *base = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	size_t len;
	void *copy;

	if (!base || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64)
		return NULL;
	len = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
	if (!len || len > max)
		return NULL;
	copy = malloc(len);
	if (!copy)
		return NULL;
	memcpy(copy, base, len);
	*size = len;
	return copy;
}

static struct sym_file *vdso_file(struct sym_session *s, struct sym_proc *p, struct sym_map *m)
{
	size_t size = m->end - m->start;
	char path[64];
	void *image;
	ssize_t n = -1;
	int fd;

	if (size > (16U << 20))
		return NULL;
	image = malloc(size);
	if (!image)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)p->pid);
	fd = p->gone ? -1 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = pread(fd, image, size, (off_t)m->start);
		close(fd);
	}
	if (n != (ssize_t)size) {
		free(image);
		image = own_vdso(size, &size);
		if (!image)
			return NULL;
	}
	return sym_file_from_image(s, image, size, "[vdso]");
}

struct sym_file *sym_map_file(struct sym_session *s, struct sym_proc *p, struct sym_map *m)
{
	char path[PATH_MAX + 64], open_path[PATH_MAX + 64];
	const char *alt = NULL;
	bool keep = false;
	int fd = -1;

	if (m->file || m->file_tried)
		return m->file;
	m->file_tried = true;
	if (m->kind == SYM_MAP_VDSO) {
		/* Gone processes get our own vdso: one image per kernel. */
		m->file = vdso_file(s, p, m);
		return m->file;
	}
	if (m->kind != SYM_MAP_FILE)
		return NULL;
	if (!p->gone && !m->deleted) {
		snprintf(open_path, sizeof(open_path), "%s%s", p->root, m->path);
		fd = open_checked(open_path, m->ino);
	}
	if (fd < 0 && !p->gone) {
		/* Deleted or replaced since it was mapped: the mapping still holds it. */
		snprintf(open_path, sizeof(open_path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
			 (int)p->pid, m->start, m->end);
		fd = open_checked(open_path, m->ino);
		keep = fd >= 0;
	}
	if (fd < 0 && !p->foreign_root && !m->deleted) {
		snprintf(open_path, sizeof(open_path), "%s", m->path);
		fd = open_checked(open_path, m->ino);
	}
	if (fd < 0)
		return NULL;
	if (!keep && !p->foreign_root)
		alt = m->path;
	snprintf(path, sizeof(path), "%s", m->path);
	m->file = sym_file_from_fd(s, fd, path, open_path, alt, keep,
				   p->foreign_root ? p->root : NULL);
	return m->file;
}
