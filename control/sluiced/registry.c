/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * STATE_DIR/registry.json: the job table, saved on every state change
 * (write a temporary file, fsync it, rename over the old one, fsync the
 * directory) so a crash or power loss leaves the old or the new table,
 * never a torn one. A registry that does not parse stops sluiced: it may
 * name dataplanes that are still running, and starting with an empty
 * table would orphan them.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sld.h"

#define REGISTRY_VERSION 1

json_t *
sld_job_to_json(const struct sld_job *j)
{
	const struct sl_plan_restart *r = &j->restart;
	json_t *hist = json_array();

	json_t *o;

	for (uint32_t i = 0; i < j->n_hist; i++)
		json_array_append_new(hist, json_pack("{s:I,s:s}",
			"at", (json_int_t)j->hist[i].at_ms, "exit", j->hist[i].exit));
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:{s:s,s:I,s:I,s:I,s:I,s:f,s:I},"
			 "s:i,s:I,s:I,s:I,s:I,s:o,s:s,s:s}",
		"name", j->name,
		"state", sld_state_name(j->state),
		"job_file", j->job_file,
		"cwd", j->cwd,
		"run_dir", j->run_dir,
		"cpus", j->cpus,
		"device", j->device,
		"rx", j->rx,
		"workers", j->workers,
		"restart_strategy",
			"type", sl_plan_restart_name(r->type),
			"fixed_attempts", (json_int_t)r->fixed_attempts,
			"fixed_delay_ms", (json_int_t)r->fixed_delay_ms,
			"initial_backoff_ms", (json_int_t)r->exp_initial_ms,
			"max_backoff_ms", (json_int_t)r->exp_max_ms,
			"backoff_multiplier", r->exp_multiplier,
			"exp_attempts", (json_int_t)r->exp_attempts,
		"pid", (int)j->pid,
		"created_at", (json_int_t)j->created_at,
		"started_at", (json_int_t)j->started_at,
		"ended_at", (json_int_t)j->ended_at,
		"restarts", (json_int_t)j->restarts,
		"restart_history", hist,
		"last_exit", j->last_exit,
		"reason", j->reason);
	/* Optional, so registries written before it still load. */
	if (o != NULL && j->restore_from[0])
		json_object_set_new(o, "restore_from", json_string(j->restore_from));
	return o;
}

static int
get_str(json_t *o, const char *key, char *buf, size_t len, char *err,
	size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || strlen(json_string_value(v)) >= len) {
		snprintf(err, errlen, "'%s' must be a string of at most %zu bytes",
			 key, len - 1);
		return -EINVAL;
	}
	memcpy(buf, json_string_value(v), strlen(json_string_value(v)) + 1);
	return 0;
}

static int
get_int(json_t *o, const char *key, int64_t min, int64_t max, int64_t *out,
	char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		snprintf(err, errlen, "'%s' must be an integer %lld..%lld", key,
			 (long long)min, (long long)max);
		return -EINVAL;
	}
	*out = json_integer_value(v);
	return 0;
}

int
sld_job_from_json(json_t *o, struct sld_job *j, char *err, size_t errlen)
{
	struct sl_plan_restart *r = &j->restart;
	char state[32], type[32];
	json_t *rs, *hist, *v;
	int64_t i64;
	size_t i;
	int st;

	memset(j, 0, sizeof(*j));
	j->pidfd = -1;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "a job must be an object");
		return -EINVAL;
	}
	if (get_str(o, "name", j->name, sizeof(j->name), err, errlen) < 0 ||
	    get_str(o, "state", state, sizeof(state), err, errlen) < 0 ||
	    get_str(o, "job_file", j->job_file, sizeof(j->job_file), err, errlen) < 0 ||
	    get_str(o, "cwd", j->cwd, sizeof(j->cwd), err, errlen) < 0 ||
	    get_str(o, "run_dir", j->run_dir, sizeof(j->run_dir), err, errlen) < 0 ||
	    get_str(o, "cpus", j->cpus, sizeof(j->cpus), err, errlen) < 0 ||
	    get_str(o, "device", j->device, sizeof(j->device), err, errlen) < 0 ||
	    get_str(o, "last_exit", j->last_exit, sizeof(j->last_exit), err, errlen) < 0 ||
	    get_str(o, "reason", j->reason, sizeof(j->reason), err, errlen) < 0 ||
	    (json_object_get(o, "restore_from") != NULL &&
	     get_str(o, "restore_from", j->restore_from, sizeof(j->restore_from),
		     err, errlen) < 0))
		return -EINVAL;
	st = sld_state_find(state);
	if (st < 0) {
		snprintf(err, errlen, "unknown state '%s'", state);
		return -EINVAL;
	}
	j->state = (enum sld_state)st;
	if (get_int(o, "rx", 0, 65535, &i64, err, errlen) < 0)
		return -EINVAL;
	j->rx = (uint16_t)i64;
	if (get_int(o, "workers", 0, 65535, &i64, err, errlen) < 0)
		return -EINVAL;
	j->workers = (uint16_t)i64;
	if (get_int(o, "pid", 0, INT32_MAX, &i64, err, errlen) < 0)
		return -EINVAL;
	j->pid = (pid_t)i64;
	if (get_int(o, "created_at", 0, INT64_MAX, &j->created_at, err, errlen) < 0 ||
	    get_int(o, "started_at", 0, INT64_MAX, &j->started_at, err, errlen) < 0 ||
	    get_int(o, "ended_at", 0, INT64_MAX, &j->ended_at, err, errlen) < 0 ||
	    get_int(o, "restarts", 0, UINT32_MAX, &i64, err, errlen) < 0)
		return -EINVAL;
	j->restarts = (uint32_t)i64;

	rs = json_object_get(o, "restart_strategy");
	if (!json_is_object(rs) ||
	    get_str(rs, "type", type, sizeof(type), err, errlen) < 0) {
		if (!json_is_object(rs))
			snprintf(err, errlen, "'restart_strategy' must be an object");
		return -EINVAL;
	}
	if (strcmp(type, "none") == 0)
		r->type = SL_RESTART_NONE;
	else if (strcmp(type, "fixed-delay") == 0)
		r->type = SL_RESTART_FIXED_DELAY;
	else if (strcmp(type, "exponential-delay") == 0)
		r->type = SL_RESTART_EXPONENTIAL_DELAY;
	else {
		snprintf(err, errlen, "unknown restart_strategy.type '%s'", type);
		return -EINVAL;
	}
	if (get_int(rs, "fixed_attempts", 0, UINT32_MAX, &i64, err, errlen) < 0)
		return -EINVAL;
	r->fixed_attempts = (uint32_t)i64;
	if (get_int(rs, "exp_attempts", 0, UINT32_MAX, &i64, err, errlen) < 0)
		return -EINVAL;
	r->exp_attempts = (uint32_t)i64;
	if (get_int(rs, "fixed_delay_ms", 0, INT64_MAX, &r->fixed_delay_ms, err, errlen) < 0 ||
	    get_int(rs, "initial_backoff_ms", 0, INT64_MAX, &r->exp_initial_ms, err, errlen) < 0 ||
	    get_int(rs, "max_backoff_ms", 0, INT64_MAX, &r->exp_max_ms, err, errlen) < 0)
		return -EINVAL;
	v = json_object_get(rs, "backoff_multiplier");
	if (!json_is_number(v) || json_number_value(v) <= 1.0) {
		snprintf(err, errlen, "'backoff_multiplier' must be a number > 1");
		return -EINVAL;
	}
	r->exp_multiplier = json_number_value(v);
	r->from_job = true;

	hist = json_object_get(o, "restart_history");
	if (!json_is_array(hist)) {
		snprintf(err, errlen, "'restart_history' must be an array");
		return -EINVAL;
	}
	json_array_foreach(hist, i, v) {
		struct sld_restart_rec *h;

		if (j->n_hist == SLD_MAX_HISTORY)
			break;
		h = &j->hist[j->n_hist];
		if (get_int(v, "at", 0, INT64_MAX, &h->at_ms, err, errlen) < 0 ||
		    get_str(v, "exit", h->exit, sizeof(h->exit), err, errlen) < 0)
			return -EINVAL;
		j->n_hist++;
	}
	j->in_use = true;
	return 0;
}

static int
fsync_dir(const char *path)
{
	char tmp[PATH_MAX];
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s", path);
	fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

int
sld_registry_save(struct sld_daemon *d)
{
	json_t *root = json_object(), *jobs = json_array();
	char tmp[SLD_FILE_MAX + 8];
	char *text;
	size_t len, off = 0;
	int fd, rc = 0;

	for (int i = 0; i < SLD_MAX_JOBS; i++)
		if (d->jobs[i].in_use)
			json_array_append_new(jobs, sld_job_to_json(&d->jobs[i]));
	json_object_set_new(root, "version", json_integer(REGISTRY_VERSION));
	json_object_set_new(root, "jobs", jobs);
	text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(root);
	if (text == NULL)
		return -ENOMEM;
	len = strlen(text);
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->registry);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		free(text);
		return -errno;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		off += (size_t)n;
	}
	free(text);
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, d->registry) != 0)
		rc = -errno;
	if (rc == 0)
		rc = fsync_dir(d->registry);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int
sld_registry_load(struct sld_daemon *d, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *jobs, *o;
	char why[256];
	size_t i;
	int n = 0;

	root = json_load_file(d->registry, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (access(d->registry, F_OK) != 0 && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s:%d:%d: not a valid registry: %s; move it aside (mv %s %s.bad) to start with an empty job table",
			 d->registry, jerr.line, jerr.column, jerr.text,
			 d->registry, d->registry);
		return -EINVAL;
	}
	jobs = json_object_get(root, "jobs");
	o = json_object_get(root, "version");
	if (!json_is_integer(o) || json_integer_value(o) != REGISTRY_VERSION ||
	    !json_is_array(jobs)) {
		snprintf(err, errlen, "%s: not a version %d registry (need \"version\": %d and a \"jobs\" array); move it aside (mv %s %s.bad) to start with an empty job table",
			 d->registry, REGISTRY_VERSION, REGISTRY_VERSION,
			 d->registry, d->registry);
		json_decref(root);
		return -EINVAL;
	}
	json_array_foreach(jobs, i, o) {
		if (n == SLD_MAX_JOBS)
			break;
		if (sld_job_from_json(o, &d->jobs[n], why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: job %zu: %s; fix or move the file aside (mv %s %s.bad)",
				 d->registry, i, why, d->registry, d->registry);
			memset(d->jobs, 0, sizeof(*d->jobs) * SLD_MAX_JOBS);
			json_decref(root);
			return -EINVAL;
		}
		d->jobs[n].d = d;
		n++;
	}
	json_decref(root);
	return n;
}
