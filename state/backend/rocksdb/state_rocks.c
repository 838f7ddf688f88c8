/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rocksdb backend: one RocksDB instance per worker in conf->dir, through
 * the C API. The directory is scratch: it is wiped at open, because the
 * durable copy of state is the checkpoint (sl_state_snapshot_*), not this
 * instance.
 *
 * Key:   BE u16 key group | BE u16 descriptor id | key | ns [| map ukey]
 *        Big-endian key group first makes one key group, and a range of
 *        them, one contiguous key range: snapshots stream in key-group
 *        order and an N->M restore can pick ranges.
 * Value: the stored form of state.c: [i64 expiry if TTL] + bytes for
 *        value/reducing/aggregating and map entries; the encoded element
 *        list for list state (read-modify-write on add: a merge operator
 *        would save the read, at the cost of C merge callbacks).
 *
 * Options, and why:
 * - WAL off (writeoptions disable_WAL): checkpoints are the durability
 *   point; after a crash the job restores a checkpoint into a fresh
 *   instance, so a WAL would only cost a write per update.
 * - Block cache: LRU, conf->block_cache_bytes (default 64 MiB) per worker,
 *   index and filter blocks cached with L0's pinned, so the memory bound is
 *   the cache plus memtables and not the data size.
 * - Write buffer: conf->write_buffer_bytes (default 64 MiB), at most 3
 *   memtables: large enough that hot keys (open windows) are updated in the
 *   memtable, bounded so a worker's memory is known.
 * - Bloom filters: full filters, 10 bits per key, whole-key filtering:
 *   most reads are point lookups of keys that may be absent (a new window,
 *   a new key), and a filter answers those without reading a data block.
 * - Point-lookup optimisation: what OptimizeForPointLookup() sets, done by
 *   hand so the cache size stays ours: data blocks with a hash index
 *   (binary search and hash, ratio 0.75), 4 KiB blocks, format version 5.
 *   (OptimizeForPointLookup also turns on memtable whole-key bloom, which
 *   the 7.8 C API cannot set.)
 * - Compaction: levelled, with dynamic level bytes: bounded space
 *   amplification (~1.1x) and few sorted runs to probe per lookup, which
 *   suits read-modify-write of window accumulators; universal compaction
 *   would write less but reads more runs and can need 2x space. LZ4 for
 *   all levels: cheap to decompress on the read path. Two background jobs,
 *   so compaction and flush never run on the worker thread.
 * - TTL: a compaction filter drops entries whose expiry is <= the latest
 *   processing time a caller has passed in (st->now); lists are dropped
 *   when every element has expired (partly expired lists are cleaned on
 *   read). RocksDB applies compaction filters regardless of open
 *   snapshots, so a snapshot may lose entries that expired meanwhile; TTL
 *   allows expired state to disappear at any time.
 *
 * Snapshots use rocksdb_create_snapshot() plus an iterator pinned to it,
 * not the checkpoint API: creating a snapshot is O(1) on the worker, the
 * main lcore iterates it while the worker keeps writing, and the records
 * come out in key-group order in the same format as the heap backend, so
 * a checkpoint can be restored onto any number of workers and onto either
 * backend. A RocksDB checkpoint (hard-linked SSTs) would be cheaper for
 * very large state, but needs a synchronous memtable flush (no WAL) and is
 * tied to this backend and this worker's key-group range.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>
#include <xxhash.h>

#include "../state_priv.h"

#define KEY_MAX 1024u

struct rbe {
	struct sl_state *st;
	rocksdb_t *db;
	rocksdb_options_t *opt;
	rocksdb_block_based_table_options_t *bbt;
	rocksdb_cache_t *cache;
	rocksdb_compactionfilter_t *cf;
	rocksdb_readoptions_t *ro;
	rocksdb_writeoptions_t *wo;
	rocksdb_writebatch_t *wb;
	/* per-descriptor facts for the compaction filter (any thread) */
	_Atomic uint32_t dmeta[SL_STATE_MAX_DESC];
	/* batch scratch (worker thread) */
	uint8_t *kbuf, *vbuf;
	size_t kcap, vcap;
	uint16_t first[SL_STATE_BATCH_MAX];
	char *getv;		/* last rocksdb_get() value */
	char err[256];
};

#define DM_TTL 1u
#define DM_CLEAN 2u
#define DM_KIND_SHIFT 8

struct rsnap {
	const rocksdb_snapshot_t *snap;
	rocksdb_readoptions_t *ro;
	rocksdb_iterator_t *it;
	int started;
};

static inline struct rbe *
BE(struct sl_state *st)
{
	return st->be;
}

static int
rerr(struct rbe *b, char *e)
{
	if (e == NULL)
		return 0;
	snprintf(b->err, sizeof(b->err), "%s", e);
	rocksdb_free(e);
	return -EIO;
}

static size_t
key_len(const struct sl_sdesc *d, bool ukey)
{
	return 4u + d->d.key_len + d->d.ns_len + (ukey ? d->d.ukey_len : 0u);
}

static size_t
key_make(uint8_t *o, const struct sl_sdesc *d, const struct sl_state_ref *r,
	 const void *ukey)
{
	uint8_t *p = o + 4;

	o[0] = (uint8_t)(r->kg >> 8);
	o[1] = (uint8_t)r->kg;
	o[2] = (uint8_t)(d->id >> 8);
	o[3] = (uint8_t)d->id;
	memcpy(p, r->key, d->d.key_len);
	p += d->d.key_len;
	if (d->d.ns_len != 0)
		memcpy(p, r->ns, d->d.ns_len);
	p += d->d.ns_len;
	if (ukey != NULL) {
		memcpy(p, ukey, d->d.ukey_len);
		p += d->d.ukey_len;
	}
	return (size_t)(p - o);
}

static int
grow(uint8_t **buf, size_t *cap, size_t len)
{
	uint8_t *p;

	if (len <= *cap)
		return 0;
	p = realloc(*buf, len);
	if (p == NULL)
		return -ENOMEM;
	*buf = p;
	*cap = len;
	return 0;
}

/* ---- compaction filter ------------------------------------------------- */

static unsigned char
ttl_filter(void *arg, int level, const char *key, size_t klen,
	   const char *val, size_t vlen, char **nv, size_t *nvlen,
	   unsigned char *changed)
{
	struct rbe *b = arg;
	uint32_t id, m;
	int64_t now;

	(void)level;
	(void)nv;
	(void)nvlen;
	*changed = 0;
	if (klen < 4)
		return 0;
	id = ((uint32_t)(uint8_t)key[2] << 8) | (uint8_t)key[3];
	if (id >= SL_STATE_MAX_DESC)
		return 0;
	m = atomic_load_explicit(&b->dmeta[id], memory_order_relaxed);
	if ((m & (DM_TTL | DM_CLEAN)) != (DM_TTL | DM_CLEAN))
		return 0;
	now = atomic_load_explicit(&b->st->now, memory_order_relaxed);
	if ((m >> DM_KIND_SHIFT) == SL_STATE_LIST) {
		uint32_t left = sl_state_list_filter((const uint8_t *)val,
						     (uint32_t)vlen, now, NULL,
						     NULL);

		/* drop the list only when no element survives */
		return vlen != 0 && left == 0 ? 1 : 0;
	}
	return vlen >= 8 && sl_ttl_expired(val, now) ? 1 : 0;
}

static void
ttl_filter_destroy(void *arg)
{
	(void)arg;	/* the filter's state is the backend, freed by close */
}

static const char *
ttl_filter_name(void *arg)
{
	(void)arg;
	return "sl_state_ttl";
}

/* ---- open / close ------------------------------------------------------ */

static void
rocks_free(struct rbe *b)
{
	if (b->db != NULL)
		rocksdb_close(b->db);
	if (b->opt != NULL)
		rocksdb_options_destroy(b->opt);
	if (b->bbt != NULL)
		rocksdb_block_based_options_destroy(b->bbt);
	if (b->cache != NULL)
		rocksdb_cache_destroy(b->cache);
	if (b->cf != NULL)
		rocksdb_compactionfilter_destroy(b->cf);
	if (b->ro != NULL)
		rocksdb_readoptions_destroy(b->ro);
	if (b->wo != NULL)
		rocksdb_writeoptions_destroy(b->wo);
	if (b->wb != NULL)
		rocksdb_writebatch_destroy(b->wb);
	if (b->getv != NULL)
		rocksdb_free(b->getv);
	free(b->kbuf);
	free(b->vbuf);
	free(b);
}

static int
rocks_open(struct sl_state *st)
{
	const struct sl_state_conf *c = &st->conf;
	struct rbe *b;
	char *err = NULL;

	if (c->dir == NULL)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	b->st = st;
	b->opt = rocksdb_options_create();
	rocksdb_options_set_create_if_missing(b->opt, 1);
	rocksdb_options_set_max_background_jobs(b->opt, 2);
	rocksdb_options_set_write_buffer_size(b->opt, c->write_buffer_bytes ?
					      c->write_buffer_bytes : 64u << 20);
	rocksdb_options_set_max_write_buffer_number(b->opt, 3);
	rocksdb_options_set_compaction_style(b->opt, rocksdb_level_compaction);
	rocksdb_options_set_level_compaction_dynamic_level_bytes(b->opt, 1);
	rocksdb_options_set_compression(b->opt, rocksdb_lz4_compression);
	rocksdb_options_set_max_open_files(b->opt, -1);

	b->cache = rocksdb_cache_create_lru(c->block_cache_bytes ?
					    c->block_cache_bytes : 64u << 20);
	b->bbt = rocksdb_block_based_options_create();
	rocksdb_block_based_options_set_block_cache(b->bbt, b->cache);
	rocksdb_block_based_options_set_filter_policy(b->bbt,
		rocksdb_filterpolicy_create_bloom_full(10));
	rocksdb_block_based_options_set_whole_key_filtering(b->bbt, 1);
	rocksdb_block_based_options_set_data_block_index_type(b->bbt,
		rocksdb_block_based_table_data_block_index_type_binary_search_and_hash);
	rocksdb_block_based_options_set_data_block_hash_ratio(b->bbt, 0.75);
	rocksdb_block_based_options_set_cache_index_and_filter_blocks(b->bbt, 1);
	rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(b->bbt, 1);
	rocksdb_block_based_options_set_format_version(b->bbt, 5);
	rocksdb_options_set_block_based_table_factory(b->opt, b->bbt);

	b->cf = rocksdb_compactionfilter_create(b, ttl_filter_destroy, ttl_filter,
						ttl_filter_name);
	rocksdb_options_set_compaction_filter(b->opt, b->cf);

	b->ro = rocksdb_readoptions_create();
	b->wo = rocksdb_writeoptions_create();
	rocksdb_writeoptions_disable_WAL(b->wo, 1);
	rocksdb_writeoptions_set_sync(b->wo, 0);
	b->wb = rocksdb_writebatch_create();

	rocksdb_destroy_db(b->opt, c->dir, &err);
	if (err != NULL)
		rocksdb_free(err);	/* nothing to destroy is fine */
	err = NULL;
	b->db = rocksdb_open(b->opt, c->dir, &err);
	if (err != NULL) {
		rerr(b, err);
		rocks_free(b);
		return -EIO;
	}
	st->be = b;
	return 0;
}

static void
rocks_close(struct sl_state *st)
{
	rocks_free(BE(st));
}

static int
rocks_desc_add(struct sl_state *st, struct sl_sdesc *d)
{
	uint32_t m = (uint32_t)d->d.kind << DM_KIND_SHIFT;

	if (key_len(d, true) > KEY_MAX)
		return -E2BIG;
	if (d->ttl_on)
		m |= DM_TTL;
	if (d->d.ttl.cleanup_compaction)
		m |= DM_CLEAN;
	atomic_store_explicit(&BE(st)->dmeta[d->id], m, memory_order_relaxed);
	return 0;
}

/* ---- fixed-size entries ------------------------------------------------ */

static int
rocks_fixed_lookup(struct sl_state *st, struct sl_sdesc *d,
		   const struct sl_state_ref *refs, unsigned int n,
		   unsigned int flags, uint8_t **vals, uint8_t *created)
{
	struct rbe *b = BE(st);
	size_t ks = key_len(d, false), fl = d->fixed_len;
	int16_t tab[2 * SL_STATE_BATCH_MAX];
	const char *keys[SL_STATE_BATCH_MAX];
	size_t klens[SL_STATE_BATCH_MAX], vlens[SL_STATE_BATCH_MAX];
	char *vs[SL_STATE_BATCH_MAX], *errs[SL_STATE_BATCH_MAX];
	uint16_t uniq[SL_STATE_BATCH_MAX];
	unsigned int nu = 0;
	int rc = 0;

	if (grow(&b->kbuf, &b->kcap, ks * n) < 0 ||
	    grow(&b->vbuf, &b->vcap, fl * n) < 0)
		return -ENOMEM;
	memset(tab, -1, sizeof(tab));
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *k = b->kbuf + ks * i;
		uint32_t h;

		key_make(k, d, &refs[i], NULL);
		h = (uint32_t)XXH3_64bits(k, ks) & (2 * SL_STATE_BATCH_MAX - 1);
		for (;;) {
			int16_t j = tab[h];

			if (j < 0) {
				tab[h] = (int16_t)i;
				b->first[i] = (uint16_t)i;
				keys[nu] = (const char *)k;
				klens[nu] = ks;
				uniq[nu++] = (uint16_t)i;
				break;
			}
			if (memcmp(b->kbuf + ks * (unsigned int)j, k, ks) == 0) {
				b->first[i] = (uint16_t)j;
				break;
			}
			h = (h + 1) & (2 * SL_STATE_BATCH_MAX - 1);
		}
	}
	rocksdb_multi_get(b->db, b->ro, nu, keys, klens, vs, vlens, errs);
	for (unsigned int u = 0; u < nu; u++) {
		unsigned int i = uniq[u];
		uint8_t *v = b->vbuf + fl * i;

		created[i] = 0;
		vals[i] = NULL;
		if (errs[u] != NULL) {
			rc = rerr(b, errs[u]);
		} else if (vs[u] != NULL) {
			if (vlens[u] == fl) {
				memcpy(v, vs[u], fl);
				vals[i] = v;
			} else {
				rc = -EIO;
			}
		} else if (flags & SL_BE_CREATE) {
			memset(v, 0, fl);
			vals[i] = v;
			created[i] = 1;
		}
		if (vs[u] != NULL)
			rocksdb_free(vs[u]);
	}
	for (unsigned int i = 0; i < n; i++) {
		if (b->first[i] != i) {
			vals[i] = vals[b->first[i]];
			created[i] = 0;
		}
	}
	return rc;
}

static int
rocks_fixed_commit(struct sl_state *st, struct sl_sdesc *d,
		   const struct sl_state_ref *refs, unsigned int n,
		   uint8_t **vals, const uint8_t *dirty)
{
	struct rbe *b = BE(st);
	size_t ks = key_len(d, false);
	uint8_t any[SL_STATE_BATCH_MAX];
	char *err = NULL;

	(void)refs;
	memset(any, 0, n);
	for (unsigned int i = 0; i < n; i++)
		if (dirty[i])
			any[b->first[i]] = 1;
	rocksdb_writebatch_clear(b->wb);
	for (unsigned int i = 0; i < n; i++)
		if (any[i] && vals[i] != NULL)
			rocksdb_writebatch_put(b->wb,
					       (const char *)b->kbuf + ks * i, ks,
					       (const char *)vals[i], d->fixed_len);
	rocksdb_write(b->db, b->wo, b->wb, &err);
	return rerr(b, err);
}

/* ---- deletes, lists, maps ---------------------------------------------- */

static int
prefix_delete(struct rbe *b, const uint8_t *pfx, size_t plen)
{
	uint8_t ub[KEY_MAX];
	rocksdb_readoptions_t *ro;
	rocksdb_iterator_t *it;
	size_t ul = plen;
	char *err = NULL;
	int n = 0;

	memcpy(ub, pfx, plen);
	while (ul > 0 && ub[ul - 1] == 0xff)
		ul--;
	if (ul == 0)
		return -EINVAL;
	ub[ul - 1]++;
	ro = rocksdb_readoptions_create();
	rocksdb_readoptions_set_iterate_upper_bound(ro, (const char *)ub, ul);
	it = rocksdb_create_iterator(b->db, ro);
	rocksdb_writebatch_clear(b->wb);
	for (rocksdb_iter_seek(it, (const char *)pfx, plen);
	     rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t kl;
		const char *k = rocksdb_iter_key(it, &kl);

		rocksdb_writebatch_delete(b->wb, k, kl);
		n++;
	}
	rocksdb_iter_destroy(it);
	rocksdb_readoptions_destroy(ro);
	if (n != 0)
		rocksdb_write(b->db, b->wo, b->wb, &err);
	return err != NULL ? rerr(b, err) : n != 0;
}

static int
rocks_del(struct sl_state *st, struct sl_sdesc *d, const struct sl_state_ref *r)
{
	struct rbe *b = BE(st);
	uint8_t k[KEY_MAX];
	size_t kl = key_make(k, d, r, NULL);
	char *err = NULL;

	if (d->d.kind == SL_STATE_MAP)
		return prefix_delete(b, k, kl);
	rocksdb_delete(b->db, b->wo, (const char *)k, kl, &err);
	return err != NULL ? rerr(b, err) : 1;
}

/*
 * Keys are kg | desc | key | ns, so a namespace is not a prefix: iterate
 * the descriptor's range of each owned key group and pick the namespace,
 * deleting in one batch per key group.
 */
static int
rocks_ns_drain(struct sl_state *st, struct sl_sdesc *d, const void *ns,
	       sl_be_visit_fn fn, void *arg)
{
	struct rbe *b = BE(st);
	const size_t ks = key_len(d, false), noff = 4u + d->d.key_len;
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	char *err = NULL;
	int visited = 0, rc = 0;

	for (uint32_t kg = st->conf.first_kg; kg <= st->conf.last_kg && rc == 0; kg++) {
		uint8_t lo[4] = { (uint8_t)(kg >> 8), (uint8_t)kg,
				  (uint8_t)(d->id >> 8), (uint8_t)d->id };
		uint8_t hi[4];
		rocksdb_iterator_t *it;
		int n = 0;

		memcpy(hi, lo, 4);
		/* The next descriptor id, carrying into the key group. */
		for (int i = 3; i >= 0 && ++hi[i] == 0; i--)
			;
		rocksdb_readoptions_set_iterate_upper_bound(ro, (const char *)hi, 4);
		it = rocksdb_create_iterator(b->db, ro);
		rocksdb_writebatch_clear(b->wb);
		for (rocksdb_iter_seek(it, (const char *)lo, 4);
		     rocksdb_iter_valid(it) && rc == 0; rocksdb_iter_next(it)) {
			size_t kl, vl;
			const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it, &kl);
			const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vl);

			if (kl != ks || memcmp(k + noff, ns, d->d.ns_len) != 0)
				continue;
			if (vl != d->fixed_len) {
				rc = -EIO;
				break;
			}
			rc = fn(arg, (uint16_t)kg, k + 4, v);
			rocksdb_writebatch_delete(b->wb, (const char *)k, kl);
			n++;
		}
		rocksdb_iter_get_error(it, &err);
		rocksdb_iter_destroy(it);
		if (err != NULL) {
			rc = rerr(b, err);
			err = NULL;
		}
		if (n != 0) {
			rocksdb_write(b->db, b->wo, b->wb, &err);
			if (err != NULL && rc == 0)
				rc = rerr(b, err);
			else if (err != NULL)
				rocksdb_free(err);
			err = NULL;
		}
		visited += n;
	}
	rocksdb_readoptions_destroy(ro);
	return rc < 0 ? rc : visited;
}

static int
get_raw(struct rbe *b, const uint8_t *k, size_t kl, const uint8_t **p,
	uint32_t *len)
{
	size_t vl;
	char *err = NULL;

	if (b->getv != NULL) {
		rocksdb_free(b->getv);
		b->getv = NULL;
	}
	b->getv = rocksdb_get(b->db, b->ro, (const char *)k, kl, &vl, &err);
	if (err != NULL)
		return rerr(b, err);
	if (b->getv == NULL)
		return -ENOENT;
	*p = (const uint8_t *)b->getv;
	*len = (uint32_t)vl;
	return 0;
}

static int
put_raw(struct rbe *b, const uint8_t *k, size_t kl, const void *v, size_t vl)
{
	char *err = NULL;

	rocksdb_put(b->db, b->wo, (const char *)k, kl, v, vl, &err);
	return rerr(b, err);
}

static int
rocks_blob_get(struct sl_state *st, struct sl_sdesc *d,
	       const struct sl_state_ref *r, const uint8_t **p, uint32_t *len)
{
	uint8_t k[KEY_MAX];
	size_t kl = key_make(k, d, r, NULL);

	return get_raw(BE(st), k, kl, p, len);
}

static int
rocks_blob_put(struct sl_state *st, struct sl_sdesc *d,
	       const struct sl_state_ref *r, const void *p, uint32_t len)
{
	uint8_t k[KEY_MAX];
	size_t kl = key_make(k, d, r, NULL);

	if (len == 0) {
		int rc = rocks_del(st, d, r);

		return rc < 0 ? rc : 0;
	}
	return put_raw(BE(st), k, kl, p, len);
}

static int
rocks_blob_append(struct sl_state *st, struct sl_sdesc *d,
		  const struct sl_state_ref *r, const void *p, uint32_t len)
{
	struct rbe *b = BE(st);
	uint8_t k[KEY_MAX];
	size_t kl = key_make(k, d, r, NULL);
	const uint8_t *old;
	uint32_t ol = 0;
	int rc = get_raw(b, k, kl, &old, &ol);

	if (rc == -ENOENT)
		return put_raw(b, k, kl, p, len);
	if (rc < 0)
		return rc;
	if (grow(&b->vbuf, &b->vcap, (size_t)ol + len) < 0)
		return -ENOMEM;
	memcpy(b->vbuf, old, ol);
	memcpy(b->vbuf + ol, p, len);
	return put_raw(b, k, kl, b->vbuf, (size_t)ol + len);
}

static int
rocks_mel_get(struct sl_state *st, struct sl_sdesc *d,
	      const struct sl_state_ref *r, const void *ukey, const uint8_t **p,
	      uint32_t *len)
{
	uint8_t k[KEY_MAX];
	size_t kl = key_make(k, d, r, ukey);

	return get_raw(BE(st), k, kl, p, len);
}

static int
rocks_mel_put(struct sl_state *st, struct sl_sdesc *d,
	      const struct sl_state_ref *r, const void *ukey, const void *p,
	      uint32_t len)
{
	uint8_t k[KEY_MAX];
	size_t kl = key_make(k, d, r, ukey);

	return put_raw(BE(st), k, kl, p, len);
}

static int
rocks_mel_del(struct sl_state *st, struct sl_sdesc *d,
	      const struct sl_state_ref *r, const void *ukey)
{
	struct rbe *b = BE(st);
	uint8_t k[KEY_MAX];
	size_t kl = key_make(k, d, r, ukey);
	const uint8_t *p;
	uint32_t len;
	char *err = NULL;
	int rc = get_raw(b, k, kl, &p, &len);

	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	rocksdb_delete(b->db, b->wo, (const char *)k, kl, &err);
	return err != NULL ? rerr(b, err) : 1;
}

static int
rocks_mel_iter(struct sl_state *st, struct sl_sdesc *d,
	       const struct sl_state_ref *r, sl_be_mel_fn fn, void *arg)
{
	struct rbe *b = BE(st);
	uint8_t k[KEY_MAX], ub[KEY_MAX];
	size_t kl = key_make(k, d, r, NULL), ul = kl;
	rocksdb_readoptions_t *ro;
	rocksdb_iterator_t *it;
	char *err = NULL;

	memcpy(ub, k, kl);
	while (ul > 0 && ub[ul - 1] == 0xff)
		ul--;
	if (ul == 0)
		return -EINVAL;
	ub[ul - 1]++;
	ro = rocksdb_readoptions_create();
	rocksdb_readoptions_set_iterate_upper_bound(ro, (const char *)ub, ul);
	it = rocksdb_create_iterator(b->db, ro);
	for (rocksdb_iter_seek(it, (const char *)k, kl); rocksdb_iter_valid(it);
	     rocksdb_iter_next(it)) {
		size_t ikl, ivl;
		const char *ik = rocksdb_iter_key(it, &ikl);
		const char *iv = rocksdb_iter_value(it, &ivl);

		if (ikl != kl + d->d.ukey_len)
			continue;
		if (fn(arg, (const uint8_t *)ik + kl, (const uint8_t *)iv,
		       (uint32_t)ivl))
			break;
	}
	rocksdb_iter_get_error(it, &err);
	rocksdb_iter_destroy(it);
	rocksdb_readoptions_destroy(ro);
	return rerr(b, err);
}

/* ---- snapshots and restore --------------------------------------------- */

static int
rocks_snap_begin(struct sl_state *st, struct sl_state_snap *s)
{
	struct rbe *b = BE(st);
	struct rsnap *rs = calloc(1, sizeof(*rs));

	if (rs == NULL)
		return -ENOMEM;
	rs->snap = rocksdb_create_snapshot(b->db);
	rs->ro = rocksdb_readoptions_create();
	rocksdb_readoptions_set_snapshot(rs->ro, rs->snap);
	rocksdb_readoptions_set_fill_cache(rs->ro, 0);
	rs->it = rocksdb_create_iterator(b->db, rs->ro);
	s->be = rs;
	return 0;
}

static int
rocks_snap_next(struct sl_state_snap *s, struct sl_state_record *r)
{
	struct rsnap *rs = s->be;

	for (;;) {
		const struct sl_sdesc *d;
		const uint8_t *k;
		size_t kl, vl;
		uint16_t id;

		if (!rs->started) {
			rocksdb_iter_seek_to_first(rs->it);
			rs->started = 1;
		} else {
			rocksdb_iter_next(rs->it);
		}
		if (!rocksdb_iter_valid(rs->it)) {
			char *err = NULL;

			rocksdb_iter_get_error(rs->it, &err);
			if (err != NULL) {
				rocksdb_free(err);
				return -EIO;
			}
			return 0;
		}
		k = (const uint8_t *)rocksdb_iter_key(rs->it, &kl);
		if (kl < 4)
			continue;
		id = (uint16_t)((k[2] << 8) | k[3]);
		if (id >= s->n_desc)
			continue;
		d = &s->desc[id];
		if (kl != key_len(d, d->d.kind == SL_STATE_MAP))
			continue;
		r->desc = id;
		r->kg = (uint16_t)((k[0] << 8) | k[1]);
		r->key = k + 4;
		r->ns = k + 4 + d->d.key_len;
		r->ukey = d->d.kind == SL_STATE_MAP ?
			k + 4 + d->d.key_len + d->d.ns_len : NULL;
		r->val = rocksdb_iter_value(rs->it, &vl);
		r->val_len = (uint32_t)vl;
		return 1;
	}
}

static void
rocks_snap_end(struct sl_state *st, struct sl_state_snap *s)
{
	struct rsnap *rs = s->be;

	if (rs == NULL)
		return;
	rocksdb_iter_destroy(rs->it);
	rocksdb_readoptions_destroy(rs->ro);
	rocksdb_release_snapshot(BE(st)->db, rs->snap);
	free(rs);
	s->be = NULL;
}

static int
rocks_raw_put(struct sl_state *st, struct sl_sdesc *d,
	      const struct sl_state_record *r)
{
	struct sl_state_ref ref = { .key = r->key, .ns = r->ns, .kg = r->kg };
	uint8_t k[KEY_MAX];
	size_t kl = key_make(k, d, &ref,
			     d->d.kind == SL_STATE_MAP ? r->ukey : NULL);

	return put_raw(BE(st), k, kl, r->val, r->val_len);
}

static int
rocks_flush(struct sl_state *st)
{
	struct rbe *b = BE(st);
	rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
	char *err = NULL;

	rocksdb_flushoptions_set_wait(fo, 1);
	rocksdb_flush(b->db, fo, &err);
	rocksdb_flushoptions_destroy(fo);
	return rerr(b, err);
}

static int
rocks_compact(struct sl_state *st, int64_t now)
{
	(void)now;	/* state.c published it in st->now */
	rocksdb_compact_range(BE(st)->db, NULL, 0, NULL, 0);
	return 0;
}

static size_t
prop(struct rbe *b, const char *name)
{
	char *v = rocksdb_property_value(b->db, name);
	size_t n = 0;

	if (v != NULL) {
		n = (size_t)strtoull(v, NULL, 10);
		rocksdb_free(v);
	}
	return n;
}

static void
rocks_stats(struct sl_state *st, struct sl_state_stats *s)
{
	struct rbe *b = BE(st);

	s->mem_used = prop(b, "rocksdb.cur-size-all-mem-tables");
	s->disk_bytes = prop(b, "rocksdb.total-sst-files-size");
}

const struct sl_state_be_ops sl_state_rocks_ops = {
	.open = rocks_open,
	.close = rocks_close,
	.desc_add = rocks_desc_add,
	.fixed_lookup = rocks_fixed_lookup,
	.fixed_commit = rocks_fixed_commit,
	.del = rocks_del,
	.ns_drain = rocks_ns_drain,
	.blob_get = rocks_blob_get,
	.blob_put = rocks_blob_put,
	.blob_append = rocks_blob_append,
	.mel_get = rocks_mel_get,
	.mel_put = rocks_mel_put,
	.mel_del = rocks_mel_del,
	.mel_iter = rocks_mel_iter,
	.snap_begin = rocks_snap_begin,
	.snap_next = rocks_snap_next,
	.snap_end = rocks_snap_end,
	.raw_put = rocks_raw_put,
	.flush = rocks_flush,
	.compact = rocks_compact,
	.stats = rocks_stats,
};
