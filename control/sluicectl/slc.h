/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SLC_H
#define SLC_H

/**
 * @file
 * sluicectl internals (docs/control-protocol.md, "sluicectl"). The CLI verb
 * table lives in slc_cli.c beside the thin protocol handlers; the verbs that
 * send a protocol request name their SL_PROTO_VERBS entry, so their help
 * text and the docs come from one place. Everything except main() is in a
 * static library so tests/unit/sluicectl can call the pure parts: argument
 * parsing, exit codes, the `info` graph and the `top` frame.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "sl_proto.h"

struct sl_plan;

/*
 * Exit codes. A reply with code i of SL_PROTO_CODES (i >= 1) exits with
 * SLC_EXIT_CODE_BASE + i: the mapping follows the table, so a code
 * appended to it gets the next number and existing ones never move.
 */
#define SLC_EXIT_OK 0
#define SLC_EXIT_ERROR 1	/**< the daemon answered an error code unknown to this sluicectl */
#define SLC_EXIT_USAGE 2
#define SLC_EXIT_UNREACHABLE 3	/**< no socket, refused, timed out, or a reply that is not protocol */
#define SLC_EXIT_WARN 4		/**< doctor: warnings only */
#define SLC_EXIT_FAIL 5		/**< doctor: at least one failure */
#define SLC_EXIT_CODE_BASE 9	/**< bad_request (1) exits 10 */

#define SLC_DEFAULT_TIMEOUT_MS 5000
#define SLC_DEFAULT_CKPT_DIR "/var/lib/sluice/checkpoints"
#define SLC_MAX_POS 2
#define SLC_MAX_CPUS 256

/* Verb options, as bits of struct slc_verb.opts. */
#define SLC_O_NAME 0x01		/**< --name N */
#define SLC_O_INLINE 0x02	/**< --inline */
#define SLC_O_ONCE 0x04		/**< --once */
#define SLC_O_INTERVAL 0x08	/**< --interval S */
#define SLC_O_CKPT_DIR 0x10	/**< --checkpoint-dir DIR */
#define SLC_O_CPUS 0x20		/**< --cpus LIST */
#define SLC_O_SAVEPOINT 0x40	/**< --savepoint DIR */

struct slc_opts;

struct slc_verb {
	const char *name;
	int proto;		/**< enum sl_proto_verb it sends, -1 for a local verb */
	const char *usage;	/**< positional arguments and verb options */
	const char *help;	/**< NULL: the protocol verb's help text */
	uint8_t min_pos;
	uint8_t max_pos;
	unsigned int opts;	/**< SLC_O_* the verb accepts */
	int (*run)(const struct slc_opts *o);
};

/** The command line, parsed. Strings point into argv. */
struct slc_opts {
	const struct slc_verb *verb;	/**< NULL: no verb (plain --help/--version) */
	const char *socket;
	int timeout_ms;
	bool json;
	bool help;
	bool version;
	/* verb options */
	const char *name;
	const char *savepoint;	/**< run --savepoint DIR: start from it */
	bool inline_yaml;
	bool once;
	unsigned int interval_ms;
	const char *ckpt_dir;
	const char *cpus;
	const char *pos[SLC_MAX_POS];
	unsigned int n_pos;
};

extern const struct slc_verb slc_verbs[];
extern const unsigned int slc_n_verbs;

const struct slc_verb *slc_verb_find(const char *name);
/** The verb's one-line help (its own, or its protocol verb's). */
const char *slc_verb_help(const struct slc_verb *v);

/**
 * Parse argv. Global options may come before or after the verb.
 * env_socket is $SLUICE_SOCKET (may be NULL).
 * @return 0, or SLC_EXIT_USAGE with err filled.
 */
int slc_parse(int argc, char **argv, const char *env_socket,
	      struct slc_opts *o, char *err, size_t errlen);

/** Exit code of a reply code name: 0 for "ok", SLC_EXIT_ERROR if unknown. */
int slc_exit_of_code(const char *code);

void slc_usage(FILE *f);
void slc_verb_usage(FILE *f, const struct slc_verb *v);

/**
 * Send one request; on an error reply or a transport failure print the
 * reason on stderr (unless quiet). *reply gets the whole reply on success
 * (a new reference), NULL otherwise.
 * @return the exit code. args is stolen.
 */
int slc_call(const struct slc_opts *o, enum sl_proto_verb verb, json_t *args,
	     bool quiet, json_t **reply);
/** Print a JSON value the way --json does (indented, sorted keys, newline). */
void slc_print_json(FILE *f, const json_t *j);

/* Verb handlers. */
int slc_cmd_remote(const struct slc_opts *o);
int slc_cmd_run(const struct slc_opts *o);
int slc_cmd_info(const struct slc_opts *o);
int slc_cmd_checkpoints(const struct slc_opts *o);
int slc_cmd_top(const struct slc_opts *o);
int slc_cmd_doctor(const struct slc_opts *o);
int slc_cmd_version(const struct slc_opts *o);
int slc_cmd_help(const struct slc_opts *o);

/* Human output of replies (slc_remote.c). */
void slc_print_list(FILE *f, const json_t *data);
void slc_print_object(FILE *f, const json_t *data);
void slc_print_metrics(FILE *f, const json_t *data);

/* info (slc_info.c). */

/** "1", "0-3", "0,2,4-5" -> cpus[]. @return the count, or -1. */
int slc_parse_cpus(const char *s, int *cpus, int max);
/** The CPUs a job's lcores are placed on; *source says where they came from. */
int slc_job_cpus(const struct sl_plan *p, const char *cpu_opt, int *cpus,
		 int max, const char **source);
void slc_info_text(FILE *f, const struct sl_plan *p, const int *cpus, int ncpu,
		   const char *cpu_source);
json_t *slc_info_json(const struct sl_plan *p, const int *cpus, int ncpu,
		      const char *cpu_source);

/* top (slc_top.c). */

/** One frame of `top` from a metrics reply's data (daemon or dataplane). */
void slc_top_frame(FILE *f, const json_t *data);

/* Formatting helpers (slc_fmt.c). */

/** A table of strings printed with aligned columns. */
struct slc_table {
	unsigned int ncol;
	unsigned int nrow;
	unsigned int cap;
	char **cell;		/**< nrow * ncol, row-major; row 0 is the header */
};

void slc_table_init(struct slc_table *t, unsigned int ncol);
/** Append a row of ncol strings (copied). */
void slc_table_row(struct slc_table *t, const char *const *cells);
/** Print with two spaces between columns, numbers right-aligned if right[c]. */
void slc_table_print(FILE *f, const struct slc_table *t, const char *indent,
		     const bool *right);
void slc_table_fini(struct slc_table *t);

/** 1234567 -> "1.23M"; < 1000 printed whole. */
void slc_fmt_rate(char *buf, size_t len, double v);
/** Event time in ms -> "2023-11-14T22:13:38.943Z". */
void slc_fmt_ts(char *buf, size_t len, int64_t ms);
/** A duration in ms -> "950ms", "12.3s", "4m05s", "2h03m". */
void slc_fmt_dur(char *buf, size_t len, int64_t ms);
/** A JSON scalar as text ("-" for null or absent). */
void slc_fmt_scalar(char *buf, size_t len, const json_t *j);

#endif /* SLC_H */
