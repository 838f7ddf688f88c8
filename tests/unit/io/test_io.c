/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: replayable sources record where they stand and rewind to
 * it (checkpoint offsets, R6.1/R6.7): after a seek, a capture and a CSV
 * file deliver exactly the rows that followed the recorded offset, with
 * partition sequence state restored (no false gaps); offsets that are not
 * a packet or line boundary are refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "sl_io.h"
#include "sl_plan.h"

#ifndef SAMPLES
#error "SAMPLES must name configs/samples"
#endif

static const char *job_fmt =
	"job: t\n"
	"schema: {user_id: u64, url_id: u32, ts: timestamp_ms}\n"
	"source: {type: %s, path: %s, timestamp: ts, watermark: {emit: punctuated}}\n"
	"pipeline:\n"
	"  - key_by: user_id\n"
	"  - window: {tumbling: 10s}\n"
	"  - aggregate: [count()]\n"
	"sink: {type: stdout}\n";

/* Poll until done (or max batches), appending row bytes to out. */
static size_t
drain(struct sl_source *s, uint8_t *out, size_t at, unsigned int max_batches)
{
	struct sl_src_batch b[SL_IO_BURST];
	unsigned int seen = 0;

	while (!s->done && seen < max_batches) {
		uint16_t n = s->ops->poll(s, b, 1);

		for (uint16_t i = 0; i < n; i++) {
			memcpy(out + at, b[i].rows, (size_t)b[i].n * 20);
			at += (size_t)b[i].n * 20;
		}
		s->ops->release(s);
		seen += n;
	}
	return at;
}

static void
check_rewind(const char *type, const char *path)
{
	struct sl_plan *p = calloc(1, sizeof(*p));
	struct sl_source s;
	struct sl_src_offset off, bad;
	char yaml[1024], err[512];
	uint8_t *all = malloc(4000 * 20), *again = malloc(4000 * 20);
	size_t n_first, n_all, n_again;
	uint64_t gaps = 0;

	snprintf(yaml, sizeof(yaml), job_fmt, type, path);
	assert_int_equal(sl_plan_load_str("t", yaml, strlen(yaml), p, err, sizeof(err)), 0);
	assert_int_equal(sl_source_open(&s, p, 0), 0);
	n_first = drain(&s, all, 0, 10);		/* 10 batches, then the offset */
	s.ops->offset(&s, &off);
	n_all = drain(&s, all, n_first, UINT32_MAX);
	assert_int_equal(n_all, 4000 * 20);
	assert_true(s.done);

	/* Rewind and read the rest again: the same bytes. */
	assert_int_equal(s.ops->seek(&s, &off), 0);
	assert_false(s.done);
	n_again = drain(&s, again, 0, UINT32_MAX);
	assert_int_equal(n_again, n_all - n_first);
	assert_memory_equal(again, all + n_first, n_again);
	for (int i = 0; i < SL_WIRE_MAX_PARTITIONS; i++)
		gaps += s.wire.part[i].gaps;
	assert_int_equal(gaps, 0);

	/* Not a boundary: refused, and the position is unchanged. */
	bad = off;
	bad.pos = off.pos + 1;
	assert_int_equal(s.ops->seek(&s, &bad), -EINVAL);
	bad.pos = 0;
	assert_int_equal(s.ops->seek(&s, &bad), -EINVAL);

	s.ops->close(&s);
	sl_plan_free(p);
	free(p);
	free(all);
	free(again);
}

static void
test_capture_rewind(void **state)
{
	(void)state;
	check_rewind("capture", SAMPLES "/clicks.slc");
}

static void
test_csv_rewind(void **state)
{
	(void)state;
	check_rewind("csv", SAMPLES "/clicks.csv");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_rewind),
		cmocka_unit_test(test_csv_rewind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
