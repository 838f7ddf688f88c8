/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The common layer of sl_state: descriptors, Flink's TTL and aggregate
 * semantics (semantics.md R5.2, R5.5, C3), batching, snapshot encoding and
 * restore. Backends (heap/, rocksdb/) store bytes.
 *
 * TTL. Each stored value, list element and map entry carries an 8-byte
 * expiry (not the last-access time Flink stores: expiry = ts + ttl, with
 * C3's clamp, is all a compaction filter needs). Expired <=> expiry <= now.
 * OnCreateAndWrite refreshes the expiry on writes; OnReadAndWrite also on
 * every successful read. NeverReturnExpired hides an expired entry and
 * removes it on that read; ReturnExpiredIfNotCleanedUp returns it once and
 * removes it. Reducing/aggregating add reuses an expired accumulator only
 * under ReturnExpiredIfNotCleanedUp (Flink's TtlAggregateFunction
 * getUnexpired()).
 *
 * Snapshot chunk encoding (little endian), one key group per chunk:
 *   chunk  := u32 magic "SLK3", u16 kg, u16 0, u32 n_records,
 *             u32 payload_len, run*
 *   run    := u16 desc, u16 flags, u32 count, [ns[ns_len] if flags & NS],
 *             record[count]  (count >= 1)
 *   record := key[key_len], ns[ns_len] unless the run has one, then for a
 *             value, reducing or aggregating state val[fixed_len] (the
 *             descriptor's stored length); for a list u32 val_len,
 *             val[val_len]; for a map ukey[ukey_len], u32 val_len,
 *             val[val_len]
 * A fixed-size record carries nothing but its bytes: a window's record
 * is 32 bytes, not 40 (SLK1 gave every record a u16 desc, u16 0, u32
 * val_len header, 17% of a 10M-key file), and 24 in a run of one
 * window's records (SL_STATE_RUN_NS, flags bit 0: the heap backend's
 * pages whose records share a namespace, most of them: a window's state
 * is one namespace at a time but at its ends). SLK2 (flags always 0) and
 * SLK1 chunks are still read.
 * val is the stored form (sl_state_snapshot_next()). The lengths and the
 * descriptor ids are defined by the meta blob:
 *   meta   := u32 magic "SLM1", u16 n_desc, u16 0, desc*
 *   desc   := u16 id, u8 kind, u8 ttl_on, u16 key_len, u16 ns_len,
 *             u16 ukey_len, u16 name_len, u32 val_len, name[name_len]
 * A restore maps descriptors by name, so ids may differ between jobs. TTL
 * must be on or off on both sides (R5.5: switching it is incompatible).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Inlined: the per-row hash of a vector is on the hot path. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "state_priv.h"

#define CHUNK_MAGIC 0x334b4c53u	/* "SLK3" */
#define CHUNK_MAGIC2 0x324b4c53u	/* "SLK2": runs without flags */
#define CHUNK_MAGIC1 0x314b4c53u	/* "SLK1": a record header each */
#define META_MAGIC 0x314d4c53u	/* "SLM1" */
#define CHUNK_HDR 16u
#define REC_HDR 8u

static int
scratch_reserve(struct sl_state *st, size_t len)
{
	uint8_t *p;
	size_t cap;

	if (len <= st->scratch_cap)
		return 0;
	cap = st->scratch_cap ? st->scratch_cap : 4096;
	while (cap < len)
		cap *= 2;
	p = realloc(st->scratch, cap);
	if (p == NULL)
		return -ENOMEM;
	st->scratch = p;
	st->scratch_cap = cap;
	return 0;
}

static void
note_time(struct sl_state *st, int64_t now)
{
	int64_t cur = atomic_load_explicit(&st->now, memory_order_relaxed);

	if (now > cur)
		atomic_store_explicit(&st->now, now, memory_order_relaxed);
}

static struct sl_sdesc *
desc_of(struct sl_state *st, int id)
{
	if (id < 0 || id >= st->n_desc)
		return NULL;
	return &st->desc[id];
}

static bool
ref_ok(const struct sl_state *st, const struct sl_state_ref *r)
{
	return r->kg >= st->conf.first_kg && r->kg <= st->conf.last_kg;
}

static bool
refs_ok(const struct sl_state *st, const struct sl_state_ref *r,
	unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (!ref_ok(st, &r[i]))
			return false;
	return true;
}

/* Background TTL cleanup, Flink's "N entries per state access". */
static void
ttl_after(struct sl_state *st, struct sl_sdesc *d, int64_t now, unsigned int n)
{
	note_time(st, now);
	if (d->ttl_on && d->d.ttl.cleanup_incremental != 0 &&
	    st->ops->cleanup != NULL)
		st->ops->cleanup(st, d, now, d->d.ttl.cleanup_incremental * n);
}

uint32_t
sl_state_list_filter(const uint8_t *in, uint32_t len, int64_t now,
		     uint8_t *out, uint32_t *n_dropped)
{
	uint32_t off = 0, o = 0, drop = 0;

	while (off + 12 <= len) {
		uint32_t el;

		memcpy(&el, in + off, 4);
		if (off + 12 + el > len)
			break;
		if (sl_ttl_expired(in + off + 4, now)) {
			drop++;
		} else {
			if (out != NULL && (out != in || o != off))
				memmove(out + o, in + off, 12 + el);
			o += 12 + el;
		}
		off += 12 + el;
	}
	if (n_dropped != NULL)
		*n_dropped = drop;
	return o;
}

/* ---- open, close, descriptors ------------------------------------------ */

struct sl_state *
sl_state_open(const struct sl_state_conf *conf)
{
	struct sl_state *st;
	int rc;

	if (conf == NULL || conf->max_parallelism == 0 ||
	    conf->max_parallelism > 32768 ||
	    conf->first_kg > conf->last_kg ||
	    conf->last_kg >= conf->max_parallelism) {
		errno = EINVAL;
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	st->conf = *conf;
	/* Ours: a restore reopens the instance long after the caller's. */
	if (conf->dir != NULL && (st->dir = strdup(conf->dir)) == NULL) {
		free(st);
		errno = ENOMEM;
		return NULL;
	}
	st->conf.dir = st->dir;
	st->n_kg = conf->last_kg - conf->first_kg + 1;
	switch (conf->backend) {
	case SL_STATE_BACKEND_HEAP:
		st->ops = &sl_state_heap_ops;
		break;
	case SL_STATE_BACKEND_ROCKSDB:
		st->ops = &sl_state_rocks_ops;
		break;
	default:
		free(st->dir);
		free(st);
		errno = EINVAL;
		return NULL;
	}
	rc = st->ops->open(st);
	if (rc < 0) {
		free(st->dir);
		free(st);
		errno = -rc;
		return NULL;
	}
	return st;
}

void
sl_state_close(struct sl_state *st)
{
	if (st == NULL)
		return;
	if (st->snap != NULL)
		sl_state_snapshot_end(st, st->snap);
	st->ops->close(st);
	for (unsigned int i = 0; i < st->n_desc; i++)
		if (st->desc[i].d.merge != NULL && st->desc[i].d.merge_ctx_len > 0)
			free(st->desc[i].mctx);
	free(st->native_dir);
	free(st->dir);
	free(st->scratch);
	free(st);
}

int
sl_state_find(const struct sl_state *st, const char *name)
{
	for (unsigned int i = 0; i < st->n_desc; i++)
		if (strcmp(st->desc[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

int
sl_state_register(struct sl_state *st, const struct sl_state_desc *d)
{
	struct sl_sdesc *sd;
	int rc;

	if (d == NULL || d->name == NULL || strlen(d->name) >= 64 ||
	    d->key_len == 0 || d->ttl.ttl_ms < 0)
		return -EINVAL;
	if (sl_state_find(st, d->name) >= 0)
		return -EEXIST;
	if (st->n_desc >= SL_STATE_MAX_DESC)
		return -ENOSPC;
	switch (d->kind) {
	case SL_STATE_VALUE:
		if (d->val_len == 0)
			return -EINVAL;
		break;
	case SL_STATE_REDUCING:
		if (d->val_len == 0 || d->reduce == NULL)
			return -EINVAL;
		break;
	case SL_STATE_AGGREGATING:
		if (d->val_len == 0 || d->add == NULL)
			return -EINVAL;
		break;
	case SL_STATE_MAP:
		if (d->ukey_len == 0 || d->upgrade != NULL)
			return -EINVAL;
		break;
	case SL_STATE_LIST:
		if (d->upgrade != NULL)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	/* an old layout must differ in length: restore tells them apart so */
	if (d->upgrade != NULL && (d->old_val_len == 0 || d->old_val_len == d->val_len))
		return -EINVAL;
	if (st->snap != NULL)
		return -EBUSY;
	sd = &st->desc[st->n_desc];
	memset(sd, 0, sizeof(*sd));
	sd->d = *d;
	strcpy(sd->name, d->name);
	sd->d.name = sd->name;
	sd->id = st->n_desc;
	sd->ttl_on = d->ttl.ttl_ms > 0;
	sd->fixed_len = (sd->ttl_on ? 8u : 0u) + d->val_len;
	sd->mctx = d->ctx;
	if (d->merge != NULL && d->merge_ctx_len > 0) {
		sd->mctx = malloc(d->merge_ctx_len);
		if (sd->mctx == NULL)
			return -ENOMEM;
		memcpy(sd->mctx, d->merge_ctx, d->merge_ctx_len);
	}
	rc = st->ops->desc_add(st, sd);
	if (rc < 0) {
		if (sd->mctx != d->ctx)
			free(sd->mctx);
		return rc;
	}
	return st->n_desc++;
}

/* ---- batched fixed-size access ----------------------------------------- */

void
sl_state_hash_bulk(const struct sl_state *st, int id,
		   struct sl_state_ref *refs, unsigned int n)
{
	const struct sl_sdesc *d = &st->desc[id];
	uint32_t kl = d->d.key_len, nl = d->d.ns_len;

	for (unsigned int i = 0; i < n; i++)
		refs[i].hash = sl_state_hash_kn(refs[i].key, kl, refs[i].ns, nl);
}

void
sl_state_prefetch_bulk(struct sl_state *st, int id,
		       const struct sl_state_ref *refs, unsigned int n)
{
	struct sl_sdesc *d = desc_of(st, id);

	if (d != NULL && st->ops->prefetch != NULL)
		st->ops->prefetch(st, d, refs, n);
}

static void
remove_rows(struct sl_state *st, struct sl_sdesc *d,
	    const struct sl_state_ref *refs, unsigned int n, const uint8_t *rm)
{
	for (unsigned int i = 0; i < n; i++)
		if (rm[i] && st->ops->del(st, d, &refs[i]) > 0)
			st->n_expired++;
}

static int
value_get_part(struct sl_state *st, struct sl_sdesc *d,
	       const struct sl_state_ref *refs, unsigned int n, int64_t now,
	       uint8_t *out, uint8_t *found)
{
	uint8_t *vals[SL_STATE_BATCH_MAX];
	uint8_t created[SL_STATE_BATCH_MAX], dirty[SL_STATE_BATCH_MAX];
	uint8_t rm[SL_STATE_BATCH_MAX];
	bool on_read = d->ttl_on &&
		d->d.ttl.update == SL_STATE_TTL_ON_READ_AND_WRITE;
	bool ret_exp = d->d.ttl.visibility ==
		SL_STATE_TTL_RETURN_EXPIRED_IF_NOT_CLEANED_UP;
	uint32_t off = d->ttl_on ? 8 : 0, vl = d->d.val_len;
	int rc, nf = 0, nd = 0, nrm = 0;

	rc = st->ops->fixed_lookup(st, d, refs, n, on_read ? SL_BE_WRITE : 0,
				   vals, created);
	if (rc < 0)
		return rc;
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *p = vals[i];

		found[i] = 0;
		dirty[i] = 0;
		rm[i] = 0;
		if (p == NULL)
			continue;
		if (d->ttl_on && sl_ttl_expired(p, now)) {
			rm[i] = 1;
			nrm++;
			if (!ret_exp)
				continue;
		} else if (on_read) {
			sl_ttl_set(p, sl_ttl_expiry(now, d->d.ttl.ttl_ms));
			dirty[i] = 1;
			nd++;
		}
		memcpy(out + (size_t)i * vl, p + off, vl);
		found[i] = 1;
		nf++;
	}
	if (nd != 0) {
		rc = st->ops->fixed_commit(st, d, refs, n, vals, dirty);
		if (rc < 0)
			return rc;
	}
	if (nrm != 0)
		remove_rows(st, d, refs, n, rm);
	return nf;
}

int
sl_state_value_get_bulk(struct sl_state *st, int id,
			const struct sl_state_ref *refs, unsigned int n,
			int64_t now, void *vals, uint8_t *found)
{
	struct sl_sdesc *d = desc_of(st, id);
	int total = 0;

	if (d == NULL || d->d.kind != SL_STATE_VALUE)
		return -EINVAL;
	if (!refs_ok(st, refs, n))
		return -ERANGE;
	for (unsigned int i = 0; i < n; i += SL_STATE_BATCH_MAX) {
		unsigned int m = n - i < SL_STATE_BATCH_MAX ?
			n - i : SL_STATE_BATCH_MAX;
		int rc = value_get_part(st, d, refs + i, m, now,
					(uint8_t *)vals + (size_t)i * d->d.val_len,
					found + i);

		if (rc < 0)
			return rc;
		total += rc;
	}
	ttl_after(st, d, now, n);
	return total;
}

static int
fixed_write_part(struct sl_state *st, struct sl_sdesc *d,
		 const struct sl_state_ref *refs, unsigned int n, int64_t now,
		 const uint8_t *in, uint32_t stride)
{
	uint8_t *vals[SL_STATE_BATCH_MAX];
	uint8_t created[SL_STATE_BATCH_MAX], dirty[SL_STATE_BATCH_MAX];
	bool ret_exp = d->d.ttl.visibility ==
		SL_STATE_TTL_RETURN_EXPIRED_IF_NOT_CLEANED_UP;
	uint32_t off = d->ttl_on ? 8 : 0, vl = d->d.val_len;
	int64_t exp = d->ttl_on ? sl_ttl_expiry(now, d->d.ttl.ttl_ms) : 0;
	int rc, refused = 0;

	rc = st->ops->fixed_lookup(st, d, refs, n, SL_BE_CREATE, vals, created);
	if (rc < 0)
		return rc;
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *p = vals[i], *acc;
		const uint8_t *x = in + (size_t)i * stride;
		bool fresh;

		dirty[i] = 0;
		if (p == NULL) {
			refused++;
			continue;
		}
		acc = p + off;
		fresh = created[i];
		if (!fresh && d->ttl_on && !ret_exp && sl_ttl_expired(p, now)) {
			fresh = true;
			st->n_expired++;
		}
		switch (d->d.kind) {
		case SL_STATE_VALUE:
			memcpy(acc, x, vl);
			break;
		case SL_STATE_REDUCING:
			if (fresh)
				memcpy(acc, x, vl);
			else
				d->d.reduce(acc, x, d->d.ctx);
			break;
		default:	/* SL_STATE_AGGREGATING */
			if (fresh) {
				if (d->d.create != NULL)
					d->d.create(acc, d->d.ctx);
				else
					memset(acc, 0, vl);
			}
			d->d.add(acc, x, d->d.ctx);
			break;
		}
		if (d->ttl_on)
			sl_ttl_set(p, exp);
		dirty[i] = 1;
	}
	rc = st->ops->fixed_commit(st, d, refs, n, vals, dirty);
	if (rc < 0)
		return rc;
	return refused;
}

static int
fixed_write(struct sl_state *st, struct sl_sdesc *d,
	    const struct sl_state_ref *refs, unsigned int n, int64_t now,
	    const void *in, uint32_t stride)
{
	int total = 0;

	if (!refs_ok(st, refs, n))
		return -ERANGE;
	for (unsigned int i = 0; i < n; i += SL_STATE_BATCH_MAX) {
		unsigned int m = n - i < SL_STATE_BATCH_MAX ?
			n - i : SL_STATE_BATCH_MAX;
		int rc = fixed_write_part(st, d, refs + i, m, now,
					  (const uint8_t *)in + (size_t)i * stride,
					  stride);

		if (rc < 0)
			return rc;
		total += rc;
	}
	st->n_enomem += (uint64_t)total;
	ttl_after(st, d, now, n);
	return total;
}

int
sl_state_value_put_bulk(struct sl_state *st, int id,
			const struct sl_state_ref *refs, unsigned int n,
			int64_t now, const void *vals)
{
	struct sl_sdesc *d = desc_of(st, id);

	if (d == NULL || d->d.kind != SL_STATE_VALUE)
		return -EINVAL;
	return fixed_write(st, d, refs, n, now, vals, d->d.val_len);
}

int
sl_state_agg_add_bulk(struct sl_state *st, int id,
		      const struct sl_state_ref *refs, unsigned int n,
		      int64_t now, const void *in, uint32_t in_stride)
{
	struct sl_sdesc *d = desc_of(st, id);

	if (d == NULL || (d->d.kind != SL_STATE_REDUCING &&
			  d->d.kind != SL_STATE_AGGREGATING))
		return -EINVAL;
	return fixed_write(st, d, refs, n, now, in, in_stride);
}

static int
fixed_check(const struct sl_sdesc *d, unsigned int n)
{
	if (d == NULL || d->ttl_on || n > SL_STATE_BATCH_MAX ||
	    d->d.kind == SL_STATE_LIST || d->d.kind == SL_STATE_MAP)
		return -EINVAL;
	return 0;
}

int
sl_state_fixed_acquire_bulk(struct sl_state *st, int id,
			    const struct sl_state_ref *refs, unsigned int n,
			    uint8_t **vals, uint8_t *created)
{
	struct sl_sdesc *d = desc_of(st, id);
	int rc, refused = 0;

	rc = fixed_check(d, n);
	if (rc < 0)
		return rc;
	if (st->ops->fixed_upsert != NULL) {
		/* hashed: the backend leaves refs alone, so the cast holds */
		rc = st->ops->fixed_upsert(st, d, (struct sl_state_ref *)refs,
					   n, true, vals, created);
		if (rc > 0)
			st->n_enomem += (uint64_t)rc;
		return rc;
	}
	if (!refs_ok(st, refs, n))
		return -ERANGE;
	rc = st->ops->fixed_lookup(st, d, refs, n, SL_BE_CREATE, vals, created);
	if (rc < 0)
		return rc;
	for (unsigned int i = 0; i < n; i++)
		refused += vals[i] == NULL;
	st->n_enomem += (uint64_t)refused;
	return refused;
}

int
sl_state_fixed_upsert_bulk(struct sl_state *st, int id,
			   struct sl_state_ref *refs, unsigned int n,
			   uint8_t **vals, uint8_t *created)
{
	struct sl_sdesc *d = desc_of(st, id);
	int rc;

	rc = fixed_check(d, n);
	if (rc < 0)
		return rc;
	if (st->ops->fixed_upsert != NULL) {
		rc = st->ops->fixed_upsert(st, d, refs, n, false, vals, created);
		if (rc > 0)
			st->n_enomem += (uint64_t)rc;
		return rc;
	}
	if (!refs_ok(st, refs, n))
		return -ERANGE;
	sl_state_hash_bulk(st, id, refs, n);
	sl_state_prefetch_bulk(st, id, refs, n);
	return sl_state_fixed_acquire_bulk(st, id, refs, n, vals, created);
}

bool
sl_state_merge_is_blind(const struct sl_state *st)
{
	return st->ops->fixed_merge != NULL;
}

int
sl_state_fixed_merge_bulk(struct sl_state *st, int id,
			  struct sl_state_ref *refs, unsigned int n,
			  const uint8_t *const *ops)
{
	struct sl_sdesc *d = desc_of(st, id);
	uint8_t *vals[SL_STATE_BATCH_MAX];
	uint8_t created[SL_STATE_BATCH_MAX];
	int rc;

	rc = fixed_check(d, n);
	if (rc < 0)
		return rc;
	if (d->d.merge == NULL)
		return -ENOTSUP;
	if (st->ops->fixed_merge != NULL) {
		if (!refs_ok(st, refs, n))
			return -ERANGE;
		sl_state_hash_bulk(st, id, refs, n);
		return st->ops->fixed_merge(st, d, refs, n, ops);
	}
	rc = sl_state_fixed_upsert_bulk(st, id, refs, n, vals, created);
	if (rc < 0)
		return rc;
	for (unsigned int i = 0; i < n; i++) {
		if (vals[i] == NULL)
			continue;
		if (created[i])
			memcpy(vals[i], ops[i], d->fixed_len);
		else
			d->d.merge(vals[i], ops[i], d->mctx);
	}
	{
		int r2 = sl_state_fixed_release_bulk(st, id, refs, n, vals);

		return r2 < 0 ? r2 : rc;
	}
}

int
sl_state_fixed_release_bulk(struct sl_state *st, int id,
			    const struct sl_state_ref *refs, unsigned int n,
			    uint8_t **vals)
{
	struct sl_sdesc *d = desc_of(st, id);
	uint8_t dirty[SL_STATE_BATCH_MAX];

	if (d == NULL || n > SL_STATE_BATCH_MAX)
		return -EINVAL;
	if (st->ops->in_place || st->ops->fixed_commit == NULL)
		return 0;
	memset(dirty, 1, n);
	return st->ops->fixed_commit(st, d, refs, n, vals, dirty);
}

/* ---- single-key access ------------------------------------------------- */

/*
 * A value without TTL is its bytes: one row's get or put goes straight to
 * the backend's lookup, without the batch path's per-row arrays and TTL
 * branches (a keyed process function and the timers make several such
 * calls per element). Same results as the batch path.
 */
static inline bool
value_plain(const struct sl_sdesc *d)
{
	return d != NULL && d->d.kind == SL_STATE_VALUE && !d->ttl_on;
}

int
sl_state_value_get(struct sl_state *st, int id,
		   const struct sl_state_ref *ref, int64_t now, void *out)
{
	struct sl_sdesc *d = desc_of(st, id);
	uint8_t found, *p;
	int rc;

	if (value_plain(d)) {
		if (!ref_ok(st, ref))
			return -ERANGE;
		rc = st->ops->fixed_lookup(st, d, ref, 1, 0, &p, &found);
		if (rc < 0)
			return rc;
		if (p != NULL)
			memcpy(out, p, d->d.val_len);
		note_time(st, now);
		return p != NULL;
	}
	rc = sl_state_value_get_bulk(st, id, ref, 1, now, out, &found);
	return rc < 0 ? rc : found;
}

int
sl_state_value_slot(struct sl_state *st, int id,
		    const struct sl_state_ref *ref, int64_t now, uint8_t **slot)
{
	struct sl_sdesc *d = desc_of(st, id);
	uint8_t created;
	int rc;

	if (!value_plain(d) || !st->ops->in_place)
		return -ENOTSUP;
	if (!ref_ok(st, ref))
		return -ERANGE;
	rc = st->ops->fixed_lookup(st, d, ref, 1, SL_BE_WRITE, slot, &created);
	if (rc < 0)
		return rc;
	note_time(st, now);
	return *slot != NULL;
}

int
sl_state_value_put(struct sl_state *st, int id,
		   const struct sl_state_ref *ref, int64_t now, const void *val)
{
	struct sl_sdesc *d = desc_of(st, id);
	uint8_t created, dirty = 1, *p;
	int rc;

	if (value_plain(d)) {
		if (!ref_ok(st, ref))
			return -ERANGE;
		rc = st->ops->fixed_lookup(st, d, ref, 1, SL_BE_CREATE, &p,
					   &created);
		if (rc < 0)
			return rc;
		note_time(st, now);
		if (p == NULL) {
			st->n_enomem++;
			return -ENOMEM;
		}
		memcpy(p, val, d->d.val_len);
		rc = st->ops->fixed_commit(st, d, ref, 1, &p, &dirty);
		return rc < 0 ? rc : 0;
	}
	rc = sl_state_value_put_bulk(st, id, ref, 1, now, val);
	return rc < 0 ? rc : rc > 0 ? -ENOMEM : 0;
}

int
sl_state_agg_add(struct sl_state *st, int id, const struct sl_state_ref *ref,
		 int64_t now, const void *in)
{
	int rc = sl_state_agg_add_bulk(st, id, ref, 1, now, in, 0);

	return rc < 0 ? rc : rc > 0 ? -ENOMEM : 0;
}

int
sl_state_agg_get(struct sl_state *st, int id, const struct sl_state_ref *ref,
		 int64_t now, void *out)
{
	struct sl_sdesc *d = desc_of(st, id);
	uint8_t *p, created, dirty = 0;
	bool on_read, expired;
	int rc;

	if (d == NULL || (d->d.kind != SL_STATE_REDUCING &&
			  d->d.kind != SL_STATE_AGGREGATING))
		return -EINVAL;
	if (!ref_ok(st, ref))
		return -ERANGE;
	on_read = d->ttl_on && d->d.ttl.update == SL_STATE_TTL_ON_READ_AND_WRITE;
	rc = st->ops->fixed_lookup(st, d, ref, 1, on_read ? SL_BE_WRITE : 0,
				   &p, &created);
	if (rc < 0)
		return rc;
	if (p == NULL) {
		rc = 0;
		goto out;
	}
	expired = d->ttl_on && sl_ttl_expired(p, now);
	if (expired && d->d.ttl.visibility == SL_STATE_TTL_NEVER_RETURN_EXPIRED) {
		rc = 0;
	} else {
		const uint8_t *acc = p + (d->ttl_on ? 8 : 0);

		if (d->d.kind == SL_STATE_AGGREGATING && d->d.result != NULL)
			d->d.result(acc, out, d->d.ctx);
		else
			memcpy(out, acc, d->d.val_len);
		rc = 1;
		if (!expired && on_read) {
			sl_ttl_set(p, sl_ttl_expiry(now, d->d.ttl.ttl_ms));
			dirty = 1;
			int c = st->ops->fixed_commit(st, d, ref, 1, &p, &dirty);

			if (c < 0)
				return c;
		}
	}
	if (expired && st->ops->del(st, d, ref) > 0)
		st->n_expired++;
out:
	ttl_after(st, d, now, 1);
	return rc;
}

int
sl_state_clear(struct sl_state *st, int id, const struct sl_state_ref *ref)
{
	struct sl_sdesc *d = desc_of(st, id);
	int rc;

	if (d == NULL)
		return -EINVAL;
	if (!ref_ok(st, ref))
		return -ERANGE;
	rc = st->ops->del(st, d, ref);
	return rc < 0 ? rc : 0;
}

/* ---- namespace drain (window firing) ------------------------------------ */

struct drain_ctx {
	const struct sl_sdesc *d;
	int64_t now;
	bool skip_expired;
	sl_state_visit_fn fn;
	void *arg;
	uint64_t expired;
	int visited;
};

static int
drain_cb(void *arg, uint16_t kg, const uint8_t *key, const uint8_t *stored)
{
	struct drain_ctx *c = arg;
	int rc;

	if (c->d->ttl_on) {
		if (c->skip_expired && sl_ttl_expired(stored, c->now)) {
			c->expired++;
			return 0;
		}
		stored += 8;
	}
	rc = c->fn(c->arg, kg, key, stored);
	if (rc < 0)
		return rc;
	c->visited++;
	return 0;
}

static int
ns_visit(struct sl_state *st, int id, const void *ns, int64_t now, bool keep,
	 sl_state_visit_fn fn, void *arg)
{
	struct sl_sdesc *d = desc_of(st, id);
	struct drain_ctx c = { 0 };
	int rc;

	if (d == NULL || d->d.kind == SL_STATE_LIST || d->d.kind == SL_STATE_MAP ||
	    d->d.ns_len == 0 || st->ops->ns_drain == NULL)
		return -EINVAL;
	note_time(st, now);
	c.d = d;
	c.now = now;
	c.skip_expired = d->ttl_on &&
		d->d.ttl.visibility == SL_STATE_TTL_NEVER_RETURN_EXPIRED;
	c.fn = fn;
	c.arg = arg;
	rc = st->ops->ns_drain(st, d, ns, keep, drain_cb, &c);
	st->n_expired += c.expired;
	return rc < 0 ? rc : c.visited;
}

int
sl_state_ns_drain(struct sl_state *st, int id, const void *ns, int64_t now,
		  sl_state_visit_fn fn, void *arg)
{
	return ns_visit(st, id, ns, now, false, fn, arg);
}

int
sl_state_ns_visit(struct sl_state *st, int id, const void *ns, int64_t now,
		  sl_state_visit_fn fn, void *arg)
{
	return ns_visit(st, id, ns, now, true, fn, arg);
}

bool
sl_state_writes_copy(const struct sl_state *st)
{
	return st->snap != NULL && st->conf.backend == SL_STATE_BACKEND_HEAP;
}

/* ---- list state -------------------------------------------------------- */

static uint32_t
list_encode(uint8_t *o, const struct sl_sdesc *d, int64_t exp,
	    const void *elem, uint32_t len)
{
	memcpy(o, &len, 4);
	if (!d->ttl_on) {
		memcpy(o + 4, elem, len);
		return 4 + len;
	}
	sl_ttl_set(o + 4, exp);
	memcpy(o + 12, elem, len);
	return 12 + len;
}

int
sl_state_list_add(struct sl_state *st, int id, const struct sl_state_ref *ref,
		  int64_t now, const void *elem, uint32_t len)
{
	struct sl_sdesc *d = desc_of(st, id);
	uint32_t el;
	int rc;

	if (d == NULL || d->d.kind != SL_STATE_LIST || elem == NULL)
		return -EINVAL;
	if (!ref_ok(st, ref))
		return -ERANGE;
	rc = scratch_reserve(st, (size_t)len + 12);
	if (rc < 0)
		return rc;
	el = list_encode(st->scratch, d,
			 d->ttl_on ? sl_ttl_expiry(now, d->d.ttl.ttl_ms) : 0,
			 elem, len);
	rc = st->ops->blob_append(st, d, ref, st->scratch, el);
	if (rc == -ENOMEM)
		st->n_enomem++;
	ttl_after(st, d, now, 1);
	return rc;
}

int
sl_state_list_update(struct sl_state *st, int id,
		     const struct sl_state_ref *ref, int64_t now,
		     const void *const *elems, const uint32_t *lens,
		     unsigned int n)
{
	struct sl_sdesc *d = desc_of(st, id);
	int64_t exp;
	size_t tot = 0;
	uint32_t o = 0;
	int rc;

	if (d == NULL || d->d.kind != SL_STATE_LIST)
		return -EINVAL;
	if (!ref_ok(st, ref))
		return -ERANGE;
	for (unsigned int i = 0; i < n; i++) {
		if (elems[i] == NULL)
			return -EINVAL;
		tot += (size_t)lens[i] + 12;
	}
	if (tot > UINT32_MAX)
		return -E2BIG;
	if (n == 0) {
		rc = st->ops->del(st, d, ref);
		return rc < 0 ? rc : 0;
	}
	rc = scratch_reserve(st, tot);
	if (rc < 0)
		return rc;
	exp = d->ttl_on ? sl_ttl_expiry(now, d->d.ttl.ttl_ms) : 0;
	for (unsigned int i = 0; i < n; i++)
		o += list_encode(st->scratch + o, d, exp, elems[i], lens[i]);
	rc = st->ops->blob_put(st, d, ref, st->scratch, o);
	if (rc == -ENOMEM)
		st->n_enomem++;
	ttl_after(st, d, now, 1);
	return rc;
}

int
sl_state_list_get(struct sl_state *st, int id, const struct sl_state_ref *ref,
		  int64_t now, sl_state_elem_fn fn, void *arg)
{
	struct sl_sdesc *d = desc_of(st, id);
	bool on_read, ret_exp, stop = false;
	const uint8_t *p;
	uint32_t len, off = 0, hdr, o = 0;
	int rc, cnt = 0, nexp = 0;

	if (d == NULL || d->d.kind != SL_STATE_LIST)
		return -EINVAL;
	if (!ref_ok(st, ref))
		return -ERANGE;
	rc = st->ops->blob_get(st, d, ref, &p, &len);
	if (rc == -ENOENT)
		goto out;
	if (rc < 0)
		return rc;
	hdr = d->ttl_on ? 12 : 4;
	on_read = d->ttl_on && d->d.ttl.update == SL_STATE_TTL_ON_READ_AND_WRITE;
	ret_exp = d->d.ttl.visibility ==
		SL_STATE_TTL_RETURN_EXPIRED_IF_NOT_CLEANED_UP;
	if (d->ttl_on) {
		rc = scratch_reserve(st, len);
		if (rc < 0)
			return rc;
	}
	while (off + hdr <= len) {
		uint32_t el;
		bool exp = false;

		memcpy(&el, p + off, 4);
		if (off + hdr + el > len)
			return -EIO;
		if (d->ttl_on) {
			exp = sl_ttl_expired(p + off + 4, now);
			if (exp) {
				nexp++;
			} else {
				/* survivors, for the rewrite below */
				memcpy(st->scratch + o, p + off, hdr + el);
				if (on_read)
					sl_ttl_set(st->scratch + o + 4,
						   sl_ttl_expiry(now, d->d.ttl.ttl_ms));
				o += hdr + el;
			}
		}
		if (!exp || ret_exp) {
			if (!stop && fn != NULL && fn(arg, p + off + hdr, el))
				stop = true;
			cnt++;
		}
		off += hdr + el;
	}
	if (d->ttl_on && (nexp != 0 || on_read)) {
		st->n_expired += (uint64_t)nexp;
		rc = o == 0 ? st->ops->del(st, d, ref) :
			st->ops->blob_put(st, d, ref, st->scratch, o);
		if (rc < 0)
			return rc;
	}
out:
	ttl_after(st, d, now, 1);
	return cnt;
}

/* ---- map state --------------------------------------------------------- */

int
sl_state_map_put(struct sl_state *st, int id, const struct sl_state_ref *ref,
		 int64_t now, const void *ukey, const void *val, uint32_t len)
{
	struct sl_sdesc *d = desc_of(st, id);
	uint32_t off;
	int rc;

	if (d == NULL || d->d.kind != SL_STATE_MAP || ukey == NULL ||
	    (val == NULL && len != 0))
		return -EINVAL;
	if (!ref_ok(st, ref))
		return -ERANGE;
	rc = scratch_reserve(st, (size_t)len + 8);
	if (rc < 0)
		return rc;
	off = 0;
	if (d->ttl_on) {
		sl_ttl_set(st->scratch, sl_ttl_expiry(now, d->d.ttl.ttl_ms));
		off = 8;
	}
	if (len != 0)
		memcpy(st->scratch + off, val, len);
	rc = st->ops->mel_put(st, d, ref, ukey, st->scratch, off + len);
	if (rc == -ENOMEM)
		st->n_enomem++;
	ttl_after(st, d, now, 1);
	return rc;
}

/* Look up ukey, applying TTL; copies the value to out. */
static int
map_read(struct sl_state *st, struct sl_sdesc *d,
	 const struct sl_state_ref *ref, int64_t now, const void *ukey,
	 void *out, uint32_t cap)
{
	const uint8_t *p;
	uint32_t len, off = d->ttl_on ? 8 : 0;
	int rc;

	rc = st->ops->mel_get(st, d, ref, ukey, &p, &len);
	if (rc < 0)
		return rc;
	if (len < off)
		return -EIO;
	if (out != NULL)
		memcpy(out, p + off, len - off < cap ? len - off : cap);
	rc = (int)(len - off);
	if (d->ttl_on && sl_ttl_expired(p, now)) {
		int r2 = st->ops->mel_del(st, d, ref, ukey);

		if (r2 < 0)
			return r2;
		st->n_expired++;
		if (d->d.ttl.visibility == SL_STATE_TTL_NEVER_RETURN_EXPIRED)
			return -ENOENT;
	} else if (d->ttl_on &&
		   d->d.ttl.update == SL_STATE_TTL_ON_READ_AND_WRITE) {
		int r2 = scratch_reserve(st, len);

		if (r2 < 0)
			return r2;
		memcpy(st->scratch, p, len);
		sl_ttl_set(st->scratch, sl_ttl_expiry(now, d->d.ttl.ttl_ms));
		r2 = st->ops->mel_put(st, d, ref, ukey, st->scratch, len);
		if (r2 < 0)
			return r2;
	}
	return rc;
}

int
sl_state_map_get(struct sl_state *st, int id, const struct sl_state_ref *ref,
		 int64_t now, const void *ukey, void *out, uint32_t cap)
{
	struct sl_sdesc *d = desc_of(st, id);
	int rc;

	if (d == NULL || d->d.kind != SL_STATE_MAP || ukey == NULL)
		return -EINVAL;
	if (!ref_ok(st, ref))
		return -ERANGE;
	rc = map_read(st, d, ref, now, ukey, out, cap);
	ttl_after(st, d, now, 1);
	return rc;
}

int
sl_state_map_contains(struct sl_state *st, int id,
		      const struct sl_state_ref *ref, int64_t now,
		      const void *ukey)
{
	int rc = sl_state_map_get(st, id, ref, now, ukey, NULL, 0);

	return rc == -ENOENT ? 0 : rc < 0 ? rc : 1;
}

int
sl_state_map_remove(struct sl_state *st, int id,
		    const struct sl_state_ref *ref, const void *ukey)
{
	struct sl_sdesc *d = desc_of(st, id);

	if (d == NULL || d->d.kind != SL_STATE_MAP || ukey == NULL)
		return -EINVAL;
	if (!ref_ok(st, ref))
		return -ERANGE;
	return st->ops->mel_del(st, d, ref, ukey);
}

struct map_iter_ctx {
	struct sl_state *st;
	struct sl_sdesc *d;
	int64_t now;
	sl_state_entry_fn fn;
	void *arg;
	bool stop;
	int cnt;
	/* entries to delete (expired) or rewrite (OnReadAndWrite) later */
	uint8_t *deferred;
	size_t deferred_len, deferred_cap;
	int err;
};

static void
deferred_add(struct map_iter_ctx *c, uint8_t op, const uint8_t *ukey,
	 const uint8_t *val, uint32_t len)
{
	size_t need = 5 + c->d->d.ukey_len + (op ? len : 0);

	if (c->deferred_len + need > c->deferred_cap) {
		size_t cap = c->deferred_cap ? c->deferred_cap * 2 : 4096;
		uint8_t *p;

		while (cap < c->deferred_len + need)
			cap *= 2;
		p = realloc(c->deferred, cap);
		if (p == NULL) {
			c->err = -ENOMEM;
			return;
		}
		c->deferred = p;
		c->deferred_cap = cap;
	}
	c->deferred[c->deferred_len] = op;
	memcpy(c->deferred + c->deferred_len + 1, &len, 4);
	memcpy(c->deferred + c->deferred_len + 5, ukey, c->d->d.ukey_len);
	if (op)
		memcpy(c->deferred + c->deferred_len + 5 + c->d->d.ukey_len, val, len);
	c->deferred_len += need;
}

static int
map_iter_cb(void *arg, const uint8_t *ukey, const uint8_t *val, uint32_t len)
{
	struct map_iter_ctx *c = arg;
	struct sl_sdesc *d = c->d;
	uint32_t off = d->ttl_on ? 8 : 0;
	bool exp = false;

	if (len < off)
		return 0;
	if (d->ttl_on) {
		exp = sl_ttl_expired(val, c->now);
		if (exp)
			deferred_add(c, 0, ukey, NULL, 0);
		else if (d->d.ttl.update == SL_STATE_TTL_ON_READ_AND_WRITE)
			deferred_add(c, 1, ukey, val, len);
	}
	if (!exp || d->d.ttl.visibility ==
	    SL_STATE_TTL_RETURN_EXPIRED_IF_NOT_CLEANED_UP) {
		if (!c->stop && c->fn != NULL &&
		    c->fn(c->arg, ukey, val + off, len - off))
			c->stop = true;
		c->cnt++;
	}
	return 0;
}

int
sl_state_map_iter(struct sl_state *st, int id, const struct sl_state_ref *ref,
		  int64_t now, sl_state_entry_fn fn, void *arg)
{
	struct sl_sdesc *d = desc_of(st, id);
	struct map_iter_ctx c = { .st = st, .d = d, .now = now, .fn = fn,
				  .arg = arg };
	size_t o = 0;
	int rc;

	if (d == NULL || d->d.kind != SL_STATE_MAP)
		return -EINVAL;
	if (!ref_ok(st, ref))
		return -ERANGE;
	rc = st->ops->mel_iter(st, d, ref, map_iter_cb, &c);
	if (rc == 0 && c.err != 0)
		rc = c.err;
	while (rc >= 0 && o < c.deferred_len) {
		uint8_t op = c.deferred[o];
		uint32_t len;
		const uint8_t *uk = c.deferred + o + 5;

		memcpy(&len, c.deferred + o + 1, 4);
		if (op == 0) {
			rc = st->ops->mel_del(st, d, ref, uk);
			st->n_expired++;
		} else {
			uint8_t *v = c.deferred + o + 5 + d->d.ukey_len;

			sl_ttl_set(v, sl_ttl_expiry(now, d->d.ttl.ttl_ms));
			rc = st->ops->mel_put(st, d, ref, uk, v, len);
		}
		o += 5 + d->d.ukey_len + (op ? len : 0);
	}
	free(c.deferred);
	ttl_after(st, d, now, 1);
	return rc < 0 ? rc : c.cnt;
}

/* ---- snapshots --------------------------------------------------------- */

int
sl_state_snapshot_begin(struct sl_state *st, int64_t now,
			struct sl_state_snap **snap)
{
	struct sl_state_snap *s;
	int rc;

	if (st->snap != NULL)
		return -EBUSY;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->st = st;
	s->now = now;
	s->n_desc = st->n_desc;
	memcpy(s->desc, st->desc, sizeof(s->desc[0]) * st->n_desc);
	note_time(st, now);
	if (st->native_dir != NULL) {
		/* The one-shot request is used up whether or not it works. */
		s->native_dir = st->native_dir;
		st->native_dir = NULL;
		rc = st->ops->native_ckpt(st, s->native_dir);
		s->done = 1;
	} else {
		rc = st->ops->snap_begin(st, s);
	}
	if (rc < 0) {
		free(s->native_dir);
		free(s);
		return rc;
	}
	st->snap = s;
	*snap = s;
	return 0;
}

int
sl_state_snapshot_native(struct sl_state *st, const char *dir)
{
	char *d = NULL;

	if (st->ops->native_ckpt == NULL)
		return -ENOTSUP;
	if (st->snap != NULL)
		return -EBUSY;
	if (dir != NULL && (d = strdup(dir)) == NULL)
		return -ENOMEM;
	free(st->native_dir);
	st->native_dir = d;
	return 0;
}

const char *
sl_state_snapshot_dir(const struct sl_state_snap *s)
{
	return s->native_dir;
}

#define SNAP_BATCH 64u

/* The backend's next record, from a batch where it gives them so. */
static inline int
snap_raw_next(struct sl_state_snap *s, struct sl_state_record *rec)
{
	if (s->st->ops->snap_batch == NULL)
		return s->st->ops->snap_next(s, rec);
	if (s->ib == s->nb) {
		int rc;

		if (s->batch == NULL) {
			s->batch = malloc(SNAP_BATCH * sizeof(*s->batch));
			if (s->batch == NULL)
				return -ENOMEM;
		}
		rc = s->st->ops->snap_batch(s, s->batch, SNAP_BATCH);
		if (rc <= 0)
			return rc;
		s->nb = (unsigned int)rc;
		s->ib = 0;
	}
	*rec = s->batch[s->ib++];
	return 1;
}

int
sl_state_snapshot_next(struct sl_state_snap *s, struct sl_state_record *rec)
{
	if (s->native_dir != NULL)
		return 0;
	for (;;) {
		const struct sl_sdesc *d;
		int rc = snap_raw_next(s, rec);

		if (rc <= 0)
			return rc;
		d = &s->desc[rec->desc];
		if (!d->ttl_on || !d->d.ttl.cleanup_full_snapshot)
			return 1;
		if (d->d.kind != SL_STATE_LIST) {
			if (rec->val_len >= 8 && sl_ttl_expired(rec->val, s->now))
				continue;
			return 1;
		}
		if (rec->val_len > s->fbuf_cap) {
			uint8_t *p = realloc(s->fbuf, rec->val_len);

			if (p == NULL)
				return -ENOMEM;
			s->fbuf = p;
			s->fbuf_cap = rec->val_len;
		}
		rec->val_len = sl_state_list_filter(rec->val, rec->val_len,
						    s->now, s->fbuf, NULL);
		rec->val = s->fbuf;
		if (rec->val_len != 0)
			return 1;
	}
}

size_t
sl_state_rec_size(const struct sl_state_snap *s, const struct sl_state_record *r)
{
	const struct sl_sdesc *d = &s->desc[r->desc];

	if (d->d.kind != SL_STATE_LIST && d->d.kind != SL_STATE_MAP)
		return (size_t)d->d.key_len + d->d.ns_len + r->val_len;
	return (size_t)d->d.key_len + d->d.ns_len +
		(d->d.kind == SL_STATE_MAP ? d->d.ukey_len : 0) + 4u + r->val_len;
}

static int
buf_reserve(struct sl_state_snap *s, size_t len)
{
	uint8_t *p;
	size_t cap;

	if (len <= s->buf_cap)
		return 0;
	cap = s->buf_cap ? s->buf_cap : 65536;
	while (cap < len)
		cap *= 2;
	p = realloc(s->buf, cap);
	if (p == NULL)
		return -ENOMEM;
	s->buf = p;
	s->buf_cap = cap;
	return 0;
}

void
sl_state_rec_put(const struct sl_state_snap *s, const struct sl_state_record *r,
		 uint8_t *o)
{
	const struct sl_sdesc *d = &s->desc[r->desc];

	memcpy(o, r->key, d->d.key_len);
	o += d->d.key_len;
	if (d->d.ns_len != 0)
		memcpy(o, r->ns, d->d.ns_len);
	o += d->d.ns_len;
	if (d->d.kind == SL_STATE_MAP) {
		memcpy(o, r->ukey, d->d.ukey_len);
		o += d->d.ukey_len;
	}
	if (d->d.kind == SL_STATE_LIST || d->d.kind == SL_STATE_MAP) {
		memcpy(o, &r->val_len, 4);
		o += 4;
	}
	if (r->val_len != 0)
		memcpy(o, r->val, r->val_len);
}

/* Some record must be looked at on its way out (TTL cleanup at snapshot). */
static bool
snap_filters(const struct sl_state_snap *s)
{
	for (unsigned int i = 0; i < s->n_desc; i++)
		if (s->desc[i].ttl_on && s->desc[i].d.ttl.cleanup_full_snapshot)
			return true;
	return false;
}

static void
chunk_hdr(uint8_t *b, uint16_t kg, uint32_t nrec, size_t len)
{
	uint32_t pl = (uint32_t)(len - CHUNK_HDR), m = CHUNK_MAGIC;
	uint16_t z = 0;

	memcpy(b, &m, 4);
	memcpy(b + 4, &kg, 2);
	memcpy(b + 6, &z, 2);
	memcpy(b + 8, &nrec, 4);
	memcpy(b + 12, &pl, 4);
}

/*
 * The backend encodes the records into the chunk itself (heap): no record
 * structure, no call per record. Same chunks as the loop below.
 */
static int
snapshot_write_direct(struct sl_state_snap *s, size_t chunk_max, size_t budget,
		      sl_state_chunk_fn fn, void *arg)
{
	size_t emitted = 0;
	int rc;

	rc = buf_reserve(s, chunk_max > CHUNK_HDR ? chunk_max : CHUNK_HDR + 1);
	if (rc < 0)
		return rc;
	for (;;) {
		size_t len = CHUNK_HDR, need = 0;
		uint32_t nrec = 0;
		int kg = -1, n;

		s->run_off = 0;
		for (;;) {
			n = s->st->ops->snap_encode(s, s->buf + len,
						    s->buf_cap - len, &kg, &nrec,
						    &need);
			if (n < 0)
				return n;
			if (n == 0 && need != 0 && len == CHUNK_HDR) {
				/* one record larger than a chunk: alone */
				rc = buf_reserve(s, CHUNK_HDR + need);
				if (rc < 0)
					return rc;
				continue;
			}
			if (n == 0)
				break;
			len += (size_t)n;
		}
		if (nrec == 0) {
			s->done = 1;
			return 0;
		}
		chunk_hdr(s->buf, (uint16_t)kg, nrec, len);
		rc = fn(arg, (uint16_t)kg, s->buf, len);
		if (rc < 0)
			return rc;
		emitted += len;
		if (budget != 0 && emitted >= budget)
			return 1;
	}
}

int
sl_state_snapshot_write(struct sl_state_snap *s, size_t chunk_max,
			size_t budget, sl_state_chunk_fn fn, void *arg)
{
	size_t len = 0, emitted = 0;
	uint32_t nrec = 0;
	uint16_t kg = 0;
	int rc;

	if (s->done)
		return 0;
	if (s->st->ops->snap_encode != NULL && s->native_dir == NULL &&
	    !snap_filters(s))
		return snapshot_write_direct(s, chunk_max, budget, fn, arg);
	for (;;) {
		size_t rs;

		if (!s->have) {
			rc = sl_state_snapshot_next(s, &s->rec);
			if (rc < 0)
				return rc;
			s->have = rc;
		}
		if (len != 0 && (!s->have || s->rec.kg != kg ||
				 len + sl_state_run_need(s, s->rec.desc) +
				 sl_state_rec_size(s, &s->rec) > chunk_max)) {
			chunk_hdr(s->buf, kg, nrec, len);
			rc = fn(arg, kg, s->buf, len);
			if (rc < 0)
				return rc;
			emitted += len;
			len = 0;
			nrec = 0;
			if (!s->have) {
				s->done = 1;
				return 0;
			}
			if (budget != 0 && emitted >= budget)
				return 1;
		}
		if (!s->have) {
			s->done = 1;
			return 0;
		}
		rs = sl_state_rec_size(s, &s->rec);
		if (len == 0) {
			kg = s->rec.kg;
			len = CHUNK_HDR;
			s->run_off = 0;
		}
		rc = buf_reserve(s, len + SL_STATE_RUN_HDR + rs);
		if (rc < 0)
			return rc;
		len += sl_state_run_open(s, s->rec.desc, s->buf + len);
		sl_state_rec_put(s, &s->rec, s->buf + len);
		sl_state_run_add(s, 1);
		len += rs;
		nrec++;
		s->have = 0;
	}
}

size_t
sl_state_snapshot_meta(const struct sl_state_snap *s, void *buf, size_t cap)
{
	size_t need = 8;
	uint8_t *o = buf;

	for (unsigned int i = 0; i < s->n_desc; i++)
		need += 16 + strlen(s->desc[i].name);
	if (need > cap)
		return need;
	uint32_t m = META_MAGIC;
	uint16_t n = s->n_desc, z = 0;

	memcpy(o, &m, 4);
	memcpy(o + 4, &n, 2);
	memcpy(o + 6, &z, 2);
	o += 8;
	for (unsigned int i = 0; i < s->n_desc; i++) {
		const struct sl_sdesc *d = &s->desc[i];
		uint16_t nl = (uint16_t)strlen(d->name);

		memcpy(o, &d->id, 2);
		o[2] = (uint8_t)d->d.kind;
		o[3] = d->ttl_on;
		memcpy(o + 4, &d->d.key_len, 2);
		memcpy(o + 6, &d->d.ns_len, 2);
		memcpy(o + 8, &d->d.ukey_len, 2);
		memcpy(o + 10, &nl, 2);
		memcpy(o + 12, &d->d.val_len, 4);
		memcpy(o + 16, d->name, nl);
		o += 16 + nl;
	}
	return need;
}

void
sl_state_snapshot_end(struct sl_state *st, struct sl_state_snap *s)
{
	if (s == NULL)
		return;
	if (s->native_dir == NULL)
		st->ops->snap_end(st, s);
	if (st->snap == s)
		st->snap = NULL;
	free(s->native_dir);
	free(s->buf);
	free(s->fbuf);
	free(s->batch);
	free(s);
}

/* ---- restore ----------------------------------------------------------- */

/* Map the snapshot's descriptor ids onto ours. map[] gets our ids; up[]
 * says which of them hold values of the descriptor's old_val_len. */
static int
meta_map(struct sl_state *st, const uint8_t *m, size_t len, int16_t *map,
	 uint8_t *up, uint16_t *n_out)
{
	uint32_t magic;
	uint16_t n;
	size_t off = 8;

	if (len < 8)
		return -EINVAL;
	memcpy(&magic, m, 4);
	memcpy(&n, m + 4, 2);
	if (magic != META_MAGIC || n > SL_STATE_MAX_DESC)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		uint16_t id, kl, nl, ul, namel;
		uint32_t vl;
		char name[64];
		int local;
		const struct sl_sdesc *d;

		if (off + 16 > len)
			return -EINVAL;
		memcpy(&id, m + off, 2);
		memcpy(&kl, m + off + 4, 2);
		memcpy(&nl, m + off + 6, 2);
		memcpy(&ul, m + off + 8, 2);
		memcpy(&namel, m + off + 10, 2);
		memcpy(&vl, m + off + 12, 4);
		if (id != i || namel >= sizeof(name) || off + 16 + namel > len)
			return -EINVAL;
		memcpy(name, m + off + 16, namel);
		name[namel] = '\0';
		local = sl_state_find(st, name);
		if (local < 0)
			return -ENOENT;
		d = &st->desc[local];
		up[i] = d->d.upgrade != NULL && d->d.old_val_len == vl;
		if ((uint8_t)d->d.kind != m[off + 2] || d->ttl_on != m[off + 3] ||
		    d->d.key_len != kl || d->d.ns_len != nl ||
		    d->d.ukey_len != ul || (d->d.val_len != vl && !up[i]))
			return -EINVAL;
		map[i] = (int16_t)local;
		off += 16 + namel;
	}
	*n_out = n;
	return 0;
}

int
sl_state_restore(struct sl_state *st, const void *meta, size_t meta_len,
		 const void *chunk, size_t len)
{
	int16_t map[SL_STATE_MAX_DESC];
	uint8_t up[SL_STATE_MAX_DESC];
	const uint8_t *c = chunk;
	uint32_t magic, nrec, pl, left = 0;	/* records left in the run */
	uint16_t kg, n_meta, sid = 0, flags = 0;
	const uint8_t *run_ns = NULL;	/* the run's namespace (SL_STATE_RUN_NS) */
	size_t off = CHUNK_HDR;
	int rc, loaded = 0;

	rc = meta_map(st, meta, meta_len, map, up, &n_meta);
	if (rc < 0)
		return rc;
	if (len < CHUNK_HDR)
		return -EINVAL;
	memcpy(&magic, c, 4);
	memcpy(&kg, c + 4, 2);
	memcpy(&nrec, c + 8, 4);
	memcpy(&pl, c + 12, 4);
	if ((magic != CHUNK_MAGIC && magic != CHUNK_MAGIC2 &&
	     magic != CHUNK_MAGIC1) || (size_t)pl + CHUNK_HDR != len)
		return -EINVAL;
	if (kg < st->conf.first_kg || kg > st->conf.last_kg)
		return 0;
	for (uint32_t i = 0; i < nrec; i++) {
		struct sl_state_record r = { .kg = kg };
		const struct sl_sdesc *d;
		size_t klen, voff, rlen;
		uint32_t flen;
		bool var;

		if (magic == CHUNK_MAGIC1) {
			if (off + REC_HDR > len)
				return -EINVAL;
			memcpy(&sid, c + off, 2);
			memcpy(&r.val_len, c + off + 4, 4);
			off += REC_HDR;
		} else if (left == 0) {
			if (off + SL_STATE_RUN_HDR > len)
				return -EINVAL;
			memcpy(&sid, c + off, 2);
			memcpy(&flags, c + off + 2, 2);
			memcpy(&left, c + off + 4, 4);
			off += SL_STATE_RUN_HDR;
			if (magic == CHUNK_MAGIC2)
				flags = 0;	/* never set then */
			if (left == 0 || left > nrec - i ||
			    (flags & ~SL_STATE_RUN_NS) != 0 || sid >= n_meta)
				return -EINVAL;
			run_ns = NULL;
			if (flags & SL_STATE_RUN_NS) {
				d = &st->desc[map[sid]];
				if (d->d.kind == SL_STATE_LIST ||
				    d->d.kind == SL_STATE_MAP || d->d.ns_len == 0 ||
				    off + d->d.ns_len > len)
					return -EINVAL;
				run_ns = c + off;
				off += d->d.ns_len;
			}
		}
		if (sid >= n_meta)
			return -EINVAL;
		d = &st->desc[map[sid]];
		var = d->d.kind == SL_STATE_LIST || d->d.kind == SL_STATE_MAP;
		/* the stored length: an old layout's (sl_state_desc.upgrade) */
		flen = up[sid] ? d->fixed_len - d->d.val_len + d->d.old_val_len :
		       d->fixed_len;
		klen = (size_t)d->d.key_len + (run_ns != NULL ? 0 : d->d.ns_len) +
			(d->d.kind == SL_STATE_MAP ? d->d.ukey_len : 0);
		voff = klen;
		if (magic != CHUNK_MAGIC1) {
			left--;
			if (var) {
				if (off + klen + 4 > len)
					return -EINVAL;
				memcpy(&r.val_len, c + off + klen, 4);
				voff += 4;
			} else {
				r.val_len = flen;
			}
		}
		if (off + voff + r.val_len > len)
			return -EINVAL;
		if (!var && r.val_len != flen)
			return -EINVAL;
		r.desc = d->id;
		r.key = c + off;
		r.ns = run_ns != NULL ? run_ns : c + off + d->d.key_len;
		r.ukey = c + off + d->d.key_len + d->d.ns_len;	/* maps: no run ns */
		r.val = c + off + voff;
		rlen = voff + r.val_len;
		if (up[sid]) {
			/* the expiry as it was, the value made today's */
			uint32_t t = d->fixed_len - d->d.val_len;

			rc = scratch_reserve(st, d->fixed_len);
			if (rc < 0)
				return rc;
			memcpy(st->scratch, r.val, t);
			d->d.upgrade((const uint8_t *)r.val + t, st->scratch + t,
				     d->d.ctx);
			r.val = st->scratch;
			r.val_len = d->fixed_len;
		}
		rc = st->ops->raw_put(st, &st->desc[map[sid]], &r);
		if (rc < 0) {
			if (rc == -ENOMEM)
				st->n_enomem++;
			return rc;
		}
		loaded++;
		st->n_loaded++;
		off += rlen;
	}
	return off == len && left == 0 ? loaded : -EINVAL;
}

int
sl_state_restore_native(struct sl_state *st, const void *meta, size_t meta_len,
			const char *dir, unsigned int flags, bool *adopted)
{
	int16_t map[SL_STATE_MAX_DESC];
	uint8_t up[SL_STATE_MAX_DESC];
	uint16_t n_meta;
	bool same = true;
	int rc;

	*adopted = false;
	rc = meta_map(st, meta, meta_len, map, up, &n_meta);
	if (rc < 0)
		return rc;
	for (uint16_t i = 0; i < n_meta; i++) {
		/* RocksDB's files hold the old values: nothing converts them */
		if (up[i])
			return -EPROTO;
		same = same && map[i] == (int16_t)i;
	}
	if ((flags & SL_STATE_NATIVE_ADOPT) && same && st->n_loaded == 0 &&
	    st->ops->native_adopt != NULL) {
		rc = st->ops->native_adopt(st, dir);
		if (rc == 0) {
			*adopted = true;
			st->n_loaded = 1;	/* not empty any more */
		}
		return rc;
	}
	rc = sl_state_rocks_native_load(st, dir, map, n_meta);
	if (rc > 0)
		st->n_loaded += (uint64_t)rc;
	return rc;
}

int
sl_state_flush(struct sl_state *st)
{
	return st->ops->flush != NULL ? st->ops->flush(st) : 0;
}

int
sl_state_compact(struct sl_state *st, int64_t now)
{
	note_time(st, now);
	if (st->ops->compact != NULL)
		return st->ops->compact(st, now);
	for (unsigned int i = 0; i < st->n_desc; i++) {
		struct sl_sdesc *d = &st->desc[i];

		if (d->ttl_on && st->ops->cleanup != NULL)
			st->ops->cleanup(st, d, now, UINT32_MAX);
	}
	return 0;
}

void
sl_state_stats(struct sl_state *st, struct sl_state_stats *s)
{
	memset(s, 0, sizeof(*s));
	st->ops->stats(st, s);
	s->n_enomem = st->n_enomem;
	s->n_expired = st->n_expired;
}
