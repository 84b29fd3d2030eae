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

#include <linux/ptrace.h>
#include <linux/sched/clock.h>
#include <linux/sched/task_stack.h>
#include <linux/uaccess.h>
#include <asm/unwind.h>

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

void swprof_emit_end(struct swprof_target *t, unsigned long irqflags)
{
	atomic_set_release(&t->busy, 0);
	local_irq_restore(irqflags);
}

static unsigned int kstack_capture(struct pt_regs *regs, u64 *ips, unsigned int max,
				   u32 *flags)
{
	struct unwind_state state;
	unsigned long addr;
	unsigned int n = 0;

	if (!max)
		return 0;
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
 * Write one SAMPLE record for current (== t->task).  @regs are the
 * interrupted registers (NULL when none are known, e.g. at switch-out).
 */
void swprof_emit_sample(struct swprof_target *t, struct pt_regs *regs, u64 period_ns)
{
	struct swprof_ring *r = &t->ring;
	u64 start = swprof_cost_stats ? local_clock() : 0;
	unsigned int nk = 0, nu = 0;
	struct swprof_sample *s;
	struct pt_regs *uregs = NULL;
	u32 flags = 0, max, raw = 0, size;
	unsigned long irqflags;
	bool user, written = false;
	u64 *ips;

	if (!swprof_emit_begin(t, &irqflags)) {
		swprof_stats_miss();
		return;
	}
	max = sizeof(*s) + 8 * (t->kdepth + t->udepth);
	if (t->raw_size)
		max += 8 * SWPROF_UREGS_NR + t->raw_size;
	s = swprof_ring_reserve(r, max);
	if (!s) {
		swprof_ring_drop(r);
		goto out;
	}
	ips = s->data;
	user = regs && user_mode(regs);
	if (user)
		flags |= SWPROF_SAMPLE_USER_MODE;
	if (regs && !user && (t->flags & SWPROF_TARGET_KSTACK))
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
	s->cpu = raw_smp_processor_id();
	s->pid = t->pid_nr;
	s->tid = t->tid_nr;
	s->flags = flags;
	s->nr_kernel = nk;
	s->nr_user = nu;
	s->raw_size = raw;
	s->period_ns = period_ns;
	s->trace_task = 0;
	s->trace_seq = 0;
	size = sizeof(*s) + 8 * (nk + nu);
	if (raw)
		size += 8 * SWPROF_UREGS_NR + round_up(raw, 8);
	swprof_ring_commit(t, s, SWPROF_REC_SAMPLE, 0, size);
	written = true;
	WRITE_ONCE(r->hdr->samples, r->hdr->samples + 1);
	if (flags & SWPROF_SAMPLE_UFAULT)
		WRITE_ONCE(r->hdr->faults, r->hdr->faults + 1);
	if (flags & SWPROF_SAMPLE_KTRUNC)
		WRITE_ONCE(r->hdr->ktrunc, r->hdr->ktrunc + 1);
	if (flags & SWPROF_SAMPLE_UTRUNC)
		WRITE_ONCE(r->hdr->utrunc, r->hdr->utrunc + 1);
out:
	swprof_emit_end(t, irqflags);
	swprof_stats_sample(written, start ? local_clock() - start : U64_MAX);
}

void swprof_emit_exit(struct swprof_target *t, struct task_struct *task)
{
	struct swprof_exit *e;
	unsigned long irqflags;

	if (!swprof_emit_begin(t, &irqflags))
		return;
	e = swprof_ring_reserve(&t->ring, sizeof(*e));
	if (e) {
		e->pid = t->pid_nr;
		e->tid = t->tid_nr;
		e->exit_code = task->exit_code;
		e->__pad = 0;
		swprof_ring_commit(t, e, SWPROF_REC_EXIT, 0, sizeof(*e));
	} else {
		swprof_ring_drop(&t->ring);
	}
	swprof_emit_end(t, irqflags);
}

void swprof_emit_exec(struct swprof_target *t, struct task_struct *task, u16 flags)
{
	struct swprof_exec *e;
	unsigned long irqflags;

	if (!swprof_emit_begin(t, &irqflags))
		return;
	e = swprof_ring_reserve(&t->ring, sizeof(*e));
	if (e) {
		e->pid = t->pid_nr;
		e->tid = t->tid_nr;
		/* current's own comm: nobody else renames it while it execs */
		memcpy(e->comm, task->comm, sizeof(e->comm));
		e->comm[sizeof(e->comm) - 1] = '\0';
		swprof_ring_commit(t, e, SWPROF_REC_EXEC, flags, sizeof(*e));
	} else {
		swprof_ring_drop(&t->ring);
	}
	swprof_emit_end(t, irqflags);
}
