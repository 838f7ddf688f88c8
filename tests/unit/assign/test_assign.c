/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: sl_assign. Pure assignment vectors W2.1, W2.2, W2.3, the
 * W2.4 pure merge, R3.1 predicates with the C3 overflow rules, and the
 * MergingWindowSet (state window that survives a merge, retire, capacity).
 * Then the worked operator examples W2.2, W2.4, W2.5, W3.1, W3.2, W3.3
 * and W4.1, run through a small window operator written here from the
 * three new modules' parts exactly as Flink's WindowOperator composes them
 * (sl_assign + sl_timer + sl_state, EventTimeTrigger/ProcessingTimeTrigger,
 * sum of values): this is the composition a wired operator will use.
 * Equal-timestamp firings come out in sl_timer's order (key bytes, then
 * window); Flink leaves that order open (R2.11).
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

#include "sl_assign.h"
#include "sl_kg.h"
#include "sl_state.h"
#include "sl_timer.h"

#define MAXP 128
#define REGION_LEN (64u << 20)

static void *regions[2];
static char tmpdir[64];

#define ET SL_ASSIGN_EVENT_TIME
#define PT SL_ASSIGN_PROCESSING_TIME

/* ---- pure assignment --------------------------------------------------- */

static void
tumble(int64_t size, int64_t off, int64_t ts, int64_t s, int64_t e)
{
	struct sl_assign a;
	struct sl_assign_window w[1];

	assert_int_equal(sl_assign_tumbling(&a, ET, size, off), 0);
	assert_int_equal(sl_assign_windows(&a, ts, 0, w, 1), 1);
	assert_int_equal(w[0].start, s);
	assert_int_equal(w[0].end, e);
}

static void
test_W2_1_tumbling_assignment(void **state)
{
	struct sl_assign a;

	(void)state;
	tumble(5000, 0, 0, 0, 5000);
	tumble(5000, 0, 4999, 0, 5000);
	tumble(5000, 0, 5000, 5000, 10000);
	tumble(5000, 100, 100, 100, 5100);
	tumble(5000, 100, 5099, 100, 5100);
	tumble(5000, 100, 5100, 5100, 10100);
	tumble(5000, -100, 0, -100, 4900);
	tumble(5000, -100, 4899, -100, 4900);
	tumble(5000, -100, 4900, 4900, 9900);
	tumble(7, 3, 1, -4, 3);
	tumble(7, 3, 2, -4, 3);
	tumble(7, 3, 3, 3, 10);
	tumble(7, 3, 9, 3, 10);
	tumble(7, 3, 10, 10, 17);
	tumble(7, -2, 1, -2, 5);
	tumble(7, -2, -2, -2, 5);
	tumble(7, -2, 4, -2, 5);
	tumble(7, -2, 7, 5, 12);
	tumble(7, -2, 12, 12, 19);
	tumble(5000, 0, -1, -5000, 0);
	tumble(5000, 0, -5000, -5000, 0);
	tumble(5000, 0, -5001, -10000, -5000);
	tumble(5000, 0, -7000, -10000, -5000);	/* FLINK-26334 */
	tumble(86400000, -28800000, 1470902048450, 1470844800000,
	       1470844800000 + 86400000);
	assert_int_equal(sl_assign_tumbling(&a, ET, 0, 0), -EINVAL);
	assert_int_equal(sl_assign_tumbling(&a, ET, -5, 0), -EINVAL);
	assert_int_equal(sl_assign_tumbling(&a, ET, 10000, 20000), -EINVAL);
	assert_int_equal(sl_assign_tumbling(&a, ET, 10000, -11000), -EINVAL);
	assert_int_equal(sl_assign_tumbling(&a, ET, 10000, 10000), -EINVAL);
	/* no timestamp (R1.1) */
	{
		struct sl_assign_window w[1];

		assert_int_equal(sl_assign_tumbling(&a, ET, 10, 0), 0);
		assert_int_equal(sl_assign_windows(&a, INT64_MIN, 0, w, 1),
				 -EINVAL);
		/* processing time ignores the record's timestamp */
		assert_int_equal(sl_assign_tumbling(&a, PT, 10, 0), 0);
		assert_int_equal(sl_assign_windows(&a, INT64_MIN, 25, w, 1), 1);
		assert_int_equal(w[0].start, 20);
	}
	/* the window start at the ends of the range wraps like Java */
	assert_int_equal(sl_assign_window_start(INT64_MAX, 0, 10),
			 INT64_MAX - 7);
	/* Java: r = -8, MIN - 2 wraps to MAX - 1 */
	assert_int_equal(sl_assign_window_start(INT64_MIN, 0, 10),
			 INT64_MAX - 1);
}

static void
slide_starts(int64_t size, int64_t slide, int64_t off, int64_t ts,
	     const int64_t *starts, int n)
{
	struct sl_assign a;
	struct sl_assign_window w[16];

	assert_int_equal(sl_assign_sliding(&a, ET, size, slide, off), 0);
	assert_int_equal(sl_assign_windows(&a, ts, 0, w, 16), n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(w[i].start, starts[i]);
		assert_int_equal(w[i].end, starts[i] + size);
	}
}

static void
test_W2_2_sliding_assignment(void **state)
{
	(void)state;
	slide_starts(3000, 1000, 0, 0, (int64_t[]){ 0, -1000, -2000 }, 3);
	slide_starts(3000, 1000, 0, 4999, (int64_t[]){ 4000, 3000, 2000 }, 3);
	slide_starts(5000, 1000, 0, 0,
		     (int64_t[]){ 0, -1000, -2000, -3000, -4000 }, 5);
	slide_starts(5000, 1000, 0, 4999,
		     (int64_t[]){ 4000, 3000, 2000, 1000, 0 }, 5);
	slide_starts(5000, 1000, 0, 5000,
		     (int64_t[]){ 5000, 4000, 3000, 2000, 1000 }, 5);
	slide_starts(5000, 1000, 100, 100,
		     (int64_t[]){ 100, -900, -1900, -2900, -3900 }, 5);
	slide_starts(5000, 1000, -100, 0,
		     (int64_t[]){ -100, -1100, -2100, -3100, -4100 }, 5);
}

static void
test_W2_3_nondivisible_and_gapped_sliding(void **state)
{
	struct sl_assign a;
	struct sl_assign_window w[4];

	(void)state;
	slide_starts(10, 3, 0, 9, (int64_t[]){ 9, 6, 3, 0 }, 4);
	slide_starts(10, 3, 0, 10, (int64_t[]){ 9, 6, 3 }, 3);
	slide_starts(10, 3, 0, 11, (int64_t[]){ 9, 6, 3 }, 3);
	slide_starts(2, 5, 0, 3, NULL, 0);	/* in the gap: no window */
	slide_starts(2, 5, 0, 6, (int64_t[]){ 5 }, 1);
	slide_starts(10, 5, 0, -1, (int64_t[]){ -5, -10 }, 2);
	assert_int_equal(sl_assign_sliding(&a, ET, 10, 3, 0), 0);
	assert_int_equal(sl_assign_max_windows(&a), 4);
	assert_int_equal(sl_assign_windows(&a, 9, 0, w, 3), -ENOSPC);
	/* constraints */
	assert_int_equal(sl_assign_sliding(&a, ET, 0, 3, 0), -EINVAL);
	assert_int_equal(sl_assign_sliding(&a, ET, 10, 0, 0), -EINVAL);
	assert_int_equal(sl_assign_sliding(&a, ET, 10, 3, 3), -EINVAL);
	assert_int_equal(sl_assign_sliding(&a, ET, 10, 3, -3), -EINVAL);
	assert_int_equal(sl_assign_sliding(&a, ET, 10000001, 1, 0), -EINVAL);
	assert_int_equal(sl_assign_sliding(&a, ET, 10000000, 1, 0), 0);
	assert_int_equal(sl_assign_session(&a, ET, 0), -EINVAL);
	/* near INT64_MIN: no undefined arithmetic, windows still descend */
	assert_int_equal(sl_assign_sliding(&a, ET, 10, 5, 0), 0);
	assert_int_equal(sl_assign_windows(&a, INT64_MIN + 3, 0, w, 4), 1);
	assert_int_equal(w[0].start, INT64_MIN + 3);
}

static void
test_W2_4_pure_merge(void **state)
{
	struct sl_assign_window w[5] = { { 4, 5 }, { 0, 1 }, { 2, 3 },
					 { 5, 6 }, { 1, 2 } };
	struct sl_assign_window out[5];
	unsigned int run[5];

	(void)state;
	assert_int_equal(sl_assign_merge_windows(w, 5, out, run), 2);
	assert_int_equal(out[0].start, 0);
	assert_int_equal(out[0].end, 3);
	assert_int_equal(run[0], 3);
	assert_int_equal(out[1].start, 4);
	assert_int_equal(out[1].end, 6);
	assert_int_equal(run[1], 2);
	/* 5500 < 5501: no merge; touching merges */
	{
		struct sl_assign_window a = { 0, 5500 }, b = { 5501, 8501 },
					c = { 5500, 8500 };

		assert_false(sl_assign_intersects(&a, &b));
		assert_true(sl_assign_intersects(&a, &c));
	}
}

static void
test_R3_1_lateness_predicates(void **state)
{
	struct sl_assign a, p;
	struct sl_assign_window w = { 0, 2000 }, top = { 0, INT64_MAX };

	(void)state;
	assert_int_equal(sl_assign_tumbling(&a, ET, 2000, 0), 0);
	assert_int_equal(sl_assign_tumbling(&p, PT, 2000, 0), 0);
	assert_int_equal(sl_assign_cleanup_time(&a, &w, 500), 2499);
	assert_false(sl_assign_window_late(&a, &w, 500, 2498));
	assert_true(sl_assign_window_late(&a, &w, 500, 2499));
	assert_true(sl_assign_element_late(&a, 1998, 500, 2499));
	assert_false(sl_assign_element_late(&a, 2000, 500, 2499));
	/* C3: cleanup saturates; ts + L wraps as in Java */
	assert_int_equal(sl_assign_cleanup_time(&a, &top, 10), INT64_MAX);
	assert_true(sl_assign_element_late(&a, INT64_MAX, 1, 0));
	/* R3.7: processing time is never late, cleanup at end - 1 */
	assert_int_equal(sl_assign_cleanup_time(&p, &w, 500), 1999);
	assert_false(sl_assign_window_late(&p, &w, 0, 100000));
	assert_false(sl_assign_element_late(&p, 0, 0, 100000));
}

/* ---- the merging window set ------------------------------------------- */

struct mlog {
	int n;
	struct sl_assign_window result, state;
	struct sl_assign_window merged[8], mstate[8];
	unsigned int nm, ns;
};

static int
mlog_cb(void *arg, const struct sl_assign_window *result,
	const struct sl_assign_window *merged, unsigned int nm,
	const struct sl_assign_window *state_result,
	const struct sl_assign_window *mstate, unsigned int ns)
{
	struct mlog *l = arg;

	l->n++;
	l->result = *result;
	l->state = *state_result;
	l->nm = nm;
	l->ns = ns;
	memcpy(l->merged, merged, nm * sizeof(*merged));
	memcpy(l->mstate, mstate, ns * sizeof(*mstate));
	return 0;
}

static int
refuse_cb(void *arg, const struct sl_assign_window *result,
	  const struct sl_assign_window *merged, unsigned int nm,
	  const struct sl_assign_window *state_result,
	  const struct sl_assign_window *mstate, unsigned int ns)
{
	(void)arg; (void)result; (void)merged; (void)nm;
	(void)state_result; (void)mstate; (void)ns;
	return -EDOM;
}

#define W(a, b) (&(struct sl_assign_window){ (a), (b) })

static void
test_merging_window_set(void **state)
{
	_Alignas(8) uint8_t buf[512];
	struct sl_assign_mset *s = (struct sl_assign_mset *)buf;
	struct sl_assign_window r, sw;
	struct mlog l;

	(void)state;
	assert_true(sl_assign_mset_size(8) <= sizeof(buf));
	assert_int_equal(sl_assign_mset_init(s, 0), -EINVAL);
	assert_int_equal(sl_assign_mset_init(s, 3), 0);
	memset(&l, 0, sizeof(l));
	/* a new window alone: its own state window, no merge */
	assert_int_equal(sl_assign_mset_add(s, W(0, 3000), mlog_cb, &l, &r), 0);
	assert_int_equal(r.start, 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(sl_assign_mset_add(s, W(5000, 8000), mlog_cb, &l, &r), 0);
	assert_int_equal(sl_assign_mset_add(s, W(9000, 12000), mlog_cb, &l, &r), 0);
	assert_int_equal(s->n, 3);
	/* inside an existing window: nothing merges, the window is returned */
	assert_int_equal(sl_assign_mset_add(s, W(500, 2000), mlog_cb, &l, &r), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(r.start, 0);
	assert_int_equal(r.end, 3000);
	/* extends [5000,8000): merged = the old one, state kept */
	assert_int_equal(sl_assign_mset_add(s, W(7000, 8500), mlog_cb, &l, &r), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(r.start, 5000);
	assert_int_equal(r.end, 8500);
	assert_int_equal(l.nm, 1);
	assert_int_equal(l.merged[0].end, 8000);
	assert_int_equal(l.state.start, 5000);
	assert_int_equal(l.state.end, 8000);
	assert_int_equal(l.ns, 0);
	/* a bridge over three: the earliest pre-existing window's state
	 * window survives, the other two are merged into it */
	assert_int_equal(sl_assign_mset_add(s, W(2500, 9500), mlog_cb, &l, &r), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(r.start, 0);
	assert_int_equal(r.end, 12000);
	assert_int_equal(l.nm, 3);
	assert_int_equal(l.state.start, 0);
	assert_int_equal(l.state.end, 3000);
	assert_int_equal(l.ns, 2);
	assert_int_equal(l.mstate[0].start, 5000);
	assert_int_equal(l.mstate[0].end, 8000);	/* [5000,8500)'s state */
	assert_int_equal(l.mstate[1].start, 9000);
	assert_int_equal(s->n, 1);
	assert_int_equal(sl_assign_mset_state_window(s, W(0, 12000), &sw), 0);
	assert_int_equal(sw.end, 3000);
	assert_int_equal(sl_assign_mset_state_window(s, W(0, 3000), &sw),
			 -ENOENT);
	/* an aborting merge function leaves the set as it was */
	assert_int_equal(sl_assign_mset_add(s, W(12000, 13000), refuse_cb, NULL,
					    &r), -EDOM);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->ent[0].w.end, 12000);
	/* capacity */
	assert_int_equal(sl_assign_mset_add(s, W(20000, 21000), NULL, NULL, &r), 0);
	assert_int_equal(sl_assign_mset_add(s, W(30000, 31000), NULL, NULL, &r), 0);
	assert_int_equal(sl_assign_mset_add(s, W(40000, 41000), NULL, NULL, &r),
			 -ENOSPC);
	assert_int_equal(s->n, 3);
	assert_int_equal(sl_assign_mset_retire(s, W(20000, 21000)), 0);
	assert_int_equal(sl_assign_mset_retire(s, W(20000, 21000)), -ENOENT);
	assert_int_equal(s->n, 2);
	assert_int_equal(s->ent[1].w.start, 30000);
}

/*
 * R2.5's consequence, as a property: after adding the proto-windows of
 * random timestamps in random order, the set holds exactly the sessions
 * found by sorting the timestamps and cutting where a gap exceeds g; and
 * each session's state window is the proto-window of one of its elements.
 */
static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_R2_5_sessions_property(void **state)
{
	uint64_t buf[(8 + 64 * 32) / 8];
	struct sl_assign_mset *s = (struct sl_assign_mset *)buf;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	const int64_t g = 100;

	(void)state;
	for (int round = 0; round < 500; round++) {
		int64_t ts[40], sorted[40];
		int n = 1 + (int)(x % 40), ns = 0;
		struct { int64_t s, e; } want[40];

		assert_int_equal(sl_assign_mset_init(s, 64), 0);
		for (int i = 0; i < n; i++) {
			struct sl_assign_window w, r;

			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			ts[i] = (int64_t)(x % 3000) - 1000;
			w.start = ts[i];
			w.end = ts[i] + g;
			assert_int_equal(sl_assign_mset_add(s, &w, NULL, NULL, &r), 0);
			assert_true(r.start <= ts[i] && r.end >= ts[i] + g);
		}
		memcpy(sorted, ts, sizeof(ts[0]) * (size_t)n);
		qsort(sorted, (size_t)n, sizeof(sorted[0]), cmp_i64);
		for (int i = 0; i < n; i++) {
			if (ns > 0 && sorted[i] - sorted[i - 1] <= g) {
				want[ns - 1].e = sorted[i] + g;
				continue;
			}
			want[ns].s = sorted[i];
			want[ns++].e = sorted[i] + g;
		}
		assert_int_equal(s->n, ns);
		for (int i = 0; i < ns; i++) {
			bool proto = false;

			assert_int_equal(s->ent[i].w.start, want[i].s);
			assert_int_equal(s->ent[i].w.end, want[i].e);
			for (int j = 0; j < n; j++)
				proto |= s->ent[i].state.start == ts[j] &&
					 s->ent[i].state.end == ts[j] + g;
			assert_true(proto);
			assert_true(s->ent[i].state.start >= want[i].s &&
				    s->ent[i].state.end <= want[i].e);
		}
	}
}

/* ---- a window operator from the parts ----------------------------------- */

#define SET_CAP 16
#define SET_WORDS ((8 + SET_CAP * 32) / 8)

struct wop {
	struct sl_assign a;
	int64_t lateness;
	struct sl_state *st;
	struct sl_timer *tm;
	int sum_id, set_id;
	int slot;
	uint64_t key;		/* key of the element or timer at hand */
	uint16_t kg;
	int n;
	char log[64][80];
	/* snapshot of the state, for the restore variant */
	uint8_t *chunk[256];
	size_t chunk_len[256];
	int n_chunk;
	uint8_t meta[4096];
	size_t meta_len;
};

static uint16_t
kg_of(uint64_t k)
{
	return (uint16_t)sl_kg_of(sl_kg_hash(&k, 8), MAXP);
}

static void
logf_(struct wop *o, const char *fmt, ...)
{
	va_list ap;

	assert_true(o->n < 64);
	va_start(ap, fmt);
	vsnprintf(o->log[o->n++], sizeof(o->log[0]), fmt, ap);
	va_end(ap);
}

static struct sl_state_ref
ref(struct wop *o, int id, const struct sl_assign_window *ns)
{
	struct sl_state_ref r = { .key = &o->key, .ns = ns, .kg = o->kg };

	sl_state_hash_bulk(o->st, id, &r, 1);
	return r;
}

static int
sum_get(struct wop *o, const struct sl_assign_window *w, int64_t *v)
{
	struct sl_state_ref r = ref(o, o->sum_id, w);
	int rc = sl_state_value_get(o->st, o->sum_id, &r, 0, v);

	assert_true(rc >= 0);
	return rc;
}

static void
sum_put(struct wop *o, const struct sl_assign_window *w, int64_t v)
{
	struct sl_state_ref r = ref(o, o->sum_id, w);

	assert_int_equal(sl_state_value_put(o->st, o->sum_id, &r, 0, &v), 0);
}

static void
sum_clear(struct wop *o, const struct sl_assign_window *w)
{
	struct sl_state_ref r = ref(o, o->sum_id, w);

	assert_int_equal(sl_state_clear(o->st, o->sum_id, &r), 0);
}

static void
set_load(struct wop *o, struct sl_assign_mset *s)
{
	struct sl_state_ref r = ref(o, o->set_id, NULL);

	if (sl_state_value_get(o->st, o->set_id, &r, 0, s) != 1)
		assert_int_equal(sl_assign_mset_init(s, SET_CAP), 0);
}

static void
set_save(struct wop *o, struct sl_assign_mset *s)
{
	struct sl_state_ref r = ref(o, o->set_id, NULL);

	if (s->n == 0)
		assert_int_equal(sl_state_clear(o->st, o->set_id, &r), 0);
	else
		assert_int_equal(sl_state_value_put(o->st, o->set_id, &r, 0, s), 0);
}

static enum sl_timer_domain
tdom(const struct wop *o)
{
	return o->a.time == ET ? SL_TIMER_EVENT_TIME : SL_TIMER_PROCESSING_TIME;
}

static void
timer_set(struct wop *o, const struct sl_assign_window *w, int64_t t, bool on)
{
	int rc = on ? sl_timer_register(o->tm, tdom(o), o->kg, &o->key, w, t)
		    : sl_timer_delete(o->tm, tdom(o), o->kg, &o->key, w, t);

	assert_true(rc >= 0);
}

/* registerCleanupTimer / deleteCleanupTimer (R3.4) */
static void
cleanup_timer(struct wop *o, const struct sl_assign_window *w, bool on)
{
	int64_t c = sl_assign_cleanup_time(&o->a, w, o->lateness);

	if (c != INT64_MAX)
		timer_set(o, w, c, on);
}

static int64_t
now_of(const struct wop *o)
{
	return o->a.time == ET ? sl_timer_watermark(o->tm)
			       : sl_timer_processing_time(o->tm);
}

/* EventTimeTrigger / ProcessingTimeTrigger.onElement: true = FIRE */
static bool
trigger_on_element(struct wop *o, const struct sl_assign_window *w)
{
	if (o->a.time == ET && sl_assign_max_ts(w) <= now_of(o))
		return true;
	timer_set(o, w, sl_assign_max_ts(w), true);
	return false;
}

static void
emit(struct wop *o, const struct sl_assign_window *w, int64_t v)
{
	logf_(o, "k=%lu v=%ld [%ld,%ld) @%ld", (unsigned long)o->key, (long)v,
	      (long)w->start, (long)w->end, (long)sl_assign_max_ts(w));
}

/* WindowOperator's merge function */
static int
on_merge(void *arg, const struct sl_assign_window *result,
	 const struct sl_assign_window *merged, unsigned int nm,
	 const struct sl_assign_window *state_result,
	 const struct sl_assign_window *mstate, unsigned int ns)
{
	struct wop *o = arg;
	int64_t acc = 0, v;

	/* a merge may not produce an already-late window (R3.6) */
	if (o->a.time == ET &&
	    sl_assign_cleanup_time(&o->a, result, o->lateness) <= now_of(o))
		return -EDOM;
	if (o->a.time == PT && sl_assign_max_ts(result) <= now_of(o))
		return -EDOM;
	/* Trigger.onMerge */
	if (o->a.time == PT || sl_assign_max_ts(result) > now_of(o))
		timer_set(o, result, sl_assign_max_ts(result), true);
	for (unsigned int i = 0; i < nm; i++) {
		timer_set(o, &merged[i], sl_assign_max_ts(&merged[i]), false);
		cleanup_timer(o, &merged[i], false);
	}
	/* mergeNamespaces */
	if (sum_get(o, state_result, &acc) == 0)
		acc = 0;
	for (unsigned int i = 0; i < ns; i++)
		if (sum_get(o, &mstate[i], &v) == 1) {
			acc += v;
			sum_clear(o, &mstate[i]);
		}
	if (ns > 0)
		sum_put(o, state_result, acc);
	return 0;
}

static void
element(struct wop *o, uint64_t key, int64_t v, int64_t ts)
{
	uint64_t buf[SET_WORDS];
	struct sl_assign_mset *s = (struct sl_assign_mset *)buf;
	struct sl_assign_window w[8];
	bool skipped = true;
	int n;

	o->key = key;
	o->kg = kg_of(key);
	n = sl_assign_windows(&o->a, ts, now_of(o), w, 8);
	assert_true(n >= 0);
	if (sl_assign_is_merging(&o->a))
		set_load(o, s);
	for (int i = 0; i < n; i++) {
		struct sl_assign_window act = w[i], sw = w[i];
		int64_t acc;

		if (sl_assign_is_merging(&o->a)) {
			assert_int_equal(sl_assign_mset_add(s, &w[i], on_merge,
							    o, &act), 0);
			if (sl_assign_window_late(&o->a, &act, o->lateness,
						  now_of(o))) {
				assert_int_equal(sl_assign_mset_retire(s, &act), 0);
				continue;
			}
			assert_int_equal(sl_assign_mset_state_window(s, &act,
								     &sw), 0);
		} else if (sl_assign_window_late(&o->a, &act, o->lateness,
						 now_of(o))) {
			continue;
		}
		skipped = false;
		if (sum_get(o, &sw, &acc) == 0)
			acc = 0;
		sum_put(o, &sw, acc + v);
		if (trigger_on_element(o, &act))
			emit(o, &act, acc + v);
		cleanup_timer(o, &act, true);
	}
	if (sl_assign_is_merging(&o->a))
		set_save(o, s);
	if (skipped && sl_assign_element_late(&o->a, ts, o->lateness,
					      now_of(o)))
		logf_(o, "side k=%lu v=%ld @%ld", (unsigned long)key, (long)v,
		      (long)ts);
}

/* WindowOperator.onEventTime / onProcessingTime */
static int
on_timer(void *arg, enum sl_timer_domain dom, uint16_t kg, const void *key,
	 const void *ns, int64_t t)
{
	uint64_t buf[SET_WORDS];
	struct sl_assign_mset *s = (struct sl_assign_mset *)buf;
	struct wop *o = arg;
	struct sl_assign_window w, sw;
	int64_t v;

	memcpy(&o->key, key, 8);
	o->kg = kg;
	memcpy(&w, ns, sizeof(w));
	sw = w;
	if (sl_assign_is_merging(&o->a)) {
		set_load(o, s);
		if (sl_assign_mset_state_window(s, &w, &sw) < 0)
			return 0;	/* window merged away */
	}
	if (dom == tdom(o) && t == sl_assign_max_ts(&w) && sum_get(o, &sw, &v))
		emit(o, &w, v);
	if (dom == tdom(o) &&
	    t == sl_assign_cleanup_time(&o->a, &w, o->lateness)) {
		sum_clear(o, &sw);
		timer_set(o, &w, sl_assign_max_ts(&w), false);
		if (sl_assign_is_merging(&o->a)) {
			assert_int_equal(sl_assign_mset_retire(s, &w), 0);
			set_save(o, s);
		}
	}
	return 0;
}

static void
wop_open(struct wop *o, int slot)
{
	char dir[128];
	struct sl_state_conf c = {
		.backend = SL_STATE_BACKEND_HEAP, .max_parallelism = MAXP,
		.first_kg = 0, .last_kg = MAXP - 1,
		.mem = regions[slot], .mem_len = REGION_LEN, .dir = dir,
	};
	struct sl_state_desc sum = { .name = "sum", .kind = SL_STATE_VALUE,
				     .key_len = 8, .ns_len = 16, .val_len = 8 };
	struct sl_state_desc set = { .name = "set", .kind = SL_STATE_VALUE,
				     .key_len = 8,
				     .val_len = (uint32_t)sl_assign_mset_size(SET_CAP) };
	struct sl_timer_conf tc = { .name = "win", .key_len = 8, .ns_len = 16,
				    .first_kg = 0, .last_kg = MAXP - 1,
				    .fire = on_timer, .arg = o };

	assert_int_equal(sl_assign_mset_size(SET_CAP), sizeof(uint64_t) * SET_WORDS);
	snprintf(dir, sizeof(dir), "%s/db", tmpdir);
	o->slot = slot;
	o->st = sl_state_open(&c);
	assert_non_null(o->st);
	o->sum_id = sl_state_register(o->st, &sum);
	o->set_id = sl_state_register(o->st, &set);
	assert_true(o->sum_id >= 0 && o->set_id >= 0);
	o->tm = sl_timer_create(o->st, &tc);
	assert_non_null(o->tm);
}

static void
wop_close(struct wop *o)
{
	sl_timer_destroy(o->tm);
	sl_state_close(o->st);
}

static struct wop *
wop_new(void)
{
	static struct wop o;

	memset(&o, 0, sizeof(o));
	wop_open(&o, 0);
	return &o;
}

static int
chunk_cb(void *arg, uint16_t kg, const void *buf, size_t len)
{
	struct wop *o = arg;

	(void)kg;
	assert_true(o->n_chunk < 256);
	o->chunk[o->n_chunk] = malloc(len);
	memcpy(o->chunk[o->n_chunk], buf, len);
	o->chunk_len[o->n_chunk++] = len;
	return 0;
}

/*
 * Checkpoint and restore in the middle (W2.2: "snapshot/restore between
 * any two steps must not change the result"): state and timers go to
 * chunks, a fresh state in the other region loads them, timers rebuild.
 * Watermarks are not restored (R1.11): the next one fires what is due.
 */
static void
wop_restore(struct wop *o)
{
	struct sl_state_snap *sn;
	int rc;

	assert_int_equal(sl_state_snapshot_begin(o->st, 0, &sn), 0);
	o->meta_len = sl_state_snapshot_meta(sn, o->meta, sizeof(o->meta));
	o->n_chunk = 0;
	do {
		rc = sl_state_snapshot_write(sn, 4096, 0, chunk_cb, o);
		assert_true(rc >= 0);
	} while (rc == 1);
	sl_state_snapshot_end(o->st, sn);
	wop_close(o);
	wop_open(o, 1 - o->slot);
	for (int i = 0; i < o->n_chunk; i++) {
		assert_true(sl_state_restore(o->st, o->meta, o->meta_len,
					     o->chunk[i], o->chunk_len[i]) >= 0);
		free(o->chunk[i]);
	}
	assert_true(sl_timer_rebuild(o->tm) > 0);
}

static void
wm(struct wop *o, int64_t t)
{
	assert_true(sl_timer_advance_watermark(o->tm, t) >= 0);
}

static void
clock_to(struct wop *o, int64_t t)
{
	assert_true(sl_timer_advance_processing_time(o->tm, t) >= 0);
}

static void
expect(struct wop *o, const char *const *want, int n)
{
	for (int i = 0; i < n && i < o->n; i++)
		assert_string_equal(o->log[i], want[i]);
	assert_int_equal(o->n, n);
}

#define EXPECT(o, ...) do { \
	static const char *const w_[] = { __VA_ARGS__ }; \
	expect((o), w_, (int)(sizeof(w_) / sizeof(w_[0]))); \
} while (0)

static void
w22_run(bool sliding, bool restore)
{
	struct wop *o = wop_new();
	const int64_t ts[8] = { 3999, 3000, 20, 0, 999, 1998, 1999, 1000 };
	const uint64_t ks[8] = { 2, 2, 1, 1, 1, 2, 2, 2 };

	if (sliding)
		assert_int_equal(sl_assign_sliding(&o->a, ET, 3000, 1000, 0), 0);
	else
		assert_int_equal(sl_assign_tumbling(&o->a, ET, 3000, 0), 0);
	for (int i = 0; i < 8; i++)
		element(o, ks[i], 1, ts[i]);
	wm(o, 999);
	wm(o, 1999);
	if (restore)
		wop_restore(o);
	for (int64_t t = 2999; t <= 7999; t += 1000)
		wm(o, t);
	if (sliding)
		EXPECT(o, "k=1 v=3 [-2000,1000) @999",
		       "k=1 v=3 [-1000,2000) @1999",
		       "k=2 v=3 [-1000,2000) @1999",
		       "k=1 v=3 [0,3000) @2999",
		       "k=2 v=3 [0,3000) @2999",
		       "k=2 v=5 [1000,4000) @3999",
		       "k=2 v=2 [2000,5000) @4999",
		       "k=2 v=2 [3000,6000) @5999");
	else
		EXPECT(o, "k=1 v=3 [0,3000) @2999",
		       "k=2 v=3 [0,3000) @2999",
		       "k=2 v=2 [3000,6000) @5999");
	assert_int_equal(sl_timer_count(o->tm, SL_TIMER_EVENT_TIME), 0);
	wop_close(o);
}

static void
test_W2_2_sliding_operator(void **state)
{
	(void)state;
	w22_run(true, false);
	w22_run(false, false);
}

static void
test_W2_2_sliding_operator_restored(void **state)
{
	(void)state;
	w22_run(true, true);
	w22_run(false, true);
}

static void
w24_run(int64_t ts4)
{
	struct wop *o = wop_new();

	assert_int_equal(sl_assign_session(&o->a, ET, 3000), 0);
	element(o, 2, 1, 0);
	element(o, 2, 2, 1000);
	element(o, 2, 3, 2500);
	element(o, 1, 1, 10);
	element(o, 1, 2, 1000);
	element(o, 1, 3, 2500);
	element(o, 2, 4, ts4);
	element(o, 2, 5, 6000);
	element(o, 2, 5, 6000);
	element(o, 2, 6, 6050);
	wm(o, 12000);
	if (ts4 == 5501) {
		element(o, 2, 10, 15000);
		element(o, 2, 20, 15000);
		wm(o, 17999);
		EXPECT(o, "k=1 v=6 [10,5500) @5499",
		       "k=2 v=6 [0,5500) @5499",
		       "k=2 v=20 [5501,9050) @9049",
		       "k=2 v=30 [15000,18000) @17999");
	} else {
		/* boundary: [5500,8500) touches [0,5500): all of key2 merges */
		EXPECT(o, "k=1 v=6 [10,5500) @5499",
		       "k=2 v=26 [0,9050) @9049");
	}
	wop_close(o);
}

static void
test_W2_4_session_windows(void **state)
{
	(void)state;
	w24_run(5501);
	w24_run(5500);
}

static void
test_W2_5_firing_boundary(void **state)
{
	struct wop *o = wop_new();

	(void)state;
	assert_int_equal(sl_assign_tumbling(&o->a, ET, 2000, 0), 0);
	element(o, 1, 1, 1999);
	element(o, 1, 1, 2000);
	wm(o, 1998);
	assert_int_equal(o->n, 0);
	wm(o, 1999);
	EXPECT(o, "k=1 v=1 [0,2000) @1999");
	wm(o, 3998);
	assert_int_equal(o->n, 1);
	wm(o, 3999);
	EXPECT(o, "k=1 v=1 [0,2000) @1999", "k=1 v=1 [2000,4000) @3999");
	wop_close(o);
}

static void
test_W3_1_allowed_lateness(void **state)
{
	struct wop *o = wop_new();

	(void)state;
	assert_int_equal(sl_assign_tumbling(&o->a, ET, 2000, 0), 0);
	o->lateness = 500;
	element(o, 1, 1, 500);
	wm(o, 1500);
	element(o, 1, 1, 1300);
	wm(o, 2300);
	element(o, 1, 1, 1997);		/* late firing */
	wm(o, 2499);			/* cleanup */
	element(o, 1, 1, 1998);		/* side output */
	element(o, 1, 1, 2100);
	wm(o, 6000);
	EXPECT(o, "k=1 v=2 [0,2000) @1999",
	       "k=1 v=3 [0,2000) @1999",
	       "side k=1 v=1 @1998",
	       "k=1 v=1 [2000,4000) @3999");
	wop_close(o);
}

static void
test_W3_2_partially_late_sliding(void **state)
{
	struct wop *o = wop_new();

	(void)state;
	assert_int_equal(sl_assign_sliding(&o->a, ET, 3000, 1000, 0), 0);
	element(o, 2, 1, 1000);
	wm(o, 1999);
	element(o, 2, 1, 2000);
	wm(o, 3000);
	element(o, 1, 1, 3001);
	element(o, 2, 1, 2400);
	element(o, 2, 1, 2400);
	element(o, 1, 1, 3001);
	element(o, 2, 1, 3900);
	wm(o, 6000);
	element(o, 1, 1, 3001);
	wm(o, 25000);
	EXPECT(o, "k=2 v=1 [-1000,2000) @1999",
	       "k=2 v=2 [0,3000) @2999",
	       "k=1 v=2 [1000,4000) @3999",
	       "k=2 v=5 [1000,4000) @3999",
	       "k=1 v=2 [2000,5000) @4999",
	       "k=2 v=4 [2000,5000) @4999",
	       "k=1 v=2 [3000,6000) @5999",
	       "k=2 v=1 [3000,6000) @5999",
	       "side k=1 v=1 @3001");
	wop_close(o);
}

static void
w33_run(int64_t lateness)
{
	struct wop *o = wop_new();

	assert_int_equal(sl_assign_session(&o->a, ET, 3000), 0);
	o->lateness = lateness;
	element(o, 1, 1, 1000);
	wm(o, 1999);
	element(o, 1, 1, 2000);
	wm(o, 4998);
	element(o, 1, 1, 4500);
	element(o, 1, 1, 8500);
	wm(o, 7400);
	element(o, 1, 1, 7000);		/* bridges the two sessions */
	wm(o, 11501);
	element(o, 1, 1, 11600);
	wm(o, 14600);
	element(o, 1, 1, 10000);
	element(o, 1, 1, 14500);
	wm(o, 20000);
	if (lateness == 10)
		EXPECT(o, "k=1 v=5 [1000,11500) @11499",
		       "k=1 v=1 [11600,14600) @14599",
		       "k=1 v=2 [10000,14600) @14599",
		       "k=1 v=3 [10000,17500) @17499");
	else
		EXPECT(o, "k=1 v=5 [1000,11500) @11499",
		       "k=1 v=1 [11600,14600) @14599",
		       "side k=1 v=1 @10000",
		       "k=1 v=1 [14500,17500) @17499");
	wop_close(o);
}

static void
test_W3_3_session_bridging_with_lateness(void **state)
{
	(void)state;
	w33_run(10);
	w33_run(0);
}

static void
test_W4_1_processing_time_sessions(void **state)
{
	struct wop *o = wop_new();

	(void)state;
	assert_int_equal(sl_assign_session(&o->a, PT, 3000), 0);
	clock_to(o, 3);
	element(o, 2, 1, 0);		/* record timestamps are ignored */
	clock_to(o, 1000);
	element(o, 2, 1, 0);
	clock_to(o, 5000);
	EXPECT(o, "k=2 v=2 [3,4000) @3999");
	element(o, 2, 1, 0);
	element(o, 2, 1, 0);
	element(o, 1, 1, 0);
	element(o, 1, 1, 0);
	element(o, 1, 1, 0);
	clock_to(o, 10000);
	EXPECT(o, "k=2 v=2 [3,4000) @3999",
	       "k=1 v=3 [5000,8000) @7999",
	       "k=2 v=2 [5000,8000) @7999");
	assert_int_equal(sl_timer_count(o->tm, SL_TIMER_PROCESSING_TIME), 0);
	wop_close(o);
}

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		regions[i] = mmap(NULL, REGION_LEN, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				  -1, 0);
		if (regions[i] == MAP_FAILED)
			return -1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sl_assign_test.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	for (int i = 0; i < 2; i++)
		munmap(regions[i], REGION_LEN);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_W2_1_tumbling_assignment),
		cmocka_unit_test(test_W2_2_sliding_assignment),
		cmocka_unit_test(test_W2_3_nondivisible_and_gapped_sliding),
		cmocka_unit_test(test_W2_4_pure_merge),
		cmocka_unit_test(test_R3_1_lateness_predicates),
		cmocka_unit_test(test_merging_window_set),
		cmocka_unit_test(test_R2_5_sessions_property),
		cmocka_unit_test(test_W2_2_sliding_operator),
		cmocka_unit_test(test_W2_2_sliding_operator_restored),
		cmocka_unit_test(test_W2_4_session_windows),
		cmocka_unit_test(test_W2_5_firing_boundary),
		cmocka_unit_test(test_W3_1_allowed_lateness),
		cmocka_unit_test(test_W3_2_partially_late_sliding),
		cmocka_unit_test(test_W3_3_session_bridging_with_lateness),
		cmocka_unit_test(test_W4_1_processing_time_sessions),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
