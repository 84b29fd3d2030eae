/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared pieces of the swprof selftests: a thread spinning in a known
 * frame-pointer chain (top -> mid -> leaf, each in its own section so its
 * exact address range is known from __start_/__stop_ symbols) and a reader
 * that drains a target into arrays the tests inspect.
 */
#ifndef SWPROF_SELFTEST_COMMON_H
#define SWPROF_SELFTEST_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/swprof.h>
#include "swprof.h"

#define CHAIN_FN __attribute__((noinline, noclone, used))

extern char __start_swprof_leaf[], __stop_swprof_leaf[];
extern char __start_swprof_mid[], __stop_swprof_mid[];
extern char __start_swprof_top[], __stop_swprof_top[];

static atomic_int chain_stop;
static volatile unsigned long chain_sink;
static void *volatile chain_frame;

__attribute__((section("swprof_leaf"))) CHAIN_FN void chain_leaf(void)
{
	/* asking for the frame address makes gcc set up the frame even in a leaf */
	chain_frame = __builtin_frame_address(0);
	while (!atomic_load_explicit(&chain_stop, memory_order_relaxed))
		chain_sink++;
}

__attribute__((section("swprof_mid"))) CHAIN_FN void chain_mid(void)
{
	chain_leaf();
	__asm__ volatile("" ::: "memory");	/* no tail call */
}

__attribute__((section("swprof_top"))) CHAIN_FN void chain_top(void)
{
	chain_mid();
	__asm__ volatile("" ::: "memory");
}

static inline bool in_range(uint64_t ip, const char *a, const char *b)
{
	return ip >= (uintptr_t)a && ip < (uintptr_t)b;
}

/* User frames leaf first: [0] interrupted IP in leaf, [1] return into mid, [2] into top. */
static inline bool has_chain(const __u64 *uips, unsigned int n)
{
	return n >= 3 && in_range(uips[0], __start_swprof_leaf, __stop_swprof_leaf) &&
	       in_range(uips[1], __start_swprof_mid, __stop_swprof_mid) &&
	       in_range(uips[2], __start_swprof_top, __stop_swprof_top);
}

struct spinner {
	pthread_t thread;
	atomic_int tid;
};

static inline pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void *spinner_main(void *arg)
{
	struct spinner *s = arg;

	atomic_store(&s->tid, gettid_());
	chain_top();
	return NULL;
}

static inline void spinner_start(struct spinner *s)
{
	atomic_store(&chain_stop, 0);
	atomic_store(&s->tid, 0);
	pthread_create(&s->thread, NULL, spinner_main, s);
	while (!atomic_load(&s->tid))
		usleep(1000);
}

static inline void spinner_stop(struct spinner *s)
{
	atomic_store(&chain_stop, 1);
	pthread_join(s->thread, NULL);
}

static inline uint64_t thread_cpu_ns(pthread_t th)
{
	clockid_t cid;
	struct timespec ts;

	if (pthread_getcpuclockid(th, &cid) || clock_gettime(cid, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* What a drained ring held. */
struct drained {
	unsigned int samples, lost_recs, exits, execs, others, invalid;
	unsigned int chain_ok;		/* samples with the top->mid->leaf chain */
	unsigned int with_kernel;	/* samples with kernel frames */
	unsigned int kernel_addr_seen;	/* any kernel-looking value where it must not be */
	unsigned int raw_samples, raw_ok;
	unsigned int ufault, user_depth1;	/* samples flagged UFAULT, with one user frame */
	unsigned int no_user;		/* samples with no user frame (an exiting thread) */
	unsigned int samples_after_exec;
	uint64_t lost_count;
	uint64_t period_sum;	/* sum of the samples' period_ns */
	char exec_comm[SWPROF_COMM_LEN];
	unsigned int exec_flags;
	struct swprof_seq_tracker tr;
	int last_type;
};

#define KERNEL_SPACE_START 0xffff800000000000ull

static inline void drained_sample(struct drained *d, const struct swprof_sample *s)
{
	const __u64 *ips = swprof_sample_ips(s);
	const __u64 *uips = ips + s->nr_kernel;
	unsigned int i;

	d->samples++;
	if (d->execs)
		d->samples_after_exec++;
	d->period_sum += s->period_ns;
	if (has_chain(uips, s->nr_user))
		d->chain_ok++;
	if (s->nr_kernel)
		d->with_kernel++;
	if (s->flags & SWPROF_SAMPLE_UFAULT)
		d->ufault++;
	if (s->nr_user == 1)
		d->user_depth1++;
	if (!s->nr_user)
		d->no_user++;
	for (i = 0; i < s->nr_user; i++)
		if (uips[i] >= KERNEL_SPACE_START)
			d->kernel_addr_seen++;
	if (s->raw_size) {
		const __u64 *regs = swprof_sample_regs(s);
		const uint8_t *stack = swprof_sample_raw_stack(s);
		__u64 sp = regs[SWPROF_UREG_SP], bp = regs[SWPROF_UREG_BP], saved[2];

		d->raw_samples++;
		/* in a syscall, ax holds -ENOSYS: an errno, not an address */
		for (i = 0; i < SWPROF_UREGS_NR; i++)
			if (regs[i] >= KERNEL_SPACE_START && regs[i] < (__u64)-4096)
				d->kernel_addr_seen++;
		/*
		 * In the leaf, the copy must hold the frame record the FP walk
		 * read: [bp] = caller's bp, [bp + 8] = return address = uips[1].
		 */
		if (s->nr_user >= 2 && regs[SWPROF_UREG_IP] == uips[0] && bp >= sp &&
		    bp + 16 <= sp + s->raw_size) {
			memcpy(saved, stack + (bp - sp), sizeof(saved));
			if (saved[1] == uips[1])
				d->raw_ok++;
		}
	}
}

static inline int drained_add(void *ctx, const struct swprof_rec *rec)
{
	struct drained *d = ctx;

	if (!swprof_rec_valid(rec)) {
		d->invalid++;
		return 0;
	}
	swprof_seq_tracker_add(&d->tr, rec);
	d->last_type = rec->type;
	switch (rec->type) {
	case SWPROF_REC_SAMPLE:
		drained_sample(d, (const void *)rec);
		break;
	case SWPROF_REC_LOST:
		d->lost_recs++;
		d->lost_count += ((const struct swprof_lost *)rec)->count;
		break;
	case SWPROF_REC_EXIT:
		d->exits++;
		break;
	case SWPROF_REC_EXEC:
		d->execs++;
		memcpy(d->exec_comm, ((const struct swprof_exec *)rec)->comm, SWPROF_COMM_LEN);
		d->exec_flags = rec->flags;
		break;
	default:
		d->others++;
	}
	return 0;
}

static inline void drained_init(struct drained *d)
{
	memset(d, 0, sizeof(*d));
	swprof_seq_tracker_init(&d->tr);
}

/* Read everything there is now; returns records read or a negative errno. */
static inline int drain(struct swprof_target *t, struct drained *d)
{
	return swprof_target_read(t, drained_add, d, 0);
}

#endif
