/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: sl_agg accumulators. count/sum/min/max/avg over i64, u64,
 * f64 (empty = null, Java wrap), first/last by event timestamp, merge of
 * split inputs equal to one accumulator for every function (session
 * merges), exact count_distinct through a map state with merge,
 * HyperLogLog within 3 standard errors of the exact count on fixed seeds
 * and merged sketches equal to one sketch, top-K ranking with its tie
 * order and upserts, W5.2 (aggregating state average) and W9.1 (two-stage
 * top-2 auctions by bid count, tie-break auction ascending).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sl_agg.h"
#include "sl_assign.h"
#include "sl_kg.h"
#include "sl_state.h"

#define MAXP 128
#define REGION_LEN (64u << 20)

static void *region;

static struct sl_state *
open_heap(void)
{
	struct sl_state_conf c = {
		.backend = SL_STATE_BACKEND_HEAP, .max_parallelism = MAXP,
		.first_kg = 0, .last_kg = MAXP - 1,
		.mem = region, .mem_len = REGION_LEN,
	};
	struct sl_state *st = sl_state_open(&c);

	assert_non_null(st);
	return st;
}

static union sl_agg_val
I(int64_t i)
{
	union sl_agg_val v = { .i = i };

	return v;
}

static union sl_agg_val
F(double f)
{
	union sl_agg_val v = { .f = f };

	return v;
}

static struct sl_agg_result
run(enum sl_agg_kind k, enum sl_agg_type t, const union sl_agg_val *v,
    const int64_t *ts, int n)
{
	struct sl_agg_fn f = { .kind = k, .type = t };
	uint8_t slot[64];
	struct sl_agg_result r;

	assert_true(sl_agg_slot_size(&f) <= sizeof(slot));
	sl_agg_init(&f, slot);
	for (int i = 0; i < n; i++)
		assert_int_equal(sl_agg_add(&f, slot, v[i], ts ? ts[i] : 0), 0);
	sl_agg_result(&f, slot, &r);
	return r;
}

static void
test_basic_aggregates(void **state)
{
	const union sl_agg_val iv[5] = { I(5), I(-3), I(12), I(0), I(7) };
	const union sl_agg_val fv[3] = { F(1.5), F(-2.25), F(4.0) };
	const union sl_agg_val wrap[2] = { I(INT64_MAX), I(2) };
	struct sl_agg_result r;

	(void)state;
	r = run(SL_AGG_COUNT, SL_AGG_I64, iv, NULL, 5);
	assert_false(r.null);
	assert_int_equal(r.type, SL_AGG_U64);
	assert_int_equal(r.v.u, 5);
	r = run(SL_AGG_COUNT, SL_AGG_I64, iv, NULL, 0);
	assert_false(r.null);
	assert_int_equal(r.v.u, 0);
	r = run(SL_AGG_SUM, SL_AGG_I64, iv, NULL, 5);
	assert_int_equal(r.v.i, 21);
	r = run(SL_AGG_MIN, SL_AGG_I64, iv, NULL, 5);
	assert_int_equal(r.v.i, -3);
	r = run(SL_AGG_MAX, SL_AGG_I64, iv, NULL, 5);
	assert_int_equal(r.v.i, 12);
	r = run(SL_AGG_AVG, SL_AGG_I64, iv, NULL, 5);
	assert_int_equal(r.type, SL_AGG_F64);
	assert_true(r.v.f == 4.2);
	r = run(SL_AGG_SUM, SL_AGG_F64, fv, NULL, 3);
	assert_true(r.v.f == 3.25);
	r = run(SL_AGG_MIN, SL_AGG_F64, fv, NULL, 3);
	assert_true(r.v.f == -2.25);
	r = run(SL_AGG_MAX, SL_AGG_F64, fv, NULL, 3);
	assert_true(r.v.f == 4.0);
	/* u64 compares unsigned: -3 is 2^64 - 3, the largest */
	r = run(SL_AGG_MAX, SL_AGG_U64, iv, NULL, 5);
	assert_int_equal(r.v.i, -3);
	/* Java's long wraps */
	r = run(SL_AGG_SUM, SL_AGG_I64, wrap, NULL, 2);
	assert_int_equal(r.v.i, INT64_MIN + 1);
	/* empty: null */
	for (enum sl_agg_kind k = SL_AGG_SUM; k <= SL_AGG_LAST; k++) {
		r = run(k, SL_AGG_I64, iv, NULL, 0);
		assert_true(r.null);
	}
}

static void
test_first_last_by_timestamp(void **state)
{
	const union sl_agg_val v[5] = { I(10), I(20), I(30), I(40), I(50) };
	const int64_t ts[5] = { 300, 100, 500, 100, 500 };
	struct sl_agg_result r;

	(void)state;
	/* first: smallest ts, ties the earlier added (20 over 40) */
	r = run(SL_AGG_FIRST, SL_AGG_I64, v, ts, 5);
	assert_int_equal(r.v.i, 20);
	/* last: largest ts, ties the later added (50 over 30) */
	r = run(SL_AGG_LAST, SL_AGG_I64, v, ts, 5);
	assert_int_equal(r.v.i, 50);
}

/* Adding a split input to two slots and merging = one slot of all. */
static void
test_merge_equals_single(void **state)
{
	const enum sl_agg_kind kinds[] = {
		SL_AGG_COUNT, SL_AGG_SUM, SL_AGG_MIN, SL_AGG_MAX, SL_AGG_AVG,
		SL_AGG_FIRST, SL_AGG_LAST, SL_AGG_APPROX_COUNT_DISTINCT,
	};
	const enum sl_agg_type types[] = { SL_AGG_I64, SL_AGG_U64, SL_AGG_F64 };

	(void)state;
	for (unsigned int a = 0; a < sizeof(kinds) / sizeof(kinds[0]); a++)
		for (unsigned int b = 0; b < 3; b++)
			for (int split = 0; split <= 40; split += 8) {
				struct sl_agg_fn f = { .kind = kinds[a],
						       .type = types[b],
						       .hll_p = 8 };
				static uint8_t all[1024], x[1024], y[1024];
				struct sl_agg_result r1, r2;
				uint64_t s = 12345;

				sl_agg_init(&f, all);
				sl_agg_init(&f, x);
				sl_agg_init(&f, y);
				for (int i = 0; i < 40; i++) {
					union sl_agg_val v;
					int64_t ts;

					s = s * 6364136223846793005ull + 1;
					v.i = (int64_t)(s >> 40) - (1 << 23);
					if (types[b] == SL_AGG_F64)
						v.f = (double)v.i / 8.0;
					ts = (int64_t)((s >> 20) % 50);
					sl_agg_add(&f, all, v, ts);
					sl_agg_add(&f, i < split ? x : y, v, ts);
				}
				sl_agg_merge(&f, x, y);
				sl_agg_result(&f, all, &r1);
				sl_agg_result(&f, x, &r2);
				assert_int_equal(r1.null, r2.null);
				assert_memory_equal(&r1.v, &r2.v, 8);
				if (kinds[a] == SL_AGG_APPROX_COUNT_DISTINCT)
					assert_memory_equal(all, x, 256);
			}
}

static int
count_cb(void *arg, const void *ukey, const void *val, uint32_t len)
{
	(void)arg; (void)ukey; (void)val; (void)len;
	return 0;
}

static void
test_count_distinct_exact(void **state)
{
	struct sl_state *st = open_heap();
	struct sl_state_desc d = sl_agg_distinct_desc("cd", 8, 8, 8);
	struct sl_agg_fn f = { .kind = SL_AGG_COUNT_DISTINCT,
			       .type = SL_AGG_I64, .item_len = 8 };
	uint64_t key = 1, ns1 = 100, ns2 = 200;
	struct sl_state_ref r1 = { .key = &key, .ns = &ns1 };
	struct sl_state_ref r2 = { .key = &key, .ns = &ns2 };
	uint8_t s1[8], s2[8];
	struct sl_agg_result r;
	int id;

	(void)state;
	id = sl_state_register(st, &d);
	assert_true(id >= 0);
	r1.kg = r2.kg = (uint16_t)sl_kg_of(sl_kg_hash(&key, 8), MAXP);
	sl_state_hash_bulk(st, id, &r1, 1);
	sl_state_hash_bulk(st, id, &r2, 1);
	sl_agg_init(&f, s1);
	sl_agg_init(&f, s2);
	assert_int_equal(sl_agg_add(&f, s1, I(1), 0), -EINVAL);
	/* window 1: 0..99 twice; window 2: 50..149 */
	for (int rep = 0; rep < 2; rep++)
		for (int64_t v = 0; v < 100; v++)
			assert_int_equal(sl_agg_distinct_add(&f, s1, st, id, &r1, &v),
					 rep == 0);
	for (int64_t v = 50; v < 150; v++)
		assert_int_equal(sl_agg_distinct_add(&f, s2, st, id, &r2, &v), 1);
	sl_agg_result(&f, s1, &r);
	assert_int_equal(r.v.u, 100);
	sl_agg_result(&f, s2, &r);
	assert_int_equal(r.v.u, 100);
	/* session merge: window 2 into window 1 -> 150 distinct */
	assert_int_equal(sl_agg_distinct_merge(&f, s1, st, id, &r1, &r2), 50);
	sl_agg_result(&f, s1, &r);
	assert_int_equal(r.v.u, 150);
	assert_int_equal(sl_state_map_iter(st, id, &r2, 0, count_cb, NULL), 0);
	assert_int_equal(sl_state_map_iter(st, id, &r1, 0, count_cb, NULL), 150);
	sl_state_close(st);
}

static void
test_hll_within_3_std_errors(void **state)
{
	const uint64_t seeds[3] = { 1, 42, 20261124 };
	const uint64_t sizes[6] = { 10, 1000, 20000, 60000, 200000, 1000000 };
	struct sl_agg_fn f = { .kind = SL_AGG_APPROX_COUNT_DISTINCT,
			       .type = SL_AGG_U64 };
	static uint8_t sk[1 << 14], half[2][1 << 14];
	double se = sl_agg_hll_std_error(14);

	(void)state;
	assert_int_equal(sl_agg_slot_size(&f), 16384);
	assert_true(fabs(se - 0.008125) < 1e-9);
	for (int s = 0; s < 3; s++)
		for (int z = 0; z < 6; z++) {
			uint64_t x = seeds[s] * 0x9e3779b97f4a7c15ull + 1;
			struct sl_agg_result r;
			double err;

			sl_agg_init(&f, sk);
			sl_agg_init(&f, half[0]);
			sl_agg_init(&f, half[1]);
			/* n distinct values (a bijective mix of 0..n-1), each
			 * added twice: duplicates must not count */
			for (uint64_t i = 0; i < sizes[z]; i++) {
				union sl_agg_val v;

				v.u = (i + x) * 0xbf58476d1ce4e5b9ull;
				sl_agg_add(&f, sk, v, 0);
				sl_agg_add(&f, sk, v, 0);
				sl_agg_add(&f, half[i & 1], v, 0);
			}
			sl_agg_result(&f, sk, &r);
			err = fabs((double)r.v.u - (double)sizes[z]) /
			      (double)sizes[z];
			print_message("hll seed %lu n %lu: %lu, error %.3f %%\n",
				      (unsigned long)seeds[s],
				      (unsigned long)sizes[z],
				      (unsigned long)r.v.u, 100 * err);
			assert_true(err <= 3 * se);
			/* merged halves equal the whole sketch, register by
			 * register */
			sl_agg_merge(&f, half[0], half[1]);
			assert_memory_equal(half[0], sk, sizeof(sk));
		}
	/* strings through add_bytes */
	sl_agg_init(&f, sk);
	for (int i = 0; i < 5000; i++) {
		char b[32];
		int n = snprintf(b, sizeof(b), "user-%d", i % 2500);

		assert_int_equal(sl_agg_add_bytes(&f, sk, b, (size_t)n), 0);
	}
	{
		struct sl_agg_result r;

		sl_agg_result(&f, sk, &r);
		assert_true(fabs((double)r.v.u - 2500) <= 3 * se * 2500);
	}
	f.hll_p = 3;
	assert_int_equal(sl_agg_check(&f), -EINVAL);
	f.hll_p = 17;
	assert_int_equal(sl_agg_slot_size(&f), 0);
}

static void
test_topk_tie_order_and_upsert(void **state)
{
	struct sl_agg_fn f = { .kind = SL_AGG_TOP_K, .type = SL_AGG_I64,
			       .k = 3, .item_len = 2 };
	uint8_t slot[128];
	char items[3][2];
	union sl_agg_val v[3];

	(void)state;
	assert_int_equal(sl_agg_slot_size(&f), 8 + 3 * 16);
	sl_agg_init(&f, slot);
	assert_int_equal(sl_agg_topk_add(&f, slot, "b", I(5)), 0);
	assert_int_equal(sl_agg_topk_add(&f, slot, "d", I(5)), 0);
	assert_int_equal(sl_agg_topk_add(&f, slot, "c", I(5)), 0);
	assert_int_equal(sl_agg_topk_add(&f, slot, "e", I(4)), 0);	/* out */
	assert_int_equal(sl_agg_topk_add(&f, slot, "a", I(5)), 0);	/* d out */
	assert_int_equal(sl_agg_topk_get(&f, slot, items, v), 3);
	assert_memory_equal(items, "a\0b\0c", 6);
	/* upsert: c grows to the top, e returns only if offered again */
	assert_int_equal(sl_agg_topk_add(&f, slot, "c", I(9)), 0);
	assert_int_equal(sl_agg_topk_get(&f, slot, items, v), 3);
	assert_memory_equal(items, "c\0a\0b", 6);
	assert_int_equal(v[0].i, 9);
	assert_int_equal(v[2].i, 5);
	assert_int_equal(sl_agg_add(&f, slot, I(1), 0), -EINVAL);
	f.k = 0;
	assert_int_equal(sl_agg_check(&f), -EINVAL);
}

static void
test_W5_2_aggregating_state_avg(void **state)
{
	struct sl_state *st = open_heap();
	struct sl_agg_fn f = { .kind = SL_AGG_AVG, .type = SL_AGG_I64 };
	struct sl_state_desc d = sl_agg_state_desc("avg", &f, 8, 0);
	uint64_t k = 3, k2 = 4;
	struct sl_state_ref r = { .key = &k }, r2 = { .key = &k2 };
	struct sl_agg_result out;
	int id;

	(void)state;
	id = sl_state_register(st, &d);
	assert_true(id >= 0);
	r.kg = (uint16_t)sl_kg_of(sl_kg_hash(&k, 8), MAXP);
	r2.kg = (uint16_t)sl_kg_of(sl_kg_hash(&k2, 8), MAXP);
	sl_state_hash_bulk(st, id, &r, 1);
	sl_state_hash_bulk(st, id, &r2, 1);
	for (int64_t v = 2; v <= 9; v += (v == 2 ? 2 : 5)) {
		union sl_agg_val x = I(v);

		assert_int_equal(sl_state_agg_add(st, id, &r, 0, &x), 0);
	}
	assert_int_equal(sl_state_agg_get(st, id, &r, 0, &out), 1);
	assert_false(out.null);
	assert_true(out.v.f == 5.0);
	/* fresh key: null */
	assert_int_equal(sl_state_agg_get(st, id, &r2, 0, &out), 0);
	sl_state_close(st);
}

/*
 * W9.1: stage 1 keyBy(auction).window(tumbling 10 s).aggregate(count)
 * emits (auction, count) at end - 1; stage 2 ranks them with a top-2 slot
 * per window, fed by the same assigner (R9.1), on the same watermark.
 */
#define N_WIN 4

struct w91 {
	struct sl_assign a;
	struct sl_agg_fn cnt, top;
	int64_t wm;
	bool open[N_WIN];
	uint8_t count[N_WIN][4][8];	/* [window][auction A..D] */
	uint8_t rank[N_WIN][8 + 2 * 16];
	char out[8][96];
	int n_out;
	int dropped;
};

static int
widx(const struct sl_assign_window *w)
{
	return (int)(w->start / 10000);
}

static void
w91_bid(struct w91 *s, char auction, int64_t ts)
{
	struct sl_assign_window w;
	int i;

	assert_int_equal(sl_assign_windows(&s->a, ts, 0, &w, 1), 1);
	if (sl_assign_window_late(&s->a, &w, 0, s->wm)) {
		assert_true(sl_assign_element_late(&s->a, ts, 0, s->wm));
		s->dropped++;
		return;
	}
	i = widx(&w);
	s->open[i] = true;
	assert_int_equal(sl_agg_add(&s->cnt, s->count[i][auction - 'A'],
				    I(0), ts), 0);
}

static void
w91_watermark(struct w91 *s, int64_t wm)
{
	s->wm = wm;
	for (int i = 0; i < N_WIN; i++) {
		struct sl_assign_window w = { i * 10000, (i + 1) * 10000 }, w2;
		char items[2], *p;
		union sl_agg_val v[2];
		unsigned int n;

		if (!s->open[i] || sl_assign_max_ts(&w) > wm)
			continue;
		/* stage 1 fires: each (auction, count) @ end - 1 goes to
		 * stage 2's window of that timestamp */
		assert_int_equal(sl_assign_windows(&s->a, sl_assign_max_ts(&w),
						   0, &w2, 1), 1);
		assert_int_equal(widx(&w2), i);
		sl_agg_init(&s->top, s->rank[i]);
		for (int a = 0; a < 4; a++) {
			struct sl_agg_result r;

			sl_agg_result(&s->cnt, s->count[i][a], &r);
			if (r.v.u == 0)
				continue;
			assert_int_equal(sl_agg_topk_add(&s->top, s->rank[i],
				&(char){ (char)('A' + a) }, I((int64_t)r.v.u)), 0);
		}
		/* stage 2 fires on the same watermark */
		n = sl_agg_topk_get(&s->top, s->rank[i], items, v);
		p = s->out[s->n_out++];
		p += sprintf(p, "[");
		for (unsigned int j = 0; j < n; j++)
			p += sprintf(p, "%s(%c,%ld)", j ? ", " : " ", items[j],
				     (long)v[j].i);
		sprintf(p, " ] @%ld", (long)sl_assign_max_ts(&w));
		s->open[i] = false;
	}
}

static void
test_W9_1_top2_by_bid_count(void **state)
{
	static struct w91 s;
	const char *bids1 = "ABACBACD";
	const int64_t ts1[8] = { 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000 };
	const char *bids2 = "BBDDD";
	const int64_t ts2[5] = { 11000, 12000, 13000, 14000, 19999 };

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(sl_assign_tumbling(&s.a, SL_ASSIGN_EVENT_TIME, 10000, 0), 0);
	s.wm = INT64_MIN;
	s.cnt = (struct sl_agg_fn){ .kind = SL_AGG_COUNT };
	s.top = (struct sl_agg_fn){ .kind = SL_AGG_TOP_K, .type = SL_AGG_I64,
				    .k = 2, .item_len = 1 };
	for (int i = 0; i < 8; i++)
		w91_bid(&s, bids1[i], ts1[i]);
	for (int i = 0; i < 5; i++)
		w91_bid(&s, bids2[i], ts2[i]);
	w91_watermark(&s, 9999);
	assert_int_equal(s.n_out, 1);
	/* C ties with B at 2: excluded by the tie-break (auction ascending) */
	assert_string_equal(s.out[0], "[ (A,3), (B,2) ] @9999");
	w91_bid(&s, 'A', 9500);		/* late: dropped, ranking unchanged */
	assert_int_equal(s.dropped, 1);
	w91_watermark(&s, 19999);
	assert_int_equal(s.n_out, 2);
	assert_string_equal(s.out[1], "[ (D,3), (B,2) ] @19999");
}

static int
setup(void **state)
{
	(void)state;
	region = mmap(NULL, REGION_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return region == MAP_FAILED ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	munmap(region, REGION_LEN);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_aggregates),
		cmocka_unit_test(test_first_last_by_timestamp),
		cmocka_unit_test(test_merge_equals_single),
		cmocka_unit_test(test_count_distinct_exact),
		cmocka_unit_test(test_hll_within_3_std_errors),
		cmocka_unit_test(test_topk_tie_order_and_upsert),
		cmocka_unit_test(test_W5_2_aggregating_state_avg),
		cmocka_unit_test(test_W9_1_top2_by_bid_count),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
