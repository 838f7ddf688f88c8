/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * map: computed columns are evaluated a vector at a time into column
 * buffers (sl_expr_eval), then each output row is assembled from the
 * copied fields and the buffers. The per-row loop only moves bytes; every
 * decision about a column's kind is made once, at create.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_expr.h"
#include "sl_map.h"

enum col_kind { COL_COPY, COL_I64, COL_F64, COL_BOOL };

struct map_col {
	enum col_kind kind;
	uint16_t in_off, size, out_off;
	struct sl_expr *e;
	union {
		int64_t i[SL_VEC_MAX];
		double d[SL_VEC_MAX];
		uint8_t b[SL_VEC_MAX];
	} val;
};

struct sl_map {
	uint16_t n;
	uint16_t in_row, out_row;
	struct map_col col[];
};

void
sl_map_free(struct sl_map *m)
{
	if (m == NULL)
		return;
	for (uint16_t c = 0; c < m->n; c++)
		sl_expr_free(m->col[c].e);
	free(m);
}

struct sl_map *
sl_map_create(const struct sl_schema *in, uint16_t n, const char *const names[],
	      const char *const texts[], struct sl_schema *out, char *err,
	      size_t errlen)
{
	struct sl_map *m;

	if (n == 0 || n > SL_MAP_MAX_COLS) {
		snprintf(err, errlen, "a map has 1 to %d columns, not %u",
			 SL_MAP_MAX_COLS, n);
		return NULL;
	}
	m = calloc(1, sizeof(*m) + n * sizeof(m->col[0]));
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sl_schema_init(out);
	m->n = n;
	m->in_row = in->row_size;
	for (uint16_t c = 0; c < n; c++) {
		struct map_col *k = &m->col[c];
		int f = sl_schema_find(in, texts[c]);
		enum sl_type t;
		uint16_t sl = 0;

		if (f >= 0) {	/* a field as it is, whatever its type */
			k->kind = COL_COPY;
			k->in_off = in->f[f].offset;
			k->size = in->f[f].size;
			t = in->f[f].type;
			sl = t == SL_T_STR ? in->f[f].size : 0;
		} else {
			struct sl_expr_err ee;

			k->e = sl_expr_compile(texts[c], in, &ee);
			if (k->e == NULL) {
				snprintf(err, errlen, "%s: %s (at byte %u)", names[c],
					 ee.msg, ee.pos);
				goto fail;
			}
			switch (sl_expr_result_type(k->e)) {
			case SL_EXPR_INT:
				k->kind = COL_I64;
				t = SL_T_I64;
				break;
			case SL_EXPR_F64:
				k->kind = COL_F64;
				t = SL_T_F64;
				break;
			default:
				k->kind = COL_BOOL;
				t = SL_T_BOOL;
				break;
			}
		}
		if (sl_schema_find(out, names[c]) >= 0) {
			snprintf(err, errlen, "%s: a column of that name comes before", names[c]);
			goto fail;
		}
		if (sl_schema_add(out, names[c], t, sl) < 0) {
			snprintf(err, errlen, "%s: too many columns or too wide a row", names[c]);
			goto fail;
		}
		k->out_off = out->f[out->n_fields - 1].offset;
		k->size = out->f[out->n_fields - 1].size;
	}
	m->out_row = out->row_size;
	return m;
fail:
	sl_map_free(m);
	return NULL;
}

/* Output row j from input row in: copies and the j-th computed values. */
static inline void
map_assemble(const struct sl_map *m, const uint8_t *in, uint16_t j, uint8_t *o)
{
	for (uint16_t c = 0; c < m->n; c++) {
		const struct map_col *k = &m->col[c];

		switch (k->kind) {
		case COL_COPY:
			memcpy(o + k->out_off, in + k->in_off, k->size);
			break;
		case COL_I64:
			memcpy(o + k->out_off, &k->val.i[j], 8);
			break;
		case COL_F64:
			memcpy(o + k->out_off, &k->val.d[j], 8);
			break;
		case COL_BOOL:
			o[k->out_off] = k->val.b[j];
			break;
		}
	}
}

static inline void
map_eval(struct sl_map *m, const uint8_t *rows, uint16_t row_size,
	 const uint16_t *sel, uint16_t n)
{
	for (uint16_t c = 0; c < m->n; c++)
		if (m->col[c].e != NULL)
			sl_expr_eval(m->col[c].e, rows, row_size, sel, n,
				     &m->col[c].val);
}

uint16_t
sl_map_process(struct sl_map *m, const struct sl_vec *v,
	       uint8_t *(*row_out)(void *ctx), void *ctx)
{
	const uint16_t n = v->n_sel;

	map_eval(m, v->rows, v->row_size, v->sel, n);
	for (uint16_t j = 0; j < n; j++)
		map_assemble(m, v->rows + (size_t)v->sel[j] * v->row_size, j,
			     row_out(ctx));
	return n;
}

void
sl_map_rows(struct sl_map *m, const uint8_t *rows, uint16_t row_size,
	    const uint16_t *sel, uint16_t n, uint8_t *out)
{
	map_eval(m, rows, row_size, sel, n);
	for (uint16_t j = 0; j < n; j++)
		map_assemble(m, rows + (size_t)sel[j] * row_size, j,
			     out + (size_t)j * m->out_row);
}
