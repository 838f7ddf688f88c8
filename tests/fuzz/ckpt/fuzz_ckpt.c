/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: libFuzzer target for checkpoint files and manifests.
 * The first byte picks a mode:
 *   0 raw: the rest is a snapshot file for sl_ckpt_reader_open() (then
 *     iterated whole and with a key-group filter) and, as well, a manifest
 *     for sl_ckpt_manifest_decode();
 *   1 manifest body: the crc32c member is appended, so the fuzzer gets
 *     past the crc into the JSON checks; a manifest that decodes must
 *     encode and decode to the same struct;
 *   2 builder program: the rest drives the builder (kinds, key groups,
 *     payload lengths); the result must read back section for section,
 *     and flipping the bit named by the first bytes must be rejected.
 * Any property that fails traps, so libFuzzer reports it as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
read_all(const uint8_t *p, size_t n)
{
	struct sl_ckpt_reader rd;
	struct sl_ckpt_section s;
	struct sl_ckpt_file_info info;
	char err[256];
	uint64_t sum = 0;

	if (sl_ckpt_reader_open(&rd, p, n, &info, err, sizeof(err)) < 0)
		return;
	while (sl_ckpt_reader_next(&rd, &s) == 1) {
		if (s.offset + s.len > n)
			__builtin_trap();
		if (s.len)
			sum += ((const uint8_t *)s.data)[s.len - 1];
	}
	sl_ckpt_reader_open(&rd, p, n, NULL, err, sizeof(err));
	sl_ckpt_reader_kg(&rd, 3, 70);
	while (sl_ckpt_reader_next(&rd, &s) == 1)
		if (s.kind == SL_CKPT_SEC_KEYED && (s.key_group < 3 || s.key_group > 70))
			__builtin_trap();
	(void)sum;
}

static void
manifest_raw(const uint8_t *p, size_t n)
{
	static struct sl_ckpt_manifest m;
	char err[256];

	sl_ckpt_manifest_decode(p, n, &m, err, sizeof(err));
}

static void
manifest_body(const uint8_t *p, size_t n)
{
	static struct sl_ckpt_manifest m, m2;
	char *buf = malloc(n + 32), *enc;
	size_t elen;
	char err[256];

	if (buf == NULL)
		return;
	memcpy(buf, p, n);
	/* Same suffix the encoder writes: ,"crc32c":"xxxxxxxx"}\n */
	snprintf(buf + n, 32, ",\"crc32c\":\"%08x\"}\n", sl_ckpt_crc32c(0, p, n));
	if (sl_ckpt_manifest_decode(buf, n + 22, &m, err, sizeof(err)) == 0) {
		if (sl_ckpt_manifest_encode(&m, &enc, &elen) != 0)
			__builtin_trap();
		if (sl_ckpt_manifest_decode(enc, elen, &m2, err, sizeof(err)) != 0 ||
		    memcmp(&m, &m2, sizeof(m)) != 0)
			__builtin_trap();
		free(enc);
	}
	free(buf);
}

static void
builder_program(const uint8_t *p, size_t n)
{
	static const uint8_t fill[4096];
	struct sl_ckpt_file_info info = {
		.ckpt_id = 1, .job = "fuzz", .task_kind = SL_CKPT_TASK_WORKER,
		.max_parallelism = 128, .parallelism = 1,
	};
	struct sl_ckpt_builder b;
	struct sl_ckpt_reader rd;
	struct sl_ckpt_section s;
	const void *out;
	size_t len, flip;
	uint32_t n_sec = 0;
	uint8_t *copy;
	char err[256];

	if (n < 2)
		return;
	flip = (size_t)p[0] << 8 | p[1];
	p += 2;
	n -= 2;
	if (sl_ckpt_builder_init(&b, NULL, 0, &info) != 0)
		return;
	/* Each op is 3 bytes: kind, key group, payload length / 16. */
	for (size_t i = 0; i + 3 <= n && n_sec < 200; i += 3) {
		unsigned int kind = 1 + p[i] % 5;
		uint32_t kg = kind == SL_CKPT_SEC_KEYED ? p[i + 1] % 128 : SL_CKPT_NO_KG;
		size_t plen = (size_t)p[i + 2] * 16 % sizeof(fill);

		if (sl_ckpt_builder_add(&b, (enum sl_ckpt_sec_kind)kind, p[i + 1], kg,
					fill, plen) != 0)
			__builtin_trap();
		n_sec++;
	}
	if (sl_ckpt_builder_finish(&b, &out, &len, &info) != 0)
		__builtin_trap();
	if (sl_ckpt_reader_open(&rd, out, len, NULL, err, sizeof(err)) != 0)
		__builtin_trap();
	for (uint32_t i = 0; i < n_sec; i++)
		if (sl_ckpt_reader_next(&rd, &s) != 1 || s.index != i)
			__builtin_trap();
	if (sl_ckpt_reader_next(&rd, &s) != 0)
		__builtin_trap();
	copy = malloc(len);
	if (copy != NULL) {
		memcpy(copy, out, len);
		copy[(flip >> 3) % len] ^= (uint8_t)(1u << (flip & 7));
		if (sl_ckpt_reader_open(&rd, copy, len, NULL, err, sizeof(err)) == 0)
			__builtin_trap();
		free(copy);
	}
	sl_ckpt_builder_fini(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		read_all(data + 1, size - 1);
		manifest_raw(data + 1, size - 1);
		break;
	case 1:
		manifest_body(data + 1, size - 1);
		break;
	default:
		builder_program(data + 1, size - 1);
		break;
	}
	return 0;
}
