// SPDX-License-Identifier: GPL-2.0-only
/* Continuous profiling policies from ServiceWithPolicyJSON, per service (agent_continuous.h). */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_continuous_priv.h"
#include "sw_log.h"

#define PFX	"continuous profiling policy"

static const char *const monitor_names[AGENT_CP_NR_MONITORS] = {
	[AGENT_CP_PROCESS_CPU] = "PROCESS_CPU",
	[AGENT_CP_PROCESS_THREAD_COUNT] = "PROCESS_THREAD_COUNT",
	[AGENT_CP_SYSTEM_LOAD] = "SYSTEM_LOAD",
	[AGENT_CP_HTTP_ERROR_RATE] = "HTTP_ERROR_RATE",
	[AGENT_CP_HTTP_AVG_RESPONSE_TIME] = "HTTP_AVG_RESPONSE_TIME",
};

const char *agent_cp_monitor_name(enum agent_cp_monitor m)
{
	if ((unsigned int)m < AGENT_CP_NR_MONITORS)
		return monitor_names[m];
	return "?";
}

static int monitor_of(const char *s)
{
	int m;

	for (m = 0; m < AGENT_CP_NR_MONITORS; m++)
		if (!strcmp(s, monitor_names[m]))
			return m;
	return -1;
}

static int target_of(const char *s)
{
	int t;

	for (t = AGENT_TARGET_ON_CPU; t <= AGENT_TARGET_NETWORK; t++)
		if (!strcmp(s, agent_target_name(t)))
			return t;
	return -1;
}

static void item_free(struct agent_cp_item *it)
{
	size_t i;

	free(it->threshold_str);
	for (i = 0; i < it->nr_uris; i++)
		free(it->uri_list[i]);
	free(it->uri_list);
	free(it->uri_regex);
}

static void service_free(struct agent_cp_service *s)
{
	size_t i, j;

	free(s->service);
	free(s->uuid);
	for (i = 0; i < s->nr_policies; i++) {
		for (j = 0; j < s->policies[i].nr_items; j++)
			item_free(&s->policies[i].items[j]);
		free(s->policies[i].items);
	}
	free(s->policies);
	memset(s, 0, sizeof(*s));
}

/*
 * Rover's parsers: PROCESS_CPU and PROCESS_THREAD_COUNT take an integer
 * (strconv.ParseInt), the others a float (ParseFloat).  Negative values,
 * NaN and infinities are refused here too (they would trigger always or
 * never).
 */
static bool parse_threshold(enum agent_cp_monitor m, const char *s, double *out)
{
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return false;
	if (m == AGENT_CP_PROCESS_CPU || m == AGENT_CP_PROCESS_THREAD_COUNT) {
		long long v;

		if (*s == '+')
			s++;
		if (!isdigit((unsigned char)*s))
			return false;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (*end || errno || v > INT32_MAX)
			return false;
		*out = v;
		return true;
	}
	errno = 0;
	*out = strtod(s, &end);
	return !*end && !errno && isfinite(*out) && *out >= 0;
}

/* A JSON integer field of @o: 0 when missing or not an integer (both invalid: > 0 needed). */
static int64_t int_field(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_int64(v);
}

/*
 * One item of @service's @target policy into @it.  false (and the reason in
 * @why) when it is invalid.
 */
static bool parse_item(enum agent_cp_monitor m, struct json_object *o, struct agent_cp_item *it,
		       char *why, size_t whylen)
{
	struct json_object *v;
	const char *thr;
	int64_t period, count;
	size_t i, n;

	memset(it, 0, sizeof(*it));
	it->type = m;
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(why, whylen, "not an object");
		return false;
	}
	if (!json_object_object_get_ex(o, "Threshold", &v) ||
	    !(json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int) ||
	      json_object_is_type(v, json_type_double))) {
		snprintf(why, whylen, "no Threshold");
		return false;
	}
	thr = json_object_get_string(v);
	if (!parse_threshold(m, thr, &it->threshold)) {
		snprintf(why, whylen, "Threshold '%.40s' is not %s", thr,
			 m <= AGENT_CP_PROCESS_THREAD_COUNT ? "an integer >= 0" : "a number >= 0");
		return false;
	}
	period = int_field(o, "Period");
	count = int_field(o, "Count");
	if (period <= 0 || count <= 0) {
		snprintf(why, whylen, "Period %lld and Count %lld must both be integers > 0",
			 (long long)period, (long long)count);
		return false;
	}
	if (period > AGENT_CP_MAX_PERIOD) {
		snprintf(why, whylen, "Period %lld is over %d seconds", (long long)period,
			 AGENT_CP_MAX_PERIOD);
		return false;
	}
	if (count > period) {
		snprintf(why, whylen, "Count %lld is larger than Period %lld", (long long)count,
			 (long long)period);
		return false;
	}
	it->period = period;
	it->count = count;
	it->supported = m <= AGENT_CP_SYSTEM_LOAD;
	it->threshold_str = strdup(thr);
	if (!it->threshold_str)
		goto nomem;
	if (json_object_object_get_ex(o, "URIRegex", &v) &&
	    json_object_is_type(v, json_type_string) && *json_object_get_string(v)) {
		it->uri_regex = strdup(json_object_get_string(v));
		if (!it->uri_regex)
			goto nomem;
	}
	if (json_object_object_get_ex(o, "URIList", &v) && json_object_is_type(v, json_type_array) &&
	    (n = json_object_array_length(v))) {
		it->uri_list = calloc(n, sizeof(*it->uri_list));
		if (!it->uri_list)
			goto nomem;
		for (i = 0; i < n; i++) {
			struct json_object *u = json_object_array_get_idx(v, i);

			if (!json_object_is_type(u, json_type_string))
				continue;
			it->uri_list[it->nr_uris] = strdup(json_object_get_string(u));
			if (!it->uri_list[it->nr_uris++])
				goto nomem;
		}
	}
	return true;
nomem:
	item_free(it);
	memset(it, 0, sizeof(*it));
	snprintf(why, whylen, "out of memory");
	return false;
}

/* @svc's policy for @target from @o (an object of monitor -> item).  0 or -ENOMEM. */
static int parse_policy(struct agent_cp_service *svc, const char *target_name,
			struct json_object *o)
{
	struct agent_cp_policy *pol, *pols;
	struct json_object_iter it;
	int target = target_of(target_name);
	char why[160];

	if (target < 0) {
		sw_warn(PFX " of service %s: unknown profiling type '%.40s': left out", svc->service,
			target_name);
		return 0;
	}
	if (!json_object_is_type(o, json_type_object)) {
		sw_warn(PFX " of service %s: %s is not an object: left out", svc->service,
			target_name);
		return 0;
	}
	pols = realloc(svc->policies, (svc->nr_policies + 1) * sizeof(*pols));
	if (!pols)
		return -ENOMEM;
	svc->policies = pols;
	pol = &pols[svc->nr_policies++];
	memset(pol, 0, sizeof(*pol));
	pol->target = target;
	pol->items = calloc(json_object_object_length(o) + 1, sizeof(*pol->items));
	if (!pol->items)
		return -ENOMEM;
	json_object_object_foreachC(o, it) {
		int m = monitor_of(it.key);

		if (m < 0) {
			sw_warn(PFX " of service %s: %s: unknown monitor type '%.40s': left out",
				svc->service, target_name, it.key);
			continue;
		}
		if (!parse_item(m, it.val, &pol->items[pol->nr_items], why, sizeof(why))) {
			if (!strcmp(why, "out of memory"))
				return -ENOMEM;
			sw_warn(PFX " of service %s: %s %s: %s: left out", svc->service, target_name,
				it.key, why);
			continue;
		}
		pol->nr_items++;
	}
	return 0;
}

static void log_unsupported(const struct agent_cp_service *svc)
{
	char list[256] = "";
	size_t i, j, l = 0;

	for (i = 0; i < svc->nr_policies; i++) {
		for (j = 0; j < svc->policies[i].nr_items; j++) {
			const struct agent_cp_item *it = &svc->policies[i].items[j];

			if (it->supported || l >= sizeof(list))
				continue;
			l += snprintf(list + l, sizeof(list) - l, "%s%s %s", l ? ", " : "",
				      agent_target_name(svc->policies[i].target),
				      agent_cp_monitor_name(it->type));
		}
	}
	if (l)
		sw_warn(PFX " %s of service %s: %s: not supported yet (no network observation): kept, never triggers",
			svc->uuid, svc->service, list);
}

static ssize_t find(const struct agent_cp_policies *ps, const char *service)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (!strcmp(ps->v[i].service, service))
			return i;
	return -1;
}

const struct agent_cp_service *agent_cp_policies_find(const struct agent_cp_policies *ps,
						      const char *service)
{
	ssize_t i = find(ps, service);

	return i < 0 ? NULL : &ps->v[i];
}

/* Put @svc (moved) in place of @svc->service's policy.  0 or -ENOMEM. */
static int replace(struct agent_cp_policies *ps, struct agent_cp_service *svc)
{
	ssize_t i = find(ps, svc->service);

	if (i >= 0) {
		service_free(&ps->v[i]);
		ps->v[i] = *svc;
	} else {
		if (ps->n == ps->cap) {
			size_t cap = ps->cap ? 2 * ps->cap : 8;
			struct agent_cp_service *v = realloc(ps->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			ps->v = v;
			ps->cap = cap;
		}
		ps->v[ps->n++] = *svc;
	}
	memset(svc, 0, sizeof(*svc));
	return 0;
}

static bool delete(struct agent_cp_policies *ps, const char *service)
{
	ssize_t i = find(ps, service);

	if (i < 0)
		return false;
	service_free(&ps->v[i]);
	ps->v[i] = ps->v[--ps->n];
	return true;
}

/* One element of the array.  1 when a service changed, 0 when not, -ENOMEM. */
static int apply_one(struct agent_cp_policies *ps, struct json_object *o, size_t idx)
{
	struct agent_cp_service svc = { 0 };
	struct json_object *name, *uuid, *prof;
	struct json_object_iter it;
	const char *u;
	int err;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "ServiceName", &name) ||
	    !json_object_is_type(name, json_type_string) || !*json_object_get_string(name)) {
		sw_warn(PFX " #%zu: no ServiceName: left out", idx);
		return 0;
	}
	u = json_object_object_get_ex(o, "UUID", &uuid) && json_object_is_type(uuid, json_type_string) ?
		json_object_get_string(uuid) : "";
	if (!*u || !json_object_object_get_ex(o, "Profiling", &prof) || !prof) {
		if (!delete(ps, json_object_get_string(name)))
			return 0;
		sw_info(PFX " of service %s: deleted", json_object_get_string(name));
		ps->gen++;
		return 1;
	}
	if (!json_object_is_type(prof, json_type_object)) {
		sw_warn(PFX " %s of service %s: Profiling is not an object: left out", u,
			json_object_get_string(name));
		return 0;
	}
	svc.service = strdup(json_object_get_string(name));
	svc.uuid = strdup(u);
	if (!svc.service || !svc.uuid) {
		err = -ENOMEM;
		goto out;
	}
	json_object_object_foreachC(prof, it) {
		err = parse_policy(&svc, it.key, it.val);
		if (err)
			goto out;
	}
	log_unsupported(&svc);
	sw_info(PFX " %s of service %s: %zu profiling type(s)", svc.uuid, svc.service,
		svc.nr_policies);
	err = replace(ps, &svc);
	if (!err) {
		ps->gen++;
		err = 1;
	}
out:
	service_free(&svc);
	return err;
}

/*
 * @json as one JSON value, strictly (Go's encoding/json: no trailing commas,
 * nothing after the value but spaces).  NULL and *why when it is not.
 */
static struct json_object *parse_strict(const char *json, const char **why)
{
	struct json_tokener *tok;
	struct json_object *root;
	size_t len = strlen(json), end;

	tok = json_tokener_new();
	if (!tok) {
		*why = "out of memory";
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, json, len);
	end = json_tokener_get_parse_end(tok);
	if (!root) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		*why = e == json_tokener_continue ? "cut short" : json_tokener_error_desc(e);
	} else {
		while (end < len && isspace((unsigned char)json[end]))
			end++;
		if (end < len) {
			*why = "text after the value";
			json_object_put(root);
			root = NULL;
		}
	}
	json_tokener_free(tok);
	return root;
}

int agent_cp_policies_apply(struct agent_cp_policies *ps, const char *json)
{
	const char *why = "no text";
	struct json_object *root;
	size_t i, n;
	int changed = 0, err;

	root = json ? parse_strict(json, &why) : NULL;
	if (!root || !json_object_is_type(root, json_type_array)) {
		sw_warn(PFX ": ServiceWithPolicyJSON is not a JSON array (%s): policies unchanged",
			root ? "another JSON value" : why);
		json_object_put(root);
		return -EINVAL;
	}
	n = json_object_array_length(root);
	for (i = 0; i < n; i++) {
		err = apply_one(ps, json_object_array_get_idx(root, i), i);
		if (err < 0) {
			changed = err;
			break;
		}
		changed += err;
	}
	json_object_put(root);
	return changed;
}

void agent_cp_policies_free(struct agent_cp_policies *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		service_free(&ps->v[i]);
	free(ps->v);
	memset(ps, 0, sizeof(*ps));
}
