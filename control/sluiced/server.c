/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: accept, check the peer, read request lines through
 * a bounded buffer, answer through a queued non-blocking write. At most
 * SLD_MAX_CLIENTS at once; a started line must complete within
 * SLD_CLIENT_IDLE_MS, an idle connection is closed after 30 s, and a
 * client that does not read its replies stops being read, so none of
 * them can hold the loop.
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sld.h"

#define SLD_CLIENT_QUIET_MS 30000
#define SLD_OUT_MAX (4u << 20)		/* unread replies before we stop reading */

struct sld_client {
	struct sld_daemon *d;
	int fd;
	pid_t pid;
	uid_t uid;
	struct sl_proto_lbuf lb;
	char *out;
	size_t out_len, out_off;
	int64_t last;			/* last byte in or reply out */
	struct sld_dpcall *pending;	/* a request waiting for a dataplane */
	bool eof;			/* peer closed its side */
	bool polled;			/* fd registered in the loop */
	bool closing;			/* close once the output is flushed */
	bool in_use;
};

static struct sld_client clients[SLD_MAX_CLIENTS];
static uint64_t sweep_timer;

static void client_process(struct sld_client *cl);
static void client_cb(struct sld_loop *l, int fd, short revents, void *arg);

static void
client_close(struct sld_client *cl, const char *why)
{
	if (why != NULL)
		SLD_LOG("client pid %d uid %u: closed: %s", (int)cl->pid,
			(unsigned int)cl->uid, why);
	sld_dpcall_cancel(cl->pending);
	if (cl->polled)
		sld_loop_del_fd(cl->d->loop, cl->fd);
	close(cl->fd);
	sl_proto_lbuf_fini(&cl->lb);
	free(cl->out);
	memset(cl, 0, sizeof(*cl));
}

/* @return false when the client is gone. */
static bool
client_events(struct sld_client *cl)
{
	short ev = 0;

	/*
	 * Hung up while its dataplane call is pending: poll(2) would report
	 * POLLHUP on every pass, whatever we ask for. Stop polling it; the
	 * reply, when it comes, is written (or fails) and the fd is closed.
	 */
	if (cl->eof && cl->pending != NULL) {
		if (cl->polled)
			sld_loop_del_fd(cl->d->loop, cl->fd);
		cl->polled = false;
		return true;
	}
	if (cl->out_off < cl->out_len)
		ev |= POLLOUT;
	/* Backpressure: no reading while a reply is awaited or unread. */
	if (!cl->eof && !cl->closing && cl->pending == NULL &&
	    cl->out_len - cl->out_off < SLD_OUT_MAX)
		ev |= POLLIN;
	if (cl->polled)
		return sld_loop_mod_fd(cl->d->loop, cl->fd, ev) == 0;
	if (sld_loop_add_fd(cl->d->loop, cl->fd, ev, client_cb, cl) < 0) {
		client_close(cl, "out of memory polling it");
		return false;
	}
	cl->polled = true;
	return true;
}

/* @return false when the client is gone. */
static bool
client_flush(struct sld_client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = write(cl->fd, cl->out + cl->out_off,
				  cl->out_len - cl->out_off);

		if (n < 0) {
			if (errno == EAGAIN)
				break;
			client_close(cl, errno == EPIPE ? NULL : strerror(errno));
			return false;
		}
		cl->out_off += (size_t)n;
	}
	if (cl->out_off == cl->out_len) {
		cl->out_off = cl->out_len = 0;
		if (cl->closing || (cl->eof && cl->pending == NULL)) {
			client_close(cl, NULL);
			return false;
		}
	}
	return client_events(cl);
}

static void
client_queue(struct sld_client *cl, char *line, size_t len)
{
	char *o;

	if (line == NULL) {
		client_close(cl, "out of memory building a reply");
		return;
	}
	o = realloc(cl->out, cl->out_len + len);
	if (o == NULL) {
		free(line);
		client_close(cl, "out of memory queueing a reply");
		return;
	}
	memcpy(o + cl->out_len, line, len);
	free(line);
	cl->out = o;
	cl->out_len += len;
	cl->last = sld_now_ms();
}

void
sld_client_reply(struct sld_client *cl, char *line, size_t len)
{
	cl->pending = NULL;
	client_queue(cl, line, len);
	if (!cl->in_use || !client_flush(cl))
		return;
	/* Pipelined requests waited behind this one. */
	client_process(cl);
}

void
sld_client_set_pending(struct sld_client *cl, struct sld_dpcall *c)
{
	cl->pending = c;
}

static void
client_error(struct sld_client *cl, uint64_t id, enum sl_proto_code code,
	     const char *msg, bool close_after)
{
	size_t len = 0;
	char *line = sl_proto_reply(id, code, msg, NULL, &len);

	client_queue(cl, line, len);
	if (cl->in_use && close_after)
		cl->closing = true;
}

static void
client_process(struct sld_client *cl)
{
	while (cl->in_use && cl->pending == NULL && !cl->closing) {
		char msg[256], *line, *reply = NULL;
		struct sl_proto_req req;
		enum sl_proto_code code;
		size_t len = 0;
		ssize_t n;

		n = sl_proto_lbuf_line(&cl->lb, &line);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			snprintf(msg, sizeof(msg), "request longer than %u bytes",
				 SL_PROTO_LINE_MAX);
			SLD_LOG("client pid %d uid %u: %s; closing", (int)cl->pid,
				(unsigned int)cl->uid, msg);
			client_error(cl, 0, SL_PROTO_BAD_REQUEST, msg, true);
			break;
		}
		code = sl_proto_req_parse(line, (size_t)n, &req, msg, sizeof(msg));
		if (code != SL_PROTO_OK) {
			client_error(cl, req.id, code, msg, false);
			sl_proto_req_free(&req);
			continue;
		}
		if (sld_verb_dispatch(cl->d, cl, &req, &reply, &len))
			client_queue(cl, reply, len);
		sl_proto_req_free(&req);
	}
	if (cl->in_use)
		client_flush(cl);
}

static void
client_cb(struct sld_loop *l, int fd, short revents, void *arg)
{
	struct sld_client *cl = arg;
	ssize_t n;

	(void)l;
	(void)fd;
	if (revents & POLLOUT) {
		if (!client_flush(cl))
			return;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	if (revents & POLLERR && !(revents & POLLIN)) {
		client_close(cl, NULL);
		return;
	}
	n = sl_proto_lbuf_read(&cl->lb, cl->fd);
	if (n == -EAGAIN)
		return;
	if (n == -E2BIG) {
		/* Drain what is buffered first: the too-long line is the last. */
		client_process(cl);
		if (cl->in_use && !cl->closing)
			client_error(cl, 0, SL_PROTO_BAD_REQUEST,
				     "request longer than the line limit (1 MiB)", true);
		if (cl->in_use)
			client_flush(cl);
		return;
	}
	if (n < 0) {
		client_close(cl, strerror((int)-n));
		return;
	}
	if (n == 0)
		cl->eof = true;
	else
		cl->last = sld_now_ms();
	client_process(cl);
	if (cl->in_use && cl->eof && cl->pending == NULL)
		client_flush(cl);
}

/* Write one reply to a socket we will not keep, without waiting. */
static void
refuse(int fd, enum sl_proto_code code, const char *msg)
{
	size_t len = 0;
	char *line = sl_proto_reply(0, code, msg, NULL, &len);

	if (line != NULL && write(fd, line, len) < 0) {
		/* Nothing to do: it is closed next. */
	}
	free(line);
	close(fd);
}

static void
accept_cb(struct sld_loop *l, int lfd, short revents, void *arg)
{
	struct sld_daemon *d = arg;

	(void)revents;
	for (int k = 0; k < 16; k++) {
		struct sld_client *cl = NULL;
		struct ucred uc;
		socklen_t sl = sizeof(uc);
		gid_t *groups = NULL;
		bool ok;
		int fd, ng;
		char msg[160];

		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				SLD_LOG("accept failed: %s%s", strerror(errno),
					errno == EMFILE ? "; raise LimitNOFILE" : "");
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &sl) != 0) {
			SLD_LOG("SO_PEERCRED failed: %s; refusing the connection",
				strerror(errno));
			close(fd);
			continue;
		}
		ng = sld_auth_peer_groups(fd, uc.pid, uc.uid, uc.gid, &groups);
		ok = sld_auth_allowed(&d->auth, uc.uid, uc.gid, groups, ng);
		free(groups);
		if (!ok) {
			SLD_LOG("refused pid %d uid %u gid %u: not root and not in group %s; add the user to that group (control.group)",
				(int)uc.pid, (unsigned int)uc.uid, (unsigned int)uc.gid,
				d->cfg.group[0] ? d->cfg.group : "(none configured)");
			snprintf(msg, sizeof(msg), "permission denied: uid %u is not root and not in sluiced's group %s",
				 (unsigned int)uc.uid,
				 d->cfg.group[0] ? d->cfg.group : "(none configured)");
			refuse(fd, SL_PROTO_PERMISSION, msg);
			continue;
		}
		for (int i = 0; i < SLD_MAX_CLIENTS; i++)
			if (!clients[i].in_use) {
				cl = &clients[i];
				break;
			}
		if (cl == NULL) {
			SLD_LOG("refused pid %d: %d clients already connected",
				(int)uc.pid, SLD_MAX_CLIENTS);
			refuse(fd, SL_PROTO_BUSY, "too many clients; retry");
			continue;
		}
		memset(cl, 0, sizeof(*cl));
		cl->d = d;
		cl->fd = fd;
		cl->pid = uc.pid;
		cl->uid = uc.uid;
		cl->last = sld_now_ms();
		if (sl_proto_lbuf_init(&cl->lb, SL_PROTO_LINE_MAX) < 0 ||
		    sld_loop_add_fd(l, fd, POLLIN, client_cb, cl) < 0) {
			sl_proto_lbuf_fini(&cl->lb);
			refuse(fd, SL_PROTO_INTERNAL, "out of memory");
			continue;
		}
		cl->polled = true;
		cl->in_use = true;
	}
}

static void
sweep_cb(struct sld_loop *l, void *arg)
{
	int64_t now = sld_now_ms();

	for (int i = 0; i < SLD_MAX_CLIENTS; i++) {
		struct sld_client *cl = &clients[i];

		if (!cl->in_use || cl->pending != NULL)
			continue;
		if (cl->lb.len > cl->lb.taken && now - cl->last >= SLD_CLIENT_IDLE_MS) {
			SLD_LOG("client pid %d uid %u: request incomplete after %d ms; dropping it",
				(int)cl->pid, (unsigned int)cl->uid, SLD_CLIENT_IDLE_MS);
			client_error(cl, 0, SL_PROTO_BAD_REQUEST,
				     "request incomplete: a request is one line ending in a newline",
				     true);
			if (cl->in_use)
				client_flush(cl);
			/* A peer that does not read either: gone next round. */
			if (cl->in_use)
				cl->last = now - SLD_CLIENT_QUIET_MS;
		} else if (now - cl->last >= SLD_CLIENT_QUIET_MS) {
			client_close(cl, "idle");
		}
	}
	sweep_timer = sld_loop_add_timer(l, 500, sweep_cb, arg);
}

static int
mkdir_parent(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

int
sld_server_start(struct sld_daemon *d)
{
	const char *path = d->cfg.socket;
	int rc;

	d->auth.self = geteuid();
	if (d->cfg.group[0]) {
		struct group *g = getgrnam(d->cfg.group);

		if (g == NULL) {
			SLD_LOG("group %s does not exist; create it (groupadd %s) or change control.group",
				d->cfg.group, d->cfg.group);
			return -ENOENT;
		}
		d->auth.has_group = true;
		d->auth.group = g->gr_gid;
	}
	rc = mkdir_parent(path);
	if (rc < 0) {
		SLD_LOG("cannot create the directory of %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = sl_proto_listen(path, 0660);
	if (rc == -EADDRINUSE) {
		SLD_LOG("socket %s is in use by another process; stop it, or give this sluiced another --socket",
			path);
		return rc;
	}
	if (rc == -EEXIST) {
		SLD_LOG("cannot listen on %s: it exists and is not a socket; remove it or choose another --socket",
			path);
		return rc;
	}
	if (rc < 0) {
		SLD_LOG("cannot listen on %s: %s; check the path and that no other sluiced runs",
			path, strerror(-rc));
		return rc;
	}
	d->listen_fd = rc;
	if (d->auth.has_group && chown(path, (uid_t)-1, d->auth.group) != 0) {
		rc = -errno;
		SLD_LOG("cannot give %s to group %s: %s", path, d->cfg.group,
			strerror(errno));
		close(d->listen_fd);
		return rc;
	}
	rc = sld_loop_add_fd(d->loop, d->listen_fd, POLLIN, accept_cb, d);
	if (rc < 0)
		return rc;
	sweep_timer = sld_loop_add_timer(d->loop, 500, sweep_cb, d);
	return 0;
}

void
sld_server_stop(struct sld_daemon *d)
{
	for (int i = 0; i < SLD_MAX_CLIENTS; i++)
		if (clients[i].in_use)
			client_close(&clients[i], NULL);
	if (d->listen_fd > 0) {
		sld_loop_del_fd(d->loop, d->listen_fd);
		close(d->listen_fd);
		unlink(d->cfg.socket);
		d->listen_fd = -1;
	}
	sld_loop_del_timer(d->loop, sweep_timer);
}
