// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's YAML configuration (agent_config.h): a key table, a walk of
 * libyaml's document tree that reports each problem at its line, and the
 * checks that need several keys at once.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>
#include <linux/swprof.h>

#include "agent_config.h"
#include "agent_placeholder.h"
#include "agent_template.h"
#include "sw_log.h"

enum key_type { K_STR, K_BOOL, K_DURATION, K_U32, K_SIZE, K_ADDRS, K_LOG_LEVEL, K_FINDERS,
		K_INSTANCES };

#define CF(field) offsetof(struct agent_config, field)

static const struct key {
	const char *path;
	enum key_type type;
	size_t off;
} keys[] = {
	{ "core.backend.addr", K_ADDRS, CF(backend.addrs) },
	{ "core.backend.enable_TLS", K_BOOL, CF(backend.enable_tls) },
	{ "core.backend.ca_pem_path", K_STR, CF(backend.ca_pem_path) },
	{ "core.backend.client_pem_path", K_STR, CF(backend.client_pem_path) },
	{ "core.backend.client_key_path", K_STR, CF(backend.client_key_path) },
	{ "core.backend.insecure_skip_verify", K_BOOL, CF(backend.insecure_skip_verify) },
	{ "core.backend.authentication", K_STR, CF(backend.authentication) },
	{ "core.backend.check_period", K_DURATION, CF(backend.check_period_ns) },
	{ "process_discovery.heartbeat_period", K_DURATION, CF(discovery.heartbeat_period_ns) },
	{ "process_discovery.properties_report_period", K_U32, CF(discovery.properties_report_period) },
	{ "process_discovery.vm.active", K_BOOL, CF(discovery.vm_active) },
	{ "process_discovery.vm.period", K_DURATION, CF(discovery.vm_period_ns) },
	{ "process_discovery.vm.finders", K_FINDERS, 0 },
	{ "profiling.active", K_BOOL, CF(profiling.active) },
	{ "profiling.check_interval", K_DURATION, CF(profiling.check_interval_ns) },
	{ "profiling.flush_interval", K_DURATION, CF(profiling.flush_interval_ns) },
	{ "profiling.task.on_cpu.dump_period", K_DURATION, CF(profiling.on_cpu_dump_period_ns) },
	{ "profiling.continuous.meter_prefix", K_STR, CF(profiling.continuous.meter_prefix) },
	{ "profiling.continuous.fetch_interval", K_DURATION, CF(profiling.continuous.fetch_interval_ns) },
	{ "profiling.continuous.check_interval", K_DURATION, CF(profiling.continuous.check_interval_ns) },
	{ "profiling.continuous.trigger.execute_duration", K_DURATION,
	  CF(profiling.continuous.execute_duration_ns) },
	{ "profiling.continuous.trigger.silence_duration", K_DURATION,
	  CF(profiling.continuous.silence_duration_ns) },
	{ "trace_profiling.active", K_BOOL, CF(trace.active) },
	{ "trace_profiling.check_interval", K_DURATION, CF(trace.check_interval_ns) },
	{ "trace_profiling.keep_alive", K_DURATION, CF(trace.keep_alive_ns) },
	{ "trace_profiling.flush_interval", K_DURATION, CF(trace.flush_interval_ns) },
	{ "trace_profiling.max_parallel", K_U32, CF(trace.max_parallel) },
	{ "trace_profiling.max_depth", K_U32, CF(trace.max_depth) },
	{ "trace_profiling.line_numbers", K_BOOL, CF(trace.line_numbers) },
	{ "trace_profiling.kernel_frames", K_BOOL, CF(trace.kernel_frames) },
	{ "trace_profiling.instances", K_INSTANCES, 0 },
	{ "logger.level", K_LOG_LEVEL, CF(log_level) },
	{ "agent.device", K_STR, CF(agent.device) },
	{ "agent.status_socket", K_STR, CF(agent.status_socket) },
	{ "agent.spool.dir", K_STR, CF(agent.spool_dir) },
	{ "agent.spool.max_size", K_SIZE, CF(agent.spool_max_bytes) },
	{ "agent.ring_size", K_SIZE, CF(agent.ring_bytes) },
	{ "agent.unwind.on_cpu_stack", K_SIZE, CF(agent.on_cpu_stack_bytes) },
	{ "agent.unwind.off_cpu_stack", K_SIZE, CF(agent.off_cpu_stack_bytes) },
	{ "agent.unwind.ring_size", K_SIZE, CF(agent.unwind_ring_bytes) },
};

/* Rover's keys that mean nothing to swprof: a warning that says so, not "unknown". */
static const char *const rover_only[] = {
	"core.cluster_name", "process_discovery.kubernetes", "process_discovery.scanner",
	"profiling.task.network", "access_log",
};

enum finder_key { FK_REGEX, FK_LAYER, FK_SERVICE, FK_INSTANCE, FK_PROCESS, FK_LABELS };
static const char *const finder_keys[] = {
	[FK_REGEX] = "match_cmd_regex", [FK_LAYER] = "layer", [FK_SERVICE] = "service_name",
	[FK_INSTANCE] = "instance_name", [FK_PROCESS] = "process_name", [FK_LABELS] = "labels",
};

#define DEFAULT_INSTANCE_NAME	"{{.Rover.HostIPV4 \"en0\"}}"
#define DEFAULT_PROCESS_NAME	"{{.Process.ExeName}}"

struct loader {
	const char *path;
	yaml_document_t *doc;
	struct agent_config *cfg;
	bool nomem;
};

static void problem(struct loader *L, bool error, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void problem(struct loader *L, bool error, yaml_mark_t m, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sw_log(error ? SW_LOG_ERROR : SW_LOG_WARN, "%s:%zu:%zu: %s: %s", L->path, m.line + 1,
	       m.column + 1, error ? "error" : "warning", msg);
	if (error)
		L->cfg->nr_errors++;
	else
		L->cfg->nr_warnings++;
}

int agent_parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "t" };
	static const char *const no[] = { "false", "no", "off", "0", "f" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*v = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*v = false;
			return 0;
		}
	}
	return -EINVAL;
}

int agent_parse_duration(const char *s, uint64_t *ns)
{
	static const struct { const char *unit; double mult; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "ms", 1e6 },
		{ "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
	};
	double total = 0;
	const char *p = s;

	if (!*s)
		return -EINVAL;
	/* a bare number: seconds (Rover's check_period is an integer of seconds) */
	if (strspn(s, "0123456789") == strlen(s)) {
		total = strtod(s, NULL) * 1e9;
		goto done;
	}
	while (*p) {
		size_t i, best = 0, best_len = 0;
		char *end;
		double v;

		if (!isdigit((unsigned char)*p) && *p != '.')
			return -EINVAL;
		errno = 0;
		v = strtod(p, &end);
		if (end == p || errno || !isfinite(v))
			return -EINVAL;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].unit);

			if (!strncmp(end, units[i].unit, l) && l > best_len) {
				best = i;
				best_len = l;
			}
		}
		if (!best_len)
			return -EINVAL;
		total += v * units[best].mult;
		p = end + best_len;
	}
done:
	if (total >= 1.8e19)
		return -EINVAL;
	*ns = (uint64_t)llround(total);
	return 0;
}

int agent_parse_size(const char *s, uint64_t *bytes)
{
	static const struct { const char *unit; uint64_t mult; } units[] = {
		{ "", 1 }, { "B", 1 }, { "K", 1ULL << 10 }, { "KB", 1ULL << 10 }, { "KiB", 1ULL << 10 },
		{ "M", 1ULL << 20 }, { "MB", 1ULL << 20 }, { "MiB", 1ULL << 20 },
		{ "G", 1ULL << 30 }, { "GB", 1ULL << 30 }, { "GiB", 1ULL << 30 },
	};
	unsigned long long v;
	char *end;
	size_t i;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(end, units[i].unit)) {
			if (v > UINT64_MAX / units[i].mult)
				return -EINVAL;
			*bytes = v * units[i].mult;
			return 0;
		}
	return -EINVAL;
}

int agent_parse_log_level(const char *s, enum sw_log_level *level)
{
	static const struct { const char *name; enum sw_log_level level; } names[] = {
		{ "panic", SW_LOG_ERROR }, { "fatal", SW_LOG_ERROR }, { "error", SW_LOG_ERROR },
		{ "warn", SW_LOG_WARN }, { "warning", SW_LOG_WARN }, { "info", SW_LOG_INFO },
		{ "debug", SW_LOG_DEBUG }, { "trace", SW_LOG_DEBUG },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i].name)) {
			*level = names[i].level;
			return 0;
		}
	return -EINVAL;
}

/* Split at commas, trim; empty items dropped. */
static int split_list(const char *s, char ***out, size_t *nr)
{
	char *copy = strdup(s), *tok, *save = NULL;
	char **v = NULL;
	size_t n = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end = tok + strlen(tok), **nv;

		while (isspace((unsigned char)*tok))
			tok++;
		while (end > tok && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!*tok)
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv || !(nv[n] = strdup(tok))) {
			free(nv ? nv : v);
			free(copy);
			return -ENOMEM;
		}
		v = nv;
		n++;
	}
	free(copy);
	*out = v;
	*nr = n;
	return 0;
}

static void free_list(char **v, size_t n)
{
	while (n)
		free(v[--n]);
	free(v);
}

/* "host:port" or "[v6]:port", port 1..65535; NULL or why not. */
static const char *bad_addr(const char *a)
{
	const char *colon = strrchr(a, ':');
	char *end;
	long port;

	if (!colon || colon == a)
		return "is not HOST:PORT";
	if (a[0] == '[' ? colon[-1] != ']' : memchr(a, ':', colon - a) != NULL)
		return "is not HOST:PORT (an IPv6 address goes in brackets: [::1]:11800)";
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 1 || port > 65535)
		return "has no port number from 1 to 65535";
	return NULL;
}

static const char *node_type_name(yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a list";
	default: return "a single value";
	}
}

/* The scalar @n, placeholders expanded; NULL (reported) when it is not one. */
static char *scalar(struct loader *L, yaml_node_t *n, const char *what)
{
	const char *why = NULL;
	size_t pos = 0;
	char *out;
	int err;

	if (n->type != YAML_SCALAR_NODE) {
		problem(L, true, n->start_mark, "%s: expected a single value, found %s", what,
			node_type_name(n));
		return NULL;
	}
	err = agent_expand_placeholders((const char *)n->data.scalar.value, &out, &pos, &why);
	if (err == -ENOMEM) {
		L->nomem = true;
		return NULL;
	}
	if (err) {
		yaml_mark_t m = n->start_mark;

		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && m.line == n->end_mark.line)
			m.column += pos;
		problem(L, true, m, "%s: %s", what, why);
		return NULL;
	}
	return out;
}

static void set_str(char **field, char *v)
{
	free(*field);
	*field = v;
}

static bool set_template(struct loader *L, struct agent_template **t, const char *src,
			 yaml_node_t *val, const char *what)
{
	yaml_mark_t m = val->start_mark;
	struct agent_template *nt;
	char why[256];
	size_t pos = 0;
	int err;

	err = agent_template_parse(src, &nt, &pos, why, sizeof(why));
	if (err == -ENOMEM) {
		L->nomem = true;
		return false;
	}
	if (err) {
		yaml_mark_t at = m;

		/* at the bad "{{" when the value is on one line as written */
		if (val->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && m.line == val->end_mark.line &&
		    !strcmp(src, (const char *)val->data.scalar.value))
			at.column += pos;
		else if ((val->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
			  val->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) &&
			 m.line == val->end_mark.line && val->end_mark.column - m.column ==
			 strlen(src) + 2 && !strcmp(src, (const char *)val->data.scalar.value))
			at.column += pos + 1;
		problem(L, true, at, "%s: %s", what, why);
		return false;
	}
	agent_template_free(*t);
	*t = nt;
	return true;
}

static void finder_free(struct agent_finder *f)
{
	free(f->match_cmd_regex);
	if (f->re_ok)
		regfree(&f->re);
	free(f->layer);
	agent_template_free(f->service_name);
	agent_template_free(f->instance_name);
	agent_template_free(f->process_name);
	free_list(f->labels, f->nr_labels);
}

static int finder_defaults(struct loader *L, struct agent_finder *f)
{
	size_t pos;
	char why[128];

	memset(f, 0, sizeof(*f));
	if (!(f->layer = strdup("OS_LINUX")) || !(f->match_cmd_regex = strdup("")) ||
	    agent_template_parse("", &f->service_name, &pos, why, sizeof(why)) ||
	    agent_template_parse(DEFAULT_INSTANCE_NAME, &f->instance_name, &pos, why, sizeof(why)) ||
	    agent_template_parse(DEFAULT_PROCESS_NAME, &f->process_name, &pos, why, sizeof(why))) {
		L->nomem = true;
		return -ENOMEM;
	}
	return 0;
}

static void load_finder(struct loader *L, yaml_node_t *map, struct agent_finder *f, size_t idx)
{
	yaml_mark_t tmpl_mark[FK_LABELS + 1] = { 0 };
	struct agent_template **tmpls[] = {
		[FK_SERVICE] = &f->service_name, [FK_INSTANCE] = &f->instance_name,
		[FK_PROCESS] = &f->process_name,
	};
	bool have_regex = false, service_failed = false;
	yaml_node_pair_t *pr;
	size_t k;

	if (finder_defaults(L, f))
		return;
	f->line = map->start_mark.line + 1;
	if (map->type != YAML_MAPPING_NODE) {
		problem(L, true, map->start_mark,
			"process_discovery.vm.finders[%zu]: expected a mapping, found %s", idx,
			node_type_name(map));
		return;
	}
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = yaml_document_get_node(L->doc, pr->key);
		yaml_node_t *vn = yaml_document_get_node(L->doc, pr->value);
		const char *name = kn->type == YAML_SCALAR_NODE ? (const char *)kn->data.scalar.value : "";
		char what[160], *v;

		for (k = 0; k <= FK_LABELS; k++)
			if (!strcmp(name, finder_keys[k]))
				break;
		snprintf(what, sizeof(what), "process_discovery.vm.finders[%zu].%s", idx, name);
		if (k > FK_LABELS) {
			problem(L, false, kn->start_mark, "unknown key %s (ignored)", what);
			continue;
		}
		v = scalar(L, vn, what);
		if (!v) {
			service_failed |= k == FK_SERVICE;	/* said once is enough */
			continue;
		}
		switch (k) {
		case FK_REGEX: {
			int rc;

			set_str(&f->match_cmd_regex, v);
			if (f->re_ok)
				regfree(&f->re);
			f->re_ok = false;
			have_regex = true;
			rc = regcomp(&f->re, v, REG_EXTENDED);
			if (rc) {
				char msg[256];

				regerror(rc, &f->re, msg, sizeof(msg));
				problem(L, true, vn->start_mark,
					"%s: bad regular expression '%s': %s (POSIX extended syntax)",
					what, v, msg);
			} else {
				f->re_ok = true;
				tmpl_mark[FK_REGEX] = vn->start_mark;
			}
			break;
		}
		case FK_LAYER: {
			const char *c;

			for (c = v; *c && (isupper((unsigned char)*c) || isdigit((unsigned char)*c) ||
					   *c == '_'); c++)
				;
			if (!*v || *c)
				problem(L, true, vn->start_mark,
					"%s: '%s' is not an OAP layer name (such as OS_LINUX or GENERAL)",
					what, v);
			set_str(&f->layer, v);
			break;
		}
		case FK_LABELS:
			free_list(f->labels, f->nr_labels);
			f->labels = NULL;
			f->nr_labels = 0;
			if (split_list(v, &f->labels, &f->nr_labels))
				L->nomem = true;
			free(v);
			break;
		default:
			if (set_template(L, tmpls[k], v, vn, what))
				tmpl_mark[k] = vn->start_mark;
			else
				service_failed |= k == FK_SERVICE;
			free(v);
			break;
		}
	}
	if (!have_regex)
		problem(L, false, map->start_mark,
			"process_discovery.vm.finders[%zu]: no match_cmd_regex: it matches every process",
			idx);
	else if (!*f->match_cmd_regex)
		problem(L, false, tmpl_mark[FK_REGEX],
			"process_discovery.vm.finders[%zu].match_cmd_regex is empty: it matches every process",
			idx);
	if (!service_failed && !*agent_template_source(f->service_name))
		problem(L, true, map->start_mark,
			"process_discovery.vm.finders[%zu]: service_name is required", idx);
	for (k = FK_SERVICE; k <= FK_PROCESS; k++) {
		unsigned int g = agent_template_max_group(*tmpls[k]);
		size_t groups = f->re_ok ? f->re.re_nsub : 0;

		if (g > groups)
			problem(L, true, tmpl_mark[k].line || tmpl_mark[k].column ? tmpl_mark[k] :
				map->start_mark,
				"process_discovery.vm.finders[%zu].%s: RegexMatchGroup %u, but match_cmd_regex has %zu group%s",
				idx, finder_keys[k], g, groups, groups == 1 ? "" : "s");
	}
}

static void load_finders(struct loader *L, yaml_node_t *seq)
{
	struct agent_config *cfg = L->cfg;
	yaml_node_item_t *it;
	size_t n, i;

	if (seq->type == YAML_SCALAR_NODE && !seq->data.scalar.length)
		return;		/* "finders:" with nothing: none */
	if (seq->type != YAML_SEQUENCE_NODE) {
		problem(L, true, seq->start_mark, "process_discovery.vm.finders: expected a list, found %s",
			node_type_name(seq));
		return;
	}
	for (i = 0; i < cfg->discovery.nr_finders; i++)
		finder_free(&cfg->discovery.finders[i]);
	free(cfg->discovery.finders);
	cfg->discovery.nr_finders = 0;
	n = seq->data.sequence.items.top - seq->data.sequence.items.start;
	cfg->discovery.finders = calloc(n ? n : 1, sizeof(struct agent_finder));
	if (!cfg->discovery.finders) {
		L->nomem = true;
		return;
	}
	for (it = seq->data.sequence.items.start, i = 0; it < seq->data.sequence.items.top; it++, i++) {
		load_finder(L, yaml_document_get_node(L->doc, *it), &cfg->discovery.finders[i], i);
		cfg->discovery.nr_finders++;
	}
}

static void instance_free(struct agent_trace_instance *in)
{
	free(in->service);
	free(in->instance);
	free(in->layer);
}

/* An OAP layer name: capitals, digits and '_'. */
static bool layer_name_ok(const char *v)
{
	const char *c;

	for (c = v; *c && (isupper((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_'); c++)
		;
	return *v && !*c;
}

static void load_instance(struct loader *L, yaml_node_t *map, struct agent_trace_instance *in,
			  size_t idx)
{
	static const char *const names[] = { "service", "instance", "layer" };
	char **fields[] = { &in->service, &in->instance, &in->layer };
	yaml_node_pair_t *pr;
	size_t k;

	memset(in, 0, sizeof(*in));
	in->line = map->start_mark.line + 1;
	if (!(in->layer = strdup("GENERAL"))) {
		L->nomem = true;
		return;
	}
	if (map->type != YAML_MAPPING_NODE) {
		problem(L, true, map->start_mark,
			"trace_profiling.instances[%zu]: expected a mapping, found %s", idx,
			node_type_name(map));
		return;
	}
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = yaml_document_get_node(L->doc, pr->key);
		yaml_node_t *vn = yaml_document_get_node(L->doc, pr->value);
		const char *name = kn->type == YAML_SCALAR_NODE ? (const char *)kn->data.scalar.value : "";
		char what[160], *v;

		for (k = 0; k < 3; k++)
			if (!strcmp(name, names[k]))
				break;
		snprintf(what, sizeof(what), "trace_profiling.instances[%zu].%s", idx, name);
		if (k == 3) {
			problem(L, false, kn->start_mark, "unknown key %s (ignored)", what);
			continue;
		}
		v = scalar(L, vn, what);
		if (!v)
			continue;
		if (k == 2 && !layer_name_ok(v))
			problem(L, true, vn->start_mark,
				"%s: '%s' is not an OAP layer name (such as GENERAL)", what, v);
		set_str(fields[k], v);
	}
	/* a placeholder such as ${SW_AGENT_NAME:} may leave a name empty */
	if (!in->service || !*in->service)
		problem(L, true, map->start_mark, "trace_profiling.instances[%zu]: service is required "
			"(SkyWalking's SW_AGENT_NAME)", idx);
	if (!in->instance || !*in->instance)
		problem(L, true, map->start_mark, "trace_profiling.instances[%zu]: instance is required "
			"(SkyWalking's SW_AGENT_INSTANCE_NAME)", idx);
}

static void load_instances(struct loader *L, yaml_node_t *seq)
{
	struct agent_config *cfg = L->cfg;
	yaml_node_item_t *it;
	size_t n, i;

	for (i = 0; i < cfg->trace.nr_instances; i++)
		instance_free(&cfg->trace.instances[i]);
	free(cfg->trace.instances);
	cfg->trace.instances = NULL;
	cfg->trace.nr_instances = 0;
	if (seq->type == YAML_SCALAR_NODE && !*(const char *)seq->data.scalar.value)
		return;		/* "instances:" with nothing: none */
	if (seq->type != YAML_SEQUENCE_NODE) {
		problem(L, true, seq->start_mark, "trace_profiling.instances: expected a list, found %s",
			node_type_name(seq));
		return;
	}
	n = seq->data.sequence.items.top - seq->data.sequence.items.start;
	cfg->trace.instances = calloc(n ? n : 1, sizeof(*cfg->trace.instances));
	if (!cfg->trace.instances) {
		L->nomem = true;
		return;
	}
	for (it = seq->data.sequence.items.start, i = 0; it < seq->data.sequence.items.top; it++, i++) {
		load_instance(L, yaml_document_get_node(L->doc, *it), &cfg->trace.instances[i], i);
		cfg->trace.nr_instances++;
	}
	for (i = 0; i < cfg->trace.nr_instances; i++)
		for (n = 0; n < i; n++) {
			struct agent_trace_instance *a = &cfg->trace.instances[n];
			struct agent_trace_instance *b = &cfg->trace.instances[i];

			if (a->service && b->service && a->instance && b->instance &&
			    !strcmp(a->service, b->service) && !strcmp(a->instance, b->instance))
				problem(L, true, seq->start_mark,
					"trace_profiling.instances[%zu] repeats instances[%zu] (%s / %s)",
					i, n, b->service, b->instance);
		}
}

static void load_value(struct loader *L, const struct key *k, yaml_node_t *vn)
{
	void *field = (char *)L->cfg + k->off;
	const char *err = NULL;
	char *v;

	if (k->type == K_FINDERS) {
		load_finders(L, vn);
		return;
	}
	if (k->type == K_INSTANCES) {
		load_instances(L, vn);
		return;
	}
	v = scalar(L, vn, k->path);
	if (!v)
		return;
	/* an empty typed value keeps the default (a placeholder set to "") */
	if (!*v && k->type != K_STR && k->type != K_ADDRS) {
		free(v);
		return;
	}
	switch (k->type) {
	case K_STR:
		set_str(field, v);
		return;
	case K_BOOL:
		if (agent_parse_bool(v, field))
			err = "is not a boolean (true or false)";
		break;
	case K_DURATION: {
		uint64_t ns;

		if (agent_parse_duration(v, &ns))
			err = "is not a duration (such as 5s, 500ms, 1m or 1m30s)";
		else if (!ns && strcmp(k->path, "profiling.continuous.trigger.silence_duration"))
			err = "must be more than 0";
		else
			*(uint64_t *)field = ns;
		break;
	}
	case K_U32: {
		unsigned long n;
		char *end;

		errno = 0;
		n = strtoul(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end || errno || n > UINT32_MAX || !n)
			err = "is not a whole number from 1 to 4294967295";
		else
			*(uint32_t *)field = n;
		break;
	}
	case K_SIZE:
		if (agent_parse_size(v, field))
			err = "is not a size (such as 4096, 400KB, 256MB or 1GB)";
		break;
	case K_LOG_LEVEL:
		if (agent_parse_log_level(v, field))
			err = "is not a log level (error, warn, info or debug)";
		break;
	case K_ADDRS: {
		struct agent_config *cfg = L->cfg;
		char **addrs;
		size_t n, i;

		if (split_list(v, &addrs, &n)) {
			L->nomem = true;
			break;
		}
		if (!n)
			problem(L, true, vn->start_mark, "%s: no backend address", k->path);
		for (i = 0; i < n; i++) {
			const char *why = bad_addr(addrs[i]);

			if (why)
				problem(L, true, vn->start_mark, "%s: '%s' %s", k->path, addrs[i], why);
		}
		free_list(cfg->backend.addrs, cfg->backend.nr_addrs);
		cfg->backend.addrs = addrs;
		cfg->backend.nr_addrs = n;
		break;
	}
	case K_FINDERS:
	case K_INSTANCES:
		break;
	}
	if (err)
		problem(L, true, vn->start_mark, "%s: '%s' %s", k->path, v, err);
	free(v);
}

static bool is_prefix(const char *path)
{
	size_t i, n = strlen(path);

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strncmp(keys[i].path, path, n) && keys[i].path[n] == '.')
			return true;
	return false;
}

static bool is_rover_only(const char *path)
{
	size_t i, n;

	for (i = 0; i < sizeof(rover_only) / sizeof(rover_only[0]); i++) {
		n = strlen(rover_only[i]);
		if (!strncmp(path, rover_only[i], n) && (!path[n] || path[n] == '.'))
			return true;
	}
	return false;
}

/* An earlier key of @map has the same name as @pr's. */
static bool seen_before(struct loader *L, yaml_node_t *map, yaml_node_pair_t *pr)
{
	yaml_node_t *k = yaml_document_get_node(L->doc, pr->key), *o;
	yaml_node_pair_t *q;

	for (q = map->data.mapping.pairs.start; q < pr; q++) {
		o = yaml_document_get_node(L->doc, q->key);
		if (o->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)o->data.scalar.value, (const char *)k->data.scalar.value))
			return true;
	}
	return false;
}

static void walk(struct loader *L, yaml_node_t *map, const char *prefix)
{
	yaml_node_pair_t *pr;

	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = yaml_document_get_node(L->doc, pr->key);
		yaml_node_t *vn = yaml_document_get_node(L->doc, pr->value);
		const struct key *k = NULL;
		char path[256];
		size_t i;

		if (kn->type != YAML_SCALAR_NODE) {
			problem(L, true, kn->start_mark, "a key must be a single value");
			continue;
		}
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "",
			 (const char *)kn->data.scalar.value);
		if (seen_before(L, map, pr))
			problem(L, false, kn->start_mark, "%s is set twice: this one wins", path);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(keys[i].path, path))
				k = &keys[i];
		if (k)
			load_value(L, k, vn);
		else if (is_prefix(path) && vn->type == YAML_MAPPING_NODE)
			walk(L, vn, path);
		else if (is_prefix(path) && !(vn->type == YAML_SCALAR_NODE && !vn->data.scalar.length))
			problem(L, true, vn->start_mark, "%s: expected a mapping, found %s", path,
				node_type_name(vn));
		else if (is_rover_only(path))
			problem(L, false, kn->start_mark, "%s is a Rover key that swprof does not use (ignored)",
				path);
		else if (!is_prefix(path))
			problem(L, false, kn->start_mark, "unknown key %s (ignored)", path);
	}
}

/* What the module takes as a raw stack copy (SWPROF_MAX_RAW_STACK). */
static void check_stack(struct loader *L, const char *key, uint64_t bytes)
{
	yaml_mark_t top = { 0 };

	if (bytes % 8 || bytes > SWPROF_MAX_RAW_STACK)
		problem(L, true, top, "%s: %llu bytes; use a multiple of 8 up to %d (0: off)", key,
			(unsigned long long)bytes, SWPROF_MAX_RAW_STACK);
}

static void check_whole(struct loader *L)
{
	struct agent_config *cfg = L->cfg;
	yaml_mark_t top = { 0 };

	if (cfg->discovery.vm_active && !cfg->discovery.nr_finders)
		problem(L, true, top,
			"process_discovery.vm.active is true but process_discovery.vm.finders is empty");
	if (!cfg->discovery.vm_active && cfg->discovery.nr_finders)
		problem(L, false, top,
			"process_discovery.vm.finders are set but process_discovery.vm.active is false: no process will be found");
	check_stack(L, "agent.unwind.on_cpu_stack", cfg->agent.on_cpu_stack_bytes);
	check_stack(L, "agent.unwind.off_cpu_stack", cfg->agent.off_cpu_stack_bytes);
	if (cfg->agent.ring_bytes < 16384 || cfg->agent.ring_bytes > (64ULL << 20))
		problem(L, true, top, "agent.ring_size: %llu bytes; use 16KB to 64MB",
			(unsigned long long)cfg->agent.ring_bytes);
	if (cfg->agent.unwind_ring_bytes < 65536 || cfg->agent.unwind_ring_bytes > (64ULL << 20))
		problem(L, true, top, "agent.unwind.ring_size: %llu bytes; use 64KB to 64MB",
			(unsigned long long)cfg->agent.unwind_ring_bytes);
}

int agent_config_defaults(struct agent_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->backend.check_period_ns = 5000000000ULL;
	cfg->discovery.heartbeat_period_ns = 20000000000ULL;
	cfg->discovery.properties_report_period = 10;
	cfg->discovery.vm_period_ns = 3000000000ULL;
	cfg->profiling.active = true;
	cfg->profiling.check_interval_ns = 10000000000ULL;
	cfg->profiling.flush_interval_ns = 5000000000ULL;
	cfg->profiling.on_cpu_dump_period_ns = 9000000ULL;
	cfg->profiling.continuous.fetch_interval_ns = 1000000000ULL;
	cfg->profiling.continuous.check_interval_ns = 5000000000ULL;
	cfg->profiling.continuous.execute_duration_ns = 600000000000ULL;
	cfg->profiling.continuous.silence_duration_ns = 1200000000000ULL;
	cfg->trace.active = true;
	cfg->trace.check_interval_ns = 20000000000ULL;
	cfg->trace.keep_alive_ns = 30000000000ULL;
	cfg->trace.flush_interval_ns = 500000000ULL;
	cfg->trace.max_parallel = 5;
	cfg->trace.max_depth = 500;
	cfg->log_level = SW_LOG_INFO;
	cfg->agent.spool_max_bytes = 256ULL << 20;
	cfg->agent.ring_bytes = 64ULL << 10;
	cfg->agent.off_cpu_stack_bytes = 0;
	cfg->agent.unwind_ring_bytes = 1ULL << 20;
	if (split_list("localhost:11800", &cfg->backend.addrs, &cfg->backend.nr_addrs) ||
	    !(cfg->backend.ca_pem_path = strdup("ca.pem")) ||
	    !(cfg->backend.client_pem_path = strdup("client.pem")) ||
	    !(cfg->backend.client_key_path = strdup("client.key")) ||
	    !(cfg->backend.authentication = strdup("")) ||
	    !(cfg->profiling.continuous.meter_prefix = strdup("rover_con_p")) ||
	    !(cfg->agent.device = strdup("/dev/swprof")) ||
	    !(cfg->agent.status_socket = strdup("/run/swprof/agent.sock")) ||
	    !(cfg->agent.spool_dir = strdup("/var/lib/swprof/spool"))) {
		agent_config_free(cfg);
		return -ENOMEM;
	}
	return 0;
}

void agent_config_free(struct agent_config *cfg)
{
	size_t i;

	free(cfg->path);
	free_list(cfg->backend.addrs, cfg->backend.nr_addrs);
	free(cfg->backend.ca_pem_path);
	free(cfg->backend.client_pem_path);
	free(cfg->backend.client_key_path);
	free(cfg->backend.authentication);
	for (i = 0; i < cfg->discovery.nr_finders; i++)
		finder_free(&cfg->discovery.finders[i]);
	free(cfg->discovery.finders);
	free(cfg->profiling.continuous.meter_prefix);
	for (i = 0; i < cfg->trace.nr_instances; i++)
		instance_free(&cfg->trace.instances[i]);
	free(cfg->trace.instances);
	free(cfg->agent.device);
	free(cfg->agent.status_socket);
	free(cfg->agent.spool_dir);
	memset(cfg, 0, sizeof(*cfg));
}

int agent_config_load(const char *path, struct agent_config *cfg)
{
	struct loader L = { .path = path, .cfg = cfg };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	FILE *f;
	int err;

	err = agent_config_defaults(cfg);
	if (err)
		return err;
	cfg->path = strdup(path);
	if (!cfg->path)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		sw_err("cannot read the configuration %s: %s", path, strerror(-err));
		return err;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_mark_t m = parser.problem_mark;

		problem(&L, true, m, "bad YAML: %s%s%s", parser.problem ? parser.problem : "syntax error",
			parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		fclose(f);
		return -EINVAL;
	}
	L.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE)
		walk(&L, root, "");
	else if (root && !(root->type == YAML_SCALAR_NODE && !root->data.scalar.length))
		problem(&L, true, root->start_mark, "expected a mapping of keys at the top, found %s",
			node_type_name(root));
	if (!L.nomem)
		check_whole(&L);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	if (L.nomem)
		return -ENOMEM;
	return cfg->nr_errors ? -EINVAL : 0;
}
