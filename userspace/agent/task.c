// SPDX-License-Identifier: GPL-2.0-only
/* EBPFProfilingTaskQuery commands into tasks (agent_task.h). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_task.h"
#include "agent_task_priv.h"


enum key {
	K_TASK_ID, K_SERIAL, K_PROCESS_ID, K_UPDATE, K_START, K_TRIGGER, K_TARGET, K_DURATION,
	K_EXT, NR_KEYS
};

static const char *const key_names[NR_KEYS] = {
	[K_TASK_ID] = "TaskId", [K_SERIAL] = "SerialNumber", [K_PROCESS_ID] = "ProcessId",
	[K_UPDATE] = "TaskUpdateTime", [K_START] = "TaskStartTime", [K_TRIGGER] = "TriggerType",
	[K_TARGET] = "TargetType", [K_DURATION] = "FixedTriggerDuration",
	[K_EXT] = "ExtensionConfigJSON",
};

static const char *const target_names[] = {
	[AGENT_TARGET_ON_CPU] = "ON_CPU",
	[AGENT_TARGET_OFF_CPU] = "OFF_CPU",
	[AGENT_TARGET_NETWORK] = "NETWORK",
};

const char *agent_target_name(enum agent_task_target t)
{
	if (t >= AGENT_TARGET_ON_CPU && t <= AGENT_TARGET_NETWORK)
		return target_names[t];
	return "?";
}

int agent_parse_decimal(const char *s, int64_t *out)
{
	long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*out = v;
	return 0;
}

void agent_task_free(struct agent_task *t)
{
	size_t i;

	free(t->id);
	free(t->serial);
	for (i = 0; i < t->nr_process_ids; i++)
		free(t->process_ids[i]);
	free(t->process_ids);
	free(t->ext_json);
	memset(t, 0, sizeof(*t));
}

int agent_bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (whylen)
		vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int agent_bad_value(char *why, size_t whylen, const char *key, const char *value, const char *what)
{
	return agent_bad(why, whylen, "%s '%.*s%s' %s", key, AGENT_SHOWN, value,
			 strlen(value) > AGENT_SHOWN ? "..." : "", what);
}

int agent_arg_number(const char *key, const char *value, int64_t *out, char *why, size_t whylen)
{
	int err;

	if (!value)
		return agent_bad(why, whylen, "no %s", key);
	err = agent_parse_decimal(value, out);
	if (err == -ERANGE)
		return agent_bad_value(why, whylen, key, value, "is out of range");
	if (err)
		return agent_bad_value(why, whylen, key, value, "is not a number");
	return 0;
}

static int bad_value(char *why, size_t whylen, enum key k, const char *value, const char *what)
{
	return agent_bad_value(why, whylen, key_names[k], value, what);
}

static int number(const char *const *v, enum key k, int64_t *out, char *why, size_t whylen)
{
	return agent_arg_number(key_names[k], v[k], out, why, whylen);
}

static enum agent_task_target target_of(const char *s)
{
	int t;

	for (t = AGENT_TARGET_ON_CPU; t <= AGENT_TARGET_NETWORK; t++)
		if (!strcmp(s, target_names[t]))
			return t;
	return 0;
}

/* Everything but the strings: 0 or -EINVAL with the reason. */
static int check(const char *const *v, struct agent_task *t, char *why, size_t whylen)
{
	int64_t secs;
	int err;

	if (!v[K_TASK_ID])
		return agent_bad(why, whylen, "no TaskId");
	if (!*v[K_TASK_ID])
		return agent_bad(why, whylen, "TaskId is empty");
	if (!v[K_PROCESS_ID])
		return agent_bad(why, whylen, "no ProcessId");
	if ((err = number(v, K_UPDATE, &t->update_ms, why, whylen)) ||
	    (err = number(v, K_START, &t->start_ms, why, whylen)))
		return err;
	if (!v[K_TRIGGER])
		return agent_bad(why, whylen, "no TriggerType");
	if (strcmp(v[K_TRIGGER], "FIXED_TIME"))
		return bad_value(why, whylen, K_TRIGGER, v[K_TRIGGER], "is not FIXED_TIME");
	if (!v[K_TARGET])
		return agent_bad(why, whylen, "no TargetType");
	t->target = target_of(v[K_TARGET]);
	if (!t->target)
		return bad_value(why, whylen, K_TARGET, v[K_TARGET],
				 "is not ON_CPU, OFF_CPU or NETWORK");
	if ((err = number(v, K_DURATION, &secs, why, whylen)))
		return err;
	if (secs < 1 || secs > AGENT_TASK_MAX_DURATION_MS / 1000)
		return bad_value(why, whylen, K_DURATION, v[K_DURATION], "is not 1..86400 seconds");
	t->duration_ms = (uint64_t)secs * 1000;
	return 0;
}

/* @s split at commas into t->process_ids, each trimmed, empty ones dropped. */
static int split_ids(const char *s, struct agent_task *t)
{
	while (*s) {
		size_t len = strcspn(s, ",");
		const char *b = s, *e = s + len;
		char **v;

		s = *e ? e + 1 : e;
		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if (b == e)
			continue;
		v = realloc(t->process_ids, (t->nr_process_ids + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->process_ids = v;
		if (!(v[t->nr_process_ids] = strndup(b, e - b)))
			return -ENOMEM;
		t->nr_process_ids++;
	}
	return 0;
}

static int copy_strings(const char *const *v, struct agent_task *t, char *why, size_t whylen)
{
	const char *ext = v[K_EXT];

	if (!(t->id = strdup(v[K_TASK_ID])) ||
	    !(t->serial = strdup(v[K_SERIAL] ? v[K_SERIAL] : "")) ||
	    (ext && strcmp(ext, "null") && !(t->ext_json = strdup(ext))) ||
	    split_ids(v[K_PROCESS_ID], t)) {
		agent_bad(why, whylen, "out of memory");
		return -ENOMEM;
	}
	if (!t->nr_process_ids)
		return bad_value(why, whylen, K_PROCESS_ID, v[K_PROCESS_ID], "names no process");
	return 0;
}

/* v[k]: the value of the first arg whose key is key_names[k]; NULL when none. */
static void collect(const struct agent_kv *args, size_t nr_args, const char **v)
{
	size_t i;
	int k;

	for (i = 0; i < nr_args; i++) {
		if (!args[i].key || !args[i].value)
			continue;
		for (k = 0; k < NR_KEYS; k++)
			if (!v[k] && !strcmp(args[i].key, key_names[k]))
				v[k] = args[i].value;
	}
}

int agent_task_parse(const struct agent_kv *args, size_t nr_args, struct agent_task *out,
		     int64_t *update_ms, char *why, size_t whylen)
{
	const char *v[NR_KEYS] = { 0 };
	int64_t upd;
	int err;

	memset(out, 0, sizeof(*out));
	if (whylen)
		*why = '\0';
	collect(args, nr_args, v);
	if (update_ms)
		*update_ms = v[K_UPDATE] && !agent_parse_decimal(v[K_UPDATE], &upd) ? upd : 0;
	err = check(v, out, why, whylen);
	if (!err)
		err = copy_strings(v, out, why, whylen);
	if (err)
		agent_task_free(out);
	return err;
}
