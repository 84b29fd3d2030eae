/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sym: the swctl symbolizer.  Addresses of live (or recently exited)
 * processes, of ELF files and of the kernel become frames: function
 * (demangled), module, build-id, source file:line and inline frames.
 *
 *   SYM_OPTS(opts, .flags = SYM_OPT_LINES);
 *   struct sym_session *s;
 *   sym_session_new(&opts, &s);
 *   struct sym_frame f[SYM_MAX_INLINE];
 *   int n = sym_resolve(s, pid, ip, SYM_RESOLVE_RETURN, f, SYM_MAX_INLINE);
 *   ...f[0] innermost (inlined) frame ... f[n - 1] the real function...
 *   sym_session_free(s);
 *
 * Rules, as in libbpf: opaque objects with _new/_free, options structs
 * whose first field is their size, negative errno returns, no global state.
 * A session is not thread-safe: use one per thread (caches are per session).
 *
 * Lifetime of the strings in a struct sym_frame: they stay valid until the
 * next sym_resolve*() or sym_unwind_raw() call on the session, which may
 * evict caches.  Between sym_session_hold() and sym_session_release() nothing
 * is evicted, so every frame returned in between stays valid until the
 * release (use it to resolve a whole stack, then copy or intern the names).
 */
#ifndef SWCTL_SYM_H
#define SWCTL_SYM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sw_opts.h"

struct sym_session;

/* struct sym_opts.flags */
#define SYM_OPT_LINES		(1U << 0)	/* DWARF file:line and inline frames by default */
#define SYM_OPT_NO_DEMANGLE	(1U << 1)	/* names as in the symbol table */
#define SYM_OPT_NO_PARAMS	(1U << 2)	/* demangle C++ without the parameter list */
#define SYM_OPT_NO_DEBUGINFO	(1U << 3)	/* no separate debug files, no MiniDebugInfo */
#define SYM_OPT_FLAGS_ALL	0xfU

struct sym_opts {
	size_t sz;			/* sizeof(struct sym_opts) */
	unsigned int flags;		/* SYM_OPT_* */
	size_t cache_bytes;		/* cap of the ELF/DWARF caches; 0 = 256 MiB */
	const char *kallsyms_path;	/* NULL = /proc/kallsyms */
	const char *modules_path;	/* NULL = /proc/modules (module sizes) */
	/* Global debug directory; NULL = /usr/lib/debug.  Searched for
	 * .build-id/xx/yyyy.debug and <dir>/<path of the file>/<debuglink>. */
	const char *debug_dir;
};

#define sym_opts__last_field debug_dir
#define SYM_OPTS(name, ...) SW_OPTS(sym_opts, name, __VA_ARGS__)

/* Returns 0 and *out, or -EINVAL (bad options), -ENOMEM... (*out NULL). */
int sym_session_new(const struct sym_opts *opts, struct sym_session **out);
void sym_session_free(struct sym_session *s);

/* Defer cache eviction so that returned frames stay valid; nests. */
void sym_session_hold(struct sym_session *s);
void sym_session_release(struct sym_session *s);

/* Frames per address at most: the function and up to 15 inlined callees. */
#define SYM_MAX_INLINE		16

/* struct sym_frame.status */
enum sym_status {
	SYM_OK = 0,		/* a symbol covers the address */
	SYM_NO_SYMBOL,		/* module known, no symbol covers the address */
	SYM_NO_FILE,		/* module known, its file could not be read */
	SYM_NO_MODULE,		/* no module maps the address (or no such process) */
};

/* struct sym_frame.flags */
#define SYM_FRAME_INLINE	(1U << 0)	/* inlined into the frame after it */
#define SYM_FRAME_KERNEL	(1U << 1)	/* from kallsyms */
#define SYM_FRAME_JIT		(1U << 2)	/* from a /tmp/perf-PID.map */

struct sym_frame {
	uint64_t addr;		/* the address asked for */
	const char *name;	/* demangled function, or "[MISSING]" */
	const char *symbol;	/* raw symbol name; NULL when unresolved */
	uint64_t offset;	/* addr - start of the function (0 for inline frames) */
	const char *module;	/* path as mapped, "[vdso]", "[kernel.kallsyms]", "[ext4]"... */
	const char *module_name;/* its last component: "libc.so.6" */
	const char *build_id;	/* lowercase hex, "" when the module has none */
	uint64_t rel_addr;	/* address in the module's ELF view (what addr2line takes) */
	uint64_t file_offset;	/* offset in the module file */
	const char *file;	/* source file, NULL when unknown or lines are off */
	unsigned int line;	/* 0 when unknown */
	unsigned int column;	/* 0 when unknown */
	unsigned int flags;	/* SYM_FRAME_* */
	enum sym_status status;
};

/* sym_resolve*() flags */
#define SYM_RESOLVE_RETURN	(1U << 0)	/* a return address: look up addr - 1 */
#define SYM_RESOLVE_LINES	(1U << 1)	/* file:line and inlines for this call */
#define SYM_RESOLVE_NO_LINES	(1U << 2)	/* no file:line even if SYM_OPT_LINES */
#define SYM_RESOLVE_FLAGS_ALL	0x7U

/*
 * Resolve a user address of process @pid into frames[0..ret), innermost
 * inlined frame first, the real function last.  Never drops an address:
 * when nothing covers it, one frame with status != SYM_OK and name
 * "[MISSING]" still carries the module (sym_frame_format() prints
 * "[MISSING] libfoo.so+0x1234").  Returns the number of frames (>= 1 when
 * max >= 1) or -EINVAL / -ENOMEM.
 */
int sym_resolve(struct sym_session *s, pid_t pid, uint64_t addr, unsigned int flags,
		struct sym_frame *frames, size_t max);

/*
 * Same for an address in the ELF view of the file at @path (-e mode).
 * Returns the open() error (-ENOENT...) when the file cannot be opened,
 * -ENOEXEC when it is not ELF.
 */
int sym_resolve_elf(struct sym_session *s, const char *path, uint64_t rel_addr,
		    unsigned int flags, struct sym_frame *frames, size_t max);

/*
 * A kernel address through kallsyms; module "[kernel.kallsyms]" or "[mod]".
 * Returns -EPERM when kallsyms hides addresses (kptr_restrict), or the
 * error opening it.
 */
int sym_resolve_kernel(struct sym_session *s, uint64_t addr, unsigned int flags,
		       struct sym_frame *frames, size_t max);

/*
 * Read (or re-read) the maps of @pid now.  Returns 0, -ESRCH when the
 * process is gone and was never read, -EACCES/-EPERM when its maps are not
 * readable.  Resolving does this by itself; this call is for a caller that
 * wants to know early, or knows the process just exec'ed.
 */
int sym_proc_refresh(struct sym_session *s, pid_t pid);
/* Forget what is known of @pid (after its EXIT record). */
void sym_proc_forget(struct sym_session *s, pid_t pid);

/*
 * Unwind a raw user stack copy with .eh_frame/.debug_frame CFI (frame
 * pointers where a module has no CFI), through signal frames.  @regs: SWPROF_UREGS_NR registers in
 * DWARF order (rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip); @stack: @size
 * bytes read at regs[rsp].  Writes the IPs leaf first into @ips: ips[0] is
 * regs[rip] (exact), the others are return addresses (resolve them with
 * SYM_RESOLVE_RETURN).  Returns the number of IPs, or -EINVAL.
 */
#define SYM_UNWIND_NR_REGS	17
int sym_unwind_raw(struct sym_session *s, pid_t pid, const uint64_t *regs,
		   const void *stack, size_t size, uint64_t *ips, size_t max);

struct sym_stats {
	size_t sz;			/* in: sizeof(struct sym_stats) */
	uint64_t lookups;		/* addresses resolved */
	uint64_t resolved;		/* ... to a symbol */
	uint64_t missing;		/* ... to [MISSING] */
	uint64_t result_cache_hits;
	uint64_t files;			/* ELF files known (by build-id or identity) */
	uint64_t files_loaded;		/* symbol tables built (again after eviction too) */
	uint64_t files_evicted;
	uint64_t files_failed;		/* could not be opened or parsed */
	uint64_t debug_files;		/* separate debug files found */
	uint64_t cache_bytes;		/* charged to the cache now */
	uint64_t cache_peak;
	uint64_t cache_limit;
	uint64_t procs;			/* processes known */
	uint64_t maps_reads;		/* /proc/PID/maps reads */
	uint64_t unwinds;		/* sym_unwind_raw() calls */
	uint64_t unwind_frames;		/* IPs produced */
	uint64_t unwind_fp_steps;	/* steps done with frame pointers, no CFI */
};

/* Fill @st up to st->sz bytes.  Returns 0 or -EINVAL. */
int sym_session_stats(const struct sym_session *s, struct sym_stats *st);

/*
 * "func+0xoff", or "[MISSING] module+0xrel" for unresolved frames (the
 * missing-frame name every exporter should use).  Returns the length
 * snprintf() would have written.
 */
int sym_frame_format(const struct sym_frame *f, char *buf, size_t size);

#endif
