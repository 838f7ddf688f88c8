/* SPDX-License-Identifier: BSD-3-Clause */
#include "sl_table.h"

/*
 * Slots for n entries at 7/8 load. cap >= n * 8 / 7 + 1 and cap is a
 * power of two >= 16, so limit = cap - cap / 8 >= n + 1: a table set up
 * for n entries can always hold n live ones (sl_table_short_of()).
 */
static uint32_t
table_cap(uint32_t n)
{
	uint64_t want = (uint64_t)n * 8 / 7 + 1, cap = 16;

	while (cap < want)
		cap <<= 1;
	return (uint32_t)cap;
}

static uint32_t
table_stride(uint32_t key_len, uint32_t val_len, uint32_t *val_off)
{
	*val_off = (8 + key_len + 7) & ~7u;
	return (*val_off + val_len + 7) & ~7u;
}

size_t
sl_table_mem_size(uint32_t n, uint32_t key_len, uint32_t val_len)
{
	uint32_t off;

	return (size_t)table_cap(n) * table_stride(key_len, val_len, &off);
}

void
sl_table_init(struct sl_table *t, uint32_t n, uint32_t key_len,
	      uint32_t val_len, void *mem)
{
	t->cap = table_cap(n);
	t->mask = t->cap - 1;
	t->key_len = key_len;
	t->stride = table_stride(key_len, val_len, &t->val_off);
	t->limit = t->cap - t->cap / 8;
	t->slots = mem;
	sl_table_clear(t);
}

void
sl_table_clear(struct sl_table *t)
{
	memset(t->slots, 0, (size_t)t->cap * t->stride);
	t->used = 0;
	t->tombs = 0;
}
