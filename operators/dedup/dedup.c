/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Keyed deduplication within an event-time bound (sl_dedup.h has the
 * semantics and why the state and timers look the way they do).
 *
 * A vector is two passes over the state: one sl_state_fixed_upsert_bulk
 * hands out every row's t0 (hashing and prefetching the whole vector
 * first), the rows are judged in order through those pointers (rows of
 * one key share one, so a key's second row in a vector sees what its
 * first wrote), then one release. New keys' cleanup timers are set after
 * the release, because no other state call may come in between.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_dedup.h"
#include "sl_kg.h"
#include "sl_timer.h"

struct dedup_scratch {
	struct sl_state_ref ref[SL_VEC_MAX];
	uint8_t *val[SL_VEC_MAX];
	uint8_t created[SL_VEC_MAX];
	uint16_t row[SL_VEC_MAX];	/* vector row index of ref j */
	uint16_t new_key[SL_VEC_MAX];	/* refs whose key was created here */
	int64_t new_t0[SL_VEC_MAX];
	uint8_t keys[];			/* SL_VEC_MAX * key_len, gathered keys */
};

/* t0 + within - 1, the last event time a duplicate of t0 can have; MAX
 * past it (C3: no signed overflow), so such a key goes at end of input. */
static inline int64_t
dedup_last(int64_t t0, int64_t within)
{
	int64_t e;

	/* within >= 1: only a positive t0 can overflow. */
	if (__builtin_add_overflow(t0, within - 1, &e))
		return INT64_MAX;
	return e;
}

/* The key fields' bytes in key_by order, as the router hashes them. */
static inline void
key_gather(const struct sl_dedup_conf *c, const uint8_t *row, uint8_t *key)
{
	for (uint16_t k = 0; k < c->n_keys; k++) {
		const struct sl_field *f = &c->in->f[c->key_field[k]];

		memcpy(key, row + f->offset, f->size);
		key += f->size;
	}
}

int
sl_dedup_conf_check(const struct sl_dedup_conf *c, char *msg, size_t msglen)
{
	uint32_t key_len = 0;

	if (c->in == NULL || c->ts_field < 0 || c->ts_field >= c->in->n_fields) {
		snprintf(msg, msglen, "dedup needs the input schema and its event-time field");
		return -EINVAL;
	}
	if (c->in->f[c->ts_field].type == SL_T_F64 || c->in->f[c->ts_field].type == SL_T_STR) {
		snprintf(msg, msglen, "dedup: the event-time field '%s' must be an integer or timestamp_ms",
			 c->in->f[c->ts_field].name);
		return -EINVAL;
	}
	if (c->within <= 0) {
		snprintf(msg, msglen, "dedup: within must be > 0 ms, got %lld",
			 (long long)c->within);
		return -EINVAL;
	}
	if (c->n_keys < 1 || c->n_keys > SL_DEDUP_MAX_KEYS) {
		snprintf(msg, msglen, "dedup needs 1..%d key fields (key_by), got %u",
			 SL_DEDUP_MAX_KEYS, c->n_keys);
		return -EINVAL;
	}
	for (uint16_t k = 0; k < c->n_keys; k++) {
		if (c->key_field[k] < 0 || c->key_field[k] >= c->in->n_fields) {
			snprintf(msg, msglen, "dedup: key field %d is not in the schema",
				 c->key_field[k]);
			return -EINVAL;
		}
		key_len += c->in->f[c->key_field[k]].size;
	}
	if (key_len > SL_DEDUP_KEY_MAX) {
		snprintf(msg, msglen, "dedup: the key fields take %u bytes, at most %d; key by fewer or shorter fields",
			 key_len, SL_DEDUP_KEY_MAX);
		return -EINVAL;
	}
	if (c->max_parallelism == 0 || c->first_kg > c->last_kg ||
	    c->last_kg >= c->max_parallelism) {
		snprintf(msg, msglen, "dedup: key groups %u-%u do not fit max parallelism %u",
			 c->first_kg, c->last_kg, c->max_parallelism);
		return -EINVAL;
	}
	return 0;
}

static int
dedup_timer(void *arg, enum sl_timer_domain dom, uint16_t kg, const void *key,
	    const void *ns, int64_t ts)
{
	struct sl_dedup *d = arg;
	struct sl_state_ref r = { .key = key, .ns = NULL, .kg = kg };
	int64_t t0, last;
	int rc;

	(void)dom;
	(void)ns;
	sl_state_hash_bulk(d->st, d->sid, &r, 1);	/* single-key calls want it too */
	rc = sl_state_value_get(d->st, d->sid, &r, 0, &t0);
	if (rc <= 0)
		return rc;	/* gone already: nothing to do */
	last = dedup_last(t0, d->conf.within);
	if (last > ts) {	/* t0 moved on since this timer was set */
		rc = sl_timer_register(d->tm, SL_TIMER_EVENT_TIME, kg, key, NULL, last);
		if (rc >= 0)
			return 0;
		/* No timer, no way to remove the entry later: remove it now
		 * (the key's next row starts afresh) and say so. */
		(void)sl_state_clear(d->st, d->sid, &r);
		d->stats.state_errors++;
		return rc;
	}
	rc = sl_state_clear(d->st, d->sid, &r);
	if (rc < 0)
		return rc;
	d->stats.keys_expired++;
	return 0;
}

int
sl_dedup_init(struct sl_dedup *d, const struct sl_dedup_conf *c,
	      struct sl_state *st)
{
	const uint32_t n_kg = c->last_kg - c->first_kg + 1;
	struct sl_state_desc desc;
	char msg[160];
	int rc;

	memset(d, 0, sizeof(*d));
	rc = sl_dedup_conf_check(c, msg, sizeof(msg));
	if (rc < 0)
		return rc;
	d->conf = *c;
	d->st = st;
	d->key_off = (int32_t)c->in->f[c->key_field[0]].offset;
	for (uint16_t k = 0; k < c->n_keys; k++) {
		const struct sl_field *f = &c->in->f[c->key_field[k]];

		if (f->offset != (uint32_t)d->key_off + d->key_len)
			d->key_off = -1;
		d->key_len += f->size;
	}
	d->s = calloc(1, sizeof(*d->s) + (size_t)SL_VEC_MAX * d->key_len);
	if (d->s == NULL)
		return -ENOMEM;
	memset(&desc, 0, sizeof(desc));
	desc.name = "dedup";
	desc.kind = SL_STATE_VALUE;
	desc.key_len = (uint16_t)d->key_len;
	desc.val_len = sizeof(int64_t);
	desc.capacity_hint = (c->capacity + n_kg - 1) / n_kg;
	rc = sl_state_register(st, &desc);
	if (rc < 0)
		goto fail;
	d->sid = rc;
	{
		struct sl_timer_conf tc = {
			.name = "dedup",
			.key_len = (uint16_t)d->key_len,
			.ns_len = 0,
			.first_kg = c->first_kg,
			.last_kg = c->last_kg,
			.capacity_hint = desc.capacity_hint,	/* one per key */
			.fire = dedup_timer,
			.arg = d,
		};

		d->tm = sl_timer_create(st, &tc);
		if (d->tm == NULL) {
			rc = -errno;
			goto fail;
		}
	}
	return 0;
fail:
	free(d->s);
	d->s = NULL;
	return rc;
}

void
sl_dedup_fini(struct sl_dedup *d)
{
	sl_dedup_snapshot_end(d);
	sl_timer_destroy(d->tm);
	d->tm = NULL;
	free(d->s);
	d->s = NULL;
}

uint16_t
sl_dedup_process(struct sl_dedup *d, const struct sl_vec *v,
		 sl_dedup_out_fn out, void *ctx)
{
	struct dedup_scratch *s = d->s;
	const struct sl_field *tsf = &d->conf.in->f[d->conf.ts_field];
	const uint32_t maxp = d->conf.max_parallelism, kl = d->key_len;
	const uint16_t rs = v->row_size, n = v->n_sel;
	const int64_t within = d->conf.within;
	uint16_t n_new = 0, n_out = 0;
	int rc;

	if (n == 0)
		return 0;
	d->stats.rows_in += n;
	for (uint16_t j = 0; j < n; j++) {
		const uint16_t i = v->sel[j];
		const uint8_t *row = v->rows + (size_t)i * rs;
		struct sl_state_ref *r = &s->ref[j];

		if (d->key_off >= 0) {
			r->key = row + d->key_off;
		} else {
			key_gather(&d->conf, row, &s->keys[(size_t)j * kl]);
			r->key = &s->keys[(size_t)j * kl];
		}
		r->ns = NULL;
		r->kg = (uint16_t)sl_kg_of(v->hash[i], maxp);
		s->row[j] = i;
	}
	rc = sl_state_fixed_upsert_bulk(d->st, d->sid, s->ref, n, s->val, s->created);
	if (rc < 0) {
		d->stats.state_errors += n;
		return 0;
	}
	for (uint16_t j = 0; j < n; j++) {
		const uint8_t *row = v->rows + (size_t)s->row[j] * rs;
		const int64_t ts = sl_row_ts(row, tsf);
		int64_t t0;

		if (s->val[j] == NULL) {
			d->stats.state_full_dropped++;
			continue;
		}
		if (!s->created[j]) {
			memcpy(&t0, s->val[j], sizeof(t0));
			if (ts <= dedup_last(t0, within)) {
				d->stats.dup_dropped++;
				continue;
			}
		} else {
			s->new_key[n_new] = j;
			s->new_t0[n_new++] = ts;
		}
		memcpy(s->val[j], &ts, sizeof(ts));
		memcpy(out(ctx), row, rs);
		n_out++;
	}
	if (sl_state_fixed_release_bulk(d->st, d->sid, s->ref, n, s->val) < 0)
		d->stats.state_errors += n;
	/* A key created and renewed in one vector still needs only the
	 * first t0's timer: it forwards itself when it fires. */
	for (uint16_t k = 0; k < n_new; k++) {
		const struct sl_state_ref *r = &s->ref[s->new_key[k]];

		/* Without its timer the entry would never go: drop it (the
		 * key's next row starts afresh) and count the error. The
		 * upsert filled r->hash for this single-key call. */
		if (sl_timer_register(d->tm, SL_TIMER_EVENT_TIME, r->kg, r->key, NULL,
				      dedup_last(s->new_t0[k], within)) < 0) {
			(void)sl_state_clear(d->st, d->sid, r);
			d->stats.state_errors++;
		}
	}
	d->stats.rows_out += n_out;
	return n_out;
}

int
sl_dedup_advance(struct sl_dedup *d, int64_t wm)
{
	uint64_t before = d->stats.keys_expired, errs = d->stats.state_errors;
	int rc = sl_timer_advance_watermark(d->tm, wm);

	if (rc < 0) {
		if (d->stats.state_errors == errs && rc != -EINVAL)
			d->stats.state_errors++;
		return rc;
	}
	return (int)(d->stats.keys_expired - before);
}

int
sl_dedup_snapshot_begin(struct sl_dedup *d)
{
	int rc;

	if (d->snap != NULL)
		return -EBUSY;
	rc = sl_state_snapshot_begin(d->st, 0, &d->snap);
	if (rc < 0)
		d->snap = NULL;
	return rc < 0 ? rc : 0;
}

void
sl_dedup_snapshot_end(struct sl_dedup *d)
{
	if (d->snap == NULL)
		return;
	sl_state_snapshot_end(d->st, d->snap);
	d->snap = NULL;
}

int
sl_dedup_restore_done(struct sl_dedup *d)
{
	int rc = sl_timer_rebuild(d->tm);

	return rc < 0 ? rc : 0;
}

uint64_t
sl_dedup_keys(const struct sl_dedup *d)
{
	return d->tm != NULL ? sl_timer_count(d->tm, SL_TIMER_EVENT_TIME) : 0;
}
