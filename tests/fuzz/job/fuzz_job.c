/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: libFuzzer target for job files: any bytes must give either
 * a valid plan or one positioned error, never a crash, a leak or a plan
 * that is half filled.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sl_plan p;	/* ~30 KiB: keep it off the stack */
	char err[SL_PLAN_ERR_MAX];
	int rc;

	/* Fuzzed paths must never dlopen whatever .so they name. */
	rc = sl_plan_load_str_flags("fuzz.yaml", (const char *)data, size,
				    SL_PLAN_NO_PLUGINS, &p, err, sizeof(err));
	if (rc != 0) {
		static const struct sl_plan zero;

		/* The contract: an error is one line with a position, and no plan. */
		if (strncmp(err, "fuzz.yaml:", 10) != 0 ||
		    strchr(err, '\n') != NULL ||
		    memcmp(&p, &zero, sizeof(p)) != 0)
			abort();
	}
	sl_plan_free(&p);
	return 0;
}
