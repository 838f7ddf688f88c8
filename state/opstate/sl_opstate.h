/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_OPSTATE_H
#define SL_OPSTATE_H

/**
 * @file
 * Operator (non-keyed) state, semantics.md R5.3. EAL-free.
 *
 * One struct sl_opstate per task (a worker, a source lcore) holds named
 * states that belong to the task, not to a key:
 *
 *  - list states, each declared with how a restore onto another number
 *    of tasks redistributes it:
 *     - SL_OPSTATE_SPLIT (Flink's SPLIT_DISTRIBUTE, "even-split"): the
 *       old tasks' lists, concatenated in task order, are cut into
 *       contiguous chunks, one per new task, as Flink's
 *       RoundRobinOperatorStateRepartitioner does: T elements onto M
 *       tasks give every task T / M, and the T % M first tasks of the
 *       round one more; the round of the first split state (by name)
 *       starts at task 0, and each next state's round starts at the
 *       first task that got no extra element in the previous one, so
 *       the extras rotate. A restore onto the same number of tasks
 *       gives each task its own list back (Flink does not repartition
 *       then either).
 *     - SL_OPSTATE_UNION: every new task gets the whole concatenation.
 *  - broadcast map states (SL_OPSTATE_BROADCAST, Flink's
 *    BroadcastState): byte keys to byte values, replicated on every
 *    task. Every old task's copy should be equal; a new task i takes old
 *    task i % N's copy (Flink's rule), and the restore reports copies
 *    that differ.
 *
 * Element order: a list keeps insertion order; a map iterates in key
 * byte order (memcmp, then length), so snapshots of equal maps are
 * equal bytes.
 *
 * Snapshots (sl_opstate_snapshot) are self-describing byte strings, the
 * payload of one SL_CKPT_SEC_OPERATOR section (docs/checkpoints.md):
 * the writing task's index and parallelism, then each state's mode,
 * name and elements, little-endian.
 *
 * Threads: one owner. Writes allocate (a list grows by doubling, a map
 * entry is one allocation): operator state is per task and small (split
 * offsets, rules), not per event.
 */

#include <stddef.h>
#include <stdint.h>

#define SL_OPSTATE_NAME_MAX 63		/**< bytes of a state name */
#define SL_OPSTATE_MAX 32		/**< states per task */
#define SL_OPSTATE_ELEM_MAX (16u << 20)	/**< bytes of one element, key or value */

enum sl_opstate_mode {
	SL_OPSTATE_SPLIT = 1,		/**< list, even-split redistribution */
	SL_OPSTATE_UNION = 2,		/**< list, union redistribution */
	SL_OPSTATE_BROADCAST = 3,	/**< map, replicated */
};

struct sl_opstate;

/** One element of sl_opstate_list_update(). */
struct sl_opstate_elem {
	const void *p;
	uint32_t len;
};

/**
 * The operator state of task (0-based) of n_tasks. NULL and errno
 * (EINVAL, ENOMEM) on failure.
 */
struct sl_opstate *sl_opstate_create(uint16_t task, uint16_t n_tasks);
void sl_opstate_destroy(struct sl_opstate *os);

/**
 * Declare (or find) the state called name with mode. Declaring a name
 * again with the same mode returns the same id.
 * @return the state's id (>= 0), or -EINVAL (bad name or mode, a name
 *   already declared with another mode), -ENOSPC (SL_OPSTATE_MAX).
 */
int sl_opstate_declare(struct sl_opstate *os, const char *name,
		       enum sl_opstate_mode mode);

/** List states. -EINVAL if id is not a list, -E2BIG, -ENOMEM. */
int sl_opstate_list_add(struct sl_opstate *os, int id, const void *p, uint32_t len);
/** Replace the list with e[0..n) (ListState.update). */
int sl_opstate_list_update(struct sl_opstate *os, int id,
			   const struct sl_opstate_elem *e, uint32_t n);
void sl_opstate_list_clear(struct sl_opstate *os, int id);
/** Elements in the list (0 for a bad id). */
uint32_t sl_opstate_list_len(const struct sl_opstate *os, int id);
/** Element i: 0, or -ENOENT past the end. *p valid until the next write. */
int sl_opstate_list_get(const struct sl_opstate *os, int id, uint32_t i,
			const void **p, uint32_t *len);

/** Broadcast map states. put: 0, or -EINVAL, -E2BIG, -ENOMEM. */
int sl_opstate_map_put(struct sl_opstate *os, int id, const void *k, uint32_t klen,
		       const void *v, uint32_t vlen);
/** The value of k, NULL if absent; valid until the next write. */
const void *sl_opstate_map_get(const struct sl_opstate *os, int id, const void *k,
			       uint32_t klen, uint32_t *vlen);
/** 1 removed, 0 absent, -EINVAL. */
int sl_opstate_map_remove(struct sl_opstate *os, int id, const void *k, uint32_t klen);
uint32_t sl_opstate_map_len(const struct sl_opstate *os, int id);
/** Each entry in key order; fn's non-zero return stops and is returned. */
int sl_opstate_map_iter(const struct sl_opstate *os, int id,
			int (*fn)(void *arg, const void *k, uint32_t klen,
				  const void *v, uint32_t vlen),
			void *arg);

/**
 * Serialise every state into buf[0..cap).
 * @return the snapshot's size; nothing is written when it exceeds cap
 *   (call with cap 0 to size the buffer).
 */
size_t sl_opstate_snapshot(const struct sl_opstate *os, void *buf, size_t cap);

/**
 * Replace the states with what this task (os's task of its n_tasks)
 * gets from the snapshots of all N old tasks (snap[0..n), in any order,
 * each naming its task; N = n). States not declared yet are declared
 * with their snapshot's mode.
 * @param diverged out: broadcast states whose old copies were not all
 *   equal (msg names the first); may be NULL.
 * @return 0, or -EINVAL/-EBADMSG with msg saying what does not fit
 *   (a torn payload, a missing or repeated task, a mode that changed).
 */
int sl_opstate_restore(struct sl_opstate *os, const void *const *snap,
		       const size_t *len, uint32_t n, unsigned int *diverged,
		       char *msg, size_t msglen);

/** "split", "union", "broadcast". */
const char *sl_opstate_mode_name(enum sl_opstate_mode m);

#endif /* SL_OPSTATE_H */
