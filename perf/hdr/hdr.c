/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sl_hdr.h"

/* Fills the layout fields of h; leaves counts and samples alone. */
static int
hdr_layout(struct sl_hdr *h, uint64_t lowest, uint64_t highest, int sigfigs)
{
	uint64_t single_unit = 2, top;
	unsigned int sub_mag = 0, unit_mag;
	uint32_t buckets = 1;

	if (sigfigs < SL_HDR_SIGFIGS_MIN || sigfigs > SL_HDR_SIGFIGS_MAX ||
	    lowest == 0 || highest / 2 < lowest)
		return -EINVAL;
	/* Slots of width 1 up to 2 * 10^sigfigs give sigfigs digits. */
	for (int i = 0; i < sigfigs; i++)
		single_unit *= 10;
	while (((uint64_t)1 << sub_mag) < single_unit)
		sub_mag++;
	unit_mag = 63u - (unsigned int)__builtin_clzll(lowest);
	if (unit_mag + sub_mag > 63)
		return -EINVAL;

	/* One bucket more per doubling until highest is below the top. */
	top = (uint64_t)1 << (unit_mag + sub_mag);
	while (top <= highest) {
		buckets++;
		if (top > UINT64_MAX / 2)
			break;
		top <<= 1;
	}

	h->highest = highest;
	h->lowest = lowest;
	h->unit_mag = (uint8_t)unit_mag;
	h->sub_mag = (uint8_t)sub_mag;
	h->half_mag = (uint8_t)(sub_mag - 1);
	h->sigfigs = (uint8_t)sigfigs;
	h->sub_count = (uint32_t)1 << sub_mag;
	h->sub_mask = (uint64_t)(h->sub_count - 1) << unit_mag;
	h->bucket_count = buckets;
	/* Bucket 0 has all sub_count slots, the others their upper half. */
	h->counts_len = (buckets + 1) << h->half_mag;
	return 0;
}

ssize_t
sl_hdr_mem_size(uint64_t lowest, uint64_t highest, int sigfigs)
{
	struct sl_hdr h;
	int rc = hdr_layout(&h, lowest, highest, sigfigs);

	if (rc < 0)
		return rc;
	return (ssize_t)h.counts_len * (ssize_t)sizeof(uint64_t);
}

static void
hdr_clear_samples(struct sl_hdr *h)
{
	h->total = 0;
	h->saturated = 0;
	h->min = UINT64_MAX;
	h->max = 0;
}

int
sl_hdr_init_mem(struct sl_hdr *h, uint64_t lowest, uint64_t highest,
		int sigfigs, void *mem, size_t len)
{
	struct sl_hdr l;
	int rc = hdr_layout(&l, lowest, highest, sigfigs);

	if (rc < 0)
		return rc;
	if (mem == NULL || ((uintptr_t)mem & (sizeof(uint64_t) - 1)) != 0 ||
	    len < (size_t)l.counts_len * sizeof(uint64_t))
		return -EINVAL;
	*h = l;
	h->counts = mem;
	h->owns_counts = false;
	sl_hdr_reset(h);
	return 0;
}

int
sl_hdr_init(struct sl_hdr *h, uint64_t lowest, uint64_t highest, int sigfigs)
{
	struct sl_hdr l;
	int rc = hdr_layout(&l, lowest, highest, sigfigs);

	if (rc < 0)
		return rc;
	l.counts = calloc(l.counts_len, sizeof(uint64_t));
	if (l.counts == NULL)
		return -ENOMEM;
	l.owns_counts = true;
	hdr_clear_samples(&l);
	*h = l;
	return 0;
}

void
sl_hdr_fini(struct sl_hdr *h)
{
	if (h->owns_counts)
		free(h->counts);
	h->counts = NULL;
	h->owns_counts = false;
	h->counts_len = 0;
	hdr_clear_samples(h);
}

void
sl_hdr_reset(struct sl_hdr *h)
{
	memset(h->counts, 0, (size_t)h->counts_len * sizeof(uint64_t));
	hdr_clear_samples(h);
}

/* Lowest value of slot i: the inverse of sl_hdr_index(). */
static uint64_t
hdr_value_of(const struct sl_hdr *h, uint32_t i)
{
	uint32_t bucket = i >> h->half_mag;

	/* Slots [0, sub_count) are bucket 0, shifted by u alone. */
	if (bucket <= 1)
		return (uint64_t)i << h->unit_mag;
	bucket--;
	return ((uint64_t)(i & ((1u << h->half_mag) - 1)) + (1u << h->half_mag))
	       << (h->unit_mag + bucket);
}

void
sl_hdr_record_corrected(struct sl_hdr *h, uint64_t value,
			uint64_t expected_interval)
{
	uint64_t iv = expected_interval, missing, n, terms;

	sl_hdr_record(h, value);
	if (iv == 0 || value <= iv || value - iv < iv)
		return;
	missing = value - iv;
	terms = missing / iv;	/* missing, missing - iv, .. down to >= iv */
	/* The smallest of them is value % iv + iv. */
	if (value % iv + iv < h->min)
		h->min = value % iv + iv;

	/*
	 * The missing samples are an arithmetic series; count each slot's
	 * share at once instead of recording them one by one. Terms above
	 * highest all go to the clamped top slot first.
	 */
	if (missing > h->highest) {
		n = (missing - h->highest - 1) / iv + 1;
		if (n > terms)
			n = terms;
		h->counts[sl_hdr_index(h, h->highest)] += n;
		h->total += n;
		h->saturated += n;
		if (n == terms)
			return;
		missing -= n * iv;
	}
	for (;;) {
		uint64_t lo = sl_hdr_lowest_equivalent(h, missing);
		uint64_t floor = lo > iv ? lo : iv;

		/* Terms of the series in [floor, missing]; missing >= floor. */
		n = (missing - floor) / iv + 1;
		h->counts[sl_hdr_index(h, missing)] += n;
		h->total += n;
		/* n * iv <= missing - floor + iv <= missing: no underflow. */
		missing -= n * iv;
		if (missing < iv)
			return;
	}
}

int
sl_hdr_add(struct sl_hdr *dst, const struct sl_hdr *src)
{
	if (dst->lowest != src->lowest || dst->highest != src->highest ||
	    dst->sigfigs != src->sigfigs || dst->counts_len != src->counts_len)
		return -EINVAL;
	for (uint32_t i = 0; i < dst->counts_len; i++)
		dst->counts[i] += src->counts[i];
	dst->total += src->total;
	dst->saturated += src->saturated;
	/* An empty src has min UINT64_MAX and max 0: no effect. */
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	return 0;
}

uint64_t
sl_hdr_count_at_value(const struct sl_hdr *h, uint64_t v)
{
	return h->counts[sl_hdr_index(h, v > h->highest ? h->highest : v)];
}

double
sl_hdr_mean(const struct sl_hdr *h)
{
	double sum = 0;

	if (h->total == 0)
		return 0;
	/* Summed in slot order, as HdrHistogram does, for the same digits. */
	for (uint32_t i = 0; i < h->counts_len; i++)
		if (h->counts[i] != 0)
			sum += (double)sl_hdr_median_equivalent(h, hdr_value_of(h, i)) *
			       (double)h->counts[i];
	return sum / (double)h->total;
}

double
sl_hdr_stddev(const struct sl_hdr *h)
{
	double mean, sq = 0;

	if (h->total == 0)
		return 0;
	mean = sl_hdr_mean(h);
	for (uint32_t i = 0; i < h->counts_len; i++) {
		double d;

		if (h->counts[i] == 0)
			continue;
		d = (double)sl_hdr_median_equivalent(h, hdr_value_of(h, i)) - mean;
		sq += d * d * (double)h->counts[i];
	}
	return sqrt(sq / (double)h->total);
}

uint64_t
sl_hdr_value_at_percentile(const struct sl_hdr *h, double p)
{
	/* p <= 0 and NaN both mean 0 (HdrHistogram: p == 0 alone). */
	double q = p > 0 ? nextafter(p, -INFINITY) : 0;
	uint64_t rank, cum = 0;

	if (h->total == 0)
		return 0;
	if (q > 100)
		q = 100;
	rank = (uint64_t)ceil(q * (double)h->total / 100.0);
	if (rank == 0)
		rank = 1;
	if (rank > h->total)
		rank = h->total;
	for (uint32_t i = 0; i < h->counts_len; i++) {
		cum += h->counts[i];
		if (cum >= rank) {
			uint64_t v = hdr_value_of(h, i);

			return !(p > 0) ? sl_hdr_lowest_equivalent(h, v) :
					sl_hdr_highest_equivalent(h, v);
		}
	}
	return 0;	/* not reached: the counts add up to total */
}

int
sl_hdr_iter_percentile_init(struct sl_hdr_iter *it, const struct sl_hdr *h,
			    uint32_t ticks_per_half)
{
	if (ticks_per_half == 0)
		return -EINVAL;
	memset(it, 0, sizeof(*it));
	it->h = h;
	it->total = h->total;
	it->ticks = ticks_per_half;
	it->fresh = true;
	return 0;
}

/*
 * The next level: ticks levels per halving of the distance to 100%. The
 * exponent is computed as HdrHistogram computes it (log ratio, truncated),
 * so the table shows the same rows. Levels that stop moving in double
 * precision jump to 100, so the walk always ends.
 */
static void
hdr_iter_step_level(struct sl_hdr_iter *it)
{
	double lvl = it->next_level, next, ticks;

	if (lvl >= 100.0)
		return;
	ticks = ldexp((double)it->ticks,
		      (int)(log(100.0 / (100.0 - lvl)) / log(2)) + 1);
	next = lvl + 100.0 / ticks;
	it->next_level = next > lvl && next < 100.0 ? next : 100.0;
}

bool
sl_hdr_iter_next(struct sl_hdr_iter *it)
{
	const struct sl_hdr *h = it->h;

	if (it->cum >= it->total) {
		/* Every sample seen: one more row for the max at 100%. */
		if (it->done || it->total == 0)
			return false;
		it->done = true;
		it->next_level = 100.0;
	}
	while (it->index < h->counts_len) {
		uint64_t c = h->counts[it->index];

		if (it->fresh) {
			it->cum += c;
			it->fresh = false;
		}
		if (c != 0 &&
		    100.0 * (double)it->cum / (double)it->total >= it->next_level &&
		    !(it->next_level >= 100.0 && !it->done && it->reported &&
		      it->last_index == it->index)) {
			it->value = sl_hdr_highest_equivalent(h, hdr_value_of(h, it->index));
			it->count = c;
			it->cum_count = it->cum;
			it->level = it->next_level;
			it->last_index = it->index;
			it->reported = true;
			hdr_iter_step_level(it);
			return true;
		}
		it->index++;
		it->fresh = true;
	}
	return false;
}
