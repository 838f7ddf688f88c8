/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * User functions in a job (docs/udf.md): plugins: {dir: DIR} and the
 * pipeline steps that name a function,
 *   - map|filter|flat_map: {plugin: P, function: F, PARAM: VALUE, ...}
 *   - process: {function: F[, plugin: P], PARAM: VALUE, ...}
 *   - join: {..., process: {plugin: P, function: F, PARAM: VALUE, ...}}
 *     (a co_process function over the join's two inputs)
 *   - aggregate: [..., {plugin: P, function: F[, as: NAME], PARAM: VALUE}]
 * (process's plugin defaults to the builtin functions). The plugin is
 * loaded and the function set up here, once, so a job whose plugin is
 * missing, built against another ABI version, or refuses its parameters
 * is refused at load with the position of the key at fault; the
 * function's output schema and side outputs come from that setup.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_private.h"

static const char *const plugins_keys[] = { "dir", NULL };

int
plan_plugins(struct plan_ctx *c, const struct plan_node *v)
{
	struct plan_node *d;

	if (v == NULL)
		return 0;
	if (plan_expect(c, v, PLAN_MAP, "plugins") < 0 ||
	    plan_check_keys(c, v, "plugins", plugins_keys) < 0 ||
	    plan_require(c, v, "plugins", "dir", &d) < 0 ||
	    plan_get_str(c, d, "plugins dir", c->p->plugins_dir,
			 sizeof(c->p->plugins_dir)) < 0)
		return -EINVAL;
	if (c->p->plugins_dir[0] == '\0')
		return plan_err(c, d, "plugins dir is empty; give the directory of the plugins' .so files");
	return 0;
}

static const char *
kind_word(uint32_t kind)
{
	switch (kind) {
	case SLUICE_FN_MAP: return "map";
	case SLUICE_FN_FILTER: return "filter";
	case SLUICE_FN_FLAT_MAP: return "flat_map";
	case SLUICE_FN_AGGREGATE: return "aggregate";
	case SLUICE_FN_CO_PROCESS: return "join process";
	default: return "process";
	}
}

/* The step's parameters: every key but plugin and function, as text. */
static int
udf_params(struct plan_ctx *c, const struct plan_node *v)
{
	struct sl_plan *p = c->p;

	for (uint32_t i = 0; i < v->n; i++) {
		const struct plan_node *k = v->kid[2 * i], *x = v->kid[2 * i + 1];
		struct sl_udf_param *prm;

		if (strcmp(k->text, "plugin") == 0 || strcmp(k->text, "function") == 0 ||
		    (p->udf_kind == SLUICE_FN_AGGREGATE && strcmp(k->text, "as") == 0))
			continue;
		if (p->udf_n_params == SL_UDF_MAX_PARAMS)
			return plan_err(c, k, "a function takes at most %d parameters",
					SL_UDF_MAX_PARAMS);
		if (k->len == 0 || k->len >= SL_NAME_MAX)
			return plan_err(c, k, "a parameter name has 1 to %d bytes", SL_NAME_MAX - 1);
		if (plan_expect(c, x, PLAN_SCALAR, "a function parameter") < 0)
			return -EINVAL;
		if (x->len >= SL_UDF_PARAM_MAX)
			return plan_err(c, x, "parameter '%s' is longer than %d bytes",
					k->text, SL_UDF_PARAM_MAX - 1);
		prm = &p->udf_param[p->udf_n_params++];
		memcpy(prm->name, k->text, k->len + 1);
		memcpy(prm->value, x->text, x->len + 1);
	}
	return 0;
}

static struct plan_node *
param_key(const struct plan_node *v, const char *name)
{
	for (uint32_t i = 0; i < v->n; i++)
		if (strcmp(v->kid[2 * i]->text, name) == 0)
			return v->kid[2 * i];
	return NULL;
}

int
plan_udf_step(struct plan_ctx *c, const struct plan_node *v, uint32_t kind)
{
	struct sl_plan *p = c->p;
	struct plan_node *pn, *fn, *at;
	struct sl_udf_inst *u;
	struct sl_udf_lib lib;
	struct sl_udf_conf uc;
	const struct sluice_fn *f;
	char msg[SL_PLAN_ERR_MAX / 2];
	int rc;

	if (plan_expect(c, v, PLAN_MAP, kind_word(kind)) < 0)
		return -EINVAL;
	if (p->udf_kind != 0)
		return plan_err(c, v, "a pipeline has at most one user function (%s %s is the first)",
				kind_word(p->udf_kind), p->udf_function);
	pn = plan_map_get(v, "plugin", NULL);
	if (pn == NULL && kind != SLUICE_FN_PROCESS)
		return plan_err(c, v, "%s with a user function needs plugin: NAME (the file DIR/NAME.so of plugins: {dir: DIR}) and function: NAME",
				kind_word(kind));
	if (plan_require(c, v, kind_word(kind), "function", &fn) < 0 ||
	    plan_get_str(c, fn, "function", p->udf_function, sizeof(p->udf_function)) < 0)
		return -EINVAL;
	if (pn != NULL) {
		if (plan_get_str(c, pn, "plugin", p->udf_plugin, sizeof(p->udf_plugin)) < 0)
			return -EINVAL;
	} else {
		snprintf(p->udf_plugin, sizeof(p->udf_plugin), "%s", SL_UDF_BUILTIN);
	}
	/* udf_params skips an aggregate's 'as': say which kind it parses. */
	p->udf_kind = kind == SLUICE_FN_AGGREGATE ? kind : 0;
	rc = udf_params(c, v);
	p->udf_kind = 0;
	if (rc < 0)
		return -EINVAL;
	if ((c->flags & SL_PLAN_NO_PLUGINS) && strcmp(p->udf_plugin, SL_UDF_BUILTIN) != 0) {
		/* sluiced, the fuzzer: a job's own code never runs here
		 * (the builtin functions are sluice's, and are set up). */
		p->udf_unloaded = true;
		goto keys;
	}
	rc = sl_udf_open(p->plugins_dir, p->udf_plugin, &lib, msg, sizeof(msg));
	if (rc < 0)
		return plan_err(c, pn != NULL ? pn : v, "%s", msg);
	f = sl_udf_lookup(&lib, p->udf_function, kind, msg, sizeof(msg));
	if (f == NULL) {
		sl_udf_close(&lib);
		return plan_err(c, fn, "%s", msg);
	}
	if (sl_udf_kind_keyed(kind) && (f->process == NULL)) {
		sl_udf_close(&lib);
		return plan_err(c, fn, "process function '%s' has no process hook", p->udf_function);
	}
	if (kind == SLUICE_FN_AGGREGATE &&
	    (f->agg_add == NULL || f->agg_merge == NULL || f->agg_result == NULL ||
	     f->acc_size == 0 || f->acc_size > (256u << 10) ||
	     f->agg_type == SLUICE_STR || f->agg_type == SLUICE_BOOL || f->agg_type > SLUICE_STR)) {
		sl_udf_close(&lib);
		return plan_err(c, fn, "aggregate function '%s' needs acc_size 1..262144, agg_add, agg_merge, agg_result and an agg_type of i64, u64, i32, u32, f64 or timestamp",
				p->udf_function);
	}
	if ((kind == SLUICE_FN_MAP && f->map == NULL) ||
	    (kind == SLUICE_FN_FILTER && f->filter == NULL) ||
	    (kind == SLUICE_FN_FLAT_MAP && f->flat_map == NULL)) {
		sl_udf_close(&lib);
		return plan_err(c, fn, "%s function '%s' has no %s hook", kind_word(kind),
				p->udf_function, kind_word(kind));
	}
	memset(&uc, 0, sizeof(uc));
	uc.fn = f;
	uc.in = &p->schema;
	uc.ts_field = p->source.ts_field;
	/* Keyed kinds see the key fields, as they will on the workers. */
	uc.n_keys = kind == SLUICE_FN_PROCESS || kind == SLUICE_FN_AGGREGATE ? p->n_keys : 0;
	uc.key_field = p->key_field;
	uc.n_params = p->udf_n_params;
	uc.params = p->udf_param;
	if (kind == SLUICE_FN_CO_PROCESS) {
		/* A join's two inputs, keyed by the join key; by default its
		 * rows are the join's columns (plan_join_out ran first). */
		const struct sl_plan_input *l = &p->inputs[p->join.left];
		const struct sl_plan_input *r = &p->inputs[p->join.right];

		uc.in = &l->schema;
		uc.ts_field = l->source.ts_field;
		uc.n_keys = p->join.n_keys;
		uc.key_field = p->join.left_key;
		uc.in2 = &r->schema;
		uc.ts_field2 = r->source.ts_field;
		uc.key_field2 = p->join.right_key;
		uc.out_default = &p->join.out;
	}
	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		sl_udf_close(&lib);
		return plan_err(c, v, "out of memory");
	}
	rc = sl_udf_inst_setup(u, &uc, msg, sizeof(msg));
	if (rc == 0) {
		p->udf_out = u->out;
		p->udf_n_sides = u->n_sides;
		memcpy(p->udf_side, u->side, sizeof(p->udf_side));
		sl_udf_inst_fini(u);
	}
	/* A parameter the function did not ask for: point at its key. */
	if (rc < 0 && u->bad_param >= 0)
		at = param_key(v, p->udf_param[u->bad_param].name);
	else
		at = fn;
	free(u);
	sl_udf_close(&lib);
	if (rc < 0)
		return plan_err(c, at != NULL ? at : fn, "%s", msg);
keys:
	if (kind == SLUICE_FN_PROCESS && p->n_keys > 0) {
		unsigned int key_len = 0;

		for (uint16_t i = 0; i < p->n_keys; i++)
			key_len += p->schema.f[p->key_field[i]].size;
		if (key_len > SL_UDF_KEY_MAX)
			return plan_err(c, v, "process's key fields take %u bytes, at most %d; key_by fewer or shorter fields",
					key_len, SL_UDF_KEY_MAX);
	}
	p->udf_kind = kind;
	return 0;
}

/* side_sink: {output: NAME, type: ..., ...}: one side output's rows. */
int
plan_side_sink(struct plan_ctx *c, const struct plan_node *v)
{
	struct sl_plan *p = c->p;
	struct plan_node *o;
	char name[SL_NAME_MAX], show[PLAN_SHOW_MAX];

	if (v == NULL)
		return 0;
	if (!sl_udf_kind_keyed(p->udf_kind))
		return plan_err(c, v, "side_sink takes a process function's side output, and this pipeline has no process step");
	if (plan_expect(c, v, PLAN_MAP, "side_sink") < 0 ||
	    plan_require(c, v, "side_sink", "output", &o) < 0 ||
	    plan_get_str(c, o, "side_sink output", name, sizeof(name)) < 0)
		return -EINVAL;
	p->side_tag = -1;
	if (p->udf_unloaded) {
		p->side_tag = 0;	/* the dataplane's load checks the name */
		return 0;
	}
	for (uint16_t i = 0; i < p->udf_n_sides; i++)
		if (strcmp(p->udf_side[i], name) == 0)
			p->side_tag = i;
	if (p->side_tag < 0)
		return plan_err(c, o, "function '%s' has no side output '%s'%s%s",
				p->udf_function, plan_show(name, show),
				p->udf_n_sides > 0 ? "; it has: " : " (it declares none)",
				p->udf_n_sides > 0 ? p->udf_side[0] : "");
	return 0;
}

/*
 * aggregate: [..., {plugin: P, function: F[, as: NAME], PARAM: VALUE}]:
 * a user aggregate in a window's list, its column NAME (default F).
 */
int
plan_agg_udf(struct plan_ctx *c, const struct plan_node *v)
{
	struct sl_plan *p = c->p;
	struct sl_plan_agg *a = &p->agg[p->n_aggs];
	const struct plan_node *asn;
	char show[PLAN_SHOW_MAX];
	const char *out;

	if (p->window_count_trigger != 0 || p->window_continuous_ms != 0)
		return plan_err(c, v, "user aggregates are not supported with a count or continuous trigger yet");
	if (plan_udf_step(c, v, SLUICE_FN_AGGREGATE) < 0)
		return -EINVAL;
	asn = plan_map_get(v, "as", NULL);
	if (asn != NULL && plan_expect(c, asn, PLAN_SCALAR, "as") < 0)
		return -EINVAL;
	out = asn != NULL ? asn->text : p->udf_function;
	if (!plan_name_ok(out))
		return plan_err(c, asn != NULL ? asn : v, "invalid output name '%s'; expected [A-Za-z_][A-Za-z0-9_]{0,62}",
				plan_show(out, show));
	if (strcmp(out, "window_start") == 0 || strcmp(out, "window_end") == 0)
		return plan_err(c, asn != NULL ? asn : v, "output column '%s' is reserved", out);
	for (uint16_t i = 0; i < p->n_keys; i++)
		if (strcmp(out, p->schema.f[p->key_field[i]].name) == 0)
			return plan_err(c, asn != NULL ? asn : v, "output column '%s' collides with a key_by field", out);
	for (uint16_t i = 0; i < p->n_aggs; i++)
		if (strcmp(out, p->agg[i].out_name) == 0)
			return plan_err(c, asn != NULL ? asn : v, "duplicate output column '%s'", out);
	a->fn = SL_PLAN_AGG_UDF;
	a->field = -1;
	snprintf(a->out_name, sizeof(a->out_name), "%s", out);
	p->n_aggs++;
	return 0;
}
