/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Drive tools/fake-oap from a test: start it (on 127.0.0.1, any port),
 * send it JSON commands on its stdin, read its one-line JSON answers.
 * Run from the repository top (tools/check does).  Used by the tests of
 * oap/ and agentd/.
 */
#ifndef FAKE_OAP_H
#define FAKE_OAP_H

#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct fake_oap {
	pid_t pid;
	FILE *in, *out;
	int port;
	char addr[64];
	char reply[262144];	/* the last answer; a longer one is cut (and said) */
};

/* @args: extra arguments, NULL-terminated (or NULL).  0 or -1. */
static __attribute__((unused)) int fake_oap_start(struct fake_oap *f, const char *const *args)
{
	const char *argv[32] = { "/usr/bin/python3", "tools/fake-oap", "--timeout", "60" };
	int to[2], from[2], n = 4;

	memset(f, 0, sizeof(*f));
	for (; args && *args && n < 31; args++)
		argv[n++] = *args;
	if (pipe(to) || pipe(from))
		return -1;
	f->pid = fork();
	if (f->pid < 0)
		return -1;
	if (!f->pid) {
		setenv("GRPC_VERBOSITY", "NONE", 1);
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[0]), close(to[1]), close(from[0]), close(from[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	f->in = fdopen(to[1], "w");
	f->out = fdopen(from[0], "r");
	if (!fgets(f->reply, sizeof(f->reply), f->out) ||
	    sscanf(f->reply, "READY %d", &f->port) != 1)
		return -1;
	snprintf(f->addr, sizeof(f->addr), "127.0.0.1:%d", f->port);
	return 0;
}

/* Send one command; its answer (one line, no newline), "" when none. */
static __attribute__((format(printf, 2, 3))) const char *fake_oap_cmd(struct fake_oap *f,
								       const char *fmt, ...)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f->in, fmt, ap);
	va_end(ap);
	fputc('\n', f->in);
	fflush(f->in);
	/* the whole line is read, so that the next answer is the next command's */
	n = getline(&line, &cap, f->out);
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = 0;
	if (n < 0)
		f->reply[0] = 0;
	else if ((size_t)n >= sizeof(f->reply))
		snprintf(f->reply, sizeof(f->reply), "{\"ok\": false, \"error\": \"fake_oap.h: "
			 "an answer of %zd bytes, longer than the %zu it keeps\"}", n,
			 sizeof(f->reply));
	else
		memcpy(f->reply, line, n + 1);
	free(line);
	return f->reply;
}

/* The JSON text of a value in the fake's record (see tools/fake-oap "get"). */
static __attribute__((unused)) const char *fake_oap_get(struct fake_oap *f, const char *path)
{
	const char *r = fake_oap_cmd(f, "{\"cmd\": \"get\", \"path\": \"%s\"}", path);
	char *v = strstr(r, "\"value\": ");
	size_t n;

	if (!v)
		return r;
	v += strlen("\"value\": ");
	n = strlen(v);
	if (n && v[n - 1] == '}')
		v[n - 1] = 0;
	return v;
}

/* Wait (in the fake) until @count calls of @method have ended; true if they did. */
static __attribute__((unused)) bool fake_oap_wait(struct fake_oap *f, const char *method, int count)
{
	const char *r = fake_oap_cmd(f, "{\"cmd\": \"wait\", \"method\": \"%s\", \"count\": %d, "
				     "\"timeout_ms\": 10000}", method, count);

	return strstr(r, "\"ok\": true") != NULL;
}

static __attribute__((unused)) void fake_oap_stop(struct fake_oap *f)
{
	int st;

	if (f->pid <= 0)
		return;
	if (f->in) {
		fputs("{\"cmd\": \"quit\"}\n", f->in);
		fclose(f->in);
	}
	if (f->out)
		fclose(f->out);
	waitpid(f->pid, &st, 0);
	f->pid = 0;
}

#endif
