/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The functions compiled into sluice, plugin "builtin". They use nothing
 * of sluice but sluice/udf.h, as a plugin would (sl_udf.h only declares
 * the table exported here), so they exercise the same API and serve as
 * its reference.
 *
 * count_with_timeout (semantics.md W4.2, Flink's KeyedProcessFunction
 * example): per key, count the rows and remember the last one's event
 * time; each row sets an event-time timer at ts + timeout; a timer
 * emits (key, count) at its timestamp only if no row of the key came
 * since the one that set it (t == last + timeout). The state is kept,
 * as in Flink's example: a key's count goes on across timeouts.
 * Output columns: the key fields, count (u64), and the event-time field
 * (the timer's timestamp, R4.5).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/udf.h"
#include "sl_udf.h"

struct cwt {
	const struct sluice_host *h;
	int64_t timeout;
	int state;
	uint32_t n_keys;
	uint32_t in_key_off[8], key_size[8];
	uint32_t out_key_off[8];
	uint32_t count_off, ts_off;
};

struct cwt_val {
	uint64_t count;
	int64_t last;
};

static int
cwt_setup(const struct sluice_host *h, sluice_setup *s,
	  const struct sluice_schema *in, void **self)
{
	struct cwt *f;
	int rc;

	if (in->ts_field < 0 || in->n_keys == 0 || in->n_keys > 8) {
		h->fail(s, "count_with_timeout needs key_by (1-8 fields) and the source's event-time field");
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->h = h;
	rc = h->param_ms(s, "timeout", &f->timeout);
	if (rc < 0 || f->timeout <= 0) {
		h->fail(s, rc == -ENOENT ? "count_with_timeout needs timeout: a duration > 0 (e.g. 60s)" :
			   "count_with_timeout: timeout must be a duration > 0 (e.g. 60s)");
		free(f);
		return -EINVAL;
	}
	f->n_keys = in->n_keys;
	for (uint32_t k = 0; k < in->n_keys; k++) {
		const struct sluice_field *kf = &in->fields[in->key_fields[k]];

		f->in_key_off[k] = kf->offset;
		f->key_size[k] = kf->size;
		rc = h->out_field(s, kf->name, kf->type, kf->type == SLUICE_STR ? kf->size : 0);
		if (rc < 0)
			goto clash;
	}
	rc = h->out_field(s, "count", SLUICE_U64, 0);
	if (rc < 0)
		goto clash;
	rc = h->out_field(s, in->fields[in->ts_field].name, SLUICE_TS, 0);
	if (rc < 0)
		goto clash;
	f->state = h->value_state(s, "count", sizeof(struct cwt_val), 0);
	if (f->state < 0) {
		rc = f->state;
		free(f);
		return rc;
	}
	*self = f;
	return 0;
clash:
	h->fail(s, "count_with_timeout: its output columns (the key fields, count, the event-time field) clash; rename a key field called count");
	free(f);
	return rc;
}

static void
cwt_start(void *self, const struct sluice_schema *out)
{
	struct cwt *f = self;

	for (uint32_t k = 0; k < f->n_keys; k++)
		f->out_key_off[k] = out->fields[k].offset;
	f->count_off = out->fields[f->n_keys].offset;
	f->ts_off = out->fields[f->n_keys + 1].offset;
}

static void
cwt_teardown(void *self)
{
	free(self);
}

static int
cwt_process(void *self, sluice_ctx *c, const void *row)
{
	struct cwt *f = self;
	const struct sluice_host *h = f->h;
	struct cwt_val v = { 0, 0 };
	int64_t ts = h->timestamp(c), t;
	int rc;

	(void)row;
	rc = h->value_get(c, f->state, &v);
	if (rc < 0)
		return rc;
	v.count++;
	v.last = ts;
	rc = h->value_put(c, f->state, &v);
	if (rc < 0)
		return rc;
	if (__builtin_add_overflow(ts, f->timeout, &t))
		t = INT64_MAX;
	rc = h->timer_register(c, SLUICE_EVENT_TIME, t);
	return rc < 0 ? rc : 0;
}

static int
cwt_on_timer(void *self, sluice_ctx *c, uint32_t domain, int64_t ts)
{
	struct cwt *f = self;
	const struct sluice_host *h = f->h;
	struct cwt_val v;
	const uint8_t *key;
	uint8_t *o;
	int64_t due;
	int rc;

	(void)domain;
	rc = h->value_get(c, f->state, &v);
	if (rc <= 0)
		return rc;
	if (__builtin_add_overflow(v.last, f->timeout, &due))
		due = INT64_MAX;
	if (ts != due)
		return 0;
	o = h->emit(c);
	if (o == NULL)
		return -ENOBUFS;
	/* The key bytes are the key fields side by side, in key_by order. */
	key = h->key(c, NULL);
	for (uint32_t k = 0; k < f->n_keys; k++) {
		memcpy(o + f->out_key_off[k], key, f->key_size[k]);
		key += f->key_size[k];
	}
	memcpy(o + f->count_off, &v.count, sizeof(v.count));
	memcpy(o + f->ts_off, &ts, sizeof(ts));
	return 0;
}

static const struct sluice_fn builtin_fns[] = {
	{
		.name = "count_with_timeout",
		.kind = SLUICE_FN_PROCESS,
		.setup = cwt_setup,
		.start = cwt_start,
		.teardown = cwt_teardown,
		.process = cwt_process,
		.on_timer = cwt_on_timer,
	},
};

const struct sluice_plugin sl_udf_builtin_plugin = {
	.name = SL_UDF_BUILTIN,
	.n_fns = sizeof(builtin_fns) / sizeof(builtin_fns[0]),
	.fns = builtin_fns,
};
