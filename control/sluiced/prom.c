/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics.prometheus.port: Prometheus text over HTTP (control/metrics)
 * served from the loop. A scrape must not wait for dataplanes, so a 1 s
 * timer asks every running dataplane for its metrics (asynchronously)
 * and a scrape renders the latest answers; a dataplane that stops
 * answering drops out of the next scrapes instead of stalling them.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_metrics.h"
#include "sld.h"

#define PROM_CONNS 8
#define PROM_POLL_MS 1000

static struct sl_metrics_http_conn conns[PROM_CONNS];
static bool conn_used[PROM_CONNS];
static json_t *cache;			/* job name -> its dataplane's metrics */
static struct sld_daemon *prom_d;

struct prom_ctx {
	char job[SL_NAME_MAX];
};

static int
prom_body(void *arg, char **body, size_t *len)
{
	struct sld_daemon *d = arg;
	json_t *jobs = json_array();
	int rc;

	for (int i = 0; i < SLD_MAX_JOBS; i++) {
		const struct sld_job *j = &d->jobs[i];
		json_t *dp = NULL;

		if (!j->in_use)
			continue;
		if (j->state == SLD_RUNNING)
			dp = json_object_get(cache, j->name);
		json_array_append_new(jobs, json_pack("{s:s,s:s,s:I,s:O}",
			"job", j->name, "state", sld_state_name(j->state),
			"numRestarts", (json_int_t)j->restarts,
			"dataplane", dp ? dp : json_null()));
	}
	rc = sl_metrics_prom_render(jobs, body, len);
	json_decref(jobs);
	return rc;
}

static void
conn_cb(struct sld_loop *l, int fd, short revents, void *arg)
{
	struct sl_metrics_http_conn *c = arg;
	int i = (int)(c - conns), rc;

	(void)revents;
	rc = sl_metrics_http_serve(c, prom_body, prom_d);
	if (rc > 0) {
		sld_loop_mod_fd(l, fd, (short)rc);
		return;
	}
	sld_loop_del_fd(l, fd);
	sl_metrics_http_conn_close(c);
	conn_used[i] = false;
}

static void
accept_cb(struct sld_loop *l, int lfd, short revents, void *arg)
{
	(void)revents;
	(void)arg;
	for (int i = 0; i < PROM_CONNS; i++) {
		int rc;

		if (conn_used[i])
			continue;
		rc = sl_metrics_http_accept(lfd, &conns[i]);
		if (rc < 0) {
			if (rc != -EAGAIN)
				SLD_LOG("prometheus: accept: %s", strerror(-rc));
			return;
		}
		if (sld_loop_add_fd(l, conns[i].fd, POLLIN, conn_cb, &conns[i]) < 0) {
			sl_metrics_http_conn_close(&conns[i]);
			return;
		}
		conn_used[i] = true;
	}
	/* All busy: the kernel backlog holds the rest until one closes. */
}

static void
metrics_cb(void *arg, int rc, json_t *reply)
{
	struct prom_ctx *c = arg;
	json_t *data = reply ? json_object_get(reply, "data") : NULL;

	if (rc == 0 && json_is_object(data))
		json_object_set(cache, c->job, data);
	else
		json_object_del(cache, c->job);
	json_decref(reply);
	free(c);
}

static void
poll_cb(struct sld_loop *l, void *arg)
{
	struct sld_daemon *d = arg;

	for (int i = 0; i < SLD_MAX_JOBS; i++) {
		const struct sld_job *j = &d->jobs[i];
		char ctl[SLD_FILE_MAX];
		struct prom_ctx *c;

		if (!j->in_use)
			continue;
		if (j->state != SLD_RUNNING || j->pid <= 0) {
			json_object_del(cache, j->name);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL)
			break;
		memcpy(c->job, j->name, sizeof(c->job));
		sld_job_ctl_path(j, ctl, sizeof(ctl));
		if (sld_dpcall(l, ctl, SL_PROTO_VERB_METRICS, SLD_DP_TIMEOUT_MS,
			       metrics_cb, c) == NULL)
			free(c);
	}
	sld_loop_add_timer(l, PROM_POLL_MS, poll_cb, d);
}

int
sld_prom_start(struct sld_daemon *d)
{
	int fd;

	if (d->cfg.prometheus_port == 0)
		return 0;
	fd = sl_metrics_http_listen(NULL, (uint16_t)d->cfg.prometheus_port);
	if (fd < 0) {
		SLD_LOG("prometheus: cannot listen on port %d: %s; free the port or change metrics.prometheus.port",
			d->cfg.prometheus_port, strerror(-fd));
		return fd;
	}
	cache = json_object();
	prom_d = d;
	if (cache == NULL || sld_loop_add_fd(d->loop, fd, POLLIN, accept_cb, d) < 0) {
		close(fd);
		return -ENOMEM;
	}
	sld_loop_add_timer(d->loop, 0, poll_cb, d);
	SLD_LOG("prometheus: serving /metrics on port %d", d->cfg.prometheus_port);
	return 0;
}
