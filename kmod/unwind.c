// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stack capture, always in the target's own context: kernel frames with the
 * kernel's unwinder (ORC on Debian); user frames by the unwind tables
 * userspace gave for the process (utab.c) where it gave them, by frame
 * pointers elsewhere, with nofault reads; and optionally a raw copy of the
 * top of the user stack with the user registers for userspace to unwind
 * with .eh_frame.
 *
 * Nothing here sleeps, allocates or takes mmap_lock: it runs in hardirq
 * and scheduler context.  Writing records is emit.c's business.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/string.h>
#include <linux/sched/clock.h>
#include <linux/sched/task_stack.h>
#include <linux/uaccess.h>
#include <asm/unwind.h>

#include "unwind.h"
#include "utab.h"

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

/*
 * Frame-pointer walk.  Every step must move strictly up the stack, so a
 * corrupt chain ends the walk instead of looping; a fault ends it too.
 *
 * One pagefault_disable() for the whole walk and two unsafe_get_user()s per
 * frame inside user_access_begin() (access_ok plus the speculation barrier):
 * a copy_from_user_nofault() per frame costs several times more, and this
 * runs at every sample.  Nothing inside the uaccess section calls out.
 */
static unsigned int ustack_capture(struct pt_regs *uregs, u64 *ips, unsigned int max,
				   u32 *flags)
{
	unsigned long fp = uregs->bp, sp = uregs->sp, next_fp, ret;
	unsigned int n = 0;

	if (!max)
		return 0;
	ips[n++] = uregs->ip;
	/*
	 * No nmi_uaccess_okay() (not exported): every caller runs in the
	 * target's own context with its mm loaded: an interrupt or IPI that
	 * found current == target (switch_mm runs with interrupts off), or the
	 * sched_switch hook before the switch; kernel threads never get here.
	 */
	pagefault_disable();
	while (fp && !(fp & 7) && fp >= sp) {
		const unsigned long __user *frame = (const unsigned long __user *)fp;

		if (!user_access_begin(frame, 2 * sizeof(unsigned long)))
			goto fault;
		unsafe_get_user(next_fp, &frame[0], fault_end);
		unsafe_get_user(ret, &frame[1], fault_end);
		user_access_end();
		if (!ret)
			break;
		if (n == max) {
			*flags |= SWPROF_SAMPLE_UTRUNC | SWPROF_SAMPLE_UINCOMPLETE;
			break;
		}
		ips[n++] = ret;
		if (next_fp <= fp) {
			if (next_fp)
				*flags |= SWPROF_SAMPLE_UBADFP | SWPROF_SAMPLE_UINCOMPLETE;
			break;
		}
		fp = next_fp;
	}
	pagefault_enable();
	return n;

fault_end:
	user_access_end();
fault:
	pagefault_enable();
	*flags |= SWPROF_SAMPLE_UFAULT | SWPROF_SAMPLE_UINCOMPLETE;
	return n;
}

/* One user word at @addr, or goto @fault; inside pagefault_disable(). */
#define ureg_read(val, addr, fault)						\
	do {									\
		const unsigned long __user *__p = (const unsigned long __user *)(addr); \
		if (!user_access_begin(__p, sizeof(unsigned long)))		\
			goto fault;						\
		unsafe_get_user(val, __p, fault##_end);				\
		user_access_end();						\
	} while (0)

/*
 * Table walk: each frame by the row that covers its address (a return
 * address is looked up one byte back, inside the call), by frame pointer
 * where there is none.  The return address is at CFA - 8.  Every step must
 * move up the stack.  The walk is complete when it ends at an END row (the
 * outermost frame), a zero return address or a zero frame pointer; else the
 * sample is flagged UINCOMPLETE.
 */
static unsigned int ustack_capture_tab(const struct swprof_umaps *m, struct pt_regs *uregs,
				       u64 *ips, unsigned int max, u32 *flags)
{
	unsigned long ip = uregs->ip, sp = uregs->sp, bp = uregs->bp, cfa, ra, nsp;
	const struct swprof_unwind_row *row;
	const void *hint = NULL;	/* utab.c's: the mapping of the last lookup */
	unsigned int n = 0;
	bool first = true;

	if (!max)
		return 0;
	*flags |= SWPROF_SAMPLE_UTABLE;
	ips[n++] = ip;
	pagefault_disable();
	for (;;) {
		row = swprof_umaps_row(m, first ? ip : ip - 1, &hint);
		if (row && row->cfa == SWPROF_CFA_END)
			goto complete;
		if (row && row->cfa != SWPROF_CFA_NONE) {
			if (row->cfa == SWPROF_CFA_SP)
				cfa = sp + row->cfa_off;
			else if (row->cfa == SWPROF_CFA_BP)
				cfa = bp + row->cfa_off;
			else
				cfa = sp + 8 + ((ip & 15) >= 11 ? 8 : 0);
			if (cfa & 7)
				goto incomplete;
			if (row->bp == SWPROF_BP_CFA) {
				/* one uaccess section for both: rbp is saved next to the return address */
				unsigned long a = cfa - 8, b = cfa + row->bp_off;
				unsigned long lo = min(a, b), len = max(a, b) + 8 - lo;

				if (len > 64 || !user_access_begin((const void __user *)lo, len))
					goto incomplete;
				unsafe_get_user(ra, (const unsigned long __user *)a, fault_end);
				unsafe_get_user(bp, (const unsigned long __user *)b, fault_end);
				user_access_end();
			} else {
				ureg_read(ra, cfa - 8, fault);
			}
			nsp = cfa;
		} else {
			if (!bp)
				goto complete;
			if ((bp & 7) || bp < sp)
				goto incomplete;
			ureg_read(ra, bp + 8, fault);
			nsp = bp + 16;
			ureg_read(bp, bp, fault);
		}
		if (!ra)
			goto complete;
		if (nsp <= sp) {
			*flags |= SWPROF_SAMPLE_UBADFP;
			goto incomplete;
		}
		if (n == max) {
			*flags |= SWPROF_SAMPLE_UTRUNC;
			goto incomplete;
		}
		ips[n++] = ra;
		ip = ra;
		sp = nsp;
		first = false;
	}
fault_end:
	user_access_end();
fault:
	*flags |= SWPROF_SAMPLE_UFAULT;
incomplete:
	*flags |= SWPROF_SAMPLE_UINCOMPLETE;
complete:
	pagefault_enable();
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
u32 swprof_capture(const struct swprof_stack_cfg *c, struct pt_regs *regs, bool from_here,
		   u64 *ips, u16 *nk_out, u16 *nu_out, u32 *raw_out)
{
	unsigned int nk = 0, nu = 0;
	struct pt_regs *uregs = NULL;
	u32 flags = 0, raw = 0;
	bool user = regs && user_mode(regs);

	if (user)
		flags |= SWPROF_SAMPLE_USER_MODE;
	if ((regs || from_here) && !user && (c->flags & SWPROF_TARGET_KSTACK))
		nk = kstack_capture(regs, ips, c->kdepth, &flags);
	if (current->mm && !(current->flags & PF_KTHREAD)) {
		uregs = user ? regs : task_pt_regs(current);
		if (!user_64bit_mode(uregs))
			uregs = NULL;
	}
	if (uregs && (c->flags & SWPROF_TARGET_USTACK)) {
		const struct swprof_umaps *m;

		rcu_read_lock();
		m = swprof_umaps_find(current->mm);
		if (m)
			nu = ustack_capture_tab(m, uregs, ips + nk, c->udepth, &flags);
		rcu_read_unlock();
		if (!m)
			nu = ustack_capture(uregs, ips + nk, c->udepth, &flags);
	}
	if (uregs && c->raw_size) {
		u64 *regs_out = ips + nk + nu;

		uregs_save(uregs, regs_out);
		raw = raw_stack_copy(uregs->sp, (u8 *)(regs_out + SWPROF_UREGS_NR), c->raw_size);
		if (raw < c->raw_size)
			flags |= SWPROF_SAMPLE_RAW_FAULT;
	}
	*nk_out = nk;
	*nu_out = nu;
	*raw_out = raw;
	return flags;
}
