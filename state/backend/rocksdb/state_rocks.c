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
 *        list for list state (read-modify-write on add).
 *
 * Merges: a descriptor with a merge function (sl_state_desc.merge, no
 * TTL) can take blind updates (sl_state_fixed_merge_bulk): each is a
 * RocksDB merge operand, a whole value, and the merge operator
 * (rmerge_*) folds an entry's operands with that function when it is
 * read, flushed or compacted. The window sends every row that cannot fire
 * its window this way: at millions of keys the read of find-then-add was
 * a block-cache miss, most of an event's cost; what is left is the
 * memtable insert. The operator's name is part of the OPTIONS file, so
 * native checkpoints reopen with it; reading one back (native_load)
 * installs it with the checkpoint's descriptor ids mapped to ours.
 *
 * Options, and why:
 * - WAL off (writeoptions disable_WAL) unless conf->wal: checkpoints are
 *   the durability point; after a crash the job restores a checkpoint into
 *   a fresh instance, so a WAL would only cost a write per update. With
 *   conf->wal (native checkpoints) the log is kept but buffered in memory
 *   (manual_wal_flush) and written by each checkpoint, see below.
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
 * - Memtable bloom: a fixed prefix extractor of ROCKS_PREFIX bytes (key
 *   group, descriptor, the first 8 key bytes: the whole key of a u64 key)
 *   and a memtable prefix bloom (10% of the write buffer). Without it a
 *   lookup of a key the memtables do not hold (every new key) searched
 *   three 64 MiB skiplists, a cache miss a level: about half the worker's
 *   time at millions of keys. Iterators set total_order_seek, so the
 *   extractor never limits a scan.
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
 * Two kinds of snapshot, as Flink's RocksDB backend has:
 * - Full (the default, and every savepoint): rocksdb_create_snapshot()
 *   plus an iterator pinned to it. Creating it is O(1) on the worker; the
 *   main lcore iterates it while the worker keeps writing, and the records
 *   come out in key-group order in the heap backend's format, so it
 *   restores onto any number of workers and onto either backend. Its cost
 *   is O(state) on the main lcore, every time.
 * - Native (state.backend.incremental): RocksDB's Checkpoint. The worker
 *   hard-links the live SST files into the checkpoint directory; MANIFEST,
 *   CURRENT and OPTIONS are copied. An SST file is immutable, so the next
 *   checkpoint links the same inode again: a checkpoint writes only what
 *   was flushed or compacted since the last one. What only the memtables
 *   hold gets in one of two ways:
 *   - without conf->wal (Flink's way: its WAL is off too) the memtables
 *     are flushed into a new SST at every checkpoint. Measured (1M keys,
 *     a checkpoint a second): the flush itself is short, but afterwards
 *     every read-modify-write of a window goes to the L0 files instead of
 *     the memtable, and throughput fell about 7x;
 *   - with conf->wal (what the dataplane uses) the buffered log is written
 *     and synced, and the checkpoint copies the live log instead of
 *     flushing, so the memtables keep serving reads. A restore replays the
 *     log. The copy is the log since the last memtable flush (up to a
 *     write buffer), so it is what a checkpoint writes besides new SSTs.
 *   Restore (rocks_adopt) takes the files of the checkpoint that overlaps
 *   most as the instance and deletes the key groups this worker does not
 *   own; other overlapping checkpoints, and restores onto heap, are read
 *   through a read-only instance (sl_state_rocks_native_load), which
 *   replays their logs in memory. The price is the flush or the log copy
 *   on the worker at the barrier.
 */

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rocksdb/c.h>
#include <xxhash.h>

#include "../state_priv.h"

#define KEY_MAX 1024u

#define ROCKS_PREFIX 12	/* key group, descriptor id, 8 key bytes */

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
	struct rmerge *mg;		/* the merge operator's table */
	rocksdb_mergeoperator_t *mo;
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
	free(b->mg);	/* after the db and options, which call into it */
	free(b);
}

/*
 * RocksDB's background threads are created by the first thread that needs
 * them and inherit its CPU: a worker, pinned to a polling CPU, would then
 * share that CPU with every flush and compaction. Start them here with the
 * calling thread moved to bg_cpu for the moment, once per process.
 */
static void
start_bg_threads(bool pin, int bg_cpu)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static bool started;
	cpu_set_t old, one;
	rocksdb_env_t *env;

	if (!pin || bg_cpu < 0 || bg_cpu >= CPU_SETSIZE)
		return;
	pthread_mutex_lock(&lock);
	if (!started && pthread_getaffinity_np(pthread_self(), sizeof(old), &old) == 0) {
		CPU_ZERO(&one);
		CPU_SET(bg_cpu, &one);
		if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0) {
			env = rocksdb_create_default_env();
			rocksdb_env_set_background_threads(env, 2);
			rocksdb_env_set_high_priority_background_threads(env, 1);
			rocksdb_env_destroy(env);	/* the default env lives on */
			(void)pthread_setaffinity_np(pthread_self(), sizeof(old), &old);
			started = true;
		}
	}
	pthread_mutex_unlock(&lock);
}

/* Open conf->dir as the instance; wipe: start from an empty one. */
static int
open_db(struct rbe *b, bool wipe)
{
	const char *dir = b->st->conf.dir;
	char *err = NULL;

	if (wipe) {
		rocksdb_destroy_db(b->opt, dir, &err);
		if (err != NULL)
			rocksdb_free(err);	/* nothing to destroy is fine */
		err = NULL;
	}
	b->db = rocksdb_open(b->opt, dir, &err);
	return rerr(b, err);
}

/*
 * The merge operator (sl_state_fixed_merge_bulk): an entry's merge
 * operands are whole values, folded with their descriptor's merge in
 * write order. The key's descriptor id picks the function; ids are the
 * instance's own, or a checkpoint's mapped to ours when reading one
 * (native_load). It runs on reads, flushes and compactions, any thread.
 */
struct rmerge {
	void (*fn[SL_STATE_MAX_DESC])(void *acc, const void *other, void *ctx);
	void *ctx[SL_STATE_MAX_DESC];
	uint32_t len[SL_STATE_MAX_DESC];
};

static void
rmerge_set(struct rmerge *m, uint16_t id, const struct sl_sdesc *d)
{
	m->len[id] = d->fixed_len;
	m->ctx[id] = d->mctx;
	m->fn[id] = d->ttl_on ? NULL : d->d.merge;
}

static char *
rmerge_fold(const struct rmerge *m, const char *key, size_t kl,
	    const char *first, size_t first_len, const char *const *ops,
	    const size_t *op_len, int n, unsigned char *ok, size_t *out_len)
{
	uint16_t id;
	uint32_t len;
	char *acc;

	*ok = 0;
	if (kl < 4)
		return NULL;
	id = (uint16_t)(((uint8_t)key[2] << 8) | (uint8_t)key[3]);
	if (id >= SL_STATE_MAX_DESC || m->fn[id] == NULL)
		return NULL;
	len = m->len[id];
	if (first == NULL) {
		if (n == 0)
			return NULL;
		first = ops[0];
		first_len = op_len[0];
		ops++;
		op_len++;
		n--;
	}
	if (first_len != len || (acc = malloc(len)) == NULL)
		return NULL;
	memcpy(acc, first, len);
	for (int i = 0; i < n; i++) {
		if (op_len[i] != len) {
			free(acc);
			return NULL;	/* RocksDB reports corruption */
		}
		m->fn[id](acc, ops[i], m->ctx[id]);
	}
	*ok = 1;
	*out_len = len;
	return acc;
}

static char *
rmerge_full(void *arg, const char *key, size_t kl, const char *ex, size_t exl,
	    const char *const *ops, const size_t *op_len, int n,
	    unsigned char *ok, size_t *out_len)
{
	return rmerge_fold(arg, key, kl, ex, exl, ops, op_len, n, ok, out_len);
}

static char *
rmerge_partial(void *arg, const char *key, size_t kl, const char *const *ops,
	       const size_t *op_len, int n, unsigned char *ok, size_t *out_len)
{
	return rmerge_fold(arg, key, kl, NULL, 0, ops, op_len, n, ok, out_len);
}

static void
rmerge_delete(void *arg, const char *v, size_t len)
{
	(void)arg;
	(void)len;
	free((void *)(uintptr_t)v);
}

static void
rmerge_destroy(void *arg)
{
	(void)arg;	/* the table belongs to its rbe or its caller */
}

static const char *
rmerge_name(void *arg)
{
	(void)arg;
	return "sluice.fixed_merge.v1";
}

static rocksdb_mergeoperator_t *
rmerge_create(struct rmerge *m)
{
	return rocksdb_mergeoperator_create(m, rmerge_destroy, rmerge_full,
					    rmerge_partial, rmerge_delete,
					    rmerge_name);
}

static int
rocks_open(struct sl_state *st)
{
	const struct sl_state_conf *c = &st->conf;
	struct rbe *b;

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
	rocksdb_options_set_prefix_extractor(b->opt,
		rocksdb_slicetransform_create_fixed_prefix(ROCKS_PREFIX));
	rocksdb_options_set_memtable_prefix_bloom_size_ratio(b->opt, 0.1);

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
	b->mg = calloc(1, sizeof(*b->mg));
	if (b->mg == NULL) {
		rocks_free(b);
		return -ENOMEM;
	}
	/* The options own it from here (rocks_free: options_destroy). */
	b->mo = rmerge_create(b->mg);
	rocksdb_options_set_merge_operator(b->opt, b->mo);

	b->ro = rocksdb_readoptions_create();
	b->wo = rocksdb_writeoptions_create();
	/* The log, when kept, stays in RocksDB's buffer until a checkpoint
	 * writes it (manual flush): no write() per batch on the worker. */
	rocksdb_options_set_manual_wal_flush(b->opt, c->wal ? 1 : 0);
	rocksdb_writeoptions_disable_WAL(b->wo, c->wal ? 0 : 1);
	rocksdb_writeoptions_set_sync(b->wo, 0);
	b->wb = rocksdb_writebatch_create();

	st->be = b;
	start_bg_threads(c->bg_pin, c->bg_cpu);
	if (open_db(b, true) < 0) {
		st->be = NULL;
		rocks_free(b);
		return -EIO;
	}
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
	/* Before any write of this descriptor: RocksDB's own locking orders
	 * it before the merges that read it. */
	rmerge_set(BE(st)->mg, d->id, d);
	return 0;
}

/* Blind merges: one operand a row, no read (see sl_state_fixed_merge_bulk). */
static int
rocks_fixed_merge(struct sl_state *st, struct sl_sdesc *d,
		  struct sl_state_ref *refs, unsigned int n,
		  const uint8_t *const *ops)
{
	struct rbe *b = BE(st);
	size_t ks = key_len(d, false);
	char *err = NULL;

	if (grow(&b->kbuf, &b->kcap, ks * n) < 0)
		return -ENOMEM;
	rocksdb_writebatch_clear(b->wb);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *k = b->kbuf + ks * i;

		key_make(k, d, &refs[i], NULL);
		rocksdb_writebatch_merge(b->wb, (const char *)k, ks,
					 (const char *)ops[i], d->fixed_len);
	}
	rocksdb_write(b->db, b->wo, b->wb, &err);
	return rerr(b, err);
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
	rocksdb_readoptions_set_total_order_seek(ro, 1);
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
	       bool keep, sl_be_visit_fn fn, void *arg)
{
	struct rbe *b = BE(st);
	const size_t ks = key_len(d, false), noff = 4u + d->d.key_len;
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	char *err = NULL;
	int visited = 0, rc = 0;

	rocksdb_readoptions_set_total_order_seek(ro, 1);
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
			if (!keep)
				rocksdb_writebatch_delete(b->wb, (const char *)k, kl);
			n++;
		}
		rocksdb_iter_get_error(it, &err);
		rocksdb_iter_destroy(it);
		if (err != NULL) {
			rc = rerr(b, err);
			err = NULL;
		}
		if (n != 0 && !keep) {
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
	rocksdb_readoptions_set_total_order_seek(ro, 1);
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
	rocksdb_readoptions_set_total_order_seek(rs->ro, 1);
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

/* ---- native checkpoints ------------------------------------------------ */

static int
rocks_native_ckpt(struct sl_state *st, const char *dir)
{
	struct rbe *b = BE(st);
	rocksdb_checkpoint_t *cp;
	char *err = NULL;

	if (st->conf.wal) {
		/* The buffered log to its file, synced: the checkpoint copies
		 * the live log instead of flushing the memtables. */
		rocksdb_flush_wal(b->db, 1, &err);
		if (err != NULL)
			return rerr(b, err);
	}
	cp = rocksdb_checkpoint_object_create(b->db, &err);
	if (err != NULL)
		return rerr(b, err);
	/* log_size_for_flush: without a log, 0 (always flush: the memtables
	 * hold what was written since the last flush); with one, never. */
	rocksdb_checkpoint_create(cp, dir, st->conf.wal ? UINT64_MAX : 0, &err);
	rocksdb_checkpoint_object_destroy(cp);
	if (err != NULL)	/* cold: a checkpoint fails, say why */
		fprintf(stderr, "sl_state: rocksdb checkpoint into %s: %s\n", dir, err);
	return rerr(b, err);
}

/* Copy src to dst (a new file), synced: for the small metadata files. */
static int
copy_file(const char *src, const char *dst)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC), out, rc = 0;
	ssize_t n;

	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = -errno;
		close(in);
		return rc;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			rc = -EIO;
			break;
		}
	if (n < 0)
		rc = -errno;
	if (rc == 0 && fsync(out) != 0)
		rc = -errno;
	close(out);
	close(in);
	return rc;
}

static bool
is_sst(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".sst") == 0;
}

/*
 * Make conf->dir a copy of the checkpoint in dir: SST files are immutable,
 * so they are hard-linked (copied across file systems); the instance's
 * own MANIFEST, CURRENT and OPTIONS are copies, as RocksDB rewrites them.
 */
static int
adopt_files(const char *dir, const char *to)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return -errno;
	if (mkdir(to, 0700) < 0 && errno != EEXIST)
		rc = -errno;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char src[4096], dst[4096];

		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(src, sizeof(src), "%s/%s", dir, e->d_name) >= sizeof(src) ||
		    (size_t)snprintf(dst, sizeof(dst), "%s/%s", to, e->d_name) >= sizeof(dst)) {
			rc = -ENAMETOOLONG;
			break;
		}
		if (is_sst(e->d_name) && link(src, dst) == 0)
			continue;
		if (is_sst(e->d_name) && errno != EXDEV && errno != EPERM) {
			rc = -errno;
			break;
		}
		rc = copy_file(src, dst);
	}
	closedir(d);
	return rc;
}

static int
rocks_adopt(struct sl_state *st, const char *dir)
{
	struct rbe *b = BE(st);
	const struct sl_state_conf *c = &st->conf;
	uint8_t lo[2] = { 0, 0 }, hi[2], lo2[2], top[3] = { 0xff, 0xff, 0xff };
	char *err = NULL;
	int rc;

	rocksdb_close(b->db);
	b->db = NULL;
	rocksdb_destroy_db(b->opt, c->dir, &err);
	if (err != NULL)
		rocksdb_free(err);
	rc = adopt_files(dir, c->dir);
	if (rc < 0) {
		snprintf(b->err, sizeof(b->err), "adopting %s: %s", dir, strerror(-rc));
		(void)open_db(b, true);	/* leave an empty, working instance */
		return rc;
	}
	rc = open_db(b, false);
	if (rc < 0)
		return open_db(b, true) < 0 ? -EIO : rc;
	/* Key groups before and after ours belong to other workers now. */
	rocksdb_writebatch_clear(b->wb);
	hi[0] = (uint8_t)(c->first_kg >> 8);
	hi[1] = (uint8_t)c->first_kg;
	if (c->first_kg > 0)
		rocksdb_writebatch_delete_range(b->wb, (const char *)lo, 2,
						(const char *)hi, 2);
	lo2[0] = (uint8_t)((c->last_kg + 1) >> 8);
	lo2[1] = (uint8_t)(c->last_kg + 1);
	if (c->last_kg + 1 < 65536)
		rocksdb_writebatch_delete_range(b->wb, (const char *)lo2, 2,
						(const char *)top, 3);
	rocksdb_write(b->db, b->wo, b->wb, &err);
	rocksdb_writebatch_clear(b->wb);
	return rerr(b, err);
}

int
sl_state_rocks_native_load(struct sl_state *st, const char *dir,
			   const int16_t *map, uint16_t n_map)
{
	const struct sl_state_conf *c = &st->conf;
	rocksdb_options_t *opt = rocksdb_options_create();
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	struct rmerge *mg = NULL;
	char logdir[] = "/tmp/sluice-rolog-XXXXXX";
	uint8_t lo[2], hi[2];
	rocksdb_iterator_t *it;
	rocksdb_t *db;
	char *err = NULL;
	int rc = 0, n = 0;

	/* A read-only instance still writes an info LOG: not into dir. */
	if (mkdtemp(logdir) == NULL) {
		rc = -errno;
		goto out_opt;
	}
	rocksdb_options_set_db_log_dir(opt, logdir);
	rocksdb_options_set_max_open_files(opt, -1);
	/* Its entries may still be merge operands: fold them with the
	 * functions of our descriptors, by the checkpoint's ids. */
	mg = calloc(1, sizeof(*mg));
	if (mg == NULL) {
		rc = -ENOMEM;
		goto out_log;
	}
	for (uint16_t id = 0; id < n_map && id < SL_STATE_MAX_DESC; id++)
		if (map[id] >= 0)
			rmerge_set(mg, id, &st->desc[map[id]]);
	rocksdb_options_set_merge_operator(opt, rmerge_create(mg));
	rocksdb_readoptions_set_total_order_seek(ro, 1);
	db = rocksdb_open_for_read_only(opt, dir, 0, &err);
	if (err != NULL) {
		rocksdb_free(err);
		rc = -EIO;
		goto out_log;
	}
	lo[0] = (uint8_t)(c->first_kg >> 8);
	lo[1] = (uint8_t)c->first_kg;
	hi[0] = (uint8_t)((c->last_kg + 1) >> 8);
	hi[1] = (uint8_t)(c->last_kg + 1);
	if (c->last_kg + 1 < 65536)
		rocksdb_readoptions_set_iterate_upper_bound(ro, (const char *)hi, 2);
	rocksdb_readoptions_set_fill_cache(ro, 0);
	it = rocksdb_create_iterator(db, ro);
	for (rocksdb_iter_seek(it, (const char *)lo, 2);
	     rc == 0 && rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		struct sl_state_record r;
		const struct sl_sdesc *d;
		const uint8_t *k;
		size_t kl, vl;
		uint16_t id;

		k = (const uint8_t *)rocksdb_iter_key(it, &kl);
		if (kl < 4)
			continue;
		id = (uint16_t)((k[2] << 8) | k[3]);
		if (id >= n_map) {
			rc = -EINVAL;	/* a descriptor the meta does not list */
			break;
		}
		d = &st->desc[map[id]];
		if (kl != key_len(d, d->d.kind == SL_STATE_MAP)) {
			rc = -EINVAL;
			break;
		}
		r.desc = d->id;
		r.kg = (uint16_t)((k[0] << 8) | k[1]);
		r.key = k + 4;
		r.ns = k + 4 + d->d.key_len;
		r.ukey = d->d.kind == SL_STATE_MAP ?
			k + 4 + d->d.key_len + d->d.ns_len : NULL;
		r.val = rocksdb_iter_value(it, &vl);
		r.val_len = (uint32_t)vl;
		if (d->d.kind != SL_STATE_LIST && d->d.kind != SL_STATE_MAP &&
		    r.val_len != d->fixed_len) {
			rc = -EINVAL;
			break;
		}
		rc = st->ops->raw_put(st, &st->desc[map[id]], &r);
		if (rc == -ENOMEM)
			st->n_enomem++;
		n++;
	}
	if (rc == 0) {
		rocksdb_iter_get_error(it, &err);
		if (err != NULL) {
			rocksdb_free(err);
			rc = -EIO;
		}
	}
	rocksdb_iter_destroy(it);
	rocksdb_close(db);
out_log:
	{
		/* The LOG file(s) of the read-only instance, then the dir. */
		DIR *d = opendir(logdir);
		struct dirent *e;

		while (d != NULL && (e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				(void)unlinkat(dirfd(d), e->d_name, 0);
		if (d != NULL)
			closedir(d);
		(void)rmdir(logdir);
	}
out_opt:
	rocksdb_readoptions_destroy(ro);
	rocksdb_options_destroy(opt);
	free(mg);
	return rc < 0 ? rc : n;
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
	.fixed_merge = rocks_fixed_merge,
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
	.native_ckpt = rocks_native_ckpt,
	.native_adopt = rocks_adopt,
	.compact = rocks_compact,
	.stats = rocks_stats,
};
