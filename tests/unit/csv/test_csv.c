/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: the CSV module (drivers/csv) against the schema
 * "id:i64,cnt:u64,small:i32,usmall:u32,amount:f64,flag:bool,
 * ts:timestamp_ms,name:str[8]": header mapping (any order, missing,
 * unknown and duplicate columns, quoted header cells), every type at and
 * past its range (f64 accepts what strtod takes: exponents, hex, inf, nan;
 * overflow is refused, underflow rounds; every NaN becomes the default one
 * of its sign), strings (exact fit, too long, empty, RFC 4180 quoting and
 * its errors), column counts, exact error messages, the exact output of
 * both formatters, -ENOSPC at every too-small buffer with a canary after
 * it, and format -> parse round trips of random rows that must give the
 * same row bytes. Regressions: " -5" read as 2^64 - 5 for a u64, NUL
 * bytes inside a cell, subnormal f64 refused, NaN payloads, -ENOSPC for
 * quoted strings that fit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sl_csv.h"

#define SPEC "id:i64,cnt:u64,small:i32,usmall:u32,amount:f64,flag:bool," \
	     "ts:timestamp_ms,name:str[8]"
#define HEADER "id,cnt,small,usmall,amount,flag,ts,name"
#define N_F 8
#define ROW 49			/* 8 + 8 + 4 + 4 + 8 + 1 + 8 + 8 */
#define LONG_SPEC "s:str[256],x:f64"
#define CANARY 0xa5

enum { F_ID, F_CNT, F_SMALL, F_USMALL, F_AMOUNT, F_FLAG, F_TS, F_NAME };

static struct sl_schema sch, lsch;
static struct sl_csv_map ident;
static char msg[256];
static char line[SL_CSV_LINE_MAX];

static int
setup(void **state)
{
	size_t err_at = 0;

	(void)state;
	if (sl_schema_parse_spec(&sch, SPEC, &err_at) != 0 ||
	    sl_schema_parse_spec(&lsch, LONG_SPEC, &err_at) != 0)
		return -1;
	if (sch.n_fields != N_F || sch.row_size != ROW)
		return -1;
	if (sl_csv_map_header(&sch, HEADER, strlen(HEADER), &ident, msg,
			      sizeof(msg)) != 0)
		return -1;
	return 0;
}

/* ---- helpers ---- */

static int
map(const char *hdr, struct sl_csv_map *m)
{
	msg[0] = '\0';
	return sl_csv_map_header(&sch, hdr, strlen(hdr), m, msg, sizeof(msg));
}

static int
parse(const char *l, uint8_t *row)
{
	msg[0] = '\0';
	return sl_csv_parse_row(&sch, &ident, l, strlen(l), row, msg,
				sizeof(msg));
}

/* The base line "1,2,3,4,5.5,true,6,abc" with column col replaced. */
static int
parse_with(int col, const char *cell, uint8_t *row)
{
	static const char *const base[N_F] = {
		"1", "2", "3", "4", "5.5", "true", "6", "abc",
	};
	size_t off = 0;

	for (int i = 0; i < N_F; i++)
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s",
					i ? "," : "", i == col ? cell : base[i]);
	return parse(line, row);
}

static int64_t
get_int(const uint8_t *row, int f)
{
	return sl_row_get_int(row, &sch.f[f]);
}

static uint64_t
get_u64(const uint8_t *row, int f)
{
	uint64_t u;

	memcpy(&u, row + sch.f[f].offset, 8);
	return u;
}

static uint64_t
f64_bits(const uint8_t *row)
{
	return get_u64(row, F_AMOUNT);
}

static uint64_t
dbits(double d)
{
	uint64_t u;

	memcpy(&u, &d, 8);
	return u;
}

static double
bits_d(uint64_t u)
{
	double d;

	memcpy(&d, &u, 8);
	return d;
}

/* Expect column col to refuse cell with exactly the message want. */
static void
expect_bad(int col, const char *cell, const char *want)
{
	uint8_t row[ROW];

	if (parse_with(col, cell, row) != -EINVAL || strcmp(msg, want) != 0)
		fail_msg("cell '%s' in column %d: got '%s', want '%s'", cell,
			 col + 1, msg, want);
}

static void
expect_int(int col, const char *cell, int64_t want)
{
	uint8_t row[ROW];

	if (parse_with(col, cell, row) != 0)
		fail_msg("cell '%s' in column %d refused: %s", cell, col + 1,
			 msg);
	if (get_int(row, col) != want)
		fail_msg("cell '%s': got %lld, want %lld", cell,
			 (long long)get_int(row, col), (long long)want);
}

static void
expect_f64(const char *cell, uint64_t want_bits)
{
	uint8_t row[ROW];

	if (parse_with(F_AMOUNT, cell, row) != 0)
		fail_msg("f64 '%s' refused: %s", cell, msg);
	if (f64_bits(row) != want_bits)
		fail_msg("f64 '%s': bits %016llx, want %016llx", cell,
			 (unsigned long long)f64_bits(row),
			 (unsigned long long)want_bits);
}

/* ---- header mapping ---- */

static void
test_header_identity(void **state)
{
	(void)state;
	assert_int_equal(ident.n_cols, N_F);
	for (int i = 0; i < N_F; i++)
		assert_int_equal(ident.field[i], i);
}

static void
test_header_any_order(void **state)
{
	struct sl_csv_map m;
	uint8_t a[ROW], b[ROW];

	(void)state;
	assert_int_equal(map("name,ts,flag,amount,usmall,small,cnt,id", &m), 0);
	assert_int_equal(m.n_cols, N_F);
	for (int i = 0; i < N_F; i++)
		assert_int_equal(m.field[i], N_F - 1 - i);

	/* The same record in both orders gives the same row bytes. */
	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	assert_int_equal(parse("-1,2,-3,4,0.25,false,-7,xy", a), 0);
	strcpy(line, "xy,-7,false,0.25,4,-3,2,-1");
	assert_int_equal(sl_csv_parse_row(&sch, &m, line, strlen(line), b,
					  msg, sizeof(msg)), 0);
	assert_memory_equal(a, b, ROW);

	/* Errors name the CSV column and the field it maps to. */
	strcpy(line, "xy,-7,false,lots,4,-3,2,-1");
	assert_int_equal(sl_csv_parse_row(&sch, &m, line, strlen(line), b,
					  msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "column 4 (amount): expected a number");
}

static void
test_header_quoted(void **state)
{
	struct sl_csv_map m;

	(void)state;
	assert_int_equal(map("\"id\",cnt,\"small\",usmall,amount,flag,ts,\"name\"",
			     &m), 0);
	for (int i = 0; i < N_F; i++)
		assert_int_equal(m.field[i], i);
	/* A doubled quote is part of the name, which then is unknown. */
	assert_int_equal(map("\"i\"\"d\",cnt,small,usmall,amount,flag,ts,name",
			     &m), -EINVAL);
	assert_string_equal(msg, "column 1: 'i\"d' is not a schema field");
	assert_int_equal(map("id,\"cnt,small,usmall,amount,flag,ts,name", &m),
			 -EINVAL);
	assert_string_equal(msg, "column 2: bad header cell");
	assert_int_equal(map("id,\"cnt\"x,small,usmall,amount,flag,ts,name", &m),
			 -EINVAL);
	assert_string_equal(msg, "column 2: bad header cell");
}

static void
test_header_missing(void **state)
{
	struct sl_csv_map m;

	(void)state;
	assert_int_equal(map("id,cnt,small,usmall,amount,flag,ts", &m), -EINVAL);
	assert_string_equal(msg, "header has no column for field 'name'");
	assert_int_equal(map("name,cnt,small,usmall,amount,flag,ts", &m),
			 -EINVAL);
	assert_string_equal(msg, "header has no column for field 'id'");
}

static void
test_header_unknown(void **state)
{
	struct sl_csv_map m;

	(void)state;
	assert_int_equal(map(HEADER ",extra", &m), -EINVAL);
	assert_string_equal(msg, "column 9: 'extra' is not a schema field");
	assert_int_equal(map("ID,cnt,small,usmall,amount,flag,ts,name", &m),
			 -EINVAL);
	assert_string_equal(msg, "column 1: 'ID' is not a schema field");
	assert_int_equal(map(" id,cnt,small,usmall,amount,flag,ts,name", &m),
			 -EINVAL);
	assert_string_equal(msg, "column 1: ' id' is not a schema field");
	/* A trailing comma is one more, empty, column. */
	assert_int_equal(map(HEADER ",", &m), -EINVAL);
	assert_string_equal(msg, "column 9: '' is not a schema field");
	assert_int_equal(map("", &m), -EINVAL);
	assert_string_equal(msg, "column 1: '' is not a schema field");
	/* Longer than any field name can be. */
	assert_int_equal(map("id,cnt,small,usmall,amount,flag,ts,"
			     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			     &m), -EINVAL);
	assert_string_equal(msg, "column 8: bad header cell");
}

static void
test_header_duplicate(void **state)
{
	struct sl_csv_map m;

	(void)state;
	assert_int_equal(map("id,cnt,small,usmall,amount,flag,ts,name,cnt", &m),
			 -EINVAL);
	assert_string_equal(msg, "column 9: 'cnt' appears twice");
	assert_int_equal(map("id,\"id\",small,usmall,amount,flag,ts,name", &m),
			 -EINVAL);
	assert_string_equal(msg, "column 2: 'id' appears twice");
}

/* Regression: "id\0junk" must not match "id". */
static void
test_header_nul(void **state)
{
	static const char h[] = "id\0x,cnt,small,usmall,amount,flag,ts,name";
	struct sl_csv_map m;

	(void)state;
	assert_int_equal(sl_csv_map_header(&sch, h, sizeof(h) - 1, &m, msg,
					   sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "column 1: bad header cell");
}

/* ---- parsing, type by type ---- */

static void
test_parse_all_fields(void **state)
{
	uint8_t row[ROW];

	(void)state;
	memset(row, 0xee, sizeof(row));
	assert_int_equal(parse("-42,42,-7,7,-1.5,true,-1700000000000,hey", row),
			 0);
	assert_int_equal(get_int(row, F_ID), -42);
	assert_int_equal(get_u64(row, F_CNT), 42);
	assert_int_equal(get_int(row, F_SMALL), -7);
	assert_int_equal(get_int(row, F_USMALL), 7);
	assert_true(f64_bits(row) == dbits(-1.5));
	assert_int_equal(row[sch.f[F_FLAG].offset], 1);
	assert_true(get_int(row, F_TS) == -1700000000000LL);
	/* The string is NUL-padded to its full size. */
	assert_memory_equal(row + sch.f[F_NAME].offset, "hey\0\0\0\0\0", 8);
}

static void
test_parse_i64(void **state)
{
	const char *want = "column 1 (id): expected an integer in range";

	(void)state;
	expect_int(F_ID, "0", 0);
	expect_int(F_ID, "-0", 0);
	expect_int(F_ID, "+7", 7);
	expect_int(F_ID, "007", 7);
	expect_int(F_ID, "9223372036854775807", INT64_MAX);
	expect_int(F_ID, "-9223372036854775808", INT64_MIN);
	expect_bad(F_ID, "9223372036854775808", want);
	expect_bad(F_ID, "-9223372036854775809", want);
	expect_bad(F_ID, "99999999999999999999999", want);
	expect_bad(F_ID, "", want);
	expect_bad(F_ID, "-", want);
	expect_bad(F_ID, "+", want);
	expect_bad(F_ID, "1.0", want);
	expect_bad(F_ID, "1e3", want);
	expect_bad(F_ID, "0x10", want);
	expect_bad(F_ID, "12a", want);
	expect_bad(F_ID, "abc", want);
	expect_bad(F_ID, " 1", want);
	expect_bad(F_ID, "1 ", want);
	expect_bad(F_ID, "\t1", want);
	expect_bad(F_ID, "- 1", want);
	/* A quoted number is a number. */
	expect_int(F_ID, "\"-12\"", -12);
}

static void
test_parse_i32(void **state)
{
	const char *want = "column 3 (small): expected an integer in range";

	(void)state;
	expect_int(F_SMALL, "2147483647", INT32_MAX);
	expect_int(F_SMALL, "-2147483648", INT32_MIN);
	expect_int(F_SMALL, "-1", -1);
	expect_bad(F_SMALL, "2147483648", want);
	expect_bad(F_SMALL, "-2147483649", want);
	expect_bad(F_SMALL, "4294967295", want);
	expect_bad(F_SMALL, "9223372036854775808", want);
	expect_bad(F_SMALL, "", want);
	expect_bad(F_SMALL, "3.0", want);
}

static void
test_parse_u64(void **state)
{
	const char *want = "column 2 (cnt): expected an integer in range";
	uint8_t row[ROW];

	(void)state;
	assert_int_equal(parse_with(F_CNT, "18446744073709551615", row), 0);
	assert_true(get_u64(row, F_CNT) == UINT64_MAX);
	assert_int_equal(parse_with(F_CNT, "9223372036854775808", row), 0);
	assert_true(get_u64(row, F_CNT) == 9223372036854775808ULL);
	assert_int_equal(parse_with(F_CNT, "+5", row), 0);
	assert_true(get_u64(row, F_CNT) == 5);
	assert_int_equal(parse_with(F_CNT, "0", row), 0);
	assert_true(get_u64(row, F_CNT) == 0);
	expect_bad(F_CNT, "18446744073709551616", want);
	expect_bad(F_CNT, "-1", want);
	expect_bad(F_CNT, "-0", want);
	expect_bad(F_CNT, "-18446744073709551615", want);
	expect_bad(F_CNT, "", want);
	expect_bad(F_CNT, "1.5", want);
	expect_bad(F_CNT, "0x1", want);
	/* Regression: strtoull skipped the space, then negated "-5". */
	expect_bad(F_CNT, " -5", want);
	expect_bad(F_CNT, " 5", want);
	expect_bad(F_CNT, "\"-5\"", want);
}

static void
test_parse_u32(void **state)
{
	const char *want = "column 4 (usmall): expected an integer in range";

	(void)state;
	expect_int(F_USMALL, "4294967295", UINT32_MAX);
	expect_int(F_USMALL, "0", 0);
	expect_int(F_USMALL, "2147483648", 2147483648LL);
	expect_bad(F_USMALL, "4294967296", want);
	expect_bad(F_USMALL, "18446744073709551615", want);
	expect_bad(F_USMALL, "-1", want);
	expect_bad(F_USMALL, " -1", want);
	expect_bad(F_USMALL, "", want);
}

static void
test_parse_f64(void **state)
{
	const char *want = "column 5 (amount): expected a number";

	(void)state;
	expect_f64("0", dbits(0.0));
	expect_f64("-0", dbits(-0.0));
	expect_f64("1e5", dbits(100000.0));
	expect_f64("-2.5E-3", dbits(-2.5e-3));
	expect_f64(".5", dbits(0.5));
	expect_f64("5.", dbits(5.0));
	expect_f64("+1.25", dbits(1.25));
	expect_f64("0.10000000000000001", dbits(0.1));
	expect_f64("1.7976931348623157e308", dbits(1.7976931348623157e308));
	expect_f64("0x1p3", dbits(8.0));
	expect_f64("0x1.8p1", dbits(3.0));
	expect_f64("\"7\"", dbits(7.0));
	/* inf and nan as strtod spells them, any case. */
	expect_f64("inf", 0x7ff0000000000000ULL);
	expect_f64("INF", 0x7ff0000000000000ULL);
	expect_f64("Infinity", 0x7ff0000000000000ULL);
	expect_f64("-inf", 0xfff0000000000000ULL);
	/* Every NaN is the default quiet NaN of its sign. */
	expect_f64("nan", 0x7ff8000000000000ULL);
	expect_f64("NaN", 0x7ff8000000000000ULL);
	expect_f64("-nan", 0xfff8000000000000ULL);
	expect_f64("nan(0x123)", 0x7ff8000000000000ULL);
	expect_f64("-nan(42)", 0xfff8000000000000ULL);
	/* Underflow rounds: subnormals (what %.17g writes) and to zero. */
	expect_f64("4.9406564584124654e-324", 1);
	expect_f64("2.2250738585072009e-308", 0x000fffffffffffffULL);
	expect_f64("-4.9406564584124654e-324", 0x8000000000000001ULL);
	expect_f64("1e-400", 0);
	expect_f64("-1e-400", 0x8000000000000000ULL);
	/* Overflow does not. */
	expect_bad(F_AMOUNT, "1e400", want);
	expect_bad(F_AMOUNT, "-1e400", want);
	expect_bad(F_AMOUNT, "1.7976931348623159e308", want);
	expect_bad(F_AMOUNT, "", want);
	expect_bad(F_AMOUNT, "1.5x", want);
	expect_bad(F_AMOUNT, "1.5 ", want);
	expect_bad(F_AMOUNT, " 1.5", want);
	expect_bad(F_AMOUNT, "e5", want);
	expect_bad(F_AMOUNT, "--1", want);
	expect_bad(F_AMOUNT, "infinit", want);
	expect_bad(F_AMOUNT, "nan(", want);
	expect_bad(F_AMOUNT, "1e", want);
	expect_bad(F_AMOUNT, "\"1.5", want);
}

static void
test_parse_bool(void **state)
{
	const char *want = "column 6 (flag): expected true or false";
	uint8_t row[ROW];

	(void)state;
	assert_int_equal(parse_with(F_FLAG, "true", row), 0);
	assert_int_equal(row[sch.f[F_FLAG].offset], 1);
	assert_int_equal(parse_with(F_FLAG, "false", row), 0);
	assert_int_equal(row[sch.f[F_FLAG].offset], 0);
	assert_int_equal(parse_with(F_FLAG, "1", row), 0);
	assert_int_equal(row[sch.f[F_FLAG].offset], 1);
	assert_int_equal(parse_with(F_FLAG, "0", row), 0);
	assert_int_equal(row[sch.f[F_FLAG].offset], 0);
	assert_int_equal(parse_with(F_FLAG, "\"true\"", row), 0);
	assert_int_equal(row[sch.f[F_FLAG].offset], 1);
	expect_bad(F_FLAG, "TRUE", want);
	expect_bad(F_FLAG, "True", want);
	expect_bad(F_FLAG, "yes", want);
	expect_bad(F_FLAG, "2", want);
	expect_bad(F_FLAG, "-1", want);
	expect_bad(F_FLAG, "01", want);
	expect_bad(F_FLAG, "t", want);
	expect_bad(F_FLAG, "truex", want);
	expect_bad(F_FLAG, " true", want);
	expect_bad(F_FLAG, "", want);
}

static void
test_parse_ts(void **state)
{
	const char *want = "column 7 (ts): expected an integer in range";

	(void)state;
	expect_int(F_TS, "1700000000000", 1700000000000LL);
	expect_int(F_TS, "-1", -1);
	expect_int(F_TS, "-62135596800000", -62135596800000LL);
	expect_int(F_TS, "-9223372036854775808", INT64_MIN);
	expect_int(F_TS, "9223372036854775807", INT64_MAX);
	expect_bad(F_TS, "9223372036854775808", want);
	expect_bad(F_TS, "1.5", want);
	expect_bad(F_TS, "2024-01-01", want);
	expect_bad(F_TS, "", want);
}

static void
expect_str(const char *cell, const char *want8)
{
	uint8_t row[ROW];

	memset(row, 0xee, sizeof(row));
	if (parse_with(F_NAME, cell, row) != 0)
		fail_msg("string '%s' refused: %s", cell, msg);
	assert_memory_equal(row + sch.f[F_NAME].offset, want8, 8);
}

static void
test_parse_str(void **state)
{
	const char *want = "column 8 (name): expected a string that fits";

	(void)state;
	/* Exact fit: all 8 bytes, no NUL. */
	expect_str("abcdefgh", "abcdefgh");
	expect_str("\"abcdefgh\"", "abcdefgh");
	expect_str("", "\0\0\0\0\0\0\0\0");
	expect_str("\"\"", "\0\0\0\0\0\0\0\0");
	expect_str("a", "a\0\0\0\0\0\0\0");
	expect_str(" a b ", " a b \0\0\0");
	expect_str("\"a,b\"", "a,b\0\0\0\0\0");
	expect_str("\",,,,,,,\"", ",,,,,,,\0");
	expect_str("\"a\"\"b\"", "a\"b\0\0\0\0\0");
	expect_str("\"\"\"\"", "\"\0\0\0\0\0\0\0");
	expect_str("\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"", "\"\"\"\"\"\"\"\"");
	expect_str("\"a\rb\nc\"", "a\rb\nc\0\0");
	/* A quote inside an unquoted cell is taken as it is. */
	expect_str("a\"b", "a\"b\0\0\0\0\0");
	expect_str("\xff\x01", "\xff\x01\0\0\0\0\0\0");
	expect_bad(F_NAME, "abcdefghi", want);
	expect_bad(F_NAME, "\"abcdefghi\"", want);
	expect_bad(F_NAME, "\"a\"\"bcdefgh\"", want);
	/* Unterminated quote, text after the closing quote. */
	expect_bad(F_NAME, "\"abc", want);
	expect_bad(F_NAME, "\"", want);
	expect_bad(F_NAME, "\"abc\"d", want);
	expect_bad(F_NAME, "\"abc\" ", want);
	expect_bad(F_NAME, "\"a\"\"", want);
}

/* A quoted cell's comma is not a separator, in any column. */
static void
test_parse_quoted_commas(void **state)
{
	uint8_t row[ROW];

	(void)state;
	assert_int_equal(parse("\"1\",\"2\",\"3\",\"4\",\"5\",\"true\",\"6\","
			       "\"x,y,z\"", row), 0);
	assert_int_equal(get_int(row, F_ID), 1);
	assert_int_equal(get_int(row, F_TS), 6);
	assert_memory_equal(row + sch.f[F_NAME].offset, "x,y,z\0\0\0", 8);
	assert_int_equal(parse("1,2,3,4,\"5,5\",true,6,x", row), -EINVAL);
	assert_string_equal(msg, "column 5 (amount): expected a number");
}

/* Regression: a NUL byte ended the C string early and the rest was lost. */
static void
test_parse_nul(void **state)
{
	static const char l1[] = "1\0x,2,3,4,5,true,6,abc";
	static const char l2[] = "1,2,3,4,5,true,6,ab\0c";
	static const char l3[] = "1,2,3,4,5,true,6,\"ab\0c\"";
	static const char l4[] = "1,2,3,4,5\0,true,6,abc";
	uint8_t row[ROW];

	(void)state;
	assert_int_equal(sl_csv_parse_row(&sch, &ident, l1, sizeof(l1) - 1, row,
					  msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "column 1 (id): expected an integer in range");
	assert_int_equal(sl_csv_parse_row(&sch, &ident, l2, sizeof(l2) - 1, row,
					  msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "column 8 (name): expected a string that fits");
	assert_int_equal(sl_csv_parse_row(&sch, &ident, l3, sizeof(l3) - 1, row,
					  msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "column 8 (name): expected a string that fits");
	assert_int_equal(sl_csv_parse_row(&sch, &ident, l4, sizeof(l4) - 1, row,
					  msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "column 5 (amount): expected a number");
}

static void
test_parse_columns(void **state)
{
	uint8_t row[ROW];

	(void)state;
	assert_int_equal(parse("1,2,3", row), -EINVAL);
	assert_string_equal(msg, "3 columns, expected 8");
	assert_int_equal(parse("1,2,3,4,5,true,6", row), -EINVAL);
	assert_string_equal(msg, "7 columns, expected 8");
	assert_int_equal(parse("1,2,3,4,5,true,6,abc,", row), -EINVAL);
	assert_string_equal(msg, "more than 8 columns");
	assert_int_equal(parse("1,2,3,4,5,true,6,abc,7", row), -EINVAL);
	assert_string_equal(msg, "more than 8 columns");
	assert_int_equal(parse("1,2,3,4,5,true,6,\"abc\",", row), -EINVAL);
	assert_string_equal(msg, "more than 8 columns");
	/* An empty line is one empty cell. */
	assert_int_equal(parse("", row), -EINVAL);
	assert_string_equal(msg, "column 1 (id): expected an integer in range");
	/* The last cell may be empty (an empty string). */
	assert_int_equal(parse("1,2,3,4,5,true,6,", row), 0);
	assert_memory_equal(row + sch.f[F_NAME].offset, "\0\0\0\0\0\0\0\0", 8);
	/* A separator inside quotes does not count. */
	assert_int_equal(parse("1,2,3,4,5,true,\"6,abc\"", row), -EINVAL);
	assert_string_equal(msg, "column 7 (ts): expected an integer in range");
}

static void
test_parse_empty_numbers(void **state)
{
	(void)state;
	expect_bad(F_ID, "", "column 1 (id): expected an integer in range");
	expect_bad(F_CNT, "", "column 2 (cnt): expected an integer in range");
	expect_bad(F_SMALL, "", "column 3 (small): expected an integer in range");
	expect_bad(F_USMALL, "",
		   "column 4 (usmall): expected an integer in range");
	expect_bad(F_AMOUNT, "", "column 5 (amount): expected a number");
	expect_bad(F_FLAG, "", "column 6 (flag): expected true or false");
	expect_bad(F_TS, "", "column 7 (ts): expected an integer in range");
	expect_bad(F_AMOUNT, "\"\"", "column 5 (amount): expected a number");
}

/* msg is truncated to msglen, NUL-terminated, and never written past it. */
static void
test_msg_truncation(void **state)
{
	char small[9];
	uint8_t row[ROW];

	(void)state;
	memset(small, CANARY, sizeof(small));
	strcpy(line, "x,2,3,4,5,true,6,abc");
	assert_int_equal(sl_csv_parse_row(&sch, &ident, line, strlen(line), row,
					  small, 8), -EINVAL);
	assert_string_equal(small, "column ");
	assert_int_equal((uint8_t)small[8], CANARY);
}

/* ---- formatting ---- */

static void
set_row(uint8_t *row, int64_t id, uint64_t cnt, int32_t sm, uint32_t usm,
	double amount, bool flag, int64_t ts, const char *name)
{
	memset(row, 0, ROW);
	sl_row_set_int(row, &sch.f[F_ID], id);
	memcpy(row + sch.f[F_CNT].offset, &cnt, 8);
	sl_row_set_int(row, &sch.f[F_SMALL], sm);
	sl_row_set_int(row, &sch.f[F_USMALL], usm);
	sl_row_set_f64(row, &sch.f[F_AMOUNT], amount);
	sl_row_set_int(row, &sch.f[F_FLAG], flag);
	sl_row_set_int(row, &sch.f[F_TS], ts);
	memcpy(row + sch.f[F_NAME].offset, name, strnlen(name, 8));
}

static void
expect_format(const uint8_t *row, const char *want)
{
	char buf[256];
	int n = sl_csv_format_row(&sch, row, buf, sizeof(buf));

	if (n < 0 || strcmp(buf, want) != 0 || (size_t)n != strlen(want))
		fail_msg("formatted '%s' (%d), want '%s'", n < 0 ? "" : buf, n,
			 want);
}

static void
test_format_header(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(sl_csv_format_header(&sch, buf, sizeof(buf)),
			 (int)strlen(HEADER));
	assert_string_equal(buf, HEADER);
	assert_int_equal(sl_csv_format_header(&lsch, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "s,x");
}

static void
test_format_row(void **state)
{
	uint8_t row[ROW];

	(void)state;
	set_row(row, 1, 2, 3, 4, 5.5, true, 6, "abc");
	expect_format(row, "1,2,3,4,5.5,true,6,abc");
	set_row(row, INT64_MIN, UINT64_MAX, INT32_MIN, UINT32_MAX, 0.1, false,
		-1700000000000LL, "abcdefgh");
	expect_format(row, "-9223372036854775808,18446744073709551615,"
		      "-2147483648,4294967295,0.10000000000000001,false,"
		      "-1700000000000,abcdefgh");
	set_row(row, INT64_MAX, 0, INT32_MAX, 0, -0.0, false, INT64_MIN, "");
	expect_format(row, "9223372036854775807,0,2147483647,0,-0,false,"
		      "-9223372036854775808,");
	set_row(row, 0, 0, 0, 0, INFINITY, true, 0, "a,\"b");
	expect_format(row, "0,0,0,0,inf,true,0,\"a,\"\"b\"");
	set_row(row, 0, 0, 0, 0, -INFINITY, true, 0, "\"");
	expect_format(row, "0,0,0,0,-inf,true,0,\"\"\"\"");
	set_row(row, 0, 0, 0, 0, NAN, true, 0, "a\rb");
	expect_format(row, "0,0,0,0,nan,true,0,\"a\rb\"");
	set_row(row, 0, 0, 0, 0, -NAN, true, 0, "a\nb");
	expect_format(row, "0,0,0,0,-nan,true,0,\"a\nb\"");
	set_row(row, 0, 0, 0, 0, bits_d(1), true, 0, " x ");
	expect_format(row, "0,0,0,0,4.9406564584124654e-324,true,0, x ");
	/* Every digit count and carry of the integer formatter. */
	for (uint64_t p = 1, i = 0; i < 20; i++, p *= 10) {
		const uint64_t v[3] = { p - 1, p, p + 1 };

		for (int j = 0; j < 3; j++) {
			char want[128];

			set_row(row, -(int64_t)(v[j] >> 1), v[j], 0, 0, 1, true,
				(int64_t)(v[j] >> 1), "");
			snprintf(want, sizeof(want),
				 "%" PRId64 ",%" PRIu64 ",0,0,1,true,%" PRId64 ",",
				 -(int64_t)(v[j] >> 1), v[j], (int64_t)(v[j] >> 1));
			expect_format(row, want);
		}
	}
	set_row(row, 0, 0, 0, 0, 1e300, true, 0, "\"\"\"\"\"\"\"\"");
	expect_format(row, "0,0,0,0,1.0000000000000001e+300,true,0,"
		      "\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"");
}

/*
 * fmt writes n bytes plus a NUL. Every len <= n must give -ENOSPC without
 * touching buf[len..]; len = n + 1 must succeed and leave buf[n + 1..].
 */
typedef int (*fmt_fn)(const void *arg, char *buf, size_t len);

static void
check_enospc(fmt_fn fmt, const void *arg)
{
	static char buf[SL_CSV_LINE_MAX];
	static char want[SL_CSV_LINE_MAX];
	int n = fmt(arg, want, sizeof(want));

	assert_true(n > 0);
	for (size_t len = 0; len <= (size_t)n + 1; len++) {
		int rc;

		memset(buf, CANARY, (size_t)n + 16);
		rc = fmt(arg, buf, len);
		if (len <= (size_t)n) {
			if (rc != -ENOSPC)
				fail_msg("len %zu of %d: got %d", len, n, rc);
		} else {
			assert_int_equal(rc, n);
			assert_string_equal(buf, want);
		}
		for (size_t i = len; i < (size_t)n + 16; i++)
			if ((uint8_t)buf[i] != CANARY)
				fail_msg("len %zu: byte %zu written", len, i);
	}
}

static int
fmt_row(const void *arg, char *buf, size_t len)
{
	return sl_csv_format_row(&sch, arg, buf, len);
}

static int
fmt_hdr(const void *arg, char *buf, size_t len)
{
	return sl_csv_format_header(arg, buf, len);
}

static int
fmt_lrow(const void *arg, char *buf, size_t len)
{
	return sl_csv_format_row(&lsch, arg, buf, len);
}

static void
test_format_enospc(void **state)
{
	uint8_t row[ROW], lrow[SL_STR_MAX + 8];

	(void)state;
	check_enospc(fmt_hdr, &sch);
	check_enospc(fmt_hdr, &lsch);
	set_row(row, 1, 2, 3, 4, 5.5, true, 6, "abc");
	check_enospc(fmt_row, row);
	set_row(row, INT64_MIN, UINT64_MAX, INT32_MIN, UINT32_MAX, -0.1, false,
		INT64_MIN, "abcdefgh");
	check_enospc(fmt_row, row);
	set_row(row, 1, 2, 3, 4, 5.5, true, 6, "");
	check_enospc(fmt_row, row);
	set_row(row, 1, 2, 3, 4, 5.5, true, 6, "a,\"b\"");
	check_enospc(fmt_row, row);
	/* A string field first, and the longest quoted string there is. */
	memset(lrow, 0, sizeof(lrow));
	memset(lrow, '"', SL_STR_MAX);
	check_enospc(fmt_lrow, lrow);
	memset(lrow, ',', SL_STR_MAX);
	check_enospc(fmt_lrow, lrow);
}

/* Regression: a quoted string asked for 2 * n + 3 bytes however few quotes. */
static void
test_format_quoted_exact(void **state)
{
	uint8_t lrow[SL_STR_MAX + 8];
	char buf[SL_STR_MAX + 16];

	(void)state;
	memset(lrow, 0, sizeof(lrow));
	memset(lrow, 'a', SL_STR_MAX);
	lrow[0] = ',';
	/* "<256 bytes>",0 is 2 + 256 + 2 = 260 bytes, plus the NUL. */
	assert_int_equal(sl_csv_format_row(&lsch, lrow, buf, 261), 260);
	assert_int_equal(buf[0], '"');
	assert_int_equal(buf[257], '"');
	assert_string_equal(buf + 258, ",0");
	assert_int_equal(sl_csv_format_row(&lsch, lrow, buf, 260), -ENOSPC);
}

/* A schema with no fields writes nothing, not even a NUL into len 0. */
static void
test_format_empty_schema(void **state)
{
	struct sl_schema e;
	char buf[2] = { (char)CANARY, (char)CANARY };
	uint8_t row[1] = { 0 };

	(void)state;
	sl_schema_init(&e);
	assert_int_equal(sl_csv_format_row(&e, row, buf, 0), -ENOSPC);
	assert_int_equal((uint8_t)buf[0], CANARY);
	assert_int_equal(sl_csv_format_header(&e, buf, 0), -ENOSPC);
	assert_int_equal((uint8_t)buf[0], CANARY);
	assert_int_equal(sl_csv_format_row(&e, row, buf, 1), 0);
	assert_int_equal(buf[0], '\0');
	assert_int_equal((uint8_t)buf[1], CANARY);
}

/* ---- round trips ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Mostly random, sometimes a boundary value. */
static uint64_t
rnd_int(void)
{
	static const uint64_t edge[] = {
		0, 1, UINT64_MAX, INT64_MAX, (uint64_t)INT64_MIN, UINT32_MAX,
		INT32_MAX, (uint64_t)(int64_t)INT32_MIN, 10, 999,
	};

	if (rnd() % 4 == 0)
		return edge[rnd() % (sizeof(edge) / sizeof(edge[0]))];
	return rnd() >> (rnd() % 64);
}

static double
rnd_f64(void)
{
	static const double edge[] = {
		0.0, -0.0, 0.1, -1.0 / 3, 1e308, 1.7976931348623157e308,
		2.2250738585072014e-308, INFINITY, -INFINITY, NAN, -NAN,
	};
	double d;

	switch (rnd() % 5) {
	case 0:
		return edge[rnd() % (sizeof(edge) / sizeof(edge[0]))];
	case 1:		/* subnormal */
		d = bits_d((rnd() & 0x000fffffffffffffULL) |
			   (rnd() & 0x8000000000000000ULL));
		return d;
	case 2:		/* a "human" number */
		return (double)(int64_t)(rnd() % 2000001 - 1000000) / 100;
	default:	/* any bit pattern; NaNs as the parser keeps them */
		d = bits_d(rnd());
		if (isnan(d))
			d = signbit(d) ? -NAN : NAN;
		return d;
	}
}

/* Random bytes without NUL, biased towards the ones that need quoting. */
static void
rnd_str(uint8_t *p, uint16_t size)
{
	static const char special[] = ",\"\r\n ";
	size_t n = rnd() % (size + 1u);

	memset(p, 0, size);
	for (size_t i = 0; i < n; i++) {
		uint64_t r = rnd();

		if (r % 3 == 0)
			p[i] = (uint8_t)special[(r >> 8) % 5];
		else
			p[i] = (uint8_t)(1 + (r >> 8) % 255);
	}
}

static void
rnd_row(const struct sl_schema *s, uint8_t *row)
{
	for (int i = 0; i < s->n_fields; i++) {
		const struct sl_field *f = &s->f[i];
		uint64_t u = rnd_int();

		switch (f->type) {
		case SL_T_F64:
			sl_row_set_f64(row, f, rnd_f64());
			break;
		case SL_T_STR:
			rnd_str(row + f->offset, f->size);
			break;
		case SL_T_BOOL:
			row[f->offset] = (uint8_t)(u & 1);
			break;
		default:
			sl_row_set_int(row, f, (int64_t)u);
			break;
		}
	}
}

static void
round_trip(const struct sl_schema *s, const struct sl_csv_map *m, int iters)
{
	static char buf[SL_CSV_LINE_MAX], buf2[SL_CSV_LINE_MAX];
	uint8_t row[SL_ROW_MAX], back[SL_ROW_MAX];

	for (int it = 0; it < iters; it++) {
		int n, n2;

		rnd_row(s, row);
		n = sl_csv_format_row(s, row, buf, sizeof(buf));
		assert_true(n > 0);
		assert_int_equal((size_t)n, strlen(buf));
		memset(back, 0x5a, s->row_size);
		if (sl_csv_parse_row(s, m, buf, (size_t)n, back, msg,
				     sizeof(msg)) != 0)
			fail_msg("iteration %d: '%s' did not parse: %s", it, buf,
				 msg);
		if (memcmp(row, back, s->row_size) != 0)
			fail_msg("iteration %d: '%s' parsed to other bytes", it,
				 buf);
		/* The text form is canonical: formatting again gives it. */
		n2 = sl_csv_format_row(s, back, buf2, sizeof(buf2));
		assert_int_equal(n2, n);
		assert_memory_equal(buf, buf2, (size_t)n);
	}
}

static void
test_round_trip(void **state)
{
	(void)state;
	round_trip(&sch, &ident, 20000);
}

static void
test_round_trip_long_str(void **state)
{
	struct sl_csv_map m;
	char hdr[64];
	int n;

	(void)state;
	n = sl_csv_format_header(&lsch, hdr, sizeof(hdr));
	assert_int_equal(sl_csv_map_header(&lsch, hdr, (size_t)n, &m, msg,
					   sizeof(msg)), 0);
	round_trip(&lsch, &m, 5000);
}

/* The header formatter's output maps to the identity. */
static void
test_round_trip_header(void **state)
{
	char hdr[128];
	struct sl_csv_map m;
	int n;

	(void)state;
	n = sl_csv_format_header(&sch, hdr, sizeof(hdr));
	assert_true(n > 0);
	assert_int_equal(sl_csv_map_header(&sch, hdr, (size_t)n, &m, msg,
					   sizeof(msg)), 0);
	assert_memory_equal(&m.field, &ident.field, sizeof(m.field[0]) * N_F);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_identity),
		cmocka_unit_test(test_header_any_order),
		cmocka_unit_test(test_header_quoted),
		cmocka_unit_test(test_header_missing),
		cmocka_unit_test(test_header_unknown),
		cmocka_unit_test(test_header_duplicate),
		cmocka_unit_test(test_header_nul),
		cmocka_unit_test(test_parse_all_fields),
		cmocka_unit_test(test_parse_i64),
		cmocka_unit_test(test_parse_i32),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_u32),
		cmocka_unit_test(test_parse_f64),
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_parse_ts),
		cmocka_unit_test(test_parse_str),
		cmocka_unit_test(test_parse_quoted_commas),
		cmocka_unit_test(test_parse_nul),
		cmocka_unit_test(test_parse_columns),
		cmocka_unit_test(test_parse_empty_numbers),
		cmocka_unit_test(test_msg_truncation),
		cmocka_unit_test(test_format_header),
		cmocka_unit_test(test_format_row),
		cmocka_unit_test(test_format_enospc),
		cmocka_unit_test(test_format_quoted_exact),
		cmocka_unit_test(test_format_empty_schema),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_long_str),
		cmocka_unit_test(test_round_trip_header),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
