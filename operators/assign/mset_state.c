/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A key's MergingWindowSet in list state: one element as long as its
 * windows, so a key pays for the sessions it has (40 bytes for one), not
 * for the most it may have. Shared by the session window and the session
 * window join, which keep the set the same way.
 */
#include <errno.h>
#include <string.h>

#include "sl_assign.h"

/* The stored set: checked like any input (it may come from a file); the
 * list state stops at a nonzero return, so the verdict is in cap. */
static int
mset_elem(void *arg, const void *elem, uint32_t len)
{
	struct sl_assign_mset *set = arg;
	const uint32_t cap = set->cap;
	struct sl_assign_mset h;

	set->cap = UINT32_MAX;
	if (len < sizeof(h))
		return 1;
	memcpy(&h, elem, sizeof(h));
	if (h.n > cap || len != sl_assign_mset_size(h.n))
		return 1;
	memcpy(set, elem, len);
	set->cap = cap;
	return 1;
}

int
sl_assign_mset_load(struct sl_state *st, int id, const struct sl_state_ref *r,
		    struct sl_assign_mset *set, unsigned int cap)
{
	int rc = sl_assign_mset_init(set, cap);

	if (rc < 0)
		return rc;
	rc = sl_state_list_get(st, id, r, 0, mset_elem, set);
	if (rc < 0)
		return rc;
	return set->cap == UINT32_MAX ? -EINVAL : 0;
}

int
sl_assign_mset_save(struct sl_state *st, int id, const struct sl_state_ref *r,
		    const struct sl_assign_mset *set)
{
	const void *elem = set;
	uint32_t len = (uint32_t)sl_assign_mset_size(set->n);

	return sl_state_list_update(st, id, r, 0, &elem, &len, set->n == 0 ? 0 : 1);
}
