/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: libFuzzer target for the CSV module (drivers/csv). The
 * input's first line is a header, mapped against the fixed schema
 * "id:i64,cnt:u64,small:i32,usmall:u32,amount:f64,flag:bool,
 * ts:timestamp_ms,name:str[8],note:str[64]"; if the mapping fails, the
 * input ends there. Every following line (split on '\n', a trailing '\r'
 * stripped; a final empty line after the last '\n' is not a record) is
 * parsed. A refused line must say why. A row that parses is formatted
 * back, and that text must parse to identical row bytes and format to
 * identical text; anything else aborts.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_csv.h"

#define FUZZ_SPEC "id:i64,cnt:u64,small:i32,usmall:u32,amount:f64,flag:bool," \
		  "ts:timestamp_ms,name:str[8],note:str[64]"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sl_schema schema;
static struct sl_csv_map ident;
static bool ready;
static char text[SL_CSV_LINE_MAX], text2[SL_CSV_LINE_MAX];

static void
init(void)
{
	char msg[128];
	size_t err_at;
	int n;

	if (sl_schema_parse_spec(&schema, FUZZ_SPEC, &err_at) != 0)
		abort();
	/* The header formatter's output maps every field to itself. */
	n = sl_csv_format_header(&schema, text, sizeof(text));
	if (n <= 0 || sl_csv_map_header(&schema, text, (size_t)n, &ident, msg,
					sizeof(msg)) != 0 ||
	    ident.n_cols != schema.n_fields)
		abort();
	for (int i = 0; i < schema.n_fields; i++)
		if (ident.field[i] != i)
			abort();
	ready = true;
}

static size_t
line_len(const char *l, size_t n)
{
	if (n > 0 && l[n - 1] == '\r')
		n--;
	return n;
}

static void
check_row(const struct sl_csv_map *m, const char *l, size_t n)
{
	uint8_t row[SL_ROW_MAX], back[SL_ROW_MAX];
	char msg[128];
	int rc, len, len2;

	msg[0] = '\0';
	rc = sl_csv_parse_row(&schema, m, l, n, row, msg, sizeof(msg));
	if (rc != 0) {
		if (rc != -EINVAL || msg[0] == '\0')
			abort();
		return;
	}
	len = sl_csv_format_row(&schema, row, text, sizeof(text));
	if (len < 0 || (size_t)len != strlen(text))
		abort();
	memset(back, 0x5a, sizeof(back));
	if (sl_csv_parse_row(&schema, &ident, text, (size_t)len, back, msg,
			     sizeof(msg)) != 0)
		abort();
	if (memcmp(row, back, schema.row_size) != 0)
		abort();
	len2 = sl_csv_format_row(&schema, back, text2, sizeof(text2));
	if (len2 != len || memcmp(text, text2, (size_t)len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct sl_csv_map m;
	char msg[128];
	size_t n;
	int rc;

	if (!ready)
		init();

	nl = memchr(p, '\n', size);
	msg[0] = '\0';
	rc = sl_csv_map_header(&schema, p,
			       line_len(p, nl ? (size_t)(nl - p) : size), &m,
			       msg, sizeof(msg));
	if (rc != 0) {
		if (rc != -EINVAL || msg[0] == '\0')
			abort();
		return 0;
	}
	if (m.n_cols != schema.n_fields)
		abort();
	for (p = nl ? nl + 1 : end; p < end; p = nl ? nl + 1 : end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		check_row(&m, p, line_len(p, n));
	}
	return 0;
}
