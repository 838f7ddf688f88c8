/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * heap backend: per descriptor and key group, an open-addressing hash table
 * (linear probing, tombstones, 7/8 load) whose slots live in fixed-size
 * pages allocated from a mimalloc heap in an exclusive arena over the
 * caller's region (a DPDK memzone on a worker; an mmap in tests).
 *
 * Memory. mimalloc 2.0.x manages arenas in 32 MiB blocks and needs the
 * start 32 MiB-aligned, so the region is aligned up and trimmed: it must
 * hold at least one aligned 32 MiB block. mem_limit is enforced here by
 * accounting mi_usable_size() of every block; an insert past it, or past
 * the arena, fails with -ENOMEM. An arena cannot be unregistered from
 * mimalloc: the region stays mimalloc's for the process lifetime, and
 * opening a state on the same region again reuses its arena.
 *
 * Slot: u32 tag (0 empty, 1 tombstone, else hash | 1<<31), u32 slot epoch
 * (the snapshot that last saved it, 0 none), key, ns,
 * then value (8-byte aligned): fixed kinds store [i64 expiry if TTL][val]
 * in place; list and map store a pointer to a blob:
 *   struct hblob { u64 epoch; u32 len, cap; data[] }
 *   list data: elements [u32 len][i64 expiry if TTL][bytes]
 *   map data:  entries [ukey][u32 vlen][i64 expiry if TTL][bytes], unsorted
 * (map operations are linear in the entries of one (key, ns): fine for
 * small maps, slow for maps with thousands of entries per key).
 *
 * Snapshots: copy-on-write per slot, as Flink's CopyOnWriteStateMap is
 * per entry. snapshot_begin bumps the epoch and copies every table's page
 * directory (pointer arrays: about 8 bytes per 4 KiB of slots, e.g. ~40k
 * pointers for 10M small entries); that copy is the only stall. From then
 * on, every page that held an entry is frozen (its pown byte cleared), and
 * the first write to a slot of one saves the slot's bytes in an undo
 * record (a bump allocation from the table's chunks, kept across
 * snapshots; a record fills whole cache lines), stamps the slot with the
 * snapshot's epoch and writes in place. Page-granular copying cost 4 KiB per first
 * write with uniform keys (most pages are written within milliseconds of
 * a barrier at 10M keys); a slot costs its own size. Blobs keep their own
 * epoch and are replaced, never written, while frozen; the old ones (and
 * pages a rehash or a firing's drain replaced) are retired until
 * snapshot_end. A firing's drain, which writes most slots of the pages it
 * passes, copies whole pages instead (hown_page).
 *
 * The drainer (another thread) reads each table a page at a time: it
 * reads the page (encoding a table of fixed-size records straight into
 * the chunk, hsnap_encode_live; copying any other page into a page-sized
 * buffer of its own, hsnap_stage), then reads the live slot epochs (after
 * those reads), drops every slot stamped since begin (its bytes may be
 * torn) and sets its bit, and thaws the page (one byte per page, release
 * after its last read: the worker's next write takes the page back
 * without saving anything); a staged page's records are encoded from the
 * copy while it is in L1. After a table's last page its
 * undo records (published in the table's chunks before the stamp, so visible
 * to whoever saw the stamp; no more come once every page is thawed) give
 * the skipped slots' records. A table is never copied whole: a checkpoint
 * reads each page once and writes only its records (it copied the whole
 * table, ~1 GB at 10M keys, into memory of its own and read it again).
 * Remaining stalls: the directory copy at begin, and a table's rehash when
 * it grows (all entries of one key group of one descriptor; pre-size with
 * capacity_hint).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mimalloc.h>

#include "../state_priv.h"

#define ARENA_ALIGN (32u << 20)
#define PAGE_BYTES 4096u
#define TAG_EMPTY 0u
#define TAG_TOMB 1u
#define MAX_ARENAS 16

struct hblob {
	uint64_t epoch;
	uint32_t len, cap;
	uint8_t data[];
};

struct hsnap_map;

struct hmap {
	uint32_t cap, mask, used, tombs;
	uint32_t pshift;	/* log2 slots per page */
	uint32_t pending;	/* rows of the current batch (reserve) */
	uint8_t **dir;
	/* [page]: 1 when the worker may write it in place: no open snapshot
	 * reads it (thawed, built or copied since the snapshot's begin).
	 * Reset at each begin; a byte a page keeps the check of every write
	 * during a snapshot in L2 (a u64 epoch a page was 2 MB at 10M keys,
	 * a cache miss on a write in 7). */
	uint8_t *pown;
	/* [page]: 1 once an entry went in since the table was built or
	 * cleared. A snapshot has nothing to read in a page still 0 at its
	 * begin, nor to save before a write to it: a table pre-sized for
	 * 10M keys is mostly such pages in the first seconds of a job. */
	uint8_t *pocc;
	struct hsnap_map *sv;	/* the open snapshot's view of this table */
};

/* A slot's bytes as the open snapshot saw them, before its first write. */
struct hundo {
	uint32_t idx;
	uint32_t pad;
	uint8_t slot[];
};

/*
 * Undo records are bump-allocated from chunks kept across snapshots, each
 * table its own: the drainer reads a table's records in address order
 * (it followed a list through every table's records at once, a cache
 * miss a record: most of a drain's time at 10M keys).
 */
struct hchunk {
	struct hchunk *next;	/* the table's older chunk */
	struct hchunk *gnext;	/* every chunk of this snapshot (hbe.uused) */
	size_t cap;
	_Atomic size_t fill;	/* bytes of whole records (release) */
	/* Records start on a line and never straddle two (undo_size): the
	 * worker writes one line per undo record, not two. */
	uint8_t data[] __attribute__((aligned(64)));
};

struct hdesc {
	struct hmap *maps;	/* n_kg */
	uint32_t stride, voff;
	uint32_t ps_shift;	/* log2 slots per full page */
	uint32_t init_cap;
	uint32_t ckg, cidx;	/* incremental cleanup cursor */
};

struct hsnap_map {
	uint32_t cap, pshift, stride;
	uint8_t **dir;
	_Atomic uint8_t *thaw;	/* [page]: 1 once drained past */
	struct hchunk *_Atomic uhead;	/* the table's undo chunks, newest first */
	size_t pg;		/* bytes per page */
};

/* The drainer's cursor: a table's pages one at a time, then its undo list. */
struct hsnap {
	struct hsnap_map *m;	/* [kg][desc] */
	uint32_t kgi, di;
	uint32_t pi;		/* next page of the table to stage */
	uint32_t si, sn;	/* next slot of the staged page; its slots */
	uint32_t moff;		/* next entry of the current map blob */
	bool in_undo;		/* the table's pages are done: its undo records */
	const struct hchunk *uc;	/* chunk being read, */
	size_t uoff, ufill;		/* at this offset, of this many bytes */
	uint32_t ustride;		/* the table's slot bytes */
	const uint8_t *cur;	/* the slot seek found, until advance */
	uint8_t *stage;		/* one page as the snapshot saw it */
	size_t stage_cap;
	uint64_t *bits;		/* [slot] of the table: marked when staged */
	size_t bits_cap;	/* words */
	uint64_t marked, restored;
	uint32_t mark;		/* slot epoch of a slot written since begin */
};

struct hbe {
	mi_heap_t *heap;
	size_t used, limit;
	uint64_t epoch;
	bool snap;
	void **ret;
	size_t nret, capret;
	uint64_t n_cow, n_thawed;	/* pages copied / taken over in place */
	uint64_t n_undo;		/* slots saved before a first write */
	struct hchunk *uused, *ufree;	/* undo chunks: this snapshot's, spare */
	/*
	 * A snapshot's page directories and thaw bytes, kept from one
	 * snapshot to the next: allocating them anew each time cost the
	 * worker an mmap at the barrier and a munmap at the end. Only one
	 * snapshot is open at once.
	 */
	uint8_t **sdir;
	_Atomic uint8_t *sthaw;
	size_t sdir_cap;	/* pages, for sdir and sthaw */
};

/* Arenas registered so far: mimalloc cannot forget them. */
static struct {
	uintptr_t start;
	size_t size;
	mi_arena_id_t id;
	bool busy;
} arenas[MAX_ARENAS];

static inline struct hbe *
BE(struct sl_state *st)
{
	return st->be;
}

/* sl_state_heap_fault_arm(): allocations still to succeed before one
 * fails; -1 none. A test arms it on the thread that then allocates. */
static long heap_fault_after = -1;

long
sl_state_heap_fault_arm(long after_n)
{
	long left = heap_fault_after;

	heap_fault_after = after_n < 0 ? -1 : after_n;
	return left;
}

static void *
halloc(struct hbe *b, size_t sz, bool aligned)
{
	void *p;
	size_t u;

	if (b->used + sz > b->limit)
		return NULL;
	/* one load of a global that is -1 outside fault tests */
	if (__builtin_expect(heap_fault_after >= 0, 0) && heap_fault_after-- == 0)
		return NULL;
	p = aligned ? mi_heap_malloc_aligned(b->heap, sz, 64) :
		mi_heap_malloc(b->heap, sz);
	if (p == NULL)
		return NULL;
	u = mi_usable_size(p);
	if (b->used + u > b->limit) {
		mi_free(p);
		return NULL;
	}
	b->used += u;
	return p;
}

static void
hfree(struct hbe *b, void *p)
{
	if (p == NULL)
		return;
	b->used -= mi_usable_size(p);
	mi_free(p);
}

/* Keep p until snapshot_end: the open snapshot may read it. */
static void
hretire(struct hbe *b, void *p)
{
	if (b->nret == b->capret) {
		size_t cap = b->capret ? b->capret * 2 : 256;
		void **n = realloc(b->ret, cap * sizeof(*n));

		if (n == NULL)
			return;	/* leak rather than free what a reader sees */
		b->ret = n;
		b->capret = cap;
	}
	b->ret[b->nret++] = p;
}

/* Free p, or keep it until snapshot_end if the snapshot can see it. */
static void
hrelease(struct hbe *b, void *p, uint64_t epoch)
{
	if (p == NULL)
		return;
	if (!b->snap || epoch >= b->epoch)
		hfree(b, p);
	else
		hretire(b, p);
}

static inline bool
likely_no_snap(const struct hbe *b)
{
	return __builtin_expect(!b->snap, 1);
}

static inline bool
blob_private(const struct hbe *b, const struct hblob *x)
{
	return !b->snap || x->epoch >= b->epoch;
}

static inline uint8_t *
hslot(const struct hdesc *hd, const struct hmap *m, uint32_t idx)
{
	return m->dir[idx >> m->pshift] +
		(size_t)(idx & ((1u << m->pshift) - 1)) * hd->stride;
}

static inline struct hblob **
slot_blob(const struct hdesc *hd, uint8_t *e)
{
	return (struct hblob **)(void *)(e + hd->voff);
}

static inline struct hmap *
map_of(struct sl_state *st, struct sl_sdesc *d, uint16_t kg)
{
	return &((struct hdesc *)d->be)->maps[kg - st->conf.first_kg];
}

/* Equal bytes; 8- and 16-byte keys and namespaces (ids, windows, a
 * timer's window and time) without a call. */
static inline bool
bytes_eq(const uint8_t *a, const void *b, uint32_t n)
{
	if (n == 8) {
		uint64_t x, y;

		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		return x == y;
	}
	if (n == 16) {
		uint64_t x[2], y[2];

		memcpy(x, a, 16);
		memcpy(y, b, 16);
		return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
	}
	return memcmp(a, b, n) == 0;
}

static inline bool
slot_match(const struct sl_sdesc *d, const uint8_t *e, uint32_t tag,
	   const void *key, const void *ns)
{
	uint32_t et;

	memcpy(&et, e, 4);
	return et == tag && bytes_eq(e + 8, key, d->d.key_len) &&
		(d->d.ns_len == 0 ||
		 bytes_eq(e + 8 + d->d.key_len, ns, d->d.ns_len));
}

static uint32_t
log2_u32(uint32_t v)
{
	return 31u - (uint32_t)__builtin_clz(v);
}

/* Allocate an empty table of cap slots into m. */
static int
hmap_build(struct hbe *b, const struct hdesc *hd, struct hmap *m, uint32_t cap)
{
	uint32_t ps = log2_u32(cap) < hd->ps_shift ? log2_u32(cap) : hd->ps_shift;
	uint32_t np = cap >> ps;
	size_t pg = (size_t)hd->stride << ps;

	memset(m, 0, sizeof(*m));
	m->dir = halloc(b, np * sizeof(*m->dir), false);
	/* zeroed before anything can fail: the failure path frees every
	 * page it holds (it freed the stale pointers of reused memory when
	 * the byte arrays after it hit the memory limit; found by fuzz_state) */
	if (m->dir != NULL)
		memset(m->dir, 0, np * sizeof(*m->dir));
	m->pown = halloc(b, np, false);
	m->pocc = halloc(b, np, false);
	if (m->dir == NULL || m->pown == NULL || m->pocc == NULL)
		goto fail;
	memset(m->pown, 1, np);
	memset(m->pocc, 0, np);
	for (uint32_t i = 0; i < np; i++) {
		m->dir[i] = halloc(b, pg, true);
		if (m->dir[i] == NULL)
			goto fail;
		memset(m->dir[i], 0, pg);
	}
	m->cap = cap;
	m->mask = cap - 1;
	m->pshift = ps;
	return 0;
fail:
	if (m->dir != NULL)
		for (uint32_t i = 0; i < np; i++)
			hfree(b, m->dir[i]);
	hfree(b, m->dir);
	hfree(b, m->pown);
	hfree(b, m->pocc);
	memset(m, 0, sizeof(*m));
	return -ENOMEM;
}

static void
hmap_release(struct hbe *b, struct hmap *m)
{
	for (uint32_t i = 0; m->dir != NULL && i < (m->cap >> m->pshift); i++) {
		if (!b->snap || m->pown[i])
			hfree(b, m->dir[i]);
		else
			hretire(b, m->dir[i]);
	}
	hfree(b, m->dir);
	hfree(b, m->pown);
	hfree(b, m->pocc);	/* read only by the worker, at a snapshot's begin */
}

static inline uint32_t
hmap_limit(const struct hmap *m)
{
	return m->cap - (m->cap >> 3);
}

static int hmap_rehash(struct hbe *b, const struct hdesc *hd, struct hmap *m,
		       uint32_t cap);

/* Make room for need more inserts, rehashing into a bigger table. */
static int
hmap_reserve(struct hbe *b, const struct hdesc *hd, struct hmap *m,
	     uint32_t need)
{
	uint32_t cap;

	if (m->cap != 0 && m->used + m->tombs + need <= hmap_limit(m))
		return 0;
	cap = m->cap > hd->init_cap ? m->cap : hd->init_cap;
	while ((uint64_t)(m->used + need) * 8 > (uint64_t)cap * 7) {
		if (cap >= (1u << 30))
			return -ENOMEM;
		cap *= 2;
	}
	return hmap_rehash(b, hd, m, cap);
}

/* Move m's live entries into a fresh table of cap slots (drops tombstones). */
static int
hmap_rehash(struct hbe *b, const struct hdesc *hd, struct hmap *m, uint32_t cap)
{
	struct hmap nm;
	int rc;

	rc = hmap_build(b, hd, &nm, cap);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < m->cap; i++) {
		uint8_t *e = hslot(hd, m, i);
		uint32_t tag, idx;

		memcpy(&tag, e, 4);
		if (tag <= TAG_TOMB)
			continue;
		idx = tag & nm.mask;
		for (;;) {
			uint8_t *f = hslot(hd, &nm, idx);
			uint32_t ft;

			memcpy(&ft, f, 4);
			if (ft == TAG_EMPTY) {
				memcpy(f, e, hd->stride);
				nm.pocc[idx >> nm.pshift] = 1;
				break;
			}
			idx = (idx + 1) & nm.mask;
		}
	}
	nm.used = m->used;
	nm.pending = m->pending;
	hmap_release(b, m);
	*m = nm;
	return 0;
}

/* Find (key, ns). @return slot or NULL; *pidx its index. */
static uint8_t *
hfind(const struct sl_sdesc *d, const struct hmap *m, uint32_t hash,
      const void *key, const void *ns, uint32_t *pidx)
{
	const struct hdesc *hd = d->be;
	uint32_t tag = hash | 0x80000000u, idx;

	if (m->cap == 0)
		return NULL;
	idx = hash & m->mask;
	for (;;) {
		uint8_t *e = hslot(hd, m, idx);
		uint32_t et;

		if (slot_match(d, e, tag, key, ns)) {
			*pidx = idx;
			return e;
		}
		memcpy(&et, e, 4);
		if (et == TAG_EMPTY)
			return NULL;
		idx = (idx + 1) & m->mask;
	}
}

/* A table's chunks double from the first to the last size: mimalloc
 * walks every page of a size class that is full to place a block, and
 * 256 KiB blocks (one per page) made that walk quadratic in a snapshot's
 * records; a table of few writes keeps a small one. Kept across
 * snapshots, so this allocates in the first ones only. */
#define UNDO_CHUNK_FIRST (64u << 10)
#define UNDO_CHUNK_LAST (8u << 20)

/* The slot epoch: which snapshot last saved the slot (0: none yet). */
static inline uint32_t
slot_epoch(const uint8_t *e)
{
	return __atomic_load_n((const uint32_t *)(const void *)(e + 4),
			       __ATOMIC_ACQUIRE);
}

static inline uint32_t
epoch32(uint64_t epoch)
{
	return (uint32_t)epoch;
}

/* An undo record's bytes: a slot's stride plus its index, rounded so
 * that records tile cache lines (16, 32 or a multiple of 64 bytes). */
static inline uint32_t
undo_size(uint32_t stride)
{
	uint32_t n = (uint32_t)sizeof(struct hundo) + stride;

	return n <= 16 ? 16 : n <= 32 ? 32 : (n + 63u) & ~63u;
}

/* Room for an undo record of table v; published by undo_publish. */
static struct hundo *
undo_alloc(struct hbe *b, struct hsnap_map *v, uint32_t stride, struct hchunk **pc)
{
	size_t need = undo_size(stride);
	struct hchunk *c = atomic_load_explicit(&v->uhead, memory_order_relaxed);
	size_t fill = c != NULL ? atomic_load_explicit(&c->fill, memory_order_relaxed) : 0;

	if (c == NULL || fill + need > c->cap) {
		struct hchunk *n = b->ufree;

		if (n != NULL) {
			b->ufree = n->gnext;
		} else {
			size_t sz = c == NULL ? UNDO_CHUNK_FIRST : c->cap + sizeof(*c);

			if (c != NULL && sz < UNDO_CHUNK_LAST)
				sz *= 2;
			n = halloc(b, sz, true);
			if (n == NULL)
				return NULL;
			n->cap = sz - sizeof(*n);
		}
		atomic_init(&n->fill, 0);
		n->next = c;
		n->gnext = b->uused;
		b->uused = n;
		atomic_store_explicit(&v->uhead, n, memory_order_release);
		c = n;
		fill = 0;
	}
	*pc = c;
	/* The worker's probes leave the hardware no stream to follow: ask
	 * for the line a few records on now, so writing it later is no miss. */
	if (fill + 8 * need < c->cap)
		__builtin_prefetch(c->data + fill + 8 * need, 1, 3);
	return (struct hundo *)(void *)(c->data + fill);
}

/* A slot's bytes (a multiple of 8) in 16- and 8-byte moves: strides are
 * small, and a call to memcpy for each undo record was a tenth of the
 * worker's time while a snapshot drained. */
static inline void
slot_copy(uint8_t *restrict d, const uint8_t *restrict e, uint32_t stride)
{
	typedef uint64_t v2 __attribute__((vector_size(16), aligned(8), may_alias));
	uint32_t o = 0;

	for (; o + 16 <= stride; o += 16)
		*(v2 *)(void *)(d + o) = *(const v2 *)(const void *)(e + o);
	if (o < stride)
		memcpy(d + o, e + o, 8);
}

/* The record is whole: the drainer may read it (before the stamp). */
static inline void
undo_publish(struct hchunk *c, uint32_t stride)
{
	size_t fill = atomic_load_explicit(&c->fill, memory_order_relaxed);

	atomic_store_explicit(&c->fill, fill + undo_size(stride),
			      memory_order_release);
}

static uint8_t *hown_slot(struct hbe *b, const struct hdesc *hd,
			  struct hmap *m, uint32_t idx);

/* Make slot idx writable: outside a snapshot's frozen pages, at once. */
static inline uint8_t *
hown(struct hbe *b, const struct hdesc *hd, struct hmap *m, uint32_t idx)
{
	if (likely_no_snap(b) || m->pown[idx >> m->pshift])
		return hslot(hd, m, idx);
	return hown_slot(b, hd, m, idx);
}

/* A page the snapshot no longer reads is ours again. */
static bool
hown_thawed(struct hbe *b, struct hmap *m, uint32_t p)
{
	if (m->sv != NULL &&
	    atomic_load_explicit(&m->sv->thaw[p], memory_order_acquire) == 0)
		return false;
	if (m->sv != NULL)
		b->n_thawed++;
	m->pown[p] = 1;
	return true;
}

/*
 * Copy-on-write per slot: the first write to a frozen slot saves its bytes
 * in an undo record, then stamps the slot with the snapshot's epoch, then
 * the caller writes it in place. The drainer copies pages while this goes
 * on and puts the saved bytes back over every slot it finds stamped (see
 * hsnap_stage). The order is the protocol: record published, stamp
 * (release), then the new bytes (after a release fence).
 */
static uint8_t *
hown_slot(struct hbe *b, const struct hdesc *hd, struct hmap *m, uint32_t idx)
{
	uint8_t *e = hslot(hd, m, idx);
	struct hsnap_map *v = m->sv;
	struct hchunk *c;
	struct hundo *u;

	if (hown_thawed(b, m, idx >> m->pshift))
		return e;
	if (slot_epoch(e) == epoch32(b->epoch))
		return e;
	u = undo_alloc(b, v, hd->stride, &c);
	if (u == NULL)
		return NULL;
	u->idx = idx;
	slot_copy(u->slot, e, hd->stride);
	undo_publish(c, hd->stride);
	__atomic_store_n((uint32_t *)(void *)(e + 4), epoch32(b->epoch),
			 __ATOMIC_RELEASE);
	atomic_thread_fence(memory_order_release);
	b->n_undo++;
	return e;
}

/*
 * Make the whole page of slot idx writable by copying it: for a firing's
 * drain, which writes most slots of every page it passes.
 */
static uint8_t *
hown_page(struct hbe *b, const struct hdesc *hd, struct hmap *m, uint32_t idx)
{
	uint32_t p = idx >> m->pshift;
	size_t pg = (size_t)hd->stride << m->pshift;
	uint8_t *np;

	if (likely_no_snap(b) || m->pown[p] || hown_thawed(b, m, p))
		return hslot(hd, m, idx);
	np = halloc(b, pg, true);
	if (np == NULL)
		return NULL;
	b->n_cow++;
	/* The old page is frozen from here on: the drainer reads it, with
	 * the undo records of slots written before this copy. */
	memcpy(np, m->dir[p], pg);
	hretire(b, m->dir[p]);
	m->dir[p] = np;
	m->pown[p] = 1;
	return hslot(hd, m, idx);
}

/* Find or insert (key, ns), writable. NULL on -ENOMEM. */
static uint8_t *
hupsert(struct hbe *b, const struct sl_sdesc *d, struct hmap *m,
	const struct sl_state_ref *r, bool grow, bool *created)
{
	const struct hdesc *hd = d->be;
	uint32_t tag = r->hash | 0x80000000u, idx, ins = UINT32_MAX;
	uint8_t *e;

	*created = false;
	if (m->cap == 0 || m->used + m->tombs + 1 > hmap_limit(m)) {
		/* bulk callers reserved already: a full table is a refusal */
		if (!grow || hmap_reserve(b, hd, m, 1) < 0) {
			if (m->cap == 0)
				return NULL;
		}
	}
	idx = r->hash & m->mask;
	for (;;) {
		uint32_t et;

		e = hslot(hd, m, idx);
		if (slot_match(d, e, tag, r->key, r->ns))
			return hown(b, hd, m, idx);
		memcpy(&et, e, 4);
		if (et == TAG_TOMB && ins == UINT32_MAX)
			ins = idx;
		if (et == TAG_EMPTY)
			break;
		idx = (idx + 1) & m->mask;
	}
	if (ins == UINT32_MAX) {
		if (m->used + m->tombs + 1 > hmap_limit(m))
			return NULL;
		ins = idx;
	}
	e = hown(b, hd, m, ins);
	if (e == NULL)
		return NULL;
	memcpy(&idx, e, 4);
	if (idx == TAG_TOMB)
		m->tombs--;
	memcpy(e, &tag, 4);	/* e + 4 is the slot epoch: kept */
	memcpy(e + 8, r->key, d->d.key_len);
	if (d->d.ns_len != 0)
		memcpy(e + 8 + d->d.key_len, r->ns, d->d.ns_len);
	memset(e + hd->voff, 0, hd->stride - hd->voff);
	m->used++;
	m->pocc[ins >> m->pshift] = 1;
	*created = true;
	return e;
}

static void
slot_remove(struct hbe *b, const struct sl_sdesc *d, struct hmap *m,
	    uint8_t *e)
{
	const struct hdesc *hd = d->be;
	uint32_t tomb = TAG_TOMB;

	if (d->d.kind == SL_STATE_LIST || d->d.kind == SL_STATE_MAP) {
		struct hblob *x = *slot_blob(hd, e);

		if (x != NULL)
			hrelease(b, x, x->epoch);
		*slot_blob(hd, e) = NULL;
	}
	memcpy(e, &tomb, 4);
	m->used--;
	m->tombs++;
}

/* ---- ops --------------------------------------------------------------- */

static int
heap_open(struct sl_state *st)
{
	const struct sl_state_conf *c = &st->conf;
	uintptr_t s, e;
	size_t size;
	struct hbe *b;
	int slot = -1;
	mi_arena_id_t id = 0;

	if (c->mem == NULL)
		return -EINVAL;
	s = ((uintptr_t)c->mem + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
	e = (uintptr_t)c->mem + c->mem_len;
	if (e < s + ARENA_ALIGN)
		return -EINVAL;
	size = (size_t)(e - s) & ~(size_t)(ARENA_ALIGN - 1);
	for (int i = 0; i < MAX_ARENAS; i++) {
		if (arenas[i].size != 0 && arenas[i].start == s &&
		    arenas[i].size == size) {
			if (arenas[i].busy)
				return -EBUSY;
			slot = i;
			id = arenas[i].id;
			break;
		}
	}
	if (slot < 0) {
		for (int i = 0; i < MAX_ARENAS && slot < 0; i++)
			if (arenas[i].size == 0)
				slot = i;
		if (slot < 0)
			return -ENOSPC;
		/* Committed and "large": mimalloc never decommits or resets
		 * any of it. The arena is reserved and faulted in up front
		 * (often in huge pages, which a partial reset would split and
		 * fault back in 2 MiB at a time on the worker). */
		if (!mi_manage_os_memory_ex((void *)s, size, true, true, false,
					    -1, true, &id))
			return -ENOMEM;
		arenas[slot].start = s;
		arenas[slot].size = size;
		arenas[slot].id = id;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	b->heap = mi_heap_new_in_arena(id);
	if (b->heap == NULL) {
		free(b);
		return -ENOMEM;
	}
	b->limit = c->mem_limit != 0 && c->mem_limit < size ? c->mem_limit : size;
	b->epoch = 1;
	arenas[slot].busy = true;
	st->be = b;
	return 0;
}

static void
heap_close(struct sl_state *st)
{
	struct hbe *b = BE(st);

	for (int i = 0; i < MAX_ARENAS; i++)
		if (arenas[i].busy && arenas[i].start ==
		    (((uintptr_t)st->conf.mem + ARENA_ALIGN - 1) &
		     ~(uintptr_t)(ARENA_ALIGN - 1)))
			arenas[i].busy = false;
	mi_heap_destroy(b->heap);
	for (unsigned int i = 0; i < st->n_desc; i++)
		free(st->desc[i].be);
	free(b->ret);
	free(b->sdir);
	free((void *)b->sthaw);
	free(b);
}

static int
heap_desc_add(struct sl_state *st, struct sl_sdesc *d)
{
	struct hbe *b = BE(st);
	struct hdesc *hd = calloc(1, sizeof(*hd));
	uint32_t vsize, ps = 0;

	if (hd == NULL)
		return -ENOMEM;
	hd->voff = (8u + d->d.key_len + d->d.ns_len + 7u) & ~7u;
	vsize = d->d.kind == SL_STATE_LIST || d->d.kind == SL_STATE_MAP ?
		8u : d->fixed_len;
	hd->stride = (hd->voff + vsize + 7u) & ~7u;
	while (((size_t)hd->stride << ps) < PAGE_BYTES)
		ps++;
	hd->ps_shift = ps;
	hd->init_cap = 16;
	if (d->d.capacity_hint != 0) {
		uint64_t want = (uint64_t)d->d.capacity_hint * 8 / 7 + 1;

		while (hd->init_cap < want && hd->init_cap < (1u << 30))
			hd->init_cap *= 2;
	}
	hd->maps = halloc(b, sizeof(*hd->maps) * st->n_kg, false);
	if (hd->maps == NULL) {
		free(hd);
		return -ENOMEM;
	}
	memset(hd->maps, 0, sizeof(*hd->maps) * st->n_kg);
	d->be = hd;
	return 0;
}

static void
heap_prefetch(struct sl_state *st, struct sl_sdesc *d,
	      const struct sl_state_ref *refs, unsigned int n)
{
	const struct hdesc *hd = d->be;

	for (unsigned int i = 0; i < n; i++) {
		const struct hmap *m = map_of(st, d, refs[i].kg);

		if (m->cap != 0)
			__builtin_prefetch(hslot(hd, m, refs[i].hash & m->mask),
					   1, 3);
	}
}

/* Equal key bytes; the sizes the vector path is instantiated for compile
 * to register compares. */
static inline __attribute__((always_inline)) bool
key_eq(const uint8_t *a, const void *b, uint32_t n)
{
	if (n == 4) {
		uint32_t x, y;

		memcpy(&x, a, 4);
		memcpy(&y, b, 4);
		return x == y;
	}
	if (n == 16) {
		uint64_t x[2], y[2];

		memcpy(x, a, 16);
		memcpy(y, b, 16);
		return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
	}
	return bytes_eq(a, b, n);
}

/*
 * Find-or-insert for a vector of rows, in three passes as VPP does, so no
 * row waits for memory alone:
 *  1. hash each row (unless hashed), check its key group, count the rows
 *     per table and prefetch the row's home slot;
 *  2. grow the few tables this vector would overfill, before any pointer
 *     is handed out (a rehash moves slots);
 *  3. probe and insert, the slots now in cache.
 * Always inlined with constant kl/nl, so key compares, copies and the
 * value's zeroing are moves, not calls. Copy-on-write: while a snapshot is
 * open, every slot handed out goes through hown(), as hupsert() does.
 */
static inline __attribute__((always_inline)) int
upsert_vec(struct sl_state *st, struct sl_sdesc *d, struct sl_state_ref *refs,
	   unsigned int n, bool hashed, uint8_t **vals, uint8_t *created,
	   const uint32_t kl, const uint32_t nl)
{
	struct hbe *b = BE(st);
	const struct hdesc *hd = d->be;
	struct hmap *maps = hd->maps, *mp[SL_STATE_BATCH_MAX];
	struct hmap *touched[SL_STATE_BATCH_MAX];
	uint8_t *home[SL_STATE_BATCH_MAX];
	const uint32_t first = st->conf.first_kg, n_kg = st->n_kg;
	const uint32_t stride = hd->stride, voff = hd->voff;
	unsigned int nt = 0;
	/* a local: stores through slot pointers could alias b->snap */
	const bool snap = b->snap;
	bool moved = false;
	int refused = 0;

	for (unsigned int i = 0; i < n; i++) {
		/* below first_kg wraps around to a large index */
		uint32_t kgi = (uint32_t)refs[i].kg - first, h, idx;
		struct hmap *m;

		if (__builtin_expect(kgi >= n_kg, 0)) {
			for (unsigned int t = 0; t < nt; t++)
				touched[t]->pending = 0;
			return -ERANGE;
		}
		h = hashed ? refs[i].hash :
			sl_state_hash_kn(refs[i].key, kl, refs[i].ns, nl);
		refs[i].hash = h;
		m = &maps[kgi];
		mp[i] = m;
		if (m->pending++ == 0)
			touched[nt++] = m;
		if (__builtin_expect(m->cap == 0, 0))
			continue;
		idx = h & m->mask;
		home[i] = m->dir[idx >> m->pshift] +
			(size_t)(idx & ((1u << m->pshift) - 1)) * stride;
		__builtin_prefetch(home[i], 1, 3);
	}
	for (unsigned int t = 0; t < nt; t++) {
		struct hmap *m = touched[t];

		if (__builtin_expect(m->cap == 0 || m->used + m->tombs +
				     m->pending > hmap_limit(m), 0)) {
			/* a table that cannot grow refuses rows below */
			(void)hmap_reserve(b, hd, m, m->pending);
			moved = true;
		}
		m->pending = 0;
	}
	/* Pass 1's slot addresses hold unless a table was rebuilt (hown()
	 * writes slots in place): then probe from the directory. */
	for (unsigned int i = 0; i < n; i++) {
		struct hmap *m = mp[i];
		const struct sl_state_ref *r = &refs[i];
		const uint32_t tag = r->hash | 0x80000000u, mask = m->mask;
		const uint32_t pshift = m->pshift, pmask = (1u << pshift) - 1;
		uint32_t idx, ins = UINT32_MAX, et;
		uint8_t *e;

		created[i] = 0;
		if (__builtin_expect(m->cap == 0, 0))
			goto refuse;
		idx = r->hash & mask;
		e = __builtin_expect(moved, 0) ? hslot(hd, m, idx) : home[i];
		for (;;) {
			memcpy(&et, e, 4);
			if (et == tag && key_eq(e + 8, r->key, kl) &&
			    (nl == 0 || key_eq(e + 8 + kl, r->ns, nl))) {
				if (__builtin_expect(snap, 0) &&
				    (e = hown(b, hd, m, idx)) == NULL)
					goto refuse;
				vals[i] = e + voff;
				goto next;
			}
			if (et == TAG_EMPTY)
				break;
			if (et == TAG_TOMB && ins == UINT32_MAX)
				ins = idx;
			idx = (idx + 1) & mask;
			e = (idx & pmask) != 0 ? e + stride : m->dir[idx >> pshift];
		}
		if (ins == UINT32_MAX) {
			if (m->used + m->tombs + 1 > hmap_limit(m))
				goto refuse;
			ins = idx;
		} else {
			e = hslot(hd, m, ins);
		}
		if (__builtin_expect(snap, 0) &&
		    (e = hown(b, hd, m, ins)) == NULL)
			goto refuse;
		memcpy(&et, e, 4);
		if (et == TAG_TOMB)
			m->tombs--;
		memcpy(e, &tag, 4);	/* e + 4 is the slot epoch: kept */
		memcpy(e + 8, r->key, kl);
		if (nl != 0)
			memcpy(e + 8 + kl, r->ns, nl);
		for (uint32_t o = voff; o < stride; o += 8)
			memset(e + o, 0, 8);
		m->used++;
		m->pocc[ins >> pshift] = 1;
		created[i] = 1;
		vals[i] = e + voff;
		continue;
refuse:
		vals[i] = NULL;
		refused++;
next:;
	}
	return refused;
}

static int
heap_fixed_upsert(struct sl_state *st, struct sl_sdesc *d,
		  struct sl_state_ref *refs, unsigned int n, bool hashed,
		  uint8_t **vals, uint8_t *created)
{
	const uint32_t kl = d->d.key_len, nl = d->d.ns_len;

	if (hashed && n == 1) {
		/* one row (a timer's register): no vector passes */
		bool c;

		if ((uint32_t)refs[0].kg - st->conf.first_kg >= st->n_kg)
			return -ERANGE;
		vals[0] = hupsert(BE(st), d, map_of(st, d, refs[0].kg),
				  &refs[0], true, &c);
		created[0] = c;
		if (vals[0] == NULL)
			return 1;
		vals[0] += ((const struct hdesc *)d->be)->voff;
		return 0;
	}
	if (hashed)	/* acquire and value puts: hashes given */
		return upsert_vec(st, d, refs, n, true, vals, created, kl, nl);
	if (nl == 8 && kl == 8)
		return upsert_vec(st, d, refs, n, false, vals, created, 8, 8);
	if (nl == 8 && kl == 4)
		return upsert_vec(st, d, refs, n, false, vals, created, 4, 8);
	if (nl == 8 && kl == 16)
		return upsert_vec(st, d, refs, n, false, vals, created, 16, 8);
	return upsert_vec(st, d, refs, n, false, vals, created, kl, nl);
}

static int
heap_fixed_lookup(struct sl_state *st, struct sl_sdesc *d,
		  const struct sl_state_ref *refs, unsigned int n,
		  unsigned int flags, uint8_t **vals, uint8_t *created)
{
	struct hbe *b = BE(st);
	const struct hdesc *hd = d->be;

	if ((flags & SL_BE_CREATE) && n == 1) {
		/* one row (a single put, a timer): the vector path's three
		 * passes cost more than its prefetch saves */
		bool c;

		vals[0] = hupsert(b, d, map_of(st, d, refs[0].kg), &refs[0],
				  true, &c);
		if (vals[0] != NULL)
			vals[0] += hd->voff;
		created[0] = c;
		return 0;
	}
	if (flags & SL_BE_CREATE) {
		int rc = heap_fixed_upsert(st, d, (struct sl_state_ref *)refs,
					   n, true, vals, created);

		return rc < 0 ? rc : 0;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct hmap *m = map_of(st, d, refs[i].kg);
		uint32_t idx;
		uint8_t *e = hfind(d, m, refs[i].hash, refs[i].key, refs[i].ns,
				   &idx);

		if (e != NULL && (flags & SL_BE_WRITE))
			e = hown(b, hd, m, idx);
		vals[i] = e != NULL ? e + hd->voff : NULL;
		created[i] = 0;
	}
	return 0;
}

static int
heap_fixed_commit(struct sl_state *st, struct sl_sdesc *d,
		  const struct sl_state_ref *refs, unsigned int n,
		  uint8_t **vals, const uint8_t *dirty)
{
	(void)st;
	(void)d;
	(void)refs;
	(void)n;
	(void)vals;
	(void)dirty;
	return 0;
}

static int
heap_del(struct sl_state *st, struct sl_sdesc *d, const struct sl_state_ref *r)
{
	struct hbe *b = BE(st);
	struct hmap *m = map_of(st, d, r->kg);
	uint32_t idx;
	uint8_t *e = hfind(d, m, r->hash, r->key, r->ns, &idx);

	if (e == NULL)
		return 0;
	e = hown(b, d->be, m, idx);
	if (e == NULL)
		return -ENOMEM;
	slot_remove(b, d, m, e);
	return 1;
}

/* No page of m is shared with an open snapshot. */
static bool
hmap_private(const struct hbe *b, const struct hmap *m)
{
	if (!b->snap)
		return true;
	for (uint32_t p = 0; p < (m->cap >> m->pshift); p++)
		if (!m->pown[p])
			return false;
	return true;
}

/* Empty m in place (its pages must be private). */
static void
hmap_clear(const struct hdesc *hd, struct hmap *m)
{
	size_t pg = (size_t)hd->stride << m->pshift;

	for (uint32_t p = 0; p < (m->cap >> m->pshift); p++)
		memset(m->dir[p], 0, pg);
	memset(m->pocc, 0, m->cap >> m->pshift);
	m->used = 0;
	m->tombs = 0;
}

/*
 * A window's entries go all at once when it fires: scan the tables, and
 * rehash a table the drain left mostly tombstones, so the next window's
 * probes stay short (at firing time, which is already O(entries)).
 */
static int
heap_ns_drain(struct sl_state *st, struct sl_sdesc *d, const void *ns,
	      bool keep, sl_be_visit_fn fn, void *arg)
{
	struct hbe *b = BE(st);
	const struct hdesc *hd = d->be;
	const uint32_t koff = 8u + d->d.key_len, nl = d->d.ns_len;
	const uint32_t stride = hd->stride;
	int visited = 0;

	for (uint32_t kg = st->conf.first_kg; kg <= st->conf.last_kg; kg++) {
		struct hmap *m = map_of(st, d, (uint16_t)kg);
		uint32_t pslots = 1u << m->pshift;
		int rc = 0;

		if (m->used == 0)
			continue;
		/* page by page: the scan touches every slot, most of them
		 * empty or another window's */
		for (uint32_t p = 0; p < (m->cap >> m->pshift) && m->used != 0; p++) {
			const uint8_t *pg = m->dir[p];

			if (p + 1 < (m->cap >> m->pshift))
				__builtin_prefetch(m->dir[p + 1]);
			for (uint32_t k = 0; k < pslots; k++) {
				const uint8_t *c = pg + (size_t)k * stride;
				uint8_t *e;
				uint32_t tag;

				memcpy(&tag, c, 4);
				if (tag <= TAG_TOMB || !bytes_eq(c + koff, ns, nl))
					continue;
				if (keep) {
					rc = fn(arg, (uint16_t)kg, c + 8, c + hd->voff);
					if (rc < 0)
						return rc;
					visited++;
					continue;
				}
				/* Writable before fn sees it: an entry the copy
				 * cannot be made for stays, unseen, for a later
				 * drain to give once. */
				e = hown_page(b, hd, m, p << m->pshift | k);
				if (e == NULL)
					return -ENOMEM;
				/* a copied page: read on from the copy */
				pg = m->dir[p];
				rc = fn(arg, (uint16_t)kg, e + 8, e + hd->voff);
				slot_remove(b, d, m, e);
				if (rc < 0)
					return rc;
				visited++;
				if (m->used == 0)
					break;
			}
		}
		if (!keep && m->tombs > m->cap / 4) {
			/* Best effort: tombstones only slow probes down. An
			 * empty table gives its memory back before the new
			 * one is built, so this works at the memory limit. */
			if (m->used == 0 && hmap_private(b, m)) {
				/* the common end of a window: every page is
				 * ours, so clear them where they are rather
				 * than free and allocate them all again */
				hmap_clear(hd, m);
			} else if (m->used == 0) {
				uint32_t cap = m->cap;

				hmap_release(b, m);
				memset(m, 0, sizeof(*m));
				(void)hmap_build(b, hd, m, cap);
			} else {
				(void)hmap_rehash(b, hd, m, m->cap);
			}
		}
	}
	return visited;
}

static struct hblob *
blob_new(struct hbe *b, uint32_t cap)
{
	struct hblob *x = halloc(b, sizeof(*x) + cap, false);

	if (x != NULL) {
		x->epoch = b->epoch;
		x->len = 0;
		x->cap = cap;
	}
	return x;
}

static struct hblob *
blob_find(struct sl_state *st, struct sl_sdesc *d, const struct sl_state_ref *r)
{
	uint32_t idx;
	uint8_t *e = hfind(d, map_of(st, d, r->kg), r->hash, r->key, r->ns, &idx);

	return e != NULL ? *slot_blob(d->be, e) : NULL;
}

static int
heap_blob_get(struct sl_state *st, struct sl_sdesc *d,
	      const struct sl_state_ref *r, const uint8_t **p, uint32_t *len)
{
	struct hblob *x = blob_find(st, d, r);

	if (x == NULL)
		return -ENOENT;
	*p = x->data;
	*len = x->len;
	return 0;
}

/* Replace or extend the blob of (key, ns): append ? old + p : p. */
static int
blob_write(struct sl_state *st, struct sl_sdesc *d,
	   const struct sl_state_ref *r, const void *p, uint32_t len,
	   bool append)
{
	struct hbe *b = BE(st);
	const struct hdesc *hd = d->be;
	struct hmap *m = map_of(st, d, r->kg);
	struct hblob *x, *nx;
	uint32_t keep, cap;
	uint8_t *e;
	bool created;

	e = hupsert(b, d, m, r, true, &created);
	if (e == NULL)
		return -ENOMEM;
	x = *slot_blob(hd, e);
	keep = append && x != NULL ? x->len : 0;
	if (x != NULL && blob_private(b, x) && x->cap >= keep + len) {
		memcpy(x->data + keep, p, len);
		x->len = keep + len;
		return 0;
	}
	cap = keep + len;
	if (append && x != NULL && x->cap * 2 > cap)
		cap = x->cap * 2;
	nx = blob_new(b, cap);
	if (nx == NULL && cap > keep + len)
		nx = blob_new(b, cap = keep + len);
	if (nx == NULL) {
		if (created)
			slot_remove(b, d, m, e);
		return -ENOMEM;
	}
	if (keep != 0)
		memcpy(nx->data, x->data, keep);
	memcpy(nx->data + keep, p, len);
	nx->len = keep + len;
	if (x != NULL)
		hrelease(b, x, x->epoch);
	*slot_blob(hd, e) = nx;
	return 0;
}

static int
heap_blob_put(struct sl_state *st, struct sl_sdesc *d,
	      const struct sl_state_ref *r, const void *p, uint32_t len)
{
	if (len == 0)
		return heap_del(st, d, r) < 0 ? -ENOMEM : 0;
	return blob_write(st, d, r, p, len, false);
}

static int
heap_blob_append(struct sl_state *st, struct sl_sdesc *d,
		 const struct sl_state_ref *r, const void *p, uint32_t len)
{
	return blob_write(st, d, r, p, len, true);
}

/* Map blob entries: [ukey][u32 vlen][stored value]. */
static int64_t
mel_find(const struct sl_sdesc *d, const struct hblob *x, const void *ukey)
{
	uint32_t ul = d->d.ukey_len, off = 0;

	while (off + ul + 4 <= x->len) {
		uint32_t vl;

		memcpy(&vl, x->data + off + ul, 4);
		if (memcmp(x->data + off, ukey, ul) == 0)
			return off;
		off += ul + 4 + vl;
	}
	return -1;
}

static uint32_t
mel_size(const struct sl_sdesc *d, const struct hblob *x, uint32_t off)
{
	uint32_t vl;

	memcpy(&vl, x->data + off + d->d.ukey_len, 4);
	return d->d.ukey_len + 4 + vl;
}

static int
heap_mel_get(struct sl_state *st, struct sl_sdesc *d,
	     const struct sl_state_ref *r, const void *ukey, const uint8_t **p,
	     uint32_t *len)
{
	struct hblob *x = blob_find(st, d, r);
	int64_t off;

	if (x == NULL || (off = mel_find(d, x, ukey)) < 0)
		return -ENOENT;
	memcpy(len, x->data + off + d->d.ukey_len, 4);
	*p = x->data + off + d->d.ukey_len + 4;
	return 0;
}

/* Rewrite the map blob of slot e: drop entry at off (if >= 0), add one. */
static int
mel_rewrite(struct hbe *b, struct sl_sdesc *d, struct hmap *m, uint8_t *e,
	    int64_t off, const void *ukey, const void *v, uint32_t vlen,
	    bool add)
{
	const struct hdesc *hd = d->be;
	struct hblob *x = *slot_blob(hd, e), *nx;
	uint32_t ul = d->d.ukey_len, old = x != NULL ? x->len : 0;
	uint32_t drop = off >= 0 ? mel_size(d, x, (uint32_t)off) : 0;
	uint32_t nl = old - drop + (add ? ul + 4 + vlen : 0);
	uint8_t *o;

	if (nl == 0) {
		slot_remove(b, d, m, e);
		return 0;
	}
	if (x != NULL && blob_private(b, x) && x->cap >= nl) {
		if (drop != 0)
			memmove(x->data + off, x->data + off + drop,
				old - (uint32_t)off - drop);
		nx = x;
	} else {
		nx = blob_new(b, nl + nl / 2);
		if (nx == NULL)
			nx = blob_new(b, nl);
		if (nx == NULL)
			return -ENOMEM;
		if (off >= 0) {
			memcpy(nx->data, x->data, (size_t)off);
			memcpy(nx->data + off, x->data + off + drop,
			       old - (uint32_t)off - drop);
		} else if (old != 0) {
			memcpy(nx->data, x->data, old);
		}
		if (x != NULL)
			hrelease(b, x, x->epoch);
		*slot_blob(hd, e) = nx;
	}
	o = nx->data + old - drop;
	if (add) {
		memcpy(o, ukey, ul);
		memcpy(o + ul, &vlen, 4);
		memcpy(o + ul + 4, v, vlen);
	}
	nx->len = nl;
	return 0;
}

static int
heap_mel_put(struct sl_state *st, struct sl_sdesc *d,
	     const struct sl_state_ref *r, const void *ukey, const void *p,
	     uint32_t len)
{
	struct hbe *b = BE(st);
	struct hmap *m = map_of(st, d, r->kg);
	struct hblob *x;
	int64_t off = -1;
	bool created;
	uint8_t *e = hupsert(b, d, m, r, true, &created);
	int rc;

	if (e == NULL)
		return -ENOMEM;
	x = *slot_blob(d->be, e);
	if (x != NULL)
		off = mel_find(d, x, ukey);
	if (off >= 0 && blob_private(b, x) &&
	    mel_size(d, x, (uint32_t)off) == d->d.ukey_len + 4 + len) {
		memcpy(x->data + off + d->d.ukey_len + 4, p, len);
		return 0;
	}
	rc = mel_rewrite(b, d, m, e, off, ukey, p, len, true);
	if (rc < 0 && created)
		slot_remove(b, d, m, e);
	return rc;
}

static int
heap_mel_del(struct sl_state *st, struct sl_sdesc *d,
	     const struct sl_state_ref *r, const void *ukey)
{
	struct hbe *b = BE(st);
	struct hmap *m = map_of(st, d, r->kg);
	uint32_t idx;
	uint8_t *e = hfind(d, m, r->hash, r->key, r->ns, &idx);
	int64_t off;
	int rc;

	if (e == NULL || (off = mel_find(d, *slot_blob(d->be, e), ukey)) < 0)
		return 0;
	e = hown(b, d->be, m, idx);
	if (e == NULL)
		return -ENOMEM;
	rc = mel_rewrite(b, d, m, e, off, NULL, NULL, 0, false);
	return rc < 0 ? rc : 1;
}

static int
heap_mel_iter(struct sl_state *st, struct sl_sdesc *d,
	      const struct sl_state_ref *r, sl_be_mel_fn fn, void *arg)
{
	struct hblob *x = blob_find(st, d, r);
	uint32_t ul = d->d.ukey_len, off = 0;

	if (x == NULL)
		return 0;
	while (off + ul + 4 <= x->len) {
		uint32_t vl;

		memcpy(&vl, x->data + off + ul, 4);
		if (fn(arg, x->data + off, x->data + off + ul + 4, vl))
			break;
		off += ul + 4 + vl;
	}
	return 0;
}

/* Incremental TTL cleanup: visit n slots from the cursor. */
static void
heap_cleanup(struct sl_state *st, struct sl_sdesc *d, int64_t now, uint32_t n)
{
	struct hbe *b = BE(st);
	struct hdesc *hd = d->be;
	uint32_t ul = d->d.ukey_len;

	if (n == UINT32_MAX) {	/* a full pass: every slot once */
		uint64_t tot = st->n_kg;

		for (uint32_t k = 0; k < st->n_kg; k++)
			tot += hd->maps[k].cap;
		n = tot > UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)tot;
	}
	for (uint32_t k = 0; k < n; k++) {
		struct hmap *m = &hd->maps[hd->ckg];
		uint8_t *e;
		uint32_t tag;

		if (hd->cidx >= m->cap) {
			hd->cidx = 0;
			hd->ckg = hd->ckg + 1 == st->n_kg ? 0 : hd->ckg + 1;
			continue;
		}
		e = hslot(hd, m, hd->cidx);
		memcpy(&tag, e, 4);
		if (tag > TAG_TOMB) {
			if (d->d.kind == SL_STATE_LIST) {
				struct hblob *x = *slot_blob(hd, e);
				uint32_t drop;

				sl_state_list_filter(x->data, x->len, now, NULL,
						     &drop);
				if (drop != 0 && (e = hown(b, hd, m, hd->cidx))) {
					if (!blob_private(b, x)) {
						struct hblob *nx = blob_new(b, x->len);

						if (nx == NULL)
							goto next;
						memcpy(nx->data, x->data, x->len);
						nx->len = x->len;
						hrelease(b, x, x->epoch);
						*slot_blob(hd, e) = x = nx;
					}
					x->len = sl_state_list_filter(x->data, x->len,
								      now, x->data,
								      NULL);
					st->n_expired += drop;
					if (x->len == 0)
						slot_remove(b, d, m, e);
				}
			} else if (d->d.kind == SL_STATE_MAP) {
				struct hblob *x = *slot_blob(hd, e);
				uint32_t off = 0;

				while (x != NULL && off + ul + 4 <= x->len) {
					if (sl_ttl_expired(x->data + off + ul + 4, now)) {
						e = hown(b, hd, m, hd->cidx);
						if (e == NULL ||
						    mel_rewrite(b, d, m, e, off, NULL,
								NULL, 0, false) < 0)
							break;
						st->n_expired++;
						memcpy(&tag, e, 4);
						if (tag <= TAG_TOMB)
							break;
						x = *slot_blob(hd, e);
						continue;
					}
					off += mel_size(d, x, off);
				}
			} else if (sl_ttl_expired(e + hd->voff, now)) {
				e = hown(b, hd, m, hd->cidx);
				if (e != NULL) {
					slot_remove(b, d, m, e);
					st->n_expired++;
				}
			}
		}
next:
		hd->cidx++;
	}
}

static int
heap_snap_begin(struct sl_state *st, struct sl_state_snap *s)
{
	struct hbe *b = BE(st);
	struct hsnap *hs = calloc(1, sizeof(*hs));
	size_t nm = (size_t)st->n_kg * s->n_desc, pages = 0, off = 0;

	if (hs == NULL)
		return -ENOMEM;
	hs->m = calloc(nm ? nm : 1, sizeof(*hs->m));
	if (hs->m == NULL) {
		free(hs);
		return -ENOMEM;
	}
	for (uint32_t k = 0; k < st->n_kg; k++)
		for (uint32_t i = 0; i < s->n_desc; i++) {
			const struct hmap *m = &((struct hdesc *)st->desc[i].be)->maps[k];

			if (m->used != 0)
				pages += m->cap >> m->pshift;
		}
	if (pages > b->sdir_cap) {
		/* With headroom: the state grows between checkpoints. */
		size_t cap = pages + pages / 4;
		uint8_t **d = realloc(b->sdir, cap * sizeof(*d));
		_Atomic uint8_t *t;

		if (d == NULL)
			goto fail;
		b->sdir = d;
		t = realloc((void *)b->sthaw, cap);
		if (t == NULL)
			goto fail;
		b->sthaw = t;
		b->sdir_cap = cap;
	}
	if (pages != 0)		/* sthaw is NULL until a table has entries */
		memset((void *)b->sthaw, 0, pages);
	for (uint32_t k = 0; k < st->n_kg; k++) {
		for (uint32_t i = 0; i < s->n_desc; i++) {
			struct hdesc *hd = st->desc[i].be;
			struct hmap *m = &hd->maps[k];
			struct hsnap_map *v = &hs->m[(size_t)k * s->n_desc + i];
			size_t np;

			if (m->used == 0) {
				/* left out of the snapshot: all the worker's */
				if (m->cap != 0)
					memset(m->pown, 1, m->cap >> m->pshift);
				continue;
			}
			np = m->cap >> m->pshift;
			v->dir = b->sdir + off;
			v->thaw = b->sthaw + off;
			off += np;
			memcpy(v->dir, m->dir, np * sizeof(*v->dir));
			/* never written: thawed from the start */
			for (size_t p = 0; p < np; p++) {
				m->pown[p] = m->pocc[p] == 0;
				if (m->pocc[p] == 0)
					atomic_store_explicit(&v->thaw[p], 1,
							      memory_order_relaxed);
			}
			v->cap = m->cap;
			v->pshift = m->pshift;
			v->stride = hd->stride;
			atomic_init(&v->uhead, NULL);
			v->pg = (size_t)hd->stride << m->pshift;
		}
	}
	for (uint32_t k = 0; k < st->n_kg; k++)
		for (uint32_t i = 0; i < s->n_desc; i++) {
			struct hsnap_map *v = &hs->m[(size_t)k * s->n_desc + i];

			/* a table the snapshot leaves out is not frozen */
			((struct hdesc *)st->desc[i].be)->maps[k].sv =
				v->cap != 0 ? v : NULL;
		}
	b->epoch++;
	if (epoch32(b->epoch) == 0)	/* 0 is a slot no snapshot saved */
		b->epoch++;
	hs->mark = epoch32(b->epoch);
	b->snap = true;
	s->be = hs;
	return 0;
fail:
	free(hs->m);
	free(hs);
	return -ENOMEM;
}

/* Slot idx was written since the snapshot began: its undo record gives
 * it. Once, however often a page's slots are read. */
static inline void
hsnap_mark(struct hsnap *hs, uint32_t idx)
{
	uint64_t *w = &hs->bits[idx >> 6], bit = 1ull << (idx & 63);

	hs->marked += (*w & bit) == 0;
	*w |= bit;
}

/*
 * Stage page p of table v as the snapshot saw it: copy it, then read the
 * live slot epochs (after the copy's loads) and mark every slot the worker
 * has begun to write (its copied bytes may be torn: skipped here, its
 * undo record holds them), then thaw the page. The copy is one page, in
 * L1: the records are encoded from it at once, so no table is ever copied
 * whole and nothing is read twice from memory.
 */
static void
hsnap_stage(struct hsnap *hs, struct hsnap_map *v, uint32_t p)
{
	const uint32_t ns = 1u << v->pshift, stride = v->stride, mark = hs->mark;
	const uint8_t *live = v->dir[p];
	const uint8_t *next = p + 1 < (v->cap >> v->pshift) ? v->dir[p + 1] : live;
	const uint32_t tomb = TAG_TOMB;

	memcpy(hs->stage, live, v->pg);
	atomic_thread_fence(memory_order_acquire);
	for (uint32_t k = 0; k < ns; k++) {
		/* The next page comes from memory while this one is encoded,
		 * a line a slot (see hsnap_encode_live). */
		for (uint32_t l = 0; l < stride; l += 64)
			__builtin_prefetch(next + (size_t)k * stride + l, 0, 3);
		if (slot_epoch(live + (size_t)k * stride) != mark)
			continue;
		hsnap_mark(hs, (p << v->pshift) + k);
		memcpy(hs->stage + (size_t)k * stride, &tomb, 4);
	}
	atomic_store_explicit(&v->thaw[p], 1, memory_order_release);
	hs->si = 0;
	hs->sn = ns;
}

/* A table's first page: room for a page and a bit per slot. */
static int
hsnap_table_begin(struct hsnap *hs, const struct hsnap_map *v)
{
	size_t words = ((size_t)v->cap + 63) / 64;

	if (v->pg > hs->stage_cap) {
		uint8_t *p = malloc(v->pg);

		if (p == NULL)
			return -ENOMEM;
		free(hs->stage);
		hs->stage = p;
		hs->stage_cap = v->pg;
	}
	if (words > hs->bits_cap) {
		uint64_t *w = malloc(words * sizeof(*w));

		if (w == NULL)
			return -ENOMEM;
		free(hs->bits);
		hs->bits = w;
		hs->bits_cap = words;
	}
	memset(hs->bits, 0, words * sizeof(*hs->bits));
	hs->marked = 0;
	hs->restored = 0;
	return 0;
}

/*
 * Slot e's next record into r: 1, or 0 when the slot has no more (a map
 * blob's entries all given; any other slot gives one).
 */
static int
hsnap_emit(struct sl_state *st, struct hsnap *hs, const struct sl_sdesc *d,
	   const uint8_t *e, struct sl_state_record *r)
{
	const struct hdesc *hd = d->be;

	r->desc = d->id;
	r->kg = (uint16_t)(st->conf.first_kg + hs->kgi);
	r->key = e + 8;
	r->ns = e + 8 + d->d.key_len;
	r->ukey = NULL;
	if (d->d.kind == SL_STATE_MAP) {
		const struct hblob *x = *slot_blob(hd, (uint8_t *)(uintptr_t)e);
		uint32_t ul = d->d.ukey_len;

		if (hs->moff + ul + 4 > x->len)
			return 0;
		r->ukey = x->data + hs->moff;
		memcpy(&r->val_len, x->data + hs->moff + ul, 4);
		r->val = x->data + hs->moff + ul + 4;
		hs->moff += ul + 4 + r->val_len;
		return 1;
	}
	if (hs->moff != 0)
		return 0;
	if (d->d.kind == SL_STATE_LIST) {
		const struct hblob *x = *slot_blob(hd, (uint8_t *)(uintptr_t)e);

		r->val = x->data;
		r->val_len = x->len;
	} else {
		r->val = e + hd->voff;
		r->val_len = d->fixed_len;
	}
	hs->moff = 1;
	return 1;
}

/* Past the current slot. */
static inline void
hsnap_advance(struct hsnap *hs)
{
	hs->cur = NULL;
	hs->moff = 0;
	if (hs->in_undo)
		hs->uoff += undo_size(hs->ustride);
	else
		hs->si++;
}

/* Where heap_snap_encode's chunk is: hsnap_seek encodes whole pages of
 * fixed-size records straight into it (hsnap_encode_live). */
struct hsnap_out {
	struct sl_state_snap *s;	/* its runs (sl_state_run_open) */
	uint8_t *dst;
	size_t cap, len;
	uint32_t *nrec;
	int *kg;
};

/* Longest namespace a run holds once (a window's is 8 or 16 bytes). */
#define HSNAP_RUN_NS_MAX 16u

/*
 * The readable records of a live page into dst: key, namespace and value
 * words (gap 0), or with gap = ns_len the key's kw words and the value's,
 * the namespace left out. Returns how many, their slots in from[], and in
 * *diff the bits in which their namespaces differ from w0's.
 */
static inline uint32_t
hsnap_copy_page(struct hsnap *hs, const uint8_t *live, const uint8_t *next,
		uint32_t ns, uint32_t stride, uint32_t base, uint32_t rs,
		uint32_t kw, uint32_t gap, const uint64_t *w0, uint8_t *dst,
		uint16_t *from, uint64_t *diff)
{
	const uint32_t nw = (rs + 7u) / 8u, mark = hs->mark;
	uint64_t d = 0;
	uint32_t n = 0;

	for (uint32_t k = 0; k < ns; k++) {
		const uint8_t *e = live + (size_t)k * stride;
		uint8_t *r = dst + (size_t)n * rs;
		uint32_t tag;

		for (uint32_t l = 0; l < stride; l += 64)
			__builtin_prefetch(next + (size_t)k * stride + l, 0, 3);
		memcpy(&tag, e, 4);
		if (slot_epoch(e) == mark) {
			hsnap_mark(hs, base + k);
			continue;
		}
		if (tag <= TAG_TOMB)
			continue;
		/* the slot's stride covers the rounding; o's cap keeps a word
		 * of slack past the page's last record */
		for (uint32_t w = 0; w < kw; w++)
			memcpy(r + 8 * w, e + 8 + 8 * w, 8);
		for (uint32_t w = kw; w < nw; w++)
			memcpy(r + 8 * w, e + 8 + gap + 8 * w, 8);
		for (uint32_t w = 0; w < gap / 8u; w++) {
			uint64_t x;

			memcpy(&x, e + 8 + 8 * kw + 8 * w, 8);
			d |= x ^ w0[w];
		}
		from[n++] = (uint16_t)k;
	}
	*diff = d;
	return n;
}

/*
 * Page p of table v, a table of fixed-size records whose key, namespace
 * and value are contiguous (voff == 8 + key + ns), encoded from the live
 * page straight into o: no staged copy, so each slot is read once. The
 * reads are validated as hsnap_stage's copy is: after them (acquire) the
 * live slot epochs are read again, and a slot stamped by then had its
 * bytes possibly torn: its record is taken out again (the worker stamps a
 * slot before its first write, so a slot not stamped by then was read
 * whole) and its undo record gives it. Slots already stamped are skipped
 * before they are read. A page whose records share a namespace (one
 * window's: all but the pages at a window's end) goes into a run that
 * holds it once, its records key and value only (SL_STATE_RUN_NS: a
 * window's record 24 bytes, not 32); the page is read so first, with the
 * namespace of its first record, and again with every record's when one
 * differs. o has room for every slot of the page. ~10 ns a record
 * (state_bench --snapshot).
 */
static void
hsnap_encode_live(struct hsnap *hs, struct hsnap_map *v,
		  const struct sl_sdesc *d, uint32_t p, struct hsnap_out *o)
{
	const uint32_t ns = 1u << v->pshift, stride = v->stride;
	const uint32_t kl = d->d.key_len, nl = d->d.ns_len;
	const uint16_t id = (uint16_t)d->id;
	const uint8_t *live = v->dir[p];
	/* The next page comes in a line per slot read here: 64 prefetches in
	 * a burst (hsnap_stage) stalled on a full miss queue, a third of the
	 * drain's time. */
	const uint8_t *next = p + 1 < (v->cap >> v->pshift) ? v->dir[p + 1] : live;
	uint64_t w0[HSNAP_RUN_NS_MAX / 8] = { 0 }, diff = 1;
	uint32_t n = 0, nlate = 0, base = p << v->pshift, rs = 0;
	uint8_t late[256], *dst = NULL;
	uint16_t from[256];
	bool one_ns = false;

	/* whole 8-byte words of key and namespace: the value's follow */
	if (nl != 0 && nl <= HSNAP_RUN_NS_MAX && (kl | nl) % 8u == 0) {
		for (uint32_t k = 0; k < ns; k++) {
			const uint8_t *e = live + (size_t)k * stride;
			uint32_t tag;

			memcpy(&tag, e, 4);
			if (tag > TAG_TOMB && slot_epoch(e) != hs->mark) {
				memcpy(w0, e + 8 + kl, nl);
				one_ns = true;
				break;
			}
		}
	}
	if (one_ns) {
		rs = kl + d->fixed_len;
		dst = o->dst + o->len + sl_state_run_need_ns(o->s, id, w0, nl);
		n = hsnap_copy_page(hs, live, next, ns, stride, base, rs, kl / 8u,
				    nl, w0, dst, from, &diff);
	}
	if (diff != 0) {	/* two namespaces, or none to share */
		one_ns = false;
		rs = kl + nl + d->fixed_len;
		dst = o->dst + o->len + sl_state_run_need(o->s, id);
		n = hsnap_copy_page(hs, live, next, ns, stride, base, rs, 0, 0,
				    w0, dst, from, &diff);
	}
	atomic_thread_fence(memory_order_acquire);
	for (uint32_t i = 0; i < n; i++)
		if (slot_epoch(live + (size_t)from[i] * stride) == hs->mark)
			late[nlate++] = (uint8_t)i;
	atomic_store_explicit(&v->thaw[p], 1, memory_order_release);
	if (nlate != 0) {
		/* rare: written while this page was read */
		uint32_t w = late[0];

		for (uint32_t j = 0, i = late[0]; i < n; i++) {
			if (j < nlate && late[j] == i) {
				hsnap_mark(hs, base + from[i]);
				j++;
				continue;
			}
			memmove(dst + (size_t)w * rs, dst + (size_t)i * rs, rs);
			w++;
		}
		n -= nlate;
	}
	if (n == 0)
		return;
	o->len += one_ns ?
		sl_state_run_open_ns(o->s, id, w0, nl, o->dst + o->len) :
		sl_state_run_open(o->s, id, o->dst + o->len);
	sl_state_run_add(o->s, n);
	o->len += (size_t)n * rs;
	*o->nrec += n;
}

/* Page p's way into o. A page of fixed-size records laid out as records
 * goes in at once when o is in its key group and has room for all of its
 * slots (and a word of slack); when o holds records already but not
 * that, the chunk ends before the page (at most a page's bytes of a
 * 1 MiB chunk left unused) and the next chunk starts with it. */
enum hsnap_live { HSNAP_STAGE, HSNAP_LIVE, HSNAP_CHUNK_END };

static enum hsnap_live
hsnap_live_ok(const struct sl_state_snap *s, const struct hsnap *hs,
	      const struct sl_sdesc *d, const struct hsnap_map *v,
	      const struct hsnap_out *o)
{
	const struct hdesc *hd = d->be;
	uint32_t kn = d->d.key_len + d->d.ns_len, kg;
	size_t rs = kn + d->fixed_len;

	if (d->d.kind == SL_STATE_LIST || d->d.kind == SL_STATE_MAP ||
	    hd->voff != 8u + kn || v->pshift > 8)
		return HSNAP_STAGE;
	kg = s->st->conf.first_kg + hs->kgi;
	if (o->len + SL_STATE_RUN_HDR + HSNAP_RUN_NS_MAX + (rs << v->pshift) + 8u > o->cap ||
	    (*o->kg >= 0 && *o->kg != (int)kg))
		return o->len != 0 ? HSNAP_CHUNK_END : HSNAP_STAGE;
	return HSNAP_LIVE;
}

/*
 * Put the cursor on the next slot the snapshot holds: *d and *e (a slot
 * of the staged page or an undo record's saved bytes). 1; 0 at the end;
 * -EAGAIN when that needs a page staged and !restage (what the caller
 * took from the staged page would be overwritten); -errno. With o, pages
 * of fixed-size records are encoded into o instead (hsnap_encode_live),
 * and HSNAP_SEEK_CHUNK_END says the next one goes into the next chunk
 * (hsnap_live_ok).
 */
#define HSNAP_SEEK_CHUNK_END 2
static int
hsnap_seek(struct sl_state_snap *s, bool restage, const struct sl_sdesc **dp,
	   const uint8_t **ep, struct hsnap_out *o)
{
	struct sl_state *st = s->st;
	struct hsnap *hs = s->be;

	while (hs->kgi < st->n_kg) {
		const struct sl_sdesc *d;
		struct hsnap_map *v;
		uint32_t tag;
		int rc;

		if (hs->di >= s->n_desc) {
			hs->di = 0;
			hs->kgi++;
			continue;
		}
		d = &s->desc[hs->di];
		v = &hs->m[(size_t)hs->kgi * s->n_desc + hs->di];
		if (hs->cur != NULL) {
			*dp = d;
			*ep = hs->cur;
			return 1;
		}
		if (v->cap == 0) {
			hs->di++;
			continue;
		}
		if (!hs->in_undo) {
			if (hs->si < hs->sn) {
				const uint8_t *e = hs->stage + (size_t)hs->si * v->stride;

				memcpy(&tag, e, 4);
				if (tag <= TAG_TOMB) {
					hs->si++;
					continue;
				}
				hs->cur = e;
				continue;
			}
			if (!restage)
				return -EAGAIN;
			if (hs->pi == 0 && (rc = hsnap_table_begin(hs, v)) < 0) {
				fprintf(stderr, "sl_state: heap snapshot: no memory for a page and a table's slot bits; the checkpoint fails (give the process more memory)\n");
				return rc;
			}
			if (hs->pi < (v->cap >> v->pshift)) {
				/* Thawed already: empty at begin (only this
				 * thread thaws after begin, once a page). */
				if (atomic_load_explicit(&v->thaw[hs->pi],
							 memory_order_relaxed) != 0) {
					hs->pi++;
					continue;
				}
				switch (o != NULL ? hsnap_live_ok(s, hs, d, v, o) : HSNAP_STAGE) {
				case HSNAP_LIVE:
					if (*o->kg < 0)
						*o->kg = (int)(st->conf.first_kg + hs->kgi);
					hsnap_encode_live(hs, v, d, hs->pi, o);
					hs->pi++;
					continue;
				case HSNAP_CHUNK_END:
					return HSNAP_SEEK_CHUNK_END;
				case HSNAP_STAGE:
					break;
				}
				hsnap_stage(hs, v, hs->pi);
				hs->pi++;
				continue;
			}
			/* Every page thawed: the worker adds no more undo
			 * records to this table. */
			hs->in_undo = true;
			hs->ustride = v->stride;
			hs->uc = atomic_load_explicit(&v->uhead, memory_order_acquire);
			hs->uoff = 0;
			hs->ufill = hs->uc != NULL ?
				atomic_load_explicit(&hs->uc->fill, memory_order_acquire) : 0;
			continue;
		}
		if (hs->uc != NULL && hs->uoff >= hs->ufill) {
			hs->uc = hs->uc->next;	/* older chunks are full */
			hs->uoff = 0;
			hs->ufill = hs->uc != NULL ?
				atomic_load_explicit(&hs->uc->fill, memory_order_acquire) : 0;
			continue;
		}
		if (hs->uc != NULL) {
			const struct hundo *u = (const void *)(hs->uc->data + hs->uoff);
			uint64_t *w = &hs->bits[u->idx >> 6], bit = 1ull << (u->idx & 63);

			/* Not marked: written after its page was staged. */
			if (!(*w & bit)) {
				hs->uoff += undo_size(hs->ustride);
				continue;
			}
			*w &= ~bit;
			hs->restored++;
			memcpy(&tag, u->slot, 4);
			if (tag <= TAG_TOMB) {	/* inserted since begin */
				hs->uoff += undo_size(hs->ustride);
				continue;
			}
			hs->cur = u->slot;
			continue;
		}
		if (hs->restored != hs->marked) {
			fprintf(stderr, "sl_state: heap snapshot: %" PRIu64 " slots written during the snapshot but %" PRIu64 " undo records; the checkpoint fails (a bug: please report it)\n",
				hs->marked, hs->restored);
			return -EIO;
		}
		hs->in_undo = false;
		hs->pi = 0;
		hs->si = hs->sn = 0;
		hs->di++;
	}
	return 0;
}

/*
 * Up to n records into r. They point into the staged page: the batch
 * ends where another page would have to be staged.
 */
static int
heap_snap_batch(struct sl_state_snap *s, struct sl_state_record *r,
		unsigned int n)
{
	struct hsnap *hs = s->be;
	unsigned int got = 0;

	while (got < n) {
		const struct sl_sdesc *d;
		const uint8_t *e;
		int rc = hsnap_seek(s, got == 0, &d, &e, NULL);

		if (rc == -EAGAIN || rc == 0)
			break;
		if (rc < 0)
			return rc;
		while (got < n && hsnap_emit(s->st, hs, d, e, &r[got]))
			got++;
		if (got < n)
			hsnap_advance(hs);
	}
	return (int)got;
}

static int
heap_snap_next(struct sl_state_snap *s, struct sl_state_record *r)
{
	return heap_snap_batch(s, r, 1);
}

/*
 * Encode the records of one key group (*kg, or the next one's when it is
 * -1) into dst in the chunk record format (sl_state_rec_put), a fixed
 * slot without building a record: its key and namespace are contiguous
 * in the slot, the value follows at voff. Stops before a record of
 * another key group or one that does not fit (*need: its size, when dst
 * holds nothing yet). @return bytes written.
 */
static int
heap_snap_encode(struct sl_state_snap *s, uint8_t *dst, size_t cap, int *kg,
		 uint32_t *nrec, size_t *need)
{
	struct sl_state *st = s->st;
	struct hsnap *hs = s->be;
	struct hsnap_out o = { .s = s, .dst = dst, .cap = cap, .nrec = nrec,
			       .kg = kg };
	size_t len = 0;

	*need = 0;
	for (;;) {
		const struct sl_sdesc *d;
		const struct hdesc *hd;
		const uint8_t *e;
		int rc;
		uint32_t kn;
		size_t rs, hn;

		o.len = len;
		rc = hsnap_seek(s, true, &d, &e, &o);
		len = o.len;
		if (rc < 0)
			return rc;
		if (rc == 0 || rc == HSNAP_SEEK_CHUNK_END)
			break;
		if (*kg < 0)
			*kg = (int)(st->conf.first_kg + hs->kgi);
		else if (*kg != (int)(st->conf.first_kg + hs->kgi))
			break;
		if (d->d.kind == SL_STATE_LIST || d->d.kind == SL_STATE_MAP) {
			struct sl_state_record r;
			uint32_t moff = hs->moff;

			if (!hsnap_emit(st, hs, d, e, &r)) {
				hsnap_advance(hs);
				continue;
			}
			rs = sl_state_rec_size(s, &r);
			hn = sl_state_run_need(s, r.desc);
			if (len + hn + rs > cap) {
				hs->moff = moff;	/* again, next call */
				if (len == 0)
					*need = hn + rs;
				break;
			}
			len += sl_state_run_open(s, r.desc, dst + len);
			sl_state_rec_put(s, &r, dst + len);
			sl_state_run_add(s, 1);
			len += rs;
			(*nrec)++;
			continue;
		}
		hd = d->be;
		kn = d->d.key_len + d->d.ns_len;
		rs = kn + d->fixed_len;
		hn = sl_state_run_need(s, (uint16_t)d->id);
		if (len + hn + rs > cap) {
			if (len == 0)
				*need = hn + rs;
			break;
		}
		len += sl_state_run_open(s, (uint16_t)d->id, dst + len);
		memcpy(dst + len, e + 8, kn);
		memcpy(dst + len + kn, e + hd->voff, d->fixed_len);
		sl_state_run_add(s, 1);
		len += rs;
		(*nrec)++;
		hsnap_advance(hs);
	}
	return (int)len;
}

static void
heap_snap_end(struct sl_state *st, struct sl_state_snap *s)
{
	struct hbe *b = BE(st);
	struct hsnap *hs = s->be;

	b->snap = false;
	for (size_t i = 0; i < b->nret; i++)
		hfree(b, b->ret[i]);
	b->nret = 0;
	while (b->uused != NULL) {	/* kept for the next snapshot */
		struct hchunk *c = b->uused;

		b->uused = c->gnext;
		c->gnext = b->ufree;
		b->ufree = c;
	}
	if (hs == NULL)
		return;
	for (uint32_t k = 0; k < st->n_kg; k++)
		for (uint32_t i = 0; i < s->n_desc; i++)
			((struct hdesc *)st->desc[i].be)->maps[k].sv = NULL;
	free(hs->stage);
	free(hs->bits);
	free(hs->m);
	free(hs);
	s->be = NULL;
}

static int
heap_raw_put(struct sl_state *st, struct sl_sdesc *d,
	     const struct sl_state_record *r)
{
	struct sl_state_ref ref = { .key = r->key, .ns = r->ns, .kg = r->kg };
	struct hbe *b = BE(st);
	bool created;
	uint8_t *e;

	sl_state_hash_bulk(st, d->id, &ref, 1);
	if (d->d.kind == SL_STATE_LIST)
		return heap_blob_put(st, d, &ref, r->val, r->val_len);
	if (d->d.kind == SL_STATE_MAP)
		return heap_mel_put(st, d, &ref, r->ukey, r->val, r->val_len);
	e = hupsert(b, d, map_of(st, d, r->kg), &ref, true, &created);
	if (e == NULL)
		return -ENOMEM;
	memcpy(e + ((struct hdesc *)d->be)->voff, r->val, d->fixed_len);
	return 0;
}

static void
heap_stats(struct sl_state *st, struct sl_state_stats *s)
{
	s->mem_used = BE(st)->used;
	s->mem_limit = BE(st)->limit;
	s->cow_slots = BE(st)->n_undo;
	s->cow_pages = BE(st)->n_cow;
	s->thawed_pages = BE(st)->n_thawed;
}

const struct sl_state_be_ops sl_state_heap_ops = {
	.open = heap_open,
	.close = heap_close,
	.desc_add = heap_desc_add,
	.prefetch = heap_prefetch,
	.fixed_lookup = heap_fixed_lookup,
	.fixed_commit = heap_fixed_commit,
	.fixed_upsert = heap_fixed_upsert,
	.in_place = true,
	.del = heap_del,
	.ns_drain = heap_ns_drain,
	.blob_get = heap_blob_get,
	.blob_put = heap_blob_put,
	.blob_append = heap_blob_append,
	.mel_get = heap_mel_get,
	.mel_put = heap_mel_put,
	.mel_del = heap_mel_del,
	.mel_iter = heap_mel_iter,
	.cleanup = heap_cleanup,
	.snap_begin = heap_snap_begin,
	.snap_next = heap_snap_next,
	.snap_batch = heap_snap_batch,
	.snap_encode = heap_snap_encode,
	.snap_end = heap_snap_end,
	.raw_put = heap_raw_put,
	.stats = heap_stats,
};
