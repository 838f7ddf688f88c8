/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * state_bench: the worker's hot path alone (issue [5] targets), measured
 * in-process so the transport does not hide it. Vectors of 256 rows of
 * key:u64,v:u32,ts:timestamp_ms are built in memory first (keys uniform,
 * router hashes filled in as the RX lcore would), then sl_win_process()
 * runs a keyed 10 s tumbling count over them on the heap backend; the
 * window fires once at the end (timed apart). Beside it, in the same binary
 * and over the same rows, a plain C open-addressing keyed count: the
 * compute ceiling that every figure is printed against.
 *
 *   win_state_bench [KEYS ...]      (default 10000 1000000 10000000)
 *   env RUNS (5), EVENTS (events per case; default max(10M, 2 x KEYS)),
 *       THP (1: 2 MiB pages for the arena and the plain table; 0: 4 KiB)
 *
 * Medians of RUNS runs, each on a fresh state. Not a test: run it by hand,
 * ideally on a quiet machine; it holds 3 GiB for the heap arena, and
 * ~0.8 GiB of rows and 0.5 GiB of plain table at 10M keys.
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "sl_kg.h"
#include "sl_state.h"
#include "sl_vec.h"
#include "sl_window.h"

#define MAXP 128
/* The heap arena, touched once up front like the hugepage memzone the
 * dataplane gives it: page faults are not the hot path's cost. */
#define REGION (3ull << 30)

static bool thp = true;

/*
 * Memory like a hugepage memzone: 2 MiB pages when THP=1 (the default;
 * transparent huge pages on request), already faulted in. At 10M keys the
 * tables span ~1 GiB: with 4 KiB pages nearly every row's slot is a TLB
 * miss, and page walks, not cache misses, bound the rate (THP=0 shows it).
 */
static void *
big_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (thp)
		(void)madvise(p, len, MADV_HUGEPAGE);
	memset(p, 0, len);
	return p;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *x, int n)
{
	qsort(x, (size_t)n, sizeof(*x), cmp_d);
	return x[n / 2];
}

static uint64_t rng = 88172645463325252ull;

static uint64_t
xr(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct input {
	struct sl_schema in;
	struct sl_vec **v;
	size_t n_vec;
	uint64_t events;
};

static int
input_build(struct input *I, uint64_t keys, uint64_t events)
{
	size_t at;
	int64_t t0 = 1700000000000;

	if (sl_schema_parse_spec(&I->in, "key:u64,v:u32,ts:timestamp_ms", &at) < 0)
		return -EINVAL;
	I->events = events;
	I->n_vec = (size_t)((events + SL_VEC_MAX - 1) / SL_VEC_MAX);
	I->v = calloc(I->n_vec, sizeof(*I->v));
	if (I->v == NULL)
		return -ENOMEM;
	for (size_t j = 0; j < I->n_vec; j++) {
		struct sl_vec *v = aligned_alloc(64, sl_vec_size(I->in.row_size));
		uint16_t n = (uint16_t)(events - j * SL_VEC_MAX < SL_VEC_MAX ?
					events - j * SL_VEC_MAX : SL_VEC_MAX);

		if (v == NULL)
			return -ENOMEM;
		sl_vec_reset(v, I->in.row_size);
		for (uint16_t i = 0; i < n; i++) {
			uint8_t *row = sl_vec_row(v, i);
			uint64_t k = xr() % keys;
			uint64_t e = j * SL_VEC_MAX + i;
			/* 4 s of event time, in order: one window holds it all. */
			int64_t ts = t0 + (int64_t)(e * 4000 / events);

			sl_row_set_int(row, &I->in.f[0], (int64_t)k);
			sl_row_set_int(row, &I->in.f[1], (int64_t)(e & 0xffff));
			sl_row_set_int(row, &I->in.f[2], ts);
			v->hash[i] = sl_kg_hash(row, 8);
		}
		v->n_rows = n;
		sl_vec_select_all(v);
		I->v[j] = v;
	}
	return 0;
}

static void
input_free(struct input *I)
{
	for (size_t j = 0; j < I->n_vec; j++)
		free(I->v[j]);
	free(I->v);
}

static uint8_t out_row[SL_ROW_MAX];
static uint64_t n_out;

static uint8_t *
out_fn(void *ctx)
{
	(void)ctx;
	n_out++;
	return out_row;
}

/* One run of the window: process every vector, then fire. */
static int
win_run(const struct input *I, void *mem, uint64_t keys, double *proc_s,
	double *fire_s, uint64_t *bytes)
{
	struct sl_state_conf sc = { .backend = SL_STATE_BACKEND_HEAP,
				    .max_parallelism = MAXP, .first_kg = 0,
				    .last_kg = MAXP - 1, .mem = mem,
				    .mem_len = REGION };
	struct sl_win_conf c;
	struct sl_state *st = sl_state_open(&sc);
	struct sl_win w;
	double t0, t1;
	int rc;

	if (st == NULL)
		return -errno;
	memset(&c, 0, sizeof(c));
	c.in = &I->in;
	c.ts_field = 2;
	c.size = 10000;
	c.n_keys = 1;
	c.key_field[0] = 0;
	c.n_aggs = 1;
	c.agg[0] = (struct sl_win_agg){ SL_WIN_COUNT, -1, "count" };
	c.capacity = (uint32_t)keys;
	c.max_parallelism = MAXP;
	c.last_kg = MAXP - 1;
	rc = sl_win_init(&w, &c, st);
	if (rc < 0) {
		sl_state_close(st);
		return rc;
	}
	t0 = now_s();
	for (size_t j = 0; j < I->n_vec; j++)
		sl_win_process(&w, I->v[j]);
	t1 = now_s();
	n_out = 0;
	sl_win_advance(&w, SL_TS_MAX, out_fn, NULL);
	*fire_s = now_s() - t1;
	*proc_s = t1 - t0;
	*bytes = w.stats.state_bytes;
	rc = w.stats.rows_in != I->events || w.stats.state_full_dropped != 0 ||
	     w.stats.late_dropped != 0 || n_out > keys ? -EIO : 0;
	sl_win_fini(&w);
	sl_state_close(st);
	return rc;
}

/* The compute ceiling: a keyed count into one open-addressing table. */
static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ull;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ull;
	return x ^ (x >> 32);
}

struct plain_slot {
	uint64_t k, c;
};

static uint64_t
plain_cap(uint64_t keys)
{
	uint64_t cap = 16;

	while (cap < keys * 8 / 7 + 1)
		cap *= 2;
	return cap;
}

static int
plain_run(const struct input *I, struct plain_slot *t, uint64_t keys,
	  double *s, uint64_t *sum)
{
	const uint64_t cap = plain_cap(keys), mask = cap - 1;
	uint64_t tot = 0;
	double t0;

	memset(t, 0, cap * sizeof(*t));
	t0 = now_s();
	for (size_t j = 0; j < I->n_vec; j++) {
		const struct sl_vec *v = I->v[j];

		for (uint16_t i = 0; i < v->n_rows; i++) {
			uint64_t k, h;

			memcpy(&k, sl_vec_crow(v, i), 8);
			/* key + 1: slot key 0 means empty */
			k++;
			h = mix64(k) & mask;
			while (t[h].k != k && t[h].k != 0)
				h = (h + 1) & mask;
			t[h].k = k;
			t[h].c++;
		}
	}
	*s = now_s() - t0;
	for (uint64_t h = 0; h < cap; h++)
		tot += t[h].c;
	*sum = tot;
	return 0;
}

int
main(int argc, char **argv)
{
	static const uint64_t dflt[] = { 10000, 1000000, 10000000 };
	const char *e = getenv("RUNS");
	int runs = e != NULL ? atoi(e) : 5;
	int n_cases = argc > 1 ? argc - 1 : 3;
	void *mem;

	if (getenv("THP") != NULL)
		thp = atoi(getenv("THP")) != 0;
	mem = big_alloc(REGION);
	if (mem == NULL || runs < 1 || runs > 99) {
		fprintf(stderr, "state_bench: no memory, or RUNS not in 1..99\n");
		return 1;
	}
	printf("%s pages, medians of %d runs\n\n", thp ? "2 MiB (THP)" : "4 KiB", runs);
	printf("| keys | events | window M ev/s (process) | with fire | plain C loop M ev/s | ratio | state B/key |\n");
	printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
	for (int z = 0; z < n_cases; z++) {
		uint64_t keys = argc > 1 ? strtoull(argv[z + 1], NULL, 10) : dflt[z];
		uint64_t events = keys * 2 > 10000000 ? keys * 2 : 10000000;
		double p[99], f[99], q[99], pm, fm, qm;
		uint64_t bytes = 0, sum;
		struct plain_slot *t;
		struct input I;

		if (getenv("EVENTS") != NULL)
			events = strtoull(getenv("EVENTS"), NULL, 10);
		if (keys == 0 || events == 0 || input_build(&I, keys, events) < 0) {
			fprintf(stderr, "state_bench: cannot build %" PRIu64 " keys\n", keys);
			return 1;
		}
		t = big_alloc(plain_cap(keys) * sizeof(*t));
		if (t == NULL)
			return 1;
		for (int r = 0; r < runs; r++) {
			double ps, fs, qs;
			int rc = win_run(&I, mem, keys, &ps, &fs, &bytes);

			if (rc < 0) {
				fprintf(stderr, "state_bench: window run failed: %s\n",
					strerror(-rc));
				return 1;
			}
			if (plain_run(&I, t, keys, &qs, &sum) < 0 || sum != events)
				return 1;
			p[r] = (double)events / ps;
			f[r] = (double)events / (ps + fs);
			q[r] = (double)events / qs;
		}
		pm = median(p, runs);
		fm = median(f, runs);
		qm = median(q, runs);
		printf("| %" PRIu64 " | %" PRIu64 " | %.2f | %.2f | %.2f | %.2f | %.0f |\n",
		       keys, events, pm / 1e6, fm / 1e6, qm / 1e6, pm / qm,
		       (double)bytes / (double)keys);
		fflush(stdout);
		input_free(&I);
		munmap(t, plain_cap(keys) * sizeof(*t));
	}
	return 0;
}
