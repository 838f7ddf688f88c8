/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Error reporting with positions, and the scalar conversions every section
 * shares (integers, booleans, durations, strings, field references), so
 * that the same mistake reads the same wherever it is made.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan_private.h"

static int
plan_verr(struct plan_ctx *c, uint32_t line, uint32_t col, const char *fmt,
	  va_list ap)
{
	int n;

	/* Only the first error is reported: later ones are consequences. */
	if (c->failed || c->err == NULL || c->errlen == 0) {
		c->failed = true;
		return -EINVAL;
	}
	c->failed = true;
	n = snprintf(c->err, c->errlen, "%s:%u:%u: ", c->name, line, col);
	if (n >= 0 && (size_t)n < c->errlen)
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	/* One line, whatever the file name or libfyaml's text contained. */
	for (char *s = c->err; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
	return -EINVAL;
}

int
plan_err_at(struct plan_ctx *c, uint32_t line, uint32_t col,
	    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = plan_verr(c, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

int
plan_err(struct plan_ctx *c, const struct plan_node *n, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = plan_verr(c, n->line, n->col, fmt, ap);
	va_end(ap);
	return rc;
}

const char *
plan_show(const char *s, char *buf)
{
	size_t i;

	for (i = 0; s[i] && i < 64; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (s[i])
		memcpy(buf + i, "...", 4);
	else
		buf[i] = '\0';
	return buf;
}

const char *
plan_kind_name(const struct plan_node *n)
{
	switch (n->kind) {
	case PLAN_MAP:
		return "a mapping";
	case PLAN_SEQ:
		return "a sequence";
	default:
		return n->null ? "an empty value" : "a scalar";
	}
}

int
plan_expect(struct plan_ctx *c, const struct plan_node *n,
	    enum plan_kind kind, const char *what)
{
	static const char *const want[] = {
		[PLAN_SCALAR] = "a scalar",
		[PLAN_MAP] = "a mapping",
		[PLAN_SEQ] = "a sequence",
	};

	if (n->kind == kind && !(kind == PLAN_SCALAR && n->null))
		return 0;
	return plan_err(c, n, "expected %s for '%s', got %s", want[kind], what,
			plan_kind_name(n));
}

struct plan_node *
plan_map_get(const struct plan_node *map, const char *key,
	     struct plan_node **keyp)
{
	for (uint32_t i = 0; i < map->n; i++) {
		if (strcmp(map->kid[2 * i]->text, key) == 0) {
			if (keyp != NULL)
				*keyp = map->kid[2 * i];
			return map->kid[2 * i + 1];
		}
	}
	return NULL;
}

/* Edit distance, capped: enough to tell a typo from another word. */
static unsigned int
plan_distance(const char *a, const char *b)
{
	unsigned int row[64], la = (unsigned int)strlen(a), lb = (unsigned int)strlen(b);

	if (la >= 64 || lb >= 64)
		return 64;
	for (unsigned int j = 0; j <= lb; j++)
		row[j] = j;
	for (unsigned int i = 1; i <= la; i++) {
		unsigned int diag = row[0];

		row[0] = i;
		for (unsigned int j = 1; j <= lb; j++) {
			unsigned int up = row[j];
			unsigned int best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* A short list is shown whole; a long one (the top level) would not fit
 * an error line, so the nearest key is suggested and the docs named. */
#define PLAN_KEYS_SHOWN 16

int
plan_check_keys(struct plan_ctx *c, const struct plan_node *map,
		const char *section, const char *const *allowed)
{
	char list[SL_PLAN_ERR_MAX], show[PLAN_SHOW_MAX];

	for (uint32_t i = 0; i < map->n; i++) {
		const struct plan_node *k = map->kid[2 * i];
		unsigned int best = UINT32_MAX, d;
		const char *near = NULL;
		size_t off = 0;
		int j;

		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(k->text, allowed[j]) == 0)
				break;
		if (allowed[j] != NULL)
			continue;
		for (j = 0; allowed[j] != NULL; j++) {
			d = plan_distance(k->text, allowed[j]);
			if (d < best) {
				best = d;
				near = allowed[j];
			}
		}
		if (j > PLAN_KEYS_SHOWN) {
			if (near != NULL && best <= 1 + strlen(near) / 4)
				return plan_err(c, k, "unknown key '%s'%s%s; did you mean '%s'? (docs/job-spec.md lists every key)",
						plan_show(k->text, show), section ? " in " : "",
						section ? section : "", near);
			return plan_err(c, k, "unknown key '%s'%s%s; docs/job-spec.md lists every key",
					plan_show(k->text, show), section ? " in " : "",
					section ? section : "");
		}
		list[0] = '\0';
		for (j = 0; allowed[j] != NULL && off < sizeof(list); j++)
			off += (size_t)snprintf(list + off, sizeof(list) - off,
						"%s%s", j ? ", " : "", allowed[j]);
		return plan_err(c, k, "unknown key '%s'%s%s; expected one of: %s",
				plan_show(k->text, show), section ? " in " : "",
				section ? section : "", list);
	}
	return 0;
}

int
plan_require(struct plan_ctx *c, const struct plan_node *map,
	     const char *section, const char *key, struct plan_node **val)
{
	*val = plan_map_get(map, key, NULL);
	if (*val != NULL)
		return 0;
	return plan_err(c, map, "missing required key '%s'%s%s", key,
			section ? " in " : "", section ? section : "");
}

int
plan_get_int(struct plan_ctx *c, const struct plan_node *n, const char *what,
	     int64_t min, int64_t max, int64_t *out)
{
	char show[PLAN_SHOW_MAX];
	const char *s;
	char *end;
	long long v;

	if (plan_expect(c, n, PLAN_SCALAR, what) < 0)
		return -EINVAL;
	s = n->text;
	/* Decimal only: strtoll alone would accept spaces and "0x". */
	if (!(isdigit((unsigned char)s[0]) ||
	      ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1]))))
		return plan_err(c, n, "expected an integer for '%s', got '%s'",
				what, plan_show(s, show));
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return plan_err(c, n, "expected an integer for '%s', got '%s'",
				what, plan_show(s, show));
	if (errno == ERANGE || v < min || v > max)
		return plan_err(c, n, "%s must be %lld..%lld, got %s", what,
				(long long)min, (long long)max,
				plan_show(s, show));
	*out = v;
	return 0;
}

int
plan_get_bool(struct plan_ctx *c, const struct plan_node *n, const char *what,
	      bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	char show[PLAN_SHOW_MAX];

	if (plan_expect(c, n, PLAN_SCALAR, what) < 0)
		return -EINVAL;
	for (int i = 0; i < 3; i++) {
		if (strcmp(n->text, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(n->text, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return plan_err(c, n, "expected true or false for '%s', got '%s'", what,
			plan_show(n->text, show));
}

int
plan_parse_duration(const char *s, int64_t *ms)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {
		{ "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	bool neg = false;
	uint64_t v = 0;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		/* Accumulate in u64 so INT64_MIN ms itself stays representable. */
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t lim;

		if (strcmp(s, units[i].unit) != 0)
			continue;
		lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
		if (v > lim / (uint64_t)units[i].ms)
			return -ERANGE;
		v *= (uint64_t)units[i].ms;
		if (neg)
			*ms = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
		else
			*ms = (int64_t)v;
		return 0;
	}
	return -EINVAL;
}

int
plan_get_duration(struct plan_ctx *c, const struct plan_node *n,
		  int64_t *ms)
{
	char show[PLAN_SHOW_MAX];
	int rc;

	if (n->kind != PLAN_SCALAR || n->null)
		return plan_err(c, n, "expected a duration like 10s or 250ms, got %s",
				plan_kind_name(n));
	rc = plan_parse_duration(n->text, ms);
	if (rc == -ERANGE)
		return plan_err(c, n, "duration '%s' is out of range",
				plan_show(n->text, show));
	if (rc < 0)
		return plan_err(c, n, "expected a duration like 10s or 250ms, got '%s'",
				plan_show(n->text, show));
	return 0;
}

/* Flink's MemorySize: a count of bytes with an optional unit, 1024-based. */
int
plan_parse_memsize(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *unit;
		unsigned int shift;
	} units[] = {
		{ "", 0 }, { "b", 0 }, { "kb", 10 }, { "k", 10 }, { "mb", 20 },
		{ "m", 20 }, { "gb", 30 }, { "g", 30 }, { "tb", 40 }, { "t", 40 },
	};
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	while (*s == ' ')
		s++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(s, units[i].unit) != 0)
			continue;
		if (v > (UINT64_MAX >> units[i].shift))
			return -ERANGE;
		*bytes = v << units[i].shift;
		return 0;
	}
	return -EINVAL;
}

int
plan_get_memsize(struct plan_ctx *c, const struct plan_node *n,
		 const char *what, uint64_t min, uint64_t max, uint64_t *bytes)
{
	char show[PLAN_SHOW_MAX];
	int rc;

	if (n->kind != PLAN_SCALAR || n->null)
		return plan_err(c, n, "expected a memory size for '%s' like 256mb or 1gb, got %s",
				what, plan_kind_name(n));
	rc = plan_parse_memsize(n->text, bytes);
	if (rc == 0 && (*bytes < min || *bytes > max))
		rc = -ERANGE;
	if (rc == -ERANGE)
		return plan_err(c, n, "%s must be %llumb..%llumb, got '%s'", what,
				(unsigned long long)(min >> 20),
				(unsigned long long)(max >> 20), plan_show(n->text, show));
	if (rc < 0)
		return plan_err(c, n, "expected a memory size for '%s' like 256mb or 1gb, got '%s'",
				what, plan_show(n->text, show));
	return 0;
}

int
plan_get_str(struct plan_ctx *c, const struct plan_node *n, const char *what,
	     char *buf, size_t size)
{
	if (plan_expect(c, n, PLAN_SCALAR, what) < 0)
		return -EINVAL;
	if (n->len == 0)
		return plan_err(c, n, "expected a non-empty string for '%s'", what);
	if (n->len >= size)
		return plan_err(c, n, "'%s' is longer than %zu bytes", what,
				size - 1);
	memcpy(buf, n->text, n->len + 1);
	return 0;
}

int
plan_field_lookup(struct plan_ctx *c, const struct plan_node *at,
		  const char *name, const char *what, int *idx)
{
	const struct sl_schema *s = &c->p->schema;
	char list[256], show[PLAN_SHOW_MAX];
	size_t off = 0;

	*idx = sl_schema_find(s, name);
	if (*idx >= 0)
		return 0;
	list[0] = '\0';
	for (int i = 0; i < s->n_fields; i++) {
		if (off + strlen(s->f[i].name) + 6 >= sizeof(list)) {
			snprintf(list + off, sizeof(list) - off, ", ...");
			break;
		}
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
					i ? ", " : "", s->f[i].name);
	}
	return plan_err(c, at, "unknown field '%s' in %s; schema has: %s",
			plan_show(name, show), what, list);
}

int
plan_get_field(struct plan_ctx *c, const struct plan_node *n,
	       const char *what, int *idx)
{
	if (plan_expect(c, n, PLAN_SCALAR, what) < 0)
		return -EINVAL;
	return plan_field_lookup(c, n, n->text, what, idx);
}

const char *
plan_type_show(const struct sl_field *f, char *buf, size_t size)
{
	if (f->type == SL_T_STR)
		snprintf(buf, size, "str[%u]", f->size);
	else
		snprintf(buf, size, "%s", sl_type_name(f->type));
	return buf;
}

bool
plan_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= SL_NAME_MAX)
		return false;
	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}
