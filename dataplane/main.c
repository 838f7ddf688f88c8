/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-dp: the dataplane. Loads and validates a job, initialises the EAL,
 * gives every lcore its role (RX, worker, or both in run-to-completion
 * mode; the main lcore runs the sink), wires the rings, runs the job to the
 * end of its input or to SIGINT/SIGTERM (drain: final watermark, every
 * window fires, the sink is flushed), prints its counters and exits 0.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp.h"
#include "sl_build_config.h"

RTE_LOG_REGISTER(sl_dp_logtype, sluice.dp, INFO);

#define EXIT_USAGE 2

static struct dp *g_dp;

static void
on_signal(int sig)
{
	(void)sig;
	/* Drain, do not die: RX lcores see the flag and end their input. */
	if (g_dp != NULL)
		atomic_store(&g_dp->stop, 1);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: sluice-dp --job FILE [--cpus LIST] [--stats-json FILE] [--ctl PATH] [-- EAL-ARGS...]\n"
		"\n"
		"Runs one job through the DPDK dataplane until its input ends or\n"
		"SIGINT/SIGTERM, then fires every open window, flushes the sink and exits.\n"
		"\n"
		"  --job FILE         the job file (docs/job-spec.md)\n"
		"  --validate         check the job file and exit (0 valid, 2 invalid)\n"
		"  --cpus LIST        CPUs for the polling lcores, e.g. 1 or 0-3 (default: all allowed)\n"
		"  --stats-json FILE  write the final counters as JSON\n"
		"  --ctl PATH         serve the control protocol (status, metrics, stop) on a unix socket\n"
		"  --restore DIR      start from a checkpoint: a chk-N directory, or 'latest' in\n"
		"                     state.checkpoints.dir (none there: start from the beginning)\n"
		"  --restore-fallback DIR  with --restore latest: the chk-N directory to use when\n"
		"                     state.checkpoints.dir has none (the savepoint a job started from)\n"
		"  --coordinator sluiced  checkpoints are triggered and committed by sluiced over\n"
		"                     --ctl (ckpt_await, ckpt_commit); without it this process\n"
		"                     triggers and commits its own, as in Flink's local mode\n"
		"  -- EAL-ARGS        extra DPDK EAL arguments, after the job's own 'eal:' list\n"
		"  --version, --help\n");
}

/* The key the RX lcores hash: where its fields are, if side by side. */
static void
setup_key(struct dp *dp)
{
	const struct sl_plan *p = dp->plan;

	dp->key_len = 0;
	dp->key_off = p->schema.f[p->key_field[0]].offset;
	for (uint16_t k = 0; k < p->n_keys; k++) {
		const struct sl_field *f = &p->schema.f[p->key_field[k]];

		if (f->offset != dp->key_off + (int32_t)dp->key_len)
			dp->key_off = -1;
		dp->key_len += f->size;
	}
}

/* The processing-time clock's base: the system's epoch ms, as Flink's,
 * then the TSC (dp_worker_ptime_tick). */
static void
setup_clock(struct dp *dp)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	dp->pt_tsc = rte_rdtsc();
	dp->pt_epoch_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup_udf(struct dp *dp);


/*
 * A window's keys, aggregates and key groups from a stage of the plan
 * (the first keyed stage's or the second's, dataplane/stage2.c).
 */
void
dp_win_conf_stage(struct dp *dp, struct sl_win_conf *c, const int *key_field,
		  uint16_t n_keys, const struct sl_plan_agg *agg, uint16_t n_aggs)
{
	const struct sl_plan *p = dp->plan;

	_Static_assert((int)SL_PLAN_AGG_LAST == (int)SL_WIN_LAST &&
		       (int)SL_PLAN_AGG_FIRST == (int)SL_WIN_FIRST &&
		       (int)SL_PLAN_AGG_AVG == (int)SL_WIN_AVG &&
		       (int)SL_PLAN_AGG_COUNT_DISTINCT == (int)SL_WIN_COUNT_DISTINCT &&
		       (int)SL_PLAN_AGG_APPROX_COUNT_DISTINCT ==
		       (int)SL_WIN_APPROX_COUNT_DISTINCT &&
		       (int)SL_PLAN_AGG_UDF == (int)SL_WIN_UDF,
		       "the plan's and the window's aggregate functions line up");
	c->n_keys = n_keys;
	memcpy(c->key_field, key_field, sizeof(int) * n_keys);
	c->n_aggs = n_aggs;
	for (uint16_t a = 0; a < n_aggs; a++) {
		c->agg[a].fn = (enum sl_win_agg_fn)agg[a].fn;
		c->agg[a].field = agg[a].field;
		c->agg[a].hll_p = agg[a].hll_p;
		/* A user aggregate: the function now, an instance per worker
		 * (worker_state.c). */
		c->agg[a].ufn = agg[a].fn == SL_PLAN_AGG_UDF ? dp->udf_fn : NULL;
		snprintf(c->agg[a].name, sizeof(c->agg[a].name), "%s", agg[a].out_name);
	}
	c->capacity = p->key_capacity;
	c->max_parallelism = p->max_parallelism;
	c->first_kg = 0;
	c->last_kg = p->max_parallelism - 1;
}

static int
setup_windows(struct dp *dp)
{
	const struct sl_plan *p = dp->plan;
	struct sl_win_conf c;
	char msg[160];
	int rc;

	if (p->udf_kind == SLUICE_FN_AGGREGATE) {
		rc = setup_udf(dp);
		if (rc < 0)
			return rc;
	}
	memset(&c, 0, sizeof(c));
	c.in = &p->schema;
	c.ts_field = p->source.ts_field;
	c.size = p->window_size_ms;
	c.slide = p->window_slide_ms;
	c.offset = p->window_offset_ms;
	c.lateness = p->window_lateness_ms;
	c.count_trigger = p->window_count_trigger;
	c.continuous = p->window_continuous_ms;
	c.purge = p->window_purge;
	c.gap = p->window_gap_ms;
	c.processing_time = p->window_processing_time;
	/* A window top_k ranked must not reopen after a restore. */
	c.restore_wm = p->topk_k != 0;
	if (c.processing_time)
		setup_clock(dp);
	dp_win_conf_stage(dp, &c, p->key_field, p->n_keys, p->agg, p->n_aggs);
	rc = sl_win_conf_check(&c, &dp->out, msg, sizeof(msg));
	if (rc < 0) {
		DP_LOG(ERR, "%s: %s", p->file, msg);
		return rc;
	}
	dp->sink_keys = p->n_keys;
	/* A second keyed stage: its results are the sink's. */
	if (p->stage2.on) {
		rc = dp_stage2_setup(dp);
		if (rc < 0)
			return rc;
	}
	if (p->topk_k != 0) {
		/* The rank goes after the aggregates: the workers' rows end
		 * before it, the sink zeroes it when they come and fills it
		 * in when it ranks them (pending_rank). */
		rc = sl_schema_add(&dp->out, "rank", SL_T_U32, 0);
		if (rc >= 0)
			rc = sl_topk_init(&dp->pd.topk, p->topk_k,
					  &dp->out.f[p->n_keys + 2 + p->topk_by], p->topk_asc);
		if (rc < 0) {
			DP_LOG(ERR, "%s: cannot set up top_k: %s; use fewer aggregates or a smaller k",
			       p->file, strerror(-rc));
			return rc;
		}
	}
	setup_key(dp);
	dp->win_conf = c;
	return 0;
}

/*
 * A dedup pipeline: routed by key as a windowed one (setup_key), its
 * output rows are the input rows. The operator itself is made on each
 * worker (worker_state.c); its configuration is checked here, once.
 */
static int
setup_dedup(struct dp *dp)
{
	const struct sl_plan *p = dp->plan;
	struct sl_dedup_conf c;
	char msg[160];

	dp_dedup_conf(dp, &c);
	c.first_kg = 0;
	c.last_kg = p->max_parallelism - 1;
	if (sl_dedup_conf_check(&c, msg, sizeof(msg)) < 0) {
		DP_LOG(ERR, "%s: %s", p->file, msg);
		return -EINVAL;
	}
	dp->out = p->schema;
	setup_key(dp);
	return 0;
}

/* The dedup's configuration from the plan; key groups left to the caller. */
void
dp_dedup_conf(const struct dp *dp, struct sl_dedup_conf *c)
{
	const struct sl_plan *p = dp->plan;

	memset(c, 0, sizeof(*c));
	c->in = &p->schema;
	c->ts_field = p->source.ts_field;
	c->within = p->dedup_within_ms;
	c->n_keys = p->n_keys;
	memcpy(c->key_field, p->key_field, sizeof(int) * p->n_keys);
	c->capacity = p->key_capacity;
	c->max_parallelism = p->max_parallelism;
}

/* The plan's plugin, opened once for all workers (dlopen belongs to
 * this thread), and its function; the plan checked both at load. */
static int
setup_udf(struct dp *dp)
{
	const struct sl_plan *p = dp->plan;
	char msg[SL_PLAN_ERR_MAX];
	int rc;

	rc = sl_udf_open(p->plugins_dir, p->udf_plugin, &dp->udf_lib, msg, sizeof(msg));
	if (rc < 0) {
		DP_LOG(ERR, "%s: %s", p->file, msg);
		return rc;
	}
	dp->udf_fn = sl_udf_lookup(&dp->udf_lib, p->udf_function, p->udf_kind, msg, sizeof(msg));
	if (dp->udf_fn == NULL) {
		DP_LOG(ERR, "%s: %s", p->file, msg);
		return -EINVAL;
	}
	if (p->udf_kind != SLUICE_FN_AGGREGATE)
		dp->out = p->udf_out;
	return 0;
}

/*
 * A process pipeline: routed by key as a windowed one (setup_key), its
 * output rows are the function's. The operator is made on each worker
 * (worker_state.c); the function runs on the workers' TSC clock for its
 * processing-time timers.
 */
static int
setup_process(struct dp *dp)
{
	int rc = setup_udf(dp);

	if (rc < 0)
		return rc;
	setup_clock(dp);
	setup_key(dp);
	return 0;
}

/* A join: a process join's plugin opened here as a process pipeline's
 * is, and the clock its processing-time timers and state TTL run on. */
static int
setup_join(struct dp *dp)
{
	if (dp->plan->join.kind == SL_PLAN_JOIN_PROCESS) {
		int rc = setup_udf(dp);

		if (rc < 0)
			return rc;
	}
	if (dp->plan->join.kind == SL_PLAN_JOIN_PROCESS || dp->plan->join.ttl_ms > 0)
		setup_clock(dp);
	return dp_join_setup(dp);
}

/* The process operator's configuration from the plan; key groups left to the caller. */
void
dp_process_conf(const struct dp *dp, struct sl_process_conf *c)
{
	const struct sl_plan *p = dp->plan;

	memset(c, 0, sizeof(*c));
	c->in = &p->schema;
	c->ts_field = p->source.ts_field;
	c->n_keys = p->n_keys;
	memcpy(c->key_field, p->key_field, sizeof(int) * p->n_keys);
	c->fn = dp->udf_fn;
	c->n_params = p->udf_n_params;
	c->params = p->udf_param;
	c->capacity = p->key_capacity;
	c->max_parallelism = p->max_parallelism;
}

/* A stateless pipeline's output: the map's or function's columns, or the input row. */
static int
setup_map(struct dp *dp)
{
	const struct sl_plan *p = dp->plan;
	struct sl_map *m;

	if (p->udf_kind != 0)
		return setup_udf(dp);
	if (p->n_map == 0) {
		dp->out = p->schema;
		return 0;
	}
	m = dp_map_create(p, &dp->out);
	if (m == NULL)
		return -EINVAL;
	sl_map_free(m);		/* each worker compiles its own */
	return 0;
}

bool
dp_schema_same(const struct sl_schema *a, const struct sl_schema *b)
{
	if (a->n_fields != b->n_fields || a->row_size != b->row_size)
		return false;
	for (uint16_t i = 0; i < a->n_fields; i++)
		if (strcmp(a->f[i].name, b->f[i].name) != 0 || a->f[i].type != b->f[i].type ||
		    a->f[i].offset != b->f[i].offset || a->f[i].size != b->f[i].size)
			return false;
	return true;
}

/*
 * The steps after the keyed stage (or the join): the plan checked them
 * against the result rows as it builds them, so those must be the rows
 * the stage makes here. The map runs where the sink writes: its columns
 * are the sink's.
 */
static int
setup_post(struct dp *dp)
{
	const struct sl_plan *p = dp->plan;
	const char *nv[SL_PLAN_MAX_MAP], *tv[SL_PLAN_MAX_MAP];
	char msg[160];

	dp->final = dp->out;
	if (p->n_post_filters == 0 && p->n_post_map == 0)
		return 0;
	if (!dp_schema_same(&p->stage_out, &dp->out)) {
		DP_LOG(ERR, "%s: the keyed stage's result columns are not the ones its filter and map steps were checked against; report this with the job file",
		       p->file);
		return -EINVAL;
	}
	if (p->n_post_map == 0)
		return 0;
	for (uint16_t c = 0; c < p->n_post_map; c++) {
		nv[c] = p->post_map_name[c];
		tv[c] = p->post_map_text[c];
	}
	dp->post_map = sl_map_create(&dp->out, p->n_post_map, nv, tv, &dp->final,
				     msg, sizeof(msg));
	if (dp->post_map == NULL) {
		DP_LOG(ERR, "%s: map after the keyed stage: %s", p->file, msg);
		return -EINVAL;
	}
	dp->post_in = malloc(sl_vec_size(dp->out.row_size));
	dp->post_out = malloc((size_t)SL_VEC_MAX * dp->final.row_size);
	if (dp->post_in == NULL || dp->post_out == NULL) {
		DP_LOG(ERR, "out of memory for the map after the keyed stage");
		return -ENOMEM;
	}
	sl_vec_reset(dp->post_in, dp->out.row_size);
	for (uint16_t f = 0; f < p->n_final_filters; f++) {
		struct sl_expr_err err;

		dp->final_f[f] = sl_expr_compile(p->final_filter_text[f], &dp->final, &err);
		if (dp->final_f[f] == NULL || !dp_schema_same(&p->map_out, &dp->final)) {
			DP_LOG(ERR, "%s: filter '%s' after the map that follows the keyed stage: %s",
			       p->file, p->final_filter_text[f],
			       dp->final_f[f] == NULL ? err.msg : "the map's columns are not the ones it was checked against");
			return -EINVAL;
		}
		dp->n_final_f = (uint16_t)(f + 1);
	}
	return 0;
}

static int
setup_rings(struct dp *dp)
{
	const struct sl_plan *p = dp->plan;
	unsigned int pairs = (unsigned int)dp->n_rx * dp->n_workers;
	bool unaligned = p->ckpt.unaligned && p->ckpt.interval_ms > 0 && !dp->rtc;
	unsigned int n_vec, n_res;
	char name[RTE_RING_NAMESIZE];

	/* Every ring full, every lcore's open vectors, the per-lcore caches
	 * and a burst in flight on each worker. */
	n_vec = (dp->rtc ? 0 : pairs * DP_RING_SIZE) + pairs + dp->n_workers *
		(DP_DEQ_BURST + 1) + rte_lcore_count() * 48 + 64;
	/* Unaligned checkpoints keep in-flight vectors until they are written:
	 * at most a ring's worth per input, which the RX lcores must not miss. */
	if (unaligned)
		n_vec += pairs * DP_CHAN_PER_INPUT;
	n_res = dp->n_workers * (DP_RING_SIZE + 2) + rte_lcore_count() * 48 + 64;
	dp->vec_pool = rte_mempool_create("sl_vec", n_vec,
					  (unsigned int)sl_vec_size(dp->vec_row_max),
					  32, 0, NULL, NULL, NULL, NULL,
					  (int)rte_socket_id(), 0);
	dp->res_pool = rte_mempool_create("sl_res", n_res,
					  (unsigned int)sl_vec_size(dp->out.row_size),
					  32, 0, NULL, NULL, NULL, NULL,
					  (int)rte_socket_id(), 0);
	/* The late side output's rows travel to the main lcore like results:
	 * as many vectors, of input rows. */
	if (p->has_late_sink)
		dp->late_pool = rte_mempool_create("sl_late", n_res,
						   (unsigned int)sl_vec_size(dp->late_schema->row_size),
						   32, 0, NULL, NULL, NULL, NULL,
						   (int)rte_socket_id(), 0);
	if (dp->vec_pool == NULL || dp->res_pool == NULL ||
	    (p->has_late_sink && dp->late_pool == NULL)) {
		DP_LOG(ERR, "cannot create vector pools: %s; give the EAL more memory (-m) or reserve hugepages",
		       rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		struct dp_worker *wk = &dp->w[w];

		snprintf(name, sizeof(name), "sl_sink_%u", w);
		wk->to_sink = rte_ring_create(name, DP_RING_SIZE, (int)rte_socket_id(),
					      RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (wk->to_sink == NULL)
			return -ENOMEM;
		wk->n_in = dp->n_rx;
		sl_wm_valve_init(&wk->valve, dp->n_rx);
		sl_align_init(&wk->align, dp->n_rx,
			      p->ckpt.at_least_once ? SL_ALIGN_AT_LEAST_ONCE :
			      unaligned ? SL_ALIGN_UNALIGNED : SL_ALIGN_EXACTLY_ONCE);
		if (unaligned) {
			wk->unaligned = true;
			wk->cap_chan = (uint32_t)dp->n_rx * DP_CHAN_PER_INPUT;
			wk->chan = calloc(wk->cap_chan, sizeof(*wk->chan));
			if (wk->chan == NULL)
				return -ENOMEM;
		}
		for (uint16_t r = 0; r < dp->n_rx && !dp->rtc; r++) {
			struct rte_ring *ring;

			snprintf(name, sizeof(name), "sl_rx%u_w%u", r, w);
			ring = rte_ring_create(name, DP_RING_SIZE,
					       (int)rte_lcore_to_socket_id(wk->lcore),
					       RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (ring == NULL) {
				DP_LOG(ERR, "cannot create ring %s: %s", name,
				       rte_strerror(rte_errno));
				return -ENOMEM;
			}
			dp->rx[r].ring[w] = ring;
			wk->in[r] = ring;
		}
		if (rte_mempool_get(dp->res_pool, (void **)&wk->res) != 0)
			return -ENOMEM;
		sl_vec_reset(wk->res, dp->out.row_size);
		wk->res->src = w;
	}
	return 0;
}

/* A map before key_by, chained to the source: this lcore's own (its
 * expressions keep scratch registers) and the vector of rows it fills. */
static int
setup_rx_map(struct dp_rx *rx)
{
	const struct sl_plan *p = rx->dp->plan;
	const char *nv[SL_PLAN_MAX_MAP], *tv[SL_PLAN_MAX_MAP];
	struct sl_schema out;
	char msg[160];

	for (uint16_t c = 0; c < p->n_map; c++) {
		nv[c] = p->map_name[c];
		tv[c] = p->map_text[c];
	}
	rx->map = sl_map_create(&rx->sp->schema, p->n_map, nv, tv, &out, msg,
				sizeof(msg));
	if (rx->map == NULL) {
		DP_LOG(ERR, "%s: map before key_by: %s", p->file, msg);
		return -EINVAL;
	}
	if (!dp_schema_same(&out, &p->schema)) {
		DP_LOG(ERR, "%s: the map before key_by makes other columns than the job was checked against; report this with the job file",
		       p->file);
		return -EINVAL;
	}
	rx->mapped = rte_malloc_socket("sl_rx_mapped", (size_t)SL_VEC_MAX * out.row_size,
				       RTE_CACHE_LINE_SIZE, (int)rte_socket_id());
	if (rx->mapped == NULL) {
		DP_LOG(ERR, "out of memory for the map before key_by; give the EAL more memory (-m)");
		return -ENOMEM;
	}
	return 0;
}

static int
setup_sources(struct dp *dp)
{
	const struct sl_plan *p = dp->plan;
	const bool multi = p->n_inputs > 1;
	int rc;

	for (uint16_t r = 0; r < dp->n_rx; r++) {
		struct dp_rx *rx = &dp->rx[r];
		const struct sl_source_ops *ops;

		/* with a map before key_by, the source's own schema and time */
		rx->sp = multi ? dp->input_plan[r] : p->key_map ? dp->input_plan[0] : p;
		ops = sl_source_ops_get(rx->sp->source.type);
		/* A driver's setup is per port: once for the plan's queues,
		 * or once for the (single, the plan says) ethdev source. */
		if (ops->setup != NULL && (multi || r == 0)) {
			rc = ops->setup(rx->sp, rte_socket_id());
			if (rc < 0)
				return rc;
		}
		rc = sl_source_open(&rx->src, rx->sp, multi ? 0 : r);
		if (rc < 0)
			return rc;
		dp_rx_key(rx, p);
		sl_wm_mux_init(&rx->mux, rx->sp->source.out_of_orderness_ms,
			       rx->sp->source.idle_timeout_ms);
		rx->tick_cycles = dp->tsc_hz * (uint64_t)rx->sp->source.interval_ms / 1000;
		if (rx->tick_cycles == 0)
			rx->tick_cycles = 1;
		/* Compiled expressions carry their own scratch registers:
		 * one copy per lcore. */
		rx->n_src_filters = p->key_map ? p->n_src_filters : p->n_filters;
		for (uint16_t f = 0; f < p->n_filters; f++) {
			struct sl_expr_err err;

			/* before a map before key_by: the source's rows */
			rx->filter[f] = sl_expr_compile(p->filter_text[f],
							f < rx->n_src_filters ?
							&rx->sp->schema : &p->schema, &err);
			if (rx->filter[f] == NULL)
				return -EINVAL;	/* validated by the plan already */
		}
		rx->n_filters = p->n_filters;
		rx->out_rs = p->key_map ? p->schema.row_size : rx->sp->schema.row_size;
		if (p->key_map) {
			rc = setup_rx_map(rx);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int
assign_lcores(struct dp *dp)
{
	unsigned int need = dp->rtc ? 1 : (unsigned int)dp->n_rx + dp->n_workers;
	unsigned int lcore, i = 0;

	if (rte_lcore_count() < need + 1) {
		DP_LOG(ERR, "the job needs %u lcores plus the main one, the EAL has %u; check the EAL --lcores/-l arguments",
		       need, rte_lcore_count());
		return -EINVAL;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (i < dp->n_rx) {
			dp->rx[i].lcore = lcore;
			if (dp->rtc)
				dp->w[0].lcore = lcore;
		} else if (!dp->rtc && i < need) {
			dp->w[i - dp->n_rx].lcore = lcore;
		}
		i++;
	}
	return 0;
}

/* Run fn(worker) on each worker's lcore, where its state lives, and wait. */
static int
workers_on_lcores(struct dp *dp, lcore_function_t *fn)
{
	int rc = 0;

	int launched[DP_MAX_WORKERS] = { 0 };

	/* In parallel: a restore loads every worker's key groups at once. */
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		launched[w] = rte_eal_remote_launch(fn, &dp->w[w], dp->w[w].lcore) == 0;
		if (!launched[w])
			rc = -EBUSY;
	}
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		int r = launched[w] ? rte_eal_wait_lcore(dp->w[w].lcore) : 0;

		if (r < 0 && rc == 0)
			rc = r;
	}
	return rc;
}

static int
run(struct dp *dp)
{
	int rc;

	dp->tsc_hz = rte_get_tsc_hz();
	dp->rx = rte_zmalloc("sl_rx", sizeof(*dp->rx) * dp->n_rx, RTE_CACHE_LINE_SIZE);
	dp->w = rte_zmalloc("sl_w", sizeof(*dp->w) * dp->n_workers, RTE_CACHE_LINE_SIZE);
	dp->rx_rate = calloc(dp->n_rx, sizeof(*dp->rx_rate));
	dp->w_rate = calloc(dp->n_workers, sizeof(*dp->w_rate));
	if (dp->rx == NULL || dp->w == NULL || dp->rx_rate == NULL || dp->w_rate == NULL)
		return -ENOMEM;
	for (uint16_t r = 0; r < dp->n_rx; r++) {
		dp->rx[r].dp = dp;
		dp->rx[r].id = r;
	}
	for (uint16_t w = 0; w < dp->n_workers; w++) {
		dp->w[w].dp = dp;
		dp->w[w].id = w;
	}
	dp->late_schema = &dp->plan->schema;
	rc = assign_lcores(dp);
	if (rc == 0)
		rc = dp_inputs_setup(dp);
	if (rc == 0)
		rc = dp->plan->stateless ? setup_map(dp) :
		     dp_dedup(dp->plan) ? setup_dedup(dp) :
		     dp_process(dp->plan) ? setup_process(dp) :
		     dp_join(dp->plan) ? setup_join(dp) : setup_windows(dp);
	if (rc == 0)
		rc = setup_post(dp);
	if (rc == 0)
		rc = setup_rings(dp);
	if (rc == 0)
		rc = dp_stage2_rings(dp);
	if (rc == 0)
		rc = setup_sources(dp);
	if (rc == 0)
		rc = dp_ckpt_setup(dp);
	if (rc == 0)
		rc = dp_ckpt_restore(dp);
	if (rc == 0)
		rc = workers_on_lcores(dp, dp_worker_init);
	dp_restore_free(dp);
	if (rc == 0 && dp->eth_sink) {
		snprintf(dp->sink.path, sizeof(dp->sink.path), "port %s, UDP %u",
			 dp->plan->source.port, dp->plan->sink.udp_port);
		if (!dp->plan->stateless)
			rc = sl_eth_sink_open(&dp->esink, &dp->plan->sink, &dp->final, 0);
	} else if (rc == 0 && !dp->eos) {
		rc = sl_sink_open(&dp->sink, &dp->plan->sink, &dp->final);
	}
	if (rc == 0 && dp->plan->has_late_sink && !dp->late_eos)
		rc = sl_sink_open(&dp->late_sink, &dp->plan->late_sink,
				  dp->late_schema);
	else if (rc == 0 && dp->plan->has_late_sink)
		memcpy(dp->late_sink.path, dp->plan->late_sink.path,
		       sizeof(dp->late_sink.path));
	if (rc == 0 && dp->eos)
		/* Stats name the parts' common prefix. */
		memcpy(dp->sink.path, dp->plan->sink.path, sizeof(dp->sink.path));
	if (rc == 0 && dp->ctl_path != NULL)
		rc = dp_ctl_open(dp, dp->ctl_path);
	if (rc < 0)
		return rc;
	dp_telemetry_register(dp);

	DP_LOG(INFO, "job %s: %u RX lcore(s), %u worker lcore(s)%s%s",
	       dp->plan->name, dp->n_rx, dp->n_workers,
	       dp->rtc ? ", run to completion" : "",
	       dp->shared_cores ? ", sharing CPUs (idle lcores yield)" : "");
	dp->start_tsc = rte_rdtsc();
	/* Run to completion: one lcore, which polls every source. */
	for (uint16_t r = 0; r < (dp->rtc ? 1 : dp->n_rx); r++)
		rte_eal_remote_launch(dp_rx_loop, &dp->rx[r], dp->rx[r].lcore);
	for (uint16_t w = 0; w < dp->n_workers && !dp->rtc; w++)
		rte_eal_remote_launch(dp_worker_loop, &dp->w[w], dp->w[w].lcore);

	rc = dp_main_loop(dp);
	rte_eal_mp_wait_lcore();
	dp_ctl_close(dp);
	if (dp->eth_sink) {
		sl_eth_sink_close(&dp->esink);
		dp->sink.rows = dp_sink_rows(dp);
	} else if (!dp->eos && sl_sink_close(&dp->sink) < 0 && rc == 0) {
		rc = -EIO;
	}
	if (dp->plan->has_late_sink && !dp->late_eos &&
	    sl_sink_close(&dp->late_sink) < 0 && rc == 0)
		rc = -EIO;
	for (uint16_t r = 0; r < dp->n_rx; r++) {
		if (dp->rx[r].src.ops->stats)
			dp->rx[r].src.ops->stats(&dp->rx[r].src);
	}
	if (rc < 0 && dp->exit_code == 0)
		dp->exit_code = 1;
	dp_stats_print(dp);
	if (dp->stats_json && dp_stats_json(dp, dp->stats_json) < 0)
		rc = -EIO;
	for (uint16_t r = 0; r < dp->n_rx; r++) {
		dp->rx[r].src.ops->close(&dp->rx[r].src);
		for (uint16_t f = 0; f < dp->rx[r].n_filters; f++)
			sl_expr_free(dp->rx[r].filter[f]);
	}
	workers_on_lcores(dp, dp_worker_fini);
	for (uint16_t r = 0; r < dp->n_rx; r++) {
		sl_map_free(dp->rx[r].map);
		rte_free(dp->rx[r].mapped);
	}
	sl_map_free(dp->post_map);
	for (uint16_t f = 0; f < dp->n_final_f; f++)
		sl_expr_free(dp->final_f[f]);
	free(dp->post_in);
	free(dp->post_out);
	dp_inputs_free(dp);
	sl_udf_close(&dp->udf_lib);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "job", required_argument, NULL, 'j' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "stats-json", required_argument, NULL, 's' },
		{ "ctl", required_argument, NULL, 'C' },
		{ "restore", required_argument, NULL, 'R' },
		{ "restore-fallback", required_argument, NULL, 'F' },
		{ "coordinator", required_argument, NULL, 'K' },
		{ "validate", no_argument, NULL, 'V' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[SL_PLAN_ERR_MAX];
	const char *job = NULL, *cpus = NULL;
	char *eal_argv[96];
	bool validate = false;
	/* Static: one job per process, and whatever it owns stays reachable
	 * on every exit path. */
	static struct dp dp_store;
	static struct sl_plan plan_store;
	struct dp *dp = &dp_store;
	int c, eal_argc, rc;

	/*
	 * Keep freed memory instead of returning it: the main lcore's large
	 * buffers (a checkpoint's task files and page copies, the sink's
	 * pending rows and sort buffers) are allocated and freed again every
	 * checkpoint or window fire, and with glibc's defaults each is a fresh
	 * mmap whose every 4 KiB is then a page fault and a clear_page (about
	 * 15% of the main lcore at 10M keys), and a munmap. RSS stays at its
	 * peak, as DPDK's own memory does.
	 */
	mallopt(M_MMAP_MAX, 0);
	mallopt(M_TRIM_THRESHOLD, -1);

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			job = optarg;
			break;
		case 'c':
			cpus = optarg;
			break;
		case 's':
			dp->stats_json = optarg;
			break;
		case 'C':
			dp->ctl_path = optarg;
			break;
		case 'R':
			dp->restore = optarg;
			break;
		case 'F':
			dp->restore_fallback = optarg;
			break;
		case 'K':
			if (strcmp(optarg, "sluiced") != 0) {
				fprintf(stderr, "sluice-dp: --coordinator takes 'sluiced', got '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			dp->coordinated = true;
			break;
		case 'V':
			validate = true;
			break;
		case 'v':
			printf("sluice-dp %s\n", SLUICE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (job == NULL) {
		fprintf(stderr, "sluice-dp: --job FILE is required\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	dp->plan = &plan_store;
	rc = sl_plan_load(job, dp->plan, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "sluice-dp: %s\n", err);
		return EXIT_USAGE;
	}
	cpus = cpus ? cpus : (dp->plan->lcores.cpus[0] ? dp->plan->lcores.cpus : NULL);
	if (validate) {
		printf("sluice-dp: %s: valid\n", job);
		sl_plan_free(dp->plan);
		return 0;
	}
	/* Several sources: one RX lcore each (join.c). */
	dp->n_rx = dp->plan->n_inputs > 1 ? dp->plan->n_inputs : dp->plan->lcores.rx;
	dp->n_workers = dp->plan->lcores.workers;
	dp->rtc = dp->plan->lcores.run_to_completion;
	dp->eth_sink = dp->plan->sink.type == SL_SINK_ETHDEV;
	if (dp->n_rx > DP_MAX_RX || dp->n_workers > DP_MAX_WORKERS) {
		fprintf(stderr, "sluice-dp: at most %d RX and %d worker lcores\n",
			DP_MAX_RX, DP_MAX_WORKERS);
		return EXIT_USAGE;
	}

	eal_argc = dp_eal_args(dp, argv[0], cpus, argc - optind, argv + optind,
			       eal_argv, (int)(sizeof(eal_argv) / sizeof(eal_argv[0])));
	if (eal_argc < 0)
		return EXIT_USAGE;
	/* Before the EAL: a stop that arrives during start-up must drain
	 * the job once it runs, not kill the process. */
	g_dp = dp;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "sluice-dp: EAL init failed: %s; check the EAL arguments and that hugepages or --no-huge memory are available\n",
			rte_strerror(rte_errno));
		return 1;
	}
	rc = run(dp);
	if (rc < 0)
		DP_LOG(ERR, "job %s failed: %s", dp->plan->name, strerror(-rc));
	sl_plan_free(dp->plan);
	rte_eal_cleanup();
	return rc < 0 || dp->exit_code != 0 ? 1 : 0;
}
