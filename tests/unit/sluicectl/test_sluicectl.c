/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: sluicectl's pure parts (control/sluicectl). Argument parsing
 * per verb, accepted and refused with the exact message; the exit code of
 * every protocol code (distinct, >= 10, pinned so a reordered table fails
 * here); `info` of the demo job and a `top --once` frame from a canned
 * metrics reply, byte for byte; and docs/control-protocol.md naming every
 * verb, code and exit code of the tables.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_build_config.h"
#include "sl_plan.h"
#include "slc.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof(a[0])))

static int
parse(int argc, const char **argv, const char *env, struct slc_opts *o, char *err)
{
	return slc_parse(argc, (char **)(uintptr_t)argv, env, o, err, 256);
}

static void
test_parse_ok(void **state)
{
	struct slc_opts o;
	char err[256];

	(void)state;
	{
		const char *a[] = { "sluicectl", "run", "job.yaml", "--name", "n1", "--json" };

		assert_int_equal(parse(ARGC(a), a, NULL, &o, err), 0);
		assert_string_equal(o.verb->name, "run");
		assert_int_equal(o.verb->proto, SL_PROTO_VERB_SUBMIT);
		assert_int_equal(o.n_pos, 1);
		assert_string_equal(o.pos[0], "job.yaml");
		assert_string_equal(o.name, "n1");
		assert_true(o.json);
		assert_false(o.inline_yaml);
		assert_string_equal(o.socket, SL_PROTO_DEFAULT_SOCKET);
		assert_int_equal(o.timeout_ms, SLC_DEFAULT_TIMEOUT_MS);
	}
	{
		/* Global options before the verb, --opt=value, env socket. */
		const char *a[] = { "sluicectl", "--timeout=250", "--json", "run", "--inline", "j.yaml" };

		assert_int_equal(parse(ARGC(a), a, "/tmp/s.sock", &o, err), 0);
		assert_int_equal(o.timeout_ms, 250);
		assert_true(o.inline_yaml);
		assert_string_equal(o.socket, "/tmp/s.sock");
	}
	{
		/* --socket wins over $SLUICE_SOCKET; an empty env is ignored. */
		const char *a[] = { "sluicectl", "list", "--socket", "/a.sock" };

		assert_int_equal(parse(ARGC(a), a, "/tmp/s.sock", &o, err), 0);
		assert_string_equal(o.socket, "/a.sock");
		assert_int_equal(parse(2, a, "", &o, err), 0);
		assert_string_equal(o.socket, SL_PROTO_DEFAULT_SOCKET);
	}
	{
		const char *a[] = { "sluicectl", "savepoint", "clicks", "/sp" };

		assert_int_equal(parse(ARGC(a), a, NULL, &o, err), 0);
		assert_int_equal(o.verb->proto, SL_PROTO_VERB_SAVEPOINT);
		assert_int_equal(o.n_pos, 2);
		assert_string_equal(o.pos[1], "/sp");
	}
	{
		const char *a[] = { "sluicectl", "top", "clicks", "--once", "--interval", "0.5" };

		assert_int_equal(parse(ARGC(a), a, NULL, &o, err), 0);
		assert_true(o.once);
		assert_int_equal(o.interval_ms, 500);
		assert_int_equal(o.verb->proto, SL_PROTO_VERB_METRICS);
	}
	{
		const char *a[] = { "sluicectl", "doctor", "--checkpoint-dir", "/ck", "--cpus", "0,2-3" };

		assert_int_equal(parse(ARGC(a), a, NULL, &o, err), 0);
		assert_int_equal(o.verb->proto, -1);
		assert_int_equal(o.n_pos, 0);
		assert_string_equal(o.ckpt_dir, "/ck");
		assert_string_equal(o.cpus, "0,2-3");
	}
	{
		/* VERB --help needs no arguments; -- ends options. */
		const char *a[] = { "sluicectl", "cancel", "--help" };
		const char *b[] = { "sluicectl", "cancel", "--", "--weird-name" };
		const char *c[] = { "sluicectl", "-V" };
		const char *d[] = { "sluicectl", "-h" };

		assert_int_equal(parse(ARGC(a), a, NULL, &o, err), 0);
		assert_true(o.help);
		assert_int_equal(parse(ARGC(b), b, NULL, &o, err), 0);
		assert_string_equal(o.pos[0], "--weird-name");
		assert_int_equal(parse(ARGC(c), c, NULL, &o, err), 0);
		assert_true(o.version);
		assert_null(o.verb);
		assert_int_equal(parse(ARGC(d), d, NULL, &o, err), 0);
		assert_true(o.help);
	}
	/* Every protocol-backed CLI verb names a real protocol verb and
	 * takes its help text from there unless it says its own. */
	for (unsigned int i = 0; i < slc_n_verbs; i++) {
		const struct slc_verb *v = &slc_verbs[i];

		assert_ptr_equal(slc_verb_find(v->name), v);
		assert_true(v->proto >= -1 && v->proto < SL_PROTO_VERB__COUNT);
		if (v->proto >= 0 && v->help == NULL)
			assert_ptr_equal(slc_verb_help(v), sl_proto_verbs[v->proto].help);
		assert_true(v->min_pos <= v->max_pos && v->max_pos <= SLC_MAX_POS);
	}
}

static void
refuse(int argc, const char **argv, const char *want)
{
	struct slc_opts o;
	char err[256];

	assert_int_equal(parse(argc, argv, NULL, &o, err), SLC_EXIT_USAGE);
	assert_string_equal(err, want);
}

static void
test_parse_refuse(void **state)
{
	const char *a1[] = { "sluicectl" };
	const char *a2[] = { "sluicectl", "frob" };
	const char *a3[] = { "sluicectl", "run" };
	const char *a4[] = { "sluicectl", "status", "a", "b" };
	const char *a5[] = { "sluicectl", "list", "--once" };
	const char *a6[] = { "sluicectl", "list", "--timeout", "abc" };
	const char *a7[] = { "sluicectl", "top", "j", "--interval", "0.01" };
	const char *a8[] = { "sluicectl", "list", "--bogus" };
	const char *a9[] = { "sluicectl", "run", "j.yaml", "--name" };
	const char *a10[] = { "sluicectl", "list", "--json=yes" };
	const char *a11[] = { "sluicectl", "info", "j.yaml", "--cpus", "3-1" };
	const char *a12[] = { "sluicectl", "savepoint", "j" };
	const char *a13[] = { "sluicectl", "list", "-x" };
	const char *a14[] = { "sluicectl", "--timeout", "0", "list" };

	(void)state;
	refuse(ARGC(a1), a1, "no verb given; sluicectl --help lists them");
	refuse(ARGC(a2), a2, "unknown verb 'frob'; sluicectl --help lists them");
	refuse(ARGC(a3), a3, "run: missing argument; usage: sluicectl run JOB_FILE [--name N] [--inline] [--savepoint DIR]");
	refuse(ARGC(a4), a4, "status: unexpected argument 'b'; usage: sluicectl status JOB");
	refuse(ARGC(a5), a5, "option --once does not apply to 'list'");
	refuse(ARGC(a6), a6, "--timeout: expected milliseconds 1..86400000, got 'abc'");
	refuse(ARGC(a7), a7, "--interval: expected seconds 0.1..3600, got '0.01'");
	refuse(ARGC(a8), a8, "unknown option '--bogus'");
	refuse(ARGC(a9), a9, "option --name needs N");
	refuse(ARGC(a10), a10, "option --json takes no value");
	refuse(ARGC(a11), a11, "--cpus '3-1': expected a list like 1 or 0-3 or 0,2");
	refuse(ARGC(a12), a12, "savepoint: missing argument; usage: sluicectl savepoint JOB DIR");
	refuse(ARGC(a13), a13, "unknown option '-x'");
	refuse(ARGC(a14), a14, "--timeout: expected milliseconds 1..86400000, got '0'");
}

static void
test_exit_codes(void **state)
{
	/* Pinned: scripts depend on these numbers. A new code is appended to
	 * SL_PROTO_CODES and gets the next number; this list then grows. */
	static const struct { const char *code; int exit; } pinned[] = {
		{ "ok", 0 }, { "bad_request", 10 }, { "unknown_verb", 11 },
		{ "bad_args", 12 }, { "invalid_job", 13 }, { "no_such_job", 14 },
		{ "conflict", 15 }, { "wrong_state", 16 }, { "unsupported", 17 },
		{ "busy", 18 }, { "unavailable", 19 }, { "permission", 20 },
		{ "internal", 21 },
	};
	bool used[256] = { false };

	(void)state;
	for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++)
		assert_int_equal(slc_exit_of_code(pinned[i].code), pinned[i].exit);
	for (int c = 0; c < SL_PROTO__CODE_COUNT; c++) {
		int e = slc_exit_of_code(sl_proto_code_name((enum sl_proto_code)c));

		if (c == SL_PROTO_OK) {
			assert_int_equal(e, 0);
			continue;
		}
		assert_true(e >= 10 && e < 256);
		assert_false(used[e]);
		used[e] = true;
		assert_int_equal(e, SLC_EXIT_CODE_BASE + c);
	}
	assert_int_equal(slc_exit_of_code("a_code_from_the_future"), SLC_EXIT_ERROR);
	assert_int_equal(slc_exit_of_code(NULL), SLC_EXIT_ERROR);
}

static const char demo_info[] =
	"job clicks-per-user (configs/jobs/demo.yaml)\n"
	"\n"
	"operators\n"
	"  #  OPERATOR         LCORES  DETAIL\n"
	"  0  source.ethdev    rx      port net_pcap0,rx_pcap=configs/samples/clicks.pcap, udp_port 9000, queues 1, partitions 1; timestamp ts; watermark out_of_orderness 1s, punctuated\n"
	"  1  filter           rx      url_id != 0\n"
	"  2  key_by           rx      user_id; key group = xxh3(key) % 128\n"
	"  3  window.tumbling  worker  size 10s, offset 0s; state.key-capacity 65536\n"
	"  4  aggregate        worker  count(), min(ts) as first_click, max(ts) as last_click\n"
	"  5  sink.stdout      main    CSV to standard output, in (window_start, key) order\n"
	"\n"
	"edges\n"
	"  FROM             TO               HOW\n"
	"  source.ethdev    filter           forward, same lcore\n"
	"  filter           key_by           forward, same lcore\n"
	"  key_by           window.tumbling  hash by key group over 1 SPSC ring (1 rx x 1 worker)\n"
	"  window.tumbling  aggregate        forward, same lcore\n"
	"  aggregate        sink.stdout      1 SPSC ring to the main lcore, merged by watermark\n"
	"\n"
	"parallelism\n"
	"  rx lcores          1\n"
	"  worker lcores      1\n"
	"  run to completion  no\n"
	"  max parallelism    128 (key groups)\n"
	"\n"
	"key groups\n"
	"  WORKER  KEY GROUPS  COUNT\n"
	"  0       0-127       128\n"
	"\n"
	"lcore placement (CPUs 0-1, from --cpus)\n"
	"  LCORE  ROLE      CPU\n"
	"  0      main      0\n"
	"  1      rx 0      0\n"
	"  2      worker 0  1\n";

static void
test_info_demo(void **state)
{
	struct sl_plan p;
	char err[SL_PLAN_ERR_MAX], *buf = NULL;
	int cpus[SLC_MAX_CPUS], n;
	const char *src;
	size_t len;
	FILE *f;
	json_t *j;

	(void)state;
	assert_int_equal(chdir(SLUICE_SRCDIR), 0);
	assert_int_equal(sl_plan_load("configs/jobs/demo.yaml", &p, err, sizeof(err)), 0);
	n = slc_job_cpus(&p, "0-1", cpus, SLC_MAX_CPUS, &src);
	assert_int_equal(n, 2);
	f = open_memstream(&buf, &len);
	slc_info_text(f, &p, cpus, n, src);
	fclose(f);
	assert_string_equal(buf, demo_info);
	free(buf);

	j = slc_info_json(&p, cpus, n, src);
	assert_string_equal(json_string_value(json_object_get(j, "job")), "clicks-per-user");
	assert_int_equal(json_array_size(json_object_get(j, "operators")), 6);
	assert_int_equal(json_array_size(json_object_get(j, "edges")), 5);
	assert_int_equal(json_array_size(json_object_get(j, "lcores")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
		json_object_get(j, "keyGroups"), 0), "last")), 127);
	json_decref(j);
	sl_plan_free(&p);
}

static void
test_info_shapes(void **state)
{
	static const char rtc[] =
		"job: r\nschema: {k: u64, ts: timestamp_ms}\n"
		"source: {type: csv, path: in.csv, timestamp: ts}\n"
		"pipeline: [{key_by: k}, {window: {tumbling: 1m}}, {aggregate: [sum(k) as total, avg(k)]}]\n"
		"sink: {type: csv, path: out.csv}\nlcores: {run_to_completion: true}\n";
	static const char three[] =
		"job: t\nschema: {k: u64, ts: timestamp_ms}\n"
		"source: {type: ethdev, port: net_null0, queues: 2, timestamp: ts,"
		" watermark: {emit: periodic, interval: 250ms, idle_timeout: 1m}}\n"
		"pipeline: [{key_by: k}, {window: {tumbling: 1m}}, {aggregate: [count()]}]\n"
		"sink: {type: stdout}\nlcores: {rx: 2, workers: 3}\n";
	static const char topk[] =
		"job: tk\nschema: {k: u64, ts: timestamp_ms}\n"
		"source: {type: csv, path: in.csv, timestamp: ts}\n"
		"pipeline: [{key_by: k}, {window: {tumbling: 1m}}, {aggregate: [sum(k) as total]},"
		" {top_k: {k: 5, by: total, order: asc}}]\n"
		"sink: {type: csv, path: out.csv}\n";
	static const char ptsess[] =
		"job: ps\nschema: {k: u64, ts: timestamp_ms}\n"
		"source: {type: csv, path: in.csv, timestamp: ts}\n"
		"pipeline: [{key_by: k}, {window: {session: 5s, time: processing, trigger: {count: 3}}},"
		" {aggregate: [count()]}]\n"
		"sink: {type: csv, path: out.csv}\n";
	struct sl_plan p;
	char err[SL_PLAN_ERR_MAX], *buf = NULL;
	int cpus[] = { 4, 5, 6 };
	size_t len;
	FILE *f;

	(void)state;
	assert_int_equal(sl_plan_load_str("rtc.yaml", rtc, strlen(rtc), &p, err, sizeof(err)), 0);
	f = open_memstream(&buf, &len);
	slc_info_text(f, &p, cpus, 1, "--cpus");
	fclose(f);
	assert_non_null(strstr(buf, "  3  aggregate        rx+worker  sum(k) as total, avg(k)\n"));
	assert_non_null(strstr(buf, "forward, same lcore (run to completion: no rings)"));
	/* One polling lcore: the placement ends after lcore 1. */
	assert_non_null(strstr(buf, "  LCORE  ROLE         CPU\n"
				    "  0      main         4\n"
				    "  1      rx+worker 0  4\n"));
	assert_string_equal(buf + len - strlen("  1      rx+worker 0  4\n"),
			    "  1      rx+worker 0  4\n");
	free(buf);
	sl_plan_free(&p);

	/* 2 RX + 3 workers on 3 CPUs: lcores wrap onto the CPUs. */
	assert_int_equal(sl_plan_load_str("t.yaml", three, strlen(three), &p, err, sizeof(err)), 0);
	buf = NULL;
	f = open_memstream(&buf, &len);
	slc_info_text(f, &p, cpus, 3, "--cpus");
	fclose(f);
	assert_non_null(strstr(buf, "periodic every 250ms, idle_timeout 1m"));
	assert_non_null(strstr(buf, "hash by key group over 6 SPSC rings (2 rx x 3 workers)"));
	assert_non_null(strstr(buf, "  0       0-42        43\n  1       43-85       43\n  2       86-127      42\n"));
	assert_non_null(strstr(buf, "lcore placement (CPUs 4-6, from --cpus)\n"
				    "  LCORE  ROLE      CPU\n"
				    "  0      main      4\n"
				    "  1      rx 0      4\n"
				    "  2      rx 1      5\n"
				    "  3      worker 0  6\n"
				    "  4      worker 1  4\n"
				    "  5      worker 2  5\n"
				    "  note: 5 polling lcores on 3 CPUs: they share CPUs, idle lcores yield\n"));
	free(buf);
	sl_plan_free(&p);

	/* top_k: a node on the main lcore between the aggregate and the sink. */
	assert_int_equal(sl_plan_load_str("tk.yaml", topk, strlen(topk), &p, err, sizeof(err)), 0);
	buf = NULL;
	f = open_memstream(&buf, &len);
	slc_info_text(f, &p, cpus, 1, "--cpus");
	fclose(f);
	assert_non_null(strstr(buf, "  4  top_k            main    per window the 5 rows with the smallest total, ties by key ascending; a rank column\n"
				    "  5  sink.csv         main    CSV to out.csv, in (window_start, rank) order\n"));
	assert_non_null(strstr(buf, "  aggregate        top_k            1 SPSC ring to the main lcore, merged by watermark\n"
				    "  top_k            sink.csv         forward, same lcore\n"));
	free(buf);
	sl_plan_free(&p);

	/* Processing-time sessions with a count trigger. */
	assert_int_equal(sl_plan_load_str("ps.yaml", ptsess, strlen(ptsess), &p, err, sizeof(err)), 0);
	buf = NULL;
	f = open_memstream(&buf, &len);
	slc_info_text(f, &p, cpus, 1, "--cpus");
	fclose(f);
	assert_non_null(strstr(buf, "  2  window.session  worker  gap 5s; state.key-capacity 65536; trigger count 3; processing time (the worker's clock)\n"));
	assert_non_null(strstr(buf, "  4  sink.csv        main    CSV to out.csv, as the windows fire (processing time: not sorted)\n"));
	free(buf);
	sl_plan_free(&p);
}

static const char metrics_json[] =
	"{\n"
	" \"job\": \"clicks-per-user\",\n"
	" \"state\": \"RUNNING\",\n"
	" \"numRestarts\": 1,\n"
	" \"dataplane\": {\n"
	"  \"job\": \"clicks-per-user\",\n"
	"  \"pid\": 4242,\n"
	"  \"uptimeMs\": 5321,\n"
	"  \"state\": \"RUNNING\",\n"
	"  \"lcores\": [\n"
	"   {\n"
	"    \"role\": \"rx\",\n"
	"    \"id\": 0,\n"
	"    \"lcore\": 1,\n"
	"    \"cpu\": 0,\n"
	"    \"numRecordsIn\": 4000,\n"
	"    \"numRecordsOut\": 3944,\n"
	"    \"numRecordsInPerSecond\": 1234567.0,\n"
	"    \"numRecordsOutPerSecond\": 1200000.5,\n"
	"    \"busyTimeMsPerSecond\": 412.0,\n"
	"    \"idleTimeMsPerSecond\": 588.0,\n"
	"    \"backPressuredTimeMsPerSecond\": 3.0,\n"
	"    \"currentOutputWatermark\": 1700000018943,\n"
	"    \"watermarkLagMs\": 12345,\n"
	"    \"numPackets\": 57,\n"
	"    \"numRecordsFiltered\": 56,\n"
	"    \"numSeqGaps\": 0,\n"
	"    \"numRingFull\": 0,\n"
	"    \"numBadLines\": 0,\n"
	"    \"drops\": {\n"
	"     \"bad_magic\": 0\n"
	"    }\n"
	"   },\n"
	"   {\n"
	"    \"role\": \"worker\",\n"
	"    \"id\": 0,\n"
	"    \"lcore\": 2,\n"
	"    \"cpu\": 1,\n"
	"    \"numRecordsIn\": 3944,\n"
	"    \"numRecordsOut\": 24,\n"
	"    \"numRecordsInPerSecond\": 1200000.5,\n"
	"    \"numRecordsOutPerSecond\": 2.0,\n"
	"    \"busyTimeMsPerSecond\": 987.5,\n"
	"    \"idleTimeMsPerSecond\": 12.5,\n"
	"    \"backPressuredTimeMsPerSecond\": 0.0,\n"
	"    \"currentInputWatermark\": 1700000018943,\n"
	"    \"watermarkLagMs\": 12345,\n"
	"    \"numLateRecordsDropped\": 5,\n"
	"    \"numStateFullDropped\": 0,\n"
	"    \"numWindowsFired\": 3,\n"
	"    \"openWindows\": 0,\n"
	"    \"stateBytes\": 0,\n"
	"    \"rings\": [\n"
	"     {\n"
	"      \"from\": \"rx0\",\n"
	"      \"used\": 128,\n"
	"      \"capacity\": 511\n"
	"     }\n"
	"    ]\n"
	"   },\n"
	"   {\n"
	"    \"role\": \"worker\",\n"
	"    \"id\": 1,\n"
	"    \"lcore\": 3,\n"
	"    \"cpu\": 0,\n"
	"    \"numRecordsIn\": 0,\n"
	"    \"numRecordsOut\": 0,\n"
	"    \"numRecordsInPerSecond\": 0.0,\n"
	"    \"numRecordsOutPerSecond\": 0.0,\n"
	"    \"busyTimeMsPerSecond\": 0.0,\n"
	"    \"idleTimeMsPerSecond\": 1000.0,\n"
	"    \"backPressuredTimeMsPerSecond\": 0.0,\n"
	"    \"currentInputWatermark\": null,\n"
	"    \"watermarkLagMs\": null,\n"
	"    \"rings\": [\n"
	"     {\n"
	"      \"from\": \"rx0\",\n"
	"      \"used\": 0,\n"
	"      \"capacity\": 511\n"
	"     }\n"
	"    ]\n"
	"   }\n"
	"  ],\n"
	"  \"operators\": [\n"
	"   {\n"
	"    \"name\": \"source.ethdev\",\n"
	"    \"numRecordsOut\": 4000\n"
	"   },\n"
	"   {\n"
	"    \"name\": \"filter\",\n"
	"    \"numRecordsIn\": 4000,\n"
	"    \"numRecordsOut\": 3944\n"
	"   },\n"
	"   {\n"
	"    \"name\": \"window.tumbling\",\n"
	"    \"numRecordsIn\": 3944,\n"
	"    \"numRecordsOut\": 24,\n"
	"    \"numLateRecordsDropped\": 5\n"
	"   },\n"
	"   {\n"
	"    \"name\": \"sink.csv\",\n"
	"    \"numRecordsIn\": 24\n"
	"   }\n"
	"  ]\n"
	" }\n"
	"}\n";

static const char top_frame[] =
	"sluice top - job clicks-per-user  RUNNING  pid 4242  up 5.3s  restarts 1\n"
	"\n"
	"ROLE    ID  LCORE  CPU   IN/s  OUT/s  BUSY%  BP%  RING         WATERMARK                 LAG\n"
	"rx       0      1    0  1.23M  1.20M   41.2  0.3  -            2023-11-14T22:13:38.943Z  12.3s\n"
	"worker   0      2    1  1.20M      2   98.8  0.0  128/511 25%  2023-11-14T22:13:38.943Z  12.3s\n"
	"worker   1      3    0      0      0    0.0  0.0  0/511 0%     -                         -\n"
	"\n"
	"OPERATOR           IN   OUT  LATE\n"
	"source.ethdev       -  4000     -\n"
	"filter           4000  3944     -\n"
	"window.tumbling  3944    24     5\n"
	"sink.csv           24     -     -\n";

static void
test_top_frame(void **state)
{
	json_error_t jerr;
	json_t *m = json_loads(metrics_json, 0, &jerr);
	char *buf = NULL;
	size_t len;
	FILE *f;

	(void)state;
	assert_non_null(m);
	f = open_memstream(&buf, &len);
	slc_top_frame(f, m);
	fclose(f);
	assert_string_equal(buf, top_frame);
	free(buf);

	/* A dataplane's own reply (no "dataplane" wrapper) gives the same
	 * table, without the daemon's restart count. */
	buf = NULL;
	f = open_memstream(&buf, &len);
	slc_top_frame(f, json_object_get(m, "dataplane"));
	fclose(f);
	assert_non_null(strstr(buf, "sluice top - job clicks-per-user  RUNNING  pid 4242  up 5.3s\n\n"));
	assert_non_null(strstr(buf, strstr(top_frame, "ROLE")));
	free(buf);
	json_decref(m);
}

static void
test_fmt(void **state)
{
	char b[64];

	(void)state;
	slc_fmt_rate(b, sizeof(b), 999);
	assert_string_equal(b, "999");
	slc_fmt_rate(b, sizeof(b), 1000);
	assert_string_equal(b, "1.0k");
	slc_fmt_rate(b, sizeof(b), 2.5e9);
	assert_string_equal(b, "2.50G");
	slc_fmt_ts(b, sizeof(b), -1);
	assert_string_equal(b, "1969-12-31T23:59:59.999Z");
	slc_fmt_ts(b, sizeof(b), 0);
	assert_string_equal(b, "1970-01-01T00:00:00.000Z");
	slc_fmt_dur(b, sizeof(b), 999);
	assert_string_equal(b, "999ms");
	slc_fmt_dur(b, sizeof(b), 65000);
	assert_string_equal(b, "1m05s");
	slc_fmt_dur(b, sizeof(b), 7380000);
	assert_string_equal(b, "2h03m");
	slc_fmt_dur(b, sizeof(b), -1500);
	assert_string_equal(b, "-1.5s");
	slc_fmt_dur(b, sizeof(b), INT64_MIN);
	assert_string_equal(b, "-106751991167d07h");
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, len = 0, n;

	assert_non_null(f);
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap + 1);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* The docs check: every verb, code and exit code of the tables, quoted. */
static void
test_docs(void **state)
{
	char *doc = slurp(SLUICE_SRCDIR "/docs/control-protocol.md"), want[128];

	(void)state;
	for (int v = 0; v < SL_PROTO_VERB__COUNT; v++) {
		snprintf(want, sizeof(want), "`%s`", sl_proto_verbs[v].name);
		if (strstr(doc, want) == NULL)
			fail_msg("docs/control-protocol.md does not name verb %s", want);
	}
	for (int c = 0; c < SL_PROTO__CODE_COUNT; c++) {
		snprintf(want, sizeof(want), "| `%s` |", sl_proto_code_name((enum sl_proto_code)c));
		if (strstr(doc, want) == NULL)
			fail_msg("docs/control-protocol.md has no table row for code %s", want);
		if (c == SL_PROTO_OK)
			continue;
		snprintf(want, sizeof(want), "| `%s` | %d |", sl_proto_code_name((enum sl_proto_code)c),
			 SLC_EXIT_CODE_BASE + c);
		if (strstr(doc, want) == NULL)
			fail_msg("docs/control-protocol.md: code row should start %s", want);
	}
	for (unsigned int i = 0; i < slc_n_verbs; i++) {
		snprintf(want, sizeof(want), "`sluicectl %s", slc_verbs[i].name);
		if (strstr(doc, want) == NULL)
			fail_msg("docs/control-protocol.md does not show %s`", want);
	}
	free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_refuse),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_info_demo),
		cmocka_unit_test(test_info_shapes),
		cmocka_unit_test(test_top_frame),
		cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_docs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
