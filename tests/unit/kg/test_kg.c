/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: key groups and their owners, checked against Flink's
 * KeyGroupRangeAssignment vector (semantics.md R5.4: Integer keys 0..7,
 * maxParallelism 128, parallelism 4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sl_kg.h"

static void
test_R5_4_key_group_mapping(void **state)
{
	static const struct { int32_t key; uint32_t murmur, group, subtask; } v[] = {
		{ 0, 593689054, 94, 2 }, { 1, 68075478, 86, 2 },
		{ 2, 1085422463, 127, 3 }, { 3, 847579505, 113, 3 },
		{ 4, 1889779975, 7, 0 }, { 5, 236698494, 126, 3 },
		{ 6, 975490194, 18, 0 }, { 7, 1343918321, 113, 3 },
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint32_t m = sl_kg_flink_murmur(v[i].key);

		assert_int_equal(m, v[i].murmur);
		assert_int_equal(sl_kg_of(m, 128), v[i].group);
		assert_int_equal(sl_kg_owner(v[i].group, 128, 4), v[i].subtask);
	}
}

static void
test_R5_4_ranges_partition_groups(void **state)
{
	(void)state;
	/* Every group is owned by exactly the worker whose range holds it. */
	for (uint32_t p = 1; p <= 7; p++) {
		uint32_t next = 0;

		for (uint32_t i = 0; i < p; i++) {
			uint32_t lo, hi;

			sl_kg_range(i, 128, p, &lo, &hi);
			assert_int_equal(lo, next);
			for (uint32_t g = lo; g <= hi; g++)
				assert_int_equal(sl_kg_owner(g, 128, p), i);
			next = hi + 1;
		}
		assert_int_equal(next, 128);
	}
}

static void
test_R5_4_ranges_exact(void **state)
{
	uint32_t lo, hi;

	(void)state;
	sl_kg_range(0, 128, 3, &lo, &hi);
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 42);
	sl_kg_range(1, 128, 3, &lo, &hi);
	assert_int_equal(lo, 43);
	assert_int_equal(hi, 85);
	sl_kg_range(2, 128, 3, &lo, &hi);
	assert_int_equal(lo, 86);
	assert_int_equal(hi, 127);
}

static void
test_hash_stable(void **state)
{
	uint64_t k = 42;

	(void)state;
	/* The hash is part of the checkpoint format: it must never change. */
	assert_int_equal(sl_kg_hash(&k, 8), sl_kg_hash(&k, 8));
	assert_int_equal(sl_kg_hash(&k, 8), 0x38df27c8u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_R5_4_key_group_mapping),
		cmocka_unit_test(test_R5_4_ranges_partition_groups),
		cmocka_unit_test(test_R5_4_ranges_exact),
		cmocka_unit_test(test_hash_stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
