/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_TIMER_H
#define SL_TIMER_H

/**
 * @file
 * Flink's internal timer service for one keyed operator instance
 * (semantics.md R4.3-R4.7, R1.9, R2.11, Appendix C1): event-time and
 * processing-time timers identified by (key, namespace, timestamp).
 *
 *  - Registering a timer that exists is a no-op (coalescing, W4.3);
 *    deleting one that does not exist is a no-op.
 *  - sl_timer_advance_watermark(wm) fires every event-time timer with
 *    ts <= wm in ascending order before it returns, so the caller can
 *    forward WM(wm) after the timers' output (R1.9). A timer registered at
 *    or below the current watermark from element processing waits for the
 *    next advance (R4.4); one registered from inside a timer callback
 *    while a watermark is being processed fires in the same pass (C1).
 *  - sl_timer_advance_processing_time(now) fires processing-time timers
 *    with ts <= now, the same contract as Flink's test harness. A
 *    dataplane that wants R4.2's "not before wall clock T + 1" passes the
 *    clock minus one.
 *  - Equal timestamps fire in a fixed total order: key bytes, then
 *    namespace bytes, ascending by memcmp (R2.11 leaves it open; this
 *    order does not depend on how key groups are spread over workers).
 *
 * Storage, and why. A timer is one entry of a value state in the
 * operator's sl_state (descriptors "<name>.et" and "<name>.pt"): key = the
 * timer's key, namespace = [namespace bytes][int64 timestamp], value = a
 * 64-bit generation. So the checkpoint that covers the operator's state
 * covers its timers, per key group, and a snapshot of N workers restores
 * onto M (R4.7) with no timer-specific file format. sl_state is a hash
 * table without order, so each domain also keeps, in plain memory, one
 * binary min-heap per owned key group and a heap over the key groups'
 * heads (Flink's KeyGroupPartitionedPriorityQueue has the same shape).
 * The per-key-group heaps are an index rebuilt from the state after a
 * restore (sl_timer_rebuild); they are never checkpointed.
 *
 * A heap rather than a timing wheel: watermarks jump by arbitrary amounts
 * over the whole int64 range (WM(MAX) at end of input), window ends are
 * sparse, and the order of equal timestamps must be exact; a heap gives
 * O(log n) register and fire with exact order and no tick resolution to
 * tune. The global heap over key groups keeps the minimum O(log groups).
 *
 * Deletion is lazy: delete removes the state entry and leaves the heap
 * entry behind. Each heap entry carries the generation it was registered
 * with; a popped entry whose state entry is gone or has another
 * generation (deleted, or deleted and registered again) is discarded.
 * A key group's heap is compacted when its stale entries outnumber its
 * live ones, so memory stays O(live timers) amortised.
 *
 * Cost: register = one state get (+ one put and one heap push when new);
 * fire = one heap pop, one state get and one clear. Heap arrays grow by
 * doubling: no allocation per timer beyond that amortised growth.
 *
 * Threading: the thread that owns the sl_state. Callbacks may register
 * and delete timers of the same service.
 *
 * Errors are negative errno values.
 */

#include <stdint.h>

#include "sl_state.h"

#define SL_TIMER_KEY_MAX 256	/**< bytes of a key */
#define SL_TIMER_NS_MAX 256	/**< bytes of a namespace */

enum sl_timer_domain {
	SL_TIMER_EVENT_TIME = 0,
	SL_TIMER_PROCESSING_TIME = 1,
};

/**
 * A firing timer: its domain, key group, key, namespace and timestamp.
 * The timer is already removed when this runs. A negative return stops
 * the advance, which returns that value (the remaining due timers stay
 * queued and fire at the next advance).
 */
typedef int (*sl_timer_fire_fn)(void *arg, enum sl_timer_domain dom,
				uint16_t kg, const void *key, const void *ns,
				int64_t ts);

/**
 * Optional: the timer that fires next (key group, key, namespace) is
 * known one callback ahead; the operator may prefetch the state its
 * callback will read for it (no state calls, only prefetches).
 */
typedef void (*sl_timer_prefetch_fn)(void *arg, uint16_t kg, const void *key,
				     const void *ns);

struct sl_timer_conf {
	const char *name;	/**< descriptor prefix, < 60 chars */
	uint16_t key_len;	/**< 1 .. SL_TIMER_KEY_MAX */
	uint16_t ns_len;	/**< 0 .. SL_TIMER_NS_MAX (0: constant namespace) */
	uint32_t first_kg, last_kg;	/**< the sl_state's owned key groups */
	uint32_t capacity_hint;	/**< expected timers per key group (0: 64) */
	sl_timer_fire_fn fire;
	sl_timer_prefetch_fn prefetch;	/**< optional, same arg */
	void *arg;
};

struct sl_timer;

/**
 * Create the service over st and register its two descriptors there (so
 * register it before sl_state_restore() of a checkpoint that holds them).
 * NULL on error with errno set.
 */
struct sl_timer *sl_timer_create(struct sl_state *st,
				 const struct sl_timer_conf *conf);
void sl_timer_destroy(struct sl_timer *tm);

/**
 * Register a timer. @return 1 new, 0 already there (coalesced), -ERANGE
 * kg not owned, -ELOOP when a callback re-registers the very timer it is
 * running for while its due time is not past (C1: it would fire again in
 * the same pass, forever), -ENOMEM, or another -errno from the state.
 */
int sl_timer_register(struct sl_timer *tm, enum sl_timer_domain dom,
		      uint16_t kg, const void *key, const void *ns, int64_t ts);
/** Delete a timer. @return 1 deleted, 0 absent, -errno. */
int sl_timer_delete(struct sl_timer *tm, enum sl_timer_domain dom,
		    uint16_t kg, const void *key, const void *ns, int64_t ts);
/** @return 1 if the timer is pending, 0 if not, -errno. */
int sl_timer_exists(struct sl_timer *tm, enum sl_timer_domain dom,
		    uint16_t kg, const void *key, const void *ns, int64_t ts);

/**
 * Process WM(wm): fire every event-time timer with ts <= wm in order.
 * Watermarks never go back (R1.4): wm below the current one is -EINVAL;
 * an equal one fires what was registered at or below it since.
 * @return timers fired, or -errno.
 */
int sl_timer_advance_watermark(struct sl_timer *tm, int64_t wm);
/** Fire every processing-time timer with ts <= now. @return fired, -errno. */
int sl_timer_advance_processing_time(struct sl_timer *tm, int64_t now);

/** Current watermark: INT64_MIN until the first advance (R1.11). */
int64_t sl_timer_watermark(const struct sl_timer *tm);
/** Processing time of the last advance, INT64_MIN before it. */
int64_t sl_timer_processing_time(const struct sl_timer *tm);
/** Earliest pending timestamp of dom, or INT64_MAX when none. */
int64_t sl_timer_next(struct sl_timer *tm, enum sl_timer_domain dom);
/** Pending timers of dom. */
uint64_t sl_timer_count(const struct sl_timer *tm, enum sl_timer_domain dom);

/**
 * Rebuild the queues from the state after sl_state_restore() loaded a
 * checkpoint: every timer entry of the owned key groups is queued again
 * (restored processing-time timers that are already due fire at the next
 * advance, R4.7). The watermark starts again at INT64_MIN (R1.11).
 * Reads the state with its snapshot iterator, so no snapshot may be in
 * progress. @return timers queued, or -errno.
 */
int sl_timer_rebuild(struct sl_timer *tm);

#endif /* SL_TIMER_H */
