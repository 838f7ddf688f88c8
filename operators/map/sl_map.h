/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_MAP_H
#define SL_MAP_H
/**
 * @file
 * The map (project) step of a pipeline (a stateless one's, one before
 * key_by, one after the keyed stage): each output row is a
 * list of columns, each either a field of the input copied as it is (its
 * type kept: strings, timestamps, u32 ...) or a computed field, an
 * expression of the job file's language evaluated over the whole vector
 * (an integer expression gives an i64 column, a double one f64, a
 * boolean one bool). Flink's map() with a projection, or SQL's SELECT
 * list. EAL-free.
 *
 * Threads: sl_map_create() compiles the expressions and allocates (cold);
 * each lcore needs its own instance, as the expressions keep scratch
 * registers. sl_map_process() allocates nothing, takes no lock and makes no
 * system call.
 */
#include <stddef.h>
#include <stdint.h>

#include "sl_vec.h"

#define SL_MAP_MAX_COLS 32

struct sl_map;

/**
 * Build the map of n columns over rows of schema in: names[i] is column
 * i's name, texts[i] a field of in or an expression over in's fields.
 * @param out  the output schema (the columns in order).
 * @param err  on failure: which column and what is wrong.
 * @return the map (sl_map_free()), or NULL with err filled.
 */
struct sl_map *sl_map_create(const struct sl_schema *in, uint16_t n,
			     const char *const names[], const char *const texts[],
			     struct sl_schema *out, char *err, size_t errlen);

/**
 * Map the selected rows of v, in order: row_out(ctx) gives the next
 * output row to fill (out schema's row size).
 * @return rows written.
 */
uint16_t sl_map_process(struct sl_map *m, const struct sl_vec *v,
			uint8_t *(*row_out)(void *ctx), void *ctx);

/**
 * Map the n rows of rows (row_size bytes each) listed in sel, in order,
 * into out, one after the other (the out schema's row size each): rows
 * that are not in a vector, such as a source's batch in place.
 */
void sl_map_rows(struct sl_map *m, const uint8_t *rows, uint16_t row_size,
		 const uint16_t *sel, uint16_t n, uint8_t *out);

void sl_map_free(struct sl_map *m);

#endif /* SL_MAP_H */
