/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The timer service of sl_timer.h: sl_state entries are the timers, and
 * per key group binary heaps plus a heap over the key groups' heads order
 * them. See the header for why.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_timer.h"

#define NONE UINT32_MAX
/* entry: [i64 ts][u64 gen][u64 pfx][key][ns]; pfx is the first 8 bytes
 * of key and ns as a big-endian number (zero-padded), so most equal-ts
 * compares (a millisecond holds thousands of timers) end in an integer
 * compare with memcmp's order, not a call to memcmp. */
#define HDR 24u
#define PFX 16u
#define STATE_NS_MAX (SL_TIMER_NS_MAX + 8)

struct kgq {
	uint8_t *ent;		/* n entries of tm->stride bytes, a min-heap */
	uint32_t n, cap;
	uint32_t live;		/* entries whose state entry still matches */
	uint32_t gpos;		/* index in the domain's gheap, or NONE */
};

struct dq {
	int id;			/* sl_state descriptor */
	struct kgq *kg;		/* one per owned key group */
	uint32_t *gheap;	/* non-empty key groups by head entry */
	uint32_t gn;
	uint64_t live;
};

struct sl_timer {
	struct sl_state *st;
	uint16_t key_len, ns_len;
	uint32_t cmp_len;	/* key_len + ns_len: the tie-break bytes */
	uint32_t stride;
	uint32_t first_kg, n_kg;
	uint32_t cap_hint;
	sl_timer_fire_fn fire;
	sl_timer_prefetch_fn prefetch;
	void *arg;
	/* the next due timer's state hash, computed to prefetch its slot
	 * while the one before it fires: valid for the entry next_ent of
	 * key group next_kg in domain next_dom (generations alone can repeat
	 * after a rescaling restore merged two workers' timers) */
	uint8_t *next_ent;
	uint32_t next_hash;
	uint16_t next_kg;
	int next_dom;
	uint64_t gen;
	int64_t wm, pt;
	struct dq q[2];
	uint8_t *tmp;		/* one entry: the hole of a sift */
	uint8_t *fent;		/* the entry being fired */
	bool firing;
	enum sl_timer_domain fdom;
};

static inline int64_t
ent_ts(const uint8_t *e)
{
	int64_t t;

	memcpy(&t, e, 8);
	return t;
}

static inline uint64_t
ent_gen(const uint8_t *e)
{
	uint64_t g;

	memcpy(&g, e + 8, 8);
	return g;
}

/* The entry's pfx from its key and namespace bytes (already in e). */
static inline void
ent_pfx(const struct sl_timer *tm, uint8_t *e)
{
	uint8_t b[8] = { 0 };
	uint64_t p;

	memcpy(b, e + HDR, tm->cmp_len < 8 ? tm->cmp_len : 8);
	memcpy(&p, b, 8);
	p = __builtin_bswap64(p);
	memcpy(e + PFX, &p, 8);
}

/* Total order of R2.11's open choice: ts, key and namespace bytes, gen. */
static inline int
ent_cmp(const struct sl_timer *tm, const uint8_t *a, const uint8_t *b)
{
	int64_t ta = ent_ts(a), tb = ent_ts(b);
	uint64_t ga, gb, pa, pb;
	int c;

	if (ta != tb)
		return ta < tb ? -1 : 1;
	memcpy(&pa, a + PFX, 8);
	memcpy(&pb, b + PFX, 8);
	if (pa != pb)
		return pa < pb ? -1 : 1;
	if (tm->cmp_len > 8) {
		c = memcmp(a + HDR + 8, b + HDR + 8, tm->cmp_len - 8);
		if (c != 0)
			return c;
	}
	ga = ent_gen(a);
	gb = ent_gen(b);
	return ga < gb ? -1 : ga > gb;
}

/* One entry (stride is a multiple of 8): a few moves, not a call. */
static inline void
ent_copy(const struct sl_timer *tm, uint8_t *dst, const uint8_t *src)
{
	for (uint32_t o = 0; o < tm->stride; o += 8)
		memcpy(dst + o, src + o, 8);
}

static inline bool
ent_eq(const struct sl_timer *tm, const uint8_t *a, const uint8_t *b)
{
	uint64_t d = 0;

	for (uint32_t o = 0; o < tm->stride; o += 8) {
		uint64_t x, y;

		memcpy(&x, a + o, 8);
		memcpy(&y, b + o, 8);
		d |= x ^ y;
	}
	return d == 0;
}

static inline uint8_t *
at(const struct sl_timer *tm, const struct kgq *k, uint32_t i)
{
	return k->ent + (size_t)i * tm->stride;
}

/* tm->tmp goes up from the hole at i: one entry copy per level instead
 * of a swap's three. */
static void
kg_up_hole(struct sl_timer *tm, struct kgq *k, uint32_t i)
{
	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (ent_cmp(tm, at(tm, k, p), tm->tmp) <= 0)
			break;
		ent_copy(tm, at(tm, k, i), at(tm, k, p));
		i = p;
	}
	ent_copy(tm, at(tm, k, i), tm->tmp);
}

static void
kg_up(struct sl_timer *tm, struct kgq *k, uint32_t i)
{
	ent_copy(tm, tm->tmp, at(tm, k, i));
	kg_up_hole(tm, k, i);
}

static void
kg_down(struct sl_timer *tm, struct kgq *k, uint32_t i)
{
	ent_copy(tm, tm->tmp, at(tm, k, i));
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = l;

		if (l >= k->n)
			break;
		if (r < k->n && ent_cmp(tm, at(tm, k, r), at(tm, k, l)) < 0)
			m = r;
		if (ent_cmp(tm, tm->tmp, at(tm, k, m)) <= 0)
			break;
		ent_copy(tm, at(tm, k, i), at(tm, k, m));
		i = m;
	}
	ent_copy(tm, at(tm, k, i), tm->tmp);
}

/*
 * Remove the head. The last entry that fills the hole came from the
 * bottom and mostly sinks back there, so the hole walks down by the
 * smaller child (one compare a level, where sifting the entry down takes
 * two) and the entry then rises from the leaf, usually not at all. Entries
 * are totally ordered (the generation breaks ties): the heads come in the
 * same order whichever way the heap is arranged.
 */
static void
kg_pop(struct sl_timer *tm, struct kgq *k)
{
	const uint32_t n = --k->n;
	uint32_t i = 0;

	if (n == 0)
		return;
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = l;

		if (l >= n)
			break;
		if (r < n && ent_cmp(tm, at(tm, k, r), at(tm, k, l)) < 0)
			m = r;
		ent_copy(tm, at(tm, k, i), at(tm, k, m));
		i = m;
	}
	/* the old last entry, at n, is past every child visited */
	ent_copy(tm, tm->tmp, at(tm, k, n));
	kg_up_hole(tm, k, i);
}

static void
kg_heapify(struct sl_timer *tm, struct kgq *k)
{
	for (uint32_t i = k->n / 2; i-- > 0;)
		kg_down(tm, k, i);
}

/* ---- the heap over key groups ---------------------------------------- */

static inline int
g_cmp(const struct sl_timer *tm, const struct dq *q, uint32_t a, uint32_t b)
{
	return ent_cmp(tm, q->kg[a].ent, q->kg[b].ent);
}

static void
g_set(struct dq *q, uint32_t i, uint32_t k)
{
	q->gheap[i] = k;
	q->kg[k].gpos = i;
}

static void
g_up(const struct sl_timer *tm, struct dq *q, uint32_t i)
{
	uint32_t k = q->gheap[i];

	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (g_cmp(tm, q, q->gheap[p], k) <= 0)
			break;
		g_set(q, i, q->gheap[p]);
		i = p;
	}
	g_set(q, i, k);
}

static void
g_down(const struct sl_timer *tm, struct dq *q, uint32_t i)
{
	uint32_t k = q->gheap[i];

	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = l;

		if (l >= q->gn)
			break;
		if (r < q->gn && g_cmp(tm, q, q->gheap[r], q->gheap[l]) < 0)
			m = r;
		if (g_cmp(tm, q, k, q->gheap[m]) <= 0)
			break;
		g_set(q, i, q->gheap[m]);
		i = m;
	}
	g_set(q, i, k);
}

/* Key group k's head changed (or it became empty/non-empty). */
static void
g_fix(const struct sl_timer *tm, struct dq *q, uint32_t k)
{
	struct kgq *g = &q->kg[k];
	uint32_t i = g->gpos;

	if (g->n == 0) {
		if (i == NONE)
			return;
		g->gpos = NONE;
		q->gn--;
		if (i == q->gn)
			return;
		{
			uint32_t m = q->gheap[q->gn];

			g_set(q, i, m);
			g_up(tm, q, i);
			if (q->kg[m].gpos == i)
				g_down(tm, q, i);
		}
		return;
	}
	if (i == NONE) {
		q->gheap[q->gn] = k;
		g->gpos = q->gn++;
		g_up(tm, q, g->gpos);
		return;
	}
	g_up(tm, q, i);
	g_down(tm, q, g->gpos);
}

/* ---- state access ------------------------------------------------------ */

/* The state address of a timer: ns bytes then the timestamp in nsb,
 * hashed once for every call the caller makes with it. */
static inline void
st_ref(struct sl_timer *tm, int dom, uint16_t kg, const void *key,
       const void *ns, int64_t ts, uint8_t *nsb, struct sl_state_ref *r)
{
	if (tm->ns_len > 0)
		memcpy(nsb, ns, tm->ns_len);
	memcpy(nsb + tm->ns_len, &ts, 8);
	r->key = key;
	r->ns = nsb;
	r->kg = kg;
	sl_state_hash_bulk(tm->st, tm->q[dom].id, r, 1);
}

static int
st_get(struct sl_timer *tm, int dom, uint16_t kg, const void *key,
       const void *ns, int64_t ts, uint64_t *gen)
{
	uint8_t nsb[STATE_NS_MAX];
	struct sl_state_ref r;

	st_ref(tm, dom, kg, key, ns, ts, nsb, &r);
	return sl_state_value_get(tm->st, tm->q[dom].id, &r, 0, gen);
}

static int
st_put(struct sl_timer *tm, int dom, uint16_t kg, const void *key,
       const void *ns, int64_t ts, const uint64_t *gen)
{
	uint8_t nsb[STATE_NS_MAX];
	struct sl_state_ref r;

	st_ref(tm, dom, kg, key, ns, ts, nsb, &r);
	if (gen == NULL)
		return sl_state_clear(tm->st, tm->q[dom].id, &r);
	return sl_state_value_put(tm->st, tm->q[dom].id, &r, 0, gen);
}

/*
 * Register's state half in one probe: the entry is found or created in
 * place (a get and a put were two probes and two hashes, per element of
 * a keyed process function). @return 1 created with a new generation
 * (*gen), 0 there already, -errno.
 */
static int
st_insert(struct sl_timer *tm, int dom, uint16_t kg, const void *key,
	  const void *ns, int64_t ts, uint64_t *gen)
{
	uint8_t nsb[STATE_NS_MAX], *p, created;
	struct sl_state_ref r;
	int id = tm->q[dom].id, rc;

	st_ref(tm, dom, kg, key, ns, ts, nsb, &r);
	rc = sl_state_fixed_acquire_bulk(tm->st, id, &r, 1, &p, &created);
	if (rc < 0)
		return rc;
	if (p == NULL)
		return -ENOMEM;
	if (created) {
		*gen = ++tm->gen;
		memcpy(p, gen, 8);
	}
	rc = sl_state_fixed_release_bulk(tm->st, id, &r, 1, &p);
	return rc < 0 ? rc : created;
}

/*
 * Fire's state half: the state entry of the popped heap entry in
 * tm->fent, removed when its generation is the entry's (hashed once for
 * the get and the clear, or not at all when ahead() did).
 * @return 1 taken, 0 stale (absent or registered again), -errno.
 */
static int
st_take(struct sl_timer *tm, int dom, uint16_t kg, const void *key,
	const void *ns, int64_t ts, uint64_t want)
{
	uint8_t nsb[STATE_NS_MAX];
	struct sl_state_ref r;
	uint64_t gen;
	int id = tm->q[dom].id, rc;

	if (dom == tm->next_dom && kg == tm->next_kg &&
	    ent_eq(tm, tm->fent, tm->next_ent)) {
		/* hashed already, by ahead() */
		if (tm->ns_len > 0)
			memcpy(nsb, ns, tm->ns_len);
		memcpy(nsb + tm->ns_len, &ts, 8);
		r.key = key;
		r.ns = nsb;
		r.kg = kg;
		r.hash = tm->next_hash;
	} else {
		st_ref(tm, dom, kg, key, ns, ts, nsb, &r);
	}
	rc = sl_state_value_get(tm->st, id, &r, 0, &gen);
	if (rc <= 0 || gen != want)
		return rc < 0 ? rc : 0;
	rc = sl_state_clear(tm->st, id, &r);
	return rc < 0 ? rc : 1;
}

/* ---- create / destroy -------------------------------------------------- */

struct sl_timer *
sl_timer_create(struct sl_state *st, const struct sl_timer_conf *c)
{
	static const char *const sfx[2] = { ".et", ".pt" };
	struct sl_timer *tm;

	if (st == NULL || c == NULL || c->name == NULL ||
	    strlen(c->name) >= 60 || c->key_len == 0 ||
	    c->key_len > SL_TIMER_KEY_MAX || c->ns_len > SL_TIMER_NS_MAX ||
	    c->last_kg < c->first_kg || c->last_kg > UINT16_MAX ||
	    c->fire == NULL) {
		errno = EINVAL;
		return NULL;
	}
	tm = calloc(1, sizeof(*tm));
	if (tm == NULL)
		return NULL;
	tm->st = st;
	tm->key_len = c->key_len;
	tm->ns_len = c->ns_len;
	tm->cmp_len = (uint32_t)c->key_len + c->ns_len;
	tm->stride = (HDR + tm->cmp_len + 7u) & ~7u;
	tm->first_kg = c->first_kg;
	tm->n_kg = c->last_kg - c->first_kg + 1;
	tm->cap_hint = c->capacity_hint != 0 ? c->capacity_hint : 64;
	tm->fire = c->fire;
	tm->prefetch = c->prefetch;
	tm->arg = c->arg;
	tm->wm = INT64_MIN;
	tm->pt = INT64_MIN;
	tm->tmp = malloc(tm->stride);
	tm->fent = malloc(tm->stride);
	tm->next_ent = malloc(tm->stride);
	tm->next_dom = -1;
	if (tm->tmp == NULL || tm->fent == NULL || tm->next_ent == NULL)
		goto fail;
	for (int d = 0; d < 2; d++) {
		struct dq *q = &tm->q[d];
		char name[64];
		struct sl_state_desc sd = {
			.name = name, .kind = SL_STATE_VALUE,
			.key_len = c->key_len,
			.ns_len = (uint16_t)(c->ns_len + 8),
			.val_len = 8,
			.capacity_hint = c->capacity_hint,
		};

		snprintf(name, sizeof(name), "%s%s", c->name, sfx[d]);
		q->id = sl_state_register(st, &sd);
		if (q->id < 0) {
			errno = -q->id;
			goto fail;
		}
		q->kg = calloc(tm->n_kg, sizeof(*q->kg));
		q->gheap = calloc(tm->n_kg, sizeof(*q->gheap));
		if (q->kg == NULL || q->gheap == NULL)
			goto fail;
		for (uint32_t k = 0; k < tm->n_kg; k++)
			q->kg[k].gpos = NONE;
	}
	return tm;
fail:
	sl_timer_destroy(tm);
	return NULL;
}

void
sl_timer_destroy(struct sl_timer *tm)
{
	if (tm == NULL)
		return;
	for (int d = 0; d < 2; d++) {
		if (tm->q[d].kg != NULL)
			for (uint32_t k = 0; k < tm->n_kg; k++)
				free(tm->q[d].kg[k].ent);
		free(tm->q[d].kg);
		free(tm->q[d].gheap);
	}
	free(tm->tmp);
	free(tm->fent);
	free(tm->next_ent);
	free(tm);
}

/* ---- register / delete ------------------------------------------------- */

static int
check(const struct sl_timer *tm, enum sl_timer_domain dom, uint16_t kg,
      const void *key, const void *ns)
{
	if (tm == NULL || (dom != SL_TIMER_EVENT_TIME &&
			   dom != SL_TIMER_PROCESSING_TIME) ||
	    key == NULL || (tm->ns_len > 0 && ns == NULL))
		return -EINVAL;
	if (kg < tm->first_kg || kg - tm->first_kg >= tm->n_kg)
		return -ERANGE;
	return 0;
}

static int
kg_push(struct sl_timer *tm, struct dq *q, uint32_t k, const uint8_t *e)
{
	struct kgq *g = &q->kg[k];

	if (g->n == g->cap) {
		uint32_t nc = g->cap == 0 ? tm->cap_hint : g->cap * 2;
		uint8_t *ne;

		if (nc < g->cap)
			return -ENOMEM;
		ne = realloc(g->ent, (size_t)nc * tm->stride);
		if (ne == NULL)
			return -ENOMEM;
		g->ent = ne;
		g->cap = nc;
	}
	ent_copy(tm, at(tm, g, g->n), e);
	g->n++;
	kg_up(tm, g, g->n - 1);
	return 0;
}

int
sl_timer_register(struct sl_timer *tm, enum sl_timer_domain dom, uint16_t kg,
		  const void *key, const void *ns, int64_t ts)
{
	uint8_t e[HDR + SL_TIMER_KEY_MAX + SL_TIMER_NS_MAX + 8];
	struct dq *q;
	uint64_t gen = 0;
	uint32_t k;
	int rc = check(tm, dom, kg, key, ns);

	if (rc < 0)
		return rc;
	q = &tm->q[dom];
	k = kg - tm->first_kg;
	memset(e, 0, tm->stride);
	memcpy(e, &ts, 8);
	memcpy(e + HDR, key, tm->key_len);
	if (tm->ns_len > 0)
		memcpy(e + HDR + tm->key_len, ns, tm->ns_len);
	ent_pfx(tm, e);
	/* C1: the same timer from its own callback would fire again, forever */
	if (tm->firing && tm->fdom == dom && ent_ts(tm->fent) == ts &&
	    memcmp(tm->fent + HDR, e + HDR, tm->cmp_len) == 0)
		return -ELOOP;
	rc = st_insert(tm, dom, kg, key, ns, ts, &gen);
	if (rc <= 0)
		return rc;	/* 0: W4.3, coalesced */
	memcpy(e + 8, &gen, 8);
	rc = kg_push(tm, q, k, e);
	if (rc < 0) {
		st_put(tm, dom, kg, key, ns, ts, NULL);
		return rc;
	}
	q->kg[k].live++;
	q->live++;
	if (q->kg[k].gpos == NONE || memcmp(q->kg[k].ent, e, tm->stride) == 0)
		g_fix(tm, q, k);
	return 1;
}

/* Drop the stale entries of key group k (amortised by the half rule). */
static int
kg_compact(struct sl_timer *tm, struct dq *q, uint32_t k)
{
	struct kgq *g = &q->kg[k];
	uint32_t w = 0;

	for (uint32_t i = 0; i < g->n; i++) {
		uint8_t *e = at(tm, g, i);
		uint64_t gen;
		int rc = st_get(tm, (int)(q - tm->q), (uint16_t)(k + tm->first_kg),
				e + HDR, e + HDR + tm->key_len, ent_ts(e), &gen);

		if (rc < 0)
			return rc;
		if (rc == 1 && gen == ent_gen(e)) {
			if (w != i)
				ent_copy(tm, at(tm, g, w), e);
			w++;
		}
	}
	g->n = w;
	g->live = w;
	kg_heapify(tm, g);
	g_fix(tm, q, k);
	return 0;
}

int
sl_timer_delete(struct sl_timer *tm, enum sl_timer_domain dom, uint16_t kg,
		const void *key, const void *ns, int64_t ts)
{
	struct dq *q;
	struct kgq *g;
	uint64_t gen;
	int rc = check(tm, dom, kg, key, ns);

	if (rc < 0)
		return rc;
	rc = st_get(tm, dom, kg, key, ns, ts, &gen);
	if (rc <= 0)
		return rc;
	rc = st_put(tm, dom, kg, key, ns, ts, NULL);
	if (rc < 0)
		return rc;
	q = &tm->q[dom];
	g = &q->kg[kg - tm->first_kg];
	g->live--;
	q->live--;
	/* lazy: the heap entry stays until popped or compacted */
	if (g->n - g->live > g->live + 16) {
		rc = kg_compact(tm, q, kg - tm->first_kg);
		if (rc < 0)
			return rc;
	}
	return 1;
}

int
sl_timer_exists(struct sl_timer *tm, enum sl_timer_domain dom, uint16_t kg,
		const void *key, const void *ns, int64_t ts)
{
	uint64_t gen;
	int rc = check(tm, dom, kg, key, ns);

	if (rc < 0)
		return rc;
	return st_get(tm, dom, kg, key, ns, ts, &gen);
}

/* ---- firing ------------------------------------------------------------ */

/*
 * The timer due after the one about to fire: its state slot and, through
 * the operator's hook, the operator's state for its key are prefetched,
 * so they arrive while the current callback runs (with a million keys
 * each fire's reads are cache misses otherwise). Only a hint: a callback
 * may register an earlier timer, which then simply finds its slot cold.
 */
static void
ahead(struct sl_timer *tm, int dom, int64_t limit)
{
	struct dq *q = &tm->q[dom];
	uint8_t nsb[STATE_NS_MAX];
	struct sl_state_ref r;
	const uint8_t *e;
	uint16_t kg;

	if (q->gn == 0)
		return;
	e = q->kg[q->gheap[0]].ent;
	if (ent_ts(e) > limit)
		return;
	kg = (uint16_t)(q->gheap[0] + tm->first_kg);
	st_ref(tm, dom, kg, e + HDR, e + HDR + tm->key_len, ent_ts(e), nsb, &r);
	sl_state_prefetch_bulk(tm->st, tm->q[dom].id, &r, 1);
	ent_copy(tm, tm->next_ent, e);
	tm->next_kg = kg;
	tm->next_dom = dom;
	tm->next_hash = r.hash;
	if (tm->prefetch != NULL)
		tm->prefetch(tm->arg, kg, e + HDR,
			     tm->ns_len > 0 ? e + HDR + tm->key_len : NULL);
}

static int
advance(struct sl_timer *tm, int dom, int64_t limit)
{
	struct dq *q = &tm->q[dom];
	int fired = 0;

	if (tm->firing)
		return -EBUSY;
	/* re-peek after every callback: timers it registers fire too (C1) */
	while (q->gn > 0) {
		uint32_t k = q->gheap[0];
		struct kgq *g = &q->kg[k];
		uint16_t kg = (uint16_t)(k + tm->first_kg);
		const uint8_t *key, *ns;
		int64_t ts;
		int rc;

		ts = ent_ts(g->ent);
		if (ts > limit)
			break;
		ent_copy(tm, tm->fent, g->ent);
		kg_pop(tm, g);
		g_fix(tm, q, k);
		key = tm->fent + HDR;
		ns = tm->fent + HDR + tm->key_len;
		/* takes the hash ahead() left for this one, then looks at
		 * the one after it */
		rc = st_take(tm, dom, kg, key, ns, ts, ent_gen(tm->fent));
		if (rc < 0)
			return rc;
		ahead(tm, dom, limit);
		if (rc == 0)
			continue;	/* deleted (and maybe registered again) */
		g->live--;
		q->live--;
		tm->firing = true;
		tm->fdom = (enum sl_timer_domain)dom;
		rc = tm->fire(tm->arg, tm->fdom, kg, key,
			      tm->ns_len > 0 ? ns : NULL, ts);
		tm->firing = false;
		fired++;
		if (rc < 0)
			return rc;
	}
	return fired;
}

int
sl_timer_advance_watermark(struct sl_timer *tm, int64_t wm)
{
	if (tm == NULL || wm < tm->wm)
		return -EINVAL;
	if (tm->firing)
		return -EBUSY;
	tm->wm = wm;
	return advance(tm, SL_TIMER_EVENT_TIME, wm);
}

int
sl_timer_advance_processing_time(struct sl_timer *tm, int64_t now)
{
	if (tm == NULL)
		return -EINVAL;
	if (tm->firing)
		return -EBUSY;
	if (now > tm->pt)
		tm->pt = now;
	return advance(tm, SL_TIMER_PROCESSING_TIME, now);
}

int64_t
sl_timer_watermark(const struct sl_timer *tm)
{
	return tm->wm;
}

int64_t
sl_timer_processing_time(const struct sl_timer *tm)
{
	return tm->pt;
}

int64_t
sl_timer_next(struct sl_timer *tm, enum sl_timer_domain dom)
{
	struct dq *q = &tm->q[dom];

	/* the head may be stale: drop stale heads so the answer is exact */
	while (q->gn > 0) {
		uint32_t k = q->gheap[0];
		struct kgq *g = &q->kg[k];
		const uint8_t *e = g->ent;
		uint64_t gen;
		int rc = st_get(tm, dom, (uint16_t)(k + tm->first_kg), e + HDR,
				e + HDR + tm->key_len, ent_ts(e), &gen);

		if (rc < 0 || (rc == 1 && gen == ent_gen(e)))
			return ent_ts(e);
		g->n--;
		if (g->n > 0) {
			ent_copy(tm, g->ent, at(tm, g, g->n));
			kg_down(tm, g, 0);
		}
		g_fix(tm, q, k);
	}
	return INT64_MAX;
}

uint64_t
sl_timer_count(const struct sl_timer *tm, enum sl_timer_domain dom)
{
	return tm->q[dom].live;
}

/* ---- restore ----------------------------------------------------------- */

int
sl_timer_rebuild(struct sl_timer *tm)
{
	uint8_t e[HDR + SL_TIMER_KEY_MAX + SL_TIMER_NS_MAX + 8];
	struct sl_state_snap *sn;
	struct sl_state_record rec;
	int rc, n = 0;

	if (tm == NULL || tm->firing)
		return -EINVAL;
	for (int d = 0; d < 2; d++) {
		struct dq *q = &tm->q[d];

		for (uint32_t k = 0; k < tm->n_kg; k++) {
			q->kg[k].n = 0;
			q->kg[k].live = 0;
			q->kg[k].gpos = NONE;
		}
		q->gn = 0;
		q->live = 0;
	}
	rc = sl_state_snapshot_begin(tm->st, 0, &sn);
	if (rc < 0)
		return rc;
	memset(e, 0, sizeof(e));
	while ((rc = sl_state_snapshot_next(sn, &rec)) == 1) {
		int d = rec.desc == tm->q[0].id ? 0 :
			rec.desc == tm->q[1].id ? 1 : -1;
		uint32_t k = (uint32_t)rec.kg - tm->first_kg;
		uint64_t gen;

		if (d < 0 || rec.kg < tm->first_kg || k >= tm->n_kg)
			continue;
		if (rec.val_len != 8) {
			rc = -EINVAL;
			break;
		}
		memcpy(&gen, rec.val, 8);
		memcpy(e, (const uint8_t *)rec.ns + tm->ns_len, 8);
		memcpy(e + 8, &gen, 8);
		memcpy(e + HDR, rec.key, tm->key_len);
		if (tm->ns_len > 0)
			memcpy(e + HDR + tm->key_len, rec.ns, tm->ns_len);
		ent_pfx(tm, e);
		rc = kg_push(tm, &tm->q[d], k, e);
		if (rc < 0)
			break;
		if (gen > tm->gen)
			tm->gen = gen;
		n++;
	}
	sl_state_snapshot_end(tm->st, sn);
	if (rc < 0)
		return rc;
	for (int d = 0; d < 2; d++) {
		struct dq *q = &tm->q[d];

		for (uint32_t k = 0; k < tm->n_kg; k++) {
			q->kg[k].live = q->kg[k].n;
			q->live += q->kg[k].n;
			if (q->kg[k].n > 0)
				g_fix(tm, q, k);
		}
	}
	tm->wm = INT64_MIN;
	tm->pt = INT64_MIN;
	return n;
}
