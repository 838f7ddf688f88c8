/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: what sluiced reads without blocking: a re-attached
 * dataplane's exit from its stats.json exit_code, and client-named job
 * files (FIFOs, devices and oversized files refused before reading).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sld.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sld-reattach.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void
test_stats_exit(void **state)
{
	struct sld_job j;
	int code = -7;

	(void)state;
	memset(&j, 0, sizeof(j));
	snprintf(j.run_dir, sizeof(j.run_dir), "%s", dir);
	j.started_at = sld_wall_ms();
	/* No stats.json: status unknown. */
	assert_int_equal(sld_job_stats_exit(&j, &code), -ENOENT);
	/* A clean run. */
	put("stats.json", "{\"rx\": [], \"exit_code\": 0}\n");
	assert_int_equal(sld_job_stats_exit(&j, &code), 0);
	assert_int_equal(code, 0);
	/* A sink failure writes stats too, with its exit code. */
	put("stats.json", "{\"rx\": [], \"exit_code\": 1}\n");
	assert_int_equal(sld_job_stats_exit(&j, &code), 0);
	assert_int_equal(code, 1);
	/* A dataplane that did not say: not clean. */
	put("stats.json", "{\"rx\": []}\n");
	assert_int_equal(sld_job_stats_exit(&j, &code), -ENODATA);
	put("stats.json", "{\"exit_code\": \"0\"}\n");
	assert_int_equal(sld_job_stats_exit(&j, &code), -ENODATA);
	put("stats.json", "{\"exit_code\": 0");
	assert_int_equal(sld_job_stats_exit(&j, &code), -ENODATA);
	/* A stats.json from before this run's start says nothing about it. */
	put("stats.json", "{\"exit_code\": 0}\n");
	j.started_at = sld_wall_ms() + 60000;
	assert_int_equal(sld_job_stats_exit(&j, &code), -ENOENT);
}

static void
test_read_file(void **state)
{
	char path[256], msg[512], *buf;
	size_t len;
	int fd;

	(void)state;
	put("job.yaml", "job: x\n");
	snprintf(path, sizeof(path), "%s/job.yaml", dir);
	assert_int_equal(sld_read_file(path, 1 << 20, &buf, &len, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(len, 7);
	assert_string_equal(buf, "job: x\n");
	free(buf);
	/* A FIFO with no writer: refused at once, never opened for reading. */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(sld_read_file(path, 1 << 20, &buf, &len, NULL, msg, sizeof(msg)), -EINVAL);
	assert_null(buf);
	assert_non_null(strstr(msg, "fifo: not a regular file"));
	/* A device, a directory. */
	assert_int_equal(sld_read_file("/dev/zero", 1 << 20, &buf, &len, NULL, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "/dev/zero: not a regular file");
	assert_int_equal(sld_read_file(dir, 1 << 20, &buf, &len, NULL, msg, sizeof(msg)), -EINVAL);
	/* Over the limit: refused by size, before reading. */
	snprintf(path, sizeof(path), "%s/big", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (1 << 20) + 1), 0);
	close(fd);
	assert_int_equal(sld_read_file(path, 1 << 20, &buf, &len, NULL, msg, sizeof(msg)), -EFBIG);
	assert_non_null(strstr(msg, "1048577 bytes"));
	/* Exactly the limit is fine. */
	assert_int_equal(truncate(path, 1 << 20), 0);
	assert_int_equal(sld_read_file(path, 1 << 20, &buf, &len, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(len, 1 << 20);
	free(buf);
	/* Missing: the path and the reason. */
	snprintf(path, sizeof(path), "%s/none.yaml", dir);
	assert_int_equal(sld_read_file(path, 1 << 20, &buf, &len, NULL, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "none.yaml: cannot open: No such file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_exit),
		cmocka_unit_test(test_read_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
