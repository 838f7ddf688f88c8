/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker lcore: dequeue vectors from each RX lcore's ring in turn, run
 * the keyed window over their rows, combine the inputs' watermarks in the
 * valve (R1.7) and fire windows when it advances (processing-time windows:
 * when the TSC clock passes their end, dp_worker_ptime_tick). Results and the
 * watermark that caused them go to the main lcore's sink, in that order
 * (R1.9: results precede their watermark).
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include <rte_lcore.h>
#include <rte_pause.h>

#include "dp.h"

/*
 * Hand a vector to the main lcore; the ring full is backpressure. The
 * wait spins a little, then yields: the main lcore may share this CPU
 * (a one-CPU job), and spinning would only keep it from draining the ring.
 */
static void
to_sink(struct dp_worker *w, struct sl_vec *v)
{
	if (unlikely(rte_ring_sp_enqueue(w->to_sink, v) != 0)) {
		uint64_t t0 = rte_rdtsc();
		unsigned int spins = 0;

		w->sink_full++;
		while (rte_ring_sp_enqueue(w->to_sink, v) != 0) {
			if (++spins < 256)
				rte_pause();
			else
				sched_yield();
		}
		w->time.bp += rte_rdtsc() - t0;
	}
}

/*
 * Filters after the keyed stage, over a result vector before it leaves:
 * the rows they keep close up, each with its early-firing flag (sel[]).
 */
static void
res_filter(struct dp_worker *w, struct sl_vec *v)
{
	const uint16_t rs = v->row_size, n = v->n_rows;
	uint16_t keep[SL_VEC_MAX], ns = n;

	for (uint16_t i = 0; i < n; i++)
		keep[i] = i;
	for (uint16_t f = 0; f < w->n_post && ns > 0; f++)
		ns = sl_expr_filter(w->post[f], v->rows, rs, keep, ns, keep);
	for (uint16_t j = 0; j < ns; j++) {
		if (keep[j] == j)
			continue;
		memcpy(v->rows + (size_t)j * rs, v->rows + (size_t)keep[j] * rs, rs);
		v->sel[j] = v->sel[keep[j]];
	}
	v->n_rows = ns;
	w->post_filtered += (uint64_t)(n - ns);
}

static void
res_send(struct dp_worker *w)
{
	struct dp *dp = w->dp;

	if (w->n_post != 0 && w->res->n_rows != 0)
		res_filter(w, w->res);
	to_sink(w, w->res);
	while (unlikely(rte_mempool_get(dp->res_pool, (void **)&w->res) != 0))
		rte_pause();
	sl_vec_reset(w->res, dp->out.row_size);
	w->res->src = w->id;
}

/*
 * The late side output: rows the window dropped as late go to the main
 * lcore in vectors of their own (SL_CTL_LATE_ROWS), sent when full and
 * before any control element, so they precede the watermark and the end
 * of input that follow them.
 */
static void
late_send(struct dp_worker *w)
{
	to_sink(w, w->late);
	w->late = NULL;
}

uint8_t *
dp_worker_late_slot(struct dp_worker *w)
{
	const uint16_t rs = w->dp->late_schema->row_size;

	if (w->late != NULL && w->late->n_rows == SL_VEC_MAX)
		late_send(w);
	if (w->late == NULL) {
		while (unlikely(rte_mempool_get(w->dp->late_pool, (void **)&w->late) != 0))
			rte_pause();
		sl_vec_reset(w->late, rs);
		w->late->src = w->id;
		w->late->ctl.type = SL_CTL_LATE_ROWS;
	}
	return sl_vec_row(w->late, w->late->n_rows++);
}

void
dp_worker_late_row(void *ctx, const uint8_t *row)
{
	struct dp_worker *w = ctx;

	memcpy(dp_worker_late_slot(w), row, w->dp->late_schema->row_size);
}

uint8_t *
dp_worker_res_row(void *ctx)
{
	struct dp_worker *w = ctx;

	if (unlikely(w->res->n_rows == SL_VEC_MAX))
		res_send(w);
	/* A result vector's sel[] is free: it says which rows are early
	 * firings (the sink lets those through before their window ends). */
	w->res->sel[w->res->n_rows] = w->win.out_early;
	return sl_vec_row(w->res, w->res->n_rows++);
}

void
dp_worker_res_ctl(struct dp_worker *w, enum sl_ctl_type type, int64_t ts)
{
	if (w->late != NULL)
		late_send(w);
	w->res->ctl.type = (uint8_t)type;
	w->res->ctl.ts = ts;
	res_send(w);
}

/*
 * A dedup pipeline: the rows it keeps go to the sink in arrival order
 * (written as they come, like a stateless pipeline's); its counters are
 * mirrored into the window's, which metrics and stats read.
 */
static void
worker_dedup_stats(struct dp_worker *w)
{
	const struct sl_dedup_stats *s = &w->dedup.stats;

	w->win.stats.rows_in = s->rows_in;
	w->win.stats.rows_out = s->rows_out;
	w->win.stats.state_full_dropped = s->state_full_dropped;
	w->win.stats.state_errors = s->state_errors;
}

static void
worker_dedup(struct dp_worker *w, const struct sl_vec *v)
{
	sl_dedup_process(&w->dedup, v, dp_worker_res_row, w);
	worker_dedup_stats(w);
}

/* The watermark removes keys whose bound it passed; nothing to emit.
 * A failure is counted in the operator's state_errors (the keys still
 * due go at the next advance). */
static void
worker_dedup_advance(struct dp_worker *w, int64_t wm)
{
	(void)sl_dedup_advance(&w->dedup, wm);
	worker_dedup_stats(w);
}

/*
 * A process pipeline: the function's rows go to the sink as they are
 * emitted (by its process calls and its timers), its side output's rows
 * to side_sink's place (the late side output's path); its counters are
 * mirrored into the window's, which metrics and stats read.
 */
static void
worker_process_stats(struct dp_worker *w)
{
	const struct sl_process_stats *s = &w->proc.stats;

	w->win.stats.rows_in = s->rows_in;
	w->win.stats.rows_out = s->rows_out;
	w->win.stats.state_errors = s->state_errors;
}

void
dp_worker_side_row(void *ctx, int tag, const uint8_t *row)
{
	struct dp_worker *w = ctx;

	if (w->dp->plan->has_late_sink && tag == w->dp->plan->side_tag)
		dp_worker_late_row(w, row);
	else
		w->side_dropped++;
}

static void
worker_process(struct dp_worker *w, const struct sl_vec *v)
{
	sl_process_run(&w->proc, v, w->proc.now);
	worker_process_stats(w);
}

/* The watermark fires the function's event-time timers; a failure (the
 * state's) is counted in the operator's state_errors. */
static void
worker_process_advance(struct dp_worker *w, int64_t wm)
{
	if (sl_process_advance(&w->proc, wm) < 0)
		w->proc.stats.state_errors++;
	worker_process_stats(w);
}

/* The worker's operator sees watermark wm (SL_TS_MAX: end of input). */
static void
worker_advance(struct dp_worker *w, int64_t wm)
{
	if (dp_dedup(w->dp->plan))
		worker_dedup_advance(w, wm);
	else if (dp_join(w->dp->plan))
		dp_worker_join_advance(w, wm);
	else if (dp_process(w->dp->plan))
		worker_process_advance(w, wm);
	else if (w->dp->plan->stage2.on)
		dp_worker_stage2_advance(w, wm);
	else if (!w->dp->plan->stateless)
		sl_win_advance(&w->win, wm, dp_worker_res_row, w);
}

static void
worker_apply(struct dp_worker *w, const struct sl_wm_out *o)
{
	if (dp_stage2_multi(w->dp)) {
		/* to the second stage's workers, not to the sink */
		dp_worker_stage2_apply(w, o);
		return;
	}
	if (o->status > 0)
		dp_worker_res_ctl(w, SL_CTL_ACTIVE, 0);
	if (o->wm) {
		worker_advance(w, o->ts);
		dp_worker_res_ctl(w, SL_CTL_WATERMARK, o->ts);
	}
	if (o->status < 0)
		dp_worker_res_ctl(w, SL_CTL_IDLE, 0);
}

/* The worker's last element: the ethdev sink's END goes out before it. */
void
dp_worker_eoi(struct dp_worker *w)
{
	if (w->tx)
		sl_eth_sink_close(&w->esink);
	dp_worker_res_ctl(w, SL_CTL_EOI, SL_TS_MAX);
}

/*
 * Processing-time windows: the clock moved into a new millisecond (tsc
 * reached pt_next_tsc): give the window the time, epoch ms, and let it
 * fire what is due. The TSC is converted here only, once per ms.
 */
void
dp_worker_ptime_tick(struct dp_worker *w, uint64_t tsc)
{
	const struct dp *dp = w->dp;
	const uint64_t hz = dp->tsc_hz;
	const uint64_t ms = dp_cycles_ms(tsc - dp->pt_tsc, hz), next = ms + 1;

	/* The first cycle count whose ms is next: ceil(next * hz / 1000). */
	w->pt_next_tsc = dp->pt_tsc + next / 1000 * hz + (next % 1000 * hz + 999) / 1000;
	if (dp_process(dp->plan)) {
		/* R4.2: a timer for T fires no earlier than the clock's T + 1,
		 * so the due bound is the clock minus one (sl_timer's note). */
		if (sl_process_advance_processing_time(&w->proc, dp->pt_epoch_ms + (int64_t)ms - 1) < 0)
			w->proc.stats.state_errors++;
		worker_process_stats(w);
	} else if (dp_join(dp->plan)) {
		/* The clock itself: the join takes one off for its timers. */
		dp_worker_join_ptime(w, dp->pt_epoch_ms + (int64_t)ms);
	} else {
		sl_win_advance_processing_time(&w->win, dp->pt_epoch_ms + (int64_t)ms,
					       dp_worker_res_row, w);
	}
	/* What fired goes out now, not with the next control element:
	 * no watermark is coming for it. */
	if (w->res != NULL && w->res->n_rows > 0)
		res_send(w);
}

void
dp_worker_finish(struct dp_worker *w)
{
	if (dp_stage2_multi(w->dp)) {
		dp_worker_stage2_finish(w);
		return;
	}
	worker_advance(w, SL_TS_MAX);
	dp_worker_eoi(w);
}

/*
 * R6.2: every input has delivered barrier id. Take a copy-on-write
 * snapshot of the window state (the poll loop pays for copying the
 * backend's page directory, not the state) and send the barrier on, behind
 * every result it covers. The main lcore writes the snapshot out while
 * this lcore goes on, and says when it is done (snap_done).
 */
static void
worker_snapshot(struct dp_worker *w, uint64_t id)
{
	uint64_t t0 = rte_rdtsc(), dt;
	int rc;

	dp_worker_snap_poll(w);
	if (unlikely(w->native) &&
	    atomic_load_explicit(&w->dp->native_id, memory_order_acquire) == id) {
		/* rocksdb, incremental: link its SSTs and copy its log (the
		 * sync part of the checkpoint; the stall is measured below). */
		char dir[sizeof(w->dp->native_root) + 32];

		snprintf(dir, sizeof(dir), "%s/worker-%u.db", w->dp->native_root, w->id);
		(void)sl_state_snapshot_native(w->st, dir);
	}
	/* A stateless worker has no state: its checkpoint is its place in
	 * the barrier's order, which the sink's alignment keeps. */
	rc = w->dp->plan->stateless ? 0 :
	     dp_dedup(w->dp->plan) ? sl_dedup_snapshot_begin(&w->dedup) :
	     dp_join(w->dp->plan) ? sl_join_snapshot_begin(&w->join) :
	     dp_process(w->dp->plan) ? sl_process_snapshot_begin(&w->proc) :
	     sl_win_snapshot_begin(&w->win);
	dt = rte_rdtsc() - t0;
	w->snap_sync_last = dt;
	if (dt > w->snap_sync_max)
		w->snap_sync_max = dt;
	w->snap_id = rc == 0 ? id : 0;	/* 0 tells the main lcore it failed */
	w->rec_id = id;
	w->n_chan = 0;
	w->chan_overflow = false;
	/* Unaligned: what the inputs still deliver before their barriers is
	 * in flight; aligned: nothing is, the channel state is complete now. */
	w->recording = w->unaligned && w->snap_id != 0 && w->align.last_done != id;
	if (!w->recording)
		atomic_store_explicit(&w->chan_done, id, memory_order_release);
	if (w->dp->plan->stage2.on) {
		if (dp_stage2_multi(w->dp)) {
			/* the second stage snapshots once every worker's
			 * barrier reached it (align2) */
			dp_worker_stage2_barrier(w, id);
			return;
		}
		/* one worker: the second stage has taken every row before
		 * the barrier (the first fires only on watermarks) */
		w->snap2_id = sl_win_snapshot_begin(&w->win2) == 0 ? id : 0;
	}
	dp_worker_res_ctl(w, SL_CTL_BARRIER, (int64_t)id);
}

/* Keep in-flight vector v as channel state; false when there is no room
 * (the checkpoint then fails, the job goes on). */
static bool
chan_keep(struct dp_worker *w, struct sl_vec *v)
{
	if (unlikely(w->n_chan == w->cap_chan)) {
		w->chan_overflow = true;
		return false;
	}
	w->chan[w->n_chan++] = v;
	w->chan_rows += v->n_sel;
	return true;
}

/* The last input delivered the barrier: the channel state is complete. */
static void
chan_complete(struct dp_worker *w)
{
	if (w->align.last_done != w->rec_id)
		return;
	w->recording = false;
	if (w->chan_overflow)
		w->snap_id = 0;		/* tells the main lcore it failed */
	atomic_store_explicit(&w->chan_done, w->rec_id, memory_order_release);
}

void
dp_worker_chan_release(struct dp_worker *w)
{
	if (w->n_chan != 0)
		rte_mempool_put_bulk(w->dp->vec_pool, (void **)w->chan, w->n_chan);
	w->n_chan = 0;
	w->recording = false;
}

/*
 * A stateless pipeline: the rows, mapped or as they are, to the sink. With
 * an ethdev sink they leave from here, at the end of every vector: the
 * result vector is only a staging area (a vector's rows never fill more
 * than one), and only control elements go on to the main lcore.
 */
/* A flat_map's next row with an ethdev sink: a vector's rows can fill
 * more than one result vector, so a full one leaves at once. */
static uint8_t *
worker_tx_row(void *ctx)
{
	struct dp_worker *w = ctx;

	if (unlikely(w->res->n_rows == SL_VEC_MAX)) {
		sl_eth_sink_rows(&w->esink, w->res->rows, w->res->n_rows);
		sl_eth_sink_flush(&w->esink);
		w->res->n_rows = 0;
	}
	return sl_vec_row(w->res, w->res->n_rows++);
}

static void
worker_rows(struct dp_worker *w, const struct sl_vec *v)
{
	const uint16_t rs = v->row_size;

	/* The worker's operator counters, as the window keeps them. */
	w->win.stats.rows_in += v->n_sel;
	if (w->udf != NULL) {
		w->win.stats.rows_out += sl_udf_rows(w->udf, v, w->tx ? worker_tx_row :
						     dp_worker_res_row, w);
		w->win.stats.state_errors = w->udf->errors;
	} else if (w->map != NULL) {
		w->win.stats.rows_out += v->n_sel;
		sl_map_process(w->map, v, dp_worker_res_row, w);
	} else {
		w->win.stats.rows_out += v->n_sel;
		for (uint16_t j = 0; j < v->n_sel; j++)
			memcpy(dp_worker_res_row(w), v->rows + (size_t)v->sel[j] * rs, rs);
	}
	if (w->tx) {
		sl_eth_sink_rows(&w->esink, w->res->rows, w->res->n_rows);
		sl_eth_sink_flush(&w->esink);
		w->res->n_rows = 0;
	}
}

void
dp_worker_handle(struct dp_worker *w, struct sl_vec *v)
{
	struct sl_wm_out o;
	uint64_t id, t0 = rte_rdtsc();
	bool kept = false;

	w->vecs_in++;
	dp_worker_snap_poll(w);
	if (v->n_sel > 0) {
		/* Rows ahead of their input's barrier, behind the snapshot. */
		if (unlikely(w->recording) && sl_align_in_flight(&w->align, v->src))
			kept = chan_keep(w, v);
		if (w->dp->plan->stateless)
			worker_rows(w, v);
		else if (dp_dedup(w->dp->plan))
			worker_dedup(w, v);
		else if (dp_join(w->dp->plan))
			dp_worker_join(w, v);
		else if (dp_process(w->dp->plan))
			worker_process(w, v);
		else
			sl_win_process(&w->win, v);
	}
	switch (v->ctl.type) {
	case SL_CTL_NONE:
		break;
	case SL_CTL_WATERMARK:
		sl_wm_valve_watermark(&w->valve, v->src, v->ctl.ts, &o);
		worker_apply(w, &o);
		break;
	case SL_CTL_IDLE:
	case SL_CTL_ACTIVE:
		sl_wm_valve_status(&w->valve, v->src,
				   v->ctl.type == SL_CTL_IDLE, &o);
		worker_apply(w, &o);
		break;
	case SL_CTL_BARRIER:
		id = sl_align_barrier(&w->align, v->src, (uint64_t)v->ctl.ts);
		if (id != 0)
			worker_snapshot(w, id);
		if (unlikely(w->recording))
			chan_complete(w);
		break;
	case SL_CTL_EOI:
		if (atomic_load_explicit(&w->dp->terminate, memory_order_relaxed)) {
			/* Stop with savepoint: no final watermark, nothing fires. */
			if (++w->n_done == w->n_in)
				dp_worker_eoi(w);
			break;
		}
		/* A finished input is active at MAX for good. */
		sl_wm_valve_status(&w->valve, v->src, false, &o);
		worker_apply(w, &o);
		sl_wm_valve_watermark(&w->valve, v->src, SL_TS_MAX, &o);
		worker_apply(w, &o);
		id = sl_align_finished(&w->align, v->src);
		if (id != 0)
			worker_snapshot(w, id);
		if (unlikely(w->recording))
			chan_complete(w);
		if (++w->n_done == w->n_in)
			dp_worker_finish(w);
		break;
	}
	if (likely(!kept))
		rte_mempool_put(w->dp->vec_pool, v);
	dp_vtime_add(&w->vtime, rte_rdtsc() - t0);
}

/*
 * Run input c's vectors in order. When one ends with a barrier that blocks
 * c (aligned mode, R6.2), the rest of the burst belongs after the
 * checkpoint: keep it aside until the alignment completes.
 */
static void
worker_feed(struct dp_worker *w, uint16_t c, struct sl_vec **v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		dp_worker_handle(w, v[i]);
		if (unlikely(!sl_align_readable(&w->align, c)) && i + 1 < n) {
			w->held_at[c] = 0;
			w->n_held[c] = (uint8_t)(n - i - 1);
			memcpy(w->held[c], &v[i + 1], sizeof(v[0]) * (n - i - 1));
			return;
		}
	}
}

/* Input c is readable again: its held vectors come before the ring's. */
static unsigned int
worker_feed_held(struct dp_worker *w, uint16_t c)
{
	unsigned int done = 0;

	while (w->held_at[c] < w->n_held[c] && sl_align_readable(&w->align, c)) {
		dp_worker_handle(w, w->held[c][w->held_at[c]++]);
		done++;
	}
	if (w->held_at[c] == w->n_held[c])
		w->held_at[c] = w->n_held[c] = 0;
	return done;
}

int
dp_worker_loop(void *arg)
{
	struct dp_worker *w = arg;
	struct sl_vec *v[DP_DEQ_BURST];
	unsigned int idle = 0;

	w->time.last = rte_rdtsc();
	while (w->n_done < w->n_in || w->n_done2 < w->n_in2) {
		uint16_t c = w->rr;
		unsigned int n = 0;

		/* a second keyed stage on several workers: the others' rows */
		if (w->n_in2 != 0)
			n += dp_worker_stage2_poll(w);
		if (w->n_done == w->n_in) {
			dp_time_account(&w->time, n > 0);
			if (n == 0 && w->dp->shared_cores && ++idle >= DP_IDLE_YIELD) {
				idle = 0;
				sched_yield();
			}
			continue;
		}

		if (w->unaligned) {
			/* Unaligned: the trigger overtakes every queued row. */
			uint64_t t = atomic_load_explicit(&w->dp->ckpt_trigger,
							  memory_order_relaxed);

			if (unlikely(t != w->seen_trigger)) {
				w->seen_trigger = t;
				if (sl_align_trigger(&w->align, t) != 0)
					worker_snapshot(w, t);
			}
		}
		w->rr = (uint16_t)(w->rr + 1 == w->n_in ? 0 : w->rr + 1);
		if (w->ptime) {
			const uint64_t tsc = rte_rdtsc();

			if (unlikely(tsc >= w->pt_next_tsc))
				dp_worker_ptime_tick(w, tsc);
		}
		if (unlikely(w->n_held[c] != 0)) {
			n += worker_feed_held(w, c);
		} else if (likely(sl_align_readable(&w->align, c))) {
			unsigned int got = rte_ring_sc_dequeue_burst(w->in[c], (void **)v,
								     DP_DEQ_BURST, NULL);

			worker_feed(w, c, v, got);
			n += got;
		}
		dp_time_account(&w->time, n > 0);
		if (n == 0) {
			w->idle_polls++;
			dp_worker_snap_poll(w);
			if (w->dp->shared_cores && ++idle >= DP_IDLE_YIELD) {
				idle = 0;
				sched_yield();
			}
		}
	}
	return 0;
}
