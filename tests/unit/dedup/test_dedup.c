/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: sl_dedup, keyed deduplication within an event-time bound,
 * on both state backends: the first row per key and every row at or past
 * t0 + within exactly (older rows are duplicates too, rows of one key in
 * one vector see each other), cleanup when the watermark reaches
 * t0 + within - 1 (timers forwarded when t0 moved on, state back to
 * zero keys), a late row after cleanup starting a new t0 (the one place
 * bounded state differs from unbounded), a random stream against a model
 * with and without late rows, and a snapshot taken while rows keep
 * coming restored onto 1 and onto 2 instances giving the uninterrupted
 * run's output and cleaning up after itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sl_dedup.h"
#include "sl_kg.h"
#include "sl_state.h"

#define MAXP 128
#define N_REGION 4
#define REGION_LEN (64u << 20)
#define MAX_OUT 20000

static enum sl_state_backend g_backend;
static void *regions[N_REGION];
static unsigned int n_dirs;

/* k:u64,v:i64,ts:timestamp_ms -- or, gathered, key_by [k, s] with s apart. */
struct fx {
	struct sl_schema in;
	struct sl_state *st;
	struct sl_dedup d;
	struct sl_vec *v;
	char dir[96];
	uint8_t out[MAX_OUT][40];
	unsigned int n_out;
};

static uint8_t *
t_out(void *ctx)
{
	struct fx *f = ctx;

	assert_true(f->n_out < MAX_OUT);
	return f->out[f->n_out++];
}

static void
fx_open(struct fx *f, int region, uint32_t lo, uint32_t hi, int64_t within,
	bool gathered)
{
	struct sl_state_conf sc;
	struct sl_dedup_conf c;
	size_t at;

	memset(f, 0, sizeof(*f));
	assert_int_equal(sl_schema_parse_spec(&f->in, gathered ?
		"k:u64,v:i64,ts:timestamp_ms,s:str[4]" : "k:u64,v:i64,ts:timestamp_ms", &at), 0);
	memset(&sc, 0, sizeof(sc));
	sc.backend = g_backend;
	sc.max_parallelism = MAXP;
	sc.first_kg = lo;
	sc.last_kg = hi;
	sc.mem = regions[region];
	sc.mem_len = REGION_LEN;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sl-test-dedup-%d-%u", (int)getpid(), n_dirs++);
	sc.dir = f->dir;
	f->st = sl_state_open(&sc);
	assert_non_null(f->st);
	memset(&c, 0, sizeof(c));
	c.in = &f->in;
	c.ts_field = 2;
	c.within = within;
	c.n_keys = gathered ? 2 : 1;
	c.key_field[0] = 0;
	c.key_field[1] = 3;
	c.capacity = 1024;
	c.max_parallelism = MAXP;
	c.first_kg = lo;
	c.last_kg = hi;
	assert_int_equal(sl_dedup_init(&f->d, &c, f->st), 0);
	f->v = aligned_alloc(64, (sl_vec_size(f->in.row_size) + 63) & ~(size_t)63);
	assert_non_null(f->v);
	sl_vec_reset(f->v, f->in.row_size);
}

static void
fx_close(struct fx *f)
{
	sl_dedup_fini(&f->d);
	sl_state_close(f->st);
	free(f->v);
	if (g_backend == SL_STATE_BACKEND_ROCKSDB) {
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
		assert_int_equal(system(cmd), 0);
	}
}

static uint32_t
key_hash(const struct fx *f, const uint8_t *row)
{
	uint8_t key[16];

	memcpy(key, row, 8);
	if (f->in.n_fields == 4) {
		memcpy(key + 8, row + f->in.f[3].offset, 4);
		return sl_kg_hash(key, 12);
	}
	return sl_kg_hash(key, 8);
}

static uint32_t
row_kg(const struct fx *f, uint64_t k)
{
	uint8_t row[64] = { 0 };

	memcpy(row, &k, 8);
	if (f->in.n_fields == 4)
		memcpy(row + f->in.f[3].offset, "ab", 2);
	return sl_kg_of(key_hash(f, row), MAXP);
}

/* Queue row (k, v, ts); full vectors are processed. */
static void
add(struct fx *f, uint64_t k, int64_t v, int64_t ts)
{
	uint8_t *row = sl_vec_row(f->v, f->v->n_rows);

	memset(row, 0, f->in.row_size);
	memcpy(row, &k, 8);
	memcpy(row + 8, &v, 8);
	memcpy(row + 16, &ts, 8);
	if (f->in.n_fields == 4)
		memcpy(row + f->in.f[3].offset, "ab", 2);
	f->v->hash[f->v->n_rows] = key_hash(f, row);
	f->v->n_rows++;
	if (f->v->n_rows == SL_VEC_MAX) {
		sl_vec_select_all(f->v);
		sl_dedup_process(&f->d, f->v, t_out, f);
		sl_vec_reset(f->v, f->in.row_size);
	}
}

static void
flush(struct fx *f)
{
	if (f->v->n_rows == 0)
		return;
	sl_vec_select_all(f->v);
	sl_dedup_process(&f->d, f->v, t_out, f);
	sl_vec_reset(f->v, f->in.row_size);
}

static int64_t
out_i64(const struct fx *f, unsigned int i, unsigned int off)
{
	int64_t x;

	memcpy(&x, f->out[i] + off, 8);
	return x;
}

/* The example of docs/operators.md: within 10 ms, keys 1 and 2. */
static void
test_first_and_renewal(void **state)
{
	static const struct { uint64_t k; int64_t v, ts; } in[] = {
		{ 1, 0, 100 },	/* first: t0 = 100 */
		{ 1, 1, 105 },	/* dup */
		{ 2, 2, 50 },	/* first of 2 */
		{ 1, 3, 109 },	/* dup: 109 < 110 */
		{ 1, 4, 90 },	/* dup: older than t0, still < t0 + within */
		{ 1, 5, 110 },	/* at t0 + within: kept, t0 = 110 */
		{ 2, 6, 59 },	/* dup */
		{ 1, 7, 119 },	/* dup */
		{ 2, 8, 60 },	/* kept, t0 = 60 */
		{ 1, 9, 130 },	/* kept */
		{ 1, 10, 100 },	/* dup: 100 < 140 */
	};
	static const int64_t kept[] = { 0, 2, 5, 8, 9 };

	(void)state;
	/* All in one vector (rows of a key see each other through the
	 * shared pointer), then one row per vector: the same output. */
	for (int per = 0; per < 2; per++) {
		struct fx *f = calloc(1, sizeof(*f));

		fx_open(f, 0, 0, MAXP - 1, 10, per == 1);
		for (unsigned int i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
			add(f, in[i].k, in[i].v, in[i].ts);
			if (per == 1)
				flush(f);
		}
		flush(f);
		assert_int_equal(f->n_out, 5);
		for (unsigned int i = 0; i < 5; i++)
			assert_int_equal(out_i64(f, i, 8), kept[i]);
		/* The rows are the input's, unchanged. */
		assert_int_equal(out_i64(f, 2, 16), 110);
		assert_int_equal(f->d.stats.rows_in, 11);
		assert_int_equal(f->d.stats.rows_out, 5);
		assert_int_equal(f->d.stats.dup_dropped, 6);
		assert_int_equal(sl_dedup_keys(&f->d), 2);
		fx_close(f);
		free(f);
	}
}

static void
test_cleanup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, 0, 0, MAXP - 1, 10, false);
	add(f, 1, 0, 100);
	add(f, 2, 1, 100);
	add(f, 2, 2, 115);	/* 2 renews: t0 = 115, its timer still at 109 */
	flush(f);
	assert_int_equal(f->n_out, 3);
	assert_int_equal(sl_dedup_advance(&f->d, 108), 0);
	assert_int_equal(sl_dedup_keys(&f->d), 2);
	/* WM 109 = 100 + 10 - 1: key 1 goes; key 2's timer finds t0 = 115
	 * and sets one at 124 instead. */
	assert_int_equal(sl_dedup_advance(&f->d, 109), 1);
	assert_int_equal(sl_dedup_keys(&f->d), 1);
	assert_int_equal(f->d.stats.keys_expired, 1);
	/* A late row of key 1 (ts 105 <= WM) after cleanup starts a new t0
	 * and is kept; unbounded state would have dropped it. */
	add(f, 1, 3, 105);
	add(f, 2, 4, 120);	/* dup of 115 */
	flush(f);
	assert_int_equal(f->n_out, 4);
	assert_int_equal(out_i64(f, 3, 8), 3);
	assert_int_equal(f->d.stats.dup_dropped, 1);
	/* Key 1's new timer is at 114, key 2's at 124. */
	assert_int_equal(sl_dedup_advance(&f->d, 123), 1);
	assert_int_equal(sl_dedup_keys(&f->d), 1);
	assert_int_equal(sl_dedup_advance(&f->d, 124), 1);
	assert_int_equal(sl_dedup_keys(&f->d), 0);
	/* Nothing left in the state either: a key's next row is a first. */
	add(f, 2, 5, 121);
	flush(f);
	assert_int_equal(f->n_out, 5);
	/* t0 + within past MAX: that key goes at end of input only. */
	add(f, 3, 6, INT64_MAX - 3);
	add(f, 3, 7, INT64_MAX);
	flush(f);
	assert_int_equal(f->n_out, 6);
	assert_int_equal(sl_dedup_advance(&f->d, INT64_MAX - 1), 1);
	assert_int_equal(sl_dedup_keys(&f->d), 1);
	assert_int_equal(sl_dedup_advance(&f->d, INT64_MAX), 1);
	assert_int_equal(sl_dedup_keys(&f->d), 0);
	assert_int_equal(sl_dedup_advance(&f->d, 5), -EINVAL);
	fx_close(f);
	free(f);
}

/*
 * A model: per key t0 in a plain array, judged in arrival order;
 * bounded removes a key once the watermark reaches t0 + within - 1.
 */
struct model {
	bool has[64];
	int64_t t0[64];
};

static bool
model_row(struct model *m, uint64_t k, int64_t ts, int64_t within)
{
	if (m->has[k] && ts < m->t0[k] + within)
		return false;
	m->has[k] = true;
	m->t0[k] = ts;
	return true;
}

static void
model_wm(struct model *m, int64_t wm, int64_t within)
{
	for (int k = 0; k < 64; k++)
		if (m->has[k] && m->t0[k] + within - 1 <= wm)
			m->has[k] = false;
}

/*
 * 20000 rows over 40 keys, time advancing 1 ms a row with up to 50 ms of
 * disorder, a watermark every 100 rows at max - B - 1. With B = 50 no row
 * is late and the output equals unbounded state's; with B = 0 many are,
 * and it equals the bounded model's, which differs from unbounded.
 */
static void
random_run(int64_t B, bool gathered)
{
	const int64_t within = 300;
	struct fx *f = calloc(1, sizeof(*f));
	struct model bounded = { 0 }, unbounded = { 0 };
	unsigned int n_b = 0, n_u = 0, diff = 0;
	static int64_t want_b[MAX_OUT];
	int64_t max_ts = INT64_MIN;
	uint64_t seed = 12345;

	fx_open(f, 0, 0, MAXP - 1, within, gathered);
	for (int i = 0; i < 20000; i++) {
		uint64_t k, dis;
		int64_t ts;
		bool kb, ku;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		k = (seed >> 33) % 40;
		dis = (seed >> 17) % 51;
		ts = 1000 + i - (int64_t)dis;
		max_ts = ts > max_ts ? ts : max_ts;
		kb = model_row(&bounded, k, ts, within);
		ku = model_row(&unbounded, k, ts, within);
		diff += kb != ku;
		if (kb)
			want_b[n_b++] = i;
		n_u += ku;
		add(f, k, i, ts);
		if (i % 100 == 99) {
			flush(f);
			assert_true(sl_dedup_advance(&f->d, max_ts - B - 1) >= 0);
			model_wm(&bounded, max_ts - B - 1, within);
			/* Cleanup keeps the state to the keys seen lately. */
			assert_true(sl_dedup_keys(&f->d) <= 40);
		}
	}
	flush(f);
	assert_int_equal(f->n_out, n_b);
	for (unsigned int i = 0; i < n_b; i++)
		assert_int_equal(out_i64(f, i, 8), want_b[i]);
	if (B >= 50)
		assert_int_equal(diff, 0);
	else
		assert_true(diff > 0);	/* the data exercises it */
	assert_int_equal(f->d.stats.dup_dropped, 20000 - n_b);
	assert_true(sl_dedup_advance(&f->d, INT64_MAX) >= 0);
	assert_int_equal(sl_dedup_keys(&f->d), 0);
	(void)n_u;
	fx_close(f);
	free(f);
}

static void
test_random_no_late(void **state)
{
	(void)state;
	random_run(50, false);
	random_run(50, true);
}

static void
test_random_late(void **state)
{
	(void)state;
	random_run(0, false);
}

struct snap_out {
	unsigned int n;
	uint16_t kg[4096];
	void *chunk[4096];
	size_t len[4096];
	void *meta;
	size_t meta_len;
};

static int
keep_chunk(void *arg, uint16_t kg, const void *buf, size_t len)
{
	struct snap_out *o = arg;

	assert_true(o->n < 4096);
	o->kg[o->n] = kg;
	o->chunk[o->n] = malloc(len);
	memcpy(o->chunk[o->n], buf, len);
	o->len[o->n++] = len;
	return 0;
}

/* Rows i in [from, to) of a fixed stream: 30 keys, disorder 20, B = 20. */
static void
feed(struct fx *f, int from, int to, int64_t *max_ts)
{
	for (int i = from; i < to; i++) {
		uint64_t k = ((uint64_t)i * 7919u) % 30;
		int64_t ts = 5000 + i - (int64_t)(((uint64_t)i * 104729u) % 21);

		*max_ts = ts > *max_ts ? ts : *max_ts;
		add(f, k, i, ts);
		if (i % 64 == 63) {
			flush(f);
			assert_true(sl_dedup_advance(&f->d, *max_ts - 21) >= 0);
		}
	}
	flush(f);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * A checkpoint at row 3000 of 6000 (the instance goes on with 500 more
 * rows while the snapshot is drained), restored onto 1 and onto 2
 * instances that replay from row 3000, as the dataplane does after a
 * failure: their output after the checkpoint is the uninterrupted run's.
 */
static void
test_snapshot_restore(void **state)
{
	struct fx *a = calloc(1, sizeof(*a));
	struct snap_out *o = calloc(1, sizeof(*o));
	int64_t mt = INT64_MIN, want[MAX_OUT], got[MAX_OUT];
	unsigned int n_before, n_want, n_got;

	(void)state;
	fx_open(a, 0, 0, MAXP - 1, 200, false);
	feed(a, 0, 3000, &mt);
	n_before = a->n_out;
	assert_int_equal(sl_dedup_snapshot_begin(&a->d), 0);
	assert_int_equal(sl_dedup_snapshot_begin(&a->d), -EBUSY);
	feed(a, 3000, 3500, &mt);	/* copy-on-write: not in the snapshot */
	o->meta_len = sl_state_snapshot_meta(a->d.snap, NULL, 0);
	o->meta = malloc(o->meta_len);
	assert_int_equal(sl_state_snapshot_meta(a->d.snap, o->meta, o->meta_len), o->meta_len);
	while (sl_state_snapshot_write(a->d.snap, 1024, 4096, keep_chunk, o) == 1)
		;
	sl_dedup_snapshot_end(&a->d);
	feed(a, 3500, 6000, &mt);
	n_want = a->n_out - n_before;
	for (unsigned int i = 0; i < n_want; i++)
		want[i] = out_i64(a, n_before + i, 8);
	qsort(want, n_want, sizeof(want[0]), cmp_i64);

	for (int parts = 1; parts <= 2; parts++) {
		struct fx *b[2];

		n_got = 0;
		for (int p = 0; p < parts; p++) {
			uint32_t lo = parts == 1 ? 0 : p * 64, hi = parts == 1 ? MAXP - 1 : lo + 63;
			int64_t bmt = INT64_MIN;

			b[p] = calloc(1, sizeof(*b[p]));
			fx_open(b[p], 1 + p, lo, hi, 200, false);
			for (unsigned int i = 0; i < o->n; i++)
				if (o->kg[i] >= lo && o->kg[i] <= hi)
					assert_true(sl_state_restore(b[p]->st, o->meta, o->meta_len,
								     o->chunk[i], o->len[i]) >= 0);
			assert_int_equal(sl_dedup_restore_done(&b[p]->d), 0);
			/* Only its key groups' rows reach an instance. */
			for (int i = 3000; i < 6000; i++) {
				uint64_t k = ((uint64_t)i * 7919u) % 30;
				int64_t ts = 5000 + i - (int64_t)(((uint64_t)i * 104729u) % 21);

				bmt = ts > bmt ? ts : bmt;
				if (row_kg(b[p], k) >= lo && row_kg(b[p], k) <= hi)
					add(b[p], k, i, ts);
				if (i % 64 == 63) {
					flush(b[p]);
					assert_true(sl_dedup_advance(&b[p]->d, bmt - 21) >= 0);
				}
			}
			flush(b[p]);
			for (unsigned int i = 0; i < b[p]->n_out; i++)
				got[n_got++] = out_i64(b[p], i, 8);
			assert_true(sl_dedup_advance(&b[p]->d, INT64_MAX) >= 0);
			assert_int_equal(sl_dedup_keys(&b[p]->d), 0);
			fx_close(b[p]);
			free(b[p]);
		}
		qsort(got, n_got, sizeof(got[0]), cmp_i64);
		assert_int_equal(n_got, n_want);
		for (unsigned int i = 0; i < n_want; i++)
			assert_int_equal(got[i], want[i]);
	}
	for (unsigned int i = 0; i < o->n; i++)
		free(o->chunk[i]);
	free(o->meta);
	free(o);
	fx_close(a);
	free(a);
}

static void
test_conf_check(void **state)
{
	struct sl_schema s;
	struct sl_dedup_conf c;
	char msg[160];
	size_t at;

	(void)state;
	assert_int_equal(sl_schema_parse_spec(&s, "k:u64,f:f64,ts:timestamp_ms", &at), 0);
	memset(&c, 0, sizeof(c));
	c.in = &s;
	c.ts_field = 2;
	c.within = 1;
	c.n_keys = 1;
	c.max_parallelism = MAXP;
	c.last_kg = MAXP - 1;
	assert_int_equal(sl_dedup_conf_check(&c, msg, sizeof(msg)), 0);
	c.within = 0;
	assert_int_equal(sl_dedup_conf_check(&c, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "within must be > 0"));
	c.within = 1;
	c.ts_field = 1;
	assert_int_equal(sl_dedup_conf_check(&c, msg, sizeof(msg)), -EINVAL);
	c.ts_field = 2;
	c.n_keys = 0;
	assert_int_equal(sl_dedup_conf_check(&c, msg, sizeof(msg)), -EINVAL);
	c.n_keys = 1;
	c.last_kg = MAXP;
	assert_int_equal(sl_dedup_conf_check(&c, msg, sizeof(msg)), -EINVAL);
}

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < N_REGION; i++) {
		regions[i] = mmap(NULL, REGION_LEN, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (regions[i] == MAP_FAILED)
			return -1;
	}
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_and_renewal),
		cmocka_unit_test(test_cleanup),
		cmocka_unit_test(test_random_no_late),
		cmocka_unit_test(test_random_late),
		cmocka_unit_test(test_snapshot_restore),
		cmocka_unit_test(test_conf_check),
	};
	int failed;

	if (setup(NULL) < 0)
		return 1;
	g_backend = SL_STATE_BACKEND_HEAP;
	failed = cmocka_run_group_tests_name("dedup-heap", tests, NULL, NULL);
	g_backend = SL_STATE_BACKEND_ROCKSDB;
	failed += cmocka_run_group_tests_name("dedup-rocksdb", tests, NULL, NULL);
	return failed;
}
