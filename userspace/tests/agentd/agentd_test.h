/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers of the agentd/ host tests: logged lines, deadlines, batches, the fake's JSON. */
#ifndef AGENTD_TEST_H
#define AGENTD_TEST_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_batch.h"
#include "fake_log.h"
#include "sw_log.h"

/* ---- time --------------------------------------------------------------- */

static inline int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Poll @cond every 10 ms for at most @ms: true once it holds (not a sleep as an assertion). */
#define WAIT_UNTIL(ms, cond) ({						\
	int64_t __end = mono_ms() + (ms);				\
	bool __ok;							\
	while (!(__ok = (cond)) && mono_ms() < __end)			\
		sleep_ms(10);						\
	__ok;								\
})

/* ---- batches ------------------------------------------------------------ */

/*
 * Add a stack written "k1,k2|u1,u2" (leaf first; either side may be empty,
 * "|" alone: no frame at all).  0 or agent_batch_add()'s error.
 */
static inline int add_stack(struct agent_batch *b, const char *spec, uint64_t count,
			    uint64_t duration_ns)
{
	const char *k[16], *u[16];
	char buf[512], *bar, *s, *tok, *save;
	uint32_t nk = 0, nu = 0;

	snprintf(buf, sizeof(buf), "%s", spec);
	bar = strchr(buf, '|');
	if (!bar)
		return -1;
	*bar = 0;
	for (s = buf; (tok = strtok_r(s, ",", &save)) && nk < 16; s = NULL)
		k[nk++] = tok;
	for (s = bar + 1; (tok = strtok_r(s, ",", &save)) && nu < 16; s = NULL)
		u[nu++] = tok;
	return agent_batch_add(b, k, nk, u, nu, count, duration_ns);
}

/* ---- the fake's JSON answers --------------------------------------------- */

/* How often @needle occurs in @text. */
static inline int count_of(const char *text, const char *needle)
{
	int n = 0;

	for (; (text = strstr(text, needle)); text += strlen(needle))
		n++;
	return n;
}

/*
 * The integers that follow each "@key": in @text, in order (quoted ones too:
 * protobuf's JSON writes int64 as strings).  How many, at most @max.
 */
static inline int numbers_of(const char *text, const char *key, long long *out, int max)
{
	char needle[64];
	int n = 0;

	snprintf(needle, sizeof(needle), "\"%s\": ", key);
	for (; n < max && (text = strstr(text, needle)); n++) {
		text += strlen(needle);
		out[n] = atoll(text + (*text == '"'));
	}
	return n;
}

/* ---- files ------------------------------------------------------------------ */

/* Files in @dir whose name ends with @suffix; -1 when @dir cannot be read. */
static inline int files_in(const char *dir, const char *suffix)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name), sl = strlen(suffix);

		n += l >= sl && !strcmp(e->d_name + l - sl, suffix);
	}
	closedir(d);
	return n;
}

static inline void rm_rf(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "# cannot remove %s\n", dir);
}

#endif
