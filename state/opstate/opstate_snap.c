/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Snapshots of operator state and their redistribution onto another
 * number of tasks (R5.3). The payload (docs/checkpoints.md), all
 * integers little-endian:
 *
 *   OFFSET SIZE DESCRIPTION
 *   0      4    magic "SLOS"
 *   4      2    version (1)
 *   6      2    number of states
 *   8      2    task index of the writer
 *   10     2    number of tasks at the snapshot
 *   12     ...  states, each:
 *                 1  mode (1 split, 2 union, 3 broadcast)
 *                 1  name length L, then L bytes of name
 *                 4  number of elements C, then C elements:
 *                    list: 4 length + bytes;
 *                    map:  4 key length + key, 4 value length + value
 *                    (keys ascending)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opstate_int.h"

#define OS_MAGIC "SLOS"
#define OS_VERSION 1
#define OS_HDR 12u

/* Little-endian stores and loads; the byte order is the format's. */
static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static size_t
state_size(const struct os_state *s)
{
	size_t n = 2 + strlen(s->name) + 4;

	if (s->mode != SL_OPSTATE_BROADCAST)
		return n + s->len;	/* the list buffer is the format */
	for (uint32_t i = 0; i < s->n_e; i++)
		n += 8 + (size_t)s->e[i].klen + s->e[i].vlen;
	return n;
}

size_t
sl_opstate_snapshot(const struct sl_opstate *os, void *buf, size_t cap)
{
	size_t need = OS_HDR, pos = OS_HDR;
	uint8_t *p = buf;

	for (uint32_t i = 0; i < os->n; i++)
		need += state_size(&os->s[i]);
	if (need > cap || buf == NULL)
		return need;
	memcpy(p, OS_MAGIC, 4);
	put16(p + 4, OS_VERSION);
	put16(p + 6, (uint16_t)os->n);
	put16(p + 8, os->task);
	put16(p + 10, os->n_tasks);
	for (uint32_t i = 0; i < os->n; i++) {
		const struct os_state *s = &os->s[i];
		const size_t nl = strlen(s->name);

		p[pos++] = (uint8_t)s->mode;
		p[pos++] = (uint8_t)nl;
		memcpy(p + pos, s->name, nl);
		pos += nl;
		if (s->mode != SL_OPSTATE_BROADCAST) {
			put32(p + pos, s->n);
			pos += 4;
			if (s->len > 0)
				memcpy(p + pos, s->buf, s->len);
			pos += s->len;
			continue;
		}
		put32(p + pos, s->n_e);
		pos += 4;
		for (uint32_t k = 0; k < s->n_e; k++) {
			const struct os_entry *e = &s->e[k];

			put32(p + pos, e->klen);
			memcpy(p + pos + 4, e->kv, e->klen);
			pos += 4 + e->klen;
			put32(p + pos, e->vlen);
			memcpy(p + pos + 4, e->kv + e->klen, e->vlen);
			pos += 4 + e->vlen;
		}
	}
	return pos;
}

/* ------------------------------------------------------------------ */
/* Restore                                                             */

/* One state's elements in one old task's snapshot. */
struct os_part {
	const uint8_t *p;	/* first element */
	size_t len;		/* bytes of the elements */
	uint32_t count;
	bool present;
};

struct os_name {
	char name[SL_OPSTATE_NAME_MAX + 1];
	enum sl_opstate_mode mode;
	struct os_part *part;	/* [old task] */
};

struct os_restore {
	uint32_t n_old;
	uint32_t n_names;
	struct os_name names[SL_OPSTATE_MAX];
	struct os_part *parts;	/* SL_OPSTATE_MAX * n_old */
	char *msg;
	size_t msglen;
};

static int
bad(struct os_restore *r, uint32_t task, const char *what)
{
	snprintf(r->msg, r->msglen, "operator state of old task %u: %s: the checkpoint is corrupt or not this job's",
		 task, what);
	return -EBADMSG;
}

/* Length of one element ([u32 len][bytes]) at p, or 0 if it runs past end. */
static size_t
elem_len(const uint8_t *p, const uint8_t *end)
{
	uint32_t l;

	if (end - p < 4)
		return 0;
	l = get32(p);
	if (l > SL_OPSTATE_ELEM_MAX || (size_t)(end - p - 4) < l)
		return 0;
	return 4 + (size_t)l;
}

static int
name_slot(struct os_restore *r, const char *name, enum sl_opstate_mode mode)
{
	for (uint32_t i = 0; i < r->n_names; i++) {
		if (strcmp(r->names[i].name, name) != 0)
			continue;
		if (r->names[i].mode != mode) {
			snprintf(r->msg, r->msglen, "operator state '%s' is %s in one task's snapshot and %s in another's",
				 name, sl_opstate_mode_name(r->names[i].mode), sl_opstate_mode_name(mode));
			return -EINVAL;
		}
		return (int)i;
	}
	if (r->n_names == SL_OPSTATE_MAX) {
		snprintf(r->msg, r->msglen, "more than %d operator states in a checkpoint", SL_OPSTATE_MAX);
		return -EINVAL;
	}
	snprintf(r->names[r->n_names].name, sizeof(r->names[0].name), "%s", name);
	r->names[r->n_names].mode = mode;
	r->names[r->n_names].part = r->parts + (size_t)r->n_names * r->n_old;
	return (int)r->n_names++;
}

/* Index one old task's snapshot: where each state's elements are. */
static int
parse_one(struct os_restore *r, const uint8_t *p, size_t len, uint32_t *task)
{
	const uint8_t *end = p + len, *q;
	uint16_t n_states;

	if (len < OS_HDR || memcmp(p, OS_MAGIC, 4) != 0)
		return bad(r, 0, "no operator-state header");
	if (get16(p + 4) != OS_VERSION) {
		snprintf(r->msg, r->msglen, "operator state version %u; this sluice reads version %d",
			 get16(p + 4), OS_VERSION);
		return -EINVAL;
	}
	n_states = get16(p + 6);
	*task = get16(p + 8);
	if (get16(p + 10) != r->n_old || *task >= r->n_old) {
		snprintf(r->msg, r->msglen, "operator state of task %u of %u among %u tasks' snapshots: the checkpoint misses a task's file",
			 *task, get16(p + 10), r->n_old);
		return -EINVAL;
	}
	q = p + OS_HDR;
	for (uint16_t i = 0; i < n_states; i++) {
		char name[SL_OPSTATE_NAME_MAX + 1];
		struct os_part *pt;
		uint8_t mode, nl;
		uint32_t count;
		int slot;

		if (end - q < 2)
			return bad(r, *task, "torn state header");
		mode = q[0];
		nl = q[1];
		if (mode < SL_OPSTATE_SPLIT || mode > SL_OPSTATE_BROADCAST || nl == 0 ||
		    nl > SL_OPSTATE_NAME_MAX || end - q < 2 + nl + 4)
			return bad(r, *task, "bad state header");
		memcpy(name, q + 2, nl);
		name[nl] = '\0';
		q += 2 + nl;
		count = get32(q);
		q += 4;
		slot = name_slot(r, name, (enum sl_opstate_mode)mode);
		if (slot < 0)
			return slot;
		pt = &r->names[slot].part[*task];
		if (pt->present)
			return bad(r, *task, "a state twice");
		pt->present = true;
		pt->p = q;
		pt->count = count;
		for (uint32_t e = 0; e < count * (mode == SL_OPSTATE_BROADCAST ? 2u : 1u); e++) {
			size_t l = elem_len(q, end);

			if (l == 0)
				return bad(r, *task, "torn element");
			q += l;
		}
		pt->len = (size_t)(q - pt->p);
	}
	if (q != end)
		return bad(r, *task, "trailing bytes");
	return 0;
}

/* Add count list elements starting at p to state id, skipping skip first. */
static int
add_elems(struct sl_opstate *os, int id, const uint8_t *p, uint32_t skip, uint32_t count)
{
	for (uint32_t i = 0; i < skip + count; i++) {
		const uint32_t l = get32(p);

		if (i >= skip) {
			int rc = sl_opstate_list_add(os, id, p + 4, l);

			if (rc < 0)
				return rc;
		}
		p += 4 + l;
	}
	return 0;
}

/*
 * Flink's RoundRobinOperatorStateRepartitioner for SPLIT_DISTRIBUTE: new
 * tasks in the order start, start + 1, ... (mod m) take consecutive
 * chunks of the concatenation, total / m each and one more for the
 * first total % m of them; the next state's round starts at the first
 * task that got no extra. Sets this task's chunk and returns the next
 * start.
 */
static uint32_t
split_chunk(uint64_t total, uint32_t m, uint32_t start, uint32_t task,
	    uint64_t *first, uint64_t *count)
{
	const uint64_t base = total / m;
	int64_t rem = (int64_t)(total % m);
	uint32_t next = start;
	uint64_t at = 0;

	for (uint32_t i = 0; i < m; i++) {
		const uint32_t idx = (i + start) % m;
		uint64_t n = base;

		if (rem > 0) {
			n++;
			rem--;
		} else if (rem == 0) {
			next = idx;
			rem--;
		}
		if (idx == task) {
			*first = at;
			*count = n;
		}
		at += n;
	}
	return next;
}

static int
restore_split(struct sl_opstate *os, int id, const struct os_name *nm, uint32_t n_old,
	      uint32_t *start)
{
	uint64_t total = 0, first = 0, count = 0, at = 0;

	if (n_old == os->n_tasks) {
		/* Same parallelism: every task keeps its own list. */
		const struct os_part *pt = &nm->part[os->task];

		return pt->present ? add_elems(os, id, pt->p, 0, pt->count) : 0;
	}
	for (uint32_t t = 0; t < n_old; t++)
		total += nm->part[t].count;
	*start = split_chunk(total, os->n_tasks, *start, os->task, &first, &count);
	for (uint32_t t = 0; t < n_old && count > 0; t++) {
		const struct os_part *pt = &nm->part[t];
		uint64_t lo, hi;
		int rc;

		if (at + pt->count <= first) {
			at += pt->count;
			continue;
		}
		lo = first > at ? first - at : 0;
		hi = first + count < at + pt->count ? first + count - at : pt->count;
		rc = add_elems(os, id, pt->p, (uint32_t)lo, (uint32_t)(hi - lo));
		if (rc < 0)
			return rc;
		at += pt->count;
		if (at >= first + count)
			break;
	}
	return 0;
}

static int
restore_broadcast(struct sl_opstate *os, int id, const struct os_name *nm, uint32_t n_old,
		  unsigned int *diverged, struct os_restore *r)
{
	const struct os_part *pt = &nm->part[os->task % n_old];
	const uint8_t *p = pt->p;

	for (uint32_t t = 1; t < n_old; t++) {
		const struct os_part *a = &nm->part[0], *b = &nm->part[t];

		if (a->present != b->present || a->count != b->count || a->len != b->len ||
		    (a->len > 0 && memcmp(a->p, b->p, a->len) != 0)) {
			if (*diverged == 0)
				snprintf(r->msg, r->msglen, "broadcast state '%s': old task %u's copy differs from task 0's; task %u takes task %u's",
					 nm->name, t, os->task, os->task % n_old);
			(*diverged)++;
			break;
		}
	}
	if (!pt->present)
		return 0;
	for (uint32_t i = 0; i < pt->count; i++) {
		const uint32_t kl = get32(p);
		const uint32_t vl = get32(p + 4 + kl);
		int rc = sl_opstate_map_put(os, id, p + 4, kl, p + 8 + kl, vl);

		if (rc < 0)
			return rc;
		p += 8 + (size_t)kl + vl;
	}
	return 0;
}

static int
cmp_name(const void *a, const void *b, void *arg)
{
	const struct os_name *names = arg;

	return strcmp(names[*(const uint32_t *)a].name, names[*(const uint32_t *)b].name);
}

int
sl_opstate_restore(struct sl_opstate *os, const void *const *snap, const size_t *len,
		   uint32_t n, unsigned int *diverged, char *msg, size_t msglen)
{
	struct os_restore r = { .n_old = n, .msg = msg, .msglen = msglen };
	uint32_t order[SL_OPSTATE_MAX], start = 0;
	unsigned int div = 0;
	bool *seen;
	int rc = 0;

	if (n == 0 || n > UINT16_MAX) {
		snprintf(msg, msglen, "operator state restore needs the snapshots of 1..65535 tasks, got %u", n);
		return -EINVAL;
	}
	r.parts = calloc((size_t)SL_OPSTATE_MAX * n, sizeof(*r.parts));
	seen = calloc(n, sizeof(*seen));
	if (r.parts == NULL || seen == NULL) {
		rc = -ENOMEM;
		snprintf(msg, msglen, "out of memory restoring operator state");
		goto out;
	}
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		uint32_t task;

		rc = parse_one(&r, snap[i], len[i], &task);
		if (rc == 0 && seen[task]) {
			snprintf(msg, msglen, "operator state of task %u twice in a checkpoint", task);
			rc = -EINVAL;
		}
		if (rc == 0)
			seen[task] = true;
	}
	if (rc < 0)
		goto out;
	for (uint32_t i = 0; i < r.n_names; i++)
		order[i] = i;
	/* Split states in name order: the rotation of extra elements
	 * follows it (Flink's follows its HashMap's order). */
	qsort_r(order, r.n_names, sizeof(order[0]), cmp_name, r.names);
	for (uint32_t k = 0; k < r.n_names && rc == 0; k++) {
		const struct os_name *nm = &r.names[order[k]];
		int id = sl_opstate_declare(os, nm->name, nm->mode);

		if (id < 0) {
			snprintf(msg, msglen, "operator state '%s' (%s) does not fit this job's (%s)",
				 nm->name, sl_opstate_mode_name(nm->mode), strerror(-id));
			rc = -EINVAL;
			break;
		}
		if (nm->mode == SL_OPSTATE_BROADCAST) {
			os_map_clear(&os->s[id]);
			rc = restore_broadcast(os, id, nm, n, &div, &r);
			continue;
		}
		sl_opstate_list_clear(os, id);
		if (nm->mode == SL_OPSTATE_SPLIT) {
			rc = restore_split(os, id, nm, n, &start);
			continue;
		}
		for (uint32_t t = 0; t < n && rc == 0; t++)
			if (nm->part[t].present)
				rc = add_elems(os, id, nm->part[t].p, 0, nm->part[t].count);
	}
	if (rc == -ENOMEM)
		snprintf(msg, msglen, "out of memory restoring operator state");
out:
	if (diverged != NULL)
		*diverged = div;
	free(r.parts);
	free(seen);
	return rc;
}
