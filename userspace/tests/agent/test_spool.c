// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of the spool (agent_spool.h): FIFO order, entries surviving a
 * close and reopen with their sequence going on, the bound dropping the
 * oldest entries with exact counts, an entry larger than the bound refused,
 * torn, garbage and unfinished files removed at open (and a file damaged
 * after open at peek), and a directory that cannot be made said so.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "agent_spool.h"
#include "fake_log.h"

FIXTURE(spool) {
	char base[64];
	char dir[128];
	struct agent_spool *sp;
};

FIXTURE_SETUP(spool)
{
	strcpy(self->base, "/tmp/swprof-spool-test-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->base));
	/* parents are created too */
	snprintf(self->dir, sizeof(self->dir), "%s/a/spool", self->base);
	self->sp = NULL;
	log_capture();
}

FIXTURE_TEARDOWN(spool)
{
	char cmd[128];

	agent_spool_close(self->sp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->base);
	if (system(cmd))
		TH_LOG("cannot remove %s", self->base);
}

static int spool_open(FIXTURE_DATA(spool) *self, uint64_t max_bytes)
{
	AGENT_SPOOL_OPTS(o, .dir = self->dir, .max_bytes = max_bytes);

	agent_spool_close(self->sp);
	self->sp = NULL;
	return agent_spool_open(&o, &self->sp);
}

static struct agent_spool_stats stats(FIXTURE_DATA(spool) *self)
{
	struct agent_spool_stats st;

	agent_spool_stats(self->sp, &st);
	return st;
}

/* Put the string @s (without its NUL). */
static int put(FIXTURE_DATA(spool) *self, const char *s, uint64_t samples)
{
	return agent_spool_put(self->sp, s, strlen(s), samples);
}

/* Peek: the oldest entry's text ("" when none), its id and samples. */
static const char *peek(FIXTURE_DATA(spool) *self, uint64_t *id, uint64_t *samples)
{
	static char text[4096];
	size_t len;
	void *buf;
	uint64_t s;

	text[0] = '\0';
	if (agent_spool_peek(self->sp, id, &buf, &len, samples ? samples : &s))
		return text;
	snprintf(text, sizeof(text), "%.*s", (int)len, (char *)buf);
	free(buf);
	return text;
}

static void entry_path(FIXTURE_DATA(spool) *self, uint64_t id, const char *suffix, char *path)
{
	snprintf(path, 160, "%s/%016" PRIx64 "%s", self->dir, id, suffix);
}

/* The names in the spool directory, sorted, space-separated. */
static const char *listing(FIXTURE_DATA(spool) *self)
{
	static char out[1024];
	struct dirent **names;
	int n, i;

	out[0] = '\0';
	n = scandir(self->dir, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.')
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
				 out[0] ? " " : "", names[i]->d_name);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	return out;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || close(fd))
		abort();
}

TEST_F(spool, put_peek_remove_in_fifo_order)
{
	struct agent_spool_stats st;
	uint64_t id, id2, samples;
	struct stat sb;

	ASSERT_EQ(0, spool_open(self, 0));
	ASSERT_EQ(0, stat(self->dir, &sb));
	EXPECT_EQ(0700, sb.st_mode & 0777);
	EXPECT_STREQ("", peek(self, &id, NULL));
	EXPECT_EQ(-ENOENT, agent_spool_peek(self->sp, &id, &(void *){ NULL }, &(size_t){ 0 },
					    &samples));
	ASSERT_EQ(0, put(self, "one", 1));
	ASSERT_EQ(0, put(self, "two", 2));
	ASSERT_EQ(0, put(self, "three", 3));
	ASSERT_EQ(0, agent_spool_put(self->sp, "", 0, 0));	/* empty is an entry too */
	st = stats(self);
	EXPECT_EQ(4, st.entries);
	EXPECT_EQ(4, st.put);
	EXPECT_EQ(6, st.samples);
	EXPECT_EQ(0, st.recovered);

	EXPECT_STREQ("one", peek(self, &id, &samples));
	EXPECT_EQ(1, samples);
	/* peek leaves it there */
	EXPECT_STREQ("one", peek(self, &id2, NULL));
	EXPECT_EQ(id, id2);
	EXPECT_EQ(0, agent_spool_remove(self->sp, id));
	EXPECT_EQ(-ENOENT, agent_spool_remove(self->sp, id));
	EXPECT_STREQ("two", peek(self, &id, &samples));
	EXPECT_EQ(2, samples);
	EXPECT_EQ(0, agent_spool_remove(self->sp, id));
	EXPECT_STREQ("three", peek(self, &id, &samples));
	EXPECT_EQ(0, agent_spool_remove(self->sp, id));
	EXPECT_STREQ("", peek(self, &id, &samples));
	EXPECT_EQ(0, agent_spool_remove(self->sp, id));
	EXPECT_EQ(-ENOENT, agent_spool_peek(self->sp, &id, &(void *){ NULL }, &(size_t){ 0 },
					    &samples));
	st = stats(self);
	EXPECT_EQ(0, st.entries);
	EXPECT_EQ(0, st.bytes);
	EXPECT_EQ(0, st.samples);
	EXPECT_EQ(4, st.delivered);
	EXPECT_STREQ("", listing(self));
}

TEST_F(spool, entries_survive_reopen_and_the_sequence_goes_on)
{
	uint64_t id, first, samples;
	char path[160];

	ASSERT_EQ(0, spool_open(self, 0));
	ASSERT_EQ(0, put(self, "alpha", 5));
	ASSERT_EQ(0, put(self, "beta", 6));
	ASSERT_EQ(0, put(self, "gamma", 7));
	peek(self, &first, NULL);
	ASSERT_EQ(0, agent_spool_remove(self->sp, first));
	entry_path(self, first, ".swb", path);
	EXPECT_NE(0, access(path, F_OK));
	entry_path(self, first + 2, ".swb", path);
	EXPECT_EQ(0, access(path, F_OK));

	ASSERT_EQ(0, spool_open(self, 0));
	EXPECT_EQ(2, stats(self).recovered);
	EXPECT_EQ(2, stats(self).entries);
	EXPECT_EQ(13, stats(self).samples);
	EXPECT_EQ(0, stats(self).corrupt);
	EXPECT_EQ(0, stats(self).put);
	/* new entries come after every name there is: none is overwritten */
	ASSERT_EQ(0, put(self, "delta", 8));
	EXPECT_STREQ("beta", peek(self, &id, &samples));
	EXPECT_EQ(first + 1, id);
	EXPECT_EQ(6, samples);
	ASSERT_EQ(0, agent_spool_remove(self->sp, id));
	EXPECT_STREQ("gamma", peek(self, &id, NULL));
	EXPECT_EQ(first + 2, id);
	ASSERT_EQ(0, agent_spool_remove(self->sp, id));
	EXPECT_STREQ("delta", peek(self, &id, NULL));
	EXPECT_EQ(first + 3, id);
	entry_path(self, id, ".swb", path);
	EXPECT_EQ(0, access(path, F_OK));
	EXPECT_STREQ(path + strlen(self->dir) + 1, listing(self));
}

TEST_F(spool, the_bound_drops_the_oldest_with_exact_counts)
{
	char payload[1024], *big;
	struct agent_spool_stats st;
	uint64_t hdr, id, entry;
	int lines;

	memset(payload, 'x', 100);
	payload[100] = '\0';
	/* the header's size, from an entry in a spool without bound problems */
	ASSERT_EQ(0, spool_open(self, 0));
	ASSERT_EQ(0, put(self, payload, 1));
	hdr = stats(self).bytes - 100;
	EXPECT_LT(0, hdr);
	EXPECT_EQ('x', peek(self, &id, NULL)[0]);
	ASSERT_EQ(0, agent_spool_remove(self->sp, id));
	entry = hdr + 100;

	/* room for three entries of 100 bytes exactly */
	ASSERT_EQ(0, spool_open(self, 3 * entry));
	payload[0] = '1';
	ASSERT_EQ(0, put(self, payload, 10));
	payload[0] = '2';
	ASSERT_EQ(0, put(self, payload, 20));
	payload[0] = '3';
	ASSERT_EQ(0, put(self, payload, 30));
	st = stats(self);
	EXPECT_EQ(3 * entry, st.bytes);
	EXPECT_EQ(0, st.dropped_entries);
	lines = log_lines;

	/* a fourth: the first goes, with one warning */
	payload[0] = '4';
	ASSERT_EQ(0, put(self, payload, 40));
	st = stats(self);
	EXPECT_EQ(1, st.dropped_entries);
	EXPECT_EQ(entry, st.dropped_bytes);
	EXPECT_EQ(10, st.dropped_samples);
	EXPECT_EQ(3, st.entries);
	EXPECT_EQ(90, st.samples);
	EXPECT_EQ(lines + 1, log_lines);
	EXPECT_NE(NULL, strstr(logged, "dropped the 1 oldest entries"));
	EXPECT_EQ('2', peek(self, &id, NULL)[0]);

	/* an entry the size of two: two go (2 and 3), in one burst, one line */
	big = malloc(2 * entry - hdr + 1);
	memset(big, 'B', 2 * entry - hdr);
	big[2 * entry - hdr] = '\0';
	ASSERT_EQ(0, put(self, big, 1000));
	st = stats(self);
	EXPECT_EQ(3, st.dropped_entries);
	EXPECT_EQ(3 * entry, st.dropped_bytes);
	EXPECT_EQ(60, st.dropped_samples);
	EXPECT_EQ(2, st.entries);
	EXPECT_EQ(3 * entry, st.bytes);
	EXPECT_EQ(1040, st.samples);
	EXPECT_EQ(lines + 2, log_lines);
	EXPECT_NE(NULL, strstr(logged, "dropped the 2 oldest entries (")) TH_LOG("%s", logged);
	EXPECT_EQ('4', peek(self, &id, NULL)[0]);
	ASSERT_EQ(0, agent_spool_remove(self->sp, id));
	EXPECT_EQ('B', peek(self, &id, NULL)[0]);
	free(big);
	EXPECT_EQ(1, strlen(listing(self)) / strlen("0000000000000000.swb"));
}

TEST_F(spool, an_entry_larger_than_the_bound_is_refused_and_counted)
{
	char payload[1001];
	struct agent_spool_stats st;
	uint64_t id;

	memset(payload, 'y', 1000);
	payload[1000] = '\0';
	ASSERT_EQ(0, spool_open(self, 1000));
	ASSERT_EQ(0, put(self, "small", 3));
	EXPECT_EQ(-EFBIG, put(self, payload, 77));
	st = stats(self);
	EXPECT_EQ(1, st.dropped_entries);
	EXPECT_LT(1000, st.dropped_bytes);
	EXPECT_EQ(77, st.dropped_samples);
	EXPECT_EQ(1, st.put);
	/* nothing else was dropped to try */
	EXPECT_EQ(1, st.entries);
	EXPECT_STREQ("small", peek(self, &id, NULL));
	EXPECT_EQ(1, log_lines);
}

TEST_F(spool, torn_garbage_and_unfinished_files_are_removed_at_open)
{
	char path[160], other[160];
	uint64_t first, id;
	struct stat sb;
	int fd;

	ASSERT_EQ(0, spool_open(self, 0));
	ASSERT_EQ(0, put(self, "keep-1", 1));
	ASSERT_EQ(0, put(self, "torn-2", 2));
	ASSERT_EQ(0, put(self, "garbage-3", 3));
	ASSERT_EQ(0, put(self, "flipped-4", 4));
	ASSERT_EQ(0, put(self, "keep-5", 5));
	peek(self, &first, NULL);
	agent_spool_close(self->sp);
	self->sp = NULL;

	/* torn: the write stopped short */
	entry_path(self, first + 1, ".swb", path);
	ASSERT_EQ(0, stat(path, &sb));
	ASSERT_EQ(0, truncate(path, sb.st_size - 1));
	/* garbage under an entry's name */
	entry_path(self, first + 2, ".swb", path);
	write_file(path, "this is not a spool entry at all, but long enough", 48);
	/* one payload byte changed: the checksum catches it */
	entry_path(self, first + 3, ".swb", path);
	ASSERT_EQ(0, stat(path, &sb));
	fd = open(path, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, pwrite(fd, "F", 1, sb.st_size - 1));
	close(fd);
	/* a crash between write and rename, with a larger name than any entry */
	entry_path(self, 0x99, ".tmp", path);
	write_file(path, "half", 4);
	/* not the spool's: left alone */
	snprintf(other, sizeof(other), "%s/README", self->dir);
	write_file(other, "hi", 2);

	ASSERT_EQ(0, spool_open(self, 0));
	EXPECT_EQ(2, stats(self).recovered);
	EXPECT_EQ(4, stats(self).corrupt);
	EXPECT_EQ(6, stats(self).samples);
	EXPECT_NE(NULL, strstr(logged, "removed 4 corrupt or unfinished files"))
		TH_LOG("%s", logged);
	EXPECT_EQ(0, access(other, F_OK));
	EXPECT_NE(0, access(path, F_OK));
	EXPECT_STREQ("keep-1", peek(self, &id, NULL));
	EXPECT_EQ(first, id);
	ASSERT_EQ(0, agent_spool_remove(self->sp, id));
	EXPECT_STREQ("keep-5", peek(self, &id, NULL));
	EXPECT_EQ(first + 4, id);
	ASSERT_EQ(0, agent_spool_remove(self->sp, id));
	/* no name is reused: not even the unfinished one's */
	ASSERT_EQ(0, put(self, "new", 1));
	EXPECT_STREQ("new", peek(self, &id, NULL));
	EXPECT_EQ(0x9a, id);
	EXPECT_STREQ("000000000000009a.swb README", listing(self));
}

TEST_F(spool, a_file_damaged_after_open_is_removed_at_peek)
{
	char path[160];
	uint64_t first, id;

	ASSERT_EQ(0, spool_open(self, 0));
	ASSERT_EQ(0, put(self, "first", 1));
	ASSERT_EQ(0, put(self, "second", 2));
	ASSERT_EQ(0, put(self, "third", 3));
	peek(self, &first, NULL);
	entry_path(self, first, ".swb", path);
	ASSERT_EQ(0, truncate(path, 10));
	/* the second is gone altogether (someone cleaned up by hand) */
	entry_path(self, first + 1, ".swb", path);
	ASSERT_EQ(0, unlink(path));
	EXPECT_STREQ("third", peek(self, &id, NULL));
	EXPECT_EQ(first + 2, id);
	EXPECT_EQ(2, stats(self).corrupt);
	EXPECT_EQ(1, stats(self).entries);
	EXPECT_EQ(3, stats(self).samples);
}

TEST_F(spool, a_directory_that_cannot_be_made_is_a_clear_error)
{
	AGENT_SPOOL_OPTS(none);
	char file[96];
	int fd;

	/* a regular file where a parent should be: ENOTDIR even for root */
	snprintf(file, sizeof(file), "%s/file", self->base);
	fd = open(file, O_WRONLY | O_CREAT, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	snprintf(self->dir, sizeof(self->dir), "%s/spool", file);
	EXPECT_EQ(-ENOTDIR, spool_open(self, 0));
	EXPECT_EQ(NULL, self->sp);
	EXPECT_EQ(1, log_lines);
	EXPECT_NE(NULL, strstr(logged, self->dir)) TH_LOG("%s", logged);
	EXPECT_NE(NULL, strstr(logged, "cannot create")) TH_LOG("%s", logged);
	/* the spool directory itself a file */
	snprintf(self->dir, sizeof(self->dir), "%s", file);
	EXPECT_EQ(-ENOTDIR, spool_open(self, 0));
	/* no directory at all */
	EXPECT_EQ(-EINVAL, agent_spool_open(&none, &self->sp));
	EXPECT_EQ(-EINVAL, agent_spool_open(NULL, &self->sp));
}

TEST_HARNESS_MAIN
