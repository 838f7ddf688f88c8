/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One handler per verb of SL_PROTO_VERBS. Handlers that need the
 * dataplane (status, metrics of a running job) start an asynchronous
 * call and answer from its callback; the others answer at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_build_config.h"
#include "sld.h"

struct dp_ctx {
	struct sld_daemon *d;
	struct sld_client *cl;
	uint64_t id;
	enum sl_proto_verb verb;
	char job[SL_NAME_MAX];
};

static char *
reply(uint64_t id, enum sl_proto_code code, const char *msg, json_t *data,
      size_t *len)
{
	return sl_proto_reply(id, code, msg, data, len);
}

int
sld_read_file(const char *path, size_t max, char **buf, size_t *len,
	      struct stat *stp, char *msg, size_t msglen)
{
	struct stat st;
	size_t n = 0;
	char *b;
	int fd, rc;

	*buf = NULL;
	*len = 0;
	/* stat first: a device is not even opened (opening some rewinds a tape). */
	if (stat(path, &st) != 0) {
		rc = -errno;
		snprintf(msg, msglen, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, msglen, "%s: not a regular file", path);
		return -EINVAL;
	}
	/* O_NONBLOCK: replaced by a FIFO meanwhile, open still returns at once. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		snprintf(msg, msglen, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(msg, msglen, "%s: not a regular file", path);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		snprintf(msg, msglen, "%s: %lld bytes; at most %zu are read",
			 path, (long long)st.st_size, max);
		return -EFBIG;
	}
	/* One byte more than the limit tells a file that grew since fstat. */
	b = malloc(max + 1);
	if (b == NULL) {
		close(fd);
		snprintf(msg, msglen, "%s: out of memory", path);
		return -ENOMEM;
	}
	while (n < max + 1) {
		ssize_t r = read(fd, b + n, max + 1 - n);

		if (r == 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			close(fd);
			free(b);
			snprintf(msg, msglen, "%s: cannot read: %s", path,
				 strerror(-rc));
			return rc;
		}
		n += (size_t)r;
	}
	close(fd);
	if (n > max) {
		free(b);
		snprintf(msg, msglen, "%s: larger than %zu bytes", path, max);
		return -EFBIG;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	if (stp != NULL)
		*stp = st;
	return 0;
}

static const struct {
	const char *name;
	bool value;			/* takes a value: -m 512, -m512, --log-level=8 */
} eal_allowed[] = {
	{ "-m", true },
	{ "--socket-mem", true },
	{ "--socket-limit", true },
	{ "--no-huge", false },
	{ "--no-pci", false },
	{ "--huge-unlink", false },
	{ "--log-level", true },
	{ "-n", true },
	{ "--iova-mode", true },
	{ "--no-telemetry", false },
	{ "--legacy-mem", false },
	{ "--single-file-segments", false },
	{ "--match-allocations", false },
};

int
sld_eal_args_check(const char *const *args, int n, char *msg, size_t msglen)
{
	static const char only_root[] =
		"only root may pass it, by running sluice-dp directly";

	for (int i = 0; i < n; i++) {
		const char *a = args[i], *val = NULL, *eq;
		size_t nlen;
		int k, nk = (int)(sizeof(eal_allowed) / sizeof(eal_allowed[0]));

		if (a[0] != '-' || a[1] == '\0' || strcmp(a, "--") == 0) {
			snprintf(msg, msglen, "eal: argument '%.64s' is not an allowed EAL option; sluiced runs jobs with %s, each with its value; %s",
				 a, "-m, --socket-mem, --socket-limit, --no-huge, --huge-unlink, --log-level, -n, --iova-mode, --no-telemetry, --legacy-mem, --single-file-segments, --match-allocations",
				 only_root);
			return i;
		}
		if (a[1] == '-') {
			eq = strchr(a, '=');
			nlen = eq ? (size_t)(eq - a) : strlen(a);
			if (eq != NULL)
				val = eq + 1;
		} else {
			/* A short option: its value may be attached (-m512). */
			nlen = 2;
			if (a[2] != '\0')
				val = a + 2;
		}
		for (k = 0; k < nk; k++)
			if (strlen(eal_allowed[k].name) == nlen &&
			    strncmp(eal_allowed[k].name, a, nlen) == 0)
				break;
		if (k == nk) {
			snprintf(msg, msglen, "eal: option '%.*s' is not allowed through sluiced (allowed: %s); %s",
				 (int)(nlen > 64 ? 64 : nlen), a,
				 "-m, --socket-mem, --socket-limit, --no-huge, --huge-unlink, --log-level, -n, --iova-mode, --no-telemetry, --legacy-mem, --single-file-segments, --match-allocations",
				 only_root);
			return i;
		}
		if (!eal_allowed[k].value) {
			if (val != NULL) {
				snprintf(msg, msglen, "eal: option %s takes no value, got '%.64s'",
					 eal_allowed[k].name, a);
				return i;
			}
			continue;
		}
		if (val == NULL && i + 1 < n) {
			val = args[i + 1];
			i++;
		}
		/* A value that looks like an option would hide one from this check. */
		if (val == NULL || val[0] == '\0' || val[0] == '-') {
			snprintf(msg, msglen, "eal: option %s needs a value (not an option), got %s%.64s%s",
				 eal_allowed[k].name, val ? "'" : "",
				 val ? val : "nothing", val ? "'" : "");
			return i;
		}
	}
	return -1;
}

/*
 * Load a job from args path= or yaml=; on failure msg is the reply's.
 * *text gets the bytes validated (freed with free()), which is what the
 * dataplane will read: a file changed after this check changes nothing.
 */
static enum sl_proto_code
load_plan(const struct sl_proto_req *req, struct sl_plan *p, char **text,
	  size_t *len, char *msg, size_t msglen)
{
	const char *path = sl_proto_arg_str(req, "path");
	const char *yaml = sl_proto_arg_str(req, "yaml");
	int rc;

	*text = NULL;
	if ((path == NULL) == (yaml == NULL)) {
		snprintf(msg, msglen, "give exactly one of args.path (a job file) and args.yaml (its text)");
		return SL_PROTO_BAD_ARGS;
	}
	if (path != NULL) {
		/* Never sl_plan_load(path): a FIFO or a device would hold the loop. */
		rc = sld_read_file(path, SLD_PLAN_MAX_INPUT, text, len, NULL,
				   msg, msglen);
		if (rc < 0)
			return SL_PROTO_BAD_ARGS;
		rc = sl_plan_load_str_flags(path, *text, *len, SL_PLAN_NO_PLUGINS, p, msg, msglen);
	} else {
		*len = strlen(yaml);
		*text = strdup(yaml);
		if (*text == NULL) {
			snprintf(msg, msglen, "out of memory");
			return SL_PROTO_INTERNAL;
		}
		rc = sl_plan_load_str_flags("<yaml>", yaml, *len, SL_PLAN_NO_PLUGINS, p, msg, msglen);
	}
	if (rc < 0) {
		free(*text);
		*text = NULL;
	}
	if (rc == -EINVAL)
		return SL_PROTO_INVALID_JOB;
	if (rc < 0)
		return SL_PROTO_BAD_ARGS;
	return SL_PROTO_OK;
}

/* What sluiced refuses to run even in a valid job: eal: beyond the allowlist. */
static enum sl_proto_code
plan_allowed(const struct sl_plan *p, char *msg, size_t msglen)
{
	const char *args[SL_PLAN_MAX_EAL_ARGS];

	for (int i = 0; i < p->n_eal_args; i++)
		args[i] = p->eal_args[i];
	if (sld_eal_args_check(args, p->n_eal_args, msg, msglen) >= 0)
		return SL_PROTO_BAD_ARGS;
	return SL_PROTO_OK;
}

static json_t *
plan_summary(const struct sl_plan *p)
{
	return json_pack("{s:s,s:i,s:i,s:b,s:s,s:i,s:s}",
		"job", p->name,
		"rx", p->lcores.rx,
		"workers", p->lcores.workers,
		"run_to_completion", p->lcores.run_to_completion,
		"cpus", p->lcores.cpus,
		"max_parallelism", (int)p->max_parallelism,
		"restart_strategy", p->restart.from_job ?
			sl_plan_restart_name(p->restart.type) : "(sluiced default)");
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= SL_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' ||
		      s[i] == '-'))
			return false;
	return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static char *
do_validate(const struct sl_proto_req *req, size_t *len)
{
	struct sl_plan p;
	char msg[SL_PLAN_ERR_MAX], *text;
	size_t tlen;
	enum sl_proto_code code = load_plan(req, &p, &text, &tlen, msg,
					    sizeof(msg));
	json_t *data;

	if (code != SL_PROTO_OK)
		return reply(req->id, code, msg, NULL, len);
	free(text);
	code = plan_allowed(&p, msg, sizeof(msg));
	if (code == SL_PROTO_OK && !name_ok(p.name)) {
		snprintf(msg, sizeof(msg), "job: '%.64s' cannot name a job: it must match [A-Za-z0-9_.-]{1,63} and not be . or ..",
			 p.name);
		code = SL_PROTO_BAD_ARGS;
	}
	if (code != SL_PROTO_OK) {
		sl_plan_free(&p);
		return reply(req->id, code, msg, NULL, len);
	}
	data = plan_summary(&p);
	snprintf(msg, sizeof(msg), "job %s is valid", p.name);
	sl_plan_free(&p);
	return reply(req->id, SL_PROTO_OK, msg, data, len);
}

static char *
do_submit(struct sld_daemon *d, const struct sl_proto_req *req, size_t *len)
{
	const char *name = sl_proto_arg_str(req, "name");
	const char *path = sl_proto_arg_str(req, "path");
	const char *cwd = sl_proto_arg_str(req, "cwd");
	const char *savepoint = sl_proto_arg_str(req, "savepoint");
	char msg[SL_PLAN_ERR_MAX], abspath[PATH_MAX], *text;
	enum sl_proto_code code;
	struct sl_plan p;
	size_t tlen;
	json_t *data;

	if (json_object_get(req->args, "name") != NULL &&
	    (name == NULL || !name_ok(name)))
		return reply(req->id, SL_PROTO_BAD_ARGS,
			     "args.name must match [A-Za-z0-9_.-]{1,63}", NULL, len);
	if (cwd != NULL && cwd[0] != '/')
		return reply(req->id, SL_PROTO_BAD_ARGS,
			     "args.cwd must be an absolute directory", NULL, len);
	if (json_object_get(req->args, "savepoint") != NULL &&
	    (savepoint == NULL || savepoint[0] != '/' || strlen(savepoint) >= 1024))
		return reply(req->id, SL_PROTO_BAD_ARGS,
			     "args.savepoint must be the absolute path of a chk-N directory", NULL, len);
	if (path != NULL && path[0] != '/') {
		/* Relative to the client's directory when it says which. */
		if (cwd == NULL)
			return reply(req->id, SL_PROTO_BAD_ARGS,
				     "args.path must be absolute, or relative with args.cwd",
				     NULL, len);
		snprintf(abspath, sizeof(abspath), "%s/%s", cwd, path);
		json_object_set_new(req->args, "path", json_string(abspath));
		path = sl_proto_arg_str(req, "path");
	}
	code = load_plan(req, &p, &text, &tlen, msg, sizeof(msg));
	if (code != SL_PROTO_OK)
		return reply(req->id, code, msg, NULL, len);
	code = plan_allowed(&p, msg, sizeof(msg));
	if (code == SL_PROTO_OK && name == NULL) {
		/* The file's job: names the run dir as much as args.name does. */
		name = p.name;
		if (!name_ok(name)) {
			snprintf(msg, sizeof(msg), "job: '%.64s' cannot name a job: it must match [A-Za-z0-9_.-]{1,63} and not be . or ..; rename it or give args.name",
				 name);
			code = SL_PROTO_BAD_ARGS;
		}
	}
	if (code == SL_PROTO_OK)
		code = sld_job_submit(d, &p, name, text, tlen, path, cwd, savepoint, msg,
				      sizeof(msg));
	free(text);
	data = code == SL_PROTO_OK ? plan_summary(&p) : NULL;
	if (data != NULL) {
		struct sld_job *j = sld_job_find(d, name);

		json_object_set_new(data, "name", json_string(name));
		json_object_set_new(data, "pid", json_integer(j ? j->pid : 0));
	}
	sl_plan_free(&p);
	return reply(req->id, code, msg, data, len);
}

static char *
do_list(struct sld_daemon *d, const struct sl_proto_req *req, size_t *len)
{
	json_t *jobs = json_array();

	for (int i = 0; i < SLD_MAX_JOBS; i++) {
		const struct sld_job *j = &d->jobs[i];

		if (!j->in_use)
			continue;
		json_array_append_new(jobs, json_pack("{s:s,s:s,s:I,s:i,s:I,s:s}",
			"name", j->name, "state", sld_state_name(j->state),
			"restarts", (json_int_t)j->restarts, "pid", (int)j->pid,
			"started_at", (json_int_t)j->started_at, "cpus", j->cpus));
	}
	return reply(req->id, SL_PROTO_OK, NULL, json_pack("{s:o}", "jobs", jobs), len);
}

static json_t *
status_data(const struct sld_job *j)
{
	json_t *o = sld_job_to_json(j);

	json_object_set_new(o, "numRestarts", json_integer(j->restarts));
	json_object_set_new(o, "lcores", json_pack("{s:i,s:i,s:s}", "rx", j->rx,
						   "workers", j->workers, "cpus", j->cpus));
	json_object_set_new(o, "checkpointCoordinator", sld_coord_json(j));
	return o;
}

static json_t *
final_stats(const struct sld_job *j)
{
	char path[SLD_FILE_MAX], msg[SLD_FILE_MAX + 64], *buf;
	json_error_t jerr;
	json_t *o;
	size_t n;

	sld_job_stats_path(j, path, sizeof(path));
	if (sld_read_file(path, SLD_STATS_MAX, &buf, &n, NULL, msg, sizeof(msg)) < 0)
		return NULL;
	o = json_loadb(buf, n, 0, &jerr);
	free(buf);
	return o;
}

static json_t *
metrics_data(const struct sld_job *j, json_t *dataplane)
{
	return json_pack("{s:s,s:s,s:I,s:o}", "job", j->name,
			 "state", sld_state_name(j->state),
			 "numRestarts", (json_int_t)j->restarts,
			 "dataplane", dataplane ? dataplane : json_null());
}

static void
dp_done(void *arg, int rc, json_t *r)
{
	struct dp_ctx *c = arg;
	struct sld_job *j = sld_job_find(c->d, c->job);
	json_t *dpdata = r ? json_object_get(r, "data") : NULL;
	char msg[512], *line;
	size_t len = 0;

	if (j == NULL) {
		line = reply(c->id, SL_PROTO_NO_SUCH_JOB, "the job went away", NULL, &len);
	} else if (c->verb == SL_PROTO_VERB_STATUS) {
		json_t *o = status_data(j);

		if (dpdata != NULL)
			json_object_set(o, "dataplane", dpdata);
		else
			json_object_set_new(o, "dataplane_error",
					    json_string(rc < 0 ? strerror(-rc) : "no data"));
		line = reply(c->id, SL_PROTO_OK, NULL, o, &len);
	} else if ((c->verb == SL_PROTO_VERB_CHECKPOINT || c->verb == SL_PROTO_VERB_SAVEPOINT) &&
		   r != NULL) {
		json_t *code = json_object_get(r, "code"), *m = json_object_get(r, "msg");
		int ci = json_is_string(code) ? sl_proto_code_find(json_string_value(code)) : -1;

		if (ci == SL_PROTO_OK) {
			json_t *id = json_object_get(dpdata, "id");

			/* sluiced commits what the user triggered, now. */
			sld_coord_adopt(c->d, j, json_is_integer(id) ?
					(uint64_t)json_integer_value(id) : 0);
		}
		if (dpdata != NULL)
			json_incref(dpdata);
		line = reply(c->id, ci < 0 ? SL_PROTO_INTERNAL : (enum sl_proto_code)ci,
			     json_is_string(m) ? json_string_value(m) : NULL, dpdata, &len);
	} else if (dpdata == NULL) {
		snprintf(msg, sizeof(msg), "job %s: the dataplane did not answer metrics within %d ms (%s); see %.*s/dp.log",
			 c->job, SLD_DP_TIMEOUT_MS,
			 rc < 0 ? strerror(-rc) : "no data in its reply",
			 200, j->run_dir);
		line = reply(c->id, SL_PROTO_UNAVAILABLE, msg, NULL, &len);
	} else {
		json_incref(dpdata);
		line = reply(c->id, SL_PROTO_OK, NULL, metrics_data(j, dpdata), &len);
	}
	json_decref(r);
	sld_client_reply(c->cl, line, len);
	free(c);
}

/* @return true when it replied now (*out set). */
static bool
do_job_verb(struct sld_daemon *d, struct sld_client *cl,
	    const struct sl_proto_req *req, char **out, size_t *len)
{
	const char *name = sl_proto_arg_str(req, "job");
	char msg[512], ctl[SLD_FILE_MAX];
	struct sld_job *j;
	enum sl_proto_code code;
	struct sld_dpcall *call;
	struct dp_ctx *c;

	if (name == NULL) {
		*out = reply(req->id, SL_PROTO_BAD_ARGS, "args.job (a job name) is required",
			     NULL, len);
		return true;
	}
	j = sld_job_find(d, name);
	if (j == NULL) {
		snprintf(msg, sizeof(msg), "no job named '%.64s'; see list", name);
		*out = reply(req->id, SL_PROTO_NO_SUCH_JOB, msg, NULL, len);
		return true;
	}
	switch (req->verb) {
	case SL_PROTO_VERB_CANCEL:
		code = sld_job_cancel(d, j, msg, sizeof(msg));
		*out = reply(req->id, code, msg, NULL, len);
		return true;
	case SL_PROTO_VERB_STOP:
		{
			const char *sp = sl_proto_arg_str(req, "savepoint");

			if (sp != NULL && sp[0] != '/') {
				*out = reply(req->id, SL_PROTO_BAD_ARGS,
					     "args.savepoint must be an absolute directory", NULL, len);
				return true;
			}
			code = sld_job_stop(d, j, sp, msg, sizeof(msg));
		}
		*out = reply(req->id, code, msg, NULL, len);
		return true;
	default:
		break;
	}
	if (j->state != SLD_RUNNING || j->pid <= 0) {
		if (req->verb == SL_PROTO_VERB_STATUS) {
			*out = reply(req->id, SL_PROTO_OK, NULL, status_data(j), len);
		} else {
			json_t *fin = j->state == SLD_FINISHED ? final_stats(j) : NULL;
			json_t *data;

			if (fin == NULL && j->state == SLD_FINISHED) {
				snprintf(msg, sizeof(msg), "job %s finished but its final stats (%.*s/stats.json) cannot be read",
					 name, 256, j->run_dir);
				*out = reply(req->id, SL_PROTO_UNAVAILABLE, msg, NULL, len);
				return true;
			}
			if (fin == NULL) {
				snprintf(msg, sizeof(msg), "job %s is %s: no dataplane to ask",
					 name, sld_state_name(j->state));
				*out = reply(req->id, SL_PROTO_UNAVAILABLE, msg, NULL, len);
				return true;
			}
			data = metrics_data(j, NULL);
			json_object_set_new(data, "final", fin);
			*out = reply(req->id, SL_PROTO_OK, "final stats of a finished job", data, len);
		}
		return true;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		*out = reply(req->id, SL_PROTO_INTERNAL, "out of memory", NULL, len);
		return true;
	}
	c->d = d;
	c->cl = cl;
	c->id = req->id;
	c->verb = req->verb;
	snprintf(c->job, sizeof(c->job), "%s", name);
	sld_job_ctl_path(j, ctl, sizeof(ctl));
	/* checkpoint and savepoint are the dataplane's to run: pass the
	 * arguments on and relay its answer as it is. */
	call = sld_dpcall_args(d->loop, ctl, req->verb,
			       req->verb == SL_PROTO_VERB_SAVEPOINT ?
			       json_deep_copy(req->args) : NULL,
			       SLD_DP_TIMEOUT_MS, dp_done, c);
	if (call == NULL) {
		free(c);
		*out = reply(req->id, SL_PROTO_INTERNAL, "out of memory", NULL, len);
		return true;
	}
	sld_client_set_pending(cl, call);
	return false;
}

bool
sld_verb_dispatch(struct sld_daemon *d, struct sld_client *cl,
		  struct sl_proto_req *req, char **out, size_t *len)
{
	char msg[128];

	switch (req->verb) {
	case SL_PROTO_VERB_VERSION:
		*out = reply(req->id, SL_PROTO_OK, NULL,
			     json_pack("{s:s,s:s,s:i,s:s}", "server", "sluiced",
				       "version", SLUICE_VERSION,
				       "protocol", SL_PROTO_VERSION,
				       "dataplane", d->dp_path), len);
		return true;
	case SL_PROTO_VERB_VALIDATE:
		*out = do_validate(req, len);
		return true;
	case SL_PROTO_VERB_SUBMIT:
		*out = do_submit(d, req, len);
		return true;
	case SL_PROTO_VERB_LIST:
		*out = do_list(d, req, len);
		return true;
	case SL_PROTO_VERB_STATUS:
	case SL_PROTO_VERB_CANCEL:
	case SL_PROTO_VERB_STOP:
	case SL_PROTO_VERB_CHECKPOINT:
	case SL_PROTO_VERB_SAVEPOINT:
	case SL_PROTO_VERB_METRICS:
		return do_job_verb(d, cl, req, out, len);
	default:
		snprintf(msg, sizeof(msg), "verb %d is not served by sluiced",
			 (int)req->verb);
		*out = reply(req->id, SL_PROTO_UNKNOWN_VERB, msg, NULL, len);
		return true;
	}
}
