// SPDX-License-Identifier: GPL-2.0-only
/*
 * sym: ELF files.  One struct sym_file per distinct file, found again by
 * its identity (dev, inode, size, mtime) or its GNU build-id, so that a
 * library mapped by a thousand processes (or by containers, through other
 * paths) is parsed once.  The heavy part (libelf handles, symbol table,
 * DWARF, CFI) is loaded lazily and dropped again under memory pressure;
 * the small part (paths, build-id, PT_LOADs) lives as long as the session.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sym_priv.h"

#define IDENT_BUCKETS	4096

static const char *base_name(const char *path)
{
	const char *p = strrchr(path, '/');

	return p && p[1] ? p + 1 : path;
}

static void hexify(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int notes_build_id(Elf_Data *data, unsigned char *bid, size_t *len)
{
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp((char *)data->d_buf + name_off, "GNU", 4) &&
		    nh.n_descsz > 0 && nh.n_descsz <= SYM_BUILD_ID_MAX) {
			memcpy(bid, (char *)data->d_buf + desc_off, nh.n_descsz);
			*len = nh.n_descsz;
			return 0;
		}
	}
	return -ENOENT;
}

/* Sections first: debug files keep the note section but not its segment. */
int sym_read_build_id(Elf *elf, unsigned char *bid, size_t *len)
{
	Elf_Scn *scn = NULL;
	size_t i, nph;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		if (d && !notes_build_id(d, bid, len))
			return 0;
	}
	if (elf_getphdrnum(elf, &nph))
		return -ENOENT;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;
		Elf_Data *d;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz,
					 ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
		if (d && !notes_build_id(d, bid, len))
			return 0;
	}
	return -ENOENT;
}

static void read_loads(struct sym_file *f, Elf *elf)
{
	size_t i, nph;
	GElf_Ehdr eh;

	f->nr_loads = 0;
	if (gelf_getehdr(elf, &eh))
		f->e_type = eh.e_type;
	if (elf_getphdrnum(elf, &nph))
		return;
	for (i = 0; i < nph && f->nr_loads < SYM_MAX_LOADS; i++) {
		GElf_Phdr ph;
		struct sym_load *l;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		l = &f->loads[f->nr_loads++];
		l->offset = ph.p_offset;
		l->vaddr = ph.p_vaddr;
		l->filesz = ph.p_filesz;
		l->memsz = ph.p_memsz;
		l->flags = ph.p_flags;
	}
}

bool sym_file_off_to_rel(const struct sym_file *f, uint64_t off, uint64_t *rel)
{
	const struct sym_load *best = NULL;
	unsigned int i;

	for (i = 0; i < f->nr_loads; i++) {
		const struct sym_load *l = &f->loads[i];

		if (off >= l->offset && off - l->offset < l->filesz) {
			*rel = l->vaddr + (off - l->offset);
			return true;
		}
		/* Page rounding: the mapping may start before p_offset. */
		if (l->offset <= off + 4096 && (!best || l->offset > best->offset))
			best = l;
	}
	if (best) {
		*rel = best->vaddr + off - best->offset;
		return true;
	}
	if (!f->nr_loads) {
		*rel = off;
		return true;
	}
	return false;
}

bool sym_file_rel_to_off(const struct sym_file *f, uint64_t rel, uint64_t *off)
{
	unsigned int i;

	for (i = 0; i < f->nr_loads; i++) {
		const struct sym_load *l = &f->loads[i];

		if (rel >= l->vaddr && rel - l->vaddr < l->memsz) {
			*off = l->offset + (rel - l->vaddr);
			return true;
		}
	}
	*off = rel;
	return !f->nr_loads;
}

/* ------------------------------------------------------------------ */
/* The session's tables of files. */

static size_t ident_bucket(dev_t dev, ino_t ino)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ULL) ^ dev) % IDENT_BUCKETS;
}

static bool same_ident(const struct sym_ident *a, const struct stat *st)
{
	return a->dev == st->st_dev && a->ino == st->st_ino && a->size == st->st_size &&
	       a->mtime.tv_sec == st->st_mtim.tv_sec && a->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static struct sym_file *ident_lookup(struct sym_session *s, const struct stat *st)
{
	struct sym_ident *e;

	if (!s->ident)
		return NULL;
	for (e = s->ident[ident_bucket(st->st_dev, st->st_ino)]; e; e = e->next)
		if (same_ident(e, st))
			return e->file;
	return NULL;
}

static int ident_add(struct sym_session *s, const struct stat *st, struct sym_file *f)
{
	struct sym_ident *e;
	size_t b;

	if (!s->ident) {
		s->ident = calloc(IDENT_BUCKETS, sizeof(*s->ident));
		if (!s->ident)
			return -ENOMEM;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->mtime = st->st_mtim;
	e->file = f;
	b = ident_bucket(st->st_dev, st->st_ino);
	e->next = s->ident[b];
	s->ident[b] = e;
	return 0;
}

void sym_ident_free_all(struct sym_session *s)
{
	struct sym_ident *e, *n;
	size_t i;

	if (!s->ident)
		return;
	for (i = 0; i < IDENT_BUCKETS; i++)
		for (e = s->ident[i]; e; e = n) {
			n = e->next;
			free(e);
		}
	free(s->ident);
	s->ident = NULL;
}

static size_t bid_bucket(const struct sym_session *s, const unsigned char *bid, size_t len)
{
	uint64_t h = 0;
	size_t i;

	for (i = 0; i < len && i < 8; i++)
		h = h << 8 | bid[i];
	return (size_t)(h % s->bid_hash_size);
}

static struct sym_file *bid_lookup(struct sym_session *s, const unsigned char *bid, size_t len)
{
	struct sym_file *f;

	for (f = s->bid_hash[bid_bucket(s, bid, len)]; f; f = f->bid_next)
		if (f->bid_len == len && !memcmp(f->bid, bid, len))
			return f;
	return NULL;
}

static struct sym_file *file_new(struct sym_session *s, const char *path)
{
	struct sym_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->path = sym_intern(s->strings, path, strlen(path));
	f->name = f->path ? sym_intern(s->strings, base_name(f->path), strlen(base_name(f->path))) : NULL;
	if (!f->path || !f->name) {
		free(f);
		return NULL;
	}
	f->fd = -1;
	f->dbg_fd = -1;
	f->keep_fd = -1;
	f->all_next = s->files;
	s->files = f;
	s->st.files++;
	return f;
}

static void file_set_bid(struct sym_session *s, struct sym_file *f,
			 const unsigned char *bid, size_t len)
{
	size_t b;

	memcpy(f->bid, bid, len);
	f->bid_len = len;
	hexify(bid, len, f->bid_hex);
	b = bid_bucket(s, bid, len);
	f->bid_next = s->bid_hash[b];
	s->bid_hash[b] = f;
}

/*
 * A file seen again: if the way we had to reopen it went away (its process
 * exited), take this one.  Consumes @fd.
 */
static void adopt_way_back(struct sym_file *f, int fd, const char *open_path,
			   const char *alt_path, bool keep_fd)
{
	if (keep_fd && f->keep_fd < 0) {
		f->keep_fd = fd;
		f->state &= ~SF_BROKEN;
		return;
	}
	close(fd);
	if (!(f->state & SF_BROKEN) || keep_fd || !open_path)
		return;
	free(f->open_path);
	free(f->alt_path);
	f->open_path = strdup(open_path);
	f->alt_path = alt_path ? strdup(alt_path) : NULL;
	f->state &= ~SF_BROKEN;
}

static Elf *elf_from_fd(int fd)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);

	if (elf && elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		return NULL;
	}
	return elf;
}

/*
 * A file opened by the caller (@fd is ours from now on).  @path is what the
 * user sees (the mapped path); @open_path and @alt_path are ways to open it
 * again after an eviction; @keep_fd when no path will work later (deleted
 * files, /proc/PID/map_files).
 */
struct sym_file *sym_file_from_fd(struct sym_session *s, int fd, const char *path,
				  const char *open_path, const char *alt_path,
				  bool keep_fd, const char *root)
{
	unsigned char bid[SYM_BUILD_ID_MAX];
	size_t bid_len = 0;
	struct sym_file *f;
	struct stat st;
	Elf *elf;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	f = ident_lookup(s, &st);
	if (f) {
		adopt_way_back(f, fd, open_path, alt_path, keep_fd);
		return f;
	}
	elf = elf_from_fd(fd);
	if (!elf) {
		close(fd);
		s->st.files_failed++;
		return NULL;
	}
	if (!sym_read_build_id(elf, bid, &bid_len)) {
		f = bid_lookup(s, bid, bid_len);
		if (f) {
			/* Same build, another path or container: share it. */
			elf_end(elf);
			ident_add(s, &st, f);
			if (f->ino == st.st_ino && f->dev == st.st_dev)
				adopt_way_back(f, fd, open_path, alt_path, keep_fd);
			else
				close(fd);
			return f;
		}
	}
	f = file_new(s, path);
	if (!f) {
		elf_end(elf);
		close(fd);
		return NULL;
	}
	if (bid_len)
		file_set_bid(s, f, bid, bid_len);
	f->open_path = open_path ? strdup(open_path) : NULL;
	f->alt_path = alt_path ? strdup(alt_path) : NULL;
	f->root = root ? strdup(root) : NULL;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->fsize = st.st_size;
	f->mtime = st.st_mtim;
	read_loads(f, elf);
	f->elf = elf;
	f->state |= SF_OPEN;
	if (keep_fd) {
		f->keep_fd = fd;
	} else {
		elf_cntl(elf, ELF_C_FDDONE);
		close(fd);
	}
	ident_add(s, &st, f);
	sym_lru_touch(s, f);
	return f;
}

/* An ELF image read from memory (the vdso); @image is ours from now on. */
struct sym_file *sym_file_from_image(struct sym_session *s, void *image, size_t size,
				     const char *name)
{
	unsigned char bid[SYM_BUILD_ID_MAX];
	size_t bid_len = 0;
	struct sym_file *f;
	Elf *elf;

	elf = elf_memory(image, size);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		free(image);
		return NULL;
	}
	if (!sym_read_build_id(elf, bid, &bid_len)) {
		f = bid_lookup(s, bid, bid_len);
		if (f) {
			elf_end(elf);
			free(image);
			return f;
		}
	}
	f = file_new(s, name);
	if (!f) {
		elf_end(elf);
		free(image);
		return NULL;
	}
	if (bid_len)
		file_set_bid(s, f, bid, bid_len);
	f->is_image = true;
	f->image = image;
	f->image_size = size;
	read_loads(f, elf);
	f->elf = elf;
	f->state |= SF_OPEN;
	sym_charge(s, f, size);
	sym_lru_touch(s, f);
	return f;
}

static int reopen_path(struct sym_file *f, const char *path)
{
	struct stat st;
	int fd;

	if (!path)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || st.st_ino != f->ino || st.st_size != f->fsize ||
	    st.st_mtim.tv_sec != f->mtime.tv_sec || st.st_mtim.tv_nsec != f->mtime.tv_nsec) {
		close(fd);
		return -1;
	}
	return fd;
}

int sym_file_ensure_open(struct sym_session *s, struct sym_file *f)
{
	int fd;

	if (f->state & SF_OPEN)
		return 0;
	if (f->state & SF_BROKEN)
		return -ENOENT;
	if (f->is_image) {
		f->elf = elf_memory(f->image, f->image_size);
		if (!f->elf)
			goto broken;
		f->state |= SF_OPEN;
		sym_charge(s, f, f->image_size);
		return 0;
	}
	if (f->keep_fd >= 0) {
		f->elf = elf_from_fd(f->keep_fd);
	} else {
		fd = reopen_path(f, f->open_path);
		if (fd < 0)
			fd = reopen_path(f, f->alt_path);
		if (fd < 0)
			goto broken;
		f->elf = elf_from_fd(fd);
		if (f->elf)
			elf_cntl(f->elf, ELF_C_FDDONE);
		close(fd);
	}
	if (!f->elf)
		goto broken;
	f->state |= SF_OPEN;
	return 0;
broken:
	f->state |= SF_BROKEN;
	s->st.files_failed++;
	return -ENOENT;
}

/* ------------------------------------------------------------------ */
/* Symbol tables from .symtab, .dynsym, MiniDebugInfo. */

/*
 * Give back the pages of a file mapping we have read and will not read
 * again (compressed sections once inflated, .symtab once copied): they stay
 * in the page cache, they leave our RSS.  Only for mmap'ed files.
 */
static void drop_file_pages(Elf *elf, uint64_t off, uint64_t size)
{
	size_t fsize, page = (size_t)sysconf(_SC_PAGESIZE);
	char *base = elf_rawfile(elf, &fsize);
	uint64_t start, end;

	if (!base || off >= fsize || ((uintptr_t)base & (page - 1)))
		return;
	if (size > fsize - off)
		size = fsize - off;
	start = (off + page - 1) & ~(uint64_t)(page - 1);
	end = (off + size) & ~(uint64_t)(page - 1);
	if (end > start)
		madvise(base + start, end - start, MADV_DONTNEED);
}


struct scn_info {
	uint64_t addr, end;
	bool exec;
};

static Elf_Scn *find_symtab(Elf *elf, Elf64_Word type)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == type && sh.sh_size)
			return scn;
	}
	return NULL;
}

static struct scn_info *section_table(Elf *elf, size_t *nr)
{
	struct scn_info *t;
	Elf_Scn *scn = NULL;
	size_t n;

	if (elf_getshdrnum(elf, &n) || !n)
		return NULL;
	t = calloc(n, sizeof(*t));
	if (!t)
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		size_t i = elf_ndxscn(scn);
		GElf_Shdr sh;

		if (i >= n || !gelf_getshdr(scn, &sh))
			continue;
		t[i].addr = sh.sh_addr;
		t[i].end = sh.sh_addr + sh.sh_size;
		t[i].exec = (sh.sh_flags & SHF_EXECINSTR) && (sh.sh_flags & SHF_ALLOC);
	}
	*nr = n;
	return t;
}

static uint16_t sym_rank(const GElf_Sym *sym)
{
	unsigned int type = GELF_ST_TYPE(sym->st_info);
	unsigned int bind = GELF_ST_BIND(sym->st_info);
	/* Aliases: the public name (global, then weak) reads best. */
	unsigned int b = bind == STB_GLOBAL || bind == STB_GNU_UNIQUE ? 2 :
			 bind == STB_WEAK ? 1 : 0;

	return (uint16_t)((type == STT_FUNC || type == STT_GNU_IFUNC ? 4 : 0) | b);
}

/* Add the function symbols of @scn (a SYMTAB/DYNSYM of @elf) as table @tab. */
static int add_symbols(struct sym_builder *b, struct sym_table *t, unsigned int tab,
		       Elf *elf, Elf_Scn *scn, size_t *charge, bool file_backed)
{
	struct scn_info *secs;
	Elf_Data *data, *strdata;
	size_t nsecs = 0, i, nsyms;
	GElf_Shdr sh;
	Elf_Scn *strscn;
	const char *strtab;
	size_t strsize;
	int err = 0;

	if (!gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return 0;
	strscn = elf_getscn(elf, sh.sh_link);
	data = elf_getdata(scn, NULL);
	strdata = strscn ? elf_getdata(strscn, NULL) : NULL;
	if (!data || !strdata || !strdata->d_size || !data->d_buf || !strdata->d_buf)
		return 0;
	strtab = strdata->d_buf;
	strsize = strdata->d_size;
	if (strsize > SYM_NAME_OFF_MASK)
		strsize = SYM_NAME_OFF_MASK;
	while (strsize && strtab[strsize - 1] != '\0')
		strsize--;	/* names must end inside the table */
	t->strtabs[tab] = strtab;
	t->strtab_sizes[tab] = strsize;
	*charge += data->d_size + strdata->d_size;

	secs = section_table(elf, &nsecs);
	nsyms = data->d_size / sh.sh_entsize;
	for (i = 1; i < nsyms; i++) {
		unsigned int type;
		uint64_t limit = 0;
		GElf_Sym sym;

		if (!gelf_getsym(data, (int)i, &sym))
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE)
			continue;
		if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE ||
		    !sym.st_value || !sym.st_name || sym.st_name >= strsize)
			continue;
		if (secs && sym.st_shndx < nsecs) {
			const struct scn_info *si = &secs[sym.st_shndx];

			if (type == STT_NOTYPE && !si->exec)
				continue;
			limit = si->end;
		} else if (type == STT_NOTYPE) {
			continue;
		}
		/* Local labels and mapping symbols are no functions. */
		if (type == STT_NOTYPE && (strtab[sym.st_name] == '.' || strtab[sym.st_name] == '$'))
			continue;
		err = sym_builder_add(b, sym.st_value, sym.st_size,
				      (uint32_t)tab << SYM_NAME_TAB_SHIFT | (uint32_t)sym.st_name,
				      sym_rank(&sym), limit);
		if (err)
			break;
	}
	free(secs);
	/* Copied: the entries themselves are not read again (the names are). */
	if (file_backed && data->d_buf == (char *)elf_rawfile(elf, NULL) + sh.sh_offset)
		drop_file_pages(elf, sh.sh_offset, sh.sh_size);
	return err;
}

static Elf_Scn *find_section(Elf *elf, const char *want, GElf_Shdr *sh)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh->sh_name);
		if (name && !strcmp(name, want))
			return scn;
	}
	return NULL;
}

struct got_name {
	uint64_t slot;		/* GOT slot the relocation fills */
	uint32_t name;		/* offset in .dynstr */
};

static int got_cmp(const void *pa, const void *pb)
{
	const struct got_name *a = pa, *b = pb;

	return a->slot < b->slot ? -1 : a->slot > b->slot;
}

/* GOT slots of the function relocations (JUMP_SLOT, GLOB_DAT) of @relname. */
static size_t got_names(Elf *elf, const char *relname, Elf_Data *syms, size_t strsize,
			struct got_name **out)
{
	struct got_name *g, *grown;
	size_t i, n, k = 0;
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(elf, relname, &sh);
	Elf_Data *rel;

	*out = NULL;
	if (!scn || sh.sh_type != SHT_RELA || !sh.sh_entsize || !(rel = elf_getdata(scn, NULL)))
		return 0;
	n = rel->d_size / sh.sh_entsize;
	g = malloc((n ? n : 1) * sizeof(*g));
	if (!g)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned int type;
		GElf_Rela r;
		GElf_Sym sym;

		if (!gelf_getrela(rel, (int)i, &r))
			continue;
		type = (unsigned int)GELF_R_TYPE(r.r_info);
		if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) ||
		    !gelf_getsym(syms, (int)GELF_R_SYM(r.r_info), &sym) || !sym.st_name ||
		    sym.st_name >= strsize || GELF_ST_TYPE(sym.st_info) == STT_OBJECT)
			continue;
		g[k].slot = r.r_offset;
		g[k].name = sym.st_name;
		k++;
	}
	if (!k) {
		free(g);
		return 0;
	}
	qsort(g, k, sizeof(*g), got_cmp);
	grown = realloc(g, k * sizeof(*g));
	*out = grown ? grown : g;
	return k;
}

/*
 * PLT stubs have no symbols: name them "f@plt", as perf does, so that a
 * sample in a stub says which call it was.  Each x86-64 stub jumps through
 * a GOT slot ("ff 25 disp32", after endbr64/bnd prefixes with IBT): the
 * relocation that fills that slot names the function.  .plt (after PLT0),
 * .plt.sec and .plt.got are read this way.  Names go into a table of their
 * own, strtabs[@tab].
 */
static int add_plt_symbols(struct sym_builder *b, struct sym_table *t, unsigned int tab,
			   Elf *elf, Elf_Scn *dynsym)
{
	static const char *const plts[] = { ".plt", ".plt.sec", ".plt.got" };
	struct got_name *jump = NULL, *glob = NULL;
	size_t njump, nglob, len = 1, cap = 4096, p;
	Elf_Data *syms, *strs;
	GElf_Shdr dsh;
	Elf_Scn *strscn;
	GElf_Ehdr eh;
	char *names;
	int err = 0;

	if (!gelf_getehdr(elf, &eh) || eh.e_machine != EM_X86_64 || tab >= SYM_MAX_STRTABS ||
	    !gelf_getshdr(dynsym, &dsh))
		return 0;
	strscn = elf_getscn(elf, dsh.sh_link);
	syms = elf_getdata(dynsym, NULL);
	strs = strscn ? elf_getdata(strscn, NULL) : NULL;
	if (!syms || !strs || !strs->d_size)
		return 0;
	njump = got_names(elf, ".rela.plt", syms, strs->d_size, &jump);
	nglob = got_names(elf, ".rela.dyn", syms, strs->d_size, &glob);
	names = malloc(cap);
	if (!names || (!njump && !nglob)) {
		free(names);
		free(jump);
		free(glob);
		return names ? 0 : -ENOMEM;
	}
	names[0] = '\0';
	for (p = 0; p < sizeof(plts) / sizeof(plts[0]) && !err; p++) {
		uint64_t step, off;
		GElf_Shdr psh;
		Elf_Scn *pscn = find_section(elf, plts[p], &psh);
		const unsigned char *code;
		Elf_Data *d;

		if (!pscn || psh.sh_type != SHT_PROGBITS || !(d = elf_getdata(pscn, NULL)) ||
		    !d->d_buf || d->d_size != psh.sh_size)
			continue;
		code = d->d_buf;
		step = psh.sh_entsize >= 8 && psh.sh_entsize <= 32 ? psh.sh_entsize : 16;
		for (off = p == 0 ? step : 0; off + step <= psh.sh_size && !err; off += step) {
			struct got_name key, *hit = NULL;
			const char *name;
			uint64_t k;
			size_t nl;

			/* jmp *disp32(%rip) */
			for (k = 0; k + 6 <= step && (code[off + k] != 0xff || code[off + k + 1] != 0x25); k++)
				;
			if (k + 6 > step)
				continue;
			{
				int32_t disp;

				memcpy(&disp, code + off + k + 2, 4);
				key.slot = psh.sh_addr + off + k + 6 + (uint64_t)(int64_t)disp;
			}
			if (njump)
				hit = bsearch(&key, jump, njump, sizeof(*jump), got_cmp);
			if (!hit && nglob)
				hit = bsearch(&key, glob, nglob, sizeof(*glob), got_cmp);
			if (!hit)
				continue;
			name = (const char *)strs->d_buf + hit->name;
			nl = strnlen(name, strs->d_size - hit->name);
			if (len + nl + 5 > cap) {
				char *grown;

				while (len + nl + 5 > cap)
					cap *= 2;
				grown = realloc(names, cap);
				if (!grown) {
					err = -ENOMEM;
					break;
				}
				names = grown;
			}
			if (len > SYM_NAME_OFF_MASK)
				break;
			err = sym_builder_add(b, psh.sh_addr + off, step,
					      (uint32_t)tab << SYM_NAME_TAB_SHIFT | (uint32_t)len, 0,
					      psh.sh_addr + psh.sh_size);
			memcpy(names + len, name, nl);
			memcpy(names + len + nl, "@plt", 5);
			len += nl + 5;
		}
	}
	free(jump);
	free(glob);
	t->synth = names;
	t->strtabs[tab] = names;
	t->strtab_sizes[tab] = len;
	return err;
}

int sym_file_ensure_syms(struct sym_session *s, struct sym_file *f)
{
	struct sym_builder b = { 0 };
	Elf_Scn *symtab, *dynsym;
	size_t charge = 0;
	unsigned int tab = 0;
	int err;

	if (f->state & SF_SYMS)
		return 0;
	err = sym_file_ensure_open(s, f);
	if (err)
		return err;
	symtab = find_symtab(f->elf, SHT_SYMTAB);
	dynsym = find_symtab(f->elf, SHT_DYNSYM);
	/* Stripped: the full .symtab lives in a debug file or MiniDebugInfo. */
	if (!symtab && !(f->state & SF_DEBUG))
		sym_find_debuginfo(s, f);

	if (symtab)
		err = add_symbols(&b, &f->tab, tab++, f->elf, symtab, &charge, !f->is_image);
	if (!err && !symtab && f->dbg_elf) {
		Elf_Scn *scn = find_symtab(f->dbg_elf, SHT_SYMTAB);

		if (scn)
			err = add_symbols(&b, &f->tab, tab++, f->dbg_elf, scn, &charge, true);
	}
	if (!err && !symtab && f->mini_elf) {
		Elf_Scn *scn = find_symtab(f->mini_elf, SHT_SYMTAB);

		if (scn)
			err = add_symbols(&b, &f->tab, tab++, f->mini_elf, scn, &charge, false);
	}
	if (!err && dynsym)
		err = add_symbols(&b, &f->tab, tab++, f->elf, dynsym, &charge, !f->is_image);
	if (!err && dynsym)
		err = add_plt_symbols(&b, &f->tab, tab++, f->elf, dynsym);
	if (err) {
		sym_builder_free(&b);
		return err;
	}
	err = sym_builder_finish(&b, &f->tab);
	if (err)
		return err;
	charge += f->tab.nr * sizeof(struct sym_sym);
	sym_charge(s, f, charge);
	f->state |= SF_SYMS;
	s->st.files_loaded++;
	return 0;
}

/* ------------------------------------------------------------------ */

static bool has_debug_info(Elf *elf)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && (!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info")))
			return true;
	}
	return false;
}

static size_t debug_sections_size(Elf *elf)
{
	size_t shstrndx, total = 0;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && (!strncmp(name, ".debug_", 7) || !strncmp(name, ".zdebug_", 8)))
			total += sh.sh_size;
	}
	return total;
}

/*
 * Sections libdw would inflate at dwarf_begin_elf() but that symbolizing
 * never reads (variable locations, macros, name indexes): hidden from it as
 * SHT_NOBITS in our in-memory headers.  A fifth of libc's debug data.
 */
static void hide_unused_debug_sections(Elf *elf)
{
	static const char *const unused[] = {
		"loc", "loclists", "macinfo", "macro", "pubnames", "pubtypes",
		"gnu_pubnames", "gnu_pubtypes", "names",
	};
	size_t shstrndx, i;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (!strncmp(name, ".debug_", 7))
			name += 7;
		else if (!strncmp(name, ".zdebug_", 8))
			name += 8;
		else
			continue;
		for (i = 0; i < sizeof(unused) / sizeof(unused[0]); i++)
			if (!strcmp(name, unused[i])) {
				sh.sh_type = SHT_NOBITS;
				gelf_update_shdr(scn, &sh);
				break;
			}
	}
}

struct scn_range {
	uint64_t off, size;
};

/* File ranges of the compressed debug sections, before libdw inflates them. */
static size_t compressed_ranges(Elf *elf, struct scn_range *r, size_t max)
{
	size_t shstrndx, n = 0;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn)) && n < max) {
		const char *name;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if ((sh.sh_flags & SHF_COMPRESSED) || (name && !strncmp(name, ".zdebug_", 8))) {
			r[n].off = sh.sh_offset;
			r[n].size = sh.sh_size;
			n++;
		}
	}
	return n;
}

int sym_file_ensure_dwarf(struct sym_session *s, struct sym_file *f)
{
	struct scn_range zr[32];
	size_t nzr, i;
	Elf *elf = NULL;
	int err;

	if (f->state & SF_DWARF)
		return f->dwarf ? 0 : -ENOENT;
	err = sym_file_ensure_open(s, f);
	if (err)
		return err;
	f->state |= SF_DWARF;
	if (has_debug_info(f->elf)) {
		elf = f->elf;
	} else {
		if (!(f->state & SF_DEBUG))
			sym_find_debuginfo(s, f);
		if (f->dbg_elf && has_debug_info(f->dbg_elf))
			elf = f->dbg_elf;
	}
	if (!elf)
		return -ENOENT;
	hide_unused_debug_sections(elf);
	nzr = elf == f->mini_elf || f->is_image ? 0 : compressed_ranges(elf, zr, 32);
	sym_decompress_sections(s, f, elf);
	f->dwarf = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!f->dwarf)
		return -ENOENT;
	for (i = 0; i < nzr; i++)
		drop_file_pages(elf, zr[i].off, zr[i].size);
	/* libdw keeps its CU and line structures: roughly the section sizes. */
	sym_charge(s, f, debug_sections_size(elf));
	return 0;
}

int sym_file_ensure_cfi(struct sym_session *s, struct sym_file *f)
{
	int err;

	if (f->state & SF_CFI)
		return 0;
	err = sym_file_ensure_open(s, f);
	if (err)
		return err;
	f->state |= SF_CFI;
	f->cfi_eh = dwarf_getcfi_elf(f->elf);
	return 0;
}

void sym_file_unload(struct sym_session *s, struct sym_file *f)
{
	struct sym_zbuf *z, *zn;

	if (f->dcache) {
		sym_dwarf_cache_free(f->dcache);
		f->dcache = NULL;
	}
	if (f->cfi_eh) {
		dwarf_cfi_end(f->cfi_eh);
		f->cfi_eh = NULL;
	}
	f->cfi_debug = NULL;
	if (f->dwarf) {
		dwarf_end(f->dwarf);
		f->dwarf = NULL;
	}
	sym_table_free(&f->tab);
	if (f->mini_elf) {
		elf_end(f->mini_elf);
		f->mini_elf = NULL;
	}
	free(f->mini_buf);
	f->mini_buf = NULL;
	if (f->dbg_elf) {
		elf_end(f->dbg_elf);
		f->dbg_elf = NULL;
	}
	if (f->dbg_fd >= 0) {
		close(f->dbg_fd);
		f->dbg_fd = -1;
	}
	free(f->dbg_path);
	f->dbg_path = NULL;
	if (f->elf) {
		elf_end(f->elf);
		f->elf = NULL;
	}
	for (z = f->zbufs; z; z = zn) {
		zn = z->next;
		free(z->buf);
		free(z);
	}
	f->zbufs = NULL;
	if (s) {
		s->charged -= f->charged;
		if (f->state & SF_SYMS)
			s->st.files_evicted++;
	}
	f->charged = 0;
	f->state &= ~(SF_OPEN | SF_SYMS | SF_DEBUG | SF_DWARF | SF_CFI);
}

void sym_file_destroy(struct sym_file *f)
{
	sym_file_unload(NULL, f);
	if (f->keep_fd >= 0)
		close(f->keep_fd);
	free(f->image);
	free(f->open_path);
	free(f->alt_path);
	free(f->root);
	free(f);
}
