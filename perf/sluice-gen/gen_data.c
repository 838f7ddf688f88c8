/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The event stream of a command line. The generator and its order of
 * draws live in drivers/gen (sl_gen.h), so `sluice-gen write` and the
 * dataplane's `type: gen` source make the same rows from the same
 * parameters; this file only maps struct gen_conf onto them.
 */
#include <string.h>

#include "gen.h"

void
gen_params(const struct gen_conf *c, struct sl_gen_params *p)
{
	memset(p, 0, sizeof(*p));
	p->schema = &c->schema;
	p->n_key = c->n_key;
	memcpy(p->key_f, c->key_f, sizeof(p->key_f));
	p->ts_f = c->ts_f;
	p->seed = c->seed;
	p->keys = c->keys;
	p->start_ms = c->start_ms;
	p->rate = c->rate;
	p->disorder = c->disorder;
	p->late_fraction = c->late_fraction;
	p->late_ms = c->late_ms;
}

int
gen_stream_init(struct gen_stream *st, const struct gen_conf *c)
{
	struct sl_gen_params p;

	gen_params(c, &p);
	return sl_gen_init(&st->g, &p);
}

bool
gen_stream_next(struct gen_stream *st, uint8_t *row)
{
	return sl_gen_fill(&st->g, row, 1) != 0;
}

int64_t
gen_base_ts(const struct gen_conf *c, uint64_t i)
{
	struct sl_gen_params p;

	gen_params(c, &p);
	return sl_gen_base_ts(&p, i);
}
