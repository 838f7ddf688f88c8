/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `sluicectl doctor [JOB_FILE]`: local checks of what sluice needs from the
 * host. Each check is OK, WARN (sluice runs, worse) or FAIL (something will
 * not work), and every problem comes with the exact command that fixes it.
 * The thresholds are the dataplane's own (dataplane/eal.c: 256 free 2 MiB
 * hugepages, else --no-huge).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liburing.h>

#include "sl_plan.h"
#include "slc.h"

#define DOCTOR_HUGE_MIN 256	/* dataplane/eal.c DP_HUGE_MIN_PAGES */
#define DOCTOR_MEMLOCK_MIN (64ull << 20)

enum slc_status { SLC_OK, SLC_WARN, SLC_FAIL };

static const char *const status_names[] = { "OK", "WARN", "FAIL" };

struct check {
	const char *name;
	enum slc_status st;
	char msg[SL_PLAN_ERR_MAX];
	char fix[512];
};

static long
meminfo(const char *key)
{
	char line[256];
	long v = -1;
	size_t kl = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':')
			v = strtol(line + kl + 1, NULL, 10);
	fclose(f);
	return v;
}

static void
check_hugepages(struct check *c)
{
	long total = meminfo("HugePages_Total"), nfree = meminfo("HugePages_Free");
	long kb = meminfo("Hugepagesize");

	c->name = "hugepages";
	if (total < 0) {
		c->st = SLC_WARN;
		snprintf(c->msg, sizeof(c->msg),
			 "no hugepage counters in /proc/meminfo; sluice-dp will run with --no-huge (slower)");
		return;
	}
	if (nfree >= DOCTOR_HUGE_MIN) {
		c->st = SLC_OK;
		snprintf(c->msg, sizeof(c->msg), "%ld reserved, %ld free (%ld kB pages)",
			 total, nfree, kb);
		return;
	}
	c->st = SLC_WARN;
	snprintf(c->msg, sizeof(c->msg),
		 "%ld reserved, %ld free; sluice-dp needs %d free or runs with --no-huge (slower)",
		 total, nfree, DOCTOR_HUGE_MIN);
	snprintf(c->fix, sizeof(c->fix), "echo %ld > /proc/sys/vm/nr_hugepages",
		 total - nfree + 2 * DOCTOR_HUGE_MIN);
}

static void
check_hugetlbfs(struct check *c)
{
	char line[512], dir[256] = "";
	FILE *f = fopen("/proc/mounts", "r");

	c->name = "hugetlbfs";
	if (f != NULL) {
		while (fgets(line, sizeof(line), f))
			if (strstr(line, " hugetlbfs ") != NULL && dir[0] == '\0')
				sscanf(line, "%*s %255s", dir);
		fclose(f);
	}
	if (dir[0] != '\0') {
		c->st = SLC_OK;
		snprintf(c->msg, sizeof(c->msg), "mounted on %s", dir);
		return;
	}
	c->st = SLC_WARN;
	snprintf(c->msg, sizeof(c->msg), "not mounted; sluice-dp will run with --no-huge (slower)");
	snprintf(c->fix, sizeof(c->fix), "mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages");
}

static void
check_cpus(struct check *c, const struct slc_opts *o, const struct sl_plan *p)
{
	int cpus[SLC_MAX_CPUS], n;
	const char *src;
	unsigned int need;

	c->name = "cpus";
	n = slc_job_cpus(p, o->cpus, cpus, SLC_MAX_CPUS, &src);
	if (p == NULL) {
		/* Without a job: the smallest one, run to completion, needs one polling CPU. */
		c->st = n >= 2 ? SLC_OK : SLC_WARN;
		snprintf(c->msg, sizeof(c->msg), "%d CPU%s (%s)%s", n, n == 1 ? "" : "s", src,
			 n >= 2 ? "" : "; the main lcore and the polling lcore will share it");
		if (n < 2)
			snprintf(c->fix, sizeof(c->fix),
				 "give sluice more CPUs: taskset -c 0-1 ... or raise the cgroup's cpuset (systemd: AllowedCPUs=0-1)");
		return;
	}
	need = p->lcores.run_to_completion ? 1u : (unsigned int)p->lcores.rx + p->lcores.workers;
	if ((unsigned int)n >= need) {
		c->st = SLC_OK;
		snprintf(c->msg, sizeof(c->msg),
			 "job %s needs %u polling lcore%s, %d CPU%s (%s)", p->name, need,
			 need == 1 ? "" : "s", n, n == 1 ? "" : "s", src);
		return;
	}
	c->st = SLC_WARN;
	snprintf(c->msg, sizeof(c->msg),
		 "job %s needs %u polling lcores, only %d CPU%s (%s): lcores will share CPUs and yield",
		 p->name, need, n, n == 1 ? "" : "s", src);
	if (!p->lcores.run_to_completion && p->lcores.workers > 1 &&
	    (unsigned int)n > p->lcores.rx)
		snprintf(c->fix, sizeof(c->fix),
			 "set 'workers: %u' under lcores: in %s, or run on %u CPUs (systemd: AllowedCPUs=0-%u)",
			 (unsigned int)n - p->lcores.rx, o->pos[0], need, need - 1);
	else
		snprintf(c->fix, sizeof(c->fix), "run on %u CPUs (systemd: AllowedCPUs=0-%u)",
			 need, need - 1);
}

static void
check_memlock(struct check *c)
{
	struct rlimit rl;

	c->name = "memlock";
	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0) {
		c->st = SLC_WARN;
		snprintf(c->msg, sizeof(c->msg), "getrlimit: %s", strerror(errno));
		return;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= DOCTOR_MEMLOCK_MIN) {
		c->st = SLC_OK;
		if (rl.rlim_cur == RLIM_INFINITY)
			snprintf(c->msg, sizeof(c->msg), "RLIMIT_MEMLOCK unlimited");
		else
			snprintf(c->msg, sizeof(c->msg), "RLIMIT_MEMLOCK %llu MiB",
				 (unsigned long long)rl.rlim_cur >> 20);
		return;
	}
	c->st = SLC_WARN;
	snprintf(c->msg, sizeof(c->msg),
		 "RLIMIT_MEMLOCK is %llu KiB: DPDK (VFIO) and io_uring may fail to pin memory",
		 (unsigned long long)rl.rlim_cur >> 10);
	snprintf(c->fix, sizeof(c->fix),
		 "ulimit -l unlimited (shell), or LimitMEMLOCK=infinity in [Service] of sluiced.service");
}

static void
check_uring(struct check *c)
{
	struct io_uring ring;
	int rc = io_uring_queue_init(8, &ring, 0);

	c->name = "io_uring";
	if (rc == 0) {
		io_uring_queue_exit(&ring);
		c->st = SLC_OK;
		snprintf(c->msg, sizeof(c->msg), "a ring can be created");
		return;
	}
	c->st = SLC_FAIL;
	snprintf(c->msg, sizeof(c->msg), "io_uring_queue_init: %s; checkpoints cannot be written",
		 strerror(-rc));
	if (rc == -EPERM || rc == -ENOSYS)
		snprintf(c->fix, sizeof(c->fix), "sysctl -w kernel.io_uring_disabled=0");
	else if (rc == -ENOMEM)
		snprintf(c->fix, sizeof(c->fix), "ulimit -l unlimited");
}

static void
check_ckpt_dir(struct check *c, const char *dir)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *user = pw ? pw->pw_name : "sluice";
	struct stat st;

	c->name = "checkpoint-dir";
	/* Checkpoints have not landed yet: nothing fails without the
	 * directory today, so this is a warning, not a failure. */
	if (stat(dir, &st) != 0) {
		c->st = SLC_WARN;
		snprintf(c->msg, sizeof(c->msg), "%s: %s", dir, strerror(errno));
		snprintf(c->fix, sizeof(c->fix), "mkdir -p %s && chown %s %s", dir, user, dir);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		c->st = SLC_WARN;
		snprintf(c->msg, sizeof(c->msg), "%s is not a directory", dir);
		snprintf(c->fix, sizeof(c->fix), "rm %s && mkdir -p %s && chown %s %s", dir, dir,
			 user, dir);
		return;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		c->st = SLC_WARN;
		snprintf(c->msg, sizeof(c->msg), "%s is not writable by %s", dir, user);
		snprintf(c->fix, sizeof(c->fix), "chown %s %s", user, dir);
		return;
	}
	c->st = SLC_OK;
	snprintf(c->msg, sizeof(c->msg), "%s is writable", dir);
}

static void
check_daemon(struct check *c, const struct slc_opts *o)
{
	json_t *reply;
	struct stat st;
	struct group *gr;
	int ec;

	c->name = "daemon";
	ec = slc_call(o, SL_PROTO_VERB_VERSION, NULL, true, &reply);
	if (ec == SLC_EXIT_OK) {
		const char *v = json_string_value(json_object_get(json_object_get(reply, "data"),
								  "version"));

		c->st = SLC_OK;
		snprintf(c->msg, sizeof(c->msg), "sluiced%s%s answers on %s", v ? " " : "",
			 v ? v : "", o->socket);
		json_decref(reply);
		return;
	}
	c->st = SLC_WARN;
	if (stat(o->socket, &st) != 0) {
		snprintf(c->msg, sizeof(c->msg), "no socket at %s: sluiced is not running", o->socket);
		snprintf(c->fix, sizeof(c->fix), "systemctl start sluiced");
	} else if (access(o->socket, W_OK) != 0) {
		gr = getgrgid(st.st_gid);
		c->st = SLC_FAIL;
		snprintf(c->msg, sizeof(c->msg), "%s: permission denied", o->socket);
		snprintf(c->fix, sizeof(c->fix), "usermod -aG %s $USER (then log in again)",
			 gr ? gr->gr_name : "sluice");
	} else {
		snprintf(c->msg, sizeof(c->msg), "%s does not answer (exit %d)", o->socket, ec);
		snprintf(c->fix, sizeof(c->fix), "systemctl restart sluiced");
	}
}

int
slc_cmd_doctor(const struct slc_opts *o)
{
	struct check c[8];
	struct sl_plan *p = NULL;
	enum slc_status worst = SLC_OK;
	unsigned int n = 0;
	char err[SL_PLAN_ERR_MAX];

	memset(c, 0, sizeof(c));
	if (o->n_pos > 0) {
		p = calloc(1, sizeof(*p));
		if (p == NULL || sl_plan_load(o->pos[0], p, err, sizeof(err)) != 0) {
			c[n].name = "job";
			c[n].st = SLC_FAIL;
			snprintf(c[n].msg, sizeof(c[n].msg), "%s", p ? err : "out of memory");
			n++;
			free(p);
			p = NULL;
		}
	}
	check_hugepages(&c[n++]);
	check_hugetlbfs(&c[n++]);
	check_cpus(&c[n++], o, p);
	check_memlock(&c[n++]);
	check_uring(&c[n++]);
	check_ckpt_dir(&c[n++], o->ckpt_dir ? o->ckpt_dir : SLC_DEFAULT_CKPT_DIR);
	check_daemon(&c[n++], o);
	for (unsigned int i = 0; i < n; i++)
		if (c[i].st > worst)
			worst = c[i].st;
	if (o->json) {
		json_t *arr = json_array(), *j;

		for (unsigned int i = 0; i < n; i++) {
			json_t *e = json_pack("{s:s, s:s, s:s}", "check", c[i].name, "status",
					      status_names[c[i].st], "message", c[i].msg);

			if (c[i].fix[0])
				json_object_set_new(e, "fix", json_string(c[i].fix));
			json_array_append_new(arr, e);
		}
		j = json_pack("{s:o, s:s}", "checks", arr, "status", status_names[worst]);
		slc_print_json(stdout, j);
		json_decref(j);
	} else {
		for (unsigned int i = 0; i < n; i++) {
			printf("%-4s  %-14s  %s\n", status_names[c[i].st], c[i].name, c[i].msg);
			if (c[i].fix[0])
				printf("      %-14s  fix: %s\n", "", c[i].fix);
		}
	}
	if (p != NULL) {
		sl_plan_free(p);
		free(p);
	}
	return worst == SLC_OK ? SLC_EXIT_OK : worst == SLC_WARN ? SLC_EXIT_WARN : SLC_EXIT_FAIL;
}
