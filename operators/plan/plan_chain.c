/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless steps around a keyed stage, chained to the operator next to
 * them as Flink chains them: a map before key_by, whose rows are what the
 * keyed stage gets (plan_key_map), and filters and a map after the stage
 * over its result rows (plan_post_filter, plan_post_map), or after a join
 * (plan_after_join). The stage's result schema is built here as the
 * dataplane builds it (a window: keys, window_start, window_end,
 * aggregates; dedup: its input rows; process: the function's; a join: its
 * pairs); the dataplane checks at start that the two agree.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sl_expr.h"
#include "sl_map.h"
#include "plan_private.h"

int
plan_map_cols(struct plan_ctx *c, const struct plan_node *v,
	      const struct sl_schema *in, char names[][SL_NAME_MAX],
	      char texts[][SL_PLAN_ARG_MAX], uint16_t *n, struct sl_schema *out)
{
	const char *nv[SL_PLAN_MAX_MAP], *tv[SL_PLAN_MAX_MAP];
	struct sl_map *m;
	char msg[160];

	if (v->kind != PLAN_MAP || v->n == 0)
		return plan_err(c, v, "map needs a mapping of output columns: {name: field or expression, ...}");
	if (v->n > SL_PLAN_MAX_MAP)
		return plan_err(c, v, "map has %u columns; at most %d",
				v->n, SL_PLAN_MAX_MAP);
	*n = 0;
	for (uint32_t i = 0; i < v->n; i++) {
		const struct plan_node *k = v->kid[2 * i], *x = v->kid[2 * i + 1];
		struct sl_expr_err err;
		struct sl_expr *e;

		if (k->len >= SL_NAME_MAX || k->len == 0)
			return plan_err(c, k, "a column name has 1 to %d bytes",
					SL_NAME_MAX - 1);
		for (uint16_t j = 0; j < *n; j++)
			if (strcmp(names[j], k->text) == 0)
				return plan_err(c, k, "column '%s' twice in map", k->text);
		if (plan_expect(c, x, PLAN_SCALAR, "a map column") < 0)
			return -EINVAL;
		if (x->len >= SL_PLAN_ARG_MAX)
			return plan_err(c, x, "a map column is longer than %d bytes",
					SL_PLAN_ARG_MAX - 1);
		memcpy(names[*n], k->text, k->len + 1);
		memcpy(texts[*n], x->text, x->len + 1);
		nv[*n] = names[*n];
		tv[*n] = texts[*n];
		(*n)++;
		if (sl_schema_find(in, x->text) >= 0)
			continue;	/* the field as it is */
		memset(&err, 0, sizeof(err));
		e = sl_expr_compile(x->text, in, &err);
		if (e == NULL) {
			char what[SL_NAME_MAX + 8];

			snprintf(what, sizeof(what), "map: %s", k->text);
			return plan_expr_err(c, x, what, &err);
		}
		sl_expr_free(e);
	}
	if (out == NULL)
		return 0;
	/* The columns' types and places, as the lcore running it will
	 * make them. */
	m = sl_map_create(in, *n, nv, tv, out, msg, sizeof(msg));
	if (m == NULL)
		return plan_err(c, v, "map: %s", msg);
	sl_map_free(m);
	return 0;
}

/*
 * map before key_by in a keyed pipeline: its output is the schema from
 * here on. The keyed stage reads each row's event time from the row, so
 * the map must carry the source's time field across as it is.
 */
int
plan_key_map(struct plan_ctx *c, const struct plan_node *v)
{
	struct sl_plan *p = c->p;
	const char *ts = p->schema.f[p->source.ts_field].name;
	struct sl_schema out;
	int tsi = -1;

	if (plan_map_cols(c, v, &p->schema, p->map_name, p->map_text, &p->n_map,
			  &out) < 0)
		return -EINVAL;
	for (uint16_t i = 0; i < p->n_map && tsi < 0; i++)
		if (strcmp(p->map_text[i], ts) == 0)
			tsi = i;
	if (tsi < 0)
		return plan_err(c, v, "a map before key_by must keep the event-time field '%s' as it is (add '%s: %s'): the keyed stage reads each row's time from it",
				ts, ts, ts);
	p->n_src_filters = p->n_filters;
	p->schema = out;
	p->source.ts_field = tsi;
	p->key_map = true;
	return 0;
}

/* A window's result rows over rows of schema in: the keys, window_start,
 * window_end, the aggregates (win_tumble.c's sl_win_conf_check). */
int
plan_window_out(struct plan_ctx *c, const struct plan_node *k,
		const struct sl_schema *in, uint16_t n_keys, const int *key_field,
		uint16_t n_aggs, const struct sl_plan_agg *agg, struct sl_schema *s)
{
	sl_schema_init(s);
	for (uint16_t i = 0; i < n_keys; i++) {
		const struct sl_field *f = &in->f[key_field[i]];

		if (sl_schema_add(s, f->name, f->type, f->type == SL_T_STR ? f->size : 0) < 0)
			return plan_err(c, k, "the window's key columns do not fit a row");
	}
	if (sl_schema_add(s, "window_start", SL_T_TS, 0) < 0 ||
	    sl_schema_add(s, "window_end", SL_T_TS, 0) < 0)
		return plan_err(c, k, "the window's result columns do not fit a row");
	for (uint16_t a = 0; a < n_aggs; a++) {
		const struct sl_plan_agg *g = &agg[a];
		const struct sl_field *f = g->field >= 0 ? &in->f[g->field] : NULL;
		enum sl_type t;

		switch (g->fn) {
		case SL_PLAN_AGG_COUNT:
		case SL_PLAN_AGG_COUNT_DISTINCT:
		case SL_PLAN_AGG_APPROX_COUNT_DISTINCT:
			t = SL_T_U64;
			break;
		case SL_PLAN_AGG_SUM:
			/* the window's accumulator kinds (win_tumble.c) */
			t = f->type == SL_T_F64 ? SL_T_F64 :
			    f->type == SL_T_U64 ? SL_T_U64 : SL_T_I64;
			break;
		case SL_PLAN_AGG_AVG:
			t = SL_T_F64;
			break;
		case SL_PLAN_AGG_UDF:
			return plan_err(c, k, "%s after a user aggregate is not supported yet; filter or map before key_by",
					k->text);
		default:
			t = f->type;
			break;
		}
		if (sl_schema_add(s, g->out_name, t, 0) < 0)
			return plan_err(c, k, "the window's result columns do not fit a row");
	}
	return 0;
}

/* The keyed stage's (or the join's) result rows, as the dataplane makes
 * them; k is the step that needs them, for errors. 1: not known here (a
 * process function's, with its plugin not loaded). */
int
plan_stage_out(struct plan_ctx *c, const struct plan_node *k)
{
	struct sl_plan *p = c->p;
	const struct sl_plan_stage2 *s2 = &p->stage2;

	if (s2->on)
		return plan_window_out(c, k, &s2->in, s2->n_keys, s2->key_field,
				       s2->n_aggs, s2->agg, &p->stage_out);
	if (p->join.kind == SL_PLAN_JOIN_PROCESS) {
		/* a join's co_process function writes its own columns */
		if (p->udf_unloaded)
			return 1;
		p->stage_out = p->udf_out;
		return 0;
	}
	if (p->join.kind != SL_PLAN_JOIN_NONE) {
		p->stage_out = p->join.out;
		return 0;
	}
	if (p->dedup_within_ms > 0) {
		p->stage_out = p->schema;
		return 0;
	}
	if (p->udf_kind == SLUICE_FN_PROCESS) {
		if (p->udf_unloaded)
			return 1;	/* the function's columns are not known here */
		p->stage_out = p->udf_out;
		return 0;
	}
	if (p->topk_k != 0)
		return plan_err(c, k, "%s after top_k is not supported yet; top_k ranks the rows where the sink writes them, so it is the pipeline's last step",
				k->text);
	return plan_window_out(c, k, &p->schema, p->n_keys, p->key_field, p->n_aggs,
			       p->agg, &p->stage_out);
}

/* filter after the map that follows the keyed stage: over the map's
 * columns, where the sink writes. */
static int
plan_final_filter(struct plan_ctx *c, const struct plan_node *k,
		  const struct plan_node *v)
{
	struct sl_plan *p = c->p;
	struct sl_expr *e;
	int rc;

	if (p->n_final_filters == SL_PLAN_MAX_FILTERS)
		return plan_err(c, k, "at most %d filters after the map that follows the keyed stage",
				SL_PLAN_MAX_FILTERS);
	if (v->len >= SL_PLAN_ARG_MAX)
		return plan_err(c, v, "filter is longer than %d bytes",
				SL_PLAN_ARG_MAX - 1);
	memcpy(p->final_filter_text[p->n_final_filters++], v->text, v->len + 1);
	rc = plan_filter_compile(c, v, &p->map_out, &e);
	sl_expr_free(e);
	return rc;
}

/* filter after the keyed stage: a boolean expression over its rows. */
int
plan_post_filter(struct plan_ctx *c, const struct plan_node *k,
		 const struct plan_node *v)
{
	struct sl_plan *p = c->p;
	struct sl_expr *e;
	int rc;

	if (v->kind == PLAN_MAP)
		return plan_err(c, k, "a filter function after the keyed stage is not supported yet; use an expression filter");
	if (plan_expect(c, v, PLAN_SCALAR, "filter") < 0)
		return -EINVAL;
	if (p->n_post_map != 0)
		return plan_final_filter(c, k, v);
	if (p->n_post_filters == SL_PLAN_MAX_FILTERS)
		return plan_err(c, k, "at most %d filters after the keyed stage",
				SL_PLAN_MAX_FILTERS);
	if (v->len >= SL_PLAN_ARG_MAX)
		return plan_err(c, v, "filter is longer than %d bytes",
				SL_PLAN_ARG_MAX - 1);
	rc = plan_stage_out(c, k);
	if (rc < 0)
		return rc;
	memcpy(p->post_filter_text[p->n_post_filters++], v->text, v->len + 1);
	if (rc > 0)
		return 0;	/* checked when the plugin is loaded */
	rc = plan_filter_compile(c, v, &p->stage_out, &e);
	sl_expr_free(e);
	return rc;
}

/* map after the keyed stage: the sink's columns, from the stage's. */
int
plan_post_map(struct plan_ctx *c, const struct plan_node *k,
	      const struct plan_node *v)
{
	struct sl_plan *p = c->p;
	struct sl_schema out;
	int rc;

	if (p->n_post_map != 0)
		return plan_err(c, k, "a second map after the keyed stage; give all the columns in one");
	if (v->kind == PLAN_MAP && (plan_map_get(v, "plugin", NULL) != NULL ||
				    plan_map_get(v, "function", NULL) != NULL))
		return plan_err(c, k, "a map function after the keyed stage is not supported yet; use computed columns");
	rc = plan_stage_out(c, k);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		/* Syntax only: the columns are checked once the plugin is. */
		if (v->kind != PLAN_MAP || v->n == 0 || v->n > SL_PLAN_MAX_MAP)
			return plan_err(c, v, "map needs a mapping of output columns: {name: field or expression, ...}");
		return 0;
	}
	rc = plan_map_cols(c, v, &p->stage_out, p->post_map_name,
			   p->post_map_text, &p->n_post_map, &out);
	p->map_out = out;
	return rc;
}

/* The steps after a join: filters and a map over its pairs. */
int
plan_after_join(struct plan_ctx *c, const struct plan_node *seq)
{
	char show[PLAN_SHOW_MAX];

	for (uint32_t i = 0; i < seq->n; i++) {
		const struct plan_node *st = seq->kid[i], *k;
		int rc;

		if (st->kind != PLAN_MAP || st->n != 1)
			return plan_err(c, st, "expected a pipeline step: a mapping with one key (filter or map after a join)");
		k = st->kid[0];
		if (strcmp(k->text, "filter") == 0)
			rc = plan_post_filter(c, k, st->kid[1]);
		else if (strcmp(k->text, "map") == 0)
			rc = plan_post_map(c, k, st->kid[1]);
		else
			return plan_err(c, k, "%s after a join is not supported yet; a join's rows take filter and map steps, then go to the sink",
					plan_show(k->text, show));
		if (rc < 0)
			return rc;
	}
	return 0;
}
