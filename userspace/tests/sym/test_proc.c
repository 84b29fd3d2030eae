// SPDX-License-Identifier: GPL-2.0-only
/*
 * Symbolizer, process level: running fixtures print the addresses of their
 * functions and wait; swctl's symbolizer must name them from /proc/PID
 * alone: PIE and non-PIE executables, shared libraries, inline frames of
 * return addresses, stripped binaries, libraries dlopen'ed after the maps
 * were read, JIT code in a perf map, binaries deleted or replaced while
 * they run, the vdso, C++ and Rust, exited processes, containers.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sym.h"
#include "fixtures/sym/fixture.h"

#define MAXF SYM_MAX_INLINE

static const struct sym_frame *resolve(struct sym_session *s, pid_t pid, uint64_t addr,
				       unsigned int flags, struct sym_frame *fr, int *n)
{
	*n = sym_resolve(s, pid, addr, flags, fr, MAXF);
	return *n > 0 ? &fr[*n - 1] : NULL;
}

static int start(struct fx_proc *p, const char *name)
{
	char *argv[2] = { (char *)fx_path(name), NULL };

	if (!argv[0])
		return -1;
	return fx_start(p, argv);
}

static void check_target(struct __test_metadata *_metadata, const char *name)
{
	const char *funcs[] = { "fix_alpha", "fix_beta", "fix_gamma", "main" };
	struct sym_session *s = fx_sym_new(NULL);
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	struct fx_proc p;
	size_t i;
	int n;

	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, start(&p, name));
	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		uint64_t a = fx_addr(&p, funcs[i]);

		ASSERT_NE(0, a);
		f = resolve(s, p.pid, a + 1, 0, fr, &n);
		ASSERT_EQ(1, n);
		EXPECT_EQ(SYM_OK, f->status);
		EXPECT_STREQ(funcs[i], f->name);
		EXPECT_EQ(1, f->offset);
		EXPECT_STREQ(name, f->module_name);
		EXPECT_STREQ(fx_path(name), f->module);
		EXPECT_STREQ(fx_build_id(fx_path(name)), f->build_id);
	}
	fx_stop(&p);
	sym_session_free(s);
}

TEST(non_pie_process)
{
	check_target(_metadata, "target-nopie");
}

TEST(pie_process)
{
	check_target(_metadata, "target-pie");
}

TEST(shared_library_in_process)
{
	const char *lib = fx_path("libfix.so");
	struct sym_session *s = fx_sym_new(NULL);
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	struct fx_proc p;
	int n;

	ASSERT_EQ(0, start(&p, "target-pie"));
	f = resolve(s, p.pid, fx_addr(&p, "lib_func"), 0, fr, &n);
	EXPECT_STREQ("lib_func", f->name);
	EXPECT_STREQ("libfix.so", f->module_name);
	EXPECT_EQ(fx_nm(lib, "lib_func"), f->rel_addr);
	EXPECT_STREQ(fx_build_id(lib), f->build_id);
	f = resolve(s, p.pid, fx_addr(&p, "lib_static") + 2, 0, fr, &n);
	EXPECT_STREQ("lib_static", f->name);
	EXPECT_EQ(2, f->offset);
	fx_stop(&p);
	sym_session_free(s);
}

TEST(return_address_with_inline_frames)
{
	SYM_OPTS(o, .flags = SYM_OPT_LINES);
	struct sym_session *s = fx_sym_new(&o);
	struct sym_frame fr[MAXF];
	struct fx_proc p;
	uint64_t ret;
	int n;

	ASSERT_EQ(0, start(&p, "target-pie"));
	ret = fx_addr(&p, "beta_ret");
	ASSERT_NE(0, ret);
	n = sym_resolve(s, p.pid, ret, SYM_RESOLVE_RETURN, fr, MAXF);
	ASSERT_EQ(2, n);
	EXPECT_STREQ("fix_leaf_inline", fr[0].name);
	EXPECT_TRUE(fr[0].flags & SYM_FRAME_INLINE);
	EXPECT_EQ(fx_line("target.c", "leaf_call"), fr[0].line);
	EXPECT_STREQ("fix_gamma", fr[1].name);
	EXPECT_FALSE(fr[1].flags & SYM_FRAME_INLINE);
	EXPECT_EQ(fx_line("target.c", "gamma_call"), fr[1].line);
	EXPECT_EQ(ret - fx_addr(&p, "fix_gamma"), fr[1].offset);
	EXPECT_EQ(ret, fr[1].addr);
	fx_stop(&p);
	sym_session_free(s);
}

static void check_stripped(struct __test_metadata *_metadata, const char *name)
{
	struct sym_session *s = fx_sym_new(NULL);
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	struct fx_proc p;
	int n;

	ASSERT_EQ(0, start(&p, name));
	ASSERT_EQ(0, fx_nm(fx_path(name), "fix_alpha"));
	f = resolve(s, p.pid, fx_addr(&p, "fix_alpha"), 0, fr, &n);
	EXPECT_EQ(SYM_OK, f->status);
	EXPECT_STREQ("fix_alpha", f->name);
	fx_stop(&p);
	sym_session_free(s);
}

TEST(stripped_with_debuglink_process)
{
	check_stripped(_metadata, "target-debuglink");
}

TEST(minidebuginfo_process)
{
	check_stripped(_metadata, "target-mini");
}

TEST(library_dlopened_after_maps_read)
{
	SYM_OPTS(o, .flags = SYM_OPT_LINES);
	struct sym_session *s = fx_sym_new(&o);
	struct sym_stats st = { .sz = sizeof(st) };
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	char cmd[PATH_MAX + 16];
	struct fx_proc p;
	uint64_t late;
	int n;

	ASSERT_EQ(0, start(&p, "target-pie"));
	f = resolve(s, p.pid, fx_addr(&p, "main"), 0, fr, &n);
	EXPECT_STREQ("main", f->name);
	snprintf(cmd, sizeof(cmd), "dlopen %s", fx_path("liblate.so"));
	ASSERT_EQ(0, fx_cmd(&p, cmd));
	late = fx_addr(&p, "late_func");
	ASSERT_NE(0, late);
	f = resolve(s, p.pid, late + 4, 0, fr, &n);
	EXPECT_EQ(SYM_OK, f->status);
	EXPECT_STREQ("late_func", f->name);
	EXPECT_STREQ("liblate.so", f->module_name);
	EXPECT_EQ(fx_line("late.c", "late_func"), f->line);
	ASSERT_EQ(0, sym_session_stats(s, &st));
	EXPECT_LE(2, st.maps_reads);
	fx_stop(&p);
	sym_session_free(s);
}

static void check_jit(struct __test_metadata *_metadata, struct sym_session *s, pid_t pid,
		      uint64_t jit, pid_t nspid)
{
	struct sym_frame fr[MAXF];
	char want[64];
	int n;

	snprintf(want, sizeof(want), "perf-%d.map", (int)nspid);
	n = sym_resolve(s, pid, jit + 5, 0, fr, MAXF);
	ASSERT_EQ(1, n);
	EXPECT_EQ(SYM_OK, fr[0].status);
	/* The later line of the map wins: code was reused. */
	EXPECT_STREQ("jit_compiled_fn", fr[0].name);
	EXPECT_EQ(5, fr[0].offset);
	EXPECT_TRUE(fr[0].flags & SYM_FRAME_JIT);
	EXPECT_STREQ(want, fr[0].module_name);
	sym_resolve(s, pid, jit + 64 + 3, 0, fr, MAXF);
	EXPECT_STREQ("jit_other_fn", fr[0].name);
	/* Not in the map: missing, in the anonymous mapping. */
	sym_resolve(s, pid, jit + 1024, 0, fr, MAXF);
	EXPECT_EQ(SYM_NO_SYMBOL, fr[0].status);
	EXPECT_STREQ("[anon]", fr[0].module_name);
}

TEST(jit_perf_map)
{
	struct sym_session *s = fx_sym_new(NULL);
	struct fx_proc p;
	char map[64];

	ASSERT_EQ(0, start(&p, "target-pie"));
	snprintf(map, sizeof(map), "/tmp/perf-%d.map", (int)p.pid);
	ASSERT_EQ(0, fx_cmd(&p, "jit"));
	ASSERT_NE(0, fx_addr(&p, "jit"));
	check_jit(_metadata, s, p.pid, fx_addr(&p, "jit"), p.pid);
	fx_stop(&p);
	unlink(map);
	sym_session_free(s);
}

/* Copy @from to a fresh directory as "victim"; returns its path. */
static const char *copy_victim(const char *from, char *dir, size_t size)
{
	static char path[PATH_MAX];
	char cmd[3 * PATH_MAX];

	snprintf(dir, size, "/tmp/swprof-victim-XXXXXX");
	if (!mkdtemp(dir))
		return NULL;
	snprintf(path, sizeof(path), "%s/victim", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, path);
	return system(cmd) ? NULL : path;
}

TEST(deleted_binary_still_running)
{
	struct sym_session *s = fx_sym_new(NULL);
	char dir[64], *argv[2];
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	struct fx_proc p;
	const char *v;
	int n;

	v = copy_victim(fx_path("target-pie"), dir, sizeof(dir));
	ASSERT_NE(NULL, v);
	argv[0] = (char *)v;
	argv[1] = NULL;
	ASSERT_EQ(0, fx_start(&p, argv));
	ASSERT_EQ(0, unlink(v));
	rmdir(dir);
	f = resolve(s, p.pid, fx_addr(&p, "fix_gamma"), 0, fr, &n);
	EXPECT_EQ(SYM_OK, f->status);
	EXPECT_STREQ("fix_gamma", f->name);
	EXPECT_STREQ(v, f->module);
	EXPECT_STREQ("victim", f->module_name);
	fx_stop(&p);
	sym_session_free(s);
}

TEST(binary_replaced_while_running)
{
	struct sym_session *s = fx_sym_new(NULL);
	char dir[64], other[PATH_MAX + 8], cmd[3 * PATH_MAX], *argv[2];
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	struct fx_proc p;
	const char *v;
	int n;

	v = copy_victim(fx_path("target-pie"), dir, sizeof(dir));
	ASSERT_NE(NULL, v);
	argv[0] = (char *)v;
	argv[1] = NULL;
	ASSERT_EQ(0, fx_start(&p, argv));
	/* A different build takes its name: the mapping keeps the old one. */
	snprintf(other, sizeof(other), "%s.new", v);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && mv '%s' '%s'", fx_path("target-nopie"), other,
		 other, v);
	ASSERT_EQ(0, system(cmd));
	f = resolve(s, p.pid, fx_addr(&p, "fix_alpha"), 0, fr, &n);
	EXPECT_EQ(SYM_OK, f->status);
	EXPECT_STREQ("fix_alpha", f->name);
	EXPECT_STREQ(fx_build_id(fx_path("target-pie")), f->build_id);
	fx_stop(&p);
	unlink(v);
	rmdir(dir);
	sym_session_free(s);
}

TEST(exited_process_keeps_what_was_read)
{
	struct sym_session *s = fx_sym_new(NULL);
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	struct fx_proc p;
	uint64_t alpha, lib;
	pid_t pid;
	int n;

	ASSERT_EQ(0, start(&p, "target-pie"));
	pid = p.pid;
	alpha = fx_addr(&p, "fix_alpha");
	lib = fx_addr(&p, "lib_func");
	f = resolve(s, pid, fx_addr(&p, "main"), 0, fr, &n);
	EXPECT_STREQ("main", f->name);
	fx_stop(&p);
	f = resolve(s, pid, alpha, 0, fr, &n);
	EXPECT_STREQ("fix_alpha", f->name);
	/* A library not opened while it ran: found by its path. */
	f = resolve(s, pid, lib, 0, fr, &n);
	EXPECT_STREQ("lib_func", f->name);
	EXPECT_EQ(0, sym_proc_refresh(s, pid));	/* gone, but known */
	sym_proc_forget(s, pid);
	f = resolve(s, pid, alpha, 0, fr, &n);
	EXPECT_EQ(SYM_NO_MODULE, f->status);
	sym_session_free(s);
}

TEST(unknown_process)
{
	struct sym_session *s = fx_sym_new(NULL);
	struct sym_frame fr[MAXF];
	char buf[128];
	int n;

	EXPECT_EQ(-ENOENT, sym_proc_refresh(s, 0x3ffffff0));
	n = sym_resolve(s, 0x3ffffff0, 0x401000, 0, fr, MAXF);
	ASSERT_EQ(1, n);
	EXPECT_EQ(SYM_NO_MODULE, fr[0].status);
	sym_frame_format(&fr[0], buf, sizeof(buf));
	EXPECT_STREQ("[MISSING] [unknown]+0x401000", buf);
	sym_session_free(s);
}

/* Start of the mapping named @what in /proc/@pid/maps. */
static uint64_t map_start(pid_t pid, const char *what)
{
	char path[64], line[512];
	unsigned long long a = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, what)) {
			sscanf(line, "%llx-", &a);
			break;
		}
	fclose(f);
	return a;
}

TEST(missing_frames_keep_their_module)
{
	struct sym_session *s = fx_sym_new(NULL);
	struct sym_frame fr[MAXF];
	struct fx_proc p;
	uint64_t stack;
	int n;

	ASSERT_EQ(0, start(&p, "target-pie"));
	stack = map_start(p.pid, "[stack]");
	ASSERT_NE(0, stack);
	n = sym_resolve(s, p.pid, stack + 16, 0, fr, MAXF);
	ASSERT_EQ(1, n);
	EXPECT_EQ(SYM_NO_SYMBOL, fr[0].status);
	EXPECT_STREQ("[MISSING]", fr[0].name);
	EXPECT_STREQ("[stack]", fr[0].module_name);
	n = sym_resolve(s, p.pid, 16, 0, fr, MAXF);
	ASSERT_EQ(1, n);
	EXPECT_EQ(SYM_NO_MODULE, fr[0].status);
	fx_stop(&p);
	sym_session_free(s);
}

/* Offset of @name in our own vdso image: every process shares it. */
static uint64_t vdso_symbol(const char *name)
{
	const unsigned char *base = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	const Elf64_Shdr *sh;
	int i;

	if (!base)
		return 0;
	sh = (const Elf64_Shdr *)(base + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		const Elf64_Sym *sym;
		const char *str;
		size_t k;

		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		sym = (const Elf64_Sym *)(base + sh[i].sh_offset);
		str = (const char *)base + sh[sh[i].sh_link].sh_offset;
		for (k = 0; k < sh[i].sh_size / sizeof(*sym); k++)
			if (!strcmp(str + sym[k].st_name, name))
				return sym[k].st_value;
	}
	return 0;
}

TEST(vdso)
{
	struct sym_session *s = fx_sym_new(NULL);
	uint64_t off = vdso_symbol("__vdso_clock_gettime"), vdso;
	struct sym_frame fr[MAXF];
	struct fx_proc p;
	int n;

	if (!off)
		SKIP(return, "no vdso clock_gettime here");
	ASSERT_EQ(0, start(&p, "target-pie"));
	vdso = map_start(p.pid, "[vdso]");
	ASSERT_NE(0, vdso);
	n = sym_resolve(s, p.pid, vdso + off + 1, 0, fr, MAXF);
	ASSERT_EQ(1, n);
	EXPECT_EQ(SYM_OK, fr[0].status);
	EXPECT_NE(NULL, strstr(fr[0].name, "clock_gettime"));
	EXPECT_EQ(1, fr[0].offset);
	EXPECT_STREQ("[vdso]", fr[0].module);
	fx_stop(&p);
	sym_session_free(s);
}

TEST(cxx_namespaces_and_templates)
{
	struct sym_session *s = fx_sym_new(NULL);
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	struct fx_proc p;
	int n;

	ASSERT_EQ(0, start(&p, "cxx-fixture"));
	f = resolve(s, p.pid, fx_addr(&p, "compute_id"), 0, fr, &n);
	EXPECT_STREQ("fixns::inner::compute(int, double)", f->name);
	EXPECT_EQ(0, strncmp(f->symbol, "_ZN", 3));
	f = resolve(s, p.pid, fx_addr(&p, "compute_s"), 0, fr, &n);
	EXPECT_EQ(0, strncmp(f->name, "fixns::inner::compute(std::", 27));
	f = resolve(s, p.pid, fx_addr(&p, "box_int_get"), 0, fr, &n);
	EXPECT_STREQ("fixns::Box<int>::get(int) const", f->name);
	f = resolve(s, p.pid, fx_addr(&p, "box_long_get") + 1, 0, fr, &n);
	EXPECT_STREQ("fixns::Box<long>::get(long) const", f->name);
	fx_stop(&p);
	sym_session_free(s);
}

static void check_rust(struct __test_metadata *_metadata, const char *name, const char *prefix)
{
	struct sym_session *s = fx_sym_new(NULL);
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	struct fx_proc p;
	int n;

	if (!fx_path(name))
		SKIP(return, "no rustc: %s not built", name);
	ASSERT_EQ(0, start(&p, name));
	f = resolve(s, p.pid, fx_addr(&p, "fixture_rust_fn"), 0, fr, &n);
	EXPECT_EQ(SYM_OK, f->status);
	EXPECT_STREQ("rustfix::fixmod::fixture_rust_fn", f->name);
	EXPECT_EQ(0, strncmp(f->symbol, prefix, strlen(prefix)));
	f = resolve(s, p.pid, fx_addr(&p, "bump"), 0, fr, &n);
	EXPECT_TRUE(!strcmp(f->name, "rustfix::fixmod::Acc::bump") ||
		    !strcmp(f->name, "<rustfix::fixmod::Acc>::bump"));
	TH_LOG("%s: %s", f->symbol, f->name);
	fx_stop(&p);
	sym_session_free(s);
}

TEST(rust_legacy_mangling)
{
	check_rust(_metadata, "rust-legacy", "_ZN");
}

TEST(rust_v0_mangling)
{
	check_rust(_metadata, "rust-v0", "_R");
}

/* The pid of the only child of @pid (unshare --fork's). */
static pid_t child_of(pid_t pid)
{
	char path[64];
	int c = 0, tries;
	FILE *f;

	for (tries = 0; tries < 100 && !c; tries++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
		f = fopen(path, "r");
		if (f) {
			if (fscanf(f, "%d", &c) != 1)
				c = 0;
			fclose(f);
		}
		if (!c)
			usleep(10000);
	}
	return c;
}

/*
 * A container, as runtimes make them: own pid and mount namespaces,
 * pivot_root into a root where the fixture sits at /opt/fix (a path the host
 * does not have) with a private /tmp holding its perf map, /tmp/perf-1.map.
 */
TEST(container_root_and_namespaces)
{
	struct sym_session *s = fx_sym_new(NULL);
	char root[64], script[4 * PATH_MAX], *argv[9];
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	struct fx_proc p;
	pid_t pid;
	int n;

	if (geteuid() || system("unshare --mount --pid --fork true 2>/dev/null"))
		SKIP(return, "cannot create namespaces here");
	snprintf(root, sizeof(root), "/tmp/swprof-root-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(root));
	snprintf(script, sizeof(script),
		 "set -e; r=%s; mkdir -p $r/usr $r/opt/fix $r/tmp $r/.old $r/proc;"
		 "ln -s usr/lib $r/lib; ln -s usr/lib64 $r/lib64;"
		 "ln -s usr/bin $r/bin; ln -s usr/sbin $r/sbin;"
		 "mount --make-rprivate /; mount --bind $r $r;"
		 "mount --bind /usr $r/usr; mount --bind %s $r/opt/fix;"
		 "mount -t tmpfs tmpfs $r/tmp; mount -t proc proc $r/proc;"
		 "cd $r; pivot_root . .old; umount -l /.old;"
		 "export LD_LIBRARY_PATH=/opt/fix;"
		 "exec /opt/fix/target-pie",
		 root, fx_out);
	argv[0] = "/usr/bin/unshare";
	argv[1] = "--mount";
	argv[2] = "--pid";
	argv[3] = "--fork";
	argv[4] = "--kill-child";
	argv[5] = "/bin/sh";
	argv[6] = "-c";
	argv[7] = script;
	argv[8] = NULL;
	ASSERT_EQ(0, fx_start(&p, argv));
	pid = child_of(p.pid);
	ASSERT_LT(0, pid);
	f = resolve(s, pid, fx_addr(&p, "fix_alpha"), 0, fr, &n);
	EXPECT_STREQ("fix_alpha", f->name);
	EXPECT_STREQ("/opt/fix/target-pie", f->module);
	f = resolve(s, pid, fx_addr(&p, "lib_func"), 0, fr, &n);
	EXPECT_STREQ("lib_func", f->name);
	EXPECT_STREQ("/opt/fix/libfix.so", f->module);
	ASSERT_EQ(0, fx_cmd(&p, "jit"));
	ASSERT_NE(0, fx_addr(&p, "jit"));
	EXPECT_NE(0, access("/tmp/perf-1.map", F_OK));
	check_jit(_metadata, s, pid, fx_addr(&p, "jit"), 1);
	fx_stop(&p);
	snprintf(script, sizeof(script), "rm -rf %s", root);
	if (system(script))
		TH_LOG("could not remove %s", root);
	sym_session_free(s);
}

TEST_HARNESS_MAIN
