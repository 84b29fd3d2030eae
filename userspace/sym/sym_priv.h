/* SPDX-License-Identifier: GPL-2.0-only */
/* sym: internals shared by the sym*.c files; not part of the API. */
#ifndef SWCTL_SYM_PRIV_H
#define SWCTL_SYM_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <gelf.h>
#include <elfutils/libdw.h>

#include "sym.h"

#define SYM_BUILD_ID_MAX	64	/* bytes; GNU build-ids are 20 (sha1) or 16 */
#define SYM_DEFAULT_CACHE	(256UL << 20)
#define SYM_DEFAULT_DEBUG_DIR	"/usr/lib/debug"

/* ------------------------------------------------------------------ */
/* Strings interned for the life of the session (paths, module names). */

struct sym_intern;
struct sym_intern *sym_intern_new(void);
void sym_intern_free(struct sym_intern *t);
const char *sym_intern(struct sym_intern *t, const char *s, size_t len);

/* ------------------------------------------------------------------ */
/* Symbol tables: sorted arrays, 16 bytes a symbol. */

/* struct sym_sym.name: string table index in the top bits, offset below. */
#define SYM_NAME_TAB_SHIFT	30
#define SYM_NAME_OFF_MASK	((1U << SYM_NAME_TAB_SHIFT) - 1)
#define SYM_MAX_STRTABS		4

struct sym_sym {
	uint64_t start;
	uint32_t size;
	uint32_t name;
};

struct sym_table {
	struct sym_sym *syms;
	size_t nr;
	const char *strtabs[SYM_MAX_STRTABS];
	size_t strtab_sizes[SYM_MAX_STRTABS];
	char **demangled;	/* lazily, per symbol; (char *)1 = not mangled */
	size_t demangled_bytes;
	char *synth;		/* names made up here ("f@plt"), one of strtabs[] */
	/* Bucket index: symbols starting in bucket b are [index[b], index[b + 1]). */
	uint32_t *index;
	size_t nr_buckets;
	unsigned int shift;
	uint64_t base;
};

/* Candidate collected from an ELF symbol table before sorting. */
struct sym_cand {
	uint64_t start;
	uint64_t size;
	uint32_t name;
	uint16_t rank;		/* binding/type preference, higher wins */
	uint16_t limit_idx;	/* index of the section bound in sym_builder.limits */
};

struct sym_builder {
	struct sym_cand *c;
	size_t nr, cap;
	uint64_t *limits;	/* section ends: size-0 symbols stop there */
	size_t nr_limits, cap_limits;
};

int sym_builder_add(struct sym_builder *b, uint64_t start, uint64_t size,
		    uint32_t name, uint16_t rank, uint64_t limit);
/* Sort, drop duplicates, give size-0 symbols a size; frees the builder. */
int sym_builder_finish(struct sym_builder *b, struct sym_table *t);
void sym_builder_free(struct sym_builder *b);
const char *sym_table_name(const struct sym_table *t, const struct sym_sym *sym);
/* Symbol covering @addr, or NULL. */
const struct sym_sym *sym_table_find(const struct sym_table *t, uint64_t addr);
void sym_table_free(struct sym_table *t);

/* Demangled name of symbol @idx (cached), or its raw name. */
const char *sym_table_demangle(struct sym_table *t, size_t idx, unsigned int opt_flags);
/* A malloc'd demangled copy of @name, or NULL if it is not mangled. */
char *sym_demangle(const char *name, unsigned int opt_flags);

/* ------------------------------------------------------------------ */
/* ELF files, shared across processes, keyed by build-id. */

struct sym_load {
	uint64_t offset, vaddr, filesz, memsz;
	uint32_t flags;
};

#define SYM_MAX_LOADS	16

/* struct sym_file.state */
#define SF_OPEN		(1U << 0)	/* elf open */
#define SF_SYMS		(1U << 1)	/* symbol table built */
#define SF_DEBUG	(1U << 2)	/* separate debug file and MiniDebugInfo searched */
#define SF_DWARF	(1U << 3)	/* dwarf opened (or found missing) */
#define SF_CFI		(1U << 4)	/* CFI looked up */
#define SF_BROKEN	(1U << 5)	/* cannot be (re)opened */

struct sym_zbuf {
	struct sym_zbuf *next;
	void *buf;
	size_t size;
};

struct sym_file {
	struct sym_file *all_next;
	struct sym_file *bid_next;
	struct sym_file *lru_prev, *lru_next;
	bool on_lru;
	const char *path;		/* interned; as first seen */
	const char *name;		/* interned; last path component */
	char *open_path;		/* how to open it again */
	char *alt_path;			/* and a second way */
	dev_t dev;			/* identity of the file, for reopening */
	ino_t ino;
	off_t fsize;
	struct timespec mtime;
	int keep_fd;			/* map_files/deleted: the only way back */
	char *root;			/* "/proc/PID/root" of a container, or NULL */
	unsigned char bid[SYM_BUILD_ID_MAX];
	size_t bid_len;
	char bid_hex[2 * SYM_BUILD_ID_MAX + 1];
	struct sym_load loads[SYM_MAX_LOADS];
	unsigned int nr_loads;
	bool is_image;			/* in-memory image (vdso) */
	void *image;
	size_t image_size;
	uint16_t e_type;
	unsigned int state;		/* SF_* */

	/* heavy part, dropped on eviction */
	int fd;
	Elf *elf;
	char *dbg_path;
	int dbg_fd;
	Elf *dbg_elf;
	void *mini_buf;
	Elf *mini_elf;
	struct sym_zbuf *zbufs;
	struct sym_table tab;
	Dwarf *dwarf;
	Dwarf_CFI *cfi_eh;		/* .eh_frame of elf (ours to end) */
	Dwarf_CFI *cfi_debug;		/* .debug_frame of dwarf (libdw's) */
	struct sym_dwarf_cache *dcache;	/* per-CU inline ranges */
	size_t charged;			/* bytes charged to the session cache */
};

/* ------------------------------------------------------------------ */
/* Processes. */

enum sym_map_kind {
	SYM_MAP_FILE,
	SYM_MAP_VDSO,
	SYM_MAP_ANON,			/* anonymous: maybe JIT code */
	SYM_MAP_SPECIAL,		/* [heap], [stack], [vsyscall]... */
};

struct sym_map {
	uint64_t start, end, pgoff;
	uint64_t ino;
	dev_t dev;
	unsigned int prot;		/* PROT_* */
	enum sym_map_kind kind;
	bool deleted;
	bool file_tried;
	const char *path;		/* interned; " (deleted)" removed */
	const char *name;		/* interned; last component */
	struct sym_file *file;
};

struct sym_jit {
	uint64_t start, size;
	const char *name;		/* into sym_perfmap.text */
};

struct sym_perfmap {
	char *text;
	struct sym_jit *e;
	size_t nr;
	const char *path;		/* interned */
	const char *name;		/* interned */
};

struct sym_proc {
	struct sym_proc *next;
	pid_t pid;
	pid_t nspid;			/* the pid in its own namespace */
	bool foreign_root;		/* /proc/PID/root is not our / */
	char root[32];			/* "/proc/PID/root" */
	bool gone;			/* /proc/PID vanished: keep what we have */
	bool maps_read;
	int maps_err;			/* last error reading maps */
	struct sym_map *maps;
	size_t nr_maps;
	double refresh_tokens;		/* rate limit of re-reads on misses */
	struct timespec refresh_time;
	struct sym_perfmap *perfmap;
	struct timespec perfmap_mtime;
	off_t perfmap_size;
	bool perfmap_tried;
	struct timespec perfmap_check;
};

/* ------------------------------------------------------------------ */
/* Kernel. */

struct sym_kmod {
	const char *name;		/* interned "[ext4]" */
	const char *short_name;		/* interned "[ext4]" too */
	uint64_t start, end;		/* from /proc/modules, 0 if unknown */
};

struct sym_ksym {
	uint64_t start;
	uint32_t size;
	uint32_t name;			/* offset in names */
	uint32_t mod;			/* 0 = vmlinux, else kmods[mod] */
};

struct sym_kernel {
	bool tried;
	int err;
	char *names;
	size_t names_len, names_cap;
	struct sym_ksym *syms;
	size_t nr, cap;
	struct sym_kmod *mods;
	size_t nr_mods, cap_mods;
	char **demangled;		/* Rust in the kernel: lazily */
};

/* ------------------------------------------------------------------ */
/* Session. */

struct sym_grave {
	struct sym_grave *next;
	void (*fn)(void *);
	void *p;
};

struct sym_rcache_ent;

struct sym_session {
	unsigned int flags;		/* SYM_OPT_* */
	size_t cache_limit;
	char *kallsyms_path;
	char *modules_path;
	char *debug_dir;
	unsigned int hold;
	struct sym_intern *strings;

	struct sym_file *files;		/* every file */
	struct sym_file **bid_hash;
	size_t bid_hash_size;
	struct sym_ident **ident;	/* (dev, ino, size, mtime) -> file */
	struct sym_file *lru;		/* loaded files, most recently used first */
	struct sym_file *lru_tail;
	size_t charged;

	struct sym_proc **proc_hash;
	size_t proc_hash_size;
	size_t nr_procs;

	struct sym_kernel kernel;
	struct sym_grave *graves;
	struct sym_file *last_elf;	/* sym_resolve_elf(): the last path asked */
	char *last_elf_path;
	struct sym_rcache_ent *rcache;


	struct sym_stats st;
};

struct sym_ident {
	struct sym_ident *next;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct sym_file *file;
};

/* sym_session.c */
void sym_charge(struct sym_session *s, struct sym_file *f, size_t bytes);
void sym_lru_touch(struct sym_session *s, struct sym_file *f);
void sym_bury(struct sym_session *s, void (*fn)(void *), void *p);
void sym_evict(struct sym_session *s);
double sym_now(void);

/* sym_file.c */
struct sym_file *sym_file_from_fd(struct sym_session *s, int fd, const char *path,
				  const char *open_path, const char *alt_path,
				  bool keep_fd, const char *root);
struct sym_file *sym_file_from_image(struct sym_session *s, void *image, size_t size,
				     const char *name);
int sym_file_ensure_open(struct sym_session *s, struct sym_file *f);
int sym_file_ensure_syms(struct sym_session *s, struct sym_file *f);
int sym_file_ensure_dwarf(struct sym_session *s, struct sym_file *f);
int sym_file_ensure_cfi(struct sym_session *s, struct sym_file *f);
void sym_file_unload(struct sym_session *s, struct sym_file *f);
void sym_file_destroy(struct sym_file *f);
/* ELF view of a file offset; false if no PT_LOAD holds it. */
bool sym_file_off_to_rel(const struct sym_file *f, uint64_t off, uint64_t *rel);
bool sym_file_rel_to_off(const struct sym_file *f, uint64_t rel, uint64_t *off);
int sym_read_build_id(Elf *elf, unsigned char *bid, size_t *len);
void sym_ident_free_all(struct sym_session *s);

/* sym_debuginfo.c */
int sym_find_debuginfo(struct sym_session *s, struct sym_file *f);
int sym_decompress_sections(struct sym_session *s, struct sym_file *f, Elf *elf);
uint32_t sym_crc32_fd(int fd, int *err);

/* sym_dwarf.c */
/*
 * Fill frames with the inline chain and file:line of @rel in @f, the
 * outermost (real function) last with name/offset taken from @outer.
 * Returns the number of frames written (0 if no DWARF covers @rel).
 */
int sym_dwarf_frames(struct sym_session *s, struct sym_file *f, uint64_t rel,
		     const struct sym_frame *outer, struct sym_frame *frames, size_t max);
void sym_dwarf_cache_free(struct sym_dwarf_cache *c);

/* sym_proc.c */
struct sym_proc *sym_proc_get(struct sym_session *s, pid_t pid, bool create);
struct sym_map *sym_proc_find_map(struct sym_session *s, struct sym_proc *p, uint64_t addr);
struct sym_file *sym_map_file(struct sym_session *s, struct sym_proc *p, struct sym_map *m);
void sym_proc_destroy(struct sym_session *s, struct sym_proc *p);

/* sym_perfmap.c */
const struct sym_jit *sym_perfmap_find(struct sym_session *s, struct sym_proc *p,
				       uint64_t addr, struct sym_perfmap **pm);
void sym_perfmap_free(void *pm);

/* sym_kallsyms.c */
int sym_kernel_load(struct sym_session *s);
void sym_kernel_free(struct sym_kernel *k);
int sym_kernel_lookup(struct sym_session *s, uint64_t addr, struct sym_frame *f);

/* sym_unwind.c: nothing shared */

#endif
