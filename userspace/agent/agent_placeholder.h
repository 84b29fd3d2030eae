/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SkyWalking's configuration placeholders: ${NAME:default} is the value of
 * the environment variable NAME, or default when NAME is unset; ${NAME}
 * alone is "" when unset.  Anywhere in a string, several per string; a
 * default may hold placeholders and braces of its own
 * (${A:{{.Rover.HostIPV4 "eth0"}}}); a default in double or single quotes
 * loses them (${A:"client.pem"} -> client.pem), as Rover's, whose
 * placeholders are expanded before the YAML is parsed, would.
 */
#ifndef AGENT_PLACEHOLDER_H
#define AGENT_PLACEHOLDER_H

#include <stddef.h>

/*
 * Expand @s into *out (malloc'd).  Returns 0, -ENOMEM, or -EINVAL for a
 * "${" without its "}" or with a bad name; then *errpos is the offset of
 * that "${" in @s and *why says what is wrong.
 */
int agent_expand_placeholders(const char *s, char **out, size_t *errpos, const char **why);

#endif
