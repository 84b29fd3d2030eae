/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * record: a recording session.  Registers threads with swprof.ko, drains
 * their rings with epoll, symbolizes each distinct address once and
 * aggregates the stacks into a profile (prof.h).  Used by `swctl record`
 * and by the SkyWalking agent.
 */
#ifndef SWCTL_RECORD_H
#define SWCTL_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "prof.h"

struct rec_session;

struct rec_opts {
	size_t sz;
	uint32_t mode;		/* SWPROF_MODE_* */
	uint64_t period_ns;
	bool kernel;		/* kernel stacks (needs CAP_PERFMON) */
	uint32_t raw_stack;	/* bytes of raw user stack per sample (--dwarf); 0 = off */
	uint32_t ring_size;	/* per thread; 0 = default */
	bool lines;		/* file:line and inline frames */
	size_t mem_cap;		/* profile memory cap; 0 = default */
	const char *device;	/* NULL = /dev/swprof */
};

#define REC_OPTS(name, ...) struct rec_opts name = { .sz = sizeof(struct rec_opts), __VA_ARGS__ }

struct rec_stats {
	uint64_t samples;	/* SAMPLE records read */
	uint64_t lost;		/* reported by LOST records and lost_pending */
	uint64_t seq_gaps;	/* gaps no LOST record explains: a kernel bug, should be 0 */
	uint64_t bad_records;	/* corrupt or unknown records */
	uint64_t threads;	/* threads registered over the session */
	uint64_t threads_live;	/* still registered and running */
	uint64_t exits, execs;
	uint64_t register_failed;
	uint64_t unwound;	/* --dwarf: samples unwound from the raw copy */
};

/*
 * Returns 0 and a session, or a negative errno; errbuf then holds one line a
 * person can act on.
 */
int rec_new(const struct rec_opts *opts, struct rec_session **out, char *errbuf, size_t errlen);
void rec_free(struct rec_session *r);

/* Register one thread (tid in our pid namespace) of process pid. */
int rec_add_thread(struct rec_session *r, pid_t pid, pid_t tid);
/*
 * Register every thread of pid not registered yet; call it again to pick up
 * threads created since.  Returns the number added, -ESRCH when the process
 * is gone, or the first registration error when none could be added.
 */
int rec_add_process(struct rec_session *r, pid_t pid);

/* Wait up to timeout_ms for data and drain what is there.  Returns 0 or -errno. */
int rec_poll(struct rec_session *r, int timeout_ms);
/* Drain every ring completely now (the end of a recording). */
int rec_drain(struct rec_session *r);

/* Enable or disable sampling of every registered thread. */
int rec_enable(struct rec_session *r, bool on);

/* No registered thread is running any more (all exited). */
bool rec_all_exited(const struct rec_session *r);

void rec_get_stats(const struct rec_session *r, struct rec_stats *st);
struct prof *rec_profile(struct rec_session *r);

#endif
