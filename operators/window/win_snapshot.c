/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Window snapshots: the keyed state is the backend's copy-on-write
 * snapshot, restored by key group; what the operator adds is its list of
 * open windows, which a restore takes as the union over all files, so each
 * new owner of a key group finds its windows open.
 */
#include <errno.h>

#include "sl_window.h"
#include "win_private.h"

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
	w->snap_wm = w->wm;
	return 0;
}

size_t
sl_win_snapshot_windows(const struct sl_win *w, void *buf, size_t cap)
{
	/* Sessions need it without lateness too (win_session.c). */
	const bool late = w->conf.lateness > 0 || w->conf.gap > 0;
	const size_t need = 4 + 8 * (size_t)w->snap_n_open + (late ? 16 : 0);
	uint32_t n = w->snap_n_open;
	uint8_t *p = buf;

	if (cap < need)
		return need;
	memcpy(p, &n, 4);
	memcpy(p + 4, w->snap_open, 8 * (size_t)n);
	if (late) {
		/* Which of them fired: those of these key groups that end
		 * at or before this watermark. */
		p += 4 + 8 * (size_t)n;
		memcpy(p, &w->conf.first_kg, 4);
		memcpy(p + 4, &w->conf.last_kg, 4);
		memcpy(p + 8, &w->snap_wm, 8);
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
}

int
sl_win_restore_windows(struct sl_win *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t n;

	if (len < 4)
		return -EINVAL;
	memcpy(&n, p, 4);
	if ((size_t)n > (len - 4) / 8 ||
	    (len != 4 + 8 * (size_t)n && len != 4 + 8 * (size_t)n + 16))
		return -EINVAL;
	if (len == 4 + 8 * (size_t)n + 16) {
		uint32_t lo, hi;
		int64_t wm;

		p += 4 + 8 * (size_t)n;
		memcpy(&lo, p, 4);
		memcpy(&hi, p + 4, 4);
		memcpy(&wm, p + 8, 8);
		p = buf;
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
