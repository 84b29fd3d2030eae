/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The options-struct convention of all userspace code (libbpf's):
 *
 *	struct foo_opts {
 *		size_t sz;		// first field: sizeof(struct foo_opts)
 *		...
 *	};
 *	#define foo_opts__last_field bar
 *	#define FOO_OPTS(name, ...) SW_OPTS(foo_opts, name, __VA_ARGS__)
 *
 * A callee checks a caller's struct with SW_OPTS_VALID() (a size smaller
 * than the size field itself, or a non-zero byte past the last field this
 * code knows, is invalid) and reads fields with SW_OPTS_GET(), which gives
 * the fallback for fields an older, smaller struct does not have.  Header
 * only: libswprof's internals use it too (docs/hacking.md).
 */
#ifndef SW_OPTS_H
#define SW_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#ifndef offsetofend
#define offsetofend(TYPE, FIELD) (offsetof(TYPE, FIELD) + sizeof(((TYPE *)0)->FIELD))
#endif

/* Declare and zero an options struct (padding too), set its size and fields. */
#define SW_OPTS(TYPE, NAME, ...)					\
	struct TYPE NAME = ({						\
		memset(&NAME, 0, sizeof(struct TYPE));			\
		(struct TYPE) {						\
			.sz = sizeof(struct TYPE),			\
			__VA_ARGS__					\
		};							\
	})

/* @sz bytes at @opts; @known: offsetofend of the last field the callee knows. */
static inline bool sw_opts_valid(const void *opts, size_t sz, size_t known)
{
	const unsigned char *p = opts;
	size_t i;

	if (!opts)
		return true;
	if (sz < sizeof(size_t))
		return false;
	for (i = known; i < sz; i++)
		if (p[i])
			return false;
	return true;
}

#define SW_OPTS_VALID(opts, TYPE)					\
	sw_opts_valid(opts, (opts) ? (opts)->sz : 0,			\
		      offsetofend(struct TYPE, TYPE##__last_field))
#define SW_OPTS_HAS(opts, FIELD)					\
	((opts) && (opts)->sz >= offsetofend(typeof(*(opts)), FIELD))
/* The field when the caller's struct has it, else the fallback. */
#define SW_OPTS_GET(opts, FIELD, fallback)				\
	(SW_OPTS_HAS(opts, FIELD) ? (opts)->FIELD : (fallback))
/* The same, and the fallback also when the field is 0 ("0 = default"). */
#define SW_OPTS_GET_OR(opts, FIELD, fallback)				\
	(SW_OPTS_HAS(opts, FIELD) && (opts)->FIELD ? (opts)->FIELD : (fallback))

#endif
