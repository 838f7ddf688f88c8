/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Who may use the control socket: root, sluiced's own user, and members
 * of control.group. The file mode (0660, that group) already keeps others
 * out; SO_PEERCRED is checked as well because a socket inherited or
 * passed through a less strict directory must not widen access. The
 * groups come from the socket (SO_PEERGROUPS), /proc only on old kernels.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

/*
 * SO_PEERGROUPS (Linux 4.13): the peer's supplementary groups as of its
 * connect(), held by the socket. Unlike /proc/PID/status it cannot name
 * another process that got the pid after the peer exited.
 * @return the number of groups (*out malloc'd), or -errno.
 */
static int
sock_groups(int fd, gid_t **out)
{
	socklen_t len = 64 * sizeof(gid_t);

	for (int tries = 0; tries < 4; tries++) {
		gid_t *g = malloc(len ? len : sizeof(gid_t));

		if (g == NULL)
			return -ENOMEM;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0) {
			*out = g;
			return (int)(len / sizeof(gid_t));
		}
		free(g);
		/* ERANGE: len now says how much it needs. */
		if (errno != ERANGE)
			return -errno;
	}
	return -ERANGE;
}

int
sld_auth_peer_groups(int fd, pid_t pid, uid_t uid, gid_t gid, gid_t **out)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	gid_t *groups;
	int n, max = SLD_AUTH_MAX_GROUPS;

	*out = NULL;
	if (fd >= 0) {
		n = sock_groups(fd, out);
		if (n >= 0)
			return n;
		/* Only an old kernel falls through; else no supplementary groups. */
		if (n != -ENOPROTOOPT)
			return 0;
	}
	groups = malloc(sizeof(gid_t) * (size_t)max);
	if (groups == NULL)
		return 0;
	*out = groups;
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
