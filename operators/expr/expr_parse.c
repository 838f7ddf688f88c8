/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN: a recursive-descent parser, one function per grammar rule of
 * sl_expr.h, that type-checks as it builds each node. Checking at
 * construction means every error points at the operand that is wrong (the
 * start of that subexpression), and the tree handed to the code generator
 * is already well typed, with int operands of mixed arithmetic wrapped in
 * N_I2F nodes.
 *
 * Bounds, so hostile text cannot blow the stack or the register file:
 * - recursion (parentheses, not, unary minus) is limited to EXPR_MAX_NEST;
 * - the tree's height to EXPR_MAX_HEIGHT, because long binary chains are
 *   loops here but recursion in the code generator;
 * - each node records how many temporary registers it needs (Sethi-Ullman
 *   numbering over a stack allocator), which expr_gen() uses to order
 *   operands and to report "expression too complex".
 *
 * Folding is limited to what the language needs: unary minus on a literal
 * (so -9223372036854775808 is writable) and int-to-double of a literal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_private.h"

#define NODE(p, i) (&(p)->nodes[(i)])

static int32_t parse_or(struct expr_parser *p);

const char *
expr_vtype_name(enum expr_vtype t)
{
	switch (t) {
	case VT_INT:
		return "integer";
	case VT_F64:
		return "double";
	case VT_BOOL:
		return "boolean";
	case VT_STRF:
		return "string field";
	case VT_STRL:
		return "string literal";
	}
	return "?";
}

static int
next(struct expr_parser *p)
{
	return expr_lex_next(&p->lx, p->err);
}

static int
enter(struct expr_parser *p, uint32_t pos)
{
	if (++p->depth > EXPR_MAX_NEST)
		return expr_error(p->err, pos, "expression nested too deeply");
	return 0;
}

static int32_t
node_new(struct expr_parser *p, enum expr_kind kind, enum expr_vtype type,
	 uint32_t pos)
{
	struct expr_node *n;

	if (p->n_nodes == p->cap_nodes) {
		uint32_t cap = p->cap_nodes ? p->cap_nodes * 2 : 64;
		struct expr_node *nn = realloc(p->nodes, cap * sizeof(*nn));

		if (nn == NULL) {
			expr_error(p->err, pos, "out of memory");
			return -ENOMEM;
		}
		p->nodes = nn;
		p->cap_nodes = cap;
	}
	n = NODE(p, p->n_nodes);
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->type = type;
	n->pos = pos;
	n->l = -1;
	n->r = -1;
	n->reg = -1;
	n->height = 1;
	n->need = kind == N_FIELD || kind == N_STR ? 0 : 1;
	return (int32_t)p->n_nodes++;
}

/* Does the value of n occupy a temporary once computed? Pinned columns don't. */
static unsigned int
holds(const struct expr_node *n)
{
	return !(n->kind == N_FIELD && n->reg >= 0);
}

static unsigned int
max_u(unsigned int a, unsigned int b)
{
	return a > b ? a : b;
}

/* Peak temporaries when a is evaluated first and kept while b runs. */
static unsigned int
peak(const struct expr_node *a, const struct expr_node *b)
{
	return max_u(max_u(a->need, holds(a) + b->need), 1);
}

static int
set_height(struct expr_parser *p, int32_t i, int32_t l, int32_t r)
{
	struct expr_node *n = NODE(p, i);
	unsigned int h = NODE(p, l)->height;

	if (r >= 0)
		h = max_u(h, NODE(p, r)->height);
	if (h + 1 > EXPR_MAX_HEIGHT)
		return expr_error(p->err, n->pos, "expression too complex");
	n->height = (uint16_t)(h + 1);
	return 0;
}

static int32_t
mk_unary(struct expr_parser *p, enum expr_kind kind, enum expr_vtype type,
	 int32_t c, uint32_t pos)
{
	int32_t i = node_new(p, kind, type, pos);
	int rc;

	if (i < 0)
		return i;
	NODE(p, i)->l = c;
	NODE(p, i)->need = (uint8_t)max_u(NODE(p, c)->need, 1);
	rc = set_height(p, i, c, -1);
	return rc < 0 ? rc : i;
}

static int32_t
mk_bin(struct expr_parser *p, enum expr_tok op, enum expr_vtype type,
       int32_t l, int32_t r)
{
	int32_t i = node_new(p, N_BIN, type, NODE(p, l)->pos);
	unsigned int lr, rl;
	int rc;

	if (i < 0)
		return i;
	NODE(p, i)->op = (uint8_t)op;
	NODE(p, i)->l = l;
	NODE(p, i)->r = r;
	lr = peak(NODE(p, l), NODE(p, r));
	rl = peak(NODE(p, r), NODE(p, l));
	NODE(p, i)->need = (uint8_t)(lr < rl ? (lr < 255 ? lr : 255) :
				     (rl < 255 ? rl : 255));
	rc = set_height(p, i, l, r);
	return rc < 0 ? rc : i;
}

static enum expr_vtype
vtype(const struct expr_parser *p, int32_t i)
{
	return (enum expr_vtype)NODE(p, i)->type;
}

static int
is_num(enum expr_vtype t)
{
	return t == VT_INT || t == VT_F64;
}

static int
want_bool(struct expr_parser *p, int32_t i)
{
	if (vtype(p, i) == VT_BOOL)
		return 0;
	return expr_error(p->err, NODE(p, i)->pos,
			  "expected a boolean expression, got %s",
			  expr_vtype_name(vtype(p, i)));
}

static int
want_num(struct expr_parser *p, int32_t i)
{
	if (is_num(vtype(p, i)))
		return 0;
	return expr_error(p->err, NODE(p, i)->pos, "expected a number, got %s",
			  expr_vtype_name(vtype(p, i)));
}

/* Operand of < <= > >=: say why a boolean or a string is not one. */
static int
want_ordered(struct expr_parser *p, int32_t i)
{
	enum expr_vtype t = vtype(p, i);

	if (is_num(t))
		return 0;
	return expr_error(p->err, NODE(p, i)->pos,
			  "expected a number, got %s (%s compare only with == and !=)",
			  expr_vtype_name(t),
			  t == VT_BOOL ? "booleans" : "strings");
}

/* Int to double: folded for literals, a conversion node otherwise. */
static int32_t
to_f64(struct expr_parser *p, int32_t i)
{
	if (vtype(p, i) != VT_INT)
		return i;
	if (NODE(p, i)->kind == N_INT) {
		NODE(p, i)->kind = N_F64;
		NODE(p, i)->type = VT_F64;
		NODE(p, i)->v.d = (double)NODE(p, i)->v.i;
		return i;
	}
	return mk_unary(p, N_I2F, VT_F64, i, NODE(p, i)->pos);
}

/* Bring two numeric operands to one type; int meets double as double. */
static int
promote(struct expr_parser *p, int32_t *l, int32_t *r)
{
	if (vtype(p, *l) == vtype(p, *r))
		return 0;
	*l = to_f64(p, *l);
	if (*l < 0)
		return *l;
	*r = to_f64(p, *r);
	return *r < 0 ? *r : 0;
}

static int32_t
parse_field(struct expr_parser *p)
{
	const struct expr_token *t = &p->lx.tok;
	const char *name = p->lx.text + t->pos;
	enum expr_vtype vt;
	struct sl_field const *f;
	int32_t i;
	int fi = -1;

	if (t->len < SL_NAME_MAX) {
		for (int k = 0; k < p->s->n_fields; k++) {
			if (strncmp(p->s->f[k].name, name, t->len) == 0 &&
			    p->s->f[k].name[t->len] == '\0') {
				fi = k;
				break;
			}
		}
	}
	if (fi < 0) {
		char m[sizeof(p->err->msg)];
		size_t o, room = sizeof(m) - 4;	/* keep space for "..." */

		o = (size_t)snprintf(m, sizeof(m), "unknown field '%.*s%s'",
				     (int)(t->len > 40 ? 40 : t->len), name,
				     t->len > 40 ? "..." : "");
		if (p->s->n_fields == 0) {
			snprintf(m + o, sizeof(m) - o, "; the schema has no fields");
		} else {
			o += (size_t)snprintf(m + o, sizeof(m) - o,
					      "; fields are: ");
			for (int k = 0; k < p->s->n_fields; k++) {
				const char *fn = p->s->f[k].name;
				size_t need = strlen(fn) + (k ? 2 : 0);

				if (o + need >= room) {
					snprintf(m + o, sizeof(m) - o, "...");
					break;
				}
				o += (size_t)snprintf(m + o, sizeof(m) - o,
						      "%s%s", k ? ", " : "", fn);
			}
		}
		return expr_error(p->err, t->pos, "%s", m);
	}

	f = &p->s->f[fi];
	switch (f->type) {
	case SL_T_STR:
		vt = VT_STRF;
		break;
	case SL_T_F64:
		vt = VT_F64;
		break;
	case SL_T_BOOL:
		vt = VT_BOOL;
		break;
	default:
		vt = VT_INT;
		break;
	}
	i = node_new(p, N_FIELD, vt, t->pos);
	if (i < 0)
		return i;
	NODE(p, i)->field = (uint16_t)fi;
	if (vt != VT_STRF) {
		/* The first EXPR_MAX_PINNED columns are gathered once per call;
		 * any more load into a temporary at each use. */
		if (p->field_reg[fi] < 0 && p->n_pinned < EXPR_MAX_PINNED) {
			p->field_reg[fi] = (int16_t)p->n_pinned;
			p->pinned[p->n_pinned++] = (uint16_t)fi;
		}
		NODE(p, i)->reg = p->field_reg[fi];
		NODE(p, i)->need = NODE(p, i)->reg < 0;
	}
	return i;
}

static int32_t
parse_string(struct expr_parser *p)
{
	const struct expr_token *t = &p->lx.tok;
	const char *s = p->lx.text + t->pos + 1;
	uint32_t n = t->len - 2, start;
	int32_t i;

	if (p->n_lits + n > p->cap_lits) {
		uint32_t cap = p->cap_lits ? p->cap_lits : 64;
		uint8_t *nl;

		while (cap < p->n_lits + n)
			cap *= 2;
		nl = realloc(p->lits, cap);
		if (nl == NULL) {
			expr_error(p->err, t->pos, "out of memory");
			return -ENOMEM;
		}
		p->lits = nl;
		p->cap_lits = cap;
	}
	start = p->n_lits;
	for (uint32_t k = 0; k < n; k++) {
		p->lits[p->n_lits++] = (uint8_t)s[k];
		if (s[k] == '\'')
			k++;	/* '' decodes to one quote */
	}
	i = node_new(p, N_STR, VT_STRL, t->pos);
	if (i < 0)
		return i;
	NODE(p, i)->v.s.off = start;
	NODE(p, i)->v.s.len = p->n_lits - start;
	return i;
}

static int32_t
parse_atom(struct expr_parser *p)
{
	const struct expr_token *t = &p->lx.tok;
	char got[48];
	int32_t i;
	int rc;

	switch (t->t) {
	case TOK_INT:
		if (t->u > (uint64_t)INT64_MAX)
			return expr_error(p->err, t->pos,
					  "integer literal out of range");
		i = node_new(p, N_INT, VT_INT, t->pos);
		if (i >= 0)
			NODE(p, i)->v.i = (int64_t)t->u;
		break;
	case TOK_FLOAT:
		i = node_new(p, N_F64, VT_F64, t->pos);
		if (i >= 0)
			NODE(p, i)->v.d = t->d;
		break;
	case TOK_TRUE:
	case TOK_FALSE:
		i = node_new(p, N_BOOL, VT_BOOL, t->pos);
		if (i >= 0)
			NODE(p, i)->v.i = t->t == TOK_TRUE;
		break;
	case TOK_STR:
		i = parse_string(p);
		break;
	case TOK_IDENT:
		i = parse_field(p);
		break;
	case TOK_LPAREN: {
		uint32_t lpos = t->pos;

		rc = enter(p, lpos);
		if (rc < 0)
			return rc;
		rc = next(p);
		if (rc < 0)
			return rc;
		i = parse_or(p);
		if (i < 0)
			return i;
		p->depth--;
		if (p->lx.tok.t != TOK_RPAREN) {
			expr_tok_describe(&p->lx, &p->lx.tok, got, sizeof(got));
			return expr_error(p->err, p->lx.tok.pos,
					  "expected ')', got %s", got);
		}
		/* Errors about this operand point at its '('. */
		NODE(p, i)->pos = lpos;
		break;
	}
	default:
		expr_tok_describe(&p->lx, t, got, sizeof(got));
		return expr_error(p->err, t->pos,
				  "expected an expression, got %s", got);
	}
	if (i < 0)
		return i;
	rc = next(p);
	return rc < 0 ? rc : i;
}

static int32_t
parse_unary(struct expr_parser *p)
{
	uint32_t pos = p->lx.tok.pos;
	struct expr_node *n;
	int32_t c;
	int rc;

	if (p->lx.tok.t != TOK_MINUS)
		return parse_atom(p);
	rc = next(p);
	if (rc < 0)
		return rc;
	if (p->lx.tok.t == TOK_INT) {
		/* A negated literal is one constant, so INT64_MIN is writable. */
		c = node_new(p, N_INT, VT_INT, pos);
		if (c < 0)
			return c;
		NODE(p, c)->v.i = (int64_t)(0 - p->lx.tok.u);
		rc = next(p);
		return rc < 0 ? rc : c;
	}
	rc = enter(p, pos);
	if (rc < 0)
		return rc;
	c = parse_unary(p);
	if (c < 0)
		return c;
	p->depth--;
	rc = want_num(p, c);
	if (rc < 0)
		return rc;
	n = NODE(p, c);
	if (n->kind == N_INT) {
		n->v.i = (int64_t)(0 - (uint64_t)n->v.i);	/* wraps */
		n->pos = pos;
		return c;
	}
	if (n->kind == N_F64) {
		n->v.d = -n->v.d;
		n->pos = pos;
		return c;
	}
	return mk_unary(p, N_NEG, vtype(p, c), c, pos);
}

static int32_t
parse_prod(struct expr_parser *p)
{
	int32_t l = parse_unary(p), r;
	int rc;

	while (l >= 0 && (p->lx.tok.t == TOK_STAR || p->lx.tok.t == TOK_SLASH ||
			  p->lx.tok.t == TOK_PERCENT)) {
		enum expr_tok op = p->lx.tok.t;

		rc = next(p);
		if (rc < 0)
			return rc;
		r = parse_unary(p);
		if (r < 0)
			return r;
		rc = want_num(p, l);
		if (rc == 0)
			rc = want_num(p, r);
		if (rc < 0)
			return rc;
		if (op == TOK_PERCENT) {
			int32_t bad = vtype(p, l) == VT_F64 ? l :
				      vtype(p, r) == VT_F64 ? r : -1;

			if (bad >= 0)
				return expr_error(p->err, NODE(p, bad)->pos,
						  "expected an integer operand of '%%', got double");
		}
		rc = promote(p, &l, &r);
		if (rc < 0)
			return rc;
		l = mk_bin(p, op, vtype(p, l), l, r);
	}
	return l;
}

static int32_t
parse_sum(struct expr_parser *p)
{
	int32_t l = parse_prod(p), r;
	int rc;

	while (l >= 0 && (p->lx.tok.t == TOK_PLUS || p->lx.tok.t == TOK_MINUS)) {
		enum expr_tok op = p->lx.tok.t;

		rc = next(p);
		if (rc < 0)
			return rc;
		r = parse_prod(p);
		if (r < 0)
			return r;
		rc = want_num(p, l);
		if (rc == 0)
			rc = want_num(p, r);
		if (rc < 0)
			return rc;
		rc = promote(p, &l, &r);
		if (rc < 0)
			return rc;
		l = mk_bin(p, op, vtype(p, l), l, r);
	}
	return l;
}

static int
is_cmp(enum expr_tok t)
{
	return t == TOK_EQ || t == TOK_NE || t == TOK_LT || t == TOK_LE ||
	       t == TOK_GT || t == TOK_GE;
}

static int
is_str(enum expr_vtype t)
{
	return t == VT_STRF || t == VT_STRL;
}

/* A string field against a literal, either way round. */
static int32_t
mk_strcmp(struct expr_parser *p, enum expr_tok op, int32_t l, int32_t r)
{
	int32_t fld = vtype(p, l) == VT_STRF ? l : r;
	int32_t lit = fld == l ? r : l;
	int32_t i = node_new(p, N_STRCMP, VT_BOOL, NODE(p, l)->pos);

	if (i < 0)
		return i;
	NODE(p, i)->op = (uint8_t)op;
	NODE(p, i)->l = fld;
	NODE(p, i)->r = lit;
	NODE(p, i)->height = 2;
	return i;
}

static int32_t
typecheck_cmp(struct expr_parser *p, enum expr_tok op, int32_t l, int32_t r)
{
	enum expr_vtype lt = vtype(p, l), rt = vtype(p, r);
	int eq = op == TOK_EQ || op == TOK_NE;
	int rc;

	if (is_str(lt) || is_str(rt)) {
		if (!eq)
			return want_ordered(p, is_str(lt) ? l : r);
		if (lt == VT_STRF && rt == VT_STRL)
			return mk_strcmp(p, op, l, r);
		if (lt == VT_STRL && rt == VT_STRF)
			return mk_strcmp(p, op, l, r);
		if (lt == VT_STRF)
			return expr_error(p->err, NODE(p, r)->pos,
					  "expected a string literal, got %s",
					  expr_vtype_name(rt));
		if (lt == VT_STRL)
			return expr_error(p->err, NODE(p, r)->pos,
					  "expected a string field, got %s",
					  expr_vtype_name(rt));
		/* fall through: a number or boolean against a string */
	}
	if (lt == VT_BOOL) {
		if (!eq)
			return want_ordered(p, l);
		if (rt != VT_BOOL)
			return expr_error(p->err, NODE(p, r)->pos,
					  "expected a boolean, got %s",
					  expr_vtype_name(rt));
	} else {
		rc = eq ? want_num(p, r) : want_ordered(p, r);
		if (rc < 0)
			return rc;
		rc = promote(p, &l, &r);
		if (rc < 0)
			return rc;
	}
	return mk_bin(p, op, VT_BOOL, l, r);
}

static int32_t
parse_cmp(struct expr_parser *p)
{
	int32_t l = parse_sum(p), r;
	enum expr_tok op;
	int rc;

	if (l < 0 || !is_cmp(p->lx.tok.t))
		return l;
	op = p->lx.tok.t;
	rc = next(p);
	if (rc < 0)
		return rc;
	r = parse_sum(p);
	if (r < 0)
		return r;
	if (is_cmp(p->lx.tok.t))
		return expr_error(p->err, p->lx.tok.pos,
				  "comparisons do not chain; combine them with 'and'");
	return typecheck_cmp(p, op, l, r);
}

static int32_t
parse_not(struct expr_parser *p)
{
	uint32_t pos = p->lx.tok.pos;
	int32_t c;
	int rc;

	if (p->lx.tok.t != TOK_NOT)
		return parse_cmp(p);
	rc = enter(p, pos);
	if (rc < 0)
		return rc;
	rc = next(p);
	if (rc < 0)
		return rc;
	c = parse_not(p);
	if (c < 0)
		return c;
	p->depth--;
	rc = want_bool(p, c);
	if (rc < 0)
		return rc;
	return mk_unary(p, N_NOT, VT_BOOL, c, pos);
}

/* A left-associative run of boolean operator tok over operands of sub. */
static int32_t
parse_bool_chain(struct expr_parser *p, enum expr_tok tok,
		 int32_t (*sub)(struct expr_parser *))
{
	int32_t l = sub(p), r;
	int rc;

	while (l >= 0 && p->lx.tok.t == tok) {
		rc = next(p);
		if (rc < 0)
			return rc;
		r = sub(p);
		if (r < 0)
			return r;
		rc = want_bool(p, l);
		if (rc == 0)
			rc = want_bool(p, r);
		if (rc < 0)
			return rc;
		l = mk_bin(p, tok, VT_BOOL, l, r);
	}
	return l;
}

static int32_t
parse_and(struct expr_parser *p)
{
	return parse_bool_chain(p, TOK_AND, parse_not);
}

static int32_t
parse_or(struct expr_parser *p)
{
	return parse_bool_chain(p, TOK_OR, parse_and);
}

int
expr_parse(struct expr_parser *p, const char *text, const struct sl_schema *s,
	   struct sl_expr_err *err, int32_t *root)
{
	char got[48];
	int32_t r;
	int rc;

	memset(p, 0, sizeof(*p));
	expr_lex_init(&p->lx, text);
	p->s = s;
	p->err = err;
	for (int i = 0; i < SL_SCHEMA_MAX_FIELDS; i++)
		p->field_reg[i] = -1;

	rc = next(p);
	if (rc < 0)
		return rc;
	r = parse_or(p);
	if (r < 0)
		return r;
	if (p->lx.tok.t != TOK_EOF) {
		if (p->lx.tok.t == TOK_RPAREN)
			return expr_error(err, p->lx.tok.pos, "unmatched ')'");
		expr_tok_describe(&p->lx, &p->lx.tok, got, sizeof(got));
		return expr_error(err, p->lx.tok.pos,
				  "expected an operator or end of text, got %s",
				  got);
	}
	if (is_str(vtype(p, r)))
		return expr_error(err, NODE(p, r)->pos,
				  "expected a number or boolean expression, got %s",
				  expr_vtype_name(vtype(p, r)));
	*root = r;
	return 0;
}
