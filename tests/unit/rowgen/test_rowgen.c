/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: the shared generator (drivers/gen, sl_gen.h) is
 * deterministic. The same parameters give the same bytes however the rows
 * are asked for (one at a time or in batches of any size); another seed
 * gives other bytes; seeking to row i gives the rows a run from row 0
 * gives from i; the incremental event-time base equals start + i * 1000 /
 * rate for awkward rates; string keys are "k<n>" truncated and NUL-padded;
 * the late count is exactly the rows made late. A golden hash pins the
 * stream itself: it is the one `sluice-gen write` produced before the
 * generator moved to drivers/gen (its CSV, pcap and capture bytes were
 * compared equal then), so a change to the draws fails here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sl_gen.h"

static struct sl_schema schema;

/* k:str[6],a:f64,b:bool,c:i32,d:u32,s:str[12],ts:timestamp_ms,e:i64 */
static void
mixed(struct sl_gen_params *p, uint64_t seed)
{
	size_t at;

	memset(&schema, 0, sizeof(schema));
	assert_int_equal(sl_schema_parse_spec(&schema,
		"k:str[6],a:f64,b:bool,c:i32,d:u32,s:str[12],ts:timestamp_ms,e:i64",
		&at), 0);
	memset(p, 0, sizeof(*p));
	p->schema = &schema;
	p->n_key = 1;
	p->key_f[0] = 0;
	p->ts_f = 6;
	p->seed = seed;
	p->keys = 123457;
	p->start_ms = 1700000000000LL;
	p->rate = 777;
	p->disorder = 40;
	p->late_fraction = 0.1;
	p->late_ms = 99;
}

static uint64_t
fnv(const uint8_t *b, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

#define N 20000

static void
test_same_bytes_any_batching(void **state)
{
	struct sl_gen_params p;
	struct sl_gen a, b;
	uint8_t *x, *y;
	uint32_t late_a, late_b = 0, off = 0, step = 1;

	(void)state;
	mixed(&p, 3);
	x = calloc(N, schema.row_size);
	y = calloc(N, schema.row_size);
	assert_non_null(x);
	assert_non_null(y);
	assert_int_equal(sl_gen_init(&a, &p), 0);
	assert_int_equal(sl_gen_init(&b, &p), 0);
	late_a = sl_gen_fill(&a, x, N);
	/* Chunks of 1, 2, 3, ... 256, 1, ...: batching changes nothing. */
	while (off < N) {
		uint32_t n = step < N - off ? step : N - off;

		late_b += sl_gen_fill(&b, y + (size_t)off * schema.row_size, n);
		off += n;
		step = step % 256 + 1;
	}
	assert_memory_equal(x, y, (size_t)N * schema.row_size);
	assert_int_equal(late_a, late_b);
	assert_int_equal(a.i, N);
	/* The golden stream (see the description). */
	assert_int_equal(fnv(x, (size_t)N * schema.row_size), 0x3eacc5580136d56full);
	assert_int_equal(late_a, 1986);

	/* Another seed, other rows. */
	mixed(&p, 4);
	assert_int_equal(sl_gen_init(&b, &p), 0);
	sl_gen_fill(&b, y, N);
	assert_memory_not_equal(x, y, (size_t)N * schema.row_size);
	free(x);
	free(y);
}

static void
test_seek(void **state)
{
	static const uint64_t at[] = { 0, 1, 255, 256, 9999, N - 1, N };
	struct sl_gen_params p;
	struct sl_gen a, b;
	uint8_t *x, *y;

	(void)state;
	mixed(&p, 3);
	x = calloc(N, schema.row_size);
	y = calloc(N, schema.row_size);
	assert_int_equal(sl_gen_init(&a, &p), 0);
	sl_gen_fill(&a, x, N);
	assert_int_equal(sl_gen_init(&b, &p), 0);
	sl_gen_fill(&b, y, 77);	/* a stream that moved on, then seeks */
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		sl_gen_seek(&b, at[i]);
		assert_int_equal(b.i, at[i]);
		sl_gen_fill(&b, y, (uint32_t)(N - at[i]));
		assert_memory_equal(x + at[i] * schema.row_size, y,
				    (N - at[i]) * schema.row_size);
	}
	free(x);
	free(y);
}

static void
test_base_ts(void **state)
{
	static const uint64_t rates[] = { 1, 3, 7, 999, 1000, 1001, 4096, 999983, 4294967295ull };
	struct sl_gen_params p;
	struct sl_gen g;
	uint8_t row[SL_ROW_MAX];

	(void)state;
	for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		mixed(&p, 1);
		p.rate = rates[r];
		p.disorder = 0;
		p.late_fraction = 0;
		p.start_ms = -12345;
		assert_int_equal(sl_gen_init(&g, &p), 0);
		for (uint64_t i = 0; i < 5000; i++) {
			assert_int_equal(g.base, sl_gen_base_ts(&p, i));
			assert_int_equal(g.base, -12345 + (int64_t)(i * 1000 / rates[r]));
			sl_gen_fill(&g, row, 1);
			assert_int_equal(sl_row_ts(row, &schema.f[6]),
					 sl_gen_base_ts(&p, i));
		}
	}
}

static void
test_keys_and_late(void **state)
{
	struct sl_gen_params p;
	struct sl_gen g;
	uint8_t row[SL_ROW_MAX];
	uint32_t late = 0, counted = 0;
	size_t at;

	(void)state;
	memset(&schema, 0, sizeof(schema));
	assert_int_equal(sl_schema_parse_spec(&schema, "w:str[3],u:u64,ts:i64", &at), 0);
	memset(&p, 0, sizeof(p));
	p.schema = &schema;
	p.n_key = 2;
	p.key_f[0] = 0;
	p.key_f[1] = 1;
	p.ts_f = 2;
	p.seed = 11;
	p.keys = 1000000000;
	p.rate = 1000;
	p.disorder = 5;
	p.late_fraction = 0.3;
	p.late_ms = 10;
	assert_int_equal(sl_gen_init(&g, &p), 0);
	for (uint64_t i = 0; i < 10000; i++) {
		uint64_t k;
		char want[24];
		int64_t lag;
		uint32_t l;

		l = sl_gen_fill(&g, row, 1);
		late += l;
		memcpy(&k, row + schema.f[1].offset, 8);
		assert_true(k < p.keys);
		snprintf(want, sizeof(want), "k%llu", (unsigned long long)k);
		assert_memory_equal(row + schema.f[0].offset, want, 3);
		lag = sl_gen_base_ts(&p, i) - sl_row_ts(row, &schema.f[2]);
		assert_true(lag >= 0 && lag <= 5 + 10);
		counted += lag > 5;
		assert_int_equal(l, lag > 5);
	}
	assert_int_equal(late, counted);
	assert_true(late > 2700 && late < 3300);

	/* k0: "k0" then NUL padding. */
	p.keys = 1;
	assert_int_equal(sl_gen_init(&g, &p), 0);
	memset(row, 0xff, sizeof(row));
	sl_gen_fill(&g, row, 1);
	assert_memory_equal(row + schema.f[0].offset, "k0\0", 3);
}

static void
test_bad_params(void **state)
{
	struct sl_gen_params p;
	struct sl_gen g;

	(void)state;
	mixed(&p, 1);
	p.keys = 0;
	assert_int_equal(sl_gen_init(&g, &p), -EINVAL);
	mixed(&p, 1);
	p.rate = 0;
	assert_int_equal(sl_gen_init(&g, &p), -EINVAL);
	mixed(&p, 1);
	p.late_ms = 0;
	assert_int_equal(sl_gen_init(&g, &p), -EINVAL);
	mixed(&p, 1);
	p.n_key = 0;
	assert_int_equal(sl_gen_init(&g, &p), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_bytes_any_batching),
		cmocka_unit_test(test_seek),
		cmocka_unit_test(test_base_ts),
		cmocka_unit_test(test_keys_and_late),
		cmocka_unit_test(test_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
