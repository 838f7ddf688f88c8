/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's control socket (--ctl PATH), served from the main lcore:
 * sluiced (or sluicectl, or a person with socat) asks for version, status,
 * metrics, or a graceful stop. Workers never see it: a stop only sets the
 * flag the RX lcores poll. Every call here is non-blocking, so a silent
 * client costs the main lcore nothing.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dp.h"
#include "sl_build_config.h"
#include "sl_proto.h"

#define CTL_MAX_CLIENTS 8

struct dp_ctl {
	int lfd;
	uint16_t n;
	struct {
		int fd;
		struct sl_proto_lbuf lb;
	} c[CTL_MAX_CLIENTS];
	/* One ckpt_await may wait for its checkpoint (sluiced sends one). */
	int wait_fd;
	uint64_t wait_req, wait_ckpt;
	char path[SL_PLAN_PATH_MAX];
};

int
dp_ctl_open(struct dp *dp, const char *path)
{
	struct dp_ctl *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	c->lfd = sl_proto_listen(path, 0660);
	if (c->lfd < 0) {
		int rc = c->lfd;

		DP_LOG(ERR, "control socket %s: %s; check the directory exists and is writable",
		       path, strerror(-rc));
		free(c);
		return rc;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->wait_fd = -1;
	dp->ctl = c;
	return 0;
}

static void
client_drop(struct dp_ctl *c, uint16_t i)
{
	if (c->c[i].fd == c->wait_fd)
		c->wait_fd = -1;
	close(c->c[i].fd);
	sl_proto_lbuf_fini(&c->c[i].lb);
	c->c[i] = c->c[--c->n];
}

/* Replies are small; a client that cannot take one at once is dropped. */
static int
send_reply(int fd, uint64_t id, enum sl_proto_code code, const char *msg,
	   json_t *data)
{
	size_t len;
	char *line = sl_proto_reply(id, code, msg, data, &len);
	ssize_t n;

	if (line == NULL)
		return -ENOMEM;
	n = send(fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	free(line);
	return n == (ssize_t)len ? 0 : -EIO;
}

static json_t *
status_json(struct dp *dp)
{
	json_t *o = json_object();

	json_object_set_new(o, "job", json_string(dp->plan->name));
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "state", json_string(atomic_load(&dp->draining) ? "DRAINING" : "RUNNING"));
	json_object_set_new(o, "rx", json_integer(dp->n_rx));
	json_object_set_new(o, "workers", json_integer(dp->n_workers));
	json_object_set_new(o, "runToCompletion", json_boolean(dp->rtc));
	json_object_set_new(o, "uptimeMs", json_integer((json_int_t)dp_cycles_ms(rte_rdtsc() - dp->start_tsc, dp->tsc_hz)));
	return o;
}

/* id=N of a ckpt_* verb: a JSON integer, or its decimal string. */
static bool
ckpt_id_arg(const struct sl_proto_req *req, uint64_t *id)
{
	json_t *v = req->args ? json_object_get(req->args, "id") : NULL;
	const char *s;
	char *end;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*id = (uint64_t)json_integer_value(v);
		return true;
	}
	s = json_string_value(v);
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*id = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static enum sl_proto_code
ckpt_code(int r)
{
	return r == 0 ? SL_PROTO_OK :
	       r == -ENOTSUP ? SL_PROTO_UNSUPPORTED :
	       r == -EBUSY || r == -ESHUTDOWN || r == -EALREADY || r == -ENOENT ?
			SL_PROTO_WRONG_STATE :
	       r == -EINVAL ? SL_PROTO_BAD_ARGS : SL_PROTO_INTERNAL;
}

/* ckpt_await: answer now, or keep the client until its checkpoint settles. */
static int
ckpt_await(struct dp *dp, int fd, const struct sl_proto_req *req)
{
	struct dp_ctl *c = dp->ctl;
	json_t *data;
	char msg[256];
	uint64_t id;
	int r;

	if (!ckpt_id_arg(req, &id))
		return send_reply(fd, req->id, SL_PROTO_BAD_ARGS,
				  "ckpt_await needs id=N (a non-negative integer)", NULL);
	r = dp_ckpt_await(dp, id, &data, msg, sizeof(msg));
	if (r != 1)
		return send_reply(fd, req->id, ckpt_code(r), msg, data);
	if (c->wait_fd >= 0 && c->wait_fd != fd)
		return send_reply(fd, req->id, SL_PROTO_BUSY,
				  "another ckpt_await is waiting; one coordinator at a time", NULL);
	c->wait_fd = fd;
	c->wait_req = req->id;
	c->wait_ckpt = id;
	return 0;
}

void
dp_ctl_ckpt_event(struct dp *dp)
{
	struct dp_ctl *c = dp->ctl;
	json_t *data;
	char msg[256];
	int r;

	if (c == NULL || c->wait_fd < 0)
		return;
	r = dp_ckpt_await(dp, c->wait_ckpt, &data, msg, sizeof(msg));
	if (r == 1)
		return;
	/* A waiter that cannot take its answer sees its socket closed. */
	(void)send_reply(c->wait_fd, c->wait_req, ckpt_code(r), msg, data);
	c->wait_fd = -1;
}

static int
handle(struct dp *dp, int fd, const char *line, size_t len)
{
	struct sl_proto_req req;
	char msg[256];
	enum sl_proto_code code = sl_proto_req_parse(line, len, &req, msg, sizeof(msg));
	int rc;

	if (code != SL_PROTO_OK) {
		rc = send_reply(fd, req.id, code, msg, NULL);
		sl_proto_req_free(&req);
		return rc;
	}
	if (!(sl_proto_verbs[req.verb].served_by & SL_PROTO_DP)) {
		snprintf(msg, sizeof(msg), "'%s' is served by sluiced, not by a dataplane",
			 sl_proto_verbs[req.verb].name);
		rc = send_reply(fd, req.id, SL_PROTO_UNKNOWN_VERB, msg, NULL);
		sl_proto_req_free(&req);
		return rc;
	}
	switch (req.verb) {
	case SL_PROTO_VERB_VERSION:
		rc = send_reply(fd, req.id, SL_PROTO_OK, NULL,
				json_pack("{s:s,s:i}", "version", SLUICE_VERSION,
					  "protocol", SL_PROTO_VERSION));
		break;
	case SL_PROTO_VERB_STATUS:
		rc = send_reply(fd, req.id, SL_PROTO_OK, NULL, status_json(dp));
		break;
	case SL_PROTO_VERB_METRICS:
		rc = send_reply(fd, req.id, SL_PROTO_OK, NULL, dp_metrics_json(dp));
		break;
	case SL_PROTO_VERB_CHECKPOINT:
	case SL_PROTO_VERB_SAVEPOINT: {
		const char *dir = sl_proto_arg_str(&req, "dir");
		json_t *data;
		int r;

		if (req.verb == SL_PROTO_VERB_SAVEPOINT && (dir == NULL || dir[0] != '/')) {
			rc = send_reply(fd, req.id, SL_PROTO_BAD_ARGS,
					"savepoint needs dir=ABSOLUTE_PATH", NULL);
			break;
		}
		/* A user's request queues behind the one in flight; the
		 * coordinator's periodic trigger adopts that one instead. */
		r = dp_ckpt_request(dp, req.verb == SL_PROTO_VERB_SAVEPOINT ? dir : NULL,
				    sl_proto_arg_str(&req, "periodic") == NULL,
				    &data, msg, sizeof(msg));
		rc = send_reply(fd, req.id,
				r == 0 ? SL_PROTO_OK :
				r == -ENOTSUP ? SL_PROTO_UNSUPPORTED :
				r == -EBUSY || r == -ESHUTDOWN ? SL_PROTO_WRONG_STATE :
								 SL_PROTO_INTERNAL,
				msg, data);
		break;
	}
	case SL_PROTO_VERB_CKPT_AWAIT:
		rc = ckpt_await(dp, fd, &req);
		break;
	case SL_PROTO_VERB_CKPT_COMMIT:
	case SL_PROTO_VERB_CKPT_ABORT: {
		uint64_t id;
		int r;

		if (!ckpt_id_arg(&req, &id)) {
			rc = send_reply(fd, req.id, SL_PROTO_BAD_ARGS,
					"needs id=N (a non-negative integer)", NULL);
			break;
		}
		r = req.verb == SL_PROTO_VERB_CKPT_COMMIT ?
			dp_ckpt_commit(dp, id, msg, sizeof(msg)) :
			dp_ckpt_abort(dp, id, sl_proto_arg_str(&req, "why"), msg, sizeof(msg));
		rc = send_reply(fd, req.id, ckpt_code(r), msg, NULL);
		break;
	}
	case SL_PROTO_VERB_STOP:
		if (sl_proto_arg_str(&req, "savepoint") != NULL) {
			const char *dir = sl_proto_arg_str(&req, "savepoint");
			json_t *data;
			int r;

			if (dir[0] != '/') {
				rc = send_reply(fd, req.id, SL_PROTO_BAD_ARGS,
						"stop: savepoint must be an absolute directory", NULL);
				break;
			}
			r = dp_ckpt_stop_with_savepoint(dp, dir, &data, msg, sizeof(msg));
			rc = send_reply(fd, req.id,
					r == 0 ? SL_PROTO_OK :
					r == -ENOTSUP ? SL_PROTO_UNSUPPORTED :
					r == -EBUSY || r == -ESHUTDOWN ? SL_PROTO_WRONG_STATE :
									 SL_PROTO_INTERNAL,
					msg, data);
			break;
		}
		DP_LOG(INFO, "stop asked on the control socket: draining");
		atomic_store(&dp->stop, 1);
		rc = send_reply(fd, req.id, SL_PROTO_OK,
				"draining: final watermark, every window fires, the sink is flushed",
				status_json(dp));
		break;
	default:
		rc = send_reply(fd, req.id, SL_PROTO_UNKNOWN_VERB, NULL, NULL);
		break;
	}
	sl_proto_req_free(&req);
	return rc;
}

void
dp_ctl_poll(struct dp *dp)
{
	struct dp_ctl *c = dp->ctl;
	struct pollfd p[CTL_MAX_CLIENTS + 1];
	int fd;

	if (c == NULL)
		return;
	p[0].fd = c->lfd;
	p[0].events = POLLIN;
	for (uint16_t i = 0; i < c->n; i++) {
		p[i + 1].fd = c->c[i].fd;
		p[i + 1].events = POLLIN;
	}
	if (poll(p, c->n + 1u, 0) <= 0)
		return;
	/* Clients first, from the back, so dropping one keeps indices valid. */
	for (int i = c->n - 1; i >= 0; i--) {
		struct sl_proto_lbuf *lb = &c->c[i].lb;
		char *line;
		ssize_t n;

		if (!(p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = sl_proto_lbuf_read(lb, c->c[i].fd);
		if (n == 0 || (n < 0 && n != -EAGAIN && n != -E2BIG)) {
			client_drop(c, (uint16_t)i);
			continue;
		}
		while ((n = sl_proto_lbuf_line(lb, &line)) >= 0)
			if (handle(dp, c->c[i].fd, line, (size_t)n) < 0)
				break;
		if (n == -E2BIG) {
			send_reply(c->c[i].fd, 0, SL_PROTO_BAD_REQUEST,
				   "request line too long", NULL);
			client_drop(c, (uint16_t)i);
		} else if (n >= 0) {
			client_drop(c, (uint16_t)i);
		}
	}
	if (p[0].revents & POLLIN) {
		while ((fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			if (c->n == CTL_MAX_CLIENTS ||
			    sl_proto_lbuf_init(&c->c[c->n].lb, SL_PROTO_LINE_MAX) < 0) {
				send_reply(fd, 0, SL_PROTO_BUSY, NULL, NULL);
				close(fd);
				continue;
			}
			c->c[c->n++].fd = fd;
		}
	}
}

void
dp_ctl_close(struct dp *dp)
{
	struct dp_ctl *c = dp->ctl;

	if (c == NULL)
		return;
	while (c->n)
		client_drop(c, (uint16_t)(c->n - 1));
	close(c->lfd);
	unlink(c->path);
	free(c);
	dp->ctl = NULL;
}
