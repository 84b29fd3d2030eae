// SPDX-License-Identifier: GPL-2.0-only
/*
 * Trace profiling: the controller's session publishes tasks (endpoint,
 * window, threshold, dump period, limits); an application thread starting
 * a request offers itself with SWPROF_IOC_TRACE_BEGIN.  If a task of a
 * session that may sample it matches and the limits hold, the thread gets a
 * WALL-mode target of its own, in the session (accepted like a process
 * group's threads), sampled every dump period from the threshold on, each
 * sample tagged with the task id and a gap-free per-segment sequence.
 *
 * Admission counters live here, under the task's lock, so the limits hold
 * however many threads race.  The thread never sees any ring: it offers
 * itself and nothing more, so it needs no privilege.
 *
 * A session embeds its group (pending segments, ACCEPT, GROUP_STATS); its
 * fd type adds the task commands.  A segment is a target of its own kind:
 * its timer charges the task at the first sample and ends the segment at
 * its maximum; its end and its free give the task back.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/log2.h>
#include <linux/poll.h>
#include <linux/rculist.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timer.h>
#include <linux/uaccess.h>

#include "emit.h"
#include "genetlink.h"
#include "group.h"
#include "params.h"
#include "sampler.h"
#include "session.h"
#include "target.h"
#include "uapi.h"

#define SWPROF_MIN_DUMP_PERIOD_NS	(10 * NSEC_PER_MSEC)
#define SWPROF_SESSION_RING		(64 * 1024)
#define SWPROF_SESSION_MAX_TASKS	64

struct swprof_session {
	struct swprof_group group;	/* its segments; group.p: template, owner's credentials */
	struct list_head node;		/* swprof_sessions, RCU */
	struct mutex lock;		/* tasks: writers */
	struct list_head tasks;		/* RCU */
	unsigned int nr_tasks;
	bool dead;
};

struct swprof_ttask {
	refcount_t ref;
	u32 id;
	raw_spinlock_t lock;		/* counters, targets, ended */
	struct list_head targets;	/* active segments */
	u32 admitted, active;
	u64 refused_count, refused_parallel;
	bool ended;
	struct list_head snode;		/* session->tasks, RCU */
	struct timer_list end_timer;
	u64 start_ns, end_ns, min_duration_ns, dump_period_ns;
	u32 max_sampling_count, max_parallel, max_samples;
	char endpoint[SWPROF_ENDPOINT_MAX];
	struct rcu_head rcu;
};

static const struct swprof_target_ops segment_ops;
static LIST_HEAD(swprof_sessions);
static DEFINE_SPINLOCK(swprof_sessions_lock);
static atomic_t swprof_task_ids = ATOMIC_INIT(0);

static void task_put(struct swprof_ttask *tt)
{
	if (refcount_dec_and_test(&tt->ref))
		kfree_rcu(tt, rcu);
}

/* Everything after ENDED was set by whoever set it. */
static void finish_end(struct swprof_target *t, u32 reason)
{
	struct swprof_ttask *tt = t->ttask;
	unsigned long flags;

	swprof_target_stop(t);
	swprof_emit_trace_end(t, reason);
	raw_spin_lock_irqsave(&tt->lock, flags);
	tt->active--;
	raw_spin_unlock_irqrestore(&tt->lock, flags);
	swprof_target_unhash(t);
	swprof_target_update_state(t);
	swprof_ring_hangup(&t->ring);
}

/* Any context: the thread's trace_end, its exit, the per-segment maximum, a close. */
void swprof_segment_end(struct swprof_target *t, u32 reason)
{
	struct swprof_ttask *tt = t->ttask;
	unsigned long flags;

	if (test_and_set_bit(SWPROF_T_ENDED, &t->state))
		return;
	raw_spin_lock_irqsave(&tt->lock, flags);
	list_del_init(&t->tnode);
	raw_spin_unlock_irqrestore(&tt->lock, flags);
	finish_end(t, reason);
}

/* The task ends: no more admissions, every segment of it ends. */
static void task_end(struct swprof_ttask *tt, u32 reason)
{
	struct swprof_target *t, *tmp;
	struct swprof_event_info info = {};
	unsigned long flags;
	LIST_HEAD(list);
	bool was_ended;

	rcu_read_lock();
	raw_spin_lock_irqsave(&tt->lock, flags);
	was_ended = tt->ended;
	tt->ended = true;
	list_for_each_entry_safe(t, tmp, &tt->targets, tnode)
		if (!test_and_set_bit(SWPROF_T_ENDED, &t->state))
			list_move_tail(&t->tnode, &list);
	info.task = tt->id;
	info.admitted = tt->admitted;
	raw_spin_unlock_irqrestore(&tt->lock, flags);
	list_for_each_entry_safe(t, tmp, &list, tnode) {
		list_del_init(&t->tnode);
		finish_end(t, reason);
	}
	rcu_read_unlock();
	if (!was_ended) {
		info.endpoint = tt->endpoint;
		swprof_event(SWPROF_CMD_TRACE_TASK_ENDED, &info);
	}
}

static void task_end_timer(struct timer_list *timer)
{
	struct swprof_ttask *tt = container_of(timer, struct swprof_ttask, end_timer);

	task_end(tt, SWPROF_TRACE_END_TASK);
}

/* A string field: NUL-terminated inside its array and not empty. */
static bool str_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	return n && n < max;
}

static long task_add(struct swprof_session *ss, void __user *uarg)
{
	struct swprof_trace_task a;
	struct swprof_ttask *tt;
	u64 now = ktime_get_real_ns();
	long err;

	err = swprof_copy_in(&a, sizeof(a), sizeof(a), uarg);
	if (err)
		return err;
	if (a.flags || a.id || !str_ok(a.endpoint, sizeof(a.endpoint)))
		return -EINVAL;
	if (!a.max_sampling_count || !a.max_parallel || a.end_ns <= a.start_ns ||
	    a.end_ns <= now || a.end_ns - now > 24ULL * 3600 * NSEC_PER_SEC || a.dump_period_ns < SWPROF_MIN_DUMP_PERIOD_NS ||
	    a.dump_period_ns > 60ULL * NSEC_PER_SEC || a.min_duration_ns > 3600ULL * NSEC_PER_SEC)
		return -EINVAL;
	tt = kzalloc(sizeof(*tt), GFP_KERNEL);
	if (!tt)
		return -ENOMEM;
	refcount_set(&tt->ref, 1);	/* the session's */
	raw_spin_lock_init(&tt->lock);
	INIT_LIST_HEAD(&tt->targets);
	tt->start_ns = a.start_ns;
	tt->end_ns = a.end_ns;
	tt->min_duration_ns = a.min_duration_ns;
	tt->dump_period_ns = a.dump_period_ns;
	tt->max_sampling_count = a.max_sampling_count;
	tt->max_parallel = a.max_parallel;
	tt->max_samples = a.max_samples;
	memcpy(tt->endpoint, a.endpoint, sizeof(tt->endpoint));
	timer_setup(&tt->end_timer, task_end_timer, 0);
	mutex_lock(&ss->lock);
	if (ss->dead || ss->nr_tasks >= SWPROF_SESSION_MAX_TASKS) {
		mutex_unlock(&ss->lock);
		kfree(tt);
		return ss->dead ? -ENODEV : -ENOSPC;
	}
	tt->id = atomic_inc_return(&swprof_task_ids);
	list_add_tail_rcu(&tt->snode, &ss->tasks);
	ss->nr_tasks++;
	mod_timer(&tt->end_timer, jiffies + nsecs_to_jiffies(a.end_ns - now) + 1);
	mutex_unlock(&ss->lock);
	a.id = tt->id;
	return swprof_copy_out(uarg, &a, sizeof(a));
}

static struct swprof_ttask *task_find(struct swprof_session *ss, u32 id)
{
	struct swprof_ttask *tt;

	list_for_each_entry(tt, &ss->tasks, snode)
		if (tt->id == id)
			return tt;
	return NULL;
}

static long task_end_ioctl(struct swprof_session *ss, void __user *uarg)
{
	struct swprof_trace_task_ref ref;
	struct swprof_ttask *tt;
	long err;

	err = swprof_copy_in(&ref, sizeof(ref), sizeof(ref), uarg);
	if (err)
		return err;
	mutex_lock(&ss->lock);
	tt = task_find(ss, ref.id);
	if (tt)
		refcount_inc(&tt->ref);
	mutex_unlock(&ss->lock);
	if (!tt)
		return -ENOENT;
	timer_delete_sync(&tt->end_timer);
	task_end(tt, SWPROF_TRACE_END_TASK);
	task_put(tt);
	return 0;
}

static long task_stats(struct swprof_session *ss, void __user *uarg)
{
	struct swprof_trace_task_stats st;
	struct swprof_ttask *tt;
	unsigned long flags;
	long err;

	err = swprof_copy_in(&st, sizeof(st), offsetofend(struct swprof_trace_task_stats, id), uarg);
	if (err)
		return err;
	mutex_lock(&ss->lock);
	tt = task_find(ss, st.id);
	if (tt) {
		raw_spin_lock_irqsave(&tt->lock, flags);
		st.admitted = tt->admitted;
		st.active = tt->active;
		st.refused_count = tt->refused_count;
		st.refused_parallel = tt->refused_parallel;
		st.ended = tt->ended;
		st.__pad = 0;
		raw_spin_unlock_irqrestore(&tt->lock, flags);
	}
	mutex_unlock(&ss->lock);
	if (!tt)
		return -ENOENT;
	return swprof_copy_out(uarg, &st, sizeof(st));
}

/* The session fd is gone: its tasks end, and with them their segments. */
static int session_release(struct inode *inode, struct file *file)
{
	struct swprof_session *ss = file->private_data;
	struct swprof_ttask *tt, *tmp;

	swprof_group_kill(&ss->group);
	spin_lock(&swprof_sessions_lock);
	list_del_rcu(&ss->node);
	spin_unlock(&swprof_sessions_lock);
	mutex_lock(&ss->lock);
	ss->dead = true;
	mutex_unlock(&ss->lock);
	/* no begin can find the session or its tasks after this */
	synchronize_rcu();
	list_for_each_entry_safe(tt, tmp, &ss->tasks, snode) {
		timer_delete_sync(&tt->end_timer);
		task_end(tt, SWPROF_TRACE_END_SESSION);
		list_del(&tt->snode);
		task_put(tt);
	}
	swprof_group_put(&ss->group);
	return 0;
}

static long session_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct swprof_session *ss = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (swprof_ioc_key(cmd)) {
	case SWPROF_IOC_KEY(SWPROF_IOC_ACCEPT):
		return swprof_group_accept(&ss->group, uarg);
	case SWPROF_IOC_KEY(SWPROF_IOC_GROUP_STATS):
		return swprof_group_stats(&ss->group, uarg);
	case SWPROF_IOC_KEY(SWPROF_IOC_TRACE_TASK_ADD):
		return task_add(ss, uarg);
	case SWPROF_IOC_KEY(SWPROF_IOC_TRACE_TASK_END):
		return task_end_ioctl(ss, uarg);
	case SWPROF_IOC_KEY(SWPROF_IOC_TRACE_TASK_STATS):
		return task_stats(ss, uarg);
	default:
		return -ENOTTY;
	}
}

static __poll_t session_poll(struct file *file, struct poll_table_struct *pt)
{
	struct swprof_session *ss = file->private_data;

	return swprof_group_poll(&ss->group, file, pt);
}

static const struct file_operations swprof_session_fops = {
	.owner = THIS_MODULE,
	.release = session_release,
	.unlocked_ioctl = session_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.poll = session_poll,
	.llseek = noop_llseek,
};

/* The last reference to the session's group is gone; admit() may still be looking. */
static void session_free(struct swprof_group *g)
{
	struct swprof_session *ss = container_of(g, struct swprof_session, group);

	kfree_rcu(ss, group.rcu);
}

/* SWPROF_IOC_TRACE_SESSION: returns the session's fd. */
int swprof_session_new(const struct swprof_caps *caps, void __user *uarg)
{
	struct swprof_trace_session_attr a;
	struct swprof_target_params p;
	struct swprof_session *ss;
	long err;
	int fd;

	err = swprof_copy_in(&a, sizeof(a), sizeof(a), uarg);
	if (err)
		return err;
	if (a.flags & ~(SWPROF_TARGET_KSTACK | SWPROF_TARGET_USTACK) || a.__reserved)
		return -EINVAL;
	if (!(a.flags & (SWPROF_TARGET_KSTACK | SWPROF_TARGET_USTACK)) && !a.raw_stack_size)
		return -EINVAL;
	if ((a.flags & SWPROF_TARGET_KSTACK) && !caps->kstack)
		return -EPERM;
	if (!a.ring_size)
		a.ring_size = SWPROF_SESSION_RING;
	if (a.ring_size < PAGE_SIZE || !is_power_of_2(a.ring_size) || a.ring_size > swprof_max_ring_size)
		return -EINVAL;
	if (a.raw_stack_size % 8 || a.raw_stack_size > SWPROF_MAX_RAW_STACK ||
	    a.max_kernel_depth > SWPROF_MAX_DEPTH || a.max_user_depth > SWPROF_MAX_DEPTH)
		return -EINVAL;
	p = (struct swprof_target_params){
		.ops = &segment_ops,
		.mode = SWPROF_MODE_WALL,
		.flags = a.flags,
		.kdepth = a.flags & SWPROF_TARGET_KSTACK ?
			  (a.max_kernel_depth ?: swprof_default_depth) : 0,
		.udepth = a.flags & SWPROF_TARGET_USTACK ?
			  (a.max_user_depth ?: swprof_default_depth) : 0,
		.ring_size = a.ring_size,
		.raw_size = a.raw_stack_size,
		.ptrace_cap = caps->ptrace && capable(CAP_SYS_PTRACE),
		.reg_euid = current_euid(),
		.reg_egid = current_egid(),
		.pid_ns = task_active_pid_ns(current),
	};
	if (sizeof(struct swprof_sample) + 8 * (p.kdepth + p.udepth) +
	    (a.raw_stack_size ? 8 * SWPROF_UREGS_NR + a.raw_stack_size : 0) +
	    sizeof(struct swprof_lost) > a.ring_size)
		return -EINVAL;
	ss = kzalloc(sizeof(*ss), GFP_KERNEL);
	if (!ss)
		return -ENOMEM;
	swprof_group_init(&ss->group, &p, session_free);
	mutex_init(&ss->lock);
	INIT_LIST_HEAD(&ss->tasks);
	fd = swprof_new_fd("[swprof-session]", &swprof_session_fops, ss, NULL);
	if (fd < 0) {
		swprof_group_put(&ss->group);
		return fd;
	}
	spin_lock(&swprof_sessions_lock);
	list_add_tail_rcu(&ss->node, &swprof_sessions);
	spin_unlock(&swprof_sessions_lock);
	return fd;
}

/* The calling thread's segment that is still running, if any. */
static struct swprof_target *current_segment(void)
{
	struct swprof_target *t;

	swprof_for_each_target(t, current)
		if (t->ttask && !test_bit(SWPROF_T_ENDED, &t->state))
			return t;
	return NULL;
}

/*
 * Find a task for the endpoint and take a place in it.  Returns the task
 * (a reference) and its session's group (a reference: the session itself
 * may go away as soon as we leave the RCU section), or NULL with *err:
 * ENOENT, EDQUOT, EBUSY.
 */
static struct swprof_ttask *admit(const char *endpoint, struct swprof_group **out, int *err)
{
	struct swprof_ttask *tt, *found = NULL;
	struct swprof_session *ss;
	u64 now = ktime_get_real_ns();
	unsigned long flags;

	*err = -ENOENT;
	rcu_read_lock();
	list_for_each_entry_rcu(ss, &swprof_sessions, node) {
		if (READ_ONCE(ss->dead))
			continue;
		list_for_each_entry_rcu(tt, &ss->tasks, snode) {
			if (now < tt->start_ns || now >= tt->end_ns || strcmp(tt->endpoint, endpoint))
				continue;
			if (!swprof_may_sample(ss->group.p.ptrace_cap, ss->group.p.reg_euid,
					       ss->group.p.reg_egid, current))
				continue;
			raw_spin_lock_irqsave(&tt->lock, flags);
			if (tt->ended) {
				raw_spin_unlock_irqrestore(&tt->lock, flags);
				continue;
			}
			if (tt->admitted >= tt->max_sampling_count) {
				tt->refused_count++;
				*err = -EDQUOT;
			} else if (tt->active >= tt->max_parallel) {
				tt->refused_parallel++;
				*err = -EBUSY;
			} else {
				tt->active++;
				refcount_inc(&tt->ref);
				found = tt;
				*out = &ss->group;
				swprof_group_get(&ss->group);
			}
			raw_spin_unlock_irqrestore(&tt->lock, flags);
			if (found)
				goto out;
		}
	}
out:
	rcu_read_unlock();
	return found;
}

/*
 * The segment's first sample is due: charge it to max_sampling_count.
 * Any context (the WALL timer).  False: the count is spent.
 */
static bool charge(struct swprof_target *t)
{
	struct swprof_ttask *tt = t->ttask;
	unsigned long flags;
	bool ok;

	raw_spin_lock_irqsave(&tt->lock, flags);
	ok = tt->admitted < tt->max_sampling_count;
	if (ok)
		tt->admitted++;
	else
		tt->refused_count++;
	raw_spin_unlock_irqrestore(&tt->lock, flags);
	return ok;
}

static void unadmit(struct swprof_ttask *tt)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&tt->lock, flags);
	tt->active--;
	raw_spin_unlock_irqrestore(&tt->lock, flags);
	task_put(tt);
}

/*
 * A segment's timer: nothing before its first sample is due (the
 * threshold); then the task's count is charged, or the segment ends
 * without a sample; then WALL sampling until the per-segment maximum.
 */
static enum hrtimer_restart segment_tick(struct hrtimer *timer)
{
	struct swprof_target *t = container_of(timer, struct swprof_target, timer);

	if (!test_bit(SWPROF_T_ENABLED, &t->state))
		return HRTIMER_NORESTART;
	if (!t->trace_charged) {
		/* a trace segment reached its threshold: now it counts */
		if (!charge(t)) {
			swprof_segment_end(t, SWPROF_TRACE_END_QUOTA);
			return HRTIMER_NORESTART;
		}
		t->trace_charged = true;
	}
	swprof_sampler_wall_tick(t);
	if (t->trace_max && READ_ONCE(t->trace_seq) >= t->trace_max &&
	    !test_bit(SWPROF_T_ENDED, &t->state))
		swprof_segment_end(t, SWPROF_TRACE_END_MAX_SAMPLES);
	return test_bit(SWPROF_T_ENABLED, &t->state) ? HRTIMER_RESTART : HRTIMER_NORESTART;
}

/* Its fd is gone: a segment still running ends. */
static void segment_destroy(struct swprof_target *t)
{
	if (t->ttask && !test_bit(SWPROF_T_ENDED, &t->state))
		swprof_segment_end(t, SWPROF_TRACE_END_SESSION);
}

static void segment_free(struct swprof_target *t)
{
	if (t->ttask)
		task_put(t->ttask);
}

static const struct swprof_target_ops segment_ops = {
	.tick = segment_tick,
	.ipi = swprof_sampler_wall_ipi,
	.destroy = segment_destroy,
	.free = segment_free,
};

/* SWPROF_IOC_TRACE_BEGIN, for the calling thread. */
int swprof_trace_begin(void __user *uarg)
{
	struct swprof_trace_begin b;
	struct swprof_ttask *tt;
	struct swprof_group *g;
	struct swprof_target_params p;
	struct swprof_target *t;
	unsigned long flags;
	u64 real = ktime_get_real_ns(), first;
	bool ended;
	int err;

	err = swprof_copy_in(&b, sizeof(b), sizeof(b), uarg);
	if (err)
		return err;
	if (b.flags || b.task || b.__reserved || !str_ok(b.endpoint, sizeof(b.endpoint)) ||
	    !str_ok(b.segment_id, sizeof(b.segment_id)))
		return -EINVAL;
	rcu_read_lock();
	t = current_segment();
	rcu_read_unlock();
	if (t)
		return -EALREADY;
	tt = admit(b.endpoint, &g, &err);
	if (!tt)
		return err;
	p = g->p;	/* its pid_ns lives as long as the group */
	p.period_ns = tt->dump_period_ns;
	get_task_struct(current);
	t = swprof_target_new(&p, current, &err);
	if (!t) {
		put_task_struct(current);
		goto undo;
	}
	t->ttask = tt;		/* the admission's reference */
	t->trace_task = tt->id;
	t->trace_max = tt->max_samples;
	swprof_emit_trace_begin(t, b.segment_id, real);
	raw_spin_lock_irqsave(&tt->lock, flags);
	ended = tt->ended;
	if (!ended)
		list_add_tail(&t->tnode, &tt->targets);
	raw_spin_unlock_irqrestore(&tt->lock, flags);
	if (ended) {
		/* the task ended meanwhile: as if it had never matched */
		set_bit(SWPROF_T_ENDED, &t->state);
		t->ttask = NULL;
		t->trace_task = 0;
		swprof_target_destroy(t);
		err = -ENOENT;
		goto undo;
	}
	swprof_target_hash(t);
	set_bit(SWPROF_T_ENABLED, &t->state);
	swprof_target_update_state(t);
	/* the first dump after the threshold, then one every dump period */
	first = max_t(u64, tt->min_duration_ns, 1);
	swprof_target_start(t, first);
	swprof_group_add_pending(g, t);
	swprof_group_put(g);
	{
		struct swprof_event_info info = {
			.pid = current->tgid, .tid = current->pid, .task = tt->id,
			.segment_id = b.segment_id, .endpoint = b.endpoint,
		};

		swprof_event(SWPROF_CMD_TARGET_ADDED, &info);
	}
	b.task = tt->id;
	if (copy_to_user(&((struct swprof_trace_begin __user *)uarg)->task, &b.task, sizeof(b.task)))
		return -EFAULT;
	return 0;
undo:
	swprof_group_put(g);
	unadmit(tt);
	return err;
}

int swprof_trace_end(void)
{
	struct swprof_target *t;

	rcu_read_lock();
	t = current_segment();
	if (t)
		swprof_segment_end(t, SWPROF_TRACE_END_CALLED);
	rcu_read_unlock();
	return t ? 0 : -ENOENT;
}
