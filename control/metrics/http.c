/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN
 *
 * One request per connection, answered and closed: Prometheus opens a
 * connection per scrape anyway, and without keep-alive there is no request
 * framing to get wrong. Each connection is a three-step state machine the
 * poll loop drives with sl_metrics_http_serve():
 *
 *   READING    recv into a fixed 8 KiB buffer until the blank line that
 *              ends the head; a full buffer without it is a 400. A body,
 *              if any, is never read (GET has none).
 *   WRITING    the whole answer sits in one malloc'd buffer (status line,
 *              headers, body), sent with MSG_NOSIGNAL (a client gone away
 *              must not kill sluiced with SIGPIPE) as the socket accepts.
 *   LINGERING  shutdown(SHUT_WR), then read and discard until the client
 *              closes (bounded by LINGER_MAX). Closing a socket that still
 *              has unread input makes the kernel send RST, and the client
 *              may then lose the answer it had not read yet: the case of a
 *              400 to an oversized request that is still arriving.
 *
 * Each step moves on at once when the socket allows, so a client that
 * sends its request in one packet is answered within a single call.
 * Nothing here keeps time: a client that stalls in any step is the poll
 * loop's to close (see sl_metrics.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sl_metrics.h"

/* Input discarded after the answer before giving up on a clean close. */
#define LINGER_MAX (64u * 1024)

int
sl_metrics_http_listen(const char *addr, uint16_t port)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} a;
	char host[INET6_ADDRSTRLEN + 2];
	socklen_t alen;
	int fd, rc, one = 1;
	size_t n;

	if (addr == NULL || addr[0] == '\0')
		addr = SL_METRICS_HTTP_DEFAULT_ADDR;
	/* "[::1]" as in URLs is accepted as well as "::1". */
	n = strlen(addr);
	if (n >= sizeof(host))
		return -EINVAL;
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
		memcpy(host, addr + 1, n - 2);
		host[n - 2] = '\0';
	} else {
		memcpy(host, addr, n + 1);
	}
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, host, &a.in.sin_addr) == 1) {
		a.in.sin_family = AF_INET;
		a.in.sin_port = htons(port);
		alen = sizeof(a.in);
	} else if (inet_pton(AF_INET6, host, &a.in6.sin6_addr) == 1) {
		a.in6.sin6_family = AF_INET6;
		a.in6.sin6_port = htons(port);
		alen = sizeof(a.in6);
	} else {
		return -EINVAL;
	}
	fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A restarted sluiced must rebind while old connections sit in TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, &a.sa, alen) < 0 || listen(fd, 16) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

void
sl_metrics_http_conn_init(struct sl_metrics_http_conn *c, int fd)
{
	int fl = fcntl(fd, F_GETFL);

	/* A blocking socket would stall the poll loop on a slow client. */
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	c->fd = fd;
	c->state = SL_METRICS_HTTP_READING;
	c->status = 0;
	c->req_len = 0;
	c->resp = NULL;
	c->resp_len = 0;
	c->resp_off = 0;
	c->drained = 0;
}

int
sl_metrics_http_accept(int lfd, struct sl_metrics_http_conn *c)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	sl_metrics_http_conn_init(c, fd);
	return 0;
}

void
sl_metrics_http_conn_close(struct sl_metrics_http_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->resp);
	c->resp = NULL;
	c->state = SL_METRICS_HTTP_DONE;
}

/* Does req hold the blank line ending the head? Only new bytes are scanned. */
static bool
head_complete(const struct sl_metrics_http_conn *c, size_t old)
{
	const char *r = c->req;
	size_t i = old >= 3 ? old - 3 : 0;

	for (; i + 1 < c->req_len; i++) {
		if (r[i] != '\n')
			continue;
		if (r[i + 1] == '\n' ||
		    (r[i + 1] == '\r' && i + 2 < c->req_len && r[i + 2] == '\n'))
			return true;
	}
	return false;
}

static bool
is_tchar(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch));
}

/*
 * The status for a complete head: 200, 404 or 400. The request line must
 * be "METHOD SP TARGET SP HTTP/1.x" and each header line must hold a ':';
 * header values are not needed, so they are not looked at.
 */
static int
route(const struct sl_metrics_http_conn *c)
{
	const char *p = c->req, *end = memchr(c->req, '\n', c->req_len);
	const char *sp1, *sp2, *target;
	size_t llen, mlen, tlen, vlen;

	llen = (size_t)(end - p);
	if (llen > 0 && p[llen - 1] == '\r')
		llen--;
	for (size_t i = 0; i < llen; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return 400;
	sp1 = memchr(p, ' ', llen);
	if (sp1 == NULL)
		return 400;
	mlen = (size_t)(sp1 - p);
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar(p[i]))
			return 400;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', llen - mlen - 1);
	if (mlen == 0 || sp2 == NULL || sp2 == target)
		return 400;
	tlen = (size_t)(sp2 - target);
	vlen = llen - mlen - tlen - 2;
	if (vlen != 8 || (memcmp(sp2 + 1, "HTTP/1.1", 8) != 0 &&
			  memcmp(sp2 + 1, "HTTP/1.0", 8) != 0))
		return 400;

	/* Header lines, up to the blank line. */
	for (p = end + 1; ; p = end + 1) {
		size_t hlen;

		end = memchr(p, '\n', c->req_len - (size_t)(p - c->req));
		if (end == NULL)	/* cannot happen after head_complete() */
			return 400;
		hlen = (size_t)(end - p);
		if (hlen > 0 && p[hlen - 1] == '\r')
			hlen--;
		if (hlen == 0)
			break;
		if (memchr(p, ':', hlen) == NULL || memchr(p, '\0', hlen) != NULL)
			return 400;
	}

	if (mlen == 3 && memcmp(c->req, "GET", 3) == 0 && tlen >= 8 &&
	    memcmp(target, "/metrics", 8) == 0 && (tlen == 8 || target[8] == '?'))
		return 200;
	return 404;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	default:
		return "Internal Server Error";
	}
}

/* Build the whole answer and move to WRITING. */
static int
respond(struct sl_metrics_http_conn *c, int status, sl_metrics_body_fn body_fn,
	void *arg)
{
	const char *ctype = "text/plain; charset=utf-8";
	char *body = NULL, hdr[256], msg[64];
	size_t blen = 0;
	int hlen;

	if (status == 200) {
		if (body_fn(arg, &body, &blen) == 0) {
			ctype = SL_METRICS_CONTENT_TYPE;
			if (body == NULL)
				blen = 0;
		} else {
			body = NULL;	/* not ours to free on failure */
			status = 500;
		}
	}
	if (status != 200) {
		snprintf(msg, sizeof(msg), "%d %s\n", status, reason(status));
		blen = strlen(msg);
	}
	hlen = snprintf(hdr, sizeof(hdr),
			"HTTP/1.1 %d %s\r\n"
			"Content-Type: %s\r\n"
			"Content-Length: %zu\r\n"
			"Connection: close\r\n"
			"\r\n", status, reason(status), ctype, blen);
	c->resp = malloc((size_t)hlen + blen);
	if (c->resp == NULL) {
		free(body);
		return -ENOMEM;
	}
	memcpy(c->resp, hdr, (size_t)hlen);
	if (blen != 0)
		memcpy(c->resp + hlen, body != NULL ? body : msg, blen);
	free(body);
	c->resp_len = (size_t)hlen + blen;
	c->resp_off = 0;
	c->status = status;
	c->state = SL_METRICS_HTTP_WRITING;
	return 0;
}

static int
step_read(struct sl_metrics_http_conn *c, sl_metrics_body_fn body_fn, void *arg)
{
	for (;;) {
		size_t old = c->req_len;
		ssize_t n;

		if (c->req_len == sizeof(c->req))
			return respond(c, 400, body_fn, arg);
		n = recv(c->fd, c->req + c->req_len, sizeof(c->req) - c->req_len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return POLLIN;
			return -errno;
		}
		if (n == 0) {
			/* A client that connects and leaves gets nothing; a cut request a 400. */
			if (c->req_len == 0) {
				c->state = SL_METRICS_HTTP_DONE;
				return 0;
			}
			return respond(c, 400, body_fn, arg);
		}
		c->req_len += (size_t)n;
		if (head_complete(c, old))
			return respond(c, route(c), body_fn, arg);
	}
}

static int
step_write(struct sl_metrics_http_conn *c)
{
	while (c->resp_off < c->resp_len) {
		ssize_t n = send(c->fd, c->resp + c->resp_off, c->resp_len - c->resp_off,
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return POLLOUT;
			return -errno;
		}
		c->resp_off += (size_t)n;
	}
	free(c->resp);
	c->resp = NULL;
	/* The FIN tells the client the answer is complete. */
	c->state = shutdown(c->fd, SHUT_WR) == 0 ? SL_METRICS_HTTP_LINGERING
						 : SL_METRICS_HTTP_DONE;
	return 0;
}

static int
step_linger(struct sl_metrics_http_conn *c)
{
	for (;;) {
		/* The request is answered: its buffer is scratch now. */
		ssize_t n = recv(c->fd, c->req, sizeof(c->req), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return POLLIN;
		/* EOF, an error or too much: the answer went out, so we are done. */
		if (n <= 0 || (c->drained += (size_t)n) > LINGER_MAX) {
			c->state = SL_METRICS_HTTP_DONE;
			return 0;
		}
	}
}

int
sl_metrics_http_serve(struct sl_metrics_http_conn *c, sl_metrics_body_fn body_fn,
		      void *arg)
{
	int rc;

	for (;;) {
		switch (c->state) {
		case SL_METRICS_HTTP_READING:
			rc = step_read(c, body_fn, arg);
			break;
		case SL_METRICS_HTTP_WRITING:
			rc = step_write(c);
			break;
		case SL_METRICS_HTTP_LINGERING:
			rc = step_linger(c);
			break;
		default:
			return 0;
		}
		if (rc != 0)
			return rc;
	}
}
