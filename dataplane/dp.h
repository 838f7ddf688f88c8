/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_DP_H
#define SL_DP_H

/*
 * sluice-dp's private state: one struct dp per process, one dp_rx per RX
 * lcore and one dp_worker per worker lcore. Each per-lcore struct has a
 * single writer (its lcore); the main lcore only reads counters, after the
 * lcores have stopped or as plain 64-bit loads for live stats.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_log.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <jansson.h>

#include "sl_align.h"
#include "sl_dedup.h"
#include "sl_expr.h"
#include "sl_io.h"
#include "sl_join.h"
#include "sl_kg.h"
#include "sl_map.h"
#include "sl_plan.h"
#include "sl_process.h"
#include "sl_topk.h"
#include "sl_udf.h"
#include "sl_vec.h"
#include "sl_window.h"
#include "sl_wm.h"

#define DP_MAX_RX 16
#define DP_MAX_WORKERS 64
#define DP_RING_SIZE 512	/* vectors per (RX, worker) ring */
#define DP_DEQ_BURST 8
#define DP_IDLE_YIELD 64	/* empty polls before yielding a shared core */
/*
 * Unaligned checkpoints: vectors one input can have in flight. The ring's
 * contents when the trigger came, plus what its RX lcore sends before it
 * sees the trigger: the rest of one burst of SL_IO_BURST packets, each of
 * which ends at most two vectors per worker (a full one and a punctuated
 * watermark's), plus a dequeue burst.
 */
#define DP_CHAN_PER_INPUT (DP_RING_SIZE + 2 * SL_IO_BURST + DP_DEQ_BURST + 2)

extern int sl_dp_logtype;
#define DP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, sl_dp_logtype, "sluice-dp: " fmt "\n", ##__VA_ARGS__)

struct dp;

/*
 * Where an lcore's cycles went, for Flink's busy/idle/backPressured time
 * metrics. Single writer (the lcore); the main lcore reads it for rates.
 * busy includes bp: a poll that found work and then waited on a full ring.
 */
struct dp_time {
	uint64_t last;
	uint64_t busy;
	uint64_t idle;
	uint64_t bp;
};

/* Cycles to ms without overflowing: d * 1000 wraps after ~70 days at 3 GHz. */
static inline uint64_t
dp_cycles_ms(uint64_t d, uint64_t hz)
{
	return d / hz * 1000 + d % hz * 1000 / hz;
}

static inline void
dp_time_account(struct dp_time *t, bool busy)
{
	uint64_t now = rte_rdtsc();

	if (busy)
		t->busy += now - t->last;
	else
		t->idle += now - t->last;
	t->last = now;
}

/* Per-second rates of one lcore, computed by the main lcore. */
struct dp_rate {
	uint64_t tsc;
	uint64_t in, out, busy, idle, bp;	/* the previous sample */
	double in_ps, out_ps;
	double busy_ms, idle_ms, bp_ms;		/* per second */
};

/* Result rows waiting at the sink for every worker's watermark. */
/* dp_sink_sort's reused buffers. */
struct dp_sort {
	struct dp_sort_ent *a, *b;
	size_t cap;
};

struct dp_pending {
	uint8_t *rows;
	/* Per row, its worker's watermark when it came: a row is written
	 * once the combined watermark passes both its window's end - 1 and
	 * this, so a late firing lands in the same flush whatever the
	 * timing of the other workers (the output bytes stay fixed). */
	int64_t *tag;
	/* Early firings (sl_win.out_early) wait for the tag only: the
	 * combined watermark passing it, not their window's end. */
	uint8_t *early;
	size_t n;
	size_t cap;
	uint32_t *idx;
	size_t idx_cap;
	struct dp_sort sort;
	struct sl_topk topk;	/* top_k: the ranking of each window's rows */
};

struct dp_ckpt;

/*
 * Time a worker spends on one vector, log-linear (8 sub-buckets per power
 * of two, ~12% resolution), for the p99.9 stall the checkpoint benchmark
 * reports. Single writer.
 */
#define DP_VT_BUCKETS (64 * 8)

struct dp_vtime {
	uint64_t n;
	uint64_t max;
	uint64_t b[DP_VT_BUCKETS];
};

static inline void
dp_vtime_add(struct dp_vtime *h, uint64_t cycles)
{
	unsigned int e = cycles ? 63u - (unsigned int)__builtin_clzll(cycles) : 0;
	unsigned int sub = e >= 3 ? (unsigned int)(cycles >> (e - 3)) & 7 : (unsigned int)cycles & 7;

	h->b[e * 8 + sub]++;
	h->n++;
	if (cycles > h->max)
		h->max = cycles;
}

struct dp_worker {
	struct dp *dp;
	unsigned int lcore;
	bool ptime;			/* processing-time windows: the clock below runs */
	uint64_t pt_next_tsc;		/* the TSC where the clock's next ms begins */
	uint16_t id;
	uint16_t n_in;
	uint16_t n_done;		/* inputs that sent end of input */
	uint16_t rr;
	struct rte_ring *in[DP_MAX_RX];
	struct rte_ring *to_sink;
	struct sl_vec *res;		/* result vector being filled */
	struct sl_vec *late;		/* late side output rows being filled, or NULL */
	struct sl_wm_valve valve;
	struct sl_align align;		/* barrier alignment over the RX inputs */
	uint64_t snap_id;		/* checkpoint of win.snap; 0: the snapshot failed */
	_Atomic uint64_t snap_done;	/* the main lcore wrote snapshot snap_id: end it */
	struct sl_state *st;		/* keyed state, opened on this lcore */
	const struct rte_memzone *mz;	/* heap backend: the arena's memory */
	void *mem_map;			/* ... or an mmap when no memzone fits */
	size_t mem_map_len;
	char rocks_dir[SL_PLAN_PATH_MAX + 64];
	int init_rc;
	/* Unaligned checkpoints: vectors in flight for checkpoint rec_id (read
	 * after the snapshot, before their input's barrier). They are run at
	 * once and kept, not recycled, until the main lcore has written them
	 * as channel state; chan_done says the set is complete. */
	bool unaligned;
	bool recording;
	bool chan_overflow;		/* more in flight than chan[] holds: fail it */
	uint32_t n_chan, cap_chan;
	struct sl_vec **chan;
	uint64_t rec_id;
	uint64_t seen_trigger;
	uint64_t chan_rows;		/* rows kept as channel state, all checkpoints */
	bool native;			/* rocksdb + state.backend.incremental */
	uint64_t snap_sync_last, snap_sync_max;	/* cycles the snapshot's start held the loop */
	_Atomic uint64_t chan_done;	/* checkpoint whose channel state is complete */
	/* Vectors dequeued behind a barrier that blocked their input (R6.2). */
	uint8_t n_held[DP_MAX_RX];
	uint8_t held_at[DP_MAX_RX];
	struct sl_vec *held[DP_MAX_RX][DP_DEQ_BURST];
	struct sl_win win;		/* keyed pipelines (dedup ones: its stats only) */
	struct sl_dedup dedup;		/* dedup pipelines (dp_dedup), in place of win */
	struct sl_join join;		/* join pipelines (dp_join), in place of win */
	struct sl_map *map;		/* stateless pipelines with a map */
	struct sl_process proc;		/* process pipelines (dp_process), in place of win */
	struct sl_udf_inst *udf;	/* stateless pipelines with a user function */
	uint64_t side_dropped;		/* process: side-output rows no side_sink takes */
	/* Filters after the keyed stage (plan.post_filter_text): run over
	 * each result vector before it goes to the sink. */
	uint16_t n_post;
	struct sl_expr *post[SL_PLAN_MAX_FILTERS];
	uint64_t post_filtered;		/* result rows they removed */
	/* A second keyed stage (plan.stage2, stage2.c): the first window's
	 * results gather in mid, go through the filters between the stages
	 * and into win2, over a state instance of its own. */
	struct sl_win win2;
	struct sl_state *st2;
	void *mem2;
	size_t mem2_len;
	struct sl_vec *mid;
	uint16_t n_mid_f;
	struct sl_expr *mid_f[SL_PLAN_MAX_FILTERS];
	uint64_t mid_filtered;		/* first-stage rows those filters removed */
	/* ... on several workers: the first stage's rows go by the second
	 * key into out2[b], worker b's ring in2[this worker]; in2[a] brings
	 * worker a's, whose watermarks valve2 combines (R1.7). */
	uint16_t n_in2, n_done2;
	struct rte_ring *in2[DP_MAX_WORKERS];
	struct rte_ring *out2r[DP_MAX_WORKERS];
	struct sl_vec *out2[DP_MAX_WORKERS];
	struct sl_wm_valve valve2;
	uint64_t s2_full;		/* sends that found a peer's ring full */
	/* Checkpoints: the second window's snapshot (0: it failed), taken
	 * with the first's on one worker, or once align2 has the barrier
	 * of every worker's first stage. */
	uint64_t snap2_id;
	struct sl_align align2;
	/* Stateless pipelines with an ethdev sink send their own rows: no
	 * ring to the main lcore, no wait for a vector to fill. */
	bool tx;
	struct sl_eth_sink esink;
	uint64_t vecs_in;
	struct dp_vtime vtime;		/* cycles per vector handled */
	uint64_t sink_full;		/* times the sink ring was full */
	uint64_t idle_polls;
	struct dp_time time;
} __rte_cache_aligned;

struct dp_rx {
	struct dp *dp;
	unsigned int lcore;
	uint16_t id;
	/* What this lcore polls: the plan's source, or with several sources
	 * (sources:) source number id, described by a plan of its own
	 * (dp_input_plans): schema, source and watermark, and the key that
	 * routes its rows (the join's key of its side, or key_by). */
	const struct sl_plan *sp;
	int32_t key_off;		/* key fields side by side: their offset; else -1 */
	uint32_t key_len;
	uint16_t n_keys;
	bool broadcast;			/* a broadcast join's rules: rows to every worker */
	int key_field[SL_PLAN_MAX_KEYS];
	uint16_t n_filters;
	struct sl_expr *filter[SL_PLAN_MAX_FILTERS];	/* this lcore's copies */
	/* A map before key_by (plan.key_map): filters [0, n_src_filters)
	 * run on the source's rows, the map writes the keyed stage's rows
	 * into mapped[], the other filters run on those. out_rs: the row
	 * size of what goes to the workers. */
	uint16_t n_src_filters;
	struct sl_map *map;
	uint8_t *mapped;
	uint16_t out_rs;
	struct sl_source src;
	struct sl_wm_mux mux;
	uint64_t tick_cycles;
	uint64_t next_tick;
	uint64_t first_tsc;		/* first batch: the busy period starts */
	uint64_t end_tsc;		/* the source ended (0: not yet) */
	uint64_t ckpt_id;		/* last barrier injected */
	struct sl_src_offset ckpt_off;	/* where the source stood at it */
	bool ended;			/* the source ended: end_off is set */
	uint64_t end_ckpt;		/* ckpt_id when it ended */
	struct sl_src_offset end_off;	/* where it ended */
	uint64_t rows_in;
	uint64_t rows_filtered;		/* removed by filters */
	uint64_t ring_full;		/* enqueue attempts that found a ring full */
	uint64_t vecs_out;
	uint64_t wms_out;
	struct dp_time time;
	struct sl_vec *out[DP_MAX_WORKERS];
	struct rte_ring *ring[DP_MAX_WORKERS];
	uint16_t sel[SL_VEC_MAX];
	uint16_t dst[SL_VEC_MAX];
	uint32_t hash[SL_VEC_MAX];
} __rte_cache_aligned;

/* Worker sections of the checkpoint being restored, for the workers to load. */
struct dp_restore_sec {
	uint16_t op;			/* CKPT_OP_* */
	uint16_t kg;
	uint32_t file;			/* index of its file: meta is per file */
	const void *data;
	size_t len;
};

struct dp_restore_file {
	void *buf;			/* the loaded file */
	const void *meta;		/* its state meta section, NULL until seen */
	size_t meta_len;
	const void *meta2;		/* the second keyed stage's, NULL until seen */
	size_t meta2_len;
};

struct dp_restore {
	char dir[4096];			/* the checkpoint's chk-N directory */
	uint32_t n_files, n_secs, cap_secs;
	struct dp_restore_file *files;
	struct dp_restore_sec *secs;
};

struct dp {
	struct sl_plan *plan;
	const char *stats_json;		/* --stats-json FILE */
	uint16_t n_rx;
	uint16_t n_workers;
	bool rtc;			/* one lcore does RX and work */
	bool shared_cores;		/* more polling lcores than CPUs */
	uint32_t key_len;
	int32_t key_off;		/* key fields contiguous in the row: their offset; else -1 */
	struct sl_schema out;		/* result rows */
	/* What the sink writes: out, or the columns of the map after the
	 * keyed stage (plan.post_map_*), which runs where the sink writes,
	 * a vector of ordered rows at a time (dp_sink_write). */
	struct sl_schema final;
	/* Key fields at the front of out (the sink orders by window_start
	 * after them): the plan's, or its second stage's. */
	uint16_t sink_keys;
	/* A second keyed stage: its rows (the first stage's results and
	 * window_time) and its window. */
	struct sl_schema mid;
	struct sl_win_conf win_conf2;
	struct rte_mempool *mid_pool;	/* vectors between the workers' stages */
	struct sl_map *post_map;
	struct sl_vec *post_in;		/* rows waiting for the map, in order */
	uint8_t *post_out;		/* the map's rows */
	uint16_t n_final_f;		/* filters after that map, on its rows */
	struct sl_expr *final_f[SL_PLAN_MAX_FILTERS];
	uint64_t final_filtered;	/* rows they removed */
	const struct sl_schema *late_schema;	/* late_sink rows: the input's, or the join's */
	uint16_t vec_row_max;		/* largest input row: the vector pool's element */
	struct sl_plan *input_plan[SL_PLAN_MAX_SOURCES];	/* several sources: one plan each */
	struct sl_win_conf win_conf;	/* the workers' window, key groups set per worker */
	struct sl_udf_lib udf_lib;	/* the plan's plugin, opened once for every worker */
	const struct sluice_fn *udf_fn;	/* its function */
	struct dp_restore *rs;		/* sections a restore hands to the workers */
	struct rte_mempool *vec_pool;
	struct rte_mempool *res_pool;
	struct rte_mempool *late_pool;	/* late_sink: input-row vectors */
	struct dp_rx *rx;
	struct dp_worker *w;
	struct sl_sink sink;
	bool eth_sink;			/* sink type ethdev */
	struct sl_eth_sink esink;	/* ... sent by the main lcore (keyed pipelines) */
	struct sl_sink late_sink;	/* plan->has_late_sink */
	uint64_t tsc_hz;
	uint64_t start_tsc;
	/* Processing-time windows: the workers' clock is pt_epoch_ms (the
	 * system's epoch ms, read once at setup) plus the TSC's ms since
	 * pt_tsc; monotonic, no syscall on the workers. */
	int64_t pt_epoch_ms;
	uint64_t pt_tsc;
	uint64_t end_tsc;
	atomic_int stop;
	atomic_int draining;		/* input ended or stop asked: results are being flushed */
	atomic_uint rx_ended;		/* RX lcores (sources) whose input ended */
	atomic_int terminate;		/* stop with savepoint: end without the final WM(MAX) */
	int exit_code;
	struct dp_ctl *ctl;		/* control socket, NULL without --ctl */
	_Atomic uint64_t ckpt_trigger;	/* newest checkpoint id the RX lcores must inject */
	/* A native checkpoint's id and chk-N directory, published before its
	 * trigger: a rocksdb worker links its files under it (0: full). */
	_Atomic uint64_t native_id;
	char native_root[SL_PLAN_PATH_MAX + 32];
	struct dp_ckpt *ck;		/* checkpoint coordinator; NULL when checkpointing is off */
	const char *restore;		/* --restore: a chk-N directory or "latest" */
	const char *restore_fallback;	/* --restore-fallback: when "latest" finds none */
	bool coordinated;		/* --coordinator sluiced: it triggers and commits */
	bool eos;			/* the sink commits by two-phase commit */
	struct sl_sink2pc sink2pc;
	/* The late side output's transactions, like the sink's: late_sink
	 * with checkpoints (late_eos). Its sections carry op_id 1. */
	struct sl_sink2pc late2pc;
	bool late_eos;
	struct dp_pending pd;
	struct sl_align sink_align;	/* barrier alignment over the workers */
	struct dp_rate *rx_rate;	/* [n_rx] */
	struct dp_rate *w_rate;		/* [n_workers] */
	uint64_t next_sample;
	const char *ctl_path;
};

/* Key bytes of a row in the router's order. */
static inline void
dp_key_gather(const struct sl_plan *p, const uint8_t *row, uint8_t *key)
{
	sl_win_key_gather(&p->schema, p->key_field, p->n_keys, row, key);
}

int dp_rx_loop(void *arg);
int dp_worker_loop(void *arg);
void dp_worker_handle(struct dp_worker *w, struct sl_vec *v);
void dp_worker_ptime_tick(struct dp_worker *w, uint64_t tsc);
void dp_worker_finish(struct dp_worker *w);
/* The next result row of the worker (ctx), sent on when its vector is full. */
uint8_t *dp_worker_res_row(void *ctx);
/* One row to the late sink: its transaction with checkpoints, else the file. */
int dp_late_sink_write(struct dp *dp, const uint8_t *row);
/* The window's late side output (sl_win_late_fn) of the worker (ctx). */
void dp_worker_late_row(void *ctx, const uint8_t *row);
/* Where the next late side output row goes (late_schema's size). */
uint8_t *dp_worker_late_slot(struct dp_worker *w);
/* Worker state (worker_state.c), run on the worker's own lcore. */
int dp_worker_init(void *arg);
/* The plan's map step compiled over its schema (out: its columns); NULL
 * after a log line. */
struct sl_map *dp_map_create(const struct sl_plan *p, struct sl_schema *out);
int dp_worker_fini(void *arg);
/* A dedup pipeline's operator configuration (main.c); key groups unset. */
void dp_dedup_conf(const struct dp *dp, struct sl_dedup_conf *c);
/* Several sources (join.c): one plan per source for its RX lcore, and the
 * key each routes by; the join's configuration and its worker side. */
int dp_inputs_setup(struct dp *dp);
void dp_inputs_free(struct dp *dp);
void dp_rx_key(struct dp_rx *rx, const struct sl_plan *p);
int dp_join_setup(struct dp *dp);
/* After restore(): a broadcast join's rules map from every old worker. */
int dp_worker_join_opstate(struct dp_worker *w);
int dp_worker_join_init(struct dp_worker *w, uint32_t lo, uint32_t hi);
void dp_worker_join(struct dp_worker *w, const struct sl_vec *v);
void dp_worker_join_advance(struct dp_worker *w, int64_t wm);
/* A join's process: its processing-time timers <= now (epoch ms). */
void dp_worker_join_ptime(struct dp_worker *w, int64_t now);
/* A process pipeline's operator configuration (main.c); key groups unset. */
void dp_process_conf(const struct dp *dp, struct sl_process_conf *c);
/* A process function's side output (sl_udf_side_fn) of the worker (ctx). */
void dp_worker_side_row(void *ctx, int tag, const uint8_t *row);
void dp_worker_chan_release(struct dp_worker *w);

/*
 * A dedup pipeline (filters, key_by, dedup): routed by key like a
 * windowed one, its worker runs sl_dedup instead of the window, and the
 * sink writes its rows as they come, like a stateless pipeline's.
 */
static inline bool
dp_dedup(const struct sl_plan *p)
{
	return p->dedup_within_ms > 0;
}

/*
 * A join pipeline (sources:, one join step, dataplane/join.c): each
 * source has its RX lcore, rows are routed by their side's join key, the
 * worker runs sl_join over both inputs (its valve: the minimum of both,
 * R1.7). The sink writes interval and window pairs sorted by (join_ts,
 * row bytes) as the watermark passes them, match's and enrich's rows as
 * they come.
 */
static inline bool
dp_join(const struct sl_plan *p)
{
	return p->join.kind != SL_PLAN_JOIN_NONE;
}

/*
 * A process pipeline (filters, key_by, process): routed by key, its
 * worker runs sl_process in place of the window, and the sink writes
 * the function's rows as they come (as a dedup's).
 */
static inline bool
dp_process(const struct sl_plan *p)
{
	return p->udf_kind == SLUICE_FN_PROCESS;
}

/* Keyed without a window: dedup or process (their timers are in the state). */
static inline bool
dp_keyed_rows(const struct sl_plan *p)
{
	return dp_dedup(p) || dp_process(p);
}

/* The sink writes rows in arrival order, holding nothing back. */
static inline bool
dp_rows_as_they_come(const struct sl_plan *p)
{
	/* Processing-time windows: a row is final when its window fires;
	 * no watermark says when, and Flink emits at the firing. */
	return p->stateless || dp_keyed_rows(p) || p->window_processing_time ||
	       /* match and enrich write rows behind the watermark: no order
		* by time to wait for (interval and window pairs are sorted) */
	       p->join.kind == SL_PLAN_JOIN_MATCH || p->join.kind == SL_PLAN_JOIN_ENRICH ||
	       p->join.kind == SL_PLAN_JOIN_PROCESS;
}

/* The worker's open state snapshot (its window's, dedup's or process's), or NULL. */
static inline struct sl_state_snap *
dp_worker_snap(const struct dp_worker *w)
{
	return dp_dedup(w->dp->plan) ? w->dedup.snap :
	       dp_process(w->dp->plan) ? w->proc.snap :
	       dp_join(w->dp->plan) ? w->join.snap : w->win.snap;
}

/* End the worker's snapshot once the main lcore has written it. */
static inline void
dp_worker_snap_poll(struct dp_worker *w)
{
	if (unlikely(dp_worker_snap(w) != NULL) &&
	    atomic_load_explicit(&w->snap_done, memory_order_acquire) == w->snap_id) {
		if (dp_dedup(w->dp->plan))
			sl_dedup_snapshot_end(&w->dedup);
		else if (dp_join(w->dp->plan))
			sl_join_snapshot_end(&w->join);
		else if (dp_process(w->dp->plan))
			sl_process_snapshot_end(&w->proc);
		else
			sl_win_snapshot_end(&w->win);
		if (w->n_chan != 0 || w->recording)
			dp_worker_chan_release(w);
	}
	if (unlikely(w->win2.snap != NULL) &&
	    atomic_load_explicit(&w->snap_done, memory_order_acquire) == w->snap2_id)
		sl_win_snapshot_end(&w->win2);
}

/* A row's key hash, as the router computes it. */
static inline uint32_t
dp_row_hash(const struct dp *dp, const uint8_t *row)
{
	uint8_t key[SL_ROW_MAX];

	if (dp->key_off >= 0)
		return sl_kg_hash(row + dp->key_off, dp->key_len);
	dp_key_gather(dp->plan, row, key);
	return sl_kg_hash(key, dp->key_len);
}
int dp_main_loop(struct dp *dp);

/* Rows the sink has taken so far (an ethdev sink counts per sending lcore). */
static inline uint64_t
dp_sink_rows(const struct dp *dp)
{
	uint64_t n = dp->esink.rows;

	if (!dp->eth_sink)
		return dp->sink.rows;
	for (uint16_t w = 0; w < dp->n_workers; w++)
		n += dp->w[w].esink.rows;
	return n;
}

/* Build EAL arguments for the job; returns argc. */
int dp_eal_args(struct dp *dp, const char *prog, const char *cpus,
		int n_user, char **user, char **argv, int max);

/* Control socket (--ctl) and metrics, served from the main lcore. */
int dp_ctl_open(struct dp *dp, const char *path);
void dp_ctl_poll(struct dp *dp);
void dp_ctl_close(struct dp *dp);
json_t *dp_metrics_json(struct dp *dp);
void dp_metrics_sample(struct dp *dp);
void dp_telemetry_register(struct dp *dp);

/* Checkpoints (ckpt.c): coordinated by the main lcore in standalone mode. */
int dp_ckpt_setup(struct dp *dp);
int dp_ckpt_restore(struct dp *dp);
/* busy: results are piling up; the drain takes a small slice. True
 * while a drain has more to encode now: the main loop must not sleep. */
bool dp_ckpt_tick(struct dp *dp, bool busy);
void dp_ckpt_aligned(struct dp *dp, uint64_t id);
void dp_restore_free(struct dp *dp);
/* Remove a directory tree (checkpoints of an earlier run, a RocksDB instance). */
int dp_rm_tree(const char *path);
#define CKPT_OP_WINDOW 1	/* the window's open-window list */
#define CKPT_OP_STATE_META 2	/* sl_state_snapshot_meta() */
#define CKPT_OP_STATE 3	/* one sl_state chunk; the section's key group */
#define CKPT_OP_CHANNEL 4	/* in-flight input rows of an unaligned checkpoint */
#define CKPT_OP_NATIVE 5	/* struct dp_native_sec: a native RocksDB checkpoint */
#define CKPT_OP_OPSTATE 6	/* a worker's operator state (sl_opstate snapshot) */
#define CKPT_OP_WINDOW2 7	/* a second keyed stage: its window's open-window list */
#define CKPT_OP_STATE2_META 8	/* ... its state's sl_state_snapshot_meta() */
#define CKPT_OP_STATE2 9	/* ... one chunk of its state; the section's key group */

/* Where worker W's native checkpoint is, and the key groups it holds. */
struct dp_native_sec {
	uint16_t first_kg, last_kg;
	char dir[28];			/* "worker-0.db", in the chk-N directory */
};

/*
 * Native checkpoints' files, on the main lcore (ckpt_native.c): scan
 * worker w's directory, crc its new files a budget at a time (1: more to
 * do), then list them in the manifest, shared ones marked.
 */
struct dp_native;
struct sl_ckpt_manifest;
struct dp_native *dp_native_create(void);
void dp_native_destroy(struct dp_native *nt);
int dp_native_scan(struct dp_native *nt, uint16_t w, int chk_dirfd, const char *sub);
int dp_native_step(struct dp_native *nt, int chk_dirfd, size_t budget);
int dp_native_emit(struct dp_native *nt, uint16_t w, struct sl_ckpt_manifest *m);
void dp_native_abort(struct dp_native *nt);
void dp_ckpt_finish(struct dp *dp);
/*
 * Under sluiced (--coordinator sluiced): the checkpoint's task files are
 * durable ("acknowledged") and the dataplane waits for sluiced to write
 * the manifest and say so. dp_ckpt_await: 0 with *data (id, kind, path,
 * manifest) once id is acknowledged, 1 while it is not yet, <0 when it
 * failed or is unknown (msg says which). commit/abort end it.
 */
int dp_ckpt_await(struct dp *dp, uint64_t id, json_t **data, char *msg, size_t len);
int dp_ckpt_commit(struct dp *dp, uint64_t id, char *msg, size_t len);
int dp_ckpt_abort(struct dp *dp, uint64_t id, const char *why, char *msg, size_t len);
/* A checkpoint was acknowledged or ended: answer a waiting ckpt_await. */
void dp_ctl_ckpt_event(struct dp *dp);
void dp_ckpt_metrics(const struct dp *dp, json_t *o);
/* Trigger a checkpoint now (savepoint_dir NULL) or a savepoint; -ENOTSUP, -EBUSY. */
int dp_ckpt_request(struct dp *dp, const char *savepoint_dir, bool queue,
		    json_t **data, char *msg, size_t len);
/* Take a savepoint into dir, then stop without draining (Flink's stop-with-savepoint). */
int dp_ckpt_stop_with_savepoint(struct dp *dp, const char *dir, json_t **data,
				char *msg, size_t len);
/* main.c: two schemas with the same fields at the same places */
bool dp_schema_same(const struct sl_schema *a, const struct sl_schema *b);

/* stage2.c: a second keyed stage on the worker */
int dp_stage2_setup(struct dp *dp);
void dp_win_conf_stage(struct dp *dp, struct sl_win_conf *c, const int *key_field,
		       uint16_t n_keys, const struct sl_plan_agg *agg, uint16_t n_aggs);
int dp_worker_stage2_init(struct dp_worker *w);
void dp_worker_stage2_fini(struct dp_worker *w);
void dp_worker_stage2_advance(struct dp_worker *w, int64_t wm);
uint8_t *dp_worker_mid_row(void *ctx);
int dp_stage2_rings(struct dp *dp);
void dp_worker_stage2_apply(struct dp_worker *w, const struct sl_wm_out *o);
void dp_worker_stage2_finish(struct dp_worker *w);
void dp_worker_stage2_barrier(struct dp_worker *w, uint64_t id);
int dp_worker_stage2_restore(struct dp_worker *w, uint32_t lo, uint32_t hi);
unsigned int dp_worker_stage2_poll(struct dp_worker *w);
/* worker_loop.c, for stage2.c */
void dp_worker_res_ctl(struct dp_worker *w, enum sl_ctl_type type, int64_t ts);
void dp_worker_eoi(struct dp_worker *w);

/* The second keyed stage's rows cross between worker lcores. */
static inline bool
dp_stage2_multi(const struct dp *dp)
{
	return dp->plan->stage2.on && dp->n_workers > 1;
}

int dp_sink_write(struct dp *dp, const uint8_t *row);
/* With a map after the keyed stage: map and write the rows dp_sink_write
 * has gathered. Callers end every run of writes with it, before anything
 * that must follow those rows (a checkpoint's pre-commit). */
int dp_sink_write_end(struct dp *dp);
int dp_pending_add(struct dp_pending *pd, const uint8_t *rows, size_t n, uint16_t rs,
		   int64_t tag, const uint16_t *early);
/* Sort idx[0..n) (rows of schema s) by (window_start, the nk key fields). */
int dp_sink_sort(struct dp_sort *so, const struct sl_schema *s, uint16_t nk,
		 const uint8_t *rows, uint32_t *idx, size_t n);
void dp_sink_sort_free(struct dp_sort *so);

void dp_stats_print(const struct dp *dp);
int dp_stats_json(const struct dp *dp, const char *path);

#endif /* SL_DP_H */
