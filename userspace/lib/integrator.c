// SPDX-License-Identifier: GPL-2.0-only
/*
 * The application's side of trace profiling: swprof_trace_begin()/end() on
 * a process-wide device fd opened on first use, with per-thread state.
 *
 * Hot path (device open): one acquire load, a 400-byte struct, one ioctl.
 * Device missing: one clock read and a return; an open is tried at most
 * once a second.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "swprof_internal.h"

#define RETRY_NS	1000000000ULL

/*
 * fd is published with release semantics once open, and closed only in a
 * child after fork() (which then has a single thread): a thread that loaded
 * it may use it without a lock.  features is written before fd is published.
 */
static struct {
	int fd;			/* -1 until open */
	int err;		/* why the last open failed */
	__u64 retry_ns;		/* no open before this CLOCK_MONOTONIC_COARSE time */
	__u64 features;		/* SWPROF_FEAT_* of the open device */
	pthread_mutex_t lock;	/* serialises opens */
} dev = { .fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* The calling thread's segment. */
static __thread struct {
	bool admitted;			/* its outermost begin was admitted */
	unsigned int nested;		/* begins inside that one not ended yet */
	__u32 task;
	enum swprof_trace_reason reason;
	int err;
	char segment[SWPROF_SEGMENT_ID_MAX];	/* of the admitted segment */
} cur;

/* A segment id for an application without a tracer: unique on this host for the module's life. */
static void own_segment_id(char *buf, size_t size)
{
	static __u64 seq;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, size, SWPROF_TRACE_OWN_SEGMENT "%d.%d.%lld%09ld.%llu", (int)getpid(),
		 (int)syscall(SYS_gettid), (long long)ts.tv_sec, ts.tv_nsec,
		 (unsigned long long)__atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&dev.lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&dev.lock);
}

/* The child has its own credentials and no segment: start over. */
static void atfork_child(void)
{
	if (dev.fd >= 0)
		close(dev.fd);
	dev.fd = -1;
	dev.err = 0;
	dev.retry_ns = 0;
	dev.features = 0;
	pthread_mutex_init(&dev.lock, NULL);
	memset(&cur, 0, sizeof(cur));
}

static void atfork_register(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* Open and handshake: an fd or a negative errno.  Called under dev.lock. */
static int dev_open(void)
{
	const char *path = secure_getenv("SWPROF_DEVICE");
	struct swprof_version v;
	int fd, err;

	if (!path || !*path)
		path = SWPROF_DEVICE;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	if (ioctl(fd, SWPROF_IOC_VERSION, &v) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (v.major != SWPROF_API_MAJOR) {
		close(fd);
		return -EPROTO;
	}
	__atomic_store_n(&dev.features, v.features, __ATOMIC_RELAXED);
	return fd;
}

static int dev_open_slow(void)
{
	__u64 now = now_ns();
	int fd;

	/* Pairs with the release below: err is the one of that failure. */
	if (now < __atomic_load_n(&dev.retry_ns, __ATOMIC_ACQUIRE))
		return __atomic_load_n(&dev.err, __ATOMIC_RELAXED);

	pthread_once(&atfork_once, atfork_register);
	pthread_mutex_lock(&dev.lock);
	fd = dev.fd;
	if (fd < 0 && now < dev.retry_ns) {
		fd = dev.err;		/* another thread failed while we waited */
	} else if (fd < 0) {
		fd = dev_open();
		if (fd >= 0) {
			__atomic_store_n(&dev.fd, fd, __ATOMIC_RELEASE);
		} else {
			__atomic_store_n(&dev.err, fd, __ATOMIC_RELAXED);
			__atomic_store_n(&dev.retry_ns, now + RETRY_NS, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&dev.lock);
	return fd;
}

int swprof_integrator_fd(void)
{
	int fd = __atomic_load_n(&dev.fd, __ATOMIC_ACQUIRE);

	return fd >= 0 ? fd : dev_open_slow();
}

/*
 * The fd number no longer reaches swprof (the application closed it, maybe
 * reused it): forget it without closing it, and open again on the next call.
 */
static void dev_forget(int fd)
{
	__atomic_compare_exchange_n(&dev.fd, &fd, -1, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_RELAXED);
}

static int begin_refused(enum swprof_trace_reason reason)
{
	cur.reason = reason;
	cur.err = 0;
	return 0;
}

static int begin_failed(int err)
{
	cur.reason = SWPROF_TRACE_ERROR;
	cur.err = err;
	return err;
}

int swprof_trace_begin(const char *endpoint, const char *segment_id)
{
	struct swprof_trace_begin arg;
	size_t elen, slen;
	int fd, err;

	elen = endpoint ? strnlen(endpoint, SWPROF_ENDPOINT_MAX) : 0;
	slen = segment_id ? strnlen(segment_id, SWPROF_SEGMENT_ID_MAX) : 1;
	if (!elen || elen >= SWPROF_ENDPOINT_MAX || !slen || slen >= SWPROF_SEGMENT_ID_MAX)
		return begin_failed(-EINVAL);
	if (cur.admitted) {
		cur.nested++;
		return begin_refused(SWPROF_TRACE_NESTED);
	}
	fd = swprof_integrator_fd();
	if (fd < 0)
		return begin_failed(fd);
	if (!(__atomic_load_n(&dev.features, __ATOMIC_RELAXED) & SWPROF_FEAT_TRACE))
		return begin_failed(-EOPNOTSUPP);

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	memcpy(arg.endpoint, endpoint, elen + 1);
	if (segment_id)
		memcpy(arg.segment_id, segment_id, slen + 1);
	else
		own_segment_id(arg.segment_id, sizeof(arg.segment_id));
	if (!ioctl(fd, SWPROF_IOC_TRACE_BEGIN, &arg)) {
		cur.admitted = true;
		cur.nested = 0;
		cur.task = arg.task;
		memcpy(cur.segment, arg.segment_id, sizeof(cur.segment));
		cur.reason = SWPROF_TRACE_ADMITTED;
		cur.err = 0;
		return 1;
	}
	err = errno;
	switch (err) {
	case ENOENT:
		return begin_refused(SWPROF_TRACE_NO_TASK);
	case EDQUOT:
		return begin_refused(SWPROF_TRACE_MAX_SAMPLED);
	case EBUSY:
		return begin_refused(SWPROF_TRACE_MAX_PARALLEL);
	case EALREADY:		/* begun by someone else: not ours to end */
		return begin_refused(SWPROF_TRACE_NESTED);
	case EBADF:
	case ENOTTY:
		dev_forget(fd);
		return begin_failed(-err);
	default:
		return begin_failed(-err);
	}
}

int swprof_trace_end(void)
{
	int fd;

	cur.err = 0;
	if (!cur.admitted)
		return 0;
	if (cur.nested) {
		cur.nested--;
		return 0;
	}
	cur.admitted = false;
	cur.task = 0;
	cur.segment[0] = 0;
	fd = __atomic_load_n(&dev.fd, __ATOMIC_ACQUIRE);
	if (fd < 0)
		return 0;
	/* ENOENT: the module ended the segment already (task end, max samples). */
	if (ioctl(fd, SWPROF_IOC_TRACE_END) < 0 && errno != ENOENT) {
		cur.err = -errno;
		if (errno == EBADF || errno == ENOTTY)
			dev_forget(fd);
	}
	return cur.err;
}

enum swprof_trace_reason swprof_trace_reason(void)
{
	return cur.reason;
}

const char *swprof_trace_reason_name(enum swprof_trace_reason reason)
{
	switch (reason) {
	case SWPROF_TRACE_ADMITTED:
		return "admitted";
	case SWPROF_TRACE_NO_TASK:
		return "no task";
	case SWPROF_TRACE_MAX_SAMPLED:
		return "max sampled";
	case SWPROF_TRACE_MAX_PARALLEL:
		return "max parallel";
	case SWPROF_TRACE_NESTED:
		return "nested";
	case SWPROF_TRACE_ERROR:
		return "error";
	}
	return "unknown";
}

int swprof_trace_last_error(void)
{
	return cur.err;
}

__u32 swprof_trace_current_task(void)
{
	return cur.admitted ? cur.task : 0;
}

const char *swprof_trace_current_segment(void)
{
	return cur.admitted ? cur.segment : NULL;
}

int swprof_trace_available(void)
{
	int fd = swprof_integrator_fd();

	if (fd < 0)
		return fd;
	return __atomic_load_n(&dev.features, __ATOMIC_RELAXED) & SWPROF_FEAT_TRACE ?
	       1 : -EOPNOTSUPP;
}

int swprof_register_self(const struct swprof_target_opts *opts, struct swprof_target **out)
{
	struct swprof_target_attr attr;
	int err, fd, tfd;

	*out = NULL;
	err = swprof_target_attr_from_opts(opts, &attr);
	if (err)
		return err;
	if (attr.tid || (attr.flags & SWPROF_TARGET_PROCESS))
		return -EINVAL;
	fd = swprof_integrator_fd();
	if (fd < 0)
		return fd;
	tfd = ioctl(fd, SWPROF_IOC_REGISTER, &attr);
	if (tfd < 0)
		return -errno;
	return swprof_target_new(tfd, out);
}
