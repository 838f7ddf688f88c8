/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: libFuzzer target for the expression language. The input is
 * expression text compiled against a fixed schema with one field of every
 * type. A compile error must carry a position inside the text and a
 * message. A boolean expression E is run over 256 pseudo-random rows (rich
 * in INT64_MIN, -1, 0, NaN and friends, to reach the division and overflow
 * paths) and checked against invariants that need no second evaluator:
 * the selection is increasing; E and "not (E)" partition the rows; filtering
 * a subset in place gives the subset of the full result; and each row
 * filtered alone gives the same answer as in the batch. An integer
 * expression E must satisfy "(E) == (E)" on every row.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_expr.h"

#define NROWS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sl_schema sch;
static uint8_t rows[NROWS * 64];
static int ready;

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
init(void)
{
	static const int64_t ints[] = {
		0, 1, -1, 2, -2, 3, 7, -7, 100, INT64_MIN, INT64_MAX,
		INT64_MIN + 1, INT32_MIN, INT32_MAX, UINT32_MAX,
		1700000000000LL,
	};
	static const double dbls[] = {
		0.0, -0.0, 1.0, -1.0, 0.5, 1e300, -1e300, 1e-300,
		__builtin_nan(""), __builtin_inf(), -__builtin_inf(),
		9.2233720368547758e18,
	};
	static const char *const strs[] = {
		"", "a", "abc", "it's", "12345678", "ABCDEFGH",
	};
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	sl_schema_init(&sch);
	sl_schema_add(&sch, "a", SL_T_I64, 0);
	sl_schema_add(&sch, "b", SL_T_U64, 0);
	sl_schema_add(&sch, "c", SL_T_I32, 0);
	sl_schema_add(&sch, "d", SL_T_U32, 0);
	sl_schema_add(&sch, "e", SL_T_F64, 0);
	sl_schema_add(&sch, "f", SL_T_BOOL, 0);
	sl_schema_add(&sch, "ts", SL_T_TS, 0);
	sl_schema_add(&sch, "s", SL_T_STR, 8);
	for (unsigned int i = 0; i < NROWS; i++) {
		uint8_t *r = rows + (size_t)i * sch.row_size;

		for (int k = 0; k < sch.n_fields; k++) {
			const struct sl_field *fl = &sch.f[k];
			uint64_t x = rnd(&seed);
			int special = (x & 3) != 0;

			switch (fl->type) {
			case SL_T_F64:
				sl_row_set_f64(r, fl, special ?
					       dbls[(x >> 8) % (sizeof(dbls) / sizeof(dbls[0]))] :
					       (double)(int64_t)x / 1e6);
				break;
			case SL_T_BOOL:
				r[fl->offset] = (uint8_t)(x >> 8);
				break;
			case SL_T_STR: {
				const char *str = strs[(x >> 8) % (sizeof(strs) / sizeof(strs[0]))];

				memset(r + fl->offset, 0, fl->size);
				memcpy(r + fl->offset, str, strlen(str));
				break;
			}
			default:
				sl_row_set_int(r, fl, special ?
					       ints[(x >> 8) % (sizeof(ints) / sizeof(ints[0]))] :
					       (int64_t)(x >> (x & 63)));
				break;
			}
		}
	}
	ready = 1;
}

static void
fail(const char *why, const char *text)
{
	fprintf(stderr, "fuzz_expr: %s\n  text: %s\n", why, text);
	abort();
}

static unsigned int
run(const struct sl_expr *e, const uint16_t *sel, unsigned int n,
    uint16_t *out)
{
	return sl_expr_filter(e, rows, sch.row_size, sel, (uint16_t)n, out);
}

/* Compile a wrapped form of text; only the size limits may refuse it. */
static struct sl_expr *
compile_wrapped(const char *pre, const char *text, const char *mid,
		const char *post)
{
	size_t n = strlen(pre) + 2 * strlen(text) + strlen(mid) + strlen(post) + 1;
	char *w = malloc(n);
	struct sl_expr_err err;
	struct sl_expr *e;

	if (w == NULL)
		abort();
	snprintf(w, n, "%s%s%s%s%s", pre, text, mid, *mid ? text : "", post);
	e = sl_expr_compile(w, &sch, &err);
	if (e == NULL && strstr(err.msg, "nested too deeply") == NULL &&
	    strstr(err.msg, "too complex") == NULL &&
	    strstr(err.msg, "longer than") == NULL) {
		fprintf(stderr, "wrapped: %s\n  error at %u: %s\n", w, err.pos,
			err.msg);
		fail("a valid expression stopped compiling when wrapped", text);
	}
	free(w);
	return e;
}

static void
check_bool(const struct sl_expr *e, const char *text)
{
	uint16_t all[NROWS], out[NROWS], neg[NROWS], sub[NROWS], one[1];
	unsigned char in[NROWS] = { 0 };
	unsigned int n, nn, ns = 0, k = 0;
	struct sl_expr *ne;

	for (unsigned int i = 0; i < NROWS; i++)
		all[i] = (uint16_t)i;
	n = run(e, all, NROWS, out);
	if (n > NROWS)
		fail("more rows out than in", text);
	for (unsigned int i = 0; i < n; i++) {
		if (i && out[i] <= out[i - 1])
			fail("selection not increasing", text);
		in[out[i]] = 1;
	}

	/* E and not (E) partition the rows. */
	ne = compile_wrapped("not (", text, "", ")");
	if (ne != NULL) {
		nn = run(ne, all, NROWS, neg);
		if (n + nn != NROWS)
			fail("E and not (E) do not partition the rows", text);
		for (unsigned int i = 0; i < nn; i++)
			if (in[neg[i]])
				fail("a row passes both E and not (E)", text);
		sl_expr_free(ne);
	}

	/* A subset, filtered in place. */
	for (unsigned int i = 0; i < NROWS; i++)
		if (i % 3 != 1)
			sub[ns++] = (uint16_t)(NROWS - 1 - i);
	nn = run(e, sub, ns, sub);
	for (unsigned int i = 0; i < NROWS; i++) {
		unsigned int r = NROWS - 1 - i;

		if (i % 3 != 1 && in[r]) {
			if (k >= nn || sub[k] != r)
				fail("subset result differs from the full run", text);
			k++;
		}
	}
	if (k != nn)
		fail("subset result has extra rows", text);

	/* Row by row, the same answers. */
	for (unsigned int i = 0; i < NROWS; i++) {
		one[0] = (uint16_t)i;
		if (run(e, one, 1, one) != in[i])
			fail("a row alone differs from the batch", text);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_expr_err err;
	struct sl_expr *e;
	char *text;

	if (!ready)
		init();
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	e = sl_expr_compile(text, &sch, &err);
	if (e == NULL) {
		if (err.pos > strlen(text) && strstr(err.msg, "longer than") == NULL)
			fail("error position past the end of the text", text);
		if (err.msg[0] == '\0' ||
		    memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
			fail("error without a message", text);
	} else if (sl_expr_result_type(e) == SL_EXPR_BOOL) {
		check_bool(e, text);
	} else if (sl_expr_result_type(e) == SL_EXPR_INT) {
		struct sl_expr *eq = compile_wrapped("(", text, ") == (", ")");
		uint16_t sel[NROWS];

		if (eq != NULL) {
			for (unsigned int i = 0; i < NROWS; i++)
				sel[i] = (uint16_t)i;
			if (run(eq, sel, NROWS, sel) != NROWS)
				fail("(E) == (E) is false on some row", text);
			sl_expr_free(eq);
		}
	}
	sl_expr_free(e);
	free(text);
	return 0;
}
