// SPDX-License-Identifier: GPL-2.0-only
/* ${NAME:default} placeholders (agent_placeholder.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_placeholder.h"

/* The "}" closing the "${" at s[0], counting nested braces; NULL if none. */
static const char *closing_brace(const char *s)
{
	int depth = 0;

	for (; *s; s++) {
		if (*s == '{')
			depth++;
		else if (*s == '}' && --depth == 0)
			return s;
	}
	return NULL;
}

static int expand(const char *s, size_t len, FILE *out, size_t base, size_t *errpos,
		  const char **why)
{
	const char *p = s, *end = s + len;

	while (p < end) {
		const char *open = p + 1 < end && p[0] == '$' && p[1] == '{' ? p : NULL;
		const char *close, *name, *colon;
		char *copy, *val;
		int err;

		if (!open) {
			fputc(*p++, out);
			continue;
		}
		*errpos = base + (open - s);
		close = closing_brace(open + 1);
		if (!close || close >= end) {
			*why = "\"${\" without its closing \"}\"";
			return -EINVAL;
		}
		name = open + 2;
		for (colon = name; colon < close && *colon != ':'; colon++)
			;
		if (colon == name || !(isalpha((unsigned char)*name) || *name == '_')) {
			*why = "a placeholder's name must start with a letter or '_'";
			return -EINVAL;
		}
		for (p = name; p < colon; p++)
			if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.') {
				*why = "a placeholder's name may hold letters, digits, '_' and '.' only";
				return -EINVAL;
			}
		copy = strndup(name, colon - name);
		if (!copy)
			return -ENOMEM;
		val = getenv(copy);
		free(copy);
		if (val) {
			fputs(val, out);
		} else if (colon < close) {
			const char *d = colon + 1;
			size_t dlen = close - d;

			if (dlen >= 2 && (d[0] == '"' || d[0] == '\'') && d[dlen - 1] == d[0]) {
				d++;
				dlen -= 2;
			}
			err = expand(d, dlen, out, base + (d - s), errpos, why);
			if (err)
				return err;
		}
		p = close + 1;
	}
	return 0;
}

int agent_expand_placeholders(const char *s, char **out, size_t *errpos, const char **why)
{
	size_t sz = 0, pos = 0;
	const char *w = NULL;
	FILE *f;
	int err;

	*out = NULL;
	f = open_memstream(out, &sz);
	if (!f)
		return -ENOMEM;
	err = expand(s, strlen(s), f, 0, &pos, &w);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (err) {
		free(*out);
		*out = NULL;
		if (errpos)
			*errpos = pos;
		if (why)
			*why = w;
	}
	return err;
}
