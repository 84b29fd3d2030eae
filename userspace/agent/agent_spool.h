/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The spool: a bounded, crash-safe FIFO of byte strings in a directory,
 * for batches OAP could not take (agent.spool_dir, agent.spool_max_bytes).
 * Each entry is one file written to a temporary name, fsync'd and renamed
 * (then the directory fsync'd), so a kill -9 leaves whole entries or none;
 * a file that does not check out at open (torn, foreign, bad checksum) is
 * removed and counted.  Entries come back oldest first, across restarts.
 * When a new entry would exceed the bound, the oldest entries are dropped
 * to make room, each drop counted with its bytes and samples.
 */
#ifndef AGENT_SPOOL_H
#define AGENT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "sw_opts.h"

struct agent_spool;

struct agent_spool_opts {
	size_t sz;
	const char *dir;		/* created (0700) if missing, parents too */
	uint64_t max_bytes;		/* every entry's file together at most; 0: 256 MiB */
};
#define agent_spool_opts__last_field max_bytes
#define AGENT_SPOOL_OPTS(name, ...) SW_OPTS(agent_spool_opts, name, __VA_ARGS__)

/*
 * Open (or create) the spool, recovering the entries a previous run left.
 * 0, or a negative errno with one sw_err() line saying what to fix (the
 * directory cannot be created or written).
 */
int agent_spool_open(const struct agent_spool_opts *opts, struct agent_spool **out);
void agent_spool_close(struct agent_spool *sp);

/*
 * Append @len bytes durably.  @samples: how many samples the entry holds
 * (counted when it is dropped).  An entry larger than the bound itself is
 * refused (-EFBIG, counted as dropped).  0 or a negative errno (-ENOSPC,
 * -EIO: counted as dropped too, with one rate-limited sw_err() line).
 */
int agent_spool_put(struct agent_spool *sp, const void *buf, size_t len, uint64_t samples);

/*
 * The oldest entry: 0 with *id, *buf (malloc'd, the caller frees), *len and
 * *samples; -ENOENT when empty.  The entry stays until agent_spool_remove().
 */
int agent_spool_peek(struct agent_spool *sp, uint64_t *id, void **buf, size_t *len,
		     uint64_t *samples);
/* Remove entry @id (delivered, or undecodable). 0 or -ENOENT. */
int agent_spool_remove(struct agent_spool *sp, uint64_t id);

struct agent_spool_stats {
	uint64_t entries, bytes, samples;	/* in the spool now */
	uint64_t put, delivered;		/* entries written, entries removed */
	uint64_t dropped_entries, dropped_bytes, dropped_samples;	/* bound, errors */
	uint64_t recovered;			/* entries found at open */
	uint64_t corrupt;			/* files removed at open */
};
void agent_spool_stats(const struct agent_spool *sp, struct agent_spool_stats *st);

#endif
