/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: barrier alignment (semantics.md R6.2, R6.3) on worked
 * example W6.1: a two-channel counter, aligned (exactly-once) and
 * at-least-once, including the replay after a crash; plus abandoned and
 * late barriers and channels that end during alignment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sl_align.h"

/* One arrival at the operator: a record or a barrier on channel A or B. */
struct ev {
	char ch;		/* 'A' or 'B' */
	char what;		/* 'r' record, 'b' barrier 1 */
};

/* W6.1: a1, b1, a2, A:B1, a3, B:B1, b2. */
static const struct ev w6_1[] = {
	{ 'A', 'r' }, { 'B', 'r' }, { 'A', 'r' }, { 'A', 'b' },
	{ 'A', 'r' }, { 'B', 'b' }, { 'B', 'r' },
};

/*
 * Run the counter. Returns the final count; *snap gets the count in the
 * snapshot, *replay the records each channel replays after a crash right
 * at the end (those after its barrier position).
 */
static int
run(enum sl_align_mode mode, int *snap, int *replay)
{
	struct sl_align a;
	int count = 0, buffered[2] = { 0, 0 }, after[2] = { 0, 0 };
	int barrier_seen[2] = { 0, 0 };

	sl_align_init(&a, 2, mode);
	*snap = -1;
	for (unsigned int i = 0; i < sizeof(w6_1) / sizeof(w6_1[0]); i++) {
		uint16_t c = w6_1[i].ch == 'A' ? 0 : 1;

		if (w6_1[i].what == 'b') {
			barrier_seen[c] = 1;
			if (sl_align_barrier(&a, c, 1) == 1) {
				*snap = count;
				/* Unblocked: buffered records are processed now. */
				count += buffered[0] + buffered[1];
				buffered[0] = buffered[1] = 0;
			}
			continue;
		}
		if (barrier_seen[c])
			after[c]++;	/* the source replays it after a restore */
		if (sl_align_readable(&a, c))
			count++;
		else
			buffered[c]++;
	}
	*replay = after[0] + after[1];
	return count;
}

static void
test_w6_1_aligned(void **state)
{
	int snap, replay, final = run(SL_ALIGN_EXACTLY_ONCE, &snap, &replay);

	(void)state;
	assert_int_equal(snap, 3);		/* a1, b1, a2 */
	assert_int_equal(final, 5);
	assert_int_equal(snap + replay, 5);	/* restore 3, replay a3 b2: correct */
}

static void
test_w6_1_at_least_once(void **state)
{
	int snap, replay, final = run(SL_ALIGN_AT_LEAST_ONCE, &snap, &replay);

	(void)state;
	assert_int_equal(snap, 4);		/* a3 got in before B's barrier */
	assert_int_equal(final, 5);
	assert_int_equal(snap + replay, 6);	/* a3 counted twice */
}

static void
test_newer_barrier_abandons(void **state)
{
	struct sl_align a;

	(void)state;
	sl_align_init(&a, 3, SL_ALIGN_EXACTLY_ONCE);
	assert_int_equal(sl_align_barrier(&a, 0, 1), 0);
	assert_false(sl_align_readable(&a, 0));
	assert_int_equal(sl_align_barrier(&a, 1, 2), 0);	/* 2 overtakes 1 */
	assert_int_equal(a.abandoned, 1);
	assert_true(sl_align_readable(&a, 0));		/* 1's blocks are lifted */
	assert_false(sl_align_readable(&a, 1));
	assert_int_equal(sl_align_barrier(&a, 0, 1), 0);	/* stale: ignored */
	assert_true(sl_align_readable(&a, 0));
	assert_int_equal(sl_align_barrier(&a, 0, 2), 0);
	assert_int_equal(sl_align_barrier(&a, 2, 2), 2);
	for (uint16_t c = 0; c < 3; c++)
		assert_true(sl_align_readable(&a, c));
	assert_int_equal(sl_align_barrier(&a, 1, 2), 0);	/* late copy of a done one */
}

static void
test_finished_channel(void **state)
{
	struct sl_align a;

	(void)state;
	sl_align_init(&a, 2, SL_ALIGN_EXACTLY_ONCE);
	assert_int_equal(sl_align_barrier(&a, 0, 7), 0);
	assert_int_equal(sl_align_finished(&a, 1), 7);	/* ended: counts as arrived */
	assert_true(sl_align_readable(&a, 0));
	assert_int_equal(sl_align_barrier(&a, 0, 8), 8);	/* alone from now on */
	sl_align_init(&a, 1, SL_ALIGN_EXACTLY_ONCE);
	assert_int_equal(sl_align_barrier(&a, 0, 1), 1);	/* one input: no wait */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_w6_1_aligned),
		cmocka_unit_test(test_w6_1_at_least_once),
		cmocka_unit_test(test_newer_barrier_abandons),
		cmocka_unit_test(test_finished_channel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
