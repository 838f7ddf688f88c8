/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: tumbling event-time windows against semantics.md section 2
 * and 3: W2.1 (assignment with offsets and negative timestamps), W2.2's
 * tumbling variant, W2.5 (firing boundary at end - 1), W3.1's zero-lateness
 * check (late elements dropped and counted), aggregates, a heap backend
 * that runs out of memory (rows refused and counted, none lost silently),
 * and copy-on-write snapshots restored onto one and two instances.
 * Sliding windows: W2.2's operator vector (with a snapshot and restore
 * mid-stream), W2.3's non-divisible and gapped assignment, W3.2's
 * partially late element. Session windows: W2.4 (with the touching
 * boundary and the pure merge vector), W3.3 with L = 10 and L = 0, and
 * snapshots mid-stream restored onto one and two instances. Processing-time
 * tumbling and sliding windows (R4.1, R4.2, R4.7) with an injected clock:
 * assignment by the clock, firing once it passes end - 1, watermarks
 * ignored, end of input, a restore firing overdue windows at once. Every
 * case runs on the heap backend and again on RocksDB.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "sl_kg.h"
#include "sl_state.h"
#include "sl_window.h"

/* Which backend the fixtures open: each group of tests runs on both. */
static enum sl_state_backend g_backend;

/*
 * Heap arenas: mimalloc never forgets a region, so the fixtures reuse a
 * small pool of them rather than mapping a new one per instance.
 */
static uint8_t *
count_out(void *ctx)
{
	static uint8_t sink[256];

	(*(unsigned int *)ctx)++;
	return sink;
}

#define POOL 6
#define REGION (64u << 20)
static struct { void *mem; bool busy; } pool[POOL];

static unsigned int
region_get(void)
{
	for (unsigned int i = 0; i < POOL; i++) {
		if (pool[i].busy)
			continue;
		if (pool[i].mem == NULL) {
			pool[i].mem = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
			assert_true(pool[i].mem != MAP_FAILED);
		}
		pool[i].busy = true;
		return i;
	}
	fail_msg("no free region");
	return 0;
}

static void
test_W2_1_assignment(void **state)
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
	struct sl_state *st;
	enum sl_state_backend be;
	unsigned int region;
	char dir[64];
	struct sl_win w;
	struct sl_vec *v;
	uint8_t out[64][128];
	unsigned int n_out;
};

static uint8_t *
t_out(void *ctx)
{
	struct fixture *f = ctx;

	assert_true(f->n_out < 64);
	return f->out[f->n_out++];
}

/* An instance owning key groups [lo, hi] of 128, its state limited to limit bytes (heap). */
static int64_t next_slide;	/* the next fx_init's slide (0: tumbling) */
static int64_t next_lateness;	/* the next fx_init's allowed lateness */
static bool next_first_last;	/* the next fx_init adds first(v), last(v) */
static bool next_count_mid;	/* the next fx_init's min(v) is a second count() */
static uint64_t next_count_trigger;	/* the next fx_init's trigger: {count: N} */
static int64_t next_continuous;	/* the next fx_init's trigger: {continuous: I} */
static int64_t next_gap;	/* the next fx_init's session gap (0: none) */
static bool next_ptime;		/* the next fx_init's window is in processing time */
static bool next_purge;		/* the next fx_init's trigger purges (R3.5) */
static bool next_restore_wm;	/* the next fx_init's restore_wm */

static void
fx_init_kg(struct fixture *f, int64_t size, int64_t offset, uint32_t capacity,
	   uint32_t lo, uint32_t hi, size_t limit)
{
	static unsigned int seq;
	struct sl_state_conf sc;
	struct sl_win_conf c;
	size_t at;

	memset(f, 0, sizeof(*f));
	assert_int_equal(sl_schema_parse_spec(&f->in, "k:str[4],v:i64,ts:timestamp_ms", &at), 0);
	memset(&sc, 0, sizeof(sc));
	sc.backend = g_backend;
	f->be = g_backend;
	sc.max_parallelism = 128;
	sc.first_kg = lo;
	sc.last_kg = hi;
	if (g_backend == SL_STATE_BACKEND_HEAP) {
		f->region = region_get();
		sc.mem = pool[f->region].mem;
		sc.mem_len = REGION;
		sc.mem_limit = limit;
	} else {
		snprintf(f->dir, sizeof(f->dir), "/tmp/sl-test-window-%d-%u",
			 (int)getpid(), seq++);
		sc.dir = f->dir;
	}
	f->st = sl_state_open(&sc);
	assert_non_null(f->st);
	memset(&c, 0, sizeof(c));
	c.in = &f->in;
	c.ts_field = 2;
	c.size = size;
	c.slide = next_slide;
	next_slide = 0;
	c.lateness = next_lateness;
	next_lateness = 0;
	c.count_trigger = next_count_trigger;
	next_count_trigger = 0;
	c.continuous = next_continuous;
	next_continuous = 0;
	c.gap = next_gap;
	next_gap = 0;
	c.processing_time = next_ptime;
	next_ptime = false;
	c.purge = next_purge;
	next_purge = false;
	c.restore_wm = next_restore_wm;
	next_restore_wm = false;
	c.offset = offset;
	c.n_keys = 1;
	c.key_field[0] = 0;
	c.n_aggs = 5;
	c.agg[0] = (struct sl_win_agg){ SL_WIN_COUNT, -1, "count" };
	c.agg[1] = (struct sl_win_agg){ SL_WIN_SUM, 1, "sum_v" };
	c.agg[2] = (struct sl_win_agg){ SL_WIN_MIN, 1, "min_v" };
	c.agg[3] = (struct sl_win_agg){ SL_WIN_MAX, 1, "max_v" };
	c.agg[4] = (struct sl_win_agg){ SL_WIN_AVG, 1, "avg_v" };
	if (next_count_mid) {
		c.agg[2] = (struct sl_win_agg){ SL_WIN_COUNT, -1, "count2" };
		next_count_mid = false;
	}
	if (next_first_last) {
		c.n_aggs = 7;
		c.agg[5] = (struct sl_win_agg){ SL_WIN_FIRST, 1, "first_v" };
		c.agg[6] = (struct sl_win_agg){ SL_WIN_LAST, 1, "last_v" };
		next_first_last = false;
	}
	c.capacity = capacity;
	c.max_parallelism = 128;
	c.first_kg = lo;
	c.last_kg = hi;
	assert_int_equal(sl_win_init(&f->w, &c, f->st), 0);
	f->v = calloc(1, sl_vec_size(f->in.row_size));
}

static void
fx_init(struct fixture *f, int64_t size, int64_t offset, uint32_t capacity)
{
	fx_init_kg(f, size, offset, capacity, 0, 127, 0);
}

static void
fx_fini(struct fixture *f)
{
	char cmd[96];

	sl_win_snapshot_end(&f->w);
	sl_win_fini(&f->w);
	sl_state_close(f->st);
	if (f->be == SL_STATE_BACKEND_HEAP) {
		pool[f->region].busy = false;
	} else {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
		assert_int_equal(system(cmd), 0);
	}
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

/* Results in the sink's order: window start, then key. */
static int
cmp_res(const void *a, const void *b)
{
	int64_t x, y;

	memcpy(&x, (const uint8_t *)a + 4, 8);
	memcpy(&y, (const uint8_t *)b + 4, 8);
	if (x != y)
		return x < y ? -1 : 1;
	return memcmp(a, b, 4);
}

static void
fx_wm(struct fixture *f, int64_t wm)
{
	f->n_out = 0;
	sl_win_advance(&f->w, wm, t_out, f);
	qsort(f->out, f->n_out, sizeof(f->out[0]), cmp_res);
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
test_W2_2_tumbling(void **state)
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

static void
fx_init_sliding(struct fixture *f, int64_t size, int64_t slide, int64_t offset)
{
	next_slide = slide;
	fx_init(f, size, offset, 64);
}

/* The windows one element k@ts lands in, as "s1 s2 ..." ascending. */
static const char *
sliding_starts(int64_t size, int64_t slide, int64_t offset, int64_t ts)
{
	static char buf[256];
	struct fixture f;
	size_t n = 0;

	fx_init_sliding(&f, size, slide, offset);
	fx_elem(&f, "k", 1, ts);
	fx_wm(&f, INT64_MAX);
	buf[0] = '\0';
	for (unsigned int i = 0; i < f.n_out; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%lld", i ? " " : "",
				      (long long)sl_row_get_int(f.out[i], &f.w.out.f[1]));
	fx_fini(&f);
	return buf;
}

/* W2.2 [T-TW]: the windows of an element, with offsets. */
static void
test_W2_2_sliding_windows_of_an_element(void **state)
{
	(void)state;
	assert_string_equal(sliding_starts(3000, 1000, 0, 0), "-2000 -1000 0");
	assert_string_equal(sliding_starts(3000, 1000, 0, 4999), "2000 3000 4000");
	assert_string_equal(sliding_starts(5000, 1000, 0, 0), "-4000 -3000 -2000 -1000 0");
	assert_string_equal(sliding_starts(5000, 1000, 0, 4999), "0 1000 2000 3000 4000");
	assert_string_equal(sliding_starts(5000, 1000, 0, 5000), "1000 2000 3000 4000 5000");
	assert_string_equal(sliding_starts(5000, 1000, 100, 100), "-3900 -2900 -1900 -900 100");
	assert_string_equal(sliding_starts(5000, 1000, -100, 0), "-4100 -3100 -2100 -1100 -100");
}

/* W2.3 [SEW]: non-divisible, gapped and negative sliding windows. */
static void
test_W2_3_sliding_non_divisible_gapped(void **state)
{
	(void)state;
	assert_string_equal(sliding_starts(10, 3, 0, 9), "0 3 6 9");
	assert_string_equal(sliding_starts(10, 3, 0, 10), "3 6 9");
	assert_string_equal(sliding_starts(10, 3, 0, 11), "3 6 9");
	assert_string_equal(sliding_starts(2, 5, 0, 3), "");	/* in no window */
	assert_string_equal(sliding_starts(2, 5, 0, 6), "5");
	assert_string_equal(sliding_starts(10, 5, 0, -1), "-10 -5");
}

/*
 * W3.2 [T-WOT testSideOutputDueToLatenessSliding], L = 0: a partially
 * late element goes to its windows that are not late; one in none of them
 * is dropped and counted (sluice has no late side output yet).
 */
static void
test_W3_2_sliding_partially_late(void **state)
{
	struct fixture f;

	(void)state;
	fx_init_sliding(&f, 3000, 1000, 0);
	fx_elem(&f, "key2", 1, 1000);
	fx_wm(&f, 1999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "key2,-1000,2000,1,1,1,1,1");
	fx_elem(&f, "key2", 1, 2000);
	fx_wm(&f, 3000);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "key2,0,3000,2,2,1,1,1");
	fx_elem(&f, "key1", 1, 3001);
	fx_elem(&f, "key2", 1, 2400);
	fx_elem(&f, "key2", 1, 2400);
	fx_elem(&f, "key1", 1, 3001);
	fx_elem(&f, "key2", 1, 3900);
	fx_wm(&f, 6000);
	assert_int_equal(f.n_out, 6);
	assert_string_equal(fx_res(&f, 0), "key1,1000,4000,2,2,1,1,1");
	assert_string_equal(fx_res(&f, 1), "key2,1000,4000,5,5,1,1,1");
	assert_string_equal(fx_res(&f, 2), "key1,2000,5000,2,2,1,1,1");
	assert_string_equal(fx_res(&f, 3), "key2,2000,5000,4,4,1,1,1");
	assert_string_equal(fx_res(&f, 4), "key1,3000,6000,2,2,1,1,1");
	assert_string_equal(fx_res(&f, 5), "key2,3000,6000,1,1,1,1,1");
	assert_int_equal(f.w.stats.late_dropped, 0);
	fx_elem(&f, "key1", 1, 3001);	/* every window of it is late */
	assert_int_equal(f.w.stats.late_dropped, 1);
	fx_wm(&f, 25000);
	assert_int_equal(f.n_out, 0);
	/* W3.2's table at WM 3000: @2400 in two windows, @1500 in one. */
	fx_fini(&f);
	fx_init_sliding(&f, 3000, 1000, 0);
	fx_wm(&f, 3000);
	fx_elem(&f, "k", 1, 2400);
	fx_elem(&f, "k", 1, 1500);
	fx_elem(&f, "k", 1, 900);
	assert_int_equal(f.w.stats.late_dropped, 1);
	fx_wm(&f, 10000);
	assert_int_equal(f.n_out, 2);
	assert_string_equal(fx_res(&f, 0), "k,1000,4000,2,2,1,1,1");
	assert_string_equal(fx_res(&f, 1), "k,2000,5000,1,1,1,1,1");
	fx_fini(&f);
}

/* W2.5: tumbling 2000, e@1999 fires at WM(1999), not WM(1998). */
static void
test_W2_5_boundary(void **state)
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

/* Rows a late firing wrote (process() output), as fx_res reads them. */
static void
fx_late(struct fixture *f)
{
	f->n_out = 0;
	sl_win_set_output(&f->w, t_out, f);
}

/* The late side output's rows, as "k:v@ts". */
static char side[8][32];
static unsigned int n_side;

static void
side_row(void *ctx, const uint8_t *row)
{
	const struct fixture *f = ctx;

	assert_true(n_side < 8);
	snprintf(side[n_side++], sizeof(side[0]), "%.4s:%lld@%lld", (const char *)row,
		 (long long)sl_row_get_int(row, &f->in.f[1]),
		 (long long)sl_row_get_int(row, &f->in.f[2]));
}

/* W3.1 zero-lateness check (size 2000, L = 0), with sums. */
static void
test_W3_1_zero_lateness(void **state)
{
	struct fixture f;

	(void)state;
	fx_init(&f, 2000, 0, 64);
	n_side = 0;
	sl_win_set_late_rows(&f.w, side_row, &f);
	fx_elem(&f, "k", 1, 1000);
	fx_wm(&f, 1985);
	assert_int_equal(f.n_out, 0);
	fx_elem(&f, "k", 1, 1980);
	fx_wm(&f, 1999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,2000,2,2,1,1,1");
	fx_elem(&f, "k", 1, 1998);		/* late: side (k,1)@1998 */
	assert_int_equal(f.w.stats.late_dropped, 1);
	assert_int_equal(n_side, 1);
	assert_string_equal(side[0], "k:1@1998");
	fx_elem(&f, "k", 1, 2001);
	fx_wm(&f, 2999);
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 3999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,2000,4000,1,1,1,1,1");
	fx_fini(&f);
}

/* first(v)/last(v): the first and last row of a key's window in arrival
 * order (not by time), in one vector and across vectors, and a late row
 * (allowed lateness) is the last one. */
static void
test_first_last(void **state)
{
	static const char *const k[] = { "a", "b", "a", "a" };
	static const int64_t v[] = { 7, -3, 9, -4 };
	static const int64_t ts[] = { 500, 100, 200, 900 };
	struct fixture f;
	int64_t x;

	(void)state;
	next_first_last = true;
	next_lateness = 1000;
	fx_init(&f, 1000, 0, 64);
	fx_late(&f);
	assert_int_equal(f.w.out.n_fields, 10);
	assert_string_equal(f.w.out.f[8].name, "first_v");
	assert_int_equal(f.w.out.f[8].type, SL_T_I64);
	fx_vec(&f, 4, k, v, ts);
	fx_elem(&f, "a", 5, 100);
	fx_wm(&f, 999);
	assert_int_equal(f.n_out, 2);
	assert_string_equal(fx_res(&f, 0), "a,0,1000,4,17,-4,9,4.25");
	x = sl_row_get_int(f.out[0], &f.w.out.f[8]);
	assert_int_equal(x, 7);
	x = sl_row_get_int(f.out[0], &f.w.out.f[9]);
	assert_int_equal(x, 5);
	x = sl_row_get_int(f.out[1], &f.w.out.f[8]);
	assert_int_equal(x, -3);
	x = sl_row_get_int(f.out[1], &f.w.out.f[9]);
	assert_int_equal(x, -3);
	f.n_out = 0;
	fx_elem(&f, "b", 11, 50);		/* late firing: last is 11 */
	assert_int_equal(f.n_out, 1);
	x = sl_row_get_int(f.out[0], &f.w.out.f[8]);
	assert_int_equal(x, -3);
	x = sl_row_get_int(f.out[0], &f.w.out.f[9]);
	assert_int_equal(x, 11);
	fx_fini(&f);
}

/*
 * trigger: {count: 3} (Flink's CountTrigger.of(3) in place of the
 * event-time trigger): a key's window fires at its 3rd and 6th element
 * with everything so far; the watermark passing its end fires nothing
 * (CONTINUE) and cleanup removes it; with L = 1000 rows still count until
 * end - 1 + L; rows late past that are dropped as with any trigger.
 */
static void
test_count_trigger(void **state)
{
	static const char *const k[] = { "a", "b", "a", "a", "a" };
	static const int64_t v[] = { 1, 2, 3, 4, 5 };
	static const int64_t ts[] = { 100, 200, 300, 400, 500 };
	struct fixture f;

	(void)state;
	next_count_trigger = 3;
	next_lateness = 1000;
	fx_init(&f, 1000, 0, 64);
	fx_late(&f);
	fx_vec(&f, 5, k, v, ts);		/* a: 1, 3, 4 -> fires at 4 */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "a,0,1000,3,8,1,4,2.66667");
	fx_wm(&f, 1500);			/* past the end: CONTINUE */
	assert_int_equal(f.n_out, 0);
	assert_int_equal(f.w.n_open, 1);
	f.n_out = 0;
	fx_elem(&f, "a", 6, 600);		/* a's 5th: nothing */
	fx_elem(&f, "b", 7, 700);		/* b's 2nd: nothing */
	fx_elem(&f, "a", 8, 800);		/* a's 6th: fires */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "a,0,1000,6,27,1,8,4.5");
	assert_int_equal(f.w.stats.late_fired, 0);
	fx_wm(&f, 1999);			/* cleanup: b's 2 rows never fire */
	assert_int_equal(f.n_out, 0);
	assert_int_equal(f.w.n_open, 0);
	assert_int_equal(f.w.stats.windows_fired, 0);
	f.n_out = 0;
	fx_elem(&f, "a", 9, 900);		/* late past cleanup */
	assert_int_equal(f.w.stats.late_dropped, 1);
	assert_int_equal(f.n_out, 0);
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

/*
 * The heap backend refuses rows past state.backend.heap.memory: each is
 * counted as state-full, none is lost without a count, and firing gives
 * the memory back. (RocksDB has no such limit: the same rows all fit.)
 */
static void
test_memory_limit(void **state)
{
	struct fixture f;
	unsigned int n_out = 0;
	char k[8];

	(void)state;
	fx_init_kg(&f, 1000, 0, 16, 0, 127, 2u << 20);
	for (int i = 0; i < 60000; i++) {
		snprintf(k, sizeof(k), "%04x", i);
		fx_elem(&f, k, 1, 10);
	}
	sl_win_advance(&f.w, 999, count_out, &n_out);
	assert_int_equal(n_out + f.w.stats.state_full_dropped, 60000);
	if (g_backend == SL_STATE_BACKEND_HEAP)
		assert_true(f.w.stats.state_full_dropped > 0);
	else
		assert_int_equal(f.w.stats.state_full_dropped, 0);
	/* Room again once the window fired. */
	f.w.stats.state_full_dropped = 0;
	n_out = 0;
	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "%04x", i);
		fx_elem(&f, k, 1, 1010);
	}
	sl_win_advance(&f.w, 1999, count_out, &n_out);
	assert_int_equal(f.w.stats.state_full_dropped, 0);
	assert_int_equal(n_out, 1000);
	assert_int_equal(f.w.stats.state_errors, 0);
	fx_fini(&f);
}


/*
 * A fired window's entries leave no tombstones that refuse later rows: 500
 * keys in window 0 fired, then 1791 new keys in window 1 (an earlier table
 * dropped 80 of them as state-full).
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

struct snap_out {
	uint8_t *meta, *wins;
	size_t meta_len, wins_len;
	unsigned int n;
	uint16_t kg[4096];
	uint8_t *chunk[4096];
	size_t len[4096];
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

/* Snapshot a's state; a keeps processing between begin and the drain. */
static void
take_snapshot(struct fixture *a, struct snap_out *o, void (*meanwhile)(struct fixture *))
{
	assert_int_equal(sl_win_snapshot_begin(&a->w), 0);
	assert_int_equal(sl_win_snapshot_begin(&a->w), -EBUSY);
	if (meanwhile != NULL)
		meanwhile(a);
	o->wins_len = sl_win_snapshot_windows(&a->w, NULL, 0);
	o->wins = malloc(o->wins_len);
	assert_int_equal(sl_win_snapshot_windows(&a->w, o->wins, o->wins_len), o->wins_len);
	o->meta_len = sl_state_snapshot_meta(a->w.snap, NULL, 0);
	o->meta = malloc(o->meta_len);
	assert_int_equal(sl_state_snapshot_meta(a->w.snap, o->meta, o->meta_len), o->meta_len);
	/* Small slices, as the main lcore drains: 1 KiB chunks, 4 KiB a pass. */
	while (sl_state_snapshot_write(a->w.snap, 1024, 4096, keep_chunk, o) == 1)
		;
	sl_win_snapshot_end(&a->w);
}

static void
restore_into(struct fixture *f, const struct snap_out *o, uint32_t lo, uint32_t hi)
{
	assert_int_equal(sl_win_restore_windows(&f->w, o->wins, o->wins_len), 0);
	for (unsigned int i = 0; i < o->n; i++)
		if (o->kg[i] >= lo && o->kg[i] <= hi)
			assert_true(sl_state_restore(f->st, o->meta, o->meta_len,
						     o->chunk[i], o->len[i]) >= 0);
}

static void
snap_free(struct snap_out *o)
{
	for (unsigned int i = 0; i < o->n; i++)
		free(o->chunk[i]);
	free(o->meta);
	free(o->wins);
}


/*
 * W3.1: tumbling 2000, L = 500, EventTimeTrigger, sum. The window fires
 * at WM(2300) and stays; k:1@1997 fires it again at once with the whole
 * contents; WM(2499) cleans it; k:1@1998 is then late: dropped, counted
 * and handed to the late side output; k:1@2100 goes to [2000, 4000).
 */
static void
test_W3_1_lateness(void **state)
{
	struct fixture f;

	(void)state;
	next_lateness = 500;
	fx_init(&f, 2000, 0, 64);
	fx_late(&f);
	n_side = 0;
	sl_win_set_late_rows(&f.w, side_row, &f);
	fx_elem(&f, "k", 1, 500);		/* 1 */
	fx_wm(&f, 1500);			/* 2 */
	assert_int_equal(f.n_out, 0);
	fx_elem(&f, "k", 1, 1300);		/* 3 */
	fx_wm(&f, 2300);			/* 4: the timer at 1999 fires */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,2000,2,2,1,1,1");
	assert_int_equal(f.w.n_open, 1);	/* kept until 2499 */
	f.n_out = 0;
	fx_elem(&f, "k", 1, 1997);		/* 5: not late, fires at once */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,2000,3,3,1,1,1");
	assert_int_equal(f.w.stats.late_fired, 1);
	fx_wm(&f, 2499);			/* 6: cleanup, nothing out */
	assert_int_equal(f.n_out, 0);
	assert_int_equal(f.w.n_open, 0);
	f.n_out = 0;
	assert_int_equal(n_side, 0);
	fx_elem(&f, "k", 1, 1998);		/* 7: window and element late */
	assert_int_equal(f.n_out, 0);
	assert_int_equal(f.w.stats.late_dropped, 1);
	assert_int_equal(n_side, 1);		/* side: (k,1)@1998 */
	assert_string_equal(side[0], "k:1@1998");
	fx_elem(&f, "k", 1, 2100);		/* 8 */
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 6000);			/* 9: 3999 fires, 4499 cleans */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,2000,4000,1,1,1,1,1");
	assert_int_equal(f.w.n_open, 0);
	assert_int_equal(f.w.stats.windows_fired, 2);
	assert_int_equal(f.w.stats.late_dropped, 1);
	assert_int_equal(f.w.stats.late_fired, 1);
	assert_int_equal(n_side, 1);
	fx_fini(&f);
}

/* W3.1's boundary: step 7 before step 6 (WM still 2300) is accepted and
 * fires (k,4). On a sliding window, one late row fires every fired
 * window it is in, and none that has not fired yet. */
static void
test_W3_1_lateness_boundary(void **state)
{
	struct fixture f;

	(void)state;
	next_lateness = 500;
	fx_init(&f, 2000, 0, 64);
	fx_late(&f);
	fx_elem(&f, "k", 1, 500);
	fx_elem(&f, "k", 1, 1300);
	fx_wm(&f, 2300);
	f.n_out = 0;
	fx_elem(&f, "k", 1, 1997);
	fx_elem(&f, "k", 1, 1998);
	assert_int_equal(f.n_out, 2);
	assert_string_equal(fx_res(&f, 0), "k,0,2000,3,3,1,1,1");
	assert_string_equal(fx_res(&f, 1), "k,0,2000,4,4,1,1,1");
	fx_wm(&f, SL_TS_MAX);			/* cleanup only */
	assert_int_equal(f.n_out, 0);
	fx_fini(&f);

	/* sliding 2000 / 1000, L = 1000: a row @1500 at WM(2500) is in
	 * [0, 2000) (fired at 1999) and [1000, 3000) (not yet). */
	next_slide = 1000;
	next_lateness = 1000;
	fx_init(&f, 2000, 0, 64);
	fx_late(&f);
	fx_elem(&f, "k", 5, 100);
	fx_wm(&f, 2500);
	assert_int_equal(f.n_out, 2);
	assert_string_equal(fx_res(&f, 0), "k,-1000,1000,1,5,5,5,5");
	assert_string_equal(fx_res(&f, 1), "k,0,2000,1,5,5,5,5");
	f.n_out = 0;
	fx_elem(&f, "k", 2, 1500);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,2000,2,7,2,5,3.5");
	fx_wm(&f, 2999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,1000,3000,1,2,2,2,2");
	/* [-1000, 1000) was cleaned at 1999 + 1000 <= 2999: @500 is late
	 * there, and fires [0, 2000) (cleanup 2999: late too) -> dropped. */
	f.n_out = 0;
	fx_elem(&f, "k", 1, 500);
	assert_int_equal(f.n_out, 0);
	assert_int_equal(f.w.stats.late_dropped, 1);
	fx_fini(&f);
}

/*
 * W3.1 across a checkpoint: snapshot at WM(2300), after the window fired
 * and before its cleanup; the restored instance (watermark MIN, R1.11)
 * does not fire it again when the watermark passes 1999, and k:1@1997
 * fires it at once with the whole contents, as without the failure.
 */
static void
test_W3_1_lateness_restore(void **state)
{
	struct fixture a, b;
	struct snap_out o;

	(void)state;
	memset(&o, 0, sizeof(o));
	next_lateness = 500;
	fx_init(&a, 2000, 0, 64);
	fx_late(&a);
	fx_elem(&a, "k", 1, 500);
	fx_elem(&a, "k", 1, 1300);
	fx_elem(&a, "j", 1, 1800);
	fx_wm(&a, 2300);
	assert_int_equal(a.n_out, 2);
	take_snapshot(&a, &o, NULL);
	assert_int_equal(o.wins_len, 4 + 8 + 16);
	fx_fini(&a);

	next_lateness = 500;
	fx_init(&b, 2000, 0, 64);
	fx_late(&b);
	restore_into(&b, &o, 0, 127);
	assert_int_equal(b.w.n_open, 1);
	/* Before any watermark: k:1@-100 was late at the checkpoint's
	 * watermark (its window cleaned at 499), so it is late now too,
	 * and does not reopen [-2000, 0). */
	n_side = 0;
	sl_win_set_late_rows(&b.w, side_row, &b);
	fx_late(&b);
	fx_elem(&b, "k", 1, -100);
	assert_int_equal(b.n_out, 0);
	assert_int_equal(b.w.stats.late_dropped, 1);
	assert_int_equal(n_side, 1);
	assert_int_equal(b.w.n_open, 1);
	fx_wm(&b, 2000);
	assert_int_equal(b.n_out, 0);		/* fired before the checkpoint */
	fx_late(&b);
	fx_elem(&b, "k", 1, 1997);
	assert_int_equal(b.n_out, 1);
	assert_string_equal(fx_res(&b, 0), "k,0,2000,3,3,1,1,1");
	fx_wm(&b, 2499);
	assert_int_equal(b.n_out, 0);
	assert_int_equal(b.w.n_open, 0);
	fx_fini(&b);

	/* A job without lateness reads the section and ignores the tail. */
	fx_init(&b, 2000, 0, 64);
	assert_int_equal(sl_win_restore_windows(&b.w, o.wins, o.wins_len), 0);
	assert_int_equal(sl_win_restore_windows(&b.w, o.wins, o.wins_len - 1), -EINVAL);
	fx_fini(&b);
	snap_free(&o);
}

/* Two late rows of one key in one vector: two results, in order. */
static void
test_lateness_two_rows_one_vector(void **state)
{
	static const char *const k[] = { "a", "b", "a", "c" };
	static const int64_t v[] = { 1, 2, 3, 4 };
	static const int64_t ts[] = { 100, 2500, 200, 300 };
	struct fixture f;

	(void)state;
	next_lateness = 1000;
	fx_init(&f, 1000, 0, 64);
	fx_late(&f);
	fx_elem(&f, "a", 10, 0);
	fx_wm(&f, 1500);
	assert_int_equal(f.n_out, 1);
	f.n_out = 0;
	fx_vec(&f, 4, k, v, ts);
	assert_int_equal(f.n_out, 3);
	assert_string_equal(fx_res(&f, 0), "a,0,1000,2,11,1,10,5.5");
	assert_string_equal(fx_res(&f, 1), "a,0,1000,3,14,1,10,4.66667");
	assert_string_equal(fx_res(&f, 2), "c,0,1000,1,4,4,4,4");
	fx_wm(&f, 2999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "b,2000,3000,1,2,2,2,2");
	fx_fini(&f);
}

/*
 * trigger: {continuous: 2000} on tumbling 10000 (Flink's
 * ContinuousEventTimeTrigger.of(2 s)): k's first row @1500 sets a firing
 * at 2000 (1500 - 1500 % 2000 + 2000); each firing sets the next 2 s
 * later, and one the same watermark passes fires in the same advance, so
 * WM(8500) fires at 4000, 6000 and 8000 with the same contents. 10000 is
 * past the window's end - 1 (9999), which fires as always; j's first row
 * @9000 sets nothing before it. A snapshot taken with the 4000 firing
 * pending restores it.
 */
static void
test_continuous_trigger(void **state)
{
	struct fixture f, b, *x;
	struct snap_out o;

	(void)state;
	memset(&o, 0, sizeof(o));
	for (int restore = 0; restore < 2; restore++) {
		next_continuous = 2000;
		fx_init(&f, 10000, 0, 64);
		fx_late(&f);
		fx_elem(&f, "k", 1, 1500);
		fx_elem(&f, "k", 2, 2500);
		fx_wm(&f, 1999);
		assert_int_equal(f.n_out, 0);
		fx_wm(&f, 3000);
		assert_int_equal(f.n_out, 1);
		assert_string_equal(fx_res(&f, 0), "k,0,10000,2,3,1,2,1.5");
		if (restore) {
			take_snapshot(&f, &o, NULL);
			fx_fini(&f);
			next_continuous = 2000;
			fx_init(&b, 10000, 0, 64);
			fx_late(&b);
			restore_into(&b, &o, 0, 127);
			assert_int_equal(sl_win_restore_done(&b.w), 0);
		}
		x = restore ? &b : &f;
		x->n_out = 0;
		fx_elem(x, "k", 4, 3500);
		fx_elem(x, "j", 5, 9000);
		fx_wm(x, 8500);
		assert_int_equal(x->n_out, 3);
		for (int i = 0; i < 3; i++)
			assert_string_equal(fx_res(x, (unsigned int)i), "k,0,10000,3,7,1,4,2.33333");
		fx_wm(x, 9999);
		assert_int_equal(x->n_out, 2);
		assert_string_equal(fx_res(x, 0), "j,0,10000,1,5,5,5,5");
		assert_string_equal(fx_res(x, 1), "k,0,10000,3,7,1,4,2.33333");
		fx_wm(x, SL_TS_MAX);
		assert_int_equal(x->n_out, 0);
		fx_fini(x);
	}
	snap_free(&o);
}

/*
 * W2.2 [T-WOT testSlidingEventTimeWindows]: size 3000, slide 1000, sum
 * of ones, the operator's outputs watermark by watermark; the same with a
 * snapshot taken after the input and restored into a new instance.
 */
static void
test_W2_2_sliding(void **state)
{
	static const int64_t wms[] = { 999, 1999, 2999, 3999, 4999, 5999, 6999, 7999 };
	static const char *const want[][2] = {
		{ "key1,-2000,1000,3,3,1,1,1", NULL },
		{ "key1,-1000,2000,3,3,1,1,1", "key2,-1000,2000,3,3,1,1,1" },
		{ "key1,0,3000,3,3,1,1,1", "key2,0,3000,3,3,1,1,1" },
		{ "key2,1000,4000,5,5,1,1,1", NULL },
		{ "key2,2000,5000,2,2,1,1,1", NULL },
		{ "key2,3000,6000,2,2,1,1,1", NULL },
		{ NULL, NULL },
		{ NULL, NULL },
	};

	(void)state;
	for (int restore = 0; restore < 2; restore++) {
		struct fixture f, g, *x = &f;

		fx_init_sliding(&f, 3000, 1000, 0);
		fx_elem(&f, "key2", 1, 3999);
		fx_elem(&f, "key2", 1, 3000);
		fx_elem(&f, "key1", 1, 20);
		fx_elem(&f, "key1", 1, 0);
		fx_elem(&f, "key1", 1, 999);
		fx_elem(&f, "key2", 1, 1998);
		fx_elem(&f, "key2", 1, 1999);
		fx_elem(&f, "key2", 1, 1000);
		if (restore) {
			static struct snap_out o;

			memset(&o, 0, sizeof(o));
			take_snapshot(&f, &o, NULL);
			next_slide = 1000;
			fx_init_kg(&g, 3000, 0, 64, 0, 127, 0);
			restore_into(&g, &o, 0, 127);
			snap_free(&o);
			x = &g;
		}
		for (unsigned int i = 0; i < 8; i++) {
			unsigned int n = (want[i][0] != NULL) + (want[i][1] != NULL);

			fx_wm(x, wms[i]);
			assert_int_equal(x->n_out, n);
			for (unsigned int j = 0; j < n; j++)
				assert_string_equal(fx_res(x, j), want[i][j]);
		}
		assert_int_equal(x->w.stats.late_dropped, 0);
		assert_int_equal(x->w.stats.windows_fired, 6);
		if (restore)
			fx_fini(&g);
		fx_fini(&f);
	}
}

/* Rows that arrive after the barrier: not part of the snapshot. */
static void
after_barrier(struct fixture *a)
{
	fx_elem(a, "k0", 1000, 10);
	fx_elem(a, "zz", 1000, 3500);
}

/*
 * R5.4/R6.5: state snapshotted by key group restores onto one instance or
 * onto two that split the key groups, with the same results and nothing
 * lost or doubled, on either backend whichever took it; and the snapshot
 * is the state as of its begin, although the instance went on updating
 * (copy-on-write).
 */
static void
test_snapshot_restore_rescale(void **state)
{
	static char want[64][160], got[64][160];
	static struct snap_out o;
	char *wp[64], *gp[64];
	struct fixture a, b, c, d, ref;
	enum sl_state_backend was;
	unsigned int nw, ng;
	uint32_t lo, hi;

	(void)state;
	memset(&o, 0, sizeof(o));
	fx_init(&a, 1000, 0, 256);
	fx_init(&ref, 1000, 0, 256);
	for (int i = 0; i < 40; i++) {
		char k[8];

		snprintf(k, sizeof(k), "k%d", i % 13);
		fx_elem(&a, k, i, (i % 3) * 1000 + i);
		fx_elem(&ref, k, i, (i % 3) * 1000 + i);
	}
	take_snapshot(&a, &o, after_barrier);
	assert_true(o.n > 0);
	nw = fire_all(&ref, want, 0);
	assert_int_equal(nw, 39);		/* 13 keys x 3 windows */
	fx_fini(&ref);
	/* a itself kept the rows after the barrier. */
	ng = fire_all(&a, got, 0);
	assert_int_equal(ng, 40);
	fx_fini(&a);

	/* Onto one instance that owns every key group, on the other backend:
	 * both write and read the same chunks. */
	was = g_backend;
	g_backend = was == SL_STATE_BACKEND_HEAP ? SL_STATE_BACKEND_ROCKSDB :
						   SL_STATE_BACKEND_HEAP;
	fx_init(&b, 1000, 0, 256);
	g_backend = was;
	restore_into(&b, &o, 0, 127);
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
	sl_kg_range(0, 128, 2, &lo, &hi);
	fx_init_kg(&c, 1000, 0, 256, lo, hi, 0);
	restore_into(&c, &o, lo, hi);
	sl_kg_range(1, 128, 2, &lo, &hi);
	fx_init_kg(&d, 1000, 0, 256, lo, hi, 0);
	restore_into(&d, &o, lo, hi);
	ng = fire_all(&c, got, 0);
	assert_true(ng > 0 && ng < nw);
	ng = fire_all(&d, got, ng);
	assert_int_equal(ng, nw);
	for (unsigned int i = 0; i < ng; i++)
		gp[i] = got[i];
	qsort(gp, ng, sizeof(gp[0]), cmp_str);
	for (unsigned int i = 0; i < nw; i++)
		assert_string_equal(wp[i], gp[i]);

	/* Malformed input is refused, not half-loaded into garbage. */
	fx_fini(&b);
	fx_init(&b, 1000, 0, 256);
	assert_int_equal(sl_win_restore_windows(&b.w, o.wins, o.wins_len - 1), -EINVAL);
	o.wins[4] ^= 0x01;		/* a start that is not a window start */
	assert_int_equal(sl_win_restore_windows(&b.w, o.wins, o.wins_len), -EINVAL);
	assert_true(sl_state_restore(b.st, o.meta, o.meta_len, o.chunk[0], o.len[0] - 1) < 0);
	snap_free(&o);
	fx_fini(&b);
	fx_fini(&c);
	fx_fini(&d);
}

/*
 * Checkpoints of the accumulator layout before count() became the row
 * count alone (an unused 8-byte slot at each count(): here count, sum,
 * count, max, avg took 48 bytes, now 32) restore converted onto either
 * backend and fire as the instance that took them would have.
 */
static void
test_restore_old_count_layout(void **state)
{
	static char want[64][160], got[64][160];
	static struct snap_out o, old;
	struct sl_state_desc d = { .name = "window", .kind = SL_STATE_VALUE,
				   .key_len = 4, .ns_len = 8, .val_len = 48 };
	struct sl_state_conf sc = { .backend = SL_STATE_BACKEND_HEAP,
				    .max_parallelism = 128, .first_kg = 0,
				    .last_kg = 127, .mem_len = REGION };
	struct fixture a, b;
	struct sl_state_snap *sn;
	struct sl_state_record rec;
	struct sl_state *os;
	enum sl_state_backend was = g_backend;
	unsigned int nw, ng, reg = region_get(), nrec = 0;
	int id, rc;

	(void)state;
	memset(&o, 0, sizeof(o));
	memset(&old, 0, sizeof(old));
	next_count_mid = true;
	fx_init(&a, 1000, 0, 256);
	assert_int_equal(a.w.val_len, 32);	/* row count, sum, max, avg */
	for (int i = 0; i < 40; i++) {
		char k[8];

		snprintf(k, sizeof(k), "k%d", i % 13);
		fx_elem(&a, k, i, (i % 3) * 1000 + i);
	}
	take_snapshot(&a, &o, NULL);
	/* The same accumulators as the older build kept them: a zero slot
	 * where each count() is, in a state of that value length. */
	sc.mem = pool[reg].mem;
	os = sl_state_open(&sc);
	assert_non_null(os);
	id = sl_state_register(os, &d);
	assert_true(id >= 0);
	assert_int_equal(sl_state_snapshot_begin(a.st, 0, &sn), 0);
	while ((rc = sl_state_snapshot_next(sn, &rec)) == 1) {
		struct sl_state_ref r = { .key = rec.key, .ns = rec.ns, .kg = rec.kg };
		uint8_t v[48] = { 0 };
		const uint8_t *n = rec.val;

		assert_int_equal(rec.val_len, 32);
		memcpy(v, n, 8);		/* row count */
		memcpy(v + 16, n + 8, 8);	/* sum, after count's slot */
		memcpy(v + 32, n + 16, 16);	/* max, avg, after count2's */
		sl_state_hash_bulk(os, id, &r, 1);
		assert_int_equal(sl_state_value_put(os, id, &r, 0, v), 0);
		nrec++;
	}
	assert_int_equal(rc, 0);
	sl_state_snapshot_end(a.st, sn);
	assert_int_equal(nrec, 39);	/* 13 keys x 3 windows */
	assert_int_equal(sl_state_snapshot_begin(os, 0, &sn), 0);
	old.meta_len = sl_state_snapshot_meta(sn, NULL, 0);
	old.meta = malloc(old.meta_len);
	assert_int_equal(sl_state_snapshot_meta(sn, old.meta, old.meta_len), old.meta_len);
	while (sl_state_snapshot_write(sn, 1024, 4096, keep_chunk, &old) == 1)
		;
	sl_state_snapshot_end(os, sn);
	sl_state_close(os);
	pool[reg].busy = false;
	old.wins = o.wins;
	old.wins_len = o.wins_len;
	o.wins = NULL;
	nw = fire_all(&a, want, 0);
	assert_int_equal(nw, 39);
	/* k0: v 0 at 0 and v 39 at 39 in [0, 1000) */
	assert_string_equal(want[0], "k0,0,1000,2,39,2,39,19.5");
	fx_fini(&a);
	for (int t = 0; t < 2; t++) {
		g_backend = t ? SL_STATE_BACKEND_ROCKSDB : SL_STATE_BACKEND_HEAP;
		next_count_mid = true;
		fx_init(&b, 1000, 0, 256);
		restore_into(&b, &old, 0, 127);
		ng = fire_all(&b, got, 0);
		assert_int_equal(ng, nw);
		for (unsigned int i = 0; i < nw; i++)
			assert_string_equal(got[i], want[i]);
		fx_fini(&b);
	}
	g_backend = was;
	snap_free(&o);
	snap_free(&old);
}

static int
count_entry(void *arg, uint16_t kg, const void *key, const void *val)
{
	(void)kg;
	(void)key;
	(void)val;
	(*(int *)arg)++;
	return 0;
}

/* Entries of window start in f's state. */
static int
ns_entries(struct fixture *f, int64_t start)
{
	int n = 0;

	assert_true(sl_state_ns_visit(f->st, f->w.sid, &start, 0, count_entry, &n) >= 0);
	return n;
}

/* Between a snapshot's begin and its drain: [0, 1000) fires and leaves
 * (L = 0), read but on heap not removed yet, and no page copied. */
static void
fire_meanwhile(struct fixture *a)
{
	const bool heap = g_backend == SL_STATE_BACKEND_HEAP;
	struct sl_state_stats ss;

	fx_wm(a, 999);
	assert_int_equal(a->n_out, 13);
	assert_string_equal(fx_res(a, 0), "k0,0,1000,1,0,0,0,0");
	assert_string_equal(fx_res(a, 1), "k1,0,1000,1,1,1,1,1");
	sl_state_stats(a->st, &ss);
	if (heap)
		assert_int_equal(ss.cow_pages, 0);
	assert_int_equal(ns_entries(a, 0), heap ? 13 : 0);
	assert_int_equal(a->w.n_drop, heap ? 1 : 0);
	fx_elem(a, "k0", 50, 2100);	/* a new window meanwhile */
	fx_elem(a, "k1", 7, 500);	/* late: dropped, the window left */
	assert_int_equal(ns_entries(a, 0), heap ? 13 : 0);
}

/*
 * A window that fires and leaves while a snapshot is open: on heap it is
 * read, not drained, so no page of the table is copied for the snapshot,
 * and its entries go when the snapshot ends; its results are the same,
 * the snapshot is the state as of its begin, and a restore from it fires
 * the window again (it had not fired at the barrier).
 */
static void
test_fire_during_snapshot(void **state)
{
	static struct snap_out o;
	static char want[64][160], got[64][160];
	struct fixture a, b, ref;
	unsigned int nw, ng;

	(void)state;
	memset(&o, 0, sizeof(o));
	fx_init(&a, 1000, 0, 256);
	fx_init(&ref, 1000, 0, 256);
	for (int i = 0; i < 26; i++) {
		char k[8];

		/* 13 keys in [0, 1000), the same 13 in [1000, 2000) */
		snprintf(k, sizeof(k), "k%d", i % 13);
		fx_elem(&a, k, i, i < 13 ? 100 + i : 1100 + i);
		fx_elem(&ref, k, i, i < 13 ? 100 + i : 1100 + i);
	}
	nw = fire_all(&ref, want, 0);
	assert_int_equal(nw, 26);
	fx_fini(&ref);
	take_snapshot(&a, &o, fire_meanwhile);
	assert_int_equal(ns_entries(&a, 0), 0);
	assert_int_equal(a.w.n_drop, 0);
	ng = fire_all(&a, got, 0);
	assert_int_equal(ng, 14);	/* [1000, 2000) and k0's [2000, 3000) */
	for (unsigned int i = 0; i < 13; i++)
		assert_string_equal(got[i], want[13 + i]);
	assert_string_equal(got[13], "k0,2000,3000,1,50,50,50,50");
	fx_fini(&a);
	/* the barrier came before the firing: both windows, all rows */
	fx_init(&b, 1000, 0, 256);
	restore_into(&b, &o, 0, 127);
	ng = fire_all(&b, got, 0);
	assert_int_equal(ng, nw);
	for (unsigned int i = 0; i < nw; i++)
		assert_string_equal(got[i], want[i]);
	fx_fini(&b);
	snap_free(&o);
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

/*
 * Appendix C3 through the vector path: at ts = MIN Java's window start
 * wraps to MAX - 191, above the row's own time; every such row still
 * lands in that window, once (and the operator does not spin on it).
 */
static void
test_wrapped_start_in_vector(void **state)
{
	static const char *const k[] = { "a", "a", "b", "a" };
	static const int64_t v[] = { 1, 2, 3, 4 };
	const int64_t ts[] = { INT64_MIN, INT64_MIN + 1, INT64_MIN, 5 };
	struct fixture f;

	(void)state;
	fx_init(&f, 1000, 0, 64);
	fx_vec(&f, 4, k, v, ts);
	fx_wm(&f, SL_TS_MAX);
	assert_int_equal(f.n_out, 3);
	assert_string_equal(fx_res(&f, 0), "a,0,1000,1,4,4,4,4");
	assert_string_equal(fx_res(&f, 1),
			    "a,9223372036854775616,9223372036854775807,2,3,1,2,1.5");
	assert_string_equal(fx_res(&f, 2),
			    "b,9223372036854775616,9223372036854775807,1,3,3,3,3");
	assert_int_equal(f.w.stats.late_dropped, 0);
	fx_fini(&f);
}

/* ---- random input against a brute-force reference ---------------------- */

enum { RK = 300, RW = 16, RSIZE = 1000 };

struct ref_out {
	const struct sl_schema *o;
	uint16_t n_keys;
	bool aggs;
	int64_t (*cnt)[RW], (*sum)[RW], (*mn)[RW], (*mx)[RW];
	unsigned int n;
};

/* Key index of a result row: the key fields hold k (and 7 * k + 1). */
static uint8_t *
ref_row(void *ctx)
{
	static uint8_t row[256];
	struct ref_out *r = ctx;
	int64_t k, start, cnt;

	/* check the previous row, then hand out the buffer again */
	if (r->n > 0) {
		k = sl_row_get_int(row, &r->o->f[0]);
		if (r->n_keys == 2) {
			assert_int_equal(sl_row_get_int(row, &r->o->f[1]), 7 * k + 1);
		}
		start = sl_row_get_int(row, &r->o->f[r->n_keys]);
		assert_true(k >= 0 && k < RK && start >= 0 && start / RSIZE < RW);
		assert_int_equal(sl_row_get_int(row, &r->o->f[r->n_keys + 1]),
				 start + RSIZE);
		cnt = r->cnt[k][start / RSIZE];
		assert_true(cnt > 0);
		assert_int_equal(sl_row_get_int(row, &r->o->f[r->n_keys + 2]), cnt);
		if (r->aggs) {
			assert_int_equal(sl_row_get_int(row, &r->o->f[r->n_keys + 3]),
					 r->sum[k][start / RSIZE]);
			assert_int_equal(sl_row_get_int(row, &r->o->f[r->n_keys + 4]),
					 r->mn[k][start / RSIZE]);
			assert_int_equal(sl_row_get_int(row, &r->o->f[r->n_keys + 5]),
					 r->mx[k][start / RSIZE]);
		}
		r->cnt[k][start / RSIZE] = -1;	/* emitted once */
	}
	r->n++;
	return row;
}

/*
 * The vector path against a reference computed row by row: u64 keys read in
 * place (count only), and two u32 key fields stored in the other order
 * than the row's (gathered; count, sum, min, max); out-of-order input over
 * several windows with a watermark trailing it, so rows are late, windows
 * fire between vectors and vectors straddle windows.
 */
static void
window_vs_reference(bool gather)
{
	static int64_t cnt[RK][RW], sum[RK][RW], mn[RK][RW], mx[RK][RW];
	struct sl_state_conf sc;
	struct sl_win_conf c;
	struct sl_schema in;
	struct sl_state *st;
	struct sl_vec *v;
	struct sl_win w;
	struct ref_out ro;
	char dir[64] = "";
	unsigned int region = 0;
	int64_t wm = SL_TS_MIN, max_seen = 0;
	uint64_t late = 0;
	size_t at;

	assert_int_equal(sl_schema_parse_spec(&in,
		"a:u32,k:u64,v:i64,b:u32,ts:timestamp_ms", &at), 0);
	memset(&sc, 0, sizeof(sc));
	sc.backend = g_backend;
	sc.max_parallelism = 128;
	sc.last_kg = 127;
	if (g_backend == SL_STATE_BACKEND_HEAP) {
		region = region_get();
		sc.mem = pool[region].mem;
		sc.mem_len = REGION;
	} else {
		snprintf(dir, sizeof(dir), "/tmp/sl-test-window-ref-%d", (int)getpid());
		sc.dir = dir;
	}
	st = sl_state_open(&sc);
	assert_non_null(st);
	memset(&c, 0, sizeof(c));
	c.in = &in;
	c.ts_field = 4;
	c.size = RSIZE;
	if (gather) {
		c.n_keys = 2;
		c.key_field[0] = 3;	/* b, then a: not the row's order */
		c.key_field[1] = 0;
		c.n_aggs = 4;
		c.agg[0] = (struct sl_win_agg){ SL_WIN_COUNT, -1, "count" };
		c.agg[1] = (struct sl_win_agg){ SL_WIN_SUM, 2, "sum_v" };
		c.agg[2] = (struct sl_win_agg){ SL_WIN_MIN, 2, "min_v" };
		c.agg[3] = (struct sl_win_agg){ SL_WIN_MAX, 2, "max_v" };
	} else {
		c.n_keys = 1;
		c.key_field[0] = 1;
		c.n_aggs = 1;
		c.agg[0] = (struct sl_win_agg){ SL_WIN_COUNT, -1, "count" };
	}
	c.capacity = 64;	/* small: tables grow under the vectors */
	c.max_parallelism = 128;
	c.last_kg = 127;
	assert_int_equal(sl_win_init(&w, &c, st), 0);
	v = calloc(1, sl_vec_size(in.row_size));
	assert_non_null(v);
	memset(cnt, 0, sizeof(cnt));
	ro = (struct ref_out){ &w.out, c.n_keys, gather, cnt, sum, mn, mx, 0 };
	srand(gather ? 5 : 3);
	for (int t = 0; t < 400; t++) {
		uint16_t n = (uint16_t)(1 + rand() % 256), n_sel = 0;

		sl_vec_reset(v, in.row_size);
		for (uint16_t i = 0; i < n; i++) {
			uint8_t *row = sl_vec_row(v, i);
			int64_t k = rand() % RK, x = rand() % 2001 - 1000;
			/* time moves forward by 25 ms a vector, rows up to 1.5 s behind */
			int64_t ts = (int64_t)t * 25 + rand() % 1500;
			uint8_t key[8];
			int64_t wi = ts / RSIZE;

			memset(row, 0, in.row_size);
			sl_row_set_int(row, &in.f[0], 7 * k + 1);
			sl_row_set_int(row, &in.f[1], k);
			sl_row_set_int(row, &in.f[2], x);
			sl_row_set_int(row, &in.f[3], k);
			sl_row_set_int(row, &in.f[4], ts);
			sl_win_key_gather(&in, c.key_field, c.n_keys, row, key);
			v->hash[i] = sl_kg_hash(key, 8);
			assert_true(wi < RW);
			/* every third row of some vectors is filtered out */
			if (t % 7 == 0 && i % 3 == 0)
				continue;
			v->sel[n_sel++] = i;
			if (wi * RSIZE + RSIZE - 1 <= wm) {
				late++;
			} else if (cnt[k][wi]++ == 0) {
				sum[k][wi] = mn[k][wi] = mx[k][wi] = x;
			} else {
				sum[k][wi] += x;
				mn[k][wi] = x < mn[k][wi] ? x : mn[k][wi];
				mx[k][wi] = x > mx[k][wi] ? x : mx[k][wi];
			}
			max_seen = ts > max_seen ? ts : max_seen;
		}
		v->n_rows = n;
		v->n_sel = n_sel;
		sl_win_process(&w, v);
		if (t % 10 == 9) {
			wm = max_seen - 1200;
			sl_win_advance(&w, wm, ref_row, &ro);
		}
	}
	sl_win_advance(&w, SL_TS_MAX, ref_row, &ro);
	(void)ref_row(&ro);	/* checks the last row */
	assert_int_equal(w.stats.late_dropped, late);
	assert_int_equal(w.stats.state_full_dropped, 0);
	for (int k = 0; k < RK; k++)
		for (int wi = 0; wi < RW; wi++)
			assert_true(cnt[k][wi] == 0 || cnt[k][wi] == -1);
	assert_true(late > 0);
	sl_win_fini(&w);
	sl_state_close(st);
	if (g_backend == SL_STATE_BACKEND_HEAP) {
		pool[region].busy = false;
	} else {
		char cmd[96];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
	free(v);
}

static void
test_vector_path_u64_count(void **state)
{
	(void)state;
	window_vs_reference(false);
}

static void
test_vector_path_gathered_keys(void **state)
{
	(void)state;
	window_vs_reference(true);
}


/* ---- session windows (R2.5, R3.6) ---------------------------------------- */

static void
fx_init_session(struct fixture *f, int64_t gap, int64_t lateness)
{
	next_gap = gap;
	next_lateness = lateness;
	fx_init(f, 0, 0, 64);
	fx_late(f);
}

/* W2.4's first ten elements, with key2:4 at ts4. */
static void
w24_input(struct fixture *f, int64_t ts4)
{
	fx_elem(f, "key2", 1, 0);
	fx_elem(f, "key2", 2, 1000);
	fx_elem(f, "key2", 3, 2500);
	fx_elem(f, "key1", 1, 10);
	fx_elem(f, "key1", 2, 1000);
	fx_elem(f, "key1", 3, 2500);
	fx_elem(f, "key2", 4, ts4);
	fx_elem(f, "key2", 5, 6000);
	fx_elem(f, "key2", 5, 6000);
	fx_elem(f, "key2", 6, 6050);
}

/*
 * W2.4: gap 3000, sum [T-WOT testSessionWindows], through the operator.
 * Results as "key,start,end,count,sum,min,max,avg", in the sink's order.
 * 5500 < 5501: key2's [0,5500) and [5501,9050) stay apart; key2:10 and
 * key2:20 @15000 make [15000,18000), which fires at WM(17999), not 17998.
 */
static void
test_W2_4_session_windows(void **state)
{
	struct fixture f;

	(void)state;
	fx_init_session(&f, 3000, 0);
	w24_input(&f, 5501);
	fx_wm(&f, 5498);
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 12000);
	assert_int_equal(f.n_out, 3);
	assert_string_equal(fx_res(&f, 0), "key2,0,5500,3,6,1,3,2");
	assert_string_equal(fx_res(&f, 1), "key1,10,5500,3,6,1,3,2");
	assert_string_equal(fx_res(&f, 2), "key2,5501,9050,4,20,4,6,5");
	fx_elem(&f, "key2", 10, 15000);
	fx_elem(&f, "key2", 20, 15000);
	fx_wm(&f, 17998);
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 17999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "key2,15000,18000,2,30,10,20,15");
	assert_int_equal(f.w.stats.windows_fired, 4);
	assert_int_equal(f.w.stats.late_dropped, 0);
	assert_int_equal(f.w.stats.state_errors, 0);
	/* Everything fired and cleaned: no timers, sets or accumulators. */
	fx_wm(&f, SL_TS_MAX);
	assert_int_equal(f.n_out, 0);
	fx_fini(&f);

	/* Touching windows merge: [5500,8500) touches [0,5500). */
	fx_init_session(&f, 3000, 0);
	w24_input(&f, 5500);
	fx_wm(&f, 12000);
	assert_int_equal(f.n_out, 2);
	assert_string_equal(fx_res(&f, 0), "key2,0,9050,7,26,1,6,3.71429");
	assert_string_equal(fx_res(&f, 1), "key1,10,5500,3,6,1,3,2");
	fx_fini(&f);

	/* The same input in one vector, in another order: same sessions. */
	{
		static const char *const k[] = { "key2", "key1", "key2", "key2", "key1",
						 "key2", "key2", "key1", "key2", "key2" };
		static const int64_t v[] = { 6, 3, 4, 1, 1, 5, 3, 2, 5, 2 };
		static const int64_t ts[] = { 6050, 2500, 5501, 0, 10, 6000, 2500,
					      1000, 6000, 1000 };

		fx_init_session(&f, 3000, 0);
		fx_vec(&f, 10, k, v, ts);
		fx_wm(&f, 12000);
		assert_int_equal(f.n_out, 3);
		assert_string_equal(fx_res(&f, 0), "key2,0,5500,3,6,1,3,2");
		assert_string_equal(fx_res(&f, 1), "key1,10,5500,3,6,1,3,2");
		assert_string_equal(fx_res(&f, 2), "key2,5501,9050,4,20,4,6,5");
		fx_fini(&f);
	}

	/* Pure merge vector [T-TW]: (0,1) (1,2) (2,3) (4,5) (5,6) -> (0,3), (4,6). */
	fx_init_session(&f, 1, 0);
	fx_elem(&f, "k", 1, 4);
	fx_elem(&f, "k", 1, 0);
	fx_elem(&f, "k", 1, 2);
	fx_elem(&f, "k", 1, 5);
	fx_elem(&f, "k", 1, 1);
	fx_wm(&f, 100);
	assert_int_equal(f.n_out, 2);
	assert_string_equal(fx_res(&f, 0), "k,0,3,3,3,1,1,1");
	assert_string_equal(fx_res(&f, 1), "k,4,6,2,2,1,1,1");
	fx_fini(&f);
}

/*
 * W3.3 [T-WOT testNotSideOutputDueToLatenessSessionWithLateness]: gap
 * 3000, sum of ones. With L = 10, k@7000 bridges [1000,7500) and
 * [8500,11500); after [1000,11500) is cleaned (11509) k@10000 merges into
 * [11600,14600) (alive until 14609) and fires [10000,14600) at once;
 * k@14500 extends it to [10000,17500). With L = 0, [11600,14600) is gone
 * at WM(14600): k@10000 is late and goes to the side output.
 */
static void
w33_run(int64_t lateness)
{
	struct fixture f;

	fx_init_session(&f, 3000, lateness);
	n_side = 0;
	sl_win_set_late_rows(&f.w, side_row, &f);
	fx_elem(&f, "k", 1, 1000);
	fx_wm(&f, 1999);
	fx_elem(&f, "k", 1, 2000);
	fx_wm(&f, 4998);
	fx_elem(&f, "k", 1, 4500);
	fx_elem(&f, "k", 1, 8500);
	fx_wm(&f, 7400);
	fx_elem(&f, "k", 1, 7000);
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 11501);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,1000,11500,5,5,1,1,1");
	fx_elem(&f, "k", 1, 11600);
	fx_wm(&f, 14600);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,11600,14600,1,1,1,1,1");
	fx_late(&f);
	fx_elem(&f, "k", 1, 10000);
	if (lateness == 10) {
		assert_int_equal(f.n_out, 1);	/* fired at once */
		assert_string_equal(fx_res(&f, 0), "k,10000,14600,2,2,1,1,1");
		assert_int_equal(f.w.stats.late_fired, 1);
	} else {
		assert_int_equal(f.n_out, 0);
		assert_int_equal(n_side, 1);
		assert_string_equal(side[0], "k:1@10000");
		assert_int_equal(f.w.stats.late_dropped, 1);
	}
	fx_elem(&f, "k", 1, 14500);
	fx_wm(&f, 17498);
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 20000);
	assert_int_equal(f.n_out, 1);
	if (lateness == 10) {
		assert_string_equal(fx_res(&f, 0), "k,10000,17500,3,3,1,1,1");
		assert_int_equal(n_side, 0);
		assert_int_equal(f.w.stats.late_dropped, 0);
	} else {
		assert_string_equal(fx_res(&f, 0), "k,14500,17500,1,1,1,1,1");
		assert_int_equal(n_side, 1);
	}
	assert_int_equal(f.w.stats.state_errors, 0);
	fx_fini(&f);
}

static void
test_W3_3_session_bridging_with_lateness(void **state)
{
	(void)state;
	w33_run(10);
	w33_run(0);
}

/* The instance of two (key groups 0-99, 100-127: key1 is in 98, key2
 * in 105) that owns key k. */
static struct fixture *
owner_of(struct fixture *two, const char *k)
{
	uint8_t key[4] = { 0 };

	memcpy(key, k, strlen(k));
	return sl_kg_of(sl_kg_hash(key, 4), 128) < 100 ? &two[0] : &two[1];
}

static void
sess_restore(struct fixture *f, const struct snap_out *o, int64_t gap,
	     int64_t lateness, uint32_t lo, uint32_t hi)
{
	next_gap = gap;
	next_lateness = lateness;
	fx_init_kg(f, 0, 0, 64, lo, hi, 0);
	fx_late(f);
	restore_into(f, o, lo, hi);
	assert_int_equal(sl_win_restore_done(&f->w), 0);
}

/*
 * Snapshots mid-stream: W2.4 checkpointed after its input, before any
 * watermark, and restored onto one instance and onto two that split the
 * key groups (N -> M): sets, accumulators and timers come back, and the
 * same sessions fire. W3.3 (L = 10) checkpointed at WM(14600): the
 * restored instance's watermark is MIN (R1.11), yet k@10000 is judged by
 * the checkpoint's and fires [10000,14600) at once, [11600,14600) does
 * not fire again, and with L = 0 k@10000 is late before any watermark,
 * also after a second checkpoint taken before any watermark.
 */
static void
test_session_snapshot_restore(void **state)
{
	struct fixture a, b, two[2];
	struct snap_out o;

	(void)state;
	memset(&o, 0, sizeof(o));
	fx_init_session(&a, 3000, 0);
	w24_input(&a, 5501);
	take_snapshot(&a, &o, NULL);
	assert_int_equal(o.wins_len, 4 + 16);
	fx_fini(&a);

	sess_restore(&b, &o, 3000, 0, 0, 127);
	fx_elem(&b, "key2", 7, 8000);		/* into [5501,11000) */
	fx_wm(&b, 10998);
	assert_int_equal(b.n_out, 2);
	assert_string_equal(fx_res(&b, 0), "key2,0,5500,3,6,1,3,2");
	assert_string_equal(fx_res(&b, 1), "key1,10,5500,3,6,1,3,2");
	fx_wm(&b, 10999);
	assert_int_equal(b.n_out, 1);
	assert_string_equal(fx_res(&b, 0), "key2,5501,11000,5,27,4,7,5.4");
	fx_fini(&b);

	/* A session job refuses another job's window list. */
	next_gap = 3000;
	fx_init(&b, 0, 0, 64);
	{
		uint8_t bad[4 + 8] = { 1, 0, 0, 0 };

		assert_int_equal(sl_win_restore_windows(&b.w, bad, sizeof(bad)), -EINVAL);
	}
	fx_fini(&b);

	sess_restore(&two[0], &o, 3000, 0, 0, 99);
	sess_restore(&two[1], &o, 3000, 0, 100, 127);
	assert_true(owner_of(two, "key1") != owner_of(two, "key2"));
	fx_elem(owner_of(two, "key2"), "key2", 10, 15000);
	fx_wm(&two[0], 12000);
	fx_wm(&two[1], 12000);
	{
		struct fixture *k1 = owner_of(two, "key1"), *k2 = owner_of(two, "key2");

		assert_int_equal(k1->n_out, 1);
		assert_string_equal(fx_res(k1, 0), "key1,10,5500,3,6,1,3,2");
		assert_int_equal(k2->n_out, 2);
		assert_string_equal(fx_res(k2, 0), "key2,0,5500,3,6,1,3,2");
		assert_string_equal(fx_res(k2, 1), "key2,5501,9050,4,20,4,6,5");
		fx_wm(k2, 17999);
		assert_int_equal(k2->n_out, 1);
		assert_string_equal(fx_res(k2, 0), "key2,15000,18000,1,10,10,10,10");
	}
	fx_fini(&two[0]);
	fx_fini(&two[1]);
	snap_free(&o);

	for (int64_t lateness = 0; lateness <= 10; lateness += 10) {
		memset(&o, 0, sizeof(o));
		fx_init_session(&a, 3000, lateness);
		fx_elem(&a, "k", 1, 1000);
		fx_elem(&a, "k", 1, 2000);
		fx_wm(&a, 11501);
		assert_int_equal(a.n_out, 1);
		assert_string_equal(fx_res(&a, 0), "k,1000,5000,2,2,1,1,1");
		fx_elem(&a, "k", 1, 11600);
		fx_wm(&a, 14600);
		assert_int_equal(a.n_out, 1);
		assert_string_equal(fx_res(&a, 0), "k,11600,14600,1,1,1,1,1");
		take_snapshot(&a, &o, NULL);
		fx_fini(&a);

		sess_restore(&b, &o, 3000, lateness, 0, 127);
		snap_free(&o);
		/* Checkpointed again before any watermark: the checkpoint's
		 * watermark is carried over, not MIN. */
		memset(&o, 0, sizeof(o));
		take_snapshot(&b, &o, NULL);
		fx_fini(&b);
		sess_restore(&b, &o, 3000, lateness, 0, 127);
		n_side = 0;
		sl_win_set_late_rows(&b.w, side_row, &b);
		fx_elem(&b, "k", 1, 10000);
		if (lateness == 10) {
			assert_int_equal(b.n_out, 1);
			assert_string_equal(fx_res(&b, 0), "k,10000,14600,2,2,1,1,1");
		} else {
			assert_int_equal(b.n_out, 0);
			assert_int_equal(n_side, 1);
			assert_string_equal(side[0], "k:1@10000");
		}
		fx_wm(&b, 14600);		/* nothing fires twice */
		assert_int_equal(b.n_out, 0);
		fx_elem(&b, "k", 1, 14500);
		fx_wm(&b, 20000);
		assert_int_equal(b.n_out, 1);
		assert_string_equal(fx_res(&b, 0), lateness == 10 ?
				    "k,10000,17500,3,3,1,1,1" : "k,14500,17500,1,1,1,1,1");
		assert_int_equal(b.w.stats.state_errors, 0);
		fx_fini(&b);
		snap_free(&o);
	}
}

/*
 * Timers of merged windows forward to the window that swallowed them
 * (win_session.c): whatever the watermark jumps over, each session fires
 * once, at its end, and is cleaned at end - 1 + L. Gap 3000, L = 1000.
 */
static void
test_session_timer_forwarding(void **state)
{
	struct fixture f;

	(void)state;
	/* A chain: [0,3000) -> [0,5000) -> [0,7000), one jump past all. */
	fx_init_session(&f, 3000, 1000);
	n_side = 0;
	sl_win_set_late_rows(&f.w, side_row, &f);
	fx_elem(&f, "k", 1, 0);
	fx_elem(&f, "k", 2, 2000);
	fx_elem(&f, "k", 3, 4000);
	fx_elem(&f, "j", 5, 100);
	fx_wm(&f, 6998);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "j,100,3100,1,5,5,5,5");
	fx_wm(&f, 20000);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,7000,3,6,1,3,2");
	/* Cleaned at 7999: a row inside it is late now. */
	fx_late(&f);
	fx_elem(&f, "k", 1, 3000);
	assert_int_equal(f.n_out, 0);
	assert_int_equal(n_side, 1);
	fx_fini(&f);

	/* A merged window that ends where a swallowed one ends: [2000,5000)
	 * then [0,3000) make [0,5000); both have a timer at 4999, and the
	 * session fires once. */
	fx_init_session(&f, 3000, 1000);
	fx_elem(&f, "k", 1, 2000);
	fx_elem(&f, "k", 1, 0);
	fx_wm(&f, 4999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,5000,2,2,1,1,1");
	/* Fired and kept until 5999: a row bridging to the future makes
	 * [0,8000), which fires at 7999 only (its own timer: the swallowed
	 * window's end timer has fired). */
	fx_late(&f);
	fx_elem(&f, "k", 4, 5000);
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 7998);
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 7999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,8000,3,6,1,4,2");
	/* A late row into it (L = 1000: kept until 8999) fires it at once. */
	fx_late(&f);
	fx_elem(&f, "k", 2, 1000);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,8000,4,8,1,4,2");
	fx_wm(&f, SL_TS_MAX);
	assert_int_equal(f.n_out, 0);
	assert_int_equal(f.w.stats.windows_fired, 2);
	assert_int_equal(f.w.stats.late_fired, 1);
	assert_int_equal(f.w.stats.state_errors, 0);
	fx_fini(&f);
}

/*
 * Random streams against a model of Flink's semantics written from R2.5,
 * R2.7, R3.1-R3.6 directly (per key a list of sessions; at WM(t) the
 * sessions whose end - 1 the watermark passed fire, those past end - 1 +
 * L go): the same rows at every element and every watermark, and the same
 * late rows, with snapshots and restores at random points.
 */
#define M_KEYS 3
#define M_MAX 64
struct msess { int64_t s, e, cnt, sum; };
struct model {
	int64_t wm, gap, L;
	unsigned int n[M_KEYS];
	struct msess ss[M_KEYS][M_MAX];
	char out[64][64];
	unsigned int n_out, n_late;
};

static void
m_emit(struct model *m, int k, const struct msess *x)
{
	assert_true(m->n_out < 64);
	snprintf(m->out[m->n_out++], sizeof(m->out[0]), "k%d,%lld,%lld,%lld,%lld", k,
		 (long long)x->s, (long long)x->e, (long long)x->cnt, (long long)x->sum);
}

static void
m_elem(struct model *m, int k, int64_t v, int64_t ts)
{
	struct msess a = { ts, ts + m->gap, 1, v };
	unsigned int keep = 0;
	bool merged = false;

	m->n_out = 0;
	for (unsigned int i = 0; i < m->n[k]; i++) {
		struct msess *x = &m->ss[k][i];

		if (x->s <= a.e && x->e >= a.s) {	/* touching merges */
			a.s = x->s < a.s ? x->s : a.s;
			a.e = x->e > a.e ? x->e : a.e;
			a.cnt += x->cnt;
			a.sum += x->sum;
			merged = true;
		} else {
			m->ss[k][keep++] = *x;
		}
	}
	if (!merged && a.e - 1 + m->L <= m->wm) {
		m->n_late++;
		return;
	}
	assert_true(a.e - 1 + m->L > m->wm);	/* R3.6: never a late merge */
	assert_true(keep < M_MAX);
	m->ss[k][keep++] = a;
	m->n[k] = keep;
	if (a.e - 1 <= m->wm)
		m_emit(m, k, &a);
}

static void
m_wm(struct model *m, int64_t wm)
{
	m->n_out = 0;
	for (int k = 0; k < M_KEYS; k++) {
		unsigned int keep = 0;

		for (unsigned int i = 0; i < m->n[k]; i++) {
			struct msess *x = &m->ss[k][i];

			if (x->e - 1 > m->wm && x->e - 1 <= wm)
				m_emit(m, k, x);
			if (x->e - 1 + m->L > wm)
				m->ss[k][keep++] = *x;
		}
		m->n[k] = keep;
	}
	m->wm = wm;
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The fixture's rows as the model writes them, sorted. */
static void
m_check(struct fixture *f, struct model *m)
{
	char got[64][64];

	for (unsigned int i = 0; i < f->n_out; i++) {
		const struct sl_schema *o = &f->w.out;
		const uint8_t *r = f->out[i];

		snprintf(got[i], sizeof(got[0]), "%.4s,%lld,%lld,%lld,%lld", (const char *)r,
			 (long long)sl_row_get_int(r, &o->f[1]),
			 (long long)sl_row_get_int(r, &o->f[2]),
			 (long long)sl_row_get_int(r, &o->f[3]),
			 (long long)sl_row_get_int(r, &o->f[4]));
	}
	qsort(got, f->n_out, sizeof(got[0]), cmp_line);
	qsort(m->out, m->n_out, sizeof(m->out[0]), cmp_line);
	if (f->n_out != m->n_out) {
		print_message("wm %lld: operator wrote %u rows, the model %u\n",
			      (long long)m->wm, f->n_out, m->n_out);
		for (unsigned int i = 0; i < f->n_out; i++)
			print_message("  got  %s\n", got[i]);
		for (unsigned int i = 0; i < m->n_out; i++)
			print_message("  want %s\n", m->out[i]);
	}
	assert_int_equal(f->n_out, m->n_out);
	for (unsigned int i = 0; i < f->n_out; i++)
		assert_string_equal(got[i], m->out[i]);
}

static void
test_session_random_against_model(void **state)
{
	static const int64_t gaps[] = { 1, 40, 300, 1000 };
	static const int64_t lates[] = { 0, 10, 500, 3000 };
	static struct model m;
	uint64_t rng = 0x5e5510f5, late_all = 0, fired_late_all = 0;

	(void)state;
	for (int round = 0; round < 8; round++) {
		uint64_t late = 0, fired_late = 0, restores = 0;
		struct fixture f;

		memset(&m, 0, sizeof(m));
		m.gap = gaps[round % 4];
		m.L = lates[(round / 2) % 4];
		m.wm = 0;
		fx_init_session(&f, m.gap, m.L);
		n_side = 0;
		fx_wm(&f, 0);
		for (int step = 0; step < 2500; step++) {
			uint32_t r;

			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			r = (uint32_t)(rng >> 33);
			if (r % 5 == 0) {
				int64_t wm = m.wm + (int64_t)(r / 5 % 200);

				fx_wm(&f, wm);
				m_wm(&m, wm);
				m_check(&f, &m);
			} else if (r % 97 == 1) {
				/* Checkpoint here and go on from a restore. */
				struct snap_out o;

				memset(&o, 0, sizeof(o));
				take_snapshot(&f, &o, NULL);
				late += f.w.stats.late_dropped;
				fired_late += f.w.stats.late_fired;
				assert_int_equal(f.w.stats.state_errors, 0);
				fx_fini(&f);
				sess_restore(&f, &o, m.gap, m.L, 0, 127);
				restores++;
				snap_free(&o);
			} else {
				char k[4] = { 'k', (char)('0' + r % M_KEYS), 0, 0 };
				int64_t ts = m.wm - 1500 + (int64_t)(r / 16 % 2600);
				int64_t v = 1 + (int64_t)(r / 8 % 9);

				fx_late(&f);
				fx_elem(&f, k, v, ts);
				m_elem(&m, r % M_KEYS, v, ts);
				m_check(&f, &m);
			}
		}
		fx_wm(&f, SL_TS_MAX);
		m_wm(&m, INT64_MAX - 1);
		m_check(&f, &m);
		assert_int_equal(late + f.w.stats.late_dropped, m.n_late);
		assert_true(restores > 10);
		late_all += m.n_late;
		fired_late_all += fired_late + f.w.stats.late_fired;
		assert_int_equal(f.w.stats.state_errors, 0);
		assert_int_equal(f.w.stats.sessions_full_dropped, 0);
		fx_fini(&f);
	}
	/* Enough of both to mean something. */
	assert_true(late_all > 3000);
	assert_true(fired_late_all > 300);
}

/*
 * Sessions on a heap state of 2 MiB: rows past the limit are refused and
 * counted, none is lost silently (every key either fires its session or
 * has its row counted), and there is room again once they fired.
 */
static void
test_session_memory_limit(void **state)
{
	struct fixture f;
	unsigned int n_out = 0;
	char k[8];

	(void)state;
	next_gap = 100;
	fx_init_kg(&f, 0, 0, 16, 0, 127, 2u << 20);
	for (int i = 0; i < 30000; i++) {
		snprintf(k, sizeof(k), "%04x", i);
		fx_elem(&f, k, 1, 10);
	}
	sl_win_advance(&f.w, 1000, count_out, &n_out);
	if (g_backend == SL_STATE_BACKEND_HEAP) {
		assert_true(f.w.stats.state_full_dropped > 0);
		assert_int_equal(n_out + f.w.stats.state_full_dropped, 30000);
	} else {
		assert_int_equal(f.w.stats.state_full_dropped, 0);
		assert_int_equal(n_out, 30000);
	}
	f.w.stats.state_full_dropped = 0;
	n_out = 0;
	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "%04x", i);
		fx_elem(&f, k, 1, 2000);
	}
	sl_win_advance(&f.w, 3000, count_out, &n_out);
	assert_int_equal(f.w.stats.state_full_dropped, 0);
	assert_int_equal(n_out, 1000);
	assert_int_equal(f.w.stats.state_errors, 0);
	fx_fini(&f);
}

/* Sessions over two key fields out of the row's order (gathered keys). */
static void
test_session_gathered_keys(void **state)
{
	static const struct { uint32_t a, b; int64_t v, ts; } ev[] = {
		{ 1, 2, 5, 0 }, { 2, 1, 7, 40 }, { 1, 2, 6, 50 }, { 1, 2, 1, 300 },
	};
	struct sl_state_conf sc;
	struct sl_win_conf c;
	struct sl_schema in;
	struct sl_state *st;
	struct sl_vec *v;
	struct sl_win w;
	struct fixture f;	/* for its output buffer */
	char dir[64] = "", got[4][64];
	unsigned int region = 0;
	size_t at;

	(void)state;
	assert_int_equal(sl_schema_parse_spec(&in, "a:u32,v:i64,b:u32,ts:timestamp_ms", &at), 0);
	memset(&sc, 0, sizeof(sc));
	sc.backend = g_backend;
	sc.max_parallelism = 128;
	sc.last_kg = 127;
	if (g_backend == SL_STATE_BACKEND_HEAP) {
		region = region_get();
		sc.mem = pool[region].mem;
		sc.mem_len = REGION;
	} else {
		snprintf(dir, sizeof(dir), "/tmp/sl-test-window-sg-%d", (int)getpid());
		sc.dir = dir;
	}
	st = sl_state_open(&sc);
	assert_non_null(st);
	memset(&c, 0, sizeof(c));
	c.in = &in;
	c.ts_field = 3;
	c.gap = 100;
	c.n_keys = 2;
	c.key_field[0] = 2;	/* b, then a */
	c.key_field[1] = 0;
	c.n_aggs = 2;
	c.agg[0] = (struct sl_win_agg){ SL_WIN_COUNT, -1, "count" };
	c.agg[1] = (struct sl_win_agg){ SL_WIN_SUM, 1, "sum_v" };
	c.capacity = 16;
	c.max_parallelism = 128;
	c.last_kg = 127;
	assert_int_equal(sl_win_init(&w, &c, st), 0);
	v = calloc(1, sl_vec_size(in.row_size));
	assert_non_null(v);
	sl_vec_reset(v, in.row_size);
	for (uint16_t i = 0; i < 4; i++) {
		uint8_t *row = sl_vec_row(v, i), key[8];

		memset(row, 0, in.row_size);
		sl_row_set_int(row, &in.f[0], ev[i].a);
		sl_row_set_int(row, &in.f[1], ev[i].v);
		sl_row_set_int(row, &in.f[2], ev[i].b);
		sl_row_set_int(row, &in.f[3], ev[i].ts);
		sl_win_key_gather(&in, c.key_field, 2, row, key);
		v->hash[i] = sl_kg_hash(key, 8);
	}
	v->n_rows = 4;
	sl_vec_select_all(v);
	sl_win_process(&w, v);
	f.n_out = 0;
	sl_win_advance(&w, 1000, t_out, &f);
	assert_int_equal(f.n_out, 3);
	for (unsigned int i = 0; i < 3; i++)
		snprintf(got[i], sizeof(got[0]), "%lld,%lld,%lld,%lld,%lld,%lld",
			 (long long)sl_row_get_int(f.out[i], &w.out.f[0]),
			 (long long)sl_row_get_int(f.out[i], &w.out.f[1]),
			 (long long)sl_row_get_int(f.out[i], &w.out.f[2]),
			 (long long)sl_row_get_int(f.out[i], &w.out.f[3]),
			 (long long)sl_row_get_int(f.out[i], &w.out.f[4]),
			 (long long)sl_row_get_int(f.out[i], &w.out.f[5]));
	qsort(got, 3, sizeof(got[0]), cmp_line);
	/* b, a, window_start, window_end, count, sum_v */
	assert_string_equal(got[0], "1,2,40,140,1,7");
	assert_string_equal(got[1], "2,1,0,150,2,11");
	assert_string_equal(got[2], "2,1,300,400,1,1");
	sl_win_fini(&w);
	sl_state_close(st);
	free(v);
	if (g_backend == SL_STATE_BACKEND_HEAP) {
		pool[region].busy = false;
	} else {
		char cmd[96];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

/* More sessions in flight for one key than a set holds: refused, counted. */
static void
test_session_set_full(void **state)
{
	struct fixture f;
	unsigned int n_out = 0;

	(void)state;
	fx_init_session(&f, 10, 0);
	for (int i = 0; i < SL_WIN_SESS_MAX + 2; i++)
		fx_elem(&f, "k", 1, 100 * i);
	assert_int_equal(f.w.stats.sessions_full_dropped, 2);
	sl_win_advance(&f.w, SL_TS_MAX, count_out, &n_out);
	assert_int_equal(n_out, SL_WIN_SESS_MAX);
	/* Cleaned: the key takes sessions again. */
	fx_elem(&f, "k", 1, 1);
	assert_int_equal(f.w.stats.sessions_full_dropped, 2);
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
	c.max_parallelism = 128;
	c.first_kg = 0;
	c.last_kg = 128;			/* past the last key group */
	c.size = 10000;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), -EINVAL);
	c.last_kg = 127;
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
	/* Sessions: a gap > 0 and no size, offset or count/continuous
	 * trigger; no first/last. */
	c.agg[0] = (struct sl_win_agg){ SL_WIN_COUNT, -1, "count" };
	c.size = 0;
	c.gap = 3000;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), 0);
	c.gap = -1;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), -EINVAL);
	c.gap = 3000;
	c.offset = 100;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), -EINVAL);
	c.offset = 0;
	c.continuous = 1000;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), 0);
	c.continuous = 0;
	c.count_trigger = 2;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), 0);
	c.count_trigger = 0;
	c.agg[0] = (struct sl_win_agg){ SL_WIN_LAST, 0, "last_k" };
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), 0);
	/* Processing time: tumbling, sliding or sessions, no lateness, no
	 * other trigger. */
	c.agg[0] = (struct sl_win_agg){ SL_WIN_COUNT, -1, "count" };
	c.processing_time = true;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), 0);
	c.lateness = 1;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), -EINVAL);
	c.lateness = 0;
	c.gap = 0;
	c.size = 10000;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), 0);
	c.lateness = 1;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), -EINVAL);
	c.lateness = 0;
	c.count_trigger = 2;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), 0);
	c.count_trigger = 0;
	c.continuous = 100;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), 0);
	c.continuous = 0;
	c.slide = 1000;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), 0);
}

/* The processing-time clock reads now: what fired, sorted. */
static void
fx_pt(struct fixture *f, int64_t now)
{
	f->n_out = 0;
	sl_win_advance_processing_time(&f->w, now, t_out, f);
	qsort(f->out, f->n_out, sizeof(f->out[0]), cmp_res);
}

/*
 * R4.1/R4.2, TumblingProcessingTimeWindows.of(3000) with
 * ProcessingTimeTrigger: rows go to the window of the clock (their own
 * timestamps, even none, are ignored); [0, 3000) fires once the clock
 * passes 2999, not at 2999; watermarks fire nothing; end of input fires
 * the rest; nothing is ever late.
 */
static void
test_R4_1_ptime_tumbling(void **state)
{
	struct fixture f;

	(void)state;
	next_ptime = true;
	fx_init(&f, 3000, 0, 64);
	fx_pt(&f, 1000);
	assert_int_equal(f.n_out, 0);
	fx_elem(&f, "key1", 1, 999999);
	fx_elem(&f, "key2", 5, INT64_MIN);	/* no timestamp at all */
	fx_wm(&f, 999999);			/* a watermark: nothing */
	assert_int_equal(f.n_out, 0);
	fx_pt(&f, 2999);
	assert_int_equal(f.n_out, 0);
	fx_elem(&f, "key1", 2, -5);		/* still [0, 3000) */
	fx_pt(&f, 2999);
	fx_pt(&f, 3000);			/* the timer at 2999 is due */
	assert_int_equal(f.n_out, 2);
	assert_string_equal(fx_res(&f, 0), "key1,0,3000,2,3,1,2,1.5");
	assert_string_equal(fx_res(&f, 1), "key2,0,3000,1,5,5,5,5");
	fx_elem(&f, "key2", 7, 0);		/* the clock's 3000: [3000, 6000) */
	fx_pt(&f, 2000);			/* a clock going back changes nothing */
	fx_elem(&f, "key2", 1, 0);
	fx_pt(&f, 5999);
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 100000);
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, SL_TS_MAX);			/* end of input */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "key2,3000,6000,2,8,1,7,4");
	fx_pt(&f, 100000);
	assert_int_equal(f.n_out, 0);
	assert_int_equal(f.w.stats.windows_fired, 2);
	assert_int_equal(f.w.stats.late_dropped, 0);
	assert_int_equal(f.w.stats.rows_in, 5);
	fx_fini(&f);

	/* With an offset: windows [s, s + 3000) with s = 500 mod 3000; a
	 * clock that jumps over several windows fires them all, in order. */
	next_ptime = true;
	fx_init(&f, 3000, 500, 64);
	fx_pt(&f, 400);
	fx_elem(&f, "a", 1, 0);			/* [-2500, 500) */
	fx_pt(&f, 500);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "a,-2500,500,1,1,1,1,1");
	fx_elem(&f, "a", 1, 0);			/* [500, 3500) */
	fx_pt(&f, 3600);
	fx_elem(&f, "a", 2, 0);			/* [3500, 6500) */
	fx_pt(&f, 9600);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "a,3500,6500,1,2,2,2,2");
	fx_fini(&f);
}

/*
 * SlidingProcessingTimeWindows.of(3000, 1000): a row at clock 2500 is in
 * [0, 3000), [1000, 4000) and [2000, 5000), each fired as the clock
 * passes its end - 1; with a gap (size 1000, slide 2000) a row at a clock
 * in the gap is in no window.
 */
static void
test_R4_1_ptime_sliding(void **state)
{
	static const struct { int64_t now; const char *res; } fire[] = {
		{ 2999, NULL }, { 3000, "k,0,3000,1,1,1,1,1" },
		{ 3999, NULL }, { 4000, "k,1000,4000,2,3,1,2,1.5" },
		{ 5000, "k,2000,5000,2,3,1,2,1.5" },
		{ 6000, "k,3000,6000,1,2,2,2,2" },
	};
	struct fixture f;

	(void)state;
	next_ptime = true;
	fx_init_sliding(&f, 3000, 1000, 0);
	fx_pt(&f, 2500);
	fx_elem(&f, "k", 1, 0);
	fx_pt(&f, 3000);
	assert_int_equal(f.n_out, 1);
	fx_elem(&f, "k", 2, 0);			/* [1000, 4000) .. [3000, 6000) */
	for (unsigned int i = 0; i < sizeof(fire) / sizeof(fire[0]); i++) {
		fx_pt(&f, fire[i].now);
		if (fire[i].res == NULL) {
			assert_int_equal(f.n_out, 0);
		} else if (fire[i].now > 3000) {
			assert_int_equal(f.n_out, 1);
			assert_string_equal(fx_res(&f, 0), fire[i].res);
		}
	}
	assert_int_equal(f.w.stats.windows_fired, 4);
	fx_fini(&f);

	next_ptime = true;
	fx_init_sliding(&f, 1000, 2000, 0);
	fx_pt(&f, 1500);
	fx_elem(&f, "k", 1, 0);			/* in the gap [1000, 2000) */
	fx_pt(&f, 2500);
	fx_elem(&f, "k", 4, 0);			/* [2000, 3000) */
	fx_wm(&f, SL_TS_MAX);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,2000,3000,1,4,4,4,4");
	assert_int_equal(f.w.stats.late_dropped, 0);
	fx_fini(&f);
}

/*
 * R4.7: a checkpoint holds the open processing-time windows; restored
 * where the clock has passed their end, they fire at the first advance,
 * and the restored instance keeps assigning by its own clock.
 */
static void
test_R4_7_ptime_snapshot_restore(void **state)
{
	static struct snap_out o;
	struct fixture a, b;

	(void)state;
	memset(&o, 0, sizeof(o));
	next_ptime = true;
	fx_init(&a, 1000, 0, 64);
	fx_pt(&a, 1500);
	fx_elem(&a, "x", 3, 0);
	fx_elem(&a, "y", 4, 0);
	take_snapshot(&a, &o, NULL);
	fx_fini(&a);

	next_ptime = true;
	fx_init(&b, 1000, 0, 64);
	fx_pt(&b, 1700);			/* nothing open yet */
	restore_into(&b, &o, 0, 127);
	assert_int_equal(sl_win_restore_done(&b.w), 0);
	fx_elem(&b, "x", 1, 0);			/* same window [1000, 2000) */
	fx_pt(&b, 1999);
	assert_int_equal(b.n_out, 0);
	fx_pt(&b, 7000);			/* overdue: fires at once */
	assert_int_equal(b.n_out, 2);
	assert_string_equal(fx_res(&b, 0), "x,1000,2000,2,4,1,3,2");
	assert_string_equal(fx_res(&b, 1), "y,1000,2000,1,4,4,4,4");
	fx_fini(&b);
	snap_free(&o);
}

/* ------------------------------------------------------------------ */
/* Section 2 and 3 rules, one test each (semantics.md R2.x, R3.x).     */

/* R2.1: a window is [start, end); end - 1 is the largest timestamp in it,
 * and elements of the same (start, end) share one window. */
static void
test_R2_1_time_window(void **state)
{
	struct fixture f;

	(void)state;
	fx_init(&f, 1000, 0, 64);
	fx_elem(&f, "k", 1, 0);
	fx_elem(&f, "k", 2, 999);		/* end - 1: inside */
	fx_elem(&f, "k", 4, 1000);		/* end: the next window */
	fx_wm(&f, 998);
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 999);				/* maxTimestamp() */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,1000,2,3,1,2,1.5");
	fx_wm(&f, 1999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,1000,2000,1,4,4,4,4");
	assert_int_equal(f.w.stats.windows_fired, 2);
	fx_fini(&f);
}

/* R2.2: start = floor((ts - offset) / size) * size + offset, also for
 * negative timestamps (FLINK-26334: -7000 with size 5000 is -10000). */
static void
test_R2_2_window_start(void **state)
{
	volatile int64_t size = 5000;	/* not folded at build time */

	(void)state;
	assert_int_equal(sl_window_start(-7000, 0, size), -10000);
	assert_int_equal(sl_window_start(-5000, 0, size), -5000);
	assert_int_equal(sl_window_start(-1, 0, size), -5000);
	assert_int_equal(sl_window_start(4999, 0, size), 0);
	assert_int_equal(sl_window_start(-7000, 1000, size), -9000);
	assert_int_equal(sl_window_start(-7000, -1000, size), -11000);
	for (int64_t ts = -20011; ts <= 20011; ts += 7)
		for (int64_t off = -4999; off <= 4999; off += 1111) {
			int64_t q = ts - off, fl = q / 5000 - (q % 5000 < 0);

			assert_int_equal(sl_window_start(ts, off, size), fl * 5000 + off);
		}
}

/* R2.3: |offset| < size, and a negative offset shifts alignment: daily
 * windows with offset -8 h start at 00:00 UTC+8 (16:00 UTC). sluice's
 * stagger is ALIGNED (0), the default; NATURAL and RANDOM are not offered. */
static void
test_R2_3_tumbling_offsets(void **state)
{
	const int64_t day = 86400000, h8 = 8 * 3600000;
	const int64_t d0 = 1704038400000;	/* 2023-12-31T16:00Z = 2024-01-01T00:00+08 */
	struct sl_schema in, out;
	struct sl_win_conf c;
	struct fixture f;
	char msg[128];
	size_t at;

	(void)state;
	fx_init(&f, day, -h8, 64);
	fx_elem(&f, "k", 1, d0 + 5 * 3600000);
	fx_elem(&f, "k", 1, d0 - 1);		/* the day before, in UTC+8 */
	fx_wm(&f, SL_TS_MAX);
	assert_int_equal(f.n_out, 2);
	assert_int_equal(sl_row_get_int(f.out[0], &f.w.out.f[1]), d0 - day);
	assert_int_equal(sl_row_get_int(f.out[1], &f.w.out.f[1]), d0);
	assert_int_equal(sl_row_get_int(f.out[1], &f.w.out.f[2]), d0 + day);
	fx_fini(&f);

	assert_int_equal(sl_schema_parse_spec(&in, "k:u64,ts:timestamp_ms", &at), 0);
	memset(&c, 0, sizeof(c));
	c.in = &in;
	c.ts_field = 1;
	c.n_keys = 1;
	c.n_aggs = 1;
	c.agg[0] = (struct sl_win_agg){ SL_WIN_COUNT, -1, "count" };
	c.capacity = 16;
	c.max_parallelism = 128;
	c.last_kg = 127;
	c.size = 1000;
	c.offset = 999;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), 0);
	c.offset = -999;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), 0);
	c.offset = 1000;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), -EINVAL);
	c.offset = -1000;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), -EINVAL);
	c.offset = 0;
	c.size = -1000;				/* also rejected by |offset| < size */
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), -EINVAL);
}

/* R2.4: |offset| < slide; each element is in size/slide windows when the
 * slide divides the size, else floor or ceil of it by phase; with a gap
 * (slide > size) an element in no window vanishes: not late, not counted. */
static void
test_R2_4_sliding_rules(void **state)
{
	struct sl_schema in, out;
	struct sl_win_conf c;
	struct fixture f;
	char msg[128];
	size_t at;

	(void)state;
	for (int64_t ts = 0; ts < 30; ts++) {
		const char *w = sliding_starts(10, 3, 0, ts);
		unsigned int n = *w != '\0';

		for (const char *p = w; *p; p++)
			n += *p == ' ';
		/* phase ts mod 3: 0 -> 4 windows, else 3 (floor 3, ceil 4) */
		assert_int_equal(n, ts % 3 == 0 ? 4 : 3);
	}
	for (int64_t ts = -12; ts < 12; ts++) {
		const char *w = sliding_starts(3000, 1000, 0, ts * 250);
		unsigned int n = 1;

		for (const char *p = w; *p; p++)
			n += *p == ' ';
		assert_int_equal(n, 3);		/* size/slide */
	}
	next_slide = 5;
	fx_init(&f, 2, 0, 64);
	fx_elem(&f, "k", 1, 3);			/* in [0,2) no, [5,7) no */
	fx_elem(&f, "k", 1, 6);
	fx_wm(&f, SL_TS_MAX);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,5,7,1,1,1,1,1");
	assert_int_equal(f.w.stats.late_dropped, 0);
	assert_int_equal(f.w.stats.rows_in, 2);
	fx_fini(&f);

	assert_int_equal(sl_schema_parse_spec(&in, "k:u64,ts:timestamp_ms", &at), 0);
	memset(&c, 0, sizeof(c));
	c.in = &in;
	c.ts_field = 1;
	c.n_keys = 1;
	c.n_aggs = 1;
	c.agg[0] = (struct sl_win_agg){ SL_WIN_COUNT, -1, "count" };
	c.capacity = 16;
	c.max_parallelism = 128;
	c.last_kg = 127;
	c.size = 5000;
	c.slide = 1000;
	c.offset = 999;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), 0);
	c.offset = 1000;			/* |offset| >= slide */
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), -EINVAL);
	c.offset = 0;
	c.slide = -1000;
	assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), -EINVAL);
}

/* R2.6: an event-time window fires on watermarks only (the dataplane
 * never passes it the clock); a processing-time window fires on the
 * clock, never on watermarks. GlobalWindows are not offered. */
static void
test_R2_6_default_triggers(void **state)
{
	struct fixture f;

	(void)state;
	fx_init(&f, 1000, 0, 64);
	fx_elem(&f, "k", 1, 500);
	fx_elem(&f, "k", 1, 5000);		/* later rows fire nothing */
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 999);
	assert_int_equal(f.n_out, 1);
	fx_fini(&f);

	next_ptime = true;
	fx_init(&f, 1000, 0, 64);
	fx_pt(&f, 500);
	fx_elem(&f, "k", 1, 500);
	fx_wm(&f, INT64_MAX / 2);
	assert_int_equal(f.n_out, 0);
	fx_pt(&f, 1000);
	assert_int_equal(f.n_out, 1);
	fx_fini(&f);
}

/* R2.7 + R3.3: an element for a window whose end - 1 <= WM (within the
 * allowed lateness) fires it at once with its whole contents and sets no
 * timer: a later watermark does not fire it again, cleanup does not emit. */
static void
test_R2_7_event_time_trigger(void **state)
{
	struct fixture f;

	(void)state;
	next_lateness = 1000;
	fx_init(&f, 2000, 0, 64);
	fx_late(&f);
	fx_elem(&f, "k", 3, 100);
	fx_wm(&f, 1999);			/* onEventTime(1999): FIRE */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,2000,1,3,3,3,3");
	f.n_out = 0;
	fx_elem(&f, "k", 4, 1500);		/* onElement, maxTimestamp <= WM */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,2000,2,7,3,4,3.5");
	fx_wm(&f, 2500);
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 2999);			/* cleanup time: nothing out */
	assert_int_equal(f.n_out, 0);
	assert_int_equal(f.w.n_open, 0);
	assert_int_equal(f.w.stats.windows_fired, 1);
	assert_int_equal(f.w.stats.late_fired, 1);
	fx_fini(&f);
}

/* R2.8: window [0, 3000) fires at WM(2999), not at WM(2998); a watermark
 * that passes several ends fires each of them once. */
static void
test_R2_8_when_a_window_fires(void **state)
{
	struct fixture f;

	(void)state;
	fx_init(&f, 3000, 0, 64);
	fx_elem(&f, "k", 1, 0);
	fx_elem(&f, "k", 1, 3000);
	fx_elem(&f, "k", 1, 6000);
	fx_wm(&f, 2998);
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 2999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,3000,1,1,1,1,1");
	fx_wm(&f, 9000);
	assert_int_equal(f.n_out, 2);
	assert_string_equal(fx_res(&f, 0), "k,3000,6000,1,1,1,1,1");
	assert_string_equal(fx_res(&f, 1), "k,6000,9000,1,1,1,1,1");
	fx_fini(&f);
}

/* R2.9: one result per fired window with its running aggregate; windows
 * that no element created never fire. */
static void
test_R2_9_emission(void **state)
{
	struct fixture f;

	(void)state;
	fx_init(&f, 1000, 0, 64);
	fx_elem(&f, "a", 2, 10);
	fx_elem(&f, "a", 5, 20);
	fx_elem(&f, "b", 7, 9500);
	fx_wm(&f, 20000);
	assert_int_equal(f.n_out, 2);		/* not 20 windows */
	assert_string_equal(fx_res(&f, 0), "a,0,1000,2,7,2,5,3.5");
	assert_string_equal(fx_res(&f, 1), "b,9000,10000,1,7,7,7,7");
	assert_int_equal(f.w.stats.windows_fired, 2);
	fx_fini(&f);
}

/* R2.10 + R3.2: per element, each of its windows is skipped if late and
 * added to otherwise; only an element added to no window and late goes to
 * the late side output (or is counted as dropped without one). */
static void
test_R2_10_element_order(void **state)
{
	struct fixture f;

	(void)state;
	next_slide = 1000;
	fx_init(&f, 3000, 0, 64);
	fx_late(&f);
	n_side = 0;
	sl_win_set_late_rows(&f.w, side_row, &f);
	fx_elem(&f, "k", 1, 2500);		/* [0,3000) [1000,4000) [2000,5000) */
	fx_wm(&f, 2999);
	assert_int_equal(f.n_out, 1);
	f.n_out = 0;
	fx_elem(&f, "k", 2, 2000);		/* [0,3000) late; the other two not */
	assert_int_equal(f.n_out, 0);
	assert_int_equal(n_side, 0);
	assert_int_equal(f.w.stats.late_dropped, 0);
	fx_elem(&f, "k", 4, 999);		/* only [0,3000) and [-1000,2000): late */
	assert_int_equal(n_side, 1);
	assert_string_equal(side[0], "k:4@999");
	assert_int_equal(f.w.stats.late_dropped, 1);
	fx_wm(&f, SL_TS_MAX);
	assert_int_equal(f.n_out, 2);
	assert_string_equal(fx_res(&f, 0), "k,1000,4000,2,3,1,2,1.5");
	assert_string_equal(fx_res(&f, 1), "k,2000,5000,2,3,1,2,1.5");
	fx_fini(&f);
}

/* R3.2: without a late side output a late element is dropped and counted
 * (numLateRecordsDropped), with one it leaves with its value and
 * timestamp; the element's other windows are unaffected. */
static void
test_R3_2_drop_and_side_output(void **state)
{
	struct fixture f;

	(void)state;
	fx_init(&f, 1000, 0, 64);
	fx_elem(&f, "k", 1, 1500);
	fx_wm(&f, 999);
	fx_elem(&f, "k", 9, 999);		/* late, no side output */
	assert_int_equal(f.w.stats.late_dropped, 1);
	fx_wm(&f, 1999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,1000,2000,1,1,1,1,1");
	fx_fini(&f);

	fx_init(&f, 1000, 0, 64);
	n_side = 0;
	sl_win_set_late_rows(&f.w, side_row, &f);
	fx_wm(&f, 999);
	fx_elem(&f, "k", 9, 998);
	fx_elem(&f, "k", 8, 999);
	fx_elem(&f, "k", 7, 1000);		/* not late */
	assert_int_equal(n_side, 2);
	assert_string_equal(side[0], "k:9@998");
	assert_string_equal(side[1], "k:8@999");
	assert_int_equal(f.w.stats.late_dropped, 2);
	fx_wm(&f, 1999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,1000,2000,1,7,7,7,7");
	fx_fini(&f);
}

/* R3.3: each late firing carries the whole contents so far and replaces
 * the earlier result of the same (key, window). */
static void
test_R3_3_late_firing(void **state)
{
	struct fixture f;

	(void)state;
	next_lateness = 5000;
	fx_init(&f, 1000, 0, 64);
	fx_late(&f);
	fx_elem(&f, "k", 1, 0);
	fx_wm(&f, 999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,1000,1,1,1,1,1");
	for (int i = 2; i <= 4; i++) {
		f.n_out = 0;
		fx_elem(&f, "k", i, 100 * i);
		assert_int_equal(f.n_out, 1);
	}
	/* count 4, sum 1+2+3+4 */
	assert_string_equal(fx_res(&f, 0), "k,0,1000,4,10,1,4,2.5");
	assert_int_equal(f.w.stats.late_fired, 3);
	fx_fini(&f);
}

/* R3.4: the cleanup timer at end - 1 + L removes the window's state; with
 * L = 0 one timer fires and cleans. */
static void
test_R3_4_cleanup(void **state)
{
	struct fixture f;

	(void)state;
	next_lateness = 700;
	fx_init(&f, 1000, 0, 64);
	fx_late(&f);
	fx_elem(&f, "a", 1, 10);
	fx_elem(&f, "b", 1, 20);
	fx_wm(&f, 999);
	assert_int_equal(f.n_out, 2);
	assert_int_equal(f.w.n_open, 1);
	fx_wm(&f, 1698);			/* cleanupTime 1699: kept */
	assert_int_equal(f.w.n_open, 1);
	fx_wm(&f, 1699);
	assert_int_equal(f.w.n_open, 0);
	assert_int_equal(f.n_out, 0);
	f.n_out = 0;
	fx_elem(&f, "a", 1, 999);		/* the window is gone: late */
	assert_int_equal(f.n_out, 0);
	assert_int_equal(f.w.stats.late_dropped, 1);
	fx_fini(&f);

	fx_init(&f, 1000, 0, 64);		/* L = 0 */
	fx_elem(&f, "a", 1, 10);
	fx_wm(&f, 999);
	assert_int_equal(f.n_out, 1);
	assert_int_equal(f.w.n_open, 0);
	fx_fini(&f);
}

/*
 * TumblingProcessingTimeWindows.of(1000) with CountTrigger.of(2) in place
 * of ProcessingTimeTrigger: a key's window fires at its 2nd, 4th, ... row
 * (the clock's window, whatever the rows' timestamps), never when the
 * clock passes its end, where it is removed without output.
 */
static void
test_R2_6_count_trigger_processing_time(void **state)
{
	struct fixture f;

	(void)state;
	next_ptime = true;
	next_count_trigger = 2;
	fx_init(&f, 1000, 0, 64);
	fx_late(&f);
	fx_pt(&f, 100);
	fx_elem(&f, "a", 1, 999999);
	assert_int_equal(f.n_out, 0);
	fx_elem(&f, "a", 2, 0);			/* a's 2nd: fires */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "a,0,1000,2,3,1,2,1.5");
	f.n_out = 0;
	fx_elem(&f, "a", 3, 0);			/* a's 3rd: nothing */
	fx_elem(&f, "b", 4, 0);
	assert_int_equal(f.n_out, 0);
	fx_pt(&f, 999);
	assert_int_equal(f.n_out, 0);
	fx_pt(&f, 1000);			/* the end: removed, no output */
	assert_int_equal(f.n_out, 0);
	assert_int_equal(f.w.n_open, 0);
	assert_int_equal(f.w.stats.windows_fired, 0);
	fx_vec(&f, 2, (const char *const[]){ "b", "b" }, (const int64_t[]){ 5, 6 },
	       (const int64_t[]){ 0, 0 });	/* [1000, 2000): b's 2nd fires */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "b,1000,2000,2,11,5,6,5.5");
	fx_wm(&f, SL_TS_MAX);			/* end of input: nothing due */
	assert_int_equal(f.n_out, 0);
	assert_int_equal(f.w.stats.late_dropped, 0);
	fx_fini(&f);
}

/*
 * TumblingProcessingTimeWindows.of(1000) with
 * ContinuousProcessingTimeTrigger.of(300): a key's window fires every
 * 300 ms of the clock from its first row's time rounded down (150 -> 300,
 * 600, 900), each once the clock is past it (R4.2), and at its end as
 * ProcessingTimeTrigger would; the timers are processing-time timers in
 * the state, so a restore brings them back.
 */
static void
test_R2_6_continuous_trigger_processing_time(void **state)
{
	struct fixture f, b, *x;
	struct snap_out o;

	(void)state;
	memset(&o, 0, sizeof(o));
	for (int restore = 0; restore < 2; restore++) {
		next_ptime = true;
		next_continuous = 300;
		fx_init(&f, 1000, 0, 64);
		fx_late(&f);
		fx_pt(&f, 150);
		fx_elem(&f, "k", 1, -77);
		fx_pt(&f, 300);			/* 300 is not due until 301 */
		assert_int_equal(f.n_out, 0);
		fx_pt(&f, 301);
		assert_int_equal(f.n_out, 1);
		assert_string_equal(fx_res(&f, 0), "k,0,1000,1,1,1,1,1");
		fx_elem(&f, "k", 2, 0);
		if (restore) {
			take_snapshot(&f, &o, NULL);
			fx_fini(&f);
			next_ptime = true;
			next_continuous = 300;
			fx_init(&b, 1000, 0, 64);
			fx_late(&b);
			restore_into(&b, &o, 0, 127);
			assert_int_equal(sl_win_restore_done(&b.w), 0);
		}
		x = restore ? &b : &f;
		fx_pt(x, 650);			/* 600 */
		assert_int_equal(x->n_out, 1);
		assert_string_equal(fx_res(x, 0), "k,0,1000,2,3,1,2,1.5");
		fx_pt(x, 1000);			/* 900, then the end */
		assert_int_equal(x->n_out, 2);
		assert_string_equal(fx_res(x, 0), "k,0,1000,2,3,1,2,1.5");
		assert_string_equal(fx_res(x, 1), "k,0,1000,2,3,1,2,1.5");
		assert_int_equal(x->w.n_open, 0);
		fx_wm(x, SL_TS_MAX);
		assert_int_equal(x->n_out, 0);
		fx_fini(x);
	}
	snap_free(&o);
}

/*
 * Session windows with CountTrigger.of(3) (gap 3000, L = 0): the
 * trigger's count is per session, summed when sessions merge
 * (Trigger.onMerge merges its ReducingState), and a session fires at the
 * row that brings it to 3 or more since its last firing, with all it
 * holds; never when the watermark passes its end, where it is cleaned up.
 */
static void
test_R2_5_session_count_trigger_merges(void **state)
{
	struct fixture f;

	(void)state;
	next_count_trigger = 3;
	fx_init_session(&f, 3000, 0);
	fx_elem(&f, "k", 1, 0);			/* [0, 3000): 1 */
	fx_elem(&f, "k", 2, 1000);		/* [0, 4000): 2 */
	fx_elem(&f, "k", 3, 5000);		/* [5000, 8000): 1 */
	assert_int_equal(f.n_out, 0);
	fx_elem(&f, "k", 4, 2500);		/* merges both: 2 + 1 + 1 = 4 >= 3 */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,8000,4,10,1,4,2.5");
	f.n_out = 0;
	fx_elem(&f, "k", 5, 7000);		/* 1 since the firing */
	fx_elem(&f, "k", 6, 6000);		/* 2 */
	fx_elem(&f, "j", 7, 100);		/* another key: 1 */
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 9999);			/* the ends: cleaned up, no output */
	assert_int_equal(f.n_out, 0);
	assert_int_equal(f.w.stats.windows_fired, 0);
	fx_late(&f);
	fx_elem(&f, "k", 8, 20000);
	fx_elem(&f, "k", 9, 20001);
	fx_elem(&f, "k", 10, 20002);		/* a new session's 3rd row */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,20000,23002,3,27,8,10,9");
	fx_wm(&f, SL_TS_MAX);
	assert_int_equal(f.n_out, 0);
	assert_int_equal(f.w.stats.late_dropped, 0);
	fx_fini(&f);

	/* With L = 2000 a row into a session past its end but not yet
	 * cleaned up counts and may fire it (no EventTimeTrigger firing at
	 * once: CountTrigger decides). */
	next_count_trigger = 2;
	fx_init_session(&f, 3000, 2000);
	fx_elem(&f, "k", 1, 0);			/* [0, 3000) */
	fx_wm(&f, 3500);			/* past its end: nothing */
	assert_int_equal(f.n_out, 0);
	fx_late(&f);
	fx_elem(&f, "k", 2, 100);		/* [0, 3100): its 2nd row fires */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,3100,2,3,1,2,1.5");
	assert_int_equal(f.w.stats.late_fired, 0);
	fx_wm(&f, 5099);			/* cleaned up without output */
	assert_int_equal(f.n_out, 0);
	fx_elem(&f, "k", 3, -1000);		/* [-1000, 2000): late now */
	assert_int_equal(f.w.stats.late_dropped, 1);
	assert_int_equal(f.n_out, 0);
	fx_fini(&f);

	/* Processing time: the same trigger on the clock's sessions. */
	next_ptime = true;
	next_count_trigger = 2;
	fx_init_session(&f, 100, 0);
	fx_pt(&f, 10);
	fx_elem(&f, "k", 1, 0);
	fx_pt(&f, 20);
	fx_late(&f);
	fx_elem(&f, "k", 2, 0);			/* [10, 120): 2nd row fires */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,10,120,2,3,1,2,1.5");
	fx_pt(&f, 200);				/* cleaned up, no output */
	assert_int_equal(f.n_out, 0);
	fx_fini(&f);
}

/*
 * Session windows (gap 3000) with ContinuousEventTimeTrigger.of(1000):
 * a session's next firing is its first row's time rounded down plus the
 * interval, then every interval, capped at its end - 1 (which fires as
 * the end does, once); it moves with the session as the session grows,
 * and when sessions merge the earliest of theirs is the merged one's
 * (Trigger.onMerge: ReducingState with Min), each firing once.
 */
static void
test_R2_5_session_continuous_trigger_merges(void **state)
{
	struct fixture f;

	(void)state;
	next_continuous = 1000;
	fx_init_session(&f, 3000, 0);
	fx_elem(&f, "k", 1, 500);		/* [500, 3500): next 1000 */
	fx_wm(&f, 999);
	assert_int_equal(f.n_out, 0);
	fx_wm(&f, 1000);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,500,3500,1,1,1,1,1");
	fx_elem(&f, "k", 2, 2500);		/* grows to [500, 5500) */
	fx_wm(&f, 2000);			/* the timer moved with it */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,500,5500,2,3,1,2,1.5");
	fx_wm(&f, 4000);			/* 3000 and 4000 in one advance */
	assert_int_equal(f.n_out, 2);
	fx_wm(&f, 5499);			/* 5000, then the end (5499) once */
	assert_int_equal(f.n_out, 2);
	assert_string_equal(fx_res(&f, 1), "k,500,5500,2,3,1,2,1.5");
	fx_wm(&f, 9999);
	assert_int_equal(f.n_out, 0);
	fx_fini(&f);

	/* Two sessions with next firings 1000 and 5000 merge: the merged
	 * one fires at 1000, 2000, ... 6000 and at its end, once each. */
	next_continuous = 1000;
	fx_init_session(&f, 3000, 0);
	fx_elem(&f, "j", 1, 0);			/* A [0, 3000): 1000 */
	fx_elem(&f, "j", 2, 4000);		/* B [4000, 7000): 5000 */
	fx_elem(&f, "j", 3, 2000);		/* A + B: [0, 7000), next 1000 */
	fx_wm(&f, 999);
	assert_int_equal(f.n_out, 0);
	{
		static const int64_t wms[] = { 1000, 2000, 3000, 4000, 5000, 6000, 6999 };
		static const unsigned int n[] = { 1, 1, 1, 1, 1, 1, 1 };

		for (unsigned int i = 0; i < 7; i++) {
			fx_wm(&f, wms[i]);
			assert_int_equal(f.n_out, n[i]);
			assert_string_equal(fx_res(&f, 0), "j,0,7000,3,6,1,3,2");
		}
	}
	fx_wm(&f, SL_TS_MAX);
	assert_int_equal(f.n_out, 0);
	fx_fini(&f);

	/* The same merge across a checkpoint, restored onto two instances:
	 * the next firing is state, its timers come back. */
	{
		static struct snap_out o;
		const uint8_t jb[4] = { 'j', 0, 0, 0 };
		struct fixture a, b, *x;

		memset(&o, 0, sizeof(o));
		next_continuous = 1000;
		fx_init_session(&f, 3000, 0);
		fx_elem(&f, "j", 1, 0);
		fx_elem(&f, "j", 2, 4000);
		take_snapshot(&f, &o, NULL);
		fx_fini(&f);
		next_continuous = 1000;
		next_gap = 3000;
		fx_init_kg(&a, 0, 0, 64, 0, 63, 0);
		next_continuous = 1000;
		next_gap = 3000;
		fx_init_kg(&b, 0, 0, 64, 64, 127, 0);
		restore_into(&a, &o, 0, 63);
		restore_into(&b, &o, 64, 127);
		assert_int_equal(sl_win_restore_done(&a.w), 0);
		assert_int_equal(sl_win_restore_done(&b.w), 0);
		x = sl_kg_of(sl_kg_hash(jb, 4), 128) < 64 ? &a : &b;
		fx_elem(x, "j", 3, 2000);		/* A + B after the restore */
		for (int64_t t = 1000; t <= 6000; t += 1000) {
			fx_wm(x, t);
			assert_int_equal(x->n_out, 1);
			assert_string_equal(fx_res(x, 0), "j,0,7000,3,6,1,3,2");
		}
		fx_wm(x, 6999);
		assert_int_equal(x->n_out, 1);
		fx_fini(&a);
		fx_fini(&b);
		snap_free(&o);
	}

	/* Processing time: ContinuousProcessingTimeTrigger on the clock's
	 * sessions. */
	next_ptime = true;
	next_continuous = 100;
	fx_init_session(&f, 1000, 0);
	fx_pt(&f, 50);
	fx_elem(&f, "p", 4, 0);			/* [50, 1050): next 100 */
	fx_pt(&f, 100);
	assert_int_equal(f.n_out, 0);
	fx_pt(&f, 101);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "p,50,1050,1,4,4,4,4");
	fx_pt(&f, 1050);			/* 200 .. 1000, then the end */
	assert_int_equal(f.n_out, 10);
	fx_fini(&f);
}

/*
 * R3.6: the late check is on the merged session. With L = 1000, k@1000's
 * session [1000, 4000) fires at WM(4500) and is kept until 4999; k@500,
 * whose own window [500, 3500) is late (3499 + 1000 <= 4500), touches it
 * and is absorbed: the merged [500, 4000) is not late and fires at once
 * (a late firing). j@500 touches nothing of its key and is dropped.
 */
static void
test_R3_6_session_late_check_on_merged_window(void **state)
{
	struct fixture f;

	(void)state;
	fx_init_session(&f, 3000, 1000);
	fx_elem(&f, "k", 1, 1000);
	fx_wm(&f, 4500);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,1000,4000,1,1,1,1,1");
	fx_late(&f);
	fx_elem(&f, "k", 2, 500);		/* absorbed, fires at once */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,500,4000,2,3,1,2,1.5");
	assert_int_equal(f.w.stats.late_fired, 1);
	f.n_out = 0;
	fx_elem(&f, "j", 3, 500);		/* alone and late: dropped */
	assert_int_equal(f.n_out, 0);
	assert_int_equal(f.w.stats.late_dropped, 1);
	fx_wm(&f, 4999);			/* cleaned: now k@500 is late too */
	fx_elem(&f, "k", 4, 500);
	assert_int_equal(f.w.stats.late_dropped, 2);
	fx_fini(&f);
}

/*
 * R3.7: processing-time windows are never late and ignore L (refused):
 * rows with any timestamp, far below the watermark, are counted, in
 * tumbling windows and in sessions.
 */
static void
test_R3_7_processing_time_never_late(void **state)
{
	struct fixture f;

	(void)state;
	for (int sess = 0; sess < 2; sess++) {
		next_ptime = true;
		if (sess)
			next_gap = 500;
		fx_init(&f, sess ? 0 : 1000, 0, 64);
		fx_wm(&f, 1000000);
		fx_pt(&f, 200);
		fx_elem(&f, "a", 1, -5000);
		fx_elem(&f, "a", 2, 0);
		fx_wm(&f, 2000000);
		fx_pt(&f, 2000);
		assert_int_equal(f.n_out, 1);
		assert_string_equal(fx_res(&f, 0), sess ? "a,200,700,2,3,1,2,1.5" :
				    "a,0,1000,2,3,1,2,1.5");
		assert_int_equal(f.w.stats.late_dropped, 0);
		fx_fini(&f);
	}
}

/*
 * R4.2: a processing-time timer for T fires no earlier than T + 1: the
 * window [0, 1000)'s timer at 999 fires when the clock reads 1000, not
 * 999; a clock that jumps fires every overdue window, in ascending order
 * of their timers, in one advance.
 */
static void
test_R4_2_processing_time_timer_latency(void **state)
{
	struct fixture f;

	(void)state;
	next_ptime = true;
	fx_init(&f, 1000, 0, 64);
	fx_pt(&f, 10);
	fx_elem(&f, "a", 1, 0);
	fx_pt(&f, 999);
	assert_int_equal(f.n_out, 0);
	fx_pt(&f, 1000);
	assert_int_equal(f.n_out, 1);
	fx_pt(&f, 500);				/* back in time: nothing */
	assert_int_equal(f.n_out, 0);
	fx_fini(&f);

	/* Sessions [1000, 1300) of b and [1200, 1500) of a, both overdue at
	 * 9000: b's (timer 1299) before a's (1499), as the timers order. */
	next_ptime = true;
	next_gap = 300;
	fx_init(&f, 0, 0, 64);
	fx_pt(&f, 1000);
	fx_elem(&f, "b", 3, 0);
	fx_pt(&f, 1200);
	fx_elem(&f, "a", 2, 0);
	f.n_out = 0;
	sl_win_advance_processing_time(&f.w, 9000, t_out, &f);	/* not sorted */
	assert_int_equal(f.n_out, 2);
	assert_string_equal(fx_res(&f, 0), "b,1000,1300,1,3,3,3,3");
	assert_string_equal(fx_res(&f, 1), "a,1200,1500,1,2,2,2,2");
	fx_fini(&f);
}

/*
 * R4.8 / Appendix A.4: Flink leaves processing-time windows at the end of
 * bounded input open; sluice fires them: end of input (WM(MAX)) fires
 * every open tumbling, sliding and session window, in window order.
 */
static void
test_R4_8_end_of_input_fires_processing_time_windows(void **state)
{
	struct fixture f;

	(void)state;
	for (int kind = 0; kind < 3; kind++) {
		next_ptime = true;
		if (kind == 1)
			next_slide = 500;
		if (kind == 2)
			next_gap = 300;
		fx_init(&f, kind == 2 ? 0 : 1000, 0, 64);
		fx_pt(&f, 100);
		fx_elem(&f, "a", 1, 0);
		fx_wm(&f, SL_TS_MAX - 1);		/* a watermark: nothing */
		assert_int_equal(f.n_out, 0);
		fx_wm(&f, SL_TS_MAX);
		assert_int_equal(f.n_out, kind == 1 ? 2 : 1);
		assert_string_equal(fx_res(&f, 0), kind == 0 ? "a,0,1000,1,1,1,1,1" :
				    kind == 1 ? "a,-500,500,1,1,1,1,1" : "a,100,400,1,1,1,1,1");
		fx_fini(&f);
	}
}

/*
 * restore_wm (set for top_k): after a restore, a key group's rows are
 * judged by its checkpoint's watermark until the instance's own passes
 * it, so a row late before the failure stays late and does not reopen a
 * window that fired (without it, R1.11: the watermark restarts at MIN and
 * the row would fire [0, 1000) a second time).
 */
static void
test_R3_1_restored_watermark_keeps_late_rows_late(void **state)
{
	static struct snap_out o;

	(void)state;
	for (int keep = 0; keep < 2; keep++) {
		struct fixture a, b;

		memset(&o, 0, sizeof(o));
		next_restore_wm = keep;
		fx_init(&a, 1000, 0, 64);
		fx_elem(&a, "k", 1, 500);
		fx_wm(&a, 1200);
		assert_int_equal(a.n_out, 1);
		fx_elem(&a, "k", 2, 800);		/* late */
		assert_int_equal(a.w.stats.late_dropped, 1);
		fx_elem(&a, "k", 3, 1500);
		take_snapshot(&a, &o, NULL);
		fx_fini(&a);
		next_restore_wm = keep;
		fx_init(&b, 1000, 0, 64);
		restore_into(&b, &o, 0, 127);
		assert_int_equal(sl_win_restore_done(&b.w), 0);
		fx_elem(&b, "k", 4, 900);		/* late before the failure */
		assert_int_equal(b.w.stats.late_dropped, keep ? 1 : 0);
		fx_wm(&b, SL_TS_MAX);
		if (keep) {
			assert_int_equal(b.n_out, 1);
			assert_string_equal(fx_res(&b, 0), "k,1000,2000,1,3,3,3,3");
		} else {
			assert_int_equal(b.n_out, 2);
			assert_string_equal(fx_res(&b, 0), "k,0,1000,1,4,4,4,4");
		}
		fx_fini(&b);
		snap_free(&o);
	}
}

/* first/last of a session row: "first,last". */
static const char *
fx_fl(struct fixture *f, unsigned int i)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "%lld,%lld",
		 (long long)sl_row_get_int(f->out[i], &f->w.out.f[8]),
		 (long long)sl_row_get_int(f->out[i], &f->w.out.f[9]));
	return buf;
}

/*
 * first(v)/last(v) on session windows (gap 3000), in arrival order as on
 * the other windows (FIRST_VALUE/LAST_VALUE): when sessions merge, the
 * merged one's first row is the one that came first of all of theirs,
 * whatever its timestamp, and its last the row that merged them. Across
 * a restore onto two instances the arrival order goes on (the sequence
 * restarts above every restored one).
 */
static void
test_R2_5_session_first_last_arrival_order(void **state)
{
	static struct snap_out o;
	struct fixture f, b, c;

	(void)state;
	next_first_last = true;
	fx_init_session(&f, 3000, 0);
	assert_int_equal(f.w.out.n_fields, 10);
	fx_elem(&f, "k", 1, 5000);		/* A [5000, 8000) */
	fx_elem(&f, "k", 2, 0);			/* B [0, 3000) */
	fx_elem(&f, "k", 3, 1000);		/* B [0, 4000) */
	fx_elem(&f, "k", 4, 2500);		/* merges A and B */
	fx_elem(&f, "j", 9, 100);
	fx_wm(&f, 20000);
	assert_int_equal(f.n_out, 2);
	assert_string_equal(fx_res(&f, 0), "k,0,8000,4,10,1,4,2.5");
	assert_string_equal(fx_fl(&f, 0), "1,4");	/* A's row came first */
	assert_string_equal(fx_res(&f, 1), "j,100,3100,1,9,9,9,9");
	assert_string_equal(fx_fl(&f, 1), "9,9");
	fx_fini(&f);

	/* Sessions split by a checkpoint, restored onto two instances; a
	 * session after it merges into a restored one. */
	memset(&o, 0, sizeof(o));
	next_first_last = true;
	fx_init_session(&f, 3000, 0);
	fx_elem(&f, "k", 1, 5000);
	fx_elem(&f, "k", 2, 0);
	fx_elem(&f, "k", 3, 7500);		/* A [5000, 10500), last 3 */
	take_snapshot(&f, &o, NULL);
	fx_fini(&f);
	next_first_last = true;
	next_gap = 3000;
	fx_init_kg(&b, 0, 0, 64, 0, 63, 0);
	next_first_last = true;
	next_gap = 3000;
	fx_init_kg(&c, 0, 0, 64, 64, 127, 0);
	restore_into(&b, &o, 0, 63);
	restore_into(&c, &o, 64, 127);
	assert_int_equal(sl_win_restore_done(&b.w), 0);
	assert_int_equal(sl_win_restore_done(&c.w), 0);
	{
		const uint8_t kb[4] = { 'k', 0, 0, 0 };
		/* the instance that owns k's key group */
		struct fixture *x = sl_kg_of(sl_kg_hash(kb, 4), 128) < 64 ? &b : &c;

		/* C, the first session after the restore, merges with B,
		 * restored: B's row came first, C's sequence must be
		 * above it although this instance saw no row before. */
		fx_elem(x, "k", 6, -5000);	/* C [-5000, -2000) */
		fx_elem(x, "k", 4, -2000);	/* C and B: [-5000, 3000) */
		fx_wm(x, 20000);
		assert_int_equal(x->n_out, 2);
		assert_string_equal(fx_res(x, 0), "k,-5000,3000,3,12,2,6,4");
		assert_string_equal(fx_fl(x, 0), "2,4");
		assert_string_equal(fx_res(x, 1), "k,5000,10500,2,4,1,3,2");
		assert_string_equal(fx_fl(x, 1), "1,3");
	}
	fx_fini(&b);
	fx_fini(&c);
	snap_free(&o);
}

/*
 * W4.1, ProcessingTimeSessionWindows.withGap(3000) with
 * ProcessingTimeTrigger, sum: rows get the proto-window [now, now + 3000)
 * of the clock (their timestamps are ignored), sessions merge as in
 * event time, a session fires once the clock passes its end - 1 (R4.2)
 * and goes with it; watermarks fire nothing, end of input fires the rest.
 */
static void
test_W4_1_processing_time_sessions(void **state)
{
	struct fixture f;

	(void)state;
	next_ptime = true;
	next_gap = 3000;
	fx_init(&f, 0, 0, 64);
	fx_pt(&f, 3);
	fx_elem(&f, "key2", 1, 999999);		/* [3, 3003) */
	fx_pt(&f, 1000);
	fx_elem(&f, "key2", 1, INT64_MIN);	/* [1000, 4000): merges into [3, 4000) */
	fx_wm(&f, 999999);			/* a watermark: nothing */
	assert_int_equal(f.n_out, 0);
	fx_pt(&f, 3999);			/* the timer at 3999 is not due yet */
	assert_int_equal(f.n_out, 0);
	fx_pt(&f, 5000);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "key2,3,4000,2,2,1,1,1");
	fx_elem(&f, "key2", 1, 0);
	fx_elem(&f, "key2", 1, 0);
	fx_elem(&f, "key1", 1, 0);
	fx_elem(&f, "key1", 1, 0);
	fx_elem(&f, "key1", 1, 0);		/* [5000, 8000) per key */
	fx_pt(&f, 7999);
	assert_int_equal(f.n_out, 0);
	fx_pt(&f, 10000);
	assert_int_equal(f.n_out, 2);
	assert_string_equal(fx_res(&f, 0), "key1,5000,8000,3,3,1,1,1");
	assert_string_equal(fx_res(&f, 1), "key2,5000,8000,2,2,1,1,1");
	/* A row in the session's last millisecond extends it; at the clock
	 * of its end it has fired already (a row there would not touch it,
	 * it would start a session of its own). */
	fx_elem(&f, "k", 5, 0);			/* [10000, 13000) */
	fx_pt(&f, 12999);
	fx_elem(&f, "k", 7, 0);			/* [12999, 15999): merged */
	fx_pt(&f, 13000);
	assert_int_equal(f.n_out, 0);
	fx_elem(&f, "j", 1, 0);			/* [13000, 16000) */
	fx_wm(&f, SL_TS_MAX);			/* end of input */
	assert_int_equal(f.n_out, 2);
	assert_string_equal(fx_res(&f, 0), "k,10000,15999,2,12,5,7,6");
	assert_string_equal(fx_res(&f, 1), "j,13000,16000,1,1,1,1,1");
	assert_int_equal(f.w.stats.windows_fired, 5);
	assert_int_equal(f.w.stats.late_dropped, 0);
	fx_fini(&f);

	/* A restore: the sessions' timers come back and overdue ones fire
	 * at the first clock tick (R4.7). */
	{
		static struct snap_out o;
		struct fixture a, b;

		memset(&o, 0, sizeof(o));
		next_ptime = true;
		next_gap = 1000;
		fx_init(&a, 0, 0, 64);
		fx_pt(&a, 1500);
		fx_elem(&a, "x", 3, 0);
		fx_elem(&a, "y", 4, 0);
		take_snapshot(&a, &o, NULL);
		fx_fini(&a);
		next_ptime = true;
		next_gap = 1000;
		fx_init(&b, 0, 0, 64);
		restore_into(&b, &o, 0, 127);
		assert_int_equal(sl_win_restore_done(&b.w), 0);
		fx_pt(&b, 1600);
		fx_elem(&b, "x", 1, 0);		/* [1600, 2600) merges into [1500, 2600) */
		fx_pt(&b, 2500);		/* y's [1500, 2500) is due */
		assert_int_equal(b.n_out, 1);
		assert_string_equal(fx_res(&b, 0), "y,1500,2500,1,4,4,4,4");
		fx_pt(&b, 9000);
		assert_int_equal(b.n_out, 1);
		assert_string_equal(fx_res(&b, 0), "x,1500,2600,2,4,1,3,2");
		fx_fini(&b);
		snap_free(&o);
	}
}

/*
 * R3.5: PurgingTrigger.of(EventTimeTrigger) (tumbling 2000, L = 500): the
 * on-time firing purges, so each late firing holds only the rows since
 * the last firing; the cleanup of a purged window emits nothing.
 * PurgingTrigger.of(CountTrigger.of(2)): each firing holds its own two
 * rows (without purge the second would hold all four).
 */
static void
test_R3_5_purging_trigger(void **state)
{
	struct fixture f;

	(void)state;
	next_lateness = 500;
	next_purge = true;
	fx_init(&f, 2000, 0, 64);
	fx_late(&f);
	fx_elem(&f, "k", 1, 500);
	fx_elem(&f, "k", 16, 600);
	fx_wm(&f, 1999);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,2000,2,17,1,16,8.5");
	f.n_out = 0;
	fx_elem(&f, "k", 2, 1300);		/* late, within L: only itself */
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,2000,1,2,2,2,2");
	f.n_out = 0;
	fx_elem(&f, "k", 4, 1400);
	assert_int_equal(f.n_out, 1);
	assert_string_equal(fx_res(&f, 0), "k,0,2000,1,4,4,4,4");
	fx_wm(&f, 2499);			/* cleanup: nothing */
	assert_int_equal(f.n_out, 0);
	assert_int_equal(f.w.n_open, 0);
	fx_elem(&f, "k", 8, 1500);		/* past cleanup: late */
	assert_int_equal(f.w.stats.late_dropped, 1);
	assert_int_equal(f.w.stats.late_fired, 2);
	fx_fini(&f);

	for (int purge = 0; purge < 2; purge++) {
		next_count_trigger = 2;
		next_purge = purge;
		fx_init(&f, 10000, 0, 64);
		fx_late(&f);
		for (int i = 1; i <= 4; i++)
			fx_elem(&f, "k", i, i);
		assert_int_equal(f.n_out, 2);
		assert_string_equal(fx_res(&f, 0), "k,0,10000,2,3,1,2,1.5");
		assert_string_equal(fx_res(&f, 1), purge ? "k,0,10000,2,7,3,4,3.5" :
				    "k,0,10000,4,10,1,4,2.5");
		f.n_out = 0;
		fx_elem(&f, "k", 5, 5);			/* one row: no firing */
		assert_int_equal(f.n_out, 0);
		fx_wm(&f, SL_TS_MAX);			/* CountTrigger: none at the end */
		assert_int_equal(f.n_out, 0);
		fx_fini(&f);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_W2_1_assignment),
		cmocka_unit_test(test_window_start_wraps_like_java),
		cmocka_unit_test(test_W2_2_tumbling),
		cmocka_unit_test(test_W2_5_boundary),
		cmocka_unit_test(test_W2_2_sliding_windows_of_an_element),
		cmocka_unit_test(test_W2_3_sliding_non_divisible_gapped),
		cmocka_unit_test(test_W2_2_sliding),
		cmocka_unit_test(test_W3_2_sliding_partially_late),
		cmocka_unit_test(test_W3_1_zero_lateness),
		cmocka_unit_test(test_W3_1_lateness),
		cmocka_unit_test(test_W3_1_lateness_boundary),
		cmocka_unit_test(test_W3_1_lateness_restore),
		cmocka_unit_test(test_lateness_two_rows_one_vector),
		cmocka_unit_test(test_negative_and_aggregates),
		cmocka_unit_test(test_first_last),
		cmocka_unit_test(test_count_trigger),
		cmocka_unit_test(test_continuous_trigger),
		cmocka_unit_test(test_memory_limit),
		cmocka_unit_test(test_capacity_holds_after_firing),
		cmocka_unit_test(test_snapshot_restore_rescale),
		cmocka_unit_test(test_restore_old_count_layout),
		cmocka_unit_test(test_fire_during_snapshot),
		cmocka_unit_test(test_earlier_window_in_same_vector),
		cmocka_unit_test(test_wrapped_start_in_vector),
		cmocka_unit_test(test_vector_path_u64_count),
		cmocka_unit_test(test_vector_path_gathered_keys),
		cmocka_unit_test(test_W2_4_session_windows),
		cmocka_unit_test(test_W3_3_session_bridging_with_lateness),
		cmocka_unit_test(test_session_snapshot_restore),
		cmocka_unit_test(test_session_timer_forwarding),
		cmocka_unit_test(test_session_random_against_model),
		cmocka_unit_test(test_session_gathered_keys),
		cmocka_unit_test(test_session_memory_limit),
		cmocka_unit_test(test_session_set_full),
		cmocka_unit_test(test_conf_rejects),
		cmocka_unit_test(test_R4_1_ptime_tumbling),
		cmocka_unit_test(test_R4_1_ptime_sliding),
		cmocka_unit_test(test_R4_7_ptime_snapshot_restore),
		cmocka_unit_test(test_R2_1_time_window),
		cmocka_unit_test(test_R2_2_window_start),
		cmocka_unit_test(test_R2_3_tumbling_offsets),
		cmocka_unit_test(test_R2_4_sliding_rules),
		cmocka_unit_test(test_R2_6_default_triggers),
		cmocka_unit_test(test_R2_7_event_time_trigger),
		cmocka_unit_test(test_R2_8_when_a_window_fires),
		cmocka_unit_test(test_R2_9_emission),
		cmocka_unit_test(test_R2_10_element_order),
		cmocka_unit_test(test_R3_2_drop_and_side_output),
		cmocka_unit_test(test_R3_3_late_firing),
		cmocka_unit_test(test_R3_4_cleanup),
		cmocka_unit_test(test_R3_5_purging_trigger),
		cmocka_unit_test(test_W4_1_processing_time_sessions),
		cmocka_unit_test(test_R2_6_count_trigger_processing_time),
		cmocka_unit_test(test_R2_6_continuous_trigger_processing_time),
		cmocka_unit_test(test_R2_5_session_count_trigger_merges),
		cmocka_unit_test(test_R2_5_session_first_last_arrival_order),
		cmocka_unit_test(test_R2_5_session_continuous_trigger_merges),
		cmocka_unit_test(test_R3_6_session_late_check_on_merged_window),
		cmocka_unit_test(test_R3_7_processing_time_never_late),
		cmocka_unit_test(test_R4_2_processing_time_timer_latency),
		cmocka_unit_test(test_R4_8_end_of_input_fires_processing_time_windows),
		cmocka_unit_test(test_R3_1_restored_watermark_keeps_late_rows_late),
	};

	int failed;

	g_backend = SL_STATE_BACKEND_HEAP;
	failed = cmocka_run_group_tests_name("window-heap", tests, NULL, NULL);
	g_backend = SL_STATE_BACKEND_ROCKSDB;
	failed += cmocka_run_group_tests_name("window-rocksdb", tests, NULL, NULL);
	return failed;
}
