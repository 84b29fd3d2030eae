/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * For the tests that unload and reload the module under a listener: the
 * events API of libswprof, and loading and unloading the module.  The
 * selftests link libswprof.a alone, and the events API needs libnl, which
 * libswprof.so brings along: it is loaded from build/lib next to the
 * test's directory, or from SWPROF_LIBSO (which also checks the .so
 * exports it).
 */
#ifndef SWPROF_SELFTEST_EVENTS_DL_H
#define SWPROF_SELFTEST_EVENTS_DL_H

#include <dlfcn.h>

#include "common.h"

static struct {
	int (*open)(const struct swprof_events_opts *opts, struct swprof_events **out);
	void (*close)(struct swprof_events *ev);
	int (*fd)(const struct swprof_events *ev);
	int (*read)(struct swprof_events *ev, swprof_event_fn fn, void *ctx);
	const char *(*name)(unsigned int cmd);
	const char *(*strerror)(int err);
} evl;

/* NULL when loaded, else why not. */
static const char *evl_load(void)
{
	static char path[4096], why[4200];
	const char *env = getenv("SWPROF_LIBSO");
	ssize_t n;
	void *h;

	if (evl.open)
		return NULL;
	if (env) {
		snprintf(path, sizeof(path), "%s", env);
	} else {
		n = readlink("/proc/self/exe", path, sizeof(path) - 64);
		if (n < 0)
			return "readlink /proc/self/exe failed";
		path[n] = '\0';
		strcpy(strrchr(path, '/'), "/../lib/libswprof.so");
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, sizeof(why), "dlopen %s: %s", path, dlerror());
		return why;
	}
	evl.open = dlsym(h, "swprof_events_open");
	evl.close = dlsym(h, "swprof_events_close");
	evl.fd = dlsym(h, "swprof_events_fd");
	evl.read = dlsym(h, "swprof_events_read");
	evl.name = dlsym(h, "swprof_event_name");
	evl.strerror = dlsym(h, "swprof_strerror");
	if (!evl.open || !evl.close || !evl.fd || !evl.read || !evl.name || !evl.strerror) {
		evl.open = NULL;
		return "libswprof.so does not export the events API";
	}
	return NULL;
}

#define LOAD_EVL() do {							\
	const char *__why = evl_load();					\
	ASSERT_EQ(NULL, __why) TH_LOG("%s", __why);			\
} while (0)

/* rmmod swprof: 0 or a negative errno (the last fput may still be on its way). */
static inline int module_unload(void)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (!syscall(SYS_delete_module, "swprof", O_NONBLOCK))
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EBUSY)
			return -errno;
		usleep(10000);
	}
	return -EBUSY;
}

/* insmod @ko: 0 or a negative errno. */
static inline int module_load(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0))
		err = -errno;
	close(fd);
	return err;
}

#endif
