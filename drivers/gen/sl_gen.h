/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_GEN_H
#define SL_GEN_H

/**
 * @file
 * The deterministic event generator, shared by `sluice-gen write` (which
 * writes its rows as CSV, pcap or capture) and the dataplane's `type: gen`
 * source (which hands them to the RX lcore in place). Both call the same
 * code, so a gen job's input is byte-for-byte the rows of the CSV that
 * `sluice-gen write` makes for the same parameters, and sqlite3 over that
 * CSV checks the job. EAL-free, allocation-free.
 *
 * The stream is a pure function of the parameters: one xoshiro256**
 * generator seeded through splitmix64, drawn in a fixed order per event.
 * The order of draws is part of the sample files' identity
 * (configs/samples/ is regenerated from it): change it and they change.
 * Per event i:
 *
 *   1. key index k        = U[0, keys)
 *   2. late               = U[0,1) < late_fraction   (drawn only if > 0)
 *   3. late:  ts = base - disorder - U[1, late_ms]
 *      else:  ts = base - U[0, disorder]             (drawn only if > 0)
 *   4. every other field, in schema order:
 *      integers U[0,100), bool U[0,2), f64 U[0,10000)/100,
 *      str a length U[1,N] then that many letters U['a','z']
 *
 * with base = start + i * 1000 / rate in integer arithmetic (64-bit, as
 * sluice-gen always computed it). Key fields get k: integers as the number,
 * strings as "k<k>" truncated to the field and NUL-padded.
 */

#include <stdbool.h>
#include <stdint.h>

#include "sl_vec.h"

/** What a stream is made of. */
struct sl_gen_params {
	const struct sl_schema *schema;	/**< must outlive the stream */
	uint16_t n_key;				/**< key fields, >= 1 */
	uint16_t key_f[SL_SCHEMA_MAX_FIELDS];	/**< their field indexes */
	uint16_t ts_f;				/**< event-time field index */
	uint64_t seed;
	uint64_t keys;		/**< distinct keys, >= 1 */
	int64_t start_ms;	/**< event time of event 0 */
	uint64_t rate;		/**< events per second of event time, >= 1 */
	uint64_t disorder;	/**< ms: timestamps lag their base by U[0, disorder] */
	double late_fraction;	/**< in [0, 1] */
	uint64_t late_ms;	/**< a late event lags by disorder + U[1, late_ms]; >= 1 if late_fraction > 0 */
};

/** xoshiro256** state. */
struct sl_gen_rng {
	uint64_t s[4];
};

void sl_gen_rng_seed(struct sl_gen_rng *r, uint64_t seed);
uint64_t sl_gen_rng_next(struct sl_gen_rng *r);
/** Uniform in [0, n) without modulo bias (Lemire); n = 0 gives 0. */
uint64_t sl_gen_rng_below(struct sl_gen_rng *r, uint64_t n);

/** How to fill one field, decided once per stream instead of per row. */
struct sl_gen_op {
	uint8_t kind;		/**< private: enum in gen_rows.c */
	uint16_t off;
	uint16_t size;
};

/** A stream: the parameters' events, one after the other. */
struct sl_gen {
	struct sl_gen_params p;
	struct sl_gen_rng rng;
	uint64_t i;		/**< index of the next event */
	int64_t base;		/**< start + i * 1000 / rate, kept incrementally */
	uint64_t rem;		/**< (i * 1000) % rate */
	uint64_t step_q;	/**< 1000 / rate */
	uint64_t step_r;	/**< 1000 % rate */
	uint16_t row_size;
	uint16_t n_keyop;
	uint16_t n_payop;
	uint16_t n_pad;		/**< byte runs no field covers */
	struct sl_gen_op ts;
	struct sl_gen_op pad[SL_SCHEMA_MAX_FIELDS + 1];
	struct sl_gen_op keyop[SL_SCHEMA_MAX_FIELDS];
	struct sl_gen_op payop[SL_SCHEMA_MAX_FIELDS];
};

/**
 * Start a stream at event 0.
 * @return 0, or -EINVAL when the parameters are out of range (keys or rate
 *   0, no key field, late_fraction > 0 with late_ms 0).
 */
int sl_gen_init(struct sl_gen *g, const struct sl_gen_params *p);

/**
 * Write the next n events into rows (n * row_size bytes, contiguous) and
 * advance. A tight loop: no allocation, no call per field.
 * @return how many of them were made late on purpose.
 */
uint32_t sl_gen_fill(struct sl_gen *g, uint8_t *rows, uint32_t n);

/** Event-time base of event i: start + i * 1000 / rate. */
int64_t sl_gen_base_ts(const struct sl_gen_params *p, uint64_t i);

/**
 * Continue at event i (a checkpoint's offset). The draws per event vary
 * (rejection sampling, string lengths), so this replays the stream from
 * the seed: O(i), a few ns per event, once per restore.
 */
void sl_gen_seek(struct sl_gen *g, uint64_t i);

/** Write key index k into the key fields of row (the rest untouched). */
void sl_gen_set_key(const struct sl_gen *g, uint8_t *row, uint64_t k);

/** Fill the non-key, non-time fields of row from r (the others untouched). */
void sl_gen_fill_payload(const struct sl_gen *g, struct sl_gen_rng *r,
			 uint8_t *row);

#endif /* SL_GEN_H */
