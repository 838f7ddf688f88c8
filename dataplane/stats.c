/* SPDX-License-Identifier: BSD-3-Clause */
/* Final counters: a human summary on stderr and, on request, JSON. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <jansson.h>

#include "dp.h"

/* Percentile q (0..1) of a vector-time histogram, in ns (bucket upper bound). */
static uint64_t
vt_pct(const struct dp_vtime *h, double q, uint64_t hz)
{
	uint64_t want = (uint64_t)((double)h->n * q), seen = 0;

	for (unsigned int i = 0; i < DP_VT_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > want && seen > 0) {
			unsigned int e = i / 8, sub = i % 8;
			uint64_t hi = e >= 3 ? ((uint64_t)(8 + sub + 1) << (e - 3)) : sub + 1;

			if (hi > h->max)
				hi = h->max;
			return hi * 1000000000ull / hz;
		}
	}
	return h->max * 1000000000ull / hz;
}

/* From the first row received to the last result written: the time the
 * job was busy, without the wait for a port's peer. */
static double
elapsed_s(const struct dp *dp)
{
	uint64_t first = UINT64_MAX;

	for (uint16_t r = 0; r < dp->n_rx; r++)
		if (dp->rx[r].first_tsc && dp->rx[r].first_tsc < first)
			first = dp->rx[r].first_tsc;
	return first != UINT64_MAX && dp->end_tsc > first ?
	       (double)(dp->end_tsc - first) / (double)dp->tsc_hz : 0;
}

void
dp_stats_print(const struct dp *dp)
{
	uint64_t rows = 0;
	double s = elapsed_s(dp);

	for (uint16_t r = 0; r < dp->n_rx; r++) {
		const struct dp_rx *rx = &dp->rx[r];
		const struct sl_source *src = &rx->src;
		uint64_t gaps = 0;

		for (int i = 0; i < SL_WIRE_MAX_PARTITIONS; i++)
			gaps += src->wire.part[i].gaps;
		rows += rx->rows_in;
		fprintf(stderr,
			"sluice-dp: rx %u: packets %" PRIu64 ", rows %" PRIu64
			", filtered %" PRIu64 ", watermarks %" PRIu64
			", seq gaps %" PRIu64 ", ring full %" PRIu64,
			r, src->wire.pkts, rx->rows_in, rx->rows_filtered,
			rx->wms_out, gaps, rx->ring_full);
		if (src->stats.bad_lines)
			fprintf(stderr, ", bad csv lines %" PRIu64, src->stats.bad_lines);
		if (src->stats.truncated_bytes)
			fprintf(stderr, ", truncated bytes %" PRIu64,
				src->stats.truncated_bytes);
		if (src->stats.rx_missed)
			fprintf(stderr, ", imissed %" PRIu64, src->stats.rx_missed);
		fputc('\n', stderr);
		for (int i = 0; i < SL_WIRE_DROP__COUNT; i++)
			if (src->wire.drops[i])
				fprintf(stderr, "sluice-dp: rx %u: dropped %" PRIu64
					" packet(s): %s (%s)\n", r, src->wire.drops[i],
					sl_wire_drop_name((enum sl_wire_drop)i),
					sl_wire_drop_desc((enum sl_wire_drop)i));
	}
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		const struct sl_win_stats *ws = &dp->w[w].win.stats;

		fprintf(stderr,
			"sluice-dp: worker %u: rows %" PRIu64 ", late dropped %" PRIu64
			", windows fired %" PRIu64 ", results %" PRIu64 "%s\n",
			w, ws->rows_in, ws->late_dropped, ws->windows_fired,
			ws->rows_out, ws->state_full_dropped ? "" : "");
		if (dp_dedup(dp->plan))
			fprintf(stderr, "sluice-dp: worker %u: duplicates dropped %" PRIu64
				", keys expired %" PRIu64 "\n", w,
				dp->w[w].dedup.stats.dup_dropped,
				dp->w[w].dedup.stats.keys_expired);
		if (dp_join(dp->plan))
			fprintf(stderr, "sluice-dp: worker %u: join %s: left rows %" PRIu64
				", right rows %" PRIu64 ", late left %" PRIu64 ", late right %" PRIu64
				", unmatched %" PRIu64 ", purged %" PRIu64 ", late rules %" PRIu64 "\n", w,
				sl_join_kind_name(dp->w[w].join.conf.kind),
				dp->w[w].join.stats.rows_in[0], dp->w[w].join.stats.rows_in[1],
				dp->w[w].join.stats.late[0], dp->w[w].join.stats.late[1],
				dp->w[w].join.stats.unmatched, dp->w[w].join.stats.purged,
				dp->w[w].join.stats.late_rules);
		if (dp_process(dp->plan))
			fprintf(stderr, "sluice-dp: worker %u: timers fired %" PRIu64
				", side output rows %" PRIu64 " (%" PRIu64 " with no side_sink)"
				", function errors %" PRIu64 "\n", w,
				dp->w[w].proc.stats.timers_fired, dp->w[w].proc.stats.side_out,
				dp->w[w].side_dropped, dp->w[w].proc.stats.fn_errors);
		if (dp->plan->stage2.on)
			fprintf(stderr, "sluice-dp: worker %u: second keyed stage: rows %" PRIu64
				" (%" PRIu64 " removed by the filters before it), late dropped %" PRIu64
				", windows fired %" PRIu64 ", results %" PRIu64 "\n", w,
				dp->w[w].win2.stats.rows_in, dp->w[w].mid_filtered,
				dp->w[w].win2.stats.late_dropped, dp->w[w].win2.stats.windows_fired,
				dp->w[w].win2.stats.rows_out);
		if (dp->plan->n_post_filters != 0)
			fprintf(stderr, "sluice-dp: worker %u: results removed by the filters after the keyed stage %" PRIu64 "\n",
				w, dp->w[w].post_filtered);
		if (ws->state_full_dropped)
			fprintf(stderr, "sluice-dp: worker %u: DROPPED %" PRIu64
				" rows: the state backend is full; raise state.backend.heap.memory or use state.backend.type: rocksdb\n",
				w, ws->state_full_dropped);
		if (ws->sessions_full_dropped)
			fprintf(stderr, "sluice-dp: worker %u: DROPPED %" PRIu64
				" rows: a key had %d session windows in flight (not yet cleaned up); raise the session gap or lower allowed_lateness or the watermark's out_of_orderness\n",
				w, ws->sessions_full_dropped, SL_WIN_SESS_MAX);
	}
	if (dp->plan->n_final_filters != 0)
		fprintf(stderr, "sluice-dp: sink: rows removed by the filters after its map %" PRIu64 "\n",
			dp->final_filtered);
	fprintf(stderr, "sluice-dp: job %s: %" PRIu64 " rows in %.3f s (%.0f rows/s), %" PRIu64
		" results to %s\n", dp->plan->name, rows, s, s > 0 ? (double)rows / s : 0,
		dp->sink.rows, dp->sink.path);
}

int
dp_stats_json(const struct dp *dp, const char *path)
{
	json_t *root = json_object(), *rxs = json_array(), *ws = json_array();
	int rc;

	for (uint16_t r = 0; r < dp->n_rx; r++) {
		const struct dp_rx *rx = &dp->rx[r];
		const struct sl_source *src = &rx->src;
		json_t *drops = json_object();
		uint64_t gaps = 0;

		for (int i = 0; i < SL_WIRE_MAX_PARTITIONS; i++)
			gaps += src->wire.part[i].gaps;
		for (int i = 0; i < SL_WIRE_DROP__COUNT; i++)
			json_object_set_new(drops, sl_wire_drop_name((enum sl_wire_drop)i),
					    json_integer((json_int_t)src->wire.drops[i]));
		json_array_append_new(rxs, json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}",
			"id", r,
			"packets", (json_int_t)src->wire.pkts,
			"rows", (json_int_t)rx->rows_in,
			"filtered", (json_int_t)rx->rows_filtered,
			"watermarks", (json_int_t)rx->wms_out,
			"seq_gaps", (json_int_t)gaps,
			"ring_full", (json_int_t)rx->ring_full,
			"bad_lines", (json_int_t)src->stats.bad_lines,
			"truncated_bytes", (json_int_t)src->stats.truncated_bytes,
			"imissed", (json_int_t)src->stats.rx_missed,
			"drops", drops));
	}
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		const struct sl_win_stats *s = &dp->w[w].win.stats;

		json_array_append_new(ws, json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			"id", w,
			"rows", (json_int_t)s->rows_in,
			"numLateRecordsDropped", (json_int_t)s->late_dropped,
			"state_full_dropped", (json_int_t)s->state_full_dropped,
			"windows_fired", (json_int_t)s->windows_fired,
			"results", (json_int_t)s->rows_out,
			"sink_full", (json_int_t)dp->w[w].sink_full,
			"state_errors", (json_int_t)s->state_errors,
			"state_bytes", (json_int_t)s->state_bytes,
			"state_disk_bytes", (json_int_t)s->state_disk_bytes));
		json_object_set_new(json_array_get(ws, w), "late_firings",
				    json_integer((json_int_t)s->late_fired));
		json_object_set_new(json_array_get(ws, w), "sessions_full_dropped",
				    json_integer((json_int_t)s->sessions_full_dropped));
		if (dp_dedup(dp->plan)) {
			const struct sl_dedup_stats *ds = &dp->w[w].dedup.stats;

			json_object_set_new(json_array_get(ws, w), "duplicates_dropped",
					    json_integer((json_int_t)ds->dup_dropped));
			json_object_set_new(json_array_get(ws, w), "keys_expired",
					    json_integer((json_int_t)ds->keys_expired));
		}
		if (dp_join(dp->plan)) {
			const struct sl_join_stats *js = &dp->w[w].join.stats;

			json_object_set_new(json_array_get(ws, w), "join", json_pack(
				"{s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
				"left_rows", (json_int_t)js->rows_in[0],
				"right_rows", (json_int_t)js->rows_in[1],
				"late_left", (json_int_t)js->late[0],
				"late_right", (json_int_t)js->late[1],
				"unmatched", (json_int_t)js->unmatched,
				"purged", (json_int_t)js->purged,
				"late_rules", (json_int_t)js->late_rules));
		}
		if (dp->plan->n_post_filters != 0)
			json_object_set_new(json_array_get(ws, w), "post_filtered",
					    json_integer((json_int_t)dp->w[w].post_filtered));
		if (dp->plan->stage2.on) {
			const struct sl_win_stats *s2 = &dp->w[w].win2.stats;

			json_object_set_new(json_array_get(ws, w), "stage2", json_pack(
				"{s:I, s:I, s:I, s:I, s:I}",
				"rows_in", (json_int_t)s2->rows_in,
				"filtered_before", (json_int_t)dp->w[w].mid_filtered,
				"numLateRecordsDropped", (json_int_t)s2->late_dropped,
				"windows_fired", (json_int_t)s2->windows_fired,
				"rows_out", (json_int_t)s2->rows_out));
		}
		if (dp_process(dp->plan)) {
			const struct sl_process_stats *ps = &dp->w[w].proc.stats;

			json_object_set_new(json_array_get(ws, w), "timers_fired",
					    json_integer((json_int_t)ps->timers_fired));
			json_object_set_new(json_array_get(ws, w), "side_output_rows",
					    json_integer((json_int_t)ps->side_out));
			json_object_set_new(json_array_get(ws, w), "side_output_dropped",
					    json_integer((json_int_t)dp->w[w].side_dropped));
			json_object_set_new(json_array_get(ws, w), "function_errors",
					    json_integer((json_int_t)ps->fn_errors));
			json_object_set_new(json_array_get(ws, w), "timers_pending",
					    json_integer((json_int_t)(sl_process_timers(&dp->w[w].proc, SLUICE_EVENT_TIME) +
								      sl_process_timers(&dp->w[w].proc, SLUICE_PROCESSING_TIME))));
		}
		json_object_set_new(json_array_get(ws, w), "vector_ns", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}",
			"count", (json_int_t)dp->w[w].vtime.n,
			"p50", (json_int_t)vt_pct(&dp->w[w].vtime, 0.5, dp->tsc_hz),
			"p99", (json_int_t)vt_pct(&dp->w[w].vtime, 0.99, dp->tsc_hz),
			"p99_9", (json_int_t)vt_pct(&dp->w[w].vtime, 0.999, dp->tsc_hz),
			"p99_99", (json_int_t)vt_pct(&dp->w[w].vtime, 0.9999, dp->tsc_hz),
			"max", (json_int_t)(dp->w[w].vtime.max * 1000000000ull / dp->tsc_hz)));
		/* Checkpoint costs on the worker: the longest hold of its loop
		 * at a barrier, and (heap) the pages it copied for snapshots. */
		json_object_set_new(json_array_get(ws, w), "checkpoint_sync_max_us", json_integer(
			(json_int_t)(dp->w[w].snap_sync_max * 1000000ull / dp->tsc_hz)));
		if (dp->w[w].st != NULL) {
			struct sl_state_stats ss;

			sl_state_stats(dp->w[w].st, &ss);
			json_object_set_new(json_array_get(ws, w), "cow_slots",
					    json_integer((json_int_t)ss.cow_slots));
			json_object_set_new(json_array_get(ws, w), "cow_pages",
					    json_integer((json_int_t)ss.cow_pages));
			json_object_set_new(json_array_get(ws, w), "thawed_pages",
					    json_integer((json_int_t)ss.thawed_pages));
		}
	}
	json_object_set_new(root, "job", json_string(dp->plan->name));
	json_object_set_new(root, "seconds", json_real(elapsed_s(dp)));
	json_object_set_new(root, "rx", rxs);
	json_object_set_new(root, "workers", ws);
	json_object_set_new(root, "sink_rows", json_integer((json_int_t)dp->sink.rows));
	if (dp->plan->n_final_filters != 0)
		json_object_set_new(root, "sink_filtered",
				    json_integer((json_int_t)dp->final_filtered));
	if (dp->eth_sink) {
		uint64_t pkts = dp->esink.pkts, full = dp->esink.tx_full,
			 lost = dp->esink.tx_dropped;

		for (uint16_t w = 0; w < dp->n_workers; w++) {
			pkts += dp->w[w].esink.pkts;
			full += dp->w[w].esink.tx_full;
			lost += dp->w[w].esink.tx_dropped;
		}
		json_object_set_new(root, "sink_packets", json_integer((json_int_t)pkts));
		json_object_set_new(root, "sink_tx_full", json_integer((json_int_t)full));
		json_object_set_new(root, "sink_tx_dropped", json_integer((json_int_t)lost));
	}
	if (dp->plan->has_late_sink)
		json_object_set_new(root, "late_sink_rows",
				    json_integer((json_int_t)dp->late_sink.rows));
	/* Last, so a reader (sluiced, re-attached) knows how it ended. */
	json_object_set_new(root, "exit_code", json_integer(dp->exit_code));
	{
		uint64_t rows = 0;
		double sec = elapsed_s(dp);

		for (uint16_t r = 0; r < dp->n_rx; r++)
			rows += dp->rx[r].rows_in;
		json_object_set_new(root, "rows_per_second",
				    json_real(sec > 0 ? (double)rows / sec : 0));
	}
	{
		/* The input alone, from the first row to the last source's
		 * end: without the end of input's firing, which a bounded job
		 * pays once whatever else it does. */
		uint64_t rows = 0, first = UINT64_MAX, last = 0;
		double sec;

		for (uint16_t r = 0; r < dp->n_rx; r++) {
			rows += dp->rx[r].rows_in;
			if (dp->rx[r].first_tsc && dp->rx[r].first_tsc < first)
				first = dp->rx[r].first_tsc;
			if (dp->rx[r].end_tsc > last)
				last = dp->rx[r].end_tsc;
		}
		sec = first != UINT64_MAX && last > first ?
		      (double)(last - first) / (double)dp->tsc_hz : 0;
		json_object_set_new(root, "input_seconds", json_real(sec));
		json_object_set_new(root, "input_rows_per_second",
				    json_real(sec > 0 ? (double)rows / sec : 0));
	}
	rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (rc != 0) {
		DP_LOG(ERR, "cannot write %s", path);
		return -EIO;
	}
	return 0;
}
