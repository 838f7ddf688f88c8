/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Window state to and from snapshot records, sorted by key group so a
 * checkpoint taken with N workers restores onto M: each new owner keeps
 * the groups in its range. The key group is recomputed from the stored key
 * bytes with the router's hash, so routing and restore always agree.
 */
#include <errno.h>
#include <stdlib.h>

#include "sl_kg.h"
#include "sl_window.h"
#include "win_private.h"

static inline uint32_t
val_len(const struct sl_win *w)
{
	return 8 + 8 * (uint32_t)w->n_acc;
}

static inline size_t
rec_len(const struct sl_win *w)
{
	return 2 + w->key_len + val_len(w);
}

size_t
sl_win_snapshot_size(const struct sl_win *w)
{
	return (size_t)w->table.used * rec_len(w);
}

struct rec_ref {
	uint16_t kg;
	uint32_t idx;
};

static int
cmp_ref(const void *a, const void *b)
{
	const struct rec_ref *x = a, *y = b;

	if (x->kg != y->kg)
		return x->kg < y->kg ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

ssize_t
sl_win_snapshot(const struct sl_win *w, uint32_t max_parallelism,
		uint8_t *buf, size_t len)
{
	const size_t rl = rec_len(w);
	struct rec_ref *refs;
	size_t n = 0, off = 0;

	if (len < sl_win_snapshot_size(w))
		return -ENOSPC;
	refs = malloc(sizeof(*refs) * (w->table.used + 1));
	if (refs == NULL)
		return -ENOMEM;
	/* Walk the open windows' chains: exactly the live entries. */
	for (uint16_t wi = 0; wi < w->n_open; wi++) {
		for (uint32_t idx = w->open_head[wi]; idx != SL_TABLE_NIL;) {
			uint8_t *e = sl_table_entry(&w->table, idx);
			uint32_t h = sl_kg_hash(sl_table_key(e) + 8, w->key_len - 8);

			refs[n].kg = (uint16_t)sl_kg_of(h, max_parallelism);
			refs[n].idx = idx;
			n++;
			idx = *sl_table_aux(e);
		}
	}
	qsort(refs, n, sizeof(*refs), cmp_ref);
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = sl_table_entry(&w->table, refs[i].idx);

		memcpy(buf + off, &refs[i].kg, 2);
		memcpy(buf + off + 2, sl_table_key(e), w->key_len);
		memcpy(buf + off + 2 + w->key_len, sl_table_val(&w->table, e),
		       val_len(w));
		off += rl;
	}
	free(refs);
	return (ssize_t)off;
}

ssize_t
sl_win_restore(struct sl_win *w, const uint8_t *buf, size_t len,
	       uint32_t max_parallelism, uint32_t first_kg, uint32_t last_kg)
{
	const size_t rl = rec_len(w);
	ssize_t n = 0;

	if (len % rl != 0)
		return -EINVAL;
	for (size_t off = 0; off < len; off += rl) {
		const uint8_t *key = buf + off + 2;
		uint16_t kg;
		uint32_t h;
		int64_t start;
		bool created;
		uint8_t *e;
		int wi;

		memcpy(&kg, buf + off, 2);
		h = sl_kg_hash(key + 8, w->key_len - 8);
		/* A record whose group disagrees with its key is corrupt. */
		if (kg >= max_parallelism || sl_kg_of(h, max_parallelism) != kg)
			return -EINVAL;
		if (kg < first_kg || kg > last_kg)
			continue;
		memcpy(&start, key, 8);
		wi = win_open(w, start);
		if (wi < 0)
			return -ENOSPC;
		e = sl_table_upsert(&w->table, win_hash(h, start), key, &created);
		if (e == NULL)
			return -ENOSPC;
		if (!created)
			return -EINVAL;	/* the same (window, key) twice */
		memcpy(sl_table_val(&w->table, e), key + w->key_len, val_len(w));
		win_chain(w, (uint16_t)wi, e);
		n++;
	}
	return n;
}
