/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_WINDOW_H
#define SL_WINDOW_H

/**
 * @file
 * Keyed tumbling, sliding and session event-time windows with incremental
 * aggregates, following Flink's WindowOperator with EventTimeTrigger and
 * allowed lateness L (semantics.md R2.1-R2.10, R3.1-R3.6):
 *  - an element goes to [s, s + size) with s = windowStart(ts, offset, size)
 *    (sliding: each of its windows, R2.4);
 *  - a window is late when s + size - 1 + L <= watermark; an element in no
 *    window that is late is dropped and counted (R3.2);
 *  - a window fires at the first watermark >= s + size - 1 and emits one row
 *    per key that had elements; with L = 0 its state is removed then, else
 *    at the watermark s + size - 1 + L (R3.4), and until then every element
 *    it accepts fires it again for that key at once (R3.3): the output holds
 *    the updated row after the first, and a consumer takes the later one;
 *  - end of input is WM(MAX): every open window fires.
 * Session windows (gap > 0, win_session.c) differ in how they keep state;
 * see sl_win_conf.gap.
 * State lives in the keyed-state backend (sl_state.h, heap or rocksdb) as
 * one value state, updated in place: key = the key fields' bytes, namespace = the
 * window start, accumulator = count + one slot per aggregate (8 bytes, or
 * a HyperLogLog's registers), plus one map state per count_distinct. The
 * operator keeps only the list of open windows; firing drains a window's
 * namespace (sl_state_ns_drain). process() allocates nothing on the heap
 * backend.
 */

#include <stdint.h>
#include <sys/types.h>

#include "sl_state.h"
#include "sluice/udf.h"
#include "sl_vec.h"

#define SL_WIN_MAX_KEYS 8
#define SL_WIN_MAX_AGGS 16
#define SL_WIN_MAX_OPEN 4096	/**< windows open at once per instance */
#define SL_WIN_DROP_MAX 64	/**< removals put off during a snapshot */
#define SL_WIN_MAX_PANES 64	/**< sliding: windows per row (size / slide) */
#define SL_WIN_SESS_MAX 256	/**< session windows: sessions in flight per key */
#define SL_WIN_SNAP_RUNS 64	/**< watermark runs of key groups in a snapshot */
/** Bytes of one (key, window) accumulator: count + the aggregates' slots
 * (8 bytes each; approx_count_distinct 2^p). One state value, so a bound. */
#define SL_WIN_ACC_MAX (256u << 10)
/** Largest sl_win_snapshot_windows() section. */
#define SL_WIN_SNAP_MAX (4 + 8 * SL_WIN_MAX_OPEN + 16 * SL_WIN_SNAP_RUNS)

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
	SL_WIN_FIRST,			/**< the first row's value, in arrival order */
	SL_WIN_LAST,			/**< the last row's value */
	/**
	 * Exact distinct values of the field (any type; f64 -0.0 counts as
	 * 0.0), as u64. The accumulator holds the count; the values are a
	 * map state per aggregate ("window.cd.<i>": key, namespace = the
	 * window as the accumulators', user key = the field's bytes), so
	 * checkpoints and N->M restores cover them; a session merge moves
	 * the swallowed state window's values into the survivor's.
	 */
	SL_WIN_COUNT_DISTINCT,
	/**
	 * HyperLogLog estimate of the distinct values (sl_agg.h), as u64:
	 * 2^hll_p one-byte registers inline in the accumulator; a session
	 * merge takes the register-wise max.
	 */
	SL_WIN_APPROX_COUNT_DISTINCT,
	/**
	 * A user-defined aggregate (include/sluice/udf.h, kind
	 * SLUICE_FN_AGGREGATE): its accumulator (acc_size bytes, rounded up
	 * to 8) inline in the window's; created at a window's first row,
	 * given every row whole (agg_add), merged when sessions merge
	 * (agg_merge), read at firing (agg_result, a column of agg_type).
	 * The function runs on the window's thread only: a window with one
	 * does not hand rocksdb merge operands (which it would fold on its
	 * own threads).
	 */
	SL_WIN_UDF,
};

struct sl_win_agg {
	enum sl_win_agg_fn fn;
	int field;			/**< input field; -1 for count and udf */
	char name[SL_NAME_MAX];		/**< output column */
	uint8_t hll_p;			/**< approx_count_distinct: 4..16, 0 = 14 */
	const struct sluice_fn *ufn;	/**< udf: the function */
	void *uself;			/**< udf: its instance (the caller's) */
};

struct sl_win_conf {
	const struct sl_schema *in;
	int ts_field;
	int64_t size;
	int64_t slide;			/**< 0: tumbling; else sliding every slide (R2.4) */
	int64_t offset;			/**< |offset| < size (tumbling) or slide */
	int64_t lateness;		/**< allowed lateness L >= 0 (R3.1) */
	/**
	 * > 0: Flink's EventTimeSessionWindows.withGap(gap) with
	 * EventTimeTrigger (R2.5, R3.6), in place of size/slide/offset (all
	 * 0): an element's proto-window [ts, ts + gap) merges with every
	 * window of its key it intersects (touching ones too). Per key, a
	 * MergingWindowSet (sl_assign.h) in keyed state maps each session to
	 * its state window, the namespace of its accumulators; end-of-window
	 * and cleanup timers are sl_timer timers in the same state, so a
	 * checkpoint covers all of it and restores N->M. With
	 * processing_time, ProcessingTimeSessionWindows.withGap(gap) (W4.1):
	 * ts is the clock and the timers are processing-time timers. A count
	 * trigger's count is per session and summed when sessions merge
	 * (Flink's CountTrigger.onMerge), kept after the aggregates in the
	 * accumulator; a continuous trigger's next firing likewise, the
	 * earliest kept on merges, its timers forwarded to the merged
	 * window when due. first/last keep each row's arrival sequence
	 * beside the value, so a merge keeps the earliest first and the
	 * latest last.
	 */
	int64_t gap;
	/**
	 * 0: EventTimeTrigger (R2.7). N > 0: Flink's CountTrigger.of(N) in
	 * its place (R2.6): a key's window fires at its N-th, 2N-th, ...
	 * element with the whole contents (a session: at the element that
	 * brings its count since its last firing, summed over merged
	 * sessions, to N or more), never when the watermark (or, in
	 * processing time, the clock) passes its end, and is removed at
	 * cleanup (end - 1 + L) without output.
	 */
	uint64_t count_trigger;
	/**
	 * > 0: Flink's ContinuousEventTimeTrigger.of(interval) in place of the
	 * event-time trigger: besides the window's end (and late rows, as
	 * R2.7), a key's window fires early whenever the watermark passes the
	 * next multiple of interval after its first row's timestamp, and every
	 * interval after that, before its end. Per-key timers (sl_timer, in
	 * the same state, so checkpointed). In processing time
	 * ContinuousProcessingTimeTrigger: the clock for the timestamp and
	 * the watermark, processing-time timers. On sessions: see gap.
	 */
	int64_t continuous;
	/**
	 * true: Flink's PurgingTrigger around the window's trigger (R3.5):
	 * every firing purges what it fired, so a key's window starts empty
	 * again and its next firing holds only the rows since (an on-time
	 * firing's late firings, a count trigger's next N rows); a purged
	 * window that fires with nothing emits nothing (R2.9). The window
	 * itself stays until cleanup (end - 1 + L), so rows within the
	 * lateness are not late. Tumbling and sliding windows with the
	 * event-time or a count trigger; not sessions or continuous.
	 */
	bool purge;
	/**
	 * true: Flink's TumblingProcessingTimeWindows /
	 * SlidingProcessingTimeWindows / ProcessingTimeSessionWindows with
	 * ProcessingTimeTrigger (R4.1, W4.1): a row goes to the windows of
	 * the processing time it is processed at
	 * (sl_win_advance_processing_time's now; the record's time is not
	 * read; a session's proto-window is [now, now + gap)), a window
	 * fires once the clock passes its end - 1 and is removed then. No
	 * element is late. Watermarks fire nothing; end of input
	 * (sl_win_advance to SL_TS_MAX) fires every open window. Not with
	 * lateness or a count or continuous trigger. The open
	 * windows and their accumulators are state as for event time, so a
	 * checkpoint covers them; after a restore a window whose end the
	 * clock has passed fires at the first advance (Flink: R4.7).
	 */
	bool processing_time;
	/**
	 * Judge a restored key group's rows by the watermark of the
	 * checkpoint it came from until this instance's passes it, as
	 * windows with lateness and sessions always do: a row late before a
	 * failure stays late after it (R1.11 would let it reopen a window
	 * that fired). The dataplane sets it for top_k, whose ranking of a
	 * window must not be redone for a reopened one.
	 */
	bool restore_wm;
	uint16_t n_keys;
	int key_field[SL_WIN_MAX_KEYS];
	uint16_t n_aggs;
	struct sl_win_agg agg[SL_WIN_MAX_AGGS];
	uint32_t capacity;		/**< expected (window, key) entries per instance: pre-sizes heap tables */
	uint32_t max_parallelism;	/**< key groups of the job */
	uint32_t first_kg, last_kg;	/**< key groups this instance owns */
};

/** Counters; single writer (the owning lcore). */
struct sl_win_stats {
	uint64_t rows_in;
	uint64_t late_dropped;		/**< Flink's numLateRecordsDropped */
	uint64_t late_fired;		/**< rows a late element fired (R3.3) */
	uint64_t state_full_dropped;	/**< refused by the state backend: raise its memory */
	uint64_t state_errors;		/**< backend I/O errors (rocksdb): rows lost, see the log */
	/** session windows: rows refused because their key had
	 * SL_WIN_SESS_MAX sessions in flight (not yet cleaned up) */
	uint64_t sessions_full_dropped;
	uint64_t windows_fired;
	uint64_t rows_out;
	uint64_t state_bytes;		/**< heap: arena bytes in use; rocksdb: memtables */
	uint64_t state_disk_bytes;	/**< rocksdb: SST files */
};

/** Called once per result row; returns where to write out_schema.row_size bytes. */
typedef uint8_t *(*sl_win_out_fn)(void *ctx);

/** Called once per row dropped as late (R3.2's side output), with the input row. */
typedef void (*sl_win_late_fn)(void *ctx, const uint8_t *row);

/** Key groups [lo, hi] and the watermark their rows are judged by. */
struct sl_win_wm_run {
	uint32_t lo, hi;
	int64_t wm;
};

struct sl_win_acc;	/* private */
struct win_scratch;	/* private */
struct win_sess;	/* private: session windows' state (win_session.c) */
struct sl_timer;

struct sl_win {
	struct sl_win_conf conf;
	struct sl_schema out;		/**< keys, window_start, window_end, aggregates */
	struct sl_win_stats stats;
	int64_t wm;			/**< current watermark (processing time: the last firing's now - 1) */
	int64_t now;			/**< processing time: the clock, ms (0 until advanced) */
	uint32_t key_len;		/**< key field bytes */
	uint32_t val_len;		/**< accumulator bytes (count + slots) */
	struct sl_state *st;
	int sid;			/**< the window's state descriptor */
	uint16_t n_cd;			/**< count_distinct aggregates */
	uint8_t *vbuf;			/**< 3 x val_len: accumulators copied out */
	uint16_t n_open;
	int64_t open_start[SL_WIN_MAX_OPEN];	/**< ascending */
	uint16_t n_acc;
	struct sl_win_acc *acc;
	struct win_scratch *scratch;
	/* A snapshot in progress (sl_win_snapshot_begin .. _end). */
	struct sl_state_snap *snap;
	/* Windows gone while the heap copied writes for it: their entries,
	 * read when they fired, are removed once it ends (win_drop_deferred). */
	uint16_t n_drop;
	int64_t drop_start[SL_WIN_DROP_MAX];
	uint16_t snap_n_open;
	int64_t snap_open[SL_WIN_MAX_OPEN];
	uint16_t snap_n_runs;
	struct sl_win_wm_run snap_run[SL_WIN_SNAP_RUNS];
	/*
	 * Allowed lateness: where late firings go (sl_win_set_output), and
	 * per key group the watermark of the checkpoint it was restored from
	 * (SL_TS_MIN if none): a window that had fired there is not fired
	 * again, and a row into it fires at once, as it did before the
	 * failure. NULL when L = 0 (a fired window is gone then).
	 */
	sl_win_out_fn late_out;
	void *late_ctx;
	sl_win_late_fn late_row;	/**< the late side output, or NULL */
	void *late_row_ctx;
	int64_t *rwm;			/**< [kg - first_kg] */
	int64_t rwm_max;
	struct sl_timer *ct;		/**< continuous trigger's timers, or NULL */
	/**
	 * Set before each out() call: whether that row is an early firing
	 * (a count or continuous trigger's, before the watermark passed its
	 * window's end). A sink that holds results until their window ends
	 * lets such rows through at once.
	 */
	bool out_early;
	sl_win_out_fn adv_out;		/**< sl_win_advance's output, for them */
	void *adv_ctx;
	struct win_sess *sess;		/**< session windows, or NULL */
};

/**
 * Check a configuration and build the output schema without allocating.
 * @return 0 or -EINVAL with msg filled.
 */
int sl_win_conf_check(const struct sl_win_conf *c, struct sl_schema *out,
		      char *msg, size_t msglen);

/**
 * Create an instance over st, an open state of the thread that will call
 * process/advance (mimalloc heaps are thread-owned). The descriptor is
 * named "window" so a restore finds it.
 * @return 0 or a negative errno.
 */
int sl_win_init(struct sl_win *w, const struct sl_win_conf *c,
		struct sl_state *st);

/** Release the operator's memory (not st: the caller closes it). */
void sl_win_fini(struct sl_win *w);

/**
 * Where sl_win_process() writes the rows of late firings (R3.3): only
 * with allowed lateness; without it (or before this call) they are lost.
 */
void sl_win_set_output(struct sl_win *w, sl_win_out_fn out, void *ctx);

/**
 * The late side output (Flink's sideOutputLateData, R3.2): fn gets each
 * row that is dropped as late and counted in late_dropped, before
 * process() returns. Rows in no window without being late (gapped sliding
 * windows) are not late and do not go there.
 */
void sl_win_set_late_rows(struct sl_win *w, sl_win_late_fn fn, void *ctx);

/**
 * Add the selected rows of a vector (v->sel[0..n_sel)) whose key hashes are
 * in v->hash[]. Hot path.
 */
void sl_win_process(struct sl_win *w, const struct sl_vec *v);

/**
 * Advance the watermark to wm: fire every window with end - 1 <= wm, in
 * ascending window order, writing result rows through out(ctx).
 * Processing-time windows ignore watermarks but SL_TS_MAX (end of input),
 * which fires every open window.
 */
void sl_win_advance(struct sl_win *w, int64_t wm, sl_win_out_fn out,
		    void *ctx);

/**
 * Processing-time windows only: the worker's clock reads now (ms; the
 * dataplane passes epoch ms). Rows processed from here on are assigned by
 * now; every window with end <= now (its ProcessingTimeTrigger timer at
 * end - 1 due, R4.2) fires, in ascending window order, writing result rows
 * through out(ctx). A clock that does not move forward changes nothing.
 * Operators read no clock: the caller owns it (tests inject it). Cheap
 * when nothing is due; call it at least every millisecond the clock moves.
 */
void sl_win_advance_processing_time(struct sl_win *w, int64_t now,
				    sl_win_out_fn out, void *ctx);

/**
 * Snapshots (R6.4, R5.4): the keyed state is a sl_state snapshot, restored
 * by key group onto any number of instances; the operator adds its list of
 * open windows. The watermark is not part of it (R1.11).
 *
 * On the owning thread, at the barrier: sl_win_snapshot_begin() (a
 * copy-on-write snapshot: the poll loop is not held for a copy of the
 * state). Any thread may then encode sl_win_snapshot_windows() and drain
 * w->snap with sl_state_snapshot_write() while the owner keeps
 * processing; the owner ends it with sl_win_snapshot_end().
 * @return 0, -EBUSY while one is open, or another -errno.
 */
int sl_win_snapshot_begin(struct sl_win *w);
/**
 * The open windows as of the snapshot: u32 n, then n i64 window starts
 * (little-endian); with allowed lateness or session windows then one or
 * more runs of u32 first_kg, u32 last_kg and the i64 watermark its rows
 * are judged by (the windows it had fired stay open until cleanup): the
 * larger of the instance's and, for key groups restored from a
 * checkpoint whose watermark it has not passed yet, that checkpoint's.
 * Past SL_WIN_SNAP_RUNS distinct runs, one run with the smallest.
 * Session windows have no global list (n = 0): their windows are per
 * key, in the keyed state. At most SL_WIN_SNAP_MAX bytes.
 * @return bytes written, or bytes needed when cap is short.
 */
size_t sl_win_snapshot_windows(const struct sl_win *w, void *buf, size_t cap);
void sl_win_snapshot_end(struct sl_win *w);

/**
 * Reopen the windows of a snapshot's list (the union over every file of a
 * checkpoint: a window with no key here fires empty). The keyed state is
 * restored with sl_state_restore() on w->st.
 * @return 0, -EINVAL for a malformed list, -ENOSPC for too many windows.
 */
int sl_win_restore_windows(struct sl_win *w, const void *buf, size_t len);

/**
 * After every section of a checkpoint is loaded into w->st: rebuild what
 * the operator keeps beside the state (the timer queues of the continuous
 * trigger or of session windows). @return 0 or -errno.
 */
int sl_win_restore_done(struct sl_win *w);

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
