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
 *
 * User access is opened once for the whole walk (closed only around the
 * search of a rule the cache does not hold), over the stack from the
 * interrupted sp to the top of user space: the thread's own stack and
 * nothing below it, where every word read must lie.
 */
static noinline unsigned int ustack_capture_tab(const struct swprof_umaps *m,
						struct pt_regs *uregs, u64 *ips,
						unsigned int max, u32 *flags)
{
	unsigned long ip = uregs->ip, sp = uregs->sp, bp = uregs->bp, cfa, ra;
	const unsigned long lo = sp, top = TASK_SIZE_MAX - sizeof(unsigned long);
	const unsigned long span = top - lo;	/* valid while sp <= top, checked below */
	struct swprof_urule r, wide;
	unsigned int n = 0;
	u64 e;

	if (!max)
		return 0;
	*flags |= SWPROF_SAMPLE_UTABLE;
	ips[n++] = ip;
	if (sp > top) {
		*flags |= SWPROF_SAMPLE_UFAULT | SWPROF_SAMPLE_UINCOMPLETE;
		return n;
	}
	pagefault_disable();
	/* the interrupted frame by its own address, the callers' by the call's */
	e = swprof_umaps_cached(m, ip) ?: swprof_umaps_search(m, ip, &wide);
	if (!user_access_begin((const void __user *)lo, TASK_SIZE_MAX - lo)) {
		*flags |= SWPROF_SAMPLE_UFAULT;
		goto incomplete;
	}
	for (;;) {
		if (likely(e != UMAPS_WIDE))
			swprof_urule_unpack(e, &r);
		else
			r = wide;
		if (likely(r.cfa == SWPROF_CFA_SP)) {
			cfa = sp + r.cfa_off;
		} else if (r.cfa == SWPROF_CFA_BP) {
			cfa = bp + r.cfa_off;
		} else if (r.cfa == SWPROF_CFA_NONE) {
			/* frame pointer: [rbp] the caller's rbp, [rbp + 8] the return address */
			if (!bp)
				goto complete_end;
			cfa = bp + 16;
			r.bp = SWPROF_BP_CFA;
			r.bp_off = -16;
		} else if (r.cfa == SWPROF_CFA_PLT) {
			cfa = sp + 8 + ((ip & 15) >= 11 ? 8 : 0);
		} else {
			goto complete_end;	/* SWPROF_CFA_END */
		}
		/*
		 * Every word read lies between the interrupted sp and the top of
		 * user space: cfa moves up the stack, the return address is the
		 * word below it, the saved rbp anywhere in that range.
		 */
		if (unlikely((cfa & 7) || cfa <= sp || cfa > TASK_SIZE_MAX))
			goto bad_cfa;
		unsafe_get_user(ra, (const unsigned long __user *)(cfa - 8), fault_end);
		if (r.bp == SWPROF_BP_CFA) {
			if (unlikely(cfa + r.bp_off - lo > span))
				goto incomplete_end;
			unsafe_get_user(bp, (const unsigned long __user *)(cfa + r.bp_off), fault_end);
		}
		if (!ra)
			goto complete_end;
		if (unlikely(n == max)) {
			*flags |= SWPROF_SAMPLE_UTRUNC;
			goto incomplete_end;
		}
		ips[n++] = ra;
		ip = ra;
		sp = cfa;
		e = swprof_umaps_cached(m, ip - 1);
		if (unlikely(!e)) {
			/* a miss: no call with user access open */
			user_access_end();
			e = swprof_umaps_search(m, ip - 1, &wide);
			if (!user_access_begin((const void __user *)lo, TASK_SIZE_MAX - lo)) {
				*flags |= SWPROF_SAMPLE_UFAULT;
				goto incomplete;
			}
		}
	}
bad_cfa:
	if (!(cfa & 7) && cfa <= sp)
		*flags |= SWPROF_SAMPLE_UBADFP;
	goto incomplete_end;
fault_end:
	*flags |= SWPROF_SAMPLE_UFAULT;
incomplete_end:
	user_access_end();
incomplete:
	*flags |= SWPROF_SAMPLE_UINCOMPLETE;
	pagefault_enable();
	return n;
complete_end:
	user_access_end();
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

		/*
		 * The callers run with interrupts or preemption disabled: an RCU
		 * read-side section already, which keeps the set and its tables.
		 */
		lockdep_assert_preemption_disabled();
		m = swprof_umaps_find(current->mm);
		if (m)
			nu = ustack_capture_tab(m, uregs, ips + nk, c->udepth, &flags);
		else
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
