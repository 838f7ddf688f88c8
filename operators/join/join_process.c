/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A join whose two inputs go to a user co_process function (R7.5,
 * Flink's KeyedCoProcessFunction): the keyed runtime is operators/process
 * (its state descriptors "udf.<name>", its timers "udf.et"/"udf.pt", both
 * in the join's sl_state, so checkpoints and N->M restores cover them as
 * they cover a process function's); this file only hands it the sides'
 * rows and passes what the function emits to the join's out function.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "join_private.h"
#include "sl_process.h"

/* The function emits a row: a slot of the join's output. */
static uint8_t *
proc_out(void *arg)
{
	struct sl_join *j = arg;
	uint8_t *o = j->out(j->out_ctx, SL_JOIN_OUT_PAIR);

	if (o != NULL)
		j->stats.rows_out++;
	return o;
}

/* A side-output row (the function's output schema): the caller's
 * SL_JOIN_OUT_SIDE slot, which reads the tag from side_tag. */
static void
proc_side(void *arg, int tag, const uint8_t *row)
{
	struct sl_join *j = arg;
	uint8_t *o;

	j->side_tag = tag;
	o = j->out(j->out_ctx, SL_JOIN_OUT_SIDE);
	if (o == NULL)
		return;
	memcpy(o, row, j->out_size);
	j->stats.rows_out++;
}

int
join_process_setup(struct sl_join *j)
{
	const struct sl_join_conf *c = &j->conf;
	struct sl_process_conf pc;
	char msg[256];
	int rc;

	memset(&pc, 0, sizeof(pc));
	pc.in = c->in[0].schema;
	pc.ts_field = c->in[0].ts_field;
	pc.in2 = c->in[1].schema;
	pc.ts_field2 = c->in[1].ts_field;
	pc.n_keys = c->n_keys;
	memcpy(pc.key_field, c->in[0].key_field, sizeof(int) * c->n_keys);
	memcpy(pc.key_field2, c->in[1].key_field, sizeof(int) * c->n_keys);
	pc.out_default = c->out;
	pc.fn = c->fn;
	pc.n_params = c->n_params;
	pc.params = c->params;
	pc.capacity = c->capacity;
	pc.max_parallelism = c->max_parallelism;
	pc.first_kg = c->first_kg;
	pc.last_kg = c->last_kg;
	j->proc = calloc(1, sizeof(*j->proc));
	if (j->proc == NULL)
		return -ENOMEM;
	rc = sl_process_init(j->proc, &pc, j->st, proc_out, proc_side, j, msg, sizeof(msg));
	if (rc < 0) {
		/* The plan set the function up at load with the same
		 * configuration: what fails here is memory or the state. */
		free(j->proc);
		j->proc = NULL;
		return rc;
	}
	j->out_size = j->proc->u.out.row_size;
	return 0;
}

void
join_process_fini(struct sl_join *j)
{
	if (j->proc == NULL)
		return;
	sl_process_fini(j->proc);
	free(j->proc);
	j->proc = NULL;
}

static void
proc_stats(struct sl_join *j)
{
	j->stats.state_errors = j->proc->stats.state_errors;
	j->stats.fn_errors = j->proc->stats.fn_errors;
}

void
join_process_rows(struct sl_join *j, int side, const struct sl_vec *v)
{
	/* The state's TTL reads the time of the last tick. */
	sl_process_run_input(j->proc, side, v, j->proc->now);
	proc_stats(j);
}

int
join_process_advance(struct sl_join *j, int64_t wm)
{
	int rc = sl_process_advance(j->proc, wm);

	proc_stats(j);
	return rc;
}

int
join_process_ptime(struct sl_join *j, int64_t now)
{
	int rc = sl_process_advance_processing_time(j->proc, now);

	proc_stats(j);
	return rc < 0 ? rc : 0;
}
