/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-ref-join: the compute ceiling of an interval join (issue [4],
 * item 6), beside perf/scenarios/interval-join-*.yaml. The same two
 * streams the scenario's two `type: gen` sources make (sl_gen, seeds 1
 * and 2, schema key:u64,v:u32,ts:timestamp_ms), merged in event-time
 * order, and for every row the rows of the other stream with the same
 * key inside the bounds counted as pairs: left a and right b pair when
 * a.ts + lower <= b.ts <= a.ts + upper (R7.1, inclusive).
 *
 * Why the count is sluice's: both streams are in order (no disorder)
 * with a punctuated watermark max - 1, so no row is late at the join
 * (its ts is above both sources' watermarks) and no partner is purged
 * before its pair completes (a purge needs the watermark at or past the
 * pair's later row): every pair is found once, in whatever order the
 * rows come. So the C loop may take them in merged order, which lets it
 * keep per key only the rows still in reach.
 *
 * State: one open-addressing table of keys, each with a small ring of
 * recent timestamps per side; a row first drops its key's rows out of
 * reach (a left row at ts is out of reach once now > ts + upper, a
 * right one once now > ts - lower), counts the other side's in range,
 * then appends itself. A ring that would overflow is counted and fails
 * the run (raise RING).
 *
 *   sluice-ref-join --keys N --events N (per stream) [--event-rate R]
 *                   --lower-ms L --upper-ms U [--start-ms T]
 *
 * One JSON line, as sluice-ref-count's: events/s over both streams
 * (generation included), generation alone, the pairs (results).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_gen.h"

#define BATCH SL_VEC_MAX
#define RING 8			/* rows in reach per key and side */

struct kslot {
	uint64_t key;
	uint8_t used;
	uint8_t n[2];
	uint8_t head[2];
	int64_t ts[2][RING];
};

struct side {
	struct sl_gen g;
	uint8_t rows[BATCH * 32];	/* 20-byte rows */
	uint32_t n, at;
	uint64_t left;		/* events still to make */
	int64_t ts_off;
};

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static inline uint64_t
fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

/* The next row of a stream, refilling its batch; false at its end. */
static bool
side_next(struct side *s, uint16_t rs, uint64_t *key, int64_t *ts)
{
	const uint8_t *row;

	if (s->at == s->n) {
		if (s->left == 0)
			return false;
		s->n = s->left < BATCH ? (uint32_t)s->left : BATCH;
		sl_gen_fill(&s->g, s->rows, s->n);
		s->left -= s->n;
		s->at = 0;
	}
	row = s->rows + (size_t)s->at * rs;
	memcpy(key, row, 8);
	memcpy(ts, row + s->ts_off, 8);
	return true;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keys", required_argument, NULL, 'k' },
		{ "events", required_argument, NULL, 'n' },
		{ "event-rate", required_argument, NULL, 'r' },
		{ "lower-ms", required_argument, NULL, 'l' },
		{ "upper-ms", required_argument, NULL, 'u' },
		{ "start-ms", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_schema schema;
	struct sl_gen_params gp;
	static struct side sd[2];
	struct kslot *tab;
	uint64_t events = 1000000, slots, mask, pairs = 0, overflow = 0, checksum = 0;
	int64_t lower = -1, upper = 1;
	double t0, t1, t_gen;
	size_t at;
	int c;

	memset(&schema, 0, sizeof(schema));
	if (sl_schema_parse_spec(&schema, "key:u64,v:u32,ts:timestamp_ms", &at) < 0 ||
	    schema.row_size * BATCH > sizeof(sd[0].rows))
		return 1;
	memset(&gp, 0, sizeof(gp));
	gp.schema = &schema;
	gp.n_key = 1;
	gp.key_f[0] = 0;
	gp.ts_f = 2;
	gp.keys = 10000;
	gp.start_ms = 1700000000000LL;
	gp.rate = 1000000;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k': gp.keys = strtoull(optarg, NULL, 10); break;
		case 'n': events = strtoull(optarg, NULL, 10); break;
		case 'r': gp.rate = strtoull(optarg, NULL, 10); break;
		case 'l': lower = strtoll(optarg, NULL, 10); break;
		case 'u': upper = strtoll(optarg, NULL, 10); break;
		case 't': gp.start_ms = strtoll(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: sluice-ref-join --keys N --events N [--event-rate R] --lower-ms L --upper-ms U [--start-ms T]\n");
			return 2;
		}
	}
	if (lower > upper) {
		fprintf(stderr, "sluice-ref-join: --lower-ms must be <= --upper-ms\n");
		return 2;
	}
	for (int s = 0; s < 2; s++) {
		gp.seed = (uint64_t)s + 1;
		if (sl_gen_init(&sd[s].g, &gp) < 0) {
			fprintf(stderr, "sluice-ref-join: --keys and --event-rate must be >= 1\n");
			return 2;
		}
		sd[s].left = events;
		sd[s].ts_off = schema.f[2].offset;
	}
	for (slots = 1024; slots < 2 * gp.keys; slots <<= 1)
		;
	mask = slots - 1;
	tab = calloc(slots, sizeof(*tab));
	if (tab == NULL)
		return 1;

	t0 = now_s();
	for (;;) {
		uint64_t key[2];
		int64_t ts[2];
		bool has[2];
		struct kslot *e;
		int s;

		has[0] = side_next(&sd[0], schema.row_size, &key[0], &ts[0]);
		has[1] = side_next(&sd[1], schema.row_size, &key[1], &ts[1]);
		if (!has[0] && !has[1])
			break;
		s = !has[0] || (has[1] && ts[1] < ts[0]);
		sd[s].at++;
		for (uint64_t h = fmix64(key[s]) & mask;; h = (h + 1) & mask) {
			e = &tab[h];
			if (!e->used || e->key == key[s])
				break;
		}
		e->used = 1;
		e->key = key[s];
		/* Out of reach: left rows with ts + upper < now, right rows
		 * with ts - lower < now (merged order: now only grows). */
		for (int o = 0; o < 2; o++)
			while (e->n[o] > 0) {
				int64_t old = e->ts[o][e->head[o]];

				if ((o == 0 ? old + upper : old - lower) >= ts[s])
					break;
				e->head[o] = (uint8_t)((e->head[o] + 1) % RING);
				e->n[o]--;
			}
		/* Pairs with the other side's rows in reach and in range. */
		for (uint8_t i = 0; i < e->n[!s]; i++) {
			int64_t p = e->ts[!s][(e->head[!s] + i) % RING];
			int64_t d = s == 0 ? p - ts[0] : ts[1] - p;	/* b.ts - a.ts */

			if (d >= lower && d <= upper) {
				pairs++;
				checksum += (uint64_t)(p > ts[s] ? p : ts[s]);
			}
		}
		if (e->n[s] == RING) {
			overflow++;
			continue;
		}
		e->ts[s][(e->head[s] + e->n[s]) % RING] = ts[s];
		e->n[s]++;
	}
	t1 = now_s();
	if (overflow != 0) {
		fprintf(stderr, "sluice-ref-join: %" PRIu64 " rows found their key's ring full (RING %d); the count is wrong\n",
			overflow, RING);
		return 1;
	}

	/* Generation alone, the same rows again. */
	t_gen = now_s();
	for (int s = 0; s < 2; s++) {
		sl_gen_seek(&sd[s].g, 0);
		for (uint64_t done = 0; done < events;) {
			uint32_t n = events - done < BATCH ? (uint32_t)(events - done) : BATCH;

			sl_gen_fill(&sd[s].g, sd[s].rows, n);
			done += n;
			__asm__ volatile("" : : "r"(sd[s].rows) : "memory");
		}
	}
	t_gen = now_s() - t_gen;

	printf("{\"events\": %" PRIu64 ", \"keys\": %" PRIu64 ", \"lower_ms\": %" PRId64
	       ", \"upper_ms\": %" PRId64 ", \"event_rate\": %" PRIu64 ", \"table_slots\": %" PRIu64
	       ", \"seconds\": %.6f, \"events_per_sec\": %.0f, \"gen_events_per_sec\": %.0f"
	       ", \"results\": %" PRIu64 ", \"late\": 0, \"checksum\": %" PRIu64 "}\n",
	       2 * events, gp.keys, lower, upper, gp.rate, slots, t1 - t0,
	       (double)(2 * events) / (t1 - t0), (double)(2 * events) / t_gen, pairs,
	       checksum);
	free(tab);
	return 0;
}
