/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN: crc32c (Castagnoli) for checkpoint files and manifests.
 *
 * The SSE4.2 CRC32 instruction does 8 bytes per instruction (3-cycle
 * latency, so about 8 GB/s in one dependency chain), which keeps the
 * main lcore's cost per checkpoint byte far below the disk's. The table
 * version exists for CPUs without SSE4.2 and as the reference the tests
 * compare against. The choice is made once (on first use) from CPUID, not
 * per call site, so one binary runs on both.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#include "sl_ckpt.h"
#include "ckpt_int.h"

#define CRC32C_POLY 0x82F63B78u	/* reflected 0x1EDC6F41 */

static uint32_t crc_table[256];
static bool crc_table_ready;

static void
crc_table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc_table[i] = c;
	}
	crc_table_ready = true;
}

/* Build the table before main: no lazy-init race between threads. */
__attribute__((constructor)) static void
crc_ctor(void)
{
	crc_table_init();
}

uint32_t
sl_ckpt_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!crc_table_ready)
		crc_table_init();
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t c = ~crc;

	/* Align to 8 so the 64-bit loads never split a cache line. */
	while (len && ((uintptr_t)p & 7)) {
		c = _mm_crc32_u8((uint32_t)c, *p++);
		len--;
	}
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = _mm_crc32_u64(c, v);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}
#endif

bool
sl_ckpt_crc32c_hw(void)
{
#if defined(__x86_64__)
	return __builtin_cpu_supports("sse4.2");
#else
	return false;
#endif
}

uint32_t
sl_ckpt_crc32c(uint32_t crc, const void *buf, size_t len)
{
#if defined(__x86_64__)
	static int hw = -1;

	if (ckpt_unlikely(hw < 0))
		hw = sl_ckpt_crc32c_hw();	/* idempotent: a race writes the same value */
	if (ckpt_likely(hw))
		return crc32c_hw(crc, buf, len);
#endif
	return sl_ckpt_crc32c_sw(crc, buf, len);
}
