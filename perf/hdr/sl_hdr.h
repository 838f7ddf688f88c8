/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_HDR_H
#define SL_HDR_H

/**
 * @file
 * HDR (high dynamic range) histogram for the latency harness: records
 * uint64 values (nanoseconds) over a wide range, 1 ns to 1 hour in the
 * harness, at a fixed relative precision, with an O(1) record that never
 * allocates, locks or loops, so a DPDK lcore can record every event.
 * Queries, merge and the outputs (HdrHistogram's percentile distribution
 * table, CSV, JSON) run off the hot path. Semantics follow HdrHistogram's
 * so its tooling reads our output and its documented examples hold.
 * EAL-free.
 *
 * Bucket layout (log-linear). sub_count = the smallest power of two
 * >= 2 * 10^sigfigs (2048 for 3 digits), half = sub_count / 2, and
 * u = floor(log2(lowest)). Bucket 0 covers [0, sub_count << u) in
 * sub_count slots of width 2^u. Bucket b >= 1 covers
 * [half << (u + b), sub_count << (u + b)) in half slots of width 2^(u + b):
 * the lower half of each bucket would repeat the previous one, so it is not
 * stored. Buckets are added until `highest` is covered; counts hold
 * (buckets + 1) * half slots (33,792 for 1 ns..3.6e12 ns at 3 digits:
 * 264 KiB). A value's slot is found with one count-leading-zeros and two
 * shifts.
 *
 * Error bound. A value v shares its slot with its "equivalent" values,
 * [sl_hdr_lowest_equivalent(v), sl_hdr_highest_equivalent(v)]. Every value
 * of the slot differs from v by less than max(v / half, 2^u), and
 * 1 / half <= 10^-sigfigs: for lowest = 1 that is a relative error below
 * 10^-sigfigs (1/1024 at 3 digits), and values below sub_count are exact.
 *
 * Concurrency: one writer; readers (queries, merge, output) must not run
 * while it records. Give each lcore its own histogram and sl_hdr_add()
 * them once the writers have stopped.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define SL_HDR_SIGFIGS_MIN 1
#define SL_HDR_SIGFIGS_MAX 5
/** HdrHistogram's default for the percentile table. */
#define SL_HDR_TICKS_PER_HALF_DEFAULT 5

struct sl_hdr {
	/* Everything sl_hdr_record() touches fits in this first 64 bytes. */
	uint64_t *counts;
	uint64_t highest;	/**< larger values are clamped to it */
	uint64_t sub_mask;	/**< (sub_count - 1) << u: floors the bit length */
	uint64_t total;		/**< samples, saturated ones included */
	uint64_t saturated;	/**< samples that were above highest */
	uint64_t min;		/**< exact, before clamping; UINT64_MAX if empty */
	uint64_t max;		/**< exact, before clamping; 0 if empty */
	uint8_t unit_mag;	/**< u = floor(log2(lowest)) */
	uint8_t sub_mag;	/**< log2(sub_count) */
	uint8_t half_mag;	/**< log2(half) */
	uint8_t sigfigs;
	uint32_t counts_len;
	/* Cold. */
	uint64_t lowest;
	uint32_t bucket_count;
	uint32_t sub_count;
	bool owns_counts;
};

/**
 * Bytes of counts for this configuration, or -EINVAL when it is invalid:
 * sigfigs outside 1..5, lowest 0, highest < 2 * lowest, or lowest so
 * large that sub_count << u does not fit 64 bits.
 */
ssize_t sl_hdr_mem_size(uint64_t lowest, uint64_t highest, int sigfigs);

/**
 * Set up h with its counts calloc'ed. lowest is the smallest value that
 * must be told apart from 0 (1 for nanoseconds), highest the largest that
 * is kept as itself. @return 0, -EINVAL or -ENOMEM.
 */
int sl_hdr_init(struct sl_hdr *h, uint64_t lowest, uint64_t highest,
		int sigfigs);

/**
 * Set up h over caller memory (e.g. a hugepage memzone on the recording
 * lcore): mem must be 8-byte aligned and hold sl_hdr_mem_size() bytes; it
 * is zeroed here and never freed by the library. @return 0 or -EINVAL.
 */
int sl_hdr_init_mem(struct sl_hdr *h, uint64_t lowest, uint64_t highest,
		    int sigfigs, void *mem, size_t len);

/** Free the counts if sl_hdr_init() allocated them. h may be reused. */
void sl_hdr_fini(struct sl_hdr *h);

/** Forget every sample; the configuration and memory stay. */
void sl_hdr_reset(struct sl_hdr *h);

/** Slot of v, which must be <= h->highest. */
static inline uint32_t
sl_hdr_index(const struct sl_hdr *h, uint64_t v)
{
	/*
	 * shift = bits to drop so that v fits sub_mag bits; or-ing the mask
	 * keeps it >= u, which is what puts small values in bucket 0.
	 */
	unsigned int shift = 64u - (unsigned int)__builtin_clzll(v | h->sub_mask) -
			     h->sub_mag;

	return ((shift - h->unit_mag) << h->half_mag) + (uint32_t)(v >> shift);
}

/** Record one sample. O(1), no branch on the value, no allocation. */
static inline void
sl_hdr_record(struct sl_hdr *h, uint64_t value)
{
	uint64_t over = value > h->highest;
	uint64_t v = over ? h->highest : value;

	h->counts[sl_hdr_index(h, v)]++;
	h->total++;
	h->saturated += over;
	h->min = value < h->min ? value : h->min;
	h->max = value > h->max ? value : h->max;
}

/** Record n samples of value. n = 0 records nothing. */
static inline void
sl_hdr_record_n(struct sl_hdr *h, uint64_t value, uint64_t n)
{
	uint64_t over = value > h->highest;
	uint64_t v = over ? h->highest : value;

	if (n == 0)
		return;
	h->counts[sl_hdr_index(h, v)] += n;
	h->total += n;
	h->saturated += over ? n : 0;
	h->min = value < h->min ? value : h->min;
	h->max = value > h->max ? value : h->max;
}

/**
 * Record value and correct for coordinated omission as HdrHistogram does:
 * when a sampler that expects one sample per expected_interval was stalled
 * for value, the samples it missed would have seen value - interval,
 * value - 2 * interval, ... down to interval; those are recorded too.
 * expected_interval 0 records value alone. Costs O(1) when value <=
 * expected_interval, and otherwise at most one step per slot the missing
 * samples fall in (not one per missing sample).
 */
void sl_hdr_record_corrected(struct sl_hdr *h, uint64_t value,
			     uint64_t expected_interval);

/**
 * dst += src. Both must have the same lowest, highest and sigfigs.
 * @return 0 or -EINVAL (dst unchanged).
 */
int sl_hdr_add(struct sl_hdr *dst, const struct sl_hdr *src);

static inline uint64_t
sl_hdr_total_count(const struct sl_hdr *h)
{
	return h->total;
}

static inline uint64_t
sl_hdr_saturated(const struct sl_hdr *h)
{
	return h->saturated;
}

/** Smallest value recorded, exact; 0 when empty. */
static inline uint64_t
sl_hdr_min(const struct sl_hdr *h)
{
	return h->total != 0 ? h->min : 0;
}

/** Largest value recorded, exact and before clamping; 0 when empty. */
static inline uint64_t
sl_hdr_max(const struct sl_hdr *h)
{
	return h->max;
}

/** Width of v's slot: 2^u in bucket 0, 2^(u + b) in bucket b. */
static inline uint64_t
sl_hdr_equivalent_range(const struct sl_hdr *h, uint64_t v)
{
	unsigned int shift = 64u - (unsigned int)__builtin_clzll(v | h->sub_mask) -
			     h->sub_mag;

	return (uint64_t)1 << shift;
}

static inline uint64_t
sl_hdr_lowest_equivalent(const struct sl_hdr *h, uint64_t v)
{
	return v & ~(sl_hdr_equivalent_range(h, v) - 1);
}

/* Wraps to UINT64_MAX for the top slot of 64-bit values: still right. */
static inline uint64_t
sl_hdr_highest_equivalent(const struct sl_hdr *h, uint64_t v)
{
	return sl_hdr_lowest_equivalent(h, v) + sl_hdr_equivalent_range(h, v) - 1;
}

/** The slot's middle, what mean and stddev count a sample as. */
static inline uint64_t
sl_hdr_median_equivalent(const struct sl_hdr *h, uint64_t v)
{
	return sl_hdr_lowest_equivalent(h, v) + (sl_hdr_equivalent_range(h, v) >> 1);
}

/** Whether a and b fall in the same slot (are counted as one value). */
static inline bool
sl_hdr_values_equivalent(const struct sl_hdr *h, uint64_t a, uint64_t b)
{
	return sl_hdr_lowest_equivalent(h, a) == sl_hdr_lowest_equivalent(h, b);
}

/** Samples in v's slot (v above highest: the clamped, top one). */
uint64_t sl_hdr_count_at_value(const struct sl_hdr *h, uint64_t v);

/**
 * Mean, counting each sample as its slot's median equivalent value
 * (HdrHistogram's getMean()); 0 when empty.
 */
double sl_hdr_mean(const struct sl_hdr *h);

/** Population standard deviation on the same basis as sl_hdr_mean(). */
double sl_hdr_stddev(const struct sl_hdr *h);

/**
 * Value at percentile p (0..100; above 100 is 100, below 0 and NaN are
 * 0), with HdrHistogram's (Java) getValueAtPercentile() semantics. With N
 * samples, rank k = max(1, ceil(p' * N / 100)) where p' is p less one ulp,
 * so that rounding never pushes k into the next sample: k is the
 * nearest-rank ceil(p * N / 100) whenever p * N / 100 is computed exactly.
 * The result is sl_hdr_highest_equivalent() of the k-th smallest sample,
 * except that p <= 0 returns sl_hdr_lowest_equivalent() of the smallest
 * (the slot of min, clamped to highest if need be). So p = 100
 * gives the highest equivalent of max, or of highest when samples were
 * saturated. The result is never below the exact nearest-rank percentile
 * (never above it for p = 0) and is within the error bound of the file
 * comment. 0 when empty. O(counts_len).
 */
uint64_t sl_hdr_value_at_percentile(const struct sl_hdr *h, double p);

/**
 * HdrHistogram's percentile iterator: it steps through the recorded slots
 * and stops at percentile levels 0, then ticks_per_half levels per halving
 * of the distance to 100% (with 5: 10, 20, .. 50, 55, .. 75, 77.5, ..),
 * reporting the first non-empty slot whose cumulative percentile reaches
 * the level; one last step reports the max at level 100.
 */
struct sl_hdr_iter {
	/* Set by each successful sl_hdr_iter_next(). */
	uint64_t value;		/**< highest equivalent value of the slot */
	uint64_t count;		/**< samples in the slot */
	uint64_t cum_count;	/**< samples at or below value */
	double level;		/**< percentile level reached (0..100) */
	/* Private. */
	const struct sl_hdr *h;
	uint64_t total;
	uint64_t cum;
	double next_level;
	uint32_t index;
	uint32_t last_index;
	uint32_t ticks;
	bool fresh;
	bool reported;
	bool done;
};

/** @return 0, or -EINVAL when ticks_per_half is 0. */
int sl_hdr_iter_percentile_init(struct sl_hdr_iter *it, const struct sl_hdr *h,
				uint32_t ticks_per_half);

/** Advance; false when there is nothing more to report. */
bool sl_hdr_iter_next(struct sl_hdr_iter *it);

/*
 * Output. unit_ratio divides values for display (1000.0 prints ns as us),
 * as HdrHistogram's outputValueUnitScalingRatio; values are printed with
 * sigfigs decimals. Numbers are formatted in the C library's current
 * LC_NUMERIC locale: leave it at "C". Each returns 0, -EINVAL
 * (ticks_per_half 0, unit_ratio not > 0) or -EIO (a write failed).
 */

/**
 * HdrHistogram's outputPercentileDistribution() text: the
 * Value/Percentile/TotalCount/1/(1-Percentile) table, then the
 * Mean/StdDeviation, Max/Total count and Buckets/SubBuckets footer, where
 * Max is sl_hdr_highest_equivalent(max) as HdrHistogram prints it.
 */
int sl_hdr_print_percentiles(const struct sl_hdr *h, FILE *f,
			     uint32_t ticks_per_half, double unit_ratio);

/** The same table as HdrHistogram's CSV form (last row: Infinity). */
int sl_hdr_print_csv(const struct sl_hdr *h, FILE *f, uint32_t ticks_per_half,
		     double unit_ratio);

/**
 * One JSON object: configuration, total_count, saturated, exact min and
 * max, mean, stddev, "summary" (p50, p90, p99, p99.9, p99.99, p99.999,
 * p100 as sl_hdr_value_at_percentile()) and "percentiles", the table's
 * rows as {"value", "percentile" (0..100), "total_count"}. Integer values
 * are in recorded units and not scaled; ticks_per_half as above.
 */
int sl_hdr_print_json(const struct sl_hdr *h, FILE *f, uint32_t ticks_per_half);

#endif /* SL_HDR_H */
