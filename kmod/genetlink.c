// SPDX-License-Identifier: GPL-2.0-only
/*
 * Events for the controller: generic netlink family "swprof", one
 * multicast group "events" (the end of include/uapi/linux/swprof.h).
 *
 * swprof_event() is called on the sampling paths: hrtimer callbacks in
 * hardirq, scheduler tracepoints with the runqueue lock held, exit and exec.
 * There it must not allocate, sleep or send (a send wakes the listener,
 * which takes runqueue locks).  So it only copies the event into a bounded
 * byte queue under a raw spinlock and, when the queue stops being empty,
 * queues an irq_work; that runs once the hook is over and queues a work
 * item, which builds and multicasts the messages with GFP_KERNEL.  A full
 * queue drops the new event and counts it (parameter events_dropped).
 * While nobody listens, nothing is queued and nothing is built.
 *
 * Only CAP_NET_ADMIN may join the group: events name the threads being
 * profiled and the endpoints being traced, whoever registered them.  The
 * family is not netnsok: it exists in the initial network namespace, like
 * the pids it carries.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/irq_work.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>

#include "genetlink.h"
#include "kcompat.h"

static unsigned int events_queue_kb = 64;
module_param(events_queue_kb, uint, 0444);
MODULE_PARM_DESC(events_queue_kb,
		 "Room for netlink events waiting to be sent (KiB, 4..16384; ~48 bytes per event)");

static atomic_long_t events_dropped = ATOMIC_LONG_INIT(0);

static int dropped_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%ld\n", atomic_long_read(&events_dropped));
}

static const struct kernel_param_ops dropped_ops = { .get = dropped_get };
module_param_cb(events_dropped, &dropped_ops, NULL, 0444);
MODULE_PARM_DESC(events_dropped, "Netlink events lost: queue full or out of memory");

/*
 * A queued event: the fixed part, then the strings without their NULs.
 * cmd 0 is padding up to the end of the buffer: a record never wraps.
 */
struct ev_rec {
	u16 size;		/* bytes, header included, a multiple of 8 */
	u8 cmd;
	u8 has;			/* EV_HAS_* */
	u8 seg_len;
	u8 ep_len;
	u16 __pad;
	u32 pid, tid, task, admitted;
	u64 lost, unread, ring_size;
	char str[];
};

#define EV_HAS_SEGMENT_ID	BIT(0)
#define EV_HAS_ENDPOINT		BIT(1)
#define EV_REC_MAX	ALIGN(sizeof(struct ev_rec) + SWPROF_SEGMENT_ID_MAX - 1 + \
			      SWPROF_ENDPOINT_MAX - 1, 8)

static struct {
	raw_spinlock_t lock;
	bool on;		/* family registered, not yet going away */
	u8 *buf;
	unsigned long size;	/* power of two */
	unsigned long head;	/* free-running byte positions */
	unsigned long tail;
} evq = {
	.lock = __RAW_SPIN_LOCK_UNLOCKED(evq.lock),
};

static const struct genl_multicast_group swprof_mcgrps[] = {
#ifdef SWPROF_GENL_MCGRP_FLAGS
	{ .name = SWPROF_GENL_MCGRP, .flags = SWPROF_GENL_MCGRP_FLAGS },
#else
	{ .name = SWPROF_GENL_MCGRP },
#endif
};

/* Multicast only: no commands (as drivers/acpi/event.c). */
static struct genl_family swprof_genl_family = {
	.name = SWPROF_GENL_NAME,
	.version = SWPROF_GENL_VERSION,
	.maxattr = SWPROF_ATTR_MAX,
	.module = THIS_MODULE,
	.mcgrps = swprof_mcgrps,
	.n_mcgrps = ARRAY_SIZE(swprof_mcgrps),
};

static void events_send_fn(struct work_struct *work);
static DECLARE_WORK(events_send_work, events_send_fn);

static void events_kick_fn(struct irq_work *work)
{
	queue_work(system_unbound_wq, &events_send_work);
}

static struct irq_work events_kick = IRQ_WORK_INIT(events_kick_fn);

static bool events_listened(void)
{
	return genl_has_listeners(&swprof_genl_family, &init_net, 0) > 0;
}

static void events_drop(void)
{
	atomic_long_inc(&events_dropped);
}

/* The queue is locked; @r has room for the fixed part and the strings. */
static void ev_rec_fill(struct ev_rec *r, enum swprof_genl_cmd cmd,
			const struct swprof_event_info *info, unsigned int seg_len,
			unsigned int ep_len, unsigned int size)
{
	r->size = size;
	r->cmd = cmd;
	r->has = (info->segment_id ? EV_HAS_SEGMENT_ID : 0) |
		 (info->endpoint ? EV_HAS_ENDPOINT : 0);
	r->seg_len = seg_len;
	r->ep_len = ep_len;
	r->__pad = 0;
	r->pid = info->pid;
	r->tid = info->tid;
	r->task = info->task;
	r->admitted = info->admitted;
	r->lost = info->lost;
	r->unread = info->unread;
	r->ring_size = info->ring_size;
	if (seg_len)
		memcpy(r->str, info->segment_id, seg_len);
	if (ep_len)
		memcpy(r->str + seg_len, info->endpoint, ep_len);
}

/*
 * Any context, NMI included: never sleeps, never allocates, never sends;
 * takes only evq.lock, with interrupts off.
 */
void swprof_event(enum swprof_genl_cmd cmd, const struct swprof_event_info *info)
{
	unsigned int seg_len = 0, ep_len = 0, need, pad = 0;
	unsigned long flags, off;
	struct ev_rec *r;
	bool was_empty;

	if (!READ_ONCE(evq.on) || !events_listened())
		return;
	if (cmd <= SWPROF_CMD_UNSPEC || cmd >= __SWPROF_CMD_MAX)
		return;		/* a caller's bug; no printk from here (runqueue lock) */
	if (info->segment_id)
		seg_len = strnlen(info->segment_id, SWPROF_SEGMENT_ID_MAX - 1);
	if (info->endpoint)
		ep_len = strnlen(info->endpoint, SWPROF_ENDPOINT_MAX - 1);
	need = ALIGN(sizeof(*r) + seg_len + ep_len, 8);

	/* an NMI must not spin on a lock its own CPU may hold */
	if (in_nmi()) {
		if (!raw_spin_trylock_irqsave(&evq.lock, flags)) {
			events_drop();
			return;
		}
	} else {
		raw_spin_lock_irqsave(&evq.lock, flags);
	}
	if (!evq.on)
		goto unlock;
	off = evq.head & (evq.size - 1);
	if (off + need > evq.size)
		pad = evq.size - off;
	if (evq.size - (evq.head - evq.tail) < pad + need) {
		events_drop();
		goto unlock;
	}
	was_empty = evq.head == evq.tail;
	if (pad) {
		r = (struct ev_rec *)(evq.buf + off);
		r->size = pad;
		r->cmd = 0;
		evq.head += pad;
		off = 0;
	}
	ev_rec_fill((struct ev_rec *)(evq.buf + off), cmd, info, seg_len, ep_len, need);
	evq.head += need;
	/* under the lock, so that swprof_events_exit() cannot miss this kick */
	if (was_empty)
		irq_work_queue(&events_kick);
unlock:
	raw_spin_unlock_irqrestore(&evq.lock, flags);
}

/* Take the oldest event into @out (EV_REC_MAX bytes); false when none is left. */
static bool events_pop(struct ev_rec *out)
{
	unsigned long flags;
	struct ev_rec *r;
	bool found = false;

	raw_spin_lock_irqsave(&evq.lock, flags);
	while (evq.tail != evq.head) {
		r = (struct ev_rec *)(evq.buf + (evq.tail & (evq.size - 1)));
		evq.tail += r->size;
		if (r->cmd) {
			memcpy(out, r, r->size);
			found = true;
			break;
		}
	}
	raw_spin_unlock_irqrestore(&evq.lock, flags);
	return found;
}

static size_t ev_msg_size(const struct ev_rec *r)
{
	return 4 * nla_total_size(sizeof(u32)) + 3 * nla_total_size_64bit(sizeof(u64)) +
	       nla_total_size(r->seg_len + 1) + nla_total_size(r->ep_len + 1);
}

static int put_string(struct sk_buff *skb, int type, const char *s, unsigned int len)
{
	struct nlattr *a = nla_reserve(skb, type, len + 1);

	if (!a)
		return -EMSGSIZE;
	memcpy(nla_data(a), s, len);
	((char *)nla_data(a))[len] = '\0';
	return 0;
}

/*
 * Ids when known (0 = absent), the counters of the command, strings when
 * given.  u64 alignment padding, where an architecture needs it, is an
 * attribute of type 0 (SWPROF_ATTR_UNSPEC), which readers ignore.
 */
static int ev_fill(struct sk_buff *skb, const struct ev_rec *r)
{
	if (r->pid && nla_put_u32(skb, SWPROF_ATTR_PID, r->pid))
		return -EMSGSIZE;
	if (r->tid && nla_put_u32(skb, SWPROF_ATTR_TID, r->tid))
		return -EMSGSIZE;
	if (r->task && nla_put_u32(skb, SWPROF_ATTR_TASK, r->task))
		return -EMSGSIZE;
	switch (r->cmd) {
	case SWPROF_CMD_SAMPLES_LOST:
		if (nla_put_u64_64bit(skb, SWPROF_ATTR_LOST, r->lost, SWPROF_ATTR_UNSPEC))
			return -EMSGSIZE;
		break;
	case SWPROF_CMD_RING_WATERMARK:
		if (nla_put_u64_64bit(skb, SWPROF_ATTR_UNREAD, r->unread, SWPROF_ATTR_UNSPEC) ||
		    nla_put_u64_64bit(skb, SWPROF_ATTR_RING_SIZE, r->ring_size,
				      SWPROF_ATTR_UNSPEC))
			return -EMSGSIZE;
		break;
	case SWPROF_CMD_TRACE_TASK_ENDED:
		if (nla_put_u32(skb, SWPROF_ATTR_ADMITTED, r->admitted))
			return -EMSGSIZE;
		break;
	}
	if ((r->has & EV_HAS_SEGMENT_ID) &&
	    put_string(skb, SWPROF_ATTR_SEGMENT_ID, r->str, r->seg_len))
		return -EMSGSIZE;
	if ((r->has & EV_HAS_ENDPOINT) &&
	    put_string(skb, SWPROF_ATTR_ENDPOINT, r->str + r->seg_len, r->ep_len))
		return -EMSGSIZE;
	return 0;
}

static void ev_send(const struct ev_rec *r)
{
	struct sk_buff *skb;
	void *hdr;

	skb = genlmsg_new(ev_msg_size(r), GFP_KERNEL);
	if (!skb)
		goto drop;
	hdr = genlmsg_put(skb, 0, 0, &swprof_genl_family, 0, r->cmd);
	if (!hdr || ev_fill(skb, r)) {
		nlmsg_free(skb);
		goto drop;
	}
	genlmsg_end(skb, hdr);
	/* -ESRCH: the last listener just left; a full listener learns it from ENOBUFS */
	genlmsg_multicast(&swprof_genl_family, skb, 0, 0, GFP_KERNEL);
	return;
drop:
	events_drop();
}

static void events_send_fn(struct work_struct *work)
{
	static long reported;
	u64 buf[EV_REC_MAX / sizeof(u64)];
	struct ev_rec *r = (struct ev_rec *)buf;
	long dropped;

	while (events_pop(r)) {
		/* the listener may have left since the event was queued */
		if (events_listened())
			ev_send(r);
		cond_resched();
	}
	dropped = atomic_long_read(&events_dropped);
	if (dropped != reported) {
		pr_warn_ratelimited("%ld netlink events dropped so far (events_queue_kb=%u)\n",
				    dropped, events_queue_kb);
		reported = dropped;
	}
}

int swprof_events_init(void)
{
	unsigned long size;
	int err;

	BUILD_BUG_ON(SWPROF_SEGMENT_ID_MAX > 256 || SWPROF_ENDPOINT_MAX > 256);
	BUILD_BUG_ON(__SWPROF_CMD_MAX > 256);
#ifndef SWPROF_GENL_MCGRP_FLAGS
	pr_info("netlink events off: this kernel cannot keep unprivileged listeners out of a multicast group\n");
	return 0;
#endif
	size = roundup_pow_of_two(clamp(events_queue_kb, 4U, 16384U) * 1024UL);
	evq.buf = kvzalloc(size, GFP_KERNEL);
	if (!evq.buf)
		return -ENOMEM;
	evq.size = size;
	evq.head = 0;
	evq.tail = 0;
	err = genl_register_family(&swprof_genl_family);
	if (err) {
		pr_err("cannot register the generic netlink family %s: %d\n",
		       SWPROF_GENL_NAME, err);
		kvfree(evq.buf);
		evq.buf = NULL;
		return err;
	}
	raw_spin_lock_irq(&evq.lock);
	WRITE_ONCE(evq.on, true);
	raw_spin_unlock_irq(&evq.lock);
	return 0;
}

/*
 * Events queued before now are still sent; nothing can be queued after.
 * Listeners keep their sockets: unregistering the family drops their
 * membership and tells the controller family (CTRL_CMD_DELFAMILY).
 */
void swprof_events_exit(void)
{
	if (!evq.buf)
		return;
	raw_spin_lock_irq(&evq.lock);
	WRITE_ONCE(evq.on, false);
	raw_spin_unlock_irq(&evq.lock);
	irq_work_sync(&events_kick);
	flush_work(&events_send_work);
	genl_unregister_family(&swprof_genl_family);
	kvfree(evq.buf);
	evq.buf = NULL;
}
