/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef EXPR_PRIVATE_H
#define EXPR_PRIVATE_H

/*
 * Internals of the expression module, shared by its files and by nothing
 * else. The pipeline is
 *
 *   text --expr_lex.c--> tokens --expr_parse.c--> typed AST
 *        --expr_gen.c--> bytecode (struct sl_expr) --expr_eval.c--> selection
 *
 * expr_compile.c owns the allocations and ties the stages together.
 *
 * Bytecode model: every register is a column of SL_VEC_MAX values, read as
 * int64_t, double or uint8_t (0/1 bool) depending on the instruction. The
 * first registers are "pinned" columns loaded once per call from the rows
 * (the gather prologue); the rest are temporaries handed out as a stack by
 * the code generator. Each instruction is one loop over n values without
 * branches, so gcc -O2/-O3 can vectorise the arithmetic and compares.
 */

#include <stdint.h>

#include "sl_expr.h"
#include "sl_vec.h"

#define EXPR_MAX_REGS 32	/**< registers per expression (32 x 2 KiB) */
#define EXPR_MAX_PINNED 24	/**< columns loaded once; later ones load at use */
#define EXPR_MAX_NEST 64	/**< parser recursion: parens, not, unary minus */
#define EXPR_MAX_HEIGHT 1024	/**< AST height: bounds code generator recursion */
#define EXPR_MAX_TEXT 65536	/**< longest expression text, in bytes */

/* ---- diagnostics (expr_compile.c) ---- */

/** Fill err (pos, printf-style msg). @return -EINVAL, for `return expr_error()`. */
int expr_error(struct sl_expr_err *err, uint32_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- lexer (expr_lex.c) ---- */

enum expr_tok {
	TOK_EOF = 0,
	TOK_INT,	/* u = magnitude, at most 2^63 (the parser checks the sign) */
	TOK_FLOAT,	/* d = value */
	TOK_STR,	/* 'text' with '' for a quote; pos/len cover the quotes */
	TOK_IDENT,
	TOK_AND,	/* and && */
	TOK_OR,		/* or || */
	TOK_NOT,	/* not ! */
	TOK_TRUE,
	TOK_FALSE,
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_EQ,
	TOK_NE,
	TOK_LT,
	TOK_LE,
	TOK_GT,
	TOK_GE,
	TOK_PLUS,
	TOK_MINUS,
	TOK_STAR,
	TOK_SLASH,
	TOK_PERCENT,
};

struct expr_token {
	enum expr_tok t;
	uint32_t pos;		/* byte offset of the first character */
	uint32_t len;		/* bytes of text the token spans */
	uint64_t u;		/* TOK_INT */
	double d;		/* TOK_FLOAT */
};

struct expr_lexer {
	const char *text;	/* NUL-terminated, at most EXPR_MAX_TEXT bytes */
	uint32_t pos;		/* next byte to scan */
	struct expr_token tok;	/* the current token */
};

void expr_lex_init(struct expr_lexer *lx, const char *text);

/** Scan the next token into lx->tok. @return 0 or -EINVAL with err set. */
int expr_lex_next(struct expr_lexer *lx, struct sl_expr_err *err);

/** Describe a token for messages: "end of text" or 'text' (clipped). */
void expr_tok_describe(const struct expr_lexer *lx, const struct expr_token *t,
		       char *buf, size_t len);

/* ---- typed AST (expr_parse.c) ---- */

enum expr_vtype {
	VT_INT,		/* int64 */
	VT_F64,
	VT_BOOL,
	VT_STRF,	/* a string field: only operand of == / != */
	VT_STRL,	/* a string literal: likewise */
};

enum expr_kind {
	N_FIELD,	/* field; reg = pinned register or -1 (load at use) */
	N_INT,		/* v.i */
	N_F64,		/* v.d */
	N_BOOL,		/* v.i is 0 or 1 */
	N_STR,		/* v.s: literal bytes in parser->lits, unpadded */
	N_STRCMP,	/* field (l) op literal (r); op is TOK_EQ or TOK_NE */
	N_NEG,		/* -l */
	N_NOT,		/* not l */
	N_I2F,		/* (double)l */
	N_BIN,		/* l op r, op a TOK_*; operands already the same type */
};

struct expr_node {
	uint8_t kind;		/* enum expr_kind */
	uint8_t type;		/* enum expr_vtype of the result */
	uint8_t op;		/* enum expr_tok, N_BIN and N_STRCMP */
	uint8_t need;		/* temporaries needed to evaluate it */
	uint16_t height;	/* 1 for a leaf */
	uint16_t field;		/* N_FIELD: schema index */
	int16_t reg;		/* N_FIELD: pinned register, or -1 */
	uint32_t pos;		/* where the subexpression starts in the text */
	int32_t l, r;		/* children (node indices), -1 if none */
	union {
		int64_t i;
		double d;
		struct {
			uint32_t off, len;
		} s;
	} v;
};

struct expr_parser {
	struct expr_lexer lx;
	const struct sl_schema *s;
	struct sl_expr_err *err;
	struct expr_node *nodes;	/* grown with realloc: compile is cold */
	uint32_t n_nodes, cap_nodes;
	uint8_t *lits;			/* decoded string literal bytes */
	uint32_t n_lits, cap_lits;
	int16_t field_reg[SL_SCHEMA_MAX_FIELDS];	/* -1: not pinned */
	uint16_t pinned[EXPR_MAX_PINNED];	/* field index per pinned reg */
	uint16_t n_pinned;
	int depth;			/* current parser recursion */
};

/**
 * Parse and type-check text against s. On success *root is the root node;
 * the caller frees p->nodes and p->lits either way.
 * @return 0 or a negative errno with p->err filled.
 */
int expr_parse(struct expr_parser *p, const char *text,
	       const struct sl_schema *s, struct sl_expr_err *err,
	       int32_t *root);

/** Name of a value type for messages ("integer", "string field", ...). */
const char *expr_vtype_name(enum expr_vtype t);

/* ---- bytecode (expr_gen.c, expr_eval.c) ---- */

enum expr_op {
	/* gather: dst <- column at byte offset off of each selected row */
	OP_LD_I64,	/* i64, u64 (two's complement), timestamp_ms */
	OP_LD_I32,
	OP_LD_U32,
	OP_LD_BOOL,	/* any non-zero byte is true */
	OP_LD_F64,
	OP_STR_EQ,	/* dst.b <- memcmp(row + off, lits + lit, len) == 0 */
	OP_STR_NE,
	/* constants: dst <- k broadcast */
	OP_K_I,
	OP_K_F,
	OP_K_B,
	/* unary: dst <- op a */
	OP_I2F,
	OP_NEG_I,	/* wraps: -INT64_MIN == INT64_MIN */
	OP_NEG_F,
	OP_NOT,
	/* int64 binary: dst <- a op b (add/sub/mul wrap; / and % by 0 give 0) */
	OP_ADD_I,
	OP_SUB_I,
	OP_MUL_I,
	OP_DIV_I,	/* INT64_MIN / -1 == INT64_MIN */
	OP_MOD_I,	/* sign of the dividend, as C99 and Java */
	/* double binary (IEEE: x / 0 is inf or NaN) */
	OP_ADD_F,
	OP_SUB_F,
	OP_MUL_F,
	OP_DIV_F,
	/* compares into bool; > and >= are < and <= with swapped operands */
	OP_EQ_I,
	OP_NE_I,
	OP_LT_I,
	OP_LE_I,
	OP_EQ_F,
	OP_NE_F,
	OP_LT_F,
	OP_LE_F,
	OP_EQ_B,
	OP_NE_B,
	/* logic: no short-circuit, nothing on a row can trap */
	OP_AND,
	OP_OR,
	OP__COUNT
};

struct expr_ins {
	uint8_t op;		/* enum expr_op */
	uint8_t dst, a, b;	/* registers */
	uint16_t off;		/* OP_LD_*, OP_STR_*: byte offset in the row */
	uint16_t len;		/* OP_STR_*: field length */
	uint32_t lit;		/* OP_STR_*: offset of the padded literal */
	union {
		int64_t i;	/* OP_K_I, OP_K_B */
		double d;	/* OP_K_F */
	} k;
};

/* One register: a column of values. Each instruction reads and writes it
 * through one member only. */
union expr_reg {
	int64_t i[SL_VEC_MAX];
	double d[SL_VEC_MAX];
	uint8_t b[SL_VEC_MAX];
};

/*
 * A compiled expression. Written once by sl_expr_compile() and read-only
 * afterwards, except regs: sl_expr_filter() uses them as scratch, which is
 * why an expression belongs to one lcore.
 */
struct sl_expr {
	enum sl_expr_type type;
	uint16_t row_min;	/* bytes a row needs: the schema's row size */
	uint8_t n_regs;
	uint8_t result;		/* register holding the value after the run */
	uint32_t n_ins;
	struct expr_ins *ins;
	uint8_t *lits;		/* string literals, each padded to its field */
	union expr_reg *regs;	/* n_regs registers, 64-byte aligned */
};

/** Code generation buffer, grown by expr_gen(). */
struct expr_code {
	struct expr_ins *ins;
	uint32_t n_ins, cap_ins;
	uint8_t *lits;
	uint32_t n_lits, cap_lits;
	uint8_t n_regs, result;
};

/**
 * Generate bytecode for the tree at root (the parser's output).
 * @return 0 or a negative errno with p->err filled; the caller frees the
 *   code buffers either way unless it takes them.
 */
int expr_gen(const struct expr_parser *p, int32_t root, struct expr_code *c);

/** Run the instructions over sel[0..n), n <= SL_VEC_MAX. */
void expr_run(const struct sl_expr *e, const uint8_t *rows, uint16_t row_size,
	      const uint16_t *sel, unsigned int n);

#endif /* EXPR_PRIVATE_H */
