/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A fake swprof.ko 1.2 for host tests of libswprof's groups, trace sessions
 * and integrator calls.  Include it once, in a test program linked with
 * libswprof.a: it defines ioctl() and open(), which the library then calls.
 *
 * ioctls on memfds named "swprof-fake-<kind>" are answered here (kind: dev,
 * group, session, target); every other one goes to the kernel.  open() is
 * counted when its path is $SWPROF_DEVICE (the integrator's device).
 */
#ifndef FAKE_SWPROF_H
#define FAKE_SWPROF_H

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fake_memfd.h"
#include "swprof_internal.h"

#define FAKE_GROUP	"swprof-fake-group"
#define FAKE_SESSION	"swprof-fake-session"
#define FAKE_TARGET	"swprof-fake-target"
#define FAKE_RING	4096
#define FAKE_MAX_PENDING 8
#define FAKE_MAX_TABLES	256
#define FAKE_MAX_MAPS	64

/* What the fake module answers and what it was asked. */
static struct {
	struct swprof_version version;
	__u32 ring_version;		/* written into target headers */

	/* /dev/swprof */
	unsigned int registers, sessions, begins, ends, versions;
	int register_errno, session_errno, begin_errno, end_errno;
	struct swprof_target_attr attr;		/* last REGISTER */
	struct swprof_trace_session_attr session;	/* last TRACE_SESSION */
	struct swprof_trace_begin begin;	/* last TRACE_BEGIN */
	int begin_fd;				/* the fd it came on */
	__u32 begin_task;			/* task id TRACE_BEGIN answers */
	pid_t begin_tid;			/* the thread that asked */

	/* group and session fds */
	unsigned int accepts;
	int accept_errno;
	struct { __u32 tid, pid; } pending[FAKE_MAX_PENDING];
	unsigned int nr_pending;
	struct swprof_group_stats group_stats;	/* answered */
	struct swprof_trace_task task;		/* last TRACE_TASK_ADD */
	unsigned int task_adds, task_ends;
	int task_errno;
	__u32 task_end_id;
	struct swprof_trace_task_stats task_stats;	/* answered (id: what was asked) */

	/* unwind tables (1.2): ids from 1 up; what is live; the last MAPS */
	unsigned int table_adds, table_frees, maps_sets;
	int table_errno, maps_errno;
	__u32 next_table;
	unsigned char table_live[FAKE_MAX_TABLES];	/* by id */
	__u32 table_rows[FAKE_MAX_TABLES];		/* by id: nr_rows */
	__u64 rows_total;				/* every row uploaded */
	struct swprof_unwind_maps maps;			/* last MAPS (maps: not valid) */
	struct swprof_unwind_mapping maps_copy[FAKE_MAX_MAPS];
	unsigned int maps_removes;			/* MAPS with nr_maps 0 */

	/* open() of $SWPROF_DEVICE; this and begins/ends are counted atomically */
	unsigned int opens;
} fake;

static int fake_fd(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		abort();
	return fd;
}

/* Output structs: written up to the caller's size, as the module does. */
static int fake_copy_out(void *arg, const void *src, __u32 ksize)
{
	__u32 usize = *(__u32 *)arg;

	memcpy(arg, src, usize < ksize ? usize : ksize);
	*(__u32 *)arg = usize < ksize ? usize : ksize;
	return 0;
}

static int fake_fail(int err)
{
	errno = err;
	return -1;
}

/* A target fd (header page, consumer page, data) holding one record. */
static int fake_target(__u32 tid, __u32 pid, __u32 mode, const void *rec, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	struct swprof_ring_header hdr = {
		.version = fake.ring_version,
		.header_size = sizeof(hdr),
		.consumer_offset = page,
		.data_offset = 2 * page,
		.data_size = FAKE_RING,
		.tid = tid,
		.pid = pid,
		.mode = mode,
		.producer_pos = len,
	};
	int fd = fake_fd(FAKE_TARGET);

	if (ftruncate(fd, 2 * page + 2 * FAKE_RING) ||
	    pwrite(fd, &hdr, sizeof(hdr), 0) != sizeof(hdr) ||
	    pwrite(fd, rec, len, 2 * page) != (ssize_t)len)
		abort();
	return fd;
}

/* The first record of an accepted thread: COMM (process) or TRACE_BEGIN (session). */
static int fake_accepted_target(bool session, __u32 tid, __u32 pid)
{
	if (session) {
		struct swprof_trace_rec rec = {
			.hdr = { .size = sizeof(rec), .type = SWPROF_REC_TRACE_BEGIN },
			.task = fake.begin_task,
			.pid = pid,
			.tid = tid,
			.begin_realtime_ns = 1700000000000000000ULL,
		};

		snprintf(rec.segment_id, sizeof(rec.segment_id), "segment-%u", tid);
		return fake_target(tid, pid, SWPROF_MODE_WALL, &rec, sizeof(rec));
	} else {
		struct swprof_comm rec = {
			.hdr = { .size = sizeof(rec), .type = SWPROF_REC_COMM },
			.pid = pid,
			.tid = tid,
		};

		snprintf(rec.comm, sizeof(rec.comm), "worker-%u", tid);
		return fake_target(tid, pid, fake.attr.mode, &rec, sizeof(rec));
	}
}

static int fake_dev_ioctl(int fd, unsigned long cmd, void *arg)
{
	switch (cmd) {
	case SWPROF_IOC_VERSION:
		fake.versions++;
		return fake_copy_out(arg, &fake.version, sizeof(fake.version));
	case SWPROF_IOC_REGISTER: {
		struct swprof_exit rec = {
			.hdr = { .size = sizeof(rec), .type = SWPROF_REC_EXIT },
			.exit_code = 42,
		};

		fake.registers++;
		memcpy(&fake.attr, arg, sizeof(fake.attr));
		if (fake.register_errno)
			return fake_fail(fake.register_errno);
		if (fake.attr.flags & SWPROF_TARGET_PROCESS)
			return fake_fd(FAKE_GROUP);
		rec.tid = fake.attr.tid ? fake.attr.tid : (__u32)gettid();
		return fake_target(rec.tid, getpid(), fake.attr.mode, &rec, sizeof(rec));
	}
	case SWPROF_IOC_TRACE_SESSION:
		fake.sessions++;
		memcpy(&fake.session, arg, sizeof(fake.session));
		if (fake.session_errno)
			return fake_fail(fake.session_errno);
		return fake_fd(FAKE_SESSION);
	case SWPROF_IOC_TRACE_BEGIN:
		__atomic_add_fetch(&fake.begins, 1, __ATOMIC_RELAXED);
		fake.begin_fd = fd;
		fake.begin_tid = gettid();
		memcpy(&fake.begin, arg, sizeof(fake.begin));
		if (fake.begin_errno)
			return fake_fail(fake.begin_errno);
		((struct swprof_trace_begin *)arg)->task = fake.begin_task;
		return 0;
	case SWPROF_IOC_TRACE_END:
		__atomic_add_fetch(&fake.ends, 1, __ATOMIC_RELAXED);
		return fake.end_errno ? fake_fail(fake.end_errno) : 0;
	case SWPROF_IOC_UNWIND_TABLE_ADD: {
		struct swprof_unwind_table *t = arg;
		const struct swprof_unwind_row *rows = (const void *)(unsigned long)t->rows;
		__u32 i;

		fake.table_adds++;
		if (fake.table_errno)
			return fake_fail(fake.table_errno);
		if (t->size != sizeof(*t) || t->flags || !t->nr_rows)
			return fake_fail(EINVAL);
		if (t->nr_rows > SWPROF_MAX_UNWIND_ROWS)
			return fake_fail(E2BIG);
		/* the module's checks: pc strictly increasing, the last row NONE or END */
		for (i = 1; i < t->nr_rows; i++)
			if (rows[i].pc <= rows[i - 1].pc)
				return fake_fail(EINVAL);
		if (rows[t->nr_rows - 1].cfa != SWPROF_CFA_NONE &&
		    rows[t->nr_rows - 1].cfa != SWPROF_CFA_END)
			return fake_fail(EINVAL);
		if (++fake.next_table >= FAKE_MAX_TABLES)
			return fake_fail(ENOSPC);
		t->id = fake.next_table;
		fake.table_live[t->id] = 1;
		fake.table_rows[t->id] = t->nr_rows;
		fake.rows_total += t->nr_rows;
		return 0;
	}
	case SWPROF_IOC_UNWIND_TABLE_FREE: {
		struct swprof_unwind_ref *r = arg;

		fake.table_frees++;
		if (r->size != sizeof(*r) || r->id >= FAKE_MAX_TABLES || !fake.table_live[r->id])
			return fake_fail(ENOENT);
		fake.table_live[r->id] = 0;
		return 0;
	}
	case SWPROF_IOC_UNWIND_MAPS: {
		struct swprof_unwind_maps *m = arg;
		const struct swprof_unwind_mapping *mp = (const void *)(unsigned long)m->maps;
		__u32 i;

		fake.maps_sets++;
		if (fake.maps_errno)
			return fake_fail(fake.maps_errno);
		if (m->size != sizeof(*m) || m->flags || m->nr_maps > SWPROF_MAX_UNWIND_MAPS)
			return fake_fail(EINVAL);
		for (i = 0; i < m->nr_maps; i++)
			if (mp[i].start >= mp[i].end || (i && mp[i].start < mp[i - 1].end) ||
			    mp[i].__pad || mp[i].table >= FAKE_MAX_TABLES ||
			    !fake.table_live[mp[i].table])
				return fake_fail(EINVAL);
		fake.maps = *m;
		if (!m->nr_maps)
			fake.maps_removes++;
		memcpy(fake.maps_copy, mp,
		       (m->nr_maps < FAKE_MAX_MAPS ? m->nr_maps : FAKE_MAX_MAPS) * sizeof(*mp));
		return 0;
	}
	}
	return fake_fail(ENOTTY);
}

static int fake_group_ioctl(bool session, unsigned long cmd, void *arg)
{
	switch (cmd) {
	case SWPROF_IOC_ACCEPT: {
		struct swprof_accept *acc = arg;

		fake.accepts++;
		if (acc->size != sizeof(*acc) || acc->flags)
			return fake_fail(EINVAL);
		if (fake.accept_errno)
			return fake_fail(fake.accept_errno);
		if (!fake.nr_pending)
			return fake_fail(EAGAIN);
		fake.nr_pending--;
		acc->tid = fake.pending[0].tid;
		acc->pid = fake.pending[0].pid;
		memmove(fake.pending, fake.pending + 1, fake.nr_pending * sizeof(fake.pending[0]));
		acc->fd = fake_accepted_target(session, acc->tid, acc->pid);
		return 0;
	}
	case SWPROF_IOC_GROUP_STATS:
		return fake_copy_out(arg, &fake.group_stats, sizeof(fake.group_stats));
	}
	if (!session)
		return fake_fail(ENOTTY);
	switch (cmd) {
	case SWPROF_IOC_TRACE_TASK_ADD:
		fake.task_adds++;
		memcpy(&fake.task, arg, sizeof(fake.task));
		if (fake.task_errno)
			return fake_fail(fake.task_errno);
		((struct swprof_trace_task *)arg)->id = fake.task_adds + 10;
		return 0;
	case SWPROF_IOC_TRACE_TASK_END:
		fake.task_ends++;
		fake.task_end_id = ((struct swprof_trace_task_ref *)arg)->id;
		return fake.task_errno ? fake_fail(fake.task_errno) : 0;
	case SWPROF_IOC_TRACE_TASK_STATS: {
		struct swprof_trace_task_stats st = fake.task_stats;
		struct swprof_trace_task_stats *in = arg;

		if (fake.task_errno)
			return fake_fail(fake.task_errno);
		st.size = sizeof(st);
		st.id = in->id;
		return fake_copy_out(arg, &st, sizeof(st));
	}
	}
	return fake_fail(ENOTTY);
}

int ioctl(int fd, unsigned long cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd_is(fd, FAKE_DEV))
		return fake_dev_ioctl(fd, cmd, arg);
	if (fd_is(fd, FAKE_GROUP))
		return fake_group_ioctl(false, cmd, arg);
	if (fd_is(fd, FAKE_SESSION))
		return fake_group_ioctl(true, cmd, arg);
	if (fd_is(fd, FAKE_TARGET))
		return fake_fail(ENOTTY);
	return syscall(SYS_ioctl, fd, cmd, arg);
}

int open(const char *path, int flags, ...)
{
	const char *dev = getenv("SWPROF_DEVICE");
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (dev && !strcmp(path, dev))
		__atomic_add_fetch(&fake.opens, 1, __ATOMIC_RELAXED);
	return syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

/* A 1.1 module with every feature; a fake device memfd, its path in @path. */
static int fake_setup(char *path, size_t len)
{
	int fd;

	memset(&fake, 0, sizeof(fake));
	fake.version = (struct swprof_version) {
		.size = sizeof(fake.version),
		.major = SWPROF_API_MAJOR,
		.minor = SWPROF_API_MINOR,
		.features = SWPROF_FEAT_MODE_CPU | SWPROF_FEAT_USTACK_FP | SWPROF_FEAT_MODE_WALL |
			    SWPROF_FEAT_MODE_OFFCPU | SWPROF_FEAT_PROCESS | SWPROF_FEAT_TRACE,
		.ring_version = SWPROF_RING_VERSION,
		.max_depth = SWPROF_MAX_DEPTH,
	};
	fake.ring_version = SWPROF_RING_VERSION;
	fake.begin_fd = -1;
	fd = fake_fd(FAKE_DEV);
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

/* Count the fds of this process that are the fake device (memfd or reopened). */
static __attribute__((unused)) unsigned int fake_dev_fds(void)
{
	unsigned int n = 0;
	int fd;

	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0 && fd_is(fd, FAKE_DEV))
			n++;
	return n;
}

#endif /* FAKE_SWPROF_H */
