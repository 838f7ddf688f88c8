/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `sluicectl checkpoints JOB`: the job's completed, incomplete and corrupt
 * checkpoints with their sizes and durations. The daemon says where the
 * job's file is; the checkpoint directory is read here, like `flink
 * list`'s view of the checkpoint store.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sl_ckpt.h"
#include "sl_plan.h"
#include "slc.h"

#define SLC_MAX_CKPTS 256

static const char *
status_name(uint16_t st)
{
	return st == SL_CKPT_ST_COMPLETE ? "complete" :
	       st == SL_CKPT_ST_INCOMPLETE ? "incomplete" : "corrupt";
}

int
slc_cmd_checkpoints(const struct slc_opts *o)
{
	json_t *reply, *data, *rows;
	struct sl_ckpt_entry *e;
	struct sl_plan *p;
	const char *file;
	char err[SL_PLAN_ERR_MAX];
	unsigned int found = 0;
	int ec, n;

	ec = slc_call(o, SL_PROTO_VERB_STATUS, json_pack("{s:s}", "job", o->pos[0]),
		      false, &reply);
	if (ec != SLC_EXIT_OK)
		return ec;
	data = json_object_get(reply, "data");
	file = json_string_value(json_object_get(data, "job_file"));
	p = calloc(1, sizeof(*p));
	e = calloc(SLC_MAX_CKPTS, sizeof(*e));
	if (file == NULL || p == NULL || e == NULL ||
	    sl_plan_load(file, p, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluicectl: cannot read the job file of %s: %s\n",
			o->pos[0], file == NULL ? "the daemon did not say where it is" : err);
		free(p);
		free(e);
		json_decref(reply);
		return SLC_EXIT_ERROR;
	}
	json_decref(reply);
	if (p->ckpt.dir[0] == '\0') {
		printf("job %s takes no checkpoints (no execution.checkpointing.interval)\n",
		       o->pos[0]);
		sl_plan_free(p);
		free(p);
		free(e);
		return SLC_EXIT_OK;
	}
	n = sl_ckpt_list(p->ckpt.dir, false, e, SLC_MAX_CKPTS, &found, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "sluicectl: %s: %s\n", p->ckpt.dir, err);
		ec = SLC_EXIT_ERROR;
	} else if (o->json) {
		rows = json_array();
		for (int i = 0; i < n && (unsigned int)i < found; i++)
			json_array_append_new(rows, json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:s}",
				"id", (json_int_t)e[i].id,
				"kind", e[i].kind == SL_CKPT_SAVEPOINT ? "savepoint" : "checkpoint",
				"status", status_name(e[i].status),
				"bytes", (json_int_t)e[i].bytes,
				"newBytes", (json_int_t)e[i].new_bytes,
				"durationMs", (json_int_t)(e[i].duration_ns / 1000000),
				"files", (json_int_t)e[i].n_files,
				"reason", e[i].reason));
		slc_print_json(stdout, rows);
		json_decref(rows);
	} else {
		/* NEW_BYTES: what the checkpoint wrote; a native (incremental)
		 * one shares its unchanged SST files with the one before. */
		printf("%-8s %-10s %-10s %12s %12s %12s  %s\n", "ID", "KIND", "STATUS", "BYTES",
		       "NEW_BYTES", "DURATION_MS", "DIR");
		for (unsigned int i = 0; i < found && i < SLC_MAX_CKPTS; i++)
			printf("%-8" PRIu64 " %-10s %-10s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "  %s/chk-%" PRIu64 "%s%s\n",
			       e[i].id, e[i].kind == SL_CKPT_SAVEPOINT ? "savepoint" : "checkpoint",
			       status_name(e[i].status), e[i].bytes, e[i].new_bytes,
			       e[i].duration_ns / 1000000, p->ckpt.dir, e[i].id,
			       e[i].reason[0] ? "  " : "", e[i].reason);
	}
	sl_plan_free(p);
	free(p);
	free(e);
	return ec;
}
