/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_hdr.h"

/* Room for any finite double in fixed notation with <= 12 decimals. */
#define HDR_NUM_LEN 352

/*
 * %.*f as Java's Formatter prints it, which is what HdrHistogram's tables
 * are: Java rounds the shortest decimal that reads back as x half up,
 * where printf rounds x's exact binary value to even. They differ on ties
 * (0.9997802734375 is ...438 in Java, ...437 in printf), and such ties
 * are common in the Percentile column. x must be finite.
 */
static const char *
hdr_fmt(char *out, double x, int decimals)
{
	char e[40], dig[24];
	int nd = 0, exp10, top, o = 0, carry;
	char fixed[HDR_NUM_LEN];
	const char *c;

	/* The shortest %.Ne that round-trips. */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, x);
		if (strtod(e, NULL) == x)
			break;
	}
	c = e;
	if (*c == '-') {
		out[o++] = '-';
		c++;
	}
	for (; *c != 'e'; c++)
		if (*c >= '0' && *c <= '9')
			dig[nd++] = *c;
	exp10 = atoi(c + 1);	/* dig[0] is the 10^exp10 digit */

	/* Digits from 10^top down to 10^-decimals, then round half up. */
	top = exp10 > 0 ? exp10 : 0;
	if (top + decimals + 2 > (int)sizeof(fixed))
		top = (int)sizeof(fixed) - decimals - 2;	/* not for finite x */
	for (int p = top, k = 0; p >= -decimals; p--, k++) {
		int i = exp10 - p;

		fixed[k] = i >= 0 && i < nd ? dig[i] : '0';
	}
	carry = exp10 + decimals + 1 >= 0 && exp10 + decimals + 1 < nd &&
		dig[exp10 + decimals + 1] >= '5';
	for (int k = top + decimals; k >= 0 && carry; k--) {
		carry = fixed[k] == '9';
		fixed[k] = carry ? '0' : (char)(fixed[k] + 1);
	}
	if (carry)
		out[o++] = '1';
	for (int k = 0; k <= top + decimals; k++) {
		if (k == top + 1)
			out[o++] = '.';
		out[o++] = fixed[k];
	}
	/* A leading '-' on a value that rounded to zero stays, as in Java. */
	out[o] = '\0';
	return out;
}

/* HdrHistogram prints the max as its slot's highest equivalent. */
static double
hdr_out_max(const struct sl_hdr *h)
{
	return h->max == 0 ? 0 : (double)sl_hdr_highest_equivalent(h, h->max);
}

/* Both forms come from one walk; only the row formats differ. */
static int
hdr_out_table(const struct sl_hdr *h, FILE *f, uint32_t ticks_per_half,
	      double unit_ratio, bool csv)
{
	int digits = h->sigfigs;
	struct sl_hdr_iter it;
	int rc = 0;

	if (!(unit_ratio > 0) || sl_hdr_iter_percentile_init(&it, h, ticks_per_half) < 0)
		return -EINVAL;
	if (csv)
		rc |= fprintf(f, "\"Value\",\"Percentile\",\"TotalCount\",\"1/(1-Percentile)\"\n");
	else
		rc |= fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile",
			      "TotalCount", "1/(1-Percentile)");
	while (sl_hdr_iter_next(&it)) {
		char v[HDR_NUM_LEN], q[HDR_NUM_LEN], r[HDR_NUM_LEN];
		double lvl = it.level / 100.0;

		hdr_fmt(v, (double)it.value / unit_ratio, digits);
		hdr_fmt(q, lvl, 12);
		/* 1/(1-p) is infinite on the last row: left out, as upstream. */
		if (it.level != 100.0)
			rc |= fprintf(f, csv ? "%s,%s,%" PRIu64 ",%s\n" :
					       "%12s %2s %10" PRIu64 " %14s\n",
				      v, q, it.cum_count, hdr_fmt(r, 1.0 / (1.0 - lvl), 2));
		else
			rc |= fprintf(f, csv ? "%s,%s,%" PRIu64 ",Infinity\n" :
					       "%12s %2s %10" PRIu64 "\n",
				      v, q, it.cum_count);
	}
	if (!csv) {
		char m[HDR_NUM_LEN], sd[HDR_NUM_LEN], mx[HDR_NUM_LEN];

		hdr_fmt(m, sl_hdr_mean(h) / unit_ratio, digits);
		hdr_fmt(sd, sl_hdr_stddev(h) / unit_ratio, digits);
		hdr_fmt(mx, hdr_out_max(h) / unit_ratio, digits);
		rc |= fprintf(f, "#[Mean    = %12s, StdDeviation   = %12s]\n", m, sd);
		rc |= fprintf(f, "#[Max     = %12s, Total count    = %12" PRIu64 "]\n",
			      mx, h->total);
		rc |= fprintf(f, "#[Buckets = %12" PRIu32 ", SubBuckets     = %12" PRIu32 "]\n",
			      h->bucket_count, h->sub_count);
	}
	/* fprintf returns a negative int on error: its sign bit survives |. */
	return rc < 0 || ferror(f) ? -EIO : 0;
}

int
sl_hdr_print_percentiles(const struct sl_hdr *h, FILE *f,
			 uint32_t ticks_per_half, double unit_ratio)
{
	return hdr_out_table(h, f, ticks_per_half, unit_ratio, false);
}

int
sl_hdr_print_csv(const struct sl_hdr *h, FILE *f, uint32_t ticks_per_half,
		 double unit_ratio)
{
	return hdr_out_table(h, f, ticks_per_half, unit_ratio, true);
}

int
sl_hdr_print_json(const struct sl_hdr *h, FILE *f, uint32_t ticks_per_half)
{
	static const struct { const char *key; double p; } summary[] = {
		{ "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p99.9", 99.9 },
		{ "p99.99", 99.99 }, { "p99.999", 99.999 }, { "p100", 100 },
	};
	struct sl_hdr_iter it;
	const char *sep = "";
	int rc = 0;

	if (sl_hdr_iter_percentile_init(&it, h, ticks_per_half) < 0)
		return -EINVAL;
	/*
	 * Written by hand: no allocation, and every number below is finite
	 * (an empty histogram has mean and stddev 0), so it is valid JSON.
	 */
	rc |= fprintf(f, "{\"lowest\":%" PRIu64 ",\"highest\":%" PRIu64
		      ",\"sigfigs\":%d,\"buckets\":%" PRIu32 ",\"sub_buckets\":%" PRIu32
		      ",\"total_count\":%" PRIu64 ",\"saturated\":%" PRIu64
		      ",\"min\":%" PRIu64 ",\"max\":%" PRIu64
		      ",\"mean\":%.*f,\"stddev\":%.*f,\"summary\":{",
		      h->lowest, h->highest, h->sigfigs, h->bucket_count, h->sub_count,
		      h->total, h->saturated, sl_hdr_min(h), sl_hdr_max(h),
		      h->sigfigs, sl_hdr_mean(h), h->sigfigs, sl_hdr_stddev(h));
	for (size_t i = 0; i < sizeof(summary) / sizeof(summary[0]); i++) {
		rc |= fprintf(f, "%s\"%s\":%" PRIu64, sep, summary[i].key,
			      sl_hdr_value_at_percentile(h, summary[i].p));
		sep = ",";
	}
	rc |= fprintf(f, "},\"percentiles\":[");
	sep = "";
	while (sl_hdr_iter_next(&it)) {
		rc |= fprintf(f, "%s{\"value\":%" PRIu64 ",\"percentile\":%.12g"
			      ",\"total_count\":%" PRIu64 "}",
			      sep, it.value, it.level, it.cum_count);
		sep = ",";
	}
	rc |= fprintf(f, "]}\n");
	return rc < 0 || ferror(f) ? -EIO : 0;
}
