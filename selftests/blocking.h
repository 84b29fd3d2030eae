/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Blocking system calls issued straight from functions with frame pointers
 * (inline asm, no libc wrapper), so that the user stack at the block is
 * this file's known chain: the kernel sees the syscall from here.
 */
#ifndef SWPROF_SELFTEST_BLOCKING_H
#define SWPROF_SELFTEST_BLOCKING_H

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>

static inline long raw_syscall4(long nr, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

extern char __start_swprof_block[], __stop_swprof_block[];

#define BLOCK_FN __attribute__((noinline, noclone, used, section("swprof_block")))

BLOCK_FN static long block_nanosleep(long ns)
{
	struct timespec ts = { ns / 1000000000L, ns % 1000000000L };

	return raw_syscall4(SYS_nanosleep, (long)&ts, 0, 0, 0);
}

BLOCK_FN static long block_futex(int *word, long ns)
{
	struct timespec ts = { ns / 1000000000L, ns % 1000000000L };

	return raw_syscall4(SYS_futex, (long)word, FUTEX_WAIT_PRIVATE, *word, (long)&ts);
}

BLOCK_FN static long block_read(int fd, void *buf, long n)
{
	return raw_syscall4(SYS_read, fd, (long)buf, n, 0);
}

static inline bool in_block_fns(__u64 ip)
{
	return ip >= (uintptr_t)__start_swprof_block && ip < (uintptr_t)__stop_swprof_block;
}

#endif
