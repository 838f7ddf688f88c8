/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Top-N of one window by a bounded min-heap: [0] is the worst of the best
 * K seen so far. Rows come in key order, so a later row never wins a tie
 * against a row already held and needs a strictly larger value to enter.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sl_topk.h"

/* a ranks below b */
static inline bool
topk_worse(const struct sl_topk_ent *a, const struct sl_topk_ent *b)
{
	return a->v < b->v || (a->v == b->v && a->pos > b->pos);
}

static void
topk_sift_down(struct sl_topk_ent *h, uint32_t n, uint32_t i)
{
	struct sl_topk_ent e = h[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && topk_worse(&h[c + 1], &h[c]))
			c++;
		if (!topk_worse(&h[c], &e))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = e;
}

static void
topk_sift_up(struct sl_topk_ent *h, uint32_t i)
{
	struct sl_topk_ent e = h[i];

	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (!topk_worse(&e, &h[p]))
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = e;
}

int
sl_topk_init(struct sl_topk *t, uint32_t k, const struct sl_field *by,
	     bool ascending)
{
	memset(t, 0, sizeof(*t));
	if (k == 0 || k > SL_TOPK_MAX || by == NULL || by->type == SL_T_STR)
		return -EINVAL;
	t->heap = calloc(k, sizeof(*t->heap));
	if (t->heap == NULL)
		return -ENOMEM;
	t->k = k;
	t->ascending = ascending;
	t->by = *by;
	return 0;
}

void
sl_topk_free(struct sl_topk *t)
{
	free(t->heap);
	t->heap = NULL;
	t->k = 0;
}

uint32_t
sl_topk_rank(struct sl_topk *t, const uint8_t *rows, uint16_t row_size,
	     const uint32_t *idx, size_t n, uint32_t *out)
{
	struct sl_topk_ent *h = t->heap;
	const uint64_t flip = t->ascending ? ~0ull : 0;
	uint32_t m = 0;

	for (size_t i = 0; i < n; i++) {
		struct sl_topk_ent e = {
			.v = sl_row_order_key(rows + (size_t)idx[i] * row_size, &t->by) ^ flip,
			.pos = (uint32_t)i,
			.row = idx[i],
		};

		if (m < t->k) {
			h[m] = e;
			topk_sift_up(h, m++);
		} else if (e.v > h[0].v) {
			h[0] = e;
			topk_sift_down(h, m, 0);
		}
	}
	/* Pop the worst to the back: out[0] ends up the best. */
	for (uint32_t left = m; left > 0; left--) {
		out[left - 1] = h[0].row;
		h[0] = h[left - 1];
		topk_sift_down(h, left - 1, 0);
	}
	return m;
}
