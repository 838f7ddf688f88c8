/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The deterministic generator (the draw order is in sl_gen.h). What costs
 * per row is decided once in sl_gen_init: each field becomes an op
 * (offset, size, kind), and the event-time base advances by a quotient
 * and a remainder instead of a 64-bit division per row. Everything the
 * fill loop calls is static inline here, so it compiles to one loop.
 */
#include <errno.h>
#include <string.h>

#include "sl_gen.h"

/* The fill loop must become one function: a helper left out of line
 * takes the generator state's address and pins it to the stack. */
#define GEN_INLINE static inline __attribute__((always_inline))

enum gen_kind {
	GEN_K_I64,	/* 8-byte integers and timestamps */
	GEN_K_I32,	/* i32, u32 */
	GEN_K_BOOL,
	GEN_K_F64,
	GEN_K_STR,
};

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void
sl_gen_rng_seed(struct sl_gen_rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

GEN_INLINE uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

GEN_INLINE uint64_t
rng_next(struct sl_gen_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* Lemire's multiply-and-reject: unbiased, and one multiply in the common
 * case, where a modulo would skew small ranges. */
GEN_INLINE uint64_t
rng_below(struct sl_gen_rng *r, uint64_t n)
{
	unsigned __int128 m;
	uint64_t lo;

	if (n == 0)
		return 0;
	m = (unsigned __int128)rng_next(r) * n;
	lo = (uint64_t)m;
	if (__builtin_expect(lo < n, 0)) {
		uint64_t thresh = -n % n;

		while (lo < thresh) {
			m = (unsigned __int128)rng_next(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

/* 53 random bits: every double in [0, 1) this can return is exact. */
GEN_INLINE double
rng_unit(struct sl_gen_rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t
sl_gen_rng_next(struct sl_gen_rng *r)
{
	return rng_next(r);
}

uint64_t
sl_gen_rng_below(struct sl_gen_rng *r, uint64_t n)
{
	return rng_below(r, n);
}

int64_t
sl_gen_base_ts(const struct sl_gen_params *p, uint64_t i)
{
	return p->start_ms + (int64_t)(i * 1000 / p->rate);
}

static struct sl_gen_op
op_of(const struct sl_field *f)
{
	struct sl_gen_op o = { .off = f->offset, .size = f->size };

	switch (f->type) {
	case SL_T_I32:
	case SL_T_U32:
		o.kind = GEN_K_I32;
		break;
	case SL_T_BOOL:
		o.kind = GEN_K_BOOL;
		break;
	case SL_T_F64:
		o.kind = GEN_K_F64;
		break;
	case SL_T_STR:
		o.kind = GEN_K_STR;
		break;
	default:
		o.kind = GEN_K_I64;
		break;
	}
	return o;
}

GEN_INLINE void
put_int(uint8_t *row, const struct sl_gen_op *o, int64_t v)
{
	switch (o->kind) {
	case GEN_K_I32: {
		uint32_t w = (uint32_t)v;

		memcpy(row + o->off, &w, 4);
		break;
	}
	case GEN_K_BOOL:
		row[o->off] = v != 0;
		break;
	default:
		memcpy(row + o->off, &v, 8);
		break;
	}
}

/* "k<decimal>" truncated to the field, NUL-padded: what
 * snprintf("k%llu") gave, without the format parser per row. */
GEN_INLINE void
put_str_key(uint8_t *row, const struct sl_gen_op *o, uint64_t k)
{
	char buf[24];
	int n = 0, d = 0;
	char dig[20];

	buf[n++] = 'k';
	do {
		dig[d++] = (char)('0' + k % 10);
		k /= 10;
	} while (k != 0);
	while (d > 0)
		buf[n++] = dig[--d];
	memset(row + o->off, 0, o->size);
	memcpy(row + o->off, buf, (size_t)n < o->size ? (size_t)n : o->size);
}

GEN_INLINE void
set_key(const struct sl_gen *g, uint8_t *row, uint64_t k)
{
	for (uint16_t j = 0; j < g->n_keyop; j++) {
		const struct sl_gen_op *o = &g->keyop[j];

		if (o->kind == GEN_K_STR)
			put_str_key(row, o, k);
		else
			put_int(row, o, (int64_t)k);
	}
}

GEN_INLINE void
fill_payload(const struct sl_gen *g, struct sl_gen_rng *r, uint8_t *row)
{
	for (uint16_t j = 0; j < g->n_payop; j++) {
		const struct sl_gen_op *o = &g->payop[j];

		switch (o->kind) {
		case GEN_K_F64: {
			double v = (double)rng_below(r, 10000) / 100.0;

			memcpy(row + o->off, &v, 8);
			break;
		}
		case GEN_K_BOOL:
			row[o->off] = (uint8_t)rng_below(r, 2);
			break;
		case GEN_K_STR: {
			uint64_t len = 1 + rng_below(r, o->size);

			memset(row + o->off, 0, o->size);
			for (uint64_t b = 0; b < len; b++)
				row[o->off + b] = (uint8_t)('a' + rng_below(r, 26));
			break;
		}
		default:
			put_int(row, o, (int64_t)rng_below(r, 100));
			break;
		}
	}
}

void
sl_gen_set_key(const struct sl_gen *g, uint8_t *row, uint64_t k)
{
	set_key(g, row, k);
}

void
sl_gen_fill_payload(const struct sl_gen *g, struct sl_gen_rng *r,
		    uint8_t *row)
{
	fill_payload(g, r, row);
}

static bool
is_key(const struct sl_gen_params *p, uint16_t fi)
{
	for (uint16_t j = 0; j < p->n_key; j++)
		if (p->key_f[j] == fi)
			return true;
	return false;
}

int
sl_gen_init(struct sl_gen *g, const struct sl_gen_params *p)
{
	const struct sl_schema *s = p->schema;

	if (s == NULL || p->keys == 0 || p->rate == 0 || p->n_key == 0 ||
	    p->n_key > SL_SCHEMA_MAX_FIELDS || p->ts_f >= s->n_fields ||
	    (p->late_fraction > 0 && p->late_ms == 0))
		return -EINVAL;
	memset(g, 0, sizeof(*g));
	g->p = *p;
	g->row_size = s->row_size;
	g->ts = op_of(&s->f[p->ts_f]);
	for (uint16_t j = 0; j < p->n_key; j++) {
		if (p->key_f[j] >= s->n_fields)
			return -EINVAL;
		g->keyop[g->n_keyop++] = op_of(&s->f[p->key_f[j]]);
	}
	for (uint16_t fi = 0; fi < s->n_fields; fi++)
		if (fi != p->ts_f && !is_key(p, fi))
			g->payop[g->n_payop++] = op_of(&s->f[fi]);
	/* The bytes no field covers: the padding gen_row zeroes. */
	{
		uint8_t cover[SL_ROW_MAX] = { 0 };

		for (uint16_t fi = 0; fi < s->n_fields; fi++)
			memset(cover + s->f[fi].offset, 1, s->f[fi].size);
		for (uint16_t b = 0; b < s->row_size; b++) {
			if (cover[b])
				continue;
			if (g->n_pad > 0 &&
			    g->pad[g->n_pad - 1].off + g->pad[g->n_pad - 1].size == b)
				g->pad[g->n_pad - 1].size++;
			else if (g->n_pad < SL_SCHEMA_MAX_FIELDS + 1)
				g->pad[g->n_pad++] = (struct sl_gen_op){ .off = b, .size = 1 };
			else
				return -EINVAL;
		}
	}
	g->step_q = 1000 / p->rate;
	g->step_r = 1000 % p->rate;
	sl_gen_seek(g, 0);
	return 0;
}

/* The state one event advances, held in locals by sl_gen_fill: rows are
 * written through uint8_t pointers, which may alias anything, so state
 * left in *g would be stored and reloaded around every row. */
struct gen_cur {
	struct sl_gen_rng rng;
	uint64_t i;
	int64_t base;
	uint64_t rem;
};

/* One event; the loop body of sl_gen_fill. */
GEN_INLINE bool
gen_row(const struct sl_gen *g, struct gen_cur *c, uint8_t *row)
{
	const struct sl_gen_params *p = &g->p;
	uint64_t k = rng_below(&c->rng, p->keys);
	int64_t ts = c->base;
	bool late = false;

	if (p->late_fraction > 0)
		late = rng_unit(&c->rng) < p->late_fraction;
	if (late)
		ts -= (int64_t)(p->disorder + 1 + rng_below(&c->rng, p->late_ms));
	else if (p->disorder > 0)
		ts -= (int64_t)rng_below(&c->rng, p->disorder + 1);

	/* Every field is written below; only the padding between them
	 * needs zeroing (rows are compared and hashed as bytes). */
	for (uint16_t j = 0; j < g->n_pad; j++)
		for (uint16_t b = 0; b < g->pad[j].size; b++)
			row[g->pad[j].off + b] = 0;
	set_key(g, row, k);
	put_int(row, &g->ts, ts);
	fill_payload(g, &c->rng, row);

	/* base(i + 1) = base(i) + 1000 / rate, plus one when the remainders
	 * of 1000 / rate add up past rate: exactly (i + 1) * 1000 / rate. */
	c->i++;
	c->base += (int64_t)g->step_q;
	c->rem += g->step_r;
	if (c->rem >= p->rate) {
		c->rem -= p->rate;
		c->base++;
	}
	return late;
}

uint32_t
sl_gen_fill(struct sl_gen *g, uint8_t *rows, uint32_t n)
{
	const uint16_t rs = g->row_size;
	struct gen_cur c = { g->rng, g->i, g->base, g->rem };
	uint32_t late = 0;

	for (uint32_t j = 0; j < n; j++)
		late += gen_row(g, &c, rows + (size_t)j * rs);
	g->rng = c.rng;
	g->i = c.i;
	g->base = c.base;
	g->rem = c.rem;
	return late;
}

void
sl_gen_seek(struct sl_gen *g, uint64_t i)
{
	uint8_t scratch[SL_ROW_MAX];

	sl_gen_rng_seed(&g->rng, g->p.seed);
	g->i = 0;
	g->base = g->p.start_ms;
	g->rem = 0;
	while (g->i < i)
		sl_gen_fill(g, scratch, 1);
}
