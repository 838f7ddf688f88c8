/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL arguments for a job: one EAL lcore per role pinned to the CPUs we may
 * use, a unique file prefix so several dataplanes can share a machine, the
 * job's virtual device, and hugepages when there are enough free, else
 * --no-huge with a warning that says how to reserve them.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dp.h"

#define DP_HUGE_MIN_PAGES 256	/* 512 MiB of 2 MiB pages */
#define DP_NOHUGE_MB "1024"

static char arg_store[16][SL_PLAN_PATH_MAX];

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

static bool
hugetlbfs_mounted(void)
{
	char line[512];
	bool yes = false;
	FILE *f = fopen("/proc/mounts", "r");

	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " hugetlbfs ") != NULL)
			yes = true;
	fclose(f);
	return yes;
}

static bool
has_arg(int n, char **args, const char *a)
{
	for (int i = 0; i < n; i++)
		if (strcmp(args[i], a) == 0)
			return true;
	return false;
}

int
dp_eal_args(struct dp *dp, const char *prog, const char *cpu_list, int n_user,
	    char **user, char **argv, int max)
{
	const struct sl_plan *p = dp->plan;
	int cpus[256], ncpu = 0, argc = 0, busy, pn, si = 0;
	char *plan_args[SL_PLAN_MAX_EAL_ARGS];
	bool no_huge;
	size_t off = 0;
	char *lc = arg_store[si++];

	for (int i = 0; i < p->n_eal_args; i++)
		plan_args[i] = (char *)(uintptr_t)p->eal_args[i];
	if (cpu_list != NULL) {
		ncpu = sl_plan_cpus_list(cpu_list, cpus, 256);
		if (ncpu <= 0) {
			fprintf(stderr, "sluice-dp: --cpus '%s': expected a list like 1 or 0-3 or 0,2\n",
				cpu_list);
			return -1;
		}
	} else {
		cpu_set_t set;

		CPU_ZERO(&set);
		if (sched_getaffinity(0, sizeof(set), &set) == 0)
			for (int c = 0; c < CPU_SETSIZE && ncpu < 256; c++)
				if (CPU_ISSET(c, &set))
					cpus[ncpu++] = c;
		if (ncpu == 0)
			cpus[ncpu++] = 0;
	}
	busy = dp->rtc ? 1 : dp->n_rx + dp->n_workers;
	dp->shared_cores = busy > ncpu;
	/*
	 * Polling lcores take CPUs in order. The main lcore (sink, control,
	 * checkpoint drains, RocksDB's background threads) gets the last CPU
	 * to itself when one is spare; otherwise it mostly sleeps and shares
	 * the first.
	 */
	pn = ncpu > busy ? ncpu - 1 : ncpu;
	off += (size_t)snprintf(lc + off, SL_PLAN_PATH_MAX - off, "0@%d",
				ncpu > busy ? cpus[ncpu - 1] : cpus[0]);
	for (int i = 0; i < busy; i++)
		off += (size_t)snprintf(lc + off, SL_PLAN_PATH_MAX - off, ",%d@%d",
					i + 1, cpus[i % pn]);

	argv[argc++] = (char *)(uintptr_t)prog;
	argv[argc++] = (char *)(uintptr_t)"--lcores";
	argv[argc++] = lc;
	argv[argc++] = (char *)(uintptr_t)"--file-prefix";
	snprintf(arg_store[si], SL_PLAN_PATH_MAX, "sluice-dp-%d", (int)getpid());
	argv[argc++] = arg_store[si++];
	argv[argc++] = (char *)(uintptr_t)"--log-level=*:warning";
	argv[argc++] = (char *)(uintptr_t)"--log-level=sluice.*:info";
	{
		/* The ethdev source, whichever of the job's sources it is
		 * (the plan allows one). */
		const struct sl_plan_source *es = NULL;

		for (uint16_t i = 0; i < p->n_inputs; i++)
			if (p->inputs[i].source.type == SL_SRC_ETHDEV)
				es = &p->inputs[i].source;
		if (p->n_inputs == 0 && p->source.type == SL_SRC_ETHDEV)
			es = &p->source;
		if (es != NULL && strncmp(es->port, "net_", 4) == 0) {
			argv[argc++] = (char *)(uintptr_t)"--no-pci";
			argv[argc++] = (char *)(uintptr_t)"--vdev";
			argv[argc++] = (char *)(uintptr_t)es->port;
		} else if (es == NULL) {
			argv[argc++] = (char *)(uintptr_t)"--no-pci";
		}
	}
	no_huge = has_arg(p->n_eal_args, plan_args, "--no-huge") ||
		  has_arg(n_user, user, "--no-huge");
	if (!no_huge) {
		long free_pages = meminfo("HugePages_Free");

		if (free_pages >= DP_HUGE_MIN_PAGES && hugetlbfs_mounted()) {
			/* Unlinked at once: a killed dataplane leaks no pages. */
			argv[argc++] = (char *)(uintptr_t)"--huge-unlink";
		} else {
			fprintf(stderr,
				"sluice-dp: warning: %ld free hugepages (need %d of 2 MiB); running with --no-huge, which is slower. Reserve them with: echo %d > /proc/sys/vm/nr_hugepages && mount -t hugetlbfs nodev /dev/hugepages\n",
				free_pages < 0 ? 0 : free_pages, DP_HUGE_MIN_PAGES,
				2 * DP_HUGE_MIN_PAGES);
			argv[argc++] = (char *)(uintptr_t)"--no-huge";
			argv[argc++] = (char *)(uintptr_t)"-m";
			argv[argc++] = (char *)(uintptr_t)DP_NOHUGE_MB;
		}
	}
	for (int i = 0; i < p->n_eal_args && argc < max - 1; i++)
		argv[argc++] = plan_args[i];
	for (int i = 0; i < n_user && argc < max - 1; i++)
		argv[argc++] = user[i];
	argv[argc] = NULL;
	return argc;
}
