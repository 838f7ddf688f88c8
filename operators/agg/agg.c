/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Aggregate accumulators of sl_agg.h. Slot layouts (all fields 8 bytes,
 * read and written with memcpy because a slot may sit at any address):
 *   count, count_distinct   [u64 n]
 *   sum, min, max, avg      [u64 n][value]
 *   first, last             [u64 n][i64 ts][value]
 *   approx_count_distinct   [2^p one-byte registers]
 *   top_k                   [u32 n][u32 0][K x ([value][item, padded to 8])]
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "sl_agg.h"

#define HLL_SEED 0x736c756963656868ull	/* fixed: sketches must merge */

static inline uint64_t
ld(const void *p, size_t off)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)p + off, 8);
	return v;
}

static inline void
st8(void *p, size_t off, uint64_t v)
{
	memcpy((uint8_t *)p + off, &v, 8);
}

static inline unsigned int
hll_p(const struct sl_agg_fn *f)
{
	return f->hll_p == 0 ? SL_AGG_HLL_P_DEFAULT : f->hll_p;
}

static inline size_t
topk_esz(const struct sl_agg_fn *f)
{
	return 8 + (((size_t)f->item_len + 7) & ~(size_t)7);
}

int
sl_agg_check(const struct sl_agg_fn *f)
{
	if (f == NULL || f->type > SL_AGG_F64)
		return -EINVAL;
	switch (f->kind) {
	case SL_AGG_COUNT:
	case SL_AGG_SUM:
	case SL_AGG_MIN:
	case SL_AGG_MAX:
	case SL_AGG_AVG:
	case SL_AGG_FIRST:
	case SL_AGG_LAST:
		return 0;
	case SL_AGG_COUNT_DISTINCT:
		return f->item_len > 0 ? 0 : -EINVAL;
	case SL_AGG_APPROX_COUNT_DISTINCT:
		return hll_p(f) >= 4 && hll_p(f) <= 16 ? 0 : -EINVAL;
	case SL_AGG_TOP_K:
		return f->k > 0 && f->k <= SL_AGG_TOPK_MAX && f->item_len > 0 &&
		       f->item_len <= SL_AGG_TOPK_ITEM_MAX ? 0 : -EINVAL;
	}
	return -EINVAL;
}

size_t
sl_agg_slot_size(const struct sl_agg_fn *f)
{
	if (sl_agg_check(f) < 0)
		return 0;
	switch (f->kind) {
	case SL_AGG_COUNT:
	case SL_AGG_COUNT_DISTINCT:
		return 8;
	case SL_AGG_FIRST:
	case SL_AGG_LAST:
		return 24;
	case SL_AGG_APPROX_COUNT_DISTINCT:
		return (size_t)1 << hll_p(f);
	case SL_AGG_TOP_K:
		return 8 + (size_t)f->k * topk_esz(f);
	default:
		return 16;
	}
}

void
sl_agg_init(const struct sl_agg_fn *f, void *slot)
{
	memset(slot, 0, sl_agg_slot_size(f));
}

/* a < b in the input type */
static inline bool
less(enum sl_agg_type t, uint64_t a, uint64_t b)
{
	double x, y;

	switch (t) {
	case SL_AGG_I64:
		return (int64_t)a < (int64_t)b;
	case SL_AGG_U64:
		return a < b;
	case SL_AGG_F64:
		memcpy(&x, &a, 8);
		memcpy(&y, &b, 8);
		return x < y;
	}
	return false;
}

static inline uint64_t
plus(enum sl_agg_type t, uint64_t a, uint64_t b)
{
	double x, y;

	if (t != SL_AGG_F64)
		return a + b;	/* two's complement wrap, as Java's long */
	memcpy(&x, &a, 8);
	memcpy(&y, &b, 8);
	x += y;
	memcpy(&a, &x, 8);
	return a;
}

static void
hll_add_hash(const struct sl_agg_fn *f, uint8_t *reg, uint64_t h)
{
	unsigned int p = hll_p(f);
	uint64_t w = h << p;
	uint8_t rho = w == 0 ? (uint8_t)(65 - p) : (uint8_t)(__builtin_clzll(w) + 1);
	uint64_t i = h >> (64 - p);

	if (rho > reg[i])
		reg[i] = rho;
}

int
sl_agg_add(const struct sl_agg_fn *f, void *slot, union sl_agg_val v,
	   int64_t ts)
{
	uint64_t n, x = v.u;

	switch (f->kind) {
	case SL_AGG_COUNT:
		st8(slot, 0, ld(slot, 0) + 1);
		return 0;
	case SL_AGG_SUM:
	case SL_AGG_AVG:
		n = ld(slot, 0);
		st8(slot, 8, n == 0 ? x : plus(f->type, ld(slot, 8), x));
		st8(slot, 0, n + 1);
		return 0;
	case SL_AGG_MIN:
	case SL_AGG_MAX:
		n = ld(slot, 0);
		if (n == 0 || (f->kind == SL_AGG_MIN ? less(f->type, x, ld(slot, 8))
						     : less(f->type, ld(slot, 8), x)))
			st8(slot, 8, x);
		st8(slot, 0, n + 1);
		return 0;
	case SL_AGG_FIRST:
	case SL_AGG_LAST:
		n = ld(slot, 0);
		/* first: strictly earlier wins; last: later or equal wins */
		if (n == 0 || (f->kind == SL_AGG_FIRST ? ts < (int64_t)ld(slot, 8)
						       : ts >= (int64_t)ld(slot, 8))) {
			st8(slot, 8, (uint64_t)ts);
			st8(slot, 16, x);
		}
		st8(slot, 0, n + 1);
		return 0;
	case SL_AGG_APPROX_COUNT_DISTINCT:
		hll_add_hash(f, slot, XXH3_64bits_withSeed(&x, 8, HLL_SEED));
		return 0;
	default:
		return -EINVAL;
	}
}

int
sl_agg_add_bytes(const struct sl_agg_fn *f, void *slot, const void *p,
		 size_t len)
{
	if (f->kind != SL_AGG_APPROX_COUNT_DISTINCT)
		return -EINVAL;
	hll_add_hash(f, slot, XXH3_64bits_withSeed(p, len, HLL_SEED));
	return 0;
}

/* ---- top-K ------------------------------------------------------------- */

static inline uint8_t *
tk_ent(const struct sl_agg_fn *f, const void *slot, uint32_t i)
{
	return (uint8_t *)slot + 8 + (size_t)i * topk_esz(f);
}

static inline uint32_t
tk_n(const void *slot)
{
	uint32_t n;

	memcpy(&n, slot, 4);
	return n;
}

/* a ranks before b: larger value, then smaller item bytes */
static bool
tk_before(const struct sl_agg_fn *f, uint64_t va, const void *ia, uint64_t vb,
	  const void *ib)
{
	if (less(f->type, vb, va))
		return true;
	if (less(f->type, va, vb))
		return false;
	return memcmp(ia, ib, f->item_len) < 0;
}

/* put (v, item) at its rank among entries [0, n) and return the new n */
static uint32_t
tk_insert(const struct sl_agg_fn *f, void *slot, uint32_t n, uint64_t v,
	  const void *item)
{
	size_t esz = topk_esz(f);
	uint32_t i = n;

	if (n == f->k) {
		const uint8_t *w = tk_ent(f, slot, n - 1);

		if (!tk_before(f, v, item, ld(w, 0), w + 8))
			return n;	/* not better than the K-th */
		i = --n;
	}
	while (i > 0) {
		const uint8_t *p = tk_ent(f, slot, i - 1);

		if (!tk_before(f, v, item, ld(p, 0), p + 8))
			break;
		i--;
	}
	memmove(tk_ent(f, slot, i + 1), tk_ent(f, slot, i), (n - i) * esz);
	memset(tk_ent(f, slot, i), 0, esz);
	st8(tk_ent(f, slot, i), 0, v);
	memcpy(tk_ent(f, slot, i) + 8, item, f->item_len);
	return n + 1;
}

static void
tk_offer(const struct sl_agg_fn *f, void *slot, const void *item, uint64_t v,
	 bool keep_max)
{
	size_t esz = topk_esz(f);
	uint32_t n = tk_n(slot);

	for (uint32_t i = 0; i < n; i++) {
		uint8_t *e = tk_ent(f, slot, i);

		if (memcmp(e + 8, item, f->item_len) != 0)
			continue;
		if (keep_max && !less(f->type, ld(e, 0), v))
			return;
		/* upsert: take it out, then rank it again */
		memmove(e, e + esz, (n - i - 1) * esz);
		n--;
		break;
	}
	n = tk_insert(f, slot, n, v, item);
	memcpy(slot, &n, 4);
}

int
sl_agg_topk_add(const struct sl_agg_fn *f, void *slot, const void *item,
		union sl_agg_val v)
{
	if (f->kind != SL_AGG_TOP_K || item == NULL)
		return -EINVAL;
	tk_offer(f, slot, item, v.u, false);
	return 0;
}

unsigned int
sl_agg_topk_get(const struct sl_agg_fn *f, const void *slot, void *items,
		union sl_agg_val *vals)
{
	uint32_t n = tk_n(slot);

	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = tk_ent(f, slot, i);

		if (items != NULL)
			memcpy((uint8_t *)items + (size_t)i * f->item_len, e + 8,
			       f->item_len);
		if (vals != NULL)
			vals[i].u = ld(e, 0);
	}
	return n;
}

/* ---- merge and result --------------------------------------------------- */

void
sl_agg_merge(const struct sl_agg_fn *f, void *dst, const void *src)
{
	uint64_t nd, ns;

	switch (f->kind) {
	case SL_AGG_COUNT:
		st8(dst, 0, ld(dst, 0) + ld(src, 0));
		return;
	case SL_AGG_COUNT_DISTINCT:
		return;		/* sl_agg_distinct_merge */
	case SL_AGG_APPROX_COUNT_DISTINCT: {
		uint8_t *d = dst;
		const uint8_t *s = src;

		for (size_t i = 0; i < ((size_t)1 << hll_p(f)); i++)
			if (s[i] > d[i])
				d[i] = s[i];
		return;
	}
	case SL_AGG_TOP_K: {
		uint32_t n = tk_n(src);

		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *e = tk_ent(f, src, i);

			tk_offer(f, dst, e + 8, ld(e, 0), true);
		}
		return;
	}
	default:
		break;
	}
	nd = ld(dst, 0);
	ns = ld(src, 0);
	if (ns == 0)
		return;
	if (nd == 0) {
		memcpy(dst, src, sl_agg_slot_size(f));
		return;
	}
	switch (f->kind) {
	case SL_AGG_SUM:
	case SL_AGG_AVG:
		st8(dst, 8, plus(f->type, ld(dst, 8), ld(src, 8)));
		break;
	case SL_AGG_MIN:
		if (less(f->type, ld(src, 8), ld(dst, 8)))
			st8(dst, 8, ld(src, 8));
		break;
	case SL_AGG_MAX:
		if (less(f->type, ld(dst, 8), ld(src, 8)))
			st8(dst, 8, ld(src, 8));
		break;
	case SL_AGG_FIRST:
		/* ties keep dst, the surviving (earlier) state window */
		if ((int64_t)ld(src, 8) < (int64_t)ld(dst, 8))
			memcpy((uint8_t *)dst + 8, (const uint8_t *)src + 8, 16);
		break;
	case SL_AGG_LAST:
		if ((int64_t)ld(src, 8) >= (int64_t)ld(dst, 8))
			memcpy((uint8_t *)dst + 8, (const uint8_t *)src + 8, 16);
		break;
	default:
		break;
	}
	st8(dst, 0, nd + ns);
}

double
sl_agg_hll_std_error(unsigned int p)
{
	return 1.04 / sqrt((double)(1u << p));
}

static uint64_t
hll_estimate(const struct sl_agg_fn *f, const uint8_t *reg)
{
	unsigned int p = hll_p(f);
	double m = (double)(1u << p), sum = 0, alpha, e;
	uint32_t zeros = 0;

	for (uint32_t i = 0; i < (1u << p); i++) {
		sum += ldexp(1.0, -(int)reg[i]);
		zeros += reg[i] == 0;
	}
	alpha = p == 4 ? 0.673 : p == 5 ? 0.697 : p == 6 ? 0.709 :
		0.7213 / (1.0 + 1.079 / m);
	e = alpha * m * m / sum;
	/* small range: linear counting is far more accurate there */
	if (e <= 2.5 * m && zeros > 0)
		e = m * log(m / (double)zeros);
	return (uint64_t)llround(e);
}

void
sl_agg_result(const struct sl_agg_fn *f, const void *slot,
	      struct sl_agg_result *r)
{
	uint64_t n;

	memset(r, 0, sizeof(*r));
	r->type = f->type;
	switch (f->kind) {
	case SL_AGG_COUNT:
	case SL_AGG_COUNT_DISTINCT:
		r->type = SL_AGG_U64;
		r->v.u = ld(slot, 0);
		return;
	case SL_AGG_APPROX_COUNT_DISTINCT:
		r->type = SL_AGG_U64;
		r->v.u = hll_estimate(f, slot);
		return;
	case SL_AGG_TOP_K:
		r->type = SL_AGG_U64;
		r->v.u = tk_n(slot);
		return;
	default:
		break;
	}
	n = ld(slot, 0);
	if (n == 0) {
		r->null = true;
		return;
	}
	switch (f->kind) {
	case SL_AGG_AVG: {
		uint64_t s = ld(slot, 8);
		double d;

		if (f->type == SL_AGG_I64)
			d = (double)(int64_t)s;
		else if (f->type == SL_AGG_U64)
			d = (double)s;
		else
			memcpy(&d, &s, 8);
		r->type = SL_AGG_F64;
		r->v.f = d / (double)n;
		return;
	}
	case SL_AGG_FIRST:
	case SL_AGG_LAST:
		r->v.u = ld(slot, 16);
		return;
	default:
		r->v.u = ld(slot, 8);
		return;
	}
}

/* ---- sl_state aggregating state ---------------------------------------- */

static void
st_create(void *acc, void *ctx)
{
	sl_agg_init(ctx, acc);
}

static void
st_add(void *acc, const void *in, void *ctx)
{
	union sl_agg_val v;

	memcpy(&v, in, 8);
	sl_agg_add(ctx, acc, v, 0);
}

static void
st_result(const void *acc, void *out, void *ctx)
{
	struct sl_agg_result r;

	sl_agg_result(ctx, acc, &r);
	memcpy(out, &r, sizeof(r));
}

struct sl_state_desc
sl_agg_state_desc(const char *name, const struct sl_agg_fn *f,
		  uint16_t key_len, uint16_t ns_len)
{
	struct sl_state_desc d = {
		.name = name, .kind = SL_STATE_AGGREGATING, .key_len = key_len,
		.ns_len = ns_len, .val_len = (uint32_t)sl_agg_slot_size(f),
		.in_len = 8, .out_len = sizeof(struct sl_agg_result),
		.create = st_create, .add = st_add, .result = st_result,
		.ctx = (void *)(uintptr_t)f,
	};

	return d;
}

/* ---- exact count_distinct over a map state ------------------------------ */

struct sl_state_desc
sl_agg_distinct_desc(const char *name, uint16_t key_len, uint16_t ns_len,
		     uint16_t val_len)
{
	struct sl_state_desc d = {
		.name = name, .kind = SL_STATE_MAP, .key_len = key_len,
		.ns_len = ns_len, .ukey_len = val_len,
	};

	return d;
}

int
sl_agg_distinct_add(const struct sl_agg_fn *f, void *slot, struct sl_state *st,
		    int map_id, const struct sl_state_ref *ref, const void *val)
{
	int rc;

	if (f->kind != SL_AGG_COUNT_DISTINCT)
		return -EINVAL;
	rc = sl_state_map_contains(st, map_id, ref, 0, val);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	rc = sl_state_map_put(st, map_id, ref, 0, val, NULL, 0);
	if (rc < 0)
		return rc;
	st8(slot, 0, ld(slot, 0) + 1);
	return 1;
}

struct collect {
	uint8_t *buf;
	size_t n, cap, len;
	int err;
};

static int
collect_cb(void *arg, const void *ukey, const void *val, uint32_t len)
{
	struct collect *c = arg;

	(void)val;
	(void)len;
	if (c->n == c->cap) {
		size_t nc = c->cap == 0 ? 64 : c->cap * 2;
		uint8_t *nb = realloc(c->buf, nc * c->len);

		if (nb == NULL) {
			c->err = -ENOMEM;
			return 1;
		}
		c->buf = nb;
		c->cap = nc;
	}
	memcpy(c->buf + c->n++ * c->len, ukey, c->len);
	return 0;
}

int
sl_agg_distinct_merge(const struct sl_agg_fn *f, void *dst_slot,
		      struct sl_state *st, int map_id,
		      const struct sl_state_ref *dst,
		      const struct sl_state_ref *src)
{
	/* collect first: inserting while iterating the same table is unsafe */
	struct collect c = { .len = f->item_len };
	int rc, added = 0;

	if (f->kind != SL_AGG_COUNT_DISTINCT)
		return -EINVAL;
	rc = sl_state_map_iter(st, map_id, src, 0, collect_cb, &c);
	if (rc < 0 || c.err < 0) {
		free(c.buf);
		return rc < 0 ? rc : c.err;
	}
	for (size_t i = 0; i < c.n; i++) {
		rc = sl_agg_distinct_add(f, dst_slot, st, map_id, dst,
					 c.buf + i * c.len);
		if (rc < 0)
			break;
		added += rc;
	}
	free(c.buf);
	if (rc < 0)
		return rc;
	rc = sl_state_clear(st, map_id, src);
	return rc < 0 ? rc : added;
}

/* ---- sets --------------------------------------------------------------- */

int
sl_agg_set_init(struct sl_agg_set *s, const struct sl_agg_fn *fns,
		unsigned int n)
{
	size_t off = 0;

	if (s == NULL || fns == NULL || n == 0 || n > SL_AGG_SET_MAX)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	for (unsigned int i = 0; i < n; i++) {
		size_t sz = sl_agg_slot_size(&fns[i]);

		if (sz == 0)
			return -EINVAL;
		s->fn[i] = fns[i];
		s->off[i] = (uint32_t)off;
		off += (sz + 7) & ~(size_t)7;
		if (off > UINT32_MAX)
			return -EINVAL;
	}
	s->n = n;
	s->size = (uint32_t)off;
	return 0;
}

void
sl_agg_set_reset(const struct sl_agg_set *s, void *acc)
{
	memset(acc, 0, s->size);
}

void
sl_agg_set_add(const struct sl_agg_set *s, void *acc,
	       const union sl_agg_val *vals, int64_t ts)
{
	for (unsigned int i = 0; i < s->n; i++)
		if (s->fn[i].kind != SL_AGG_COUNT_DISTINCT &&
		    s->fn[i].kind != SL_AGG_TOP_K)
			sl_agg_add(&s->fn[i], sl_agg_set_slot(s, acc, i), vals[i],
				   ts);
}

void
sl_agg_set_merge(const struct sl_agg_set *s, void *dst, const void *src)
{
	for (unsigned int i = 0; i < s->n; i++)
		sl_agg_merge(&s->fn[i], sl_agg_set_slot(s, dst, i),
			     (const uint8_t *)src + s->off[i]);
}
