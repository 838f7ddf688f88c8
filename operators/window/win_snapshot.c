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
	return 0;
}

size_t
sl_win_snapshot_windows(const struct sl_win *w, void *buf, size_t cap)
{
	const size_t need = 4 + 8 * (size_t)w->snap_n_open;
	uint32_t n = w->snap_n_open;
	uint8_t *p = buf;

	if (cap < need)
		return need;
	memcpy(p, &n, 4);
	memcpy(p + 4, w->snap_open, 8 * (size_t)n);
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
	if ((size_t)n > (len - 4) / 8 || len != 4 + 8 * (size_t)n)
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
