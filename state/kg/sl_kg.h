/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_KG_H
#define SL_KG_H

/**
 * @file
 * Key groups, Flink's unit of rescaling (semantics.md R5.4): a key hashes to
 * one of max_parallelism key groups, and worker i of p owns the contiguous
 * range [ceil(i*maxP/p), floor(((i+1)*maxP - 1)/p)]. State is kept and
 * snapshotted per key group, so N workers can restore onto M. sluice hashes
 * keys with XXH3 over the key fields' row bytes (it has no Java hashCode);
 * the group -> worker mapping is Flink's exactly. EAL-free.
 */

#include <stdint.h>

#define SL_KG_DEFAULT_MAX_PARALLELISM 128
#define SL_KG_MAX_PARALLELISM 32768

/** Key group of a 32-bit key hash. */
static inline uint32_t
sl_kg_of(uint32_t hash, uint32_t max_parallelism)
{
	return hash % max_parallelism;
}

/** Worker (subtask) that owns key group kg: kg * p / maxP (Flink). */
static inline uint32_t
sl_kg_owner(uint32_t kg, uint32_t max_parallelism, uint32_t parallelism)
{
	return (uint32_t)((uint64_t)kg * parallelism / max_parallelism);
}

/** First and last key group owned by worker i of p (inclusive). */
void sl_kg_range(uint32_t i, uint32_t max_parallelism, uint32_t parallelism,
		 uint32_t *first, uint32_t *last);

/** 32-bit key hash of len bytes (XXH3, low 32 bits). */
uint32_t sl_kg_hash(const void *key, uint32_t len);

/**
 * Flink's MathUtils.murmurHash(int): Murmur3 one-block mix, made
 * non-negative. Provided so tests can check the key-group arithmetic
 * against Flink's own vector (R5.4) and for keys that must land in the
 * same group as in a Flink job.
 */
uint32_t sl_kg_flink_murmur(int32_t code);

#endif /* SL_KG_H */
