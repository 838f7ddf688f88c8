/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One handler per verb of SL_PROTO_VERBS. Handlers that need the
 * dataplane (status, metrics of a running job) start an asynchronous
 * call and answer from its callback; the others answer at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Load a job from args path= or yaml=; on failure msg is the reply's. */
static enum sl_proto_code
load_plan(const struct sl_proto_req *req, struct sl_plan *p, char *msg,
	  size_t msglen)
{
	const char *path = sl_proto_arg_str(req, "path");
	const char *yaml = sl_proto_arg_str(req, "yaml");
	int rc;

	if ((path == NULL) == (yaml == NULL)) {
		snprintf(msg, msglen, "give exactly one of args.path (a job file) and args.yaml (its text)");
		return SL_PROTO_BAD_ARGS;
	}
	if (path != NULL)
		rc = sl_plan_load(path, p, msg, msglen);
	else
		rc = sl_plan_load_str("<yaml>", yaml, strlen(yaml), p, msg, msglen);
	if (rc == -EINVAL)
		return SL_PROTO_INVALID_JOB;
	if (rc < 0)
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

static char *
do_validate(const struct sl_proto_req *req, size_t *len)
{
	struct sl_plan p;
	char msg[SL_PLAN_ERR_MAX];
	enum sl_proto_code code = load_plan(req, &p, msg, sizeof(msg));
	json_t *data;

	if (code != SL_PROTO_OK)
		return reply(req->id, code, msg, NULL, len);
	data = plan_summary(&p);
	snprintf(msg, sizeof(msg), "job %s is valid", p.name);
	sl_plan_free(&p);
	return reply(req->id, SL_PROTO_OK, msg, data, len);
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
do_submit(struct sld_daemon *d, const struct sl_proto_req *req, size_t *len)
{
	const char *name = sl_proto_arg_str(req, "name");
	const char *path = sl_proto_arg_str(req, "path");
	const char *cwd = sl_proto_arg_str(req, "cwd");
	char msg[SL_PLAN_ERR_MAX], abspath[PATH_MAX];
	enum sl_proto_code code;
	struct sl_plan p;
	json_t *data;

	if (json_object_get(req->args, "name") != NULL &&
	    (name == NULL || !name_ok(name)))
		return reply(req->id, SL_PROTO_BAD_ARGS,
			     "args.name must match [A-Za-z0-9_.-]{1,63}", NULL, len);
	if (cwd != NULL && cwd[0] != '/')
		return reply(req->id, SL_PROTO_BAD_ARGS,
			     "args.cwd must be an absolute directory", NULL, len);
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
	code = load_plan(req, &p, msg, sizeof(msg));
	if (code != SL_PROTO_OK)
		return reply(req->id, code, msg, NULL, len);
	if (name == NULL)
		name = p.name;
	code = sld_job_submit(d, &p, name, sl_proto_arg_str(req, "yaml"), path,
			      cwd, msg, sizeof(msg));
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
	return o;
}

static json_t *
final_stats(const struct sld_job *j)
{
	char path[SLD_FILE_MAX];
	json_error_t jerr;

	sld_job_stats_path(j, path, sizeof(path));
	return json_load_file(path, 0, &jerr);
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
		code = sld_job_stop(d, j, msg, sizeof(msg));
		*out = reply(req->id, code, msg, NULL, len);
		return true;
	case SL_PROTO_VERB_CHECKPOINT:
	case SL_PROTO_VERB_SAVEPOINT:
		snprintf(msg, sizeof(msg), "%s is not supported yet: checkpoints arrive with issue [3]",
			 sl_proto_verbs[req->verb].name);
		*out = reply(req->id, SL_PROTO_UNSUPPORTED, msg, NULL, len);
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
	call = sld_dpcall(d->loop, ctl, req->verb, SLD_DP_TIMEOUT_MS, dp_done, c);
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
