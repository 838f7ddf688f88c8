/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN: the lexer turns text into one token at a time (the parser needs
 * one token of lookahead, nothing more). It validates literals completely,
 * so the parser never sees a malformed number: integers must fit in 2^63
 * (the magnitude of INT64_MIN; the parser rejects 2^63 unless negated),
 * floats must be finite, and a number may not run into a letter ("12ab").
 * Keywords are lowercase and case-sensitive: "AND" is a field name.
 */
#include <errno.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_private.h"

#define INT_MAG_MAX ((uint64_t)1 << 63)

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
is_ident(char c)
{
	return is_ident_start(c) || is_digit(c);
}

static int
hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
expr_lex_init(struct expr_lexer *lx, const char *text)
{
	memset(lx, 0, sizeof(*lx));
	lx->text = text;
}

static const struct {
	const char *word;
	enum expr_tok t;
} keywords[] = {
	{ "and", TOK_AND },
	{ "or", TOK_OR },
	{ "not", TOK_NOT },
	{ "true", TOK_TRUE },
	{ "false", TOK_FALSE },
};

static int
lex_number(struct expr_lexer *lx, struct sl_expr_err *err)
{
	const char *t = lx->text;
	uint32_t start = lx->pos, p = start;
	int is_float = 0;
	char *end;

	if (t[p] == '0' && (t[p + 1] == 'x' || t[p + 1] == 'X')) {
		uint64_t v = 0;
		int d;

		p += 2;
		if (hex_val(t[p]) < 0)
			return expr_error(err, start,
					  "malformed number: expected hex digits after '0x'");
		for (; (d = hex_val(t[p])) >= 0; p++) {
			if (v > (INT_MAG_MAX - (uint64_t)d) / 16)
				return expr_error(err, start,
						  "integer literal out of range");
			v = v * 16 + (uint64_t)d;
		}
		if (is_ident(t[p]) || t[p] == '.')
			return expr_error(err, start, "malformed number");
		lx->tok.t = TOK_INT;
		lx->tok.u = v;
		lx->pos = p;
		return 0;
	}

	while (is_digit(t[p]))
		p++;
	if (t[p] == '.') {
		is_float = 1;
		p++;
		while (is_digit(t[p]))
			p++;
	}
	if (t[p] == 'e' || t[p] == 'E') {
		is_float = 1;
		p++;
		if (t[p] == '+' || t[p] == '-')
			p++;
		if (!is_digit(t[p]))
			return expr_error(err, start,
					  "malformed number: expected digits in the exponent");
		while (is_digit(t[p]))
			p++;
	}
	if (is_ident(t[p]) || t[p] == '.')
		return expr_error(err, start, "malformed number");

	if (is_float) {
		/* The span is plain decimal, which strtod reads the same way
		 * (in the C locale's LC_NUMERIC, which a daemon keeps). */
		double d = strtod(t + start, &end);

		if (end != t + p)
			return expr_error(err, start, "malformed number");
		if (d > DBL_MAX)
			return expr_error(err, start, "float literal out of range");
		lx->tok.t = TOK_FLOAT;
		lx->tok.d = d;
	} else {
		uint64_t v = 0;

		for (uint32_t i = start; i < p; i++) {
			uint64_t dv = (uint64_t)(t[i] - '0');

			if (v > (INT_MAG_MAX - dv) / 10)
				return expr_error(err, start,
						  "integer literal out of range");
			v = v * 10 + dv;
		}
		lx->tok.t = TOK_INT;
		lx->tok.u = v;
	}
	lx->pos = p;
	return 0;
}

static int
lex_string(struct expr_lexer *lx, struct sl_expr_err *err)
{
	const char *t = lx->text;
	uint32_t p = lx->pos + 1;

	for (;;) {
		if (t[p] == '\0')
			return expr_error(err, lx->pos,
					  "unterminated string literal");
		if (t[p] == '\'') {
			if (t[p + 1] != '\'')
				break;
			p++;	/* '' is one quote */
		}
		p++;
	}
	lx->tok.t = TOK_STR;
	lx->pos = p + 1;
	return 0;
}

/* Two-character operators first, then one-character ones. */
static int
lex_punct(struct expr_lexer *lx, struct sl_expr_err *err)
{
	const char *t = lx->text + lx->pos;
	enum expr_tok k;
	uint32_t n = 2;

	if (t[0] == '=' && t[1] == '=')
		k = TOK_EQ;
	else if (t[0] == '!' && t[1] == '=')
		k = TOK_NE;
	else if (t[0] == '<' && t[1] == '=')
		k = TOK_LE;
	else if (t[0] == '>' && t[1] == '=')
		k = TOK_GE;
	else if (t[0] == '&' && t[1] == '&')
		k = TOK_AND;
	else if (t[0] == '|' && t[1] == '|')
		k = TOK_OR;
	else {
		n = 1;
		switch (t[0]) {
		case '(': k = TOK_LPAREN; break;
		case ')': k = TOK_RPAREN; break;
		case '<': k = TOK_LT; break;
		case '>': k = TOK_GT; break;
		case '+': k = TOK_PLUS; break;
		case '-': k = TOK_MINUS; break;
		case '*': k = TOK_STAR; break;
		case '/': k = TOK_SLASH; break;
		case '%': k = TOK_PERCENT; break;
		case '!': k = TOK_NOT; break;
		case '=':
			return expr_error(err, lx->pos,
					  "unexpected '='; use '==' to compare");
		case '&':
			return expr_error(err, lx->pos,
					  "unexpected '&'; use '&&' or 'and'");
		case '|':
			return expr_error(err, lx->pos,
					  "unexpected '|'; use '||' or 'or'");
		case '"':
			return expr_error(err, lx->pos,
					  "unexpected '\"'; string literals use single quotes");
		default:
			if (t[0] > 0x20 && t[0] < 0x7f)
				return expr_error(err, lx->pos,
						  "unexpected character '%c'",
						  t[0]);
			return expr_error(err, lx->pos,
					  "unexpected byte 0x%02x",
					  (unsigned int)(unsigned char)t[0]);
		}
	}
	lx->tok.t = k;
	lx->pos += n;
	return 0;
}

int
expr_lex_next(struct expr_lexer *lx, struct sl_expr_err *err)
{
	const char *t = lx->text;
	char c;
	int rc;

	while (is_space(t[lx->pos]))
		lx->pos++;
	memset(&lx->tok, 0, sizeof(lx->tok));
	lx->tok.pos = lx->pos;
	c = t[lx->pos];

	if (c == '\0') {
		lx->tok.t = TOK_EOF;
		return 0;
	}
	if (is_ident_start(c)) {
		uint32_t p = lx->pos;

		while (is_ident(t[p]))
			p++;
		lx->tok.t = TOK_IDENT;
		for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
			size_t kl = strlen(keywords[i].word);

			if (kl == p - lx->pos &&
			    memcmp(t + lx->pos, keywords[i].word, kl) == 0)
				lx->tok.t = keywords[i].t;
		}
		lx->pos = p;
	} else if (is_digit(c) || (c == '.' && is_digit(t[lx->pos + 1]))) {
		rc = lex_number(lx, err);
		if (rc < 0)
			return rc;
	} else if (c == '\'') {
		rc = lex_string(lx, err);
		if (rc < 0)
			return rc;
	} else {
		rc = lex_punct(lx, err);
		if (rc < 0)
			return rc;
	}
	lx->tok.len = lx->pos - lx->tok.pos;
	return 0;
}

void
expr_tok_describe(const struct expr_lexer *lx, const struct expr_token *t,
		  char *buf, size_t len)
{
	const int clip = 24;

	if (t->t == TOK_EOF) {
		snprintf(buf, len, "end of text");
		return;
	}
	if (t->len > (uint32_t)clip)
		snprintf(buf, len, "'%.*s...'", clip, lx->text + t->pos);
	else
		snprintf(buf, len, "'%.*s'", (int)t->len, lx->text + t->pos);
}
