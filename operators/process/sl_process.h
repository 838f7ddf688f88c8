/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_PROCESS_H
#define SL_PROCESS_H

/**
 * @file
 * Keyed process functions (semantics.md section 4: R4.3-R4.8, W4.2,
 * W4.3; Flink's KeyedProcessFunction over KeyedProcessOperator): after
 * key_by, every row calls the function's process with a context that
 * gives the row's key, its event time, keyed state and timers; timers
 * call its on_timer when the watermark (event time) or the clock
 * (processing time) passes them. The function is a struct sluice_fn of
 * kind SLUICE_FN_PROCESS (include/sluice/udf.h): builtin or a plugin.
 * EAL-free.
 *
 * State: each state the function declares is one sl_state descriptor
 * "udf.<name>" (key = the key fields' bytes side by side, constant
 * namespace, R5.1), TTL in processing time (R5.5). Timers are sl_timer's
 * (descriptors "udf.et"/"udf.pt") keyed the same way with a constant
 * namespace, so a timer is (key, domain, ts) and registering it twice is
 * a no-op (R4.3, W4.3). Both live in the caller's sl_state, so
 * checkpoints, N->M restores and both backends cover them (R4.7).
 *
 * Order and time (R4.4-R4.6): rows are processed in arrival order; a
 * watermark fires every event-time timer <= it in ascending timestamp
 * order (equal timestamps by key bytes) before sl_process_advance
 * returns, so their output precedes the watermark (R1.9). A timer
 * registered at or below the current watermark from process fires at
 * the next advance; one registered from on_timer during an advance
 * fires in that pass (C1). In on_timer, the context's timestamp is the
 * timer's, its key the timer's key. process and on_timer never overlap.
 *
 * Output: rows of the function's output schema (sl_udf_inst.out) through
 * out(arg), side-output rows (input schema) through side(arg, tag, row).
 *
 * Two inputs (a co_process function, SLUICE_FN_CO_PROCESS: Flink's
 * KeyedCoProcessFunction, R7.5, run as a join's process): in2, ts_field2
 * and key_field2 describe the second input, whose key fields have the
 * first's types in the same order, so a key is the same bytes from
 * either input and both share the function's state and timers.
 * sl_process_run_input() takes the rows of one input; the function's
 * h->input() says which (1, 2). Its output is out_default (the join's
 * columns) unless it declares columns.
 *
 * Threads: the thread that owns the sl_state. sl_process_run calls the
 * function once per row; the operator adds no allocation, lock or system
 * call (the state and timer heaps grow by doubling, amortised).
 */

#include <stddef.h>
#include <stdint.h>

#include "sl_state.h"
#include "sl_udf.h"
#include "sl_vec.h"

#define SL_PROCESS_MAX_KEYS 8

struct sl_process_conf {
	const struct sl_schema *in;
	int ts_field;			/**< event-time field (integer or timestamp) */
	uint16_t n_keys;
	int key_field[SL_PROCESS_MAX_KEYS];
	const struct sluice_fn *fn;	/**< kind SLUICE_FN_PROCESS */
	uint16_t n_params;
	const struct sl_udf_param *params;
	uint32_t capacity;		/**< expected keys per instance */
	uint32_t max_parallelism;
	uint32_t first_kg, last_kg;	/**< key groups this instance owns */
	/* co_process: the second input, and the default output */
	const struct sl_schema *in2;
	int ts_field2;
	int key_field2[SL_PROCESS_MAX_KEYS];
	const struct sl_schema *out_default;
};

/** Counters; single writer (the owning thread). */
struct sl_process_stats {
	uint64_t rows_in;
	uint64_t rows_out;		/**< main output */
	uint64_t side_out;		/**< side outputs */
	uint64_t timers_fired;
	uint64_t fn_errors;		/**< process/on_timer returned < 0 */
	uint64_t state_errors;		/**< state or timer calls that failed */
};

struct sl_timer;

struct sl_process {
	struct sl_process_conf conf;
	struct sl_process_stats stats;
	struct sl_udf_inst u;
	uint32_t key_len;
	int32_t key_off[2];		/**< per input: key fields side by side: offset; else -1 */
	struct sl_state *st;
	struct sl_timer *tm;
	int sid[SL_UDF_MAX_STATES];
	struct sluice_ctx c;		/**< the call context, reused */
	uint8_t key[SL_UDF_KEY_MAX];	/**< a gathered key */
	/** The keys of the timers due next, hashed when the timer service
	 * looked ahead (two: the one firing and the one after it). */
	struct {
		uint8_t key[SL_UDF_KEY_MAX];
		uint32_t hash;
		uint16_t kg;
		bool ok;
	} ahead[2];
	uint8_t ahead_i;
	int64_t now;			/**< processing time, ms */
	struct sl_state_snap *snap;
};

/**
 * Check a configuration and set the function up once to learn what it
 * declares (the plan does this at job load). @return 0, or -errno with
 * msg.
 */
int sl_process_conf_check(const struct sl_process_conf *c, char *msg,
			  size_t msglen);

/**
 * Set up an instance over st (open, of the calling thread): the
 * function, its state descriptors and timers. Call it before
 * sl_state_restore() of a checkpoint. out/side/arg receive its output.
 * @return 0, or -errno with msg.
 */
int sl_process_init(struct sl_process *p, const struct sl_process_conf *c,
		    struct sl_state *st, sl_udf_out_fn out, sl_udf_side_fn side,
		    void *arg, char *msg, size_t msglen);
void sl_process_fini(struct sl_process *p);

/**
 * Process v's selected rows in order (key hashes in v->hash[] by row
 * index, as the router sets them). now: processing time for state TTL.
 * @return main-output rows written.
 */
uint32_t sl_process_run(struct sl_process *p, const struct sl_vec *v,
			int64_t now);

/**
 * The same for the rows of input 0 (the first) or 1 (the second, a
 * co_process function's only). @return main-output rows written.
 */
uint32_t sl_process_run_input(struct sl_process *p, int input,
			      const struct sl_vec *v, int64_t now);

/**
 * WM(wm): fire every event-time timer <= wm in order.
 * @return timers fired, or -errno (-EINVAL: wm went back).
 */
int sl_process_advance(struct sl_process *p, int64_t wm);

/**
 * Processing time is now: fire every processing-time timer <= now (the
 * test harness's contract; a dataplane that wants R4.2's "no earlier than
 * the clock's T + 1" passes the clock minus one). now is also what the
 * function's now() and the state's TTL read from then on.
 */
int sl_process_advance_processing_time(struct sl_process *p, int64_t now);

/** Snapshots, as sl_dedup's: a copy-on-write sl_state snapshot in p->snap. */
int sl_process_snapshot_begin(struct sl_process *p);
void sl_process_snapshot_end(struct sl_process *p);
/** After a checkpoint's sections are loaded into st: rebuild the timers. */
int sl_process_restore_done(struct sl_process *p);

/** Pending timers of a domain. */
uint64_t sl_process_timers(const struct sl_process *p, enum sluice_time dom);

#endif /* SL_PROCESS_H */
