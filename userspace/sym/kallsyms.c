// SPDX-License-Identifier: GPL-2.0-only
/*
 * sym: kernel symbols from /proc/kallsyms (text symbols only), with module
 * names ("[ext4]") and, when /proc/modules shows addresses, module bounds
 * so that the last function of a module does not swallow the next one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym_priv.h"

/* Last symbol of a module whose size is unknown: assume this much. */
#define KSYM_TAIL	4096

static int kmod_index(struct sym_session *s, const char *name, size_t len)
{
	struct sym_kernel *k = &s->kernel;
	char buf[80];
	const char *in;
	size_t i;

	if (len > sizeof(buf) - 3)
		len = sizeof(buf) - 3;
	snprintf(buf, sizeof(buf), "[%.*s]", (int)len, name);
	in = sym_intern(s->strings, buf, strlen(buf));
	if (!in)
		return -ENOMEM;
	/* Symbols of one module come in a row: check the last one first. */
	for (i = k->nr_mods; i-- > 1;)
		if (k->mods[i].name == in)
			return (int)i;
	if (k->nr_mods == k->cap_mods) {
		size_t cap = k->cap_mods ? k->cap_mods * 2 : 64;
		struct sym_kmod *m = realloc(k->mods, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		k->mods = m;
		k->cap_mods = cap;
	}
	memset(&k->mods[k->nr_mods], 0, sizeof(k->mods[0]));
	k->mods[k->nr_mods].name = in;
	k->mods[k->nr_mods].short_name = in;
	return (int)k->nr_mods++;
}

static int add_ksym(struct sym_kernel *k, uint64_t addr, const char *name, size_t len, int mod)
{
	if (k->nr == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 65536;
		struct sym_ksym *n = realloc(k->syms, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		k->syms = n;
		k->cap = cap;
	}
	if (k->names_len + len + 1 > k->names_cap) {
		size_t cap = k->names_cap ? k->names_cap * 2 : 1 << 20;
		char *n;

		while (cap < k->names_len + len + 1)
			cap *= 2;
		n = realloc(k->names, cap);
		if (!n)
			return -ENOMEM;
		k->names = n;
		k->names_cap = cap;
	}
	memcpy(k->names + k->names_len, name, len);
	k->names[k->names_len + len] = '\0';
	k->syms[k->nr].start = addr;
	k->syms[k->nr].size = 0;
	k->syms[k->nr].name = (uint32_t)k->names_len;
	k->syms[k->nr].mod = (uint32_t)mod;
	k->nr++;
	k->names_len += len + 1;
	return 0;
}

static int ksym_cmp(const void *pa, const void *pb)
{
	const struct sym_ksym *a = pa, *b = pb;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->name < b->name ? -1 : a->name > b->name;
}

static void read_modules(struct sym_session *s)
{
	struct sym_kernel *k = &s->kernel;
	char line[512];
	FILE *f;

	f = fopen(s->modules_path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		unsigned long long size, addr = 0;
		char *at;
		int idx;

		if (sscanf(line, "%63s %llu", name, &size) != 2)
			continue;
		at = strstr(line, " 0x");
		if (!at || sscanf(at, " %llx", &addr) != 1 || !addr)
			continue;
		idx = kmod_index(s, name, strlen(name));
		if (idx < 0)
			break;
		k->mods[idx].start = addr;
		k->mods[idx].end = addr + size;
	}
	fclose(f);
}

int sym_kernel_load(struct sym_session *s)
{
	struct sym_kernel *k = &s->kernel;
	bool nonzero = false;
	char *line = NULL;
	size_t cap = 0, i;
	FILE *f;
	int err = 0;

	if (k->tried)
		return k->err;
	k->tried = true;
	f = fopen(s->kallsyms_path, "re");
	if (!f) {
		k->err = -errno;
		return k->err;
	}
	/* /proc files say st_blksize 1024: 200k lines would take 12k reads */
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	/* Module 0 is the kernel itself. */
	k->mods = calloc(64, sizeof(*k->mods));
	if (!k->mods) {
		fclose(f);
		return k->err = -ENOMEM;
	}
	k->cap_mods = 64;
	k->nr_mods = 1;
	k->mods[0].name = sym_intern(s->strings, "[kernel.kallsyms]", 17);
	k->mods[0].short_name = k->mods[0].name;
	while (getline(&line, &cap, f) > 0) {
		unsigned long long addr;
		char type, *name, *end, *mod;
		int n = 0, midx = 0;

		if (sscanf(line, "%llx %c %n", &addr, &type, &n) < 2 || !n)
			continue;
		if (addr)
			nonzero = true;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		name = line + n;
		end = name + strcspn(name, " \t\n");
		mod = end;
		while (*mod == ' ' || *mod == '\t')
			mod++;
		if (*mod == '[') {
			char *close = strchr(mod, ']');

			if (close && close - mod > 1) {
				midx = kmod_index(s, mod + 1, (size_t)(close - mod - 1));
				if (midx < 0) {
					err = midx;
					break;
				}
			}
		}
		err = add_ksym(k, addr, name, (size_t)(end - name), midx);
		if (err)
			break;
	}
	free(line);
	fclose(f);
	if (!err && k->nr && !nonzero)
		err = -EPERM;	/* kptr_restrict hides the addresses */
	if (!err && !k->nr)
		err = -ENOENT;
	if (err) {
		k->err = err;
		return err;
	}
	read_modules(s);
	qsort(k->syms, k->nr, sizeof(*k->syms), ksym_cmp);
	for (i = 0; i < k->nr; i++) {
		struct sym_ksym *sym = &k->syms[i];
		const struct sym_kmod *m = &k->mods[sym->mod];
		uint64_t end = 0;

		if (i + 1 < k->nr && k->syms[i + 1].mod == sym->mod)
			end = k->syms[i + 1].start;
		if (sym->mod && m->end > sym->start && (!end || m->end < end))
			end = m->end;
		if (!end) {
			if (i + 1 < k->nr && k->syms[i + 1].start - sym->start < KSYM_TAIL)
				end = k->syms[i + 1].start;
			else
				end = sym->start + KSYM_TAIL;
		}
		if (end <= sym->start)
			end = sym->start + 1;
		sym->size = end - sym->start > UINT32_MAX ? UINT32_MAX :
			    (uint32_t)(end - sym->start);
	}
	return 0;
}

void sym_kernel_free(struct sym_kernel *k)
{
	size_t i;

	if (k->demangled) {
		for (i = 0; i < k->nr; i++)
			if (k->demangled[i] != (char *)1)
				free(k->demangled[i]);
		free(k->demangled);
	}
	free(k->names);
	free(k->syms);
	free(k->mods);
	memset(k, 0, sizeof(*k));
}

int sym_kernel_lookup(struct sym_session *s, uint64_t addr, struct sym_frame *fr)
{
	struct sym_kernel *k = &s->kernel;
	size_t lo = 0, hi, idx;
	const struct sym_ksym *sym;
	const char *raw;
	int err;

	err = sym_kernel_load(s);
	if (err)
		return err;
	hi = k->nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -ENOENT;
	idx = lo - 1;
	sym = &k->syms[idx];
	if (addr - sym->start >= sym->size) {
		/* Past the end: still say which module holds the address. */
		size_t m;

		for (m = 1; m < k->nr_mods; m++)
			if (addr >= k->mods[m].start && addr < k->mods[m].end) {
				fr->module = fr->module_name = k->mods[m].name;
				return -ENOENT;
			}
		return -ENOENT;
	}
	raw = k->names + sym->name;
	fr->symbol = raw;
	fr->name = raw;
	if (!(s->flags & SYM_OPT_NO_DEMANGLE) && raw[0] == '_' &&
	    (raw[1] == 'R' || raw[1] == 'Z')) {
		/* Rust in the kernel. */
		if (!k->demangled)
			k->demangled = calloc(k->nr, sizeof(*k->demangled));
		if (k->demangled) {
			if (!k->demangled[idx]) {
				char *d = sym_demangle(raw, s->flags);

				k->demangled[idx] = d ? d : (char *)1;
			}
			if (k->demangled[idx] != (char *)1)
				fr->name = k->demangled[idx];
		}
	}
	fr->offset = addr - sym->start;
	fr->module = k->mods[sym->mod].name;
	fr->module_name = k->mods[sym->mod].short_name;
	fr->rel_addr = addr;
	return 0;
}
