/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The verbs that ask the daemon: build the request from the command line,
 * send it with sl_proto_call(), map the reply's code to an exit code, and
 * print the reply's data for people (tables) or as JSON (--json).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_build_config.h"
#include "slc.h"

void
slc_print_json(FILE *f, const json_t *j)
{
	/* The flags sl_proto uses on the wire: --json prints data as sent. */
	if (j == NULL)
		fputs("{}\n", f);
	else
		json_dumpf(j, f, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (j != NULL)
		fputc('\n', f);
}

static const char *
hint_of(int err)
{
	switch (err) {
	case ENOENT:
		return " (is sluiced running? --socket or SLUICE_SOCKET choose another socket)";
	case ECONNREFUSED:
		return " (a stale socket: nothing listens on it; is sluiced running?)";
	case EACCES:
	case EPERM:
		return " (run as root or as a member of the socket's group)";
	case ETIMEDOUT:
		return " (no reply in time; --timeout MS waits longer)";
	default:
		return "";
	}
}

int
slc_call(const struct slc_opts *o, enum sl_proto_verb verb, json_t *args,
	 bool quiet, json_t **reply)
{
	json_t *r = NULL;
	const char *code, *msg;
	int rc, ec;

	*reply = NULL;
	rc = sl_proto_call(o->socket, verb, args, o->timeout_ms, &r);
	if (rc == -EMSGSIZE) {
		if (!quiet)
			fprintf(stderr, "sluicectl: the request is longer than the protocol's %u-byte line limit\n",
				SL_PROTO_LINE_MAX);
		return SLC_EXIT_USAGE;
	}
	if (rc == -EPROTO) {
		if (!quiet)
			fprintf(stderr, "sluicectl: %s: the peer did not answer with a sluice protocol reply\n",
				o->socket);
		return SLC_EXIT_UNREACHABLE;
	}
	if (rc < 0) {
		if (!quiet)
			fprintf(stderr, "sluicectl: cannot reach sluiced at %s: %s%s\n",
				o->socket, strerror(-rc), hint_of(-rc));
		return SLC_EXIT_UNREACHABLE;
	}
	code = json_string_value(json_object_get(r, "code"));
	msg = json_string_value(json_object_get(r, "msg"));
	if (json_is_true(json_object_get(r, "ok"))) {
		*reply = r;
		return SLC_EXIT_OK;
	}
	ec = slc_exit_of_code(code);
	if (ec == SLC_EXIT_OK)
		ec = SLC_EXIT_ERROR;	/* "ok": false with code "ok" is a broken reply */
	if (!quiet) {
		/* A job file error is already "file:line:col: message". */
		if (code != NULL && strcmp(code, "invalid_job") == 0)
			fprintf(stderr, "sluicectl: %s\n", msg ? msg : "invalid job");
		else
			fprintf(stderr, "sluicectl: %s: %s\n", code ? code : "error",
				msg ? msg : "(no message)");
	}
	json_decref(r);
	return ec;
}

/* The argument keys a protocol verb documents: "job=NAME dir=DIR" -> job, dir. */
static unsigned int
proto_arg_keys(const char *doc, char keys[][32], unsigned int max)
{
	unsigned int n = 0;
	const char *p = doc;

	while (n < max && (p = strchr(p, '=')) != NULL) {
		const char *s = p;

		while (s > doc && s[-1] != ' ' && s[-1] != '[' && s[-1] != '|')
			s--;
		snprintf(keys[n], 32, "%.*s", (int)(p - s), s);
		n++;
		p++;
	}
	return n;
}

/* Paths go to a daemon with another working directory: send them absolute. */
static json_t *
abs_path(const char *path)
{
	char cwd[4096], *buf;
	json_t *j;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return json_string(path);
	if (asprintf(&buf, "%s/%s", cwd, path) < 0)
		return NULL;
	j = json_string(buf);
	free(buf);
	return j;
}

static void
print_done(const json_t *reply)
{
	const json_t *data = json_object_get(reply, "data");
	const char *job = json_string_value(json_object_get(data, "job"));
	const char *state = json_string_value(json_object_get(data, "state"));
	const char *msg = json_string_value(json_object_get(reply, "msg"));

	if (job != NULL && state != NULL)
		printf("job %s: %s\n", job, state);
	else
		printf("%s\n", msg ? msg : "ok");
	/* Anything else the daemon says (a checkpoint id, a path) follows. */
	if (json_is_object(data) && json_object_size(data) > (job ? 1u : 0u) + (state ? 1u : 0u)) {
		json_t *rest = json_deep_copy(data);

		json_object_del(rest, "job");
		json_object_del(rest, "state");
		slc_print_object(stdout, rest);
		json_decref(rest);
	}
}

int
slc_cmd_remote(const struct slc_opts *o)
{
	const struct slc_verb *v = o->verb;
	char keys[SLC_MAX_POS][32];
	unsigned int nk = proto_arg_keys(sl_proto_verbs[v->proto].args, keys, SLC_MAX_POS);
	json_t *args = json_object(), *reply, *data;
	int ec;

	for (unsigned int i = 0; i < o->n_pos && i < nk; i++) {
		bool dir = strcmp(keys[i], "dir") == 0 || strcmp(keys[i], "path") == 0;

		json_object_set_new(args, keys[i], dir ? abs_path(o->pos[i]) :
				    json_string(o->pos[i]));
	}
	if (o->savepoint != NULL)
		json_object_set_new(args, "savepoint", abs_path(o->savepoint));
	ec = slc_call(o, (enum sl_proto_verb)v->proto, args, false, &reply);
	if (ec != SLC_EXIT_OK)
		return ec;
	data = json_object_get(reply, "data");
	if (o->json)
		slc_print_json(stdout, data);
	else if (v->proto == SL_PROTO_VERB_LIST)
		slc_print_list(stdout, data);
	else if (v->proto == SL_PROTO_VERB_METRICS)
		slc_print_metrics(stdout, data);
	else if (v->proto == SL_PROTO_VERB_STATUS)
		slc_print_object(stdout, data);
	else
		print_done(reply);
	json_decref(reply);
	return SLC_EXIT_OK;
}

/* The whole file, for --inline; the protocol bounds a line anyway. */
static char *
read_file(const char *path, size_t max, size_t *len, int *err)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL) {
		*err = errno;
		return NULL;
	}
	buf = malloc(max + 1);
	if (buf == NULL) {
		fclose(f);
		*err = ENOMEM;
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	*err = ferror(f) ? EIO : n > max ? EFBIG : 0;
	fclose(f);
	if (*err != 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int
slc_cmd_run(const struct slc_opts *o)
{
	json_t *args = json_object(), *reply, *data;
	json_int_t pid;
	const char *job;
	int ec;

	if (o->inline_yaml) {
		size_t len;
		int err;
		char *yaml = read_file(o->pos[0], SL_PROTO_LINE_MAX, &len, &err);

		if (yaml == NULL) {
			/* The plan's own wording for an unreadable job file. */
			fprintf(stderr, "sluicectl: %s: cannot open: %s\n", o->pos[0],
				err == EFBIG ? "larger than the protocol's 1 MiB line" :
				strerror(err));
			json_decref(args);
			return SLC_EXIT_CODE_BASE + SL_PROTO_INVALID_JOB;
		}
		json_object_set_new(args, "yaml", json_stringn(yaml, len));
		free(yaml);
		if (json_object_get(args, "yaml") == NULL) {
			fprintf(stderr, "sluicectl: %s: not UTF-8 text\n", o->pos[0]);
			json_decref(args);
			return SLC_EXIT_CODE_BASE + SL_PROTO_INVALID_JOB;
		}
	} else {
		json_object_set_new(args, "path", abs_path(o->pos[0]));
	}
	/* Paths inside the job (captures, sinks) are relative to where the
	 * user runs sluicectl, as with sluice-dp; the daemon runs elsewhere. */
	if (o->verb->proto == SL_PROTO_VERB_SUBMIT) {
		char cwd[4096];

		if (getcwd(cwd, sizeof(cwd)) != NULL)
			json_object_set_new(args, "cwd", json_string(cwd));
	}
	if (o->name != NULL)
		json_object_set_new(args, "name", json_string(o->name));
	if (o->savepoint != NULL)
		json_object_set_new(args, "savepoint", abs_path(o->savepoint));
	ec = slc_call(o, (enum sl_proto_verb)o->verb->proto, args, false, &reply);
	if (ec != SLC_EXIT_OK)
		return ec;
	data = json_object_get(reply, "data");
	/* "name" is what the job runs as (--name), "job" the file's key. */
	job = json_string_value(json_object_get(data, "name"));
	if (job == NULL)
		job = json_string_value(json_object_get(data, "job"));
	pid = json_integer_value(json_object_get(data, "pid"));
	if (o->json)
		slc_print_json(stdout, data);
	else if (o->verb->proto == SL_PROTO_VERB_VALIDATE)
		printf("%s: valid%s%s%s\n", o->pos[0], job ? " (job " : "",
		       job ? job : "", job ? ")" : "");
	else if (job != NULL && pid > 0)
		printf("job %s submitted (pid %" JSON_INTEGER_FORMAT ")\n", job, pid);
	else if (job != NULL)
		printf("job %s submitted\n", job);
	else
		print_done(reply);
	json_decref(reply);
	return SLC_EXIT_OK;
}

int
slc_cmd_version(const struct slc_opts *o)
{
	json_t *reply, *data;
	int ec = slc_call(o, SL_PROTO_VERB_VERSION, NULL, false, &reply);

	if (o->json) {
		json_t *j = json_pack("{s:s, s:i}", "sluicectl", SLUICE_VERSION,
				      "protocol", SL_PROTO_VERSION);

		if (ec == SLC_EXIT_OK)
			json_object_set(j, "daemon", json_object_get(reply, "data"));
		slc_print_json(stdout, j);
		json_decref(j);
	} else {
		printf("sluicectl %s (protocol %d)\n", SLUICE_VERSION, SL_PROTO_VERSION);
		if (ec == SLC_EXIT_OK) {
			data = json_object_get(reply, "data");
			printf("daemon at %s:\n", o->socket);
			slc_print_object(stdout, data);
		}
	}
	json_decref(ec == SLC_EXIT_OK ? reply : NULL);
	return ec;
}

static void
row_of(const json_t *o, const char *const *keys, unsigned int n, char cells[][96])
{
	for (unsigned int i = 0; i < n; i++) {
		const json_t *v = json_object_get(o, keys[i]);

		if (strcmp(keys[i], "started_at") == 0 && json_is_integer(v) &&
		    json_integer_value(v) > 0)
			slc_fmt_ts(cells[i], 96, json_integer_value(v));
		else if (strcmp(keys[i], "started_at") == 0)
			snprintf(cells[i], 96, "-");
		else
			slc_fmt_scalar(cells[i], 96, v);
	}
}

void
slc_print_list(FILE *f, const json_t *data)
{
	static const char *const hdr[] = { "JOB", "STATE", "PID", "RESTARTS", "CPUS", "STARTED" };
	static const char *const keys[] = { "name", "state", "pid", "restarts", "cpus", "started_at" };
	static const bool right[] = { false, false, true, true, false, false };
	const json_t *jobs = json_is_array(data) ? data : json_object_get(data, "jobs");
	struct slc_table t;
	size_t i;
	json_t *j;

	if (json_array_size(jobs) == 0) {
		fprintf(f, "no jobs\n");
		return;
	}
	slc_table_init(&t, 6);
	slc_table_row(&t, hdr);
	json_array_foreach(jobs, i, j) {
		char cells[6][96];
		const char *row[6];

		row_of(j, keys, 6, cells);
		if (json_object_get(j, "name") == NULL)
			slc_fmt_scalar(cells[0], 96, json_object_get(j, "job"));
		if (cells[4][0] == '\0')
			snprintf(cells[4], 96, "all");	/* no lcores.cpus: every allowed CPU */
		for (int c = 0; c < 6; c++)
			row[c] = cells[c];
		slc_table_row(&t, row);
	}
	slc_table_print(f, &t, "", right);
	slc_table_fini(&t);
}

/* Nested objects become dotted keys ("lcores.rx"); arrays stay JSON. */
static void
object_rows(struct slc_table *t, const char *prefix, const json_t *o)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)(uintptr_t)o, k, v) {
		char key[256], val[4096];
		const char *row[2] = { key, val };

		snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "", k);
		if (json_is_object(v) && json_object_size(v) > 0) {
			object_rows(t, key, v);
			continue;
		}
		slc_fmt_scalar(val, sizeof(val), v);
		slc_table_row(t, row);
	}
}

void
slc_print_object(FILE *f, const json_t *data)
{
	struct slc_table t;

	if (!json_is_object(data)) {
		if (data != NULL)
			slc_print_json(f, data);
		return;
	}
	slc_table_init(&t, 2);
	object_rows(&t, "", data);
	slc_table_print(f, &t, "", NULL);
	slc_table_fini(&t);
}

static const char *
wm_key(const json_t *lc)
{
	return json_object_get(lc, "currentInputWatermark") ? "currentInputWatermark" :
	       "currentOutputWatermark";
}

void
slc_print_metrics(FILE *f, const json_t *data)
{
	static const char *const hdr[] = { "ROLE", "ID", "LCORE", "CPU", "IN", "OUT",
		"IN/s", "OUT/s", "BUSY%", "BP%", "WATERMARK", "LAG" };
	static const bool right[] = { false, true, true, true, true, true, true,
		true, true, true, false, false };
	static const char *const ohdr[] = { "OPERATOR", "IN", "OUT", "LATE" };
	static const bool oright[] = { false, true, true, true };
	const json_t *dp = json_object_get(data, "dataplane");
	const json_t *lcores, *ops, *lc;
	struct slc_table t;
	size_t i;

	if (json_is_null(dp) && json_is_object(json_object_get(data, "final"))) {
		/* A finished job: the dataplane is gone, its final stats stay. */
		fprintf(f, "job %s %s: final stats\n",
			json_string_value(json_object_get(data, "job")) ?
			json_string_value(json_object_get(data, "job")) : "?",
			json_string_value(json_object_get(data, "state")) ?
			json_string_value(json_object_get(data, "state")) : "?");
		slc_print_object(f, json_object_get(data, "final"));
		return;
	}
	if (dp == NULL)
		dp = data;
	fprintf(f, "job %s", json_string_value(json_object_get(dp, "job")) ?
		json_string_value(json_object_get(dp, "job")) :
		(json_string_value(json_object_get(data, "job")) ?
		 json_string_value(json_object_get(data, "job")) : "?"));
	if (json_is_string(json_object_get(data, "state")))
		fprintf(f, "  state %s", json_string_value(json_object_get(data, "state")));
	if (json_is_integer(json_object_get(data, "numRestarts")))
		fprintf(f, "  restarts %" JSON_INTEGER_FORMAT,
			json_integer_value(json_object_get(data, "numRestarts")));
	if (json_is_integer(json_object_get(dp, "pid")))
		fprintf(f, "  pid %" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(dp, "pid")));
	if (json_is_integer(json_object_get(dp, "uptimeMs"))) {
		char d[32];

		slc_fmt_dur(d, sizeof(d), json_integer_value(json_object_get(dp, "uptimeMs")));
		fprintf(f, "  up %s", d);
	}
	fputc('\n', f);
	lcores = json_object_get(dp, "lcores");
	if (json_array_size(lcores) > 0) {
		slc_table_init(&t, 12);
		slc_table_row(&t, hdr);
		json_array_foreach(lcores, i, lc) {
			char c[12][64];
			const char *row[12];
			const json_t *wm = json_object_get(lc, wm_key(lc));
			const json_t *lag = json_object_get(lc, "watermarkLagMs");

			slc_fmt_scalar(c[0], 64, json_object_get(lc, "role"));
			slc_fmt_scalar(c[1], 64, json_object_get(lc, "id"));
			slc_fmt_scalar(c[2], 64, json_object_get(lc, "lcore"));
			slc_fmt_scalar(c[3], 64, json_object_get(lc, "cpu"));
			slc_fmt_scalar(c[4], 64, json_object_get(lc, "numRecordsIn"));
			slc_fmt_scalar(c[5], 64, json_object_get(lc, "numRecordsOut"));
			slc_fmt_rate(c[6], 64, json_number_value(json_object_get(lc, "numRecordsInPerSecond")));
			slc_fmt_rate(c[7], 64, json_number_value(json_object_get(lc, "numRecordsOutPerSecond")));
			snprintf(c[8], 64, "%.1f", json_number_value(json_object_get(lc, "busyTimeMsPerSecond")) / 10);
			snprintf(c[9], 64, "%.1f", json_number_value(json_object_get(lc, "backPressuredTimeMsPerSecond")) / 10);
			if (json_is_integer(wm))
				slc_fmt_ts(c[10], 64, json_integer_value(wm));
			else
				snprintf(c[10], 64, "-");
			if (json_is_integer(lag))
				slc_fmt_dur(c[11], 64, json_integer_value(lag));
			else
				snprintf(c[11], 64, "-");
			for (int k = 0; k < 12; k++)
				row[k] = c[k];
			slc_table_row(&t, row);
		}
		fputc('\n', f);
		slc_table_print(f, &t, "", right);
		slc_table_fini(&t);
	}
	ops = json_object_get(dp, "operators");
	if (json_array_size(ops) > 0) {
		slc_table_init(&t, 4);
		slc_table_row(&t, ohdr);
		json_array_foreach(ops, i, lc) {
			char c[4][96];
			const char *row[4] = { c[0], c[1], c[2], c[3] };

			slc_fmt_scalar(c[0], 96, json_object_get(lc, "name"));
			slc_fmt_scalar(c[1], 96, json_object_get(lc, "numRecordsIn"));
			slc_fmt_scalar(c[2], 96, json_object_get(lc, "numRecordsOut"));
			slc_fmt_scalar(c[3], 96, json_object_get(lc, "numLateRecordsDropped"));
			slc_table_row(&t, row);
		}
		fputc('\n', f);
		slc_table_print(f, &t, "", oright);
		slc_table_fini(&t);
	}
}
