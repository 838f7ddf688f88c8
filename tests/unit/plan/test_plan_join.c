/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: job files with several sources (sources:), a union of
 * same-schema sources and the join step (semantics.md section 7): each
 * kind parsed into struct sl_plan (sources, keys, bounds, output
 * columns), the single-source forms still filling inputs[0], and every
 * error a join or union job can have, as file:line:col: message. A
 * join's process (a co_process plugin: orderpay, and the test plugins
 * from SL_PLUGINS_DIR) is loaded and set up over both inputs at load:
 * its output and side outputs, and its errors at the key at fault.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_plan.h"

#define ORDERS "  orders:\n" \
	"    schema: {order_id: u64, amount: i64, ts: timestamp_ms}\n" \
	"    type: csv\n" \
	"    path: orders.csv\n" \
	"    timestamp: ts\n" \
	"    watermark: {out_of_orderness: 2s}\n"
#define PAYMENTS "  payments:\n" \
	"    schema: {pay_id: u32, ts: timestamp_ms, order_id: u64}\n" \
	"    type: csv\n" \
	"    path: payments.csv\n" \
	"    timestamp: ts\n" \
	"    watermark: {out_of_orderness: 1s, emit: punctuated}\n"
#define SINK "sink: {type: stdout}\n"

static int
load(const char *name, const char *yaml, struct sl_plan *p, char *err)
{
	return sl_plan_load_str(name, yaml, strlen(yaml), p, err, SL_PLAN_ERR_MAX);
}

static void
test_R7_1_interval_join_job(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	static struct sl_plan p;
	const struct sl_schema *o = &p.join.out;

	(void)state;
	assert_int_equal(load("j.yaml", "job: op\nsources:\n" ORDERS PAYMENTS
			      "pipeline:\n"
			      "  - join:\n"
			      "      left: orders\n"
			      "      right: payments\n"
			      "      key: order_id\n"
			      "      interval: {lower: -2s, upper: 1s, upper_exclusive: true}\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.n_inputs, 2);
	assert_string_equal(p.inputs[0].name, "orders");
	assert_string_equal(p.inputs[1].name, "payments");
	assert_int_equal(p.inputs[1].source.ts_field, 1);
	assert_int_equal(p.inputs[1].source.emit, SL_WM_PUNCTUATED);
	assert_int_equal(p.inputs[1].source.out_of_orderness_ms, 1000);
	assert_int_equal(p.inputs[0].source.out_of_orderness_ms, 2000);
	/* The first source is also schema and source. */
	assert_int_equal(p.schema.n_fields, 3);
	assert_string_equal(p.source.path, "orders.csv");
	assert_int_equal(p.join.kind, SL_PLAN_JOIN_INTERVAL);
	assert_int_equal(p.join.left, 0);
	assert_int_equal(p.join.right, 1);
	assert_int_equal(p.join.n_keys, 1);
	assert_int_equal(p.join.left_key[0], 0);
	assert_int_equal(p.join.right_key[0], 2);
	assert_int_equal(p.join.lower_ms, -2000);
	assert_int_equal(p.join.upper_ms, 1000);
	assert_false(p.join.lower_exclusive);
	assert_true(p.join.upper_exclusive);
	/* join_ts, the left's fields, the right's, renamed on a clash. */
	assert_int_equal(o->n_fields, 7);
	assert_string_equal(o->f[0].name, "join_ts");
	assert_int_equal(o->f[0].type, SL_T_TS);
	assert_string_equal(o->f[1].name, "order_id");
	assert_string_equal(o->f[3].name, "ts");
	assert_string_equal(o->f[4].name, "pay_id");
	assert_string_equal(o->f[5].name, "payments_ts");
	assert_string_equal(o->f[6].name, "payments_order_id");
	assert_int_equal(o->row_size, 8 + 24 + 20);
	assert_int_equal(p.n_union, 0);
	sl_plan_free(&p);
}

static void
test_W7_2_window_join_job(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	static struct sl_plan p;

	(void)state;
	assert_int_equal(load("j.yaml", "job: op\nsources:\n" ORDERS PAYMENTS
			      "pipeline:\n"
			      "  - join: {left: payments, right: orders, key: [order_id],\n"
			      "           window: {tumbling: 2s, offset: 500ms}}\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.join.kind, SL_PLAN_JOIN_WINDOW);
	assert_int_equal(p.join.left, 1);
	assert_int_equal(p.join.right, 0);
	assert_int_equal(p.join.size_ms, 2000);
	assert_int_equal(p.join.offset_ms, 500);
	assert_string_equal(p.join.out.f[1].name, "pay_id");
	assert_string_equal(p.join.out.f[4].name, "orders_order_id");
	assert_int_equal(p.join.slide_ms, 0);
	sl_plan_free(&p);
	/* R7.4: sliding windows. */
	assert_int_equal(load("j.yaml", "job: op\nsources:\n" ORDERS PAYMENTS
			      "pipeline:\n"
			      "  - join: {left: orders, right: payments, key: order_id,\n"
			      "           window: {sliding: 10s, slide: 5s}}\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.join.size_ms, 10000);
	assert_int_equal(p.join.slide_ms, 5000);
	assert_int_equal(p.join.gap_ms, 0);
	sl_plan_free(&p);
	/* R7.4: session windows of both sides' rows. */
	assert_int_equal(load("j.yaml", "job: op\nsources:\n" ORDERS PAYMENTS
			      "pipeline:\n"
			      "  - join: {left: orders, right: payments, key: order_id,\n"
			      "           window: {session: 30s}}\n"
			      SINK
			      "late_sink: {type: csv, path: late.csv}\n", &p, err), 0);
	assert_int_equal(p.join.kind, SL_PLAN_JOIN_WINDOW);
	assert_int_equal(p.join.gap_ms, 30000);
	assert_int_equal(p.join.size_ms, 0);
	assert_true(p.has_late_sink);
	sl_plan_free(&p);
}

static void
test_W7_3_match_job(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	static struct sl_plan p;

	(void)state;
	assert_int_equal(load("j.yaml", "job: op\nsources:\n" ORDERS PAYMENTS
			      "pipeline:\n"
			      "  - join:\n"
			      "      left: orders\n"
			      "      right: payments\n"
			      "      key: {left: order_id, right: [order_id]}\n"
			      "      match: {timeout: 15m}\n"
			      SINK
			      "late_sink: {type: csv, path: unmatched.csv}\n", &p, err), 0);
	assert_int_equal(p.join.kind, SL_PLAN_JOIN_MATCH);
	assert_int_equal(p.join.timeout_ms, 900000);
	assert_true(p.has_late_sink);
	sl_plan_free(&p);
}

static void
test_enrich_job(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	static struct sl_plan p;

	(void)state;
	assert_int_equal(load("j.yaml", "job: op\nsources:\n" ORDERS PAYMENTS
			      "pipeline:\n"
			      "  - join: {left: orders, right: payments, key: order_id, enrich: {outer: true}}\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.join.kind, SL_PLAN_JOIN_ENRICH);
	assert_true(p.join.outer);
	sl_plan_free(&p);
	assert_int_equal(load("j.yaml", "job: op\nsources:\n" ORDERS PAYMENTS
			      "pipeline:\n"
			      "  - join:\n      left: orders\n      right: payments\n"
			      "      key: order_id\n      enrich:\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.join.kind, SL_PLAN_JOIN_ENRICH);
	assert_false(p.join.outer);
	assert_int_equal(p.join.ttl_ms, 0);
	sl_plan_free(&p);
	/* R5.5: a TTL on the stored rows, in processing time. */
	assert_int_equal(load("j.yaml", "job: op\nsources:\n" ORDERS PAYMENTS
			      "pipeline:\n"
			      "  - join: {left: orders, right: payments, key: order_id, enrich: {ttl: 10s}}\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.join.ttl_ms, 10000);
	assert_false(p.join.outer);
	sl_plan_free(&p);
}

/* Steps after a join: filters and a map over its pairs (join_ts, the
 * left's fields, the right's). */
static void
test_W7_1_steps_after_join(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	static struct sl_plan p;

	(void)state;
	assert_int_equal(load("j.yaml", "job: op\nsources:\n" ORDERS PAYMENTS
			      "pipeline:\n"
			      "  - join: {left: orders, right: payments, key: order_id, interval: {lower: -2s, upper: 1s}}\n"
			      "  - filter: \"amount > 10\"\n"
			      "  - map: {order_id: order_id, pay_id: pay_id, due: \"payments_ts - ts\"}\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.join.kind, SL_PLAN_JOIN_INTERVAL);
	assert_int_equal(p.n_post_filters, 1);
	assert_string_equal(p.post_filter_text[0], "amount > 10");
	assert_int_equal(p.stage_out.n_fields, p.join.out.n_fields);
	assert_int_equal(p.n_post_map, 3);
	assert_string_equal(p.post_map_text[2], "payments_ts - ts");
	assert_false(p.stateless);
	sl_plan_free(&p);
}

/* R5.3's broadcast state pattern: the right source is the rules stream. */
static void
test_broadcast_job(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	static struct sl_plan p;

	(void)state;
	assert_int_equal(load("j.yaml", "job: op\nsources:\n" ORDERS PAYMENTS
			      "pipeline:\n"
			      "  - join: {left: orders, right: payments, key: order_id, broadcast: {outer: true}}\n"
			      SINK "late_sink: {type: csv, path: late.csv}\n", &p, err), 0);
	assert_int_equal(p.join.kind, SL_PLAN_JOIN_BROADCAST);
	assert_true(p.join.outer);
	assert_true(p.has_late_sink);
	assert_int_equal(p.join.left, 0);
	assert_int_equal(p.join.right, 1);
	sl_plan_free(&p);
	assert_int_equal(load("j.yaml", "job: op\nsources:\n" ORDERS PAYMENTS
			      "pipeline:\n"
			      "  - join:\n      left: orders\n      right: payments\n"
			      "      key: order_id\n      broadcast:\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.join.kind, SL_PLAN_JOIN_BROADCAST);
	assert_false(p.join.outer);
	sl_plan_free(&p);
}

/* The event-time temporal join: the right source is a versioned table. */
static void
test_temporal_job(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	static struct sl_plan p;

	(void)state;
	assert_int_equal(load("j.yaml", "job: op\nsources:\n" ORDERS PAYMENTS
			      "pipeline:\n"
			      "  - join: {left: orders, right: payments, key: order_id, temporal: {outer: true}}\n"
			      SINK "late_sink: {type: csv, path: late.csv}\n", &p, err), 0);
	assert_int_equal(p.join.kind, SL_PLAN_JOIN_TEMPORAL);
	assert_true(p.join.outer);
	sl_plan_free(&p);
	assert_int_equal(load("j.yaml", "job: op\nsources:\n" ORDERS PAYMENTS
			      "pipeline:\n"
			      "  - join: {left: orders, right: payments, key: order_id, temporal: }\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.join.kind, SL_PLAN_JOIN_TEMPORAL);
	assert_false(p.join.outer);
	sl_plan_free(&p);
}

#define CLICKS(n, f) "  " n ":\n" \
	"    schema: {user: u64, url: u32, ts: timestamp_ms}\n" \
	"    type: csv\n" \
	"    path: " f "\n" \
	"    timestamp: ts\n"

/* Item 3: a union of same-schema sources, then the usual pipeline. */
static void
test_union_job(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	static struct sl_plan p;

	(void)state;
	assert_int_equal(load("u.yaml", "job: u\nsources:\n" CLICKS("eu", "eu.csv") CLICKS("us", "us.csv")
			      "pipeline:\n"
			      "  - union: [us, eu]\n"
			      "  - filter: \"url != 0\"\n"
			      "  - key_by: user\n"
			      "  - window: {tumbling: 1m}\n"
			      "  - aggregate: [count()]\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.n_inputs, 2);
	assert_int_equal(p.n_union, 2);
	assert_int_equal(p.union_input[0], 1);
	assert_int_equal(p.union_input[1], 0);
	assert_string_equal(p.inputs[1].source.path, "us.csv");
	assert_int_equal(p.n_filters, 1);
	assert_int_equal(p.n_keys, 1);
	assert_int_equal(p.window_size_ms, 60000);
	assert_int_equal(p.join.kind, SL_PLAN_JOIN_NONE);
	sl_plan_free(&p);
	/* A union alone: a stateless pipeline of the united rows. */
	assert_int_equal(load("u.yaml", "job: u\nsources:\n" CLICKS("eu", "eu.csv") CLICKS("us", "us.csv")
			      "pipeline: [{union: [eu, us]}]\n" SINK, &p, err), 0);
	assert_true(p.stateless);
	sl_plan_free(&p);
}

/* sources: with one entry, and schema + source, both fill inputs[0]. */
static void
test_single_source_forms(void **state)
{
	char err[SL_PLAN_ERR_MAX];
	static struct sl_plan p;

	(void)state;
	assert_int_equal(load("s.yaml", "job: s\nsources:\n" CLICKS("only", "a.csv")
			      "pipeline: [{key_by: user}, {window: {tumbling: 1s}}, {aggregate: [count()]}]\n"
			      SINK, &p, err), 0);
	assert_int_equal(p.n_inputs, 1);
	assert_string_equal(p.inputs[0].name, "only");
	assert_string_equal(p.source.path, "a.csv");
	sl_plan_free(&p);
	assert_int_equal(load("s.yaml", "job: s\nschema: {user: u64, ts: timestamp_ms}\n"
			      "source: {type: csv, path: b.csv, timestamp: ts}\n"
			      "pipeline: []\n" SINK, &p, err), 0);
	assert_int_equal(p.n_inputs, 1);
	assert_string_equal(p.inputs[0].name, "source");
	assert_string_equal(p.inputs[0].source.path, "b.csv");
	assert_int_equal(p.inputs[0].schema.n_fields, 2);
	sl_plan_free(&p);
}

struct bad_case {
	const char *name;
	const char *yaml;
	const char *err;
};

#define JOIN_HEAD "job: op\nsources:\n" ORDERS PAYMENTS "pipeline:\n"

static const struct bad_case bad_cases[] = {
	{ "unknown_source", JOIN_HEAD
	  "  - join: {left: orders, right: payment, key: order_id, match: {timeout: 1m}}\n" SINK,
	  "unknown_source:16:33: unknown source 'payment' in join.right; sources are: orders, payments" },
	{ "same_source", JOIN_HEAD
	  "  - join: {left: orders, right: orders, key: order_id, match: {timeout: 1m}}\n" SINK,
	  "same_source:16:33: join: left and right are the same source 'orders'; a join takes two" },
	{ "key_types_differ", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: {left: order_id, right: pay_id}, match: {timeout: 1m}}\n" SINK,
	  "key_types_differ:16:72: join key 'order_id' is u64 in 'orders' but 'pay_id' is u32 in 'payments'; join keys must have the same types" },
	{ "key_missing_right", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: amount, match: {timeout: 1m}}\n" SINK,
	  "key_missing_right:16:48: unknown field 'amount' in the key of 'payments'; schema has: pay_id, ts, order_id" },
	{ "key_count", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: {left: [order_id, ts], right: order_id}, match: {timeout: 1m}}\n" SINK,
	  "key_count:16:78: join key: 2 fields on the left but 1 on the right" },
	{ "bad_bounds", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, interval: {lower: 1s, upper: -1s}}\n" SINK,
	  "bad_bounds:16:76: join interval: lower bound 1s is above upper bound -1s; the interval [lower, upper] must not be empty" },
	{ "empty_exclusive", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, interval: {lower: 0ms, upper: 0ms, lower_exclusive: true}}\n" SINK,
	  "empty_exclusive:16:76: join interval: lower bound 0ms (exclusive) is above upper bound 0ms; the interval [lower, upper] must not be empty" },
	{ "no_upper", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, interval: {lower: 1s}}\n" SINK,
	  "no_upper:16:68: missing required key 'upper' in join.interval" },
	{ "no_kind", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id}\n" SINK,
	  "no_kind:16:11: join needs one of: interval, window, match, enrich, process, broadcast, temporal" },
	{ "two_kinds", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, enrich: {}, match: {timeout: 1s}}\n" SINK,
	  "two_kinds:16:70: join takes one of interval, window, match, enrich, process, broadcast or temporal; got both enrich and match" },
	{ "window_offset", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, window: {tumbling: 2s, offset: 2s}}\n" SINK,
	  "window_offset:16:89: join window offset must satisfy |offset| < size (2s), got 2s" },
	{ "slide_above_size", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, window: {sliding: 2s, slide: 3s}}\n" SINK,
	  "slide_above_size:16:87: join window slide must be > 0 and at most the size (2s), got 3s" },
	{ "sliding_no_slide", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, window: {sliding: 2s}}\n" SINK,
	  "sliding_no_slide:16:66: missing required key 'slide' in join.window" },
	{ "tumbling_slide", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, window: {tumbling: 2s, slide: 1s}}\n" SINK,
	  "tumbling_slide:16:88: 'slide' belongs to a sliding window; write 'sliding: SIZE' instead of 'tumbling'" },
	{ "session_zero", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, window: {session: 0ms}}\n" SINK,
	  "session_zero:16:76: join session gap must be > 0 (and at most 4611686018427387903 ms), got 0ms" },
	{ "session_and_tumbling", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, window: {tumbling: 1s, session: 1s}}\n" SINK,
	  "session_and_tumbling:16:67: 'tumbling' does not go with a session window; write 'session: GAP' alone" },
	{ "window_no_kind", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, window: {offset: 1s}}\n" SINK,
	  "window_no_kind:16:66: join window needs 'tumbling: SIZE', 'sliding: SIZE' with 'slide: SLIDE', or 'session: GAP'" },
	{ "match_zero", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, match: {timeout: 0s}}\n" SINK,
	  "match_zero:16:75: join match timeout must be > 0, got 0s" },
	{ "filter_after_join_unknown", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, enrich: {}}\n"
	  "  - filter: \"window_end > 1\"\n" SINK,
	  "filter_after_join_unknown:17:14: filter: unknown field 'window_end'; fields are: join_ts, order_id, amount, ts, pay_id, payments_ts, payments_order_id" },
	{ "step_after_join", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, enrich: {}}\n"
	  "  - key_by: order_id\n" SINK,
	  "step_after_join:17:5: key_by after a join is not supported yet; a join's rows take filter and map steps, then go to the sink" },
	{ "join_not_first", JOIN_HEAD
	  "  - filter: \"amount > 0\"\n"
	  "  - join: {left: orders, right: payments, key: order_id, enrich: {}}\n" SINK,
	  "join_not_first:17:5: join must be the first pipeline step" },
	{ "no_union", JOIN_HEAD
	  "  - key_by: order_id\n" SINK,
	  "no_union:16:3: this job has 2 sources (orders, payments); its pipeline must start with a union or be a join" },
	{ "union_schema_mismatch", JOIN_HEAD
	  "  - union: [orders, payments]\n" SINK,
	  "union_schema_mismatch:16:21: union: source 'payments' has schema {pay_id:u32,ts:timestamp_ms,order_id:u64} but 'orders' has {order_id:u64,amount:i64,ts:timestamp_ms}; a union needs the same schema" },
	{ "union_twice", "job: u\nsources:\n" CLICKS("eu", "eu.csv") CLICKS("us", "us.csv")
	  "pipeline: [{union: [eu, eu]}]\n" SINK,
	  "union_twice:13:25: source 'eu' is twice in the union" },
	{ "union_one_source", "job: u\nschema: {a: u64, ts: timestamp_ms}\n"
	  "source: {type: csv, path: a.csv, timestamp: ts}\n"
	  "pipeline: [{union: [source, source]}]\n" SINK,
	  "union_one_source:4:13: union needs two or more sources, named under sources:; this job has one" },
	{ "unused_source", "job: u\nsources:\n" CLICKS("eu", "eu.csv") CLICKS("us", "us.csv")
	  CLICKS("asia", "asia.csv")
	  "pipeline: [{join: {left: eu, right: us, key: user, enrich: {}}}]\n" SINK,
	  "unused_source:18:19: source 'asia' is not used by the join; every source of a job must be" },
	{ "both_forms", "job: u\nschema: {a: u64, ts: timestamp_ms}\n"
	  "sources:\n" CLICKS("eu", "eu.csv")
	  "pipeline: []\n" SINK,
	  "both_forms:2:1: give either schema and source, or sources, not both" },
	{ "source_no_schema", "job: u\nsources:\n  eu: {type: csv, path: eu.csv, timestamp: ts}\n"
	  "pipeline: []\n" SINK,
	  "source_no_schema:3:7: missing required key 'schema' in sources.eu" },
	{ "source_bad_key", "job: u\nsources:\n"
	  "  eu: {schema: {ts: timestamp_ms}, type: csv, path: eu.csv, timestamp: ts, prot: 1}\n"
	  "pipeline: []\n" SINK,
	  "source_bad_key:3:76: unknown key 'prot' in sources.eu; expected one of: type, port, udp_port, queues, partitions, path, rate, timestamp, watermark" },
	{ "source_bad_ts", "job: u\nsources:\n"
	  "  eu: {schema: {ts: timestamp_ms}, type: csv, path: eu.csv, timestamp: t}\n"
	  "pipeline: []\n" SINK,
	  "source_bad_ts:3:72: unknown field 't' in timestamp; schema has: ts" },
	{ "source_bad_name", "job: u\nsources:\n"
	  "  9eu: {schema: {ts: timestamp_ms}, type: csv, path: eu.csv, timestamp: ts}\n"
	  "pipeline: []\n" SINK,
	  "source_bad_name:3:3: invalid source name '9eu'; expected [A-Za-z_][A-Za-z0-9_]{0,62}" },
	{ "enrich_ttl_zero", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, enrich: {outer: true, ttl: 0s}}\n" SINK,
	  "enrich_ttl_zero:16:85: join enrich ttl must be > 0 (leave it out for none), got 0s" },
	{ "enrich_ttl_bad", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, enrich: {ttl: soon}}\n" SINK,
	  "enrich_ttl_bad:16:72: expected a duration like 10s or 250ms, got 'soon'" },
	{ "enrich_bad_key", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, enrich: {state_ttl: 1s}}\n" SINK,
	  "enrich_bad_key:16:67: unknown key 'state_ttl' in join.enrich; expected one of: outer, ttl" },
	{ "enrich_late_sink", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, enrich: {}}\n" SINK
	  "late_sink: {type: csv, path: late.csv}\n",
	  "enrich_late_sink:18:12: late_sink takes the rows a join drops as late or unmatched, and an enrich join has none" },
	{ "broadcast_unknown_key", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, broadcast: {outr: true}}\n" SINK,
	  "broadcast_unknown_key:16:70: unknown key 'outr' in join.broadcast; expected one of: outer" },
	{ "broadcast_outer_not_bool", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, broadcast: {outer: 3}}\n" SINK,
	  "broadcast_outer_not_bool:16:77: expected true or false for 'outer', got '3'" },
	{ "broadcast_not_map", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, broadcast: [outer]}\n" SINK,
	  "broadcast_not_map:16:69: expected a mapping for 'broadcast', got a sequence" },
	{ "broadcast_and_enrich", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, enrich: {}, broadcast: {}}\n" SINK,
	  "broadcast_and_enrich:16:70: join takes one of interval, window, match, enrich, process, broadcast or temporal; got both enrich and broadcast" },
	{ "temporal_unknown_key", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, temporal: {outr: true}}\n" SINK,
	  "temporal_unknown_key:16:69: unknown key 'outr' in join.temporal; expected one of: outer" },
	{ "temporal_not_map", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, temporal: 3}\n" SINK,
	  "temporal_not_map:16:68: expected a mapping for 'temporal', got a scalar" },
	{ "two_ethdev", "job: u\nsources:\n"
	  "  a: {schema: {k: u64, ts: timestamp_ms}, type: ethdev, port: net_null0, timestamp: ts}\n"
	  "  b: {schema: {k: u64, ts: timestamp_ms}, type: ethdev, port: net_null1, timestamp: ts}\n"
	  "pipeline: [{union: [a, b]}]\n" SINK,
	  "two_ethdev:4:49: source 'b' is the job's second ethdev source; a job reads one port (give the others as csv, capture or gen)" },
	{ "left_join_ts", "job: u\nsources:\n"
	  "  a: {schema: {join_ts: timestamp_ms}, type: csv, path: a.csv, timestamp: join_ts}\n"
	  "  b: {schema: {join_ts: timestamp_ms}, type: csv, path: b.csv, timestamp: join_ts}\n"
	  "pipeline: [{join: {left: a, right: b, key: join_ts, enrich: {}}}]\n" SINK,
	  "left_join_ts:5:19: field 'join_ts' of 'a' is named like the join's output column join_ts; rename it" },
};

static void
test_W7_3_process_job(void **state)
{
	char err[SL_PLAN_ERR_MAX], yaml[4096];
	static struct sl_plan p;
	const char *dir = getenv("SL_PLUGINS_DIR");

	(void)state;
	assert_non_null(dir);
	snprintf(yaml, sizeof(yaml), "job: op\nsources:\n" ORDERS PAYMENTS
		 "pipeline:\n"
		 "  - join:\n"
		 "      left: orders\n"
		 "      right: payments\n"
		 "      key: order_id\n"
		 "      process: {plugin: orderpay, function: match, timeout: 15m}\n"
		 SINK
		 "side_sink: {output: unmatched, type: csv, path: unmatched.csv}\n"
		 "plugins: {dir: %s}\n", dir);
	assert_int_equal(load("j.yaml", yaml, &p, err), 0);
	assert_int_equal(p.join.kind, SL_PLAN_JOIN_PROCESS);
	assert_int_equal(p.udf_kind, SLUICE_FN_CO_PROCESS);
	assert_string_equal(p.udf_plugin, "orderpay");
	assert_string_equal(p.udf_function, "match");
	assert_int_equal(p.udf_n_params, 1);
	assert_string_equal(p.udf_param[0].name, "timeout");
	assert_string_equal(p.udf_param[0].value, "15m");
	/* It declares no column: its rows are the join's. */
	assert_int_equal(p.udf_out.n_fields, 7);
	assert_int_equal(p.udf_out.row_size, p.join.out.row_size);
	for (uint16_t i = 0; i < 7; i++)
		assert_string_equal(p.udf_out.f[i].name, p.join.out.f[i].name);
	assert_int_equal(p.udf_n_sides, 1);
	assert_string_equal(p.udf_side[0], "unmatched");
	assert_int_equal(p.side_tag, 0);
	assert_true(p.has_late_sink);
	sl_plan_free(&p);
	/* sluiced's load runs no plugin: the step's syntax only. */
	assert_int_equal(sl_plan_load_str_flags("j.yaml", yaml, strlen(yaml), SL_PLAN_NO_PLUGINS,
						&p, err, sizeof(err)), 0);
	assert_true(p.udf_unloaded);
	assert_int_equal(p.join.kind, SL_PLAN_JOIN_PROCESS);
	sl_plan_free(&p);
}

/* A join's process's errors; %s is the plugins directory. */
static const struct bad_case process_cases[] = {
	{ "no_function", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, process: {plugin: orderpay}}\n"
	  SINK "plugins: {dir: %s}\n",
	  "no_function:16:67: missing required key 'function' in join process" },
	{ "no_plugin", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, process: {function: match}}\n"
	  SINK "plugins: {dir: %s}\n",
	  "no_plugin:16:67: join process with a user function needs plugin: NAME (the file DIR/NAME.so of plugins: {dir: DIR}) and function: NAME" },
	{ "no_such_function", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, process: {plugin: orderpay, function: nope}}\n"
	  SINK "plugins: {dir: %s}\n",
	  "no_such_function:16:96: plugin 'orderpay' has no function 'nope'; it has: match (co_process), wait (co_process)" },
	{ "one_input_function", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, process: {plugin: burst, function: burst}}\n"
	  SINK "plugins: {dir: %s}\n",
	  "one_input_function:16:93: function 'burst' of plugin 'burst' is a process function, not a co_process function" },
	{ "bad_timeout", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, process: {plugin: orderpay, function: match, timeout: 0s}}\n"
	  SINK "plugins: {dir: %s}\n",
	  "bad_timeout:16:96: function 'match': orderpay match needs timeout: a duration > 0" },
	{ "unknown_param", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, process: {plugin: orderpay, function: match, timeout: 1s, timeot: 2s}}\n"
	  SINK "plugins: {dir: %s}\n",
	  "unknown_param:16:116: function 'match' takes no parameter 'timeot'" },
	{ "abi", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, process: {plugin: abi_next, function: f}}\n"
	  SINK "plugins: {dir: %s}\n",
	  "abi:16:76: plugin %s/abi_next.so was built against UDF ABI version 2, this sluice expects version 1: rebuild it against this sluice's sluice/udf.h" },
	{ "process_late_sink", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, process: {plugin: orderpay, function: match, timeout: 1s}}\n"
	  SINK "late_sink: {type: csv, path: late.csv}\nplugins: {dir: %s}\n",
	  "process_late_sink:18:12: late_sink takes the rows a join drops as late or unmatched, and a join's process function drops none; its side output goes to side_sink: {output: NAME, ...}" },
	{ "side_output_unknown", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, process: {plugin: orderpay, function: match, timeout: 1s}}\n"
	  SINK "side_sink: {output: late, type: csv, path: late.csv}\nplugins: {dir: %s}\n",
	  "side_output_unknown:18:21: function 'match' has no side output 'late'; it has: unmatched" },
	{ "process_not_map", JOIN_HEAD
	  "  - join: {left: orders, right: payments, key: order_id, process: orderpay}\n"
	  SINK "plugins: {dir: %s}\n",
	  "process_not_map:16:67: expected a mapping for 'join process', got a scalar" },
};

static void
test_process_join_errors(void **state)
{
	const char *dir = getenv("SL_PLUGINS_DIR");
	unsigned int failed = 0;

	(void)state;
	assert_non_null(dir);
	for (size_t i = 0; i < sizeof(process_cases) / sizeof(process_cases[0]); i++) {
		const struct bad_case *bc = &process_cases[i];
		char err[SL_PLAN_ERR_MAX], yaml[4096], want[1024];
		static struct sl_plan p;
		int rc;

		snprintf(yaml, sizeof(yaml), bc->yaml, dir);
		snprintf(want, sizeof(want), bc->err, dir);
		rc = load(bc->name, yaml, &p, err);
		if (rc != -EINVAL || strcmp(err, want) != 0) {
			print_message("case %s: rc %d\n  got:  %s\n  want: %s\n",
				      bc->name, rc, err, want);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void
test_join_errors(void **state)
{
	unsigned int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		char err[SL_PLAN_ERR_MAX];
		static struct sl_plan p;
		int rc;

		rc = load(bc->name, bc->yaml, &p, err);
		if (rc != -EINVAL || strcmp(err, bc->err) != 0) {
			print_message("case %s: rc %d\n  got:  %s\n  want: %s\n",
				      bc->name, rc, err, bc->err);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_R7_1_interval_join_job),
		cmocka_unit_test(test_W7_2_window_join_job),
		cmocka_unit_test(test_W7_3_match_job),
		cmocka_unit_test(test_enrich_job),
		cmocka_unit_test(test_W7_1_steps_after_join),
		cmocka_unit_test(test_broadcast_job),
		cmocka_unit_test(test_temporal_job),
		cmocka_unit_test(test_union_job),
		cmocka_unit_test(test_single_source_forms),
		cmocka_unit_test(test_join_errors),
		cmocka_unit_test(test_W7_3_process_job),
		cmocka_unit_test(test_process_join_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
