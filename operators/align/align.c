/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "sl_align.h"

void
sl_align_init(struct sl_align *a, uint16_t n_inputs, enum sl_align_mode m)
{
	memset(a, 0, sizeof(*a));
	a->n = n_inputs;
	a->mode = m;
}

static uint64_t
all_mask(const struct sl_align *a)
{
	return a->n == 64 ? UINT64_MAX : (1ull << a->n) - 1;
}

/* Every channel has the barrier (or has ended): snapshot, unblock. */
static uint64_t
complete(struct sl_align *a)
{
	uint64_t id = a->pending;

	if (((a->arrived | a->finished) & all_mask(a)) != all_mask(a))
		return 0;
	a->last_done = id;
	a->pending = 0;
	a->arrived = 0;
	a->blocked = 0;
	return id;
}

/* Unaligned: id starts now; an older one still recording is given up. */
static uint64_t
start(struct sl_align *a, uint64_t id)
{
	if (a->pending != 0)
		a->abandoned++;
	a->pending = id;
	a->arrived = 0;
	/* Every channel may have ended already: nothing is in flight. */
	complete(a);
	return id;
}

uint64_t
sl_align_trigger(struct sl_align *a, uint64_t id)
{
	if (a->mode != SL_ALIGN_UNALIGNED || id <= a->last_done || id <= a->pending)
		return 0;
	return start(a, id);
}

uint64_t
sl_align_barrier(struct sl_align *a, uint16_t c, uint64_t id)
{
	if (id <= a->last_done)
		return 0;		/* a late copy of a finished checkpoint */
	if (id < a->pending)
		return 0;		/* older than the one in flight: abandoned */
	if (a->mode == SL_ALIGN_UNALIGNED) {
		uint64_t snap = id > a->pending ? start(a, id) : 0;

		if (a->pending == id) {
			a->arrived |= 1ull << c;
			complete(a);
		}
		return snap;
	}
	if (id > a->pending) {
		if (a->pending != 0)
			a->abandoned++;
		a->pending = id;
		a->arrived = 0;
		a->blocked = 0;
	}
	a->arrived |= 1ull << c;
	if (a->mode == SL_ALIGN_EXACTLY_ONCE)
		a->blocked |= 1ull << c;
	return complete(a);
}

uint64_t
sl_align_finished(struct sl_align *a, uint16_t c)
{
	uint64_t id;

	a->finished |= 1ull << c;
	a->blocked &= ~(1ull << c);
	id = a->pending ? complete(a) : 0;
	/* Unaligned: that only completes the channel state; the snapshot
	 * was taken when the checkpoint started. */
	return a->mode == SL_ALIGN_UNALIGNED ? 0 : id;
}
