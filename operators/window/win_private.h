/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WIN_PRIVATE_H
#define WIN_PRIVATE_H

/* Shared by the window's processing (win_tumble.c) and snapshots (win_snapshot.c). */

#include "sl_window.h"

/* Mix the window into the router's key hash so each window's keys spread. */
static inline uint32_t
win_hash(uint32_t key_hash, int64_t start)
{
	uint64_t x = (uint64_t)start * 0x9e3779b97f4a7c15ull;

	return key_hash ^ (uint32_t)(x >> 32);
}

/* Index of the open window starting at start, opened if needed; -1 when full. */
int win_open(struct sl_win *w, int64_t start);

/* Append table entry e to window wi's chain, which firing walks. */
void win_chain(struct sl_win *w, uint16_t wi, uint8_t *e);

#endif /* WIN_PRIVATE_H */
