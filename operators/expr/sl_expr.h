/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_EXPR_H
#define SL_EXPR_H

/**
 * @file
 * The expression language of job files: filters today, computed fields
 * later. Text is parsed once into bytecode over column registers; evaluation
 * runs each instruction over a whole vector (up to SL_VEC_MAX rows) in a
 * tight loop the compiler can vectorise, so there is no per-row
 * interpretation or branching on the hot path. EAL-free.
 *
 * Grammar (precedence low to high, all binary operators left-assoc):
 *   expr   := or
 *   or     := and ( ("or" | "||") and )*
 *   and    := not ( ("and" | "&&") not )*
 *   not    := ("not" | "!") not | cmp
 *   cmp    := sum ( ("==" | "!=" | "<" | "<=" | ">" | ">=") sum )?
 *   sum    := prod ( ("+" | "-") prod )*
 *   prod   := unary ( ("*" | "/" | "%") unary )*
 *   unary  := "-" unary | atom
 *   atom   := INT | FLOAT | "true" | "false" | 'string' | FIELD | "(" expr ")"
 * Types: integer fields (i64,u64,i32,u32,timestamp_ms) evaluate as int64,
 * f64 as double, bool as bool, str[N] fields compare (==, !=) with string
 * literals only. Mixed int/double arithmetic promotes to double. Integer
 * division or modulo by zero yields 0 (a row cannot trap the dataplane);
 * integer overflow wraps (two's complement, as Java's long).
 */

#include <stdint.h>

#include "sl_vec.h"

struct sl_expr;

enum sl_expr_type {
	SL_EXPR_INT,
	SL_EXPR_F64,
	SL_EXPR_BOOL,
};

struct sl_expr_err {
	uint32_t pos;		/**< byte offset in the text where it went wrong */
	char msg[160];		/**< what was expected, e.g. "expected ')'" */
};

/**
 * Compile text against a schema.
 * @return a compiled expression, or NULL with *err filled.
 */
struct sl_expr *sl_expr_compile(const char *text, const struct sl_schema *s,
				struct sl_expr_err *err);

enum sl_expr_type sl_expr_result_type(const struct sl_expr *e);

/**
 * Evaluate a boolean expression over the rows listed in sel_in (n entries)
 * and write the indices of the rows where it is true to sel_out (which may
 * alias sel_in). Row i starts at rows + i * row_size.
 * @return the number of indices written.
 */
uint16_t sl_expr_filter(const struct sl_expr *e, const uint8_t *rows,
			uint16_t row_size, const uint16_t *sel_in, uint16_t n,
			uint16_t *sel_out);

/** Free a compiled expression (NULL is fine). */
void sl_expr_free(struct sl_expr *e);

#endif /* SL_EXPR_H */
