/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN: the manifest and the set of checkpoints under a root.
 *
 * The manifest is JSON (jansson, as the control protocol), one line, so
 * `jq . chk-7/_manifest` and sluicectl read it without a sluice library.
 * Its own integrity check is its last member, "crc32c", computed over
 * every byte before `,"crc32c"`: the writer appends it after serialising
 * the rest, and the reader checks it before parsing, so a flipped byte
 * that still parses as JSON (a digit in a size) is caught too.
 *
 * A checkpoint is complete exactly when chk-<id>/_manifest exists: the
 * coordinator writes it last, through the same io_uring writer (tmp,
 * fsync, rename, fsync dir), after every task's file was acknowledged
 * durable. Everything here is cold (recovery, sluicectl, retention) and
 * uses plain blocking syscalls.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_ckpt.h"
#include "ckpt_int.h"

#define MF_FORMAT "sluice-manifest"
#define MF_VERSION 1
#define CRC_KEY ",\"crc32c\":\""
#define CRC_SUFFIX_LEN (sizeof(CRC_KEY) - 1 + 8 + 3)	/* hex, "}\n */

static const char *
kind_name(unsigned int k)
{
	return k == SL_CKPT_SAVEPOINT ? "savepoint" : "checkpoint";
}

int
sl_ckpt_manifest_encode(const struct sl_ckpt_manifest *m, char **out, size_t *len)
{
	json_t *o, *files, *offs;
	char *body, *res;
	size_t bl;
	uint32_t crc;

	*out = NULL;
	*len = 0;
	if (m->n_files > SL_CKPT_MAX_FILES || m->n_offsets > SL_CKPT_MAX_OFFSETS ||
	    (m->kind != SL_CKPT_CHECKPOINT && m->kind != SL_CKPT_SAVEPOINT) ||
	    m->ckpt_id > INT64_MAX || m->trigger_ns > INT64_MAX || m->complete_ns > INT64_MAX)
		return -EINVAL;
	files = json_array();
	offs = json_array();
	for (uint32_t i = 0; i < m->n_files; i++) {
		const struct sl_ckpt_mfile *f = &m->files[i];
		char hex[9];

		json_t *jf = json_object();

		snprintf(hex, sizeof(hex), "%08" PRIx32, f->crc);
		json_object_set_new(jf, "name",
				    json_stringn(f->name, strnlen(f->name, SL_CKPT_NAME_MAX - 1)));
		json_object_set_new(jf, "task", json_string(sl_ckpt_task_name(f->task_kind)));
		json_object_set_new(jf, "index", json_integer(f->task_index));
		json_object_set_new(jf, "size", json_integer((json_int_t)f->size));
		json_object_set_new(jf, "crc32c", json_string(hex));
		if (f->shared)
			json_object_set_new(jf, "shared", json_true());
		json_array_append_new(files, jf);
	}
	for (uint32_t i = 0; i < m->n_offsets; i++)
		json_array_append_new(offs, json_pack("{s:i, s:I, s:I}",
			"source", (int)m->offsets[i].source,
			"partition", (json_int_t)m->offsets[i].partition,
			"offset", (json_int_t)m->offsets[i].offset));
	o = json_pack("{s:s, s:i, s:o, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
		"format", MF_FORMAT, "version", MF_VERSION,
		"job", json_stringn(m->job, strnlen(m->job, sizeof(m->job) - 1)),
		"checkpoint_id", (json_int_t)m->ckpt_id, "kind", kind_name(m->kind),
		"trigger_ns", (json_int_t)m->trigger_ns,
		"complete_ns", (json_int_t)m->complete_ns,
		"duration_ns", (json_int_t)(m->complete_ns > m->trigger_ns ?
					    m->complete_ns - m->trigger_ns : 0),
		"max_parallelism", (json_int_t)m->max_parallelism,
		"workers", (json_int_t)m->n_workers, "sources", (json_int_t)m->n_sources,
		"files", files, "offsets", offs);
	if (o == NULL)
		return -EINVAL;	/* json_pack took files/offs (s:o) even on failure */
	body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (body == NULL)
		return -ENOMEM;
	bl = strlen(body);
	/* Replace the closing brace with the crc member. */
	res = malloc(bl - 1 + CRC_SUFFIX_LEN + 1);
	if (res == NULL || bl < 2 || body[bl - 1] != '}') {
		free(res);
		free(body);
		return -ENOMEM;
	}
	memcpy(res, body, bl - 1);
	free(body);
	crc = sl_ckpt_crc32c(0, res, bl - 1);
	snprintf(res + bl - 1, CRC_SUFFIX_LEN + 1, CRC_KEY "%08" PRIx32 "\"}\n", crc);
	*out = res;
	*len = bl - 1 + CRC_SUFFIX_LEN;
	return 0;
}

static int
get_u64(json_t *o, const char *key, uint64_t max, uint64_t *v, char *err, size_t errlen)
{
	json_t *j = json_object_get(o, key);

	if (!json_is_integer(j) || json_integer_value(j) < 0 ||
	    (uint64_t)json_integer_value(j) > max)
		return ckpt_errf(err, errlen, -EBADMSG,
				 "manifest: \"%s\" missing or out of range: manifest is corrupt", key);
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

static int
parse_hex32(const char *s, uint32_t *v)
{
	uint32_t x = 0;

	if (s == NULL || strlen(s) != 8)
		return -1;
	for (int i = 0; i < 8; i++) {
		char c = s[i];

		x <<= 4;
		if (c >= '0' && c <= '9')
			x |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			x |= (uint32_t)(c - 'a' + 10);
		else
			return -1;
	}
	*v = x;
	return 0;
}

static int
decode_obj(json_t *o, struct sl_ckpt_manifest *m, char *err, size_t errlen)
{
	json_t *j, *files, *offs, *e;
	const char *s;
	uint64_t v;
	size_t i;
	int r;

	j = json_object_get(o, "format");
	if (!json_is_string(j) || strcmp(json_string_value(j), MF_FORMAT) != 0)
		return ckpt_errf(err, errlen, -EBADMSG, "manifest: not a sluice manifest");
	if ((r = get_u64(o, "version", 1000, &v, err, errlen)) < 0)
		return r;
	if (v != MF_VERSION)
		return ckpt_errf(err, errlen, -EPROTONOSUPPORT,
				 "manifest: version %" PRIu64 " not supported (this build reads %d): "
				 "restore with a newer sluice", v, MF_VERSION);
	j = json_object_get(o, "job");
	if (!json_is_string(j) || json_string_length(j) >= sizeof(m->job) ||
	    strlen(json_string_value(j)) != json_string_length(j))
		return ckpt_errf(err, errlen, -EBADMSG, "manifest: bad \"job\"");
	memcpy(m->job, json_string_value(j), json_string_length(j) + 1);
	if ((r = get_u64(o, "checkpoint_id", INT64_MAX, &m->ckpt_id, err, errlen)) < 0 ||
	    (r = get_u64(o, "trigger_ns", INT64_MAX, &m->trigger_ns, err, errlen)) < 0 ||
	    (r = get_u64(o, "complete_ns", INT64_MAX, &m->complete_ns, err, errlen)) < 0 ||
	    (r = get_u64(o, "max_parallelism", UINT32_MAX, &v, err, errlen)) < 0)
		return r;
	m->max_parallelism = (uint32_t)v;
	if ((r = get_u64(o, "workers", UINT32_MAX, &v, err, errlen)) < 0)
		return r;
	m->n_workers = (uint32_t)v;
	if ((r = get_u64(o, "sources", UINT32_MAX, &v, err, errlen)) < 0)
		return r;
	m->n_sources = (uint32_t)v;
	j = json_object_get(o, "kind");
	s = json_string_value(j);
	if (s != NULL && strcmp(s, "checkpoint") == 0)
		m->kind = SL_CKPT_CHECKPOINT;
	else if (s != NULL && strcmp(s, "savepoint") == 0)
		m->kind = SL_CKPT_SAVEPOINT;
	else
		return ckpt_errf(err, errlen, -EBADMSG, "manifest: bad \"kind\"");
	files = json_object_get(o, "files");
	offs = json_object_get(o, "offsets");
	if (!json_is_array(files) || json_array_size(files) > SL_CKPT_MAX_FILES ||
	    !json_is_array(offs) || json_array_size(offs) > SL_CKPT_MAX_OFFSETS)
		return ckpt_errf(err, errlen, -EBADMSG,
				 "manifest: \"files\" or \"offsets\" missing or too long");
	json_array_foreach(files, i, e) {
		struct sl_ckpt_mfile *f = &m->files[i];
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *task = json_string_value(json_object_get(e, "task"));

		const char *slash = name != NULL ? strchr(name, '/') : NULL;
		json_t *shared = json_object_get(e, "shared");

		/* Only a native file sits one directory down: "worker-0.db/x". */
		if (name == NULL || strlen(name) == 0 || strlen(name) >= SL_CKPT_NAME_MAX ||
		    name[0] == '.' || task == NULL ||
		    (slash != NULL && (strcmp(task, "native") != 0 || slash == name ||
				       slash[1] == '.' || slash[1] == '\0' ||
				       strchr(slash + 1, '/') != NULL)) ||
		    (shared != NULL && !json_is_boolean(shared)) ||
		    parse_hex32(json_string_value(json_object_get(e, "crc32c")), &f->crc) < 0)
			return ckpt_errf(err, errlen, -EBADMSG, "manifest: files[%zu]: bad name, "
					 "task or crc32c", i);
		strcpy(f->name, name);
		if (strcmp(task, "source") == 0)
			f->task_kind = SL_CKPT_TASK_SOURCE;
		else if (strcmp(task, "worker") == 0)
			f->task_kind = SL_CKPT_TASK_WORKER;
		else if (strcmp(task, "sink") == 0)
			f->task_kind = SL_CKPT_TASK_SINK;
		else if (strcmp(task, "native") == 0)
			f->task_kind = SL_CKPT_TASK_NATIVE;
		else
			return ckpt_errf(err, errlen, -EBADMSG, "manifest: files[%zu]: bad task", i);
		if ((r = get_u64(e, "index", UINT16_MAX, &v, err, errlen)) < 0 ||
		    (r = get_u64(e, "size", INT64_MAX, &f->size, err, errlen)) < 0)
			return r;
		f->task_index = (uint16_t)v;
		f->shared = json_is_true(shared);
	}
	m->n_files = (uint32_t)json_array_size(files);
	json_array_foreach(offs, i, e) {
		struct sl_ckpt_offset *f = &m->offsets[i];

		if ((r = get_u64(e, "source", UINT16_MAX, &v, err, errlen)) < 0)
			return r;
		f->source = (uint16_t)v;
		if ((r = get_u64(e, "partition", UINT32_MAX, &v, err, errlen)) < 0)
			return r;
		f->partition = (uint32_t)v;
		if ((r = get_u64(e, "offset", INT64_MAX, &f->offset, err, errlen)) < 0)
			return r;
	}
	m->n_offsets = (uint32_t)json_array_size(offs);
	return 0;
}

int
sl_ckpt_manifest_decode(const void *buf, size_t len, struct sl_ckpt_manifest *m,
			char *err, size_t errlen)
{
	const char *p = buf;
	const char *suf;
	json_error_t je;
	json_t *o;
	uint32_t want;
	char hex[9];
	int r;

	memset(m, 0, sizeof(*m));
	if (len < CRC_SUFFIX_LEN + 2)
		return ckpt_errf(err, errlen, -EBADMSG,
				 "manifest: torn: %zu bytes is too short", len);
	suf = p + len - CRC_SUFFIX_LEN;
	if (memcmp(suf, CRC_KEY, sizeof(CRC_KEY) - 1) != 0 ||
	    memcmp(suf + CRC_SUFFIX_LEN - 3, "\"}\n", 3) != 0)
		return ckpt_errf(err, errlen, -EBADMSG,
				 "manifest: torn: does not end in its crc32c member");
	memcpy(hex, suf + sizeof(CRC_KEY) - 1, 8);
	hex[8] = '\0';
	if (parse_hex32(hex, &want) < 0)
		return ckpt_errf(err, errlen, -EBADMSG, "manifest: bad crc32c member");
	if (sl_ckpt_crc32c(0, p, len - CRC_SUFFIX_LEN) != want)
		return ckpt_errf(err, errlen, -EBADMSG,
				 "manifest: crc mismatch over its first %zu bytes: manifest is corrupt",
				 len - CRC_SUFFIX_LEN);
	o = json_loadb(p, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL)
		return ckpt_errf(err, errlen, -EBADMSG, "manifest: bad JSON at byte %d: %s",
				 je.position, je.text);
	if (!json_is_object(o)) {
		json_decref(o);
		return ckpt_errf(err, errlen, -EBADMSG, "manifest: not a JSON object");
	}
	r = decode_obj(o, m, err, errlen);
	json_decref(o);
	return r;
}

int
sl_ckpt_manifest_submit(struct sl_ckpt_writer *w, int dirfd, const struct sl_ckpt_manifest *m,
			uint64_t tag)
{
	char *buf;
	size_t len;
	int r = sl_ckpt_manifest_encode(m, &buf, &len);

	if (r < 0)
		return r;
	r = sl_ckpt_writer_submit(w, dirfd, SL_CKPT_MANIFEST, buf, len, tag, SL_CKPT_W_FREE);
	if (r < 0)
		free(buf);
	return r;
}

/* ---------------------------------------------------------------- */
/* checkpoints under a root                                          */

static int
chk_path(char *path, size_t n, const char *root, uint64_t id)
{
	int r = snprintf(path, n, "%s/chk-%" PRIu64, root, id);

	return r < 0 || (size_t)r >= n ? -ENAMETOOLONG : 0;
}

/* A native file: its size and whole-file crc32c, streamed (SSTs are big). */
static int
verify_native(int dfd, const struct sl_ckpt_mfile *f, char *err, size_t errlen)
{
	enum { CHUNK = 1 << 20 };
	uint8_t *buf = malloc(CHUNK);
	uint64_t off = 0;
	uint32_t crc = 0;
	int fd, r = 0;

	if (buf == NULL)
		return -ENOMEM;
	fd = openat(dfd, f->name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = ckpt_errf(err, errlen, -errno, "%s: missing: %s", f->name, strerror(errno));
		free(buf);
		return r;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, CHUNK, (off_t)off);

		if (n < 0) {
			r = ckpt_errf(err, errlen, -errno, "%s: %s", f->name, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		crc = sl_ckpt_crc32c(crc, buf, (size_t)n);
		off += (uint64_t)n;
	}
	close(fd);
	free(buf);
	if (r == 0 && off != f->size)
		r = ckpt_errf(err, errlen, -EBADMSG, "%s: torn: %" PRIu64 " bytes, manifest says %" PRIu64,
			      f->name, off, f->size);
	else if (r == 0 && crc != f->crc)
		r = ckpt_errf(err, errlen, -EBADMSG,
			      "%s: file crc32c %08" PRIx32 " but manifest says %08" PRIx32,
			      f->name, crc, f->crc);
	return r;
}

static int
verify_file(int dfd, uint64_t id, const struct sl_ckpt_mfile *f, bool full,
	    char *err, size_t errlen)
{
	struct sl_ckpt_file_info info;
	struct sl_ckpt_reader rd;
	struct stat st;
	char why[512];
	void *buf;
	size_t len;
	int r;

	if (!full) {
		if (fstatat(dfd, f->name, &st, 0) != 0)
			return ckpt_errf(err, errlen, -errno, "%s: missing: %s", f->name,
					 strerror(errno));
		if ((uint64_t)st.st_size != f->size)
			return ckpt_errf(err, errlen, -EBADMSG,
					 "%s: torn: %lld bytes, manifest says %" PRIu64,
					 f->name, (long long)st.st_size, f->size);
		return 0;
	}
	if (f->task_kind == SL_CKPT_TASK_NATIVE)
		return verify_native(dfd, f, err, errlen);
	r = sl_ckpt_file_load(dfd, f->name, &buf, &len, why, sizeof(why));
	if (r < 0)
		return ckpt_errf(err, errlen, r, "%s", why);
	if (len != f->size) {
		free(buf);
		return ckpt_errf(err, errlen, -EBADMSG, "%s: torn: %zu bytes, manifest says %" PRIu64,
				 f->name, len, f->size);
	}
	r = sl_ckpt_reader_open(&rd, buf, len, &info, why, sizeof(why));
	if (r == 0 && info.crc != f->crc)
		r = ckpt_errf(why, sizeof(why), -EBADMSG,
			      "file crc32c %08" PRIx32 " but manifest says %08" PRIx32,
			      info.crc, f->crc);
	if (r == 0 && (info.ckpt_id != id || info.task_kind != f->task_kind ||
		       info.task_index != f->task_index))
		r = ckpt_errf(why, sizeof(why), -EBADMSG,
			      "file belongs to checkpoint %" PRIu64 " %s-%u, not this one",
			      info.ckpt_id, sl_ckpt_task_name(info.task_kind), info.task_index);
	free(buf);
	if (r < 0)
		return ckpt_errf(err, errlen, r, "%s: %s", f->name, why);
	return 0;
}

int
sl_ckpt_verify(const char *root, uint64_t id, bool full, struct sl_ckpt_manifest *m,
	       char *err, size_t errlen)
{
	struct sl_ckpt_manifest *mm = m ? m : malloc(sizeof(*mm));
	char path[PATH_MAX], why[600];
	void *buf;
	size_t len;
	int dfd, r;

	if (mm == NULL)
		return -ENOMEM;
	r = chk_path(path, sizeof(path), root, id);
	if (r < 0) {
		ckpt_errf(err, errlen, r, "chk-%" PRIu64 ": path too long", id);
		goto out;
	}
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = ckpt_errf(err, errlen, -errno, "chk-%" PRIu64 ": %s", id, strerror(errno));
		goto out;
	}
	r = sl_ckpt_file_load(dfd, SL_CKPT_MANIFEST, &buf, &len, why, sizeof(why));
	if (r == 0) {
		r = sl_ckpt_manifest_decode(buf, len, mm, why, sizeof(why));
		free(buf);
	}
	if (r == 0 && mm->ckpt_id != id)
		r = ckpt_errf(why, sizeof(why), -EBADMSG,
			      "manifest: names checkpoint %" PRIu64, mm->ckpt_id);
	for (uint32_t i = 0; r == 0 && i < mm->n_files; i++)
		r = verify_file(dfd, id, &mm->files[i], full, why, sizeof(why));
	close(dfd);
	if (r < 0)
		ckpt_errf(err, errlen, r, "chk-%" PRIu64 ": %s", id, why);
out:
	if (m == NULL)
		free(mm);
	return r;
}

static int
cmp_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* chk-<id> directories under root, newest first; *ids malloc'd. */
static int
scan(const char *root, uint64_t **ids, unsigned int *n, char *err, size_t errlen)
{
	DIR *d = opendir(root);
	struct dirent *e;
	uint64_t *v = NULL;
	unsigned int cnt = 0, cap = 0;

	*ids = NULL;
	*n = 0;
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return ckpt_errf(err, errlen, -errno, "%s: %s", root, strerror(errno));
	}
	while ((e = readdir(d)) != NULL) {
		const char *s = e->d_name;
		char *end;
		unsigned long long id;

		if (strncmp(s, "chk-", 4) != 0 || s[4] < '0' || s[4] > '9')
			continue;
		errno = 0;
		id = strtoull(s + 4, &end, 10);
		if (*end != '\0' || errno != 0)
			continue;
		if (cnt == cap) {
			uint64_t *nv = realloc(v, (cap ? cap * 2 : 16) * sizeof(*v));

			if (nv == NULL) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
			cap = cap ? cap * 2 : 16;
		}
		v[cnt++] = id;
	}
	closedir(d);
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_desc);
	*ids = v;
	*n = cnt;
	return 0;
}

static bool
has_manifest(const char *root, uint64_t id)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/chk-%" PRIu64 "/" SL_CKPT_MANIFEST, root, id) >=
	    (int)sizeof(path))
		return false;
	return access(path, F_OK) == 0;
}

int
sl_ckpt_latest(const char *root, struct sl_ckpt_latest *out)
{
	uint64_t *ids;
	unsigned int n;
	size_t used = 0;
	int r;

	memset(out, 0, sizeof(*out));
	r = scan(root, &ids, &n, out->rejected, sizeof(out->rejected));
	if (r < 0)
		return r;
	for (unsigned int i = 0; i < n; i++) {
		char why[512];

		if (!has_manifest(root, ids[i]))
			continue;	/* never completed: not a candidate, not news */
		r = sl_ckpt_verify(root, ids[i], true, &out->m, why, sizeof(why));
		if (r == 0) {
			out->id = ids[i];
			chk_path(out->dir, sizeof(out->dir), root, ids[i]);
			free(ids);
			return 0;
		}
		out->n_rejected++;
		if (used < sizeof(out->rejected)) {
			int k = snprintf(out->rejected + used, sizeof(out->rejected) - used,
					 "%s\n", why);

			used += k > 0 ? (size_t)k : 0;
		}
	}
	free(ids);
	memset(&out->m, 0, sizeof(out->m));
	return -ENOENT;
}

int
sl_ckpt_list(const char *root, bool full, struct sl_ckpt_entry *out, unsigned int max,
	     unsigned int *n_found, char *err, size_t errlen)
{
	struct sl_ckpt_manifest *m;
	uint64_t *ids;
	unsigned int n;
	int r;

	*n_found = 0;
	r = scan(root, &ids, &n, err, errlen);
	if (r < 0)
		return r;
	m = malloc(sizeof(*m));
	if (m == NULL) {
		free(ids);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < n && i < max; i++) {
		struct sl_ckpt_entry *e = &out[i];

		memset(e, 0, sizeof(*e));
		e->id = ids[i];
		if (!has_manifest(root, ids[i])) {
			e->status = SL_CKPT_ST_INCOMPLETE;
			snprintf(e->reason, sizeof(e->reason), "no manifest: never completed");
			continue;
		}
		r = sl_ckpt_verify(root, ids[i], full, m, e->reason, sizeof(e->reason));
		e->status = r == 0 ? SL_CKPT_ST_COMPLETE : SL_CKPT_ST_CORRUPT;
		if (r == 0 || m->ckpt_id == ids[i]) {
			e->kind = m->kind;
			e->complete_ns = m->complete_ns;
			e->duration_ns = m->complete_ns > m->trigger_ns ?
					 m->complete_ns - m->trigger_ns : 0;
			e->n_files = m->n_files;
			for (uint32_t k = 0; k < m->n_files; k++) {
				e->bytes += m->files[k].size;
				if (!m->files[k].shared)
					e->new_bytes += m->files[k].size;
			}
		}
	}
	*n_found = n;
	free(m);
	free(ids);
	return 0;
}

/* Empty the directory name under dfd (its files only: nothing nests deeper). */
static void
remove_subdir(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *e;
	DIR *d;

	if (fd < 0)
		return;		/* not a directory */
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			(void)unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

static int
remove_dir(const char *root, uint64_t id, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int r = 0;

	if (chk_path(path, sizeof(path), root, id) < 0)
		return -ENAMETOOLONG;
	d = opendir(path);
	if (d == NULL)
		return ckpt_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
	/* The manifest goes first: a crash mid-delete then leaves an
	 * incomplete checkpoint, never a "complete" one missing files. */
	if (unlinkat(dirfd(d), SL_CKPT_MANIFEST, 0) != 0 && errno != ENOENT)
		r = ckpt_errf(err, errlen, -errno, "%s/%s: %s", path, SL_CKPT_MANIFEST,
			      strerror(errno));
	while (r == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN)
			remove_subdir(dirfd(d), e->d_name);	/* a native checkpoint */
		if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT &&
		    unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) != 0 && errno != ENOENT)
			r = ckpt_errf(err, errlen, -errno, "%s/%s: %s (remove it by hand)",
				      path, e->d_name, strerror(errno));
	}
	closedir(d);
	if (r == 0 && rmdir(path) != 0)
		r = ckpt_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
	return r;
}

int
sl_ckpt_retain(const char *root, unsigned int keep, unsigned int *n_deleted,
	       char *err, size_t errlen)
{
	struct sl_ckpt_manifest *m;
	uint64_t *ids;
	uint8_t *st;	/* per id: 0 incomplete/corrupt, 1 complete, 2 savepoint */
	unsigned int n, kept = 0, del = 0;
	uint64_t newest = 0;
	bool any = false;
	int r, first_err = 0;

	if (n_deleted)
		*n_deleted = 0;
	if (keep == 0)
		return ckpt_errf(err, errlen, -EINVAL, "retain: keep at least 1 checkpoint");
	r = scan(root, &ids, &n, err, errlen);
	if (r < 0)
		return r;
	m = malloc(sizeof(*m));
	st = calloc(n ? n : 1, 1);
	if (m == NULL || st == NULL) {
		free(m);
		free(st);
		free(ids);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (!has_manifest(root, ids[i]) ||
		    sl_ckpt_verify(root, ids[i], false, m, NULL, 0) < 0)
			continue;
		st[i] = m->kind == SL_CKPT_SAVEPOINT ? 2 : 1;
		if (!any) {
			newest = ids[i];
			any = true;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		bool drop;

		if (st[i] == 2)
			continue;
		if (st[i] == 1)
			drop = ++kept > keep;
		else
			drop = any && ids[i] < newest;
		if (!drop)
			continue;
		r = remove_dir(root, ids[i], err, errlen);
		if (r < 0 && first_err == 0)
			first_err = r;
		else if (r == 0)
			del++;
	}
	if (n_deleted)
		*n_deleted = del;
	free(st);
	free(m);
	free(ids);
	return first_err;
}
