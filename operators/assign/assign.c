/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Window assigners, lateness predicates and the merging window set of
 * sl_assign.h.
 */
#include <errno.h>
#include <string.h>

#include "sl_assign.h"

/*
 * R2.2 after FLINK-26334. Java's long wraps and C's signed overflow is
 * undefined (C3), so the subtractions run in uint64_t, which wraps mod
 * 2^64 exactly like Java; size > 0 and |r| < size keep % and r + size in
 * range.
 */
int64_t
sl_assign_window_start(int64_t ts, int64_t offset, int64_t size)
{
	int64_t r = (int64_t)((uint64_t)ts - (uint64_t)offset) % size;

	if (r < 0)
		return (int64_t)((uint64_t)ts - (uint64_t)(r + size));
	return (int64_t)((uint64_t)ts - (uint64_t)r);
}

/* end = start + len, saturated: a wrapped end would be an empty window */
static inline int64_t
sat_add(int64_t a, int64_t b)
{
	int64_t s;

	if (__builtin_add_overflow(a, b, &s))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return s;
}

static inline int64_t
abs64(int64_t v)
{
	/* INT64_MIN has no absolute value; it is never < a positive size */
	return v == INT64_MIN ? INT64_MAX : (v < 0 ? -v : v);
}

int
sl_assign_tumbling(struct sl_assign *a, enum sl_assign_time time,
		   int64_t size, int64_t offset)
{
	if (a == NULL || size <= 0 || abs64(offset) >= size ||
	    offset == INT64_MIN)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	a->kind = SL_ASSIGN_TUMBLING;
	a->time = time;
	a->size = size;
	a->slide = size;
	a->offset = offset;
	return 0;
}

int
sl_assign_sliding(struct sl_assign *a, enum sl_assign_time time,
		  int64_t size, int64_t slide, int64_t offset)
{
	if (a == NULL || size <= 0 || slide <= 0 || offset == INT64_MIN ||
	    abs64(offset) >= slide || size / slide > 10000000)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	a->kind = SL_ASSIGN_SLIDING;
	a->time = time;
	a->size = size;
	a->slide = slide;
	a->offset = offset;
	return 0;
}

int
sl_assign_session(struct sl_assign *a, enum sl_assign_time time, int64_t gap)
{
	if (a == NULL || gap <= 0)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	a->kind = SL_ASSIGN_SESSION;
	a->time = time;
	a->gap = gap;
	return 0;
}

unsigned int
sl_assign_max_windows(const struct sl_assign *a)
{
	if (a->kind != SL_ASSIGN_SLIDING)
		return 1;
	return (unsigned int)(a->size / a->slide + (a->size % a->slide != 0));
}

int
sl_assign_windows(const struct sl_assign *a, int64_t ts, int64_t now,
		  struct sl_assign_window *out, unsigned int cap)
{
	int64_t t = a->time == SL_ASSIGN_PROCESSING_TIME ? now : ts;
	unsigned int n = 0;
	int64_t s, lo;

	if (a->time == SL_ASSIGN_EVENT_TIME && ts == INT64_MIN)
		return -EINVAL;
	if (cap < sl_assign_max_windows(a))
		return -ENOSPC;
	switch (a->kind) {
	case SL_ASSIGN_TUMBLING:
		s = sl_assign_window_start(t, a->offset, a->size);
		out[0].start = s;
		out[0].end = sat_add(s, a->size);
		return 1;
	case SL_ASSIGN_SESSION:
		out[0].start = t;
		out[0].end = sat_add(t, a->gap);
		return 1;
	case SL_ASSIGN_SLIDING:
		s = sl_assign_window_start(t, a->offset, a->slide);
		/* s > t - size; near INT64_MIN t - size has no value: all s */
		if (__builtin_sub_overflow(t, a->size, &lo)) {
			for (;;) {
				out[n].start = s;
				out[n].end = sat_add(s, a->size);
				n++;
				if (n == cap ||
				    __builtin_sub_overflow(s, a->slide, &s))
					break;
			}
			return (int)n;
		}
		while (s > lo) {
			out[n].start = s;
			out[n].end = sat_add(s, a->size);
			n++;
			if (__builtin_sub_overflow(s, a->slide, &s))
				break;
		}
		return (int)n;
	}
	return -EINVAL;
}

int64_t
sl_assign_cleanup_time(const struct sl_assign *a,
		       const struct sl_assign_window *w, int64_t lateness)
{
	int64_t c;

	if (a->time == SL_ASSIGN_PROCESSING_TIME)
		return sl_assign_max_ts(w);
	if (__builtin_add_overflow(sl_assign_max_ts(w), lateness, &c))
		return INT64_MAX;
	return c;
}

bool
sl_assign_window_late(const struct sl_assign *a,
		      const struct sl_assign_window *w, int64_t lateness,
		      int64_t wm)
{
	return a->time == SL_ASSIGN_EVENT_TIME &&
	       sl_assign_cleanup_time(a, w, lateness) <= wm;
}

bool
sl_assign_element_late(const struct sl_assign *a, int64_t ts,
		       int64_t lateness, int64_t wm)
{
	/* Java computes ts + L unguarded: wrap like it (C3) */
	return a->time == SL_ASSIGN_EVENT_TIME &&
	       (int64_t)((uint64_t)ts + (uint64_t)lateness) <= wm;
}

/* ---- merging ----------------------------------------------------------- */

static void
sort_by_start(struct sl_assign_window *w, unsigned int n)
{
	/* insertion sort, stable like Collections.sort; n is a key's sessions */
	for (unsigned int i = 1; i < n; i++) {
		struct sl_assign_window x = w[i];
		unsigned int j = i;

		while (j > 0 && w[j - 1].start > x.start) {
			w[j] = w[j - 1];
			j--;
		}
		w[j] = x;
	}
}

unsigned int
sl_assign_merge_windows(struct sl_assign_window *w, unsigned int n,
			struct sl_assign_window *out, unsigned int *run_len)
{
	unsigned int m = 0;

	if (n == 0)
		return 0;
	sort_by_start(w, n);
	out[0] = w[0];
	if (run_len != NULL)
		run_len[0] = 1;
	for (unsigned int i = 1; i < n; i++) {
		if (sl_assign_intersects(&out[m], &w[i])) {
			/* cover */
			if (w[i].start < out[m].start)
				out[m].start = w[i].start;
			if (w[i].end > out[m].end)
				out[m].end = w[i].end;
			if (run_len != NULL)
				run_len[m]++;
		} else {
			out[++m] = w[i];
			if (run_len != NULL)
				run_len[m] = 1;
		}
	}
	return m + 1;
}

static inline bool
win_eq(const struct sl_assign_window *a, const struct sl_assign_window *b)
{
	return a->start == b->start && a->end == b->end;
}

int
sl_assign_mset_init(struct sl_assign_mset *s, unsigned int cap)
{
	if (s == NULL || cap == 0 || cap > SL_ASSIGN_MSET_MAX)
		return -EINVAL;
	s->n = 0;
	s->cap = cap;
	return 0;
}

/* One candidate of the fold: a window, its state window, new or not. */
struct cand {
	struct sl_assign_mset_ent e;
	bool is_new;
};

/*
 * The cases a session meets on almost every element, without the general
 * fold's copies: w intersects no window of the set (it is inserted in
 * order) or exactly one (w and it merge into their cover). A set's
 * windows never intersect each other, so the cover cannot reach a
 * neighbour: the fold would make the same single run, call fn with the
 * same arguments and leave the same set. @return true when handled, with
 * the add's return value in *rc.
 */
static bool
mset_add_simple(struct sl_assign_mset *s, const struct sl_assign_window *w,
		sl_assign_merge_fn fn, void *arg, struct sl_assign_window *result,
		int *rc)
{
	struct sl_assign_window cover;
	unsigned int hit = 0, j = 0, pos = 0;

	for (unsigned int i = 0; i < s->n; i++) {
		if (sl_assign_intersects(&s->ent[i].w, w)) {
			if (hit++ != 0)
				return false;
			j = i;
		}
		if (s->ent[i].w.start <= w->start)
			pos = i + 1;
	}
	if (hit == 0) {
		if (s->n + 1 > s->cap) {
			*rc = -ENOSPC;
			return true;
		}
		memmove(&s->ent[pos + 1], &s->ent[pos],
			(s->n - pos) * sizeof(s->ent[0]));
		s->ent[pos].w = *w;
		s->ent[pos].state = *w;
		s->n++;
		*result = *w;
		*rc = 0;
		return true;
	}
	cover = s->ent[j].w;
	if (w->start < cover.start)
		cover.start = w->start;
	if (w->end > cover.end)
		cover.end = w->end;
	if (!win_eq(&cover, &s->ent[j].w) && fn != NULL) {
		/* no state window to fold, but a valid array, as the fold's */
		const struct sl_assign_window none = { 0, 0 };
		int r = fn(arg, &cover, &s->ent[j].w, 1, &s->ent[j].state,
			   &none, 0);

		if (r < 0) {
			*rc = r;
			return true;
		}
	}
	s->ent[j].w = cover;
	*result = cover;
	*rc = 0;
	return true;
}

int
sl_assign_mset_add(struct sl_assign_mset *s, const struct sl_assign_window *w,
		   sl_assign_merge_fn fn, void *arg,
		   struct sl_assign_window *result)
{
	struct cand c[SL_ASSIGN_MSET_MAX + 1];
	struct sl_assign_mset_ent out[SL_ASSIGN_MSET_MAX + 1];
	struct sl_assign_window merged[SL_ASSIGN_MSET_MAX];
	struct sl_assign_window mstate[SL_ASSIGN_MSET_MAX];
	unsigned int run_at[SL_ASSIGN_MSET_MAX + 1], run_n[SL_ASSIGN_MSET_MAX + 1];
	unsigned int n = 0, m = 0, i, pos;
	int simple;

	if (s == NULL || w == NULL || result == NULL || s->n > s->cap ||
	    s->cap > SL_ASSIGN_MSET_MAX)
		return -EINVAL;
	for (i = 0; i < s->n; i++)
		if (win_eq(&s->ent[i].w, w)) {
			*result = *w;	/* already in flight: nothing merges */
			return 0;
		}
	if (mset_add_simple(s, w, fn, arg, result, &simple))
		return simple;
	/* existing windows are sorted by start; the new one goes after the
	 * ones with an equal start, as a stable sort of (existing..., new) */
	for (pos = 0; pos < s->n && s->ent[pos].w.start <= w->start; pos++)
		;
	for (i = 0; i < s->n + 1; i++) {
		if (i == pos) {
			c[n].e.w = *w;
			c[n].e.state = *w;
			c[n++].is_new = true;
		}
		if (i < s->n) {
			c[n].e = s->ent[i];
			c[n++].is_new = false;
		}
	}
	/* fold runs of intersecting windows (TimeWindow.mergeWindows) */
	for (i = 0; i < n; i++) {
		if (m > 0 && sl_assign_intersects(&out[m - 1].w, &c[i].e.w)) {
			struct sl_assign_window *o = &out[m - 1].w;

			if (c[i].e.w.start < o->start)
				o->start = c[i].e.w.start;
			if (c[i].e.w.end > o->end)
				o->end = c[i].e.w.end;
			run_n[m - 1]++;
			continue;
		}
		out[m].w = c[i].e.w;
		out[m].state = c[i].e.state;
		run_at[m] = i;
		run_n[m++] = 1;
	}
	if (m > s->cap)
		return -ENOSPC;
	*result = *w;
	for (unsigned int r = 0; r < m; r++) {
		unsigned int nm = 0, ns = 0;
		bool has_state = false;

		if (run_n[r] == 1)
			continue;
		for (i = run_at[r]; i < run_at[r] + run_n[r]; i++) {
			if (c[i].is_new) {
				*result = out[r].w;
				continue;
			}
			merged[nm++] = c[i].e.w;
			/* survivor: the earliest pre-existing window's state */
			if (!has_state) {
				out[r].state = c[i].e.state;
				has_state = true;
			} else {
				mstate[ns++] = c[i].e.state;
			}
		}
		/* the new window inside one existing window: nothing to merge */
		if (nm == 1 && win_eq(&merged[0], &out[r].w))
			continue;
		if (fn != NULL) {
			int rc = fn(arg, &out[r].w, merged, nm, &out[r].state,
				    mstate, ns);

			if (rc < 0)
				return rc;
		}
	}
	memcpy(s->ent, out, m * sizeof(out[0]));
	s->n = m;
	return 0;
}

int
sl_assign_mset_state_window(const struct sl_assign_mset *s,
			    const struct sl_assign_window *w,
			    struct sl_assign_window *state)
{
	for (uint32_t i = 0; i < s->n && i < s->cap; i++)
		if (win_eq(&s->ent[i].w, w)) {
			*state = s->ent[i].state;
			return 0;
		}
	return -ENOENT;
}

int
sl_assign_mset_retire(struct sl_assign_mset *s, const struct sl_assign_window *w)
{
	for (uint32_t i = 0; i < s->n && i < s->cap; i++)
		if (win_eq(&s->ent[i].w, w)) {
			memmove(&s->ent[i], &s->ent[i + 1],
				(s->n - i - 1) * sizeof(s->ent[0]));
			s->n--;
			return 0;
		}
	return -ENOENT;
}
