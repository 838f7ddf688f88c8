/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SLD_H
#define SLD_H

/*
 * sluiced internals. One process, one thread, one poll(2) loop (loop.c):
 * the listening socket and its clients (server.c), one pidfd per
 * dataplane (job.c), the dataplanes' control sockets (dpcall.c), timers
 * for restart delays, client deadlines and the watchdog, and a signalfd.
 * Nothing here blocks: a slow client, a hung dataplane or a restart delay
 * is a registered fd or a timer, never a sleep.
 */

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "sl_plan.h"
#include "sl_proto.h"

#define SLD_DEFAULT_STATE_DIR "/var/lib/sluice"
#define SLD_MAX_CLIENTS 64
#define SLD_CLIENT_IDLE_MS 5000		/* a started line must complete within this */
#define SLD_DP_TIMEOUT_MS 500		/* a dataplane answers within this */
#define SLD_MAX_JOBS 1024		/* registry entries, finished jobs included */
#define SLD_MAX_HISTORY 32		/* restarts remembered per job */
#define SLD_DIR_MAX 512			/* state dir */
#define SLD_RUNDIR_MAX (SLD_DIR_MAX + 80)	/* STATE/jobs/NAME */
#define SLD_FILE_MAX (SLD_RUNDIR_MAX + 32)	/* RUN_DIR/dp.sock ... */
#define SLD_PLAN_MAX_INPUT (1u << 20)	/* sl_plan's job file limit (1 MiB) */
#define SLD_STATS_MAX (16u << 20)	/* a dataplane's stats.json */

#define SLD_LOG(fmt, ...) sld_log(fmt, ##__VA_ARGS__)
void sld_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- loop.c: a small ae-style event loop --- */
struct sld_loop;
typedef void (*sld_fd_cb)(struct sld_loop *l, int fd, short revents, void *arg);
typedef void (*sld_timer_cb)(struct sld_loop *l, void *arg);

struct sld_loop *sld_loop_new(void);
void sld_loop_free(struct sld_loop *l);
int sld_loop_add_fd(struct sld_loop *l, int fd, short events, sld_fd_cb cb,
		    void *arg);
int sld_loop_mod_fd(struct sld_loop *l, int fd, short events);
void sld_loop_del_fd(struct sld_loop *l, int fd);
/** @return a timer id (> 0) or 0 on out of memory. */
uint64_t sld_loop_add_timer(struct sld_loop *l, int64_t after_ms,
			    sld_timer_cb cb, void *arg);
void sld_loop_del_timer(struct sld_loop *l, uint64_t id);
void sld_loop_set_before_sleep(struct sld_loop *l, sld_timer_cb cb, void *arg);
int sld_loop_run(struct sld_loop *l);
void sld_loop_stop(struct sld_loop *l);
int64_t sld_now_ms(void);		/* monotonic */
int64_t sld_wall_ms(void);		/* realtime, for the registry */

/* --- restart.c: restart strategy arithmetic --- */
/**
 * Delay before restart number n (1-based) under strategy r.
 * @return 0 and *delay_ms, or -ENOSPC when the attempts are used up
 *   (always for type none).
 */
int sld_restart_delay(const struct sl_plan_restart *r, uint32_t n,
		      int64_t *delay_ms);
/** The attempts a strategy allows (0 for none). */
uint32_t sld_restart_attempts(const struct sl_plan_restart *r);

/* --- auth.c: who may talk to sluiced --- */
struct sld_auth_policy {
	uid_t self;			/* sluiced's own euid: always allowed */
	bool has_group;
	gid_t group;			/* control.group */
};
/**
 * @return true when a peer with that uid, primary gid and supplementary
 *   groups may use the socket: uid 0, sluiced's own uid, or a member of
 *   the configured group.
 */
bool sld_auth_allowed(const struct sld_auth_policy *pol, uid_t uid, gid_t gid,
		      const gid_t *groups, int ngroups);
#define SLD_AUTH_MAX_GROUPS 65536	/* NGROUPS_MAX of Linux */
/**
 * The supplementary groups of the peer of the connected socket fd, as of
 * its connect(): SO_PEERGROUPS; only when the kernel lacks it (ENOPROTOOPT),
 * /proc/PID/status, else the user database (getgrouplist). fd < 0 skips
 * the socket. @return the number of groups in *groups (malloc'd, free it,
 * also when 0 is returned).
 */
int sld_auth_peer_groups(int fd, pid_t pid, uid_t uid, gid_t gid,
			 gid_t **groups);

/* --- config.c: sluiced.yaml --- */
struct sld_config {
	char socket[108];
	char group[64];
	int64_t shutdown_timeout_ms;
	char state_dir[SLD_DIR_MAX];
	int prometheus_port;		/* 0: off */
	struct sl_plan_restart restart;	/* defaults for jobs without restart-strategy.* */
};
void sld_config_defaults(struct sld_config *c);
/** @return 0 or -errno; err gets "file:line:col: message". */
int sld_config_load(const char *path, struct sld_config *c, char *err,
		    size_t errlen);
int sld_config_load_str(const char *name, const char *yaml, size_t len,
			struct sld_config *c, char *err, size_t errlen);

/* --- job.c: the job table and supervision --- */
struct sld_daemon;
enum sld_state {
	SLD_CREATED,
	SLD_RUNNING,
	SLD_RESTARTING,
	SLD_FAILED,
	SLD_CANCELED,
	SLD_FINISHED,
};
const char *sld_state_name(enum sld_state s);
int sld_state_find(const char *name);

struct sld_restart_rec {
	int64_t at_ms;			/* wall clock of the crash */
	char exit[48];			/* "exited 3", "killed by signal 9", "vanished" */
};

struct sld_job {
	char name[SL_NAME_MAX];
	char job_file[SLD_FILE_MAX];	/* what sluice-dp reads */
	char restore_from[SLD_FILE_MAX];	/* submitted from this savepoint (chk-N dir), or "" */
	char cwd[PATH_MAX];		/* its working directory */
	char run_dir[SLD_RUNDIR_MAX];
	char cpus[SL_PLAN_CPUS_MAX];
	char device[SL_PLAN_ARG_MAX];	/* ethdev port identity, for conflicts */
	uint16_t rx, workers;
	struct sl_plan_restart restart;
	enum sld_state state;
	pid_t pid;
	int pidfd;
	int64_t created_at, started_at, ended_at;	/* wall ms */
	uint32_t restarts;
	uint32_t n_hist;
	struct sld_restart_rec hist[SLD_MAX_HISTORY];
	char last_exit[48];
	char reason[256];
	bool cancel_req, stop_req;
	uint64_t timer;
	bool in_use;
	struct sld_daemon *d;		/* owner, for loop callbacks */
	struct sld_coord *co;		/* checkpoint coordinator while RUNNING (coord.c) */
};

struct sld_daemon {
	struct sld_loop *loop;
	struct sld_config cfg;
	struct sld_auth_policy auth;
	char dp_path[PATH_MAX];
	char registry[SLD_FILE_MAX];
	struct sld_job *jobs;		/* SLD_MAX_JOBS slots */
	bool shutting_down;
	uint64_t shutdown_timer;
	int listen_fd;
	int sig_fd;
	int exit_code;
	struct sl_ckpt_writer *ckw;	/* io_uring for manifests, made on first use */
};

int sld_jobs_init(struct sld_daemon *d);
struct sld_job *sld_job_find(struct sld_daemon *d, const char *name);
/**
 * Validate-and-start: conflicts, run dir, spawn. text (len bytes) is the
 * job as validated into p; it is written to RUN_DIR/job.yaml, which is
 * what the dataplane reads, now and at every restart. path: where it came
 * from (NULL: inline), for the log. msg on failure.
 */
enum sl_proto_code sld_job_submit(struct sld_daemon *d, const struct sl_plan *p,
				  const char *name, const char *text, size_t len,
				  const char *path, const char *cwd,
				  const char *savepoint, char *msg, size_t msglen);
enum sl_proto_code sld_job_cancel(struct sld_daemon *d, struct sld_job *j,
				  char *msg, size_t msglen);
enum sl_proto_code sld_job_stop(struct sld_daemon *d, struct sld_job *j,
				const char *savepoint, char *msg, size_t msglen);
void sld_job_ctl_path(const struct sld_job *j, char *buf, size_t len);
void sld_job_stats_path(const struct sld_job *j, char *buf, size_t len);
/**
 * The exit code a dataplane wrote into its stats.json ("exit_code", the
 * last thing it does before exiting), for a dataplane that is not our
 * child. @return 0 and *code; -ENOENT when there is no stats.json written
 * since the job's start; -ENODATA when it has no integer exit_code.
 */
int sld_job_stats_exit(const struct sld_job *j, int *code);
/** After loading the registry: re-attach or treat as crashed. */
void sld_jobs_recover(struct sld_daemon *d);
/** SIGTERM: stop everything, then exit once nothing runs. */
void sld_jobs_shutdown(struct sld_daemon *d);
int sld_jobs_live(const struct sld_daemon *d);
/** Does a job device string name the same port? ("net_pcap0,rx_pcap=x" -> "net_pcap0"). */
void sld_job_device_key(const char *port, char *buf, size_t len);
/** CPU lists overlap? (empty: never) */
bool sld_cpus_overlap(const char *a, const char *b);

/* --- coord.c: the checkpoint coordinator --- */
struct sld_coord;
struct sl_ckpt_writer;
/** The job's dataplane runs: trigger, await, commit its checkpoints. */
void sld_coord_start(struct sld_daemon *d, struct sld_job *j);
void sld_coord_stop(struct sld_daemon *d, struct sld_job *j);
/** The user triggered checkpoint id (or a savepoint): commit it now. */
void sld_coord_adopt(struct sld_daemon *d, struct sld_job *j, uint64_t id);
/** {state, inFlight, committed, failed, intervalMs} or null. */
json_t *sld_coord_json(const struct sld_job *j);

/* --- registry.c --- */
int sld_registry_save(struct sld_daemon *d);
/** @return 0 (missing file = empty), or -errno with err saying what to do. */
int sld_registry_load(struct sld_daemon *d, char *err, size_t errlen);
json_t *sld_job_to_json(const struct sld_job *j);
int sld_job_from_json(json_t *o, struct sld_job *j, char *err, size_t errlen);

/* --- dpcall.c: one asynchronous request to a dataplane --- */
typedef void (*sld_dpcall_cb)(void *arg, int rc, json_t *reply);
struct sld_dpcall;
/**
 * Send verb to the dataplane socket at path; cb gets (0, reply) or
 * (-errno, NULL) within timeout_ms. cb runs from the loop, never from
 * here. @return the call (cancellable) or NULL when it could not start,
 * in which case cb is still called, from the loop.
 */
struct sld_dpcall *sld_dpcall(struct sld_loop *l, const char *path,
			      enum sl_proto_verb verb, int timeout_ms,
			      sld_dpcall_cb cb, void *arg);
/** The same with request arguments (args is taken, may be NULL). */
struct sld_dpcall *sld_dpcall_args(struct sld_loop *l, const char *path,
				   enum sl_proto_verb verb, json_t *args,
				   int timeout_ms, sld_dpcall_cb cb, void *arg);
/** Forget the caller: its callback will not run and its arg is free()d. */
void sld_dpcall_cancel(struct sld_dpcall *c);

/* --- server.c --- */
int sld_server_start(struct sld_daemon *d);
void sld_server_stop(struct sld_daemon *d);

/* --- verbs.c --- */
struct stat;
/**
 * Read a whole file a client named, without blocking the loop: anything
 * but a regular file (FIFO, device, socket) is refused before it is read,
 * so is a file over max bytes. @return 0, *buf (NUL-terminated, free())
 * and *len, and *st when st is not NULL; or -errno with msg naming path.
 */
int sld_read_file(const char *path, size_t max, char **buf, size_t *len,
		  struct stat *st, char *msg, size_t msglen);
/**
 * Check a job's eal: arguments against the options sluiced passes for a
 * client (memory, logging, IOVA mode, telemetry: nothing that loads code
 * or names a device or file), each with its value (-m 512, -m512,
 * --log-level=8). @return -1 when all are allowed, else the index of the
 * first refused argument, with msg naming it.
 */
int sld_eal_args_check(const char *const *args, int n, char *msg,
		       size_t msglen);
/*
 * A handler either replies now (returns true, reply/len filled) or
 * starts an asynchronous call and replies later through sld_client_reply().
 */
struct sld_client;
bool sld_verb_dispatch(struct sld_daemon *d, struct sld_client *cl,
		       struct sl_proto_req *req, char **reply, size_t *len);
void sld_client_reply(struct sld_client *cl, char *line, size_t len);
/** Record the pending dataplane call of a client, so closing it cancels the call. */
void sld_client_set_pending(struct sld_client *cl, struct sld_dpcall *c);

/* --- prom.c: metrics.prometheus.port (control/metrics) --- */
/** Listen and start polling the dataplanes when the port is configured. */
int sld_prom_start(struct sld_daemon *d);

#endif /* SLD_H */
