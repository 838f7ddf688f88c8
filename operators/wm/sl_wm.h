/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_WM_H
#define SL_WM_H

/**
 * @file
 * Watermarks exactly as Flink makes and combines them (semantics.md
 * section 1): the bounded out-of-orderness generator (R1.3), strictly
 * increasing emission (R1.4), per-partition generation with idleness at a
 * source (R1.6, R1.8), and the valve that combines a worker's inputs
 * (R1.7). Pure logic, no clocks of its own: callers pass processing time,
 * so tests drive it step by step. EAL-free.
 */

#include <stdbool.h>
#include <stdint.h>

#include "sl_vec.h"

#define SL_WM_MAX_PARTS 64
#define SL_WM_MAX_INPUTS 64

/** Bounded out-of-orderness generator (forBoundedOutOfOrderness(B)). */
struct sl_wm_gen {
	int64_t max_ts;
	int64_t bound;
};

static inline void
sl_wm_gen_init(struct sl_wm_gen *g, int64_t bound)
{
	g->bound = bound;
	g->max_ts = SL_TS_MIN + bound + 1;
}

static inline void
sl_wm_gen_event(struct sl_wm_gen *g, int64_t ts)
{
	g->max_ts = ts > g->max_ts ? ts : g->max_ts;
}

/** The candidate watermark: maxTs - B - 1 (exactly MIN before any event). */
static inline int64_t
sl_wm_gen_candidate(const struct sl_wm_gen *g)
{
	return g->max_ts - g->bound - 1;
}

/** One source partition: its generator and its idleness detector (R1.8). */
struct sl_wm_part {
	struct sl_wm_gen gen;
	uint64_t events;	/**< events seen, ever */
	uint64_t polled;	/**< events at the previous idleness poll */
	int64_t quiet_since;	/**< countdown start; SL_TS_MIN when not counting */
	bool seen;		/**< takes part in the minimum once it has data */
	bool idle;
};

/** What a poll asks the caller to emit, in this order. */
struct sl_wm_out {
	bool wm;		/**< emit WM(ts) */
	int64_t ts;
	int8_t status;		/**< +1: emit ACTIVE, -1: emit IDLE, 0: nothing */
};

/**
 * A source's watermark: the minimum over its non-idle partitions (R1.6),
 * emitted only when it increases (R1.4). When every partition is idle the
 * source goes idle and its watermark does not advance.
 */
struct sl_wm_mux {
	int64_t bound;
	int64_t idle_timeout;	/**< ms of processing time; 0 = off */
	int64_t last_out;
	/**
	 * Countdown of a source that has seen no partition yet (an RX queue
	 * RSS sends nothing to): R1.8 starts it at the first quiet poll
	 * whether or not events ever arrived. SL_TS_MIN when not counting.
	 */
	int64_t quiet_since;
	bool quiet_idle;	/**< that countdown ran out */
	bool idle_out;
	uint16_t n_parts;	/**< highest partition seen + 1 */
	struct sl_wm_part part[SL_WM_MAX_PARTS];
};

void sl_wm_mux_init(struct sl_wm_mux *m, int64_t bound, int64_t idle_timeout);

/** Account events of partition p whose largest timestamp is max_ts. */
static inline void
sl_wm_mux_events(struct sl_wm_mux *m, uint16_t p, int64_t max_ts,
		 uint32_t count)
{
	struct sl_wm_part *pt = &m->part[p];

	if (pt->idle) {
		/*
		 * R1.6: a split that emits is active at once. Waiting for the
		 * next periodic poll would let another partition carry a
		 * punctuated watermark past this one. polled stays at the
		 * count before these events, so that poll still sees them as
		 * activity (Flink's counter) and does not start a countdown.
		 * If the whole source was idle, the next sl_wm_mux_emit()
		 * reports ACTIVE.
		 */
		pt->idle = false;
		pt->quiet_since = SL_TS_MIN;
		pt->polled = pt->events;
	}
	sl_wm_gen_event(&pt->gen, max_ts);
	pt->events += count;
	pt->seen = true;
	if (p >= m->n_parts)
		m->n_parts = (uint16_t)(p + 1);
}

/**
 * Recompute the combined watermark (no idleness check). Used after every
 * packet in punctuated mode and by sl_wm_mux_poll().
 */
void sl_wm_mux_emit(struct sl_wm_mux *m, struct sl_wm_out *out);

/**
 * Periodic poll at processing time now_ms (R1.5): run idleness detection
 * for every partition (R1.8), then emit as sl_wm_mux_emit().
 */
void sl_wm_mux_poll(struct sl_wm_mux *m, int64_t now_ms, struct sl_wm_out *out);

/** The valve combining a worker's input channels (R1.7). */
struct sl_wm_valve {
	uint16_t n;
	bool idle_out;
	int64_t last_out;
	struct {
		int64_t wm;
		bool idle;
		bool aligned;
	} ch[SL_WM_MAX_INPUTS];
};

void sl_wm_valve_init(struct sl_wm_valve *v, uint16_t n_inputs);

/** A watermark arrives on channel c. */
void sl_wm_valve_watermark(struct sl_wm_valve *v, uint16_t c, int64_t w,
			   struct sl_wm_out *out);

/** Channel c becomes idle (idle = true) or active again. */
void sl_wm_valve_status(struct sl_wm_valve *v, uint16_t c, bool idle,
			struct sl_wm_out *out);

#endif /* SL_WM_H */
