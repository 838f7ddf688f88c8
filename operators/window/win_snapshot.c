/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Window snapshots: the keyed state is the backend's copy-on-write
 * snapshot, restored by key group; what the operator adds is its list of
 * open windows, which a restore takes as the union over all files, so each
 * new owner of a key group finds its windows open.
 */
#include <errno.h>
#include <stdbool.h>

#include "sl_window.h"
#include "win_private.h"

/*
 * The watermark each key group's rows are judged by, as runs: a key group
 * restored from a checkpoint whose watermark this instance has not passed
 * yet keeps that one, so a checkpoint taken before the first watermark
 * after a restore does not forget it. Too many distinct runs (many
 * restored files): the smallest for all, which is what the instance's
 * own watermark would give once it passes them.
 */
static void
snap_runs(struct sl_win *w)
{
	const uint32_t first = w->conf.first_kg, last = w->conf.last_kg;
	struct sl_win_wm_run *r = w->snap_run;
	int64_t lo_wm = SL_TS_MAX;
	bool over = false;
	uint16_t n = 0;

	if (w->rwm == NULL || w->rwm_max <= w->wm) {
		r[0] = (struct sl_win_wm_run){ first, last, w->wm };
		w->snap_n_runs = 1;
		return;
	}
	for (uint32_t kg = first; kg <= last; kg++) {
		const int64_t e = w->rwm[kg - first] > w->wm ? w->rwm[kg - first] : w->wm;

		lo_wm = e < lo_wm ? e : lo_wm;
		if (n > 0 && r[n - 1].wm == e)
			r[n - 1].hi = kg;
		else if (n < SL_WIN_SNAP_RUNS)
			r[n++] = (struct sl_win_wm_run){ kg, kg, e };
		else
			over = true;
	}
	if (over) {
		r[0] = (struct sl_win_wm_run){ first, last, lo_wm };
		n = 1;
	}
	w->snap_n_runs = n;
}

int
sl_win_snapshot_begin(struct sl_win *w)
{
	int rc;

	if (w->snap != NULL)
		return -EBUSY;
	rc = sl_state_snapshot_begin(w->st, 0, &w->snap);
	if (rc < 0) {
		w->snap = NULL;
		return rc;
	}
	w->snap_n_open = w->n_open;
	memcpy(w->snap_open, w->open_start, sizeof(w->open_start[0]) * w->n_open);
	snap_runs(w);
	return 0;
}

size_t
sl_win_snapshot_windows(const struct sl_win *w, void *buf, size_t cap)
{
	/* Sessions need it without lateness too (win_session.c), and so
	 * does a window asked to (restore_wm). */
	const bool late = w->conf.lateness > 0 || w->conf.gap > 0 || w->conf.restore_wm;
	const size_t need = 4 + 8 * (size_t)w->snap_n_open +
			    (late ? 16 * (size_t)w->snap_n_runs : 0);
	uint32_t n = w->snap_n_open;
	uint8_t *p = buf;

	if (cap < need)
		return need;
	memcpy(p, &n, 4);
	memcpy(p + 4, w->snap_open, 8 * (size_t)n);
	/* Which of them fired: those of these key groups that end at or
	 * before this watermark. */
	p += 4 + 8 * (size_t)n;
	for (uint16_t i = 0; late && i < w->snap_n_runs; i++, p += 16) {
		memcpy(p, &w->snap_run[i].lo, 4);
		memcpy(p + 4, &w->snap_run[i].hi, 4);
		memcpy(p + 8, &w->snap_run[i].wm, 8);
	}
	return need;
}

void
sl_win_snapshot_end(struct sl_win *w)
{
	if (w->snap == NULL)
		return;
	sl_state_snapshot_end(w->st, w->snap);
	w->snap = NULL;
	win_drop_deferred(w);
}

int
sl_win_restore_windows(struct sl_win *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t n;

	if (len < 4)
		return -EINVAL;
	memcpy(&n, p, 4);
	if ((size_t)n > (len - 4) / 8 || (len - 4 - 8 * (size_t)n) % 16 != 0)
		return -EINVAL;
	for (size_t at = 4 + 8 * (size_t)n; at < len; at += 16) {
		uint32_t lo, hi;
		int64_t wm;

		memcpy(&lo, p + at, 4);
		memcpy(&hi, p + at + 4, 4);
		memcpy(&wm, p + at + 8, 8);
		if (lo > hi || hi >= w->conf.max_parallelism)
			return -EINVAL;
		/* Without lateness here, a fired window is gone: nothing
		 * to remember. */
		for (uint32_t kg = lo; w->rwm != NULL && kg <= hi; kg++) {
			if (kg < w->conf.first_kg || kg > w->conf.last_kg)
				continue;
			if (wm > w->rwm[kg - w->conf.first_kg])
				w->rwm[kg - w->conf.first_kg] = wm;
			if (wm > w->rwm_max)
				w->rwm_max = wm;
		}
	}
	/* Session windows are per key, in the keyed state: a list here is
	 * another job's. */
	if (w->sess != NULL && n != 0)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		/* Windows start on the grid of the slide (sliding) or size. */
		int64_t grid = w->conf.slide != 0 ? w->conf.slide : w->conf.size;
		int64_t start;

		memcpy(&start, p + 4 + 8 * (size_t)i, 8);
		if (sl_window_start(start, w->conf.offset, grid) != start)
			return -EINVAL;
		if (win_open(w, start) < 0)
			return -ENOSPC;
	}
	return 0;
}
