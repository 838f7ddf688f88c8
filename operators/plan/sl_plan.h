/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_PLAN_H
#define SL_PLAN_H

/**
 * @file
 * Job files (docs/job-spec.md): YAML parsed with libfyaml into a validated
 * plan. Every error names file:line:column and what was expected, and a
 * plan is either entirely valid or not returned: a job never starts
 * half-valid. EAL-free; fuzzed (tests/fuzz/job).
 */

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_udf.h"
#include "sl_vec.h"

struct sl_expr;

#define SL_PLAN_MAX_PANES 64	/**< sliding: size / slide at most (SL_WIN_MAX_PANES) */
#define SL_PLAN_MAX_FILTERS 8
#define SL_PLAN_MAX_MAP 32	/**< columns of a map step (SL_MAP_MAX_COLS) */
#define SL_PLAN_MAX_KEYS 8
#define SL_PLAN_MAX_SOURCES 4	/**< named sources of one job (sources:) */
#define SL_PLAN_MAX_AGGS 16
#define SL_PLAN_DEDUP_KEY_MAX 256	/**< dedup: key bytes at most (SL_DEDUP_KEY_MAX) */
#define SL_PLAN_TOPK_MAX (1u << 20)	/**< top_k: K at most (SL_TOPK_MAX) */
#define SL_PLAN_HLL_P_DEFAULT 14	/**< approx_count_distinct's P (sl_agg.h's default) */
#define SL_PLAN_MAX_EAL_ARGS 32
#define SL_PLAN_ARG_MAX 256
#define SL_PLAN_PATH_MAX 1024
#define SL_PLAN_SINK_UDP_PORT 9001	/**< ethdev sink: default UDP destination port */
#define SL_PLAN_ERR_MAX 1024
#define SL_PLAN_CPUS_MAX 128		/**< lcores.cpus text, NUL included */
#define SL_PLAN_CPU_SETSIZE 1024	/**< CPUs a cpu list may name: 0..1023 */

enum sl_src_type {
	SL_SRC_ETHDEV,		/**< a DPDK port: wire-format UDP packets */
	SL_SRC_CSV,		/**< CSV file with a header row */
	SL_SRC_CAPTURE,		/**< binary capture of wire payloads (.slc) */
	SL_SRC_GEN,		/**< in-process generator: sluice-gen write's rows (drivers/gen) */
};

enum sl_sink_type {
	SL_SINK_CSV,		/**< CSV file with a header row */
	SL_SINK_STDOUT,		/**< the same CSV on standard output */
	SL_SINK_ETHDEV,		/**< wire-format UDP packets out of the source's port */
};

enum sl_plan_agg_fn {
	SL_PLAN_AGG_COUNT,
	SL_PLAN_AGG_SUM,
	SL_PLAN_AGG_MIN,
	SL_PLAN_AGG_MAX,
	SL_PLAN_AGG_AVG,
	SL_PLAN_AGG_FIRST,		/**< the value of the window's first row (arrival order) */
	SL_PLAN_AGG_LAST,		/**< the value of its last row */
	SL_PLAN_AGG_COUNT_DISTINCT,	/**< exact distinct values of the field, u64 */
	SL_PLAN_AGG_APPROX_COUNT_DISTINCT,	/**< HyperLogLog estimate of them, u64 */
	SL_PLAN_AGG_UDF,		/**< the plan's user aggregate (udf_kind SLUICE_FN_AGGREGATE) */
};

enum sl_wm_emit {
	SL_WM_PERIODIC,		/**< every interval of processing time (Flink's default) */
	SL_WM_PUNCTUATED,	/**< after every packet (ethdev, capture) or line (CSV) */
};

/** Where a YAML node started, for errors found after parsing. */
struct sl_plan_pos {
	uint32_t line;		/**< 1-based */
	uint32_t col;		/**< 1-based */
};

/** type: gen -- the parameters of sluice-gen write, under their names. */
struct sl_plan_gen {
	bool unbounded;			/**< events: unbounded */
	uint64_t events;		/**< rows, then end of input (required) */
	uint64_t keys;			/**< distinct keys (default 100) */
	uint64_t seed;			/**< default 1 */
	int64_t start_ms;		/**< event time of row 0 (default 1700000000000) */
	uint64_t event_rate;		/**< rows per second of event time (default 1000) */
	uint64_t disorder;		/**< ms (default 0) */
	double late_fraction;		/**< default 0 */
	uint64_t late_ms;		/**< default 0; >= 1 with late_fraction */
	uint16_t batch;			/**< rows per batch, 1..256 (default 256): sluice-gen's --records-per-packet */
	uint16_t n_key;
	int key_field[SL_PLAN_MAX_KEYS];	/**< fields that get the key index */
};

struct sl_plan_source {
	enum sl_src_type type;
	char path[SL_PLAN_PATH_MAX];	/**< csv, capture */
	char port[SL_PLAN_ARG_MAX];	/**< ethdev: vdev spec ("net_pcap0,rx_pcap=x.pcap") or a device name/PCI address */
	uint16_t udp_port;		/**< ethdev: UDP destination port (default 9000) */
	uint16_t rx_queues;		/**< ethdev: queues, one RX lcore each (default 1) */
	uint32_t partitions;		/**< ethdev: partitions whose END ends the input (default 1; 0 = unbounded); gen: batch j goes to partition j % partitions (1..64) */
	uint64_t rate;			/**< csv, capture, gen: at most this many rows per second of wall time; 0 = as fast as possible */
	int ts_field;			/**< schema index of the event-time field */
	int64_t out_of_orderness_ms;	/**< bounded out-of-orderness B (>= 0) */
	int64_t idle_timeout_ms;	/**< 0: idleness detection off */
	enum sl_wm_emit emit;
	int64_t interval_ms;		/**< periodic emission interval (default 200) */
	struct sl_plan_gen gen;		/**< gen */
};

/** One source of the job: its name, schema, transport and watermark. */
struct sl_plan_input {
	char name[SL_NAME_MAX];		/**< the key under sources:, or "source" */
	struct sl_schema schema;
	struct sl_plan_source source;
};

enum sl_plan_join_kind {
	SL_PLAN_JOIN_NONE,
	SL_PLAN_JOIN_INTERVAL,		/**< interval: {lower, upper} (R7.1-R7.3) */
	SL_PLAN_JOIN_WINDOW,		/**< window: {tumbling | sliding, slide | session} (R7.4) */
	SL_PLAN_JOIN_MATCH,		/**< match: {timeout}: W7.3's order/payment */
	SL_PLAN_JOIN_ENRICH,		/**< enrich: {outer, ttl}: latest right row per key */
	SL_PLAN_JOIN_PROCESS,		/**< process: {plugin, function, ...}: a co_process function (udf_*) */
	SL_PLAN_JOIN_BROADCAST,		/**< broadcast: {outer}: the right rows on every worker */
	SL_PLAN_JOIN_TEMPORAL,		/**< temporal: {outer}: the right row's version at the left row's ts */
};

/** A pipeline's join step (operators/join, docs/operators.md). */
struct sl_plan_join {
	enum sl_plan_join_kind kind;
	uint16_t left, right;		/**< indices into sl_plan.inputs */
	uint16_t n_keys;
	int left_key[SL_PLAN_MAX_KEYS];	/**< field indices in the left schema */
	int right_key[SL_PLAN_MAX_KEYS];	/**< in the right one; same types */
	int64_t lower_ms, upper_ms;	/**< interval, as written */
	bool lower_exclusive, upper_exclusive;
	int64_t size_ms, offset_ms;	/**< window */
	int64_t slide_ms;		/**< window: 0 tumbling; else sliding every this */
	int64_t gap_ms;			/**< window: > 0 session windows of this gap (no size) */
	int64_t timeout_ms;		/**< match */
	bool outer;			/**< enrich, broadcast: keep rows with no right row */
	int64_t ttl_ms;			/**< enrich: state TTL, processing time; 0 none */
	/** The rows it writes: join_ts, the left's fields, the right's
	 * (a right field whose name is taken gets "<right>_" in front);
	 * process: the default of the function's (its own in udf_out). */
	struct sl_schema out;
};

struct sl_plan_agg {
	enum sl_plan_agg_fn fn;
	int field;			/**< schema index; -1 for count() */
	char out_name[SL_NAME_MAX];	/**< output column: "count", "sum_amount", or the 'as' name */
	uint8_t hll_p;			/**< approx_count_distinct: log2 registers, 4..16 (default 14) */
};

/**
 * A second keyed stage (Flink's keyBy(...).window(...).aggregate(...)
 * over a window's results, R9.1): key_by, window and aggregate again
 * after the first aggregate. Its rows are the first stage's results with
 * a column `window_time` (window_end - 1, the timestamp Flink gives a
 * window's result, R2.9, and Flink SQL's window_time), which is its event
 * time; the filters between the stages run on those rows. The first
 * window fires its final results once (event-time tumbling or sliding,
 * the default trigger, no allowed lateness), so the second one sees each
 * once and never late. For now one worker lcore runs both (the rows go
 * straight from the first window to the second, no re-partition) and the
 * job takes no checkpoints.
 */
struct sl_plan_stage2 {
	bool on;
	uint32_t line, col;		/**< its key_by, for errors found later */
	struct sl_schema in;		/**< the first stage's results + window_time */
	int ts_field;			/**< window_time */
	uint16_t n_filters;		/**< filters between the stages */
	char filter_text[SL_PLAN_MAX_FILTERS][SL_PLAN_ARG_MAX];
	uint16_t n_keys;
	int key_field[SL_PLAN_MAX_KEYS];	/**< indices into in */
	int64_t size_ms, slide_ms, offset_ms;	/**< slide 0: tumbling */
	uint16_t n_aggs;
	struct sl_plan_agg agg[SL_PLAN_MAX_AGGS];	/**< fields: indices into in */
};

struct sl_plan_sink {
	enum sl_sink_type type;
	char path[SL_PLAN_PATH_MAX];	/**< csv */
	uint16_t udp_port;		/**< ethdev: UDP destination port (default 9001) */
	uint16_t rpp;			/**< ethdev: records per packet at most (0: as many as fit 1472 bytes) */
};

struct sl_plan_lcores {
	uint16_t rx;			/**< RX lcores (= ethdev queues) */
	uint16_t workers;		/**< worker lcores */
	bool run_to_completion;		/**< one lcore does RX and work */
	char cpus[SL_PLAN_CPUS_MAX];	/**< lcores.cpus as written ("0-3"); "" = not given */
};

enum sl_restart_type {
	SL_RESTART_NONE,		/**< a crash fails the job */
	SL_RESTART_FIXED_DELAY,		/**< attempts, each after delay */
	SL_RESTART_EXPONENTIAL_DELAY,	/**< delay grows by multiplier up to max */
};

/** restart-strategy.* (Flink's names); applied by sluiced, not sluice-dp. */
struct sl_plan_restart {
	bool from_job;			/**< any restart-strategy.* key was given */
	enum sl_restart_type type;	/**< default fixed-delay */
	uint32_t fixed_attempts;	/**< default 3 */
	int64_t fixed_delay_ms;		/**< default 1s */
	int64_t exp_initial_ms;		/**< default 1s */
	int64_t exp_max_ms;		/**< default 1m */
	double exp_multiplier;		/**< > 1, default 2.0 */
	uint32_t exp_attempts;		/**< default 10 */
};

/** execution.checkpointing.* and state.checkpoints.* (Flink's names and defaults, R6.6). */
struct sl_plan_ckpt {
	int64_t interval_ms;		/**< 0: checkpointing off (the default) */
	bool at_least_once;		/**< mode AT_LEAST_ONCE; default EXACTLY_ONCE */
	bool unaligned;			/**< execution.checkpointing.unaligned; default false */
	int64_t timeout_ms;		/**< default 10 min */
	int64_t min_pause_ms;		/**< default 0 */
	uint32_t max_concurrent;	/**< default 1 */
	uint32_t tolerable_failures;	/**< default 0 */
	uint32_t num_retained;		/**< state.checkpoints.num-retained, default 1 */
	char dir[SL_PLAN_PATH_MAX];	/**< state.checkpoints.dir; required with an interval */
};

enum sl_plan_backend {
	SL_PLAN_BACKEND_HEAP,		/**< state.backend.type: heap (alias hashmap) */
	SL_PLAN_BACKEND_ROCKSDB,	/**< state.backend.type: rocksdb */
};

/** state.backend.* */
struct sl_plan_state {
	enum sl_plan_backend backend;
	uint64_t heap_memory;		/**< state.backend.heap.memory: per worker, default 128mb */
	char rocksdb_dir[SL_PLAN_PATH_MAX];	/**< state.backend.rocksdb.localdir; "" = a temporary dir */
	uint64_t rocksdb_block_cache;	/**< state.backend.rocksdb.block.cache-size, default 64mb */
	uint64_t rocksdb_write_buffer;	/**< state.backend.rocksdb.writebuffer.size, default 64mb */
	/** state.backend.incremental (or execution.checkpointing.incremental):
	 * rocksdb checkpoints are RocksDB checkpoints (hard-linked SST files,
	 * shared between checkpoints); heap ignores it, as Flink's hashmap
	 * backend does. Savepoints are always full. */
	bool incremental;
};

struct sl_plan {
	char name[SL_NAME_MAX];
	char file[SL_PLAN_PATH_MAX];	/**< where it came from, for messages */
	/** The first source (with a union, every source's: they are the
	 * same), as the single-source pipeline steps read it. */
	struct sl_schema schema;
	struct sl_plan_source source;

	/**
	 * Every source: one for `schema` + `source` (named "source"), or
	 * the entries of `sources:` in file order; inputs[0] is also in
	 * schema and source. Several sources need a pipeline that starts
	 * with a union (same schemas) or is one join.
	 */
	uint16_t n_inputs;
	struct sl_plan_input inputs[SL_PLAN_MAX_SOURCES];
	uint16_t n_union;		/**< 0, or the sources the union takes (all) */
	uint16_t union_input[SL_PLAN_MAX_SOURCES];
	struct sl_plan_join join;	/**< kind NONE: no join */

	/** Filters, in pipeline order, before key_by. Owned by the plan. */
	uint16_t n_filters;
	char filter_text[SL_PLAN_MAX_FILTERS][SL_PLAN_ARG_MAX];
	struct sl_expr *filter[SL_PLAN_MAX_FILTERS];

	/**
	 * A stateless pipeline: filters and at most one map, no key_by,
	 * window or aggregate. Its rows go to the sink as they come; the
	 * sink's columns are the map's (or the input's, without a map).
	 */
	bool stateless;
	uint16_t n_map;
	char map_name[SL_PLAN_MAX_MAP][SL_NAME_MAX];	/**< output columns */
	char map_text[SL_PLAN_MAX_MAP][SL_PLAN_ARG_MAX];	/**< a field or an expression */

	/**
	 * A map before key_by in a keyed pipeline (Flink's map() ahead of
	 * keyBy), chained to the source on the RX lcore: filters
	 * [0, n_src_filters) run on the source's rows (inputs[].schema),
	 * the map (n_map, map_name, map_text) then makes the rows the keyed
	 * stage gets, and the other filters run on those. schema and
	 * source.ts_field are the map's output here (key_by, the window,
	 * dedup, process and late_sink read them); the source's own schema
	 * and time field stay in inputs[]. The map copies the source's
	 * event-time field, which the keyed stage reads each row's time from.
	 */
	bool key_map;
	uint16_t n_src_filters;

	/**
	 * Steps after the keyed stage (the window's aggregate, dedup,
	 * process; with a second keyed stage, its aggregate) or after a join: filters over its result rows, run on
	 * the workers as the rows are made, then at most one map, run where
	 * the sink writes them (after the sink has ordered them by the
	 * stage's columns). stage_out is the stage's result schema the
	 * filters and the map were checked against; the sink's columns are
	 * the map's when there is one. Texts only: each lcore compiles its
	 * own.
	 */
	uint16_t n_post_filters;
	char post_filter_text[SL_PLAN_MAX_FILTERS][SL_PLAN_ARG_MAX];
	uint16_t n_post_map;
	char post_map_name[SL_PLAN_MAX_MAP][SL_NAME_MAX];
	char post_map_text[SL_PLAN_MAX_MAP][SL_PLAN_ARG_MAX];
	struct sl_schema stage_out;
	/** Filters after that map, over its columns (map_out), run where
	 * the sink writes, on the map's rows. */
	uint16_t n_final_filters;
	char final_filter_text[SL_PLAN_MAX_FILTERS][SL_PLAN_ARG_MAX];
	struct sl_schema map_out;
	struct sl_plan_stage2 stage2;

	uint16_t n_keys;
	int key_field[SL_PLAN_MAX_KEYS];	/**< schema indices of key_by */

	/** Tumbling event-time window; Flink's rule: |offset| < size. */
	int64_t window_size_ms;
	int64_t window_slide_ms;	/**< 0: tumbling; else sliding every this */
	int64_t window_offset_ms;
	int64_t window_lateness_ms;	/**< allowed_lateness (R3.1), >= 0 */
	uint64_t window_count_trigger;	/**< trigger: {count: N}; 0: event time */
	int64_t window_continuous_ms;	/**< trigger: {continuous: I}; 0: none */
	bool window_purge;		/**< trigger: {purge: true}: Flink's PurgingTrigger (R3.5) */
	/** window: {session: GAP}: Flink's EventTimeSessionWindows.withGap
	 * (R2.5); > 0 for session windows, whose size, slide and offset are 0 */
	int64_t window_gap_ms;
	/** window: {time: processing}: Flink's Tumbling/Sliding/Session
	 * ProcessingTimeWindows with ProcessingTimeTrigger, or a count or
	 * continuous trigger (R4.1): rows are assigned by the worker's clock,
	 * watermarks fire nothing, end of input fires every open window. No
	 * lateness, late_sink or top_k with it. false: event time. */
	bool window_processing_time;

	uint16_t n_aggs;
	struct sl_plan_agg agg[SL_PLAN_MAX_AGGS];

	/**
	 * top_k: {k: K, by: COLUMN, order: desc|asc}: of each window's
	 * results, only the K rows with the largest (asc: smallest) value of
	 * aggregate column `by`, ties by the key fields ascending (R9.2),
	 * with a `rank` column 1..K after the aggregates. Event-time
	 * tumbling or sliding windows with the default trigger and no
	 * allowed lateness. 0: no top_k.
	 */
	uint32_t topk_k;
	uint16_t topk_by;		/**< index into agg[] */
	bool topk_asc;			/**< order: asc */

	/**
	 * dedup: {within: D} (operators/dedup): > 0 in a dedup pipeline
	 * (filters, key_by, dedup; no window or aggregate). Its rows are
	 * the input rows, written in arrival order as a stateless
	 * pipeline's are; stateless is false (the rows are routed by key).
	 */
	int64_t dedup_within_ms;

	/**
	 * A user function (operators/udf, docs/udf.md); udf_kind is its
	 * enum sluice_fn_kind, 0 for none. SLUICE_FN_MAP, _FILTER and
	 * _FLAT_MAP make a stateless pipeline (filters, then the function);
	 * SLUICE_FN_PROCESS a keyed one (filters, key_by, process) whose
	 * rows are written as they come, as a dedup pipeline's. The plugin
	 * was loaded and the function set up once at load: udf_out is its
	 * output schema (the sink's columns), udf_side its side outputs.
	 * SLUICE_FN_AGGREGATE is one item of a window's aggregate list
	 * (SL_PLAN_AGG_UDF); its column type is the function's agg_type.
	 * SLUICE_FN_CO_PROCESS is a join's process (SL_PLAN_JOIN_PROCESS):
	 * udf_out its rows (join.out unless it declares columns), its side
	 * outputs rows of udf_out.
	 */
	uint32_t udf_kind;
	char plugins_dir[SL_PLAN_PATH_MAX];	/**< plugins: {dir: DIR} */
	char udf_plugin[SL_NAME_MAX];		/**< "builtin" or DIR/NAME.so */
	char udf_function[SL_NAME_MAX];
	uint16_t udf_n_params;
	struct sl_udf_param udf_param[SL_UDF_MAX_PARAMS];
	struct sl_schema udf_out;
	uint16_t udf_n_sides;
	char udf_side[SL_UDF_MAX_SIDES][SL_NAME_MAX];
	bool udf_unloaded;	/**< loaded with SL_PLAN_NO_PLUGINS: none of the above from the plugin */
	/** side_sink: {output: NAME, ...}: the tag of side output NAME,
	 * whose rows (input schema) go to late_sink's place (has_late_sink
	 * is set); other side outputs are counted and dropped. */
	int side_tag;

	struct sl_plan_sink sink;
	/** late_sink: the window's late side output (R3.2): the rows it
	 * drops as late, in the input schema. has_late_sink false: counted
	 * and dropped only. */
	bool has_late_sink;
	struct sl_plan_sink late_sink;
	struct sl_plan_lcores lcores;

	uint32_t max_parallelism;	/**< pipeline.max-parallelism (default 128) */
	uint16_t parallelism_default;	/**< parallelism.default; 0 = not given */
	/** Per-operator parallelism (a step's `parallelism:`, plan_parallel.c):
	 * the source chain's and the worker chain's, 0 where no step gave
	 * one; the worker chain's sets lcores.workers. */
	uint16_t par_source, par_workers;
	uint32_t par_source_line, par_source_col, par_workers_line, par_workers_col;
	struct sl_plan_restart restart;
	struct sl_plan_ckpt ckpt;
	uint32_t key_capacity;		/**< expected (window, key) entries per worker: pre-sizes heap tables (default 65536) */
	struct sl_plan_state state;

	uint16_t n_eal_args;		/**< extra EAL arguments, appended as given */
	char eal_args[SL_PLAN_MAX_EAL_ARGS][SL_PLAN_ARG_MAX];
};

/**
 * Parse and validate a job file.
 * @param path  the YAML file; relative paths inside it are kept as written
 *   (they are resolved against the working directory, like Flink's CLI).
 * @param err   on failure, "file:line:col: message" (NUL-terminated).
 * @return 0, or a negative errno (-EINVAL for an invalid job, -ENOENT ...).
 */
int sl_plan_load(const char *path, struct sl_plan *p, char *err,
		 size_t errlen);

/** The same from a buffer; name is used in messages in place of a path. */
int sl_plan_load_str(const char *name, const char *yaml, size_t len,
		     struct sl_plan *p, char *err, size_t errlen);

/**
 * Load flag: check the user-function steps' syntax and parameters but
 * load no plugin (no dlopen, no setup; builtin functions are still set
 * up): for sluiced, which must not run
 * a job's code in the daemon, and for the fuzzer. The plan then has
 * udf_unloaded set, no udf_out and unchecked side_sink outputs; the
 * dataplane loads the job again without it.
 */
#define SL_PLAN_NO_PLUGINS 0x1u

/** sl_plan_load and sl_plan_load_str with flags (SL_PLAN_NO_PLUGINS). */
int sl_plan_load_flags(const char *path, unsigned int flags, struct sl_plan *p,
		       char *err, size_t errlen);
int sl_plan_load_str_flags(const char *name, const char *yaml, size_t len,
			   unsigned int flags, struct sl_plan *p, char *err,
			   size_t errlen);

/** The defaults of restart-strategy.* when the job gives none. */
void sl_plan_restart_defaults(struct sl_plan_restart *r);

/** Name of a restart strategy type ("none", "fixed-delay", "exponential-delay"). */
const char *sl_plan_restart_name(enum sl_restart_type t);

/**
 * Parse a CPU list ("1", "0-3", "0,2-3") into a bit set of
 * SL_PLAN_CPU_SETSIZE bits.
 * @param why  on error, what is wrong (may be NULL).
 * @return 0, -EINVAL (syntax, a CPU named twice), -ERANGE (CPU >= SETSIZE).
 */
int sl_plan_cpus_parse(const char *list,
		       uint64_t set[SL_PLAN_CPU_SETSIZE / 64], char *why,
		       size_t whylen);

/**
 * The CPUs of a CPU list, ascending, as sluice-dp --cpus and sluicectl
 * info read them.
 * @return how many were written to cpus (at most max), or a negative errno.
 */
int sl_plan_cpus_list(const char *list, int *cpus, int max);

/** Free what a loaded plan owns (compiled filters). Safe on a zeroed plan. */
void sl_plan_free(struct sl_plan *p);

#endif /* SL_PLAN_H */
