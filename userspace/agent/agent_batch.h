/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A batch: what one task collected from one process during one flush
 * interval, symbolized and merged: what one collectProfilingData upload
 * carries for that (task, process), and what the spool keeps while OAP is
 * unreachable.  Without transport: agentd/ turns a batch into protobuf.
 *
 * Stacks are unique within a batch (identical symbolized stacks merged), so
 * the daemon can number them 1, 2, ... and send one message per stack with
 * unique (kernel, user) stack-id pairs, as OAP's storage id requires.
 * Symbols are leaf first, inline frames expanded (innermost first), and an
 * unresolved frame is the string "[MISSING]".
 */
#ifndef AGENT_BATCH_H
#define AGENT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "agent_task.h"

struct agent_stack {
	const char **kernel;		/* leaf first; strings owned by the batch */
	uint32_t nr_kernel;		/* 0: no kernel stack */
	const char **user;		/* leaf first */
	uint32_t nr_user;
	uint64_t count;			/* ON_CPU: samples (dumpCount); OFF_CPU: blocks (switchCount) */
	uint64_t duration_ns;		/* OFF_CPU: time off CPU; ON_CPU: sampled time */
};

struct agent_batch {
	char *task_id;
	char *process_id;		/* OAP's */
	enum agent_task_target target;
	int64_t start_ms;		/* the task's profilingStartTime, constant for its run */
	int64_t time_ms;		/* when taken: the upload's currentTime */
	struct agent_stack *stacks;
	size_t nr_stacks;
	uint64_t samples;		/* records in the batch: the sum of every count */
};

/*
 * An empty batch with these fields (strings copied).  Batches come from
 * here and agent_batch_decode() only: they carry more than the struct shows.
 */
int agent_batch_new(const char *task_id, const char *process_id, enum agent_task_target target,
		    int64_t start_ms, int64_t time_ms, struct agent_batch **out);
void agent_batch_free(struct agent_batch *b);

/*
 * Add @count / @duration_ns to the stack (kernel[0..nk), user[0..nu)),
 * merging with an identical stack already there.  The strings are copied
 * (interned: each distinct string once per batch).  0 or -ENOMEM.
 */
int agent_batch_add(struct agent_batch *b, const char *const *kernel, uint32_t nr_kernel,
		    const char *const *user, uint32_t nr_user, uint64_t count,
		    uint64_t duration_ns);
/* Add every stack of @src to @dst (same task and process; time_ms: the later). */
int agent_batch_merge(struct agent_batch *dst, const struct agent_batch *src);

/* Bytes of memory the batch holds (for memory bounds). */
size_t agent_batch_bytes(const struct agent_batch *b);

/*
 * A self-contained byte string of @b (for the spool): versioned, every
 * length checked by the decoder.  encode: 0 and *buf (malloc'd) / *len, or
 * -ENOMEM.  decode: 0, -EBADMSG when the bytes are not a batch (truncated,
 * another version, lengths out of range), -ENOMEM.
 */
int agent_batch_encode(const struct agent_batch *b, void **buf, size_t *len);
int agent_batch_decode(const void *buf, size_t len, struct agent_batch **out);

#endif
