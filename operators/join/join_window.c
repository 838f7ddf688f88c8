/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Window join (R7.4, W7.2): per side a list state, namespace = the window
 * start, holding the rows of (key, window) in arrival order; one
 * event-time timer per (key, window) at end - 1 pairs them when the
 * watermark gets there and clears both lists (no allowed lateness, so
 * firing and purging are one step, R3.1 with L = 0). Sliding windows put
 * a row in each of its size / slide windows, so a pair sharing several
 * is joined once in each (R7.4).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "join_private.h"
#include "sl_assign.h"

int
join_window_setup(struct sl_join *j)
{
	static const char *const names[2] = { "join.wleft", "join.wright" };
	const struct sl_state_desc d = {
		.kind = SL_STATE_LIST, .ns_len = sizeof(int64_t),
	};

	return join_register_sides(j, names, &d, false);
}

/* One row into one window: its list, and the window's timer. */
static int
window_add(struct sl_join *j, int side, struct sl_state_ref *r, const uint8_t *row,
	   int64_t start)
{
	const int64_t last = join_add_sat(start, j->conf.size - 1);
	int rc;

	r->ns = &start;
	sl_state_hash_bulk(j->st, j->sid[side], r, 1);
	rc = sl_state_list_add(j->st, j->sid[side], r, 0, row,
			       j->conf.in[side].schema->row_size);
	if (rc < 0)
		return rc;
	rc = sl_timer_register(j->tm, SL_TIMER_EVENT_TIME, r->kg, r->key, &start, last);
	if (rc < 0)
		/* No timer, no firing: take the window's rows out. */
		(void)sl_state_clear(j->st, j->sid[side], r);
	return rc < 0 ? rc : 0;
}

void
join_window_process(struct sl_join *j, int side, const struct sl_vec *v)
{
	struct join_scratch *s = j->s;
	const int64_t wm = sl_timer_watermark(j->tm);
	const int64_t step = j->conf.slide != 0 ? j->conf.slide : j->conf.size;

	for (uint16_t n = 0; n < v->n_sel; n++) {
		const uint16_t i = v->sel[n];
		const uint8_t *row = sl_vec_crow(v, i);
		const int64_t ts = join_row_ts(j, side, row);
		/* The newest window of ts; older ones every step back while
		 * they still hold ts (R2.4's assignment). */
		int64_t start = sl_assign_window_start(ts, j->conf.offset, step);
		struct sl_state_ref r;
		bool taken = false;

		/* The key and key group; window_add hashes each window's. */
		join_ref(j, side, j->sid[side], v, i, s->keys, &start, &r);
		for (; start > ts - j->conf.size; start -= step) {
			int rc;

			/* R3.1 with L = 0: that window fired already. */
			if (join_add_sat(start, j->conf.size - 1) <= wm)
				break;	/* and every older one */
			rc = window_add(j, side, &r, row, start);
			if (rc == -ENOMEM)
				j->stats.state_full_dropped++;
			else if (rc < 0)
				j->stats.state_errors++;
			taken = true;
		}
		if (!taken) {
			j->stats.late[side]++;
			join_emit(j, side == SL_JOIN_LEFT ? SL_JOIN_OUT_LATE_LEFT :
				  SL_JOIN_OUT_LATE_RIGHT, ts,
				  side == SL_JOIN_LEFT ? row : NULL,
				  side == SL_JOIN_LEFT ? NULL : row);
		}
	}
}

int
join_window_fire(struct sl_join *j, uint16_t kg, const void *key,
		 const void *ns, int64_t ts)
{
	struct join_scratch *s = j->s;
	const uint32_t ls = j->conf.in[0].schema->row_size;
	const uint32_t rs = j->conf.in[1].schema->row_size;
	struct sl_state_ref r[2];
	struct join_collect c[2] = {
		{ &s->mbuf, &s->mbuf_len, &s->mbuf_cap, 0 },
		{ &s->rbuf, &s->rbuf_len, &s->rbuf_cap, 0 },
	};
	int rc = 0;

	s->mbuf_len = s->rbuf_len = 0;
	for (int side = 0; side < 2; side++) {
		r[side] = (struct sl_state_ref){ .key = key, .ns = ns, .kg = kg };
		sl_state_hash_bulk(j->st, j->sid[side], &r[side], 1);
	}
	for (int side = 0; side < 2; side++) {
		rc = sl_state_list_get(j->st, j->sid[side], &r[side], 0, join_collect_elem, &c[side]);
		if (rc < 0 || c[side].err < 0) {
			rc = rc < 0 ? rc : c[side].err;
			break;
		}
	}
	if (rc >= 0) {
		/* R7.4: left rows outer, right rows inner, in arrival order. */
		for (size_t a = 0; a < s->mbuf_len; a += ls)
			for (size_t b = 0; b < s->rbuf_len; b += rs)
				join_emit(j, SL_JOIN_OUT_PAIR, ts, s->mbuf + a, s->rbuf + b);
		j->stats.purged++;
	} else {
		j->stats.state_errors++;
	}
	for (int side = 0; side < 2; side++)
		if (sl_state_clear(j->st, j->sid[side], &r[side]) < 0)
			rc = -EIO;
	return rc < 0 ? rc : 0;
}
