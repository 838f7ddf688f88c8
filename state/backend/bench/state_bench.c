/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * state_bench: batched get+update throughput of value state (8-byte key,
 * 8-byte value, 256-row batches: hash, prefetch, get_bulk, put_bulk) at
 * 10k and 1M keys on each backend, plus memory per key (heap: arena bytes
 * in use / keys) and disk per key (rocksdb: SST bytes after a flush /
 * keys). Medians of 5 runs. Not a test: run it by hand on a quiet machine.
 *   state_bench [rocksdb-dir]     (default /tmp/sl_state_bench)
 *   state_bench --snapshot [KEYS] (default 2000000)
 * The second form times a heap snapshot's drain, the main lcore's part of
 * a checkpoint: KEYS keys of a window's shape (8-byte key and namespace,
 * 16-byte value) in tables pre-sized as state.key-capacity does, encoded
 * in 1 MiB chunks that the callback copies out as a checkpoint builder
 * does; the drain's rate in state bytes/s and ns per record, medians of
 * 5 (nothing writes during the drain).
 *   state_bench --concurrent [KEYS] [PAIRS] (default 10000000 10)
 * The third form is issue [3]'s aim without the transport: a worker
 * thread updates KEYS keys (uniform, upsert of 256-row batches, as a
 * window does) while, in alternate seconds, it begins a snapshot at the
 * start of the second and a drainer thread encodes it as a checkpoint
 * does (1 MiB chunks copied into 8 MiB buffers, no disk). Noise on a
 * shared machine comes in seconds; pairs of neighbouring seconds share
 * it, so the figure is the median over PAIRS of (updates in a second
 * with a checkpoint / updates in the second before without one), beside
 * the drain time, the undo records the worker saved and its rate.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "sl_state.h"

#define MAXP 128
#define B 256
#define RUNS 5

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

static uint64_t rng = 88172645463325252ull;

static uint64_t
xr(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
fill(struct sl_state_ref *refs, uint64_t *keys, uint64_t nkeys, bool seq,
     uint64_t base)
{
	for (int i = 0; i < B; i++) {
		keys[i] = seq ? base + (uint64_t)i : xr() % nkeys;
		refs[i] = (struct sl_state_ref){ .key = &keys[i],
			.kg = (uint16_t)(keys[i] % MAXP) };
	}
}

static int
run(enum sl_state_backend be, void *mem, size_t mem_len, const char *dir,
    uint64_t nkeys, uint64_t ops, double *ops_s, double *bytes_per_key)
{
	struct sl_state_conf c = { .backend = be, .max_parallelism = MAXP,
				   .first_kg = 0, .last_kg = MAXP - 1,
				   .mem = mem, .mem_len = mem_len, .dir = dir };
	struct sl_state_desc d = { .name = "v", .kind = SL_STATE_VALUE,
				   .key_len = 8, .val_len = 8 };
	struct sl_state_ref refs[B];
	uint64_t keys[B], vals[B];
	uint8_t found[B];
	struct sl_state_stats s;
	struct sl_state *st = sl_state_open(&c);
	double t0;
	int id;

	if (st == NULL)
		return -errno;
	id = sl_state_register(st, &d);
	for (uint64_t k = 0; k < nkeys; k += B) {
		fill(refs, keys, nkeys, true, k);
		for (int i = 0; i < B; i++)
			vals[i] = keys[i];
		sl_state_hash_bulk(st, id, refs, B);
		if (sl_state_value_put_bulk(st, id, refs, B, 0, vals) != 0)
			return -ENOMEM;
	}
	t0 = now_s();
	for (uint64_t n = 0; n < ops; n += B) {
		fill(refs, keys, nkeys, false, 0);
		sl_state_hash_bulk(st, id, refs, B);
		sl_state_prefetch_bulk(st, id, refs, B);
		sl_state_value_get_bulk(st, id, refs, B, 0, vals, found);
		for (int i = 0; i < B; i++)
			vals[i]++;
		sl_state_value_put_bulk(st, id, refs, B, 0, vals);
	}
	*ops_s = (double)ops / (now_s() - t0);
	sl_state_flush(st);
	sl_state_stats(st, &s);
	*bytes_per_key = (double)(be == SL_STATE_BACKEND_HEAP ?
				  s.mem_used : s.disk_bytes) / (double)nkeys;
	sl_state_close(st);
	return 0;
}

struct snap_out {
	uint8_t *buf;
	size_t len, cap;
};

static int
snap_chunk(void *arg, uint16_t kg, const void *buf, size_t len)
{
	struct snap_out *o = arg;

	(void)kg;
	if (o->len + len > o->cap)
		return -ENOSPC;
	memcpy(o->buf + o->len, buf, len);
	o->len += len;
	return 0;
}

static int
snap_run(void *mem, size_t mem_len, uint64_t nkeys)
{
	struct sl_state_conf c = { .backend = SL_STATE_BACKEND_HEAP,
				   .max_parallelism = MAXP,
				   .first_kg = 0, .last_kg = MAXP - 1,
				   .mem = mem, .mem_len = mem_len };
	struct sl_state_desc d = { .name = "w", .kind = SL_STATE_VALUE,
				   .key_len = 8, .ns_len = 8, .val_len = 16,
				   .capacity_hint = (uint32_t)(nkeys / MAXP) };
	struct snap_out o = { 0 };
	double t[RUNS], ns[RUNS];
	struct sl_state *st = sl_state_open(&c);
	int id;

	if (st == NULL)
		return -errno;
	id = sl_state_register(st, &d);
	for (uint64_t k = 0; k < nkeys; k++) {
		uint64_t w = 1, v[2] = { k, 2 * k };
		struct sl_state_ref r = { .key = &k, .ns = &w,
					  .kg = (uint16_t)(k % MAXP) };

		sl_state_hash_bulk(st, id, &r, 1);
		if (sl_state_value_put(st, id, &r, 0, v) != 0)
			return -ENOMEM;
	}
	o.cap = nkeys * 48 + (64u << 20);
	o.buf = malloc(o.cap);
	if (o.buf == NULL)
		return -ENOMEM;
	memset(o.buf, 0, o.cap);	/* faulted in: a builder's buffer is kept */
	for (int r = 0; r < RUNS; r++) {
		struct sl_state_snap *sn;
		double t0;
		int rc;

		o.len = 0;
		if (sl_state_snapshot_begin(st, 0, &sn) < 0)
			return -ENOMEM;
		t0 = now_s();
		while ((rc = sl_state_snapshot_write(sn, 1u << 20, 4u << 20,
						     snap_chunk, &o)) == 1)
			;
		t[r] = now_s() - t0;
		sl_state_snapshot_end(st, sn);
		if (rc < 0)
			return rc;
		ns[r] = t[r] * 1e9 / (double)nkeys;
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_d);
	qsort(ns, RUNS, sizeof(ns[0]), cmp_d);
	printf("heap snapshot drain: %lu keys, %zu bytes encoded, %.1f ms, %.0f MB/s of output, %.1f ns a record (medians of %d)\n",
	       (unsigned long)nkeys, o.len, t[RUNS / 2] * 1e3,
	       (double)o.len / t[RUNS / 2] / 1e6, ns[RUNS / 2], RUNS);
	free(o.buf);
	sl_state_close(st);
	return 0;
}

/* The drainer: 32 buffers of 8 MiB taken in turn, as the dataplane's
 * stream buffers are (the disk's part is left out). */
struct conc {
	struct sl_state_snap *_Atomic snap;	/* set by the worker: drain it */
	atomic_int done;			/* set by the drainer */
	atomic_int quit;
	uint8_t *bufs;
	size_t off;
	double drain_s;
	int rc;
};

#define CONC_BUF (8u << 20)
#define CONC_NBUF 32

static int
conc_chunk(void *arg, uint16_t kg, const void *buf, size_t len)
{
	struct conc *c = arg;

	(void)kg;
	if (c->off % CONC_BUF + len > CONC_BUF)
		c->off = (c->off / CONC_BUF + 1) * CONC_BUF;
	if (c->off + len > (size_t)CONC_NBUF * CONC_BUF)
		c->off = 0;
	memcpy(c->bufs + c->off, buf, len);
	c->off += len;
	return 0;
}

static void *
conc_drainer(void *arg)
{
	struct conc *c = arg;

	while (!atomic_load(&c->quit)) {
		struct sl_state_snap *sn = atomic_load(&c->snap);
		double t0;
		int rc;

		if (sn == NULL)
			continue;
		t0 = now_s();
		while ((rc = sl_state_snapshot_write(sn, 1u << 20, 4u << 20,
						     conc_chunk, c)) == 1)
			;
		c->drain_s += now_s() - t0;
		if (rc < 0)
			c->rc = rc;
		atomic_store(&c->snap, NULL);
		atomic_store(&c->done, 1);
	}
	return NULL;
}

/* One second of updates; with a snapshot begun at its start, ended when
 * the drainer is done. @return rows updated. */
static uint64_t
conc_second(struct sl_state *st, int id, struct conc *c, bool snap,
	    uint64_t nkeys, uint64_t *seed)
{
	struct sl_state_ref refs[B];
	uint64_t keys[B], w = 1, rows = 0;
	uint8_t *vals[B], created[B];
	struct sl_state_snap *sn = NULL;
	double t0 = now_s();

	if (snap) {
		if (sl_state_snapshot_begin(st, 0, &sn) < 0)
			return 0;
		atomic_store(&c->done, 0);
		atomic_store(&c->snap, sn);
	}
	while (now_s() - t0 < 1.0) {
		for (int k = 0; k < 16; k++) {
			for (int i = 0; i < B; i++) {
				*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
				keys[i] = (*seed >> 20) % nkeys;
				refs[i] = (struct sl_state_ref){ .key = &keys[i], .ns = &w,
					.kg = (uint16_t)(keys[i] % MAXP) };
			}
			if (sl_state_fixed_upsert_bulk(st, id, refs, B, vals, created) != 0)
				return 0;
			for (int i = 0; i < B; i++) {
				uint64_t v;

				memcpy(&v, vals[i], 8);
				v++;
				memcpy(vals[i], &v, 8);
			}
			sl_state_fixed_release_bulk(st, id, refs, B, vals);
			rows += B;
		}
		if (sn != NULL && atomic_load(&c->done)) {
			sl_state_snapshot_end(st, sn);
			sn = NULL;
		}
	}
	while (sn != NULL && !atomic_load(&c->done))
		;
	if (sn != NULL)
		sl_state_snapshot_end(st, sn);
	return rows;
}

static int
conc_run(void *mem, size_t mem_len, uint64_t nkeys, int pairs)
{
	struct sl_state_conf cf = { .backend = SL_STATE_BACKEND_HEAP,
				    .max_parallelism = MAXP,
				    .first_kg = 0, .last_kg = MAXP - 1,
				    .mem = mem, .mem_len = mem_len };
	struct sl_state_desc d = { .name = "w", .kind = SL_STATE_VALUE,
				   .key_len = 8, .ns_len = 8, .val_len = 24,
				   .capacity_hint = (uint32_t)(nkeys / MAXP) };
	struct conc c = { .rc = 0 };	/* clang: no 0 for an _Atomic pointer */
	struct sl_state *st = sl_state_open(&cf);
	struct sl_state_stats s0, s1;
	double *ratio = calloc((size_t)pairs, sizeof(double)), rate_a = 0;
	uint64_t seed = 42;
	pthread_t th;
	int id;

	if (st == NULL || ratio == NULL)
		return -ENOMEM;
	id = sl_state_register(st, &d);
	for (uint64_t k = 0; k < nkeys; k++) {
		uint64_t w = 1, v[3] = { k, 2 * k, 0 };
		struct sl_state_ref r = { .key = &k, .ns = &w,
					  .kg = (uint16_t)(k % MAXP) };

		sl_state_hash_bulk(st, id, &r, 1);
		if (sl_state_value_put(st, id, &r, 0, v) != 0)
			return -ENOMEM;
	}
	c.bufs = malloc((size_t)CONC_NBUF * CONC_BUF);
	if (c.bufs == NULL)
		return -ENOMEM;
	memset(c.bufs, 0, (size_t)CONC_NBUF * CONC_BUF);
	if (pthread_create(&th, NULL, conc_drainer, &c) != 0)
		return -EAGAIN;
	(void)conc_second(st, id, &c, true, nkeys, &seed);	/* warm */
	sl_state_stats(st, &s0);
	c.drain_s = 0;
	for (int p = 0; p < pairs; p++) {
		uint64_t a = conc_second(st, id, &c, false, nkeys, &seed);
		uint64_t b = conc_second(st, id, &c, true, nkeys, &seed);

		ratio[p] = a != 0 ? (double)b / (double)a : 0;
		rate_a += (double)a;
	}
	sl_state_stats(st, &s1);
	atomic_store(&c.quit, 1);
	pthread_join(th, NULL);
	qsort(ratio, (size_t)pairs, sizeof(double), cmp_d);
	printf("heap, %lu keys, a checkpoint a second beside the worker: %.3f of the updates without (median of %d pairs of seconds; lowest %.3f, highest %.3f); %.2f M updates/s without; drain %.0f ms; %.0f undo records a checkpoint\n",
	       (unsigned long)nkeys, ratio[pairs / 2], pairs, ratio[0],
	       ratio[pairs - 1], rate_a / pairs / 1e6, c.drain_s * 1e3 / pairs,
	       (double)(s1.cow_slots - s0.cow_slots) / pairs);
	free(ratio);
	free(c.bufs);
	sl_state_close(st);
	return c.rc;
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp/sl_state_bench";
	size_t mem_len = 4ull << 30;
	void *mem = mmap(NULL, mem_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	static const uint64_t sizes[] = { 10000, 1000000 };

	if (mem == MAP_FAILED)
		return 1;
	if (argc > 1 && strcmp(argv[1], "--concurrent") == 0) {
		int rc;

		/* 2 MiB pages, faulted in: as the dataplane's arena */
		(void)madvise(mem, mem_len, MADV_HUGEPAGE);
		memset(mem, 0, mem_len);
		rc = conc_run(mem, mem_len, argc > 2 ? strtoull(argv[2], NULL, 10) :
			      10000000, argc > 3 ? atoi(argv[3]) : 10);
		if (rc < 0)
			fprintf(stderr, "state_bench: %s\n", strerror(-rc));
		return rc < 0;
	}
	if (argc > 1 && strcmp(argv[1], "--snapshot") == 0) {
		int rc = snap_run(mem, mem_len, argc > 2 ?
				  strtoull(argv[2], NULL, 10) : 2000000);

		if (rc < 0)
			fprintf(stderr, "state_bench: %s\n", strerror(-rc));
		return rc < 0;
	}
	printf("%-8s %9s %14s %14s\n", "backend", "keys", "get+upd ops/s",
	       "bytes/key");
	for (int b = 0; b < 2; b++) {
		for (int z = 0; z < 2; z++) {
			double o[RUNS], m[RUNS];
			uint64_t ops = b == 0 ? 4000000 : 400000;

			for (int r = 0; r < RUNS; r++) {
				int rc = run(b ? SL_STATE_BACKEND_ROCKSDB :
					     SL_STATE_BACKEND_HEAP, mem, mem_len,
					     dir, sizes[z], ops, &o[r], &m[r]);

				if (rc < 0) {
					fprintf(stderr, "run failed: %s\n",
						strerror(-rc));
					return 1;
				}
			}
			qsort(o, RUNS, sizeof(o[0]), cmp_d);
			qsort(m, RUNS, sizeof(m[0]), cmp_d);
			printf("%-8s %9lu %14.0f %14.1f %s\n",
			       b ? "rocksdb" : "heap", (unsigned long)sizes[z],
			       o[RUNS / 2], m[RUNS / 2],
			       b ? "(disk: SST after flush)" : "(arena)");
			fflush(stdout);
		}
	}
	return 0;
}
