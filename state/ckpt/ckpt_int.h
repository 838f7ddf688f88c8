/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CKPT_INT_H
#define CKPT_INT_H

/* Internal to state/ckpt/: never include from outside this folder. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ckpt_likely(x) __builtin_expect(!!(x), 1)
#define ckpt_unlikely(x) __builtin_expect(!!(x), 0)

/* Little-endian field access; x86 and aarch64 compile these to plain
 * loads and stores, but the format stays defined on any host. */
static inline void
ckpt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
ckpt_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void
ckpt_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t
ckpt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
ckpt_get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline uint64_t
ckpt_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* snprintf into a caller buffer that may be NULL/0; returns -e so call
 * sites read `return ckpt_errf(err, n, -EBADMSG, "...")`. */
int ckpt_errf(char *err, size_t errlen, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

uint64_t ckpt_fnv1a64(const char *s);
uint64_t ckpt_now_ns(void);
uint64_t ckpt_mono_ns(void);

#endif /* CKPT_INT_H */
