/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Keyed tumbling event-time window with incremental aggregates. The hot
 * path is sl_win_process(): pass one computes each row's window, drops late
 * rows, gathers keys and prefetches their table slots; pass two updates the
 * accumulators, by which time the slots are in cache.
 */
#include <errno.h>
#include <stdio.h>

#include "sl_window.h"
#include "win_private.h"

#define WIN_MAX_KEY_BYTES 256

enum acc_kind { ACC_INT, ACC_UINT, ACC_F64 };

struct sl_win_acc {
	enum sl_win_agg_fn fn;
	enum acc_kind kind;
	const struct sl_field *in;	/* NULL for count */
	const struct sl_field *out;
	uint32_t slot;			/* byte offset in the entry value */
};

/* Per-vector scratch, allocated once with the table. */
struct win_scratch {
	uint32_t hash[SL_VEC_MAX];
	uint16_t row[SL_VEC_MAX];
	int64_t start[SL_VEC_MAX];	/* window of each row: its index in open_start[] can move */
	uint8_t keys[SL_VEC_MAX * WIN_MAX_KEY_BYTES];
};

static enum acc_kind
kind_of(const struct sl_field *f)
{
	if (f->type == SL_T_F64)
		return ACC_F64;
	return f->type == SL_T_U64 ? ACC_UINT : ACC_INT;
}

int
sl_win_conf_check(const struct sl_win_conf *c, struct sl_schema *out,
		  char *msg, size_t msglen)
{
	uint32_t key_bytes = 0;
	int rc;

	if (c->size <= 0 || c->offset <= -c->size || c->offset >= c->size) {
		snprintf(msg, msglen, "tumbling window needs size > 0 and |offset| < size");
		return -EINVAL;
	}
	if (c->n_keys == 0 || c->n_keys > SL_WIN_MAX_KEYS || c->n_aggs == 0 ||
	    c->n_aggs > SL_WIN_MAX_AGGS || c->capacity == 0) {
		snprintf(msg, msglen, "window needs 1..%d keys, 1..%d aggregates and a capacity",
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
	if (8 + key_bytes > WIN_MAX_KEY_BYTES) {
		snprintf(msg, msglen, "key fields take %u bytes; at most %d",
			 key_bytes, WIN_MAX_KEY_BYTES - 8);
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

		if (g->fn != SL_WIN_COUNT &&
		    (in == NULL || in->type == SL_T_STR || in->type == SL_T_BOOL)) {
			snprintf(msg, msglen, "aggregate '%s' needs a numeric field", g->name);
			return -EINVAL;
		}
		switch (g->fn) {
		case SL_WIN_COUNT:
			t = SL_T_U64;
			break;
		case SL_WIN_SUM:
			t = kind_of(in) == ACC_F64 ? SL_T_F64 :
			    kind_of(in) == ACC_UINT ? SL_T_U64 : SL_T_I64;
			break;
		case SL_WIN_AVG:
			t = SL_T_F64;
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

int
sl_win_init(struct sl_win *w, const struct sl_win_conf *c,
	    void *(*alloc)(size_t len, void *arg), void *alloc_arg)
{
	char msg[128];
	uint32_t key_bytes = 8;
	size_t tsize, acc_size;
	int rc;

	memset(w, 0, sizeof(*w));
	rc = sl_win_conf_check(c, &w->out, msg, sizeof(msg));
	if (rc < 0)
		return rc;
	w->conf = *c;
	w->wm = SL_TS_MIN;
	for (uint16_t k = 0; k < c->n_keys; k++)
		key_bytes += c->in->f[c->key_field[k]].size;
	w->key_len = key_bytes;
	w->n_acc = c->n_aggs;

	tsize = sl_table_mem_size(c->capacity, key_bytes,
				  8 + 8 * (uint32_t)c->n_aggs);
	acc_size = sizeof(struct sl_win_acc) * c->n_aggs +
		   sizeof(struct win_scratch) + 64;
	w->mem[0] = alloc(2 * tsize, alloc_arg);
	w->mem[1] = alloc(acc_size, alloc_arg);
	if (w->mem[0] == NULL || w->mem[1] == NULL)
		return -ENOMEM;
	sl_table_init(&w->table, c->capacity, key_bytes,
		      8 + 8 * (uint32_t)c->n_aggs, w->mem[0]);
	sl_table_init(&w->spare, c->capacity, key_bytes,
		      8 + 8 * (uint32_t)c->n_aggs, (uint8_t *)w->mem[0] + tsize);
	w->stats.state_bytes = 2 * tsize;
	w->spare_clean = (size_t)w->spare.cap * w->spare.stride;	/* sl_table_init zeroed it */
	w->acc = w->mem[1];
	for (uint16_t a = 0; a < c->n_aggs; a++) {
		struct sl_win_acc *acc = &w->acc[a];

		acc->fn = c->agg[a].fn;
		acc->in = c->agg[a].field >= 0 ? &c->in->f[c->agg[a].field] : NULL;
		acc->kind = acc->in ? kind_of(acc->in) : ACC_INT;
		acc->out = &w->out.f[c->n_keys + 2 + a];
		acc->slot = 8 + 8 * (uint32_t)a;
	}
	return 0;
}

void
sl_win_fini(struct sl_win *w, void (*release)(void *ptr, void *arg), void *arg)
{
	release(w->mem[0], arg);
	release(w->mem[1], arg);
	memset(w, 0, sizeof(*w));
}

static inline struct win_scratch *
scratch(struct sl_win *w)
{
	return (struct win_scratch *)(void *)(w->acc + w->n_acc);
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
	memmove(&w->open_head[lo + 1], &w->open_head[lo],
		sizeof(w->open_head[0]) * (w->n_open - lo));
	memmove(&w->open_tail[lo + 1], &w->open_tail[lo],
		sizeof(w->open_tail[0]) * (w->n_open - lo));
	w->open_start[lo] = start;
	w->open_head[lo] = SL_TABLE_NIL;
	w->open_tail[lo] = SL_TABLE_NIL;
	w->n_open++;
	return lo;
}

/* Append entry e to window wi's chain, which firing walks. */
void
win_chain(struct sl_win *w, uint16_t wi, uint8_t *e)
{
	uint32_t idx = sl_table_index(&w->table, e);

	if (w->open_tail[wi] == SL_TABLE_NIL)
		w->open_head[wi] = idx;
	else
		*sl_table_aux(sl_table_entry(&w->table, w->open_tail[wi])) = idx;
	w->open_tail[wi] = idx;
}

static inline void
acc_update(const struct sl_win_acc *acc, uint8_t *val, const uint8_t *row,
	   bool created)
{
	uint8_t *slot = val + acc->slot;

	if (acc->fn == SL_WIN_COUNT)
		return;
	if (acc->kind == ACC_F64) {
		double x = sl_row_get_f64(row, acc->in), cur;

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
		int64_t x = sl_row_get_int(row, acc->in), cur;
		bool lt, gt;

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

void
sl_win_process(struct sl_win *w, const struct sl_vec *v)
{
	const struct sl_win_conf *c = &w->conf;
	const struct sl_field *tsf = &c->in->f[c->ts_field];
	struct win_scratch *s = scratch(w);
	uint16_t n = 0;
	int64_t last_start = 0, start = 0, max_ts = SL_TS_MIN;
	int last_win = -1;

	w->stats.rows_in += v->n_sel;
	for (uint16_t j = 0; j < v->n_sel; j++) {
		uint16_t i = v->sel[j];
		const uint8_t *row = sl_vec_crow(v, i);
		int64_t ts = sl_row_ts(row, tsf);
		uint8_t *key = &s->keys[(size_t)n * WIN_MAX_KEY_BYTES];

		/* Rows of a vector mostly share a window: only a row outside
		 * the previous one pays for the 64-bit division. */
		if (ts < start || ts > max_ts || last_win < 0) {
			start = sl_window_start(ts, c->offset, c->size);
			/* end - 1, saturating: a window that reaches past
			 * MAX can never be late. */
			if (__builtin_add_overflow(start, c->size - 1, &max_ts))
				max_ts = SL_TS_MAX;
		}
		if (max_ts <= w->wm) {
			w->stats.late_dropped++;
			continue;
		}
		if (last_win < 0 || start != last_start) {
			last_win = win_open(w, start);
			last_start = start;
			if (last_win < 0) {
				w->stats.state_full_dropped++;
				continue;
			}
		}
		memcpy(key, &start, 8);
		sl_win_key_gather(c->in, c->key_field, c->n_keys, row, key + 8);
		s->hash[n] = win_hash(v->hash[i], start);
		s->row[n] = i;
		s->start[n] = start;
		sl_table_prefetch(&w->table, s->hash[n]);
		n++;
	}
	for (uint16_t j = 0; j < n; j++) {
		const uint8_t *row = sl_vec_crow(v, s->row[j]);
		bool created;
		uint8_t *e = sl_table_upsert(&w->table, s->hash[j],
					     &s->keys[(size_t)j * WIN_MAX_KEY_BYTES],
					     &created);
		uint8_t *val;
		int64_t cnt;

		if (e == NULL) {
			w->stats.state_full_dropped++;
			continue;
		}
		val = sl_table_val(&w->table, e);
		if (created)
			/* Found again, not remembered: a window opened by a
			 * later row of this vector shifts the indices. */
			win_chain(w, (uint16_t)win_open(w, s->start[j]), e);
		memcpy(&cnt, val, 8);
		cnt++;
		memcpy(val, &cnt, 8);
		for (uint16_t a = 0; a < w->n_acc; a++)
			acc_update(&w->acc[a], val, row, created);
	}
}

static void
emit_entry(struct sl_win *w, uint8_t *e, int64_t start, sl_win_out_fn out,
	   void *ctx)
{
	const struct sl_win_conf *c = &w->conf;
	uint8_t *val = sl_table_val(&w->table, e);
	uint8_t *row = out(ctx);
	int64_t cnt, end;

	if (__builtin_add_overflow(start, c->size, &end))
		end = SL_TS_MAX;
	memcpy(&cnt, val, 8);
	/* Key bytes are stored in output order right after the start. */
	memcpy(row, sl_table_key(e) + 8, w->key_len - 8);
	sl_row_set_int(row, &w->out.f[c->n_keys], start);
	sl_row_set_int(row, &w->out.f[c->n_keys + 1], end);
	for (uint16_t a = 0; a < w->n_acc; a++) {
		const struct sl_win_acc *acc = &w->acc[a];
		const uint8_t *slot = val + acc->slot;

		switch (acc->fn) {
		case SL_WIN_COUNT:
			sl_row_set_int(row, acc->out, cnt);
			break;
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

/*
 * Zero the retired table a slice at a time, one slice per watermark, so a
 * rehash never has to clear a table of state.key-capacity entries at once
 * (gigabytes at 10M keys: a stall the rings would feel).
 */
#define WIN_CLEAR_SLICE (1u << 20)

static void
spare_clear(struct sl_win *w)
{
	size_t bytes = (size_t)w->spare.cap * w->spare.stride, n;

	if (w->spare_clean >= bytes)
		return;
	n = bytes - w->spare_clean < WIN_CLEAR_SLICE ? bytes - w->spare_clean :
						     WIN_CLEAR_SLICE;
	memset(w->spare.slots + w->spare_clean, 0, n);
	w->spare_clean += n;
}

/* Move live entries into the spare table, rebuilding each window's chain. */
static void
win_rehash(struct sl_win *w)
{
	struct sl_table old = w->table;
	size_t bytes = (size_t)w->spare.cap * w->spare.stride;

	/* Normally zeroed already, a slice per watermark (spare_clear). */
	if (w->spare_clean < bytes)
		memset(w->spare.slots + w->spare_clean, 0, bytes - w->spare_clean);
	w->spare.used = 0;
	w->spare.tombs = 0;
	w->table = w->spare;
	w->spare = old;
	w->spare_clean = 0;
	for (uint16_t wi = 0; wi < w->n_open; wi++) {
		uint32_t idx = w->open_head[wi];

		w->open_head[wi] = SL_TABLE_NIL;
		w->open_tail[wi] = SL_TABLE_NIL;
		while (idx != SL_TABLE_NIL) {
			uint8_t *e = sl_table_entry(&old, idx);
			uint32_t next = *sl_table_aux(e);
			bool created;
			uint8_t *ne = sl_table_upsert(&w->table,
						      sl_table_entry_hash(e),
						      sl_table_key(e), &created);

			memcpy(sl_table_val(&w->table, ne), sl_table_val(&old, e),
			       w->table.stride - w->table.val_off);
			win_chain(w, wi, ne);
			idx = next;
		}
	}
}

void
sl_win_advance(struct sl_win *w, int64_t wm, sl_win_out_fn out, void *ctx)
{
	const int64_t size = w->conf.size;
	uint16_t fired = 0;

	if (wm <= w->wm)
		return;
	w->wm = wm;
	spare_clear(w);
	/* Sampled here, not per insert: the peak is reached just before a
	 * window fires. */
	if (w->table.used > w->stats.peak_entries)
		w->stats.peak_entries = w->table.used;
	while (fired < w->n_open) {
		int64_t start = w->open_start[fired], max_ts;
		uint32_t idx = w->open_head[fired];

		if (__builtin_add_overflow(start, size - 1, &max_ts))
			max_ts = SL_TS_MAX;
		if (max_ts > wm)
			break;
		while (idx != SL_TABLE_NIL) {
			uint8_t *e = sl_table_entry(&w->table, idx);

			idx = *sl_table_aux(e);
			emit_entry(w, e, start, out, ctx);
			sl_table_remove(&w->table, e);
		}
		w->stats.windows_fired++;
		fired++;
	}
	if (fired == 0)
		return;
	w->n_open = (uint16_t)(w->n_open - fired);
	memmove(&w->open_start[0], &w->open_start[fired],
		sizeof(w->open_start[0]) * w->n_open);
	memmove(&w->open_head[0], &w->open_head[fired],
		sizeof(w->open_head[0]) * w->n_open);
	memmove(&w->open_tail[0], &w->open_tail[fired],
		sizeof(w->open_tail[0]) * w->n_open);
	/*
	 * Tombstones lengthen every probe; clear them once they are a
	 * quarter of the table. They also take room: inserts fail when
	 * used + tombs reaches the limit, so rehash as well when the free
	 * slots are fewer than state.key-capacity - used, or rows would be
	 * dropped as state-full below the configured capacity. With a
	 * capacity close to the table's limit that is most firings; it runs
	 * at watermark time, not per row.
	 */
	if (w->table.tombs > w->table.cap / 4 ||
	    sl_table_short_of(&w->table, w->conf.capacity))
		win_rehash(w);
}
