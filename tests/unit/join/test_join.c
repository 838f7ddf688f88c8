/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: sl_join on both state backends, test by test after
 * semantics.md section 7: W7.1 interval join (inclusive and exclusive
 * bounds, cleanup times, lateness, the purged-partner trap), R7.1
 * negative bounds, R7.2 output timestamps and order, R7.3 late left rows
 * and C4 exclusive cleanup, W7.2 tumbling window join (and R7.4 late rows
 * and one-sided windows), session window joins (a worked example derived
 * by hand, the same rows split by an earlier watermark, a random stream
 * against a brute force), W7.3 order/payment matching and its order
 * sensitivity (R7.5), R1.7's two-input watermark with an idle input
 * driving the join, enrichment by a changelog's latest row (before any
 * row, outer, out-of-order versions, one vector; W5.1's TTL boundary on
 * its state), random interval joins
 * against a brute-force join, and a checkpoint taken while rows keep
 * coming restored onto 1 and 2 instances for each kind. The process
 * kind runs the example plugin orderpay (plugins/orderpay.c, a co_process
 * function written after W7.3) from SL_PLUGINS_DIR: W7.3 and its order
 * sensitivity give the built-in match's rows exactly, and so does a
 * random stream, row for row and byte for byte (its side-output rows
 * are match's LEFT_ONLY/RIGHT_ONLY ones).
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

#include "sl_join.h"
#include "sl_process.h"
#include "sl_udf.h"
#include "sl_kg.h"
#include "sl_state.h"
#include "sl_wm.h"

#define MAXP 128
#define N_REGION 4
#define REGION_LEN (64u << 20)
#define MAX_OUT 60000

static enum sl_state_backend g_backend;
static void *regions[N_REGION];
static unsigned int n_dirs;
static struct sl_udf_lib g_lib;		/* orderpay */
static const struct sluice_fn *g_match;	/* orderpay's co_process "match" */
static const struct sluice_fn *g_wait;	/* orderpay's "wait": columns of its own */
static const struct sluice_fn *g_fn;	/* what a process join runs */
static struct sl_udf_param g_param[2];	/* its timeout, and time when g_ptime */
static bool g_ptime;			/* orderpay with time: processing */

/* An output row, decoded: kind, ts, left id (0: none), right id. */
struct orow {
	int kind;
	int64_t ts;
	uint64_t lid;
	uint32_t rid;
};

/*
 * left  k:u64,id:u64,ts:timestamp_ms    (24 bytes)
 * right rid:u32,ts:timestamp_ms,k:u64   (20 bytes: another layout)
 */
struct fx {
	struct sl_schema in[2];
	struct sl_schema jout;		/* the join's columns (process) */
	struct sl_state *st;
	struct sl_join j;
	struct sl_vec *v[2];
	char dir[96];
	uint8_t (*raw)[64];
	struct orow out[MAX_OUT];
	unsigned int n_out, n_dec;
};

/* Output rows land in raw[] as the join writes them; fx_sync decodes. */
static uint8_t *
t_out1(void *ctx, enum sl_join_out_kind k)
{
	struct fx *f = ctx;

	assert_true(f->n_out < MAX_OUT);
	f->out[f->n_out].kind = (int)k;
	return f->raw[f->n_out++];
}

static void
fx_sync(struct fx *f)
{
	for (; f->n_dec < f->n_out; f->n_dec++) {
		struct orow *o = &f->out[f->n_dec];
		uint8_t *b = f->raw[f->n_dec];

		o->ts = sl_join_out_ts(b);
		memcpy(&o->lid, sl_join_out_left(b) + 8, 8);
		memcpy(&o->rid, sl_join_out_right(&f->j, b), 4);
		/* orderpay's "unmatched" side output: an order alone is
		 * match's LEFT_ONLY (UNPAID), a payment alone RIGHT_ONLY. */
		if (o->kind == SL_JOIN_OUT_SIDE)
			o->kind = o->lid != 0 ? SL_JOIN_OUT_LEFT_ONLY : SL_JOIN_OUT_RIGHT_ONLY;
	}
}

static void
fx_open_conf(struct fx *f, int region, uint32_t lo, uint32_t hi,
	     struct sl_join_conf *c)
{
	struct sl_state_conf sc;
	size_t at;

	memset(f, 0, sizeof(*f));
	f->raw = malloc((size_t)MAX_OUT * 64);
	assert_non_null(f->raw);
	assert_int_equal(sl_schema_parse_spec(&f->in[0], "k:u64,id:u64,ts:timestamp_ms", &at), 0);
	assert_int_equal(sl_schema_parse_spec(&f->in[1], "rid:u32,ts:timestamp_ms,k:u64", &at), 0);
	memset(&sc, 0, sizeof(sc));
	sc.backend = g_backend;
	sc.max_parallelism = MAXP;
	sc.first_kg = lo;
	sc.last_kg = hi;
	sc.mem = regions[region];
	sc.mem_len = REGION_LEN;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sl-test-join-%d-%u", (int)getpid(), n_dirs++);
	sc.dir = f->dir;
	f->st = sl_state_open(&sc);
	assert_non_null(f->st);
	c->in[0].schema = &f->in[0];
	c->in[0].ts_field = 2;
	c->in[0].key_field[0] = 0;
	c->in[1].schema = &f->in[1];
	c->in[1].ts_field = 1;
	c->in[1].key_field[0] = 2;
	c->n_keys = 1;
	c->capacity = 1024;
	c->max_parallelism = MAXP;
	c->first_kg = lo;
	c->last_kg = hi;
	if (c->kind == SL_JOIN_PROCESS) {
		/* The join's default columns, as the plan names them. */
		assert_int_equal(sl_schema_parse_spec(&f->jout,
			"join_ts:timestamp_ms,k:u64,id:u64,ts:timestamp_ms,rid:u32,r_ts:timestamp_ms,r_k:u64",
			&at), 0);
		snprintf(g_param[0].name, sizeof(g_param[0].name), "timeout");
		snprintf(g_param[0].value, sizeof(g_param[0].value), "%lld", (long long)c->timeout);
		snprintf(g_param[1].name, sizeof(g_param[1].name), "time");
		snprintf(g_param[1].value, sizeof(g_param[1].value), "processing");
		c->fn = g_fn != NULL ? g_fn : g_match;
		c->n_params = g_ptime ? 2 : 1;
		c->params = g_param;
		c->out = &f->jout;
	}
	assert_int_equal(sl_join_init(&f->j, c, f->st), 0);
	for (int s = 0; s < 2; s++) {
		f->v[s] = aligned_alloc(64, (sl_vec_size(f->in[s].row_size) + 63) & ~(size_t)63);
		assert_non_null(f->v[s]);
		sl_vec_reset(f->v[s], f->in[s].row_size);
	}
}

static void
fx_open(struct fx *f, enum sl_join_kind kind, int64_t a, int64_t b)
{
	struct sl_join_conf c;

	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.lower = a;
	c.upper = b;
	c.size = a;
	c.timeout = a;
	fx_open_conf(f, 0, 0, MAXP - 1, &c);
}

static void
fx_close(struct fx *f)
{
	sl_join_fini(&f->j);
	sl_state_close(f->st);
	free(f->v[0]);
	free(f->v[1]);
	free(f->raw);
	if (g_backend == SL_STATE_BACKEND_ROCKSDB) {
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
		assert_int_equal(system(cmd), 0);
	}
}

static uint32_t
kg_of(uint64_t k)
{
	return sl_kg_of(sl_kg_hash(&k, 8), MAXP);
}

/* Queue a row on side s; flush() processes the queued vector. */
static void
queue(struct fx *f, int s, uint64_t k, uint64_t id, int64_t ts)
{
	struct sl_vec *v = f->v[s];
	uint8_t *row = sl_vec_row(v, v->n_rows);

	assert_true(v->n_rows < SL_VEC_MAX);
	if (s == 0) {
		memcpy(row, &k, 8);
		memcpy(row + 8, &id, 8);
		memcpy(row + 16, &ts, 8);
	} else {
		uint32_t rid = (uint32_t)id;

		memcpy(row, &rid, 4);
		memcpy(row + 4, &ts, 8);
		memcpy(row + 12, &k, 8);
	}
	v->hash[v->n_rows] = sl_kg_hash(&k, 8);
	v->n_rows++;
}

static void
flush(struct fx *f, int s)
{
	if (f->v[s]->n_rows == 0)
		return;
	sl_vec_select_all(f->v[s]);
	sl_join_process(&f->j, s, f->v[s], t_out1, f);
	fx_sync(f);
	sl_vec_reset(f->v[s], f->in[s].row_size);
}

/* One row, processed at once (arrival order is the call order). */
static void
row(struct fx *f, int s, uint64_t k, uint64_t id, int64_t ts)
{
	queue(f, s, k, id, ts);
	flush(f, s);
}

static int
wm(struct fx *f, int64_t w)
{
	int rc = sl_join_advance(&f->j, w, t_out1, f);

	fx_sync(f);
	return rc;
}

/* Rows [from, from + n) are want[]. */
static void
expect_part(const struct fx *f, unsigned int from, const struct orow *want, unsigned int n)
{
	assert_true(f->n_out >= from + n);
	for (unsigned int i = 0; i < n; i++) {
		const struct orow *o = &f->out[from + i];

		assert_int_equal(o->kind, want[i].kind);
		assert_int_equal(o->ts, want[i].ts);
		assert_int_equal(o->lid, want[i].lid);
		assert_int_equal(o->rid, want[i].rid);
	}
}

/* Rows from "from" on are exactly want[]. */
static void
expect(const struct fx *f, unsigned int from, const struct orow *want, unsigned int n)
{
	assert_int_equal(f->n_out - from, n);
	expect_part(f, from, want, n);
}

#define P SL_JOIN_OUT_PAIR

/* W7.1's rows: left a1@10000, right b1..b5; b arriving first or last. */
static void
w71(int64_t lower, int64_t upper, bool lx, bool ux, const struct orow *want,
    unsigned int n)
{
	static const int64_t bts[5] = { 7999, 8000, 10000, 11000, 11001 };

	for (int order = 0; order < 2; order++) {
		struct fx *f = calloc(1, sizeof(*f));
		struct sl_join_conf c;

		memset(&c, 0, sizeof(c));
		c.kind = SL_JOIN_INTERVAL;
		c.lower = lower;
		c.upper = upper;
		c.lower_exclusive = lx;
		c.upper_exclusive = ux;
		fx_open_conf(f, 0, 0, MAXP - 1, &c);
		if (order == 0)
			row(f, 0, 7, 1, 10000);
		/* Reverse arrival when b's come first: the pairs still come
		 * out in the partner's time order, and with a1 last they are
		 * all a1's (one arriving row, sorted). */
		for (int b = 0; b < 5; b++)
			row(f, 1, 7, (uint64_t)(order == 0 ? b + 1 : 5 - b),
			    bts[order == 0 ? b : 4 - b]);
		if (order == 1)
			row(f, 0, 7, 1, 10000);
		expect(f, 0, want, n);
		assert_int_equal(f->j.stats.rows_out, n);
		fx_close(f);
		free(f);
	}
}

static void
test_W7_1_interval_join(void **state)
{
	static const struct orow want[] = {
		{ P, 10000, 1, 2 }, { P, 10000, 1, 3 }, { P, 11000, 1, 4 },
	};

	(void)state;
	w71(-2000, 1000, false, false, want, 3);
}

static void
test_W7_1_lower_exclusive(void **state)
{
	static const struct orow want[] = { { P, 10000, 1, 3 }, { P, 11000, 1, 4 } };

	(void)state;
	w71(-2000, 1000, true, false, want, 2);
}

static void
test_W7_1_upper_exclusive(void **state)
{
	static const struct orow want[] = { { P, 10000, 1, 2 }, { P, 10000, 1, 3 } };

	(void)state;
	w71(-2000, 1000, false, true, want, 2);
}

/* W7.1 cleanup: a1 purged at WM(11000), b2 at WM(10000), b4 at WM(13000). */
static void
test_W7_1_cleanup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, SL_JOIN_INTERVAL, -2000, 1000);
	row(f, 0, 7, 1, 10000);
	row(f, 1, 7, 2, 8000);
	row(f, 1, 7, 4, 11000);
	assert_int_equal(sl_join_timers(&f->j), 3);
	assert_int_equal(wm(f, 9999), 0);
	assert_int_equal(f->j.stats.purged, 0);
	assert_int_equal(wm(f, 10000), 0);
	assert_int_equal(f->j.stats.purged, 1);	/* b2 */
	assert_int_equal(wm(f, 10999), 0);
	assert_int_equal(f->j.stats.purged, 1);
	assert_int_equal(wm(f, 11000), 0);
	assert_int_equal(f->j.stats.purged, 2);	/* a1 */
	assert_int_equal(wm(f, 12999), 0);
	assert_int_equal(f->j.stats.purged, 2);
	assert_int_equal(wm(f, 13000), 0);
	assert_int_equal(f->j.stats.purged, 3);	/* b4 */
	assert_int_equal(sl_join_timers(&f->j), 0);
	/* Purged really means gone: a new left row at 10000 finds nobody. */
	row(f, 0, 7, 9, 13000);
	assert_int_equal(f->n_out, 2);		/* the two pairs of the start */
	assert_int_equal(wm(f, 1), -EINVAL);	/* watermarks never go back */
	fx_close(f);
	free(f);
}

/* W7.1 late: with WM(10500) a right b@10499 is late, b@10500 accepted. */
static void
test_W7_1_late(void **state)
{
	static const struct orow want[] = {
		{ SL_JOIN_OUT_LATE_RIGHT, 10499, 0, 11 }, { P, 10500, 1, 12 },
	};
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, SL_JOIN_INTERVAL, -2000, 1000);
	row(f, 0, 7, 1, 10000);
	assert_int_equal(wm(f, 10500), 0);
	row(f, 1, 7, 11, 10499);
	row(f, 1, 7, 12, 10500);
	expect(f, 0, want, 2);
	assert_int_equal(f->j.stats.late[1], 1);
	assert_int_equal(f->j.stats.late[0], 0);
	/* a1's bucket and b@10500's: b@10499 was not buffered. */
	assert_int_equal(sl_join_timers(&f->j), 2);
	fx_close(f);
	free(f);
}

/* W7.1 trap: WM(11000) purges a1, then b4@11000 (not late) finds nothing. */
static void
test_W7_1_trap(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, SL_JOIN_INTERVAL, -2000, 1000);
	row(f, 0, 7, 1, 10000);
	assert_int_equal(wm(f, 11000), 0);
	row(f, 1, 7, 4, 11000);
	assert_int_equal(f->n_out, 0);
	assert_int_equal(f->j.stats.late[1], 0);
	assert_int_equal(sl_join_timers(&f->j), 1);	/* b4 is buffered */
	fx_close(f);
	free(f);
}

/* R7.1: both bounds negative; R7.3: then left goes at ts, right at
 * ts - lower. Keys do not meet. */
static void
test_R7_1_negative_bounds(void **state)
{
	static const struct orow want[] = {
		{ P, 5000, 1, 2 }, { P, 5000, 1, 3 }, { P, 5000, 1, 5 },
	};
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, SL_JOIN_INTERVAL, -3000, -1000);
	row(f, 1, 7, 1, 1999);
	row(f, 1, 7, 2, 2000);
	row(f, 1, 7, 3, 4000);
	row(f, 1, 7, 4, 4001);
	row(f, 1, 8, 5, 3000);	/* other key: no pair with key 7 */
	row(f, 0, 7, 1, 5000);
	row(f, 0, 8, 1, 5000);
	expect(f, 0, want, 3);
	/* Cleanup: right 2000 at 5000, left 5000 at 5000. */
	assert_int_equal(wm(f, 4999), 0);
	assert_int_equal(f->j.stats.purged, 1);	/* right 1999 at 4999 */
	assert_int_equal(wm(f, 5000), 0);
	assert_int_equal(f->j.stats.purged, 4);	/* right 2000, lefts of 7 and 8 */
	fx_close(f);
	free(f);
}

/* R7.2: pairs emitted when the second row arrives, ts = max; rows of one
 * ts of a side pair in arrival order. */
static void
test_R7_2_emission(void **state)
{
	static const struct orow want[] = {
		{ P, 1000, 1, 10 }, { P, 1000, 2, 10 }, { P, 1500, 3, 10 },
		{ P, 1200, 1, 11 }, { P, 1200, 2, 11 }, { P, 1500, 3, 11 },
	};
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, SL_JOIN_INTERVAL, -1000, 1000);
	row(f, 0, 7, 1, 900);
	row(f, 0, 7, 2, 900);
	assert_int_equal(f->n_out, 0);
	row(f, 1, 7, 10, 1000);
	row(f, 0, 7, 3, 1500);
	/* 11@1200 meets the lefts of [200, 2200]: bucket 900 (1 then 2,
	 * arrival order), then bucket 1500 (3): partner time order. */
	row(f, 1, 7, 11, 1200);
	expect(f, 0, want, 6);
	fx_close(f);
	free(f);
}

/* R7.3: a late left row goes to the left side output; C4: with an
 * exclusive upper bound the left cleanup is at ts + upper - 1. */
static void
test_R7_3_late_left_and_C4(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sl_join_conf c;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.kind = SL_JOIN_INTERVAL;
	c.lower = -2000;
	c.upper = 1000;
	c.upper_exclusive = true;
	c.lower_exclusive = true;
	fx_open_conf(f, 0, 0, MAXP - 1, &c);
	row(f, 0, 7, 1, 10000);
	row(f, 1, 7, 2, 8000);		/* outside (8000, 11000): no pair */
	assert_int_equal(f->n_out, 0);
	/* Right 8000, exclusive lower: cleanup at 8000 + 1999. */
	assert_int_equal(wm(f, 9998), 0);
	assert_int_equal(f->j.stats.purged, 0);
	assert_int_equal(wm(f, 9999), 0);
	assert_int_equal(f->j.stats.purged, 1);
	assert_int_equal(wm(f, 10998), 0);
	assert_int_equal(f->j.stats.purged, 1);
	assert_int_equal(wm(f, 10999), 0);	/* left: 10000 + 999 */
	assert_int_equal(f->j.stats.purged, 2);
	row(f, 0, 7, 3, 10998);			/* < WM 10999: late */
	assert_int_equal(f->n_out, 1);
	assert_int_equal(f->out[0].kind, SL_JOIN_OUT_LATE_LEFT);
	assert_int_equal(f->out[0].lid, 3);
	assert_int_equal(f->out[0].rid, 0);
	assert_int_equal(f->j.stats.late[0], 1);
	assert_int_equal(sl_join_timers(&f->j), 0);
	fx_close(f);
	free(f);
}

/* W7.2: tumbling window join, size 2000. */
static void
test_W7_2_window_join(void **state)
{
	static const struct orow w1[] = { { P, 1999, 1, 1 }, { P, 1999, 2, 1 } };
	static const struct orow w2[] = { { P, 3999, 3, 2 } };
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, SL_JOIN_WINDOW, 2000, 0);
	row(f, 0, 7, 1, 100);
	row(f, 1, 7, 1, 500);
	row(f, 0, 7, 2, 1900);
	row(f, 1, 7, 2, 2500);
	row(f, 0, 7, 3, 2100);
	row(f, 1, 7, 3, 4100);
	assert_int_equal(f->n_out, 0);		/* nothing before the watermark */
	assert_int_equal(wm(f, 1998), 0);
	assert_int_equal(wm(f, 1999), 2);
	expect(f, 0, w1, 2);
	assert_int_equal(wm(f, 3999), 1);
	expect(f, 2, w2, 1);
	assert_int_equal(wm(f, 5999), 0);	/* [4000,6000) has only g3 */
	assert_int_equal(f->j.stats.purged, 3);
	assert_int_equal(sl_join_timers(&f->j), 0);
	fx_close(f);
	free(f);
}

/* R7.4: a row of a fired window is late (end - 1 <= WM); the cross
 * product is left outer, right inner, in arrival order; keys apart. */
static void
test_R7_4_window_late_and_order(void **state)
{
	static const struct orow want[] = {
		{ P, 1999, 1, 1 }, { P, 1999, 1, 2 }, { P, 1999, 2, 1 }, { P, 1999, 2, 2 },
		{ P, 1999, 5, 5 },
	};
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, SL_JOIN_WINDOW, 2000, 0);
	row(f, 1, 7, 1, 10);
	row(f, 0, 7, 1, 1999);
	row(f, 1, 7, 2, 0);
	row(f, 0, 7, 2, 5);
	row(f, 0, 3, 5, 5);	/* key 3 */
	row(f, 1, 3, 5, 6);
	assert_int_equal(wm(f, 2500), 5);
	/* Timers of one ts fire in key-byte order: key 3 (03 00..) before
	 * key 7 (07 00..). */
	assert_int_equal(f->n_out, 5);
	expect_part(f, 0, want + 4, 1);
	expect_part(f, 1, want, 4);
	row(f, 0, 7, 9, 1999);		/* late: its window fired */
	row(f, 1, 7, 9, 2000);		/* next window: fine */
	assert_int_equal(f->out[5].kind, SL_JOIN_OUT_LATE_LEFT);
	assert_int_equal(f->j.stats.late[0], 1);
	assert_int_equal(wm(f, INT64_MAX), 0);	/* one side only: nothing */
	fx_close(f);
	free(f);
}

/* R7.4: sliding windows (size 2000, slide 1000) join a pair once in
 * every window both rows are in; a row is late only when every window of
 * it has fired (R3.2). */
static void
test_R7_4_sliding_window_join(void **state)
{
	static const struct orow want[] = {
		{ P, 1999, 1, 2 },			/* [0, 2000) */
		{ P, 2999, 1, 2 }, { P, 2999, 1, 3 },	/* [1000, 3000) */
		{ P, 3999, 4, 3 },			/* [2000, 4000) */
	};
	struct fx *f = calloc(1, sizeof(*f));
	struct sl_join_conf c;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.kind = SL_JOIN_WINDOW;
	c.size = 2000;
	c.slide = 1000;
	fx_open_conf(f, 0, 0, MAXP - 1, &c);
	row(f, 0, 7, 1, 1500);
	row(f, 1, 7, 2, 1800);
	row(f, 1, 7, 3, 2500);
	assert_int_equal(wm(f, 1999), 1);
	assert_int_equal(wm(f, 2999), 2);
	row(f, 0, 7, 4, 2100);		/* [1000, 3000) fired; [2000, 4000) takes it */
	row(f, 0, 7, 5, 1999);		/* both its windows fired: late */
	assert_int_equal(f->j.stats.late[0], 1);
	assert_int_equal(f->out[3].kind, SL_JOIN_OUT_LATE_LEFT);
	assert_int_equal(wm(f, INT64_MAX), 1);
	assert_int_equal(f->n_out, 5);
	expect_part(f, 0, want, 3);
	expect_part(f, 4, want + 3, 1);
	assert_int_equal(sl_join_timers(&f->j), 0);
	/* size / slide above the pane limit is refused. */
	{
		char msg[200];

		c.slide = 1;
		assert_int_equal(sl_join_conf_check(&c, msg, sizeof(msg)), -EINVAL);
		assert_non_null(strstr(msg, "size / slide"));
	}
	fx_close(f);
	free(f);
}

/* W7.3: order/payment matching. */
/*
 * Session window join, gap 3000 (R7.4 with EventTimeSessionWindows; the
 * rows of both sides share one MergingWindowSet per key). Derived by
 * hand (docs/operators.md, "Joins", has it):
 *   key 1: a1@1000 opens [1000,4000); b1@2000 [2000,5000) merges:
 *          [1000,5000). a2@8000 opens [8000,11000); b2@6000 [6000,9000)
 *          merges with it (not with [1000,5000): 6000 > 5000): [6000,11000).
 *   key 2: c1@1000 (left only): [1000,4000), nothing to pair.
 *   key 3: d1@1000 [1000,4000), e1@4000 [4000,7000): touching merges
 *          (Flink's intersects is inclusive): [1000,7000).
 *   WM(4999): key 1's [1000,5000) fires: (a1,b1)@4999; key 2's
 *          [1000,4000) fires with nothing to pair.
 *   key 1: a3@12500 opens [12500,15500) (12500 > 11000: apart);
 *          b3@10500 [10500,13500) bridges both: [6000,15500).
 *   WM(15498): key 3's (d1,e1)@6999; WM(15499): key 1's (a2,b2) (a2,b3)
 *          (a3,b2) (a3,b3)@15499, left rows outer in the order the
 *          merges appended them, right rows inner.
 *   a4@12000: [12000,15000) ends before WM + 1: late (side output).
 *   b4@13000: [13000,16000) is on time, a new session (the one it
 *          touches fired); right only: WM(15999) writes nothing.
 */
static void
test_R7_4_session_window_join(void **state)
{
	static const struct orow want[] = {
		{ P, 4999, 1, 1 },
		{ P, 6999, 20, 21 },
		{ P, 15499, 2, 2 }, { P, 15499, 2, 3 }, { P, 15499, 3, 2 }, { P, 15499, 3, 3 },
		{ SL_JOIN_OUT_LATE_LEFT, 12000, 4, 0 },
	};
	struct fx *f = calloc(1, sizeof(*f));
	struct sl_join_conf c;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.kind = SL_JOIN_SESSION;
	c.gap = 3000;
	fx_open_conf(f, 0, 0, MAXP - 1, &c);
	row(f, 0, 1, 1, 1000);
	row(f, 1, 1, 1, 2000);
	row(f, 0, 1, 2, 8000);
	row(f, 1, 1, 2, 6000);
	row(f, 0, 2, 10, 1000);
	row(f, 0, 3, 20, 1000);
	row(f, 1, 3, 21, 4000);
	assert_int_equal(sl_join_timers(&f->j), 4);	/* one a session */
	assert_int_equal(wm(f, 4999), 1);
	row(f, 0, 1, 3, 12500);
	assert_int_equal(sl_join_timers(&f->j), 3);	/* key 1's two, key 3's */
	row(f, 1, 1, 3, 10500);
	assert_int_equal(sl_join_timers(&f->j), 2);	/* the bridge took two */
	assert_int_equal(wm(f, 15498), 1);		/* key 3's, at 6999 */
	assert_int_equal(wm(f, 15499), 4);
	row(f, 0, 1, 4, 12000);
	row(f, 1, 1, 4, 13000);
	assert_int_equal(wm(f, 15999), 0);
	expect(f, 0, want, 7);
	assert_int_equal(f->j.stats.late[0], 1);
	assert_int_equal(f->j.stats.late[1], 0);
	assert_int_equal(f->j.stats.purged, 5);		/* sessions fired */
	assert_int_equal(sl_join_timers(&f->j), 0);
	fx_close(f);
	free(f);
}

/* The same rows with WM(10999) before b3: [6000,11000) fires first,
 * (a2,b2)@10999; b3@10500 ([10500,13500), not late) then merges with
 * a3's [12500,15500) only: (a3,b3)@15499. */
static void
test_R7_4_session_split_by_watermark(void **state)
{
	static const struct orow want[] = {
		{ P, 4999, 1, 1 },
		{ P, 10999, 2, 2 },
		{ P, 15499, 3, 3 },
	};
	struct fx *f = calloc(1, sizeof(*f));
	struct sl_join_conf c;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.kind = SL_JOIN_SESSION;
	c.gap = 3000;
	fx_open_conf(f, 0, 0, MAXP - 1, &c);
	row(f, 0, 1, 1, 1000);
	row(f, 1, 1, 1, 2000);
	row(f, 0, 1, 2, 8000);
	row(f, 1, 1, 2, 6000);
	assert_int_equal(wm(f, 4999), 1);
	row(f, 0, 1, 3, 12500);
	assert_int_equal(wm(f, 10999), 1);
	row(f, 1, 1, 3, 10500);
	assert_int_equal(wm(f, INT64_MAX), 1);
	expect(f, 0, want, 3);
	assert_int_equal(f->j.stats.late[0] + f->j.stats.late[1], 0);
	fx_close(f);
	free(f);
}

static void
w73(enum sl_join_kind kind)
{
	static const struct orow want[] = {
		{ P, 5000, 1, 1 },
		{ SL_JOIN_OUT_LEFT_ONLY, 902000, 2, 0 },
		{ P, 7000, 3, 3 },
	};
	struct fx *f = calloc(1, sizeof(*f));

	fx_open(f, kind, 900000, 0);
	row(f, 0, 1, 1, 1000);			/* 1 order#1: timer 901000 */
	row(f, 0, 2, 2, 2000);			/* 2 order#2: timer 902000 */
	assert_int_equal(sl_join_timers(&f->j), 2);
	row(f, 1, 1, 1, 5000);			/* 3 payment#1: PAID(#1) */
	assert_int_equal(sl_join_timers(&f->j), 1);	/* 901000 deleted */
	row(f, 1, 3, 3, 6000);			/* 4 payment#3: timer 906000 */
	assert_int_equal(wm(f, 902000), 1);	/* 5 UNPAID(#2) */
	row(f, 0, 3, 3, 7000);			/* 6 PAID(#3) */
	assert_int_equal(wm(f, 2000000), 0);	/* 7 nothing */
	expect(f, 0, want, 3);
	assert_int_equal(f->j.stats.unmatched, kind == SL_JOIN_MATCH ? 1 : 0);
	assert_int_equal(f->j.stats.rows_out, 3);
	assert_int_equal(sl_join_timers(&f->j), 0);
	fx_close(f);
	free(f);
}

static void
test_W7_3_order_payment(void **state)
{
	(void)state;
	w73(SL_JOIN_MATCH);
}

/* W7.3 by the co_process plugin orderpay: the same rows. */
static void
test_W7_3_co_process_plugin(void **state)
{
	(void)state;
	w73(SL_JOIN_PROCESS);
}

/*
 * W7.3 by orderpay's "wait", a co_process function with columns of its
 * own (the key, order_ts, paid_ts, wait_ms = paid_ts - order_ts) whose
 * side output takes rows of them too: PAID(#1) waited 4000, UNPAID(#2)
 * at its timer with paid_ts 0 and wait -1, PAID(#3) -1000 (the payment
 * came first).
 */
static void
test_W7_3_co_process_own_columns(void **state)
{
	static const int64_t want[3][5] = {
		/* kind, k, order_ts, paid_ts, wait_ms */
		{ SL_JOIN_OUT_PAIR, 1, 1000, 5000, 4000 },
		{ SL_JOIN_OUT_SIDE, 2, 2000, 0, -1 },
		{ SL_JOIN_OUT_PAIR, 3, 7000, 6000, -1000 },
	};
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	g_fn = g_wait;
	fx_open(f, SL_JOIN_PROCESS, 900000, 0);
	g_fn = NULL;
	assert_int_equal(sl_join_out_size(&f->j), 32);
	row(f, 0, 1, 1, 1000);
	row(f, 0, 2, 2, 2000);
	row(f, 1, 1, 1, 5000);
	row(f, 1, 3, 3, 6000);
	assert_int_equal(wm(f, 902000), 1);
	row(f, 0, 3, 3, 7000);
	assert_int_equal(wm(f, 2000000), 0);
	assert_int_equal(f->n_out, 3);
	for (int i = 0; i < 3; i++) {
		int64_t v[4];
		uint64_t k;

		/* fx_sync read the side row as the join's layout: not ours */
		assert_int_equal(f->out[i].kind == SL_JOIN_OUT_PAIR,
				 want[i][0] == SL_JOIN_OUT_PAIR);
		memcpy(&k, f->raw[i], 8);
		memcpy(v, f->raw[i] + 8, 24);
		assert_int_equal(k, want[i][1]);
		assert_int_equal(v[0], want[i][2]);
		assert_int_equal(v[1], want[i][3]);
		assert_int_equal(v[2], want[i][4]);
	}
	assert_int_equal(f->j.side_tag, 0);
	fx_close(f);
	free(f);
}

/* The processing-time clock (state TTL, processing-time timers) is now. */
static void
pt(struct fx *f, int64_t now)
{
	assert_int_equal(sl_join_advance_processing_time(&f->j, now, t_out1, f), 0);
	fx_sync(f);
}

/*
 * orderpay with time: processing: the timeout on the operator's clock
 * (sl_join_advance_processing_time), the function's processing-time
 * timers shared by both inputs per key. As in a process pipeline, the
 * function's now() at clock C is C - 1, the bound of what is due (R4.2:
 * a timer for T fires once the clock is past T), so a row at clock C
 * waits until C - 1 + timeout and its timer fires at clock C + timeout.
 * A match deletes the partner's timer; a second order of a key moves the
 * deadline, and the first timer then finds the later deadline and leaves
 * the row waiting. The watermark plays no part.
 */
static void
test_W7_3_co_process_processing_time(void **state)
{
	static const struct orow want[] = {
		{ P, 5000, 1, 1 },			/* payment#1 at clock 500 */
		{ SL_JOIN_OUT_LEFT_ONLY, 1599, 2, 0 },	/* order#2 at 600 */
		{ SL_JOIN_OUT_LEFT_ONLY, 3699, 4, 0 },	/* order#4 replaced #3 */
	};
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	g_ptime = true;
	fx_open(f, SL_JOIN_PROCESS, 1000, 0);
	g_ptime = false;
	pt(f, 0);
	row(f, 0, 1, 1, 1000);		/* deadline 999 */
	pt(f, 500);
	row(f, 1, 1, 1, 5000);		/* PAID; the timer at 999 goes */
	pt(f, 600);
	row(f, 0, 2, 2, 2000);		/* deadline 1599 */
	assert_int_equal(sl_process_timers(f->j.proc, SLUICE_PROCESSING_TIME), 1);
	assert_int_equal(wm(f, INT64_MAX - 1), 0);	/* event time: nothing */
	pt(f, 1599);
	assert_int_equal(f->n_out, 1);
	pt(f, 1600);			/* UNPAID(#2) at 1599 */
	assert_int_equal(f->n_out, 2);
	pt(f, 2000);
	row(f, 0, 3, 3, 100);		/* deadline 2999 */
	pt(f, 2700);
	row(f, 0, 3, 4, 200);		/* replaces #3: deadline 3699 */
	pt(f, 3000);			/* 2999's timer: not its deadline */
	assert_int_equal(f->n_out, 2);
	pt(f, 3700);
	expect(f, 0, want, 3);
	assert_int_equal(sl_process_timers(f->j.proc, SLUICE_PROCESSING_TIME), 0);
	fx_close(f);
	free(f);
}

/* W7.3's order sensitivity: WM(906000) before step 6. */
static void
w73_order(enum sl_join_kind kind)
{
	static const struct orow want[] = {
		{ P, 5000, 1, 1 },
		{ SL_JOIN_OUT_LEFT_ONLY, 902000, 2, 0 },
		{ SL_JOIN_OUT_RIGHT_ONLY, 906000, 0, 3 },
		{ SL_JOIN_OUT_LEFT_ONLY, 907000, 3, 0 },
	};
	struct fx *f = calloc(1, sizeof(*f));

	fx_open(f, kind, 900000, 0);
	row(f, 0, 1, 1, 1000);
	row(f, 0, 2, 2, 2000);
	row(f, 1, 1, 1, 5000);
	row(f, 1, 3, 3, 6000);
	assert_int_equal(wm(f, 902000), 1);
	assert_int_equal(wm(f, 906000), 1);	/* ORPHAN(#3) */
	row(f, 0, 3, 3, 7000);			/* no payment now: waits */
	assert_int_equal(wm(f, 906999), 0);
	assert_int_equal(wm(f, 907000), 1);	/* UNPAID(#3) */
	expect(f, 0, want, 4);
	fx_close(f);
	free(f);
}

static void
test_W7_3_order_sensitivity(void **state)
{
	(void)state;
	w73_order(SL_JOIN_MATCH);
}

static void
test_W7_3_co_process_order_sensitivity(void **state)
{
	(void)state;
	w73_order(SL_JOIN_PROCESS);
}

/* R7.5: no lateness check: a row behind the watermark still matches. */
static void
test_R7_5_no_lateness(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, SL_JOIN_MATCH, 1000, 0);
	assert_int_equal(wm(f, 50000), 0);
	row(f, 1, 4, 4, 10);		/* timer 1010 <= WM: waits for the next advance (R4.4) */
	row(f, 0, 4, 4, 20);
	assert_int_equal(f->n_out, 1);
	assert_int_equal(f->out[0].kind, P);
	assert_int_equal(f->out[0].ts, 20);
	assert_int_equal(wm(f, 50001), 0);
	fx_close(f);
	free(f);
}

/* Enrichment: latest changelog row per key, arrival order. */
static void
test_enrich_latest_row(void **state)
{
	static const struct orow want[] = {
		{ P, 150, 2, 10 }, { P, 250, 3, 11 }, { P, 260, 4, 11 }, { P, 10, 5, 11 },
	};

	(void)state;
	for (int outer = 0; outer < 2; outer++) {
		struct fx *f = calloc(1, sizeof(*f));
		struct sl_join_conf c;

		memset(&c, 0, sizeof(c));
		c.kind = SL_JOIN_ENRICH;
		c.outer = outer;
		fx_open_conf(f, 0, 0, MAXP - 1, &c);
		row(f, 0, 1, 1, 50);		/* before any profile of key 1 */
		row(f, 1, 1, 10, 100);
		row(f, 0, 1, 2, 150);
		row(f, 1, 1, 11, 200);
		row(f, 1, 1, 12, 150);		/* older version: ignored */
		row(f, 0, 1, 3, 250);
		row(f, 0, 1, 4, 260);
		row(f, 0, 1, 5, 10);		/* never late: latest row */
		if (outer) {
			assert_int_equal(f->out[0].kind, SL_JOIN_OUT_LEFT_ONLY);
			assert_int_equal(f->out[0].lid, 1);
			assert_int_equal(f->out[0].rid, 0);
			expect(f, 1, want, 4);
		} else {
			expect(f, 0, want, 4);
		}
		assert_int_equal(f->j.stats.unmatched, 1);
		assert_int_equal(sl_join_advance(&f->j, 1000, t_out1, f), 0);
		fx_close(f);
		free(f);
	}
}

/*
 * W5.1 / R5.5 on enrich's state (ttl 10000 ms, Flink's
 * table.exec.state.ttl: processing time, OnCreateAndWrite,
 * NeverReturnExpired): a profile written at now = 0 joins at 9999 and is
 * gone at 10000 exactly (0 + 10000 <= 10000); an expired profile reads
 * as absent, so even an older change is stored again; a newer change
 * refreshes the expiry, an older one (ignored) does not; the TTL path
 * keeps a vector's newest change of a key. Outer, so the unmatched rows
 * are seen.
 */
static void
test_W5_1_enrich_ttl(void **state)
{
	static const struct orow want[] = {
		{ P, 200, 1, 1 },
		{ SL_JOIN_OUT_LEFT_ONLY, 300, 2, 0 },
		{ P, 310, 3, 2 },
		{ P, 400, 4, 3 },
		{ SL_JOIN_OUT_LEFT_ONLY, 500, 5, 0 },
		{ P, 600, 6, 5 },
		{ P, 700, 7, 7 },
	};
	struct fx *f = calloc(1, sizeof(*f));
	struct sl_join_conf c;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.kind = SL_JOIN_ENRICH;
	c.outer = true;
	c.ttl = 10000;
	fx_open_conf(f, 0, 0, MAXP - 1, &c);
	pt(f, 0);
	row(f, 1, 1, 1, 100);		/* stored at 0: expires at 10000 */
	pt(f, 9999);
	row(f, 0, 1, 1, 200);		/* 0 + 10000 <= 9999 false: joins */
	pt(f, 10000);
	row(f, 0, 1, 2, 300);		/* expired exactly now: unmatched */
	row(f, 1, 1, 2, 50);		/* older ts, but nothing is stored */
	row(f, 0, 1, 3, 310);
	pt(f, 15000);
	row(f, 1, 1, 3, 60);		/* newer: written at 15000, expires 25000 */
	pt(f, 20000);
	row(f, 1, 1, 4, 55);		/* older than 60: ignored, no refresh */
	pt(f, 24999);
	row(f, 0, 1, 4, 400);
	pt(f, 25000);
	row(f, 0, 1, 5, 500);		/* expired at 25000 */
	queue(f, 1, 1, 5, 70);		/* one vector: the newest (70) stays */
	queue(f, 1, 1, 6, 65);
	flush(f, 1);
	row(f, 0, 1, 6, 600);
	/* Other keys expire on their own clock. */
	pt(f, 30000);
	row(f, 1, 2, 7, 10);
	pt(f, 39999);
	row(f, 0, 2, 7, 700);
	expect(f, 0, want, 7);
	assert_int_equal(f->j.stats.unmatched, 2);
	assert_int_equal(f->j.stats.state_errors + f->j.stats.state_full_dropped, 0);
	fx_close(f);
	free(f);
}

/* Enrichment a vector at a time: a key's rows in one changelog vector
 * (the newest wins, whatever the order), events of several keys in one. */
static void
test_enrich_vectors(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, SL_JOIN_ENRICH, 0, 0);
	queue(f, 1, 1, 10, 100);
	queue(f, 1, 2, 20, 100);
	queue(f, 1, 1, 12, 300);
	queue(f, 1, 1, 11, 200);	/* older than 12 in the same vector */
	queue(f, 1, 2, 21, 100);	/* equal ts: later arrival wins */
	flush(f, 1);
	queue(f, 0, 2, 1, 500);
	queue(f, 0, 3, 2, 500);		/* no profile: dropped */
	queue(f, 0, 1, 3, 500);
	flush(f, 0);
	assert_int_equal(f->n_out, 2);
	assert_int_equal(f->out[0].lid, 1);
	assert_int_equal(f->out[0].rid, 21);
	assert_int_equal(f->out[1].lid, 3);
	assert_int_equal(f->out[1].rid, 12);
	assert_int_equal(f->j.stats.unmatched, 1);
	fx_close(f);
	free(f);
}

/* A watermark on input c (0 left, 1 right) through the two-input valve;
 * the join advances when the valve's output does. */
static void
vwm(struct fx *f, struct sl_wm_valve *v, uint16_t c, int64_t w)
{
	struct sl_wm_out o;

	sl_wm_valve_watermark(v, c, w, &o);
	if (o.wm)
		assert_true(wm(f, o.ts) >= 0);
}

static void
vstatus(struct fx *f, struct sl_wm_valve *v, uint16_t c, bool idle)
{
	struct sl_wm_out o;

	sl_wm_valve_status(v, c, idle, &o);
	if (o.wm)
		assert_true(wm(f, o.ts) >= 0);
}

/*
 * R1.7: the join's watermark is the minimum of its two inputs' (the
 * dataplane's valve over its RX inputs, one per source), and an idle
 * input stops holding it back. W7.1's rows: a1@10000 (purged at 11000),
 * b2@8000 (purged at 10000).
 */
static void
test_R1_7_two_input_watermark(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sl_wm_valve v;

	(void)state;
	fx_open(f, SL_JOIN_INTERVAL, -2000, 1000);
	sl_wm_valve_init(&v, 2);
	row(f, 0, 7, 1, 10000);
	row(f, 1, 7, 2, 8000);
	vwm(f, &v, 0, 12000);			/* right has none yet: MIN */
	assert_int_equal(sl_join_watermark(&f->j), INT64_MIN);
	assert_int_equal(f->j.stats.purged, 0);
	vwm(f, &v, 1, 9000);
	assert_int_equal(sl_join_watermark(&f->j), 9000);
	assert_int_equal(f->j.stats.purged, 0);
	vwm(f, &v, 1, 10500);			/* b2 goes, a1 stays */
	assert_int_equal(sl_join_watermark(&f->j), 10500);
	assert_int_equal(f->j.stats.purged, 1);
	/* Right goes idle: the left's 12000 is the watermark, a1 goes. */
	vstatus(f, &v, 1, true);
	assert_int_equal(sl_join_watermark(&f->j), 12000);
	assert_int_equal(f->j.stats.purged, 2);
	/* A right row now is judged against it: late (R7.3). */
	row(f, 1, 7, 3, 11500);
	assert_int_equal(f->n_out, 2);		/* (a1,b2) and the late row */
	assert_int_equal(f->out[1].kind, SL_JOIN_OUT_LATE_RIGHT);
	/* Back, behind: it does not pull the watermark back (R1.7 step 3)
	 * and rejoins the minimum once it catches up. */
	vstatus(f, &v, 1, false);
	vwm(f, &v, 1, 11000);
	assert_int_equal(sl_join_watermark(&f->j), 12000);
	vwm(f, &v, 0, 14000);
	assert_int_equal(sl_join_watermark(&f->j), 14000);
	vwm(f, &v, 1, 13000);			/* 13000 < 14000: still unaligned */
	vwm(f, &v, 1, 15000);			/* aligned: min(14000, 15000) */
	vwm(f, &v, 0, 16000);
	assert_int_equal(sl_join_watermark(&f->j), 15000);
	fx_close(f);
	free(f);
}

/* ---- random interval joins against brute force ----------------------- */

struct ev {
	int side;
	uint64_t k, id;
	int64_t ts;
};

#define N_EV 6000

/* Rows of both sides, time advancing with disorder <= D, 10 keys. */
static void
gen_events(struct ev *e, int n, uint64_t seed, int64_t D)
{
	for (int i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		e[i].side = (int)((seed >> 40) & 1);
		e[i].k = (seed >> 20) % 10;
		e[i].id = (uint64_t)i + 1;
		e[i].ts = 100000 + (int64_t)i * 3 - (int64_t)((seed >> 45) % (uint64_t)(D + 1));
	}
}

static int
cmp_orow(const void *a, const void *b)
{
	const struct orow *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind - y->kind;
	if (x->ts != y->ts)
		return (x->ts > y->ts) - (x->ts < y->ts);
	if (x->lid != y->lid)
		return (x->lid > y->lid) - (x->lid < y->lid);
	return (x->rid > y->rid) - (x->rid < y->rid);
}

/* The watermark after row i: a function of i alone, so a restored run
 * that replays from a row sees the same ones. Disorder <= D, so with
 * B = D nothing is late. */
static int64_t
wm_at(int i, int64_t D)
{
	return 100000 + (int64_t)i * 3 - D - 1;
}

static void
feed_events(struct fx *f, const struct ev *e, int from, int to, int64_t D,
	    int64_t lo, int64_t hi)
{
	for (int i = from; i < to; i++) {
		uint32_t g = kg_of(e[i].k);

		if (g >= lo && g <= hi)
			row(f, e[i].side, e[i].k, e[i].id, e[i].ts);
		if (i % 50 == 49)
			assert_true(wm(f, wm_at(i, D)) >= 0);
	}
}

static void
test_R7_1_random_vs_brute_force(void **state)
{
	static struct ev e[N_EV];
	static struct orow want[MAX_OUT];
	const int64_t D = 40;
	unsigned int n_want = 0;

	(void)state;
	gen_events(e, N_EV, 99, D);
	for (int a = 0; a < N_EV; a++) {
		if (e[a].side != 0)
			continue;
		for (int b = 0; b < N_EV; b++)
			if (e[b].side == 1 && e[b].k == e[a].k &&
			    e[a].ts - 30 <= e[b].ts && e[b].ts <= e[a].ts + 20) {
				assert_true(n_want < MAX_OUT);
				want[n_want++] = (struct orow){ P,
					e[a].ts > e[b].ts ? e[a].ts : e[b].ts, e[a].id, (uint32_t)e[b].id };
			}
	}
	qsort(want, n_want, sizeof(want[0]), cmp_orow);
	{
		struct fx *f = calloc(1, sizeof(*f));

		fx_open(f, SL_JOIN_INTERVAL, -30, 20);
		feed_events(f, e, 0, N_EV, D, 0, MAXP - 1);
		assert_true(wm(f, INT64_MAX) >= 0);
		assert_int_equal(f->j.stats.late[0] + f->j.stats.late[1], 0);
		assert_int_equal(sl_join_timers(&f->j), 0);
		assert_true(n_want > 1000);	/* the data exercises it */
		qsort(f->out, f->n_out, sizeof(f->out[0]), cmp_orow);
		assert_int_equal(f->n_out, n_want);
		for (unsigned int i = 0; i < n_want; i++)
			assert_int_equal(cmp_orow(&f->out[i], &want[i]), 0);
		fx_close(f);
		free(f);
	}
}

/*
 * R7.4 with sessions on a random stream (10 keys, both sides, disorder
 * <= D) against a brute force: per key, all rows of both sides sorted by
 * ts, a new session where a row is more than gap after the previous
 * (Flink merges touching windows), every left with every right row of a
 * session at its last ts + gap - 1. The watermark lags by D + gap, so no
 * session fires before a row that would merge with it arrives (the
 * brute force knows no time).
 */
static int
cmp_ev_ts(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	return (x->ts > y->ts) - (x->ts < y->ts);
}

static void
test_R7_4_session_random_vs_brute_force(void **state)
{
	static struct ev e[N_EV], byk[N_EV];
	static struct orow want[MAX_OUT];
	const int64_t D = 40, G = 25;
	unsigned int n_want = 0;
	struct fx *f = calloc(1, sizeof(*f));
	struct sl_join_conf c;

	(void)state;
	gen_events(e, N_EV, 31, D);
	for (uint64_t k = 0; k < 10; k++) {
		int n = 0;

		for (int i = 0; i < N_EV; i++)
			if (e[i].k == k)
				byk[n++] = e[i];
		qsort(byk, (size_t)n, sizeof(byk[0]), cmp_ev_ts);
		for (int a = 0; a < n;) {
			int b = a + 1;

			while (b < n && byk[b].ts <= byk[b - 1].ts + G)
				b++;
			for (int x = a; x < b; x++)
				for (int y = a; y < b; y++)
					if (byk[x].side == 0 && byk[y].side == 1) {
						assert_true(n_want < MAX_OUT);
						want[n_want++] = (struct orow){ P,
							byk[b - 1].ts + G - 1, byk[x].id, (uint32_t)byk[y].id };
					}
			a = b;
		}
	}
	qsort(want, n_want, sizeof(want[0]), cmp_orow);
	assert_true(n_want > 1000);
	memset(&c, 0, sizeof(c));
	c.kind = SL_JOIN_SESSION;
	c.gap = G;
	fx_open_conf(f, 0, 0, MAXP - 1, &c);
	for (int i = 0; i < N_EV; i++) {
		row(f, e[i].side, e[i].k, e[i].id, e[i].ts);
		if (i % 50 == 49)
			assert_true(wm(f, wm_at(i, D) - G) >= 0);
	}
	assert_true(wm(f, INT64_MAX) >= 0);
	assert_int_equal(f->j.stats.late[0] + f->j.stats.late[1], 0);
	assert_int_equal(f->j.stats.state_errors + f->j.stats.state_full_dropped, 0);
	assert_int_equal(sl_join_timers(&f->j), 0);
	qsort(f->out, f->n_out, sizeof(f->out[0]), cmp_orow);
	assert_int_equal(f->n_out, n_want);
	for (unsigned int i = 0; i < n_want; i++)
		assert_int_equal(cmp_orow(&f->out[i], &want[i]), 0);
	fx_close(f);
	free(f);
}

/* ---- snapshot and N->M restore ----------------------------------------- */

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

static void
conf_for(struct sl_join_conf *c, enum sl_join_kind kind)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->lower = -30;
	c->upper = 20;
	c->size = 60;
	c->timeout = 25;
	c->gap = 25;
}

/*
 * A checkpoint at row 3000 of 6000 (the instance goes on with 300 rows
 * while the snapshot is drained), restored onto 1 and onto 2 instances
 * that replay from row 3000: their output after the checkpoint is the
 * uninterrupted run's, for every kind.
 */
static void
snapshot_restore(enum sl_join_kind kind)
{
	static struct ev e[N_EV];
	static struct orow want[MAX_OUT], got[MAX_OUT];
	struct fx *a = calloc(1, sizeof(*a));
	struct snap_out *o = calloc(1, sizeof(*o));
	struct sl_join_conf c;
	const int64_t D = 40;
	unsigned int n_before, n_want, n_got = 0;

	gen_events(e, N_EV, 7, D);
	conf_for(&c, kind);
	fx_open_conf(a, 0, 0, MAXP - 1, &c);
	feed_events(a, e, 0, 3000, D, 0, MAXP - 1);
	n_before = a->n_out;
	assert_int_equal(sl_join_snapshot_begin(&a->j), 0);
	assert_int_equal(sl_join_snapshot_begin(&a->j), -EBUSY);
	feed_events(a, e, 3000, 3300, D, 0, MAXP - 1);	/* not in the snapshot */
	o->meta_len = sl_state_snapshot_meta(a->j.snap, NULL, 0);
	o->meta = malloc(o->meta_len);
	assert_int_equal(sl_state_snapshot_meta(a->j.snap, o->meta, o->meta_len), o->meta_len);
	while (sl_state_snapshot_write(a->j.snap, 1024, 4096, keep_chunk, o) == 1)
		;
	sl_join_snapshot_end(&a->j);
	feed_events(a, e, 3300, N_EV, D, 0, MAXP - 1);
	assert_true(wm(a, INT64_MAX) >= 0);
	n_want = a->n_out - n_before;
	assert_true(n_want > 100);
	memcpy(want, a->out + n_before, n_want * sizeof(want[0]));
	qsort(want, n_want, sizeof(want[0]), cmp_orow);

	for (int parts = 1; parts <= 2; parts++) {
		n_got = 0;
		for (int p = 0; p < parts; p++) {
			uint32_t lo = parts == 1 ? 0 : (uint32_t)p * 64, hi = parts == 1 ? MAXP - 1 : lo + 63;
			struct fx *b = calloc(1, sizeof(*b));

			conf_for(&c, kind);
			fx_open_conf(b, 1 + p, lo, hi, &c);
			for (unsigned int i = 0; i < o->n; i++)
				if (o->kg[i] >= lo && o->kg[i] <= hi)
					assert_true(sl_state_restore(b->st, o->meta, o->meta_len,
								     o->chunk[i], o->len[i]) >= 0);
			assert_int_equal(sl_join_restore_done(&b->j), 0);
			/* R1.11: the watermark starts again; the first one
			 * after the checkpoint fires what was due. */
			feed_events(b, e, 3000, N_EV, D, lo, hi);
			assert_true(wm(b, INT64_MAX) >= 0);
			assert_int_equal(sl_join_timers(&b->j), 0);
			memcpy(got + n_got, b->out, b->n_out * sizeof(got[0]));
			n_got += b->n_out;
			fx_close(b);
			free(b);
		}
		qsort(got, n_got, sizeof(got[0]), cmp_orow);
		assert_int_equal(n_got, n_want);
		for (unsigned int i = 0; i < n_want; i++)
			assert_int_equal(cmp_orow(&got[i], &want[i]), 0);
	}
	for (unsigned int i = 0; i < o->n; i++)
		free(o->chunk[i]);
	free(o->meta);
	free(o);
	fx_close(a);
	free(a);
}

static void
test_snapshot_restore_interval(void **state)
{
	(void)state;
	snapshot_restore(SL_JOIN_INTERVAL);
}

static void
test_snapshot_restore_window(void **state)
{
	(void)state;
	snapshot_restore(SL_JOIN_WINDOW);
}

static void
test_snapshot_restore_match(void **state)
{
	(void)state;
	snapshot_restore(SL_JOIN_MATCH);
}

static void
test_snapshot_restore_enrich(void **state)
{
	(void)state;
	snapshot_restore(SL_JOIN_ENRICH);
}

/*
 * R7.5 at length: a random stream of orders and payments over 10 keys
 * (with repeats, so a second row of a side replaces the first and its
 * timer stays) through the built-in match and through orderpay: the same
 * rows in the same order, byte for byte.
 */
static void
test_W7_3_co_process_equals_match(void **state)
{
	static struct ev e[N_EV];
	struct fx *m = calloc(1, sizeof(*m)), *q = calloc(1, sizeof(*q));
	const int64_t D = 40;
	struct sl_join_conf c;

	(void)state;
	gen_events(e, N_EV, 5, D);
	fx_open(m, SL_JOIN_MATCH, 25, 0);
	conf_for(&c, SL_JOIN_PROCESS);		/* timeout 25 */
	fx_open_conf(q, 1, 0, MAXP - 1, &c);	/* a heap region of its own */
	feed_events(m, e, 0, N_EV, D, 0, MAXP - 1);
	feed_events(q, e, 0, N_EV, D, 0, MAXP - 1);
	assert_true(wm(m, INT64_MAX) >= 0);
	assert_true(wm(q, INT64_MAX) >= 0);
	assert_true(m->n_out > 1000);
	assert_true(m->j.stats.unmatched > 100);	/* both kinds of rows */
	assert_int_equal(q->n_out, m->n_out);
	assert_int_equal(sl_join_out_size(&q->j), sl_join_out_size(&m->j));
	for (unsigned int i = 0; i < m->n_out; i++) {
		assert_int_equal(cmp_orow(&q->out[i], &m->out[i]), 0);
		assert_memory_equal(q->raw[i], m->raw[i], sl_join_out_size(&m->j));
	}
	assert_int_equal(sl_join_timers(&q->j), 0);
	assert_int_equal(q->j.stats.fn_errors + q->j.stats.state_errors, 0);
	fx_close(m);
	fx_close(q);
	free(m);
	free(q);
}

static void
test_snapshot_restore_session(void **state)
{
	(void)state;
	snapshot_restore(SL_JOIN_SESSION);
}

static void
test_snapshot_restore_process(void **state)
{
	(void)state;
	snapshot_restore(SL_JOIN_PROCESS);
}

/* ---- broadcast state join (R5.3 broadcast state) ------------------------ */

#define L1 SL_JOIN_OUT_LEFT_ONLY

/*
 * Rules (right, key 1): rid 10 @100, rid 11 @200, rid 12 @200 (equal ts:
 * the later arrival wins). Events (left, key 1) @50 (no rule yet), @150,
 * @200, @250, then one behind the watermark. Rules first or events
 * first: the same output, at the watermark, by event time.
 */
static void
versioned_event_time(enum sl_join_kind kind)
{
	static const struct orow want[] = {
		{ L1, 50, 1, 0 }, { P, 150, 2, 10 }, { P, 200, 3, 12 }, { P, 250, 4, 12 },
	};

	for (int order = 0; order < 2; order++) {
		struct fx *f = calloc(1, sizeof(*f));
		struct sl_join_conf c;

		memset(&c, 0, sizeof(c));
		c.kind = kind;
		c.outer = true;
		fx_open_conf(f, 0, 0, MAXP - 1, &c);
		for (int pass = 0; pass < 2; pass++) {
			if (pass == order) {
				row(f, 1, 1, 10, 100);
				row(f, 1, 1, 11, 200);
				row(f, 1, 1, 12, 200);
			} else {
				row(f, 0, 1, 1, 50);
				row(f, 0, 1, 2, 150);
				row(f, 0, 1, 3, 200);
				row(f, 0, 1, 4, 250);
			}
		}
		assert_int_equal(f->n_out, 0);		/* all wait for the watermark */
		assert_int_equal(wm(f, 199), 2);
		assert_int_equal(wm(f, 300), 2);
		expect(f, 0, want, 4);
		assert_int_equal(f->j.stats.unmatched, 1);
		row(f, 0, 1, 5, 299);			/* behind WM 300: late */
		assert_int_equal(f->out[4].kind, SL_JOIN_OUT_LATE_LEFT);
		assert_int_equal(f->j.stats.late[0], 1);
		/* Pruned at the watermark: only the version in force at 300. */
		if (kind == SL_JOIN_BROADCAST) {
			uint32_t vlen = 0;
			uint64_t k = 1;

			assert_int_equal(sl_join_snapshot_begin(&f->j), 0);
			assert_non_null(sl_opstate_map_get(f->j.os, f->j.os_id, &k, 8, &vlen));
			assert_int_equal(vlen, f->in[1].row_size);
			sl_join_snapshot_end(&f->j);
		}
		fx_close(f);
		free(f);
	}
}

static void
test_R5_3_broadcast_join_event_time(void **state)
{
	(void)state;
	versioned_event_time(SL_JOIN_BROADCAST);
}

/*
 * The event-time temporal join: the same rows as the broadcast join's,
 * the versions keyed (one instance here holds every key group).
 */
static void
test_temporal_join_event_time(void **state)
{
	(void)state;
	versioned_event_time(SL_JOIN_TEMPORAL);
}

/* Events to the instance owning their key group; rules to every instance
 * (broadcast) or, like events, to their key's (temporal). */
static void
feed_bcast(struct fx *f, const struct ev *e, int from, int to, int64_t D,
	   int64_t lo, int64_t hi, bool every)
{
	for (int i = from; i < to; i++) {
		uint32_t g = kg_of(e[i].k);

		if ((every && e[i].side == 1) || (g >= lo && g <= hi))
			row(f, e[i].side, e[i].k, e[i].id, e[i].ts);
		if (i % 50 == 49)
			assert_true(wm(f, wm_at(i, D)) >= 0);
	}
}

/* Each event with its key's rule of the largest ts <= its own (the later
 * arrival on a tie), or none. */
static unsigned int
bcast_brute(const struct ev *e, int n, struct orow *want)
{
	unsigned int n_want = 0;

	for (int a = 0; a < n; a++) {
		int best = -1;

		if (e[a].side != 0)
			continue;
		for (int b = 0; b < n; b++)
			if (e[b].side == 1 && e[b].k == e[a].k && e[b].ts <= e[a].ts &&
			    (best < 0 || e[b].ts >= e[best].ts))
				best = b;
		want[n_want++] = best < 0 ? (struct orow){ L1, e[a].ts, e[a].id, 0 } :
			(struct orow){ P, e[a].ts, e[a].id, (uint32_t)e[best].id };
	}
	qsort(want, n_want, sizeof(want[0]), cmp_orow);
	return n_want;
}

static void
expect_sorted(struct orow *got, unsigned int n_got, const struct orow *want, unsigned int n)
{
	qsort(got, n_got, sizeof(got[0]), cmp_orow);
	assert_int_equal(n_got, n);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(cmp_orow(&got[i], &want[i]), 0);
}

static void
versioned_random_vs_brute_force(enum sl_join_kind kind)
{
	static struct ev e[N_EV];
	static struct orow want[MAX_OUT];
	const int64_t D = 40;
	struct fx *f = calloc(1, sizeof(*f));
	struct sl_join_conf c;
	unsigned int n_want;

	gen_events(e, N_EV, 5, D);
	n_want = bcast_brute(e, N_EV, want);
	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.outer = true;
	fx_open_conf(f, 0, 0, MAXP - 1, &c);
	feed_bcast(f, e, 0, N_EV, D, 0, MAXP - 1, true);
	assert_true(wm(f, INT64_MAX) >= 0);
	assert_int_equal(f->j.stats.late[0] + f->j.stats.late_rules, 0);
	assert_int_equal(sl_join_timers(&f->j), 0);
	expect_sorted(f->out, f->n_out, want, n_want);
	fx_close(f);
	free(f);
}

static void
test_R5_3_broadcast_join_random_vs_brute_force(void **state)
{
	(void)state;
	versioned_random_vs_brute_force(SL_JOIN_BROADCAST);
}

static void
test_temporal_join_random_vs_brute_force(void **state)
{
	(void)state;
	versioned_random_vs_brute_force(SL_JOIN_TEMPORAL);
}

/*
 * Two instances (key groups 0-63, 64-127), every rule on both, checkpointed
 * at row 3000 (their rule maps: the same bytes), restored onto 3
 * instances (the keyed buffers by key group, the map on each from the two
 * snapshots) that replay from row 3000: with the rows out before the
 * checkpoint, every event once, as brute force says.
 */
static void
versioned_snapshot_2_onto_3(enum sl_join_kind kind)
{
	static struct ev e[N_EV];
	static struct orow want[MAX_OUT], got[MAX_OUT];
	static const uint32_t lo3[3] = { 0, 43, 86 }, hi3[3] = { 42, 85, MAXP - 1 };
	const int64_t D = 40;
	struct snap_out *o = calloc(1, sizeof(*o));
	struct fx *a[2];
	const void *os[2];
	void *copy;
	size_t os_len[2];
	struct sl_join_conf c;
	unsigned int n_want, n_got = 0;

	gen_events(e, N_EV, 11, D);
	n_want = bcast_brute(e, N_EV, want);
	for (int t = 0; t < 2; t++) {
		a[t] = calloc(1, sizeof(*a[t]));
		memset(&c, 0, sizeof(c));
		c.kind = kind;
		c.outer = true;
		c.task = (uint16_t)t;
		c.n_tasks = 2;
		fx_open_conf(a[t], t, (uint32_t)t * 64, (uint32_t)t * 64 + 63, &c);
		feed_bcast(a[t], e, 0, 3000, D, t * 64, t * 64 + 63, kind == SL_JOIN_BROADCAST);
		memcpy(got + n_got, a[t]->out, a[t]->n_out * sizeof(got[0]));
		n_got += a[t]->n_out;
		assert_int_equal(sl_join_snapshot_begin(&a[t]->j), 0);
		os[t] = NULL;
		os_len[t] = 0;
		if (kind == SL_JOIN_BROADCAST) {
			const void *p = sl_join_opstate_snapshot(&a[t]->j, &os_len[t]);

			assert_non_null(p);
			os[t] = copy = malloc(os_len[t]);
			memcpy(copy, p, os_len[t]);
		}
		o->meta_len = sl_state_snapshot_meta(a[t]->j.snap, NULL, 0);
		free(o->meta);
		o->meta = malloc(o->meta_len);
		assert_int_equal(sl_state_snapshot_meta(a[t]->j.snap, o->meta, o->meta_len),
				 o->meta_len);
		while (sl_state_snapshot_write(a[t]->j.snap, 1024, 4096, keep_chunk, o) == 1)
			;
	}
	/* Both copies of the broadcast state: equal bytes. */
	assert_int_equal(os_len[0], os_len[1]);
	if (kind == SL_JOIN_BROADCAST) {
		assert_true(os_len[0] > 12);
		assert_memory_equal((const uint8_t *)os[0] + 12, (const uint8_t *)os[1] + 12,
				    os_len[0] - 12);	/* after the header, which names the task */
	}
	for (int t = 0; t < 3; t++) {
		struct fx *b = calloc(1, sizeof(*b));
		unsigned int div = 9;
		char msg[200];

		memset(&c, 0, sizeof(c));
		c.kind = kind;
		c.outer = true;
		c.task = (uint16_t)t;
		c.n_tasks = 3;
		/* Regions 0 and 1 are the old instances' until t = 0 is done. */
		fx_open_conf(b, t == 2 ? 0 : 2, lo3[t], hi3[t], &c);
		for (unsigned int i = 0; i < o->n; i++)
			if (o->kg[i] >= lo3[t] && o->kg[i] <= hi3[t])
				assert_true(sl_state_restore(b->st, o->meta, o->meta_len,
							     o->chunk[i], o->len[i]) >= 0);
		if (kind == SL_JOIN_BROADCAST) {
			assert_int_equal(sl_join_opstate_restore(&b->j, os, os_len, 2, &div,
								 msg, sizeof(msg)), 0);
			assert_int_equal(div, 0);
		}
		assert_int_equal(sl_join_restore_done(&b->j), 0);
		feed_bcast(b, e, 3000, N_EV, D, lo3[t], hi3[t], kind == SL_JOIN_BROADCAST);
		assert_true(wm(b, INT64_MAX) >= 0);
		assert_int_equal(sl_join_timers(&b->j), 0);
		memcpy(got + n_got, b->out, b->n_out * sizeof(got[0]));
		n_got += b->n_out;
		fx_close(b);
		free(b);
		if (t == 0)
			for (int k = 0; k < 2; k++) {
				sl_join_snapshot_end(&a[k]->j);
				fx_close(a[k]);
				free(a[k]);
			}
	}
	expect_sorted(got, n_got, want, n_want);
	free((void *)os[0]);
	free((void *)os[1]);
	for (unsigned int i = 0; i < o->n; i++)
		free(o->chunk[i]);
	free(o->meta);
	free(o);
}

static void
test_R5_3_broadcast_join_snapshot_2_onto_3(void **state)
{
	(void)state;
	versioned_snapshot_2_onto_3(SL_JOIN_BROADCAST);
}

/* The temporal join's versions are keyed state: restored by key group. */
static void
test_temporal_join_snapshot_2_onto_3(void **state)
{
	(void)state;
	versioned_snapshot_2_onto_3(SL_JOIN_TEMPORAL);
}

static void
test_conf_check(void **state)
{
	struct sl_schema l, r;
	struct sl_join_conf c;
	char msg[200];
	size_t at;

	(void)state;
	assert_int_equal(sl_schema_parse_spec(&l, "k:u64,f:f64,ts:timestamp_ms", &at), 0);
	assert_int_equal(sl_schema_parse_spec(&r, "k:u32,ts:timestamp_ms,k2:u64", &at), 0);
	memset(&c, 0, sizeof(c));
	c.kind = SL_JOIN_INTERVAL;
	c.in[0].schema = &l;
	c.in[0].ts_field = 2;
	c.in[1].schema = &r;
	c.in[1].ts_field = 1;
	c.in[1].key_field[0] = 2;
	c.n_keys = 1;
	c.lower = -5;
	c.upper = 5;
	c.max_parallelism = MAXP;
	c.last_kg = MAXP - 1;
	assert_int_equal(sl_join_conf_check(&c, msg, sizeof(msg)), 0);
	c.in[1].key_field[0] = 0;	/* u64 against u32 */
	assert_int_equal(sl_join_conf_check(&c, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "key types must be the same"));
	c.in[1].key_field[0] = 2;
	c.lower = 0;
	c.upper = 0;
	c.upper_exclusive = true;	/* [0, 0) is empty */
	assert_int_equal(sl_join_conf_check(&c, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "lower <= upper"));
	c.upper_exclusive = false;
	assert_int_equal(sl_join_conf_check(&c, msg, sizeof(msg)), 0);
	c.in[0].ts_field = 1;		/* f64 */
	assert_int_equal(sl_join_conf_check(&c, msg, sizeof(msg)), -EINVAL);
	c.in[0].ts_field = 2;
	c.kind = SL_JOIN_WINDOW;
	c.size = 0;
	assert_int_equal(sl_join_conf_check(&c, msg, sizeof(msg)), -EINVAL);
	c.size = 10;
	c.offset = 10;
	assert_int_equal(sl_join_conf_check(&c, msg, sizeof(msg)), -EINVAL);
	c.offset = 0;
	assert_int_equal(sl_join_conf_check(&c, msg, sizeof(msg)), 0);
	c.kind = SL_JOIN_MATCH;
	c.timeout = 0;
	assert_int_equal(sl_join_conf_check(&c, msg, sizeof(msg)), -EINVAL);
	c.kind = SL_JOIN_ENRICH;
	c.last_kg = MAXP;
	assert_int_equal(sl_join_conf_check(&c, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(sl_join_kind_name(SL_JOIN_MATCH), "match");
}

static int
setup(void)
{
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
		cmocka_unit_test(test_W7_1_interval_join),
		cmocka_unit_test(test_W7_1_lower_exclusive),
		cmocka_unit_test(test_W7_1_upper_exclusive),
		cmocka_unit_test(test_W7_1_cleanup),
		cmocka_unit_test(test_W7_1_late),
		cmocka_unit_test(test_W7_1_trap),
		cmocka_unit_test(test_R7_1_negative_bounds),
		cmocka_unit_test(test_R7_1_random_vs_brute_force),
		cmocka_unit_test(test_R7_2_emission),
		cmocka_unit_test(test_R7_3_late_left_and_C4),
		cmocka_unit_test(test_W7_2_window_join),
		cmocka_unit_test(test_R7_4_window_late_and_order),
		cmocka_unit_test(test_R7_4_sliding_window_join),
		cmocka_unit_test(test_R7_4_session_window_join),
		cmocka_unit_test(test_R7_4_session_split_by_watermark),
		cmocka_unit_test(test_R7_4_session_random_vs_brute_force),
		cmocka_unit_test(test_W7_3_order_payment),
		cmocka_unit_test(test_W7_3_order_sensitivity),
		cmocka_unit_test(test_W7_3_co_process_plugin),
		cmocka_unit_test(test_W7_3_co_process_own_columns),
		cmocka_unit_test(test_W7_3_co_process_processing_time),
		cmocka_unit_test(test_W7_3_co_process_order_sensitivity),
		cmocka_unit_test(test_W7_3_co_process_equals_match),
		cmocka_unit_test(test_R7_5_no_lateness),
		cmocka_unit_test(test_R1_7_two_input_watermark),
		cmocka_unit_test(test_enrich_latest_row),
		cmocka_unit_test(test_enrich_vectors),
		cmocka_unit_test(test_W5_1_enrich_ttl),
		cmocka_unit_test(test_snapshot_restore_interval),
		cmocka_unit_test(test_snapshot_restore_window),
		cmocka_unit_test(test_snapshot_restore_match),
		cmocka_unit_test(test_snapshot_restore_enrich),
		cmocka_unit_test(test_snapshot_restore_process),
		cmocka_unit_test(test_snapshot_restore_session),
		cmocka_unit_test(test_R5_3_broadcast_join_event_time),
		cmocka_unit_test(test_R5_3_broadcast_join_random_vs_brute_force),
		cmocka_unit_test(test_R5_3_broadcast_join_snapshot_2_onto_3),
		cmocka_unit_test(test_temporal_join_event_time),
		cmocka_unit_test(test_temporal_join_random_vs_brute_force),
		cmocka_unit_test(test_temporal_join_snapshot_2_onto_3),
		cmocka_unit_test(test_conf_check),
	};
	int failed;

	if (setup() < 0)
		return 1;
	{
		char msg[512];

		if (sl_udf_open(getenv("SL_PLUGINS_DIR"), "orderpay", &g_lib, msg, sizeof(msg)) < 0) {
			fprintf(stderr, "%s\n", msg);
			return 1;
		}
		g_match = sl_udf_lookup(&g_lib, "match", SLUICE_FN_CO_PROCESS, msg, sizeof(msg));
		g_wait = sl_udf_lookup(&g_lib, "wait", SLUICE_FN_CO_PROCESS, msg, sizeof(msg));
		if (g_match == NULL || g_wait == NULL) {
			fprintf(stderr, "%s\n", msg);
			return 1;
		}
	}
	g_backend = SL_STATE_BACKEND_HEAP;
	failed = cmocka_run_group_tests_name("join-heap", tests, NULL, NULL);
	g_backend = SL_STATE_BACKEND_ROCKSDB;
	failed += cmocka_run_group_tests_name("join-rocksdb", tests, NULL, NULL);
	sl_udf_close(&g_lib);
	return failed;
}
