/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "sl_csv.h"

static int
put_str(char *buf, size_t len, size_t *off, const char *s, size_t n)
{
	bool quote = false;
	size_t quotes = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			quote = true;
		if (s[i] == '"')
			quotes++;
	}
	if (!quote) {
		if (*off + n >= len)
			return -ENOSPC;
		memcpy(buf + *off, s, n);
		*off += n;
		return 0;
	}
	/* Exact quoted size: two quotes plus one extra per embedded quote. */
	if (*off + n + quotes + 2 >= len)
		return -ENOSPC;
	buf[(*off)++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			buf[(*off)++] = '"';
		buf[(*off)++] = s[i];
	}
	buf[(*off)++] = '"';
	return 0;
}

int
sl_csv_format_header(const struct sl_schema *s, char *buf, size_t len)
{
	size_t off = 0;

	for (int i = 0; i < s->n_fields; i++) {
		if (i) {
			if (off + 1 >= len)
				return -ENOSPC;
			buf[off++] = ',';
		}
		if (put_str(buf, len, &off, s->f[i].name, strlen(s->f[i].name)) < 0)
			return -ENOSPC;
	}
	if (off >= len)
		return -ENOSPC;
	buf[off] = '\0';
	return (int)off;
}

/*
 * Decimal digits of v into p (at least 20 bytes), two at a time: a sink
 * writes millions of integer cells per window fire, and snprintf cost
 * several times the rest of the row.
 */
static size_t
fmt_u64(char *p, uint64_t v)
{
	static const char pairs[201] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	char tmp[20];
	size_t n = 20;

	while (v >= 100) {
		unsigned int d = (unsigned int)(v % 100) * 2;

		v /= 100;
		tmp[--n] = pairs[d + 1];
		tmp[--n] = pairs[d];
	}
	if (v >= 10) {
		tmp[--n] = pairs[v * 2 + 1];
		tmp[--n] = pairs[v * 2];
	} else {
		tmp[--n] = (char)('0' + v);
	}
	memcpy(p, tmp + n, 20 - n);
	return 20 - n;
}

static size_t
fmt_i64(char *p, int64_t v)
{
	if (v >= 0)
		return fmt_u64(p, (uint64_t)v);
	*p = '-';
	return 1 + fmt_u64(p + 1, -(uint64_t)v);
}

int
sl_csv_format_row(const struct sl_schema *s, const uint8_t *row, char *buf,
		  size_t len)
{
	size_t off = 0;

	for (int i = 0; i < s->n_fields; i++) {
		const struct sl_field *f = &s->f[i];
		char num[40];
		int n = 0;

		if (i) {
			if (off + 1 >= len)
				return -ENOSPC;
			buf[off++] = ',';
		}
		switch (f->type) {
		case SL_T_STR: {
			const char *str = (const char *)row + f->offset;
			size_t slen = strnlen(str, f->size);

			if (put_str(buf, len, &off, str, slen) < 0)
				return -ENOSPC;
			continue;
		}
		case SL_T_F64:
			n = snprintf(num, sizeof(num), "%.17g",
				     sl_row_get_f64(row, f));
			break;
		case SL_T_BOOL:
			n = row[f->offset] ? 4 : 5;
			memcpy(num, row[f->offset] ? "true" : "false", (size_t)n);
			break;
		case SL_T_U64:
			n = (int)fmt_u64(num, (uint64_t)sl_row_get_int(row, f));
			break;
		default:
			n = (int)fmt_i64(num, sl_row_get_int(row, f));
			break;
		}
		if (off + (size_t)n >= len)
			return -ENOSPC;
		memcpy(buf + off, num, (size_t)n);
		off += (size_t)n;
	}
	if (off >= len)
		return -ENOSPC;
	buf[off] = '\0';
	return (int)off;
}

/*
 * Split the next cell; handles RFC 4180 quotes. Unquoted in place in out.
 * A NUL byte is refused anywhere: cells are C strings from here on, and a
 * string field cannot hold one (it is NUL-padded).
 */
static int
next_cell(const char *line, size_t len, size_t *pos, char *out, size_t outlen,
	  size_t *olen)
{
	size_t p = *pos, o = 0;

	if (p < len && line[p] == '"') {
		p++;
		for (;;) {
			if (p >= len)
				return -EINVAL;	/* unterminated quote */
			if (line[p] == '"') {
				if (p + 1 < len && line[p + 1] == '"') {
					p++;
				} else {
					p++;
					break;
				}
			}
			if (line[p] == '\0')
				return -EINVAL;
			if (o + 1 >= outlen)
				return -E2BIG;
			out[o++] = line[p++];
		}
		if (p < len && line[p] != ',')
			return -EINVAL;
	} else {
		while (p < len && line[p] != ',') {
			if (line[p] == '\0')
				return -EINVAL;
			if (o + 1 >= outlen)
				return -E2BIG;
			out[o++] = line[p++];
		}
	}
	out[o] = '\0';
	*olen = o;
	*pos = p < len ? p + 1 : p + 1;	/* past the comma, or past the end */
	return 0;
}

int
sl_csv_map_header(const struct sl_schema *s, const char *line, size_t len,
		  struct sl_csv_map *m, char *msg, size_t msglen)
{
	bool seen[SL_SCHEMA_MAX_FIELDS] = { false };
	size_t pos = 0, clen;
	char cell[SL_NAME_MAX + 2];

	m->n_cols = 0;
	while (pos <= len) {
		int f;

		if (m->n_cols == sizeof(m->field) / sizeof(m->field[0])) {
			snprintf(msg, msglen, "too many columns");
			return -EINVAL;
		}
		if (next_cell(line, len, &pos, cell, sizeof(cell), &clen) < 0) {
			snprintf(msg, msglen, "column %u: bad header cell", m->n_cols + 1);
			return -EINVAL;
		}
		f = sl_schema_find(s, cell);
		if (f < 0) {
			snprintf(msg, msglen, "column %u: '%s' is not a schema field",
				 m->n_cols + 1, cell);
			return -EINVAL;
		}
		if (seen[f]) {
			snprintf(msg, msglen, "column %u: '%s' appears twice",
				 m->n_cols + 1, cell);
			return -EINVAL;
		}
		seen[f] = true;
		m->field[m->n_cols++] = (int16_t)f;
	}
	for (int i = 0; i < s->n_fields; i++) {
		if (!seen[i]) {
			snprintf(msg, msglen, "header has no column for field '%s'",
				 s->f[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

static int
parse_cell(const struct sl_field *f, const char *cell, size_t clen,
	   uint8_t *row)
{
	char *end;

	if (f->type == SL_T_STR) {
		if (clen > f->size)
			return -E2BIG;
		memset(row + f->offset, 0, f->size);
		memcpy(row + f->offset, cell, clen);
		return 0;
	}
	/*
	 * strtod/strtoll/strtoull skip leading white space, and strtoull then
	 * negates " -5" to 2^64 - 5: numbers start with a sign or a digit
	 * (or a letter for f64's inf/nan), never with a space.
	 */
	if (clen == 0 || isspace((unsigned char)cell[0]))
		return -EINVAL;
	errno = 0;
	switch (f->type) {
	case SL_T_F64: {
		double d = strtod(cell, &end);

		if (*end != '\0')
			return -EINVAL;
		/*
		 * ERANGE on overflow (+-HUGE_VAL) is an error; on underflow
		 * glibc also sets it for every subnormal, which "%.17g"
		 * writes, so the rounded value is kept.
		 */
		if (errno == ERANGE && isinf(d))
			return -EINVAL;
		/* One NaN per sign: "nan(0x12)" would not survive "%.17g". */
		if (isnan(d))
			d = signbit(d) ? -NAN : NAN;
		sl_row_set_f64(row, f, d);
		return 0;
	}
	case SL_T_BOOL:
		if (strcmp(cell, "true") == 0 || strcmp(cell, "1") == 0)
			row[f->offset] = 1;
		else if (strcmp(cell, "false") == 0 || strcmp(cell, "0") == 0)
			row[f->offset] = 0;
		else
			return -EINVAL;
		return 0;
	case SL_T_U64:
	case SL_T_U32: {
		unsigned long long u;

		if (cell[0] == '-')
			return -ERANGE;
		u = strtoull(cell, &end, 10);
		if (*end != '\0' || errno ||
		    (f->type == SL_T_U32 && u > UINT32_MAX))
			return -ERANGE;
		sl_row_set_int(row, f, (int64_t)u);
		return 0;
	}
	default: {
		long long v = strtoll(cell, &end, 10);

		if (*end != '\0' || errno ||
		    (f->type == SL_T_I32 && (v < INT32_MIN || v > INT32_MAX)))
			return -ERANGE;
		sl_row_set_int(row, f, v);
		return 0;
	}
	}
}

int
sl_csv_parse_row(const struct sl_schema *s, const struct sl_csv_map *m,
		 const char *line, size_t len, uint8_t *row, char *msg,
		 size_t msglen)
{
	char cell[SL_STR_MAX * 2 + 64];
	size_t pos = 0, clen;

	for (uint16_t c = 0; c < m->n_cols; c++) {
		const struct sl_field *f = &s->f[m->field[c]];
		int rc;

		if (pos > len) {
			snprintf(msg, msglen, "%u columns, expected %u", c, m->n_cols);
			return -EINVAL;
		}
		rc = next_cell(line, len, &pos, cell, sizeof(cell), &clen);
		if (rc == 0)
			rc = parse_cell(f, cell, clen, row);
		if (rc < 0) {
			snprintf(msg, msglen, "column %u (%s): expected %s",
				 c + 1, f->name,
				 f->type == SL_T_STR ? "a string that fits" :
				 f->type == SL_T_F64 ? "a number" :
				 f->type == SL_T_BOOL ? "true or false" :
							"an integer in range");
			return -EINVAL;
		}
	}
	if (pos <= len) {
		snprintf(msg, msglen, "more than %u columns", m->n_cols);
		return -EINVAL;
	}
	return 0;
}
