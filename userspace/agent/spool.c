// SPDX-License-Identifier: GPL-2.0-only
/* The spool: a bounded, crash-safe FIFO of files in a directory (agent_spool.h). */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "agent_bytes.h"
#include "agent_spool.h"
#include "sw_log.h"

/*
 * An entry is the file <16 hex digits of its id>.swb: this header, then the
 * payload.  Header, every integer little-endian: u32 magic, u32 version,
 * u64 payload length, u64 samples, u32 crc32 of the payload, u32 zero.
 * It is written as <id>.tmp first.  An entry's bytes (for the bound and
 * every count) are its file's: header and payload.
 */
#define SPOOL_MAGIC	0x50535753u	/* "SWSP" */
#define SPOOL_VERSION	1u
#define HDR_SIZE	32
#define NAME_DIGITS	16
#define DEFAULT_MAX	(256ULL << 20)

struct entry {
	uint64_t id, bytes, samples;
};

struct agent_spool {
	char *dir;
	int dirfd;
	uint64_t max_bytes;
	struct entry *ents;		/* ents[head .. nr): oldest first */
	size_t head, nr, cap;
	uint64_t next_id;
	struct agent_spool_stats st;
};

enum name_kind { NAME_OTHER, NAME_ENTRY, NAME_TMP };

/* What a directory entry is: one of ours (and its id), or something else. */
static enum name_kind parse_name(const char *name, uint64_t *id)
{
	const char *suffix = name + NAME_DIGITS;
	int i;

	if (strlen(name) <= NAME_DIGITS)
		return NAME_OTHER;
	for (i = 0; i < NAME_DIGITS; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return NAME_OTHER;
	*id = strtoull(name, NULL, 16);
	if (!strcmp(suffix, ".swb"))
		return NAME_ENTRY;
	return strcmp(suffix, ".tmp") ? NAME_OTHER : NAME_TMP;
}

static void entry_name(char *buf, size_t len, uint64_t id, const char *suffix)
{
	snprintf(buf, len, "%016" PRIx64 "%s", id, suffix);
}

/* ---- files ------------------------------------------------------------ */

static int read_all(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n;

	while (len) {
		n = pread(fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EBADMSG;	/* shorter than its header says */
		buf = (char *)buf + n;
		len -= n;
		off += n;
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf = (const char *)buf + n;
		len -= n;
	}
	return 0;
}

static uint32_t crc(const void *buf, size_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);
	const unsigned char *p = buf;

	/* zlib takes lengths of uInt */
	while (len) {
		uInt n = len > (1u << 30) ? 1u << 30 : len;

		c = crc32(c, p, n);
		p += n;
		len -= n;
	}
	return c;
}

/*
 * Read and check entry @id: 0 with *buf (malloc'd), *len and *samples;
 * -EBADMSG when the file is not a whole entry; -ENOENT, -EIO, -ENOMEM...
 */
static int read_entry(const struct agent_spool *sp, uint64_t id, void **buf, size_t *len,
		      uint64_t *samples)
{
	unsigned char hdr[HDR_SIZE];
	struct ab_reader r = { .p = hdr, .left = sizeof(hdr) };
	uint64_t plen;
	uint32_t magic, version, sum, zero;
	char name[32];
	struct stat st;
	void *p = NULL;
	int fd, err;

	entry_name(name, sizeof(name), id, ".swb");
	fd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = fstat(fd, &st) ? -errno : st.st_size < HDR_SIZE ? -EBADMSG : 0;
	if (!err)
		err = read_all(fd, hdr, sizeof(hdr), 0);
	if (err)
		goto out;
	magic = ab_get32(&r);
	version = ab_get32(&r);
	plen = ab_get64(&r);
	*samples = ab_get64(&r);
	sum = ab_get32(&r);
	zero = ab_get32(&r);
	err = -EBADMSG;
	if (magic != SPOOL_MAGIC || version != SPOOL_VERSION || zero ||
	    plen != (uint64_t)st.st_size - HDR_SIZE)
		goto out;
	p = malloc(plen ? plen : 1);
	err = p ? read_all(fd, p, plen, HDR_SIZE) : -ENOMEM;
	if (!err && crc(p, plen) != sum)
		err = -EBADMSG;
out:
	close(fd);
	if (err) {
		free(p);
		return err;
	}
	*buf = p;
	*len = plen;
	return 0;
}

/* Write entry @id durably: a temporary file, fsync, rename, fsync of the directory. */
static int write_entry(struct agent_spool *sp, uint64_t id, const void *buf, size_t len,
		       uint64_t samples)
{
	unsigned char hdr[HDR_SIZE], *p = hdr;
	char tmp[32], name[32];
	int fd, err;

	p = ab_put32(p, SPOOL_MAGIC);
	p = ab_put32(p, SPOOL_VERSION);
	p = ab_put64(p, len);
	p = ab_put64(p, samples);
	p = ab_put32(p, crc(buf, len));
	ab_put32(p, 0);
	entry_name(tmp, sizeof(tmp), id, ".tmp");
	entry_name(name, sizeof(name), id, ".swb");
	fd = openat(sp->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	err = write_all(fd, hdr, sizeof(hdr));
	if (!err)
		err = write_all(fd, buf, len);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && renameat(sp->dirfd, tmp, sp->dirfd, name))
		err = -errno;
	if (err) {
		unlinkat(sp->dirfd, tmp, 0);
		return err;
	}
	return fsync(sp->dirfd) ? -errno : 0;
}

/* ---- the queue -------------------------------------------------------- */

/* Room for one more entry at the end: 0 or -ENOMEM. */
static int ents_reserve(struct agent_spool *sp)
{
	struct entry *e;
	size_t cap;

	if (sp->nr < sp->cap)
		return 0;
	if (sp->head) {
		memmove(sp->ents, sp->ents + sp->head, (sp->nr - sp->head) * sizeof(*e));
		sp->nr -= sp->head;
		sp->head = 0;
		return 0;
	}
	cap = sp->cap ? sp->cap * 2 : 64;
	e = realloc(sp->ents, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	sp->ents = e;
	sp->cap = cap;
	return 0;
}

static void ents_append(struct agent_spool *sp, uint64_t id, uint64_t bytes, uint64_t samples)
{
	sp->ents[sp->nr++] = (struct entry){ .id = id, .bytes = bytes, .samples = samples };
	sp->st.entries++;
	sp->st.bytes += bytes;
	sp->st.samples += samples;
}

/* Forget ents[i] (its file is gone). */
static void ents_delete(struct agent_spool *sp, size_t i)
{
	struct entry *e = &sp->ents[i];

	sp->st.entries--;
	sp->st.bytes -= e->bytes;
	sp->st.samples -= e->samples;
	if (i == sp->head) {
		sp->head++;
	} else {
		memmove(e, e + 1, (sp->nr - i - 1) * sizeof(*e));
		sp->nr--;
	}
	if (sp->head == sp->nr)
		sp->head = sp->nr = 0;
}

static void unlink_entry(struct agent_spool *sp, uint64_t id)
{
	char name[32];

	entry_name(name, sizeof(name), id, ".swb");
	if (unlinkat(sp->dirfd, name, 0) && errno != ENOENT)
		sw_log_ratelimited(SW_LOG_WARN, "cannot remove %s/%s: %s", sp->dir, name,
				   strerror(errno));
}

static void count_dropped(struct agent_spool *sp, uint64_t bytes, uint64_t samples)
{
	sp->st.dropped_entries++;
	sp->st.dropped_bytes += bytes;
	sp->st.dropped_samples += samples;
}

/* Drop the oldest entries until @bytes more fit in the bound. */
static void make_room(struct agent_spool *sp, uint64_t bytes)
{
	uint64_t n = 0, nbytes = 0, nsamples = 0;

	while (sp->head < sp->nr && sp->st.bytes + bytes > sp->max_bytes) {
		const struct entry *e = &sp->ents[sp->head];

		unlink_entry(sp, e->id);
		count_dropped(sp, e->bytes, e->samples);
		n++;
		nbytes += e->bytes;
		nsamples += e->samples;
		ents_delete(sp, sp->head);
	}
	if (n)
		sw_log_ratelimited(SW_LOG_WARN,
				   "spool %s is full (%" PRIu64 " bytes): dropped the %" PRIu64
				   " oldest entries (%" PRIu64 " bytes, %" PRIu64 " samples)",
				   sp->dir, sp->max_bytes, n, nbytes, nsamples);
}

int agent_spool_put(struct agent_spool *sp, const void *buf, size_t len, uint64_t samples)
{
	uint64_t bytes = (uint64_t)len + HDR_SIZE;
	int err;

	if (bytes > sp->max_bytes) {
		count_dropped(sp, bytes, samples);
		sw_log_ratelimited(SW_LOG_WARN,
				   "spool %s: an entry of %" PRIu64 " bytes is larger than the "
				   "bound (%" PRIu64 " bytes): dropped", sp->dir, bytes, sp->max_bytes);
		return -EFBIG;
	}
	if (ents_reserve(sp))
		return -ENOMEM;
	make_room(sp, bytes);
	err = write_entry(sp, sp->next_id, buf, len, samples);
	if (err) {
		count_dropped(sp, bytes, samples);
		sw_log_ratelimited(SW_LOG_ERROR, "cannot write to the spool %s: %s; entry dropped",
				   sp->dir, strerror(-err));
		return err;
	}
	ents_append(sp, sp->next_id++, bytes, samples);
	sp->st.put++;
	return 0;
}

int agent_spool_peek(struct agent_spool *sp, uint64_t *id, void **buf, size_t *len,
		     uint64_t *samples)
{
	while (sp->head < sp->nr) {
		uint64_t oldest = sp->ents[sp->head].id;
		int err = read_entry(sp, oldest, buf, len, samples);

		if (!err) {
			*id = oldest;
			return 0;
		}
		if (err != -EBADMSG && err != -ENOENT)
			return err;
		/* changed or removed since it was written or found: not an entry any more */
		sw_log_ratelimited(SW_LOG_WARN, "spool %s: entry %016" PRIx64
				   " is corrupt: removed", sp->dir, oldest);
		unlink_entry(sp, oldest);
		sp->st.corrupt++;
		ents_delete(sp, sp->head);
	}
	return -ENOENT;
}

int agent_spool_remove(struct agent_spool *sp, uint64_t id)
{
	size_t i;

	for (i = sp->head; i < sp->nr; i++) {
		if (sp->ents[i].id == id) {
			unlink_entry(sp, id);
			ents_delete(sp, i);
			sp->st.delivered++;
			return 0;
		}
	}
	return -ENOENT;
}

void agent_spool_stats(const struct agent_spool *sp, struct agent_spool_stats *st)
{
	*st = sp->st;
}

/* ---- open ------------------------------------------------------------- */

/* mkdir -p @path, 0700 for what it creates. */
static int make_dirs(const char *path)
{
	char *p = strdup(path), *s;
	int err = 0;

	if (!p)
		return -ENOMEM;
	for (s = p + 1; !err; s++) {
		bool last = !*s;

		if (*s != '/' && !last)
			continue;
		*s = '\0';
		if (mkdir(p, 0700) && errno != EEXIST)
			err = -errno;
		if (last)
			break;
		*s = '/';
	}
	free(p);
	return err;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* One file of the directory at open: an entry to keep, or something to remove. */
static int recover_one(struct agent_spool *sp, const char *name, uint64_t *max_id)
{
	uint64_t id, samples;
	enum name_kind kind = parse_name(name, &id);
	size_t len;
	void *buf;
	int err;

	if (kind == NAME_OTHER)
		return 0;		/* not ours: left alone */
	if (id >= *max_id)
		*max_id = id + 1;
	err = kind == NAME_TMP ? -EBADMSG : read_entry(sp, id, &buf, &len, &samples);
	if (err == -EBADMSG) {
		if (unlinkat(sp->dirfd, name, 0) && errno != ENOENT)
			return -errno;
		sp->st.corrupt++;
		return 0;
	}
	if (!err) {
		free(buf);
		err = ents_reserve(sp);
	}
	if (!err)
		ents_append(sp, id, len + HDR_SIZE, samples);
	return err;
}

/* Find the entries a previous run left, oldest first; remove the rest of ours. */
static int recover(struct agent_spool *sp)
{
	struct dirent *de;
	uint64_t max_id = 1;
	int fd = dup(sp->dirfd), err = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	while (!err && (de = readdir(d)))
		err = recover_one(sp, de->d_name, &max_id);
	closedir(d);
	if (err)
		return err;
	qsort(sp->ents + sp->head, sp->nr - sp->head, sizeof(*sp->ents), entry_cmp);
	sp->next_id = max_id;
	sp->st.recovered = sp->st.entries;
	if (sp->st.corrupt)
		sw_warn("spool %s: removed %" PRIu64 " corrupt or unfinished files", sp->dir,
			sp->st.corrupt);
	return 0;
}

int agent_spool_open(const struct agent_spool_opts *opts, struct agent_spool **out)
{
	struct agent_spool *sp;
	const char *what;
	int err;

	*out = NULL;
	if (!opts || !SW_OPTS_VALID(opts, agent_spool_opts) || !SW_OPTS_GET(opts, dir, NULL) ||
	    !opts->dir[0])
		return -EINVAL;
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	sp->dirfd = -1;
	sp->max_bytes = SW_OPTS_GET_OR(opts, max_bytes, DEFAULT_MAX);
	sp->dir = strdup(opts->dir);
	if (!sp->dir) {
		agent_spool_close(sp);
		return -ENOMEM;
	}
	what = "create";
	err = make_dirs(sp->dir);
	if (!err) {
		what = "open";
		sp->dirfd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		err = sp->dirfd < 0 ? -errno : 0;
	}
	if (!err) {
		what = "write to";
		err = faccessat(sp->dirfd, ".", W_OK | X_OK, AT_EACCESS) ? -errno : 0;
	}
	if (!err) {
		what = "read the entries of";
		err = recover(sp);
	}
	if (err) {
		sw_err("cannot %s the spool directory %s: %s (agent.spool_dir)", what, sp->dir,
		       strerror(-err));
		agent_spool_close(sp);
		return err;
	}
	*out = sp;
	return 0;
}

void agent_spool_close(struct agent_spool *sp)
{
	if (!sp)
		return;
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	free(sp->ents);
	free(sp->dir);
	free(sp);
}
