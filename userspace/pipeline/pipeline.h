/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pipeline: one per swctl process.  One reader thread drains every ring
 * (libswprof), one decoder turns records into stacks, one stack cache maps
 * (pid, address) to frames and one symbolizer fills it, for any number of
 * sinks: a profile aggregate (record.h, what `swctl record` writes), later
 * per-task aggregates and per-segment thread dumps for the agent.
 *
 *	struct pl *pl;
 *	PL_OPTS(po, .sym_flags = SYM_OPT_LINES);
 *	pl_new(&po, &pl);
 *	struct pl_sink *s = pl_sink_new(pl, &ops, ctx);	// or rec_new(pl, ...)
 *	PL_REG_OPTS(ro, .mode = SWPROF_MODE_CPU, .period_ns = 10000000);
 *	pl_add_process(pl, s, pid, &ro);		// s subscribes to pid
 *	while (...) pl_poll(pl, 100);			// sinks called from here
 *	pl_sink_free(s);				// unsubscribes; targets of
 *	pl_free(pl);					// no sink are closed
 *
 * Targets come and go: a registration (a thread, or a whole process whose
 * threads arrive through its group) is shared by every sink that asks for
 * the same pid (or tid) with the same options, and closed when its last
 * sink leaves.  The reader thread only copies records out of the rings into
 * a bounded queue; decoding, symbolization and the sinks run in the caller's
 * thread, in pl_poll() and pl_drain().  Every pl_*() call is for that one
 * thread.  Errors: negative errno, and one sw_err() line when the errno
 * alone would not say what to do (docs/hacking.md).
 */
#ifndef SWCTL_PIPELINE_H
#define SWCTL_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/swprof.h>

#include "sw_opts.h"
#include "sym.h"
#include "utab.h"

struct pl;
struct pl_sink;
struct swprof;
struct swprof_target;

struct pl_opts {
	size_t sz;		/* sizeof(struct pl_opts): use PL_OPTS() */
	const char *device;	/* NULL = /dev/swprof */
	bool offline;		/* no device: records come from pl_replay() */
	unsigned int sym_flags;	/* SYM_OPT_* of the one symbolizer */
	size_t queue_bytes;	/* records waiting for the decoder at most; 0 = 64 MiB */
	FILE *save_raw;		/* every record read is also written here (pl_replay() reads it) */
	/*
	 * User stacks by frame pointers only (swctl record --fp): no unwind
	 * tables.  By default, with a module that has SWPROF_FEAT_UNWIND_TABLES,
	 * the processes of registrations with user stacks and no raw stack copy
	 * get unwind tables (.eh_frame compiled per file, sym/utab.h): pushed
	 * before sampling starts, again after an EXEC record and when their
	 * executable mappings change (checked every second), removed when they
	 * are gone.
	 */
	bool fp_only;
};
#define pl_opts__last_field fp_only
#define PL_OPTS(name, ...) SW_OPTS(pl_opts, name, __VA_ARGS__)

int pl_new(const struct pl_opts *opts, struct pl **out);
/* Frees the sinks still there too. */
void pl_free(struct pl *pl);

/* The device (NULL when offline) and the symbolizer, shared by everyone. */
struct swprof *pl_device(const struct pl *pl);
struct sym_session *pl_symbolizer(const struct pl *pl);
/* Threads the pipeline runs besides the caller's: 1 (the reader), 0 offline. */
unsigned int pl_nr_threads(const struct pl *pl);

/* ---- sinks ------------------------------------------------------------ */

/* The frames of one address: an entry of the stack cache. */
struct pl_frames {
	uint64_t addr;
	unsigned int n;			/* >= 1 */
	struct sym_frame f[];		/* innermost inlined first; strings owned by the cache */
};

/* One decoded sample, handed to the sinks of its target. */
struct pl_stack {
	const struct swprof_sample *s;	/* SAMPLE or OFFCPU record */
	uint64_t target;		/* the ring's id, unique for the pipeline's life */
	pid_t pid, tid;			/* of the ring's thread now (after EXEC, COMM) */
	unsigned int nr_kernel, nr_user;
	bool unwound;			/* user frames from the raw stack copy */
	/*
	 * nr_kernel + nr_user entries, kernel leaf first then user leaf
	 * first; NULL where the symbolizer gave nothing.  Valid during the
	 * callback only.
	 */
	const struct pl_frames *const *frames;
};

struct pl_sink_ops {
	size_t sz;		/* sizeof(struct pl_sink_ops) */
	/* a SAMPLE or OFFCPU record, symbolized */
	void (*sample)(void *ctx, const struct pl_stack *st);
	/*
	 * Any other record but LOST (accounted by the reader): EXIT, EXEC,
	 * COMM, TRACE_*, unknown types; and SAMPLE/OFFCPU records whose stack
	 * is corrupt.  pid/tid: of the ring's thread, after the record.
	 */
	void (*record)(void *ctx, uint64_t target, pid_t pid, pid_t tid,
		       const struct swprof_rec *rec);
};
#define pl_sink_ops__last_field record

/* ops is copied.  Returns 0 or -ENOMEM. */
int pl_sink_new(struct pl *pl, const struct pl_sink_ops *ops, void *ctx, struct pl_sink **out);
/* Unsubscribe from every target (those left with no sink are closed) and free. */
void pl_sink_free(struct pl_sink *s);

/* ---- targets ---------------------------------------------------------- */

struct pl_reg_opts {
	size_t sz;		/* sizeof(struct pl_reg_opts): use PL_REG_OPTS() */
	uint32_t mode;		/* SWPROF_MODE_* */
	uint64_t period_ns;
	bool kernel;		/* kernel stacks (needs CAP_PERFMON) */
	uint32_t raw_stack;	/* bytes of raw user stack per sample (--dwarf); 0 = off */
	uint32_t ring_size;	/* per thread; 0 = 512 KiB, 8 MiB with raw_stack */
	uint64_t min_block_ns;	/* OFFCPU: shorter blocks are not recorded */
	/* follow processes by rescanning /proc/PID/task even when the module
	 * can follow them itself (what a 1.0 module needs; for tests) */
	bool scan_threads;
};
#define pl_reg_opts__last_field scan_threads
#define PL_REG_OPTS(name, ...) SW_OPTS(pl_reg_opts, name, __VA_ARGS__)

/*
 * Subscribe @s to thread @tid of process @pid, registering it unless a
 * registration with the same options exists.  0 or a negative errno.
 */
int pl_add_thread(struct pl *pl, struct pl_sink *s, pid_t pid, pid_t tid,
		  const struct pl_reg_opts *opts);
/*
 * Subscribe @s to every thread of @pid, now and later.  With a module that
 * follows processes (SWPROF_FEAT_PROCESS) the process is registered once and
 * its threads arrive through the group; later calls return 0.  Otherwise the
 * threads of /proc/PID/task not registered yet are: call it again
 * (pl_follows_processes() false) to pick up threads created since.
 * Returns the number of threads (or groups) added, -ESRCH when the process
 * is gone, or the first registration error when none could be added.
 */
int pl_add_process(struct pl *pl, struct pl_sink *s, pid_t pid, const struct pl_reg_opts *opts);
/*
 * Subscribe @s to a target obtained elsewhere (swprof_target_from_fd(): a
 * target fd an integrator passed over a socket; a ring in memory in tests)
 * of thread @tid of process @pid.  Takes @t, freed on failure too.
 */
int pl_adopt_target(struct pl *pl, struct pl_sink *s, struct swprof_target *t, pid_t pid,
		    pid_t tid);
bool pl_follows_processes(const struct pl *pl, const struct pl_reg_opts *opts);
/* Every thread of @pid exited (its group said so, or the pid is gone). */
bool pl_process_gone(const struct pl *pl, pid_t pid);
/* Enable or disable sampling of every thread @s is subscribed to. */
int pl_enable(struct pl *pl, struct pl_sink *s, bool on);
/* No thread @s is subscribed to runs any more. */
bool pl_all_exited(const struct pl *pl, const struct pl_sink *s);

/* What the reader counted for the targets of one sink. */
struct pl_target_stats {
	uint64_t records;	/* records copied out of the rings */
	uint64_t lost;		/* reported by LOST records and lost_pending */
	uint64_t seq_gaps;	/* gaps no LOST record explains: a kernel bug, should be 0 */
	uint64_t bad_records;	/* corrupt records */
	uint64_t threads;	/* threads registered */
	uint64_t threads_live;	/* still registered and running */
	uint64_t register_failed;
	uint64_t group_missed;	/* threads a process group could not follow (module limits) */
	uint64_t ring_lag_max_ns; /* longest a record waited in its ring */
};
void pl_target_stats(const struct pl *pl, const struct pl_sink *s, struct pl_target_stats *st);

/* The queue between the reader and the decoder. */
struct pl_queue_stats {
	uint64_t bytes;		/* waiting now */
	uint64_t peak;		/* ... at most */
	uint64_t full;		/* times the reader waited because it was full */
	uint64_t sym_lag_max_ns; /* longest from a record's time to its decoding */
	uint64_t unwound;	/* samples unwound from the raw copy */
	uint64_t read_records;	/* records copied out of the rings, every target, ever */
	uint64_t read_bytes;	/* ... their size as the module wrote them */
};
void pl_queue_stats(const struct pl *pl, struct pl_queue_stats *st);

/*
 * The unwind tables (see pl_opts.fp_only): false when they are off (--fp,
 * offline, or a module without SWPROF_FEAT_UNWIND_TABLES), *st zeroed.
 */
bool pl_utab_stats(const struct pl *pl, struct utab_stats *st);

/* ---- running ---------------------------------------------------------- */

/*
 * Read what symbolization will need in any case (kallsyms: a second or more
 * on a small machine) now rather than at the first sample.
 */
void pl_preload_kernel(struct pl *pl);
/*
 * The unwind table of @path (a program about to be started and registered
 * before its exec: swctl record -- CMD) made now, with those of the
 * libraries almost every program maps, so that the new image's tables are
 * in the module within milliseconds of its exec.  A no-op when tables are off.
 */
void pl_preload_tables(struct pl *pl, const char *path);

/*
 * Keep the unwind tables of processes @pids[0..n) in the module while they
 * live, whether or not a sink reads one of their threads: for samples that
 * come through targets adopted later (trace segments), which need the
 * tables from their first sample.  The set replaces the previous one.
 * Pushes the tables not there yet (that can take a while: it compiles the
 * files' .eh_frame).  0 or the first error but ESRCH; 0 when tables are off.
 */
int pl_hold_tables(struct pl *pl, const pid_t *pids, size_t n);

/*
 * Decode what the reader queued and call the sinks, waiting up to
 * timeout_ms for something to arrive and spending about that long at most.
 */
int pl_poll(struct pl *pl, int timeout_ms);
/* Drain every ring completely now and decode it all (the end of a recording). */
int pl_drain(struct pl *pl);

/* What a raw record file says of its records, written by its producer. */
struct pl_raw_info {
	uint32_t mode;		/* SWPROF_MODE_* */
	uint32_t flags;		/* PL_RAW_* */
	uint64_t period_ns;
	uint64_t reserved;
};
#define PL_RAW_STATE_FRAMES	(1U << 0)

/* Start a file for pl_opts.save_raw; 0 or a negative errno. */
int pl_raw_write_header(FILE *f, const struct pl_raw_info *info);
/* Read it back: 0, or -EBADMSG when @f is not a raw record file. */
int pl_raw_read_header(FILE *f, struct pl_raw_info *info);

/*
 * Feed the records of a file written through pl_opts.save_raw (after
 * pl_raw_read_header()) to @s, as if its records
 * came from the rings now (an offline pipeline; addresses are symbolized
 * against the processes as they are now: run it while they live).
 * Returns the number of records, or -EBADMSG for a file that is not one.
 */
int pl_replay(struct pl *pl, struct pl_sink *s, FILE *f);

#endif
