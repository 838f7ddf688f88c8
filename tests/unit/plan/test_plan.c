/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: job-file parser (operators/plan). A full valid job is checked
 * field by field, defaults are checked per source type, and every invalid
 * job must fail with exactly one "name:line:col: message" and a zeroed plan.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_expr.h"
#include "sl_plan.h"

/* A small valid job, in parts, so each invalid case changes one thing. */
#define HEAD "job: j\n" \
	"schema: {k: u64, v: u32, ts: timestamp_ms, s: \"str[8]\", b: bool, f: f64}\n"
#define SRC "source: {type: csv, path: in.csv, timestamp: ts}\n"
#define PIPE "pipeline:\n" \
	"  - key_by: k\n" \
	"  - window: {tumbling: 1m}\n" \
	"  - aggregate: [count()]\n"
#define SINK "sink: {type: stdout}\n"
#define ETHSRC "source: {type: ethdev, port: net_null0, timestamp: ts}\n"
#define MAPPIPE "pipeline:\n" \
	"  - filter: \"v > 1\"\n" \
	"  - map: {k: k, twice: \"v * 2\", half: \"v / 2.0\", big: \"v > 9\", s: s}\n"

static int
load(const char *name, const char *yaml, struct sl_plan *p, char *err)
{
	return sl_plan_load_str(name, yaml, strlen(yaml), p, err,
				SL_PLAN_ERR_MAX);
}

static bool
plan_is_zero(const struct sl_plan *p)
{
	static const struct sl_plan zero;

	return memcmp(p, &zero, sizeof(zero)) == 0;
}

static const char full_job[] =
	"# every key, none left to its default\n"
	"job: clicks-per-user.v2\n"
	"schema:\n"
	"  user_id: u64\n"
	"  url_id: u32\n"
	"  ts: timestamp_ms\n"
	"  region: str[16]\n"
	"  score: f64\n"
	"  delta: i32\n"
	"  total: i64\n"
	"  ok: bool\n"
	"source:\n"
	"  type: ethdev\n"
	"  port: \"net_pcap0,rx_pcap=configs/samples/clicks.pcap\"\n"
	"  udp_port: 9100\n"
	"  queues: 2\n"
	"  partitions: 4\n"
	"  timestamp: ts\n"
	"  watermark:\n"
	"    out_of_orderness: 10s\n"
	"    idle_timeout: 1m\n"
	"    emit: periodic\n"
	"    interval: 250ms\n"
	"pipeline:\n"
	"  - filter: \"url_id != 0\"\n"
	"  - filter: score > 0.5\n"
	"  - key_by: [user_id, region]\n"
	"  - window: {tumbling: 1h, offset: -15m, allowed_lateness: 2m, trigger: {count: 5}}\n"
	"  - aggregate: [count(), sum(url_id), min(ts) as first_ts, max(ts), avg(score), sum(delta), first(delta), last(score) as ls]\n"
	"sink:\n"
	"  type: csv\n"
	"  path: out/clicks.csv\n"
	"lcores:\n"
	"  rx: 2\n"
	"  workers: 4\n"
	"  run_to_completion: false\n"
	"pipeline.max-parallelism: 256\n"
	"state.key-capacity: 1024\n"
	"state.backend.type: rocksdb\n"
	"state.backend.heap.memory: 1 gb\n"
	"state.backend.rocksdb.localdir: /var/tmp/rdb\n"
	"state.backend.rocksdb.block.cache-size: 32mb\n"
	"state.backend.rocksdb.writebuffer.size: 16777216\n"
	"eal: [\"--no-pci\", \"-m\", \"512\"]\n";

static void
test_full_job(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;
	const struct sl_schema *s = &p.schema;

	(void)state;
	assert_int_equal(load("full.yaml", full_job, &p, err), 0);
	assert_string_equal(err, "");
	assert_string_equal(p.name, "clicks-per-user.v2");
	assert_string_equal(p.file, "full.yaml");

	assert_int_equal(s->n_fields, 8);
	assert_string_equal(s->f[0].name, "user_id");
	assert_int_equal(s->f[0].type, SL_T_U64);
	assert_int_equal(s->f[1].type, SL_T_U32);
	assert_int_equal(s->f[2].type, SL_T_TS);
	assert_string_equal(s->f[3].name, "region");
	assert_int_equal(s->f[3].type, SL_T_STR);
	assert_int_equal(s->f[3].size, 16);
	assert_int_equal(s->f[4].type, SL_T_F64);
	assert_int_equal(s->f[5].type, SL_T_I32);
	assert_int_equal(s->f[6].type, SL_T_I64);
	assert_int_equal(s->f[7].type, SL_T_BOOL);
	assert_int_equal(s->row_size, 8 + 4 + 8 + 16 + 8 + 4 + 8 + 1);

	assert_int_equal(p.source.type, SL_SRC_ETHDEV);
	assert_string_equal(p.source.port,
			    "net_pcap0,rx_pcap=configs/samples/clicks.pcap");
	assert_string_equal(p.source.path, "");
	assert_int_equal(p.source.udp_port, 9100);
	assert_int_equal(p.source.rx_queues, 2);
	assert_int_equal(p.source.partitions, 4);
	assert_int_equal(p.source.ts_field, 2);
	assert_int_equal(p.source.out_of_orderness_ms, 10000);
	assert_int_equal(p.source.idle_timeout_ms, 60000);
	assert_int_equal(p.source.emit, SL_WM_PERIODIC);
	assert_int_equal(p.source.interval_ms, 250);

	assert_int_equal(p.n_filters, 2);
	assert_string_equal(p.filter_text[0], "url_id != 0");
	assert_string_equal(p.filter_text[1], "score > 0.5");
	assert_non_null(p.filter[0]);
	assert_non_null(p.filter[1]);
	assert_null(p.filter[2]);
	assert_int_equal(sl_expr_result_type(p.filter[0]), SL_EXPR_BOOL);

	assert_int_equal(p.n_keys, 2);
	assert_int_equal(p.key_field[0], 0);
	assert_int_equal(p.key_field[1], 3);

	assert_int_equal(p.window_size_ms, 3600000);
	assert_int_equal(p.window_offset_ms, -900000);
	assert_int_equal(p.window_lateness_ms, 120000);
	assert_int_equal(p.window_count_trigger, 5);

	assert_int_equal(p.n_aggs, 8);
	assert_int_equal(p.agg[0].fn, SL_PLAN_AGG_COUNT);
	assert_int_equal(p.agg[0].field, -1);
	assert_string_equal(p.agg[0].out_name, "count");
	assert_int_equal(p.agg[1].fn, SL_PLAN_AGG_SUM);
	assert_int_equal(p.agg[1].field, 1);
	assert_string_equal(p.agg[1].out_name, "sum_url_id");
	assert_int_equal(p.agg[2].fn, SL_PLAN_AGG_MIN);
	assert_int_equal(p.agg[2].field, 2);
	assert_string_equal(p.agg[2].out_name, "first_ts");
	assert_int_equal(p.agg[3].fn, SL_PLAN_AGG_MAX);
	assert_int_equal(p.agg[3].field, 2);
	assert_string_equal(p.agg[3].out_name, "max_ts");
	assert_int_equal(p.agg[4].fn, SL_PLAN_AGG_AVG);
	assert_int_equal(p.agg[4].field, 4);
	assert_string_equal(p.agg[4].out_name, "avg_score");
	assert_int_equal(p.agg[5].fn, SL_PLAN_AGG_SUM);
	assert_int_equal(p.agg[5].field, 5);
	assert_string_equal(p.agg[5].out_name, "sum_delta");
	assert_int_equal(p.agg[6].fn, SL_PLAN_AGG_FIRST);
	assert_int_equal(p.agg[6].field, 5);
	assert_string_equal(p.agg[6].out_name, "first_delta");
	assert_int_equal(p.agg[7].fn, SL_PLAN_AGG_LAST);
	assert_string_equal(p.agg[7].out_name, "ls");

	assert_int_equal(p.sink.type, SL_SINK_CSV);
	assert_string_equal(p.sink.path, "out/clicks.csv");

	assert_int_equal(p.lcores.rx, 2);
	assert_int_equal(p.lcores.workers, 4);
	assert_false(p.lcores.run_to_completion);
	assert_int_equal(p.max_parallelism, 256);
	assert_int_equal(p.key_capacity, 1024);
	assert_int_equal(p.state.backend, SL_PLAN_BACKEND_ROCKSDB);
	assert_int_equal(p.state.heap_memory, 1ull << 30);
	assert_string_equal(p.state.rocksdb_dir, "/var/tmp/rdb");
	assert_int_equal(p.state.rocksdb_block_cache, 32ull << 20);
	assert_int_equal(p.state.rocksdb_write_buffer, 16ull << 20);

	assert_int_equal(p.n_eal_args, 3);
	assert_string_equal(p.eal_args[0], "--no-pci");
	assert_string_equal(p.eal_args[1], "-m");
	assert_string_equal(p.eal_args[2], "512");

	sl_plan_free(&p);
	assert_null(p.filter[0]);
	assert_int_equal(p.n_filters, 0);
	sl_plan_free(&p);	/* twice is harmless */
}

/* csv source, stdout sink: every optional key at its default. */
static void
test_defaults_csv(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("d.yaml", HEAD SRC PIPE SINK, &p, err), 0);
	assert_string_equal(p.name, "j");
	assert_int_equal(p.source.type, SL_SRC_CSV);
	assert_string_equal(p.source.path, "in.csv");
	assert_string_equal(p.source.port, "");
	assert_int_equal(p.source.udp_port, 9000);
	assert_int_equal(p.source.rx_queues, 1);
	assert_int_equal(p.source.partitions, 1);
	assert_int_equal(p.source.ts_field, 2);
	assert_int_equal(p.source.out_of_orderness_ms, 0);
	assert_int_equal(p.source.idle_timeout_ms, 0);
	assert_int_equal(p.source.emit, SL_WM_PERIODIC);
	assert_int_equal(p.source.interval_ms, 200);
	assert_int_equal(p.n_filters, 0);
	assert_int_equal(p.n_keys, 1);
	assert_int_equal(p.key_field[0], 0);
	assert_int_equal(p.window_size_ms, 60000);
	assert_int_equal(p.window_offset_ms, 0);
	assert_int_equal(p.n_aggs, 1);
	assert_string_equal(p.agg[0].out_name, "count");
	assert_int_equal(p.sink.type, SL_SINK_STDOUT);
	assert_string_equal(p.sink.path, "");
	assert_int_equal(p.lcores.rx, 1);
	assert_int_equal(p.lcores.workers, 1);
	assert_false(p.lcores.run_to_completion);
	assert_int_equal(p.max_parallelism, 128);
	assert_int_equal(p.key_capacity, 65536);
	assert_int_equal(p.state.backend, SL_PLAN_BACKEND_HEAP);
	assert_int_equal(p.state.heap_memory, 128ull << 20);
	assert_string_equal(p.state.rocksdb_dir, "");
	assert_int_equal(p.n_eal_args, 0);
	sl_plan_free(&p);
}

/* ethdev: lcores.rx follows source.queues when not given. */
static void
test_defaults_ethdev(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("e.yaml", HEAD
			      "source: {type: ethdev, port: net_null0, queues: 3, partitions: 0, timestamp: v}\n"
			      PIPE SINK
			      "lcores: {workers: 2, run_to_completion: False}\n",
			      &p, err), 0);
	assert_int_equal(p.source.type, SL_SRC_ETHDEV);
	assert_string_equal(p.source.port, "net_null0");
	assert_int_equal(p.source.udp_port, 9000);
	assert_int_equal(p.source.rx_queues, 3);
	assert_int_equal(p.source.partitions, 0);
	assert_int_equal(p.source.ts_field, 1);
	assert_int_equal(p.lcores.rx, 3);
	assert_int_equal(p.lcores.workers, 2);
	sl_plan_free(&p);
}

static void
test_capture_punctuated(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("c.yaml", HEAD
			      "source:\n"
			      "  type: capture\n"
			      "  path: in.slc\n"
			      "  timestamp: ts\n"
			      "  watermark: {emit: punctuated, out_of_orderness: 0}\n"
			      "pipeline:\n"
			      "  - key_by: s\n"
			      "  - window: {tumbling: 1500ms, offset: 1499}\n"
			      "  - aggregate: max(f) as top\n"
			      SINK
			      "lcores: {run_to_completion: true}\n",
			      &p, err), 0);
	assert_int_equal(p.source.type, SL_SRC_CAPTURE);
	assert_string_equal(p.source.path, "in.slc");
	assert_int_equal(p.source.emit, SL_WM_PUNCTUATED);
	assert_int_equal(p.source.interval_ms, 200);
	assert_int_equal(p.key_field[0], 3);
	assert_int_equal(p.window_size_ms, 1500);
	assert_int_equal(p.window_slide_ms, 0);
	assert_int_equal(p.window_offset_ms, 1499);
	assert_int_equal(p.window_lateness_ms, 0);
	assert_int_equal(p.n_aggs, 1);
	assert_int_equal(p.agg[0].fn, SL_PLAN_AGG_MAX);
	assert_string_equal(p.agg[0].out_name, "top");
	assert_true(p.lcores.run_to_completion);
	sl_plan_free(&p);
}

/* count_distinct and approx_count_distinct: any field type, P 4..16,
 * default 14, beside the other aggregates, on any window. */
static void
test_distinct_aggregates(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("d.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {sliding: 1m, slide: 10s}\n"
			      "  - aggregate:\n"
			      "    - count()\n"
			      "    - count_distinct(s)\n"
			      "    - approx_count_distinct(v)\n"
			      "    - approx_count_distinct(f, 4) as h4\n"
			      "    - approx_count_distinct( b ,16 ) as h16\n"
			      "    - count_distinct(ts) as n_ts\n"
			      "    - sum(v)\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.n_aggs, 7);
	assert_int_equal(p.agg[1].fn, SL_PLAN_AGG_COUNT_DISTINCT);
	assert_int_equal(p.agg[1].field, 3);
	assert_int_equal(p.agg[1].hll_p, 0);
	assert_string_equal(p.agg[1].out_name, "count_distinct_s");
	assert_int_equal(p.agg[2].fn, SL_PLAN_AGG_APPROX_COUNT_DISTINCT);
	assert_int_equal(p.agg[2].field, 1);
	assert_int_equal(p.agg[2].hll_p, 14);
	assert_string_equal(p.agg[2].out_name, "approx_count_distinct_v");
	assert_int_equal(p.agg[3].fn, SL_PLAN_AGG_APPROX_COUNT_DISTINCT);
	assert_int_equal(p.agg[3].field, 5);
	assert_int_equal(p.agg[3].hll_p, 4);
	assert_string_equal(p.agg[3].out_name, "h4");
	assert_int_equal(p.agg[4].field, 4);
	assert_int_equal(p.agg[4].hll_p, 16);
	assert_string_equal(p.agg[4].out_name, "h16");
	assert_int_equal(p.agg[5].fn, SL_PLAN_AGG_COUNT_DISTINCT);
	assert_int_equal(p.agg[5].field, 2);
	assert_string_equal(p.agg[5].out_name, "n_ts");
	assert_int_equal(p.agg[6].fn, SL_PLAN_AGG_SUM);
	sl_plan_free(&p);
	/* Sessions merge them: quoted in a flow sequence. */
	assert_int_equal(load("d2.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {session: 30s, allowed_lateness: 2s}\n"
			      "  - aggregate: [count_distinct(v), \"approx_count_distinct(s, 12) as hs\"]\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.n_aggs, 2);
	assert_int_equal(p.agg[1].fn, SL_PLAN_AGG_APPROX_COUNT_DISTINCT);
	assert_int_equal(p.agg[1].hll_p, 12);
	assert_string_equal(p.agg[1].out_name, "hs");
	sl_plan_free(&p);
}

/* window: {session: GAP, allowed_lateness: L}. */
static void
test_session_window(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("s.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {session: 30s, allowed_lateness: 2s}\n"
			      "  - aggregate: [count(), sum(v), max(ts)]\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.window_gap_ms, 30000);
	assert_int_equal(p.window_size_ms, 0);
	assert_int_equal(p.window_slide_ms, 0);
	assert_int_equal(p.window_offset_ms, 0);
	assert_int_equal(p.window_lateness_ms, 2000);
	assert_int_equal(p.window_count_trigger, 0);
	assert_int_equal(p.window_continuous_ms, 0);
	assert_int_equal(p.n_aggs, 3);
	sl_plan_free(&p);
	/* first/last on sessions (arrival order across merges). */
	assert_int_equal(load("s.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {session: 30s}\n"
			      "  - aggregate: [first(v), last(f) as l]\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.agg[0].fn, SL_PLAN_AGG_FIRST);
	assert_int_equal(p.agg[1].fn, SL_PLAN_AGG_LAST);
	sl_plan_free(&p);
	/* CountTrigger on sessions, in event and processing time. */
	assert_int_equal(load("s.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {session: 30s, trigger: {count: 4}, allowed_lateness: 1s}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.window_count_trigger, 4);
	assert_int_equal(p.window_lateness_ms, 1000);
	sl_plan_free(&p);
	assert_int_equal(load("s.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {session: 30s, time: processing, trigger: {count: 2}}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.window_count_trigger, 2);
	assert_true(p.window_processing_time);
	sl_plan_free(&p);
	/* PurgingTrigger (R3.5): around the count trigger or the default. */
	assert_int_equal(load("s.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m, trigger: {count: 3, purge: true}}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.window_count_trigger, 3);
	assert_true(p.window_purge);
	sl_plan_free(&p);
	assert_int_equal(load("s.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m, allowed_lateness: 5s, trigger: {purge: true}}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.window_count_trigger, 0);
	assert_true(p.window_purge);
	sl_plan_free(&p);
	assert_int_equal(load("s.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {session: 30s, trigger: {purge: true}}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), -EINVAL);
	assert_string_equal(err, "s.yaml:6:45: purge: true is for tumbling and sliding windows with the event-time or a count trigger (Flink's PurgingTrigger); not with session windows");
	assert_int_equal(load("s.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m, trigger: {continuous: 1s, purge: true}}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), -EINVAL);
	assert_string_equal(err, "s.yaml:6:61: purge: true is for tumbling and sliding windows with the event-time or a count trigger (Flink's PurgingTrigger); not with a continuous trigger");
	assert_int_equal(load("s.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m, trigger: {purge: maybe}}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), -EINVAL);
	/* Continuous triggers on sessions (event and processing time). */
	assert_int_equal(load("s.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {session: 30s, trigger: {continuous: 5s}}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.window_continuous_ms, 5000);
	sl_plan_free(&p);
	assert_int_equal(load("s.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {session: 30s, time: processing, trigger: {continuous: 1s}}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.window_continuous_ms, 1000);
	assert_true(p.window_processing_time);
	sl_plan_free(&p);
}

/* window: {..., time: processing|event}; event time is the default. */
static void
test_processing_time_window(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("pt.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1s, time: processing}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), 0);
	assert_true(p.window_processing_time);
	assert_int_equal(p.window_size_ms, 1000);
	sl_plan_free(&p);
	assert_int_equal(load("pt.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {sliding: 10s, slide: 2s, offset: 1s, time: processing}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), 0);
	assert_true(p.window_processing_time);
	assert_int_equal(p.window_slide_ms, 2000);
	assert_int_equal(p.window_offset_ms, 1000);
	sl_plan_free(&p);
	/* A count trigger or ContinuousProcessingTimeTrigger in place of
	 * ProcessingTimeTrigger. */
	assert_int_equal(load("pt.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m, trigger: {count: 5}, time: processing}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), 0);
	assert_true(p.window_processing_time);
	assert_int_equal(p.window_count_trigger, 5);
	sl_plan_free(&p);
	assert_int_equal(load("pt.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {sliding: 1m, slide: 10s, time: processing, trigger: {continuous: 1s}}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), 0);
	assert_true(p.window_processing_time);
	assert_int_equal(p.window_continuous_ms, 1000);
	sl_plan_free(&p);
	/* ProcessingTimeSessionWindows.withGap (W4.1) */
	assert_int_equal(load("pt.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {session: 30s, time: processing}\n"
			      "  - aggregate: [count(), max(v)]\n"
			      SINK, &p, err), 0);
	assert_true(p.window_processing_time);
	assert_int_equal(p.window_gap_ms, 30000);
	assert_int_equal(p.window_size_ms, 0);
	sl_plan_free(&p);
	assert_int_equal(load("pt.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1s, time: event}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), 0);
	assert_false(p.window_processing_time);
	sl_plan_free(&p);
}

/* top_k: {k, by, order} after the aggregate (R9.2). */
static void
test_top_k(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("tk.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: [k, s]\n"
			      "  - window: {sliding: 10s, slide: 2s, allowed_lateness: 0s}\n"
			      "  - aggregate: [count(), sum(v) as total]\n"
			      "  - top_k: {k: 3, by: total}\n"
			      SINK, &p, err), 0);
	assert_false(p.stateless);
	assert_int_equal(p.topk_k, 3);
	assert_int_equal(p.topk_by, 1);
	assert_false(p.topk_asc);
	sl_plan_free(&p);
	assert_int_equal(load("tk.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m}\n"
			      "  - aggregate: [count(), avg(f)]\n"
			      "  - top_k: {by: avg_f, order: asc, k: 1048576}\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.topk_k, 1048576);
	assert_int_equal(p.topk_by, 1);
	assert_true(p.topk_asc);
	sl_plan_free(&p);
	assert_int_equal(load("tk.yaml", HEAD SRC PIPE SINK, &p, err), 0);
	assert_int_equal(p.topk_k, 0);
	sl_plan_free(&p);
}

/* filters, key_by [k, s], dedup: {within: 10s}: keyed, not stateless. */
static void
test_dedup(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("d.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - filter: \"v > 1\"\n"
			      "  - key_by: [k, s]\n"
			      "  - dedup: {within: 10s}\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.dedup_within_ms, 10000);
	assert_false(p.stateless);
	assert_int_equal(p.n_filters, 1);
	assert_int_equal(p.n_keys, 2);
	assert_int_equal(p.window_size_ms, 0);
	assert_int_equal(p.window_gap_ms, 0);
	assert_int_equal(p.n_aggs, 0);
	sl_plan_free(&p);
	/* Checkpoints, aligned, and rocksdb are fine. */
	assert_int_equal(load("d.yaml", HEAD SRC
			      "pipeline: [{key_by: k}, {dedup: {within: 250ms}}]\n"
			      SINK
			      "execution.checkpointing.interval: 100ms\n"
			      "state.checkpoints.dir: /tmp/ck\n"
			      "state.backend.type: rocksdb\n", &p, err), 0);
	assert_int_equal(p.dedup_within_ms, 250);
	sl_plan_free(&p);
}

/* type: gen: sluice-gen write's defaults, and every key given. */
static void
test_gen_source(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("gen", HEAD
			      "source: {type: gen, events: 1000, key: k, timestamp: ts}\n"
			      PIPE SINK, &p, err), 0);
	assert_int_equal(p.source.type, SL_SRC_GEN);
	assert_false(p.source.gen.unbounded);
	assert_int_equal(p.source.gen.events, 1000);
	assert_int_equal(p.source.gen.keys, 100);
	assert_int_equal(p.source.gen.seed, 1);
	assert_int_equal(p.source.gen.start_ms, 1700000000000LL);
	assert_int_equal(p.source.gen.event_rate, 1000);
	assert_int_equal(p.source.gen.disorder, 0);
	assert_true(p.source.gen.late_fraction == 0);
	assert_int_equal(p.source.gen.late_ms, 0);
	assert_int_equal(p.source.gen.batch, 256);
	assert_int_equal(p.source.partitions, 1);
	assert_int_equal(p.source.gen.n_key, 1);
	assert_int_equal(p.source.gen.key_field[0], 0);
	assert_int_equal(p.lcores.rx, 1);
	sl_plan_free(&p);

	assert_int_equal(load("gen2", HEAD
			      "source: {type: gen, events: unbounded, keys: 10000000, key: [s, k],\n"
			      "  seed: 9, start_ms: -60000, event_rate: 250000, disorder: 30,\n"
			      "  late_fraction: 0.25, late_ms: 700, batch: 72, partitions: 3, rate: 5000,\n"
			      "  timestamp: ts, watermark: {emit: punctuated}}\n"
			      PIPE SINK, &p, err), 0);
	assert_int_equal(p.source.type, SL_SRC_GEN);
	assert_true(p.source.gen.unbounded);
	assert_int_equal(p.source.gen.keys, 10000000);
	assert_int_equal(p.source.gen.n_key, 2);
	assert_int_equal(p.source.gen.key_field[0], 3);
	assert_int_equal(p.source.gen.key_field[1], 0);
	assert_int_equal(p.source.gen.seed, 9);
	assert_int_equal(p.source.gen.start_ms, -60000);
	assert_int_equal(p.source.gen.event_rate, 250000);
	assert_int_equal(p.source.gen.disorder, 30);
	assert_true(p.source.gen.late_fraction == 0.25);
	assert_int_equal(p.source.gen.late_ms, 700);
	assert_int_equal(p.source.gen.batch, 72);
	assert_int_equal(p.source.partitions, 3);
	assert_int_equal(p.source.rate, 5000);
	assert_int_equal(p.source.emit, SL_WM_PUNCTUATED);
	sl_plan_free(&p);
}

/* A stateless pipeline: filters and one map, no key_by/window/aggregate. */
static void
test_stateless(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("map", HEAD SRC MAPPIPE SINK, &p, err), 0);
	assert_true(p.stateless);
	assert_int_equal(p.n_filters, 1);
	assert_int_equal(p.n_keys, 0);
	assert_int_equal(p.n_map, 5);
	assert_string_equal(p.map_name[1], "twice");
	assert_string_equal(p.map_text[1], "v * 2");
	assert_string_equal(p.map_name[4], "s");
	assert_string_equal(p.map_text[4], "s");
	sl_plan_free(&p);

	/* Filters alone: the input rows as they are. */
	assert_int_equal(load("filters", HEAD SRC
			      "pipeline:\n  - filter: \"v > 1\"\n  - filter: \"b\"\n"
			      SINK, &p, err), 0);
	assert_true(p.stateless);
	assert_int_equal(p.n_filters, 2);
	assert_int_equal(p.n_map, 0);
	sl_plan_free(&p);

	assert_int_equal(load("keyed", HEAD SRC PIPE SINK, &p, err), 0);
	assert_false(p.stateless);
	sl_plan_free(&p);
}

/*
 * Pipeline composition (Flink's source -> filter -> map -> keyBy ->
 * window -> aggregate -> filter -> map): a map before key_by is the
 * schema the keyed stage sees, filters before it run on the source's
 * rows and after it on the map's; the steps after the aggregate see the
 * window's result columns (R2.9: keys, window_start, window_end, the
 * aggregates).
 */
static void
test_compose_steps(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("compose", HEAD SRC
			      "pipeline:\n"
			      "  - filter: \"v > 1\"\n"
			      "  - map: {user: k, at: ts, big: \"v > 9\", v2: \"v * 2\"}\n"
			      "  - filter: \"v2 < 100\"\n"
			      "  - key_by: [user, big]\n"
			      "  - window: {tumbling: 1m}\n"
			      "  - aggregate: [count() as n, sum(v2) as total]\n"
			      "  - filter: \"n > 3\"\n"
			      "  - filter: \"big\"\n"
			      "  - map: {user: user, end: window_end, avg: \"total / n\"}\n"
			      SINK, &p, err), 0);
	assert_false(p.stateless);
	assert_true(p.key_map);
	assert_int_equal(p.n_filters, 2);
	assert_int_equal(p.n_src_filters, 1);
	assert_int_equal(p.n_map, 4);
	/* the keyed stage's schema is the map's; its time field the copy of ts */
	assert_int_equal(p.schema.n_fields, 4);
	assert_string_equal(p.schema.f[p.source.ts_field].name, "at");
	assert_int_equal(p.schema.f[p.source.ts_field].type, SL_T_TS);
	assert_int_equal(p.schema.f[2].type, SL_T_BOOL);
	assert_int_equal(p.schema.f[3].type, SL_T_I64);
	assert_int_equal(p.n_keys, 2);
	assert_int_equal(p.key_field[0], 0);
	assert_int_equal(p.key_field[1], 2);
	/* the source's own schema and time field are kept for the RX lcore */
	assert_int_equal(p.inputs[0].schema.n_fields, 6);
	assert_string_equal(p.inputs[0].schema.f[p.inputs[0].source.ts_field].name, "ts");
	/* after the aggregate: user, big, window_start, window_end, n, total */
	assert_int_equal(p.n_post_filters, 2);
	assert_string_equal(p.post_filter_text[0], "n > 3");
	assert_int_equal(p.stage_out.n_fields, 6);
	assert_string_equal(p.stage_out.f[3].name, "window_end");
	assert_int_equal(p.stage_out.f[4].type, SL_T_U64);
	assert_int_equal(p.stage_out.f[5].type, SL_T_I64);
	assert_int_equal(p.n_post_map, 3);
	assert_string_equal(p.post_map_text[2], "total / n");
	assert_int_equal(p.n_final_filters, 0);
	sl_plan_free(&p);

	/* a filter after that map: over the map's columns */
	assert_int_equal(load("final", HEAD SRC
			      "pipeline:\n  - key_by: k\n  - window: {tumbling: 1m}\n"
			      "  - aggregate: [count() as n]\n"
			      "  - map: {k: k, twice: \"n * 2\"}\n  - filter: \"twice > 6\"\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.n_post_filters, 0);
	assert_int_equal(p.n_final_filters, 1);
	assert_string_equal(p.final_filter_text[0], "twice > 6");
	assert_int_equal(p.map_out.n_fields, 2);
	assert_int_equal(p.map_out.f[1].type, SL_T_I64);
	sl_plan_free(&p);

	/* dedup and a map after it: the stage's rows are its input's */
	assert_int_equal(load("dedup_after", HEAD SRC
			      "pipeline:\n  - key_by: k\n  - dedup: {within: 1s}\n"
			      "  - filter: \"v > 1\"\n  - map: {k: k, at: ts}\n"
			      SINK, &p, err), 0);
	assert_false(p.key_map);
	assert_int_equal(p.n_post_filters, 1);
	assert_int_equal(p.n_post_map, 2);
	assert_int_equal(p.stage_out.n_fields, 6);
	sl_plan_free(&p);
}

/*
 * A second keyed stage (R9.1): its rows are the first window's results
 * with window_time = window_end - 1 (R2.9) as their time; the filters
 * before its key_by run between the stages, those after it on its
 * results.
 */
static void
test_R9_1_second_keyed_stage(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("two", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 10s}\n"
			      "  - aggregate: [count() as n, sum(v) as sv]\n"
			      "  - filter: \"n > 3\"\n"
			      "  - key_by: n\n"
			      "  - window: {sliding: 1m, slide: 30s}\n"
			      "  - aggregate: [count() as users, sum(sv) as total, max(window_time) as last]\n"
			      "  - filter: \"users > 1\"\n"
			      "  - map: {n: n, window_end: window_end, users: users, total: total}\n"
			      SINK, &p, err), 0);
	assert_true(p.stage2.on);
	assert_int_equal(p.window_size_ms, 10000);
	assert_int_equal(p.n_aggs, 2);
	/* k, window_start, window_end, n, sv, window_time */
	assert_int_equal(p.stage2.in.n_fields, 6);
	assert_int_equal(p.stage2.ts_field, 5);
	assert_string_equal(p.stage2.in.f[5].name, "window_time");
	assert_int_equal(p.stage2.in.f[5].type, SL_T_TS);
	assert_int_equal(p.stage2.n_filters, 1);
	assert_string_equal(p.stage2.filter_text[0], "n > 3");
	assert_int_equal(p.stage2.n_keys, 1);
	assert_int_equal(p.stage2.key_field[0], 3);
	assert_int_equal(p.stage2.size_ms, 60000);
	assert_int_equal(p.stage2.slide_ms, 30000);
	assert_int_equal(p.stage2.n_aggs, 3);
	assert_int_equal(p.stage2.agg[1].field, 4);
	assert_int_equal(p.stage2.agg[2].field, 5);
	/* after it: n, window_start, window_end, users, total, last */
	assert_int_equal(p.n_post_filters, 1);
	assert_string_equal(p.post_filter_text[0], "users > 1");
	assert_int_equal(p.stage_out.n_fields, 6);
	assert_int_equal(p.stage_out.f[3].type, SL_T_U64);
	assert_int_equal(p.stage_out.f[4].type, SL_T_I64);
	assert_int_equal(p.stage_out.f[5].type, SL_T_TS);
	assert_int_equal(p.n_post_map, 4);
	sl_plan_free(&p);
}

/* The ethdev sink: its defaults and options. */
static void
test_ethdev_sink(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("eth", HEAD ETHSRC MAPPIPE "sink: {type: ethdev}\n", &p, err), 0);
	assert_int_equal(p.sink.type, SL_SINK_ETHDEV);
	assert_int_equal(p.sink.udp_port, 9001);
	assert_int_equal(p.sink.rpp, 0);
	sl_plan_free(&p);
	assert_int_equal(load("eth2", HEAD ETHSRC PIPE
			      "sink: {type: ethdev, udp_port: 7000, records_per_packet: 4}\n",
			      &p, err), 0);
	assert_int_equal(p.sink.udp_port, 7000);
	assert_int_equal(p.sink.rpp, 4);
	sl_plan_free(&p);
}

/* Every unit, a plain integer, and the edges of int64. */
static void
test_durations(void **state)
{
	static const struct {
		const char *text;
		int64_t ms;
	} ok[] = {
		{ "1500ms", 1500 }, { "2s", 2000 }, { "3m", 180000 },
		{ "4h", 14400000 }, { "1d", 86400000 }, { "250", 250 },
		{ "+7s", 7000 }, { "9223372036854775807ms", INT64_MAX },
		{ "9223372036854775s", 9223372036854775000 },
	};
	char yaml[1024], err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(yaml, sizeof(yaml), HEAD SRC
			 "pipeline: [{key_by: k}, {window: {tumbling: %s}}, {aggregate: [count()]}]\n"
			 SINK, ok[i].text);
		assert_int_equal(load("dur", yaml, &p, err), 0);
		assert_int_equal(p.window_size_ms, ok[i].ms);
		sl_plan_free(&p);
	}
	snprintf(yaml, sizeof(yaml), HEAD SRC
		 "pipeline: [{key_by: k}, {window: {tumbling: 9223372036854776s}}, {aggregate: [count()]}]\n"
		 SINK);
	assert_int_equal(load("dur", yaml, &p, err), -EINVAL);
	assert_string_equal(err, "dur:4:45: duration '9223372036854776s' is out of range");
	snprintf(yaml, sizeof(yaml), HEAD SRC
		 "pipeline: [{key_by: k}, {window: {tumbling: 1d, offset: -8h}}, {aggregate: [count()]}]\n"
		 SINK);
	assert_int_equal(load("dur", yaml, &p, err), 0);
	assert_int_equal(p.window_offset_ms, -8 * 3600000);
	sl_plan_free(&p);
	snprintf(yaml, sizeof(yaml), HEAD SRC
		 "pipeline: [{key_by: k}, {window: {tumbling: 10 s}}, {aggregate: [count()]}]\n"
		 SINK);
	assert_int_equal(load("dur", yaml, &p, err), -EINVAL);
	assert_string_equal(err, "dur:4:45: expected a duration like 10s or 250ms, got '10 s'");
}

/*
 * User functions: the builtin process function and the example plugins
 * (SL_PLUGINS_DIR, built by the build): what the plan keeps (kind,
 * function, parameters, the output schema from the function's setup,
 * side outputs), and what it refuses where (a plugin built against
 * another ABI version at its plugin key, with both versions).
 */
static void
test_udf_steps(void **state)
{
	const char *dir = getenv("SL_PLUGINS_DIR");
	char yaml[2048], err[SL_PLAN_ERR_MAX], want[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_non_null(dir);
	assert_int_equal(load("u.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - filter: \"v > 1\"\n"
			      "  - key_by: [k, s]\n"
			      "  - process: {function: count_with_timeout, timeout: 60s}\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.udf_kind, SLUICE_FN_PROCESS);
	assert_false(p.stateless);
	assert_string_equal(p.udf_plugin, "builtin");
	assert_string_equal(p.udf_function, "count_with_timeout");
	assert_int_equal(p.udf_n_params, 1);
	assert_string_equal(p.udf_param[0].name, "timeout");
	assert_string_equal(p.udf_param[0].value, "60s");
	assert_int_equal(p.udf_out.n_fields, 4);
	assert_string_equal(p.udf_out.f[0].name, "k");
	assert_string_equal(p.udf_out.f[1].name, "s");
	assert_int_equal(p.udf_out.f[1].size, 8);
	assert_string_equal(p.udf_out.f[2].name, "count");
	assert_string_equal(p.udf_out.f[3].name, "ts");
	sl_plan_free(&p);

	snprintf(yaml, sizeof(yaml), HEAD SRC "plugins: {dir: %s}\n"
		 "pipeline:\n  - filter: \"v > 1\"\n  - flat_map: {plugin: rowfns, function: bits, field: v}\n"
		 SINK, dir);
	assert_int_equal(load("u.yaml", yaml, &p, err), 0);
	assert_int_equal(p.udf_kind, SLUICE_FN_FLAT_MAP);
	assert_true(p.stateless);
	assert_int_equal(p.udf_out.n_fields, 7);
	assert_string_equal(p.udf_out.f[6].name, "bit");
	sl_plan_free(&p);

	snprintf(yaml, sizeof(yaml), HEAD SRC "plugins: {dir: %s}\n"
		 "pipeline:\n  - filter: {plugin: rowfns, function: modulo, field: v, m: 2, r: 1}\n"
		 SINK, dir);
	assert_int_equal(load("u.yaml", yaml, &p, err), 0);
	assert_int_equal(p.udf_kind, SLUICE_FN_FILTER);
	assert_int_equal(p.n_filters, 0);
	assert_int_equal(p.udf_out.row_size, p.schema.row_size);
	sl_plan_free(&p);

	snprintf(yaml, sizeof(yaml), HEAD SRC "plugins: {dir: %s}\n"
		 "pipeline:\n  - key_by: k\n  - process: {plugin: burst, function: burst, count: 3, within: 1s}\n"
		 SINK "side_sink: {output: late, type: csv, path: late.csv}\n", dir);
	assert_int_equal(load("u.yaml", yaml, &p, err), 0);
	assert_int_equal(p.udf_n_sides, 1);
	assert_int_equal(p.side_tag, 0);
	assert_true(p.has_late_sink);
	assert_string_equal(p.late_sink.path, "late.csv");
	sl_plan_free(&p);

	snprintf(yaml, sizeof(yaml), HEAD SRC "plugins: {dir: %s}\n"
		 "pipeline:\n  - key_by: k\n  - window: {session: 1s}\n"
		 "  - aggregate: [count(), {plugin: rowfns, function: range, field: v, as: v_range}]\n"
		 SINK, dir);
	assert_int_equal(load("u.yaml", yaml, &p, err), 0);
	assert_int_equal(p.udf_kind, SLUICE_FN_AGGREGATE);
	assert_int_equal(p.n_aggs, 2);
	assert_int_equal(p.agg[1].fn, SL_PLAN_AGG_UDF);
	assert_string_equal(p.agg[1].out_name, "v_range");
	assert_int_equal(p.udf_n_params, 1);
	assert_string_equal(p.udf_param[0].name, "field");
	sl_plan_free(&p);

	/* SL_PLAN_NO_PLUGINS (sluiced, the fuzzer): no plugin is opened, so
	 * one that does not exist passes; its side output is not checked;
	 * a builtin is still set up, and the syntax is checked as ever. */
	snprintf(yaml, sizeof(yaml), HEAD SRC "plugins: {dir: /nonexistent}\n"
		 "pipeline:\n  - key_by: k\n  - process: {plugin: nope, function: f, x: 1}\n"
		 SINK "side_sink: {output: any, type: csv, path: late.csv}\n");
	assert_int_equal(sl_plan_load_str_flags("u.yaml", yaml, strlen(yaml), SL_PLAN_NO_PLUGINS,
						&p, err, sizeof(err)), 0);
	assert_true(p.udf_unloaded);
	assert_int_equal(p.udf_kind, SLUICE_FN_PROCESS);
	assert_string_equal(p.udf_plugin, "nope");
	assert_int_equal(p.udf_out.n_fields, 0);
	sl_plan_free(&p);
	assert_int_equal(load("u.yaml", yaml, &p, err), -EINVAL);
	assert_non_null(strstr(err, "u.yaml:7:"));
	assert_int_equal(sl_plan_load_str_flags("u.yaml", HEAD SRC
						"pipeline:\n  - key_by: k\n"
						"  - process: {function: count_with_timeout, timeout: 60s}\n"
						SINK, strlen(HEAD SRC "pipeline:\n  - key_by: k\n"
							     "  - process: {function: count_with_timeout, timeout: 60s}\n"
							     SINK), SL_PLAN_NO_PLUGINS, &p, err, sizeof(err)), 0);
	assert_false(p.udf_unloaded);
	assert_int_equal(p.udf_out.n_fields, 3);
	sl_plan_free(&p);
	snprintf(yaml, sizeof(yaml), HEAD SRC "plugins: {dir: /nonexistent}\n"
		 "pipeline:\n  - key_by: k\n  - process: {plugin: nope}\n" SINK);
	assert_int_equal(sl_plan_load_str_flags("u.yaml", yaml, strlen(yaml), SL_PLAN_NO_PLUGINS,
						&p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "u.yaml:7:14: missing required key 'function' in process");

	/* refusals */
	snprintf(yaml, sizeof(yaml), HEAD SRC "plugins: {dir: %s}\n"
		 "pipeline:\n  - key_by: k\n  - window: {tumbling: 1s}\n"
		 "  - aggregate: [{plugin: rowfns, function: bits, field: v}]\n" SINK, dir);
	assert_int_equal(load("u.yaml", yaml, &p, err), -EINVAL);
	assert_string_equal(err, "u.yaml:8:44: function 'bits' of plugin 'rowfns' is a flat_map function, not an aggregate function");
	snprintf(yaml, sizeof(yaml), HEAD SRC "plugins: {dir: %s}\n"
		 "pipeline:\n  - key_by: k\n  - window: {tumbling: 1s, trigger: {count: 3}}\n"
		 "  - aggregate: [{plugin: rowfns, function: range, field: v}]\n" SINK, dir);
	assert_int_equal(load("u.yaml", yaml, &p, err), -EINVAL);
	assert_string_equal(err, "u.yaml:8:17: user aggregates are not supported with a count or continuous trigger yet");
	snprintf(yaml, sizeof(yaml), HEAD SRC "plugins: {dir: %s}\n"
		 "pipeline:\n  - key_by: k\n  - window: {tumbling: 1s}\n"
		 "  - aggregate: [{plugin: rowfns, function: range, field: v, as: k}]\n" SINK, dir);
	assert_int_equal(load("u.yaml", yaml, &p, err), -EINVAL);
	assert_string_equal(err, "u.yaml:8:65: output column 'k' collides with a key_by field");
	snprintf(yaml, sizeof(yaml), HEAD SRC "plugins: {dir: %s}\n"
		 "pipeline:\n  - map: {plugin: abi_next, function: f}\n" SINK, dir);
	assert_int_equal(load("u.yaml", yaml, &p, err), -EINVAL);
	snprintf(want, sizeof(want),
		 "u.yaml:6:19: plugin %s/abi_next.so was built against UDF ABI version %u, this sluice expects version %u: rebuild it against this sluice's sluice/udf.h",
		 dir, SLUICE_UDF_ABI_VERSION + 1, SLUICE_UDF_ABI_VERSION);
	assert_string_equal(err, want);
	snprintf(yaml, sizeof(yaml), HEAD SRC "plugins: {dir: %s}\n"
		 "pipeline:\n  - map: {plugin: rowfns, function: bits, field: v}\n" SINK, dir);
	assert_int_equal(load("u.yaml", yaml, &p, err), -EINVAL);
	assert_string_equal(err, "u.yaml:6:37: function 'bits' of plugin 'rowfns' is a flat_map function, not a map function");
	snprintf(yaml, sizeof(yaml), HEAD SRC "plugins: {dir: %s}\n"
		 "pipeline:\n  - flat_map: {plugin: rowfns, function: bits, field: nope}\n" SINK, dir);
	assert_int_equal(load("u.yaml", yaml, &p, err), -EINVAL);
	assert_string_equal(err, "u.yaml:6:42: function 'bits': field is not a column of the input");
	snprintf(yaml, sizeof(yaml), HEAD SRC "plugins: {dir: %s}\n"
		 "pipeline:\n  - filter: {plugin: rowfns, function: modulo, field: v, m: 2, r: 1}\n"
		 "  - map: {plugin: rowfns, function: bucket, field: ts, width: 1s}\n" SINK, dir);
	assert_int_equal(load("u.yaml", yaml, &p, err), -EINVAL);
	assert_string_equal(err, "u.yaml:7:5: map after a filter function is not supported yet; a stateless pipeline has at most one map or function");
	snprintf(yaml, sizeof(yaml), HEAD SRC "plugins: {dir: %s}\n"
		 "pipeline:\n  - flat_map: {plugin: rowfns, function: bits, field: v}\n"
		 "  - filter: \"v > 1\"\n" SINK, dir);
	assert_int_equal(load("u.yaml", yaml, &p, err), -EINVAL);
	assert_string_equal(err, "u.yaml:7:5: filter after flat_map is not supported yet; filter on the input's fields before it");
	snprintf(yaml, sizeof(yaml), HEAD SRC "plugins: {dir: %s}\n"
		 "pipeline:\n  - key_by: k\n  - process: {plugin: nope, function: f}\n" SINK, dir);
	assert_int_equal(load("u.yaml", yaml, &p, err), -EINVAL);
	snprintf(want, sizeof(want), "u.yaml:7:23: plugin %s/nope.so: No such file or directory (plugins.dir is resolved against the working directory)", dir);
	assert_string_equal(err, want);
}

struct bad_case {
	const char *name;
	bool prefix;		/* filter errors: the text after the position is sl_expr's */
	const char *yaml;
	const char *err;
};

static const struct bad_case bad_cases[] = {
	{ "topk_before_aggregate", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n  - window: {tumbling: 1m}\n  - top_k: {k: 2, by: count}\n  - aggregate: [count()]\n"
	  SINK,
	  "topk_before_aggregate:7:5: top_k must come after aggregate: it ranks a window's aggregated rows" },
	{ "topk_twice", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count()]\n  - top_k: {k: 2, by: count}\n  - top_k: {k: 3, by: count}\n"
	  SINK,
	  "topk_twice:9:5: duplicate top_k; a pipeline has at most one" },
	{ "topk_no_key_by", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - top_k: {k: 2, by: count}\n"
	  SINK,
	  "topk_no_key_by:5:3: pipeline has no key_by; expected filters, then key_by, window and aggregate" },
	{ "topk_missing_k", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count()]\n  - top_k: {by: count}\n"
	  SINK,
	  "topk_missing_k:8:12: missing required key 'k' in top_k" },
	{ "topk_k_zero", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count()]\n  - top_k: {k: 0, by: count}\n"
	  SINK,
	  "topk_k_zero:8:16: top_k k must be 1..1048576, got 0" },
	{ "topk_unknown_key", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count()]\n  - top_k: {k: 2, by: count, limit: 3}\n"
	  SINK,
	  "topk_unknown_key:8:30: unknown key 'limit' in top_k; expected one of: k, by, order" },
	{ "topk_by_unknown", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count(), sum(v) as total]\n  - top_k: {k: 2, by: v}\n"
	  SINK,
	  "topk_by_unknown:8:23: top_k by: 'v' is not an aggregate column; expected one of: count, total" },
	{ "topk_order_bad", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count()]\n  - top_k: {k: 2, by: count, order: up}\n"
	  SINK,
	  "topk_order_bad:8:37: unknown top_k order 'up'; expected one of: desc, asc" },
	{ "topk_lateness", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n  - window: {tumbling: 1m, allowed_lateness: 5s}\n  - aggregate: [count()]\n  - top_k: {k: 2, by: count}\n"
	  SINK,
	  "topk_lateness:8:5: top_k with allowed_lateness (5000 ms) is not supported: a late firing would change a ranking already written (semantics.md R9.3); set allowed_lateness to 0 or remove it (late rows are then dropped, or go to late_sink)" },
	{ "topk_session", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n  - window: {session: 5s}\n  - aggregate: [count()]\n  - top_k: {k: 2, by: count}\n"
	  SINK,
	  "topk_session:8:5: top_k over session windows is not supported: each key's sessions have their own bounds, so there is no common window to rank (Flink's Window Top-N takes tumbling and sliding windows)" },
	{ "topk_ptime", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n  - window: {tumbling: 1s, time: processing}\n  - aggregate: [count()]\n  - top_k: {k: 2, by: count}\n"
	  SINK,
	  "topk_ptime:8:5: top_k with time: processing is not supported: each worker writes its processing-time windows as they fire, so a window's rows are never gathered to rank; use event time" },
	{ "topk_trigger", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n  - window: {tumbling: 1m, trigger: {count: 3}}\n  - aggregate: [count()]\n  - top_k: {k: 2, by: count}\n"
	  SINK,
	  "topk_trigger:8:5: top_k ranks each window's final results once, and a count trigger fires windows early; remove the window's trigger" },
	{ "topk_rank_name", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count() as rank]\n  - top_k: {k: 2, by: rank}\n"
	  SINK,
	  "topk_rank_name:8:5: top_k adds a column 'rank', and an aggregate has that name; rename it with 'as'" },
	{ "topk_with_dedup", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n  - dedup: {within: 1s}\n  - top_k: {k: 2, by: count}\n"
	  SINK,
	  "topk_with_dedup:7:5: top_k after dedup is not supported yet; a dedup pipeline is filters, key_by and dedup, and writes the rows it keeps" },
	{ "topk_with_process", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n" "  - process: {function: count_with_timeout, timeout: 1s}\n" "  - top_k: {k: 2, by: count}\n"
	  SINK,
	  "topk_with_process:7:5: top_k and process in one pipeline are not supported yet; a process pipeline is filters, key_by and process" },
	{ "process_no_key_by", false,
	  HEAD SRC
	  "pipeline:\n" "  - process: {function: count_with_timeout, timeout: 1s}\n"
	  SINK,
	  "process_no_key_by:5:5: process needs a key_by before it: a process function's state and timers are per key" },
	{ "process_before_key_by", false,
	  HEAD SRC
	  "pipeline:\n  - process: {function: count_with_timeout, timeout: 1s}\n  - key_by: k\n"
	  SINK,
	  "process_before_key_by:5:5: process must come after key_by" },
	{ "process_with_window", false,
	  HEAD SRC PIPE "  - process: {function: count_with_timeout, timeout: 1s}\n"
	  SINK,
	  "process_with_window:6:5: window and process in one pipeline are not supported yet; a process pipeline is filters, key_by and process" },
	{ "process_unknown_fn", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - process: {function: nope}\n"
	  SINK,
	  "process_unknown_fn:6:25: plugin 'builtin' has no function 'nope'; it has: count_with_timeout (process)" },
	{ "process_no_timeout", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - process: {function: count_with_timeout}\n"
	  SINK,
	  "process_no_timeout:6:25: function 'count_with_timeout': count_with_timeout needs timeout: a duration > 0 (e.g. 60s)" },
	{ "process_bad_param", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - process: {function: count_with_timeout, timeout: 1s, timout: 2s}\n"
	  SINK,
	  "process_bad_param:6:58: function 'count_with_timeout' takes no parameter 'timout'" },
	{ "process_twice", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n" "  - process: {function: count_with_timeout, timeout: 1s}\n" "  - process: {function: count_with_timeout, timeout: 1s}\n"
	  SINK,
	  "process_twice:7:5: duplicate process; a pipeline has at most one" },
	{ "process_param_seq", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - process: {function: count_with_timeout, timeout: [1s]}\n"
	  SINK,
	  "process_param_seq:6:54: expected a scalar for 'a function parameter', got a sequence" },
	{ "process_not_map", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - process: count_with_timeout\n"
	  SINK,
	  "process_not_map:6:14: expected a mapping for 'process', got a scalar" },
	{ "map_plugin_no_dir", false,
	  HEAD SRC
	  "pipeline:\n  - map: {plugin: rowfns, function: bits}\n"
	  SINK,
	  "map_plugin_no_dir:5:19: plugin 'rowfns' needs plugins: {dir: DIR} in the job, the directory of rowfns.so" },
	{ "flat_map_no_plugin", false,
	  HEAD SRC
	  "pipeline:\n  - flat_map: {function: bits}\n"
	  SINK,
	  "flat_map_no_plugin:5:15: flat_map with a user function needs plugin: NAME (the file DIR/NAME.so of plugins: {dir: DIR}) and function: NAME" },
	{ "flat_map_keyed", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - flat_map: {plugin: rowfns, function: bits}\n" "  - process: {function: count_with_timeout, timeout: 1s}\n"
	  SINK,
	  "flat_map_keyed:6:5: flat_map in a keyed pipeline is not supported yet; flat_map belongs to pipelines of filters and one function (no key_by, window or aggregate)" },
	{ "side_sink_no_process", false,
	  HEAD SRC PIPE SINK
	  "side_sink: {output: late, type: csv, path: l.csv}\n",
	  "side_sink_no_process:9:12: side_sink takes a process function's side output, and this pipeline has no process step" },
	{ "side_sink_unknown_output", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n" "  - process: {function: count_with_timeout, timeout: 1s}\n"
	  SINK
	  "side_sink: {output: late, type: csv, path: l.csv}\n",
	  "side_sink_unknown_output:8:21: function 'count_with_timeout' has no side output 'late' (it declares none)" },
	{ "late_sink_process", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n" "  - process: {function: count_with_timeout, timeout: 1s}\n"
	  SINK
	  "late_sink: {type: csv, path: l.csv}\n",
	  "late_sink_process:8:12: late_sink takes the rows a window drops as late, and this pipeline has no window; a process function's side output goes to side_sink: {output: NAME, ...}" },
	{ "unaligned_process", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n" "  - process: {function: count_with_timeout, timeout: 1s}\n"
	  SINK
	  "execution.checkpointing.interval: 1s\n"
	  "state.checkpoints.dir: /tmp/ck\n"
	  "execution.checkpointing.unaligned: true\n",
	  "unaligned_process:10:36: unaligned checkpoints are not supported with process yet (its in-flight rows would have to be replayed into the sink); leave it aligned" },
	{ "plugins_scalar", false,
	  HEAD SRC
	  "plugins: here\n"
	  "pipeline:\n  - key_by: k\n" "  - process: {function: count_with_timeout, timeout: 1s}\n"
	  SINK,
	  "plugins_scalar:4:10: expected a mapping for 'plugins', got a scalar" },
	{ "plugins_unknown_key", false,
	  HEAD SRC
	  "plugins: {path: x}\n"
	  "pipeline:\n  - key_by: k\n" "  - process: {function: count_with_timeout, timeout: 1s}\n"
	  SINK,
	  "plugins_unknown_key:4:11: unknown key 'path' in plugins; expected one of: dir" },
	{ "dedup_no_key_by", false,
	  HEAD SRC
	  "pipeline:\n  - dedup: {within: 10s}\n"
	  SINK,
	  "dedup_no_key_by:5:5: dedup needs a key_by before it: rows are deduplicated per key" },
	{ "dedup_before_key_by", false,
	  HEAD SRC
	  "pipeline:\n  - dedup: {within: 10s}\n  - key_by: k\n"
	  SINK,
	  "dedup_before_key_by:5:5: dedup must come after key_by" },
	{ "dedup_bad_duration", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - dedup: {within: ten}\n"
	  SINK,
	  "dedup_bad_duration:6:21: expected a duration like 10s or 250ms, got 'ten'" },
	{ "dedup_negative", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - dedup: {within: -1s}\n"
	  SINK,
	  "dedup_negative:6:21: dedup within must be > 0, got -1s" },
	{ "dedup_zero", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - dedup: {within: 0ms}\n"
	  SINK,
	  "dedup_zero:6:21: dedup within must be > 0, got 0ms" },
	{ "dedup_unknown_key", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - dedup: {within: 1s, keep: last}\n"
	  SINK,
	  "dedup_unknown_key:6:25: unknown key 'keep' in dedup; expected one of: within" },
	{ "dedup_no_within", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - dedup: {}\n"
	  SINK,
	  "dedup_no_within:6:12: missing required key 'within' in dedup" },
	{ "dedup_not_mapping", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - dedup: 10s\n"
	  SINK,
	  "dedup_not_mapping:6:12: expected a mapping for 'dedup', got a scalar" },
	{ "dedup_window_after", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - dedup: {within: 1s}\n  - window: {tumbling: 1m}\n  - aggregate: [count()]\n"
	  SINK,
	  "dedup_window_after:7:5: window after dedup is not supported yet; a dedup pipeline is filters, key_by and dedup, and writes the rows it keeps" },
	{ "dedup_aggregate_after", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - dedup: {within: 1s}\n  - aggregate: [count()]\n"
	  SINK,
	  "dedup_aggregate_after:7:5: aggregate after dedup is not supported yet; a dedup pipeline is filters, key_by and dedup, and writes the rows it keeps" },
	{ "dedup_window_before", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - window: {tumbling: 1m}\n  - dedup: {within: 1s}\n"
	  SINK,
	  "dedup_window_before:6:5: window and dedup in one pipeline are not supported yet; a dedup pipeline is filters, key_by and dedup" },
	{ "dedup_key_too_long", false,
	  "job: j\nschema: {a: \"str[200]\", b: \"str[100]\", ts: timestamp_ms}\n" SRC
	  "pipeline:\n  - key_by: [a, b]\n  - dedup: {within: 1s}\n"
	  SINK,
	  "dedup_key_too_long:6:12: dedup's key fields take 300 bytes, at most 256; key_by fewer or shorter fields" },
	{ "dedup_twice", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - dedup: {within: 1s}\n  - dedup: {within: 2s}\n"
	  SINK,
	  "dedup_twice:7:5: duplicate dedup; a pipeline has at most one" },
	{ "dedup_map", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - dedup: {within: 1s}\n  - map: {k: k, w: window_end}\n"
	  SINK,
	  "dedup_map:7:20: map: w: unknown field 'window_end'; fields are: k, v, ts, s, b, f" },
	{ "dedup_late_sink", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - dedup: {within: 1s}\n"
	  SINK
	  "late_sink: {type: csv, path: late.csv}\n",
	  "dedup_late_sink:8:12: late_sink takes the rows a window drops as late, and this pipeline has no window" },
	{ "dedup_unaligned", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - dedup: {within: 1s}\n"
	  SINK
	  "execution.checkpointing.interval: 1s\n"
	  "state.checkpoints.dir: /tmp/ck\n"
	  "execution.checkpointing.unaligned: true\n",
	  "dedup_unaligned:10:36: unaligned checkpoints are not supported with dedup yet (its in-flight rows would have to be replayed into the sink); leave it aligned" },
	{ "map_keyed", false,
	  HEAD SRC
	  "pipeline:\n  - map: {k: k}\n  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count()]\n"
	  SINK,
	  "map_keyed:5:10: a map before key_by must keep the event-time field 'ts' as it is (add 'ts: ts'): the keyed stage reads each row's time from it" },
	{ "map_filter_after", false,
	  HEAD SRC
	  "pipeline:\n  - map: {k: k}\n  - filter: \"k > 1\"\n"
	  SINK,
	  "map_filter_after:6:5: filter after map is not supported yet; filter on the input's fields before it" },
	{ "map_twice", false,
	  HEAD SRC
	  "pipeline:\n  - map: {k: k}\n  - map: {v: v}\n"
	  SINK,
	  "map_twice:6:5: duplicate map; a pipeline has at most one before key_by (give all the columns in one)" },
	{ "map_dup_col", false,
	  HEAD SRC
	  "pipeline:\n  - map: {a: k, a: v}\n"
	  SINK,
	  "map_dup_col:5:17: duplicate key 'a'" },
	{ "map_bad_expr", false,
	  HEAD SRC
	  "pipeline:\n  - map: {a: \"v * nope\"}\n"
	  SINK,
	  "map_bad_expr:5:19: map: a: unknown field 'nope'; fields are: k, v, ts, s, b, f" },
	{ "map_not_mapping", false,
	  HEAD SRC
	  "pipeline:\n  - map: [k, v]\n"
	  SINK,
	  "map_not_mapping:5:10: map needs a mapping of output columns: {name: field or expression, ...}" },
	{ "map_late_sink", false,
	  HEAD SRC MAPPIPE SINK
	  "late_sink: {type: csv, path: late.csv}\n",
	  "map_late_sink:8:12: late_sink takes the rows a window drops as late, and this pipeline has no window" },
	{ "map_unaligned", false,
	  HEAD SRC MAPPIPE SINK
	  "execution.checkpointing.interval: 1s\nstate.checkpoints.dir: /tmp/x\nexecution.checkpointing.unaligned: true\n",
	  "map_unaligned:10:36: unaligned checkpoints are for keyed pipelines; a stateless one has no state for in-flight rows to join (leave it aligned)" },
	{ "ckpt_no_dir", false,
	  HEAD SRC PIPE SINK
	  "execution.checkpointing.interval: 1s\n",
	  "ckpt_no_dir:9:35: execution.checkpointing.interval needs state.checkpoints.dir" },
	{ "ckpt_bad_mode", false,
	  HEAD SRC PIPE SINK
	  "execution.checkpointing.mode: SOMETIMES\n",
	  "ckpt_bad_mode:9:31: execution.checkpointing.mode must be EXACTLY_ONCE or AT_LEAST_ONCE, got 'SOMETIMES'" },
	{ "ckpt_unaligned_alo", false,
	  HEAD SRC PIPE SINK
	  "execution.checkpointing.mode: AT_LEAST_ONCE\nexecution.checkpointing.unaligned: true\n",
	  "ckpt_unaligned_alo:10:36: unaligned checkpoints need execution.checkpointing.mode EXACTLY_ONCE (AT_LEAST_ONCE never aligns)" },
	{ "ckpt_unaligned_word", false,
	  HEAD SRC PIPE SINK
	  "execution.checkpointing.unaligned.enabled: sometimes\n",
	  "ckpt_unaligned_word:9:44: expected true or false for 'execution.checkpointing.unaligned.enabled', got 'sometimes'" },
	{ "ckpt_tiny_interval", false,
	  HEAD SRC PIPE SINK
	  "execution.checkpointing.interval: 1ms\nstate.checkpoints.dir: /tmp/x\n",
	  "ckpt_tiny_interval:9:35: execution.checkpointing.interval must be >= 10ms, got 1ms" },
	{ "ckpt_retained", false,
	  HEAD SRC PIPE SINK
	  "state.checkpoints.num-retained: 0\n",
	  "ckpt_retained:9:33: state.checkpoints.num-retained must be 1..1000, got 0" },
	{ "unknown_key_source", false,
	  HEAD
	  "source: {type: csv, path: in.csv, timestamp: ts, prot: 1}\n"
	  PIPE
	  SINK,
	  "unknown_key_source:3:50: unknown key 'prot' in source; expected one of: type, port, udp_port, queues, partitions, path, rate, timestamp, watermark" },
	{ "unknown_key_top", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "sinks: 1\n",
	  "unknown_key_top:9:1: unknown key 'sinks'; did you mean 'sink'? (docs/job-spec.md lists every key)" },
	{ "duplicate_key_top", false,
	  "job: a\n"
	  "job: b\n",
	  "duplicate_key_top:2:1: duplicate key 'job'" },
	{ "duplicate_key_nested", false,
	  HEAD
	  "source:\n"
	  "  type: csv\n"
	  "  path: a\n"
	  "  path: b\n"
	  PIPE
	  SINK,
	  "duplicate_key_nested:6:3: duplicate key 'path'" },
	{ "yaml_syntax", false,
	  "job: [a\n",
	  "yaml_syntax:2:1: invalid YAML: flow sequence without a closing bracket" },
	{ "yaml_tab_syntax", false,
	  "job: a\n"
	  "\tschema: x\n",
	  "yaml_tab_syntax:1:6: invalid YAML: invalid multiline plain key" },
	{ "empty_file", false,
	  "",
	  "empty_file:1:1: empty job file; expected a mapping with job, schema, source, pipeline and sink" },
	{ "top_not_mapping", false,
	  "- a\n"
	  "- b\n",
	  "top_not_mapping:1:1: expected a mapping at the top level, got a sequence" },
	{ "source_not_mapping", false,
	  HEAD
	  "source: [csv]\n"
	  PIPE
	  SINK,
	  "source_not_mapping:3:9: expected a mapping for 'source', got a sequence" },
	{ "source_empty", false,
	  HEAD
	  "source:\n"
	  PIPE
	  SINK,
	  "source_empty:3:1: expected a mapping for 'source', got an empty value" },
	{ "missing_schema", false,
	  "job: j\n"
	  SRC
	  PIPE
	  SINK,
	  "missing_schema:1:1: missing required key 'schema'" },
	{ "missing_timestamp", false,
	  HEAD
	  "source: {type: csv, path: in.csv}\n"
	  PIPE
	  SINK,
	  "missing_timestamp:3:9: missing required key 'timestamp' in source" },
	{ "bad_job_name", false,
	  "job: a b\n"
	  "schema: {k: u64, v: u32, ts: timestamp_ms}\n"
	  SRC
	  PIPE
	  SINK,
	  "bad_job_name:1:6: job name must match [A-Za-z0-9_.-]{1,63}, got 'a b'" },
	{ "bad_type", false,
	  "job: j\n"
	  "schema: {k: u8}\n"
	  SRC
	  PIPE
	  SINK,
	  "bad_type:2:13: unknown type 'u8' for field 'k'; expected one of: i64, u64, i32, u32, f64, bool, timestamp_ms, str[N] (N = 1..256)" },
	{ "bad_field_name", false,
	  "job: j\n"
	  "schema: {1k: u64}\n"
	  SRC
	  PIPE
	  SINK,
	  "bad_field_name:2:10: invalid field name '1k'; expected [A-Za-z_][A-Za-z0-9_]{0,62}" },
	{ "str_too_long", false,
	  "job: j\n"
	  "schema: {k: \"str[257]\"}\n"
	  SRC
	  PIPE
	  SINK,
	  "str_too_long:2:14: unknown type 'str[257]' for field 'k'; expected one of: i64, u64, i32, u32, f64, bool, timestamp_ms, str[N] (N = 1..256)" },
	{ "bad_duration", false,
	  HEAD
	  "source: {type: csv, path: in.csv, timestamp: ts, watermark: {out_of_orderness: ten}}\n"
	  PIPE
	  SINK,
	  "bad_duration:3:80: expected a duration like 10s or 250ms, got 'ten'" },
	{ "negative_ooo", false,
	  HEAD
	  "source: {type: csv, path: in.csv, timestamp: ts, watermark: {out_of_orderness: -1s}}\n"
	  PIPE
	  SINK,
	  "negative_ooo:3:80: out_of_orderness must be >= 0, got -1s" },
	{ "duration_overflow", false,
	  HEAD
	  "source: {type: csv, path: in.csv, timestamp: ts, watermark: {out_of_orderness: 9999999999999999d}}\n"
	  PIPE
	  SINK,
	  "duration_overflow:3:80: duration '9999999999999999d' is out of range" },
	{ "idle_zero", false,
	  HEAD
	  "source: {type: csv, path: in.csv, timestamp: ts, watermark: {idle_timeout: 0}}\n"
	  PIPE
	  SINK,
	  "idle_zero:3:76: idle_timeout must be > 0 (omit it to disable idleness), got 0" },
	{ "interval_punctuated", false,
	  HEAD
	  "source: {type: csv, path: in.csv, timestamp: ts, watermark: {emit: punctuated, interval: 1s}}\n"
	  PIPE
	  SINK,
	  "interval_punctuated:3:80: interval is only valid with emit: periodic" },
	{ "bad_emit", false,
	  HEAD
	  "source: {type: csv, path: in.csv, timestamp: ts, watermark: {emit: sometimes}}\n"
	  PIPE
	  SINK,
	  "bad_emit:3:68: unknown emit 'sometimes'; expected one of: periodic, punctuated" },
	{ "ts_wrong_type", false,
	  HEAD
	  "source: {type: csv, path: in.csv, timestamp: s}\n"
	  PIPE
	  SINK,
	  "ts_wrong_type:3:46: timestamp field 's' must be timestamp_ms or an integer type, got str" },
	{ "ts_unknown", false,
	  HEAD
	  "source: {type: csv, path: in.csv, timestamp: tss}\n"
	  PIPE
	  SINK,
	  "ts_unknown:3:46: unknown field 'tss' in timestamp; schema has: k, v, ts, s, b, f" },
	{ "csv_with_port", false,
	  HEAD
	  "source: {type: csv, path: in.csv, port: net_null0, timestamp: ts}\n"
	  PIPE
	  SINK,
	  "csv_with_port:3:35: port is not allowed for a csv source" },
	{ "ethdev_with_path", false,
	  HEAD
	  "source: {type: ethdev, port: net_null0, path: x, timestamp: ts}\n"
	  PIPE
	  SINK,
	  "ethdev_with_path:3:41: path is not allowed for an ethdev source" },
	{ "ethdev_no_port", false,
	  HEAD
	  "source: {type: ethdev, timestamp: ts}\n"
	  PIPE
	  SINK,
	  "ethdev_no_port:3:9: missing required key 'port' in source" },
	{ "bad_source_type", false,
	  HEAD
	  "source: {type: kafka, timestamp: ts}\n"
	  PIPE
	  SINK,
	  "bad_source_type:3:16: unknown source type 'kafka'; expected one of: ethdev, csv, capture, gen" },
	{ "udp_port_range", false,
	  HEAD
	  "source: {type: ethdev, port: p, udp_port: 70000, timestamp: ts}\n"
	  PIPE
	  SINK,
	  "udp_port_range:3:43: udp_port must be 1..65535, got 70000" },
	{ "queues_not_int", false,
	  HEAD
	  "source: {type: ethdev, port: p, queues: two, timestamp: ts}\n"
	  PIPE
	  SINK,
	  "queues_not_int:3:41: expected an integer for 'queues', got 'two'" },
	{ "offset_ge_size", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m, offset: 60s}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "offset_ge_size:6:36: window offset must satisfy |offset| < size (1m), got 60s" },
	{ "lateness_negative", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m, allowed_lateness: -5s}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "lateness_negative:6:46: allowed_lateness must be >= 0, got -5s" },
	{ "trigger_unknown", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m, trigger: {processing_time: 1s}}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "trigger_unknown:6:38: unknown key 'processing_time' in trigger; expected one of: count, continuous, purge" },
	{ "trigger_two", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m, trigger: {count: 5, continuous: 1s}}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "trigger_two:6:37: trigger needs one of {count: N}, {continuous: INTERVAL} or {purge: true}" },
	{ "trigger_continuous_zero", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m, trigger: {continuous: 0s}}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "trigger_continuous_zero:6:50: a continuous trigger's interval must be > 0, got 0s" },
	{ "trigger_count_zero", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m, trigger: {count: 0}}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "trigger_count_zero:6:45: trigger count must be 1..2147483647, got 0" },
	{ "late_sink_stdout_twice", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "late_sink: {type: stdout}\n",
	  "late_sink_stdout_twice:9:12: late_sink and sink both write to stdout; give late_sink a csv path" },
	{ "late_sink_same_file", false,
	  HEAD
	  SRC
	  PIPE
	  "sink: {type: csv, path: out.csv}\n"
	  "late_sink: {type: csv, path: out.csv}\n",
	  "late_sink_same_file:9:12: late_sink writes to the sink's file out.csv; give it a path of its own" },
	{ "late_sink_bad_type", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "late_sink: {type: kafka}\n",
	  "late_sink_bad_type:9:19: unknown sink type 'kafka'; expected one of: csv, stdout, ethdev" },
	{ "ethdev_sink_csv_source", false,
	  HEAD SRC MAPPIPE
	  "sink: {type: ethdev}\n",
	  "ethdev_sink_csv_source:7:14: an ethdev sink sends out of the source's port, and the source is not ethdev; use a csv or stdout sink" },
	{ "ethdev_sink_path", false,
	  HEAD ETHSRC MAPPIPE
	  "sink: {type: ethdev, path: out.csv}\n",
	  "ethdev_sink_path:7:22: path is not allowed for an ethdev sink" },
	{ "ethdev_sink_rpp", false,
	  HEAD ETHSRC MAPPIPE
	  "sink: {type: ethdev, records_per_packet: 0}\n",
	  "ethdev_sink_rpp:7:42: records_per_packet must be 1..1472, got 0" },
	{ "ethdev_late_sink", false,
	  HEAD ETHSRC PIPE SINK
	  "late_sink: {type: ethdev}\n",
	  "ethdev_late_sink:9:19: late_sink cannot be ethdev; give it a csv path" },
	{ "csv_sink_udp_port", false,
	  HEAD SRC PIPE
	  "sink: {type: csv, path: o.csv, udp_port: 9001}\n",
	  "csv_sink_udp_port:8:32: udp_port is only for an ethdev sink" },
	{ "offset_neg_ge_size", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m, offset: -1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "offset_neg_ge_size:6:36: window offset must satisfy |offset| < size (1m), got -1m" },
	{ "size_zero", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 0s}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "size_zero:6:24: window size must be > 0, got 0s" },
	{ "sliding_no_slide", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {sliding: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "sliding_no_slide:6:13: missing required key 'slide' in window" },
	{ "sliding_and_tumbling", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {sliding: 1m, tumbling: 1m, slide: 1s}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "sliding_and_tumbling:6:13: window is one of tumbling, sliding or session, not several" },
	{ "session_and_tumbling", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {session: 1m, tumbling: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "session_and_tumbling:6:13: window is one of tumbling, sliding or session, not several" },
	{ "session_gap_zero", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {session: 0s}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "session_gap_zero:6:23: session gap must be > 0, got 0s" },
	{ "session_gap_negative", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {session: -3s, allowed_lateness: 1s}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "session_gap_negative:6:23: session gap must be > 0, got -3s" },
	{ "session_offset", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {session: 30s, offset: 1s}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "session_offset:6:36: a session window has no 'offset' (Flink's EventTimeSessionWindows.withGap takes only the gap); remove it" },
	{ "session_slide", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {session: 30s, slide: 1s}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "session_slide:6:35: a session window has no 'slide' (Flink's EventTimeSessionWindows.withGap takes only the gap); remove it" },
	{ "time_unknown", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m, time: wall}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "time_unknown:6:34: unknown window time 'wall'; expected one of: event, processing" },
	{ "time_not_scalar", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m, time: [processing]}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "time_not_scalar:6:34: expected a scalar for 'time', got a sequence" },
	{ "ptime_session_lateness", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {session: 30s, time: processing, allowed_lateness: 1s}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "ptime_session_lateness:6:64: allowed_lateness is for event time: a processing-time window is never late; remove it" },
	{ "ptime_lateness", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m, time: processing, allowed_lateness: 5s}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "ptime_lateness:6:64: allowed_lateness is for event time: a processing-time window is never late; remove it" },
	{ "ptime_late_sink", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m, time: processing}\n"
	  "  - aggregate: [count()]\n"
	  SINK
	  "late_sink: {type: csv, path: late.csv}\n",
	  "ptime_late_sink:9:12: late_sink takes the rows a window drops as late, and a processing-time window drops none; remove it" },
	{ "session_lateness_negative", false,
	  HEAD SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {session: 30s, allowed_lateness: -1s}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "session_lateness_negative:6:46: allowed_lateness must be >= 0, got -1s" },
	{ "tumbling_slide", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m, slide: 1s}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "tumbling_slide:6:35: 'slide' belongs to a sliding window; write 'sliding: SIZE' instead of 'tumbling'" },
	{ "sliding_offset", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {sliding: 1m, slide: 10s, offset: 10s}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "sliding_offset:6:47: window offset must satisfy |offset| < slide (10s), got 10s" },
	{ "sliding_panes", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {sliding: 65s, slide: 1s}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "sliding_panes:6:35: a sliding window's size / slide must be at most 64 (each row updates that many windows), got 65s / 1s" },
	{ "sliding_zero", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {sliding: 1m, slide: 0s}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "sliding_zero:6:34: window slide must be > 0, got 0s" },
	{ "window_hop", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {hop: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "window_hop:6:14: unknown key 'hop' in window; expected one of: tumbling, sliding, session, slide, offset, allowed_lateness, trigger, time" },
	{ "missing_key_by", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "missing_key_by:5:3: pipeline has no key_by; expected filters, then key_by, window and aggregate" },
	{ "missing_aggregate", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  SINK,
	  "missing_aggregate:5:3: pipeline has no aggregate; expected one after window" },
	{ "missing_key_by_only_filter", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - filter: v > 1\n"
	  "  - window: {tumbling: 1m}\n"
	  SINK,
	  "missing_key_by_only_filter:5:3: pipeline has no key_by; expected filters, then key_by, window and aggregate" },
	{ "key_unknown", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: [k, user]\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "key_unknown:5:17: unknown field 'user' in key_by; schema has: k, v, ts, s, b, f" },
	{ "key_dup", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: [k, k]\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "key_dup:5:17: duplicate key field 'k'" },
	{ "key_empty_seq", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: []\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "key_empty_seq:5:13: key_by needs 1..8 fields, got 0" },
	{ "agg_on_str", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count(), sum(s)]\n"
	  SINK,
	  "agg_on_str:7:26: sum(s): field 's' is str[8]; expected a numeric field" },
	{ "agg_on_bool", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [avg(b)]\n"
	  SINK,
	  "agg_on_bool:7:17: avg(b): field 'b' is bool; expected a numeric field" },
	{ "agg_dup_out", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count(), max(v) as count]\n"
	  SINK,
	  "agg_dup_out:7:26: duplicate output column 'count'" },
	{ "agg_dup_default", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [sum(v), sum(v)]\n"
	  SINK,
	  "agg_dup_default:7:25: duplicate output column 'sum_v'" },
	{ "agg_key_collision", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [max(v) as k]\n"
	  SINK,
	  "agg_key_collision:7:17: output column 'k' collides with a key_by field" },
	{ "agg_reserved", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [max(v) as window_end]\n"
	  SINK,
	  "agg_reserved:7:17: output column 'window_end' is reserved" },
	{ "agg_unknown_fn", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [median(v)]\n"
	  SINK,
	  "agg_unknown_fn:7:17: unknown aggregate function 'median'; expected one of: count, sum, min, max, avg, first, last, count_distinct, approx_count_distinct" },
	{ "agg_syntax", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [sum v]\n"
	  SINK,
	  "agg_syntax:7:17: expected an aggregate like count(), sum(f) or max(f) as name, got 'sum v'" },
	{ "agg_count_arg", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count(v)]\n"
	  SINK,
	  "agg_count_arg:7:17: count() takes no field, got count(v)" },
	{ "agg_unknown_field", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [sum(vv)]\n"
	  SINK,
	  "agg_unknown_field:7:17: unknown field 'vv' in sum(); schema has: k, v, ts, s, b, f" },
	{ "agg_empty", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: []\n"
	  SINK,
	  "agg_empty:7:16: aggregate needs 1..16 items, got 0" },
	{ "agg_cd_unknown_field", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count(), count_distinct(vv)]\n"
	  SINK,
	  "agg_cd_unknown_field:7:26: unknown field 'vv' in count_distinct(); schema has: k, v, ts, s, b, f" },
	{ "agg_cd_no_field", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count_distinct()]\n"
	  SINK,
	  "agg_cd_no_field:7:17: count_distinct() needs a field" },
	{ "agg_cd_two_args", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate:\n"
	  "    - count_distinct(v, 12)\n"
	  SINK,
	  "agg_cd_two_args:8:7: count_distinct() takes one field, got count_distinct(v, 12)" },
	{ "agg_sum_two_args", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate:\n"
	  "    - sum(v, 2) as s2\n"
	  SINK,
	  "agg_sum_two_args:8:7: sum() takes one field, got sum(v, 2)" },
	{ "agg_count_two_args", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate:\n"
	  "    - count(, 2)\n"
	  SINK,
	  "agg_count_two_args:8:7: count() takes no field, got count(, 2)" },
	{ "agg_hll_no_field", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [approx_count_distinct()]\n"
	  SINK,
	  "agg_hll_no_field:7:17: approx_count_distinct() needs a field" },
	{ "agg_hll_unknown_field", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate:\n"
	  "    - approx_count_distinct(nope, 12)\n"
	  SINK,
	  "agg_hll_unknown_field:8:7: unknown field 'nope' in approx_count_distinct(); schema has: k, v, ts, s, b, f" },
	{ "agg_hll_p_low", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate:\n"
	  "    - approx_count_distinct(v, 3)\n"
	  SINK,
	  "agg_hll_p_low:8:7: approx_count_distinct(v, P): precision P must be an integer 4..16 (2^P registers, standard error 1.04/sqrt(2^P)), got '3'" },
	{ "agg_hll_p_high", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate:\n"
	  "    - approx_count_distinct(v, 17) as h\n"
	  SINK,
	  "agg_hll_p_high:8:7: approx_count_distinct(v, P): precision P must be an integer 4..16 (2^P registers, standard error 1.04/sqrt(2^P)), got '17'" },
	{ "agg_hll_p_text", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate:\n"
	  "    - approx_count_distinct(s, twelve)\n"
	  SINK,
	  "agg_hll_p_text:8:7: approx_count_distinct(s, P): precision P must be an integer 4..16 (2^P registers, standard error 1.04/sqrt(2^P)), got 'twelve'" },
	{ "agg_hll_p_empty", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate:\n"
	  "    - approx_count_distinct(s, )\n"
	  SINK,
	  "agg_hll_p_empty:8:7: approx_count_distinct(s, P): precision P must be an integer 4..16 (2^P registers, standard error 1.04/sqrt(2^P)), got ''" },
	{ "agg_hll_three_args", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate:\n"
	  "    - approx_count_distinct(v, 12, 3)\n"
	  SINK,
	  "agg_hll_three_args:8:7: approx_count_distinct() takes at most two arguments (approx_count_distinct(field, P)), got 'approx_count_distinct(v, 12, 3)'" },
	{ "agg_hll_flow_comma", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count(), approx_count_distinct(v, 12)]\n"
	  SINK,
	  "agg_hll_flow_comma:7:26: expected an aggregate like count(), sum(f) or max(f) as name, got 'approx_count_distinct(v' (an aggregate with a comma inside [...] must be quoted: \"approx_count_distinct(f, 12)\")" },
	{ "agg_cd_dup_default", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count_distinct(v), approx_count_distinct(v) as count_distinct_v]\n"
	  SINK,
	  "agg_cd_dup_default:7:36: duplicate output column 'count_distinct_v'" },
	{ "filter_unknown_field_dq", true,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - filter: \"v != 0 and zz > 1\"\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "filter_unknown_field_dq:5:25: filter: " },
	{ "filter_unknown_field_plain", true,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - filter: v != 0 and zz > 1\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "filter_unknown_field_plain:5:24: filter: " },
	{ "filter_unknown_field_sq", true,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - filter: 'zz > 1'\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "filter_unknown_field_sq:5:14: filter: " },
	{ "filter_after_key_by", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - filter: v > 1\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "filter_after_key_by:6:5: filter between key_by and the keyed operator is not supported; put it before key_by (the same rows) or after the operator (its results)" },
	{ "filter_not_bool", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - filter: v + 1\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "filter_not_bool:5:13: filter must be a boolean expression, got an integer" },
	{ "too_many_filters", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - filter: v > 1\n"
	  "  - filter: v > 1\n"
	  "  - filter: v > 1\n"
	  "  - filter: v > 1\n"
	  "  - filter: v > 1\n"
	  "  - filter: v > 1\n"
	  "  - filter: v > 1\n"
	  "  - filter: v > 1\n"
	  "  - filter: v > 1\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "too_many_filters:13:5: at most 8 filters" },
	{ "window_before_key_by", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - key_by: k\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "window_before_key_by:5:5: window must come after key_by" },
	{ "aggregate_before_window", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - aggregate: [count()]\n"
	  "  - window: {tumbling: 1m}\n"
	  SINK,
	  "aggregate_before_window:6:5: aggregate must come after window" },
	/* Pipeline composition: what is still refused, and where. */
	{ "second_stage_union", false,
	  "job: j\nsources:\n"
	  "  a: {schema: {k: u64, v: u32, ts: timestamp_ms}, type: csv, path: a.csv, timestamp: ts}\n"
	  "  b: {schema: {k: u64, v: u32, ts: timestamp_ms}, type: csv, path: b.csv, timestamp: ts}\n"
	  "pipeline:\n  - union: [a, b]\n  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count() as n]\n"
	  "  - key_by: n\n  - window: {tumbling: 1m}\n  - aggregate: [count()]\n"
	  SINK,
	  "second_stage_union:10:5: a second keyed stage after a union is not supported yet" },
	{ "second_stage_checkpoints", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count() as n]\n"
	  "  - key_by: n\n  - window: {tumbling: 1m}\n  - aggregate: [count()]\n"
	  SINK "execution.checkpointing.interval: 1s\nexecution.checkpointing.unaligned: true\nstate.checkpoints.dir: /tmp/ck\n",
	  "second_stage_checkpoints:8:5: unaligned checkpoints of a job with a second keyed stage are not supported yet (the rows between the stages would be channel state); set execution.checkpointing.unaligned: false" },
	{ "second_stage_after_lateness", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - window: {tumbling: 1m, allowed_lateness: 1s}\n  - aggregate: [count() as n]\n"
	  "  - key_by: n\n  - window: {tumbling: 1m}\n  - aggregate: [count()]\n"
	  SINK,
	  "second_stage_after_lateness:8:5: a second keyed stage takes the first window's final results, once each: that window must be an event-time tumbling or sliding one with the default trigger and no allowed_lateness" },
	{ "second_stage_after_dedup", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - dedup: {within: 1s}\n  - key_by: v\n  - window: {tumbling: 1m}\n  - aggregate: [count()]\n"
	  SINK,
	  "second_stage_after_dedup:8:5: window after dedup is not supported yet; a dedup pipeline is filters, key_by and dedup, and writes the rows it keeps" },
	{ "second_stage_session", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count() as n]\n"
	  "  - key_by: n\n  - window: {session: 1m}\n  - aggregate: [count()]\n"
	  SINK,
	  "second_stage_session:9:5: the second keyed stage's window is an event-time tumbling or sliding one with the default trigger and no allowed_lateness for now" },
	{ "second_stage_no_aggregate", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count() as n]\n"
	  "  - key_by: n\n  - window: {tumbling: 1m}\n"
	  SINK,
	  "second_stage_no_aggregate:5:3: the second keyed stage has no aggregate; expected key_by, window and aggregate" },
	{ "third_stage", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count() as n]\n"
	  "  - key_by: n\n  - window: {tumbling: 1m}\n  - aggregate: [count() as m]\n"
	  "  - key_by: m\n"
	  SINK,
	  "third_stage:11:5: key_by after the second keyed stage is not supported yet; filter and map take its results" },
	{ "second_stage_unknown_field", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count() as n]\n"
	  "  - key_by: v\n  - window: {tumbling: 1m}\n  - aggregate: [count()]\n"
	  SINK,
	  "second_stage_unknown_field:8:13: unknown field 'v' in key_by; schema has: k, window_start, window_end, n, window_time" },
	{ "post_filter_input_field", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count() as n]\n"
	  "  - filter: \"v > 3\"\n"
	  SINK,
	  "post_filter_input_field:8:14: filter: unknown field 'v'; fields are: k, window_start, window_end, n" },
	{ "post_filter_not_bool", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count() as n]\n"
	  "  - filter: \"n + 1\"\n"
	  SINK,
	  "post_filter_not_bool:8:14: filter must be a boolean expression, got an integer" },
	{ "final_filter_stage_column", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count() as n]\n"
	  "  - map: {k: k, twice: \"n * 2\"}\n  - filter: \"n > 3\"\n"
	  SINK,
	  "final_filter_stage_column:9:14: filter: unknown field 'n'; fields are: k, twice" },
	{ "post_map_twice", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count() as n]\n"
	  "  - map: {k: k}\n  - map: {n: n}\n"
	  SINK,
	  "post_map_twice:9:5: a second map after the keyed stage; give all the columns in one" },
	{ "filter_after_top_k", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count() as n]\n"
	  "  - top_k: {k: 2, by: n}\n  - filter: \"n > 3\"\n"
	  SINK,
	  "filter_after_top_k:9:5: filter after top_k is not supported yet; top_k ranks the rows where the sink writes them, so it is the pipeline's last step" },
	{ "top_k_after_filter", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count() as n]\n"
	  "  - filter: \"n > 3\"\n  - top_k: {k: 2, by: n}\n"
	  SINK,
	  "top_k_after_filter:9:5: top_k after filter or map is not supported yet; put top_k right after aggregate" },
	{ "map_between_key_by_and_window", false,
	  HEAD SRC
	  "pipeline:\n  - key_by: k\n  - map: {k: k, ts: ts}\n  - window: {tumbling: 1m}\n  - aggregate: [count()]\n"
	  SINK,
	  "map_between_key_by_and_window:6:5: map between key_by and the keyed operator is not supported; put it before key_by (the same rows) or after the operator (its results)" },
	{ "key_map_function", false,
	  HEAD SRC
	  "pipeline:\n  - map: {plugin: rowfns, function: scale}\n  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count()]\n"
	  SINK,
	  "key_map_function:5:5: a map function in a keyed pipeline is not supported yet; give the columns as expressions ({name: field or expression, ...})" },
	{ "key_map_drops_key", false,
	  HEAD SRC
	  "pipeline:\n  - map: {ts: ts, twice: \"v * 2\"}\n  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count()]\n"
	  SINK,
	  "key_map_drops_key:6:13: unknown field 'k' in key_by; schema has: ts, twice" },
	{ "key_map_filter_source_field", false,
	  HEAD SRC
	  "pipeline:\n  - map: {k: k, ts: ts}\n  - filter: \"v > 1\"\n  - key_by: k\n  - window: {tumbling: 1m}\n  - aggregate: [count()]\n"
	  SINK,
	  "key_map_filter_source_field:6:14: filter: unknown field 'v'; fields are: k, ts" },
	{ "dup_key_by", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "dup_key_by:6:5: duplicate key_by; a second keyed stage (key_by again) follows a window's aggregate" },
	{ "unknown_step", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - flatmap: x\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "unknown_step:6:5: unknown pipeline step 'flatmap'; expected one of: filter, map, flat_map, key_by, window, aggregate, top_k, dedup, process" },
	{ "step_two_keys", false,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - key_by: k\n"
	  "  - {window: {tumbling: 1m}, aggregate: [count()]}\n"
	  SINK,
	  "step_two_keys:6:5: expected a pipeline step: a mapping with one key (filter, map, flat_map, key_by, window, aggregate, top_k, dedup or process)" },
	{ "pipeline_not_seq", false,
	  HEAD
	  SRC
	  "pipeline: {key_by: k}\n"
	  SINK,
	  "pipeline_not_seq:4:11: expected a sequence for 'pipeline', got a mapping" },
	{ "rtc_two_workers", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "lcores: {workers: 2, run_to_completion: true}\n",
	  "rtc_two_workers:9:41: run_to_completion needs rx: 1 and workers: 1, got rx: 1, workers: 2" },
	{ "workers_zero", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "lcores: {workers: 0}\n",
	  "workers_zero:9:19: workers must be 1..64, got 0" },
	{ "rtc_not_bool", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "lcores: {run_to_completion: yes}\n",
	  "rtc_not_bool:9:29: expected true or false for 'run_to_completion', got 'yes'" },
	{ "csv_rx_two", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "lcores: {rx: 2}\n",
	  "csv_rx_two:9:14: lcores.rx must be 1 for a csv source, got 2" },
	{ "ethdev_rx_mismatch", false,
	  HEAD
	  "source: {type: ethdev, port: p, queues: 2, timestamp: ts}\n"
	  PIPE
	  SINK
	  "lcores: {rx: 1}\n",
	  "ethdev_rx_mismatch:9:14: lcores.rx must equal source.queues (2) for an ethdev source, got 1" },
	{ "maxpar_lt_workers", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "lcores: {workers: 4}\n"
	  "pipeline.max-parallelism: 2\n",
	  "maxpar_lt_workers:10:27: pipeline.max-parallelism (2) must be >= lcores.workers (4)" },
	{ "maxpar_range", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "pipeline.max-parallelism: 40000\n",
	  "maxpar_range:9:27: pipeline.max-parallelism must be 1..32768, got 40000" },
	{ "keycap_range", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "state.key-capacity: 0\n",
	  "keycap_range:9:21: state.key-capacity must be 1..67108864, got 0" },
	{ "backend_type", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "state.backend.type: filesystem\n",
	  "backend_type:9:21: state.backend.type must be heap (or hashmap) or rocksdb, got 'filesystem'" },
	{ "heap_memory_unit", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "state.backend.heap.memory: 12 parsecs\n",
	  "heap_memory_unit:9:28: expected a memory size for 'state.backend.heap.memory' like 256mb or 1gb, got '12 parsecs'" },
	{ "heap_memory_range", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "state.backend.heap.memory: 1mb\n",
	  "heap_memory_range:9:28: state.backend.heap.memory must be 32mb..1048576mb, got '1mb'" },
	{ "eal_not_seq", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "eal: --no-pci\n",
	  "eal_not_seq:9:6: expected a sequence for 'eal', got a scalar" },
	{ "eal_item_map", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "eal: [{a: b}]\n",
	  "eal_item_map:9:7: expected a scalar for 'eal', got a mapping" },
	{ "sink_csv_no_path", false,
	  HEAD
	  SRC
	  PIPE
	  "sink: {type: csv}\n",
	  "sink_csv_no_path:8:7: missing required key 'path' in sink" },
	{ "sink_stdout_path", false,
	  HEAD
	  SRC
	  PIPE
	  "sink: {type: stdout, path: x}\n",
	  "sink_stdout_path:8:22: path is not allowed for a stdout sink" },
	{ "sink_bad_type", false,
	  HEAD
	  SRC
	  PIPE
	  "sink: {type: kafka}\n",
	  "sink_bad_type:8:14: unknown sink type 'kafka'; expected one of: csv, stdout, ethdev" },
	{ "alias", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "eal: &x [a]\n"
	  "lcores: *x\n",
	  "alias:10:10: YAML aliases are not supported" },
	{ "two_docs", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "---\n"
	  "job: b\n",
	  "two_docs:9:1: expected one YAML document, found another" },
	{ "bad_int_hex", false,
	  HEAD
	  SRC
	  PIPE
	  SINK
	  "state.key-capacity: 0x10\n",
	  "bad_int_hex:9:21: expected an integer for 'state.key-capacity', got '0x10'" },
	{ "filter_syntax_dq", true,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - filter: \"v > (1\"\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "filter_syntax_dq:5:20: filter: " },
	{ "filter_type_plain", true,
	  HEAD
	  SRC
	  "pipeline:\n"
	  "  - filter: v > 1\n"
	  "  - filter: s == 3\n"
	  "  - key_by: k\n"
	  "  - window: {tumbling: 1m}\n"
	  "  - aggregate: [count()]\n"
	  SINK,
	  "filter_type_plain:6:18: filter: " },
	{ "restart_type", false,
	  HEAD SRC PIPE SINK
	  "restart-strategy.type: failure-rate\n",
	  "restart_type:9:24: unknown restart-strategy.type 'failure-rate'; expected one of: none, fixed-delay, exponential-delay" },
	{ "restart_other_strategy", false,
	  HEAD SRC PIPE SINK
	  "restart-strategy.type: fixed-delay\n"
	  "restart-strategy.exponential-delay.attempts: 3\n",
	  "restart_other_strategy:10:1: restart-strategy.exponential-delay.attempts is only valid with restart-strategy.type: exponential-delay (the type is fixed-delay)" },
	{ "restart_none_fixed_key", false,
	  HEAD SRC PIPE SINK
	  "restart-strategy.type: none\n"
	  "restart-strategy.fixed-delay.delay: 1s\n",
	  "restart_none_fixed_key:10:1: restart-strategy.fixed-delay.delay is only valid with restart-strategy.type: fixed-delay (the type is none)" },
	{ "restart_attempts_neg", false,
	  HEAD SRC PIPE SINK
	  "restart-strategy.fixed-delay.attempts: -1\n",
	  "restart_attempts_neg:9:40: restart-strategy.fixed-delay.attempts must be 0..1000000, got -1" },
	{ "restart_delay_neg", false,
	  HEAD SRC PIPE SINK
	  "restart-strategy.fixed-delay.delay: -2s\n",
	  "restart_delay_neg:9:37: restart-strategy.fixed-delay.delay must be >= 0, got -2s" },
	{ "restart_delay_word", false,
	  HEAD SRC PIPE SINK
	  "restart-strategy.fixed-delay.delay: soon\n",
	  "restart_delay_word:9:37: expected a duration like 10s or 250ms, got 'soon'" },
	{ "restart_initial_zero", false,
	  HEAD SRC PIPE SINK
	  "restart-strategy.type: exponential-delay\n"
	  "restart-strategy.exponential-delay.initial-backoff: 0s\n",
	  "restart_initial_zero:10:53: restart-strategy.exponential-delay.initial-backoff must be > 0, got 0s" },
	{ "restart_max_lt_initial", false,
	  HEAD SRC PIPE SINK
	  "restart-strategy.type: exponential-delay\n"
	  "restart-strategy.exponential-delay.initial-backoff: 10s\n"
	  "restart-strategy.exponential-delay.max-backoff: 5s\n",
	  "restart_max_lt_initial:11:49: restart-strategy.exponential-delay.max-backoff (5000ms) must be >= initial-backoff (10000ms)" },
	{ "restart_initial_gt_default_max", false,
	  HEAD SRC PIPE SINK
	  "restart-strategy.type: exponential-delay\n"
	  "restart-strategy.exponential-delay.initial-backoff: 2m\n",
	  "restart_initial_gt_default_max:1:1: restart-strategy.exponential-delay.max-backoff (60000ms) must be >= initial-backoff (120000ms)" },
	{ "restart_multiplier_one", false,
	  HEAD SRC PIPE SINK
	  "restart-strategy.type: exponential-delay\n"
	  "restart-strategy.exponential-delay.backoff-multiplier: 1.0\n",
	  "restart_multiplier_one:10:56: restart-strategy.exponential-delay.backoff-multiplier must be > 1 and <= 1000, got 1.0" },
	{ "restart_multiplier_nan", false,
	  HEAD SRC PIPE SINK
	  "restart-strategy.type: exponential-delay\n"
	  "restart-strategy.exponential-delay.backoff-multiplier: nan\n",
	  "restart_multiplier_nan:10:56: expected a number for 'restart-strategy.exponential-delay.backoff-multiplier', got 'nan'" },
	{ "restart_multiplier_map", false,
	  HEAD SRC PIPE SINK
	  "restart-strategy.type: exponential-delay\n"
	  "restart-strategy.exponential-delay.backoff-multiplier: {a: 1}\n",
	  "restart_multiplier_map:10:56: expected a scalar for 'restart-strategy.exponential-delay.backoff-multiplier', got a mapping" },
	{ "restart_exp_attempts", false,
	  HEAD SRC PIPE SINK
	  "restart-strategy.type: exponential-delay\n"
	  "restart-strategy.exponential-delay.attempts: many\n",
	  "restart_exp_attempts:10:46: expected an integer for 'restart-strategy.exponential-delay.attempts', got 'many'" },
	{ "restart_dup", false,
	  HEAD SRC PIPE SINK
	  "restart-strategy.type: none\n"
	  "restart-strategy.type: none\n",
	  "restart_dup:10:1: duplicate key 'restart-strategy.type'" },
	{ "parallelism_zero", false,
	  HEAD SRC PIPE SINK
	  "parallelism.default: 0\n",
	  "parallelism_zero:9:22: parallelism.default must be 1..64, got 0" },
	{ "parallelism_big", false,
	  HEAD SRC PIPE SINK
	  "parallelism.default: 65\n",
	  "parallelism_big:9:22: parallelism.default must be 1..64, got 65" },
	{ "parallelism_rtc", false,
	  HEAD SRC PIPE SINK
	  "parallelism.default: 2\n"
	  "lcores: {run_to_completion: true}\n",
	  "parallelism_rtc:10:29: run_to_completion needs rx: 1 and workers: 1, got rx: 1, workers: 2" },
	{ "parallelism_maxpar", false,
	  HEAD SRC PIPE SINK
	  "parallelism.default: 8\n"
	  "pipeline.max-parallelism: 4\n",
	  "parallelism_maxpar:10:27: pipeline.max-parallelism (4) must be >= lcores.workers (8)" },
	{ "cpus_reversed", false,
	  HEAD SRC PIPE SINK
	  "lcores: {cpus: 3-1}\n",
	  "cpus_reversed:9:16: invalid lcores.cpus '3-1': range 3-1 is reversed" },
	{ "cpus_twice", false,
	  HEAD SRC PIPE SINK
	  "lcores: {cpus: \"0-3,2\"}\n",
	  "cpus_twice:9:17: invalid lcores.cpus '0-3,2': CPU 2 is listed twice" },
	{ "cpus_range", false,
	  HEAD SRC PIPE SINK
	  "lcores: {cpus: 1024}\n",
	  "cpus_range:9:16: invalid lcores.cpus '1024': CPU 1024 is out of range 0..1023" },
	{ "cpus_syntax", false,
	  HEAD SRC PIPE SINK
	  "lcores: {cpus: \"1,,2\"}\n",
	  "cpus_syntax:9:17: invalid lcores.cpus '1,,2': expected a CPU list like 1, 0-3 or 0,2-3" },
	{ "cpus_space", false,
	  HEAD SRC PIPE SINK
	  "lcores: {cpus: \" 1\"}\n",
	  "cpus_space:9:17: invalid lcores.cpus ' 1': expected a CPU list like 1, 0-3 or 0,2-3" },
	{ "cpus_seq", false,
	  HEAD SRC PIPE SINK
	  "lcores: {cpus: [1, 2]}\n",
	  "cpus_seq:9:16: expected a scalar for 'cpus', got a sequence" },
	/* libfyaml 0.7.12 loops forever on this; found by fuzz_job. */
	{ "utf8_directive", false,
	  "%\x90(",
	  "utf8_directive:1:2: invalid UTF-8 byte 0x90" },
	{ "utf8_surrogate", false,
	  "job: j\n"
	  "a: \xed\xa0\x80\n",
	  "utf8_surrogate:2:4: invalid UTF-8 byte 0xed" },
	/* type: gen */
	{ "gen_no_events", false,
	  HEAD
	  "source: {type: gen, key: k, timestamp: ts}\n"
	  PIPE SINK,
	  "gen_no_events:3:9: missing required key 'events' in source" },
	{ "gen_events_word", false,
	  HEAD
	  "source: {type: gen, events: lots, key: k, timestamp: ts}\n"
	  PIPE SINK,
	  "gen_events_word:3:29: events must be a number of rows or 'unbounded', got 'lots'" },
	{ "gen_no_key", false,
	  HEAD
	  "source: {type: gen, events: 10, timestamp: ts}\n"
	  PIPE SINK,
	  "gen_no_key:3:9: missing required key 'key' in source" },
	{ "gen_key_f64", false,
	  HEAD
	  "source: {type: gen, events: 10, key: f, timestamp: ts}\n"
	  PIPE SINK,
	  "gen_key_f64:3:38: gen key field 'f' must be an integer or a string, got f64" },
	{ "gen_key_twice", false,
	  HEAD
	  "source: {type: gen, events: 10, key: [k, s, k], timestamp: ts}\n"
	  PIPE SINK,
	  "gen_key_twice:3:45: gen key field 'k' is named twice" },
	{ "gen_key_unknown", false,
	  HEAD
	  "source: {type: gen, events: 10, key: user, timestamp: ts}\n"
	  PIPE SINK,
	  "gen_key_unknown:3:38: unknown field 'user' in key; schema has: k, v, ts, s, b, f" },
	{ "gen_key_is_ts", false,
	  HEAD
	  "source: {type: gen, events: 10, key: ts, timestamp: ts}\n"
	  PIPE SINK,
	  "gen_key_is_ts:3:53: timestamp field 'ts' is also a gen key field; the generator writes event time into it" },
	{ "gen_keys_zero", false,
	  HEAD
	  "source: {type: gen, events: 10, keys: 0, key: k, timestamp: ts}\n"
	  PIPE SINK,
	  "gen_keys_zero:3:39: keys must be 1..4294967295, got 0" },
	{ "gen_rate_zero", false,
	  HEAD
	  "source: {type: gen, events: 10, key: k, event_rate: 0, timestamp: ts}\n"
	  PIPE SINK,
	  "gen_rate_zero:3:53: event_rate must be 1..4294967295, got 0" },
	{ "gen_batch_big", false,
	  HEAD
	  "source: {type: gen, events: 10, key: k, batch: 257, timestamp: ts}\n"
	  PIPE SINK,
	  "gen_batch_big:3:48: batch must be 1..256, got 257" },
	{ "gen_partitions_zero", false,
	  HEAD
	  "source: {type: gen, events: 10, key: k, partitions: 0, timestamp: ts}\n"
	  PIPE SINK,
	  "gen_partitions_zero:3:53: partitions must be 1..64, got 0" },
	{ "gen_late_fraction_range", false,
	  HEAD
	  "source: {type: gen, events: 10, key: k, late_ms: 5, late_fraction: 1.5, timestamp: ts}\n"
	  PIPE SINK,
	  "gen_late_fraction_range:3:68: late_fraction must be a number in 0..1, got '1.5'" },
	{ "gen_late_no_ms", false,
	  HEAD
	  "source: {type: gen, events: 10, key: k, late_fraction: 0.1, timestamp: ts}\n"
	  PIPE SINK,
	  "gen_late_no_ms:3:41: late_fraction needs late_ms >= 1: a late row lags by disorder + U[1, late_ms] ms" },
	{ "gen_path", false,
	  HEAD
	  "source: {type: gen, events: 10, key: k, path: in.csv, timestamp: ts}\n"
	  PIPE SINK,
	  "gen_path:3:41: unknown key 'path' in source; expected one of: type, events, keys, key, seed, start_ms, event_rate, disorder, late_fraction, late_ms, batch, partitions, rate, timestamp, watermark" },
	{ "csv_events", false,
	  HEAD
	  "source: {type: csv, path: in.csv, events: 10, timestamp: ts}\n"
	  PIPE SINK,
	  "csv_events:3:35: unknown key 'events' in source; expected one of: type, port, udp_port, queues, partitions, path, rate, timestamp, watermark" },
};

static void
test_invalid_jobs(void **state)
{
	unsigned int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		char err[SL_PLAN_ERR_MAX];
		struct sl_plan p;
		int rc;

		memset(&p, 0xa5, sizeof(p));
		rc = load(bc->name, bc->yaml, &p, err);
		if (rc != -EINVAL || !plan_is_zero(&p) ||
		    (bc->prefix ? strncmp(err, bc->err, strlen(bc->err)) != 0 :
		     strcmp(err, bc->err) != 0)) {
			print_message("case %s: rc %d\n  got:  %s\n  want: %s\n",
				      bc->name, rc, err, bc->err);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/sl_plan_testXXXXXX";
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(sl_plan_load("/nonexistent/job.yaml", &p, err,
				      sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/job.yaml: cannot open: No such file or directory");
	assert_true(plan_is_zero(&p));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(full_job, f);
	fclose(f);
	assert_int_equal(sl_plan_load(path, &p, err, sizeof(err)), 0);
	assert_string_equal(p.file, path);
	assert_int_equal(p.n_filters, 2);
	sl_plan_free(&p);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("job: x\nbogus: 1\n", f);
	fclose(f);
	assert_int_equal(sl_plan_load(path, &p, err, sizeof(err)), -EINVAL);
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_string_equal(err + strlen(path), ":2:1: unknown key 'bogus'; docs/job-spec.md lists every key");
	unlink(path);
}

/* A compiled filter must be freed when a later section fails. */
static void
test_error_after_filters(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("late", HEAD SRC
			      "pipeline:\n"
			      "  - filter: v > 1\n"
			      "  - filter: v < 9\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m}\n"
			      "  - aggregate: [count()]\n"
			      "sink: {type: csv}\n", &p, err), -EINVAL);
	assert_string_equal(err, "late:10:7: missing required key 'path' in sink");
	assert_true(plan_is_zero(&p));
	sl_plan_free(&p);
}

static void
test_small_err_buffer(void **state)
{
	char err[16];
	struct sl_plan p;

	(void)state;
	assert_int_equal(sl_plan_load_str("tiny", "job: [", 6, &p, err,
					  sizeof(err)), -EINVAL);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(sl_plan_load_str("tiny", "job: [", 6, &p, NULL, 0),
			 -EINVAL);
	/* Not NUL-terminated input: only len bytes are read. */
	assert_int_equal(sl_plan_load_str("n", HEAD SRC PIPE SINK "garbage: [",
					  strlen(HEAD SRC PIPE SINK), &p, err,
					  sizeof(err)), 0);
	sl_plan_free(&p);
}

/* R6.6: checkpointing is off by default; Flink's defaults otherwise. */
static void
test_checkpointing_keys(void **state)
{
	static const char y[] = HEAD SRC PIPE SINK
		"execution.checkpointing.interval: 200ms\n"
		"execution.checkpointing.mode: AT_LEAST_ONCE\n"
		"execution.checkpointing.timeout: 30s\n"
		"execution.checkpointing.min-pause: 50ms\n"
		"execution.checkpointing.max-concurrent-checkpoints: 2\n"
		"execution.checkpointing.tolerable-failed-checkpoints: 3\n"
		"state.checkpoints.dir: /var/lib/sluice/ck\n"
		"state.checkpoints.num-retained: 5\n";
	static const char d[] = HEAD SRC PIPE SINK;
	struct sl_plan *p = calloc(1, sizeof(*p));
	char err[SL_PLAN_ERR_MAX];

	(void)state;
	assert_int_equal(sl_plan_load_str("d", d, strlen(d), p, err, sizeof(err)), 0);
	assert_int_equal(p->ckpt.interval_ms, 0);
	assert_false(p->ckpt.at_least_once);
	assert_int_equal(p->ckpt.timeout_ms, 600000);
	assert_int_equal(p->ckpt.min_pause_ms, 0);
	assert_int_equal(p->ckpt.max_concurrent, 1);
	assert_int_equal(p->ckpt.tolerable_failures, 0);
	assert_int_equal(p->ckpt.num_retained, 1);
	assert_string_equal(p->ckpt.dir, "");
	assert_false(p->ckpt.unaligned);
	sl_plan_free(p);
	{
		static const char u[] = HEAD SRC PIPE SINK
			"execution.checkpointing.unaligned: true\n";
		static const char u2[] = HEAD SRC PIPE SINK
			"execution.checkpointing.unaligned.enabled: true\n";

		assert_int_equal(sl_plan_load_str("u", u, strlen(u), p, err, sizeof(err)), 0);
		assert_true(p->ckpt.unaligned);
		sl_plan_free(p);
		assert_int_equal(sl_plan_load_str("u2", u2, strlen(u2), p, err, sizeof(err)), 0);
		assert_true(p->ckpt.unaligned);
		sl_plan_free(p);
	}
	assert_int_equal(sl_plan_load_str("y", y, strlen(y), p, err, sizeof(err)), 0);
	assert_int_equal(p->ckpt.interval_ms, 200);
	assert_true(p->ckpt.at_least_once);
	assert_int_equal(p->ckpt.timeout_ms, 30000);
	assert_int_equal(p->ckpt.min_pause_ms, 50);
	assert_int_equal(p->ckpt.max_concurrent, 2);
	assert_int_equal(p->ckpt.tolerable_failures, 3);
	assert_int_equal(p->ckpt.num_retained, 5);
	assert_string_equal(p->ckpt.dir, "/var/lib/sluice/ck");
	sl_plan_free(p);
	free(p);
}

static void
test_restart_defaults(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("d", HEAD SRC PIPE SINK, &p, err), 0);
	assert_false(p.restart.from_job);
	assert_int_equal(p.restart.type, SL_RESTART_FIXED_DELAY);
	assert_int_equal(p.restart.fixed_attempts, 3);
	assert_int_equal(p.restart.fixed_delay_ms, 1000);
	assert_int_equal(p.restart.exp_initial_ms, 1000);
	assert_int_equal(p.restart.exp_max_ms, 60000);
	assert_true(p.restart.exp_multiplier == 2.0);
	assert_int_equal(p.restart.exp_attempts, 10);
	assert_int_equal(p.parallelism_default, 0);
	assert_int_equal(p.lcores.workers, 1);
	assert_string_equal(p.lcores.cpus, "");
	sl_plan_free(&p);
}

static void
test_restart_and_placement(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("f", HEAD SRC PIPE SINK
			      "restart-strategy.type: fixed-delay\n"
			      "restart-strategy.fixed-delay.attempts: 7\n"
			      "restart-strategy.fixed-delay.delay: 250ms\n"
			      "parallelism.default: 4\n"
			      "lcores: {cpus: \"0,2-3\"}\n", &p, err), 0);
	assert_true(p.restart.from_job);
	assert_int_equal(p.restart.type, SL_RESTART_FIXED_DELAY);
	assert_int_equal(p.restart.fixed_attempts, 7);
	assert_int_equal(p.restart.fixed_delay_ms, 250);
	assert_int_equal(p.parallelism_default, 4);
	assert_int_equal(p.lcores.workers, 4);
	assert_string_equal(p.lcores.cpus, "0,2-3");
	sl_plan_free(&p);

	/* lcores.workers wins over parallelism.default. */
	assert_int_equal(load("e", HEAD SRC PIPE SINK
			      "restart-strategy.type: exponential-delay\n"
			      "restart-strategy.exponential-delay.initial-backoff: 100ms\n"
			      "restart-strategy.exponential-delay.max-backoff: 2s\n"
			      "restart-strategy.exponential-delay.backoff-multiplier: 1.5\n"
			      "restart-strategy.exponential-delay.attempts: 0\n"
			      "parallelism.default: 4\n"
			      "lcores: {workers: 2, cpus: 5}\n", &p, err), 0);
	assert_int_equal(p.restart.type, SL_RESTART_EXPONENTIAL_DELAY);
	assert_int_equal(p.restart.exp_initial_ms, 100);
	assert_int_equal(p.restart.exp_max_ms, 2000);
	assert_true(p.restart.exp_multiplier == 1.5);
	assert_int_equal(p.restart.exp_attempts, 0);
	assert_int_equal(p.lcores.workers, 2);
	assert_string_equal(p.lcores.cpus, "5");
	sl_plan_free(&p);

	assert_int_equal(load("n", HEAD SRC PIPE SINK
			      "restart-strategy.type: none\n", &p, err), 0);
	assert_int_equal(p.restart.type, SL_RESTART_NONE);
	assert_string_equal(sl_plan_restart_name(p.restart.type), "none");
	sl_plan_free(&p);
}

static void
test_cpus_parse(void **state)
{
	uint64_t set[SL_PLAN_CPU_SETSIZE / 64];
	char why[96];

	(void)state;
	assert_int_equal(sl_plan_cpus_parse("0,2-3,64", set, why, sizeof(why)), 0);
	assert_true(set[0] == 0xd);
	assert_true(set[1] == 1);
	assert_int_equal(sl_plan_cpus_parse("1023", set, why, sizeof(why)), 0);
	assert_true(set[15] == 1ull << 63);
	assert_int_equal(sl_plan_cpus_parse("", set, why, sizeof(why)), -EINVAL);
	assert_int_equal(sl_plan_cpus_parse("1-", set, why, sizeof(why)), -EINVAL);
	assert_int_equal(sl_plan_cpus_parse("1,", set, why, sizeof(why)), -EINVAL);
	assert_int_equal(sl_plan_cpus_parse("99999999999999999999", set, why,
					    sizeof(why)), -ERANGE);
	assert_int_equal(sl_plan_cpus_parse("0-2000", set, NULL, 0), -ERANGE);
}

/*
 * Per-operator parallelism (plan_parallel.c): a step's sibling key
 * parallelism sets the worker chain's lcores (window and aggregate,
 * dedup, process, map share it); the source chain's (expression filters)
 * must be the source's; key_by has none; top_k is 1; lcores.workers
 * must agree; errors point at the value.
 */
static void
test_operator_parallelism(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	struct sl_plan p;

	(void)state;
	assert_int_equal(load("par.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - filter: \"v > 1\"\n"
			      "    parallelism: 1\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m}\n"
			      "    parallelism: 3\n"
			      "  - {aggregate: [count()], parallelism: 3}\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.lcores.workers, 3);
	assert_int_equal(p.lcores.rx, 1);
	assert_int_equal(p.n_filters, 1);
	assert_int_equal(p.n_aggs, 1);
	assert_int_equal(p.window_size_ms, 60000);
	sl_plan_free(&p);
	/* the step's parallelism over parallelism.default; lcores agreeing */
	assert_int_equal(load("par.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - dedup: {within: 1s}\n"
			      "    parallelism: 2\n"
			      SINK "parallelism.default: 4\nlcores: {workers: 2}\n", &p, err), 0);
	assert_int_equal(p.lcores.workers, 2);
	sl_plan_free(&p);
	assert_int_equal(load("par.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - map: {k: k, twice: \"v * 2\"}\n"
			      "    parallelism: 2\n"
			      SINK, &p, err), 0);
	assert_true(p.stateless);
	assert_int_equal(p.lcores.workers, 2);
	sl_plan_free(&p);

	assert_int_equal(load("par.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m}\n"
			      "    parallelism: 3\n"
			      "  - aggregate: [count()]\n"
			      "    parallelism: 2\n"
			      SINK, &p, err), -EINVAL);
	assert_string_equal(err, "par.yaml:9:18: aggregate is chained to the operator with parallelism 3 (line 7), got 2; a keyed operator's steps share a parallelism");
	assert_int_equal(load("par.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "    parallelism: 2\n"
			      "  - window: {tumbling: 1m}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), -EINVAL);
	assert_string_equal(err, "par.yaml:6:5: key_by is a re-partition, not an operator: set parallelism on the operator after it (window, dedup, process)");
	assert_int_equal(load("par.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - filter: \"v > 1\"\n"
			      "    parallelism: 2\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), -EINVAL);
	assert_string_equal(err, "par.yaml:6:18: parallelism 2 differs from the source's (1: a file or gen source is read by one lcore); a filter or union runs chained to its source");
	assert_int_equal(load("par.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m}\n"
			      "    parallelism: 3\n"
			      "  - aggregate: [count()]\n"
			      SINK "lcores: {workers: 2}\n", &p, err), -EINVAL);
	assert_string_equal(err, "par.yaml:10:19: lcores.workers (2) differs from the parallelism of the pipeline's operator (3, line 7); give one of them");
	assert_int_equal(load("par.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m}\n"
			      "  - aggregate: [count()]\n"
			      "  - top_k: {k: 2, by: count}\n"
			      "    parallelism: 2\n"
			      SINK, &p, err), -EINVAL);
	assert_string_equal(err, "par.yaml:9:18: top_k ranks all of a window's rows in one place, where the sink gathers them: its parallelism is 1, got 2");
	/* a map before key_by is chained to the source, the filter after
	 * the aggregate to the window, the map after it to the sink */
	assert_int_equal(load("par.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - map: {k: k, ts: ts}\n"
			      "    parallelism: 1\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m}\n"
			      "    parallelism: 2\n"
			      "  - aggregate: [count() as n]\n"
			      "  - filter: \"n > 1\"\n"
			      "    parallelism: 2\n"
			      "  - map: {k: k, n: n}\n"
			      "    parallelism: 1\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.lcores.workers, 2);
	sl_plan_free(&p);
	assert_int_equal(load("par.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - map: {k: k, ts: ts}\n"
			      "    parallelism: 2\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), -EINVAL);
	assert_string_equal(err, "par.yaml:6:18: parallelism 2 differs from the source's (1: a file or gen source is read by one lcore); a filter or union runs chained to its source");
	assert_int_equal(load("par.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m}\n"
			      "    parallelism: 2\n"
			      "  - aggregate: [count() as n]\n"
			      "  - filter: \"n > 1\"\n"
			      "    parallelism: 3\n"
			      SINK, &p, err), -EINVAL);
	assert_string_equal(err, "par.yaml:10:18: filter is chained to the operator with parallelism 2 (line 7), got 3; a keyed operator's steps share a parallelism");
	assert_int_equal(load("par.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m}\n"
			      "  - aggregate: [count() as n]\n"
			      "  - map: {k: k, n: n}\n"
			      "    parallelism: 2\n"
			      SINK, &p, err), -EINVAL);
	assert_string_equal(err, "par.yaml:9:18: a map after the keyed stage runs where the sink writes the ordered rows: its parallelism is 1, got 2");
	assert_int_equal(load("par.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m}\n"
			      "    parallelism: 0\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), -EINVAL);
	assert_int_equal(load("par.yaml", HEAD SRC
			      "pipeline:\n"
			      "  - key_by: k\n"
			      "  - window: {tumbling: 1m}\n"
			      "    parallelism: 2\n"
			      "  - aggregate: [count()]\n"
			      SINK "lcores: {run_to_completion: true}\n", &p, err), -EINVAL);
	assert_string_equal(err, "par.yaml:7:18: parallelism 2 with run_to_completion, which is one lcore for everything");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_job),
		cmocka_unit_test(test_defaults_csv),
		cmocka_unit_test(test_defaults_ethdev),
		cmocka_unit_test(test_capture_punctuated),
		cmocka_unit_test(test_session_window),
		cmocka_unit_test(test_processing_time_window),
		cmocka_unit_test(test_top_k),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_distinct_aggregates),
		cmocka_unit_test(test_gen_source),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_invalid_jobs),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_error_after_filters),
		cmocka_unit_test(test_small_err_buffer),
		cmocka_unit_test(test_checkpointing_keys),
		cmocka_unit_test(test_stateless),
		cmocka_unit_test(test_ethdev_sink),
		cmocka_unit_test(test_restart_defaults),
		cmocka_unit_test(test_restart_and_placement),
		cmocka_unit_test(test_cpus_parse),
		cmocka_unit_test(test_udf_steps),
		cmocka_unit_test(test_operator_parallelism),
		cmocka_unit_test(test_compose_steps),
		cmocka_unit_test(test_R9_1_second_keyed_stage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
