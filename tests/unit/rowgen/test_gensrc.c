/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: the `type: gen` source (drivers/gen/gen_src.c) through
 * the interface the dataplane polls, without the EAL. It hands out exactly
 * sl_gen's rows for the plan's parameters, in batches of `batch` rows with
 * batch j in partition j % partitions, then sets done after `events` rows
 * (the last batch short). A checkpoint offset taken between polls, then a
 * seek (after running on, and on a freshly opened source), gives back the
 * same rows and partitions from there; offsets that are not a batch
 * boundary of this generator are refused with -EINVAL.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sl_gen.h"
#include "sl_io.h"
#include "sl_plan.h"

#define EVENTS 100003u		/* not a multiple of the batch */
#define BATCH 72u
#define NBATCH (EVENTS / BATCH + 1)

static const char job[] =
	"job: t\n"
	"schema: {key: u64, v: u32, ts: timestamp_ms}\n"
	"source: {type: gen, events: 100003, key: key, keys: 5000, seed: 42,\n"
	"         event_rate: 3000, disorder: 20, batch: 72, partitions: 5, timestamp: ts}\n"
	"pipeline:\n"
	"  - key_by: key\n"
	"  - window: {tumbling: 10s}\n"
	"  - aggregate: [count()]\n"
	"sink: {type: stdout}\n";

static uint16_t rs;

/* Poll until done or max rows, burst batches a poll; rows and each
 * batch's partition appended. */
static uint32_t
drain(struct sl_source *s, uint8_t *rows, uint16_t *part, uint32_t at,
      uint32_t max, uint16_t burst)
{
	struct sl_src_batch b[SL_IO_BURST];

	while (!s->done && at < max) {
		uint16_t n = s->ops->poll(s, b, burst);

		for (uint16_t i = 0; i < n; i++) {
			assert_true(b[i].n == BATCH || at + b[i].n == EVENTS);
			memcpy(rows + (size_t)at * rs, b[i].rows, (size_t)b[i].n * rs);
			part[at / BATCH] = b[i].partition;
			at += b[i].n;
		}
		s->ops->release(s);
	}
	return at;
}

static void
test_gen_source(void **state)
{
	struct sl_plan *p = calloc(1, sizeof(*p));
	uint16_t *part = calloc(NBATCH, sizeof(*part));
	uint16_t *part2 = calloc(NBATCH, sizeof(*part2));
	struct sl_gen_params gp;
	struct sl_gen g;
	struct sl_source s, s2;
	struct sl_src_offset off, bad;
	char err[SL_PLAN_ERR_MAX];
	uint8_t *want, *got;
	uint32_t n, mid;

	(void)state;
	assert_non_null(p);
	assert_int_equal(sl_plan_load_str("t", job, strlen(job), p, err, sizeof(err)), 0);
	rs = p->schema.row_size;
	want = malloc((size_t)EVENTS * rs);
	got = malloc((size_t)EVENTS * rs);
	assert_non_null(want);
	assert_non_null(got);

	/* What the source must hand out: sl_gen's rows for these parameters. */
	memset(&gp, 0, sizeof(gp));
	gp.schema = &p->schema;
	gp.n_key = 1;
	gp.key_f[0] = 0;
	gp.ts_f = 2;
	gp.seed = 42;
	gp.keys = 5000;
	gp.start_ms = 1700000000000LL;
	gp.rate = 3000;
	gp.disorder = 20;
	assert_int_equal(sl_gen_init(&g, &gp), 0);
	sl_gen_fill(&g, want, EVENTS);

	assert_int_equal(sl_source_open(&s, p, 0), 0);
	assert_string_equal(s.ops->name, "gen");
	n = drain(&s, got, part, 0, EVENTS, SL_IO_BURST);
	assert_int_equal(n, EVENTS);
	assert_true(s.done);
	assert_int_equal(s.wire.records, EVENTS);
	assert_memory_equal(want, got, (size_t)EVENTS * rs);
	for (uint32_t j = 0; j < NBATCH; j++)
		assert_int_equal(part[j], j % 5);
	s.ops->close(&s);

	/* A checkpoint between polls, then run on to the end and rewind. */
	assert_int_equal(sl_source_open(&s, p, 0), 0);
	memset(got, 0, (size_t)EVENTS * rs);
	mid = drain(&s, got, part2, 0, 40000, 3);
	assert_int_equal(mid % BATCH, 0);
	s.ops->offset(&s, &off);
	assert_int_equal(off.pos, mid);
	assert_int_equal(off.line, mid / BATCH);
	drain(&s, got, part2, mid, EVENTS, 7);
	assert_int_equal(s.ops->seek(&s, &off), 0);
	assert_false(s.done);
	memset(got + (size_t)mid * rs, 0, (size_t)(EVENTS - mid) * rs);
	memset(part2 + mid / BATCH, 0xff, (NBATCH - mid / BATCH) * sizeof(*part2));
	n = drain(&s, got, part2, mid, EVENTS, 1);
	assert_int_equal(n, EVENTS);
	assert_memory_equal(want, got, (size_t)EVENTS * rs);
	assert_memory_equal(part, part2, NBATCH * sizeof(*part));

	/* Restore onto a fresh source (a restarted dataplane). */
	assert_int_equal(sl_source_open(&s2, p, 0), 0);
	assert_int_equal(s2.ops->seek(&s2, &off), 0);
	memset(got, 0, (size_t)EVENTS * rs);
	n = drain(&s2, got, part2, mid, EVENTS, SL_IO_BURST);
	assert_int_equal(n, EVENTS);
	assert_memory_equal(want + (size_t)mid * rs, got + (size_t)mid * rs,
			    (size_t)(EVENTS - mid) * rs);
	assert_memory_equal(part, part2, NBATCH * sizeof(*part));

	/* The end is an offset too: nothing left, done at once. */
	s2.ops->offset(&s2, &off);
	assert_int_equal(off.pos, EVENTS);
	assert_int_equal(s2.ops->seek(&s2, &off), 0);
	assert_true(s2.done);

	/* Not a batch boundary, past the end, or a batch count that does
	 * not go with the row index. */
	bad = off;
	bad.pos = 100;
	bad.line = 1;
	assert_int_equal(s2.ops->seek(&s2, &bad), -EINVAL);
	bad.pos = EVENTS + BATCH;
	bad.line = (EVENTS + BATCH) / BATCH;
	assert_int_equal(s2.ops->seek(&s2, &bad), -EINVAL);
	bad.pos = 720;
	bad.line = 11;
	assert_int_equal(s2.ops->seek(&s2, &bad), -EINVAL);

	s.ops->close(&s);
	s2.ops->close(&s2);
	sl_plan_free(p);
	free(p);
	free(part);
	free(part2);
	free(want);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gen_source),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
