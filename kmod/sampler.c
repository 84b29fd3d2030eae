// SPDX-License-Identifier: GPL-2.0-only
/*
 * When samples are taken.
 *
 * CPU mode: a sample every period of the target's on-CPU time.  Each
 * target owns a hard, CPU-pinned hrtimer that runs only while the target
 * runs: armed at switch-in on the target's CPU with the time left, cancelled
 * at switch-out (keeping the time left), both from the sched_switch
 * tracepoint (hooks.c).  Its callback therefore interrupts the target
 * itself and captures the stack from the interrupted registers, in the
 * target's own context.
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
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hrtimer.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/ktime.h>
#include <asm/irq_regs.h>

#include "emit.h"
#include "sampler.h"
#include "target.h"

static enum hrtimer_restart cpu_tick(struct hrtimer *timer)
{
	struct swprof_target *t = container_of(timer, struct swprof_target, timer);
	u64 n;

	if (current != t->task) {
		/* raced with a migration: the next switch-in re-arms it */
		swprof_emit_miss(t);
		return HRTIMER_NORESTART;
	}
	if (!test_bit(SWPROF_T_ENABLED, &t->state))
		return HRTIMER_NORESTART;
	n = hrtimer_forward_now(timer, ns_to_ktime(t->period_ns));
	t->remaining_ns = t->period_ns;
	swprof_emit_sample(t, get_irq_regs(), t->period_ns * (n ? n : 1));
	return HRTIMER_RESTART;
}

/* WALL: in the IPI, on the CPU the target was seen running on. */
void swprof_sampler_wall_ipi(void *arg)
{
	struct swprof_target *t = arg;

	if (current == t->task && test_bit(SWPROF_T_ENABLED, &t->state))
		swprof_emit_sample(t, get_irq_regs(), t->period_ns);
	else
		swprof_emit_miss(t);
	atomic_set_release(&t->ipi_busy, 0);
}

/*
 * One WALL period is over, the target is enabled: sample it where it is,
 * and move the timer to the next period.
 */
void swprof_sampler_wall_tick(struct swprof_target *t)
{
	struct task_struct *task = t->task;
	u64 n;

	n = hrtimer_forward_now(&t->timer, ns_to_ktime(t->period_ns));
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
		/* the previous request is still on its way, or the CPU went away */
		if (!sent)
			swprof_emit_miss(t);
	} else {
		swprof_emit_snapshot(t, SWPROF_REC_SAMPLE, t->period_ns * (n ? n : 1),
				     ktime_get_mono_fast_ns(), true);
	}
}

static enum hrtimer_restart wall_tick(struct hrtimer *timer)
{
	struct swprof_target *t = container_of(timer, struct swprof_target, timer);

	if (!test_bit(SWPROF_T_ENABLED, &t->state))
		return HRTIMER_NORESTART;
	swprof_sampler_wall_tick(t);
	return test_bit(SWPROF_T_ENABLED, &t->state) ? HRTIMER_RESTART : HRTIMER_NORESTART;
}

/* OFFCPU targets never start their timer; it is set up like a CPU one. */
static const struct swprof_target_ops cpu_ops = { .tick = cpu_tick };
static const struct swprof_target_ops wall_ops = {
	.tick = wall_tick,
	.ipi = swprof_sampler_wall_ipi,
};

/* The kind of a target registered in @mode (params checked it). */
const struct swprof_target_ops *swprof_sampler_ops(u32 mode)
{
	return mode == SWPROF_MODE_WALL ? &wall_ops : &cpu_ops;
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

static void cpu_switch_out(struct swprof_target *t)
{
	s64 rem;

	rem = ktime_to_ns(hrtimer_expires_remaining(&t->timer));
	if (hrtimer_try_to_cancel(&t->timer) == 1)
		t->remaining_ns = rem > 0 ? rem : 1;
}

/* prev == current: its own context, before the switch. */
void swprof_sampler_switch_out(struct swprof_target *t, bool preempt, unsigned int prev_state)
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
void swprof_sampler_switch_in(struct swprof_target *t)
{
	struct swprof_snapshot *sn = t->snap;
	u64 now, off;

	switch (t->mode) {
	case SWPROF_MODE_CPU:
		if (test_bit(SWPROF_T_ENABLED, &t->state))
			swprof_target_arm(t);
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
