/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: the expression language (operators/expr) end to end. A
 * schema with one field of every type (i64, u64, i32, u32, f64, bool,
 * timestamp_ms, str[8]) and 256 rows written with sl_row_set_int/_f64;
 * each filter's selected index list is checked exactly, either against a
 * hand-written list or against the same predicate written in C. Covers
 * precedence and associativity, two's-complement wraparound, division and
 * modulo by zero, INT64_MIN / -1, C/Java truncating modulo, int/double
 * promotion, u64 as two's complement, string equality (padding, full-width
 * values, too-long literals, '' escapes), literals (hex, INT64_MIN, float
 * forms), a selection subset, in-place filtering (sel_out == sel_in), more
 * than SL_VEC_MAX entries, more columns than are pinned in registers, the
 * register limit, and compile errors with their exact position and message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sl_expr.h"

#define N 256

enum { FX, FU, FH, FW, FF, FB, FTS, FS };

static struct sl_schema sch;
static uint8_t rows[N * 64];
static const char *const names[5] = { "alpha", "beta", "", "delta12x", "it's" };

/* Row values, also used by the C reference predicates. */
static int64_t
X(unsigned int i)
{
	return i == 0 ? INT64_MIN : i == 1 ? INT64_MAX : (int64_t)i - 128;
}

static int64_t
U(unsigned int i)
{
	return i == 3 ? -1 : (int64_t)i * 1000;	/* u64: UINT64_MAX in row 3 */
}

static int64_t
H(unsigned int i)
{
	return (int64_t)i * 7 - 900;
}

static int64_t
W(unsigned int i)
{
	return i == 4 ? 0xffffffffLL : (int64_t)i * 3;
}

static double
F(unsigned int i)
{
	return ((double)i - 100) * 0.5;
}

static int
B(unsigned int i)
{
	return i % 3 == 0;
}

static int
setup(void **state)
{
	(void)state;
	sl_schema_init(&sch);
	if (sl_schema_add(&sch, "x", SL_T_I64, 0) != FX ||
	    sl_schema_add(&sch, "u", SL_T_U64, 0) != FU ||
	    sl_schema_add(&sch, "h", SL_T_I32, 0) != FH ||
	    sl_schema_add(&sch, "w", SL_T_U32, 0) != FW ||
	    sl_schema_add(&sch, "f", SL_T_F64, 0) != FF ||
	    sl_schema_add(&sch, "b", SL_T_BOOL, 0) != FB ||
	    sl_schema_add(&sch, "ts", SL_T_TS, 0) != FTS ||
	    sl_schema_add(&sch, "s", SL_T_STR, 8) != FS ||
	    sch.row_size != 49)
		return -1;
	memset(rows, 0, sizeof(rows));
	for (unsigned int i = 0; i < N; i++) {
		uint8_t *r = rows + (size_t)i * sch.row_size;
		const char *nm = names[i % 5];

		sl_row_set_int(r, &sch.f[FX], X(i));
		sl_row_set_int(r, &sch.f[FU], U(i));
		sl_row_set_int(r, &sch.f[FH], H(i));
		sl_row_set_int(r, &sch.f[FW], W(i));
		sl_row_set_f64(r, &sch.f[FF], F(i));
		/* Any non-zero byte is true: store 2 in some rows. */
		r[sch.f[FB].offset] = B(i) ? (uint8_t)(1 + (i & 1)) : 0;
		sl_row_set_int(r, &sch.f[FTS], 1700000000000LL + (int64_t)i * 1000);
		memcpy(r + sch.f[FS].offset, nm, strlen(nm));	/* NUL-padded */
	}
	return 0;
}

static struct sl_expr *
compile_ok(const char *text, const struct sl_schema *s)
{
	struct sl_expr_err err;
	struct sl_expr *e = sl_expr_compile(text, s, &err);

	if (e == NULL)
		fail_msg("\"%s\" did not compile: pos %u: %s", text, err.pos,
			 err.msg);
	return e;
}

static unsigned int
filter_sel(const char *text, const uint16_t *sel, unsigned int n,
	   uint16_t *out)
{
	struct sl_expr *e = compile_ok(text, &sch);
	unsigned int got;

	assert_int_equal(sl_expr_result_type(e), SL_EXPR_BOOL);
	got = sl_expr_filter(e, rows, sch.row_size, sel, (uint16_t)n, out);
	sl_expr_free(e);
	return got;
}

static void
expect_list(const char *text, const uint16_t *want, unsigned int n_want)
{
	uint16_t sel[N], out[N];
	unsigned int n;

	for (unsigned int i = 0; i < N; i++)
		sel[i] = (uint16_t)i;
	n = filter_sel(text, sel, N, out);
	if (n != n_want || (n && memcmp(out, want, n * sizeof(*out)) != 0)) {
		fprintf(stderr, "\"%s\": got %u rows:", text, n);
		for (unsigned int i = 0; i < n && i < 40; i++)
			fprintf(stderr, " %u", out[i]);
		fprintf(stderr, "\n  want %u rows:", n_want);
		for (unsigned int i = 0; i < n_want && i < 40; i++)
			fprintf(stderr, " %u", want[i]);
		fprintf(stderr, "\n");
		fail_msg("wrong selection for \"%s\"", text);
	}
}

#define EXPECT(text, ...)						\
	do {								\
		static const uint16_t want_[] = { __VA_ARGS__ };	\
		expect_list(text, want_, sizeof(want_) / sizeof(want_[0])); \
	} while (0)
#define EXPECT_NONE(text) expect_list(text, NULL, 0)

static void
expect_pred(const char *text, int (*pred)(unsigned int i))
{
	uint16_t want[N];
	unsigned int n = 0;

	for (unsigned int i = 0; i < N; i++)
		if (pred(i))
			want[n++] = (uint16_t)i;
	expect_list(text, want, n);
}

static int
all(unsigned int i)
{
	(void)i;
	return 1;
}

static int
p_not_b_or(unsigned int i)
{
	return !B(i) || X(i) > 125;
}

static int
p_not_paren(unsigned int i)
{
	return !(B(i) || X(i) > 125);
}

static int
p_b(unsigned int i)
{
	return B(i);
}

static int
p_not_b(unsigned int i)
{
	return !B(i);
}

static int
p_b_ne_pos(unsigned int i)
{
	return B(i) != (X(i) > 0);
}

static int
p_neg_lt0(unsigned int i)
{
	return (int64_t)(0 - (uint64_t)X(i)) < 0;
}

static int
p_mod3(unsigned int i)
{
	return X(i) % 3 == -1;
}

static int
p_mod_neg(unsigned int i)
{
	return X(i) % -7 == H(i) % -7;
}

static int
p_f_pos(unsigned int i)
{
	return F(i) > 0;
}

static int
p_h_div(unsigned int i)
{
	return H(i) / -13 == 5;
}

static int
p_not_0_1(unsigned int i)
{
	return i >= 2;
}

static int
p_str(unsigned int i, unsigned int k)
{
	return i % 5 == k;
}

static int
p_beta(unsigned int i)
{
	return p_str(i, 1);
}

static int
p_not_beta(unsigned int i)
{
	return !p_str(i, 1);
}

static int
p_empty(unsigned int i)
{
	return p_str(i, 2);
}

static int
p_full(unsigned int i)
{
	return p_str(i, 3);
}

static int
p_quote(unsigned int i)
{
	return p_str(i, 4);
}

static int
p_beq(unsigned int i)
{
	return p_str(i, 1) == (X(i) == -126);
}

static int
p_ts(unsigned int i)
{
	return i >= 250;
}

static int
p_w(unsigned int i)
{
	return W(i) > 300;
}

static int
p_ugt(unsigned int i)
{
	return U(i) > 100000;
}

static void
test_precedence(void **state)
{
	(void)state;
	expect_pred("1 + 2 * 3 == 7", all);
	EXPECT_NONE("(1 + 2) * 3 == 7");
	expect_pred("(1 + 2) * 3 == 9", all);
	expect_pred("10 - 4 - 3 == 3", all);		/* left-assoc */
	expect_pred("100 / 10 / 5 == 2", all);
	expect_pred("2 - -2 == 4 and -2 * -3 == 6", all);
	expect_pred("-(3 - 5) == 2 && !(1 > 2) || false", all);
	expect_pred("not b or x > 125", p_not_b_or);
	expect_pred("not (b or x > 125)", p_not_paren);
	EXPECT("b and x < -120 or x == 0", 0, 3, 6, 128);
	EXPECT("b and (x < -120 or x == 0)", 0, 3, 6);
	expect_pred("true", all);
	EXPECT_NONE("false");
	expect_pred("true == true and false != true and (1 < 2) == true", all);
}

static void
test_int_semantics(void **state)
{
	(void)state;
	/* Wraparound, as Java's long. */
	EXPECT("x + 1 < x", 1);
	EXPECT("x - 1 > x", 0);
	EXPECT("x * 2 == -2", 1, 127);
	EXPECT("x * x == 1", 1, 127, 129);
	EXPECT("-x == x", 0, 128);
	/* Division and modulo by zero give 0, also by a computed zero. */
	expect_pred("x / 0 == 0 and x % 0 == 0", all);
	expect_pred("x / (h - h) == 0 and u % (w - w) == 0", all);
	EXPECT_NONE("x / (x - x + 0) != 0");
	/* INT64_MIN / -1 == INT64_MIN, and x % -1 == 0, without a trap. */
	EXPECT("x / -1 == x", 0, 128);
	EXPECT("x / -1 == -9223372036854775808", 0);
	expect_pred("x % -1 == 0", all);
	expect_pred("x / -1 < 0", p_neg_lt0);
	/* Truncating division and modulo (C99 == Java). */
	expect_pred("-7 % 3 == -1 and 7 % -3 == 1 and -7 / 2 == -3 and 7 / -2 == -3",
		    all);
	expect_pred("x % 3 == -1", p_mod3);
	expect_pred("x % -7 == h % -7", p_mod_neg);
	expect_pred("h / -13 == 5", p_h_div);
	/* Integer division stays integer. */
	EXPECT("x / 2 == -50", 27, 28);
	/* u64 is two's complement; u32 and i32 extend correctly. */
	EXPECT("u == -1", 3);
	EXPECT("u < 0", 3);
	EXPECT("u == 255000", 255);
	EXPECT("u / 1000 == 7", 7);
	expect_pred("u > 100000", p_ugt);
	EXPECT("w == 4294967295", 4);
	EXPECT("w > 4000000000", 4);
	EXPECT("w == 3", 1);
	expect_pred("w > 300", p_w);
	EXPECT("h < -890", 0, 1);
	EXPECT("h == 885", 255);
	/* Timestamps are integers. */
	expect_pred("ts >= 1700000250000", p_ts);
	EXPECT("ts - 1700000000000 == 42000", 42);
}

static void
test_float_semantics(void **state)
{
	(void)state;
	EXPECT("x / 2.0 == -50", 28);
	EXPECT("x + 0.5 == -99.5", 28);
	EXPECT("f == 1", 102);
	EXPECT("1 == f", 102);
	EXPECT("-f == -1", 102);
	/* x + 128 wraps as an int before the compare promotes it. */
	expect_pred("f * 2 + 100 == x + 128", p_not_0_1);
	expect_pred("f / 0 > 1000", p_f_pos);
	EXPECT("f / 0 != f / 0", 100);		/* 0.0 / 0 is NaN */
	EXPECT("f == .5", 101);
	EXPECT("f == 1e1", 120);
	EXPECT("f == 2.", 104);
	EXPECT("f == 25E-1", 105);
	EXPECT("f == 0.25e+1", 105);
	EXPECT_NONE("f > 1e3");
	EXPECT("h + 0.5 == -899.5", 0);
	EXPECT("w * 1.0 == 4294967295", 4);
}

static void
test_bool_and_str(void **state)
{
	(void)state;
	expect_pred("b", p_b);
	expect_pred("b == true", p_b);
	expect_pred("b != false", p_b);
	expect_pred("not b", p_not_b);
	expect_pred("b == false", p_not_b);
	expect_pred("b != (x > 0)", p_b_ne_pos);
	EXPECT("!b && x == 3", 131);

	expect_pred("s == 'beta'", p_beta);
	expect_pred("s != 'beta'", p_not_beta);
	expect_pred("'beta' == s", p_beta);
	expect_pred("s == ''", p_empty);
	expect_pred("s == 'delta12x'", p_full);	/* fills all 8 bytes */
	EXPECT_NONE("s == 'delta12xy'");		/* longer than the field */
	expect_pred("s != 'delta12xy'", all);
	EXPECT_NONE("s == 'delt'");			/* a prefix is not equal */
	EXPECT_NONE("s == 'alpha '");
	expect_pred("s == 'it''s'", p_quote);
	EXPECT("s == 'alpha' and x < -120", 0, 5);
	expect_pred("(s == 'beta') == (x == -126)", p_beq);
}

static void
test_literals(void **state)
{
	(void)state;
	EXPECT("x == 0x10", 144);
	EXPECT("x == 0X7fffffffffffffff", 1);
	EXPECT("x == -0x8000000000000000", 0);
	EXPECT("x == -9223372036854775808", 0);
	EXPECT("x == 9223372036854775807", 1);
	EXPECT("x == - 9223372036854775808", 0);
	EXPECT("x==-1", 127);
	EXPECT("x\t==\n-1\r", 127);
}

static void
test_selection(void **state)
{
	uint16_t sel[2 * N], out[2 * N], want[2 * N];
	unsigned int n, nw = 0;

	(void)state;
	/* Odd rows only. */
	for (unsigned int i = 0; i < N / 2; i++)
		sel[i] = (uint16_t)(2 * i + 1);
	for (unsigned int i = 1; i < N; i += 2)
		if (B(i))
			want[nw++] = (uint16_t)i;
	n = filter_sel("b", sel, N / 2, out);
	assert_int_equal(n, nw);
	assert_memory_equal(out, want, n * sizeof(*out));
	assert_int_equal(want[0], 3);
	assert_int_equal(want[1], 9);

	/* In place: sel_out == sel_in. */
	n = filter_sel("b", sel, N / 2, sel);
	assert_int_equal(n, nw);
	assert_memory_equal(sel, want, n * sizeof(*sel));

	/* Reversed order is kept. */
	for (unsigned int i = 0; i < N; i++)
		sel[i] = (uint16_t)(N - 1 - i);
	n = filter_sel("x > 120", sel, N, sel);
	assert_int_equal(n, 8);
	{
		static const uint16_t rev[] = { 255, 254, 253, 252, 251, 250,
						249, 1 };

		assert_memory_equal(sel, rev, sizeof(rev));
	}

	/* Empty selection. */
	assert_int_equal(filter_sel("true", sel, 0, out), 0);

	/* More than SL_VEC_MAX entries: every row twice, in place. */
	for (unsigned int i = 0; i < 2 * N; i++)
		sel[i] = (uint16_t)(i % N);
	nw = 0;
	for (unsigned int i = 0; i < 2 * N; i++)
		if (!B(i % N))
			want[nw++] = (uint16_t)(i % N);
	n = filter_sel("not b", sel, 2 * N, sel);
	assert_int_equal(n, nw);
	assert_memory_equal(sel, want, n * sizeof(*sel));
}

static void
test_result_types(void **state)
{
	static const struct {
		const char *text;
		enum sl_expr_type t;
	} cases[] = {
		{ "x + 1", SL_EXPR_INT },
		{ "u", SL_EXPR_INT },
		{ "ts", SL_EXPR_INT },
		{ "x + f", SL_EXPR_F64 },
		{ "1.5", SL_EXPR_F64 },
		{ "-w / 2.0", SL_EXPR_F64 },
		{ "b", SL_EXPR_BOOL },
		{ "s != 'a'", SL_EXPR_BOOL },
		{ "x < f", SL_EXPR_BOOL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sl_expr *e = compile_ok(cases[i].text, &sch);

		assert_int_equal(sl_expr_result_type(e), cases[i].t);
#ifdef NDEBUG
		if (cases[i].t != SL_EXPR_BOOL) {
			uint16_t sel[1] = { 0 };

			/* A caller bug, but no crash in release builds. */
			assert_int_equal(sl_expr_filter(e, rows, sch.row_size,
							sel, 1, sel), 0);
		}
#endif
		sl_expr_free(e);
	}
	sl_expr_free(NULL);
}

/* Balanced tree of constants: 2^d leaves, needs d + 1 temporaries. */
static size_t
balanced(char *buf, unsigned int d)
{
	size_t n;

	if (d == 0) {
		buf[0] = '1';
		return 1;
	}
	buf[0] = '(';
	n = 1 + balanced(buf + 1, d - 1);
	buf[n++] = '+';
	n += balanced(buf + n, d - 1);
	buf[n++] = ')';
	return n;
}

static void
test_wide(void **state)
{
	static uint8_t wrows[4 * 40 * 8];
	static char text[16384];
	struct sl_schema ws;
	struct sl_expr_err err;
	struct sl_expr *e;
	uint16_t sel[4] = { 0, 1, 2, 3 };
	size_t o = 0;
	int64_t sum[4] = { 0 };

	(void)state;
	sl_schema_init(&ws);
	for (int k = 0; k < 40; k++) {
		char nm[8];

		snprintf(nm, sizeof(nm), "c%d", k);
		assert_int_equal(sl_schema_add(&ws, nm, SL_T_I64, 0), k);
	}
	for (unsigned int r = 0; r < 4; r++)
		for (int k = 0; k < 40; k++) {
			int64_t v = (int64_t)(r * 100 + (unsigned int)k);

			sl_row_set_int(wrows + r * ws.row_size, &ws.f[k], v);
			sum[r] += v;
		}

	/* 40 columns: 24 are pinned, the rest load at each use. */
	for (int k = 0; k < 40; k++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%sc%d",
				      k ? " + " : "", k);
	snprintf(text + o, sizeof(text) - o, " == %lld or c39 * 2 == c0 + 178",
		 (long long)sum[2]);
	e = compile_ok(text, &ws);
	assert_int_equal(sl_expr_filter(e, wrows, ws.row_size, sel, 4, sel), 2);
	assert_int_equal(sel[0], 1);	/* c39 = 139, c0 = 100 */
	assert_int_equal(sel[1], 2);
	sl_expr_free(e);

	/* 24 pinned columns + 6 temporaries fit in 32 registers... */
	o = 0;
	for (int k = 0; k < 30; k++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "c%d + ", k);
	o += balanced(text + o, 5);
	snprintf(text + o, sizeof(text) - o, " > 0");
	e = compile_ok(text, &ws);
	sl_expr_free(e);

	/* ...but a tree that needs 11 does not. */
	o = 0;
	for (int k = 0; k < 30; k++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "c%d + ", k);
	o += balanced(text + o, 10);
	snprintf(text + o, sizeof(text) - o, " > 0");
	assert_null(sl_expr_compile(text, &ws, &err));
	assert_string_equal(err.msg, "expression too complex");
	assert_true(err.pos >= 30 * 5 && err.pos < o);
}

static void
expect_error(const char *text, uint32_t pos, const char *msg)
{
	struct sl_expr_err err;
	struct sl_expr *e = sl_expr_compile(text, &sch, &err);

	if (e != NULL) {
		sl_expr_free(e);
		fail_msg("\"%s\" compiled, expected an error", text);
	}
	if (err.pos != pos || strstr(err.msg, msg) == NULL)
		fail_msg("\"%s\": got pos %u \"%s\", want pos %u \"%s\"", text,
			 err.pos, err.msg, pos, msg);
}

static void
test_errors(void **state)
{
	static char deep[256];
	int o = 0;

	(void)state;
	expect_error("foo > 1", 0,
		     "unknown field 'foo'; fields are: x, u, h, w, f, b, ts, s");
	expect_error("x > 1 and X > 2", 10, "unknown field 'X'");
	expect_error("AND", 0, "unknown field 'AND'");
	expect_error("x > 1 AND b", 6,
		     "expected an operator or end of text, got 'AND'");
	expect_error("(x > 1", 6, "expected ')', got end of text");
	expect_error("((x > 1) or b", 13, "expected ')', got end of text");
	expect_error("x > 1)", 5, "unmatched ')'");
	expect_error("x > 1 y", 6, "expected an operator or end of text, got 'y'");
	expect_error("", 0, "expected an expression, got end of text");
	expect_error("   ", 3, "expected an expression, got end of text");
	expect_error("x > ", 4, "expected an expression, got end of text");
	expect_error("()", 1, "expected an expression, got ')'");
	expect_error("x + true", 4, "expected a number, got boolean");
	expect_error("x and b", 0, "expected a boolean expression, got integer");
	expect_error("b or x + 1", 5, "expected a boolean expression, got integer");
	expect_error("b and (f)", 6, "expected a boolean expression, got double");
	expect_error("not x", 4, "expected a boolean expression, got integer");
	expect_error("-b", 1, "expected a number, got boolean");
	expect_error("s == 1", 5, "expected a string literal, got integer");
	expect_error("s == s", 5, "expected a string literal, got string field");
	expect_error("'a' == 'a'", 7, "expected a string field, got string literal");
	expect_error("x == 'abc'", 5, "expected a number, got string literal");
	expect_error("b == 'abc'", 5, "expected a boolean, got string literal");
	expect_error("s < 'abc'", 0,
		     "expected a number, got string field (strings compare only with == and !=)");
	expect_error("s + 1 > 0", 0, "expected a number, got string field");
	expect_error("b < true", 0,
		     "expected a number, got boolean (booleans compare only with == and !=)");
	expect_error("b == 1", 5, "expected a boolean, got integer");
	expect_error("1 == b", 5, "expected a number, got boolean");
	expect_error("s", 0, "expected a number or boolean expression, got string field");
	expect_error("('x')", 0, "expected a number or boolean expression, got string literal");
	expect_error("f % 2 == 0", 0, "expected an integer operand of '%', got double");
	expect_error("x % 2.0 == 0", 4, "expected an integer operand of '%', got double");
	expect_error("x > 1 > 2", 6, "comparisons do not chain");
	expect_error("x = 1", 2, "unexpected '='; use '=='");
	expect_error("x > 1 & b", 6, "unexpected '&'");
	expect_error("x > 1 | b", 6, "unexpected '|'");
	expect_error("s == \"a\"", 5, "string literals use single quotes");
	expect_error("x # 1", 2, "unexpected character '#'");
	expect_error("x > \x01", 4, "unexpected byte 0x01");
	expect_error("s == 'abc", 5, "unterminated string literal");
	expect_error("s == 'it''s", 5, "unterminated string literal");
	expect_error("9223372036854775808 > x", 0, "integer literal out of range");
	expect_error("x < -9223372036854775809", 5, "integer literal out of range");
	expect_error("x < 0x10000000000000000", 4, "integer literal out of range");
	expect_error("x < 0x8000000000000000", 4, "integer literal out of range");
	expect_error("x < 99999999999999999999", 4, "integer literal out of range");
	expect_error("12ab > x", 0, "malformed number");
	expect_error("1.2.3 > f", 0, "malformed number");
	expect_error("1e > f", 0, "expected digits in the exponent");
	expect_error("0x > x", 0, "expected hex digits after '0x'");
	expect_error("1e999 > f", 0, "float literal out of range");
	expect_error("x > 1 or", 8, "expected an expression, got end of text");

	/* 64 levels of nesting are fine, 65 are not. */
	for (int i = 0; i < 64; i++)
		deep[o++] = '(';
	deep[o++] = 'b';
	for (int i = 0; i < 64; i++)
		deep[o++] = ')';
	deep[o] = '\0';
	sl_expr_free(compile_ok(deep, &sch));
	o = 0;
	for (int i = 0; i < 65; i++)
		deep[o++] = '(';
	deep[o++] = 'b';
	for (int i = 0; i < 65; i++)
		deep[o++] = ')';
	deep[o] = '\0';
	expect_error(deep, 64, "expression nested too deeply");
	o = 0;
	for (int i = 0; i < 65; i++)
		o += snprintf(deep + o, sizeof(deep) - (size_t)o, "! ");
	snprintf(deep + o, sizeof(deep) - (size_t)o, "b");
	expect_error(deep, 128, "expression nested too deeply");
	o = 0;
	for (int i = 0; i < 65; i++)
		o += snprintf(deep + o, sizeof(deep) - (size_t)o, "-(");
	expect_error(deep, 64, "expression nested too deeply");
}

static void
test_error_edges(void **state)
{
	struct sl_schema big;
	struct sl_expr_err err;
	char *text;

	(void)state;
	/* No err pointer, no text, no schema: no crash. */
	assert_null(sl_expr_compile("x +", &sch, NULL));
	assert_null(sl_expr_compile(NULL, &sch, &err));
	assert_string_equal(err.msg, "no expression text");
	assert_null(sl_expr_compile("x", NULL, &err));

	/* The list of fields is clipped to fit the message. */
	sl_schema_init(&big);
	for (int k = 0; k < 20; k++) {
		char nm[SL_NAME_MAX];

		snprintf(nm, sizeof(nm), "a_rather_long_field_name_%02d", k);
		assert_int_equal(sl_schema_add(&big, nm, SL_T_I64, 0), k);
	}
	assert_null(sl_expr_compile("nope", &big, &err));
	assert_int_equal(err.pos, 0);
	assert_non_null(strstr(err.msg, "unknown field 'nope'; fields are: "
				  "a_rather_long_field_name_00, "));
	assert_non_null(strstr(err.msg, "..."));
	assert_true(strlen(err.msg) < sizeof(err.msg));

	sl_schema_init(&big);
	assert_null(sl_expr_compile("nope", &big, &err));
	assert_string_equal(err.msg,
			    "unknown field 'nope'; the schema has no fields");

	/* Text longer than the limit. */
	text = malloc(70000);
	assert_non_null(text);
	memset(text, ' ', 69999);
	text[0] = 'b';
	text[69999] = '\0';
	assert_null(sl_expr_compile(text, &sch, &err));
	assert_non_null(strstr(err.msg, "expression longer than"));
	/* ...and a long chain just under it compiles (height limit aside). */
	for (int i = 0; i < 1000; i++)
		memcpy(text + 5 * i, "b or ", 5);
	memcpy(text + 5000, "b", 2);
	sl_expr_free(compile_ok(text, &sch));
	for (int i = 0; i < 2000; i++)
		memcpy(text + 5 * i, "b or ", 5);
	memcpy(text + 10000, "b", 2);
	assert_null(sl_expr_compile(text, &sch, &err));
	assert_string_equal(err.msg, "expression too complex");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_int_semantics),
		cmocka_unit_test(test_float_semantics),
		cmocka_unit_test(test_bool_and_str),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_selection),
		cmocka_unit_test(test_result_types),
		cmocka_unit_test(test_wide),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_edges),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
