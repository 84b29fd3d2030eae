/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A group (group.c): targets waiting to be accepted on a group fd.  A whole
 * process is one (group.c follows its threads); a trace session embeds one
 * (session.c).
 */
#ifndef SWPROF_GROUP_H
#define SWPROF_GROUP_H

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/poll.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "target.h"

struct swprof_group {
	refcount_t ref;
	u64 id;				/* never reused: targets name their group by it */
	void (*free)(struct swprof_group *g);	/* the whole object, RCU-deferred */
	struct swprof_target_params p;	/* template of the targets */
	struct pid_namespace *pid_ns;	/* reference held */
	raw_spinlock_t lock;		/* pending, attach, counters, state */
	struct list_head pending;	/* targets not accepted yet */
	struct list_head attach;	/* attach_req from the fork hook */
	u32 nr_pending;
	u64 attached, missed;
	bool exited;			/* every thread of the process is gone */
	bool dead;			/* the group fd was released */
	wait_queue_head_t wq;
	struct work_struct attach_work;
	/* process groups */
	struct hlist_node hnode;	/* swprof_groups, keyed by signal_struct */
	struct task_struct *leader;	/* reference held: keeps ->signal alive */
	struct signal_struct *signal;
	u32 pid_nr;
	struct rcu_head rcu;		/* the hooks look groups up under RCU */
};

extern atomic_t swprof_nr_groups;

void swprof_group_init(struct swprof_group *g, const struct swprof_target_params *p,
		       void (*free)(struct swprof_group *g));
void swprof_group_get(struct swprof_group *g);
void swprof_group_put(struct swprof_group *g);
void swprof_group_add_pending(struct swprof_group *g, struct swprof_target *t);
void swprof_group_kill(struct swprof_group *g);
long swprof_group_accept(struct swprof_group *g, void __user *uarg);
long swprof_group_stats(struct swprof_group *g, void __user *uarg);
__poll_t swprof_group_poll(struct swprof_group *g, struct file *file, poll_table *pt);
int swprof_group_register_process(const struct swprof_target_params *p, u32 pid);
void swprof_group_fork(struct task_struct *parent, struct task_struct *child);
void swprof_group_exit(struct task_struct *p);
int swprof_groups_init(void);
void swprof_groups_exit(void);

#endif
