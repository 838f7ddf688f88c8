/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * map: copied fields keep their type and bytes, computed ones get the
 * expression's type, only the selected rows come out, in order, the same
 * from a vector (sl_map_process) as from rows in place (sl_map_rows).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sl_map.h"

struct sink {
	uint8_t rows[SL_VEC_MAX][64];
	uint16_t n;
};

static uint8_t *
next_row(void *ctx)
{
	struct sink *k = ctx;

	return k->rows[k->n++];
}

static void
test_map_columns(void **state)
{
	static const char *const names[] = { "s", "k", "v2", "q", "odd", "ts" };
	static const char *const texts[] = { "s", "k", "v * 2 - 7", "v / 4.0",
					     "v % 2 == 1", "ts" };
	struct sl_schema in, out;
	struct sl_vec *v;
	struct sl_map *m;
	static struct sink k;
	char err[160];

	(void)state;
	sl_schema_init(&in);
	assert_true(sl_schema_add(&in, "k", SL_T_U64, 0) >= 0);
	assert_true(sl_schema_add(&in, "v", SL_T_U32, 0) >= 0);
	assert_true(sl_schema_add(&in, "ts", SL_T_TS, 0) >= 0);
	assert_true(sl_schema_add(&in, "s", SL_T_STR, 3) >= 0);
	m = sl_map_create(&in, 6, names, texts, &out, err, sizeof(err));
	assert_non_null(m);
	assert_int_equal(out.n_fields, 6);
	assert_int_equal(out.f[0].type, SL_T_STR);
	assert_int_equal(out.f[0].size, 3);
	assert_int_equal(out.f[1].type, SL_T_U64);
	assert_int_equal(out.f[2].type, SL_T_I64);
	assert_int_equal(out.f[3].type, SL_T_F64);
	assert_int_equal(out.f[4].type, SL_T_BOOL);
	assert_int_equal(out.f[5].type, SL_T_TS);
	assert_int_equal(out.row_size, 3 + 8 + 8 + 8 + 1 + 8);

	v = calloc(1, sl_vec_size(in.row_size));
	assert_non_null(v);
	sl_vec_reset(v, in.row_size);
	for (uint16_t i = 0; i < 5; i++) {
		uint8_t *r = sl_vec_row(v, i);

		sl_row_set_int(r, &in.f[0], 100 + i);
		sl_row_set_int(r, &in.f[1], i * 3);
		sl_row_set_int(r, &in.f[2], -5000 + i);
		memcpy(r + in.f[3].offset, i == 1 ? "ab" : "xyz", 3);
		v->n_rows++;
	}
	/* a filter kept rows 1, 3 and 4 */
	v->sel[0] = 1;
	v->sel[1] = 3;
	v->sel[2] = 4;
	v->n_sel = 3;
	assert_int_equal(sl_map_process(m, v, next_row, &k), 3);
	assert_int_equal(k.n, 3);
	for (uint16_t j = 0; j < 3; j++) {
		const uint8_t *o = k.rows[j];
		int64_t i = v->sel[j], vv = i * 3;

		assert_memory_equal(o + out.f[0].offset, i == 1 ? "ab\0" : "xyz", 3);
		assert_int_equal(sl_row_get_int(o, &out.f[1]), 100 + i);
		assert_int_equal(sl_row_get_int(o, &out.f[2]), vv * 2 - 7);
		assert_true(sl_row_get_f64(o, &out.f[3]) == (double)vv / 4.0);
		assert_int_equal(o[out.f[4].offset], vv % 2 == 1);
		assert_int_equal(sl_row_get_int(o, &out.f[5]), -5000 + i);
	}
	/* The same rows in place (a source's batch, not a vector): the
	 * selected ones, side by side in out's row size. */
	{
		uint8_t flat[3 * 64];

		sl_map_rows(m, v->rows, in.row_size, v->sel, 3, flat);
		assert_memory_equal(flat, k.rows[0], out.row_size);
		assert_memory_equal(flat + out.row_size, k.rows[1], out.row_size);
		assert_memory_equal(flat + 2 * out.row_size, k.rows[2], out.row_size);
	}
	free(v);
	sl_map_free(m);
}

static void
test_map_errors(void **state)
{
	static const char *const n2[] = { "a", "a" }, *const t2[] = { "k", "v" };
	static const char *const n1[] = { "a" }, *const t1[] = { "v +" };
	struct sl_schema in, out;
	char err[160];

	(void)state;
	sl_schema_init(&in);
	assert_true(sl_schema_add(&in, "k", SL_T_U64, 0) >= 0);
	assert_true(sl_schema_add(&in, "v", SL_T_U32, 0) >= 0);
	assert_null(sl_map_create(&in, 2, n2, t2, &out, err, sizeof(err)));
	assert_string_equal(err, "a: a column of that name comes before");
	assert_null(sl_map_create(&in, 1, n1, t1, &out, err, sizeof(err)));
	assert_non_null(strstr(err, "a: "));
	assert_null(sl_map_create(&in, 0, n1, t1, &out, err, sizeof(err)));
	assert_string_equal(err, "a map has 1 to 32 columns, not 0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_columns),
		cmocka_unit_test(test_map_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
