/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CLI verb table, argument parsing, help and exit codes. Verbs that send
 * a request name their SL_PROTO_VERBS entry: their help text comes from
 * there, and slc_cmd_remote() derives their arguments from its "key=VALUE"
 * documentation, so the CLI, the servers and docs/control-protocol.md
 * cannot disagree about what a verb takes.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sl_build_config.h"
#include "slc.h"

/* CLI verbs in --help order: Flink's names first, then sluice's own. */
const struct slc_verb slc_verbs[] = {
	{ "run", SL_PROTO_VERB_SUBMIT, "JOB_FILE [--name N] [--inline] [--savepoint DIR]", NULL,
	  1, 1, SLC_O_NAME | SLC_O_INLINE | SLC_O_SAVEPOINT, slc_cmd_run },
	{ "list", SL_PROTO_VERB_LIST, "", NULL, 0, 0, 0, slc_cmd_remote },
	{ "info", -1, "JOB_FILE [--cpus LIST]",
	  "print a job's compiled graph, parallelism, key groups and lcore placement, without running it (local)",
	  1, 1, SLC_O_CPUS, slc_cmd_info },
	{ "cancel", SL_PROTO_VERB_CANCEL, "JOB", NULL, 1, 1, 0, slc_cmd_remote },
	{ "stop", SL_PROTO_VERB_STOP, "JOB [--savepoint DIR]",
	  "stop a job gracefully: drain (fire every window, flush the sink); with --savepoint, take a savepoint into DIR and stop without draining",
	  1, 1, SLC_O_SAVEPOINT, slc_cmd_remote },
	{ "checkpoint", SL_PROTO_VERB_CHECKPOINT, "JOB", NULL, 1, 1, 0,
	  slc_cmd_remote },
	{ "savepoint", SL_PROTO_VERB_SAVEPOINT, "JOB DIR", NULL, 2, 2, 0,
	  slc_cmd_remote },
	{ "status", SL_PROTO_VERB_STATUS, "JOB", NULL, 1, 1, 0, slc_cmd_remote },
	{ "metrics", SL_PROTO_VERB_METRICS, "JOB", NULL, 1, 1, 0,
	  slc_cmd_remote },
	{ "top", SL_PROTO_VERB_METRICS, "JOB [--once] [--interval S]",
	  "a view of a job's lcores refreshed every second, like top (q or Ctrl-C quits)",
	  1, 1, SLC_O_ONCE | SLC_O_INTERVAL, slc_cmd_top },
	{ "validate", SL_PROTO_VERB_VALIDATE, "JOB_FILE [--inline]", NULL, 1, 1,
	  SLC_O_INLINE, slc_cmd_run },
	{ "checkpoints", -1, "JOB",
	  "list the job's checkpoints and savepoints in its state.checkpoints.dir: id, kind, status, bytes, duration",
	  1, 1, 0, slc_cmd_checkpoints },
	{ "doctor", -1, "[JOB_FILE] [--checkpoint-dir DIR] [--cpus LIST]",
	  "check hugepages, CPUs, memlock, io_uring, the checkpoint directory and the daemon, with a fix for each problem (local)",
	  0, 1, SLC_O_CKPT_DIR | SLC_O_CPUS, slc_cmd_doctor },
	{ "version", SL_PROTO_VERB_VERSION, "", NULL, 0, 0, 0, slc_cmd_version },
	{ "help", -1, "[VERB]", "this help, or one verb's", 0, 1, 0,
	  slc_cmd_help },
};
const unsigned int slc_n_verbs = sizeof(slc_verbs) / sizeof(slc_verbs[0]);

/* Every option; bit 0 marks a global one, accepted with any verb. */
static const struct slc_optdef {
	const char *name;
	char shrt;
	unsigned int bit;
	const char *arg;	/* NULL: a flag */
	const char *help;
} optdefs[] = {
	{ "socket", 0, 0, "PATH",
	  "sluiced's socket (default: $SLUICE_SOCKET, else " SL_PROTO_DEFAULT_SOCKET ")" },
	{ "json", 0, 0, NULL,
	  "print the reply's data as JSON, as sent (local verbs: a JSON object of their own)" },
	{ "timeout", 0, 0, "MS", "how long to wait for the daemon, in ms (default 5000)" },
	{ "help", 'h', 0, NULL, "this help; VERB --help for one verb" },
	{ "version", 'V', 0, NULL, "print sluicectl's version and exit" },
	{ "name", 0, SLC_O_NAME, "N", "run the job under this name instead of its 'job' key" },
	{ "inline", 0, SLC_O_INLINE, NULL,
	  "send the YAML text instead of the file's absolute path (the daemon need not see the file)" },
	{ "savepoint", 0, SLC_O_SAVEPOINT, "DIR",
	  "start from this savepoint or checkpoint (a chk-N directory), onto any number of workers" },
	{ "once", 0, SLC_O_ONCE, NULL, "print one frame without clearing the screen, then exit" },
	{ "interval", 0, SLC_O_INTERVAL, "S", "seconds between frames (default 1, at least 0.1)" },
	{ "checkpoint-dir", 0, SLC_O_CKPT_DIR, "DIR",
	  "checkpoint directory to check (default " SLC_DEFAULT_CKPT_DIR ")" },
	{ "cpus", 0, SLC_O_CPUS, "LIST",
	  "CPUs for the polling lcores, as sluice-dp --cpus (default: the job's lcores.cpus, else this process's allowed CPUs)" },
};
#define N_OPTDEFS (sizeof(optdefs) / sizeof(optdefs[0]))

const struct slc_verb *
slc_verb_find(const char *name)
{
	for (unsigned int i = 0; i < slc_n_verbs; i++)
		if (strcmp(slc_verbs[i].name, name) == 0)
			return &slc_verbs[i];
	return NULL;
}

const char *
slc_verb_help(const struct slc_verb *v)
{
	if (v->help != NULL)
		return v->help;
	return v->proto >= 0 ? sl_proto_verbs[v->proto].help : "";
}

int
slc_exit_of_code(const char *code)
{
	int i = code ? sl_proto_code_find(code) : -1;

	if (i < 0)
		return SLC_EXIT_ERROR;
	return i == SL_PROTO_OK ? SLC_EXIT_OK : SLC_EXIT_CODE_BASE + i;
}

static const struct slc_optdef *
opt_find(const char *name, size_t len, char shrt)
{
	for (size_t i = 0; i < N_OPTDEFS; i++) {
		if (shrt != 0 ? optdefs[i].shrt == shrt :
		    strlen(optdefs[i].name) == len &&
		    strncmp(optdefs[i].name, name, len) == 0)
			return &optdefs[i];
	}
	return NULL;
}

static int
set_opt(struct slc_opts *o, const struct slc_optdef *d, const char *val,
	char *err, size_t errlen)
{
	char *end;

	if (strcmp(d->name, "socket") == 0) {
		if (*val == '\0') {
			snprintf(err, errlen, "--socket needs a path");
			return -1;
		}
		o->socket = val;
	} else if (strcmp(d->name, "json") == 0) {
		o->json = true;
	} else if (strcmp(d->name, "timeout") == 0) {
		long ms;

		errno = 0;
		ms = strtol(val, &end, 10);
		if (errno != 0 || end == val || *end != '\0' || ms <= 0 ||
		    ms > 24L * 3600 * 1000) {
			snprintf(err, errlen,
				 "--timeout: expected milliseconds 1..86400000, got '%s'", val);
			return -1;
		}
		o->timeout_ms = (int)ms;
	} else if (strcmp(d->name, "help") == 0) {
		o->help = true;
	} else if (strcmp(d->name, "version") == 0) {
		o->version = true;
	} else if (strcmp(d->name, "name") == 0) {
		o->name = val;
	} else if (strcmp(d->name, "inline") == 0) {
		o->inline_yaml = true;
	} else if (strcmp(d->name, "savepoint") == 0) {
		o->savepoint = val;
	} else if (strcmp(d->name, "once") == 0) {
		o->once = true;
	} else if (strcmp(d->name, "interval") == 0) {
		double s = strtod(val, &end);

		if (end == val || *end != '\0' || !isfinite(s) || s < 0.1 ||
		    s > 3600) {
			snprintf(err, errlen,
				 "--interval: expected seconds 0.1..3600, got '%s'", val);
			return -1;
		}
		o->interval_ms = (unsigned int)lround(s * 1000);
	} else if (strcmp(d->name, "checkpoint-dir") == 0) {
		o->ckpt_dir = val;
	} else if (strcmp(d->name, "cpus") == 0) {
		int cpus[SLC_MAX_CPUS];

		if (slc_parse_cpus(val, cpus, SLC_MAX_CPUS) <= 0) {
			snprintf(err, errlen,
				 "--cpus '%s': expected a list like 1 or 0-3 or 0,2", val);
			return -1;
		}
		o->cpus = val;
	}
	return 0;
}

int
slc_parse(int argc, char **argv, const char *env_socket, struct slc_opts *o,
	  char *err, size_t errlen)
{
	unsigned int seen = 0;
	bool only_pos = false;

	memset(o, 0, sizeof(*o));
	o->socket = env_socket && *env_socket ? env_socket : SL_PROTO_DEFAULT_SOCKET;
	o->timeout_ms = SLC_DEFAULT_TIMEOUT_MS;
	o->interval_ms = 1000;
	err[0] = '\0';
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		const struct slc_optdef *d;

		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (!only_pos && a[0] == '-' && a[1] != '\0') {
			if (a[1] == '-') {
				eq = strchr(a + 2, '=');
				d = opt_find(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2), 0);
			} else {
				eq = NULL;
				d = a[2] == '\0' ? opt_find(NULL, 0, a[1]) : NULL;
			}
			if (d == NULL) {
				snprintf(err, errlen, "unknown option '%s'", a);
				return SLC_EXIT_USAGE;
			}
			if (d->arg != NULL) {
				if (eq != NULL) {
					val = eq + 1;
				} else if (i + 1 < argc) {
					val = argv[++i];
				} else {
					snprintf(err, errlen, "option --%s needs %s", d->name, d->arg);
					return SLC_EXIT_USAGE;
				}
			} else if (eq != NULL) {
				snprintf(err, errlen, "option --%s takes no value", d->name);
				return SLC_EXIT_USAGE;
			}
			if (set_opt(o, d, val, err, errlen) != 0)
				return SLC_EXIT_USAGE;
			seen |= d->bit;
			continue;
		}
		if (o->verb == NULL) {
			o->verb = slc_verb_find(a);
			if (o->verb == NULL) {
				snprintf(err, errlen, "unknown verb '%s'; sluicectl --help lists them", a);
				return SLC_EXIT_USAGE;
			}
			continue;
		}
		if (o->n_pos == o->verb->max_pos) {
			snprintf(err, errlen, "%s: unexpected argument '%s'; usage: sluicectl %s %s",
				 o->verb->name, a, o->verb->name, o->verb->usage);
			return SLC_EXIT_USAGE;
		}
		o->pos[o->n_pos++] = a;
	}
	if (o->verb == NULL) {
		if (o->help || o->version)
			return 0;
		snprintf(err, errlen, "no verb given; sluicectl --help lists them");
		return SLC_EXIT_USAGE;
	}
	if (seen & ~o->verb->opts) {
		for (size_t i = 0; i < N_OPTDEFS; i++)
			if (optdefs[i].bit & seen & ~o->verb->opts) {
				snprintf(err, errlen, "option --%s does not apply to '%s'",
					 optdefs[i].name, o->verb->name);
				break;
			}
		return SLC_EXIT_USAGE;
	}
	if (!o->help && o->n_pos < o->verb->min_pos) {
		snprintf(err, errlen, "%s: missing argument; usage: sluicectl %s %s",
			 o->verb->name, o->verb->name, o->verb->usage);
		return SLC_EXIT_USAGE;
	}
	return 0;
}

static void
print_opt(FILE *f, const struct slc_optdef *d)
{
	char lhs[64];

	if (d->shrt)
		snprintf(lhs, sizeof(lhs), "-%c, --%s%s%s", d->shrt, d->name,
			 d->arg ? " " : "", d->arg ? d->arg : "");
	else
		snprintf(lhs, sizeof(lhs), "--%s%s%s", d->name, d->arg ? " " : "",
			 d->arg ? d->arg : "");
	fprintf(f, "  %-22s %s\n", lhs, d->help);
}

static void
print_exit_codes(FILE *f)
{
	fprintf(f, "exit codes:\n"
		"  0   ok\n"
		"  1   the daemon answered an error code this sluicectl does not know\n"
		"  2   usage error\n"
		"  3   cannot reach the daemon: no socket, refused, timed out, or a reply that is not protocol\n"
		"  4   doctor: warnings only\n"
		"  5   doctor: at least one failure\n");
	for (int i = 1; i < SL_PROTO__CODE_COUNT; i++)
		fprintf(f, "  %-3d %s: %s\n", SLC_EXIT_CODE_BASE + i,
			sl_proto_code_name((enum sl_proto_code)i),
			sl_proto_code_desc((enum sl_proto_code)i));
}

void
slc_usage(FILE *f)
{
	struct slc_table t;

	fprintf(f, "usage: sluicectl [--socket PATH] [--json] [--timeout MS] VERB [ARGS]\n\n"
		"Drives sluiced, the sluice control plane, over its unix socket.\n\n"
		"verbs:\n");
	slc_table_init(&t, 2);
	for (unsigned int i = 0; i < slc_n_verbs; i++) {
		char lhs[128];
		const char *row[2] = { lhs, slc_verb_help(&slc_verbs[i]) };

		snprintf(lhs, sizeof(lhs), "%s%s%s", slc_verbs[i].name,
			 slc_verbs[i].usage[0] ? " " : "", slc_verbs[i].usage);
		slc_table_row(&t, row);
	}
	slc_table_print(f, &t, "  ", NULL);
	slc_table_fini(&t);
	fprintf(f, "\nglobal options (before or after the verb):\n");
	for (size_t i = 0; i < N_OPTDEFS; i++)
		if (optdefs[i].bit == 0)
			print_opt(f, &optdefs[i]);
	fputc('\n', f);
	print_exit_codes(f);
	fprintf(f, "\nJOB is a job's name; JOB_FILE a job file (docs/job-spec.md).\n"
		"Protocol and details: docs/control-protocol.md\n");
}

void
slc_verb_usage(FILE *f, const struct slc_verb *v)
{
	fprintf(f, "usage: sluicectl %s%s%s\n\n%s\n", v->name, v->usage[0] ? " " : "",
		v->usage, slc_verb_help(v));
	if (v->proto >= 0)
		fprintf(f, "\nsends: %s%s%s%s\n", sl_proto_verbs[v->proto].name,
			sl_proto_verbs[v->proto].args[0] ? " (" : "",
			sl_proto_verbs[v->proto].args,
			sl_proto_verbs[v->proto].args[0] ? ")" : "");
	if (v->opts) {
		fprintf(f, "\noptions:\n");
		for (size_t i = 0; i < N_OPTDEFS; i++)
			if (optdefs[i].bit & v->opts)
				print_opt(f, &optdefs[i]);
	}
	fprintf(f, "\nglobal options:\n");
	for (size_t i = 0; i < N_OPTDEFS; i++)
		if (optdefs[i].bit == 0)
			print_opt(f, &optdefs[i]);
	fprintf(f, "\nexit codes: sluicectl --help lists them.\n");
}

int
slc_cmd_help(const struct slc_opts *o)
{
	const struct slc_verb *v;

	if (o->n_pos == 0) {
		slc_usage(stdout);
		return SLC_EXIT_OK;
	}
	v = slc_verb_find(o->pos[0]);
	if (v == NULL) {
		fprintf(stderr, "sluicectl: unknown verb '%s'; sluicectl --help lists them\n",
			o->pos[0]);
		return SLC_EXIT_USAGE;
	}
	slc_verb_usage(stdout, v);
	return SLC_EXIT_OK;
}
