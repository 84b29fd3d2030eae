// SPDX-License-Identifier: GPL-2.0-only
/*
 * Raw record files: every record the reader copies out of a ring, as it
 * was, tagged with its ring (swctl record --save-raw), and their replay
 * through the decoder into a sink (swctl report --raw).  The format is
 * swctl's own, for debugging and regression tests, not an archive:
 *
 *   file:  "SWPRAW\0" version(u8 = 1), then struct pl_raw_info (24 bytes)
 *   entry: u32 magic PL_RAW_MAGIC, u32 size (of the record), u64 ring id,
 *          u32 pid, u32 tid (the ring's thread as registered), the record
 *          (size bytes, a multiple of 8).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_priv.h"
#include "sw_log.h"

static const char raw_magic[8] = { 'S', 'W', 'P', 'R', 'A', 'W', 0, 1 };
#define PL_RAW_MAGIC	0x63657272u	/* "rrec" */
#define PL_RAW_MAX_REC	(64u << 20)

struct raw_ent {
	uint32_t magic, size;
	uint64_t target;
	uint32_t pid, tid;
};

void pl_raw_write(struct pl *pl, const struct pl_target *rt, const struct swprof_rec *rec)
{
	struct raw_ent e = { PL_RAW_MAGIC, rec->size, rt->id, rt->pid0, rt->tid0 };
	FILE *f = pl->o.save_raw;

	if (fwrite(&e, sizeof(e), 1, f) != 1 || fwrite(rec, rec->size, 1, f) != 1)
		sw_log_ratelimited(SW_LOG_ERROR, "cannot write the raw records: %m");
}

int pl_raw_write_header(FILE *f, const struct pl_raw_info *info)
{
	if (fwrite(raw_magic, sizeof(raw_magic), 1, f) != 1 || fwrite(info, sizeof(*info), 1, f) != 1)
		return -errno;
	return 0;
}

int pl_raw_read_header(FILE *f, struct pl_raw_info *info)
{
	char magic[sizeof(raw_magic)];

	if (fread(magic, sizeof(magic), 1, f) != 1 || memcmp(magic, raw_magic, sizeof(magic)) ||
	    fread(info, sizeof(*info), 1, f) != 1)
		return -EBADMSG;
	return 0;
}

struct pl_target *pl_offline_target(struct pl *pl, struct pl_sink *s, pid_t pid, pid_t tid,
				    uint32_t raw_stack)
{
	struct pl_reg *reg = calloc(1, sizeof(*reg));
	struct pl_sub *sub = calloc(1, sizeof(*sub));
	struct pl_target *rt;

	if (!reg || !sub) {
		free(reg);
		free(sub);
		return NULL;
	}
	pthread_mutex_lock(&pl->lock);
	rt = pl_target_alloc(pl, reg, pid, tid);
	pthread_mutex_unlock(&pl->lock);
	if (!rt) {
		free(reg);
		free(sub);
		return NULL;
	}
	reg->o.sz = sizeof(reg->o);
	reg->o.raw_stack = raw_stack;
	reg->pid = pid;
	reg->tid = tid;
	reg->closed = true;		/* never shared with a registration */
	reg->st.threads = reg->st.threads_live = 1;
	sub->sink = s;
	reg->subs = sub;
	reg->next = pl->regs;
	pl->regs = reg;
	rt->done = true;
	rt->next = pl->offline;
	pl->offline = rt;
	return rt;
}

int pl_replay(struct pl *pl, struct pl_sink *s, FILE *f)
{
	struct pl_target **rts = NULL;
	size_t nr = 0, i;
	unsigned char *buf = NULL;
	size_t cap = 0;
	struct raw_ent e;
	int n = 0, err = 0;

	while (fread(&e, sizeof(e), 1, f) == 1) {
		const struct swprof_rec *rec;
		struct pl_target *rt = NULL;

		if (e.magic != PL_RAW_MAGIC || e.size < sizeof(*rec) || e.size > PL_RAW_MAX_REC ||
		    e.size % 8) {
			err = -EBADMSG;
			break;
		}
		if (e.size > cap) {
			unsigned char *b = realloc(buf, e.size);

			if (!b) {
				err = -ENOMEM;
				break;
			}
			buf = b;
			cap = e.size;
		}
		if (fread(buf, e.size, 1, f) != 1) {
			err = -EBADMSG;
			break;
		}
		rec = (const void *)buf;
		for (i = 0; i < nr && !rt; i++)
			if (rts[i]->id == e.target)
				rt = rts[i];
		if (!rt) {
			struct pl_target **t = realloc(rts, (nr + 1) * sizeof(*t));

			if (!t) {
				err = -ENOMEM;
				break;
			}
			rts = t;
			/* the ids of the file, not ours: a sink sees them as they were */
			rt = pl_offline_target(pl, s, e.pid, e.tid, 1);
			if (!rt) {
				err = -ENOMEM;
				break;
			}
			rt->id = e.target;
			rts[nr++] = rt;
		}
		n++;
		/* what the reader does before queueing (reader.c, copy_cb) */
		rt->reg->st.records++;
		if (rec->size != e.size || !swprof_rec_valid(rec)) {
			rt->reg->st.bad_records++;
			continue;
		}
		swprof_seq_tracker_add(&rt->tr, rec);
		if (rec->type == SWPROF_REC_LOST)
			continue;
		if (rec->type == SWPROF_REC_EXIT && !rt->exited) {
			rt->exited = true;
			rt->reg->st.threads_live--;
		}
		pl_process(pl, rt, rec);
	}
	for (i = 0; i < nr; i++) {
		swprof_seq_tracker_finish(&rts[i]->tr, NULL);
		rts[i]->reg->st.lost += rts[i]->tr.lost + rts[i]->tr.lost_pending;
		rts[i]->reg->st.seq_gaps += rts[i]->tr.gaps;
	}
	free(rts);
	free(buf);
	if (!err && ferror(f))
		err = -EIO;
	return err ? err : n;
}
