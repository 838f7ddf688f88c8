/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Who may use the control socket: root, sluiced's own user, and members
 * of control.group. The file mode (0660, that group) already keeps others
 * out; SO_PEERCRED is checked as well because a socket inherited or
 * passed through a less strict directory must not widen access.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sld.h"

bool
sld_auth_allowed(const struct sld_auth_policy *pol, uid_t uid, gid_t gid,
		 const gid_t *groups, int ngroups)
{
	if (uid == 0 || uid == pol->self)
		return true;
	if (!pol->has_group)
		return false;
	if (gid == pol->group)
		return true;
	for (int i = 0; i < ngroups; i++)
		if (groups[i] == pol->group)
			return true;
	return false;
}

/* The Groups: line of /proc/PID/status: the peer's groups as of now. */
static int
proc_groups(pid_t pid, gid_t *groups, int max)
{
	char path[64], line[4096];
	int n = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = line + 7, *end;

		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		n = 0;
		for (;;) {
			unsigned long g = strtoul(s, &end, 10);

			if (end == s || n == max)
				break;
			groups[n++] = (gid_t)g;
			s = end;
		}
		break;
	}
	fclose(f);
	return n;
}

int
sld_auth_peer_groups(pid_t pid, uid_t uid, gid_t gid, gid_t *groups, int max)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	int n;

	/* pid 0: the peer is in another pid namespace. */
	if (pid > 0) {
		n = proc_groups(pid, groups, max);
		if (n >= 0)
			return n;
	}
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL)
		return 0;
	n = max;
	if (getgrouplist(pw.pw_name, gid, groups, &n) < 0)
		return max;
	return n;
}
