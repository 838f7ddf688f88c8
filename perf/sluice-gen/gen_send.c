/* SPDX-License-Identifier: BSD-3-Clause */
#include "gen.h"

int
gen_send(const struct gen_conf *c, const char *argv0)
{
	(void)c;
	(void)argv0;
	fprintf(stderr, "sluice-gen: send is not implemented yet\n");
	return 1;
}
