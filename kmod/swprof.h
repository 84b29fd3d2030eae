/* SPDX-License-Identifier: GPL-2.0-only */
/* swprof.ko internals shared between the module's files. */
#ifndef SWPROF_INTERNAL_H
#define SWPROF_INTERNAL_H

#include <linux/hrtimer.h>
#include <linux/irq_work.h>
#include <linux/list.h>
#include <linux/pid_namespace.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/swprof.h>

#include "kcompat.h"

/* Module parameters (main.c). */
extern unsigned long swprof_default_period_ns;
extern unsigned int swprof_default_ring_size;
extern unsigned int swprof_max_ring_size;
extern unsigned int swprof_mem_limit_mb;
extern unsigned int swprof_max_targets;
extern unsigned int swprof_default_depth;
extern bool swprof_cost_stats;

/* Per open of /dev/swprof. */
struct swprof_file {
	bool kstack_cap;	/* CAP_PERFMON or CAP_SYS_ADMIN at open */
	bool ptrace_cap;	/* CAP_SYS_PTRACE at open */
};

/*
 * One ring: page 0 header (RO to userspace), page 1 consumer (RW), then the
 * data pages mapped twice in a row in one vmap() area, so a record that
 * runs past the end of the data continues at its start without a split.
 */
struct swprof_ring {
	struct page **pages;		/* 2 + nr_data, each once */
	unsigned int nr_data;
	void *base;			/* vmap of header, consumer, data, data */
	struct swprof_ring_header *hdr;
	struct swprof_ring_consumer *cons;
	u8 *data;
	u64 size;			/* data bytes, power of two */
	u64 prod;			/* producer position, private copy */
	u64 next_seq;
	u64 lost_first;			/* first seq of the pending lost range */
	u64 lost_count;			/* dropped, LOST record not yet written */
	u32 wakeup_bytes;
	bool wm_armed;			/* RING_WATERMARK may be sent */
	bool lost_armed;		/* SAMPLES_LOST may be sent */
};

/* swprof_target.state bits */
enum {
	SWPROF_T_ENABLED,
	SWPROF_T_EXITED,
	SWPROF_T_DENIED,
	SWPROF_T_DEAD,		/* fd released, waiting for a grace period */
	SWPROF_T_HASHED,
	SWPROF_T_ENDED,		/* trace segment ended */
};

/*
 * The stack a thread had when it last left the CPU (OFFCPU, WALL), taken
 * in its own context at switch-out.  seq is odd while it is being written
 * and changes at every switch-out and switch-in, so a reader on another
 * CPU can tell whether its copy is whole and still current.
 */
struct swprof_snapshot {
	unsigned int seq;
	bool valid;		/* taken at the last switch-out, thread still off CPU */
	u16 state;		/* SWPROF_STATE_* */
	u32 flags;		/* SWPROF_SAMPLE_* */
	u16 nk, nu;
	u32 raw;
	u64 time_ns;		/* CLOCK_MONOTONIC of the switch-out */
	u64 data[];		/* ips[nk + nu], then regs and raw bytes when raw */
};

/* What a new target is made of: from an attr, a process group or a trace session. */
struct swprof_target_params {
	u32 mode;
	u32 flags;		/* SWPROF_TARGET_* (PROCESS excluded) */
	u64 period_ns;
	u16 kdepth, udepth;
	u32 ring_size;
	u32 raw_size;
	u32 wakeup_bytes;
	u64 min_block_ns;
	bool ptrace_cap;
	kuid_t reg_euid;
	kgid_t reg_egid;
	struct pid_namespace *pid_ns;	/* borrowed: the new target takes its own reference */
};

struct swprof_group;
struct swprof_ttask;
struct swprof_target {
	struct hlist_node hnode;	/* swprof_hash, keyed by task */
	struct task_struct *task;	/* reference held */
	struct pid_namespace *pid_ns;	/* the registrar's, reference held */
	unsigned long state;
	u32 mode;
	u32 flags;			/* SWPROF_TARGET_* accepted */
	u64 period_ns;
	u16 kdepth;
	u16 udepth;
	u32 raw_size;
	pid_t pid_nr;			/* in pid_ns */
	pid_t tid_nr;
	bool ptrace_cap;		/* registrar may follow privileged execs */
	kuid_t reg_euid;
	kgid_t reg_egid;

	atomic_t busy;			/* producer nesting guard */
	s64 remaining_ns;		/* CPU mode: time to the next sample */
	struct hrtimer timer;		/* CPU: pinned, runs while on CPU; WALL: every period */
	u64 min_block_ns;		/* OFFCPU */
	struct swprof_snapshot *snap;	/* OFFCPU, WALL */
	call_single_data_t csd;		/* WALL: sample on the CPU the target runs on */
	atomic_t ipi_busy;

	struct swprof_group *group;	/* the group it belongs to, if any (reference held) */
	struct list_head gnode;		/* in group->pending */
	struct swprof_ttask *ttask; /* trace segments (reference held) */
	struct list_head tnode;		/* in ttask->targets */
	u32 trace_seq;
	u32 trace_max;			/* samples at most; 0 = no limit */
	bool trace_charged;		/* counted against max_sampling_count */
	struct irq_work wake_work;
	wait_queue_head_t wq;
	struct swprof_ring ring;
	u64 mem;			/* bytes charged to the global limit */
	struct rcu_work free_rwork;
};

/* target.c */
int swprof_register(struct swprof_file *sf, void __user *uattr);
struct swprof_target *swprof_target_new(const struct swprof_target_params *p,
					struct task_struct *task, int *err);
void swprof_target_hash(struct swprof_target *t);
void swprof_target_destroy(struct swprof_target *t);
int swprof_target_install_fd(struct swprof_target *t);
struct file *swprof_target_file(struct swprof_target *t);
int swprof_params_from_attr(struct swprof_file *sf, struct swprof_target_attr *a,
			    struct swprof_target_params *p);
bool swprof_may_sample(bool ptrace_cap, kuid_t euid, kgid_t egid, struct task_struct *task);
int swprof_check_out_size(void __user *uarg);
int swprof_copy_out(void __user *uarg, void *kbuf, size_t ksize);
int swprof_copy_in(void *kbuf, size_t ksize, size_t minsize, const void __user *uarg);
struct swprof_target *swprof_hash_first(struct task_struct *task);
struct swprof_target *swprof_hash_next(struct swprof_target *t, struct task_struct *task);
void swprof_target_unhash(struct swprof_target *t);
extern atomic_t swprof_nr_targets;
extern atomic64_t swprof_mem_used;
int swprof_targets_init(void);
void swprof_targets_exit(void);

#define swprof_for_each_target(t, task) \
	for (t = swprof_hash_first(task); t; t = swprof_hash_next(t, task))

/* ring.c */
int swprof_ring_alloc(struct swprof_ring *r, u64 size);
void swprof_ring_free(struct swprof_ring *r);
int swprof_ring_mmap(struct swprof_ring *r, struct vm_area_struct *vma);
void *swprof_ring_reserve(struct swprof_ring *r, u32 size);
void swprof_ring_commit(struct swprof_target *t, void *rec, u32 type, u16 flags, u32 size);
void swprof_ring_commit_at(struct swprof_target *t, void *rec, u32 type, u16 flags, u32 size,
			   u64 time_ns);
void swprof_ring_drop(struct swprof_target *t);
u64 swprof_ring_unread(struct swprof_ring *r);

/* group.c */
int swprof_register_process(struct swprof_file *sf, struct swprof_target_params *p, u32 pid);
void swprof_group_fork(struct task_struct *parent, struct task_struct *child);
void swprof_group_exit(struct task_struct *p);
void swprof_group_add_pending(struct swprof_group *g, struct swprof_target *t);
struct swprof_group *swprof_group_new(u32 kind, const struct swprof_target_params *p);
void swprof_group_get(struct swprof_group *g);
void swprof_group_put(struct swprof_group *g);
int swprof_group_install_fd(struct swprof_group *g, const char *name);
void *swprof_group_session(struct swprof_group *g);
const struct swprof_target_params *swprof_group_params(const struct swprof_group *g);
void swprof_group_set_session(struct swprof_group *g, void *session);
extern atomic_t swprof_nr_groups;
int swprof_groups_init(void);
void swprof_groups_exit(void);

/* trace.c */
int swprof_trace_session(struct swprof_file *sf, void __user *uarg);
int swprof_trace_begin(struct swprof_file *sf, void __user *uarg);
int swprof_trace_end(void);
void swprof_trace_target_end(struct swprof_target *t, u32 reason);
bool swprof_trace_charge(struct swprof_target *t);
void swprof_trace_task_put(struct swprof_ttask *tt);
void swprof_session_release(struct swprof_group *g);
long swprof_session_ioctl(struct swprof_group *g, unsigned int cmd, void __user *uarg);
u32 swprof_trace_task_id(const struct swprof_ttask *tt);
void swprof_traces_exit(void);

/* sampler.c */
int swprof_sampler_init(void);
void swprof_sampler_exit(void);
void swprof_target_timer_init(struct swprof_target *t);
int swprof_target_enable(struct swprof_target *t);
void swprof_target_disable(struct swprof_target *t);
void swprof_target_stop(struct swprof_target *t);
void swprof_wall_start(struct swprof_target *t, u64 first_ns);
void swprof_target_update_state(struct swprof_target *t);

/* unwind.c */
u32 swprof_capture(struct swprof_target *t, struct pt_regs *regs, bool from_here, u64 *ips,
		   u16 *nk_out, u16 *nu_out, u32 *raw_out);

/* emit.c */
void swprof_emit_sample(struct swprof_target *t, struct pt_regs *regs, u64 period_ns);
void swprof_snapshot_take(struct swprof_target *t, u16 state);
bool swprof_emit_snapshot(struct swprof_target *t, u32 type, u64 period_ns, u64 time_ns,
			  bool remote);
size_t swprof_snapshot_size(const struct swprof_target *t);
bool swprof_emit_begin(struct swprof_target *t, unsigned long *irqflags);
void swprof_emit_begin_wait(struct swprof_target *t, unsigned long *irqflags);
void swprof_emit_end(struct swprof_target *t, unsigned long irqflags);
void swprof_emit_exit(struct swprof_target *t, struct task_struct *task);
void swprof_emit_exec(struct swprof_target *t, struct task_struct *task, u16 flags);
void swprof_emit_comm(struct swprof_target *t, struct task_struct *task);
void swprof_emit_comm_name(struct swprof_target *t, const char *name);
void swprof_emit_trace_begin(struct swprof_target *t, const char *segment_id, u64 real_ns);
void swprof_emit_trace_end(struct swprof_target *t, u32 reason);

/* stats.c */
void swprof_stats_sample(bool written, u64 cost_ns);
void swprof_stats_lost(void);
void swprof_stats_miss(void);
void swprof_stats_fill(struct swprof_global_stats *gs);
void swprof_stats_reset(void);
unsigned int swprof_cost_bucket(u64 ns);

#endif
