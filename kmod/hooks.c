// SPDX-License-Identifier: GPL-2.0-only
/*
 * The scheduler tracepoints, and who each one is for.
 *
 * sched_switch drives the sampler (timers armed and stopped, snapshots);
 * sched_process_exit and sched_process_exec report exit and exec in-band,
 * task_rename a thread's new name; sched_process_fork and the exit of a
 * process's last thread let process groups follow it.  Tracepoints are
 * looked up with for_each_kernel_tracepoint(): their __tracepoint_*
 * symbols are not exported.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#include "emit.h"
#include "genetlink.h"
#include "group.h"
#include "hooks.h"
#include "kcompat.h"
#include "sampler.h"
#include "session.h"
#include "target.h"

static void probe_sched_switch(void *data, bool preempt, struct task_struct *prev,
			       struct task_struct *next, unsigned int prev_state)
{
	struct swprof_target *t;

	if (!atomic_read(&swprof_nr_targets))
		return;
	swprof_for_each_target(t, prev)
		swprof_sampler_switch_out(t, preempt, prev_state);
	swprof_for_each_target(t, next)
		swprof_sampler_switch_in(t);
}

static void probe_sched_exit(SWPROF_EXIT_PROTO)
{
	struct swprof_target *t;

	swprof_for_each_target(t, p) {
		struct swprof_event_info info = { .pid = p->tgid, .tid = p->pid };

		if (t->ttask && !test_bit(SWPROF_T_ENDED, &t->state))
			swprof_segment_end(t, SWPROF_TRACE_END_EXIT);
		if (test_and_set_bit(SWPROF_T_EXITED, &t->state))
			continue;
		swprof_target_stop(t);
		swprof_emit_exit(t, p);
		swprof_target_update_state(t);
		swprof_target_unhash(t);
		swprof_ring_hangup(&t->ring);
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

static void probe_sched_exec(void *data, struct task_struct *p, pid_t old_pid,
			     struct linux_binprm *bprm)
{
	struct swprof_target *t;
	u16 flags;

	if (!atomic_read(&swprof_nr_targets))
		return;
	swprof_for_each_target(t, p) {
		flags = 0;
		if (swprof_target_exec_denied(t, p)) {
			set_bit(SWPROF_T_DENIED, &t->state);
			swprof_target_stop(t);
			flags |= SWPROF_EXEC_DENIED;
		}
		swprof_target_set_ids(t, p);
		swprof_emit_exec(t, p, flags);
		swprof_target_update_state(t);
		if (flags)
			swprof_ring_hangup(&t->ring);
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

int swprof_hooks_init(void)
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

void swprof_hooks_exit(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(swprof_tps); i++)
		tracepoint_probe_unregister(swprof_tps[i].tp, swprof_tps[i].probe, NULL);
	tracepoint_synchronize_unregister();
}
