/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_CSV_H
#define SL_CSV_H

/**
 * @file
 * The CSV form of rows (docs/wire-format.md): a header row of field names,
 * integers in decimal, timestamp_ms as integer milliseconds, f64 as "%.17g"
 * (round-trips exactly), bool as true/false, strings raw or RFC 4180
 * quoted. Shared by the CSV source, the CSV sink and sluice-gen. EAL-free.
 */

#include <stddef.h>
#include <stdint.h>

#include "sl_vec.h"

#define SL_CSV_LINE_MAX 65536

/**
 * Format one row, without the newline.
 * @return bytes written (excluding the NUL), or -ENOSPC.
 */
int sl_csv_format_row(const struct sl_schema *s, const uint8_t *row,
		      char *buf, size_t len);

/** Format the header row, without the newline. Same return as above. */
int sl_csv_format_header(const struct sl_schema *s, char *buf, size_t len);

/** Column -> field map built from a header row. */
struct sl_csv_map {
	uint16_t n_cols;
	int16_t field[SL_SCHEMA_MAX_FIELDS * 2];	/**< -1: column ignored */
};

/**
 * Map a header line (no newline) to schema fields: every schema field must
 * appear exactly once; unknown columns are an error too.
 * @return 0 or -EINVAL with msg naming the column.
 */
int sl_csv_map_header(const struct sl_schema *s, const char *line, size_t len,
		      struct sl_csv_map *m, char *msg, size_t msglen);

/**
 * Parse one data line (no newline) into row.
 * @return 0, or -EINVAL with msg ("column 3 (ts): expected an integer").
 */
int sl_csv_parse_row(const struct sl_schema *s, const struct sl_csv_map *m,
		     const char *line, size_t len, uint8_t *row, char *msg,
		     size_t msglen);

#endif /* SL_CSV_H */
