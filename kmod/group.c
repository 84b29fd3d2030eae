// SPDX-License-Identifier: GPL-2.0-only
/*
 * Groups: a whole process, or a trace session (which embeds its group:
 * session.c).  A group fd hands out one target fd per thread (or traced
 * segment) through SWPROF_IOC_ACCEPT, so every ring keeps a single
 * producer: the thread itself.
 *
 * A process group follows the threads the process creates later: the
 * sched_process_fork hook (preemption off, before the child first runs)
 * only queues the child; a work item builds its target in process context,
 * writes its COMM record, hashes it and puts it on the pending list.  The
 * thread is sampled from then on (microseconds to milliseconds after its
 * creation); threads that cannot be followed (memory, limits) are counted
 * in `missed`, never silently.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/hashtable.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "emit.h"
#include "group.h"
#include "target.h"
#include "uapi.h"

#define GROUP_HASH_BITS 6

struct attach_req {
	struct list_head node;
	struct task_struct *task;	/* reference held */
};

static DEFINE_HASHTABLE(swprof_groups, GROUP_HASH_BITS);
static DEFINE_RAW_SPINLOCK(swprof_groups_lock);
atomic_t swprof_nr_groups = ATOMIC_INIT(0);
static struct workqueue_struct *group_wq;
static atomic64_t group_ids = ATOMIC64_INIT(0);

static void attach_work_fn(struct work_struct *work);

/*
 * A group in zeroed memory, one reference held; @free frees the object it
 * is part of once the last reference is gone.
 */
void swprof_group_init(struct swprof_group *g, const struct swprof_target_params *p,
		       void (*free)(struct swprof_group *g))
{
	refcount_set(&g->ref, 1);
	g->id = atomic64_inc_return(&group_ids);
	g->free = free;
	g->p = *p;
	g->pid_ns = get_pid_ns(p->pid_ns);
	g->p.pid_ns = g->pid_ns;
	raw_spin_lock_init(&g->lock);
	INIT_LIST_HEAD(&g->pending);
	INIT_LIST_HEAD(&g->attach);
	init_waitqueue_head(&g->wq);
	INIT_WORK(&g->attach_work, attach_work_fn);
	INIT_HLIST_NODE(&g->hnode);
}

void swprof_group_get(struct swprof_group *g)
{
	refcount_inc(&g->ref);
}

void swprof_group_put(struct swprof_group *g)
{
	if (!refcount_dec_and_test(&g->ref))
		return;
	if (g->leader)
		put_task_struct(g->leader);
	put_pid_ns(g->pid_ns);
	g->free(g);
}

/* A ready target (hashed, maybe enabled) waits for SWPROF_IOC_ACCEPT. */
void swprof_group_add_pending(struct swprof_group *g, struct swprof_target *t)
{
	unsigned long flags;
	bool dead;

	raw_spin_lock_irqsave(&g->lock, flags);
	dead = g->dead;
	if (!dead) {
		list_add_tail(&t->gnode, &g->pending);
		g->nr_pending++;
		g->attached++;
	}
	raw_spin_unlock_irqrestore(&g->lock, flags);
	if (dead)
		swprof_target_destroy(t);
	else
		wake_up_all(&g->wq);
}

static void group_missed(struct swprof_group *g)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&g->lock, flags);
	g->missed++;
	raw_spin_unlock_irqrestore(&g->lock, flags);
}

/* Build, announce and hash the target of one thread of a process group. */
static void attach_thread(struct swprof_group *g, struct task_struct *task)
{
	struct swprof_target *t;
	int err;

	if (task->flags & PF_EXITING)
		goto drop;
	t = swprof_target_new(&g->p, task, &err);
	if (!t) {
		group_missed(g);
		goto drop;
	}
	t->group_id = g->id;
	/* nobody knows the target yet: its first record is written from here */
	swprof_emit_comm(t, task);
	swprof_target_hash(t);
	smp_mb();
	if (READ_ONCE(task->flags) & PF_EXITING) {
		swprof_target_destroy(t);
		return;
	}
	if (g->p.flags & SWPROF_TARGET_ENABLE)
		swprof_target_enable(t);
	swprof_group_add_pending(g, t);
	return;
drop:
	put_task_struct(task);
}

/* Is @task already followed by @g (caught by both the fork hook and the enumeration)? */
static bool group_has(struct swprof_group *g, struct task_struct *task)
{
	struct swprof_target *t;
	bool found = false;

	rcu_read_lock();
	swprof_for_each_target(t, task)
		if (t->group_id == g->id)
			found = true;
	rcu_read_unlock();
	return found;
}

static void attach_work_fn(struct work_struct *work)
{
	struct swprof_group *g = container_of(work, struct swprof_group, attach_work);
	struct attach_req *req, *tmp;
	unsigned long flags;
	LIST_HEAD(list);

	raw_spin_lock_irqsave(&g->lock, flags);
	list_splice_init(&g->attach, &list);
	raw_spin_unlock_irqrestore(&g->lock, flags);
	list_for_each_entry_safe(req, tmp, &list, node) {
		if (READ_ONCE(g->dead) || group_has(g, req->task))
			put_task_struct(req->task);
		else
			attach_thread(g, req->task);
		kfree(req);
	}
	swprof_group_put(g);
}

/*
 * sched_process_fork, in the parent's context with preemption off, before
 * the child runs: queue new threads of followed processes.
 */
void swprof_group_fork(struct task_struct *parent, struct task_struct *child)
{
	struct swprof_group *g;
	struct attach_req *req;
	unsigned long flags;

	if (!same_thread_group(parent, child))
		return;	/* a new process: not part of the group */
	rcu_read_lock();
	hash_for_each_possible_rcu(swprof_groups, g, hnode, (unsigned long)parent->signal) {
		/* a group whose fd is going away may be on its last reference */
		if (g->signal != parent->signal || READ_ONCE(g->dead) ||
		    !refcount_inc_not_zero(&g->ref))
			continue;
		req = kmalloc(sizeof(*req), GFP_NOWAIT | __GFP_NOWARN);
		if (!req) {
			group_missed(g);
			swprof_group_put(g);
			continue;
		}
		get_task_struct(child);
		req->task = child;
		raw_spin_lock_irqsave(&g->lock, flags);
		list_add_tail(&req->node, &g->attach);
		raw_spin_unlock_irqrestore(&g->lock, flags);
		if (!queue_work(group_wq, &g->attach_work))
			swprof_group_put(g);	/* already queued: it holds a reference */
	}
	rcu_read_unlock();
}

/* sched_process_exit: the last thread of a followed process is gone. */
void swprof_group_exit(struct task_struct *p)
{
	struct swprof_group *g;
	unsigned long flags;

	if (atomic_read(&p->signal->live))
		return;
	rcu_read_lock();
	hash_for_each_possible_rcu(swprof_groups, g, hnode, (unsigned long)p->signal) {
		if (g->signal != p->signal)
			continue;
		raw_spin_lock_irqsave(&g->lock, flags);
		g->exited = true;
		raw_spin_unlock_irqrestore(&g->lock, flags);
		wake_up_all(&g->wq);
	}
	rcu_read_unlock();
}

static void group_unhash(struct swprof_group *g)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&swprof_groups_lock, flags);
	if (!hlist_unhashed(&g->hnode)) {
		hash_del_rcu(&g->hnode);
		atomic_dec(&swprof_nr_groups);
	}
	raw_spin_unlock_irqrestore(&swprof_groups_lock, flags);
}

/* The group fd is gone: mark dead, unhash, drop what was not accepted. */
void swprof_group_kill(struct swprof_group *g)
{
	struct swprof_target *t, *tmp;
	unsigned long flags;
	LIST_HEAD(list);

	raw_spin_lock_irqsave(&g->lock, flags);
	g->dead = true;
	list_splice_init(&g->pending, &list);
	g->nr_pending = 0;
	raw_spin_unlock_irqrestore(&g->lock, flags);
	group_unhash(g);
	list_for_each_entry_safe(t, tmp, &list, gnode) {
		list_del_init(&t->gnode);
		swprof_target_destroy(t);
	}
}

long swprof_group_accept(struct swprof_group *g, void __user *uarg)
{
	struct swprof_target *t = NULL;
	struct swprof_accept a;
	unsigned long flags;
	struct file *file;
	bool dead;
	int err, fd;

	err = swprof_copy_in(&a, sizeof(a), sizeof(a), uarg);
	if (err)
		return err;
	if (a.flags || a.__pad)
		return -EINVAL;
	raw_spin_lock_irqsave(&g->lock, flags);
	if (!list_empty(&g->pending)) {
		t = list_first_entry(&g->pending, struct swprof_target, gnode);
		list_del_init(&t->gnode);
		g->nr_pending--;
	}
	raw_spin_unlock_irqrestore(&g->lock, flags);
	if (!t)
		return -EAGAIN;
	fd = swprof_target_fd(t, &file);
	if (fd < 0) {
		/* no fd for it now (EMFILE): it stays first in line */
		raw_spin_lock_irqsave(&g->lock, flags);
		dead = g->dead;
		if (!dead) {
			list_add(&t->gnode, &g->pending);
			g->nr_pending++;
		}
		raw_spin_unlock_irqrestore(&g->lock, flags);
		if (dead)
			swprof_target_destroy(t);
		return fd;
	}
	a.fd = fd;
	a.tid = t->tid_nr;
	a.pid = t->pid_nr;
	if (copy_to_user(uarg, &a, sizeof(a))) {
		put_unused_fd(fd);
		fput(file);	/* its release destroys the target */
		return -EFAULT;
	}
	fd_install(fd, file);
	return 0;
}

long swprof_group_stats(struct swprof_group *g, void __user *uarg)
{
	struct swprof_group_stats st = {};
	unsigned long flags;
	int err = swprof_check_out_size(uarg);

	if (err)
		return err;
	raw_spin_lock_irqsave(&g->lock, flags);
	st.state = g->exited ? SWPROF_GSTATE_EXITED : 0;
	st.pid = g->pid_nr;
	st.pending = g->nr_pending;
	st.attached = g->attached;
	st.missed = g->missed;
	raw_spin_unlock_irqrestore(&g->lock, flags);
	return swprof_copy_out(uarg, &st, sizeof(st));
}

__poll_t swprof_group_poll(struct swprof_group *g, struct file *file, poll_table *pt)
{
	unsigned long flags;
	__poll_t mask = 0;

	poll_wait(file, &g->wq, pt);
	raw_spin_lock_irqsave(&g->lock, flags);
	if (g->nr_pending)
		mask |= EPOLLIN | EPOLLRDNORM;
	else if (g->exited && list_empty(&g->attach))
		mask |= EPOLLHUP;
	raw_spin_unlock_irqrestore(&g->lock, flags);
	return mask;
}

/* A process group's fd. */
static int process_release(struct inode *inode, struct file *file)
{
	struct swprof_group *g = file->private_data;

	swprof_group_kill(g);
	swprof_group_put(g);
	return 0;
}

static long process_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct swprof_group *g = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (swprof_ioc_key(cmd)) {
	case SWPROF_IOC_KEY(SWPROF_IOC_ACCEPT):
		return swprof_group_accept(g, uarg);
	case SWPROF_IOC_KEY(SWPROF_IOC_GROUP_STATS):
		return swprof_group_stats(g, uarg);
	default:
		return -ENOTTY;
	}
}

static __poll_t process_poll(struct file *file, struct poll_table_struct *pt)
{
	return swprof_group_poll(file->private_data, file, pt);
}

static const struct file_operations swprof_process_fops = {
	.owner = THIS_MODULE,
	.release = process_release,
	.unlocked_ioctl = process_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.poll = process_poll,
	.llseek = noop_llseek,
};

static void process_free(struct swprof_group *g)
{
	kfree_rcu(g, rcu);
}

/*
 * SWPROF_TARGET_PROCESS: follow every thread of process @pid.  The group
 * is hashed before the threads are enumerated, so a thread created
 * meanwhile is caught by the fork hook (and de-duplicated).
 */
int swprof_group_register_process(const struct swprof_target_params *p, u32 pid)
{
	struct task_struct *leader, *t, **tasks;
	struct swprof_group *g;
	unsigned long flags;
	int n = 0, cap, i, fd;

	if (!pid)
		pid = task_tgid_vnr(current);
	rcu_read_lock();
	leader = pid_task(find_vpid(pid), PIDTYPE_TGID);
	if (leader)
		get_task_struct(leader);
	rcu_read_unlock();
	if (!leader)
		return -ESRCH;
	if (leader->flags & PF_KTHREAD) {
		put_task_struct(leader);
		return -EINVAL;
	}
	if (!same_thread_group(leader, current) &&
	    !swprof_may_sample(p->ptrace_cap, p->reg_euid, p->reg_egid, leader)) {
		put_task_struct(leader);
		return -EPERM;
	}
	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (!g) {
		put_task_struct(leader);
		return -ENOMEM;
	}
	swprof_group_init(g, p, process_free);
	g->leader = leader;
	g->signal = leader->signal;
	g->pid_nr = __task_pid_nr_ns(leader, PIDTYPE_TGID, g->pid_ns);
	raw_spin_lock_irqsave(&swprof_groups_lock, flags);
	hash_add_rcu(swprof_groups, &g->hnode, (unsigned long)g->signal);
	atomic_inc(&swprof_nr_groups);
	raw_spin_unlock_irqrestore(&swprof_groups_lock, flags);
	/* make the fork hook see the group before we look at the threads */
	synchronize_rcu();

	cap = READ_ONCE(leader->signal->nr_threads) + 16;
	tasks = kvcalloc(cap, sizeof(*tasks), GFP_KERNEL);
	if (!tasks) {
		fd = -ENOMEM;
		goto fail;
	}
	rcu_read_lock();
	for_each_thread(leader, t) {
		if (n == cap)
			break;	/* more were born meanwhile: the fork hook has them */
		get_task_struct(t);
		tasks[n++] = t;
	}
	rcu_read_unlock();
	for (i = 0; i < n; i++) {
		if (group_has(g, tasks[i]))
			put_task_struct(tasks[i]);
		else
			attach_thread(g, tasks[i]);
	}
	kvfree(tasks);
	if (!atomic_read(&leader->signal->live)) {
		raw_spin_lock_irqsave(&g->lock, flags);
		g->exited = true;
		raw_spin_unlock_irqrestore(&g->lock, flags);
	}
	fd = swprof_new_fd("[swprof-process]", &swprof_process_fops, g, NULL);
	if (fd >= 0)
		return fd;
fail:
	swprof_group_kill(g);
	swprof_group_put(g);
	return fd;
}

int swprof_groups_init(void)
{
	/*
	 * High priority: a new thread is not sampled until its target is
	 * attached, and the threads being followed are often CPU-bound.  At
	 * nice 0 the worker waited its turn behind them at every
	 * cond_resched() of the ring allocation: 64 spinning threads on 2
	 * CPUs took ~50 ms per attach, seconds for all of them.
	 */
	group_wq = alloc_workqueue("swprof_group", WQ_UNBOUND | WQ_HIGHPRI, 0);
	return group_wq ? 0 : -ENOMEM;
}

/* No group fd is open (each pins the module): only queued attach work may remain. */
void swprof_groups_exit(void)
{
	destroy_workqueue(group_wq);
}
