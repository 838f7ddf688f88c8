/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_ASSIGN_H
#define SL_ASSIGN_H

/**
 * @file
 * Flink's window assigners as pure functions, the lateness predicates,
 * and Flink's MergingWindowSet for session windows (semantics.md
 * R2.1-R2.5, R3.1, R3.6, R4.1).
 *
 *  - Tumbling: [s, s + size) with s = windowStart(ts, offset, size).
 *  - Sliding: every [s, s + size) with s = windowStart(ts, offset, slide),
 *    s - slide, ... while s > ts - size, in descending start order; a
 *    timestamp in a gap (slide > size) gets no window.
 *  - Session: the proto-window [ts, ts + gap); touching windows merge.
 *  - Processing time: the same with the operator's clock instead of the
 *    record's timestamp.
 *
 * The merging set is a small per-key structure (sorted, fixed capacity,
 * plain integers, no pointers) that a window operator keeps as one value
 * in sl_state: copy it out (sl_state_value_get into a buffer of
 * sl_assign_mset_size(cap) bytes, 8-byte aligned), add, put it back.
 * For each window it maps the window to its "state window", the
 * namespace under which its contents live: when windows merge, the
 * contents of the others are merged into the surviving state window and
 * only the mapping changes. Flink picks the survivor as "any" of the
 * merged pre-existing windows (a HashSet's first); here it is the
 * pre-existing window with the smallest start, so results do not depend
 * on hashing.
 *
 * Time arithmetic follows Java's long exactly (Appendix C3): window
 * start wraps like Java; end = start + size and ts + gap saturate at
 * INT64_MAX (Java would wrap to a negative end, a window nobody can use);
 * cleanup time end - 1 + L saturates at INT64_MAX; element lateness
 * ts + L wraps as in Java. One deliberate difference: a sliding window
 * element within `size` of INT64_MIN, where Java's ts - size wraps and
 * the element gets no window, gets the windows that hold it.
 *
 * Errors are negative errno values.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_state.h"

/** A time window [start, end) (R2.1). */
struct sl_assign_window {
	int64_t start;
	int64_t end;
};

/** Largest timestamp in w (R2.1). */
static inline int64_t
sl_assign_max_ts(const struct sl_assign_window *w)
{
	return w->end - 1;
}

enum sl_assign_kind {
	SL_ASSIGN_TUMBLING,
	SL_ASSIGN_SLIDING,
	SL_ASSIGN_SESSION,
};

enum sl_assign_time {
	SL_ASSIGN_EVENT_TIME,
	SL_ASSIGN_PROCESSING_TIME,
};

/** An assigner; fill it with one of the init functions. */
struct sl_assign {
	enum sl_assign_kind kind;
	enum sl_assign_time time;
	int64_t size;		/**< tumbling, sliding */
	int64_t slide;		/**< sliding */
	int64_t offset;		/**< tumbling, sliding */
	int64_t gap;		/**< session */
};

/** Flink's TimeWindow.getWindowStartWithOffset (R2.2), size > 0. */
int64_t sl_assign_window_start(int64_t ts, int64_t offset, int64_t size);

/** Tumbling (R2.3, stagger ALIGNED). -EINVAL unless |offset| < size. */
int sl_assign_tumbling(struct sl_assign *a, enum sl_assign_time time,
		       int64_t size, int64_t offset);
/**
 * Sliding (R2.4). -EINVAL unless size > 0, |offset| < slide and
 * size / slide <= 10,000,000 (which also needs slide > 0).
 */
int sl_assign_sliding(struct sl_assign *a, enum sl_assign_time time,
		      int64_t size, int64_t slide, int64_t offset);
/** Session windows with a static gap (R2.5, R4.1). -EINVAL unless gap > 0. */
int sl_assign_session(struct sl_assign *a, enum sl_assign_time time,
		      int64_t gap);

/** True for session windows (the operator must use a merging set). */
static inline bool
sl_assign_is_merging(const struct sl_assign *a)
{
	return a->kind == SL_ASSIGN_SESSION;
}

/** Most windows one element can get: ceil(size / slide), or 1. */
unsigned int sl_assign_max_windows(const struct sl_assign *a);

/**
 * The windows of an element with timestamp ts arriving at processing time
 * now (only one of the two is used, by the assigner's time domain). Sliding
 * windows come in descending start order (R2.4).
 * @return windows written (0: a gap of a hopping window), -EINVAL for an
 * event-time assigner and ts == INT64_MIN (no timestamp, R1.1), -ENOSPC
 * when cap < sl_assign_max_windows().
 */
int sl_assign_windows(const struct sl_assign *a, int64_t ts, int64_t now,
		      struct sl_assign_window *out, unsigned int cap);

/**
 * R3.1 cleanup time: event time end - 1 + lateness (INT64_MAX when that
 * overflows: no cleanup timer then); processing time end - 1 (R3.7).
 */
int64_t sl_assign_cleanup_time(const struct sl_assign *a,
			       const struct sl_assign_window *w,
			       int64_t lateness);
/** R3.1 window late: event time and cleanup time <= wm. */
bool sl_assign_window_late(const struct sl_assign *a,
			   const struct sl_assign_window *w, int64_t lateness,
			   int64_t wm);
/** R3.1 element late: event time and ts + lateness <= wm (Java wrap). */
bool sl_assign_element_late(const struct sl_assign *a, int64_t ts,
			    int64_t lateness, int64_t wm);

/** R2.5 intersection: touching windows intersect. */
static inline bool
sl_assign_intersects(const struct sl_assign_window *a,
		     const struct sl_assign_window *b)
{
	return a->start <= b->end && a->end >= b->start;
}

/**
 * Flink's TimeWindow.mergeWindows: sort w[0..n) by start (in place), fold
 * every run of intersecting windows into its cover and write the covers
 * to out (n slots), singletons included. run_len (optional, n slots) gets
 * how many inputs each cover took. @return covers written.
 */
unsigned int sl_assign_merge_windows(struct sl_assign_window *w,
				     unsigned int n,
				     struct sl_assign_window *out,
				     unsigned int *run_len);

/* ---- MergingWindowSet ------------------------------------------------- */

#define SL_ASSIGN_MSET_MAX 256	/**< windows per key, upper bound of cap */

struct sl_assign_mset_ent {
	struct sl_assign_window w;	/**< the window the user sees */
	struct sl_assign_window state;	/**< namespace of its contents */
};

/** Per-key set of windows in flight, sorted by start. */
struct sl_assign_mset {
	uint32_t n;
	uint32_t cap;
	struct sl_assign_mset_ent ent[];
};

/** Bytes of a set of capacity cap (its sl_state value length). */
static inline size_t
sl_assign_mset_size(unsigned int cap)
{
	return sizeof(struct sl_assign_mset) +
	       (size_t)cap * sizeof(struct sl_assign_mset_ent);
}

/** Empty set. -EINVAL unless 0 < cap <= SL_ASSIGN_MSET_MAX. */
int sl_assign_mset_init(struct sl_assign_mset *s, unsigned int cap);

/**
 * Called once per merge that absorbed pre-existing windows (Flink's
 * MergeFunction): result is the merged window; merged[0..n_merged) the
 * pre-existing windows it swallowed (the new window is never among them;
 * delete their timers); state_result the state window that survives;
 * merged_state[0..n_state) the state windows whose contents must be
 * merged into state_result and then cleared. A negative return aborts
 * the add with that value and leaves the set as it was.
 */
typedef int (*sl_assign_merge_fn)(void *arg,
				  const struct sl_assign_window *result,
				  const struct sl_assign_window *merged,
				  unsigned int n_merged,
				  const struct sl_assign_window *state_result,
				  const struct sl_assign_window *merged_state,
				  unsigned int n_state);

/**
 * Flink's MergingWindowSet.addWindow: add w, merging it with every window
 * it intersects (transitively, by TimeWindow.mergeWindows); *result gets
 * the window w ended up in. A w equal to a window already in the set is
 * that window (no merge, state window kept).
 * @return 0, -ENOSPC when the set would exceed its capacity (unchanged),
 * or fn's negative return.
 */
int sl_assign_mset_add(struct sl_assign_mset *s,
		       const struct sl_assign_window *w, sl_assign_merge_fn fn,
		       void *arg, struct sl_assign_window *result);
/** State window of w. @return 0, or -ENOENT when w is not in the set. */
int sl_assign_mset_state_window(const struct sl_assign_mset *s,
				const struct sl_assign_window *w,
				struct sl_assign_window *state);
/** Remove w (its window fired and was cleaned). @return 0 or -ENOENT. */
int sl_assign_mset_retire(struct sl_assign_mset *s,
			  const struct sl_assign_window *w);

/**
 * The key's set (list state id at r, hashed) into set, of capacity cap:
 * empty when it has none. -EINVAL when the stored value is not a set of
 * at most cap windows (a corrupt or foreign checkpoint), or sl_state's.
 */
int sl_assign_mset_load(struct sl_state *st, int id, const struct sl_state_ref *r,
			struct sl_assign_mset *set, unsigned int cap);
/** set back as r's one list element; an empty set is removed. */
int sl_assign_mset_save(struct sl_state *st, int id, const struct sl_state_ref *r,
			const struct sl_assign_mset *set);

#endif /* SL_ASSIGN_H */
