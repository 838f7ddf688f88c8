/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: operator (non-keyed) state, semantics.md R5.3
 * (state/opstate). List and broadcast map operations; snapshots of N
 * tasks written as operator-state sections of real checkpoint files
 * (state/ckpt's builder, one worker-N file each, read back with
 * sl_ckpt_file_load and the reader) and restored onto M tasks:
 * even-split cut exactly as Flink's RoundRobinOperatorStateRepartitioner
 * (contiguous chunks, the extra elements to the first tasks of a round
 * that rotates across states, no repartitioning when N == M), union
 * (every task the whole concatenation), broadcast (every task the map,
 * copies that differ reported); corrupt payloads refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_ckpt.h"
#include "sl_opstate.h"

#define OP_ID 6		/* any op id: the test's own section */
#define MAX_T 16

static char root[] = "/tmp/test_opstate.XXXXXX";
static int dirfd_root = -1;
/* Sections read back from the checkpoint files, by old task. */
static void *files[MAX_T];
static const void *secs[MAX_T];
static size_t sec_len[MAX_T];

static int
setup_all(void **st)
{
	(void)st;
	if (mkdtemp(root) == NULL)
		return -1;
	dirfd_root = open(root, O_RDONLY | O_DIRECTORY);
	return dirfd_root < 0 ? -1 : 0;
}

static int
teardown_all(void **st)
{
	char cmd[128];

	(void)st;
	close(dirfd_root);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void
drop_files(uint32_t n)
{
	for (uint32_t t = 0; t < n; t++) {
		free(files[t]);
		files[t] = NULL;
	}
}

/* Snapshot each old task into its worker-T checkpoint file, then load
 * the files back and point secs[] at their operator-state sections. */
static void
checkpoint(struct sl_opstate *const *old, uint32_t n)
{
	for (uint32_t t = 0; t < n; t++) {
		struct sl_ckpt_file_info info = {
			.ckpt_id = 7, .job_name = "opstate-test",
			.task_kind = SL_CKPT_TASK_WORKER, .task_index = (uint16_t)t,
			.max_parallelism = 128, .parallelism = n,
		};
		struct sl_ckpt_builder b;
		const void *data;
		size_t len, sl = sl_opstate_snapshot(old[t], NULL, 0);
		void *snap = malloc(sl);
		char name[32];
		int fd;

		assert_non_null(snap);
		assert_int_equal(sl_opstate_snapshot(old[t], snap, sl), sl);
		assert_int_equal(sl_ckpt_builder_init(&b, NULL, 0, &info), 0);
		assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_OPERATOR, OP_ID,
						     SL_CKPT_NO_KG, snap, sl), 0);
		assert_int_equal(sl_ckpt_builder_finish(&b, &data, &len, NULL), 0);
		assert_int_equal(sl_ckpt_task_file(name, sizeof(name), SL_CKPT_TASK_WORKER,
						   (uint16_t)t), 0);
		fd = openat(dirfd_root, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, data, len), (ssize_t)len);
		assert_int_equal(close(fd), 0);
		sl_ckpt_builder_fini(&b);
		free(snap);
	}
	/* Read back in reverse: a restore takes the files in any order. */
	for (uint32_t k = 0; k < n; k++) {
		const uint32_t t = n - 1 - k;
		struct sl_ckpt_file_info info;
		struct sl_ckpt_reader r;
		struct sl_ckpt_section s;
		char name[32], err[256];
		size_t len;

		assert_int_equal(sl_ckpt_task_file(name, sizeof(name), SL_CKPT_TASK_WORKER,
						   (uint16_t)t), 0);
		assert_int_equal(sl_ckpt_file_load(dirfd_root, name, &files[k], &len,
						   err, sizeof(err)), 0);
		assert_int_equal(sl_ckpt_reader_open(&r, files[k], len, &info, err,
						     sizeof(err)), 0);
		assert_int_equal(info.task_index, t);
		assert_int_equal(sl_ckpt_reader_next(&r, &s), 1);
		assert_int_equal(s.kind, SL_CKPT_SEC_OPERATOR);
		assert_int_equal(s.op_id, OP_ID);
		secs[k] = s.data;
		sec_len[k] = s.len;
		assert_int_equal(sl_ckpt_reader_next(&r, &s), 0);
	}
}

/* Restore task t of m from the checkpoint's n files. */
static struct sl_opstate *
restore(uint32_t n, uint16_t t, uint16_t m, unsigned int *diverged)
{
	struct sl_opstate *os = sl_opstate_create(t, m);
	char msg[256] = "";
	unsigned int div = 99;

	assert_non_null(os);
	assert_int_equal(sl_opstate_restore(os, secs, sec_len, n, &div, msg, sizeof(msg)), 0);
	if (diverged != NULL)
		*diverged = div;
	else
		assert_int_equal(div, 0);
	return os;
}

/* The list as "a,b,c" (elements are strings). */
static const char *
list_str(const struct sl_opstate *os, const char *name, enum sl_opstate_mode mode)
{
	static char buf[512];
	int id = sl_opstate_declare((struct sl_opstate *)os, name, mode);
	size_t pos = 0;

	assert_true(id >= 0);
	buf[0] = '\0';
	for (uint32_t i = 0; i < sl_opstate_list_len(os, id); i++) {
		const void *p;
		uint32_t len;

		assert_int_equal(sl_opstate_list_get(os, id, i, &p, &len), 0);
		pos += (size_t)snprintf(buf + pos, sizeof(buf) - pos, "%s%.*s",
					i ? "," : "", (int)len, (const char *)p);
	}
	return buf;
}

static void
add_all(struct sl_opstate *os, int id, const char *csv)
{
	char tmp[256];

	snprintf(tmp, sizeof(tmp), "%s", csv);
	for (char *save = NULL, *e = strtok_r(tmp, ",", &save); e != NULL;
	     e = strtok_r(NULL, ",", &save))
		assert_int_equal(sl_opstate_list_add(os, id, e, (uint32_t)strlen(e)), 0);
}

/* Two old tasks holding "offsets" (split): 4 and 3 elements, e0..e6. */
static void
two_tasks_7(const char *name, enum sl_opstate_mode mode)
{
	struct sl_opstate *old[2] = { sl_opstate_create(0, 2), sl_opstate_create(1, 2) };

	add_all(old[0], sl_opstate_declare(old[0], name, mode), "e0,e1,e2,e3");
	add_all(old[1], sl_opstate_declare(old[1], name, mode), "e4,e5,e6");
	checkpoint(old, 2);
	sl_opstate_destroy(old[0]);
	sl_opstate_destroy(old[1]);
}

/* Restore onto m tasks and compare each task's list with want[]. */
static void
expect_lists(uint16_t m, const char *name, enum sl_opstate_mode mode,
	     const char *const *want)
{
	for (uint16_t t = 0; t < m; t++) {
		struct sl_opstate *os = restore(2, t, m, NULL);

		assert_string_equal(list_str(os, name, mode), want[t]);
		sl_opstate_destroy(os);
	}
}

static void
test_R5_3_list_operations(void **st)
{
	struct sl_opstate *os = sl_opstate_create(0, 1);
	const struct sl_opstate_elem upd[2] = { { "x", 1 }, { "yz", 2 } };
	int a, b;

	(void)st;
	a = sl_opstate_declare(os, "offsets", SL_OPSTATE_SPLIT);
	b = sl_opstate_declare(os, "all", SL_OPSTATE_UNION);
	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	assert_int_equal(sl_opstate_declare(os, "offsets", SL_OPSTATE_SPLIT), 0);
	assert_int_equal(sl_opstate_declare(os, "offsets", SL_OPSTATE_UNION), -EINVAL);
	assert_int_equal(sl_opstate_declare(os, "", SL_OPSTATE_UNION), -EINVAL);
	/* Unset: empty (R5.2's ListState.get). */
	assert_int_equal(sl_opstate_list_len(os, a), 0);
	add_all(os, a, "p,q,r");
	assert_string_equal(list_str(os, "offsets", SL_OPSTATE_SPLIT), "p,q,r");
	assert_int_equal(sl_opstate_list_add(os, a, "", 0), 0);	/* an empty element */
	assert_int_equal(sl_opstate_list_len(os, a), 4);
	assert_int_equal(sl_opstate_list_update(os, a, upd, 2), 0);
	assert_string_equal(list_str(os, "offsets", SL_OPSTATE_SPLIT), "x,yz");
	{
		const void *p;
		uint32_t len;

		assert_int_equal(sl_opstate_list_get(os, a, 2, &p, &len), -ENOENT);
	}
	sl_opstate_list_clear(os, a);
	assert_int_equal(sl_opstate_list_len(os, a), 0);
	/* A list is not a map and back. */
	assert_int_equal(sl_opstate_map_put(os, a, "k", 1, "v", 1), -EINVAL);
	assert_int_equal(sl_opstate_list_add(os, 7, "k", 1), -EINVAL);
	sl_opstate_destroy(os);
}

static int
iter_cat(void *arg, const void *k, uint32_t klen, const void *v, uint32_t vlen)
{
	char *s = arg;
	size_t l = strlen(s);

	snprintf(s + l, 256 - l, "%s%.*s=%.*s", l ? "," : "", (int)klen, (const char *)k,
		 (int)vlen, (const char *)v);
	return 0;
}

static const char *
map_str(const struct sl_opstate *os, const char *name)
{
	static char buf[256];
	int id = sl_opstate_declare((struct sl_opstate *)os, name, SL_OPSTATE_BROADCAST);

	assert_true(id >= 0);
	buf[0] = '\0';
	assert_int_equal(sl_opstate_map_iter(os, id, iter_cat, buf), 0);
	return buf;
}

static void
test_R5_3_broadcast_map_operations(void **st)
{
	struct sl_opstate *os = sl_opstate_create(0, 1);
	int id = sl_opstate_declare(os, "rules", SL_OPSTATE_BROADCAST);
	uint32_t vl = 0;
	const char *v;

	(void)st;
	assert_null(sl_opstate_map_get(os, id, "a", 1, &vl));
	assert_int_equal(sl_opstate_map_put(os, id, "b", 1, "2", 1), 0);
	assert_int_equal(sl_opstate_map_put(os, id, "ab", 2, "1", 1), 0);
	assert_int_equal(sl_opstate_map_put(os, id, "a", 1, "0", 1), 0);
	assert_int_equal(sl_opstate_map_put(os, id, "b", 1, "22", 2), 0);	/* replace */
	assert_int_equal(sl_opstate_map_len(os, id), 3);
	v = sl_opstate_map_get(os, id, "b", 1, &vl);
	assert_non_null(v);
	assert_int_equal(vl, 2);
	assert_memory_equal(v, "22", 2);
	/* Key order: bytes, then length ("a" < "ab" < "b"). */
	assert_string_equal(map_str(os, "rules"), "a=0,ab=1,b=22");
	assert_int_equal(sl_opstate_map_remove(os, id, "ab", 2), 1);
	assert_int_equal(sl_opstate_map_remove(os, id, "ab", 2), 0);
	assert_string_equal(map_str(os, "rules"), "a=0,b=22");
	assert_int_equal(sl_opstate_list_add(os, id, "x", 1), -EINVAL);
	sl_opstate_destroy(os);
}

static void
test_R5_3_even_split_7_from_2_onto_3(void **st)
{
	static const char *const want[] = { "e0,e1,e2", "e3,e4", "e5,e6" };

	(void)st;
	two_tasks_7("offsets", SL_OPSTATE_SPLIT);
	expect_lists(3, "offsets", SL_OPSTATE_SPLIT, want);
	drop_files(2);
}

static void
test_R5_3_even_split_7_from_2_onto_1(void **st)
{
	static const char *const want[] = { "e0,e1,e2,e3,e4,e5,e6" };

	(void)st;
	two_tasks_7("offsets", SL_OPSTATE_SPLIT);
	expect_lists(1, "offsets", SL_OPSTATE_SPLIT, want);
	drop_files(2);
}

static void
test_R5_3_even_split_7_from_2_onto_5(void **st)
{
	/* 7 = 5 * 1 + 2: the first two tasks take the extra elements. */
	static const char *const want[] = { "e0,e1", "e2,e3", "e4", "e5", "e6" };

	(void)st;
	two_tasks_7("offsets", SL_OPSTATE_SPLIT);
	expect_lists(5, "offsets", SL_OPSTATE_SPLIT, want);
	drop_files(2);
}

static void
test_R5_3_even_split_7_from_2_onto_9_empty_chunks(void **st)
{
	static const char *const want[] = { "e0", "e1", "e2", "e3", "e4", "e5", "e6", "", "" };

	(void)st;
	two_tasks_7("offsets", SL_OPSTATE_SPLIT);
	expect_lists(9, "offsets", SL_OPSTATE_SPLIT, want);
	drop_files(2);
}

static void
test_R5_3_even_split_same_parallelism_keeps_lists(void **st)
{
	/* Flink repartitions nothing when N == M: not "e0,e1,e2,e3" cut
	 * 4/3 but each task's own list. */
	static const char *const want[] = { "e0,e1,e2,e3", "e4,e5,e6" };

	(void)st;
	two_tasks_7("offsets", SL_OPSTATE_SPLIT);
	expect_lists(2, "offsets", SL_OPSTATE_SPLIT, want);
	drop_files(2);
}

static void
test_R5_3_even_split_extras_rotate_across_states(void **st)
{
	/* State "a" (7 elements) onto 3: tasks 0,1,2 take 3,2,2; the next
	 * round starts at task 1, the first without an extra, so "b"
	 * (4 elements, 4 = 3 + 1) goes b0,b1 -> task 1, b2 -> task 2,
	 * b3 -> task 0: contiguous chunks, assigned from task 1 on. */
	struct sl_opstate *old[2] = { sl_opstate_create(0, 2), sl_opstate_create(1, 2) };
	static const char *const want_a[] = { "a0,a1,a2", "a3,a4", "a5,a6" };
	static const char *const want_b[] = { "b3", "b0,b1", "b2" };

	(void)st;
	/* Declared b first: the rotation follows names, not declarations. */
	add_all(old[0], sl_opstate_declare(old[0], "b", SL_OPSTATE_SPLIT), "b0");
	add_all(old[0], sl_opstate_declare(old[0], "a", SL_OPSTATE_SPLIT), "a0,a1,a2,a3");
	add_all(old[1], sl_opstate_declare(old[1], "a", SL_OPSTATE_SPLIT), "a4,a5,a6");
	add_all(old[1], sl_opstate_declare(old[1], "b", SL_OPSTATE_SPLIT), "b1,b2,b3");
	checkpoint(old, 2);
	expect_lists(3, "a", SL_OPSTATE_SPLIT, want_a);
	expect_lists(3, "b", SL_OPSTATE_SPLIT, want_b);
	sl_opstate_destroy(old[0]);
	sl_opstate_destroy(old[1]);
	drop_files(2);
}

static void
test_R5_3_union_7_from_2_onto_3(void **st)
{
	static const char *const want[] = { "e0,e1,e2,e3,e4,e5,e6", "e0,e1,e2,e3,e4,e5,e6",
					    "e0,e1,e2,e3,e4,e5,e6" };

	(void)st;
	two_tasks_7("watermarks", SL_OPSTATE_UNION);
	expect_lists(3, "watermarks", SL_OPSTATE_UNION, want);
	drop_files(2);
}

static void
test_R5_3_union_same_parallelism_and_onto_1(void **st)
{
	static const char *const want[] = { "e0,e1,e2,e3,e4,e5,e6", "e0,e1,e2,e3,e4,e5,e6" };

	(void)st;
	two_tasks_7("watermarks", SL_OPSTATE_UNION);
	expect_lists(2, "watermarks", SL_OPSTATE_UNION, want);
	expect_lists(1, "watermarks", SL_OPSTATE_UNION, want);
	drop_files(2);
}

static void
fill_rules(struct sl_opstate *os, const char *extra)
{
	int id = sl_opstate_declare(os, "rules", SL_OPSTATE_BROADCAST);

	assert_int_equal(sl_opstate_map_put(os, id, "p2", 2, "50", 2), 0);
	assert_int_equal(sl_opstate_map_put(os, id, "p1", 2, "10", 2), 0);
	if (extra != NULL)
		assert_int_equal(sl_opstate_map_put(os, id, extra, (uint32_t)strlen(extra),
						    "1", 1), 0);
}

static void
test_R5_3_broadcast_2_onto_3_and_1(void **st)
{
	struct sl_opstate *old[2] = { sl_opstate_create(0, 2), sl_opstate_create(1, 2) };

	(void)st;
	fill_rules(old[0], NULL);
	fill_rules(old[1], NULL);
	/* A split list beside it keeps its own rule. */
	add_all(old[0], sl_opstate_declare(old[0], "offsets", SL_OPSTATE_SPLIT), "o0");
	add_all(old[1], sl_opstate_declare(old[1], "offsets", SL_OPSTATE_SPLIT), "o1");
	checkpoint(old, 2);
	for (uint16_t m = 1; m <= 3; m += 2)
		for (uint16_t t = 0; t < m; t++) {
			struct sl_opstate *os = restore(2, t, m, NULL);

			assert_string_equal(map_str(os, "rules"), "p1=10,p2=50");
			sl_opstate_destroy(os);
		}
	sl_opstate_destroy(old[0]);
	sl_opstate_destroy(old[1]);
	drop_files(2);
}

static void
test_R5_3_broadcast_diverged_copies_reported(void **st)
{
	struct sl_opstate *old[2] = { sl_opstate_create(0, 2), sl_opstate_create(1, 2) };
	static const char *const want[3] = { "p1=10,p2=50", "p1=10,p2=50,p9=1", "p1=10,p2=50" };

	(void)st;
	fill_rules(old[0], NULL);
	fill_rules(old[1], "p9");
	checkpoint(old, 2);
	/* Flink's rule: new task i takes old task i % N's copy. */
	for (uint16_t t = 0; t < 3; t++) {
		unsigned int div = 0;
		struct sl_opstate *os = restore(2, t, 3, &div);

		assert_int_equal(div, 1);
		assert_string_equal(map_str(os, "rules"), want[t]);
		sl_opstate_destroy(os);
	}
	sl_opstate_destroy(old[0]);
	sl_opstate_destroy(old[1]);
	drop_files(2);
}

static void
test_R5_3_restore_refuses_corrupt_snapshots(void **st)
{
	struct sl_opstate *old[2] = { sl_opstate_create(0, 2), sl_opstate_create(1, 2) };
	struct sl_opstate *os = sl_opstate_create(0, 3);
	uint8_t buf[2][512];
	size_t len[2];
	const void *p[2] = { buf[0], buf[1] };
	char msg[256];

	(void)st;
	add_all(old[0], sl_opstate_declare(old[0], "offsets", SL_OPSTATE_SPLIT), "e0,e1");
	add_all(old[1], sl_opstate_declare(old[1], "offsets", SL_OPSTATE_UNION), "e2");
	for (int t = 0; t < 2; t++)
		len[t] = sl_opstate_snapshot(old[t], buf[t], sizeof(buf[t]));
	/* One name, two modes. */
	assert_int_equal(sl_opstate_restore(os, p, len, 2, NULL, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "'offsets' is split"));
	/* Only one of two tasks' snapshots. */
	assert_int_equal(sl_opstate_restore(os, p, len, 1, NULL, msg, sizeof(msg)), -EINVAL);
	/* Every truncation of a snapshot is refused. */
	for (size_t l = 0; l < len[0]; l++) {
		const void *q[1] = { buf[0] };
		struct sl_opstate *one = sl_opstate_create(0, 1);
		int rc;

		buf[0][10] = 1;	/* as if written by 1 task */
		rc = sl_opstate_restore(one, q, &l, 1, NULL, msg, sizeof(msg));
		assert_true(rc == -EBADMSG || rc == -EINVAL);
		sl_opstate_destroy(one);
	}
	sl_opstate_destroy(os);
	sl_opstate_destroy(old[0]);
	sl_opstate_destroy(old[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_R5_3_list_operations),
		cmocka_unit_test(test_R5_3_broadcast_map_operations),
		cmocka_unit_test(test_R5_3_even_split_7_from_2_onto_3),
		cmocka_unit_test(test_R5_3_even_split_7_from_2_onto_1),
		cmocka_unit_test(test_R5_3_even_split_7_from_2_onto_5),
		cmocka_unit_test(test_R5_3_even_split_7_from_2_onto_9_empty_chunks),
		cmocka_unit_test(test_R5_3_even_split_same_parallelism_keeps_lists),
		cmocka_unit_test(test_R5_3_even_split_extras_rotate_across_states),
		cmocka_unit_test(test_R5_3_union_7_from_2_onto_3),
		cmocka_unit_test(test_R5_3_union_same_parallelism_and_onto_1),
		cmocka_unit_test(test_R5_3_broadcast_2_onto_3_and_1),
		cmocka_unit_test(test_R5_3_broadcast_diverged_copies_reported),
		cmocka_unit_test(test_R5_3_restore_refuses_corrupt_snapshots),
	};

	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
