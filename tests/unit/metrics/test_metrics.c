/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: Prometheus exposition and its HTTP responder
 * (control/metrics). The canned two-job input (canned.json: one job
 * RUNNING with an rx and a worker lcore and drops, one FINISHED without a
 * dataplane) renders to exactly canned.prom, whatever the input order;
 * label values are escaped; null, absent and mistyped values are left
 * out; milliseconds become exact decimal seconds; empty input renders to
 * nothing. The responder, over a socketpair: a request in one read, in
 * three reads (the blank line itself split), exactly 8 KiB (200) and over
 * 8 KiB (400), unknown path or method (404), malformed heads and a cut
 * request (400), a failing body (500), a silent client; and over TCP on
 * 127.0.0.1 through listen, accept and poll.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "sl_build_config.h"
#include "sl_metrics.h"

#define DIR SLUICE_SRCDIR "/tests/unit/metrics/"

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static char *
render_str(const char *json)
{
	json_error_t err;
	json_t *jobs = json_loads(json, 0, &err);
	char *out = NULL;
	size_t len = 0;

	if (jobs == NULL)
		fail_msg("bad test JSON: %s", err.text);
	assert_int_equal(sl_metrics_prom_render(jobs, &out, &len), 0);
	json_decref(jobs);
	assert_non_null(out);
	assert_int_equal(len, strlen(out));
	return out;
}

/*
 * The text format's structure, checked independently of the exact text:
 * each family has one HELP then one TYPE line, then only its own samples,
 * and never comes back.
 */
static void
check_structure(const char *text)
{
	char seen[64][96];
	char fam[96] = "";
	int n_seen = 0;
	bool help = false, type = false;

	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		char line[512], name[96];
		size_t len;

		assert_non_null(nl);	/* every line ends in \n */
		len = (size_t)(nl - p);
		assert_true(len < sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl + 1;
		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%95s", name), 1);
			for (int i = 0; i < n_seen; i++)
				assert_string_not_equal(seen[i], name);
			assert_true(n_seen < 64);
			strcpy(seen[n_seen++], name);
			strcpy(fam, name);
			help = true;
			type = false;
		} else if (strncmp(line, "# TYPE ", 7) == 0) {
			char t[16];

			assert_true(help && !type);
			assert_int_equal(sscanf(line + 7, "%95s %15s", name, t), 2);
			assert_string_equal(name, fam);
			assert_true(strcmp(t, "counter") == 0 || strcmp(t, "gauge") == 0);
			if (strcmp(t, "counter") == 0)
				assert_string_equal(name + strlen(name) - 6, "_total");
			type = true;
		} else {
			size_t nl2 = strcspn(line, "{ ");

			assert_true(type);
			assert_int_equal(nl2, strlen(fam));
			assert_memory_equal(line, fam, nl2);
		}
	}
}

static void
test_render_canned(void **state)
{
	char *json = slurp(DIR "canned.json"), *want = slurp(DIR "canned.prom");
	char *got = render_str(json);

	(void)state;
	assert_string_equal(got, want);
	check_structure(got);
	free(got);
	free(want);
	free(json);
}

/* Jobs come out sorted by name, whatever order sluiced lists them in. */
static void
test_render_order(void **state)
{
	char *json = slurp(DIR "canned.json");
	json_t *jobs = json_loads(json, 0, NULL), *rev = json_array();
	char *a, *b;
	size_t la, lb;

	(void)state;
	assert_non_null(jobs);
	for (size_t i = json_array_size(jobs); i-- > 0;)
		json_array_append(rev, json_array_get(jobs, i));
	assert_int_equal(sl_metrics_prom_render(jobs, &a, &la), 0);
	assert_int_equal(sl_metrics_prom_render(rev, &b, &lb), 0);
	assert_int_equal(la, lb);
	assert_string_equal(a, b);
	free(a);
	free(b);
	json_decref(rev);
	json_decref(jobs);
	free(json);
}

static void
test_label_escaping(void **state)
{
	char *got = render_str(
		"[{\"job\": \"a\\\\b\\\"c\\nd\", \"state\": \"RUN\\\"NING\", \"numRestarts\": 0,"
		" \"dataplane\": {\"lcores\": [{\"role\": \"r\\\\x\", \"id\": 1,"
		"   \"drops\": {\"odd\\\"reason\\n\": 2}}],"
		"  \"operators\": [{\"name\": \"udf \\\"x\\\"\", \"numRecordsIn\": 1}]}}]");
	static const char want[] =
		"# HELP sluice_job_up 1 when the job is RUNNING, else 0; state is its state in sluiced.\n"
		"# TYPE sluice_job_up gauge\n"
		"sluice_job_up{job_name=\"a\\\\b\\\"c\\nd\",state=\"RUN\\\"NING\"} 0\n"
		"# HELP sluice_job_restarts_total Times sluiced restarted the job's dataplane.\n"
		"# TYPE sluice_job_restarts_total counter\n"
		"sluice_job_restarts_total{job_name=\"a\\\\b\\\"c\\nd\"} 0\n"
		"# HELP sluice_packets_dropped_total Malformed packets dropped, by reason (docs/wire-format.md).\n"
		"# TYPE sluice_packets_dropped_total counter\n"
		"sluice_packets_dropped_total{job_name=\"a\\\\b\\\"c\\nd\",role=\"r\\\\x\",id=\"1\","
		"reason=\"odd\\\"reason\\n\"} 2\n"
		"# HELP sluice_operator_num_records_in_total Rows into the operator.\n"
		"# TYPE sluice_operator_num_records_in_total counter\n"
		"sluice_operator_num_records_in_total{job_name=\"a\\\\b\\\"c\\nd\",id=\"0\","
		"operator=\"udf \\\"x\\\"\"} 1\n";

	(void)state;
	assert_string_equal(got, want);
	check_structure(got);
	free(got);
}

static void
test_render_empty(void **state)
{
	char *got = render_str("[]");

	(void)state;
	assert_string_equal(got, "");
	free(got);

	/* A job without a dataplane has only its job-level families. */
	got = render_str("[{\"job\": \"j\"}]");
	assert_string_equal(got,
		"# HELP sluice_job_up 1 when the job is RUNNING, else 0; state is its state in sluiced.\n"
		"# TYPE sluice_job_up gauge\n"
		"sluice_job_up{job_name=\"j\"} 0\n");
	free(got);
}

/* Nulls, absent keys and wrong types give no sample and no error. */
static void
test_render_nulls(void **state)
{
	char *got = render_str(
		"[{\"job\": \"j\", \"state\": 7, \"numRestarts\": null, \"dataplane\": {"
		"  \"uptimeMs\": \"soon\", \"operators\": 3, \"lcores\": [5, null,"
		"  {\"role\": null, \"id\": true, \"lcore\": 4, \"numRecordsIn\": null,"
		"   \"numRecordsOut\": false, \"numPackets\": 9, \"drops\": [1],"
		"   \"rings\": [7, {\"used\": 2}]}]}}]");
	static const char want[] =
		"# HELP sluice_job_up 1 when the job is RUNNING, else 0; state is its state in sluiced.\n"
		"# TYPE sluice_job_up gauge\n"
		"sluice_job_up{job_name=\"j\"} 0\n"
		"# HELP sluice_num_packets_total Packets received.\n"
		"# TYPE sluice_num_packets_total counter\n"
		"sluice_num_packets_total{job_name=\"j\",lcore=\"4\"} 9\n"
		"# HELP sluice_ring_used Vectors waiting in the ring from that rx lcore.\n"
		"# TYPE sluice_ring_used gauge\n"
		"sluice_ring_used{job_name=\"j\",lcore=\"4\"} 2\n";

	(void)state;
	assert_string_equal(got, want);
	free(got);
}

/* Milliseconds to seconds is exact decimal, signs and extremes included. */
static void
test_render_ms(void **state)
{
	static const struct { const char *ms; const char *s; } cases[] = {
		{ "0", "0" }, { "1", "0.001" }, { "-1", "-0.001" }, { "1500", "1.5" },
		{ "-1500", "-1.5" }, { "1700000018940", "1700000018.94" },
		{ "9223372036854775807", "9223372036854775.807" },
		{ "-9223372036854775808", "-9223372036854775.808" },
		{ "0.5", "0.0005" }, { "1000.0", "1" }, { "-2.5e3", "-2.5" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char json[256], want[256], *got;

		snprintf(json, sizeof(json),
			 "[{\"job\": \"j\", \"dataplane\": {\"uptimeMs\": %s}}]", cases[i].ms);
		snprintf(want, sizeof(want), "\nsluice_uptime_seconds{job_name=\"j\"} %s\n",
			 cases[i].s);
		got = render_str(json);
		if (strstr(got, want) == NULL)
			fail_msg("%s ms: want \"%s\" in:\n%s", cases[i].ms, want + 1, got);
		free(got);
	}
}

static void
test_render_bad_input(void **state)
{
	static const char *const bad[] = {
		"{}", "\"x\"", "[1]", "[{}]", "[{\"job\": 1}]",
		"[{\"job\": \"a\"}, {\"state\": \"RUNNING\"}]",
	};
	char *out = NULL;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = json_loads(bad[i], JSON_DECODE_ANY, NULL);

		assert_non_null(j);
		assert_int_equal(sl_metrics_prom_render(j, &out, &len), -EINVAL);
		assert_null(out);
		json_decref(j);
	}
	assert_int_equal(sl_metrics_prom_render(NULL, &out, &len), -EINVAL);
}

/* ---- HTTP ---- */

static int body_calls;

static int
body_ok(void *arg, char **body, size_t *len)
{
	(void)arg;
	body_calls++;
	*body = strdup("sluice_x 1\n");
	*len = strlen(*body);
	return 0;
}

static int
body_fail(void *arg, char **body, size_t *len)
{
	(void)arg;
	(void)body;
	(void)len;
	body_calls++;
	return -ENOMEM;
}

struct pair {
	struct sl_metrics_http_conn c;
	int client;
};

static struct pair *
pair_new(void)
{
	struct pair *p = malloc(sizeof(*p));
	int sv[2];

	assert_non_null(p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	sl_metrics_http_conn_init(&p->c, sv[0]);
	p->client = sv[1];
	body_calls = 0;
	return p;
}

static void
pair_free(struct pair *p)
{
	if (p->client >= 0)
		close(p->client);
	sl_metrics_http_conn_close(&p->c);
	free(p);
}

static void
send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, s, n);

		assert_true(k > 0);
		s += k;
		n -= (size_t)k;
	}
}

/* Everything the server sent, up to its FIN; fails instead of hanging. */
static char *
recv_all(int fd, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);

	assert_non_null(buf);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&pfd, 1, 2000) != 1)
			fail_msg("no FIN from the responder");
		k = read(fd, buf + n, cap - n);
		assert_true(k >= 0);
		if (k == 0)
			break;
		n += (size_t)k;
		assert_true(n < cap);
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Send req in the given pieces, serving after each; return the status. */
static int
exchange(const char *const *parts, size_t n_parts, sl_metrics_body_fn fn,
	 char **resp_out)
{
	struct pair *p = pair_new();
	char *resp;
	size_t len;
	int rc = 0, status;

	for (size_t i = 0; i < n_parts; i++) {
		assert_int_equal(p->c.state, SL_METRICS_HTTP_READING);
		send_all(p->client, parts[i], strlen(parts[i]));
		rc = sl_metrics_http_serve(&p->c, fn, NULL);
		if (i + 1 < n_parts) {
			/* Incomplete: still reading, nothing answered yet. */
			assert_int_equal(rc, POLLIN);
			assert_int_equal(p->c.state, SL_METRICS_HTTP_READING);
			assert_int_equal(body_calls, 0);
		}
	}
	/* Answered in the same call; now draining until the client closes. */
	assert_int_equal(rc, POLLIN);
	assert_int_equal(p->c.state, SL_METRICS_HTTP_LINGERING);
	resp = recv_all(p->client, &len);
	assert_true(len > 12);
	assert_int_equal(sscanf(resp, "HTTP/1.1 %d ", &status), 1);
	assert_int_equal(status, p->c.status);
	assert_non_null(strstr(resp, "\r\nConnection: close\r\n"));
	/* Content-Length matches what follows the head. */
	{
		const char *cl = strstr(resp, "\r\nContent-Length: ");
		const char *body = strstr(resp, "\r\n\r\n");

		assert_non_null(cl);
		assert_non_null(body);
		assert_int_equal(strtoul(cl + 18, NULL, 10), len - (size_t)(body + 4 - resp));
	}
	close(p->client);
	p->client = -1;
	assert_int_equal(sl_metrics_http_serve(&p->c, fn, NULL), 0);
	assert_int_equal(p->c.state, SL_METRICS_HTTP_DONE);
	pair_free(p);
	if (resp_out != NULL)
		*resp_out = resp;
	else
		free(resp);
	return status;
}

static int
exchange1(const char *req)
{
	return exchange(&req, 1, body_ok, NULL);
}

static void
test_http_one_read(void **state)
{
	const char *req = "GET /metrics HTTP/1.1\r\nHost: localhost:9249\r\n"
			  "Accept: text/plain\r\n\r\n";
	char *resp;

	(void)state;
	assert_int_equal(exchange(&req, 1, body_ok, &resp), 200);
	assert_int_equal(body_calls, 1);
	assert_string_equal(resp,
		"HTTP/1.1 200 OK\r\n"
		"Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		"Content-Length: 11\r\n"
		"Connection: close\r\n"
		"\r\n"
		"sluice_x 1\n");
	free(resp);
}

static void
test_http_three_reads(void **state)
{
	/* The blank line ending the head is itself split across reads. */
	static const char *const parts[] = {
		"GET /metr", "ics HTTP/1.1\r\nHost: x\r\n\r", "\n",
	};
	static const char *const bare_lf[] = { "GET /metrics HTTP/1.0\n", "Host: x\n", "\n" };

	(void)state;
	assert_int_equal(exchange(parts, 3, body_ok, NULL), 200);
	assert_int_equal(body_calls, 1);
	assert_int_equal(exchange(bare_lf, 3, body_ok, NULL), 200);
}

/* A head of exactly SL_METRICS_HTTP_REQ_MAX bytes; fill pads a header. */
static char *
head_of(size_t size)
{
	static const char pre[] = "GET /metrics HTTP/1.1\r\nX-Pad: ", post[] = "\r\n\r\n";
	char *r = malloc(size + 1);

	assert_non_null(r);
	assert_true(size > sizeof(pre) + sizeof(post));
	memset(r, 'a', size);
	memcpy(r, pre, sizeof(pre) - 1);
	memcpy(r + size - (sizeof(post) - 1), post, sizeof(post) - 1);
	r[size] = '\0';
	return r;
}

static void
test_http_size_limit(void **state)
{
	char *at = head_of(SL_METRICS_HTTP_REQ_MAX);
	char *over = head_of(SL_METRICS_HTTP_REQ_MAX + 1);
	char *far = head_of(3 * SL_METRICS_HTTP_REQ_MAX);

	(void)state;
	assert_int_equal(exchange1(at), 200);
	assert_int_equal(exchange1(over), 400);
	assert_int_equal(body_calls, 0);
	/* The rest of an oversized request is drained, not left to reset the answer. */
	assert_int_equal(exchange1(far), 400);
	free(at);
	free(over);
	free(far);
}

static void
test_http_statuses(void **state)
{
	static const struct { const char *req; int status; } cases[] = {
		{ "GET /metrics?name[]=x HTTP/1.1\r\n\r\n", 200 },
		{ "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 404 },
		{ "GET /metricsx HTTP/1.1\r\n\r\n", 404 },
		{ "GET /metrics/ HTTP/1.1\r\n\r\n", 404 },
		{ "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 404 },
		{ "HEAD /metrics HTTP/1.1\r\n\r\n", 404 },
		{ "get /metrics HTTP/1.1\r\n\r\n", 404 },
		{ "garbage\r\n\r\n", 400 },
		{ "\r\n\r\n", 400 },
		{ "GET /metrics\r\n\r\n", 400 },
		{ "GET  /metrics HTTP/1.1\r\n\r\n", 400 },
		{ "GET /metrics HTTP/2.0\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.1 x\r\n\r\n", 400 },
		{ "G(T /metrics HTTP/1.1\r\n\r\n", 400 },
		{ "GET /met\trics HTTP/1.1\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n", 400 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st = exchange1(cases[i].req);

		if (st != cases[i].status)
			fail_msg("%zu: got %d want %d", i, st, cases[i].status);
	}
}

static void
test_http_body_fails(void **state)
{
	const char *req = "GET /metrics HTTP/1.1\r\n\r\n";

	(void)state;
	assert_int_equal(exchange(&req, 1, body_fail, NULL), 500);
	assert_int_equal(body_calls, 1);
}

static void
test_http_eof(void **state)
{
	struct pair *p = pair_new();
	char *resp;
	size_t len;

	(void)state;
	/* Connects and leaves: done, nothing sent. */
	shutdown(p->client, SHUT_WR);
	assert_int_equal(sl_metrics_http_serve(&p->c, body_ok, NULL), 0);
	assert_int_equal(p->c.state, SL_METRICS_HTTP_DONE);
	sl_metrics_http_conn_close(&p->c);
	resp = recv_all(p->client, &len);
	assert_int_equal(len, 0);
	free(resp);
	pair_free(p);

	/* Half a request, then EOF: 400. */
	p = pair_new();
	send_all(p->client, "GET /metrics HTTP/1.1\r\n", 23);
	assert_int_equal(sl_metrics_http_serve(&p->c, body_ok, NULL), POLLIN);
	shutdown(p->client, SHUT_WR);
	assert_int_equal(sl_metrics_http_serve(&p->c, body_ok, NULL), 0);
	resp = recv_all(p->client, &len);
	assert_memory_equal(resp, "HTTP/1.1 400 ", 13);
	assert_int_equal(body_calls, 0);
	free(resp);
	pair_free(p);

	/* Silent: nothing to do until it speaks. */
	p = pair_new();
	assert_int_equal(sl_metrics_http_serve(&p->c, body_ok, NULL), POLLIN);
	assert_int_equal(p->c.state, SL_METRICS_HTTP_READING);
	pair_free(p);
}

/* The whole path as sluiced runs it: listen, poll, accept, serve. */
static void
test_http_tcp(void **state)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	struct sl_metrics_http_conn c;
	struct pollfd pfd;
	int lfd, cfd, r;
	const char *req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	char *resp;
	size_t len;

	(void)state;
	assert_int_equal(sl_metrics_http_listen("localhost", 0), -EINVAL);
	assert_int_equal(sl_metrics_http_listen("[::1", 0), -EINVAL);
	lfd = sl_metrics_http_listen(NULL, 0);
	assert_true(lfd >= 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	assert_int_equal(a.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	assert_int_equal(sl_metrics_http_accept(lfd, &c), -EAGAIN);

	cfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(cfd >= 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&a, alen), 0);
	send_all(cfd, req, strlen(req));

	pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(sl_metrics_http_accept(lfd, &c), 0);
	body_calls = 0;
	for (r = POLLIN; r > 0;) {
		pfd = (struct pollfd){ .fd = c.fd, .events = (short)r };
		assert_int_equal(poll(&pfd, 1, 2000), 1);
		r = sl_metrics_http_serve(&c, body_ok, NULL);
		if (c.state == SL_METRICS_HTTP_LINGERING && cfd >= 0) {
			resp = recv_all(cfd, &len);
			assert_memory_equal(resp, "HTTP/1.1 200 OK\r\n", 17);
			assert_string_equal(resp + len - 11, "sluice_x 1\n");
			free(resp);
			close(cfd);
			cfd = -1;
		}
	}
	assert_int_equal(r, 0);
	assert_int_equal(cfd, -1);
	assert_int_equal(body_calls, 1);
	sl_metrics_http_conn_close(&c);
	close(lfd);

	/* IPv6 literals, bracketed or not, where the host has IPv6. */
	lfd = sl_metrics_http_listen("[::1]", 0);
	if (lfd != -EADDRNOTAVAIL && lfd != -EAFNOSUPPORT) {
		assert_true(lfd >= 0);
		close(lfd);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_canned),
		cmocka_unit_test(test_render_order),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_render_empty),
		cmocka_unit_test(test_render_nulls),
		cmocka_unit_test(test_render_ms),
		cmocka_unit_test(test_render_bad_input),
		cmocka_unit_test(test_http_one_read),
		cmocka_unit_test(test_http_three_reads),
		cmocka_unit_test(test_http_size_limit),
		cmocka_unit_test(test_http_statuses),
		cmocka_unit_test(test_http_body_fails),
		cmocka_unit_test(test_http_eof),
		cmocka_unit_test(test_http_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
