/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics_dump [JOBS.json]: print sl_metrics_prom_render() of a jobs array
 * (a file, or stdin), for test_promtool.sh and for looking at the output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_metrics.h"

int
main(int argc, char **argv)
{
	json_error_t err;
	json_t *jobs;
	char *out;
	size_t len;
	int rc;

	jobs = argc > 1 ? json_load_file(argv[1], 0, &err) : json_loadf(stdin, 0, &err);
	if (jobs == NULL) {
		fprintf(stderr, "metrics_dump: %s:%d: %s\n", err.source, err.line, err.text);
		return 1;
	}
	rc = sl_metrics_prom_render(jobs, &out, &len);
	json_decref(jobs);
	if (rc < 0) {
		fprintf(stderr, "metrics_dump: %s\n", strerror(-rc));
		return 1;
	}
	rc = fwrite(out, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
	free(out);
	return rc;
}
