/* SPDX-License-Identifier: GPL-2.0-only */
/* Stack capture in the target's own context (unwind.c). */
#ifndef SWPROF_UNWIND_H
#define SWPROF_UNWIND_H

#include <linux/ptrace.h>
#include <linux/types.h>
#include <linux/swprof.h>

/* What a target asked to capture. */
struct swprof_stack_cfg {
	u32 flags;		/* SWPROF_TARGET_KSTACK, SWPROF_TARGET_USTACK */
	u16 kdepth, udepth;	/* frames at most; 0 for a kind not asked for */
	u32 raw_size;		/* bytes of raw user stack; 0 = no regs either */
};

/* Bytes a capture may take: the frames, then the regs and raw bytes. */
static inline u32 swprof_capture_max(const struct swprof_stack_cfg *c)
{
	return 8 * (c->kdepth + c->udepth) + (c->raw_size ? 8 * SWPROF_UREGS_NR + c->raw_size : 0);
}

u32 swprof_capture(const struct swprof_stack_cfg *c, struct pt_regs *regs, bool from_here,
		   u64 *ips, u16 *nk_out, u16 *nu_out, u32 *raw_out);

#endif
