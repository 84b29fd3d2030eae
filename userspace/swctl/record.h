/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * record: a recording session.  Registers threads (or whole processes) with
 * swprof.ko, drains their rings, symbolizes each distinct address once and
 * aggregates the stacks into a profile (prof.h).  Used by `swctl record`
 * and by the SkyWalking agent.
 *
 * Two threads work on a session.  A reader thread, started by rec_new(),
 * owns the rings: it waits on them with epoll, copies their records into a
 * bounded queue in swctl's memory and gives the ring space back at once,
 * and accepts the threads a process group hands out.  The caller's thread
 * does the slow part in rec_poll(): symbolization and aggregation.  So a
 * first look at a big binary never keeps the rings from being drained; when
 * the queue is full (symbolization far behind), the reader stops copying and
 * the rings take the slack, then overflow into counted LOST records.
 *
 * Every rec_*() call is for the caller's thread only.
 */
#ifndef SWCTL_RECORD_H
#define SWCTL_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/swprof.h>

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
	uint64_t min_block_ns;	/* OFFCPU: shorter blocks are not recorded */
	/* a leaf frame "[sleeping]", "[disk]", "[runnable]"... for samples not on a CPU */
	bool state_frames;
	/* follow processes by rescanning /proc/PID/task even when the module
	 * can follow them itself (what a 1.0 module needs; for tests) */
	bool scan_threads;
	size_t queue_bytes;	/* records waiting for symbolization at most; 0 = 64 MiB */
};

#define REC_OPTS(name, ...) struct rec_opts name = { .sz = sizeof(struct rec_opts), __VA_ARGS__ }

/* enum swprof_task_state values, + 1 for anything newer */
#define REC_NR_STATES	(SWPROF_STATE_OTHER + 1)

struct rec_stats {
	uint64_t samples;	/* SAMPLE and OFFCPU records aggregated */
	uint64_t offcpu;	/* OFFCPU records among them (blocks) */
	uint64_t offcpu_ns;	/* time off CPU they stand for */
	uint64_t wall_ns;	/* WALL: time the samples stand for */
	uint64_t state_samples[REC_NR_STATES];	/* by hdr.flags (WALL, OFFCPU) */
	uint64_t state_ns[REC_NR_STATES];
	uint64_t lost;		/* reported by LOST records and lost_pending */
	uint64_t seq_gaps;	/* gaps no LOST record explains: a kernel bug, should be 0 */
	uint64_t bad_records;	/* corrupt records */
	uint64_t unknown_records; /* valid records of a type this swctl does not know */
	uint64_t trace_records;	/* TRACE_BEGIN/END: not expected in a recording */
	uint64_t threads;	/* threads registered over the session */
	uint64_t threads_live;	/* still registered and running */
	uint64_t exits, execs, comms;
	uint64_t register_failed;
	uint64_t group_missed;	/* threads a process group could not follow (module limits) */
	uint64_t unwound;	/* --dwarf: samples unwound from the raw copy */
	uint64_t records;	/* records copied out of the rings */
	uint64_t queue_bytes;	/* waiting for symbolization now */
	uint64_t queue_peak;	/* ... at most */
	uint64_t queue_full;	/* times the reader waited because the queue was full */
	uint64_t ring_lag_max_ns; /* longest a record waited in its ring */
	uint64_t sym_lag_max_ns;  /* longest from a record's time to its aggregation */
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
 * Register every thread of pid, now and later.  With a module that follows
 * processes (SWPROF_FEAT_PROCESS) this registers the process once and its
 * threads arrive through the group; later calls return 0.  Otherwise it
 * registers the threads of /proc/PID/task not registered yet: call it again
 * (rec_follows_processes() false) to pick up threads created since.
 * Returns the number of threads added, -ESRCH when the process is gone, or
 * the first registration error when none could be added.
 */
int rec_add_process(struct rec_session *r, pid_t pid);
/* true when the module follows registered processes' new threads itself */
bool rec_follows_processes(const struct rec_session *r);
/*
 * The registered process is gone: its group reported that every thread
 * exited (or, following by rescanning, the pid no longer exists).
 */
bool rec_process_gone(const struct rec_session *r, pid_t pid);

/*
 * Read what symbolization will need in any case (kallsyms with kernel
 * stacks: a second or more on a small machine) now rather than at the first
 * sample.  Call it after registering: the rings fill meanwhile.
 */
void rec_preload(struct rec_session *r);

/*
 * Symbolize and aggregate what the reader queued, waiting up to timeout_ms
 * for something to arrive and spending about that long at most.
 * Returns 0 or -errno.
 */
int rec_poll(struct rec_session *r, int timeout_ms);
/* Drain every ring completely now and aggregate it all (the end of a recording). */
int rec_drain(struct rec_session *r);

/* Enable or disable sampling of every registered thread. */
int rec_enable(struct rec_session *r, bool on);

/* No registered thread is running any more (all exited). */
bool rec_all_exited(const struct rec_session *r);

void rec_get_stats(const struct rec_session *r, struct rec_stats *st);
struct prof *rec_profile(struct rec_session *r);

/*
 * "running", "runnable", "sleeping", "disk", "stopped", "other": an enum
 * swprof_task_state (unknown values are "other").
 */
const char *rec_state_name(unsigned int state);
/*
 * The synthetic leaf frame of a state: "[runnable]", "[sleeping]", "[disk]",
 * "[stopped]", "[other]"; NULL for running (its stack is the live one).
 */
const char *rec_state_frame(unsigned int state);

/* ---- the command line of swctl record (cmd_record.c), for tests ------ */

#define REC_CLI_MAX_OUTPUTS	8
#define REC_CLI_MAX_TIDS	256

struct rec_cli {
	pid_t pid;			/* -p */
	pid_t tids[REC_CLI_MAX_TIDS];	/* -t */
	int ntid;
	char **cmd;			/* -- CMD ARGS, NULL-terminated; NULL if none */
	const char *outputs[REC_CLI_MAX_OUTPUTS];
	int nout;
	const char *title;
	int kernel;			/* -1: when allowed */
	int state_frames;		/* -1: on for wall, off for the others */
	int value;			/* enum prof_value of the exports */
	int top, quiet, by_thread;
	uint64_t duration_ns;		/* 0: until Ctrl-C or the targets' exit */
	double hz;
	struct rec_opts ro;		/* mode, period, min_block_ns, ring... */
};

/*
 * Parse swctl record's arguments (argv[0] is "record").  Returns -1 to go
 * on, else the exit status: 0 after --help (printed to help), 2 after a
 * usage error (one line through swctl_err()).
 */
int rec_cli_parse(int argc, char **argv, struct rec_cli *cli, FILE *help);

/*
 * "30", "30s", "500ms", "250us", "100ns", "2m", "1h" -> ns.  Returns 0 and
 * *ns, or -EINVAL (garbage, a negative number, an unknown unit).  "0" is 0.
 */
int rec_parse_time(const char *s, uint64_t *ns);

#endif
