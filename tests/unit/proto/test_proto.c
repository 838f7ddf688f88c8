/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: the control protocol (control/proto). Request parsing
 * accepts the documented shape and rejects everything else with the exact
 * code and message a client will see; requests and replies round-trip;
 * the line buffer splits lines across reads, takes several from one read,
 * refuses a line over its limit and handles EOF, over a socketpair; the
 * blocking client reports a missing socket, a refused one and a silent
 * server as the errors sluicectl maps to its exit codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_proto.h"

static enum sl_proto_code
parse(const char *line, struct sl_proto_req *req, char *msg)
{
	return sl_proto_req_parse(line, strlen(line), req, msg, 256);
}

static void
test_parse_ok(void **state)
{
	struct sl_proto_req req;
	char msg[256] = "";

	(void)state;
	assert_int_equal(parse("{\"v\":1,\"id\":7,\"verb\":\"status\",\"args\":{\"job\":\"clicks\"}}",
			       &req, msg), SL_PROTO_OK);
	assert_int_equal(req.id, 7);
	assert_int_equal(req.verb, SL_PROTO_VERB_STATUS);
	assert_string_equal(sl_proto_arg_str(&req, "job"), "clicks");
	assert_null(sl_proto_arg_str(&req, "dir"));
	sl_proto_req_free(&req);
	assert_null(req.root);

	/* id and args are optional; args is then an empty object. */
	assert_int_equal(parse("{\"verb\":\"list\",\"v\":1}", &req, msg), SL_PROTO_OK);
	assert_int_equal(req.id, 0);
	assert_int_equal(req.verb, SL_PROTO_VERB_LIST);
	assert_true(json_is_object(req.args));
	assert_int_equal(json_object_size(req.args), 0);
	sl_proto_req_free(&req);

	/* Non-string args read as absent. */
	assert_int_equal(parse("{\"v\":1,\"verb\":\"status\",\"args\":{\"job\":3}}", &req, msg),
			 SL_PROTO_OK);
	assert_null(sl_proto_arg_str(&req, "job"));
	sl_proto_req_free(&req);

	/* Largest id. */
	assert_int_equal(parse("{\"v\":1,\"id\":9223372036854775807,\"verb\":\"version\"}", &req, msg),
			 SL_PROTO_OK);
	assert_true(req.id == INT64_MAX);
	sl_proto_req_free(&req);
}

static void
reject(const char *line, enum sl_proto_code code, const char *want_msg,
       uint64_t want_id)
{
	struct sl_proto_req req;
	char msg[256] = "";

	assert_int_equal(parse(line, &req, msg), code);
	assert_string_equal(msg, want_msg);
	assert_int_equal(req.id, want_id);
	/* A failed parse owns nothing: no leak whether or not it is freed. */
	assert_null(req.root);
	sl_proto_req_free(&req);
}

static void
test_parse_reject(void **state)
{
	(void)state;
	reject("{\"v\":1,", SL_PROTO_BAD_REQUEST,
	       "not JSON at column 7: string or '}' expected near end of file", 0);
	reject("", SL_PROTO_BAD_REQUEST,
	       "not JSON at column 0: '[' or '{' expected near end of file", 0);
	reject("{\"v\":1,\"verb\":\"list\"} x", SL_PROTO_BAD_REQUEST,
	       "not JSON at column 23: end of file expected near 'x'", 0);
	reject("[1,2]", SL_PROTO_BAD_REQUEST, "a request is a JSON object", 0);
	reject("{\"id\":3,\"verb\":\"list\"}", SL_PROTO_BAD_REQUEST,
	       "'v' must be 1 (this server's protocol version)", 3);
	reject("{\"v\":2,\"id\":4,\"verb\":\"list\"}", SL_PROTO_BAD_REQUEST,
	       "'v' must be 1 (this server's protocol version)", 4);
	reject("{\"v\":\"1\",\"verb\":\"list\"}", SL_PROTO_BAD_REQUEST,
	       "'v' must be 1 (this server's protocol version)", 0);
	reject("{\"v\":1,\"id\":5,\"verb\":\"frobnicate\"}", SL_PROTO_UNKNOWN_VERB,
	       "unknown verb 'frobnicate'", 5);
	reject("{\"v\":1,\"id\":6,\"verb\":7}", SL_PROTO_BAD_REQUEST,
	       "'verb' must be a string", 6);
	reject("{\"v\":1,\"id\":6}", SL_PROTO_BAD_REQUEST, "'verb' must be a string", 6);
	reject("{\"v\":1,\"id\":8,\"verb\":\"status\",\"args\":[\"clicks\"]}",
	       SL_PROTO_BAD_REQUEST, "'args' must be an object", 8);
	reject("{\"v\":1,\"verb\":\"status\",\"args\":null}", SL_PROTO_BAD_REQUEST,
	       "'args' must be an object", 0);
	reject("{\"v\":1,\"v\":1,\"verb\":\"list\"}", SL_PROTO_BAD_REQUEST,
	       "not JSON at column 10: duplicate object key near '\"v\"'", 0);
	reject("{\"v\":1,\"verb\":\"status\",\"args\":{\"job\":\"a\",\"job\":\"b\"}}",
	       SL_PROTO_BAD_REQUEST,
	       "not JSON at column 46: duplicate object key near '\"job\"'", 0);
	reject("{\"v\":1,\"id\":-1,\"verb\":\"list\"}", SL_PROTO_BAD_REQUEST,
	       "'id' must be a non-negative integer", 0);
	reject("{\"v\":1,\"id\":1.5,\"verb\":\"list\"}", SL_PROTO_BAD_REQUEST,
	       "'id' must be a non-negative integer", 0);
	/* A NUL inside the line is not JSON text. */
	{
		struct sl_proto_req req;
		char msg[256];
		static const char nul[] = "{\"v\":1,\"verb\":\"li\0st\"}";

		assert_int_equal(sl_proto_req_parse(nul, sizeof(nul) - 1, &req, msg,
						    sizeof(msg)), SL_PROTO_BAD_REQUEST);
		assert_null(req.root);
	}
	/* A long unknown verb is cut in the message, which stays bounded. */
	{
		char line[512], want[128];
		char v[200];

		memset(v, 'x', sizeof(v) - 1);
		v[sizeof(v) - 1] = '\0';
		snprintf(line, sizeof(line), "{\"v\":1,\"verb\":\"%s\"}", v);
		snprintf(want, sizeof(want), "unknown verb '%.64s'", v);
		reject(line, SL_PROTO_UNKNOWN_VERB, want, 0);
	}
}

static void
test_round_trip(void **state)
{
	struct sl_proto_req req;
	json_error_t jerr;
	char msg[256], *line;
	size_t len;
	json_t *r;

	(void)state;
	/* Every verb of the table survives request -> line -> parse. */
	for (int v = 0; v < SL_PROTO_VERB__COUNT; v++) {
		line = sl_proto_request((uint64_t)v + 100, (enum sl_proto_verb)v,
					json_pack("{s:s}", "job", "j"), &len);
		assert_non_null(line);
		assert_int_equal(line[len - 1], '\n');
		assert_int_equal(strlen(line), len);
		assert_int_equal(sl_proto_req_parse(line, len - 1, &req, msg, sizeof(msg)),
				 SL_PROTO_OK);
		assert_int_equal(req.verb, v);
		assert_int_equal(req.id, v + 100);
		assert_string_equal(sl_proto_arg_str(&req, "job"), "j");
		assert_int_equal(sl_proto_verb_find(sl_proto_verbs[v].name), v);
		sl_proto_req_free(&req);
		free(line);
	}
	assert_int_equal(sl_proto_verb_find("nope"), -1);

	/* The wire form is compact with sorted keys: exact bytes. */
	line = sl_proto_request(1, SL_PROTO_VERB_LIST, NULL, &len);
	assert_string_equal(line, "{\"args\":{},\"id\":1,\"v\":1,\"verb\":\"list\"}\n");
	free(line);
	line = sl_proto_reply(3, SL_PROTO_OK, NULL, json_pack("{s:i}", "a", 1), &len);
	assert_string_equal(line,
		"{\"code\":\"ok\",\"data\":{\"a\":1},\"id\":3,\"msg\":\"done\",\"ok\":true,\"v\":1}\n");
	assert_int_equal(len, strlen(line));
	free(line);

	/* Every code: name, description, reply, and back. */
	for (int c = 0; c < SL_PROTO__CODE_COUNT; c++) {
		line = sl_proto_reply(9, (enum sl_proto_code)c, c ? "why" : NULL, NULL, &len);
		r = json_loadb(line, len - 1, JSON_REJECT_DUPLICATES, &jerr);
		assert_non_null(r);
		assert_int_equal(json_integer_value(json_object_get(r, "v")), SL_PROTO_VERSION);
		assert_int_equal(json_integer_value(json_object_get(r, "id")), 9);
		assert_true(json_is_true(json_object_get(r, "ok")) == (c == SL_PROTO_OK));
		assert_string_equal(json_string_value(json_object_get(r, "code")),
				    sl_proto_code_name((enum sl_proto_code)c));
		assert_string_equal(json_string_value(json_object_get(r, "msg")),
				    c ? "why" : sl_proto_code_desc(SL_PROTO_OK));
		assert_null(json_object_get(r, "data"));
		assert_int_equal(sl_proto_code_find(sl_proto_code_name((enum sl_proto_code)c)), c);
		json_decref(r);
		free(line);
	}
	assert_int_equal(sl_proto_code_find("nope"), -1);
	assert_string_equal(sl_proto_code_name((enum sl_proto_code)999), "internal");
}

/* A socketpair whose read end is non-blocking, like a server's client fd. */
static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
}

static void
put(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void
test_lbuf_split(void **state)
{
	struct sl_proto_lbuf b;
	char *line;
	int sv[2];

	(void)state;
	pair(sv);
	assert_int_equal(sl_proto_lbuf_init(&b, 64), 0);
	assert_int_equal(sl_proto_lbuf_read(&b, sv[0]), -EAGAIN);
	assert_int_equal(sl_proto_lbuf_line(&b, &line), -EAGAIN);
	/* One line over three reads. */
	put(sv[1], "{\"v\"");
	assert_int_equal(sl_proto_lbuf_read(&b, sv[0]), 4);
	assert_int_equal(sl_proto_lbuf_line(&b, &line), -EAGAIN);
	put(sv[1], ":1");
	assert_int_equal(sl_proto_lbuf_read(&b, sv[0]), 2);
	assert_int_equal(sl_proto_lbuf_line(&b, &line), -EAGAIN);
	put(sv[1], "}\nne");
	assert_int_equal(sl_proto_lbuf_read(&b, sv[0]), 4);
	assert_int_equal(sl_proto_lbuf_line(&b, &line), 7);
	assert_string_equal(line, "{\"v\":1}");
	/* The rest of the next line stays. */
	assert_int_equal(sl_proto_lbuf_line(&b, &line), -EAGAIN);
	put(sv[1], "xt\n");
	assert_int_equal(sl_proto_lbuf_read(&b, sv[0]), 3);
	assert_int_equal(sl_proto_lbuf_line(&b, &line), 4);
	assert_string_equal(line, "next");
	assert_int_equal(sl_proto_lbuf_line(&b, &line), -EAGAIN);

	/* Several lines in one read, an empty one among them. */
	put(sv[1], "a\nbb\n\nccc\nd");
	assert_int_equal(sl_proto_lbuf_read(&b, sv[0]), 11);
	assert_int_equal(sl_proto_lbuf_line(&b, &line), 1);
	assert_string_equal(line, "a");
	assert_int_equal(sl_proto_lbuf_line(&b, &line), 2);
	assert_string_equal(line, "bb");
	assert_int_equal(sl_proto_lbuf_line(&b, &line), 0);
	assert_string_equal(line, "");
	assert_int_equal(sl_proto_lbuf_line(&b, &line), 3);
	assert_string_equal(line, "ccc");
	assert_int_equal(sl_proto_lbuf_line(&b, &line), -EAGAIN);

	/* EOF: the half line stays pending, read says 0. */
	close(sv[1]);
	assert_int_equal(sl_proto_lbuf_read(&b, sv[0]), 0);
	assert_int_equal(sl_proto_lbuf_line(&b, &line), -EAGAIN);
	assert_int_equal(b.len - b.taken, 1);
	close(sv[0]);
	sl_proto_lbuf_fini(&b);
}

static void
test_lbuf_max(void **state)
{
	struct sl_proto_lbuf b;
	char big[200], *line;
	int sv[2];

	(void)state;
	/* max counts the newline: 15 bytes + '\n' is the longest line of 16. */
	pair(sv);
	assert_int_equal(sl_proto_lbuf_init(&b, 16), 0);
	put(sv[1], "123456789012345\n");
	assert_int_equal(sl_proto_lbuf_read(&b, sv[0]), 16);
	assert_int_equal(sl_proto_lbuf_line(&b, &line), 15);
	put(sv[1], "1234567890123456\n");
	assert_int_equal(sl_proto_lbuf_read(&b, sv[0]), 17);
	assert_int_equal(sl_proto_lbuf_line(&b, &line), -E2BIG);
	close(sv[0]);
	close(sv[1]);
	sl_proto_lbuf_fini(&b);

	/* Without a newline: too long as soon as max bytes are pending. */
	pair(sv);
	assert_int_equal(sl_proto_lbuf_init(&b, 16), 0);
	put(sv[1], "123456789012345");
	assert_int_equal(sl_proto_lbuf_read(&b, sv[0]), 15);
	assert_int_equal(sl_proto_lbuf_line(&b, &line), -EAGAIN);
	put(sv[1], "6");
	assert_int_equal(sl_proto_lbuf_read(&b, sv[0]), 1);
	assert_int_equal(sl_proto_lbuf_line(&b, &line), -E2BIG);
	close(sv[0]);
	close(sv[1]);
	sl_proto_lbuf_fini(&b);

	/* A limit above the initial capacity: the buffer grows up to
	 * max + 1 and no further; reading more is refused. */
	pair(sv);
	assert_int_equal(sl_proto_lbuf_init(&b, 10000), 0);
	memset(big, 'x', sizeof(big));
	for (int i = 0; i < 60; i++)
		assert_int_equal(write(sv[1], big, sizeof(big)), (ssize_t)sizeof(big));
	for (;;) {
		ssize_t n = sl_proto_lbuf_read(&b, sv[0]);

		if (n == -E2BIG)
			break;
		assert_true(n > 0);
		assert_true(b.cap <= 10001);
	}
	assert_int_equal(b.len, 10001);
	assert_int_equal(sl_proto_lbuf_line(&b, &line), -E2BIG);
	close(sv[0]);
	close(sv[1]);
	sl_proto_lbuf_fini(&b);
}

static void
sock_path(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "/tmp/sl-test-proto-%d-%s.sock", (int)getpid(), tag);
}

static void
test_call_errors(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[108], longp[200];
	json_t *reply = (json_t *)1;
	struct timespec t0, t1;
	int fd;

	(void)state;
	sock_path(path, sizeof(path), "missing");
	unlink(path);
	assert_int_equal(sl_proto_call(path, SL_PROTO_VERB_LIST, NULL, 500, &reply), -ENOENT);
	assert_null(reply);

	/* A socket file nobody listens on. */
	sock_path(path, sizeof(path), "refused");
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(sl_proto_call(path, SL_PROTO_VERB_LIST, NULL, 500, &reply),
			 -ECONNREFUSED);
	close(fd);
	unlink(path);

	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(sl_proto_call(longp, SL_PROTO_VERB_LIST, json_object(), 500, &reply),
			 -ENAMETOOLONG);

	/* A server that accepts (the backlog does) and never answers. */
	sock_path(path, sizeof(path), "silent");
	fd = sl_proto_listen(path, 0600);
	assert_true(fd >= 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(sl_proto_call(path, SL_PROTO_VERB_LIST, NULL, 200, &reply), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 2000);
	close(fd);
	unlink(path);
}

/* A one-shot server in a child: read one request line, answer it. */
static void
serve_one(int lfd, const char *answer)
{
	struct sl_proto_lbuf b;
	int c;
	char *line;

	while ((c = accept(lfd, NULL, NULL)) < 0)
		poll(&(struct pollfd){ .fd = lfd, .events = POLLIN }, 1, 100);
	fcntl(c, F_SETFL, O_NONBLOCK);
	sl_proto_lbuf_init(&b, SL_PROTO_LINE_MAX);
	for (;;) {
		ssize_t n = sl_proto_lbuf_read(&b, c);
		ssize_t l;

		if (n == 0)
			_exit(1);
		l = sl_proto_lbuf_line(&b, &line);
		if (l >= 0) {
			struct sl_proto_req req;
			char msg[256], *out;
			size_t len;
			enum sl_proto_code code = sl_proto_req_parse(line, (size_t)l, &req,
								     msg, sizeof(msg));

			if (answer != NULL) {
				if (write(c, answer, strlen(answer)) < 0)
					_exit(2);
			} else {
				out = sl_proto_reply(req.id, code == SL_PROTO_OK ?
						     SL_PROTO_NO_SUCH_JOB : code,
						     "no job named 'x'",
						     json_pack("{s:s}", "echo",
							       sl_proto_verbs[req.verb].name),
						     &len);
				if (write(c, out, len) < 0)
					_exit(2);
				free(out);
			}
			sl_proto_req_free(&req);
			_exit(0);
		}
		poll(&(struct pollfd){ .fd = c, .events = POLLIN }, 1, 1000);
	}
}

static void
test_call_round_trip(void **state)
{
	char path[108];
	json_t *reply;
	pid_t pid;
	int fd, st;

	(void)state;
	sock_path(path, sizeof(path), "served");
	fd = sl_proto_listen(path, 0600);
	assert_true(fd >= 0);
	pid = fork();
	if (pid == 0)
		serve_one(fd, NULL);
	assert_int_equal(sl_proto_call(path, SL_PROTO_VERB_STATUS,
				       json_pack("{s:s}", "job", "x"), 5000, &reply), 0);
	assert_false(json_is_true(json_object_get(reply, "ok")));
	assert_string_equal(json_string_value(json_object_get(reply, "code")), "no_such_job");
	assert_string_equal(json_string_value(json_object_get(reply, "msg")), "no job named 'x'");
	assert_string_equal(json_string_value(json_object_get(json_object_get(reply, "data"),
							      "echo")), "status");
	json_decref(reply);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* A reply that is not protocol. */
	pid = fork();
	if (pid == 0)
		serve_one(fd, "hello\n");
	assert_int_equal(sl_proto_call(path, SL_PROTO_VERB_LIST, NULL, 5000, &reply), -EPROTO);
	assert_null(reply);
	waitpid(pid, &st, 0);

	/* A server that refuses before reading (busy, permission): its
	 * reply wins over the EPIPE of our write. */
	pid = fork();
	if (pid == 0) {
		char *out;
		size_t len;
		int c;

		while ((c = accept(fd, NULL, NULL)) < 0)
			poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 100);
		out = sl_proto_reply(0, SL_PROTO_BUSY, "too many clients; retry", NULL, &len);
		if (write(c, out, len) < 0)
			_exit(2);
		close(c);
		_exit(0);
	}
	assert_int_equal(sl_proto_call(path, SL_PROTO_VERB_LIST, NULL, 5000, &reply), 0);
	waitpid(pid, &st, 0);
	assert_string_equal(json_string_value(json_object_get(reply, "code")), "busy");
	json_decref(reply);
	close(fd);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_reject),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_lbuf_split),
		cmocka_unit_test(test_lbuf_max),
		cmocka_unit_test(test_call_errors),
		cmocka_unit_test(test_call_round_trip),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
