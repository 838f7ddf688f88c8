/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sink's order, (window_start, key fields), by radix sort.
 *
 * A window fire hands the sink one row per key at once (10M rows at 10M
 * keys), and a comparison sort through a per-field comparator took longer
 * than the job's whole input phase. Each row is reduced to two words that
 * compare as the fields do: the window start and the first key field,
 * each mapped to an unsigned integer in the same order (sign bit flipped
 * for signed integers, IEEE order for doubles, the first 8 bytes
 * big-endian for strings, as memcmp orders them). An LSD radix sort over
 * the bytes of those words that differ between rows then orders them;
 * constant bytes (most of the window start, the high bytes of small keys)
 * cost nothing. Only where the two words cannot decide (a second key
 * field, or a string longer than 8 bytes) do runs of equal words fall back
 * to the full comparator.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp.h"

struct dp_sort_ent {
	uint64_t w[2];		/* [0] window start, [1] first key field */
	uint64_t idx;
};

static int
cmp_field(const struct sl_field *f, const uint8_t *a, const uint8_t *b)
{
	switch (f->type) {
	case SL_T_STR:
		return memcmp(a + f->offset, b + f->offset, f->size);
	case SL_T_F64: {
		double x = sl_row_get_f64(a, f), y = sl_row_get_f64(b, f);

		return (x > y) - (x < y);
	}
	case SL_T_U64:
	case SL_T_U32:
	case SL_T_BOOL: {
		uint64_t x = (uint64_t)sl_row_get_int(a, f);
		uint64_t y = (uint64_t)sl_row_get_int(b, f);

		return (x > y) - (x < y);
	}
	default: {
		int64_t x = sl_row_get_int(a, f), y = sl_row_get_int(b, f);

		return (x > y) - (x < y);
	}
	}
}

struct cmp_ctx {
	const struct sl_schema *s;
	uint16_t nk;
	const uint8_t *rows;
};

/* The sink's whole order; only for ties of the radix words. Ties of it
 * keep arrival order (a late firing's update follows the first result,
 * R3.3), as the radix passes do. */
static int
cmp_rows(const void *pa, const void *pb, void *arg)
{
	const struct cmp_ctx *c = arg;
	const uint16_t rs = c->s->row_size;
	const uint8_t *a = c->rows + (size_t)*(const uint32_t *)pa * rs;
	const uint8_t *b = c->rows + (size_t)*(const uint32_t *)pb * rs;
	int r = cmp_field(&c->s->f[c->nk], a, b);	/* window_start */

	for (uint16_t k = 0; r == 0 && k < c->nk; k++)
		r = cmp_field(&c->s->f[k], a, b);
	if (r == 0)
		r = (*(const uint32_t *)pa > *(const uint32_t *)pb) -
		    (*(const uint32_t *)pa < *(const uint32_t *)pb);
	return r;
}

static inline unsigned int
ent_byte(const struct dp_sort_ent *e, unsigned int b)
{
	/* b 0..7: the key word's bytes, low first; 8..15: the window's. */
	return (unsigned int)(e->w[b < 8] >> ((b & 7) * 8)) & 0xff;
}

int
dp_sink_sort(struct dp_sort *so, const struct sl_schema *s, uint16_t nk,
	     const uint8_t *rows, uint32_t *idx, size_t n)
{
	const uint16_t rs = s->row_size;
	struct dp_sort_ent *a, *b;
	uint64_t diff[2] = { 0, 0 };
	bool exact;

	if (n < 2)
		return 0;
	if (n > so->cap) {
		struct dp_sort_ent *x = realloc(so->a, n * sizeof(*x));
		struct dp_sort_ent *y;

		if (x == NULL)
			return -ENOMEM;
		so->a = x;
		y = realloc(so->b, n * sizeof(*y));
		if (y == NULL)
			return -ENOMEM;
		so->b = y;
		so->cap = n;
	}
	a = so->a;
	b = so->b;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *r = rows + (size_t)idx[i] * rs;

		a[i].w[0] = sl_row_order_key(r, &s->f[nk]);	/* window_start */
		a[i].w[1] = nk ? sl_row_order_key(r, &s->f[0]) : 0;
		a[i].idx = idx[i];
		diff[0] |= a[i].w[0] ^ a[0].w[0];
		diff[1] |= a[i].w[1] ^ a[0].w[1];
	}
	for (unsigned int byte = 0; byte < 16; byte++) {
		size_t cnt[256] = { 0 }, sum = 0;

		if (((diff[byte < 8] >> ((byte & 7) * 8)) & 0xff) == 0)
			continue;	/* the same in every row */
		for (size_t i = 0; i < n; i++)
			cnt[ent_byte(&a[i], byte)]++;
		for (unsigned int d = 0; d < 256; d++) {
			size_t c = cnt[d];

			cnt[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			b[cnt[ent_byte(&a[i], byte)]++] = a[i];
		{
			struct dp_sort_ent *t = a;

			a = b;
			b = t;
		}
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = (uint32_t)a[i].idx;
	/* Two words decide unless a second key field or the rest of a long
	 * string can: sort each run of equal words by the whole order. */
	exact = nk <= 1 && (nk == 0 || s->f[0].type != SL_T_STR || s->f[0].size <= 8);
	if (!exact) {
		struct cmp_ctx c = { s, nk, rows };
		size_t i = 0;

		while (i < n) {
			size_t j = i + 1;

			while (j < n && a[j].w[0] == a[i].w[0] && a[j].w[1] == a[i].w[1])
				j++;
			if (j - i > 1)
				qsort_r(idx + i, j - i, sizeof(*idx), cmp_rows, &c);
			i = j;
		}
	}
	return 0;
}

void
dp_sink_sort_free(struct dp_sort *so)
{
	free(so->a);
	free(so->b);
	memset(so, 0, sizeof(*so));
}
