// SPDX-License-Identifier: GPL-2.0-only
/*
 * utab: the per-process mapper (see utab.h).  For a process, the
 * executable file-backed mappings of /proc/PID/maps and its [vdso] get
 * the table of their file (compiled and uploaded once per file identity:
 * st_dev, st_ino, size, mtime) and the bias that turns an address into a
 * table pc: address - bias = the ELF virtual address, through the PT_LOAD
 * that holds the mapping's file offset.  Files are opened through the
 * process (map_files, then its root), so that containers and deleted files
 * work.  Tables no process uses any more are freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gelf.h>

#include "sw_time.h"
#include "utab.h"

#define MAX_LOADS	16

/* One ELF file (or the vdso) and its table. */
struct ufile {
	struct ufile *next;
	bool vdso;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uint32_t id;			/* 0: no table (no .eh_frame) */
	uint32_t nr_rows;
	unsigned int refs;		/* mappings of known processes that use it */
	bool pinned;			/* utab_mapper_preload(): kept with no user */
	struct { uint64_t off, vaddr, filesz; } loads[MAX_LOADS];
	unsigned int nr_loads;
};

/* A file that could not be read, counted once (by the maps line's identity). */
struct ubad {
	struct ubad *next;
	unsigned int maj, min;
	uint64_t ino;
};

/* An executable mapping as /proc/PID/maps says. */
struct uline {
	uint64_t start, end, pgoff, ino;
	unsigned int maj, min;
	bool vdso, deleted;
	uint32_t path;			/* offset in the push's path buffer */
};

struct uproc {
	struct uproc *next;
	pid_t pid;
	struct uline *lines;		/* as last pushed (paths not kept) */
	size_t nr_lines;
	struct swprof_unwind_mapping *maps;
	struct ufile **files;		/* maps[i] uses files[i] */
	uint32_t nr_maps;
};

struct utab_mapper {
	struct utab_ops ops;
	void *ctx;
	char proc[64];
	struct ufile *files;
	struct ubad *bad;
	struct uproc *procs;
	struct utab_stats st;
};

int utab_mapper_new(const struct utab_mapper_opts *opts, struct utab_mapper **out)
{
	const struct utab_ops *ops = SW_OPTS_GET(opts, ops, NULL);
	struct utab_mapper *m;

	*out = NULL;
	if (!opts || !SW_OPTS_VALID(opts, utab_mapper_opts) || !ops ||
	    !SW_OPTS_VALID(ops, utab_ops))
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	memcpy(&m->ops, ops, ops->sz < sizeof(m->ops) ? ops->sz : sizeof(m->ops));
	if (!m->ops.table_add || !m->ops.table_free || !m->ops.maps_set) {
		free(m);
		return -EINVAL;
	}
	m->ctx = SW_OPTS_GET(opts, ctx, NULL);
	snprintf(m->proc, sizeof(m->proc), "%s", SW_OPTS_GET_OR(opts, proc, "/proc"));
	*out = m;
	return 0;
}

static void proc_free(struct uproc *p)
{
	free(p->lines);
	free(p->maps);
	free(p->files);
	free(p);
}

/* Free the tables no process uses. */
static void gc(struct utab_mapper *m)
{
	struct ufile **pp = &m->files;

	while (*pp) {
		struct ufile *f = *pp;

		if (f->refs || f->pinned) {
			pp = &f->next;
			continue;
		}
		if (f->id) {
			m->ops.table_free(m->ctx, f->id);
			m->st.tables--;
			m->st.rows -= f->nr_rows;
			m->st.bytes -= (uint64_t)f->nr_rows * sizeof(struct swprof_unwind_row);
		}
		*pp = f->next;
		free(f);
	}
}

void utab_mapper_free(struct utab_mapper *m)
{
	if (!m)
		return;
	while (m->procs) {
		struct uproc *n = m->procs->next;
		uint32_t i;

		for (i = 0; i < m->procs->nr_maps; i++)
			m->procs->files[i]->refs--;
		proc_free(m->procs);
		m->procs = n;
	}
	gc(m);
	while (m->bad) {
		struct ubad *n = m->bad->next;

		free(m->bad);
		m->bad = n;
	}
	free(m);
}

static struct uproc *proc_find(const struct utab_mapper *m, pid_t pid, struct uproc ***link)
{
	struct uproc **pp;

	for (pp = (struct uproc **)&m->procs; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			if (link)
				*link = pp;
			return *pp;
		}
	}
	return NULL;
}

bool utab_mapper_knows(const struct utab_mapper *m, pid_t pid)
{
	return proc_find(m, pid, NULL);
}

void utab_mapper_forget(struct utab_mapper *m, pid_t pid, bool remove)
{
	struct uproc **link, *p = proc_find(m, pid, &link);
	uint32_t i;

	if (!p)
		return;
	if (remove && p->nr_maps)
		m->ops.maps_set(m->ctx, pid, NULL, 0);	/* ESRCH: gone already, fine */
	for (i = 0; i < p->nr_maps; i++)
		p->files[i]->refs--;
	*link = p->next;
	proc_free(p);
	m->st.procs--;
	gc(m);
}

/* ---- reading the maps ---------------------------------------------------- */

struct pathbuf {
	char *buf;
	size_t len, cap;
};

static int path_add(struct pathbuf *b, const char *s, size_t n, uint32_t *off)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
		char *p = realloc(b->buf, cap);

		if (!p)
			return -ENOMEM;
		b->buf = p;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, s, n);
	b->buf[b->len + n] = 0;
	*off = (uint32_t)b->len;
	b->len += n + 1;
	return 0;
}

/* The executable file and vdso mappings of @pid.  -ESRCH: gone. */
static int read_lines(struct utab_mapper *m, pid_t pid, struct uline **out, size_t *nr,
		      struct pathbuf *pb)
{
	struct uline *lines = NULL;
	size_t n = 0, cap = 0, len = 0;
	char path[96], *line = NULL;
	int err = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/maps", m->proc, (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &len, f) > 0) {
		struct uline l = { 0 };
		char perms[8];
		int name = 0;
		size_t plen;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n",
			   &l.start, &l.end, perms, &l.pgoff, &l.maj, &l.min, &l.ino, &name) < 7 ||
		    !name || strlen(perms) < 3 || perms[2] != 'x')
			continue;
		plen = strcspn(line + name, "\n");
		if (!strncmp(line + name, "[vdso]", plen) && plen == 6) {
			l.vdso = true;
		} else if (line[name] != '/') {
			continue;	/* anonymous (JIT), [vsyscall]... */
		} else {
			if (plen > 10 && !strncmp(line + name + plen - 10, " (deleted)", 10)) {
				l.deleted = true;
				plen -= 10;
			}
			err = path_add(pb, line + name, plen, &l.path);
			if (err)
				break;
		}
		if (n == cap) {
			struct uline *p;

			cap = cap ? cap * 2 : 64;
			p = realloc(lines, cap * sizeof(*lines));
			if (!p) {
				err = -ENOMEM;
				break;
			}
			lines = p;
		}
		lines[n++] = l;
	}
	free(line);
	fclose(f);
	if (err) {
		free(lines);
		return err;
	}
	*out = lines;
	*nr = n;
	return 0;
}

static bool same_line(const struct uline *a, const struct uline *b)
{
	return a->start == b->start && a->end == b->end && a->pgoff == b->pgoff &&
	       a->ino == b->ino && a->maj == b->maj && a->min == b->min && a->vdso == b->vdso;
}

/* ---- files and their tables ---------------------------------------------- */

static void read_loads(struct ufile *f, Elf *elf)
{
	size_t nphdr, i;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &nphdr))
		return;
	for (i = 0; i < nphdr && f->nr_loads < MAX_LOADS; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		f->loads[f->nr_loads].off = ph.p_offset;
		f->loads[f->nr_loads].vaddr = ph.p_vaddr;
		f->loads[f->nr_loads].filesz = ph.p_filesz;
		f->nr_loads++;
	}
}

/* Compile @f from @elf (or the image/fd), upload its table. */
static int file_load(struct utab_mapper *m, struct ufile *f, int fd, const void *image,
		     size_t size)
{
	uint64_t t0 = sw_now_ns();
	struct utab t;
	Elf *elf;
	int err;

	elf_version(EV_CURRENT);
	elf = image ? elf_memory((char *)image, size) : elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -ENOEXEC;
	read_loads(f, elf);
	elf_end(elf);
	err = image ? utab_compile_image(image, size, &t) : utab_compile_fd(fd, &t);
	m->st.compile_ns += sw_now_ns() - t0;
	if (err)
		return err;
	if (!t.nr) {
		m->st.files_no_cfi++;
		return 0;
	}
	err = m->ops.table_add(m->ctx, t.rows, t.nr, &f->id);
	if (!err) {
		f->nr_rows = t.nr;
		m->st.tables++;
		m->st.uploaded++;
		if (t.source == UTAB_SRC_DEBUG_FRAME)
			m->st.files_debug_frame++;
		m->st.rows += t.nr;
		m->st.bytes += (uint64_t)t.nr * sizeof(*t.rows);
		m->st.uploaded_bytes += (uint64_t)t.nr * sizeof(*t.rows);
	} else {
		f->id = 0;
		m->st.push_errors++;
	}
	utab_release(&t);
	return err;
}

static struct ufile *vdso_file(struct utab_mapper *m)
{
	const unsigned char *base = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	struct ufile *f;
	size_t len;

	for (f = m->files; f; f = f->next)
		if (f->vdso)
			return f;
	if (!base || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64)
		return NULL;
	len = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
	if (!len || len > (16U << 20))
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->vdso = true;
	if (file_load(m, f, -1, base, len)) {
		free(f);
		return NULL;
	}
	f->next = m->files;
	m->files = f;
	return f;
}

static bool bad_known(struct utab_mapper *m, const struct uline *l, bool add)
{
	struct ubad *b;

	for (b = m->bad; b; b = b->next)
		if (b->maj == l->maj && b->min == l->min && b->ino == l->ino)
			return true;
	if (add) {
		b = calloc(1, sizeof(*b));
		if (b) {
			b->maj = l->maj;
			b->min = l->min;
			b->ino = l->ino;
			b->next = m->bad;
			m->bad = b;
		}
		m->st.files_skipped++;
	}
	return false;
}

/* Open the file of @l through the process: map_files, then its root. */
static int open_mapped(struct utab_mapper *m, pid_t pid, const struct uline *l, const char *path,
		       struct stat *st)
{
	char p[PATH_MAX + 96];
	int fd, i;

	for (i = 0; i < 2; i++) {
		if (i == 0)
			snprintf(p, sizeof(p), "%s/%d/map_files/%" PRIx64 "-%" PRIx64, m->proc,
				 (int)pid, l->start, l->end);
		else if (!l->deleted)
			snprintf(p, sizeof(p), "%s/%d/root%s", m->proc, (int)pid, path);
		else
			break;
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!fstat(fd, st) && st->st_ino == l->ino)
			return fd;
		close(fd);
	}
	return -1;
}

static struct ufile *mapped_file(struct utab_mapper *m, pid_t pid, const struct uline *l,
				 const char *path)
{
	struct ufile *f;
	struct stat st;
	int fd, err;

	if (l->vdso)
		return vdso_file(m);
	if (bad_known(m, l, false))
		return NULL;
	fd = open_mapped(m, pid, l, path, &st);
	if (fd < 0) {
		bad_known(m, l, true);
		return NULL;
	}
	for (f = m->files; f; f = f->next) {
		if (!f->vdso && f->dev == st.st_dev && f->ino == st.st_ino &&
		    f->size == st.st_size && f->mtime.tv_sec == st.st_mtim.tv_sec &&
		    f->mtime.tv_nsec == st.st_mtim.tv_nsec) {
			close(fd);
			return f;
		}
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		return NULL;
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime = st.st_mtim;
	err = file_load(m, f, fd, NULL, 0);
	close(fd);
	if (err) {
		free(f);
		if (err != -ENOSPC && err != -ENOMEM)
			bad_known(m, l, true);	/* not ELF, too big: not worth retrying */
		return NULL;
	}
	f->next = m->files;
	m->files = f;
	return f;
}

int utab_mapper_preload(struct utab_mapper *m, const char *path)
{
	struct ufile *f;
	struct stat st;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	for (f = m->files; f; f = f->next) {
		if (!f->vdso && f->dev == st.st_dev && f->ino == st.st_ino &&
		    f->size == st.st_size && f->mtime.tv_sec == st.st_mtim.tv_sec &&
		    f->mtime.tv_nsec == st.st_mtim.tv_nsec) {
			close(fd);
			f->pinned = true;
			return 0;
		}
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime = st.st_mtim;
	f->pinned = true;
	err = file_load(m, f, fd, NULL, 0);
	close(fd);
	if (err) {
		free(f);
		return err;
	}
	f->next = m->files;
	m->files = f;
	return 0;
}

/* address - bias = ELF vaddr, through the PT_LOAD holding the mapping's offset. */
static bool mapping_bias(const struct ufile *f, const struct uline *l, uint64_t *bias)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned int i;

	for (i = 0; i < f->nr_loads; i++) {
		uint64_t off = f->loads[i].off;

		if ((off & ~(uint64_t)(page - 1)) <= l->pgoff && l->pgoff < off + f->loads[i].filesz) {
			*bias = l->start - l->pgoff + off - f->loads[i].vaddr;
			return true;
		}
	}
	return false;
}

/* ---- pushing --------------------------------------------------------------- */

int utab_mapper_push(struct utab_mapper *m, pid_t pid, bool force)
{
	struct swprof_unwind_mapping *maps = NULL;
	struct pathbuf pb = { 0 };
	struct ufile **files = NULL;
	struct uline *lines = NULL;
	struct uproc *p = proc_find(m, pid, NULL);
	size_t nr_lines = 0, i;
	uint32_t n = 0;
	int err;

	err = read_lines(m, pid, &lines, &nr_lines, &pb);
	if (!err && !nr_lines)
		err = -ESRCH;	/* a zombie, or no user memory */
	if (err) {
		if (err == -ESRCH)
			utab_mapper_forget(m, pid, true);
		free(pb.buf);
		return err;
	}
	if (p && !force && p->nr_lines == nr_lines) {
		for (i = 0; i < nr_lines && same_line(&p->lines[i], &lines[i]); i++)
			;
		if (i == nr_lines) {
			free(lines);
			free(pb.buf);
			return (int)p->nr_maps;
		}
	}
	maps = calloc(nr_lines, sizeof(*maps));
	files = calloc(nr_lines, sizeof(*files));
	if (!maps || !files) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nr_lines && n < SWPROF_MAX_UNWIND_MAPS; i++) {
		struct ufile *f = mapped_file(m, pid, &lines[i], pb.buf + lines[i].path);
		uint64_t bias;

		if (!f || !f->id || !mapping_bias(f, &lines[i], &bias))
			continue;
		maps[n].start = lines[i].start;
		maps[n].end = lines[i].end;
		maps[n].bias = bias;
		maps[n].table = f->id;
		files[n] = f;
		f->refs++;	/* held while setting: gc() must not free it */
		n++;
	}
	if (n || (p && p->nr_maps))
		err = m->ops.maps_set(m->ctx, pid, n ? maps : NULL, n);
	if (err) {
		m->st.push_errors++;
		for (i = 0; i < n; i++)
			files[i]->refs--;
		if (err == -ESRCH) {
			utab_mapper_forget(m, pid, false);
			goto out;
		}
		/*
		 * EPERM...: remember these maps with no mappings set, so that the
		 * periodic check does not try again before they change.
		 */
		n = 0;
	} else if (n) {
		m->st.pushes++;
	}
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p) {
			/* set in the module, untracked here: take it back */
			if (n)
				m->ops.maps_set(m->ctx, pid, NULL, 0);
			for (i = 0; i < n; i++)
				files[i]->refs--;
			err = -ENOMEM;
			goto out;
		}
		p->pid = pid;
		p->next = m->procs;
		m->procs = p;
		m->st.procs++;
	}
	for (i = 0; i < p->nr_maps; i++)
		p->files[i]->refs--;
	free(p->lines);
	free(p->maps);
	free(p->files);
	p->lines = lines;
	p->nr_lines = nr_lines;
	p->maps = maps;
	p->files = files;
	p->nr_maps = n;
	lines = NULL;
	maps = NULL;
	files = NULL;
	if (!err)
		err = (int)n;
out:
	gc(m);
	free(lines);
	free(maps);
	free(files);
	free(pb.buf);
	return err;
}

void utab_mapper_check_all(struct utab_mapper *m, bool (*keep)(void *ctx, pid_t pid), void *ctx)
{
	struct uproc *p = m->procs;

	while (p) {
		struct uproc *next = p->next;	/* push and forget free p only */

		if (keep && !keep(ctx, p->pid))
			utab_mapper_forget(m, p->pid, true);
		else
			utab_mapper_push(m, p->pid, false);
		p = next;
	}
}

void utab_mapper_stats(const struct utab_mapper *m, struct utab_stats *st)
{
	*st = m->st;
}
