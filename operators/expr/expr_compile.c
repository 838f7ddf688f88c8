/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN: the public constructor and destructor. Compilation is cold (job
 * setup, on the control thread) and may allocate freely; everything the hot
 * path needs, including its scratch registers, is allocated here so that
 * sl_expr_filter() never allocates.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_private.h"

int
expr_error(struct sl_expr_err *err, uint32_t pos, const char *fmt, ...)
{
	va_list ap;

	err->pos = pos;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static enum sl_expr_type
result_type(enum expr_vtype t)
{
	return t == VT_INT ? SL_EXPR_INT : t == VT_F64 ? SL_EXPR_F64 :
	       SL_EXPR_BOOL;
}

struct sl_expr *
sl_expr_compile(const char *text, const struct sl_schema *s,
		struct sl_expr_err *err)
{
	struct sl_expr_err scratch;
	struct expr_parser p;
	struct expr_code c;
	struct sl_expr *e = NULL;
	size_t regs_size;
	int32_t root;
	int rc;

	if (err == NULL)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	memset(&c, 0, sizeof(c));
	if (text == NULL || s == NULL) {
		expr_error(err, 0, text == NULL ? "no expression text" :
			   "no schema");
		return NULL;
	}
	if (strnlen(text, EXPR_MAX_TEXT + 1) > EXPR_MAX_TEXT) {
		expr_error(err, EXPR_MAX_TEXT,
			   "expression longer than %d bytes", EXPR_MAX_TEXT);
		return NULL;
	}

	rc = expr_parse(&p, text, s, err, &root);
	if (rc == 0)
		rc = expr_gen(&p, root, &c);
	if (rc < 0)
		goto out;

	e = calloc(1, sizeof(*e));
	regs_size = (size_t)c.n_regs * sizeof(union expr_reg);
	if (e == NULL ||
	    (e->regs = aligned_alloc(64, regs_size)) == NULL) {
		expr_error(err, 0, "out of memory");
		free(e);
		e = NULL;
		goto out;
	}
	/* Zeroed only so that a dump of the scratch is deterministic. */
	memset(e->regs, 0, regs_size);
	e->type = result_type((enum expr_vtype)p.nodes[root].type);
	e->row_min = s->row_size;
	e->n_regs = c.n_regs;
	e->result = c.result;
	e->n_ins = c.n_ins;
	e->ins = c.ins;
	e->lits = c.lits;
	c.ins = NULL;
	c.lits = NULL;
out:
	free(c.ins);
	free(c.lits);
	free(p.nodes);
	free(p.lits);
	return e;
}

enum sl_expr_type
sl_expr_result_type(const struct sl_expr *e)
{
	return e->type;
}

void
sl_expr_free(struct sl_expr *e)
{
	if (e == NULL)
		return;
	free(e->ins);
	free(e->lits);
	free(e->regs);
	free(e);
}
