/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: the exactly-once file sink (semantics.md R6.10) on worked
 * example W6.2: v0..v9, checkpoint 1 after v3, a crash after v4..v7 were
 * written, recovery from checkpoint 1 and replay of v4..v9. Readers of the
 * committed parts see every value once; also when the crash falls after
 * checkpoint 1 completed but before the sink committed it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "sl_io.h"

static struct sl_schema schema;

static void
put(struct sl_sink2pc *k, int64_t v)
{
	uint8_t row[8];

	sl_row_set_int(row, &schema.f[0], v);
	assert_int_equal(sl_sink2pc_write(k, &schema, row), 0);
}

/* What a reader of committed parts sees: the parts concatenated in order. */
static void
committed(const char *base, char *out, size_t len)
{
	size_t off = 0;

	out[0] = '\0';
	for (unsigned int p = 0; p < 100; p++) {
		char path[512];
		FILE *f;
		size_t n;

		snprintf(path, sizeof(path), "%s.part-%010u", base, p);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		n = fread(out + off, 1, len - off - 1, f);
		off += n;
		fclose(f);
	}
	out[off] = '\0';
}

static void
w6_2(bool crash_before_commit)
{
	char dir[] = "/tmp/sluice-2pc.XXXXXX", base[256], got[512];
	struct sl_sink2pc k, k2;
	struct sl_sink2pc_state s1, s2;
	size_t at;

	assert_non_null(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s/out.csv", dir);
	assert_int_equal(sl_schema_parse_spec(&schema, "v:i64", &at), 0);

	assert_int_equal(sl_sink2pc_open(&k, base, &schema, NULL), 0);
	for (int v = 0; v <= 3; v++)
		put(&k, v);
	assert_int_equal(sl_sink2pc_precommit(&k, 1, &s1), 0);	/* CP1 barrier */
	committed(base, got, sizeof(got));
	assert_string_equal(got, "v\n");	/* T1 not visible before CP1 completes */
	if (!crash_before_commit)
		assert_int_equal(sl_sink2pc_commit(&k, 1), 0);
	for (int v = 4; v <= 7; v++)
		put(&k, v);
	fflush(k.f);				/* T2 reached the disk, uncommitted */
	committed(base, got, sizeof(got));
	assert_string_equal(got, crash_before_commit ? "v\n" : "v\n0\n1\n2\n3\n");
	fclose(k.f);				/* the crash: no commit, no close */

	/* Recovery from CP1: T1 committed (again: idempotent), T2 aborted. */
	assert_int_equal(sl_sink2pc_open(&k2, base, &schema, &s1), 0);
	committed(base, got, sizeof(got));
	assert_string_equal(got, "v\n0\n1\n2\n3\n");
	for (int v = 4; v <= 9; v++)
		put(&k2, v);
	assert_int_equal(sl_sink2pc_precommit(&k2, 2, &s2), 0);
	assert_int_equal(s2.n_pending, 1);
	assert_int_equal(sl_sink2pc_commit(&k2, 2), 0);
	assert_int_equal(sl_sink2pc_finish(&k2), 0);
	committed(base, got, sizeof(got));
	assert_string_equal(got, "v\n0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n");
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

static void
test_w6_2_exactly_once(void **state)
{
	(void)state;
	w6_2(false);
}

static void
test_w6_2_crash_before_commit_notification(void **state)
{
	(void)state;
	w6_2(true);
}

/* A fresh start clears what an earlier run left, committed or not. */
static void
test_fresh_start_and_skipped_notifications(void **state)
{
	char dir[] = "/tmp/sluice-2pc.XXXXXX", base[256], got[512];
	struct sl_sink2pc k;
	struct sl_sink2pc_state st;
	size_t at;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s/out.csv", dir);
	assert_int_equal(sl_schema_parse_spec(&schema, "v:i64", &at), 0);
	assert_int_equal(sl_sink2pc_open(&k, base, &schema, NULL), 0);
	put(&k, 1);
	assert_int_equal(sl_sink2pc_finish(&k), 0);
	assert_int_equal(sl_sink2pc_open(&k, base, &schema, NULL), 0);
	committed(base, got, sizeof(got));
	assert_string_equal(got, "v\n");
	put(&k, 10);
	assert_int_equal(sl_sink2pc_precommit(&k, 5, &st), 0);
	put(&k, 11);
	assert_int_equal(sl_sink2pc_precommit(&k, 6, &st), 0);
	assert_int_equal(st.n_pending, 2);
	assert_int_equal(sl_sink2pc_commit(&k, 6), 0);	/* 5's notification was lost */
	committed(base, got, sizeof(got));
	assert_string_equal(got, "v\n10\n11\n");
	assert_int_equal(sl_sink2pc_finish(&k), 0);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

/*
 * Restoring an older checkpoint than the newest completed one (the newest
 * is corrupt) must not keep what the newer one committed: the replay
 * writes it again.
 */
static void
test_restore_older_than_committed(void **state)
{
	char dir[] = "/tmp/sluice-2pc.XXXXXX", base[256], got[512], cmd[300];
	struct sl_sink2pc k, k2;
	struct sl_sink2pc_state s1, s2;
	size_t at;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s/out.csv", dir);
	assert_int_equal(sl_schema_parse_spec(&schema, "v:i64", &at), 0);
	assert_int_equal(sl_sink2pc_open(&k, base, &schema, NULL), 0);
	put(&k, 1);
	assert_int_equal(sl_sink2pc_precommit(&k, 1, &s1), 0);
	assert_int_equal(sl_sink2pc_commit(&k, 1), 0);
	put(&k, 2);
	assert_int_equal(sl_sink2pc_precommit(&k, 2, &s2), 0);
	assert_int_equal(sl_sink2pc_commit(&k, 2), 0);
	committed(base, got, sizeof(got));
	assert_string_equal(got, "v\n1\n2\n");
	fclose(k.f);				/* crash */
	assert_int_equal(sl_sink2pc_open(&k2, base, &schema, &s1), 0);
	committed(base, got, sizeof(got));
	assert_string_equal(got, "v\n1\n");	/* 2 goes: the replay writes it */
	put(&k2, 2);
	assert_int_equal(sl_sink2pc_finish(&k2), 0);
	committed(base, got, sizeof(got));
	assert_string_equal(got, "v\n1\n2\n");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_w6_2_exactly_once),
		cmocka_unit_test(test_w6_2_crash_before_commit_notification),
		cmocka_unit_test(test_fresh_start_and_skipped_notifications),
		cmocka_unit_test(test_restore_older_than_committed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
