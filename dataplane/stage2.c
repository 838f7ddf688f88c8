/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A second keyed stage (plan.stage2, Flink's consecutive windowed
 * operations, R9.1): the first window's results, each with window_time =
 * window_end - 1 (the timestamp Flink gives a window's result, R2.9), go
 * to a second window, which keeps its state in a state backend instance
 * of its own (its descriptors have the window's names). The filters
 * between the stages run over each vector of first-stage results first.
 *
 * With one worker the rows go straight into the second window on the
 * same lcore; a watermark fires the first window, then the second, then
 * goes on to the sink. With several, the rows go by the second key's
 * key group to the worker that owns it, through a ring per pair of
 * workers (the self pair too), and the watermark (and idleness, end of
 * input) of each worker's first stage follows its rows on every ring;
 * each worker's second window advances on the minimum over its rings
 * (R1.7, valve2) and sends that watermark to the sink. Either way the
 * first stage emits before forwarding the watermark that fired it
 * (R1.9), so the second stage sees every row of a window whose
 * window_time the watermark passes before that watermark: none is late.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include "dp.h"
#include "sl_kg.h"

/* vectors per ring between two workers' stages */
#define STAGE2_RING_SIZE 128

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
	dp_win_conf_stage(dp, &c, s->key_field, s->n_keys, s->agg, s->n_aggs);
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
	sl_kg_range(w->id, p->max_parallelism, dp->n_workers, &sc.first_kg, &sc.last_kg);
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
	{
		struct sl_win_conf c2 = dp->win_conf2;

		/* several workers: the key groups this one owns */
		sl_kg_range(w->id, p->max_parallelism, dp->n_workers, &c2.first_kg,
			    &c2.last_kg);
		rc = sl_win_init(&w->win2, &c2, w->st2);
		if (rc == 0 && dp->rs != NULL)
			return dp_worker_stage2_restore(w, c2.first_kg, c2.last_kg);
	}
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

static void s2_handle(struct dp_worker *w, uint16_t a, struct sl_vec *v);
static void mid_flush(struct dp_worker *w);

/* Dequeue what the other workers' first stages sent this one. */
unsigned int
dp_worker_stage2_poll(struct dp_worker *w)
{
	struct sl_vec *v[DP_DEQ_BURST];
	unsigned int got = 0;

	/* One at a time: a barrier may block a ring in the middle of what a
	 * burst would take (aligned checkpoints, R6.2). */
	for (uint16_t a = 0; a < w->n_in2; a++) {
		for (unsigned int k = 0; k < DP_DEQ_BURST; k++) {
			if (!sl_align_readable(&w->align2, a) ||
			    rte_ring_sc_dequeue(w->in2[a], (void **)&v[0]) != 0)
				break;
			s2_handle(w, a, v[0]);
			got++;
		}
	}
	return got;
}

/* Hand out2[b] to worker b. Its ring full, b may be waiting on one of
 * this lcore's: take in what the others sent meanwhile, so that no two
 * workers wait for each other for good. */
static void
s2_send(struct dp_worker *w, uint16_t b)
{
	struct dp *dp = w->dp;
	struct sl_vec *v = w->out2[b];

	if (unlikely(rte_ring_sp_enqueue(w->out2r[b], v) != 0)) {
		w->s2_full++;
		while (rte_ring_sp_enqueue(w->out2r[b], v) != 0)
			if (dp_worker_stage2_poll(w) == 0)
				rte_pause();
	}
	/* Sized for every ring full and every open vector: no wait. */
	while (unlikely(rte_mempool_get(dp->mid_pool, (void **)&w->out2[b]) != 0))
		rte_pause();
	sl_vec_reset(w->out2[b], dp->mid.row_size);
	w->out2[b]->src = w->id;
}

/* The first stage's selected rows of v to the workers owning their key
 * groups under the second key (v->hash: that key's hash). */
static void
s2_route(struct dp_worker *w, const struct sl_vec *v)
{
	const uint32_t maxp = w->dp->plan->max_parallelism, nw = w->dp->n_workers;
	const uint16_t rs = v->row_size;

	for (uint16_t j = 0; j < v->n_sel; j++) {
		const uint16_t i = v->sel[j];
		const uint16_t b = (uint16_t)sl_kg_owner(sl_kg_of(v->hash[i], maxp), maxp, nw);
		struct sl_vec *o = w->out2[b];
		const uint16_t k = o->n_rows;

		memcpy(sl_vec_row(o, k), v->rows + (size_t)i * rs, rs);
		o->hash[k] = v->hash[i];
		o->sel[k] = k;
		o->n_rows = (uint16_t)(k + 1);
		o->n_sel = o->n_rows;
		if (unlikely(o->n_rows == SL_VEC_MAX))
			s2_send(w, b);
	}
}

/* A control element behind every worker's rows so far. */
static void
s2_ctl_all(struct dp_worker *w, enum sl_ctl_type type, int64_t ts)
{
	for (uint16_t b = 0; b < w->dp->n_workers; b++) {
		w->out2[b]->ctl.type = (uint8_t)type;
		w->out2[b]->ctl.ts = ts;
		s2_send(w, b);
	}
}

/* The first stage's inputs moved (its valve's output o): it fires, its
 * rows and then the watermark go to every worker's second stage. */
void
dp_worker_stage2_apply(struct dp_worker *w, const struct sl_wm_out *o)
{
	if (o->status > 0)
		s2_ctl_all(w, SL_CTL_ACTIVE, 0);
	if (o->wm) {
		sl_win_advance(&w->win, o->ts, dp_worker_mid_row, w);
		mid_flush(w);
		s2_ctl_all(w, SL_CTL_WATERMARK, o->ts);
	}
	if (o->status < 0)
		s2_ctl_all(w, SL_CTL_IDLE, 0);
}

/* Every input of the first stage ended: so does its output, on every
 * ring (the watermark MAX went before, with the last firings). */
void
dp_worker_stage2_finish(struct dp_worker *w)
{
	sl_win_advance(&w->win, SL_TS_MAX, dp_worker_mid_row, w);
	mid_flush(w);
	s2_ctl_all(w, SL_CTL_EOI, SL_TS_MAX);
	for (uint16_t b = 0; b < w->dp->n_workers; b++) {
		rte_mempool_put(w->dp->mid_pool, w->out2[b]);
		w->out2[b] = NULL;
	}
}

/* The second stage's valve moved: its window fires, then the watermark
 * goes to the sink (R1.9). */
static void
s2_apply(struct dp_worker *w, const struct sl_wm_out *o)
{
	if (o->status > 0)
		dp_worker_res_ctl(w, SL_CTL_ACTIVE, 0);
	if (o->wm) {
		sl_win_advance(&w->win2, o->ts, dp_worker_res_row, w);
		dp_worker_res_ctl(w, SL_CTL_WATERMARK, o->ts);
	}
	if (o->status < 0)
		dp_worker_res_ctl(w, SL_CTL_IDLE, 0);
}

/* The first stage's barrier id: behind its rows, to every worker. */
void
dp_worker_stage2_barrier(struct dp_worker *w, uint64_t id)
{
	s2_ctl_all(w, SL_CTL_BARRIER, (int64_t)id);
}

/* Every worker's first stage delivered barrier id (R6.2): snapshot the
 * second window, then the barrier goes on to the sink behind its rows. */
static void
s2_snapshot(struct dp_worker *w, uint64_t id)
{
	dp_worker_snap_poll(w);
	w->snap2_id = sl_win_snapshot_begin(&w->win2) == 0 ? id : 0;
	dp_worker_res_ctl(w, SL_CTL_BARRIER, (int64_t)id);
}

/* One vector from worker a's first stage: rows, then its control element. */
static void
s2_handle(struct dp_worker *w, uint16_t a, struct sl_vec *v)
{
	struct sl_wm_out o;
	uint64_t id;

	if (v->n_sel > 0)
		sl_win_process(&w->win2, v);
	switch (v->ctl.type) {
	case SL_CTL_WATERMARK:
		sl_wm_valve_watermark(&w->valve2, a, v->ctl.ts, &o);
		s2_apply(w, &o);
		break;
	case SL_CTL_IDLE:
	case SL_CTL_ACTIVE:
		sl_wm_valve_status(&w->valve2, a, v->ctl.type == SL_CTL_IDLE, &o);
		s2_apply(w, &o);
		break;
	case SL_CTL_BARRIER:
		id = sl_align_barrier(&w->align2, a, (uint64_t)v->ctl.ts);
		if (id != 0)
			s2_snapshot(w, id);
		break;
	case SL_CTL_EOI:
		sl_wm_valve_status(&w->valve2, a, false, &o);
		s2_apply(w, &o);
		sl_wm_valve_watermark(&w->valve2, a, SL_TS_MAX, &o);
		s2_apply(w, &o);
		id = sl_align_finished(&w->align2, a);
		if (id != 0)
			s2_snapshot(w, id);
		if (++w->n_done2 == w->n_in2)
			dp_worker_eoi(w);
		break;
	default:
		break;
	}
	rte_mempool_put(w->dp->mid_pool, v);
}

/* Main lcore, at setup: a ring from every worker to every worker, the
 * vectors they carry, and each worker's open ones. */
int
dp_stage2_rings(struct dp *dp)
{
	const unsigned int nw = dp->n_workers;
	char name[RTE_RING_NAMESIZE];
	unsigned int n;

	if (!dp_stage2_multi(dp))
		return 0;
	n = nw * nw * (STAGE2_RING_SIZE + 1) + nw * DP_DEQ_BURST +
	    rte_lcore_count() * 48 + 64;
	dp->mid_pool = rte_mempool_create("sl_mid", n,
					  (unsigned int)sl_vec_size(dp->mid.row_size),
					  32, 0, NULL, NULL, NULL, NULL,
					  (int)rte_socket_id(), 0);
	if (dp->mid_pool == NULL) {
		DP_LOG(ERR, "cannot create the second keyed stage's vector pool: %s; give the EAL more memory (-m) or reserve hugepages",
		       rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (unsigned int a = 0; a < nw; a++) {
		for (unsigned int b = 0; b < nw; b++) {
			struct rte_ring *r;

			snprintf(name, sizeof(name), "sl_s2_%u_%u", a, b);
			r = rte_ring_create(name, STAGE2_RING_SIZE,
					    (int)rte_lcore_to_socket_id(dp->w[b].lcore),
					    RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (r == NULL ||
			    rte_mempool_get(dp->mid_pool, (void **)&dp->w[a].out2[b]) != 0) {
				DP_LOG(ERR, "cannot create ring %s: %s", name,
				       rte_strerror(rte_errno));
				return -ENOMEM;
			}
			sl_vec_reset(dp->w[a].out2[b], dp->mid.row_size);
			dp->w[a].out2[b]->src = (uint16_t)a;
			dp->w[a].out2r[b] = r;
			dp->w[b].in2[a] = r;
		}
	}
	for (unsigned int b = 0; b < nw; b++) {
		dp->w[b].n_in2 = (uint16_t)nw;
		sl_wm_valve_init(&dp->w[b].valve2, nw);
		sl_align_init(&dp->w[b].align2, nw,
			      dp->plan->ckpt.at_least_once ? SL_ALIGN_AT_LEAST_ONCE :
							     SL_ALIGN_EXACTLY_ONCE);
	}
	return 0;
}

/* Load the second window's key groups [lo, hi] from every worker file. */
int
dp_worker_stage2_restore(struct dp_worker *w, uint32_t lo, uint32_t hi)
{
	const struct dp_restore *rs = w->dp->rs;
	uint32_t chunks = 0;
	bool seen = false;
	int rc = 0;

	for (uint32_t i = 0; i < rs->n_secs && rc == 0; i++) {
		const struct dp_restore_sec *s = &rs->secs[i];

		if (s->op == CKPT_OP_WINDOW2) {
			seen = true;
			rc = sl_win_restore_windows(&w->win2, s->data, s->len);
		} else if (s->op == CKPT_OP_STATE2 && s->kg >= lo && s->kg <= hi) {
			const struct dp_restore_file *f = &rs->files[s->file];

			rc = f->meta2 == NULL ? -EINVAL :
			     sl_state_restore(w->st2, f->meta2, f->meta2_len, s->data, s->len);
			if (rc > 0)
				rc = 0;		/* the entries it loaded */
			chunks++;
		}
	}
	DP_LOG(INFO, "worker %u: restore: the second keyed stage's key groups %u..%u: %u chunks",
	       w->id, lo, hi, chunks);
	if (rc == 0 && !seen)
		rc = -ENOENT;
	if (rc == 0)
		rc = sl_win_restore_done(&w->win2);
	if (rc < 0)
		DP_LOG(ERR, "worker %u: restore: the second keyed stage's state does not load (%s): the checkpoint does not fit this job",
		       w->id, strerror(-rc));
	return rc;
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
	if (dp_stage2_multi(dp))
		s2_route(w, v);
	else if (ns > 0)
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

/* One worker: watermark wm fires the first window into the second, then
 * the second its results to the sink. */
void
dp_worker_stage2_advance(struct dp_worker *w, int64_t wm)
{
	sl_win_advance(&w->win, wm, dp_worker_mid_row, w);
	mid_flush(w);
	sl_win_advance(&w->win2, wm, dp_worker_res_row, w);
}
