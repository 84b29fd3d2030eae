/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * export: write a profile (prof.h) as pprof, FlameGraph folded stacks or an
 * interactive SVG flame graph.  docs/output-formats.md describes the files.
 */
#ifndef SWCTL_EXPORT_H
#define SWCTL_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "prof.h"

enum prof_format {
	PROF_FMT_AUTO,		/* from the file name's extension */
	PROF_FMT_PPROF,		/* .pb.gz, .pprof: gzipped perftools.profiles.Profile */
	PROF_FMT_FOLDED,	/* .folded: "root;...;leaf count" lines */
	PROF_FMT_SVG,		/* .svg: self-contained interactive flame graph */
};

/* What sets a frame's width (SVG) or a line's number (folded). */
enum prof_value {
	PROF_VALUE_DEFAULT,	/* folded: count; SVG: count, but ns for OFFCPU */
	PROF_VALUE_COUNT,	/* samples, or switches for OFFCPU */
	PROF_VALUE_NS,		/* time in ns */
};

/* Filled on success when prof_export_opts.result is set. */
struct prof_export_result {
	enum prof_format format;
	uint64_t frames;	/* SVG: frames drawn; folded: lines written */
	uint64_t omitted;	/* SVG: frames narrower than min_width, not drawn */
};

struct prof_export_opts {
	size_t sz;		/* sizeof(struct prof_export_opts): use PROF_EXPORT_OPTS() */
	enum prof_format format;
	enum prof_value value;
	int by_thread;		/* folded, SVG: a root frame "comm-tid" per thread */
	int icicle;		/* SVG: root at the top */
	const char *title;	/* SVG: default "CPU flame graph" etc. */
	const char *subtitle;	/* SVG: appended to the generated subtitle */
	unsigned int width;	/* SVG: image width in px; default 1200 */
	double min_width;	/* SVG: frames narrower (px) are omitted; default 0.1 */
	/* On failure, a one-line message a person can act on ("" if none). */
	char *errbuf;
	size_t errbuf_sz;
	struct prof_export_result *result;
};

#define PROF_EXPORT_OPTS(name, ...) \
	struct prof_export_opts name = { .sz = sizeof(struct prof_export_opts), __VA_ARGS__ }

/* The format a path's extension names, or -EINVAL. */
int prof_format_from_path(const char *path);
/* "pprof", "folded", "svg"; NULL for PROF_FMT_AUTO or unknown. */
const char *prof_format_name(enum prof_format fmt);

/*
 * Writes p to path (replaced atomically: a temporary file in the same
 * directory, then rename), or to stdout if path is "-" (format required).
 * Returns 0 or a negative errno: -EINVAL for an unknown extension or bad
 * options, the write error otherwise; opts->errbuf then says what to do.
 */
int prof_export(const struct prof *p, const char *path, const struct prof_export_opts *opts);

/* The same, to an open stream; fmt must not be PROF_FMT_AUTO. */
int prof_export_file(const struct prof *p, FILE *f, enum prof_format fmt,
		     const struct prof_export_opts *opts);

/* One writer per format; opts may be NULL. */
int prof_export_folded(const struct prof *p, FILE *f, const struct prof_export_opts *opts);
int prof_export_pprof(const struct prof *p, FILE *f, const struct prof_export_opts *opts);
int prof_export_svg(const struct prof *p, FILE *f, const struct prof_export_opts *opts);

/* ---- shared by the exporters (export_flame.c) ------------------------ */

/* Option lookup that tolerates older, smaller option structs. */
#define EXPORT_OPT(opts, field, def)						\
	((opts) && (opts)->sz >= offsetof(struct prof_export_opts, field) +	\
		sizeof((opts)->field) && (opts)->field ? (opts)->field : (def))

enum flame_kind {
	FLAME_ROOT,
	FLAME_USER,
	FLAME_KERNEL,
	FLAME_THREAD,		/* the "comm-tid" root of a thread (by_thread) */
};

#define FLAME_INLINED	(1u << 0)	/* at least one merged frame was inlined */
#define FLAME_MISSING	(1u << 1)	/* "[MISSING] ...", "[unknown]", truncated */

/* One frame of the merged call tree; node 0 is the root. */
struct flame_node {
	uint64_t count, value;		/* totals, children included */
	uint64_t self_count, self_value;
	int name;			/* string index; thread id for FLAME_THREAD */
	uint8_t kind;			/* enum flame_kind */
	uint8_t flags;			/* FLAME_* */
	uint16_t pad;
	uint32_t depth;			/* root 0 */
	uint32_t parent, first_child, next_sibling;	/* 0: none (root is never a child) */
};

struct flame {
	const struct prof *prof;
	struct flame_node *nodes;
	uint32_t nr_nodes;
	uint32_t max_depth;
};

/* Builds the tree, children sorted by name; 0 or -ENOMEM. */
int flame_build(struct flame *fl, const struct prof *p, int by_thread);
void flame_free(struct flame *fl);

/*
 * The frame's display name with ';' and control characters replaced, no
 * "_[k]" suffix; "[unknown]" for an empty name.  Uses buf (>= 256 bytes) for
 * names it must build or rewrite.
 */
const char *flame_name(const struct flame *fl, const struct flame_node *n,
		       char *buf, size_t size);

static inline uint64_t flame_metric(const struct flame_node *n, int ns)
{
	return ns ? n->value : n->count;
}

/* Records a message for the caller (opts->errbuf), returns err. */
int export_error(const struct prof_export_opts *opts, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
