/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Restart strategies, Flink's arithmetic: fixed-delay waits the same
 * delay before each of its attempts; exponential-delay waits
 * initial * multiplier^(n-1), capped at max-backoff. Pure functions, so
 * the unit tests pin every value.
 */
#include <errno.h>
#include <math.h>

#include "sld.h"

uint32_t
sld_restart_attempts(const struct sl_plan_restart *r)
{
	switch (r->type) {
	case SL_RESTART_FIXED_DELAY:
		return r->fixed_attempts;
	case SL_RESTART_EXPONENTIAL_DELAY:
		return r->exp_attempts;
	default:
		return 0;
	}
}

int
sld_restart_delay(const struct sl_plan_restart *r, uint32_t n,
		  int64_t *delay_ms)
{
	double d;

	if (n == 0 || n > sld_restart_attempts(r))
		return -ENOSPC;
	if (r->type == SL_RESTART_FIXED_DELAY) {
		*delay_ms = r->fixed_delay_ms;
		return 0;
	}
	/* In doubles, capped before converting: 2^1000000 must not overflow. */
	d = (double)r->exp_initial_ms * pow(r->exp_multiplier, (double)(n - 1));
	if (!isfinite(d) || d >= (double)r->exp_max_ms)
		*delay_ms = r->exp_max_ms;
	else
		*delay_ms = (int64_t)d;
	return 0;
}
