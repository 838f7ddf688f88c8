/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_TABLE_H
#define SL_TABLE_H

/**
 * @file
 * An open-addressing hash table of fixed-size keys and values in one flat
 * array, with linear probing and tombstones. It never allocates after
 * sl_table_init(): callers give it memory (hugepage-backed on a worker
 * lcore, malloc in tests), so inserts on the hot path cost no allocation,
 * and sl_table_prefetch() lets a vector loop hide the cache miss of each
 * probe behind the work on earlier rows. Single writer. EAL-free.
 *
 * Each entry: u32 tag (0 empty, 1 tombstone, else hash | 1<<31), u32 aux
 * (free for the owner, e.g. a list link), key, value (8-byte aligned).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SL_TABLE_EMPTY 0u
#define SL_TABLE_TOMB 1u
#define SL_TABLE_NIL UINT32_MAX

struct sl_table {
	uint32_t cap;		/**< slots, a power of two */
	uint32_t mask;
	uint32_t key_len;
	uint32_t val_off;	/**< value offset in an entry */
	uint32_t stride;	/**< entry size */
	uint32_t used;		/**< live entries */
	uint32_t tombs;
	uint32_t limit;		/**< used + tombs may not exceed this (7/8 load) */
	uint8_t *slots;
};

/** Memory sl_table_init() needs for at least n entries at 7/8 load. */
size_t sl_table_mem_size(uint32_t n, uint32_t key_len, uint32_t val_len);

/** Set up a table over mem (sl_table_mem_size() bytes, any alignment >= 8). */
void sl_table_init(struct sl_table *t, uint32_t n, uint32_t key_len,
		   uint32_t val_len, void *mem);

void sl_table_clear(struct sl_table *t);

static inline uint32_t
sl_table_tag(uint32_t hash)
{
	return hash | 0x80000000u;
}

static inline uint8_t *
sl_table_entry(const struct sl_table *t, uint32_t idx)
{
	return t->slots + (size_t)idx * t->stride;
}

static inline uint32_t
sl_table_index(const struct sl_table *t, const uint8_t *e)
{
	return (uint32_t)((size_t)(e - t->slots) / t->stride);
}

static inline uint32_t *
sl_table_aux(uint8_t *e)
{
	return (uint32_t *)(void *)(e + 4);
}

static inline uint8_t *
sl_table_key(uint8_t *e)
{
	return e + 8;
}

static inline uint8_t *
sl_table_val(const struct sl_table *t, uint8_t *e)
{
	return e + t->val_off;
}

static inline void
sl_table_prefetch(const struct sl_table *t, uint32_t hash)
{
	__builtin_prefetch(sl_table_entry(t, hash & t->mask), 1, 3);
}

/**
 * Find the entry of key, or insert it (tag and key set, value zeroed).
 * @return the entry, or NULL when the table is full; *created says which.
 */
static inline uint8_t *
sl_table_upsert(struct sl_table *t, uint32_t hash, const void *key,
		bool *created)
{
	uint32_t tag = sl_table_tag(hash), idx = hash & t->mask;
	uint8_t *tomb = NULL;

	for (;;) {
		uint8_t *e = sl_table_entry(t, idx);
		uint32_t et;

		memcpy(&et, e, 4);
		if (et == tag && memcmp(e + 8, key, t->key_len) == 0) {
			*created = false;
			return e;
		}
		if (et == SL_TABLE_EMPTY) {
			if (tomb != NULL) {
				e = tomb;
				t->tombs--;
			} else if (t->used + t->tombs >= t->limit) {
				return NULL;
			}
			memcpy(e, &tag, 4);
			memset(e + 4, 0xff, 4);
			memcpy(e + 8, key, t->key_len);
			memset(e + t->val_off, 0, t->stride - t->val_off);
			t->used++;
			*created = true;
			return e;
		}
		if (et == SL_TABLE_TOMB && tomb == NULL)
			tomb = e;
		idx = (idx + 1) & t->mask;
	}
}

/**
 * Whether n live entries might not fit without a rehash. An insert fails
 * once used + tombs reaches limit, and it reuses a tombstone only when its
 * probe meets one before an empty slot, so tombstones count as taken
 * until a rehash clears them. A table set up for n entries has
 * limit > n (table_cap()), so once this is false it accepts up to n live
 * entries, whatever was removed before.
 */
static inline bool
sl_table_short_of(const struct sl_table *t, uint32_t n)
{
	uint64_t live = t->used > n ? t->used : n;

	return live + t->tombs > t->limit;
}

/** Remove an entry returned by sl_table_upsert(). */
static inline void
sl_table_remove(struct sl_table *t, uint8_t *e)
{
	uint32_t tomb = SL_TABLE_TOMB;

	memcpy(e, &tomb, 4);
	t->used--;
	t->tombs++;
}

/** Hash of an entry (for rehashing), valid for live entries. */
static inline uint32_t
sl_table_entry_hash(const uint8_t *e)
{
	uint32_t tag;

	memcpy(&tag, e, 4);
	return tag & 0x7fffffffu;
}

#endif /* SL_TABLE_H */
