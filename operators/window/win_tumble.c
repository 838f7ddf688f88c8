/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Keyed tumbling event-time window with incremental aggregates. The hot
 * path is sl_win_process(): one pass computes each row's window, drops late
 * rows and gathers keys and aggregate inputs; then the state backend
 * hashes the whole vector, prefetches every row's bucket and applies the
 * adds, by which time the buckets are in cache.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "sl_agg.h"
#include "sl_kg.h"
#include "sl_timer.h"
#include "sl_window.h"
#include "win_private.h"

enum acc_kind { ACC_INT, ACC_UINT, ACC_F64 };

struct sl_win_acc {
	enum sl_win_agg_fn fn;
	enum acc_kind kind;
	const struct sl_field *in;	/* NULL for count */
	const struct sl_field *out;
	uint32_t slot;			/* byte offset in the entry value */
	struct sl_agg_fn fa;		/* count_distinct, approx: the library's */
	int map_id;			/* count_distinct: its values' map state */
	uint16_t cd;			/* count_distinct: its index among them */
	/* first/last of a session: the slot is {value, arrival sequence},
	 * so a merge keeps the earliest (first) or latest (last) row */
	bool seq;
	const struct sluice_fn *ufn;	/* udf */
	void *uself;
};

/* Per-vector scratch and what init works out once for the hot path. */
struct win_scratch {
	uint64_t kg_magic;	/* hash % max_parallelism without a divide */
	int32_t key_off;	/* key bytes contiguous in the row here; -1: gather */
	bool count_only;	/* no aggregate reads an input field */
	/* rocksdb: rows go in as merge operands, no read (win_pass_merge) */
	bool blind;
	bool common;		/* 8-byte time field and key_off >= 0 */
	bool kg_pow2;		/* max parallelism a power of two (Flink: 128) */
	uint32_t n_pass;	/* windows a row can be in: 1, or ceil(size / slide) */
	uint64_t silent;	/* rows a sliding window skips without a count */
	/* Runs of refs [lf_lo, lf_hi) into windows that may have fired
	 * (allowed lateness): each row there fires its window again. */
	uint16_t n_lf;
	uint16_t lf_lo[SL_VEC_MAX], lf_hi[SL_VEC_MAX];
	/* Rows whose key's window needs its first continuous firing set,
	 * after the state's release (timers live in the same state). */
	uint16_t n_ct;
	uint16_t ct_j[SL_VEC_MAX];
	int64_t ct_ts[SL_VEC_MAX];
	uint16_t sel_save[SL_VEC_MAX];	/* win_process_restored */
	uint8_t sel_done[SL_VEC_MAX];
	struct sl_state_ref ref[SL_VEC_MAX];
	int64_t start[SL_VEC_MAX];	/* each row's namespace */
	uint16_t row[SL_VEC_MAX];
	uint8_t *val[SL_VEC_MAX];
	uint8_t created[SL_VEC_MAX];
	/* count_distinct: whether row j's value was new to its window, per
	 * aggregate ([j * SL_WIN_MAX_AGGS + cd]), found before the adds */
	uint8_t cd_new[SL_VEC_MAX * SL_WIN_MAX_AGGS];
	struct sl_state_ref mref[SL_VEC_MAX];	/* refs hashed for the maps */
	uint8_t keys[SL_VEC_MAX * WIN_MAX_KEY_BYTES];
	const uint8_t *opp[SL_VEC_MAX];
	uint8_t ops[SL_VEC_MAX * (8 + 8 * SL_WIN_MAX_AGGS)];
};

/*
 * What the state's merge needs to fold two accumulators, copied into the
 * state (sl_state_desc.merge_ctx): rocksdb may merge on its own threads
 * after this window is gone.
 */
struct win_mctx {
	uint16_t n_acc;
	struct sl_win_acc acc[SL_WIN_MAX_AGGS];
};

static void win_state_merge(void *dst, const void *src, void *ctx);

static enum acc_kind
kind_of(const struct sl_field *f)
{
	if (f->type == SL_T_F64)
		return ACC_F64;
	return f->type == SL_T_U64 ? ACC_UINT : ACC_INT;
}

static inline bool
is_distinct(enum sl_win_agg_fn fn)
{
	return fn == SL_WIN_COUNT_DISTINCT || fn == SL_WIN_APPROX_COUNT_DISTINCT;
}

static bool
win_has_distinct(const struct sl_win *w)
{
	for (uint16_t a = 0; a < w->n_acc; a++)
		if (is_distinct(w->acc[a].fn))
			return true;
	return false;
}

static bool
win_has_udf(const struct sl_win *w)
{
	for (uint16_t a = 0; a < w->n_acc; a++)
		if (w->acc[a].fn == SL_WIN_UDF)
			return true;
	return false;
}

/* Bytes of an aggregate's slot in the accumulator. */
static uint32_t
agg_slot_size(const struct sl_win_agg *g, int64_t gap)
{
	if (g->fn == SL_WIN_APPROX_COUNT_DISTINCT)
		return 1u << (g->hll_p == 0 ? SL_AGG_HLL_P_DEFAULT : g->hll_p);
	/* A session's first/last also keeps its row's arrival sequence. */
	if (gap > 0 && (g->fn == SL_WIN_FIRST || g->fn == SL_WIN_LAST))
		return 16;
	if (g->fn == SL_WIN_UDF)
		return (g->ufn->acc_size + 7u) & ~7u;
	/* count() is the header's row count: no slot of its own */
	if (g->fn == SL_WIN_COUNT)
		return 0;
	return 8;
}

/* A user aggregate's result column type; -1 when it cannot be one. */
static int
udf_out_type(const struct sluice_fn *f)
{
	return f->agg_type <= SLUICE_TS && f->agg_type != SLUICE_BOOL ?
	       (int)f->agg_type : -1;
}

int
sl_win_conf_check(const struct sl_win_conf *c, struct sl_schema *out,
		  char *msg, size_t msglen)
{
	uint32_t key_bytes = 0, acc_bytes = 8;
	int rc;

	/* a session's trigger state after the aggregates (sl_win_init) */
	if (c->gap > 0)
		acc_bytes += c->count_trigger != 0 ? 8 : c->continuous != 0 ? 16 : 0;

	/* EventTimeSessionWindows.withGap(g): g > 0 and nothing else; Flink
	 * has no offset for sessions. The triggers' state merges (see
	 * sl_win_conf.gap). */
	if (c->gap < 0 ||
	    (c->gap > 0 && (c->size != 0 || c->slide != 0 || c->offset != 0))) {
		snprintf(msg, msglen, "session window needs a gap > 0 and no size, slide or offset");
		return -EINVAL;
	}
	if (c->gap == 0 && c->slide == 0 &&
	    (c->size <= 0 || c->offset <= -c->size || c->offset >= c->size)) {
		snprintf(msg, msglen, "tumbling window needs size > 0 and |offset| < size");
		return -EINVAL;
	}
	/* R2.4; Flink allows size/slide up to 10^7, but here every window
	 * of a row is a state access, so a row's windows are capped. */
	if (c->slide != 0 &&
	    (c->size <= 0 || c->slide <= 0 || c->offset <= -c->slide ||
	     c->offset >= c->slide ||
	     (c->slide < c->size && (c->size - 1) / c->slide + 1 > SL_WIN_MAX_PANES))) {
		snprintf(msg, msglen, "sliding window needs size > 0, slide > 0, |offset| < slide and size / slide <= %d",
			 SL_WIN_MAX_PANES);
		return -EINVAL;
	}
	if (c->lateness < 0) {
		snprintf(msg, msglen, "allowed lateness must be >= 0");
		return -EINVAL;
	}
	/* Tumbling/Sliding/SessionProcessingTimeWindows (R4.1): never
	 * late. A count trigger or ContinuousProcessingTimeTrigger may
	 * replace ProcessingTimeTrigger. */
	if (c->processing_time && c->lateness != 0) {
		snprintf(msg, msglen, "a processing-time window has no allowed lateness");
		return -EINVAL;
	}
	if (c->continuous < 0 || (c->continuous > 0 && c->count_trigger != 0)) {
		snprintf(msg, msglen, "a window has one trigger: count or continuous, with an interval > 0");
		return -EINVAL;
	}
	if (c->purge && (c->gap != 0 || c->continuous != 0)) {
		snprintf(msg, msglen, "a purging trigger is for tumbling and sliding windows with the event-time or a count trigger");
		return -EINVAL;
	}
	if (c->n_keys == 0 || c->n_keys > SL_WIN_MAX_KEYS || c->n_aggs == 0 ||
	    c->n_aggs > SL_WIN_MAX_AGGS || c->capacity == 0 ||
	    c->max_parallelism == 0 || c->first_kg > c->last_kg ||
	    c->last_kg >= c->max_parallelism) {
		snprintf(msg, msglen, "window needs 1..%d keys, 1..%d aggregates, a capacity and a key-group range",
			 SL_WIN_MAX_KEYS, SL_WIN_MAX_AGGS);
		return -EINVAL;
	}
	sl_schema_init(out);
	for (uint16_t k = 0; k < c->n_keys; k++) {
		const struct sl_field *f = &c->in->f[c->key_field[k]];

		key_bytes += f->size;
		rc = sl_schema_add(out, f->name, f->type,
				   f->type == SL_T_STR ? f->size : 0);
		if (rc < 0) {
			snprintf(msg, msglen, "key field '%s' given twice", f->name);
			return -EINVAL;
		}
	}
	if (key_bytes > WIN_MAX_KEY_BYTES) {
		snprintf(msg, msglen, "key fields take %u bytes; at most %d",
			 key_bytes, WIN_MAX_KEY_BYTES);
		return -EINVAL;
	}
	if (sl_schema_add(out, "window_start", SL_T_TS, 0) < 0 ||
	    sl_schema_add(out, "window_end", SL_T_TS, 0) < 0) {
		snprintf(msg, msglen, "a key field may not be called window_start or window_end");
		return -EINVAL;
	}
	for (uint16_t a = 0; a < c->n_aggs; a++) {
		const struct sl_win_agg *g = &c->agg[a];
		const struct sl_field *in = g->field >= 0 ? &c->in->f[g->field] : NULL;
		enum sl_type t;

		if (g->fn == SL_WIN_UDF) {
			if (g->ufn == NULL || g->ufn->kind != SLUICE_FN_AGGREGATE ||
			    g->ufn->agg_add == NULL || g->ufn->agg_result == NULL ||
			    g->ufn->agg_merge == NULL || g->ufn->acc_size == 0 ||
			    g->ufn->acc_size > SL_WIN_ACC_MAX || udf_out_type(g->ufn) < 0) {
				snprintf(msg, msglen, "aggregate '%s': a user aggregate needs acc_size 1..%u, agg_add, agg_merge, agg_result and an agg_type of i64, u64, i32, u32, f64 or timestamp",
					 g->name, SL_WIN_ACC_MAX);
				return -EINVAL;
			}
			if (c->count_trigger != 0 || c->continuous != 0) {
				snprintf(msg, msglen, "aggregate '%s': user aggregates are not supported with a count or continuous trigger yet",
					 g->name);
				return -EINVAL;
			}
		} else if (g->fn != SL_WIN_COUNT && in == NULL) {
			snprintf(msg, msglen, "aggregate '%s' needs a field", g->name);
			return -EINVAL;
		}
		if (g->fn != SL_WIN_COUNT && g->fn != SL_WIN_UDF && !is_distinct(g->fn) &&
		    (in->type == SL_T_STR || in->type == SL_T_BOOL)) {
			snprintf(msg, msglen, "aggregate '%s' needs a numeric field", g->name);
			return -EINVAL;
		}
		if (g->fn == SL_WIN_COUNT_DISTINCT && c->purge) {
			/* its values are state beside the accumulator, which a
			 * firing in the middle of a vector cannot drop safely */
			snprintf(msg, msglen, "aggregate '%s': count_distinct is not supported with a purging trigger; use approx_count_distinct",
				 g->name);
			return -EINVAL;
		}
		if (g->fn == SL_WIN_APPROX_COUNT_DISTINCT && g->hll_p != 0 &&
		    (g->hll_p < 4 || g->hll_p > 16)) {
			snprintf(msg, msglen, "aggregate '%s': HyperLogLog precision must be 4..16, got %u",
				 g->name, g->hll_p);
			return -EINVAL;
		}
		acc_bytes += agg_slot_size(g, c->gap);
		if (acc_bytes > SL_WIN_ACC_MAX) {
			snprintf(msg, msglen, "aggregate '%s': the accumulators take more than %u bytes per key and window; lower approx_count_distinct's precision",
				 g->name, SL_WIN_ACC_MAX);
			return -EINVAL;
		}
		switch (g->fn) {
		case SL_WIN_COUNT:
		case SL_WIN_COUNT_DISTINCT:
		case SL_WIN_APPROX_COUNT_DISTINCT:
			t = SL_T_U64;
			break;
		case SL_WIN_SUM:
			t = kind_of(in) == ACC_F64 ? SL_T_F64 :
			    kind_of(in) == ACC_UINT ? SL_T_U64 : SL_T_I64;
			break;
		case SL_WIN_AVG:
			t = SL_T_F64;
			break;
		case SL_WIN_UDF:
			t = (enum sl_type)udf_out_type(g->ufn);
			break;
		default:
			t = in->type;
			break;
		}
		rc = sl_schema_add(out, g->name, t, 0);
		if (rc < 0) {
			snprintf(msg, msglen, "output column '%s' is not unique or not a valid name",
				 g->name);
			return -EINVAL;
		}
	}
	return 0;
}

static int ct_fire(void *arg, enum sl_timer_domain dom, uint16_t kg,
		   const void *key, const void *ns, int64_t ts);

uint32_t
win_acc_hint(const struct sl_win *w, uint32_t hint)
{
	/* Heap tables are slots of the accumulator's size, made whole per
	 * key group: with HyperLogLogs (16 KiB at p = 14) the usual hint
	 * would reserve gigabytes before the first row. Start those small;
	 * the tables grow with the keys. Plain accumulators (a count and
	 * 8-byte slots) keep the hint: growing a 10M-key table by doubling
	 * from a few thousand slots per key group cost the run and, worse,
	 * a restore (30 s at 10M keys instead of 2). */
	uint32_t cap = (64u << 10) / w->val_len;

	if (w->val_len <= 8 + 8 * SL_WIN_MAX_AGGS)
		return hint;
	return hint < cap ? hint : cap > 0 ? cap : 1;
}

/*
 * Until count() became the header's row count alone, each count() kept an
 * 8-byte slot it never wrote, where its acc->slot now points: a value of
 * that layout is today's with 8 bytes more at each count()'s offset.
 */
static void
win_acc_upgrade(const void *old, void *val, void *ctx)
{
	const struct sl_win *w = ctx;
	const uint8_t *o = old;
	uint8_t *v = val;
	uint32_t from = 0, skip = 0;

	for (uint16_t a = 0; a < w->n_acc; a++) {
		if (w->acc[a].fn != SL_WIN_COUNT)
			continue;
		memcpy(v + from, o + from + skip, w->acc[a].slot - from);
		from = w->acc[a].slot;
		skip += 8;
	}
	memcpy(v + from, o + from + skip, w->val_len - from);
}

void
win_acc_legacy(struct sl_win *w, struct sl_state_desc *d)
{
	uint32_t n = 0;

	for (uint16_t a = 0; a < w->n_acc; a++)
		n += w->acc[a].fn == SL_WIN_COUNT;
	d->old_val_len = n != 0 ? w->val_len + 8 * n : 0;
	d->upgrade = n != 0 ? win_acc_upgrade : NULL;
	d->ctx = w;
}

/* One map state per count_distinct, keyed as the accumulators. */
static int
win_cd_register(struct sl_win *w, uint16_t ns_len, uint32_t hint)
{
	for (uint16_t a = 0; a < w->n_acc; a++) {
		struct sl_win_acc *acc = &w->acc[a];
		struct sl_state_desc d;
		char name[32];
		int rc;

		if (acc->fn != SL_WIN_COUNT_DISTINCT)
			continue;
		snprintf(name, sizeof(name), "window.cd.%u", a);
		d = sl_agg_distinct_desc(name, (uint16_t)w->key_len, ns_len,
					 (uint16_t)acc->in->size);
		d.capacity_hint = hint;
		rc = sl_state_register(w->st, &d);
		if (rc < 0)
			return rc;
		acc->map_id = rc;
		acc->cd = w->n_cd++;
	}
	return 0;
}

/* The bytes a distinct aggregate sees of a row's field: f64 -0.0 as 0.0
 * (they are equal), everything else as stored. */
static inline const uint8_t *
cd_bytes(const struct sl_field *f, const uint8_t *row, uint8_t *buf)
{
	double x;

	if (f->type != SL_T_F64)
		return row + f->offset;
	x = sl_row_get_f64(row, f);
	if (x == 0)
		x = 0;
	memcpy(buf, &x, 8);
	return buf;
}

int
win_cd_add(struct sl_win *w, uint16_t a, const struct sl_state_ref *ref,
	   const uint8_t *row)
{
	const struct sl_win_acc *acc = &w->acc[a];
	uint64_t unused = 0;
	uint8_t buf[8];
	int rc;

	rc = sl_agg_distinct_add(&acc->fa, &unused, w->st, acc->map_id, ref,
				 cd_bytes(acc->in, row, buf));
	if (rc == -ENOMEM)
		w->stats.state_full_dropped++;
	else if (rc < 0)
		w->stats.state_errors++;
	return rc;
}

int
win_cd_map(const struct sl_win *w, uint16_t a)
{
	return w->acc[a].map_id;
}

uint16_t
win_cd_index(const struct sl_win *w, uint16_t a)
{
	return w->acc[a].cd;
}

void
win_cd_zero(const struct sl_win *w, uint8_t *val)
{
	for (uint16_t a = 0; a < w->n_acc; a++)
		if (w->acc[a].fn == SL_WIN_COUNT_DISTINCT)
			memset(val + w->acc[a].slot, 0, 8);
}

void
win_cd_clear(struct sl_win *w, uint16_t kg, const void *key, const void *ns)
{
	for (uint16_t a = 0; a < w->n_acc; a++) {
		struct sl_state_ref r = { .key = key, .ns = ns, .kg = kg };

		if (w->acc[a].fn != SL_WIN_COUNT_DISTINCT)
			continue;
		sl_state_hash_bulk(w->st, w->acc[a].map_id, &r, 1);
		if (sl_state_clear(w->st, w->acc[a].map_id, &r) < 0)
			w->stats.state_errors++;
	}
}

int
win_cd_merge(struct sl_win *w, uint16_t kg, const void *key, uint8_t *dst,
	     const void *dst_ns, const void *src_ns)
{
	for (uint16_t a = 0; a < w->n_acc; a++) {
		const struct sl_win_acc *acc = &w->acc[a];
		struct sl_state_ref d = { .key = key, .ns = dst_ns, .kg = kg };
		struct sl_state_ref s = { .key = key, .ns = src_ns, .kg = kg };
		int rc;

		if (acc->fn != SL_WIN_COUNT_DISTINCT)
			continue;
		sl_state_hash_bulk(w->st, acc->map_id, &d, 1);
		sl_state_hash_bulk(w->st, acc->map_id, &s, 1);
		rc = sl_agg_distinct_merge(&acc->fa, dst + acc->slot, w->st,
					   acc->map_id, &d, &s);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * count_distinct before the accumulators are taken (the map calls may not
 * come between sl_state_fixed_upsert_bulk and its release): each of the n
 * rows' values is looked up and, when new to its (key, window), put in
 * the aggregate's map; cd_new[] says which, for the adds.
 */
static void
win_cd_pass(struct sl_win *w, const struct sl_vec *v, uint16_t n)
{
	struct win_scratch *s = w->scratch;
	int first = -1;

	for (uint16_t a = 0; a < w->n_acc && first < 0; a++)
		if (w->acc[a].fn == SL_WIN_COUNT_DISTINCT)
			first = w->acc[a].map_id;
	memcpy(s->mref, s->ref, sizeof(s->ref[0]) * n);
	/* Every map has the accumulators' key and namespace lengths, so
	 * one hash serves them all. */
	sl_state_hash_bulk(w->st, first, s->mref, n);
	for (uint16_t j = 0; j < n; j++) {
		const uint8_t *row = sl_vec_crow(v, s->row[j]);

		for (uint16_t a = 0; a < w->n_acc; a++) {
			const struct sl_win_acc *acc = &w->acc[a];

			if (acc->fn == SL_WIN_COUNT_DISTINCT)
				s->cd_new[j * SL_WIN_MAX_AGGS + acc->cd] =
					win_cd_add(w, a, &s->mref[j], row) == 1;
		}
	}
}

int
sl_win_init(struct sl_win *w, const struct sl_win_conf *c, struct sl_state *st)
{
	struct win_mctx m;	/* sl_state_register() copies it */
	struct sl_state_desc d;
	char msg[128];
	uint32_t key_bytes = 0, n_kg;
	int rc;

	memset(w, 0, sizeof(*w));
	rc = sl_win_conf_check(c, &w->out, msg, sizeof(msg));
	if (rc < 0)
		return rc;
	w->conf = *c;
	w->wm = SL_TS_MIN;
	w->st = st;
	for (uint16_t k = 0; k < c->n_keys; k++)
		key_bytes += c->in->f[c->key_field[k]].size;
	w->key_len = key_bytes;
	w->n_acc = c->n_aggs;
	w->acc = calloc(c->n_aggs, sizeof(*w->acc));
	w->scratch = calloc(1, sizeof(*w->scratch));
	if (w->acc == NULL || w->scratch == NULL) {
		sl_win_fini(w);
		return -ENOMEM;
	}
	w->rwm_max = SL_TS_MIN;
	/* Sessions judge a restored key group's rows by its checkpoint's
	 * watermark even without lateness: a row late there must not open
	 * a session that never existed without the failure. */
	if (c->lateness > 0 || c->gap > 0 || c->restore_wm) {
		w->rwm = malloc(sizeof(*w->rwm) * (c->last_kg - c->first_kg + 1));
		if (w->rwm == NULL) {
			sl_win_fini(w);
			return -ENOMEM;
		}
		for (uint32_t k = 0; k <= c->last_kg - c->first_kg; k++)
			w->rwm[k] = SL_TS_MIN;
	}
	for (uint16_t a = 0; a < c->n_aggs; a++) {
		struct sl_win_acc *acc = &w->acc[a];

		acc->fn = c->agg[a].fn;
		acc->in = c->agg[a].field >= 0 ? &c->in->f[c->agg[a].field] : NULL;
		acc->kind = acc->in ? kind_of(acc->in) : ACC_INT;
		acc->out = &w->out.f[c->n_keys + 2 + a];
		acc->slot = w->val_len == 0 ? 8 : w->val_len;
		w->val_len = acc->slot + agg_slot_size(&c->agg[a], c->gap);
		acc->seq = c->gap > 0 && (acc->fn == SL_WIN_FIRST || acc->fn == SL_WIN_LAST);
		acc->map_id = -1;
		acc->ufn = c->agg[a].ufn;
		acc->uself = c->agg[a].uself;
		if (is_distinct(acc->fn)) {
			acc->fa.kind = acc->fn == SL_WIN_COUNT_DISTINCT ?
				SL_AGG_COUNT_DISTINCT : SL_AGG_APPROX_COUNT_DISTINCT;
			acc->fa.type = SL_AGG_U64;
			acc->fa.hll_p = c->agg[a].hll_p;
			acc->fa.item_len = acc->in->size;
		}
	}
	/* A session's trigger state follows the aggregates, merged when
	 * sessions merge (Trigger.onMerge): the count trigger's rows since
	 * the last firing (a sum), the continuous trigger's next firing
	 * {set, time} (the earliest). win_acc_* never look past their slots. */
	if (c->gap > 0)
		w->val_len += c->count_trigger != 0 ? 8 : c->continuous != 0 ? 16 : 0;
	n_kg = c->last_kg - c->first_kg + 1;
	w->vbuf = malloc(3 * (size_t)w->val_len);
	if (w->vbuf == NULL) {
		sl_win_fini(w);
		return -ENOMEM;
	}
	rc = win_cd_register(w, c->gap > 0 ? 16 : 8, (c->capacity + n_kg - 1) / n_kg);
	if (rc < 0) {
		sl_win_fini(w);
		return rc;
	}
	if (c->gap > 0) {
		/* Sessions keep their own descriptors and timers. */
		w->sid = -1;
		rc = win_sess_init(w);
		if (rc < 0)
			sl_win_fini(w);
		return rc;
	}
	memset(&d, 0, sizeof(d));
	d.name = "window";
	/* Value state updated in place (sl_state_fixed_acquire_bulk): the
	 * window applies its accumulators itself, without a callback per row. */
	d.kind = SL_STATE_VALUE;
	d.key_len = (uint16_t)key_bytes;
	d.ns_len = 8;
	d.val_len = w->val_len;
	d.capacity_hint = win_acc_hint(w, (c->capacity + n_kg - 1) / n_kg);
	win_acc_legacy(w, &d);
	/* Where a merge costs no read (rocksdb), rows that need nothing of
	 * their window's old value go in as merge operands. Count and
	 * continuous triggers read it or need to know it is new, and so
	 * does count_distinct (its map says whether a value is new); a
	 * HyperLogLog operand a row would cost more than the read. */
	if (sl_state_merge_is_blind(st) && c->count_trigger == 0 &&
	    c->continuous == 0 && !win_has_distinct(w) && !win_has_udf(w) &&
	    w->val_len <= 8 + 8 * SL_WIN_MAX_AGGS) {
		memset(&m, 0, sizeof(m));
		m.n_acc = w->n_acc;
		memcpy(m.acc, w->acc, sizeof(m.acc[0]) * w->n_acc);
		d.merge = win_state_merge;
		d.merge_ctx = &m;
		d.merge_ctx_len = sizeof(m);
		w->scratch->blind = true;
	}
	rc = sl_state_register(st, &d);
	if (rc < 0) {
		sl_win_fini(w);
		return rc;
	}
	w->sid = rc;
	if (c->continuous > 0) {
		struct sl_timer_conf tc = {
			.name = "window.ct",
			.key_len = (uint16_t)key_bytes,
			.ns_len = 8,
			.first_kg = c->first_kg,
			.last_kg = c->last_kg,
			.capacity_hint = (c->capacity + n_kg - 1) / n_kg,
			.fire = ct_fire,
			.arg = w,
		};

		w->ct = sl_timer_create(st, &tc);
		if (w->ct == NULL) {
			rc = -errno;
			sl_win_fini(w);
			return rc;
		}
	}
	/* Lemire's fastmod: exact for every 32-bit hash and divisor. */
	w->scratch->kg_magic = UINT64_MAX / c->max_parallelism + 1;
	w->scratch->kg_pow2 = (c->max_parallelism & (c->max_parallelism - 1)) == 0;
	w->scratch->n_pass = c->slide == 0 || c->slide >= c->size ? 1u :
		(uint32_t)((c->size - 1) / c->slide + 1);
	w->scratch->key_off = (int32_t)c->in->f[c->key_field[0]].offset;
	for (uint16_t k = 1; k < c->n_keys; k++) {
		const struct sl_field *p = &c->in->f[c->key_field[k - 1]];

		if (c->in->f[c->key_field[k]].offset != p->offset + p->size)
			w->scratch->key_off = -1;
	}
	w->scratch->common = w->scratch->key_off >= 0 &&
			     c->in->f[c->ts_field].size == 8;
	w->scratch->count_only = true;
	for (uint16_t a = 0; a < c->n_aggs; a++)
		if (w->acc[a].in != NULL || w->acc[a].fn == SL_WIN_UDF)
			w->scratch->count_only = false;
	return 0;
}

void
sl_win_fini(struct sl_win *w)
{
	free(w->acc);
	free(w->scratch);
	free(w->rwm);
	free(w->vbuf);
	sl_timer_destroy(w->ct);
	win_sess_fini(w);
	w->acc = NULL;
	w->scratch = NULL;
	w->rwm = NULL;
	w->vbuf = NULL;
	w->ct = NULL;
}

void
sl_win_set_output(struct sl_win *w, sl_win_out_fn out, void *ctx)
{
	w->late_out = out;
	w->late_ctx = ctx;
}

void
sl_win_set_late_rows(struct sl_win *w, sl_win_late_fn fn, void *ctx)
{
	w->late_row = fn;
	w->late_row_ctx = ctx;
}


/* Index of the open window starting at start, opening it if needed. */
int
win_open(struct sl_win *w, int64_t start)
{
	uint16_t lo = 0, hi = w->n_open;

	while (lo < hi) {
		uint16_t mid = (uint16_t)((lo + hi) / 2);

		if (w->open_start[mid] < start)
			lo = (uint16_t)(mid + 1);
		else
			hi = mid;
	}
	if (lo < w->n_open && w->open_start[lo] == start)
		return lo;
	if (w->n_open == SL_WIN_MAX_OPEN)
		return -1;
	memmove(&w->open_start[lo + 1], &w->open_start[lo],
		sizeof(w->open_start[0]) * (w->n_open - lo));
	w->open_start[lo] = start;
	w->n_open++;
	return lo;
}

static inline void
acc_update(const struct sl_win_acc *acc, uint8_t *val, const uint8_t *in,
	   bool created)
{
	uint8_t *slot = val + acc->slot;

	if (acc->fn == SL_WIN_COUNT)
		return;
	/* The value as it came, whatever its type. */
	if (acc->fn == SL_WIN_FIRST || acc->fn == SL_WIN_LAST) {
		if (created || acc->fn == SL_WIN_LAST)
			memcpy(slot, in, 8);
		return;
	}
	if (acc->kind == ACC_F64) {
		double x, cur;

		memcpy(&x, in, 8);
		memcpy(&cur, slot, 8);
		switch (acc->fn) {
		case SL_WIN_MIN:
			cur = created || x < cur ? x : cur;
			break;
		case SL_WIN_MAX:
			cur = created || x > cur ? x : cur;
			break;
		default:
			cur += x;
			break;
		}
		memcpy(slot, &cur, 8);
		return;
	}
	{
		int64_t x, cur;
		bool lt, gt;

		memcpy(&x, in, 8);
		memcpy(&cur, slot, 8);
		if (acc->kind == ACC_UINT) {
			lt = (uint64_t)x < (uint64_t)cur;
			gt = (uint64_t)x > (uint64_t)cur;
		} else {
			lt = x < cur;
			gt = x > cur;
		}
		switch (acc->fn) {
		case SL_WIN_MIN:
			cur = created || lt ? x : cur;
			break;
		case SL_WIN_MAX:
			cur = created || gt ? x : cur;
			break;
		default:
			/* Wrap like Java's long instead of overflowing. */
			cur = (int64_t)((uint64_t)cur + (uint64_t)x);
			break;
		}
		memcpy(slot, &cur, 8);
	}
}

/* A distinct aggregate's part of a row: count_distinct counts the value
 * if win_cd_pass found it new; the HyperLogLog hashes it. */
static void
acc_distinct(const struct sl_win_acc *acc, uint8_t *val, const uint8_t *row,
	     const uint8_t *cd_new)
{
	uint8_t *slot = val + acc->slot, buf[8];
	uint64_t n;

	if (acc->fn == SL_WIN_APPROX_COUNT_DISTINCT) {
		sl_agg_add_bytes(&acc->fa, slot, cd_bytes(acc->in, row, buf),
				 acc->in->size);
		return;
	}
	if (cd_new == NULL || !cd_new[acc->cd])
		return;
	memcpy(&n, slot, 8);
	n++;
	memcpy(slot, &n, 8);
}

/* One row into its accumulator; the first row of a (key, window) finds
 * count 0. cd_new: the row's win_cd_pass flags (NULL: none). */
static inline void
win_acc_row(const struct sl_win *w, uint8_t *val, const uint8_t *row,
	    const uint8_t *cd_new)
{
	int64_t cnt;

	memcpy(&cnt, val, 8);
	for (uint16_t a = 0; a < w->n_acc; a++) {
		const struct sl_win_acc *acc = &w->acc[a];
		uint8_t in[8];

		if (acc->fn == SL_WIN_UDF) {
			/* A new window's accumulator is zeroed: create it. */
			if (cnt == 0 && acc->ufn->agg_create != NULL)
				acc->ufn->agg_create(acc->uself, val + acc->slot);
			acc->ufn->agg_add(acc->uself, val + acc->slot, row);
			continue;
		}
		if (acc->in == NULL)
			continue;
		if (is_distinct(acc->fn)) {
			acc_distinct(acc, val, row, cd_new);
			continue;
		}
		if (acc->kind == ACC_F64) {
			double x = sl_row_get_f64(row, acc->in);

			memcpy(in, &x, 8);
		} else {
			int64_t x = sl_row_get_int(row, acc->in);

			memcpy(in, &x, 8);
		}
		acc_update(acc, val, in, cnt == 0);
	}
	cnt++;
	memcpy(val, &cnt, 8);
}

void
win_acc_add(const struct sl_win *w, uint8_t *val, const uint8_t *row,
	    const uint8_t *cd_new)
{
	win_acc_row(w, val, row, cd_new);
}

void
win_acc_stamp(const struct sl_win *w, uint8_t *val, uint64_t seq, bool created)
{
	for (uint16_t a = 0; a < w->n_acc; a++) {
		const struct sl_win_acc *acc = &w->acc[a];

		if (acc->seq && (created || acc->fn == SL_WIN_LAST))
			memcpy(val + acc->slot + 8, &seq, 8);
	}
}

uint64_t
win_acc_seq_max(const struct sl_win *w, const uint8_t *val)
{
	uint64_t m = 0, q;

	for (uint16_t a = 0; a < w->n_acc; a++) {
		if (!w->acc[a].seq)
			continue;
		memcpy(&q, val + w->acc[a].slot + 8, 8);
		m = q > m ? q : m;
	}
	return m;
}

bool
win_acc_has_seq(const struct sl_win *w)
{
	for (uint16_t a = 0; a < w->n_acc; a++)
		if (w->acc[a].seq)
			return true;
	return false;
}

static void
acc_merge(const struct sl_win_acc *accs, uint16_t n_acc, uint8_t *dst,
	  const uint8_t *src)
{
	int64_t cd, cs;

	memcpy(&cd, dst, 8);
	memcpy(&cs, src, 8);
	for (uint16_t a = 0; a < n_acc; a++) {
		const struct sl_win_acc *acc = &accs[a];

		/* count lives in the header; avg's slot is a sum. Merging
		 * is adding the other slot as one more input, min/max
		 * and sums alike (the slots hold no nulls: both sides
		 * have rows); first keeps dst's, last takes src's, so
		 * dst must be the older side. */
		if (acc->fn == SL_WIN_APPROX_COUNT_DISTINCT) {
			sl_agg_merge(&acc->fa, dst + acc->slot, src + acc->slot);
		} else if (acc->fn == SL_WIN_UDF) {
			acc->ufn->agg_merge(acc->uself, dst + acc->slot, src + acc->slot);
		} else if (acc->seq) {
			uint64_t qd, qs;

			/* sessions: the earlier first row, the later last */
			memcpy(&qd, dst + acc->slot + 8, 8);
			memcpy(&qs, src + acc->slot + 8, 8);
			if (acc->fn == SL_WIN_FIRST ? qs < qd : qs > qd)
				memcpy(dst + acc->slot, src + acc->slot, 16);
		} else if (acc->fn != SL_WIN_COUNT && acc->fn != SL_WIN_COUNT_DISTINCT) {
			acc_update(acc, dst, src + acc->slot, false);
		}
	}
	cd = (int64_t)((uint64_t)cd + (uint64_t)cs);
	memcpy(dst, &cd, 8);
}

void
win_acc_merge(const struct sl_win *w, uint8_t *dst, const uint8_t *src)
{
	acc_merge(w->acc, w->n_acc, dst, src);
}

/* sl_state_desc.merge: the state folds an older entry and a newer one. */
static void
win_state_merge(void *dst, const void *src, void *ctx)
{
	const struct win_mctx *m = ctx;

	acc_merge(m->acc, m->n_acc, dst, src);
}

/* sl_kg_of(), with the division replaced by two multiplies. */
static inline uint32_t
kg_fast(uint32_t hash, uint64_t magic, uint32_t maxp)
{
	return (uint32_t)(((unsigned __int128)(magic * hash) * maxp) >> 64);
}

/* The window the rows being gathered fall in. */
struct win_cur {
	int64_t start, max_ts;		/* times of the run; start > max_ts: none yet */
	int64_t last_start;		/* of the last window opened */
	const int64_t *ns;		/* start, where the refs point */
	uint64_t *drop;			/* the counter of its rows, if dropped */
	uint16_t n_ns;
	bool have_last;
	bool lf;			/* the window may have fired (lateness) */
};

/* a + b, or MAX past it: a window whose end is past MAX never fires. */
static inline int64_t
sat_add(int64_t a, int64_t b)
{
	int64_t r;

	return __builtin_add_overflow(a, b, &r) ? SL_TS_MAX : r;
}

/*
 * A row outside the current window: its window, the late check and the
 * lookup of the open window. Out of line, so the per-row loop keeps its
 * registers: rows of a vector mostly share a window.
 */
static __attribute__((noinline)) void
win_enter(struct sl_win *w, int64_t ts, uint32_t pass, struct win_cur *k)
{
	const struct sl_win_conf *c = &w->conf;
	struct win_scratch *s = w->scratch;
	int64_t start, wmax, lw;
	/* Rows with ts <= lw are late (ts + L <= WM, R3.1); none when
	 * WM - L is below the range. */
	const bool any_late = !__builtin_sub_overflow(w->wm, c->lateness, &lw);

	k->drop = NULL;
	k->lf = false;
	if (c->slide == 0) {
		start = k->start = sl_window_start(ts, c->offset, c->size);
		/* end - 1, saturating: a window that reaches past MAX can
		 * never be late. */
		if (__builtin_add_overflow(start, c->size - 1, &k->max_ts))
			k->max_ts = SL_TS_MAX;
		wmax = k->max_ts;
	} else {
		/*
		 * R2.4: the row's windows start at its slide's start ("pane")
		 * and every slide below, while start > ts - size; pass p is
		 * the p-th of them. The run is the part of the pane whose
		 * rows share this pass's window, or its absence.
		 */
		int64_t pane = sl_window_start(ts, c->offset, c->slide), pend;

		if (__builtin_add_overflow(pane, c->slide - 1, &pend))
			pend = SL_TS_MAX;
		if (__builtin_sub_overflow(pane, (int64_t)pass * c->slide, &start) ||
		    __builtin_add_overflow(start, c->size - 1, &wmax))
			wmax = pane < 0 ? SL_TS_MIN : SL_TS_MAX;
		if (ts > wmax) {
			/* Not in this window (start <= ts - size). Pass 0 is the
			 * row's newest window: a row in none of them is dropped
			 * as late if it is late, else silently (R3.2). */
			k->start = wmax + 1 > pane ? wmax + 1 : pane;
			k->max_ts = pend;
			k->drop = &s->silent;
			if (pass == 0 && any_late && ts <= lw) {
				k->max_ts = pend < lw ? pend : lw;
				k->drop = &w->stats.late_dropped;
			} else if (pass == 0 && any_late && lw >= k->start) {
				k->start = lw + 1;
			}
			return;
		}
		k->start = pane;
		k->max_ts = pend < wmax ? pend : wmax;
	}
	if (sat_add(wmax, c->lateness) <= w->wm) {
		/* A late window (R3.1). Pass 0's is the row's last one: then
		 * the row is in none, and counted; later passes skip it
		 * silently. */
		k->drop = pass == 0 ? &w->stats.late_dropped : &s->silent;
		return;
	}
	/* Fired and kept for lateness, here or before a restore; with a
	 * count trigger any row may fire its window, and with a continuous
	 * one a key's first row sets its first early firing. */
	k->lf = wmax <= w->wm || (w->rwm != NULL && wmax <= w->rwm_max) ||
		c->count_trigger != 0 || c->continuous != 0;
	if (!k->have_last || start != k->last_start) {
		k->have_last = win_open(w, start) >= 0;
		k->last_start = start;
		if (!k->have_last) {
			k->drop = &w->stats.state_full_dropped;
			return;
		}
	}
	s->start[k->n_ns] = start;
	k->ns = &s->start[k->n_ns++];
}

static inline __attribute__((always_inline)) int64_t
win_ts(const uint8_t *row, const struct sl_field *tsf, uint16_t ts_off,
       const bool common)
{
	int64_t ts;

	if (!common)
		return sl_row_ts(row, tsf);
	memcpy(&ts, row + ts_off, 8);
	return ts;
}

/* A run of rows dropped from j on, counted in *drop; the late ones (not
 * those of a full state or a gap) also to the side output. @return the
 * index after the run. */
static __attribute__((noinline)) uint16_t
win_drop_run(struct sl_win *w, const struct sl_vec *v, uint16_t j,
	     const struct win_cur *k, const bool common)
{
	const struct sl_field *tsf = &w->conf.in->f[w->conf.ts_field];
	const bool side = k->drop == &w->stats.late_dropped && w->late_row != NULL;

	for (; j < v->n_sel; j++) {
		const uint8_t *row = v->rows + (size_t)v->sel[j] * v->row_size;
		const int64_t ts = win_ts(row, tsf, tsf->offset, common);

		if (ts < k->start || ts > k->max_ts)
			break;
		(*k->drop)++;
		if (side)
			w->late_row(w->late_row_ctx, row);
	}
	return j;
}


/*
 * Pass 1 of sl_win_process(): each selected row's state address, into
 * s->ref[], by runs of rows in one window. @return rows kept. Inlined for
 * the common row (8-byte time field, key bytes contiguous: read in place)
 * and a power-of-two max parallelism (the key group is a mask), without
 * the branches for the others.
 */
static inline __attribute__((always_inline)) uint16_t
win_refs(struct sl_win *w, const struct sl_vec *v, uint32_t pass,
	 const bool common, const bool pow2)
{
	const struct sl_win_conf *c = &w->conf;
	const struct sl_field *tsf = &c->in->f[c->ts_field];
	struct win_scratch *s = w->scratch;
	const uint64_t magic = s->kg_magic;
	const uint32_t maxp = c->max_parallelism;
	const int32_t key_off = s->key_off;
	const uint16_t ts_off = tsf->offset, row_size = v->row_size;
	const uint16_t n_sel = v->n_sel;
	struct win_cur k = { .start = 1, .max_ts = 0 };
	uint16_t n = 0, j = 0;

	while (j < n_sel) {
		uint16_t i = v->sel[j];
		const uint8_t *row = v->rows + (size_t)i * row_size;
		int64_t ts = win_ts(row, tsf, ts_off, common), start, max_ts;
		const int64_t *ns;

		if (ts < k.start || ts > k.max_ts)
			win_enter(w, ts, pass, &k);
		start = k.start;
		max_ts = k.max_ts;
		/* Row j is the window's whatever its time: near the ends of
		 * the range, Java's wrapping start can lie above ts. */
		if (__builtin_expect(k.drop != NULL, 0)) {
			/* Row j is the run's whatever its time (above). */
			(*k.drop)++;
			if (k.drop == &w->stats.late_dropped && w->late_row != NULL)
				w->late_row(w->late_row_ctx, row);
			j = win_drop_run(w, v, (uint16_t)(j + 1), &k, common);
			continue;
		}
		ns = k.ns;
		const uint16_t n0 = n;

		for (;;) {
			struct sl_state_ref *r = &s->ref[n];

			if (common) {
				r->key = row + key_off;
			} else {
				uint8_t *key = &s->keys[(size_t)n * WIN_MAX_KEY_BYTES];

				sl_win_key_gather(c->in, c->key_field, c->n_keys,
						  row, key);
				r->key = key;
			}
			r->ns = ns;
			r->kg = (uint16_t)(pow2 ? v->hash[i] & (maxp - 1) :
					   kg_fast(v->hash[i], magic, maxp));
			s->row[n] = i;
			n++;
			if (++j == n_sel)
				break;
			i = v->sel[j];
			row = v->rows + (size_t)i * row_size;
			ts = win_ts(row, tsf, ts_off, common);
			if (ts < start || ts > max_ts)
				break;
		}
		if (__builtin_expect(k.lf, 0)) {
			s->lf_lo[s->n_lf] = n0;
			s->lf_hi[s->n_lf++] = n;
		}
	}
	return n;
}

/*
 * Pass 1 for processing-time windows (R4.1): every row of the vector
 * arrives at w->now, so all of them share this pass's window and the
 * record's time is not read. None is late: the window's end - 1 is at or
 * after now, and w->wm (the last firing's now - 1) is below now. Dropped
 * are only all of them, in a sliding window's gap (slide > size) or when
 * the open-window list is full. @return rows kept.
 */
static uint16_t
win_refs_ptime(struct sl_win *w, const struct sl_vec *v, uint32_t pass)
{
	const struct sl_win_conf *c = &w->conf;
	struct win_scratch *s = w->scratch;
	const uint32_t maxp = c->max_parallelism;
	const uint16_t n_sel = v->n_sel;
	struct win_cur k = { .start = 1, .max_ts = 0 };

	win_enter(w, w->now, pass, &k);
	if (k.drop != NULL) {
		*k.drop += n_sel;
		return 0;
	}
	/* A count or continuous trigger: any row may fire its window, or
	 * set its key's first early firing. */
	if (k.lf) {
		s->lf_lo[0] = 0;
		s->lf_hi[0] = n_sel;
		s->n_lf = 1;
	}
	for (uint16_t j = 0; j < n_sel; j++) {
		const uint16_t i = v->sel[j];
		const uint8_t *row = v->rows + (size_t)i * v->row_size;
		struct sl_state_ref *r = &s->ref[j];

		if (s->key_off >= 0) {
			r->key = row + s->key_off;
		} else {
			uint8_t *key = &s->keys[(size_t)j * WIN_MAX_KEY_BYTES];

			sl_win_key_gather(c->in, c->key_field, c->n_keys, row, key);
			r->key = key;
		}
		r->ns = k.ns;
		r->kg = (uint16_t)(s->kg_pow2 ? v->hash[i] & (maxp - 1) :
				   kg_fast(v->hash[i], s->kg_magic, maxp));
		s->row[j] = i;
	}
	return n_sel;
}

/*
 * Two passes over the vector and one call into the state backend between
 * them: (1) win_refs(); the backend then hashes, prefetches and finds or
 * inserts every row's accumulator; (2) the accumulators are updated, a
 * count-only window without a loop over aggregates.
 */
struct fire_ctx {
	struct sl_win *w;
	int64_t start;
	int64_t max_ts;		/* end - 1 */
	sl_win_out_fn out;
	void *ctx;
	bool clean;		/* the entries go: so do their distinct values */
};

static int emit_entry(void *arg, uint16_t kg, const void *key, const void *valp);

/* A continuous trigger's next firing after t: the next multiple of the
 * interval (Flink: t - t % interval + interval, Java's % as C's), before
 * the window's end, which fires anyway. */
static void
ct_register(struct sl_win *w, uint16_t kg, const void *key, int64_t start,
	    int64_t max_ts, int64_t next)
{
	if (next >= max_ts)
		return;
	if (sl_timer_register(w->ct, w->conf.processing_time ? SL_TIMER_PROCESSING_TIME :
			      SL_TIMER_EVENT_TIME, kg, key, &start, next) < 0)
		w->stats.state_errors++;
}

static void
ct_first(struct sl_win *w, const struct sl_state_ref *ref, int64_t start,
	 int64_t max_ts, int64_t ts)
{
	const int64_t iv = w->conf.continuous;

	ct_register(w, ref->kg, ref->key, start, max_ts,
		    sat_add(ts - ts % iv, iv));
}

/* Whether key group kg's window ending at max_ts has fired, here or
 * before the checkpoint this instance was restored from. */
static inline bool
win_fired(const struct sl_win *w, uint16_t kg, int64_t max_ts)
{
	return max_ts <= w->wm ||
	       (w->rwm != NULL && w->rwm[kg - w->conf.first_kg] >= max_ts);
}

/*
 * The accumulate pass when some rows may fire their window for their key
 * (the lf runs): a row into a window that has fired (allowed lateness,
 * R3.3), a count trigger's N-th row, or a continuous trigger's key's first
 * row, which sets its first early firing. A row fires after its own
 * update, so two late rows of a key give two results.
 */
static void
win_acc_fire(struct sl_win *w, const struct sl_vec *v, uint16_t n)
{
	struct win_scratch *s = w->scratch;
	uint16_t r = 0;

	for (uint16_t j = 0; j < n; j++) {
		uint8_t *val = s->val[j];
		const struct sl_state_ref *ref = &s->ref[j];
		struct fire_ctx f;

		if (val == NULL)
			continue;
		if (s->count_only) {
			int64_t cnt;

			memcpy(&cnt, val, 8);
			cnt++;
			memcpy(val, &cnt, 8);
		} else {
			win_acc_row(w, val, sl_vec_crow(v, s->row[j]),
				    w->n_cd ? &s->cd_new[j * SL_WIN_MAX_AGGS] : NULL);
		}
		while (r < s->n_lf && j >= s->lf_hi[r])
			r++;
		if (r == s->n_lf || j < s->lf_lo[r] || w->late_out == NULL)
			continue;
		memcpy(&f.start, ref->ns, 8);
		f.max_ts = sat_add(f.start, w->conf.size - 1);
		if (w->conf.count_trigger != 0) {
			uint64_t cnt;

			memcpy(&cnt, val, 8);
			if (cnt % w->conf.count_trigger != 0)
				continue;
		} else if (!win_fired(w, ref->kg, f.max_ts)) {
			/* ContinuousEventTimeTrigger.onElement: the first row
			 * of a key's window sets its first early firing. */
			if (w->ct != NULL && s->created[j]) {
				s->ct_j[s->n_ct] = j;
				/* ContinuousProcessingTimeTrigger: the clock */
				s->ct_ts[s->n_ct++] = w->conf.processing_time ? w->now :
					sl_row_ts(sl_vec_crow(v, s->row[j]),
						  &w->conf.in->f[w->conf.ts_field]);
			}
			continue;
		}
		f.w = w;
		f.out = w->late_out;
		f.ctx = w->late_ctx;
		f.max_ts = SL_TS_MAX;	/* emit_entry: no key group is skipped */
		f.clean = false;
		emit_entry(&f, ref->kg, ref->key, val);
		if (w->conf.count_trigger == 0)
			w->stats.late_fired++;
		if (w->conf.purge) {
			/* FIRE_AND_PURGE: empty, in place (later rows of this
			 * vector hold this slot); a zeroed accumulator is a
			 * new one, the count trigger's count with it. */
			memset(val, 0, w->val_len);
		}
	}
}

/*
 * Rows that need nothing of their window's value (none may fire it: no
 * lateness run in this pass) become one-row accumulators and go to the
 * state as merge operands: on rocksdb a write each, where find-then-add
 * was a read (a block-cache miss at millions of keys) and a write.
 */
static void
win_pass_merge(struct sl_win *w, const struct sl_vec *v, uint16_t n)
{
	struct win_scratch *s = w->scratch;
	const uint32_t vl = w->val_len;
	int rc;

	for (uint16_t j = 0; j < n; j++) {
		uint8_t *op = s->ops + (size_t)j * vl;

		memset(op, 0, vl);
		win_acc_row(w, op, sl_vec_crow(v, s->row[j]), NULL);
		s->opp[j] = op;
	}
	rc = sl_state_fixed_merge_bulk(w->st, w->sid, s->ref, n, s->opp);
	if (rc < 0)
		w->stats.state_errors += n;
	else
		w->stats.state_full_dropped += (uint64_t)rc;
}

/* One window per row (pass p of a sliding window's): find, then add. */
static void
win_pass(struct sl_win *w, const struct sl_vec *v, uint32_t p)
{
	struct win_scratch *s = w->scratch;
	uint16_t n;
	int rc;

	s->n_lf = 0;
	s->n_ct = 0;
	if (w->conf.processing_time)
		n = win_refs_ptime(w, v, p);
	else if (s->common && s->kg_pow2)
		n = win_refs(w, v, p, true, true);
	else if (s->common)
		n = win_refs(w, v, p, true, false);
	else
		n = win_refs(w, v, p, false, false);
	if (n == 0)
		return;
	if (s->blind && s->n_lf == 0) {
		win_pass_merge(w, v, n);
		return;
	}
	if (w->n_cd != 0)
		win_cd_pass(w, v, n);
	rc = sl_state_fixed_upsert_bulk(w->st, w->sid, s->ref, n, s->val,
					s->created);
	if (rc < 0) {
		w->stats.state_errors += n;
		return;
	}
	w->stats.state_full_dropped += (uint64_t)rc;
	if (__builtin_expect(s->n_lf != 0, 0)) {
		win_acc_fire(w, v, n);
	} else if (s->count_only) {
		for (uint16_t j = 0; j < n; j++) {
			uint8_t *val = s->val[j];
			int64_t cnt;

			if (__builtin_expect(val == NULL, 0))
				continue;
			memcpy(&cnt, val, 8);
			cnt++;
			memcpy(val, &cnt, 8);
		}
	} else {
		for (uint16_t j = 0; j < n; j++)
			if (__builtin_expect(s->val[j] != NULL, 1))
				win_acc_row(w, s->val[j],
					    sl_vec_crow(v, s->row[j]),
					    w->n_cd ? &s->cd_new[j * SL_WIN_MAX_AGGS] : NULL);
	}
	if (sl_state_fixed_release_bulk(w->st, w->sid, s->ref, n, s->val) < 0)
		w->stats.state_errors += n;
	for (uint16_t i = 0; i < s->n_ct; i++) {
		const struct sl_state_ref *ref = &s->ref[s->ct_j[i]];
		int64_t start;

		memcpy(&start, ref->ns, 8);
		ct_first(w, ref, start, sat_add(start, w->conf.size - 1), s->ct_ts[i]);
	}
}

/*
 * After a restore with allowed lateness, until the watermark passes the
 * checkpoint's: a key group's rows are judged by the watermark it had
 * there (the larger of the two), as they were without the failure, so a
 * row late then is late now and does not reopen a cleaned window. The
 * rows go through in groups of one such watermark, each under it; a
 * key's rows stay in one group and in order. Rare, so not fast.
 */
static void
win_process_restored(struct sl_win *w, const struct sl_vec *cv)
{
	struct win_scratch *s = w->scratch;
	/* The selection is the worker's to change; it is put back. */
	struct sl_vec *v = (struct sl_vec *)(uintptr_t)cv;
	const uint16_t n = v->n_sel;
	const int64_t wm = w->wm;
	const uint32_t maxp = w->conf.max_parallelism, first = w->conf.first_kg;

	memcpy(s->sel_save, v->sel, sizeof(v->sel[0]) * n);
	memset(s->sel_done, 0, n);
	for (uint16_t i = 0; i < n; i++) {
		int64_t eff = SL_TS_MIN;
		uint16_t m = 0;

		if (s->sel_done[i])
			continue;
		for (uint16_t j = i; j < n; j++) {
			uint32_t kg = kg_fast(v->hash[s->sel_save[j]], s->kg_magic, maxp);
			int64_t e = w->rwm[kg - first] > wm ? w->rwm[kg - first] : wm;

			if (j == i)
				eff = e;
			if (s->sel_done[j] || e != eff)
				continue;
			s->sel_done[j] = 1;
			v->sel[m++] = s->sel_save[j];
		}
		v->n_sel = m;
		w->wm = eff;
		for (uint32_t p = 0; p < s->n_pass; p++)
			win_pass(w, v, p);
	}
	w->wm = wm;
	memcpy(v->sel, s->sel_save, sizeof(v->sel[0]) * n);
	v->n_sel = n;
}

void
sl_win_process(struct sl_win *w, const struct sl_vec *v)
{
	const uint32_t n_pass = w->scratch->n_pass;

	w->stats.rows_in += v->n_sel;
	if (w->sess != NULL) {
		win_sess_process(w, v);
		return;
	}
	if (__builtin_expect(w->rwm_max > w->wm, 0) && w->rwm != NULL) {
		win_process_restored(w, v);
		return;
	}
	for (uint32_t p = 0; p < n_pass; p++)
		win_pass(w, v, p);
}

static inline __attribute__((always_inline)) void
emit_row(struct sl_win *w, sl_win_out_fn out, void *ctx, const void *key,
	 int64_t start, int64_t end, const uint8_t *val, bool early)
{
	const struct sl_win_conf *c = &w->conf;
	uint8_t *row;
	int64_t cnt;

	w->out_early = early;
	row = out(ctx);
	memcpy(&cnt, val, 8);
	/* Key bytes are stored in output order; a u64 key without a call. */
	if (w->key_len == 8)
		memcpy(row, key, 8);
	else
		memcpy(row, key, w->key_len);
	sl_row_set_int(row, &w->out.f[c->n_keys], start);
	sl_row_set_int(row, &w->out.f[c->n_keys + 1], end);
	for (uint16_t a = 0; a < w->n_acc; a++) {
		const struct sl_win_acc *acc = &w->acc[a];
		const uint8_t *slot = val + acc->slot;

		switch (acc->fn) {
		case SL_WIN_COUNT:
			sl_row_set_int(row, acc->out, cnt);
			break;
		case SL_WIN_COUNT_DISTINCT: {
			uint64_t nd;

			memcpy(&nd, slot, 8);
			sl_row_set_int(row, acc->out, (int64_t)nd);
			break;
		}
		case SL_WIN_APPROX_COUNT_DISTINCT: {
			struct sl_agg_result r;

			sl_agg_result(&acc->fa, slot, &r);
			sl_row_set_int(row, acc->out, (int64_t)r.v.u);
			break;
		}
		case SL_WIN_UDF: {
			uint8_t res[8] = { 0 };

			acc->ufn->agg_result(acc->uself, slot, res);
			memcpy(row + acc->out->offset, res, acc->out->size);
			break;
		}
		case SL_WIN_AVG:
			if (acc->kind == ACC_F64) {
				double sum;

				memcpy(&sum, slot, 8);
				sl_row_set_f64(row, acc->out, sum / (double)cnt);
			} else {
				int64_t sum;

				memcpy(&sum, slot, 8);
				sl_row_set_f64(row, acc->out,
					       acc->kind == ACC_UINT ?
					       (double)(uint64_t)sum / (double)cnt :
					       (double)sum / (double)cnt);
			}
			break;
		default:
			if (acc->kind == ACC_F64) {
				double x;

				memcpy(&x, slot, 8);
				sl_row_set_f64(row, acc->out, x);
			} else {
				int64_t x;

				memcpy(&x, slot, 8);
				sl_row_set_int(row, acc->out, x);
			}
			break;
		}
	}
	w->stats.rows_out++;
}

void
win_emit_row(struct sl_win *w, sl_win_out_fn out, void *ctx, const void *key,
	     int64_t start, int64_t end, const uint8_t *val, bool early)
{
	emit_row(w, out, ctx, key, start, end, val, early);
}

static int
emit_entry(void *arg, uint16_t kg, const void *key, const void *valp)
{
	const struct fire_ctx *f = arg;
	struct sl_win *w = f->w;
	const struct sl_win_conf *c = &w->conf;
	int64_t end;

	if (f->clean && w->n_cd != 0)
		win_cd_clear(w, kg, key, &f->start);
	if (c->purge) {
		int64_t cnt;

		memcpy(&cnt, valp, 8);
		if (cnt == 0)
			return 0;	/* purged, nothing since: R2.9 */
	}
	/* Fired before the checkpoint this key group was restored from. */
	if (__builtin_expect(w->rwm != NULL, 0) &&
	    w->rwm[kg - c->first_kg] >= f->max_ts)
		return 0;
	if (__builtin_add_overflow(f->start, c->size, &end))
		end = SL_TS_MAX;
	emit_row(w, f->out, f->ctx, key, f->start, end, valp,
		 sat_add(f->start, c->size - 1) > w->wm);
	return 0;
}

/*
 * A continuous trigger's timer (ContinuousEventTimeTrigger.onEventTime
 * before the window's end): fire the key's window with what it holds, and
 * set the next firing an interval later; one at or below the watermark
 * fires in this same advance (C1), as Flink's does.
 */
static int
ct_fire(void *arg, enum sl_timer_domain dom, uint16_t kg, const void *key,
	const void *ns, int64_t ts)
{
	struct sl_win *w = arg;
	struct sl_state_ref ref = { .key = key, .ns = ns, .kg = kg };
	uint8_t *val = w->vbuf;
	struct fire_ctx f = { w, 0, SL_TS_MAX, w->adv_out, w->adv_ctx, false };
	int64_t max_ts;
	int rc;

	(void)dom;
	memcpy(&f.start, ns, 8);
	max_ts = sat_add(f.start, w->conf.size - 1);
	sl_state_hash_bulk(w->st, w->sid, &ref, 1);
	rc = sl_state_value_get(w->st, w->sid, &ref, 0, val);
	if (rc < 0) {
		w->stats.state_errors++;
		return 0;
	}
	if (rc == 0 || f.out == NULL)
		return 0;	/* cleaned up already */
	emit_entry(&f, kg, key, val);
	ct_register(w, kg, key, f.start, max_ts, sat_add(ts, w->conf.continuous));
	return 0;
}

int
sl_win_restore_done(struct sl_win *w)
{
	int rc;

	if (w->sess != NULL)
		return win_sess_restore_done(w);
	if (w->ct == NULL)
		return 0;
	rc = sl_timer_rebuild(w->ct);
	return rc < 0 ? rc : 0;
}

static int
drop_entry(void *arg, uint16_t kg, const void *key, const void *valp)
{
	const struct fire_ctx *f = arg;

	(void)valp;
	if (f->w->n_cd != 0)
		win_cd_clear(f->w, kg, key, &f->start);
	return 0;
}

static void win_advance(struct sl_win *w, int64_t wm, sl_win_out_fn out,
			void *ctx);

void
win_drop_deferred(struct sl_win *w)
{
	for (uint16_t i = 0; i < w->n_drop; i++) {
		struct fire_ctx f = { w, w->drop_start[i], 0, NULL, NULL, true };

		if (sl_state_ns_drain(w->st, w->sid, &f.start, 0, drop_entry, &f) < 0)
			w->stats.state_errors++;
	}
	w->n_drop = 0;
}

void
sl_win_advance(struct sl_win *w, int64_t wm, sl_win_out_fn out, void *ctx)
{
	/* Processing time: watermarks fire nothing; end of input does. */
	if (w->conf.processing_time && wm != SL_TS_MAX)
		return;
	if (w->sess != NULL) {
		win_sess_advance(w, wm, out, ctx);
		return;
	}
	win_advance(w, wm, out, ctx);
}

void
sl_win_advance_processing_time(struct sl_win *w, int64_t now,
			       sl_win_out_fn out, void *ctx)
{
	if (now <= w->now)
		return;
	w->now = now;
	/* ProcessingTimeTrigger's timer at end - 1 is due once the clock is
	 * past it (R4.2): fire every window with end - 1 <= now - 1. */
	if (w->sess != NULL) {
		win_sess_advance(w, now - 1, out, ctx);
		return;
	}
	/* With a continuous trigger its timers may be due before any end. */
	if (w->n_open > 0 &&
	    (w->ct != NULL || sat_add(w->open_start[0], w->conf.size - 1) <= now - 1))
		win_advance(w, now - 1, out, ctx);
}

static void
win_advance(struct sl_win *w, int64_t wm, sl_win_out_fn out, void *ctx)
{
	const int64_t size = w->conf.size, lateness = w->conf.lateness;
	const int64_t old = w->wm;
	struct sl_state_stats ss;
	uint16_t cleaned = 0;

	if (wm <= old)
		return;
	w->wm = wm;
	/* a snapshot the window was not told the end of (the state's own) */
	if (w->n_drop != 0 && !sl_state_writes_copy(w->st))
		win_drop_deferred(w);
	/* Early firings come before the ends: their timestamps are earlier. */
	if (w->ct != NULL) {
		w->adv_out = out;
		w->adv_ctx = ctx;
		/* Processing time: wm is now - 1, a timer at T due once the
		 * clock is past it (R4.2). */
		if ((w->conf.processing_time ? sl_timer_advance_processing_time(w->ct, wm) :
		     sl_timer_advance_watermark(w->ct, wm)) < 0)
			w->stats.state_errors++;
	}
	if (w->n_open > 0 && w->open_start[0] <= wm - (size - 1)) {
		/* Sampled as windows fire: state is at its peak just before. */
		sl_state_stats(w->st, &ss);
		w->stats.state_bytes = ss.mem_used;
		w->stats.state_disk_bytes = ss.disk_bytes;
	}
	/*
	 * In window order: fire each window whose end - 1 the watermark
	 * passed now (R2.7), and remove each whose cleanup time (end - 1 +
	 * L, R3.4) it passed; with L = 0 both at once, by one drain. Windows
	 * have one size, so the removed ones are a prefix of the list.
	 */
	for (uint16_t i = 0; i < w->n_open; i++) {
		struct fire_ctx f = { w, w->open_start[i], 0, out, ctx, false };
		bool due, clean;
		int rc;

		f.max_ts = sat_add(f.start, size - 1);
		if (f.max_ts > wm)
			break;
		/* A count trigger does not fire on time (CONTINUE). */
		due = f.max_ts > old && w->conf.count_trigger == 0;
		clean = sat_add(f.max_ts, lateness) <= wm;
		/* Purging: the firing takes the entries with it; the window
		 * stays open (late rows start it again) until cleanup. */
		f.clean = clean || (due && w->conf.purge);
		if (clean && w->n_drop < SL_WIN_DROP_MAX &&
		    sl_state_writes_copy(w->st)) {
			/* Leaving for good while the heap copies each page
			 * written for a snapshot: read it now, remove it when
			 * the snapshot ends (no row can reach it any more),
			 * instead of a copy of every page of the table. */
			f.clean = false;
			rc = due ? sl_state_ns_visit(w->st, w->sid, &f.start, 0,
						     emit_entry, &f) : 0;
			w->drop_start[w->n_drop++] = f.start;
		} else if (due && f.clean)
			rc = sl_state_ns_drain(w->st, w->sid, &f.start, 0, emit_entry, &f);
		else if (due)
			rc = sl_state_ns_visit(w->st, w->sid, &f.start, 0, emit_entry, &f);
		else if (clean)
			rc = sl_state_ns_drain(w->st, w->sid, &f.start, 0, drop_entry, &f);
		else
			continue;
		if (rc < 0)
			w->stats.state_errors++;
		if (due)
			w->stats.windows_fired++;
		if (clean)
			cleaned = (uint16_t)(i + 1);
	}
	if (cleaned == 0)
		return;
	w->n_open = (uint16_t)(w->n_open - cleaned);
	memmove(&w->open_start[0], &w->open_start[cleaned],
		sizeof(w->open_start[0]) * w->n_open);
}
