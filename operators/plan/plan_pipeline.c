/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pipeline: filters and at most one map, then key_by, window and
 * aggregate exactly once each, in that order, and at most one top_k after
 * them; or the same before key_by and dedup; or before key_by and
 * process; then, after the keyed stage, filters and at most one map over
 * its results (plan_chain.c); or, stateless, filters and at most one map,
 * flat_map or filter function (plan_udf.c). Filters are compiled here so
 * that a job with a broken expression never reaches the dataplane.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_expr.h"
#include "plan_private.h"

static const char *const window_keys[] = { "tumbling", "sliding", "session", "slide",
					    "offset", "allowed_lateness", "trigger", "time",
					    NULL };
static const char *const trigger_keys[] = { "count", "continuous", "purge", NULL };
static const char *const dedup_keys[] = { "within", NULL };
static const char *const topk_keys[] = { "k", "by", "order", NULL };

static bool
reserved_column(const char *name)
{
	return strcmp(name, "window_start") == 0 ||
	       strcmp(name, "window_end") == 0;
}

/*
 * An expression that does not compile, reported inside it when the text
 * is the source (a quoted scalar's column is already past its quote).
 */
int
plan_expr_err(struct plan_ctx *c, const struct plan_node *v, const char *what,
	      struct sl_expr_err *err)
{
	uint32_t col = v->col;

	if (v->exact)
		col += err->pos <= v->len ? err->pos : (uint32_t)v->len;
	err->msg[sizeof(err->msg) - 1] = '\0';
	return plan_err_at(c, v->line, col, "%s: %s", what,
			   err->msg[0] ? err->msg : "invalid expression");
}

int
plan_filter_compile(struct plan_ctx *c, const struct plan_node *v,
		    const struct sl_schema *s, struct sl_expr **out)
{
	struct sl_expr_err err;
	struct sl_expr *e;
	enum sl_expr_type t;

	*out = NULL;
	memset(&err, 0, sizeof(err));
	e = sl_expr_compile(v->text, s, &err);
	if (e == NULL)
		return plan_expr_err(c, v, "filter", &err);
	t = sl_expr_result_type(e);
	if (t != SL_EXPR_BOOL) {
		sl_expr_free(e);
		return plan_err(c, v, "filter must be a boolean expression, got %s",
				t == SL_EXPR_INT ? "an integer" : "a number");
	}
	*out = e;
	return 0;
}

static int
plan_filter(struct plan_ctx *c, const struct plan_node *v)
{
	struct sl_plan *p = c->p;
	struct sl_expr *e;
	int rc;

	if (plan_expect(c, v, PLAN_SCALAR, "filter") < 0)
		return -EINVAL;
	if (v->len >= SL_PLAN_ARG_MAX)
		return plan_err(c, v, "filter is longer than %d bytes",
				SL_PLAN_ARG_MAX - 1);
	memcpy(p->filter_text[p->n_filters], v->text, v->len + 1);
	rc = plan_filter_compile(c, v, &p->schema, &e);
	if (rc < 0)
		return rc;
	p->filter[p->n_filters++] = e;
	return 0;
}

static int
plan_key_one(struct plan_ctx *c, const struct plan_node *n)
{
	struct sl_plan *p = c->p;
	int idx;

	if (plan_get_field(c, n, "key_by", &idx) < 0)
		return -EINVAL;
	for (int i = 0; i < p->n_keys; i++)
		if (p->key_field[i] == idx)
			return plan_err(c, n, "duplicate key field '%s'",
					p->schema.f[idx].name);
	if (reserved_column(p->schema.f[idx].name))
		return plan_err(c, n, "key field '%s' collides with the output column of the same name",
				p->schema.f[idx].name);
	p->key_field[p->n_keys++] = idx;
	return 0;
}

int
plan_key_by(struct plan_ctx *c, const struct plan_node *v)
{
	if (v->kind == PLAN_SCALAR)
		return plan_key_one(c, v);
	if (v->kind != PLAN_SEQ)
		return plan_err(c, v, "expected a field name or a sequence of field names for 'key_by', got %s",
				plan_kind_name(v));
	if (v->n < 1 || v->n > SL_PLAN_MAX_KEYS)
		return plan_err(c, v, "key_by needs 1..%d fields, got %u",
				SL_PLAN_MAX_KEYS, v->n);
	for (uint32_t i = 0; i < v->n; i++)
		if (plan_key_one(c, v->kid[i]) < 0)
			return -EINVAL;
	return 0;
}

/* Flink's WindowedStream.allowedLateness(L): L >= 0. */
static int
plan_lateness(struct plan_ctx *c, const struct plan_node *o)
{
	char show[PLAN_SHOW_MAX];

	if (plan_get_duration(c, o, &c->p->window_lateness_ms) < 0)
		return -EINVAL;
	if (c->p->window_lateness_ms < 0)
		return plan_err(c, o, "allowed_lateness must be >= 0, got %s",
				plan_show(o->text, show));
	return 0;
}

static int plan_trigger(struct plan_ctx *c, const struct plan_node *o);

/*
 * window: {session: GAP[, allowed_lateness: L][, trigger: ...]}: Flink's
 * EventTimeSessionWindows.withGap(GAP) with the event-time trigger, or a
 * count or continuous trigger (their state merges with the sessions,
 * Trigger.onMerge). Flink gives sessions no offset and no slide.
 */
static int
plan_session(struct plan_ctx *c, const struct plan_node *v,
	     const struct plan_node *n)
{
	static const char *const not_session[] = { "slide", "offset" };
	struct sl_plan *p = c->p;
	char show[PLAN_SHOW_MAX];
	const struct plan_node *o;

	for (unsigned int i = 0; i < 2; i++) {
		o = plan_map_get(v, not_session[i], NULL);
		if (o == NULL)
			continue;
		return plan_err(c, o, "a session window has no '%s' (Flink's EventTimeSessionWindows.withGap takes only the gap); remove it",
				not_session[i]);
	}
	if (plan_get_duration(c, n, &p->window_gap_ms) < 0)
		return -EINVAL;
	if (p->window_gap_ms <= 0)
		return plan_err(c, n, "session gap must be > 0, got %s",
				plan_show(n->text, show));
	o = plan_map_get(v, "allowed_lateness", NULL);
	if (o != NULL && plan_lateness(c, o) < 0)
		return -EINVAL;
	o = plan_map_get(v, "trigger", NULL);
	if (o != NULL && plan_trigger(c, o) < 0)
		return -EINVAL;
	return 0;
}

/*
 * trigger: {count: N} (.trigger(CountTrigger.of(N))) or {continuous: I}
 * (ContinuousEventTimeTrigger / ContinuousProcessingTimeTrigger.of(I))
 * in place of the window's default trigger.
 */
static int
plan_trigger(struct plan_ctx *c, const struct plan_node *o)
{
	struct sl_plan *p = c->p;
	char show[PLAN_SHOW_MAX];
	struct plan_node *cn, *ci, *pg;
	int64_t cnt;

	if (plan_expect(c, o, PLAN_MAP, "trigger") < 0 ||
	    plan_check_keys(c, o, "trigger", trigger_keys) < 0)
		return -EINVAL;
	cn = plan_map_get(o, "count", NULL);
	ci = plan_map_get(o, "continuous", NULL);
	pg = plan_map_get(o, "purge", NULL);
	if (pg != NULL) {
		if (plan_get_bool(c, pg, "trigger purge", &p->window_purge) < 0)
			return -EINVAL;
		if (p->window_purge && (ci != NULL || p->window_gap_ms != 0))
			return plan_err(c, pg, "purge: true is for tumbling and sliding windows with the event-time or a count trigger (Flink's PurgingTrigger); not with %s",
					ci != NULL ? "a continuous trigger" : "session windows");
		if (cn == NULL && ci == NULL)
			return 0;	/* PurgingTrigger.of(EventTimeTrigger) */
	}
	if ((cn == NULL) == (ci == NULL))
		return plan_err(c, o, "trigger needs one of {count: N}, {continuous: INTERVAL} or {purge: true}");
	if (cn != NULL) {
		if (plan_get_int(c, cn, "trigger count", 1, INT32_MAX, &cnt) < 0)
			return -EINVAL;
		p->window_count_trigger = (uint64_t)cnt;
		return 0;
	}
	if (plan_get_duration(c, ci, &p->window_continuous_ms) < 0)
		return -EINVAL;
	if (p->window_continuous_ms <= 0)
		return plan_err(c, ci, "a continuous trigger's interval must be > 0, got %s",
				plan_show(ci->text, show));
	return 0;
}

/*
 * window: {..., time: event|processing}. Processing time is Flink's
 * Tumbling/Sliding/SessionProcessingTimeWindows with
 * ProcessingTimeTrigger (R4.1), or a count trigger or
 * ContinuousProcessingTimeTrigger in its place: no element is ever late,
 * so allowed lateness and the late side output mean nothing.
 */
static int
plan_window_time(struct plan_ctx *c, const struct plan_node *v)
{
	char show[PLAN_SHOW_MAX];
	const struct plan_node *t = plan_map_get(v, "time", NULL), *o;

	if (t == NULL)
		return 0;
	if (plan_expect(c, t, PLAN_SCALAR, "time") < 0)
		return -EINVAL;
	if (strcmp(t->text, "event") == 0)
		return 0;
	if (strcmp(t->text, "processing") != 0)
		return plan_err(c, t, "unknown window time '%s'; expected one of: event, processing",
				plan_show(t->text, show));
	o = plan_map_get(v, "allowed_lateness", NULL);
	if (o != NULL)
		return plan_err(c, o, "allowed_lateness is for event time: a processing-time window is never late; remove it");
	c->p->window_processing_time = true;
	return 0;
}

int
plan_window(struct plan_ctx *c, const struct plan_node *v)
{
	struct sl_plan *p = c->p;
	char show[PLAN_SHOW_MAX];
	struct plan_node *n, *o;

	struct plan_node *sl = NULL;

	if (plan_expect(c, v, PLAN_MAP, "window") < 0 ||
	    plan_check_keys(c, v, "window", window_keys) < 0)
		return -EINVAL;
	if ((plan_map_get(v, "tumbling", NULL) != NULL) +
	    (plan_map_get(v, "sliding", NULL) != NULL) +
	    (plan_map_get(v, "session", NULL) != NULL) > 1)
		return plan_err(c, v, "window is one of tumbling, sliding or session, not several");
	if (plan_window_time(c, v) < 0)
		return -EINVAL;
	n = plan_map_get(v, "session", NULL);
	if (n != NULL)
		return plan_session(c, v, n);
	n = plan_map_get(v, "tumbling", NULL);
	if (n == NULL) {
		n = plan_map_get(v, "sliding", NULL);
		if (n == NULL)
			return plan_err(c, v, "window needs 'tumbling: SIZE', 'sliding: SIZE' with 'slide: SLIDE', or 'session: GAP'");
		if (plan_require(c, v, "window", "slide", &sl) < 0)
			return -EINVAL;
	} else if (plan_map_get(v, "slide", NULL) != NULL) {
		return plan_err(c, plan_map_get(v, "slide", NULL),
				"'slide' belongs to a sliding window; write 'sliding: SIZE' instead of 'tumbling'");
	}
	if (plan_get_duration(c, n, &p->window_size_ms) < 0)
		return -EINVAL;
	if (p->window_size_ms <= 0)
		return plan_err(c, n, "window size must be > 0, got %s",
				plan_show(n->text, show));
	if (sl != NULL) {
		/* Flink's SlidingEventTimeWindows.of(size, slide, offset). */
		if (plan_get_duration(c, sl, &p->window_slide_ms) < 0)
			return -EINVAL;
		if (p->window_slide_ms <= 0)
			return plan_err(c, sl, "window slide must be > 0, got %s",
					plan_show(sl->text, show));
		if (p->window_slide_ms < p->window_size_ms &&
		    (p->window_size_ms - 1) / p->window_slide_ms + 1 > SL_PLAN_MAX_PANES)
			return plan_err(c, sl, "a sliding window's size / slide must be at most %d (each row updates that many windows), got %s / %s",
					SL_PLAN_MAX_PANES, n->text, plan_show(sl->text, show));
	}
	o = plan_map_get(v, "allowed_lateness", NULL);
	if (o != NULL && plan_lateness(c, o) < 0)
		return -EINVAL;
	o = plan_map_get(v, "trigger", NULL);
	if (o != NULL && plan_trigger(c, o) < 0)
		return -EINVAL;
	o = plan_map_get(v, "offset", NULL);
	if (o == NULL)
		return 0;
	if (plan_get_duration(c, o, &p->window_offset_ms) < 0)
		return -EINVAL;
	/* Flink's rule: |offset| < size (tumbling) or < slide (sliding). */
	if (sl == NULL && (p->window_offset_ms <= -p->window_size_ms ||
			   p->window_offset_ms >= p->window_size_ms))
		return plan_err(c, o, "window offset must satisfy |offset| < size (%s), got %s",
				n->text, plan_show(o->text, show));
	if (sl != NULL && (p->window_offset_ms <= -p->window_slide_ms ||
			   p->window_offset_ms >= p->window_slide_ms))
		return plan_err(c, o, "window offset must satisfy |offset| < slide (%s), got %s",
				sl->text, plan_show(o->text, show));
	return 0;
}

/* "fn(arg[, arg2]) [as name]": split in place into its parts (*arg2
 * NULL when there is no second argument). */
static int
agg_split(char *s, char **fn, char **arg, char **arg2, char **as)
{
	char *q;

	while (isspace((unsigned char)*s))
		s++;
	*fn = s;
	while (isalpha((unsigned char)*s) || *s == '_')
		s++;
	if (s == *fn)
		return -EINVAL;
	q = s;
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '(')
		return -EINVAL;
	*q = '\0';
	s++;
	while (isspace((unsigned char)*s))
		s++;
	*arg = s;
	while (isalnum((unsigned char)*s) || *s == '_')
		s++;
	q = s;
	while (isspace((unsigned char)*s))
		s++;
	*arg2 = NULL;
	if (*s == ',') {
		*q = '\0';
		s++;
		while (isspace((unsigned char)*s))
			s++;
		*arg2 = s;
		while (isalnum((unsigned char)*s) || *s == '_' || *s == '-' || *s == '+')
			s++;
		q = s;
		while (isspace((unsigned char)*s))
			s++;
		if (*s == ',')
			return -E2BIG;
	}
	if (*s != ')')
		return -EINVAL;
	*q = '\0';
	s++;
	*as = NULL;
	q = s;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return 0;
	if (s == q || strncmp(s, "as", 2) != 0 ||
	    !isspace((unsigned char)s[2]))
		return -EINVAL;
	s += 2;
	while (isspace((unsigned char)*s))
		s++;
	*as = s;
	while (*s && !isspace((unsigned char)*s))
		s++;
	q = s;
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '\0' || q == *as)
		return -EINVAL;
	*q = '\0';
	return 0;
}

static int
plan_agg_one(struct plan_ctx *c, const struct plan_node *n)
{
	static const char *const fns[] = {
		[SL_PLAN_AGG_COUNT] = "count", [SL_PLAN_AGG_SUM] = "sum",
		[SL_PLAN_AGG_MIN] = "min", [SL_PLAN_AGG_MAX] = "max", [SL_PLAN_AGG_AVG] = "avg",
		[SL_PLAN_AGG_FIRST] = "first", [SL_PLAN_AGG_LAST] = "last",
		[SL_PLAN_AGG_COUNT_DISTINCT] = "count_distinct",
		[SL_PLAN_AGG_APPROX_COUNT_DISTINCT] = "approx_count_distinct",
	};
	struct sl_plan *p = c->p;
	struct sl_plan_agg *a = &p->agg[p->n_aggs];
	char buf[SL_PLAN_ARG_MAX], show[PLAN_SHOW_MAX], what[96], ty[16];
	char *fn, *arg, *arg2, *as;
	const char *out;
	bool distinct;
	int i, rc;

	if (n->kind == PLAN_MAP)
		return plan_agg_udf(c, n);
	if (plan_expect(c, n, PLAN_SCALAR, "aggregate") < 0)
		return -EINVAL;
	rc = n->len >= sizeof(buf) ? -EINVAL :
	     agg_split(memcpy(buf, n->text, n->len + 1), &fn, &arg, &arg2, &as);
	if (rc == -E2BIG)
		return plan_err(c, n, "%s() takes at most two arguments (approx_count_distinct(field, P)), got '%s'",
				fn, plan_show(n->text, show));
	if (rc < 0) {
		/* YAML's flow sequence [a, b] splits at the comma of f(x, P). */
		if (memchr(n->text, '(', n->len) != NULL && memchr(n->text, ')', n->len) == NULL)
			return plan_err(c, n, "expected an aggregate like count(), sum(f) or max(f) as name, got '%s' (an aggregate with a comma inside [...] must be quoted: \"approx_count_distinct(f, 12)\")",
					plan_show(n->text, show));
		return plan_err(c, n, "expected an aggregate like count(), sum(f) or max(f) as name, got '%s'",
				plan_show(n->text, show));
	}
	for (i = 0; i <= SL_PLAN_AGG_APPROX_COUNT_DISTINCT; i++)
		if (strcmp(fn, fns[i]) == 0)
			break;
	if (i > SL_PLAN_AGG_APPROX_COUNT_DISTINCT)
		return plan_err(c, n, "unknown aggregate function '%s'; expected one of: count, sum, min, max, avg, first, last, count_distinct, approx_count_distinct",
				plan_show(fn, show));
	a->fn = (enum sl_plan_agg_fn)i;
	a->field = -1;
	distinct = a->fn == SL_PLAN_AGG_COUNT_DISTINCT ||
		   a->fn == SL_PLAN_AGG_APPROX_COUNT_DISTINCT;
	/* Only the HyperLogLog takes a second argument: its precision. */
	if (arg2 != NULL && a->fn != SL_PLAN_AGG_APPROX_COUNT_DISTINCT)
		return plan_err(c, n, "%s() takes %s, got %s(%s, %s)", fn,
				a->fn == SL_PLAN_AGG_COUNT ? "no field" : "one field",
				fn, plan_show(arg, show), arg2);
	if (arg2 != NULL) {
		char *end;
		long v;

		errno = 0;
		v = strtol(arg2, &end, 10);
		if (arg2[0] == '\0' || *end != '\0' || errno != 0 || v < 4 || v > 16)
			return plan_err(c, n, "approx_count_distinct(%s, P): precision P must be an integer 4..16 (2^P registers, standard error 1.04/sqrt(2^P)), got '%s'",
					plan_show(arg, show), arg2);
		a->hll_p = (uint8_t)v;
	} else if (a->fn == SL_PLAN_AGG_APPROX_COUNT_DISTINCT) {
		a->hll_p = SL_PLAN_HLL_P_DEFAULT;
	}
	if (a->fn == SL_PLAN_AGG_COUNT) {
		if (arg[0] != '\0')
			return plan_err(c, n, "count() takes no field, got count(%s)",
					plan_show(arg, show));
		out = "count";
	} else {
		const struct sl_field *f;

		if (arg[0] == '\0')
			return plan_err(c, n, distinct ? "%s() needs a field" :
					"%s() needs a numeric field", fn);
		snprintf(what, sizeof(what), "%s()", fn);
		if (plan_field_lookup(c, n, arg, what, &a->field) < 0)
			return -EINVAL;
		f = &p->schema.f[a->field];
		/* Distinct values of any type: strings are their bytes. */
		if (!distinct && (f->type == SL_T_STR || f->type == SL_T_BOOL))
			return plan_err(c, n, "%s(%s): field '%s' is %s; expected a numeric field",
					fn, f->name, f->name,
					plan_type_show(f, ty, sizeof(ty)));
		/* fn (<= 21 bytes) + "_" + a field name fits in what. */
		snprintf(what, sizeof(what), "%s_%s", fn, f->name);
		out = what;
	}
	if (as != NULL) {
		if (!plan_name_ok(as))
			return plan_err(c, n, "invalid output name '%s'; expected [A-Za-z_][A-Za-z0-9_]{0,62}",
					plan_show(as, show));
		out = as;
	} else if (strlen(out) >= SL_NAME_MAX) {
		return plan_err(c, n, "output name '%s' is longer than %d bytes; rename it with 'as'",
				plan_show(out, show), SL_NAME_MAX - 1);
	}
	if (reserved_column(out))
		return plan_err(c, n, "output column '%s' is reserved", out);
	for (i = 0; i < p->n_keys; i++)
		if (strcmp(out, p->schema.f[p->key_field[i]].name) == 0)
			return plan_err(c, n, "output column '%s' collides with a key_by field",
					out);
	for (i = 0; i < p->n_aggs; i++)
		if (strcmp(out, p->agg[i].out_name) == 0)
			return plan_err(c, n, "duplicate output column '%s'", out);
	/* Length checked above; memcpy because gcc -O0 cannot see that. */
	memcpy(a->out_name, out, strlen(out) + 1);
	p->n_aggs++;
	return 0;
}

int
plan_aggregate(struct plan_ctx *c, const struct plan_node *v)
{
	if (v->kind == PLAN_SCALAR && !v->null)
		return plan_agg_one(c, v);
	if (v->kind != PLAN_SEQ)
		return plan_err(c, v, "expected a sequence of aggregates for 'aggregate', got %s",
				plan_kind_name(v));
	if (v->n < 1 || v->n > SL_PLAN_MAX_AGGS)
		return plan_err(c, v, "aggregate needs 1..%d items, got %u",
				SL_PLAN_MAX_AGGS, v->n);
	for (uint32_t i = 0; i < v->n; i++)
		if (plan_agg_one(c, v->kid[i]) < 0)
			return -EINVAL;
	return 0;
}

/*
 * dedup: {within: D}: the first row per key, again once a row is D or
 * more after it (operators/dedup/sl_dedup.h). D > 0: "within 0" would
 * keep every row and is more likely a mistake than a wish.
 */
static int
plan_dedup(struct plan_ctx *c, const struct plan_node *v)
{
	char show[PLAN_SHOW_MAX];
	struct plan_node *n;
	unsigned int key_len = 0;

	if (plan_expect(c, v, PLAN_MAP, "dedup") < 0 ||
	    plan_check_keys(c, v, "dedup", dedup_keys) < 0 ||
	    plan_require(c, v, "dedup", "within", &n) < 0 ||
	    plan_get_duration(c, n, &c->p->dedup_within_ms) < 0)
		return -EINVAL;
	if (c->p->dedup_within_ms <= 0)
		return plan_err(c, n, "dedup within must be > 0, got %s",
				plan_show(n->text, show));
	/* The key is a timer's key too (sl_timer's limit). */
	for (uint16_t i = 0; i < c->p->n_keys; i++)
		key_len += c->p->schema.f[c->p->key_field[i]].size;
	if (key_len > SL_PLAN_DEDUP_KEY_MAX)
		return plan_err(c, v, "dedup's key fields take %u bytes, at most %d; key_by fewer or shorter fields",
				key_len, SL_PLAN_DEDUP_KEY_MAX);
	return 0;
}

/*
 * top_k: {k: K, by: COLUMN, order: desc|asc}: Flink SQL's Window Top-N
 * (R9.2) over the window's results, ranked where the sink gathers a
 * window's rows from every worker. Only a window that fires once, with
 * all its rows at one watermark, can be ranked that way: an allowed
 * lateness would re-fire a ranked window (R9.3), a count or continuous
 * trigger fires early, sessions have no common window, and
 * processing-time rows are written as each worker fires them.
 */
static int
plan_topk(struct plan_ctx *c, const struct plan_node *k, const struct plan_node *v)
{
	struct sl_plan *p = c->p;
	char show[PLAN_SHOW_MAX];
	struct plan_node *kn, *bn, *on;
	int64_t kk;
	uint16_t a;

	if (plan_expect(c, v, PLAN_MAP, "top_k") < 0 ||
	    plan_check_keys(c, v, "top_k", topk_keys) < 0 ||
	    plan_require(c, v, "top_k", "k", &kn) < 0 ||
	    plan_get_int(c, kn, "top_k k", 1, SL_PLAN_TOPK_MAX, &kk) < 0 ||
	    plan_require(c, v, "top_k", "by", &bn) < 0 ||
	    plan_expect(c, bn, PLAN_SCALAR, "top_k by") < 0)
		return -EINVAL;
	for (a = 0; a < p->n_aggs; a++)
		if (strcmp(bn->text, p->agg[a].out_name) == 0)
			break;
	if (a == p->n_aggs) {
		char cols[SL_PLAN_MAX_AGGS * (SL_NAME_MAX + 2)];
		size_t len = 0;

		cols[0] = '\0';
		for (uint16_t i = 0; i < p->n_aggs; i++)
			len += (size_t)snprintf(cols + len, sizeof(cols) - len, "%s%s",
						i ? ", " : "", p->agg[i].out_name);
		return plan_err(c, bn, "top_k by: '%s' is not an aggregate column; expected one of: %s",
				plan_show(bn->text, show), cols);
	}
	on = plan_map_get(v, "order", NULL);
	if (on != NULL) {
		if (plan_expect(c, on, PLAN_SCALAR, "top_k order") < 0)
			return -EINVAL;
		if (strcmp(on->text, "asc") == 0)
			p->topk_asc = true;
		else if (strcmp(on->text, "desc") != 0)
			return plan_err(c, on, "unknown top_k order '%s'; expected one of: desc, asc",
					plan_show(on->text, show));
	}
	if (p->window_gap_ms > 0)
		return plan_err(c, k, "top_k over session windows is not supported: each key's sessions have their own bounds, so there is no common window to rank (Flink's Window Top-N takes tumbling and sliding windows)");
	if (p->window_processing_time)
		return plan_err(c, k, "top_k with time: processing is not supported: each worker writes its processing-time windows as they fire, so a window's rows are never gathered to rank; use event time");
	if (p->window_lateness_ms > 0)
		return plan_err(c, k, "top_k with allowed_lateness (%lld ms) is not supported: a late firing would change a ranking already written (semantics.md R9.3); set allowed_lateness to 0 or remove it (late rows are then dropped, or go to late_sink)",
				(long long)p->window_lateness_ms);
	if (p->window_count_trigger || p->window_continuous_ms)
		return plan_err(c, k, "top_k ranks each window's final results once, and a %s trigger fires windows early; remove the window's trigger",
				p->window_count_trigger ? "count" : "continuous");
	for (uint16_t i = 0; i < p->n_keys; i++)
		if (strcmp(p->schema.f[p->key_field[i]].name, "rank") == 0)
			return plan_err(c, k, "top_k adds a column 'rank', and key field 'rank' has that name");
	for (uint16_t i = 0; i < p->n_aggs; i++)
		if (strcmp(p->agg[i].out_name, "rank") == 0)
			return plan_err(c, k, "top_k adds a column 'rank', and an aggregate has that name; rename it with 'as'");
	p->topk_k = (uint32_t)kk;
	p->topk_by = a;
	return 0;
}

static const char *const step_names[] = {
	"filter", "key_by", "window", "aggregate", "map", "dedup", "flat_map",
	"process", "top_k", NULL,
};

enum {
	STEP_FILTER, STEP_KEY_BY, STEP_WINDOW, STEP_AGGREGATE, STEP_MAP,
	STEP_DEDUP, STEP_FLAT_MAP, STEP_PROCESS, STEP_TOPK, STEP__COUNT
};

/* A filter or map step given as {plugin: ..., function: ...}. */
static bool
udf_form(const struct plan_node *v)
{
	return v->kind == PLAN_MAP && (plan_map_get(v, "plugin", NULL) != NULL ||
				       plan_map_get(v, "function", NULL) != NULL);
}

/* Which step a pipeline item is, or an error for anything else. */
static int
plan_step(struct plan_ctx *c, const struct plan_node *step)
{
	char show[PLAN_SHOW_MAX];
	const struct plan_node *k;

	if (step->kind != PLAN_MAP || step->n != 1)
		return plan_err(c, step, "expected a pipeline step: a mapping with one key (filter, map, flat_map, key_by, window, aggregate, top_k, dedup or process)");
	k = step->kid[0];
	for (int i = 0; step_names[i] != NULL; i++)
		if (strcmp(k->text, step_names[i]) == 0)
			return i;
	return plan_err(c, k, "unknown pipeline step '%s'; expected one of: filter, map, flat_map, key_by, window, aggregate, top_k, dedup, process",
			plan_show(k->text, show));
}

int
plan_pipeline(struct plan_ctx *c, const struct plan_node *seq)
{
	struct sl_plan *p = c->p;
	uint32_t seen[STEP__COUNT] = { 0 };
	int rc;

	if (plan_expect(c, seq, PLAN_SEQ, "pipeline") < 0)
		return -EINVAL;
	if (p->join.kind != SL_PLAN_JOIN_NONE)
		return plan_after_join(c, seq);
	/* Shape first, so a missing step is reported before an order error. */
	for (uint32_t i = 0; i < seq->n; i++) {
		rc = plan_step(c, seq->kid[i]);
		if (rc < 0)
			return rc;
		seen[rc]++;
	}
	/* No key_by, window, aggregate, top_k, dedup or process: a
	 * stateless pipeline. */
	p->stateless = !seen[STEP_KEY_BY] && !seen[STEP_WINDOW] &&
		!seen[STEP_AGGREGATE] && !seen[STEP_DEDUP] && !seen[STEP_PROCESS] &&
		!seen[STEP_TOPK];
	/* Before key_by a keyed pipeline takes expression filters and one
	 * map of computed columns (run chained to the source); plugin
	 * functions there are not built. */
	for (uint32_t i = 0; !p->stateless && i < seq->n; i++) {
		const struct plan_node *k = seq->kid[i]->kid[0];
		int step = plan_step(c, seq->kid[i]);

		if (step == STEP_FLAT_MAP)
			return plan_err(c, k, "flat_map in a keyed pipeline is not supported yet; flat_map belongs to pipelines of filters and one function (no key_by, window or aggregate)");
		if (step == STEP_MAP && udf_form(seq->kid[i]->kid[1]))
			return plan_err(c, k, "a map function in a keyed pipeline is not supported yet; give the columns as expressions ({name: field or expression, ...})");
		if (step == STEP_FILTER && udf_form(seq->kid[i]->kid[1]))
			return plan_err(c, k, "a filter function in a keyed pipeline is not supported yet; it belongs to pipelines of filters and one function (no key_by, window or aggregate)");
	}
	/* A process pipeline is filters, key_by and process: its rows are
	 * the function's, written as they come, like a dedup's. */
	if (seen[STEP_PROCESS]) {
		for (uint32_t i = 0; i < seq->n; i++) {
			const struct plan_node *k = seq->kid[i]->kid[0];
			int step = plan_step(c, seq->kid[i]);

			if (step == STEP_PROCESS && !seen[STEP_KEY_BY])
				return plan_err(c, k, "process needs a key_by before it: a process function's state and timers are per key");
			if (step == STEP_WINDOW || step == STEP_AGGREGATE || step == STEP_DEDUP ||
			    step == STEP_TOPK)
				return plan_err(c, k, "%s and process in one pipeline are not supported yet; a process pipeline is filters, key_by and process",
						step_names[step]);
		}
	}
	/* A dedup pipeline is filters, key_by and dedup: its rows are the
	 * input's, so a window over them would be a second keyed stage,
	 * which is not built. */
	if (seen[STEP_DEDUP]) {
		bool after = false;

		for (uint32_t i = 0; i < seq->n; i++) {
			const struct plan_node *k = seq->kid[i]->kid[0];
			int step = plan_step(c, seq->kid[i]);

			if (step == STEP_DEDUP && !seen[STEP_KEY_BY])
				return plan_err(c, k, "dedup needs a key_by before it: rows are deduplicated per key");
			if (step == STEP_WINDOW || step == STEP_AGGREGATE || step == STEP_TOPK)
				return plan_err(c, k, after ?
						"%s after dedup is not supported yet; a dedup pipeline is filters, key_by and dedup, and writes the rows it keeps" :
						"%s and dedup in one pipeline are not supported yet; a dedup pipeline is filters, key_by and dedup",
						step_names[step]);
			after = after || step == STEP_DEDUP;
		}
	}
	if (!p->stateless && !seen[STEP_KEY_BY])
		return plan_err(c, seq, "pipeline has no key_by; expected filters, then key_by, window and aggregate");
	if (!p->stateless && !seen[STEP_DEDUP] && !seen[STEP_PROCESS] && !seen[STEP_WINDOW])
		return plan_err(c, seq, "pipeline has no window; expected one after key_by");
	if (!p->stateless && !seen[STEP_DEDUP] && !seen[STEP_PROCESS] && !seen[STEP_AGGREGATE])
		return plan_err(c, seq, "pipeline has no aggregate; expected one after window");

	memset(seen, 0, sizeof(seen));
	for (uint32_t i = 0; i < seq->n; i++) {
		const struct plan_node *k = seq->kid[i]->kid[0];
		const struct plan_node *v = seq->kid[i]->kid[1];
		int step = plan_step(c, seq->kid[i]);
		/* the keyed stage has made its rows: filter and map take those */
		const bool after = seen[STEP_AGGREGATE] || seen[STEP_DEDUP] ||
				   seen[STEP_PROCESS];

		if (step == STEP_KEY_BY && seen[step] && seen[STEP_AGGREGATE])
			/* the rest of the pipeline is the second stage's */
			return plan_second_stage(c, seq, i);
		if (step == STEP_KEY_BY && seen[step] && (seen[STEP_DEDUP] || seen[STEP_PROCESS]))
			return plan_err(c, k, "a second keyed stage after %s is not supported yet; it follows a window's aggregate",
					seen[STEP_DEDUP] ? "dedup" : "process");
		if (step == STEP_KEY_BY && seen[step])
			return plan_err(c, k, "duplicate key_by; a second keyed stage (key_by again) follows a window's aggregate");
		if (step != STEP_FILTER && step != STEP_MAP && seen[step])
			return plan_err(c, k, "duplicate %s; a pipeline has %s one",
					step_names[step],
					step == STEP_DEDUP ||
					step == STEP_FLAT_MAP || step == STEP_PROCESS ||
					step == STEP_TOPK ?
					"at most" : "exactly");
		if (p->stateless && (step == STEP_MAP || step == STEP_FLAT_MAP) &&
		    p->udf_kind != 0)
			return plan_err(c, k, "%s after a filter function is not supported yet; a stateless pipeline has at most one map or function",
					step_names[step]);
		if ((step == STEP_FILTER || step == STEP_MAP) && seen[STEP_TOPK])
			return plan_err(c, k, "%s after top_k is not supported yet; top_k ranks the rows where the sink writes them, so it is the pipeline's last step",
					step_names[step]);
		if ((step == STEP_FILTER || step == STEP_MAP) && !after && seen[STEP_KEY_BY])
			return plan_err(c, k, "%s between key_by and the keyed operator is not supported; put it before key_by (the same rows) or after the operator (its results)",
					step_names[step]);
		switch (step) {
		case STEP_FILTER:
			if (after) {
				rc = plan_post_filter(c, k, v);
				break;
			}
			if (p->stateless && (seen[STEP_MAP] || seen[STEP_FLAT_MAP] || p->udf_kind != 0))
				return plan_err(c, k, "filter after %s is not supported yet; filter on the input's fields before it",
						seen[STEP_FLAT_MAP] ? "flat_map" :
						p->udf_kind == SLUICE_FN_FILTER ? "a filter function" : "map");
			if (udf_form(v)) {
				rc = plan_udf_step(c, v, SLUICE_FN_FILTER);
				break;
			}
			if (p->n_filters == SL_PLAN_MAX_FILTERS)
				return plan_err(c, k, "at most %d filters",
						SL_PLAN_MAX_FILTERS);
			/* after a map before key_by: over the map's columns */
			rc = plan_filter(c, v);
			break;
		case STEP_MAP:
			if (after) {
				rc = plan_post_map(c, k, v);
				break;
			}
			if (seen[STEP_MAP])
				return plan_err(c, k, "duplicate map; a pipeline has at most one before key_by (give all the columns in one)");
			if (!p->stateless)
				rc = plan_key_map(c, v);
			else if (udf_form(v))
				rc = plan_udf_step(c, v, SLUICE_FN_MAP);
			else
				rc = plan_map_cols(c, v, &p->schema, p->map_name,
						   p->map_text, &p->n_map, NULL);
			break;
		case STEP_KEY_BY:
			rc = plan_key_by(c, v);
			break;
		case STEP_FLAT_MAP:
			rc = plan_udf_step(c, v, SLUICE_FN_FLAT_MAP);
			break;
		case STEP_PROCESS:
			if (!seen[STEP_KEY_BY])
				return plan_err(c, k, "process must come after key_by");
			rc = plan_udf_step(c, v, SLUICE_FN_PROCESS);
			break;
		case STEP_DEDUP:
			if (!seen[STEP_KEY_BY])
				return plan_err(c, k, "dedup must come after key_by");
			rc = plan_dedup(c, v);
			break;
		case STEP_WINDOW:
			if (!seen[STEP_KEY_BY])
				return plan_err(c, k, "window must come after key_by");
			rc = plan_window(c, v);
			break;
		case STEP_TOPK:
			if (!seen[STEP_AGGREGATE])
				return plan_err(c, k, "top_k must come after aggregate: it ranks a window's aggregated rows");
			if (p->n_post_filters != 0 || p->n_post_map != 0)
				return plan_err(c, k, "top_k after filter or map is not supported yet; put top_k right after aggregate");
			rc = plan_topk(c, k, v);
			break;
		default:
			if (!seen[STEP_WINDOW])
				return plan_err(c, k, "aggregate must come after window");
			rc = plan_aggregate(c, v);
			break;
		}
		if (rc < 0)
			return rc;
		seen[step]++;
	}
	return 0;
}
