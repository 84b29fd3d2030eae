// SPDX-License-Identifier: GPL-2.0-only
/*
 * sym: unwinding a raw user stack copy (registers + the bytes above SP) with
 * the CFI of each module: .eh_frame, else .debug_frame (from the debug file
 * when the module is stripped), else frame pointers.  This is what lets
 * swctl walk through code built without frame pointers, such as Debian's
 * libc.  Memory reads are served from the copy only: the target may be long
 * gone, or running something else, when its samples are decoded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>

#include "sym_priv.h"

#define NREGS		SYM_UNWIND_NR_REGS
#define REG_BP		6
#define REG_SP		7
#define REG_IP		16
#define EXPR_STACK	64

struct uregs {
	uint64_t r[NREGS];
	uint32_t valid;		/* bit per register */
};

struct ustack {
	uint64_t base;		/* SP at capture */
	const unsigned char *bytes;
	size_t size;
};

static bool mem_read(const struct ustack *st, uint64_t addr, unsigned int size, uint64_t *val)
{
	uint64_t v = 0;

	if (addr < st->base || addr - st->base > st->size || st->size - (addr - st->base) < size)
		return false;
	memcpy(&v, st->bytes + (addr - st->base), size);
	*val = v;
	return true;
}

static bool reg_get(const struct uregs *u, uint64_t regno, uint64_t *val)
{
	if (regno >= NREGS || !(u->valid & (1U << regno)))
		return false;
	*val = u->r[regno];
	return true;
}

enum expr_result { EXPR_FAIL, EXPR_ADDR, EXPR_VALUE };

/*
 * The DWARF expression subset CFI uses (glibc's PLT and signal frames need
 * arithmetic and comparisons).  libdw hands register rules over with the
 * CFA as DW_OP_call_frame_cfa and values ending in DW_OP_stack_value.
 */
static enum expr_result expr_eval(const Dwarf_Op *ops, size_t nops, const struct uregs *u,
				  const struct ustack *st, uint64_t cfa, bool have_cfa,
				  uint64_t *out)
{
	uint64_t stack[EXPR_STACK], a, b;
	size_t sp = 0, i;
	bool value = false;

#define PUSH(v) do { if (sp == EXPR_STACK) return EXPR_FAIL; stack[sp++] = (v); } while (0)
#define POP(v) do { if (!sp) return EXPR_FAIL; (v) = stack[--sp]; } while (0)

	if (nops == 1 && (ops[0].atom == DW_OP_regx ||
			  (ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31))) {
		uint64_t r = ops[0].atom == DW_OP_regx ? ops[0].number :
			     (uint64_t)(ops[0].atom - DW_OP_reg0);

		return reg_get(u, r, out) ? EXPR_VALUE : EXPR_FAIL;
	}
	for (i = 0; i < nops; i++) {
		const Dwarf_Op *op = &ops[i];
		uint8_t atom = op->atom;

		if (atom >= DW_OP_lit0 && atom <= DW_OP_lit31) {
			PUSH(atom - DW_OP_lit0);
			continue;
		}
		if (atom >= DW_OP_breg0 && atom <= DW_OP_breg31) {
			if (!reg_get(u, atom - DW_OP_breg0, &a))
				return EXPR_FAIL;
			PUSH(a + op->number);
			continue;
		}
		switch (atom) {
		case DW_OP_call_frame_cfa:
			if (!have_cfa)
				return EXPR_FAIL;
			PUSH(cfa);
			break;
		case DW_OP_bregx:
			if (!reg_get(u, op->number, &a))
				return EXPR_FAIL;
			PUSH(a + op->number2);
			break;
		case DW_OP_addr: case DW_OP_const1u: case DW_OP_const1s: case DW_OP_const2u:
		case DW_OP_const2s: case DW_OP_const4u: case DW_OP_const4s: case DW_OP_const8u:
		case DW_OP_const8s: case DW_OP_constu: case DW_OP_consts:
			PUSH(op->number);
			break;
		case DW_OP_dup:
			POP(a);
			PUSH(a);
			PUSH(a);
			break;
		case DW_OP_drop:
			POP(a);
			break;
		case DW_OP_over:
			if (sp < 2)
				return EXPR_FAIL;
			a = stack[sp - 2];
			PUSH(a);
			break;
		case DW_OP_pick:
			if (op->number >= sp)
				return EXPR_FAIL;
			a = stack[sp - 1 - op->number];
			PUSH(a);
			break;
		case DW_OP_swap:
			POP(a);
			POP(b);
			PUSH(a);
			PUSH(b);
			break;
		case DW_OP_deref:
			POP(a);
			if (!mem_read(st, a, 8, &b))
				return EXPR_FAIL;
			PUSH(b);
			break;
		case DW_OP_deref_size:
			POP(a);
			if (op->number > 8 || !mem_read(st, a, (unsigned int)op->number, &b))
				return EXPR_FAIL;
			PUSH(b);
			break;
		case DW_OP_plus_uconst:
			POP(a);
			PUSH(a + op->number);
			break;
		case DW_OP_neg:
			POP(a);
			PUSH(-a);
			break;
		case DW_OP_not:
			POP(a);
			PUSH(~a);
			break;
		case DW_OP_abs:
			POP(a);
			PUSH((int64_t)a < 0 ? -a : a);
			break;
		case DW_OP_plus: case DW_OP_minus: case DW_OP_mul: case DW_OP_and:
		case DW_OP_or: case DW_OP_xor: case DW_OP_shl: case DW_OP_shr:
		case DW_OP_shra: case DW_OP_div: case DW_OP_mod: case DW_OP_eq:
		case DW_OP_ne: case DW_OP_lt: case DW_OP_le: case DW_OP_gt: case DW_OP_ge:
			POP(b);
			POP(a);
			switch (atom) {
			case DW_OP_plus: a += b; break;
			case DW_OP_minus: a -= b; break;
			case DW_OP_mul: a *= b; break;
			case DW_OP_and: a &= b; break;
			case DW_OP_or: a |= b; break;
			case DW_OP_xor: a ^= b; break;
			case DW_OP_shl: a = b < 64 ? a << b : 0; break;
			case DW_OP_shr: a = b < 64 ? a >> b : 0; break;
			case DW_OP_shra: a = (uint64_t)((int64_t)a >> (b < 64 ? b : 63)); break;
			case DW_OP_div:
				if (!b)
					return EXPR_FAIL;
				a = (uint64_t)((int64_t)a / (int64_t)b);
				break;
			case DW_OP_mod:
				if (!b)
					return EXPR_FAIL;
				a %= b;
				break;
			case DW_OP_eq: a = a == b; break;
			case DW_OP_ne: a = a != b; break;
			case DW_OP_lt: a = (int64_t)a < (int64_t)b; break;
			case DW_OP_le: a = (int64_t)a <= (int64_t)b; break;
			case DW_OP_gt: a = (int64_t)a > (int64_t)b; break;
			case DW_OP_ge: a = (int64_t)a >= (int64_t)b; break;
			}
			PUSH(a);
			break;
		case DW_OP_skip: case DW_OP_bra:
			/* Branch targets are byte offsets: find the op that starts there. */
			if (atom == DW_OP_bra) {
				POP(a);
				if (!a)
					break;
			}
			{
				uint64_t target = op->offset + 3 + (uint64_t)(int64_t)(int16_t)op->number;
				size_t j;

				for (j = 0; j < nops && ops[j].offset != target; j++)
					;
				if (j == nops && target != (nops ? ops[nops - 1].offset + 1 : 0))
					return EXPR_FAIL;
				if (j <= i && j < nops)
					return EXPR_FAIL;	/* no loops */
				i = j - 1;
			}
			break;
		case DW_OP_nop:
			break;
		case DW_OP_stack_value:
			value = true;
			break;
		default:
			return EXPR_FAIL;
		}
	}
	if (!sp)
		return EXPR_FAIL;
	*out = stack[sp - 1];
	return value ? EXPR_VALUE : EXPR_ADDR;
#undef PUSH
#undef POP
}

enum step_result { STEP_OK, STEP_END, STEP_FAIL };

static enum step_result cfi_step(Dwarf_Frame *frame, const struct uregs *cur,
				 const struct ustack *st, struct uregs *next, bool *signal)
{
	Dwarf_Op ops_mem[3], *ops;
	size_t nops;
	uint64_t cfa, v;
	bool sigp = false;
	int reg;

	if (dwarf_frame_cfa(frame, &ops, &nops) || !nops ||
	    expr_eval(ops, nops, cur, st, 0, false, &cfa) == EXPR_FAIL)
		return STEP_FAIL;
	dwarf_frame_info(frame, NULL, NULL, &sigp);
	*signal = sigp;
	memset(next, 0, sizeof(*next));
	for (reg = 0; reg < NREGS; reg++) {
		enum expr_result r;

		if (dwarf_frame_register(frame, reg, ops_mem, &ops, &nops))
			continue;	/* unknown: leave it undefined */
		if (!nops) {
			if (ops) {
				if (reg == REG_IP)
					return STEP_END;	/* undefined RA: outermost frame */
				continue;
			}
			if (cur->valid & (1U << reg)) {	/* same value */
				next->r[reg] = cur->r[reg];
				next->valid |= 1U << reg;
			}
			continue;
		}
		r = expr_eval(ops, nops, cur, st, cfa, true, &v);
		if (r == EXPR_ADDR && !mem_read(st, v, 8, &v))
			r = EXPR_FAIL;
		if (r == EXPR_FAIL)
			continue;
		next->r[reg] = v;
		next->valid |= 1U << reg;
	}
	/*
	 * x86-64: the caller's SP is the CFA unless CFI says otherwise (signal
	 * frames restore it from the saved context).
	 */
	if (!(next->valid & (1U << REG_SP))) {
		next->r[REG_SP] = cfa;
		next->valid |= 1U << REG_SP;
	}
	if (!(next->valid & (1U << REG_IP)))
		return STEP_FAIL;
	return STEP_OK;
}

static enum step_result fp_step(const struct uregs *cur, const struct ustack *st,
				struct uregs *next)
{
	uint64_t bp, ra, nbp;

	if (!reg_get(cur, REG_BP, &bp) || bp < cur->r[REG_SP] || (bp & 7) ||
	    !mem_read(st, bp, 8, &nbp) || !mem_read(st, bp + 8, 8, &ra))
		return STEP_FAIL;
	memset(next, 0, sizeof(*next));
	next->r[REG_BP] = nbp;
	next->r[REG_SP] = bp + 16;
	next->r[REG_IP] = ra;
	next->valid = 1U << REG_BP | 1U << REG_SP | 1U << REG_IP;
	return STEP_OK;
}

/* One step from @cur, whose PC is looked up as @lookup. */
static enum step_result unwind_step(struct sym_session *s, struct sym_proc *p, uint64_t lookup,
				    const struct uregs *cur, const struct ustack *st,
				    struct uregs *next, bool *signal)
{
	struct sym_map *m = sym_proc_find_map(s, p, lookup);
	struct sym_file *f = NULL;
	Dwarf_Frame *frame = NULL;
	enum step_result r;
	uint64_t rel;

	*signal = false;
	if (m && (m->kind == SYM_MAP_FILE || m->kind == SYM_MAP_VDSO))
		f = sym_map_file(s, p, m);
	if (f && sym_file_off_to_rel(f, lookup - m->start + m->pgoff, &rel) &&
	    !sym_file_ensure_cfi(s, f)) {
		sym_lru_touch(s, f);
		if (!f->cfi_eh || dwarf_cfi_addrframe(f->cfi_eh, rel, &frame)) {
			frame = NULL;
			if (!f->cfi_debug && !sym_file_ensure_dwarf(s, f))
				f->cfi_debug = dwarf_getcfi(f->dwarf);
			if (f->cfi_debug && dwarf_cfi_addrframe(f->cfi_debug, rel, &frame))
				frame = NULL;
		}
	}
	if (frame) {
		r = cfi_step(frame, cur, st, next, signal);
		free(frame);
		if (r != STEP_FAIL)
			return r;
	}
	r = fp_step(cur, st, next);
	if (r == STEP_OK)
		s->st.unwind_fp_steps++;
	return r;
}

int sym_unwind_raw(struct sym_session *s, pid_t pid, const uint64_t *regs,
		   const void *stack, size_t size, uint64_t *ips, size_t max)
{
	struct ustack st = { .bytes = stack, .size = stack ? size : 0 };
	struct uregs cur, next;
	struct sym_proc *p;
	bool exact = true;
	size_t n = 0;

	if (!s || !regs || !ips || (size && !stack))
		return -EINVAL;
	if (!max)
		return 0;
	sym_evict(s);
	s->st.unwinds++;
	p = sym_proc_get(s, pid, true);
	if (!p)
		return -ENOMEM;
	memcpy(cur.r, regs, sizeof(cur.r));
	cur.valid = (1U << NREGS) - 1;
	st.base = regs[REG_SP];
	ips[n++] = regs[REG_IP];
	while (n < max) {
		uint64_t pc = cur.r[REG_IP];
		bool signal = false;

		/* A return address points after the call: look inside it. */
		if (unwind_step(s, p, exact ? pc : pc - 1, &cur, &st, &next, &signal) != STEP_OK)
			break;
		if (!next.r[REG_IP])
			break;	/* the end */
		/*
		 * A caller's frame is above its callee's: stop on no progress, so
		 * that nothing loops.  A signal frame may return to any stack
		 * (sigaltstack), but not to the same place.
		 */
		if (signal ? next.r[REG_SP] == cur.r[REG_SP] && next.r[REG_IP] == pc :
			     next.r[REG_SP] <= cur.r[REG_SP])
			break;
		ips[n++] = next.r[REG_IP];
		cur = next;
		/* Past a signal frame the PC is where the signal hit, not a return. */
		exact = signal;
	}
	s->st.unwind_frames += n;
	return (int)n;
}
