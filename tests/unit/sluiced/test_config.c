/* SPDX-License-Identifier: BSD-3-Clause */
/* Description: sluiced.yaml: every key, flat and nested spellings, and exact file:line:col errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sl_build_config.h"
#include "sld.h"

static int
load(const char *yaml, struct sld_config *c, char *err)
{
	sld_config_defaults(c);
	return sld_config_load_str("s.yaml", yaml, strlen(yaml), c, err, 512);
}

static void
test_defaults(void **state)
{
	struct sld_config c;
	char err[512];

	(void)state;
	assert_int_equal(load("", &c, err), 0);
	assert_string_equal(c.socket, "/run/sluice/sluiced.sock");
	assert_string_equal(c.state_dir, "/var/lib/sluice");
	assert_string_equal(c.group, "");
	assert_int_equal(c.shutdown_timeout_ms, 10000);
	assert_int_equal(c.prometheus_port, 0);
	assert_int_equal(c.restart.type, SL_RESTART_FIXED_DELAY);
	assert_int_equal(c.restart.fixed_attempts, 3);
}

static void
test_all_keys(void **state)
{
	struct sld_config c;
	char err[512];

	(void)state;
	assert_int_equal(load("control:\n"
			      "  socket: /tmp/s.sock\n"
			      "  group: sluice\n"
			      "  shutdown-timeout: 30s\n"
			      "state.dir: /srv/sluice\n"
			      "metrics:\n"
			      "  prometheus: {port: 9249}\n"
			      "restart-strategy:\n"
			      "  type: exponential-delay\n"
			      "  exponential-delay:\n"
			      "    initial-backoff: 500ms\n"
			      "    max-backoff: 2m\n"
			      "    backoff-multiplier: 1.5\n"
			      "    attempts: 4\n"
			      "restart-strategy.fixed-delay.attempts: 9\n"
			      "restart-strategy.fixed-delay.delay: 3s\n", &c, err), 0);
	assert_string_equal(err, "");
	assert_string_equal(c.socket, "/tmp/s.sock");
	assert_string_equal(c.group, "sluice");
	assert_int_equal(c.shutdown_timeout_ms, 30000);
	assert_string_equal(c.state_dir, "/srv/sluice");
	assert_int_equal(c.prometheus_port, 9249);
	assert_int_equal(c.restart.type, SL_RESTART_EXPONENTIAL_DELAY);
	assert_int_equal(c.restart.exp_initial_ms, 500);
	assert_int_equal(c.restart.exp_max_ms, 120000);
	assert_true(c.restart.exp_multiplier == 1.5);
	assert_int_equal(c.restart.exp_attempts, 4);
	assert_int_equal(c.restart.fixed_attempts, 9);
	assert_int_equal(c.restart.fixed_delay_ms, 3000);
}

static const struct {
	const char *yaml;
	const char *err;
} bad[] = {
	{ "control:\n  sockt: /x\n",
	  "s.yaml:2:3: unknown key 'control.sockt'; expected one of: control.socket, control.group, control.shutdown-timeout, state.dir, metrics.prometheus.port, restart-strategy.*" },
	{ "bogus: 1\n",
	  "s.yaml:1:1: unknown key 'bogus'; expected one of: control.socket, control.group, control.shutdown-timeout, state.dir, metrics.prometheus.port, restart-strategy.*" },
	{ "control.socket: /a\ncontrol:\n  socket: /b\n",
	  "s.yaml:3:3: duplicate key 'control.socket'" },
	{ "state.dir: /a\nstate.dir: /b\n",
	  "s.yaml:2:1: duplicate key 'state.dir'" },
	{ "control: {group: a}\ncontrol: {socket: /b}\n",
	  "s.yaml:2:1: duplicate key 'control'" },
	{ "control.shutdown-timeout: soon\n",
	  "s.yaml:1:27: expected a duration like 10s or 250ms for 'control.shutdown-timeout', got 'soon'" },
	{ "metrics.prometheus.port: 70000\n",
	  "s.yaml:1:26: metrics.prometheus.port must be 1..65535, got 70000" },
	{ "metrics.prometheus.port: http\n",
	  "s.yaml:1:26: expected an integer for 'metrics.prometheus.port', got 'http'" },
	{ "restart-strategy.type: sometimes\n",
	  "s.yaml:1:24: unknown restart-strategy.type 'sometimes'; expected one of: none, fixed-delay, exponential-delay" },
	{ "restart-strategy.exponential-delay.backoff-multiplier: 1\n",
	  "s.yaml:1:56: restart-strategy.exponential-delay.backoff-multiplier must be > 1 and <= 1000, got 1" },
	{ "restart-strategy.exponential-delay.max-backoff: 10ms\n",
	  "s.yaml:1:49: restart-strategy.exponential-delay.max-backoff (10ms) must be >= initial-backoff (1000ms)" },
	{ "control:\n  socket: [a, b]\n",
	  "s.yaml:2:11: expected a scalar or a mapping for 'control.socket'" },
	{ "- a\n",
	  "s.yaml:1:1: expected a mapping at the top level" },
	{ "control: {socket: /a\n",
	  "s.yaml:2:1: invalid YAML: " },
	{ "control.group: \"\"\n",
	  "s.yaml:1:17: expected a non-empty string for 'control.group'" },
};

static void
test_errors(void **state)
{
	unsigned int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sld_config c;
		char err[512];
		int rc = load(bad[i].yaml, &c, err);
		size_t n = strlen(bad[i].err);
		bool prefix = bad[i].err[n - 1] == ' ';

		if (rc != -EINVAL || (prefix ? strncmp(err, bad[i].err, n) :
				      strcmp(err, bad[i].err)) != 0) {
			print_message("case %zu: rc %d\n  got:  %s\n  want: %s\n", i,
				      rc, err, bad[i].err);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void
test_file(void **state)
{
	struct sld_config c;
	char err[512];

	(void)state;
	sld_config_defaults(&c);
	assert_int_equal(sld_config_load("/nonexistent/sluiced.yaml", &c, err,
					 sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/sluiced.yaml: cannot open: No such file or directory");
	/* The shipped appliance config is valid. */
	assert_int_equal(sld_config_load(SLUICE_SRCDIR "/configs/appliance/sluiced.yaml",
					 &c, err, sizeof(err)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
