/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * export: write a profile (prof.h) as pprof, FlameGraph folded stacks or an
 * interactive SVG flame graph.  docs/output-formats.md describes the files.
 */
#ifndef SWCTL_EXPORT_H
#define SWCTL_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "flame.h"
#include "prof.h"
#include "sw_opts.h"

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
	struct prof_export_result *result;
};

#define prof_export_opts__last_field result
#define PROF_EXPORT_OPTS(name, ...) SW_OPTS(prof_export_opts, name, __VA_ARGS__)

/* The format a path's extension names, or -EINVAL. */
int prof_format_from_path(const char *path);
/* "pprof", "folded", "svg"; NULL for PROF_FMT_AUTO or unknown. */
const char *prof_format_name(enum prof_format fmt);

/*
 * Writes p to path (replaced atomically: a temporary file in the same
 * directory, then rename), or to stdout if path is "-" (format required).
 * Returns 0 or a negative errno: -EINVAL for an unknown extension or bad
 * options, the write error otherwise, after one sw_err() line saying what
 * to do.
 */
int prof_export(const struct prof *p, const char *path, const struct prof_export_opts *opts);

/* The same, to an open stream; fmt must not be PROF_FMT_AUTO. */
int prof_export_file(const struct prof *p, FILE *f, enum prof_format fmt,
		     const struct prof_export_opts *opts);

/* One writer per format; opts may be NULL. */
int prof_export_folded(const struct prof *p, FILE *f, const struct prof_export_opts *opts);
int prof_export_pprof(const struct prof *p, FILE *f, const struct prof_export_opts *opts);
int prof_export_svg(const struct prof *p, FILE *f, const struct prof_export_opts *opts);

/* What prof_read_folded() read, and where it stopped. */
struct prof_folded_read {
	uint64_t lines;		/* lines read, blank ones included */
	uint64_t stacks;	/* stack lines */
	uint64_t total;		/* the sum of their counts */
	uint64_t err_line;	/* the line (1 = first) a parse error is on; 0: none */
	char err[128];		/* on error: what is wrong with that line, or the errno's text */
};

/*
 * Reads folded stacks, "root;...;leaf COUNT" lines as prof_export_folded()
 * writes them and flamegraph.pl reads them, into p: one sample per line of
 * COUNT samples, or with PROF_VALUE_NS of COUNT nanoseconds (count 0).
 * Frames are split at every ';'; a frame ending in "_[k]" is a kernel frame
 * (without the suffix); the count is the last space- or tab-separated field,
 * so frames may hold spaces.  Blank lines are skipped, CRLF line ends
 * accepted, a count of 0 adds nothing.  A line without a count, whose count
 * is not a whole number or does not fit 64 bits, or without frames, stops
 * the read: -EINVAL, with res->err_line and res->err saying which line and
 * why.  A read error gives its -errno (err_line 0).  Logs nothing: the
 * caller knows the file's name.  Writing p again as folded stacks gives the
 * same lines as the file, if prof_export_folded() wrote it.
 */
int prof_read_folded(struct prof *p, FILE *f, enum prof_value value, struct prof_folded_read *res);

/* ---- shared by the exporters ------------------------------------------ */

/* An option, or def when the caller's struct is older or the field is 0. */
#define EXPORT_OPT(opts, field, def) SW_OPTS_GET_OR(opts, field, def)

/* The one line a failed export logs (sw_err(), docs/hacking.md); returns err. */
int export_error(const struct prof_export_opts *opts, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
