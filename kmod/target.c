// SPDX-License-Identifier: GPL-2.0-only
/*
 * Targets: one registered thread, one ring, one fd.  Closing the fd (and
 * unmapping its ring) unregisters the thread.
 *
 * Lookup from the scheduler hooks goes through an RCU hash keyed by the
 * task_struct pointer; we hold a task reference, so the key cannot be
 * reused while the entry exists.  A released target is unhashed, and freed
 * only after a grace period, once no hook can still see it.
 *
 * A target owns its timer: it arms it (enable, switch-in), stops it, and
 * cancels it before the free; what the timer does when it fires is its
 * kind's (struct swprof_target_ops, sampler.c and session.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kcompat.h"
#include "params.h"
#include "stats.h"
#include "target.h"
#include "uapi.h"

#define SWPROF_HASH_BITS 10

static DEFINE_HASHTABLE(swprof_hash, SWPROF_HASH_BITS);
static DEFINE_RAW_SPINLOCK(swprof_hash_lock);
static struct kmem_cache *swprof_target_cache;
static struct workqueue_struct *swprof_wq;
atomic_t swprof_nr_targets = ATOMIC_INIT(0);

static struct hlist_head *hash_head(struct task_struct *task)
{
	return &swprof_hash[hash_ptr(task, SWPROF_HASH_BITS)];
}

/* Callers hold rcu_read_lock() or run with preemption disabled. */
struct swprof_target *swprof_hash_first(struct task_struct *task)
{
	struct swprof_target *t;

	hlist_for_each_entry_rcu(t, hash_head(task), hnode)
		if (t->task == task)
			return t;
	return NULL;
}

struct swprof_target *swprof_hash_next(struct swprof_target *t, struct task_struct *task)
{
	for (t = hlist_entry_safe(rcu_dereference_raw(hlist_next_rcu(&t->hnode)),
				  struct swprof_target, hnode);
	     t; t = hlist_entry_safe(rcu_dereference_raw(hlist_next_rcu(&t->hnode)),
				     struct swprof_target, hnode))
		if (t->task == task)
			return t;
	return NULL;
}

/* From now on the scheduler hooks see the target. */
void swprof_target_hash(struct swprof_target *t)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&swprof_hash_lock, flags);
	hlist_add_head_rcu(&t->hnode, hash_head(t->task));
	set_bit(SWPROF_T_HASHED, &t->state);
	raw_spin_unlock_irqrestore(&swprof_hash_lock, flags);
}

void swprof_target_unhash(struct swprof_target *t)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&swprof_hash_lock, flags);
	if (test_and_clear_bit(SWPROF_T_HASHED, &t->state))
		hlist_del_rcu(&t->hnode);
	raw_spin_unlock_irqrestore(&swprof_hash_lock, flags);
}

static void target_free(struct swprof_target *t)
{
	hrtimer_cancel(&t->timer);
	/* a WALL sample request may still be on its way to another CPU */
	while (atomic_read(&t->ipi_busy))
		cpu_relax();
	if (t->ops->free)
		t->ops->free(t);
	swprof_ring_free(&t->ring);
	kvfree(t->snap);
	if (t->task)
		put_task_struct(t->task);
	if (t->pid_ns)
		put_pid_ns(t->pid_ns);
	if (t->mem)
		swprof_mem_uncharge(t->mem);
	atomic_dec(&swprof_nr_targets);
	kmem_cache_free(swprof_target_cache, t);
}

static void target_free_work(struct work_struct *work)
{
	target_free(container_of(to_rcu_work(work), struct swprof_target, free_rwork));
}

/*
 * Stop sampling, unhash, let its maker undo its part (a trace segment
 * still running ends), and free after a grace period: the scheduler hooks
 * may still hold the target until then.
 */
void swprof_target_destroy(struct swprof_target *t)
{
	set_bit(SWPROF_T_DEAD, &t->state);
	swprof_target_stop(t);
	swprof_target_unhash(t);
	if (t->ops->destroy)
		t->ops->destroy(t);
	INIT_RCU_WORK(&t->free_rwork, target_free_work);
	queue_rcu_work(swprof_wq, &t->free_rwork);
}

void swprof_target_update_state(struct swprof_target *t)
{
	u32 s = 0;

	if (test_bit(SWPROF_T_ENABLED, &t->state))
		s |= SWPROF_TSTATE_ENABLED;
	if (test_bit(SWPROF_T_EXITED, &t->state))
		s |= SWPROF_TSTATE_EXITED;
	if (test_bit(SWPROF_T_DENIED, &t->state))
		s |= SWPROF_TSTATE_DENIED;
	WRITE_ONCE(t->ring.hdr->state, s);
}

/*
 * The one way sampling stops (disable, exit, exec into privilege, the end
 * of a trace segment, the fd's release): no new arming after this.  A CPU
 * timer is pinned to the target's CPU, so it is not running here unless we
 * are that CPU's interrupt; a WALL timer running elsewhere sees !ENABLED
 * and does not restart; whatever is left is cancelled before the free.
 */
void swprof_target_stop(struct swprof_target *t)
{
	clear_bit(SWPROF_T_ENABLED, &t->state);
	hrtimer_try_to_cancel(&t->timer);
}

/* CPU mode, on the target's CPU with interrupts off, current == t->task. */
void swprof_target_arm(struct swprof_target *t)
{
	s64 rem = t->remaining_ns;

	if (rem <= 0 || rem > t->period_ns)
		rem = t->period_ns;
	hrtimer_start(&t->timer, ns_to_ktime(rem), HRTIMER_MODE_REL_PINNED_HARD);
}

/* IPI on the target's CPU: start its CPU timer if it is running there now. */
static void arm_if_running(void *arg)
{
	struct swprof_target *t = arg;

	if (current == t->task && test_bit(SWPROF_T_ENABLED, &t->state) &&
	    !test_bit(SWPROF_T_EXITED, &t->state) && t->mode == SWPROF_MODE_CPU)
		swprof_target_arm(t);
}

/* WALL: first sample after @first_ns, then one every period. */
void swprof_target_start(struct swprof_target *t, u64 first_ns)
{
	hrtimer_start(&t->timer, ns_to_ktime(first_ns), HRTIMER_MODE_REL_HARD);
}

int swprof_target_enable(struct swprof_target *t)
{
	if (test_bit(SWPROF_T_DENIED, &t->state))
		return -EPERM;
	if (test_bit(SWPROF_T_EXITED, &t->state))
		return -ESRCH;
	if (test_and_set_bit(SWPROF_T_ENABLED, &t->state))
		return 0;
	swprof_target_update_state(t);
	smp_mb__after_atomic();
	switch (t->mode) {
	case SWPROF_MODE_CPU:
		/*
		 * A target that is switched out gets its timer at its next
		 * switch-in; one running now (maybe spinning, never switching)
		 * gets it here.
		 */
		smp_call_function_single(task_cpu(t->task), arm_if_running, t, 1);
		break;
	case SWPROF_MODE_WALL:
		swprof_target_start(t, t->period_ns);
		break;
	}
	return 0;
}

void swprof_target_disable(struct swprof_target *t)
{
	swprof_target_stop(t);
	swprof_target_update_state(t);
}

/* @task (== t->task) exec'd: its ids in the registrar's namespace may have changed. */
void swprof_target_set_ids(struct swprof_target *t, struct task_struct *task)
{
	t->pid_nr = __task_pid_nr_ns(task, PIDTYPE_TGID, t->pid_ns);
	t->tid_nr = __task_pid_nr_ns(task, PIDTYPE_PID, t->pid_ns);
	WRITE_ONCE(t->ring.hdr->pid, t->pid_nr);
	WRITE_ONCE(t->ring.hdr->tid, t->tid_nr);
}

static int target_release(struct inode *inode, struct file *file)
{
	swprof_target_destroy(file->private_data);
	return 0;
}

static long target_stats(struct swprof_target *t, void __user *uarg)
{
	struct swprof_ring_header *h = t->ring.hdr;
	struct swprof_target_stats st;
	int err;

	/* output only: of the input, only the size is read */
	err = swprof_check_out_size(uarg);
	if (err)
		return err;
	memset(&st, 0, sizeof(st));
	st.tid = READ_ONCE(t->tid_nr);
	st.pid = READ_ONCE(t->pid_nr);
	st.flags = READ_ONCE(h->state);
	st.samples = READ_ONCE(h->samples);
	st.lost = READ_ONCE(h->lost);
	st.faults = READ_ONCE(h->faults);
	st.ktrunc = READ_ONCE(h->ktrunc);
	st.utrunc = READ_ONCE(h->utrunc);
	st.uincomplete = READ_ONCE(h->uincomplete);
	st.timer_misses = READ_ONCE(h->timer_misses);
	st.ring_size = t->ring.size;
	st.unread = swprof_ring_unread(&t->ring);
	return swprof_copy_out(uarg, &st, sizeof(st));
}

static long target_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct swprof_target *t = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (swprof_ioc_key(cmd)) {
	case SWPROF_IOC_KEY(SWPROF_IOC_ENABLE):
		return swprof_target_enable(t);
	case SWPROF_IOC_KEY(SWPROF_IOC_DISABLE):
		swprof_target_disable(t);
		return 0;
	case SWPROF_IOC_KEY(SWPROF_IOC_TARGET_STATS):
		return target_stats(t, uarg);
	default:
		return -ENOTTY;
	}
}

static __poll_t target_poll(struct file *file, struct poll_table_struct *pt)
{
	struct swprof_target *t = file->private_data;

	return swprof_ring_poll(&t->ring, file, pt);
}

static int target_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct swprof_target *t = file->private_data;

	return swprof_ring_mmap(&t->ring, vma);
}

static const struct file_operations swprof_target_fops = {
	.owner = THIS_MODULE,
	.release = target_release,
	.unlocked_ioctl = target_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.poll = target_poll,
	.mmap = target_mmap,
	.llseek = noop_llseek,
};

/*
 * An fd for a target that is ready (swprof_new_fd(): installed, or only
 * reserved with the file in *@reserved).  Once the file exists its release
 * destroys the target; on error the caller still owns it.
 */
int swprof_target_fd(struct swprof_target *t, struct file **reserved)
{
	return swprof_new_fd("[swprof-target]", &swprof_target_fops, t, reserved);
}

/*
 * May a registrar with these credentials sample @task?  Itself: always.
 * Another thread: only with the same credentials as all of the target's and
 * a dumpable target (the rule ptrace applies), or CAP_SYS_PTRACE.
 * ptrace_may_access() is not exported, hence this restatement of its
 * uid/gid test.
 */
bool swprof_may_sample(bool ptrace_cap, kuid_t euid, kgid_t egid, struct task_struct *task)
{
	const struct cred *tc;
	bool same;

	if (ptrace_cap)
		return true;
	rcu_read_lock();
	tc = __task_cred(task);
	same = uid_eq(euid, tc->euid) && uid_eq(euid, tc->suid) && uid_eq(euid, tc->uid) &&
	       gid_eq(egid, tc->egid) && gid_eq(egid, tc->sgid) && gid_eq(egid, tc->gid);
	rcu_read_unlock();
	if (!same)
		return false;
	task_lock(task);
	same = swprof_task_dumpable_by_owner(task);
	task_unlock(task);
	return same;
}

/*
 * The address space of process @pid (caller's namespace; 0: the caller),
 * pinned with mmgrab() (the struct, not the mappings), if the caller may
 * sample it.  NULL with *err: ESRCH (no such process, or no user memory),
 * EPERM.
 */
struct mm_struct *swprof_process_mm(const struct swprof_caps *caps, u32 pid, int *err)
{
	struct task_struct *task;
	struct mm_struct *mm;

	if (pid > PID_MAX_LIMIT) {
		*err = -ESRCH;
		return NULL;
	}
	rcu_read_lock();
	task = pid ? pid_task(find_vpid(pid), PIDTYPE_TGID) : current->group_leader;
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	if (!task) {
		*err = -ESRCH;
		return NULL;
	}
	if (!swprof_may_sample(caps->ptrace, current_euid(), current_egid(), task)) {
		put_task_struct(task);
		*err = -EPERM;
		return NULL;
	}
	task_lock(task);
	mm = task->mm;
	if (mm && !(task->flags & PF_KTHREAD))
		mmgrab(mm);
	else
		mm = NULL;
	task_unlock(task);
	put_task_struct(task);
	if (!mm)
		*err = -ESRCH;
	return mm;
}

/*
 * In the exec hook, current == @p: an unprivileged registrar must not keep
 * sampling a thread that exec'd into something it could not have
 * registered (setuid, file caps, undumpable): the same rule ptrace applies.
 */
bool swprof_target_exec_denied(struct swprof_target *t, struct task_struct *p)
{
	const struct cred *c = current_cred();

	if (t->ptrace_cap)
		return false;
	if (!uid_eq(c->uid, t->reg_euid) || !uid_eq(c->euid, t->reg_euid) ||
	    !uid_eq(c->suid, t->reg_euid) || !gid_eq(c->gid, t->reg_egid) ||
	    !gid_eq(c->egid, t->reg_egid) || !gid_eq(c->sgid, t->reg_egid))
		return true;
	return !swprof_task_dumpable_by_owner(p);
}

/* An attr checked and completed into params (p->ops is the caller's to set). */
int swprof_target_params_from_attr(const struct swprof_caps *caps, struct swprof_target_attr *a,
				   struct swprof_target_params *p)
{
	if (a->flags & ~SWPROF_TARGET_FLAGS_ALL)
		return -EINVAL;
	if (a->mode != SWPROF_MODE_CPU && a->mode != SWPROF_MODE_OFFCPU &&
	    a->mode != SWPROF_MODE_WALL)
		return -EINVAL;
	if (!(a->flags & (SWPROF_TARGET_KSTACK | SWPROF_TARGET_USTACK)) && !a->raw_stack_size)
		return -EINVAL;
	if ((a->flags & SWPROF_TARGET_KSTACK) && !caps->kstack)
		return -EPERM;
	if (!a->period_ns)
		a->period_ns = swprof_default_period_ns;
	if (a->mode != SWPROF_MODE_OFFCPU &&
	    (a->period_ns < SWPROF_MIN_PERIOD_NS || a->period_ns > 60ULL * NSEC_PER_SEC))
		return -EINVAL;
	if (a->mode != SWPROF_MODE_OFFCPU && a->min_block_ns)
		return -EINVAL;
	if (a->max_kernel_depth > SWPROF_MAX_DEPTH || a->max_user_depth > SWPROF_MAX_DEPTH)
		return -EINVAL;
	if (!a->max_kernel_depth)
		a->max_kernel_depth = swprof_default_depth;
	if (!a->max_user_depth)
		a->max_user_depth = swprof_default_depth;
	/* frames of a kind not asked for take no room in the ring */
	if (!(a->flags & SWPROF_TARGET_KSTACK))
		a->max_kernel_depth = 0;
	if (!(a->flags & SWPROF_TARGET_USTACK))
		a->max_user_depth = 0;
	if (!a->ring_size)
		a->ring_size = swprof_default_ring_size;
	if (a->ring_size < PAGE_SIZE || !is_power_of_2(a->ring_size) ||
	    a->ring_size > swprof_max_ring_size)
		return -EINVAL;
	if (a->raw_stack_size % 8 || a->raw_stack_size > SWPROF_MAX_RAW_STACK)
		return -EINVAL;
	if (a->wakeup_bytes > a->ring_size)
		return -EINVAL;
	/* the largest record must fit in the ring, with its LOST record */
	if (sizeof(struct swprof_sample) + 8 * (a->max_kernel_depth + a->max_user_depth) +
	    (a->raw_stack_size ? 8 * SWPROF_UREGS_NR + a->raw_stack_size : 0) +
	    sizeof(struct swprof_lost) > a->ring_size)
		return -EINVAL;
	*p = (struct swprof_target_params){
		.mode = a->mode,
		.flags = a->flags & ~SWPROF_TARGET_PROCESS,
		.period_ns = a->period_ns,
		.kdepth = a->max_kernel_depth,
		.udepth = a->max_user_depth,
		.ring_size = a->ring_size,
		.raw_size = a->raw_stack_size,
		.wakeup_bytes = a->wakeup_bytes,
		.min_block_ns = a->min_block_ns,
		.ptrace_cap = caps->ptrace && capable(CAP_SYS_PTRACE),
		.reg_euid = current_euid(),
		.reg_egid = current_egid(),
		.pid_ns = task_active_pid_ns(current),
	};
	return 0;
}

/*
 * A new target for @task (a reference the target takes over on success),
 * not hashed, not enabled.  NULL with *err set when a limit or memory says no.
 */
struct swprof_target *swprof_target_new(const struct swprof_target_params *p,
					struct task_struct *task, int *err)
{
	struct swprof_target *t;
	u64 mem = (u64)p->ring_size + 2 * PAGE_SIZE;

	if (atomic_inc_return(&swprof_nr_targets) > swprof_max_targets) {
		*err = -ENOSPC;
		goto count;
	}
	*err = swprof_mem_charge(mem);
	if (*err)
		goto count;
	t = kmem_cache_zalloc(swprof_target_cache, GFP_KERNEL);
	if (!t) {
		*err = -ENOMEM;
		goto mem;
	}
	/* from here on target_free() undoes everything */
	t->mem = mem;
	t->ops = p->ops;
	t->pid_ns = get_pid_ns(p->pid_ns);
	t->mode = p->mode;
	t->period_ns = p->period_ns;
	t->stack = (struct swprof_stack_cfg){
		.flags = p->flags,
		.kdepth = p->kdepth,
		.udepth = p->udepth,
		.raw_size = p->raw_size,
	};
	t->min_block_ns = p->min_block_ns;
	t->ptrace_cap = p->ptrace_cap;
	t->reg_euid = p->reg_euid;
	t->reg_egid = p->reg_egid;
	t->pid_nr = __task_pid_nr_ns(task, PIDTYPE_TGID, t->pid_ns);
	t->tid_nr = __task_pid_nr_ns(task, PIDTYPE_PID, t->pid_ns);
	INIT_LIST_HEAD(&t->gnode);
	INIT_LIST_HEAD(&t->tnode);
	/* WALL: any CPU, it samples a thread that may be anywhere; else pinned */
	swprof_hrtimer_setup(&t->timer, p->ops->tick, CLOCK_MONOTONIC,
			     t->mode == SWPROF_MODE_WALL ? HRTIMER_MODE_REL_HARD :
							   HRTIMER_MODE_REL_PINNED_HARD);
	if (p->ops->ipi)
		INIT_CSD(&t->csd, p->ops->ipi, t);
	t->remaining_ns = t->period_ns;
	*err = swprof_ring_alloc(&t->ring, p->ring_size, p->wakeup_bytes);
	if (!*err && t->mode != SWPROF_MODE_CPU) {
		t->snap = kvzalloc(sizeof(*t->snap) + swprof_capture_max(&t->stack), GFP_KERNEL);
		if (!t->snap)
			*err = -ENOMEM;
	}
	if (*err) {
		target_free(t);
		return NULL;
	}
	t->task = task;
	t->ring.hdr->tid = t->tid_nr;
	t->ring.hdr->pid = t->pid_nr;
	t->ring.hdr->mode = t->mode;
	t->ring.hdr->period_ns = t->period_ns;
	return t;

mem:
	swprof_mem_uncharge(mem);
count:
	atomic_dec(&swprof_nr_targets);
	return NULL;
}

static struct task_struct *get_target_task(u32 tid)
{
	struct task_struct *task;

	if (!tid) {
		get_task_struct(current);
		return current;
	}
	if (tid > PID_MAX_LIMIT)
		return ERR_PTR(-ESRCH);
	rcu_read_lock();
	task = pid_task(find_vpid(tid), PIDTYPE_PID);
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	return task ? task : ERR_PTR(-ESRCH);
}

/* SWPROF_IOC_REGISTER of one thread: returns its target's fd. */
int swprof_target_register(const struct swprof_target_params *p, u32 tid, bool enable)
{
	struct swprof_target *t;
	struct task_struct *task;
	int err, fd;

	task = get_target_task(tid);
	if (IS_ERR(task))
		return PTR_ERR(task);
	if (task->flags & (PF_KTHREAD | PF_EXITING)) {
		err = task->flags & PF_KTHREAD ? -EINVAL : -ESRCH;
		goto put_task;
	}
	if (task != current && !swprof_may_sample(p->ptrace_cap, p->reg_euid, p->reg_egid, task)) {
		err = -EPERM;
		goto put_task;
	}
	t = swprof_target_new(p, task, &err);
	if (!t)
		goto put_task;
	swprof_target_hash(t);
	/* exit sets PF_EXITING before its tracepoint: after hashing, either we see it or the hook sees us */
	smp_mb();
	if (READ_ONCE(task->flags) & PF_EXITING) {
		err = -ESRCH;
		goto destroy;
	}
	if (enable)
		swprof_target_enable(t);
	fd = swprof_target_fd(t, NULL);
	if (fd < 0) {
		err = fd;
		goto destroy;
	}
	return fd;

destroy:
	swprof_target_destroy(t);
	return err;
put_task:
	put_task_struct(task);
	return err;
}

int swprof_targets_init(void)
{
	swprof_target_cache = KMEM_CACHE(swprof_target, 0);
	if (!swprof_target_cache)
		return -ENOMEM;
	swprof_wq = alloc_workqueue("swprof", WQ_UNBOUND, 0);
	if (!swprof_wq) {
		kmem_cache_destroy(swprof_target_cache);
		return -ENOMEM;
	}
	return 0;
}

/* No fd can be open (each pins the module): only deferred frees remain. */
void swprof_targets_exit(void)
{
	rcu_barrier();
	destroy_workqueue(swprof_wq);
	WARN_ON(atomic_read(&swprof_nr_targets));
	kmem_cache_destroy(swprof_target_cache);
}
