// SPDX-License-Identifier: GPL-2.0-only
/*
 * FlameGraph's collapsed ("folded") stacks: one line per distinct stack,
 * frames root first joined by ';', a space, then the count.  This is what
 * flamegraph.pl, speedscope and inferno read.  Kernel frames get "_[k]" as
 * stackcollapse-perf.pl --kernel writes them; inline frames are frames of
 * their own.  Lines come from a depth-first walk of the merged tree, so
 * identical stacks (same names, different addresses) give one line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"

struct path_buf {
	char *s;
	size_t len, cap;
};

static int path_append(struct path_buf *pb, const char *name, int kernel)
{
	size_t add = strlen(name) + 1 + (kernel ? 4 : 0);

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
	pb->len += (size_t)sprintf(pb->s + pb->len, "%s%s", name, kernel ? "_[k]" : "");
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
