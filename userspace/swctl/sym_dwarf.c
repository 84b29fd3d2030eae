// SPDX-License-Identifier: GPL-2.0-only
/*
 * sym: DWARF source lines and inline frames (libdw).  For an address: the
 * line table gives the innermost file:line; each enclosing
 * DW_TAG_inlined_subroutine gives a frame, and its DW_AT_call_file/line is
 * where the next frame out stands.  The real function comes last.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>

#include "sym_priv.h"

struct sym_dwarf_cache {
	struct sym_intern *names;	/* demangled inline names */
};

void sym_dwarf_cache_free(struct sym_dwarf_cache *c)
{
	if (!c)
		return;
	sym_intern_free(c->names);
	free(c);
}

static struct sym_dwarf_cache *dcache(struct sym_file *f)
{
	if (!f->dcache) {
		f->dcache = calloc(1, sizeof(*f->dcache));
		if (f->dcache) {
			f->dcache->names = sym_intern_new();
			if (!f->dcache->names) {
				free(f->dcache);
				f->dcache = NULL;
			}
		}
	}
	return f->dcache;
}

static const char *die_linkage_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *n;

	n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	if (!n)
		n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
	return n;
}

/* Name of a subprogram or inline instance: demangled linkage name, else DW_AT_name. */
static const char *die_func_name(struct sym_session *s, struct sym_file *f, Dwarf_Die *die,
				 const char **raw)
{
	const char *link = die_linkage_name(die);
	struct sym_dwarf_cache *c;
	char *d;

	*raw = link;
	if (link && (d = sym_demangle(link, s->flags))) {
		const char *n = NULL;

		c = dcache(f);
		if (c)
			n = sym_intern(c->names, d, strlen(d));
		free(d);
		if (n)
			return n;
	}
	if (link && (s->flags & SYM_OPT_NO_DEMANGLE))
		return link;
	d = (char *)dwarf_diename(die);
	if (!*raw)
		*raw = d;
	return d ? d : "??";
}

static const char *call_file(Dwarf_Die *cu, Dwarf_Die *die)
{
	Dwarf_Attribute a;
	Dwarf_Files *files;
	Dwarf_Word idx;
	size_t nfiles;

	if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &a), &idx))
		return NULL;
	if (dwarf_getsrcfiles(cu, &files, &nfiles) || idx >= nfiles)
		return NULL;
	return dwarf_filesrc(files, idx, NULL, NULL);
}

static unsigned int die_udata(Dwarf_Die *die, unsigned int at)
{
	Dwarf_Attribute a;
	Dwarf_Word v;

	if (dwarf_formudata(dwarf_attr(die, at, &a), &v))
		return 0;
	return (unsigned int)v;
}

/* CU by address when .debug_aranges is missing or incomplete. */
static Dwarf_Die *find_cu(Dwarf *dw, Dwarf_Addr addr, Dwarf_Die *result)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	if (dwarf_addrdie(dw, addr, result))
		return result;
	while (!dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL)) {
		if (dwarf_offdie(dw, off + hsize, result) && dwarf_haspc(result, addr) > 0)
			return result;
		off = next;
	}
	return NULL;
}

int sym_dwarf_frames(struct sym_session *s, struct sym_file *f, uint64_t rel,
		     const struct sym_frame *outer, struct sym_frame *frames, size_t max)
{
	const char *file = NULL;
	unsigned int line = 0, col = 0;
	Dwarf_Die cudie, *scopes = NULL;
	Dwarf_Line *l;
	size_t n = 0;
	int nscopes, i;

	if (max < 1 || sym_file_ensure_dwarf(s, f))
		return 0;
	if (!find_cu(f->dwarf, rel, &cudie))
		return 0;
	l = dwarf_getsrc_die(&cudie, rel);
	if (l) {
		int li = 0, ci = 0;

		file = dwarf_linesrc(l, NULL, NULL);
		dwarf_lineno(l, &li);
		dwarf_linecol(l, &ci);
		line = li > 0 ? (unsigned int)li : 0;
		col = ci > 0 ? (unsigned int)ci : 0;
	}
	nscopes = dwarf_getscopes(&cudie, rel, &scopes);
	for (i = 0; i < nscopes; i++) {
		Dwarf_Die *die = &scopes[i];
		int tag = dwarf_tag(die);
		struct sym_frame *fr;
		const char *raw;

		if (tag == DW_TAG_subprogram) {
			if (outer->status != SYM_OK) {
				/* No symbol but DWARF knows the function. */
				Dwarf_Addr lo;

				frames[n] = *outer;
				frames[n].name = die_func_name(s, f, die, &raw);
				frames[n].symbol = raw;
				frames[n].status = SYM_OK;
				if (!dwarf_lowpc(die, &lo) && lo <= rel)
					frames[n].offset = rel - lo;
				goto outer_done;
			}
			break;
		}
		if (tag != DW_TAG_inlined_subroutine || n + 1 >= max)
			continue;
		fr = &frames[n++];
		*fr = *outer;
		fr->name = die_func_name(s, f, die, &raw);
		fr->symbol = raw;
		fr->offset = 0;
		fr->status = SYM_OK;
		fr->flags |= SYM_FRAME_INLINE;
		fr->file = file;
		fr->line = line;
		fr->column = col;
		/* The caller of this inline instance stands at its call site. */
		file = call_file(&cudie, die);
		line = die_udata(die, DW_AT_call_line);
		col = die_udata(die, DW_AT_call_column);
	}
	frames[n] = *outer;
outer_done:
	frames[n].file = file;
	frames[n].line = line;
	frames[n].column = col;
	n++;
	free(scopes);
	return (int)n;
}
