/* SPDX-License-Identifier: BSD-3-Clause */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "sl_kg.h"

void
sl_kg_range(uint32_t i, uint32_t max_parallelism, uint32_t parallelism,
	    uint32_t *first, uint32_t *last)
{
	uint64_t maxp = max_parallelism, p = parallelism;

	*first = (uint32_t)((i * maxp + p - 1) / p);
	*last = (uint32_t)(((i + 1) * maxp - 1) / p);
}

uint32_t
sl_kg_hash(const void *key, uint32_t len)
{
	return (uint32_t)XXH3_64bits(key, len);
}

static inline uint32_t
rotl32(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

uint32_t
sl_kg_flink_murmur(int32_t code)
{
	uint32_t h = (uint32_t)code;
	int32_t s;

	h *= 0xcc9e2d51u;
	h = rotl32(h, 15);
	h *= 0x1b873593u;
	h = rotl32(0 ^ h, 13);	/* seed 0 */
	h = h * 5 + 0xe6546b64u;
	h ^= 4;			/* length in bytes */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	s = (int32_t)h;
	if (s >= 0)
		return (uint32_t)s;
	if (s == INT32_MIN)
		return 0;
	return (uint32_t)-s;
}
