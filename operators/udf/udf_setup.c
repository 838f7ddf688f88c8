/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Setting up a function instance: the setup half of struct sluice_host
 * (parameters, output columns, side outputs, state declarations) and the
 * schemas as a plugin sees them. Runs at job load and at worker start,
 * never on the hot path.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "udf_private.h"

struct sluice_setup {
	struct sl_udf_inst *u;
	const struct sl_udf_conf *c;
	bool used[SL_UDF_MAX_PARAMS];
	char why[SL_UDF_PARAM_MAX];
};

static int
param_index(sluice_setup *s, const char *name)
{
	for (uint16_t i = 0; i < s->c->n_params; i++)
		if (strcmp(s->c->params[i].name, name) == 0) {
			s->used[i] = true;
			return i;
		}
	return -1;
}

const char *
udf_param(sluice_setup *s, const char *name)
{
	int i = param_index(s, name);

	return i < 0 ? NULL : s->c->params[i].value;
}

int
udf_param_int(sluice_setup *s, const char *name, int64_t *v)
{
	const char *t = udf_param(s, name);
	char *end;

	if (t == NULL)
		return -ENOENT;
	errno = 0;
	*v = strtoll(t, &end, 10);
	if (errno != 0 || end == t || *end != '\0')
		return -EINVAL;
	return 0;
}

/* Durations as job files write them: 250ms, 60s, 5m, 1h, 1d; bare = ms. */
int
udf_param_ms(sluice_setup *s, const char *name, int64_t *ms)
{
	static const struct { const char *u; int64_t f; } units[] = {
		{ "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	const char *t = udf_param(s, name);
	char *end;
	long long n;

	if (t == NULL)
		return -ENOENT;
	errno = 0;
	n = strtoll(t, &end, 10);
	if (errno != 0 || end == t || n < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].u) == 0) {
			if (__builtin_mul_overflow((int64_t)n, units[i].f, ms))
				return -EINVAL;
			return 0;
		}
	return -EINVAL;
}

void
udf_fail(sluice_setup *s, const char *msg)
{
	if (s->why[0] == '\0')
		snprintf(s->why, sizeof(s->why), "%s", msg != NULL ? msg : "setup failed");
}

int
udf_out_field(sluice_setup *s, const char *name, uint32_t type, uint32_t str_len)
{
	struct sl_udf_inst *u = s->u;

	if (name == NULL || type > SLUICE_STR ||
	    (type == SLUICE_STR && (str_len == 0 || str_len > SL_STR_MAX)))
		return -EINVAL;
	if (u->fn->kind != SLUICE_FN_MAP && u->fn->kind != SLUICE_FN_FLAT_MAP &&
	    !sl_udf_kind_keyed(u->fn->kind))
		return -ENOTSUP;
	u->out_is_in = false;
	return sl_schema_add(&u->out, name, (enum sl_type)type,
			     type == SLUICE_STR ? (uint16_t)str_len : 0);
}

int
udf_side_output(sluice_setup *s, const char *name)
{
	struct sl_udf_inst *u = s->u;

	if (name == NULL || *name == '\0' || strlen(name) >= SL_NAME_MAX)
		return -EINVAL;
	if (!sl_udf_kind_keyed(u->fn->kind))
		return -ENOTSUP;
	for (uint16_t i = 0; i < u->n_sides; i++)
		if (strcmp(u->side[i], name) == 0)
			return i;
	if (u->n_sides == SL_UDF_MAX_SIDES)
		return -E2BIG;
	snprintf(u->side[u->n_sides], SL_NAME_MAX, "%s", name);
	return u->n_sides++;
}

static int
add_state(sluice_setup *s, const char *name, enum sl_state_kind kind,
	  uint32_t val_len, uint32_t ukey_len, int64_t ttl_ms)
{
	struct sl_udf_inst *u = s->u;
	struct sl_udf_state_decl *d;

	/* "<name>" goes into descriptor names "udf.<name>": keep it short */
	if (name == NULL || *name == '\0' || strlen(name) > 40 || ttl_ms < 0)
		return -EINVAL;
	if (!sl_udf_kind_keyed(u->fn->kind))
		return -ENOTSUP;
	for (uint16_t i = 0; i < u->n_states; i++)
		if (strcmp(u->state[i].name, name) == 0)
			return -EEXIST;
	if (u->n_states == SL_UDF_MAX_STATES)
		return -E2BIG;
	d = &u->state[u->n_states];
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->kind = kind;
	d->val_len = val_len;
	d->ukey_len = ukey_len;
	d->ttl_ms = ttl_ms;
	return u->n_states++;
}

int
udf_value_state(sluice_setup *s, const char *name, uint32_t val_len, int64_t ttl_ms)
{
	if (val_len == 0 || val_len > SL_ROW_MAX)
		return -EINVAL;
	return add_state(s, name, SL_STATE_VALUE, val_len, 0, ttl_ms);
}

int
udf_list_state(sluice_setup *s, const char *name, int64_t ttl_ms)
{
	return add_state(s, name, SL_STATE_LIST, 0, 0, ttl_ms);
}

int
udf_map_state(sluice_setup *s, const char *name, uint32_t ukey_len, int64_t ttl_ms)
{
	if (ukey_len == 0 || ukey_len > SL_UDF_KEY_MAX)
		return -EINVAL;
	return add_state(s, name, SL_STATE_MAP, 0, ukey_len, ttl_ms);
}

const struct sluice_schema *
udf_input_schema(sluice_setup *s, uint32_t input)
{
	struct sl_udf_inst *u = s->u;

	if (input == 1)
		return &u->in_s;
	return input == 2 && u->has_in2 ? &u->in2_s : NULL;
}

/* The plugin's view of a schema: same layout, its own structs. */
static void
schema_view(const struct sl_schema *s, struct sluice_field *f,
	    struct sluice_schema *v)
{
	for (uint16_t i = 0; i < s->n_fields; i++) {
		f[i].name = s->f[i].name;
		f[i].type = (uint32_t)s->f[i].type;
		f[i].size = s->f[i].size;
		f[i].offset = s->f[i].offset;
	}
	memset(v, 0, sizeof(*v));
	v->n_fields = s->n_fields;
	v->row_size = s->row_size;
	v->fields = f;
	v->ts_field = -1;
}

int
sl_udf_inst_setup(struct sl_udf_inst *u, const struct sl_udf_conf *c,
		  char *msg, size_t msglen)
{
	sluice_setup *s;
	int rc;

	memset(u, 0, sizeof(*u));
	u->bad_param = -1;
	if (c->fn == NULL || c->in == NULL || c->n_params > SL_UDF_MAX_PARAMS) {
		snprintf(msg, msglen, "a user function needs a function, an input schema and at most %d parameters",
			 SL_UDF_MAX_PARAMS);
		return -EINVAL;
	}
	u->fn = c->fn;
	u->out_is_in = true;
	sl_schema_init(&u->out);
	schema_view(c->in, u->in_f, &u->in_s);
	u->in_s.ts_field = c->ts_field;
	for (uint16_t k = 0; k < c->n_keys; k++)
		u->in_keys[k] = (uint32_t)c->key_field[k];
	u->in_s.n_keys = c->n_keys;
	u->in_s.key_fields = u->in_keys;
	if (c->in2 != NULL) {
		schema_view(c->in2, u->in2_f, &u->in2_s);
		u->in2_s.ts_field = c->ts_field2;
		for (uint16_t k = 0; k < c->n_keys; k++)
			u->in2_keys[k] = (uint32_t)c->key_field2[k];
		u->in2_s.n_keys = c->n_keys;
		u->in2_s.key_fields = u->in2_keys;
		u->has_in2 = true;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->u = u;
	s->c = c;
	rc = c->fn->setup != NULL ? c->fn->setup(&sl_udf_host, s, &u->in_s, &u->self) : 0;
	if (rc < 0 || s->why[0] != '\0') {
		snprintf(msg, msglen, "function '%s': %s", c->fn->name,
			 s->why[0] != '\0' ? s->why : strerror(-rc));
		if (rc >= 0 && c->fn->teardown != NULL)
			c->fn->teardown(u->self);
		free(s);
		return rc < 0 ? rc : -EINVAL;
	}
	u->set_up = true;
	for (uint16_t i = 0; i < c->n_params; i++)
		if (!s->used[i]) {
			snprintf(msg, msglen, "function '%s' takes no parameter '%s'",
				 c->fn->name, c->params[i].name);
			free(s);
			sl_udf_inst_fini(u);
			u->bad_param = i;
			return -EINVAL;
		}
	free(s);
	if (u->out_is_in)
		u->out = c->out_default != NULL ? *c->out_default : *c->in;
	schema_view(&u->out, u->out_f, &u->out_s);
	if (c->fn->start != NULL)
		c->fn->start(u->self, &u->out_s);
	return 0;
}

void
sl_udf_inst_fini(struct sl_udf_inst *u)
{
	if (u->set_up && u->fn->teardown != NULL)
		u->fn->teardown(u->self);
	u->set_up = false;
	u->self = NULL;
}
