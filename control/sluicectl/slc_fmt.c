/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Formatting for people: aligned tables, rates, event times, durations.
 * Every function writes a caller's buffer so output is reproducible in the
 * unit tests byte for byte.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slc.h"

void
slc_table_init(struct slc_table *t, unsigned int ncol)
{
	memset(t, 0, sizeof(*t));
	t->ncol = ncol;
}

void
slc_table_row(struct slc_table *t, const char *const *cells)
{
	if (t->nrow == t->cap) {
		unsigned int cap = t->cap ? t->cap * 2 : 8;
		char **c = realloc(t->cell, sizeof(*c) * cap * t->ncol);

		if (c == NULL)
			return;	/* a row short of memory is dropped, not fatal */
		t->cell = c;
		t->cap = cap;
	}
	for (unsigned int i = 0; i < t->ncol; i++)
		t->cell[t->nrow * t->ncol + i] = strdup(cells[i] ? cells[i] : "-");
	t->nrow++;
}

void
slc_table_print(FILE *f, const struct slc_table *t, const char *indent,
		const bool *right)
{
	size_t w[32] = { 0 };
	unsigned int ncol = t->ncol < 32 ? t->ncol : 32;

	for (unsigned int r = 0; r < t->nrow; r++)
		for (unsigned int c = 0; c < ncol; c++) {
			const char *s = t->cell[r * t->ncol + c];
			size_t n = s ? strlen(s) : 0;

			if (n > w[c])
				w[c] = n;
		}
	for (unsigned int r = 0; r < t->nrow; r++) {
		fputs(indent ? indent : "", f);
		for (unsigned int c = 0; c < ncol; c++) {
			const char *s = t->cell[r * t->ncol + c];
			bool last = c + 1 == ncol;

			if (s == NULL)
				s = "";
			/* Headers align like their column; the last column
			 * is not padded, so no line ends in spaces. */
			if (right != NULL && right[c])
				fprintf(f, "%*s", (int)w[c], s);
			else if (last)
				fputs(s, f);
			else
				fprintf(f, "%-*s", (int)w[c], s);
			if (!last)
				fputs("  ", f);
		}
		fputc('\n', f);
	}
}

void
slc_table_fini(struct slc_table *t)
{
	for (unsigned int i = 0; i < t->nrow * t->ncol; i++)
		free(t->cell[i]);
	free(t->cell);
	memset(t, 0, sizeof(*t));
}

void
slc_fmt_rate(char *buf, size_t len, double v)
{
	if (v < 0)
		v = 0;
	if (v < 1e3)
		snprintf(buf, len, "%.0f", v);
	else if (v < 1e6)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else if (v < 1e9)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else
		snprintf(buf, len, "%.2fG", v / 1e9);
}

void
slc_fmt_ts(char *buf, size_t len, int64_t ms)
{
	/* Floor division: event times before 1970 are valid. */
	int64_t s = ms / 1000, rem = ms % 1000;
	time_t t;
	struct tm tm;

	if (rem < 0) {
		rem += 1000;
		s--;
	}
	t = (time_t)s;
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "%" PRId64, ms);
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)rem);
}

void
slc_fmt_dur(char *buf, size_t len, int64_t ms)
{
	const char *sign = ms < 0 ? "-" : "";
	uint64_t a = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;

	if (a < 1000)
		snprintf(buf, len, "%s%" PRIu64 "ms", sign, a);
	else if (a < 60000)
		snprintf(buf, len, "%s%" PRIu64 ".%" PRIu64 "s", sign, a / 1000,
			 a % 1000 / 100);
	else if (a < 3600000)
		snprintf(buf, len, "%s%" PRIu64 "m%02" PRIu64 "s", sign,
			 a / 60000, a % 60000 / 1000);
	else if (a < 86400000)
		snprintf(buf, len, "%s%" PRIu64 "h%02" PRIu64 "m", sign,
			 a / 3600000, a % 3600000 / 60000);
	else
		snprintf(buf, len, "%s%" PRIu64 "d%02" PRIu64 "h", sign,
			 a / 86400000, a % 86400000 / 3600000);
}

void
slc_fmt_scalar(char *buf, size_t len, const json_t *j)
{
	char *s;

	switch (j ? json_typeof(j) : JSON_NULL) {
	case JSON_STRING:
		snprintf(buf, len, "%s", json_string_value(j));
		break;
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		break;
	case JSON_REAL:
		snprintf(buf, len, "%.1f", json_real_value(j));
		break;
	case JSON_TRUE:
		snprintf(buf, len, "yes");
		break;
	case JSON_FALSE:
		snprintf(buf, len, "no");
		break;
	case JSON_NULL:
		snprintf(buf, len, "-");
		break;
	default:
		s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		snprintf(buf, len, "%s", s ? s : "?");
		free(s);
		break;
	}
}
