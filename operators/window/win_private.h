/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WIN_PRIVATE_H
#define WIN_PRIVATE_H

/*
 * Shared by the window's processing (win_tumble.c), session windows
 * (win_session.c) and snapshots (win_snapshot.c).
 */

#include <stdbool.h>

#include "sl_window.h"

#define WIN_MAX_KEY_BYTES 248

/* Index of the open window starting at start, opened if needed; -1 when full. */
int win_open(struct sl_win *w, int64_t start);

/* One input row into an accumulator (count + one slot per aggregate); a
 * new accumulator is all zero. cd_new: per count_distinct, whether
 * win_cd_add found the row's value new ([cd]; NULL without any). */
void win_acc_add(const struct sl_win *w, uint8_t *val, const uint8_t *row,
		 const uint8_t *cd_new);

/* Fold accumulator src into dst (session windows merging, R2.5); both
 * hold at least one row. first/last keep the row of the earlier (later)
 * arrival sequence; count_distinct's values are win_cd_merge's. */
void win_acc_merge(const struct sl_win *w, uint8_t *dst, const uint8_t *src);

/* Session first/last: stamp the row just added with its arrival
 * sequence (first only when it created the accumulator); the largest
 * sequence an accumulator holds; whether there are any. */
void win_acc_stamp(const struct sl_win *w, uint8_t *val, uint64_t seq,
		   bool created);
uint64_t win_acc_seq_max(const struct sl_win *w, const uint8_t *val);
bool win_acc_has_seq(const struct sl_win *w);

/* Remove the entries of the windows that left during a snapshot. */
void win_drop_deferred(struct sl_win *w);

/* The heap tables' size hint for accumulators of w->val_len bytes. */
uint32_t win_acc_hint(const struct sl_win *w, uint32_t hint);

/* Let d (the accumulators' state) restore checkpoints of the layout
 * before count() kept no slot of its own (sl_state_desc.upgrade). */
void win_acc_legacy(struct sl_win *w, struct sl_state_desc *d);

/* count_distinct (aggregate a) of a row at ref (hashed for its map):
 * @return 1 the value is new to (key, ns) and now in its map, 0 seen,
 * -errno (counted). */
int win_cd_add(struct sl_win *w, uint16_t a, const struct sl_state_ref *ref,
	       const uint8_t *row);
/* count_distinct aggregate a's map descriptor and index among them. */
int win_cd_map(const struct sl_win *w, uint16_t a);
uint16_t win_cd_index(const struct sl_win *w, uint16_t a);
/* Zero the count_distinct counts of accumulator val. */
void win_cd_zero(const struct sl_win *w, uint8_t *val);
/* Remove the distinct values of (key, ns): the window's state goes. */
void win_cd_clear(struct sl_win *w, uint16_t kg, const void *key,
		  const void *ns);
/* Session merge: move every count_distinct's values of (key, src_ns)
 * into (key, dst_ns), counting those new there into accumulator dst.
 * @return 0 or -errno. */
int win_cd_merge(struct sl_win *w, uint16_t kg, const void *key, uint8_t *dst,
		 const void *dst_ns, const void *src_ns);

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
