/* SPDX-License-Identifier: BSD-3-Clause */
/* Description: restart-strategy arithmetic: the delay before restart n, and exhaustion. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sld.h"

static void
test_fixed(void **state)
{
	struct sl_plan_restart r;
	int64_t d = -1;

	(void)state;
	sl_plan_restart_defaults(&r);
	assert_int_equal(sld_restart_attempts(&r), 3);
	for (uint32_t n = 1; n <= 3; n++) {
		assert_int_equal(sld_restart_delay(&r, n, &d), 0);
		assert_int_equal(d, 1000);
	}
	assert_int_equal(sld_restart_delay(&r, 4, &d), -ENOSPC);
	assert_int_equal(sld_restart_delay(&r, 0, &d), -ENOSPC);
	r.fixed_attempts = 0;
	assert_int_equal(sld_restart_delay(&r, 1, &d), -ENOSPC);
	r.fixed_attempts = 1;
	r.fixed_delay_ms = 0;
	assert_int_equal(sld_restart_delay(&r, 1, &d), 0);
	assert_int_equal(d, 0);
}

static void
test_exponential(void **state)
{
	static const int64_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000,
					60000, 60000, 60000, 60000 };
	struct sl_plan_restart r;
	int64_t d;

	(void)state;
	sl_plan_restart_defaults(&r);
	r.type = SL_RESTART_EXPONENTIAL_DELAY;
	assert_int_equal(sld_restart_attempts(&r), 10);
	for (uint32_t n = 1; n <= 10; n++) {
		assert_int_equal(sld_restart_delay(&r, n, &d), 0);
		assert_int_equal(d, want[n - 1]);
	}
	assert_int_equal(sld_restart_delay(&r, 11, &d), -ENOSPC);

	/* Fractional multipliers truncate to ms; huge exponents cap, never overflow. */
	r.exp_initial_ms = 100;
	r.exp_max_ms = 1000;
	r.exp_multiplier = 1.5;
	r.exp_attempts = 1000000;
	assert_int_equal(sld_restart_delay(&r, 2, &d), 0);
	assert_int_equal(d, 150);
	assert_int_equal(sld_restart_delay(&r, 3, &d), 0);
	assert_int_equal(d, 225);
	assert_int_equal(sld_restart_delay(&r, 1000000, &d), 0);
	assert_int_equal(d, 1000);
}

static void
test_none(void **state)
{
	struct sl_plan_restart r;
	int64_t d;

	(void)state;
	sl_plan_restart_defaults(&r);
	r.type = SL_RESTART_NONE;
	assert_int_equal(sld_restart_attempts(&r), 0);
	assert_int_equal(sld_restart_delay(&r, 1, &d), -ENOSPC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_exponential),
		cmocka_unit_test(test_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
