/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "sl_vec.h"

static const char *const type_names[SL_T__COUNT] = {
	[SL_T_I64] = "i64",
	[SL_T_U64] = "u64",
	[SL_T_I32] = "i32",
	[SL_T_U32] = "u32",
	[SL_T_F64] = "f64",
	[SL_T_BOOL] = "bool",
	[SL_T_TS] = "timestamp_ms",
	[SL_T_STR] = "str",
};

const char *
sl_type_name(enum sl_type t)
{
	return (unsigned int)t < SL_T__COUNT ? type_names[t] : "?";
}

int
sl_type_parse(const char *name, enum sl_type *t, uint16_t *str_len)
{
	*str_len = 0;
	for (int i = 0; i < SL_T__COUNT; i++) {
		if (i != SL_T_STR && strcmp(name, type_names[i]) == 0) {
			*t = (enum sl_type)i;
			return 0;
		}
	}
	if (strncmp(name, "str[", 4) == 0) {
		char *end;
		long n = strtol(name + 4, &end, 10);

		if (end != name + 4 && end[0] == ']' && end[1] == '\0' &&
		    n >= 1 && n <= SL_STR_MAX) {
			*t = SL_T_STR;
			*str_len = (uint16_t)n;
			return 0;
		}
	}
	return -EINVAL;
}

uint16_t
sl_type_size(enum sl_type t, uint16_t str_len)
{
	switch (t) {
	case SL_T_I32:
	case SL_T_U32:
		return 4;
	case SL_T_BOOL:
		return 1;
	case SL_T_STR:
		return str_len;
	default:
		return 8;
	}
}

void
sl_schema_init(struct sl_schema *s)
{
	memset(s, 0, sizeof(*s));
}

static bool
name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= SL_NAME_MAX)
		return false;
	if (!isalpha((unsigned char)name[0]) && name[0] != '_')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return false;
	return true;
}

int
sl_schema_add(struct sl_schema *s, const char *name, enum sl_type t,
	      uint16_t str_len)
{
	uint16_t size;
	struct sl_field *f;

	if (!name_ok(name) || (unsigned int)t >= SL_T__COUNT)
		return -EINVAL;
	if (t == SL_T_STR && (str_len < 1 || str_len > SL_STR_MAX))
		return -EINVAL;
	if (sl_schema_find(s, name) >= 0)
		return -EEXIST;
	size = sl_type_size(t, str_len);
	if (s->n_fields == SL_SCHEMA_MAX_FIELDS ||
	    (unsigned int)s->row_size + size > SL_ROW_MAX)
		return -E2BIG;
	f = &s->f[s->n_fields];
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->type = t;
	f->size = size;
	f->offset = s->row_size;
	s->row_size += size;
	return s->n_fields++;
}

int
sl_schema_find(const struct sl_schema *s, const char *name)
{
	for (int i = 0; i < s->n_fields; i++)
		if (strcmp(s->f[i].name, name) == 0)
			return i;
	return -ENOENT;
}

int
sl_schema_parse_spec(struct sl_schema *s, const char *spec, size_t *err_at)
{
	const char *p = spec;

	sl_schema_init(s);
	while (*p) {
		char name[SL_NAME_MAX], type[32];
		const char *colon = strchr(p, ':');
		const char *comma;
		size_t nlen, tlen;
		enum sl_type t;
		uint16_t slen;
		int rc;

		*err_at = (size_t)(p - spec);
		if (colon == NULL)
			return -EINVAL;
		comma = strchr(colon, ',');
		if (comma == NULL)
			comma = colon + strlen(colon);
		nlen = (size_t)(colon - p);
		tlen = (size_t)(comma - colon - 1);
		if (nlen >= sizeof(name) || tlen >= sizeof(type))
			return -EINVAL;
		memcpy(name, p, nlen);
		name[nlen] = '\0';
		memcpy(type, colon + 1, tlen);
		type[tlen] = '\0';
		if (sl_type_parse(type, &t, &slen) < 0) {
			*err_at = (size_t)(colon + 1 - spec);
			return -EINVAL;
		}
		rc = sl_schema_add(s, name, t, slen);
		if (rc < 0)
			return rc;
		p = *comma ? comma + 1 : comma;
	}
	if (s->n_fields == 0) {
		*err_at = 0;
		return -EINVAL;
	}
	return 0;
}

int
sl_schema_canonical(const struct sl_schema *s, char *buf, size_t len)
{
	size_t off = 0;
	int n = 0;

	if (len)
		buf[0] = '\0';
	for (int i = 0; i < s->n_fields; i++) {
		const struct sl_field *f = &s->f[i];

		if (f->type == SL_T_STR)
			n = snprintf(buf + off, off < len ? len - off : 0,
				     "%s%s:str[%u]", i ? "," : "", f->name,
				     f->size);
		else
			n = snprintf(buf + off, off < len ? len - off : 0,
				     "%s%s:%s", i ? "," : "", f->name,
				     sl_type_name(f->type));
		off += (size_t)n;
	}
	return (int)off;
}

uint32_t
sl_schema_id(const struct sl_schema *s)
{
	char buf[SL_SCHEMA_MAX_FIELDS * (SL_NAME_MAX + 16)];
	int n = sl_schema_canonical(s, buf, sizeof(buf));

	return (uint32_t)XXH3_64bits(buf, (size_t)n);
}
