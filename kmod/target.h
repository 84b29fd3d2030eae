/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A target (target.c): one registered thread, its ring, its timer, its fd.
 * Other files reach its fields; its life (creation, hashing, enabling,
 * stopping, freeing) goes through the functions below.
 */
#ifndef SWPROF_TARGET_H
#define SWPROF_TARGET_H

#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/workqueue.h>
#include <linux/swprof.h>

#include "ring.h"
#include "unwind.h"

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

struct swprof_target;

/*
 * A target's kind, given by whoever makes it: what runs when its timer
 * fires and in its WALL IPI (sampler.c), and what its maker undoes when it
 * goes (a trace segment: session.c).
 */
struct swprof_target_ops {
	enum hrtimer_restart (*tick)(struct hrtimer *timer);
	smp_call_func_t ipi;				/* WALL */
	void (*destroy)(struct swprof_target *t);	/* its fd is gone */
	void (*free)(struct swprof_target *t);		/* a grace period later */
};

/* What the opener of /dev/swprof may ask for (SWPROF_CAP_*). */
struct swprof_caps {
	bool kstack;		/* CAP_PERFMON or CAP_SYS_ADMIN at open */
	bool ptrace;		/* CAP_SYS_PTRACE at open */
};

/* What a new target is made of: from an attr, a process group or a trace session. */
struct swprof_target_params {
	const struct swprof_target_ops *ops;
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

struct swprof_ttask;
struct swprof_target {
	struct hlist_node hnode;	/* swprof_hash, keyed by task */
	struct task_struct *task;	/* reference held */
	struct pid_namespace *pid_ns;	/* the registrar's, reference held */
	const struct swprof_target_ops *ops;
	unsigned long state;
	u32 mode;
	u64 period_ns;
	struct swprof_stack_cfg stack;
	pid_t pid_nr;			/* in pid_ns */
	pid_t tid_nr;
	bool ptrace_cap;		/* registrar may follow privileged execs */
	kuid_t reg_euid;
	kgid_t reg_egid;

	atomic_t busy;			/* producer nesting guard (emit.c) */
	s64 remaining_ns;		/* CPU mode: time to the next sample */
	struct hrtimer timer;		/* CPU: pinned, runs while on CPU; WALL: every period */
	u64 min_block_ns;		/* OFFCPU */
	struct swprof_snapshot *snap;	/* OFFCPU, WALL */
	call_single_data_t csd;		/* WALL: sample on the CPU the target runs on */
	atomic_t ipi_busy;

	/* process groups (group.c) */
	u64 group_id;			/* the group it belongs to; 0 = none */
	struct list_head gnode;		/* in the group's pending list */
	/* trace segments (session.c) */
	struct swprof_ttask *ttask;	/* reference held */
	u32 trace_task;			/* its id, in samples and events; 0 = none */
	struct list_head tnode;		/* in ttask->targets */
	u32 trace_seq;
	u32 trace_max;			/* samples at most; 0 = no limit */
	bool trace_charged;		/* counted against max_sampling_count */

	struct swprof_ring ring;
	u64 mem;			/* bytes charged to the global limit */
	struct rcu_work free_rwork;
};

extern atomic_t swprof_nr_targets;

int swprof_target_params_from_attr(const struct swprof_caps *caps, struct swprof_target_attr *a,
				   struct swprof_target_params *p);
bool swprof_may_sample(bool ptrace_cap, kuid_t euid, kgid_t egid, struct task_struct *task);
struct mm_struct *swprof_process_mm(const struct swprof_caps *caps, u32 pid, int *err);
bool swprof_target_exec_denied(struct swprof_target *t, struct task_struct *p);
struct swprof_target *swprof_target_new(const struct swprof_target_params *p,
					struct task_struct *task, int *err);
int swprof_target_register(const struct swprof_target_params *p, u32 tid, bool enable);
void swprof_target_hash(struct swprof_target *t);
void swprof_target_unhash(struct swprof_target *t);
struct swprof_target *swprof_hash_first(struct task_struct *task);
struct swprof_target *swprof_hash_next(struct swprof_target *t, struct task_struct *task);
int swprof_target_fd(struct swprof_target *t, struct file **reserved);
int swprof_target_enable(struct swprof_target *t);
void swprof_target_disable(struct swprof_target *t);
void swprof_target_start(struct swprof_target *t, u64 first_ns);
void swprof_target_arm(struct swprof_target *t);
void swprof_target_stop(struct swprof_target *t);
void swprof_target_update_state(struct swprof_target *t);
void swprof_target_set_ids(struct swprof_target *t, struct task_struct *task);
void swprof_target_destroy(struct swprof_target *t);
int swprof_targets_init(void);
void swprof_targets_exit(void);

/* Callers hold rcu_read_lock() or run with preemption disabled. */
#define swprof_for_each_target(t, task) \
	for (t = swprof_hash_first(task); t; t = swprof_hash_next(t, task))

#endif
