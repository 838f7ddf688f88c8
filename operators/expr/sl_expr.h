/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_EXPR_H
#define SL_EXPR_H

/**
 * @file
 * The expression language of job files: filters and the computed fields
 * of map steps. Text is parsed once into bytecode over column registers; evaluation
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
 *
 * Details of the language:
 * - Keywords (and, or, not, true, false) are lowercase and case-sensitive;
 *   a field cannot be named after one. Identifiers are field names.
 * - Integer literals are decimal or 0x hex and must fit in int64 (write
 *   INT64_MIN as -9223372036854775808); float literals are 1.5, 1., .5,
 *   1e3, 2.5E-1. Out-of-range literals are compile errors.
 * - u64 fields load as int64 (two's complement): UINT64_MAX equals -1.
 * - Integer / and % truncate toward zero (C99, Java); x / 0 and x % 0 are
 *   0; INT64_MIN / -1 is INT64_MIN and x % -1 is 0. Double arithmetic is
 *   IEEE (x / 0.0 is inf or NaN; NaN != NaN). % needs integer operands.
 * - Booleans compare with == and != only; not/and/or need booleans.
 * - A string literal is 'text' with '' for a quote. A str[N] field is
 *   NUL-padded, so 'ab' equals a field holding "ab" followed by NULs; a
 *   literal longer than N never equals the field.
 * - Comparisons do not chain (a < b < c is an error).
 * - Limits: 64 KiB of text, 64 levels of nesting (parentheses, not, unary
 *   minus), 32 registers ("expression too complex"; the first 24 fields
 *   referenced stay loaded, more are reloaded at each use).
 *
 * Threads: compiling is cold and allocates; call it at job setup. A
 * compiled expression holds the scratch registers its evaluation writes,
 * so each lcore must use its own compiled copy; sl_expr_filter() itself
 * does not allocate, lock or make system calls.
 */

#include <stdint.h>

#include "sl_vec.h"

struct sl_expr;

/** Type of an expression's value. */
enum sl_expr_type {
	SL_EXPR_INT,	/**< int64 */
	SL_EXPR_F64,	/**< double */
	SL_EXPR_BOOL,	/**< usable with sl_expr_filter() */
};

struct sl_expr_err {
	uint32_t pos;		/**< byte offset in the text where it went wrong */
	char msg[160];		/**< what was expected, e.g. "expected ')'" */
};

/**
 * Compile text against a schema. Cold path: allocates; any thread. The
 * result may be of any type (see sl_expr_result_type()); the schema is only
 * read during the call (field offsets are copied).
 * @param text NUL-terminated expression text.
 * @param s the schema of the rows the expression will read.
 * @param err filled on failure with the byte offset of the offending token
 *   and a message saying what was expected (may be NULL).
 * @return a compiled expression owned by the caller (sl_expr_free()), or
 *   NULL with *err filled.
 */
struct sl_expr *sl_expr_compile(const char *text, const struct sl_schema *s,
				struct sl_expr_err *err);

/** Type of the value e computes (e must not be NULL). */
enum sl_expr_type sl_expr_result_type(const struct sl_expr *e);

/**
 * Evaluate a boolean expression over the rows listed in sel_in (n entries)
 * and write the indices of the rows where it is true to sel_out (which may
 * alias sel_in, i.e. be the same array). Row i starts at
 * rows + i * row_size. Hot path: no allocation, lock or system call; runs on
 * the lcore that owns e (it writes e's scratch registers). The order of the
 * selected indices is kept; n may exceed SL_VEC_MAX.
 * Calling it with a non-boolean expression (or a row_size smaller than the
 * schema's) is a programming error: an assert in debug builds, and a
 * return of 0 in release builds.
 * @return the number of indices written.
 */
uint16_t sl_expr_filter(const struct sl_expr *e, const uint8_t *rows,
			uint16_t row_size, const uint16_t *sel_in, uint16_t n,
			uint16_t *sel_out);

/**
 * Evaluate e over the rows listed in sel (n entries) into out[k] for the
 * k-th listed row: int64_t values for SL_EXPR_INT, double for SL_EXPR_F64,
 * uint8_t 0/1 for SL_EXPR_BOOL. The computed fields of a map step. Same
 * hot-path rules as sl_expr_filter(); n may exceed SL_VEC_MAX.
 */
void sl_expr_eval(const struct sl_expr *e, const uint8_t *rows,
		  uint16_t row_size, const uint16_t *sel, uint16_t n, void *out);

/** Free a compiled expression (NULL is fine). */
void sl_expr_free(struct sl_expr *e);

#endif /* SL_EXPR_H */
