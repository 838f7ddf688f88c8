/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: sl_process, keyed process functions, on both state
 * backends: W4.2 (the builtin count_with_timeout, through the operator),
 * W4.3 (timer coalescing, and a timer registered again after its
 * watermark firing at the next one in timestamp order), R4.3/R4.5/R5.2
 * (processing-time timers coalesced per key and timestamp, fired in key
 * order, with value, list and map state and a side output, and state
 * cleared from onTimer), R4.3 (register and delete through the
 * context), R4.4 (a timer at or below the watermark waits for the next
 * one), R4.5 and R4.8 (onTimer's key and timestamp in both domains; end
 * of input fires event-time timers only), W5.1 (TTL on a function's value
 * state), R4.2 (a processing-time timer for T fires at clock T + 1 as
 * the dataplane drives it), R4.6 (onTimer's state is its key's), R4.7
 * (a snapshot taken while rows keep coming,
 * restored onto 1 and onto 2 instances, gives the uninterrupted run's
 * output and its timers), and the refusals of the setup.
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
#include "sl_state.h"

#define MAXP 128
#define N_REGION 3
#define REGION_LEN (64u << 20)
#define MAX_OUT 20000
#define OUT_ROW 40

static enum sl_state_backend g_backend;
static void *regions[N_REGION];
static unsigned int n_dirs;

/* ---- test functions, written against sluice/udf.h only ---------------- */

/* W4.3: every row registers ((ts + 5000) / 1000) * 1000; onTimer emits
 * (key, timer ts). */
struct coal {
	const struct sluice_host *h;
	uint32_t k_off, ts_off;
};

static int
coal_setup(const struct sluice_host *h, sluice_setup *s,
	   const struct sluice_schema *in, void **self)
{
	struct coal *f = calloc(1, sizeof(*f));

	(void)in;
	f->h = h;
	assert_int_equal(h->out_field(s, "k", SLUICE_U64, 0), 0);
	assert_int_equal(h->out_field(s, "ts", SLUICE_TS, 0), 1);
	*self = f;
	return 0;
}

static void
coal_start(void *self, const struct sluice_schema *out)
{
	struct coal *f = self;

	f->k_off = out->fields[0].offset;
	f->ts_off = out->fields[1].offset;
}

static int
coal_process(void *self, sluice_ctx *c, const void *row)
{
	struct coal *f = self;

	(void)row;
	return f->h->timer_register(c, SLUICE_EVENT_TIME,
				    ((f->h->timestamp(c) + 5000) / 1000) * 1000) < 0 ? -1 : 0;
}

static int
coal_on_timer(void *self, sluice_ctx *c, uint32_t domain, int64_t ts)
{
	struct coal *f = self;
	uint8_t *o = f->h->emit(c);

	assert_int_equal(domain, SLUICE_EVENT_TIME);
	assert_int_equal(f->h->timestamp(c), ts);
	memcpy(o + f->k_off, f->h->key(c, NULL), 8);
	memcpy(o + f->ts_off, &ts, 8);
	return 0;
}

/*
 * R5.2 primitives: value "sum", list "vals", map "seen" (v -> times
 * seen); a negative v goes to side output "neg" and nothing else. Each
 * row sets a processing-time timer at the next full second; it emits
 * (k, sum, list length, map entries, ts) and clears the three states.
 */
struct kinds {
	const struct sluice_host *h;
	int sum, vals, seen, neg;
	uint32_t off[5];
};

static int
kinds_setup(const struct sluice_host *h, sluice_setup *s,
	    const struct sluice_schema *in, void **self)
{
	struct kinds *f = calloc(1, sizeof(*f));

	(void)in;
	f->h = h;
	h->out_field(s, "k", SLUICE_U64, 0);
	h->out_field(s, "sum", SLUICE_I64, 0);
	h->out_field(s, "n_list", SLUICE_U64, 0);
	h->out_field(s, "n_map", SLUICE_U64, 0);
	h->out_field(s, "ts", SLUICE_TS, 0);
	f->sum = h->value_state(s, "sum", 8, 0);
	f->vals = h->list_state(s, "vals", 0);
	f->seen = h->map_state(s, "seen", 8, 0);
	f->neg = h->side_output(s, "neg");
	assert_int_equal(h->value_state(s, "sum", 8, 0), -EEXIST);
	assert_true(f->sum >= 0 && f->vals >= 0 && f->seen >= 0 && f->neg == 0);
	*self = f;
	return 0;
}

static void
kinds_start(void *self, const struct sluice_schema *out)
{
	struct kinds *f = self;

	for (int i = 0; i < 5; i++)
		f->off[i] = out->fields[i].offset;
}

static int
kinds_process(void *self, sluice_ctx *c, const void *row)
{
	struct kinds *f = self;
	const struct sluice_host *h = f->h;
	int64_t v, sum = 0;
	uint32_t seen = 0;

	memcpy(&v, (const uint8_t *)row + 8, 8);
	if (v < 0)
		return h->emit_side(c, f->neg, row);
	assert_true(h->value_get(c, f->sum, &sum) >= 0);
	sum += v;
	assert_int_equal(h->value_put(c, f->sum, &sum), 0);
	assert_int_equal(h->list_add(c, f->vals, &v, 8), 0);
	(void)h->map_get(c, f->seen, &v, &seen, sizeof(seen));
	seen++;
	assert_int_equal(h->map_put(c, f->seen, &v, &seen, sizeof(seen)), 0);
	return h->timer_register(c, SLUICE_PROCESSING_TIME,
				 (h->now(c) / 1000 + 1) * 1000) < 0 ? -1 : 0;
}

static int
count_elem(void *arg, const void *e, uint32_t len)
{
	(void)e;
	assert_int_equal(len, 8);
	(*(uint64_t *)arg)++;
	return 0;
}

static int
count_entry(void *arg, const void *k, const void *v, uint32_t len)
{
	(void)k;
	(void)v;
	assert_int_equal(len, 4);
	(*(uint64_t *)arg)++;
	return 0;
}

static int
kinds_on_timer(void *self, sluice_ctx *c, uint32_t domain, int64_t ts)
{
	struct kinds *f = self;
	const struct sluice_host *h = f->h;
	uint64_t n_list = 0, n_map = 0;
	int64_t sum = 0;
	uint8_t *o;

	assert_int_equal(domain, SLUICE_PROCESSING_TIME);
	assert_int_equal(h->value_get(c, f->sum, &sum), 1);
	assert_true(h->list_get(c, f->vals, count_elem, &n_list) >= 0);
	assert_true(h->map_iter(c, f->seen, count_entry, &n_map) >= 0);
	o = h->emit(c);
	memcpy(o + f->off[0], h->key(c, NULL), 8);
	memcpy(o + f->off[1], &sum, 8);
	memcpy(o + f->off[2], &n_list, 8);
	memcpy(o + f->off[3], &n_map, 8);
	memcpy(o + f->off[4], &ts, 8);
	h->state_clear(c, f->sum);
	h->state_clear(c, f->vals);
	h->state_clear(c, f->seen);
	return 0;
}

/*
 * "at": v > 0 sets an event-time timer at v, v < 0 deletes the one at
 * -v, v == 0 sets a processing-time timer at now + 100; onTimer emits
 * (key, ts, domain), checking that the context's timestamp is the
 * timer's (R4.5).
 */
struct at {
	const struct sluice_host *h;
};

static int
at_setup(const struct sluice_host *h, sluice_setup *s,
	 const struct sluice_schema *in, void **self)
{
	struct at *f = calloc(1, sizeof(*f));

	(void)in;
	f->h = h;
	h->out_field(s, "k", SLUICE_U64, 0);
	h->out_field(s, "ts", SLUICE_TS, 0);
	h->out_field(s, "dom", SLUICE_U64, 0);
	*self = f;
	return 0;
}

static int
at_process(void *self, sluice_ctx *c, const void *row)
{
	struct at *f = self;
	int64_t v;

	memcpy(&v, (const uint8_t *)row + 8, 8);
	if (v > 0)
		return f->h->timer_register(c, SLUICE_EVENT_TIME, v) < 0 ? -1 : 0;
	if (v < 0)
		return f->h->timer_delete(c, SLUICE_EVENT_TIME, -v) < 0 ? -1 : 0;
	return f->h->timer_register(c, SLUICE_PROCESSING_TIME, f->h->now(c) + 100) < 0 ? -1 : 0;
}

static int
at_on_timer(void *self, sluice_ctx *c, uint32_t domain, int64_t ts)
{
	struct at *f = self;
	uint8_t *o = f->h->emit(c);
	uint64_t d = domain;

	assert_int_equal(f->h->timestamp(c), ts);
	memcpy(o, f->h->key(c, NULL), 8);
	memcpy(o + 8, &ts, 8);
	memcpy(o + 16, &d, 8);
	return 0;
}

/* "ttl": a value state with a 10 s TTL; v == 1 writes ts to it, v == 2
 * reads it and emits (key, found, value). */
struct ttl {
	const struct sluice_host *h;
	int st;
};

static int
ttl_setup(const struct sluice_host *h, sluice_setup *s,
	  const struct sluice_schema *in, void **self)
{
	struct ttl *f = calloc(1, sizeof(*f));

	(void)in;
	f->h = h;
	h->out_field(s, "k", SLUICE_U64, 0);
	h->out_field(s, "found", SLUICE_I64, 0);
	h->out_field(s, "val", SLUICE_I64, 0);
	f->st = h->value_state(s, "x", 8, 10000);
	*self = f;
	return f->st < 0 ? f->st : 0;
}

static int
ttl_process(void *self, sluice_ctx *c, const void *row)
{
	struct ttl *f = self;
	int64_t v, ts = f->h->timestamp(c), val = 0, found;
	uint8_t *o;

	memcpy(&v, (const uint8_t *)row + 8, 8);
	if (v == 1)
		return f->h->value_put(c, f->st, &ts);
	found = f->h->value_get(c, f->st, &val);
	o = f->h->emit(c);
	memcpy(o, f->h->key(c, NULL), 8);
	memcpy(o + 8, &found, 8);
	memcpy(o + 16, &val, 8);
	return 0;
}

static void
free_self(void *self)
{
	free(self);
}

static const struct sluice_fn test_fns[] = {
	{ .name = "coal", .kind = SLUICE_FN_PROCESS, .setup = coal_setup,
	  .start = coal_start, .teardown = free_self, .process = coal_process,
	  .on_timer = coal_on_timer },
	{ .name = "kinds", .kind = SLUICE_FN_PROCESS, .setup = kinds_setup,
	  .start = kinds_start, .teardown = free_self, .process = kinds_process,
	  .on_timer = kinds_on_timer },
	{ .name = "at", .kind = SLUICE_FN_PROCESS, .setup = at_setup,
	  .teardown = free_self, .process = at_process, .on_timer = at_on_timer },
	{ .name = "ttl", .kind = SLUICE_FN_PROCESS, .setup = ttl_setup,
	  .teardown = free_self, .process = ttl_process },
};

/* ---- fixture: k:u64, v:i64, ts:timestamp_ms ---------------------------- */

struct fx {
	struct sl_schema in;
	struct sl_state *st;
	struct sl_process p;
	struct sl_udf_lib lib;
	struct sl_udf_param param[2];
	struct sl_vec *v;
	char dir[96];
	uint8_t out[MAX_OUT][OUT_ROW];
	unsigned int n_out;
	uint8_t side[64][24];
	unsigned int n_side;
};

static uint8_t *
t_out(void *ctx)
{
	struct fx *f = ctx;

	assert_true(f->n_out < MAX_OUT);
	return f->out[f->n_out++];
}

static void
t_side(void *ctx, int tag, const uint8_t *row)
{
	struct fx *f = ctx;

	assert_int_equal(tag, 0);
	assert_true(f->n_side < 64);
	memcpy(f->side[f->n_side++], row, 24);
}

static const struct sluice_fn *
fn_named(struct fx *f, const char *name)
{
	char msg[256];

	for (size_t i = 0; i < sizeof(test_fns) / sizeof(test_fns[0]); i++)
		if (strcmp(test_fns[i].name, name) == 0)
			return &test_fns[i];
	assert_int_equal(sl_udf_open(NULL, SL_UDF_BUILTIN, &f->lib, msg, sizeof(msg)), 0);
	return sl_udf_lookup(&f->lib, name, SLUICE_FN_PROCESS, msg, sizeof(msg));
}

static void
fx_open(struct fx *f, int region, uint32_t lo, uint32_t hi, const char *fn,
	const char *timeout)
{
	struct sl_state_conf sc;
	struct sl_process_conf c;
	char msg[256];
	size_t at;

	memset(f, 0, sizeof(*f));
	assert_int_equal(sl_schema_parse_spec(&f->in, "k:u64,v:i64,ts:timestamp_ms", &at), 0);
	memset(&sc, 0, sizeof(sc));
	sc.backend = g_backend;
	sc.max_parallelism = MAXP;
	sc.first_kg = lo;
	sc.last_kg = hi;
	sc.mem = regions[region];
	sc.mem_len = REGION_LEN;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sl-test-process-%d-%u", (int)getpid(), n_dirs++);
	sc.dir = f->dir;
	f->st = sl_state_open(&sc);
	assert_non_null(f->st);
	memset(&c, 0, sizeof(c));
	c.in = &f->in;
	c.ts_field = 2;
	c.n_keys = 1;
	c.key_field[0] = 0;
	c.fn = fn_named(f, fn);
	assert_non_null(c.fn);
	if (timeout != NULL) {
		snprintf(f->param[0].name, sizeof(f->param[0].name), "timeout");
		snprintf(f->param[0].value, sizeof(f->param[0].value), "%s", timeout);
		c.n_params = 1;
		c.params = f->param;
	}
	c.capacity = 1024;
	c.max_parallelism = MAXP;
	c.first_kg = lo;
	c.last_kg = hi;
	assert_int_equal(sl_process_init(&f->p, &c, f->st, t_out, t_side, f, msg, sizeof(msg)), 0);
	f->v = aligned_alloc(64, (sl_vec_size(f->in.row_size) + 63) & ~(size_t)63);
	assert_non_null(f->v);
	sl_vec_reset(f->v, f->in.row_size);
}

static void
fx_close(struct fx *f)
{
	sl_process_fini(&f->p);
	sl_udf_close(&f->lib);
	sl_state_close(f->st);
	free(f->v);
	if (g_backend == SL_STATE_BACKEND_ROCKSDB) {
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
		assert_int_equal(system(cmd), 0);
	}
}

static uint32_t
row_kg(uint64_t k)
{
	return sl_kg_of(sl_kg_hash(&k, 8), MAXP);
}

static void
flush(struct fx *f, int64_t now)
{
	if (f->v->n_rows == 0)
		return;
	sl_vec_select_all(f->v);
	sl_process_run(&f->p, f->v, now);
	sl_vec_reset(f->v, f->in.row_size);
}

static void
add(struct fx *f, uint64_t k, int64_t v, int64_t ts)
{
	uint8_t *row = sl_vec_row(f->v, f->v->n_rows);

	memcpy(row, &k, 8);
	memcpy(row + 8, &v, 8);
	memcpy(row + 16, &ts, 8);
	f->v->hash[f->v->n_rows] = sl_kg_hash(&k, 8);
	f->v->n_rows++;
	if (f->v->n_rows == SL_VEC_MAX)
		flush(f, 0);
}

static int64_t
out_i64(const struct fx *f, unsigned int i, unsigned int col)
{
	int64_t x;

	memcpy(&x, f->out[i] + 8 * col, 8);
	return x;
}

/* ---- tests ------------------------------------------------------------- */

/* W4.2, timeout 60000, key k = 7; output (k, count, ts). */
static void
test_W4_2_count_with_timeout(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, 0, 0, MAXP - 1, "count_with_timeout", "60s");
	assert_int_equal(f->p.u.out.n_fields, 3);
	assert_string_equal(f->p.u.out.f[1].name, "count");
	assert_string_equal(f->p.u.out.f[2].name, "ts");
	add(f, 7, 0, 0);		/* count 1, timer 60000 */
	add(f, 7, 0, 20000);		/* count 2, timer 80000 */
	flush(f, 0);
	assert_int_equal(sl_process_timers(&f->p, SLUICE_EVENT_TIME), 2);
	assert_int_equal(sl_process_advance(&f->p, 70000), 1);
	assert_int_equal(f->n_out, 0);	/* 60000 != 80000 */
	add(f, 7, 0, 90000);		/* count 3, timer 150000 */
	flush(f, 0);
	assert_int_equal(sl_process_advance(&f->p, 100000), 1);
	assert_int_equal(f->n_out, 0);	/* 80000 != 150000 */
	assert_int_equal(sl_process_advance(&f->p, 160000), 1);
	assert_int_equal(f->n_out, 1);
	assert_int_equal(out_i64(f, 0, 0), 7);
	assert_int_equal(out_i64(f, 0, 1), 3);
	assert_int_equal(out_i64(f, 0, 2), 150000);
	assert_int_equal(sl_process_timers(&f->p, SLUICE_EVENT_TIME), 0);
	assert_int_equal(f->p.stats.timers_fired, 3);
	assert_int_equal(f->p.stats.rows_out, 1);
	assert_int_equal(f->p.stats.fn_errors + f->p.stats.state_errors, 0);
	fx_close(f);
	free(f);
}

/* W4.3: a@1000, 3000, 3500 -> timers 6000, 8000, 8000: two timers. */
static void
test_W4_3_timer_coalescing(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, 0, 0, MAXP - 1, "coal", NULL);
	add(f, 1, 0, 1000);
	add(f, 1, 0, 3000);
	add(f, 1, 0, 3500);
	flush(f, 0);
	assert_int_equal(sl_process_timers(&f->p, SLUICE_EVENT_TIME), 2);
	assert_int_equal(sl_process_advance(&f->p, 7999), 1);
	assert_int_equal(f->n_out, 1);
	assert_int_equal(out_i64(f, 0, 1), 6000);
	/* 6000 again, now below the watermark: the next watermark fires
	 * it, before 8000, and 8000 exactly once. */
	add(f, 1, 0, 1000);
	flush(f, 0);
	assert_int_equal(sl_process_timers(&f->p, SLUICE_EVENT_TIME), 2);
	assert_int_equal(sl_process_advance(&f->p, 8000), 2);
	assert_int_equal(f->n_out, 3);
	assert_int_equal(out_i64(f, 1, 1), 6000);
	assert_int_equal(out_i64(f, 2, 1), 8000);
	assert_int_equal(out_i64(f, 2, 0), 1);
	assert_int_equal(sl_process_advance(&f->p, INT64_MAX), 0);
	assert_int_equal(f->n_out, 3);
	fx_close(f);
	free(f);
}

/* R4.3, R4.5, R5.1, R5.2 with processing-time timers and a side output. */
static void
test_R5_2_state_and_processing_time_timers(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, 0, 0, MAXP - 1, "kinds", NULL);
	assert_int_equal(f->p.u.n_sides, 1);
	assert_string_equal(f->p.u.side[0], "neg");
	add(f, 2, 10, 1);
	add(f, 1, 3, 2);
	add(f, 1, 4, 3);
	add(f, 2, -1, 4);
	add(f, 1, 3, 5);
	flush(f, 500);
	assert_int_equal(f->n_side, 1);
	{
		int64_t sv;

		memcpy(&sv, f->side[0] + 8, 8);
		assert_int_equal(sv, -1);
	}
	assert_int_equal(sl_process_timers(&f->p, SLUICE_PROCESSING_TIME), 2);
	assert_int_equal(sl_process_advance_processing_time(&f->p, 999), 0);
	assert_int_equal(f->n_out, 0);
	/* Watermarks fire no processing-time timer. */
	assert_int_equal(sl_process_advance(&f->p, INT64_MAX), 0);
	assert_int_equal(sl_process_advance_processing_time(&f->p, 1000), 2);
	assert_int_equal(f->n_out, 2);
	/* equal timestamps: key bytes ascending (k = 1 before k = 2) */
	assert_int_equal(out_i64(f, 0, 0), 1);
	assert_int_equal(out_i64(f, 0, 1), 10);
	assert_int_equal(out_i64(f, 0, 2), 3);
	assert_int_equal(out_i64(f, 0, 3), 2);
	assert_int_equal(out_i64(f, 0, 4), 1000);
	assert_int_equal(out_i64(f, 1, 0), 2);
	assert_int_equal(out_i64(f, 1, 1), 10);
	assert_int_equal(out_i64(f, 1, 2), 1);
	assert_int_equal(out_i64(f, 1, 3), 1);
	/* cleared in onTimer: a new row starts from empty state */
	add(f, 1, 5, 6);
	flush(f, 1500);
	assert_int_equal(sl_process_advance_processing_time(&f->p, 2000), 1);
	assert_int_equal(f->n_out, 3);
	assert_int_equal(out_i64(f, 2, 1), 5);
	assert_int_equal(out_i64(f, 2, 2), 1);
	assert_int_equal(out_i64(f, 2, 3), 1);
	assert_int_equal(out_i64(f, 2, 4), 2000);
	assert_int_equal(f->p.stats.side_out, 1);
	fx_close(f);
	free(f);
}

/* R4.3: timers registered and deleted through the context; deleting an
 * absent one is a no-op. */
static void
test_R4_3_register_and_delete(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, 0, 0, MAXP - 1, "at", NULL);
	add(f, 1, 5000, 1);
	add(f, 1, 6000, 2);
	add(f, 1, 6000, 3);	/* the same timer: coalesced */
	add(f, 1, -5000, 4);	/* deleted */
	add(f, 1, -7000, 5);	/* absent: nothing */
	add(f, 2, 5000, 6);	/* another key's 5000 stays */
	flush(f, 0);
	assert_int_equal(sl_process_timers(&f->p, SLUICE_EVENT_TIME), 2);
	assert_int_equal(sl_process_advance(&f->p, INT64_MAX), 2);
	assert_int_equal(f->n_out, 2);
	assert_int_equal(out_i64(f, 0, 0), 2);
	assert_int_equal(out_i64(f, 0, 1), 5000);
	assert_int_equal(out_i64(f, 1, 0), 1);
	assert_int_equal(out_i64(f, 1, 1), 6000);
	assert_int_equal(f->p.stats.fn_errors + f->p.stats.state_errors, 0);
	fx_close(f);
	free(f);
}

/* R4.4: a timer set at or below the watermark waits for the next one. */
static void
test_R4_4_timer_at_or_below_watermark_fires_next(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, 0, 0, MAXP - 1, "at", NULL);
	assert_int_equal(sl_process_advance(&f->p, 1000), 0);
	add(f, 1, 500, 1);	/* below */
	add(f, 1, 1000, 2);	/* at */
	flush(f, 0);
	assert_int_equal(f->n_out, 0);
	assert_int_equal(sl_process_timers(&f->p, SLUICE_EVENT_TIME), 2);
	assert_int_equal(sl_process_advance(&f->p, 1001), 2);
	assert_int_equal(f->n_out, 2);
	assert_int_equal(out_i64(f, 0, 1), 500);
	assert_int_equal(out_i64(f, 1, 1), 1000);
	fx_close(f);
	free(f);
}

/* R4.5: in onTimer the key is the timer's and the timestamp the timer's
 * (asserted in at_on_timer), for both domains; R4.8: end of input
 * (WM(MAX)) fires every event-time timer and no processing-time one. */
static void
test_R4_5_R4_8_timer_context_and_end_of_input(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, 0, 0, MAXP - 1, "at", NULL);
	add(f, 3, 700, 1);
	add(f, 9, 300, 2);
	add(f, 4, 0, 3);	/* processing time: now + 100 = 1100 */
	flush(f, 1000);
	assert_int_equal(sl_process_advance(&f->p, INT64_MAX), 2);
	assert_int_equal(f->n_out, 2);
	assert_int_equal(out_i64(f, 0, 0), 9);
	assert_int_equal(out_i64(f, 0, 1), 300);
	assert_int_equal(out_i64(f, 0, 2), SLUICE_EVENT_TIME);
	assert_int_equal(out_i64(f, 1, 0), 3);
	assert_int_equal(out_i64(f, 1, 1), 700);
	assert_int_equal(sl_process_timers(&f->p, SLUICE_PROCESSING_TIME), 1);
	assert_int_equal(sl_process_advance_processing_time(&f->p, 1099), 0);
	assert_int_equal(sl_process_advance_processing_time(&f->p, 1100), 1);
	assert_int_equal(out_i64(f, 2, 0), 4);
	assert_int_equal(out_i64(f, 2, 1), 1100);
	assert_int_equal(out_i64(f, 2, 2), SLUICE_PROCESSING_TIME);
	fx_close(f);
	free(f);
}

/* W5.1 (OnCreateAndWrite, NeverReturnExpired) on a function's value
 * state: written at processing time 0, there at 9999, gone at 10000; a
 * key's state is its own (R5.1). */
static void
test_W5_1_ttl_value_state(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, 0, 0, MAXP - 1, "ttl", NULL);
	add(f, 1, 1, 42);
	flush(f, 0);
	add(f, 1, 2, 0);
	add(f, 2, 2, 0);
	flush(f, 9999);
	add(f, 1, 2, 0);
	flush(f, 10000);
	assert_int_equal(f->n_out, 3);
	assert_int_equal(out_i64(f, 0, 1), 1);
	assert_int_equal(out_i64(f, 0, 2), 42);
	assert_int_equal(out_i64(f, 1, 0), 2);
	assert_int_equal(out_i64(f, 1, 1), 0);
	assert_int_equal(out_i64(f, 2, 1), 0);
	fx_close(f);
	free(f);
}

/*
 * R4.2 as the dataplane drives it: its clock reading c, it passes c - 1,
 * so a processing-time timer for T fires once the clock reads T + 1, and
 * one firing drains every due timer in ascending order.
 */
static void
test_R4_2_processing_time_timer_latency(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, 0, 0, MAXP - 1, "at", NULL);
	add(f, 5, 0, 1);	/* now 1000: timer at 1100 */
	flush(f, 1000);
	add(f, 6, 0, 2);	/* now 1050: timer at 1150 */
	flush(f, 1050);
	assert_int_equal(sl_process_advance_processing_time(&f->p, 1100 - 1), 0);	/* clock 1100 */
	assert_int_equal(f->n_out, 0);
	assert_int_equal(sl_process_advance_processing_time(&f->p, 1200 - 1), 2);	/* clock 1200 */
	assert_int_equal(f->n_out, 2);
	assert_int_equal(out_i64(f, 0, 1), 1100);
	assert_int_equal(out_i64(f, 1, 1), 1150);
	fx_close(f);
	free(f);
}

/* R4.6: onTimer's state is its timer's key's (two keys, two sums). */
static void
test_R4_6_on_timer_state_is_the_timer_key(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	(void)state;
	fx_open(f, 0, 0, MAXP - 1, "kinds", NULL);
	add(f, 1, 3, 1);
	add(f, 2, 40, 2);
	add(f, 1, 4, 3);
	flush(f, 0);
	assert_int_equal(sl_process_advance_processing_time(&f->p, 1000), 2);
	assert_int_equal(f->n_out, 2);
	assert_int_equal(out_i64(f, 0, 0), 1);
	assert_int_equal(out_i64(f, 0, 1), 7);
	assert_int_equal(out_i64(f, 0, 2), 2);
	assert_int_equal(out_i64(f, 1, 0), 2);
	assert_int_equal(out_i64(f, 1, 1), 40);
	assert_int_equal(out_i64(f, 1, 2), 1);
	fx_close(f);
	free(f);
}

struct snap_out {
	unsigned int n;
	uint16_t kg[4096];
	void *chunk[4096];
	size_t len[4096];
	void *meta;
	size_t meta_len;
};

static int
keep_chunk(void *arg, uint16_t kg, const void *buf, size_t len)
{
	struct snap_out *o = arg;

	assert_true(o->n < 4096);
	o->kg[o->n] = kg;
	o->chunk[o->n] = malloc(len);
	memcpy(o->chunk[o->n], buf, len);
	o->len[o->n++] = len;
	return 0;
}

static void
stream_row(int i, uint64_t *k, int64_t *ts)
{
	*k = ((uint64_t)i * 7919u) % 30;
	*ts = 5000 + 3 * i - (int64_t)(((uint64_t)i * 104729u) % 21);
}

/* Rows [from, to) of a fixed stream; WM = max - 21 every 64 rows. Only
 * rows of key groups [lo, hi] reach the instance. */
static void
feed(struct fx *f, int from, int to, int64_t *max_ts, uint32_t lo, uint32_t hi)
{
	for (int i = from; i < to; i++) {
		uint64_t k;
		int64_t ts;

		stream_row(i, &k, &ts);
		*max_ts = ts > *max_ts ? ts : *max_ts;
		if (row_kg(k) >= lo && row_kg(k) <= hi)
			add(f, k, i, ts);
		if (i % 64 == 63) {
			flush(f, 0);
			assert_true(sl_process_advance(&f->p, *max_ts - 21) >= 0);
		}
	}
	flush(f, 0);
}

/* (k, count, ts) as one comparable value */
static int64_t
out_code(const struct fx *f, unsigned int i)
{
	return (out_i64(f, i, 0) * 100000 + out_i64(f, i, 1)) * 100000 + out_i64(f, i, 2);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * R4.7: count_with_timeout (timeout 60 ms) checkpointed at row 3000 of
 * 6000 (500 more rows while the snapshot drains), restored onto 1 and 2
 * instances that replay from row 3000: the same output after the
 * checkpoint as the uninterrupted run, and no timer left at the end.
 */
static void
test_R4_7_snapshot_restore(void **state)
{
	struct fx *a = calloc(1, sizeof(*a));
	struct snap_out *o = calloc(1, sizeof(*o));
	int64_t mt = INT64_MIN, *want = calloc(MAX_OUT, 8), *got = calloc(MAX_OUT, 8);
	unsigned int n_before, n_want, n_got;

	(void)state;
	fx_open(a, 0, 0, MAXP - 1, "count_with_timeout", "60");
	feed(a, 0, 3000, &mt, 0, MAXP - 1);
	n_before = a->n_out;
	assert_true(n_before > 100);
	assert_int_equal(sl_process_snapshot_begin(&a->p), 0);
	assert_int_equal(sl_process_snapshot_begin(&a->p), -EBUSY);
	feed(a, 3000, 3500, &mt, 0, MAXP - 1);	/* copy-on-write: not in it */
	o->meta_len = sl_state_snapshot_meta(a->p.snap, NULL, 0);
	o->meta = malloc(o->meta_len);
	assert_int_equal(sl_state_snapshot_meta(a->p.snap, o->meta, o->meta_len), o->meta_len);
	while (sl_state_snapshot_write(a->p.snap, 1024, 4096, keep_chunk, o) == 1)
		;
	sl_process_snapshot_end(&a->p);
	feed(a, 3500, 6000, &mt, 0, MAXP - 1);
	assert_true(sl_process_advance(&a->p, INT64_MAX) >= 0);
	n_want = a->n_out - n_before;
	for (unsigned int i = 0; i < n_want; i++)
		want[i] = out_code(a, n_before + i);
	qsort(want, n_want, 8, cmp_i64);

	for (int parts = 1; parts <= 2; parts++) {
		n_got = 0;
		for (int p = 0; p < parts; p++) {
			uint32_t lo = parts == 1 ? 0 : p * 64, hi = parts == 1 ? MAXP - 1 : lo + 63;
			struct fx *b = calloc(1, sizeof(*b));
			int64_t bmt = INT64_MIN;

			fx_open(b, 1 + p, lo, hi, "count_with_timeout", "60");
			for (unsigned int i = 0; i < o->n; i++)
				if (o->kg[i] >= lo && o->kg[i] <= hi)
					assert_true(sl_state_restore(b->st, o->meta, o->meta_len,
								     o->chunk[i], o->len[i]) >= 0);
			assert_int_equal(sl_process_restore_done(&b->p), 0);
			assert_true(sl_process_timers(&b->p, SLUICE_EVENT_TIME) > 0);
			feed(b, 3000, 6000, &bmt, lo, hi);
			assert_true(sl_process_advance(&b->p, INT64_MAX) >= 0);
			assert_int_equal(sl_process_timers(&b->p, SLUICE_EVENT_TIME), 0);
			for (unsigned int i = 0; i < b->n_out; i++)
				got[n_got++] = out_code(b, i);
			fx_close(b);
			free(b);
		}
		qsort(got, n_got, 8, cmp_i64);
		assert_int_equal(n_got, n_want);
		for (unsigned int i = 0; i < n_want; i++)
			assert_int_equal(got[i], want[i]);
	}
	for (unsigned int i = 0; i < o->n; i++)
		free(o->chunk[i]);
	free(o->meta);
	free(o);
	free(want);
	free(got);
	fx_close(a);
	free(a);
}

/* What the setup refuses, with the message the job file will show. */
static void
test_conf_check(void **state)
{
	struct sl_udf_lib lib;
	struct sl_udf_param prm[2];
	struct sl_process_conf c;
	struct sl_schema s;
	char msg[256];
	size_t at;

	(void)state;
	assert_int_equal(sl_schema_parse_spec(&s, "k:u64,v:i64,ts:timestamp_ms", &at), 0);
	assert_int_equal(sl_udf_open(NULL, SL_UDF_BUILTIN, &lib, msg, sizeof(msg)), 0);
	memset(&c, 0, sizeof(c));
	c.in = &s;
	c.ts_field = 2;
	c.n_keys = 1;
	c.max_parallelism = MAXP;
	c.last_kg = MAXP - 1;
	c.fn = sl_udf_lookup(&lib, "count_with_timeout", SLUICE_FN_PROCESS, msg, sizeof(msg));
	assert_non_null(c.fn);
	assert_int_equal(sl_process_conf_check(&c, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "function 'count_with_timeout': count_with_timeout needs timeout: a duration > 0 (e.g. 60s)");
	memset(prm, 0, sizeof(prm));
	strcpy(prm[0].name, "timeout");
	strcpy(prm[0].value, "1m");
	strcpy(prm[1].name, "timout");
	strcpy(prm[1].value, "1");
	c.params = prm;
	c.n_params = 1;
	assert_int_equal(sl_process_conf_check(&c, msg, sizeof(msg)), 0);
	c.n_params = 2;
	assert_int_equal(sl_process_conf_check(&c, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "function 'count_with_timeout' takes no parameter 'timout'");
	strcpy(prm[0].value, "soon");
	c.n_params = 1;
	assert_int_equal(sl_process_conf_check(&c, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "timeout must be a duration > 0"));
	assert_null(sl_udf_lookup(&lib, "count_with_timeout", SLUICE_FN_MAP, msg, sizeof(msg)));
	assert_string_equal(msg, "function 'count_with_timeout' of plugin 'builtin' is a process function, not a map function");
	assert_null(sl_udf_lookup(&lib, "nope", 0, msg, sizeof(msg)));
	assert_string_equal(msg, "plugin 'builtin' has no function 'nope'; it has: count_with_timeout (process)");
	sl_udf_close(&lib);
}

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < N_REGION; i++) {
		regions[i] = mmap(NULL, REGION_LEN, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (regions[i] == MAP_FAILED)
			return -1;
	}
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_W4_2_count_with_timeout),
		cmocka_unit_test(test_W4_3_timer_coalescing),
		cmocka_unit_test(test_R5_2_state_and_processing_time_timers),
		cmocka_unit_test(test_R4_3_register_and_delete),
		cmocka_unit_test(test_R4_4_timer_at_or_below_watermark_fires_next),
		cmocka_unit_test(test_R4_5_R4_8_timer_context_and_end_of_input),
		cmocka_unit_test(test_W5_1_ttl_value_state),
		cmocka_unit_test(test_R4_2_processing_time_timer_latency),
		cmocka_unit_test(test_R4_6_on_timer_state_is_the_timer_key),
		cmocka_unit_test(test_R4_7_snapshot_restore),
		cmocka_unit_test(test_conf_check),
	};
	int failed;

	if (setup(NULL) < 0)
		return 1;
	g_backend = SL_STATE_BACKEND_HEAP;
	failed = cmocka_run_group_tests_name("process-heap", tests, NULL, NULL);
	g_backend = SL_STATE_BACKEND_ROCKSDB;
	failed += cmocka_run_group_tests_name("process-rocksdb", tests, NULL, NULL);
	return failed != 0;
}
