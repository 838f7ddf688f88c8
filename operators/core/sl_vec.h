/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_VEC_H
#define SL_VEC_H

/**
 * @file
 * Rows, schemas and vectors: the data every sluice module agrees on.
 *
 * A row is a fixed-layout record. Its fields are packed in schema order,
 * little-endian, with no padding, so a row in memory has exactly the bytes
 * of a record on the wire (docs/wire-format.md): parsing a packet is a copy.
 * Field loads therefore go through memcpy(), which the compiler turns into a
 * single unaligned move on x86.
 *
 * A vector (struct sl_vec) carries up to SL_VEC_MAX rows plus at most one
 * in-band control element (watermark, idle/active status, end of input)
 * that logically follows the rows. This header is EAL-free.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SL_VEC_MAX 256		/**< rows per vector, as VPP's frame size */
#define SL_SCHEMA_MAX_FIELDS 64
#define SL_NAME_MAX 64		/**< field, job and aggregate names, with NUL */
#define SL_STR_MAX 256		/**< longest fixed-length string field */
#define SL_ROW_MAX 4096		/**< largest row, in bytes */

#define SL_TS_MIN INT64_MIN	/**< Flink's Long.MIN_VALUE: "no watermark yet" */
#define SL_TS_MAX INT64_MAX	/**< Flink's Long.MAX_VALUE: end of input */

/** Field types of a schema; wire sizes are given by sl_type_size(). */
enum sl_type {
	SL_T_I64 = 0,
	SL_T_U64,
	SL_T_I32,
	SL_T_U32,
	SL_T_F64,
	SL_T_BOOL,
	SL_T_TS,	/**< event time, signed milliseconds since the epoch */
	SL_T_STR,	/**< fixed length, NUL-padded, not NUL-terminated when full */
	SL_T__COUNT
};

struct sl_field {
	char name[SL_NAME_MAX];
	enum sl_type type;
	uint16_t size;		/**< bytes in the row */
	uint16_t offset;	/**< byte offset in the row */
};

struct sl_schema {
	uint16_t n_fields;
	uint16_t row_size;	/**< sum of field sizes */
	struct sl_field f[SL_SCHEMA_MAX_FIELDS];
};

/** Name of a type as written in job files ("u64", "timestamp_ms", "str"). */
const char *sl_type_name(enum sl_type t);

/**
 * Parse a type name. "str[N]" (1 <= N <= SL_STR_MAX) gives SL_T_STR with
 * *str_len = N; other types set *str_len = 0.
 * @return 0, or -EINVAL for an unknown name.
 */
int sl_type_parse(const char *name, enum sl_type *t, uint16_t *str_len);

/** Bytes a field of type t takes (str_len for SL_T_STR). */
uint16_t sl_type_size(enum sl_type t, uint16_t str_len);

/** True for the integer-like types, timestamps and bool. */
static inline bool
sl_type_is_int(enum sl_type t)
{
	return t != SL_T_F64 && t != SL_T_STR;
}

void sl_schema_init(struct sl_schema *s);

/**
 * Append a field.
 * @return its index, -EEXIST for a duplicate name, -E2BIG when the schema
 *   or the row is full, -EINVAL for a bad name or string length.
 */
int sl_schema_add(struct sl_schema *s, const char *name, enum sl_type t,
		  uint16_t str_len);

/** @return the field index, or -ENOENT. */
int sl_schema_find(const struct sl_schema *s, const char *name);

/**
 * Parse a compact schema spec: "user_id:u64,url_id:u32,ts:timestamp_ms".
 * Used by tools (sluice-gen) where a job file would be too much.
 * @return 0 or a negative errno; *err_at gets the byte offset of the error.
 */
int sl_schema_parse_spec(struct sl_schema *s, const char *spec, size_t *err_at);

/**
 * Schema identity carried in every wire header: the low 32 bits of XXH3 over
 * the canonical text "name:type,name:type,..." (types as sl_type_name(),
 * strings as "str[N]"). Producer and dataplane compute it independently.
 */
uint32_t sl_schema_id(const struct sl_schema *s);

/** Write the canonical text of a schema; returns what snprintf returns. */
int sl_schema_canonical(const struct sl_schema *s, char *buf, size_t len);

/* ---- field access: these are the only way code reads or writes rows ---- */

/** Load any integer-like field (i64, u64, i32, u32, bool, ts) as int64. */
static inline int64_t
sl_row_get_int(const uint8_t *row, const struct sl_field *f)
{
	switch (f->type) {
	case SL_T_I32: {
		int32_t v;
		memcpy(&v, row + f->offset, 4);
		return v;
	}
	case SL_T_U32: {
		uint32_t v;
		memcpy(&v, row + f->offset, 4);
		return v;
	}
	case SL_T_BOOL:
		return row[f->offset] != 0;
	default: {
		int64_t v;
		memcpy(&v, row + f->offset, 8);
		return v;
	}
	}
}

static inline double
sl_row_get_f64(const uint8_t *row, const struct sl_field *f)
{
	double v;

	if (f->type != SL_T_F64) {
		if (f->type == SL_T_U64) {
			uint64_t u;
			memcpy(&u, row + f->offset, 8);
			return (double)u;
		}
		return (double)sl_row_get_int(row, f);
	}
	memcpy(&v, row + f->offset, 8);
	return v;
}

static inline void
sl_row_set_int(uint8_t *row, const struct sl_field *f, int64_t v)
{
	switch (f->type) {
	case SL_T_I32:
	case SL_T_U32: {
		uint32_t w = (uint32_t)v;
		memcpy(row + f->offset, &w, 4);
		break;
	}
	case SL_T_BOOL:
		row[f->offset] = v != 0;
		break;
	default:
		memcpy(row + f->offset, &v, 8);
		break;
	}
}

static inline void
sl_row_set_f64(uint8_t *row, const struct sl_field *f, double v)
{
	memcpy(row + f->offset, &v, 8);
}

/** Event time of a row whose time field is f (SL_T_TS or any integer). */
static inline int64_t
sl_row_ts(const uint8_t *row, const struct sl_field *f)
{
	int64_t v;

	if (f->size == 8) {
		memcpy(&v, row + f->offset, 8);
		return v;
	}
	return sl_row_get_int(row, f);
}

/**
 * f's value as a u64 whose unsigned order is the field's order: signed
 * integers with the sign bit flipped, f64 by its bits (-0 = 0), a string
 * by its first 8 bytes big-endian. For radix sorts and rankings.
 */
static inline uint64_t
sl_row_order_key(const uint8_t *row, const struct sl_field *f)
{
	switch (f->type) {
	case SL_T_STR: {
		uint8_t b[8] = { 0 };
		uint64_t x = 0;

		memcpy(b, row + f->offset, f->size < 8 ? f->size : 8);
		for (int i = 0; i < 8; i++)
			x = x << 8 | b[i];
		return x;
	}
	case SL_T_F64: {
		double d = sl_row_get_f64(row, f);
		uint64_t x;

		if (d == 0)
			d = 0;	/* -0 and 0 are equal */
		memcpy(&x, &d, 8);
		return (x >> 63) ? ~x : x | (1ull << 63);
	}
	case SL_T_U64:
	case SL_T_U32:
	case SL_T_BOOL:
		return (uint64_t)sl_row_get_int(row, f);
	default:
		return (uint64_t)sl_row_get_int(row, f) ^ (1ull << 63);
	}
}

/* ---- control elements and vectors ---- */

enum sl_ctl_type {
	SL_CTL_NONE = 0,
	SL_CTL_WATERMARK,	/**< ts = the watermark */
	SL_CTL_IDLE,		/**< the input is idle (R1.6/R1.7 status) */
	SL_CTL_ACTIVE,		/**< the input is active again */
	SL_CTL_EOI,		/**< end of input; implies WM(SL_TS_MAX) */
	SL_CTL_BARRIER,		/**< checkpoint barrier; ts = the checkpoint id (R6.1) */
	SL_CTL_LATE_ROWS,	/**< the rows are input rows a window dropped as
				 *   late, for its side output; no control */
};

struct sl_ctl_elem {
	uint8_t type;		/**< enum sl_ctl_type */
	uint8_t pad[7];
	int64_t ts;
};

/**
 * A vector of rows. One mempool object, recycled, never malloc'd on the hot
 * path. The control element, if any, follows the rows in stream order.
 */
struct sl_vec {
	uint16_t n_rows;	/**< rows stored */
	uint16_t n_sel;		/**< live rows listed in sel[] (filters compact it) */
	uint16_t row_size;
	uint16_t src;		/**< input index at the receiving worker */
	struct sl_ctl_elem ctl;
	uint32_t hash[SL_VEC_MAX];	/**< key hash per row, set by the router */
	uint16_t sel[SL_VEC_MAX];
	uint8_t rows[] __attribute__((aligned(64)));
};

/** Bytes a vector of rows of row_size takes (mempool element size). */
static inline size_t
sl_vec_size(uint16_t row_size)
{
	return sizeof(struct sl_vec) + (size_t)row_size * SL_VEC_MAX;
}

static inline uint8_t *
sl_vec_row(struct sl_vec *v, uint16_t i)
{
	return v->rows + (size_t)i * v->row_size;
}

static inline const uint8_t *
sl_vec_crow(const struct sl_vec *v, uint16_t i)
{
	return v->rows + (size_t)i * v->row_size;
}

static inline void
sl_vec_reset(struct sl_vec *v, uint16_t row_size)
{
	v->n_rows = 0;
	v->n_sel = 0;
	v->row_size = row_size;
	v->ctl.type = SL_CTL_NONE;
	v->ctl.ts = 0;
}

/** Make sel[] list every row (identity selection). */
static inline void
sl_vec_select_all(struct sl_vec *v)
{
	for (uint16_t i = 0; i < v->n_rows; i++)
		v->sel[i] = i;
	v->n_sel = v->n_rows;
}

#endif /* SL_VEC_H */
