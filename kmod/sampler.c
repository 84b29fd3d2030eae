// SPDX-License-Identifier: GPL-2.0-only
/*
 * When samples are taken.
 *
 * CPU mode: a sample every period of the target's on-CPU time.  Each
 * target owns a hard, CPU-pinned hrtimer that runs only while the target
 * runs: armed at switch-in on the target's CPU with the time left, cancelled
 * at switch-out (keeping the time left), both from the sched_switch
 * tracepoint.  Its callback therefore interrupts the target itself and
 * captures the stack from the interrupted registers, in the target's own
 * context.
 *
 * OFFCPU mode: at a voluntary switch-out (not a preemption) the stack is
 * taken in the target's context into its snapshot; at switch-in the OFFCPU
 * record goes out with the time it was off CPU and the state it blocked in.
 *
 * WALL mode: a hard hrtimer every period of wall time, on any CPU.  The
 * target running there: the live stack.  Running elsewhere: an IPI to that
 * CPU, which re-checks that the target is current there (else a miss).  Off
 * CPU: the snapshot taken at its last switch-out (blocked or preempted),
 * flagged with that state.
 *
 * sched_process_exit and sched_process_exec report exit and exec in-band,
 * task_rename a thread's new name;
 * sched_process_fork lets process groups follow new threads.  Tracepoints
 * are looked up with for_each_kernel_tracepoint(): their __tracepoint_*
 * symbols are not exported.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/cred.h>
#include <linux/hrtimer.h>
#include <linux/sched/coredump.h>
#include <linux/smp.h>
#include <linux/tracepoint.h>
#include <asm/irq_regs.h>

#include "events.h"
#include "swprof.h"

static enum hrtimer_restart cpu_timer_fn(struct hrtimer *timer)
{
	struct swprof_target *t = container_of(timer, struct swprof_target, timer);
	u64 n;

	if (current != t->task) {
		/* raced with a migration: the next switch-in re-arms it */
		WRITE_ONCE(t->ring.hdr->timer_misses, t->ring.hdr->timer_misses + 1);
		swprof_stats_miss();
		return HRTIMER_NORESTART;
	}
	if (!test_bit(SWPROF_T_ENABLED, &t->state))
		return HRTIMER_NORESTART;
	if (t->ttask && !t->trace_charged) {
		/* a trace segment reached its threshold: now it counts */
		if (!swprof_trace_charge(t)) {
			swprof_trace_target_end(t, SWPROF_TRACE_END_QUOTA);
			return HRTIMER_NORESTART;
		}
		t->trace_charged = true;
	}
	n = hrtimer_forward_now(timer, ns_to_ktime(t->period_ns));
	t->remaining_ns = t->period_ns;
	swprof_emit_sample(t, get_irq_regs(), t->period_ns * (n ? n : 1));
	return HRTIMER_RESTART;
}

/* SWPROF_STATE_* of a task that leaves the CPU with @state (prev_state). */
static u16 state_of(bool preempt, unsigned int state)
{
	if (preempt || state == TASK_RUNNING)
		return SWPROF_STATE_RUNNABLE;
	if (state & TASK_UNINTERRUPTIBLE)
		return SWPROF_STATE_DISK;
	if (state & TASK_INTERRUPTIBLE)
		return SWPROF_STATE_SLEEPING;
	if (state & (__TASK_STOPPED | __TASK_TRACED))
		return SWPROF_STATE_STOPPED;
	return SWPROF_STATE_OTHER;
}

static void trace_full_check(struct swprof_target *t)
{
	if (t->ttask && t->trace_max && READ_ONCE(t->trace_seq) >= t->trace_max &&
	    !test_bit(SWPROF_T_ENDED, &t->state))
		swprof_trace_target_end(t, SWPROF_TRACE_END_MAX_SAMPLES);
}

/* WALL: in the IPI, on the CPU the target was seen running on. */
static void wall_ipi(void *arg)
{
	struct swprof_target *t = arg;

	if (current == t->task && test_bit(SWPROF_T_ENABLED, &t->state))
		swprof_emit_sample(t, get_irq_regs(), t->period_ns);
	else
		WRITE_ONCE(t->ring.hdr->timer_misses, t->ring.hdr->timer_misses + 1);
	atomic_set_release(&t->ipi_busy, 0);
}

static enum hrtimer_restart wall_timer_fn(struct hrtimer *timer)
{
	struct swprof_target *t = container_of(timer, struct swprof_target, timer);
	struct task_struct *task = t->task;
	u64 n;

	if (!test_bit(SWPROF_T_ENABLED, &t->state))
		return HRTIMER_NORESTART;
	if (t->ttask && !t->trace_charged) {
		/* a trace segment reached its threshold: now it counts */
		if (!swprof_trace_charge(t)) {
			swprof_trace_target_end(t, SWPROF_TRACE_END_QUOTA);
			return HRTIMER_NORESTART;
		}
		t->trace_charged = true;
	}
	n = hrtimer_forward_now(timer, ns_to_ktime(t->period_ns));
	if (current == task) {
		swprof_emit_sample(t, get_irq_regs(), t->period_ns * (n ? n : 1));
	} else if (READ_ONCE(task->on_cpu)) {
		/* running elsewhere: sample it there, in its own context */
		bool sent = false;

		if (!atomic_cmpxchg(&t->ipi_busy, 0, 1)) {
			sent = !smp_call_function_single_async(task_cpu(task), &t->csd);
			if (!sent)
				atomic_set_release(&t->ipi_busy, 0);
		}
		if (!sent) {
			/* the previous request is still on its way, or the CPU went away */
			WRITE_ONCE(t->ring.hdr->timer_misses, t->ring.hdr->timer_misses + 1);
			swprof_stats_miss();
		}
	} else {
		swprof_emit_snapshot(t, SWPROF_REC_SAMPLE, t->period_ns * (n ? n : 1),
				     ktime_get_mono_fast_ns(), true);
	}
	trace_full_check(t);
	return test_bit(SWPROF_T_ENABLED, &t->state) ? HRTIMER_RESTART : HRTIMER_NORESTART;
}

void swprof_target_timer_init(struct swprof_target *t)
{
	if (t->mode == SWPROF_MODE_WALL) {
		/* any CPU: it samples a thread that may be anywhere */
		swprof_hrtimer_setup(&t->timer, wall_timer_fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
		INIT_CSD(&t->csd, wall_ipi, t);
	} else {
		swprof_hrtimer_setup(&t->timer, cpu_timer_fn, CLOCK_MONOTONIC,
				     HRTIMER_MODE_REL_PINNED_HARD);
	}
	t->remaining_ns = t->period_ns;
}

/* On the target's CPU with interrupts off, current == t->task. */
static void cpu_arm(struct swprof_target *t)
{
	s64 rem = t->remaining_ns;

	if (rem <= 0 || rem > t->period_ns)
		rem = t->period_ns;
	hrtimer_start(&t->timer, ns_to_ktime(rem), HRTIMER_MODE_REL_PINNED_HARD);
}

static void cpu_switch_in(struct swprof_target *t)
{
	if (t->mode == SWPROF_MODE_CPU && test_bit(SWPROF_T_ENABLED, &t->state))
		cpu_arm(t);
}

static void cpu_switch_out(struct swprof_target *t)
{
	s64 rem;

	if (t->mode != SWPROF_MODE_CPU)
		return;
	rem = ktime_to_ns(hrtimer_expires_remaining(&t->timer));
	if (hrtimer_try_to_cancel(&t->timer) == 1)
		t->remaining_ns = rem > 0 ? rem : 1;
}

/* prev == current: its own context, before the switch. */
static void switch_out(struct swprof_target *t, bool preempt, unsigned int prev_state)
{
	if (!test_bit(SWPROF_T_ENABLED, &t->state))
		return;
	switch (t->mode) {
	case SWPROF_MODE_CPU:
		cpu_switch_out(t);
		break;
	case SWPROF_MODE_OFFCPU:
		/* preemption and yield are not off-CPU time */
		if (preempt || prev_state == TASK_RUNNING)
			WRITE_ONCE(t->snap->valid, false);
		else
			swprof_snapshot_take(t, state_of(preempt, prev_state));
		break;
	case SWPROF_MODE_WALL:
		swprof_snapshot_take(t, state_of(preempt, prev_state));
		break;
	}
}

/* next is about to run on this CPU: nobody else produces for it now. */
static void switch_in(struct swprof_target *t)
{
	struct swprof_snapshot *sn = t->snap;
	u64 now, off;

	switch (t->mode) {
	case SWPROF_MODE_CPU:
		cpu_switch_in(t);
		break;
	case SWPROF_MODE_OFFCPU:
		if (!READ_ONCE(sn->valid) || !test_bit(SWPROF_T_ENABLED, &t->state))
			break;
		now = ktime_get_mono_fast_ns();
		off = now - sn->time_ns;
		if (off >= t->min_block_ns)
			swprof_emit_snapshot(t, SWPROF_REC_OFFCPU, off, now, false);
		WRITE_ONCE(sn->valid, false);
		break;
	case SWPROF_MODE_WALL:
		/* the snapshot no longer describes it */
		WRITE_ONCE(sn->seq, sn->seq + 2);
		WRITE_ONCE(sn->valid, false);
		break;
	}
}

static void probe_sched_switch(void *data, bool preempt, struct task_struct *prev,
			       struct task_struct *next, unsigned int prev_state)
{
	struct swprof_target *t;

	if (!atomic_read(&swprof_nr_targets))
		return;
	swprof_for_each_target(t, prev)
		switch_out(t, preempt, prev_state);
	swprof_for_each_target(t, next)
		switch_in(t);
}

static void stop_sampling_current(struct swprof_target *t)
{
	clear_bit(SWPROF_T_ENABLED, &t->state);
	/* CPU: pinned here, so not running now; WALL: if running elsewhere, it sees !ENABLED */
	hrtimer_try_to_cancel(&t->timer);
}

static void update_state(struct swprof_target *t)
{
	u32 s = 0;

	if (test_bit(SWPROF_T_ENABLED, &t->state))
		s |= SWPROF_TSTATE_ENABLED;
	if (test_bit(SWPROF_T_EXITED, &t->state))
		s |= SWPROF_TSTATE_EXITED;
	if (test_bit(SWPROF_T_DENIED, &t->state))
		s |= SWPROF_TSTATE_DENIED;
	WRITE_ONCE(t->ring.hdr->state, s);
}

static void probe_sched_exit(SWPROF_EXIT_PROTO)
{
	struct swprof_target *t;

	swprof_for_each_target(t, p) {
		struct swprof_event_info info = { .pid = p->tgid, .tid = p->pid };

		if (t->ttask && !test_bit(SWPROF_T_ENDED, &t->state))
			swprof_trace_target_end(t, SWPROF_TRACE_END_EXIT);
		if (test_and_set_bit(SWPROF_T_EXITED, &t->state))
			continue;
		stop_sampling_current(t);
		swprof_emit_exit(t, p);
		update_state(t);
		swprof_target_unhash(t);
		irq_work_queue(&t->wake_work);
		swprof_event(SWPROF_CMD_TARGET_EXITED, &info);
	}
	if (atomic_read(&swprof_nr_groups))
		swprof_group_exit(p);
}

static void probe_sched_fork(void *data, struct task_struct *parent, struct task_struct *child)
{
	if (atomic_read(&swprof_nr_groups))
		swprof_group_fork(parent, child);
}

/*
 * An unprivileged registrar must not keep sampling a thread that exec'd
 * into something it could not have registered (setuid, file caps,
 * undumpable): the same rule ptrace applies.
 */
static bool exec_gained_privilege(struct swprof_target *t, struct task_struct *p)
{
	const struct cred *c = current_cred();

	if (!uid_eq(c->uid, t->reg_euid) || !uid_eq(c->euid, t->reg_euid) ||
	    !uid_eq(c->suid, t->reg_euid) || !gid_eq(c->gid, t->reg_egid) ||
	    !gid_eq(c->egid, t->reg_egid) || !gid_eq(c->sgid, t->reg_egid))
		return true;
	return !p->mm || get_dumpable(p->mm) != SUID_DUMP_USER;
}

static void probe_sched_exec(void *data, struct task_struct *p, pid_t old_pid,
			     struct linux_binprm *bprm)
{
	struct swprof_target *t;
	u16 flags;

	if (!atomic_read(&swprof_nr_targets))
		return;
	swprof_for_each_target(t, p) {
		flags = 0;
		if (!t->ptrace_cap && exec_gained_privilege(t, p)) {
			set_bit(SWPROF_T_DENIED, &t->state);
			stop_sampling_current(t);
			flags |= SWPROF_EXEC_DENIED;
		}
		t->pid_nr = __task_pid_nr_ns(p, PIDTYPE_TGID, t->pid_ns);
		t->tid_nr = __task_pid_nr_ns(p, PIDTYPE_PID, t->pid_ns);
		WRITE_ONCE(t->ring.hdr->pid, t->pid_nr);
		WRITE_ONCE(t->ring.hdr->tid, t->tid_nr);
		swprof_emit_exec(t, p, flags);
		update_state(t);
		if (flags)
			irq_work_queue(&t->wake_work);
	}
}

/*
 * task_rename (prctl(PR_SET_NAME), pthread_setname_np(), a write to
 * /proc/PID/task/TID/comm, exec), under the renamed task's task_lock: its
 * new name goes in-band, so that samples after it are told apart.
 */
static void probe_task_rename(void *data, struct task_struct *task, const char *comm)
{
	struct swprof_target *t;

	if (!atomic_read(&swprof_nr_targets))
		return;
	swprof_for_each_target(t, task)
		if (!test_bit(SWPROF_T_EXITED, &t->state))
			swprof_emit_comm_name(t, comm);
}

/* IPI on the target's CPU: start its CPU timer if it is running there now. */
static void arm_if_running(void *arg)
{
	struct swprof_target *t = arg;

	if (current == t->task && test_bit(SWPROF_T_ENABLED, &t->state) &&
	    !test_bit(SWPROF_T_EXITED, &t->state) && t->mode == SWPROF_MODE_CPU)
		cpu_arm(t);
}

int swprof_target_enable(struct swprof_target *t)
{
	if (test_bit(SWPROF_T_DENIED, &t->state))
		return -EPERM;
	if (test_bit(SWPROF_T_EXITED, &t->state))
		return -ESRCH;
	if (test_and_set_bit(SWPROF_T_ENABLED, &t->state))
		return 0;
	update_state(t);
	smp_mb__after_atomic();
	switch (t->mode) {
	case SWPROF_MODE_CPU:
		/*
		 * A target that is switched out gets its timer at its next
		 * switch-in; one running now (maybe spinning, never switching)
		 * gets it here.
		 */
		smp_call_function_single(task_cpu(t->task), arm_if_running, t, 1);
		break;
	case SWPROF_MODE_WALL:
		swprof_wall_start(t, t->period_ns);
		break;
	}
	return 0;
}

/* WALL: first sample after @first_ns, then one every period. */
void swprof_wall_start(struct swprof_target *t, u64 first_ns)
{
	hrtimer_start(&t->timer, ns_to_ktime(first_ns), HRTIMER_MODE_REL_HARD);
}

void swprof_target_disable(struct swprof_target *t)
{
	clear_bit(SWPROF_T_ENABLED, &t->state);
	update_state(t);
	/* the timer stops at its next expiry or switch-out */
	if (t->mode == SWPROF_MODE_WALL)
		hrtimer_try_to_cancel(&t->timer);
}

void swprof_target_update_state(struct swprof_target *t)
{
	update_state(t);
}

/* The fd is gone: no new arming after this; the timer is cancelled after a grace period. */
void swprof_target_stop(struct swprof_target *t)
{
	clear_bit(SWPROF_T_ENABLED, &t->state);
	set_bit(SWPROF_T_DEAD, &t->state);
}

static struct {
	const char *name;
	void *probe;
	struct tracepoint *tp;
} swprof_tps[] = {
	{ "sched_switch", probe_sched_switch },
	{ "sched_process_exit", probe_sched_exit },
	{ "sched_process_exec", probe_sched_exec },
	{ "sched_process_fork", probe_sched_fork },
	{ "task_rename", probe_task_rename },
};

static void find_tracepoint(struct tracepoint *tp, void *priv)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(swprof_tps); i++)
		if (!strcmp(tp->name, swprof_tps[i].name))
			swprof_tps[i].tp = tp;
}

int swprof_sampler_init(void)
{
	unsigned int i;
	int err;

	for_each_kernel_tracepoint(find_tracepoint, NULL);
	for (i = 0; i < ARRAY_SIZE(swprof_tps); i++) {
		if (!swprof_tps[i].tp) {
			pr_err("tracepoint %s not found in this kernel\n", swprof_tps[i].name);
			err = -ENOENT;
			goto fail;
		}
		err = tracepoint_probe_register(swprof_tps[i].tp, swprof_tps[i].probe, NULL);
		if (err) {
			pr_err("cannot attach to tracepoint %s: %d\n", swprof_tps[i].name, err);
			goto fail;
		}
	}
	return 0;
fail:
	while (i--)
		tracepoint_probe_unregister(swprof_tps[i].tp, swprof_tps[i].probe, NULL);
	tracepoint_synchronize_unregister();
	return err;
}

void swprof_sampler_exit(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(swprof_tps); i++)
		tracepoint_probe_unregister(swprof_tps[i].tp, swprof_tps[i].probe, NULL);
	tracepoint_synchronize_unregister();
}
