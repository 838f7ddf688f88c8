/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN: crc32c (Castagnoli) for checkpoint files and manifests.
 *
 * The SSE4.2 CRC32 instruction does 8 bytes per instruction with a
 * 3-cycle latency and a throughput of one a cycle: one dependency chain
 * leaves two thirds of it idle. Long buffers run as three chains over
 * three adjacent blocks, joined by multiplying the first two by the
 * constant x^(8 * block bytes) mod P (crc_shift): about three times the
 * speed, which matters because the main lcore checksums every byte of a
 * checkpoint (320 MB a second at 10M keys). The same algebra gives
 * sl_ckpt_crc32c_combine(), so a file's crc is made from its sections'
 * without reading them twice. The table version exists for CPUs without
 * SSE4.2 and as the reference the tests compare against. The choice is
 * made once (on first use) from CPUID, not per call site, so one binary
 * runs on both.
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

/*
 * GF(2) polynomials mod P in the reflected bit order: bit 31 is x^0.
 * a * b mod P, by shift and add.
 */
static uint32_t
crc_mulmod(uint32_t a, uint32_t b)
{
	uint32_t m = 1u << 31, p = 0;

	for (;;) {
		if (a & m) {
			p ^= b;
			if ((a & (m - 1)) == 0)
				break;
		}
		m >>= 1;
		b = b & 1 ? (b >> 1) ^ CRC32C_POLY : b >> 1;
	}
	return p;
}

/* x^(2^k) mod P for every k a 64-bit byte count needs (3 + 64). */
#define CRC_X2K 68
static uint32_t crc_x2k[CRC_X2K];

/* x^(8 * n) mod P. */
static uint32_t
crc_x8n(uint64_t n)
{
	uint32_t p = 1u << 31;	/* x^0 */
	unsigned int k = 3;	/* 8 n = n << 3 */

	while (n != 0) {
		if (n & 1)
			p = crc_mulmod(crc_x2k[k], p);
		n >>= 1;
		k++;
	}
	return p;
}

#define CRC_BLOCK 8192u		/* one chain's bytes per round of three */
static uint32_t crc_k1, crc_k2;	/* x^(8 * CRC_BLOCK), x^(16 * CRC_BLOCK) mod P */

/* Build the tables before main: no lazy-init race between threads. */
__attribute__((constructor)) static void
crc_ctor(void)
{
	uint32_t p = 1u << 30;	/* x^1 */

	crc_table_init();
	for (int k = 0; k < CRC_X2K; k++) {
		crc_x2k[k] = p;
		p = crc_mulmod(p, p);
	}
	crc_k1 = crc_x8n(CRC_BLOCK);
	crc_k2 = crc_x8n(2 * (uint64_t)CRC_BLOCK);
}

uint32_t
sl_ckpt_crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2)
{
	return crc_mulmod(crc_x8n(len2), crc1) ^ crc2;
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
	/* The register is linear in the data: crc(c, A||B||C) is
	 * c's run over A shifted past B and C, xor B's run from 0 shifted
	 * past C, xor C's run from 0. */
	while (len >= 3 * (size_t)CRC_BLOCK) {
		uint64_t c1 = 0, c2 = 0;

		for (size_t i = 0; i < CRC_BLOCK; i += 8) {
			uint64_t a, b, d;

			memcpy(&a, p + i, 8);
			memcpy(&b, p + CRC_BLOCK + i, 8);
			memcpy(&d, p + 2 * CRC_BLOCK + i, 8);
			c = _mm_crc32_u64(c, a);
			c1 = _mm_crc32_u64(c1, b);
			c2 = _mm_crc32_u64(c2, d);
		}
		c = crc_mulmod(crc_k2, (uint32_t)c) ^
			crc_mulmod(crc_k1, (uint32_t)c1) ^ (uint32_t)c2;
		p += 3 * (size_t)CRC_BLOCK;
		len -= 3 * (size_t)CRC_BLOCK;
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
