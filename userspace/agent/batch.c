// SPDX-License-Identifier: GPL-2.0-only
/* Batches of merged symbolized stacks and their spool encoding (agent_batch.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent_batch.h"
#include "agent_bytes.h"

/*
 * The encoding, every integer little-endian:
 *
 *	u32 magic, u32 version, u32 target, u64 start_ms, u64 time_ms, u64 samples,
 *	str task_id, str process_id,
 *	u32 nr_strings, str strings[nr_strings],
 *	u32 nr_stacks, stack stacks[nr_stacks]
 *
 * str: u32 length, the bytes (no NUL).  stack: u32 nr_kernel, u32 nr_user,
 * u64 count, u64 duration_ns, u32 string index[nr_kernel + nr_user], kernel
 * frames first, each part leaf first.  Nothing may follow.
 */
#define BATCH_MAGIC	0x42425753u	/* "SWBB" */
#define BATCH_VERSION	1u
#define STACK_FIXED	24u		/* a stack's bytes besides its indices */

/* An interned string: the batch's frames point at s. */
struct istr {
	uint64_t hash;
	uint32_t id;			/* index in the batch's string list */
	uint32_t len;
	char s[];
};

/* A batch and what finds its strings and stacks. */
struct batch {
	struct agent_batch b;		/* first: what callers see */
	struct istr **strs;		/* by id */
	uint32_t nr_strs;
	size_t cap_strs;
	struct istr **str_slots;	/* open addressing; NULL: free */
	size_t nr_str_slots;		/* a power of two */
	size_t *stack_slots;		/* index in b.stacks + 1; 0: free */
	size_t nr_stack_slots;		/* a power of two */
	size_t cap_stacks;
	const char **scratch;		/* the stack being added, interned */
	size_t cap_scratch;
	size_t held;			/* bytes of strings and frame arrays */
};

static struct batch *batch_of(const struct agent_batch *b)
{
	return (struct batch *)((char *)b - offsetof(struct batch, b));
}

static const struct istr *istr_of(const char *s)
{
	return (const struct istr *)(s - offsetof(struct istr, s));
}

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t hash_word(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	return h ^ h >> 29;
}

/* @arr grown to hold @n > *cap elements of @size: the new array, or NULL (@arr unchanged). */
static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *p;

	while (c < n)
		c *= 2;
	p = realloc(arr, c * size);
	if (p)
		*cap = c;
	return p;
}

/* Room for a stack of @n frames in bb->scratch: 0 or -ENOMEM. */
static int scratch_reserve(struct batch *bb, size_t n)
{
	const char **p;

	if (n <= bb->cap_scratch)
		return 0;
	p = grow(bb->scratch, &bb->cap_scratch, n, sizeof(*p));
	if (!p)
		return -ENOMEM;
	bb->scratch = p;
	return 0;
}

/* ---- strings ---------------------------------------------------------- */

static int str_slots_grow(struct batch *bb)
{
	size_t n = bb->nr_str_slots ? bb->nr_str_slots * 2 : 64, i, j;
	struct istr **slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < bb->nr_strs; i++) {
		for (j = bb->strs[i]->hash & (n - 1); slots[j]; j = (j + 1) & (n - 1))
			;
		slots[j] = bb->strs[i];
	}
	free(bb->str_slots);
	bb->str_slots = slots;
	bb->nr_str_slots = n;
	return 0;
}

/* The batch's copy of @s (@len bytes): 0 and *out, -EINVAL (too long), -ENOMEM. */
static int intern(struct batch *bb, const char *s, size_t len, const char **out)
{
	uint64_t h = hash_bytes(s, len);
	struct istr *is;
	size_t j, mask;

	if (len > UINT32_MAX || bb->nr_strs == UINT32_MAX)
		return -EINVAL;
	if ((bb->nr_strs + 1) * 4 > bb->nr_str_slots * 3 && str_slots_grow(bb))
		return -ENOMEM;
	mask = bb->nr_str_slots - 1;
	for (j = h & mask; (is = bb->str_slots[j]); j = (j + 1) & mask) {
		if (is->hash == h && is->len == len && !memcmp(is->s, s, len)) {
			*out = is->s;
			return 0;
		}
	}
	if (bb->nr_strs == bb->cap_strs) {
		struct istr **strs = grow(bb->strs, &bb->cap_strs, bb->nr_strs + 1, sizeof(*strs));

		if (!strs)
			return -ENOMEM;
		bb->strs = strs;
	}
	is = malloc(sizeof(*is) + len + 1);
	if (!is)
		return -ENOMEM;
	is->hash = h;
	is->id = bb->nr_strs;
	is->len = len;
	memcpy(is->s, s, len);
	is->s[len] = '\0';
	bb->strs[bb->nr_strs++] = is;
	bb->str_slots[j] = is;
	bb->held += sizeof(*is) + len + 1;
	*out = is->s;
	return 0;
}

/* ---- stacks ----------------------------------------------------------- */

static uint64_t stack_hash(const char *const *f, uint32_t nk, uint32_t nu)
{
	uint64_t h = hash_word(0, (uint64_t)nk << 32 | nu);
	size_t i;

	for (i = 0; i < (size_t)nk + nu; i++)
		h = hash_word(h, istr_of(f[i])->id);
	return h;
}

static int stack_slots_grow(struct batch *bb)
{
	size_t n = bb->nr_stack_slots ? bb->nr_stack_slots * 2 : 64, i, j;
	size_t *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < bb->b.nr_stacks; i++) {
		const struct agent_stack *s = &bb->b.stacks[i];

		j = stack_hash(s->kernel, s->nr_kernel, s->nr_user) & (n - 1);
		while (slots[j])
			j = (j + 1) & (n - 1);
		slots[j] = i + 1;
	}
	free(bb->stack_slots);
	bb->stack_slots = slots;
	bb->nr_stack_slots = n;
	return 0;
}

static bool stack_is(const struct agent_stack *s, const char *const *f, uint32_t nk, uint32_t nu)
{
	size_t n = (size_t)nk + nu;

	/* interned: equal strings are the same pointer */
	return s->nr_kernel == nk && s->nr_user == nu &&
	       (!n || !memcmp(s->kernel, f, n * sizeof(*f)));
}

/* Add the stack in bb->scratch (interned, kernel frames then user frames). */
static int stack_add(struct batch *bb, uint32_t nk, uint32_t nu, uint64_t count,
		     uint64_t duration_ns)
{
	size_t n = (size_t)nk + nu, j, mask;
	struct agent_stack *s;
	const char **frames = NULL;

	if ((bb->b.nr_stacks + 1) * 4 > bb->nr_stack_slots * 3 && stack_slots_grow(bb))
		return -ENOMEM;
	mask = bb->nr_stack_slots - 1;
	for (j = stack_hash(bb->scratch, nk, nu) & mask; bb->stack_slots[j]; j = (j + 1) & mask) {
		s = &bb->b.stacks[bb->stack_slots[j] - 1];
		if (stack_is(s, bb->scratch, nk, nu))
			goto add;
	}
	if (bb->b.nr_stacks == bb->cap_stacks) {
		s = grow(bb->b.stacks, &bb->cap_stacks, bb->b.nr_stacks + 1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		bb->b.stacks = s;
	}
	if (n) {
		frames = malloc(n * sizeof(*frames));
		if (!frames)
			return -ENOMEM;
		memcpy(frames, bb->scratch, n * sizeof(*frames));
		bb->held += n * sizeof(*frames);
	}
	s = &bb->b.stacks[bb->b.nr_stacks++];
	*s = (struct agent_stack){
		.kernel = frames,
		.nr_kernel = nk,
		.user = frames ? frames + nk : NULL,
		.nr_user = nu,
	};
	bb->stack_slots[j] = bb->b.nr_stacks;
add:
	s->count += count;
	s->duration_ns += duration_ns;
	bb->b.samples += count;
	return 0;
}

/* ---- the batch -------------------------------------------------------- */

int agent_batch_new(const char *task_id, const char *process_id, enum agent_task_target target,
		    int64_t start_ms, int64_t time_ms, struct agent_batch **out)
{
	struct batch *bb;

	*out = NULL;
	if (!task_id || !process_id)
		return -EINVAL;
	bb = calloc(1, sizeof(*bb));
	if (!bb)
		return -ENOMEM;
	bb->b.task_id = strdup(task_id);
	bb->b.process_id = strdup(process_id);
	if (!bb->b.task_id || !bb->b.process_id) {
		agent_batch_free(&bb->b);
		return -ENOMEM;
	}
	bb->b.target = target;
	bb->b.start_ms = start_ms;
	bb->b.time_ms = time_ms;
	*out = &bb->b;
	return 0;
}

void agent_batch_free(struct agent_batch *b)
{
	struct batch *bb;
	size_t i;

	if (!b)
		return;
	bb = batch_of(b);
	for (i = 0; i < b->nr_stacks; i++)
		free(b->stacks[i].kernel);
	free(b->stacks);
	for (i = 0; i < bb->nr_strs; i++)
		free(bb->strs[i]);
	free(bb->strs);
	free(bb->str_slots);
	free(bb->stack_slots);
	free(bb->scratch);
	free(b->task_id);
	free(b->process_id);
	free(bb);
}

int agent_batch_add(struct agent_batch *b, const char *const *kernel, uint32_t nr_kernel,
		    const char *const *user, uint32_t nr_user, uint64_t count,
		    uint64_t duration_ns)
{
	struct batch *bb = batch_of(b);
	size_t n = (size_t)nr_kernel + nr_user, i;
	int err;

	if (scratch_reserve(bb, n))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const char *s = i < nr_kernel ? kernel[i] : user[i - nr_kernel];

		err = intern(bb, s, strlen(s), &bb->scratch[i]);
		if (err)
			return err;
	}
	return stack_add(bb, nr_kernel, nr_user, count, duration_ns);
}

int agent_batch_merge(struct agent_batch *dst, const struct agent_batch *src)
{
	size_t i;
	int err;

	if (strcmp(dst->task_id, src->task_id) || strcmp(dst->process_id, src->process_id))
		return -EINVAL;
	for (i = 0; i < src->nr_stacks; i++) {
		const struct agent_stack *s = &src->stacks[i];

		err = agent_batch_add(dst, s->kernel, s->nr_kernel, s->user, s->nr_user, s->count,
				      s->duration_ns);
		if (err)
			return err;
	}
	if (src->time_ms > dst->time_ms)
		dst->time_ms = src->time_ms;
	return 0;
}

size_t agent_batch_bytes(const struct agent_batch *b)
{
	const struct batch *bb = batch_of(b);

	return sizeof(*bb) + strlen(b->task_id) + strlen(b->process_id) + 2 + bb->held +
	       bb->cap_stacks * sizeof(*b->stacks) + bb->nr_stack_slots * sizeof(*bb->stack_slots) +
	       bb->cap_strs * sizeof(*bb->strs) + bb->nr_str_slots * sizeof(*bb->str_slots) +
	       bb->cap_scratch * sizeof(*bb->scratch);
}

/* ---- the encoding ----------------------------------------------------- */

static unsigned char *put_str(unsigned char *p, const char *s, size_t len)
{
	p = ab_put32(p, len);
	memcpy(p, s, len);
	return p + len;
}

static size_t encoded_size(const struct batch *bb)
{
	size_t size = 4 * 3 + 8 * 3 + 4 + strlen(bb->b.task_id) + 4 + strlen(bb->b.process_id);
	size_t i;

	size += 4;
	for (i = 0; i < bb->nr_strs; i++)
		size += 4 + bb->strs[i]->len;
	size += 4;
	for (i = 0; i < bb->b.nr_stacks; i++) {
		const struct agent_stack *s = &bb->b.stacks[i];

		size += STACK_FIXED + 4 * ((size_t)s->nr_kernel + s->nr_user);
	}
	return size;
}

int agent_batch_encode(const struct agent_batch *b, void **buf, size_t *len)
{
	const struct batch *bb = batch_of(b);
	size_t size = encoded_size(bb), i, j;
	unsigned char *p, *start;

	*buf = NULL;
	*len = 0;
	start = p = malloc(size);
	if (!p)
		return -ENOMEM;
	p = ab_put32(p, BATCH_MAGIC);
	p = ab_put32(p, BATCH_VERSION);
	p = ab_put32(p, b->target);
	p = ab_put64(p, b->start_ms);
	p = ab_put64(p, b->time_ms);
	p = ab_put64(p, b->samples);
	p = put_str(p, b->task_id, strlen(b->task_id));
	p = put_str(p, b->process_id, strlen(b->process_id));
	p = ab_put32(p, bb->nr_strs);
	for (i = 0; i < bb->nr_strs; i++)
		p = put_str(p, bb->strs[i]->s, bb->strs[i]->len);
	p = ab_put32(p, b->nr_stacks);
	for (i = 0; i < b->nr_stacks; i++) {
		const struct agent_stack *s = &b->stacks[i];

		p = ab_put32(p, s->nr_kernel);
		p = ab_put32(p, s->nr_user);
		p = ab_put64(p, s->count);
		p = ab_put64(p, s->duration_ns);
		for (j = 0; j < (size_t)s->nr_kernel + s->nr_user; j++)
			p = ab_put32(p, istr_of(s->kernel[j])->id);
	}
	*buf = start;
	*len = size;
	return 0;
}

/* A length-prefixed string of the encoding, NUL-terminated into @out (malloc'd). */
static int get_str(struct ab_reader *r, char **out)
{
	uint32_t len = ab_get32(r);
	const unsigned char *p = ab_take(r, len);

	if (!p || memchr(p, '\0', len))
		return -EBADMSG;
	*out = strndup((const char *)p, len);
	return *out ? 0 : -ENOMEM;
}

/* The string table: @map[i] gets string i, interned in @bb. */
static int decode_strings(struct ab_reader *r, struct batch *bb, const char ***map, uint32_t *nr)
{
	uint32_t n = ab_get32(r), i, len;
	const unsigned char *p;
	int err;

	/* each string takes 4 bytes at least: a count past that is not ours */
	if (r->bad || n > r->left / 4)
		return -EBADMSG;
	*map = calloc(n ? n : 1, sizeof(**map));
	if (!*map)
		return -ENOMEM;
	*nr = n;
	for (i = 0; i < n; i++) {
		len = ab_get32(r);
		p = ab_take(r, len);
		if (!p || memchr(p, '\0', len))
			return -EBADMSG;
		err = intern(bb, (const char *)p, len, &(*map)[i]);
		if (err)
			return err == -EINVAL ? -EBADMSG : err;
	}
	return 0;
}

static int decode_stacks(struct ab_reader *r, struct batch *bb, const char **map, uint32_t nr_map)
{
	uint32_t n = ab_get32(r), i, nk, nu, idx;
	uint64_t count, duration, sum = 0;
	size_t j;
	int err;

	if (r->bad || n > r->left / STACK_FIXED)
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		nk = ab_get32(r);
		nu = ab_get32(r);
		count = ab_get64(r);
		duration = ab_get64(r);
		if (r->bad || (uint64_t)nk + nu > r->left / 4)
			return -EBADMSG;
		if (scratch_reserve(bb, (size_t)nk + nu))
			return -ENOMEM;
		for (j = 0; j < (size_t)nk + nu; j++) {
			idx = ab_get32(r);
			if (idx >= nr_map)
				return -EBADMSG;
			bb->scratch[j] = map[idx];
		}
		err = stack_add(bb, nk, nu, count, duration);
		if (err)
			return err;
		sum += count;
	}
	/* stacks are unique, and samples is the sum of their counts */
	return bb->b.nr_stacks == n && bb->b.samples == sum ? 0 : -EBADMSG;
}

int agent_batch_decode(const void *buf, size_t len, struct agent_batch **out)
{
	struct ab_reader r = { .p = buf, .left = len };
	uint32_t magic, version, target, nr_map = 0;
	char *task_id = NULL, *process_id = NULL;
	int64_t start_ms, time_ms;
	const char **map = NULL;
	struct agent_batch *b = NULL;
	uint64_t samples;
	int err;

	*out = NULL;
	magic = ab_get32(&r);
	version = ab_get32(&r);
	target = ab_get32(&r);
	start_ms = ab_get64(&r);
	time_ms = ab_get64(&r);
	samples = ab_get64(&r);
	if (r.bad || magic != BATCH_MAGIC || version != BATCH_VERSION ||
	    target < AGENT_TARGET_ON_CPU || target > AGENT_TARGET_NETWORK)
		return -EBADMSG;
	err = get_str(&r, &task_id);
	if (!err)
		err = get_str(&r, &process_id);
	if (!err)
		err = agent_batch_new(task_id, process_id, target, start_ms, time_ms, &b);
	if (!err)
		err = decode_strings(&r, batch_of(b), &map, &nr_map);
	if (!err)
		err = decode_stacks(&r, batch_of(b), map, nr_map);
	if (!err && (b->samples != samples || r.left))
		err = -EBADMSG;
	free(map);
	free(task_id);
	free(process_id);
	if (err) {
		agent_batch_free(b);
		return err;
	}
	*out = b;
	return 0;
}
