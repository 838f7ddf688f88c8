/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN
 *
 * The event stream is a pure function of the configuration: one
 * xoshiro256** generator, seeded through splitmix64, is drawn in a fixed
 * order per event, so the same seed gives the same bytes on every machine
 * and every run. The order of draws is part of the sample files' identity
 * (configs/samples/ is regenerated from it): change it and the samples
 * change. Per event i:
 *
 *   1. key index k        = U[0, keys)
 *   2. late               = U[0,1) < late_fraction   (drawn only if > 0)
 *   3. late:  ts = base - disorder - U[1, late_ms]
 *      else:  ts = base - U[0, disorder]             (drawn only if > 0)
 *   4. every other field, in schema order:
 *      integers U[0,100), bool U[0,2), f64 U[0,10000)/100,
 *      str a length U[1,N] then that many letters U['a','z']
 *
 * with base = start + i * 1000 / rate in integer arithmetic.
 */
#include <string.h>

#include "gen.h"

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void
gen_rng_seed(struct gen_rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
gen_rng_next(struct gen_rng *r)
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
uint64_t
gen_rng_below(struct gen_rng *r, uint64_t n)
{
	unsigned __int128 m;
	uint64_t lo;

	if (n == 0)
		return 0;
	m = (unsigned __int128)gen_rng_next(r) * n;
	lo = (uint64_t)m;
	if (lo < n) {
		uint64_t thresh = -n % n;

		while (lo < thresh) {
			m = (unsigned __int128)gen_rng_next(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

/* 53 random bits: every double in [0, 1) this can return is exact. */
static double
rng_unit(struct gen_rng *r)
{
	return (double)(gen_rng_next(r) >> 11) * 0x1.0p-53;
}

int64_t
gen_base_ts(const struct gen_conf *c, uint64_t i)
{
	return c->start_ms + (int64_t)(i * 1000 / c->rate);
}

void
gen_set_key(const struct gen_conf *c, uint8_t *row, uint64_t k)
{
	for (uint16_t j = 0; j < c->n_key; j++) {
		const struct sl_field *f = &c->schema.f[c->key_f[j]];

		if (f->type == SL_T_STR) {
			char buf[32];
			int n = snprintf(buf, sizeof(buf), "k%llu",
					 (unsigned long long)k);

			/* NUL padding, and truncation to the field. */
			memset(row + f->offset, 0, f->size);
			memcpy(row + f->offset, buf,
			       (size_t)n < f->size ? (size_t)n : f->size);
		} else {
			sl_row_set_int(row, f, (int64_t)k);
		}
	}
}

static bool
is_key(const struct gen_conf *c, uint16_t fi)
{
	for (uint16_t j = 0; j < c->n_key; j++)
		if (c->key_f[j] == fi)
			return true;
	return false;
}

void
gen_fill_payload(const struct gen_conf *c, struct gen_rng *r, uint8_t *row)
{
	for (uint16_t fi = 0; fi < c->schema.n_fields; fi++) {
		const struct sl_field *f = &c->schema.f[fi];

		if (fi == c->ts_f || is_key(c, fi))
			continue;
		switch (f->type) {
		case SL_T_F64:
			sl_row_set_f64(row, f,
				       (double)gen_rng_below(r, 10000) / 100.0);
			break;
		case SL_T_BOOL:
			sl_row_set_int(row, f, (int64_t)gen_rng_below(r, 2));
			break;
		case SL_T_STR: {
			uint64_t len = 1 + gen_rng_below(r, f->size);

			memset(row + f->offset, 0, f->size);
			for (uint64_t b = 0; b < len; b++)
				row[f->offset + b] =
					(uint8_t)('a' + gen_rng_below(r, 26));
			break;
		}
		default:
			sl_row_set_int(row, f, (int64_t)gen_rng_below(r, 100));
			break;
		}
	}
}

void
gen_stream_init(struct gen_stream *st, const struct gen_conf *c)
{
	st->c = c;
	gen_rng_seed(&st->rng, c->seed);
	st->i = 0;
}

bool
gen_stream_next(struct gen_stream *st, uint8_t *row)
{
	const struct gen_conf *c = st->c;
	uint64_t k = gen_rng_below(&st->rng, c->keys);
	int64_t ts = gen_base_ts(c, st->i);
	bool late = false;

	if (c->late_fraction > 0)
		late = rng_unit(&st->rng) < c->late_fraction;
	if (late)
		ts -= (int64_t)(c->disorder + 1 +
				gen_rng_below(&st->rng, c->late_ms));
	else if (c->disorder > 0)
		ts -= (int64_t)gen_rng_below(&st->rng, c->disorder + 1);

	memset(row, 0, c->schema.row_size);
	gen_set_key(c, row, k);
	sl_row_set_int(row, &c->schema.f[c->ts_f], ts);
	gen_fill_payload(c, &st->rng, row);
	st->i++;
	return late;
}
