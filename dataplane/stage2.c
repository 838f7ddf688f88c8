/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A second keyed stage (plan.stage2, Flink's consecutive windowed
 * operations, R9.1): the first window's results, each with window_time =
 * window_end - 1 (the timestamp Flink gives a window's result, R2.9), go
 * straight into a second window on the same worker lcore (one worker: no
 * re-partition), which keeps its state in a state backend instance of its
 * own (its descriptors have the window's names). The filters between the
 * stages run over each vector of first-stage results before the second
 * window takes it. A watermark fires the first window into that vector,
 * then the second window, before the watermark goes on to the sink
 * (R1.9): the second stage sees every row of a window whose window_time
 * the watermark passes before that watermark, so none is late.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "dp.h"
#include "sl_kg.h"

/* The same arena size as the first stage's (state.backend.heap.memory). */
#define STAGE2_ARENA_ALIGN (32ull << 20)

int
dp_stage2_setup(struct dp *dp)
{
	const struct sl_plan *p = dp->plan;
	const struct sl_plan_stage2 *s = &p->stage2;
	struct sl_win_conf c;
	char msg[160];
	int rc;

	dp->mid = dp->out;
	if (sl_schema_add(&dp->mid, "window_time", SL_T_TS, 0) < 0 ||
	    !dp_schema_same(&dp->mid, &s->in)) {
		DP_LOG(ERR, "%s: the first stage's results are not the rows the second keyed stage was checked against; report this with the job file",
		       p->file);
		return -EINVAL;
	}
	memset(&c, 0, sizeof(c));
	c.in = &s->in;
	c.ts_field = s->ts_field;
	c.size = s->size_ms;
	c.slide = s->slide_ms;
	c.offset = s->offset_ms;
	c.n_keys = s->n_keys;
	memcpy(c.key_field, s->key_field, sizeof(int) * s->n_keys);
	c.n_aggs = s->n_aggs;
	for (uint16_t a = 0; a < s->n_aggs; a++) {
		c.agg[a].fn = (enum sl_win_agg_fn)s->agg[a].fn;
		c.agg[a].field = s->agg[a].field;
		c.agg[a].hll_p = s->agg[a].hll_p;
		snprintf(c.agg[a].name, sizeof(c.agg[a].name), "%s", s->agg[a].out_name);
	}
	c.capacity = p->key_capacity;
	c.max_parallelism = p->max_parallelism;
	c.first_kg = 0;
	c.last_kg = p->max_parallelism - 1;
	rc = sl_win_conf_check(&c, &dp->out, msg, sizeof(msg));
	if (rc < 0) {
		DP_LOG(ERR, "%s: the second keyed stage: %s", p->file, msg);
		return rc;
	}
	dp->win_conf2 = c;
	dp->sink_keys = s->n_keys;
	return 0;
}

/* On the worker's lcore: the second window over a heap of its own. */
int
dp_worker_stage2_init(struct dp_worker *w)
{
	struct dp *dp = w->dp;
	const struct sl_plan *p = dp->plan;
	struct sl_state_conf sc;
	size_t len = p->state.heap_memory + STAGE2_ARENA_ALIGN;
	int rc;

	for (uint16_t f = 0; f < p->stage2.n_filters; f++) {
		struct sl_expr_err err;

		w->mid_f[f] = sl_expr_compile(p->stage2.filter_text[f], &dp->mid, &err);
		if (w->mid_f[f] == NULL) {
			DP_LOG(ERR, "%s: filter '%s' between the keyed stages: %s", p->file,
			       p->stage2.filter_text[f], err.msg);
			return -EINVAL;
		}
		w->n_mid_f = (uint16_t)(f + 1);
	}
	w->mid = malloc(sl_vec_size(dp->mid.row_size));
	if (w->mid == NULL)
		return -ENOMEM;
	sl_vec_reset(w->mid, dp->mid.row_size);
	w->mem2 = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (w->mem2 == MAP_FAILED) {
		rc = -errno;
		w->mem2 = NULL;
		DP_LOG(ERR, "worker %u: no memory for the second keyed stage's state (%s)",
		       w->id, strerror(-rc));
		return rc;
	}
	w->mem2_len = len;
	(void)madvise(w->mem2, len, MADV_HUGEPAGE);
	memset(&sc, 0, sizeof(sc));
	sc.backend = SL_STATE_BACKEND_HEAP;
	sc.max_parallelism = p->max_parallelism;
	sc.first_kg = 0;
	sc.last_kg = p->max_parallelism - 1;
	sc.mem = w->mem2;
	sc.mem_len = len;
	sc.mem_limit = p->state.heap_memory;
	w->st2 = sl_state_open(&sc);
	if (w->st2 == NULL) {
		rc = -errno;
		DP_LOG(ERR, "worker %u: the second keyed stage's state does not open (%s)",
		       w->id, strerror(-rc));
		return rc;
	}
	rc = sl_win_init(&w->win2, &dp->win_conf2, w->st2);
	if (rc < 0)
		DP_LOG(ERR, "worker %u: the second keyed stage's window: %s", w->id,
		       strerror(-rc));
	return rc;
}

void
dp_worker_stage2_fini(struct dp_worker *w)
{
	for (uint16_t f = 0; f < w->n_mid_f; f++)
		sl_expr_free(w->mid_f[f]);
	w->n_mid_f = 0;
	sl_win_fini(&w->win2);
	if (w->st2 != NULL)
		sl_state_close(w->st2);
	w->st2 = NULL;
	free(w->mid);
	w->mid = NULL;
	/* The arena stays mapped, as the first stage's (mimalloc). */
}

/*
 * The first stage's rows so far into the second window: each row's
 * window_time, the filters between the stages, the second key's hash
 * (its key group), then the window's pass over the vector.
 */
static void
mid_flush(struct dp_worker *w)
{
	const struct dp *dp = w->dp;
	const struct sl_plan_stage2 *s = &dp->plan->stage2;
	const struct sl_schema *ms = &dp->mid;
	const struct sl_field *tf = &ms->f[s->ts_field];
	const struct sl_field *ef = &ms->f[dp->plan->n_keys + 1];
	struct sl_vec *v = w->mid;
	const uint16_t rs = v->row_size, n = v->n_rows;
	uint8_t key[SL_ROW_MAX];
	uint32_t key_len = 0;
	uint16_t ns = n;

	if (n == 0)
		return;
	for (uint16_t i = 0; i < n; i++) {
		uint8_t *row = sl_vec_row(v, i);

		sl_row_set_int(row, tf, sl_row_get_int(row, ef) - 1);
		v->sel[i] = i;
	}
	for (uint16_t f = 0; f < w->n_mid_f && ns > 0; f++)
		ns = sl_expr_filter(w->mid_f[f], v->rows, rs, v->sel, ns, v->sel);
	w->mid_filtered += (uint64_t)(n - ns);
	for (uint16_t k = 0; k < s->n_keys; k++)
		key_len += ms->f[s->key_field[k]].size;
	for (uint16_t j = 0; j < ns; j++) {
		const uint16_t i = v->sel[j];

		sl_win_key_gather(ms, s->key_field, s->n_keys, sl_vec_row(v, i), key);
		v->hash[i] = sl_kg_hash(key, key_len);
	}
	v->n_sel = ns;
	if (ns > 0)
		sl_win_process(&w->win2, v);
	v->n_rows = 0;
	v->n_sel = 0;
}

/* The first window's result rows: into the second stage's vector. */
uint8_t *
dp_worker_mid_row(void *ctx)
{
	struct dp_worker *w = ctx;

	if (unlikely(w->mid->n_rows == SL_VEC_MAX))
		mid_flush(w);
	return sl_vec_row(w->mid, w->mid->n_rows++);
}

/* Watermark wm: the first window fires into the second, then the second
 * fires its results to the sink. */
void
dp_worker_stage2_advance(struct dp_worker *w, int64_t wm)
{
	sl_win_advance(&w->win, wm, dp_worker_mid_row, w);
	mid_flush(w);
	sl_win_advance(&w->win2, wm, dp_worker_res_row, w);
}
