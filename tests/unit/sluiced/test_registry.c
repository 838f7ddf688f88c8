/* SPDX-License-Identifier: BSD-3-Clause */
/* Description: the job registry: save and load give back every field; a corrupt file is a clear error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sld.h"

static char dir[] = "/tmp/sld_regXXXXXX";

static void
fill(struct sld_job *j, const char *name, enum sld_state s)
{
	memset(j, 0, sizeof(*j));
	j->in_use = true;
	j->pidfd = -1;
	snprintf(j->name, sizeof(j->name), "%s", name);
	snprintf(j->job_file, sizeof(j->job_file), "/etc/sluice/%s.yaml", name);
	snprintf(j->cwd, sizeof(j->cwd), "/srv");
	snprintf(j->run_dir, sizeof(j->run_dir), "%s/jobs/%s", dir, name);
	snprintf(j->cpus, sizeof(j->cpus), "2-3");
	snprintf(j->device, sizeof(j->device), "net_memif0;socket=/run/m.sock");
	j->rx = 1;
	j->workers = 2;
	sl_plan_restart_defaults(&j->restart);
	j->restart.type = SL_RESTART_EXPONENTIAL_DELAY;
	j->restart.exp_multiplier = 1.5;
	j->state = s;
	j->pid = 4242;
	j->created_at = 1700000000000;
	j->started_at = 1700000001000;
	j->restarts = 2;
	j->n_hist = 2;
	j->hist[0].at_ms = 1700000000500;
	snprintf(j->hist[0].exit, sizeof(j->hist[0].exit), "killed by signal 9 (Killed)");
	j->hist[1].at_ms = 1700000000800;
	snprintf(j->hist[1].exit, sizeof(j->hist[1].exit), "exited 3");
	snprintf(j->last_exit, sizeof(j->last_exit), "exited 3");
}

static void
test_round_trip(void **state)
{
	struct sld_daemon d = { 0 }, e = { 0 };
	char err[1024];

	(void)state;
	assert_int_equal(sld_jobs_init(&d), 0);
	assert_int_equal(sld_jobs_init(&e), 0);
	snprintf(d.registry, sizeof(d.registry), "%s/registry.json", dir);
	snprintf(e.registry, sizeof(e.registry), "%s/registry.json", dir);
	/* Missing file: an empty table, not an error. */
	assert_int_equal(sld_registry_load(&e, err, sizeof(err)), 0);

	fill(&d.jobs[0], "a", SLD_RUNNING);
	fill(&d.jobs[3], "b", SLD_FAILED);
	snprintf(d.jobs[3].reason, sizeof(d.jobs[3].reason), "dataplane exited 3; restart-strategy none");
	assert_int_equal(sld_registry_save(&d), 0);
	assert_int_equal(sld_registry_load(&e, err, sizeof(err)), 2);
	for (int i = 0; i < 2; i++) {
		const struct sld_job *a = &d.jobs[i == 0 ? 0 : 3], *b = &e.jobs[i];

		assert_string_equal(a->name, b->name);
		assert_int_equal(a->state, b->state);
		assert_string_equal(a->job_file, b->job_file);
		assert_string_equal(a->cwd, b->cwd);
		assert_string_equal(a->run_dir, b->run_dir);
		assert_string_equal(a->cpus, b->cpus);
		assert_string_equal(a->device, b->device);
		assert_int_equal(a->rx, b->rx);
		assert_int_equal(a->workers, b->workers);
		assert_int_equal(a->restart.type, b->restart.type);
		assert_int_equal(a->restart.fixed_attempts, b->restart.fixed_attempts);
		assert_int_equal(a->restart.exp_max_ms, b->restart.exp_max_ms);
		assert_true(a->restart.exp_multiplier == b->restart.exp_multiplier);
		assert_int_equal(a->pid, b->pid);
		assert_int_equal(a->created_at, b->created_at);
		assert_int_equal(a->started_at, b->started_at);
		assert_int_equal(a->restarts, b->restarts);
		assert_int_equal(a->n_hist, b->n_hist);
		assert_int_equal(a->hist[1].at_ms, b->hist[1].at_ms);
		assert_string_equal(a->hist[0].exit, b->hist[0].exit);
		assert_string_equal(a->last_exit, b->last_exit);
		assert_string_equal(a->reason, b->reason);
		assert_true(b->in_use);
	}
	/* No temporary file is left behind. */
	{
		char tmp[SLD_FILE_MAX + 8];

		snprintf(tmp, sizeof(tmp), "%s.tmp", d.registry);
		assert_int_equal(access(tmp, F_OK), -1);
	}
	free(d.jobs);
	free(e.jobs);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_corrupt(void **state)
{
	struct sld_daemon d = { 0 };
	char err[1024], want[2048];

	(void)state;
	assert_int_equal(sld_jobs_init(&d), 0);
	snprintf(d.registry, sizeof(d.registry), "%s/registry.json", dir);

	write_file(d.registry, "{\"version\": 1, \"jobs\": [\n{\"name\": ");
	assert_int_equal(sld_registry_load(&d, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:2:9: not a valid registry: unexpected token near end of file; move it aside (mv %s %s.bad) to start with an empty job table",
		 d.registry, d.registry, d.registry);
	assert_string_equal(err, want);

	write_file(d.registry, "{\"version\": 2, \"jobs\": []}");
	assert_int_equal(sld_registry_load(&d, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a version 1 registry (need \"version\": 1 and a \"jobs\" array); move it aside (mv %s %s.bad) to start with an empty job table",
		 d.registry, d.registry, d.registry);
	assert_string_equal(err, want);

	write_file(d.registry, "{\"version\": 1, \"jobs\": [{\"name\": \"x\", \"state\": \"DANCING\"}]}");
	assert_int_equal(sld_registry_load(&d, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: job 0: 'job_file' must be a string of at most %d bytes; fix or move the file aside (mv %s %s.bad)",
		 d.registry, SLD_FILE_MAX - 1, d.registry, d.registry);
	assert_string_equal(err, want);
	assert_false(d.jobs[0].in_use);
	unlink(d.registry);
	free(d.jobs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_corrupt),
	};
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
