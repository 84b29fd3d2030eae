// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replay a raw record file (swctl record --save-raw) through the recording
 * code as it was before the pipeline (built by tools/compare-old-record
 * from an older commit, whose headers this file is compiled against): the
 * old session's worker decodes, symbolizes and aggregates the records, and
 * the old exporter writes the profile.  The device is faked (this ioctl()
 * answers the version handshake on a memfd): the old rec_new() insists on
 * opening one, and nothing here registers threads.
 *
 *   replay_old RAW OUT [--lines]
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "export.h"
#include "record_priv.h"

#define FAKE_DEV "swprof-fake-dev"

int ioctl(int fd, unsigned long cmd, ...);
int ioctl(int fd, unsigned long cmd, ...)
{
	char link[64], target[PATH_MAX];
	va_list ap;
	void *arg;
	ssize_t n;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = 0;
		if (!strncmp(target, "/memfd:" FAKE_DEV, strlen("/memfd:" FAKE_DEV))) {
			struct swprof_version v = {
				.size = sizeof(v),
				.major = SWPROF_API_MAJOR,
				.minor = SWPROF_API_MINOR,
				.features = SWPROF_FEAT_MODE_CPU | SWPROF_FEAT_MODE_OFFCPU |
					    SWPROF_FEAT_MODE_WALL | SWPROF_FEAT_USTACK_FP,
				.ring_version = SWPROF_RING_VERSION,
				.max_depth = SWPROF_MAX_DEPTH,
			};
			__u32 usize = *(__u32 *)arg;

			if (cmd != SWPROF_IOC_VERSION) {
				errno = ENOTTY;
				return -1;
			}
			memcpy(arg, &v, usize < sizeof(v) ? usize : sizeof(v));
			return 0;
		}
	}
	return syscall(SYS_ioctl, fd, cmd, arg);
}

struct raw_info {
	uint32_t mode, flags;
	uint64_t period_ns, reserved;
};

struct raw_ent {
	uint32_t magic, size;
	uint64_t target;
	uint32_t pid, tid;
};

int main(int argc, char **argv)
{
	static const char magic[8] = { 'S', 'W', 'P', 'R', 'A', 'W', 0, 1 };
	struct rec_target *rts[256];
	uint64_t ids[256];
	unsigned char *buf = malloc(64 << 20);
	struct rec_session *r;
	struct raw_info info;
	struct raw_ent e;
	char m[8], dev[64], err[256];
	int nr = 0, i, fd;
	FILE *f;

	if (argc < 3 || !buf) {
		fprintf(stderr, "usage: replay_old RAW OUT [--lines]\n");
		return 2;
	}
	f = fopen(argv[1], "re");
	if (!f || fread(m, 8, 1, f) != 1 || memcmp(m, magic, 8) || fread(&info, sizeof(info), 1, f) != 1) {
		fprintf(stderr, "replay_old: %s is not a raw record file\n", argv[1]);
		return 1;
	}
	fd = memfd_create(FAKE_DEV, MFD_CLOEXEC);
	snprintf(dev, sizeof(dev), "/proc/self/fd/%d", fd);
	REC_OPTS(o, .mode = info.mode, .period_ns = info.period_ns, .device = dev,
		 .state_frames = info.flags & 1, .lines = argc > 3 && !strcmp(argv[3], "--lines"),
		 /* unwind the raw stack copies the records carry (--dwarf) */
		 .raw_stack = 8);
	if (rec_new(&o, &r, err, sizeof(err))) {
		fprintf(stderr, "replay_old: %s\n", err);
		return 1;
	}
	while (fread(&e, sizeof(e), 1, f) == 1) {
		const struct swprof_rec *rec = (const void *)buf;
		struct rec_target *rt = NULL;

		if (e.magic != 0x63657272u || e.size > (64u << 20) || fread(buf, e.size, 1, f) != 1) {
			fprintf(stderr, "replay_old: corrupt entry\n");
			return 1;
		}
		for (i = 0; i < nr && !rt; i++)
			if (ids[i] == e.target)
				rt = rts[i];
		if (!rt) {
			if (nr == 256)
				return 1;
			rt = calloc(1, sizeof(*rt));
			rt->kind = REC_POLL_TARGET;
			rt->pid = e.pid;
			rt->tid = e.tid;
			swprof_seq_tracker_init(&rt->tr);
			ids[nr] = e.target;
			rts[nr++] = rt;
		}
		/* what the old reader did before queueing (record_reader.c, copy_cb) */
		if (!swprof_rec_valid(rec))
			continue;
		swprof_seq_tracker_add(&rt->tr, rec);
		if (rec->type == SWPROF_REC_LOST)
			continue;
		if (rec->type == SWPROF_REC_EXIT)
			rt->exited = true;
		rec_process(r, rt, rec);
	}
	{
		PROF_EXPORT_OPTS(eo, .errbuf = err, .errbuf_sz = sizeof(err));
		uint64_t lost = 0;

		/* as swctl record did: the lost records go into the profile */
		for (i = 0; i < nr; i++) {
			swprof_seq_tracker_finish(&rts[i]->tr, NULL);
			lost += rts[i]->tr.lost + rts[i]->tr.lost_pending;
		}
		prof_add_lost(rec_profile(r), lost);

		err[0] = 0;
		if (prof_export(rec_profile(r), argv[2], &eo)) {
			fprintf(stderr, "replay_old: %s\n", err);
			return 1;
		}
	}
	rec_free(r);
	return 0;
}
