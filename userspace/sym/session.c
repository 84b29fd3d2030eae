// SPDX-License-Identifier: GPL-2.0-only
/*
 * sym: the session.  Owns the caches (files by build-id, processes, the
 * kernel table), charges what the files hold against a memory cap and
 * evicts the least recently used ones, but only at the start of a call and
 * outside sym_session_hold(), so that frames handed out stay valid.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sym_priv.h"

#define BID_BUCKETS	1024

static const char missing_name[] = "[MISSING]";

static bool opts_valid(const struct sym_opts *o)
{
	if (!o)
		return true;
	/* the flags at least; a newer caller's extra fields must be zero */
	if (o->sz < offsetofend(struct sym_opts, flags) || !SW_OPTS_VALID(o, sym_opts))
		return false;
	return !(o->flags & ~SYM_OPT_FLAGS_ALL);
}

#define OPT(o, field, def) SW_OPTS_GET_OR(o, field, def)

static struct sym_session *session_alloc(const struct sym_opts *opts)
{
	struct sym_session *s;

	if (!opts_valid(opts)) {
		errno = EINVAL;
		return NULL;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		errno = ENOSYS;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto nomem;
	s->flags = opts ? opts->flags : 0;
	s->cache_limit = OPT(opts, cache_bytes, SYM_DEFAULT_CACHE);
	s->kallsyms_path = strdup(OPT(opts, kallsyms_path, "/proc/kallsyms"));
	s->modules_path = strdup(OPT(opts, modules_path, "/proc/modules"));
	s->debug_dir = strdup(OPT(opts, debug_dir, SYM_DEFAULT_DEBUG_DIR));
	s->strings = sym_intern_new();
	s->bid_hash_size = BID_BUCKETS;
	s->bid_hash = calloc(s->bid_hash_size, sizeof(*s->bid_hash));
	if (!s->kallsyms_path || !s->modules_path || !s->debug_dir || !s->strings ||
	    !s->bid_hash)
		goto nomem;
	s->st.cache_limit = s->cache_limit;
	return s;
nomem:
	sym_session_free(s);
	errno = ENOMEM;
	return NULL;
}

int sym_session_new(const struct sym_opts *opts, struct sym_session **out)
{
	*out = session_alloc(opts);
	return *out ? 0 : -errno;
}

static void free_graves(struct sym_session *s)
{
	struct sym_grave *g, *n;

	for (g = s->graves; g; g = n) {
		n = g->next;
		g->fn(g->p);
		free(g);
	}
	s->graves = NULL;
}

void sym_rcache_free(struct sym_session *s);

void sym_session_free(struct sym_session *s)
{
	struct sym_file *f, *fn;
	size_t i;

	if (!s)
		return;
	free_graves(s);
	for (i = 0; s->proc_hash && i < s->proc_hash_size; i++) {
		struct sym_proc *p, *pn;

		for (p = s->proc_hash[i]; p; p = pn) {
			pn = p->next;
			sym_proc_destroy(s, p);
		}
	}
	free(s->proc_hash);
	for (f = s->files; f; f = fn) {
		fn = f->all_next;
		sym_file_destroy(f);
	}
	sym_ident_free_all(s);
	sym_rcache_free(s);
	sym_kernel_free(&s->kernel);
	free(s->bid_hash);
	sym_intern_free(s->strings);
	free(s->kallsyms_path);
	free(s->modules_path);
	free(s->debug_dir);
	free(s->last_elf_path);
	free(s);
}

void sym_session_hold(struct sym_session *s)
{
	s->hold++;
}

void sym_session_release(struct sym_session *s)
{
	if (s->hold && !--s->hold)
		sym_evict(s);
}

void sym_bury(struct sym_session *s, void (*fn)(void *), void *p)
{
	struct sym_grave *g;

	if (!p)
		return;
	g = malloc(sizeof(*g));
	if (!g) {
		/* Better a leak than a dangling name. */
		return;
	}
	g->fn = fn;
	g->p = p;
	g->next = s->graves;
	s->graves = g;
}

static void lru_unlink(struct sym_session *s, struct sym_file *f)
{
	if (!f->on_lru)
		return;
	if (f->lru_prev)
		f->lru_prev->lru_next = f->lru_next;
	else
		s->lru = f->lru_next;
	if (f->lru_next)
		f->lru_next->lru_prev = f->lru_prev;
	else
		s->lru_tail = f->lru_prev;
	f->lru_prev = f->lru_next = NULL;
	f->on_lru = false;
}

void sym_lru_touch(struct sym_session *s, struct sym_file *f)
{
	if (s->lru == f)
		return;
	lru_unlink(s, f);
	f->lru_next = s->lru;
	if (s->lru)
		s->lru->lru_prev = f;
	s->lru = f;
	if (!s->lru_tail)
		s->lru_tail = f;
	f->on_lru = true;
}

void sym_charge(struct sym_session *s, struct sym_file *f, size_t bytes)
{
	f->charged += bytes;
	s->charged += bytes;
	if (s->charged > s->st.cache_peak)
		s->st.cache_peak = s->charged;
	sym_lru_touch(s, f);
}

void sym_evict(struct sym_session *s)
{
	if (s->hold)
		return;
	free_graves(s);
	while (s->charged > s->cache_limit && s->lru_tail && s->lru_tail != s->lru) {
		struct sym_file *victim = s->lru_tail;

		lru_unlink(s, victim);
		sym_rcache_free(s);	/* it may point into the victim */
		sym_file_unload(s, victim);
	}
}

int sym_session_stats(const struct sym_session *s, struct sym_stats *st)
{
	struct sym_stats copy;
	size_t n;

	if (!s || !st || st->sz < sizeof(st->sz))
		return -EINVAL;
	copy = s->st;
	copy.cache_bytes = s->charged;
	n = st->sz < sizeof(copy) ? st->sz : sizeof(copy);
	memcpy((char *)st + sizeof(st->sz), (char *)&copy + sizeof(copy.sz), n - sizeof(st->sz));
	return 0;
}

int sym_frame_format(const struct sym_frame *f, char *buf, size_t size)
{
	if (f->status != SYM_OK)
		return snprintf(buf, size, "%s %s+0x%" PRIx64, missing_name,
				f->module_name ? f->module_name : "[unknown]", f->rel_addr);
	if (f->flags & SYM_FRAME_INLINE)
		return snprintf(buf, size, "%s", f->name);
	return snprintf(buf, size, "%s+0x%" PRIx64, f->name, f->offset);
}

/* ------------------------------------------------------------------ */
/* Result cache: direct-mapped, (file, address) -> symbol, for names only. */

#define RCACHE_SIZE	4096

struct sym_rcache_ent {
	const struct sym_file *file;
	uint64_t rel;		/* looked up */
	bool ret;		/* as a return address (the fallback differs) */
	const char *name;
	const char *symbol;
	uint64_t start;
};

void sym_rcache_free(struct sym_session *s)
{
	free(s->rcache);
	s->rcache = NULL;
}

static struct sym_rcache_ent *rcache_slot(struct sym_session *s, const struct sym_file *f,
					  uint64_t rel)
{
	uint64_t h;

	if (!s->rcache) {
		s->rcache = calloc(RCACHE_SIZE, sizeof(*s->rcache));
		if (!s->rcache)
			return NULL;
	}
	h = (rel ^ ((uintptr_t)f >> 4)) * 0x9E3779B97F4A7C15ULL;
	return &s->rcache[h >> (64 - 12)];
}

/* ------------------------------------------------------------------ */
/* Resolving. */

static void frame_init(struct sym_frame *fr, uint64_t addr, const char *module,
		       const char *module_name)
{
	memset(fr, 0, sizeof(*fr));
	fr->addr = addr;
	fr->name = missing_name;
	fr->module = module;
	fr->module_name = module_name;
	fr->build_id = "";
	fr->status = SYM_NO_MODULE;
}

static bool want_lines(const struct sym_session *s, unsigned int flags)
{
	if (flags & SYM_RESOLVE_NO_LINES)
		return false;
	return (flags & SYM_RESOLVE_LINES) || (s->flags & SYM_OPT_LINES);
}

static int count(struct sym_session *s, const struct sym_frame *frames, int n)
{
	s->st.lookups++;
	if (frames[n - 1].status == SYM_OK)
		s->st.resolved++;
	else
		s->st.missing++;
	return n;
}

/*
 * Frames of @rel (the address's ELF view) in @f; @lookup is what to search
 * (rel - 1 for return addresses).
 */
static int file_frames(struct sym_session *s, struct sym_file *f, uint64_t addr,
		       uint64_t rel, uint64_t lookup, uint64_t file_off, unsigned int flags,
		       struct sym_frame *frames, size_t max)
{
	struct sym_frame *fr = &frames[0];
	const struct sym_sym *sym;
	struct sym_rcache_ent *rc;

	fr->build_id = f->bid_hex;
	fr->rel_addr = rel;
	fr->file_offset = file_off;
	fr->status = SYM_NO_SYMBOL;
	if (!want_lines(s, flags)) {
		rc = rcache_slot(s, f, lookup);
		if (rc && rc->file == f && rc->rel == lookup && rc->ret == (lookup != rel)) {
			s->st.result_cache_hits++;
			sym_lru_touch(s, f);
			if (rc->name) {
				fr->name = rc->name;
				fr->symbol = rc->symbol;
				fr->offset = rel - rc->start;
				fr->status = SYM_OK;
			}
			return 1;
		}
	} else {
		rc = NULL;
	}
	if (sym_file_ensure_syms(s, f)) {
		fr->status = SYM_NO_FILE;
		return 1;
	}
	sym_lru_touch(s, f);
	sym = sym_table_find(&f->tab, lookup);
	/*
	 * A "return address" at the very start of a function, with nothing
	 * before it: the handler's return into a signal trampoline
	 * (__restore_rt), whose FDE covers the byte before it for this reason.
	 */
	if (!sym && lookup != rel) {
		sym = sym_table_find(&f->tab, rel);
		if (sym && sym->start != rel)
			sym = NULL;
	}
	if (sym) {
		fr->name = sym_table_demangle(&f->tab, (size_t)(sym - f->tab.syms), s->flags);
		fr->symbol = sym_table_name(&f->tab, sym);
		fr->offset = rel - sym->start;
		fr->status = SYM_OK;
	}
	if (rc) {
		rc->file = f;
		rc->rel = lookup;
		rc->ret = lookup != rel;
		rc->name = sym ? fr->name : NULL;
		rc->symbol = fr->symbol;
		rc->start = sym ? sym->start : 0;
	}
	if (want_lines(s, flags)) {
		struct sym_frame outer = *fr;
		int n = sym_dwarf_frames(s, f, lookup, &outer, frames, max);

		if (n > 0)
			return n;
		*fr = outer;
	}
	return 1;
}

int sym_resolve(struct sym_session *s, pid_t pid, uint64_t addr, unsigned int flags,
		struct sym_frame *frames, size_t max)
{
	uint64_t lookup, off, rel, lrel;
	struct sym_proc *p;
	struct sym_map *m;
	struct sym_file *f;

	if (!s || !frames || !max || (flags & ~SYM_RESOLVE_FLAGS_ALL))
		return -EINVAL;
	sym_evict(s);
	lookup = (flags & SYM_RESOLVE_RETURN) && addr ? addr - 1 : addr;
	frame_init(&frames[0], addr, "[unknown]", "[unknown]");
	frames[0].rel_addr = addr;
	p = sym_proc_get(s, pid, true);
	if (!p)
		return -ENOMEM;
	m = sym_proc_find_map(s, p, lookup);
	if (!m)
		return count(s, frames, 1);
	frames[0].module = m->path;
	frames[0].module_name = m->name;
	frames[0].rel_addr = addr - m->start;
	if (m->kind == SYM_MAP_ANON) {
		struct sym_perfmap *pm;
		const struct sym_jit *j = sym_perfmap_find(s, p, lookup, &pm);

		if (j) {
			frames[0].name = j->name;
			frames[0].symbol = j->name;
			frames[0].offset = addr - j->start;
			frames[0].module = pm->path;
			frames[0].module_name = pm->name;
			frames[0].rel_addr = addr;
			frames[0].flags |= SYM_FRAME_JIT;
			frames[0].status = SYM_OK;
		} else {
			frames[0].status = SYM_NO_SYMBOL;
		}
		return count(s, frames, 1);
	}
	if (m->kind != SYM_MAP_FILE && m->kind != SYM_MAP_VDSO) {
		frames[0].status = SYM_NO_SYMBOL;
		return count(s, frames, 1);
	}
	f = sym_map_file(s, p, m);
	off = addr - m->start + m->pgoff;
	frames[0].file_offset = off;
	if (!f) {
		frames[0].status = SYM_NO_FILE;
		return count(s, frames, 1);
	}
	if (!sym_file_off_to_rel(f, off, &rel) ||
	    !sym_file_off_to_rel(f, lookup - m->start + m->pgoff, &lrel)) {
		frames[0].status = SYM_NO_SYMBOL;
		return count(s, frames, 1);
	}
	return count(s, frames, file_frames(s, f, addr, rel, lrel, off, flags, frames, max));
}

static struct sym_file *elf_by_path(struct sym_session *s, const char *path)
{
	char *real = realpath(path, NULL);
	struct sym_file *f;
	int fd;

	if (!real)
		return NULL;
	/* The absolute path: .gnu_debuglink is searched next to it. */
	fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(real);
		return NULL;
	}
	f = sym_file_from_fd(s, fd, real, real, NULL, false, NULL);
	free(real);
	if (!f)
		errno = ENOEXEC;
	return f;
}

int sym_resolve_elf(struct sym_session *s, const char *path, uint64_t rel_addr,
		    unsigned int flags, struct sym_frame *frames, size_t max)
{
	const char *in, *base;
	struct sym_file *f;
	uint64_t lookup, off;

	if (!s || !path || !frames || !max || (flags & ~SYM_RESOLVE_FLAGS_ALL))
		return -EINVAL;
	sym_evict(s);
	/* The last file asked for is almost always the one asked for now. */
	if (s->last_elf && !strcmp(s->last_elf_path, path)) {
		f = s->last_elf;
	} else {
		errno = 0;
		f = elf_by_path(s, path);
		if (!f)
			return errno ? -errno : -ENOENT;
		free(s->last_elf_path);
		s->last_elf_path = strdup(path);
		s->last_elf = s->last_elf_path ? f : NULL;
	}
	in = f->path;
	base = f->name;
	if (strcmp(in, path)) {
		in = sym_intern(s->strings, path, strlen(path));
		base = strrchr(in, '/') ? strrchr(in, '/') + 1 : in;
		base = sym_intern(s->strings, base, strlen(base));
	}
	frame_init(&frames[0], rel_addr, in, base);
	lookup = (flags & SYM_RESOLVE_RETURN) && rel_addr ? rel_addr - 1 : rel_addr;
	sym_file_rel_to_off(f, rel_addr, &off);
	return count(s, frames, file_frames(s, f, rel_addr, rel_addr, lookup, off, flags,
					    frames, max));
}

int sym_resolve_kernel(struct sym_session *s, uint64_t addr, unsigned int flags,
		       struct sym_frame *frames, size_t max)
{
	int err;

	if (!s || !frames || !max || (flags & ~SYM_RESOLVE_FLAGS_ALL))
		return -EINVAL;
	sym_evict(s);
	frame_init(&frames[0], addr, s->kernel.mods ? s->kernel.mods[0].name : "[kernel.kallsyms]",
		   "[kernel.kallsyms]");
	frames[0].flags = SYM_FRAME_KERNEL;
	frames[0].rel_addr = addr;
	err = sym_kernel_load(s);
	if (err)
		return err;
	err = sym_kernel_lookup(s, (flags & SYM_RESOLVE_RETURN) && addr ? addr - 1 : addr,
				&frames[0]);
	if (!err) {
		frames[0].status = SYM_OK;
		frames[0].offset = addr - (frames[0].rel_addr - frames[0].offset);
		frames[0].rel_addr = addr;
	} else if (err != -ENOENT) {
		return err;
	} else {
		frames[0].status = SYM_NO_SYMBOL;
	}
	return count(s, frames, 1);
}
