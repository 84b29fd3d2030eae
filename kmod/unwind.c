// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stack capture, always in the target's own context: kernel frames with the
 * kernel's unwinder (ORC on Debian), user frames by frame pointers with
 * nofault copies, and optionally a raw copy of the top of the user stack
 * with the user registers for userspace to unwind with .eh_frame.
 *
 * Nothing here sleeps, allocates or takes mmap_lock: it runs in hardirq
 * and scheduler context.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/string.h>
#include <linux/sched/clock.h>
#include <linux/sched/task_stack.h>
#include <linux/uaccess.h>
#include <asm/unwind.h>

#include "events.h"
#include "swprof.h"

bool swprof_emit_begin(struct swprof_target *t, unsigned long *irqflags)
{
	local_irq_save(*irqflags);
	if (atomic_cmpxchg(&t->busy, 0, 1) != 0) {
		local_irq_restore(*irqflags);
		return false;
	}
	return true;
}

/*
 * For records that must not be dropped for contention (EXIT, EXEC, COMM,
 * TRACE_END): the other producer is a sample being written on another CPU,
 * which takes microseconds.
 */
void swprof_emit_begin_wait(struct swprof_target *t, unsigned long *irqflags)
{
	local_irq_save(*irqflags);
	while (atomic_cmpxchg(&t->busy, 0, 1) != 0)
		cpu_relax();
}

void swprof_emit_end(struct swprof_target *t, unsigned long irqflags)
{
	atomic_set_release(&t->busy, 0);
	local_irq_restore(irqflags);
}

/* From the interrupted registers; NULL: from the caller's frame (scheduler hooks). */
static unsigned int kstack_capture(struct pt_regs *regs, u64 *ips, unsigned int max,
				   u32 *flags)
{
	struct unwind_state state;
	unsigned long addr;
	unsigned int n = 0;

	if (!max)
		return 0;
	if (!regs) {
		/* skip this function and the tracepoint glue above the scheduler */
		for (unwind_start(&state, current, NULL, __builtin_frame_address(0));
		     !unwind_done(&state); unwind_next_frame(&state)) {
			addr = unwind_get_return_address(&state);
			if (!addr)
				break;
			if (!n && within_module(addr, THIS_MODULE))
				continue;
			if (n == max) {
				*flags |= SWPROF_SAMPLE_KTRUNC;
				break;
			}
			ips[n++] = addr;
		}
		return n;
	}
	ips[n++] = regs->ip;
	/* ORC skips the regs frame itself: the loop starts at the caller */
	for (unwind_start(&state, current, regs, NULL); !unwind_done(&state);
	     unwind_next_frame(&state)) {
		addr = unwind_get_return_address(&state);
		if (!addr)
			break;
		if (n == 1 && addr == regs->ip)
			continue;
		if (n == max) {
			*flags |= SWPROF_SAMPLE_KTRUNC;
			break;
		}
		ips[n++] = addr;
	}
	return n;
}

struct user_frame {
	unsigned long next_fp;
	unsigned long ret;
};

/*
 * Frame-pointer walk.  Every step must move strictly up the stack, so a
 * corrupt chain ends the walk instead of looping; a fault ends it too.
 */
static unsigned int ustack_capture(struct pt_regs *uregs, u64 *ips, unsigned int max,
				   u32 *flags)
{
	unsigned long fp = uregs->bp, sp = uregs->sp;
	struct user_frame frame;
	unsigned int n = 0;

	if (!max)
		return 0;
	ips[n++] = uregs->ip;
	while (fp && !(fp & 7) && fp >= sp) {
		if (copy_from_user_nofault(&frame, (void __user *)fp, sizeof(frame))) {
			*flags |= SWPROF_SAMPLE_UFAULT;
			break;
		}
		if (!frame.ret)
			break;
		if (n == max) {
			*flags |= SWPROF_SAMPLE_UTRUNC;
			break;
		}
		ips[n++] = frame.ret;
		if (frame.next_fp <= fp) {
			if (frame.next_fp)
				*flags |= SWPROF_SAMPLE_UBADFP;
			break;
		}
		fp = frame.next_fp;
	}
	return n;
}

/* x86-64 DWARF register order, see SWPROF_UREGS_NR. */
static void uregs_save(struct pt_regs *r, u64 *out)
{
	out[0] = r->ax;  out[1] = r->dx;  out[2] = r->cx;  out[3] = r->bx;
	out[4] = r->si;  out[5] = r->di;  out[6] = r->bp;  out[7] = r->sp;
	out[8] = r->r8;  out[9] = r->r9;  out[10] = r->r10; out[11] = r->r11;
	out[12] = r->r12; out[13] = r->r13; out[14] = r->r14; out[15] = r->r15;
	out[16] = r->ip;
}

/* Copy up to @size bytes from the user stack pointer, page by page, stopping at a fault. */
static u32 raw_stack_copy(unsigned long sp, u8 *dst, u32 size)
{
	u32 done = 0, chunk;

	while (done < size) {
		chunk = min_t(u32, size - done, PAGE_SIZE - ((sp + done) & ~PAGE_MASK));
		if (copy_from_user_nofault(dst + done, (void __user *)(sp + done), chunk))
			break;
		done += chunk;
	}
	return done;
}

/*
 * Capture current's stacks into @ips (room for kdepth + udepth frames, then
 * the regs and raw bytes).  Returns the sample flags; sets *nk, *nu, *raw.
 */
static u32 capture(struct swprof_target *t, struct pt_regs *regs, bool from_here, u64 *ips,
		   u16 *nk_out, u16 *nu_out, u32 *raw_out)
{
	unsigned int nk = 0, nu = 0;
	struct pt_regs *uregs = NULL;
	u32 flags = 0, raw = 0;
	bool user = regs && user_mode(regs);

	if (user)
		flags |= SWPROF_SAMPLE_USER_MODE;
	if ((regs || from_here) && !user && (t->flags & SWPROF_TARGET_KSTACK))
		nk = kstack_capture(regs, ips, t->kdepth, &flags);
	if (current->mm && !(current->flags & PF_KTHREAD)) {
		uregs = user ? regs : task_pt_regs(current);
		if (!user_64bit_mode(uregs))
			uregs = NULL;
	}
	if (uregs && (t->flags & SWPROF_TARGET_USTACK))
		nu = ustack_capture(uregs, ips + nk, t->udepth, &flags);
	if (uregs && t->raw_size) {
		u64 *regs_out = ips + nk + nu;

		uregs_save(uregs, regs_out);
		raw = raw_stack_copy(uregs->sp, (u8 *)(regs_out + SWPROF_UREGS_NR), t->raw_size);
		if (raw < t->raw_size)
			flags |= SWPROF_SAMPLE_RAW_FAULT;
	}
	*nk_out = nk;
	*nu_out = nu;
	*raw_out = raw;
	return flags;
}

static void count_flags(struct swprof_ring *r, u32 flags)
{
	WRITE_ONCE(r->hdr->samples, r->hdr->samples + 1);
	if (flags & SWPROF_SAMPLE_UFAULT)
		WRITE_ONCE(r->hdr->faults, r->hdr->faults + 1);
	if (flags & SWPROF_SAMPLE_KTRUNC)
		WRITE_ONCE(r->hdr->ktrunc, r->hdr->ktrunc + 1);
	if (flags & SWPROF_SAMPLE_UTRUNC)
		WRITE_ONCE(r->hdr->utrunc, r->hdr->utrunc + 1);
}

static u32 sample_size(u16 nk, u16 nu, u32 raw)
{
	u32 size = sizeof(struct swprof_sample) + 8 * (nk + nu);

	if (raw)
		size += 8 * SWPROF_UREGS_NR + round_up(raw, 8);
	return size;
}

static u32 sample_max(const struct swprof_target *t)
{
	u32 max = sizeof(struct swprof_sample) + 8 * (t->kdepth + t->udepth);

	if (t->raw_size)
		max += 8 * SWPROF_UREGS_NR + t->raw_size;
	return max;
}

size_t swprof_snapshot_size(const struct swprof_target *t)
{
	return sizeof(struct swprof_snapshot) + sample_max(t) - sizeof(struct swprof_sample);
}

/* Fill the trace fields of a sample of a trace segment; false: the segment is full. */
static bool trace_fields(struct swprof_target *t, struct swprof_sample *s)
{
	if (!t->ttask) {
		s->trace_task = 0;
		s->trace_seq = 0;
		return true;
	}
	if (t->trace_max && t->trace_seq >= t->trace_max)
		return false;
	s->trace_task = swprof_trace_task_id(t->ttask);
	s->trace_seq = t->trace_seq;
	return true;
}

/*
 * Write one SAMPLE record for current (== t->task).  @regs are the
 * interrupted registers (NULL when none are known, e.g. at switch-out).
 */
void swprof_emit_sample(struct swprof_target *t, struct pt_regs *regs, u64 period_ns)
{
	struct swprof_ring *r = &t->ring;
	u64 start = swprof_cost_stats ? local_clock() : 0;
	struct swprof_sample *s;
	unsigned long irqflags;
	bool written = false;
	u16 nk, nu;
	u32 flags, raw;

	if (!swprof_emit_begin(t, &irqflags)) {
		swprof_stats_miss();
		return;
	}
	if (test_bit(SWPROF_T_ENDED, &t->state) || test_bit(SWPROF_T_EXITED, &t->state))
		goto out;
	s = swprof_ring_reserve(r, sample_max(t));
	if (!s) {
		swprof_ring_drop(t);
		goto out;
	}
	if (!trace_fields(t, s))
		goto out;
	flags = capture(t, regs, false, s->data, &nk, &nu, &raw);
	s->cpu = raw_smp_processor_id();
	s->pid = t->pid_nr;
	s->tid = t->tid_nr;
	s->flags = flags;
	s->nr_kernel = nk;
	s->nr_user = nu;
	s->raw_size = raw;
	s->period_ns = period_ns;
	swprof_ring_commit(t, s, SWPROF_REC_SAMPLE, SWPROF_STATE_RUNNING, sample_size(nk, nu, raw));
	if (t->ttask)
		t->trace_seq++;
	count_flags(r, flags);
	written = true;
out:
	swprof_emit_end(t, irqflags);
	swprof_stats_sample(written, start ? local_clock() - start : U64_MAX);
}

/*
 * At switch-out, in the target's own context: keep its stack for the
 * OFFCPU record at switch-in, or for WALL samples while it is off CPU.
 */
void swprof_snapshot_take(struct swprof_target *t, u16 state)
{
	struct swprof_snapshot *sn = t->snap;
	u32 raw;

	WRITE_ONCE(sn->seq, sn->seq + 1);	/* odd: being written */
	smp_wmb();
	sn->flags = capture(t, NULL, true, sn->data, &sn->nk, &sn->nu, &raw) |
		    SWPROF_SAMPLE_SNAPSHOT;
	sn->raw = raw;
	sn->state = state;
	sn->time_ns = ktime_get_mono_fast_ns();
	sn->valid = true;
	smp_wmb();
	WRITE_ONCE(sn->seq, sn->seq + 1);
}

/*
 * A SAMPLE or OFFCPU record from the snapshot.  @remote: we are not in the
 * target's context (a WALL tick on another CPU): the snapshot may change
 * under us, so the copy is checked against its seq before it is published.
 */
bool swprof_emit_snapshot(struct swprof_target *t, u32 type, u64 period_ns, u64 time_ns,
			  bool remote)
{
	struct swprof_snapshot *sn = t->snap;
	struct swprof_ring *r = &t->ring;
	u64 start = swprof_cost_stats ? local_clock() : 0;
	struct swprof_sample *s;
	unsigned long irqflags;
	unsigned int seq;
	bool written = false;
	u16 nk, nu, state;
	u32 raw, flags;

	if (!swprof_emit_begin(t, &irqflags)) {
		swprof_stats_miss();
		return false;
	}
	if (test_bit(SWPROF_T_ENDED, &t->state) || test_bit(SWPROF_T_EXITED, &t->state))
		goto out;
	seq = READ_ONCE(sn->seq);
	smp_rmb();
	if ((seq & 1) || !READ_ONCE(sn->valid))
		goto miss;
	nk = READ_ONCE(sn->nk);
	nu = READ_ONCE(sn->nu);
	raw = READ_ONCE(sn->raw);
	flags = READ_ONCE(sn->flags);
	state = READ_ONCE(sn->state);
	if (nk > t->kdepth || nu > t->udepth || raw > t->raw_size)
		goto miss;
	s = swprof_ring_reserve(r, sample_max(t));
	if (!s) {
		swprof_ring_drop(t);
		goto out;
	}
	if (!trace_fields(t, s))
		goto out;
	memcpy(s->data, sn->data, 8 * (nk + nu) + (raw ? 8 * SWPROF_UREGS_NR + raw : 0));
	smp_rmb();
	if (remote && READ_ONCE(sn->seq) != seq)
		goto miss;	/* it ran meanwhile: this copy may be torn; nothing published */
	s->cpu = raw_smp_processor_id();
	s->pid = t->pid_nr;
	s->tid = t->tid_nr;
	s->flags = flags;
	s->nr_kernel = nk;
	s->nr_user = nu;
	s->raw_size = raw;
	s->period_ns = period_ns;
	swprof_ring_commit_at(t, s, type, state, sample_size(nk, nu, raw), time_ns);
	if (t->ttask)
		t->trace_seq++;
	count_flags(r, flags);
	written = true;
	goto out;
miss:
	WRITE_ONCE(r->hdr->timer_misses, r->hdr->timer_misses + 1);
	swprof_stats_miss();
out:
	swprof_emit_end(t, irqflags);
	swprof_stats_sample(written, start ? local_clock() - start : U64_MAX);
	return written;
}

void swprof_emit_exit(struct swprof_target *t, struct task_struct *task)
{
	struct swprof_exit *e;
	unsigned long irqflags;

	swprof_emit_begin_wait(t, &irqflags);
	e = swprof_ring_reserve(&t->ring, sizeof(*e));
	if (e) {
		e->pid = t->pid_nr;
		e->tid = t->tid_nr;
		e->exit_code = task->exit_code;
		e->__pad = 0;
		swprof_ring_commit(t, e, SWPROF_REC_EXIT, 0, sizeof(*e));
	} else {
		swprof_ring_drop(t);
	}
	swprof_emit_end(t, irqflags);
}

void swprof_emit_exec(struct swprof_target *t, struct task_struct *task, u16 flags)
{
	struct swprof_exec *e;
	unsigned long irqflags;

	swprof_emit_begin_wait(t, &irqflags);
	e = swprof_ring_reserve(&t->ring, sizeof(*e));
	if (e) {
		e->pid = t->pid_nr;
		e->tid = t->tid_nr;
		/* current's own comm: nobody else renames it while it execs */
		memcpy(e->comm, task->comm, sizeof(e->comm));
		e->comm[sizeof(e->comm) - 1] = '\0';
		swprof_ring_commit(t, e, SWPROF_REC_EXEC, flags, sizeof(*e));
	} else {
		swprof_ring_drop(t);
	}
	swprof_emit_end(t, irqflags);
}

/* A thread's name, first record of a thread attached through a group. */
void swprof_emit_comm(struct swprof_target *t, struct task_struct *task)
{
	struct swprof_comm *c;
	unsigned long irqflags;

	swprof_emit_begin_wait(t, &irqflags);
	c = swprof_ring_reserve(&t->ring, sizeof(*c));
	if (c) {
		c->pid = t->pid_nr;
		c->tid = t->tid_nr;
		__get_task_comm(c->comm, sizeof(c->comm), task);
		swprof_ring_commit(t, c, SWPROF_REC_COMM, 0, sizeof(*c));
	} else {
		swprof_ring_drop(t);
	}
	swprof_emit_end(t, irqflags);
}

void swprof_emit_trace_begin(struct swprof_target *t, const char *segment_id, u64 real_ns)
{
	struct swprof_trace_rec *b;
	unsigned long irqflags;

	swprof_emit_begin_wait(t, &irqflags);
	b = swprof_ring_reserve(&t->ring, sizeof(*b));
	if (b) {
		memset(b, 0, sizeof(*b));
		b->task = swprof_trace_task_id(t->ttask);
		b->pid = t->pid_nr;
		b->tid = t->tid_nr;
		b->begin_realtime_ns = real_ns;
		b->begin_ns = ktime_get_mono_fast_ns();
		strscpy(b->segment_id, segment_id, sizeof(b->segment_id));
		swprof_ring_commit(t, b, SWPROF_REC_TRACE_BEGIN, 0, sizeof(*b));
	} else {
		swprof_ring_drop(t);
	}
	swprof_emit_end(t, irqflags);
}

void swprof_emit_trace_end(struct swprof_target *t, u32 reason)
{
	struct swprof_trace_end *e;
	unsigned long irqflags;

	swprof_emit_begin_wait(t, &irqflags);
	e = swprof_ring_reserve(&t->ring, sizeof(*e));
	if (e) {
		e->task = swprof_trace_task_id(t->ttask);
		e->reason = reason;
		e->samples = t->trace_seq;
		e->__pad = 0;
		e->end_realtime_ns = ktime_get_real_fast_ns();
		swprof_ring_commit(t, e, SWPROF_REC_TRACE_END, 0, sizeof(*e));
	} else {
		swprof_ring_drop(t);
	}
	swprof_emit_end(t, irqflags);
}
