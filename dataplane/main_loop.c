/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The main lcore's sink: it gathers result rows from every worker and
 * writes them once every worker's watermark has passed their window, sorted
 * by (window_start, key fields). The output is therefore the same bytes
 * whatever the number of workers and however their lcores interleave.
 */
#include <errno.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_prefetch.h>

#include "dp.h"

#define SINK_PREFETCH 16
#define DP_MAIN_IDLE_MIN_US 50u
#define DP_MAIN_IDLE_MAX_US 1000u
#define DP_MAIN_IDLE_MAX_US_NO_ROWS 10000u	/* no rows come this way */


int
dp_pending_add(struct dp_pending *pd, const uint8_t *rows, size_t n, uint16_t rs,
	       int64_t tag, const uint16_t *early)
{
	if (n == 0)
		return 0;
	if (pd->n + n > pd->cap) {
		size_t cap = pd->cap ? pd->cap : 4096;
		uint8_t *r;
		int64_t *t;

		while (cap < pd->n + n)
			cap *= 2;
		r = realloc(pd->rows, cap * rs);
		if (r == NULL)
			return -ENOMEM;
		pd->rows = r;
		t = realloc(pd->tag, cap * sizeof(*t));
		if (t == NULL)
			return -ENOMEM;
		pd->tag = t;
		r = realloc(pd->early, cap);
		if (r == NULL)
			return -ENOMEM;
		pd->early = r;
		pd->cap = cap;
	}
	memcpy(pd->rows + pd->n * rs, rows, n * rs);
	for (size_t i = 0; i < n; i++) {
		pd->tag[pd->n + i] = tag;
		pd->early[pd->n + i] = early != NULL && early[i] != 0;
	}
	pd->n += n;
	return 0;
}

/* Row i's turn at combined watermark wm (see dp_pending.tag). */
static inline bool
pending_due(const struct dp_pending *pd, size_t i, const struct sl_field *end,
	    uint16_t rs, int64_t wm)
{
	return (pd->early[i] || sl_row_get_int(pd->rows + i * rs, end) - 1 <= wm) &&
	       (pd->tag[i] < wm || wm == SL_TS_MAX);
}

/*
 * A join's pairs (interval, window): the row's join_ts (column 0) is below
 * the combined watermark. Every row still to come has join_ts >= the
 * watermark of the worker making it (an interval pair's later row is not
 * late, a window pair is made at its end - 1 <= that watermark), so these
 * are final, and writing each flush sorted by (join_ts, row bytes) writes
 * the whole output in that order, whatever the timing.
 */
static inline bool
join_due(const uint8_t *row, int64_t wm)
{
	int64_t ts;

	memcpy(&ts, row, sizeof(ts));
	return ts < wm || wm == SL_TS_MAX;
}

static int
join_cmp(const void *a, const void *b, void *arg)
{
	const struct dp *dp = arg;
	const uint16_t rs = dp->out.row_size;
	const uint8_t *x = dp->pd.rows + (size_t)*(const uint32_t *)a * rs;
	const uint8_t *y = dp->pd.rows + (size_t)*(const uint32_t *)b * rs;
	int64_t tx, ty;

	memcpy(&tx, x, sizeof(tx));
	memcpy(&ty, y, sizeof(ty));
	if (tx != ty)
		return tx < ty ? -1 : 1;
	return memcmp(x + sizeof(tx), y + sizeof(ty), rs - sizeof(tx));
}

/* Row i's turn at combined watermark wm: a window's or a join's rule. */
static inline bool
row_due(const struct dp *dp, const struct dp_pending *pd, size_t i,
	const struct sl_field *end, uint16_t rs, int64_t wm)
{
	return dp_join(dp->plan) ? join_due(pd->rows + i * rs, wm) :
	       pending_due(pd, i, end, rs, wm);
}

/*
 * top_k: of each window's due rows, sorted by (window_start, key), keep
 * the K best in rank order and number them; returns how many of idx stay.
 * A window's rows are all here at the first flush that takes any of
 * them: with the event-time trigger and no allowed lateness (the plan
 * allows nothing else) each (key, window) fires once, on the watermark
 * that passes end - 1 and before its worker forwards it (R1.9), and the
 * combined watermark passes end - 1 only once every worker did. So this
 * ranking is over all keys of the window, whatever lcores.workers is.
 */
static size_t
pending_rank(struct dp *dp, struct dp_pending *pd, size_t ne)
{
	const struct sl_schema *s = &dp->out;
	const struct sl_field *start = &s->f[dp->sink_keys];
	const struct sl_field *rank = &s->f[s->n_fields - 1];
	const uint16_t rs = s->row_size;
	size_t i = 0, w = 0;

	while (i < ne) {
		int64_t ws = sl_row_get_int(pd->rows + (size_t)pd->idx[i] * rs, start);
		size_t j = i + 1;
		uint32_t m;

		while (j < ne && sl_row_get_int(pd->rows + (size_t)pd->idx[j] * rs, start) == ws)
			j++;
		m = sl_topk_rank(&pd->topk, pd->rows, rs, pd->idx + i, j - i, pd->idx + w);
		for (uint32_t r = 0; r < m; r++)
			sl_row_set_int(pd->rows + (size_t)pd->idx[w + r] * rs, rank, r + 1);
		w += m;
		i = j;
	}
	return w;
}

/* Write, in order, every pending row whose window ended at or before wm. */
static int
pending_flush(struct dp *dp, struct dp_pending *pd, int64_t wm)
{
	const struct sl_schema *s = &dp->out;
	const struct sl_field *end = &s->f[dp_join(dp->plan) ? 0 : dp->sink_keys + 1];
	const uint16_t rs = s->row_size;
	size_t ne = 0, keep = 0;

	if (pd->n > pd->idx_cap) {
		uint32_t *idx = realloc(pd->idx, pd->n * sizeof(*idx));

		if (idx == NULL)
			return -ENOMEM;
		pd->idx = idx;
		pd->idx_cap = pd->n;
	}
	for (size_t i = 0; i < pd->n; i++)
		if (row_due(dp, pd, i, end, rs, wm))
			pd->idx[ne++] = (uint32_t)i;
	if (ne == 0)
		return 0;
	if (dp_join(dp->plan)) {
		qsort_r(pd->idx, ne, sizeof(pd->idx[0]), join_cmp, dp);
	} else {
		int rc = dp_sink_sort(&pd->sort, s, dp->sink_keys, pd->rows,
				      pd->idx, ne);

		if (rc < 0)
			return rc;
	}
	if (pd->topk.k != 0)
		ne = pending_rank(dp, pd, ne);
	for (size_t i = 0; i < ne; i++) {
		int rc;

		/* Sorted order is random order in pd->rows: without this each
		 * row is a cache and TLB miss, most of the time of a fire. */
		if (i + SINK_PREFETCH < ne)
			rte_prefetch0(pd->rows + (size_t)pd->idx[i + SINK_PREFETCH] * rs);
		rc = dp_sink_write(dp, pd->rows + (size_t)pd->idx[i] * rs);

		if (rc < 0)
			return rc;
	}
	/* the map after the keyed stage takes the last rows of the run */
	int end_rc = dp_sink_write_end(dp);

	if (end_rc < 0)
		return end_rc;
	/* Keep the rest, in arrival order. */
	for (size_t i = 0; i < pd->n; i++) {
		if (row_due(dp, pd, i, end, rs, wm))
			continue;
		if (keep != i) {
			memmove(pd->rows + keep * rs, pd->rows + i * rs, rs);
			pd->tag[keep] = pd->tag[i];
			pd->early[keep] = pd->early[i];
		}
		keep++;
	}
	pd->n = keep;
	return 0;
}

/* One result vector from worker wi: rows first, then its control element. */
static int
sink_vec(struct dp *dp, struct sl_wm_valve *valve, uint16_t wi, struct sl_vec *v,
	 uint16_t *done)
{
	struct dp_pending *pd = &dp->pd;
	struct sl_wm_out o = { 0 };
	uint64_t id = 0;
	int rc = 0;

	if (v->ctl.type == SL_CTL_LATE_ROWS) {
		/* The late side output, in arrival order; with checkpoints
		 * into the transaction of the barrier still to come. */
		for (uint16_t i = 0; i < v->n_rows && rc == 0; i++)
			rc = dp_late_sink_write(dp, sl_vec_crow(v, i));
		rte_mempool_put(dp->late_pool, v);
		return rc;
	}
	if (v->n_rows && dp_rows_as_they_come(dp->plan)) {
		/* No window to wait for (stateless, dedup, process): out in
		 * the order they came. */
		for (uint16_t i = 0; i < v->n_rows && rc == 0; i++)
			rc = dp_sink_write(dp, sl_vec_crow(v, i));
		if (rc == 0)
			rc = dp_sink_write_end(dp);
	} else if (v->n_rows) {
		rc = dp_pending_add(pd, v->rows, v->n_rows, dp->out.row_size,
				    valve->ch[wi].wm, v->sel);
		/* top_k's rank: the workers' rows end before it. */
		for (uint16_t i = 0; pd->topk.k != 0 && rc == 0 && i < v->n_rows; i++)
			sl_row_set_int(pd->rows + (pd->n - v->n_rows + i) * dp->out.row_size,
				       &dp->out.f[dp->out.n_fields - 1], 0);
	}
	switch (v->ctl.type) {
	case SL_CTL_WATERMARK:
		sl_wm_valve_watermark(valve, wi, v->ctl.ts, &o);
		break;
	case SL_CTL_IDLE:
	case SL_CTL_ACTIVE:
		sl_wm_valve_status(valve, wi, v->ctl.type == SL_CTL_IDLE, &o);
		break;
	case SL_CTL_BARRIER:
		id = sl_align_barrier(&dp->sink_align, wi, (uint64_t)v->ctl.ts);
		break;
	case SL_CTL_EOI:
		sl_wm_valve_status(valve, wi, false, &o);
		if (o.wm && rc == 0)
			rc = pending_flush(dp, pd, o.ts);
		if (!atomic_load(&dp->terminate))
			sl_wm_valve_watermark(valve, wi, SL_TS_MAX, &o);
		id = sl_align_finished(&dp->sink_align, wi);
		(*done)++;
		break;
	default:
		break;
	}
	if (o.wm && rc == 0)
		rc = pending_flush(dp, pd, o.ts);
	/* Every worker passed barrier id: the sink's state is exactly the
	 * rows before it (R6.2), snapshot it now. */
	if (id != 0 && rc == 0)
		dp_ckpt_aligned(dp, id);
	rte_mempool_put(dp->res_pool, v);
	return rc;
}

/* A worker's results are piling up: it will soon wait for this loop. */
static bool
sink_backlog(const struct dp *dp)
{
	for (uint16_t wi = 0; wi < dp->n_workers; wi++)
		if (rte_ring_count(dp->w[wi].to_sink) > DP_RING_SIZE / 4)
			return true;
	return false;
}

int
dp_main_loop(struct dp *dp)
{
	struct dp_pending *pd = &dp->pd;
	struct sl_wm_valve valve;
	const unsigned int idle_max = dp->eth_sink && dp->plan->stateless ?
		DP_MAIN_IDLE_MAX_US_NO_ROWS : DP_MAIN_IDLE_MAX_US;
	unsigned int idle_us = DP_MAIN_IDLE_MIN_US;
	uint16_t done = 0;
	int rc = 0;

	sl_wm_valve_init(&valve, dp->n_workers);
	sl_align_init(&dp->sink_align, dp->n_workers,
		      dp->plan->ckpt.at_least_once ? SL_ALIGN_AT_LEAST_ONCE :
						     SL_ALIGN_EXACTLY_ONCE);
	while (done < dp->n_workers) {
		unsigned int got = 0;
		bool draining;

		for (uint16_t wi = 0; wi < dp->n_workers; wi++) {
			/* One at a time: a barrier may block this worker's
			 * ring in the middle of what a burst would take. */
			for (unsigned int k = 0; k < 32; k++) {
				struct sl_vec *v;
				int r;

				if (!sl_align_readable(&dp->sink_align, wi) ||
				    rte_ring_sc_dequeue(dp->w[wi].to_sink, (void **)&v) != 0)
					break;
				got++;
				r = sink_vec(dp, &valve, wi, v, &done);
				if (rc == 0)
					rc = r;
			}
		}
		/* Results leave now, not when a frame fills: latency. */
		if (got != 0 && dp->eth_sink)
			sl_eth_sink_flush(&dp->esink);
		dp_ctl_poll(dp);
		dp_metrics_sample(dp);
		draining = dp_ckpt_tick(dp, sink_backlog(dp));
		/* Idle: sleep, longer the longer it lasts. Each wake-up takes
		 * the CPU from a polling lcore that may share it (run to
		 * completion on one CPU), a stall of microseconds in its
		 * latency; a busy sink needs no sleep, and 512 vectors of ring
		 * hold a millisecond of results at any rate we reach. When
		 * the workers send their rows themselves (ethdev sink,
		 * stateless), only control elements come here. A checkpoint
		 * being encoded is work too: sleeping between its slices made
		 * a 10M-key drain twice as long, and the worker saves a slot
		 * for every first write until the drain has passed it. */
		if (got == 0 && !draining) {
			rte_delay_us_sleep(idle_us);
			idle_us = RTE_MIN(idle_us * 2, idle_max);
		} else {
			idle_us = DP_MAIN_IDLE_MIN_US;
		}
	}
	/* Stopped with a savepoint: the rows still held are in it, not final. */
	if (rc == 0 && !atomic_load(&dp->terminate))
		rc = pending_flush(dp, pd, SL_TS_MAX);
	dp_ckpt_finish(dp);
	dp->end_tsc = rte_rdtsc();
	free(pd->rows);
	free(pd->tag);
	free(pd->early);
	free(pd->idx);
	dp_sink_sort_free(&pd->sort);
	sl_topk_free(&pd->topk);
	if (rc < 0)
		DP_LOG(ERR, "sink failed: %s; results after the failure are lost",
		       strerror(-rc));
	return rc;
}
