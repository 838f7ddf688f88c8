/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-ref-count: the compute ceiling (issue 6, item 5). A plain C loop
 * doing what a keyed tumbling count job does, with nothing of sluice's
 * engine around it: the same rows from the same generator (sl_gen, as the
 * `type: gen` source makes them, 256 at a time into one buffer), a
 * bounded-out-of-orderness watermark per batch, and a count per (window,
 * key) in an open-addressing table per open window. A window fires when
 * the watermark passes its end: its live slots are visited (the "output":
 * a checksum and a row count) and the table is cleared for reuse.
 *
 * The table is linear probing over 16-byte slots {key, count}, sized to a
 * power of two >= 2x the keys a window can hold, so probes stay short.
 * Across a batch, every row's home slot is computed and prefetched first,
 * then the rows are counted: with millions of keys each row is a cache
 * miss, and overlapping the misses of a batch is what makes the large
 * cases fast (the same trick sl_state uses).
 *
 * It prints one JSON line: events/s of the whole run (generation
 * included, as in sluice's in-process figure), events/s of generation
 * alone (a second pass, for the reader to subtract), the number of
 * results (which must equal sluice's sink rows for the same job) and the
 * late rows dropped.
 *
 * With --slide-ms S (< W) the windows slide, as `window: {sliding: W,
 * slide: S}` does: each row is counted in every window of it that is not
 * late (one pass over the batch per window, newest first), and counted
 * as late only when its newest window is (semantics.md R3.2).
 *
 * With --session-gap-ms G it counts per key in event-time session
 * windows, as `window: {session: G}` does on in-order input (the
 * scenario's gen source has no disorder): one open-addressing table of
 * every key's open session {key, last ts, count}, prefetched across a
 * batch like the window tables; a row more than G after its key's last
 * one (not touching [start, last + G)) ends that session (a result) and
 * starts the next, and so does a row exactly G after it when the
 * watermark (punctuated: max ts - 1 after each batch, as the scenario's
 * source emits it) had already passed the session's end - 1: the session
 * fired and was purged, so the touching row opens a new one (Flink's
 * rule). The end of input ends every open one.
 *
 * With --top-k K a firing window's "output" is only its K largest
 * counts, ties by key ascending, ranked 1..K, as `top_k: {k: K, by:
 * count}` writes them: the live slots go through a bounded min-heap of K
 * entries, then the K are popped best first. The results are those rows,
 * and "topk_checksum" sums key * 31 + count + rank * 7 + window start
 * over them (mod 2^64), which perf/bench/inproc.sh recomputes from
 * sluice's output to check the run.
 *
 * With --count-timeout-ms T it does what the process scenarios
 * (perf/scenarios/process-timeout-*.yaml, the builtin count_with_timeout,
 * semantics.md W4.2) do on in-order input: per key {count, last ts} in an
 * open-addressing table, and each row's timer at ts + T in a FIFO (the
 * input is in order, so timers come due in the order they were set; a
 * row at its key's last ts sets none: the timer coalesces). After each
 * batch the watermark (max ts - 1) fires every due timer: a result when
 * the key's last ts + T is the timer's time. The end of input fires the
 * rest.
 *
 * With --filter-map it does instead what perf/scenarios/stateless-filter-
 * map.yaml does: keep rows with v % 3 != 0 and write for each an output
 * row {key, ts, v * 2 - 1001, v / 4.0, v % 2 == 1} into a buffer of a
 * batch (the "output": a checksum and a row count), no state.
 *
 *   sluice-ref-count --keys N --events N [--event-rate R] [--window-ms W]
 *                    [--slide-ms S] [--out-of-orderness-ms B]
 *                    [--disorder-ms D] [--seed S] [--start-ms T]
 *                    [--session-gap-ms G] [--count-timeout-ms T]
 *                    [--top-k K] [--filter-map]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_gen.h"

#define BATCH SL_VEC_MAX
#define MAX_OPEN 64		/* open windows at once */

struct slot {
	uint64_t key;
	uint64_t count;		/* 0: empty */
};

struct win {
	int64_t start;
	struct slot *t;		/* NULL: not open */
	uint64_t used;
};

struct ref {
	struct win w[MAX_OPEN];
	struct slot *spare[MAX_OPEN];	/* cleared tables for reuse */
	unsigned int n_spare;
	uint64_t mask;
	int64_t size;
	uint64_t results, checksum, late;
	uint64_t topk;			/* --top-k K; 0: every row */
	struct slot *heap;		/* K entries, the worst at [0] */
	uint64_t topk_checksum;
};

/* a ranks below b: a smaller count, or the same and a larger key */
static inline bool
tk_worse(const struct slot *a, const struct slot *b)
{
	return a->count < b->count || (a->count == b->count && a->key > b->key);
}

static void
tk_down(struct slot *h, uint64_t n, uint64_t i)
{
	struct slot e = h[i];

	for (;;) {
		uint64_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && tk_worse(&h[c + 1], &h[c]))
			c++;
		if (!tk_worse(&h[c], &e))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = e;
}

/* One window's K best of its live slots, written as results. */
static void
fire_topk(struct ref *r, const struct win *w)
{
	struct slot *h = r->heap;
	uint64_t m = 0;

	for (uint64_t s = 0; s <= r->mask; s++) {
		const struct slot *e = &w->t[s];

		if (e->count == 0)
			continue;
		if (m < r->topk) {
			uint64_t i = m++;

			/* sift up */
			while (i > 0 && tk_worse(e, &h[(i - 1) / 2])) {
				h[i] = h[(i - 1) / 2];
				i = (i - 1) / 2;
			}
			h[i] = *e;
		} else if (tk_worse(&h[0], e)) {
			h[0] = *e;
			tk_down(h, m, 0);
		}
	}
	for (uint64_t rank = m; rank > 0; rank--) {
		r->results++;
		r->topk_checksum += h[0].key * 31 + h[0].count + rank * 7 +
				    (uint64_t)w->start;
		h[0] = h[rank - 1];
		tk_down(h, rank - 1, 0);
	}
}

static inline uint64_t
fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct win *
win_get(struct ref *r, int64_t start)
{
	struct win *free_w = NULL;

	for (int i = 0; i < MAX_OPEN; i++) {
		if (r->w[i].t != NULL && r->w[i].start == start)
			return &r->w[i];
		if (r->w[i].t == NULL && free_w == NULL)
			free_w = &r->w[i];
	}
	if (free_w == NULL) {
		fprintf(stderr, "sluice-ref-count: more than %d open windows; raise MAX_OPEN\n",
			MAX_OPEN);
		exit(1);
	}
	if (r->n_spare > 0) {
		free_w->t = r->spare[--r->n_spare];
	} else {
		free_w->t = calloc(r->mask + 1, sizeof(struct slot));
		if (free_w->t == NULL) {
			fprintf(stderr, "sluice-ref-count: no memory for a %" PRIu64 "-slot table\n",
				r->mask + 1);
			exit(1);
		}
	}
	free_w->start = start;
	free_w->used = 0;
	return free_w;
}

struct sess {
	uint64_t key;
	int64_t last;
	uint64_t count;		/* 0: empty */
};

/* Session counts over every batch of the run; see the header comment. */
static void
run_sessions(struct ref *r, struct sl_gen *g, const struct sl_schema *schema,
	     uint64_t events, uint64_t keys, int64_t gap)
{
	static uint8_t rows[BATCH * 32];
	struct sess *slot[BATCH];
	uint64_t mask, n_slots;
	struct sess *t;
	const uint16_t rs = schema->row_size, ts_off = schema->f[2].offset;
	int64_t wm = INT64_MIN, max_ts = INT64_MIN;

	for (n_slots = 1024; n_slots < 2 * keys; n_slots <<= 1)
		;
	mask = n_slots - 1;
	t = calloc(n_slots, sizeof(*t));
	if (t == NULL) {
		fprintf(stderr, "sluice-ref-count: no memory for %" PRIu64 " sessions\n", n_slots);
		exit(1);
	}
	for (uint64_t done = 0; done < events;) {
		uint32_t n = events - done < BATCH ? (uint32_t)(events - done) : BATCH;

		sl_gen_fill(g, rows, n);
		done += n;
		for (uint32_t i = 0; i < n; i++) {
			uint64_t key;

			memcpy(&key, rows + (size_t)i * rs, 8);
			slot[i] = &t[fmix64(key) & mask];
			__builtin_prefetch(slot[i], 1, 3);
		}
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *row = rows + (size_t)i * rs;
			struct sess *e = slot[i];
			uint64_t key;
			int64_t ts;

			memcpy(&key, row, 8);
			memcpy(&ts, row + ts_off, 8);
			while (e->count != 0 && e->key != key)
				e = e == &t[mask] ? t : e + 1;
			max_ts = ts > max_ts ? ts : max_ts;
			if (e->count != 0 && (ts > e->last + gap ||
					      (ts == e->last + gap && wm >= e->last + gap - 1))) {
				r->results++;
				r->checksum += e->key * 31 + e->count;
				e->count = 0;
			}
			if (e->count == 0) {
				e->key = key;
				e->last = ts;
			}
			e->last = ts > e->last ? ts : e->last;
			e->count++;
		}
		wm = max_ts - 1;
	}
	for (uint64_t j = 0; j <= mask; j++)
		if (t[j].count != 0) {
			r->results++;
			r->checksum += t[j].key * 31 + t[j].count;
		}
	free(t);
}

struct ckey {
	uint64_t key;
	uint64_t count;		/* 0: empty */
	int64_t last;
};

struct ctimer {
	struct ckey *e;
	int64_t t;
};

/* count_with_timeout over every batch of the run; see the header comment. */
static void
run_count_timeout(struct ref *r, struct sl_gen *g, const struct sl_schema *schema,
		  uint64_t events, uint64_t keys, uint64_t rate, int64_t timeout)
{
	static uint8_t rows[BATCH * 32];
	struct ckey *slot[BATCH];
	const uint16_t rs = schema->row_size, ts_off = schema->f[2].offset;
	uint64_t mask, n_slots, qcap, qmask, head = 0, tail = 0;
	int64_t max_ts = INT64_MIN;
	struct ctimer *q;
	struct ckey *t;

	for (n_slots = 1024; n_slots < 2 * keys; n_slots <<= 1)
		;
	mask = n_slots - 1;
	/* Timers pending at once: the rows of timeout ms, and a batch. */
	for (qcap = 1024; qcap < rate / 1000 * (uint64_t)(timeout + 2) + 2 * BATCH; qcap <<= 1)
		;
	qmask = qcap - 1;
	t = calloc(n_slots, sizeof(*t));
	q = calloc(qcap, sizeof(*q));
	if (t == NULL || q == NULL) {
		fprintf(stderr, "sluice-ref-count: no memory for %" PRIu64 " keys\n", n_slots);
		exit(1);
	}
	for (uint64_t done = 0; done < events;) {
		uint32_t n = events - done < BATCH ? (uint32_t)(events - done) : BATCH;
		int64_t wm;

		sl_gen_fill(g, rows, n);
		done += n;
		for (uint32_t i = 0; i < n; i++) {
			uint64_t key;

			memcpy(&key, rows + (size_t)i * rs, 8);
			slot[i] = &t[fmix64(key) & mask];
			__builtin_prefetch(slot[i], 1, 3);
		}
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *row = rows + (size_t)i * rs;
			struct ckey *e = slot[i];
			uint64_t key;
			int64_t ts;

			memcpy(&key, row, 8);
			memcpy(&ts, row + ts_off, 8);
			while (e->count != 0 && e->key != key)
				e = e == &t[mask] ? t : e + 1;
			max_ts = ts > max_ts ? ts : max_ts;
			if (e->count == 0 || e->last != ts) {
				if (tail - head == qcap) {
					fprintf(stderr, "sluice-ref-count: more than %" PRIu64 " timers pending\n", qcap);
					exit(1);
				}
				q[tail & qmask].e = e;
				q[tail & qmask].t = ts + timeout;
				tail++;
			}
			e->key = key;
			e->count++;
			e->last = ts;
		}
		wm = max_ts - 1;
		for (; head != tail && q[head & qmask].t <= wm; head++) {
			const struct ctimer *x = &q[head & qmask];

			if (x->e->last + timeout == x->t) {
				r->results++;
				r->checksum += x->e->key * 31 + x->e->count + (uint64_t)x->t;
			}
		}
	}
	for (; head != tail; head++) {
		const struct ctimer *x = &q[head & qmask];

		if (x->e->last + timeout == x->t) {
			r->results++;
			r->checksum += x->e->key * 31 + x->e->count + (uint64_t)x->t;
		}
	}
	free(q);
	free(t);
}

/* Fire every window whose end - 1 <= wm: visit its live slots, clear it. */
static void
fire(struct ref *r, int64_t wm)
{
	for (int i = 0; i < MAX_OPEN; i++) {
		struct win *w = &r->w[i];

		if (w->t == NULL || w->start + r->size - 1 > wm)
			continue;
		if (r->topk != 0)
			fire_topk(r, w);
		for (uint64_t s = 0; r->topk == 0 && s <= r->mask; s++) {
			if (w->t[s].count != 0) {
				r->results++;
				r->checksum += w->t[s].key * 31 + w->t[s].count +
					       (uint64_t)w->start;
			}
		}
		memset(w->t, 0, (r->mask + 1) * sizeof(struct slot));
		r->spare[r->n_spare++] = w->t;
		w->t = NULL;
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keys", required_argument, NULL, 'k' },
		{ "events", required_argument, NULL, 'n' },
		{ "event-rate", required_argument, NULL, 'r' },
		{ "window-ms", required_argument, NULL, 'w' },
		{ "slide-ms", required_argument, NULL, 'l' },
		{ "out-of-orderness-ms", required_argument, NULL, 'b' },
		{ "disorder-ms", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "start-ms", required_argument, NULL, 't' },
		{ "filter-map", no_argument, NULL, 'f' },
		{ "session-gap-ms", required_argument, NULL, 'g' },
		{ "top-k", required_argument, NULL, 'K' },
		{ "count-timeout-ms", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_schema schema;
	struct sl_gen_params gp;
	struct sl_gen g;
	struct ref *r;
	uint64_t events = 10000000, per_window, slots;
	int64_t b = 0, wm = INT64_MIN, max_ts = INT64_MIN, slide = 0, gap = 0, cto = 0;
	uint32_t n_pass;
	static uint8_t rows[BATCH * 32];
	uint64_t hash[BATCH];
	struct win *rw[BATCH], *last = NULL;
	size_t at;
	double t0, t1, t_gen;
	bool filter_map = false, events_done = false;
	int c;

	memset(&schema, 0, sizeof(schema));
	if (sl_schema_parse_spec(&schema, "key:u64,v:u32,ts:timestamp_ms", &at) < 0)
		return 1;
	memset(&gp, 0, sizeof(gp));
	gp.schema = &schema;
	gp.n_key = 1;
	gp.key_f[0] = 0;
	gp.ts_f = 2;
	gp.seed = 1;
	gp.keys = 10000;
	gp.start_ms = 1700000000000LL;
	gp.rate = 1000000;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return 1;
	r->size = 1000;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		uint64_t v = optarg != NULL ? strtoull(optarg, NULL, 10) : 0;

		switch (c) {
		case 'k': gp.keys = v; break;
		case 'n': events = v; break;
		case 'r': gp.rate = v; break;
		case 'w': r->size = (int64_t)v; break;
		case 'l': slide = (int64_t)v; break;
		case 'b': b = (int64_t)v; break;
		case 'd': gp.disorder = v; break;
		case 's': gp.seed = v; break;
		case 't': gp.start_ms = strtoll(optarg, NULL, 10); break;
		case 'f': filter_map = true; break;
		case 'g': gap = (int64_t)v; break;
		case 'K': r->topk = v; break;
		case 'c': cto = (int64_t)v; break;
		default:
			fprintf(stderr, "usage: sluice-ref-count --keys N --events N [--event-rate R] [--window-ms W] [--slide-ms S] [--out-of-orderness-ms B] [--disorder-ms D] [--seed S] [--start-ms T] [--session-gap-ms G] [--count-timeout-ms T] [--top-k K] [--filter-map]\n");
			return 2;
		}
	}
	if (slide <= 0 || slide > r->size)
		slide = r->size;	/* tumbling */
	n_pass = (uint32_t)((r->size + slide - 1) / slide);
	if (r->topk != 0 && (gap > 0 || cto > 0 || filter_map || r->topk > (1u << 20) ||
			     (r->heap = calloc(r->topk, sizeof(*r->heap))) == NULL)) {
		fprintf(stderr, "sluice-ref-count: --top-k needs a tumbling or sliding count and K <= 1048576\n");
		return 2;
	}
	if (r->size <= 0 || sl_gen_init(&g, &gp) < 0) {
		fprintf(stderr, "sluice-ref-count: --keys, --event-rate and --window-ms must be >= 1\n");
		return 2;
	}
	/* Keys one window can hold: fewer than the keys when it holds
	 * fewer events (disorder spreads a window's rows a little wider). */
	per_window = (uint64_t)r->size * gp.rate / 1000 + 1;
	per_window = per_window < gp.keys ? per_window : gp.keys;
	for (slots = 1024; slots < 2 * per_window; slots <<= 1)
		;
	r->mask = slots - 1;

	t0 = now_s();
	if (gap > 0) {
		run_sessions(r, &g, &schema, events, gp.keys, gap);
		events_done = true;
	} else if (cto > 0) {
		run_count_timeout(r, &g, &schema, events, gp.keys, gp.rate, cto);
		events_done = true;
	}
	for (uint64_t done = 0; filter_map && !events_done && done < events;) {
		uint32_t n = events - done < BATCH ? (uint32_t)(events - done) : BATCH;
		const uint16_t rs = schema.row_size;
		static uint8_t out[BATCH * 33];
		uint32_t k = 0;

		sl_gen_fill(&g, rows, n);
		done += n;
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *row = rows + (size_t)i * rs;
			uint8_t *o = out + (size_t)k * 33;
			uint32_t v;
			int64_t v2;
			double q;

			memcpy(&v, row + schema.f[1].offset, 4);
			memcpy(o, row, 8);
			memcpy(o + 8, row + schema.f[2].offset, 8);
			v2 = (int64_t)v * 2 - 1001;
			q = (double)v / 4.0;
			memcpy(o + 16, &v2, 8);
			memcpy(o + 24, &q, 8);
			o[32] = v % 2 == 1;
			k += v % 3 != 0;
		}
		r->results += k;
		for (uint32_t j = 0; j < k; j++)
			r->checksum += out[(size_t)j * 33 + 16];
	}
	for (uint64_t done = 0; !filter_map && !events_done && done < events;) {
		uint32_t n = events - done < BATCH ? (uint32_t)(events - done) : BATCH;
		const uint16_t rs = schema.row_size;

		sl_gen_fill(&g, rows, n);
		done += n;
		for (uint32_t p = 0; p < n_pass; p++) {
		/* Pass 1: window, late check, hash, prefetch the home slot. */
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *row = rows + (size_t)i * rs;
			uint64_t key;
			int64_t ts, ws;

			memcpy(&key, row, 8);
			memcpy(&ts, row + schema.f[2].offset, 8);
			max_ts = ts > max_ts ? ts : max_ts;
			ws = ts - (((ts % slide) + slide) % slide) - (int64_t)p * slide;
			if (ws <= ts - r->size) {
				rw[i] = NULL;	/* in fewer windows (slide does not divide) */
				continue;
			}
			if (wm != INT64_MIN && ws + r->size - 1 <= wm) {
				rw[i] = NULL;
				if (p == 0)
					r->late++;
				continue;
			}
			/* Rows of a batch nearly always share a window. */
			if (last == NULL || last->t == NULL || last->start != ws)
				last = win_get(r, ws);
			rw[i] = last;
			hash[i] = fmix64(key);
			__builtin_prefetch(&rw[i]->t[hash[i] & r->mask], 1, 3);
		}
		/* Pass 2: count; the slots are (mostly) in cache now. */
		for (uint32_t i = 0; i < n; i++) {
			struct win *w = rw[i];
			uint64_t key, s;

			if (w == NULL)
				continue;
			memcpy(&key, rows + (size_t)i * rs, 8);
			for (s = hash[i] & r->mask;; s = (s + 1) & r->mask) {
				struct slot *e = &w->t[s];

				if (e->count == 0) {
					e->key = key;
					e->count = 1;
					w->used++;
					break;
				}
				if (e->key == key) {
					e->count++;
					break;
				}
			}
		}
		}
		/* The watermark after the batch, as sluice's punctuated mode. */
		if (max_ts - b - 1 > wm) {
			wm = max_ts - b - 1;
			fire(r, wm);
		}
	}
	if (!events_done)
		fire(r, INT64_MAX);	/* end of input */
	t1 = now_s();

	/* Generation alone, the same rows again. */
	sl_gen_seek(&g, 0);
	t_gen = now_s();
	for (uint64_t done = 0; done < events;) {
		uint32_t n = events - done < BATCH ? (uint32_t)(events - done) : BATCH;

		sl_gen_fill(&g, rows, n);
		done += n;
		__asm__ volatile("" : : "r"(rows) : "memory");
	}
	t_gen = now_s() - t_gen;

	printf("{\"events\": %" PRIu64 ", \"keys\": %" PRIu64 ", \"window_ms\": %" PRId64
	       ", \"event_rate\": %" PRIu64 ", \"table_slots\": %" PRIu64
	       ", \"seconds\": %.6f, \"events_per_sec\": %.0f, \"gen_events_per_sec\": %.0f"
	       ", \"results\": %" PRIu64 ", \"late\": %" PRIu64 ", \"checksum\": %" PRIu64,
	       events, gp.keys, r->size, gp.rate, slots, t1 - t0,
	       (double)events / (t1 - t0), (double)events / t_gen, r->results,
	       r->late, r->checksum);
	if (r->topk != 0)
		printf(", \"top_k\": %" PRIu64 ", \"topk_checksum\": %" PRIu64, r->topk,
		       r->topk_checksum);
	printf("}\n");
	free(r->heap);
	return 0;
}
