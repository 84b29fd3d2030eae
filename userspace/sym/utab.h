/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * utab: unwind tables for swprof.ko (API 1.2).  An ELF file's .eh_frame
 * (or its .debug_frame, when it has no .eh_frame: Go binaries) becomes a
 * compact array of struct swprof_unwind_row (the module walks
 * user stacks by them in the interrupt), and the executable mappings of a
 * process become struct swprof_unwind_mapping entries naming those tables.
 *
 *	struct utab t;
 *	utab_compile_path("/lib/x86_64-linux-gnu/libc.so.6", &t);
 *	... t.rows[0 .. t.nr) ...
 *	utab_release(&t);
 *
 * The mapper (struct utab_mapper) does it per process: it reads
 * /proc/PID/maps, compiles each file once (keyed by its identity), and
 * hands tables and mappings to the caller's ops (the pipeline's are the
 * libswprof calls; tests keep them in memory).  Not thread-safe: one
 * thread per mapper.
 */
#ifndef SWCTL_UTAB_H
#define SWCTL_UTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/swprof.h>

#include "sw_opts.h"

/* Where a table's rows come from. */
enum utab_source {
	UTAB_SRC_NONE = 0,		/* no table */
	UTAB_SRC_EH_FRAME,		/* .eh_frame, FDEs by .eh_frame_hdr */
	UTAB_SRC_DEBUG_FRAME,		/* .debug_frame (possibly compressed) */
};

struct utab {
	struct swprof_unwind_row *rows;	/* malloc'd; NULL when nr is 0 */
	uint32_t nr;
	enum utab_source source;
};

/*
 * Compile the CFI of an ELF file (a path, an open fd, or an image in
 * memory such as the vdso) into rows: pc strictly increasing, consecutive
 * rows different, gaps between FDEs and the end of the last one
 * SWPROF_CFA_NONE rows.  The CFI is .eh_frame, found through .eh_frame_hdr;
 * a file without those (no .eh_frame, no PT_GNU_EH_FRAME, or a table
 * encoding this code does not read) uses its .debug_frame instead, if it
 * has FDEs for its code.  0 with t->nr 0: the file has neither (no table:
 * frame pointers only).  -ENOEXEC: not a 64-bit ELF file; -ENOTSUP: no
 * .eh_frame_hdr table this code reads, and no .debug_frame; -ERANGE: code
 * above 4 GiB (row pc is 32 bits); -E2BIG: more than SWPROF_MAX_UNWIND_ROWS
 * rows; -ENOMEM; the open() error for a path.
 */
int utab_compile_path(const char *path, struct utab *t);
int utab_compile_fd(int fd, struct utab *t);
int utab_compile_image(const void *image, size_t size, struct utab *t);
void utab_release(struct utab *t);

/* The row covering table address @pc (the last with row.pc <= pc), or NULL below the first. */
const struct swprof_unwind_row *utab_find(const struct swprof_unwind_row *rows, size_t nr,
					  uint64_t pc);

/* ---- the per-process mapper -------------------------------------------- */

struct utab_mapper;

/* What the mapper asks of its owner: negative errnos on failure. */
struct utab_ops {
	size_t sz;
	int (*table_add)(void *ctx, const struct swprof_unwind_row *rows, uint32_t nr,
			 uint32_t *id);
	int (*table_free)(void *ctx, uint32_t id);
	/* nr 0: remove the process's mappings */
	int (*maps_set)(void *ctx, pid_t pid, const struct swprof_unwind_mapping *maps,
			uint32_t nr);
};
#define utab_ops__last_field maps_set

struct utab_mapper_opts {
	size_t sz;
	const struct utab_ops *ops;	/* copied; every op required */
	void *ctx;
	const char *proc;		/* NULL = "/proc" (tests) */
};
#define utab_mapper_opts__last_field proc
#define UTAB_MAPPER_OPTS(name, ...) SW_OPTS(utab_mapper_opts, name, __VA_ARGS__)

struct utab_stats {
	uint64_t tables;		/* tables uploaded and not freed */
	uint64_t rows;			/* ... their rows */
	uint64_t bytes;			/* ... their bytes */
	uint64_t uploaded;		/* tables uploaded, ever */
	uint64_t uploaded_bytes;	/* ... their bytes */
	uint64_t compile_ns;		/* time spent compiling, ever */
	uint64_t files_skipped;		/* mapped files that could not be read or compiled */
	uint64_t files_no_cfi;		/* mapped files without .eh_frame or .debug_frame */
	uint64_t files_debug_frame;	/* tables uploaded (ever) compiled from .debug_frame */
	uint64_t procs;			/* processes whose mappings are pushed now */
	uint64_t pushes;		/* maps_set() calls that set mappings */
	uint64_t push_errors;		/* maps_set() or table_add() failures */
};

int utab_mapper_new(const struct utab_mapper_opts *opts, struct utab_mapper **out);
/* Frees every table through ops->table_free (mappings are left to the device's close). */
void utab_mapper_free(struct utab_mapper *m);

/*
 * Read /proc/PID/maps and, if its executable mappings changed since the
 * last push (or @force), compile what is new and set the process's
 * mappings.  Returns the number of mappings with a table (>= 0), -ESRCH
 * when the process is gone (it is forgotten), or the ops' error.  Cheap
 * when nothing changed: one read of the maps, no ioctl.
 */
int utab_mapper_push(struct utab_mapper *m, pid_t pid, bool force);
/* Forget @pid; with @remove, also remove its mappings (maps_set nr 0). */
void utab_mapper_forget(struct utab_mapper *m, pid_t pid, bool remove);
/*
 * Check every known process: forget (and remove the mappings of) those
 * @keep (may be NULL) says no longer want tables, utab_mapper_push(pid,
 * false) the others.
 */
void utab_mapper_check_all(struct utab_mapper *m, bool (*keep)(void *ctx, pid_t pid), void *ctx);
bool utab_mapper_knows(const struct utab_mapper *m, pid_t pid);
void utab_mapper_stats(const struct utab_mapper *m, struct utab_stats *st);
/*
 * Compile and upload @path's table now and keep it while the mapper lives
 * (libc and the loader, before a child execs: its first milliseconds then
 * find them ready).  0 or a negative errno.
 */
int utab_mapper_preload(struct utab_mapper *m, const char *path);

#endif
