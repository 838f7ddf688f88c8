/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced: the control plane. Options and config, the registry, the
 * socket, signals and systemd notification; everything else is loop
 * callbacks (server.c, job.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "sl_build_config.h"
#include "sld.h"

#define EXIT_USAGE 2

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: sluiced [--config FILE] [--socket PATH] [--group NAME]\n"
		"               [--state-dir DIR] [--dp PATH] [--shutdown-timeout DURATION]\n"
		"\n"
		"The sluice control plane: serves the control socket, runs one sluice-dp\n"
		"per job and restarts it by the job's restart strategy. Runs in the\n"
		"foreground and logs to stderr; systemd Type=notify aware.\n"
		"\n"
		"  --config FILE            sluiced.yaml (keys: control.socket, control.group,\n"
		"                           control.shutdown-timeout, state.dir,\n"
		"                           metrics.prometheus.port, restart-strategy.*)\n"
		"  --socket PATH            control socket (default %s)\n"
		"  --group NAME             group allowed on the socket besides root\n"
		"  --state-dir DIR          registry and per-job run dirs (default %s)\n"
		"  --dp PATH                the sluice-dp binary (default: next to sluiced, else PATH)\n"
		"  --shutdown-timeout DUR   how long SIGTERM waits for jobs to drain (default 10s)\n"
		"  --prometheus-port PORT   serve Prometheus text on this port (metrics.prometheus.port)\n"
		"  --version, --help\n",
		SL_PROTO_DEFAULT_SOCKET, SLD_DEFAULT_STATE_DIR);
}

/* The build tree puts sluice-dp at ../../dataplane/ from control/sluiced/. */
static void
default_dp(char *buf, size_t len)
{
	static const char *const rel[] = {
		"../../dataplane/sluice-dp", "../dataplane/sluice-dp", "sluice-dp",
	};
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			char cand[PATH_MAX * 2], real[PATH_MAX];

			snprintf(cand, sizeof(cand), "%s/%s", dirname(self), rel[i]);
			if (access(cand, X_OK) == 0 && realpath(cand, real) != NULL) {
				snprintf(buf, len, "%s", real);
				return;
			}
			self[n] = '\0';
		}
	}
	snprintf(buf, len, "sluice-dp");
}

static int
parse_ms(const char *s, int64_t *ms)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (end == s || v < 0)
		return -EINVAL;
	if (*end == '\0' || strcmp(end, "ms") == 0)
		*ms = v;
	else if (strcmp(end, "s") == 0)
		*ms = v * 1000;
	else if (strcmp(end, "m") == 0)
		*ms = v * 60000;
	else
		return -EINVAL;
	return 0;
}

static void
signal_cb(struct sld_loop *l, int fd, short revents, void *arg)
{
	struct sld_daemon *d = arg;
	struct signalfd_siginfo si;

	(void)l;
	(void)revents;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue;
		SLD_LOG("%s from pid %u", strsignal((int)si.ssi_signo),
			si.ssi_pid);
		if (d->shutting_down)
			continue;
		sd_notify(0, "STOPPING=1");
		sld_jobs_shutdown(d);
	}
}

static int64_t watchdog_ms;

static void
watchdog_cb(struct sld_loop *l, void *arg)
{
	/* Sent from the loop: a stuck loop stops it, which is the point. */
	sd_notify(0, "WATCHDOG=1");
	sld_loop_add_timer(l, watchdog_ms, watchdog_cb, arg);
}

static int
mkdir_p(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * One sluiced per state dir: a second one would load the same registry,
 * re-attach to the same dataplanes and restart them behind the first's
 * back. The lock lives as long as the process (the fd is never closed and
 * not inherited by dataplanes), so a killed sluiced releases it.
 * @return the lock's fd, or -1 (logged).
 */
static int
state_lock(const char *dir)
{
	char path[SLD_FILE_MAX], pid[32];
	ssize_t n;
	int fd, len;

	snprintf(path, sizeof(path), "%s/sluiced.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		SLD_LOG("cannot open %s: %s; check the state directory", path,
			strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK) {
			SLD_LOG("cannot lock %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		SLD_LOG("another sluiced runs with state dir %s (pid %s); stop it first, or give this one another --state-dir",
			dir, pid[0] ? pid : "unknown");
		close(fd);
		return -1;
	}
	len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len)
		SLD_LOG("warning: cannot write the pid into %s: %s", path,
			strerror(errno));
	return fd;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "group", required_argument, NULL, 'g' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "dp", required_argument, NULL, 'd' },
		{ "shutdown-timeout", required_argument, NULL, 't' },
		{ "prometheus-port", required_argument, NULL, 'P' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *sock = NULL, *group = NULL, *state = NULL;
	const char *dp = NULL, *timeout = NULL, *prom = NULL;
	static struct sld_daemon d;
	char err[1024];
	sigset_t mask;
	uint64_t wd_usec = 0;
	int c, rc, n;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'g':
			group = optarg;
			break;
		case 'S':
			state = optarg;
			break;
		case 'd':
			dp = optarg;
			break;
		case 't':
			timeout = optarg;
			break;
		case 'P':
			prom = optarg;
			break;
		case 'v':
			printf("sluiced %s (protocol %d)\n", SLUICE_VERSION, SL_PROTO_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluiced: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	sld_config_defaults(&d.cfg);
	if (config != NULL && sld_config_load(config, &d.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluiced: %s\n", err);
		return EXIT_USAGE;
	}
	/* The command line wins over the file. */
	if (sock != NULL)
		snprintf(d.cfg.socket, sizeof(d.cfg.socket), "%s", sock);
	if (group != NULL)
		snprintf(d.cfg.group, sizeof(d.cfg.group), "%s", group);
	if (state != NULL)
		snprintf(d.cfg.state_dir, sizeof(d.cfg.state_dir), "%s", state);
	if (timeout != NULL && parse_ms(timeout, &d.cfg.shutdown_timeout_ms) < 0) {
		fprintf(stderr, "sluiced: --shutdown-timeout: expected a duration like 10s, got '%s'\n",
			timeout);
		return EXIT_USAGE;
	}
	if (prom != NULL) {
		char *end;
		long port = strtol(prom, &end, 10);

		if (*end != '\0' || port < 1 || port > 65535) {
			fprintf(stderr, "sluiced: --prometheus-port: expected 1..65535, got '%s'\n",
				prom);
			return EXIT_USAGE;
		}
		d.cfg.prometheus_port = (int)port;
	}
	if (dp != NULL)
		snprintf(d.dp_path, sizeof(d.dp_path), "%s", dp);
	else
		default_dp(d.dp_path, sizeof(d.dp_path));
	if (strchr(d.dp_path, '/') != NULL && access(d.dp_path, X_OK) != 0)
		SLD_LOG("warning: %s is not executable; jobs will fail to start (set --dp)",
			d.dp_path);

	rc = mkdir_p(d.cfg.state_dir);
	if (rc < 0) {
		SLD_LOG("cannot create state dir %s: %s; create it or set --state-dir",
			d.cfg.state_dir, strerror(-rc));
		return 1;
	}
	if (state_lock(d.cfg.state_dir) < 0)
		return 1;
	snprintf(d.registry, sizeof(d.registry), "%s/registry.json", d.cfg.state_dir);
	d.loop = sld_loop_new();
	if (d.loop == NULL || sld_jobs_init(&d) < 0)
		return 1;
	n = sld_registry_load(&d, err, sizeof(err));
	if (n < 0) {
		SLD_LOG("%s", err);
		return 1;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d.sig_fd < 0 || sld_loop_add_fd(d.loop, d.sig_fd, POLLIN, signal_cb, &d) < 0) {
		SLD_LOG("signalfd: %s", strerror(errno));
		return 1;
	}

	SLD_LOG("sluiced %s: state %s (%d jobs in the registry), dataplane %s",
		SLUICE_VERSION, d.cfg.state_dir, n, d.dp_path);
	/* The socket first: if another sluiced holds it, touch no job. */
	if (sld_server_start(&d) < 0)
		return 1;
	sld_jobs_recover(&d);
	if (sld_prom_start(&d) < 0)
		return 1;
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) {
		watchdog_ms = (int64_t)(wd_usec / 2000);
		if (watchdog_ms < 1)
			watchdog_ms = 1;
		sld_loop_add_timer(d.loop, watchdog_ms, watchdog_cb, &d);
	}
	sd_notify(0, "READY=1");
	SLD_LOG("ready on %s", d.cfg.socket);

	rc = sld_loop_run(d.loop);
	sld_server_stop(&d);
	rc = rc < 0 ? 1 : d.exit_code;
	rc = sld_registry_save(&d) < 0 ? 1 : rc;
	SLD_LOG("exiting with status %d", rc);
	sld_loop_free(d.loop);
	free(d.jobs);
	return rc;
}
