/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * epoll_ctl() for tests on fake_swprof.h: its target and group fds are
 * memfds, which epoll refuses, so a quiet eventfd is watched in their
 * place and the pipeline's reader finds their records in its sweeps
 * (every 100 ms).  Include it after fake_swprof.h, once per program.
 */
#ifndef FAKE_EPOLL_H
#define FAKE_EPOLL_H

#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fake_swprof.h"

static struct {
	pthread_mutex_t lock;
	struct { int fd, stand_in; } fds[64];
	int nr;
} quiet = { .lock = PTHREAD_MUTEX_INITIALIZER };

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	int i;

	if (fd_is(fd, FAKE_TARGET) || fd_is(fd, FAKE_GROUP)) {
		pthread_mutex_lock(&quiet.lock);
		for (i = 0; i < quiet.nr && quiet.fds[i].fd != fd; i++)
			;
		if (i == quiet.nr) {
			if (i == 64)
				abort();
			quiet.fds[i].fd = fd;
			quiet.fds[i].stand_in = eventfd(0, EFD_CLOEXEC);
			quiet.nr++;
		}
		fd = quiet.fds[i].stand_in;
		if (op == EPOLL_CTL_DEL) {	/* fd numbers come back: forget it */
			quiet.fds[i] = quiet.fds[--quiet.nr];
			syscall(SYS_epoll_ctl, epfd, op, fd, ev);
			close(fd);
			pthread_mutex_unlock(&quiet.lock);
			return 0;
		}
		pthread_mutex_unlock(&quiet.lock);
	}
	return syscall(SYS_epoll_ctl, epfd, op, fd, ev);
}

#endif
