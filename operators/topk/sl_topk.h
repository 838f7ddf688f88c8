/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_TOPK_H
#define SL_TOPK_H

/**
 * @file
 * Per-window Top-N: the second stage of semantics.md R9.1, Flink SQL's
 * Window Top-N (R9.2): of one window's results, one row per key with its
 * aggregates, keep the K rows with the largest (or, ascending, the
 * smallest) value of one column, ranked 1..K. EAL-free.
 *
 * Ties. ROW_NUMBER gives distinct ranks and Flink leaves open which of
 * several tied rows is kept (Appendix A.3). sluice pins R9.2's
 * recommendation: equal values rank by the key fields ascending, in
 * key_by order, numbers numerically and strings bytewise, which is the
 * order the caller hands the rows in (the sink's sort). So no key is
 * compared here: a row's position in that order is its tie-break.
 *
 * Cost. One bounded heap of K entries over a window's n rows, O(n log K)
 * comparisons of two integers, and most rows cost one compare with the
 * heap's worst entry. No allocation after sl_topk_init.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_vec.h"

#define SL_TOPK_MAX (1u << 20)	/**< K at most: 16 MiB of heap */

struct sl_topk_ent {
	uint64_t v;		/* the value, mapped so that larger ranks first */
	uint32_t pos;		/* position in key order: smaller wins a tie */
	uint32_t row;		/* the caller's row index */
};

struct sl_topk {
	uint32_t k;
	bool ascending;			/**< smallest first (ORDER BY ... ASC) */
	struct sl_field by;		/**< the ranked column of the rows */
	struct sl_topk_ent *heap;	/* k entries, worst at [0] */
};

/**
 * @param by  the column to rank by, of any numeric type (integers,
 *   timestamps, f64; -0.0 equals 0.0, NaN ranks as its bits).
 * @return 0, -EINVAL (k not 1..SL_TOPK_MAX, a string column), -ENOMEM.
 */
int sl_topk_init(struct sl_topk *t, uint32_t k, const struct sl_field *by,
		 bool ascending);

/** Free the heap. Safe on a zeroed or freed sl_topk. */
void sl_topk_free(struct sl_topk *t);

/**
 * Rank one window's rows.
 * @param rows, row_size  the rows.
 * @param idx  n row indices, in key order (the tie-break).
 * @param out  where the best min(n, K) indices go, best first; it may be
 *   idx itself or overlap it from below (idx is read before out is written).
 * @return how many were written.
 */
uint32_t sl_topk_rank(struct sl_topk *t, const uint8_t *rows, uint16_t row_size,
		      const uint32_t *idx, size_t n, uint32_t *out);

#endif /* SL_TOPK_H */
