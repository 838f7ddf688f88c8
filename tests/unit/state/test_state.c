/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: sl_state, one suite run against both backends: R5.2
 * primitives and their empty behaviour, key-group and namespace isolation,
 * batched access, every W5.1/W5.2 vector, the C3 overflow clamp,
 * snapshot -> restore (consistent while the worker keeps writing), 2
 * workers restored onto 1 and onto 3, and state larger than the heap
 * backend's limit held by rocksdb.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "sl_kg.h"
#include "sl_state.h"

#define MAXP 128
#define N_REGION 8
#define REGION_LEN (96u << 20)

static void *regions[N_REGION];
static bool g_wal;		/* rocksdb instances keep a log (native checkpoints) */
static char tmpdir[64];
static int n_dirs;

struct be { enum sl_state_backend b; };
static struct be heap_be = { SL_STATE_BACKEND_HEAP };
static struct be rocks_be = { SL_STATE_BACKEND_ROCKSDB };

static struct sl_state *
open_st(enum sl_state_backend b, int slot, uint32_t first, uint32_t last,
	size_t limit)
{
	char dir[128];
	struct sl_state_conf c = {
		.backend = b, .max_parallelism = MAXP,
		.first_kg = first, .last_kg = last,
		.mem = regions[slot], .mem_len = REGION_LEN, .mem_limit = limit,
		.dir = dir, .wal = g_wal,
	};
	struct sl_state *st;

	snprintf(dir, sizeof(dir), "%s/db%d", tmpdir, n_dirs++);
	st = sl_state_open(&c);
	assert_non_null(st);
	return st;
}

static struct sl_state *
open_all(void **state)
{
	return open_st(((struct be *)*state)->b, 0, 0, MAXP - 1, 0);
}

static struct sl_state_ref
R(uint16_t kg, const void *key, const void *ns, struct sl_state *st, int id)
{
	struct sl_state_ref r = { .key = key, .ns = ns, .kg = kg };

	sl_state_hash_bulk(st, id, &r, 1);
	return r;
}

static void
reduce_sum(void *acc, const void *v, void *ctx)
{
	int64_t a, b;

	(void)ctx;
	memcpy(&a, acc, 8);
	memcpy(&b, v, 8);
	a += b;
	memcpy(acc, &a, 8);
}

struct avg { int64_t sum, cnt; };

static void
avg_create(void *acc, void *ctx)
{
	(void)ctx;
	memset(acc, 0, sizeof(struct avg));
}

static void
avg_add(void *acc, const void *in, void *ctx)
{
	struct avg *a = acc;
	int64_t v;

	(void)ctx;
	memcpy(&v, in, 8);
	a->sum += v;
	a->cnt++;
}

static void
avg_result(const void *acc, void *out, void *ctx)
{
	const struct avg *a = acc;
	double r = (double)a->sum / (double)a->cnt;

	(void)ctx;
	memcpy(out, &r, 8);
}

static int
reg_value(struct sl_state *st, const char *name, int64_t ttl,
	  enum sl_state_ttl_update u, enum sl_state_ttl_visibility v)
{
	struct sl_state_desc d = {
		.name = name, .kind = SL_STATE_VALUE, .key_len = 4, .ns_len = 8,
		.val_len = 8,
		.ttl = { .ttl_ms = ttl, .update = u, .visibility = v,
			 .cleanup_compaction = true },
	};
	int id = sl_state_register(st, &d);

	assert_true(id >= 0);
	return id;
}

/* ---- R5.2 primitives -------------------------------------------------- */

static void
test_R5_2_value_state(void **state)
{
	struct sl_state *st = open_all(state);
	int id = reg_value(st, "v", 0, 0, 0);
	uint32_t k = 7;
	uint64_t ns = 1, v = 42, out = 0;
	struct sl_state_ref r = R(3, &k, &ns, st, id);

	assert_int_equal(sl_state_value_get(st, id, &r, 0, &out), 0);
	assert_int_equal(sl_state_value_put(st, id, &r, 0, &v), 0);
	assert_int_equal(sl_state_value_get(st, id, &r, 0, &out), 1);
	assert_int_equal(out, 42);
	v = 43;
	assert_int_equal(sl_state_value_put(st, id, &r, 0, &v), 0);
	assert_int_equal(sl_state_value_get(st, id, &r, 0, &out), 1);
	assert_int_equal(out, 43);
	assert_int_equal(sl_state_clear(st, id, &r), 0);
	assert_int_equal(sl_state_value_get(st, id, &r, 0, &out), 0);
	r.kg = MAXP;	/* outside the owned range */
	assert_int_equal(sl_state_value_get(st, id, &r, 0, &out), -ERANGE);
	sl_state_close(st);
}

/*
 * R5.2 value state read and written through its slot (a process
 * function's get then put in one probe): the same value as get/put, the
 * slot refused where values are not stored in place (rocksdb, TTL), and
 * a write through it after a snapshot began leaves the snapshot's value.
 */
static void
test_R5_2_value_slot(void **state)
{
	const bool heap = ((struct be *)*state)->b == SL_STATE_BACKEND_HEAP;
	struct sl_state *st = open_all(state);
	int id = reg_value(st, "v", 0, 0, 0);
	int tid = reg_value(st, "t", 1000, SL_STATE_TTL_ON_CREATE_AND_WRITE,
			    SL_STATE_TTL_NEVER_RETURN_EXPIRED);
	uint32_t k = 7;
	uint64_t ns = 1, v = 42, out = 0;
	struct sl_state_ref r = R(3, &k, &ns, st, id);
	struct sl_state_snap *sn;
	struct sl_state_record rec;
	uint8_t *p;
	int n = 0;

	assert_int_equal(sl_state_value_slot(st, tid, &r, 0, &p), -ENOTSUP);
	if (!heap) {
		assert_int_equal(sl_state_value_slot(st, id, &r, 0, &p), -ENOTSUP);
		sl_state_close(st);
		return;
	}
	assert_int_equal(sl_state_value_slot(st, id, &r, 0, &p), 0);
	assert_int_equal(sl_state_value_put(st, id, &r, 0, &v), 0);
	assert_int_equal(sl_state_value_slot(st, id, &r, 0, &p), 1);
	memcpy(&out, p, 8);
	assert_int_equal(out, 42);
	v = 43;
	memcpy(p, &v, 8);
	assert_int_equal(sl_state_value_get(st, id, &r, 0, &out), 1);
	assert_int_equal(out, 43);
	assert_int_equal(sl_state_snapshot_begin(st, 0, &sn), 0);
	assert_int_equal(sl_state_value_slot(st, id, &r, 0, &p), 1);
	v = 44;
	memcpy(p, &v, 8);
	while (sl_state_snapshot_next(sn, &rec) == 1) {
		if (rec.desc != id)
			continue;
		memcpy(&out, rec.val, 8);
		assert_int_equal(out, 43);
		n++;
	}
	assert_int_equal(n, 1);
	sl_state_snapshot_end(st, sn);
	assert_int_equal(sl_state_value_get(st, id, &r, 0, &out), 1);
	assert_int_equal(out, 44);
	r.kg = MAXP;
	assert_int_equal(sl_state_value_slot(st, id, &r, 0, &p), -ERANGE);
	sl_state_close(st);
}

struct strs { char s[16][16]; int n; };

static int
collect(void *arg, const void *e, uint32_t len)
{
	struct strs *c = arg;

	memcpy(c->s[c->n], e, len);
	c->s[c->n][len] = '\0';
	c->n++;
	return 0;
}

static void
test_R5_2_list_state(void **state)
{
	struct sl_state *st = open_all(state);
	struct sl_state_desc d = { .name = "l", .kind = SL_STATE_LIST,
				   .key_len = 4 };
	int id = sl_state_register(st, &d);
	uint32_t k = 1;
	struct sl_state_ref r = R(9, &k, NULL, st, id);
	struct strs c = { .n = 0 };
	const void *el[2] = { "c", "dd" };
	uint32_t ln[2] = { 1, 2 };

	assert_true(id >= 0);
	assert_int_equal(sl_state_list_get(st, id, &r, 0, collect, &c), 0);
	assert_int_equal(sl_state_list_add(st, id, &r, 0, "a", 1), 0);
	assert_int_equal(sl_state_list_add(st, id, &r, 0, "bb", 2), 0);
	assert_int_equal(sl_state_list_add(st, id, &r, 0, NULL, 1), -EINVAL);
	assert_int_equal(sl_state_list_get(st, id, &r, 0, collect, &c), 2);
	assert_string_equal(c.s[0], "a");
	assert_string_equal(c.s[1], "bb");
	assert_int_equal(sl_state_list_update(st, id, &r, 0, el, ln, 2), 0);
	c.n = 0;
	assert_int_equal(sl_state_list_get(st, id, &r, 0, collect, &c), 2);
	assert_string_equal(c.s[0], "c");
	assert_string_equal(c.s[1], "dd");
	assert_int_equal(sl_state_list_update(st, id, &r, 0, NULL, NULL, 0), 0);
	assert_int_equal(sl_state_list_get(st, id, &r, 0, NULL, NULL), 0);
	/* many appends: growth path */
	for (int i = 0; i < 500; i++)
		assert_int_equal(sl_state_list_add(st, id, &r, 0, &i, 4), 0);
	assert_int_equal(sl_state_list_get(st, id, &r, 0, NULL, NULL), 500);
	sl_state_close(st);
}

struct ents { uint32_t k[64]; uint64_t v[64]; int n; };

static int
collect_ent(void *arg, const void *uk, const void *v, uint32_t len)
{
	struct ents *e = arg;

	assert_int_equal(len, 8);
	memcpy(&e->k[e->n], uk, 4);
	memcpy(&e->v[e->n], v, 8);
	e->n++;
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_R5_2_map_state(void **state)
{
	struct sl_state *st = open_all(state);
	struct sl_state_desc d = { .name = "m", .kind = SL_STATE_MAP,
				   .key_len = 4, .ukey_len = 4 };
	int id = sl_state_register(st, &d);
	uint32_t k = 5, uk;
	uint64_t v, out;
	struct sl_state_ref r = R(100, &k, NULL, st, id);
	struct ents e = { .n = 0 };

	assert_true(id >= 0);
	uk = 1;
	assert_int_equal(sl_state_map_get(st, id, &r, 0, &uk, &out, 8), -ENOENT);
	assert_int_equal(sl_state_map_iter(st, id, &r, 0, NULL, NULL), 0);
	for (uk = 10; uk > 0; uk--) {
		v = uk * 100;
		assert_int_equal(sl_state_map_put(st, id, &r, 0, &uk, &v, 8), 0);
	}
	uk = 3;
	v = 333;
	assert_int_equal(sl_state_map_put(st, id, &r, 0, &uk, &v, 8), 0);
	assert_int_equal(sl_state_map_get(st, id, &r, 0, &uk, &out, 8), 8);
	assert_int_equal(out, 333);
	assert_int_equal(sl_state_map_contains(st, id, &r, 0, &uk), 1);
	assert_int_equal(sl_state_map_remove(st, id, &r, &uk), 1);
	assert_int_equal(sl_state_map_remove(st, id, &r, &uk), 0);
	assert_int_equal(sl_state_map_contains(st, id, &r, 0, &uk), 0);
	assert_int_equal(sl_state_map_iter(st, id, &r, 0, collect_ent, &e), 9);
	qsort(e.k, (size_t)e.n, 4, cmp_u32);	/* order is backend-specific */
	for (int i = 0, want = 1; i < e.n; i++, want++) {
		if (want == 3)
			want++;
		assert_int_equal(e.k[i], want);
	}
	assert_int_equal(sl_state_clear(st, id, &r), 0);
	assert_int_equal(sl_state_map_iter(st, id, &r, 0, NULL, NULL), 0);
	sl_state_close(st);
}

/* W5.2 */
static void
test_W5_2_reducing_aggregating(void **state)
{
	struct sl_state *st = open_all(state);
	struct sl_state_desc rd = { .name = "sum", .kind = SL_STATE_REDUCING,
				    .key_len = 4, .val_len = 8,
				    .reduce = reduce_sum };
	struct sl_state_desc ad = { .name = "avg", .kind = SL_STATE_AGGREGATING,
				    .key_len = 4, .val_len = sizeof(struct avg),
				    .in_len = 8, .out_len = 8,
				    .create = avg_create, .add = avg_add,
				    .result = avg_result };
	int ri = sl_state_register(st, &rd), ai = sl_state_register(st, &ad);
	uint32_t k = 1, k2 = 2;
	struct sl_state_ref r = R(0, &k, NULL, st, ri);
	struct sl_state_ref r2 = R(0, &k2, NULL, st, ai);
	int64_t x, out;
	double avg;

	assert_true(ri >= 0 && ai >= 0);
	assert_int_equal(sl_state_agg_get(st, ri, &r, 0, &out), 0);
	x = 3;
	assert_int_equal(sl_state_agg_add(st, ri, &r, 0, &x), 0);
	x = 4;
	assert_int_equal(sl_state_agg_add(st, ri, &r, 0, &x), 0);
	assert_int_equal(sl_state_agg_get(st, ri, &r, 0, &out), 1);
	assert_int_equal(out, 7);
	assert_int_equal(sl_state_clear(st, ri, &r), 0);
	assert_int_equal(sl_state_agg_get(st, ri, &r, 0, &out), 0);
	for (int64_t v = 2; v <= 9; v += (v == 2 ? 2 : 5))
		assert_int_equal(sl_state_agg_add(st, ai, &r, 0, &v), 0);
	assert_int_equal(sl_state_agg_get(st, ai, &r, 0, &avg), 1);
	assert_true(avg == 5.0);
	assert_int_equal(sl_state_agg_get(st, ai, &r2, 0, &avg), 0);
	sl_state_close(st);
}

static void
test_R5_1_key_namespace_scope(void **state)
{
	struct sl_state *st = open_all(state);
	int id = reg_value(st, "v", 0, 0, 0);
	uint32_t k = 77;
	uint64_t ns1 = 1, ns2 = 2, v, out;
	struct sl_state_ref a = R(1, &k, &ns1, st, id), b = R(2, &k, &ns1, st, id);
	struct sl_state_ref c = R(1, &k, &ns2, st, id);

	v = 10;
	assert_int_equal(sl_state_value_put(st, id, &a, 0, &v), 0);
	assert_int_equal(sl_state_value_get(st, id, &b, 0, &out), 0);
	assert_int_equal(sl_state_value_get(st, id, &c, 0, &out), 0);
	v = 20;
	assert_int_equal(sl_state_value_put(st, id, &b, 0, &v), 0);
	v = 30;
	assert_int_equal(sl_state_value_put(st, id, &c, 0, &v), 0);
	assert_int_equal(sl_state_value_get(st, id, &a, 0, &out), 1);
	assert_int_equal(out, 10);
	assert_int_equal(sl_state_value_get(st, id, &b, 0, &out), 1);
	assert_int_equal(out, 20);
	assert_int_equal(sl_state_value_get(st, id, &c, 0, &out), 1);
	assert_int_equal(out, 30);
	sl_state_close(st);
}

/* Batched agg add with duplicate keys in one vector; batched put/get. */
static void
test_bulk(void **state)
{
	struct sl_state *st = open_all(state);
	struct sl_state_desc rd = { .name = "sum", .kind = SL_STATE_REDUCING,
				    .key_len = 4, .ns_len = 8, .val_len = 8,
				    .reduce = reduce_sum };
	int id = sl_state_register(st, &rd);
	int vid = reg_value(st, "v", 0, 0, 0);
	enum { NK = 2000, ROUNDS = 40, B = 256 };
	static int64_t want[NK];
	uint32_t keys[B];
	uint64_t ns = 9;
	int64_t in[B], out[B];
	uint8_t found[B];
	struct sl_state_ref refs[B];

	memset(want, 0, sizeof(want));
	srand(1);
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < B; i++) {
			keys[i] = (uint32_t)(rand() % NK);
			in[i] = rand() % 100;
			want[keys[i]] += in[i];
			refs[i] = (struct sl_state_ref){
				.key = &keys[i], .ns = &ns,
				.kg = (uint16_t)sl_kg_of(sl_kg_hash(&keys[i], 4), MAXP) };
		}
		sl_state_hash_bulk(st, id, refs, B);
		sl_state_prefetch_bulk(st, id, refs, B);
		assert_int_equal(sl_state_agg_add_bulk(st, id, refs, B, 0, in, 8), 0);
	}
	for (uint32_t k = 0; k < NK; k++) {
		struct sl_state_ref r = R((uint16_t)sl_kg_of(sl_kg_hash(&k, 4), MAXP),
					  &k, &ns, st, id);
		int64_t got = 0;
		int rc = sl_state_agg_get(st, id, &r, 0, &got);

		assert_int_equal(rc, want[k] != 0 || rc == 1 ? 1 : 0);
		if (rc == 1)
			assert_int_equal(got, want[k]);
	}
	for (int i = 0; i < B; i++) {
		keys[i] = (uint32_t)i;
		in[i] = i * 11;
		refs[i] = (struct sl_state_ref){ .key = &keys[i], .ns = &ns,
						 .kg = (uint16_t)(i % MAXP) };
	}
	sl_state_hash_bulk(st, vid, refs, B);
	assert_int_equal(sl_state_value_put_bulk(st, vid, refs, B / 2, 0, in), 0);
	sl_state_prefetch_bulk(st, vid, refs, B);
	assert_int_equal(sl_state_value_get_bulk(st, vid, refs, B, 0, out, found),
			 B / 2);
	for (int i = 0; i < B; i++) {
		assert_int_equal(found[i], i < B / 2);
		if (found[i])
			assert_int_equal(out[i], i * 11);
	}
	sl_state_close(st);
}

/* ---- fixed-size state updated in place (the window's hot path) ------- */

/* Key k of kl bytes: distinct for distinct k whatever kl is. */
static void
fixed_key(uint8_t *key, uint32_t kl, uint32_t k)
{
	for (uint32_t b = 0; b < kl; b++)
		key[b] = (uint8_t)((k >> (8 * (b % 4))) + b / 4 * 31);
}

static int
count_cb(void *arg, uint16_t kg, const void *key, const void *val)
{
	(void)kg;
	(void)key;
	(void)val;
	(*(int *)arg)++;
	return 0;
}

/* Owned key groups are 0..63 of MAXP: 64.. is out of range. */
static uint16_t
fixed_kg(const uint8_t *key, uint32_t kl)
{
	return (uint16_t)sl_kg_of(sl_kg_hash(key, kl), MAXP / 2);
}

/*
 * Find-or-insert by batch, through both entry points (upsert, and
 * hash + prefetch + acquire), for the key sizes the heap backend
 * specialises (4, 8, 16) and one it does not (12): duplicates within a
 * batch share their entry, created marks only the first row of a new
 * (key, ns), tables grow in the middle of a batch (capacity hint 1), the
 * values read back through the single-key path, and a batch with one key
 * group out of range changes nothing.
 */
static void
test_fixed_upsert(void **state)
{
	static const uint32_t kls[] = { 4, 8, 12, 16 };
	enum { NK = 3000, NNS = 3, ROUNDS = 30, B = 256 };
	static uint64_t want[NK][NNS];

	for (unsigned int t = 0; t < sizeof(kls) / sizeof(kls[0]); t++) {
		const uint32_t kl = kls[t];
		struct sl_state *st = open_st(((struct be *)*state)->b, 0, 0,
					      MAXP / 2 - 1, 0);
		struct sl_state_desc d = { .name = "acc", .kind = SL_STATE_VALUE,
					   .key_len = (uint16_t)kl, .ns_len = 8,
					   .val_len = 16, .capacity_hint = 1 };
		static uint8_t keys[B][16];
		uint64_t nss[NNS] = { 100, (uint64_t)-7, 1ull << 40 };
		struct sl_state_ref refs[B];
		uint8_t *vals[B], created[B];
		uint32_t ki[B], ni[B];
		int id = sl_state_register(st, &d);
		uint64_t distinct0 = 0;
		int drained = 0;

		assert_true(id >= 0);
		memset(want, 0, sizeof(want));
		srand(7 + (int)kl);
		for (int r = 0; r < ROUNDS; r++) {
			for (int i = 0; i < B; i++) {
				/* a few hot keys, so batches repeat keys */
				ki[i] = (uint32_t)(i % 5 == 0 ? rand() % 8 : rand() % NK);
				ni[i] = (uint32_t)(rand() % NNS);
				fixed_key(keys[i], kl, ki[i]);
				refs[i] = (struct sl_state_ref){ .key = keys[i],
					.ns = &nss[ni[i]],
					.kg = fixed_kg(keys[i], kl) };
			}
			if (r % 2 == 0) {
				assert_int_equal(sl_state_fixed_upsert_bulk(st, id, refs, B,
									    vals, created), 0);
			} else {
				sl_state_hash_bulk(st, id, refs, B);
				sl_state_prefetch_bulk(st, id, refs, B);
				assert_int_equal(sl_state_fixed_acquire_bulk(st, id, refs, B,
									     vals, created), 0);
			}
			for (int i = 0; i < B; i++) {
				uint64_t v[2];

				assert_non_null(vals[i]);
				assert_int_equal(created[i], want[ki[i]][ni[i]] == 0);
				memcpy(v, vals[i], 16);
				assert_int_equal(v[0], want[ki[i]][ni[i]]);
				v[0]++;
				v[1] = ki[i] * 1000003ull + ni[i];
				memcpy(vals[i], v, 16);
				want[ki[i]][ni[i]]++;
			}
			assert_int_equal(sl_state_fixed_release_bulk(st, id, refs, B, vals), 0);
		}
		for (uint32_t k = 0; k < NK; k++) {
			for (uint32_t n = 0; n < NNS; n++) {
				uint8_t key[16];
				uint64_t v[2];
				struct sl_state_ref r;
				int rc;

				fixed_key(key, kl, k);
				r = R(fixed_kg(key, kl), key, &nss[n], st, id);
				rc = sl_state_value_get(st, id, &r, 0, v);
				assert_int_equal(rc, want[k][n] != 0);
				if (rc == 1) {
					assert_int_equal(v[0], want[k][n]);
					assert_int_equal(v[1], k * 1000003ull + n);
				}
				distinct0 += n == 0 && want[k][n] != 0;
			}
		}
		/* out of range: refused whole, nothing inserted */
		for (int i = 0; i < B; i++) {
			fixed_key(keys[i], kl, NK + (uint32_t)i);
			refs[i] = (struct sl_state_ref){ .key = keys[i],
				.ns = &nss[0], .kg = fixed_kg(keys[i], kl) };
		}
		refs[B - 1].kg = MAXP / 2;
		assert_int_equal(sl_state_fixed_upsert_bulk(st, id, refs, B, vals,
							    created), -ERANGE);
		for (int i = 0; i < B - 1; i++) {
			uint64_t v[2];

			sl_state_hash_bulk(st, id, &refs[i], 1);
			assert_int_equal(sl_state_value_get(st, id, &refs[i], 0, v), 0);
		}
		/* each (key, ns) once */
		assert_int_equal(sl_state_ns_drain(st, id, &nss[0], 0, count_cb,
						   &drained), (int)distinct0);
		assert_int_equal(drained, (int)distinct0);
		sl_state_close(st);
	}
}

/* merge for test_fixed_merge: {count, max, first, last}; ctx must be the state's copy. */
struct merge_ctx {
	uint64_t magic;
};

static void
merge_cmfl(void *acc, const void *other, void *ctx)
{
	const struct merge_ctx *m = ctx;
	uint64_t a[4], b[4];

	assert_int_equal(m->magic, 0x5eed);
	memcpy(a, acc, sizeof(a));
	memcpy(b, other, sizeof(b));
	a[0] += b[0];
	a[1] = b[1] > a[1] ? b[1] : a[1];
	a[3] = b[3];		/* last: the newer side's; first stays */
	memcpy(acc, a, sizeof(a));
}

/*
 * Blind merges (sl_state_fixed_merge_bulk) give what find-then-add gives:
 * batches with repeated keys, folded in order, read back through the
 * single-key path; on rocksdb also after a flush and a full compaction
 * (the operator runs there), and through a native checkpoint read back
 * into a heap backend (operands still in the files). The merge's ctx is
 * the state's copy: the caller's is gone by then.
 */
static void
test_fixed_merge(void **state)
{
	enum { NK = 2000, B = 256, ROUNDS = 40 };
	static uint64_t want[NK][4];
	const enum sl_state_backend be = ((struct be *)*state)->b;
	struct sl_state *st = open_st(be, 0, 0, MAXP / 2 - 1, 0);
	struct merge_ctx *mc = malloc(sizeof(*mc));
	struct sl_state_desc d = { .name = "m", .kind = SL_STATE_VALUE,
				   .key_len = 8, .ns_len = 8, .val_len = 32,
				   .capacity_hint = 1, .merge = merge_cmfl,
				   .merge_ctx_len = sizeof(struct merge_ctx) };
	static uint8_t keys[B][8];
	static uint64_t ops[B][4];
	const uint8_t *opp[B];
	struct sl_state_ref refs[B];
	uint64_t ns = 42, seq = 1;
	int id;

	assert_non_null(mc);
	mc->magic = 0x5eed;
	d.merge_ctx = mc;
	id = sl_state_register(st, &d);
	assert_true(id >= 0);
	mc->magic = 0;		/* the state must not read the caller's */
	free(mc);
	memset(want, 0, sizeof(want));
	srand(11);
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < B; i++) {
			uint32_t k = (uint32_t)(i % 4 == 0 ? rand() % 5 : rand() % NK);
			uint64_t x = (uint64_t)rand();

			fixed_key(keys[i], 8, k);
			refs[i] = (struct sl_state_ref){ .key = keys[i], .ns = &ns,
				.kg = fixed_kg(keys[i], 8) };
			ops[i][0] = 1;
			ops[i][1] = x;
			ops[i][2] = ops[i][3] = seq++;
			opp[i] = (const uint8_t *)ops[i];
			if (want[k][0] == 0)
				want[k][2] = ops[i][2];
			want[k][0]++;
			want[k][1] = x > want[k][1] ? x : want[k][1];
			want[k][3] = ops[i][3];
		}
		assert_int_equal(sl_state_fixed_merge_bulk(st, id, refs, B, opp), 0);
		if (be == SL_STATE_BACKEND_ROCKSDB && r == ROUNDS / 2)
			assert_int_equal(sl_state_flush(st), 0);
	}
	assert_int_equal(sl_state_merge_is_blind(st), be == SL_STATE_BACKEND_ROCKSDB);
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t k = 0; k < NK; k++) {
			uint8_t key[8];
			uint64_t v[4];
			struct sl_state_ref rf;

			fixed_key(key, 8, k);
			rf = R(fixed_kg(key, 8), key, &ns, st, id);
			assert_int_equal(sl_state_value_get(st, id, &rf, 0, v), want[k][0] != 0);
			if (want[k][0] != 0)
				assert_memory_equal(v, want[k], sizeof(v));
		}
		if (be != SL_STATE_BACKEND_ROCKSDB)
			break;
		assert_int_equal(sl_state_compact(st, 0), 0);
	}
	/* No merge function: refused, nothing written. */
	{
		struct sl_state_desc d2 = { .name = "plain", .kind = SL_STATE_VALUE,
					    .key_len = 8, .ns_len = 8, .val_len = 32 };
		int id2 = sl_state_register(st, &d2);

		assert_true(id2 >= 0);
		assert_int_equal(sl_state_fixed_merge_bulk(st, id2, refs, 1, opp), -ENOTSUP);
	}
	sl_state_close(st);
}

/*
 * Copy-on-write under the in-place path: while a snapshot is open and being
 * read, batches increment old keys and insert new ones, each new key twice
 * in one batch (the second row must find what the first inserted in a page
 * copied meanwhile). The snapshot sees only the state as of its begin; the
 * live state has every update, once.
 */
static void
test_fixed_upsert_snapshot(void **state)
{
	enum { OLD = 2000, NEW = 2000, B = 256, OLD2 = 500 };
	struct sl_state *st = open_st(((struct be *)*state)->b, 0, 0, MAXP - 1, 0);
	struct sl_state_desc d = { .name = "acc", .kind = SL_STATE_VALUE,
				   .key_len = 8, .ns_len = 8, .val_len = 8,
				   .capacity_hint = 64 };
	static uint8_t seen[OLD];
	static uint64_t want[OLD + NEW];
	struct sl_state_ref refs[B];
	struct sl_state_snap *sn;
	struct sl_state_record rec;
	uint64_t keys[B], ns = 5, ns2 = 6, next_new = OLD;
	uint8_t *vals[B], created[B];
	int id = sl_state_register(st, &d), rc, n_snap = 0, drained = 0;
	int n_snap2 = 0, drained2 = 0;
	uint64_t n_live = OLD;

	assert_true(id >= 0);
	memset(want, 0, sizeof(want));
	memset(seen, 0, sizeof(seen));
	for (uint64_t k0 = 0; k0 < OLD; k0 += B) {
		unsigned int n = OLD - k0 < B ? (unsigned int)(OLD - k0) : B;

		for (unsigned int i = 0; i < n; i++) {
			keys[i] = k0 + i;
			refs[i] = (struct sl_state_ref){ .key = &keys[i], .ns = &ns,
				.kg = (uint16_t)sl_kg_of(sl_kg_hash(&keys[i], 8), MAXP) };
		}
		assert_int_equal(sl_state_fixed_upsert_bulk(st, id, refs, n, vals,
							    created), 0);
		for (unsigned int i = 0; i < n; i++) {
			uint64_t one = 1;

			memcpy(vals[i], &one, 8);
			want[keys[i]] = 1;
		}
		assert_int_equal(sl_state_fixed_release_bulk(st, id, refs, n, vals), 0);
	}
	for (unsigned int i = 0; i < OLD2; i++) {
		keys[0] = i;
		refs[0] = (struct sl_state_ref){ .key = &keys[0], .ns = &ns2,
			.kg = (uint16_t)sl_kg_of(sl_kg_hash(&keys[0], 8), MAXP) };
		assert_int_equal(sl_state_fixed_upsert_bulk(st, id, refs, 1, vals,
							    created), 0);
		assert_int_equal(created[0], 1);
		vals[0][0] = 1;
		assert_int_equal(sl_state_fixed_release_bulk(st, id, refs, 1, vals), 0);
	}
	assert_int_equal(sl_state_snapshot_begin(st, 0, &sn), 0);
	srand(11);
	do {
		rc = sl_state_snapshot_next(sn, &rec);
		assert_true(rc >= 0);
		if (rc == 1 && memcmp(rec.ns, &ns2, 8) == 0) {
			/* still there though drained from the live state */
			n_snap2++;
			continue;
		}
		if (rc == 1) {
			uint64_t k, v;

			memcpy(&k, rec.key, 8);
			memcpy(&v, rec.val, 8);
			assert_true(k < OLD);
			assert_int_equal(v, 1);
			assert_int_equal(seen[k], 0);
			seen[k] = 1;
			n_snap++;
		}
		if (n_snap == OLD / 2 && drained2 == 0) {
			/* a window fires while the snapshot is read */
			assert_int_equal(sl_state_ns_drain(st, id, &ns2, 0, count_cb,
							   &drained2), OLD2);
			assert_int_equal(drained2, OLD2);
		}
		if (n_snap % 100 != 0 && rc == 1)
			continue;
		/* a batch: new keys in adjacent pairs, old keys at random */
		for (int i = 0; i < B; i++) {
			if (i % 4 < 2 && next_new < OLD + NEW)
				keys[i] = i % 4 == 0 ? next_new : next_new++;
			else
				keys[i] = (uint64_t)(rand() % OLD);
			refs[i] = (struct sl_state_ref){ .key = &keys[i], .ns = &ns,
				.kg = (uint16_t)sl_kg_of(sl_kg_hash(&keys[i], 8), MAXP) };
		}
		assert_int_equal(sl_state_fixed_upsert_bulk(st, id, refs, B, vals,
							    created), 0);
		for (int i = 0; i < B; i++) {
			uint64_t v;

			memcpy(&v, vals[i], 8);
			assert_int_equal(v, want[keys[i]]);
			assert_int_equal(created[i], want[keys[i]] == 0);
			n_live += created[i];
			v++;
			memcpy(vals[i], &v, 8);
			want[keys[i]]++;
		}
		assert_int_equal(sl_state_fixed_release_bulk(st, id, refs, B, vals), 0);
	} while (rc == 1);
	assert_int_equal(n_snap, OLD);
	assert_int_equal(n_snap2, OLD2);
	assert_int_equal(drained2, OLD2);
	sl_state_snapshot_end(st, sn);
	drained2 = 0;
	assert_int_equal(sl_state_ns_drain(st, id, &ns2, 0, count_cb, &drained2), 0);
	for (uint64_t k = 0; k < OLD + NEW; k++) {
		struct sl_state_ref r = R((uint16_t)sl_kg_of(sl_kg_hash(&k, 8), MAXP),
					  &k, &ns, st, id);
		uint64_t v = 0;

		assert_int_equal(sl_state_value_get(st, id, &r, 0, &v), want[k] != 0);
		assert_int_equal(v, want[k]);
	}
	/* every entry once: no duplicate inserted past a copied page */
	assert_int_equal(sl_state_ns_drain(st, id, &ns, 0, count_cb, &drained),
			 (int)n_live);
	assert_int_equal(drained, (int)n_live);
	sl_state_close(st);
}

/* ---- TTL (R5.5, W5.1, C3) --------------------------------------------- */

static void
test_W5_1_create_and_write(void **state)
{
	struct sl_state *st = open_all(state);
	int id = reg_value(st, "t", 10000, SL_STATE_TTL_ON_CREATE_AND_WRITE,
			   SL_STATE_TTL_NEVER_RETURN_EXPIRED);
	uint32_t k = 1;
	uint64_t ns = 0, v = 1, out;
	struct sl_state_ref r = R(4, &k, &ns, st, id);

	assert_int_equal(sl_state_value_put(st, id, &r, 0, &v), 0);
	assert_int_equal(sl_state_value_get(st, id, &r, 9999, &out), 1);
	assert_int_equal(out, 1);
	assert_int_equal(sl_state_value_get(st, id, &r, 10000, &out), 0);
	/* removed on that read: even a reader that returns expired sees none */
	assert_int_equal(sl_state_value_get(st, id, &r, 0, &out), 0);
	sl_state_close(st);
}

static void
test_W5_1_read_and_write(void **state)
{
	struct sl_state *st = open_all(state);
	int id = reg_value(st, "t", 10000, SL_STATE_TTL_ON_READ_AND_WRITE,
			   SL_STATE_TTL_NEVER_RETURN_EXPIRED);
	uint32_t k = 1;
	uint64_t ns = 0, v = 1, out;
	struct sl_state_ref r = R(4, &k, &ns, st, id);

	assert_int_equal(sl_state_value_put(st, id, &r, 0, &v), 0);
	assert_int_equal(sl_state_value_get(st, id, &r, 5000, &out), 1);
	assert_int_equal(sl_state_value_get(st, id, &r, 14999, &out), 1);
	assert_int_equal(sl_state_value_get(st, id, &r, 24999, &out), 0);
	sl_state_close(st);
}

static void
test_W5_1_return_expired_if_not_cleaned(void **state)
{
	struct sl_state *st = open_all(state);
	int id = reg_value(st, "t", 10000, SL_STATE_TTL_ON_CREATE_AND_WRITE,
			   SL_STATE_TTL_RETURN_EXPIRED_IF_NOT_CLEANED_UP);
	uint32_t k = 1;
	uint64_t ns = 0, v = 1, out = 0;
	struct sl_state_ref r = R(4, &k, &ns, st, id);

	assert_int_equal(sl_state_value_put(st, id, &r, 0, &v), 0);
	assert_int_equal(sl_state_value_get(st, id, &r, 12000, &out), 1);
	assert_int_equal(out, 1);
	assert_int_equal(sl_state_value_get(st, id, &r, 12001, &out), 0);
	sl_state_close(st);
}

static void
test_W5_1_list(void **state)
{
	struct sl_state *st = open_all(state);
	struct sl_state_desc d = { .name = "l", .kind = SL_STATE_LIST,
				   .key_len = 4, .ttl = { .ttl_ms = 10000 } };
	int id = sl_state_register(st, &d);
	uint32_t k = 1;
	struct sl_state_ref r = R(4, &k, NULL, st, id);
	struct strs c = { .n = 0 };

	assert_int_equal(sl_state_list_add(st, id, &r, 0, "a", 1), 0);
	assert_int_equal(sl_state_list_add(st, id, &r, 6000, "b", 1), 0);
	assert_int_equal(sl_state_list_get(st, id, &r, 10000, collect, &c), 1);
	assert_string_equal(c.s[0], "b");
	assert_int_equal(sl_state_list_get(st, id, &r, 16000, NULL, NULL), 0);
	sl_state_close(st);
}

static void
test_R5_5_ttl_map_and_aggregating(void **state)
{
	struct sl_state *st = open_all(state);
	struct sl_state_desc md = { .name = "m", .kind = SL_STATE_MAP,
				    .key_len = 4, .ukey_len = 4,
				    .ttl = { .ttl_ms = 100,
					     .update = SL_STATE_TTL_ON_READ_AND_WRITE } };
	struct sl_state_desc rd = { .name = "r", .kind = SL_STATE_REDUCING,
				    .key_len = 4, .val_len = 8,
				    .reduce = reduce_sum,
				    .ttl = { .ttl_ms = 100 } };
	int mi = sl_state_register(st, &md), ri = sl_state_register(st, &rd);
	uint32_t k = 1, u1 = 1, u2 = 2;
	struct sl_state_ref r = R(4, &k, NULL, st, mi);
	int64_t x = 5, out;

	assert_int_equal(sl_state_map_put(st, mi, &r, 0, &u1, "x", 1), 0);
	assert_int_equal(sl_state_map_put(st, mi, &r, 50, &u2, "y", 1), 0);
	assert_int_equal(sl_state_map_contains(st, mi, &r, 99, &u1), 1); /* -> 199 */
	assert_int_equal(sl_state_map_iter(st, mi, &r, 160, NULL, NULL), 1);
	assert_int_equal(sl_state_map_contains(st, mi, &r, 160, &u2), 0);
	assert_int_equal(sl_state_agg_add(st, ri, &r, 0, &x), 0);
	assert_int_equal(sl_state_agg_add(st, ri, &r, 100, &x), 0); /* expired: fresh */
	assert_int_equal(sl_state_agg_get(st, ri, &r, 150, &out), 1);
	assert_int_equal(out, 5);
	sl_state_close(st);
}

/* C3: ts + ttl is clamped to INT64_MAX only when ts > 0. */
static void
test_c3_overflow(void **state)
{
	struct sl_state *st = open_all(state);
	int id = reg_value(st, "t", INT64_MAX - 5, SL_STATE_TTL_ON_CREATE_AND_WRITE,
			   SL_STATE_TTL_NEVER_RETURN_EXPIRED);
	int id2 = reg_value(st, "u", 100, SL_STATE_TTL_ON_CREATE_AND_WRITE,
			    SL_STATE_TTL_NEVER_RETURN_EXPIRED);
	uint32_t k = 1;
	uint64_t ns = 0, v = 1, out;
	struct sl_state_ref r = R(4, &k, &ns, st, id);

	/* 100 + (MAX - 5) overflows: clamped to MAX, not wrapped negative */
	assert_int_equal(sl_state_value_put(st, id, &r, 100, &v), 0);
	assert_int_equal(sl_state_value_get(st, id, &r, INT64_MAX - 1, &out), 1);
	assert_int_equal(sl_state_value_get(st, id, &r, INT64_MAX, &out), 0);
	/* ts <= 0: no clamp, plain ts + ttl */
	assert_int_equal(sl_state_value_put(st, id2, &r, -50, &v), 0);
	assert_int_equal(sl_state_value_get(st, id2, &r, 49, &out), 1);
	assert_int_equal(sl_state_value_get(st, id2, &r, 50, &out), 0);
	sl_state_close(st);
}

/* Background cleanup (heap: incremental; both: full compaction pass). */
static void
test_R5_5_ttl_cleanup(void **state)
{
	struct sl_state *st = open_all(state);
	struct sl_state_desc d = {
		.name = "t", .kind = SL_STATE_VALUE, .key_len = 4, .val_len = 8,
		.ttl = { .ttl_ms = 10, .cleanup_incremental = 5,
			 .cleanup_compaction = true },
	};
	int id = sl_state_register(st, &d);
	struct sl_state_snap *sn;
	struct sl_state_record rec;
	int n = 0;

	for (uint32_t k = 0; k < 1000; k++) {
		struct sl_state_ref r = R((uint16_t)(k % MAXP), &k, NULL, st, id);
		uint64_t v = k;

		assert_int_equal(sl_state_value_put(st, id, &r, 0, &v), 0);
	}
	sl_state_flush(st);
	assert_int_equal(sl_state_compact(st, 100), 0);
	assert_int_equal(sl_state_snapshot_begin(st, 100, &sn), 0);
	while (sl_state_snapshot_next(sn, &rec) == 1)
		n++;
	sl_state_snapshot_end(st, sn);
	assert_int_equal(n, 0);
	sl_state_close(st);
}

/* ---- snapshots, restore, rescale -------------------------------------- */

struct chunks { uint8_t *b[4096]; size_t len[4096]; uint16_t kg[4096]; int n; };

static int
chunk_cb(void *arg, uint16_t kg, const void *buf, size_t len)
{
	struct chunks *c = arg;

	assert_true(c->n < 4096);
	if (c->n > 0)
		assert_true(kg >= c->kg[c->n - 1]);	/* ascending */
	c->b[c->n] = malloc(len);
	memcpy(c->b[c->n], buf, len);
	c->len[c->n] = len;
	c->kg[c->n++] = kg;
	return 0;
}

static void
chunks_free(struct chunks *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->b[i]);
	c->n = 0;
}

static int
reg_all(struct sl_state *st, int *ids)
{
	struct sl_state_desc v = { .name = "v", .kind = SL_STATE_VALUE,
				   .key_len = 4, .ns_len = 8, .val_len = 8 };
	struct sl_state_desc l = { .name = "l", .kind = SL_STATE_LIST,
				   .key_len = 4 };
	struct sl_state_desc m = { .name = "m", .kind = SL_STATE_MAP,
				   .key_len = 4, .ukey_len = 4 };

	ids[0] = sl_state_register(st, &v);
	ids[1] = sl_state_register(st, &l);
	ids[2] = sl_state_register(st, &m);
	return ids[0] >= 0 && ids[1] >= 0 && ids[2] >= 0;
}

static uint16_t
kg_of(uint32_t k)
{
	return (uint16_t)sl_kg_of(sl_kg_hash(&k, 4), MAXP);
}

/* Write key k's state (value k*gen, list [k], map {k: k+gen}). */
static void
put_key(struct sl_state *st, const int *ids, uint32_t k, uint64_t gen)
{
	uint64_t ns = 1, v = k * gen, mv = k + gen;
	struct sl_state_ref r = R(kg_of(k), &k, &ns, st, ids[0]);

	assert_int_equal(sl_state_value_put(st, ids[0], &r, 0, &v), 0);
	r = R(kg_of(k), &k, NULL, st, ids[1]);
	assert_int_equal(sl_state_list_add(st, ids[1], &r, 0, &k, 4), 0);
	r = R(kg_of(k), &k, NULL, st, ids[2]);
	assert_int_equal(sl_state_map_put(st, ids[2], &r, 0, &k, &mv, 8), 0);
}

/* 1 when k's state reads back as put_key(gen) wrote it once, 0 absent. */
static int
check_key(struct sl_state *st, const int *ids, uint32_t k, uint64_t gen)
{
	uint64_t ns = 1, v = 0, mv = 0;
	struct sl_state_ref r;
	int rc;

	r = R(kg_of(k), &k, &ns, st, ids[0]);
	rc = sl_state_value_get(st, ids[0], &r, 0, &v);
	if (rc == -ERANGE || rc == 0)
		return 0;
	assert_int_equal(rc, 1);
	assert_int_equal(v, k * gen);
	r = R(kg_of(k), &k, NULL, st, ids[1]);
	assert_int_equal(sl_state_list_get(st, ids[1], &r, 0, NULL, NULL), 1);
	r = R(kg_of(k), &k, NULL, st, ids[2]);
	assert_int_equal(sl_state_map_get(st, ids[2], &r, 0, &k, &mv, 8), 8);
	assert_int_equal(mv, k + gen);
	return 1;
}

static void
snapshot_all(struct sl_state *st, struct chunks *c, uint8_t *meta,
	     size_t *meta_len, void (*during)(struct sl_state *, const int *),
	     const int *ids)
{
	struct sl_state_snap *sn;
	int rc;

	assert_int_equal(sl_state_snapshot_begin(st, 0, &sn), 0);
	*meta_len = sl_state_snapshot_meta(sn, meta, 4096);
	assert_true(*meta_len <= 4096);
	/* drain in small slices, the worker writing between them */
	do {
		rc = sl_state_snapshot_write(sn, 4096, 8192, chunk_cb, c);
		assert_true(rc >= 0);
		if (during != NULL)
			during(st, ids);
	} while (rc == 1);
	sl_state_snapshot_end(st, sn);
}

static uint32_t mut_next;

/* Concurrent writes after the snapshot began: must not show in it. */
static void
mutate(struct sl_state *st, const int *ids)
{
	for (int i = 0; i < 50; i++, mut_next++) {
		uint32_t k = mut_next % 3000;

		if (k < 1000) {
			uint64_t ns = 1;
			struct sl_state_ref r = R(kg_of(k), &k, &ns, st, ids[0]);

			sl_state_clear(st, ids[0], &r);
		}
		put_key(st, ids, k + 3000, 7);	/* new keys */
		if (k >= 1000 && k < 2000) {
			uint64_t ns = 1, v = 0;
			struct sl_state_ref r = R(kg_of(k), &k, &ns, st, ids[0]);

			assert_int_equal(sl_state_value_put(st, ids[0], &r, 0, &v), 0);
		}
	}
}

static void
test_snapshot_roundtrip(void **state)
{
	enum sl_state_backend b = ((struct be *)*state)->b;
	struct sl_state *st = open_st(b, 0, 0, MAXP - 1, 0);
	struct sl_state *rs;
	static struct chunks c;
	uint8_t meta[4096];
	size_t ml;
	int ids[3], ids2[3];

	assert_true(reg_all(st, ids));
	for (uint32_t k = 0; k < 3000; k++)
		put_key(st, ids, k, 2);
	mut_next = 0;
	snapshot_all(st, &c, meta, &ml, mutate, ids);
	assert_true(mut_next > 0);
	/* restore onto both backends */
	for (int t = 0; t < 2; t++) {
		rs = open_st(t ? SL_STATE_BACKEND_ROCKSDB : SL_STATE_BACKEND_HEAP,
			     1, 0, MAXP - 1, 0);
		assert_true(reg_all(rs, ids2));
		for (int i = 0; i < c.n; i++)
			assert_true(sl_state_restore(rs, meta, ml, c.b[i], c.len[i]) > 0);
		for (uint32_t k = 0; k < 3000; k++)
			assert_int_equal(check_key(rs, ids2, k, 2), 1);
		for (uint32_t k = 3000; k < 6000; k++)
			assert_int_equal(check_key(rs, ids2, k, 7), 0);
		sl_state_close(rs);
	}
	chunks_free(&c);
	sl_state_close(st);
}

/* An old layout's value {a, b} is {a, *ctx, b} now (sl_state_desc.upgrade). */
static void
up_conv(const void *old, void *val, void *ctx)
{
	uint64_t o[2], v[3];

	memcpy(o, old, 16);
	v[0] = o[0];
	memcpy(&v[1], ctx, 8);
	v[2] = o[1];
	memcpy(val, v, 24);
}

static int
reg_up(struct sl_state *st, uint32_t val_len, uint32_t old_len, void *ctx)
{
	struct sl_state_desc d = {
		.name = "u", .kind = SL_STATE_VALUE, .key_len = 4, .ns_len = 8,
		.val_len = val_len,
		.ttl = { .ttl_ms = 10000, .update = SL_STATE_TTL_ON_CREATE_AND_WRITE,
			 .visibility = SL_STATE_TTL_NEVER_RETURN_EXPIRED },
		.old_val_len = old_len, .upgrade = old_len != 0 ? up_conv : NULL,
		.ctx = ctx,
	};

	return sl_state_register(st, &d);
}

/*
 * A checkpoint of 16-byte values restores into state whose values are 24
 * bytes now, each converted by the descriptor's upgrade and its expiry
 * kept; without an upgrade, or from a native RocksDB checkpoint, it is
 * refused. A checkpoint of today's layout loads as it is.
 */
static void
test_value_upgrade(void **state)
{
	enum sl_state_backend b = ((struct be *)*state)->b;
	struct sl_state *st = open_st(b, 0, 0, MAXP - 1, 0), *rs;
	static struct chunks c;
	uint64_t marker = 77;
	uint8_t meta[4096];
	size_t ml;
	int id, id2;

	id = reg_up(st, 16, 0, NULL);
	assert_true(id >= 0);
	for (uint32_t k = 0; k < 2000; k++) {
		uint64_t ns = k % 3, v[2] = { k, 3 * (uint64_t)k };
		struct sl_state_ref r = R(kg_of(k), &k, &ns, st, id);

		assert_int_equal(sl_state_value_put(st, id, &r, k, v), 0);
	}
	snapshot_all(st, &c, meta, &ml, NULL, NULL);
	for (int t = 0; t < 2; t++) {
		rs = open_st(t ? SL_STATE_BACKEND_ROCKSDB : SL_STATE_BACKEND_HEAP,
			     1, 0, MAXP - 1, 0);
		id2 = reg_up(rs, 24, 16, &marker);
		assert_true(id2 >= 0);
		for (int i = 0; i < c.n; i++)
			assert_true(sl_state_restore(rs, meta, ml, c.b[i], c.len[i]) > 0);
		for (uint32_t k = 0; k < 2000; k++) {
			uint64_t ns = k % 3, v[3] = { 0 };
			struct sl_state_ref r = R(kg_of(k), &k, &ns, rs, id2);

			assert_int_equal(sl_state_value_get(rs, id2, &r, k + 9999, v), 1);
			assert_int_equal(v[0], k);
			assert_int_equal(v[1], 77);
			assert_int_equal(v[2], 3 * (uint64_t)k);
			/* the expiry came through: put at k, 10 s to live */
			assert_int_equal(sl_state_value_get(rs, id2, &r, k + 10000, v), 0);
		}
		sl_state_close(rs);
	}
	/* no upgrade: the old values do not fit */
	rs = open_st(b, 1, 0, MAXP - 1, 0);
	assert_true(reg_up(rs, 24, 0, NULL) >= 0);
	assert_int_equal(sl_state_restore(rs, meta, ml, c.b[0], c.len[0]), -EINVAL);
	sl_state_close(rs);
	chunks_free(&c);
	/* today's layout, with an upgrade registered: loads as it is */
	rs = open_st(b, 1, 0, MAXP - 1, 0);
	id2 = reg_up(rs, 16, 8, &marker);
	assert_true(id2 >= 0);
	snapshot_all(st, &c, meta, &ml, NULL, NULL);
	for (int i = 0; i < c.n; i++)
		assert_true(sl_state_restore(rs, meta, ml, c.b[i], c.len[i]) > 0);
	{
		uint32_t k = 1234;
		uint64_t ns = k % 3, v[2] = { 0 };
		struct sl_state_ref r = R(kg_of(k), &k, &ns, rs, id2);

		assert_int_equal(sl_state_value_get(rs, id2, &r, k, v), 1);
		assert_int_equal(v[0], k);
		assert_int_equal(v[1], 3 * (uint64_t)k);
	}
	sl_state_close(rs);
	chunks_free(&c);
	if (b == SL_STATE_BACKEND_ROCKSDB) {
		/* RocksDB's own files keep the old values: refused */
		char dir[160];
		struct sl_state_snap *sn;
		bool adopted = true;

		snprintf(dir, sizeof(dir), "%s/native-up", tmpdir);
		assert_int_equal(sl_state_snapshot_native(st, dir), 0);
		assert_int_equal(sl_state_snapshot_begin(st, 0, &sn), 0);
		ml = sl_state_snapshot_meta(sn, meta, sizeof(meta));
		sl_state_snapshot_end(st, sn);
		rs = open_st(b, 1, 0, MAXP - 1, 0);
		assert_true(reg_up(rs, 24, 16, &marker) >= 0);
		assert_int_equal(sl_state_restore_native(rs, meta, ml, dir,
							 SL_STATE_NATIVE_ADOPT, &adopted),
				 -EPROTO);
		assert_false(adopted);
		sl_state_close(rs);
	}
	/* an upgrade needs a fixed-size value of another length */
	{
		struct sl_state_desc l = { .name = "l", .kind = SL_STATE_LIST,
					   .key_len = 4, .old_val_len = 8,
					   .upgrade = up_conv };
		struct sl_state_desc v = { .name = "v", .kind = SL_STATE_VALUE,
					   .key_len = 4, .val_len = 8,
					   .old_val_len = 8, .upgrade = up_conv };

		assert_int_equal(sl_state_register(st, &l), -EINVAL);
		assert_int_equal(sl_state_register(st, &v), -EINVAL);
	}
	sl_state_close(st);
}

static int cow_list_cb(void *arg, const void *elem, uint32_t len);

static void
put_le(uint8_t *o, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		o[i] = (uint8_t)(v >> (8 * i));
}

/* Restore one chunk into a fresh state with a value "v" and a list "l"
 * (both key 8, namespace 8; v 8 bytes): the restore's return value. */
static int
restore_one(enum sl_state_backend b, int slot, const uint8_t *meta, size_t ml,
	    const uint8_t *chunk, size_t len, struct sl_state **out, int *iv,
	    int *il)
{
	struct sl_state_desc dv = { .name = "v", .kind = SL_STATE_VALUE,
				    .key_len = 8, .ns_len = 8, .val_len = 8 };
	struct sl_state_desc dl = { .name = "l", .kind = SL_STATE_LIST,
				    .key_len = 8, .ns_len = 8 };
	struct sl_state *st = open_st(b, slot, 0, MAXP - 1, 0);
	int rc;

	*iv = sl_state_register(st, &dv);
	*il = sl_state_register(st, &dl);
	assert_true(*iv >= 0 && *il >= 0);
	rc = sl_state_restore(st, meta, ml, chunk, len);
	if (out != NULL)
		*out = st;
	else
		sl_state_close(st);
	return rc;
}

/*
 * The keyed-state chunk, byte for byte (docs/checkpoints.md): "SLK3",
 * then runs of one descriptor's records, a fixed-size record its key,
 * namespace and value alone (the heap: key and value, in a run that holds
 * the namespace once), a list's with a u32 length; the chunks of formats
 * 2 (no run flags) and 1 (a header per record) still restore; a run that
 * claims no records, more than the chunk's, bytes past the chunk, a flag
 * unknown, or a namespace for a list is refused.
 */
static void
test_chunk_format(void **state)
{
	enum sl_state_backend b = ((struct be *)*state)->b;
	struct sl_state *st, *rs;
	static struct chunks c;
	uint8_t meta[4096], want[64], bad[128], v1[64];
	uint64_t k = 5, ns = 1, val = 77, got = 0, l[5] = { 0 };
	size_t ml;
	int iv, il, rv, rl;

	/* one key of key group 5: a value and a list of one element */
	st = open_st(b, 0, 0, MAXP - 1, 0);
	{
		struct sl_state_desc dv = { .name = "v", .kind = SL_STATE_VALUE,
					    .key_len = 8, .ns_len = 8, .val_len = 8 };
		struct sl_state_desc dl = { .name = "l", .kind = SL_STATE_LIST,
					    .key_len = 8, .ns_len = 8 };
		struct sl_state_ref r;

		iv = sl_state_register(st, &dv);
		il = sl_state_register(st, &dl);
		assert_true(iv == 0 && il == 1);
		r = R(5, &k, &ns, st, iv);
		assert_int_equal(sl_state_value_put(st, iv, &r, 0, &val), 0);
		r = R(5, &k, &ns, st, il);
		assert_int_equal(sl_state_list_add(st, il, &r, 0, &val, 8), 0);
	}
	memset(&c, 0, sizeof(c));
	snapshot_all(st, &c, meta, &ml, NULL, NULL);
	sl_state_close(st);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.kg[0], 5);
	/* header 16; run of v: 8 + 24; run of l: 8 + 16 + 4 + element */
	memcpy(want, "SLK3", 4);
	put_le(want + 4, 5, 2);
	put_le(want + 6, 0, 2);
	put_le(want + 8, 2, 4);
	put_le(want + 16, 0, 2);	/* desc v */
	put_le(want + 18, 0, 2);
	put_le(want + 20, 1, 4);
	put_le(want + 24, k, 8);
	put_le(want + 32, ns, 8);
	put_le(want + 40, val, 8);
	put_le(want + 48, 1, 2);	/* desc l */
	put_le(want + 50, 0, 2);
	put_le(want + 52, 1, 4);
	put_le(want + 56, k, 8);
	if (b == SL_STATE_BACKEND_HEAP) {
		/* a page whose records share a namespace: a run that holds
		 * it once (flag 1), then key and value */
		put_le(want + 18, 1, 2);
		put_le(want + 24, ns, 8);
		put_le(want + 32, k, 8);
	}
	assert_true(c.len[0] > 64 + 4);
	put_le(want + 12, c.len[0] - 16, 4);
	assert_memory_equal(c.b[0], want, 64);
	assert_memory_equal(c.b[0] + 64, &ns, 8);
	{
		uint32_t el;

		memcpy(&el, c.b[0] + 72, 4);	/* the list's stored bytes */
		assert_int_equal(c.len[0], 76 + el);
	}

	/* it restores, onto this backend */
	assert_int_equal(restore_one(b, 1, meta, ml, c.b[0], c.len[0], &rs,
				     &rv, &rl), 2);
	{
		struct sl_state_ref r = R(5, &k, &ns, rs, rv);

		assert_int_equal(sl_state_value_get(rs, rv, &r, 0, &got), 1);
		assert_int_equal(got, val);
		r = R(5, &k, &ns, rs, rl);
		assert_int_equal(sl_state_list_get(rs, rl, &r, 0, cow_list_cb, l), 1);
		assert_int_equal(l[0], 1);
		assert_int_equal(l[1], val);
	}
	sl_state_close(rs);

	/* format 2: runs without flags, the namespace in every record */
	assert_true(c.len[0] <= sizeof(bad));
	memcpy(bad, c.b[0], c.len[0]);
	memcpy(bad, "SLK2", 4);
	put_le(bad + 18, 0, 2);
	put_le(bad + 24, k, 8);
	put_le(bad + 32, ns, 8);
	assert_int_equal(restore_one(b, 1, meta, ml, bad, c.len[0], &rs, &rv,
				     &rl), 2);
	{
		struct sl_state_ref r = R(5, &k, &ns, rs, rv);

		assert_int_equal(sl_state_value_get(rs, rv, &r, 0, &got), 1);
		assert_int_equal(got, val);
	}
	sl_state_close(rs);

	/* format 1: u16 desc, u16 0, u32 val_len before every record */
	memcpy(v1, "SLK1", 4);
	put_le(v1 + 4, 5, 2);
	put_le(v1 + 6, 0, 2);
	put_le(v1 + 8, 1, 4);
	put_le(v1 + 12, 8 + 24, 4);
	put_le(v1 + 16, 0, 2);
	put_le(v1 + 18, 0, 2);
	put_le(v1 + 20, 8, 4);
	put_le(v1 + 24, k, 8);
	put_le(v1 + 32, ns, 8);
	put_le(v1 + 40, val + 1, 8);
	assert_int_equal(restore_one(b, 1, meta, ml, v1, 48, &rs, &rv, &rl), 1);
	{
		struct sl_state_ref r = R(5, &k, &ns, rs, rv);

		assert_int_equal(sl_state_value_get(rs, rv, &r, 0, &got), 1);
		assert_int_equal(got, val + 1);
	}
	sl_state_close(rs);

	/* malformed runs */
	memcpy(bad, want, 48);
	put_le(bad + 8, 1, 4);
	put_le(bad + 12, 32, 4);
	assert_int_equal(restore_one(b, 1, meta, ml, bad, 48, NULL, &rv, &rl), 1);
	put_le(bad + 20, 0, 4);		/* a run of no records */
	assert_int_equal(restore_one(b, 1, meta, ml, bad, 48, NULL, &rv, &rl), -EINVAL);
	put_le(bad + 20, 2, 4);		/* more than the chunk's one */
	assert_int_equal(restore_one(b, 1, meta, ml, bad, 48, NULL, &rv, &rl), -EINVAL);
	put_le(bad + 8, 2, 4);		/* two, but the bytes of one */
	assert_int_equal(restore_one(b, 1, meta, ml, bad, 48, NULL, &rv, &rl), -EINVAL);
	put_le(bad + 8, 1, 4);
	put_le(bad + 20, 1, 4);
	put_le(bad + 16, 9, 2);		/* a descriptor the meta lacks */
	assert_int_equal(restore_one(b, 1, meta, ml, bad, 48, NULL, &rv, &rl), -EINVAL);
	put_le(bad + 18, 2, 2);		/* a flag this reader does not know */
	assert_int_equal(restore_one(b, 1, meta, ml, bad, 48, NULL, &rv, &rl), -EINVAL);
	put_le(bad + 12, 12, 4);	/* a run's namespace past the chunk */
	put_le(bad + 18, 1, 2);
	assert_int_equal(restore_one(b, 1, meta, ml, bad, 28, NULL, &rv, &rl), -EINVAL);
	memcpy(bad, c.b[0], c.len[0]);	/* a list run with a namespace */
	put_le(bad + 50, 1, 2);
	assert_int_equal(restore_one(b, 1, meta, ml, bad, c.len[0], NULL, &rv, &rl), -EINVAL);
	/* a list record whose length runs past the chunk */
	memcpy(bad, want, 64);
	memcpy(bad + 64, &ns, 8);
	put_le(bad + 72, 1000, 4);
	put_le(bad + 12, 76 + 8 - 16, 4);
	assert_int_equal(restore_one(b, 1, meta, ml, bad, 76 + 8, NULL, &rv, &rl), -EINVAL);
	chunks_free(&c);
}

static void
rescale(void **state, uint32_t to)
{
	enum sl_state_backend b = ((struct be *)*state)->b;
	struct sl_state *w[3];
	static struct chunks c;
	uint8_t meta[2][4096];
	size_t ml[2];
	int ids[3][3], from[4096], total = 0;
	enum { NKEYS = 4000 };

	for (uint32_t i = 0; i < 2; i++) {
		uint32_t f, l;

		sl_kg_range(i, MAXP, 2, &f, &l);
		w[i] = open_st(b, (int)i, f, l, 0);
		assert_true(reg_all(w[i], ids[i]));
	}
	for (uint32_t k = 0; k < NKEYS; k++)
		put_key(w[sl_kg_owner(kg_of(k), MAXP, 2)],
			ids[sl_kg_owner(kg_of(k), MAXP, 2)], k, 3);
	for (int i = 0; i < 2; i++) {
		int before = c.n;

		snapshot_all(w[i], &c, meta[i], &ml[i], NULL, NULL);
		for (int j = before; j < c.n; j++)
			from[j] = i;
		sl_state_close(w[i]);
	}
	for (uint32_t i = 0; i < to; i++) {
		uint32_t f, l;

		sl_kg_range(i, MAXP, to, &f, &l);
		w[i] = open_st(b, 2 + (int)i, f, l, 0);
		assert_true(reg_all(w[i], ids[i]));
		for (int j = 0; j < c.n; j++) {
			int rc = sl_state_restore(w[i], meta[from[j]], ml[from[j]],
						  c.b[j], c.len[j]);

			assert_true(rc >= 0);
			assert_true((rc > 0) == (c.kg[j] >= f && c.kg[j] <= l));
		}
	}
	for (uint32_t k = 0; k < NKEYS; k++) {
		int hits = 0;

		for (uint32_t i = 0; i < to; i++)
			hits += check_key(w[i], ids[i], k, 3);
		assert_int_equal(hits, 1);	/* exactly one new owner */
		total += hits;
	}
	assert_int_equal(total, NKEYS);
	for (uint32_t i = 0; i < to; i++)
		sl_state_close(w[i]);
	chunks_free(&c);
}

static void
test_R5_4_rescale_2_to_1(void **state)
{
	rescale(state, 1);
}

static void
test_R5_4_rescale_2_to_3(void **state)
{
	rescale(state, 3);
}

static int
bytes_cb(void *arg, uint16_t kg, const void *buf, size_t len)
{
	(void)kg;
	(void)buf;
	*(size_t *)arg += len;
	return 0;
}

/* Keys 0..n-1 (key group k % MAXP, namespace 1) get the value k + add. */
static void
thaw_put_all(struct sl_state *st, int id, uint64_t n, uint64_t add)
{
	for (uint64_t k = 0; k < n; k++) {
		uint64_t ns = 1, v = k + add;
		struct sl_state_ref r = R((uint16_t)(k % MAXP), &k, &ns, st, id);

		assert_int_equal(sl_state_value_put(st, id, &r, 0, &v), 0);
	}
}

/*
 * heap: writes before the drain save each slot once (no page is copied)
 * and the snapshot still holds the old values; pages the drain has passed
 * are taken back in place, so writes after a full drain save nothing.
 */
static void
test_heap_thaw(void **state)
{
	struct sl_state *st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1, 0);
	struct sl_state_desc d = { .name = "v", .kind = SL_STATE_VALUE,
				   .key_len = 8, .ns_len = 8, .val_len = 8 };
	int id = sl_state_register(st, &d);
	struct sl_state_stats s0, s1;
	struct sl_state_snap *sn;
	static struct chunks c;
	uint8_t meta[4096];
	size_t ml, bytes = 0;
	enum { NK = 100000 };

	(void)state;
	assert_true(id >= 0);
	thaw_put_all(st, id, NK, 0);
	/* 1: write everything, then drain: copies, and the old values. */
	assert_int_equal(sl_state_snapshot_begin(st, 0, &sn), 0);
	sl_state_stats(st, &s0);
	thaw_put_all(st, id, NK, 1000000);
	thaw_put_all(st, id, NK, 3000000);	/* a second write saves nothing */
	sl_state_stats(st, &s1);
	assert_int_equal(s1.cow_slots - s0.cow_slots, NK);
	assert_int_equal(s1.cow_pages, s0.cow_pages);
	assert_int_equal(s1.thawed_pages, s0.thawed_pages);
	ml = sl_state_snapshot_meta(sn, meta, sizeof(meta));
	while (sl_state_snapshot_write(sn, 1 << 20, 0, chunk_cb, &c) == 1)
		;
	sl_state_snapshot_end(st, sn);
	{
		struct sl_state *rs = open_st(SL_STATE_BACKEND_HEAP, 1, 0, MAXP - 1, 0);
		int rid = sl_state_register(rs, &d);

		for (int i = 0; i < c.n; i++)
			assert_true(sl_state_restore(rs, meta, ml, c.b[i], c.len[i]) > 0);
		for (uint64_t k = 0; k < NK; k += 7) {
			uint64_t ns = 1, v = 0;
			struct sl_state_ref r = R((uint16_t)(k % MAXP), &k, &ns, rs, rid);

			assert_int_equal(sl_state_value_get(rs, rid, &r, 0, &v), 1);
			assert_int_equal(v, k);
		}
		sl_state_close(rs);
		chunks_free(&c);
	}
	/* 2: drain everything, then write: every page taken back in place. */
	assert_int_equal(sl_state_snapshot_begin(st, 0, &sn), 0);
	while (sl_state_snapshot_write(sn, 1 << 20, 0, bytes_cb, &bytes) == 1)
		;
	assert_true(bytes > NK * 16);	/* key and value: the run holds the ns */
	sl_state_stats(st, &s0);
	thaw_put_all(st, id, NK, 2000000);
	sl_state_stats(st, &s1);
	print_message("writes after a full drain: %" PRIu64 " slots saved, %" PRIu64 " pages taken back\n",
		      s1.cow_slots - s0.cow_slots, s1.thawed_pages - s0.thawed_pages);
	assert_int_equal(s1.cow_slots, s0.cow_slots);
	assert_int_equal(s1.cow_pages, s0.cow_pages);
	assert_true(s1.thawed_pages - s0.thawed_pages > 1000);
	sl_state_snapshot_end(st, sn);
	for (uint64_t k = 0; k < NK; k += 7) {
		uint64_t ns = 1, v = 0;
		struct sl_state_ref r = R((uint16_t)(k % MAXP), &k, &ns, st, id);

		assert_int_equal(sl_state_value_get(st, id, &r, 0, &v), 1);
		assert_int_equal(v, k + 2000000);
	}
	sl_state_close(st);
}

struct cow_drain {
	struct sl_state_snap *sn;
	struct chunks c;
	int rc;
	_Atomic int done;
};

/* The drainer's thread: no cmocka asserts here (they longjmp). */
static int
cow_chunk(void *arg, uint16_t kg, const void *buf, size_t len)
{
	struct chunks *c = arg;

	if (c->n == 4096)
		return -ENOSPC;
	c->b[c->n] = malloc(len);
	if (c->b[c->n] == NULL)
		return -ENOMEM;
	memcpy(c->b[c->n], buf, len);
	c->len[c->n] = len;
	c->kg[c->n++] = kg;
	return 0;
}

static void *
cow_drainer(void *arg)
{
	struct cow_drain *dr = arg;
	int rc;

	/* small slices, so the copy and the worker's writes interleave */
	while ((rc = sl_state_snapshot_write(dr->sn, 1 << 16, 1 << 12,
					     cow_chunk, &dr->c)) == 1)
		;
	dr->rc = rc;
	atomic_store(&dr->done, 1);
	return NULL;
}

/* Rows [k0, k0 + n) of desc id get the value k + add, through the vector
 * path the window operator uses (in-place writes). */
static void
cow_upsert(struct sl_state *st, int id, uint64_t k0, uint64_t n, uint64_t add)
{
	enum { V = 64 };
	static uint64_t keys[V], ns[V];
	struct sl_state_ref refs[V];
	uint8_t *vals[V], created[V];

	for (uint64_t b = k0; b < k0 + n; b += V) {
		unsigned int m = (unsigned int)(k0 + n - b < V ? k0 + n - b : V);

		for (unsigned int i = 0; i < m; i++) {
			keys[i] = b + i;
			ns[i] = 1;
			refs[i] = (struct sl_state_ref){ .key = &keys[i],
				.ns = &ns[i], .kg = (uint16_t)((b + i) % MAXP) };
		}
		assert_int_equal(sl_state_fixed_upsert_bulk(st, id, refs, m, vals,
							     created), 0);
		for (unsigned int i = 0; i < m; i++) {
			uint64_t v = b + i + add;

			memcpy(vals[i], &v, 8);
		}
		assert_int_equal(sl_state_fixed_release_bulk(st, id, refs, m, vals), 0);
	}
}

static int
cow_list_cb(void *arg, const void *elem, uint32_t len)
{
	uint64_t *out = arg;

	if (len == 8 && out[0] < 4)
		memcpy(&out[1 + out[0]], elem, 8);
	out[0]++;
	return 0;
}

/*
 * heap: a snapshot drained on another thread while the worker overwrites
 * every key (several times), clears a fifth of them, appends to lists and
 * inserts half as many new keys again (rehashing tables under the open
 * snapshot): the restored snapshot holds exactly the state at begin.
 */
static void
test_heap_cow_concurrent(void **state)
{
	struct sl_state *st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1, 0);
	struct sl_state_desc dv = { .name = "v", .kind = SL_STATE_VALUE,
				    .key_len = 8, .ns_len = 8, .val_len = 8 };
	struct sl_state_desc dl = { .name = "l", .kind = SL_STATE_LIST,
				    .key_len = 8, .ns_len = 8 };
	int iv = sl_state_register(st, &dv), il = sl_state_register(st, &dl);
	static struct cow_drain dr;
	struct sl_state_stats s0, s1;
	uint8_t meta[4096];
	size_t ml;
	pthread_t th;
	int rounds = 0;
	enum { NK = 150000 };

	(void)state;
	assert_true(iv >= 0 && il >= 0);
	cow_upsert(st, iv, 0, NK, 0);
	for (uint64_t k = 0; k < NK; k += 3) {
		uint64_t ns = 1;
		struct sl_state_ref r = R((uint16_t)(k % MAXP), &k, &ns, st, il);

		assert_int_equal(sl_state_list_add(st, il, &r, 0, &k, 8), 0);
	}
	memset(&dr, 0, sizeof(dr));
	assert_int_equal(sl_state_snapshot_begin(st, 0, &dr.sn), 0);
	ml = sl_state_snapshot_meta(dr.sn, meta, sizeof(meta));
	sl_state_stats(st, &s0);
	assert_int_equal(pthread_create(&th, NULL, cow_drainer, &dr), 0);
	do {
		rounds++;
		cow_upsert(st, iv, 0, NK, (uint64_t)rounds * 1000000);
		if (rounds == 1) {
			cow_upsert(st, iv, NK, NK / 2, 0);	/* grows every table */
			for (uint64_t k = 0; k < NK; k += 5) {
				uint64_t ns = 1;
				struct sl_state_ref r = R((uint16_t)(k % MAXP), &k, &ns, st, iv);

				assert_int_equal(sl_state_clear(st, iv, &r), 0);
			}
		}
		for (uint64_t k = 0; k < NK; k += 3) {
			uint64_t ns = 1, e = k + 7;
			struct sl_state_ref r = R((uint16_t)(k % MAXP), &k, &ns, st, il);

			assert_int_equal(sl_state_list_add(st, il, &r, 0, &e, 8), 0);
		}
	} while (!atomic_load(&dr.done) || rounds < 2);
	pthread_join(th, NULL);
	sl_state_stats(st, &s1);
	print_message("%d rounds of writes during the drain: %" PRIu64 " slots saved, %" PRIu64 " pages taken back\n",
		      rounds, s1.cow_slots - s0.cow_slots,
		      s1.thawed_pages - s0.thawed_pages);
	assert_int_equal(dr.rc, 0);
	sl_state_snapshot_end(st, dr.sn);
	{
		struct sl_state *rs = open_st(SL_STATE_BACKEND_HEAP, 1, 0, MAXP - 1, 0);
		int rv = sl_state_register(rs, &dv), rl = sl_state_register(rs, &dl);

		assert_true(rv >= 0 && rl >= 0);
		for (int i = 0; i < dr.c.n; i++)
			assert_true(sl_state_restore(rs, meta, ml, dr.c.b[i],
						     dr.c.len[i]) > 0);
		for (uint64_t k = 0; k < NK + NK / 2; k++) {
			uint64_t ns = 1, v = 0, l[5] = { 0 };
			struct sl_state_ref r = R((uint16_t)(k % MAXP), &k, &ns, rs, rv);
			struct sl_state_ref q = R((uint16_t)(k % MAXP), &k, &ns, rs, rl);

			if (k >= NK) {	/* inserted after begin */
				assert_int_equal(sl_state_value_get(rs, rv, &r, 0, &v), 0);
				continue;
			}
			assert_int_equal(sl_state_value_get(rs, rv, &r, 0, &v), 1);
			assert_int_equal(v, k);
			assert_int_equal(sl_state_list_get(rs, rl, &q, 0, cow_list_cb, l),
					 k % 3 == 0 ? 1 : 0);
			if (k % 3 == 0)
				assert_int_equal(l[1], k);
		}
		sl_state_close(rs);
	}
	chunks_free(&dr.c);
	sl_state_close(st);
}

/*
 * heap: a table pre-sized far beyond its entries (state.key-capacity at
 * the start of a job): pages never written before begin are left out of
 * the snapshot and taken back by the worker without saving anything.
 * Inserts after begin (into such pages and others) and overwrites of the
 * old keys are all invisible in the snapshot, which holds exactly the
 * state at begin; only slots of pages written before begin were saved.
 */
static void
test_heap_snapshot_presized(void **state)
{
	struct sl_state *st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1, 0);
	struct sl_state_desc dv = { .name = "v", .kind = SL_STATE_VALUE,
				    .key_len = 8, .ns_len = 8, .val_len = 8,
				    .capacity_hint = 4000 };
	int iv = sl_state_register(st, &dv);
	struct sl_state_snap *sn;
	struct sl_state_stats s0, s1;
	static struct chunks c;
	uint8_t meta[4096];
	size_t ml;
	enum { OLD = 2000, NEW = 60000 };

	(void)state;
	assert_true(iv >= 0);
	cow_upsert(st, iv, 0, OLD, 0);
	assert_int_equal(sl_state_snapshot_begin(st, 0, &sn), 0);
	ml = sl_state_snapshot_meta(sn, meta, sizeof(meta));
	sl_state_stats(st, &s0);
	cow_upsert(st, iv, OLD, NEW, 0);
	cow_upsert(st, iv, 0, OLD, 1000000);
	sl_state_stats(st, &s1);
	/* Each old key's slot saved once; of the new keys, only those that
	 * landed in a page an old key had written. */
	assert_true(s1.cow_slots - s0.cow_slots >= OLD);
	assert_true(s1.cow_slots - s0.cow_slots < OLD + NEW / 4);
	print_message("%" PRIu64 " slots saved for %d overwrites and %d inserts after begin\n",
		      s1.cow_slots - s0.cow_slots, OLD, NEW);
	memset(&c, 0, sizeof(c));
	while (sl_state_snapshot_write(sn, 1 << 16, 0, cow_chunk, &c) == 1)
		;
	assert_true(sn != NULL);
	sl_state_snapshot_end(st, sn);
	{
		struct sl_state *rs = open_st(SL_STATE_BACKEND_HEAP, 1, 0, MAXP - 1, 0);
		int rv = sl_state_register(rs, &dv);
		uint64_t n = 0;

		assert_true(rv >= 0);
		for (int i = 0; i < c.n; i++) {
			int r = sl_state_restore(rs, meta, ml, c.b[i], c.len[i]);

			assert_true(r > 0);
			n += (uint64_t)r;
		}
		assert_int_equal(n, OLD);
		for (uint64_t k = 0; k < OLD + NEW; k++) {
			uint64_t ns = 1, v = 0;
			struct sl_state_ref r = R((uint16_t)(k % MAXP), &k, &ns, rs, rv);

			assert_int_equal(sl_state_value_get(rs, rv, &r, 0, &v), k < OLD);
			if (k < OLD)
				assert_int_equal(v, k);
		}
		sl_state_close(rs);
	}
	chunks_free(&c);
	sl_state_close(st);
}

/* Names of the files in dir, sorted, newline-separated. */
static void
list_dir(const char *dir, char *out, size_t cap)
{
	char cmd[256];
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof(cmd), "ls -1 '%s'", dir);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	pclose(f);
}

static ino_t
inode_of(const char *dir, const char *name)
{
	char path[256];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &sb), 0);
	return sb.st_ino;
}

/*
 * Native (incremental) checkpoints: 2 rocksdb workers checkpoint with
 * RocksDB's Checkpoint while they go on writing; the checkpoints restore
 * onto 1, 2 and 3 rocksdb workers (the most-overlapping one adopted, the
 * others read) and onto 2 heap workers, each key exactly once, as of the
 * checkpoint; the checkpoint directories are never written; a second
 * checkpoint links the first one's SST files instead of copying them.
 */
static void
native_case(void)
{
	struct sl_state *w[3];
	struct sl_state_snap *sn;
	struct sl_state_record rec;
	char dir[2][160], dir2[160], before[2][4096], after[4096];
	uint8_t meta[2][4096];
	size_t ml[2];
	int ids[3][3];
	uint32_t src_f[2], src_l[2];
	enum { NKEYS = 4000 };

	for (uint32_t i = 0; i < 2; i++) {
		sl_kg_range(i, MAXP, 2, &src_f[i], &src_l[i]);
		w[i] = open_st(SL_STATE_BACKEND_ROCKSDB, (int)i, src_f[i], src_l[i], 0);
		assert_true(reg_all(w[i], ids[i]));
	}
	for (uint32_t k = 0; k < NKEYS; k++) {
		/* With a log, worker 0's state ends up half in an SST, half in
		 * the log; worker 1's all in the log: all must come back. */
		if (g_wal && k == NKEYS / 2)
			assert_int_equal(sl_state_flush(w[0]), 0);
		put_key(w[sl_kg_owner(kg_of(k), MAXP, 2)],
			ids[sl_kg_owner(kg_of(k), MAXP, 2)], k, 3);
	}
	for (int i = 0; i < 2; i++) {
		snprintf(dir[i], sizeof(dir[i]), "%s/native-%d-%d", tmpdir, i, g_wal);
		assert_int_equal(sl_state_snapshot_native(w[i], dir[i]), 0);
		assert_int_equal(sl_state_snapshot_begin(w[i], 0, &sn), 0);
		assert_string_equal(sl_state_snapshot_dir(sn), dir[i]);
		assert_int_equal(sl_state_snapshot_next(sn, &rec), 0);
		ml[i] = sl_state_snapshot_meta(sn, meta[i], sizeof(meta[i]));
		sl_state_snapshot_end(w[i], sn);
		/* after the checkpoint: must not show in it */
		for (uint32_t k = 0; k < NKEYS + 500; k++)
			if (sl_kg_owner(kg_of(k), MAXP, 2) == (uint32_t)i)
				put_key(w[i], ids[i], k, 5);
		list_dir(dir[i], before[i], sizeof(before[i]));
		if (!g_wal || i == 0)
			assert_non_null(strstr(before[i], ".sst"));
		if (g_wal)
			assert_non_null(strstr(before[i], ".log"));
		else
			assert_null(strstr(before[i], ".log"));
		assert_non_null(strstr(before[i], "CURRENT"));
	}
	/* The next checkpoint of worker 0 shares the unchanged SST files. */
	snprintf(dir2, sizeof(dir2), "%s/native-0b-%d", tmpdir, g_wal);
	assert_int_equal(sl_state_snapshot_native(w[0], dir2), 0);
	assert_int_equal(sl_state_snapshot_begin(w[0], 0, &sn), 0);
	sl_state_snapshot_end(w[0], sn);
	{
		char first_sst[32] = "";
		const char *p = strstr(before[0], ".sst");

		assert_true(p - before[0] >= 6);
		memcpy(first_sst, p - 6, 10);
		assert_int_equal(inode_of(dir[0], first_sst), inode_of(dir2, first_sst));
	}
	/* The next plain snapshot is a record snapshot again. */
	assert_int_equal(sl_state_snapshot_begin(w[0], 0, &sn), 0);
	assert_null(sl_state_snapshot_dir(sn));
	assert_int_equal(sl_state_snapshot_next(sn, &rec), 1);
	sl_state_snapshot_end(w[0], sn);
	sl_state_close(w[0]);
	sl_state_close(w[1]);

	for (uint32_t to = 1; to <= 4; to++) {
		/* to == 4: two heap workers */
		uint32_t n = to == 4 ? 2 : to;
		enum sl_state_backend b = to == 4 ? SL_STATE_BACKEND_HEAP :
			SL_STATE_BACKEND_ROCKSDB;
		int n_adopted = 0;

		for (uint32_t i = 0; i < n; i++) {
			uint32_t f, l, best = 0, ov[2];
			bool adopted;
			int rc;

			sl_kg_range(i, MAXP, n, &f, &l);
			w[i] = open_st(b, 2 + (int)i, f, l, 0);
			assert_true(reg_all(w[i], ids[i]));
			for (int j = 0; j < 2; j++) {
				uint32_t lo = f > src_f[j] ? f : src_f[j];
				uint32_t hi = l < src_l[j] ? l : src_l[j];

				ov[j] = hi >= lo ? hi - lo + 1 : 0;
			}
			best = ov[1] > ov[0];
			rc = sl_state_restore_native(w[i], meta[best], ml[best], dir[best],
						     SL_STATE_NATIVE_ADOPT, &adopted);
			if (rc < 0)
				print_message("restore of %s onto worker %u/%u: %s\n",
					      dir[best], i, n, strerror(-rc));
			assert_true(rc >= 0);
			assert_int_equal(adopted, b == SL_STATE_BACKEND_ROCKSDB);
			n_adopted += adopted;
			if (ov[!best] > 0) {
				rc = sl_state_restore_native(w[i], meta[!best], ml[!best],
							     dir[!best], SL_STATE_NATIVE_ADOPT,
							     &adopted);
				assert_true(rc > 0);
				assert_false(adopted);	/* no longer empty */
			}
		}
		for (uint32_t k = 0; k < NKEYS + 500; k++) {
			int hits = 0;

			for (uint32_t i = 0; i < n; i++)
				hits += check_key(w[i], ids[i], k, 3);
			assert_int_equal(hits, k < NKEYS ? 1 : 0);
		}
		for (uint32_t i = 0; i < n; i++)
			sl_state_close(w[i]);
		print_message("native checkpoint of 2 workers restored onto %u %s workers (%d adopted)\n",
			      n, to == 4 ? "heap" : "rocksdb", n_adopted);
	}
	for (int i = 0; i < 2; i++) {
		list_dir(dir[i], after, sizeof(after));
		assert_string_equal(after, before[i]);
	}
	/* heap has no native checkpoint */
	w[0] = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1, 0);
	assert_int_equal(sl_state_snapshot_native(w[0], dir2), -ENOTSUP);
	sl_state_close(w[0]);
}

/* Both ways of getting the memtables in: flushed, or the log copied. */
static void
test_native(void **state)
{
	(void)state;
	native_case();
	g_wal = true;
	native_case();
	g_wal = false;
}

/* The case: state larger than the heap backend's memory limit. */
static void
test_larger_than_heap(void **state)
{
	struct sl_state *h = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1,
				     8u << 20);
	struct sl_state *r = open_st(SL_STATE_BACKEND_ROCKSDB, 1, 0, MAXP - 1, 0);
	struct sl_state_desc d = { .name = "big", .kind = SL_STATE_VALUE,
				   .key_len = 8, .val_len = 64 };
	int hid = sl_state_register(h, &d), rid = sl_state_register(r, &d);
	uint8_t val[64], out[64];
	uint64_t k, failed_at = 0;
	struct sl_state_stats s;

	(void)state;
	assert_true(hid >= 0 && rid >= 0);
	for (k = 0; k < 1000000; k++) {
		struct sl_state_ref ref = R((uint16_t)(k % MAXP), &k, NULL, h, hid);
		int rc;

		memset(val, (int)k, sizeof(val));
		rc = sl_state_value_put(h, hid, &ref, 0, val);
		if (rc == -ENOMEM) {
			failed_at = k;
			break;
		}
		assert_int_equal(rc, 0);
	}
	assert_true(failed_at > 10000);
	sl_state_stats(h, &s);
	assert_true(s.mem_used <= 8u << 20);
	assert_true(s.n_enomem >= 1);
	print_message("heap limited to 8 MiB: -ENOMEM at key %lu (%zu bytes used)\n",
		      (unsigned long)failed_at, s.mem_used);
	sl_state_close(h);
	for (k = 0; k < failed_at * 3; k++) {
		struct sl_state_ref ref = R((uint16_t)(k % MAXP), &k, NULL, r, rid);

		memcpy(val, &k, 8);
		memset(val + 8, (int)k, sizeof(val) - 8);
		assert_int_equal(sl_state_value_put(r, rid, &ref, 0, val), 0);
	}
	for (k = 0; k < failed_at * 3; k++) {
		struct sl_state_ref ref = R((uint16_t)(k % MAXP), &k, NULL, r, rid);

		memcpy(val, &k, 8);
		memset(val + 8, (int)k, sizeof(val) - 8);
		assert_int_equal(sl_state_value_get(r, rid, &ref, 0, out), 1);
		assert_memory_equal(out, val, sizeof(val));
	}
	sl_state_close(r);
}

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < N_REGION; i++) {
		regions[i] = mmap(NULL, REGION_LEN, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				  -1, 0);
		if (regions[i] == MAP_FAILED)
			return -1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sl_state_test.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * Every allocation of a table's growth fails in turn (the heap's fault
 * hook): the insert that grows the table gets -ENOMEM, and the state is
 * as it was: every key there with its value, not a byte more in use.
 * Values of 16 bytes after 8-byte keys make slots of 32 bytes, pages of
 * 4 KiB and, at 65536 slots, a page directory of 4 KiB, which reuses a
 * page the growth before freed: the build once freed that memory's stale
 * pointers when an allocation after the directory failed (found by
 * fuzz_state, a crash in hfree).
 */
static void
test_heap_alloc_failures(void **state)
{
	struct sl_state *st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1, 0);
	struct sl_state_desc d = { .name = "v", .kind = SL_STATE_VALUE,
				   .key_len = 8, .val_len = 16 };
	int id = sl_state_register(st, &d);
	const uint64_t nk = 65536 / 8 * 7 / 2;	/* cap 32768 is full */
	uint64_t val[2], out[2], enomem = 0;
	struct sl_state_stats s0, s1;
	long n;

	(void)state;
	assert_true(id >= 0);
	for (uint64_t k = 0; k < nk; k++) {
		struct sl_state_ref r = R(3, &k, NULL, st, id);

		val[0] = k;
		val[1] = ~k;
		assert_int_equal(sl_state_value_put(st, id, &r, 0, val), 0);
	}
	sl_state_stats(st, &s0);
	for (n = 0;; n++) {
		uint64_t k = nk;
		struct sl_state_ref r = R(3, &k, NULL, st, id);
		int rc;

		val[0] = k;
		val[1] = ~k;
		sl_state_heap_fault_arm(n);
		rc = sl_state_value_put(st, id, &r, 0, val);
		if (sl_state_heap_fault_arm(-1) >= 0) {
			/* every allocation of the growth had its turn */
			assert_int_equal(rc, 0);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		enomem++;
		sl_state_stats(st, &s1);
		assert_int_equal(s1.mem_used, s0.mem_used);
		assert_int_equal(s1.n_enomem, s0.n_enomem + enomem);
		assert_int_equal(sl_state_value_get(st, id, &r, 0, out), 0);
	}
	/* the directory, its two byte arrays, 512 pages */
	assert_int_equal(n, 3 + 512);
	for (uint64_t k = 0; k <= nk; k++) {
		struct sl_state_ref r = R(3, &k, NULL, st, id);

		assert_int_equal(sl_state_value_get(st, id, &r, 0, out), 1);
		assert_int_equal(out[0], k);
		assert_int_equal(out[1], ~k);
	}
	sl_state_close(st);
}

/* Write sn out whole, end it, restore it into rs: the entries loaded. */
static uint64_t
snapshot_into(struct sl_state *st, struct sl_state_snap *sn,
	      struct sl_state *rs, const uint8_t *meta, size_t ml)
{
	static struct chunks c;
	uint64_t got = 0;

	memset(&c, 0, sizeof(c));
	while (sl_state_snapshot_write(sn, 1 << 16, 0, cow_chunk, &c) == 1)
		;
	sl_state_snapshot_end(st, sn);
	for (int i = 0; i < c.n; i++) {
		int r = sl_state_restore(rs, meta, ml, c.b[i], c.len[i]);

		assert_true(r > 0);
		got += (uint64_t)r;
	}
	chunks_free(&c);
	return got;
}

/*
 * Every allocation a snapshot's copy-on-write makes (undo records' chunks)
 * fails in turn while the worker overwrites every key: the write that
 * could not save the old bytes is refused with -ENOMEM and leaves its
 * slot alone, every other write lands, and the snapshot still restores
 * exactly the state as of its begin.
 */
static void
test_heap_alloc_failures_snapshot(void **state)
{
	struct sl_state_desc d = { .name = "v", .kind = SL_STATE_VALUE,
				   .key_len = 8, .val_len = 16 };
	enum { NK = 3000 };
	uint8_t meta[4096];
	long n;

	(void)state;
	for (n = 0;; n++) {
		struct sl_state *st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1, 0);
		struct sl_state *rs = open_st(SL_STATE_BACKEND_HEAP, 1, 0, MAXP - 1, 0);
		int id = sl_state_register(st, &d), rid = sl_state_register(rs, &d);
		uint64_t val[2], out[2], failed = UINT64_MAX;
		struct sl_state_snap *sn;
		bool fired;
		size_t ml;

		assert_true(id >= 0 && rid >= 0);
		for (uint64_t k = 0; k < NK; k++) {
			struct sl_state_ref r = R(3, &k, NULL, st, id);

			val[0] = k;
			val[1] = ~k;
			assert_int_equal(sl_state_value_put(st, id, &r, 0, val), 0);
		}
		assert_int_equal(sl_state_snapshot_begin(st, 0, &sn), 0);
		ml = sl_state_snapshot_meta(sn, meta, sizeof(meta));
		sl_state_heap_fault_arm(n);
		for (uint64_t k = 0; k < NK; k++) {
			struct sl_state_ref r = R(3, &k, NULL, st, id);
			int rc;

			val[0] = k + 1000000;
			val[1] = k;
			rc = sl_state_value_put(st, id, &r, 0, val);
			if (rc == -ENOMEM) {
				assert_int_equal(failed, UINT64_MAX);	/* once */
				failed = k;
				continue;
			}
			assert_int_equal(rc, 0);
		}
		fired = sl_state_heap_fault_arm(-1) < 0;
		assert_int_equal(fired, failed != UINT64_MAX);
		for (uint64_t k = 0; k < NK; k++) {
			struct sl_state_ref r = R(3, &k, NULL, st, id);

			assert_int_equal(sl_state_value_get(st, id, &r, 0, out), 1);
			assert_int_equal(out[0], k == failed ? k : k + 1000000);
			assert_int_equal(out[1], k == failed ? ~k : k);
		}
		assert_int_equal(snapshot_into(st, sn, rs, meta, ml), NK);
		for (uint64_t k = 0; k < NK; k++) {
			struct sl_state_ref r = R(3, &k, NULL, rs, rid);

			assert_int_equal(sl_state_value_get(rs, rid, &r, 0, out), 1);
			assert_int_equal(out[0], k);
			assert_int_equal(out[1], ~k);
		}
		sl_state_close(rs);
		sl_state_close(st);
		if (!fired)
			break;
	}
	/* 3000 undo records of 64 bytes: chunks of 64 and 128 KiB */
	assert_int_equal(n, 2);
}

static int
seen_cb(void *arg, uint16_t kg, const void *key, const void *val)
{
	uint8_t *seen = arg;
	uint64_t k, v;

	(void)kg;
	memcpy(&k, key, 8);
	memcpy(&v, val, 8);
	if (k >= 3000 || v != k * 5)
		return -EINVAL;
	seen[k]++;
	return 0;
}

/*
 * A firing's drain under an open snapshot copies each page before it
 * removes from it; each allocation of the drain fails in turn. A drain
 * stopped by -ENOMEM gave only the entries it removed, a second drain
 * gives the rest: each entry exactly once. Entries of another namespace
 * stay, and the snapshot restores the state as of its begin.
 */
static void
test_heap_alloc_failures_drain(void **state)
{
	struct sl_state_desc d = { .name = "v", .kind = SL_STATE_VALUE,
				   .key_len = 8, .ns_len = 8, .val_len = 8 };
	enum { NK = 3000 };
	static uint8_t seen[NK];
	uint8_t meta[4096];
	long n, stopped = 0;

	(void)state;
	for (n = 0;; n++) {
		struct sl_state *st = open_st(SL_STATE_BACKEND_HEAP, 0, 0, MAXP - 1, 0);
		struct sl_state *rs = open_st(SL_STATE_BACKEND_HEAP, 1, 0, MAXP - 1, 0);
		int id = sl_state_register(st, &d), rid = sl_state_register(rs, &d);
		uint64_t ns1 = 1, v;
		struct sl_state_snap *sn;
		int rc, rc2 = 0;
		bool fired;
		size_t ml;

		assert_true(id >= 0 && rid >= 0);
		for (uint64_t k = 0; k < NK; k++) {
			uint64_t ns = k % 4 == 0 ? 2 : 1;
			struct sl_state_ref r = R(3, &k, &ns, st, id);

			v = k * 5;
			assert_int_equal(sl_state_value_put(st, id, &r, 0, &v), 0);
		}
		assert_int_equal(sl_state_snapshot_begin(st, 0, &sn), 0);
		ml = sl_state_snapshot_meta(sn, meta, sizeof(meta));
		memset(seen, 0, sizeof(seen));
		sl_state_heap_fault_arm(n);
		rc = sl_state_ns_drain(st, id, &ns1, 0, seen_cb, seen);
		fired = sl_state_heap_fault_arm(-1) < 0;
		if (rc == -ENOMEM) {
			assert_true(fired);
			stopped++;
			rc = 0;		/* what it gave is in seen[] */
			for (uint64_t k = 0; k < NK; k++)
				rc += seen[k];
			rc2 = sl_state_ns_drain(st, id, &ns1, 0, seen_cb, seen);
			assert_true(rc2 > 0);
		}
		/* a failure in the rehash after the drain refuses nothing */
		assert_int_equal(rc + rc2, NK - NK / 4);
		for (uint64_t k = 0; k < NK; k++) {
			uint64_t ns = k % 4 == 0 ? 2 : 1, out = 0;
			struct sl_state_ref r = R(3, &k, &ns, st, id);

			assert_int_equal(seen[k], ns == 1 ? 1 : 0);
			assert_int_equal(sl_state_value_get(st, id, &r, 0, &out), ns == 2);
		}
		assert_int_equal(snapshot_into(st, sn, rs, meta, ml), NK);
		for (uint64_t k = 0; k < NK; k++) {
			uint64_t ns = k % 4 == 0 ? 2 : 1, out = 0;
			struct sl_state_ref r = R(3, &k, &ns, rs, rid);

			assert_int_equal(sl_state_value_get(rs, rid, &r, 0, &out), 1);
			assert_int_equal(out, k * 5);
		}
		sl_state_close(rs);
		sl_state_close(st);
		if (!fired)
			break;
	}
	print_message("drain under a snapshot: %ld allocations, %ld stopped it\n",
		      n, stopped);
	/* 32 pages of 4 KiB copied (a 4096-slot table of 32-byte slots),
	 * then the rehash that drops the tombstones: 32 pages, the
	 * directory and two byte arrays */
	assert_int_equal(n, 67);
	assert_int_equal(stopped, 32);
}

#define BOTH(f) cmocka_unit_test_prestate(f, &heap_be), \
		cmocka_unit_test_prestate(f, &rocks_be)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_R5_2_value_state),
		BOTH(test_R5_2_value_slot),
		BOTH(test_R5_2_list_state),
		BOTH(test_R5_2_map_state),
		BOTH(test_W5_2_reducing_aggregating),
		BOTH(test_R5_1_key_namespace_scope),
		BOTH(test_bulk),
		BOTH(test_fixed_upsert),
		BOTH(test_fixed_upsert_snapshot),
		BOTH(test_fixed_merge),
		BOTH(test_W5_1_create_and_write),
		BOTH(test_W5_1_read_and_write),
		BOTH(test_W5_1_return_expired_if_not_cleaned),
		BOTH(test_W5_1_list),
		BOTH(test_R5_5_ttl_map_and_aggregating),
		BOTH(test_c3_overflow),
		BOTH(test_R5_5_ttl_cleanup),
		BOTH(test_snapshot_roundtrip),
		BOTH(test_value_upgrade),
		BOTH(test_chunk_format),
		BOTH(test_R5_4_rescale_2_to_1),
		BOTH(test_R5_4_rescale_2_to_3),
		cmocka_unit_test(test_larger_than_heap),
		cmocka_unit_test(test_native),
		cmocka_unit_test(test_heap_thaw),
		cmocka_unit_test(test_heap_cow_concurrent),
		cmocka_unit_test(test_heap_snapshot_presized),
		cmocka_unit_test(test_heap_alloc_failures),
		cmocka_unit_test(test_heap_alloc_failures_snapshot),
		cmocka_unit_test(test_heap_alloc_failures_drain),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
