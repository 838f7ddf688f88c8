/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_PROTO_H
#define SL_PROTO_H

/**
 * @file
 * The control protocol (docs/control-protocol.md): JSON lines over unix
 * stream sockets, one request per line and one reply per request. The same
 * protocol runs sluicectl <-> sluiced and sluiced <-> sluice-dp (each
 * dataplane serves its own socket from its main lcore).
 *
 *   request: {"v":1,"id":7,"verb":"status","args":{"job":"clicks"}}
 *   reply:   {"v":1,"id":7,"ok":true,"code":"ok","msg":"...","data":{...}}
 *
 * Verbs and error codes are X-macro tables, so the CLI, the servers, the
 * docs and the tests agree by construction. EAL-free; the request parser
 * is fuzzed (tests/fuzz/proto).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#define SL_PROTO_VERSION 1
#define SL_PROTO_LINE_MAX (1u << 20)	/**< one request or reply, newline included */
#define SL_PROTO_DEFAULT_SOCKET "/run/sluice/sluiced.sock"

/** Who serves a verb. */
#define SL_PROTO_DAEMON 0x1	/**< sluiced */
#define SL_PROTO_DP 0x2		/**< a sluice-dp control socket */

/*
 * X(enum, name, served by, arguments, help). Arguments are documentation
 * for --help and the docs; each handler validates its own.
 */
#define SL_PROTO_VERBS(X)                                                          \
	X(VERSION, "version", SL_PROTO_DAEMON | SL_PROTO_DP, "",                   \
	  "protocol and software version")                                        \
	X(SUBMIT, "submit", SL_PROTO_DAEMON, "path=FILE | yaml=TEXT [name=NAME]", \
	  "validate a job fully, then start it")                                  \
	X(VALIDATE, "validate", SL_PROTO_DAEMON, "path=FILE | yaml=TEXT",          \
	  "validate a job without starting it")                                   \
	X(LIST, "list", SL_PROTO_DAEMON, "", "every job and its state")           \
	X(STATUS, "status", SL_PROTO_DAEMON | SL_PROTO_DP, "job=NAME",             \
	  "one job: state, restarts, dataplane pid, lcores")                      \
	X(CANCEL, "cancel", SL_PROTO_DAEMON, "job=NAME",                           \
	  "stop a job now, without draining")                                     \
	X(STOP, "stop", SL_PROTO_DAEMON | SL_PROTO_DP, "job=NAME [savepoint=DIR]", \
	  "stop a job gracefully: drain, fire windows, flush sinks; with savepoint, savepoint then stop without draining") \
	X(CHECKPOINT, "checkpoint", SL_PROTO_DAEMON | SL_PROTO_DP, "job=NAME",     \
	  "trigger a checkpoint now (the job must have checkpointing on)")        \
	X(SAVEPOINT, "savepoint", SL_PROTO_DAEMON | SL_PROTO_DP, "job=NAME dir=DIR", \
	  "take a savepoint into DIR/chk-N (kept until you delete it)")           \
	X(METRICS, "metrics", SL_PROTO_DAEMON | SL_PROTO_DP, "job=NAME",           \
	  "the job's metrics, per lcore and operator")                            \
	X(CKPT_AWAIT, "ckpt_await", SL_PROTO_DP, "id=N (integer; 0: the one in flight)", \
	  "sluiced to a dataplane: reply once checkpoint N's task files are durable, with the manifest to commit") \
	X(CKPT_COMMIT, "ckpt_commit", SL_PROTO_DP, "id=N (integer)",                \
	  "sluiced to a dataplane: N's manifest is durable; complete it (the sink commits)") \
	X(CKPT_ABORT, "ckpt_abort", SL_PROTO_DP, "id=N (integer) why=TEXT",          \
	  "sluiced to a dataplane: N will not be committed; fail it")

enum sl_proto_verb {
#define SL_PROTO_X(e, n, w, a, h) SL_PROTO_VERB_##e,
	SL_PROTO_VERBS(SL_PROTO_X)
#undef SL_PROTO_X
	SL_PROTO_VERB__COUNT
};

/* X(enum, name, meaning). Replies carry the name; sluicectl maps it to its exit code. */
#define SL_PROTO_CODES(X)                                                  \
	X(OK, "ok", "done")                                                \
	X(BAD_REQUEST, "bad_request", "the request is not valid protocol") \
	X(UNKNOWN_VERB, "unknown_verb", "no such verb here")               \
	X(BAD_ARGS, "bad_args", "missing or invalid arguments")            \
	X(INVALID_JOB, "invalid_job", "the job file is invalid")           \
	X(NO_SUCH_JOB, "no_such_job", "no job of that name")               \
	X(CONFLICT, "conflict", "the job collides with a running job")     \
	X(WRONG_STATE, "wrong_state", "the job is not in a state that allows this") \
	X(UNSUPPORTED, "unsupported", "not supported by this version")     \
	X(BUSY, "busy", "too many clients or requests; retry")             \
	X(UNAVAILABLE, "unavailable", "the dataplane did not answer")      \
	X(PERMISSION, "permission", "not allowed: not root and not in sluiced's group") \
	X(INTERNAL, "internal", "internal error; see the daemon's log")

enum sl_proto_code {
#define SL_PROTO_X(e, n, d) SL_PROTO_##e,
	SL_PROTO_CODES(SL_PROTO_X)
#undef SL_PROTO_X
	SL_PROTO__CODE_COUNT
};

struct sl_proto_verb_info {
	const char *name;
	unsigned int served_by;
	const char *args;
	const char *help;
};

/** The verb table, indexed by enum sl_proto_verb. */
extern const struct sl_proto_verb_info sl_proto_verbs[SL_PROTO_VERB__COUNT];

/** @return the verb of that name, or -1. */
int sl_proto_verb_find(const char *name);

const char *sl_proto_code_name(enum sl_proto_code c);
const char *sl_proto_code_desc(enum sl_proto_code c);
/** @return the code of that name, or -1. */
int sl_proto_code_find(const char *name);

/** A parsed request; args is borrowed from the request's JSON. */
struct sl_proto_req {
	json_t *root;		/**< owns everything; sl_proto_req_free() */
	uint64_t id;
	enum sl_proto_verb verb;
	json_t *args;		/**< always an object (empty if absent) */
};

/**
 * Parse one request line (without its newline).
 * @return SL_PROTO_OK, or a code with msg filled; on error req->id is the
 *   request's id when it could be read (0 otherwise), so the reply can
 *   still carry it.
 */
enum sl_proto_code sl_proto_req_parse(const char *line, size_t len,
				      struct sl_proto_req *req, char *msg,
				      size_t msglen);

void sl_proto_req_free(struct sl_proto_req *req);

/** String argument, or NULL if absent or not a string. */
const char *sl_proto_arg_str(const struct sl_proto_req *req, const char *key);

/**
 * Build a reply line, newline-terminated, in a malloc'd buffer.
 * data (may be NULL) is stolen.
 * @return the line or NULL (out of memory); *len gets its length.
 */
char *sl_proto_reply(uint64_t id, enum sl_proto_code code, const char *msg,
		     json_t *data, size_t *len);

/** Build a request line the same way; args (may be NULL) is stolen. */
char *sl_proto_request(uint64_t id, enum sl_proto_verb verb, json_t *args,
		       size_t *len);

/**
 * A bounded line buffer for non-blocking sockets: bytes go in as they
 * arrive, complete lines come out. A line longer than max is an error the
 * server answers with bad_request before closing the connection.
 */
struct sl_proto_lbuf {
	char *buf;
	size_t len;
	size_t cap;
	size_t max;
	size_t taken;		/**< bytes of the line handed out last */
};

int sl_proto_lbuf_init(struct sl_proto_lbuf *b, size_t max);
void sl_proto_lbuf_fini(struct sl_proto_lbuf *b);

/** Read what fd has (non-blocking). @return bytes read, 0 at EOF, -errno (-EAGAIN: nothing now). */
ssize_t sl_proto_lbuf_read(struct sl_proto_lbuf *b, int fd);

/**
 * Take the next complete line (NUL-terminated, newline removed).
 * @return its length and *line, -EAGAIN if none is complete, -E2BIG if the
 *   pending line is longer than max.
 * The line is valid until the next call on b.
 */
ssize_t sl_proto_lbuf_line(struct sl_proto_lbuf *b, char **line);

/**
 * Blocking client: connect to path, send one request, wait up to
 * timeout_ms for the reply. *reply gets the parsed reply object.
 * @return 0 or -errno (-ETIMEDOUT, -ECONNREFUSED, -ENOENT, -EPROTO for a
 *   reply that is not protocol).
 */
int sl_proto_call(const char *path, enum sl_proto_verb verb, json_t *args,
		  int timeout_ms, json_t **reply);

/** Listen on a unix socket path (unlinking a stale one), non-blocking. @return fd or -errno. */
int sl_proto_listen(const char *path, unsigned int mode);

#endif /* SL_PROTO_H */
