// SPDX-License-Identifier: GPL-2.0-only
/*
 * Symbolizer, file level: symbol tables of executables (PIE or not) and
 * shared libraries, debug files by .gnu_debuglink (CRC checked) and by
 * build-id, MiniDebugInfo, compressed DWARF, lines and inline frames,
 * demangling, kallsyms, the cache and its eviction.  The oracle is nm on
 * unstripped twins of the fixtures, and LINE: markers in their sources.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sym.h"
#include "sym_priv.h"
#include "fixtures/sym/fixture.h"

#define MAXF SYM_MAX_INLINE

static struct sym_session *session(unsigned int flags, const char *debug_dir)
{
	SYM_OPTS(o, .flags = flags, .debug_dir = debug_dir);

	return fx_sym_new(&o);
}

/* The real function (the last frame) of @addr in @path. */
static const struct sym_frame *elf_func(struct sym_session *s, const char *path, uint64_t addr,
					unsigned int flags, struct sym_frame *fr, int *n)
{
	*n = sym_resolve_elf(s, path, addr, flags, fr, MAXF);
	return *n > 0 ? &fr[*n - 1] : NULL;
}

static void check_funcs(struct __test_metadata *_metadata, const char *name)
{
	const char *path = fx_path(name);
	const char *funcs[] = { "fix_alpha", "fix_beta", "fix_gamma", "main" };
	struct sym_session *s = session(0, NULL);
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	size_t i;
	int n;

	ASSERT_NE(NULL, path);
	ASSERT_NE(NULL, s);
	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		uint64_t a = fx_nm(path, funcs[i]);

		ASSERT_NE(0, a);
		f = elf_func(s, path, a + 3, 0, fr, &n);
		ASSERT_EQ(1, n);
		EXPECT_EQ(SYM_OK, f->status);
		EXPECT_STREQ(funcs[i], f->name);
		EXPECT_STREQ(funcs[i], f->symbol);
		EXPECT_EQ(3, f->offset);
		EXPECT_EQ(a + 3, f->rel_addr);
		EXPECT_STREQ(name, f->module_name);
		EXPECT_STREQ(fx_build_id(path), f->build_id);
		EXPECT_EQ(NULL, f->file);	/* no lines unless asked */
	}
	sym_session_free(s);
}

TEST(non_pie_executable)
{
	check_funcs(_metadata, "target-nopie");
}

TEST(pie_executable)
{
	check_funcs(_metadata, "target-pie");
}

TEST(shared_library)
{
	const char *path = fx_path("libfix.so");
	struct sym_session *s = session(0, NULL);
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	int n;

	ASSERT_NE(NULL, path);
	f = elf_func(s, path, fx_nm(path, "lib_func") + 1, SYM_RESOLVE_LINES, fr, &n);
	ASSERT_NE(NULL, f);
	EXPECT_STREQ("lib_func", f->name);
	EXPECT_STREQ("libfix.so", f->module_name);
	ASSERT_NE(NULL, f->file);
	EXPECT_STREQ("libfix.c", fx_base(f->file));
	EXPECT_EQ(fx_line("libfix.c", "lib_func"), f->line);
	/* A static function: only .symtab knows it. */
	f = elf_func(s, path, fx_nm(path, "lib_static"), 0, fr, &n);
	EXPECT_STREQ("lib_static", f->name);
	EXPECT_EQ(0, f->offset);
	sym_session_free(s);
}

TEST(debuglink_found_and_crc_checked)
{
	const char *path = fx_path("target-debuglink");
	const char *full = fx_path("full/target-debuglink");
	struct sym_stats st = { .sz = sizeof(st) };
	struct sym_session *s = session(SYM_OPT_LINES, NULL);
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	int n;

	ASSERT_NE(NULL, path);
	ASSERT_NE(NULL, full);
	ASSERT_EQ(0, fx_nm(path, "fix_alpha"));	/* really stripped */
	f = elf_func(s, path, fx_nm(full, "fix_alpha"), 0, fr, &n);
	ASSERT_NE(NULL, f);
	EXPECT_EQ(SYM_OK, f->status);
	EXPECT_STREQ("fix_alpha", f->name);
	ASSERT_NE(NULL, f->file);
	EXPECT_EQ(fx_line("target.c", "alpha"), f->line);
	ASSERT_EQ(0, sym_session_stats(s, &st));
	EXPECT_EQ(1, st.debug_files);
	sym_session_free(s);
}

TEST(debuglink_crc_mismatch_is_ignored)
{
	const char *path = fx_path("target-badcrc");
	uint64_t a = fx_nm(fx_path("full/target-badcrc"), "fix_alpha");
	struct sym_session *s = session(0, NULL);
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	char buf[256], want[256];
	int n;

	ASSERT_NE(NULL, path);
	ASSERT_NE(0, a);
	f = elf_func(s, path, a, 0, fr, &n);
	ASSERT_EQ(1, n);
	EXPECT_EQ(SYM_NO_SYMBOL, f->status);
	EXPECT_STREQ("[MISSING]", f->name);
	EXPECT_EQ(NULL, f->symbol);
	/* Never dropped: the module is there. */
	sym_frame_format(f, buf, sizeof(buf));
	snprintf(want, sizeof(want), "[MISSING] target-badcrc+0x%lx", (unsigned long)a);
	EXPECT_STREQ(want, buf);
	sym_session_free(s);
}

TEST(build_id_debug_directory)
{
	const char *path = fx_path("target-buildid");
	uint64_t a = fx_nm(fx_path("full/target-buildid"), "fix_alpha");
	char dir[PATH_MAX + 32];
	struct sym_session *s;
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	int n;

	ASSERT_NE(NULL, path);
	ASSERT_NE(0, a);
	snprintf(dir, sizeof(dir), "%s/debugroot", fx_out);
	s = session(0, dir);
	f = elf_func(s, path, a, SYM_RESOLVE_LINES, fr, &n);
	EXPECT_STREQ("fix_alpha", f->name);
	EXPECT_EQ(fx_line("target.c", "alpha"), f->line);
	sym_session_free(s);
	/* Not there without the directory. */
	s = session(0, NULL);
	f = elf_func(s, path, a, 0, fr, &n);
	EXPECT_EQ(SYM_NO_SYMBOL, f->status);
	sym_session_free(s);
}

TEST(minidebuginfo)
{
	const char *path = fx_path("target-mini");
	uint64_t a = fx_nm(fx_path("full/target-mini"), "fix_alpha");
	struct sym_session *s = session(SYM_OPT_LINES, NULL);
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	int n;

	ASSERT_NE(NULL, path);
	ASSERT_NE(0, a);
	ASSERT_EQ(0, fx_nm(path, "fix_alpha"));
	f = elf_func(s, path, a + 2, 0, fr, &n);
	EXPECT_EQ(SYM_OK, f->status);
	EXPECT_STREQ("fix_alpha", f->name);
	EXPECT_EQ(2, f->offset);
	EXPECT_EQ(NULL, f->file);	/* symbols only in MiniDebugInfo */
	/* .dynsym-less executables still resolve main through it. */
	f = elf_func(s, path, fx_nm(fx_path("full/target-mini"), "main"), 0, fr, &n);
	EXPECT_STREQ("main", f->name);
	sym_session_free(s);
}

static void check_compressed(struct __test_metadata *_metadata, const char *name)
{
	const char *path = fx_path(name);
	struct sym_session *s = session(SYM_OPT_LINES, NULL);
	struct sym_frame fr[MAXF];
	const struct sym_frame *f;
	int n;

	ASSERT_NE(NULL, path);
	f = elf_func(s, path, fx_nm(path, "fix_alpha"), 0, fr, &n);
	EXPECT_STREQ("fix_alpha", f->name);
	ASSERT_NE(NULL, f->file);
	EXPECT_STREQ("target.c", fx_base(f->file));
	EXPECT_EQ(fx_line("target.c", "alpha"), f->line);
	sym_session_free(s);
}

TEST(zstd_compressed_dwarf)
{
	check_compressed(_metadata, "target-zstd");
}

TEST(zlib_compressed_dwarf)
{
	check_compressed(_metadata, "target-zlib");
}

/* The call to fix_beta in the always_inline leaf, seen from inside fix_gamma. */
TEST(inline_frames)
{
	const char *path = fx_path("target-pie");
	uint64_t start = fx_nm(path, "fix_gamma"), size = fx_nm_size(path, "fix_gamma"), a;
	struct sym_session *s = session(0, NULL);
	struct sym_frame fr[MAXF];
	bool found = false;
	int n;

	ASSERT_NE(0, start);
	ASSERT_NE(0, size);
	for (a = start; a < start + size && !found; a++) {
		n = sym_resolve_elf(s, path, a, SYM_RESOLVE_LINES, fr, MAXF);
		ASSERT_LE(1, n);
		EXPECT_STREQ("fix_gamma", fr[n - 1].name);
		EXPECT_FALSE(fr[n - 1].flags & SYM_FRAME_INLINE);
		if (n < 2 || fr[0].line != fx_line("target.c", "leaf_call"))
			continue;
		found = true;
		EXPECT_STREQ("fix_leaf_inline", fr[0].name);
		EXPECT_TRUE(fr[0].flags & SYM_FRAME_INLINE);
		EXPECT_EQ(0, fr[0].offset);
		EXPECT_STREQ("target.c", fx_base(fr[0].file));
		EXPECT_EQ(fx_line("target.c", "gamma_call"), fr[n - 1].line);
		EXPECT_EQ(a - start, fr[n - 1].offset);
	}
	EXPECT_TRUE(found);
	/* Without lines: one frame, the function. */
	n = sym_resolve_elf(s, path, start + 4, SYM_RESOLVE_NO_LINES, fr, MAXF);
	EXPECT_EQ(1, n);
	sym_session_free(s);
}

TEST(return_address_looks_before)
{
	const char *path = fx_path("target-pie");
	uint64_t beta = fx_nm(path, "fix_beta");
	struct sym_session *s = session(0, NULL);
	struct sym_frame fr[MAXF];
	int n;

	n = sym_resolve_elf(s, path, beta, 0, fr, MAXF);
	ASSERT_EQ(1, n);
	EXPECT_STREQ("fix_beta", fr[0].name);
	/* A return address at a function's first byte belongs to the one before. */
	n = sym_resolve_elf(s, path, beta, SYM_RESOLVE_RETURN, fr, MAXF);
	ASSERT_EQ(1, n);
	EXPECT_STRNE("fix_beta", fr[0].name);
	EXPECT_EQ(beta, fr[0].addr);
	sym_session_free(s);
}

/* PLT stubs have no symbols: named after the GOT slot they jump through. */
TEST(plt_stubs)
{
	const char *path = fx_path("target-pie");
	const char *cxx = fx_path("cxx-fixture");
	uint64_t lib = fx_objdump(path, "lib_func@plt"), puts_plt = fx_objdump(path, "puts@plt");
	struct sym_session *s = session(0, NULL);
	struct sym_frame fr[MAXF];
	uint64_t a;
	int n;

	ASSERT_NE(0, lib);
	ASSERT_NE(0, puts_plt);
	n = sym_resolve_elf(s, path, lib + 4, 0, fr, MAXF);
	ASSERT_EQ(1, n);
	EXPECT_EQ(SYM_OK, fr[0].status);
	EXPECT_STREQ("lib_func@plt", fr[0].name);
	EXPECT_EQ(4, fr[0].offset);
	sym_resolve_elf(s, path, puts_plt, 0, fr, MAXF);
	EXPECT_STREQ("puts@plt", fr[0].name);
	/* C++ stubs are demangled too. */
	a = fx_objdump(cxx, "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE10_M_disposeEv@plt");
	if (a) {
		sym_resolve_elf(s, cxx, a, 0, fr, MAXF);
		EXPECT_EQ(0, strncmp(fr[0].name, "std::__cxx11::basic_string<char", 31));
		EXPECT_NE(NULL, strstr(fr[0].name, ">::_M_dispose()@plt"));
	}
	sym_session_free(s);
}

TEST(versioned_and_aliased_libc_names)
{
	const char *libc = "/lib/x86_64-linux-gnu/libc.so.6";
	struct sym_session *s = session(0, NULL);
	struct sym_frame fr[MAXF];
	char cmd[256], line[256];
	unsigned long long a = 0;
	FILE *p;
	int n;

	if (access(libc, R_OK))
		SKIP(return, "no %s", libc);
	snprintf(cmd, sizeof(cmd), "nm -D %s | awk '$3 ~ /^__libc_start_main@@/ { print $1 }'", libc);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	if (fgets(line, sizeof(line), p))
		a = strtoull(line, NULL, 16);
	pclose(p);
	ASSERT_NE(0, a);
	n = sym_resolve_elf(s, libc, a + 1, 0, fr, MAXF);
	ASSERT_EQ(1, n);
	EXPECT_STREQ("__libc_start_main", fr[0].name);
	sym_session_free(s);
}

TEST(missing_and_bad_files)
{
	struct sym_session *s = session(0, NULL);
	struct sym_frame fr[MAXF];
	char path[PATH_MAX + 32];

	EXPECT_GT(0, sym_resolve_elf(s, "/nonexistent/file", 0x1000, 0, fr, MAXF));
	snprintf(path, sizeof(path), "%s/build.sh", fx_src);
	EXPECT_GT(0, sym_resolve_elf(s, path, 0x10, 0, fr, MAXF));
	EXPECT_EQ(-EINVAL, sym_resolve_elf(s, fx_path("target-pie"), 0x10, 0x100, fr, MAXF));
	EXPECT_EQ(-EINVAL, sym_resolve_elf(s, fx_path("target-pie"), 0x10, 0, fr, 0));
	sym_session_free(s);
}

TEST(demangle_cpp_and_rust)
{
	char *d;

	d = sym_demangle("_ZN5fixns5inner7computeEid", 0);
	EXPECT_STREQ("fixns::inner::compute(int, double)", d);
	free(d);
	d = sym_demangle("_ZN5fixns5inner7computeEid", SYM_OPT_NO_PARAMS);
	EXPECT_STREQ("fixns::inner::compute", d);
	free(d);
	d = sym_demangle("_ZNK5fixns3BoxIiE3getEi", 0);
	EXPECT_STREQ("fixns::Box<int>::get(int) const", d);
	free(d);
	/* Rust legacy: the hash goes. */
	d = sym_demangle("_ZN7rustfix6fixmod15fixture_rust_fn17h0123456789abcdefE", 0);
	EXPECT_STREQ("rustfix::fixmod::fixture_rust_fn", d);
	free(d);
	/* Rust v0. */
	d = sym_demangle("_RNvNtCs1234_7rustfix6fixmod15fixture_rust_fn", 0);
	EXPECT_STREQ("rustfix::fixmod::fixture_rust_fn", d);
	free(d);
	EXPECT_EQ(NULL, sym_demangle("main", 0));
	EXPECT_EQ(NULL, sym_demangle("_ZN5fixns5inner7computeEid", SYM_OPT_NO_DEMANGLE));
}

/* Size-0 symbols reach the next symbol but not past their section; aliases. */
TEST(symbol_table_sizes_and_aliases)
{
	static const char names[] = "\0a_size0\0b_sized\0c_last\0__libc_malloc\0malloc\0weak_one\0";
	struct sym_builder b = { 0 };
	struct sym_table t = { 0 };
	const struct sym_sym *sym;

	t.strtabs[0] = names;
	t.strtab_sizes[0] = sizeof(names);
	ASSERT_EQ(0, sym_builder_add(&b, 0x1000, 0, 1, 4 | 1, 0x2000));	/* a_size0 */
	ASSERT_EQ(0, sym_builder_add(&b, 0x1100, 0x10, 9, 4 | 2, 0x2000));	/* b_sized */
	ASSERT_EQ(0, sym_builder_add(&b, 0x1200, 0, 17, 4 | 2, 0x1300));	/* c_last */
	ASSERT_EQ(0, sym_builder_add(&b, 0x1400, 0x20, 24, 4 | 2, 0x2000));	/* __libc_malloc */
	ASSERT_EQ(0, sym_builder_add(&b, 0x1400, 0x20, 38, 4 | 2, 0x2000));	/* malloc */
	ASSERT_EQ(0, sym_builder_add(&b, 0x1400, 0x20, 45, 4 | 1, 0x2000));	/* weak_one */
	ASSERT_EQ(0, sym_builder_finish(&b, &t));
	ASSERT_EQ(4, t.nr);

	sym = sym_table_find(&t, 0x10ff);
	ASSERT_NE(NULL, sym);
	EXPECT_STREQ("a_size0", sym_table_name(&t, sym));
	sym = sym_table_find(&t, 0x1105);
	EXPECT_STREQ("b_sized", sym_table_name(&t, sym));
	EXPECT_EQ(NULL, sym_table_find(&t, 0x1150));	/* after b's end: padding */
	sym = sym_table_find(&t, 0x12ff);
	EXPECT_STREQ("c_last", sym_table_name(&t, sym));
	EXPECT_EQ(NULL, sym_table_find(&t, 0x1300));	/* its section ended */
	sym = sym_table_find(&t, 0x1410);
	EXPECT_STREQ("malloc", sym_table_name(&t, sym));
	EXPECT_EQ(NULL, sym_table_find(&t, 0xfff));
	sym_table_free(&t);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

TEST(kallsyms_and_modules)
{
	char ks[] = "/tmp/swprof-kallsyms-XXXXXX", mods[64];
	struct sym_frame fr[MAXF];
	struct sym_session *s;
	int fd, n;

	fd = mkstemp(ks);
	ASSERT_LE(0, fd);
	close(fd);
	snprintf(mods, sizeof(mods), "%s.modules", ks);
	write_file(ks,
		   "ffffffff81000000 T _stext\n"
		   "ffffffff81000100 T start_kernel\n"
		   "ffffffff81000200 t helper_fn\n"
		   "ffffffff81000300 D some_data\n"
		   "ffffffff81000400 T _etext\n"
		   "ffffffffc0001000 t mod_fn_a\t[fake_mod]\n"
		   "ffffffffc0001080 t mod_fn_b\t[fake_mod]\n"
		   "ffffffffc0002000 T other_fn\t[other]\n");
	write_file(mods,
		   "fake_mod 8192 0 - Live 0xffffffffc0001000\n"
		   "other 4096 0 - Live 0xffffffffc0002000\n");
	{
		SYM_OPTS(o, .kallsyms_path = ks, .modules_path = mods);

		s = fx_sym_new(&o);
	}
	ASSERT_NE(NULL, s);
	n = sym_resolve_kernel(s, 0xffffffff81000150ULL, 0, fr, MAXF);
	ASSERT_EQ(1, n);
	EXPECT_STREQ("start_kernel", fr[0].name);
	EXPECT_EQ(0x50, fr[0].offset);
	EXPECT_STREQ("[kernel.kallsyms]", fr[0].module);
	EXPECT_TRUE(fr[0].flags & SYM_FRAME_KERNEL);
	/* Data symbols do not cut functions short. */
	sym_resolve_kernel(s, 0xffffffff81000350ULL, 0, fr, MAXF);
	EXPECT_STREQ("helper_fn", fr[0].name);
	sym_resolve_kernel(s, 0xffffffffc0001090ULL, 0, fr, MAXF);
	EXPECT_STREQ("mod_fn_b", fr[0].name);
	EXPECT_STREQ("[fake_mod]", fr[0].module);
	EXPECT_EQ(0x10, fr[0].offset);
	/* Return address at a function start: the previous function. */
	sym_resolve_kernel(s, 0xffffffffc0001080ULL, SYM_RESOLVE_RETURN, fr, MAXF);
	EXPECT_STREQ("mod_fn_a", fr[0].name);
	EXPECT_EQ(0x80, fr[0].offset);
	sym_resolve_kernel(s, 0xffffffffc0002800ULL, 0, fr, MAXF);
	EXPECT_STREQ("other_fn", fr[0].name);
	/* Past the last module: missing, never dropped. */
	n = sym_resolve_kernel(s, 0xffffffffc0003100ULL, 0, fr, MAXF);
	ASSERT_EQ(1, n);
	EXPECT_EQ(SYM_NO_SYMBOL, fr[0].status);
	EXPECT_STREQ("[MISSING]", fr[0].name);
	sym_session_free(s);

	/* kptr_restrict: every address zero. */
	write_file(ks, "0000000000000000 T _stext\n0000000000000000 T start_kernel\n");
	{
		SYM_OPTS(o, .kallsyms_path = ks, .modules_path = mods);

		s = fx_sym_new(&o);
	}
	EXPECT_EQ(-EPERM, sym_resolve_kernel(s, 0xffffffff81000150ULL, 0, fr, MAXF));
	sym_session_free(s);
	unlink(ks);
	unlink(mods);
}

TEST(cache_cap_evicts_lru_and_hold_defers)
{
	const char *a = fx_path("target-pie"), *b = fx_path("target-nopie"), *c = fx_path("libfix.so");
	uint64_t aa = fx_nm(a, "fix_alpha"), ba = fx_nm(b, "fix_alpha"), ca = fx_nm(c, "lib_func");
	struct sym_stats st = { .sz = sizeof(st) };
	struct sym_frame fa[MAXF], fb[MAXF];
	struct sym_session *s;
	uint64_t evicted;
	int i;

	{
		SYM_OPTS(o, .cache_bytes = 1);	/* everything over the cap */

		s = fx_sym_new(&o);
	}
	ASSERT_NE(NULL, s);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, sym_resolve_elf(s, a, aa, 0, fa, MAXF));
		EXPECT_STREQ("fix_alpha", fa[0].name);
		ASSERT_EQ(1, sym_resolve_elf(s, b, ba, 0, fa, MAXF));
		EXPECT_STREQ("fix_alpha", fa[0].name);
		ASSERT_EQ(1, sym_resolve_elf(s, c, ca, 0, fa, MAXF));
		EXPECT_STREQ("lib_func", fa[0].name);
	}
	ASSERT_EQ(0, sym_session_stats(s, &st));
	EXPECT_LE(4, st.files_evicted);
	EXPECT_EQ(3, st.files);
	EXPECT_LT(st.cache_limit, st.cache_peak);

	/* Held: frames of earlier calls stay valid, nothing is evicted. */
	evicted = st.files_evicted;
	sym_session_hold(s);
	sym_resolve_elf(s, a, aa, 0, fa, MAXF);
	sym_resolve_elf(s, b, ba, 0, fb, MAXF);
	sym_resolve_elf(s, c, ca, 0, fb, MAXF);
	EXPECT_STREQ("fix_alpha", fa[0].name);
	ASSERT_EQ(0, sym_session_stats(s, &st));
	EXPECT_EQ(evicted, st.files_evicted);
	sym_session_release(s);
	ASSERT_EQ(0, sym_session_stats(s, &st));
	EXPECT_LT(evicted, st.files_evicted);
	sym_session_free(s);
}

TEST(options_checked)
{
	struct {
		struct sym_opts o;
		uint64_t future;
	} big = { .o = { .sz = sizeof(big) }, .future = 1 };
	SYM_OPTS(bad, .flags = 1U << 31);
	struct sym_session *s;

	s = (void *)1;
	EXPECT_EQ(-EINVAL, sym_session_new(&big.o, &s));
	EXPECT_EQ(NULL, s);
	big.future = 0;
	s = fx_sym_new(&big.o);
	EXPECT_NE(NULL, s);
	sym_session_free(s);
	EXPECT_EQ(-EINVAL, sym_session_new(&bad, &s));
	s = fx_sym_new(NULL);
	EXPECT_NE(NULL, s);
	sym_session_free(s);
	sym_session_free(NULL);
}

TEST_HARNESS_MAIN
