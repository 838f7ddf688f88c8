/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_METRICS_H
#define SL_METRICS_H

/**
 * @file
 * Prometheus text exposition (format 0.0.4) of the jobs' metrics, and the
 * tiny non-blocking HTTP/1.1 responder that serves it from sluiced's poll
 * loop when `metrics.prometheus.port` is set. EAL-free; no threads; the
 * functions never block.
 *
 * Names: `sluice_` + the snake_case of the Flink name (docs/metrics.md).
 * Counters end in `_total`. Times are in seconds, Prometheus' base unit:
 * promtool rejects `_ms` ("abbreviated units") and `_milliseconds` ("use
 * base unit"), so watermarkLagMs is `sluice_watermark_lag_seconds`,
 * currentInputWatermark is `sluice_current_input_watermark_seconds` (Unix
 * time) and busyTimeMsPerSecond is `sluice_busy_time_seconds_per_second`
 * (0..1). Operator counters are their own families
 * (`sluice_operator_num_records_in_total`), as in Flink's scopes, so that
 * summing an lcore family never adds operator rows to it.
 *
 * Labels: `job_name` (Prometheus attaches its own `job` label to every
 * scraped series and renames a clashing one to `exported_job`; Flink's
 * reporter uses `job_name` for the same reason), `state` on
 * sluice_job_up, `role`, `id`, `lcore`, `cpu` on lcore series (each only
 * when the dataplane reports it), `reason` on drops, `from` on rings, and
 * `id` (position in the chain) plus `operator` on operator series.
 *
 * Wiring in sluiced (single-threaded poll loop):
 *
 *	lfd = sl_metrics_http_listen(addr, port);     once, at start
 *	poll lfd for POLLIN while fewer than MAX connections are open;
 *	on POLLIN of lfd: repeat sl_metrics_http_accept(lfd, &c[i]) until
 *	  -EAGAIN (or the slots are full); poll c[i].fd for POLLIN;
 *	on any revents of c[i].fd (POLLIN, POLLOUT, POLLERR, POLLHUP):
 *	  r = sl_metrics_http_serve(&c[i], body_fn, arg);
 *	  r > 0: poll c[i].fd for r (POLLIN or POLLOUT) next time;
 *	  r <= 0: sl_metrics_http_conn_close(&c[i]) and free the slot;
 *	once a second: sl_metrics_http_conn_close() every connection older
 *	  than a few seconds (a silent client must not hold a slot).
 *
 * body_fn runs inside the poll loop, at most once per connection: it must
 * not block, so it renders the dataplane metrics sluiced already holds
 * (cached from its periodic `metrics` poll of each sluice-dp), e.g.
 * build the jobs array and return sl_metrics_prom_render()'s result.
 */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/** Content-Type of the 200 answer to GET /metrics. */
#define SL_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/** Largest request accepted, request line and headers; larger is a 400. */
#define SL_METRICS_HTTP_REQ_MAX 8192
/** Address bound when none is given: metrics stay on the machine by default. */
#define SL_METRICS_HTTP_DEFAULT_ADDR "127.0.0.1"

/**
 * Render jobs as Prometheus text.
 *
 * @param jobs JSON array of objects {"job": NAME, "state": STATE,
 *   "numRestarts": N, "dataplane": the `metrics` object of docs/metrics.md,
 *   or null when no dataplane runs}. "job" must be a string; any other
 *   value that is null, absent or not of the expected type is left out.
 * @param out gets a malloc'd NUL-terminated text; the caller frees it.
 *   Empty input gives an empty text.
 * @param len gets its length.
 * @return 0, -EINVAL (jobs is not an array of objects with a string "job")
 *   or -ENOMEM.
 *
 * Each family has one # HELP and one # TYPE line followed by all its
 * samples; families come in a fixed order, jobs in strcmp order of their
 * names, lcores, rings and operators in the order the dataplane lists
 * them, drop reasons sorted. Families without a sample are not written.
 * Cold path; any thread; reads jobs only.
 */
int sl_metrics_prom_render(const json_t *jobs, char **out, size_t *len);

/**
 * Listen for HTTP on addr:port (IPv4 or IPv6 literal; NULL or "" for
 * SL_METRICS_HTTP_DEFAULT_ADDR; port 0 picks a free port), non-blocking,
 * close-on-exec, SO_REUSEADDR.
 * @return the listening fd or -errno (-EINVAL for an address that is not
 *   a numeric IPv4 or IPv6 address).
 */
int sl_metrics_http_listen(const char *addr, uint16_t port);

enum sl_metrics_http_state {
	SL_METRICS_HTTP_READING,	/**< collecting the request head */
	SL_METRICS_HTTP_WRITING,	/**< sending the response */
	SL_METRICS_HTTP_LINGERING,	/**< sent and shut down; draining input */
	SL_METRICS_HTTP_DONE,
};

/**
 * One client connection. Owned by the poll loop that serves it; nothing
 * else touches it. About 8.3 KiB: keep a small fixed array of them.
 */
struct sl_metrics_http_conn {
	int fd;				/**< the client socket, owned */
	enum sl_metrics_http_state state;
	int status;			/**< HTTP status chosen, 0 before */
	size_t req_len;			/**< bytes in req */
	char *resp;			/**< status line, headers and body */
	size_t resp_len;
	size_t resp_off;		/**< bytes of resp already sent */
	size_t drained;			/**< bytes discarded while lingering */
	char req[SL_METRICS_HTTP_REQ_MAX];
};

/**
 * Produce the /metrics body: *body gets a malloc'd text the responder
 * takes over and frees, *len its length. Return 0, or -errno for a 500
 * (*body is then ignored). Called at most once per connection, from
 * sl_metrics_http_serve(), so in the poll loop: it must not block.
 */
typedef int (*sl_metrics_body_fn)(void *arg, char **body, size_t *len);

/**
 * Take over fd (a connected stream socket; made non-blocking here) and
 * start reading a request on it.
 */
void sl_metrics_http_conn_init(struct sl_metrics_http_conn *c, int fd);

/**
 * Accept one client of lfd into c (sl_metrics_http_conn_init).
 * @return 0, -EAGAIN when none is waiting, or -errno.
 */
int sl_metrics_http_accept(int lfd, struct sl_metrics_http_conn *c);

/**
 * Make what progress the socket allows without blocking: read the request
 * (across as many calls as it takes), answer it, send the answer, then
 * shut down the write side and drain what the client still sends, so the
 * kernel does not reset the connection before the client has read the
 * answer.
 *
 * Answers: GET /metrics (a query string is ignored) -> 200 with body_fn's
 * text; another method or path -> 404; a request head that is malformed,
 * not HTTP/1.x, larger than SL_METRICS_HTTP_REQ_MAX or cut short by EOF
 * -> 400; body_fn failing -> 500. Always `Connection: close`.
 *
 * @return POLLIN or POLLOUT: poll c->fd for that and call again when it
 *   has any event; 0: finished, close it; -errno: failed, close it.
 */
int sl_metrics_http_serve(struct sl_metrics_http_conn *c,
			  sl_metrics_body_fn body_fn, void *arg);

/** Close c's socket and free its buffers; c may be reused after init. */
void sl_metrics_http_conn_close(struct sl_metrics_http_conn *c);

#endif /* SL_METRICS_H */
