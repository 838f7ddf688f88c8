/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WIN_PRIVATE_H
#define WIN_PRIVATE_H

/* Shared by the window's processing (win_tumble.c) and snapshots (win_snapshot.c). */

#include "sl_window.h"

/* Index of the open window starting at start, opened if needed; -1 when full. */
int win_open(struct sl_win *w, int64_t start);

#endif /* WIN_PRIVATE_H */
