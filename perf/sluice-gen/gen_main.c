/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-gen: the data writer (`write`) and load generator (`send`).
 * This file only dispatches; options live in gen_conf.c's table.
 * Exit codes: 0 success, 1 runtime failure (send), 2 bad usage or a file
 * that cannot be written.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "gen.h"

static int
do_write(const struct gen_conf *c)
{
	struct gen_summary s;
	char err[GEN_ERR_MAX];
	int rc = gen_write(c, &s, err, sizeof(err));

	if (rc < 0) {
		fprintf(stderr, "sluice-gen: %s\n", err);
		return 2;
	}
	fprintf(stderr,
		"sluice-gen: %" PRIu64 " events, %" PRIu64 " packets "
		"(%u partition(s), %u records/packet%s), %" PRIu64 " late "
		"(%.2f%%), event time %" PRId64 "..%" PRId64 " (span %" PRId64
		" ms)\n", s.events, s.packets, c->partitions, c->rpp,
		c->no_end ? ", no END" : ", END included", s.late,
		s.events ? 100.0 * (double)s.late / (double)s.events : 0.0,
		s.ts_min, s.ts_max, s.events ? s.ts_max - s.ts_min : 0);
	return 0;
}

int
main(int argc, char **argv)
{
	struct gen_conf c;
	char err[GEN_ERR_MAX];

	if (argc < 2) {
		gen_usage(stderr);
		return 2;
	}
	if (gen_conf_parse(&c, argc - 1, argv + 1, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice-gen: %s (see sluice-gen --help)\n",
			err);
		return 2;
	}
	if (c.help) {
		gen_usage(stdout);
		return 0;
	}
	if (c.mode == GEN_MODE_WRITE)
		return do_write(&c);
	if (c.mode == GEN_MODE_DECODE)
		return gen_decode(&c);
	return gen_send(&c, argv[0]);
}
