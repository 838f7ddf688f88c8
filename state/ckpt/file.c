/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN: snapshot files in memory (format in ckpt_format.h).
 *
 * The builder appends; it never seeks back except to patch the open
 * section's length and crcs in _end, which is why a section's payload can
 * be streamed from a snapshot iterator in slices without staging it. Three
 * crcs run as bytes go in: the open section's payload crc, the "meta" crc
 * over the header and section headers (the trailer's check), and the
 * whole-file crc the manifest lists, so _finish never makes another pass
 * over a 100 MB buffer. The whole-file crc cannot run over a section
 * header before _end patches it, so it is carried separately: bytes
 * before the open section are in file_crc, and _end folds in the patched
 * header and then combines the payload's crc (sl_ckpt_crc32c_combine):
 * each byte is read once, from the caller's buffer.
 *
 * The reader validates everything before it hands out a single section:
 * restoring half a checkpoint and then finding the rest corrupt is worse
 * than refusing it at once. Its messages name the section, its kind, its
 * key group and the byte offset, because whoever reads them is deciding
 * whether the disk or the writer is at fault.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "sl_ckpt.h"
#include "ckpt_format.h"
#include "ckpt_int.h"

const char *
sl_ckpt_sec_kind_name(unsigned int kind)
{
	switch (kind) {
	case SL_CKPT_SEC_KEYED: return "keyed-state";
	case SL_CKPT_SEC_OPERATOR: return "operator-state";
	case SL_CKPT_SEC_SOURCE: return "source-offsets";
	case SL_CKPT_SEC_SINK: return "sink-state";
	case SL_CKPT_SEC_CHANNEL: return "channel-state";
	default: return "unknown-kind";
	}
}

const char *
sl_ckpt_task_name(unsigned int kind)
{
	switch (kind) {
	case SL_CKPT_TASK_SOURCE: return "source";
	case SL_CKPT_TASK_WORKER: return "worker";
	case SL_CKPT_TASK_SINK: return "sink";
	case SL_CKPT_TASK_NATIVE: return "native";
	default: return "task";
	}
}

int
sl_ckpt_task_file(char *buf, size_t n, enum sl_ckpt_task kind, uint16_t index)
{
	int r = snprintf(buf, n, "%s-%u", sl_ckpt_task_name(kind), index);

	return r < 0 || (size_t)r >= n ? -ENAMETOOLONG : 0;
}

/* ---------------------------------------------------------------- */
/* builder                                                           */

static int
reserve(struct sl_ckpt_builder *b, size_t more)
{
	size_t need = b->len + more;
	uint8_t *nb;
	void *nv;
	size_t ncap;

	if (need < b->len)
		return -ENOMEM;
	if (need <= b->cap)
		return 0;
	if (!b->owned)
		return -ENOBUFS;
	ncap = b->cap ? b->cap : 4096;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	/* Page-aligned, so the writer can send the file with O_DIRECT
	 * (SL_CKPT_W_DIRECT); growth copies, which a buffer kept from one
	 * checkpoint to the next (sl_ckpt_builder_init_grow) seldom does. */
	if (posix_memalign(&nv, SL_CKPT_ALIGN, ncap) != 0)
		return -ENOMEM;
	nb = nv;
	if (b->len != 0)
		memcpy(nb, b->buf, b->len);
	free(b->buf);
	b->buf = nb;
	b->cap = ncap;
	return 0;
}

static int
fail(struct sl_ckpt_builder *b, int e)
{
	if (b->err == 0)
		b->err = e;
	return e;
}

static int builder_start(struct sl_ckpt_builder *b, const struct sl_ckpt_file_info *info);

int
sl_ckpt_builder_init(struct sl_ckpt_builder *b, void *buf, size_t cap,
		     const struct sl_ckpt_file_info *info)
{
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = buf ? cap : 0;
	b->owned = buf == NULL;
	return builder_start(b, info);
}

int
sl_ckpt_builder_init_grow(struct sl_ckpt_builder *b, void *buf, size_t cap,
			  const struct sl_ckpt_file_info *info)
{
	int r;

	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = buf ? cap : 0;
	b->owned = true;
	r = builder_start(b, info);
	if (r < 0)
		sl_ckpt_builder_fini(b);
	return r;
}

static int
builder_start(struct sl_ckpt_builder *b, const struct sl_ckpt_file_info *info)
{
	const char *job;
	uint8_t *h;
	size_t jl;
	int r;

	if (info == NULL || info->task_kind < SL_CKPT_TASK_SOURCE ||
	    info->task_kind > SL_CKPT_TASK_SINK || info->max_parallelism == 0)
		return -EINVAL;
	r = reserve(b, CKPT_HDR_SIZE);
	if (r < 0)
		return r;
	h = b->buf;
	memset(h, 0, CKPT_HDR_SIZE);
	memcpy(h + CKPT_H_MAGIC, CKPT_MAGIC, 8);
	ckpt_put16(h + CKPT_H_VERSION, CKPT_VERSION);
	ckpt_put16(h + CKPT_H_HDRSIZE, CKPT_HDR_SIZE);
	ckpt_put16(h + CKPT_H_TASK_KIND, info->task_kind);
	ckpt_put16(h + CKPT_H_TASK_INDEX, info->task_index);
	ckpt_put64(h + CKPT_H_CKPT_ID, info->ckpt_id);
	ckpt_put64(h + CKPT_H_CREATED, info->created_ns ? info->created_ns : ckpt_now_ns());
	job = info->job_name ? info->job_name : info->job;
	ckpt_put64(h + CKPT_H_JOB_HASH, ckpt_fnv1a64(job));
	ckpt_put32(h + CKPT_H_MAXP, info->max_parallelism);
	ckpt_put32(h + CKPT_H_PAR, info->parallelism);
	jl = strnlen(job, CKPT_JOB_BYTES - 1);
	memcpy(h + CKPT_H_JOB, job, jl);
	b->len = CKPT_HDR_SIZE;
	b->meta_crc = sl_ckpt_crc32c(0, h, CKPT_HDR_SIZE);
	b->file_crc = b->meta_crc;
	return 0;
}

int
sl_ckpt_builder_begin(struct sl_ckpt_builder *b, enum sl_ckpt_sec_kind kind,
		      uint32_t op_id, uint32_t kg)
{
	uint8_t *s;
	int r;

	if (b->err)
		return b->err;
	if (b->in_section || kind < SL_CKPT_SEC_KEYED || kind > CKPT_SEC_KIND_MAX ||
	    (kind == SL_CKPT_SEC_KEYED) == (kg == SL_CKPT_NO_KG))
		return fail(b, -EINVAL);
	r = reserve(b, CKPT_SEC_SIZE);
	if (r < 0)
		return fail(b, r);
	s = b->buf + b->len;
	memset(s, 0, CKPT_SEC_SIZE);
	ckpt_put16(s + CKPT_S_KIND, (uint16_t)kind);
	ckpt_put32(s + CKPT_S_INDEX, b->n_sections);
	ckpt_put32(s + CKPT_S_OP, op_id);
	ckpt_put32(s + CKPT_S_KG, kg);
	b->sec_off = b->len;
	b->len += CKPT_SEC_SIZE;
	b->sec_crc = 0;
	b->in_section = true;
	return 0;
}

/*
 * A big append is copied with non-temporal stores: the file's buffer is
 * read next by the disk's DMA, not by this CPU, and ordinary stores would
 * read every line of it first and push it through the shared cache, out
 * of the worker's way (a 10M-key checkpoint writes ~320 MB a second;
 * the worker kept ~3% more of its rate in state_bench --concurrent). The
 * fence makes the bytes visible before the buffer goes to the writer.
 */
#define CKPT_NT_MIN 4096u
#define CKPT_APPEND_PIECE (24u << 10)	/* three of crc32c.c's blocks */

static void
copy_out(uint8_t *dst, const uint8_t *src, size_t len)
{
#ifdef __SSE2__
	size_t i = 0, head = (16u - ((uintptr_t)dst & 15u)) & 15u;

	if (len < CKPT_NT_MIN) {
		memcpy(dst, src, len);
		return;
	}
	memcpy(dst, src, head);
	for (i = head; i + 64 <= len; i += 64) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(src + i + 16));
		__m128i d = _mm_loadu_si128((const __m128i *)(const void *)(src + i + 32));
		__m128i e = _mm_loadu_si128((const __m128i *)(const void *)(src + i + 48));

		_mm_stream_si128((__m128i *)(void *)(dst + i), a);
		_mm_stream_si128((__m128i *)(void *)(dst + i + 16), c);
		_mm_stream_si128((__m128i *)(void *)(dst + i + 32), d);
		_mm_stream_si128((__m128i *)(void *)(dst + i + 48), e);
	}
	memcpy(dst + i, src + i, len - i);
	_mm_sfence();
#else
	memcpy(dst, src, len);
#endif
}

int
sl_ckpt_builder_append(struct sl_ckpt_builder *b, const void *p, size_t len)
{
	int r;

	if (b->err)
		return b->err;
	if (!b->in_section)
		return fail(b, -EINVAL);
	if (len == 0)
		return 0;
	r = reserve(b, len);
	if (r < 0)
		return fail(b, r);
	/* In pieces that stay in L1 between the crc's read and the copy's:
	 * a 1 MiB chunk read whole twice came from L2 and L3 twice. */
	for (size_t o = 0; o < len; o += CKPT_APPEND_PIECE) {
		size_t n = len - o < CKPT_APPEND_PIECE ? len - o : CKPT_APPEND_PIECE;

		b->sec_crc = sl_ckpt_crc32c(b->sec_crc, (const uint8_t *)p + o, n);
		copy_out(b->buf + b->len + o, (const uint8_t *)p + o, n);
	}
	b->len += len;
	return 0;
}

int
sl_ckpt_builder_end(struct sl_ckpt_builder *b)
{
	uint8_t *s;
	uint64_t plen;

	if (b->err)
		return b->err;
	if (!b->in_section)
		return fail(b, -EINVAL);
	s = b->buf + b->sec_off;
	plen = b->len - b->sec_off - CKPT_SEC_SIZE;
	ckpt_put64(s + CKPT_S_LEN, plen);
	ckpt_put32(s + CKPT_S_CRC, b->sec_crc);
	ckpt_put32(s + CKPT_S_HCRC, sl_ckpt_crc32c(0, s, CKPT_S_HCRC));
	b->meta_crc = sl_ckpt_crc32c(b->meta_crc, s, CKPT_SEC_SIZE);
	/* The payload's crc is known: no second pass over it. */
	b->file_crc = sl_ckpt_crc32c(b->file_crc, s, CKPT_SEC_SIZE);
	b->file_crc = sl_ckpt_crc32c_combine(b->file_crc, b->sec_crc, plen);
	b->n_sections++;
	b->in_section = false;
	return 0;
}

int
sl_ckpt_builder_add(struct sl_ckpt_builder *b, enum sl_ckpt_sec_kind kind,
		    uint32_t op_id, uint32_t kg, const void *p, size_t len)
{
	int r = sl_ckpt_builder_begin(b, kind, op_id, kg);

	if (r == 0)
		r = sl_ckpt_builder_append(b, p, len);
	if (r == 0)
		r = sl_ckpt_builder_end(b);
	return r;
}

int
sl_ckpt_builder_finish(struct sl_ckpt_builder *b, const void **data, size_t *len,
		       struct sl_ckpt_file_info *info)
{
	uint8_t *t;
	int r;

	if (b->err)
		return b->err;
	if (b->in_section || b->buf == NULL)
		return fail(b, -EINVAL);
	r = reserve(b, CKPT_TRL_SIZE);
	if (r < 0)
		return fail(b, r);
	t = b->buf + b->len;
	memcpy(t + CKPT_T_MAGIC, CKPT_END_MAGIC, 8);
	ckpt_put32(t + CKPT_T_COUNT, b->n_sections);
	ckpt_put32(t + CKPT_T_CRC, b->meta_crc);
	ckpt_put64(t + CKPT_T_LEN, b->base + b->len + CKPT_TRL_SIZE);
	b->file_crc = sl_ckpt_crc32c(b->file_crc, t, CKPT_TRL_SIZE);
	b->len += CKPT_TRL_SIZE;
	/* A second _finish would append a second trailer. */
	b->err = -EALREADY;
	*data = b->buf;
	*len = b->len;
	if (info != NULL) {
		info->n_sections = b->n_sections;
		info->size = b->base + b->len;
		info->crc = b->file_crc;
	}
	return 0;
}

size_t
sl_ckpt_builder_flushable(const struct sl_ckpt_builder *b)
{
	if (b->err || b->in_section)
		return 0;
	return b->len - b->len % SL_CKPT_ALIGN;
}

int
sl_ckpt_builder_swap(struct sl_ckpt_builder *b, void *nbuf, size_t ncap,
		     void **out, size_t *out_len, uint64_t *out_off)
{
	size_t take = sl_ckpt_builder_flushable(b), rest;

	if (b->err)
		return b->err;
	if (take == 0 || nbuf == NULL || (uintptr_t)nbuf % SL_CKPT_ALIGN != 0)
		return -EINVAL;
	rest = b->len - take;
	if (rest > ncap)
		return -ENOBUFS;
	memcpy(nbuf, b->buf + take, rest);
	*out = b->buf;
	*out_len = take;
	*out_off = b->base;
	b->base += take;
	b->buf = nbuf;
	b->cap = ncap;
	b->len = rest;
	b->owned = false;
	return 0;
}

void *
sl_ckpt_builder_release(struct sl_ckpt_builder *b, size_t *cap)
{
	void *p = b->owned ? b->buf : NULL;

	if (cap != NULL)
		*cap = p != NULL ? b->cap : 0;

	memset(b, 0, sizeof(*b));
	return p;
}

void
sl_ckpt_builder_fini(struct sl_ckpt_builder *b)
{
	if (b->owned)
		free(b->buf);
	memset(b, 0, sizeof(*b));
}

/* ---------------------------------------------------------------- */
/* reader                                                            */

static int
corrupt(char *err, size_t errlen, const char *what, size_t off)
{
	return ckpt_errf(err, errlen, -EBADMSG, "%s at offset %zu: file is corrupt", what, off);
}

int
sl_ckpt_reader_open(struct sl_ckpt_reader *r, const void *buf, size_t len,
		    struct sl_ckpt_file_info *info, char *err, size_t errlen)
{
	const uint8_t *p = buf;
	const uint8_t *t;
	uint32_t meta, n, idx = 0;
	uint16_t ver, hsz;
	size_t pos, end;
	char what[160];

	memset(r, 0, sizeof(*r));
	if (len < 8 || memcmp(p, CKPT_MAGIC, 8) != 0)
		return ckpt_errf(err, errlen, -EBADMSG,
				 len < 8 ? "torn: file is %zu bytes, shorter than its magic"
					 : "not a sluice checkpoint file (bad magic, %zu bytes)",
				 len);
	if (len < 10)
		return ckpt_errf(err, errlen, -EBADMSG,
				 "torn: file is %zu bytes, cut inside the header", len);
	ver = ckpt_get16(p + CKPT_H_VERSION);
	if (ver > CKPT_VERSION)
		return ckpt_errf(err, errlen, -EPROTONOSUPPORT,
				 "format version %u is newer than this build reads (%u): "
				 "restore with a newer sluice", ver, CKPT_VERSION);
	if (len < CKPT_HDR_SIZE + CKPT_TRL_SIZE)
		return ckpt_errf(err, errlen, -EBADMSG,
				 "torn: file is %zu bytes, shorter than header and trailer (%d)",
				 len, CKPT_HDR_SIZE + CKPT_TRL_SIZE);
	hsz = ckpt_get16(p + CKPT_H_HDRSIZE);
	if (ver == 0 || hsz != CKPT_HDR_SIZE)
		return corrupt(err, errlen, ver == 0 ? "header: version 0" : "header: bad header size", 8);
	t = p + len - CKPT_TRL_SIZE;
	if (memcmp(t + CKPT_T_MAGIC, CKPT_END_MAGIC, 8) != 0)
		return ckpt_errf(err, errlen, -EBADMSG,
				 "torn: no trailer in the last %d bytes (file of %zu bytes was cut "
				 "short or never finished)", CKPT_TRL_SIZE, len);
	if (ckpt_get64(t + CKPT_T_LEN) != len)
		return ckpt_errf(err, errlen, -EBADMSG,
				 "torn: trailer says %llu bytes, file has %zu",
				 (unsigned long long)ckpt_get64(t + CKPT_T_LEN), len);
	n = ckpt_get32(t + CKPT_T_COUNT);
	meta = sl_ckpt_crc32c(0, p, CKPT_HDR_SIZE);
	pos = CKPT_HDR_SIZE;
	end = len - CKPT_TRL_SIZE;
	while (pos < end) {
		const uint8_t *s = p + pos;
		uint16_t kind;
		uint32_t kg;
		uint64_t plen;

		if (end - pos < CKPT_SEC_SIZE) {
			snprintf(what, sizeof(what), "section %u: header cut short", idx);
			return corrupt(err, errlen, what, pos);
		}
		if (sl_ckpt_crc32c(0, s, CKPT_S_HCRC) != ckpt_get32(s + CKPT_S_HCRC)) {
			snprintf(what, sizeof(what), "section %u: header crc mismatch", idx);
			return corrupt(err, errlen, what, pos);
		}
		kind = ckpt_get16(s + CKPT_S_KIND);
		kg = ckpt_get32(s + CKPT_S_KG);
		plen = ckpt_get64(s + CKPT_S_LEN);
		if (kg == SL_CKPT_NO_KG)
			snprintf(what, sizeof(what), "section %u (%s, op %u)", idx,
				 sl_ckpt_sec_kind_name(kind), ckpt_get32(s + CKPT_S_OP));
		else
			snprintf(what, sizeof(what), "section %u (%s, kg %u)", idx,
				 sl_ckpt_sec_kind_name(kind), kg);
		if (kind < SL_CKPT_SEC_KEYED || kind > CKPT_SEC_KIND_MAX ||
		    ckpt_get16(s + CKPT_S_FLAGS) != 0 || ckpt_get32(s + CKPT_S_INDEX) != idx ||
		    (kind == SL_CKPT_SEC_KEYED) == (kg == SL_CKPT_NO_KG))
			return ckpt_errf(err, errlen, -EBADMSG,
					 "%s: bad kind, flags, index or key group at offset %zu: "
					 "file is corrupt", what, pos);
		if (plen > end - pos - CKPT_SEC_SIZE)
			return ckpt_errf(err, errlen, -EBADMSG,
					 "%s: length %llu runs past the trailer at offset %zu: "
					 "file is corrupt", what, (unsigned long long)plen, pos);
		if (sl_ckpt_crc32c(0, s + CKPT_SEC_SIZE, plen) != ckpt_get32(s + CKPT_S_CRC))
			return ckpt_errf(err, errlen, -EBADMSG,
					 "%s: crc mismatch at offset %zu: file is corrupt",
					 what, pos + CKPT_SEC_SIZE);
		meta = sl_ckpt_crc32c(meta, s, CKPT_SEC_SIZE);
		pos += CKPT_SEC_SIZE + plen;
		idx++;
	}
	if (idx != n)
		return ckpt_errf(err, errlen, -EBADMSG,
				 "trailer: says %u sections, file has %u at offset %zu: file is corrupt",
				 n, idx, end);
	if (meta != ckpt_get32(t + CKPT_T_CRC))
		return ckpt_errf(err, errlen, -EBADMSG,
				 "header or trailer: crc mismatch over the file header and section "
				 "headers (trailer at offset %zu): file is corrupt", end);
	if (ckpt_get16(p + CKPT_H_TASK_KIND) < SL_CKPT_TASK_SOURCE ||
	    ckpt_get16(p + CKPT_H_TASK_KIND) > SL_CKPT_TASK_SINK ||
	    ckpt_get32(p + CKPT_H_MAXP) == 0 || p[CKPT_H_JOB + CKPT_JOB_BYTES - 1] != 0)
		return corrupt(err, errlen, "header: bad task kind, max_parallelism or job name", 12);
	r->buf = p;
	r->len = len;
	r->pos = CKPT_HDR_SIZE;
	r->n = n;
	if (info != NULL) {
		memset(info, 0, sizeof(*info));
		info->ckpt_id = ckpt_get64(p + CKPT_H_CKPT_ID);
		info->created_ns = ckpt_get64(p + CKPT_H_CREATED);
		info->job_hash = ckpt_get64(p + CKPT_H_JOB_HASH);
		memcpy(info->job, p + CKPT_H_JOB, CKPT_JOB_BYTES);
		info->task_kind = ckpt_get16(p + CKPT_H_TASK_KIND);
		info->task_index = ckpt_get16(p + CKPT_H_TASK_INDEX);
		info->max_parallelism = ckpt_get32(p + CKPT_H_MAXP);
		info->parallelism = ckpt_get32(p + CKPT_H_PAR);
		info->n_sections = n;
		info->size = len;
		info->crc = sl_ckpt_crc32c(0, p, len);
	}
	return 0;
}

void
sl_ckpt_reader_kg(struct sl_ckpt_reader *r, uint32_t first, uint32_t last)
{
	r->kg_filter = true;
	r->kg_first = first;
	r->kg_last = last;
}

int
sl_ckpt_reader_next(struct sl_ckpt_reader *r, struct sl_ckpt_section *s)
{
	while (r->next < r->n) {
		const uint8_t *h = r->buf + r->pos;
		uint64_t plen = ckpt_get64(h + CKPT_S_LEN);

		s->index = r->next++;
		s->kind = ckpt_get16(h + CKPT_S_KIND);
		s->op_id = ckpt_get32(h + CKPT_S_OP);
		s->key_group = ckpt_get32(h + CKPT_S_KG);
		s->offset = r->pos + CKPT_SEC_SIZE;
		s->len = plen;
		s->data = h + CKPT_SEC_SIZE;
		r->pos += CKPT_SEC_SIZE + plen;
		if (r->kg_filter && s->kind == SL_CKPT_SEC_KEYED &&
		    (s->key_group < r->kg_first || s->key_group > r->kg_last))
			continue;
		return 1;
	}
	return 0;
}

int
sl_ckpt_file_load(int dirfd, const char *name, void **buf, size_t *len,
		  char *err, size_t errlen)
{
	struct stat st;
	uint8_t *p;
	size_t got = 0;
	int fd, e;

	*buf = NULL;
	*len = 0;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		return ckpt_errf(err, errlen, -e, "%s: cannot open: %s", name, strerror(e));
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		close(fd);
		return ckpt_errf(err, errlen, -e, "%s: cannot stat: %s", name, strerror(e));
	}
	p = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (p == NULL) {
		close(fd);
		return ckpt_errf(err, errlen, -ENOMEM, "%s: no memory for %lld bytes",
				 name, (long long)st.st_size);
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = pread(fd, p + got, (size_t)st.st_size - got, (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			e = r < 0 ? errno : EIO;
			free(p);
			close(fd);
			return ckpt_errf(err, errlen, -e, "%s: read failed at %zu: %s",
					 name, got, r < 0 ? strerror(e) : "file shrank while read");
		}
		got += (size_t)r;
	}
	close(fd);
	*buf = p;
	*len = got;
	return 0;
}
