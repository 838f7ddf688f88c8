/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-ref-jitter: the platform's own latency floor. A thread pinned to
 * each given CPU reads the TSC in a tight loop, as a polling lcore does,
 * and records every gap between two reads into an HDR histogram: a gap
 * of microseconds is a timer interrupt, of milliseconds the hypervisor or
 * another task taking the CPU. Nothing sluice or DPDK does can be faster
 * than this; latency.sh prints it beside the latency sweep so that a
 * p99.9 of a millisecond can be read as the machine's, or not.
 *
 *   sluice-ref-jitter --cpus 0,1 [--seconds S]     one JSON line per CPU
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "sl_hdr.h"

#define MAX_CPUS 64

struct jit {
	int cpu;
	double seconds;
	double ns_per_tick;
	struct sl_hdr h;	/* gaps above the loop's own cost, ns */
	uint64_t over_10us, over_100us, over_1ms;
	double elapsed;
};

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
spin(void *arg)
{
	struct jit *j = arg;
	cpu_set_t set;
	double t0;
	uint64_t last, start;

	CPU_ZERO(&set);
	CPU_SET(j->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	t0 = mono_s();
	start = last = __rdtsc();
	for (uint64_t i = 0;; i++) {
		uint64_t now = __rdtsc(), gap_ns;

		gap_ns = (uint64_t)((double)(now - last) * j->ns_per_tick);
		last = now;
		if (gap_ns > 200) {	/* the loop itself takes tens of ns */
			sl_hdr_record(&j->h, gap_ns);
			j->over_10us += gap_ns > 10000;
			j->over_100us += gap_ns > 100000;
			j->over_1ms += gap_ns > 1000000;
		}
		if ((i & 0xfffff) == 0 && mono_s() - t0 >= j->seconds)
			break;
	}
	j->elapsed = (double)(__rdtsc() - start) * j->ns_per_tick / 1e9;
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cpus", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct jit *j;
	pthread_t th[MAX_CPUS];
	int cpus[MAX_CPUS], n = 0, c;
	double seconds = 2, t0, ns_per_tick;
	uint64_t c0;
	char *list = NULL, *tok, *save = NULL;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'c')
			list = optarg;
		else if (c == 's')
			seconds = atof(optarg);
		else
			goto usage;
	}
	if (list == NULL || seconds <= 0)
		goto usage;
	for (tok = strtok_r(list, ",", &save); tok && n < MAX_CPUS;
	     tok = strtok_r(NULL, ",", &save))
		cpus[n++] = atoi(tok);
	/* The TSC's rate, against the monotonic clock over 100 ms. */
	t0 = mono_s();
	c0 = __rdtsc();
	while (mono_s() - t0 < 0.1)
		;
	ns_per_tick = (mono_s() - t0) * 1e9 / (double)(__rdtsc() - c0);
	j = calloc((size_t)n, sizeof(*j));
	if (j == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		j[i].cpu = cpus[i];
		j[i].seconds = seconds;
		j[i].ns_per_tick = ns_per_tick;
		if (sl_hdr_init(&j[i].h, 1, 3600000000000ull, 3) < 0)
			return 1;
		pthread_create(&th[i], NULL, spin, &j[i]);
	}
	for (int i = 0; i < n; i++) {
		struct sl_hdr *h = &j[i].h;
		double s;

		pthread_join(th[i], NULL);
		s = j[i].elapsed > 0 ? j[i].elapsed : seconds;
		printf("{\"cpu\": %d, \"seconds\": %.3f, \"gaps_over_10us_per_s\": %.1f"
		       ", \"gaps_over_100us_per_s\": %.2f, \"gaps_over_1ms_per_s\": %.2f"
		       ", \"p99_gap_us\": %.2f, \"max_gap_us\": %.1f"
		       ", \"stolen_fraction\": %.5f}\n",
		       j[i].cpu, s, (double)j[i].over_10us / s,
		       (double)j[i].over_100us / s, (double)j[i].over_1ms / s,
		       (double)sl_hdr_value_at_percentile(h, 99) / 1e3,
		       (double)sl_hdr_max(h) / 1e3,
		       sl_hdr_mean(h) * (double)sl_hdr_total_count(h) / 1e9 / s);
		sl_hdr_fini(h);
	}
	free(j);
	return 0;
usage:
	fprintf(stderr, "usage: sluice-ref-jitter --cpus 0,1 [--seconds S]\n");
	return 2;
}
