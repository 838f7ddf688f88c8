/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Job file -> struct sl_plan: the top-level mapping, schema, sink, lcores,
 * the Flink-style tuning keys and EAL arguments, then the checks that span
 * sections. Sections are parsed in a fixed order (schema first: everything
 * else refers to its fields) and the first error wins.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_expr.h"
#include "plan_private.h"

#define PLAN_MAX_PARALLELISM 32768
#define PLAN_MAX_KEY_CAPACITY (1 << 26)

static const char *const top_keys[] = {
	"job", "schema", "source", "sources", "pipeline", "sink", "late_sink", "lcores",
	"plugins", "side_sink",
	"pipeline.max-parallelism", "state.key-capacity", "eal",
	"parallelism.default", "restart-strategy.type",
	"restart-strategy.fixed-delay.attempts",
	"restart-strategy.fixed-delay.delay",
	"restart-strategy.exponential-delay.initial-backoff",
	"restart-strategy.exponential-delay.max-backoff",
	"restart-strategy.exponential-delay.backoff-multiplier",
	"restart-strategy.exponential-delay.attempts",
	"execution.checkpointing.interval", "execution.checkpointing.mode",
	"execution.checkpointing.timeout", "execution.checkpointing.min-pause",
	"execution.checkpointing.max-concurrent-checkpoints",
	"execution.checkpointing.tolerable-failed-checkpoints",
	"execution.checkpointing.unaligned",
	"execution.checkpointing.unaligned.enabled",
	"execution.checkpointing.incremental", "state.backend.incremental",
	"state.checkpoints.dir", "state.checkpoints.num-retained",
	"state.backend.type", "state.backend.heap.memory",
	"state.backend.rocksdb.localdir", "state.backend.rocksdb.block.cache-size",
	"state.backend.rocksdb.writebuffer.size", NULL,
};

/* state.backend.*: which keyed-state backend, and its memory. */
static int
plan_state_backend(struct plan_ctx *c, const struct plan_node *root)
{
	struct sl_plan_state *s = &c->p->state;
	struct plan_node *v;
	char type[32];

	s->backend = SL_PLAN_BACKEND_HEAP;
	s->heap_memory = 128ull << 20;
	s->rocksdb_block_cache = 64ull << 20;
	s->rocksdb_write_buffer = 64ull << 20;
	v = plan_map_get(root, "state.backend.type", NULL);
	if (v != NULL) {
		if (plan_get_str(c, v, "state.backend.type", type, sizeof(type)) < 0)
			return -EINVAL;
		if (strcmp(type, "rocksdb") == 0)
			s->backend = SL_PLAN_BACKEND_ROCKSDB;
		else if (strcmp(type, "heap") != 0 && strcmp(type, "hashmap") != 0)
			return plan_err(c, v, "state.backend.type must be heap (or hashmap) or rocksdb, got '%s'",
					type);
	}
	v = plan_map_get(root, "state.backend.heap.memory", NULL);
	if (v != NULL && plan_get_memsize(c, v, "state.backend.heap.memory",
					  32ull << 20, 1ull << 40, &s->heap_memory) < 0)
		return -EINVAL;
	v = plan_map_get(root, "state.backend.rocksdb.localdir", NULL);
	if (v != NULL && plan_get_str(c, v, "state.backend.rocksdb.localdir",
				      s->rocksdb_dir, sizeof(s->rocksdb_dir)) < 0)
		return -EINVAL;
	v = plan_map_get(root, "state.backend.rocksdb.block.cache-size", NULL);
	if (v != NULL && plan_get_memsize(c, v, "state.backend.rocksdb.block.cache-size",
					  1ull << 20, 1ull << 40, &s->rocksdb_block_cache) < 0)
		return -EINVAL;
	v = plan_map_get(root, "state.backend.rocksdb.writebuffer.size", NULL);
	if (v != NULL && plan_get_memsize(c, v, "state.backend.rocksdb.writebuffer.size",
					  1ull << 20, 1ull << 40, &s->rocksdb_write_buffer) < 0)
		return -EINVAL;
	/* Flink 1.x's key and Flink 2's; both default to false. */
	for (unsigned int i = 0; i < 2; i++) {
		const char *key = i == 0 ? "state.backend.incremental" :
			"execution.checkpointing.incremental";

		v = plan_map_get(root, key, NULL);
		if (v != NULL && plan_get_bool(c, v, key, &s->incremental) < 0)
			return -EINVAL;
	}
	return 0;
}

/* execution.checkpointing.* and state.checkpoints.*: Flink's defaults (R6.6). */
static int
plan_checkpointing(struct plan_ctx *c, const struct plan_node *root)
{
	struct sl_plan_ckpt *k = &c->p->ckpt;
	struct plan_node *v, *interval;
	const char *key;
	char mode[32];
	int64_t i64;

	k->timeout_ms = 10 * 60 * 1000;
	k->max_concurrent = 1;
	k->num_retained = 1;
	interval = plan_map_get(root, "execution.checkpointing.interval", NULL);
	if (interval != NULL) {
		if (plan_get_duration(c, interval, &k->interval_ms) < 0)
			return -EINVAL;
		if (k->interval_ms < 10)
			return plan_err(c, interval, "execution.checkpointing.interval must be >= 10ms, got %lldms",
					(long long)k->interval_ms);
	}
	v = plan_map_get(root, "execution.checkpointing.mode", NULL);
	if (v != NULL) {
		if (plan_get_str(c, v, "execution.checkpointing.mode", mode, sizeof(mode)) < 0)
			return -EINVAL;
		if (strcmp(mode, "AT_LEAST_ONCE") == 0)
			k->at_least_once = true;
		else if (strcmp(mode, "EXACTLY_ONCE") != 0)
			return plan_err(c, v, "execution.checkpointing.mode must be EXACTLY_ONCE or AT_LEAST_ONCE, got '%s'",
					mode);
	}
	/* Flink 1.x says .unaligned, Flink 2 .unaligned.enabled: take both. */
	key = "execution.checkpointing.unaligned";
	v = plan_map_get(root, key, NULL);
	if (v == NULL) {
		key = "execution.checkpointing.unaligned.enabled";
		v = plan_map_get(root, key, NULL);
	}
	if (v != NULL) {
		if (plan_get_bool(c, v, key, &k->unaligned) < 0)
			return -EINVAL;
		if (k->unaligned && k->at_least_once)
			return plan_err(c, v, "unaligned checkpoints need execution.checkpointing.mode EXACTLY_ONCE (AT_LEAST_ONCE never aligns)");
		if (k->unaligned && c->p->stateless)
			return plan_err(c, v, "unaligned checkpoints are for keyed pipelines; a stateless one has no state for in-flight rows to join (leave it aligned)");
		if (k->unaligned && c->p->dedup_within_ms > 0)
			return plan_err(c, v, "unaligned checkpoints are not supported with dedup yet (its in-flight rows would have to be replayed into the sink); leave it aligned");
		if (k->unaligned && c->p->udf_kind == SLUICE_FN_PROCESS)
			return plan_err(c, v, "unaligned checkpoints are not supported with process yet (its in-flight rows would have to be replayed into the sink); leave it aligned");
	}
	v = plan_map_get(root, "execution.checkpointing.timeout", NULL);
	if (v != NULL && (plan_get_duration(c, v, &k->timeout_ms) < 0))
		return -EINVAL;
	if (k->timeout_ms <= 0)
		return plan_err(c, v, "execution.checkpointing.timeout must be > 0");
	v = plan_map_get(root, "execution.checkpointing.min-pause", NULL);
	if (v != NULL && (plan_get_duration(c, v, &k->min_pause_ms) < 0))
		return -EINVAL;
	if (k->min_pause_ms < 0)
		return plan_err(c, v, "execution.checkpointing.min-pause must be >= 0");
	v = plan_map_get(root, "execution.checkpointing.max-concurrent-checkpoints", NULL);
	if (v != NULL) {
		if (plan_get_int(c, v, "execution.checkpointing.max-concurrent-checkpoints", 1, 16, &i64) < 0)
			return -EINVAL;
		k->max_concurrent = (uint32_t)i64;
	}
	v = plan_map_get(root, "execution.checkpointing.tolerable-failed-checkpoints", NULL);
	if (v != NULL) {
		if (plan_get_int(c, v, "execution.checkpointing.tolerable-failed-checkpoints", 0, 1000000, &i64) < 0)
			return -EINVAL;
		k->tolerable_failures = (uint32_t)i64;
	}
	v = plan_map_get(root, "state.checkpoints.num-retained", NULL);
	if (v != NULL) {
		if (plan_get_int(c, v, "state.checkpoints.num-retained", 1, 1000, &i64) < 0)
			return -EINVAL;
		k->num_retained = (uint32_t)i64;
	}
	v = plan_map_get(root, "state.checkpoints.dir", NULL);
	if (v != NULL && plan_get_str(c, v, "state.checkpoints.dir", k->dir, sizeof(k->dir)) < 0)
		return -EINVAL;
	if (interval != NULL && k->dir[0] == '\0')
		return plan_err(c, interval, "execution.checkpointing.interval needs state.checkpoints.dir");
	return 0;
}

static const char *const sink_keys[] = {
	"type", "path", "udp_port", "records_per_packet", NULL,
};
static const char *const side_sink_keys[] = {
	"output", "type", "path", NULL,
};

static const char *const lcores_keys[] = {
	"rx", "workers", "run_to_completion", "cpus", NULL,
};

static int
plan_job_name(struct plan_ctx *c, const struct plan_node *v)
{
	char show[PLAN_SHOW_MAX];
	size_t i;

	if (plan_expect(c, v, PLAN_SCALAR, "job") < 0)
		return -EINVAL;
	for (i = 0; i < v->len; i++) {
		char ch = v->text[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		      ch == '-'))
			break;
	}
	if (v->len == 0 || v->len >= SL_NAME_MAX || i != v->len)
		return plan_err(c, v, "job name must match [A-Za-z0-9_.-]{1,63}, got '%s'",
				plan_show(v->text, show));
	memcpy(c->p->name, v->text, v->len + 1);
	return 0;
}

int
plan_schema(struct plan_ctx *c, const struct plan_node *map)
{
	struct sl_schema *s = &c->p->schema;
	char show[PLAN_SHOW_MAX];

	if (plan_expect(c, map, PLAN_MAP, "schema") < 0)
		return -EINVAL;
	if (map->n == 0)
		return plan_err(c, map, "schema needs at least one field");
	sl_schema_init(s);
	for (uint32_t i = 0; i < map->n; i++) {
		const struct plan_node *k = map->kid[2 * i], *v = map->kid[2 * i + 1];
		uint16_t str_len;
		enum sl_type t;
		int rc;

		if (!plan_name_ok(k->text))
			return plan_err(c, k, "invalid field name '%s'; expected [A-Za-z_][A-Za-z0-9_]{0,62}",
					plan_show(k->text, show));
		if (plan_expect(c, v, PLAN_SCALAR, k->text) < 0)
			return -EINVAL;
		if (sl_type_parse(v->text, &t, &str_len) < 0)
			return plan_err(c, v, "unknown type '%s' for field '%s'; expected one of: i64, u64, i32, u32, f64, bool, timestamp_ms, str[N] (N = 1..%d)",
					plan_show(v->text, show), k->text,
					SL_STR_MAX);
		rc = sl_schema_add(s, k->text, t, str_len);
		if (rc == -E2BIG)
			return plan_err(c, k, "schema too large: at most %d fields and %d bytes per row",
					SL_SCHEMA_MAX_FIELDS, SL_ROW_MAX);
		if (rc < 0)
			return plan_err(c, k, "cannot add field '%s': %s",
					k->text, strerror(-rc));
	}
	return 0;
}

/*
 * Results as wire packets back out of the source's port: the port is
 * already configured (queues, mbufs) by the source, and a second port
 * would need its own probe and setup for little gain on a NIC.
 */
static int
plan_sink_ethdev(struct plan_ctx *c, const struct plan_node *map,
		 const char *what, const struct plan_node *type,
		 struct sl_plan_sink *sink)
{
	struct plan_node *v;
	int64_t i64;

	sink->type = SL_SINK_ETHDEV;
	sink->udp_port = SL_PLAN_SINK_UDP_PORT;
	if (strcmp(what, "sink") != 0)
		return plan_err(c, type, "%s cannot be ethdev; give it a csv path", what);
	if (c->p->source.type != SL_SRC_ETHDEV)
		return plan_err(c, type, "an ethdev sink sends out of the source's port, and the source is not ethdev; use a csv or stdout sink");
	if (plan_map_get(map, "path", &v) != NULL)
		return plan_err(c, v, "path is not allowed for an ethdev sink");
	v = plan_map_get(map, "udp_port", NULL);
	if (v != NULL) {
		if (plan_get_int(c, v, "udp_port", 1, 65535, &i64) < 0)
			return -EINVAL;
		sink->udp_port = (uint16_t)i64;
	}
	v = plan_map_get(map, "records_per_packet", NULL);
	if (v != NULL) {
		if (plan_get_int(c, v, "records_per_packet", 1, 1472, &i64) < 0)
			return -EINVAL;
		sink->rpp = (uint16_t)i64;
	}
	return 0;
}

static int
plan_sink(struct plan_ctx *c, const struct plan_node *map, const char *what,
	  struct sl_plan_sink *sink)
{
	char show[PLAN_SHOW_MAX];
	struct plan_node *v, *k;

	if (plan_expect(c, map, PLAN_MAP, what) < 0 ||
	    plan_check_keys(c, map, what, strcmp(what, "side_sink") == 0 ?
			    side_sink_keys : sink_keys) < 0 ||
	    plan_require(c, map, what, "type", &v) < 0 ||
	    plan_expect(c, v, PLAN_SCALAR, "type") < 0)
		return -EINVAL;
	if (strcmp(v->text, "csv") == 0) {
		sink->type = SL_SINK_CSV;
		if (plan_require(c, map, what, "path", &v) < 0 ||
		    plan_get_str(c, v, "path", sink->path,
				 sizeof(sink->path)) < 0)
			return -EINVAL;
	} else if (strcmp(v->text, "stdout") == 0) {
		sink->type = SL_SINK_STDOUT;
		if (plan_map_get(map, "path", &k) != NULL)
			return plan_err(c, k, "path is not allowed for a stdout sink");
	} else if (strcmp(v->text, "ethdev") == 0) {
		if (plan_sink_ethdev(c, map, what, v, sink) < 0)
			return -EINVAL;
	} else {
		return plan_err(c, v, "unknown sink type '%s'; expected one of: csv, stdout, ethdev",
				plan_show(v->text, show));
	}
	if (sink->type != SL_SINK_ETHDEV) {
		if (plan_map_get(map, "udp_port", &k) != NULL ||
		    plan_map_get(map, "records_per_packet", &k) != NULL)
			return plan_err(c, k, "%s is only for an ethdev sink", k->text);
	}
	return 0;
}

static int
plan_lcores(struct plan_ctx *c, const struct plan_node *map)
{
	struct sl_plan *p = c->p;
	struct plan_node *v;
	bool ethdev = p->source.type == SL_SRC_ETHDEV;
	int64_t i64;

	p->lcores.rx = ethdev ? p->source.rx_queues : 1;
	/* Flink's parallelism.default: the worker count nobody spelled out. */
	p->lcores.workers = p->parallelism_default ? p->parallelism_default : 1;
	if (map == NULL)
		return 0;
	if (plan_expect(c, map, PLAN_MAP, "lcores") < 0 ||
	    plan_check_keys(c, map, "lcores", lcores_keys) < 0)
		return -EINVAL;
	v = plan_map_get(map, "rx", NULL);
	if (v != NULL) {
		if (plan_get_int(c, v, "rx", 1, 16, &i64) < 0)
			return -EINVAL;
		if (ethdev && i64 != p->source.rx_queues)
			return plan_err(c, v, "lcores.rx must equal source.queues (%u) for an ethdev source, got %s",
					p->source.rx_queues, v->text);
		if (!ethdev && i64 != 1)
			return plan_err(c, v, "lcores.rx must be 1 for a %s source, got %s",
					p->source.type == SL_SRC_CSV ? "csv" :
					p->source.type == SL_SRC_GEN ? "gen" : "capture", v->text);
		p->lcores.rx = (uint16_t)i64;
	}
	v = plan_map_get(map, "workers", NULL);
	if (v != NULL) {
		if (plan_get_int(c, v, "workers", 1, PLAN_MAX_WORKERS, &i64) < 0)
			return -EINVAL;
		p->lcores.workers = (uint16_t)i64;
	}
	v = plan_map_get(map, "cpus", NULL);
	if (v != NULL && plan_get_cpus(c, v) < 0)
		return -EINVAL;
	v = plan_map_get(map, "run_to_completion", NULL);
	if (v != NULL) {
		if (plan_get_bool(c, v, "run_to_completion",
				  &p->lcores.run_to_completion) < 0)
			return -EINVAL;
		if (p->lcores.run_to_completion &&
		    (p->lcores.rx != 1 || p->lcores.workers != 1))
			return plan_err(c, v, "run_to_completion needs rx: 1 and workers: 1, got rx: %u, workers: %u",
					p->lcores.rx, p->lcores.workers);
	}
	return 0;
}

static int
plan_eal(struct plan_ctx *c, const struct plan_node *seq)
{
	struct sl_plan *p = c->p;

	if (plan_expect(c, seq, PLAN_SEQ, "eal") < 0)
		return -EINVAL;
	if (seq->n > SL_PLAN_MAX_EAL_ARGS)
		return plan_err(c, seq, "eal takes at most %d arguments, got %u",
				SL_PLAN_MAX_EAL_ARGS, seq->n);
	for (uint32_t i = 0; i < seq->n; i++) {
		const struct plan_node *a = seq->kid[i];

		if (plan_expect(c, a, PLAN_SCALAR, "eal") < 0)
			return -EINVAL;
		if (a->len >= SL_PLAN_ARG_MAX)
			return plan_err(c, a, "eal argument longer than %d bytes",
					SL_PLAN_ARG_MAX - 1);
		memcpy(p->eal_args[i], a->text, a->len + 1);
		p->n_eal_args++;
	}
	return 0;
}

static int
plan_top(struct plan_ctx *c, const struct plan_node *root)
{
	struct sl_plan *p = c->p;
	struct plan_node *v, *k;
	int64_t i64;

	if (root == NULL)
		return plan_err_at(c, 1, 1, "empty job file; expected a mapping with job, schema, source, pipeline and sink");
	if (root->kind != PLAN_MAP)
		return plan_err(c, root, "expected a mapping at the top level, got %s",
				plan_kind_name(root));
	if (plan_check_keys(c, root, NULL, top_keys) < 0)
		return -EINVAL;

	if (plan_require(c, root, NULL, "job", &v) < 0 ||
	    plan_job_name(c, v) < 0)
		return -EINVAL;
	v = plan_map_get(root, "sources", NULL);
	if (v != NULL) {
		struct plan_node *k2;

		if (plan_map_get(root, "schema", &k2) != NULL ||
		    plan_map_get(root, "source", &k2) != NULL)
			return plan_err(c, k2, "give either schema and source, or sources, not both");
		if (plan_sources(c, v) < 0)
			return -EINVAL;
	} else {
		if (plan_require(c, root, NULL, "schema", &v) < 0 ||
		    plan_schema(c, v) < 0 ||
		    plan_require(c, root, NULL, "source", &v) < 0 ||
		    plan_source(c, v) < 0)
			return -EINVAL;
		plan_single_input(p);
	}
	if (plan_plugins(c, plan_map_get(root, "plugins", NULL)) < 0 ||
	    plan_require(c, root, NULL, "pipeline", &v) < 0 ||
	    plan_step_parallelism(c, v) < 0)
		return -EINVAL;
	{
		struct plan_node rest;
		int more = plan_inputs(c, v, &rest);

		if (more < 0 || (more > 0 && plan_pipeline(c, &rest) < 0))
			return -EINVAL;
	}
	if (plan_require(c, root, NULL, "sink", &v) < 0 ||
	    plan_sink(c, v, "sink", &p->sink) < 0 ||
	    plan_parallelism(c, root) < 0 ||
	    plan_lcores(c, plan_map_get(root, "lcores", NULL)) < 0 ||
	    plan_apply_parallelism(c, plan_map_get(root, "lcores", NULL)) < 0)
		return -EINVAL;

	p->max_parallelism = 128;
	v = plan_map_get(root, "pipeline.max-parallelism", &k);
	if (v != NULL) {
		if (plan_get_int(c, v, "pipeline.max-parallelism", 1,
				 PLAN_MAX_PARALLELISM, &i64) < 0)
			return -EINVAL;
		p->max_parallelism = (uint32_t)i64;
	}
	/* Each worker owns at least one key group (Flink's same rule). */
	if (p->max_parallelism < p->lcores.workers)
		return plan_err(c, v != NULL ? v : root,
				"pipeline.max-parallelism (%u) must be >= lcores.workers (%u)",
				p->max_parallelism, p->lcores.workers);

	p->key_capacity = 65536;
	v = plan_map_get(root, "state.key-capacity", NULL);
	if (v != NULL) {
		if (plan_get_int(c, v, "state.key-capacity", 1,
				 PLAN_MAX_KEY_CAPACITY, &i64) < 0)
			return -EINVAL;
		p->key_capacity = (uint32_t)i64;
	}

	v = plan_map_get(root, "eal", NULL);
	if (v != NULL && plan_eal(c, v) < 0)
		return -EINVAL;
	if (plan_checkpointing(c, root) < 0 || plan_state_backend(c, root) < 0 ||
	    plan_stage2_check(c) < 0)
		return -EINVAL;
	v = plan_map_get(root, "late_sink", NULL);
	if (v != NULL) {
		if (p->join.kind == SL_PLAN_JOIN_ENRICH)
			return plan_err(c, v, "late_sink takes the rows a join drops as late or unmatched, and an enrich join has none");
		if (p->udf_kind == SLUICE_FN_PROCESS)
			return plan_err(c, v, "late_sink takes the rows a window drops as late, and this pipeline has no window; a process function's side output goes to side_sink: {output: NAME, ...}");
		if (p->udf_kind == SLUICE_FN_CO_PROCESS)
			return plan_err(c, v, "late_sink takes the rows a join drops as late or unmatched, and a join's process function drops none; its side output goes to side_sink: {output: NAME, ...}");
		if (p->join.kind == SL_PLAN_JOIN_NONE && (p->stateless || p->dedup_within_ms > 0))
			return plan_err(c, v, "late_sink takes the rows a window drops as late, and this pipeline has no window");
		if (p->window_processing_time)
			return plan_err(c, v, "late_sink takes the rows a window drops as late, and a processing-time window drops none; remove it");
		if (plan_sink(c, v, "late_sink", &p->late_sink) < 0)
			return -EINVAL;
		p->has_late_sink = true;
		if (p->late_sink.type == SL_SINK_CSV && p->sink.type == SL_SINK_CSV &&
		    strcmp(p->late_sink.path, p->sink.path) == 0)
			return plan_err(c, v, "late_sink writes to the sink's file %s; give it a path of its own",
					p->sink.path);
		if (p->late_sink.type == SL_SINK_STDOUT && p->sink.type == SL_SINK_STDOUT)
			return plan_err(c, v, "late_sink and sink both write to stdout; give late_sink a csv path");
	}
	/* A process function's side output takes the late side output's
	 * path through the dataplane: rows of the input schema (a join's
	 * process: its output schema), in their own vectors, with their own
	 * transactions. */
	v = plan_map_get(root, "side_sink", NULL);
	if (v != NULL) {
		if (plan_side_sink(c, v) < 0 ||
		    plan_sink(c, v, "side_sink", &p->late_sink) < 0)
			return -EINVAL;
		p->has_late_sink = true;
		if (p->late_sink.type == SL_SINK_CSV && p->sink.type == SL_SINK_CSV &&
		    strcmp(p->late_sink.path, p->sink.path) == 0)
			return plan_err(c, v, "side_sink writes to the sink's file %s; give it a path of its own",
					p->sink.path);
		if (p->late_sink.type == SL_SINK_STDOUT && p->sink.type == SL_SINK_STDOUT)
			return plan_err(c, v, "side_sink and sink both write to stdout; give side_sink a csv path");
	}
	return plan_restart(c, root);
}

int
sl_plan_load_str(const char *name, const char *yaml, size_t len,
		 struct sl_plan *p, char *err, size_t errlen)
{
	return sl_plan_load_str_flags(name, yaml, len, 0, p, err, errlen);
}

int
sl_plan_load_str_flags(const char *name, const char *yaml, size_t len,
		       unsigned int flags, struct sl_plan *p, char *err,
		       size_t errlen)
{
	struct plan_ctx c = {
		.name = name != NULL ? name : "<string>",
		.err = err,
		.errlen = errlen,
		.p = p,
		.flags = flags,
	};
	struct plan_node *root = NULL;
	int rc;

	memset(p, 0, sizeof(*p));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	snprintf(p->file, sizeof(p->file), "%s", c.name);
	rc = plan_yaml_parse(&c, yaml, len, &root);
	if (rc == 0)
		rc = plan_top(&c, root);
	plan_node_free(root);
	if (rc < 0) {
		/* A job never starts half-valid: drop what was compiled. */
		sl_plan_free(p);
		memset(p, 0, sizeof(*p));
		return -EINVAL;
	}
	return 0;
}

int
sl_plan_load(const char *path, struct sl_plan *p, char *err, size_t errlen)
{
	return sl_plan_load_flags(path, 0, p, err, errlen);
}

int
sl_plan_load_flags(const char *path, unsigned int flags, struct sl_plan *p,
		   char *err, size_t errlen)
{
	FILE *f;
	char *buf;
	size_t n;
	int rc;

	memset(p, 0, sizeof(*p));
	f = fopen(path, "rb");
	if (f == NULL) {
		rc = -errno;
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: cannot open: %s", path,
				 strerror(-rc));
		return rc;
	}
	/* One byte more than the limit tells "too large" from "exactly full". */
	buf = malloc(PLAN_MAX_INPUT + 1);
	if (buf == NULL) {
		fclose(f);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	errno = 0;
	n = fread(buf, 1, PLAN_MAX_INPUT + 1, f);
	if (ferror(f)) {
		rc = errno ? -errno : -EIO;
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: cannot read: %s", path,
				 strerror(-rc));
	} else {
		rc = sl_plan_load_str_flags(path, buf, n, flags, p, err, errlen);
	}
	free(buf);
	fclose(f);
	return rc;
}

void
sl_plan_free(struct sl_plan *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < SL_PLAN_MAX_FILTERS; i++) {
		sl_expr_free(p->filter[i]);
		p->filter[i] = NULL;
	}
	p->n_filters = 0;
}
