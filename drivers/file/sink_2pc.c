/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Exactly-once file sink by two-phase commit (semantics.md R6.10): one
 * file per transaction, renamed into place when the checkpoint that covers
 * it completes. Commit is idempotent (a part already in place counts as
 * committed), which recovery relies on when a checkpoint completed but the
 * sink never heard of it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_csv.h"
#include "io_private.h"

static void
part_path(const struct sl_sink2pc *k, uint64_t txn, bool pending, char *buf,
	  size_t len)
{
	snprintf(buf, len, "%s.part-%010" PRIu64 "%s", k->base, txn,
		 pending ? ".pending" : "");
}

static int
fsync_dir_of(const char *path)
{
	char tmp[SL_PLAN_PATH_MAX];
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s", path);
	fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Rename a pending part into place; done already counts as done. */
static int
commit_txn(struct sl_sink2pc *k, uint64_t txn)
{
	char from[SL_PLAN_PATH_MAX + 32], to[SL_PLAN_PATH_MAX + 32];
	struct stat st;

	part_path(k, txn, true, from, sizeof(from));
	part_path(k, txn, false, to, sizeof(to));
	if (rename(from, to) != 0) {
		int e = errno;

		if (e == ENOENT && stat(to, &st) == 0)
			return 0;
		SL_IO_LOG(ERR, "sink: committing %s failed: %s", from, strerror(e));
		return -e;
	}
	return fsync_dir_of(to);
}

static int
begin_txn(struct sl_sink2pc *k, uint64_t txn)
{
	char path[SL_PLAN_PATH_MAX + 32];

	part_path(k, txn, true, path, sizeof(path));
	k->f = fopen(path, "w");
	if (k->f == NULL) {
		int e = errno;

		SL_IO_LOG(ERR, "sink: cannot create %s: %s; check the directory is writable",
			  path, strerror(e));
		return -e;
	}
	k->st.current = txn;
	return 0;
}

/* Remove parts: every part (fresh start), or every part from txn on (restore). */
static int
remove_parts(struct sl_sink2pc *k, bool all, uint64_t from_txn)
{
	char dir[SL_PLAN_PATH_MAX], base[SL_PLAN_PATH_MAX], path[SL_PLAN_PATH_MAX * 2 + 2];
	char prefix[SL_PLAN_PATH_MAX + 8];
	const char *dname;
	struct dirent *e;
	size_t plen;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s", k->base);
	snprintf(base, sizeof(base), "%s", k->base);
	snprintf(prefix, sizeof(prefix), "%s.part-", basename(base));
	plen = strlen(prefix);
	dname = dirname(dir);
	d = opendir(dname);
	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		const char *rest;
		char *end;
		uint64_t txn;
		bool pending;

		if (strncmp(e->d_name, prefix, plen) != 0)
			continue;
		rest = e->d_name + plen;
		txn = strtoull(rest, &end, 10);
		if (end == rest)
			continue;
		pending = strcmp(end, ".pending") == 0;
		if (!pending && *end != '\0')
			continue;
		/* Restoring an older checkpoint than the newest one (a corrupt
		 * newest one was passed over) finds later parts committed:
		 * the replay writes them again, so they go too. */
		if (!all && txn < from_txn)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dname, e->d_name);
		unlink(path);
	}
	closedir(d);
	return fsync_dir_of(k->base);
}

int
sl_sink2pc_open(struct sl_sink2pc *k, const char *base,
		const struct sl_schema *out, const struct sl_sink2pc_state *restore)
{
	char path[SL_PLAN_PATH_MAX + 32];
	int rc, n;

	memset(k, 0, sizeof(*k));
	snprintf(k->base, sizeof(k->base), "%s", base);
	io_make_parent(k->base);
	if (restore == NULL) {
		FILE *h;

		rc = remove_parts(k, true, 0);
		if (rc < 0 && rc != -ENOENT)
			return rc;
		/* Part 0: the header, committed at once. */
		part_path(k, 0, false, path, sizeof(path));
		h = fopen(path, "w");
		if (h == NULL) {
			rc = -errno;
			SL_IO_LOG(ERR, "sink: cannot create %s: %s; check the directory is writable",
				  path, strerror(-rc));
			return rc;
		}
		n = sl_csv_format_header(out, k->line, sizeof(k->line));
		if (n < 0 || fprintf(h, "%s\n", k->line) < 0 || fflush(h) != 0 ||
		    fsync(fileno(h)) != 0) {
			fclose(h);
			return -EIO;
		}
		fclose(h);
		return begin_txn(k, 1);
	}
	/* recoverAndCommit every pending transaction of the snapshot... */
	for (uint32_t i = 0; i < restore->n_pending; i++) {
		rc = commit_txn(k, restore->pending_txn[i]);
		if (rc < 0)
			return rc;
	}
	/* ...and abort the one that was open, with anything after it. */
	rc = remove_parts(k, false, restore->current);
	if (rc < 0)
		return rc;
	return begin_txn(k, restore->current);
}

int
sl_sink2pc_write(struct sl_sink2pc *k, const struct sl_schema *out,
		 const uint8_t *row)
{
	int n = sl_csv_format_row(out, row, k->line, sizeof(k->line) - 1);

	if (n < 0)
		return n;
	k->line[n] = '\n';
	if (fwrite(k->line, 1, (size_t)n + 1, k->f) != (size_t)n + 1)
		return -EIO;
	k->rows++;
	return 0;
}

/* Make the open transaction durable and close it. */
static int
seal(struct sl_sink2pc *k)
{
	int rc = 0;

	if (fflush(k->f) != 0 || fsync(fileno(k->f)) != 0)
		rc = -errno;
	if (fclose(k->f) != 0 && rc == 0)
		rc = -errno;
	k->f = NULL;
	return rc;
}

int
sl_sink2pc_precommit(struct sl_sink2pc *k, uint64_t ckpt,
		     struct sl_sink2pc_state *st)
{
	int rc;

	if (k->st.n_pending == SL_SINK2PC_MAX_PENDING) {
		SL_IO_LOG(ERR, "sink: %u transactions wait for their checkpoints; checkpoints are not completing",
			  k->st.n_pending);
		return -EBUSY;
	}
	rc = seal(k);
	if (rc < 0)
		return rc;
	k->st.pending_txn[k->st.n_pending] = k->st.current;
	k->st.pending_ckpt[k->st.n_pending] = ckpt;
	k->st.n_pending++;
	rc = begin_txn(k, k->st.current + 1);
	*st = k->st;
	return rc;
}

int
sl_sink2pc_commit(struct sl_sink2pc *k, uint64_t ckpt)
{
	uint32_t keep = 0;

	/* Notifications can be skipped: commit everything up to ckpt. */
	for (uint32_t i = 0; i < k->st.n_pending; i++) {
		if (k->st.pending_ckpt[i] <= ckpt) {
			int rc = commit_txn(k, k->st.pending_txn[i]);

			if (rc < 0)
				return rc;
			continue;
		}
		k->st.pending_txn[keep] = k->st.pending_txn[i];
		k->st.pending_ckpt[keep] = k->st.pending_ckpt[i];
		keep++;
	}
	k->st.n_pending = keep;
	return 0;
}

int
sl_sink2pc_finish(struct sl_sink2pc *k)
{
	int rc = seal(k);

	for (uint32_t i = 0; rc == 0 && i < k->st.n_pending; i++)
		rc = commit_txn(k, k->st.pending_txn[i]);
	k->st.n_pending = 0;
	return rc == 0 ? commit_txn(k, k->st.current) : rc;
}
