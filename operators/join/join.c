/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parts of a join every kind shares: the configuration check, the
 * instance (state descriptors, timer service, scratch), keys, output rows,
 * watermarks and snapshots. The kinds are in join_<kind>.c; sl_join.h has
 * their semantics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "join_private.h"
#include "sl_process.h"

static const char *const kind_names[] = {
	[SL_JOIN_INTERVAL] = "interval",
	[SL_JOIN_WINDOW] = "window",
	[SL_JOIN_MATCH] = "match",
	[SL_JOIN_ENRICH] = "enrich",
	[SL_JOIN_PROCESS] = "process",
	[SL_JOIN_SESSION] = "session",
	[SL_JOIN_BROADCAST] = "broadcast",
	[SL_JOIN_TEMPORAL] = "temporal",
};

const char *
sl_join_kind_name(enum sl_join_kind k)
{
	return (unsigned int)k < sizeof(kind_names) / sizeof(kind_names[0]) ?
		kind_names[k] : "?";
}

static int
input_check(const struct sl_join_conf *c, int side, uint32_t *key_len,
	    char *msg, size_t msglen)
{
	static const char *const sname[2] = { "left", "right" };
	const struct sl_join_input *in = &c->in[side];

	if (in->schema == NULL || in->ts_field < 0 || in->ts_field >= in->schema->n_fields) {
		snprintf(msg, msglen, "join: the %s input needs its schema and event-time field",
			 sname[side]);
		return -EINVAL;
	}
	if (!sl_type_is_int(in->schema->f[in->ts_field].type)) {
		snprintf(msg, msglen, "join: the %s event-time field '%s' must be an integer or timestamp_ms",
			 sname[side], in->schema->f[in->ts_field].name);
		return -EINVAL;
	}
	*key_len = 0;
	for (uint16_t k = 0; k < c->n_keys; k++) {
		if (in->key_field[k] < 0 || in->key_field[k] >= in->schema->n_fields) {
			snprintf(msg, msglen, "join: %s key field %d is not in its schema",
				 sname[side], in->key_field[k]);
			return -EINVAL;
		}
		*key_len += in->schema->f[in->key_field[k]].size;
	}
	return 0;
}

int
sl_join_conf_check(const struct sl_join_conf *c, char *msg, size_t msglen)
{
	uint32_t kl[2];
	int rc;

	if ((unsigned int)c->kind > SL_JOIN_TEMPORAL) {
		snprintf(msg, msglen, "join: unknown kind %d", (int)c->kind);
		return -EINVAL;
	}
	if (c->n_keys < 1 || c->n_keys > SL_JOIN_MAX_KEYS) {
		snprintf(msg, msglen, "join needs 1..%d key fields per side, got %u",
			 SL_JOIN_MAX_KEYS, c->n_keys);
		return -EINVAL;
	}
	for (int s = 0; s < 2; s++) {
		rc = input_check(c, s, &kl[s], msg, msglen);
		if (rc < 0)
			return rc;
	}
	for (uint16_t k = 0; k < c->n_keys; k++) {
		const struct sl_field *a = &c->in[0].schema->f[c->in[0].key_field[k]];
		const struct sl_field *b = &c->in[1].schema->f[c->in[1].key_field[k]];

		if (a->type != b->type || a->size != b->size) {
			snprintf(msg, msglen, "join: key %u is %s '%s' on the left but %s '%s' on the right; the key types must be the same",
				 k + 1u, sl_type_name(a->type), a->name, sl_type_name(b->type), b->name);
			return -EINVAL;
		}
	}
	if (kl[0] > SL_JOIN_KEY_MAX) {
		snprintf(msg, msglen, "join: the key fields take %u bytes, at most %d",
			 kl[0], SL_JOIN_KEY_MAX);
		return -EINVAL;
	}
	switch (c->kind) {
	case SL_JOIN_INTERVAL: {
		int64_t lo, hi;

		if (c->lower < -(INT64_MAX / 2) || c->upper > INT64_MAX / 2 ||
		    c->lower > INT64_MAX / 2 || c->upper < -(INT64_MAX / 2)) {
			snprintf(msg, msglen, "join: interval bounds out of range");
			return -EINVAL;
		}
		lo = c->lower + (c->lower_exclusive ? 1 : 0);
		hi = c->upper - (c->upper_exclusive ? 1 : 0);
		if (lo > hi) {
			snprintf(msg, msglen, "join: interval lower bound %lld%s is above upper bound %lld%s; lower <= upper",
				 (long long)c->lower, c->lower_exclusive ? " (exclusive)" : "",
				 (long long)c->upper, c->upper_exclusive ? " (exclusive)" : "");
			return -EINVAL;
		}
		if ((uint32_t)c->in[0].schema->row_size + c->in[1].schema->row_size > SL_JOIN_BUCKET_MAX / 2) {
			snprintf(msg, msglen, "join: rows too large");
			return -EINVAL;
		}
		break;
	}
	case SL_JOIN_WINDOW: {
		const int64_t step = c->slide != 0 ? c->slide : c->size;

		if (c->size <= 0 || step <= 0 || step > c->size ||
		    c->offset >= step || c->offset <= -step) {
			snprintf(msg, msglen, "join: window size and slide must be > 0, slide <= size and |offset| < slide, got size %lld slide %lld offset %lld",
				 (long long)c->size, (long long)c->slide, (long long)c->offset);
			return -EINVAL;
		}
		if ((c->size - 1) / step + 1 > SL_JOIN_MAX_PANES) {
			snprintf(msg, msglen, "join: a sliding window's size / slide must be at most %d, got %lld / %lld",
				 SL_JOIN_MAX_PANES, (long long)c->size, (long long)step);
			return -EINVAL;
		}
		break;
	}
	case SL_JOIN_SESSION:
		if (c->gap <= 0 || c->gap > INT64_MAX / 2) {
			snprintf(msg, msglen, "join: session gap must be > 0 ms and at most 2^62, got %lld",
				 (long long)c->gap);
			return -EINVAL;
		}
		break;
	case SL_JOIN_MATCH:
		if (c->timeout <= 0) {
			snprintf(msg, msglen, "join: match timeout must be > 0 ms, got %lld",
				 (long long)c->timeout);
			return -EINVAL;
		}
		break;
	case SL_JOIN_ENRICH:
		if (c->ttl < 0) {
			snprintf(msg, msglen, "join: enrich ttl must be >= 0 ms (0: none), got %lld",
				 (long long)c->ttl);
			return -EINVAL;
		}
		break;
	case SL_JOIN_PROCESS:
		if (c->fn == NULL || c->fn->kind != SLUICE_FN_CO_PROCESS || c->fn->process == NULL ||
		    c->out == NULL) {
			snprintf(msg, msglen, "join: process needs a co_process function with a process hook, and the join's output columns");
			return -EINVAL;
		}
		break;
	case SL_JOIN_BROADCAST:
		if (c->n_tasks != 0 && c->task >= c->n_tasks) {
			snprintf(msg, msglen, "join: broadcast instance %u of %u", c->task, c->n_tasks);
			return -EINVAL;
		}
		break;
	case SL_JOIN_TEMPORAL:
		break;
	}
	if (c->max_parallelism == 0 || c->max_parallelism > UINT16_MAX + 1u ||
	    c->first_kg > c->last_kg || c->last_kg >= c->max_parallelism) {
		snprintf(msg, msglen, "join: key groups %u-%u do not fit max parallelism %u",
			 c->first_kg, c->last_kg, c->max_parallelism);
		return -EINVAL;
	}
	return 0;
}

const uint8_t *
join_key(const struct sl_join *j, int side, const uint8_t *row, uint8_t *buf)
{
	const struct sl_join_input *in = &j->conf.in[side];
	uint8_t *p = buf;

	if (j->conf.n_keys == 1)
		return row + in->schema->f[in->key_field[0]].offset;
	for (uint16_t k = 0; k < j->conf.n_keys; k++) {
		const struct sl_field *f = &in->schema->f[in->key_field[k]];

		memcpy(p, row + f->offset, f->size);
		p += f->size;
	}
	return buf;
}

void
join_ref(struct sl_join *j, int side, int id, const struct sl_vec *v,
	 uint16_t i, uint8_t *keybuf, const void *ns, struct sl_state_ref *ref)
{
	ref->key = join_key(j, side, sl_vec_crow(v, i), keybuf);
	ref->ns = ns;
	ref->kg = (uint16_t)sl_kg_of(v->hash[i], j->conf.max_parallelism);
	sl_state_hash_bulk(j->st, id, ref, 1);
}

int
join_emit(struct sl_join *j, enum sl_join_out_kind k, int64_t ts,
	  const uint8_t *left, const uint8_t *right)
{
	const uint32_t ls = j->conf.in[0].schema->row_size;
	const uint32_t rs = j->conf.in[1].schema->row_size;
	uint8_t *o = j->out(j->out_ctx, k);

	if (o == NULL)
		return 0;
	memcpy(o, &ts, sizeof(ts));
	if (left != NULL)
		memcpy(o + 8, left, ls);
	else
		memset(o + 8, 0, ls);
	if (right != NULL)
		memcpy(o + 8 + ls, right, rs);
	else
		memset(o + 8 + ls, 0, rs);
	j->stats.rows_out++;
	return 1;
}

int
join_register(struct sl_join *j, struct sl_state_desc d)
{
	const uint32_t n_kg = j->conf.last_kg - j->conf.first_kg + 1;

	d.key_len = (uint16_t)j->key_len;
	d.capacity_hint = (j->conf.capacity + n_kg - 1) / n_kg;
	return sl_state_register(j->st, &d);
}

int
join_register_sides(struct sl_join *j, const char *const names[2],
		    const struct sl_state_desc *tmpl, bool row_vals)
{
	for (int s = 0; s < 2; s++) {
		struct sl_state_desc d = *tmpl;
		int rc;

		d.name = names[s];
		if (row_vals)
			d.val_len = j->conf.in[s].schema->row_size;
		rc = join_register(j, d);
		if (rc < 0)
			return rc;
		j->sid[s] = rc;
	}
	return 0;
}

int
join_buf_add(uint8_t **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (*len + n > *cap) {
		size_t nc = *cap != 0 ? *cap : 4096;
		uint8_t *nb;

		while (nc < *len + n)
			nc *= 2;
		nb = realloc(*buf, nc);
		if (nb == NULL)
			return -ENOMEM;
		*buf = nb;
		*cap = nc;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	return 0;
}

int
join_collect_elem(void *arg, const void *elem, uint32_t len)
{
	struct join_collect *c = arg;

	c->err = join_buf_add(c->buf, c->len, c->cap, elem, len);
	return c->err != 0;
}

static int
join_timer(void *arg, enum sl_timer_domain dom, uint16_t kg, const void *key,
	   const void *ns, int64_t ts)
{
	struct sl_join *j = arg;

	(void)dom;
	switch (j->conf.kind) {
	case SL_JOIN_INTERVAL:
		return join_interval_fire(j, kg, key, ns, ts);
	case SL_JOIN_WINDOW:
		return join_window_fire(j, kg, key, ns, ts);
	case SL_JOIN_MATCH:
		return join_match_fire(j, kg, key, ns, ts);
	case SL_JOIN_SESSION:
		return join_session_fire(j, kg, key, ns, ts);
	case SL_JOIN_BROADCAST:
		return join_broadcast_fire(j, kg, key, ns, ts);
	case SL_JOIN_TEMPORAL:
		return join_temporal_fire(j, kg, key, ns, ts);
	default:
		return 0;
	}
}

/* Timer namespaces: interval [side][bucket ts], window [window start],
 * session [start][end], broadcast [event ts], match none (a key has one
 * stored row at a time). */
static uint16_t
timer_ns_len(enum sl_join_kind k)
{
	return k == SL_JOIN_INTERVAL ? 1 + sizeof(int64_t) :
	       k == SL_JOIN_WINDOW || k == SL_JOIN_BROADCAST || k == SL_JOIN_TEMPORAL ?
	       sizeof(int64_t) :
	       k == SL_JOIN_SESSION ? 2 * sizeof(int64_t) : 0;
}

int
sl_join_init(struct sl_join *j, const struct sl_join_conf *c,
	     struct sl_state *st)
{
	char msg[200];
	int rc;

	memset(j, 0, sizeof(*j));
	rc = sl_join_conf_check(c, msg, sizeof(msg));
	if (rc < 0)
		return rc;
	j->conf = *c;
	j->st = st;
	j->sid[0] = j->sid[1] = -1;
	for (uint16_t k = 0; k < c->n_keys; k++)
		j->key_len += c->in[0].schema->f[c->in[0].key_field[k]].size;
	j->out_size = 8u + c->in[0].schema->row_size + c->in[1].schema->row_size;
	j->lo = c->lower + (c->lower_exclusive ? 1 : 0);
	j->hi = c->upper - (c->upper_exclusive ? 1 : 0);
	j->s = calloc(1, sizeof(*j->s));
	if (j->s == NULL)
		return -ENOMEM;
	j->s->keys = malloc((size_t)SL_VEC_MAX * j->key_len);
	j->s->bucket = malloc(SL_JOIN_BUCKET_MAX);
	j->s->vals = malloc((size_t)SL_VEC_MAX * c->in[1].schema->row_size);
	if (j->s->keys == NULL || j->s->bucket == NULL || j->s->vals == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	if (c->kind == SL_JOIN_SESSION) {
		j->s->sess = calloc(1, join_session_ctx_size());
		if (j->s->sess == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	if (c->kind == SL_JOIN_INTERVAL) {
		j->s->m = malloc(JOIN_MATCH_MAX * sizeof(*j->s->m));
		j->s->mbuf_cap = 2 * SL_JOIN_BUCKET_MAX;
		j->s->mbuf = malloc(j->s->mbuf_cap);
		if (j->s->m == NULL || j->s->mbuf == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	switch (c->kind) {
	case SL_JOIN_INTERVAL:
		rc = join_interval_setup(j);
		break;
	case SL_JOIN_WINDOW:
		rc = join_window_setup(j);
		break;
	case SL_JOIN_MATCH:
		rc = join_match_setup(j);
		break;
	case SL_JOIN_PROCESS:
		rc = join_process_setup(j);
		break;
	case SL_JOIN_SESSION:
		rc = join_session_setup(j);
		break;
	case SL_JOIN_BROADCAST:
		rc = join_broadcast_setup(j);
		break;
	case SL_JOIN_TEMPORAL:
		rc = join_temporal_setup(j);
		break;
	default:
		rc = join_enrich_setup(j);
		break;
	}
	if (rc < 0)
		goto fail;
	/* enrich sets no timer; a process function's are its operator's */
	if (c->kind != SL_JOIN_ENRICH && c->kind != SL_JOIN_PROCESS) {
		const uint32_t n_kg = c->last_kg - c->first_kg + 1;
		struct sl_timer_conf tc = {
			.name = "join",
			.key_len = (uint16_t)j->key_len,
			.ns_len = timer_ns_len(c->kind),
			.first_kg = c->first_kg,
			.last_kg = c->last_kg,
			.capacity_hint = (c->capacity + n_kg - 1) / n_kg,
			.fire = join_timer,
			.arg = j,
		};

		j->tm = sl_timer_create(st, &tc);
		if (j->tm == NULL) {
			rc = -errno;
			goto fail;
		}
	}
	return 0;
fail:
	sl_join_fini(j);
	return rc;
}

void
sl_join_fini(struct sl_join *j)
{
	sl_join_snapshot_end(j);
	join_process_fini(j);
	sl_timer_destroy(j->tm);
	j->tm = NULL;
	sl_opstate_destroy(j->os);
	j->os = NULL;
	free(j->os_snap);
	j->os_snap = NULL;
	if (j->s != NULL) {
		free(j->s->keys);
		free(j->s->bucket);
		free(j->s->vals);
		free(j->s->m);
		free(j->s->mbuf);
		free(j->s->rbuf);
		free(j->s->sess);
		free(j->s);
		j->s = NULL;
	}
}

uint32_t
sl_join_process(struct sl_join *j, enum sl_join_side side,
		const struct sl_vec *v, sl_join_out_fn out, void *ctx)
{
	const uint64_t before = j->stats.rows_out;

	if (v->n_sel == 0)
		return 0;
	j->out = out;
	j->out_ctx = ctx;
	j->stats.rows_in[side] += v->n_sel;
	switch (j->conf.kind) {
	case SL_JOIN_INTERVAL:
		join_interval_process(j, side, v);
		break;
	case SL_JOIN_WINDOW:
		join_window_process(j, side, v);
		break;
	case SL_JOIN_MATCH:
		join_match_process(j, side, v);
		break;
	case SL_JOIN_ENRICH:
		join_enrich_process(j, side, v);
		break;
	case SL_JOIN_PROCESS:
		join_process_rows(j, side, v);
		break;
	case SL_JOIN_SESSION:
		join_session_process(j, side, v);
		break;
	case SL_JOIN_BROADCAST:
		join_broadcast_process(j, side, v);
		break;
	case SL_JOIN_TEMPORAL:
		join_temporal_process(j, side, v);
		break;
	}
	return (uint32_t)(j->stats.rows_out - before);
}

int
sl_join_advance(struct sl_join *j, int64_t wm, sl_join_out_fn out, void *ctx)
{
	const uint64_t before = j->stats.rows_out;
	int rc;

	j->out = out;
	j->out_ctx = ctx;
	if (j->proc != NULL) {
		rc = join_process_advance(j, wm);
		return rc < 0 ? rc : (int)(j->stats.rows_out - before);
	}
	if (j->tm == NULL)
		return 0;	/* enrich: nothing waits for time */
	rc = sl_timer_advance_watermark(j->tm, wm);
	if (rc < 0) {
		if (rc != -EINVAL)
			j->stats.state_errors++;
		return rc;
	}
	return (int)(j->stats.rows_out - before);
}

int
sl_join_advance_processing_time(struct sl_join *j, int64_t now,
				sl_join_out_fn out, void *ctx)
{
	j->now = now;
	if (j->proc == NULL)
		return 0;
	j->out = out;
	j->out_ctx = ctx;
	return join_process_ptime(j, now == INT64_MIN ? now : now - 1);
}

int64_t
sl_join_watermark(const struct sl_join *j)
{
	if (j->proc != NULL)
		return sl_timer_watermark(j->proc->tm);
	return j->tm != NULL ? sl_timer_watermark(j->tm) : INT64_MIN;
}

uint64_t
sl_join_timers(const struct sl_join *j)
{
	if (j->proc != NULL)
		return sl_process_timers(j->proc, SLUICE_EVENT_TIME);
	return j->tm != NULL ? sl_timer_count(j->tm, SL_TIMER_EVENT_TIME) : 0;
}

int
sl_join_snapshot_begin(struct sl_join *j)
{
	int rc;

	if (j->snap != NULL)
		return -EBUSY;
	if (j->os != NULL) {
		/* At the barrier, on the owning thread: the copy the main
		 * lcore writes later. Pruned first, so equal on every
		 * instance. */
		size_t n;

		rc = join_broadcast_prune(j);
		if (rc < 0)
			return rc;
		n = sl_opstate_snapshot(j->os, NULL, 0);
		if (n > j->os_snap_cap) {
			uint8_t *b = realloc(j->os_snap, n);

			if (b == NULL)
				return -ENOMEM;
			j->os_snap = b;
			j->os_snap_cap = n;
		}
		j->os_snap_len = sl_opstate_snapshot(j->os, j->os_snap, j->os_snap_cap);
	}
	/* TTL'd state (enrich's, a process function's) as of the clock. */
	rc = sl_state_snapshot_begin(j->st, j->proc != NULL ? j->proc->now : j->now, &j->snap);
	if (rc < 0)
		j->snap = NULL;
	return rc < 0 ? rc : 0;
}

void
sl_join_snapshot_end(struct sl_join *j)
{
	if (j->snap == NULL)
		return;
	sl_state_snapshot_end(j->st, j->snap);
	j->snap = NULL;
}

int
sl_join_restore_done(struct sl_join *j)
{
	int rc;

	if (j->proc != NULL)
		return sl_process_restore_done(j->proc);
	if (j->tm == NULL)
		return 0;
	rc = sl_timer_rebuild(j->tm);
	return rc < 0 ? rc : 0;
}

const void *
sl_join_opstate_snapshot(const struct sl_join *j, size_t *len)
{
	*len = j->os != NULL ? j->os_snap_len : 0;
	return j->os != NULL ? j->os_snap : NULL;
}

int
sl_join_opstate_restore(struct sl_join *j, const void *const *snap, const size_t *len,
			uint32_t n, unsigned int *diverged, char *msg, size_t msglen)
{
	if (j->os == NULL) {
		snprintf(msg, msglen, "operator state in the checkpoint of a %s join, which keeps none",
			 sl_join_kind_name(j->conf.kind));
		return -EINVAL;
	}
	return sl_opstate_restore(j->os, snap, len, n, diverged, msg, msglen);
}
