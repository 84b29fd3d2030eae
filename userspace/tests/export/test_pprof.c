// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of the pprof writer: the file is gunzipped and decoded with
 * protobuf-c, checked field by field and against pprof's validity rules,
 * and decoded once more by protoc as a second, independent reader.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "kselftest_harness.h"

#include "export.h"
#include "fixtures/prof/prof_fixture.h"
#include "prof.h"
#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile Profile;

static const char cpu_fixture[] =
	"period 10101010\n"
	"time 1700000000000000000\n"
	"duration 5000000000\n"
	"lost 7\n"
	"mapping app 0x400000 0x500000 0x1000 /usr/bin/app 0123456789abcdef\n"
	"mapping foo 0x7f0000000000 0x7f0000100000 0 /usr/lib/libfoo.so\n"
	"thread w1 42 43 worker\n"
	"thread w2 42 44\n"
	/* run>helper: helper inlined into run, one location, two lines */
	"sample 3 0 thread=w1 main|app.c|10@app+0x401000;run|app.c|20>helper|util.h|5@app+0x402000;leaf|app.c|30@app+0x403000\n"
	"sample 2 0 thread=w2 main|app.c|10@app+0x401000;[MISSING] libfoo.so@foo+0x7f0000001000\n"
	"sample 1 0 thread=w1 main|app.c|10@app+0x401000;k:entry_SYSCALL_64@+0xffffffff81000000;k:sys_read\n";

struct decoded {
	Profile *pb;
	uint8_t *raw;
};

static int gunzip_file(const char *path, uint8_t **out, size_t *len)
{
	gzFile gz = gzopen(path, "rb");
	size_t cap = 1 << 16;
	uint8_t *buf;
	int n;

	if (!gz)
		return -errno;
	buf = malloc(cap);
	*len = 0;
	while (buf && (n = gzread(gz, buf + *len, (unsigned int)(cap - *len))) > 0) {
		*len += (size_t)n;
		if (*len == cap) {
			uint8_t *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	gzclose(gz);
	*out = buf;
	return buf ? 0 : -ENOMEM;
}

/* The gzip magic, then a Profile message. */
static Profile *decode(const char *path)
{
	uint8_t *raw = NULL, magic[2];
	Profile *pb;
	size_t len = 0;
	FILE *f = fopen(path, "rb");

	if (!f || fread(magic, 1, 2, f) != 2 || magic[0] != 0x1f || magic[1] != 0x8b) {
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);
	if (gunzip_file(path, &raw, &len))
		return NULL;
	pb = perftools__profiles__profile__unpack(NULL, len, raw);
	free(raw);
	return pb;
}

static const char *str(const Profile *pb, int64_t i)
{
	return i >= 0 && (size_t)i < pb->n_string_table ? pb->string_table[i] : "<bad index>";
}

static const Perftools__Profiles__Location *location(const Profile *pb, uint64_t id)
{
	size_t i;

	for (i = 0; i < pb->n_location; i++) {
		if (pb->location[i]->id == id)
			return pb->location[i];
	}
	return NULL;
}

static const Perftools__Profiles__Function *function(const Profile *pb, uint64_t id)
{
	size_t i;

	for (i = 0; i < pb->n_function; i++) {
		if (pb->function[i]->id == id)
			return pb->function[i];
	}
	return NULL;
}

static const Perftools__Profiles__Mapping *mapping(const Profile *pb, uint64_t id)
{
	size_t i;

	for (i = 0; i < pb->n_mapping; i++) {
		if (pb->mapping[i]->id == id)
			return pb->mapping[i];
	}
	return NULL;
}

static const char *leaf_name(const Profile *pb, const Perftools__Profiles__Sample *s)
{
	const Perftools__Profiles__Location *l = location(pb, s->location_id[0]);

	return l && l->n_line ? str(pb, function(pb, l->line[0]->function_id)->name) : NULL;
}

/* pprof's own validity rules (profile.CheckValid), what viewers enforce. */
static const char *invalid(const Profile *pb)
{
	size_t i, j;

	if (!pb->n_string_table || pb->string_table[0][0])
		return "string_table[0] is not \"\"";
	for (i = 0; i < pb->n_sample; i++) {
		const Perftools__Profiles__Sample *s = pb->sample[i];

		if (s->n_value != pb->n_sample_type)
			return "sample value count differs from sample_type count";
		for (j = 0; j < s->n_location_id; j++) {
			if (!s->location_id[j] || !location(pb, s->location_id[j]))
				return "sample names a missing location";
		}
		for (j = 0; j < s->n_label; j++) {
			if ((size_t)s->label[j]->key >= pb->n_string_table)
				return "label key out of the string table";
		}
	}
	for (i = 0; i < pb->n_mapping; i++) {
		if (!pb->mapping[i]->id || mapping(pb, pb->mapping[i]->id) != pb->mapping[i])
			return "mapping id zero or repeated";
	}
	for (i = 0; i < pb->n_function; i++) {
		const Perftools__Profiles__Function *f = pb->function[i];

		if (!f->id || function(pb, f->id) != f)
			return "function id zero or repeated";
		if ((size_t)f->name >= pb->n_string_table ||
		    (size_t)f->filename >= pb->n_string_table)
			return "function string out of the table";
	}
	for (i = 0; i < pb->n_location; i++) {
		const Perftools__Profiles__Location *l = pb->location[i];

		if (!l->id || location(pb, l->id) != l)
			return "location id zero or repeated";
		if (l->mapping_id && !mapping(pb, l->mapping_id))
			return "location names a missing mapping";
		for (j = 0; j < l->n_line; j++) {
			if (!function(pb, l->line[j]->function_id))
				return "line names a missing function";
		}
	}
	return NULL;
}

static char *export_tmp(const struct prof *p, char *dir, size_t dirsz)
{
	char *path = NULL;

	snprintf(dir, dirsz, "/tmp/swprof-pprof-XXXXXX");
	if (!mkdtemp(dir) || asprintf(&path, "%s/cpu.pb.gz", dir) < 0)
		return NULL;
	if (prof_export(p, path, NULL)) {
		free(path);
		return NULL;
	}
	return path;
}

static void cleanup(char *path, const char *dir)
{
	if (path)
		unlink(path);
	rmdir(dir);
	free(path);
}

TEST(pprof_cpu_profile_decodes_field_by_field)
{
	const Perftools__Profiles__Mapping *app, *foo, *kmap;
	const Perftools__Profiles__Location *l;
	const Perftools__Profiles__Sample *s;
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	char dir[64], *path;
	bool seen_lost = false, seen_version = false;
	Profile *pb;
	size_t i;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, fx_apply(p, cpu_fixture));
	path = export_tmp(p, dir, sizeof(dir));
	ASSERT_NE(NULL, path);
	pb = decode(path);
	ASSERT_NE(NULL, pb);
	EXPECT_NULL(invalid(pb));

	EXPECT_STREQ("", pb->string_table[0]);
	ASSERT_EQ(2u, pb->n_sample_type);
	EXPECT_STREQ("samples", str(pb, pb->sample_type[0]->type));
	EXPECT_STREQ("count", str(pb, pb->sample_type[0]->unit));
	EXPECT_STREQ("cpu", str(pb, pb->sample_type[1]->type));
	EXPECT_STREQ("nanoseconds", str(pb, pb->sample_type[1]->unit));
	EXPECT_STREQ("cpu", str(pb, pb->default_sample_type));
	ASSERT_NE(NULL, pb->period_type);
	EXPECT_STREQ("cpu", str(pb, pb->period_type->type));
	EXPECT_STREQ("nanoseconds", str(pb, pb->period_type->unit));
	EXPECT_EQ(10101010, pb->period);
	EXPECT_EQ(1700000000000000000, pb->time_nanos);
	EXPECT_EQ(5000000000, pb->duration_nanos);
	for (i = 0; i < pb->n_comment; i++) {
		seen_lost |= !strcmp(str(pb, pb->comment[i]), "lost samples: 7 (not in this profile)");
		seen_version |= !strncmp(str(pb, pb->comment[i]), "swprof ", 7);
	}
	EXPECT_TRUE(seen_lost);
	EXPECT_TRUE(seen_version);

	/* Samples in insertion order, values = count, count * period. */
	ASSERT_EQ(3u, pb->n_sample);
	s = pb->sample[0];
	ASSERT_EQ(2u, s->n_value);
	EXPECT_EQ(3, s->value[0]);
	EXPECT_EQ(3 * 10101010, s->value[1]);
	ASSERT_EQ(3u, s->n_location_id);
	EXPECT_STREQ("leaf", leaf_name(pb, s));
	ASSERT_EQ(3u, s->n_label);
	EXPECT_STREQ("pid", str(pb, s->label[0]->key));
	EXPECT_EQ(42, s->label[0]->num);
	EXPECT_STREQ("tid", str(pb, s->label[1]->key));
	EXPECT_EQ(43, s->label[1]->num);
	EXPECT_STREQ("thread_name", str(pb, s->label[2]->key));
	EXPECT_STREQ("worker", str(pb, s->label[2]->str));
	/* A thread without a name has no thread_name label. */
	EXPECT_EQ(2u, pb->sample[1]->n_label);
	EXPECT_EQ(44, pb->sample[1]->label[1]->num);

	/* Inline frames: one location, lines innermost first. */
	l = location(pb, s->location_id[1]);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(0x402000u, l->address);
	ASSERT_EQ(2u, l->n_line);
	EXPECT_STREQ("helper", str(pb, function(pb, l->line[0]->function_id)->name));
	EXPECT_STREQ("util.h", str(pb, function(pb, l->line[0]->function_id)->filename));
	EXPECT_EQ(5, l->line[0]->line);
	EXPECT_STREQ("run", str(pb, function(pb, l->line[1]->function_id)->name));
	EXPECT_EQ(20, l->line[1]->line);

	/* Mappings: build-id, and has_* only where every frame has it. */
	app = mapping(pb, l->mapping_id);
	ASSERT_NE(NULL, app);
	EXPECT_STREQ("/usr/bin/app", str(pb, app->filename));
	EXPECT_STREQ("0123456789abcdef", str(pb, app->build_id));
	EXPECT_EQ(0x400000u, app->memory_start);
	EXPECT_EQ(0x500000u, app->memory_limit);
	EXPECT_EQ(0x1000u, app->file_offset);
	EXPECT_TRUE(app->has_functions);
	EXPECT_TRUE(app->has_filenames);
	EXPECT_TRUE(app->has_line_numbers);
	EXPECT_TRUE(app->has_inline_frames);
	l = location(pb, pb->sample[1]->location_id[0]);
	ASSERT_NE(NULL, l);
	foo = mapping(pb, l->mapping_id);
	ASSERT_NE(NULL, foo);
	EXPECT_STREQ("/usr/lib/libfoo.so", str(pb, foo->filename));
	EXPECT_STREQ("", str(pb, foo->build_id));
	EXPECT_FALSE(foo->has_functions);
	EXPECT_FALSE(foo->has_filenames);
	EXPECT_FALSE(foo->has_line_numbers);

	/* Kernel frames without a mapping get a [kernel.kallsyms] one. */
	s = pb->sample[2];
	ASSERT_EQ(3u, s->n_location_id);
	EXPECT_STREQ("sys_read", leaf_name(pb, s));
	l = location(pb, s->location_id[0]);
	kmap = mapping(pb, l->mapping_id);
	ASSERT_NE(NULL, kmap);
	EXPECT_STREQ("[kernel.kallsyms]", str(pb, kmap->filename));
	EXPECT_TRUE(kmap->has_functions);
	EXPECT_FALSE(kmap->has_filenames);

	perftools__profiles__profile__free_unpacked(pb, NULL);
	cleanup(path, dir);
	prof_free(p);
}

TEST(pprof_sample_types_follow_the_mode)
{
	static const struct {
		enum prof_kind kind;
		const char *count, *ns, *period;
	} modes[] = {
		{ PROF_WALL, "samples", "wall", "wall" },
		{ PROF_OFFCPU, "switches", "offcpu", "switches" },
	};
	size_t m;

	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		PROF_OPTS(opts, .period = 1000000);
		struct prof *p = fx_prof_new(modes[m].kind, &opts);
		char dir[64], *path;
		Profile *pb;

		ASSERT_NE(NULL, p);
		ASSERT_EQ(0, fx_apply(p, "sample 4 12345 main;k:schedule\n"));
		path = export_tmp(p, dir, sizeof(dir));
		ASSERT_NE(NULL, path);
		pb = decode(path);
		ASSERT_NE(NULL, pb);
		EXPECT_NULL(invalid(pb));
		EXPECT_STREQ(modes[m].count, str(pb, pb->sample_type[0]->type));
		EXPECT_STREQ("count", str(pb, pb->sample_type[0]->unit));
		EXPECT_STREQ(modes[m].ns, str(pb, pb->sample_type[1]->type));
		EXPECT_STREQ("nanoseconds", str(pb, pb->sample_type[1]->unit));
		EXPECT_STREQ(modes[m].period, str(pb, pb->period_type->type));
		EXPECT_EQ(modes[m].kind == PROF_OFFCPU ? 1 : 1000000, pb->period);
		ASSERT_EQ(1u, pb->n_sample);
		EXPECT_EQ(4, pb->sample[0]->value[0]);
		EXPECT_EQ(12345, pb->sample[0]->value[1]);
		perftools__profiles__profile__free_unpacked(pb, NULL);
		cleanup(path, dir);
		prof_free(p);
	}
}

TEST(pprof_large_profile_streams)
{
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	struct prof_stats st;
	char dir[64], *path;
	uint64_t sum = 0;
	Profile *pb;
	int i, s[20], j;
	size_t k;

	ASSERT_NE(NULL, p);
	for (i = 0; i < 20000; i++) {
		for (j = 0; j < 20; j++) {
			char name[32];
			struct prof_function f = { .name = name };
			struct prof_line l;
			struct prof_location lo = { .lines = &l, .nr_lines = 1 };

			snprintf(name, sizeof(name), "fn_%d", (i * 7 + j * 13) % 997);
			l.function = prof_function(p, &f);
			l.line = j;
			lo.address = 0x1000 + (uint64_t)((i * 31 + j) % 5000) * 4;
			s[j] = prof_location(p, &lo);
		}
		ASSERT_EQ(0, prof_add_sample(p, s, 20, (uint64_t)(i % 5 + 1), 0));
	}
	prof_get_stats(p, &st);
	path = export_tmp(p, dir, sizeof(dir));
	ASSERT_NE(NULL, path);
	pb = decode(path);
	ASSERT_NE(NULL, pb);
	EXPECT_NULL(invalid(pb));
	EXPECT_EQ((size_t)st.stacks, pb->n_sample);
	for (k = 0; k < pb->n_sample; k++)
		sum += (uint64_t)pb->sample[k]->value[0];
	EXPECT_EQ(st.samples, sum);
	perftools__profiles__profile__free_unpacked(pb, NULL);
	cleanup(path, dir);
	prof_free(p);
}

/* A second reader: protoc's text decoder, from the .proto of this tree. */
TEST(pprof_decodes_with_protoc)
{
	struct prof *p = fx_prof_new(PROF_CPU, NULL);
	char dir[64], *path, *cmd, line[512];
	int seen_main = 0, seen_build_id = 0, seen_types = 0, seen_inline = 0, status;
	FILE *f;

	if (system("command -v protoc >/dev/null 2>&1") != 0 || access("proto/profile.proto", R_OK))
		SKIP(return, "protoc or proto/profile.proto not found (run from the repo top)");
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, fx_apply(p, cpu_fixture));
	path = export_tmp(p, dir, sizeof(dir));
	ASSERT_NE(NULL, path);
	ASSERT_LT(0, asprintf(&cmd, "gunzip -c '%s' | protoc --decode=perftools.profiles.Profile "
			      "--proto_path=proto proto/profile.proto 2>&1", path));
	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		seen_main |= !strcmp(line, "string_table: \"main\"\n");
		seen_build_id |= !strcmp(line, "string_table: \"0123456789abcdef\"\n");
		seen_types |= !strcmp(line, "sample_type {\n");
		/* a location with two lines prints "line {" twice in a row */
		if (!strcmp(line, "  line {\n"))
			seen_inline++;
	}
	status = pclose(f);
	EXPECT_EQ(0, status);
	EXPECT_TRUE(seen_main);
	EXPECT_TRUE(seen_build_id);
	EXPECT_TRUE(seen_types);
	EXPECT_GT(seen_inline, 6);	/* 6 locations, one of them with 2 lines */
	free(cmd);
	cleanup(path, dir);
	prof_free(p);
}

TEST_HARNESS_MAIN
