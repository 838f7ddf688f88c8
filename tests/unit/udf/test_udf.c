/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: the plugin loader and the example plugins, built by the
 * build into SL_PLUGINS_DIR: abi_next (built against the next ABI
 * version) is refused with the message naming its file, its version and
 * the expected one; a missing plugin names the path; rowfns' flat_map
 * (bits: 0..n rows per row), map (bucket) and filter (modulo) over a
 * vector give exact rows; burst (a keyed process function with map and
 * value state, event-time timers coalesced per key and ts, and a late
 * side output) gives the alerts worked out by hand below, rows arriving
 * out of order, on both state backends; rowfns' range (a user
 * aggregate) in a tumbling window and in session windows that merge
 * (agg_merge) gives max - min per window beside count() and max(). The
 * co_process kind was added without an ABI bump (docs/udf.md): the
 * layout a version-1 plugin was built against is checked to be
 * unchanged (the plugin-built structures' sizes and every older host
 * member's offset, as the header had them before), and SLUICE_HOST_HAS
 * tells a plugin that an older host lacks the new members.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sl_kg.h"
#include "sl_process.h"
#include "sl_udf.h"
#include "sl_window.h"

#define MAXP 128
#define REGION_LEN (64u << 20)

static const char *g_dir;
static enum sl_state_backend g_backend;
static void *g_region;

static uint8_t g_out[64][64];
static unsigned int g_n_out;
static uint8_t g_side[8][24];
static unsigned int g_n_side;

static uint8_t *
t_out(void *arg)
{
	(void)arg;
	assert_true(g_n_out < 64);
	return g_out[g_n_out++];
}

static void
t_side(void *arg, int tag, const uint8_t *row)
{
	(void)arg;
	assert_int_equal(tag, 0);
	memcpy(g_side[g_n_side++], row, 24);
}

static int64_t
col(unsigned int i, unsigned int off)
{
	int64_t x;

	memcpy(&x, g_out[i] + off, 8);
	return x;
}

/*
 * ABI version 1 as plugins were built against it before co_process
 * (LP64): what a plugin builds (sluice_fn arrays, its plugin table) and
 * where it finds the host's functions must not move within a version.
 */
static void
test_abi1_layout_unchanged(void **state)
{
#if __SIZEOF_POINTER__ == 8
	static const struct { const char *name; size_t off, now; } host[] = {
#define H(m, o) { #m, o, offsetof(struct sluice_host, m) }
		H(abi_version, 0), H(size, 4), H(param, 8), H(param_ms, 16),
		H(param_int, 24), H(fail, 32), H(out_field, 40), H(side_output, 48),
		H(value_state, 56), H(list_state, 64), H(map_state, 72), H(key, 80),
		H(timestamp, 88), H(watermark, 96), H(now, 104), H(timer_register, 112),
		H(timer_delete, 120), H(value_get, 128), H(value_put, 136),
		H(state_clear, 144), H(list_add, 152), H(list_get, 160), H(map_put, 168),
		H(map_get, 176), H(map_remove, 184), H(map_iter, 192), H(emit, 200),
		H(emit_side, 208),
#undef H
	};
	struct sluice_host old = sl_udf_host;

	(void)state;
	assert_int_equal(SLUICE_UDF_ABI_VERSION, 1);
	assert_int_equal(sizeof(struct sluice_fn), 128);
	assert_int_equal(offsetof(struct sluice_fn, process), 64);
	assert_int_equal(offsetof(struct sluice_fn, on_timer), 72);
	assert_int_equal(offsetof(struct sluice_fn, agg_type), 120);
	assert_int_equal(sizeof(struct sluice_plugin), 24);
	assert_int_equal(sizeof(struct sluice_schema), 32);
	assert_int_equal(sizeof(struct sluice_field), 24);
	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++)
		if (host[i].off != host[i].now)
			fail_msg("sluice_host.%s moved from %zu to %zu: that is a new ABI version",
				 host[i].name, host[i].off, host[i].now);
	assert_int_equal(SLUICE_FN_PROCESS, 5);
	assert_int_equal(SLUICE_FN_CO_PROCESS, 6);
	/* This host has the additions; one of version 1's first size has not. */
	assert_true(SLUICE_HOST_HAS(&sl_udf_host, input));
	assert_true(SLUICE_HOST_HAS(&sl_udf_host, input_schema));
	old.size = 216;
	assert_false(SLUICE_HOST_HAS(&old, input));
	assert_false(SLUICE_HOST_HAS(&old, input_schema));
	assert_true(SLUICE_HOST_HAS(&old, emit_side));
#else
	(void)state;
	skip();
#endif
}

static void
test_abi_mismatch_refused(void **state)
{
	struct sl_udf_lib lib;
	char msg[512], want[512];

	(void)state;
	assert_int_equal(sl_udf_open(g_dir, "abi_next", &lib, msg, sizeof(msg)), -EPROTO);
	snprintf(want, sizeof(want),
		 "plugin %s/abi_next.so was built against UDF ABI version %u, this sluice expects version %u: rebuild it against this sluice's sluice/udf.h",
		 g_dir, SLUICE_UDF_ABI_VERSION + 1, SLUICE_UDF_ABI_VERSION);
	assert_string_equal(msg, want);
	assert_null(lib.dl);
	assert_int_equal(sl_udf_open(g_dir, "nope", &lib, msg, sizeof(msg)), -ENOENT);
	snprintf(want, sizeof(want), "plugin %s/nope.so: No such file or directory (plugins.dir is resolved against the working directory)", g_dir);
	assert_string_equal(msg, want);
	assert_int_equal(sl_udf_open(g_dir, "../x", &lib, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(sl_udf_open(NULL, "rowfns", &lib, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "plugin 'rowfns' needs plugins: {dir: DIR} in the job, the directory of rowfns.so");
}

/* k:u64, v:u32, ts:timestamp_ms rows into a vector. */
static struct sl_vec *
vec_of(const struct sl_schema *s, const uint64_t *k, const uint32_t *v,
       const int64_t *ts, unsigned int n)
{
	struct sl_vec *vec = aligned_alloc(64, (sl_vec_size(s->row_size) + 63) & ~(size_t)63);

	sl_vec_reset(vec, s->row_size);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *row = sl_vec_row(vec, i);

		memcpy(row, &k[i], 8);
		memcpy(row + 8, &v[i], 4);
		memcpy(row + 12, &ts[i], 8);
		vec->hash[i] = sl_kg_hash(&k[i], 8);
	}
	vec->n_rows = (uint16_t)n;
	sl_vec_select_all(vec);
	return vec;
}

static void
inst(struct sl_udf_inst *u, const struct sl_udf_lib *lib, const char *fn,
     uint32_t kind, const struct sl_schema *s, const struct sl_udf_param *p,
     uint16_t n_p)
{
	struct sl_udf_conf c = { .in = s, .ts_field = 2, .n_params = n_p, .params = p };
	char msg[256];

	c.fn = sl_udf_lookup(lib, fn, kind, msg, sizeof(msg));
	assert_non_null(c.fn);
	assert_int_equal(sl_udf_inst_setup(u, &c, msg, sizeof(msg)), 0);
}

static void
test_rowfns(void **state)
{
	static const uint64_t k[] = { 1, 2, 3, 4 };
	static const uint32_t v[] = { 5, 0, 0x80000001u, 6 };
	static const int64_t ts[] = { 1999, 2000, -1, 4500 };
	struct sl_udf_param p[3] = { { "field", "v" }, { "m", "3" }, { "r", "0" } };
	struct sl_udf_inst *u = calloc(1, sizeof(*u));
	struct sl_udf_lib lib;
	struct sl_schema s;
	struct sl_vec *vec;
	char msg[256];
	size_t at;

	(void)state;
	assert_int_equal(sl_schema_parse_spec(&s, "k:u64,v:u32,ts:timestamp_ms", &at), 0);
	assert_int_equal(sl_udf_open(g_dir, "rowfns", &lib, msg, sizeof(msg)), 0);
	vec = vec_of(&s, k, v, ts, 4);

	/* bits: 5 -> bits 0, 2; 0 -> none; 0x80000001 -> 0, 31; 6 -> 1, 2 */
	inst(u, &lib, "bits", SLUICE_FN_FLAT_MAP, &s, p, 1);
	assert_int_equal(u->out.n_fields, 4);
	assert_string_equal(u->out.f[3].name, "bit");
	g_n_out = 0;
	assert_int_equal(sl_udf_rows(u, vec, t_out, NULL), 6);
	{
		static const uint64_t wk[] = { 1, 1, 3, 3, 4, 4 };
		static const uint32_t wb[] = { 0, 2, 0, 31, 1, 2 };

		for (unsigned int i = 0; i < 6; i++) {
			uint32_t b;

			assert_int_equal(col(i, 0), wk[i]);
			memcpy(&b, g_out[i] + 20, 4);
			assert_int_equal(b, wb[i]);
			assert_memory_equal(g_out[i], sl_vec_row(vec, wk[i] - 1), 20);
		}
	}
	sl_udf_inst_fini(u);

	/* bucket of ts by 1s, rounding down (-1 -> -1000) */
	strcpy(p[0].value, "ts");
	strcpy(p[1].name, "width");
	strcpy(p[1].value, "1s");
	inst(u, &lib, "bucket", SLUICE_FN_MAP, &s, p, 2);
	g_n_out = 0;
	assert_int_equal(sl_udf_rows(u, vec, t_out, NULL), 4);
	assert_int_equal(col(0, 20), 1000);
	assert_int_equal(col(1, 20), 2000);
	assert_int_equal(col(2, 20), -1000);
	assert_int_equal(col(3, 20), 4000);
	sl_udf_inst_fini(u);

	/* modulo: v % 3 == 0 keeps v = 0, 0x80000001 (2147483649 = 3 * 715827883) and 6 */
	strcpy(p[0].value, "v");
	strcpy(p[1].name, "m");
	strcpy(p[1].value, "3");
	inst(u, &lib, "modulo", SLUICE_FN_FILTER, &s, p, 3);
	assert_true(u->out_is_in);
	g_n_out = 0;
	assert_int_equal(sl_udf_rows(u, vec, t_out, NULL), 3);
	assert_int_equal(col(0, 0), 2);
	assert_int_equal(col(1, 0), 3);
	assert_int_equal(col(2, 0), 4);
	sl_udf_inst_fini(u);

	/* the function's own refusal, as the job file will show it */
	{
		struct sl_udf_conf c = { .in = &s, .ts_field = 2, .n_params = 1, .params = p };

		strcpy(p[0].value, "nosuch");
		c.fn = sl_udf_lookup(&lib, "bits", 0, msg, sizeof(msg));
		assert_int_equal(sl_udf_inst_setup(u, &c, msg, sizeof(msg)), -EINVAL);
		assert_string_equal(msg, "function 'bits': field is not a column of the input");
	}
	free(vec);
	free(u);
	sl_udf_close(&lib);
}

/*
 * burst, count 3 within 1000 ms, keys 1 and 2 (k:u64, v:u32, ts):
 *   rows k1@500, k1@100, k1@900, k2@1000   (out of order)
 *   WM(1000): timers 100, 500, 900 (k1), 1000 (k2) fire in ts order:
 *             k1@900: (-100, 900] holds 3 rows -> alert (1, 900, 3, 1)
 *   row k1@950: 950 <= WM: late -> side output, not counted
 *   rows k1@1200, k1@1200, k1@2500
 *   WM(MAX): k1@1200: (200, 1200] holds 500, 900, 1200 x2 = 4 rows ->
 *            alert (1, 1200, 4, 2); k1@2500: 1 row; the pruning timers
 *            (t + 1000) fire without output; no timer is left.
 */
static void
test_burst(void **state)
{
	static const uint64_t k1[] = { 1, 1, 1, 2 }, k2[] = { 1 }, k3[] = { 1, 1, 1 };
	static const uint32_t v[] = { 0, 0, 0, 0 };
	static const int64_t t1[] = { 500, 100, 900, 1000 }, t2[] = { 950 },
			     t3[] = { 1200, 1200, 2500 };
	struct sl_udf_param p[2] = { { "count", "3" }, { "within", "1s" } };
	struct sl_process *pr = calloc(1, sizeof(*pr));
	struct sl_state_conf sc = { 0 };
	struct sl_process_conf c = { 0 };
	struct sl_udf_lib lib;
	struct sl_state *st;
	struct sl_schema s;
	struct sl_vec *vec;
	char msg[256], dir[64];
	size_t at;

	(void)state;
	assert_int_equal(sl_schema_parse_spec(&s, "k:u64,v:u32,ts:timestamp_ms", &at), 0);
	assert_int_equal(sl_udf_open(g_dir, "burst", &lib, msg, sizeof(msg)), 0);
	sc.backend = g_backend;
	sc.max_parallelism = MAXP;
	sc.last_kg = MAXP - 1;
	sc.mem = g_region;
	sc.mem_len = REGION_LEN;
	snprintf(dir, sizeof(dir), "/tmp/sl-test-udf-%d-%d", (int)getpid(), (int)g_backend);
	sc.dir = dir;
	st = sl_state_open(&sc);
	assert_non_null(st);
	c.in = &s;
	c.ts_field = 2;
	c.n_keys = 1;
	c.fn = sl_udf_lookup(&lib, "burst", SLUICE_FN_PROCESS, msg, sizeof(msg));
	c.n_params = 2;
	c.params = p;
	c.capacity = 64;
	c.max_parallelism = MAXP;
	c.last_kg = MAXP - 1;
	assert_int_equal(sl_process_init(pr, &c, st, t_out, t_side, NULL, msg, sizeof(msg)), 0);
	assert_string_equal(pr->u.out.f[1].name, "ts");
	assert_string_equal(pr->u.out.f[3].name, "alert_no");
	g_n_out = g_n_side = 0;

	vec = vec_of(&s, k1, v, t1, 4);
	sl_process_run(pr, vec, 0);
	free(vec);
	assert_int_equal(sl_process_timers(pr, SLUICE_EVENT_TIME), 4);
	assert_true(sl_process_advance(pr, 1000) >= 4);
	assert_int_equal(g_n_out, 1);
	assert_int_equal(col(0, 0), 1);
	assert_int_equal(col(0, 8), 900);
	assert_int_equal(col(0, 16), 3);
	assert_int_equal(col(0, 24), 1);

	vec = vec_of(&s, k2, v, t2, 1);
	sl_process_run(pr, vec, 0);
	free(vec);
	assert_int_equal(g_n_side, 1);
	{
		int64_t sv;

		memcpy(&sv, g_side[0] + 12, 8);
		assert_int_equal(sv, 950);
	}

	vec = vec_of(&s, k3, v, t3, 3);
	sl_process_run(pr, vec, 0);
	free(vec);
	assert_true(sl_process_advance(pr, INT64_MAX) > 0);
	assert_int_equal(g_n_out, 2);
	assert_int_equal(col(1, 8), 1200);
	assert_int_equal(col(1, 16), 4);
	assert_int_equal(col(1, 24), 2);
	assert_int_equal(sl_process_timers(pr, SLUICE_EVENT_TIME), 0);
	assert_int_equal(pr->stats.fn_errors + pr->stats.state_errors, 0);
	sl_process_fini(pr);
	sl_state_close(st);
	sl_udf_close(&lib);
	free(pr);
	if (g_backend == SL_STATE_BACKEND_ROCKSDB) {
		char cmd[96];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

/*
 * rowfns range over v (k:u64, v:u32, ts), beside count() and max(v):
 *  tumbling 1000: key 1 rows v 5@100, 9@200, 2@900 -> [0,1000): 3, 7, 9;
 *                 v 4@1500 -> [1000,2000): 1, 0, 4.
 *  session gap 200: key 1 rows v 10@0, 30@300, then 20@150 bridges
 *                 [0,200) and [300,500) through [150,350): one session
 *                 [0,500) of 3 rows, range 20, max 30.
 */
static void
test_range_aggregate_in_window(void **state)
{
	static const uint64_t k[] = { 1, 1, 1, 1 }, ks[] = { 1, 1, 1 };
	static const uint32_t v[] = { 5, 9, 2, 4 }, vs[] = { 10, 30, 20 };
	static const int64_t ts[] = { 100, 200, 900, 1500 }, tss[] = { 0, 300, 150 };
	struct sl_udf_param p[1] = { { "field", "v" } };
	struct sl_udf_inst *u = calloc(1, sizeof(*u));
	struct sl_win *w = calloc(1, sizeof(*w));
	struct sl_state_conf sc = { 0 };
	struct sl_win_conf c;
	struct sl_udf_lib lib;
	struct sl_state *st;
	struct sl_schema s;
	struct sl_vec *vec;
	char msg[256];
	size_t at;

	(void)state;
	assert_int_equal(sl_schema_parse_spec(&s, "k:u64,v:u32,ts:timestamp_ms", &at), 0);
	assert_int_equal(sl_udf_open(g_dir, "rowfns", &lib, msg, sizeof(msg)), 0);
	inst(u, &lib, "range", SLUICE_FN_AGGREGATE, &s, p, 1);
	for (int sess = 0; sess < 2; sess++) {
		sc.backend = SL_STATE_BACKEND_HEAP;
		sc.max_parallelism = MAXP;
		sc.last_kg = MAXP - 1;
		sc.mem = g_region;
		sc.mem_len = REGION_LEN;
		st = sl_state_open(&sc);
		assert_non_null(st);
		memset(&c, 0, sizeof(c));
		c.in = &s;
		c.ts_field = 2;
		c.size = sess ? 0 : 1000;
		c.gap = sess ? 200 : 0;
		c.n_keys = 1;
		c.n_aggs = 3;
		c.agg[0].fn = SL_WIN_COUNT;
		c.agg[0].field = -1;
		strcpy(c.agg[0].name, "count");
		c.agg[1].fn = SL_WIN_UDF;
		c.agg[1].field = -1;
		strcpy(c.agg[1].name, "v_range");
		c.agg[1].ufn = u->fn;
		c.agg[1].uself = u->self;
		c.agg[2].fn = SL_WIN_MAX;
		c.agg[2].field = 1;
		strcpy(c.agg[2].name, "max_v");
		c.capacity = 64;
		c.max_parallelism = MAXP;
		c.last_kg = MAXP - 1;
		assert_int_equal(sl_win_init(w, &c, st), 0);
		assert_string_equal(w->out.f[4].name, "v_range");
		assert_int_equal(w->out.f[4].type, SL_T_I64);
		g_n_out = 0;
		vec = sess ? vec_of(&s, ks, vs, tss, 3) : vec_of(&s, k, v, ts, 4);
		sl_win_process(w, vec);
		free(vec);
		sl_win_advance(w, INT64_MAX, t_out, NULL);
		if (!sess) {
			assert_int_equal(g_n_out, 2);
			assert_int_equal(col(0, 8), 0);
			assert_int_equal(col(0, 24), 3);
			assert_int_equal(col(0, 32), 7);
			assert_int_equal(col(0, 40), 9);
			assert_int_equal(col(1, 8), 1000);
			assert_int_equal(col(1, 24), 1);
			assert_int_equal(col(1, 32), 0);
			assert_int_equal(col(1, 40), 4);
		} else {
			assert_int_equal(g_n_out, 1);
			assert_int_equal(col(0, 8), 0);
			assert_int_equal(col(0, 16), 500);
			assert_int_equal(col(0, 24), 3);
			assert_int_equal(col(0, 32), 20);
			assert_int_equal(col(0, 40), 30);
		}
		sl_win_fini(w);
		sl_state_close(st);
	}
	/* What the window refuses of a user aggregate. */
	c.agg[1].ufn = sl_udf_lookup(&lib, "bits", 0, msg, sizeof(msg));
	{
		struct sl_schema out;

		assert_int_equal(sl_win_conf_check(&c, &out, msg, sizeof(msg)), -EINVAL);
		assert_non_null(strstr(msg, "aggregate 'v_range': a user aggregate needs acc_size"));
	}
	sl_udf_inst_fini(u);
	free(u);
	free(w);
	sl_udf_close(&lib);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abi_mismatch_refused),
		cmocka_unit_test(test_abi1_layout_unchanged),
		cmocka_unit_test(test_rowfns),
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_range_aggregate_in_window),
	};
	const struct CMUnitTest keyed[] = {
		cmocka_unit_test(test_burst),
	};
	int failed;

	g_dir = getenv("SL_PLUGINS_DIR");
	if (g_dir == NULL)
		return 77;
	g_region = mmap(NULL, REGION_LEN, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g_region == MAP_FAILED)
		return 1;
	g_backend = SL_STATE_BACKEND_HEAP;
	failed = cmocka_run_group_tests_name("udf-heap", tests, NULL, NULL);
	g_backend = SL_STATE_BACKEND_ROCKSDB;
	failed += cmocka_run_group_tests_name("udf-rocksdb", keyed, NULL, NULL);
	return failed != 0;
}
