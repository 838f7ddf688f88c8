/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session windows: Flink's WindowOperator with
 * EventTimeSessionWindows.withGap(gap), EventTimeTrigger and allowed
 * lateness L (semantics.md R2.5, R2.7, R3.1-R3.6), composed the way Flink
 * composes it from the assigner, the MergingWindowSet and the internal
 * timer service. ProcessingTimeSessionWindows with ProcessingTimeTrigger
 * (R4.1, W4.1) is the same with the clock for the record's time and
 * processing-time timers: a clock at now is the watermark now - 1 (a
 * timer at end - 1 is due once the clock is past it, R4.2), and nothing
 * is late (R3.7), so the late branches below never run for it:
 *
 *  - an element's proto-window [ts, ts + gap) is added to its key's
 *    MergingWindowSet (sl_assign_mset_add); every window of the key it
 *    intersects (touching ones too) merges into the cover. The merge
 *    folds the swallowed windows' accumulators into the surviving state
 *    window's; their timers are forwarded (below);
 *  - a merged window that is late (end - 1 + L <= WM) is retired at once
 *    and the element, then late too, goes to the late side output or is
 *    dropped and counted (R3.2, R3.6, W3.3 with L = 0);
 *  - otherwise the element is added to the state window's accumulator;
 *    if the window's end - 1 is already at or below the watermark it
 *    fires at once (a late firing, R3.3); a window the element opened
 *    gets its timer at end - 1 and its cleanup timer at end - 1 + L (one
 *    timer when L = 0);
 *  - a timer at end - 1 fires the window (one row per firing); a timer at
 *    the cleanup time clears its accumulator and retires it from the set.
 *
 * Timers of merged windows are forwarded, not moved. Flink's merge
 * deletes the swallowed windows' timers and sets the merged window's
 * (Trigger.onMerge, clear): with a session that grows by one row at a
 * time that is an insert and a delete in the timer state per row, and
 * the delete-heavy churn is most of the cost on the heap backend. Here
 * the swallowed windows' timers stay; when one fires and finds its window
 * gone from the set, it sets the same kind of timer (end or cleanup) for
 * the window that swallowed it (sess_forward). A window's own timers are
 * the only ones that act, so what fires and when is Flink's:
 *  - the stale timer of a swallowed window W fires at or before the same
 *    timer of the window R that swallowed it (W is inside R), so R's is
 *    set before the watermark reaches it, and fires in the same advance
 *    if that watermark is past it too (C1);
 *  - when a stale timer could not do that, the merge sets R's own timer
 *    at once: when every swallowed window had fired already (no end
 *    timer left), and when one of them ends where R ends (its stale
 *    timer would come at R's very time, possibly after R's own had fired
 *    in the same advance; forwarding then does nothing);
 *  - setting a window's own end or cleanup timer is what Flink's
 *    onElement and registerCleanupTimer do anyway: a second set of the
 *    same timer coalesces.
 * A session growing by one row touches no timer; a stale timer costs one
 * read of the key's set when it fires.
 *
 * Everything lives in the worker's sl_state, so checkpoints cover it by
 * key group and restore N->M: descriptor "window.session" holds the
 * accumulators (key, namespace = the state window [start, end) as two
 * i64, value = count + one 8-byte slot per aggregate, as for tumbling
 * windows), "window.sessions" each key's MergingWindowSet (a list state
 * of one element as long as the set, namespace-less), and the timers are sl_timer's "window.st.*". The
 * timer queues are an index rebuilt after a restore.
 *
 * After a restore the watermark starts again at MIN (R1.11), but a key
 * group's rows are judged by the larger of it and the watermark of the
 * checkpoint the key group came from (sl_win.rwm), as they were without
 * the failure: a row that was late stays late, and one that fired a
 * window at once fires it at once again.
 *
 * Per row this costs a get and a put of the key's set and one probe of
 * its accumulator (acquired, updated in place of a get and a put when
 * there is no count_distinct); a row that opens a session sets its
 * timers, a merge of several sessions' accumulators reads and clears
 * theirs. Sessions are not on the tumbling windows' vectorised path (a
 * row's state window is known only after its key's set was read), but a
 * vector's set addresses are hashed and prefetched at once, and the timer
 * service prefetches the next firing timer's set (sess_timer_ahead).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "sl_assign.h"
#include "sl_kg.h"
#include "sl_timer.h"
#include "win_private.h"

/*
 * Sessions in flight per key: those not yet cleaned up, about
 * (out-of-orderness + L) / gap + 1. A row that would need more is
 * refused and counted in sessions_full_dropped (the dataplane's stats say
 * what to change).
 */
#define WIN_SESS_CAP SL_WIN_SESS_MAX
_Static_assert(WIN_SESS_CAP <= SL_ASSIGN_MSET_MAX, "a set holds SL_WIN_SESS_MAX windows");
#define WIN_SESS_SET_WORDS ((sizeof(struct sl_assign_mset) + \
			     WIN_SESS_CAP * sizeof(struct sl_assign_mset_ent) + 7) / 8)

struct win_sess {
	struct sl_assign a;		/* the assigner, for R3.1's predicates */
	int acc_id;			/* "window.session" */
	int set_id;			/* "window.sessions" */
	struct sl_timer *tm;		/* "window.st": end-of-window and cleanup */
	enum sl_timer_domain dom;	/* event time; processing time for time: processing */
	/* The element or timer at hand. */
	const void *key;
	uint16_t kg;
	int64_t wm;			/* the watermark it is judged by */
	int32_t key_off;		/* key bytes contiguous in the row here; -1: gather */
	uint32_t trig_off;		/* a trigger's state in an accumulator */
	/* first/last: the next row's arrival sequence. Rows of a key come
	 * to one instance in order; after a restore it starts above every
	 * restored one (win_sess_restore_done), so it orders a key's rows
	 * across failures too. */
	uint64_t seq;
	bool has_seq;
	bool merged;			/* sess_merge ran for the row at hand */
	sl_win_out_fn out;		/* sl_win_advance's output */
	void *ctx;
	uint64_t set[WIN_SESS_SET_WORDS];	/* the key's set, copied out */
	uint8_t key_buf[WIN_MAX_KEY_BYTES];
	/* The set's address of the row at hand, hashed with its vector
	 * (set_hashed); a timer's is hashed when it fires. */
	struct sl_state_ref set_ref;
	bool set_hashed;
	struct sl_state_ref vec_ref[SL_VEC_MAX];
	/* The keys of the timers due next, their sets' hashes computed when
	 * the timer service looked ahead (the one firing and the next). */
	struct {
		uint8_t key[WIN_MAX_KEY_BYTES];
		uint32_t hash;
		uint16_t kg;
		bool ok;
	} ahead[2];
	uint8_t ahead_i;
};

static inline struct sl_assign_mset *
sess_set(struct win_sess *s)
{
	return (struct sl_assign_mset *)s->set;
}

/* end - 1 + L, or MAX when that overflows: no cleanup timer then (R3.1, C3). */
static inline int64_t
sess_cleanup(const struct sl_win *w, const struct sl_assign_window *win)
{
	return sl_assign_cleanup_time(&w->sess->a, win, w->conf.lateness);
}

static inline struct sl_state_ref
sess_ref(struct sl_win *w, int id, const void *ns)
{
	struct sl_state_ref r = { .key = w->sess->key, .ns = ns, .kg = w->sess->kg };

	sl_state_hash_bulk(w->st, id, &r, 1);
	return r;
}

/* The key's set address: the vector's, or hashed now. */
static inline struct sl_state_ref
set_ref(struct sl_win *w)
{
	return w->sess->set_hashed ? w->sess->set_ref : sess_ref(w, w->sess->set_id, NULL);
}

/* The key's set into s->set (empty when the key has none). @return 0 or -errno. */
static int
set_load(struct sl_win *w)
{
	struct win_sess *s = w->sess;
	struct sl_state_ref r = set_ref(w);

	return sl_assign_mset_load(w->st, s->set_id, &r, sess_set(s), WIN_SESS_CAP);
}

/* s->set back into the state (operators/assign's mset_state.c). */
static int
set_save(struct sl_win *w)
{
	struct win_sess *s = w->sess;
	struct sl_state_ref r = set_ref(w);

	return sl_assign_mset_save(w->st, s->set_id, &r, sess_set(s));
}

/* The accumulator of state window sw into val. @return 1 found, 0 absent, -errno. */
static int
acc_get(struct sl_win *w, const struct sl_assign_window *sw, uint8_t *val)
{
	struct sl_state_ref r = sess_ref(w, w->sess->acc_id, sw);

	return sl_state_value_get(w->st, w->sess->acc_id, &r, 0, val);
}

static int
acc_put(struct sl_win *w, const struct sl_assign_window *sw, const uint8_t *val)
{
	struct sl_state_ref r = sess_ref(w, w->sess->acc_id, sw);

	return sl_state_value_put(w->st, w->sess->acc_id, &r, 0, val);
}

static int
acc_clear(struct sl_win *w, const struct sl_assign_window *sw)
{
	struct sl_state_ref r = sess_ref(w, w->sess->acc_id, sw);

	return sl_state_clear(w->st, w->sess->acc_id, &r);
}

/* A count trigger's rows since its window last fired (CountTrigger's
 * state), kept after the aggregates in the window's accumulator. */
static inline uint64_t
trig_get(const struct sl_win *w, const uint8_t *val)
{
	uint64_t n;

	memcpy(&n, val + w->sess->trig_off, 8);
	return n;
}

static inline void
trig_set(const struct sl_win *w, uint8_t *val, uint64_t n)
{
	memcpy(val + w->sess->trig_off, &n, 8);
}

/* A continuous trigger's next firing (its ReducingState with Min): the
 * flag is the count's word, the time the word after it. */
static inline bool
ct_get(const struct sl_win *w, const uint8_t *val, int64_t *next)
{
	memcpy(next, val + w->sess->trig_off + 8, 8);
	return trig_get(w, val) != 0;
}

static inline void
ct_set(const struct sl_win *w, uint8_t *val, int64_t next)
{
	trig_set(w, val, 1);
	memcpy(val + w->sess->trig_off + 8, &next, 8);
}

/* ContinuousEventTimeTrigger's registerNextFireTimestamp: min(t + I,
 * the window's end - 1). */
static inline int64_t
ct_next(const struct sl_win *w, const struct sl_assign_window *win, int64_t t)
{
	int64_t n, m = sl_assign_max_ts(win);

	if (__builtin_add_overflow(t, w->conf.continuous, &n))
		n = SL_TS_MAX;
	return n < m ? n : m;
}

/* Set win's timer at t (one already there coalesces). Never deleted:
 * see the timer forwarding at the top. */
static int
timer_set(struct sl_win *w, const struct sl_assign_window *win, int64_t t)
{
	struct win_sess *s = w->sess;

	return sl_timer_register(s->tm, s->dom, s->kg, s->key, win, t);
}

/* A failed state call, counted: the heap backend's -ENOMEM is a full
 * state (the dataplane says to raise its memory), anything else an
 * error of the backend. */
static void
sess_fail(struct sl_win *w, int rc)
{
	if (rc == -ENOMEM)
		w->stats.state_full_dropped++;
	else
		w->stats.state_errors++;
}

/*
 * WindowOperator's merge function (R2.5): the merged window must not be
 * late (Flink throws; it cannot happen while cleanup timers run, because
 * every window it swallowed is alive and it covers them); the trigger's
 * onMerge and the swallowed windows' clear() become timer forwarding
 * (top of the file): the merged window gets its own end timer only when
 * no swallowed window has one pending before its end, and its own cleanup
 * timer when a swallowed window ends where it ends; the swallowed
 * windows' state windows' accumulators are folded into the survivor's
 * (mergeNamespaces). A negative return leaves the set unchanged; the row
 * is then lost and counted in state_errors.
 */
static int
sess_merge(void *arg, const struct sl_assign_window *result,
	   const struct sl_assign_window *merged, unsigned int n_merged,
	   const struct sl_assign_window *state_result,
	   const struct sl_assign_window *merged_state, unsigned int n_state)
{
	struct sl_win *w = arg;
	struct win_sess *s = w->sess;
	const int64_t end1 = sl_assign_max_ts(result), cl = sess_cleanup(w, result);
	/* vbuf[0] is sess_row's, which called this */
	uint8_t *dst = w->vbuf + w->val_len, *src = w->vbuf + 2 * (size_t)w->val_len;
	bool forwarder = false, same_end = false, have;
	int rc;

	s->merged = true;
	if (sl_assign_window_late(&s->a, result, w->conf.lateness, s->wm))
		return -EDOM;
	for (unsigned int i = 0; i < n_merged; i++) {
		const int64_t m1 = sl_assign_max_ts(&merged[i]);

		same_end |= m1 == end1;
		forwarder |= m1 > s->wm && m1 < end1;
	}
	if (end1 > s->wm && (same_end || !forwarder)) {
		rc = timer_set(w, result, end1);
		if (rc < 0)
			return rc;
	}
	if (same_end && cl != SL_TS_MAX && cl != end1) {
		rc = timer_set(w, result, cl);
		if (rc < 0)
			return rc;
	}
	if (n_state == 0)
		return 0;
	rc = acc_get(w, state_result, dst);
	if (rc < 0)
		return rc;
	have = rc == 1;
	for (unsigned int i = 0; i < n_state; i++) {
		rc = acc_get(w, &merged_state[i], src);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			/* its row was refused for memory */
			if (w->n_cd != 0)
				win_cd_clear(w, s->kg, s->key, &merged_state[i]);
			continue;
		}
		if (have) {
			int64_t nd, ns;

			win_acc_merge(w, dst, src);
			if (w->conf.count_trigger != 0)
				trig_set(w, dst, trig_get(w, dst) + trig_get(w, src));
			/* the earliest next firing; its window's timer at that
			 * time forwards to the merged one (sess_ct_fire) */
			if (w->conf.continuous != 0 && ct_get(w, src, &ns) &&
			    (!ct_get(w, dst, &nd) || ns < nd))
				ct_set(w, dst, ns);
		} else {
			memcpy(dst, src, w->val_len);
			/* its distinct values move over and are counted again */
			win_cd_zero(w, dst);
		}
		have = true;
		if (w->n_cd != 0) {
			rc = win_cd_merge(w, s->kg, s->key, dst, state_result,
					  &merged_state[i]);
			if (rc < 0)
				return rc;
		}
		rc = acc_clear(w, &merged_state[i]);
		if (rc < 0)
			return rc;
	}
	return have ? acc_put(w, state_result, dst) : 0;
}

/* One element: WindowOperator.processElement for a merging assigner. */
static void
sess_row(struct sl_win *w, const struct sl_vec *v, uint16_t i)
{
	const struct sl_win_conf *c = &w->conf;
	struct win_sess *s = w->sess;
	const uint8_t *row = sl_vec_crow(v, i);
	/* Processing time (R4.1): the clock, not the record's time. */
	const int64_t ts = c->processing_time ? w->now : sl_row_ts(row, &c->in->f[c->ts_field]);
	struct sl_assign_window proto = { ts, 0 }, act, sw;
	uint8_t *val = w->vbuf, cd_new[SL_WIN_MAX_AGGS], *acc_slot = NULL;
	struct sl_state_ref acc_r;
	uint32_t n0;
	bool fresh, fire, ct_new = false;
	int64_t cl, ct_at = 0;
	int rc, bad = 0;	/* the row's first failed state call */

	if (__builtin_add_overflow(ts, c->gap, &proto.end))
		proto.end = SL_TS_MAX;	/* sl_assign.h: ts + gap saturates */
	s->kg = (uint16_t)sl_kg_of(v->hash[i], c->max_parallelism);
	if (s->key_off >= 0) {
		s->key = row + s->key_off;
	} else {
		sl_win_key_gather(c->in, c->key_field, c->n_keys, row, s->key_buf);
		s->key = s->key_buf;
	}
	s->wm = w->wm;
	if (w->rwm[s->kg - c->first_kg] > s->wm)
		s->wm = w->rwm[s->kg - c->first_kg];
	s->merged = false;
	rc = set_load(w);
	n0 = sess_set(s)->n;
	if (rc == 0)
		rc = sl_assign_mset_add(sess_set(s), &proto, sess_merge, w, &act);
	if (rc == -ENOSPC) {
		w->stats.sessions_full_dropped++;
		return;
	}
	if (rc < 0) {
		sess_fail(w, rc);
		return;
	}
	if (sl_assign_window_late(&s->a, &act, c->lateness, s->wm)) {
		/* A new window that merged with nothing alive (W3.3, L = 0):
		 * the element is in no window, and late. Retiring it leaves
		 * the set as it is stored: nothing to write back. */
		if (sl_assign_element_late(&s->a, ts, c->lateness, s->wm)) {
			w->stats.late_dropped++;
			if (w->late_row != NULL)
				w->late_row(w->late_row_ctx, row);
		}
		return;
	}
	if (sl_assign_mset_state_window(sess_set(s), &act, &sw) < 0) {
		w->stats.state_errors++;
		return;
	}
	/* A window the row opened needs its timers; one it merged into got
	 * them in sess_merge, and one that was there has them (or a stale
	 * timer that will forward to it). */
	fresh = !s->merged && sess_set(s)->n == n0 + 1;
	if (w->n_cd == 0) {
		/* No other state call until the put: the accumulator is
		 * found or created zeroed in one probe, and written back
		 * through the same slot. */
		uint8_t created;

		acc_r = sess_ref(w, s->acc_id, &sw);
		rc = sl_state_fixed_acquire_bulk(w->st, s->acc_id, &acc_r, 1,
						 &acc_slot, &created);
		if (rc >= 0 && acc_slot == NULL)
			rc = -ENOMEM;
		else if (rc >= 0)
			memcpy(val, acc_slot, w->val_len);
	} else {
		rc = acc_get(w, &sw, val);
		if (rc == 0)
			memset(val, 0, w->val_len);
	}
	for (uint16_t a = 0; rc >= 0 && a < w->n_acc; a++) {
		const struct sl_win_agg *g = &c->agg[a];
		struct sl_state_ref r;
		int r2;

		if (g->fn != SL_WIN_COUNT_DISTINCT)
			continue;
		r = sess_ref(w, win_cd_map(w, a), &sw);
		r2 = win_cd_add(w, a, &r, row);
		if (r2 < 0)
			rc = r2;
		else
			cd_new[win_cd_index(w, a)] = (uint8_t)r2;
	}
	fire = false;
	if (rc >= 0) {
		uint64_t cnt;

		memcpy(&cnt, val, 8);
		win_acc_add(w, val, row, cd_new);
		if (s->has_seq)
			win_acc_stamp(w, val, s->seq++, cnt == 0);
		/* CountTrigger.onElement: fire at the N-th row since the
		 * last firing, counted over merged sessions (their counts
		 * were summed), and start again; never on time. */
		if (c->count_trigger != 0) {
			uint64_t n = trig_get(w, val) + 1;

			fire = n >= c->count_trigger;
			trig_set(w, val, fire ? 0 : n);
		}
		/* ContinuousEventTimeTrigger.onElement: a window with no
		 * next firing (and not already past its end) gets one at
		 * the next multiple of the interval after ts. */
		if (c->continuous != 0 && !ct_get(w, val, &ct_at) &&
		    sl_assign_max_ts(&act) > s->wm) {
			ct_at = ct_next(w, &act, ts - ts % c->continuous);
			ct_set(w, val, ct_at);
			ct_new = true;
		}
		if (acc_slot != NULL) {
			memcpy(acc_slot, val, w->val_len);
			rc = sl_state_fixed_release_bulk(w->st, s->acc_id,
							 &acc_r, 1, &acc_slot);
		} else {
			rc = acc_put(w, &sw, val);
		}
		if (rc >= 0 && ct_new) {
			int r2 = timer_set(w, &act, ct_at);

			if (r2 < 0)
				rc = r2;
		}
	}
	/* EventTimeTrigger.onElement (R2.7): fire now if the window's end
	 * has passed (a late firing, R3.3), else at end - 1. A row the
	 * state refused fires nothing, but its window keeps its timers.
	 * With a count trigger the timer at end - 1 only cleans up (L = 0)
	 * or does nothing (sess_timer). */
	if (rc < 0)
		bad = rc;
	if (rc >= 0 && fire && w->late_out != NULL)
		win_emit_row(w, w->late_out, w->late_ctx, s->key, act.start,
			     act.end, val, sl_assign_max_ts(&act) > s->wm);
	if (c->count_trigger != 0) {
		if (fresh && sl_assign_max_ts(&act) > s->wm) {
			rc = timer_set(w, &act, sl_assign_max_ts(&act));
			if (rc < 0 && bad == 0)
				bad = rc;
		}
	} else if (rc >= 0 && sl_assign_max_ts(&act) <= s->wm) {
		if (w->late_out != NULL) {
			win_emit_row(w, w->late_out, w->late_ctx, s->key,
				     act.start, act.end, val, false);
			w->stats.late_fired++;
		}
	} else if (fresh && sl_assign_max_ts(&act) > s->wm) {
		rc = timer_set(w, &act, sl_assign_max_ts(&act));
		if (rc < 0 && bad == 0)
			bad = rc;
	}
	/* registerCleanupTimer; with L = 0 it is the end timer, set above
	 * (a window that fired at once has L > 0: L = 0 makes it late). */
	cl = sess_cleanup(w, &act);
	if (fresh && cl != SL_TS_MAX && cl != sl_assign_max_ts(&act)) {
		rc = timer_set(w, &act, cl);
		if (rc < 0 && bad == 0)
			bad = rc;
	}
	rc = set_save(w);
	if (rc < 0 && bad == 0)
		bad = rc;
	/* Once per row, however many of its calls failed. */
	if (bad < 0)
		sess_fail(w, bad);
}

/*
 * A vector's rows one by one (a row's state window is known only once
 * its key's set is read), but their sets' addresses at once: every key
 * hashed in one pass and its set's slot prefetched, so the row's set
 * read and write find it in cache and hash nothing.
 */
void
win_sess_process(struct sl_win *w, const struct sl_vec *v)
{
	struct win_sess *s = w->sess;
	const struct sl_win_conf *c = &w->conf;

	if (s->key_off < 0) {
		s->set_hashed = false;
		for (uint16_t j = 0; j < v->n_sel; j++)
			sess_row(w, v, v->sel[j]);
		return;
	}
	for (uint16_t j = 0; j < v->n_sel; j++) {
		const uint16_t i = v->sel[j];

		s->vec_ref[j].key = sl_vec_crow(v, i) + s->key_off;
		s->vec_ref[j].ns = NULL;
		s->vec_ref[j].kg = (uint16_t)sl_kg_of(v->hash[i], c->max_parallelism);
	}
	sl_state_hash_bulk(w->st, s->set_id, s->vec_ref, v->n_sel);
	sl_state_prefetch_bulk(w->st, s->set_id, s->vec_ref, v->n_sel);
	for (uint16_t j = 0; j < v->n_sel; j++) {
		s->set_ref = s->vec_ref[j];
		s->set_hashed = true;
		sess_row(w, v, v->sel[j]);
	}
	s->set_hashed = false;
}

/*
 * A timer of win, which is no longer in the key's set: if a window of
 * the set swallowed it, set that window's timer of the same kind, unless
 * it is due at this very time (the merge set that one itself). A window
 * retired since leaves nothing to do (Flink: the timer does nothing).
 */
static void
sess_forward(struct sl_win *w, const struct sl_assign_window *win, int64_t t)
{
	const struct sl_assign_mset *set = sess_set(w->sess);

	for (uint32_t i = 0; i < set->n; i++) {
		const struct sl_assign_window *r = &set->ent[i].w;
		int64_t next;

		if (r->start > win->start || r->end < win->end)
			continue;
		next = t == sl_assign_max_ts(win) ? sl_assign_max_ts(r) : sess_cleanup(w, r);
		if (next > t && next != SL_TS_MAX) {
			int rc = timer_set(w, r, next);

			if (rc < 0)
				sess_fail(w, rc);
		}
		return;
	}
}

/*
 * ContinuousEventTimeTrigger.onEventTime before the end: the window of
 * the key's set that holds win (win itself, or the one that swallowed
 * it) fires with what it holds if its next firing is t, and gets the
 * next one at min(t + I, end - 1); otherwise the timer is stale (its
 * window's next firing moved on or merged to an earlier one) and does
 * nothing. A next firing at or below the watermark fires in the same
 * advance (C1), one per interval, as Flink's timers do.
 */
static void
sess_ct_fire(struct sl_win *w, const struct sl_assign_window *win, int64_t t)
{
	struct win_sess *s = w->sess;
	const struct sl_assign_mset *set = sess_set(s);
	const struct sl_assign_window *r = NULL;
	struct sl_assign_window sw;
	uint8_t *val = w->vbuf;
	int64_t at;
	int rc;

	for (uint32_t i = 0; i < set->n; i++)
		if (set->ent[i].w.start <= win->start && set->ent[i].w.end >= win->end) {
			r = &set->ent[i].w;
			break;
		}
	if (r == NULL || sl_assign_mset_state_window(set, r, &sw) < 0)
		return;		/* cleaned up already */
	rc = acc_get(w, &sw, val);
	if (rc <= 0 || !ct_get(w, val, &at) || at != t) {
		if (rc < 0)
			w->stats.state_errors++;
		return;
	}
	if (s->out != NULL)
		win_emit_row(w, s->out, s->ctx, s->key, r->start, r->end, val,
			     sl_assign_max_ts(r) > w->wm);
	at = ct_next(w, r, t);
	ct_set(w, val, at);
	rc = acc_put(w, &sw, val);
	if (rc >= 0 && at > t)
		rc = timer_set(w, r, at);
	if (rc < 0)
		sess_fail(w, rc);
}

/*
 * WindowOperator.onEventTime for a merging assigner: a timer of a window
 * that is no longer in the key's set (merged away) forwards (above); at
 * end - 1 the window fires with its state window's contents; at its
 * cleanup time its state goes (with L = 0 both, in that order).
 */
static int
sess_timer(void *arg, enum sl_timer_domain dom, uint16_t kg, const void *key,
	   const void *ns, int64_t t)
{
	struct sl_win *w = arg;
	struct win_sess *s = w->sess;
	struct sl_assign_window win, sw;
	uint8_t *val = w->vbuf;
	int rc;

	(void)dom;
	s->kg = kg;
	s->key = key;
	s->set_hashed = false;
	for (int i = 0; i < 2; i++)
		if (s->ahead[i].ok && s->ahead[i].kg == kg &&
		    memcmp(s->ahead[i].key, key, w->key_len) == 0) {
			s->set_ref = (struct sl_state_ref){ .key = key, .kg = kg,
							    .hash = s->ahead[i].hash };
			s->set_hashed = true;
			break;
		}
	memcpy(&win, ns, sizeof(win));
	rc = set_load(w);
	if (rc < 0) {
		w->stats.state_errors++;
		return 0;
	}
	if (sl_assign_mset_state_window(sess_set(s), &win, &sw) < 0) {
		/* Merged away: a continuous firing goes to the window that
		 * swallowed it, if that one's next firing is this one; an
		 * end or cleanup timer forwards (its end - 1 may be a
		 * continuous firing's time too). */
		if (w->conf.continuous != 0 && t <= sl_assign_max_ts(&win))
			sess_ct_fire(w, &win, t);
		if (t >= sl_assign_max_ts(&win))
			sess_forward(w, &win, t);
		return 0;
	}
	if (w->conf.continuous != 0 && t < sl_assign_max_ts(&win)) {
		sess_ct_fire(w, &win, t);
		return 0;
	}
	/* CountTrigger.onEventTime: CONTINUE; the window is only cleaned. */
	if (t == sl_assign_max_ts(&win) && w->conf.count_trigger == 0) {
		rc = acc_get(w, &sw, val);
		if (rc < 0)
			w->stats.state_errors++;
		if (rc == 1 && s->out != NULL) {
			win_emit_row(w, s->out, s->ctx, key, win.start, win.end,
				     val, false);
			w->stats.windows_fired++;
		}
	}
	if (t == sess_cleanup(w, &win)) {
		if (acc_clear(w, &sw) < 0)
			w->stats.state_errors++;
		if (w->n_cd != 0)
			win_cd_clear(w, kg, key, &sw);
		sl_assign_mset_retire(sess_set(s), &win);
		if (set_save(w) < 0)
			w->stats.state_errors++;
	}
	return 0;
}

/* The next timer's key: its set's slot into cache while this one fires. */
static void
sess_timer_ahead(void *arg, uint16_t kg, const void *key, const void *ns)
{
	struct sl_win *w = arg;
	struct win_sess *s = w->sess;
	struct sl_state_ref r = { .key = key, .kg = kg };
	uint8_t i = s->ahead_i ^= 1;

	(void)ns;
	sl_state_hash_bulk(w->st, s->set_id, &r, 1);
	sl_state_prefetch_bulk(w->st, s->set_id, &r, 1);
	memcpy(s->ahead[i].key, key, w->key_len);
	s->ahead[i].hash = r.hash;
	s->ahead[i].kg = kg;
	s->ahead[i].ok = true;
}

void
win_sess_advance(struct sl_win *w, int64_t wm, sl_win_out_fn out, void *ctx)
{
	struct win_sess *s = w->sess;
	struct sl_state_stats ss;
	int rc;

	if (wm <= w->wm)
		return;
	w->wm = wm;
	s->out = out;
	s->ctx = ctx;
	rc = s->dom == SL_TIMER_EVENT_TIME ? sl_timer_advance_watermark(s->tm, wm) :
	     sl_timer_advance_processing_time(s->tm, wm);
	s->set_hashed = false;
	if (rc < 0) {
		w->stats.state_errors++;
	} else if (rc > 0) {
		/* Sampled as windows fire, as for tumbling windows. */
		sl_state_stats(w->st, &ss);
		w->stats.state_bytes = ss.mem_used;
		w->stats.state_disk_bytes = ss.disk_bytes;
	}
	s->out = NULL;
}

/* first/last: the arrival sequence goes on above every restored one. */
static int
sess_seq_restore(struct sl_win *w)
{
	struct win_sess *s = w->sess;
	struct sl_state_snap *sn;
	struct sl_state_record rec;
	int rc;

	rc = sl_state_snapshot_begin(w->st, 0, &sn);
	if (rc < 0)
		return rc;
	while ((rc = sl_state_snapshot_next(sn, &rec)) == 1) {
		uint64_t m;

		if (rec.desc != s->acc_id || rec.val_len != w->val_len)
			continue;
		m = win_acc_seq_max(w, rec.val);
		if (m >= s->seq)
			s->seq = m + 1;
	}
	sl_state_snapshot_end(w->st, sn);
	return rc;
}

int
win_sess_restore_done(struct sl_win *w)
{
	int rc = sl_timer_rebuild(w->sess->tm);

	if (rc >= 0 && w->sess->has_seq)
		rc = sess_seq_restore(w);
	return rc < 0 ? rc : 0;
}

int
win_sess_init(struct sl_win *w)
{
	const struct sl_win_conf *c = &w->conf;
	const uint32_t n_kg = c->last_kg - c->first_kg + 1;
	const uint32_t hint = (c->capacity + n_kg - 1) / n_kg;
	struct sl_state_desc d;
	struct win_sess *s;
	int rc;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	w->sess = s;
	/* the trigger's state after the aggregates: sl_win_init */
	s->trig_off = w->val_len - (c->count_trigger != 0 ? 8 : c->continuous != 0 ? 16 : 0);
	s->has_seq = win_acc_has_seq(w);
	s->key_off = (int32_t)c->in->f[c->key_field[0]].offset;
	for (uint16_t k = 1; k < c->n_keys; k++) {
		const struct sl_field *p = &c->in->f[c->key_field[k - 1]];

		if (c->in->f[c->key_field[k]].offset != p->offset + p->size)
			s->key_off = -1;
	}
	s->dom = c->processing_time ? SL_TIMER_PROCESSING_TIME : SL_TIMER_EVENT_TIME;
	rc = sl_assign_session(&s->a, c->processing_time ? SL_ASSIGN_PROCESSING_TIME :
			       SL_ASSIGN_EVENT_TIME, c->gap);
	if (rc < 0)
		return rc;
	memset(&d, 0, sizeof(d));
	d.name = "window.session";
	d.kind = SL_STATE_VALUE;
	d.key_len = (uint16_t)w->key_len;
	d.ns_len = sizeof(struct sl_assign_window);
	d.val_len = w->val_len;
	d.capacity_hint = win_acc_hint(w, hint);
	win_acc_legacy(w, &d);
	rc = sl_state_register(w->st, &d);
	if (rc < 0)
		return rc;
	s->acc_id = rc;
	d.name = "window.sessions";
	d.kind = SL_STATE_LIST;
	d.ns_len = 0;
	d.val_len = 0;
	d.old_val_len = 0;
	d.upgrade = NULL;
	d.capacity_hint = hint;
	rc = sl_state_register(w->st, &d);
	if (rc < 0)
		return rc;
	s->set_id = rc;
	{
		struct sl_timer_conf tc = {
			.name = "window.st",
			.key_len = (uint16_t)w->key_len,
			.ns_len = sizeof(struct sl_assign_window),
			.first_kg = c->first_kg,
			.last_kg = c->last_kg,
			/* An end and, with L > 0, a cleanup timer per session. */
			.capacity_hint = 2 * hint,
			.fire = sess_timer,
			.prefetch = sess_timer_ahead,
			.arg = w,
		};

		s->tm = sl_timer_create(w->st, &tc);
		if (s->tm == NULL)
			return -errno;
	}
	return 0;
}

void
win_sess_fini(struct sl_win *w)
{
	if (w->sess == NULL)
		return;
	sl_timer_destroy(w->sess->tm);
	free(w->sess);
	w->sess = NULL;
}
