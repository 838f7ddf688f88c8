/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WIN_PRIVATE_H
#define WIN_PRIVATE_H

/*
 * Shared by the window's processing (win_tumble.c), session windows
 * (win_session.c) and snapshots (win_snapshot.c).
 */

#include "sl_window.h"

#define WIN_MAX_KEY_BYTES 248

/* Index of the open window starting at start, opened if needed; -1 when full. */
int win_open(struct sl_win *w, int64_t start);

/* One input row into an accumulator (count + one 8-byte slot per
 * aggregate); a new accumulator is all zero. */
void win_acc_add(const struct sl_win *w, uint8_t *val, const uint8_t *row);

/* Fold accumulator src into dst (session windows merging, R2.5); both
 * hold at least one row. first/last never get here (sl_win_conf_check). */
void win_acc_merge(const struct sl_win *w, uint8_t *dst, const uint8_t *src);

/* Write one result row (key, [start, end), the accumulators' results)
 * through out; early says whether it is an early firing (out_early). */
void win_emit_row(struct sl_win *w, sl_win_out_fn out, void *ctx,
		  const void *key, int64_t start, int64_t end,
		  const uint8_t *val, bool early);

/* Session windows (win_session.c): what sl_win_init, _fini, _process,
 * _advance and _restore_done do for them. */
int win_sess_init(struct sl_win *w);
void win_sess_fini(struct sl_win *w);
void win_sess_process(struct sl_win *w, const struct sl_vec *v);
void win_sess_advance(struct sl_win *w, int64_t wm, sl_win_out_fn out,
		      void *ctx);
int win_sess_restore_done(struct sl_win *w);

#endif /* WIN_PRIVATE_H */
