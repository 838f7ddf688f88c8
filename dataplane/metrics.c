/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live metrics (docs/metrics.md), built on the main lcore from counters
 * the RX and worker lcores write. Each counter has one writer; the main
 * lcore reads aligned 64-bit values, which x86-64 never tears, so the
 * hot path pays nothing for being observed.
 */
#include <time.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "dp.h"

static inline uint64_t
rd(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline int64_t
rd_i(const int64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void
rate_update(struct dp_rate *r, uint64_t tsc, uint64_t hz, uint64_t in,
	    uint64_t out, const struct dp_time *t)
{
	uint64_t busy = rd(&t->busy), idle = rd(&t->idle), bp = rd(&t->bp);

	if (r->tsc != 0 && tsc > r->tsc) {
		double sec = (double)(tsc - r->tsc) / (double)hz;
		double ms = 1000.0 / (double)hz / sec;
		uint64_t db = busy - r->busy, dbp = bp - r->bp;

		r->in_ps = (double)(in - r->in) / sec;
		r->out_ps = (double)(out - r->out) / sec;
		r->bp_ms = (double)dbp * ms;
		r->busy_ms = (double)(db > dbp ? db - dbp : 0) * ms;
		r->idle_ms = (double)(idle - r->idle) * ms;
	}
	r->tsc = tsc;
	r->in = in;
	r->out = out;
	r->busy = busy;
	r->idle = idle;
	r->bp = bp;
}

static uint64_t
rx_out(const struct dp_rx *rx)
{
	return rd(&rx->rows_in) - rd(&rx->rows_filtered);
}

void
dp_metrics_sample(struct dp *dp)
{
	uint64_t tsc = rte_rdtsc();

	if (tsc < dp->next_sample)
		return;
	dp->next_sample = tsc + dp->tsc_hz;
	for (uint16_t r = 0; r < dp->n_rx; r++)
		rate_update(&dp->rx_rate[r], tsc, dp->tsc_hz, rd(&dp->rx[r].rows_in),
			    rx_out(&dp->rx[r]), &dp->rx[r].time);
	for (uint16_t w = 0; w < dp->n_workers; w++)
		rate_update(&dp->w_rate[w], tsc, dp->tsc_hz,
			    rd(&dp->w[w].win.stats.rows_in),
			    rd(&dp->w[w].win.stats.rows_out),
			    dp->rtc ? &dp->rx[0].time : &dp->w[w].time);
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A watermark, or null before the first one (Flink's Long.MIN_VALUE). */
static void
put_wm(json_t *o, const char *name, int64_t wm)
{
	if (wm == SL_TS_MIN) {
		json_object_set_new(o, name, json_null());
		json_object_set_new(o, "watermarkLagMs", json_null());
		return;
	}
	json_object_set_new(o, name, json_integer(wm));
	json_object_set_new(o, "watermarkLagMs",
			    wm == SL_TS_MAX ? json_null() : json_integer(wall_ms() - wm));
}

static void
put_rate(json_t *o, const struct dp_rate *r)
{
	json_object_set_new(o, "numRecordsInPerSecond", json_real(r->in_ps));
	json_object_set_new(o, "numRecordsOutPerSecond", json_real(r->out_ps));
	json_object_set_new(o, "busyTimeMsPerSecond", json_real(r->busy_ms));
	json_object_set_new(o, "idleTimeMsPerSecond", json_real(r->idle_ms));
	json_object_set_new(o, "backPressuredTimeMsPerSecond", json_real(r->bp_ms));
}

static json_t *
rx_json(const struct dp *dp, uint16_t r)
{
	const struct dp_rx *rx = &dp->rx[r];
	const struct sl_source *src = &rx->src;
	json_t *o = json_object(), *drops = json_object();
	uint64_t gaps = 0;

	for (int i = 0; i < SL_WIRE_MAX_PARTITIONS; i++)
		gaps += rd(&src->wire.part[i].gaps);
	for (int i = 0; i < SL_WIRE_DROP__COUNT; i++)
		json_object_set_new(drops, sl_wire_drop_name((enum sl_wire_drop)i),
				    json_integer((json_int_t)rd(&src->wire.drops[i])));
	json_object_set_new(o, "role", json_string(dp->rtc ? "rx+worker" : "rx"));
	json_object_set_new(o, "id", json_integer(r));
	json_object_set_new(o, "lcore", json_integer(rx->lcore));
	json_object_set_new(o, "cpu", json_integer(rte_lcore_to_cpu_id((int)rx->lcore)));
	json_object_set_new(o, "numRecordsIn", json_integer((json_int_t)rd(&rx->rows_in)));
	json_object_set_new(o, "numRecordsOut", json_integer((json_int_t)rx_out(rx)));
	put_rate(o, &dp->rx_rate[r]);
	put_wm(o, "currentOutputWatermark", rd_i(&rx->mux.last_out));
	json_object_set_new(o, "numPackets", json_integer((json_int_t)rd(&src->wire.pkts)));
	json_object_set_new(o, "numRecordsFiltered", json_integer((json_int_t)rd(&rx->rows_filtered)));
	json_object_set_new(o, "numSeqGaps", json_integer((json_int_t)gaps));
	json_object_set_new(o, "numRingFull", json_integer((json_int_t)rd(&rx->ring_full)));
	json_object_set_new(o, "numBadLines", json_integer((json_int_t)rd(&src->stats.bad_lines)));
	json_object_set_new(o, "drops", drops);
	return o;
}

static json_t *
worker_json(const struct dp *dp, uint16_t wi)
{
	const struct dp_worker *w = &dp->w[wi];
	const struct sl_win_stats *s = &w->win.stats;
	json_t *o = json_object(), *rings = json_array();

	for (uint16_t r = 0; r < w->n_in && !dp->rtc; r++) {
		char from[16];

		snprintf(from, sizeof(from), "rx%u", r);
		json_array_append_new(rings, json_pack("{s:s,s:i,s:i}", "from", from,
			"used", (int)rte_ring_count(w->in[r]),
			"capacity", (int)rte_ring_get_capacity(w->in[r])));
	}
	json_object_set_new(o, "role", json_string(dp->rtc ? "rx+worker" : "worker"));
	json_object_set_new(o, "id", json_integer(wi));
	json_object_set_new(o, "lcore", json_integer(w->lcore));
	json_object_set_new(o, "cpu", json_integer(rte_lcore_to_cpu_id((int)w->lcore)));
	json_object_set_new(o, "numRecordsIn", json_integer((json_int_t)rd(&s->rows_in)));
	json_object_set_new(o, "numRecordsOut", json_integer((json_int_t)rd(&s->rows_out)));
	put_rate(o, &dp->w_rate[wi]);
	put_wm(o, "currentInputWatermark", rd_i(&w->valve.last_out));
	json_object_set_new(o, "numLateRecordsDropped", json_integer((json_int_t)rd(&s->late_dropped)));
	json_object_set_new(o, "numStateFullDropped", json_integer((json_int_t)rd(&s->state_full_dropped)));
	json_object_set_new(o, "numWindowsFired", json_integer((json_int_t)rd(&s->windows_fired)));
	/* Rows a late element fired again (allowed lateness, R3.3). */
	json_object_set_new(o, "numLateFirings", json_integer((json_int_t)rd(&s->late_fired)));
	json_object_set_new(o, "openWindows", json_integer(__atomic_load_n(&w->win.n_open, __ATOMIC_RELAXED)));
	json_object_set_new(o, "stateBytes", json_integer((json_int_t)rd(&s->state_bytes)));
	/* Flink's "sync duration" of a checkpoint on this subtask. */
	json_object_set_new(o, "checkpointSyncDurationUs", json_integer((json_int_t)
		(rd(&w->snap_sync_last) * 1000000 / dp->tsc_hz)));
	json_object_set_new(o, "checkpointSyncDurationMaxUs", json_integer((json_int_t)
		(rd(&w->snap_sync_max) * 1000000 / dp->tsc_hz)));
	json_object_set_new(o, "rings", rings);
	return o;
}

static json_t *
operators_json(const struct dp *dp)
{
	json_t *ops = json_array();
	uint64_t in = 0, filtered = 0, win_in = 0, win_out = 0, late = 0;
	static const char *const src_names[] = {
		[SL_SRC_ETHDEV] = "source.ethdev",
		[SL_SRC_CSV] = "source.csv",
		[SL_SRC_CAPTURE] = "source.capture",
		[SL_SRC_GEN] = "source.gen",
	};

	for (uint16_t r = 0; r < dp->n_rx; r++) {
		in += rd(&dp->rx[r].rows_in);
		filtered += rd(&dp->rx[r].rows_filtered);
	}
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		win_in += rd(&dp->w[w].win.stats.rows_in);
		win_out += rd(&dp->w[w].win.stats.rows_out);
		late += rd(&dp->w[w].win.stats.late_dropped);
	}
	json_array_append_new(ops, json_pack("{s:s,s:I}", "name",
		src_names[dp->plan->source.type], "numRecordsOut", (json_int_t)in));
	if (dp->plan->n_filters)
		json_array_append_new(ops, json_pack("{s:s,s:I,s:I}", "name", "filter",
			"numRecordsIn", (json_int_t)in,
			"numRecordsOut", (json_int_t)(in - filtered)));
	json_array_append_new(ops, json_pack("{s:s,s:I,s:I,s:I}", "name",
		dp_dedup(dp->plan) ? "dedup" :
		dp_process(dp->plan) ? "process" :
		dp->plan->udf_kind == SLUICE_FN_MAP ? "map" :
		dp->plan->udf_kind == SLUICE_FN_FILTER ? "filter.udf" :
		dp->plan->udf_kind == SLUICE_FN_FLAT_MAP ? "flat_map" :
		dp->plan->window_gap_ms ? "window.session" :
		dp->plan->window_slide_ms ? "window.sliding" : "window.tumbling",
		"numRecordsIn", (json_int_t)win_in, "numRecordsOut", (json_int_t)win_out,
		"numLateRecordsDropped", (json_int_t)late));
	json_array_append_new(ops, json_pack("{s:s,s:I}", "name",
		dp->plan->sink.type == SL_SINK_CSV ? "sink.csv" :
		dp->plan->sink.type == SL_SINK_ETHDEV ? "sink.ethdev" : "sink.stdout",
		"numRecordsIn", (json_int_t)dp_sink_rows(dp)));
	if (dp->plan->has_late_sink)
		json_array_append_new(ops, json_pack("{s:s,s:I}", "name",
			dp->plan->late_sink.type == SL_SINK_CSV ? "late_sink.csv" : "late_sink.stdout",
			"numRecordsIn", (json_int_t)dp->late_sink.rows));
	return ops;
}

json_t *
dp_metrics_json(struct dp *dp)
{
	json_t *o = json_object(), *lc = json_array();

	for (uint16_t r = 0; r < dp->n_rx; r++)
		json_array_append_new(lc, rx_json(dp, r));
	for (uint16_t w = 0; w < dp->n_workers && !dp->rtc; w++)
		json_array_append_new(lc, worker_json(dp, w));
	if (dp->rtc) {
		/* One lcore plays both roles: merge the worker's view in. */
		json_t *rx = json_array_get(lc, 0), *w = worker_json(dp, 0);

		json_object_set(rx, "currentInputWatermark",
				json_object_get(w, "currentInputWatermark"));
		json_object_set(rx, "numLateRecordsDropped", json_object_get(w, "numLateRecordsDropped"));
		json_object_set(rx, "numStateFullDropped", json_object_get(w, "numStateFullDropped"));
		json_object_set(rx, "numWindowsFired", json_object_get(w, "numWindowsFired"));
		json_object_set(rx, "openWindows", json_object_get(w, "openWindows"));
		json_object_set(rx, "stateBytes", json_object_get(w, "stateBytes"));
		json_decref(w);
	}
	json_object_set_new(o, "job", json_string(dp->plan->name));
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "uptimeMs", json_integer((json_int_t)dp_cycles_ms(rte_rdtsc() - dp->start_tsc, dp->tsc_hz)));
	json_object_set_new(o, "state", json_string(atomic_load(&dp->draining) ? "DRAINING" : "RUNNING"));
	json_object_set_new(o, "lcores", lc);
	json_object_set_new(o, "operators", operators_json(dp));
	dp_ckpt_metrics(dp, o);
	return o;
}

/* DPDK telemetry: `dpdk-telemetry.py -f sluice-dp-<pid>` then /sluice/metrics. */
static struct dp *tel_dp;

static int
tel_metrics(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp *dp = tel_dp;
	uint64_t in = 0, late = 0, out = 0, drops = 0, filtered = 0;

	(void)cmd;
	(void)params;
	for (uint16_t r = 0; r < dp->n_rx; r++) {
		in += rd(&dp->rx[r].rows_in);
		filtered += rd(&dp->rx[r].rows_filtered);
		for (int i = 0; i < SL_WIRE_DROP__COUNT; i++)
			drops += rd(&dp->rx[r].src.wire.drops[i]);
	}
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		late += rd(&dp->w[w].win.stats.late_dropped);
		out += rd(&dp->w[w].win.stats.rows_out);
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "job", dp->plan->name);
	rte_tel_data_add_dict_string(d, "state", atomic_load(&dp->draining) ? "DRAINING" : "RUNNING");
	rte_tel_data_add_dict_u64(d, "numRecordsIn", in);
	rte_tel_data_add_dict_u64(d, "numRecordsFiltered", filtered);
	rte_tel_data_add_dict_u64(d, "numRecordsOut", out);
	rte_tel_data_add_dict_u64(d, "numLateRecordsDropped", late);
	rte_tel_data_add_dict_u64(d, "numPacketsDropped", drops);
	rte_tel_data_add_dict_u64(d, "numRxLcores", dp->n_rx);
	rte_tel_data_add_dict_u64(d, "numWorkerLcores", dp->n_workers);
	return 0;
}

static int
tel_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp *dp = tel_dp;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (int i = 0; i < SL_WIRE_DROP__COUNT; i++) {
		uint64_t n = 0;

		for (uint16_t r = 0; r < dp->n_rx; r++)
			n += rd(&dp->rx[r].src.wire.drops[i]);
		rte_tel_data_add_dict_u64(d, sl_wire_drop_name((enum sl_wire_drop)i), n);
	}
	return 0;
}

void
dp_telemetry_register(struct dp *dp)
{
	tel_dp = dp;
	rte_telemetry_register_cmd("/sluice/metrics", tel_metrics,
				   "Job totals: records in/out, late records dropped, packets dropped. No parameters");
	rte_telemetry_register_cmd("/sluice/drops", tel_drops,
				   "Packets dropped by reason, over all RX lcores. No parameters");
}
