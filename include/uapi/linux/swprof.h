/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * swprof: sample the stacks of registered threads into per-thread rings.
 *
 * This header is the only contract between swprof.ko and userspace.
 * See docs/uapi.md for the full description; the rules in short:
 *
 *  - Every ioctl argument is a struct whose first field is its size in
 *    bytes.  The kernel accepts smaller (older) structs, zero-filling the
 *    missing tail, and larger (newer) ones only if the extra bytes are
 *    zero, else E2BIG.  Unknown flag bits, unknown enum values and non-zero
 *    reserved fields are EINVAL; unknown commands are ENOTTY.
 *  - Output structs are written up to the size the caller passed.
 *  - Pointers are carried as __u64.  All integers are native-endian.
 *
 * Records in a ring are 8-byte aligned and start with struct swprof_rec.
 */
#ifndef _UAPI_LINUX_SWPROF_H
#define _UAPI_LINUX_SWPROF_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define SWPROF_DEVICE		"/dev/swprof"

#define SWPROF_API_MAJOR	1
#define SWPROF_API_MINOR	2

/* Ring format version, in struct swprof_ring_header.version. */
#define SWPROF_RING_VERSION	2	/* 2: swprof_sample.trace_task/trace_seq (API 1.1) */

/* Feature bits reported by SWPROF_IOC_VERSION. */
#define SWPROF_FEAT_MODE_CPU	(1ULL << 0)	/* SWPROF_MODE_CPU */
#define SWPROF_FEAT_KSTACK	(1ULL << 1)	/* kernel stacks (privileged) */
#define SWPROF_FEAT_USTACK_FP	(1ULL << 2)	/* user stacks, frame pointers */
#define SWPROF_FEAT_RAW_STACK	(1ULL << 3)	/* raw user stack + regs */
#define SWPROF_FEAT_COST_STATS	(1ULL << 4)	/* per-sample cost histogram */
#define SWPROF_FEAT_MODE_OFFCPU	(1ULL << 5)	/* SWPROF_MODE_OFFCPU (1.1) */
#define SWPROF_FEAT_MODE_WALL	(1ULL << 6)	/* SWPROF_MODE_WALL (1.1) */
#define SWPROF_FEAT_PROCESS	(1ULL << 7)	/* SWPROF_TARGET_PROCESS, group fds (1.1) */
#define SWPROF_FEAT_TRACE	(1ULL << 8)	/* trace sessions and trace_begin/end (1.1) */
#define SWPROF_FEAT_EVENTS	(1ULL << 9)	/* generic netlink family "swprof" (1.1) */
#define SWPROF_FEAT_UNWIND_TABLES (1ULL << 10)	/* user stacks by unwind tables (1.2) */

/* Limits, also reported by SWPROF_IOC_VERSION (module parameters may lower them). */
#define SWPROF_MAX_DEPTH	512		/* kernel or user frames */
#define SWPROF_MAX_RAW_STACK	65536		/* bytes of raw user stack */
#define SWPROF_MIN_PERIOD_NS	100000ULL	/* 10 kHz */
#define SWPROF_MAX_UNWIND_ROWS	(1U << 22)	/* rows per unwind table (1.2) */
#define SWPROF_MAX_UNWIND_MAPS	1024		/* mappings per process (1.2) */

/* -------------------------------------------------------------------- */
/* ioctls on the /dev/swprof fd                                          */

struct swprof_version {
	__u32 size;		/* in: sizeof(struct swprof_version) */
	__u16 major;		/* out: SWPROF_API_MAJOR */
	__u16 minor;		/* out: SWPROF_API_MINOR */
	__u64 features;		/* out: SWPROF_FEAT_* */
	__u32 ring_version;	/* out: SWPROF_RING_VERSION */
	__u32 max_depth;	/* out: frames per stack accepted */
	__u32 max_raw_stack;	/* out: bytes of raw stack accepted */
	__u32 max_targets;	/* out: registered targets at most */
	__u64 min_period_ns;	/* out */
	__u64 max_ring_size;	/* out: bytes of data per ring at most */
	__u64 mem_limit;	/* out: bytes of ring memory for all targets */
	__u64 mem_used;		/* out: bytes of ring memory in use */
	__u32 nr_targets;	/* out: targets registered now (all openers) */
	__u32 caps;		/* out: SWPROF_CAP_* of this open file */
};

/* struct swprof_version.caps: what this opener may ask for. */
#define SWPROF_CAP_KSTACK	(1U << 0)	/* CAP_PERFMON or CAP_SYS_ADMIN at open */
#define SWPROF_CAP_PTRACE	(1U << 1)	/* CAP_SYS_PTRACE at open */

enum swprof_mode {
	SWPROF_MODE_CPU		= 0,	/* a sample every period of on-CPU time */
	SWPROF_MODE_OFFCPU	= 1,	/* one OFFCPU record per voluntary block */
	SWPROF_MODE_WALL	= 2,	/* a sample every period of wall time, whatever the state */
};

/* struct swprof_target_attr.flags */
#define SWPROF_TARGET_KSTACK	(1U << 0)	/* capture kernel stacks (privileged) */
#define SWPROF_TARGET_USTACK	(1U << 1)	/* capture user stacks (frame pointers) */
#define SWPROF_TARGET_ENABLE	(1U << 2)	/* start sampling at once */
/*
 * tid is a process id: every thread of the process now and every thread it
 * creates later, each with a ring of its own.  The ioctl then returns a
 * group fd; SWPROF_IOC_ACCEPT on it hands out one target fd per thread.
 */
#define SWPROF_TARGET_PROCESS	(1U << 3)
/* At least one of KSTACK, USTACK or a raw_stack_size must be asked for (else EINVAL). */
#define SWPROF_TARGET_FLAGS_ALL	(SWPROF_TARGET_KSTACK | SWPROF_TARGET_USTACK | \
				 SWPROF_TARGET_ENABLE | SWPROF_TARGET_PROCESS)

struct swprof_target_attr {
	__u32 size;		/* sizeof(struct swprof_target_attr) */
	__u32 flags;		/* SWPROF_TARGET_* */
	__u32 tid;		/* thread, in the caller's pid namespace; 0 = caller */
	__u32 mode;		/* enum swprof_mode */
	__u64 period_ns;	/* sampling period, >= min_period_ns; 0 = module default */
	__u16 max_kernel_depth;	/* 0 = module default; <= max_depth */
	__u16 max_user_depth;	/* 0 = module default; <= max_depth */
	__u32 ring_size;	/* data bytes, power of two >= page size; 0 = default */
	__u32 raw_stack_size;	/* bytes of user stack copied per sample, multiple of 8; 0 = none */
	__u32 wakeup_bytes;	/* poll() ready once this many bytes are unread; 0 = any */
	/* API 1.1; a 1.0 caller's struct ends here (48 bytes) and reads as 0 */
	__u64 min_block_ns;	/* OFFCPU: blocks shorter than this are not recorded */
};

#define SWPROF_TARGET_ATTR_SIZE_VER0	48

/* -------------------------------------------------------------------- */
/* Global statistics (SWPROF_IOC_GLOBAL_STATS on /dev/swprof).          */

/*
 * Per-sample cost histogram: bucket i counts samples whose capture took
 * [lower(i), lower(i+1)) ns.  Buckets are log-linear: for i < 8 lower(i)=i*8;
 * above, 4 sub-buckets per power of two (see docs/uapi.md, swprof_cost_bucket_ns()
 * in libswprof).
 */
#define SWPROF_COST_BUCKETS	128

struct swprof_global_stats {
	__u32 size;
	__u32 nr_targets;
	__u64 samples;		/* records written, all rings */
	__u64 lost;		/* records dropped, all rings */
	__u64 timer_misses;	/* timer fired while the target was not current */
	__u64 mem_used;
	__u64 cost_count;	/* samples timed */
	__u64 cost_total_ns;
	__u64 cost_hist[SWPROF_COST_BUCKETS];
};

#define SWPROF_IOC_MAGIC	0xB6

/* /dev/swprof fd */
#define SWPROF_IOC_VERSION	_IOWR(SWPROF_IOC_MAGIC, 0x00, struct swprof_version)
/*
 * Returns a new O_CLOEXEC fd for the target; close = unregister.  ENOSPC:
 * the max_targets or mem_limit_mb module limit is reached.
 */
#define SWPROF_IOC_REGISTER	_IOW(SWPROF_IOC_MAGIC, 0x01, struct swprof_target_attr)
#define SWPROF_IOC_GLOBAL_STATS	_IOWR(SWPROF_IOC_MAGIC, 0x02, struct swprof_global_stats)
/* zero the cost histogram (CAP_SYS_ADMIN or CAP_PERFMON) */
#define SWPROF_IOC_RESET_STATS	_IO(SWPROF_IOC_MAGIC, 0x03)
/* returns a new O_CLOEXEC trace session fd (API 1.1) */
#define SWPROF_IOC_TRACE_SESSION _IOW(SWPROF_IOC_MAGIC, 0x04, struct swprof_trace_session_attr)
/*
 * The calling thread starts a traced request (API 1.1).  0: admitted, sampled
 * in WALL mode into the session from min_duration on; ENOENT: no running task
 * for this endpoint that the session's owner may sample; EDQUOT: the task's
 * max_sampling_count is reached; EBUSY: its max_parallel is reached;
 * EALREADY: this thread is in a segment.  A segment counts against
 * max_sampling_count when its first sample is due (it reached the
 * threshold), as SkyWalking's agents count: fast requests cost nothing; one
 * that reaches the threshold after the count is spent ends (TRACE_END
 * reason QUOTA) without samples.
 */
#define SWPROF_IOC_TRACE_BEGIN	_IOWR(SWPROF_IOC_MAGIC, 0x05, struct swprof_trace_begin)
/* The calling thread's traced request ended.  ENOENT: it was not admitted. */
#define SWPROF_IOC_TRACE_END	_IO(SWPROF_IOC_MAGIC, 0x06)
/*
 * Unwind tables (API 1.2, see below).  TABLE_ADD: a table owned by this
 * open file, returned by id (ENOSPC: mem_limit_mb; E2BIG: more than
 * SWPROF_MAX_UNWIND_ROWS rows).  TABLE_FREE: the id is gone at once, the
 * table once no process's mappings use it (ENOENT: no such id).  MAPS: set
 * or replace (nr_maps 0: remove) the mappings of a process whose memory the
 * caller may read (EPERM otherwise; ESRCH: no such process).
 */
#define SWPROF_IOC_UNWIND_TABLE_ADD  _IOWR(SWPROF_IOC_MAGIC, 0x07, struct swprof_unwind_table)
#define SWPROF_IOC_UNWIND_TABLE_FREE _IOW(SWPROF_IOC_MAGIC, 0x08, struct swprof_unwind_ref)
#define SWPROF_IOC_UNWIND_MAPS	     _IOW(SWPROF_IOC_MAGIC, 0x09, struct swprof_unwind_maps)

/* -------------------------------------------------------------------- */
/* Unwind tables (API 1.2)                                               */

/*
 * A user walk of a target with SWPROF_TARGET_USTACK, in a process whose
 * mappings were given unwind tables, takes each frame by the table row that
 * covers its address (rows compiled from .eh_frame, or .debug_frame, by
 * userspace), and by frame pointers where no table or row applies
 * (SWPROF_CFA_NONE).  The return address is always at CFA - 8 (the x86-64
 * call); rows where it is not are compiled as SWPROF_CFA_NONE.  Nothing else
 * changes in the records: the frames are return addresses as before.
 */
enum swprof_cfa_kind {
	SWPROF_CFA_NONE	= 0,	/* no rule: this frame by frame pointer */
	SWPROF_CFA_SP	= 1,	/* CFA = rsp + cfa_off */
	SWPROF_CFA_BP	= 2,	/* CFA = rbp + cfa_off */
	SWPROF_CFA_PLT	= 3,	/* PLT entry: CFA = rsp + 8, + 8 when (rip & 15) >= 11 */
	SWPROF_CFA_END	= 4,	/* outermost frame (return address undefined): stack complete */
};

enum swprof_bp_rule {
	SWPROF_BP_SAME	= 0,	/* the caller's rbp is this frame's rbp */
	SWPROF_BP_CFA	= 1,	/* the caller's rbp is saved at CFA + bp_off */
};

/* A row covers [pc, next row's pc); the last row must be SWPROF_CFA_NONE or END. */
struct swprof_unwind_row {
	__u32 pc;		/* in the table's address space (ELF virtual addresses) */
	__s32 cfa_off;
	__u8 cfa;		/* enum swprof_cfa_kind */
	__u8 bp;		/* enum swprof_bp_rule */
	__s16 bp_off;		/* SWPROF_BP_CFA: multiple of 8; else 0 */
};

struct swprof_unwind_table {
	__u32 size;
	__u32 flags;		/* must be 0 */
	__u32 id;		/* out: >= 1, valid on this open file */
	__u32 nr_rows;		/* 1 .. SWPROF_MAX_UNWIND_ROWS */
	__u64 rows;		/* struct swprof_unwind_row[nr_rows], pc strictly increasing */
};

struct swprof_unwind_ref {
	__u32 size;
	__u32 id;
};

/* Addresses in [start, end) use table @table at address - bias. */
struct swprof_unwind_mapping {
	__u64 start;
	__u64 end;
	__u64 bias;
	__u32 table;		/* an id of this open file */
	__u32 __pad;		/* must be 0 */
};

struct swprof_unwind_maps {
	__u32 size;
	__u32 flags;		/* must be 0 */
	__u32 pid;		/* a process, in the caller's pid namespace; 0 = caller */
	__u32 nr_maps;		/* 0 = remove; <= SWPROF_MAX_UNWIND_MAPS */
	__u64 maps;		/* struct swprof_unwind_mapping[nr_maps], sorted, not overlapping */
};

/* -------------------------------------------------------------------- */
/* Trace sessions (API 1.1): the controller's side of trace profiling    */

#define SWPROF_ENDPOINT_MAX	256	/* bytes, NUL included */
#define SWPROF_SEGMENT_ID_MAX	128	/* bytes, NUL included */

/*
 * SWPROF_IOC_TRACE_SESSION on /dev/swprof returns a session fd, a group fd
 * like a process's: every admitted segment becomes a target (WALL mode, its
 * own ring) handed out by SWPROF_IOC_ACCEPT.  Only threads the session's
 * owner may sample (same user, or the owner has CAP_SYS_PTRACE) are admitted.
 */
struct swprof_trace_session_attr {
	__u32 size;
	__u32 flags;		/* SWPROF_TARGET_KSTACK, SWPROF_TARGET_USTACK */
	__u32 ring_size;	/* per segment; 0 = 64 KiB */
	__u32 raw_stack_size;
	__u16 max_kernel_depth;
	__u16 max_user_depth;
	__u32 __reserved;	/* must be 0 */
};

/* A trace-profiling task (SkyWalking's ProfileTask), added on a session fd. */
struct swprof_trace_task {
	__u32 size;
	__u32 flags;		/* must be 0 */
	__u32 id;		/* out: the task's id in the module, >= 1 */
	__u32 max_sampling_count; /* segments admitted over the task's life, >= 1 */
	__u32 max_parallel;	/* segments sampled at once, >= 1 */
	__u32 max_samples;	/* per segment; 0 = no limit but the task's end */
	__u64 start_ns;		/* CLOCK_REALTIME: admission window start */
	__u64 end_ns;		/* ... and end; sampling of its segments stops then */
	__u64 min_duration_ns;	/* sampling of a segment starts this long after its begin */
	__u64 dump_period_ns;	/* WALL period, >= 10 ms */
	char endpoint[SWPROF_ENDPOINT_MAX];	/* exact match, NUL-terminated */
};

/* Names a task (SWPROF_IOC_TRACE_TASK_END). */
struct swprof_trace_task_ref {
	__u32 size;
	__u32 id;
};

/* Output, but id is read too: of the input, size and id. */
struct swprof_trace_task_stats {
	__u32 size;
	__u32 id;		/* in */
	__u32 admitted;		/* segments charged: sampled at least once (reached the threshold) */
	__u32 active;		/* being sampled now */
	__u64 refused_count;	/* begins refused, or segments ended at the threshold: max_sampling_count reached */
	__u64 refused_parallel;	/* begins refused: max_parallel reached */
	__u32 ended;		/* 1 once the task ended (end time or SWPROF_IOC_TRACE_TASK_END) */
	__u32 __pad;
};

/* The integrator's side: on any /dev/swprof fd, for the calling thread. */
struct swprof_trace_begin {
	__u32 size;
	__u32 flags;		/* must be 0 */
	__u32 task;		/* out: id of the task that admitted the segment */
	__u32 __reserved;	/* must be 0 */
	char endpoint[SWPROF_ENDPOINT_MAX];	/* NUL-terminated */
	char segment_id[SWPROF_SEGMENT_ID_MAX];	/* NUL-terminated, non-empty */
};

/* -------------------------------------------------------------------- */
/* Group fds (a process, API 1.1, or a trace session)                    */

struct swprof_accept {
	__u32 size;
	__u32 flags;		/* must be 0 */
	__s32 fd;		/* out: the new target fd (O_CLOEXEC) */
	__u32 tid;		/* out */
	__u32 pid;		/* out */
	__u32 __pad;
};

struct swprof_group_stats {
	__u32 size;
	__u32 state;		/* SWPROF_GSTATE_* */
	__u32 pid;		/* process groups: the process; sessions: 0 */
	__u32 pending;		/* targets waiting for SWPROF_IOC_ACCEPT */
	__u64 attached;		/* threads (segments) attached so far */
	__u64 missed;		/* threads not followed: memory or target limits */
};

#define SWPROF_GSTATE_EXITED	(1U << 0)	/* every thread of the process exited */

/* -------------------------------------------------------------------- */
/* Target fd                                                             */

struct swprof_target_stats {
	__u32 size;
	__u32 tid;		/* in the registrar's pid namespace */
	__u32 pid;
	__u32 flags;		/* SWPROF_TSTATE_* */
	__u64 samples;		/* SAMPLE records written */
	__u64 lost;		/* records dropped because the ring was full */
	__u64 faults;		/* user stack reads that faulted */
	__u64 ktrunc;		/* kernel stacks cut at max depth */
	__u64 utrunc;		/* user stacks cut at max depth */
	__u64 timer_misses;	/* timer fired while the target was elsewhere */
	__u64 ring_size;
	__u64 unread;		/* bytes produced and not yet consumed */
	/* API 1.2; older callers' struct ends here (88 bytes) */
	__u64 uincomplete;	/* user stacks flagged SWPROF_SAMPLE_UINCOMPLETE */
};

/* struct swprof_target_stats.flags and struct swprof_ring_header.state */
#define SWPROF_TSTATE_ENABLED	(1U << 0)
#define SWPROF_TSTATE_EXITED	(1U << 1)	/* the thread exited; EXIT record written or lost */
#define SWPROF_TSTATE_DENIED	(1U << 2)	/* stopped: exec gained privileges */

#define SWPROF_IOC_ENABLE	_IO(SWPROF_IOC_MAGIC, 0x10)
#define SWPROF_IOC_DISABLE	_IO(SWPROF_IOC_MAGIC, 0x11)
#define SWPROF_IOC_TARGET_STATS	_IOWR(SWPROF_IOC_MAGIC, 0x12, struct swprof_target_stats)

/* Group fds (API 1.1).  ACCEPT: EAGAIN when no target is pending. */
#define SWPROF_IOC_ACCEPT	_IOWR(SWPROF_IOC_MAGIC, 0x20, struct swprof_accept)
#define SWPROF_IOC_GROUP_STATS	_IOWR(SWPROF_IOC_MAGIC, 0x21, struct swprof_group_stats)
/* Session fds (API 1.1). */
#define SWPROF_IOC_TRACE_TASK_ADD _IOWR(SWPROF_IOC_MAGIC, 0x30, struct swprof_trace_task)
/* end a task now: its segments get a TRACE_END record */
#define SWPROF_IOC_TRACE_TASK_END _IOW(SWPROF_IOC_MAGIC, 0x31, struct swprof_trace_task_ref)
#define SWPROF_IOC_TRACE_TASK_STATS _IOWR(SWPROF_IOC_MAGIC, 0x32, struct swprof_trace_task_stats)

/*
 * mmap of a target fd (offsets from the header page, which is page 0):
 *   [0, page)                          struct swprof_ring_header, read-only
 *   [consumer_offset, +page)           struct swprof_ring_consumer, read-write
 *   [data_offset, +2 * data_size)      data, read-only, mapped twice in a row
 *                                      so that no record is ever split
 * Each region must be mapped on its own (or header + data read-only in one go
 * when they are adjacent: they are not, the consumer page sits between).
 */
struct swprof_ring_header {
	__u32 version;		/* SWPROF_RING_VERSION */
	__u32 header_size;	/* sizeof(struct swprof_ring_header) */
	__u64 data_offset;	/* mmap offset of the data */
	__u64 data_size;	/* bytes, power of two */
	__u64 consumer_offset;	/* mmap offset of the consumer page */
	__u32 tid;		/* as in swprof_target_stats */
	__u32 pid;
	__u32 mode;
	__u32 state;		/* SWPROF_TSTATE_* */
	__u64 period_ns;
	/* counters, updated by the producer without ordering guarantees */
	__u64 samples;
	__u64 lost;
	__u64 faults;
	__u64 ktrunc;
	__u64 utrunc;
	__u64 timer_misses;
	__u64 lost_pending;	/* dropped, not yet reported by a LOST record */
	__u64 uincomplete;	/* samples with SWPROF_SAMPLE_UINCOMPLETE (1.2) */
	__u64 __reserved[15];
	/* producer position in bytes, written with release semantics */
	__u64 producer_pos __attribute__((aligned(64)));
};

struct swprof_ring_consumer {
	__u64 consumer_pos;	/* bytes consumed; store with release semantics */
};

/* -------------------------------------------------------------------- */
/* Records                                                               */

enum swprof_rec_type {
	SWPROF_REC_SAMPLE	= 1,	/* struct swprof_sample */
	SWPROF_REC_LOST		= 2,	/* struct swprof_lost */
	SWPROF_REC_EXIT		= 3,	/* struct swprof_exit */
	SWPROF_REC_EXEC		= 4,	/* struct swprof_exec */
	SWPROF_REC_OFFCPU	= 5,	/* struct swprof_sample: one voluntary block (1.1) */
	SWPROF_REC_COMM		= 6,	/* struct swprof_comm: a thread's name (1.1) */
	SWPROF_REC_TRACE_BEGIN	= 7,	/* struct swprof_trace_rec: a traced segment starts (1.1) */
	SWPROF_REC_TRACE_END	= 8,	/* struct swprof_trace_end: ... ends (1.1) */
};

/*
 * struct swprof_rec.flags of SAMPLE and OFFCPU records: the thread's state
 * when the stack was taken (OFFCPU: the state it blocked in).
 */
enum swprof_task_state {
	SWPROF_STATE_RUNNING	= 0,	/* on a CPU */
	SWPROF_STATE_RUNNABLE	= 1,	/* preempted, waiting for a CPU (WALL) */
	SWPROF_STATE_SLEEPING	= 2,	/* S: interruptible sleep */
	SWPROF_STATE_DISK	= 3,	/* D: uninterruptible sleep */
	SWPROF_STATE_STOPPED	= 4,	/* T/t: stopped or traced */
	SWPROF_STATE_OTHER	= 5,
};

struct swprof_rec {
	__u32 size;		/* whole record, multiple of 8 */
	__u16 type;		/* enum swprof_rec_type */
	__u16 flags;		/* per type */
	__u64 seq;		/* per ring, from 0, +1 per record; LOST does not take one */
	__u64 time_ns;		/* CLOCK_MONOTONIC */
};

/* struct swprof_sample.flags */
#define SWPROF_SAMPLE_KTRUNC	(1U << 0)	/* kernel stack cut at max depth */
#define SWPROF_SAMPLE_UTRUNC	(1U << 1)	/* user stack cut at max depth */
#define SWPROF_SAMPLE_UFAULT	(1U << 2)	/* user walk stopped on a fault */
#define SWPROF_SAMPLE_USER_MODE	(1U << 3)	/* interrupted in user mode */
#define SWPROF_SAMPLE_RAW_FAULT	(1U << 4)	/* raw copy shorter than asked: fault */
#define SWPROF_SAMPLE_UBADFP	(1U << 5)	/* user walk stopped: frame pointer went backwards */
#define SWPROF_SAMPLE_SNAPSHOT	(1U << 6)	/* WALL: stack taken at the last switch-out */
#define SWPROF_SAMPLE_UTABLE	(1U << 7)	/* user walk used unwind tables (1.2) */
/*
 * The user walk stopped before the outermost frame: a frame with neither a
 * table row nor a frame pointer that moves up the stack, a fault, or the
 * depth limit (1.2; counted in uincomplete).  A walk that ends at an END row,
 * a zero return address or a zero frame pointer is complete.
 */
#define SWPROF_SAMPLE_UINCOMPLETE (1U << 8)

/*
 * x86-64 user registers in DWARF register order, saved with a raw stack:
 * rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip.
 */
#define SWPROF_UREGS_NR		17
#define SWPROF_UREG_BP		6
#define SWPROF_UREG_SP		7
#define SWPROF_UREG_IP		16

struct swprof_sample {
	struct swprof_rec hdr;	/* type SWPROF_REC_SAMPLE or SWPROF_REC_OFFCPU; flags: state */
	__u32 cpu;
	__u32 pid;
	__u32 tid;
	__u32 flags;		/* SWPROF_SAMPLE_* */
	__u16 nr_kernel;	/* kernel frames, leaf first */
	__u16 nr_user;		/* user frames, leaf first */
	__u32 raw_size;		/* bytes of raw stack after the regs; 0 = no regs either */
	/*
	 * SAMPLE: time this sample stands for (the period, times the periods
	 * elapsed if the timer fired late).  OFFCPU: time off CPU; the block
	 * began at hdr.time_ns - period_ns.
	 */
	__u64 period_ns;
	__u32 trace_task;	/* trace segments: the task id; else 0 */
	__u32 trace_seq;	/* trace segments: 0, 1, 2... per segment, no gaps */
	/*
	 * Then: __u64 ips[nr_kernel + nr_user];
	 * then, if raw_size: __u64 regs[SWPROF_UREGS_NR]; __u8 stack[raw_size]
	 * (the bytes at regs[SWPROF_UREG_SP]), padded to 8 bytes.
	 */
	__u64 data[];
};

struct swprof_lost {
	struct swprof_rec hdr;	/* type SWPROF_REC_LOST; hdr.seq = first_seq */
	__u64 count;		/* records dropped */
	__u64 first_seq;	/* seq of the first dropped record */
	__u64 last_seq;		/* seq of the last one */
};

struct swprof_exit {
	struct swprof_rec hdr;	/* type SWPROF_REC_EXIT */
	__u32 pid;
	__u32 tid;
	__s32 exit_code;	/* task->exit_code */
	__u32 __pad;
};

#define SWPROF_COMM_LEN		16

/* struct swprof_exec.hdr.flags */
#define SWPROF_EXEC_DENIED	(1U << 0)	/* sampling stopped: the new image is privileged */

struct swprof_exec {
	struct swprof_rec hdr;	/* type SWPROF_REC_EXEC */
	__u32 pid;
	__u32 tid;		/* may change: an exec from a non-leader thread takes the pid */
	char comm[SWPROF_COMM_LEN];
};

/*
 * A thread's name (1.1): the first record of a thread attached through a
 * group, and, for every target, the new name each time the thread is
 * renamed (prctl(PR_SET_NAME), /proc/PID/task/TID/comm, and exec, where it
 * comes before the EXEC record).  Samples after it carry that name.
 */
struct swprof_comm {
	struct swprof_rec hdr;	/* type SWPROF_REC_COMM */
	__u32 pid;
	__u32 tid;
	char comm[SWPROF_COMM_LEN];
};

/* First record of a trace segment's ring (1.1). */
struct swprof_trace_rec {
	struct swprof_rec hdr;	/* type SWPROF_REC_TRACE_BEGIN */
	__u32 task;		/* task id */
	__u32 pid;
	__u32 tid;
	__u32 __pad;
	__u64 begin_realtime_ns; /* CLOCK_REALTIME at trace_begin */
	__u64 begin_ns;		/* CLOCK_MONOTONIC at trace_begin */
	char segment_id[SWPROF_SEGMENT_ID_MAX];
};

/* struct swprof_trace_end.reason */
enum swprof_trace_end_reason {
	SWPROF_TRACE_END_CALLED		= 0,	/* the thread called trace_end */
	SWPROF_TRACE_END_TASK		= 1,	/* the task ended */
	SWPROF_TRACE_END_MAX_SAMPLES	= 2,	/* the per-segment maximum was reached */
	SWPROF_TRACE_END_EXIT		= 3,	/* the thread exited */
	SWPROF_TRACE_END_SESSION	= 4,	/* the session was closed */
	SWPROF_TRACE_END_QUOTA		= 5,	/* reached the threshold after max_sampling_count was spent */
};

struct swprof_trace_end {
	struct swprof_rec hdr;	/* type SWPROF_REC_TRACE_END */
	__u32 task;
	__u32 reason;		/* enum swprof_trace_end_reason */
	__u32 samples;		/* trace_seq of the next sample there would have been */
	__u32 __pad;
	__u64 end_realtime_ns;
};

/* -------------------------------------------------------------------- */
/* Events: generic netlink family SWPROF_GENL_NAME, multicast group      */
/* SWPROF_GENL_MCGRP (API 1.1).                                          */

#define SWPROF_GENL_NAME	"swprof"
#define SWPROF_GENL_VERSION	1
#define SWPROF_GENL_MCGRP	"events"

enum swprof_genl_cmd {
	SWPROF_CMD_UNSPEC,
	SWPROF_CMD_TARGET_ADDED,	/* an integrator registered itself or was admitted */
	SWPROF_CMD_TARGET_EXITED,	/* a registered thread exited */
	SWPROF_CMD_RING_WATERMARK,	/* a ring is more than 3/4 full */
	SWPROF_CMD_SAMPLES_LOST,	/* a ring dropped records (once per burst) */
	SWPROF_CMD_TRACE_TASK_ENDED,	/* a trace task ended */
	__SWPROF_CMD_MAX,
};

enum swprof_genl_attr {
	SWPROF_ATTR_UNSPEC,
	SWPROF_ATTR_PID,		/* u32, in the init pid namespace */
	SWPROF_ATTR_TID,		/* u32, in the init pid namespace */
	SWPROF_ATTR_LOST,		/* u64: records lost so far in that ring */
	SWPROF_ATTR_UNREAD,		/* u64: bytes unread */
	SWPROF_ATTR_RING_SIZE,		/* u64 */
	SWPROF_ATTR_TASK,		/* u32: trace task id */
	SWPROF_ATTR_SEGMENT_ID,		/* string */
	SWPROF_ATTR_ENDPOINT,		/* string */
	SWPROF_ATTR_ADMITTED,		/* u32: segments a task admitted */
	__SWPROF_ATTR_MAX,
};
#define SWPROF_ATTR_MAX (__SWPROF_ATTR_MAX - 1)

#endif /* _UAPI_LINUX_SWPROF_H */
