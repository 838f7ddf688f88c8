/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Native RocksDB checkpoints (state.backend.incremental), main lcore side.
 *
 * At the barrier a rocksdb worker hard-links its live files into
 * chk-N/worker-W.db (sl_state_snapshot_native). The files are then part
 * of the checkpoint like the task files: the manifest lists each with its
 * size and whole-file crc32c (task "native"), so sl_ckpt_latest() rejects a
 * checkpoint with a torn or flipped SST and recovery takes the one before.
 *
 * The crc of a file the previous checkpoint already linked (same inode,
 * name and size: an SST is never rewritten) is carried over and the file
 * is marked shared, so a checkpoint reads, like it writes, only what was
 * flushed or compacted since (and the log copy, new every time). New
 * files are read here in slices of the drain budget, between passes of
 * the main loop, from the page cache RocksDB has just filled.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dp.h"
#include "sl_ckpt.h"

#define NATIVE_READ (1u << 20)	/* bytes read per pread */

struct dp_native_file {
	char name[SL_CKPT_NAME_MAX];	/* "worker-0.db/000012.sst" */
	ino_t ino;
	uint64_t size;
	uint32_t crc;
	bool done;			/* crc known */
	bool shared;
};

struct dp_native_set {
	uint32_t n;
	struct dp_native_file *f;
};

struct dp_native {
	struct dp_native_set prev[DP_MAX_WORKERS];	/* last checkpoint's files */
	struct dp_native_set cur;	/* the worker being drained */
	uint32_t at;			/* cur.f[at] is being read */
	uint64_t off;
	int fd;
	uint8_t *buf;
};

struct dp_native *
dp_native_create(void)
{
	struct dp_native *nt = calloc(1, sizeof(*nt));

	if (nt == NULL)
		return NULL;
	nt->buf = malloc(NATIVE_READ);
	if (nt->buf == NULL) {
		free(nt);
		return NULL;
	}
	nt->fd = -1;
	return nt;
}

static void
set_free(struct dp_native_set *s)
{
	free(s->f);
	s->f = NULL;
	s->n = 0;
}

void
dp_native_destroy(struct dp_native *nt)
{
	if (nt == NULL)
		return;
	for (unsigned int i = 0; i < DP_MAX_WORKERS; i++)
		set_free(&nt->prev[i]);
	set_free(&nt->cur);
	if (nt->fd >= 0)
		close(nt->fd);
	free(nt->buf);
	free(nt);
}

int
dp_native_scan(struct dp_native *nt, uint16_t w, int chk_dirfd, const char *sub)
{
	const struct dp_native_set *pv = &nt->prev[w];
	struct dp_native_set *cur = &nt->cur;
	uint32_t cap = 0;
	struct dirent *e;
	int fd, rc = 0;
	DIR *d;

	set_free(cur);
	nt->at = 0;
	nt->off = 0;
	fd = openat(chk_dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		struct dp_native_file *f;
		struct stat sb;

		if (e->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = -errno;
			break;
		}
		if (!S_ISREG(sb.st_mode))
			continue;
		if (cur->n == cap) {
			cap = cap ? 2 * cap : 16;
			f = realloc(cur->f, sizeof(*f) * cap);
			if (f == NULL) {
				rc = -ENOMEM;
				break;
			}
			cur->f = f;
		}
		f = &cur->f[cur->n];
		memset(f, 0, sizeof(*f));
		if ((size_t)snprintf(f->name, sizeof(f->name), "%s/%s", sub, e->d_name) >=
		    sizeof(f->name)) {
			rc = -ENAMETOOLONG;
			break;
		}
		f->ino = sb.st_ino;
		f->size = (uint64_t)sb.st_size;
		for (uint32_t i = 0; i < pv->n; i++) {
			const struct dp_native_file *p = &pv->f[i];
			const char *a = strchr(p->name, '/'), *b = strchr(f->name, '/');

			if (p->ino == f->ino && p->size == f->size && a != NULL &&
			    b != NULL && strcmp(a, b) == 0) {
				f->crc = p->crc;
				f->done = true;
				f->shared = true;
				break;
			}
		}
		cur->n++;
	}
	closedir(d);
	if (rc == 0 && cur->n == 0)
		rc = -ENOENT;	/* RocksDB made no checkpoint there */
	return rc;
}

int
dp_native_step(struct dp_native *nt, int chk_dirfd, size_t budget)
{
	struct dp_native_set *cur = &nt->cur;
	size_t spent = 0;

	while (nt->at < cur->n) {
		struct dp_native_file *f = &cur->f[nt->at];
		ssize_t n;

		if (f->done) {
			nt->at++;
			continue;
		}
		if (budget != 0 && spent >= budget)
			return 1;
		if (nt->fd < 0) {
			nt->fd = openat(chk_dirfd, f->name, O_RDONLY | O_CLOEXEC);
			if (nt->fd < 0)
				return -errno;
			nt->off = 0;
			f->crc = 0;
		}
		n = pread(nt->fd, nt->buf, NATIVE_READ, (off_t)nt->off);
		if (n < 0)
			return -errno;
		if (n > 0) {
			f->crc = sl_ckpt_crc32c(f->crc, nt->buf, (size_t)n);
			nt->off += (uint64_t)n;
			spent += (size_t)n;
			continue;
		}
		close(nt->fd);
		nt->fd = -1;
		if (nt->off != f->size)
			return -EIO;	/* an SST changed under us: never expected */
		f->done = true;
		nt->at++;
	}
	return 0;
}

int
dp_native_emit(struct dp_native *nt, uint16_t w, struct sl_ckpt_manifest *m)
{
	struct dp_native_set *cur = &nt->cur;

	if (m->n_files + cur->n > SL_CKPT_MAX_FILES)
		return -E2BIG;
	for (uint32_t i = 0; i < cur->n; i++) {
		const struct dp_native_file *f = &cur->f[i];
		struct sl_ckpt_mfile *mf = &m->files[m->n_files++];

		memset(mf, 0, sizeof(*mf));
		memcpy(mf->name, f->name, sizeof(mf->name));
		mf->task_kind = SL_CKPT_TASK_NATIVE;
		mf->task_index = w;
		mf->size = f->size;
		mf->crc = f->crc;
		mf->shared = f->shared;
	}
	/* The next checkpoint shares with this one. */
	set_free(&nt->prev[w]);
	nt->prev[w] = *cur;
	cur->f = NULL;
	cur->n = 0;
	return 0;
}

void
dp_native_abort(struct dp_native *nt)
{
	if (nt->fd >= 0)
		close(nt->fd);
	nt->fd = -1;
	set_free(&nt->cur);
}
