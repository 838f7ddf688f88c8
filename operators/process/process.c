/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Keyed process functions (sl_process.h has the semantics). One context
 * is reused for every call: the operator points it at the current key
 * (its bytes, key group and state hash, computed once per row since all
 * of the function's states share the key layout) and the function's
 * state and timer calls go through it (operators/udf/udf_host.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_kg.h"
#include "sl_process.h"
#include "sl_timer.h"

static uint32_t
key_len_of(const struct sl_process_conf *c)
{
	uint32_t n = 0;

	for (uint16_t k = 0; k < c->n_keys; k++)
		n += c->in->f[c->key_field[k]].size;
	return n;
}

/* The input's schema, event-time field and key fields (0: first, 1: second). */
static void
input_of(const struct sl_process_conf *c, int input, const struct sl_schema **s,
	 int *ts_field, const int **key_field)
{
	*s = input == 0 ? c->in : c->in2;
	*ts_field = input == 0 ? c->ts_field : c->ts_field2;
	*key_field = input == 0 ? c->key_field : c->key_field2;
}

static int
input_check(const struct sl_process_conf *c, int input, char *msg, size_t msglen)
{
	static const char *const what[2] = { "the input", "the second input" };
	const struct sl_schema *s;
	const int *kf;
	int tsf;

	input_of(c, input, &s, &tsf, &kf);
	if (s == NULL || tsf < 0 || tsf >= s->n_fields || !sl_type_is_int(s->f[tsf].type)) {
		snprintf(msg, msglen, "process needs %s's schema and an integer or timestamp_ms event-time field",
			 what[input]);
		return -EINVAL;
	}
	for (uint16_t k = 0; k < c->n_keys; k++) {
		if (kf[k] < 0 || kf[k] >= s->n_fields) {
			snprintf(msg, msglen, "process: key field %d is not in %s's schema", kf[k],
				 what[input]);
			return -EINVAL;
		}
		if (input == 1) {
			const struct sl_field *a = &c->in->f[c->key_field[k]], *b = &s->f[kf[k]];

			if (a->type != b->type || a->size != b->size) {
				snprintf(msg, msglen, "process: key %u is %s '%s' in the first input but %s '%s' in the second; the key types must be the same",
					 k + 1u, sl_type_name(a->type), a->name,
					 sl_type_name(b->type), b->name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static void
udf_conf(const struct sl_process_conf *c, struct sl_udf_conf *uc)
{
	memset(uc, 0, sizeof(*uc));
	uc->fn = c->fn;
	uc->in = c->in;
	uc->ts_field = c->ts_field;
	uc->n_keys = c->n_keys;
	uc->key_field = c->key_field;
	uc->n_params = c->n_params;
	uc->params = c->params;
	if (c->fn->kind == SLUICE_FN_CO_PROCESS) {
		uc->in2 = c->in2;
		uc->ts_field2 = c->ts_field2;
		uc->key_field2 = c->key_field2;
		uc->out_default = c->out_default;
	}
}

int
sl_process_conf_check(const struct sl_process_conf *c, char *msg, size_t msglen)
{
	struct sl_udf_conf uc;
	struct sl_udf_inst *u;
	bool two;
	int rc;

	if (c->fn == NULL || !sl_udf_kind_keyed(c->fn->kind) || c->fn->process == NULL) {
		snprintf(msg, msglen, "process needs a process or co_process function (with a process hook)");
		return -EINVAL;
	}
	two = c->fn->kind == SLUICE_FN_CO_PROCESS;
	if (c->n_keys < 1 || c->n_keys > SL_PROCESS_MAX_KEYS) {
		snprintf(msg, msglen, "process needs 1..%d key fields (key_by), got %u",
			 SL_PROCESS_MAX_KEYS, c->n_keys);
		return -EINVAL;
	}
	for (int i = 0; i < (two ? 2 : 1); i++) {
		rc = input_check(c, i, msg, msglen);
		if (rc < 0)
			return rc;
	}
	if (two && c->out_default == NULL) {
		snprintf(msg, msglen, "process: a co_process function needs its default output schema (the join's columns)");
		return -EINVAL;
	}
	if (key_len_of(c) > SL_UDF_KEY_MAX) {
		snprintf(msg, msglen, "process: the key fields take %u bytes, at most %d; key_by fewer or shorter fields",
			 key_len_of(c), SL_UDF_KEY_MAX);
		return -EINVAL;
	}
	if (c->max_parallelism == 0 || c->first_kg > c->last_kg ||
	    c->last_kg >= c->max_parallelism) {
		snprintf(msg, msglen, "process: key groups %u-%u do not fit max parallelism %u",
			 c->first_kg, c->last_kg, c->max_parallelism);
		return -EINVAL;
	}
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return -ENOMEM;
	udf_conf(c, &uc);
	rc = sl_udf_inst_setup(u, &uc, msg, msglen);
	if (rc == 0)
		sl_udf_inst_fini(u);
	free(u);
	return rc;
}

/* Point the context at (kg, key): its state hash, once for all states. */
static inline void
ctx_key(struct sl_process *p, uint16_t kg, const void *key)
{
	struct sluice_ctx *c = &p->c;

	c->ref.kg = kg;
	c->ref.key = key;
	c->ref.ns = NULL;
	c->err = 0;
	c->vslot = NULL;
	if (p->u.n_states > 0)
		sl_state_hash_bulk(p->st, p->sid[0], &c->ref, 1);
}

/* The next timer's key: its state slot into cache while this one fires. */
static void
process_timer_ahead(void *arg, uint16_t kg, const void *key, const void *ns)
{
	struct sl_process *p = arg;
	struct sl_state_ref r = { .key = key, .kg = kg };
	uint8_t i = p->ahead_i ^= 1;

	(void)ns;
	if (p->u.n_states == 0 || p->u.fn->on_timer == NULL)
		return;
	sl_state_hash_bulk(p->st, p->sid[0], &r, 1);
	sl_state_prefetch_bulk(p->st, p->sid[0], &r, 1);
	memcpy(p->ahead[i].key, key, p->key_len);
	p->ahead[i].hash = r.hash;
	p->ahead[i].kg = kg;
	p->ahead[i].ok = true;
}

/* Point the context at a firing timer's key, with the hash the look
 * ahead computed for it when there is one. */
static void
ctx_timer_key(struct sl_process *p, uint16_t kg, const void *key)
{
	for (int i = 0; i < 2; i++)
		if (p->ahead[i].ok && p->ahead[i].kg == kg &&
		    memcmp(p->ahead[i].key, key, p->key_len) == 0) {
			struct sl_state_ref r = { .key = key, .kg = kg,
						  .hash = p->ahead[i].hash };

			sl_udf_ctx_key(&p->c, &r);
			return;
		}
	ctx_key(p, kg, key);
}

static int
process_timer(void *arg, enum sl_timer_domain dom, uint16_t kg, const void *key,
	      const void *ns, int64_t ts)
{
	struct sl_process *p = arg;
	struct sluice_ctx *c = &p->c;
	uint64_t o = c->n_out, s = c->n_side;
	int rc;

	(void)ns;
	p->stats.timers_fired++;
	if (p->u.fn->on_timer == NULL)
		return 0;
	ctx_timer_key(p, kg, key);
	c->ts = ts;
	c->wm = sl_timer_watermark(p->tm);
	rc = p->u.fn->on_timer(p->u.self, c, (uint32_t)dom, ts);
	p->stats.rows_out += c->n_out - o;
	p->stats.side_out += c->n_side - s;
	if (c->err < 0)
		p->stats.state_errors++;
	if (rc < 0)
		p->stats.fn_errors++;
	/* A function's error is its own: the other timers still fire. */
	return 0;
}

int
sl_process_init(struct sl_process *p, const struct sl_process_conf *c,
		struct sl_state *st, sl_udf_out_fn out, sl_udf_side_fn side,
		void *arg, char *msg, size_t msglen)
{
	const uint32_t n_kg = c->last_kg - c->first_kg + 1;
	struct sl_udf_conf uc;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = sl_process_conf_check(c, msg, msglen);
	if (rc < 0)
		return rc;
	p->conf = *c;
	p->st = st;
	p->key_len = key_len_of(c);
	for (int i = 0; i < 2; i++) {
		const struct sl_schema *s;
		const int *kf;
		int tsf;
		uint32_t off = 0;

		input_of(&p->conf, i, &s, &tsf, &kf);
		p->key_off[i] = -1;
		if (s == NULL)
			continue;
		/* Key fields side by side in the row: the key is read in
		 * place; otherwise gathered per row. */
		p->key_off[i] = (int32_t)s->f[kf[0]].offset;
		for (uint16_t k = 0; k < c->n_keys; k++) {
			if (s->f[kf[k]].offset != (uint32_t)p->key_off[i] + off)
				p->key_off[i] = -1;
			off += s->f[kf[k]].size;
		}
	}
	udf_conf(&p->conf, &uc);
	rc = sl_udf_inst_setup(&p->u, &uc, msg, msglen);
	if (rc < 0)
		return rc;
	for (uint16_t i = 0; i < p->u.n_states; i++) {
		const struct sl_udf_state_decl *d = &p->u.state[i];
		struct sl_state_desc desc;
		char name[SL_NAME_MAX + 8];

		snprintf(name, sizeof(name), "udf.%s", d->name);
		memset(&desc, 0, sizeof(desc));
		desc.name = name;
		desc.kind = d->kind;
		desc.key_len = (uint16_t)p->key_len;
		desc.val_len = d->val_len;
		desc.ukey_len = (uint16_t)d->ukey_len;
		desc.capacity_hint = (c->capacity + n_kg - 1) / n_kg;
		desc.ttl.ttl_ms = d->ttl_ms;
		desc.ttl.cleanup_incremental = d->ttl_ms > 0 ? 5 : 0;	/* Flink's default */
		rc = sl_state_register(st, &desc);
		if (rc < 0) {
			snprintf(msg, msglen, "process: state '%s' does not register: %s",
				 d->name, strerror(-rc));
			goto fail;
		}
		p->sid[i] = rc;
	}
	{
		struct sl_timer_conf tc = {
			.name = "udf",
			.key_len = (uint16_t)p->key_len,
			.ns_len = 0,
			.first_kg = c->first_kg,
			.last_kg = c->last_kg,
			.capacity_hint = (c->capacity + n_kg - 1) / n_kg,
			.fire = process_timer,
			.prefetch = process_timer_ahead,
			.arg = p,
		};

		p->tm = sl_timer_create(st, &tc);
		if (p->tm == NULL) {
			rc = -errno;
			snprintf(msg, msglen, "process: timers: %s", strerror(-rc));
			goto fail;
		}
	}
	p->c.u = &p->u;
	p->c.st = st;
	p->c.tm = p->tm;
	p->c.sid = p->sid;
	p->c.key_len = p->key_len;
	p->c.out = out;
	p->c.side = side;
	p->c.arg = arg;
	p->c.wm = SL_TS_MIN;
	p->now = 0;
	return 0;
fail:
	sl_udf_inst_fini(&p->u);
	return rc;
}

void
sl_process_fini(struct sl_process *p)
{
	sl_process_snapshot_end(p);
	sl_timer_destroy(p->tm);
	p->tm = NULL;
	sl_udf_inst_fini(&p->u);
}

/*
 * The vector's state addresses at once when the key fields lie side by
 * side (the usual key_by): every row's key hashed in one pass and its
 * home slot prefetched, so the function's per-row state calls find their
 * slot in cache and do not hash again. @return false: rows one by one.
 */
static bool
run_refs(struct sl_process *p, int32_t key_off, const struct sl_vec *v,
	 struct sl_state_ref *refs)
{
	const uint32_t maxp = p->conf.max_parallelism;

	if (key_off < 0 || p->u.n_states == 0)
		return false;
	for (uint16_t j = 0; j < v->n_sel; j++) {
		const uint16_t i = v->sel[j];

		refs[j].key = v->rows + (size_t)i * v->row_size + key_off;
		refs[j].ns = NULL;
		refs[j].kg = (uint16_t)sl_kg_of(v->hash[i], maxp);
	}
	sl_state_hash_bulk(p->st, p->sid[0], refs, v->n_sel);
	sl_state_prefetch_bulk(p->st, p->sid[0], refs, v->n_sel);
	return true;
}

uint32_t
sl_process_run_input(struct sl_process *p, int input, const struct sl_vec *v,
		     int64_t now)
{
	const struct sluice_fn *fn = p->u.fn;
	const uint32_t maxp = p->conf.max_parallelism;
	const uint16_t rs = v->row_size;
	const int32_t key_off = p->key_off[input];
	struct sluice_ctx *c = &p->c;
	const uint64_t o = c->n_out, s = c->n_side;
	struct sl_state_ref refs[SL_VEC_MAX];
	const bool hashed = run_refs(p, key_off, v, refs);
	const struct sl_schema *in;
	const struct sl_field *tsf;
	const int *kf;
	int ts_field;

	input_of(&p->conf, input, &in, &ts_field, &kf);
	tsf = &in->f[ts_field];
	p->now = now;
	c->now = now;
	c->wm = sl_timer_watermark(p->tm);
	c->input = fn->kind == SLUICE_FN_CO_PROCESS ? (uint32_t)input + 1 : 0;
	p->stats.rows_in += v->n_sel;
	for (uint16_t j = 0; j < v->n_sel; j++) {
		const uint16_t i = v->sel[j];
		const uint8_t *row = v->rows + (size_t)i * rs;
		const void *key = row + key_off;

		if (hashed) {
			sl_udf_ctx_key(c, &refs[j]);
		} else {
			if (key_off < 0) {
				uint8_t *k = p->key;

				for (uint16_t f = 0; f < p->conf.n_keys; f++) {
					const struct sl_field *kfd = &in->f[kf[f]];

					memcpy(k, row + kfd->offset, kfd->size);
					k += kfd->size;
				}
				key = p->key;
			}
			ctx_key(p, (uint16_t)sl_kg_of(v->hash[i], maxp), key);
		}
		c->ts = sl_row_ts(row, tsf);
		if (fn->process(p->u.self, c, row) < 0)
			p->stats.fn_errors++;
		if (c->err < 0)
			p->stats.state_errors++;
	}
	c->input = 0;
	p->stats.rows_out += c->n_out - o;
	p->stats.side_out += c->n_side - s;
	return (uint32_t)(c->n_out - o);
}

uint32_t
sl_process_run(struct sl_process *p, const struct sl_vec *v, int64_t now)
{
	return sl_process_run_input(p, 0, v, now);
}

int
sl_process_advance(struct sl_process *p, int64_t wm)
{
	p->c.now = p->now;
	return sl_timer_advance_watermark(p->tm, wm);
}

int
sl_process_advance_processing_time(struct sl_process *p, int64_t now)
{
	p->now = now;
	p->c.now = now;
	p->c.wm = sl_timer_watermark(p->tm);
	return sl_timer_advance_processing_time(p->tm, now);
}

int
sl_process_snapshot_begin(struct sl_process *p)
{
	int rc;

	if (p->snap != NULL)
		return -EBUSY;
	rc = sl_state_snapshot_begin(p->st, p->now, &p->snap);
	if (rc < 0)
		p->snap = NULL;
	return rc < 0 ? rc : 0;
}

void
sl_process_snapshot_end(struct sl_process *p)
{
	if (p->snap == NULL)
		return;
	sl_state_snapshot_end(p->st, p->snap);
	p->snap = NULL;
}

int
sl_process_restore_done(struct sl_process *p)
{
	int rc = sl_timer_rebuild(p->tm);

	return rc < 0 ? rc : 0;
}

uint64_t
sl_process_timers(const struct sl_process *p, enum sluice_time dom)
{
	return p->tm != NULL ? sl_timer_count(p->tm, (enum sl_timer_domain)dom) : 0;
}
