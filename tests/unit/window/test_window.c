/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: tumbling event-time windows against semantics.md section 2
 * and 3: W2.1 (assignment with offsets and negative timestamps), W2.2's
 * tumbling variant, W2.5 (firing boundary at end - 1), W3.1's zero-lateness
 * check (late elements dropped and counted), aggregates, and a table that
 * fills up and is rehashed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "sl_kg.h"
#include "sl_window.h"

static void
test_w2_1_assignment(void **state)
{
	static const struct { int64_t size, offset, ts, start; } v[] = {
		{ 5000, 0, 0, 0 }, { 5000, 0, 4999, 0 }, { 5000, 0, 5000, 5000 },
		{ 5000, 100, 100, 100 }, { 5000, 100, 5099, 100 },
		{ 5000, 100, 5100, 5100 },
		{ 5000, -100, 0, -100 }, { 5000, -100, 4899, -100 },
		{ 5000, -100, 4900, 4900 },
		{ 7, 3, 1, -4 }, { 7, 3, 2, -4 }, { 7, 3, 3, 3 }, { 7, 3, 9, 3 },
		{ 7, 3, 10, 10 },
		{ 7, -2, 1, -2 }, { 7, -2, -2, -2 }, { 7, -2, 4, -2 },
		{ 7, -2, 7, 5 }, { 7, -2, 12, 12 },
		{ 5000, 0, -1, -5000 }, { 5000, 0, -5000, -5000 },
		{ 5000, 0, -5001, -10000 }, { 5000, 0, -7000, -10000 },
		{ 86400000, -28800000, 1470902048450, 1470844800000 },
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(sl_window_start(v[i].ts, v[i].offset, v[i].size),
				 v[i].start);
}

/*
 * Appendix C3: Java's long wraps, so TimeWindow.getWindowStartWithOffset
 * gives wrapped results at the ends of the range; C must reproduce them
 * without signed overflow (run under UBSan). Java computes
 *   r = (ts - offset) % size;  start = r < 0 ? ts - (r + size) : ts - r
 * with two's-complement wrapping (+-2^64) on each subtraction and a
 * truncating %. By hand, size 1000 (MIN = -2^63, MAX = 2^63 - 1):
 *  ts MIN,     off 0:    r = MIN % 1000 = -808; ts - 192 wraps to MAX - 191
 *  ts MIN,     off 100:  ts - 100 wraps to MAX - 99 = ...5708, r = 708;
 *                        ts - 708 wraps to MAX - 707
 *  ts MIN,     off -100: ts + 100 = -...5708, r = -708; ts - 292 wraps
 *                        to MAX - 291
 *  ts MAX,     off 0:    r = 807; MAX - 807 (no wrap)
 *  ts MAX,     off 100:  r = 707; MAX - 707 (no wrap)
 *  ts MAX,     off -100: MAX + 100 wraps to MIN + 99 = -...5709, r = -709;
 *                        MAX - 291 (Java's answer; the true floor is
 *                        MAX - 907)
 *  ts MIN + 1, off 0:    r = -807; ts - 193 wraps to MAX - 191
 *  ts MIN + 1, off 100:  ts - 100 wraps to MAX - 98 = ...5709, r = 709;
 *                        ts - 709 wraps to MAX - 707
 *  ts MIN + 1, off -100: ts + 100 = -...5707, r = -707; ts - 293 wraps
 *                        to MAX - 291
 */
static void
test_window_start_wraps_like_java(void **state)
{
	static const struct { int64_t ts, offset, start; } v[] = {
		{ INT64_MIN, 0, INT64_MAX - 191 },	/* 9223372036854775616 */
		{ INT64_MIN, 100, INT64_MAX - 707 },	/* 9223372036854775100 */
		{ INT64_MIN, -100, INT64_MAX - 291 },	/* 9223372036854775516 */
		{ INT64_MAX, 0, INT64_MAX - 807 },	/* 9223372036854775000 */
		{ INT64_MAX, 100, INT64_MAX - 707 },	/* 9223372036854775100 */
		{ INT64_MAX, -100, INT64_MAX - 291 },	/* 9223372036854775516 */
		{ INT64_MIN + 1, 0, INT64_MAX - 191 },
		{ INT64_MIN + 1, 100, INT64_MAX - 707 },
		{ INT64_MIN + 1, -100, INT64_MAX - 291 },
	};
	/* volatile: the compiler must not fold the calls at build time. */
	volatile int64_t size = 1000;

	(void)state;
	for (unsigned int i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(sl_window_start(v[i].ts, v[i].offset, size),
				 v[i].start);
	assert_int_equal(INT64_MAX - 191, 9223372036854775616LL);
	assert_int_equal(INT64_MAX - 707, 9223372036854775100LL);
	assert_int_equal(INT64_MAX - 291, 9223372036854775516LL);
}

struct fixture {
	struct sl_schema in;
	struct sl_win w;
	struct sl_vec *v;
	uint8_t out[64][128];
	unsigned int n_out;
};

static void *
t_alloc(size_t len, void *arg)
{
	(void)arg;
	return calloc(1, len);
}

static void
t_free(void *p, void *arg)
{
	(void)arg;
	free(p);
}

static uint8_t *
t_out(void *ctx)
{
	struct fixture *f = ctx;

	assert_true(f->n_out < 64);
	return f->out[f->n_out++];
}

static void
fx_init(struct fixture *f, int64_t size, int64_t offset, uint32_t capacity)
{
	struct sl_win_conf c;
	size_t at;

	memset(f, 0, sizeof(*f));
	assert_int_equal(sl_schema_parse_spec(&f->in, "k:str[4],v:i64,ts:timestamp_ms", &at), 0);
	memset(&c, 0, sizeof(c));
	c.in = &f->in;
	c.ts_field = 2;
	c.size = size;
	c.offset = offset;
	c.n_keys = 1;
	c.key_field[0] = 0;
	c.n_aggs = 5;
	c.agg[0] = (struct sl_win_agg){ SL_WIN_COUNT, -1, "count" };
	c.agg[1] = (struct sl_win_agg){ SL_WIN_SUM, 1, "sum_v" };
	c.agg[2] = (struct sl_win_agg){ SL_WIN_MIN, 1, "min_v" };
	c.agg[3] = (struct sl_win_agg){ SL_WIN_MAX, 1, "max_v" };
	c.agg[4] = (struct sl_win_agg){ SL_WIN_AVG, 1, "avg_v" };
	c.capacity = capacity;
	assert_int_equal(sl_win_init(&f->w, &c, t_alloc, NULL), 0);
	f->v = calloc(1, sl_vec_size(f->in.row_size));
}

static void
fx_fini(struct fixture *f)
{
	sl_win_fini(&f->w, t_free, NULL);
	free(f->v);
}

/* One element k:v@ts through the operator. */
static void
fx_elem(struct fixture *f, const char *k, int64_t v, int64_t ts)
{
	uint8_t *row;

	sl_vec_reset(f->v, f->in.row_size);
	row = sl_vec_row(f->v, 0);
	memset(row, 0, f->in.row_size);
	memcpy(row, k, strlen(k));
	sl_row_set_int(row, &f->in.f[1], v);
	sl_row_set_int(row, &f->in.f[2], ts);
	f->v->hash[0] = sl_kg_hash(row, 4);
	f->v->n_rows = 1;
	sl_vec_select_all(f->v);
	sl_win_process(&f->w, f->v);
}

/* Several elements k:v@ts in one vector. */
static void
fx_vec(struct fixture *f, unsigned int n, const char *const *k,
       const int64_t *v, const int64_t *ts)
{
	sl_vec_reset(f->v, f->in.row_size);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *row = sl_vec_row(f->v, (uint16_t)i);

		memset(row, 0, f->in.row_size);
		memcpy(row, k[i], strlen(k[i]));
		sl_row_set_int(row, &f->in.f[1], v[i]);
		sl_row_set_int(row, &f->in.f[2], ts[i]);
		f->v->hash[i] = sl_kg_hash(row, 4);
	}
	f->v->n_rows = (uint16_t)n;
	sl_vec_select_all(f->v);
	sl_win_process(&f->w, f->v);
}

static void
fx_wm(struct fixture *f, int64_t wm)
{
	f->n_out = 0;
	sl_win_advance(&f->w, wm, t_out, f);
}

/* Result i as "key,start,end,count,sum,min,max,avg". */
static const char *
fx_res(struct fixture *f, unsigned int i)
{
	static char buf[160];
	const struct sl_schema *o = &f->w.out;
	const uint8_t *r = f->out[i];

	snprintf(buf, sizeof(buf), "%.4s,%lld,%lld,%lld,%lld,%lld,%lld,%g",
		 (const char *)r,
		 (long long)sl_row_get_int(r, &o->f[1]),
		 (long long)sl_row_get_int(r, &o->f[2]),
		 (long long)sl_row_get_int(r, &o->f[3]),
		 (long long)sl_row_get_int(r, &o->f[4]),
		 (long long)sl_row_get_int(r, &o->f[5]),
		 (long long)sl_row_get_int(r, &o->f[6]),
		 sl_row_get_f64(r, &o->f[7]));
	return buf;
}

/* W2.2, tumbling 3000: WM(2999) -> key1 3, key2 3; WM(5999) -> key2 2. */
static void
test_w2_2_tumbling(void **state)
{
	struct fixture f;
	static const int64_t wms[] = { 999, 1999, 2999, 3999, 4999, 5999, 6999, 7999 };

	(void)state;
	fx_init(&f, 3000, 0, 64);
	fx_elem(&f, "key2", 1, 3999);
	fx_elem(&f, "key2", 1, 3000);
	fx_elem(&f, "key1", 1, 20);
	fx_elem(&f, "key1", 1, 0);
	fx_elem(&f, "key1", 1, 999);
	fx_elem(&f, "key2", 1, 1998);
	fx_elem(&f, "key2", 1, 1999);
	fx_elem(&f, "key2", 1, 1000);
	for (unsigned int i = 0; i < 8; i++) {
		fx_wm(&f, wms[i]);
		if (wms[i] == 2999) {
			/* Emission order within a firing is the window's
			 * insertion order; the sink sorts by key. */
			assert_int_equal(f.n_out, 2);
			assert_string_equal(fx_res(&f, 0), "key1,0,3000,3,3,1,1,1");
			assert_string_equal(fx_res(&f, 1), "key2,0,3000,3,3,1,1,1");
		} else if (wms[i] == 5999) {
			assert_int_equal(f.n_out, 1);
			assert_string_equal(fx_res(&f, 0), "key2,3000,6000,2,2,1,1,1");
		} else {
			assert_int_equal(f.n_out, 0);
		}
	}
	assert_int_equal(f.w.stats.late_dropped, 0);
	assert_int_equal(f.w.stats.windows_fired, 2);
	fx_fini(&f);
}

/* W2.5: tumbling 2000, e@1999 fires at WM(1999), not WM(1998). */
static void
test_w2_5_boundary(void **state)
{
	struct fixture f;

	(void)state;
	fx_init(&f, 2000, 0, 64);
	fx_elem(&f, "k", 1, 1999);
	fx_elem(&f, "k", 1, 2000);
	fx_wm(&f, 1998);
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 1999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,2000,1,1,1,1,1");
	fx_wm(&f, 3998);
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 3999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,2000,4000,1,1,1,1,1");
	fx_fini(&f);
}

/* W3.1 zero-lateness check (size 2000, L = 0), with sums. */
static void
test_w3_1_zero_lateness(void **state)
{
	struct fixture f;

	(void)state;
	fx_init(&f, 2000, 0, 64);
	fx_elem(&f, "k", 1, 1000);
	fx_wm(&f, 1985);
	assert_int_equal(f.n_out, 0);
	fx_elem(&f, "k", 1, 1980);
	fx_wm(&f, 1999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,2000,2,2,1,1,1");
	fx_elem(&f, "k", 1, 1998);		/* late: dropped and counted */
	assert_int_equal(f.w.stats.late_dropped, 1);
	fx_elem(&f, "k", 1, 2001);
	fx_wm(&f, 2999);
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 3999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,2000,4000,1,1,1,1,1");
	fx_fini(&f);
}

/* Negative timestamps, an offset, and every aggregate. */
static void
test_negative_and_aggregates(void **state)
{
	struct fixture f;

	(void)state;
	fx_init(&f, 5000, 100, 64);
	fx_elem(&f, "a", 7, -7000);		/* [-9900,-4900) */
	fx_elem(&f, "a", -3, -4901);		/* [-9900,-4900) */
	fx_elem(&f, "a", 10, -4900);		/* [-4900,100) */
	fx_elem(&f, "b", 4, -9900);		/* [-9900,-4900) */
	fx_wm(&f, -4901);
	assert_int_equal(f.n_out, 2);
	assert_string_equal(fx_res(&f, 0), "a,-9900,-4900,2,4,-3,7,2");
	assert_string_equal(fx_res(&f, 1), "b,-9900,-4900,1,4,4,4,4");
	fx_wm(&f, SL_TS_MAX);			/* end of input fires the rest */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "a,-4900,100,1,10,10,10,10");
	fx_fini(&f);
}

/* A full table drops and counts; firing frees room; tombstones get rehashed. */
static void
test_capacity_and_rehash(void **state)
{
	struct fixture f;
	char k[8];

	(void)state;
	fx_init(&f, 1000, 0, 16);
	for (int round = 0; round < 50; round++) {
		uint64_t full_before = f.w.stats.state_full_dropped;

		for (int i = 0; i < 12; i++) {
			snprintf(k, sizeof(k), "%d", i);
			fx_elem(&f, k, i, round * 1000 + i);
		}
		assert_int_equal(f.w.stats.state_full_dropped, full_before);
		fx_wm(&f, round * 1000 + 999);
		assert_int_equal(f.n_out, 12);
	}
	/* 16 entries asked, 32 slots, 28 usable at 7/8 load. */
	for (int i = 0; i < 40; i++) {
		snprintf(k, sizeof(k), "%d", i);
		fx_elem(&f, k, 1, 100000);
	}
	assert_int_equal(f.w.stats.state_full_dropped, 40 - 28);
	fx_wm(&f, SL_TS_MAX);
	assert_int_equal(f.n_out, 28);
	fx_fini(&f);
}

static uint8_t *
count_out(void *ctx)
{
	static uint8_t sink[256];

	(*(unsigned int *)ctx)++;
	return sink;
}

/*
 * state.key-capacity is a promise: a table configured for N (window, key)
 * entries accepts N live entries, whatever tombstones earlier windows left.
 * The reviewer's case: capacity 1791 (2048 slots, 1792 usable), 500 keys
 * in window 0 fired (500 tombstones, under the cap / 4 rehash threshold),
 * then 1791 new keys in window 1: 80 of them were dropped as state-full.
 */
static void
test_capacity_holds_after_firing(void **state)
{
	struct fixture f;
	unsigned int n_out = 0;
	char k[8];

	(void)state;
	fx_init(&f, 1000, 0, 1791);
	for (int i = 0; i < 500; i++) {
		snprintf(k, sizeof(k), "%04d", i);
		fx_elem(&f, k, 1, 10);
	}
	sl_win_advance(&f.w, 999, count_out, &n_out);
	assert_int_equal(n_out, 500);
	for (int i = 0; i < 1791; i++) {
		snprintf(k, sizeof(k), "%04d", i);
		fx_elem(&f, k, 1, 1010);
	}
	assert_int_equal(f.w.stats.state_full_dropped, 0);
	n_out = 0;
	sl_win_advance(&f.w, 1999, count_out, &n_out);
	assert_int_equal(n_out, 1791);
	fx_fini(&f);
}

/* Fire everything and collect "key,start,..." lines, sorted. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static unsigned int
fire_all(struct fixture *f, char out[][160], unsigned int at)
{
	fx_wm(f, SL_TS_MAX);
	for (unsigned int i = 0; i < f->n_out; i++)
		snprintf(out[at + i], 160, "%s", fx_res(f, i));
	return at + f->n_out;
}

/*
 * R5.4/R6.5: state snapshotted by key group restores onto one instance or
 * onto two that split the key groups, with the same results and nothing
 * lost or doubled.
 */
static void
test_snapshot_restore_rescale(void **state)
{
	static char want[64][160], got[64][160];
	char *wp[64], *gp[64];
	struct fixture a, b, c, d;
	uint8_t *buf;
	ssize_t n;
	unsigned int nw, ng;
	uint32_t lo, hi;

	(void)state;
	fx_init(&a, 1000, 0, 256);
	for (int i = 0; i < 40; i++) {
		char k[8];

		snprintf(k, sizeof(k), "k%d", i % 13);
		fx_elem(&a, k, i, (i % 3) * 1000 + i);
	}
	buf = malloc(sl_win_snapshot_size(&a.w) + 1);
	n = sl_win_snapshot(&a.w, 128, buf, sl_win_snapshot_size(&a.w));
	assert_true(n > 0);
	assert_int_equal((size_t)n, sl_win_snapshot_size(&a.w));
	assert_int_equal(sl_win_snapshot(&a.w, 128, buf, (size_t)n - 1), -ENOSPC);
	nw = fire_all(&a, want, 0);
	assert_int_equal(nw, 39);		/* 13 keys x 3 windows */

	/* Onto one instance that owns every key group. */
	fx_init(&b, 1000, 0, 256);
	assert_int_equal(sl_win_restore(&b.w, buf, (size_t)n, 128, 0, 127), 39);
	ng = fire_all(&b, got, 0);
	assert_int_equal(ng, nw);
	for (unsigned int i = 0; i < nw; i++) {
		wp[i] = want[i];
		gp[i] = got[i];
	}
	qsort(wp, nw, sizeof(wp[0]), cmp_str);
	qsort(gp, ng, sizeof(gp[0]), cmp_str);
	for (unsigned int i = 0; i < nw; i++)
		assert_string_equal(wp[i], gp[i]);

	/* Onto two instances splitting the key groups as two workers do. */
	fx_init(&c, 1000, 0, 256);
	fx_init(&d, 1000, 0, 256);
	sl_kg_range(0, 128, 2, &lo, &hi);
	assert_true(sl_win_restore(&c.w, buf, (size_t)n, 128, lo, hi) > 0);
	sl_kg_range(1, 128, 2, &lo, &hi);
	assert_true(sl_win_restore(&d.w, buf, (size_t)n, 128, lo, hi) > 0);
	ng = fire_all(&c, got, 0);
	ng = fire_all(&d, got, ng);
	assert_int_equal(ng, nw);
	for (unsigned int i = 0; i < ng; i++)
		gp[i] = got[i];
	qsort(gp, ng, sizeof(gp[0]), cmp_str);
	for (unsigned int i = 0; i < nw; i++)
		assert_string_equal(wp[i], gp[i]);

	/* Malformed snapshots are refused, not half-loaded into garbage. */
	assert_int_equal(sl_win_restore(&b.w, buf, (size_t)n - 1, 128, 0, 127), -EINVAL);
	buf[0] ^= 0x55;			/* a key group that disagrees with its key */
	fx_fini(&b);
	fx_init(&b, 1000, 0, 256);
	assert_int_equal(sl_win_restore(&b.w, buf, (size_t)n, 128, 0, 127), -EINVAL);
	free(buf);
	fx_fini(&a);
	fx_fini(&b);
	fx_fini(&c);
	fx_fini(&d);
}

/*
 * Regression: a row that opens an earlier window than one opened by an
 * earlier row of the same vector shifts the open-window indices; each
 * row must still land in its own window.
 */
static void
test_earlier_window_in_same_vector(void **state)
{
	static const char *const k[] = { "k", "k", "j", "k" };
	static const int64_t v[] = { 1, 2, 3, 4 }, ts[] = { 1500, 500, 2500, 1700 };
	struct fixture f;

	(void)state;
	fx_init(&f, 1000, 0, 64);
	fx_vec(&f, 4, k, v, ts);
	fx_wm(&f, SL_TS_MAX);
	assert_int_equal(f.n_out, 3);
	assert_string_equal(fx_res(&f, 0), "k,0,1000,1,2,2,2,2");
	assert_string_equal(fx_res(&f, 1), "k,1000,2000,2,5,1,4,2.5");
	assert_string_equal(fx_res(&f, 2), "j,2000,3000,1,3,3,3,3");
	fx_fini(&f);
}

static void
test_conf_rejects(void **state)
{
	struct sl_schema in, out;
	struct sl_win_conf c;
	char msg[128];
	size_t at;

	(void)state;
	assert_int_equal(sl_schema_parse_spec(&in, "k:u64,s:str[4],ts:timestamp_ms", &at), 0);
	memset(&c, 0, sizeof(c));
	c.in = &in;
	c.ts_field = 2;
	c.n_keys = 1;
	c.n_aggs = 1;
	c.agg[0] = (struct sl_win_agg){ SL_WIN_COUNT, -1, "count" };
	c.capacity = 16;
	c.size = 10000;
	c.offset = 20000;			/* W2.1: |offset| >= size */
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), -EINVAL);
	c.offset = -11000;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), -EINVAL);
	c.offset = 0;
	c.size = 0;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), -EINVAL);
	c.size = 10000;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), 0);
	c.agg[0] = (struct sl_win_agg){ SL_WIN_SUM, 1, "sum_s" };
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "aggregate 'sum_s' needs a numeric field");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_w2_1_assignment),
		cmocka_unit_test(test_window_start_wraps_like_java),
		cmocka_unit_test(test_w2_2_tumbling),
		cmocka_unit_test(test_w2_5_boundary),
		cmocka_unit_test(test_w3_1_zero_lateness),
		cmocka_unit_test(test_negative_and_aggregates),
		cmocka_unit_test(test_capacity_and_rehash),
		cmocka_unit_test(test_capacity_holds_after_firing),
		cmocka_unit_test(test_snapshot_restore_rescale),
		cmocka_unit_test(test_earlier_window_in_same_vector),
		cmocka_unit_test(test_conf_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
