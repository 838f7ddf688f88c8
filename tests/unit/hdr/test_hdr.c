/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: the HDR histogram (perf/hdr). Slot layout walked end to
 * end; percentiles against the exact nearest-rank percentiles of sorted
 * arrays (1e6 uniform and log-uniform values over 1 ns..1 h, and
 * adversarial sets at slot edges); HdrHistogram's documented example
 * (10,000 x 1000 and one 100,000,000, raw and corrected); merge; clamping;
 * caller memory; the text table, CSV and JSON. The golden tables match
 * the Java HdrHistogram's outputPercentileDistribution() digit for digit
 * (checked with another implementation when they were written).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "sl_hdr.h"

#define HOUR_NS 3600000000000ull
#define BIG_N 1000000

static uint64_t rng_state;

static uint64_t
rng(void)
{
	/* xorshift64*: fixed seed, so every run checks the same data. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static uint64_t
rng_log_uniform(uint64_t hi)
{
	double u = (double)(rng() >> 11) / 9007199254740992.0;
	uint64_t v = (uint64_t)exp(u * log((double)hi));

	return v < 1 ? 1 : v > hi ? hi : v;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Everything print_fn wrote, as a NUL-terminated string to free(). */
static char *
capture(int (*print_fn)(const struct sl_hdr *, FILE *, uint32_t, double),
	const struct sl_hdr *h, uint32_t ticks, double ratio)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(print_fn(h, f, ticks, ratio), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static char *
capture_json(const struct sl_hdr *h, uint32_t ticks)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(sl_hdr_print_json(h, f, ticks), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void
test_layout(void **state)
{
	static const uint32_t sub[] = { 0, 32, 256, 2048, 32768, 262144 };
	struct sl_hdr h;

	(void)state;
	/* The harness's configuration. */
	assert_int_equal(sl_hdr_init(&h, 1, HOUR_NS, 3), 0);
	assert_int_equal(h.sub_count, 2048);
	/* 2048 << 31 = 2^42 is the first power of two above 3.6e12. */
	assert_int_equal(h.bucket_count, 32);
	assert_int_equal(h.counts_len, 33 * 1024);
	assert_int_equal(sl_hdr_mem_size(1, HOUR_NS, 3), 33 * 1024 * 8);
	sl_hdr_fini(&h);
	/* HdrHistogram's 1 us..1 h at 3 digits. */
	assert_int_equal(sl_hdr_init(&h, 1, 3600000000ull, 3), 0);
	assert_int_equal(h.bucket_count, 22);
	sl_hdr_fini(&h);

	for (int s = 1; s <= 5; s++) {
		assert_int_equal(sl_hdr_init(&h, 1, HOUR_NS, s), 0);
		assert_int_equal(h.sub_count, sub[s]);
		sl_hdr_fini(&h);
	}
	assert_int_equal(sl_hdr_init(&h, 1, UINT64_MAX, 3), 0);
	assert_int_equal(h.bucket_count, 54);
	sl_hdr_record(&h, UINT64_MAX);
	assert_int_equal(sl_hdr_count_at_value(&h, UINT64_MAX), 1);
	assert_int_equal(sl_hdr_saturated(&h), 0);
	sl_hdr_fini(&h);

	assert_int_equal(sl_hdr_init(&h, 1, HOUR_NS, 0), -EINVAL);
	assert_int_equal(sl_hdr_init(&h, 1, HOUR_NS, 6), -EINVAL);
	assert_int_equal(sl_hdr_init(&h, 0, HOUR_NS, 3), -EINVAL);
	assert_int_equal(sl_hdr_init(&h, 1000, 1999, 3), -EINVAL);
	assert_int_equal(sl_hdr_init(&h, 1ull << 60, UINT64_MAX, 3), -EINVAL);
	assert_int_equal(sl_hdr_mem_size(1, 1, 3), -EINVAL);
}

/*
 * Walk every slot from 0 to highest: slot indexes come in order with no
 * gap, a slot's values are exactly [lowest_equivalent, highest_equivalent],
 * and its width meets the error bound of sl_hdr.h.
 */
static void
walk_slots(uint64_t lowest, uint64_t highest, int sigfigs)
{
	uint64_t pow10 = 1, v = 0;
	uint32_t expect = 0;
	struct sl_hdr h;

	for (int i = 0; i < sigfigs; i++)
		pow10 *= 10;
	assert_int_equal(sl_hdr_init(&h, lowest, highest, sigfigs), 0);
	for (;;) {
		uint64_t lo = sl_hdr_lowest_equivalent(&h, v);
		uint64_t hi = sl_hdr_highest_equivalent(&h, v);

		assert_int_equal(lo, v);
		assert_int_equal(hi - lo + 1, sl_hdr_equivalent_range(&h, v));
		assert_int_equal(sl_hdr_index(&h, lo), expect);
		assert_int_equal(sl_hdr_index(&h, hi), expect);
		assert_true(sl_hdr_values_equivalent(&h, lo, hi));
		assert_int_equal(sl_hdr_median_equivalent(&h, hi),
				 lo + sl_hdr_equivalent_range(&h, v) / 2);
		/* hi - lo < max(lo / 10^sigfigs, lowest) */
		assert_true((unsigned __int128)(hi - lo) * pow10 < lo || hi - lo < lowest);
		assert_true(expect < h.counts_len);
		if (hi >= highest)
			break;
		assert_false(sl_hdr_values_equivalent(&h, hi, hi + 1));
		v = hi + 1;
		expect++;
	}
	sl_hdr_fini(&h);
}

static void
test_slots(void **state)
{
	(void)state;
	walk_slots(1, HOUR_NS, 3);
	walk_slots(1, HOUR_NS, 1);
	walk_slots(1, HOUR_NS, 5);
	walk_slots(1, 2, 2);
	walk_slots(1000, 1000000000, 2);
	walk_slots(1024, HOUR_NS, 4);
	walk_slots(3, 1ull << 62, 3);
}

/*
 * The histogram's percentile p (in 1e-5 %) against the sorted data:
 * HdrHistogram's definition makes it the highest equivalent of the exact
 * nearest-rank sample (lowest equivalent at p = 0), so it must match that
 * and lie within the error bound.
 */
static void
check_percentile(const struct sl_hdr *h, const uint64_t *sorted, uint64_t n,
		 uint64_t pm)
{
	uint64_t rank = (pm * n + 9999999) / 10000000, exact, got, diff, pow10 = 1;

	for (int i = 0; i < h->sigfigs; i++)
		pow10 *= 10;
	exact = sorted[(rank == 0 ? 1 : rank) - 1];
	got = sl_hdr_value_at_percentile(h, (double)pm / 1e5);
	if (pm == 0)
		assert_int_equal(got, sl_hdr_lowest_equivalent(h, exact));
	else
		assert_int_equal(got, sl_hdr_highest_equivalent(h, exact));
	assert_true(sl_hdr_values_equivalent(h, got, exact));
	diff = got > exact ? got - exact : exact - got;
	assert_true((unsigned __int128)diff * pow10 < exact || diff < h->lowest);
}

static void
check_against_sorted(const struct sl_hdr *h, uint64_t *vals, uint64_t n)
{
	static const uint64_t list[] = {
		0, 1, 10, 100, 1000, 100000, 2500000, 5000000, 7500000,
		9000000, 9500000, 9900000, 9990000, 9999000, 9999900,
		9999990, 9999999, 10000000,
	};

	qsort(vals, n, sizeof(vals[0]), cmp_u64);
	assert_int_equal(sl_hdr_total_count(h), n);
	assert_int_equal(sl_hdr_min(h), vals[0]);
	assert_int_equal(sl_hdr_max(h), vals[n - 1]);
	for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++)
		check_percentile(h, vals, n, list[i]);
	for (uint64_t pm = 0; pm <= 10000000; pm += 9973)
		check_percentile(h, vals, n, pm);
}

static void
test_random_vs_sorted(void **state)
{
	uint64_t *vals = malloc(BIG_N * sizeof(*vals));
	struct sl_hdr h;

	(void)state;
	assert_non_null(vals);
	assert_int_equal(sl_hdr_init(&h, 1, HOUR_NS, 3), 0);

	rng_state = 0x5eed0001;
	for (int i = 0; i < BIG_N; i++) {
		vals[i] = rng() % HOUR_NS + 1;
		sl_hdr_record(&h, vals[i]);
	}
	check_against_sorted(&h, vals, BIG_N);

	sl_hdr_reset(&h);
	for (int i = 0; i < BIG_N; i++) {
		vals[i] = rng_log_uniform(HOUR_NS);
		sl_hdr_record(&h, vals[i]);
	}
	check_against_sorted(&h, vals, BIG_N);
	assert_int_equal(sl_hdr_saturated(&h), 0);
	sl_hdr_fini(&h);

	/* Other precisions and a coarse lowest: the bound has an absolute part. */
	for (int s = 1; s <= 5; s++) {
		uint64_t lowest = s == 2 ? 1000 : s == 4 ? 1024 : 1;

		assert_int_equal(sl_hdr_init(&h, lowest, HOUR_NS, s), 0);
		for (int i = 0; i < 100000; i++) {
			vals[i] = rng_log_uniform(HOUR_NS);
			sl_hdr_record(&h, vals[i]);
		}
		check_against_sorted(&h, vals, 100000);
		sl_hdr_fini(&h);
	}
	free(vals);
}

static void
test_adversarial_vs_sorted(void **state)
{
	uint64_t *vals = malloc(200000 * sizeof(*vals));
	struct sl_hdr h;
	uint64_t n = 0;

	(void)state;
	assert_non_null(vals);
	assert_int_equal(sl_hdr_init(&h, 1, HOUR_NS, 3), 0);

	/* Slot and bucket edges, each a random number of times. */
	rng_state = 0x5eed0002;
	for (int k = 0; k < 42; k++) {
		uint64_t p = 1ull << k;
		uint64_t edge[] = { p - 1, p, p + 1, 2047 * p, 2048 * p, 2049 * p };

		for (size_t e = 0; e < sizeof(edge) / sizeof(edge[0]); e++) {
			uint64_t c = rng() % 50;

			if (edge[e] > HOUR_NS)
				continue;
			for (uint64_t j = 0; j < c; j++)
				vals[n++] = edge[e];
			sl_hdr_record_n(&h, edge[e], c);
		}
	}
	/* Both ends of random slots. */
	for (int i = 0; i < 20000; i++) {
		uint64_t v = rng_log_uniform(HOUR_NS);

		vals[n++] = sl_hdr_lowest_equivalent(&h, v);
		vals[n++] = sl_hdr_highest_equivalent(&h, v) > HOUR_NS ?
			    HOUR_NS : sl_hdr_highest_equivalent(&h, v);
		sl_hdr_record(&h, vals[n - 2]);
		sl_hdr_record(&h, vals[n - 1]);
	}
	/* The range's two ends, and zeros. */
	for (int i = 0; i < 1000; i++) {
		vals[n++] = 0;
		vals[n++] = HOUR_NS;
		sl_hdr_record(&h, 0);
		sl_hdr_record(&h, HOUR_NS);
	}
	check_against_sorted(&h, vals, n);

	/* One value, many times; and a single sample. */
	sl_hdr_reset(&h);
	for (int i = 0; i < 1000; i++) {
		vals[i] = 123456789;
		sl_hdr_record(&h, vals[i]);
	}
	check_against_sorted(&h, vals, 1000);
	sl_hdr_reset(&h);
	vals[0] = 7;
	sl_hdr_record(&h, 7);
	check_against_sorted(&h, vals, 1);

	/* Two points at the range's ends. */
	sl_hdr_reset(&h);
	for (int i = 0; i < 999; i++) {
		vals[i] = 1;
		sl_hdr_record(&h, 1);
	}
	vals[999] = HOUR_NS;
	sl_hdr_record(&h, HOUR_NS);
	check_against_sorted(&h, vals, 1000);
	sl_hdr_fini(&h);
	free(vals);
}

/*
 * HdrHistogram's own example (its C and Java percentile tests): 10,000
 * samples of 1000 and one of 100,000,000, 1..3.6e9, 3 digits. Raw, 1000
 * holds up to p99.99 and 1e8 beyond; corrected for an expected interval of
 * 10,000 the stall adds 9,999 samples 10,000 apart (total 20,000), so p75
 * is ~5e7, p90 ~8e7, p99 ~9.8e7 (HdrHistogram checks these to 0.1%; here
 * the exact highest equivalents).
 */
static void
test_classic_example(void **state)
{
	struct sl_hdr raw, cor;

	(void)state;
	assert_int_equal(sl_hdr_init(&raw, 1, 3600000000ull, 3), 0);
	assert_int_equal(sl_hdr_init(&cor, 1, 3600000000ull, 3), 0);
	for (int i = 0; i < 10000; i++) {
		sl_hdr_record(&raw, 1000);
		sl_hdr_record_corrected(&cor, 1000, 10000);
	}
	sl_hdr_record(&raw, 100000000);
	sl_hdr_record_corrected(&cor, 100000000, 10000);

	/* 1e8 is in bucket 16: slots of 65536 from 1525 * 65536 = 99942400. */
	assert_int_equal(sl_hdr_highest_equivalent(&raw, 100000000), 100007935);
	assert_int_equal(sl_hdr_total_count(&raw), 10001);
	assert_int_equal(sl_hdr_value_at_percentile(&raw, 30.0), 1000);
	assert_int_equal(sl_hdr_value_at_percentile(&raw, 50.0), 1000);
	assert_int_equal(sl_hdr_value_at_percentile(&raw, 99.0), 1000);
	assert_int_equal(sl_hdr_value_at_percentile(&raw, 99.99), 1000);
	assert_int_equal(sl_hdr_value_at_percentile(&raw, 99.999), 100007935);
	assert_int_equal(sl_hdr_value_at_percentile(&raw, 100.0), 100007935);
	assert_true(sl_hdr_values_equivalent(&raw, sl_hdr_value_at_percentile(&raw, 100.0),
					     100000000));
	assert_int_equal(sl_hdr_value_at_percentile(&raw, 0.0), 1000);
	assert_int_equal(sl_hdr_min(&raw), 1000);
	assert_int_equal(sl_hdr_max(&raw), 100000000);
	/* Counted at slot medians: 1000 and 99942400 + 32768. */
	assert_true(fabs(sl_hdr_mean(&raw) - (1e7 + 99975168.0) / 10001) < 1e-6);

	assert_int_equal(sl_hdr_total_count(&cor), 20000);
	assert_int_equal(sl_hdr_value_at_percentile(&cor, 30.0), 1000);
	assert_int_equal(sl_hdr_value_at_percentile(&cor, 50.0), 1000);
	/* 5e7: slot 1525 * 32768 = 49971200 .. 50003967 */
	assert_int_equal(sl_hdr_value_at_percentile(&cor, 75.0), 50003967);
	/* 8e7: 1220 * 65536 = 79953920 .. 80019455 */
	assert_int_equal(sl_hdr_value_at_percentile(&cor, 90.0), 80019455);
	/* 9.8e7: 1495 * 65536 = 97976320 .. 98041855 */
	assert_int_equal(sl_hdr_value_at_percentile(&cor, 99.0), 98041855);
	assert_int_equal(sl_hdr_value_at_percentile(&cor, 99.999), 100007935);
	assert_int_equal(sl_hdr_value_at_percentile(&cor, 100.0), 100007935);
	assert_int_equal(sl_hdr_min(&cor), 1000);
	assert_int_equal(sl_hdr_count_at_value(&cor, 10000), 1);
	assert_int_equal(sl_hdr_count_at_value(&cor, 20000), 1);
	sl_hdr_fini(&raw);
	sl_hdr_fini(&cor);
}

/* The corrected record, one missing sample at a time. */
static void
naive_corrected(struct sl_hdr *h, uint64_t value, uint64_t iv)
{
	sl_hdr_record(h, value);
	if (iv == 0 || value <= iv)
		return;
	for (uint64_t m = value - iv; m >= iv; m -= iv)
		sl_hdr_record(h, m);
}

static void
assert_same(const struct sl_hdr *a, const struct sl_hdr *b)
{
	assert_int_equal(a->counts_len, b->counts_len);
	assert_memory_equal(a->counts, b->counts, a->counts_len * sizeof(uint64_t));
	assert_int_equal(a->total, b->total);
	assert_int_equal(a->saturated, b->saturated);
	assert_int_equal(sl_hdr_min(a), sl_hdr_min(b));
	assert_int_equal(sl_hdr_max(a), sl_hdr_max(b));
}

/*
 * The batched correction against the one-at-a-time loop. Coarse
 * configurations put many missing samples in one slot, which is the case
 * the batching is for.
 */
static void
test_corrected_matches_naive(void **state)
{
	static const struct { uint64_t lowest; int sigfigs; } cfg[] = {
		{ 1, 3 }, { 1, 1 }, { 1000, 2 },
	};
	struct sl_hdr fast, slow;

	(void)state;
	rng_state = 0x5eed0003;
	for (size_t c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
		/* highest 2e6 keeps the naive loop short for saturated values. */
		assert_int_equal(sl_hdr_init(&fast, cfg[c].lowest, 2000000, cfg[c].sigfigs), 0);
		assert_int_equal(sl_hdr_init(&slow, cfg[c].lowest, 2000000, cfg[c].sigfigs), 0);
		for (int i = 0; i < 2000; i++) {
			uint64_t iv = rng_log_uniform(100000);
			uint64_t v = rng_log_uniform(i % 10 == 0 ? 40000000 : 3000000);

			if (i % 7 == 0)
				iv = 0;
			if (i % 11 == 0)
				v = iv * (rng() % 5);	/* exact multiples, and v <= iv */
			if (i % 13 == 0)
				iv = 2500000;		/* interval above highest */
			if (iv != 0 && v / iv > 5000)
				iv = v / 5000 + 1;	/* bounds the naive loop */
			sl_hdr_record_corrected(&fast, v, iv);
			naive_corrected(&slow, v, iv);
			assert_same(&fast, &slow);
		}
		assert_true(sl_hdr_saturated(&fast) > 0);
		/* The smallest missing sample becomes the min: 1000003 % 1000 + 1000. */
		sl_hdr_reset(&fast);
		sl_hdr_reset(&slow);
		sl_hdr_record_corrected(&fast, 1000003, 1000);
		naive_corrected(&slow, 1000003, 1000);
		assert_same(&fast, &slow);
		assert_int_equal(sl_hdr_min(&fast), 1003);
		assert_int_equal(sl_hdr_total_count(&fast), 1000);
		sl_hdr_fini(&fast);
		sl_hdr_fini(&slow);
	}
}

static void
test_merge(void **state)
{
	struct sl_hdr one, part[3], other;

	(void)state;
	assert_int_equal(sl_hdr_init(&one, 1, HOUR_NS, 3), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(sl_hdr_init(&part[i], 1, HOUR_NS, 3), 0);
	rng_state = 0x5eed0004;
	for (int i = 0; i < 300000; i++) {
		uint64_t v = i % 1000 == 0 ? HOUR_NS + 1 + rng() % 1000 : rng_log_uniform(HOUR_NS);

		sl_hdr_record(&one, v);
		sl_hdr_record(&part[i % 3 == 0 ? 0 : (v & 1) + 1], v);
	}
	/* Adding an empty histogram changes nothing. */
	assert_int_equal(sl_hdr_init(&other, 1, HOUR_NS, 3), 0);
	assert_int_equal(sl_hdr_add(&part[0], &other), 0);
	assert_int_equal(sl_hdr_add(&other, &part[0]), 0);
	assert_int_equal(sl_hdr_add(&other, &part[1]), 0);
	assert_int_equal(sl_hdr_add(&other, &part[2]), 0);
	assert_same(&one, &other);
	assert_int_equal(sl_hdr_saturated(&other), 300);
	for (double p = 0; p <= 100; p += 0.5)
		assert_int_equal(sl_hdr_value_at_percentile(&one, p),
				 sl_hdr_value_at_percentile(&other, p));
	sl_hdr_fini(&other);

	/* Other configurations are refused and leave dst alone. */
	assert_int_equal(sl_hdr_init(&other, 1, HOUR_NS, 2), 0);
	sl_hdr_record(&other, 5);
	assert_int_equal(sl_hdr_add(&part[0], &other), -EINVAL);
	sl_hdr_fini(&other);
	assert_int_equal(sl_hdr_init(&other, 1, HOUR_NS / 2, 3), 0);
	assert_int_equal(sl_hdr_add(&part[0], &other), -EINVAL);
	sl_hdr_fini(&other);
	assert_int_equal(sl_hdr_init(&other, 2, HOUR_NS, 3), 0);
	assert_int_equal(sl_hdr_add(&part[0], &other), -EINVAL);
	sl_hdr_fini(&other);
	assert_int_equal(sl_hdr_total_count(&part[0]), 100000);

	sl_hdr_fini(&one);
	for (int i = 0; i < 3; i++)
		sl_hdr_fini(&part[i]);
}

static void
test_saturation(void **state)
{
	struct sl_hdr h;

	(void)state;
	assert_int_equal(sl_hdr_init(&h, 1, 1000000, 3), 0);
	sl_hdr_record(&h, 1000000);		/* highest itself is kept */
	assert_int_equal(sl_hdr_saturated(&h), 0);
	sl_hdr_record(&h, 1000001);
	sl_hdr_record(&h, UINT64_MAX);
	sl_hdr_record_n(&h, 2000000, 5);
	sl_hdr_record_n(&h, 3000000, 0);	/* nothing */
	assert_int_equal(sl_hdr_saturated(&h), 7);
	assert_int_equal(sl_hdr_total_count(&h), 8);
	assert_int_equal(sl_hdr_count_at_value(&h, 1000000), 8);
	assert_int_equal(sl_hdr_count_at_value(&h, UINT64_MAX), 8);
	assert_int_equal(sl_hdr_max(&h), UINT64_MAX);	/* exact, not clamped */
	assert_int_equal(sl_hdr_min(&h), 1000000);
	/* Percentiles stop at highest's slot. */
	assert_int_equal(sl_hdr_value_at_percentile(&h, 100),
			 sl_hdr_highest_equivalent(&h, 1000000));
	assert_int_equal(sl_hdr_value_at_percentile(&h, 1),
			 sl_hdr_highest_equivalent(&h, 1000000));
	sl_hdr_fini(&h);

	/* The harness's range: one hour is kept, one hour and 1 ns is not. */
	assert_int_equal(sl_hdr_init(&h, 1, HOUR_NS, 3), 0);
	sl_hdr_record(&h, HOUR_NS);
	assert_int_equal(sl_hdr_saturated(&h), 0);
	sl_hdr_record(&h, HOUR_NS + 1);
	assert_int_equal(sl_hdr_saturated(&h), 1);
	sl_hdr_fini(&h);
}

static void
test_caller_memory(void **state)
{
	ssize_t sz = sl_hdr_mem_size(1, HOUR_NS, 3);
	uint64_t *mem = malloc((size_t)sz + 8);
	struct sl_hdr h;

	(void)state;
	assert_non_null(mem);
	memset(mem, 0xab, (size_t)sz + 8);
	assert_int_equal(sl_hdr_init_mem(&h, 1, HOUR_NS, 3, mem, (size_t)sz - 8), -EINVAL);
	assert_int_equal(sl_hdr_init_mem(&h, 1, HOUR_NS, 3, (char *)mem + 4, (size_t)sz), -EINVAL);
	assert_int_equal(sl_hdr_init_mem(&h, 1, HOUR_NS, 3, NULL, (size_t)sz), -EINVAL);
	assert_int_equal(sl_hdr_init_mem(&h, 0, HOUR_NS, 3, mem, (size_t)sz), -EINVAL);
	assert_int_equal(sl_hdr_init_mem(&h, 1, HOUR_NS, 3, mem, (size_t)sz), 0);
	for (size_t i = 0; i < (size_t)sz / 8; i++)
		assert_int_equal(mem[i], 0);
	assert_int_equal(mem[sz / 8], 0xababababababababull);	/* not past len */
	sl_hdr_record(&h, 42);
	assert_int_equal(mem[42], 1);
	assert_int_equal(sl_hdr_value_at_percentile(&h, 50), 42);
	sl_hdr_fini(&h);	/* must not free mem */
	assert_int_equal(mem[42], 1);
	free(mem);
}

static void
test_empty_and_reset(void **state)
{
	struct sl_hdr_iter it;
	struct sl_hdr h;

	(void)state;
	assert_int_equal(sl_hdr_init(&h, 1, HOUR_NS, 3), 0);
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(sl_hdr_total_count(&h), 0);
		assert_int_equal(sl_hdr_min(&h), 0);
		assert_int_equal(sl_hdr_max(&h), 0);
		assert_true(sl_hdr_mean(&h) == 0);
		assert_true(sl_hdr_stddev(&h) == 0);
		assert_int_equal(sl_hdr_value_at_percentile(&h, 50), 0);
		assert_int_equal(sl_hdr_iter_percentile_init(&it, &h, 5), 0);
		assert_false(sl_hdr_iter_next(&it));
		sl_hdr_record_n(&h, 77, 3);
		sl_hdr_record(&h, HOUR_NS * 2);
		sl_hdr_reset(&h);
		assert_int_equal(sl_hdr_saturated(&h), 0);
	}
	assert_int_equal(sl_hdr_iter_percentile_init(&it, &h, 0), -EINVAL);
	/* p below 0 or NaN is 0; above 100 is 100. */
	sl_hdr_record(&h, 5000);
	sl_hdr_record(&h, 9000);
	assert_int_equal(sl_hdr_value_at_percentile(&h, -1), 5000);
	assert_int_equal(sl_hdr_value_at_percentile(&h, NAN), 5000);
	assert_int_equal(sl_hdr_value_at_percentile(&h, 150),
			 sl_hdr_highest_equivalent(&h, 9000));
	/* 5000 is in a slot of 4: 5000..5003 */
	assert_int_equal(sl_hdr_value_at_percentile(&h, 50), 5003);
	assert_int_equal(sl_hdr_value_at_percentile(&h, 0), 5000);
	sl_hdr_fini(&h);
}

static void
test_iterator_levels(void **state)
{
	static const double want[] = {
		0, 10, 20, 30, 40, 50, 55, 60, 65, 70, 75, 77.5, 80, 82.5, 85,
		87.5, 88.75, 90, 91.25, 100,
	};
	static const uint64_t want_value[] = {
		1, 1, 2, 3, 4, 5, 6, 6, 7, 7, 8, 8, 8, 9, 9, 9, 9, 9, 10, 10,
	};
	struct sl_hdr_iter it;
	struct sl_hdr h;
	size_t n = 0;

	(void)state;
	assert_int_equal(sl_hdr_init(&h, 1, 10000, 3), 0);
	for (uint64_t v = 1; v <= 10; v++)
		sl_hdr_record(&h, v);
	assert_int_equal(sl_hdr_iter_percentile_init(&it, &h, 5), 0);
	while (sl_hdr_iter_next(&it)) {
		assert_true(n < sizeof(want) / sizeof(want[0]));
		assert_true(it.level == want[n]);
		assert_int_equal(it.value, want_value[n]);
		assert_int_equal(it.cum_count, want_value[n]);
		assert_int_equal(it.count, 1);
		n++;
	}
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	assert_false(sl_hdr_iter_next(&it));

	/*
	 * 2^62 samples then one more: 100 * cum / total rounds to 100 before
	 * the end, and the levels stop moving in double precision; the walk
	 * must still end, on the max at 100%.
	 */
	sl_hdr_reset(&h);
	sl_hdr_record_n(&h, 1, 1ull << 62);
	sl_hdr_record(&h, 2);
	for (uint32_t ticks = 1; ticks <= 1000; ticks *= 10) {
		assert_int_equal(sl_hdr_iter_percentile_init(&it, &h, ticks), 0);
		for (n = 0; sl_hdr_iter_next(&it); n++)
			assert_true(n < 100000);
		assert_true(it.level == 100.0);
		assert_int_equal(it.value, 2);
		assert_int_equal(it.cum_count, (1ull << 62) + 1);
	}
	sl_hdr_fini(&h);
}

/* 1..10 in 1..10000 at 3 digits, as Java HdrHistogram prints it. */
static const char golden_tiny[] =
	"       Value     Percentile TotalCount 1/(1-Percentile)\n"
	"\n"
	"       1.000 0.000000000000          1           1.00\n"
	"       1.000 0.100000000000          1           1.11\n"
	"       2.000 0.200000000000          2           1.25\n"
	"       3.000 0.300000000000          3           1.43\n"
	"       4.000 0.400000000000          4           1.67\n"
	"       5.000 0.500000000000          5           2.00\n"
	"       6.000 0.550000000000          6           2.22\n"
	"       6.000 0.600000000000          6           2.50\n"
	"       7.000 0.650000000000          7           2.86\n"
	"       7.000 0.700000000000          7           3.33\n"
	"       8.000 0.750000000000          8           4.00\n"
	"       8.000 0.775000000000          8           4.44\n"
	"       8.000 0.800000000000          8           5.00\n"
	"       9.000 0.825000000000          9           5.71\n"
	"       9.000 0.850000000000          9           6.67\n"
	"       9.000 0.875000000000          9           8.00\n"
	"       9.000 0.887500000000          9           8.89\n"
	"       9.000 0.900000000000          9          10.00\n"
	"      10.000 0.912500000000         10          11.43\n"
	"      10.000 1.000000000000         10\n"
	"#[Mean    =        5.500, StdDeviation   =        2.872]\n"
	"#[Max     =       10.000, Total count    =           10]\n"
	"#[Buckets =            4, SubBuckets     =         2048]\n";

/* The same in CSV, 2 ticks per half distance, printed in thousands. */
static const char golden_tiny_csv[] =
	"\"Value\",\"Percentile\",\"TotalCount\",\"1/(1-Percentile)\"\n"
	"0.001,0.000000000000,1,1.00\n"
	"0.003,0.250000000000,3,1.33\n"
	"0.005,0.500000000000,5,2.00\n"
	"0.007,0.625000000000,7,2.67\n"
	"0.008,0.750000000000,8,4.00\n"
	"0.009,0.812500000000,9,5.33\n"
	"0.009,0.875000000000,9,8.00\n"
	"0.010,0.906250000000,10,10.67\n"
	"0.010,1.000000000000,10,Infinity\n";

static void
test_output_golden(void **state)
{
	struct sl_hdr h;
	char *s;

	(void)state;
	assert_int_equal(sl_hdr_init(&h, 1, 10000, 3), 0);
	for (uint64_t v = 1; v <= 10; v++)
		sl_hdr_record(&h, v);
	s = capture(sl_hdr_print_percentiles, &h, 5, 1.0);
	assert_string_equal(s, golden_tiny);
	free(s);
	s = capture(sl_hdr_print_csv, &h, 2, 1000.0);
	assert_string_equal(s, golden_tiny_csv);
	free(s);
	sl_hdr_fini(&h);

	/*
	 * The classic example's table: Java rounds the tie 0.9997802734375
	 * up, and prints Max as 1e8's highest equivalent.
	 */
	assert_int_equal(sl_hdr_init(&h, 1, 3600000000ull, 3), 0);
	sl_hdr_record_n(&h, 1000, 10000);
	sl_hdr_record(&h, 100000000);
	s = capture(sl_hdr_print_percentiles, &h, 5, 1.0);
	assert_non_null(strstr(s, "\n    1000.000 0.999780273438      10000        4551.11\n"));
	assert_non_null(strstr(s,
		"\n100007935.000 0.999902343750      10001       10240.00\n"
		"100007935.000 1.000000000000      10001\n"
		"#[Mean    =    10996.417, StdDeviation   =   999641.716]\n"
		"#[Max     = 100007935.000, Total count    =        10001]\n"
		"#[Buckets =           22, SubBuckets     =         2048]\n"));
	free(s);
	sl_hdr_fini(&h);
}

/* Every CSV row has four numeric fields; the last row ends in Infinity. */
static void
test_output_csv(void **state)
{
	uint64_t prev_count = 0;
	double prev_pct = -1;
	size_t rows = 0;
	struct sl_hdr h;
	char *s, *line, *save = NULL;

	(void)state;
	assert_int_equal(sl_hdr_init(&h, 1, HOUR_NS, 3), 0);
	rng_state = 0x5eed0005;
	for (int i = 0; i < 100000; i++)
		sl_hdr_record(&h, rng_log_uniform(HOUR_NS));
	s = capture(sl_hdr_print_csv, &h, 5, 1000.0);
	line = strtok_r(s, "\n", &save);
	assert_string_equal(line, "\"Value\",\"Percentile\",\"TotalCount\",\"1/(1-Percentile)\"");
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		char last[32];
		double v, pct;
		unsigned long long c;

		assert_int_equal(sscanf(line, "%lf,%lf,%llu,%31s", &v, &pct, &c, last), 4);
		assert_true(pct >= prev_pct && pct <= 1.0);
		assert_true(c >= prev_count && c <= 100000);
		if (pct == 1.0) {
			assert_string_equal(last, "Infinity");
			assert_int_equal(c, 100000);
		} else {
			assert_true(strtod(last, NULL) >= 1.0);
		}
		prev_pct = pct;
		prev_count = c;
		rows++;
	}
	assert_true(prev_pct == 1.0);
	assert_true(rows > 50);
	free(s);
	sl_hdr_fini(&h);
}

static void
test_output_json(void **state)
{
	json_error_t err;
	json_t *root, *pcts, *sum;
	struct sl_hdr_iter it;
	struct sl_hdr h;
	size_t rows = 0;
	char *s;

	(void)state;
	assert_int_equal(sl_hdr_init(&h, 1, HOUR_NS, 3), 0);
	rng_state = 0x5eed0006;
	for (int i = 0; i < 100000; i++)
		sl_hdr_record(&h, rng_log_uniform(HOUR_NS));
	sl_hdr_record(&h, HOUR_NS + 5);
	s = capture_json(&h, 5);
	root = json_loads(s, 0, &err);
	if (root == NULL)
		fail_msg("JSON: %s at %d: %s", err.text, err.position, s);
	assert_int_equal(json_integer_value(json_object_get(root, "total_count")), 100001);
	assert_int_equal(json_integer_value(json_object_get(root, "saturated")), 1);
	assert_int_equal(json_integer_value(json_object_get(root, "sigfigs")), 3);
	assert_int_equal(json_integer_value(json_object_get(root, "highest")), (json_int_t)HOUR_NS);
	assert_int_equal(json_integer_value(json_object_get(root, "buckets")), 32);
	assert_int_equal(json_integer_value(json_object_get(root, "sub_buckets")), 2048);
	assert_int_equal(json_integer_value(json_object_get(root, "min")), (json_int_t)sl_hdr_min(&h));
	assert_int_equal(json_integer_value(json_object_get(root, "max")), (json_int_t)(HOUR_NS + 5));
	assert_true(fabs(json_real_value(json_object_get(root, "mean")) - sl_hdr_mean(&h)) < 0.001);
	sum = json_object_get(root, "summary");
	assert_int_equal(json_integer_value(json_object_get(sum, "p50")),
			 (json_int_t)sl_hdr_value_at_percentile(&h, 50));
	assert_int_equal(json_integer_value(json_object_get(sum, "p99.999")),
			 (json_int_t)sl_hdr_value_at_percentile(&h, 99.999));
	assert_int_equal(json_integer_value(json_object_get(sum, "p100")),
			 (json_int_t)sl_hdr_highest_equivalent(&h, HOUR_NS));
	pcts = json_object_get(root, "percentiles");
	assert_true(json_is_array(pcts));
	assert_int_equal(sl_hdr_iter_percentile_init(&it, &h, 5), 0);
	while (sl_hdr_iter_next(&it)) {
		json_t *row = json_array_get(pcts, rows++);

		assert_non_null(row);
		assert_int_equal(json_integer_value(json_object_get(row, "value")),
				 (json_int_t)it.value);
		assert_int_equal(json_integer_value(json_object_get(row, "total_count")),
				 (json_int_t)it.cum_count);
		assert_true(fabs(json_number_value(json_object_get(row, "percentile")) -
				 it.level) < 1e-9);
	}
	assert_int_equal(json_array_size(pcts), rows);
	json_decref(root);
	free(s);

	/* Empty: still valid, with zeros. */
	sl_hdr_reset(&h);
	s = capture_json(&h, 5);
	root = json_loads(s, 0, &err);
	assert_non_null(root);
	assert_int_equal(json_integer_value(json_object_get(root, "total_count")), 0);
	assert_int_equal(json_array_size(json_object_get(root, "percentiles")), 0);
	json_decref(root);
	free(s);
	sl_hdr_fini(&h);
}

static void
test_output_errors(void **state)
{
	struct sl_hdr h;
	FILE *f;

	(void)state;
	assert_int_equal(sl_hdr_init(&h, 1, HOUR_NS, 3), 0);
	sl_hdr_record(&h, 1);
	f = fopen("/dev/null", "w");
	assert_non_null(f);
	assert_int_equal(sl_hdr_print_percentiles(&h, f, 0, 1.0), -EINVAL);
	assert_int_equal(sl_hdr_print_csv(&h, f, 5, 0.0), -EINVAL);
	assert_int_equal(sl_hdr_print_json(&h, f, 0), -EINVAL);
	fclose(f);
	f = fopen("/dev/full", "w");
	if (f != NULL) {
		setvbuf(f, NULL, _IONBF, 0);
		assert_int_equal(sl_hdr_print_percentiles(&h, f, 5, 1.0), -EIO);
		assert_int_equal(sl_hdr_print_json(&h, f, 5), -EIO);
		fclose(f);
	}
	sl_hdr_fini(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_random_vs_sorted),
		cmocka_unit_test(test_adversarial_vs_sorted),
		cmocka_unit_test(test_classic_example),
		cmocka_unit_test(test_corrected_matches_naive),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_saturation),
		cmocka_unit_test(test_caller_memory),
		cmocka_unit_test(test_empty_and_reset),
		cmocka_unit_test(test_iterator_levels),
		cmocka_unit_test(test_output_golden),
		cmocka_unit_test(test_output_csv),
		cmocka_unit_test(test_output_json),
		cmocka_unit_test(test_output_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
