// SPDX-License-Identifier: GPL-2.0-only
/*
 * swctl symbolize: addresses in, frames out.
 *
 *   swctl symbolize -p PID [ADDR...]     addresses of a live process
 *   swctl symbolize -e ELF [ADDR...]     addresses in the ELF view of a file
 *   swctl symbolize --kernel [ADDR...]   kernel addresses (kallsyms)
 *
 * Without ADDR arguments, addresses are read from stdin, one per line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sw_log.h"
#include "swctl.h"
#include "sym.h"

struct symbolize_opts {
	pid_t pid;
	const char *elf;
	bool kernel;
	bool json;
	bool stats;
	unsigned int resolve_flags;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: swctl symbolize (-p PID | -e ELF | --kernel) [options] [ADDR...]\n"
		"\n"
		"Resolve addresses (hex, with or without 0x; from stdin when none are given)\n"
		"into 'ADDR function+0xoff (module) [file:line]', inline frames below.\n"
		"\n"
		"  -p, --pid PID        addresses of process PID (its maps, its mount namespace)\n"
		"  -e, --elf FILE       addresses in the ELF view of FILE (what addr2line takes)\n"
		"  -k, --kernel         kernel addresses, through /proc/kallsyms\n"
		"      --kallsyms FILE  kernel addresses, through a saved copy of kallsyms\n"
		"  -l, --lines          source file:line and inline frames (DWARF)\n"
		"  -r, --return         the addresses are return addresses: look up ADDR-1\n"
		"  -j, --json           one JSON object per address\n"
		"      --no-demangle    raw symbol names\n"
		"      --no-params      C++ names without their parameter list\n"
		"      --debug-dir DIR  global debug directory (default /usr/lib/debug)\n"
		"      --cache-mb N     cap of the symbol caches (default 256)\n"
		"      --stats          print cache statistics to stderr at the end\n"
		"  -h, --help           this text\n");
}

/* Hex with or without 0x; surrounding blanks allowed. */
static bool parse_addr(const char *s, uint64_t *addr)
{
	const char *p = s;
	uint64_t v = 0;
	int digits = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; *p; p++) {
		unsigned int d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned int)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned int)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned int)(*p - 'A' + 10);
		else
			break;
		if (++digits > 16)
			return false;
		v = v << 4 | d;
	}
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (!digits || *p)
		return false;
	*addr = v;
	return true;
}

static void json_str(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		fputs("null", out);
		return;
	}
	putc('"', out);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			putc(*p, out);
	}
	putc('"', out);
}

static const char *status_name(enum sym_status st)
{
	switch (st) {
	case SYM_OK: return "ok";
	case SYM_NO_SYMBOL: return "no_symbol";
	case SYM_NO_FILE: return "no_file";
	case SYM_NO_MODULE: return "no_module";
	}
	return "?";
}

static void print_json(FILE *out, uint64_t addr, const struct sym_frame *fr, int n)
{
	int i;

	fprintf(out, "{\"addr\":\"0x%" PRIx64 "\",\"frames\":[", addr);
	for (i = 0; i < n; i++) {
		const struct sym_frame *f = &fr[i];

		fputs(i ? ",{\"name\":" : "{\"name\":", out);
		json_str(out, f->name);
		fputs(",\"symbol\":", out);
		json_str(out, f->symbol);
		fprintf(out, ",\"offset\":%" PRIu64 ",\"module\":", f->offset);
		json_str(out, f->module);
		fputs(",\"build_id\":", out);
		json_str(out, f->build_id);
		fprintf(out, ",\"rel_addr\":\"0x%" PRIx64 "\",\"file_offset\":\"0x%" PRIx64 "\"",
			f->rel_addr, f->file_offset);
		if (f->file) {
			fputs(",\"file\":", out);
			json_str(out, f->file);
			fprintf(out, ",\"line\":%u", f->line);
		}
		fprintf(out, ",\"inline\":%s,\"status\":\"%s\"}",
			f->flags & SYM_FRAME_INLINE ? "true" : "false", status_name(f->status));
	}
	fputs("]}\n", out);
}

/*
 * Text output, hand-formatted into one buffer: printf() was a tenth of the
 * time of a large batch.
 */
struct outbuf {
	char buf[1 << 16];
	size_t len;
	FILE *f;
};

static void out_flush(struct outbuf *o)
{
	if (o->len)
		fwrite(o->buf, 1, o->len, o->f);
	o->len = 0;
}

static void out_mem(struct outbuf *o, const char *s, size_t n)
{
	if (o->len + n > sizeof(o->buf)) {
		out_flush(o);
		if (n > sizeof(o->buf)) {
			fwrite(s, 1, n, o->f);
			return;
		}
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void out_str(struct outbuf *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static void out_hex(struct outbuf *o, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[18];
	int i = 18;

	do {
		tmp[--i] = digits[v & 15];
		v >>= 4;
	} while (v);
	tmp[--i] = 'x';
	tmp[--i] = '0';
	out_mem(o, tmp + i, (size_t)(18 - i));
}

static void out_uint(struct outbuf *o, unsigned int v)
{
	char tmp[12];
	int i = 12;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_mem(o, tmp + i, (size_t)(12 - i));
}

static void print_text(struct outbuf *o, uint64_t addr, const struct sym_frame *fr, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		const struct sym_frame *f = &fr[i];

		if (i) {
			out_mem(o, "    ", 4);
		} else {
			out_hex(o, addr);
			out_mem(o, " ", 1);
		}
		if (f->status != SYM_OK) {
			/* sym_frame_format()'s "[MISSING] module+0xrel" */
			out_str(o, "[MISSING] ");
			out_str(o, f->module_name ? f->module_name : "[unknown]");
			out_mem(o, "+", 1);
			out_hex(o, f->rel_addr);
		} else {
			out_str(o, f->name);
			if (f->flags & SYM_FRAME_INLINE) {
				out_str(o, " (inlined)");
			} else {
				out_mem(o, "+", 1);
				out_hex(o, f->offset);
			}
			out_mem(o, " (", 2);
			out_str(o, f->module_name ? f->module_name : "?");
			out_mem(o, ")", 1);
		}
		if (f->file) {
			out_mem(o, " [", 2);
			out_str(o, f->file);
			out_mem(o, ":", 1);
			out_uint(o, f->line);
			out_mem(o, "]", 1);
		}
		out_mem(o, "\n", 1);
	}
}

static int resolve_one(struct sym_session *s, const struct symbolize_opts *o,
		       uint64_t addr, struct outbuf *out)
{
	struct sym_frame fr[SYM_MAX_INLINE];
	int n;

	if (o->kernel)
		n = sym_resolve_kernel(s, addr, o->resolve_flags, fr, SYM_MAX_INLINE);
	else if (o->elf)
		n = sym_resolve_elf(s, o->elf, addr, o->resolve_flags, fr, SYM_MAX_INLINE);
	else
		n = sym_resolve(s, o->pid, addr, o->resolve_flags, fr, SYM_MAX_INLINE);
	if (n < 0)
		return n;
	if (o->json) {
		out_flush(out);
		print_json(out->f, addr, fr, n);
	} else {
		print_text(out, addr, fr, n);
	}
	return 0;
}

static int check_source(struct sym_session *s, const struct symbolize_opts *o)
{
	struct sym_frame fr;
	int err;

	if (o->kernel) {
		err = sym_resolve_kernel(s, 0, 0, &fr, 1);
		if (err == -EPERM)
			sw_err("symbolize: kallsyms shows no addresses (kernel.kptr_restrict); run as "
				  "root or with CAP_SYSLOG");
		else if (err < 0)
			sw_err("symbolize: cannot read kernel symbols: %s", strerror(-err));
		return err < 0 ? err : 0;
	}
	if (o->elf) {
		err = sym_resolve_elf(s, o->elf, 0, 0, &fr, 1);
		if (err < 0)
			sw_err("symbolize: cannot read ELF file %s: %s", o->elf,
				  err == -ENOEXEC ? "not an ELF file" : strerror(-err));
		return err < 0 ? err : 0;
	}
	err = sym_proc_refresh(s, o->pid);
	if (err == -ESRCH || err == -ENOENT)
		sw_err("symbolize: no process %d", (int)o->pid);
	else if (err < 0)
		sw_err("symbolize: cannot read /proc/%d/maps: %s (run as its user or root)",
			  (int)o->pid, strerror(-err));
	return err;
}

static void print_stats(struct sym_session *s)
{
	struct sym_stats st = { .sz = sizeof(st) };

	if (sym_session_stats(s, &st))
		return;
	fprintf(stderr,
		"symbolize: %" PRIu64 " lookups, %" PRIu64 " resolved, %" PRIu64 " missing, "
		"%" PRIu64 " result-cache hits\n"
		"symbolize: %" PRIu64 " files, %" PRIu64 " loaded, %" PRIu64 " evicted, %" PRIu64
		" failed, %" PRIu64 " debug files; cache %" PRIu64 " KiB now, %" PRIu64
		" KiB peak, %" PRIu64 " KiB limit\n",
		st.lookups, st.resolved, st.missing, st.result_cache_hits, st.files,
		st.files_loaded, st.files_evicted, st.files_failed, st.debug_files,
		st.cache_bytes >> 10, st.cache_peak >> 10, st.cache_limit >> 10);
}

enum { OPT_NO_DEMANGLE = 256, OPT_NO_PARAMS, OPT_DEBUG_DIR, OPT_CACHE_MB, OPT_STATS,
       OPT_KALLSYMS };

int cmd_symbolize(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "elf", required_argument, NULL, 'e' },
		{ "kernel", no_argument, NULL, 'k' },
		{ "lines", no_argument, NULL, 'l' },
		{ "return", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "no-demangle", no_argument, NULL, OPT_NO_DEMANGLE },
		{ "no-params", no_argument, NULL, OPT_NO_PARAMS },
		{ "debug-dir", required_argument, NULL, OPT_DEBUG_DIR },
		{ "cache-mb", required_argument, NULL, OPT_CACHE_MB },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "kallsyms", required_argument, NULL, OPT_KALLSYMS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct symbolize_opts o = { 0 };
	SYM_OPTS(opts);
	struct sym_session *s;
	struct outbuf *out;
	char *line = NULL, *end;
	size_t cap = 0;
	unsigned long lineno = 0;
	int c, i, bad = 0, err = 0;
	long v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:e:klrjh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v <= 0 || v > INT32_MAX) {
				sw_err("symbolize: -p wants a process id, not '%s'", optarg);
				return 2;
			}
			o.pid = (pid_t)v;
			break;
		case 'e':
			o.elf = optarg;
			break;
		case 'k':
			o.kernel = true;
			break;
		case 'l':
			o.resolve_flags |= SYM_RESOLVE_LINES;
			break;
		case 'r':
			o.resolve_flags |= SYM_RESOLVE_RETURN;
			break;
		case 'j':
			o.json = true;
			break;
		case OPT_NO_DEMANGLE:
			opts.flags |= SYM_OPT_NO_DEMANGLE;
			break;
		case OPT_NO_PARAMS:
			opts.flags |= SYM_OPT_NO_PARAMS;
			break;
		case OPT_DEBUG_DIR:
			opts.debug_dir = optarg;
			break;
		case OPT_CACHE_MB:
			v = strtol(optarg, &end, 10);
			if (*end || v <= 0) {
				sw_err("symbolize: --cache-mb wants a positive number of MiB");
				return 2;
			}
			opts.cache_bytes = (size_t)v << 20;
			break;
		case OPT_STATS:
			o.stats = true;
			break;
		case OPT_KALLSYMS:
			opts.kallsyms_path = optarg;
			o.kernel = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if ((o.pid != 0) + (o.elf != NULL) + o.kernel != 1) {
		sw_err("symbolize: give exactly one of -p PID, -e ELF or --kernel");
		usage(stderr);
		return 2;
	}
	err = sym_session_new(&opts, &s);
	if (err) {
		sw_err("symbolize: cannot start the symbolizer: %s", strerror(-err));
		return 1;
	}
	err = check_source(s, &o);
	if (err < 0) {
		sym_session_free(s);
		return 1;
	}
	out = malloc(sizeof(*out));
	if (!out) {
		sym_session_free(s);
		sw_err("symbolize: out of memory");
		return 1;
	}
	out->len = 0;
	out->f = stdout;
	setvbuf(stdin, NULL, _IOFBF, 1 << 20);
	for (i = optind; i < argc && !err; i++) {
		uint64_t addr;

		if (!parse_addr(argv[i], &addr)) {
			sw_err("symbolize: '%s' is not a hex address", argv[i]);
			bad++;
			continue;
		}
		err = resolve_one(s, &o, addr, out);
	}
	if (optind == argc) {
		while (!err && getline(&line, &cap, stdin) > 0) {
			uint64_t addr;
			char *p = line;

			lineno++;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '\n' || *p == '#' || !*p)
				continue;
			if (!parse_addr(p, &addr)) {
				p[strcspn(p, "\n")] = '\0';
				sw_err("symbolize: stdin line %lu: '%s' is not a hex address",
					  lineno, p);
				bad++;
				continue;
			}
			err = resolve_one(s, &o, addr, out);
		}
		free(line);
	}
	out_flush(out);
	free(out);
	fflush(stdout);
	if (err < 0)
		sw_err("symbolize: %s", strerror(-err));
	if (o.stats)
		print_stats(s);
	sym_session_free(s);
	return err < 0 ? 1 : bad ? 1 : 0;
}
