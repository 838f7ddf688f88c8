/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: barrier alignment (semantics.md R6.2, R6.3) on worked
 * example W6.1: a two-channel counter, aligned (exactly-once) and
 * at-least-once, including the replay after a crash; plus abandoned and
 * late barriers and channels that end during alignment; unaligned mode
 * (W6.1's third case) with its channel state, started by a barrier or by
 * the trigger.
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
run_events(enum sl_align_mode mode, const struct ev *evs, unsigned int n_ev,
	   int *snap, int *replay, int *in_flight)
{
	struct sl_align a;
	int count = 0, buffered[2] = { 0, 0 }, after[2] = { 0, 0 };
	int barrier_seen[2] = { 0, 0 };

	sl_align_init(&a, 2, mode);
	*snap = -1;
	*in_flight = 0;
	for (unsigned int i = 0; i < n_ev; i++) {
		uint16_t c = evs[i].ch == 'A' ? 0 : 1;

		if (evs[i].what == 't') {
			/* The trigger reaches the operator before any barrier. */
			if (sl_align_trigger(&a, 1) == 1)
				*snap = count;
			continue;
		}
		if (evs[i].what == 'b') {
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
		if (sl_align_in_flight(&a, c))
			(*in_flight)++;	/* persisted as channel state */
		if (sl_align_readable(&a, c))
			count++;
		else
			buffered[c]++;
	}
	*replay = after[0] + after[1];
	assert_int_equal(a.pending, 0);		/* every checkpoint completed */
	assert_int_equal(a.last_done, 1);
	return count;
}

static int
run(enum sl_align_mode mode, int *snap, int *replay)
{
	int in_flight, count = run_events(mode, w6_1, sizeof(w6_1) / sizeof(w6_1[0]),
					  snap, replay, &in_flight);

	if (mode != SL_ALIGN_UNALIGNED)
		assert_int_equal(in_flight, 0);
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

/* W6.1, unaligned: the snapshot is taken at A:B1 with count 3; B delivers
 * nothing before B:B1, so the channel state is empty. */
static void
test_w6_1_unaligned(void **state)
{
	int snap, replay, in_flight;
	int final = run_events(SL_ALIGN_UNALIGNED, w6_1, sizeof(w6_1) / sizeof(w6_1[0]),
			       &snap, &replay, &in_flight);

	(void)state;
	assert_int_equal(snap, 3);
	assert_int_equal(in_flight, 0);
	assert_int_equal(final, 5);
	assert_int_equal(snap + in_flight + replay, 5);
}

/* B lags: b2 and b3 arrive after A:B1 but before B:B1. They are counted at
 * once (B is never blocked) and kept as channel state, so a restore of
 * snapshot + channel state + the sources' replay counts each record once. */
static void
test_unaligned_in_flight(void **state)
{
	static const struct ev lag[] = {
		{ 'A', 'r' }, { 'B', 'r' }, { 'A', 'b' }, { 'A', 'r' },
		{ 'B', 'r' }, { 'B', 'r' }, { 'B', 'b' }, { 'B', 'r' },
	};
	int snap, replay, in_flight;
	int final = run_events(SL_ALIGN_UNALIGNED, lag, 8, &snap, &replay, &in_flight);

	(void)state;
	assert_int_equal(snap, 2);		/* a1, b1 */
	assert_int_equal(in_flight, 2);		/* b2, b3 */
	assert_int_equal(replay, 2);		/* a2 after A's barrier, b4 after B's */
	assert_int_equal(final, 6);
	assert_int_equal(snap + in_flight + replay, 6);
}

/* The trigger overtakes both queues: the snapshot holds a1 only; a2 (before
 * A:B1) and b1 (before B:B1) are in flight. */
static void
test_unaligned_trigger_first(void **state)
{
	static const struct ev trig[] = {
		{ 'A', 'r' }, { 'X', 't' }, { 'A', 'r' }, { 'B', 'r' },
		{ 'A', 'b' }, { 'A', 'r' }, { 'B', 'b' },
	};
	struct sl_align a;
	int snap, replay, in_flight;
	int final = run_events(SL_ALIGN_UNALIGNED, trig, 7, &snap, &replay, &in_flight);

	(void)state;
	assert_int_equal(snap, 1);
	assert_int_equal(in_flight, 2);
	assert_int_equal(replay, 1);		/* a3 */
	assert_int_equal(final, 4);
	assert_int_equal(snap + in_flight + replay, 4);
	/* The trigger does nothing in the other modes, or twice. */
	sl_align_init(&a, 2, SL_ALIGN_EXACTLY_ONCE);
	assert_int_equal(sl_align_trigger(&a, 1), 0);
	sl_align_init(&a, 2, SL_ALIGN_UNALIGNED);
	assert_int_equal(sl_align_trigger(&a, 1), 1);
	assert_int_equal(sl_align_trigger(&a, 1), 0);
	assert_int_equal(sl_align_barrier(&a, 0, 1), 0);	/* already snapshotted */
	assert_int_equal(sl_align_finished(&a, 1), 0);		/* completes it, no snapshot */
	assert_int_equal(a.last_done, 1);
	assert_int_equal(sl_align_barrier(&a, 0, 2), 2);	/* B ended: alone */
	assert_int_equal(a.last_done, 2);
	assert_false(sl_align_in_flight(&a, 1));
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
		cmocka_unit_test(test_w6_1_unaligned),
		cmocka_unit_test(test_unaligned_in_flight),
		cmocka_unit_test(test_unaligned_trigger_first),
		cmocka_unit_test(test_newer_barrier_abandons),
		cmocka_unit_test(test_finished_channel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
