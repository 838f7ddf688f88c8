/* SPDX-License-Identifier: BSD-3-Clause */
/* Source registry and the CSV/stdout sink (main lcore only). */
#include <errno.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_log.h>

#include "sl_csv.h"
#include "sl_io.h"
#include "io_private.h"

RTE_LOG_REGISTER_DEFAULT(sl_io_logtype, INFO);

const struct sl_source_ops *
sl_source_ops_get(enum sl_src_type t)
{
	switch (t) {
	case SL_SRC_ETHDEV:
		return &sl_ethdev_source_ops;
	case SL_SRC_CSV:
		return &sl_csv_source_ops;
	case SL_SRC_CAPTURE:
		return &sl_capture_source_ops;
	case SL_SRC_GEN:
		return &sl_gen_source_ops;
	}
	return NULL;
}

int
sl_source_open(struct sl_source *s, const struct sl_plan *p, uint16_t queue)
{
	memset(s, 0, sizeof(*s));
	s->ops = sl_source_ops_get(p->source.type);
	s->plan = p;
	s->queue = queue;
	sl_wire_rx_init(&s->wire, &p->schema, p->source.udp_port);
	return s->ops->open(s, queue);
}

void
sl_source_offset_wire(const struct sl_source *s, struct sl_src_offset *o)
{
	o->seen_mask = 0;
	o->ended_mask = 0;
	for (int p = 0; p < SL_WIRE_MAX_PARTITIONS; p++) {
		o->next_seq[p] = s->wire.part[p].next_seq;
		if (s->wire.part[p].seen)
			o->seen_mask |= 1ull << p;
		if (s->wire.part[p].ended)
			o->ended_mask |= 1ull << p;
	}
}

void
sl_source_seek_wire(struct sl_source *s, const struct sl_src_offset *o)
{
	s->wire.n_parts_ended = 0;
	for (int p = 0; p < SL_WIRE_MAX_PARTITIONS; p++) {
		s->wire.part[p].next_seq = o->next_seq[p];
		s->wire.part[p].seen = (o->seen_mask >> p) & 1;
		s->wire.part[p].ended = (o->ended_mask >> p) & 1;
		s->wire.n_parts_ended += s->wire.part[p].ended;
	}
}

/* mkdir -p of the directory part of path, so out/x.csv just works. */
void
io_make_parent(const char *path)
{
	char tmp[SL_PLAN_PATH_MAX], *dir;

	snprintf(tmp, sizeof(tmp), "%s", path);
	dir = dirname(tmp);
	for (char *p = dir + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(dir, 0755);
			*p = '/';
		}
	}
	mkdir(dir, 0755);
}

int
sl_sink_open(struct sl_sink *k, const struct sl_plan_sink *spec,
	     const struct sl_schema *out)
{
	int n;

	memset(k, 0, sizeof(*k));
	if (spec->type == SL_SINK_STDOUT) {
		k->f = stdout;
		snprintf(k->path, sizeof(k->path), "<stdout>");
	} else {
		snprintf(k->path, sizeof(k->path), "%s", spec->path);
		io_make_parent(k->path);
		k->f = fopen(k->path, "w");
		if (k->f == NULL) {
			int e = errno;

			SL_IO_LOG(ERR, "sink: cannot create %s: %s; check the directory exists and is writable",
				  k->path, strerror(e));
			return -e;
		}
		k->own = true;
	}
	n = sl_csv_format_header(out, k->line, sizeof(k->line));
	if (n < 0)
		return n;
	k->line[n] = '\n';
	if (fwrite(k->line, 1, (size_t)n + 1, k->f) != (size_t)n + 1)
		return -EIO;
	return 0;
}

int
sl_sink_write(struct sl_sink *k, const struct sl_schema *out,
	      const uint8_t *row)
{
	int n = sl_csv_format_row(out, row, k->line, sizeof(k->line) - 1);

	if (n < 0)
		return n;
	k->line[n] = '\n';
	if (fwrite(k->line, 1, (size_t)n + 1, k->f) != (size_t)n + 1) {
		SL_IO_LOG(ERR, "sink: write to %s failed: %s", k->path,
			  strerror(errno));
		return -EIO;
	}
	k->rows++;
	return 0;
}

int
sl_sink_close(struct sl_sink *k)
{
	int rc = 0;

	if (k->f == NULL)
		return 0;
	if (fflush(k->f) != 0)
		rc = -errno;
	if (k->own && fclose(k->f) != 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		SL_IO_LOG(ERR, "sink: closing %s failed: %s", k->path,
			  strerror(-rc));
	k->f = NULL;
	return rc;
}
