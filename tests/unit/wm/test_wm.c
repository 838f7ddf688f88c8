/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: watermark generation and combination, on the worked
 * examples of semantics.md section 1: W1.1 (bounded out-of-orderness),
 * W1.2 (two-channel valve with idleness and flush), W1.3 (idleness timing),
 * plus the per-partition minimum of R1.6, idleness of a source that never
 * sees a partition, and an idle partition that resumes (R1.6, R1.8).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sl_wm.h"

/* W1.1: B = 3000, a poll after every event. */
static void
test_w1_1_bounded_out_of_orderness(void **state)
{
	static const struct { int64_t ts; bool emit; int64_t wm; } steps[] = {
		{ 1000, true, -2001 }, { 5000, true, 1999 }, { 2000, false, 0 },
		{ 7000, true, 3999 }, { 4500, false, 0 },
	};
	struct sl_wm_mux m;
	struct sl_wm_out o;

	(void)state;
	sl_wm_mux_init(&m, 3000, 0);
	assert_int_equal(sl_wm_gen_candidate(&m.part[0].gen), SL_TS_MIN);
	sl_wm_mux_emit(&m, &o);
	assert_false(o.wm);	/* nothing seen: no watermark at all */
	for (unsigned int i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		sl_wm_mux_events(&m, 0, steps[i].ts, 1);
		sl_wm_mux_poll(&m, (int64_t)i, &o);
		assert_int_equal(o.wm, steps[i].emit);
		if (steps[i].emit)
			assert_int_equal(o.ts, steps[i].wm);
		assert_int_equal(o.status, 0);
	}
}

/* R1.6: the source's watermark is the minimum over its partitions. */
static void
test_partition_minimum(void **state)
{
	struct sl_wm_mux m;
	struct sl_wm_out o;

	(void)state;
	sl_wm_mux_init(&m, 0, 0);
	sl_wm_mux_events(&m, 0, 100, 1);
	sl_wm_mux_emit(&m, &o);
	assert_true(o.wm);
	assert_int_equal(o.ts, 99);
	sl_wm_mux_events(&m, 1, 50, 1);		/* a slower partition joins */
	sl_wm_mux_emit(&m, &o);
	assert_false(o.wm);			/* 49 < 99: never backwards */
	sl_wm_mux_events(&m, 0, 300, 1);
	sl_wm_mux_emit(&m, &o);
	assert_false(o.wm);			/* held back by partition 1 */
	sl_wm_mux_events(&m, 1, 200, 1);
	sl_wm_mux_emit(&m, &o);
	assert_true(o.wm);
	assert_int_equal(o.ts, 199);
}

/* W1.3: T = 10 ms, polls every 5 ms, last event at t = 4: idle at t = 25. */
static void
test_w1_3_idleness_timing(void **state)
{
	struct sl_wm_mux m;
	struct sl_wm_out o;

	(void)state;
	sl_wm_mux_init(&m, 0, 10);
	sl_wm_mux_events(&m, 0, 1000, 1);	/* the event at t = 4 */
	for (int64_t t = 5; t <= 20; t += 5) {
		sl_wm_mux_poll(&m, t, &o);
		assert_int_equal(o.status, 0);
	}
	sl_wm_mux_poll(&m, 25, &o);
	assert_int_equal(o.status, -1);
	assert_false(o.wm);
	sl_wm_mux_poll(&m, 30, &o);
	assert_int_equal(o.status, 0);		/* markIdle() only once */
	sl_wm_mux_events(&m, 0, 2000, 1);	/* events flow again */
	sl_wm_mux_poll(&m, 35, &o);
	assert_int_equal(o.status, +1);
	assert_true(o.wm);
	assert_int_equal(o.ts, 1999);
}

/* An idle partition stops holding the source's watermark back. */
static void
test_idle_partition_released(void **state)
{
	struct sl_wm_mux m;
	struct sl_wm_out o;

	(void)state;
	sl_wm_mux_init(&m, 0, 10);
	sl_wm_mux_events(&m, 0, 100, 1);
	sl_wm_mux_events(&m, 1, 500, 1);
	sl_wm_mux_poll(&m, 0, &o);
	assert_int_equal(o.ts, 99);
	sl_wm_mux_events(&m, 1, 600, 1);
	sl_wm_mux_poll(&m, 5, &o);		/* partition 0 quiet: countdown */
	assert_false(o.wm);
	sl_wm_mux_events(&m, 1, 700, 1);
	sl_wm_mux_poll(&m, 16, &o);		/* 16 - 5 > 10: partition 0 idle */
	assert_true(o.wm);
	assert_int_equal(o.ts, 699);
	assert_int_equal(o.status, 0);		/* the source itself is active */
}

/*
 * R1.8 for a source that never sees any partition (an RX queue RSS sends
 * nothing to): the countdown runs for the source as a whole from its first
 * quiet poll, W1.3's arithmetic. Without it the queue holds its workers'
 * watermark at MIN forever.
 */
static void
test_idle_without_partitions(void **state)
{
	struct sl_wm_mux m;
	struct sl_wm_out o;

	(void)state;
	sl_wm_mux_init(&m, 0, 10);
	/* t = 10 first quiet poll, countdown starts; 15, 20: 5, 10 (not > 10). */
	for (int64_t t = 10; t <= 20; t += 5) {
		sl_wm_mux_poll(&m, t, &o);
		assert_int_equal(o.status, 0);
		assert_false(o.wm);
	}
	sl_wm_mux_poll(&m, 25, &o);		/* 15 > 10: idle */
	assert_int_equal(o.status, -1);
	assert_false(o.wm);
	sl_wm_mux_poll(&m, 30, &o);
	assert_int_equal(o.status, 0);		/* markIdle() only once */
	sl_wm_mux_emit(&m, &o);
	assert_int_equal(o.status, 0);

	/* A partition appears: active again, with its watermark. */
	sl_wm_mux_events(&m, 3, 1000, 1);
	sl_wm_mux_emit(&m, &o);
	assert_int_equal(o.status, +1);
	assert_true(o.wm);
	assert_int_equal(o.ts, 999);

	/* Without idle_timeout nothing changes: no status, ever. */
	sl_wm_mux_init(&m, 0, 0);
	for (int64_t t = 0; t <= 1000; t += 5) {
		sl_wm_mux_poll(&m, t, &o);
		assert_int_equal(o.status, 0);
	}
}

/*
 * R1.6: a partition that emits becomes active at once, not at the next
 * periodic poll. In punctuated mode the other partition must not carry
 * the watermark past the resumed one in between.
 */
static void
test_idle_partition_resumes_at_once(void **state)
{
	struct sl_wm_mux m;
	struct sl_wm_out o;

	(void)state;
	sl_wm_mux_init(&m, 0, 10);
	sl_wm_mux_events(&m, 0, 100, 1);
	sl_wm_mux_events(&m, 1, 500, 1);
	sl_wm_mux_poll(&m, 0, &o);
	assert_true(o.wm);
	assert_int_equal(o.ts, 99);
	sl_wm_mux_events(&m, 1, 600, 1);
	sl_wm_mux_poll(&m, 5, &o);		/* partition 0 quiet: countdown */
	sl_wm_mux_events(&m, 1, 700, 1);
	sl_wm_mux_poll(&m, 16, &o);		/* partition 0 idle */
	assert_true(m.part[0].idle);
	assert_int_equal(o.ts, 699);

	/* Partition 0 resumes at 800, then partition 1 races ahead, each
	 * followed by a punctuated emit (no poll in between). */
	sl_wm_mux_events(&m, 0, 800, 1);
	assert_false(m.part[0].idle);
	assert_int_equal(m.part[0].quiet_since, SL_TS_MIN);
	sl_wm_mux_emit(&m, &o);
	assert_false(o.wm);			/* min(799, 699): no increase */
	assert_int_equal(o.status, 0);
	sl_wm_mux_events(&m, 1, 5000, 1);
	sl_wm_mux_emit(&m, &o);
	assert_true(o.wm);
	assert_int_equal(o.ts, 799);		/* held by partition 0, not 4999 */

	/* The next poll counts the events as activity (Flink's counter),
	 * so partition 0 is not declared idle early. */
	sl_wm_mux_poll(&m, 20, &o);
	assert_false(m.part[0].idle);
	assert_int_equal(m.part[0].quiet_since, SL_TS_MIN);
}

/* A source idle as a whole reports ACTIVE when one of its partitions resumes. */
static void
test_idle_source_resumes_active(void **state)
{
	struct sl_wm_mux m;
	struct sl_wm_out o;

	(void)state;
	sl_wm_mux_init(&m, 0, 10);
	sl_wm_mux_events(&m, 0, 100, 1);
	sl_wm_mux_poll(&m, 0, &o);
	sl_wm_mux_poll(&m, 5, &o);
	sl_wm_mux_poll(&m, 16, &o);
	assert_int_equal(o.status, -1);
	assert_true(m.idle_out);
	sl_wm_mux_events(&m, 0, 300, 1);
	sl_wm_mux_emit(&m, &o);
	assert_int_equal(o.status, +1);
	assert_true(o.wm);
	assert_int_equal(o.ts, 299);
}

struct vstep {
	char ch;		/* 'A' or 'B' */
	char kind;		/* 'W' watermark, 'I' idle, 'A' active */
	int64_t w;
	bool emit;
	int64_t out;
	int8_t status;
};

/* W1.2, the valve's expected output: WM(5) WM(10) WM(12) WM(15) WM(16) WM(20) IDLE. */
static void
test_w1_2_valve(void **state)
{
	static const struct vstep s[] = {
		{ 'A', 'W', 10, false, 0, 0 },
		{ 'B', 'W', 5, true, 5, 0 },
		{ 'B', 'W', 12, true, 10, 0 },
		{ 'A', 'W', 8, false, 0, 0 },
		{ 'A', 'I', 0, true, 12, 0 },
		{ 'B', 'W', 15, true, 15, 0 },
		{ 'A', 'A', 0, false, 0, 0 },
		{ 'A', 'W', 14, false, 0, 0 },
		{ 'A', 'W', 16, false, 0, 0 },
		{ 'B', 'W', 20, true, 16, 0 },
		{ 'B', 'I', 0, false, 0, 0 },
		{ 'A', 'I', 0, true, 20, -1 },
	};
	struct sl_wm_valve v;
	struct sl_wm_out o;

	(void)state;
	sl_wm_valve_init(&v, 2);
	for (unsigned int i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		uint16_t c = s[i].ch == 'A' ? 0 : 1;

		if (s[i].kind == 'W')
			sl_wm_valve_watermark(&v, c, s[i].w, &o);
		else
			sl_wm_valve_status(&v, c, s[i].kind == 'I', &o);
		assert_int_equal(o.wm, s[i].emit);
		if (s[i].emit)
			assert_int_equal(o.ts, s[i].out);
		assert_int_equal(o.status, s[i].status);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_w1_1_bounded_out_of_orderness),
		cmocka_unit_test(test_partition_minimum),
		cmocka_unit_test(test_w1_3_idleness_timing),
		cmocka_unit_test(test_idle_partition_released),
		cmocka_unit_test(test_idle_without_partitions),
		cmocka_unit_test(test_idle_partition_resumes_at_once),
		cmocka_unit_test(test_idle_source_resumes_active),
		cmocka_unit_test(test_w1_2_valve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
