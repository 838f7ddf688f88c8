/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * struct sluice_host: what a function may call. The keyed calls reach
 * sl_state and sl_timer through the context operators/process filled for
 * the current key; on a stateless context (map, filter, flat_map) they
 * return -ENOTSUP. A state error is also kept in the context (err), so
 * the operator counts it even when the function ignores the return.
 */
#include <errno.h>
#include <string.h>

#include "sl_timer.h"
#include "udf_private.h"

static inline int
keyed(sluice_ctx *c, int state)
{
	if (c->st == NULL)
		return -ENOTSUP;
	if (state < 0 || state >= c->u->n_states)
		return -EINVAL;
	return c->sid[state];
}

static inline int
note(sluice_ctx *c, int rc)
{
	if (rc < 0 && rc != -ENOENT && c->err == 0)
		c->err = rc;
	return rc;
}

static const void *
h_key(const sluice_ctx *c, uint32_t *len)
{
	if (len != NULL)
		*len = c->key_len;
	return c->ref.key;
}

static int64_t
h_timestamp(const sluice_ctx *c)
{
	return c->ts;
}

static int64_t
h_watermark(const sluice_ctx *c)
{
	return c->wm;
}

static int64_t
h_now(const sluice_ctx *c)
{
	return c->now;
}

static int
h_timer_register(sluice_ctx *c, uint32_t domain, int64_t ts)
{
	if (c->tm == NULL)
		return -ENOTSUP;
	if (domain > SLUICE_PROCESSING_TIME)
		return -EINVAL;
	return note(c, sl_timer_register(c->tm, (enum sl_timer_domain)domain,
					 c->ref.kg, c->ref.key, NULL, ts));
}

static int
h_timer_delete(sluice_ctx *c, uint32_t domain, int64_t ts)
{
	if (c->tm == NULL)
		return -ENOTSUP;
	if (domain > SLUICE_PROCESSING_TIME)
		return -EINVAL;
	return note(c, sl_timer_delete(c->tm, (enum sl_timer_domain)domain,
				       c->ref.kg, c->ref.key, NULL, ts));
}

/*
 * A get keeps the value's slot (heap, no TTL) and a put of the same
 * state for the same key writes through it: a read-modify-write, the
 * usual shape, probes the table once. Nothing in between can move the
 * slot: only an insert into or a removal from the same state's table
 * could, and for this key that is a clear (which drops it).
 */
static int
h_value_get(sluice_ctx *c, int state, void *out)
{
	int id = keyed(c, state), rc;
	uint8_t *p;

	if (id < 0)
		return id;
	rc = sl_state_value_slot(c->st, id, &c->ref, c->now, &p);
	if (rc == -ENOTSUP)
		return note(c, sl_state_value_get(c->st, id, &c->ref, c->now, out));
	if (rc == 1) {
		memcpy(out, p, c->u->state[state].val_len);
		c->vslot = p;
		c->vslot_id = id;
	}
	return note(c, rc);
}

static int
h_value_put(sluice_ctx *c, int state, const void *val)
{
	int id = keyed(c, state);

	if (id < 0)
		return id;
	if (c->vslot != NULL && c->vslot_id == id) {
		memcpy(c->vslot, val, c->u->state[state].val_len);
		return 0;
	}
	return note(c, sl_state_value_put(c->st, id, &c->ref, c->now, val));
}

static int
h_state_clear(sluice_ctx *c, int state)
{
	int id = keyed(c, state);

	if (id < 0)
		return id;
	if (c->vslot_id == id)
		c->vslot = NULL;
	return note(c, sl_state_clear(c->st, id, &c->ref));
}

static int
h_list_add(sluice_ctx *c, int state, const void *elem, uint32_t len)
{
	int id = keyed(c, state);

	if (id >= 0 && c->u->state[state].kind != SL_STATE_LIST)
		return -EINVAL;
	return id < 0 ? id : note(c, sl_state_list_add(c->st, id, &c->ref, c->now, elem, len));
}

static int
h_list_get(sluice_ctx *c, int state, sluice_elem_fn fn, void *arg)
{
	int id = keyed(c, state);

	if (id >= 0 && c->u->state[state].kind != SL_STATE_LIST)
		return -EINVAL;
	return id < 0 ? id : note(c, sl_state_list_get(c->st, id, &c->ref, c->now, fn, arg));
}

static int
h_map_put(sluice_ctx *c, int state, const void *ukey, const void *val, uint32_t len)
{
	int id = keyed(c, state);

	if (id >= 0 && c->u->state[state].kind != SL_STATE_MAP)
		return -EINVAL;
	return id < 0 ? id : note(c, sl_state_map_put(c->st, id, &c->ref, c->now, ukey, val, len));
}

static int
h_map_get(sluice_ctx *c, int state, const void *ukey, void *out, uint32_t cap)
{
	int id = keyed(c, state);

	if (id >= 0 && c->u->state[state].kind != SL_STATE_MAP)
		return -EINVAL;
	return id < 0 ? id : note(c, sl_state_map_get(c->st, id, &c->ref, c->now, ukey, out, cap));
}

static int
h_map_remove(sluice_ctx *c, int state, const void *ukey)
{
	int id = keyed(c, state);

	if (id >= 0 && c->u->state[state].kind != SL_STATE_MAP)
		return -EINVAL;
	return id < 0 ? id : note(c, sl_state_map_remove(c->st, id, &c->ref, ukey));
}

static int
h_map_iter(sluice_ctx *c, int state, sluice_entry_fn fn, void *arg)
{
	int id = keyed(c, state);

	if (id >= 0 && c->u->state[state].kind != SL_STATE_MAP)
		return -EINVAL;
	return id < 0 ? id : note(c, sl_state_map_iter(c->st, id, &c->ref, c->now, fn, arg));
}

static void *
h_emit(sluice_ctx *c)
{
	uint8_t *row = c->out(c->arg);

	if (row == NULL)
		return NULL;
	memset(row, 0, c->u->out.row_size);
	c->n_out++;
	return row;
}

static int
h_emit_side(sluice_ctx *c, int tag, const void *row)
{
	if (tag < 0 || tag >= c->u->n_sides || row == NULL)
		return -EINVAL;
	if (c->side != NULL)
		c->side(c->arg, tag, row);
	c->n_side++;
	return 0;
}

static uint32_t
h_input(const sluice_ctx *c)
{
	return c->input;
}

const struct sluice_host sl_udf_host = {
	.abi_version = SLUICE_UDF_ABI_VERSION,
	.size = sizeof(struct sluice_host),
	.param = udf_param,
	.param_ms = udf_param_ms,
	.param_int = udf_param_int,
	.fail = udf_fail,
	.out_field = udf_out_field,
	.side_output = udf_side_output,
	.value_state = udf_value_state,
	.list_state = udf_list_state,
	.map_state = udf_map_state,
	.key = h_key,
	.timestamp = h_timestamp,
	.watermark = h_watermark,
	.now = h_now,
	.timer_register = h_timer_register,
	.timer_delete = h_timer_delete,
	.value_get = h_value_get,
	.value_put = h_value_put,
	.state_clear = h_state_clear,
	.list_add = h_list_add,
	.list_get = h_list_get,
	.map_put = h_map_put,
	.map_get = h_map_get,
	.map_remove = h_map_remove,
	.map_iter = h_map_iter,
	.emit = h_emit,
	.emit_side = h_emit_side,
	.input = h_input,
	.input_schema = udf_input_schema,
};

uint32_t
sl_udf_rows(struct sl_udf_inst *u, const struct sl_vec *v, sl_udf_out_fn out,
	    void *arg)
{
	const struct sluice_fn *fn = u->fn;
	const uint16_t rs = v->row_size, ors = u->out.row_size;
	sluice_ctx c;
	uint32_t n = 0;

	switch (fn->kind) {
	case SLUICE_FN_FILTER:
		for (uint16_t j = 0; j < v->n_sel; j++) {
			const uint8_t *row = v->rows + (size_t)v->sel[j] * rs;
			uint8_t *o;

			if (!fn->filter(u->self, row) || (o = out(arg)) == NULL)
				continue;
			memcpy(o, row, rs);
			n++;
		}
		return n;
	case SLUICE_FN_MAP:
		for (uint16_t j = 0; j < v->n_sel; j++) {
			const uint8_t *row = v->rows + (size_t)v->sel[j] * rs;
			uint8_t *o;

			/* Into scratch first: a failing map drops its row. */
			if (u->out_is_in)
				memcpy(u->scratch, row, rs);
			else
				memset(u->scratch, 0, ors);
			if (fn->map(u->self, row, u->scratch) < 0) {
				u->errors++;
				continue;
			}
			if ((o = out(arg)) == NULL)
				continue;
			memcpy(o, u->scratch, ors);
			n++;
		}
		return n;
	case SLUICE_FN_FLAT_MAP:
		memset(&c, 0, sizeof(c));
		c.u = u;
		c.out = out;
		c.arg = arg;
		c.wm = SL_TS_MIN;
		for (uint16_t j = 0; j < v->n_sel; j++) {
			const uint8_t *row = v->rows + (size_t)v->sel[j] * rs;

			if (fn->flat_map(u->self, &c, row) < 0)
				u->errors++;
		}
		return (uint32_t)c.n_out;
	default:
		return 0;
	}
}
