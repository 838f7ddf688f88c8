/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The order/payment KeyedCoProcessFunction of W7.3 (R7.5): per key one
 * value state per side holding the row that waits for its partner, and an
 * event-time timer at its ts + timeout. The timer has no namespace: a key
 * never waits with rows of both sides at once (the second side's arrival
 * matches), so (key, ts) names the waiting row's timer.
 */
#include <errno.h>
#include <string.h>

#include "join_private.h"

int
join_match_setup(struct sl_join *j)
{
	static const char *const names[2] = { "join.mleft", "join.mright" };
	const struct sl_state_desc d = { .kind = SL_STATE_VALUE };

	return join_register_sides(j, names, &d, true);
}

/* One row: matched with the stored partner, or stored with its timer. */
static int
match_row(struct sl_join *j, int side, const struct sl_state_ref *r,
	  const uint8_t *row, int64_t ts)
{
	const int other = 1 - side;
	struct sl_state_ref ro = *r;
	uint8_t *partner = j->s->bucket;
	int rc;

	sl_state_hash_bulk(j->st, j->sid[other], &ro, 1);
	rc = sl_state_value_get(j->st, j->sid[other], &ro, 0, partner);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		const int64_t pts = join_row_ts(j, other, partner);

		/* R4.5: the output carries the arriving row's ts. */
		join_emit(j, SL_JOIN_OUT_PAIR, ts, side == SL_JOIN_LEFT ? row : partner,
			  side == SL_JOIN_LEFT ? partner : row);
		rc = sl_state_clear(j->st, j->sid[other], &ro);
		if (rc < 0)
			return rc;
		rc = sl_timer_delete(j->tm, SL_TIMER_EVENT_TIME, r->kg, r->key, NULL,
				     join_add_sat(pts, j->conf.timeout));
		return rc < 0 ? rc : 0;
	}
	rc = sl_state_value_put(j->st, j->sid[side], r, 0, row);
	if (rc < 0)
		return rc;
	rc = sl_timer_register(j->tm, SL_TIMER_EVENT_TIME, r->kg, r->key, NULL,
			       join_add_sat(ts, j->conf.timeout));
	if (rc < 0) {
		(void)sl_state_clear(j->st, j->sid[side], r);
		return rc;
	}
	return 0;
}

void
join_match_process(struct sl_join *j, int side, const struct sl_vec *v)
{
	for (uint16_t n = 0; n < v->n_sel; n++) {
		const uint16_t i = v->sel[n];
		const uint8_t *row = sl_vec_crow(v, i);
		struct sl_state_ref r;
		int rc;

		join_ref(j, side, j->sid[side], v, i, j->s->keys, NULL, &r);
		rc = match_row(j, side, &r, row, join_row_ts(j, side, row));
		if (rc == -ENOMEM)
			j->stats.state_full_dropped++;
		else if (rc < 0)
			j->stats.state_errors++;
	}
}

int
join_match_fire(struct sl_join *j, uint16_t kg, const void *key,
		const void *ns, int64_t ts)
{
	static const enum sl_join_out_kind kind[2] = {
		SL_JOIN_OUT_LEFT_ONLY, SL_JOIN_OUT_RIGHT_ONLY,
	};

	(void)ns;
	for (int side = 0; side < 2; side++) {
		struct sl_state_ref r = { .key = key, .ns = NULL, .kg = kg };
		uint8_t *row = j->s->bucket;
		int rc;

		sl_state_hash_bulk(j->st, j->sid[side], &r, 1);
		rc = sl_state_value_get(j->st, j->sid[side], &r, 0, row);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		/* W7.3 onTimer: the waiting row goes to the side output
		 * (UNPAID / ORPHAN) with the timer's ts, and is cleared. */
		j->stats.unmatched++;
		join_emit(j, kind[side], ts, side == SL_JOIN_LEFT ? row : NULL,
			  side == SL_JOIN_LEFT ? NULL : row);
		rc = sl_state_clear(j->st, j->sid[side], &r);
		if (rc < 0)
			return rc;
	}
	return 0;
}
