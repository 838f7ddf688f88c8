/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * YAML text -> plan_node tree, through libfyaml's event parser.
 *
 * The event API is used rather than fy_document_build_*() because libfyaml
 * 0.7 gives no position for mapping and sequence nodes of a document, and
 * every validation error must name one. Duplicate keys and aliases are
 * rejected here, with the position of the offending key or alias.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "plan_private.h"

struct yb {
	struct plan_ctx *c;
	struct fy_parser *fyp;
	struct fy_diag *diag;
	const char *src;	/* the YAML text, for single-quoted scalars */
	size_t src_len;
	uint32_t line;		/* last position seen, for nodes without a mark */
	uint32_t col;
	char out[SL_PLAN_ERR_MAX];	/* uncollected diagnostics, if any */
	size_t out_len;
};

/*
 * libfyaml must never write to stderr on its own: errors are collected
 * (fy_diag_set_collect_errors) and anything else it still emits lands here.
 */
static void
yb_diag_out(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	struct yb *b = user;
	size_t room = sizeof(b->out) - 1 - b->out_len;

	(void)diag;
	if (len > room)
		len = room;
	memcpy(b->out + b->out_len, buf, len);
	b->out_len += len;
	b->out[b->out_len] = '\0';
}

static void
yb_mark(struct yb *b, const struct fy_mark *m, struct plan_node *n)
{
	if (m != NULL && m->line >= 0 && m->column >= 0) {
		b->line = (uint32_t)m->line + 1;
		b->col = (uint32_t)m->column + 1;
	}
	if (n != NULL) {
		n->line = b->line;
		n->col = b->col;
	}
}

/* The first error libfyaml collected, with its own position. */
static int
yb_syntax_error(struct yb *b)
{
	struct fy_diag_error *de;
	void *it = NULL;
	char *nl;

	while ((de = fy_diag_errors_iterate(b->diag, &it)) != NULL) {
		if (de->type < FYET_ERROR || de->msg == NULL)
			continue;
		return plan_err_at(b->c, de->line > 0 ? (uint32_t)de->line : b->line,
				   de->column > 0 ? (uint32_t)de->column : b->col,
				   "invalid YAML: %s", de->msg);
	}
	/* Not collected: keep the first line of whatever it printed. */
	nl = strchr(b->out, '\n');
	if (nl != NULL)
		*nl = '\0';
	return plan_err_at(b->c, b->line, b->col, "invalid YAML: %s",
			   b->out[0] ? b->out : "unexpected end of input");
}

static int
yb_next(struct yb *b, struct fy_event **ev)
{
	*ev = fy_parser_parse(b->fyp);
	if (*ev == NULL)
		return yb_syntax_error(b);
	return 0;
}

void
plan_node_free(struct plan_node *n)
{
	if (n == NULL)
		return;
	for (uint32_t i = 0; i < n->nkid; i++)
		plan_node_free(n->kid[i]);
	free(n->kid);
	free(n->text);
	free(n);
}

static int
yb_add_kid(struct plan_node *parent, struct plan_node *kid)
{
	if (parent->nkid == parent->cap) {
		uint32_t ncap = parent->cap ? parent->cap * 2 : 8;
		struct plan_node **k = realloc(parent->kid, ncap * sizeof(*k));

		if (k == NULL)
			return -ENOMEM;
		parent->kid = k;
		parent->cap = ncap;
	}
	parent->kid[parent->nkid++] = kid;
	parent->n = parent->kind == PLAN_MAP ? parent->nkid / 2 : parent->nkid;
	return 0;
}

static int yb_build(struct yb *b, struct fy_event *ev, int depth,
		    struct plan_node **out);

static int
yb_check_key(struct yb *b, const struct plan_node *map,
	     const struct plan_node *key)
{
	char show[PLAN_SHOW_MAX];

	if (key->kind != PLAN_SCALAR)
		return plan_err(b->c, key, "mapping keys must be scalars, got %s",
				plan_kind_name(key));
	for (uint32_t i = 0; i < map->n; i++) {
		const struct plan_node *k = map->kid[2 * i];

		if (k->len == key->len && memcmp(k->text, key->text, k->len) == 0)
			return plan_err(b->c, key, "duplicate key '%s'",
					plan_show(key->text, show));
	}
	return 0;
}

static int
yb_collection(struct yb *b, struct plan_node *n, int depth,
	      enum fy_event_type end)
{
	struct fy_event *ev;
	int rc;

	if (depth >= PLAN_MAX_DEPTH)
		return plan_err(b->c, n, "nesting deeper than %d levels",
				PLAN_MAX_DEPTH);
	for (;;) {
		struct plan_node *kid = NULL;

		rc = yb_next(b, &ev);
		if (rc < 0)
			return rc;
		if (ev->type == end) {
			fy_parser_event_free(b->fyp, ev);
			return 0;
		}
		rc = yb_build(b, ev, depth + 1, &kid);
		fy_parser_event_free(b->fyp, ev);
		if (rc == 0 && n->kind == PLAN_MAP && !(n->nkid & 1))
			rc = yb_check_key(b, n, kid);
		if (rc == 0 && n->n >= PLAN_MAX_ENTRIES)
			rc = plan_err(b->c, kid, "more than %d entries in one collection",
				      PLAN_MAX_ENTRIES);
		if (rc == 0)
			rc = yb_add_kid(n, kid);
		if (rc < 0) {
			plan_node_free(kid);
			return rc == -ENOMEM ?
				plan_err(b->c, n, "out of memory") : rc;
		}
	}
}

/*
 * Decode a single-quoted scalar from its source bytes (raw, between the
 * quotes): YAML line folding, then '' -> '. libfyaml 0.7.12 leaks the text
 * buffer of fy_token_get_text() for such scalars with runs of '' escapes
 * (found by fuzz_job), so it is not asked for them.
 */
static char *
sq_decode(const char *raw, size_t len, size_t *outlen)
{
	char *out = malloc(len + 1);
	size_t o = 0, i = 0, blank = 0;
	bool first = true;

	if (out == NULL)
		return NULL;
	while (i <= len) {
		size_t start = i, end;

		while (i < len && raw[i] != '\n')
			i++;
		end = i;
		/* All lines but the first lose leading blanks, all but the last trailing. */
		if (!first)
			while (start < end && (raw[start] == ' ' || raw[start] == '\t'))
				start++;
		if (i < len)
			while (end > start && (raw[end - 1] == ' ' ||
					       raw[end - 1] == '\t' ||
					       raw[end - 1] == '\r'))
				end--;
		if (!first && start == end && i < len) {
			blank++;	/* an empty inner line is a kept newline */
		} else {
			if (!first) {
				if (blank == 0)
					out[o++] = ' ';
				for (; blank > 0; blank--)
					out[o++] = '\n';
			}
			for (size_t j = start; j < end; j++) {
				out[o++] = raw[j];
				if (raw[j] == '\'' && j + 1 < end && raw[j + 1] == '\'')
					j++;
			}
		}
		first = false;
		i++;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

static int
yb_scalar(struct yb *b, struct fy_event *ev, struct plan_node *n)
{
	struct fy_token *t = ev->scalar.value;
	const char *text = "";
	size_t len = 0;

	if (t != NULL) {
		enum fy_scalar_style st = fy_token_scalar_style(t);

		const struct fy_mark *m0 = fy_token_start_mark(t);
		const struct fy_mark *m1 = fy_token_end_mark(t);

		if (st == FYSS_SINGLE_QUOTED && m0 != NULL && m1 != NULL &&
		    m0->input_pos <= m1->input_pos &&
		    m1->input_pos <= b->src_len) {
			n->text = sq_decode(b->src + m0->input_pos,
					    m1->input_pos - m0->input_pos, &len);
			if (n->text == NULL)
				return plan_err(b->c, n, "out of memory");
			text = n->text;
		} else {
			text = fy_token_get_text(t, &len);
		}
		if (text == NULL)
			return plan_err(b->c, n, "out of memory");
		n->quoted = st == FYSS_SINGLE_QUOTED || st == FYSS_DOUBLE_QUOTED;
		/*
		 * Byte offsets into the text map onto columns only when the
		 * text is the source verbatim: one line, no escapes. The
		 * marks of a quoted scalar exclude its quotes.
		 */
		n->exact = (st == FYSS_PLAIN || n->quoted) &&
			   fy_token_start_mark(t) && fy_token_end_mark(t) &&
			   fy_token_start_mark(t)->line ==
			   fy_token_end_mark(t)->line &&
			   fy_token_end_mark(t)->input_pos -
			   fy_token_start_mark(t)->input_pos ==
			   len;
	} else {
		n->null = true;
	}
	if (memchr(text, '\0', len) != NULL)
		return plan_err(b->c, n, "NUL characters are not allowed");
	if (n->text != NULL) {
		n->len = len;
		return 0;
	}
	n->text = malloc(len + 1);
	if (n->text == NULL)
		return plan_err(b->c, n, "out of memory");
	memcpy(n->text, text, len);
	n->text[len] = '\0';
	n->len = len;
	return 0;
}

static int
yb_build(struct yb *b, struct fy_event *ev, int depth, struct plan_node **out)
{
	struct plan_node *n = calloc(1, sizeof(*n));
	int rc;

	if (n == NULL)
		return plan_err_at(b->c, b->line, b->col, "out of memory");
	yb_mark(b, fy_event_start_mark(ev), n);
	switch (ev->type) {
	case FYET_SCALAR:
		n->kind = PLAN_SCALAR;
		rc = yb_scalar(b, ev, n);
		break;
	case FYET_MAPPING_START:
		n->kind = PLAN_MAP;
		rc = yb_collection(b, n, depth, FYET_MAPPING_END);
		break;
	case FYET_SEQUENCE_START:
		n->kind = PLAN_SEQ;
		rc = yb_collection(b, n, depth, FYET_SEQUENCE_END);
		break;
	case FYET_ALIAS:
		rc = plan_err(b->c, n, "YAML aliases are not supported");
		break;
	default:
		rc = plan_err(b->c, n, "invalid YAML: unexpected event");
		break;
	}
	if (rc < 0) {
		plan_node_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

/*
 * Length of the valid UTF-8 sequence at s (n bytes left), or 0. Checked up
 * front because libfyaml 0.7.12 loops forever on some invalid sequences
 * (found by fuzz_job: "%\x90" in a directive).
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	cp = s[0] & (0x7f >> len);
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static int
check_text(struct plan_ctx *c, const char *yaml, size_t len)
{
	const unsigned char *s = (const unsigned char *)yaml;
	uint32_t line = 1, col = 1;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_len(s + i, len - i);

		if (n == 0)
			return plan_err_at(c, line, col, "invalid UTF-8 byte 0x%02x",
					   s[i]);
		if (s[i] == '\0')
			return plan_err_at(c, line, col, "NUL byte in the job file");
		if (s[i] == '\n') {
			line++;
			col = 0;
		}
		col++;
		i += n;
	}
	return 0;
}

/* Stream: exactly one document whose root is returned (NULL if empty). */
static int
yb_stream(struct yb *b, struct plan_node **root)
{
	struct fy_event *ev;
	int rc, state = 0;

	for (;;) {
		rc = yb_next(b, &ev);
		if (rc < 0)
			return rc;
		yb_mark(b, fy_event_start_mark(ev), NULL);
		switch (ev->type) {
		case FYET_STREAM_START:
		case FYET_DOCUMENT_END:
			break;
		case FYET_DOCUMENT_START:
			if (state++ > 0)
				rc = plan_err_at(b->c, b->line, b->col,
						 "expected one YAML document, found another");
			break;
		case FYET_STREAM_END:
			fy_parser_event_free(b->fyp, ev);
			return 0;
		default:
			rc = yb_build(b, ev, 0, root);
			break;
		}
		fy_parser_event_free(b->fyp, ev);
		if (rc < 0)
			return rc;
	}
}

int
plan_yaml_parse(struct plan_ctx *c, const char *yaml, size_t len,
		struct plan_node **root)
{
	struct fy_parse_cfg pcfg;
	struct fy_diag_cfg dcfg;
	struct yb b;
	int rc;

	*root = NULL;
	memset(&b, 0, sizeof(b));
	b.c = c;
	b.src = yaml;
	b.src_len = len;
	b.line = 1;
	b.col = 1;
	if (len > PLAN_MAX_INPUT)
		return plan_err_at(c, 1, 1, "job file larger than %u bytes",
				   PLAN_MAX_INPUT);

	rc = check_text(c, yaml, len);
	if (rc < 0)
		return rc;

	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = yb_diag_out;
	dcfg.user = &b;
	dcfg.level = FYET_ERROR;
	dcfg.colorize = false;
	b.diag = fy_diag_create(&dcfg);
	if (b.diag == NULL)
		return plan_err_at(c, 1, 1, "out of memory");
	fy_diag_set_collect_errors(b.diag, true);

	memset(&pcfg, 0, sizeof(pcfg));
	pcfg.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG;
	pcfg.diag = b.diag;
	b.fyp = fy_parser_create(&pcfg);
	if (b.fyp == NULL) {
		fy_diag_destroy(b.diag);
		return plan_err_at(c, 1, 1, "out of memory");
	}
	/* An empty buffer still needs a valid pointer for libfyaml. */
	rc = fy_parser_set_string(b.fyp, len ? yaml : "", len);
	if (rc != 0)
		rc = plan_err_at(c, 1, 1, "out of memory");
	else
		rc = yb_stream(&b, root);
	if (rc < 0) {
		plan_node_free(*root);
		*root = NULL;
	}
	fy_parser_destroy(b.fyp);
	fy_diag_destroy(b.diag);
	return rc;
}
