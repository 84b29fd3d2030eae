// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of a task's aggregate (agent_agg.h) on a real pipeline: the
 * aggregate registers this process with the fake module of
 * tests/fakes/fake_swprof.h (which follows processes: one group, whose
 * thread the reader accepts), the test writes SAMPLE and OFFCPU records
 * into that thread's ring, and the pipeline reads, symbolizes and hands
 * them over.  Addresses are this program's own functions (the real
 * symbolizer names them, inline frames included), one user address no
 * module maps and one kernel address below the kernel's text ([MISSING]),
 * and, when /proc/kallsyms shows addresses, a real kernel function.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "fake_swprof.h"
#include "fake_epoll.h"
#include "agent_agg.h"
#include "pipeline_priv.h"

#define TID		101
#define NO_MODULE	0x10ULL			/* user: nothing maps it */
#define NO_KSYM		0xffffffff00001000ULL	/* kernel: below every text symbol */
#define NOW_MS		1700000009000LL

/* Functions whose addresses the samples carry: big enough that fn + 4 is inside. */
static volatile int ag_sink;
static uint64_t ag_ret;		/* a return address inside ag_inlined(), inlined into ag_outer() */
__attribute__((noinline, used)) void ag_leaf(void)
{
	ag_ret = (uintptr_t)__builtin_return_address(0);
	for (int i = 0; i < 8; i++)
		ag_sink += i;
}
static inline __attribute__((always_inline)) void ag_inlined(void)
{
	ag_leaf();
	ag_sink++;
}
__attribute__((noinline, used)) void ag_outer(void)
{
	ag_inlined();
	ag_sink++;
}
__attribute__((noinline, used)) void ag_main(void) { for (int i = 0; i < 8; i++) ag_sink += i; }

#define IP(fn) ((__u64)(uintptr_t)(fn) + 4)

FIXTURE(agg) {
	int memfd;
	char path[64];
	struct pl *pl;
	struct agent_agg *a[2];
	__u64 seq;		/* of the next record in the thread's ring */
};

FIXTURE_SETUP(agg)
{
	self->memfd = fake_setup(self->path, sizeof(self->path));
	PL_OPTS(po, .device = self->path, .sym_flags = SYM_OPT_LINES);

	ASSERT_EQ(0, pl_new(&po, &self->pl));
	self->a[0] = self->a[1] = NULL;
	self->seq = 1;		/* 0: the COMM record the fake puts first */
	fake.pending[0].tid = TID;
	fake.pending[0].pid = getpid();
	fake.nr_pending = 1;
}

FIXTURE_TEARDOWN(agg)
{
	agent_agg_free(self->a[0]);
	agent_agg_free(self->a[1]);
	pl_free(self->pl);
	close(self->memfd);
}

static int agg_new(FIXTURE_DATA(agg) *self, int i, enum agent_task_target target,
		   const char *task, uint64_t period_ns, uint64_t min_block_ns)
{
	AGENT_AGG_OPTS(o, .task_id = task, .process_id = "proc-1", .target = target,
		       .start_ms = 1700000000000LL, .period_ns = period_ns, .kernel = true,
		       .min_block_ns = min_block_ns);

	return agent_agg_new(self->pl, &o, &self->a[i]);
}

/* The ring of the accepted thread, once the reader has it. */
static struct swprof_target *ring(FIXTURE_DATA(agg) *self)
{
	struct swprof_target *t = NULL;
	size_t i;
	int tries;

	for (tries = 0; !t && tries < 500; tries++) {
		pthread_mutex_lock(&self->pl->lock);
		for (i = 0; i < self->pl->nr_targets; i++)
			if (self->pl->targets[i]->tid0 == TID)
				t = self->pl->targets[i]->t;
		pthread_mutex_unlock(&self->pl->lock);
		if (!t)
			pl_poll(self->pl, 10);
	}
	return t;
}

/*
 * Write a SAMPLE or OFFCPU record into the thread's ring as the module
 * would (@k kernel then @u user addresses, leaf first), then publish it.
 */
static void push(FIXTURE_DATA(agg) *self, __u16 type, __u64 period, const __u64 *k,
		 unsigned int nk, const __u64 *u, unsigned int nu)
{
	unsigned char buf[512] __attribute__((aligned(8)));
	struct swprof_sample *s = (void *)buf;
	size_t size = sizeof(*s) + 8 * (nk + nu);
	struct swprof_target *t = ring(self);
	long page = sysconf(_SC_PAGESIZE);
	__u64 pos;

	if (!t || size > sizeof(buf))
		abort();
	pos = t->hdr->producer_pos;
	if (pos + size > FAKE_RING)	/* the tests stay within one lap */
		abort();
	memset(buf, 0, size);
	s->hdr = (struct swprof_rec){ .size = size, .type = type, .seq = self->seq++ };
	s->pid = getpid();
	s->tid = TID;
	s->nr_kernel = nk;
	s->nr_user = nu;
	s->period_ns = period;
	memcpy(s->data, k, 8 * nk);
	memcpy(s->data + nk, u, 8 * nu);
	pos += size;
	if (pwrite(t->fd, buf, size, 2 * page + pos - size) != (ssize_t)size ||
	    pwrite(t->fd, &pos, sizeof(pos), offsetof(struct swprof_ring_header, producer_pos)) !=
	    sizeof(pos))
		abort();
}

/* The stack of @b with these symbols ("k1,k2|u1,u2", leaf first); NULL when none. */
static const struct agent_stack *stack(const struct agent_batch *b, const char *want)
{
	char text[1024];
	size_t i, len;
	uint32_t j;

	for (i = 0; b && i < b->nr_stacks; i++) {
		const struct agent_stack *s = &b->stacks[i];

		len = 0;
		for (j = 0; j < s->nr_kernel; j++)
			len += snprintf(text + len, sizeof(text) - len, "%s%s", j ? "," : "",
					s->kernel[j]);
		len += snprintf(text + len, sizeof(text) - len, "|");
		for (j = 0; j < s->nr_user; j++)
			len += snprintf(text + len, sizeof(text) - len, "%s%s", j ? "," : "",
					s->user[j]);
		if (!strcmp(text, want))
			return s;
	}
	return NULL;
}

#define EXPECT_STACK(b, want, cnt, dur)					\
	do {								\
		const struct agent_stack *_s = stack(b, want);		\
									\
		EXPECT_NE(NULL, _s) TH_LOG("no stack %s", want);	\
		if (_s) {						\
			EXPECT_EQ(cnt, _s->count) TH_LOG("%s", want);	\
			EXPECT_EQ(dur, _s->duration_ns) TH_LOG("%s", want); \
		}							\
	} while (0)

TEST_F(agg, on_cpu_stacks_merge_leaf_first_with_missing_frames)
{
	const __u64 k[] = { NO_KSYM }, ua[] = { IP(ag_leaf), IP(ag_main) },
		    ub[] = { NO_MODULE, IP(ag_main) };
	struct agent_agg_stats st;
	struct agent_batch *b;

	ASSERT_EQ(0, agg_new(self, 0, AGENT_TARGET_ON_CPU, "task-cpu", 0, 777));
	/* nothing yet: no batch */
	ASSERT_EQ(0, agent_agg_take(self->a[0], NOW_MS, &b));
	EXPECT_EQ(NULL, b);
	EXPECT_EQ(1, agent_agg_add_process(self->a[0], getpid()));
	/* the registration: CPU mode, the default period, kernel stacks, the whole process */
	EXPECT_EQ(1, fake.registers);
	EXPECT_EQ(SWPROF_MODE_CPU, fake.attr.mode);
	EXPECT_EQ(10000000, fake.attr.period_ns);
	EXPECT_EQ(0, fake.attr.min_block_ns);
	EXPECT_TRUE(fake.attr.flags & SWPROF_TARGET_KSTACK);
	EXPECT_TRUE(fake.attr.flags & SWPROF_TARGET_PROCESS);

	push(self, SWPROF_REC_SAMPLE, 10000000, k, 1, ua, 2);
	push(self, SWPROF_REC_SAMPLE, 10000000, k, 1, ua, 2);
	push(self, SWPROF_REC_SAMPLE, 20000000, k, 1, ua, 2);	/* a late timer: two periods */
	/* interrupted in user mode: no kernel stack */
	push(self, SWPROF_REC_SAMPLE, 10000000, NULL, 0, ua, 2);
	push(self, SWPROF_REC_SAMPLE, 10000000, k, 1, ub, 2);
	push(self, SWPROF_REC_SAMPLE, 10000000, k, 1, ub, 2);
	pl_drain(self->pl);

	ASSERT_EQ(0, agent_agg_take(self->a[0], NOW_MS, &b));
	ASSERT_NE(NULL, b);
	EXPECT_EQ(3, b->nr_stacks);
	EXPECT_EQ(6, b->samples);
	EXPECT_STACK(b, "[MISSING]|ag_leaf,ag_main", 3, 40000000);
	EXPECT_STACK(b, "|ag_leaf,ag_main", 1, 10000000);
	EXPECT_STACK(b, "[MISSING]|[MISSING],ag_main", 2, 20000000);
	EXPECT_STREQ("task-cpu", b->task_id);
	EXPECT_STREQ("proc-1", b->process_id);
	EXPECT_EQ(AGENT_TARGET_ON_CPU, b->target);
	EXPECT_EQ(1700000000000LL, b->start_ms);
	EXPECT_EQ(NOW_MS, b->time_ms);
	agent_batch_free(b);

	agent_agg_stats(self->a[0], &st);
	EXPECT_EQ(6, st.samples);
	EXPECT_EQ(6, st.taken);
	EXPECT_EQ(0, st.dropped_nomem);
	EXPECT_EQ(0, st.lost);
	EXPECT_EQ(1, st.threads);
}

TEST_F(agg, each_take_has_what_came_since_the_last)
{
	const __u64 ua[] = { IP(ag_leaf), IP(ag_main) }, ub[] = { IP(ag_main) };
	struct agent_agg_stats st;
	struct agent_batch *b;

	ASSERT_EQ(0, agg_new(self, 0, AGENT_TARGET_ON_CPU, "task-cpu", 5000000, 0));
	ASSERT_EQ(1, agent_agg_add_process(self->a[0], getpid()));
	EXPECT_EQ(5000000, fake.attr.period_ns);
	push(self, SWPROF_REC_SAMPLE, 5000000, NULL, 0, ua, 2);
	push(self, SWPROF_REC_SAMPLE, 5000000, NULL, 0, ub, 1);
	pl_drain(self->pl);
	ASSERT_EQ(0, agent_agg_take(self->a[0], NOW_MS, &b));
	ASSERT_NE(NULL, b);
	EXPECT_EQ(2, b->nr_stacks);
	agent_batch_free(b);

	/* the second take: only the new samples, counted from zero */
	push(self, SWPROF_REC_SAMPLE, 5000000, NULL, 0, ua, 2);
	push(self, SWPROF_REC_SAMPLE, 5000000, NULL, 0, ua, 2);
	pl_drain(self->pl);
	ASSERT_EQ(0, agent_agg_take(self->a[0], NOW_MS + 5000, &b));
	ASSERT_NE(NULL, b);
	EXPECT_EQ(1, b->nr_stacks);
	EXPECT_EQ(2, b->samples);
	EXPECT_EQ(NOW_MS + 5000, b->time_ms);
	EXPECT_STACK(b, "|ag_leaf,ag_main", 2, 10000000);
	agent_batch_free(b);

	/* nothing new: nothing to upload */
	pl_drain(self->pl);
	b = (void *)1;
	ASSERT_EQ(0, agent_agg_take(self->a[0], NOW_MS + 10000, &b));
	EXPECT_EQ(NULL, b);
	agent_agg_stats(self->a[0], &st);
	EXPECT_EQ(4, st.samples);
	EXPECT_EQ(4, st.taken);

	/* counted but not taken yet */
	push(self, SWPROF_REC_SAMPLE, 5000000, NULL, 0, ub, 1);
	pl_drain(self->pl);
	agent_agg_stats(self->a[0], &st);
	EXPECT_EQ(5, st.samples);
	EXPECT_EQ(4, st.taken);
}

TEST_F(agg, off_cpu_counts_blocks_and_sums_their_time)
{
	const __u64 k[] = { NO_KSYM }, u[] = { IP(ag_leaf), IP(ag_main) };
	struct agent_batch *b;

	ASSERT_EQ(0, agg_new(self, 0, AGENT_TARGET_OFF_CPU, "task-off", 99, 5000));
	ASSERT_EQ(1, agent_agg_add_process(self->a[0], getpid()));
	EXPECT_EQ(SWPROF_MODE_OFFCPU, fake.attr.mode);
	EXPECT_EQ(5000, fake.attr.min_block_ns);
	EXPECT_EQ(0, fake.attr.period_ns);
	push(self, SWPROF_REC_OFFCPU, 1000000, k, 1, u, 2);
	push(self, SWPROF_REC_OFFCPU, 3000000, k, 1, u, 2);
	push(self, SWPROF_REC_OFFCPU, 5000000, k, 1, u, 2);
	push(self, SWPROF_REC_OFFCPU, 7000, NULL, 0, u, 2);
	pl_drain(self->pl);
	ASSERT_EQ(0, agent_agg_take(self->a[0], NOW_MS, &b));
	ASSERT_NE(NULL, b);
	EXPECT_EQ(AGENT_TARGET_OFF_CPU, b->target);
	EXPECT_EQ(2, b->nr_stacks);
	EXPECT_EQ(4, b->samples);
	/* switchCount: blocks; duration: the time off CPU, ns */
	EXPECT_STACK(b, "[MISSING]|ag_leaf,ag_main", 3, 9000000);
	EXPECT_STACK(b, "|ag_leaf,ag_main", 1, 7000);
	agent_batch_free(b);
}

TEST_F(agg, two_aggregates_of_one_process_share_it_and_see_every_sample)
{
	const __u64 u[] = { IP(ag_leaf), IP(ag_main) }, u2[] = { IP(ag_main) };
	struct agent_batch *b0, *b1;
	struct agent_agg_stats st;

	/* two tasks on the same process; start times and ids differ, options do not */
	ASSERT_EQ(0, agg_new(self, 0, AGENT_TARGET_ON_CPU, "task-a", 0, 0));
	ASSERT_EQ(0, agg_new(self, 1, AGENT_TARGET_ON_CPU, "task-b", 10000000, 123));
	EXPECT_EQ(1, agent_agg_add_process(self->a[0], getpid()));
	EXPECT_EQ(0, agent_agg_add_process(self->a[1], getpid()));
	EXPECT_EQ(1, fake.registers);
	push(self, SWPROF_REC_SAMPLE, 10000000, NULL, 0, u, 2);
	push(self, SWPROF_REC_SAMPLE, 10000000, NULL, 0, u, 2);
	push(self, SWPROF_REC_SAMPLE, 10000000, NULL, 0, u2, 1);
	pl_drain(self->pl);
	ASSERT_EQ(0, agent_agg_take(self->a[0], NOW_MS, &b0));
	ASSERT_EQ(0, agent_agg_take(self->a[1], NOW_MS, &b1));
	ASSERT_NE(NULL, b0);
	ASSERT_NE(NULL, b1);
	EXPECT_STREQ("task-a", b0->task_id);
	EXPECT_STREQ("task-b", b1->task_id);
	EXPECT_EQ(3, b0->samples);
	EXPECT_EQ(3, b1->samples);
	EXPECT_STACK(b0, "|ag_leaf,ag_main", 2, 20000000);
	EXPECT_STACK(b1, "|ag_leaf,ag_main", 2, 20000000);
	EXPECT_STACK(b0, "|ag_main", 1, 10000000);
	EXPECT_STACK(b1, "|ag_main", 1, 10000000);
	agent_batch_free(b0);
	agent_batch_free(b1);
	agent_agg_stats(self->a[1], &st);
	EXPECT_EQ(1, st.threads);

	/* one task ends: the other still gets the process's samples */
	agent_agg_free(self->a[0]);
	self->a[0] = NULL;
	push(self, SWPROF_REC_SAMPLE, 10000000, NULL, 0, u2, 1);
	pl_drain(self->pl);
	ASSERT_EQ(0, agent_agg_take(self->a[1], NOW_MS, &b1));
	ASSERT_NE(NULL, b1);
	EXPECT_STACK(b1, "|ag_main", 1, 10000000);
	agent_batch_free(b1);
	EXPECT_FALSE(agent_agg_process_gone(self->a[1], getpid()));
}

/* The address of kernel function @name from /proc/kallsyms; 0 when hidden. */
static uint64_t ksym(const char *name)
{
	char line[256], sym[128], type;
	unsigned long long addr;
	FILE *f = fopen("/proc/kallsyms", "re");
	uint64_t found = 0;

	while (f && !found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %127s", &addr, &type, sym) == 3 && !strcmp(sym, name))
			found = addr;
	if (f)
		fclose(f);
	return found;
}

TEST_F(agg, inline_frames_come_innermost_first_and_kernel_names_resolve)
{
	uint64_t sched = ksym("schedule");
	const __u64 k[] = { sched ? sched + 4 : NO_KSYM }, u[] = { IP(ag_leaf), 0, IP(ag_main) };
	__u64 user[3];
	struct agent_batch *b;

	ag_outer();		/* sets ag_ret */
	memcpy(user, u, sizeof(u));
	user[1] = ag_ret;
	ASSERT_EQ(0, agg_new(self, 0, AGENT_TARGET_ON_CPU, "task-cpu", 0, 0));
	ASSERT_EQ(1, agent_agg_add_process(self->a[0], getpid()));
	push(self, SWPROF_REC_SAMPLE, 10000000, k, 1, user, 3);
	pl_drain(self->pl);
	ASSERT_EQ(0, agent_agg_take(self->a[0], NOW_MS, &b));
	ASSERT_NE(NULL, b);
	ASSERT_EQ(1, b->nr_stacks);
	/* the return address in ag_outer() is in ag_inlined()'s code: both, innermost first */
	ASSERT_EQ(4, b->stacks[0].nr_user);
	EXPECT_STREQ("ag_leaf", b->stacks[0].user[0]);
	EXPECT_STREQ("ag_inlined", b->stacks[0].user[1]);
	EXPECT_STREQ("ag_outer", b->stacks[0].user[2]);
	EXPECT_STREQ("ag_main", b->stacks[0].user[3]);
	ASSERT_EQ(1, b->stacks[0].nr_kernel);
	if (sched) {
		EXPECT_STREQ("schedule", b->stacks[0].kernel[0]);
	} else {
		TH_LOG("/proc/kallsyms hides addresses: kernel names not checked");
	}
	agent_batch_free(b);
}

TEST_F(agg, bad_options_are_refused)
{
	AGENT_AGG_OPTS(no_task, .process_id = "p", .target = AGENT_TARGET_ON_CPU);
	AGENT_AGG_OPTS(network, .task_id = "t", .process_id = "p", .target = AGENT_TARGET_NETWORK);
	AGENT_AGG_OPTS(ok, .task_id = "t", .process_id = "p", .target = AGENT_TARGET_OFF_CPU);

	EXPECT_EQ(-EINVAL, agent_agg_new(self->pl, &no_task, &self->a[0]));
	EXPECT_EQ(-EINVAL, agent_agg_new(self->pl, &network, &self->a[0]));
	EXPECT_EQ(-EINVAL, agent_agg_new(self->pl, NULL, &self->a[0]));
	EXPECT_EQ(NULL, self->a[0]);
	EXPECT_EQ(0, agent_agg_new(self->pl, &ok, &self->a[0]));
	EXPECT_NE(NULL, self->a[0]);
}

TEST_HARNESS_MAIN
