/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RX lcore: poll the source, track event time per partition, filter,
 * hash keys to key groups and route rows to their workers' vectors, and
 * inject watermarks and end of input in band. VPP's shape: each step is a
 * loop over the whole batch, the destination of every row goes into dst[]
 * first, then rows are copied out.
 */
#include <sched.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_memcpy.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include "dp.h"
#include "sl_kg.h"

static inline struct sl_vec *
vec_get(struct dp *dp, uint16_t row_size, uint16_t src)
{
	struct sl_vec *v;

	/* The pool is sized for every ring full at once plus every lcore's
	 * open vectors, so this only spins if the sizing is wrong. */
	while (unlikely(rte_mempool_get(dp->vec_pool, (void **)&v) != 0))
		rte_pause();
	sl_vec_reset(v, row_size);
	v->src = src;
	return v;
}

/* Hand rx->out[w] to worker w and start a new vector. */
static void
rx_send(struct dp_rx *rx, uint16_t w)
{
	struct dp *dp = rx->dp;
	struct sl_vec *v = rx->out[w];

	if (dp->rtc) {
		dp_worker_handle(&dp->w[w], v);
	} else if (unlikely(rte_ring_sp_enqueue(rx->ring[w], v) != 0)) {
		/* Backpressure: a full ring stops this lcore, which stops
		 * polling the port; the NIC then counts imissed. Nothing is
		 * dropped silently. */
		uint64_t t0 = rte_rdtsc();

		rx->ring_full++;
		while (rte_ring_sp_enqueue(rx->ring[w], v) != 0)
			rte_pause();
		rx->time.bp += rte_rdtsc() - t0;
	}
	rx->vecs_out++;
	rx->out[w] = vec_get(dp, rx->out_rs, rx->id);
}

static void
rx_ctl_all(struct dp_rx *rx, enum sl_ctl_type type, int64_t ts)
{
	for (uint16_t w = 0; w < rx->dp->n_workers; w++) {
		rx->out[w]->ctl.type = (uint8_t)type;
		rx->out[w]->ctl.ts = ts;
		rx_send(rx, w);
	}
}

static void
rx_emit(struct dp_rx *rx, const struct sl_wm_out *o)
{
	if (o->status > 0)
		rx_ctl_all(rx, SL_CTL_ACTIVE, 0);
	if (o->wm) {
		rx_ctl_all(rx, SL_CTL_WATERMARK, o->ts);
		rx->wms_out++;
	}
	if (o->status < 0)
		rx_ctl_all(rx, SL_CTL_IDLE, 0);
}

/* At most SL_VEC_MAX rows of one partition. */
/* One row into worker w's vector, sent when full. */
static inline void
rx_push(struct dp_rx *rx, uint16_t w, const uint8_t *row, uint16_t rs, uint32_t hash)
{
	struct sl_vec *v = rx->out[w];
	uint16_t k = v->n_rows;

	rte_memcpy(sl_vec_row(v, k), row, rs);
	v->hash[k] = hash;
	v->sel[k] = k;
	v->n_rows = (uint16_t)(k + 1);
	v->n_sel = v->n_rows;
	if (unlikely(v->n_rows == SL_VEC_MAX))
		rx_send(rx, w);
}

/*
 * A broadcast join's rules (low rate): every selected row to every
 * worker, in order, so each worker's rules map sees the same rows in the
 * same order before the same watermarks.
 */
static __rte_noinline void
rx_broadcast(struct dp_rx *rx, const uint8_t *rows, uint16_t ns)
{
	const uint16_t rs = rx->sp->schema.row_size, nw = rx->dp->n_workers;

	for (uint16_t w = 0; w < nw; w++)
		for (uint16_t j = 0; j < ns; j++)
			rx_push(rx, w, rows + (size_t)rx->sel[j] * rs, rs, rx->hash[j]);
}

static void
rx_rows(struct dp_rx *rx, const uint8_t *rows, uint16_t n, uint16_t part)
{
	struct dp *dp = rx->dp;
	const struct sl_plan *p = dp->plan;
	const struct sl_schema *sc = &rx->sp->schema;
	uint16_t rs = sc->row_size;
	const struct sl_field *tsf = &sc->f[rx->sp->source.ts_field];
	const uint32_t maxp = p->max_parallelism, nw = dp->n_workers;
	uint8_t key[SL_ROW_MAX];
	int64_t max_ts = SL_TS_MIN;
	uint16_t ns = n;

	/* Event time first, over every row: the watermark strategy sits at
	 * the source, before any filter (Flink's WatermarkStrategy on a
	 * source sees all events). */
	for (uint16_t i = 0; i < n; i++) {
		int64_t ts = sl_row_ts(rows + (size_t)i * rs, tsf);

		max_ts = ts > max_ts ? ts : max_ts;
	}
	sl_wm_mux_events(&rx->mux, part, max_ts, n);
	rx->rows_in += n;

	for (uint16_t i = 0; i < n; i++)
		rx->sel[i] = i;
	for (uint16_t f = 0; f < rx->n_src_filters && ns > 0; f++)
		ns = sl_expr_filter(rx->filter[f], rows, rs, rx->sel, ns, rx->sel);
	if (rx->map != NULL && ns > 0) {
		/* A map before key_by: the keyed stage's rows from here on,
		 * side by side in mapped[]; the filters after the map and
		 * the key read those. */
		sl_map_rows(rx->map, rows, rs, rx->sel, ns, rx->mapped);
		rows = rx->mapped;
		rs = rx->out_rs;
		sc = &p->schema;
		for (uint16_t j = 0; j < ns; j++)
			rx->sel[j] = j;
		for (uint16_t f = rx->n_src_filters; f < rx->n_filters && ns > 0; f++)
			ns = sl_expr_filter(rx->filter[f], rows, rs, rx->sel, ns, rx->sel);
	}
	rx->rows_filtered += (uint64_t)(n - ns);

	/* Keys whose fields sit side by side in the row (one field, the
	 * usual case) hash in place; others are gathered first. A stateless
	 * pipeline keeps a partition on one worker, in order (Flink's
	 * forward partitioning). */
	if (p->stateless) {
		for (uint16_t j = 0; j < ns; j++)
			rx->hash[j] = 0;
		for (uint16_t j = 0; j < ns; j++)
			rx->dst[j] = (uint16_t)(part % nw);
	} else if (rx->key_off >= 0) {
		for (uint16_t j = 0; j < ns; j++) {
			const uint8_t *row = rows + (size_t)rx->sel[j] * rs;

			rx->hash[j] = sl_kg_hash(row + rx->key_off, rx->key_len);
		}
	} else {
		for (uint16_t j = 0; j < ns; j++) {
			sl_win_key_gather(sc, rx->key_field, rx->n_keys,
					  rows + (size_t)rx->sel[j] * rs, key);
			rx->hash[j] = sl_kg_hash(key, rx->key_len);
		}
	}
	if (unlikely(rx->broadcast)) {
		rx_broadcast(rx, rows, ns);
		return;
	}
	if (!p->stateless)
		for (uint16_t j = 0; j < ns; j++)
			rx->dst[j] = (uint16_t)sl_kg_owner(sl_kg_of(rx->hash[j], maxp),
							   maxp, nw);
	for (uint16_t j = 0; j < ns; j++)
		rx_push(rx, rx->dst[j], rows + (size_t)rx->sel[j] * rs, rs, rx->hash[j]);
}

static void
rx_batch(struct dp_rx *rx, const struct sl_src_batch *b)
{
	const uint16_t rs = rx->sp->schema.row_size;

	for (uint16_t off = 0; off < b->n; off += SL_VEC_MAX) {
		uint16_t n = (uint16_t)RTE_MIN(b->n - off, SL_VEC_MAX);

		rx_rows(rx, b->rows + (size_t)off * rs, n, b->partition);
	}
}

static inline int64_t
now_ms(const struct dp *dp, uint64_t tsc)
{
	return (int64_t)dp_cycles_ms(tsc - dp->start_tsc, dp->tsc_hz);
}

static void
rx_start(struct dp_rx *rx)
{
	struct dp *dp = rx->dp;

	for (uint16_t w = 0; w < dp->n_workers; w++)
		rx->out[w] = vec_get(dp, rx->out_rs, rx->id);
	rx->next_tick = rte_rdtsc() + rx->tick_cycles;
	rx->time.last = rte_rdtsc();
}

/* One poll of rx's source. @return the batches it took, or -1 once the
 * source is done or the job stops. */
static int
rx_step(struct dp_rx *rx)
{
	struct dp *dp = rx->dp;
	const bool punctuated = rx->sp->source.emit == SL_WM_PUNCTUATED;
	struct sl_src_batch b[SL_IO_BURST];
	uint64_t ck = atomic_load_explicit(&dp->ckpt_trigger, memory_order_acquire);
	struct sl_wm_out o;
	uint16_t nb;
	uint64_t tsc;

	if (unlikely(ck > rx->ckpt_id)) {
		/* R6.1: record where the source stands, then put the
		 * barrier in line behind every row before it. The
		 * ring enqueue publishes the offset with it. */
		rx->ckpt_id = ck;
		if (rx->src.ops->offset != NULL)
			rx->src.ops->offset(&rx->src, &rx->ckpt_off);
		rx_ctl_all(rx, SL_CTL_BARRIER, (int64_t)ck);
	}
	nb = rx->src.ops->poll(&rx->src, b, SL_IO_BURST);

	if (unlikely(rx->first_tsc == 0) && nb > 0)
		rx->first_tsc = rte_rdtsc();
	for (uint16_t i = 0; i < nb; i++) {
		rx_batch(rx, &b[i]);
		if (punctuated) {
			sl_wm_mux_emit(&rx->mux, &o);
			rx_emit(rx, &o);
		}
	}
	rx->src.ops->release(&rx->src);

	tsc = rte_rdtsc();
	/* Run to completion: the workers' processing-time clock runs
	 * here, as their loop would run it. */
	for (uint16_t w = 0; dp->rtc && w < dp->n_workers; w++)
		if (dp->w[w].ptime && unlikely(tsc >= dp->w[w].pt_next_tsc))
			dp_worker_ptime_tick(&dp->w[w], tsc);
	if (unlikely(tsc >= rx->next_tick)) {
		rx->next_tick = tsc + rx->tick_cycles;
		sl_wm_mux_poll(&rx->mux, now_ms(dp, tsc), &o);
		rx_emit(rx, &o);
	}
	if (unlikely(rx->src.done ||
		     atomic_load_explicit(&dp->stop, memory_order_relaxed)))
		return -1;
	/* Ship partial vectors at the end of every burst: a quiet
	 * stream must not wait for a vector to fill. */
	for (uint16_t w = 0; w < dp->n_workers; w++)
		if (rx->out[w]->n_rows > 0)
			rx_send(rx, w);
	dp_time_account(&rx->time, nb > 0);
	return nb;
}

static void
rx_end(struct dp_rx *rx)
{
	struct dp *dp = rx->dp;

	rx->end_tsc = rte_rdtsc();
	/* End of input (or stop with drain): the last watermark is MAX, so
	 * every window fires (R1.10). The job drains (no more checkpoints)
	 * once every source has ended: with several, one that ends early
	 * leaves the others running. */
	if (atomic_fetch_add(&dp->rx_ended, 1) + 1 == dp->n_rx)
		atomic_store(&dp->draining, 1);
	/* Checkpoints this source never saw (the others' later ones)
	 * record it where it ended, not where it stood at its last
	 * barrier: their workers took all its rows (its EOI aligns
	 * them), so a restore must not read them again (ckpt_sources).
	 * Published to the main lcore by the EOI's enqueue and the
	 * workers' acks. */
	if (rx->src.done && rx->src.ops->offset != NULL) {
		rx->src.ops->offset(&rx->src, &rx->end_off);
		rx->end_ckpt = rx->ckpt_id;
		rx->ended = true;
	}
	rx_ctl_all(rx, SL_CTL_EOI, SL_TS_MAX);
	for (uint16_t w = 0; w < dp->n_workers; w++)
		rte_mempool_put(dp->vec_pool, rx->out[w]);
}

/*
 * Run to completion with several sources (sources:): this one lcore polls
 * each source in turn, a burst at a time, and runs the worker on what it
 * routes; a source that ends sends its end of input and drops out.
 */
static int
rx_loop_all(struct dp *dp)
{
	bool done[DP_MAX_RX] = { false };
	unsigned int idle = 0;
	uint16_t n_done = 0;

	for (uint16_t r = 0; r < dp->n_rx; r++)
		rx_start(&dp->rx[r]);
	while (n_done < dp->n_rx) {
		int got = 0;

		for (uint16_t r = 0; r < dp->n_rx; r++) {
			int nb;

			if (done[r])
				continue;
			nb = rx_step(&dp->rx[r]);
			if (nb < 0) {
				rx_end(&dp->rx[r]);
				done[r] = true;
				n_done++;
			} else {
				got += nb;
			}
		}
		if (got == 0 && dp->shared_cores && ++idle >= DP_IDLE_YIELD) {
			idle = 0;
			sched_yield();
		}
	}
	return 0;
}

int
dp_rx_loop(void *arg)
{
	struct dp_rx *rx = arg;
	struct dp *dp = rx->dp;
	unsigned int idle = 0;

	if (dp->rtc && dp->n_rx > 1)
		return rx_loop_all(dp);
	rx_start(rx);
	for (;;) {
		int nb = rx_step(rx);

		if (nb < 0)
			break;
		if (nb == 0 && dp->shared_cores && ++idle >= DP_IDLE_YIELD) {
			idle = 0;
			sched_yield();
		}
	}
	rx_end(rx);
	return 0;
}
