/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Window state to and from snapshot records, each tagged with its key
 * group so a checkpoint taken with N workers restores onto M: each new
 * owner keeps the groups in its range. The key group is recomputed from the stored key
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

ssize_t
sl_win_snapshot(const struct sl_win *w, uint32_t max_parallelism,
		uint8_t *buf, size_t len)
{
	const size_t rl = rec_len(w);
	size_t off = 0;

	if (len < sl_win_snapshot_size(w))
		return -ENOSPC;
	/* One pass over the open windows' chains, exactly the live entries.
	 * No sort: this runs on the worker at the barrier, and every record
	 * carries its key group, which is all N->M restore needs. */
	for (uint16_t wi = 0; wi < w->n_open; wi++) {
		for (uint32_t idx = w->open_head[wi]; idx != SL_TABLE_NIL;) {
			uint8_t *e = sl_table_entry(&w->table, idx);
			uint16_t kg = (uint16_t)sl_kg_of(sl_kg_hash(sl_table_key(e) + 8,
								w->key_len - 8),
						     max_parallelism);

			memcpy(buf + off, &kg, 2);
			memcpy(buf + off + 2, sl_table_key(e), w->key_len);
			memcpy(buf + off + 2 + w->key_len, sl_table_val(&w->table, e),
			       val_len(w));
			off += rl;
			idx = *sl_table_aux(e);
		}
	}
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
