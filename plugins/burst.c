/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Example plugin "burst": a keyed process function with state, timers
 * and a side output, built against sluice/udf.h alone (docs/udf.md).
 *
 * burst (process), params count (N >= 1), within (T, a duration): per
 * key, an alert at every event time t of the key's rows where the key
 * has N or more rows with event time in (t - T, t]. The rows are put in
 * event-time order first, whatever order they arrive in, with Flink's
 * pattern for it: a map state ts -> rows at ts, and an event-time timer
 * at each row's ts (timers coalesce per key and ts: one per distinct
 * ts); when the watermark passes t, every row at or before t is in (a
 * row that is not would be late), so the timer at t counts the window
 * then. Output: the key fields, the event-time field (t), n (rows in
 * the window, u64) and alert_no (the key's alerts so far, a value
 * state, u64). A row at or below the watermark when it arrives is late:
 * it goes to the side output "late" unchanged and is not counted.
 *
 * The map state is pruned as timers fire: entries at or before t - T
 * can no longer be in a window. The timer at t also registers t + T,
 * which prunes what t left, so a key's state is gone T after its last
 * row's timer.
 *
 * flush_every (process), param every (a duration): processing-time
 * timers. Per key, the rows since the last flush (a value state); each
 * row sets a processing-time timer at the next multiple of every on the
 * operator's clock (one per key and period: timers coalesce) and an
 * event-time timer at the end of input (INT64_MAX, one per key), since
 * processing-time timers do not fire when a bounded input ends (R4.8).
 * A timer with rows to flush emits the key fields, n (u64) and
 * by_clock (u32: 1 for a processing-time timer) and clears the state.
 * So every row is counted once, in a flush by the clock while the input
 * flows or in the last one at its end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/udf.h>

#define BURST_MAX_KEYS 8
#define BURST_PRUNE_MAX 64	/* entries removed per firing, at most */

struct burst {
	const struct sluice_host *h;
	int64_t n_min, within;
	int seen, alerts, late;
	uint32_t n_keys;
	uint32_t key_size[BURST_MAX_KEYS];
	uint32_t out_key_off[BURST_MAX_KEYS];
	uint32_t ts_off, n_off, no_off;
};

static int
burst_setup(const struct sluice_host *h, sluice_setup *s,
	    const struct sluice_schema *in, void **self)
{
	struct burst *f;
	int rc = 0;

	if (in->ts_field < 0 || in->n_keys == 0 || in->n_keys > BURST_MAX_KEYS) {
		h->fail(s, "burst needs key_by (1-8 fields) and the source's event-time field");
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->h = h;
	if (h->param_int(s, "count", &f->n_min) < 0 || f->n_min < 1 ||
	    h->param_ms(s, "within", &f->within) < 0 || f->within <= 0) {
		h->fail(s, "burst needs count: N >= 1 and within: a duration > 0");
		free(f);
		return -EINVAL;
	}
	f->n_keys = in->n_keys;
	for (uint32_t k = 0; k < in->n_keys && rc >= 0; k++) {
		const struct sluice_field *kf = &in->fields[in->key_fields[k]];

		f->key_size[k] = kf->size;
		rc = h->out_field(s, kf->name, kf->type, kf->type == SLUICE_STR ? kf->size : 0);
	}
	if (rc >= 0)
		rc = h->out_field(s, in->fields[in->ts_field].name, SLUICE_TS, 0);
	if (rc >= 0)
		rc = h->out_field(s, "n", SLUICE_U64, 0);
	if (rc >= 0)
		rc = h->out_field(s, "alert_no", SLUICE_U64, 0);
	if (rc < 0) {
		h->fail(s, "burst: a key field is called n or alert_no; rename it");
		free(f);
		return rc;
	}
	f->seen = h->map_state(s, "seen", sizeof(int64_t), 0);
	f->alerts = h->value_state(s, "alerts", sizeof(uint64_t), 0);
	f->late = h->side_output(s, "late");
	if (f->seen < 0 || f->alerts < 0 || f->late < 0) {
		free(f);
		return -EINVAL;
	}
	*self = f;
	return 0;
}

static void
burst_start(void *self, const struct sluice_schema *out)
{
	struct burst *f = self;

	for (uint32_t k = 0; k < f->n_keys; k++)
		f->out_key_off[k] = out->fields[k].offset;
	f->ts_off = out->fields[f->n_keys].offset;
	f->n_off = out->fields[f->n_keys + 1].offset;
	f->no_off = out->fields[f->n_keys + 2].offset;
}

static void
burst_teardown(void *self)
{
	free(self);
}

static int
burst_process(void *self, sluice_ctx *c, const void *row)
{
	struct burst *f = self;
	const struct sluice_host *h = f->h;
	int64_t ts = h->timestamp(c);
	uint64_t n = 0;
	int rc;

	if (ts <= h->watermark(c))
		return h->emit_side(c, f->late, row);
	rc = h->map_get(c, f->seen, &ts, &n, sizeof(n));
	if (rc < 0 && rc != -ENOENT)
		return rc;
	n = rc < 0 ? 1 : n + 1;
	rc = h->map_put(c, f->seen, &ts, &n, sizeof(n));
	if (rc < 0)
		return rc;
	rc = h->timer_register(c, SLUICE_EVENT_TIME, ts);
	return rc < 0 ? rc : 0;
}

struct window {
	int64_t lo, t;		/* (lo, t] */
	uint64_t n;
	int has_t;
	uint32_t n_old;
	int64_t old[BURST_PRUNE_MAX];
};

static int
window_entry(void *arg, const void *ukey, const void *val, uint32_t len)
{
	struct window *w = arg;
	int64_t ts;
	uint64_t n;

	if (len != sizeof(n))
		return 0;
	memcpy(&ts, ukey, sizeof(ts));
	memcpy(&n, val, sizeof(n));
	if (ts <= w->lo) {
		if (w->n_old < BURST_PRUNE_MAX)
			w->old[w->n_old++] = ts;
	} else if (ts <= w->t) {
		w->n += n;
		w->has_t |= ts == w->t;
	}
	return 0;
}

static int
burst_on_timer(void *self, sluice_ctx *c, uint32_t domain, int64_t t)
{
	struct burst *f = self;
	const struct sluice_host *h = f->h;
	struct window w = { .t = t };
	uint64_t no = 0;
	int64_t next;
	int rc;

	(void)domain;
	if (__builtin_sub_overflow(t, f->within, &w.lo))
		w.lo = INT64_MIN;
	rc = h->map_iter(c, f->seen, window_entry, &w);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < w.n_old; i++)
		(void)h->map_remove(c, f->seen, &w.old[i]);
	if (!w.has_t)
		return 0;	/* a pruning timer */
	if (__builtin_add_overflow(t, f->within, &next))
		next = INT64_MAX;
	rc = h->timer_register(c, SLUICE_EVENT_TIME, next);
	if (rc < 0)
		return rc;
	if (w.n < (uint64_t)f->n_min)
		return 0;
	rc = h->value_get(c, f->alerts, &no);
	if (rc < 0)
		return rc;
	no++;
	rc = h->value_put(c, f->alerts, &no);
	if (rc < 0)
		return rc;
	{
		uint8_t *o = h->emit(c);
		const uint8_t *key = h->key(c, NULL);

		if (o == NULL)
			return -ENOBUFS;
		for (uint32_t k = 0; k < f->n_keys; k++) {
			memcpy(o + f->out_key_off[k], key, f->key_size[k]);
			key += f->key_size[k];
		}
		memcpy(o + f->ts_off, &t, sizeof(t));
		memcpy(o + f->n_off, &w.n, sizeof(w.n));
		memcpy(o + f->no_off, &no, sizeof(no));
	}
	return 0;
}

struct flush {
	const struct sluice_host *h;
	int64_t every;
	int n;
	uint32_t n_keys;
	uint32_t key_size[BURST_MAX_KEYS];
	uint32_t out_key_off[BURST_MAX_KEYS];
	uint32_t n_off, clock_off;
};

static int
flush_setup(const struct sluice_host *h, sluice_setup *s,
	    const struct sluice_schema *in, void **self)
{
	struct flush *f;
	int rc = 0;

	if (in->n_keys == 0 || in->n_keys > BURST_MAX_KEYS) {
		h->fail(s, "flush_every needs key_by (1-8 fields)");
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->h = h;
	if (h->param_ms(s, "every", &f->every) < 0 || f->every <= 0) {
		h->fail(s, "flush_every needs every: a duration > 0");
		free(f);
		return -EINVAL;
	}
	f->n_keys = in->n_keys;
	for (uint32_t k = 0; k < in->n_keys && rc >= 0; k++) {
		const struct sluice_field *kf = &in->fields[in->key_fields[k]];

		f->key_size[k] = kf->size;
		rc = h->out_field(s, kf->name, kf->type, kf->type == SLUICE_STR ? kf->size : 0);
	}
	if (rc >= 0)
		rc = h->out_field(s, "n", SLUICE_U64, 0);
	if (rc >= 0)
		rc = h->out_field(s, "by_clock", SLUICE_U32, 0);
	if (rc < 0) {
		h->fail(s, "flush_every: a key field is called n or by_clock; rename it");
		free(f);
		return rc;
	}
	f->n = h->value_state(s, "n", sizeof(uint64_t), 0);
	if (f->n < 0) {
		rc = f->n;
		free(f);
		return rc;
	}
	*self = f;
	return 0;
}

static void
flush_start(void *self, const struct sluice_schema *out)
{
	struct flush *f = self;

	for (uint32_t k = 0; k < f->n_keys; k++)
		f->out_key_off[k] = out->fields[k].offset;
	f->n_off = out->fields[f->n_keys].offset;
	f->clock_off = out->fields[f->n_keys + 1].offset;
}

static int
flush_process(void *self, sluice_ctx *c, const void *row)
{
	struct flush *f = self;
	const struct sluice_host *h = f->h;
	int64_t now = h->now(c);
	uint64_t n = 0;
	int rc;

	(void)row;
	rc = h->value_get(c, f->n, &n);
	if (rc < 0)
		return rc;
	n++;
	rc = h->value_put(c, f->n, &n);
	if (rc >= 0)
		rc = h->timer_register(c, SLUICE_PROCESSING_TIME, (now / f->every + 1) * f->every);
	if (rc >= 0)
		rc = h->timer_register(c, SLUICE_EVENT_TIME, INT64_MAX);
	return rc < 0 ? rc : 0;
}

static int
flush_on_timer(void *self, sluice_ctx *c, uint32_t domain, int64_t ts)
{
	struct flush *f = self;
	const struct sluice_host *h = f->h;
	uint32_t by_clock = domain == SLUICE_PROCESSING_TIME;
	const uint8_t *key;
	uint64_t n = 0;
	uint8_t *o;
	int rc;

	(void)ts;
	rc = h->value_get(c, f->n, &n);
	if (rc <= 0 || n == 0)
		return rc;
	o = h->emit(c);
	if (o == NULL)
		return -ENOBUFS;
	key = h->key(c, NULL);
	for (uint32_t k = 0; k < f->n_keys; k++) {
		memcpy(o + f->out_key_off[k], key, f->key_size[k]);
		key += f->key_size[k];
	}
	memcpy(o + f->n_off, &n, sizeof(n));
	memcpy(o + f->clock_off, &by_clock, sizeof(by_clock));
	return h->state_clear(c, f->n);
}

static void
flush_teardown(void *self)
{
	free(self);
}

static const struct sluice_fn burst_fns[] = {
	{ .name = "burst", .kind = SLUICE_FN_PROCESS, .setup = burst_setup,
	  .start = burst_start, .teardown = burst_teardown,
	  .process = burst_process, .on_timer = burst_on_timer },
	{ .name = "flush_every", .kind = SLUICE_FN_PROCESS, .setup = flush_setup,
	  .start = flush_start, .teardown = flush_teardown,
	  .process = flush_process, .on_timer = flush_on_timer },
};

static const struct sluice_plugin burst_plugin = {
	.name = "burst",
	.n_fns = sizeof(burst_fns) / sizeof(burst_fns[0]),
	.fns = burst_fns,
};

SLUICE_UDF_PLUGIN(burst_plugin)
