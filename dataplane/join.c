/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Several sources in one job (sources:, then a union or a join): each
 * source gets its own RX lcore, polling it through a plan of its own
 * (the job's plan with that source's schema and source in place of the
 * first one's), so the drivers and the RX loop stay one-source code. The
 * workers' valve already takes the minimum over its RX inputs, which is
 * then the minimum over the sources (R1.7, idleness included).
 *
 * A join pipeline's worker runs sl_join (operators/join): a vector's side
 * is the source of the RX lcore that sent it. A broadcast join's rules
 * source sends every row to every worker (rx_loop.c), and each worker's
 * rules map is operator state, checkpointed per worker and restored onto
 * any number of workers (dp_worker_join_opstate). Joined rows go to the sink
 * as they come; rows the join drops as late, and match's timed-out rows
 * (W7.3's side output), go to late_sink when there is one. A join's
 * process (a co_process plugin) writes its own rows, and its side
 * output named by side_sink takes late_sink's way; its processing-time
 * timers run on the workers' TSC clock as a process pipeline's do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp.h"

void
dp_inputs_free(struct dp *dp)
{
	for (uint16_t i = 0; i < SL_PLAN_MAX_SOURCES; i++) {
		free(dp->input_plan[i]);
		dp->input_plan[i] = NULL;
	}
}

/* The key an RX lcore routes by: its side's join key, or key_by. */
void
dp_rx_key(struct dp_rx *rx, const struct sl_plan *p)
{
	/* after a map before key_by: its rows, not the source's */
	const struct sl_schema *s = p->key_map ? &p->schema : &rx->sp->schema;

	if (dp_join(p)) {
		const bool left = rx->id == p->join.left;

		rx->n_keys = p->join.n_keys;
		/* Broadcast state: every worker keeps every rule. */
		rx->broadcast = !left && p->join.kind == SL_PLAN_JOIN_BROADCAST;
		memcpy(rx->key_field, left ? p->join.left_key : p->join.right_key,
		       sizeof(int) * p->join.n_keys);
	} else {
		rx->n_keys = p->n_keys;
		memcpy(rx->key_field, p->key_field, sizeof(int) * p->n_keys);
	}
	rx->key_len = 0;
	rx->key_off = rx->n_keys > 0 ? (int32_t)s->f[rx->key_field[0]].offset : -1;
	for (uint16_t k = 0; k < rx->n_keys; k++) {
		const struct sl_field *f = &s->f[rx->key_field[k]];

		if ((int32_t)f->offset != rx->key_off + (int32_t)rx->key_len)
			rx->key_off = -1;
		rx->key_len += f->size;
	}
}

/*
 * One plan per source, for its RX lcore (one for the single source too
 * when a map before key_by makes the plan's schema the map's). What a
 * multi-source job cannot do yet is refused here, with what to change.
 */
int
dp_inputs_setup(struct dp *dp)
{
	const struct sl_plan *p = dp->plan;

	dp->vec_row_max = p->schema.row_size;
	if (p->n_inputs < 2 && !p->key_map)
		return 0;
	if (p->n_inputs > 1 && p->ckpt.interval_ms > 0 && p->ckpt.unaligned) {
		/* Their in-flight rows would be replayed with one source's
		 * schema and key. */
		DP_LOG(ERR, "%s: unaligned checkpoints of a job with several sources are not supported yet; set execution.checkpointing.unaligned: false",
		       p->file);
		return -ENOTSUP;
	}
	if (p->n_inputs > 1 && p->sink.type == SL_SINK_ETHDEV) {
		DP_LOG(ERR, "%s: a job with several sources writes to a csv or stdout sink; an ethdev sink is not supported with it yet",
		       p->file);
		return -ENOTSUP;
	}
	for (uint16_t i = 0; i < p->n_inputs; i++) {
		const struct sl_plan_input *in = &p->inputs[i];

		if (p->n_inputs > 1 && in->source.type == SL_SRC_ETHDEV &&
		    in->source.rx_queues != 1) {
			DP_LOG(ERR, "%s: source %s: one RX queue per source in a job with several sources; set queues: 1",
			       p->file, in->name);
			return -ENOTSUP;
		}
		dp->input_plan[i] = malloc(sizeof(*p));
		if (dp->input_plan[i] == NULL)
			return -ENOMEM;
		memcpy(dp->input_plan[i], p, sizeof(*p));
		dp->input_plan[i]->schema = in->schema;
		dp->input_plan[i]->source = in->source;
		/* Filters belong to the first source's schema; the copies
		 * never compile or free them. */
		dp->input_plan[i]->n_filters = 0;
		memset(dp->input_plan[i]->filter, 0, sizeof(dp->input_plan[i]->filter));
		/* the workers get the map's rows (p->schema) with a map
		 * before key_by, else the sources' */
		if (!p->key_map && in->schema.row_size > dp->vec_row_max)
			dp->vec_row_max = in->schema.row_size;
	}
	return 0;
}

static void
join_conf(const struct dp *dp, struct sl_join_conf *c)
{
	const struct sl_plan *p = dp->plan;
	const struct sl_plan_join *j = &p->join;
	static const enum sl_join_kind kinds[] = {
		[SL_PLAN_JOIN_INTERVAL] = SL_JOIN_INTERVAL,
		[SL_PLAN_JOIN_WINDOW] = SL_JOIN_WINDOW,
		[SL_PLAN_JOIN_MATCH] = SL_JOIN_MATCH,
		[SL_PLAN_JOIN_ENRICH] = SL_JOIN_ENRICH,
		[SL_PLAN_JOIN_PROCESS] = SL_JOIN_PROCESS,
		[SL_PLAN_JOIN_BROADCAST] = SL_JOIN_BROADCAST,
		[SL_PLAN_JOIN_TEMPORAL] = SL_JOIN_TEMPORAL,
	};
	const uint16_t side[2] = { j->left, j->right };

	memset(c, 0, sizeof(*c));
	/* A window join of sessions is its own kind in sl_join. */
	c->kind = j->kind == SL_PLAN_JOIN_WINDOW && j->gap_ms > 0 ? SL_JOIN_SESSION : kinds[j->kind];
	for (int s = 0; s < 2; s++) {
		const struct sl_plan_input *in = &p->inputs[side[s]];

		c->in[s].schema = &in->schema;
		c->in[s].ts_field = in->source.ts_field;
		memcpy(c->in[s].key_field, s == 0 ? j->left_key : j->right_key,
		       sizeof(int) * j->n_keys);
	}
	c->n_keys = j->n_keys;
	c->lower = j->lower_ms;
	c->upper = j->upper_ms;
	c->lower_exclusive = j->lower_exclusive;
	c->upper_exclusive = j->upper_exclusive;
	c->size = j->size_ms;
	c->slide = j->slide_ms;
	c->offset = j->offset_ms;
	c->gap = j->gap_ms;
	c->timeout = j->timeout_ms;
	c->outer = j->outer;
	c->ttl = j->ttl_ms;
	c->fn = dp->udf_fn;
	c->n_params = p->udf_n_params;
	c->params = p->udf_param;
	c->out = &j->out;
	c->capacity = p->key_capacity;
	c->max_parallelism = p->max_parallelism;
	c->first_kg = 0;
	c->last_kg = p->max_parallelism - 1;
}

int
dp_join_setup(struct dp *dp)
{
	const struct sl_plan *p = dp->plan;
	struct sl_join_conf c;
	char msg[200];

	join_conf(dp, &c);
	if (sl_join_conf_check(&c, msg, sizeof(msg)) < 0) {
		DP_LOG(ERR, "%s: %s", p->file, msg);
		return -EINVAL;
	}
	if (p->join.kind == SL_PLAN_JOIN_PROCESS) {
		/* The function's columns (the plan set it up); its side
		 * output's rows are of the same schema. */
		dp->out = p->udf_out;
		dp->late_schema = &p->udf_out;
		return 0;
	}
	/* The plan's columns are sl_join's output layout: ts, left, right. */
	dp->out = p->join.out;
	if (dp->out.row_size != 8u + c.in[0].schema->row_size + c.in[1].schema->row_size) {
		DP_LOG(ERR, "%s: the join's output columns do not match its rows", p->file);
		return -EINVAL;
	}
	dp->late_schema = &p->join.out;
	return 0;
}

int
dp_worker_join_init(struct dp_worker *w, uint32_t lo, uint32_t hi)
{
	struct sl_join_conf c;
	int rc;

	join_conf(w->dp, &c);
	c.first_kg = lo;
	c.last_kg = hi;
	c.task = w->id;
	c.n_tasks = w->dp->n_workers;
	rc = sl_join_init(&w->join, &c, w->st);
	if (rc < 0) {
		DP_LOG(ERR, "worker %u: join state: %s", w->id, strerror(-rc));
		return rc;
	}
	if (c.kind == SL_JOIN_PROCESS || c.ttl > 0) {
		/* The clock before a restore, as a process pipeline's: due
		 * processing-time timers it brings back fire at the first
		 * tick (R4.7); state TTL reads it. */
		w->ptime = true;
		dp_worker_ptime_tick(w, rte_rdtsc());
	}
	return 0;
}

/* Where an output row of kind k goes: the result vector, the late side
 * output, or nowhere (counted by the join). */
static uint8_t *
join_out(void *ctx, enum sl_join_out_kind k)
{
	struct dp_worker *w = ctx;
	const struct sl_plan *p = w->dp->plan;

	if (k == SL_JOIN_OUT_PAIR ||
	    (k == SL_JOIN_OUT_LEFT_ONLY && (p->join.kind == SL_PLAN_JOIN_ENRICH ||
					    p->join.kind == SL_PLAN_JOIN_BROADCAST ||
					    p->join.kind == SL_PLAN_JOIN_TEMPORAL)))
		return dp_worker_res_row(w);
	if (k == SL_JOIN_OUT_SIDE && (!p->has_late_sink || w->join.side_tag != p->side_tag)) {
		w->side_dropped++;	/* a side output no side_sink takes */
		return NULL;
	}
	return p->has_late_sink ? dp_worker_late_slot(w) : NULL;
}

/* The join's counters, mirrored into the window's, which stats read. */
static void
join_stats(struct dp_worker *w)
{
	const struct sl_join_stats *s = &w->join.stats;

	w->win.stats.rows_in = s->rows_in[0] + s->rows_in[1];
	w->win.stats.rows_out = s->rows_out;
	w->win.stats.state_full_dropped = s->state_full_dropped;
	w->win.stats.state_errors = s->state_errors;
	w->win.stats.late_dropped = s->late[0] + s->late[1];
}

void
dp_worker_join(struct dp_worker *w, const struct sl_vec *v)
{
	const enum sl_join_side side = v->src == w->dp->plan->join.left ?
				       SL_JOIN_LEFT : SL_JOIN_RIGHT;

	sl_join_process(&w->join, side, v, join_out, w);
	join_stats(w);
}

void
dp_worker_join_ptime(struct dp_worker *w, int64_t now)
{
	/* A failure is counted in the join's state_errors. */
	(void)sl_join_advance_processing_time(&w->join, now, join_out, w);
	join_stats(w);
}

void
dp_worker_join_advance(struct dp_worker *w, int64_t wm)
{
	/* A failure is counted in the join's state_errors. */
	(void)sl_join_advance(&w->join, wm, join_out, w);
	join_stats(w);
}

/*
 * A broadcast join's rules map from every old worker's operator-state
 * section (R5.3: each new worker takes the map; copies that differ are
 * logged, and the worker takes old worker id % N's, Flink's rule).
 */
int
dp_worker_join_opstate(struct dp_worker *w)
{
	const struct dp_restore *rs = w->dp->rs;
	const void **snap;
	size_t *len;
	uint32_t n = 0;
	unsigned int diverged = 0;
	char msg[256] = "";
	int rc;

	for (uint32_t i = 0; i < rs->n_secs; i++)
		n += rs->secs[i].op == CKPT_OP_OPSTATE;
	if (w->dp->plan->join.kind != SL_PLAN_JOIN_BROADCAST) {
		if (n == 0)
			return 0;
		DP_LOG(ERR, "worker %u: restore: the checkpoint has operator state, which a %s join does not keep: it is another job's",
		       w->id, sl_join_kind_name(w->join.conf.kind));
		return -EINVAL;
	}
	if (n == 0) {
		DP_LOG(ERR, "worker %u: restore: the checkpoint has no broadcast state for this broadcast join: it is another job's",
		       w->id);
		return -EINVAL;
	}
	snap = calloc(n, sizeof(*snap));
	len = calloc(n, sizeof(*len));
	if (snap == NULL || len == NULL) {
		free(snap);
		free(len);
		return -ENOMEM;
	}
	n = 0;
	for (uint32_t i = 0; i < rs->n_secs; i++)
		if (rs->secs[i].op == CKPT_OP_OPSTATE) {
			snap[n] = rs->secs[i].data;
			len[n++] = rs->secs[i].len;
		}
	rc = sl_join_opstate_restore(&w->join, snap, len, n, &diverged, msg, sizeof(msg));
	if (rc < 0)
		DP_LOG(ERR, "worker %u: restore: %s", w->id, msg);
	else if (diverged > 0)
		DP_LOG(WARNING, "worker %u: restore: %s (the rules source's rows reached the workers differently: report it)",
		       w->id, msg);
	free(snap);
	free(len);
	return rc;
}
