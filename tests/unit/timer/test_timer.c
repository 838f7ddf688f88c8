/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: sl_timer, Flink's internal timer service over sl_state:
 * W4.2 and W4.3 exactly, R4.3 coalescing and deletion, R4.4 (a timer at
 * or below the watermark waits for the next advance), R1.9/R2.11 order
 * (ascending, equal timestamps by key then namespace bytes), C1 (timers
 * registered from a callback fire in the same pass; re-registering the
 * firing timer is refused), processing time apart from event time, lazy
 * deletion staying bounded, and R4.7: timers snapshotted on 2 workers
 * restored onto 3 and onto 1, on both backends.
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

#include "sl_kg.h"
#include "sl_state.h"
#include "sl_timer.h"

#define MAXP 128
#define N_REGION 6
#define REGION_LEN (64u << 20)

static void *regions[N_REGION];
static char tmpdir[64];
static int n_dirs;

static struct sl_state *
open_st(enum sl_state_backend b, int slot, uint32_t first, uint32_t last)
{
	char dir[128];
	struct sl_state_conf c = {
		.backend = b, .max_parallelism = MAXP,
		.first_kg = first, .last_kg = last,
		.mem = regions[slot], .mem_len = REGION_LEN, .dir = dir,
	};
	struct sl_state *st;

	snprintf(dir, sizeof(dir), "%s/db%d", tmpdir, n_dirs++);
	st = sl_state_open(&c);
	assert_non_null(st);
	return st;
}

static uint16_t
kg_of(uint64_t k)
{
	return (uint16_t)sl_kg_of(sl_kg_hash(&k, 8), MAXP);
}

/* What the callbacks saw, in order. */
struct fired {
	int n;
	enum sl_timer_domain dom[8192];
	uint64_t key[8192];
	uint32_t ns[8192];
	int64_t ts[8192];
	uint16_t kg[8192];
};

static int
record(void *arg, enum sl_timer_domain dom, uint16_t kg, const void *key,
       const void *ns, int64_t ts)
{
	struct fired *f = arg;

	assert_true(f->n < 8192);
	f->dom[f->n] = dom;
	memcpy(&f->key[f->n], key, 8);
	f->ns[f->n] = 0;
	if (ns != NULL)
		memcpy(&f->ns[f->n], ns, 4);
	f->ts[f->n] = ts;
	f->kg[f->n] = kg;
	f->n++;
	return 0;
}

static struct sl_timer *
mk(struct sl_state *st, uint32_t first, uint32_t last, uint16_t ns_len,
   sl_timer_fire_fn fn, void *arg)
{
	struct sl_timer_conf c = {
		.name = "t", .key_len = 8, .ns_len = ns_len,
		.first_kg = first, .last_kg = last, .capacity_hint = 4,
		.fire = fn, .arg = arg,
	};
	struct sl_timer *tm = sl_timer_create(st, &c);

	assert_non_null(tm);
	return tm;
}

#define ET SL_TIMER_EVENT_TIME
#define PT SL_TIMER_PROCESSING_TIME

static void
test_create_invalid(void **state)
{
	struct sl_state *st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1);
	struct sl_timer_conf c = { .name = "x", .key_len = 0, .last_kg = 3,
				   .fire = record };

	(void)state;
	assert_null(sl_timer_create(st, &c));
	assert_int_equal(errno, EINVAL);
	c.key_len = 8;
	c.fire = NULL;
	assert_null(sl_timer_create(st, &c));
	c.fire = record;
	c.ns_len = SL_TIMER_NS_MAX + 1;
	assert_null(sl_timer_create(st, &c));
	sl_state_close(st);
}

/*
 * W4.2: per key count++, lastModified = ts, timer at ts + 60000; onTimer(t)
 * emits (key, count) only if t == lastModified + 60000. Count and
 * lastModified live in a value state of the same sl_state.
 */
struct w42 {
	struct sl_state *st;
	int vid;
	int n_out;
	uint64_t out_key[4];
	int64_t out_count[4], out_ts[4];
};

static int
w42_on_timer(void *arg, enum sl_timer_domain dom, uint16_t kg,
	     const void *key, const void *ns, int64_t ts)
{
	struct w42 *w = arg;
	struct sl_state_ref r = { .key = key, .kg = kg };
	int64_t v[2];

	(void)ns;
	assert_int_equal(dom, ET);
	sl_state_hash_bulk(w->st, w->vid, &r, 1);
	assert_int_equal(sl_state_value_get(w->st, w->vid, &r, 0, v), 1);
	if (ts == v[1] + 60000) {
		memcpy(&w->out_key[w->n_out], key, 8);
		w->out_count[w->n_out] = v[0];
		w->out_ts[w->n_out] = ts;	/* R4.5: ET output ts = timer ts */
		w->n_out++;
	}
	return 0;
}

static void
w42_element(struct w42 *w, struct sl_timer *tm, uint64_t k, int64_t ts)
{
	struct sl_state_ref r = { .key = &k, .kg = kg_of(k) };
	int64_t v[2] = { 0, 0 };

	sl_state_hash_bulk(w->st, w->vid, &r, 1);
	assert_true(sl_state_value_get(w->st, w->vid, &r, 0, v) >= 0);
	v[0]++;
	v[1] = ts;
	assert_int_equal(sl_state_value_put(w->st, w->vid, &r, 0, v), 0);
	assert_int_equal(sl_timer_register(tm, ET, kg_of(k), &k, NULL,
					   ts + 60000), 1);
}

static void
test_W4_2_count_with_timeout(void **state)
{
	static struct w42 w;
	struct sl_state_desc d = { .name = "cnt", .kind = SL_STATE_VALUE,
				   .key_len = 8, .val_len = 16 };
	struct sl_timer *tm;
	uint64_t k = 7;

	(void)state;
	memset(&w, 0, sizeof(w));
	w.st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1);
	w.vid = sl_state_register(w.st, &d);
	assert_true(w.vid >= 0);
	tm = mk(w.st, 0, MAXP - 1, 0, w42_on_timer, &w);
	w42_element(&w, tm, k, 0);
	w42_element(&w, tm, k, 20000);
	assert_int_equal(sl_timer_advance_watermark(tm, 70000), 1);
	assert_int_equal(w.n_out, 0);		/* 60000 != 80000 */
	w42_element(&w, tm, k, 90000);
	assert_int_equal(sl_timer_advance_watermark(tm, 100000), 1);
	assert_int_equal(w.n_out, 0);		/* 80000 != 150000 */
	assert_int_equal(sl_timer_advance_watermark(tm, 160000), 1);
	assert_int_equal(w.n_out, 1);
	assert_int_equal(w.out_key[0], 7);
	assert_int_equal(w.out_count[0], 3);
	assert_int_equal(w.out_ts[0], 150000);
	assert_int_equal(sl_timer_count(tm, ET), 0);
	sl_timer_destroy(tm);
	sl_state_close(w.st);
}

static void
test_W4_3_timer_coalescing(void **state)
{
	static struct fired f;
	struct sl_state *st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1);
	struct sl_timer *tm;
	uint64_t a = 0xa;
	const int64_t ev[3] = { 1000, 3000, 3500 };
	const int expect_new[3] = { 1, 1, 0 };

	(void)state;
	memset(&f, 0, sizeof(f));
	tm = mk(st, 0, MAXP - 1, 0, record, &f);
	for (int i = 0; i < 3; i++)
		assert_int_equal(sl_timer_register(tm, ET, kg_of(a), &a, NULL,
					((ev[i] + 5000) / 1000) * 1000),
				 expect_new[i]);
	assert_int_equal(sl_timer_count(tm, ET), 2);	/* 6000, 8000 */
	assert_int_equal(sl_timer_advance_watermark(tm, 7999), 1);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.ts[0], 6000);
	/* 6000 again after WM(7999): waits for the next watermark (R4.4) */
	assert_int_equal(sl_timer_register(tm, ET, kg_of(a), &a, NULL, 6000), 1);
	assert_int_equal(f.n, 1);
	assert_int_equal(sl_timer_advance_watermark(tm, 8000), 2);
	assert_int_equal(f.n, 3);
	assert_int_equal(f.ts[1], 6000);
	assert_int_equal(f.ts[2], 8000);
	assert_int_equal(f.key[2], 0xa);
	assert_int_equal(sl_timer_advance_watermark(tm, INT64_MAX), 0);
	sl_timer_destroy(tm);
	sl_state_close(st);
}

static void
test_R4_4_timer_below_watermark_waits(void **state)
{
	static struct fired f;
	struct sl_state *st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1);
	struct sl_timer *tm;
	uint64_t k = 1;

	(void)state;
	memset(&f, 0, sizeof(f));
	tm = mk(st, 0, MAXP - 1, 0, record, &f);
	assert_int_equal(sl_timer_watermark(tm), INT64_MIN);
	assert_int_equal(sl_timer_advance_watermark(tm, 500), 0);
	assert_int_equal(sl_timer_register(tm, ET, kg_of(k), &k, NULL, 100), 1);
	assert_int_equal(sl_timer_register(tm, ET, kg_of(k), &k, NULL, 500), 1);
	assert_int_equal(f.n, 0);
	assert_int_equal(sl_timer_next(tm, ET), 100);
	/* watermarks never go back (R1.4) */
	assert_int_equal(sl_timer_advance_watermark(tm, 499), -EINVAL);
	assert_int_equal(sl_timer_advance_watermark(tm, 501), 2);
	assert_int_equal(f.ts[0], 100);
	assert_int_equal(f.ts[1], 500);
	assert_int_equal(sl_timer_next(tm, ET), INT64_MAX);
	sl_timer_destroy(tm);
	sl_state_close(st);
}

static void
test_R4_3_delete(void **state)
{
	static struct fired f;
	struct sl_state *st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1);
	struct sl_timer *tm;
	uint64_t k = 3;
	uint16_t kg = kg_of(k);

	(void)state;
	memset(&f, 0, sizeof(f));
	tm = mk(st, 0, MAXP - 1, 0, record, &f);
	assert_int_equal(sl_timer_delete(tm, ET, kg, &k, NULL, 10), 0);
	assert_int_equal(sl_timer_register(tm, ET, kg, &k, NULL, 10), 1);
	assert_int_equal(sl_timer_register(tm, ET, kg, &k, NULL, 20), 1);
	assert_int_equal(sl_timer_exists(tm, ET, kg, &k, NULL, 10), 1);
	assert_int_equal(sl_timer_exists(tm, PT, kg, &k, NULL, 10), 0);
	assert_int_equal(sl_timer_delete(tm, ET, kg, &k, NULL, 10), 1);
	assert_int_equal(sl_timer_delete(tm, ET, kg, &k, NULL, 10), 0);
	assert_int_equal(sl_timer_exists(tm, ET, kg, &k, NULL, 10), 0);
	assert_int_equal(sl_timer_count(tm, ET), 1);
	assert_int_equal(sl_timer_next(tm, ET), 20);
	/* delete then register again: fires exactly once */
	assert_int_equal(sl_timer_delete(tm, ET, kg, &k, NULL, 20), 1);
	assert_int_equal(sl_timer_register(tm, ET, kg, &k, NULL, 20), 1);
	/* many cycles: the lazy entries are compacted, nothing fires twice */
	for (int i = 0; i < 10000; i++) {
		assert_int_equal(sl_timer_register(tm, ET, kg, &k, NULL, 30), 1);
		assert_int_equal(sl_timer_delete(tm, ET, kg, &k, NULL, 30), 1);
	}
	assert_int_equal(sl_timer_count(tm, ET), 1);
	assert_int_equal(sl_timer_advance_watermark(tm, 100), 1);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.ts[0], 20);
	/* wrong key group */
	assert_int_equal(sl_timer_register(tm, ET, MAXP, &k, NULL, 1), -ERANGE);
	sl_timer_destroy(tm);
	sl_state_close(st);
}

/* R2.11: equal timestamps in key-bytes, then namespace-bytes order. */
static void
test_R2_11_equal_timestamp_order(void **state)
{
	static struct fired f;
	struct sl_state *st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1);
	struct sl_timer *tm;
	/* keys as big-endian bytes so memcmp order is numeric order */
	const uint64_t keys[5] = { 5, 1, 4, 2, 3 };
	const uint32_t nss[3] = { 0x02000000u, 0x01000000u, 0x03000000u };

	(void)state;
	memset(&f, 0, sizeof(f));
	tm = mk(st, 0, MAXP - 1, 4, record, &f);
	for (int i = 0; i < 5; i++) {
		uint64_t k = __builtin_bswap64(keys[i]);

		for (int j = 0; j < 3; j++) {
			assert_int_equal(sl_timer_register(tm, ET, kg_of(k), &k,
							   &nss[j], 1000), 1);
			assert_int_equal(sl_timer_register(tm, ET, kg_of(k), &k,
							   &nss[j], 999), 1);
		}
	}
	assert_int_equal(sl_timer_advance_watermark(tm, 1000), 30);
	for (int i = 0; i < 30; i++) {
		int half = i / 15, r = i % 15;

		assert_int_equal(f.ts[i], half == 0 ? 999 : 1000);
		assert_int_equal(__builtin_bswap64(f.key[i]), 1 + r / 3);
		assert_int_equal(f.ns[i], 0x01000000u * (uint32_t)(1 + r % 3));
		assert_int_equal(f.kg[i], kg_of(f.key[i]));
	}
	sl_timer_destroy(tm);
	sl_state_close(st);
}

/* C1: timers registered from a timer callback during a watermark. */
struct c1 {
	struct sl_timer *tm;
	struct fired f;
	int loop_rc;
};

static int
c1_cb(void *arg, enum sl_timer_domain dom, uint16_t kg, const void *key,
      const void *ns, int64_t ts)
{
	struct c1 *c = arg;

	record(&c->f, dom, kg, key, ns, ts);
	if (ts == 100) {
		/* below the watermark being processed: same pass */
		assert_int_equal(sl_timer_register(c->tm, ET, kg, key, NULL, 150), 1);
		/* above it: next advance */
		assert_int_equal(sl_timer_register(c->tm, ET, kg, key, NULL, 300), 1);
		/* itself: would loop forever */
		c->loop_rc = sl_timer_register(c->tm, ET, kg, key, NULL, 100);
		/* nested advance is refused */
		assert_int_equal(sl_timer_advance_watermark(c->tm, 1000), -EBUSY);
	}
	return 0;
}

static void
test_C1_register_from_callback(void **state)
{
	static struct c1 c;
	struct sl_state *st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1);
	uint64_t k = 9;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.tm = mk(st, 0, MAXP - 1, 0, c1_cb, &c);
	assert_int_equal(sl_timer_register(c.tm, ET, kg_of(k), &k, NULL, 100), 1);
	assert_int_equal(sl_timer_register(c.tm, ET, kg_of(k), &k, NULL, 180), 1);
	assert_int_equal(sl_timer_advance_watermark(c.tm, 200), 3);
	assert_int_equal(c.loop_rc, -ELOOP);
	assert_int_equal(c.f.n, 3);
	assert_int_equal(c.f.ts[0], 100);
	assert_int_equal(c.f.ts[1], 150);
	assert_int_equal(c.f.ts[2], 180);
	assert_int_equal(sl_timer_advance_watermark(c.tm, 300), 1);
	assert_int_equal(c.f.ts[3], 300);
	sl_timer_destroy(c.tm);
	sl_state_close(st);
}

/* A negative callback return stops the advance; the rest stays queued. */
static int
stop_at_2(void *arg, enum sl_timer_domain dom, uint16_t kg, const void *key,
	  const void *ns, int64_t ts)
{
	struct fired *f = arg;

	record(f, dom, kg, key, ns, ts);
	return ts == 2 ? -ECANCELED : 0;
}

static void
test_callback_error_stops(void **state)
{
	static struct fired f;
	struct sl_state *st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1);
	struct sl_timer *tm;
	uint64_t k = 1;

	(void)state;
	memset(&f, 0, sizeof(f));
	tm = mk(st, 0, MAXP - 1, 0, stop_at_2, &f);
	for (int64_t t = 1; t <= 3; t++)
		assert_int_equal(sl_timer_register(tm, ET, kg_of(k), &k, NULL, t), 1);
	assert_int_equal(sl_timer_advance_watermark(tm, 10), -ECANCELED);
	assert_int_equal(f.n, 2);
	assert_int_equal(sl_timer_count(tm, ET), 1);
	assert_int_equal(sl_timer_advance_watermark(tm, 10), 1);
	assert_int_equal(f.ts[2], 3);
	sl_timer_destroy(tm);
	sl_state_close(st);
}

static void
test_processing_time_apart(void **state)
{
	static struct fired f;
	struct sl_state *st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1);
	struct sl_timer *tm;
	uint64_t k = 2;

	(void)state;
	memset(&f, 0, sizeof(f));
	tm = mk(st, 0, MAXP - 1, 0, record, &f);
	assert_int_equal(sl_timer_register(tm, PT, kg_of(k), &k, NULL, 3999), 1);
	assert_int_equal(sl_timer_register(tm, ET, kg_of(k), &k, NULL, 3999), 1);
	assert_int_equal(sl_timer_count(tm, PT), 1);
	assert_int_equal(sl_timer_next(tm, PT), 3999);
	assert_int_equal(sl_timer_advance_watermark(tm, 5000), 1);
	assert_int_equal(f.dom[0], ET);
	assert_int_equal(sl_timer_advance_processing_time(tm, 3998), 0);
	assert_int_equal(sl_timer_advance_processing_time(tm, 5000), 1);
	assert_int_equal(f.dom[1], PT);
	assert_int_equal(f.ts[1], 3999);
	assert_int_equal(sl_timer_processing_time(tm), 5000);
	sl_timer_destroy(tm);
	sl_state_close(st);
}

/* R1.9: many random timers fire in exact ascending order, none lost. */
static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_R1_9_ascending_random(void **state)
{
	static struct fired f;
	static int64_t want[6000];
	struct sl_state *st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1);
	struct sl_timer *tm;
	uint64_t x = 88172645463325252ull;
	int n = 0, got = 0;

	(void)state;
	memset(&f, 0, sizeof(f));
	tm = mk(st, 0, MAXP - 1, 0, record, &f);
	for (int i = 0; i < 6000; i++) {
		uint64_t k;
		int64_t ts;
		int rc;

		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		k = x % 500;
		ts = (int64_t)((x >> 20) % 100000) - 50000;
		rc = sl_timer_register(tm, ET, kg_of(k), &k, NULL, ts);
		assert_true(rc == 0 || rc == 1);
		if (rc == 1)
			want[n++] = ts;
	}
	qsort(want, (size_t)n, sizeof(want[0]), cmp_i64);
	for (int64_t wm = -60000; wm <= 60000; wm += 7777) {
		int rc = sl_timer_advance_watermark(tm, wm);

		assert_true(rc >= 0);
		got += rc;
		for (int i = 0; i < f.n; i++)
			assert_true(f.ts[i] <= wm);
	}
	assert_int_equal(got, n);
	assert_int_equal(f.n, n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(f.ts[i], want[i]);
		if (i > 0 && f.ts[i] == f.ts[i - 1])
			assert_true(memcmp(&f.key[i - 1], &f.key[i], 8) < 0);
	}
	sl_timer_destroy(tm);
	sl_state_close(st);
}

/*
 * Random register/delete/advance on both domains against a brute-force
 * model (a plain array of pending timers): same fired sequence, same
 * counts. Exercises lazy deletion, compaction and re-registration.
 */
struct mt { uint64_t key; uint32_t ns; int64_t ts; int dom; bool live; };

static int
mt_cmp(const void *a, const void *b)
{
	const struct mt *x = a, *y = b;
	int c;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	c = memcmp(&x->key, &y->key, 8);
	if (c != 0)
		return c;
	return memcmp(&x->ns, &y->ns, 4);
}

static void
test_random_against_model(void **state)
{
	static struct fired f;
	static struct mt m[4096], due[4096];
	struct sl_state *st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1);
	struct sl_timer *tm;
	uint64_t x = 0x2545f4914f6cdd1dull;
	int64_t wm = -1000, pt = -1000;
	int nm = 0, checked = 0;

	(void)state;
	memset(&f, 0, sizeof(f));
	tm = mk(st, 0, MAXP - 1, 4, record, &f);
	for (int step = 0; step < 20000; step++) {
		uint64_t r, k;
		uint32_t ns;
		int64_t ts;
		int dom, op, found = -1, rc;

		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		r = x;
		k = r % 40;
		ns = (uint32_t)((r >> 8) % 3);
		dom = (int)((r >> 12) & 1);
		ts = (dom ? pt : wm) - 50 + (int64_t)((r >> 16) % 400);
		op = (int)((r >> 32) % 100);
		for (int i = 0; i < nm; i++)
			if (m[i].live && m[i].key == k && m[i].ns == ns &&
			    m[i].ts == ts && m[i].dom == dom)
				found = i;
		if (op < 55) {
			rc = sl_timer_register(tm, dom, kg_of(k), &k, &ns, ts);
			assert_int_equal(rc, found < 0);
			if (found < 0) {
				assert_true(nm < 4096);
				m[nm++] = (struct mt){ k, ns, ts, dom, true };
			}
		} else if (op < 85) {
			rc = sl_timer_delete(tm, dom, kg_of(k), &k, &ns, ts);
			assert_int_equal(rc, found >= 0);
			if (found >= 0)
				m[found].live = false;
		} else {
			/* advance one domain; compare with the model's due set */
			int64_t to = (dom ? pt : wm) + (int64_t)((r >> 40) % 300);
			int nd = 0, base = f.n;

			for (int i = 0; i < nm; i++)
				if (m[i].live && m[i].dom == dom && m[i].ts <= to) {
					due[nd++] = m[i];
					m[i].live = false;
				}
			qsort(due, (size_t)nd, sizeof(due[0]), mt_cmp);
			rc = dom ? sl_timer_advance_processing_time(tm, to)
				 : sl_timer_advance_watermark(tm, to);
			assert_int_equal(rc, nd);
			for (int i = 0; i < nd; i++) {
				assert_int_equal(f.dom[base + i], dom);
				assert_int_equal(f.ts[base + i], due[i].ts);
				assert_int_equal(f.key[base + i], due[i].key);
				assert_int_equal(f.ns[base + i], due[i].ns);
			}
			checked += nd;
			f.n = 0;
			if (dom)
				pt = to;
			else
				wm = to;
			/* compact the model */
			{
				int w = 0;

				for (int i = 0; i < nm; i++)
					if (m[i].live)
						m[w++] = m[i];
				nm = w;
			}
		}
		{
			uint64_t live[2] = { 0, 0 };

			for (int i = 0; i < nm; i++)
				live[m[i].dom] += m[i].live;
			assert_int_equal(sl_timer_count(tm, ET), live[0]);
			assert_int_equal(sl_timer_count(tm, PT), live[1]);
		}
	}
	assert_true(checked > 1000);
	sl_timer_destroy(tm);
	sl_state_close(st);
}

/* ---- R4.7: snapshot by key group, restore N -> M ------------------------ */

struct chunks { uint8_t *b[1024]; size_t len[1024]; int n; };

static int
chunk_cb(void *arg, uint16_t kg, const void *buf, size_t len)
{
	struct chunks *c = arg;

	(void)kg;
	assert_true(c->n < 1024);
	c->b[c->n] = malloc(len);
	memcpy(c->b[c->n], buf, len);
	c->len[c->n++] = len;
	return 0;
}

static void
snap(struct sl_state *st, struct chunks *c, uint8_t *meta, size_t *ml)
{
	struct sl_state_snap *sn;
	int rc;

	assert_int_equal(sl_state_snapshot_begin(st, 0, &sn), 0);
	*ml = sl_state_snapshot_meta(sn, meta, 4096);
	assert_true(*ml <= 4096);
	do {
		rc = sl_state_snapshot_write(sn, 4096, 0, chunk_cb, c);
		assert_true(rc >= 0);
	} while (rc == 1);
	sl_state_snapshot_end(st, sn);
}

static void
rescale(enum sl_state_backend to, int n_from, int n_to)
{
	static struct fired f[4];
	static struct chunks ch[4];
	struct sl_state *st[4];
	struct sl_timer *tm[4];
	uint8_t meta[4][4096];
	size_t ml[4];
	int expect_et = 0, expect_pt = 0, got_et = 0, got_pt = 0;

	memset(f, 0, sizeof(f));
	for (int i = 0; i < n_from; i++) {
		uint32_t a, b;

		sl_kg_range((uint32_t)i, MAXP, (uint32_t)n_from, &a, &b);
		st[i] = open_st(SL_STATE_BACKEND_HEAP, i, a, b);
		tm[i] = mk(st[i], a, b, 4, record, &f[i]);
	}
	/* keys 0..299: ET at 1000 + k % 37 and at 5000 + k, PT at k;
	 * ns = k % 3; then delete the ET timers at 5000 + k of even keys and
	 * fire everything up to WM(1010) before the snapshot */
	for (uint64_t k = 0; k < 300; k++) {
		uint16_t kg = kg_of(k);
		int w = (int)sl_kg_owner(kg, MAXP, (uint32_t)n_from);
		uint32_t ns = (uint32_t)(k % 3);

		assert_int_equal(sl_timer_register(tm[w], ET, kg, &k, &ns,
						   1000 + (int64_t)(k % 37)), 1);
		assert_int_equal(sl_timer_register(tm[w], ET, kg, &k, &ns,
						   5000 + (int64_t)k), 1);
		assert_int_equal(sl_timer_register(tm[w], PT, kg, &k, &ns,
						   (int64_t)k), 1);
		if (k % 2 == 0)
			assert_int_equal(sl_timer_delete(tm[w], ET, kg, &k, &ns,
							 5000 + (int64_t)k), 1);
	}
	for (int i = 0; i < n_from; i++) {
		assert_true(sl_timer_advance_watermark(tm[i], 1010) >= 0);
		ch[i].n = 0;
		snap(st[i], &ch[i], meta[i], &ml[i]);
		/* after the snapshot: must not show in the restored state */
		for (uint64_t k = 1000; k < 1010; k++) {
			uint16_t kg = kg_of(k);
			uint32_t ns = 0;

			if (sl_kg_owner(kg, MAXP, (uint32_t)n_from) == (uint32_t)i)
				assert_int_equal(sl_timer_register(tm[i], ET, kg,
						 &k, &ns, 1), 1);
		}
		sl_timer_destroy(tm[i]);
		sl_state_close(st[i]);
	}
	/* expected after restore: ET 1000 + k%37 > 1010, odd keys' 5000 + k,
	 * every PT timer */
	for (uint64_t k = 0; k < 300; k++) {
		expect_et += (1000 + (int64_t)(k % 37) > 1010) + (int)(k % 2);
		expect_pt++;
	}
	memset(f, 0, sizeof(f));
	for (int j = 0; j < n_to; j++) {
		uint32_t a, b;
		int rc;

		sl_kg_range((uint32_t)j, MAXP, (uint32_t)n_to, &a, &b);
		st[j] = open_st(to, j, a, b);
		tm[j] = mk(st[j], a, b, 4, record, &f[j]);
		for (int i = 0; i < n_from; i++)
			for (int c = 0; c < ch[i].n; c++)
				assert_true(sl_state_restore(st[j], meta[i], ml[i],
							     ch[i].b[c],
							     ch[i].len[c]) >= 0);
		rc = sl_timer_rebuild(tm[j]);
		assert_true(rc >= 0);
		assert_int_equal((uint64_t)rc, sl_timer_count(tm[j], ET) +
				 sl_timer_count(tm[j], PT));
		assert_int_equal(sl_timer_watermark(tm[j]), INT64_MIN);
		/* coalescing still holds after restore */
		{
			uint64_t k = 299;
			uint16_t kg = kg_of(k);
			uint32_t ns = 299 % 3;

			if (kg >= a && kg <= b)
				assert_int_equal(sl_timer_register(tm[j], ET, kg,
						 &k, &ns, 5299), 0);
		}
		assert_true(sl_timer_advance_processing_time(tm[j], 1 << 20) >= 0);
		assert_true(sl_timer_advance_watermark(tm[j], INT64_MAX) >= 0);
		for (int x = 0; x < f[j].n; x++) {
			uint64_t k = f[j].key[x];

			assert_true(f[j].kg[x] >= a && f[j].kg[x] <= b);
			assert_int_equal(f[j].kg[x], kg_of(k));
			assert_int_equal(f[j].ns[x], (uint32_t)(k % 3));
			if (f[j].dom[x] == PT) {
				got_pt++;
				assert_int_equal(f[j].ts[x], (int64_t)k);
			} else {
				got_et++;
				assert_true(f[j].ts[x] == 1000 + (int64_t)(k % 37) ||
					    (f[j].ts[x] == 5000 + (int64_t)k &&
					     k % 2 == 1));
				assert_true(f[j].ts[x] > 1010);
			}
			if (x > 0 && f[j].dom[x] == f[j].dom[x - 1])
				assert_true(f[j].ts[x] >= f[j].ts[x - 1]);
		}
		sl_timer_destroy(tm[j]);
		sl_state_close(st[j]);
	}
	assert_int_equal(got_et, expect_et);
	assert_int_equal(got_pt, expect_pt);
	for (int i = 0; i < n_from; i++)
		for (int c = 0; c < ch[i].n; c++)
			free(ch[i].b[c]);
}

static void
test_R4_7_snapshot_2_to_3_heap(void **state)
{
	(void)state;
	rescale(SL_STATE_BACKEND_HEAP, 2, 3);
}

static void
test_R4_7_snapshot_2_to_1_rocksdb(void **state)
{
	(void)state;
	rescale(SL_STATE_BACKEND_ROCKSDB, 2, 1);
}

static void
test_R4_7_snapshot_3_to_2_heap(void **state)
{
	(void)state;
	rescale(SL_STATE_BACKEND_HEAP, 3, 2);
}

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < N_REGION; i++) {
		regions[i] = mmap(NULL, REGION_LEN, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				  -1, 0);
		if (regions[i] == MAP_FAILED)
			return -1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sl_timer_test.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	for (int i = 0; i < N_REGION; i++)
		munmap(regions[i], REGION_LEN);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_invalid),
		cmocka_unit_test(test_W4_2_count_with_timeout),
		cmocka_unit_test(test_W4_3_timer_coalescing),
		cmocka_unit_test(test_R4_4_timer_below_watermark_waits),
		cmocka_unit_test(test_R4_3_delete),
		cmocka_unit_test(test_R2_11_equal_timestamp_order),
		cmocka_unit_test(test_C1_register_from_callback),
		cmocka_unit_test(test_callback_error_stops),
		cmocka_unit_test(test_processing_time_apart),
		cmocka_unit_test(test_R1_9_ascending_random),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_R4_7_snapshot_2_to_3_heap),
		cmocka_unit_test(test_R4_7_snapshot_2_to_1_rocksdb),
		cmocka_unit_test(test_R4_7_snapshot_3_to_2_heap),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
