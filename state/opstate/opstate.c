/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Operator state (sl_opstate.h): named list and broadcast map states of
 * one task. Lists are one growing buffer of length-prefixed elements; a
 * map is an array sorted by key, so lookups are a binary search and
 * iteration (and a snapshot) is in key order without sorting.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "opstate_int.h"

const char *
sl_opstate_mode_name(enum sl_opstate_mode m)
{
	return m == SL_OPSTATE_SPLIT ? "split" : m == SL_OPSTATE_UNION ? "union" :
	       m == SL_OPSTATE_BROADCAST ? "broadcast" : "?";
}

struct sl_opstate *
sl_opstate_create(uint16_t task, uint16_t n_tasks)
{
	struct sl_opstate *os;

	if (n_tasks == 0 || task >= n_tasks) {
		errno = EINVAL;
		return NULL;
	}
	os = calloc(1, sizeof(*os));
	if (os == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	os->task = task;
	os->n_tasks = n_tasks;
	return os;
}

void
os_map_clear(struct os_state *s)
{
	for (uint32_t i = 0; i < s->n_e; i++)
		free(s->e[i].kv);
	s->n_e = 0;
}

void
sl_opstate_destroy(struct sl_opstate *os)
{
	if (os == NULL)
		return;
	for (uint32_t i = 0; i < os->n; i++) {
		os_map_clear(&os->s[i]);
		free(os->s[i].e);
		free(os->s[i].buf);
		free(os->s[i].off);
	}
	free(os);
}

int
sl_opstate_declare(struct sl_opstate *os, const char *name, enum sl_opstate_mode mode)
{
	size_t nl = name != NULL ? strlen(name) : 0;
	struct os_state *s;

	if (nl == 0 || nl > SL_OPSTATE_NAME_MAX ||
	    (mode != SL_OPSTATE_SPLIT && mode != SL_OPSTATE_UNION && mode != SL_OPSTATE_BROADCAST))
		return -EINVAL;
	for (uint32_t i = 0; i < os->n; i++)
		if (strcmp(os->s[i].name, name) == 0)
			return os->s[i].mode == mode ? (int)i : -EINVAL;
	if (os->n == SL_OPSTATE_MAX)
		return -ENOSPC;
	s = &os->s[os->n];
	memset(s, 0, sizeof(*s));
	memcpy(s->name, name, nl + 1);
	s->mode = mode;
	return (int)os->n++;
}

/* ------------------------------------------------------------------ */
/* Lists                                                               */

int
sl_opstate_list_add(struct sl_opstate *os, int id, const void *p, uint32_t len)
{
	struct os_state *s;
	const size_t need = sizeof(uint32_t) + len;

	if (!os_is_list(os, id) || (p == NULL && len > 0))
		return -EINVAL;
	if (len > SL_OPSTATE_ELEM_MAX)
		return -E2BIG;
	s = &os->s[id];
	if (s->len + need > UINT32_MAX)
		return -E2BIG;	/* off[] holds 32-bit offsets */
	if (s->len + need > s->cap) {
		size_t nc = s->cap != 0 ? s->cap : 256;
		uint8_t *nb;

		while (nc < s->len + need)
			nc *= 2;
		nb = realloc(s->buf, nc);
		if (nb == NULL)
			return -ENOMEM;
		s->buf = nb;
		s->cap = nc;
	}
	if (s->n == s->off_cap) {
		uint32_t nc = s->off_cap != 0 ? 2 * s->off_cap : 16;
		uint32_t *no = realloc(s->off, sizeof(*no) * nc);

		if (no == NULL)
			return -ENOMEM;
		s->off = no;
		s->off_cap = nc;
	}
	s->off[s->n++] = (uint32_t)s->len;
	memcpy(s->buf + s->len, &len, sizeof(len));
	if (len > 0)
		memcpy(s->buf + s->len + sizeof(len), p, len);
	s->len += need;
	return 0;
}

void
sl_opstate_list_clear(struct sl_opstate *os, int id)
{
	if (!os_is_list(os, id))
		return;
	os->s[id].n = 0;
	os->s[id].len = 0;
}

int
sl_opstate_list_update(struct sl_opstate *os, int id, const struct sl_opstate_elem *e,
		       uint32_t n)
{
	if (!os_is_list(os, id) || (e == NULL && n > 0))
		return -EINVAL;
	sl_opstate_list_clear(os, id);
	for (uint32_t i = 0; i < n; i++) {
		int rc = sl_opstate_list_add(os, id, e[i].p, e[i].len);

		if (rc < 0)
			return rc;
	}
	return 0;
}

uint32_t
sl_opstate_list_len(const struct sl_opstate *os, int id)
{
	return os_is_list(os, id) ? os->s[id].n : 0;
}

int
sl_opstate_list_get(const struct sl_opstate *os, int id, uint32_t i, const void **p,
		    uint32_t *len)
{
	const struct os_state *s;

	if (!os_is_list(os, id))
		return -EINVAL;
	s = &os->s[id];
	if (i >= s->n)
		return -ENOENT;
	memcpy(len, s->buf + s->off[i], sizeof(*len));
	*p = s->buf + s->off[i] + sizeof(uint32_t);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Broadcast maps                                                      */

static int
key_cmp(const struct os_entry *e, const void *k, uint32_t klen)
{
	const uint32_t m = e->klen < klen ? e->klen : klen;
	int c = m > 0 ? memcmp(e->kv, k, m) : 0;

	if (c != 0)
		return c;
	return e->klen < klen ? -1 : e->klen > klen ? 1 : 0;
}

/* Index of k, or of where it would go; *found says which. */
static uint32_t
map_find(const struct os_state *s, const void *k, uint32_t klen, int *found)
{
	uint32_t lo = 0, hi = s->n_e;

	*found = 0;
	while (lo < hi) {
		const uint32_t mid = lo + (hi - lo) / 2;
		const int c = key_cmp(&s->e[mid], k, klen);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
sl_opstate_map_put(struct sl_opstate *os, int id, const void *k, uint32_t klen,
		   const void *v, uint32_t vlen)
{
	struct os_state *s;
	uint8_t *kv;
	uint32_t at;
	int found;

	if (!os_is_map(os, id) || (k == NULL && klen > 0) || (v == NULL && vlen > 0))
		return -EINVAL;
	if (klen > SL_OPSTATE_ELEM_MAX || vlen > SL_OPSTATE_ELEM_MAX)
		return -E2BIG;
	s = &os->s[id];
	kv = malloc((size_t)klen + vlen + 1);
	if (kv == NULL)
		return -ENOMEM;
	if (klen > 0)
		memcpy(kv, k, klen);
	if (vlen > 0)
		memcpy(kv + klen, v, vlen);
	at = map_find(s, k, klen, &found);
	if (found) {
		free(s->e[at].kv);
		s->e[at] = (struct os_entry){ .kv = kv, .klen = klen, .vlen = vlen };
		return 0;
	}
	if (s->n_e == s->e_cap) {
		uint32_t nc = s->e_cap != 0 ? 2 * s->e_cap : 16;
		struct os_entry *ne = realloc(s->e, sizeof(*ne) * nc);

		if (ne == NULL) {
			free(kv);
			return -ENOMEM;
		}
		s->e = ne;
		s->e_cap = nc;
	}
	memmove(&s->e[at + 1], &s->e[at], sizeof(s->e[0]) * (s->n_e - at));
	s->e[at] = (struct os_entry){ .kv = kv, .klen = klen, .vlen = vlen };
	s->n_e++;
	return 0;
}

const void *
sl_opstate_map_get(const struct sl_opstate *os, int id, const void *k, uint32_t klen,
		   uint32_t *vlen)
{
	const struct os_state *s;
	uint32_t at;
	int found;

	if (!os_is_map(os, id))
		return NULL;
	s = &os->s[id];
	at = map_find(s, k, klen, &found);
	if (!found)
		return NULL;
	if (vlen != NULL)
		*vlen = s->e[at].vlen;
	return s->e[at].kv + s->e[at].klen;
}

int
sl_opstate_map_remove(struct sl_opstate *os, int id, const void *k, uint32_t klen)
{
	struct os_state *s;
	uint32_t at;
	int found;

	if (!os_is_map(os, id))
		return -EINVAL;
	s = &os->s[id];
	at = map_find(s, k, klen, &found);
	if (!found)
		return 0;
	free(s->e[at].kv);
	memmove(&s->e[at], &s->e[at + 1], sizeof(s->e[0]) * (s->n_e - at - 1));
	s->n_e--;
	return 1;
}

uint32_t
sl_opstate_map_len(const struct sl_opstate *os, int id)
{
	return os_is_map(os, id) ? os->s[id].n_e : 0;
}

int
sl_opstate_map_iter(const struct sl_opstate *os, int id,
		    int (*fn)(void *arg, const void *k, uint32_t klen,
			      const void *v, uint32_t vlen),
		    void *arg)
{
	const struct os_state *s;

	if (!os_is_map(os, id))
		return -EINVAL;
	s = &os->s[id];
	for (uint32_t i = 0; i < s->n_e; i++) {
		const struct os_entry *e = &s->e[i];
		int rc = fn(arg, e->kv, e->klen, e->kv + e->klen, e->vlen);

		if (rc != 0)
			return rc;
	}
	return 0;
}
