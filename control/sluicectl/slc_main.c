/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluicectl: the sluice CLI (docs/control-protocol.md). Parses the command
 * line against the verb table in slc_cli.c and runs the verb's handler;
 * the exit code is the handler's.
 */
#include <stdlib.h>

#include "sl_build_config.h"
#include "slc.h"

int
main(int argc, char **argv)
{
	struct slc_opts o;
	char err[512];
	int rc;

	rc = slc_parse(argc, argv, getenv("SLUICE_SOCKET"), &o, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "sluicectl: %s\n", err);
		return rc;
	}
	if (o.help) {
		if (o.verb != NULL && o.verb->run != slc_cmd_help)
			slc_verb_usage(stdout, o.verb);
		else
			slc_usage(stdout);
		return SLC_EXIT_OK;
	}
	if (o.version && o.verb == NULL) {
		printf("sluicectl %s (protocol %d)\n", SLUICE_VERSION, SL_PROTO_VERSION);
		return SLC_EXIT_OK;
	}
	return o.verb->run(&o);
}
