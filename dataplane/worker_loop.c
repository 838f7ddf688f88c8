/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker lcore: dequeue vectors from each RX lcore's ring in turn, run
 * the keyed window over their rows, combine the inputs' watermarks in the
 * valve (R1.7) and fire windows when it advances. Results and the
 * watermark that caused them go to the main lcore's sink, in that order
 * (R1.9: results precede their watermark).
 */
#include <sched.h>

#include <rte_lcore.h>
#include <rte_pause.h>

#include "dp.h"

static void
res_send(struct dp_worker *w)
{
	struct dp *dp = w->dp;

	if (unlikely(rte_ring_sp_enqueue(w->to_sink, w->res) != 0)) {
		uint64_t t0 = rte_rdtsc();

		w->sink_full++;
		while (rte_ring_sp_enqueue(w->to_sink, w->res) != 0)
			rte_pause();
		w->time.bp += rte_rdtsc() - t0;
	}
	while (unlikely(rte_mempool_get(dp->res_pool, (void **)&w->res) != 0))
		rte_pause();
	sl_vec_reset(w->res, dp->out.row_size);
	w->res->src = w->id;
}

static uint8_t *
res_row(void *ctx)
{
	struct dp_worker *w = ctx;

	if (unlikely(w->res->n_rows == SL_VEC_MAX))
		res_send(w);
	return sl_vec_row(w->res, w->res->n_rows++);
}

static void
res_ctl(struct dp_worker *w, enum sl_ctl_type type, int64_t ts)
{
	w->res->ctl.type = (uint8_t)type;
	w->res->ctl.ts = ts;
	res_send(w);
}

static void
worker_apply(struct dp_worker *w, const struct sl_wm_out *o)
{
	if (o->status > 0)
		res_ctl(w, SL_CTL_ACTIVE, 0);
	if (o->wm) {
		sl_win_advance(&w->win, o->ts, res_row, w);
		res_ctl(w, SL_CTL_WATERMARK, o->ts);
	}
	if (o->status < 0)
		res_ctl(w, SL_CTL_IDLE, 0);
}

void
dp_worker_finish(struct dp_worker *w)
{
	sl_win_advance(&w->win, SL_TS_MAX, res_row, w);
	res_ctl(w, SL_CTL_EOI, SL_TS_MAX);
}

void
dp_worker_handle(struct dp_worker *w, struct sl_vec *v)
{
	struct sl_wm_out o;

	w->vecs_in++;
	if (v->n_sel > 0)
		sl_win_process(&w->win, v);
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
	case SL_CTL_EOI:
		/* A finished input is active at MAX for good. */
		sl_wm_valve_status(&w->valve, v->src, false, &o);
		worker_apply(w, &o);
		sl_wm_valve_watermark(&w->valve, v->src, SL_TS_MAX, &o);
		worker_apply(w, &o);
		if (++w->n_done == w->n_in)
			dp_worker_finish(w);
		break;
	}
	rte_mempool_put(w->dp->vec_pool, v);
}

int
dp_worker_loop(void *arg)
{
	struct dp_worker *w = arg;
	struct sl_vec *v[DP_DEQ_BURST];
	unsigned int idle = 0;

	w->time.last = rte_rdtsc();
	while (w->n_done < w->n_in) {
		unsigned int n = rte_ring_sc_dequeue_burst(w->in[w->rr],
							   (void **)v,
							   DP_DEQ_BURST, NULL);

		w->rr = (uint16_t)(w->rr + 1 == w->n_in ? 0 : w->rr + 1);
		for (unsigned int i = 0; i < n; i++)
			dp_worker_handle(w, v[i]);
		dp_time_account(&w->time, n > 0);
		if (n == 0) {
			w->idle_polls++;
			if (w->dp->shared_cores && ++idle >= DP_IDLE_YIELD) {
				idle = 0;
				sched_yield();
			}
		}
	}
	return 0;
}
