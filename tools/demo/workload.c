// SPDX-License-Identifier: GPL-2.0-only
/*
 * The demo's sample workload: a pretend request handler with a few
 * recognisable hot spots, on several threads.  Built with frame pointers.
 *
 *   workload [SECONDS] [THREADS]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))

static double seconds = 3;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

NOINLINE static uint32_t checksum(const uint8_t *p, size_t n)
{
	uint32_t a = 1, b = 0;

	while (n--) {
		a = (a + *p++) % 65521;
		b = (b + a) % 65521;
	}
	return b << 16 | a;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

NOINLINE static void sort_keys(uint32_t *keys, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		keys[i] = seed = seed * 1103515245 + 12345;
	qsort(keys, n, sizeof(*keys), cmp_u32);
}

NOINLINE static size_t parse_headers(char *buf, size_t n)
{
	size_t i, lines = 0;

	for (i = 0; i < n; i++) {
		buf[i] = 'a' + (i * 7 + lines) % 26;
		if (buf[i] == 'q')
			lines++;
	}
	return lines;
}

NOINLINE static uint32_t render_response(uint8_t *out, size_t n, uint32_t seed)
{
	memset(out, seed & 0xff, n);
	return checksum(out, n);
}

NOINLINE static uint32_t handle_request(uint32_t id)
{
	static __thread uint32_t keys[4096];
	static __thread char hdr[8192];
	static __thread uint8_t body[16384];
	uint32_t r = 0;

	r += parse_headers(hdr, sizeof(hdr));
	sort_keys(keys, id % 3 ? 512 : 4096, id);
	r += render_response(body, sizeof(body), id);
	return r;
}

NOINLINE static void *worker(void *arg)
{
	double end = now() + seconds;
	uint32_t id = (uintptr_t)arg, sink = 0;

	while (now() < end)
		sink += handle_request(id++);
	return (void *)(uintptr_t)sink;
}

int main(int argc, char **argv)
{
	int threads = argc > 2 ? atoi(argv[2]) : 2, i;
	pthread_t th[64];

	if (argc > 1)
		seconds = atof(argv[1]);
	if (threads < 1 || threads > 64)
		threads = 2;
	for (i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i * 1000));
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	printf("workload: %d threads for %.1f s done\n", threads, seconds);
	return 0;
}
