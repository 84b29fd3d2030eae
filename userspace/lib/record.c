// SPDX-License-Identifier: GPL-2.0-only
/* Record decoding: validity against hdr.size, sample parts, type names. */
#include "swprof_internal.h"

/* Bytes a sample needs for what its counts announce; 64-bit: no overflow. */
static __u64 sample_need(const struct swprof_sample *s)
{
	__u64 need = sizeof(*s) + 8ULL * (s->nr_kernel + s->nr_user);

	if (s->raw_size)
		need += 8ULL * SWPROF_UREGS_NR + ((s->raw_size + 7ULL) & ~7ULL);
	return need;
}

bool swprof_rec_valid(const struct swprof_rec *rec)
{
	__u32 size = rec->size;

	if (size < sizeof(*rec) || size & 7)
		return false;
	switch (rec->type) {
	case SWPROF_REC_SAMPLE:
		return size >= sizeof(struct swprof_sample) &&
		       sample_need((const void *)rec) <= size;
	case SWPROF_REC_LOST:
		return size >= sizeof(struct swprof_lost);
	case SWPROF_REC_EXIT:
		return size >= sizeof(struct swprof_exit);
	case SWPROF_REC_EXEC:
		return size >= sizeof(struct swprof_exec);
	default:
		return true;
	}
}

static bool sample_valid(const struct swprof_sample *s)
{
	return s->hdr.type == SWPROF_REC_SAMPLE && swprof_rec_valid(&s->hdr);
}

const __u64 *swprof_sample_ips(const struct swprof_sample *s)
{
	return sample_valid(s) ? s->data : NULL;
}

const __u64 *swprof_sample_regs(const struct swprof_sample *s)
{
	if (!sample_valid(s) || !s->raw_size)
		return NULL;
	return s->data + s->nr_kernel + s->nr_user;
}

const __u8 *swprof_sample_raw_stack(const struct swprof_sample *s)
{
	const __u64 *regs = swprof_sample_regs(s);

	return regs ? (const __u8 *)(regs + SWPROF_UREGS_NR) : NULL;
}

const char *swprof_rec_type_name(unsigned int type)
{
	switch (type) {
	case SWPROF_REC_SAMPLE:
		return "sample";
	case SWPROF_REC_LOST:
		return "lost";
	case SWPROF_REC_EXIT:
		return "exit";
	case SWPROF_REC_EXEC:
		return "exec";
	default:
		return "unknown";
	}
}
