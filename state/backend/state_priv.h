/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_STATE_PRIV_H
#define SL_STATE_PRIV_H

/*
 * Internal interface between the common layer (state.c: TTL, aggregate
 * semantics, batching, snapshot encoding, restore) and the two backends.
 * A backend stores bytes; it knows nothing of TTL except where it must
 * (heap incremental cleanup, rocksdb compaction filter), through the
 * helpers below.
 */

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "sl_state.h"

/* Inlined: the per-row hash of a vector is on the hot path. */
#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

#define SL_STATE_MAX_DESC 256
#define SL_STATE_BATCH_MAX 256

/* Backend flags for fixed_lookup. */
#define SL_BE_WRITE	1u	/* the caller will write the returned bytes */
#define SL_BE_CREATE	2u	/* insert zeroed when absent (implies WRITE) */

struct sl_sdesc {
	struct sl_state_desc d;		/* name points at name[] below */
	char name[64];
	uint16_t id;
	uint8_t ttl_on;			/* d.ttl.ttl_ms > 0 */
	uint32_t fixed_len;		/* stored length: [expiry] + val_len */
	void *be;			/* backend's per-descriptor data */
	void *mctx;			/* d.merge's ctx: the state's copy, or d.ctx */
};

struct sl_state_be_ops;

/*
 * The table hash of (key, ns), the one sl_state_hash_bulk() gives: every
 * path that probes a table must agree with it. Hashes are never stored, so
 * the choice may change between runs.
 *
 * A u32 or u64 key with an 8-byte namespace (a window over an id: the
 * common case) gets one full 64x64->128 multiply folded (wyhash's mum)
 * instead of XXH3, a sixth of the instructions: for a fixed namespace the
 * product is injective in the key, and the high half, folded into the low
 * bits the tables index by, depends on every bit of it. Other shapes:
 * XXH3, the namespace as the seed when it is 8 bytes.
 * A 16- or 24-byte namespace over such a key is first folded to that
 * 8-byte seed by mum (sl_state_mum).
 */
static inline uint32_t
sl_state_hash_u64(uint64_t k, uint64_t ns)
{
	unsigned __int128 p = (unsigned __int128)(k ^ (ns * 0x9e3779b97f4a7c15ull)) *
			      0xd6e8feb86659fd93ull;
	uint64_t x = (uint64_t)(p >> 64) ^ (uint64_t)p;

	return (uint32_t)x ^ (uint32_t)(x >> 32);
}

/* Two words into one (wyhash's mum, folded). */
static inline uint64_t
sl_state_mum(uint64_t a, uint64_t b)
{
	unsigned __int128 p = (unsigned __int128)(a ^ 0xa0761d6478bd642full) *
			      (b ^ 0xe7037ed1a0b428dbull);

	return (uint64_t)(p >> 64) ^ (uint64_t)p;
}

static inline uint32_t
sl_state_hash_kn(const void *key, uint32_t kl, const void *ns, uint32_t nl)
{
	uint64_t h;

	/* A session's window (16 bytes) or a window timer's window and time
	 * (24) over a u32/u64 key: the namespace's words folded into the
	 * seed by mum, then the key as above (two XXH3 calls otherwise). */
	if ((nl == 16 || nl == 24) && (kl == 8 || kl == 4)) {
		const uint8_t *n = ns;
		uint64_t k = 0, a, b, seed;

		memcpy(&k, key, kl);
		memcpy(&a, n, 8);
		memcpy(&b, n + 8, 8);
		seed = sl_state_mum(a, b);
		if (nl == 24) {
			memcpy(&a, n + 16, 8);
			seed = sl_state_mum(seed, a);
		}
		return sl_state_hash_u64(k, seed);
	}
	if (nl == 8) {
		uint64_t seed;

		memcpy(&seed, ns, 8);
		if (kl == 8 || kl == 4) {
			uint64_t k = 0;

			memcpy(&k, key, kl);
			return sl_state_hash_u64(k, seed);
		}
		h = XXH3_64bits_withSeed(key, kl, seed);
	} else {
		h = XXH3_64bits(key, kl);
		if (nl != 0)
			h = XXH3_64bits_withSeed(ns, nl, h);
	}
	return (uint32_t)h ^ (uint32_t)(h >> 32);
}

struct sl_state {
	struct sl_state_conf conf;
	const struct sl_state_be_ops *ops;
	void *be;
	uint32_t n_kg;
	uint16_t n_desc;
	struct sl_sdesc desc[SL_STATE_MAX_DESC];
	_Atomic int64_t now;		/* latest caller time (compaction) */
	struct sl_state_snap *snap;	/* active snapshot */
	char *dir;			/* conf.dir, copied */
	char *native_dir;		/* next snapshot is native, into this */
	uint64_t n_loaded;		/* entries restored (or adopted: 1) */
	uint64_t n_enomem, n_expired;
	/* scratch for the common layer (worker thread only) */
	uint8_t *scratch;
	size_t scratch_cap;
};

struct sl_state_snap {
	struct sl_state *st;
	int64_t now;
	void *be;			/* backend iterator */
	/* encoder state (drainer thread) */
	int have;			/* rec holds an unconsumed record */
	struct sl_state_record rec;
	uint8_t *buf, *fbuf;		/* chunk buffer, list filter buffer */
	size_t buf_cap, fbuf_cap;
	int done;
	struct sl_state_record *batch;	/* snap_batch's records */
	unsigned int nb, ib;		/* records in batch, next one */
	char *native_dir;		/* a native checkpoint: no records */
	size_t run_off;			/* the open run's header in buf, 0: none */
	uint16_t run_desc;		/* its descriptor */
	bool run_ns;			/* its namespace is the run's */
	uint16_t n_desc;
	struct sl_sdesc desc[SL_STATE_MAX_DESC];	/* as of begin */
};

typedef int (*sl_be_mel_fn)(void *arg, const uint8_t *ukey,
			    const uint8_t *val, uint32_t len);
/* One entry of a drain: its stored bytes ([expiry][value]). */
typedef int (*sl_be_visit_fn)(void *arg, uint16_t kg, const uint8_t *key,
			      const uint8_t *stored);

struct sl_state_be_ops {
	int (*open)(struct sl_state *st);
	void (*close)(struct sl_state *st);
	int (*desc_add)(struct sl_state *st, struct sl_sdesc *d);
	void (*prefetch)(struct sl_state *st, struct sl_sdesc *d,
			 const struct sl_state_ref *refs, unsigned int n);
	/*
	 * Fixed-size entries: vals[i] = stored bytes of row i or NULL. Rows
	 * with the same key get the same pointer. created[i] is set for the
	 * first row that inserted. Heap pointers are the storage itself;
	 * rocksdb's are scratch that fixed_commit writes back (dirty rows).
	 */
	int (*fixed_lookup)(struct sl_state *st, struct sl_sdesc *d,
			    const struct sl_state_ref *refs, unsigned int n,
			    unsigned int flags, uint8_t **vals,
			    uint8_t *created);
	int (*fixed_commit)(struct sl_state *st, struct sl_sdesc *d,
			    const struct sl_state_ref *refs, unsigned int n,
			    uint8_t **vals, const uint8_t *dirty);
	/*
	 * Find-or-insert of fixed-size entries without TTL in one call:
	 * hash (unless hashed: refs[i].hash is set), check key groups
	 * (-ERANGE, nothing changed), prefetch, probe. vals/created as
	 * fixed_lookup with SL_BE_CREATE. @return rows refused (vals[i]
	 * NULL), or -errno. May be NULL: the common layer runs the steps.
	 */
	int (*fixed_upsert)(struct sl_state *st, struct sl_sdesc *d,
			    struct sl_state_ref *refs, unsigned int n,
			    bool hashed, uint8_t **vals, uint8_t *created);
	/*
	 * Blind merges of fixed-size entries (d->d.merge set, no TTL): fold
	 * ops[i] into row i's entry without reading it. May be NULL: the
	 * common layer does upsert, merge, release.
	 */
	int (*fixed_merge)(struct sl_state *st, struct sl_sdesc *d,
			   struct sl_state_ref *refs, unsigned int n,
			   const uint8_t *const *ops);
	/* fixed_lookup's pointers are the storage: fixed_commit is a no-op. */
	bool in_place;
	/* Remove (key, ns), any kind. 1 removed, 0 absent. */
	int (*del)(struct sl_state *st, struct sl_sdesc *d,
		   const struct sl_state_ref *ref);
	/* List: the whole encoded element sequence. */
	int (*blob_get)(struct sl_state *st, struct sl_sdesc *d,
			const struct sl_state_ref *ref, const uint8_t **p,
			uint32_t *len);
	int (*blob_put)(struct sl_state *st, struct sl_sdesc *d,
			const struct sl_state_ref *ref, const void *p,
			uint32_t len);
	int (*blob_append)(struct sl_state *st, struct sl_sdesc *d,
			   const struct sl_state_ref *ref, const void *p,
			   uint32_t len);
	/* Map entries: stored value [expiry][bytes]. */
	int (*mel_get)(struct sl_state *st, struct sl_sdesc *d,
		       const struct sl_state_ref *ref, const void *ukey,
		       const uint8_t **p, uint32_t *len);
	int (*mel_put)(struct sl_state *st, struct sl_sdesc *d,
		       const struct sl_state_ref *ref, const void *ukey,
		       const void *p, uint32_t len);
	int (*mel_del)(struct sl_state *st, struct sl_sdesc *d,
		       const struct sl_state_ref *ref, const void *ukey);
	int (*mel_iter)(struct sl_state *st, struct sl_sdesc *d,
			const struct sl_state_ref *ref, sl_be_mel_fn fn,
			void *arg);
	/*
	 * Fixed-size entries whose namespace is ns, owned key groups
	 * ascending: call fn, then remove the entry unless keep. fn's
	 * negative return stops the drain (that entry is removed too).
	 * @return visited.
	 */
	int (*ns_drain)(struct sl_state *st, struct sl_sdesc *d,
			const void *ns, bool keep, sl_be_visit_fn fn, void *arg);
	/* TTL background cleanup of n entries (heap); may be NULL. */
	void (*cleanup)(struct sl_state *st, struct sl_sdesc *d, int64_t now,
			uint32_t n);
	int (*snap_begin)(struct sl_state *st, struct sl_state_snap *s);
	int (*snap_next)(struct sl_state_snap *s, struct sl_state_record *r);
	/* Up to n records at once, valid until the next call (drainer
	 * thread): the encoder's per-record call, gone. May be NULL. */
	int (*snap_batch)(struct sl_state_snap *s, struct sl_state_record *r,
			  unsigned int n);
	/* Encode records of one key group straight into a chunk (drainer
	 * thread; see heap_snap_encode): bytes written. May be NULL. */
	int (*snap_encode)(struct sl_state_snap *s, uint8_t *dst, size_t cap,
			   int *kg, uint32_t *nrec, size_t *need);
	void (*snap_end)(struct sl_state *st, struct sl_state_snap *s);
	/* Restore: put one record's stored bytes. */
	int (*raw_put)(struct sl_state *st, struct sl_sdesc *d,
		       const struct sl_state_record *r);
	int (*flush)(struct sl_state *st);
	/* Native checkpoint into dir (rocksdb); NULL: not supported. */
	int (*native_ckpt)(struct sl_state *st, const char *dir);
	/* Replace the (empty) instance by dir's files; keep owned kgs. */
	int (*native_adopt)(struct sl_state *st, const char *dir);
	int (*compact)(struct sl_state *st, int64_t now);
	void (*stats)(struct sl_state *st, struct sl_state_stats *s);
};

/*
 * A snapshot record's encoded size and bytes (the chunk format, state.c):
 * records come in runs of one descriptor, each run behind a header of
 * SL_STATE_RUN_HDR bytes. sl_state_run_need() is the header a record of
 * desc needs before it (0 when the open run is desc's); the encoder
 * writes it with sl_state_run_open() at o (in s->buf) and counts the
 * run's records with sl_state_run_add(). The _ns variants are for a run
 * of fixed-size records of one namespace, which follows the header once
 * and is left out of the records (SL_STATE_RUN_NS).
 */
#define SL_STATE_RUN_HDR 8u
#define SL_STATE_RUN_NS 1u	/* run flag: the run's namespace, once */
size_t sl_state_rec_size(const struct sl_state_snap *s,
			 const struct sl_state_record *r);
void sl_state_rec_put(const struct sl_state_snap *s,
		      const struct sl_state_record *r, uint8_t *o);

static inline size_t
sl_state_run_need(const struct sl_state_snap *s, uint16_t desc)
{
	return s->run_off != 0 && s->run_desc == desc && !s->run_ns ?
		0 : SL_STATE_RUN_HDR;
}

static inline size_t
sl_state_run_open(struct sl_state_snap *s, uint16_t desc, uint8_t *o)
{
	static const uint8_t z[SL_STATE_RUN_HDR - 2];

	if (sl_state_run_need(s, desc) == 0)
		return 0;
	memcpy(o, &desc, 2);
	memcpy(o + 2, z, sizeof(z));	/* u16 flags 0, u32 count */
	s->run_off = (size_t)(o - s->buf);
	s->run_desc = desc;
	s->run_ns = false;
	return SL_STATE_RUN_HDR;
}

static inline size_t
sl_state_run_need_ns(const struct sl_state_snap *s, uint16_t desc,
		     const void *ns, uint32_t ns_len)
{
	return s->run_off != 0 && s->run_desc == desc && s->run_ns &&
	       memcmp(s->buf + s->run_off + SL_STATE_RUN_HDR, ns, ns_len) == 0 ?
		0 : SL_STATE_RUN_HDR + ns_len;
}

static inline size_t
sl_state_run_open_ns(struct sl_state_snap *s, uint16_t desc, const void *ns,
		     uint32_t ns_len, uint8_t *o)
{
	const uint16_t flags = SL_STATE_RUN_NS;
	const uint32_t zero = 0;

	if (sl_state_run_need_ns(s, desc, ns, ns_len) == 0)
		return 0;
	memcpy(o, &desc, 2);
	memcpy(o + 2, &flags, 2);
	memcpy(o + 4, &zero, 4);
	memcpy(o + SL_STATE_RUN_HDR, ns, ns_len);
	s->run_off = (size_t)(o - s->buf);
	s->run_desc = desc;
	s->run_ns = true;
	return SL_STATE_RUN_HDR + ns_len;
}

static inline void
sl_state_run_add(struct sl_state_snap *s, uint32_t n)
{
	uint8_t *h = s->buf + s->run_off + 4;
	uint32_t c;

	memcpy(&c, h, 4);
	c += n;
	memcpy(h, &c, 4);
}

extern const struct sl_state_be_ops sl_state_heap_ops;
extern const struct sl_state_be_ops sl_state_rocks_ops;

/*
 * Read the entries of key groups [st's first_kg, last_kg] from the native
 * checkpoint in dir (read-only, never written) and raw_put them into st,
 * whatever its backend. map[] takes the snapshot's descriptor ids (n_map
 * of them) to st's. @return entries loaded, or -errno.
 */
int sl_state_rocks_native_load(struct sl_state *st, const char *dir,
			       const int16_t *map, uint16_t n_map);

/* ---- TTL helpers (semantics.md R5.5, Appendix C3) ---------------------- */

/* Flink's TtlUtils: ts + ttl, clamped to INT64_MAX only when ts > 0. */
static inline int64_t
sl_ttl_expiry(int64_t ts, int64_t ttl)
{
	int64_t add = ttl;

	if (ts > 0 && INT64_MAX - ts < ttl)
		add = INT64_MAX - ts;
	return ts + add;
}

static inline int64_t
sl_ttl_get(const void *p)
{
	int64_t e;

	memcpy(&e, p, 8);
	return e;
}

static inline void
sl_ttl_set(void *p, int64_t e)
{
	memcpy(p, &e, 8);
}

static inline bool
sl_ttl_expired(const void *p, int64_t now)
{
	return sl_ttl_get(p) <= now;
}

/*
 * Filter an encoded list (elements [u32 len][i64 expiry][bytes]) into out
 * (len bytes capacity), keeping unexpired elements. @return new length.
 */
uint32_t sl_state_list_filter(const uint8_t *in, uint32_t len, int64_t now,
			      uint8_t *out, uint32_t *n_dropped);

#endif /* SL_STATE_PRIV_H */
