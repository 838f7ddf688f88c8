/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: libFuzzer target for keyed-state chunks, the payload of a
 * checkpoint's keyed-state sections (sl_state_restore, state.c): any
 * bytes go to a heap state with a value, a list, a map, a TTL'd value
 * state and a TTL'd value state whose layout changed (its values come as
 * 16 bytes, the meta says, and are upgraded to 24 as they load), whose
 * descriptor table is the meta a snapshot of it writes. A
 * restore returns -errno or the records it loaded, never more than the
 * chunk's header claims; what it loaded must snapshot again. Any
 * property that fails traps, so libFuzzer reports it as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sl_state.h"

#define REGION (96u << 20)
#define MAXP 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sl_state *st;
static uint8_t meta[1024];
static size_t meta_len;
static unsigned int runs;

static int
count_chunk(void *arg, uint16_t kg, const void *buf, size_t len)
{
	(void)kg;
	(void)buf;
	*(size_t *)arg += len;
	return 0;
}

/* Drain a snapshot whole: what a restore loaded must encode again. */
static void
snapshot_all(void)
{
	struct sl_state_snap *sn;
	size_t bytes = 0;
	int rc;

	if (sl_state_snapshot_begin(st, 0, &sn) != 0)
		__builtin_trap();
	if (meta_len == 0) {
		meta_len = sl_state_snapshot_meta(sn, meta, sizeof(meta));
		if (meta_len == 0 || meta_len > sizeof(meta))
			__builtin_trap();
	}
	while ((rc = sl_state_snapshot_write(sn, 1u << 16, 0, count_chunk,
					     &bytes)) == 1)
		;
	if (rc != 0)
		__builtin_trap();
	sl_state_snapshot_end(st, sn);
}

/* an old value {a, b} is {b, a, a ^ b} now */
static void
upgrade(const void *old, void *val, void *ctx)
{
	uint64_t o[2], v[3];

	(void)ctx;
	memcpy(o, old, 16);
	v[0] = o[1];
	v[1] = o[0];
	v[2] = o[0] ^ o[1];
	memcpy(val, v, 24);
}

/* The meta names descriptor id's value length as old_len: its records
 * in the chunks are then of the older layout. */
static void
meta_set_old(uint16_t id, uint32_t old_len)
{
	size_t off = 8;

	for (uint16_t i = 0; i < id; i++) {
		uint16_t namel;

		memcpy(&namel, meta + off + 10, 2);
		off += 16u + namel;
	}
	if (off + 16 > meta_len)
		__builtin_trap();
	memcpy(meta + off + 12, &old_len, 4);
}

static void
setup(void)
{
	static const struct sl_state_desc d[] = {
		{ .name = "v", .kind = SL_STATE_VALUE, .key_len = 8,
		  .ns_len = 8, .val_len = 8 },
		{ .name = "l", .kind = SL_STATE_LIST, .key_len = 8, .ns_len = 8 },
		{ .name = "m", .kind = SL_STATE_MAP, .key_len = 8, .ns_len = 8,
		  .ukey_len = 4 },
		{ .name = "t", .kind = SL_STATE_VALUE, .key_len = 4, .ns_len = 0,
		  .val_len = 16, .ttl = { .ttl_ms = 1000 } },
		{ .name = "u", .kind = SL_STATE_VALUE, .key_len = 4, .ns_len = 0,
		  .val_len = 24, .ttl = { .ttl_ms = 1000 }, .old_val_len = 16,
		  .upgrade = upgrade },
	};
	void *mem = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct sl_state_conf c = {
		.backend = SL_STATE_BACKEND_HEAP, .max_parallelism = MAXP,
		.first_kg = 0, .last_kg = MAXP - 1, .mem = mem,
		.mem_len = REGION, .mem_limit = 8u << 20,
	};

	if (mem == MAP_FAILED || (st = sl_state_open(&c)) == NULL)
		__builtin_trap();
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (sl_state_register(st, &d[i]) != (int)i)
			__builtin_trap();
	snapshot_all();
	meta_set_old(4, 16);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t nrec = 0;
	int rc;

	if (st == NULL)
		setup();
	if (size >= 12)
		memcpy(&nrec, data + 8, 4);
	rc = sl_state_restore(st, meta, meta_len, data, size);
	if (rc > 0 && (uint32_t)rc > nrec)
		__builtin_trap();
	/* now and then, what is loaded goes out again (the memory limit
	 * bounds it; an insert past it is refused, not a crash) */
	if (rc > 0 && ++runs % 64 == 1)
		snapshot_all();
	return 0;
}
