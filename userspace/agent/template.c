// SPDX-License-Identifier: GPL-2.0-only
/* Entity-name templates (agent_template.h). */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_template.h"

enum part_kind {
	P_TEXT,
	P_EXE_NAME, P_EXE_PATH, P_PID, P_CMDLINE, P_WORKDIR, P_ENV,
	P_HOSTNAME, P_INSTANCE_ID, P_HOST_IPV4, P_HOST_IPV6,
	P_LAYER, P_GROUP,
};

enum arg_kind { ARG_NONE, ARG_STRING, ARG_INDEX };

static const struct form {
	const char *name;
	enum part_kind kind;
	enum arg_kind arg;
} forms[] = {
	{ ".Process.ExeName", P_EXE_NAME, ARG_NONE },
	{ ".Process.ExeFilePath", P_EXE_PATH, ARG_NONE },
	{ ".Process.Pid", P_PID, ARG_NONE },
	{ ".Process.CommandLine", P_CMDLINE, ARG_NONE },
	{ ".Process.WorkDir", P_WORKDIR, ARG_NONE },
	{ ".Process.Env", P_ENV, ARG_STRING },
	{ ".Rover.HostName", P_HOSTNAME, ARG_NONE },
	{ ".Rover.InstanceID", P_INSTANCE_ID, ARG_NONE },
	{ ".Rover.HostIPV4", P_HOST_IPV4, ARG_STRING },
	{ ".Rover.HostIPV6", P_HOST_IPV6, ARG_STRING },
	{ ".Finder.Layer", P_LAYER, ARG_NONE },
	{ ".Finder.RegexMatchGroup", P_GROUP, ARG_INDEX },
};

struct part {
	enum part_kind kind;
	char *text;		/* P_TEXT: the text; P_ENV, P_HOST_IPV*: the argument */
	unsigned int index;	/* P_GROUP */
};

struct agent_template {
	char *src;
	struct part *parts;
	size_t nr_parts;
	unsigned int max_group;
};

static int add_part(struct agent_template *t, enum part_kind kind, const char *text, size_t len,
		    unsigned int index)
{
	struct part *p = realloc(t->parts, (t->nr_parts + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	t->parts = p;
	p = &p[t->nr_parts];
	p->kind = kind;
	p->index = index;
	p->text = NULL;
	if (text) {
		p->text = strndup(text, len);
		if (!p->text)
			return -ENOMEM;
	}
	t->nr_parts++;
	return 0;
}

static int bad(char *why, size_t whylen, const char *fmt, const char *a, int alen)
	__attribute__((format(printf, 3, 0)));

/* fmt: a literal with one "%.*s", given (alen, a) */
static int bad(char *why, size_t whylen, const char *fmt, const char *a, int alen)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(why, whylen, fmt, alen, a);
#pragma GCC diagnostic pop
	return -EINVAL;
}

/* One action, between "{{" and "}}" (trim markers and spaces removed). */
static int parse_action(struct agent_template *t, const char *a, size_t len, char *why,
			size_t whylen)
{
	const char *end = a + len, *p = a, *arg;
	const struct form *f = NULL;
	size_t i, nlen;

	while (p < end && !isspace((unsigned char)*p))
		p++;
	nlen = p - a;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (strlen(forms[i].name) == nlen && !strncmp(forms[i].name, a, nlen))
			f = &forms[i];
	if (!f)
		return bad(why, whylen, "unknown template form '{{%.*s}}' (docs/configuration.md lists the known ones)",
			   a, (int)len);
	while (p < end && isspace((unsigned char)*p))
		p++;
	arg = p;
	switch (f->arg) {
	case ARG_NONE:
		if (arg != end)
			return bad(why, whylen, "'{{%.*s}}' takes no argument", a, (int)len);
		return add_part(t, f->kind, NULL, 0, 0);
	case ARG_STRING:
		if (end - arg < 2 || arg[0] != '"' || end[-1] != '"' ||
		    memchr(arg + 1, '"', end - arg - 2) || memchr(arg + 1, '\\', end - arg - 2))
			return bad(why, whylen, "'{{%.*s}}' takes one argument in double quotes", a,
				   (int)len);
		return add_part(t, f->kind, arg + 1, end - arg - 2, 0);
	case ARG_INDEX: {
		unsigned long n = 0;

		if (arg == end || end - arg > 4)
			return bad(why, whylen, "'{{%.*s}}' takes a group number", a, (int)len);
		for (p = arg; p < end; p++) {
			if (!isdigit((unsigned char)*p))
				return bad(why, whylen, "'{{%.*s}}' takes a group number", a, (int)len);
			n = n * 10 + (*p - '0');
		}
		if (n > t->max_group)
			t->max_group = n;
		return add_part(t, f->kind, NULL, 0, n);
	}
	}
	return -EINVAL;
}

void agent_template_free(struct agent_template *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nr_parts; i++)
		free(t->parts[i].text);
	free(t->parts);
	free(t->src);
	free(t);
}

int agent_template_parse(const char *src, struct agent_template **out, size_t *errpos,
			 char *why, size_t whylen)
{
	struct agent_template *t = calloc(1, sizeof(*t));
	const char *p = src;
	bool trim_next = false;
	int err = -ENOMEM;

	*out = NULL;
	if (!t || !(t->src = strdup(src)))
		goto fail;
	while (*p) {
		const char *open = strstr(p, "{{"), *text_end, *a, *close;
		bool trim_prev, trim_after;

		text_end = open ? open : p + strlen(p);
		trim_prev = open && open[2] == '-' && isspace((unsigned char)open[3]);
		if (trim_next)
			while (p < text_end && isspace((unsigned char)*p))
				p++;
		if (trim_prev)
			while (text_end > p && isspace((unsigned char)text_end[-1]))
				text_end--;
		if (text_end > p && (err = add_part(t, P_TEXT, p, text_end - p, 0)))
			goto fail;
		if (!open)
			break;
		*errpos = open - src;
		close = strstr(open + 2, "}}");
		if (!close) {
			err = bad(why, whylen, "'%.*s' without its closing '}}'", open, 2);
			goto fail;
		}
		a = open + 2 + trim_prev;
		trim_after = close - a >= 2 && close[-1] == '-' && isspace((unsigned char)close[-2]);
		text_end = close - trim_after;
		while (a < text_end && isspace((unsigned char)*a))
			a++;
		while (text_end > a && isspace((unsigned char)text_end[-1]))
			text_end--;
		err = parse_action(t, a, text_end - a, why, whylen);
		if (err)
			goto fail;
		trim_next = trim_after;
		p = close + 2;
	}
	*out = t;
	return 0;
fail:
	if (err == -ENOMEM)
		snprintf(why, whylen, "out of memory");
	agent_template_free(t);
	return err;
}

const char *agent_template_source(const struct agent_template *t)
{
	return t->src;
}

unsigned int agent_template_max_group(const struct agent_template *t)
{
	return t->max_group;
}

static const char *env_value(const struct agent_process_facts *p, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < p->nr_env; i++)
		if (!strncmp(p->env[i], name, n) && p->env[i][n] == '=')
			return p->env[i] + n + 1;
	return "";
}

static const char *host_addr(const struct agent_host_facts *h, const char *iface, bool v6)
{
	size_t i;

	for (i = 0; i < h->nr_ifaces; i++)
		if (!strcmp(h->ifaces[i].name, iface) && (v6 ? h->ifaces[i].ipv6 : h->ifaces[i].ipv4))
			return v6 ? h->ifaces[i].ipv6 : h->ifaces[i].ipv4;
	for (i = 0; i < h->nr_ifaces; i++) {
		const char *a = v6 ? h->ifaces[i].ipv6 : h->ifaces[i].ipv4;

		if (a && strcmp(h->ifaces[i].name, "lo"))
			return a;
	}
	return "";
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

int agent_template_render(const struct agent_template *t, const struct agent_template_ctx *ctx,
			  char **out)
{
	const struct agent_process_facts *pr = ctx->proc;
	const struct agent_host_facts *h = ctx->host;
	size_t i, sz = 0;
	FILE *f;

	*out = NULL;
	f = open_memstream(out, &sz);
	if (!f)
		return -ENOMEM;
	for (i = 0; i < t->nr_parts; i++) {
		const struct part *p = &t->parts[i];

		switch (p->kind) {
		case P_TEXT: fputs(p->text, f); break;
		case P_EXE_NAME: fputs(nz(pr->exe_name), f); break;
		case P_EXE_PATH: fputs(nz(pr->exe_path), f); break;
		case P_PID: fprintf(f, "%d", (int)pr->pid); break;
		case P_CMDLINE: fputs(nz(pr->cmdline), f); break;
		case P_WORKDIR: fputs(nz(pr->workdir), f); break;
		case P_ENV: fputs(env_value(pr, p->text), f); break;
		case P_HOSTNAME: fputs(nz(h->hostname), f); break;
		case P_INSTANCE_ID: fputs(nz(h->instance_id), f); break;
		case P_HOST_IPV4: fputs(host_addr(h, p->text, false), f); break;
		case P_HOST_IPV6: fputs(host_addr(h, p->text, true), f); break;
		case P_LAYER: fputs(nz(ctx->layer), f); break;
		case P_GROUP:
			if (p->index < ctx->nr_groups)
				fputs(nz(ctx->groups[p->index]), f);
			break;
		}
	}
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}
