/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_DEDUP_H
#define SL_DEDUP_H

/**
 * @file
 * Keyed deduplication within an event-time bound: Flink SQL's
 * deduplication that keeps the first row per key (ROW_NUMBER() ... = 1
 * ordered by arrival), with its state retention as the bound. EAL-free.
 *
 * Per key, in arrival order on the owning instance:
 *  - the first row is emitted and remembered with its event time t0;
 *  - a later row with ts < t0 + within is a duplicate: dropped, counted
 *    (whatever its ts is otherwise: a row older than t0 is one too);
 *  - the first row with ts >= t0 + within is emitted and becomes t0.
 * Output rows are the input rows, unchanged, in arrival order.
 *
 * State and cleanup. t0 is one 8-byte value state per key ("dedup", key =
 * the key fields' bytes, no namespace) updated in place with
 * sl_state_fixed_upsert_bulk, so checkpoints, N->M restores and both
 * backends cover it. It is removed once the watermark reaches
 * t0 + within - 1: from then on every row that could still be a
 * duplicate of t0 (ts <= t0 + within - 1 <= WM) is late, the same point
 * at which a window [t0, t0 + within) would fire and, with L = 0, be
 * purged (R3.1, R3.4). Removal is an event-time timer (sl_timer,
 * descriptors "dedup.et"/"dedup.pt", in the same state) set when a key's
 * entry is created. When t0 moves on, the timer is not moved: when it
 * fires and finds a newer t0, it sets the timer for that one (the timer
 * service allows that from a callback, C1). So the hot path touches the
 * timer service only for new keys, and a key costs one timer at a time.
 *
 * Where that differs from infinite state: only for a row that arrives
 * after its key's entry was removed and has ts < t0 + within. Such a row
 * is late (ts <= WM); it starts a new t0 and is emitted, where unbounded
 * state would have dropped it. Rows no later than the watermark promises
 * (lag behind the maximum <= out_of_orderness) never see the difference.
 * The watermark is not in a checkpoint (R1.11): after a restore entries
 * live until the new watermark passes them again, so a late row may then
 * be dropped that a failure-free run emitted; again only late rows.
 *
 * Threads: the thread that owns the sl_state. sl_dedup_process()
 * allocates nothing, takes no lock and makes no system call on the heap
 * backend (the timer heap grows by doubling, amortised).
 */

#include <stddef.h>
#include <stdint.h>

#include "sl_state.h"
#include "sl_vec.h"

#define SL_DEDUP_MAX_KEYS 8
#define SL_DEDUP_KEY_MAX 256	/**< bytes of the key fields (sl_timer's key limit) */

struct sl_dedup_conf {
	const struct sl_schema *in;
	int ts_field;			/**< event-time field (any integer type) */
	int64_t within;			/**< > 0, ms */
	uint16_t n_keys;
	int key_field[SL_DEDUP_MAX_KEYS];
	uint32_t capacity;		/**< expected keys per instance: pre-sizes heap tables */
	uint32_t max_parallelism;	/**< key groups of the job */
	uint32_t first_kg, last_kg;	/**< key groups this instance owns */
};

/** Counters; single writer (the owning thread). */
struct sl_dedup_stats {
	uint64_t rows_in;
	uint64_t rows_out;
	uint64_t dup_dropped;		/**< duplicates within the bound */
	uint64_t keys_expired;		/**< entries removed by the watermark */
	uint64_t state_full_dropped;	/**< refused by the state backend: raise its memory */
	uint64_t state_errors;		/**< backend I/O errors (rocksdb): rows lost, see the log */
};

struct dedup_scratch;	/* private */
struct sl_timer;

struct sl_dedup {
	struct sl_dedup_conf conf;
	struct sl_dedup_stats stats;
	uint32_t key_len;
	int32_t key_off;		/**< key fields side by side in the row: their offset; else -1 */
	struct sl_state *st;
	int sid;			/**< the "dedup" descriptor */
	struct sl_timer *tm;
	struct dedup_scratch *s;
	struct sl_state_snap *snap;	/**< a snapshot in progress, or NULL */
};

/** Called once per output row; returns where to write in->row_size bytes. */
typedef uint8_t *(*sl_dedup_out_fn)(void *ctx);

/**
 * Check a configuration without allocating.
 * @return 0, or -EINVAL with msg saying what to change.
 */
int sl_dedup_conf_check(const struct sl_dedup_conf *c, char *msg, size_t msglen);

/**
 * Create an instance over st (open, of the calling thread), registering
 * its descriptors, so call it before sl_state_restore() of a checkpoint.
 * @return 0 or a negative errno.
 */
int sl_dedup_init(struct sl_dedup *d, const struct sl_dedup_conf *c,
		  struct sl_state *st);
/** Release the operator's memory (not st). */
void sl_dedup_fini(struct sl_dedup *d);

/**
 * Judge the selected rows of v (v->sel[0..n_sel), key hashes in
 * v->hash[] by row index, as the router sets them) in order, writing each
 * row that is kept through out(ctx). Hot path.
 * @return rows written.
 */
uint16_t sl_dedup_process(struct sl_dedup *d, const struct sl_vec *v,
			  sl_dedup_out_fn out, void *ctx);

/**
 * WM(wm): remove every key whose t0 + within - 1 <= wm. No output.
 * @return entries removed, or a negative errno (-EINVAL: wm went back;
 *   a state error, also counted in stats.state_errors: the keys still
 *   due go at the next advance).
 */
int sl_dedup_advance(struct sl_dedup *d, int64_t wm);

/**
 * Snapshots: a copy-on-write sl_state snapshot (d->snap) that another
 * thread drains with sl_state_snapshot_write(); the operator adds
 * nothing (its timers are in the state, its watermark is not part of a
 * checkpoint, R1.11). @return 0, -EBUSY while one is open, or -errno.
 */
int sl_dedup_snapshot_begin(struct sl_dedup *d);
void sl_dedup_snapshot_end(struct sl_dedup *d);

/**
 * After a checkpoint's sections are loaded into st: rebuild the timer
 * queues. @return 0 or -errno.
 */
int sl_dedup_restore_done(struct sl_dedup *d);

/** Entries (keys) held, from the timer count: one timer per key. */
uint64_t sl_dedup_keys(const struct sl_dedup *d);

#endif /* SL_DEDUP_H */
