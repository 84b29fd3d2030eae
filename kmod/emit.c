// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writing records into a target's ring: samples from a live capture or from
 * the switch-out snapshot, and the fixed-size records (EXIT, EXEC, COMM,
 * TRACE_BEGIN, TRACE_END).  A per-target guard keeps one producer at a
 * time; samples give up on contention (and count a miss), records that must
 * not be lost wait for the other producer, which takes microseconds.
 *
 * The ring says when a loss or its watermark deserves an event; the event
 * names the target, so it is sent from here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sched/clock.h>
#include <linux/string.h>
#include <linux/ktime.h>

#include "emit.h"
#include "genetlink.h"
#include "params.h"
#include "ring.h"
#include "stats.h"
#include "unwind.h"

static bool emit_begin(struct swprof_target *t, unsigned long *irqflags)
{
	local_irq_save(*irqflags);
	if (atomic_cmpxchg(&t->busy, 0, 1) != 0) {
		local_irq_restore(*irqflags);
		return false;
	}
	return true;
}

/*
 * For records that must not be dropped for contention (EXIT, EXEC, COMM,
 * TRACE_END): the other producer is a sample being written on another CPU,
 * which takes microseconds.
 */
static void emit_begin_wait(struct swprof_target *t, unsigned long *irqflags)
{
	local_irq_save(*irqflags);
	while (atomic_cmpxchg(&t->busy, 0, 1) != 0)
		cpu_relax();
}

static void emit_end(struct swprof_target *t, unsigned long irqflags)
{
	atomic_set_release(&t->busy, 0);
	local_irq_restore(irqflags);
}

static void count_flags(struct swprof_ring *r, u32 flags)
{
	WRITE_ONCE(r->hdr->samples, r->hdr->samples + 1);
	if (flags & SWPROF_SAMPLE_UFAULT)
		WRITE_ONCE(r->hdr->faults, r->hdr->faults + 1);
	if (flags & SWPROF_SAMPLE_KTRUNC)
		WRITE_ONCE(r->hdr->ktrunc, r->hdr->ktrunc + 1);
	if (flags & SWPROF_SAMPLE_UTRUNC)
		WRITE_ONCE(r->hdr->utrunc, r->hdr->utrunc + 1);
	if (flags & SWPROF_SAMPLE_UINCOMPLETE)
		WRITE_ONCE(r->hdr->uincomplete, r->hdr->uincomplete + 1);
}

static u32 sample_size(u16 nk, u16 nu, u32 raw)
{
	u32 size = sizeof(struct swprof_sample) + 8 * (nk + nu);

	if (raw)
		size += 8 * SWPROF_UREGS_NR + round_up(raw, 8);
	return size;
}

static u32 sample_max(const struct swprof_target *t)
{
	return sizeof(struct swprof_sample) + swprof_capture_max(&t->stack);
}

static void ring_event(struct swprof_target *t, enum swprof_genl_cmd cmd, u64 unread)
{
	struct swprof_event_info info = {
		.pid = t->task ? t->task->tgid : 0,
		.tid = t->task ? t->task->pid : 0,
		.lost = t->ring.hdr->lost,
		.unread = unread,
		.ring_size = t->ring.size,
		.task = t->trace_task,
	};

	swprof_event(cmd, &info);
}

/* The record that would have had the next seq does not fit. */
static void drop(struct swprof_target *t)
{
	u64 used;

	swprof_stats_lost();
	if (swprof_ring_drop(&t->ring, &used))
		ring_event(t, SWPROF_CMD_SAMPLES_LOST, used);
}

static void commit(struct swprof_target *t, void *rec, u32 type, u16 flags, u32 size,
		   u64 time_ns)
{
	u64 unread = swprof_ring_commit(&t->ring, rec, type, flags, size, time_ns);

	if (unread)
		ring_event(t, SWPROF_CMD_RING_WATERMARK, unread);
}

/*
 * A sample was due and was not taken: the timer or the IPI ran where the
 * target was not, its snapshot was being rewritten, or another producer
 * held its ring.  The one place a timer miss is counted: in the target's
 * ring header and module-wide.
 */
void swprof_emit_miss(struct swprof_target *t)
{
	swprof_ring_count(&t->ring, &t->ring.hdr->timer_misses);
	swprof_stats_miss();
}

/* The fixed part of a SAMPLE or OFFCPU record, trace fields aside. */
static void sample_fill(struct swprof_target *t, struct swprof_sample *s, u32 flags, u16 nk,
			u16 nu, u32 raw, u64 period_ns)
{
	s->cpu = raw_smp_processor_id();
	s->pid = t->pid_nr;
	s->tid = t->tid_nr;
	s->flags = flags;
	s->nr_kernel = nk;
	s->nr_user = nu;
	s->raw_size = raw;
	s->period_ns = period_ns;
}

/* Fill the trace fields of a sample of a trace segment; false: the segment is full. */
static bool trace_fields(struct swprof_target *t, struct swprof_sample *s)
{
	if (!t->trace_task) {
		s->trace_task = 0;
		s->trace_seq = 0;
		return true;
	}
	if (t->trace_max && t->trace_seq >= t->trace_max)
		return false;
	s->trace_task = t->trace_task;
	s->trace_seq = t->trace_seq;
	return true;
}

/*
 * Write one SAMPLE record for current (== t->task).  @regs are the
 * interrupted registers (NULL when none are known, e.g. at switch-out).
 */
void swprof_emit_sample(struct swprof_target *t, struct pt_regs *regs, u64 period_ns)
{
	struct swprof_ring *r = &t->ring;
	u64 start = swprof_cost_stats ? local_clock() : 0;
	struct swprof_sample *s;
	unsigned long irqflags;
	bool written = false;
	u16 nk, nu;
	u32 flags, raw;

	if (!emit_begin(t, &irqflags)) {
		swprof_emit_miss(t);
		return;
	}
	if (test_bit(SWPROF_T_ENDED, &t->state) || test_bit(SWPROF_T_EXITED, &t->state))
		goto out;
	s = swprof_ring_reserve(r, sample_max(t));
	if (!s) {
		drop(t);
		goto out;
	}
	if (!trace_fields(t, s))
		goto out;
	flags = swprof_capture(&t->stack, regs, false, s->data, &nk, &nu, &raw);
	sample_fill(t, s, flags, nk, nu, raw, period_ns);
	commit(t, s, SWPROF_REC_SAMPLE, SWPROF_STATE_RUNNING, sample_size(nk, nu, raw),
	       ktime_get_mono_fast_ns());
	if (t->trace_task)
		t->trace_seq++;
	count_flags(r, flags);
	written = true;
out:
	emit_end(t, irqflags);
	swprof_stats_sample(written, start ? local_clock() - start : U64_MAX);
}

/*
 * At switch-out, in the target's own context: keep its stack for the
 * OFFCPU record at switch-in, or for WALL samples while it is off CPU.
 */
void swprof_snapshot_take(struct swprof_target *t, u16 state)
{
	struct swprof_snapshot *sn = t->snap;
	u32 raw;

	WRITE_ONCE(sn->seq, sn->seq + 1);	/* odd: being written */
	smp_wmb();
	sn->flags = swprof_capture(&t->stack, NULL, true, sn->data, &sn->nk, &sn->nu, &raw) |
		    SWPROF_SAMPLE_SNAPSHOT;
	sn->raw = raw;
	sn->state = state;
	sn->time_ns = ktime_get_mono_fast_ns();
	sn->valid = true;
	smp_wmb();
	WRITE_ONCE(sn->seq, sn->seq + 1);
}

/*
 * A SAMPLE or OFFCPU record from the snapshot.  @remote: we are not in the
 * target's context (a WALL tick on another CPU): the snapshot may change
 * under us, so the copy is checked against its seq before it is published.
 */
bool swprof_emit_snapshot(struct swprof_target *t, u32 type, u64 period_ns, u64 time_ns,
			  bool remote)
{
	struct swprof_snapshot *sn = t->snap;
	struct swprof_ring *r = &t->ring;
	u64 start = swprof_cost_stats ? local_clock() : 0;
	struct swprof_sample *s;
	unsigned long irqflags;
	unsigned int seq;
	bool written = false;
	u16 nk, nu, state;
	u32 raw, flags;

	if (!emit_begin(t, &irqflags)) {
		swprof_emit_miss(t);
		return false;
	}
	if (test_bit(SWPROF_T_ENDED, &t->state) || test_bit(SWPROF_T_EXITED, &t->state))
		goto out;
	seq = READ_ONCE(sn->seq);
	smp_rmb();
	if ((seq & 1) || !READ_ONCE(sn->valid))
		goto miss;
	nk = READ_ONCE(sn->nk);
	nu = READ_ONCE(sn->nu);
	raw = READ_ONCE(sn->raw);
	flags = READ_ONCE(sn->flags);
	state = READ_ONCE(sn->state);
	if (nk > t->stack.kdepth || nu > t->stack.udepth || raw > t->stack.raw_size)
		goto miss;
	s = swprof_ring_reserve(r, sample_max(t));
	if (!s) {
		drop(t);
		goto out;
	}
	if (!trace_fields(t, s))
		goto out;
	memcpy(s->data, sn->data, 8 * (nk + nu) + (raw ? 8 * SWPROF_UREGS_NR + raw : 0));
	smp_rmb();
	if (remote && READ_ONCE(sn->seq) != seq)
		goto miss;	/* it ran meanwhile: this copy may be torn; nothing published */
	sample_fill(t, s, flags, nk, nu, raw, period_ns);
	commit(t, s, type, state, sample_size(nk, nu, raw), time_ns);
	if (t->trace_task)
		t->trace_seq++;
	count_flags(r, flags);
	written = true;
	goto out;
miss:
	swprof_emit_miss(t);
out:
	emit_end(t, irqflags);
	swprof_stats_sample(written, start ? local_clock() - start : U64_MAX);
	return written;
}

/* Room for a fixed-size record, the guard held; NULL (guard released) when full. */
static void *fixed_begin(struct swprof_target *t, u32 size, unsigned long *irqflags)
{
	void *rec;

	emit_begin_wait(t, irqflags);
	rec = swprof_ring_reserve(&t->ring, size);
	if (!rec) {
		drop(t);
		emit_end(t, *irqflags);
	}
	return rec;
}

static void fixed_end(struct swprof_target *t, void *rec, u32 type, u16 flags, u32 size,
		      unsigned long irqflags)
{
	commit(t, rec, type, flags, size, ktime_get_mono_fast_ns());
	emit_end(t, irqflags);
}

void swprof_emit_exit(struct swprof_target *t, struct task_struct *task)
{
	struct swprof_exit *e;
	unsigned long irqflags;

	e = fixed_begin(t, sizeof(*e), &irqflags);
	if (!e)
		return;
	e->pid = t->pid_nr;
	e->tid = t->tid_nr;
	e->exit_code = task->exit_code;
	e->__pad = 0;
	fixed_end(t, e, SWPROF_REC_EXIT, 0, sizeof(*e), irqflags);
}

void swprof_emit_exec(struct swprof_target *t, struct task_struct *task, u16 flags)
{
	struct swprof_exec *e;
	unsigned long irqflags;

	e = fixed_begin(t, sizeof(*e), &irqflags);
	if (!e)
		return;
	e->pid = t->pid_nr;
	e->tid = t->tid_nr;
	/* current's own comm: nobody else renames it while it execs */
	memcpy(e->comm, task->comm, sizeof(e->comm));
	e->comm[sizeof(e->comm) - 1] = '\0';
	fixed_end(t, e, SWPROF_REC_EXEC, flags, sizeof(*e), irqflags);
}

/* A COMM record with @name (NUL-terminated, cut to SWPROF_COMM_LEN - 1). */
void swprof_emit_comm_name(struct swprof_target *t, const char *name)
{
	struct swprof_comm *c;
	unsigned long irqflags;

	c = fixed_begin(t, sizeof(*c), &irqflags);
	if (!c)
		return;
	c->pid = t->pid_nr;
	c->tid = t->tid_nr;
	strscpy_pad(c->comm, name, sizeof(c->comm));
	fixed_end(t, c, SWPROF_REC_COMM, 0, sizeof(*c), irqflags);
}

void swprof_emit_comm(struct swprof_target *t, struct task_struct *task)
{
	char comm[SWPROF_COMM_LEN];

	/* read here (task_lock() up to 6.x), not with interrupts off in the writer */
	get_task_comm(comm, task);
	swprof_emit_comm_name(t, comm);
}

void swprof_emit_trace_begin(struct swprof_target *t, const char *segment_id, u64 real_ns)
{
	struct swprof_trace_rec *b;
	unsigned long irqflags;

	b = fixed_begin(t, sizeof(*b), &irqflags);
	if (!b)
		return;
	memset(b, 0, sizeof(*b));
	b->task = t->trace_task;
	b->pid = t->pid_nr;
	b->tid = t->tid_nr;
	b->begin_realtime_ns = real_ns;
	b->begin_ns = ktime_get_mono_fast_ns();
	strscpy(b->segment_id, segment_id, sizeof(b->segment_id));
	fixed_end(t, b, SWPROF_REC_TRACE_BEGIN, 0, sizeof(*b), irqflags);
}

void swprof_emit_trace_end(struct swprof_target *t, u32 reason)
{
	struct swprof_trace_end *e;
	unsigned long irqflags;

	e = fixed_begin(t, sizeof(*e), &irqflags);
	if (!e)
		return;
	e->task = t->trace_task;
	e->reason = reason;
	e->samples = t->trace_seq;
	e->__pad = 0;
	e->end_realtime_ns = ktime_get_real_fast_ns();
	fixed_end(t, e, SWPROF_REC_TRACE_END, 0, sizeof(*e), irqflags);
}
