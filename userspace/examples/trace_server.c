// SPDX-License-Identifier: GPL-2.0-only
/*
 * trace_server: a small HTTP/1.0 server whose requests swprof can profile.
 *
 *   cc -Iinclude/uapi -Iuserspace/lib -o trace_server \
 *      userspace/examples/trace_server.c build/lib/libswprof.a -lpthread
 *   ./trace_server [-p PORT] [-n REQUESTS] [-t THREADS] [-T]
 *
 * GET /fast answers at once; GET /slow computes for 50 ms, then sleeps for
 * 100 ms.  Each request is one trace segment: swprof_trace_begin() before
 * handling it, swprof_trace_end() after.  When a controller runs a trace
 * task for "GET:/slow", that thread is sampled while it serves the request;
 * otherwise the two calls cost one ioctl (or nothing at all, without the
 * module).  The answer says what swprof decided.  -T: the server has no
 * SkyWalking tracer: it passes no segment id, libswprof makes one and the
 * controller (swctl agent) reports the segment to OAP.
 */
#define _GNU_SOURCE		/* gettid() */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <swprof.h>

static int listen_fd;
static unsigned int max_requests, served;
static int no_tracer;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;

static volatile double sink;

static void compute(long ms)
{
	struct timespec start, now;
	double x = 1;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		for (int i = 0; i < 100000; i++)
			x = x * 1.000001 + 1e-9;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < ms);
	sink = x;
}

/* The application's work: nothing here knows about swprof. */
static void handle(const char *path)
{
	if (!strcmp(path, "/slow")) {
		compute(50);
		usleep(100 * 1000);
	}
}

static void serve(int conn, unsigned long request_no)
{
	char req[2048], method[16], path[256], endpoint[16 + 256], segment[64];
	char body[512], resp[600];
	size_t len = 0;
	ssize_t n;
	int traced;

	/* The request line and headers, up to the blank line. */
	do {
		n = read(conn, req + len, sizeof(req) - 1 - len);
		if (n <= 0)
			return;
		len += n;
		req[len] = 0;
	} while (!strstr(req, "\r\n\r\n") && len < sizeof(req) - 1);
	if (sscanf(req, "%15s %255s", method, path) != 2)
		return;

	/*
	 * What a tracer would pass: its entry span's name and its segment id.
	 * Here the endpoint is "METHOD:path" and the segment id is made up.
	 */
	snprintf(endpoint, sizeof(endpoint), "%s:%s", method, path);
	snprintf(segment, sizeof(segment), "%d.%d.%lu", getpid(), gettid(), request_no);

	traced = swprof_trace_begin(endpoint, no_tracer ? NULL : segment);
	handle(path);
	if (traced == 1)
		snprintf(body, sizeof(body), "%s traced=1 task=%u segment=%s\n", endpoint,
			 swprof_trace_current_task(), swprof_trace_current_segment());
	else if (traced == 0)
		snprintf(body, sizeof(body), "%s traced=0 reason=%s\n", endpoint,
			 swprof_trace_reason_name(swprof_trace_reason()));
	else
		snprintf(body, sizeof(body), "%s traced=0 error=%s\n", endpoint,
			 strerror(-traced));
	swprof_trace_end();	/* once per begin, whatever it returned */

	n = snprintf(resp, sizeof(resp), "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
		     strlen(body), body);
	if (write(conn, resp, n) != n)
		perror("trace_server: write");
}

static void *worker(void *unused)
{
	(void)unused;
	for (;;) {
		unsigned long no;
		int conn = accept(listen_fd, NULL, NULL);

		if (conn < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;	/* shut down */
		}
		pthread_mutex_lock(&lock);
		no = ++served;
		pthread_mutex_unlock(&lock);
		serve(conn, no);
		close(conn);
		pthread_mutex_lock(&lock);
		if (max_requests && no >= max_requests)
			pthread_cond_signal(&done);
		pthread_mutex_unlock(&lock);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	unsigned int nthreads = 4, i;
	pthread_t threads[64];
	int opt, one = 1, avail;

	while ((opt = getopt(argc, argv, "p:n:t:T")) != -1) {
		switch (opt) {
		case 'p':
			addr.sin_port = htons(atoi(optarg));
			break;
		case 'n':
			max_requests = strtoul(optarg, NULL, 10);
			break;
		case 't':
			nthreads = strtoul(optarg, NULL, 10);
			break;
		case 'T':
			no_tracer = 1;
			break;
		default:
			fprintf(stderr, "usage: trace_server [-p PORT] [-n REQUESTS] [-t THREADS] [-T]\n");
			return 2;
		}
	}
	if (nthreads < 1 || nthreads > 64)
		nthreads = 4;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 ||
	    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(listen_fd, 64) ||
	    getsockname(listen_fd, (struct sockaddr *)&addr, &len)) {
		perror("trace_server: listen on 127.0.0.1");
		return 1;
	}

	/* Optional: say whether requests can be profiled at all. */
	avail = swprof_trace_available();
	fprintf(stderr, "trace_server: swprof trace profiling %s%s\n",
		avail == 1 ? "available" : "unavailable: ",
		avail == 1 ? "" : swprof_strerror(avail));
	printf("listening on 127.0.0.1:%u\n", ntohs(addr.sin_port));
	fflush(stdout);

	for (i = 0; i < nthreads; i++)
		pthread_create(&threads[i], NULL, worker, NULL);
	pthread_mutex_lock(&lock);
	while (!max_requests || served < max_requests)
		pthread_cond_wait(&done, &lock);
	pthread_mutex_unlock(&lock);
	shutdown(listen_fd, SHUT_RDWR);	/* wakes the workers' accept() */
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	return 0;
}
