/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_ALIGN_H
#define SL_ALIGN_H

/**
 * @file
 * Checkpoint barrier handling at an operator with several input channels
 * (semantics.md R6.1-R6.3), as pure logic the dataplane's loops drive:
 *  - exactly-once (aligned): the first barrier n of a channel blocks that
 *    channel; once barrier n has arrived on every channel the operator
 *    snapshots, forwards n and every channel is unblocked (R6.2);
 *  - at-least-once: channels are never blocked; the snapshot happens when
 *    barrier n has arrived on every channel (R6.3);
 *  - unaligned (exactly-once without waiting): the operator snapshots as
 *    soon as it learns of checkpoint n, from the trigger or from the first
 *    barrier n, whichever comes first, and never blocks a channel. What a
 *    channel delivers from then until its own barrier n is in flight: it is
 *    processed now and also persisted as channel state, to be replayed
 *    after a restore (Flink's unaligned checkpoints).
 * A newer barrier while n is in flight abandons n (at most one concurrent
 * checkpoint, R6.6's default), so a lost barrier cannot block forever.
 * A finished channel (end of input) counts as having every barrier.
 * EAL-free.
 */

#include <stdbool.h>
#include <stdint.h>

#define SL_ALIGN_MAX_INPUTS 64

enum sl_align_mode {
	SL_ALIGN_EXACTLY_ONCE,
	SL_ALIGN_AT_LEAST_ONCE,
	SL_ALIGN_UNALIGNED,
};

struct sl_align {
	enum sl_align_mode mode;
	uint16_t n;
	uint64_t pending;	/**< checkpoint id being aligned; 0 = none */
	uint64_t arrived;	/**< channels that delivered barrier `pending` */
	uint64_t blocked;	/**< channels not to be read (aligned mode) */
	uint64_t finished;	/**< channels at end of input */
	uint64_t last_done;	/**< newest checkpoint id snapshotted */
	uint64_t abandoned;	/**< checkpoints given up for a newer one */
};

void sl_align_init(struct sl_align *a, uint16_t n_inputs, enum sl_align_mode m);

/** May channel c be read now? */
static inline bool
sl_align_readable(const struct sl_align *a, uint16_t c)
{
	return !((a->blocked >> c) & 1);
}

/**
 * Unaligned mode: is what channel c delivers now in flight for the pending
 * checkpoint (after the snapshot, before c's barrier)?
 */
static inline bool
sl_align_in_flight(const struct sl_align *a, uint16_t c)
{
	return a->pending != 0 && !(((a->arrived | a->finished) >> c) & 1);
}

/**
 * Unaligned mode: checkpoint id was triggered; the operator may snapshot
 * before any barrier reaches it, so the barrier overtakes every row still
 * queued in its inputs.
 * @return id when the operator must snapshot now, 0 otherwise (an old or
 *   already started checkpoint, or another mode).
 */
uint64_t sl_align_trigger(struct sl_align *a, uint64_t id);

/**
 * Barrier id arrives on channel c.
 * @return id when the operator must snapshot now and forward the barrier
 *   (aligned and at-least-once: all channels delivered it; unaligned: the
 *   first sign of id), 0 otherwise. In unaligned mode last_done becomes id
 *   when the last channel delivers it: the channel state is complete.
 */
uint64_t sl_align_barrier(struct sl_align *a, uint16_t c, uint64_t id);

/**
 * Channel c reached end of input. @return a checkpoint id whose alignment
 * this completes (snapshot now), or 0.
 */
uint64_t sl_align_finished(struct sl_align *a, uint16_t c);

#endif /* SL_ALIGN_H */
