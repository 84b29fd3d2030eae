// SPDX-License-Identifier: GPL-2.0-only
/*
 * sym: finding what a stripped file lost.  In order: a separate debug file
 * by build-id (/usr/lib/debug/.build-id/xx/yyyy.debug), one named by
 * .gnu_debuglink (next to the file, in .debug/, under /usr/lib/debug, with
 * its CRC32 checked), else MiniDebugInfo (.gnu_debugdata, an xz-compressed
 * ELF holding the .symtab entries that .dynsym lacks).  Also: zstd
 * compressed debug sections, which libelf/libdw 0.188 cannot read.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lzma.h>
#include <zlib.h>

#include <zstd.h>

#include "sym_priv.h"

#ifndef ELFCOMPRESS_ZSTD
#define ELFCOMPRESS_ZSTD	2
#endif

/* snprintf that says whether the whole path fit. */
static bool __attribute__((format(printf, 3, 4)))
path_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < size;
}

uint32_t sym_crc32_fd(int fd, int *err)
{
	static const size_t bufsize = 1 << 20;
	unsigned char *buf = malloc(bufsize);
	uLong crc = crc32(0L, Z_NULL, 0);
	off_t off = 0;
	ssize_t n;

	*err = 0;
	if (!buf) {
		*err = -ENOMEM;
		return 0;
	}
	while ((n = pread(fd, buf, bufsize, off)) > 0) {
		crc = crc32(crc, buf, (uInt)n);
		off += n;
	}
	if (n < 0)
		*err = -errno;
	free(buf);
	return (uint32_t)crc;
}

static Elf *open_debug_elf(const char *path, int *fdp, struct stat *stp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;

	if (fd < 0)
		return NULL;
	if (fstat(fd, stp) || !S_ISREG(stp->st_mode)) {
		close(fd);
		return NULL;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		close(fd);
		return NULL;
	}
	*fdp = fd;
	return elf;
}

static void adopt_debug(struct sym_session *s, struct sym_file *f, Elf *elf, int fd,
			const char *path)
{
	f->dbg_elf = elf;
	f->dbg_path = strdup(path);
	elf_cntl(elf, ELF_C_FDDONE);
	close(fd);
	s->st.debug_files++;
}

/* A debug file found by build-id must carry the same build-id. */
static bool try_build_id_path(struct sym_session *s, struct sym_file *f, const char *path)
{
	unsigned char bid[SYM_BUILD_ID_MAX];
	size_t len = 0;
	struct stat st;
	int fd;
	Elf *elf = open_debug_elf(path, &fd, &st);

	if (!elf)
		return false;
	if (sym_read_build_id(elf, bid, &len) || len != f->bid_len ||
	    memcmp(bid, f->bid, len)) {
		elf_end(elf);
		close(fd);
		return false;
	}
	adopt_debug(s, f, elf, fd, path);
	return true;
}

static bool find_by_build_id(struct sym_session *s, struct sym_file *f)
{
	char path[PATH_MAX];

	if (!f->bid_len)
		return false;
	if (path_fmt(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", s->debug_dir,
		 f->bid_hex, f->bid_hex + 2) &&
	    try_build_id_path(s, f, path))
		return true;
	if (f->root) {
		if (path_fmt(path, sizeof(path), "%s%s/.build-id/%.2s/%s.debug", f->root,
			 SYM_DEFAULT_DEBUG_DIR, f->bid_hex, f->bid_hex + 2) &&
		    try_build_id_path(s, f, path))
			return true;
	}
	return false;
}

/* .gnu_debuglink: a file name, NUL, padding to 4, then a CRC32 of the file. */
static bool read_debuglink(Elf *elf, char *name, size_t size, uint32_t *crc)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *sname;
		Elf_Data *d;
		size_t len, crc_off;

		if (!gelf_getshdr(scn, &sh))
			continue;
		sname = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!sname || strcmp(sname, ".gnu_debuglink"))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size < 8)
			return false;
		len = strnlen(d->d_buf, d->d_size);
		crc_off = (len + 4) & ~(size_t)3;
		if (!len || len >= size || crc_off + 4 > d->d_size || strchr(d->d_buf, '/'))
			return false;
		memcpy(name, d->d_buf, len + 1);
		memcpy(crc, (char *)d->d_buf + crc_off, 4);
		return true;
	}
	return false;
}

static bool try_debuglink_path(struct sym_session *s, struct sym_file *f,
			       const char *path, uint32_t crc)
{
	unsigned char bid[SYM_BUILD_ID_MAX];
	size_t len = 0;
	struct stat st;
	int fd, err;
	Elf *elf;

	elf = open_debug_elf(path, &fd, &st);
	if (!elf)
		return false;
	if (st.st_ino == f->ino && st.st_dev == f->dev)
		goto reject;	/* the file itself, when the link names it */
	if (f->bid_len && !sym_read_build_id(elf, bid, &len)) {
		/* Both have build-ids: they decide, and a mismatch is final. */
		if (len != f->bid_len || memcmp(bid, f->bid, len))
			goto reject;
	} else if (sym_crc32_fd(fd, &err) != crc || err) {
		goto reject;
	}
	adopt_debug(s, f, elf, fd, path);
	return true;
reject:
	elf_end(elf);
	close(fd);
	return false;
}

static bool find_by_debuglink(struct sym_session *s, struct sym_file *f)
{
	char name[NAME_MAX + 1], dir[PATH_MAX], path[PATH_MAX];
	const char *root = f->root ? f->root : "";
	uint32_t crc;
	char *slash;

	if (!read_debuglink(f->elf, name, sizeof(name), &crc))
		return false;
	if (!path_fmt(dir, sizeof(dir), "%s", f->path))
		return false;
	slash = strrchr(dir, '/');
	if (!slash || f->path[0] != '/')
		return false;
	*slash = '\0';

	if (path_fmt(path, sizeof(path), "%s%s/%s", root, dir, name) &&
	    try_debuglink_path(s, f, path, crc))
		return true;
	if (path_fmt(path, sizeof(path), "%s%s/.debug/%s", root, dir, name) &&
	    try_debuglink_path(s, f, path, crc))
		return true;
	if (path_fmt(path, sizeof(path), "%s%s/%s", s->debug_dir, dir, name) &&
	    try_debuglink_path(s, f, path, crc))
		return true;
	if (f->root) {
		if (path_fmt(path, sizeof(path), "%s%s%s/%s", root, SYM_DEFAULT_DEBUG_DIR, dir, name) &&
		    try_debuglink_path(s, f, path, crc))
			return true;
	}
	return false;
}

/* xz stream of unknown decompressed size into a malloc'd buffer. */
static void *unxz(const void *in, size_t in_size, size_t *out_size)
{
	lzma_stream strm = LZMA_STREAM_INIT;
	size_t cap = in_size * 4 + 4096;
	unsigned char *out = malloc(cap), *grown;
	lzma_ret ret;

	if (!out)
		return NULL;
	if (lzma_stream_decoder(&strm, 1ULL << 30, 0) != LZMA_OK) {
		free(out);
		return NULL;
	}
	strm.next_in = in;
	strm.avail_in = in_size;
	strm.next_out = out;
	strm.avail_out = cap;
	for (;;) {
		ret = lzma_code(&strm, LZMA_FINISH);
		if (ret == LZMA_STREAM_END)
			break;
		if (ret != LZMA_OK && ret != LZMA_BUF_ERROR)
			goto fail;
		if (strm.avail_out)
			goto fail;	/* truncated input */
		if (cap >= (1UL << 30))
			goto fail;
		grown = realloc(out, cap * 2);
		if (!grown)
			goto fail;
		out = grown;
		strm.next_out = out + cap;
		strm.avail_out = cap;
		cap *= 2;
	}
	*out_size = strm.total_out;
	lzma_end(&strm);
	return out;
fail:
	lzma_end(&strm);
	free(out);
	return NULL;
}

static bool find_minidebuginfo(struct sym_session *s, struct sym_file *f)
{
	size_t shstrndx, size;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(f->elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(f->elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;
		void *buf;
		Elf *mini;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		name = elf_strptr(f->elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".gnu_debugdata"))
			continue;
		d = elf_rawdata(scn, NULL);
		if (!d || !d->d_buf)
			return false;
		buf = unxz(d->d_buf, d->d_size, &size);
		if (!buf)
			return false;
		mini = elf_memory(buf, size);
		if (!mini || elf_kind(mini) != ELF_K_ELF) {
			if (mini)
				elf_end(mini);
			free(buf);
			return false;
		}
		f->mini_buf = buf;
		f->mini_elf = mini;
		sym_charge(s, f, size);
		return true;
	}
	return false;
}

int sym_find_debuginfo(struct sym_session *s, struct sym_file *f)
{
	if (f->state & SF_DEBUG)
		return f->dbg_elf || f->mini_elf ? 0 : -ENOENT;
	f->state |= SF_DEBUG;
	if ((s->flags & SYM_OPT_NO_DEBUGINFO) || !f->elf)
		return -ENOENT;
	if (!f->is_image && (find_by_build_id(s, f) || find_by_debuglink(s, f)))
		return 0;
	return find_minidebuginfo(s, f) ? 0 : -ENOENT;
}

/* ------------------------------------------------------------------ */
/* Compressed sections. */

static bool read_chdr(Elf *elf, const Elf_Data *raw, GElf_Chdr *ch, size_t *hdr)
{
	if (gelf_getclass(elf) == ELFCLASS32) {
		Elf32_Chdr c;

		if (raw->d_size < sizeof(c))
			return false;
		memcpy(&c, raw->d_buf, sizeof(c));
		ch->ch_type = c.ch_type;
		ch->ch_size = c.ch_size;
		ch->ch_addralign = c.ch_addralign;
		*hdr = sizeof(c);
	} else {
		Elf64_Chdr c;

		if (raw->d_size < sizeof(c))
			return false;
		memcpy(&c, raw->d_buf, sizeof(c));
		ch->ch_type = c.ch_type;
		ch->ch_size = c.ch_size;
		ch->ch_addralign = c.ch_addralign;
		*hdr = sizeof(c);
	}
	return true;
}

/*
 * libdw 0.188 inflates zlib sections (SHF_COMPRESSED or .zdebug) itself but
 * knows nothing of ELFCOMPRESS_ZSTD: inflate those here and hand libdw the
 * plain bytes, with the section header saying so.
 */
int sym_decompress_sections(struct sym_session *s, struct sym_file *f, Elf *elf)
{
	Elf_Scn *scn = NULL;
	int done = 0;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		GElf_Chdr ch;
		Elf_Data *raw;
		struct sym_zbuf *z;
		size_t hdr, got;
		void *buf;

		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_COMPRESSED) ||
		    sh.sh_type == SHT_NOBITS)
			continue;
		/*
		 * gelf_getchdr() of 0.188 refuses compression types it does not
		 * know.  The Elf_Data to patch is elf_getdata()'s: libdw reads that.
		 */
		raw = elf_getdata(scn, NULL);
		if (!raw || !raw->d_buf || !read_chdr(elf, raw, &ch, &hdr) ||
		    ch.ch_type != ELFCOMPRESS_ZSTD || ch.ch_size > (1UL << 32))
			continue;
		buf = malloc(ch.ch_size ? ch.ch_size : 1);
		z = calloc(1, sizeof(*z));
		if (!buf || !z) {
			free(buf);
			free(z);
			return -ENOMEM;
		}
		got = ZSTD_decompress(buf, ch.ch_size, (char *)raw->d_buf + hdr,
					 raw->d_size - hdr);
		if (ZSTD_isError(got) || got != ch.ch_size) {
			free(buf);
			free(z);
			continue;
		}
		raw->d_buf = buf;
		raw->d_size = ch.ch_size;
		raw->d_type = ELF_T_BYTE;
		raw->d_align = ch.ch_addralign ? ch.ch_addralign : 1;
		sh.sh_flags &= ~(GElf_Xword)SHF_COMPRESSED;
		sh.sh_size = ch.ch_size;
		sh.sh_addralign = ch.ch_addralign;
		gelf_update_shdr(scn, &sh);
		z->buf = buf;
		z->size = ch.ch_size;
		z->next = f->zbufs;
		f->zbufs = z;
		sym_charge(s, f, ch.ch_size);
		done++;
	}
	return done;
}
