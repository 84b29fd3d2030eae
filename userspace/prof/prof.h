/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * prof: the in-memory profile of one recording, after symbolization.
 *
 * A profile interns strings, mappings, functions, locations and threads
 * (each gets a small positive id, stable for the profile's life) and merges
 * samples with identical stacks.  Exporters (export.h) read it back through
 * the read-side calls at the end of this header.
 *
 * Memory is bounded by prof_opts.mem_cap.  When an allocation would cross
 * it the profile freezes: no new string, mapping, function, location,
 * thread or distinct stack is added any more.  Interning calls then hand
 * back sentinels (prof_location() returns the "[truncated: memory cap]"
 * location) and every sample whose stack is new, or contains that
 * location, is counted in one "[truncated: memory cap]" stack instead.
 * Existing stacks keep counting, so totals stay exact; prof_get_stats()
 * says how much was folded.
 *
 * Errors are negative errno values (docs/hacking.md).
 * Not thread-safe: one profile per aggregating thread.
 */
#ifndef SWCTL_PROF_H
#define SWCTL_PROF_H

#include <stddef.h>
#include <stdint.h>

#include "sw_opts.h"

struct prof;

enum prof_kind {
	PROF_CPU,	/* values: samples (count), cpu time (ns) */
	PROF_WALL,	/* values: samples (count), wall time (ns) */
	PROF_OFFCPU,	/* values: context switches (count), off-cpu time (ns) */
};

/* "cpu", "wall", "offcpu"; NULL for an unknown kind. */
const char *prof_kind_name(enum prof_kind kind);

struct prof_opts {
	size_t sz;		/* sizeof(struct prof_opts): use PROF_OPTS() */
	size_t mem_cap;		/* bytes; 0: PROF_DEFAULT_MEM_CAP */
	uint64_t period;	/* ns between two samples (CPU, WALL); 0: unknown */
	uint64_t time_nanos;	/* start, Unix epoch ns; 0: unknown */
	uint64_t duration_nanos;
};

#define PROF_DEFAULT_MEM_CAP ((size_t)256 << 20)
#define prof_opts__last_field duration_nanos
#define PROF_OPTS(name, ...) SW_OPTS(prof_opts, name, __VA_ARGS__)

/* opts may be NULL.  Returns 0 and *out, or -EINVAL or -ENOMEM (*out NULL). */
int prof_new(enum prof_kind kind, const struct prof_opts *opts, struct prof **out);
void prof_free(struct prof *p);

/* Metadata that is only known at the end of a recording. */
void prof_set_times(struct prof *p, uint64_t time_nanos, uint64_t duration_nanos);
void prof_set_period(struct prof *p, uint64_t period_ns);
/* Samples the kernel could not deliver (ring full...); shown by exporters. */
void prof_add_lost(struct prof *p, uint64_t lost);

/* ---- building ------------------------------------------------------- */

/*
 * Interns a NUL-terminated string; NULL is "".  Index >= 0, "" is 0;
 * -ENOSPC for a new string once the cap is hit.
 */
int prof_string(struct prof *p, const char *s);

struct prof_mapping {
	uint64_t start;		/* first mapped address */
	uint64_t limit;		/* one past the last */
	uint64_t offset;	/* file offset of start */
	const char *file;	/* path, or "[vdso]", "[kernel.kallsyms]"... */
	const char *build_id;	/* GNU build-id in lowercase hex, or NULL */
};

/* Mapping id >= 1, deduplicated on every field; 0 once the cap is hit. */
int prof_mapping(struct prof *p, const struct prof_mapping *m);

struct prof_function {
	const char *name;	/* demangled, e.g. "std::vector<int>::push_back" */
	const char *system_name; /* raw symbol, e.g. "_ZNSt6vector...", or NULL */
	const char *file;	/* source file, or NULL */
	int64_t start_line;
};

/*
 * Function id >= 1, deduplicated on every field.  Once the cap is hit:
 * the "[truncated: memory cap]" function, which prof_location() turns into
 * the truncated location.
 */
int prof_function(struct prof *p, const struct prof_function *f);

struct prof_line {
	int function;		/* function id */
	int64_t line;		/* source line, 0 if unknown */
};

#define PROF_LOC_KERNEL	(1u << 0)	/* a kernel frame (FlameGraph's _[k]) */

struct prof_location {
	int mapping;		/* mapping id, 0 if none */
	uint64_t address;	/* 0 for a frame without address */
	/* One line per frame, innermost (most deeply inlined) first. */
	const struct prof_line *lines;
	unsigned int nr_lines;	/* >= 1 */
	unsigned int flags;	/* PROF_LOC_* */
};

/*
 * Location id >= 1.  Deduplicated on (mapping, address, flags) when the
 * address is set: the first call decides the lines of that address.  A frame
 * without address (an unresolved "[MISSING] libfoo.so", a kernel symbol
 * known by name) is deduplicated on (mapping, flags, lines).
 * -EINVAL for an unknown mapping or function id or no line.
 */
int prof_location(struct prof *p, const struct prof_location *loc);

/* The location already interned for (mapping, address, flags), or 0. */
int prof_location_find(const struct prof *p, int mapping, uint64_t address,
		       unsigned int flags);

/* The location samples are folded into once the cap is hit. */
int prof_truncated_location(const struct prof *p);

struct prof_thread {
	uint32_t pid;
	uint32_t tid;
	const char *name;	/* comm, may be NULL */
};

/* Thread id >= 1, deduplicated on (pid, tid, name); 0 once the cap is hit. */
int prof_thread(struct prof *p, const struct prof_thread *t);

/*
 * Adds count samples of a stack (location ids, leaf first, n >= 1) taken in
 * thread (a prof_thread() id, or 0 for none) and value_ns nanoseconds:
 * CPU/WALL: the time the samples stand for; 0 means count * period.
 * OFFCPU: the time spent off cpu over count switches.
 * Identical (stack, thread) pairs are merged.  Returns 0, or -EINVAL for an
 * unknown id or n == 0.
 */
int prof_add_thread_sample(struct prof *p, int thread, const int *locs,
			   unsigned int n, uint64_t count, uint64_t value_ns);

static inline int prof_add_sample(struct prof *p, const int *locs, unsigned int n,
				  uint64_t count, uint64_t value_ns)
{
	return prof_add_thread_sample(p, 0, locs, n, count, value_ns);
}

struct prof_stats {
	uint64_t samples;		/* sum of counts, truncated ones included */
	uint64_t value_ns;		/* sum of values, truncated ones included */
	uint64_t lost;			/* prof_add_lost() */
	uint64_t truncated_samples;	/* counts folded into the truncated stack */
	uint64_t truncated_adds;	/* prof_add_*sample() calls so folded */
	uint32_t stacks;		/* distinct (stack, thread) pairs kept */
	uint32_t strings, mappings, functions, locations, threads;
	int capped;			/* the memory cap was hit */
	size_t mem_used;		/* bytes held by the profile */
	size_t mem_cap;
};

void prof_get_stats(const struct prof *p, struct prof_stats *st);

/* ---- reading (exporters) -------------------------------------------- */

enum prof_kind prof_get_kind(const struct prof *p);
uint64_t prof_get_period(const struct prof *p);
uint64_t prof_get_time_nanos(const struct prof *p);
uint64_t prof_get_duration_nanos(const struct prof *p);

/* String by index; NULL when out of range.  Counts include index 0. */
const char *prof_str(const struct prof *p, int idx);
int prof_nr_strings(const struct prof *p);

/* Ids run from 1 to prof_nr_*() inclusive; strings are string indices. */
struct prof_mapping_info {
	uint64_t start, limit, offset;
	int file, build_id;
};

struct prof_function_info {
	int name, system_name, file;
	int64_t start_line;
};

struct prof_location_info {
	int mapping;
	unsigned int flags;
	uint64_t address;
	const struct prof_line *lines;	/* innermost first; valid until the next add */
	unsigned int nr_lines;
};

struct prof_thread_info {
	uint32_t pid, tid;
	int name;
};

int prof_nr_mappings(const struct prof *p);
int prof_nr_functions(const struct prof *p);
int prof_nr_locations(const struct prof *p);
int prof_nr_threads(const struct prof *p);
/* 0, or -ENOENT for an id out of range. */
int prof_get_mapping(const struct prof *p, int id, struct prof_mapping_info *out);
int prof_get_function(const struct prof *p, int id, struct prof_function_info *out);
int prof_get_location(const struct prof *p, int id, struct prof_location_info *out);
int prof_get_thread(const struct prof *p, int id, struct prof_thread_info *out);

struct prof_sample {
	const int *locs;	/* leaf first */
	unsigned int n;
	int thread;		/* 0: none */
	uint64_t count;
	uint64_t value_ns;
};

/*
 * Calls fn for every distinct stack in insertion order (the truncated stack,
 * if used, first).  Stops at and returns fn's first non-zero result.
 */
typedef int (*prof_sample_fn)(const struct prof_sample *s, void *ctx);
int prof_for_each_sample(const struct prof *p, prof_sample_fn fn, void *ctx);

#endif
