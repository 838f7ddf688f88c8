/* SPDX-License-Identifier: BSD-3-Clause */
/* Description: the SO_PEERCRED policy: root, sluiced's own uid, or the configured group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

static void
test_peer_groups(void **state)
{
	gid_t g[256];
	int n;

	(void)state;
	/* Our own /proc entry: the same groups getgroups() reports. */
	n = sld_auth_peer_groups(getpid(), getuid(), getgid(), g, 256);
	assert_int_equal(n, getgroups(0, NULL));
	/* A pid in another namespace (0): falls back to the user's groups. */
	n = sld_auth_peer_groups(0, 0, 0, g, 256);
	assert_true(n >= 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_peer_groups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
