/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Several sources in one job: the sources: section (each entry a schema
 * plus the keys of source:), and the pipeline step that brings them
 * together, a union (same schemas; the rest of the pipeline runs on the
 * united stream) or a join (operators/join; the whole pipeline).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_private.h"

/* Output column of a join: the row's timestamp (sl_join's layout). */
#define JOIN_TS_NAME "join_ts"

static const char *const join_keys[] = {
	"left", "right", "key", "interval", "window", "match", "enrich", "process", "broadcast",
	"temporal",
	NULL,
};
static const char *const join_kinds[] = {
	"interval", "window", "match", "enrich", "process", "broadcast", "temporal", NULL,
};
static const char *const interval_keys[] = {
	"lower", "upper", "lower_exclusive", "upper_exclusive", NULL,
};
static const char *const jwindow_keys[] = {
	"tumbling", "sliding", "slide", "offset", "session", NULL,
};
static const char *const match_keys[] = { "timeout", NULL };
static const char *const enrich_keys[] = { "outer", "ttl", NULL };
static const char *const broadcast_keys[] = { "outer", NULL };

void
plan_single_input(struct sl_plan *p)
{
	p->n_inputs = 1;
	snprintf(p->inputs[0].name, sizeof(p->inputs[0].name), "source");
	p->inputs[0].schema = p->schema;
	p->inputs[0].source = p->source;
}

/* "a, b, c": the sources' names, for messages. */
static const char *
input_list(const struct sl_plan *p, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (uint16_t i = 0; i < p->n_inputs && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? ", " : "",
					p->inputs[i].name);
	return buf;
}

int
plan_sources(struct plan_ctx *c, const struct plan_node *map)
{
	struct sl_plan *p = c->p;
	char show[PLAN_SHOW_MAX], sec[SL_NAME_MAX + 16];

	if (plan_expect(c, map, PLAN_MAP, "sources") < 0)
		return -EINVAL;
	if (map->n < 1 || map->n > SL_PLAN_MAX_SOURCES)
		return plan_err(c, map, "sources needs 1..%d named sources, got %u",
				SL_PLAN_MAX_SOURCES, map->n);
	for (uint32_t i = 0; i < map->n; i++) {
		const struct plan_node *k = map->kid[2 * i], *v = map->kid[2 * i + 1];
		struct plan_node *sv, rest;
		int rc;

		if (!plan_name_ok(k->text))
			return plan_err(c, k, "invalid source name '%s'; expected [A-Za-z_][A-Za-z0-9_]{0,62}",
					plan_show(k->text, show));
		snprintf(sec, sizeof(sec), "sources.%s", k->text);
		if (plan_expect(c, v, PLAN_MAP, sec) < 0 ||
		    plan_require(c, v, sec, "schema", &sv) < 0 ||
		    plan_schema(c, sv) < 0)
			return -EINVAL;
		/* The source: keys are the entry's, less schema. */
		rest = *v;
		rest.kid = malloc(sizeof(*rest.kid) * (v->nkid > 0 ? v->nkid : 1));
		if (rest.kid == NULL)
			return plan_err(c, v, "out of memory");
		rest.n = 0;
		for (uint32_t j = 0; j < v->n; j++) {
			if (v->kid[2 * j + 1] == sv)
				continue;
			rest.kid[2 * rest.n] = v->kid[2 * j];
			rest.kid[2 * rest.n + 1] = v->kid[2 * j + 1];
			rest.n++;
		}
		rest.nkid = rest.cap = 2 * rest.n;
		memset(&p->source, 0, sizeof(p->source));
		c->section = sec;
		rc = plan_source(c, &rest);
		c->section = NULL;
		free(rest.kid);
		if (rc < 0)
			return -EINVAL;
		snprintf(p->inputs[i].name, sizeof(p->inputs[i].name), "%s", k->text);
		p->inputs[i].schema = p->schema;
		p->inputs[i].source = p->source;
	}
	p->n_inputs = (uint16_t)map->n;
	/* The ethdev driver owns one port per process. */
	for (uint32_t i = 0, n_eth = 0; i < map->n; i++)
		if (p->inputs[i].source.type == SL_SRC_ETHDEV && ++n_eth > 1)
			return plan_err(c, plan_map_get(map->kid[2 * i + 1], "type", NULL),
					"source '%s' is the job's second ethdev source; a job reads one port (give the others as csv, capture or gen)",
					p->inputs[i].name);
	p->schema = p->inputs[0].schema;
	p->source = p->inputs[0].source;
	return 0;
}

/* The source a scalar names. @return its index, or -EINVAL (reported). */
static int
input_find(struct plan_ctx *c, const struct plan_node *n, const char *what)
{
	char show[PLAN_SHOW_MAX], list[SL_PLAN_MAX_SOURCES * SL_NAME_MAX];

	if (plan_expect(c, n, PLAN_SCALAR, what) < 0)
		return -EINVAL;
	for (uint16_t i = 0; i < c->p->n_inputs; i++)
		if (strcmp(c->p->inputs[i].name, n->text) == 0)
			return i;
	return plan_err(c, n, "unknown source '%s' in %s; sources are: %s",
			plan_show(n->text, show), what,
			input_list(c->p, list, sizeof(list)));
}

/* Every source of the job must feed the union or the join. */
static int
inputs_all_used(struct plan_ctx *c, const struct plan_node *at, const bool *used,
		const char *what)
{
	for (uint16_t i = 0; i < c->p->n_inputs; i++)
		if (!used[i])
			return plan_err(c, at, "source '%s' is not used by the %s; every source of a job must be",
					c->p->inputs[i].name, what);
	return 0;
}

static int
plan_union(struct plan_ctx *c, const struct plan_node *v)
{
	struct sl_plan *p = c->p;
	bool used[SL_PLAN_MAX_SOURCES] = { false };

	if (plan_expect(c, v, PLAN_SEQ, "union") < 0)
		return -EINVAL;
	if (v->n < 2 || v->n > SL_PLAN_MAX_SOURCES)
		return plan_err(c, v, "union needs 2..%d sources, got %u",
				SL_PLAN_MAX_SOURCES, v->n);
	for (uint32_t i = 0; i < v->n; i++) {
		int in = input_find(c, v->kid[i], "union");
		const struct sl_plan_input *a, *b;
		char ca[512], cb[512];

		if (in < 0)
			return -EINVAL;
		if (used[in])
			return plan_err(c, v->kid[i], "source '%s' is twice in the union",
					p->inputs[in].name);
		used[in] = true;
		p->union_input[p->n_union++] = (uint16_t)in;
		a = &p->inputs[p->union_input[0]];
		b = &p->inputs[in];
		sl_schema_canonical(&a->schema, ca, sizeof(ca));
		sl_schema_canonical(&b->schema, cb, sizeof(cb));
		if (strcmp(ca, cb) != 0)
			return plan_err(c, v->kid[i], "union: source '%s' has schema {%.160s} but '%s' has {%.160s}; a union needs the same schema",
					b->name, cb, a->name, ca);
		if (a->source.ts_field != b->source.ts_field)
			return plan_err(c, v->kid[i], "union: source '%s' takes event time from '%s' but '%s' from '%s'; a union needs the same timestamp field",
					b->name, b->schema.f[b->source.ts_field].name,
					a->name, a->schema.f[a->source.ts_field].name);
	}
	return inputs_all_used(c, v, used, "union");
}

/* A join key field of one side, looked up in that side's schema. */
static int
key_lookup(struct plan_ctx *c, const struct plan_node *n, uint16_t in,
	   const char *what, int *idx)
{
	struct sl_plan *p = c->p;
	struct sl_schema save = p->schema;
	int rc;

	p->schema = p->inputs[in].schema;
	rc = plan_get_field(c, n, what, idx);
	p->schema = save;
	return rc;
}

/* key: a field (both sides), a sequence of them, or {left: .., right: ..}. */
static int
plan_join_key(struct plan_ctx *c, const struct plan_node *v, struct sl_plan_join *j)
{
	static const char *const lr_keys[] = { "left", "right", NULL };
	const struct plan_node *side[2] = { v, v };
	char wl[SL_NAME_MAX + 16], wr[SL_NAME_MAX + 16];
	uint32_t n[2];

	if (v->kind == PLAN_MAP) {
		struct plan_node *l, *r;

		if (plan_check_keys(c, v, "join.key", lr_keys) < 0 ||
		    plan_require(c, v, "join.key", "left", &l) < 0 ||
		    plan_require(c, v, "join.key", "right", &r) < 0)
			return -EINVAL;
		side[0] = l;
		side[1] = r;
	}
	for (int s = 0; s < 2; s++) {
		if (side[s]->kind == PLAN_MAP)
			return plan_err(c, side[s], "expected a field name or a sequence of field names for the join key, got a mapping");
		n[s] = side[s]->kind == PLAN_SCALAR ? 1 : side[s]->n;
		if (n[s] < 1 || n[s] > SL_PLAN_MAX_KEYS)
			return plan_err(c, side[s], "a join key has 1..%d fields, got %u",
					SL_PLAN_MAX_KEYS, n[s]);
	}
	if (n[0] != n[1])
		return plan_err(c, side[1], "join key: %u fields on the left but %u on the right",
				n[0], n[1]);
	snprintf(wl, sizeof(wl), "the key of '%s'", c->p->inputs[j->left].name);
	snprintf(wr, sizeof(wr), "the key of '%s'", c->p->inputs[j->right].name);
	for (uint32_t i = 0; i < n[0]; i++) {
		const struct plan_node *ln = side[0]->kind == PLAN_SCALAR ? side[0] : side[0]->kid[i];
		const struct plan_node *rn = side[1]->kind == PLAN_SCALAR ? side[1] : side[1]->kid[i];
		const struct sl_field *lf, *rf;
		char tl[32], tr[32];

		if (key_lookup(c, ln, j->left, wl, &j->left_key[i]) < 0 ||
		    key_lookup(c, rn, j->right, wr, &j->right_key[i]) < 0)
			return -EINVAL;
		for (uint32_t k = 0; k < i; k++)
			if (j->left_key[k] == j->left_key[i])
				return plan_err(c, ln, "duplicate join key field '%s'", ln->text);
		lf = &c->p->inputs[j->left].schema.f[j->left_key[i]];
		rf = &c->p->inputs[j->right].schema.f[j->right_key[i]];
		if (lf->type != rf->type || lf->size != rf->size)
			return plan_err(c, rn, "join key '%s' is %s in '%s' but '%s' is %s in '%s'; join keys must have the same types",
					lf->name, plan_type_show(lf, tl, sizeof(tl)),
					c->p->inputs[j->left].name, rf->name,
					plan_type_show(rf, tr, sizeof(tr)),
					c->p->inputs[j->right].name);
	}
	j->n_keys = (uint16_t)n[0];
	return 0;
}

/* Bounds as sl_join takes them (|bound| <= 2^62 so sums never overflow). */
#define JOIN_BOUND_MAX (INT64_MAX / 2)

static int
plan_join_interval(struct plan_ctx *c, const struct plan_node *v, struct sl_plan_join *j)
{
	struct plan_node *lo, *hi, *x;
	int64_t l, h;

	if (plan_expect(c, v, PLAN_MAP, "interval") < 0 ||
	    plan_check_keys(c, v, "join.interval", interval_keys) < 0 ||
	    plan_require(c, v, "join.interval", "lower", &lo) < 0 ||
	    plan_require(c, v, "join.interval", "upper", &hi) < 0 ||
	    plan_get_duration(c, lo, &j->lower_ms) < 0 ||
	    plan_get_duration(c, hi, &j->upper_ms) < 0)
		return -EINVAL;
	if (j->lower_ms < -JOIN_BOUND_MAX || j->lower_ms > JOIN_BOUND_MAX)
		return plan_err(c, lo, "join interval lower bound is out of range (|bound| <= %lld ms)",
				(long long)JOIN_BOUND_MAX);
	if (j->upper_ms < -JOIN_BOUND_MAX || j->upper_ms > JOIN_BOUND_MAX)
		return plan_err(c, hi, "join interval upper bound is out of range (|bound| <= %lld ms)",
				(long long)JOIN_BOUND_MAX);
	x = plan_map_get(v, "lower_exclusive", NULL);
	if (x != NULL && plan_get_bool(c, x, "lower_exclusive", &j->lower_exclusive) < 0)
		return -EINVAL;
	x = plan_map_get(v, "upper_exclusive", NULL);
	if (x != NULL && plan_get_bool(c, x, "upper_exclusive", &j->upper_exclusive) < 0)
		return -EINVAL;
	/* R7.1: lower <= upper, after the exclusive flags move them. */
	l = j->lower_ms + (j->lower_exclusive ? 1 : 0);
	h = j->upper_ms - (j->upper_exclusive ? 1 : 0);
	if (l > h)
		return plan_err(c, lo, "join interval: lower bound %s%s is above upper bound %s%s; the interval [lower, upper] must not be empty",
				lo->text, j->lower_exclusive ? " (exclusive)" : "", hi->text,
				j->upper_exclusive ? " (exclusive)" : "");
	return 0;
}

/* window: {tumbling: D} or {sliding: D, slide: S}, offset optional; or
 * {session: GAP}. */
static int
plan_join_window(struct plan_ctx *c, const struct plan_node *v, struct sl_plan_join *j)
{
	struct plan_node *sz, *tu, *sl, *sd, *off;
	int64_t step;

	if (plan_expect(c, v, PLAN_MAP, "window") < 0 ||
	    plan_check_keys(c, v, "join.window", jwindow_keys) < 0)
		return -EINVAL;
	sz = plan_map_get(v, "session", NULL);
	if (sz != NULL) {
		/* Sessions of both sides' rows (R7.4): a gap, nothing else. */
		for (uint32_t i = 0; i < v->n; i++)
			if (v->kid[2 * i + 1] != sz)
				return plan_err(c, v->kid[2 * i], "'%s' does not go with a session window; write 'session: GAP' alone",
						v->kid[2 * i]->text);
		if (plan_get_duration(c, sz, &j->gap_ms) < 0)
			return -EINVAL;
		if (j->gap_ms <= 0 || j->gap_ms > JOIN_BOUND_MAX)
			return plan_err(c, sz, "join session gap must be > 0 (and at most %lld ms), got %s",
					(long long)JOIN_BOUND_MAX, sz->text);
		return 0;
	}
	tu = plan_map_get(v, "tumbling", NULL);
	sd = plan_map_get(v, "sliding", NULL);
	sl = plan_map_get(v, "slide", NULL);
	if ((tu != NULL) == (sd != NULL))
		return plan_err(c, v, "join window needs 'tumbling: SIZE', 'sliding: SIZE' with 'slide: SLIDE', or 'session: GAP'");
	if (tu != NULL && sl != NULL)
		return plan_err(c, sl, "'slide' belongs to a sliding window; write 'sliding: SIZE' instead of 'tumbling'");
	if (sd != NULL && sl == NULL)
		return plan_err(c, v, "missing required key 'slide' in join.window");
	sz = tu != NULL ? tu : sd;
	if (plan_get_duration(c, sz, &j->size_ms) < 0 ||
	    (sl != NULL && plan_get_duration(c, sl, &j->slide_ms) < 0))
		return -EINVAL;
	if (j->size_ms <= 0)
		return plan_err(c, sz, "join window size must be > 0, got %s", sz->text);
	if (sl != NULL && (j->slide_ms <= 0 || j->slide_ms > j->size_ms))
		return plan_err(c, sl, "join window slide must be > 0 and at most the size (%s), got %s",
				sz->text, sl->text);
	step = sl != NULL ? j->slide_ms : j->size_ms;
	if (sl != NULL && (j->size_ms - 1) / step + 1 > SL_PLAN_MAX_PANES)
		return plan_err(c, sl, "a sliding window's size / slide must be at most %d (each row joins in that many windows), got %s / %s",
				SL_PLAN_MAX_PANES, sz->text, sl->text);
	off = plan_map_get(v, "offset", NULL);
	if (off != NULL) {
		if (plan_get_duration(c, off, &j->offset_ms) < 0)
			return -EINVAL;
		if (j->offset_ms >= step || j->offset_ms <= -step)
			return plan_err(c, off, "join window offset must satisfy |offset| < %s (%s), got %s",
					sl != NULL ? "slide" : "size", sl != NULL ? sl->text : sz->text,
					off->text);
	}
	return 0;
}

/* broadcast: {outer}: the right source's rows go to every worker;
 * temporal: {outer}: they are partitioned by key like the left's. */
static int
plan_join_versioned(struct plan_ctx *c, const struct plan_node *kv, struct sl_plan_join *j,
		    bool broadcast)
{
	struct plan_node *x;

	j->kind = broadcast ? SL_PLAN_JOIN_BROADCAST : SL_PLAN_JOIN_TEMPORAL;
	if (kv->null)
		return 0;
	if (plan_expect(c, kv, PLAN_MAP, broadcast ? "broadcast" : "temporal") < 0 ||
	    plan_check_keys(c, kv, broadcast ? "join.broadcast" : "join.temporal",
			    broadcast_keys) < 0)
		return -EINVAL;
	x = plan_map_get(kv, "outer", NULL);
	if (x != NULL && plan_get_bool(c, x, "outer", &j->outer) < 0)
		return -EINVAL;
	return 0;
}

static int
plan_join_kind(struct plan_ctx *c, const struct plan_node *v, struct sl_plan_join *j)
{
	const struct plan_node *kk = NULL, *kv = NULL;
	struct plan_node *x;
	int kind = -1;

	for (uint32_t i = 0; i < v->n; i++)
		for (int k = 0; join_kinds[k] != NULL; k++)
			if (strcmp(v->kid[2 * i]->text, join_kinds[k]) == 0) {
				if (kk != NULL)
					return plan_err(c, v->kid[2 * i], "join takes one of interval, window, match, enrich, process, broadcast or temporal; got both %s and %s",
							kk->text, v->kid[2 * i]->text);
				kk = v->kid[2 * i];
				kv = v->kid[2 * i + 1];
				kind = k;
			}
	if (kk == NULL)
		return plan_err(c, v, "join needs one of: interval, window, match, enrich, process, broadcast, temporal");
	switch (kind) {
	case 0:
		j->kind = SL_PLAN_JOIN_INTERVAL;
		return plan_join_interval(c, kv, j);
	case 1:
		j->kind = SL_PLAN_JOIN_WINDOW;
		return plan_join_window(c, kv, j);
	case 2:
		j->kind = SL_PLAN_JOIN_MATCH;
		if (plan_expect(c, kv, PLAN_MAP, "match") < 0 ||
		    plan_check_keys(c, kv, "join.match", match_keys) < 0 ||
		    plan_require(c, kv, "join.match", "timeout", &x) < 0 ||
		    plan_get_duration(c, x, &j->timeout_ms) < 0)
			return -EINVAL;
		if (j->timeout_ms <= 0)
			return plan_err(c, x, "join match timeout must be > 0, got %s", x->text);
		return 0;
	case 4:
		/* A user co_process function (plan_udf.c loads and sets it
		 * up over both inputs). */
		j->kind = SL_PLAN_JOIN_PROCESS;
		return plan_udf_step(c, kv, SLUICE_FN_CO_PROCESS);
	case 5:
		return plan_join_versioned(c, kv, j, true);
	case 6:
		return plan_join_versioned(c, kv, j, false);
	default:
		j->kind = SL_PLAN_JOIN_ENRICH;
		if (kv->null)
			return 0;	/* enrich: with no options */
		if (plan_expect(c, kv, PLAN_MAP, "enrich") < 0 ||
		    plan_check_keys(c, kv, "join.enrich", enrich_keys) < 0)
			return -EINVAL;
		x = plan_map_get(kv, "outer", NULL);
		if (x != NULL && plan_get_bool(c, x, "outer", &j->outer) < 0)
			return -EINVAL;
		/* R5.5: Flink's table.exec.state.ttl, in processing time. */
		x = plan_map_get(kv, "ttl", NULL);
		if (x != NULL) {
			if (plan_get_duration(c, x, &j->ttl_ms) < 0)
				return -EINVAL;
			if (j->ttl_ms <= 0)
				return plan_err(c, x, "join enrich ttl must be > 0 (leave it out for none), got %s",
						x->text);
		}
		return 0;
	}
}

/* join_ts, the left's fields, the right's ("<right>_" on a clash). */
static int
plan_join_out(struct plan_ctx *c, const struct plan_node *at, struct sl_plan_join *j)
{
	const struct sl_plan_input *in[2] = { &c->p->inputs[j->left], &c->p->inputs[j->right] };
	struct sl_schema *o = &j->out;

	sl_schema_init(o);
	(void)sl_schema_add(o, JOIN_TS_NAME, SL_T_TS, 0);
	for (int s = 0; s < 2; s++)
		for (uint16_t i = 0; i < in[s]->schema.n_fields; i++) {
			const struct sl_field *f = &in[s]->schema.f[i];
			char name[2 * SL_NAME_MAX];
			int rc;

			snprintf(name, sizeof(name), "%s", f->name);
			if (sl_schema_find(o, name) >= 0) {
				if (s == 0)
					return plan_err(c, at, "field '%s' of '%s' is named like the join's output column %s; rename it",
							f->name, in[s]->name, JOIN_TS_NAME);
				snprintf(name, sizeof(name), "%s_%s", in[s]->name, f->name);
			}
			if (strlen(name) >= SL_NAME_MAX || sl_schema_find(o, name) >= 0)
				return plan_err(c, at, "the join's output column for field '%s' of '%s' (%.80s) is too long or taken; rename the field",
						f->name, in[s]->name, name);
			rc = sl_schema_add(o, name, f->type,
					   f->type == SL_T_STR ? f->size : 0);
			if (rc < 0)
				return plan_err(c, at, "the join's output row is too large: at most %d fields and %d bytes",
						SL_SCHEMA_MAX_FIELDS, SL_ROW_MAX);
		}
	return 0;
}

static int
plan_join(struct plan_ctx *c, const struct plan_node *v)
{
	struct sl_plan_join *j = &c->p->join;
	bool used[SL_PLAN_MAX_SOURCES] = { false };
	struct plan_node *l, *r, *k;
	int li, ri;

	if (plan_expect(c, v, PLAN_MAP, "join") < 0 ||
	    plan_check_keys(c, v, "join", join_keys) < 0 ||
	    plan_require(c, v, "join", "left", &l) < 0 ||
	    (li = input_find(c, l, "join.left")) < 0 ||
	    plan_require(c, v, "join", "right", &r) < 0 ||
	    (ri = input_find(c, r, "join.right")) < 0)
		return -EINVAL;
	if (li == ri)
		return plan_err(c, r, "join: left and right are the same source '%s'; a join takes two",
				r->text);
	j->left = (uint16_t)li;
	j->right = (uint16_t)ri;
	used[li] = used[ri] = true;
	/* The columns before the kind: a process function's default output. */
	if (inputs_all_used(c, v, used, "join") < 0 ||
	    plan_require(c, v, "join", "key", &k) < 0 ||
	    plan_join_key(c, k, j) < 0 ||
	    plan_join_out(c, v, j) < 0 ||
	    plan_join_kind(c, v, j) < 0)
		return -EINVAL;
	return 0;
}

/* Which of union and join a step is: 1, 2, or 0 for another step. */
static int
step_is(const struct plan_node *step)
{
	if (step->kind != PLAN_MAP || step->n != 1)
		return 0;
	if (strcmp(step->kid[0]->text, "union") == 0)
		return 1;
	return strcmp(step->kid[0]->text, "join") == 0 ? 2 : 0;
}

int
plan_inputs(struct plan_ctx *c, const struct plan_node *seq, struct plan_node *rest)
{
	struct sl_plan *p = c->p;
	char list[SL_PLAN_MAX_SOURCES * SL_NAME_MAX];
	int first;

	if (plan_expect(c, seq, PLAN_SEQ, "pipeline") < 0)
		return -EINVAL;
	*rest = *seq;
	for (uint32_t i = 1; i < seq->n; i++)
		if (step_is(seq->kid[i]) != 0)
			return plan_err(c, seq->kid[i]->kid[0], "%s must be the first pipeline step",
					seq->kid[i]->kid[0]->text);
	first = seq->n > 0 ? step_is(seq->kid[0]) : 0;
	if (first == 0) {
		if (p->n_inputs > 1)
			return plan_err(c, seq, "this job has %u sources (%s); its pipeline must start with a union or be a join",
					p->n_inputs, input_list(p, list, sizeof(list)));
		return 1;
	}
	if (p->n_inputs < 2)
		return plan_err(c, seq->kid[0]->kid[0], "%s needs two or more sources, named under sources:; this job has one",
				seq->kid[0]->kid[0]->text);
	if (first == 2) {
		if (plan_join(c, seq->kid[0]->kid[1]) < 0)
			return -EINVAL;
		if (seq->n == 1)
			return 0;
	} else if (plan_union(c, seq->kid[0]->kid[1]) < 0) {
		return -EINVAL;
	}
	/* the rest: a union's pipeline, or the steps after a join */
	rest->kid = seq->kid + 1;
	rest->n = seq->n - 1;
	rest->nkid = rest->cap = rest->n;
	return 1;
}
