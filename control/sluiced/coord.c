/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The checkpoint coordinator (Flink's CheckpointCoordinator, design.md):
 * for every running job with execution.checkpointing.interval, sluiced
 * triggers checkpoints, waits for the dataplane's acknowledgement (every
 * task file durable), commits the checkpoint by writing its manifest
 * through io_uring (write, fsync, rename, fsync dir), applies retention,
 * and tells the dataplane, whose sink then commits its transaction.
 *
 *   IDLE --timer--> TRIGGER --checkpoint--> AWAIT --ckpt_await (manifest)-->
 *   WRITE --io_uring done--> COMMIT --ckpt_commit--> IDLE
 *
 * A checkpoint the user asked for (checkpoint, savepoint, stop with a
 * savepoint) is adopted at AWAIT. One is in flight at a time, as in the
 * dataplane. After a sluiced restart the dataplane may hold an
 * acknowledged checkpoint: the next trigger finds it busy and adopts it
 * (ckpt_await id 0). Nothing here blocks but the manifest directory's
 * open(2) and retention's unlinks, both metadata calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl_ckpt.h"
#include "sld.h"

enum coord_state { CO_IDLE, CO_TRIGGER, CO_AWAIT, CO_WRITE, CO_COMMIT };

struct sld_coord {
	struct sl_plan_ckpt ck;
	char root[PATH_MAX + SL_PLAN_PATH_MAX + 2];	/* state.checkpoints.dir, made absolute */
	enum coord_state st;
	uint64_t gen;			/* bumped at stop: late callbacks see a stale gen */
	uint64_t timer;
	uint64_t id;
	bool savepoint;
	int dirfd;
	struct sl_ckpt_manifest *m;
	int64_t last_trigger_ms, last_end_ms;
	uint64_t committed, failed;
	bool adopt_next;		/* the user's request waits behind ours */
};

/* What a dataplane call's callback needs to find its job again. */
struct coord_ctx {
	struct sld_daemon *d;
	char name[SL_NAME_MAX];
	uint64_t gen;
};

static uint64_t gen_next = 1;

static void coord_schedule(struct sld_daemon *d, struct sld_job *j);
static void coord_await(struct sld_daemon *d, struct sld_job *j, uint64_t id);

static uint64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Resolve a job path the way the dataplane (started in j->cwd) sees it. */
static void
job_path(const struct sld_job *j, const char *p, char *out, size_t len)
{
	int n;

	if (p[0] == '/' || j->cwd[0] == '\0')
		n = snprintf(out, len, "%s", p);
	else
		n = snprintf(out, len, "%s/%s", j->cwd, p);
	if (n < 0 || (size_t)n >= len)
		out[0] = '\0';		/* too long: open() then says so */
}

static struct coord_ctx *
ctx_new(struct sld_daemon *d, const struct sld_job *j)
{
	struct coord_ctx *c = calloc(1, sizeof(*c));

	if (c != NULL) {
		c->d = d;
		snprintf(c->name, sizeof(c->name), "%s", j->name);
		c->gen = j->co->gen;
	}
	return c;
}

/* The job the callback was for, if it still runs the same coordinator. */
static struct sld_job *
ctx_job(struct coord_ctx *c)
{
	struct sld_job *j = sld_job_find(c->d, c->name);

	if (j == NULL || j->co == NULL || j->co->gen != c->gen)
		return NULL;
	return j;
}

/* The reply's code, -1 without one. */
static int
reply_code(json_t *r)
{
	json_t *code = r ? json_object_get(r, "code") : NULL;

	return json_is_string(code) ? sl_proto_code_find(json_string_value(code)) : -1;
}

static const char *
reply_msg(json_t *r, int rc)
{
	json_t *m = r ? json_object_get(r, "msg") : NULL;

	return json_is_string(m) ? json_string_value(m) : rc < 0 ? strerror(-rc) : "no reply";
}

static void
coord_idle(struct sld_daemon *d, struct sld_job *j, bool ok)
{
	struct sld_coord *co = j->co;

	if (co->dirfd >= 0)
		close(co->dirfd);
	co->dirfd = -1;
	if (ok)
		co->committed++;
	else if (co->id != 0)
		co->failed++;
	co->st = CO_IDLE;
	co->id = 0;
	co->last_end_ms = sld_now_ms();
	if (co->adopt_next) {
		/* The dataplane starts a queued request as ours ends. */
		co->adopt_next = false;
		coord_await(d, j, 0);
		return;
	}
	coord_schedule(d, j);
}

static void
abort_cb(void *arg, int rc, json_t *r)
{
	(void)rc;
	json_decref(r);
	free(arg);
}

/* The manifest will not be written: the dataplane fails the checkpoint. */
static void
coord_abort(struct sld_daemon *d, struct sld_job *j, const char *why)
{
	char ctl[SLD_FILE_MAX];

	SLD_LOG("job %s: checkpoint %" PRIu64 " not committed: %s", j->name, j->co->id, why);
	sld_job_ctl_path(j, ctl, sizeof(ctl));
	sld_dpcall_args(d->loop, ctl, SL_PROTO_VERB_CKPT_ABORT,
			json_pack("{s:I,s:s}", "id", (json_int_t)j->co->id, "why", why),
			SLD_DP_TIMEOUT_MS, abort_cb, ctx_new(d, j));
	coord_idle(d, j, false);
}

static void
commit_cb(void *arg, int rc, json_t *r)
{
	struct coord_ctx *c = arg;
	struct sld_job *j = ctx_job(c);

	if (j != NULL && j->co->st == CO_COMMIT) {
		if (reply_code(r) == SL_PROTO_OK)
			SLD_LOG("job %s: %s %" PRIu64 " committed", j->name,
				j->co->savepoint ? "savepoint" : "checkpoint", j->co->id);
		else
			/* The manifest is durable: the checkpoint is complete on
			 * disk, and a restore will commit the sink's part. */
			SLD_LOG("job %s: checkpoint %" PRIu64 " is committed on disk but the dataplane did not confirm (%s)",
				j->name, j->co->id, reply_msg(r, rc));
		coord_idle(c->d, j, true);
	}
	json_decref(r);
	free(c);
}

/* The manifest is durable, or failed: retention, then tell the dataplane. */
static void
coord_written(struct sld_daemon *d, struct sld_job *j, const struct sl_ckpt_done *dn)
{
	struct sld_coord *co = j->co;
	char ctl[SLD_FILE_MAX], err[256], why[160];
	unsigned int deleted = 0;

	if (dn->res < 0) {
		snprintf(why, sizeof(why), "manifest: %s at step %u", strerror(-dn->res), dn->step);
		coord_abort(d, j, why);
		return;
	}
	if (!co->savepoint && sl_ckpt_retain(co->root, co->ck.num_retained, &deleted,
					     err, sizeof(err)) < 0)
		SLD_LOG("job %s: checkpoint retention: %s", j->name, err);
	co->st = CO_COMMIT;
	sld_job_ctl_path(j, ctl, sizeof(ctl));
	sld_dpcall_args(d->loop, ctl, SL_PROTO_VERB_CKPT_COMMIT,
			json_pack("{s:I}", "id", (json_int_t)co->id),
			SLD_DP_TIMEOUT_MS, commit_cb, ctx_new(d, j));
}

static void
writer_cb(struct sld_loop *l, int fd, short revents, void *arg)
{
	struct sld_daemon *d = arg;
	struct sl_ckpt_done dn[8];
	uint64_t v;
	unsigned int n;

	(void)l;
	(void)revents;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		SLD_LOG("checkpoint writer eventfd: %s", strerror(errno));
	while ((n = sl_ckpt_writer_poll(d->ckw, dn, 8)) > 0) {
		for (unsigned int i = 0; i < n; i++) {
			/* tag: the directory fd the op owned, and the job's slot. */
			uint32_t slot = (uint32_t)dn[i].tag;
			struct sld_job *j = slot < SLD_MAX_JOBS ? &d->jobs[slot] : NULL;

			close((int)(dn[i].tag >> 32));
			if (j != NULL && j->in_use && j->co != NULL && j->co->st == CO_WRITE)
				coord_written(d, j, &dn[i]);
		}
	}
}

static int
writer_get(struct sld_daemon *d)
{
	int rc, efd;

	if (d->ckw != NULL)
		return 0;
	rc = sl_ckpt_writer_create(16, &d->ckw);
	if (rc < 0) {
		SLD_LOG("checkpoints need io_uring for their manifests, which is not available (%s); enable it (sysctl kernel.io_uring_disabled=0)",
			strerror(-rc));
		return rc;
	}
	efd = sl_ckpt_writer_eventfd(d->ckw);
	if (efd < 0 || sld_loop_add_fd(d->loop, efd, POLLIN, writer_cb, d) < 0) {
		SLD_LOG("checkpoint writer: no eventfd (%s)", strerror(efd < 0 ? -efd : ENOMEM));
		sl_ckpt_writer_destroy(d->ckw);
		d->ckw = NULL;
		return efd < 0 ? efd : -ENOMEM;
	}
	return 0;
}

/* Every task acknowledged: write the manifest (the commit point). */
static void
coord_manifest(struct sld_daemon *d, struct sld_job *j, json_t *data)
{
	struct sld_coord *co = j->co;
	const char *enc = json_string_value(json_object_get(data, "manifest"));
	const char *path = json_string_value(json_object_get(data, "path"));
	char dir[PATH_MAX + SL_PLAN_PATH_MAX + 2], err[256];
	int rc;

	if (enc == NULL || path == NULL) {
		coord_abort(d, j, "the acknowledgement has no manifest or path");
		return;
	}
	rc = sl_ckpt_manifest_decode(enc, strlen(enc), co->m, err, sizeof(err));
	if (rc < 0 || co->m->ckpt_id != co->id) {
		coord_abort(d, j, rc < 0 ? err : "the manifest is for another checkpoint");
		return;
	}
	co->savepoint = co->m->kind == SL_CKPT_SAVEPOINT;
	co->m->complete_ns = wall_ns();
	job_path(j, path, dir, sizeof(dir));
	co->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (co->dirfd < 0) {
		snprintf(err, sizeof(err), "cannot open %.200s: %s", dir, strerror(errno));
		coord_abort(d, j, err);
		return;
	}
	rc = writer_get(d);
	if (rc == 0)
		rc = sl_ckpt_manifest_submit(d->ckw, co->dirfd, co->m,
					     (uint64_t)co->dirfd << 32 |
					     (uint64_t)(j - d->jobs));
	if (rc < 0) {
		snprintf(err, sizeof(err), "manifest not queued: %s", strerror(-rc));
		coord_abort(d, j, err);
		return;
	}
	/* The op owns the directory now; writer_cb closes it. */
	co->dirfd = -1;
	co->st = CO_WRITE;
}

static void
await_cb(void *arg, int rc, json_t *r)
{
	struct coord_ctx *c = arg;
	struct sld_job *j = ctx_job(c);
	json_t *data = r ? json_object_get(r, "data") : NULL;

	if (j != NULL && j->co->st == CO_AWAIT) {
		int code = reply_code(r);

		if (code == SL_PROTO_OK) {
			json_t *id = json_object_get(data, "id");

			if (json_is_integer(id))
				j->co->id = (uint64_t)json_integer_value(id);
			coord_manifest(c->d, j, data);
		} else if (rc == -ETIMEDOUT) {
			coord_abort(c->d, j, "no acknowledgement within execution.checkpointing.timeout");
		} else {
			/* Failed in the dataplane (it logged why and counted it). */
			SLD_LOG("job %s: checkpoint %" PRIu64 ": %s", j->name, j->co->id,
				reply_msg(r, rc));
			coord_idle(c->d, j, false);
		}
	}
	json_decref(r);
	free(c);
}

static void
coord_await(struct sld_daemon *d, struct sld_job *j, uint64_t id)
{
	struct sld_coord *co = j->co;
	char ctl[SLD_FILE_MAX];
	int64_t wait = co->ck.timeout_ms + 5000;

	co->st = CO_AWAIT;
	co->id = id;
	sld_job_ctl_path(j, ctl, sizeof(ctl));
	sld_dpcall_args(d->loop, ctl, SL_PROTO_VERB_CKPT_AWAIT,
			json_pack("{s:I}", "id", (json_int_t)id),
			wait > INT32_MAX ? INT32_MAX : (int)wait, await_cb, ctx_new(d, j));
}

static void
trigger_cb(void *arg, int rc, json_t *r)
{
	struct coord_ctx *c = arg;
	struct sld_job *j = ctx_job(c);

	(void)rc;	/* no reply: retried at the next interval */
	if (j != NULL && j->co->st == CO_TRIGGER) {
		int code = reply_code(r);
		json_t *id = json_object_get(r ? json_object_get(r, "data") : NULL, "id");

		if (code == SL_PROTO_OK && json_is_integer(id)) {
			coord_await(c->d, j, (uint64_t)json_integer_value(id));
		} else if (code == SL_PROTO_WRONG_STATE) {
			/* One in flight (the user's, or from before our restart),
			 * or the job is draining: adopt whatever is in flight. */
			coord_await(c->d, j, 0);
		} else {
			if (code == SL_PROTO_UNSUPPORTED)
				j->co->ck.interval_ms = 0;	/* nothing to coordinate */
			coord_idle(c->d, j, false);
		}
	}
	json_decref(r);
	free(c);
}

static void
tick_cb(struct sld_loop *l, void *arg)
{
	struct sld_job *j = arg;
	struct sld_daemon *d = j->d;
	struct sld_coord *co = j->co;
	char ctl[SLD_FILE_MAX];

	(void)l;
	co->timer = 0;
	if (co->st != CO_IDLE || j->state != SLD_RUNNING || j->pid <= 0)
		return;
	co->st = CO_TRIGGER;
	co->last_trigger_ms = sld_now_ms();
	sld_job_ctl_path(j, ctl, sizeof(ctl));
	sld_dpcall_args(d->loop, ctl, SL_PROTO_VERB_CHECKPOINT,
			json_pack("{s:s}", "periodic", "true"), SLD_DP_TIMEOUT_MS,
			trigger_cb, ctx_new(d, j));
}

/* Next trigger: interval after the last trigger, min-pause after the last end. */
static void
coord_schedule(struct sld_daemon *d, struct sld_job *j)
{
	struct sld_coord *co = j->co;
	int64_t now = sld_now_ms(), at;

	if (co->ck.interval_ms <= 0 || co->timer != 0 || d->shutting_down)
		return;
	at = co->last_trigger_ms + co->ck.interval_ms;
	if (co->last_end_ms + co->ck.min_pause_ms > at)
		at = co->last_end_ms + co->ck.min_pause_ms;
	co->timer = sld_loop_add_timer(d->loop, at > now ? at - now : 0, tick_cb, j);
}

void
sld_coord_start(struct sld_daemon *d, struct sld_job *j)
{
	struct sl_plan *p;
	struct sld_coord *co;
	char err[SL_PLAN_ERR_MAX];

	if (j->co != NULL)
		return;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return;
	if (sl_plan_load_flags(j->job_file, SL_PLAN_NO_PLUGINS, p, err, sizeof(err)) < 0) {
		SLD_LOG("job %s: cannot read its checkpoint settings: %s", j->name, err);
		free(p);
		return;
	}
	if (p->ckpt.interval_ms <= 0) {
		sl_plan_free(p);
		free(p);
		return;
	}
	co = calloc(1, sizeof(*co));
	if (co != NULL)
		co->m = calloc(1, sizeof(*co->m));
	if (co == NULL || co->m == NULL) {
		free(co);
		sl_plan_free(p);
		free(p);
		return;
	}
	co->ck = p->ckpt;
	job_path(j, p->ckpt.dir, co->root, sizeof(co->root));
	sl_plan_free(p);
	free(p);
	co->dirfd = -1;
	co->gen = gen_next++;
	co->last_trigger_ms = sld_now_ms();
	co->last_end_ms = co->last_trigger_ms - co->ck.min_pause_ms;
	j->co = co;
	SLD_LOG("job %s: coordinating its checkpoints every %" PRId64 " ms into %s",
		j->name, co->ck.interval_ms, co->root);
	coord_schedule(d, j);
}

void
sld_coord_stop(struct sld_daemon *d, struct sld_job *j)
{
	struct sld_coord *co = j->co;

	if (co == NULL)
		return;
	if (co->timer != 0)
		sld_loop_del_timer(d->loop, co->timer);
	/* A manifest still in the ring finishes on its own (writer_cb closes
	 * its directory); a later restore checks it like any other. */
	if (co->dirfd >= 0)
		close(co->dirfd);
	free(co->m);
	free(co);
	j->co = NULL;
}

void
sld_coord_adopt(struct sld_daemon *d, struct sld_job *j, uint64_t id)
{
	if (j->co == NULL)
		return;
	if (j->co->st != CO_IDLE) {
		if (id != j->co->id)
			j->co->adopt_next = true;
		return;
	}
	if (j->co->timer != 0) {
		sld_loop_del_timer(d->loop, j->co->timer);
		j->co->timer = 0;
	}
	j->co->last_trigger_ms = sld_now_ms();
	coord_await(d, j, id);
}

json_t *
sld_coord_json(const struct sld_job *j)
{
	const struct sld_coord *co = j->co;
	static const char *const names[] = { "idle", "trigger", "await", "write", "commit" };

	if (co == NULL)
		return json_null();
	return json_pack("{s:s,s:I,s:I,s:I,s:I}", "state", names[co->st],
			 "inFlight", (json_int_t)co->id,
			 "committed", (json_int_t)co->committed,
			 "failed", (json_int_t)co->failed,
			 "intervalMs", (json_int_t)co->ck.interval_ms);
}
