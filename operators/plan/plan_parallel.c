/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-operator parallelism: a pipeline step may carry a sibling key
 * `parallelism: N` (Flink's setParallelism on that operator):
 *
 *   - key_by: user
 *   - window: {tumbling: 1m}
 *     parallelism: 4
 *   - aggregate: [count()]
 *
 * A job runs two chains (docs/architecture.md): the source's (RX lcores:
 * the source, expression filters, a union, a map before key_by, key
 * routing) and the keyed or mapped operator's (worker lcores: window +
 * aggregate, dedup, process, join, the filters after them, a stateless
 * pipeline's map, flat_map, a filter function), with a re-partition through
 * rings between them (by key, or by partition for a stateless pipeline).
 * Operators of one chain are chained on the same lcores, so they share a
 * parallelism; a step that asks for another one would need a third
 * re-partition, which is refused with the step at fault. The worker
 * chain's parallelism is the number of worker lcores; the source chain's
 * is the source's (ethdev: queues; a file or gen source: 1). top_k and a
 * map after the keyed stage run where the sink gathers the rows: 1.
 *
 * The pass runs on the parse tree before the pipeline is read: it takes
 * each parallelism key out of its step, so the steps' own parsers see
 * the one-key mappings they always did.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "plan_private.h"

enum chain { CH_SOURCE, CH_WORKER, CH_SINK, CH_NONE };

/* Which chain a step runs in; step is the step's key, v its value;
 * keyed: the pipeline has a key_by or a join; after: the step comes
 * after the keyed operator (or the join). */
static enum chain
step_chain(const char *step, const struct plan_node *v, bool keyed, bool after)
{
	if (strcmp(step, "union") == 0)
		return CH_SOURCE;
	if (strcmp(step, "filter") == 0) {
		/* after the keyed stage: on its workers, over its results */
		if (after)
			return CH_WORKER;
		/* an expression filter runs on RX, a filter function on the workers */
		return v->kind == PLAN_MAP && (plan_map_get(v, "plugin", NULL) != NULL ||
					      plan_map_get(v, "function", NULL) != NULL) ?
			CH_WORKER : CH_SOURCE;
	}
	if (strcmp(step, "map") == 0 && keyed)
		/* before key_by: chained to the source; after the keyed
		 * stage: where the sink writes the ordered rows */
		return after ? CH_SINK : CH_SOURCE;
	if (strcmp(step, "key_by") == 0)
		return CH_NONE;
	if (strcmp(step, "top_k") == 0)
		return CH_SINK;
	return CH_WORKER;
}

/* The step's key, whichever of its two keys is not parallelism. */
static const char *
item_step(const struct plan_node *it)
{
	if (it->kind != PLAN_MAP || it->n == 0)
		return "";
	if (it->n == 2 && strcmp(it->kid[0]->text, "parallelism") == 0)
		return it->kid[2]->text;
	return it->kid[0]->text;
}

int
plan_step_parallelism(struct plan_ctx *c, struct plan_node *seq)
{
	struct sl_plan *p = c->p;

	bool keyed = false, after = false;

	if (seq == NULL || seq->kind != PLAN_SEQ)
		return 0;	/* plan_pipeline says what is wrong */
	for (uint32_t i = 0; i < seq->n; i++) {
		const char *st = item_step(seq->kid[i]);

		keyed = keyed || strcmp(st, "key_by") == 0 || strcmp(st, "join") == 0;
	}
	for (uint32_t i = 0; i < seq->n; i++) {
		struct plan_node *it = seq->kid[i], *pk, *pv, *sk, *sv;
		const char *st = item_step(it);
		enum chain ch;
		int64_t n;

		/* what follows the keyed operator (or the join) takes its rows */
		after = after || strcmp(st, "aggregate") == 0 || strcmp(st, "dedup") == 0 ||
			strcmp(st, "process") == 0 || strcmp(st, "join") == 0;
		if (it->kind != PLAN_MAP || it->n != 2)
			continue;
		if (strcmp(it->kid[0]->text, "parallelism") == 0) {
			pk = it->kid[0], pv = it->kid[1], sk = it->kid[2], sv = it->kid[3];
		} else if (strcmp(it->kid[2]->text, "parallelism") == 0) {
			sk = it->kid[0], sv = it->kid[1], pk = it->kid[2], pv = it->kid[3];
		} else {
			continue;	/* two steps in one item: plan_pipeline's error */
		}
		if (plan_get_int(c, pv, "parallelism", 1, PLAN_MAX_WORKERS, &n) < 0)
			return -EINVAL;
		ch = step_chain(sk->text, sv, keyed,
				after && strcmp(sk->text, "aggregate") != 0 &&
				strcmp(sk->text, "dedup") != 0 && strcmp(sk->text, "process") != 0 &&
				strcmp(sk->text, "join") != 0);
		switch (ch) {
		case CH_NONE:
			return plan_err(c, pk, "key_by is a re-partition, not an operator: set parallelism on the operator after it (window, dedup, process)");
		case CH_SINK:
			if (n != 1 && strcmp(sk->text, "top_k") == 0)
				return plan_err(c, pv, "top_k ranks all of a window's rows in one place, where the sink gathers them: its parallelism is 1, got %" PRId64,
						n);
			if (n != 1)
				return plan_err(c, pv, "a map after the keyed stage runs where the sink writes the ordered rows: its parallelism is 1, got %" PRId64,
						n);
			break;
		case CH_SOURCE:
			if (p->par_source != 0 && p->par_source != n)
				return plan_err(c, pv, "%s is chained to the source with parallelism %u (line %u), got %" PRId64 "; operators of one chain share a parallelism",
						sk->text, p->par_source, p->par_source_line, n);
			p->par_source = (uint16_t)n;
			p->par_source_line = pv->line;
			p->par_source_col = pv->col;
			break;
		case CH_WORKER:
			if (p->par_workers != 0 && p->par_workers != n)
				return plan_err(c, pv, "%s is chained to the operator with parallelism %u (line %u), got %" PRId64 "; a keyed operator's steps share a parallelism",
						sk->text, p->par_workers, p->par_workers_line, n);
			p->par_workers = (uint16_t)n;
			p->par_workers_line = pv->line;
			p->par_workers_col = pv->col;
			break;
		}
		/* the step alone, as plan_pipeline reads it */
		it->kid[0] = sk;
		it->kid[1] = sv;
		it->kid[2] = pk;
		it->kid[3] = pv;
		it->n = 1;
	}
	return 0;
}

int
plan_apply_parallelism(struct plan_ctx *c, const struct plan_node *lcores)
{
	struct sl_plan *p = c->p;
	const struct plan_node *w = lcores != NULL ? plan_map_get(lcores, "workers", NULL) : NULL;

	if (p->par_source != 0 && p->par_source != p->lcores.rx)
		return plan_err_at(c, p->par_source_line, p->par_source_col,
				   "parallelism %u differs from the source's (%u: %s); a filter or union runs chained to its source",
				   p->par_source, p->lcores.rx,
				   p->source.type == SL_SRC_ETHDEV ? "its queues" : "a file or gen source is read by one lcore");
	if (p->par_workers == 0)
		return 0;
	if (w != NULL && p->lcores.workers != p->par_workers)
		return plan_err(c, w, "lcores.workers (%u) differs from the parallelism of the pipeline's operator (%u, line %u); give one of them",
				p->lcores.workers, p->par_workers, p->par_workers_line);
	if (p->lcores.run_to_completion && p->par_workers != 1)
		return plan_err_at(c, p->par_workers_line, p->par_workers_col,
				   "parallelism %u with run_to_completion, which is one lcore for everything",
				   p->par_workers);
	p->lcores.workers = p->par_workers;
	return 0;
}
