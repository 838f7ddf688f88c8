/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN: evaluation is columnar. For each chunk of at most SL_VEC_MAX
 * selected rows, the instructions run in order; each is one loop over the
 * chunk with no branch inside, so the compiler can vectorise compares,
 * logic and add/sub/mul, and a row can never trap: integer division uses a
 * divisor of 1 where the real one is 0 or -1 and then selects the Java
 * result with masks. The selection is then compacted from the result
 * register without a branch either (write always, advance by the bit).
 *
 * gcc 12 at -O2 uses the "very cheap" vectoriser cost model, which
 * refuses any loop needing a runtime alias check or a scalar epilogue, i.e.
 * all of these (n is a runtime value and dst may be an operand register).
 * This file therefore asks for the "cheap" model. gcc's alias check accepts
 * dst == a exactly (same lane read before it is written), so in-place
 * instructions stay vectorised. Verify with -fopt-info-vec-optimized.
 *
 * The registers belong to the expression (no allocation here), so one
 * compiled expression must only be used by one lcore at a time.
 */
#include <assert.h>
#include <string.h>

#include "expr_private.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "vect-cost-model=cheap")
#endif

#define ROW(k) (rows + (size_t)sel[k] * row_size + off)

static void
ld_i64(int64_t *d, const uint8_t *rows, uint16_t row_size,
       const uint16_t *sel, uint16_t off, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++) {
		int64_t v;

		memcpy(&v, ROW(k), 8);
		d[k] = v;
	}
}

static void
ld_i32(int64_t *d, const uint8_t *rows, uint16_t row_size,
       const uint16_t *sel, uint16_t off, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++) {
		int32_t v;

		memcpy(&v, ROW(k), 4);
		d[k] = v;
	}
}

static void
ld_u32(int64_t *d, const uint8_t *rows, uint16_t row_size,
       const uint16_t *sel, uint16_t off, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++) {
		uint32_t v;

		memcpy(&v, ROW(k), 4);
		d[k] = v;
	}
}

static void
ld_bool(uint8_t *d, const uint8_t *rows, uint16_t row_size,
	const uint16_t *sel, uint16_t off, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++)
		d[k] = *ROW(k) != 0;
}

static void
ld_f64(double *d, const uint8_t *rows, uint16_t row_size,
       const uint16_t *sel, uint16_t off, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++)
		memcpy(&d[k], ROW(k), 8);
}

static void
str_eq(uint8_t *d, const uint8_t *rows, uint16_t row_size,
       const uint16_t *sel, uint16_t off, unsigned int n,
       const uint8_t *lit, uint16_t len, uint8_t ne)
{
	for (unsigned int k = 0; k < n; k++)
		d[k] = (memcmp(ROW(k), lit, len) == 0) ^ ne;
}

/*
 * Java's long division, branch-free: the divisor is replaced by 1 where it
 * is 0 (result masked to 0) or -1 (result is the wrapped negation, which
 * also gives INT64_MIN / -1 == INT64_MIN without the x86 trap).
 */
static inline int64_t
div_i(int64_t x, int64_t y)
{
	uint64_t zero = -(uint64_t)(y == 0);
	uint64_t m1 = -(uint64_t)(y == -1);
	uint64_t fix = zero | m1;
	int64_t d = (int64_t)(((uint64_t)y & ~fix) | (1 & fix));
	uint64_t q = (uint64_t)(x / d);
	uint64_t neg = 0 - (uint64_t)x;

	return (int64_t)(((q & ~m1) | (neg & m1)) & ~zero);
}

/* x % -1 is 0, and so is x % 1: the same divisor fix avoids the trap. */
static inline int64_t
mod_i(int64_t x, int64_t y)
{
	uint64_t zero = -(uint64_t)(y == 0);
	uint64_t fix = zero | -(uint64_t)(y == -1);
	int64_t d = (int64_t)(((uint64_t)y & ~fix) | (1 & fix));

	return (int64_t)((uint64_t)(x % d) & ~zero);
}

#define KERNEL_K(name, T)						\
static void								\
name(T *d, T v, unsigned int n)						\
{									\
	for (unsigned int k = 0; k < n; k++)				\
		d[k] = v;						\
}

#define KERNEL1(name, TD, TA, expr)					\
static void								\
name(TD *d, const TA *a, unsigned int n)				\
{									\
	for (unsigned int k = 0; k < n; k++) {				\
		const TA x = a[k];					\
		d[k] = (expr);						\
	}								\
}

#define KERNEL2(name, TD, TA, expr)					\
static void								\
name(TD *d, const TA *a, const TA *b, unsigned int n)			\
{									\
	for (unsigned int k = 0; k < n; k++) {				\
		const TA x = a[k], y = b[k];				\
		d[k] = (expr);						\
	}								\
}

KERNEL_K(k_i, int64_t)
KERNEL_K(k_f, double)
KERNEL_K(k_b, uint8_t)

KERNEL1(i2f, double, int64_t, (double)x)
KERNEL1(neg_i, int64_t, int64_t, (int64_t)(0 - (uint64_t)x))
KERNEL1(neg_f, double, double, -x)
KERNEL1(not_b, uint8_t, uint8_t, x ^ 1)

KERNEL2(add_i, int64_t, int64_t, (int64_t)((uint64_t)x + (uint64_t)y))
KERNEL2(sub_i, int64_t, int64_t, (int64_t)((uint64_t)x - (uint64_t)y))
KERNEL2(mul_i, int64_t, int64_t, (int64_t)((uint64_t)x * (uint64_t)y))
KERNEL2(div_ii, int64_t, int64_t, div_i(x, y))
KERNEL2(mod_ii, int64_t, int64_t, mod_i(x, y))

KERNEL2(add_f, double, double, x + y)
KERNEL2(sub_f, double, double, x - y)
KERNEL2(mul_f, double, double, x * y)
KERNEL2(div_f, double, double, x / y)

KERNEL2(eq_i, uint8_t, int64_t, x == y)
KERNEL2(ne_i, uint8_t, int64_t, x != y)
KERNEL2(lt_i, uint8_t, int64_t, x < y)
KERNEL2(le_i, uint8_t, int64_t, x <= y)
KERNEL2(eq_f, uint8_t, double, x == y)
KERNEL2(ne_f, uint8_t, double, x != y)
KERNEL2(lt_f, uint8_t, double, x < y)
KERNEL2(le_f, uint8_t, double, x <= y)
KERNEL2(eq_b, uint8_t, uint8_t, x == y)
KERNEL2(ne_b, uint8_t, uint8_t, x != y)
KERNEL2(and_b, uint8_t, uint8_t, x & y)
KERNEL2(or_b, uint8_t, uint8_t, x | y)

void
expr_run(const struct sl_expr *e, const uint8_t *rows, uint16_t row_size,
	 const uint16_t *sel, unsigned int n)
{
	union expr_reg *r = e->regs;

	for (uint32_t i = 0; i < e->n_ins; i++) {
		const struct expr_ins *in = &e->ins[i];
		union expr_reg *d = &r[in->dst];
		const union expr_reg *a = &r[in->a], *b = &r[in->b];

		switch ((enum expr_op)in->op) {
		case OP_LD_I64:
			ld_i64(d->i, rows, row_size, sel, in->off, n);
			break;
		case OP_LD_I32:
			ld_i32(d->i, rows, row_size, sel, in->off, n);
			break;
		case OP_LD_U32:
			ld_u32(d->i, rows, row_size, sel, in->off, n);
			break;
		case OP_LD_BOOL:
			ld_bool(d->b, rows, row_size, sel, in->off, n);
			break;
		case OP_LD_F64:
			ld_f64(d->d, rows, row_size, sel, in->off, n);
			break;
		case OP_STR_EQ:
		case OP_STR_NE:
			str_eq(d->b, rows, row_size, sel, in->off, n,
			       e->lits + in->lit, in->len, in->op == OP_STR_NE);
			break;
		case OP_K_I:
			k_i(d->i, in->k.i, n);
			break;
		case OP_K_F:
			k_f(d->d, in->k.d, n);
			break;
		case OP_K_B:
			k_b(d->b, (uint8_t)in->k.i, n);
			break;
		case OP_I2F:
			i2f(d->d, a->i, n);
			break;
		case OP_NEG_I:
			neg_i(d->i, a->i, n);
			break;
		case OP_NEG_F:
			neg_f(d->d, a->d, n);
			break;
		case OP_NOT:
			not_b(d->b, a->b, n);
			break;
		case OP_ADD_I:
			add_i(d->i, a->i, b->i, n);
			break;
		case OP_SUB_I:
			sub_i(d->i, a->i, b->i, n);
			break;
		case OP_MUL_I:
			mul_i(d->i, a->i, b->i, n);
			break;
		case OP_DIV_I:
			div_ii(d->i, a->i, b->i, n);
			break;
		case OP_MOD_I:
			mod_ii(d->i, a->i, b->i, n);
			break;
		case OP_ADD_F:
			add_f(d->d, a->d, b->d, n);
			break;
		case OP_SUB_F:
			sub_f(d->d, a->d, b->d, n);
			break;
		case OP_MUL_F:
			mul_f(d->d, a->d, b->d, n);
			break;
		case OP_DIV_F:
			div_f(d->d, a->d, b->d, n);
			break;
		case OP_EQ_I:
			eq_i(d->b, a->i, b->i, n);
			break;
		case OP_NE_I:
			ne_i(d->b, a->i, b->i, n);
			break;
		case OP_LT_I:
			lt_i(d->b, a->i, b->i, n);
			break;
		case OP_LE_I:
			le_i(d->b, a->i, b->i, n);
			break;
		case OP_EQ_F:
			eq_f(d->b, a->d, b->d, n);
			break;
		case OP_NE_F:
			ne_f(d->b, a->d, b->d, n);
			break;
		case OP_LT_F:
			lt_f(d->b, a->d, b->d, n);
			break;
		case OP_LE_F:
			le_f(d->b, a->d, b->d, n);
			break;
		case OP_EQ_B:
			eq_b(d->b, a->b, b->b, n);
			break;
		case OP_NE_B:
			ne_b(d->b, a->b, b->b, n);
			break;
		case OP_AND:
			and_b(d->b, a->b, b->b, n);
			break;
		case OP_OR:
			or_b(d->b, a->b, b->b, n);
			break;
		case OP__COUNT:
			break;
		}
	}
}

/* Branch-free compaction; safe in place because j <= k. */
static unsigned int
compact(const uint8_t *keep, const uint16_t *sel_in, unsigned int n,
	uint16_t *sel_out)
{
	unsigned int j = 0;

	for (unsigned int k = 0; k < n; k++) {
		sel_out[j] = sel_in[k];
		j += keep[k];
	}
	return j;
}

void
sl_expr_eval(const struct sl_expr *e, const uint8_t *rows, uint16_t row_size,
	     const uint16_t *sel, uint16_t n, void *out)
{
	size_t vs = e->type == SL_EXPR_BOOL ? 1 : 8;

	assert(e != NULL && row_size >= e->row_min);
	if (e == NULL || row_size < e->row_min)
		return;
	for (unsigned int base = 0; base < n; base += SL_VEC_MAX) {
		unsigned int m = n - base < SL_VEC_MAX ? n - base : SL_VEC_MAX;

		expr_run(e, rows, row_size, sel + base, m);
		/* The union's arrays share their start: one copy per type. */
		memcpy((uint8_t *)out + base * vs, e->regs[e->result].b, m * vs);
	}
}

uint16_t
sl_expr_filter(const struct sl_expr *e, const uint8_t *rows,
	       uint16_t row_size, const uint16_t *sel_in, uint16_t n,
	       uint16_t *sel_out)
{
	unsigned int out = 0;

	/* Filtering with a non-boolean expression is a caller bug: loud in
	 * debug builds, an empty selection in release ones. */
	assert(e != NULL && e->type == SL_EXPR_BOOL && row_size >= e->row_min);
	if (e == NULL || e->type != SL_EXPR_BOOL || row_size < e->row_min)
		return 0;
	/* Chunks keep the registers at SL_VEC_MAX values; writes into
	 * sel_out never pass the chunk being read, so aliasing still works. */
	for (unsigned int base = 0; base < n; base += SL_VEC_MAX) {
		unsigned int m = n - base < SL_VEC_MAX ? n - base : SL_VEC_MAX;

		expr_run(e, rows, row_size, sel_in + base, m);
		out += compact(e->regs[e->result].b, sel_in + base, m,
			       sel_out + out);
	}
	return (uint16_t)out;
}
