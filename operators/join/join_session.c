/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session window join (R7.4 with EventTimeSessionWindows.withGap(gap)):
 * Flink runs `a.join(b)...window(sessions)` as a coGroup, the union of
 * both inputs in one merging window operator, so the two sides share one
 * set of sessions per key: a row of either side opens [ts, ts + gap),
 * which merges with every session of its key it intersects (Flink's
 * TimeWindow.intersects: touching counts), whatever side their rows came
 * from. When the watermark reaches a session's end - 1 it fires: every
 * left row with every right row, at end - 1, then it is cleared (no
 * allowed lateness: firing and cleanup are one step, R3.1 with L = 0).
 *
 * State, all in sl_state (so checkpoints and N->M restores cover it):
 *  - "join.sessions": the key's MergingWindowSet (operators/assign), as
 *    the window operator keeps it: a list state of one element as long
 *    as the set;
 *  - "join.sleft"/"join.sright": each side's rows, list state, namespace
 *    = the session's state window (start, end); a merge appends the
 *    swallowed state windows' rows to the surviving one's (Flink's
 *    mergeNamespaces), so the rows never move again once a set says
 *    where they live;
 *  - one event-time timer per session at end - 1, namespace = the
 *    session (start, end); a merge deletes the swallowed sessions'
 *    timers and sets the cover's (Flink's Trigger.onMerge).
 * A row whose session is late once merged (end - 1 <= WM) is late:
 * counted and written as a late row (side output), and its session
 * retired (it swallowed nothing: every session still in a set ends after
 * the watermark).
 */
#include <errno.h>
#include <string.h>

#include "join_private.h"
#include "sl_assign.h"

/* Sessions in flight per key: about out-of-orderness / gap + 1. */
#define JOIN_SESS_CAP 64
#define JOIN_SESS_WORDS ((sizeof(struct sl_assign_mset) + \
			  JOIN_SESS_CAP * sizeof(struct sl_assign_mset_ent) + 7) / 8)
_Static_assert(JOIN_SESS_CAP <= SL_ASSIGN_MSET_MAX, "a set holds JOIN_SESS_CAP windows");

/* The key at hand, for the merge callback. */
struct sess_ctx {
	struct sl_join *j;
	uint16_t kg;
	const void *key;
	uint64_t set[JOIN_SESS_WORDS];
};

size_t
join_session_ctx_size(void)
{
	return sizeof(struct sess_ctx);
}

int
join_session_setup(struct sl_join *j)
{
	static const char *const names[2] = { "join.sleft", "join.sright" };
	const struct sl_state_desc rows = {
		.kind = SL_STATE_LIST, .ns_len = 2 * sizeof(int64_t),
	};
	struct sl_state_desc d;
	int rc;

	rc = join_register_sides(j, names, &rows, false);
	if (rc < 0)
		return rc;
	memset(&d, 0, sizeof(d));
	d.name = "join.sessions";
	d.kind = SL_STATE_LIST;
	rc = join_register(j, d);
	if (rc < 0)
		return rc;
	j->sid_sets = rc;
	return 0;
}

static inline struct sl_assign_mset *
ctx_set(struct sess_ctx *x)
{
	return (struct sl_assign_mset *)x->set;
}

static struct sl_state_ref
ref_of(struct sess_ctx *x, int id, const void *ns)
{
	struct sl_state_ref r = { .key = x->key, .ns = ns, .kg = x->kg };

	sl_state_hash_bulk(x->j->st, id, &r, 1);
	return r;
}

static int
set_load(struct sess_ctx *x)
{
	struct sl_state_ref r = ref_of(x, x->j->sid_sets, NULL);

	return sl_assign_mset_load(x->j->st, x->j->sid_sets, &r, ctx_set(x), JOIN_SESS_CAP);
}

/* Back as one element as long as the set; an empty set is removed. */
static int
set_save(struct sess_ctx *x)
{
	struct sl_state_ref r = ref_of(x, x->j->sid_sets, NULL);

	return sl_assign_mset_save(x->j->st, x->j->sid_sets, &r, ctx_set(x));
}

/* Flink's MergeFunction: timers of the swallowed sessions go, the cover
 * gets its own; the swallowed state windows' rows join the survivor's. */
static int
sess_merge(void *arg, const struct sl_assign_window *result,
	   const struct sl_assign_window *merged, unsigned int n_merged,
	   const struct sl_assign_window *state_result,
	   const struct sl_assign_window *merged_state, unsigned int n_state)
{
	struct sess_ctx *x = arg;
	struct sl_join *j = x->j;
	int rc;

	for (unsigned int i = 0; i < n_merged; i++) {
		rc = sl_timer_delete(j->tm, SL_TIMER_EVENT_TIME, x->kg, x->key, &merged[i],
				     sl_assign_max_ts(&merged[i]));
		if (rc < 0)
			return rc;
	}
	for (int side = 0; side < 2; side++) {
		const struct sl_state_ref to = ref_of(x, j->sid[side], state_result);
		const uint32_t rs = j->conf.in[side].schema->row_size;
		struct join_scratch *sc = j->s;

		for (unsigned int i = 0; i < n_state; i++) {
			const struct sl_state_ref from = ref_of(x, j->sid[side], &merged_state[i]);
			struct join_collect c = { &sc->mbuf, &sc->mbuf_len, &sc->mbuf_cap, 0 };

			/* Copied out first: a list must not change under its
			 * own visit (rocksdb's buffer would go). */
			sc->mbuf_len = 0;
			rc = sl_state_list_get(j->st, j->sid[side], &from, 0, join_collect_elem, &c);
			if (rc < 0 || c.err < 0)
				return rc < 0 ? rc : c.err;
			for (size_t off = 0; off < sc->mbuf_len; off += rs) {
				rc = sl_state_list_add(j->st, j->sid[side], &to, 0, sc->mbuf + off, rs);
				if (rc < 0)
					return rc;
			}
			rc = sl_state_clear(j->st, j->sid[side], &from);
			if (rc < 0)
				return rc;
		}
	}
	return sl_timer_register(j->tm, SL_TIMER_EVENT_TIME, x->kg, x->key, result,
				 sl_assign_max_ts(result)) < 0 ? -EIO : 0;
}

/* One row: its proto-session into the key's set, its row into the
 * state window's list. @return 1 taken, 0 late, -errno. */
static int
session_row(struct sl_join *j, struct sess_ctx *x, int side, const uint8_t *row,
	    int64_t ts, int64_t wm)
{
	const struct sl_assign_window w = { ts, join_add_sat(ts, j->conf.gap) };
	struct sl_assign_window res, sw;
	struct sl_state_ref r;
	int rc;

	rc = set_load(x);
	if (rc < 0)
		return rc;
	rc = sl_assign_mset_add(ctx_set(x), &w, sess_merge, x, &res);
	if (rc < 0)
		return rc;
	if (sl_assign_max_ts(&res) <= wm) {
		/* Late (R3.1, L = 0): it merged nothing (every session in
		 * the set ends after wm), so only its own goes. */
		(void)sl_assign_mset_retire(ctx_set(x), &res);
		rc = set_save(x);
		return rc < 0 ? rc : 0;
	}
	rc = sl_assign_mset_state_window(ctx_set(x), &res, &sw);
	if (rc < 0)
		return rc;
	r = ref_of(x, j->sid[side], &sw);
	rc = sl_state_list_add(j->st, j->sid[side], &r, 0, row,
			       j->conf.in[side].schema->row_size);
	if (rc < 0)
		return rc;
	/* A new session's timer; a merged one set it in sess_merge, and
	 * a row inside a session finds it there (timers coalesce). */
	rc = sl_timer_register(j->tm, SL_TIMER_EVENT_TIME, x->kg, x->key, &res,
			       sl_assign_max_ts(&res));
	if (rc < 0)
		return rc;
	rc = set_save(x);
	return rc < 0 ? rc : 1;
}

void
join_session_process(struct sl_join *j, int side, const struct sl_vec *v)
{
	struct join_scratch *s = j->s;
	const int64_t wm = sl_timer_watermark(j->tm);

	for (uint16_t n = 0; n < v->n_sel; n++) {
		const uint16_t i = v->sel[n];
		const uint8_t *row = sl_vec_crow(v, i);
		const int64_t ts = join_row_ts(j, side, row);
		struct sl_state_ref r;
		int rc;

		/* The key and its group (the sets' descriptor has no
		 * namespace; each state call hashes its own). */
		join_ref(j, side, j->sid_sets, v, i, s->keys, NULL, &r);
		s->sess->j = j;
		s->sess->kg = r.kg;
		s->sess->key = r.key;
		rc = session_row(j, s->sess, side, row, ts, wm);
		if (rc == 1)
			continue;
		if (rc == 0) {
			j->stats.late[side]++;
			join_emit(j, side == SL_JOIN_LEFT ? SL_JOIN_OUT_LATE_LEFT :
				  SL_JOIN_OUT_LATE_RIGHT, ts,
				  side == SL_JOIN_LEFT ? row : NULL,
				  side == SL_JOIN_LEFT ? NULL : row);
		} else if (rc == -ENOMEM || rc == -ENOSPC) {
			/* -ENOSPC: more sessions in flight for the key than a
			 * set holds. */
			j->stats.state_full_dropped++;
		} else {
			j->stats.state_errors++;
		}
	}
}

int
join_session_fire(struct sl_join *j, uint16_t kg, const void *key,
		  const void *ns, int64_t ts)
{
	struct join_scratch *s = j->s;
	struct sess_ctx *x = s->sess;
	const uint32_t ls = j->conf.in[0].schema->row_size;
	const uint32_t rs = j->conf.in[1].schema->row_size;
	struct sl_assign_window w, sw;
	struct join_collect c[2] = {
		{ &s->mbuf, &s->mbuf_len, &s->mbuf_cap, 0 },
		{ &s->rbuf, &s->rbuf_len, &s->rbuf_cap, 0 },
	};
	int rc = 0;

	memcpy(&w, ns, sizeof(w));
	x->j = j;
	x->kg = kg;
	x->key = key;
	rc = set_load(x);
	if (rc < 0)
		return rc;
	if (sl_assign_mset_state_window(ctx_set(x), &w, &sw) < 0)
		return 0;	/* not a session of the key's (merged away) */
	s->mbuf_len = s->rbuf_len = 0;
	for (int side = 0; side < 2 && rc >= 0; side++) {
		const struct sl_state_ref r = ref_of(x, j->sid[side], &sw);

		rc = sl_state_list_get(j->st, j->sid[side], &r, 0, join_collect_elem, &c[side]);
		if (rc >= 0 && c[side].err < 0)
			rc = c[side].err;
	}
	if (rc >= 0) {
		/* R7.4: left rows outer, right rows inner; a session with
		 * one side only writes nothing. */
		for (size_t a = 0; a < s->mbuf_len; a += ls)
			for (size_t b = 0; b < s->rbuf_len; b += rs)
				join_emit(j, SL_JOIN_OUT_PAIR, ts, s->mbuf + a, s->rbuf + b);
		j->stats.purged++;
	} else {
		j->stats.state_errors++;
	}
	for (int side = 0; side < 2; side++) {
		const struct sl_state_ref r = ref_of(x, j->sid[side], &sw);

		if (sl_state_clear(j->st, j->sid[side], &r) < 0)
			rc = -EIO;
	}
	(void)sl_assign_mset_retire(ctx_set(x), &w);
	if (set_save(x) < 0)
		rc = -EIO;
	return rc < 0 ? rc : 0;
}
