/* SPDX-License-Identifier: BSD-3-Clause */
/* Description: the SO_PEERCRED policy: root, sluiced's own uid, or the configured group; the peer's groups from SO_PEERGROUPS. */
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sld.h"

static void
test_policy(void **state)
{
	struct sld_auth_policy nogroup = { .self = 999 };
	struct sld_auth_policy grp = { .self = 999, .has_group = true, .group = 150 };
	const gid_t in[] = { 20, 150, 300 }, out[] = { 20, 151 };

	(void)state;
	/* root and sluiced's own user, whatever their groups */
	assert_true(sld_auth_allowed(&nogroup, 0, 0, NULL, 0));
	assert_true(sld_auth_allowed(&nogroup, 999, 999, NULL, 0));
	assert_true(sld_auth_allowed(&grp, 0, 0, NULL, 0));
	/* no group configured: nobody else */
	assert_false(sld_auth_allowed(&nogroup, 1000, 150, in, 3));
	/* the group as primary or supplementary */
	assert_true(sld_auth_allowed(&grp, 1000, 150, NULL, 0));
	assert_true(sld_auth_allowed(&grp, 1000, 1000, in, 3));
	assert_false(sld_auth_allowed(&grp, 1000, 1000, out, 2));
	assert_false(sld_auth_allowed(&grp, 1000, 1000, NULL, 0));
	assert_false(sld_auth_allowed(&grp, 65534, 65534, out, 2));
}

static bool
same_set(const gid_t *a, int na, const gid_t *b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++) {
		bool found = false;

		for (int k = 0; k < nb; k++)
			found |= a[i] == b[k];
		if (!found)
			return false;
	}
	return true;
}

static void
test_peer_groups(void **state)
{
	gid_t *g, own[1024];
	int sv[2], n, nown = getgroups(1024, own);

	(void)state;
	assert_true(nown >= 0);
	/* From the socket: the peer of a socketpair is this process. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	n = sld_auth_peer_groups(sv[0], getpid(), getuid(), getgid(), &g);
	assert_true(same_set(g, n, own, nown));
	free(g);
	close(sv[0]);
	close(sv[1]);
	/* No socket: our own /proc entry, the same groups. */
	n = sld_auth_peer_groups(-1, getpid(), getuid(), getgid(), &g);
	assert_true(same_set(g, n, own, nown));
	free(g);
	/* A pid in another namespace (0): falls back to the user's groups. */
	n = sld_auth_peer_groups(-1, 0, 0, 0, &g);
	assert_true(n >= 0);
	free(g);
}

/*
 * The groups are the peer's at connect(), whoever holds its pid now: a
 * peer with groups {4242, 4243} connects and exits before we look.
 * Root only (setgroups).
 */
static void
test_peer_groups_after_exit(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const gid_t want[] = { 4242, 4243 };
	int lfd, fd, n, status;
	gid_t *g;
	pid_t pid;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	/* Abstract name: nothing to clean up. */
	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "sld-auth-test-%d",
		 (int)getpid());
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);

		if (setgroups(2, want) != 0 ||
		    connect(c, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	/* The pid is gone: /proc could only have named someone else. */
	n = sld_auth_peer_groups(fd, pid, 0, 0, &g);
	assert_true(same_set(g, n, want, 2));
	free(g);
	close(fd);
	close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_peer_groups),
		cmocka_unit_test(test_peer_groups_after_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
