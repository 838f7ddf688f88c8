/* SPDX-License-Identifier: BSD-3-Clause */
/* source: and its watermark: section. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_private.h"

/* drivers/wire tracks this many partitions per source (SL_WIRE_MAX_PARTITIONS). */
#define PLAN_MAX_PARTITIONS 64
#define PLAN_MAX_QUEUES 16

static const char *const source_keys[] = {
	"type", "port", "udp_port", "queues", "partitions", "path", "rate",
	"timestamp", "watermark", NULL,
};

/* type: gen takes sluice-gen write's parameters and no transport's. */
static const char *const gen_source_keys[] = {
	"type", "events", "keys", "key", "seed", "start_ms", "event_rate",
	"disorder", "late_fraction", "late_ms", "batch", "partitions", "rate",
	"timestamp", "watermark", NULL,
};

static const char *const watermark_keys[] = {
	"out_of_orderness", "idle_timeout", "emit", "interval", NULL,
};

static int
plan_watermark(struct plan_ctx *c, const struct plan_node *wm)
{
	struct sl_plan_source *src = &c->p->source;
	struct plan_node *v, *k;
	char show[PLAN_SHOW_MAX], sec[SL_NAME_MAX + 32];

	snprintf(sec, sizeof(sec), "%s.watermark", PLAN_SRC_SECTION(c));
	if (plan_expect(c, wm, PLAN_MAP, "watermark") < 0 ||
	    plan_check_keys(c, wm, sec, watermark_keys) < 0)
		return -EINVAL;

	v = plan_map_get(wm, "out_of_orderness", NULL);
	if (v != NULL) {
		if (plan_get_duration(c, v, &src->out_of_orderness_ms) < 0)
			return -EINVAL;
		if (src->out_of_orderness_ms < 0)
			return plan_err(c, v, "out_of_orderness must be >= 0, got %s",
					plan_show(v->text, show));
	}
	v = plan_map_get(wm, "idle_timeout", NULL);
	if (v != NULL) {
		if (plan_get_duration(c, v, &src->idle_timeout_ms) < 0)
			return -EINVAL;
		if (src->idle_timeout_ms <= 0)
			return plan_err(c, v, "idle_timeout must be > 0 (omit it to disable idleness), got %s",
					plan_show(v->text, show));
	}
	v = plan_map_get(wm, "emit", NULL);
	if (v != NULL) {
		if (plan_expect(c, v, PLAN_SCALAR, "emit") < 0)
			return -EINVAL;
		if (strcmp(v->text, "periodic") == 0)
			src->emit = SL_WM_PERIODIC;
		else if (strcmp(v->text, "punctuated") == 0)
			src->emit = SL_WM_PUNCTUATED;
		else
			return plan_err(c, v, "unknown emit '%s'; expected one of: periodic, punctuated",
					plan_show(v->text, show));
	}
	v = plan_map_get(wm, "interval", &k);
	if (v != NULL) {
		if (src->emit != SL_WM_PERIODIC)
			return plan_err(c, k, "interval is only valid with emit: periodic");
		if (plan_get_duration(c, v, &src->interval_ms) < 0)
			return -EINVAL;
		if (src->interval_ms <= 0)
			return plan_err(c, v, "interval must be > 0, got %s",
					plan_show(v->text, show));
	}
	return 0;
}

/* Keys that only one kind of source accepts. */
static int
plan_source_forbid(struct plan_ctx *c, const struct plan_node *map,
		   const char *type, const char *const *keys)
{
	struct plan_node *k;

	for (int i = 0; keys[i] != NULL; i++)
		if (plan_map_get(map, keys[i], &k) != NULL)
			return plan_err(c, k, "%s is not allowed for a%s %s source",
					keys[i], type[0] == 'e' ? "n" : "", type);
	return 0;
}

/* An unsigned key of a gen source, if given; *out keeps its default. */
static int
gen_u64(struct plan_ctx *c, const struct plan_node *map, const char *key,
	int64_t min, int64_t max, uint64_t *out)
{
	struct plan_node *v = plan_map_get(map, key, NULL);
	int64_t i64;

	if (v == NULL)
		return 0;
	if (plan_get_int(c, v, key, min, max, &i64) < 0)
		return -EINVAL;
	*out = (uint64_t)i64;
	return 0;
}

/* key: a field or a list of fields that get the key index; integers or
 * strings, as sluice-gen --key. */
static int
gen_key_field(struct plan_ctx *c, const struct plan_node *v)
{
	struct sl_plan_gen *g = &c->p->source.gen;
	const struct sl_field *f;
	char tn[32];
	int idx;

	if (plan_get_field(c, v, "key", &idx) < 0)
		return -EINVAL;
	f = &c->p->schema.f[idx];
	if (f->type == SL_T_F64)
		return plan_err(c, v, "gen key field '%s' must be an integer or a string, got %s",
				f->name, plan_type_show(f, tn, sizeof(tn)));
	for (uint16_t j = 0; j < g->n_key; j++)
		if (g->key_field[j] == idx)
			return plan_err(c, v, "gen key field '%s' is named twice", f->name);
	g->key_field[g->n_key++] = idx;
	return 0;
}

static int
plan_source_gen(struct plan_ctx *c, const struct plan_node *map)
{
	struct sl_plan_source *src = &c->p->source;
	struct sl_plan_gen *g = &src->gen;
	char show[PLAN_SHOW_MAX];
	struct plan_node *v, *k;
	uint64_t u64;
	int64_t i64;

	/* sluice-gen write's defaults, so the same parameters give the
	 * same rows whichever way they are spelled. */
	g->keys = 100;
	g->seed = 1;
	g->start_ms = 1700000000000LL;
	g->event_rate = 1000;
	g->batch = SL_VEC_MAX;
	if (plan_require(c, map, PLAN_SRC_SECTION(c), "events", &v) < 0 ||
	    plan_expect(c, v, PLAN_SCALAR, "events") < 0)
		return -EINVAL;
	if (strcmp(v->text, "unbounded") == 0) {
		g->unbounded = true;
	} else {
		if (!(v->text[0] >= '0' && v->text[0] <= '9'))
			return plan_err(c, v, "events must be a number of rows or 'unbounded', got '%s'",
					plan_show(v->text, show));
		if (plan_get_int(c, v, "events", 0, INT64_MAX, &i64) < 0)
			return -EINVAL;
		g->events = (uint64_t)i64;
	}
	if (gen_u64(c, map, "keys", 1, UINT32_MAX, &g->keys) < 0 ||
	    gen_u64(c, map, "seed", 0, INT64_MAX, &g->seed) < 0 ||
	    gen_u64(c, map, "event_rate", 1, UINT32_MAX, &g->event_rate) < 0 ||
	    gen_u64(c, map, "disorder", 0, UINT32_MAX, &g->disorder) < 0 ||
	    gen_u64(c, map, "late_ms", 0, UINT32_MAX, &g->late_ms) < 0)
		return -EINVAL;
	v = plan_map_get(map, "start_ms", NULL);
	if (v != NULL && plan_get_int(c, v, "start_ms", INT64_MIN / 2,
				      INT64_MAX / 2, &g->start_ms) < 0)
		return -EINVAL;
	u64 = g->batch;
	if (gen_u64(c, map, "batch", 1, SL_VEC_MAX, &u64) < 0)
		return -EINVAL;
	g->batch = (uint16_t)u64;
	/* Wall-clock pacing, as for file replay: 0 = as fast as it goes. */
	if (gen_u64(c, map, "rate", 0, 1000000000, &src->rate) < 0)
		return -EINVAL;
	v = plan_map_get(map, "partitions", NULL);
	if (v != NULL) {
		if (plan_get_int(c, v, "partitions", 1, PLAN_MAX_PARTITIONS,
				 &i64) < 0)
			return -EINVAL;
		src->partitions = (uint32_t)i64;
	}
	v = plan_map_get(map, "late_fraction", &k);
	if (v != NULL) {
		char *end;

		if (plan_expect(c, v, PLAN_SCALAR, "late_fraction") < 0)
			return -EINVAL;
		errno = 0;
		g->late_fraction = strtod(v->text, &end);
		if (v->len == 0 || *end != '\0' || errno != 0 ||
		    !(g->late_fraction >= 0 && g->late_fraction <= 1))
			return plan_err(c, v, "late_fraction must be a number in 0..1, got '%s'",
					plan_show(v->text, show));
		if (g->late_fraction > 0 && g->late_ms == 0)
			return plan_err(c, k, "late_fraction needs late_ms >= 1: a late row lags by disorder + U[1, late_ms] ms");
	}

	if (plan_require(c, map, PLAN_SRC_SECTION(c), "key", &v) < 0)
		return -EINVAL;
	if (v->kind == PLAN_SEQ) {
		if (v->nkid == 0 || v->nkid > SL_PLAN_MAX_KEYS)
			return plan_err(c, v, "key needs 1..%d fields, got %u",
					SL_PLAN_MAX_KEYS, v->nkid);
		for (uint32_t i = 0; i < v->nkid; i++)
			if (gen_key_field(c, v->kid[i]) < 0)
				return -EINVAL;
	} else if (gen_key_field(c, v) < 0) {
		return -EINVAL;
	}
	return 0;
}

int
plan_source(struct plan_ctx *c, const struct plan_node *map)
{
	static const char *const not_ethdev[] = { "path", "rate", NULL };
	static const char *const not_file[] = {
		"port", "udp_port", "queues", "partitions", NULL,
	};
	struct sl_plan_source *src = &c->p->source;
	const struct sl_field *f;
	char show[PLAN_SHOW_MAX];
	struct plan_node *v, *tv;
	int64_t i64;

	if (plan_expect(c, map, PLAN_MAP, PLAN_SRC_SECTION(c)) < 0)
		return -EINVAL;
	tv = plan_map_get(map, "type", NULL);
	if (plan_check_keys(c, map, PLAN_SRC_SECTION(c),
			    tv != NULL && tv->kind == PLAN_SCALAR &&
			    strcmp(tv->text, "gen") == 0 ?
			    gen_source_keys : source_keys) < 0 ||
	    plan_require(c, map, PLAN_SRC_SECTION(c), "type", &v) < 0 ||
	    plan_expect(c, v, PLAN_SCALAR, "type") < 0)
		return -EINVAL;

	src->udp_port = 9000;
	src->rx_queues = 1;
	src->partitions = 1;
	src->emit = SL_WM_PERIODIC;
	src->interval_ms = 200;

	if (strcmp(v->text, "ethdev") == 0) {
		src->type = SL_SRC_ETHDEV;
		if (plan_source_forbid(c, map, "ethdev", not_ethdev) < 0 ||
		    plan_require(c, map, PLAN_SRC_SECTION(c), "port", &v) < 0 ||
		    plan_get_str(c, v, "port", src->port, sizeof(src->port)) < 0)
			return -EINVAL;
		v = plan_map_get(map, "udp_port", NULL);
		if (v != NULL) {
			if (plan_get_int(c, v, "udp_port", 1, 65535, &i64) < 0)
				return -EINVAL;
			src->udp_port = (uint16_t)i64;
		}
		v = plan_map_get(map, "queues", NULL);
		if (v != NULL) {
			if (plan_get_int(c, v, "queues", 1, PLAN_MAX_QUEUES,
					 &i64) < 0)
				return -EINVAL;
			src->rx_queues = (uint16_t)i64;
		}
		v = plan_map_get(map, "partitions", NULL);
		if (v != NULL) {
			if (plan_get_int(c, v, "partitions", 0,
					 PLAN_MAX_PARTITIONS, &i64) < 0)
				return -EINVAL;
			src->partitions = (uint32_t)i64;
		}
	} else if (strcmp(v->text, "csv") == 0 ||
		   strcmp(v->text, "capture") == 0) {
		const char *type = v->text;

		src->type = type[0] == 'c' && type[1] == 's' ? SL_SRC_CSV :
			    SL_SRC_CAPTURE;
		if (plan_source_forbid(c, map, type, not_file) < 0 ||
		    plan_require(c, map, PLAN_SRC_SECTION(c), "path", &v) < 0 ||
		    plan_get_str(c, v, "path", src->path, sizeof(src->path)) < 0)
			return -EINVAL;
		/* Replay pacing: a file replayed at a steady rate stands in
		 * for a live stream (chaos tests, demos); 0 = memory speed. */
		v = plan_map_get(map, "rate", NULL);
		if (v != NULL) {
			if (plan_get_int(c, v, "rate", 0, 1000000000, &i64) < 0)
				return -EINVAL;
			src->rate = (uint64_t)i64;
		}
	} else if (strcmp(v->text, "gen") == 0) {
		src->type = SL_SRC_GEN;
		if (plan_source_gen(c, map) < 0)
			return -EINVAL;
	} else {
		return plan_err(c, v, "unknown source type '%s'; expected one of: ethdev, csv, capture, gen",
				plan_show(v->text, show));
	}

	if (plan_require(c, map, PLAN_SRC_SECTION(c), "timestamp", &v) < 0 ||
	    plan_get_field(c, v, "timestamp", &src->ts_field) < 0)
		return -EINVAL;
	f = &c->p->schema.f[src->ts_field];
	if (f->type == SL_T_F64 || f->type == SL_T_STR || f->type == SL_T_BOOL)
		return plan_err(c, v, "timestamp field '%s' must be timestamp_ms or an integer type, got %s",
				f->name, sl_type_name(f->type));
	for (uint16_t j = 0; src->type == SL_SRC_GEN && j < src->gen.n_key; j++)
		if (src->gen.key_field[j] == src->ts_field)
			return plan_err(c, v, "timestamp field '%s' is also a gen key field; the generator writes event time into it",
					f->name);

	v = plan_map_get(map, "watermark", NULL);
	if (v != NULL && plan_watermark(c, v) < 0)
		return -EINVAL;
	return 0;
}
