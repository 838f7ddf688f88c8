/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_AGG_H
#define SL_AGG_H

/**
 * @file
 * Window aggregates as fixed-size accumulator slots (Flink's
 * AggregateFunction: createAccumulator = init, add, merge for session
 * merges, getResult = result), so a window operator keeps a row's
 * accumulators as one sl_state value per (key, window), updated in place.
 * Slots are plain bytes with no pointers and no alignment demand (loads
 * and stores go through memcpy), so they snapshot and restore as they are.
 *
 * Functions and their exact meaning:
 *  - count: elements added. Never null.
 *  - sum: i64 wraps like Java's long; u64 wraps; f64 IEEE. Null if empty.
 *  - min, max: of the input type (f64 compares with <, so NaN never wins).
 *  - avg: sum / count as f64 (the sum kept in the input type, so i64 is
 *    exact until it wraps). Flink SQL's AVG(BIGINT) truncates to BIGINT;
 *    this is the DataStream-style double average. Null if empty.
 *  - first, last: by event timestamp, not arrival: first keeps the value
 *    with the smallest timestamp (ties: the one added first), last the
 *    largest (ties: the one added last), so results do not depend on the
 *    disorder of the input. Flink SQL's FIRST_VALUE/LAST_VALUE follow
 *    arrival order; the two agree on in-order input.
 *  - count_distinct: exact. The slot holds the count; the distinct values
 *    live in a map state of the caller's sl_state (sl_agg_distinct_*),
 *    because an exact set cannot have a fixed size.
 *  - approx_count_distinct: HyperLogLog with 2^p one-byte registers
 *    (p = 4..16, default 14: 16 KiB, standard error 1.04 / sqrt(2^p) =
 *    0.81 %), over the 64-bit XXH3 of the value's bytes; linear counting
 *    below 2.5 * 2^p. Merge is the register-wise max, so a merged sketch
 *    equals the sketch of all inputs.
 *  - top_k: the K items with the largest values, ranked by value
 *    descending and, for equal values, by item bytes ascending (memcmp;
 *    R9.2's recommended tie-break, "rank without ties" like ROW_NUMBER).
 *    Adding an item already held replaces its value. Exact when each item
 *    is added once per window (two-stage Top-K, R9.1) or only grows; an
 *    item whose value drops after others pushed it out is not recovered.
 *
 * Errors are negative errno values.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_state.h"

enum sl_agg_kind {
	SL_AGG_COUNT,
	SL_AGG_SUM,
	SL_AGG_MIN,
	SL_AGG_MAX,
	SL_AGG_AVG,
	SL_AGG_FIRST,
	SL_AGG_LAST,
	SL_AGG_COUNT_DISTINCT,
	SL_AGG_APPROX_COUNT_DISTINCT,
	SL_AGG_TOP_K,
};

enum sl_agg_type {
	SL_AGG_I64,
	SL_AGG_U64,
	SL_AGG_F64,
};

#define SL_AGG_HLL_P_DEFAULT 14
#define SL_AGG_TOPK_MAX 1024		/**< K */
#define SL_AGG_TOPK_ITEM_MAX 64		/**< bytes of a top-K item */
#define SL_AGG_SET_MAX 16		/**< functions in one sl_agg_set */

/** One aggregate function. */
struct sl_agg_fn {
	enum sl_agg_kind kind;
	enum sl_agg_type type;	/**< input (top_k: the ranking value) */
	uint8_t hll_p;		/**< approx: log2 registers, 0 = default */
	uint16_t k;		/**< top_k: K */
	uint16_t item_len;	/**< top_k: item bytes; count_distinct: value bytes */
};

union sl_agg_val {
	int64_t i;
	uint64_t u;
	double f;
};

struct sl_agg_result {
	bool null;		/**< empty input (sum, min, max, avg, first, last) */
	enum sl_agg_type type;	/**< count and distinct counts: U64; avg: F64 */
	union sl_agg_val v;
};

/** @return 0 if f is valid, -EINVAL otherwise. */
int sl_agg_check(const struct sl_agg_fn *f);
/** Bytes of f's slot; 0 when f is invalid. */
size_t sl_agg_slot_size(const struct sl_agg_fn *f);
/** createAccumulator. */
void sl_agg_init(const struct sl_agg_fn *f, void *slot);
/**
 * Add one input with event timestamp ts (used by first/last).
 * @return 0, or -EINVAL for count_distinct (use sl_agg_distinct_add) and
 * top_k (use sl_agg_topk_add).
 */
int sl_agg_add(const struct sl_agg_fn *f, void *slot, union sl_agg_val v,
	       int64_t ts);
/** approx_count_distinct of len bytes (strings). -EINVAL for other kinds. */
int sl_agg_add_bytes(const struct sl_agg_fn *f, void *slot, const void *p,
		     size_t len);
/**
 * Merge src into dst (session windows merging, R2.5); dst is the
 * surviving state window's slot. count_distinct's slot merge is
 * sl_agg_distinct_merge.
 */
void sl_agg_merge(const struct sl_agg_fn *f, void *dst, const void *src);
/** getResult. top_k: v.u = items held (read them with sl_agg_topk_get). */
void sl_agg_result(const struct sl_agg_fn *f, const void *slot,
		   struct sl_agg_result *r);

/** HyperLogLog standard error of p (1.04 / sqrt(2^p)). */
double sl_agg_hll_std_error(unsigned int p);

/**
 * An aggregating-state descriptor (R5.2 AggregatingState) whose
 * accumulator is f's slot: input one union sl_agg_val, result one struct
 * sl_agg_result. f must outlive the state; first/last see timestamp 0
 * (arrival order) on this path. Not for count_distinct or top_k.
 */
struct sl_state_desc sl_agg_state_desc(const char *name,
				       const struct sl_agg_fn *f,
				       uint16_t key_len, uint16_t ns_len);

/* ---- count_distinct (exact) through a map state ------------------------ */

/**
 * The map descriptor for the distinct values of one count_distinct:
 * key and namespace as the window's value state, user key = the value
 * bytes (val_len), an empty value.
 */
struct sl_state_desc sl_agg_distinct_desc(const char *name, uint16_t key_len,
					  uint16_t ns_len, uint16_t val_len);
/**
 * Add a value of the map's ukey_len bytes to (ref's key, ns); the slot's
 * count grows when it is new. @return 1 new, 0 seen, -errno.
 */
int sl_agg_distinct_add(const struct sl_agg_fn *f, void *slot,
			struct sl_state *st, int map_id,
			const struct sl_state_ref *ref, const void *val);
/**
 * Move the values of src (a merged-away state window) into dst, count the
 * new ones into dst_slot, and clear src. Not on the per-event path (one
 * call per session merge); allocates a buffer for src's values.
 * @return values moved that were new in dst, or -errno.
 */
int sl_agg_distinct_merge(const struct sl_agg_fn *f, void *dst_slot,
			  struct sl_state *st, int map_id,
			  const struct sl_state_ref *dst,
			  const struct sl_state_ref *src);

/* ---- top-K -------------------------------------------------------------- */

/** Offer item (item_len bytes) with ranking value v. */
int sl_agg_topk_add(const struct sl_agg_fn *f, void *slot, const void *item,
		    union sl_agg_val v);
/**
 * The ranking, best first: items[i * item_len] and vals[i].
 * @return items written (<= K).
 */
unsigned int sl_agg_topk_get(const struct sl_agg_fn *f, const void *slot,
			     void *items, union sl_agg_val *vals);

/* ---- a row of aggregates, one accumulator ------------------------------- */

/** Several functions laid out in one accumulator of `size` bytes. */
struct sl_agg_set {
	unsigned int n;
	struct sl_agg_fn fn[SL_AGG_SET_MAX];
	uint32_t off[SL_AGG_SET_MAX];
	uint32_t size;
};

/** Lay out fns (slots 8-byte aligned within the accumulator). -EINVAL. */
int sl_agg_set_init(struct sl_agg_set *s, const struct sl_agg_fn *fns,
		    unsigned int n);
/** Slot of function i in acc. */
static inline void *
sl_agg_set_slot(const struct sl_agg_set *s, void *acc, unsigned int i)
{
	return (uint8_t *)acc + s->off[i];
}
void sl_agg_set_reset(const struct sl_agg_set *s, void *acc);
/**
 * Add vals[i] to function i for every function that takes a plain value
 * (count_distinct and top_k are skipped: they have their own calls).
 */
void sl_agg_set_add(const struct sl_agg_set *s, void *acc,
		    const union sl_agg_val *vals, int64_t ts);
void sl_agg_set_merge(const struct sl_agg_set *s, void *dst, const void *src);

#endif /* SL_AGG_H */
