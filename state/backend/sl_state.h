/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_STATE_H
#define SL_STATE_H

/**
 * @file
 * The one keyed-state API (semantics.md section 5): value, list, map,
 * reducing and aggregating state with Flink's state TTL, stored per key
 * group so a snapshot of N workers restores onto M. Two backends behind it:
 * `heap` (hash tables in a mimalloc heap placed in a caller-given memory
 * region, normally a DPDK memzone) and `rocksdb` (one instance per worker).
 *
 * Threading: one struct sl_state per worker. Every call except
 * sl_state_snapshot_next()/sl_state_snapshot_write() must run on the thread
 * that called sl_state_open() (mimalloc heaps are thread-owned); the two
 * snapshot-draining calls may run on another thread (the main lcore) while
 * the worker keeps processing.
 *
 * Keys. Every entry is addressed by (key group, key, namespace), key and
 * namespace of fixed lengths per descriptor (namespace length 0 for a
 * constant namespace; the window operator uses the window bytes). A map
 * entry adds a fixed-length user key. Values are fixed-size for value,
 * reducing and aggregating state and variable-length for list elements and
 * map values.
 *
 * Time. TTL decisions use the processing time the caller passes in (ms);
 * nothing in here reads a clock.
 *
 * Errors are negative errno values. -ENOMEM from an insert means the heap
 * backend's memory limit is reached: the caller counts and reports it.
 *
 * Per vector, an operator does:
 *   fill refs[i].{kg,key,ns} for the selected rows;
 *   sl_state_hash_bulk(st, id, refs, n);
 *   sl_state_prefetch_bulk(st, id, refs, n);
 *   sl_state_agg_add_bulk(...) or sl_state_value_get_bulk/put_bulk(...).
 * (or, for state updated in place, one sl_state_fixed_upsert_bulk()).
 * At a barrier: sl_state_snapshot_begin() on the worker (O(pages) pointer
 * copy for heap, O(1) for rocksdb), hand the snapshot to the main lcore,
 * which calls sl_state_snapshot_write() in slices, then the worker calls
 * sl_state_snapshot_end().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_state;
struct sl_state_snap;

enum sl_state_backend {
	SL_STATE_BACKEND_HEAP,
	SL_STATE_BACKEND_ROCKSDB,
};

struct sl_state_conf {
	enum sl_state_backend backend;
	uint32_t max_parallelism;	/**< key groups of the job (sl_kg) */
	uint32_t first_kg, last_kg;	/**< owned key groups, inclusive */
	/* heap */
	void *mem;		/**< region for the mimalloc arena (memzone) */
	size_t mem_len;		/**< >= 32 MiB after 32 MiB alignment */
	size_t mem_limit;	/**< bytes of state allowed; 0 = the arena */
	/* rocksdb */
	const char *dir;		/**< instance directory (created) */
	size_t block_cache_bytes;	/**< 0 = 64 MiB */
	size_t write_buffer_bytes;	/**< 0 = 64 MiB */
	/** keep a write-ahead log, buffered in memory and written out only
	 * by native checkpoints, which then need not flush the memtables */
	bool wal;
	/** with bg_pin: the CPU for RocksDB's flush and compaction threads,
	 * which otherwise inherit the CPU of the (polling) thread that starts
	 * them. The threads are shared by every instance of the process: the
	 * first open with bg_pin places them. */
	bool bg_pin;
	int bg_cpu;
};

enum sl_state_kind {
	SL_STATE_VALUE,
	SL_STATE_LIST,
	SL_STATE_MAP,
	SL_STATE_REDUCING,
	SL_STATE_AGGREGATING,
};

enum sl_state_ttl_update {
	SL_STATE_TTL_ON_CREATE_AND_WRITE,	/**< Flink's default */
	SL_STATE_TTL_ON_READ_AND_WRITE,
};

enum sl_state_ttl_visibility {
	SL_STATE_TTL_NEVER_RETURN_EXPIRED,	/**< Flink's default */
	SL_STATE_TTL_RETURN_EXPIRED_IF_NOT_CLEANED_UP,
};

/** Flink's StateTtlConfig. ttl_ms == 0 disables TTL. */
struct sl_state_ttl {
	int64_t ttl_ms;
	enum sl_state_ttl_update update;
	enum sl_state_ttl_visibility visibility;
	/** heap: entries checked per state access (Flink default 5); 0 off */
	uint32_t cleanup_incremental;
	/** drop expired entries from snapshots */
	bool cleanup_full_snapshot;
	/** rocksdb: drop expired entries in compaction */
	bool cleanup_compaction;
};

/** A state descriptor; name is unique per sl_state and survives restore. */
struct sl_state_desc {
	const char *name;
	enum sl_state_kind kind;
	uint16_t key_len;
	uint16_t ns_len;
	uint16_t ukey_len;	/**< map: user key length */
	uint32_t val_len;	/**< value/reducing: value; aggregating: accumulator */
	uint32_t in_len;	/**< aggregating: input */
	uint32_t out_len;	/**< aggregating: result */
	/** aggregating: createAccumulator, add, getResult (result NULL: copy acc) */
	void (*create)(void *acc, void *ctx);
	void (*add)(void *acc, const void *in, void *ctx);
	void (*result)(const void *acc, void *out, void *ctx);
	/** reducing: acc = reduce(acc, v) */
	void (*reduce)(void *acc, const void *v, void *ctx);
	/**
	 * Fixed-size values (value, reducing, aggregating), optional:
	 * acc = merge(acc, other), associative, with other never empty.
	 * It makes sl_state_fixed_merge_bulk possible, which on rocksdb
	 * writes without reading (a merge operator).
	 */
	void (*merge)(void *acc, const void *other, void *ctx);
	/** merge's ctx: the state keeps its own copy of these bytes, valid
	 * until sl_state_close() (rocksdb merges on its own threads until
	 * then, whatever became of the caller's); 0 bytes: ctx as it is. */
	const void *merge_ctx;
	uint32_t merge_ctx_len;
	void *ctx;
	uint32_t capacity_hint;	/**< heap: expected keys per key group */
	struct sl_state_ttl ttl;
	/**
	 * Fixed-size values, optional: the value's length in checkpoints of
	 * an older layout (old_val_len) and upgrade(old, val, ctx), which
	 * makes one of those values today's (val_len bytes). Restoring such
	 * a chunked checkpoint converts each value as it loads, as Flink's
	 * state schema evolution keeps a savepoint across a layout change;
	 * a native RocksDB checkpoint of it is refused with -EPROTO.
	 */
	uint32_t old_val_len;
	void (*upgrade)(const void *old, void *val, void *ctx);
};

/** One row's address. The caller fills kg, key, ns; hash_bulk fills hash. */
struct sl_state_ref {
	const void *key;
	const void *ns;		/**< may be NULL when ns_len == 0 */
	uint32_t hash;
	uint16_t kg;
};

struct sl_state_stats {
	size_t mem_used;	/**< heap: arena bytes in use; rocksdb: memtables */
	size_t mem_limit;
	size_t disk_bytes;	/**< rocksdb: SST + WAL-less live files */
	uint64_t n_enomem;	/**< inserts refused for memory */
	uint64_t n_expired;	/**< entries removed by TTL */
	/** heap, while a snapshot is open: slots saved before their first
	 * write, pages copied whole (a firing's drain), and pages taken back
	 * in place because the snapshot had copied them */
	uint64_t cow_slots, cow_pages, thawed_pages;
};

/** A snapshot record, as the iterator yields it. */
struct sl_state_record {
	uint16_t desc;		/**< descriptor id at snapshot time */
	uint16_t kg;
	const void *key;
	const void *ns;
	const void *ukey;	/**< map entries only */
	const void *val;	/**< stored form: see sl_state_snapshot_next() */
	uint32_t val_len;
};

/** Open a worker's state. NULL on error with errno set. */
struct sl_state *sl_state_open(const struct sl_state_conf *conf);
void sl_state_close(struct sl_state *st);

/** Register a descriptor. @return its id (>= 0) or -errno. */
int sl_state_register(struct sl_state *st, const struct sl_state_desc *d);
/** @return id of the descriptor called name, or -ENOENT. */
int sl_state_find(const struct sl_state *st, const char *name);

/* ---- batched access (hot path) ---------------------------------------- */

void sl_state_hash_bulk(const struct sl_state *st, int id,
			struct sl_state_ref *refs, unsigned int n);
/** heap: prefetch each row's first probe slot; rocksdb: nothing. */
void sl_state_prefetch_bulk(struct sl_state *st, int id,
			    const struct sl_state_ref *refs, unsigned int n);
/**
 * Value state: vals[i * val_len] gets the value of row i, found[i] 1 or 0.
 * @return rows found, or -errno.
 */
int sl_state_value_get_bulk(struct sl_state *st, int id,
			    const struct sl_state_ref *refs, unsigned int n,
			    int64_t now, void *vals, uint8_t *found);
/** @return rows refused for memory (0 on success), or -errno. */
int sl_state_value_put_bulk(struct sl_state *st, int id,
			    const struct sl_state_ref *refs, unsigned int n,
			    int64_t now, const void *vals);
/**
 * Reducing or aggregating state: add input i (at in + i * in_stride) to
 * row i's accumulator. Rows with the same key are applied in order.
 * @return rows refused for memory (0 on success), or -errno.
 */
int sl_state_agg_add_bulk(struct sl_state *st, int id,
			  const struct sl_state_ref *refs, unsigned int n,
			  int64_t now, const void *in, uint32_t in_stride);

/**
 * Fixed-size state without TTL, updated in place by the caller (a window's
 * accumulators): vals[i] points at row i's value (created zeroed when
 * absent: created[i] = 1 for the first row of a new key; rows with the same
 * key share one pointer), or is NULL when the backend refused it for
 * memory. Write through the pointers, then call sl_state_fixed_release_bulk
 * with the same refs before any other call on st: heap values are the
 * storage itself, rocksdb's are written back there.
 * @return rows refused (0 on success), or -errno (-EINVAL with TTL on).
 */
int sl_state_fixed_acquire_bulk(struct sl_state *st, int id,
				const struct sl_state_ref *refs, unsigned int n,
				uint8_t **vals, uint8_t *created);
/**
 * sl_state_fixed_acquire_bulk() with the hashing and prefetching done in
 * the same call (fills refs[i].hash): the heap backend hashes every row,
 * prefetches its slot and only then probes, one pass each, without
 * per-row calls. Same results, same release.
 */
int sl_state_fixed_upsert_bulk(struct sl_state *st, int id,
			       struct sl_state_ref *refs, unsigned int n,
			       uint8_t **vals, uint8_t *created);
int sl_state_fixed_release_bulk(struct sl_state *st, int id,
				const struct sl_state_ref *refs, unsigned int n,
				uint8_t **vals);
/**
 * Fold ops[i] (a whole value, val_len bytes) into row i's entry with the
 * descriptor's merge: an absent entry becomes ops[i]; rows with the same
 * key fold in order. Fills refs[i].hash. The heap backend merges in
 * place; rocksdb queues a merge operand and reads nothing, so an update
 * costs a write, not a read and a write (the merge runs when the entry is
 * next read, flushed or compacted). For callers that need neither the old
 * value nor whether the entry existed.
 * @return rows refused for memory (0 on success), or -errno (-ENOTSUP:
 *   no merge function; -EINVAL with TTL on).
 */
/** Whether sl_state_fixed_merge_bulk skips the read (rocksdb) or not (heap). */
bool sl_state_merge_is_blind(const struct sl_state *st);
int sl_state_fixed_merge_bulk(struct sl_state *st, int id,
			      struct sl_state_ref *refs, unsigned int n,
			      const uint8_t *const *ops);

/* ---- single-key access ------------------------------------------------ */

/** @return 1 found (out filled), 0 absent, -errno. */
int sl_state_value_get(struct sl_state *st, int id,
		       const struct sl_state_ref *ref, int64_t now, void *out);
int sl_state_value_put(struct sl_state *st, int id,
		       const struct sl_state_ref *ref, int64_t now,
		       const void *val);
/**
 * A value state without TTL on a backend that keeps values in place
 * (heap): *slot points at the stored value, writable, so a caller that
 * reads a value and then writes it (a process function's get and put)
 * probes once. The pointer holds until the next call on st that may
 * insert into or remove from descriptor id's table (a put of another
 * key, a clear, a restore or a snapshot's begin): callers keep it for
 * one key's calls and drop it on a clear.
 * @return 1 found, 0 absent, -ENOTSUP (TTL, another kind, rocksdb:
 * use sl_state_value_get), -errno.
 */
int sl_state_value_slot(struct sl_state *st, int id,
			const struct sl_state_ref *ref, int64_t now,
			uint8_t **slot);
/** Remove (key, ns) of any kind (Flink's clear()). */
int sl_state_clear(struct sl_state *st, int id, const struct sl_state_ref *ref);

/** List element callback; return nonzero to stop. */
typedef int (*sl_state_elem_fn)(void *arg, const void *elem, uint32_t len);
int sl_state_list_add(struct sl_state *st, int id,
		      const struct sl_state_ref *ref, int64_t now,
		      const void *elem, uint32_t len);
/** Replace the list with n elements (n == 0 clears it). */
int sl_state_list_update(struct sl_state *st, int id,
			 const struct sl_state_ref *ref, int64_t now,
			 const void *const *elems, const uint32_t *lens,
			 unsigned int n);
/** Call fn for each visible element in order. @return elements, -errno. */
int sl_state_list_get(struct sl_state *st, int id,
		      const struct sl_state_ref *ref, int64_t now,
		      sl_state_elem_fn fn, void *arg);

/** Map entry callback; return nonzero to stop. */
typedef int (*sl_state_entry_fn)(void *arg, const void *ukey,
				 const void *val, uint32_t len);
int sl_state_map_put(struct sl_state *st, int id,
		     const struct sl_state_ref *ref, int64_t now,
		     const void *ukey, const void *val, uint32_t len);
/**
 * Copy the value of ukey into out (at most cap bytes).
 * @return its length (>= 0), -ENOENT when absent, or -errno.
 */
int sl_state_map_get(struct sl_state *st, int id,
		     const struct sl_state_ref *ref, int64_t now,
		     const void *ukey, void *out, uint32_t cap);
/** @return 1 removed, 0 absent, -errno. */
int sl_state_map_remove(struct sl_state *st, int id,
			const struct sl_state_ref *ref, const void *ukey);
/** @return 1 or 0 (TTL applies as to a get), -errno. */
int sl_state_map_contains(struct sl_state *st, int id,
			  const struct sl_state_ref *ref, int64_t now,
			  const void *ukey);
/** Visit visible entries (order is backend-specific). @return entries. */
int sl_state_map_iter(struct sl_state *st, int id,
		      const struct sl_state_ref *ref, int64_t now,
		      sl_state_entry_fn fn, void *arg);

/** Reducing/aggregating add of one input. */
int sl_state_agg_add(struct sl_state *st, int id,
		     const struct sl_state_ref *ref, int64_t now,
		     const void *in);
/** Result (out_len bytes; reducing: val_len). @return 1, 0 empty, -errno. */
int sl_state_agg_get(struct sl_state *st, int id,
		     const struct sl_state_ref *ref, int64_t now, void *out);

/** A drained entry: its key group, key and value (aggregating: accumulator). */
typedef int (*sl_state_visit_fn)(void *arg, uint16_t kg, const void *key,
				 const void *val);
/**
 * Take every entry of namespace ns out of a value, reducing or aggregating
 * descriptor: what a window operator does when a window fires (Flink:
 * emit the window's contents, then clear its state for each key). Visits
 * key groups in ascending order, then removes each entry; entries that
 * have expired (never-return-expired TTL) are removed unvisited. A
 * negative return of fn stops the drain.
 * Cost: heap scans the descriptor's tables of the owned key groups; rocksdb
 * iterates the descriptor's keys of each owned key group, and deletes in
 * one write batch per key group.
 * @return entries visited, or -errno.
 */
int sl_state_ns_drain(struct sl_state *st, int id, const void *ns,
		      int64_t now, sl_state_visit_fn fn, void *arg);
/**
 * sl_state_ns_drain() without the removal: a window that fires but stays
 * for late rows (allowed lateness) is read, and drained at its cleanup.
 * Expired entries are skipped, not removed.
 */
int sl_state_ns_visit(struct sl_state *st, int id, const void *ns,
		      int64_t now, sl_state_visit_fn fn, void *arg);

/**
 * Whether a write now costs a copy: a snapshot is open and the backend
 * keeps it by copy-on-write (heap). A caller about to remove many entries
 * it may as well remove later (a window leaving for good) reads them now
 * and removes them once this is false, rather than have every page copied.
 */
bool sl_state_writes_copy(const struct sl_state *st);

/* ---- snapshots and restore -------------------------------------------- */

/**
 * Begin a snapshot consistent as of this call. now is the processing time
 * used by cleanup_full_snapshot. One snapshot at a time (-EBUSY).
 */
int sl_state_snapshot_begin(struct sl_state *st, int64_t now,
			    struct sl_state_snap **snap);
/**
 * Next record, ascending by key group. A record's val is the stored form:
 * value/reducing/aggregating: [i64 expiry if TTL][val_len bytes];
 * list: the elements, each [u32 len][i64 expiry if TTL][len bytes];
 * map: one record per entry, [i64 expiry if TTL][value bytes].
 * Pointers stay valid until the next call. @return 1, 0 at the end, -errno.
 */
int sl_state_snapshot_next(struct sl_state_snap *snap,
			   struct sl_state_record *rec);

/** Receives one encoded chunk: records of one key group (see state.c). */
typedef int (*sl_state_chunk_fn)(void *arg, uint16_t kg, const void *buf,
				 size_t len);
/**
 * Encode records into chunks of at most chunk_max bytes (one key group
 * each; a big key group spans several) and pass them to fn, stopping once
 * budget bytes were emitted (0: no limit). @return 1 more to do, 0 done,
 * -errno (also fn's negative return).
 */
int sl_state_snapshot_write(struct sl_state_snap *snap, size_t chunk_max,
			    size_t budget, sl_state_chunk_fn fn, void *arg);
/** The descriptor table the chunks refer to. @return bytes, or needed. */
size_t sl_state_snapshot_meta(const struct sl_state_snap *snap, void *buf,
			      size_t cap);
/** End a snapshot on the worker thread; frees what copy-on-write kept. */
void sl_state_snapshot_end(struct sl_state *st, struct sl_state_snap *snap);

/**
 * Load one chunk, with the meta of the snapshot it came from. Records of
 * key groups outside [first_kg, last_kg] are skipped.
 * @return records loaded, or -errno (-EINVAL malformed or descriptor
 * mismatch, -ENOENT descriptor not registered).
 */
int sl_state_restore(struct sl_state *st, const void *meta, size_t meta_len,
		     const void *chunk, size_t len);

/* ---- native checkpoints (rocksdb) ------------------------------------- */

/**
 * Make the next sl_state_snapshot_begin() a native checkpoint into dir (a
 * path that must not exist; its parent must): rocksdb hard-links its live
 * SST files there (RocksDB's Checkpoint, the synchronous part of Flink's
 * incremental RocksDB snapshot), so an SST file that did not change since
 * the last checkpoint costs a link, not a copy. What the memtables hold is
 * either flushed to a new SST first (conf.wal off, as Flink does) or, with
 * conf.wal, in the write-ahead log, which is written out and copied. That
 * snapshot yields no records; sl_state_snapshot_dir() names the
 * directory, and sl_state_snapshot_meta() still describes the descriptors,
 * which a restore needs. It runs on the calling (worker) thread: the flush
 * or the log copy is the stall a native checkpoint costs. One-shot; NULL
 * cancels.
 * @return 0, -ENOTSUP (heap), -EBUSY (a snapshot is open).
 */
int sl_state_snapshot_native(struct sl_state *st, const char *dir);

/** The native checkpoint directory of snap, or NULL for a record snapshot. */
const char *sl_state_snapshot_dir(const struct sl_state_snap *snap);

/** sl_state_restore_native(): may take the checkpoint's files as its own. */
#define SL_STATE_NATIVE_ADOPT 1u

/**
 * Load the owned key groups of the native checkpoint in dir, which was
 * taken with meta. With SL_STATE_NATIVE_ADOPT, a rocksdb state that nothing
 * was loaded into yet and whose descriptor ids are the snapshot's takes the
 * checkpoint's files as its instance (SST files hard-linked, the rest
 * copied) and deletes the key groups it does not own: Flink's restore of
 * an incremental checkpoint from the one state handle that overlaps most.
 * Otherwise (heap, rescaled ranges, other ids) the entries of the owned
 * key groups are read from a read-only instance opened on dir and put as
 * sl_state_restore() puts them. dir is never written.
 * @return entries loaded (0 when adopted, with *adopted set), or -errno
 * (-EINVAL descriptor mismatch, -ENOENT descriptor not registered, -EIO).
 */
int sl_state_restore_native(struct sl_state *st, const void *meta, size_t meta_len,
			    const char *dir, unsigned int flags, bool *adopted);

/** rocksdb: flush memtables (to measure disk bytes); heap: nothing. */
int sl_state_flush(struct sl_state *st);
/**
 * Full TTL cleanup as of now (maintenance, tests): heap scans every table;
 * rocksdb compacts the whole key range, running the compaction filter.
 * Blocks for the whole pass: never on the hot path.
 */
int sl_state_compact(struct sl_state *st, int64_t now);
void sl_state_stats(struct sl_state *st, struct sl_state_stats *s);

/**
 * Fault injection for tests, as sl_fault_arm() is for checkpoint I/O: the
 * heap backend's allocation after after_n more that succeed fails, once,
 * as one at state.backend.heap.memory does; a negative after_n disarms.
 * Every path that allocates must then fail cleanly: -ENOMEM, the state as
 * it was, no memory lost. Not thread-safe: arm on the thread that
 * allocates, around the call under test.
 * @return what was left of the previous arming, -1 when it fired or none
 * was armed.
 */
long sl_state_heap_fault_arm(long after_n);

#endif /* SL_STATE_H */
