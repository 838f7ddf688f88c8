/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: per-window Top-N (operators/topk) against semantics.md
 * section 9: W9.1 as its two stages, stage 1 the window operator
 * (tumbling 10 s, count per auction, on the heap and the RocksDB backend)
 * and stage 2 sl_topk over each firing's rows in the sink's key order,
 * with the late bid dropped by stage 1; R9.2's tie-break (equal values
 * rank by key ascending, ROW_NUMBER's distinct ranks) and the ascending
 * order on every column type, against a brute-force sort of random
 * windows; and the arguments sl_topk_init refuses.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "sl_kg.h"
#include "sl_state.h"
#include "sl_topk.h"
#include "sl_window.h"

#define REGION (64u << 20)

struct w91 {
	struct sl_schema in;
	struct sl_state *st;
	void *mem;
	char dir[64];
	struct sl_win w;
	struct sl_vec *v;
	uint8_t out[16][64];
	unsigned int n_out;
};

static uint8_t *
w91_out(void *ctx)
{
	struct w91 *f = ctx;

	assert_true(f->n_out < 16);
	return f->out[f->n_out++];
}

static void
w91_init(struct w91 *f, enum sl_state_backend be)
{
	struct sl_state_conf sc;
	struct sl_win_conf c;
	size_t at;

	memset(f, 0, sizeof(*f));
	assert_int_equal(sl_schema_parse_spec(&f->in, "auction:str[4],ts:timestamp_ms", &at), 0);
	memset(&sc, 0, sizeof(sc));
	sc.backend = be;
	sc.max_parallelism = 128;
	sc.first_kg = 0;
	sc.last_kg = 127;
	if (be == SL_STATE_BACKEND_HEAP) {
		f->mem = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		assert_true(f->mem != MAP_FAILED);
		sc.mem = f->mem;
		sc.mem_len = REGION;
	} else {
		snprintf(f->dir, sizeof(f->dir), "/tmp/sl-test-topk-%d", (int)getpid());
		sc.dir = f->dir;
	}
	f->st = sl_state_open(&sc);
	assert_non_null(f->st);
	memset(&c, 0, sizeof(c));
	c.in = &f->in;
	c.ts_field = 1;
	c.size = 10000;
	c.n_keys = 1;
	c.key_field[0] = 0;
	c.n_aggs = 1;
	c.agg[0] = (struct sl_win_agg){ SL_WIN_COUNT, -1, "bids" };
	c.capacity = 64;
	c.max_parallelism = 128;
	c.first_kg = 0;
	c.last_kg = 127;
	assert_int_equal(sl_win_init(&f->w, &c, f->st), 0);
	f->v = calloc(1, sl_vec_size(f->in.row_size));
	assert_non_null(f->v);
}

static void
w91_fini(struct w91 *f)
{
	char cmd[96];

	sl_win_fini(&f->w);
	sl_state_close(f->st);
	if (f->mem != NULL) {
		munmap(f->mem, REGION);
	} else {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
		assert_int_equal(system(cmd), 0);
	}
	free(f->v);
}

static void
w91_bid(struct w91 *f, char auction, int64_t ts)
{
	uint8_t *row;

	sl_vec_reset(f->v, f->in.row_size);
	row = sl_vec_row(f->v, 0);
	memset(row, 0, f->in.row_size);
	row[0] = (uint8_t)auction;
	sl_row_set_int(row, &f->in.f[1], ts);
	f->v->hash[0] = sl_kg_hash(row, 4);
	f->v->n_rows = 1;
	sl_vec_select_all(f->v);
	sl_win_process(&f->w, f->v);
}

static int
cmp_key(const void *a, const void *b, void *rows)
{
	return memcmp((const uint8_t *)rows + *(const uint32_t *)a * 64,
		      (const uint8_t *)rows + *(const uint32_t *)b * 64, 4);
}

/* Stage 1 fires at WM(wm); stage 2 ranks its rows: "[ (A,3), (B,2) ] @9999". */
static const char *
w91_watermark(struct w91 *f, int64_t wm, struct sl_topk *t)
{
	static char buf[128];
	const struct sl_schema *o = &f->w.out;
	uint32_t idx[16];
	uint32_t m;
	size_t len;

	f->n_out = 0;
	sl_win_advance(&f->w, wm, w91_out, f);
	if (f->n_out == 0)
		return "";
	for (uint32_t i = 0; i < f->n_out; i++)
		idx[i] = i;
	/* the sink's order: one window here, then the key */
	qsort_r(idx, f->n_out, sizeof(idx[0]), cmp_key, f->out);
	m = sl_topk_rank(t, f->out[0], 64, idx, f->n_out, idx);
	len = (size_t)snprintf(buf, sizeof(buf), "[");
	for (uint32_t i = 0; i < m; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, " (%c,%lld)%s",
					f->out[idx[i]][0],
					(long long)sl_row_get_int(f->out[idx[i]], &o->f[3]),
					i + 1 < m ? "," : "");
	snprintf(buf + len, sizeof(buf) - len, " ] @%lld",
		 (long long)sl_row_get_int(f->out[idx[0]], &o->f[2]) - 1);
	return buf;
}

static void
w91_run(enum sl_state_backend be)
{
	const char *bids1 = "ABACBACD";
	const int64_t ts1[8] = { 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000 };
	const char *bids2 = "BBDDD";
	const int64_t ts2[5] = { 11000, 12000, 13000, 14000, 19999 };
	struct sl_topk t;
	struct w91 f;

	w91_init(&f, be);
	/* out: auction, window_start, window_end, bids */
	assert_int_equal(sl_topk_init(&t, 2, &f.w.out.f[3], false), 0);
	for (int i = 0; i < 8; i++)
		w91_bid(&f, bids1[i], ts1[i]);
	for (int i = 0; i < 5; i++)
		w91_bid(&f, bids2[i], ts2[i]);
	assert_string_equal(w91_watermark(&f, 9998, &t), "");
	/* stage 1: (A,3) (B,2) (C,2) (D,1); C ties with B and is excluded */
	assert_int_equal(f.n_out, 0);
	assert_string_equal(w91_watermark(&f, 9999, &t), "[ (A,3), (B,2) ] @9999");
	assert_int_equal(f.n_out, 4);
	w91_bid(&f, 'A', 9500);		/* late: dropped in stage 1 */
	assert_int_equal(f.w.stats.late_dropped, 1);
	assert_string_equal(w91_watermark(&f, 19999, &t),
			    "[ (D,3), (B,2) ] @19999");
	assert_int_equal(f.n_out, 2);
	assert_string_equal(w91_watermark(&f, INT64_MAX, &t), "");
	sl_topk_free(&t);
	w91_fini(&f);
}

static void
test_W9_1_top2_by_bid_count(void **state)
{
	(void)state;
	w91_run(SL_STATE_BACKEND_HEAP);
	w91_run(SL_STATE_BACKEND_ROCKSDB);
}

/* One random window: value column of each type, many ties. */
struct ref_ent {
	uint32_t pos;
	double v;		/* exact for the small integers used */
};

static int
cmp_ref(const void *a, const void *b, void *asc)
{
	const struct ref_ent *x = a, *y = b;

	if (x->v != y->v)
		return (*(bool *)asc ? x->v > y->v : x->v < y->v) ? 1 : -1;
	return x->pos < y->pos ? -1 : 1;
}

static void
test_R9_2_tie_order_against_sort(void **state)
{
	static const char *const types[] = { "u64", "i64", "f64", "u32", "i32", "timestamp_ms" };
	static const uint32_t ks[] = { 1, 2, 3, 7, 64, 1000 };
	enum { N = 500 };
	static uint8_t rows[N * 16];
	static uint32_t idx[N], out[2 * N];
	static struct ref_ent ref[N];

	(void)state;
	srand(9);
	for (unsigned int ty = 0; ty < 6; ty++) {
		struct sl_schema s;
		char spec[64];
		size_t at;

		snprintf(spec, sizeof(spec), "key:u32,x:%s", types[ty]);
		assert_int_equal(sl_schema_parse_spec(&s, spec, &at), 0);
		for (unsigned int round = 0; round < 40; round++) {
			size_t n = (size_t)(rand() % N) + (round == 0 ? 0 : 1);
			uint32_t k = ks[rand() % 6];
			bool asc = rand() & 1;
			int spread = 1 + rand() % 50;	/* small: ties */
			struct sl_topk t;
			uint32_t m;

			for (size_t i = 0; i < n; i++) {
				uint8_t *r = rows + i * s.row_size;
				int64_t v = rand() % spread;

				if (ty != 0 && ty != 3)
					v -= spread / 2;	/* negatives */
				sl_row_set_int(r, &s.f[0], (int64_t)i);
				if (s.f[1].type == SL_T_F64)
					sl_row_set_f64(r, &s.f[1], v == 0 && (i & 1) ? -0.0 : v * 0.5);
				else
					sl_row_set_int(r, &s.f[1], v);
				idx[i] = (uint32_t)i;
			}
			/* the rows' key order is not their storage order */
			for (size_t i = n; i > 1; i--) {
				size_t j = (size_t)rand() % i;
				uint32_t x = idx[i - 1];

				idx[i - 1] = idx[j];
				idx[j] = x;
			}
			for (size_t i = 0; i < n; i++) {
				const uint8_t *r = rows + (size_t)idx[i] * s.row_size;

				ref[i].pos = (uint32_t)i;
				ref[i].v = s.f[1].type == SL_T_F64 ? sl_row_get_f64(r, &s.f[1]) :
					   (double)sl_row_get_int(r, &s.f[1]);
			}
			qsort_r(ref, n, sizeof(ref[0]), cmp_ref, &asc);
			assert_int_equal(sl_topk_init(&t, k, &s.f[1], asc), 0);
			m = sl_topk_rank(&t, rows, s.row_size, idx, n, out);
			assert_int_equal(m, n < k ? n : k);
			for (uint32_t i = 0; i < m; i++)
				assert_int_equal(out[i], idx[ref[i].pos]);
			/* in place, as the sink calls it */
			memcpy(out + m, idx, n * sizeof(idx[0]));
			m = sl_topk_rank(&t, rows, s.row_size, idx, n, idx);
			for (uint32_t i = 0; i < m; i++)
				assert_int_equal(idx[i], out[m + ref[i].pos]);
			sl_topk_free(&t);
		}
	}
}

static void
test_init_refuses(void **state)
{
	struct sl_schema s;
	struct sl_topk t;
	size_t at;

	(void)state;
	assert_int_equal(sl_schema_parse_spec(&s, "k:str[8],n:u64", &at), 0);
	assert_int_equal(sl_topk_init(&t, 0, &s.f[1], false), -EINVAL);
	assert_int_equal(sl_topk_init(&t, SL_TOPK_MAX + 1, &s.f[1], false), -EINVAL);
	assert_int_equal(sl_topk_init(&t, 3, &s.f[0], false), -EINVAL);
	assert_int_equal(sl_topk_init(&t, SL_TOPK_MAX, &s.f[1], true), 0);
	sl_topk_free(&t);
	sl_topk_free(&t);	/* twice is fine */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_W9_1_top2_by_bid_count),
		cmocka_unit_test(test_R9_2_tie_order_against_sort),
		cmocka_unit_test(test_init_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
