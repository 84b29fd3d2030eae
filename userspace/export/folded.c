// SPDX-License-Identifier: GPL-2.0-only
/*
 * FlameGraph's collapsed ("folded") stacks: one line per distinct stack,
 * frames root first joined by ';', a space, then the count.  This is what
 * flamegraph.pl, speedscope and inferno read.  Kernel frames get "_[k]" as
 * stackcollapse-perf.pl --kernel writes them; inline frames are frames of
 * their own.  Lines come from a depth-first walk of the merged tree, so
 * identical stacks (same names, different addresses) give one line.
 * prof_read_folded() reads such lines back into a profile: its inverse.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"

/* What ends the name of a kernel frame, as stackcollapse-perf.pl --kernel writes it. */
#define KERNEL_SUFFIX	"_[k]"
#define KERNEL_SUFFIX_LEN (sizeof(KERNEL_SUFFIX) - 1)

struct path_buf {
	char *s;
	size_t len, cap;
};

static int path_append(struct path_buf *pb, const char *name, int kernel)
{
	size_t add = strlen(name) + 1 + (kernel ? KERNEL_SUFFIX_LEN : 0);

	if (pb->len + add + 1 > pb->cap) {
		size_t ncap = pb->cap ? pb->cap : 1024;
		char *ns;

		while (ncap < pb->len + add + 1)
			ncap *= 2;
		ns = realloc(pb->s, ncap);
		if (!ns)
			return -ENOMEM;
		pb->s = ns;
		pb->cap = ncap;
	}
	if (pb->len)
		pb->s[pb->len++] = ';';
	pb->len += (size_t)sprintf(pb->s + pb->len, "%s%s", name, kernel ? KERNEL_SUFFIX : "");
	return 0;
}

int prof_export_folded(const struct prof *p, FILE *f, const struct prof_export_opts *opts)
{
	enum prof_value value = EXPORT_OPT(opts, value, PROF_VALUE_DEFAULT);
	int ns = value == PROF_VALUE_NS;
	struct path_buf pb = { 0 };
	size_t *marks = NULL;
	struct flame fl;
	uint64_t lines = 0;
	uint32_t cur;
	char buf[4096];
	int err;

	err = flame_build(&fl, p, EXPORT_OPT(opts, by_thread, 0));
	if (err)
		return export_error(opts, err, "cannot build the call tree: %s", strerror(-err));
	/* marks[d]: path length before the frame at depth d was appended */
	marks = calloc((size_t)fl.max_depth + 2, sizeof(*marks));
	if (!marks) {
		err = -ENOMEM;
		goto out;
	}

	/* Pre-order walk over first_child / next_sibling links. */
	cur = fl.nodes[0].first_child;
	while (cur) {
		const struct flame_node *n = &fl.nodes[cur];
		uint64_t self = ns ? n->self_value : n->self_count;

		pb.len = marks[n->depth];
		err = path_append(&pb, flame_name(&fl, n, buf, sizeof(buf)), n->kind == FLAME_KERNEL);
		if (err)
			goto out;
		marks[n->depth + 1] = pb.len;
		if (self) {
			pb.s[pb.len] = 0;
			if (fprintf(f, "%s %llu\n", pb.s, (unsigned long long)self) < 0) {
				err = errno ? -errno : -EIO;
				goto out;
			}
			lines++;
		}
		if (n->first_child) {
			cur = n->first_child;
			continue;
		}
		while (cur && !fl.nodes[cur].next_sibling)
			cur = fl.nodes[cur].parent;
		if (cur)
			cur = fl.nodes[cur].next_sibling;
	}
	if (opts && EXPORT_OPT(opts, result, NULL)) {
		opts->result->format = PROF_FMT_FOLDED;
		opts->result->frames = lines;
		opts->result->omitted = 0;
	}
out:
	free(marks);
	free(pb.s);
	flame_free(&fl);
	if (err)
		return export_error(opts, err, "cannot write folded stacks: %s", strerror(-err));
	return 0;
}

/* ---- reading ----------------------------------------------------------- */

struct reader {
	struct prof *p;
	struct prof_folded_read *res;
	bool ns;
	int *locs;
	size_t cap;
};

static int line_error(struct reader *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int line_error(struct reader *rd, const char *fmt, ...)
{
	va_list ap;

	rd->res->err_line = rd->res->lines;
	va_start(ap, fmt);
	vsnprintf(rd->res->err, sizeof(rd->res->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A count: decimal digits only, at most UINT64_MAX. */
static int parse_count(struct reader *rd, const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *c;

	for (c = s; *c >= '0' && *c <= '9'; c++) {
		if (v > (UINT64_MAX - (uint64_t)(*c - '0')) / 10)
			return line_error(rd, "count %.40s is larger than %llu", s,
					  (unsigned long long)UINT64_MAX);
		v = v * 10 + (uint64_t)(*c - '0');
	}
	if (c == s || *c)
		return line_error(rd, "count '%.40s' is not a whole number", s);
	*out = v;
	return 0;
}

/* One frame of the stack: name[len] is where its ';' was. */
static int frame_location(struct reader *rd, char *name, size_t len)
{
	size_t sl = KERNEL_SUFFIX_LEN;
	struct prof_function fn = { .name = name };
	struct prof_line line = { 0 };
	struct prof_location loc = { .lines = &line, .nr_lines = 1 };

	name[len] = 0;
	if (len >= sl && !memcmp(name + len - sl, KERNEL_SUFFIX, sl)) {
		name[len - sl] = 0;
		loc.flags = PROF_LOC_KERNEL;
	}
	line.function = prof_function(rd->p, &fn);
	if (line.function < 0)
		return line.function;
	return prof_location(rd->p, &loc);
}

/* Makes room for n location ids. */
static int locs_reserve(struct reader *rd, size_t n)
{
	size_t ncap = rd->cap ? rd->cap : 64;
	int *nl;

	if (n <= rd->cap)
		return 0;
	while (ncap < n)
		ncap *= 2;
	nl = realloc(rd->locs, ncap * sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	rd->locs = nl;
	rd->cap = ncap;
	return 0;
}

/* The last space or tab of s, or NULL. */
static char *last_blank(char *s)
{
	char *sp = strrchr(s, ' '), *tab = strrchr(s, '\t');

	return !sp || (tab && tab > sp) ? tab : sp;
}

/* "root;...;leaf COUNT" without its line end; s is rewritten. */
static int read_line(struct reader *rd, char *s, size_t len)
{
	size_t nframes = 1, left, i, start;
	uint64_t count = 0;
	char *sep;
	int err, id;

	if (len && s[len - 1] == '\r')
		s[--len] = 0;		/* CRLF */
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		s[--len] = 0;
	if (!len)
		return 0;		/* a blank line */
	if (strlen(s) != len)
		return line_error(rd, "a NUL byte in the line");
	/* The count is the last field: frames may hold spaces. */
	sep = last_blank(s);
	if (!sep)
		return line_error(rd, "no count: a line is 'root;...;leaf COUNT'");
	err = parse_count(rd, sep + 1, &count);
	if (err)
		return err;
	if (sep == s)
		return line_error(rd, "empty stack before the count");
	*sep = 0;
	len = (size_t)(sep - s);
	if (rd->res->total + count < rd->res->total)
		return line_error(rd, "the counts add up to more than %llu",
				  (unsigned long long)UINT64_MAX);
	rd->res->total += count;
	rd->res->stacks++;
	if (!count)
		return 0;		/* valid, adds nothing */

	for (i = 0; i < len; i++)
		nframes += s[i] == ';';
	err = locs_reserve(rd, nframes);
	if (err)
		return err;
	/* root first in the line, leaf first in the sample */
	left = nframes;
	for (i = 0, start = 0; i <= len; i++) {
		if (i < len && s[i] != ';')
			continue;
		id = frame_location(rd, s + start, i - start);
		if (id < 0)
			return id;
		rd->locs[--left] = id;
		start = i + 1;
	}
	return prof_add_sample(rd->p, rd->locs, (unsigned int)nframes, rd->ns ? 0 : count,
			       rd->ns ? count : 0);
}

int prof_read_folded(struct prof *p, FILE *f, enum prof_value value, struct prof_folded_read *res)
{
	struct reader rd = { .p = p, .res = res, .ns = value == PROF_VALUE_NS };
	char *line = NULL;
	size_t size = 0;
	ssize_t len;
	int err = 0;

	memset(res, 0, sizeof(*res));
	errno = 0;
	while ((len = getline(&line, &size, f)) >= 0) {
		res->lines++;
		if (len && line[len - 1] == '\n')
			line[--len] = 0;
		err = read_line(&rd, line, (size_t)len);
		if (err)
			break;
		errno = 0;
	}
	if (!err && ferror(f))
		err = errno ? -errno : -EIO;
	if (!err && errno == ENOMEM)
		err = -ENOMEM;
	if (err && !res->err_line)
		snprintf(res->err, sizeof(res->err), "%s", strerror(-err));
	free(line);
	free(rd.locs);
	return err;
}
