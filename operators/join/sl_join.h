/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_JOIN_H
#define SL_JOIN_H

/**
 * @file
 * Keyed two-input joins (semantics.md section 7). EAL-free.
 *
 * Two inputs, left (0) and right (1), each with its own schema, event-time
 * field and key fields; the key fields of both sides have the same types in
 * the same order, so a key is the same bytes on either side (and hashes to
 * the same key group: the router hashes those bytes). One instance owns
 * the key groups [first_kg, last_kg] of both inputs. Four kinds:
 *
 *  - SL_JOIN_INTERVAL (R7.1-R7.3, W7.1, C4): every pair with equal key and
 *    a.ts + lower <= b.ts <= a.ts + upper, bounds inclusive (the
 *    exclusive flags move them by one, as Flink does). Emitted when the
 *    pair's second row arrives, the arriving row first buffered, then the
 *    other side probed; output ts = max(a.ts, b.ts). A row with
 *    ts < WM (strict) is late: not buffered, not joined, passed to the
 *    side output (SL_JOIN_OUT_LATE_*) and counted. Buffers: a map state
 *    per side, key = join key, user key = the row's ts, value = the rows
 *    of that ts in arrival order. A bucket is removed by an event-time
 *    timer at ts + upper (left, upper > 0; else ts) and ts - lower (right,
 *    lower < 0; else ts), Flink's IntervalJoinOperator rules, so a pair
 *    whose partner was purged before it arrived is missed exactly as
 *    Flink misses it (W7.1's trap). Pairs of one arriving row come out
 *    ordered by the partner's ts, then arrival (Flink: map order).
 *  - SL_JOIN_WINDOW (R7.4, W7.2): tumbling event-time windows of size
 *    (and offset), or sliding ones (slide < size: a row is in every
 *    window of it, so a pair that shares several windows is joined in
 *    each); per window and key, the cross product of both sides' rows
 *    when the watermark reaches end - 1, left rows outer, right inner,
 *    each in arrival order; output ts = end - 1. Sides' rows are list
 *    state (namespace = the window start), fired by one event-time timer
 *    per (key, window). A window that already fired (end - 1 <= WM, R3.1
 *    with no allowed lateness) does not take the row; a row no window
 *    takes is late: side output and counted. A window with one side only
 *    emits nothing.
 *  - SL_JOIN_SESSION (R7.4 with session windows of gap): both sides'
 *    rows open [ts, ts + gap) in one MergingWindowSet per key, so
 *    sessions merge across the two inputs (Flink runs the window join as
 *    a coGroup over the union); when the watermark reaches a session's
 *    end - 1 its left rows are joined with its right rows at end - 1 and
 *    it is cleared. A row whose session, once merged, ends at or before
 *    the watermark (end - 1 <= WM) is late: side output and counted.
 *    Rows as the window kind's (list state), namespace = the session's
 *    state window; one timer per session.
 *  - SL_JOIN_MATCH (R7.5, W7.3): Flink's KeyedCoProcessFunction
 *    order/payment pattern. Per key, the left (order) and right
 *    (payment) rows are value state. A row whose partner is stored is
 *    matched: SL_JOIN_OUT_PAIR with the arriving row's ts (R4.5), both
 *    cleared, the partner's timer deleted. Otherwise it is stored (a
 *    second one replaces the first) with an event-time timer at
 *    ts + timeout; when a timer fires, a stored left row goes out as
 *    SL_JOIN_OUT_LEFT_ONLY (UNPAID) and a stored right row as
 *    SL_JOIN_OUT_RIGHT_ONLY (ORPHAN), with the timer's ts, and both are
 *    cleared. No lateness check (R7.5: none built in).
 *  - SL_JOIN_ENRICH: enrichment of the left (event) stream by the latest
 *    row per key of the right (changelog) stream, Flink's
 *    processing-time temporal join / the KeyedCoProcessFunction that
 *    keeps the profile in a ValueState: a right row is an upsert of the
 *    key's row (value state); it replaces the stored one unless its ts
 *    is older (so a changelog replayed out of order keeps its newest
 *    version; equal ts: the later arrival wins). A left row is joined,
 *    on arrival, with the row stored for its key at that moment and goes
 *    out at once with its own ts. A left row that arrives before any
 *    right row of its key is dropped and counted (inner join, Flink's
 *    default for temporal joins), or, with outer, goes out with a zeroed
 *    right side (SL_JOIN_OUT_LEFT_ONLY, LEFT JOIN). Nothing waits for a
 *    watermark and no timer is set: rows are never late, and the result
 *    depends on the arrival order of the two inputs, as in Flink. The
 *    stored rows live until overwritten, or with ttl > 0 (Flink's
 *    table.exec.state.ttl, R5.5: processing time, OnCreateAndWrite,
 *    NeverReturnExpired) until ttl ms of processing time after their
 *    last write: a row stored at now = t is joined by left rows up to
 *    now = t + ttl - 1 and is gone at t + ttl (W5.1), so a left row
 *    then is unmatched (outer: left only). The time is what
 *    sl_join_advance_processing_time() last gave.
 *  - SL_JOIN_PROCESS (R7.5): a user co_process function
 *    (SLUICE_FN_CO_PROCESS, include/sluice/udf.h: Flink's
 *    KeyedCoProcessFunction) run by operators/process over both inputs:
 *    rows of either side call its process hook with the key's shared
 *    state and timers (h->input() says the side), its timers call
 *    on_timer when the watermark or the processing-time clock passes
 *    them. Its rows are its output schema (out_size bytes; by default
 *    the join's layout below), written as they are emitted
 *    (SL_JOIN_OUT_PAIR) and its side-output rows as SL_JOIN_OUT_SIDE
 *    (side_tag says which). No lateness check (R7.5).
 *
 *  - SL_JOIN_BROADCAST: Flink's broadcast state pattern. The right
 *    input is a low-rate rules stream that the caller delivers to EVERY
 *    instance; its rows go into a broadcast map state (state/opstate,
 *    R5.3: every instance holds the same map), per key the rule versions
 *    by ts. A left (event) row is held (keyed list state, an event-time
 *    timer at its ts) until the watermark reaches its ts, then joined
 *    with the newest rule of its key whose ts <= the event's (so every
 *    instance, at any timing, picks the same one: the order of the two
 *    inputs is event time, where Flink leaves it open) and goes out with
 *    its own ts; with no such rule it is dropped and counted (unmatched),
 *    or with outer written with a zeroed right side. A left row with
 *    ts < WM is late (side output). A rule behind the watermark applies
 *    from its arrival on (counted in late_rules). The map is snapshotted
 *    with sl_join_opstate_snapshot() and restored onto any number of
 *    instances with sl_join_opstate_restore().
 *
 *  - SL_JOIN_TEMPORAL: the event-time temporal join (Flink SQL's
 *    FOR SYSTEM_TIME AS OF over a versioned table): as BROADCAST, but
 *    both inputs are keyed (each instance gets its key groups' right
 *    rows) and a key's versions are keyed list state.
 *
 * Output rows have one layout for every kind but process: [i64 ts][left
 * row][right row] (SL_JOIN_OUT_* helpers below); a side that a row does
 * not have is zeros. A process join's rows are its function's output
 * schema (sl_join_out_size() bytes; that layout unless it declares
 * columns). The caller's out function says where to write each one and
 * gets its kind (pair, one side only, late left or right, side output).
 *
 * Order. Rows produced by arriving rows come in arrival order; rows
 * produced by a watermark come in timer order (ts, then key bytes, then
 * namespace: sl_timer's total order), so the same input order gives the
 * same output on any number of instances, per instance.
 *
 * Threads: the thread that owns the sl_state. sl_join_process() allocates
 * nothing outside the state (whose heap backend places a bucket's rows in
 * the worker's arena) and makes no system call on the heap backend; its
 * scratch is sized at init (a bucket holds up to SL_JOIN_BUCKET_MAX bytes
 * per side). A window firing gathers both sides' rows into two scratch
 * buffers that grow by doubling (amortised, on the watermark path).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_opstate.h"
#include "sl_state.h"
#include "sl_udf.h"
#include "sl_vec.h"

#define SL_JOIN_MAX_KEYS 8
#define SL_JOIN_KEY_MAX 256		/**< bytes of the key fields (sl_timer's limit) */
#define SL_JOIN_BUCKET_MAX (256u << 10)	/**< interval: bytes of rows of one (key, ts) per side */
#define SL_JOIN_MAX_PANES 64		/**< window: size / slide at most (windows a row is in) */

enum sl_join_kind {
	SL_JOIN_INTERVAL,
	SL_JOIN_WINDOW,
	SL_JOIN_MATCH,
	SL_JOIN_ENRICH,
	SL_JOIN_PROCESS,
	SL_JOIN_SESSION,
	SL_JOIN_BROADCAST,
	SL_JOIN_TEMPORAL,
};

enum sl_join_side {
	SL_JOIN_LEFT = 0,
	SL_JOIN_RIGHT = 1,
};

/** What an output row is. */
enum sl_join_out_kind {
	SL_JOIN_OUT_PAIR,		/**< a joined pair */
	SL_JOIN_OUT_LEFT_ONLY,		/**< match: UNPAID; enrich outer: no right row yet */
	SL_JOIN_OUT_RIGHT_ONLY,		/**< match: ORPHAN */
	SL_JOIN_OUT_LATE_LEFT,		/**< interval, window: a late left row (side output) */
	SL_JOIN_OUT_LATE_RIGHT,		/**< interval, window: a late right row */
	SL_JOIN_OUT_SIDE,		/**< process: a side-output row (tag: sl_join.side_tag) */
};

struct sl_join_input {
	const struct sl_schema *schema;
	int ts_field;			/**< event-time field (integer or timestamp_ms) */
	int key_field[SL_JOIN_MAX_KEYS];
};

struct sl_join_conf {
	enum sl_join_kind kind;
	struct sl_join_input in[2];	/**< [SL_JOIN_LEFT], [SL_JOIN_RIGHT] */
	uint16_t n_keys;
	/* interval */
	int64_t lower, upper;		/**< ms, lower <= upper (after exclusive) */
	bool lower_exclusive, upper_exclusive;
	/* window */
	int64_t size, offset;		/**< ms, size > 0, |offset| < slide */
	int64_t slide;			/**< ms, 0: tumbling; else 0 < slide <= size */
	/* session */
	int64_t gap;			/**< ms, > 0 */
	/* match */
	int64_t timeout;		/**< ms, > 0 */
	/* enrich, broadcast */
	bool outer;
	int64_t ttl;			/**< ms of processing time, 0: none (R5.5) */
	/* process: the co_process function, its parameters, and its
	 * default output (the join's columns: ts, left row, right row) */
	const struct sluice_fn *fn;
	uint16_t n_params;
	const struct sl_udf_param *params;
	const struct sl_schema *out;
	/* broadcast: this instance's index among n_tasks (its operator state) */
	uint16_t task, n_tasks;
	uint32_t capacity;		/**< expected keys per instance: pre-sizes heap tables */
	uint32_t max_parallelism;
	uint32_t first_kg, last_kg;
};

/** Counters; single writer (the owning thread). */
struct sl_join_stats {
	uint64_t rows_in[2];
	uint64_t rows_out;		/**< every output row, of every kind */
	uint64_t late[2];		/**< interval, window: late rows per side */
	uint64_t unmatched;		/**< match: timed-out rows; enrich, broadcast, temporal: left rows with no right row */
	uint64_t late_rules;		/**< broadcast, temporal: right rows behind the watermark (applied) */
	uint64_t purged;		/**< interval: buckets removed; window: windows fired */
	uint64_t state_full_dropped;	/**< refused by the state backend: raise its memory */
	uint64_t state_errors;		/**< backend errors; rows lost, see the log */
	uint64_t fn_errors;		/**< process: the function's calls that returned < 0 */
};

struct join_scratch;	/* private */
struct sl_timer;
struct sl_process;

/**
 * Where to write one output row (SL_JOIN_OUT_SIZE bytes) of kind k; NULL
 * drops it (a side output nobody wants).
 */
typedef uint8_t *(*sl_join_out_fn)(void *ctx, enum sl_join_out_kind k);

struct sl_join {
	struct sl_join_conf conf;
	struct sl_join_stats stats;
	int64_t lo, hi;			/**< interval: inclusive bounds */
	uint32_t key_len;
	uint32_t out_size;		/**< 8 + left row + right row; process: its output row */
	struct sl_state *st;
	int sid[2];			/**< per side state */
	int sid_sets;			/**< session: the keys' MergingWindowSets */
	struct sl_timer *tm;
	struct join_scratch *s;
	sl_join_out_fn out;		/**< of the call in progress */
	void *out_ctx;
	struct sl_state_snap *snap;
	struct sl_process *proc;	/**< process: the function's operator */
	int64_t now;			/**< processing time, ms (enrich's TTL) */
	int side_tag;			/**< process: the SL_JOIN_OUT_SIDE row's tag */
	struct sl_opstate *os;		/**< broadcast: the rules map */
	int os_id;
	uint8_t *os_snap;		/**< broadcast: the map's snapshot, at snapshot_begin */
	size_t os_snap_len, os_snap_cap;
};

/** Bytes of an output row. */
static inline uint32_t
sl_join_out_size(const struct sl_join *j)
{
	return j->out_size;
}

/** The left row inside an output row. */
static inline uint8_t *
sl_join_out_left(uint8_t *out)
{
	return out + sizeof(int64_t);
}

/** The right row inside an output row of j. */
static inline uint8_t *
sl_join_out_right(const struct sl_join *j, uint8_t *out)
{
	return out + sizeof(int64_t) + j->conf.in[0].schema->row_size;
}

/** The output row's timestamp. */
static inline int64_t
sl_join_out_ts(const uint8_t *out)
{
	int64_t ts;

	memcpy(&ts, out, sizeof(ts));
	return ts;
}

/** @return 0, or -EINVAL with msg saying what to change. */
int sl_join_conf_check(const struct sl_join_conf *c, char *msg, size_t msglen);

/**
 * Create an instance over st (open, of the calling thread) and register
 * its descriptors, so call it before sl_state_restore() of a checkpoint.
 * @return 0 or a negative errno.
 */
int sl_join_init(struct sl_join *j, const struct sl_join_conf *c,
		 struct sl_state *st);
void sl_join_fini(struct sl_join *j);

/**
 * The selected rows of v, all of input side (key hashes in v->hash[] by
 * row index, as the router sets them), in order. Hot path.
 * @return output rows written.
 */
uint32_t sl_join_process(struct sl_join *j, enum sl_join_side side,
			 const struct sl_vec *v, sl_join_out_fn out, void *ctx);

/**
 * WM(wm), the minimum of both inputs' watermarks (R1.7): fire the timers
 * due (purges, windows, timeouts), writing what they produce through out
 * before it returns (R1.9).
 * @return output rows, or -errno (-EINVAL: wm went back).
 */
int sl_join_advance(struct sl_join *j, int64_t wm, sl_join_out_fn out, void *ctx);

/**
 * Processing time is now (ms since the epoch, the clock): the time
 * enrich's state TTL reads from then on. A process join hands its
 * operator now - 1, as a process pipeline's tick does (R4.2: a timer for
 * T fires no earlier than the clock's T + 1): its processing-time timers
 * <= now - 1 fire, writing what they produce through out, and the
 * function's now() and state TTL read now - 1. @return 0 or -errno.
 */
int sl_join_advance_processing_time(struct sl_join *j, int64_t now,
				    sl_join_out_fn out, void *ctx);

/** Current watermark (INT64_MIN before the first advance, R1.11). */
int64_t sl_join_watermark(const struct sl_join *j);

/** Pending event-time timers (interval: buckets; window: (key, window)s;
 * session: sessions; match: stored rows; process: the function's). */
uint64_t sl_join_timers(const struct sl_join *j);

/**
 * Snapshots and restore, as sl_dedup's: a copy-on-write state snapshot
 * (j->snap) drained by another thread; timers are in the state.
 */
int sl_join_snapshot_begin(struct sl_join *j);
void sl_join_snapshot_end(struct sl_join *j);
/** After the checkpoint's chunks are loaded: rebuild the timer queues. */
int sl_join_restore_done(struct sl_join *j);

/**
 * Broadcast: the rules map as of the last sl_join_snapshot_begin() (an
 * sl_opstate snapshot, the payload of an operator-state section), valid
 * until sl_join_snapshot_end(). NULL (and *len 0) for other kinds.
 */
const void *sl_join_opstate_snapshot(const struct sl_join *j, size_t *len);

/**
 * Broadcast: load the rules map from the snapshots of all n old
 * instances (any order), before sl_join_restore_done(). diverged: old
 * copies that were not equal (msg says which; the instance took old
 * task % n's, Flink's rule).
 * @return 0, or -errno with msg.
 */
int sl_join_opstate_restore(struct sl_join *j, const void *const *snap, const size_t *len,
			    uint32_t n, unsigned int *diverged, char *msg, size_t msglen);

/** "interval", "window", "match", "enrich", "process", "session", "broadcast". */
const char *sl_join_kind_name(enum sl_join_kind k);

#endif /* SL_JOIN_H */
