/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libswprof: register threads with swprof.ko and read their sample rings.
 *
 * Conventions (libbpf's):
 *  - objects are opaque: swprof_open()/swprof_close(),
 *    swprof_register()/swprof_target_free();
 *  - options structs start with their size; declare them with SWPROF_OPTS()
 *    so that a program built against an older header keeps working with a
 *    newer library and the other way round (a non-zero field this library
 *    does not know is -EINVAL);
 *  - functions return 0 (or a count) on success and a negative errno on
 *    failure, never only errno; swprof_strerror() explains it;
 *  - no global state, but for the integrator calls (swprof_trace_begin()...,
 *    swprof_register_self()): one device fd per process, a state per thread.
 *    A struct swprof may be used from several threads at once.  A target may
 *    too, except that its records (swprof_target_next(),
 *    swprof_target_consume(), swprof_target_read()) must be read by one
 *    thread at a time: a ring has a single consumer.
 *
 * See docs/libswprof.md.
 */
#ifndef SWPROF_LIB_H
#define SWPROF_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/types.h>
#include <linux/swprof.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SWPROF_API __attribute__((visibility("default")))

/*
 * Declare and zero an options struct, set its size and the given fields:
 *	SWPROF_OPTS(swprof_target_opts, opts, .period_ns = 1000000);
 * The memset also zeroes padding, which the library checks.
 */
#define SWPROF_OPTS(TYPE, NAME, ...)					\
	struct TYPE NAME = ({						\
		memset(&NAME, 0, sizeof(struct TYPE));			\
		(struct TYPE) {						\
			.sz = sizeof(struct TYPE),			\
			__VA_ARGS__					\
		};							\
	})

struct swprof;
struct swprof_target;

/* ------------------------------------------------------------------ */
/* The /dev/swprof handle                                             */

struct swprof_open_opts {
	size_t sz;		/* sizeof(struct swprof_open_opts) */
	const char *path;	/* NULL = SWPROF_DEVICE */
};
#define swprof_open_opts__last_field path

/*
 * Open the device and check its API version: -ENOENT when it is missing
 * (module not loaded), -ENOTTY when it is not a swprof device, -EPROTO when
 * its API major or ring format differs from this library's.  opts may be NULL.
 */
SWPROF_API int swprof_open(const struct swprof_open_opts *opts, struct swprof **out);
SWPROF_API void swprof_close(struct swprof *sw);

/* What the module answered to the handshake: version, features, caps, limits. */
SWPROF_API const struct swprof_version *swprof_version(const struct swprof *sw);
/* true if the module has every SWPROF_FEAT_* bit in @features */
SWPROF_API bool swprof_has_feature(const struct swprof *sw, __u64 features);
SWPROF_API int swprof_fd(const struct swprof *sw);

SWPROF_API int swprof_global_stats(struct swprof *sw, struct swprof_global_stats *st);
/* Zero the cost histogram; needs CAP_PERFMON or CAP_SYS_ADMIN. */
SWPROF_API int swprof_reset_stats(struct swprof *sw);

/* ------------------------------------------------------------------ */
/* Targets: one registered thread, its fd and its ring                */

/*
 * Fields map one to one onto struct swprof_target_attr; 0 picks the
 * module's default, except for flags, which are passed as they are: ask
 * for at least one stack (SWPROF_TARGET_USTACK, SWPROF_TARGET_KSTACK or a
 * raw_stack_size), and set SWPROF_TARGET_ENABLE to start sampling at once.
 */
struct swprof_target_opts {
	size_t sz;		/* sizeof(struct swprof_target_opts) */
	__u32 tid;		/* 0 = the calling thread */
	__u32 mode;		/* enum swprof_mode */
	__u32 flags;		/* SWPROF_TARGET_* */
	__u32 ring_size;	/* data bytes, power of two >= page size */
	__u64 period_ns;	/* >= min_period_ns */
	__u16 max_kernel_depth;
	__u16 max_user_depth;
	__u32 raw_stack_size;	/* bytes of user stack copied per sample */
	__u32 wakeup_bytes;	/* poll()/swprof_target_wait() threshold */
	/* API 1.1 */
	__u64 min_block_ns;	/* OFFCPU: blocks shorter than this are not recorded */
};
#define swprof_target_opts__last_field min_block_ns

/*
 * Register a thread and map its ring.  opts may be NULL (all zero).
 * SWPROF_TARGET_PROCESS is -EINVAL here: swprof_register_process() takes it.
 */
SWPROF_API int swprof_register(struct swprof *sw, const struct swprof_target_opts *opts,
			       struct swprof_target **out);
/*
 * Map the ring of a target fd obtained elsewhere (passed over a socket,
 * inherited).  The fd is duplicated: the caller still owns @fd, and the
 * thread stays registered until every copy is closed.
 */
SWPROF_API int swprof_target_from_fd(int fd, struct swprof_target **out);
/* Unmap and close: unregisters the thread when this was the last fd. */
SWPROF_API void swprof_target_free(struct swprof_target *t);

SWPROF_API int swprof_target_fd(const struct swprof_target *t);	/* for epoll */
SWPROF_API __u32 swprof_target_tid(const struct swprof_target *t);
/* The read-only header page: counters, state, lost_pending. */
SWPROF_API const struct swprof_ring_header *swprof_target_header(const struct swprof_target *t);

SWPROF_API int swprof_target_enable(struct swprof_target *t);
SWPROF_API int swprof_target_disable(struct swprof_target *t);
SWPROF_API int swprof_target_stats(struct swprof_target *t, struct swprof_target_stats *st);

enum swprof_wait_result {
	SWPROF_WAIT_TIMEOUT	= 0,
	SWPROF_WAIT_DATA	= 1,	/* records to read */
	SWPROF_WAIT_EXITED	= 2,	/* the thread exited and its ring is drained */
};

/*
 * Wait up to @timeout_ms (-1 = forever) for records: an enum
 * swprof_wait_result, or a negative errno (-EINTR on a signal).
 */
SWPROF_API int swprof_target_wait(struct swprof_target *t, int timeout_ms);

/* The process id of a target's thread (its tid is swprof_target_tid()). */
SWPROF_API __u32 swprof_target_pid(const struct swprof_target *t);

/* ------------------------------------------------------------------ */
/* Groups: a whole process, or a trace session (API 1.1)              */

/*
 * A group fd hands out one target per thread it attaches: every thread of a
 * process (now and later), or every segment a trace session admits.  Poll
 * swprof_group_fd(): POLLIN while targets wait for swprof_group_accept(),
 * POLLHUP once the process has exited and none is pending.
 */
struct swprof_group;

/*
 * Register every thread of process opts->tid (a pid; 0 = the caller's
 * process) with the other options for each of them; SWPROF_TARGET_PROCESS
 * is implied.  Needs SWPROF_FEAT_PROCESS.
 */
SWPROF_API int swprof_register_process(struct swprof *sw, const struct swprof_target_opts *opts,
				       struct swprof_group **out);
/* A group fd obtained elsewhere; duplicated, the caller keeps its own. */
SWPROF_API int swprof_group_from_fd(int fd, struct swprof_group **out);
/* Close: no more threads are attached; accepted targets stay registered. */
SWPROF_API void swprof_group_free(struct swprof_group *g);
SWPROF_API int swprof_group_fd(const struct swprof_group *g);	/* for epoll */

/*
 * Take the next pending thread and map its ring, as swprof_target_from_fd()
 * does: -EAGAIN when none is pending.  The thread is in
 * swprof_target_tid()/swprof_target_pid().  If mapping fails, that thread
 * is unregistered and the error returned; accept again for the next one.
 */
SWPROF_API int swprof_group_accept(struct swprof_group *g, struct swprof_target **out);
SWPROF_API int swprof_group_stats(struct swprof_group *g, struct swprof_group_stats *st);
/*
 * poll() on the group fd: SWPROF_WAIT_DATA when targets are pending,
 * SWPROF_WAIT_EXITED when the process has exited and nothing is pending,
 * SWPROF_WAIT_TIMEOUT, or a negative errno.
 */
SWPROF_API int swprof_group_wait(struct swprof_group *g, int timeout_ms);

/* ------------------------------------------------------------------ */
/* Trace sessions: the controller's side of trace profiling (API 1.1) */

/* How the segments of a session are sampled (always in WALL mode). */
struct swprof_trace_session_opts {
	size_t sz;		/* sizeof(struct swprof_trace_session_opts) */
	__u32 flags;		/* SWPROF_TARGET_USTACK, SWPROF_TARGET_KSTACK */
	__u32 ring_size;	/* per segment; 0 = 64 KiB */
	__u32 raw_stack_size;	/* bytes of user stack copied per sample */
	__u16 max_kernel_depth;
	__u16 max_user_depth;
};
#define swprof_trace_session_opts__last_field max_user_depth

/*
 * A session is a group: swprof_group_accept() gives one target per admitted
 * segment, whose first record is TRACE_BEGIN and last TRACE_END.  Closing
 * it (swprof_group_free()) ends its tasks.  Needs SWPROF_FEAT_TRACE.
 */
SWPROF_API int swprof_trace_session_new(struct swprof *sw,
					const struct swprof_trace_session_opts *opts,
					struct swprof_group **out);

/* SkyWalking's max parallel segments per task when a task does not say. */
#define SWPROF_TRACE_DEFAULT_MAX_PARALLEL	5

/* A ProfileTask.  Times are CLOCK_REALTIME ns. */
struct swprof_trace_task_opts {
	size_t sz;		/* sizeof(struct swprof_trace_task_opts) */
	const char *endpoint;	/* entry span name, exact; < SWPROF_ENDPOINT_MAX bytes */
	__u64 start_ns;		/* admission window */
	__u64 end_ns;
	__u64 min_duration_ns;	/* sampling of a segment starts this long after its begin */
	__u64 dump_period_ns;	/* WALL period, >= 10 ms */
	__u32 max_sampling_count; /* segments over the task's life, >= 1 */
	__u32 max_parallel;	/* segments at once; 0 = SWPROF_TRACE_DEFAULT_MAX_PARALLEL */
	__u32 max_samples;	/* per segment; 0 = until the segment or the task ends */
};
#define swprof_trace_task_opts__last_field max_samples

/*
 * Add a task to a session; @id (may be NULL) gets its id (>= 1), which
 * samples carry in trace_task.  -EINVAL without asking the module when the
 * endpoint is NULL, empty or too long.
 */
SWPROF_API int swprof_trace_task_add(struct swprof_group *session,
				     const struct swprof_trace_task_opts *opts, __u32 *id);
/* End a task now: its running segments end (TRACE_END, reason TASK). */
SWPROF_API int swprof_trace_task_end(struct swprof_group *session, __u32 id);
SWPROF_API int swprof_trace_task_stats(struct swprof_group *session, __u32 id,
				       struct swprof_trace_task_stats *st);

/* ------------------------------------------------------------------ */
/* Integrators: the application's side of trace profiling (API 1.1)   */

/*
 * No setup and no handle: the first call opens SWPROF_DEVICE (or the path
 * in the environment variable SWPROF_DEVICE) once for the whole process,
 * O_CLOEXEC, and again in a child after fork().  When the open fails (no
 * module), it is not tried again for a second: until then calls fail at
 * once with the same error.  Everything here is thread-safe and the state
 * that matters (am I in a segment?) is per thread.
 */

/*
 * The calling thread starts serving a request whose entry span is
 * @endpoint, in trace segment @segment_id (the id the tracer reports).
 * An application without a SkyWalking tracer passes NULL: the segment then
 * gets an id made here, SWPROF_TRACE_OWN_SEGMENT followed by unique
 * characters, and the controller (swctl agent) reports the segment itself
 * (one entry span, @endpoint, from begin to end), so that OAP lists it.
 * Returns 1 when a task of a controller's session admitted it: the thread
 * is now sampled into that session; 0 when it was not (see
 * swprof_trace_reason(): no task for the endpoint, a task limit, or already
 * in a segment), the normal case, and cheap; or a negative errno: -EINVAL
 * (NULL endpoint, empty or too long strings; checked before anything else),
 * -ENOENT (no device: module not loaded), -EOPNOTSUPP (module without
 * SWPROF_FEAT_TRACE), -EACCES...
 *
 * Pair every call with one swprof_trace_end(), whatever it returned.  A
 * begin inside an admitted segment is nested (0, SWPROF_TRACE_NESTED, no
 * system call) and its end only closes the nesting.
 */
SWPROF_API int swprof_trace_begin(const char *endpoint, const char *segment_id);

/*
 * The calling thread's request ended.  Asks the module only when the
 * outermost begin was admitted; 0, or a negative errno.  A segment the
 * module ended on its own (task end, max samples) is not an error.
 */
SWPROF_API int swprof_trace_end(void);

/* Why the calling thread's last swprof_trace_begin() returned what it did. */
enum swprof_trace_reason {
	SWPROF_TRACE_ADMITTED		= 0,	/* 1: sampled into a session */
	SWPROF_TRACE_NO_TASK		= 1,	/* 0: no running task for the endpoint */
	SWPROF_TRACE_MAX_SAMPLED	= 2,	/* 0: the task's max_sampling_count is reached */
	SWPROF_TRACE_MAX_PARALLEL	= 3,	/* 0: the task's max_parallel segments are running */
	SWPROF_TRACE_NESTED		= 4,	/* 0: this thread is already in a segment */
	SWPROF_TRACE_ERROR		= 5,	/* < 0: see swprof_trace_last_error() */
};
SWPROF_API enum swprof_trace_reason swprof_trace_reason(void);
/* "admitted", "no task", "max sampled", "max parallel", "nested", "error" */
SWPROF_API const char *swprof_trace_reason_name(enum swprof_trace_reason reason);
/* The negative errno of the calling thread's last begin or end; 0 if it succeeded. */
SWPROF_API int swprof_trace_last_error(void);
/* Id of the task that admitted the calling thread's current segment; 0 if none. */
SWPROF_API __u32 swprof_trace_current_task(void);
/*
 * The calling thread's current segment id (the one given, or the one made
 * for a NULL segment_id), or NULL when it is not in an admitted segment.
 * Valid until its swprof_trace_end().
 */
SWPROF_API const char *swprof_trace_current_segment(void);
/* The prefix of the segment ids libswprof makes (swprof_trace_begin() with NULL). */
#define SWPROF_TRACE_OWN_SEGMENT	"swprof."
/* 1 when the module is there and does trace profiling, else a negative errno. */
SWPROF_API int swprof_trace_available(void);

/*
 * swprof_register() of the calling thread (opts->tid must be 0) on the
 * process-wide fd: for an application that profiles itself without a
 * struct swprof.  opts may be NULL.
 */
SWPROF_API int swprof_register_self(const struct swprof_target_opts *opts,
				    struct swprof_target **out);

/* ------------------------------------------------------------------ */
/* Reading records                                                    */

/*
 * Cursor: swprof_target_next() returns 1 and the next record, 0 when the
 * ring is empty, -EBADMSG when the ring is corrupt (a record size that is
 * 0, not a multiple of 8, larger than the ring or past the producer; the
 * same error again on every call: free the target).  Records stay valid
 * until swprof_target_consume() gives their space back to the kernel.
 * Records of types this library does not know are returned too: skip them.
 */
SWPROF_API int swprof_target_next(struct swprof_target *t, const struct swprof_rec **rec);
SWPROF_API void swprof_target_consume(struct swprof_target *t);

/*
 * Callback of swprof_target_read(): return 0 to go on, a negative errno
 * to stop with that error, a positive value to stop without error.  The
 * record is consumed whatever the return value.
 */
typedef int (*swprof_rec_fn)(void *ctx, const struct swprof_rec *rec);

/*
 * Call @fn for at most @max_records records (0 = every record present at
 * the call) and consume them.  Returns the number of records passed to
 * @fn, or a negative errno (the callback's, or -EBADMSG).
 */
SWPROF_API int swprof_target_read(struct swprof_target *t, swprof_rec_fn fn, void *ctx,
				  size_t max_records);

/*
 * "sample", "lost", "exit", "exec", "offcpu", "comm", "trace_begin",
 * "trace_end" or "unknown".
 */
SWPROF_API const char *swprof_rec_type_name(unsigned int type);

/*
 * true if the record's size is sane and, for a known type, its fixed part
 * and its variable arrays fit in hdr.size.  Unknown types are only checked
 * for size.
 */
SWPROF_API bool swprof_rec_valid(const struct swprof_rec *rec);

/*
 * Parts of a SAMPLE or OFFCPU record, NULL when it is not a valid one.
 * ips: nr_kernel + nr_user addresses, kernel first, each part leaf first.
 * regs (SWPROF_UREGS_NR of them) and raw stack (raw_size bytes, starting at
 * regs[SWPROF_UREG_SP]): NULL also when raw_size is 0.
 */
SWPROF_API const __u64 *swprof_sample_ips(const struct swprof_sample *s);
SWPROF_API const __u64 *swprof_sample_regs(const struct swprof_sample *s);
SWPROF_API const __u8 *swprof_sample_raw_stack(const struct swprof_sample *s);

/*
 * Typed views of a record (API 1.1 types), NULL unless it is a valid record
 * of that type; for COMM and TRACE_BEGIN also unless the string (comm,
 * segment_id) ends with a NUL inside its array.
 */
SWPROF_API const struct swprof_sample *swprof_rec_sample(const struct swprof_rec *rec);	/* SAMPLE, OFFCPU */
SWPROF_API const struct swprof_comm *swprof_rec_comm(const struct swprof_rec *rec);
SWPROF_API const struct swprof_trace_rec *swprof_rec_trace_begin(const struct swprof_rec *rec);
SWPROF_API const struct swprof_trace_end *swprof_rec_trace_end(const struct swprof_rec *rec);
/* "called", "task", "max samples", "exit", "session" or "unknown". */
SWPROF_API const char *swprof_trace_end_reason_name(unsigned int reason);

/*
 * Sequence accounting: feed every record, in ring order, to
 * swprof_seq_tracker_add(), then call swprof_seq_tracker_finish().
 * Every non-LOST record takes the next seq; a LOST record stands for the
 * dropped seqs first_seq..last_seq.  A seq skipped without a LOST record
 * is a kernel bug and is counted in gaps.  The struct is plain data: zero
 * it (or call swprof_seq_tracker_init()) before use.
 */
struct swprof_seq_tracker {
	__u64 records;		/* records seen, LOST ones excluded */
	__u64 lost;		/* records reported dropped by LOST records */
	__u64 gaps;		/* seqs missing with no LOST record: should be 0 */
	__u64 bad;		/* seq went backwards or LOST inconsistent: should be 0 */
	__u64 lost_pending;	/* from the header at finish: dropped, not yet reported */
	__u64 next_seq;		/* seq expected next */
	bool started;		/* next_seq is known */
	__u64 __reserved[4];
};

SWPROF_API void swprof_seq_tracker_init(struct swprof_seq_tracker *tr);
SWPROF_API void swprof_seq_tracker_add(struct swprof_seq_tracker *tr, const struct swprof_rec *rec);
/* Take lost_pending from the ring header; @t may be NULL. */
SWPROF_API void swprof_seq_tracker_finish(struct swprof_seq_tracker *tr,
					  const struct swprof_target *t);

/* ------------------------------------------------------------------ */
/* Cost histogram (struct swprof_global_stats.cost_hist)              */

/*
 * Bucket i counts samples whose capture took [lower(i), lower(i+1)) ns:
 *  - i < 8:  lower(i) = 8 * i                     (0, 8, ..., 56)
 *  - i >= 8: i = 8 + 4k + j with j in 0..3,
 *            lower(i) = 64 * 2^k * (1 + j/4)      (64, 80, 96, 112, 128, 160, ...)
 *    i.e. four equal sub-buckets per power of two from 64 ns on.
 * The last bucket (SWPROF_COST_BUCKETS - 1) also holds everything above.
 */

/* lower(i) for i <= SWPROF_COST_BUCKETS (lower(SWPROF_COST_BUCKETS) closes the
 * last bucket); UINT64_MAX above. */
SWPROF_API __u64 swprof_cost_bucket_ns(unsigned int i);
/* The bucket of a cost in ns, as the module computes it. */
SWPROF_API unsigned int swprof_cost_bucket(__u64 ns);
/*
 * Estimate of the @p-th percentile (0..100) of the sample cost, in ns: the
 * midpoint of the bucket that holds it.  0 when the histogram is empty or
 * @p out of range.
 */
SWPROF_API __u64 swprof_cost_percentile(const struct swprof_global_stats *st, double p);

/* ------------------------------------------------------------------ */
/* Unwind tables (API 1.2): complete user stacks without frame pointers */

/*
 * With SWPROF_FEAT_UNWIND_TABLES, user stacks of a process whose mappings
 * were given unwind tables are walked by those tables (rows compiled from
 * each file's .eh_frame, struct swprof_unwind_row), by frame pointers where
 * no row applies.  A table belongs to this open device and is uploaded
 * once per file; each process says which of its executable mappings use
 * which table at which bias (table pc = address - bias).
 */

/*
 * Upload @nr rows (pc strictly increasing, the last one SWPROF_CFA_NONE or
 * SWPROF_CFA_END); *id is the table's id (>= 1).  -ENOSPC: the module's
 * memory limit; -E2BIG: more than SWPROF_MAX_UNWIND_ROWS rows; -ENOTTY:
 * a module before API 1.2.
 */
SWPROF_API int swprof_unwind_table_add(struct swprof *sw, const struct swprof_unwind_row *rows,
				       __u32 nr, __u32 *id);
/* Drop table @id (its memory goes once no process uses it).  -ENOENT: no such id. */
SWPROF_API int swprof_unwind_table_free(struct swprof *sw, __u32 id);
/*
 * Set (replace) the mappings of process @pid (0: the caller's) that have
 * tables: @nr entries sorted by address, not overlapping; @nr 0 removes
 * them all.  -EPERM: the caller may not read the process's memory; -ESRCH:
 * no such process.
 */
SWPROF_API int swprof_unwind_maps_set(struct swprof *sw, __u32 pid,
				      const struct swprof_unwind_mapping *maps, __u32 nr);

/* ------------------------------------------------------------------ */
/* Events (netlink): what swprof.ko multicasts to controllers         */

/*
 * swprof.ko multicasts events on the generic netlink family
 * SWPROF_GENL_NAME, group SWPROF_GENL_MCGRP: a target added or exited, a
 * ring above 3/4, records lost, a trace task ended (docs/events.md).  They
 * are hints to act on without polling every ring; the rings stay the
 * record.  Joining the group needs CAP_NET_ADMIN; the family lives in the
 * initial network namespace only.  libnl-3 does the netlink work: link
 * libswprof.a with -lnl-genl-3 -lnl-3 (libswprof.so brings them along).
 */
struct swprof_events;

struct swprof_events_opts {
	size_t sz;		/* sizeof(struct swprof_events_opts) */
	int rcvbuf;		/* socket receive buffer, bytes; 0 = 1 MiB */
};
#define swprof_events_opts__last_field rcvbuf

/*
 * One event.  What the message did not carry reads as 0 or "", and has no
 * bit in attrs.  New fields are only ever appended.
 */
struct swprof_event {
	__u32 cmd;		/* enum swprof_genl_cmd; skip the ones you do not know */
	__u32 attrs;		/* 1U << SWPROF_ATTR_x for each attribute present */
	__u32 pid, tid;		/* in the initial pid namespace */
	__u64 lost;		/* SAMPLES_LOST: records lost so far in that ring */
	__u64 unread;		/* RING_WATERMARK: bytes unread */
	__u64 ring_size;	/* RING_WATERMARK: data bytes of the ring */
	__u32 task;		/* trace task id */
	__u32 admitted;		/* TRACE_TASK_ENDED: segments the task admitted */
	char segment_id[SWPROF_SEGMENT_ID_MAX];	/* NUL-terminated, cut to fit */
	char endpoint[SWPROF_ENDPOINT_MAX];	/* NUL-terminated, cut to fit */
};

/*
 * Subscribe.  -ENOENT: no /dev/swprof and no family (module not loaded);
 * -EOPNOTSUPP: the module is loaded but has no events (older than API 1.1,
 * or a kernel that cannot restrict the group to CAP_NET_ADMIN); -EPERM: no
 * CAP_NET_ADMIN.  opts may be NULL.
 */
SWPROF_API int swprof_events_open(const struct swprof_events_opts *opts,
				  struct swprof_events **out);
SWPROF_API void swprof_events_close(struct swprof_events *ev);
/* The socket, non-blocking: poll()/epoll it for POLLIN, then swprof_events_read(). */
SWPROF_API int swprof_events_fd(const struct swprof_events *ev);

/*
 * Callback of swprof_events_read(): return 0 to go on, a negative errno to
 * stop with that error, a positive value to stop without error.
 */
typedef int (*swprof_event_fn)(void *ctx, const struct swprof_event *ev);

/*
 * Call @fn for each event waiting on the socket, without blocking (at most
 * 1024 messages per call: call again while the fd polls readable).
 * Returns the number of events passed to @fn, or a negative errno:
 *  -ENOBUFS: the socket overflowed and events were lost (rescan the rings,
 *            or open with a larger rcvbuf); reading may go on;
 *  -ENODEV:  the module was unloaded; close, and open again once it is back.
 */
SWPROF_API int swprof_events_read(struct swprof_events *ev, swprof_event_fn fn, void *ctx);

struct nlmsghdr;
/*
 * Parse one message of the swprof family (for callers with a netlink socket
 * of their own; the message type is not checked): 0, or -EBADMSG when it is
 * malformed.  Strings longer than the uapi maximum are cut.
 */
SWPROF_API int swprof_event_parse(const struct nlmsghdr *nlh, struct swprof_event *ev);
/* "target_added", "target_exited", "ring_watermark", "samples_lost", "trace_task_ended" or "unknown". */
SWPROF_API const char *swprof_event_name(unsigned int cmd);

/* ------------------------------------------------------------------ */
/* Polling many targets and groups at once                            */

/*
 * One epoll set over the fds of many targets and groups (libbpf's
 * ring_buffer__new/__add/__poll/__free for swprof rings).  Records go to
 * each target's callback, in ring order, and are consumed; when a target's
 * thread has exited and its ring is drained, the callback gets one last
 * call with a NULL record and the target leaves the poller (free it then,
 * or later).  The poller never frees targets or groups.  One thread polls
 * at a time.
 */
struct swprof_poller;

struct swprof_poller_opts {
	size_t sz;		/* sizeof(struct swprof_poller_opts) */
};
#define swprof_poller_opts__last_field sz

/* struct swprof_group events, for swprof_group_fn */
#define SWPROF_POLL_PENDING	(1U << 0)	/* threads wait for swprof_group_accept() */
#define SWPROF_POLL_HUP		(1U << 1)	/* the process exited; none pending: out of the poller */

/* Return a negative errno to stop swprof_poller_poll() (-ECANCELED), else 0. */
typedef int (*swprof_group_fn)(void *ctx, struct swprof_group *g, unsigned int events);

SWPROF_API int swprof_poller_new(const struct swprof_poller_opts *opts,
				 struct swprof_poller **out);
SWPROF_API void swprof_poller_free(struct swprof_poller *p);
/* The epoll fd: poll it for POLLIN to nest the poller in another loop. */
SWPROF_API int swprof_poller_fd(const struct swprof_poller *p);
SWPROF_API int swprof_poller_add(struct swprof_poller *p, struct swprof_target *t,
				 swprof_rec_fn fn, void *ctx);
SWPROF_API int swprof_poller_add_group(struct swprof_poller *p, struct swprof_group *g,
				       swprof_group_fn fn, void *ctx);
/* -ENOENT when not in the poller. */
SWPROF_API int swprof_poller_remove(struct swprof_poller *p, struct swprof_target *t);
SWPROF_API int swprof_poller_remove_group(struct swprof_poller *p, struct swprof_group *g);
/*
 * Wait up to @timeout_ms (-1 = forever) for ready fds and call the
 * callbacks.  Returns the number of records read, or a negative errno (the
 * first callback error, -EBADMSG for a corrupt ring, -EINTR).
 */
SWPROF_API int swprof_poller_poll(struct swprof_poller *p, int timeout_ms);
/* Read every target now, without waiting (a periodic sweep, the end). */
SWPROF_API int swprof_poller_consume(struct swprof_poller *p);

/* ------------------------------------------------------------------ */
/* Diagnostics                                                        */

enum swprof_log_level {
	SWPROF_LOG_WARN,	/* a call fails: what, on what, why */
	SWPROF_LOG_INFO,
	SWPROF_LOG_DEBUG,
};

typedef void (*swprof_log_fn)(void *ctx, enum swprof_log_level level, const char *msg);

/*
 * Where the library's messages go (one line each, no newline); NULL, the
 * default, drops them: the library never prints on its own.
 */
SWPROF_API void swprof_set_log_fn(swprof_log_fn fn, void *ctx);

/* ------------------------------------------------------------------ */

/* What a (negative or positive) errno from libswprof or swprof.ko means here. */
SWPROF_API const char *swprof_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* SWPROF_LIB_H */
