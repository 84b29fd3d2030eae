// SPDX-License-Identifier: GPL-2.0-only
/* The status socket (status.h) and its client (agentd_status()). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agentd.h"
#include "status.h"

struct status_srv {
	int fd;
	int stop_pipe[2];
	char *path;
	pthread_t thread;
	pthread_mutex_t lock;
	char *text;		/* lock */
};

static int mkdir_parent(const char *path)
{
	char *dir = strdup(path), *slash;
	int err = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0755) && errno != EEXIST)
			err = -errno;
	}
	free(dir);
	return err;
}

static void serve(struct status_srv *s, int c)
{
	size_t off = 0, len;
	char *text;
	ssize_t n;

	pthread_mutex_lock(&s->lock);
	text = strdup(s->text ? s->text : "starting\n");
	pthread_mutex_unlock(&s->lock);
	if (!text)
		return;
	len = strlen(text);
	while (off < len) {
		n = send(c, text + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += n;
	}
	free(text);
}

static void *status_main(void *arg)
{
	struct status_srv *s = arg;
	struct pollfd p[2] = {
		{ .fd = s->fd, .events = POLLIN },
		{ .fd = s->stop_pipe[0], .events = POLLIN },
	};
	int c;

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		serve(s, c);
		close(c);
	}
	return NULL;
}

int status_srv_new(const char *path, struct status_srv **out)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct status_srv *s;
	int err;

	if (strlen(path) >= sizeof(a.sun_path)) {
		sw_err("agent.status_socket %s: longer than %zu bytes", path, sizeof(a.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	pthread_mutex_init(&s->lock, NULL);
	s->path = strdup(path);
	err = s->path ? mkdir_parent(path) : -ENOMEM;
	if (err)
		goto fail;
	strcpy(a.sun_path, path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || pipe2(s->stop_pipe, O_CLOEXEC)) {
		err = -errno;
		goto fail;
	}
	unlink(path);
	if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)) || listen(s->fd, 8)) {
		err = -errno;
		goto fail;
	}
	err = -pthread_create(&s->thread, NULL, status_main, s);
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	sw_err("agent.status_socket %s: %s; set it to a path the agent may create",
	       path, strerror(-err));
	if (s->fd >= 0)
		close(s->fd);
	if (s->stop_pipe[0] >= 0) {
		close(s->stop_pipe[0]);
		close(s->stop_pipe[1]);
	}
	free(s->path);
	free(s);
	return err;
}

void status_srv_free(struct status_srv *s)
{
	if (!s)
		return;
	if (write(s->stop_pipe[1], "x", 1) == 1)
		pthread_join(s->thread, NULL);
	close(s->fd);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	unlink(s->path);
	free(s->path);
	free(s->text);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void status_srv_set(struct status_srv *s, const char *text)
{
	char *t = strdup(text);

	if (!t)
		return;
	pthread_mutex_lock(&s->lock);
	free(s->text);
	s->text = t;
	pthread_mutex_unlock(&s->lock);
}

int agentd_status(const char *path, FILE *out)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char buf[4096];
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		sw_err("status: socket path %s is too long", path);
		return 1;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		sw_err("status: no agent answers at %s (%s): is swctl agent running? "
		       "(--socket PATH for another agent.status_socket)", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, out);
	close(fd);
	return 0;
}
