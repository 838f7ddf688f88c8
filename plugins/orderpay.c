/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Example plugin "orderpay": a keyed co_process function (Flink's
 * KeyedCoProcessFunction, R7.5), built against sluice/udf.h alone
 * (docs/udf.md). It is semantics.md's W7.3 order/payment matcher, the
 * same rules as the built-in `match:` join, written as a user would:
 *
 * match (co_process), param timeout (a duration > 0), run as
 * `join: {left: orders, right: payments, key: K, process: {plugin:
 * orderpay, function: match, timeout: 15m}}`. Per key, the waiting
 * order (input 1) and the waiting payment (input 2) are value states.
 * A row whose partner waits is matched: one output row with the
 * arriving row's event time, both rows, the partner cleared and its
 * timer deleted. Otherwise the row waits (a second one replaces the
 * first) with an event-time timer at its ts + timeout. A timer sends
 * what still waits to the side output "unmatched" (UNPAID: the order
 * alone; ORPHAN: the payment alone) with the timer's ts, and clears it.
 *
 * Rows are the join's default columns (join_ts, the order's fields, the
 * payment's), so its output is byte for byte the built-in match's.
 *
 * With time: processing (default event), the timeout is processing
 * time, Flink's usual choice for this pattern: a waiting row's timer is
 * at the operator's clock + timeout (a value state "deadline" keeps it,
 * since no row says it), and an unmatched row goes out with that time.
 *
 * wait (co_process), the same matching with columns of its own: the
 * join key's fields, order_ts and paid_ts (timestamp_ms) and wait_ms
 * (i64: paid_ts - order_ts, the payment's ts minus the order's); an
 * unmatched row goes to "unmatched" in the same columns with the other
 * ts 0 and wait_ms -1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/udf.h>

struct orderpay {
	const struct sluice_host *h;
	int64_t timeout;
	uint32_t domain;		/* SLUICE_EVENT_TIME or SLUICE_PROCESSING_TIME */
	int deadline;			/* processing time: the waiting row's timer */
	int waiting[2];			/* value state per input */
	int unmatched;			/* side output tag */
	uint32_t row_size[2];
	uint32_t ts_off[2], ts_size[2];
	uint32_t ts_signed[2];
	uint32_t out_size;
	/* wait: its own columns */
	int wait;
	uint32_t n_keys;
	uint32_t key_off[2][8], key_size[8];
	uint32_t out_key_off[8], out_ots, out_pts, out_wait;
	uint8_t *partner;		/* a stored row */
	uint8_t *side_row;		/* a side output row being built */
};

/* The event time of a row of input i (an integer field of 4 or 8 bytes). */
static int64_t
row_ts(const struct orderpay *f, int i, const uint8_t *row)
{
	if (f->ts_size[i] == 8) {
		int64_t v;

		memcpy(&v, row + f->ts_off[i], 8);
		return v;
	}
	if (f->ts_signed[i]) {
		int32_t v;

		memcpy(&v, row + f->ts_off[i], 4);
		return v;
	}
	{
		uint32_t v;

		memcpy(&v, row + f->ts_off[i], 4);
		return v;
	}
}

/* a + b saturated, as the built-in join adds timeouts. */
static int64_t
add_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static int
setup(const struct sluice_host *h, sluice_setup *s,
      const struct sluice_schema *in, void **self, int wait)
{
	const struct sluice_schema *sch[2];
	struct orderpay *f;
	uint32_t wait_size = 24;

	if (!SLUICE_HOST_HAS(h, input_schema)) {
		h->fail(s, "orderpay needs a sluice with co_process functions");
		return -ENOTSUP;
	}
	sch[0] = in;
	sch[1] = h->input_schema(s, 2);
	if (sch[1] == NULL) {
		h->fail(s, "orderpay match is a join's process: two inputs");
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->h = h;
	f->wait = wait;
	if (h->param_ms(s, "timeout", &f->timeout) < 0 || f->timeout <= 0) {
		h->fail(s, "orderpay match needs timeout: a duration > 0");
		free(f);
		return -EINVAL;
	}
	{
		const char *t = h->param(s, "time");

		if (t != NULL && strcmp(t, "processing") != 0 && strcmp(t, "event") != 0) {
			h->fail(s, "orderpay time is event (the default) or processing");
			free(f);
			return -EINVAL;
		}
		f->domain = t != NULL && strcmp(t, "processing") == 0 ?
			    SLUICE_PROCESSING_TIME : SLUICE_EVENT_TIME;
	}
	for (int i = 0; i < 2; i++) {
		const struct sluice_field *t = &sch[i]->fields[sch[i]->ts_field];

		f->row_size[i] = sch[i]->row_size;
		f->ts_off[i] = t->offset;
		f->ts_size[i] = t->size;
		f->ts_signed[i] = t->type != SLUICE_U32 && t->type != SLUICE_U64;
	}
	if (f->wait) {
		/* Key fields named as input 1 has them, then the times. */
		int rc = 0;

		f->n_keys = in->n_keys;
		for (uint32_t k = 0; k < in->n_keys && k < 8 && rc >= 0; k++) {
			const struct sluice_field *kf = &in->fields[in->key_fields[k]];

			f->key_size[k] = kf->size;
			wait_size += kf->size;
			f->key_off[0][k] = kf->offset;
			f->key_off[1][k] = sch[1]->fields[sch[1]->key_fields[k]].offset;
			rc = h->out_field(s, kf->name, kf->type,
					  kf->type == SLUICE_STR ? kf->size : 0);
		}
		if (in->n_keys > 8 || rc < 0 ||
		    h->out_field(s, "order_ts", SLUICE_TS, 0) < 0 ||
		    h->out_field(s, "paid_ts", SLUICE_TS, 0) < 0 ||
		    h->out_field(s, "wait_ms", SLUICE_I64, 0) < 0) {
			h->fail(s, "orderpay wait: at most 8 key fields, and no column named order_ts, paid_ts or wait_ms");
			free(f);
			return -EINVAL;
		}
	}
	f->waiting[0] = h->value_state(s, "order", f->row_size[0], 0);
	f->waiting[1] = h->value_state(s, "payment", f->row_size[1], 0);
	f->deadline = f->domain == SLUICE_PROCESSING_TIME ?
		      h->value_state(s, "deadline", sizeof(int64_t), 0) : 0;
	f->unmatched = h->side_output(s, "unmatched");
	f->out_size = 8 + f->row_size[0] + f->row_size[1];
	f->partner = malloc(f->row_size[0] > f->row_size[1] ? f->row_size[0] : f->row_size[1]);
	/* wait's offsets are known at start, its size now */
	f->side_row = malloc(f->out_size > wait_size ? f->out_size : wait_size);
	if (f->waiting[0] < 0 || f->waiting[1] < 0 || f->unmatched < 0 || f->deadline < 0 ||
	    f->partner == NULL || f->side_row == NULL) {
		h->fail(s, "orderpay: state or side output refused");
		free(f->partner);
		free(f->side_row);
		free(f);
		return -EINVAL;
	}
	*self = f;
	return 0;
}

static int
orderpay_setup(const struct sluice_host *h, sluice_setup *s,
	       const struct sluice_schema *in, void **self)
{
	return setup(h, s, in, self, 0);
}

static int
wait_setup(const struct sluice_host *h, sluice_setup *s,
	   const struct sluice_schema *in, void **self)
{
	return setup(h, s, in, self, 1);
}

/* wait's column offsets, once the output schema is known. */
static void
wait_start(void *self, const struct sluice_schema *out)
{
	struct orderpay *f = self;

	for (uint32_t k = 0; k < f->n_keys; k++)
		f->out_key_off[k] = out->fields[k].offset;
	f->out_ots = out->fields[f->n_keys].offset;
	f->out_pts = out->fields[f->n_keys + 1].offset;
	f->out_wait = out->fields[f->n_keys + 2].offset;
	f->out_size = out->row_size;
}

static void
orderpay_teardown(void *self)
{
	struct orderpay *f = self;

	free(f->partner);
	free(f->side_row);
	free(f);
}

/* [ts][order or zeros][payment or zeros]: the join's columns; wait:
 * the key, both times and the wait (-1: one side only). */
static void
fill(const struct orderpay *f, uint8_t *o, int64_t ts, const uint8_t *order,
     const uint8_t *payment)
{
	if (f->wait) {
		const int side = order != NULL ? 0 : 1;
		const uint8_t *any = order != NULL ? order : payment;
		const int64_t ot = order != NULL ? row_ts(f, 0, order) : 0;
		const int64_t pt = payment != NULL ? row_ts(f, 1, payment) : 0;
		const int64_t wait = order != NULL && payment != NULL ? pt - ot : -1;

		(void)ts;
		for (uint32_t k = 0; k < f->n_keys; k++)
			memcpy(o + f->out_key_off[k], any + f->key_off[side][k], f->key_size[k]);
		memcpy(o + f->out_ots, &ot, 8);
		memcpy(o + f->out_pts, &pt, 8);
		memcpy(o + f->out_wait, &wait, 8);
		return;
	}
	memcpy(o, &ts, 8);
	if (order != NULL)
		memcpy(o + 8, order, f->row_size[0]);
	if (payment != NULL)
		memcpy(o + 8 + f->row_size[0], payment, f->row_size[1]);
}

static int
orderpay_process(void *self, sluice_ctx *c, const void *row)
{
	struct orderpay *f = self;
	const struct sluice_host *h = f->h;
	const int side = (int)h->input(c) - 1, other = 1 - side;
	const int64_t ts = h->timestamp(c);
	uint8_t *o;
	int rc;

	if (side < 0)
		return -EINVAL;
	rc = h->value_get(c, f->waiting[other], f->partner);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		/* W7.3: matched; the output carries the arriving row's ts. */
		o = h->emit(c);
		if (o != NULL)
			fill(f, o, ts, side == 0 ? row : f->partner,
			     side == 0 ? f->partner : row);
		rc = h->state_clear(c, f->waiting[other]);
		if (rc < 0)
			return rc;
		if (f->domain == SLUICE_PROCESSING_TIME) {
			int64_t at;

			rc = h->value_get(c, f->deadline, &at);
			if (rc == 1)
				rc = h->timer_delete(c, SLUICE_PROCESSING_TIME, at);
			if (rc >= 0)
				rc = h->state_clear(c, f->deadline);
			return rc < 0 ? rc : 0;
		}
		rc = h->timer_delete(c, SLUICE_EVENT_TIME,
				     add_sat(row_ts(f, other, f->partner), f->timeout));
		return rc < 0 ? rc : 0;
	}
	rc = h->value_put(c, f->waiting[side], row);
	if (rc < 0)
		return rc;
	if (f->domain == SLUICE_PROCESSING_TIME) {
		const int64_t at = add_sat(h->now(c), f->timeout);

		rc = h->value_put(c, f->deadline, &at);
		if (rc >= 0)
			rc = h->timer_register(c, SLUICE_PROCESSING_TIME, at);
	} else {
		rc = h->timer_register(c, SLUICE_EVENT_TIME, add_sat(ts, f->timeout));
	}
	if (rc < 0) {
		(void)h->state_clear(c, f->waiting[side]);
		return rc;
	}
	return 0;
}

static int
orderpay_on_timer(void *self, sluice_ctx *c, uint32_t domain, int64_t ts)
{
	struct orderpay *f = self;
	const struct sluice_host *h = f->h;

	if (domain != f->domain)
		return 0;
	if (f->domain == SLUICE_PROCESSING_TIME) {
		int64_t at;
		int rc = h->value_get(c, f->deadline, &at);

		/* A second row of a side replaced the first and set a later
		 * timer: the earlier one finds that deadline and waits. */
		if (rc < 0)
			return rc;
		if (rc == 0 || at != ts)
			return 0;
		rc = h->state_clear(c, f->deadline);
		if (rc < 0)
			return rc;
	}
	for (int side = 0; side < 2; side++) {
		int rc = h->value_get(c, f->waiting[side], f->partner);

		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		/* UNPAID (an order alone) or ORPHAN (a payment alone). */
		memset(f->side_row, 0, f->out_size);
		fill(f, f->side_row, ts, side == 0 ? f->partner : NULL,
		     side == 0 ? NULL : f->partner);
		rc = h->emit_side(c, f->unmatched, f->side_row);
		if (rc < 0)
			return rc;
		rc = h->state_clear(c, f->waiting[side]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static const struct sluice_fn orderpay_fns[] = {
	{
		.name = "match",
		.kind = SLUICE_FN_CO_PROCESS,
		.setup = orderpay_setup,
		.teardown = orderpay_teardown,
		.process = orderpay_process,
		.on_timer = orderpay_on_timer,
	},
	{
		.name = "wait",
		.kind = SLUICE_FN_CO_PROCESS,
		.setup = wait_setup,
		.start = wait_start,
		.teardown = orderpay_teardown,
		.process = orderpay_process,
		.on_timer = orderpay_on_timer,
	},
};

static const struct sluice_plugin orderpay_plugin = {
	.name = "orderpay",
	.n_fns = 2,
	.fns = orderpay_fns,
};

SLUICE_UDF_PLUGIN(orderpay_plugin)
