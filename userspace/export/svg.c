// SPDX-License-Identifier: GPL-2.0-only
/*
 * A self-contained interactive SVG flame graph, in the spirit of Brendan
 * Gregg's flamegraph.pl but written from scratch: one <g class="f"> per
 * frame (title, rect, text), widths proportional to the chosen value,
 * root at the bottom (or top: icicle).  The embedded script zooms on
 * click, searches (button, Ctrl-F, or ?s= in the URL), and fits labels.
 *
 * Each frame carries its exact position in value units (fg:o offset, fg:v
 * width): the script derives pixels from them, so zooming deep into large
 * profiles loses no precision to rounded coordinates.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"

#define XPAD 10
#define FRAME_H 16
#define FONT_PX 12
#define CHAR_PX 7.2	/* advance of a 12px monospace glyph */
#define TOP_PAD 64	/* title, subtitle, buttons */
#define BOTTOM_PAD 34	/* details line */

struct svg {
	const struct prof *p;
	FILE *f;
	struct flame fl;
	int ns;			/* widths are ns, not counts */
	int icicle;
	unsigned int width, height;
	double min_width, scale;
	uint64_t total;
	uint64_t drawn, omitted;
	uint32_t depth;		/* deepest drawn frame */
	char name[4096];
};

/* XML text: escapes markup, replaces bytes that are not valid UTF-8. */
static void put_xml(FILE *f, const char *s, size_t max_chars)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t chars = 0;

	while (*u && chars < max_chars) {
		int len = *u < 0x80 ? 1 : (*u & 0xe0) == 0xc0 ? 2 : (*u & 0xf0) == 0xe0 ? 3 :
			  (*u & 0xf8) == 0xf0 ? 4 : 0;
		int i;

		for (i = 1; i < len; i++) {
			if ((u[i] & 0xc0) != 0x80)
				len = 0;
		}
		chars++;
		if (!len) {
			fputc('?', f);
			u++;
			continue;
		}
		switch (*u) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fwrite(u, 1, (size_t)len, f);
		}
		u += len;
	}
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* "1,234,567" */
static const char *fmt_count(uint64_t v, char *buf, size_t size)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v), i, o = 0;

	for (i = 0; i < len && (size_t)o + 2 < size; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = 0;
	return buf;
}

/* "12.3 ms", "5510 s": three digits, never an exponent */
static const char *fmt_ns(uint64_t ns, char *buf, size_t size)
{
	if (ns >= 1000000000000ULL)
		snprintf(buf, size, "%.0f s", (double)ns / 1e9);
	else if (ns >= 1000000000ULL)
		snprintf(buf, size, "%.3g s", (double)ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, size, "%.3g ms", (double)ns / 1e6);
	else if (ns >= 1000)
		snprintf(buf, size, "%.3g us", (double)ns / 1e3);
	else
		snprintf(buf, size, "%llu ns", (unsigned long long)ns);
	return buf;
}

static const char *count_unit(enum prof_kind kind)
{
	return kind == PROF_OFFCPU ? "switches" : "samples";
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Kernel orange, user warm by name, unresolved grey, threads lavender. */
static void frame_color(const struct flame_node *n, const char *name, int rgb[3])
{
	uint32_t h = name_hash(name);
	double v1 = (h & 0xff) / 255.0, v2 = (h >> 8 & 0xff) / 255.0;
	double v3 = (h >> 16 & 0xff) / 255.0;

	if (n->flags & FLAME_MISSING) {
		rgb[0] = rgb[1] = rgb[2] = 170 + (int)(30 * v1);
	} else if (n->kind == FLAME_KERNEL) {
		rgb[0] = 240 + (int)(15 * v1);
		rgb[1] = 125 + (int)(30 * v2);
		rgb[2] = 20 + (int)(30 * v3);
	} else if (n->kind == FLAME_THREAD) {
		rgb[0] = 160 + (int)(30 * v1);
		rgb[1] = 150 + (int)(30 * v2);
		rgb[2] = 225 + (int)(25 * v3);
	} else {
		/* Reds and yellows; the orange band between is the kernel's. */
		rgb[0] = 205 + (int)(50 * v1);
		rgb[1] = v2 < 0.5 ? (int)(160 * v2) : 190 + (int)(80 * (v2 - 0.5));
		rgb[2] = (int)(55 * v3);
	}
}

static void put_frame(struct svg *s, const struct flame_node *n, uint64_t off)
{
	enum prof_kind kind = prof_get_kind(s->p);
	uint64_t v = flame_metric(n, s->ns);
	double x = XPAD + (double)off * s->scale, w = (double)v * s->scale;
	const char *name = flame_name(&s->fl, n, s->name, sizeof(s->name));
	int y, rgb[3], fit;
	char a[48], b[48];

	y = s->icicle ? TOP_PAD + (int)n->depth * FRAME_H :
			(int)s->height - BOTTOM_PAD - ((int)n->depth + 1) * FRAME_H;
	frame_color(n, name, rgb);
	fprintf(s->f, "<g class=\"f\" fg:o=\"%llu\" fg:v=\"%llu\"><title>",
		(unsigned long long)off, (unsigned long long)v);
	put_xml(s->f, name, SIZE_MAX);
	/* Line 1 is the name (the script reads it back), line 2 the numbers. */
	if (s->ns)
		fprintf(s->f, "\n%s (%.2f%%), %s %s", fmt_ns(n->value, a, sizeof(a)),
			100.0 * (double)v / (double)s->total, fmt_count(n->count, b, sizeof(b)),
			count_unit(kind));
	else
		fprintf(s->f, "\n%s %s (%.2f%%)", fmt_count(n->count, a, sizeof(a)),
			count_unit(kind), 100.0 * (double)v / (double)s->total);
	if (!s->ns && n->value)
		fprintf(s->f, ", %s", fmt_ns(n->value, b, sizeof(b)));
	if (n->kind == FLAME_KERNEL)
		fputs("\nkernel", s->f);
	else if (n->kind == FLAME_THREAD)
		fputs("\nthread", s->f);
	if (n->flags & FLAME_INLINED)
		fputs("\ninlined", s->f);
	fprintf(s->f, "</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
		"fill=\"rgb(%d,%d,%d)\" rx=\"2\" ry=\"2\"/><text x=\"%.2f\" y=\"%d\">",
		x, y, w, FRAME_H - 1, rgb[0], rgb[1], rgb[2], x + 3, y + FRAME_H - 5);
	/* Readable without the script too: the same fitting rule as fit(). */
	fit = (int)((w - 6) / CHAR_PX);
	if (fit >= 3) {
		if (utf8_chars(name) <= (size_t)fit) {
			put_xml(s->f, name, SIZE_MAX);
		} else {
			put_xml(s->f, name, (size_t)fit - 2);
			fputs("..", s->f);
		}
	}
	fputs("</text></g>\n", s->f);
}

/* Walks the tree twice: once to size the image, once to draw. */
static int walk(struct svg *s, bool draw)
{
	struct flame *fl = &s->fl;
	uint64_t *cursor;
	uint32_t cur = 0;

	cursor = calloc((size_t)fl->max_depth + 2, sizeof(*cursor));
	if (!cursor)
		return -ENOMEM;
	while (1) {
		const struct flame_node *n = &fl->nodes[cur];
		uint64_t off = cursor[n->depth];
		bool visible = (double)flame_metric(n, s->ns) * s->scale >= s->min_width;

		cursor[n->depth] += flame_metric(n, s->ns);
		cursor[n->depth + 1] = off;
		if (visible) {
			if (draw) {
				put_frame(s, n, off);
				s->drawn++;
			} else if (n->depth > s->depth) {
				s->depth = n->depth;
			}
		} else if (draw) {
			s->omitted++;
		}
		if (visible && n->first_child) {
			cur = n->first_child;
			continue;
		}
		while (cur && !fl->nodes[cur].next_sibling)
			cur = fl->nodes[cur].parent;
		if (!cur)
			break;
		cur = fl->nodes[cur].next_sibling;
	}
	free(cursor);
	return 0;
}

/* Counts the frames of skipped subtrees too, as "omitted". */
static uint64_t subtree_size(const struct flame *fl, uint32_t idx)
{
	uint64_t n = 1;
	uint32_t c;

	for (c = fl->nodes[idx].first_child; c; c = fl->nodes[c].next_sibling)
		n += subtree_size(fl, c);
	return n;
}

static const char script[] =
"\"use strict\";\n"
"var frames = [], zoomed = null, term = null, full, details, matched, unzoomBtn, searchBtn;\n"
"function $(id) { return document.getElementById(id); }\n"
"function init() {\n"
"  var gs = $(\"frames\").getElementsByTagName(\"g\");\n"
"  full = fg.width - 2 * fg.pad;\n"
"  details = $(\"details\").firstChild; matched = $(\"matched\").firstChild;\n"
"  unzoomBtn = $(\"unzoom\"); searchBtn = $(\"search\");\n"
"  for (var i = 0; i < gs.length; i++) {\n"
"    var g = gs[i], lines = g.getElementsByTagName(\"title\")[0].textContent.split(\"\\n\");\n"
"    var r = g.getElementsByTagName(\"rect\")[0], y = +r.getAttribute(\"y\");\n"
"    g.fgIndex = i;\n"
"    frames.push({ g: g, r: r, t: g.getElementsByTagName(\"text\")[0], name: lines[0],\n"
"      info: lines.slice(1).join(\", \"), o: +g.getAttribute(\"fg:o\"), v: +g.getAttribute(\"fg:v\"),\n"
"      fill: r.getAttribute(\"fill\"), w: +r.getAttribute(\"width\"),\n"
"      depth: Math.round(fg.icicle ? (y - fg.top) / fg.fh : (fg.base - y) / fg.fh - 1) });\n"
"  }\n"
"  var box = $(\"frames\");\n"
"  box.addEventListener(\"click\", function (e) { var f = frameOf(e.target); if (f) zoom(f); });\n"
"  box.addEventListener(\"mouseover\", function (e) {\n"
"    var f = frameOf(e.target); if (f) details.nodeValue = f.name + \" (\" + f.info + \")\"; });\n"
"  box.addEventListener(\"mouseout\", function () { details.nodeValue = \" \"; });\n"
"  unzoomBtn.addEventListener(\"click\", function () { unzoom(); saveState(); });\n"
"  searchBtn.addEventListener(\"click\", function () { if (term !== null) clearSearch(); else ask(); });\n"
"  window.addEventListener(\"keydown\", function (e) {\n"
"    if ((e.ctrlKey || e.metaKey) && (e.key === \"f\" || e.key === \"F\")) { e.preventDefault(); ask(); }\n"
"    else if (e.key === \"/\") { e.preventDefault(); ask(); }\n"
"    else if (e.key === \"Escape\") { clearSearch(); unzoom(); saveState(); }\n"
"  });\n"
"  var q = parseQuery();\n"
"  if (q.x !== undefined && q.d !== undefined) {\n"
"    for (i = 0; i < frames.length; i++) {\n"
"      var f = frames[i];\n"
"      if (f.depth == +q.d && f.o <= +q.x && +q.x < f.o + f.v) { zoom(f); break; }\n"
"    }\n"
"  }\n"
"  if (q.s) search(q.s);\n"
"  fitAll();\n"
"}\n"
"function parseQuery() {\n"
"  var q = {}, s = window.location.search.substring(1).split(\"&\");\n"
"  for (var i = 0; i < s.length; i++) {\n"
"    var kv = s[i].split(\"=\");\n"
"    if (kv[0]) q[decodeURIComponent(kv[0])] = decodeURIComponent((kv[1] || \"\").replace(/\\+/g, \" \"));\n"
"  }\n"
"  return q;\n"
"}\n"
"function saveState() {\n"
"  var p = [];\n"
"  if (zoomed) p.push(\"x=\" + zoomed.o, \"d=\" + zoomed.depth);\n"
"  if (term !== null) p.push(\"s=\" + encodeURIComponent(term));\n"
"  try { history.replaceState(null, \"\", window.location.pathname + (p.length ? \"?\" + p.join(\"&\") : \"\")); } catch (e) { }\n"
"}\n"
"function frameOf(el) {\n"
"  while (el && el.fgIndex === undefined) el = el.parentNode;\n"
"  return el ? frames[el.fgIndex] : null;\n"
"}\n"
"function place(f, x, w) {\n"
"  f.r.setAttribute(\"x\", x.toFixed(2)); f.r.setAttribute(\"width\", w.toFixed(2));\n"
"  f.t.setAttribute(\"x\", (x + 3).toFixed(2)); f.w = w;\n"
"}\n"
"function fit(f) {\n"
"  var n = Math.floor((f.w - 6) / fg.charPx), s = f.name;\n"
"  f.t.textContent = n < 3 ? \"\" : s.length <= n ? s : s.substring(0, n - 2) + \"..\";\n"
"}\n"
"function fitAll() { for (var i = 0; i < frames.length; i++) fit(frames[i]); }\n"
"function zoom(z) {\n"
"  var scale = full / z.v;\n"
"  for (var i = 0; i < frames.length; i++) {\n"
"    var f = frames[i], cls = \"f\";\n"
"    if (f.depth < z.depth && f.o <= z.o && f.o + f.v >= z.o + z.v) {\n"
"      place(f, fg.pad, full); cls = \"f parent\";\n"
"    } else if (f.depth >= z.depth && f.o >= z.o && f.o + f.v <= z.o + z.v) {\n"
"      place(f, fg.pad + (f.o - z.o) * scale, f.v * scale);\n"
"    } else {\n"
"      cls = \"f hide\";\n"
"    }\n"
"    f.g.setAttribute(\"class\", cls);\n"
"    fit(f);\n"
"  }\n"
"  zoomed = z.depth > 0 ? z : null;\n"
"  unzoomBtn.setAttribute(\"class\", zoomed ? \"button\" : \"button hide\");\n"
"  saveState();\n"
"}\n"
"function unzoom() {\n"
"  var scale = full / fg.total;\n"
"  for (var i = 0; i < frames.length; i++) {\n"
"    var f = frames[i];\n"
"    place(f, fg.pad + f.o * scale, f.v * scale);\n"
"    f.g.setAttribute(\"class\", \"f\");\n"
"    fit(f);\n"
"  }\n"
"  zoomed = null;\n"
"  unzoomBtn.setAttribute(\"class\", \"button hide\");\n"
"}\n"
"function ask() {\n"
"  var s = window.prompt(\"Search frames (regular expression)\", term === null ? \"\" : term);\n"
"  if (s) search(s); else if (s !== null) clearSearch();\n"
"}\n"
"function search(s) {\n"
"  var re, hits = [], sum = 0, end = -1, i;\n"
"  try { re = new RegExp(s); } catch (e) { re = new RegExp(s.replace(/[.*+?^${}()|[\\]\\\\]/g, \"\\\\$&\")); }\n"
"  for (i = 0; i < frames.length; i++) {\n"
"    var f = frames[i];\n"
"    if (re.test(f.name)) { f.r.setAttribute(\"fill\", fg.matchFill); hits.push(f); }\n"
"    else f.r.setAttribute(\"fill\", f.fill);\n"
"  }\n"
"  // Nested matches (recursion) count once: outermost first, by offset.\n"
"  hits.sort(function (a, b) { return a.o - b.o || a.depth - b.depth; });\n"
"  for (i = 0; i < hits.length; i++) {\n"
"    if (hits[i].o >= end) { sum += hits[i].v; end = hits[i].o + hits[i].v; }\n"
"  }\n"
"  term = s;\n"
"  searchBtn.firstChild.nodeValue = \"Reset Search\";\n"
"  matched.nodeValue = \"Matched: \" + (100 * sum / fg.total).toFixed(1) + \"% (\" + hits.length + \" frames)\";\n"
"  saveState();\n"
"  return hits.length;\n"
"}\n"
"function clearSearch() {\n"
"  for (var i = 0; i < frames.length; i++) frames[i].r.setAttribute(\"fill\", frames[i].fill);\n"
"  term = null;\n"
"  searchBtn.firstChild.nodeValue = \"Search\";\n"
"  matched.nodeValue = \" \";\n"
"  saveState();\n"
"}\n";

static void put_header(struct svg *s, const struct prof_export_opts *opts)
{
	static const char *const titles[] = {
		[PROF_CPU] = "CPU flame graph",
		[PROF_WALL] = "Wall-clock flame graph",
		[PROF_OFFCPU] = "Off-CPU flame graph",
	};
	enum prof_kind kind = prof_get_kind(s->p);
	const char *title = EXPORT_OPT(opts, title, titles[kind]);
	const char *extra = EXPORT_OPT(opts, subtitle, NULL);
	uint64_t period = prof_get_period(s->p), dur = prof_get_duration_nanos(s->p);
	const struct flame_node *root = &s->fl.nodes[0];
	struct prof_stats st;
	char a[48], b[48];

	prof_get_stats(s->p, &st);
	fprintf(s->f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" "
		"xmlns:fg=\"urn:swprof:flamegraph\" width=\"%u\" height=\"%u\" "
		"viewBox=\"0 0 %u %u\" onload=\"init()\">\n",
		s->width, s->height, s->width, s->height);
	fprintf(s->f,
		"<defs><linearGradient id=\"bg\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">"
		"<stop offset=\"5%%\" stop-color=\"#f2f2f2\"/>"
		"<stop offset=\"95%%\" stop-color=\"#f2f0c8\"/></linearGradient></defs>\n"
		"<style type=\"text/css\">\n"
		"text { font-family: monospace; font-size: %dpx; fill: #000; }\n"
		"#title { font-size: 17px; text-anchor: middle; }\n"
		"#subtitle { fill: #555; text-anchor: middle; }\n"
		"#search, #matched { text-anchor: end; }\n"
		".button { cursor: pointer; fill: #336; text-decoration: underline; }\n"
		".f { cursor: pointer; }\n"
		".f:hover rect { stroke: #000; stroke-width: 0.5; }\n"
		".f text { pointer-events: none; }\n"
		".parent { opacity: 0.5; }\n"
		".hide { display: none; }\n"
		"</style>\n", FONT_PX);
	fprintf(s->f,
		"<script type=\"text/ecmascript\"><![CDATA[\n"
		"var fg = { width: %u, pad: %d, fh: %d, top: %d, base: %d, icicle: %d, "
		"charPx: %.1f, total: %llu, matchFill: \"rgb(230,0,230)\" };\n%s]]></script>\n",
		s->width, XPAD, FRAME_H, TOP_PAD, s->height - BOTTOM_PAD, s->icicle, CHAR_PX,
		(unsigned long long)s->total, script);
	fprintf(s->f, "<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%u\" fill=\"url(#bg)\"/>\n",
		s->width, s->height);
	fprintf(s->f, "<text id=\"title\" x=\"%u\" y=\"24\">", s->width / 2);
	put_xml(s->f, title, SIZE_MAX);
	fprintf(s->f, "</text>\n<text id=\"subtitle\" x=\"%u\" y=\"44\">%s", s->width / 2,
		prof_kind_name(kind));
	if (dur)
		fprintf(s->f, " \xc2\xb7 %s", fmt_ns(dur, a, sizeof(a)));
	if (period && kind != PROF_OFFCPU)
		fprintf(s->f, " \xc2\xb7 %.4g Hz", 1e9 / (double)period);
	fprintf(s->f, " \xc2\xb7 %s %s", fmt_count(root->count, a, sizeof(a)), count_unit(kind));
	if (root->value)
		fprintf(s->f, " (%s)", fmt_ns(root->value, b, sizeof(b)));
	fprintf(s->f, " \xc2\xb7 %s lost", fmt_count(st.lost, a, sizeof(a)));
	if (st.truncated_samples)
		fprintf(s->f, " \xc2\xb7 %s truncated by the memory cap",
			fmt_count(st.truncated_samples, a, sizeof(a)));
	if (s->omitted)
		fprintf(s->f, " \xc2\xb7 %s frames under %.2g px not drawn",
			fmt_count(s->omitted, a, sizeof(a)), s->min_width);
	if (extra) {
		fputs(" \xc2\xb7 ", s->f);
		put_xml(s->f, extra, SIZE_MAX);
	}
	fprintf(s->f, "</text>\n"
		"<text id=\"unzoom\" class=\"button hide\" x=\"%d\" y=\"24\">Reset Zoom</text>\n"
		"<text id=\"search\" class=\"button\" x=\"%u\" y=\"24\">Search</text>\n"
		"<text id=\"details\" x=\"%d\" y=\"%u\"> </text>\n"
		"<text id=\"matched\" x=\"%u\" y=\"%u\"> </text>\n",
		XPAD, s->width - XPAD, XPAD, s->height - 12, s->width - XPAD, s->height - 12);
	if (!s->total)
		fprintf(s->f, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\">No samples</text>\n",
			s->width / 2, TOP_PAD + FRAME_H);
}

int prof_export_svg(const struct prof *p, FILE *f, const struct prof_export_opts *opts)
{
	enum prof_value value = EXPORT_OPT(opts, value, PROF_VALUE_DEFAULT);
	struct svg *s;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return export_error(opts, -ENOMEM, "cannot draw the flame graph: out of memory");
	s->p = p;
	s->f = f;
	s->ns = value == PROF_VALUE_NS ||
		(value == PROF_VALUE_DEFAULT && prof_get_kind(p) == PROF_OFFCPU);
	s->icicle = !!EXPORT_OPT(opts, icicle, 0);
	s->width = EXPORT_OPT(opts, width, 1200u);
	s->min_width = EXPORT_OPT(opts, min_width, 0.1);
	if (s->width < 200 || s->width > 100000 || s->min_width < 0) {
		free(s);
		return export_error(opts, -EINVAL,
				    "flame graph width must be 200..100000 px and min width >= 0");
	}
	err = flame_build(&s->fl, p, EXPORT_OPT(opts, by_thread, 0));
	if (err) {
		free(s);
		return export_error(opts, err, "cannot build the call tree: %s", strerror(-err));
	}
	s->total = flame_metric(&s->fl.nodes[0], s->ns);
	s->scale = s->total ? (double)(s->width - 2 * XPAD) / (double)s->total : 0;

	/* Size first: the height depends on the deepest frame still drawn. */
	err = walk(s, false);
	if (err) {
		flame_free(&s->fl);
		free(s);
		return export_error(opts, err, "cannot draw the flame graph: out of memory");
	}
	s->height = TOP_PAD + (s->depth + 1) * FRAME_H + BOTTOM_PAD;
	{
		/* Omitted frames: every node of each subtree cut at its root. */
		uint32_t i;

		for (i = 1; i < s->fl.nr_nodes; i++) {
			const struct flame_node *n = &s->fl.nodes[i];
			const struct flame_node *parent = &s->fl.nodes[n->parent];
			bool vis = (double)flame_metric(n, s->ns) * s->scale >= s->min_width;
			bool pvis = (double)flame_metric(parent, s->ns) * s->scale >= s->min_width;

			if (!vis && pvis)
				s->omitted += subtree_size(&s->fl, i);
		}
	}
	put_header(s, opts);
	fputs("<g id=\"frames\">\n", f);
	if (s->total) {
		uint64_t omitted = s->omitted;

		err = walk(s, true);
		s->omitted = omitted;
	}
	fputs("</g>\n</svg>\n", f);

	if (!err && ferror(f))
		err = -EIO;
	if (err)
		export_error(opts, err, "cannot write the flame graph: %s", strerror(-err));
	else if (EXPORT_OPT(opts, result, NULL)) {
		opts->result->format = PROF_FMT_SVG;
		opts->result->frames = s->drawn;
		opts->result->omitted = s->omitted;
	}
	flame_free(&s->fl);
	free(s);
	return err;
}
