/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef OPSTATE_INT_H
#define OPSTATE_INT_H

/* Shared by opstate.c and opstate_snap.c; not for inclusion elsewhere. */

#include <stdbool.h>

#include "sl_opstate.h"

/* One map entry: key then value in one allocation. */
struct os_entry {
	uint8_t *kv;
	uint32_t klen, vlen;
};

struct os_state {
	char name[SL_OPSTATE_NAME_MAX + 1];
	enum sl_opstate_mode mode;
	/* list: elements as [u32 len][bytes] in buf, starts in off[] */
	uint8_t *buf;
	size_t len, cap;
	uint32_t *off;
	uint32_t n, off_cap;
	/* map: sorted by key */
	struct os_entry *e;
	uint32_t n_e, e_cap;
};

struct sl_opstate {
	uint16_t task, n_tasks;
	uint32_t n;
	struct os_state s[SL_OPSTATE_MAX];
};

static inline bool
os_is_list(const struct sl_opstate *os, int id)
{
	return id >= 0 && (uint32_t)id < os->n && os->s[id].mode != SL_OPSTATE_BROADCAST;
}

static inline bool
os_is_map(const struct sl_opstate *os, int id)
{
	return id >= 0 && (uint32_t)id < os->n && os->s[id].mode == SL_OPSTATE_BROADCAST;
}

void os_map_clear(struct os_state *s);

#endif /* OPSTATE_INT_H */
