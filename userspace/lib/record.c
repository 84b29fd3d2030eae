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
	case SWPROF_REC_OFFCPU:
		return size >= sizeof(struct swprof_sample) &&
		       sample_need((const void *)rec) <= size;
	case SWPROF_REC_LOST:
		return size >= sizeof(struct swprof_lost);
	case SWPROF_REC_EXIT:
		return size >= sizeof(struct swprof_exit);
	case SWPROF_REC_EXEC:
		return size >= sizeof(struct swprof_exec);
	case SWPROF_REC_COMM:
		return size >= sizeof(struct swprof_comm);
	case SWPROF_REC_TRACE_BEGIN:
		return size >= sizeof(struct swprof_trace_rec);
	case SWPROF_REC_TRACE_END:
		return size >= sizeof(struct swprof_trace_end);
	default:
		return true;
	}
}

static bool sample_valid(const struct swprof_sample *s)
{
	return (s->hdr.type == SWPROF_REC_SAMPLE || s->hdr.type == SWPROF_REC_OFFCPU) &&
	       swprof_rec_valid(&s->hdr);
}

const struct swprof_sample *swprof_rec_sample(const struct swprof_rec *rec)
{
	const struct swprof_sample *s = (const void *)rec;

	return sample_valid(s) ? s : NULL;
}

static bool has_nul(const char *s, size_t len)
{
	return memchr(s, 0, len) != NULL;
}

const struct swprof_comm *swprof_rec_comm(const struct swprof_rec *rec)
{
	const struct swprof_comm *c = (const void *)rec;

	if (rec->type != SWPROF_REC_COMM || !swprof_rec_valid(rec) ||
	    !has_nul(c->comm, sizeof(c->comm)))
		return NULL;
	return c;
}

const struct swprof_trace_rec *swprof_rec_trace_begin(const struct swprof_rec *rec)
{
	const struct swprof_trace_rec *b = (const void *)rec;

	if (rec->type != SWPROF_REC_TRACE_BEGIN || !swprof_rec_valid(rec) ||
	    !has_nul(b->segment_id, sizeof(b->segment_id)))
		return NULL;
	return b;
}

const struct swprof_trace_end *swprof_rec_trace_end(const struct swprof_rec *rec)
{
	if (rec->type != SWPROF_REC_TRACE_END || !swprof_rec_valid(rec))
		return NULL;
	return (const void *)rec;
}

const char *swprof_trace_end_reason_name(unsigned int reason)
{
	switch (reason) {
	case SWPROF_TRACE_END_CALLED:
		return "called";
	case SWPROF_TRACE_END_TASK:
		return "task";
	case SWPROF_TRACE_END_MAX_SAMPLES:
		return "max samples";
	case SWPROF_TRACE_END_EXIT:
		return "exit";
	case SWPROF_TRACE_END_SESSION:
		return "session";
	default:
		return "unknown";
	}
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
	case SWPROF_REC_OFFCPU:
		return "offcpu";
	case SWPROF_REC_COMM:
		return "comm";
	case SWPROF_REC_TRACE_BEGIN:
		return "trace_begin";
	case SWPROF_REC_TRACE_END:
		return "trace_end";
	default:
		return "unknown";
	}
}
