/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN: the code generator walks the typed AST once and emits
 * three-address instructions over column registers.
 *
 * Registers 0 .. n_pinned-1 hold the pinned columns; the gather prologue
 * loads each of them once, whatever the number of references. Temporaries
 * sit above them and are handed out as a stack: a node's operands are
 * released before its result is allocated, so the result usually reuses an
 * operand's register (every instruction is elementwise, so dst == a or
 * dst == b is safe). Of a binary node's operands, the one needing more
 * temporaries runs first (Sethi-Ullman), which keeps long chains and
 * right-nested expressions at two or three temporaries. Exceeding
 * EXPR_MAX_REGS is "expression too complex", reported at the node that
 * needed the extra register.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "expr_private.h"

struct gen {
	const struct expr_parser *p;
	struct expr_code *c;
	unsigned int base;	/* first temporary: the number of pinned columns */
	unsigned int top;	/* temporaries in use */
	unsigned int max;	/* most temporaries ever in use */
};

#define GNODE(g, i) (&(g)->p->nodes[(i)])

static int
emit(struct gen *g, const struct expr_ins *ins, uint32_t pos)
{
	struct expr_code *c = g->c;

	if (c->n_ins == c->cap_ins) {
		uint32_t cap = c->cap_ins ? c->cap_ins * 2 : 32;
		struct expr_ins *ni = realloc(c->ins, cap * sizeof(*ni));

		if (ni == NULL) {
			expr_error(g->p->err, pos, "out of memory");
			return -ENOMEM;
		}
		c->ins = ni;
		c->cap_ins = cap;
	}
	c->ins[c->n_ins++] = *ins;
	return 0;
}

static int
tmp_alloc(struct gen *g, uint32_t pos, uint8_t *reg)
{
	if (g->base + g->top >= EXPR_MAX_REGS)
		return expr_error(g->p->err, pos, "expression too complex");
	*reg = (uint8_t)(g->base + g->top++);
	if (g->top > g->max)
		g->max = g->top;
	return 0;
}

/* Release the registers of two operands, most recent first. */
static void
tmp_release(struct gen *g, uint8_t a, uint8_t b)
{
	unsigned int n = (a >= g->base) + (b >= g->base && b != a);

	g->top -= n;
}

static unsigned int
holds(const struct expr_node *n)
{
	return !(n->kind == N_FIELD && n->reg >= 0);
}

static unsigned int
peak(const struct expr_node *a, const struct expr_node *b)
{
	unsigned int x = a->need, y = holds(a) + b->need;

	x = x > y ? x : y;
	return x > 1 ? x : 1;
}

static uint8_t
load_op(enum sl_type t)
{
	switch (t) {
	case SL_T_I32:
		return OP_LD_I32;
	case SL_T_U32:
		return OP_LD_U32;
	case SL_T_BOOL:
		return OP_LD_BOOL;
	case SL_T_F64:
		return OP_LD_F64;
	default:
		return OP_LD_I64;	/* i64, u64 (as two's complement), ts */
	}
}

static int
gen_load(struct gen *g, uint16_t field, uint8_t dst, uint32_t pos)
{
	const struct sl_field *f = &g->p->s->f[field];
	struct expr_ins ins = {
		.op = load_op(f->type),
		.dst = dst,
		.off = f->offset,
	};

	return emit(g, &ins, pos);
}

static int
gen_strcmp(struct gen *g, const struct expr_node *n, uint8_t dst)
{
	const struct sl_field *f = &g->p->s->f[GNODE(g, n->l)->field];
	const struct expr_node *lit = GNODE(g, n->r);
	struct expr_code *c = g->c;
	struct expr_ins ins = { .dst = dst };

	if (lit->v.s.len > f->size) {
		/* A literal longer than the field never equals it. */
		ins.op = OP_K_B;
		ins.k.i = n->op == TOK_NE;
		return emit(g, &ins, n->pos);
	}
	if (c->n_lits + f->size > c->cap_lits) {
		uint32_t cap = c->cap_lits ? c->cap_lits : 64;
		uint8_t *nl;

		while (cap < c->n_lits + f->size)
			cap *= 2;
		nl = realloc(c->lits, cap);
		if (nl == NULL) {
			expr_error(g->p->err, n->pos, "out of memory");
			return -ENOMEM;
		}
		c->lits = nl;
		c->cap_lits = cap;
	}
	/* Padded with NULs to the field's length: then equality is one
	 * memcmp of the whole field, as the field is NUL-padded too. */
	memset(c->lits + c->n_lits, 0, f->size);
	if (lit->v.s.len)
		memcpy(c->lits + c->n_lits, g->p->lits + lit->v.s.off,
		       lit->v.s.len);
	ins.op = n->op == TOK_EQ ? OP_STR_EQ : OP_STR_NE;
	ins.off = f->offset;
	ins.len = f->size;
	ins.lit = c->n_lits;
	c->n_lits += f->size;
	return emit(g, &ins, n->pos);
}

static uint8_t
bin_op(enum expr_tok op, enum expr_vtype t, int *swap)
{
	int f = t == VT_F64;

	*swap = 0;
	switch (op) {
	case TOK_PLUS:
		return f ? OP_ADD_F : OP_ADD_I;
	case TOK_MINUS:
		return f ? OP_SUB_F : OP_SUB_I;
	case TOK_STAR:
		return f ? OP_MUL_F : OP_MUL_I;
	case TOK_SLASH:
		return f ? OP_DIV_F : OP_DIV_I;
	case TOK_PERCENT:
		return OP_MOD_I;	/* the parser rejects double operands */
	case TOK_EQ:
		return t == VT_BOOL ? OP_EQ_B : f ? OP_EQ_F : OP_EQ_I;
	case TOK_NE:
		return t == VT_BOOL ? OP_NE_B : f ? OP_NE_F : OP_NE_I;
	case TOK_GT:
		*swap = 1;
		/* fall through */
	case TOK_LT:
		return f ? OP_LT_F : OP_LT_I;
	case TOK_GE:
		*swap = 1;
		/* fall through */
	case TOK_LE:
		return f ? OP_LE_F : OP_LE_I;
	case TOK_AND:
		return OP_AND;
	default:
		return OP_OR;
	}
}

static int
gen_node(struct gen *g, int32_t i, uint8_t *out)
{
	const struct expr_node *n = GNODE(g, i);
	struct expr_ins ins = { 0 };
	uint8_t a, b;
	int rc, swap;

	switch (n->kind) {
	case N_FIELD:
		if (n->reg >= 0) {
			*out = (uint8_t)n->reg;
			return 0;
		}
		rc = tmp_alloc(g, n->pos, out);
		return rc < 0 ? rc : gen_load(g, n->field, *out, n->pos);
	case N_INT:
	case N_BOOL:
	case N_F64:
		rc = tmp_alloc(g, n->pos, out);
		if (rc < 0)
			return rc;
		ins.op = n->kind == N_INT ? OP_K_I :
			 n->kind == N_BOOL ? OP_K_B : OP_K_F;
		ins.dst = *out;
		ins.k.i = n->v.i;
		if (n->kind == N_F64)
			ins.k.d = n->v.d;
		return emit(g, &ins, n->pos);
	case N_STRCMP:
		rc = tmp_alloc(g, n->pos, out);
		return rc < 0 ? rc : gen_strcmp(g, n, *out);
	case N_NEG:
	case N_NOT:
	case N_I2F:
		rc = gen_node(g, n->l, &a);
		if (rc < 0)
			return rc;
		tmp_release(g, a, a);
		rc = tmp_alloc(g, n->pos, out);
		if (rc < 0)
			return rc;
		ins.op = n->kind == N_NOT ? OP_NOT : n->kind == N_I2F ? OP_I2F :
			 n->type == VT_F64 ? OP_NEG_F : OP_NEG_I;
		ins.dst = *out;
		ins.a = a;
		return emit(g, &ins, n->pos);
	case N_BIN:
		if (peak(GNODE(g, n->l), GNODE(g, n->r)) <=
		    peak(GNODE(g, n->r), GNODE(g, n->l))) {
			rc = gen_node(g, n->l, &a);
			if (rc == 0)
				rc = gen_node(g, n->r, &b);
		} else {
			rc = gen_node(g, n->r, &b);
			if (rc == 0)
				rc = gen_node(g, n->l, &a);
		}
		if (rc < 0)
			return rc;
		tmp_release(g, a, b);
		rc = tmp_alloc(g, n->pos, out);
		if (rc < 0)
			return rc;
		ins.op = bin_op((enum expr_tok)n->op,
				(enum expr_vtype)GNODE(g, n->l)->type, &swap);
		ins.dst = *out;
		ins.a = swap ? b : a;
		ins.b = swap ? a : b;
		return emit(g, &ins, n->pos);
	default:
		/* N_STR only appears under N_STRCMP. */
		return expr_error(g->p->err, n->pos, "internal error: stray node");
	}
}

int
expr_gen(const struct expr_parser *p, int32_t root, struct expr_code *c)
{
	struct gen g = { .p = p, .c = c, .base = p->n_pinned };
	int rc;

	memset(c, 0, sizeof(*c));
	/* Gather prologue: each pinned column once. */
	for (unsigned int r = 0; r < p->n_pinned; r++) {
		rc = gen_load(&g, p->pinned[r], (uint8_t)r, 0);
		if (rc < 0)
			return rc;
	}
	rc = gen_node(&g, root, &c->result);
	if (rc < 0)
		return rc;
	c->n_regs = (uint8_t)(g.base + g.max);
	return 0;
}
