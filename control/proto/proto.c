/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sl_proto.h"

const struct sl_proto_verb_info sl_proto_verbs[SL_PROTO_VERB__COUNT] = {
#define SL_PROTO_X(e, n, w, a, h) [SL_PROTO_VERB_##e] = { n, w, a, h },
	SL_PROTO_VERBS(SL_PROTO_X)
#undef SL_PROTO_X
};

static const char *const code_names[] = {
#define SL_PROTO_X(e, n, d) n,
	SL_PROTO_CODES(SL_PROTO_X)
#undef SL_PROTO_X
};

static const char *const code_descs[] = {
#define SL_PROTO_X(e, n, d) d,
	SL_PROTO_CODES(SL_PROTO_X)
#undef SL_PROTO_X
};

int
sl_proto_verb_find(const char *name)
{
	for (int i = 0; i < SL_PROTO_VERB__COUNT; i++)
		if (strcmp(sl_proto_verbs[i].name, name) == 0)
			return i;
	return -1;
}

const char *
sl_proto_code_name(enum sl_proto_code c)
{
	return (unsigned int)c < SL_PROTO__CODE_COUNT ? code_names[c] : "internal";
}

const char *
sl_proto_code_desc(enum sl_proto_code c)
{
	return (unsigned int)c < SL_PROTO__CODE_COUNT ? code_descs[c] : "?";
}

int
sl_proto_code_find(const char *name)
{
	for (int i = 0; i < SL_PROTO__CODE_COUNT; i++)
		if (strcmp(code_names[i], name) == 0)
			return i;
	return -1;
}

enum sl_proto_code
sl_proto_req_parse(const char *line, size_t len, struct sl_proto_req *req,
		   char *msg, size_t msglen)
{
	json_error_t jerr;
	enum sl_proto_code code = SL_PROTO_BAD_REQUEST;
	json_t *v, *id, *verb, *args;
	int vi;

	memset(req, 0, sizeof(*req));
	req->root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req->root == NULL) {
		snprintf(msg, msglen, "not JSON at column %d: %s", jerr.column,
			 jerr.text);
		return SL_PROTO_BAD_REQUEST;
	}
	if (!json_is_object(req->root)) {
		snprintf(msg, msglen, "a request is a JSON object");
		goto bad;
	}
	id = json_object_get(req->root, "id");
	if (id != NULL) {
		if (!json_is_integer(id) || json_integer_value(id) < 0) {
			snprintf(msg, msglen, "'id' must be a non-negative integer");
			goto bad;
		}
		req->id = (uint64_t)json_integer_value(id);
	}
	v = json_object_get(req->root, "v");
	if (!json_is_integer(v) || json_integer_value(v) != SL_PROTO_VERSION) {
		snprintf(msg, msglen, "'v' must be %d (this server's protocol version)",
			 SL_PROTO_VERSION);
		goto bad;
	}
	verb = json_object_get(req->root, "verb");
	if (!json_is_string(verb)) {
		snprintf(msg, msglen, "'verb' must be a string");
		goto bad;
	}
	vi = sl_proto_verb_find(json_string_value(verb));
	if (vi < 0) {
		snprintf(msg, msglen, "unknown verb '%.64s'", json_string_value(verb));
		code = SL_PROTO_UNKNOWN_VERB;
		goto bad;
	}
	req->verb = (enum sl_proto_verb)vi;
	args = json_object_get(req->root, "args");
	if (args == NULL) {
		args = json_object();
		if (args == NULL || json_object_set_new(req->root, "args", args) != 0) {
			snprintf(msg, msglen, "out of memory");
			code = SL_PROTO_INTERNAL;
			goto bad;
		}
	} else if (!json_is_object(args)) {
		snprintf(msg, msglen, "'args' must be an object");
		goto bad;
	}
	req->args = args;
	return SL_PROTO_OK;
bad:
	/* A failed parse owns nothing, so a caller that only frees on
	 * success leaks nothing; the id stays for the error reply. */
	json_decref(req->root);
	req->root = NULL;
	return code;
}

void
sl_proto_req_free(struct sl_proto_req *req)
{
	json_decref(req->root);
	memset(req, 0, sizeof(*req));
}

const char *
sl_proto_arg_str(const struct sl_proto_req *req, const char *key)
{
	json_t *a = req->args ? json_object_get(req->args, key) : NULL;

	return json_is_string(a) ? json_string_value(a) : NULL;
}

static char *
dump_line(json_t *o, size_t *len)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	size_t n;
	char *line;

	json_decref(o);
	if (s == NULL)
		return NULL;
	n = strlen(s);
	line = realloc(s, n + 2);
	if (line == NULL) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*len = n + 1;
	return line;
}

char *
sl_proto_reply(uint64_t id, enum sl_proto_code code, const char *msg,
	       json_t *data, size_t *len)
{
	json_t *o = json_object();

	json_object_set_new(o, "v", json_integer(SL_PROTO_VERSION));
	json_object_set_new(o, "id", json_integer((json_int_t)id));
	json_object_set_new(o, "ok", json_boolean(code == SL_PROTO_OK));
	json_object_set_new(o, "code", json_string(sl_proto_code_name(code)));
	json_object_set_new(o, "msg", json_string(msg ? msg : sl_proto_code_desc(code)));
	if (data != NULL)
		json_object_set_new(o, "data", data);
	return dump_line(o, len);
}

char *
sl_proto_request(uint64_t id, enum sl_proto_verb verb, json_t *args,
		 size_t *len)
{
	json_t *o = json_object();

	json_object_set_new(o, "v", json_integer(SL_PROTO_VERSION));
	json_object_set_new(o, "id", json_integer((json_int_t)id));
	json_object_set_new(o, "verb", json_string(sl_proto_verbs[verb].name));
	json_object_set_new(o, "args", args ? args : json_object());
	return dump_line(o, len);
}

int
sl_proto_lbuf_init(struct sl_proto_lbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
	b->cap = 4096;
	b->buf = malloc(b->cap);
	return b->buf ? 0 : -ENOMEM;
}

void
sl_proto_lbuf_fini(struct sl_proto_lbuf *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

/* Drop the line handed out by the previous sl_proto_lbuf_line(). */
static void
lbuf_compact(struct sl_proto_lbuf *b)
{
	if (b->taken == 0)
		return;
	memmove(b->buf, b->buf + b->taken, b->len - b->taken);
	b->len -= b->taken;
	b->taken = 0;
}

ssize_t
sl_proto_lbuf_read(struct sl_proto_lbuf *b, int fd)
{
	ssize_t n;

	lbuf_compact(b);
	if (b->cap - b->len < 2048 && b->cap < b->max + 1) {
		size_t cap = b->cap * 2 > b->max + 1 ? b->max + 1 : b->cap * 2;
		char *p = realloc(b->buf, cap);

		if (p == NULL)
			return -ENOMEM;
		b->buf = p;
		b->cap = cap;
	}
	if (b->cap == b->len)
		return -E2BIG;
	n = read(fd, b->buf + b->len, b->cap - b->len);
	if (n < 0)
		return -errno;
	b->len += (size_t)n;
	return n;
}

ssize_t
sl_proto_lbuf_line(struct sl_proto_lbuf *b, char **line)
{
	char *nl;
	size_t n;

	lbuf_compact(b);
	nl = memchr(b->buf, '\n', b->len);
	/* Without its newline a pending line of max bytes is already too
	 * long: say so now instead of after one more read. */
	if (nl == NULL)
		return b->len >= b->max ? -E2BIG : -EAGAIN;
	n = (size_t)(nl - b->buf);
	if (n + 1 > b->max)
		return -E2BIG;
	*nl = '\0';
	*line = b->buf;
	b->taken = n + 1;
	return (ssize_t)n;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
sl_proto_call(const char *path, enum sl_proto_verb verb, json_t *args,
	      int timeout_ms, json_t **reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = now_ms() + timeout_ms;
	size_t len, off = 0, got = 0;
	char *req, *buf = NULL;
	struct timeval tv;
	json_error_t jerr;
	int fd, rc = 0;

	*reply = NULL;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		json_decref(args);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	req = sl_proto_request(1, verb, args, &len);
	if (req == NULL)
		return -ENOMEM;
	if (len > SL_PROTO_LINE_MAX) {
		/* The server would refuse it; fail here with a clear reason. */
		rc = -EMSGSIZE;
		fd = -1;
		goto out;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	/* A unix connect() to a server whose backlog is full, and a write to
	 * one that stopped reading, block for SO_SNDTIMEO: bound both by the
	 * deadline (they then fail with EAGAIN, reported as a timeout). */
	tv.tv_sec = timeout_ms > 0 ? timeout_ms / 1000 : 0;
	tv.tv_usec = timeout_ms > 0 ? (timeout_ms % 1000) * 1000 : 1000;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
		goto out;
	}
	while (off < len) {
		/* MSG_NOSIGNAL: a server that closed on us is an error to
		 * report, not a SIGPIPE that kills the client. */
		ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
			/* A server that refuses a client (busy, permission)
			 * replies and closes before reading: its reply is
			 * worth more than our EPIPE. */
			if (rc == -EPIPE || rc == -ECONNRESET)
				break;
			goto out;
		}
		off += (size_t)n;
	}
	buf = malloc(SL_PROTO_LINE_MAX);
	if (buf == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (left <= 0) {
			rc = -ETIMEDOUT;
			goto out;
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(fd, buf + got, SL_PROTO_LINE_MAX - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (rc == 0)
				rc = n == 0 ? -EPROTO : -errno;
			goto out;
		}
		got += (size_t)n;
		if (memchr(buf + got - n, '\n', (size_t)n) != NULL)
			break;
		if (got == SL_PROTO_LINE_MAX) {
			rc = -EPROTO;
			goto out;
		}
	}
	*reply = json_loadb(buf, (size_t)((char *)memchr(buf, '\n', got) - buf), 0, &jerr);
	if (*reply == NULL || !json_is_object(*reply)) {
		json_decref(*reply);
		*reply = NULL;
		rc = -EPROTO;
	} else {
		rc = 0;
	}
out:
	if (fd >= 0)
		close(fd);
	free(req);
	free(buf);
	return rc;
}

/*
 * Is something already at the socket path? @return 0 (nothing there),
 * 1 (a stale socket: nobody accepts, unlink it), -EADDRINUSE (a live
 * server answers: never steal its path), -EEXIST (not a socket: not
 * ours to delete), or another -errno.
 */
static int
listen_probe(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	/* Non-blocking: a live server with a full backlog says EAGAIN. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		rc = -EADDRINUSE;
	else if (errno == ECONNREFUSED)
		rc = 1;
	else if (errno == ENOENT)
		rc = 0;		/* removed meanwhile */
	else if (errno == EAGAIN || errno == EINPROGRESS)
		rc = -EADDRINUSE;
	else
		rc = -errno;
	close(fd);
	return rc;
}

int
sl_proto_listen(const char *path, unsigned int mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	e = listen_probe(&sa);
	if (e < 0)
		return e;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (e > 0)
		unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, mode) != 0 || listen(fd, 64) != 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}
