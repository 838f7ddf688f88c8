/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: checkpoint write benchmark. Builds a worker snapshot of
 * 10 MB and of 100 MB (128 key groups, random payload), writes it through
 * the io_uring writer (tmp, write+fsync, rename, dir fsync) five times
 * each, and prints the medians: build MB/s, write MB/s (submit -> durable
 * and renamed), fsync latency (first write -> fsync completion), and
 * the longest single submit or poll call (what a main lcore would stall).
 *
 * Usage: ckpt_bench [DIR] (default: a new directory under /var/tmp, on
 * the real disk rather than a tmpfs /tmp). Exit 77 without io_uring.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl_ckpt.h"

#define RUNS 5

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
median(uint64_t *v)
{
	qsort(v, RUNS, sizeof(*v), cmp_u64);
	return v[RUNS / 2];
}

static int
bench(struct sl_ckpt_writer *w, const char *root, size_t mb, const uint8_t *payload)
{
	uint64_t build[RUNS], total[RUNS], fsync[RUNS], call[RUNS];
	size_t per_kg = (mb << 20) / 128;

	for (int run = 0; run < RUNS; run++) {
		struct sl_ckpt_file_info info = {
			.ckpt_id = (uint64_t)(mb * 100 + (size_t)run), .job = "bench",
			.task_kind = SL_CKPT_TASK_WORKER, .max_parallelism = 128,
			.parallelism = 1,
		};
		struct sl_ckpt_builder b;
		struct sl_ckpt_done d;
		const void *data;
		size_t len;
		char err[256];
		int dfd, r;
		uint64_t t0 = now_ns();

		r = sl_ckpt_builder_init(&b, NULL, 0, &info);
		for (uint32_t kg = 0; r == 0 && kg < 128; kg++)
			r = sl_ckpt_builder_add(&b, SL_CKPT_SEC_KEYED, 1, kg, payload, per_kg);
		if (r == 0)
			r = sl_ckpt_builder_finish(&b, &data, &len, &info);
		if (r < 0) {
			fprintf(stderr, "build: %s\n", strerror(-r));
			return 1;
		}
		build[run] = now_ns() - t0;
		r = sl_ckpt_dir_create(root, info.ckpt_id, &dfd, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		t0 = now_ns();
		r = sl_ckpt_writer_submit(w, dfd, "worker-0", data, len, 1, 0);
		call[run] = now_ns() - t0;
		/* Poll as a main lcore would, timing every call. */
		while (r == 0) {
			uint64_t t1 = now_ns();
			unsigned int k = sl_ckpt_writer_poll(w, &d, 1);
			uint64_t dt = now_ns() - t1;

			if (dt > call[run])
				call[run] = dt;
			if (k == 1)
				break;
			usleep(50);
		}
		if (r < 0 || d.res < 0) {
			fprintf(stderr, "write: %s\n", strerror(r < 0 ? -r : -d.res));
			return 1;
		}
		total[run] = d.total_ns;
		fsync[run] = d.fsync_ns;
		close(dfd);
		sl_ckpt_builder_fini(&b);
	}
	printf("%4zu MB  build %6.0f MB/s  write+fsync+rename %5.0f MB/s  "
	       "fsync latency %7.2f ms  longest submit/poll call %6.1f us  (medians of %d)\n",
	       mb, (double)mb / (median(build) / 1e9), (double)mb / (median(total) / 1e9),
	       median(fsync) / 1e6, median(call) / 1e3, RUNS);
	return 0;
}

int
main(int argc, char **argv)
{
	char tmpl[] = "/var/tmp/ckpt_bench.XXXXXX";
	const char *root = argc > 1 ? argv[1] : mkdtemp(tmpl);
	struct sl_ckpt_writer *w;
	unsigned int del;
	uint8_t *payload;
	int r, rc;

	if (root == NULL) {
		perror("mkdtemp");
		return 1;
	}
	r = sl_ckpt_writer_create(4, &w);
	if (r == -EPERM || r == -ENOSYS) {
		fprintf(stderr, "ckpt_bench: io_uring unavailable (%s): skipped\n", strerror(-r));
		return 77;
	}
	if (r < 0) {
		fprintf(stderr, "ckpt_bench: %s\n", strerror(-r));
		return 1;
	}
	payload = malloc(100u << 20);
	for (size_t i = 0; i < (100u << 20); i++)
		payload[i] = (uint8_t)(i * 2654435761u >> 13);
	printf("ckpt_bench: %s, crc32c %s\n", root, sl_ckpt_crc32c_hw() ? "sse4.2" : "table");
	rc = bench(w, root, 10, payload) || bench(w, root, 100, payload);
	sl_ckpt_writer_destroy(w);
	free(payload);
	sl_ckpt_retain(root, 1, &del, NULL, 0);
	if (argc <= 1) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			fprintf(stderr, "ckpt_bench: could not remove %s\n", root);
	}
	return rc;
}
