/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `type: gen` source: the rows of sl_gen (the same ones `sluice-gen write`
 * writes for the same parameters), made on the lcore that polls the
 * source, so what a job costs can be measured apart from any transport.
 *
 * poll() fills one preallocated buffer in a tight loop and hands it out as
 * batches of `batch` rows; batch j belongs to partition j % partitions, as
 * sluice-gen's packet j does with --records-per-packet equal to batch, so
 * the watermarks are those of a capture of the same events. A poll stops
 * at GEN_POLL_BYTES so the rows are still in cache when the RX loop copies
 * them into vectors. Replayable: the offset is the index of the next row.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include <rte_common.h>

#include "sl_gen.h"
#include "io_private.h"

/* Half of a typical L2: the rows a poll makes are copied out right after. */
#define GEN_POLL_BYTES (256 * 1024)

struct gen_src {
	struct sl_gen g;
	uint64_t events;	/* UINT64_MAX: unbounded */
	uint64_t batches;	/* batches handed out so far: picks the partition */
	uint32_t partitions;
	uint16_t batch;
	uint32_t cap;		/* rows per poll */
	uint8_t *rows;		/* cap rows */
	struct io_pace pace;	/* source.rate: rows per second of wall time */
};

static void
gen_params(const struct sl_plan *p, struct sl_gen_params *gp)
{
	const struct sl_plan_gen *c = &p->source.gen;

	memset(gp, 0, sizeof(*gp));
	gp->schema = &p->schema;
	gp->n_key = c->n_key;
	for (uint16_t j = 0; j < c->n_key; j++)
		gp->key_f[j] = (uint16_t)c->key_field[j];
	gp->ts_f = (uint16_t)p->source.ts_field;
	gp->seed = c->seed;
	gp->keys = c->keys;
	gp->start_ms = c->start_ms;
	gp->rate = c->event_rate;
	gp->disorder = c->disorder;
	gp->late_fraction = c->late_fraction;
	gp->late_ms = c->late_ms;
}

static int
gen_open(struct sl_source *s, uint16_t queue)
{
	const struct sl_plan *p = s->plan;
	const struct sl_plan_gen *c = &p->source.gen;
	struct sl_gen_params gp;
	struct gen_src *g;
	uint32_t cap;
	int rc;

	(void)queue;
	/* Allocated once here (main lcore, before the lcores launch, like
	 * the CSV source's buffer); poll() only writes into it. Plain heap
	 * memory, so the source also runs without the EAL (unit tests). */
	g = aligned_alloc(RTE_CACHE_LINE_SIZE,
			  RTE_ALIGN_CEIL(sizeof(*g), RTE_CACHE_LINE_SIZE));
	if (g != NULL)
		memset(g, 0, sizeof(*g));
	if (g == NULL) {
		SL_IO_LOG(ERR, "gen source: no memory for the generator; free some memory");
		return -ENOMEM;
	}
	gen_params(p, &gp);
	rc = sl_gen_init(&g->g, &gp);
	if (rc < 0) {
		SL_IO_LOG(ERR, "gen source: parameters out of range (keys, event_rate, key fields); check the job's source section");
		free(g);
		return rc;
	}
	g->events = c->unbounded ? UINT64_MAX : c->events;
	g->partitions = p->source.partitions ? p->source.partitions : 1;
	g->batch = c->batch;
	/* Whole batches, at least one, at most a burst of them. */
	cap = GEN_POLL_BYTES / p->schema.row_size / g->batch * g->batch;
	cap = RTE_MAX(cap, (uint32_t)g->batch);
	cap = RTE_MIN(cap, (uint32_t)g->batch * SL_IO_BURST);
	g->cap = cap;
	g->rows = aligned_alloc(RTE_CACHE_LINE_SIZE,
				RTE_ALIGN_CEIL((size_t)cap * p->schema.row_size,
					       RTE_CACHE_LINE_SIZE));
	if (g->rows == NULL) {
		SL_IO_LOG(ERR, "gen source: no memory for %u rows; free some memory",
			  cap);
		free(g);
		return -ENOMEM;
	}
	g->pace.rate = p->source.rate;
	s->priv = g;
	s->done = g->events == 0;
	return 0;
}

static uint16_t
gen_poll(struct sl_source *s, struct sl_src_batch *b, uint16_t max)
{
	struct gen_src *g = s->priv;
	const uint16_t rs = s->plan->schema.row_size;
	uint64_t left = g->events - g->g.i;
	uint32_t n = (uint32_t)RTE_MIN((uint64_t)g->cap, left);
	uint16_t nb = 0;
	uint64_t budget = io_pace_budget(&g->pace);

	n = RTE_MIN(n, (uint32_t)max * g->batch);
	/* Paced: whole batches only, so offsets stay on batch boundaries. */
	if (budget < n) {
		n = (uint32_t)(budget / g->batch * g->batch);
		if (n == 0 && budget >= left)
			n = (uint32_t)left;
	}
	sl_gen_fill(&g->g, g->rows, n);
	g->pace.sent += n;
	for (uint32_t off = 0; off < n; off += g->batch) {
		b[nb].rows = g->rows + (size_t)off * rs;
		b[nb].n = (uint16_t)RTE_MIN((uint32_t)g->batch, n - off);
		b[nb].partition = (uint16_t)(g->batches++ % g->partitions);
		nb++;
	}
	s->wire.records += n;
	if (g->g.i >= g->events)
		s->done = true;
	return nb;
}

static void
gen_release(struct sl_source *s)
{
	(void)s;
}

static void
gen_close(struct sl_source *s)
{
	struct gen_src *g = s->priv;

	if (g == NULL)
		return;
	free(g->rows);
	free(g);
	s->priv = NULL;
}

static void
gen_offset(const struct sl_source *s, struct sl_src_offset *o)
{
	const struct gen_src *g = s->priv;

	memset(o, 0, sizeof(*o));
	o->pos = g->g.i;
	o->line = g->batches;
}

/* Offsets are taken between polls, so they sit on a batch boundary and
 * name the batch count that goes with them. */
static int
gen_seek(struct sl_source *s, const struct sl_src_offset *o)
{
	struct gen_src *g = s->priv;
	bool whole = o->pos == o->line * g->batch ||
		     (o->pos == g->events && o->line == (o->pos + g->batch - 1) / g->batch);

	if (o->pos > g->events || !whole) {
		SL_IO_LOG(ERR, "gen source: offset row %" PRIu64 " batch %" PRIu64 " does not fit this generator (%" PRIu64 " rows in batches of %u); the checkpoint belongs to another job",
			  o->pos, o->line, g->events, g->batch);
		return -EINVAL;
	}
	sl_gen_seek(&g->g, o->pos);
	g->batches = o->line;
	s->done = o->pos >= g->events;
	return 0;
}

const struct sl_source_ops sl_gen_source_ops = {
	.name = "gen",
	.open = gen_open,
	.poll = gen_poll,
	.release = gen_release,
	.close = gen_close,
	.offset = gen_offset,
	.seek = gen_seek,
};
