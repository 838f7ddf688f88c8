/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One request to a dataplane's control socket, without blocking the loop:
 * a non-blocking connect, the request queued for POLLOUT, the reply read
 * through a bounded line buffer, a timer for the deadline. A dataplane
 * that hangs costs its caller a timeout, never the other clients.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sld.h"

struct sld_dpcall {
	struct sld_loop *loop;
	int fd;
	char *req;
	size_t len, off;
	struct sl_proto_lbuf lb;
	uint64_t timer;
	sld_dpcall_cb cb;
	void *arg;
	int rc;				/* for a call that failed to start */
};

static void
dpcall_free(struct sld_dpcall *c)
{
	if (c->fd >= 0) {
		sld_loop_del_fd(c->loop, c->fd);
		close(c->fd);
	}
	sld_loop_del_timer(c->loop, c->timer);
	sl_proto_lbuf_fini(&c->lb);
	free(c->req);
	free(c);
}

static void
dpcall_done(struct sld_dpcall *c, int rc, json_t *reply)
{
	sld_dpcall_cb cb = c->cb;
	void *arg = c->arg;

	dpcall_free(c);
	if (cb != NULL) {
		cb(arg, rc, reply);
	} else {
		/* Canceled: the caller handed its (malloc'd) context over. */
		json_decref(reply);
		free(arg);
	}
}

static void
dpcall_timeout(struct sld_loop *l, void *arg)
{
	struct sld_dpcall *c = arg;

	(void)l;
	c->timer = 0;
	dpcall_done(c, c->fd >= 0 ? -ETIMEDOUT : c->rc, NULL);
}

static void
dpcall_io(struct sld_loop *l, int fd, short revents, void *arg)
{
	struct sld_dpcall *c = arg;
	json_error_t jerr;
	json_t *reply;
	ssize_t n;
	char *line;

	if (revents & POLLOUT) {
		n = write(fd, c->req + c->off, c->len - c->off);
		if (n < 0 && errno != EAGAIN) {
			dpcall_done(c, -errno, NULL);
			return;
		}
		if (n > 0)
			c->off += (size_t)n;
		if (c->off == c->len)
			sld_loop_mod_fd(l, fd, POLLIN);
		return;
	}
	n = sl_proto_lbuf_read(&c->lb, fd);
	if (n == -EAGAIN)
		return;
	{
		ssize_t ln = sl_proto_lbuf_line(&c->lb, &line);

		if (ln == -EAGAIN) {
			/* No full line yet: fine unless the dataplane is gone. */
			if (n <= 0)
				dpcall_done(c, n == 0 ? -EPROTO : (int)n, NULL);
			return;
		}
		if (ln < 0) {
			dpcall_done(c, -EPROTO, NULL);
			return;
		}
		n = ln;
	}
	reply = json_loadb(line, (size_t)n, 0, &jerr);
	if (reply == NULL || !json_is_object(reply)) {
		json_decref(reply);
		dpcall_done(c, -EPROTO, NULL);
		return;
	}
	dpcall_done(c, 0, reply);
}

struct sld_dpcall *
sld_dpcall_args(struct sld_loop *l, const char *path, enum sl_proto_verb verb,
		json_t *args,
		int timeout_ms, sld_dpcall_cb cb, void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sld_dpcall *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->loop = l;
	c->fd = -1;
	c->cb = cb;
	c->arg = arg;
	/* The request first: it takes args, whatever happens next. */
	if ((c->req = sl_proto_request(1, verb, args, &c->len)) == NULL ||
	    sl_proto_lbuf_init(&c->lb, SL_PROTO_LINE_MAX) < 0) {
		c->rc = -ENOMEM;
		goto fail;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		c->rc = -ENAMETOOLONG;
		goto fail;
	}
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		c->rc = -errno;
		goto fail;
	}
	/* A unix connect completes at once or fails (EAGAIN: backlog full). */
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		c->rc = -errno;
		close(c->fd);
		c->fd = -1;
		goto fail;
	}
	if (sld_loop_add_fd(l, c->fd, POLLOUT, dpcall_io, c) < 0) {
		c->rc = -ENOMEM;
		close(c->fd);
		c->fd = -1;
		goto fail;
	}
	c->timer = sld_loop_add_timer(l, timeout_ms, dpcall_timeout, c);
	return c;
fail:
	/* The caller hears about it from the loop, like any other outcome. */
	c->timer = sld_loop_add_timer(l, 0, dpcall_timeout, c);
	return c->timer ? c : (dpcall_free(c), NULL);
}

void
sld_dpcall_cancel(struct sld_dpcall *c)
{
	if (c != NULL)
		c->cb = NULL;
}

struct sld_dpcall *
sld_dpcall(struct sld_loop *l, const char *path, enum sl_proto_verb verb,
	   int timeout_ms, sld_dpcall_cb cb, void *arg)
{
	return sld_dpcall_args(l, path, verb, NULL, timeout_ms, cb, arg);
}
