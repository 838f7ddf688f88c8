/* SPDX-License-Identifier: BSD-3-Clause */
/* Description: the eal: allowlist sluiced applies before it runs a client's job as root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sld.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int
check(const char *const *args, int n, char *msg)
{
	msg[0] = '\0';
	return sld_eal_args_check(args, n, msg, 512);
}

static void
test_allowed(void **state)
{
	static const char *const ok[] = {
		"-m", "512", "-m512", "--socket-mem", "1024,1024",
		"--socket-mem=512", "--socket-limit=2048", "--no-huge",
		"--huge-unlink", "--log-level", "lib.eal:debug",
		"--log-level=8", "-n", "4", "-n2", "--iova-mode", "va",
		"--iova-mode=pa", "--no-telemetry", "--legacy-mem",
		"--single-file-segments", "--match-allocations",
		"--no-pci",	/* narrows what the EAL touches: harmless */
	};
	char msg[512];

	(void)state;
	assert_int_equal(check(ok, N(ok), msg), -1);
	assert_int_equal(check(NULL, 0, msg), -1);
}

static void
test_refused(void **state)
{
	/* Each: the arguments, the index refused, what msg must name. */
	static const struct {
		const char *args[3];
		int n, at;
		const char *names;
	} cases[] = {
		/* Loads a shared object as root. */
		{ { "-d", "/home/u/x.so" }, 2, 0, "'-d'" },
		{ { "-d/home/u/x.so" }, 1, 0, "'-d'" },
		{ { "--driver-path=/tmp" }, 1, 0, "'--driver-path'" },
		{ { "-m", "512", "--vdev=net_pcap0,iface=eth0" }, 3, 2, "'--vdev'" },
		{ { "--file-prefix", "x" }, 2, 0, "'--file-prefix'" },
		{ { "--huge-dir", "/home/u" }, 2, 0, "'--huge-dir'" },
		{ { "--trace-dir=/etc" }, 1, 0, "'--trace-dir'" },
		/* An abbreviation getopt_long would accept is not the option. */
		{ { "--no-h" }, 1, 0, "'--no-h'" },
		{ { "--log-levelx=8" }, 1, 0, "'--log-levelx'" },
		/* A value that is an option would smuggle it past the check. */
		{ { "-m", "-d", "/x.so" }, 3, 1, "-m needs a value" },
		{ { "--log-level=-d" }, 1, 0, "--log-level needs a value" },
		{ { "-m" }, 1, 0, "-m needs a value" },
		{ { "--socket-mem=" }, 1, 0, "--socket-mem needs a value" },
		{ { "--no-huge=1" }, 1, 0, "--no-huge takes no value" },
		/* Words and the end of options. */
		{ { "x.so" }, 1, 0, "'x.so'" },
		{ { "--", "--job" }, 2, 0, "'--'" },
		{ { "-" }, 1, 0, "'-'" },
	};
	char msg[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int at = check(cases[i].args, cases[i].n, msg);

		if (at != cases[i].at || strstr(msg, cases[i].names) == NULL)
			fail_msg("case %zu: refused at %d (want %d): %s", i, at,
				 cases[i].at, msg);
	}
	/* The refusal says who may pass it, and how. */
	check(cases[0].args, 2, msg);
	assert_non_null(strstr(msg, "only root may pass it, by running sluice-dp directly"));
	assert_non_null(strstr(msg, "not allowed through sluiced"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
