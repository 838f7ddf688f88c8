/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A second keyed stage: key_by, window and aggregate again after a
 * window's aggregate (Flink's consecutive windowed operations, R9.1),
 * then filters and a map over its results. Its steps are read by the
 * same parsers as the first stage's, into a plan of their own whose
 * schema is the first stage's results with window_time (window_end - 1,
 * R2.9) appended; what they made is copied into sl_plan.stage2.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "plan_private.h"

/* The first window must give each (key, window) one final row, once:
 * then the second one sees every row before the watermark that passes
 * its window_time, and none late. */
static int
stage1_final(struct plan_ctx *c, const struct plan_node *k)
{
	const struct sl_plan *p = c->p;

	if (p->window_gap_ms > 0 || p->window_processing_time ||
	    p->window_lateness_ms > 0 || p->window_count_trigger != 0 ||
	    p->window_continuous_ms != 0)
		return plan_err(c, k, "a second keyed stage takes the first window's final results, once each: that window must be an event-time tumbling or sliding one with the default trigger and no allowed_lateness");
	if (p->topk_k != 0)
		return plan_err(c, k, "a second keyed stage after top_k is not supported yet");
	if (p->n_post_map != 0)
		return plan_err(c, k, "a map between two keyed stages is not supported yet; filter between them, map after the second");
	for (uint16_t a = 0; a < p->n_aggs; a++)
		if (p->agg[a].fn == SL_PLAN_AGG_UDF)
			return plan_err(c, k, "a second keyed stage after a user aggregate is not supported yet");
	return 0;
}

/* The second stage's own window: the same rule as the first's. */
static int
stage2_window_ok(struct plan_ctx *c, const struct plan_node *k,
		 const struct sl_plan *t)
{
	if (t->window_gap_ms > 0 || t->window_processing_time ||
	    t->window_lateness_ms > 0 || t->window_count_trigger != 0 ||
	    t->window_continuous_ms != 0 || t->window_purge)
		return plan_err(c, k, "the second keyed stage's window is an event-time tumbling or sliding one with the default trigger and no allowed_lateness for now");
	return 0;
}

/* An aggregate list with a user aggregate ({plugin: ..., function: ...}). */
static bool
has_udf(const struct plan_node *v)
{
	if (v->kind == PLAN_MAP)
		return true;
	for (uint32_t i = 0; v->kind == PLAN_SEQ && i < v->n; i++)
		if (v->kid[i]->kind == PLAN_MAP)
			return true;
	return false;
}

int
plan_second_stage(struct plan_ctx *c, const struct plan_node *seq, uint32_t first)
{
	struct sl_plan *p = c->p;
	struct sl_plan_stage2 *s = &p->stage2;
	const struct plan_node *k = seq->kid[first]->kid[0];
	const struct plan_node *wk = NULL;
	struct plan_ctx c2;
	struct sl_plan *t;
	uint32_t i;
	int rc = 0;

	if (stage1_final(c, k) < 0)
		return -EINVAL;
	/* Its rows: the first window's results and their time. */
	if (plan_stage_out(c, k) < 0)
		return -EINVAL;
	s->in = p->stage_out;
	if (sl_schema_find(&s->in, "window_time") >= 0)
		return plan_err(c, k, "the first stage has a column 'window_time', the name of the second stage's time column (window_end - 1); rename it with 'as'");
	if (sl_schema_add(&s->in, "window_time", SL_T_TS, 0) < 0)
		return plan_err(c, k, "the first stage's results and their window_time do not fit a row");
	s->ts_field = s->in.n_fields - 1;
	/* The filters so far are between the stages. */
	s->n_filters = p->n_post_filters;
	memcpy(s->filter_text, p->post_filter_text, sizeof(s->filter_text));
	p->n_post_filters = 0;
	memset(p->post_filter_text, 0, sizeof(p->post_filter_text));

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return plan_err(c, k, "out of memory");
	t->schema = s->in;
	t->source.ts_field = s->ts_field;
	c2 = *c;
	c2.p = t;
	for (i = first; i < seq->n && rc == 0; i++) {
		const struct plan_node *sk = seq->kid[i]->kid[0], *v = seq->kid[i]->kid[1];

		if (strcmp(sk->text, "key_by") == 0 && i != first) {
			rc = plan_err(c, sk, "a third keyed stage is not supported; a pipeline has at most two");
		} else if (strcmp(sk->text, "key_by") == 0) {
			rc = plan_key_by(&c2, v);
		} else if (strcmp(sk->text, "window") == 0) {
			if (wk != NULL)
				rc = plan_err(c, sk, "duplicate window in the second keyed stage; it has exactly one");
			else
				rc = plan_window(&c2, v);
			wk = sk;
			if (rc == 0)
				rc = stage2_window_ok(c, sk, t);
		} else if (strcmp(sk->text, "aggregate") == 0) {
			if (wk == NULL)
				rc = plan_err(c, sk, "aggregate must come after window");
			else if (has_udf(v))
				rc = plan_err(c, sk, "a user aggregate in the second keyed stage is not supported yet");
			else
				rc = plan_aggregate(&c2, v);
			if (rc == 0)
				break;
		} else if (strcmp(sk->text, "filter") == 0 || strcmp(sk->text, "map") == 0) {
			rc = plan_err(c, sk, "%s between key_by and the keyed operator is not supported; put it before key_by (the same rows) or after the operator (its results)",
				      sk->text);
		} else {
			rc = plan_err(c, sk, "%s in the second keyed stage is not supported yet; it is key_by, window and aggregate",
				      sk->text);
		}
	}
	if (rc == 0 && i == seq->n)
		rc = plan_err(c, seq, "the second keyed stage has no %s; expected key_by, window and aggregate",
			      wk == NULL ? "window" : "aggregate");
	if (rc == 0) {
		s->n_keys = t->n_keys;
		memcpy(s->key_field, t->key_field, sizeof(s->key_field));
		s->size_ms = t->window_size_ms;
		s->slide_ms = t->window_slide_ms;
		s->offset_ms = t->window_offset_ms;
		s->n_aggs = t->n_aggs;
		memcpy(s->agg, t->agg, sizeof(s->agg));
		s->line = k->line;
		s->col = k->col;
		s->on = true;
	}
	sl_plan_free(t);
	free(t);
	if (rc < 0)
		return -EINVAL;
	/* After it: filters and a map over its results. */
	for (i++; i < seq->n; i++) {
		const struct plan_node *sk = seq->kid[i]->kid[0], *v = seq->kid[i]->kid[1];

		if (strcmp(sk->text, "filter") == 0)
			rc = plan_post_filter(c, sk, v);
		else if (strcmp(sk->text, "map") == 0)
			rc = plan_post_map(c, sk, v);
		else
			rc = plan_err(c, sk, "%s after the second keyed stage is not supported yet; filter and map take its results",
				      sk->text);
		if (rc < 0)
			return -EINVAL;
	}
	return 0;
}

/* What a second keyed stage does not have yet, once the job's lcores and
 * checkpointing are known. */
int
plan_stage2_check(struct plan_ctx *c)
{
	const struct sl_plan *p = c->p;
	const struct sl_plan_stage2 *s = &p->stage2;

	if (!s->on)
		return 0;
	if (p->ckpt.interval_ms > 0 && p->ckpt.unaligned)
		return plan_err_at(c, s->line, s->col,
				   "unaligned checkpoints of a job with a second keyed stage are not supported yet (the rows between the stages would be channel state); set execution.checkpointing.unaligned: false");
	if (p->ckpt.interval_ms > 0 && p->state.incremental)
		return plan_err_at(c, s->line, s->col,
				   "native (incremental) checkpoints of a job with a second keyed stage are not supported yet; set state.backend.incremental: false");
	if (p->n_inputs > 1)
		return plan_err_at(c, s->line, s->col,
				   "a second keyed stage after a union is not supported yet");
	return 0;
}
