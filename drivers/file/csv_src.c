/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CSV file source: a header row naming the schema's fields (any order),
 * then one event per line. Lines that do not parse are counted and
 * dropped; the first few are logged with their line numbers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include <rte_common.h>

#include "sl_csv.h"
#include "io_private.h"

#define CSV_LOG_BAD_LINES 10

struct csv_src {
	const uint8_t *data;
	size_t len;
	size_t pos;
	uint64_t line_no;
	struct sl_csv_map map;
	uint8_t rows[SL_VEC_MAX * SL_ROW_MAX / 16];	/* parse buffer */
	uint16_t cap;			/* rows that fit the buffer */
	struct io_pace pace;
};

/* Next line [*start, *end) without CR/LF; false at end of data. */
static bool
next_line(struct csv_src *c, const char **start, size_t *n)
{
	const char *p, *nl;

	if (c->pos >= c->len)
		return false;
	p = (const char *)c->data + c->pos;
	nl = memchr(p, '\n', c->len - c->pos);
	*n = nl ? (size_t)(nl - p) : c->len - c->pos;
	c->pos += *n + (nl != NULL);
	c->line_no++;
	if (*n > 0 && p[*n - 1] == '\r')
		(*n)--;
	*start = p;
	return true;
}

static int
csv_open(struct sl_source *s, uint16_t queue)
{
	const struct sl_plan *p = s->plan;
	struct csv_src *c = calloc(1, sizeof(*c));
	const char *line;
	size_t n;
	char msg[256];

	(void)queue;
	if (c == NULL)
		return -ENOMEM;
	c->data = io_map_file(p->source.path, &c->len);
	if (c->data == NULL) {
		int e = errno;

		SL_IO_LOG(ERR, "csv source: cannot open %s: %s", p->source.path,
			  strerror(e));
		free(c);
		return -e;
	}
	if (!next_line(c, &line, &n) ||
	    sl_csv_map_header(&p->schema, line, n, &c->map, msg, sizeof(msg)) < 0) {
		if (c->len == 0)
			snprintf(msg, sizeof(msg), "file is empty, a header row is required");
		SL_IO_LOG(ERR, "csv source: %s:1: bad header: %s", p->source.path, msg);
		io_unmap_file(c->data, c->len);
		free(c);
		return -EINVAL;
	}
	c->cap = (uint16_t)RTE_MIN((size_t)SL_VEC_MAX,
				   sizeof(c->rows) / p->schema.row_size);
	c->pace.rate = p->source.rate;
	s->priv = c;
	return 0;
}

static uint16_t
csv_poll(struct sl_source *s, struct sl_src_batch *b, uint16_t max)
{
	struct csv_src *c = s->priv;
	const struct sl_plan *p = s->plan;
	const uint16_t rs = p->schema.row_size;
	/* Punctuated watermarks come after every line, so every line is
	 * its own batch; otherwise one batch holds a vector's worth. */
	const bool per_line = p->source.emit == SL_WM_PUNCTUATED;
	uint16_t nb = 0, nr = 0;
	uint64_t budget = io_pace_budget(&c->pace);
	const char *line;
	size_t n;
	char msg[256];

	while (nr < c->cap && nb < max && nr < budget) {
		uint8_t *row = c->rows + (size_t)nr * rs;

		if (!next_line(c, &line, &n)) {
			s->done = true;
			break;
		}
		if (n == 0)
			continue;
		if (sl_csv_parse_row(&p->schema, &c->map, line, n, row, msg,
				     sizeof(msg)) < 0) {
			if (s->stats.bad_lines++ < CSV_LOG_BAD_LINES)
				SL_IO_LOG(WARNING, "csv source: %s:%" PRIu64 ": %s; line dropped",
					  p->source.path, c->line_no, msg);
			continue;
		}
		s->wire.records++;
		if (per_line || nb == 0) {
			b[nb].rows = row;
			b[nb].n = 0;
			b[nb].partition = 0;
			nb++;
		}
		b[nb - 1].n++;
		nr++;
	}
	c->pace.sent += nr;
	return nb;
}

static void
csv_release(struct sl_source *s)
{
	(void)s;
}

static void
csv_close(struct sl_source *s)
{
	struct csv_src *c = s->priv;

	if (c == NULL)
		return;
	io_unmap_file(c->data, c->len);
	free(c);
	s->priv = NULL;
}

static void
csv_offset(const struct sl_source *s, struct sl_src_offset *o)
{
	const struct csv_src *c = s->priv;

	memset(o, 0, sizeof(*o));
	o->pos = c->pos;
	o->line = c->line_no;
}

/* A line start: offset 0 is the header, anything else follows a newline. */
static int
csv_seek(struct sl_source *s, const struct sl_src_offset *o)
{
	struct csv_src *c = s->priv;

	if (o->pos == 0 || o->pos > c->len || c->data[o->pos - 1] != '\n') {
		SL_IO_LOG(ERR, "csv source: offset %" PRIu64 " is not the start of a data line of %s; the checkpoint belongs to another input",
			  o->pos, s->plan->source.path);
		return -EINVAL;
	}
	c->pos = o->pos;
	c->line_no = o->line;
	s->done = false;
	return 0;
}

const struct sl_source_ops sl_csv_source_ops = {
	.name = "csv",
	.open = csv_open,
	.poll = csv_poll,
	.release = csv_release,
	.close = csv_close,
	.offset = csv_offset,
	.seek = csv_seek,
};
