// SPDX-License-Identifier: GPL-2.0-only
/*
 * pprof: a gzip-compressed perftools.profiles.Profile (proto/profile.proto),
 * what `go tool pprof`, pprof -http, Pyroscope, Parca and speedscope read.
 *
 * Ids and string indices are the profile's own (prof.h keeps "" at 0 and
 * 1-based ids, as pprof wants); the strings only the export needs (sample
 * types, label keys, comments) are appended after them.  The encoded
 * message is streamed through zlib, never held whole in memory.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "export.h"
#include "profile.pb-c.h"

#define KERNEL_MAPPING_NAME "[kernel.kallsyms]"

typedef Perftools__Profiles__Profile PbProfile;
typedef Perftools__Profiles__ValueType PbValueType;
typedef Perftools__Profiles__Sample PbSample;
typedef Perftools__Profiles__Label PbLabel;
typedef Perftools__Profiles__Mapping PbMapping;
typedef Perftools__Profiles__Location PbLocation;
typedef Perftools__Profiles__Line PbLine;
typedef Perftools__Profiles__Function PbFunction;

struct pprof_ctx {
	const struct prof *p;
	PbProfile pb;
	size_t strs_cap;
	/* Storage behind pb's pointer arrays. */
	PbValueType value_types[3];
	PbValueType *sample_type_ptrs[2];
	PbSample *samples;
	PbLabel *labels;
	PbLabel **label_ptrs;
	uint64_t *loc_ids;
	int64_t *values;
	size_t nr_labels, nr_loc_ids;
	PbMapping *mappings;
	PbLocation *locations;
	PbLine *lines;
	PbLine **line_ptrs;
	PbFunction *functions;
	int64_t comments[4];
	int64_t key_pid, key_tid, key_thread_name;
};

/* Appends a string the profile does not hold; returns its index or -1. */
static int64_t add_string(struct pprof_ctx *c, const char *s)
{
	PbProfile *pb = &c->pb;

	if (pb->n_string_table == c->strs_cap) {
		size_t ncap = c->strs_cap * 2 + 16;
		char **ns = realloc(pb->string_table, ncap * sizeof(*ns));

		if (!ns)
			return -1;
		pb->string_table = ns;
		c->strs_cap = ncap;
	}
	/* protobuf-c only reads the table: the cast drops a const it keeps. */
	pb->string_table[pb->n_string_table] = (char *)s;
	return (int64_t)pb->n_string_table++;
}

static const char *const sample_names[][3] = {
	/* count type, ns type, period type */
	[PROF_CPU] = { "samples", "cpu", "cpu" },
	[PROF_WALL] = { "samples", "wall", "wall" },
	[PROF_OFFCPU] = { "switches", "offcpu", "switches" },
};

static int build_header(struct pprof_ctx *c, char *comment_buf[3])
{
	const struct prof *p = c->p;
	enum prof_kind kind = prof_get_kind(p);
	PbProfile *pb = &c->pb;
	struct prof_stats st;
	int64_t count_unit, ns_unit;
	int i;

	for (i = 0; i < prof_nr_strings(p); i++) {
		if (add_string(c, prof_str(p, i)) < 0)
			return -ENOMEM;
	}
	count_unit = add_string(c, "count");
	ns_unit = add_string(c, "nanoseconds");
	for (i = 0; i < 3; i++)
		perftools__profiles__value_type__init(&c->value_types[i]);
	c->value_types[0].type = add_string(c, sample_names[kind][0]);
	c->value_types[0].unit = count_unit;
	c->value_types[1].type = add_string(c, sample_names[kind][1]);
	c->value_types[1].unit = ns_unit;
	c->sample_type_ptrs[0] = &c->value_types[0];
	c->sample_type_ptrs[1] = &c->value_types[1];
	pb->sample_type = c->sample_type_ptrs;
	pb->n_sample_type = 2;
	pb->default_sample_type = c->value_types[1].type;

	/* OFFCPU records every switch: the "period" is one switch. */
	if (kind == PROF_OFFCPU) {
		c->value_types[2].type = c->value_types[0].type;
		c->value_types[2].unit = count_unit;
		pb->period = 1;
	} else {
		c->value_types[2].type = c->value_types[1].type;
		c->value_types[2].unit = ns_unit;
		pb->period = (int64_t)prof_get_period(p);
	}
	pb->period_type = &c->value_types[2];
	pb->time_nanos = (int64_t)prof_get_time_nanos(p);
	pb->duration_nanos = (int64_t)prof_get_duration_nanos(p);

	c->key_pid = add_string(c, "pid");
	c->key_tid = add_string(c, "tid");
	c->key_thread_name = add_string(c, "thread_name");

	prof_get_stats(p, &st);
	pb->comment = c->comments;
	if (asprintf(&comment_buf[0], "swprof %s, %s profile", SWPROF_VERSION_STR,
		     prof_kind_name(kind)) < 0) {
		comment_buf[0] = NULL;
		return -ENOMEM;
	}
	c->comments[pb->n_comment++] = add_string(c, comment_buf[0]);
	if (st.lost) {
		if (asprintf(&comment_buf[1], "lost samples: %llu (not in this profile)",
			     (unsigned long long)st.lost) < 0) {
			comment_buf[1] = NULL;
			return -ENOMEM;
		}
		c->comments[pb->n_comment++] = add_string(c, comment_buf[1]);
	}
	if (st.truncated_samples) {
		if (asprintf(&comment_buf[2],
			     "memory cap: %llu samples of new stacks counted as [truncated: memory cap]",
			     (unsigned long long)st.truncated_samples) < 0) {
			comment_buf[2] = NULL;
			return -ENOMEM;
		}
		c->comments[pb->n_comment++] = add_string(c, comment_buf[2]);
	}
	for (i = 0; i < (int)pb->n_comment; i++) {
		if (c->comments[i] < 0)
			return -ENOMEM;
	}
	if (count_unit < 0 || ns_unit < 0 || c->value_types[0].type < 0 ||
	    c->value_types[1].type < 0 || c->key_pid < 0 || c->key_tid < 0 ||
	    c->key_thread_name < 0)
		return -ENOMEM;
	return 0;
}

static int count_sample(const struct prof_sample *s, void *ctx)
{
	struct pprof_ctx *c = ctx;

	c->pb.n_sample++;
	c->nr_loc_ids += s->n;
	if (s->thread)
		c->nr_labels += 3;
	return 0;
}

static int fill_sample(const struct prof_sample *s, void *ctx)
{
	struct pprof_ctx *c = ctx;
	PbSample *ps = &c->samples[c->pb.n_sample];
	struct prof_thread_info t;
	unsigned int i;

	perftools__profiles__sample__init(ps);
	ps->location_id = c->loc_ids + c->nr_loc_ids;
	ps->n_location_id = s->n;
	for (i = 0; i < s->n; i++)
		ps->location_id[i] = (uint64_t)s->locs[i];
	c->nr_loc_ids += s->n;
	ps->value = c->values + 2 * c->pb.n_sample;
	ps->value[0] = (int64_t)s->count;
	ps->value[1] = (int64_t)s->value_ns;
	ps->n_value = 2;
	if (s->thread && !prof_get_thread(c->p, s->thread, &t)) {
		PbLabel *l = c->labels + c->nr_labels;

		ps->label = c->label_ptrs + c->nr_labels;
		for (i = 0; i < 3; i++) {
			perftools__profiles__label__init(&l[i]);
			ps->label[i] = &l[i];
		}
		l[0].key = c->key_pid;
		l[0].num = t.pid;
		l[1].key = c->key_tid;
		l[1].num = t.tid;
		l[2].key = c->key_thread_name;
		l[2].str = t.name;
		/* A nameless thread gets no thread_name label rather than "". */
		ps->n_label = t.name ? 3 : 2;
		c->nr_labels += 3;
	}
	c->pb.sample[c->pb.n_sample++] = ps;
	return 0;
}

static int build_samples(struct pprof_ctx *c)
{
	size_t n;
	int err;

	prof_for_each_sample(c->p, count_sample, c);
	n = c->pb.n_sample;
	c->samples = calloc(n ? n : 1, sizeof(*c->samples));
	c->pb.sample = calloc(n ? n : 1, sizeof(*c->pb.sample));
	c->values = calloc(n ? 2 * n : 1, sizeof(*c->values));
	c->loc_ids = calloc(c->nr_loc_ids ? c->nr_loc_ids : 1, sizeof(*c->loc_ids));
	c->labels = calloc(c->nr_labels ? c->nr_labels : 1, sizeof(*c->labels));
	c->label_ptrs = calloc(c->nr_labels ? c->nr_labels : 1, sizeof(*c->label_ptrs));
	if (!c->samples || !c->pb.sample || !c->values || !c->loc_ids || !c->labels ||
	    !c->label_ptrs)
		return -ENOMEM;
	c->pb.n_sample = 0;
	c->nr_loc_ids = 0;
	c->nr_labels = 0;
	err = prof_for_each_sample(c->p, fill_sample, c);
	return err;
}

struct map_symbolization {
	bool used, functions, filenames, line_numbers, inline_frames;
	uint64_t lo, hi;	/* address range of its located frames */
};

static int build_symbols(struct pprof_ctx *c)
{
	const struct prof *p = c->p;
	int nmaps = prof_nr_mappings(p), nlocs = prof_nr_locations(p);
	int nfuncs = prof_nr_functions(p), kmap = 0, i;
	struct map_symbolization *ms;
	size_t nlines = 0, li = 0;
	PbProfile *pb = &c->pb;
	unsigned int j;

	/* index nmaps + 1: the synthetic kernel mapping, if needed */
	ms = calloc((size_t)nmaps + 2, sizeof(*ms));
	if (!ms)
		return -ENOMEM;
	for (i = 1; i <= nmaps + 1; i++) {
		ms[i].functions = ms[i].filenames = ms[i].line_numbers = true;
		ms[i].lo = UINT64_MAX;
	}
	for (i = 1; i <= nlocs; i++) {
		struct prof_location_info loc;
		struct map_symbolization *m;

		prof_get_location(p, i, &loc);
		nlines += loc.nr_lines;
		if (!loc.mapping && (loc.flags & PROF_LOC_KERNEL))
			kmap = nmaps + 1;
		m = &ms[loc.mapping ? loc.mapping : (loc.flags & PROF_LOC_KERNEL) ? nmaps + 1 : 0];
		m->used = true;
		if (loc.address && loc.address < m->lo)
			m->lo = loc.address;
		if (loc.address && loc.address >= m->hi)
			m->hi = loc.address + 1;
		if (loc.nr_lines > 1)
			m->inline_frames = true;
		for (j = 0; j < loc.nr_lines; j++) {
			struct prof_function_info fn;
			const char *name;

			prof_get_function(p, loc.lines[j].function, &fn);
			name = prof_str(p, fn.name);
			if (!*name || name[0] == '[')
				m->functions = false;
			if (!fn.file)
				m->filenames = false;
			if (loc.lines[j].line <= 0)
				m->line_numbers = false;
		}
	}

	c->mappings = calloc((size_t)nmaps + 1, sizeof(*c->mappings));
	pb->mapping = calloc((size_t)nmaps + 1, sizeof(*pb->mapping));
	c->locations = calloc(nlocs ? (size_t)nlocs : 1, sizeof(*c->locations));
	pb->location = calloc(nlocs ? (size_t)nlocs : 1, sizeof(*pb->location));
	c->lines = calloc(nlines ? nlines : 1, sizeof(*c->lines));
	c->line_ptrs = calloc(nlines ? nlines : 1, sizeof(*c->line_ptrs));
	c->functions = calloc(nfuncs ? (size_t)nfuncs : 1, sizeof(*c->functions));
	pb->function = calloc(nfuncs ? (size_t)nfuncs : 1, sizeof(*pb->function));
	if (!c->mappings || !pb->mapping || !c->locations || !pb->location || !c->lines ||
	    !c->line_ptrs || !c->functions || !pb->function) {
		free(ms);
		return -ENOMEM;
	}

	for (i = 1; i <= nmaps + (kmap ? 1 : 0); i++) {
		PbMapping *m = &c->mappings[i - 1];
		struct prof_mapping_info mi = { 0 };

		perftools__profiles__mapping__init(m);
		m->id = (uint64_t)i;
		if (i == kmap) {
			m->filename = add_string(c, KERNEL_MAPPING_NAME);
			if (m->filename < 0) {
				free(ms);
				return -ENOMEM;
			}
			m->memory_start = ms[i].lo == UINT64_MAX ? 0 : ms[i].lo;
			m->memory_limit = ms[i].hi;
		} else {
			prof_get_mapping(p, i, &mi);
			m->memory_start = mi.start;
			m->memory_limit = mi.limit;
			m->file_offset = mi.offset;
			m->filename = mi.file;
			m->build_id = mi.build_id;
		}
		/* Claim only what every located frame of the mapping has. */
		m->has_functions = ms[i].used && ms[i].functions;
		m->has_filenames = m->has_functions && ms[i].filenames;
		m->has_line_numbers = m->has_functions && ms[i].line_numbers;
		m->has_inline_frames = m->has_functions && ms[i].inline_frames;
		pb->mapping[pb->n_mapping++] = m;
	}

	for (i = 1; i <= nlocs; i++) {
		PbLocation *l = &c->locations[i - 1];
		struct prof_location_info loc;

		prof_get_location(p, i, &loc);
		perftools__profiles__location__init(l);
		l->id = (uint64_t)i;
		l->mapping_id = loc.mapping ? (uint64_t)loc.mapping :
				(loc.flags & PROF_LOC_KERNEL) ? (uint64_t)kmap : 0;
		l->address = loc.address;
		l->line = c->line_ptrs + li;
		for (j = 0; j < loc.nr_lines; j++, li++) {
			PbLine *ln = &c->lines[li];

			perftools__profiles__line__init(ln);
			ln->function_id = (uint64_t)loc.lines[j].function;
			ln->line = loc.lines[j].line;
			c->line_ptrs[li] = ln;
		}
		l->n_line = loc.nr_lines;
		pb->location[pb->n_location++] = l;
	}

	for (i = 1; i <= nfuncs; i++) {
		PbFunction *f = &c->functions[i - 1];
		struct prof_function_info fn;

		prof_get_function(p, i, &fn);
		perftools__profiles__function__init(f);
		f->id = (uint64_t)i;
		f->name = fn.name;
		f->system_name = fn.system_name ? fn.system_name : fn.name;
		f->filename = fn.file;
		f->start_line = fn.start_line;
		pb->function[pb->n_function++] = f;
	}
	free(ms);
	return 0;
}

/* A ProtobufCBuffer that deflates what protobuf-c appends into a FILE. */
struct gz_sink {
	ProtobufCBuffer base;
	z_stream z;
	FILE *f;
	int err;
	unsigned char out[1 << 16];
};

static void gz_run(struct gz_sink *g, int flush)
{
	int ret;

	do {
		g->z.next_out = g->out;
		g->z.avail_out = sizeof(g->out);
		ret = deflate(&g->z, flush);
		if (ret == Z_STREAM_ERROR) {
			g->err = -EIO;
			return;
		}
		if (fwrite(g->out, 1, sizeof(g->out) - g->z.avail_out, g->f) !=
		    sizeof(g->out) - g->z.avail_out) {
			g->err = errno ? -errno : -EIO;
			return;
		}
	} while (g->z.avail_out == 0 || (flush == Z_FINISH && ret != Z_STREAM_END));
}

static void gz_append(ProtobufCBuffer *buf, size_t len, const uint8_t *data)
{
	struct gz_sink *g = (struct gz_sink *)buf;

	while (len && !g->err) {
		uInt chunk = len > (1u << 30) ? 1u << 30 : (uInt)len;

		g->z.next_in = (Bytef *)data;
		g->z.avail_in = chunk;
		gz_run(g, Z_NO_FLUSH);
		data += chunk;
		len -= chunk;
	}
}

static int write_gzip(const PbProfile *pb, FILE *f)
{
	struct gz_sink *g = calloc(1, sizeof(*g));
	int err;

	if (!g)
		return -ENOMEM;
	g->base.append = gz_append;
	g->f = f;
	/* windowBits 15 + 16: a gzip header and trailer, not a zlib one. */
	if (deflateInit2(&g->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		free(g);
		return -ENOMEM;
	}
	perftools__profiles__profile__pack_to_buffer(pb, &g->base);
	if (!g->err) {
		g->z.next_in = NULL;
		g->z.avail_in = 0;
		gz_run(g, Z_FINISH);
	}
	deflateEnd(&g->z);
	err = g->err;
	free(g);
	return err;
}

int prof_export_pprof(const struct prof *p, FILE *f, const struct prof_export_opts *opts)
{
	struct pprof_ctx *c = calloc(1, sizeof(*c));
	char *comments[3] = { NULL, NULL, NULL };
	int err, i;

	if (!c)
		return export_error(opts, -ENOMEM, "cannot build the pprof profile: out of memory");
	c->p = p;
	perftools__profiles__profile__init(&c->pb);
	err = build_header(c, comments);
	if (!err)
		err = build_symbols(c);
	if (!err)
		err = build_samples(c);
	if (err) {
		export_error(opts, err, "cannot build the pprof profile: %s", strerror(-err));
	} else {
		err = write_gzip(&c->pb, f);
		if (err)
			export_error(opts, err, "cannot write the pprof profile: %s", strerror(-err));
	}
	if (!err && EXPORT_OPT(opts, result, NULL)) {
		opts->result->format = PROF_FMT_PPROF;
		opts->result->frames = c->pb.n_sample;
		opts->result->omitted = 0;
	}
	for (i = 0; i < 3; i++)
		free(comments[i]);
	free(c->pb.string_table);
	free(c->samples);
	free(c->pb.sample);
	free(c->values);
	free(c->loc_ids);
	free(c->labels);
	free(c->label_ptrs);
	free(c->mappings);
	free(c->pb.mapping);
	free(c->locations);
	free(c->pb.location);
	free(c->lines);
	free(c->line_ptrs);
	free(c->functions);
	free(c->pb.function);
	free(c);
	return err;
}
