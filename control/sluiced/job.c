/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The job table and supervision: one sluice-dp per job, in its own
 * process group, watched through a pidfd in the loop. Its exit decides
 * the next state: 0 -> FINISHED, our SIGKILL -> CANCELED, anything else
 * -> a restart by the job's strategy (a loop timer, never a sleep) or
 * FAILED once the attempts are used up. Every state change is saved.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sld.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static const char *const state_names[] = {
	[SLD_CREATED] = "CREATED",
	[SLD_RUNNING] = "RUNNING",
	[SLD_RESTARTING] = "RESTARTING",
	[SLD_FAILED] = "FAILED",
	[SLD_CANCELED] = "CANCELED",
	[SLD_FINISHED] = "FINISHED",
};

static void job_set_state(struct sld_daemon *d, struct sld_job *j,
			  enum sld_state s);
static int job_spawn(struct sld_daemon *d, struct sld_job *j);
static void job_crashed(struct sld_daemon *d, struct sld_job *j);

const char *
sld_state_name(enum sld_state s)
{
	return (unsigned int)s <= SLD_FINISHED ? state_names[s] : "?";
}

int
sld_state_find(const char *name)
{
	for (int i = 0; i <= SLD_FINISHED; i++)
		if (strcmp(state_names[i], name) == 0)
			return i;
	return -1;
}

static bool
job_active(const struct sld_job *j)
{
	return j->in_use && (j->state == SLD_CREATED || j->state == SLD_RUNNING ||
			     j->state == SLD_RESTARTING);
}

int
sld_jobs_init(struct sld_daemon *d)
{
	d->jobs = calloc(SLD_MAX_JOBS, sizeof(*d->jobs));
	return d->jobs ? 0 : -ENOMEM;
}

struct sld_job *
sld_job_find(struct sld_daemon *d, const char *name)
{
	for (int i = 0; i < SLD_MAX_JOBS; i++)
		if (d->jobs[i].in_use && strcmp(d->jobs[i].name, name) == 0)
			return &d->jobs[i];
	return NULL;
}

int
sld_jobs_live(const struct sld_daemon *d)
{
	int n = 0;

	for (int i = 0; i < SLD_MAX_JOBS; i++)
		if (d->jobs[i].in_use && d->jobs[i].pid > 0)
			n++;
	return n;
}

void
sld_job_ctl_path(const struct sld_job *j, char *buf, size_t len)
{
	snprintf(buf, len, "%s/dp.sock", j->run_dir);
}

void
sld_job_stats_path(const struct sld_job *j, char *buf, size_t len)
{
	snprintf(buf, len, "%s/stats.json", j->run_dir);
}

void
sld_job_device_key(const char *port, char *buf, size_t len)
{
	const char *sock = strstr(port, ",socket=");
	size_t n = strcspn(port, ",");

	/* The device, plus a memif socket path: two names on one socket collide too. */
	if (sock != NULL) {
		sock += 8;
		snprintf(buf, len, "%.*s;socket=%.*s", (int)n, port,
			 (int)strcspn(sock, ","), sock);
	} else {
		snprintf(buf, len, "%.*s", (int)n, port);
	}
}

static bool
device_conflict(const char *a, const char *b)
{
	const char *sa = strstr(a, ";socket="), *sb = strstr(b, ";socket=");
	size_t na = sa ? (size_t)(sa - a) : strlen(a);
	size_t nb = sb ? (size_t)(sb - b) : strlen(b);

	if (*a == '\0' || *b == '\0')
		return false;
	if (sa != NULL && sb != NULL && strcmp(sa, sb) == 0)
		return true;
	/* A virtual device lives inside its process: net_pcap0 in two
	 * dataplanes is two devices. Only what it attaches to outside the
	 * process (a memif socket, above) can collide. */
	if (strncmp(a, "net_", 4) == 0 || strncmp(b, "net_", 4) == 0)
		return false;
	return na == nb && memcmp(a, b, na) == 0;
}

bool
sld_cpus_overlap(const char *a, const char *b)
{
	uint64_t sa[SL_PLAN_CPU_SETSIZE / 64], sb[SL_PLAN_CPU_SETSIZE / 64];

	if (*a == '\0' || *b == '\0' ||
	    sl_plan_cpus_parse(a, sa, NULL, 0) < 0 ||
	    sl_plan_cpus_parse(b, sb, NULL, 0) < 0)
		return false;
	for (int i = 0; i < SL_PLAN_CPU_SETSIZE / 64; i++)
		if (sa[i] & sb[i])
			return true;
	return false;
}

static int
mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void
job_save(struct sld_daemon *d)
{
	int rc = sld_registry_save(d);

	if (rc < 0)
		SLD_LOG("cannot save the registry %s: %s; check the state directory's space and permissions",
			d->registry, strerror(-rc));
}

static void
job_set_state(struct sld_daemon *d, struct sld_job *j, enum sld_state s)
{
	if (j->state != s)
		SLD_LOG("job %s: %s -> %s%s%s", j->name, sld_state_name(j->state),
			sld_state_name(s), j->reason[0] && s == SLD_FAILED ? ": " : "",
			s == SLD_FAILED ? j->reason : "");
	j->state = s;
	if (s == SLD_FAILED || s == SLD_CANCELED || s == SLD_FINISHED)
		j->ended_at = sld_wall_ms();
	if (s == SLD_RUNNING)
		sld_coord_start(d, j);
	else
		sld_coord_stop(d, j);
	job_save(d);
}

/* Nothing left running during shutdown: save and leave the loop. */
static void
shutdown_check(struct sld_daemon *d)
{
	if (!d->shutting_down || sld_jobs_live(d) > 0)
		return;
	SLD_LOG("every dataplane has exited; saving the registry and exiting");
	job_save(d);
	sld_loop_stop(d->loop);
}

static void
exit_desc(const siginfo_t *si, char *buf, size_t len)
{
	if (si->si_code == CLD_EXITED)
		snprintf(buf, len, "exited %d", si->si_status);
	else
		snprintf(buf, len, "killed by signal %d (%s)%s", si->si_status,
			 strsignal(si->si_status),
			 si->si_code == CLD_DUMPED ? ", core dumped" : "");
}

static void
job_exited(struct sld_daemon *d, struct sld_job *j, bool clean)
{
	if (j->pidfd >= 0) {
		sld_loop_del_fd(d->loop, j->pidfd);
		close(j->pidfd);
	}
	j->pidfd = -1;
	SLD_LOG("job %s: dataplane %d %s", j->name, (int)j->pid, j->last_exit);
	j->pid = 0;
	if (j->cancel_req) {
		job_set_state(d, j, SLD_CANCELED);
	} else if (clean) {
		job_set_state(d, j, SLD_FINISHED);
	} else if (d->shutting_down) {
		snprintf(j->reason, sizeof(j->reason),
			 "dataplane %s while sluiced shut down", j->last_exit);
		job_set_state(d, j, SLD_FAILED);
	} else if (j->stop_req) {
		snprintf(j->reason, sizeof(j->reason),
			 "dataplane %s after a stop request", j->last_exit);
		job_set_state(d, j, SLD_FAILED);
	} else {
		job_crashed(d, j);
	}
	shutdown_check(d);
}

int
sld_job_stats_exit(const struct sld_job *j, int *code)
{
	char path[SLD_FILE_MAX], msg[SLD_FILE_MAX + 64], *buf;
	json_error_t jerr;
	struct stat st;
	json_t *o, *v;
	size_t n;
	int rc;

	sld_job_stats_path(j, path, sizeof(path));
	if (sld_read_file(path, SLD_STATS_MAX, &buf, &n, &st, msg, sizeof(msg)) < 0)
		return -ENOENT;
	/* A stats.json of an earlier run says nothing about this one. */
	if ((int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000 <
	    j->started_at - 1000) {
		free(buf);
		return -ENOENT;
	}
	o = json_loadb(buf, n, 0, &jerr);
	free(buf);
	v = json_object_get(o, "exit_code");
	rc = -ENODATA;
	if (json_is_integer(v) && json_integer_value(v) >= INT_MIN &&
	    json_integer_value(v) <= INT_MAX) {
		*code = (int)json_integer_value(v);
		rc = 0;
	}
	json_decref(o);
	return rc;
}

/*
 * Not our child (re-attached after a sluiced restart): the exit status is
 * not ours to read, so the dataplane's own word for it is: the exit_code
 * it writes last into a stats.json of this run. A dataplane that fails
 * (a sink error) writes stats too, and a stop request says nothing about
 * how the drain went: neither alone means clean.
 */
static bool
reattached_exit(struct sld_job *j)
{
	int code = -1, rc = sld_job_stats_exit(j, &code);

	if (rc == 0)
		snprintf(j->last_exit, sizeof(j->last_exit),
			 "exited %d (stats.json; not sluiced's child)", code);
	else if (rc == -ENODATA)
		snprintf(j->last_exit, sizeof(j->last_exit),
			 "exited (not sluiced's child; no exit_code)");
	else
		snprintf(j->last_exit, sizeof(j->last_exit),
			 "exited (not sluiced's child; status unknown)");
	return rc == 0 && code == 0;
}

static void
job_pidfd_cb(struct sld_loop *l, int fd, short revents, void *arg)
{
	struct sld_job *j = arg;
	siginfo_t si;
	bool clean;

	(void)l;
	(void)revents;
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) == 0) {
		if (si.si_pid == 0)
			return;		/* spurious wakeup */
		exit_desc(&si, j->last_exit, sizeof(j->last_exit));
		clean = si.si_code == CLD_EXITED && si.si_status == 0;
	} else {
		clean = reattached_exit(j) && !j->cancel_req;
	}
	job_exited(j->d, j, clean);
}

static int
pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int
job_watch(struct sld_daemon *d, struct sld_job *j)
{
	j->pidfd = pidfd_open(j->pid);
	if (j->pidfd < 0)
		return -errno;
	if (sld_loop_add_fd(d->loop, j->pidfd, POLLIN, job_pidfd_cb, j) < 0) {
		close(j->pidfd);
		j->pidfd = -1;
		return -ENOMEM;
	}
	return 0;
}

static void
restart_timer_cb(struct sld_loop *l, void *arg)
{
	struct sld_job *j = arg;

	(void)l;
	j->timer = 0;
	if (j->state != SLD_RESTARTING || j->d->shutting_down)
		return;
	SLD_LOG("job %s: restart %u of %u", j->name, j->restarts,
		sld_restart_attempts(&j->restart));
	if (job_spawn(j->d, j) < 0)
		job_crashed(j->d, j);
}

/* A crash (or a dataplane gone while sluiced was down): apply the strategy. */
static void
job_crashed(struct sld_daemon *d, struct sld_job *j)
{
	struct sld_restart_rec *r;
	int64_t delay;

	if (sld_restart_delay(&j->restart, j->restarts + 1, &delay) < 0) {
		if (j->restart.type == SL_RESTART_NONE)
			snprintf(j->reason, sizeof(j->reason),
				 "dataplane %s; restart-strategy.type is none",
				 j->last_exit);
		else
			snprintf(j->reason, sizeof(j->reason),
				 "dataplane %s; restart-strategy %s used all %u attempts; see %.100s/dp.log",
				 j->last_exit, sl_plan_restart_name(j->restart.type),
				 sld_restart_attempts(&j->restart), j->run_dir);
		job_set_state(d, j, SLD_FAILED);
		return;
	}
	/* Keep the most recent restarts: shift the oldest out. */
	if (j->n_hist == SLD_MAX_HISTORY) {
		memmove(j->hist, j->hist + 1, sizeof(j->hist[0]) * (SLD_MAX_HISTORY - 1));
		j->n_hist--;
	}
	r = &j->hist[j->n_hist++];
	r->at_ms = sld_wall_ms();
	snprintf(r->exit, sizeof(r->exit), "%s", j->last_exit);
	j->restarts++;
	SLD_LOG("job %s: dataplane %s; restarting in %lld ms (attempt %u of %u)",
		j->name, j->last_exit, (long long)delay, j->restarts,
		sld_restart_attempts(&j->restart));
	j->timer = sld_loop_add_timer(d->loop, delay, restart_timer_cb, j);
	job_set_state(d, j, SLD_RESTARTING);
}

static int
job_spawn(struct sld_daemon *d, struct sld_job *j)
{
	char ctl[SLD_FILE_MAX], stats[SLD_FILE_MAX], log[SLD_FILE_MAX];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char *argv[20];
	sigset_t none, dfl;
	int argc = 0, rc;
	pid_t pid;

	sld_job_ctl_path(j, ctl, sizeof(ctl));
	sld_job_stats_path(j, stats, sizeof(stats));
	snprintf(log, sizeof(log), "%s/dp.log", j->run_dir);
	rc = mkdir_p(j->run_dir, 0750);
	if (rc < 0) {
		snprintf(j->last_exit, sizeof(j->last_exit), "not started");
		SLD_LOG("job %s: cannot create %s: %s; check the state directory",
			j->name, j->run_dir, strerror(-rc));
		return rc;
	}
	unlink(ctl);
	unlink(stats);
	argv[argc++] = d->dp_path;
	argv[argc++] = "--job";
	argv[argc++] = j->job_file;
	argv[argc++] = "--ctl";
	argv[argc++] = ctl;
	argv[argc++] = "--stats-json";
	argv[argc++] = stats;
	/* sluiced triggers and commits the job's checkpoints (coord.c). */
	argv[argc++] = "--coordinator";
	argv[argc++] = "sluiced";
	if (j->cpus[0]) {
		argv[argc++] = "--cpus";
		argv[argc++] = j->cpus;
	}
	/* A restart resumes from the job's latest completed checkpoint
	 * (R6.7), or from the savepoint it was submitted with if none has
	 * completed since; a job without checkpointing starts over. */
	if (j->restarts > 0) {
		argv[argc++] = "--restore";
		argv[argc++] = "latest";
		if (j->restore_from[0]) {
			argv[argc++] = "--restore-fallback";
			argv[argc++] = j->restore_from;
		}
	} else if (j->restore_from[0]) {
		argv[argc++] = "--restore";
		argv[argc++] = j->restore_from;
	}
	argv[argc] = NULL;

	/*
	 * Its own process group (cancel kills the group), default signal
	 * dispositions and an empty mask: sluiced blocks SIGTERM for its
	 * signalfd and the dataplane must not inherit that.
	 */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGCHLD);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				      POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log,
					 O_WRONLY | O_CREAT | O_APPEND, 0640);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	if (j->cwd[0])
		posix_spawn_file_actions_addchdir_np(&fa, j->cwd);
	rc = strchr(d->dp_path, '/') ?
		posix_spawn(&pid, d->dp_path, &fa, &at, argv, environ) :
		posix_spawnp(&pid, d->dp_path, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		snprintf(j->last_exit, sizeof(j->last_exit), "not started: %s",
			 strerror(rc));
		SLD_LOG("job %s: cannot start %s: %s; check --dp and the job's cwd %s",
			j->name, d->dp_path, strerror(rc), j->cwd);
		return -rc;
	}
	j->pid = pid;
	j->cancel_req = j->stop_req = false;
	j->started_at = sld_wall_ms();
	rc = job_watch(d, j);
	if (rc < 0) {
		/* Unwatched, it could never be supervised: do not leave it behind. */
		SLD_LOG("job %s: cannot watch dataplane %d: %s; killing it",
			j->name, (int)pid, strerror(-rc));
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		j->pid = 0;
		snprintf(j->last_exit, sizeof(j->last_exit), "not watched");
		return rc;
	}
	SLD_LOG("job %s: started dataplane %d (log %s)", j->name, (int)pid, log);
	job_set_state(d, j, SLD_RUNNING);
	return 0;
}

static struct sld_job *
job_slot(struct sld_daemon *d, const char *name)
{
	struct sld_job *j = sld_job_find(d, name), *oldest = NULL;

	if (j != NULL)
		return j;
	for (int i = 0; i < SLD_MAX_JOBS; i++) {
		j = &d->jobs[i];
		if (!j->in_use)
			return j;
		/* Full: forget the oldest ended job. */
		if (!job_active(j) && (oldest == NULL || j->ended_at < oldest->ended_at))
			oldest = j;
	}
	return oldest;
}

enum sl_proto_code
sld_job_submit(struct sld_daemon *d, const struct sl_plan *p, const char *name,
	       const char *text, size_t len, const char *path, const char *cwd,
	       const char *savepoint, char *msg, size_t msglen)
{
	FILE *f;
	char device[SL_PLAN_ARG_MAX] = "";
	struct sld_job *j;
	int rc;

	if (d->shutting_down) {
		snprintf(msg, msglen, "sluiced is shutting down; submit again once it is back");
		return SL_PROTO_BUSY;
	}
	if (p->source.type == SL_SRC_ETHDEV)
		sld_job_device_key(p->source.port, device, sizeof(device));
	for (int i = 0; i < SLD_MAX_JOBS; i++) {
		const struct sld_job *o = &d->jobs[i];

		if (!job_active(o))
			continue;
		if (strcmp(o->name, name) == 0) {
			snprintf(msg, msglen, "job %s is already %s; cancel or stop it first, or submit with another name",
				 name, sld_state_name(o->state));
			return SL_PROTO_CONFLICT;
		}
		if (sld_cpus_overlap(o->cpus, p->lcores.cpus)) {
			snprintf(msg, msglen, "lcores.cpus %s overlaps job %s's cpus %s; choose other CPUs",
				 p->lcores.cpus, o->name, o->cpus);
			return SL_PROTO_CONFLICT;
		}
		if (device_conflict(o->device, device)) {
			snprintf(msg, msglen, "source.port device %s is used by job %s; use another port",
				 device, o->name);
			return SL_PROTO_CONFLICT;
		}
	}
	j = job_slot(d, name);
	if (j == NULL) {
		snprintf(msg, msglen, "%d jobs are active; cancel one first", SLD_MAX_JOBS);
		return SL_PROTO_BUSY;
	}
	memset(j, 0, sizeof(*j));
	j->in_use = true;
	j->d = d;
	j->pidfd = -1;
	snprintf(j->name, sizeof(j->name), "%s", name);
	snprintf(j->run_dir, sizeof(j->run_dir), "%s/jobs/%s", d->cfg.state_dir, name);
	snprintf(j->cwd, sizeof(j->cwd), "%s", cwd && *cwd ? cwd : j->run_dir);
	snprintf(j->restore_from, sizeof(j->restore_from), "%s", savepoint ? savepoint : "");
	snprintf(j->cpus, sizeof(j->cpus), "%s", p->lcores.cpus);
	snprintf(j->device, sizeof(j->device), "%s", device);
	j->rx = p->lcores.rx;
	j->workers = p->lcores.workers;
	j->restart = p->restart.from_job ? p->restart : d->cfg.restart;
	j->created_at = sld_wall_ms();
	j->state = SLD_CREATED;
	rc = mkdir_p(j->run_dir, 0750);
	if (rc < 0) {
		snprintf(msg, msglen, "cannot create %s: %s", j->run_dir, strerror(-rc));
		j->in_use = false;
		return SL_PROTO_INTERNAL;
	}
	/*
	 * The dataplane reads the bytes validated here, from the run dir,
	 * never the client's file again: edited or swapped after this check
	 * (eal: above all), it would run what was never checked.
	 */
	snprintf(j->job_file, sizeof(j->job_file), "%s/job.yaml", j->run_dir);
	f = fopen(j->job_file, "we");
	if (f == NULL || fwrite(text, 1, len, f) != len) {
		snprintf(msg, msglen, "cannot write %s: %s", j->job_file,
			 strerror(errno));
		if (f != NULL)
			fclose(f);
		j->in_use = false;
		return SL_PROTO_INTERNAL;
	}
	if (fclose(f) != 0) {
		snprintf(msg, msglen, "cannot write %s: %s", j->job_file,
			 strerror(errno));
		j->in_use = false;
		return SL_PROTO_INTERNAL;
	}
	SLD_LOG("job %s: submitted (%s, copied to %s, cwd %s, restart-strategy %s)",
		name, path ? path : "inline", j->job_file, j->cwd,
		sl_plan_restart_name(j->restart.type));
	job_save(d);
	if (job_spawn(d, j) < 0) {
		snprintf(j->reason, sizeof(j->reason), "dataplane %s", j->last_exit);
		job_set_state(d, j, SLD_FAILED);
		snprintf(msg, msglen, "cannot start the dataplane: %s", j->last_exit);
		return SL_PROTO_INTERNAL;
	}
	snprintf(msg, msglen, "job %s submitted; dataplane pid %d", name, (int)j->pid);
	return SL_PROTO_OK;
}

enum sl_proto_code
sld_job_cancel(struct sld_daemon *d, struct sld_job *j, char *msg, size_t msglen)
{
	switch (j->state) {
	case SLD_RUNNING:
		j->cancel_req = true;
		/* The whole group: nothing the dataplane started outlives it. */
		if (kill(-j->pid, SIGKILL) != 0)
			kill(j->pid, SIGKILL);
		SLD_LOG("job %s: cancel: SIGKILL to dataplane %d", j->name, (int)j->pid);
		snprintf(msg, msglen, "job %s: dataplane %d killed; the job becomes CANCELED when it is gone",
			 j->name, (int)j->pid);
		return SL_PROTO_OK;
	case SLD_CREATED:
	case SLD_RESTARTING:
		sld_loop_del_timer(d->loop, j->timer);
		j->timer = 0;
		job_set_state(d, j, SLD_CANCELED);
		snprintf(msg, msglen, "job %s canceled", j->name);
		return SL_PROTO_OK;
	default:
		snprintf(msg, msglen, "job %s is already %s", j->name,
			 sld_state_name(j->state));
		return SL_PROTO_WRONG_STATE;
	}
}

struct stop_ctx {
	struct sld_daemon *d;
	char name[SL_NAME_MAX];
	pid_t pid;
	bool savepoint;		/* stop with savepoint: never fall back to a drain */
};

static void
stop_cb(void *arg, int rc, json_t *reply)
{
	struct stop_ctx *s = arg;
	struct sld_job *j = sld_job_find(s->d, s->name);
	json_t *ok = reply ? json_object_get(reply, "ok") : NULL;

	if (j != NULL && j->pid == s->pid && j->pid > 0 && json_is_true(ok) && s->savepoint) {
		json_t *id = json_object_get(json_object_get(reply, "data"), "id");

		/* The dataplane stops once sluiced has committed the savepoint. */
		sld_coord_adopt(s->d, j, json_is_integer(id) ? (uint64_t)json_integer_value(id) : 0);
	} else if (j != NULL && j->pid == s->pid && j->pid > 0 && !json_is_true(ok)) {
		json_t *m = reply ? json_object_get(reply, "msg") : NULL;

		if (s->savepoint) {
			/* A drain would fire windows the savepoint should hold. */
			j->stop_req = false;
			SLD_LOG("job %s: stop with savepoint refused by the dataplane (%s); the job keeps running",
				s->name, json_is_string(m) ? json_string_value(m) :
					 rc < 0 ? strerror(-rc) : "refused");
		} else {
			SLD_LOG("job %s: the dataplane did not take stop (%s); sending SIGTERM (drains too)",
				s->name, rc < 0 ? strerror(-rc) : "refused");
			kill(j->pid, SIGTERM);
		}
	}
	json_decref(reply);
	free(s);
}

enum sl_proto_code
sld_job_stop(struct sld_daemon *d, struct sld_job *j, const char *savepoint,
	     char *msg, size_t msglen)
{
	char ctl[SLD_FILE_MAX];
	struct stop_ctx *s;

	switch (j->state) {
	case SLD_RUNNING:
		break;
	case SLD_CREATED:
	case SLD_RESTARTING:
		/* No dataplane, nothing to drain. */
		return sld_job_cancel(d, j, msg, msglen);
	default:
		snprintf(msg, msglen, "job %s is already %s", j->name,
			 sld_state_name(j->state));
		return SL_PROTO_WRONG_STATE;
	}
	j->stop_req = true;
	sld_job_ctl_path(j, ctl, sizeof(ctl));
	s = calloc(1, sizeof(*s));
	if (s != NULL) {
		s->d = d;
		snprintf(s->name, sizeof(s->name), "%s", j->name);
		s->pid = j->pid;
		s->savepoint = savepoint != NULL;
	}
	if (s == NULL || sld_dpcall_args(d->loop, ctl, SL_PROTO_VERB_STOP,
					 savepoint ? json_pack("{s:s}", "savepoint", savepoint) : NULL,
					 SLD_DP_TIMEOUT_MS, stop_cb, s) == NULL) {
		free(s);
		if (savepoint != NULL) {
			j->stop_req = false;
			snprintf(msg, msglen, "job %s: cannot reach the dataplane for a savepoint", j->name);
			return SL_PROTO_UNAVAILABLE;
		}
		kill(j->pid, SIGTERM);
	}
	if (savepoint != NULL) {
		SLD_LOG("job %s: stop with savepoint into %s", j->name, savepoint);
		snprintf(msg, msglen, "job %s: stopping with a savepoint into %.900s; it becomes FINISHED when the savepoint completes and the dataplane exits",
			 j->name, savepoint);
		return SL_PROTO_OK;
	}
	SLD_LOG("job %s: stop: draining dataplane %d", j->name, (int)j->pid);
	snprintf(msg, msglen, "job %s: draining; it becomes FINISHED when the dataplane exits",
		 j->name);
	return SL_PROTO_OK;
}

/* /proc/PID/cmdline: is it the sluice-dp we started for this job? */
static bool
is_our_dataplane(const struct sld_job *j)
{
	char path[64], buf[8192], ctl[SLD_FILE_MAX];
	const char *base;
	size_t n;
	FILE *f;
	bool ctl_ok = false;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)j->pid);
	f = fopen(path, "re");
	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n == 0)
		return false;
	buf[n] = '\0';
	base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	if (strcmp(base, "sluice-dp") != 0)
		return false;
	sld_job_ctl_path(j, ctl, sizeof(ctl));
	for (size_t off = 0; off < n; off += strlen(buf + off) + 1)
		if (strcmp(buf + off, ctl) == 0)
			ctl_ok = true;
	return ctl_ok;
}

void
sld_jobs_recover(struct sld_daemon *d)
{
	for (int i = 0; i < SLD_MAX_JOBS; i++) {
		struct sld_job *j = &d->jobs[i];

		if (!job_active(j))
			continue;
		j->d = d;
		j->pidfd = -1;
		if (j->state == SLD_RUNNING && j->pid > 0 && job_watch(d, j) == 0) {
			/* Checked after the pidfd pins the process: no pid reuse race. */
			if (is_our_dataplane(j)) {
				SLD_LOG("job %s: re-attached to dataplane %d", j->name,
					(int)j->pid);
				sld_coord_start(d, j);
				continue;
			}
			sld_loop_del_fd(d->loop, j->pidfd);
			close(j->pidfd);
			j->pidfd = -1;
		}
		if (j->pid > 0)
			snprintf(j->last_exit, sizeof(j->last_exit),
				 "vanished while sluiced was down");
		else if (j->state != SLD_RESTARTING)
			snprintf(j->last_exit, sizeof(j->last_exit), "not started");
		j->pid = 0;
		SLD_LOG("job %s: was %s, dataplane %s", j->name,
			sld_state_name(j->state), j->last_exit);
		if (j->state == SLD_RESTARTING) {
			/* Its restart was already counted: just run it again. */
			j->timer = sld_loop_add_timer(d->loop, 0, restart_timer_cb, j);
			continue;
		}
		job_crashed(d, j);
	}
}

static void
shutdown_final_cb(struct sld_loop *l, void *arg)
{
	struct sld_daemon *d = arg;

	(void)l;
	SLD_LOG("%d dataplanes still not reaped; exiting anyway", sld_jobs_live(d));
	job_save(d);
	sld_loop_stop(d->loop);
}

static void
shutdown_kill_cb(struct sld_loop *l, void *arg)
{
	struct sld_daemon *d = arg;

	for (int i = 0; i < SLD_MAX_JOBS; i++) {
		struct sld_job *j = &d->jobs[i];

		if (!j->in_use || j->pid <= 0)
			continue;
		SLD_LOG("job %s: did not drain within %lld ms; SIGKILL to dataplane %d",
			j->name, (long long)d->cfg.shutdown_timeout_ms, (int)j->pid);
		j->cancel_req = true;
		if (kill(-j->pid, SIGKILL) != 0)
			kill(j->pid, SIGKILL);
	}
	sld_loop_add_timer(l, 3000, shutdown_final_cb, d);
}

void
sld_jobs_shutdown(struct sld_daemon *d)
{
	char msg[256];

	if (d->shutting_down)
		return;
	d->shutting_down = true;
	SLD_LOG("shutting down: stopping %d dataplanes (timeout %lld ms)",
		sld_jobs_live(d), (long long)d->cfg.shutdown_timeout_ms);
	for (int i = 0; i < SLD_MAX_JOBS; i++) {
		struct sld_job *j = &d->jobs[i];

		if (!job_active(j))
			continue;
		if (j->state == SLD_RUNNING && j->pid > 0) {
			sld_job_stop(d, j, NULL, msg, sizeof(msg));
		} else {
			snprintf(j->reason, sizeof(j->reason), "sluiced shut down");
			sld_job_cancel(d, j, msg, sizeof(msg));
		}
	}
	d->shutdown_timer = sld_loop_add_timer(d->loop, d->cfg.shutdown_timeout_ms,
					       shutdown_kill_cb, d);
	shutdown_check(d);
}
