/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: checkpoint storage (state/ckpt). crc32c vectors; snapshot
 * files built, written through io_uring to a real directory, read back
 * and filtered by key group; every truncation and every single-bit flip
 * of a small file rejected; each fault site's documented outcome with no
 * tmp file promoted; manifest commit, sl_ckpt_latest() falling back past
 * a corrupt checkpoint with the reason; listing and retention.
 * Exits 77 when io_uring is not available (seccomp, io_uring_disabled).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_ckpt.h"

static char root[256];
static struct sl_ckpt_writer *W;

/* ---------------------------------------------------------------- */
/* helpers                                                          */

static void
rm_rf(const char *path)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static char *
subdir(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, name);
	rm_rf(p);
	return p;
}

static unsigned int
count_suffix(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name), s = strlen(suffix);

		n += l >= s && strcmp(e->d_name + l - s, suffix) == 0;
	}
	closedir(d);
	return n;
}

static bool
exists_at(int dfd, const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, 0) == 0;
}

/* A small file: header, 4 sections, trailer (~300 bytes). */
static size_t
small_file(uint8_t *out, size_t cap)
{
	struct sl_ckpt_file_info info = {
		.ckpt_id = 7, .job = "small", .task_kind = SL_CKPT_TASK_WORKER,
		.task_index = 1, .max_parallelism = 128, .parallelism = 2,
		.created_ns = 1700000000000000000ull,
	};
	struct sl_ckpt_builder b;
	const void *data;
	size_t len;

	assert_int_equal(sl_ckpt_builder_init(&b, out, cap, &info), 0);
	assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_KEYED, 3, 17, "key17=abc", 9), 0);
	assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_KEYED, 3, 18, "k18", 3), 0);
	assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_OPERATOR, 4, SL_CKPT_NO_KG,
					     "op-state", 8), 0);
	assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_SOURCE, 0, SL_CKPT_NO_KG,
					     "", 0), 0);
	assert_int_equal(sl_ckpt_builder_finish(&b, &data, &len, NULL), 0);
	assert_ptr_equal(data, out);
	return len;
}

static struct sl_ckpt_done
wait_one(void)
{
	struct sl_ckpt_done d;

	memset(&d, 0, sizeof(d));
	assert_int_equal(sl_ckpt_writer_wait(W, &d, 1, 10000), 1);
	return d;
}

/* Write chk-<id> with n_workers worker files and a manifest. Returns the
 * manifest's commit result. */
static int
write_ckpt(const char *r, uint64_t id, unsigned int n_workers, enum sl_ckpt_kind kind)
{
	struct sl_ckpt_manifest *m = calloc(1, sizeof(*m));
	struct sl_ckpt_done d;
	char err[256];
	int dfd, res;

	assert_non_null(m);
	assert_int_equal(sl_ckpt_dir_create(r, id, &dfd, err, sizeof(err)), 0);
	snprintf(m->job, sizeof(m->job), "job-under-test");
	m->ckpt_id = id;
	m->kind = (uint16_t)kind;
	m->trigger_ns = 1000000000ull * id;
	m->max_parallelism = 128;
	m->n_workers = n_workers;
	m->n_sources = 1;
	for (unsigned int w = 0; w < n_workers; w++) {
		struct sl_ckpt_file_info info = {
			.ckpt_id = id, .job = "job-under-test",
			.task_kind = SL_CKPT_TASK_WORKER, .task_index = (uint16_t)w,
			.max_parallelism = 128, .parallelism = n_workers,
		};
		struct sl_ckpt_builder b;
		struct sl_ckpt_mfile *f = &m->files[m->n_files++];
		const void *data;
		size_t len;
		uint8_t payload[64];

		assert_int_equal(sl_ckpt_builder_init(&b, NULL, 0, &info), 0);
		for (uint32_t kg = w * 64; kg < w * 64 + 64; kg++) {
			memset(payload, (int)kg, sizeof(payload));
			assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_KEYED, 1, kg,
							     payload, sizeof(payload)), 0);
		}
		assert_int_equal(sl_ckpt_builder_finish(&b, &data, &len, &info), 0);
		sl_ckpt_task_file(f->name, sizeof(f->name), SL_CKPT_TASK_WORKER, (uint16_t)w);
		f->task_kind = SL_CKPT_TASK_WORKER;
		f->task_index = (uint16_t)w;
		f->size = info.size;
		f->crc = info.crc;
		assert_int_equal(sl_ckpt_writer_submit(W, dfd, f->name, sl_ckpt_builder_release(&b, NULL),
						       len, w, SL_CKPT_W_FREE), 0);
	}
	for (unsigned int w = 0; w < n_workers; w++) {
		d = wait_one();
		assert_int_equal(d.res, 0);
	}
	m->n_offsets = 1;
	m->offsets[0].offset = 4 * id;
	m->complete_ns = m->trigger_ns + 250000000ull;
	assert_int_equal(sl_ckpt_manifest_submit(W, dfd, m, 99), 0);
	d = wait_one();
	res = d.res;
	assert_int_equal(d.tag, 99);
	close(dfd);
	free(m);
	return res;
}

static void
flip_byte(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x10;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

/* ---------------------------------------------------------------- */
/* crc32c                                                           */

static void
test_crc_vectors(void **state)
{
	uint8_t buf[32];

	(void)state;
	assert_int_equal(sl_ckpt_crc32c(0, "123456789", 9), 0xE3069283);
	assert_int_equal(sl_ckpt_crc32c_sw(0, "123456789", 9), 0xE3069283);
	assert_int_equal(sl_ckpt_crc32c(0, "", 0), 0);
	/* RFC 3720 (iSCSI) B.4 vectors. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(sl_ckpt_crc32c(0, buf, 32), 0x8A9136AA);
	assert_int_equal(sl_ckpt_crc32c_sw(0, buf, 32), 0x8A9136AA);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(sl_ckpt_crc32c(0, buf, 32), 0x62A8AB43);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(sl_ckpt_crc32c(0, buf, 32), 0x46DD794E);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(sl_ckpt_crc32c(0, buf, 32), 0x113FDB5C);
	assert_int_equal(sl_ckpt_crc32c(0, "The quick brown fox jumps over the lazy dog", 43),
			 0x22620404);
}

static void
test_crc_hw_matches_table(void **state)
{
	uint8_t buf[1100];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	/* Every alignment and length around the 8-byte loop's edges, and
	 * chaining at every split point. */
	for (size_t off = 0; off < 9; off++)
		for (size_t len = 0; len + off <= 300; len++)
			assert_int_equal(sl_ckpt_crc32c(0, buf + off, len),
					 sl_ckpt_crc32c_sw(0, buf + off, len));
	for (size_t cut = 0; cut <= 1000; cut += 37)
		assert_int_equal(sl_ckpt_crc32c(sl_ckpt_crc32c(0, buf, cut), buf + cut, 1000 - cut),
				 sl_ckpt_crc32c(0, buf, 1000));
}

/* Lengths around the three-chain rounds (3 x 8192 bytes), at odd
 * alignments: the joined chains equal the table's one. */
static void
test_crc_three_chains(void **state)
{
	const size_t n = 3 * 3 * 8192 + 64;
	uint8_t *buf = malloc(n);
	static const size_t lens[] = { 3 * 8192 - 1, 3 * 8192, 3 * 8192 + 1,
				       3 * 8192 + 8, 6 * 8192 - 8, 6 * 8192,
				       6 * 8192 + 13, 9 * 8192 };

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)((i * 2654435761u) >> 13);
	for (size_t off = 0; off < 3; off++)
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			assert_true(off + lens[j] <= n);
			assert_int_equal(sl_ckpt_crc32c(0x1234567u, buf + off, lens[j]),
					 sl_ckpt_crc32c_sw(0x1234567u, buf + off, lens[j]));
		}
	free(buf);
}

/* crc(a||b) from crc(a), crc(b) and |b|, for |b| from 0 to past 64 KiB. */
static void
test_crc_combine(void **state)
{
	const size_t n = 70000;
	uint8_t *buf = malloc(n);
	static const size_t cuts[] = { 0, 1, 7, 8, 9, 100, 4096, 24576, 65536, 70000 };

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t j = 0; j < sizeof(cuts) / sizeof(cuts[0]); j++) {
		size_t a = n - cuts[j];

		assert_int_equal(sl_ckpt_crc32c_combine(sl_ckpt_crc32c(0, buf, a),
							sl_ckpt_crc32c(0, buf + a, n - a),
							n - a),
				 sl_ckpt_crc32c_sw(0, buf, n));
	}
	/* "123456789" split after "1234" */
	assert_int_equal(sl_ckpt_crc32c_combine(sl_ckpt_crc32c(0, "1234", 4),
						sl_ckpt_crc32c(0, "56789", 5), 5),
			 0xE3069283);
	free(buf);
}

/* ---------------------------------------------------------------- */
/* file format                                                      */

static void
test_round_trip(void **state)
{
	struct sl_ckpt_file_info info = {
		.ckpt_id = 42, .job = "round-trip", .task_kind = SL_CKPT_TASK_WORKER,
		.task_index = 2, .max_parallelism = 128, .parallelism = 3,
	}, got;
	struct sl_ckpt_builder b;
	struct sl_ckpt_reader rd;
	struct sl_ckpt_section s;
	const void *data;
	size_t len, llen;
	void *loaded;
	char err[256];
	uint8_t chunk[5000];
	unsigned int n = 0, nkeyed = 0;
	char *dir = subdir("rt");
	int dfd;

	(void)state;
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)(i ^ (i >> 8));
	assert_int_equal(sl_ckpt_builder_init(&b, NULL, 0, &info), 0);
	/* 128 key groups, payloads 0..4999 bytes, some streamed in pieces. */
	for (uint32_t kg = 0; kg < 128; kg++) {
		size_t l = (kg * 397) % sizeof(chunk);

		assert_int_equal(sl_ckpt_builder_begin(&b, SL_CKPT_SEC_KEYED, 9, kg), 0);
		assert_int_equal(sl_ckpt_builder_append(&b, chunk, l / 3), 0);
		assert_int_equal(sl_ckpt_builder_append(&b, chunk + l / 3, l - l / 3), 0);
		assert_int_equal(sl_ckpt_builder_end(&b), 0);
	}
	assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_OPERATOR, 9, SL_CKPT_NO_KG,
					     "timers", 6), 0);
	assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_SINK, 10, SL_CKPT_NO_KG,
					     "pending", 7), 0);
	/* A keyed section needs a key group, a non-keyed one must not have one. */
	assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_KEYED, 1, SL_CKPT_NO_KG, "", 0),
			 -EINVAL);
	sl_ckpt_builder_fini(&b);
	assert_int_equal(sl_ckpt_builder_init(&b, NULL, 0, &info), 0);
	for (uint32_t kg = 0; kg < 128; kg++)
		assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_KEYED, 9, kg, chunk,
						     (kg * 397) % sizeof(chunk)), 0);
	assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_OPERATOR, 9, SL_CKPT_NO_KG,
					     "timers", 6), 0);
	assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_SINK, 10, SL_CKPT_NO_KG,
					     "pending", 7), 0);
	assert_int_equal(sl_ckpt_builder_finish(&b, &data, &len, &info), 0);
	assert_int_equal(info.n_sections, 130);
	assert_int_equal(info.crc, sl_ckpt_crc32c(0, data, len));

	/* Through the writer to disk and back. */
	assert_int_equal(sl_ckpt_dir_create(dir, 42, &dfd, err, sizeof(err)), 0);
	assert_int_equal(sl_ckpt_writer_submit(W, dfd, "worker-2", data, len, 7, 0), 0);
	assert_int_equal(sl_ckpt_writer_pending(W), 1);
	{
		struct sl_ckpt_done d = wait_one();

		assert_int_equal(d.res, 0);
		assert_int_equal(d.tag, 7);
		assert_int_equal(d.step, SL_CKPT_STEP_DONE);
		assert_int_equal(d.bytes, len);
		assert_string_equal(d.name, "worker-2");
	}
	assert_int_equal(sl_ckpt_writer_pending(W), 0);
	assert_int_equal(sl_ckpt_file_load(dfd, "worker-2", &loaded, &llen, err, sizeof(err)), 0);
	assert_int_equal(llen, len);
	assert_memory_equal(loaded, data, len);
	assert_false(exists_at(dfd, "worker-2.tmp"));

	assert_int_equal(sl_ckpt_reader_open(&rd, loaded, llen, &got, err, sizeof(err)), 0);
	assert_int_equal(got.ckpt_id, 42);
	assert_string_equal(got.job, "round-trip");
	assert_int_equal(got.task_kind, SL_CKPT_TASK_WORKER);
	assert_int_equal(got.task_index, 2);
	assert_int_equal(got.max_parallelism, 128);
	assert_int_equal(got.parallelism, 3);
	assert_int_equal(got.crc, info.crc);
	while (sl_ckpt_reader_next(&rd, &s) == 1) {
		assert_int_equal(s.index, n);
		if (n < 128) {
			assert_int_equal(s.kind, SL_CKPT_SEC_KEYED);
			assert_int_equal(s.key_group, n);
			assert_int_equal(s.len, (n * 397) % sizeof(chunk));
			assert_memory_equal(s.data, chunk, s.len);
		}
		n++;
	}
	assert_int_equal(n, 130);

	/* Key-group filter: [17, 40] and every non-keyed section. */
	assert_int_equal(sl_ckpt_reader_open(&rd, loaded, llen, NULL, err, sizeof(err)), 0);
	sl_ckpt_reader_kg(&rd, 17, 40);
	n = 0;
	while (sl_ckpt_reader_next(&rd, &s) == 1) {
		if (s.kind == SL_CKPT_SEC_KEYED) {
			assert_int_equal(s.key_group, 17 + nkeyed);
			nkeyed++;
		}
		n++;
	}
	assert_int_equal(nkeyed, 24);
	assert_int_equal(n, 26);
	free(loaded);
	sl_ckpt_builder_fini(&b);
	close(dfd);
}

static void
test_fixed_buffer(void **state)
{
	struct sl_ckpt_file_info info = {
		.ckpt_id = 1, .job = "j", .task_kind = SL_CKPT_TASK_SOURCE,
		.max_parallelism = 1,
	};
	struct sl_ckpt_builder b;
	uint8_t buf[200];
	const void *data;
	size_t len;

	struct sl_ckpt_reader rd;
	struct sl_ckpt_file_info got;
	char err[128];
	static const char long_name[] = "a-job-name-that-is-much-longer-than-the-47-bytes-a-file-keeps";

	(void)state;
	/* A long job name: 47 bytes kept, the hash over all of it. */
	info.job_name = long_name;
	assert_int_equal(sl_ckpt_builder_init(&b, buf, sizeof(buf), &info), 0);
	assert_int_equal(sl_ckpt_builder_finish(&b, &data, &len, NULL), 0);
	assert_int_equal(sl_ckpt_reader_open(&rd, data, len, &got, err, sizeof(err)), 0);
	assert_int_equal(strlen(got.job), 47);
	assert_memory_equal(got.job, long_name, 47);
	assert_null(got.job_name);
	info.job_name = NULL;
	/* No allocation with a caller buffer: full is -ENOBUFS, and sticky. */
	assert_int_equal(sl_ckpt_builder_init(&b, buf, 50, &info), -ENOBUFS);
	assert_int_equal(sl_ckpt_builder_init(&b, buf, sizeof(buf), &info), 0);
	assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_SOURCE, 0, SL_CKPT_NO_KG,
					     "0123456789", 10), 0);
	assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_SOURCE, 0, SL_CKPT_NO_KG,
					     buf, 100), -ENOBUFS);
	assert_int_equal(sl_ckpt_builder_finish(&b, &data, &len, NULL), -ENOBUFS);
	assert_null(sl_ckpt_builder_release(&b, NULL));
}

static void
test_every_truncation_is_torn(void **state)
{
	uint8_t file[512];
	struct sl_ckpt_reader rd;
	char err[256];
	size_t len = small_file(file, sizeof(file));

	(void)state;
	assert_in_range(len, 250, 350);
	assert_int_equal(sl_ckpt_reader_open(&rd, file, len, NULL, err, sizeof(err)), 0);
	for (size_t cut = 0; cut < len; cut++) {
		/* An exact-size copy, so ASan sees a read past the cut. */
		uint8_t *p = malloc(cut ? cut : 1);

		memcpy(p, file, cut);
		err[0] = '\0';
		assert_int_equal(sl_ckpt_reader_open(&rd, p, cut, NULL, err, sizeof(err)), -EBADMSG);
		if (strstr(err, "torn") == NULL)
			fail_msg("cut at %zu: '%s' does not say torn", cut, err);
		free(p);
	}
}

static void
test_every_bit_flip_is_detected(void **state)
{
	uint8_t file[512], copy[512];
	struct sl_ckpt_reader rd;
	char err[256];
	size_t len = small_file(file, sizeof(file));

	(void)state;
	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 8; bit++) {
			int r;

			memcpy(copy, file, len);
			copy[i] ^= (uint8_t)(1u << bit);
			err[0] = '\0';
			r = sl_ckpt_reader_open(&rd, copy, len, NULL, err, sizeof(err));
			if (r >= 0)
				fail_msg("flip of byte %zu bit %d not detected", i, bit);
			assert_true(err[0] != '\0');
		}
}

static void
test_corrupt_message_is_precise(void **state)
{
	uint8_t file[512];
	struct sl_ckpt_reader rd;
	char err[256];
	size_t len = small_file(file, sizeof(file));

	(void)state;
	/* Header 96 + section 0 (32 + 9) + section 1 header 32: byte 169 is
	 * the first payload byte of section 1 (kg 18). */
	file[169] ^= 1;
	assert_int_equal(sl_ckpt_reader_open(&rd, file, len, NULL, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "section 1 (keyed-state, kg 18): crc mismatch at offset 169: "
				 "file is corrupt");
	file[169] ^= 1;
	file[8] = 9;	/* format version */
	assert_int_equal(sl_ckpt_reader_open(&rd, file, len, NULL, err, sizeof(err)),
			 -EPROTONOSUPPORT);
	assert_non_null(strstr(err, "newer sluice"));
}

/* ---------------------------------------------------------------- */
/* writer fault sites                                               */

struct fault_case {
	enum sl_fault_site site;
	int res;		/* reported result */
	uint16_t step;		/* reported step */
	bool final_exists;	/* NAME present afterwards */
	bool final_valid;	/* and reads back valid */
};

static void
test_fault_sites(void **state)
{
	static const struct fault_case cases[] = {
		{ SL_FAULT_CKPT_WRITE_SHORT, 0, SL_CKPT_STEP_DONE, true, true },
		{ SL_FAULT_CKPT_WRITE_ENOSPC, -ENOSPC, SL_CKPT_STEP_WRITE, false, false },
		{ SL_FAULT_CKPT_FSYNC_EIO, -EIO, SL_CKPT_STEP_FSYNC, false, false },
		{ SL_FAULT_CKPT_RENAME, -EIO, SL_CKPT_STEP_RENAME, false, false },
		{ SL_FAULT_CKPT_TORN, 0, SL_CKPT_STEP_DONE, true, false },
		{ SL_FAULT_CKPT_DIRSYNC_EIO, -EIO, SL_CKPT_STEP_DIRSYNC, true, true },
		{ SL_FAULT_CKPT_OPEN, -EACCES, SL_CKPT_STEP_OPEN, false, false },
	};
	uint8_t file[512];
	size_t len = small_file(file, sizeof(file));
	char *dir = subdir("faults");
	char err[256];
	int dfd;

	(void)state;
	assert_int_equal(sl_ckpt_dir_create(dir, 1, &dfd, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fault_case *c = &cases[i];
		struct sl_ckpt_reader rd;
		struct sl_ckpt_done d;
		char name[32];
		void *buf;
		size_t blen;

		snprintf(name, sizeof(name), "f-%s", sl_fault_name(c->site));
		sl_fault_disarm_all();
		sl_fault_arm(c->site, 0);
		assert_int_equal(sl_ckpt_writer_submit(W, dfd, name, file, len, i, 0), 0);
		d = wait_one();
		if (sl_fault_fired(c->site) != 1)
			fail_msg("%s did not fire", sl_fault_name(c->site));
		if (d.res != c->res || d.step != c->step)
			fail_msg("%s: res %d step %u, want %d step %u", sl_fault_name(c->site),
				 d.res, d.step, c->res, c->step);
		assert_int_equal(count_suffix(dir, ".tmp"), 0);
		{
			char chk[600];

			snprintf(chk, sizeof(chk), "%s/chk-1", dir);
			assert_int_equal(count_suffix(chk, ".tmp"), 0);
		}
		assert_int_equal(exists_at(dfd, name), c->final_exists);
		if (!c->final_exists)
			continue;
		assert_int_equal(sl_ckpt_file_load(dfd, name, &buf, &blen, err, sizeof(err)), 0);
		if (c->final_valid) {
			assert_int_equal(blen, len);
			assert_int_equal(sl_ckpt_reader_open(&rd, buf, blen, NULL, err, sizeof(err)), 0);
		} else {
			/* TORN: half the bytes, and the reader says so. */
			assert_int_equal(blen, len / 2);
			assert_int_equal(d.bytes, len / 2);
			assert_int_equal(sl_ckpt_reader_open(&rd, buf, blen, NULL, err, sizeof(err)),
					 -EBADMSG);
			assert_non_null(strstr(err, "torn"));
		}
		free(buf);
	}
	sl_fault_disarm_all();
	/* after_n: the third write in a row fails, the first two do not. */
	sl_fault_arm(SL_FAULT_CKPT_WRITE_ENOSPC, 2);
	for (int i = 0; i < 3; i++) {
		struct sl_ckpt_done d;
		char name[32];

		snprintf(name, sizeof(name), "n-%d", i);
		assert_int_equal(sl_ckpt_writer_submit(W, dfd, name, file, len, 0, 0), 0);
		d = wait_one();
		assert_int_equal(d.res, i == 2 ? -ENOSPC : 0);
	}
	close(dfd);
}

static void
test_fault_env(void **state)
{
	char err[256];

	(void)state;
	sl_fault_disarm_all();
	setenv("SLUICE_FAULT", "ckpt_fsync_eio:3,5:0", 1);
	assert_int_equal(sl_fault_arm_from_env(err, sizeof(err)), 0);
	assert_true(sl_fault_sim(SL_FAULT_CKPT_TORN));
	assert_false(sl_fault_sim(SL_FAULT_CKPT_TORN));
	for (int i = 0; i < 3; i++)
		assert_false(sl_fault_sim(SL_FAULT_CKPT_FSYNC_EIO));
	assert_true(sl_fault_sim(SL_FAULT_CKPT_FSYNC_EIO));
	setenv("SLUICE_FAULT", "ckpt_nope:1", 1);
	assert_int_equal(sl_fault_arm_from_env(err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown site 'ckpt_nope'"));
	setenv("SLUICE_FAULT", "ckpt_torn", 1);
	assert_int_equal(sl_fault_arm_from_env(err, sizeof(err)), -EINVAL);
	unsetenv("SLUICE_FAULT");
	sl_fault_disarm_all();
	assert_false(sl_fault_sim(SL_FAULT_CKPT_TORN));
}

static void
test_many_in_flight(void **state)
{
	struct sl_ckpt_done d[8];
	uint8_t file[512];
	size_t len = small_file(file, sizeof(file));
	char *dir = subdir("many");
	char err[256];
	unsigned int got = 0, submitted = 0;
	int dfd, r;

	(void)state;
	assert_int_equal(sl_ckpt_dir_create(dir, 1, &dfd, err, sizeof(err)), 0);
	/* More files than the writer takes at once: -EAGAIN, poll, retry. */
	while (got < 40) {
		while (submitted < 40) {
			char name[16];

			snprintf(name, sizeof(name), "w-%u", submitted);
			r = sl_ckpt_writer_submit(W, dfd, name, file, len, submitted, 0);
			if (r == -EAGAIN)
				break;
			assert_int_equal(r, 0);
			submitted++;
		}
		unsigned int k = sl_ckpt_writer_wait(W, d, 8, 10000);

		assert_true(k > 0);
		for (unsigned int i = 0; i < k; i++)
			assert_int_equal(d[i].res, 0);
		got += k;
	}
	assert_int_equal(sl_ckpt_writer_pending(W), 0);
	assert_int_equal(count_suffix(dir, ".tmp"), 0);
	close(dfd);
}

/* Write buf[0..len) as dir/name with flags and read it back. */
static void
write_read_back(const char *dir, const char *name, const uint8_t *buf, size_t len,
		unsigned int flags)
{
	char err[256], path[600];
	struct sl_ckpt_done d;
	struct stat sb;
	uint8_t *back = malloc(len + 1);
	FILE *f;
	int dfd;

	assert_non_null(back);
	assert_int_equal(sl_ckpt_dir_create(dir, 1, &dfd, err, sizeof(err)), 0);
	assert_int_equal(sl_ckpt_writer_submit(W, dfd, name, buf, len, 7, flags), 0);
	assert_int_equal(sl_ckpt_writer_wait(W, &d, 1, 30000), 1);
	assert_int_equal(d.res, 0);
	assert_int_equal(d.bytes, len);
	snprintf(path, sizeof(path), "%s/chk-1/%s", dir, name);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, len);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(back, 1, len + 1, f), len);
	fclose(f);
	assert_memory_equal(back, buf, len);
	assert_int_equal(count_suffix(dir, ".tmp"), 0);
	close(dfd);
	free(back);
}

/*
 * SL_CKPT_W_DIRECT: the aligned prefix around the page cache, the tail
 * through it, the same bytes as an ordinary write; over several 64 MiB
 * writes, with no prefix, with no tail; and on tmpfs (no O_DIRECT) too.
 * A buffer kept for the next file (_init_grow) is aligned and reused.
 */
static void
test_direct_write(void **state)
{
	const size_t sizes[] = { 100, 3 * SL_CKPT_ALIGN, 5 * SL_CKPT_ALIGN + 77,
				 (64u << 20) + 2 * SL_CKPT_ALIGN + 5 };
	struct sl_ckpt_file_info info = {
		.ckpt_id = 1, .job = "direct", .task_kind = SL_CKPT_TASK_WORKER,
		.max_parallelism = 128, .parallelism = 1,
	};
	struct sl_ckpt_builder b;
	const void *data;
	uint8_t *buf = NULL, *kept;
	size_t cap, len;
	struct stat sb;
	void *p = NULL;

	(void)state;
	assert_int_equal(posix_memalign(&p, SL_CKPT_ALIGN, sizes[3]), 0);
	buf = p;
	for (size_t i = 0; i < sizes[3]; i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 13);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char name[32];

		snprintf(name, sizeof(name), "d-%zu", i);
		write_read_back(subdir("direct"), name, buf, sizes[i], SL_CKPT_W_DIRECT);
		/* An unaligned buffer is written the ordinary way. */
		write_read_back(subdir("direct-unaligned"), name, buf + 1, sizes[i] - 1,
				SL_CKPT_W_DIRECT);
		if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) && i < 3) {
			char shm[64];

			snprintf(shm, sizeof(shm), "/dev/shm/sl-ckpt-direct-%d", (int)getpid());
			rm_rf(shm);
			write_read_back(shm, name, buf, sizes[i], SL_CKPT_W_DIRECT);
			rm_rf(shm);
		}
	}
	free(buf);

	/* A grown buffer is aligned; handed back in, it is used as is. */
	assert_int_equal(sl_ckpt_builder_init_grow(&b, NULL, 0, &info), 0);
	assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_KEYED, 1, 3, "abc", 3), 0);
	assert_int_equal(sl_ckpt_builder_finish(&b, &data, &len, NULL), 0);
	kept = sl_ckpt_builder_release(&b, &cap);
	assert_non_null(kept);
	assert_int_equal((uintptr_t)kept % SL_CKPT_ALIGN, 0);
	assert_true(cap >= len);
	assert_int_equal(sl_ckpt_builder_init_grow(&b, kept, cap, &info), 0);
	assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_KEYED, 1, 3, "abc", 3), 0);
	assert_int_equal(sl_ckpt_builder_finish(&b, &data, &len, NULL), 0);
	assert_ptr_equal(data, kept);
	assert_ptr_equal(sl_ckpt_builder_release(&b, NULL), kept);
	free(kept);
}

/*
 * Streaming: a file of 300 sections of up to 60 KiB built in 64 KiB
 * buffers, each handed out (_swap) as soon as it holds an aligned piece
 * and appended to a stream, is the same bytes, size and crc as the file
 * built whole; every buffer comes back through _released. O_DIRECT and
 * not, and on tmpfs.
 */
static void
stream_file(const char *dir, unsigned int flags, const uint8_t *whole, size_t wlen,
	    const struct sl_ckpt_file_info *wi, int fault)
{
	struct sl_ckpt_file_info info = {
		.ckpt_id = 1, .job = "stream", .task_kind = SL_CKPT_TASK_WORKER,
		.max_parallelism = 128, .parallelism = 1, .created_ns = 42,
	};
	enum { NB = 16, BS = 64 << 10 };
	void *bufs[NB];
	bool busy[NB] = { false };
	struct sl_ckpt_builder b;
	struct sl_ckpt_file_info fi;
	struct sl_ckpt_done d;
	uint8_t payload[60 << 10];
	const void *data;
	size_t len, released = 0, pieces = 0;
	uint64_t cookies[NB];
	unsigned int sid, cur = 0;
	char err[256], path[600];
	int dfd;

	for (int i = 0; i < NB; i++)
		assert_int_equal(posix_memalign(&bufs[i], SL_CKPT_ALIGN, BS), 0);
	assert_int_equal(sl_ckpt_dir_create(dir, 1, &dfd, err, sizeof(err)), 0);
	assert_int_equal(sl_ckpt_writer_open_stream(W, dfd, "worker-0", 9, flags, &sid), 0);
	busy[0] = true;
	assert_int_equal(sl_ckpt_builder_init(&b, bufs[0], BS, &info), 0);
	for (int i = 0; i < 300; i++) {
		size_t n = (size_t)(i * 7919) % sizeof(payload);

		for (size_t k = 0; k < n; k++)
			payload[k] = (uint8_t)(i + k * 31);
		if (b.len + n + 64 > BS) {
			void *out;
			size_t ol;
			uint64_t off;
			unsigned int nx = 0;

			/* a free buffer: wait for the writer to give one back */
			for (;;) {
				unsigned int k = sl_ckpt_writer_released(W, cookies, NB);

				for (unsigned int j = 0; j < k; j++) {
					busy[cookies[j]] = false;
					released++;
				}
				for (nx = 0; nx < NB && busy[nx]; nx++)
					;
				if (nx < NB)
					break;
				assert_int_equal(sl_ckpt_writer_poll(W, &d, 1), 0);
			}
			assert_int_equal(sl_ckpt_builder_swap(&b, bufs[nx], BS, &out, &ol, &off), 0);
			assert_ptr_equal(out, bufs[cur]);
			assert_int_equal(ol % SL_CKPT_ALIGN, 0);
			assert_int_equal(sl_ckpt_writer_append(W, sid, out, ol, off, cur), 0);
			pieces++;
			busy[nx] = true;
			cur = nx;
		}
		assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_KEYED, 1, (uint32_t)(i % 128),
						     payload, n), 0);
	}
	assert_int_equal(sl_ckpt_builder_finish(&b, &data, &len, &fi), 0);
	assert_ptr_equal(data, bufs[cur]);
	assert_int_equal(sl_ckpt_writer_append(W, sid, data, len, fi.size - len, cur), 0);
	pieces++;
	assert_int_equal(sl_ckpt_writer_close_stream(W, sid), 0);
	assert_int_equal(sl_ckpt_writer_append(W, sid, data, len, 0, 99), -EINVAL);
	assert_int_equal(sl_ckpt_writer_wait(W, &d, 1, 30000), 1);
	while (released < pieces) {
		unsigned int k = sl_ckpt_writer_released(W, cookies, NB);

		assert_true(k > 0);
		released += k;
	}
	assert_true(pieces > 20);
	assert_int_equal(d.tag, 9);
	snprintf(path, sizeof(path), "%s/chk-1/worker-0", dir);
	if (fault == 0) {
		uint8_t *back = malloc(wlen + 1);
		FILE *f = fopen(path, "rb");

		assert_int_equal(d.res, 0);
		assert_int_equal(d.bytes, wlen);
		assert_int_equal(fi.size, wi->size);
		assert_int_equal(fi.crc, wi->crc);
		assert_int_equal(fi.n_sections, 300);
		assert_non_null(f);
		assert_int_equal(fread(back, 1, wlen + 1, f), wlen);
		fclose(f);
		assert_memory_equal(back, whole, wlen);
		free(back);
	} else if (fault == SL_FAULT_CKPT_TORN) {
		struct stat sb;

		/* the last piece never written: the file ends short */
		assert_int_equal(d.res, 0);
		assert_int_equal(stat(path, &sb), 0);
		assert_true((size_t)sb.st_size < wlen);
		assert_int_equal(sb.st_size % SL_CKPT_ALIGN, 0);
	} else {
		assert_int_equal(d.res, -ENOSPC);
		assert_int_equal(d.step, SL_CKPT_STEP_WRITE);
		assert_int_equal(access(path, F_OK), -1);
	}
	assert_int_equal(count_suffix(dir, ".tmp"), 0);
	close(dfd);
	for (int i = 0; i < NB; i++)
		free(bufs[i]);
}

static void
test_stream_write(void **state)
{
	struct sl_ckpt_file_info info = {
		.ckpt_id = 1, .job = "stream", .task_kind = SL_CKPT_TASK_WORKER,
		.max_parallelism = 128, .parallelism = 1, .created_ns = 42,
	}, wi;
	struct sl_ckpt_builder b;
	uint8_t payload[60 << 10];
	const void *data;
	uint8_t *whole;
	size_t wlen;
	struct stat sb;

	(void)state;
	assert_int_equal(sl_ckpt_builder_init(&b, NULL, 0, &info), 0);
	for (int i = 0; i < 300; i++) {
		size_t n = (size_t)(i * 7919) % sizeof(payload);

		for (size_t k = 0; k < n; k++)
			payload[k] = (uint8_t)(i + k * 31);
		assert_int_equal(sl_ckpt_builder_add(&b, SL_CKPT_SEC_KEYED, 1, (uint32_t)(i % 128),
						     payload, n), 0);
	}
	assert_int_equal(sl_ckpt_builder_finish(&b, &data, &wlen, &wi), 0);
	whole = malloc(wlen);
	assert_non_null(whole);
	memcpy(whole, data, wlen);
	sl_ckpt_builder_fini(&b);
	stream_file(subdir("stream"), 0, whole, wlen, &wi, 0);
	stream_file(subdir("stream-direct"), SL_CKPT_W_DIRECT, whole, wlen, &wi, 0);
	if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode)) {
		char shm[64];

		snprintf(shm, sizeof(shm), "/dev/shm/sl-ckpt-stream-%d", (int)getpid());
		rm_rf(shm);
		stream_file(shm, SL_CKPT_W_DIRECT, whole, wlen, &wi, 0);
		rm_rf(shm);
	}
	/* A short write is finished by the next; ENOSPC on the 5th write
	 * fails the stream, removes its tmp and hands every buffer back. */
	sl_fault_disarm_all();
	sl_fault_arm(SL_FAULT_CKPT_WRITE_SHORT, 3);
	stream_file(subdir("stream-short"), SL_CKPT_W_DIRECT, whole, wlen, &wi, 0);
	sl_fault_arm(SL_FAULT_CKPT_WRITE_ENOSPC, 4);
	stream_file(subdir("stream-enospc"), SL_CKPT_W_DIRECT, whole, wlen, &wi,
		    SL_FAULT_CKPT_WRITE_ENOSPC);
	sl_fault_arm(SL_FAULT_CKPT_TORN, 0);
	stream_file(subdir("stream-torn"), SL_CKPT_W_DIRECT, whole, wlen, &wi,
		    SL_FAULT_CKPT_TORN);
	sl_fault_disarm_all();
	free(whole);
	/* A writer destroyed with a stream still open: no file under its
	 * name, no tmp, the piece handed back before destroy returns. */
	{
		struct sl_ckpt_writer *w2;
		char *dir = subdir("stream-cancel"), err[256], path[600];
		unsigned int sid;
		void *p = NULL;
		int dfd;

		assert_int_equal(posix_memalign(&p, SL_CKPT_ALIGN, 2 * SL_CKPT_ALIGN), 0);
		memset(p, 7, 2 * SL_CKPT_ALIGN);
		assert_int_equal(sl_ckpt_writer_create(4, &w2), 0);
		assert_int_equal(sl_ckpt_dir_create(dir, 1, &dfd, err, sizeof(err)), 0);
		assert_int_equal(sl_ckpt_writer_open_stream(w2, dfd, "worker-3", 1,
							    SL_CKPT_W_DIRECT, &sid), 0);
		assert_int_equal(sl_ckpt_writer_append(w2, sid, p, 2 * SL_CKPT_ALIGN, 0, 5), 0);
		sl_ckpt_writer_destroy(w2);
		snprintf(path, sizeof(path), "%s/chk-1/worker-3", dir);
		assert_int_equal(access(path, F_OK), -1);
		assert_int_equal(count_suffix(dir, ".tmp"), 0);
		close(dfd);
		free(p);
	}
}

/* ---------------------------------------------------------------- */
/* manifest, latest, list, retain                                   */

static void
test_manifest_codec(void **state)
{
	struct sl_ckpt_manifest *m = calloc(1, sizeof(*m)), *g = calloc(1, sizeof(*g));
	char *buf, err[256];
	size_t len;

	(void)state;
	snprintf(m->job, sizeof(m->job), "demo \"quoted\" job");
	m->ckpt_id = 12;
	m->kind = SL_CKPT_SAVEPOINT;
	m->trigger_ns = 1;
	m->complete_ns = 5000001;
	m->max_parallelism = 128;
	m->n_workers = 3;
	m->n_files = 2;
	snprintf(m->files[0].name, SL_CKPT_NAME_MAX, "worker-0");
	m->files[0].task_kind = SL_CKPT_TASK_WORKER;
	m->files[0].size = 1234;
	m->files[0].crc = 0xE3069283;
	snprintf(m->files[1].name, SL_CKPT_NAME_MAX, "source-0");
	m->files[1].task_kind = SL_CKPT_TASK_SOURCE;
	m->n_offsets = 1;
	m->offsets[0].partition = 3;
	m->offsets[0].offset = 99;
	assert_int_equal(sl_ckpt_manifest_encode(m, &buf, &len), 0);
	assert_int_equal(buf[len - 1], '\n');
	assert_int_equal(sl_ckpt_manifest_decode(buf, len, g, err, sizeof(err)), 0);
	assert_memory_equal(m, g, sizeof(*m));
	for (size_t cut = 0; cut < len; cut++)
		assert_true(sl_ckpt_manifest_decode(buf, cut, g, err, sizeof(err)) < 0);
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x04;
		assert_true(sl_ckpt_manifest_decode(buf, len, g, err, sizeof(err)) < 0);
		buf[i] ^= 0x04;
	}
	free(buf);
	free(m);
	free(g);
}

static void
test_latest_falls_back(void **state)
{
	struct sl_ckpt_latest *l = calloc(1, sizeof(*l));
	char *dir = subdir("latest");
	char path[700], err[256];
	int dfd;

	(void)state;
	assert_int_equal(sl_ckpt_latest(dir, l), -ENOENT);	/* no root at all */
	assert_int_equal(write_ckpt(dir, 1, 2, SL_CKPT_CHECKPOINT), 0);
	assert_int_equal(write_ckpt(dir, 2, 2, SL_CKPT_CHECKPOINT), 0);
	/* chk-3 never completed: a file, no manifest. Skipped silently. */
	assert_int_equal(sl_ckpt_dir_create(dir, 3, &dfd, err, sizeof(err)), 0);
	close(dfd);
	assert_int_equal(sl_ckpt_latest(dir, l), 0);
	assert_int_equal(l->id, 2);
	assert_int_equal(l->n_rejected, 0);
	assert_int_equal(l->m.n_workers, 2);
	assert_int_equal(l->m.offsets[0].offset, 8);
	snprintf(path, sizeof(path), "%s/chk-2", dir);
	assert_string_equal(l->dir, path);

	/* Corrupt the newest: payload of worker-1's section 3 (kg 67). */
	snprintf(path, sizeof(path), "%s/chk-2/worker-1", dir);
	flip_byte(path, 96 + 3 * (32 + 64) + 32 + 5);
	assert_int_equal(sl_ckpt_latest(dir, l), 0);
	assert_int_equal(l->id, 1);
	assert_int_equal(l->n_rejected, 1);
	assert_string_equal(l->rejected,
			    "chk-2: worker-1: section 3 (keyed-state, kg 67): crc mismatch at "
			    "offset 416: file is corrupt\n");

	/* A torn manifest on chk-1 too: nothing left. */
	snprintf(path, sizeof(path), "%s/chk-1/_manifest", dir);
	assert_int_equal(truncate(path, 50), 0);
	assert_int_equal(sl_ckpt_latest(dir, l), -ENOENT);
	assert_int_equal(l->n_rejected, 2);
	assert_non_null(strstr(l->rejected, "chk-1: manifest: torn"));
	free(l);
}

static void
test_manifest_fault_no_commit(void **state)
{
	struct sl_ckpt_latest *l = calloc(1, sizeof(*l));
	char *dir = subdir("mfault");
	char path[700];

	(void)state;
	assert_int_equal(write_ckpt(dir, 1, 1, SL_CKPT_CHECKPOINT), 0);
	/* Two worker writes pass, the manifest's fsync fails. */
	sl_fault_arm(SL_FAULT_CKPT_FSYNC_EIO, 2);
	assert_int_equal(write_ckpt(dir, 2, 2, SL_CKPT_CHECKPOINT), -EIO);
	sl_fault_disarm_all();
	snprintf(path, sizeof(path), "%s/chk-2/_manifest", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/chk-2", dir);
	assert_int_equal(count_suffix(path, ".tmp"), 0);
	assert_int_equal(sl_ckpt_latest(dir, l), 0);
	assert_int_equal(l->id, 1);
	assert_int_equal(l->n_rejected, 0);
	free(l);
}

static void
test_list_and_retain(void **state)
{
	struct sl_ckpt_entry e[16];
	char *dir = subdir("retain");
	char path[700], err[256];
	unsigned int n, del;
	int dfd;

	(void)state;
	/* chk-0 incomplete (old), 1..5 complete with 2 a savepoint, chk-6
	 * incomplete (newer than the newest complete: maybe in flight). */
	assert_int_equal(sl_ckpt_dir_create(dir, 0, &dfd, err, sizeof(err)), 0);
	close(dfd);
	for (uint64_t id = 1; id <= 5; id++)
		assert_int_equal(write_ckpt(dir, id, 1, id == 2 ? SL_CKPT_SAVEPOINT
								 : SL_CKPT_CHECKPOINT), 0);
	assert_int_equal(sl_ckpt_dir_create(dir, 6, &dfd, err, sizeof(err)), 0);
	close(dfd);
	snprintf(path, sizeof(path), "%s/chk-4/worker-0", dir);
	assert_int_equal(truncate(path, 100), 0);

	assert_int_equal(sl_ckpt_list(dir, false, e, 16, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 7);
	assert_int_equal(e[0].id, 6);
	assert_int_equal(e[0].status, SL_CKPT_ST_INCOMPLETE);
	assert_int_equal(e[1].id, 5);
	assert_int_equal(e[1].status, SL_CKPT_ST_COMPLETE);
	assert_int_equal(e[1].kind, SL_CKPT_CHECKPOINT);
	assert_int_equal(e[1].duration_ns, 250000000ull);
	assert_true(e[1].bytes > 64 * 64);
	assert_int_equal(e[2].id, 4);
	assert_int_equal(e[2].status, SL_CKPT_ST_CORRUPT);
	assert_non_null(strstr(e[2].reason, "chk-4: worker-0: torn"));
	assert_int_equal(e[3].id, 3);
	assert_int_equal(e[4].kind, SL_CKPT_SAVEPOINT);
	assert_int_equal(e[6].id, 0);

	/* keep 2: 5 and 3 (4 is corrupt, so not counted, and older than 5);
	 * 2 is a savepoint; 6 is newer than any complete one. */
	assert_int_equal(sl_ckpt_retain(dir, 2, &del, err, sizeof(err)), 0);
	assert_int_equal(del, 3);
	assert_int_equal(sl_ckpt_list(dir, true, e, 16, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 4);
	assert_int_equal(e[0].id, 6);
	assert_int_equal(e[1].id, 5);
	assert_int_equal(e[2].id, 3);
	assert_int_equal(e[3].id, 2);
	assert_int_equal(e[3].status, SL_CKPT_ST_COMPLETE);
	assert_int_equal(sl_ckpt_retain(dir, 0, &del, err, sizeof(err)), -EINVAL);
}

/* Write buf as path (plain write: test fixtures, not checkpoints). */
static void
put_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A checkpoint holding native files: ROOT/chk-id/worker-0.db/{a,b}.sst. */
static void
native_ckpt(const char *dir, uint64_t id, struct sl_ckpt_manifest *m)
{
	char path[700];
	uint8_t a[3000], b[100];
	char *buf;
	size_t len;
	int dfd;

	assert_int_equal(sl_ckpt_dir_create(dir, id, &dfd, path, sizeof(path)), 0);
	close(dfd);
	snprintf(path, sizeof(path), "%s/chk-%" PRIu64 "/worker-0.db", dir, id);
	assert_int_equal(mkdir(path, 0700), 0);
	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(i * 7 + id);
	memset(b, 'b', sizeof(b));
	memset(m, 0, sizeof(*m));
	snprintf(m->job, sizeof(m->job), "native");
	m->ckpt_id = id;
	m->kind = SL_CKPT_CHECKPOINT;
	m->max_parallelism = 128;
	m->n_workers = 1;
	m->n_files = 2;
	snprintf(m->files[0].name, SL_CKPT_NAME_MAX, "worker-0.db/000009.sst");
	m->files[0].task_kind = SL_CKPT_TASK_NATIVE;
	m->files[0].size = sizeof(a);
	m->files[0].crc = sl_ckpt_crc32c(0, a, sizeof(a));
	snprintf(m->files[1].name, SL_CKPT_NAME_MAX, "worker-0.db/CURRENT");
	m->files[1].task_kind = SL_CKPT_TASK_NATIVE;
	m->files[1].size = sizeof(b);
	m->files[1].crc = sl_ckpt_crc32c(0, b, sizeof(b));
	m->files[1].shared = 1;
	snprintf(path, sizeof(path), "%s/chk-%" PRIu64 "/worker-0.db/000009.sst", dir, id);
	put_file(path, a, sizeof(a));
	snprintf(path, sizeof(path), "%s/chk-%" PRIu64 "/worker-0.db/CURRENT", dir, id);
	put_file(path, b, sizeof(b));
	assert_int_equal(sl_ckpt_manifest_encode(m, &buf, &len), 0);
	snprintf(path, sizeof(path), "%s/chk-%" PRIu64 "/_manifest", dir, id);
	put_file(path, buf, len);
	free(buf);
}

/*
 * Native RocksDB checkpoint files: listed as task "native" one directory
 * down, "shared" survives the codec, verification reads the whole file
 * (a flipped byte is named; the cheap check only sees sizes), listing
 * counts shared bytes apart, and retention removes the subdirectory.
 */
static void
test_native_files(void **state)
{
	struct sl_ckpt_manifest *m = calloc(1, sizeof(*m)), *g = calloc(1, sizeof(*g));
	struct sl_ckpt_entry e[4];
	char *dir = subdir("native");
	char path[700], err[512], *buf;
	static const char *const bad[] = {
		"worker-0.db/../x", "worker-0.db/", "/x", "a/b/c", "worker-0.db/.hidden",
	};
	unsigned int n, del;
	size_t len;

	(void)state;
	native_ckpt(dir, 1, m);
	assert_int_equal(sl_ckpt_manifest_encode(m, &buf, &len), 0);
	assert_non_null(strstr(buf, "\"task\":\"native\""));
	assert_non_null(strstr(buf, "\"shared\":true"));
	assert_int_equal(sl_ckpt_manifest_decode(buf, len, g, err, sizeof(err)), 0);
	assert_memory_equal(m, g, sizeof(*m));
	free(buf);
	/* Only a native file may sit in a subdirectory, and only one down. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(g, m, sizeof(*m));
		snprintf(g->files[0].name, SL_CKPT_NAME_MAX, "%s", bad[i]);
		assert_int_equal(sl_ckpt_manifest_encode(g, &buf, &len), 0);
		assert_int_equal(sl_ckpt_manifest_decode(buf, len, g, err, sizeof(err)), -EBADMSG);
		free(buf);
	}
	memcpy(g, m, sizeof(*m));
	g->files[0].task_kind = SL_CKPT_TASK_WORKER;
	assert_int_equal(sl_ckpt_manifest_encode(g, &buf, &len), 0);
	assert_int_equal(sl_ckpt_manifest_decode(buf, len, g, err, sizeof(err)), -EBADMSG);
	free(buf);

	assert_int_equal(sl_ckpt_verify(dir, 1, true, NULL, err, sizeof(err)), 0);
	native_ckpt(dir, 2, m);
	snprintf(path, sizeof(path), "%s/chk-2/worker-0.db/000009.sst", dir);
	flip_byte(path, 1500);
	assert_int_equal(sl_ckpt_verify(dir, 2, false, NULL, err, sizeof(err)), 0);
	assert_int_equal(sl_ckpt_verify(dir, 2, true, NULL, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "chk-2: worker-0.db/000009.sst: file crc32c "));
	assert_non_null(strstr(err, "but manifest says"));
	snprintf(path, sizeof(path), "%s/chk-2/worker-0.db/CURRENT", dir);
	assert_int_equal(truncate(path, 10), 0);
	assert_int_equal(sl_ckpt_verify(dir, 2, false, NULL, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "worker-0.db/CURRENT: torn: 10 bytes, manifest says 100"));

	assert_int_equal(sl_ckpt_list(dir, false, e, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(e[1].id, 1);
	assert_int_equal(e[1].bytes, 3100);
	assert_int_equal(e[1].new_bytes, 3000);
	native_ckpt(dir, 3, m);
	assert_int_equal(sl_ckpt_retain(dir, 1, &del, err, sizeof(err)), 0);
	assert_int_equal(del, 2);
	snprintf(path, sizeof(path), "%s/chk-1", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/chk-2", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	free(m);
	free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_vectors),
		cmocka_unit_test(test_crc_hw_matches_table),
		cmocka_unit_test(test_crc_three_chains),
		cmocka_unit_test(test_crc_combine),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_fixed_buffer),
		cmocka_unit_test(test_every_truncation_is_torn),
		cmocka_unit_test(test_every_bit_flip_is_detected),
		cmocka_unit_test(test_corrupt_message_is_precise),
		cmocka_unit_test(test_fault_sites),
		cmocka_unit_test(test_fault_env),
		cmocka_unit_test(test_many_in_flight),
		cmocka_unit_test(test_direct_write),
		cmocka_unit_test(test_stream_write),
		cmocka_unit_test(test_manifest_codec),
		cmocka_unit_test(test_latest_falls_back),
		cmocka_unit_test(test_manifest_fault_no_commit),
		cmocka_unit_test(test_list_and_retain),
		cmocka_unit_test(test_native_files),
	};
	const char *base = getenv("TMPDIR");
	int r;

	/* The real disk, not a tmpfs: /var/tmp unless TMPDIR says otherwise. */
	snprintf(root, sizeof(root), "%s/test_ckpt.XXXXXX", base ? base : "/var/tmp");
	if (mkdtemp(root) == NULL) {
		perror(root);
		return 1;
	}
	unsetenv("SLUICE_FAULT");
	r = sl_ckpt_writer_create(4, &W);
	if (r == -EPERM || r == -ENOSYS) {
		fprintf(stderr, "test_ckpt: io_uring unavailable (%s): skipped\n", strerror(-r));
		rmdir(root);
		return 77;
	}
	if (r < 0) {
		fprintf(stderr, "test_ckpt: sl_ckpt_writer_create: %s\n", strerror(-r));
		return 1;
	}
	r = cmocka_run_group_tests(tests, NULL, NULL);
	sl_ckpt_writer_destroy(W);
	if (r == 0)
		rm_rf(root);
	else
		fprintf(stderr, "test_ckpt: files kept in %s\n", root);
	return r;
}
