/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN: the io_uring checkpoint writer.
 *
 * One ring, one owning thread. Each file is a small state machine driven
 * only by completions, so no call waits for the disk:
 *
 *   OPEN     openat(dirfd, NAME.tmp, O_CREAT|O_TRUNC|O_WRONLY)
 *   WRITE    up to CHAIN_WRITES writes of <= CHUNK bytes, IOSQE_IO_LINK'd,
 *            the last chain ending in a linked fsync (FSYNC)
 *   RENAME   close(fd), and renameat(NAME.tmp -> NAME) linked to
 *            fsync(dirfd) (DIRSYNC), so the name is durable before the
 *            op is reported
 *   CLEANUP  on a failure before the rename: close + unlinkat(NAME.tmp),
 *            so a failed file never leaves a tmp behind and never appears
 *            under its final name
 *
 * A stream (sl_ckpt_writer_open_stream) is the same file whose bytes
 * come in pieces while it is being made: OPEN, then STREAM, one write at
 * a time from a FIFO of the caller's buffers (each handed back through
 * sl_ckpt_writer_released() once written), then, after _close_stream,
 * the fsync and RENAME as above. A failure removes NAME.tmp and hands
 * back every buffer still queued.
 *
 * With SL_CKPT_W_DIRECT the file is opened O_DIRECT and WRITE first sends
 * the SL_CKPT_ALIGN-aligned prefix; then O_DIRECT is switched off
 * (fcntl, which never waits for the disk) and the tail and the fsync
 * follow through the page cache. An open that O_DIRECT fails (EINVAL:
 * tmpfs) is made again without it.
 *
 * Linked requests run in order, so a chain's completions arrive in order
 * and the writer only needs the offset the next write completion refers
 * to. A short write breaks the link (the kernel cancels the rest of the
 * chain with -ECANCELED); when the chain's last completion arrives the
 * writer resubmits from the first byte not written. Every SQE is flagged
 * IOSQE_ASYNC: a buffered write of 100 MB would otherwise run inline in
 * io_uring_enter() and hold the main lcore for tens of milliseconds.
 *
 * The SQ has room for every op's largest step (CHAIN_WRITES + 1 SQEs), and
 * each op has at most one step in flight, so io_uring_get_sqe() cannot run
 * dry; the CQ is twice the SQ (liburing's default), so it cannot overflow.
 * Fault sites (sl_fault_sim) sit where each real failure would surface.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_ckpt.h"
#include "ckpt_int.h"

#define CHUNK (64u << 20)	/* bytes per write SQE */
#define CHAIN_WRITES 4		/* writes per linked chain */
#define SQE_PER_OP (CHAIN_WRITES + 1)
#define CQE_BATCH 32
#define NAME_MAX_ 250
#define STREAM_SEGS 64		/* pieces a stream may have queued */

/* What an SQE was for; low 8 bits of user_data, op index above. */
enum sqe_kind {
	K_OPEN = 1,
	K_WRITE,
	K_FSYNC,
	K_CLOSE,
	K_RENAME,
	K_DIRSYNC,
	K_UNLINK,
	K_FAULT,	/* a NOP standing in for a step a fault replaced */
};

enum op_state {
	S_FREE = 0,
	S_OPEN,
	S_WRITE,
	S_RENAME,
	S_CLEANUP,
	S_FINISHED,	/* waiting to be reported */
	S_STREAM,	/* open, writing pieces as they come */
	S_DEAD,		/* a stream that failed, until the caller closes it */
};

/* A stream's piece: buf[0..len) at file offset off. */
struct seg {
	const uint8_t *buf;
	size_t len;
	uint64_t off;
	uint64_t cookie;
};

/* One file in flight. Written only by the owning thread. */
struct op {
	enum op_state state;
	uint64_t tag;
	int dirfd;
	int fd;
	const uint8_t *buf;
	size_t len;
	size_t target;		/* bytes to write: len, or len/2 under TORN */
	bool direct;		/* the fd is O_DIRECT: write up to dtarget */
	bool reopen;		/* the O_DIRECT open failed with EINVAL */
	size_t dtarget;		/* target rounded down to SL_CKPT_ALIGN */
	size_t wpos;		/* bytes known written, from offset 0 */
	size_t chain_off;	/* offset the next write completion refers to */
	unsigned int flags;
	unsigned int inflight;	/* SQEs of the current step not completed */
	bool broken;		/* the current chain hit a short write */
	bool synced;		/* the file's fsync completed */
	int res;		/* first failure */
	uint16_t fail_step;
	uint64_t t_submit, t_write, fsync_ns;
	/* streams */
	bool stream;
	bool closing;		/* _close_stream: no more pieces */
	bool torn;		/* SL_FAULT_CKPT_TORN: the last piece is dropped */
	struct seg segs[STREAM_SEGS];
	unsigned int seg_head, seg_tail;
	size_t sdone;		/* bytes of the head piece written */
	char name[NAME_MAX_ + 1];
	char tmp[NAME_MAX_ + 6];
};

struct sl_ckpt_writer {
	struct io_uring ring;
	unsigned int max_ops;
	unsigned int pending;	/* ops submitted, not yet reported */
	unsigned int to_submit;	/* SQEs prepared since the last submit */
	int efd;
	unsigned int fin_head, fin_tail;	/* FIFO of finished op indices */
	unsigned int *fin;
	struct op *ops;
	/* streams' written (or dropped) pieces, for _released */
	uint64_t *rel;
	unsigned int rel_head, rel_tail, rel_cap;
};

static struct io_uring_sqe *
get_sqe(struct sl_ckpt_writer *w, struct op *o, enum sqe_kind k)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	/* Cannot be NULL: the SQ holds SQE_PER_OP for every op (DESIGN). */
	io_uring_sqe_set_data64(sqe, ((uint64_t)(o - w->ops) << 8) | k);
	sqe->flags |= IOSQE_ASYNC;
	o->inflight++;
	w->to_submit++;
	return sqe;
}

static void
flush(struct sl_ckpt_writer *w)
{
	if (w->to_submit == 0)
		return;
	/* A failed submit leaves the SQEs queued; the next call retries. */
	if (io_uring_submit(&w->ring) >= 0)
		w->to_submit = 0;
}

static void
finish(struct sl_ckpt_writer *w, struct op *o)
{
	/* A stream's sid stays its own until _close_stream. */
	if (o->stream && !o->closing) {
		o->state = S_DEAD;
		return;
	}
	o->state = S_FINISHED;
	w->fin[w->fin_tail++ % w->max_ops] = (unsigned int)(o - w->ops);
}

static void
fault_nop(struct sl_ckpt_writer *w, struct op *o)
{
	io_uring_prep_nop(get_sqe(w, o, K_FAULT));
}

/* A stream's piece is the caller's again. The FIFO holds every piece a
 * stream may have at once, so it cannot be full (grown at _open_stream). */
static void
seg_release(struct sl_ckpt_writer *w, struct op *o)
{
	w->rel[w->rel_tail++ % w->rel_cap] = o->segs[o->seg_head % STREAM_SEGS].cookie;
	o->seg_head++;
	o->sdone = 0;
}

/* Fail the op at step, and remove NAME.tmp before reporting. */
static void
fail_op(struct sl_ckpt_writer *w, struct op *o, uint16_t step, int res)
{
	if (o->res == 0) {
		o->res = res;
		o->fail_step = step;
	}
	while (o->stream && o->seg_head != o->seg_tail)
		seg_release(w, o);
	o->state = S_CLEANUP;
	if (o->fd >= 0) {
		io_uring_prep_close(get_sqe(w, o, K_CLOSE), o->fd);
		o->fd = -1;
	}
	io_uring_prep_unlinkat(get_sqe(w, o, K_UNLINK), o->dirfd, o->tmp, 0);
}

static void
open_tmp(struct sl_ckpt_writer *w, struct op *o)
{
	io_uring_prep_openat(get_sqe(w, o, K_OPEN), o->dirfd, o->tmp,
			     O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
			     (o->direct ? O_DIRECT : 0), 0644);
}

/* The aligned prefix is written (or a short write left wpos unaligned):
 * the rest goes through the page cache. */
static int
direct_off(struct op *o)
{
	int fl = fcntl(o->fd, F_GETFL);

	o->direct = false;
	if (fl < 0 || fcntl(o->fd, F_SETFL, fl & ~O_DIRECT) < 0)
		return -errno;
	return 0;
}

static void
submit_chain(struct sl_ckpt_writer *w, struct op *o)
{
	size_t off = o->wpos, end = o->direct ? o->dtarget : o->target;
	struct io_uring_sqe *sqe = NULL;

	o->state = S_WRITE;
	o->broken = false;
	o->chain_off = off;
	for (int i = 0; i < CHAIN_WRITES && off < end; i++) {
		size_t n = end - off < CHUNK ? end - off : CHUNK;

		sqe = get_sqe(w, o, K_WRITE);
		io_uring_prep_write(sqe, o->fd, o->buf + off, (unsigned int)n, off);
		sqe->flags |= IOSQE_IO_LINK;
		off += n;
	}
	if (off < o->target) {
		/* More chains follow (or the tail after O_DIRECT); this one
		 * ends without fsync. */
		sqe->flags &= (uint8_t)~IOSQE_IO_LINK;
		return;
	}
	io_uring_prep_fsync(get_sqe(w, o, K_FSYNC), o->fd, 0);
}

/*
 * A stream's next step: write the head piece's rest (through the page
 * cache once a piece is not aligned for O_DIRECT), or, closed and all
 * written, the fsync.
 */
static void
stream_kick(struct sl_ckpt_writer *w, struct op *o)
{
	const struct seg *g;
	size_t n;

	if (o->inflight != 0 || o->res < 0)
		return;
	if (o->seg_head == o->seg_tail) {
		if (o->closing && !o->synced) {
			o->t_write = ckpt_mono_ns();
			io_uring_prep_fsync(get_sqe(w, o, K_FSYNC), o->fd, 0);
		}
		return;
	}
	g = &o->segs[o->seg_head % STREAM_SEGS];
	if (o->torn && o->closing && o->seg_head + 1 == o->seg_tail) {
		seg_release(w, o);	/* a torn file: its end never written */
		stream_kick(w, o);
		return;
	}
	if (o->direct && ((g->off + o->sdone) % SL_CKPT_ALIGN != 0 ||
			  (g->len - o->sdone) % SL_CKPT_ALIGN != 0 ||
			  (uintptr_t)(g->buf + o->sdone) % SL_CKPT_ALIGN != 0)) {
		int rc = direct_off(o);

		if (rc < 0) {
			fail_op(w, o, SL_CKPT_STEP_WRITE, rc);
			return;
		}
	}
	n = g->len - o->sdone < CHUNK ? g->len - o->sdone : CHUNK;
	o->chain_off = g->off + o->sdone;
	io_uring_prep_write(get_sqe(w, o, K_WRITE), o->fd, g->buf + o->sdone,
			    (unsigned int)n, g->off + o->sdone);
}

static void
submit_rename(struct sl_ckpt_writer *w, struct op *o)
{
	struct io_uring_sqe *sqe;

	o->state = S_RENAME;
	io_uring_prep_close(get_sqe(w, o, K_CLOSE), o->fd);
	o->fd = -1;
	if (sl_fault_sim(SL_FAULT_CKPT_RENAME)) {
		o->res = -EIO;
		o->fail_step = SL_CKPT_STEP_RENAME;
		fault_nop(w, o);
		return;
	}
	sqe = get_sqe(w, o, K_RENAME);
	io_uring_prep_renameat(sqe, o->dirfd, o->tmp, o->dirfd, o->name, 0);
	sqe->flags |= IOSQE_IO_LINK;
	io_uring_prep_fsync(get_sqe(w, o, K_DIRSYNC), o->dirfd, 0);
}

/* A step's last completion arrived: start the next step. */
static void
step_done(struct sl_ckpt_writer *w, struct op *o)
{
	switch (o->state) {
	case S_OPEN:
		if (o->reopen) {
			o->reopen = false;
			open_tmp(w, o);
			return;
		}
		if (o->res < 0 && o->fd >= 0) {
			fail_op(w, o, o->fail_step, o->res);	/* cancelled */
			return;
		}
		if (o->res < 0) {
			/* Nothing was opened; an injected failure created nothing. */
			while (o->stream && o->seg_head != o->seg_tail)
				seg_release(w, o);
			finish(w, o);
			return;
		}
		o->t_write = ckpt_mono_ns();
		if (o->stream) {
			o->state = S_STREAM;
			stream_kick(w, o);
			return;
		}
		if (o->target == 0) {
			io_uring_prep_fsync(get_sqe(w, o, K_FSYNC), o->fd, 0);
			o->state = S_WRITE;
			return;
		}
		submit_chain(w, o);
		return;
	case S_WRITE:
		if (o->res < 0) {
			fail_op(w, o, o->fail_step, o->res);
			return;
		}
		if (o->synced && o->wpos >= o->target) {
			o->fsync_ns = ckpt_mono_ns() - o->t_write;
			submit_rename(w, o);
			return;
		}
		if (o->direct && (o->wpos >= o->dtarget || o->wpos % SL_CKPT_ALIGN != 0)) {
			int rc = direct_off(o);

			if (rc < 0) {
				fail_op(w, o, SL_CKPT_STEP_WRITE, rc);
				return;
			}
		}
		submit_chain(w, o);
		return;
	case S_STREAM:
		if (o->res < 0) {
			fail_op(w, o, o->fail_step, o->res);
			return;
		}
		if (o->synced) {
			o->fsync_ns = ckpt_mono_ns() - o->t_write;
			submit_rename(w, o);
			return;
		}
		stream_kick(w, o);
		return;
	case S_RENAME:
	case S_CLEANUP:
		if (o->state == S_RENAME && o->res < 0 && o->fail_step == SL_CKPT_STEP_RENAME) {
			/* The rename never happened: remove the tmp. */
			io_uring_prep_unlinkat(get_sqe(w, o, K_UNLINK), o->dirfd, o->tmp, 0);
			o->state = S_CLEANUP;
			return;
		}
		finish(w, o);
		return;
	default:
		return;
	}
}

static void
on_cqe(struct sl_ckpt_writer *w, uint64_t ud, int res)
{
	struct op *o = &w->ops[ud >> 8];
	size_t want;

	switch ((enum sqe_kind)(ud & 0xff)) {
	case K_OPEN:
		if (res >= 0)
			o->fd = res;
		else if (res == -EINVAL && o->direct) {
			o->direct = false;	/* no O_DIRECT here */
			o->reopen = true;
		} else if (o->res == 0) {
			o->res = res;
			o->fail_step = SL_CKPT_STEP_OPEN;
		}
		break;
	case K_WRITE:
		if (o->stream) {
			const struct seg *g = &o->segs[o->seg_head % STREAM_SEGS];

			want = g->len - o->sdone < CHUNK ? g->len - o->sdone : CHUNK;
			if (o->res < 0)
				break;
			if (res > 0 && sl_fault_sim(SL_FAULT_CKPT_WRITE_SHORT))
				res = res / 2 ? res / 2 : res;
			if (res >= 0 && sl_fault_sim(SL_FAULT_CKPT_WRITE_ENOSPC))
				res = -ENOSPC;
			if (res <= 0) {
				o->res = res < 0 ? res : -EIO;
				o->fail_step = SL_CKPT_STEP_WRITE;
				break;
			}
			/* a short write: the rest goes next (stream_kick) */
			o->sdone += (size_t)res;
			o->wpos += (size_t)res;
			if (o->sdone == g->len)
				seg_release(w, o);
			(void)want;
			break;
		}
		want = o->target - o->chain_off < CHUNK ? o->target - o->chain_off : CHUNK;
		if (o->broken || o->res < 0)
			break;	/* -ECANCELED after a short write, or already failed */
		if (res > 0 && sl_fault_sim(SL_FAULT_CKPT_WRITE_SHORT))
			res = res / 2 ? res / 2 : res;
		if (res >= 0 && sl_fault_sim(SL_FAULT_CKPT_WRITE_ENOSPC))
			res = -ENOSPC;
		if (res < 0) {
			o->res = res;
			o->fail_step = SL_CKPT_STEP_WRITE;
		} else if (res == 0) {
			/* No progress at all: resubmitting would loop. */
			o->res = -EIO;
			o->fail_step = SL_CKPT_STEP_WRITE;
		} else {
			o->wpos = o->chain_off + (size_t)res;
			o->chain_off += want;
			o->broken = (size_t)res < want;
		}
		break;
	case K_FSYNC:
		if (o->broken || o->res < 0)
			break;
		if (sl_fault_sim(SL_FAULT_CKPT_FSYNC_EIO))
			res = -EIO;
		if (res < 0) {
			o->res = res;
			o->fail_step = SL_CKPT_STEP_FSYNC;
		} else {
			o->synced = true;
		}
		break;
	case K_RENAME:
		if (res < 0 && o->res == 0) {
			o->res = res;
			o->fail_step = SL_CKPT_STEP_RENAME;
		}
		break;
	case K_DIRSYNC:
		if (o->res == 0 && res >= 0 && sl_fault_sim(SL_FAULT_CKPT_DIRSYNC_EIO))
			res = -EIO;
		if (res < 0 && o->res == 0) {
			o->res = res;
			o->fail_step = SL_CKPT_STEP_DIRSYNC;
		}
		break;
	case K_CLOSE:
	case K_UNLINK:
	case K_FAULT:
		/* close after fsync cannot lose data; unlink of a tmp that is
		 * already gone is fine. */
		break;
	}
	if (--o->inflight == 0)
		step_done(w, o);
}

int
sl_ckpt_writer_create(unsigned int max_ops, struct sl_ckpt_writer **out)
{
	struct sl_ckpt_writer *w;
	unsigned int entries = 32;
	cpu_set_t cpus;
	int r;

	*out = NULL;
	if (max_ops == 0)
		max_ops = 16;
	if (max_ops > 1024)
		return -EINVAL;
	/* A bad SLUICE_FAULT is ignored here: the chaos harness checks it. */
	sl_fault_arm_from_env(NULL, 0);
	while (entries < max_ops * SQE_PER_OP)
		entries *= 2;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->ops = calloc(max_ops, sizeof(*w->ops));
	w->fin = calloc(max_ops, sizeof(*w->fin));
	/* every piece every op could hold as a stream */
	w->rel_cap = max_ops * STREAM_SEGS;
	w->rel = calloc(w->rel_cap, sizeof(*w->rel));
	if (w->ops == NULL || w->fin == NULL || w->rel == NULL) {
		free(w->ops);
		free(w->fin);
		free(w->rel);
		free(w);
		return -ENOMEM;
	}
	r = io_uring_queue_init(entries, &w->ring, 0);
	if (r < 0) {
		free(w->ops);
		free(w->fin);
		free(w->rel);
		free(w);
		return r;
	}
	/* Every SQE is IOSQE_ASYNC: the copies and the writeback waits run
	 * in io-wq threads, by default on any CPU, a polling lcore's too.
	 * An old kernel without the call keeps the default. */
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		(void)io_uring_register_iowq_aff(&w->ring, sizeof(cpus), &cpus);
	w->max_ops = max_ops;
	w->efd = -1;
	*out = w;
	return 0;
}

static void
reap(struct sl_ckpt_writer *w)
{
	struct io_uring_cqe *cqes[CQE_BATCH];
	unsigned int n;

	do {
		n = io_uring_peek_batch_cqe(&w->ring, cqes, CQE_BATCH);
		for (unsigned int i = 0; i < n; i++)
			on_cqe(w, io_uring_cqe_get_data64(cqes[i]), cqes[i]->res);
		io_uring_cq_advance(&w->ring, n);
		/* Steps started from these completions go out now, so one poll
		 * advances every op as far as the kernel has got. */
		flush(w);
	} while (n == CQE_BATCH);
}

static unsigned int
report(struct sl_ckpt_writer *w, struct sl_ckpt_done *done, unsigned int n)
{
	unsigned int k = 0;

	while (k < n && w->fin_head != w->fin_tail) {
		struct op *o = &w->ops[w->fin[w->fin_head++ % w->max_ops]];
		struct sl_ckpt_done *d = &done[k++];
		size_t nl;

		d->tag = o->tag;
		d->res = o->res;
		d->step = o->res < 0 ? o->fail_step : SL_CKPT_STEP_DONE;
		d->bytes = o->wpos;
		d->fsync_ns = o->fsync_ns;
		d->total_ns = ckpt_mono_ns() - o->t_submit;
		nl = strnlen(o->name, sizeof(d->name) - 1);
		memcpy(d->name, o->name, nl);
		d->name[nl] = '\0';
		if (!o->stream && (o->flags & SL_CKPT_W_FREE))
			free((void *)(uintptr_t)o->buf);
		memset(o, 0, sizeof(*o));
		w->pending--;
	}
	return k;
}

unsigned int
sl_ckpt_writer_poll(struct sl_ckpt_writer *w, struct sl_ckpt_done *done, unsigned int n)
{
	flush(w);
	reap(w);
	return report(w, done, n);
}

unsigned int
sl_ckpt_writer_wait(struct sl_ckpt_writer *w, struct sl_ckpt_done *done, unsigned int n,
		    int timeout_ms)
{
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX
			    : ckpt_mono_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts;
		unsigned int k = sl_ckpt_writer_poll(w, done, n);
		uint64_t now;

		if (k > 0 || w->pending == 0)
			return k;
		now = ckpt_mono_ns();
		if (now >= deadline)
			return 0;
		ts.tv_sec = (long long)((deadline - now) / 1000000000ull);
		ts.tv_nsec = (long long)((deadline - now) % 1000000000ull);
		if (ts.tv_sec > 3600)
			ts.tv_sec = 3600;
		io_uring_wait_cqe_timeout(&w->ring, &cqe, &ts);
	}
}

unsigned int
sl_ckpt_writer_pending(const struct sl_ckpt_writer *w)
{
	return w->pending;
}

int
sl_ckpt_writer_eventfd(struct sl_ckpt_writer *w)
{
	int r;

	if (w->efd >= 0)
		return w->efd;
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0)
		return -errno;
	r = io_uring_register_eventfd(&w->ring, w->efd);
	if (r < 0) {
		close(w->efd);
		w->efd = -1;
		return r;
	}
	return w->efd;
}

static int
op_new(struct sl_ckpt_writer *w, int dirfd, const char *name, const void *buf,
       size_t len, uint64_t tag, unsigned int flags, bool stream)
{
	struct op *o = NULL;
	size_t nl;

	if (name == NULL || (buf == NULL && len > 0) || dirfd < 0)
		return -EINVAL;
	nl = strlen(name);
	if (nl == 0 || strchr(name, '/') != NULL)
		return -EINVAL;
	if (nl > NAME_MAX_)
		return -ENAMETOOLONG;
	for (unsigned int i = 0; i < w->max_ops; i++)
		if (w->ops[i].state == S_FREE) {
			o = &w->ops[i];
			break;
		}
	if (o == NULL)
		return -EAGAIN;
	memset(o, 0, sizeof(*o));
	o->tag = tag;
	o->dirfd = dirfd;
	o->fd = -1;
	o->buf = buf;
	o->len = len;
	o->target = len;
	o->flags = flags;
	o->stream = stream;
	o->direct = (flags & SL_CKPT_W_DIRECT) != 0 &&
		(uintptr_t)buf % SL_CKPT_ALIGN == 0;
	o->t_submit = ckpt_mono_ns();
	memcpy(o->name, name, nl + 1);
	snprintf(o->tmp, sizeof(o->tmp), "%s.tmp", name);
	if (stream) {
		o->torn = sl_fault_sim(SL_FAULT_CKPT_TORN);
	} else {
		if (sl_fault_sim(SL_FAULT_CKPT_TORN))
			o->target = len / 2;
		o->dtarget = o->target - o->target % SL_CKPT_ALIGN;
		if (o->dtarget == 0)
			o->direct = false;	/* all tail */
	}
	o->state = S_OPEN;
	w->pending++;
	if (sl_fault_sim(SL_FAULT_CKPT_OPEN)) {
		o->res = -EACCES;
		o->fail_step = SL_CKPT_STEP_OPEN;
		fault_nop(w, o);
	} else {
		open_tmp(w, o);
	}
	flush(w);
	return (int)(o - w->ops);
}

int
sl_ckpt_writer_submit(struct sl_ckpt_writer *w, int dirfd, const char *name,
		      const void *buf, size_t len, uint64_t tag, unsigned int flags)
{
	int r = op_new(w, dirfd, name, buf, len, tag, flags, false);

	return r < 0 ? r : 0;
}

void
sl_ckpt_writer_destroy(struct sl_ckpt_writer *w)
{
	struct sl_ckpt_done d[8];

	if (w == NULL)
		return;
	/* A stream left open is unfinished: it fails, its tmp removed. */
	for (unsigned int i = 0; i < w->max_ops; i++)
		if (w->ops[i].stream && !w->ops[i].closing &&
		    w->ops[i].state != S_FREE)
			(void)sl_ckpt_writer_abort_stream(w, i);
	/* The kernel may still read the callers' buffers: wait it out. */
	while (w->pending > 0)
		sl_ckpt_writer_wait(w, d, 8, 1000);
	if (w->efd >= 0)
		close(w->efd);
	io_uring_queue_exit(&w->ring);
	free(w->ops);
	free(w->fin);
	free(w->rel);
	free(w);
}

int
sl_ckpt_writer_open_stream(struct sl_ckpt_writer *w, int dirfd, const char *name,
			   uint64_t tag, unsigned int flags, unsigned int *sid)
{
	int r = op_new(w, dirfd, name, NULL, 0, tag, flags & ~SL_CKPT_W_FREE, true);

	if (r < 0)
		return r;
	*sid = (unsigned int)r;
	return 0;
}

/* sid's stream while it still takes calls, else NULL. */
static struct op *
stream_of(struct sl_ckpt_writer *w, unsigned int sid)
{
	struct op *o = sid < w->max_ops ? &w->ops[sid] : NULL;

	return o != NULL && o->stream && !o->closing ? o : NULL;
}

int
sl_ckpt_writer_append(struct sl_ckpt_writer *w, unsigned int sid, const void *buf,
		      size_t len, uint64_t off, uint64_t cookie)
{
	struct op *o = stream_of(w, sid);

	if (o == NULL || buf == NULL || len == 0)
		return -EINVAL;
	if (o->seg_tail - o->seg_head == STREAM_SEGS)
		return -EAGAIN;
	o->segs[o->seg_tail++ % STREAM_SEGS] = (struct seg){ buf, len, off, cookie };
	if (o->res < 0) {
		/* failed already: back at once */
		while (o->seg_head != o->seg_tail)
			seg_release(w, o);
		return 0;
	}
	if (o->state == S_STREAM)
		stream_kick(w, o);
	flush(w);
	return 0;
}

int
sl_ckpt_writer_close_stream(struct sl_ckpt_writer *w, unsigned int sid)
{
	struct op *o = stream_of(w, sid);

	if (o == NULL)
		return -EINVAL;
	o->closing = true;
	if (o->state == S_STREAM)
		stream_kick(w, o);
	else if (o->state == S_DEAD)
		finish(w, o);
	flush(w);
	return 0;
}

int
sl_ckpt_writer_abort_stream(struct sl_ckpt_writer *w, unsigned int sid)
{
	struct op *o = stream_of(w, sid);

	if (o == NULL)
		return -EINVAL;
	o->closing = true;
	if (o->res == 0) {
		o->res = -ECANCELED;
		o->fail_step = SL_CKPT_STEP_WRITE;
	}
	if (o->state == S_DEAD)
		finish(w, o);
	else if (o->state == S_STREAM && o->inflight == 0)
		fail_op(w, o, o->fail_step, o->res);
	/* else the step in flight ends in fail_op (step_done) */
	flush(w);
	return 0;
}

unsigned int
sl_ckpt_writer_released(struct sl_ckpt_writer *w, uint64_t *cookies, unsigned int n)
{
	unsigned int k = 0;

	while (k < n && w->rel_head != w->rel_tail)
		cookies[k++] = w->rel[w->rel_head++ % w->rel_cap];
	return k;
}

int
sl_ckpt_dir_create(const char *root, uint64_t ckpt_id, int *dirfd, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd, e;

	*dirfd = -1;
	if (mkdir(root, 0755) != 0 && errno != EEXIST) {
		e = errno;
		return ckpt_errf(err, errlen, -e, "%s: cannot create the checkpoint directory: %s",
				 root, strerror(e));
	}
	if (snprintf(path, sizeof(path), "%s/chk-%llu", root,
		     (unsigned long long)ckpt_id) >= (int)sizeof(path))
		return ckpt_errf(err, errlen, -ENAMETOOLONG, "%s: path too long", root);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		e = errno;
		return ckpt_errf(err, errlen, -e, "%s: cannot create: %s (check space and "
				 "permissions of the checkpoint directory)", path, strerror(e));
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		return ckpt_errf(err, errlen, -e, "%s: cannot open: %s", path, strerror(e));
	}
	*dirfd = fd;
	return 0;
}
