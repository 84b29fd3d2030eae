/* SPDX-License-Identifier: GPL-2.0-only */
/* libswprof internals, shared by its files and its host tests; not installed. */
#ifndef SWPROF_INTERNAL_H
#define SWPROF_INTERNAL_H

#include <errno.h>
#include "swprof.h"

struct swprof {
	int fd;
	struct swprof_version version;	/* immutable after swprof_open() */
};

struct swprof_target {
	int fd;
	bool own_maps;			/* false for swprof_target_from_mem() */
	size_t map_page;		/* page size the maps were made with */
	const struct swprof_ring_header *hdr;
	struct swprof_ring_consumer *cons;
	const unsigned char *data;	/* data_size bytes, mapped twice in a row */
	__u64 data_size;
	__u64 pos;			/* read up to here; published by consume */
};

/*
 * Options structs: the convention of all userspace code (common/sw_opts.h,
 * header only): any size >= sz's own, but a non-zero byte past the last
 * field this library knows is -EINVAL (a newer caller asking for something
 * this library cannot do).
 */
#include "sw_opts.h"
#define SWPROF_OPTS_CHECK(opts, TYPE) (SW_OPTS_VALID(opts, TYPE) ? 0 : -EINVAL)
#define SWPROF_OPTS_GET(opts, FIELD, fallback) SW_OPTS_GET(opts, FIELD, fallback)

/* opts (may be NULL) -> attr; -EINVAL on a bad opts size or unknown tail. */
int swprof_target_attr_from_opts(const struct swprof_target_opts *opts,
				 struct swprof_target_attr *attr);

/*
 * A target over a ring the caller laid out (tests): @data must be
 * hdr->data_size bytes mapped twice in a row.  Nothing is unmapped or
 * closed by swprof_target_free(); @fd (may be -1) is used for poll only.
 */
int swprof_target_from_mem(const struct swprof_ring_header *hdr,
			   struct swprof_ring_consumer *cons, const void *data,
			   int fd, struct swprof_target **out);

/* poll() a target or group fd: SWPROF_WAIT_* or a negative errno. */
int swprof_fd_wait(int fd, int timeout_ms);

/* Header sanity shared by the mmap and in-memory paths: 0 or -EPROTO. */
int swprof_ring_header_check(const struct swprof_ring_header *hdr);

/* Groups and trace sessions (API 1.1). */
struct swprof_group {
	int fd;
};

/* Map the ring of a target fd and wrap it; takes @fd (closed on failure). */
int swprof_target_new(int fd, struct swprof_target **out);

/* Wrap a group fd; takes @fd (closed on failure). */
int swprof_group_new(int fd, struct swprof_group **out);

/* One line to the program's swprof_set_log_fn() callback, if any. */
void swprof_log(enum swprof_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The integrator's process-wide device fd: >= 0, or a negative errno. */
int swprof_integrator_fd(void);

#endif /* SWPROF_INTERNAL_H */
