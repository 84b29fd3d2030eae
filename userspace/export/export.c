// SPDX-License-Identifier: GPL-2.0-only
/* export: choose the format from the file name, write atomically. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export.h"
#include "sw_log.h"

#define FORMATS_HELP "use .pb.gz or .pprof (pprof), .folded (FlameGraph stacks) or .svg (flame graph)"

/*
 * One line per failed export: a writer called on its own logs what failed;
 * called by prof_export(), it leaves the message here and prof_export()
 * logs it once, with the file's name.
 */
static __thread int nested;
static __thread char nested_msg[512];

static int ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls > lx && !strcasecmp(s + ls - lx, suffix);
}

int prof_format_from_path(const char *path)
{
	if (!path)
		return -EINVAL;
	if (ends_with(path, ".pb.gz") || ends_with(path, ".pprof"))
		return PROF_FMT_PPROF;
	if (ends_with(path, ".folded"))
		return PROF_FMT_FOLDED;
	if (ends_with(path, ".svg"))
		return PROF_FMT_SVG;
	return -EINVAL;
}

const char *prof_format_name(enum prof_format fmt)
{
	switch (fmt) {
	case PROF_FMT_PPROF:
		return "pprof";
	case PROF_FMT_FOLDED:
		return "folded";
	case PROF_FMT_SVG:
		return "svg";
	case PROF_FMT_AUTO:
		break;
	}
	return NULL;
}

int prof_export_file(const struct prof *p, FILE *f, enum prof_format fmt,
		     const struct prof_export_opts *opts)
{
	if (!SW_OPTS_VALID(opts, prof_export_opts))
		return -EINVAL;
	switch (fmt) {
	case PROF_FMT_PPROF:
		return prof_export_pprof(p, f, opts);
	case PROF_FMT_FOLDED:
		return prof_export_folded(p, f, opts);
	case PROF_FMT_SVG:
		return prof_export_svg(p, f, opts);
	case PROF_FMT_AUTO:
		break;
	}
	return export_error(opts, -EINVAL, "no output format given; " FORMATS_HELP);
}

static int export_path(const struct prof *p, const char *path, const struct prof_export_opts *opts);

int prof_export(const struct prof *p, const char *path, const struct prof_export_opts *opts)
{
	int err;

	if (!SW_OPTS_VALID(opts, prof_export_opts))
		return -EINVAL;
	nested_msg[0] = 0;
	nested++;
	err = export_path(p, path, opts);
	nested--;
	if (err && nested_msg[0])
		sw_err("%s", nested_msg);
	return err;
}

static int export_path(const struct prof *p, const char *path, const struct prof_export_opts *opts)
{
	int fmt = EXPORT_OPT(opts, format, PROF_FMT_AUTO);
	char *tmp = NULL, *slash;
	FILE *f;
	int fd, err;

	if (!path || !*path)
		return export_error(opts, -EINVAL, "no output file given; " FORMATS_HELP);
	if (fmt == PROF_FMT_AUTO) {
		fmt = prof_format_from_path(path);
		if (fmt < 0) {
			slash = strrchr(path, '/');
			return export_error(opts, -EINVAL,
					    "cannot tell the output format of '%s' from its name; "
					    FORMATS_HELP, slash ? slash + 1 : path);
		}
	}
	if (!strcmp(path, "-")) {
		err = prof_export_file(p, stdout, (enum prof_format)fmt, opts);
		if (!err && fflush(stdout))
			err = export_error(opts, -errno, "cannot write to stdout: %s",
					   strerror(errno));
		return err;
	}

	/*
	 * A temporary file next to the target, renamed over it at the end: a
	 * reader never sees half a profile, a failed export leaves the old one.
	 */
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return export_error(opts, -ENOMEM, "out of memory");
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = -errno;
		export_error(opts, err, "cannot create '%s': %s (is the directory writable?)",
			     path, strerror(errno));
		free(tmp);
		return err;
	}
	/* mkstemp makes 0600; a profile is an ordinary file: honour the umask. */
	{
		mode_t mask = umask(0);

		umask(mask);
		fchmod(fd, 0666 & ~mask);
	}
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto fail_unlink;
	}
	err = prof_export_file(p, f, (enum prof_format)fmt, opts);
	if (fflush(f) && !err)
		err = -errno;
	if (!err && fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		goto fail_unlink;
	if (rename(tmp, path)) {
		err = -errno;
		goto fail_unlink;
	}
	free(tmp);
	return 0;
fail_unlink:
	unlink(tmp);
	free(tmp);
	if (nested_msg[0]) {
		char *why = strdup(nested_msg);

		if (why)
			export_error(opts, err, "'%s': %s", path, why);
		free(why);
	} else {
		export_error(opts, err, "cannot write '%s': %s", path, strerror(-err));
	}
	return err;
}

int export_error(const struct prof_export_opts *opts, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (nested)
		snprintf(nested_msg, sizeof(nested_msg), "%s", msg);
	else
		sw_err("%s", msg);
	return err;
}
