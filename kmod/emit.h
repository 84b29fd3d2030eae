/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Writing records into a target's ring (emit.c), and the target's counters
 * that go with them: samples, faults, truncations, losses, timer misses.
 */
#ifndef SWPROF_EMIT_H
#define SWPROF_EMIT_H

#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/types.h>

#include "target.h"

void swprof_emit_sample(struct swprof_target *t, struct pt_regs *regs, u64 period_ns);
void swprof_emit_miss(struct swprof_target *t);
void swprof_snapshot_take(struct swprof_target *t, u16 state);
bool swprof_emit_snapshot(struct swprof_target *t, u32 type, u64 period_ns, u64 time_ns,
			  bool remote);
void swprof_emit_exit(struct swprof_target *t, struct task_struct *task);
void swprof_emit_exec(struct swprof_target *t, struct task_struct *task, u16 flags);
void swprof_emit_comm(struct swprof_target *t, struct task_struct *task);
void swprof_emit_comm_name(struct swprof_target *t, const char *name);
void swprof_emit_trace_begin(struct swprof_target *t, const char *segment_id, u64 real_ns);
void swprof_emit_trace_end(struct swprof_target *t, u32 reason);

#endif
