/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checkpoints in a standalone dataplane (semantics.md R6.1-R6.10), with
 * the main lcore as coordinator:
 *
 *   tick: trigger id -> the RX lcores record their offsets and inject
 *         BARRIER(id) behind every row before it
 *   workers: align their inputs, begin a copy-on-write snapshot of their
 *         state, forward the barrier, and go on processing
 *   main lcore (sink), once every worker's barrier arrived: pre-commit the
 *         sink's transaction, write source-* and sink-0, then encode each
 *         worker's snapshot into worker-N a slice per main-loop pass
 *         (CKPT_DRAIN_BUDGET), telling the worker when it may end it; every
 *         file goes through io_uring (write, fsync, rename, fsync dir);
 *         then the manifest; when it is durable the checkpoint is complete
 *         and the sink commits.
 *
 * One checkpoint is in flight at a time (Flink's default), so a worker
 * never has two snapshots open. Recovery (--restore) rewinds the sources,
 * recovers the sink's transactions and hands the worker sections to the
 * workers, which load their key groups from all files (N->M) on their own
 * lcores (worker_state.c).
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "dp.h"
#include "sl_ckpt.h"
#include "sl_kg.h"

#define CKPT_MANIFEST_TAG UINT64_MAX
/* A worker's state is written in slices of this many bytes per main-loop
 * pass, so the sink keeps draining results while a big snapshot is written. */
#define CKPT_DRAIN_BUDGET (4u << 20)
#define CKPT_CHUNK_MAX (1u << 20)
/*
 * A worker's file is written while it is built, from buffers of this
 * size (a slice fills at most one and a bit), so it never needs memory
 * of its size (~320 MB at 10M keys): less to write and to read back for
 * the disk, and memory that stays in the caches. More are allocated when
 * the disk falls behind, up to CKPT_SBUF_MAX; then the drain waits.
 */
#define CKPT_SBUF (8u << 20)
#define CKPT_SBUF_MAX 32
#define CKPT_SEC_ROOM 256u	/* a section's header, with room */

struct dp_ckpt {
	struct sl_ckpt_writer *wr;
	uint64_t id;			/* last id triggered or restored */
	uint64_t inflight;		/* 0: none */
	bool failed;			/* the in-flight one failed; drain it */
	bool aborted;			/* ... or ends at the end of input, not failed */
	bool aligned;			/* its barriers reached the sink */
	bool sources_done;		/* its source-* files are queued */
	uint16_t drain_w;		/* worker whose snapshot is being written */
	bool draining;			/* drain_w's file is being built */
	bool draining2;			/* ... its second keyed stage's part */
	struct sl_ckpt_builder db;	/* ... into this */
	int dirfd;
	unsigned int files_pending;
	uint64_t interval, min_pause, timeout;	/* cycles */
	uint64_t trigger_tsc, next_tsc, last_done_tsc;
	/* when its barriers reached the sink; when the last worker's state
	 * was encoded (its snapshot may end): the log's phases */
	uint64_t aligned_tsc, drained_tsc;
	uint32_t consecutive_failures;
	struct sl_ckpt_manifest *m;
	char root[SL_PLAN_PATH_MAX];	/* where the in-flight one goes */
	bool savepoint;			/* the in-flight one is a savepoint */
	uint64_t last_savepoint;	/* id of the newest completed savepoint */
	uint64_t stop_after;		/* stop-with-savepoint: stop once this id completes */
	char last_savepoint_dir[SL_PLAN_PATH_MAX + 32];
	char why[256];
	/* Metrics (Flink's names in docs/metrics.md). */
	uint64_t completed, failures;
	uint64_t last_bytes, last_duration_ms;
	uint64_t chan_rows, last_chan_rows;	/* in-flight rows persisted (unaligned) */
	/* Under sluiced: the in-flight one's files are durable and its
	 * manifest (encoded, for sluiced to write) waits for ckpt_commit. */
	bool acked;
	char *ack_manifest;
	/* A user's checkpoint or savepoint asked for while one was in flight
	 * runs next, as id + 1 (Flink queues a savepoint the same way). */
	bool queued;
	bool queued_sp;
	char queued_dir[SL_PLAN_PATH_MAX];
	uint64_t last_completed, last_failed;
	char last_why[256];
	/* rocksdb with state.backend.incremental: native checkpoints */
	struct dp_native *nt;
	bool native;			/* drain_w's snapshot is native */
	uint64_t last_new_bytes;	/* the last one's unshared bytes */
	/* The worker file being built is a writer stream (sid), whose
	 * manifest entry is mf; it is built in sb[cur]. The buffers are
	 * kept from one checkpoint to the next; busy: the builder's or
	 * queued in the writer until it hands them back. */
	unsigned int sid;
	bool streaming;			/* sid is open */
	uint32_t mf;
	struct dp_sbuf {
		void *buf;
		size_t cap;
		bool busy;
	} sb[CKPT_SBUF_MAX + 8];
	uint16_t n_sb, cur;
};

/* The writer is done with these pieces of worker files. */
static void
sbuf_reap(struct dp_ckpt *ck)
{
	uint64_t c[16];
	unsigned int n;

	while ((n = sl_ckpt_writer_released(ck->wr, c, 16)) > 0)
		for (unsigned int i = 0; i < n; i++)
			ck->sb[c[i]].busy = false;
}

/* A free buffer of at least min bytes, allocated if need be (past
 * CKPT_SBUF_MAX too: callers check sbuf_spare first where they can
 * wait). -1 without memory. */
static int
sbuf_get(struct dp_ckpt *ck, size_t min)
{
	int fit = -1;
	void *p;

	for (uint16_t i = 0; i < ck->n_sb; i++)
		if (!ck->sb[i].busy && (fit < 0 || ck->sb[i].cap >= min)) {
			fit = i;
			if (ck->sb[i].cap >= min)
				break;
		}
	if (fit >= 0 && ck->sb[fit].cap >= min)
		return fit;
	if (fit < 0) {
		if (ck->n_sb == RTE_DIM(ck->sb))
			return -1;
		fit = ck->n_sb++;
		ck->sb[fit] = (struct dp_sbuf){ 0 };
	}
	/* A section larger than a buffer (unaligned in-flight rows): this
	 * one grows for it. */
	if (posix_memalign(&p, SL_CKPT_ALIGN, RTE_MAX(min, (size_t)CKPT_SBUF)) != 0)
		return -1;
	free(ck->sb[fit].buf);
	ck->sb[fit].buf = p;
	ck->sb[fit].cap = RTE_MAX(min, (size_t)CKPT_SBUF);
	return fit;
}

/* A buffer is free or may still be allocated: the next slice can go. */
static bool
sbuf_spare(struct dp_ckpt *ck)
{
	if (ck->n_sb < CKPT_SBUF_MAX)
		return true;
	for (uint16_t i = 0; i < ck->n_sb; i++)
		if (!ck->sb[i].busy)
			return true;
	return false;
}

/*
 * Add a section to the worker file being built; first, when it does not
 * fit, the aligned front of the file so far goes to the writer and the
 * rest moves to a fresh buffer.
 */
static int
stream_add(struct dp_ckpt *ck, enum sl_ckpt_sec_kind kind, uint32_t op,
	   uint32_t kg, const void *p, size_t len)
{
	struct sl_ckpt_builder *b = &ck->db;

	if (b->len + len + CKPT_SEC_ROOM > b->cap) {
		size_t take = sl_ckpt_builder_flushable(b), ol;
		int nx = sbuf_get(ck, b->len - take + len + CKPT_SEC_ROOM);
		uint64_t off;
		void *out;
		int rc;

		if (nx < 0)
			return -ENOMEM;
		if (take == 0) {
			/* nothing aligned to give yet: a bigger buffer */
			memcpy(ck->sb[nx].buf, b->buf, b->len);
			b->buf = ck->sb[nx].buf;
			b->cap = ck->sb[nx].cap;
			ck->sb[ck->cur].busy = false;
		} else {
			rc = sl_ckpt_builder_swap(b, ck->sb[nx].buf, ck->sb[nx].cap,
						  &out, &ol, &off);
			if (rc == 0)
				rc = sl_ckpt_writer_append(ck->wr, ck->sid, out, ol, off,
							   ck->cur);
			if (rc < 0)
				return rc;
		}
		ck->sb[nx].busy = true;
		ck->cur = (uint16_t)nx;
	}
	return sl_ckpt_builder_add(b, kind, op, kg, p, len);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
ms_to_cycles(const struct dp *dp, int64_t ms)
{
	return (uint64_t)ms * (dp->tsc_hz / 1000);
}

/* One row to a sink: its open transaction with exactly-once, else the file. */
static int
sink_write(struct sl_sink *k, struct sl_sink2pc *tx, bool eos,
	   const struct sl_schema *sch, const uint8_t *row)
{
	int rc;

	if (!eos)
		return sl_sink_write(k, sch, row);
	rc = sl_sink2pc_write(tx, sch, row);
	if (rc == 0)
		k->rows++;
	return rc;
}

static int
sink_write_final(struct dp *dp, const uint8_t *row)
{
	if (dp->eth_sink) {
		sl_eth_sink_rows(&dp->esink, row, 1);
		return 0;
	}
	return sink_write(&dp->sink, &dp->sink2pc, dp->eos, &dp->final, row);
}

int
dp_sink_write_end(struct dp *dp)
{
	struct sl_vec *v = dp->post_in;
	const uint16_t rs = dp->final.row_size;
	uint16_t ns;
	int rc = 0;

	if (v == NULL || v->n_rows == 0)
		return 0;
	v->n_sel = v->n_rows;
	for (uint16_t i = 0; i < v->n_rows; i++)
		v->sel[i] = i;
	sl_map_rows(dp->post_map, v->rows, v->row_size, v->sel, v->n_sel,
		    dp->post_out);
	/* the filters after the map, over its rows (sel[] is free again) */
	ns = v->n_rows;
	for (uint16_t f = 0; f < dp->n_final_f && ns > 0; f++)
		ns = sl_expr_filter(dp->final_f[f], dp->post_out, rs, v->sel, ns, v->sel);
	dp->final_filtered += (uint64_t)(v->n_rows - ns);
	for (uint16_t j = 0; j < ns && rc == 0; j++)
		rc = sink_write_final(dp, dp->post_out + (size_t)v->sel[j] * rs);
	v->n_rows = 0;
	return rc;
}

/* A map after the keyed stage evaluates its expressions a vector of rows
 * at a time: rows wait in post_in, in the order they are written. */
int
dp_sink_write(struct dp *dp, const uint8_t *row)
{
	struct sl_vec *v = dp->post_in;

	if (v == NULL)
		return sink_write_final(dp, row);
	memcpy(sl_vec_row(v, v->n_rows++), row, v->row_size);
	return v->n_rows == SL_VEC_MAX ? dp_sink_write_end(dp) : 0;
}

int
dp_late_sink_write(struct dp *dp, const uint8_t *row)
{
	return sink_write(&dp->late_sink, &dp->late2pc, dp->late_eos,
			  dp->late_schema, row);
}

int
dp_ckpt_setup(struct dp *dp)
{
	const struct sl_plan_ckpt *pc = &dp->plan->ckpt;
	struct dp_ckpt *ck;
	int rc;

	if (pc->interval_ms == 0)
		return 0;
	ck = calloc(1, sizeof(*ck));
	if (ck == NULL)
		return -ENOMEM;
	ck->m = calloc(1, sizeof(*ck->m));
	if (ck->m == NULL) {
		free(ck);
		return -ENOMEM;
	}
	rc = sl_ckpt_writer_create(16, &ck->wr);
	if (rc < 0) {
		DP_LOG(ERR, "checkpoints need io_uring, which is not available (%s); enable it (sysctl kernel.io_uring_disabled=0) or remove execution.checkpointing.interval",
		       strerror(-rc));
		free(ck->m);
		free(ck);
		return rc;
	}
	ck->dirfd = -1;
	if (dp->plan->state.incremental && dp->plan->state.backend == SL_PLAN_BACKEND_ROCKSDB &&
	    (ck->nt = dp_native_create()) == NULL) {
		sl_ckpt_writer_destroy(ck->wr);
		free(ck->m);
		free(ck);
		return -ENOMEM;
	}
	ck->interval = ms_to_cycles(dp, pc->interval_ms);
	ck->min_pause = ms_to_cycles(dp, pc->min_pause_ms);
	ck->timeout = ms_to_cycles(dp, pc->timeout_ms);
	dp->ck = ck;
	/* Exactly-once output needs a transactional sink (R6.10). */
	dp->eos = dp->plan->sink.type == SL_SINK_CSV && !pc->at_least_once;
	dp->late_eos = dp->plan->has_late_sink &&
		       dp->plan->late_sink.type == SL_SINK_CSV && !pc->at_least_once;
	if (dp->plan->sink.type != SL_SINK_CSV)
		DP_LOG(WARNING, "checkpoints with a%s sink: state is exactly-once, output is not (it has no transactions): rows replayed after a failure are sent again",
		       dp->plan->sink.type == SL_SINK_STDOUT ? " stdout" : "n ethdev");
	return 0;
}

static int ckpt_trigger(struct dp *dp, const char *savepoint_dir, char *msg,
			size_t len);

static void
ckpt_end(struct dp *dp, bool ok)
{
	struct dp_ckpt *ck = dp->ck;
	const struct sl_plan_ckpt *pc = &dp->plan->ckpt;
	uint64_t now = rte_rdtsc();

	if (ok) {
		uint64_t bytes = 0, fresh = 0;
		unsigned int deleted = 0;
		char err[256];

		for (uint32_t i = 0; i < ck->m->n_files; i++) {
			bytes += ck->m->files[i].size;
			if (!ck->m->files[i].shared)
				fresh += ck->m->files[i].size;
		}
		ck->last_new_bytes = fresh;
		ck->completed++;
		ck->consecutive_failures = 0;
		ck->last_bytes = bytes;
		ck->last_duration_ms = dp_cycles_ms(now - ck->trigger_tsc, dp->tsc_hz);
		ck->last_chan_rows = ck->chan_rows;
		if (dp->eos && sl_sink2pc_commit(&dp->sink2pc, ck->inflight) < 0)
			DP_LOG(ERR, "checkpoint %" PRIu64 ": the sink could not commit its output",
			       ck->inflight);
		if (dp->late_eos && sl_sink2pc_commit(&dp->late2pc, ck->inflight) < 0)
			DP_LOG(ERR, "checkpoint %" PRIu64 ": the late sink could not commit its output",
			       ck->inflight);
		if (ck->savepoint) {
			/* Savepoints belong to the user: never retained away. */
			ck->last_savepoint = ck->inflight;
			if (ck->stop_after == ck->inflight) {
				/* Stop with savepoint: end here, without firing the
				 * windows the savepoint holds (no WM(MAX), R1.10). */
				DP_LOG(INFO, "savepoint %" PRIu64 " complete: stopping without draining",
				       ck->inflight);
				atomic_store(&dp->terminate, 1);
				atomic_store(&dp->stop, 1);
			}
			snprintf(ck->last_savepoint_dir, sizeof(ck->last_savepoint_dir),
				 "%s/chk-%" PRIu64, ck->root, ck->inflight);
		} else if (!dp->coordinated &&
			   sl_ckpt_retain(pc->dir, pc->num_retained, &deleted, err,
					  sizeof(err)) < 0) {
			DP_LOG(WARNING, "checkpoint retention: %s", err);
		}
		if (dp->plan->ckpt.unaligned)
			snprintf(err, sizeof(err), ", %" PRIu64 " in-flight rows",
				 ck->chan_rows);
		else
			err[0] = '\0';
		if (fresh != bytes)
			snprintf(err + strlen(err), sizeof(err) - strlen(err),
				 ", %" PRIu64 " bytes new, the rest shared with the checkpoint before",
				 fresh);
		/* Where the time went: Flink's alignment, asynchronous and
		 * commit phases, as a slow checkpoint's first question. */
		if (ck->drained_tsc >= ck->aligned_tsc && ck->aligned_tsc >= ck->trigger_tsc &&
		    now >= ck->drained_tsc)
			snprintf(err + strlen(err), sizeof(err) - strlen(err),
				 " (aligned %" PRIu64 " ms, state encoded %" PRIu64 " ms, then durable %" PRIu64 " ms)",
				 dp_cycles_ms(ck->aligned_tsc - ck->trigger_tsc, dp->tsc_hz),
				 dp_cycles_ms(ck->drained_tsc - ck->aligned_tsc, dp->tsc_hz),
				 dp_cycles_ms(now - ck->drained_tsc, dp->tsc_hz));
		DP_LOG(INFO, "%s %" PRIu64 " complete: %" PRIu64 " bytes in %" PRIu64 " ms%s%s%s",
		       ck->savepoint ? "savepoint" : "checkpoint", ck->inflight, bytes,
		       ck->last_duration_ms, ck->savepoint ? " in " : "",
		       ck->savepoint ? ck->last_savepoint_dir : "", err);
	} else if (ck->aborted) {
		DP_LOG(INFO, "checkpoint %" PRIu64 " aborted: %s", ck->inflight, ck->why);
		ck->aborted = false;
	} else {
		if (ck->stop_after == ck->inflight) {
			DP_LOG(WARNING, "stop with savepoint: the savepoint failed; the job keeps running");
			ck->stop_after = 0;
		}
		ck->failures++;
		ck->consecutive_failures++;
		DP_LOG(WARNING, "checkpoint %" PRIu64 " failed: %s", ck->inflight, ck->why);
		if (ck->consecutive_failures > pc->tolerable_failures) {
			DP_LOG(ERR, "%u checkpoint(s) failed in a row, more than execution.checkpointing.tolerable-failed-checkpoints (%u): failing the job",
			       ck->consecutive_failures, pc->tolerable_failures);
			dp->exit_code = 1;
			atomic_store(&dp->stop, 1);
		}
	}
	if (ok) {
		ck->last_completed = ck->inflight;
	} else {
		ck->last_failed = ck->inflight;
		snprintf(ck->last_why, sizeof(ck->last_why), "%s", ck->why);
	}
	if (ck->dirfd >= 0)
		close(ck->dirfd);
	ck->dirfd = -1;
	ck->inflight = 0;
	ck->failed = false;
	ck->aligned = false;
	ck->acked = false;
	free(ck->ack_manifest);
	ck->ack_manifest = NULL;
	ck->last_done_tsc = now;
	dp_ctl_ckpt_event(dp);
	if (ck->queued && (atomic_load(&dp->terminate) || atomic_load(&dp->draining))) {
		/* Stopping: nothing more to snapshot. */
		DP_LOG(WARNING, "the queued %s is dropped: the job is stopping",
		       ck->queued_sp ? "savepoint" : "checkpoint");
		ck->queued = false;
	}
	if (ck->queued) {
		char msg[256];

		ck->queued = false;
		if (ckpt_trigger(dp, ck->queued_sp ? ck->queued_dir : NULL, msg, sizeof(msg)) < 0) {
			DP_LOG(WARNING, "the queued %s did not start: %s",
			       ck->queued_sp ? "savepoint" : "checkpoint", msg);
			if (ck->stop_after == ck->id + 1)
				ck->stop_after = 0;
		} else {
			DP_LOG(INFO, "%s", msg);
		}
	}
}

static void
ckpt_fail(struct dp *dp, const char *why)
{
	struct dp_ckpt *ck = dp->ck;

	if (!ck->failed)
		snprintf(ck->why, sizeof(ck->why), "%s", why);
	ck->failed = true;
	/* Its barriers may still be on their way: end it once they and its
	 * files are all accounted for, so no snapshot buffer is orphaned. */
	if (ck->aligned && ck->files_pending == 0 && !ck->draining &&
	    ck->drain_w >= dp->n_workers)
		ckpt_end(dp, false);
}

/*
 * Under sluiced: acknowledge. The manifest is encoded here, where the task
 * files' sizes and crcs are known, and handed to sluiced, which writes it
 * (the commit) and tells us with ckpt_commit. Until then the checkpoint
 * stays in flight and no new one starts: the coordinator decides.
 */
static void
ckpt_ack(struct dp *dp)
{
	struct dp_ckpt *ck = dp->ck;
	size_t len;

	if (sl_ckpt_manifest_encode(ck->m, &ck->ack_manifest, &len) < 0) {
		snprintf(ck->why, sizeof(ck->why), "manifest could not be encoded");
		ckpt_end(dp, false);
		return;
	}
	ck->acked = true;
	DP_LOG(INFO, "%s %" PRIu64 ": every task file is durable; sluiced commits it",
	       ck->savepoint ? "savepoint" : "checkpoint", ck->inflight);
	dp_ctl_ckpt_event(dp);
}

static void
ckpt_reap(struct dp *dp, struct sl_ckpt_done *d, unsigned int n)
{
	struct dp_ckpt *ck = dp->ck;

	for (unsigned int i = 0; i < n; i++) {
		if (d[i].tag == CKPT_MANIFEST_TAG) {
			if (d[i].res < 0) {
				snprintf(ck->why, sizeof(ck->why), "manifest: %s",
					 strerror(-d[i].res));
				ckpt_end(dp, false);
			} else {
				ckpt_end(dp, true);
			}
			continue;
		}
		ck->files_pending--;
		if (d[i].res < 0) {
			char why[160];

			snprintf(why, sizeof(why), "%s: %s at step %u", d[i].name,
				 strerror(-d[i].res), d[i].step);
			ckpt_fail(dp, why);
			continue;
		}
		if (ck->files_pending > 0 || ck->drain_w < dp->n_workers)
			continue;
		if (ck->failed) {
			ckpt_end(dp, false);
			continue;
		}
		/* Every task file is durable: commit with the manifest. */
		ck->m->complete_ns = now_ns();
		if (dp->coordinated) {
			ckpt_ack(dp);
			continue;
		}
		if (sl_ckpt_manifest_submit(ck->wr, ck->dirfd, ck->m, CKPT_MANIFEST_TAG) < 0) {
			snprintf(ck->why, sizeof(ck->why), "manifest could not be queued");
			ckpt_end(dp, false);
		}
	}
}

static void ckpt_drain_step(struct dp *dp, size_t budget);

bool
dp_ckpt_tick(struct dp *dp, bool busy)
{
	struct dp_ckpt *ck = dp->ck;
	struct sl_ckpt_done d[16];
	bool more = false;
	uint64_t now;
	unsigned int n;
	char err[256];

	if (ck == NULL)
		return false;
	while ((n = sl_ckpt_writer_poll(ck->wr, d, 16)) > 0)
		ckpt_reap(dp, d, n);
	sbuf_reap(ck);
	/* Results first: a worker whose sink ring fills waits for this loop
	 * (a firing during a drain), and a full slice (its copy 16 times
	 * larger) holds the loop for tens of milliseconds; a 64th of it is
	 * well under one, less than a worker takes to fill its ring. */
	if (ck->inflight != 0 && ck->aligned && ck->drain_w < dp->n_workers) {
		ckpt_drain_step(dp, busy ? CKPT_DRAIN_BUDGET / 64 : CKPT_DRAIN_BUDGET);
		/* more to encode, and a buffer to encode it into */
		more = ck->inflight != 0 && ck->drain_w < dp->n_workers &&
		       sbuf_spare(ck);
	}
	now = rte_rdtsc();
	if (ck->inflight != 0) {
		/* Acknowledged: only sluiced may end it now (commit or abort). */
		if (!ck->failed && !ck->acked && now - ck->trigger_tsc > ck->timeout)
			ckpt_fail(dp, "timed out (execution.checkpointing.timeout)");
		return more;
	}
	if (dp->coordinated || atomic_load(&dp->draining) || now < ck->next_tsc ||
	    now - ck->last_done_tsc < ck->min_pause)
		return false;
	ck->next_tsc = now + ck->interval;
	if (ckpt_trigger(dp, NULL, err, sizeof(err)) < 0)
		DP_LOG(WARNING, "%s", err);
	return false;
}

/* Remove the worker-*.db directories a crashed run left in chk_dir. */
static void
ckpt_clear_native(const char *chk_dir)
{
	DIR *d = opendir(chk_dir);
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char old[4096];
		size_t n = strlen(e->d_name);

		if (strncmp(e->d_name, "worker-", 7) != 0 || n < 4 ||
		    strcmp(e->d_name + n - 3, ".db") != 0)
			continue;
		snprintf(old, sizeof(old), "%s/%s", chk_dir, e->d_name);
		(void)dp_rm_tree(old);
	}
	if (d != NULL)
		closedir(d);
}

/* Start checkpoint id+1 now, into the checkpoint dir or a savepoint dir. */
static int
ckpt_trigger(struct dp *dp, const char *savepoint_dir, char *msg, size_t len)
{
	struct dp_ckpt *ck = dp->ck;
	const char *root = savepoint_dir ? savepoint_dir : dp->plan->ckpt.dir;
	char err[256];

	if (ck->inflight != 0) {
		snprintf(msg, len, "checkpoint %" PRIu64 " is in flight; retry when it completes",
			 ck->inflight);
		return -EBUSY;
	}
	if (atomic_load(&dp->draining)) {
		snprintf(msg, len, "the job is draining: no more checkpoints");
		return -ESHUTDOWN;
	}
	ck->id++;
	if (sl_ckpt_dir_create(root, ck->id, &ck->dirfd, err, sizeof(err)) < 0) {
		snprintf(msg, len, "checkpoint %" PRIu64 " not started: %s", ck->id, err);
		ck->failures++;
		return -EIO;
	}
	snprintf(ck->root, sizeof(ck->root), "%s", root);
	ck->savepoint = savepoint_dir != NULL;
	memset(ck->m, 0, sizeof(*ck->m));
	snprintf(ck->m->job, sizeof(ck->m->job), "%s", dp->plan->name);
	ck->m->ckpt_id = ck->id;
	ck->m->kind = ck->savepoint ? SL_CKPT_SAVEPOINT : SL_CKPT_CHECKPOINT;
	ck->m->trigger_ns = now_ns();
	ck->m->max_parallelism = dp->plan->max_parallelism;
	ck->m->n_workers = dp->n_workers;
	ck->m->n_sources = dp->n_rx;
	ck->inflight = ck->id;
	ck->trigger_tsc = rte_rdtsc();
	/* Savepoints are full (Flink's canonical format): they must restore
	 * anywhere, and outlive the checkpoints whose files native ones share. */
	if (ck->nt != NULL && !ck->savepoint) {
		snprintf(dp->native_root, sizeof(dp->native_root), "%s/chk-%" PRIu64,
			 root, ck->id);
		/* A chk-N of a crashed run, never completed or passed over as
		 * corrupt, is reused: RocksDB links only into a new directory. */
		(void)unlinkat(ck->dirfd, SL_CKPT_MANIFEST, 0);
		ckpt_clear_native(dp->native_root);
		atomic_store_explicit(&dp->native_id, ck->id, memory_order_release);
	} else {
		atomic_store_explicit(&dp->native_id, 0, memory_order_release);
	}
	atomic_store_explicit(&dp->ckpt_trigger, ck->id, memory_order_release);
	snprintf(msg, len, "%s %" PRIu64 " triggered into %s/chk-%" PRIu64,
		 ck->savepoint ? "savepoint" : "checkpoint", ck->id, root, ck->id);
	return 0;
}

int
dp_ckpt_request(struct dp *dp, const char *savepoint_dir, bool queue, json_t **data,
		char *msg, size_t len)
{
	int rc;

	*data = NULL;
	if (dp->ck == NULL) {
		snprintf(msg, len, "the job takes no checkpoints: set execution.checkpointing.interval and state.checkpoints.dir");
		return -ENOTSUP;
	}
	rc = ckpt_trigger(dp, savepoint_dir, msg, len);
	if (rc == 0) {
		char path[SL_PLAN_PATH_MAX + 32];

		snprintf(path, sizeof(path), "%s/chk-%" PRIu64, dp->ck->root, dp->ck->id);
		*data = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)dp->ck->id,
				  "kind", savepoint_dir ? "savepoint" : "checkpoint",
				  "path", path);
	} else if (rc == -EBUSY && queue && !dp->ck->queued) {
		/* Runs as soon as the one in flight ends (ckpt_end), before any
		 * other trigger can: its id is known now. */
		struct dp_ckpt *ck = dp->ck;
		char path[SL_PLAN_PATH_MAX + 32];
		uint64_t id = ck->id + 1;

		ck->queued = true;
		ck->queued_sp = savepoint_dir != NULL;
		snprintf(ck->queued_dir, sizeof(ck->queued_dir), "%s",
			 savepoint_dir ? savepoint_dir : "");
		snprintf(path, sizeof(path), "%s/chk-%" PRIu64,
			 savepoint_dir ? savepoint_dir : dp->plan->ckpt.dir, id);
		*data = json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)id,
				  "kind", savepoint_dir ? "savepoint" : "checkpoint",
				  "path", path, "queuedBehind", (json_int_t)ck->inflight);
		snprintf(msg, len, "%s %" PRIu64 " queued behind checkpoint %" PRIu64 " into %s",
			 savepoint_dir ? "savepoint" : "checkpoint", id, ck->inflight, path);
		rc = 0;
	}
	return rc;
}

/* Finish one task file and queue it; the writer frees the buffer. */
static int
ckpt_submit(struct dp *dp, struct sl_ckpt_builder *b, enum sl_ckpt_task kind,
	    uint16_t index)
{
	struct dp_ckpt *ck = dp->ck;
	struct sl_ckpt_file_info info;
	struct sl_ckpt_mfile *mf;
	const void *data;
	size_t len, cap;
	void *buf;
	int rc = sl_ckpt_builder_finish(b, &data, &len, &info);

	if (rc < 0 || ck->m->n_files == SL_CKPT_MAX_FILES) {
		sl_ckpt_builder_fini(b);
		return rc < 0 ? rc : -E2BIG;
	}
	mf = &ck->m->files[ck->m->n_files];
	sl_ckpt_task_file(mf->name, sizeof(mf->name), kind, index);
	mf->task_kind = (uint16_t)kind;
	mf->task_index = index;
	mf->size = info.size;
	mf->crc = info.crc;
	buf = sl_ckpt_builder_release(b, &cap);
	rc = sl_ckpt_writer_submit(ck->wr, ck->dirfd, mf->name, buf, len,
				   ck->m->n_files, SL_CKPT_W_FREE);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	ck->m->n_files++;
	ck->files_pending++;
	return 0;
}

static int
ckpt_begin_file(struct dp *dp, struct sl_ckpt_builder *b, enum sl_ckpt_task kind,
		uint16_t index, uint32_t parallelism)
{
	struct sl_ckpt_file_info info = { 0 };

	info.ckpt_id = dp->ck->inflight;
	info.job_name = dp->plan->name;
	info.task_kind = (uint16_t)kind;
	info.task_index = index;
	info.max_parallelism = dp->plan->max_parallelism;
	info.parallelism = parallelism;
	return sl_ckpt_builder_init(b, NULL, 0, &info);
}

/*
 * Worker w's file: a stream, its manifest entry taken now (its size and
 * crc filled in at stream_end), built from the worker file buffers.
 */
static int
stream_begin(struct dp *dp, uint16_t w)
{
	struct dp_ckpt *ck = dp->ck;
	struct sl_ckpt_file_info info = { 0 };
	struct sl_ckpt_mfile *mf;
	int nx, rc;

	if (ck->m->n_files == SL_CKPT_MAX_FILES)
		return -E2BIG;
	nx = sbuf_get(ck, CKPT_SBUF);
	if (nx < 0)
		return -ENOMEM;
	info.ckpt_id = ck->inflight;
	info.job_name = dp->plan->name;
	info.task_kind = SL_CKPT_TASK_WORKER;
	info.task_index = w;
	info.max_parallelism = dp->plan->max_parallelism;
	info.parallelism = dp->n_workers;
	rc = sl_ckpt_builder_init(&ck->db, ck->sb[nx].buf, ck->sb[nx].cap, &info);
	if (rc < 0)
		return rc;
	mf = &ck->m->files[ck->m->n_files];
	memset(mf, 0, sizeof(*mf));
	sl_ckpt_task_file(mf->name, sizeof(mf->name), SL_CKPT_TASK_WORKER, w);
	mf->task_kind = SL_CKPT_TASK_WORKER;
	mf->task_index = w;
	/* Around the page cache: its copy and the kernel's writeback would
	 * take memory bandwidth (and CPU) from the workers. */
	rc = sl_ckpt_writer_open_stream(ck->wr, ck->dirfd, mf->name, ck->m->n_files,
					SL_CKPT_W_DIRECT, &ck->sid);
	if (rc < 0)
		return rc;
	ck->sb[nx].busy = true;
	ck->cur = (uint16_t)nx;
	ck->mf = ck->m->n_files++;
	ck->files_pending++;
	ck->streaming = true;
	return 0;
}

/* The worker file's end: its last piece, then durable under its name. */
static int
stream_end(struct dp *dp)
{
	struct dp_ckpt *ck = dp->ck;
	struct sl_ckpt_file_info info;
	const void *data;
	size_t len;
	int rc = sl_ckpt_builder_finish(&ck->db, &data, &len, &info);

	ck->streaming = false;
	if (rc == 0)
		rc = sl_ckpt_writer_append(ck->wr, ck->sid, data, len, info.size - len,
					   ck->cur);
	if (rc < 0) {
		ck->sb[ck->cur].busy = false;
		(void)sl_ckpt_writer_abort_stream(ck->wr, ck->sid);
		return rc;
	}
	ck->m->files[ck->mf].size = info.size;
	ck->m->files[ck->mf].crc = info.crc;
	return sl_ckpt_writer_close_stream(ck->wr, ck->sid);
}

/* The worker file failed: its stream removes what it wrote. */
static void
stream_abort(struct dp *dp)
{
	struct dp_ckpt *ck = dp->ck;

	if (!ck->streaming)
		return;
	ck->streaming = false;
	ck->sb[ck->cur].busy = false;
	(void)sl_ckpt_writer_abort_stream(ck->wr, ck->sid);
}

/* At shutdown, where waiting is allowed: until a buffer comes back. */
static void
ckpt_wait_sbuf(struct dp *dp)
{
	struct dp_ckpt *ck = dp->ck;
	struct sl_ckpt_done d[16];

	while (!sbuf_spare(ck)) {
		unsigned int n = sl_ckpt_writer_wait(ck->wr, d, 16, 1000);

		ckpt_reap(dp, d, n);
		sbuf_reap(ck);
	}
}

void
dp_ckpt_aligned(struct dp *dp, uint64_t id)
{
	struct dp_ckpt *ck = dp->ck;
	struct sl_ckpt_builder b;
	int rc = 0;

	if (ck == NULL || id != ck->inflight) {
		/* Not ours to write: let the workers end their snapshots. */
		for (uint16_t w = 0; w < dp->n_workers; w++)
			atomic_store_explicit(&dp->w[w].snap_done, dp->w[w].snap_id,
					      memory_order_release);
		return;
	}
	ck->aligned = true;
	ck->aligned_tsc = rte_rdtsc();
	ck->drained_tsc = 0;
	ck->sources_done = false;
	ck->drain_w = 0;
	ck->draining = false;
	ck->chan_rows = 0;
	if (rc == 0) {
		/* The sink: its transactions (R6.10) and the rows it holds
		 * until every worker's watermark passes their window. */
		struct sl_sink2pc_state st = { 0 }, lst = { 0 };

		if (dp->eos)
			rc = sl_sink2pc_precommit(&dp->sink2pc, id, &st);
		if (rc == 0 && dp->late_eos)
			rc = sl_sink2pc_precommit(&dp->late2pc, id, &lst);
		if (rc == 0)
			rc = ckpt_begin_file(dp, &b, SL_CKPT_TASK_SINK, 0, 1);
		if (rc == 0)
			rc = sl_ckpt_builder_add(&b, SL_CKPT_SEC_SINK, 0, SL_CKPT_NO_KG,
						 &st, sizeof(st));
		if (rc == 0 && dp->late_eos)
			rc = sl_ckpt_builder_add(&b, SL_CKPT_SEC_SINK, 1, SL_CKPT_NO_KG,
						 &lst, sizeof(lst));
		if (rc == 0)
			rc = sl_ckpt_builder_add(&b, SL_CKPT_SEC_OPERATOR, 0, SL_CKPT_NO_KG,
						 dp->pd.rows, dp->pd.n * dp->out.row_size);
		/* Op 1: each held row's tag (dp_pending), so a restore writes
		 * it in the same flush as a run without the failure would. */
		if (rc == 0)
			rc = sl_ckpt_builder_add(&b, SL_CKPT_SEC_OPERATOR, 1, SL_CKPT_NO_KG,
						 dp->pd.tag, dp->pd.n * sizeof(int64_t));
		/* Op 2: which held rows are early firings (a byte each). */
		if (rc == 0)
			rc = sl_ckpt_builder_add(&b, SL_CKPT_SEC_OPERATOR, 2, SL_CKPT_NO_KG,
						 dp->pd.early, dp->pd.n);
		if (rc == 0)
			rc = ckpt_submit(dp, &b, SL_CKPT_TASK_SINK, 0);
	}
	if (rc < 0) {
		char why[96];

		snprintf(why, sizeof(why), "snapshot: %s", strerror(-rc));
		ckpt_fail(dp, why);
	}
	/* The sources' and workers' files follow, a slice per pass (dp_ckpt_tick). */
	ckpt_drain_step(dp, CKPT_DRAIN_BUDGET);
}

/*
 * The sources' offsets, once every worker's channel state is complete:
 * in unaligned mode a worker forwards the barrier before the RX lcores
 * may have recorded their offsets, and its chan_done is what publishes
 * them (RX enqueue, worker dequeue, chan_done store).
 */
static int
ckpt_sources(struct dp *dp)
{
	struct sl_ckpt_builder b;
	int rc = 0;

	for (uint16_t r = 0; r < dp->n_rx && rc == 0; r++) {
		const struct dp_rx *rx = &dp->rx[r];
		/* A source that ended before this checkpoint reached it
		 * stands at its end (rx_end). */
		const struct sl_src_offset *off = rx->ended && rx->end_ckpt < dp->ck->inflight ?
						  &rx->end_off : &rx->ckpt_off;

		rc = ckpt_begin_file(dp, &b, SL_CKPT_TASK_SOURCE, r, dp->n_rx);
		if (rc == 0 && rx->src.ops->offset != NULL)
			rc = sl_ckpt_builder_add(&b, SL_CKPT_SEC_SOURCE, 0, SL_CKPT_NO_KG,
						 off, sizeof(*off));
		if (rc == 0)
			rc = ckpt_submit(dp, &b, SL_CKPT_TASK_SOURCE, r);
	}
	return rc;
}

/* Every worker's in-flight set for the checkpoint is complete. */
static bool
ckpt_channels_done(const struct dp *dp)
{
	for (uint16_t w = 0; w < dp->n_workers; w++)
		if (atomic_load_explicit(&dp->w[w].chan_done, memory_order_acquire) !=
		    dp->ck->inflight)
			return false;
	return true;
}

/* Worker wk's in-flight rows (unaligned), as one channel section. */
static int
drain_channel(struct dp *dp, struct dp_worker *wk)
{
	struct dp_ckpt *ck = dp->ck;
	uint16_t rs = dp->plan->schema.row_size;
	size_t n = 0, off = 0;
	uint8_t *buf;
	int rc;

	if (wk->n_chan == 0)
		return 0;
	for (uint32_t i = 0; i < wk->n_chan; i++)
		n += wk->chan[i]->n_sel;
	buf = malloc(n * rs);
	if (buf == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < wk->n_chan; i++) {
		const struct sl_vec *v = wk->chan[i];

		for (uint16_t j = 0; j < v->n_sel; j++, off += rs)
			memcpy(buf + off, sl_vec_crow(v, v->sel[j]), rs);
	}
	rc = stream_add(ck, SL_CKPT_SEC_CHANNEL, CKPT_OP_CHANNEL,
				 SL_CKPT_NO_KG, buf, off);
	free(buf);
	ck->chan_rows += n;
	return rc;
}

static int
drain_chunk(void *arg, uint16_t kg, const void *buf, size_t len)
{
	struct dp_ckpt *ck = arg;

	return stream_add(ck, SL_CKPT_SEC_KEYED, CKPT_OP_STATE, kg, buf, len);
}

static int
drain_chunk2(void *arg, uint16_t kg, const void *buf, size_t len)
{
	struct dp_ckpt *ck = arg;

	return stream_add(ck, SL_CKPT_SEC_KEYED, CKPT_OP_STATE2, kg, buf, len);
}

/* The second keyed stage's part of worker w's file, after the first's:
 * its window list and its state's descriptors; the chunks follow. */
static int
drain_begin2(struct dp *dp, struct dp_worker *wk)
{
	struct dp_ckpt *ck = dp->ck;
	uint8_t small[SL_WIN_SNAP_MAX];
	size_t n;
	void *meta;
	int rc;

	if (wk->snap2_id != ck->inflight || wk->win2.snap == NULL) {
		DP_LOG(WARNING, "worker %u: its second keyed stage's snapshot could not begin (is its state out of memory?)",
		       wk->id);
		return -ENOMEM;
	}
	n = sl_win_snapshot_windows(&wk->win2, small, sizeof(small));
	rc = stream_add(ck, SL_CKPT_SEC_OPERATOR, CKPT_OP_WINDOW2, SL_CKPT_NO_KG, small, n);
	n = sl_state_snapshot_meta(wk->win2.snap, NULL, 0);
	meta = malloc(n ? n : 1);
	if (meta == NULL)
		rc = -ENOMEM;
	if (rc == 0) {
		n = sl_state_snapshot_meta(wk->win2.snap, meta, n);
		rc = stream_add(ck, SL_CKPT_SEC_OPERATOR, CKPT_OP_STATE2_META,
				SL_CKPT_NO_KG, meta, n);
	}
	free(meta);
	return rc;
}

/* Start worker w's file: its window list (a dedup, process or join has
 * none: their timers are in the state) and the state's descriptors. */
static int
drain_begin(struct dp *dp, struct dp_worker *wk)
{
	struct dp_ckpt *ck = dp->ck;
	struct sl_state_snap *snap = dp_worker_snap(wk);
	const bool dedup = dp_dedup(dp->plan), proc = dp_process(dp->plan);
	const bool join = dp_join(dp->plan);
	uint8_t small[SL_WIN_SNAP_MAX];
	size_t n;
	void *meta;
	int rc;

	if (wk->snap_id != ck->inflight || snap == NULL) {
		/* chan_done was stored after chan_overflow: it is visible. */
		DP_LOG(WARNING, "worker %u: %s", wk->id, wk->chan_overflow ?
		       "more in-flight vectors than an unaligned checkpoint holds (DP_CHAN_PER_INPUT); the next one starts afresh" :
		       "its snapshot could not begin (is the state backend out of memory?)");
		return -ENOMEM;
	}
	rc = stream_begin(dp, wk->id);
	if (rc < 0)
		return rc;
	if (!dedup && !proc && !join) {
		n = sl_win_snapshot_windows(&wk->win, small, sizeof(small));
		rc = stream_add(ck, SL_CKPT_SEC_OPERATOR, CKPT_OP_WINDOW,
					 SL_CKPT_NO_KG, small, n);
	}
	n = sl_state_snapshot_meta(snap, NULL, 0);
	meta = malloc(n ? n : 1);
	if (meta == NULL)
		rc = -ENOMEM;
	if (rc == 0) {
		n = sl_state_snapshot_meta(snap, meta, n);
		rc = stream_add(ck, SL_CKPT_SEC_OPERATOR,
					 CKPT_OP_STATE_META, SL_CKPT_NO_KG, meta, n);
	}
	free(meta);
	if (rc == 0 && join) {
		/* A broadcast join's rules map, copied at the barrier. */
		const void *os = sl_join_opstate_snapshot(&wk->join, &n);

		if (os != NULL)
			rc = stream_add(ck, SL_CKPT_SEC_OPERATOR, CKPT_OP_OPSTATE,
						 SL_CKPT_NO_KG, os, n);
	}
	ck->native = sl_state_snapshot_dir(snap) != NULL;
	if (rc == 0 && ck->native) {
		struct dp_native_sec ns = {
			.first_kg = (uint16_t)(dedup ? wk->dedup.conf.first_kg :
					       proc ? wk->proc.conf.first_kg :
					       join ? wk->join.conf.first_kg : wk->win.conf.first_kg),
			.last_kg = (uint16_t)(dedup ? wk->dedup.conf.last_kg :
					      proc ? wk->proc.conf.last_kg :
					      join ? wk->join.conf.last_kg : wk->win.conf.last_kg),
		};
		const char *sub = strrchr(sl_state_snapshot_dir(snap), '/');

		snprintf(ns.dir, sizeof(ns.dir), "%s", sub != NULL ? sub + 1 : "");
		rc = stream_add(ck, SL_CKPT_SEC_OPERATOR, CKPT_OP_NATIVE,
					 SL_CKPT_NO_KG, &ns, sizeof(ns));
		if (rc == 0)
			rc = dp_native_scan(ck->nt, wk->id, ck->dirfd, ns.dir);
		if (rc < 0)
			DP_LOG(ERR, "worker %u: native checkpoint %s: %s", wk->id,
			       sl_state_snapshot_dir(snap), strerror(-rc));
	}
	if (rc == 0)
		rc = drain_channel(dp, wk);
	return rc;
}

/*
 * Write up to budget bytes of the workers' snapshots, one worker after
 * another. A finished (or failed) worker is told to end its snapshot.
 */
static void
ckpt_drain_step(struct dp *dp, size_t budget)
{
	struct dp_ckpt *ck = dp->ck;

	if (!ck->sources_done && !ck->failed) {
		int rc;

		if (!ckpt_channels_done(dp))
			return;		/* an unaligned worker still records */
		ck->sources_done = true;
		rc = ckpt_sources(dp);
		if (rc < 0) {
			char why[96];

			snprintf(why, sizeof(why), "sources: %s", strerror(-rc));
			ckpt_fail(dp, why);
		}
	}
	while (ck->drain_w < dp->n_workers) {
		struct dp_worker *wk = &dp->w[ck->drain_w];
		int rc = 0;

		if (dp->plan->stateless) {	/* no state, no file */
			ck->drain_w++;
			continue;
		}
		if (!ck->draining) {
			if (!ck->failed)
				rc = drain_begin(dp, wk);
			if (rc == 0 && !ck->failed)
				ck->draining = true;
			else if (ck->streaming)
				stream_abort(dp);
		}
		if (rc == 0 && ck->draining) {
			for (;;) {
				if (!sbuf_spare(ck)) {
					if (budget != 0)
						return;	/* the disk is behind */
					ckpt_wait_sbuf(dp);
				}
				/* the first stage's chunks, then (below) the
				 * second keyed stage's */
				if (ck->draining2)
					break;
				rc = sl_state_snapshot_write(dp_worker_snap(wk), CKPT_CHUNK_MAX,
							     budget ? budget : CKPT_DRAIN_BUDGET,
							     drain_chunk, ck);
				if (rc <= 0 || budget != 0)
					break;
			}
			if (rc == 0 && ck->native)
				rc = dp_native_step(ck->nt, ck->dirfd, budget);
			if (rc > 0)
				return;		/* more next pass */
			/* then the second keyed stage's state, in the same file */
			if (rc == 0 && dp->plan->stage2.on) {
				if (!ck->draining2) {
					rc = drain_begin2(dp, wk);
					ck->draining2 = rc == 0;
				}
				while (rc == 0) {
					if (!sbuf_spare(ck)) {
						if (budget != 0)
							return;	/* the disk is behind */
						ckpt_wait_sbuf(dp);
					}
					rc = sl_state_snapshot_write(wk->win2.snap, CKPT_CHUNK_MAX,
								     budget ? budget : CKPT_DRAIN_BUDGET,
								     drain_chunk2, ck);
					if (rc > 0 && budget != 0)
						return;		/* more next pass */
					if (rc > 0)
						rc = 0;		/* no budget: on to the end */
					else
						break;
				}
			}
			ck->draining2 = false;
			if (rc == 0 && ck->native) {
				rc = dp_native_emit(ck->nt, wk->id, ck->m);
				if (rc == -E2BIG)
					DP_LOG(ERR, "worker %u: its native checkpoint has more files than a manifest lists (%u); raise state.backend.rocksdb.writebuffer.size",
					       wk->id, SL_CKPT_MAX_FILES);
			}
			if (rc == 0)
				rc = stream_end(dp);
			else
				stream_abort(dp);
			if (rc < 0 && ck->native)
				dp_native_abort(ck->nt);
			ck->native = false;
			ck->draining = false;
		}
		if (rc < 0) {
			char why[96];

			snprintf(why, sizeof(why), "worker-%u snapshot: %s", wk->id,
				 strerror(-rc));
			ckpt_fail(dp, why);
		}
		atomic_store_explicit(&wk->snap_done, wk->snap_id, memory_order_release);
		ck->drain_w++;
	}
	if (ck->drained_tsc == 0)
		ck->drained_tsc = rte_rdtsc();
	/* Everything is written: end a failed checkpoint now, or let the
	 * last file's completion commit it (ckpt_reap). */
	if (ck->failed && ck->files_pending == 0)
		ckpt_end(dp, false);
}

void
dp_ckpt_finish(struct dp *dp)
{
	struct dp_ckpt *ck = dp->ck;
	struct sl_ckpt_done d[16];

	if (ck != NULL) {
		/* Let a checkpoint in flight complete: its commit is cheap. */
		if (ck->inflight != 0 && ck->aligned && ck->drain_w < dp->n_workers)
			ckpt_drain_step(dp, 0);
		while (sl_ckpt_writer_pending(ck->wr) > 0) {
			unsigned int n = sl_ckpt_writer_wait(ck->wr, d, 16, 1000);

			ckpt_reap(dp, d, n);
		}
		if (ck->inflight != 0 && !ck->aligned && !ck->failed) {
			/* Triggered as the input ended: its barriers never got
			 * past the sources (or never all reached the sink). Not
			 * a failure (Flink aborts a checkpoint whose tasks have
			 * finished): nothing of the job's is lost, the end of
			 * input commits everything below. */
			snprintf(ck->why, sizeof(ck->why), "the input ended before its barriers reached the sink");
			ck->aborted = true;
		}
		if (ck->inflight != 0) {
			if (ck->why[0] == '\0')
				snprintf(ck->why, sizeof(ck->why), "the job ended before it completed");
			ckpt_end(dp, false);
		}
		sl_ckpt_writer_destroy(ck->wr);
		dp_native_destroy(ck->nt);
		for (uint16_t i = 0; i < ck->n_sb; i++)
			free(ck->sb[i].buf);
		free(ck->m);
		free(ck);
		dp->ck = NULL;
	}
	/* Stopped with a savepoint: what came after it is not final; the
	 * open transaction stays pending and a resume aborts it (R6.10). */
	if (atomic_load(&dp->terminate))
		return;
	/* The input ended (or a stop drained it): everything is final. */
	if (dp->eos && sl_sink2pc_finish(&dp->sink2pc) < 0)
		DP_LOG(ERR, "sink: the final commit failed; see the part files of %s",
		       dp->plan->sink.path);
	if (dp->late_eos && sl_sink2pc_finish(&dp->late2pc) < 0)
		DP_LOG(ERR, "late sink: the final commit failed; see the part files of %s",
		       dp->plan->late_sink.path);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
dp_rm_tree(const char *path)
{
	return nftw(path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Remove ROOT/chk-* left by an earlier run (savepoints live elsewhere). */
static void
ckpt_clear_old(const char *root)
{
	unsigned int n = 0;
	struct dirent *e;
	DIR *d = opendir(root);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[4096];

		if (strncmp(e->d_name, "chk-", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, e->d_name);
		if (dp_rm_tree(path) == 0)
			n++;
	}
	closedir(d);
	if (n > 0)
		DP_LOG(INFO, "starting from the beginning: removed %u checkpoint(s) of an earlier run from %s",
		       n, root);
}

void
dp_restore_free(struct dp *dp)
{
	struct dp_restore *rs = dp->rs;

	if (rs == NULL)
		return;
	for (uint32_t i = 0; i < rs->n_files; i++)
		free(rs->files[i].buf);
	free(rs->files);
	free(rs->secs);
	free(rs);
	dp->rs = NULL;
}

/* Keep a worker file in memory until the workers have loaded it. */
static int
restore_file_add(struct dp *dp, void *buf, uint32_t *idx)
{
	struct dp_restore *rs = dp->rs;
	struct dp_restore_file *f;

	if (rs == NULL) {
		rs = calloc(1, sizeof(*rs));
		if (rs == NULL)
			return -ENOMEM;
		dp->rs = rs;
	}
	f = realloc(rs->files, sizeof(*f) * (rs->n_files + 1));
	if (f == NULL)
		return -ENOMEM;
	rs->files = f;
	rs->files[rs->n_files] = (struct dp_restore_file){ .buf = buf };
	*idx = rs->n_files++;
	return 0;
}

static int
restore_keep(struct dp *dp, const struct sl_ckpt_section *s, uint32_t file)
{
	struct dp_restore *rs = dp->rs;

	if (s->kind == SL_CKPT_SEC_OPERATOR && s->op_id == CKPT_OP_STATE_META) {
		rs->files[file].meta = s->data;
		rs->files[file].meta_len = s->len;
		return 0;
	}
	if (s->kind == SL_CKPT_SEC_OPERATOR && s->op_id == CKPT_OP_STATE2_META) {
		rs->files[file].meta2 = s->data;
		rs->files[file].meta2_len = s->len;
		return 0;
	}
	if (!(s->kind == SL_CKPT_SEC_OPERATOR && s->op_id == CKPT_OP_WINDOW) &&
	    !(s->kind == SL_CKPT_SEC_OPERATOR && s->op_id == CKPT_OP_WINDOW2) &&
	    !(s->kind == SL_CKPT_SEC_KEYED && s->op_id == CKPT_OP_STATE2 &&
	      s->key_group <= UINT16_MAX) &&
	    !(s->kind == SL_CKPT_SEC_OPERATOR && s->op_id == CKPT_OP_OPSTATE) &&
	    !(s->kind == SL_CKPT_SEC_OPERATOR && s->op_id == CKPT_OP_NATIVE &&
	      s->len == sizeof(struct dp_native_sec)) &&
	    !(s->kind == SL_CKPT_SEC_CHANNEL && s->op_id == CKPT_OP_CHANNEL) &&
	    !(s->kind == SL_CKPT_SEC_KEYED && s->op_id == CKPT_OP_STATE &&
	      s->key_group <= UINT16_MAX))
		return -EINVAL;
	if (rs->n_secs == rs->cap_secs) {
		uint32_t cap = rs->cap_secs ? 2 * rs->cap_secs : 256;
		struct dp_restore_sec *n = realloc(rs->secs, sizeof(*n) * cap);

		if (n == NULL)
			return -ENOMEM;
		rs->secs = n;
		rs->cap_secs = cap;
	}
	rs->secs[rs->n_secs++] = (struct dp_restore_sec){
		.op = (uint16_t)s->op_id,
		.kg = (uint16_t)(s->key_group == SL_CKPT_NO_KG ? 0 : s->key_group),
		.file = file,
		.data = s->data,
		.len = s->len,
	};
	return 0;
}

/* Load one task file of a checkpoint and hand its sections to the tasks. */
static int
restore_file(struct dp *dp, int dirfd, const struct sl_ckpt_mfile *mf,
	     struct sl_sink2pc_state sink_st[2], bool have_sink[2])
{
	struct sl_ckpt_reader r;
	struct sl_ckpt_section s;
	uint32_t kept = UINT32_MAX;
	size_t held = 0;
	bool keep = false;
	char err[256];
	size_t len;
	void *buf;
	int rc = sl_ckpt_file_load(dirfd, mf->name, &buf, &len, err, sizeof(err));

	if (rc == 0)
		rc = sl_ckpt_reader_open(&r, buf, len, NULL, err, sizeof(err));
	if (rc < 0) {
		DP_LOG(ERR, "restore: %s", err);
		free(buf);
		return rc;
	}
	if (mf->task_kind == SL_CKPT_TASK_WORKER)
		rc = restore_file_add(dp, buf, &kept);
	while (rc == 0 && sl_ckpt_reader_next(&r, &s) == 1) {
		if (mf->task_kind == SL_CKPT_TASK_SOURCE && s.kind == SL_CKPT_SEC_SOURCE) {
			struct sl_src_offset off;

			if (mf->task_index >= dp->n_rx || s.len != sizeof(off) ||
			    dp->rx[mf->task_index].src.ops->seek == NULL) {
				DP_LOG(ERR, "restore: %s does not fit this job's sources", mf->name);
				rc = -EINVAL;
				break;
			}
			memcpy(&off, s.data, sizeof(off));
			rc = dp->rx[mf->task_index].src.ops->seek(&dp->rx[mf->task_index].src, &off);
		} else if (mf->task_kind == SL_CKPT_TASK_WORKER) {
			/* N->M: the workers take their key groups from every
			 * file, on their own lcores (dp_worker_init). */
			rc = restore_keep(dp, &s, kept);
			keep = true;
		} else if (mf->task_kind == SL_CKPT_TASK_SINK && s.kind == SL_CKPT_SEC_SINK &&
			   s.len == sizeof(sink_st[0]) && s.op_id < 2) {
			/* op 0: the sink's transactions; 1: the late sink's. */
			memcpy(&sink_st[s.op_id], s.data, sizeof(sink_st[0]));
			have_sink[s.op_id] = true;
		} else if (mf->task_kind == SL_CKPT_TASK_SINK && s.kind == SL_CKPT_SEC_OPERATOR &&
			   s.op_id == 0) {
			if (s.len % dp->out.row_size != 0) {
				rc = -EINVAL;
				break;
			}
			held = s.len / dp->out.row_size;
			rc = dp_pending_add(&dp->pd, s.data, held, dp->out.row_size,
					    SL_TS_MIN, NULL);
		} else if (mf->task_kind == SL_CKPT_TASK_SINK && s.kind == SL_CKPT_SEC_OPERATOR &&
			   s.op_id == 1) {
			/* The held rows' tags (older checkpoints: none, MIN). */
			if (s.len != held * sizeof(int64_t) || held > dp->pd.n) {
				rc = -EINVAL;
				break;
			}
			if (held != 0)
				memcpy(dp->pd.tag + dp->pd.n - held, s.data, s.len);
		} else if (mf->task_kind == SL_CKPT_TASK_SINK && s.kind == SL_CKPT_SEC_OPERATOR &&
			   s.op_id == 2) {
			if (s.len != held || held > dp->pd.n) {
				rc = -EINVAL;
				break;
			}
			if (held != 0)
				memcpy(dp->pd.early + dp->pd.n - held, s.data, s.len);
		}
	}
	if (!keep || kept == UINT32_MAX)
		free(buf);
	return rc;
}

int
dp_ckpt_restore(struct dp *dp)
{
	const struct sl_plan *p = dp->plan;
	struct sl_ckpt_latest *lt = NULL;
	struct sl_sink2pc_state sink_st[2];
	bool have_sink[2] = { false, false };
	char path[4096];
	uint64_t t0;
	int dirfd, rc = 0;

	if (dp->restore == NULL)
		goto fresh;
	if (p->ckpt.interval_ms == 0) {
		DP_LOG(INFO, "restore: the job has no checkpointing: starting from the beginning");
		return 0;
	}
	lt = calloc(1, sizeof(*lt));
	if (lt == NULL)
		return -ENOMEM;
	if (strcmp(dp->restore, "latest") == 0) {
		rc = sl_ckpt_latest(p->ckpt.dir, lt);
		if (lt->n_rejected)
			DP_LOG(WARNING, "restore: passed over newer checkpoints:\n%s", lt->rejected);
		if (rc == -ENOENT && dp->restore_fallback != NULL) {
			DP_LOG(INFO, "restore: no completed checkpoint in %s: using %s",
			       p->ckpt.dir, dp->restore_fallback);
			dp->restore = dp->restore_fallback;
			free(lt);
			return dp_ckpt_restore(dp);
		}
		if (rc == -ENOENT) {
			DP_LOG(INFO, "restore: no completed checkpoint in %s: starting from the beginning",
			       p->ckpt.dir);
			free(lt);
			lt = NULL;
			goto fresh;
		}
	} else {
		char tmp[4096], *base;
		unsigned long long id;

		snprintf(tmp, sizeof(tmp), "%s", dp->restore);
		base = basename(tmp);
		if (sscanf(base, "chk-%llu", &id) != 1) {
			DP_LOG(ERR, "--restore %s: expected a chk-N directory or 'latest'", dp->restore);
			free(lt);
			return -EINVAL;
		}
		snprintf(tmp, sizeof(tmp), "%s", dp->restore);
		snprintf(lt->dir, sizeof(lt->dir), "%s", dp->restore);
		lt->id = id;
		rc = sl_ckpt_verify(dirname(tmp), id, true, &lt->m, path, sizeof(path));
		if (rc < 0)
			DP_LOG(ERR, "restore: %s", path);
	}
	if (rc < 0) {
		free(lt);
		return rc;
	}
	DP_LOG(INFO, "restore: checkpoint %" PRIu64 " (%u files, %u workers then, %u now)",
	       lt->id, lt->m.n_files, lt->m.n_workers, dp->n_workers);
	if (lt->m.max_parallelism != p->max_parallelism) {
		DP_LOG(ERR, "restore: the checkpoint has %u key groups, the job %u; pipeline.max-parallelism must not change",
		       lt->m.max_parallelism, p->max_parallelism);
		free(lt);
		return -EINVAL;
	}
	t0 = rte_rdtsc();
	dirfd = open(lt->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		rc = -errno;
		free(lt);
		return rc;
	}
	for (uint32_t i = 0; i < lt->m.n_files && rc == 0; i++)
		if (lt->m.files[i].task_kind != SL_CKPT_TASK_NATIVE)
			rc = restore_file(dp, dirfd, &lt->m.files[i], sink_st, have_sink);
	close(dirfd);
	/* A native checkpoint's workers open its files where they are. */
	if (rc == 0 && dp->rs != NULL)
		snprintf(dp->rs->dir, sizeof(dp->rs->dir), "%s", lt->dir);
	if (rc == 0)
		DP_LOG(INFO, "restore: checkpoint %" PRIu64 " loaded in %" PRIu64 " ms",
		       lt->id, (rte_rdtsc() - t0) * 1000 / rte_get_tsc_hz());
	if (dp->ck != NULL)
		dp->ck->id = lt->id;
	/* Started from a given savepoint or checkpoint: the checkpoint dir's
	 * older contents belong to an earlier run, and a later restart's
	 * "latest" must not find them. Everything needed is loaded now. */
	if (rc == 0 && dp->ck != NULL && strcmp(dp->restore, "latest") != 0)
		ckpt_clear_old(p->ckpt.dir);
	free(lt);
	if (rc < 0)
		return rc;
	if (dp->eos)
		rc = sl_sink2pc_open(&dp->sink2pc, p->sink.path, &dp->final,
				     have_sink[0] ? &sink_st[0] : NULL);
	/* A checkpoint from before the job had a late sink has no state
	 * for it: it starts fresh. */
	if (rc == 0 && dp->late_eos)
		rc = sl_sink2pc_open(&dp->late2pc, p->late_sink.path, dp->late_schema,
				     have_sink[1] ? &sink_st[1] : NULL);
	return rc;
fresh:
	/* A fresh run's checkpoints start again at chk-1: an earlier run's
	 * must never be taken for this run's by a later --restore latest. */
	if (dp->ck != NULL)
		ckpt_clear_old(p->ckpt.dir);
	if (dp->eos)
		rc = sl_sink2pc_open(&dp->sink2pc, p->sink.path, &dp->final, NULL);
	if (rc == 0 && dp->late_eos)
		rc = sl_sink2pc_open(&dp->late2pc, p->late_sink.path, dp->late_schema, NULL);
	return rc;
}

int
dp_ckpt_await(struct dp *dp, uint64_t id, json_t **data, char *msg, size_t len)
{
	struct dp_ckpt *ck = dp->ck;
	char path[SL_PLAN_PATH_MAX + 32];

	*data = NULL;
	if (ck == NULL) {
		snprintf(msg, len, "the job takes no checkpoints");
		return -ENOTSUP;
	}
	if (id == 0)
		id = ck->inflight;	/* whatever is in flight, e.g. after a sluiced restart */
	if (id != 0 && id == ck->inflight) {
		if (!ck->acked)
			return 1;
		snprintf(path, sizeof(path), "%s/chk-%" PRIu64, ck->root, id);
		*data = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)id,
				  "kind", ck->savepoint ? "savepoint" : "checkpoint",
				  "path", path, "manifest", ck->ack_manifest);
		snprintf(msg, len, "%s %" PRIu64 " acknowledged by every task",
			 ck->savepoint ? "savepoint" : "checkpoint", id);
		return *data == NULL ? -ENOMEM : 0;
	}
	if (id != 0 && id == ck->last_failed) {
		snprintf(msg, len, "checkpoint %" PRIu64 " failed: %s", id, ck->last_why);
		return -EIO;
	}
	if (id != 0 && id == ck->last_completed) {
		snprintf(msg, len, "checkpoint %" PRIu64 " is already committed", id);
		return -EALREADY;
	}
	snprintf(msg, len, "no checkpoint %" PRIu64 " in flight (newest id %" PRIu64 ")",
		 id, ck->id);
	return -ENOENT;
}

int
dp_ckpt_commit(struct dp *dp, uint64_t id, char *msg, size_t len)
{
	struct dp_ckpt *ck = dp->ck;

	if (ck == NULL || !dp->coordinated) {
		snprintf(msg, len, "this dataplane commits its own checkpoints (no --coordinator sluiced)");
		return -ENOTSUP;
	}
	if (id != 0 && id == ck->last_completed) {
		snprintf(msg, len, "checkpoint %" PRIu64 " was committed already", id);
		return 0;	/* a retry after a lost reply */
	}
	if (id == 0 || id != ck->inflight || !ck->acked) {
		snprintf(msg, len, "checkpoint %" PRIu64 " is not acknowledged (in flight: %" PRIu64 ")",
			 id, ck->inflight);
		return -EBUSY;
	}
	ckpt_end(dp, true);
	snprintf(msg, len, "checkpoint %" PRIu64 " complete", id);
	return 0;
}

int
dp_ckpt_abort(struct dp *dp, uint64_t id, const char *why, char *msg, size_t len)
{
	struct dp_ckpt *ck = dp->ck;

	if (ck == NULL || id == 0 || id != ck->inflight) {
		snprintf(msg, len, "no checkpoint %" PRIu64 " in flight", id);
		return -ENOENT;
	}
	if (ck->acked) {
		snprintf(ck->why, sizeof(ck->why), "sluiced: %s", why ? why : "aborted");
		ckpt_end(dp, false);
	} else {
		char w[200];

		snprintf(w, sizeof(w), "sluiced: %s", why ? why : "aborted");
		ckpt_fail(dp, w);
	}
	snprintf(msg, len, "checkpoint %" PRIu64 " aborted", id);
	return 0;
}

int
dp_ckpt_stop_with_savepoint(struct dp *dp, const char *dir, json_t **data,
			    char *msg, size_t len)
{
	int rc = dp_ckpt_request(dp, dir, true, data, msg, len);

	/* Its id: the one just triggered, or the queued one after it. */
	if (rc == 0)
		dp->ck->stop_after = dp->ck->queued ? dp->ck->id + 1 : dp->ck->id;
	return rc;
}

/* Flink's checkpoint metrics, for the metrics reply (docs/metrics.md). */
void
dp_ckpt_metrics(const struct dp *dp, json_t *o)
{
	const struct dp_ckpt *ck = dp->ck;

	if (ck == NULL)
		return;
	json_object_set_new(o, "numberOfCompletedCheckpoints", json_integer((json_int_t)ck->completed));
	json_object_set_new(o, "numberOfFailedCheckpoints", json_integer((json_int_t)ck->failures));
	json_object_set_new(o, "lastCheckpointDuration", json_integer((json_int_t)ck->last_duration_ms));
	/* Flink's pair: what the checkpoint wrote, and its whole size. */
	json_object_set_new(o, "lastCheckpointSize", json_integer((json_int_t)ck->last_new_bytes));
	json_object_set_new(o, "lastCheckpointFullSize", json_integer((json_int_t)ck->last_bytes));
	json_object_set_new(o, "checkpointInProgress", json_integer((json_int_t)ck->inflight));
	if (ck->last_savepoint != 0)
		json_object_set_new(o, "lastSavepoint", json_pack("{s:I,s:s}",
			"id", (json_int_t)ck->last_savepoint, "path", ck->last_savepoint_dir));
}
