/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Little-endian fixed-width integers in byte strings, for the agent's
 * files (batch encodings, spool entry headers).  A reader never reads past
 * its end: a short read sets bad and gives zeros, so a decoder checks bad
 * once at the end of a step instead of each length.
 */
#ifndef AGENT_BYTES_H
#define AGENT_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline unsigned char *ab_put32(unsigned char *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
	return p + 4;
}

static inline unsigned char *ab_put64(unsigned char *p, uint64_t v)
{
	ab_put32(p, v);
	return ab_put32(p + 4, v >> 32);
}

static inline uint32_t ab_le32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t ab_le64(const unsigned char *p)
{
	return (uint64_t)ab_le32(p + 4) << 32 | ab_le32(p);
}

struct ab_reader {
	const unsigned char *p;
	size_t left;
	bool bad;		/* a read went past the end */
};

/* The next @n bytes, or NULL (and bad) when fewer are left. */
static inline const unsigned char *ab_take(struct ab_reader *r, size_t n)
{
	const unsigned char *p = r->p;

	if (r->bad || n > r->left) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

static inline uint32_t ab_get32(struct ab_reader *r)
{
	const unsigned char *p = ab_take(r, 4);

	return p ? ab_le32(p) : 0;
}

static inline uint64_t ab_get64(struct ab_reader *r)
{
	const unsigned char *p = ab_take(r, 8);

	return p ? ab_le64(p) : 0;
}

#endif
