// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rover's ON_CPU (sqrtC) and OFF_CPU (fileC: fopen, fprintf, fclose) programs
 * in C, and the other workloads of selftests/agent-in-guest (its modes).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* The VM has 2 vCPUs for 25 processes and the agent: the busy loops nap, so
 * that every process gets the CPU now and then. */
volatile double sink;
__attribute__((noinline)) double sqrtC(double x)
{
	double r = 0;
	for (int i = 0; i < 200000; i++)
		r += sqrt(x + i);
	return r;
}
/* Rover's OFF_CPU program: fopen, fprintf, fclose, over and over */
__attribute__((noinline)) void fileC(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		exit(1);
	fprintf(f, "%s %d\n", text, 1);	/* not "%s": gcc makes that fputs */
	fclose(f);
}
static void *napper(void *arg)
{
	for (;;)
		usleep(5000);
	return NULL;
}
static int pipe_fds[2];
static void *drain(void *arg)
{
	char buf[4096];
	while (read(pipe_fds[0], buf, sizeof(buf)) > 0)
		usleep(500);
	return NULL;
}
int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "file")) {
		/* into a pipe a thread drains slowly: the writes block, in fprintf */
		static char text[65536], path[64];
		pthread_t t;
		if (pipe(pipe_fds) || pthread_create(&t, NULL, drain, NULL))
			return 1;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", pipe_fds[1]);
		memset(text, 'x', sizeof(text) - 1);
		for (;;)
			fileC(path, text);
	}
	/* cp: asleep for 3 s, then busy (continuous profiling's trigger) */
	if (argc > 1 && !strcmp(argv[1], "cp")) {
		sleep(3);
		for (;;)
			sink += sqrtC(sink);
	}
	/* threads: after 3 s, 16 threads that block (a thread-count trigger, OFF_CPU) */
	if (argc > 1 && !strcmp(argv[1], "threads")) {
		pthread_t t;
		sleep(3);
		for (int i = 0; i < 16; i++)
			pthread_create(&t, NULL, napper, NULL);
		for (;;)
			pause();
	}
	/* burn N: mostly asleep (20 of them at once) */
	useconds_t nap = argc > 1 && !strcmp(argv[1], "burn") ? 400000 : 20000;
	for (;;) {
		sink += sqrtC(sink);
		usleep(nap);
	}
}
