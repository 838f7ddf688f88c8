/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_WINDOW_H
#define SL_WINDOW_H

/**
 * @file
 * Keyed tumbling event-time windows with incremental aggregates, following
 * Flink's WindowOperator with EventTimeTrigger and allowed lateness 0
 * (semantics.md R2.1-R2.3, R2.7-R2.10, R3.1-R3.2):
 *  - an element goes to [s, s + size) with s = windowStart(ts, offset, size);
 *  - it is late, dropped and counted, when s + size - 1 <= watermark;
 *  - a window fires, once, at the first watermark >= s + size - 1, emits one
 *    row per key that had elements, and its state is removed;
 *  - end of input is WM(MAX): every open window fires.
 * State lives in one sl_table per operator instance (one per worker lcore),
 * keyed by (window start, key bytes); each window chains its entries so
 * firing walks only its own keys. process() allocates nothing.
 */

#include <stdint.h>
#include <sys/types.h>

#include "sl_table.h"
#include "sl_vec.h"

#define SL_WIN_MAX_KEYS 8
#define SL_WIN_MAX_AGGS 16
#define SL_WIN_MAX_OPEN 4096	/**< windows open at once per instance */

/**
 * Flink's TimeWindow.getWindowStartWithOffset (R2.2, after FLINK-26334),
 * bit-exact at the ends of the range: Java's long wraps, and C's signed
 * overflow is undefined (Appendix C3), so both subtractions are done in
 * uint64_t, which wraps modulo 2^64 exactly as Java does. The casts back
 * to int64_t are two's complement on every compiler we build with (GCC
 * and Clang define it). size > 0 and |r| < size, so % and r + size
 * cannot overflow.
 */
static inline int64_t
sl_window_start(int64_t ts, int64_t offset, int64_t size)
{
	int64_t d = (int64_t)((uint64_t)ts - (uint64_t)offset);
	int64_t r = d % size;

	if (r < 0)
		r += size;
	return (int64_t)((uint64_t)ts - (uint64_t)r);
}

enum sl_win_agg_fn {
	SL_WIN_COUNT,
	SL_WIN_SUM,
	SL_WIN_MIN,
	SL_WIN_MAX,
	SL_WIN_AVG,
};

struct sl_win_agg {
	enum sl_win_agg_fn fn;
	int field;			/**< input field; -1 for count */
	char name[SL_NAME_MAX];		/**< output column */
};

struct sl_win_conf {
	const struct sl_schema *in;
	int ts_field;
	int64_t size;
	int64_t offset;
	uint16_t n_keys;
	int key_field[SL_WIN_MAX_KEYS];
	uint16_t n_aggs;
	struct sl_win_agg agg[SL_WIN_MAX_AGGS];
	uint32_t capacity;		/**< (window, key) entries held at once */
};

/** Counters; single writer (the owning lcore). */
struct sl_win_stats {
	uint64_t rows_in;
	uint64_t late_dropped;		/**< Flink's numLateRecordsDropped */
	uint64_t state_full_dropped;	/**< no room in the table: raise state.key-capacity */
	uint64_t windows_fired;
	uint64_t rows_out;
	uint64_t peak_entries;		/**< most (window, key) entries held at once */
	uint64_t state_bytes;		/**< memory of the table and its rehash spare */
};

/** Called once per result row; returns where to write out_schema.row_size bytes. */
typedef uint8_t *(*sl_win_out_fn)(void *ctx);

struct sl_win_acc;	/* private */

struct sl_win {
	struct sl_win_conf conf;
	struct sl_schema out;		/**< keys, window_start, window_end, aggregates */
	struct sl_win_stats stats;
	int64_t wm;			/**< current watermark */
	uint32_t key_len;		/**< 8 (window start) + key field bytes */
	struct sl_table table;
	struct sl_table spare;		/**< rehash target, swapped in when tombstones pile up */
	size_t spare_clean;		/**< leading bytes of spare known to be zero */
	uint16_t n_open;
	int64_t open_start[SL_WIN_MAX_OPEN];	/**< ascending */
	uint32_t open_head[SL_WIN_MAX_OPEN];	/**< first entry of each window */
	uint32_t open_tail[SL_WIN_MAX_OPEN];
	uint16_t n_acc;
	struct sl_win_acc *acc;
	void *mem[2];
};

/**
 * Check a configuration and build the output schema without allocating.
 * @return 0 or -EINVAL with msg filled.
 */
int sl_win_conf_check(const struct sl_win_conf *c, struct sl_schema *out,
		      char *msg, size_t msglen);

/**
 * Create an instance. alloc(len, arg) provides zeroed memory for the state
 * table (a DPDK lcore passes rte_zmalloc_socket, tests calloc).
 * @return 0 or a negative errno.
 */
int sl_win_init(struct sl_win *w, const struct sl_win_conf *c,
		void *(*alloc)(size_t len, void *arg), void *alloc_arg);

/** Release the memory through free(ptr, arg). */
void sl_win_fini(struct sl_win *w, void (*release)(void *ptr, void *arg),
		 void *arg);

/**
 * Add the selected rows of a vector (v->sel[0..n_sel)) whose key hashes are
 * in v->hash[]. Hot path.
 */
void sl_win_process(struct sl_win *w, const struct sl_vec *v);

/**
 * Advance the watermark to wm: fire every window with end - 1 <= wm, in
 * ascending window order, writing result rows through out(ctx).
 */
void sl_win_advance(struct sl_win *w, int64_t wm, sl_win_out_fn out,
		    void *ctx);

/**
 * Snapshots of window state, by key group, for checkpoints and N->M
 * restore (R5.4, R6.5). The watermark is not part of it (R1.11).
 *
 * Format: records in no particular order, each
 *   u16 key group | i64 window start | key bytes | value bytes
 * (little-endian, key_len - 8 key bytes, 8 + 8 * n_aggs value bytes).
 * @return bytes needed for the current state (sl_win_snapshot_size), or
 *   bytes written / -ENOSPC (sl_win_snapshot).
 */
size_t sl_win_snapshot_size(const struct sl_win *w);
ssize_t sl_win_snapshot(const struct sl_win *w, uint32_t max_parallelism,
			uint8_t *buf, size_t len);

/**
 * Load snapshot records, keeping those whose key group is in
 * [first_kg, last_kg]: the groups this instance owns.
 * @return records loaded, or -EINVAL for a malformed snapshot, -ENOSPC
 *   when the table is full.
 */
ssize_t sl_win_restore(struct sl_win *w, const uint8_t *buf, size_t len,
		       uint32_t max_parallelism, uint32_t first_kg,
		       uint32_t last_kg);

/** Key bytes of a row, as hashed by the router and stored by the window. */
static inline void
sl_win_key_gather(const struct sl_schema *s, const int *key_field,
		  uint16_t n_keys, const uint8_t *row, uint8_t *key)
{
	for (uint16_t k = 0; k < n_keys; k++) {
		const struct sl_field *f = &s->f[key_field[k]];

		memcpy(key, row + f->offset, f->size);
		key += f->size;
	}
}

#endif /* SL_WINDOW_H */
