/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hdr_bench [N]: time N (default 1e8) sl_hdr_record() calls into a 1 ns..1 h,
 * 3-digit histogram and print ns per record. Values are log-uniform and
 * drawn before the clock starts, from a table that fits L1, so the loop
 * times the record and not the generator.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sl_hdr.h"

#define BENCH_VALUES 4096

static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int
main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 100000000;
	static uint64_t vals[BENCH_VALUES];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct sl_hdr h;
	double t0, t1;

	if (sl_hdr_init(&h, 1, 3600000000000ull, 3) < 0)
		return 1;
	for (int i = 0; i < BENCH_VALUES; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* log-uniform over 1 ns .. 1 h */
		vals[i] = (uint64_t)exp((double)(x >> 11) / 9007199254740992.0 *
					log(3.6e12));
	}
	t0 = bench_now();
	for (uint64_t i = 0; i < n; i++)
		sl_hdr_record(&h, vals[i & (BENCH_VALUES - 1)]);
	t1 = bench_now();
	printf("%" PRIu64 " records: %.3f ns/record (p50 %" PRIu64 " ns, total %" PRIu64 ")\n",
	       n, (t1 - t0) * 1e9 / (double)n, sl_hdr_value_at_percentile(&h, 50),
	       sl_hdr_total_count(&h));
	sl_hdr_fini(&h);
	return 0;
}
