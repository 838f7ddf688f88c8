/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GEN_H
#define GEN_H

/**
 * @file
 * sluice-gen internals, private to perf/sluice-gen and its unit test.
 *
 * gen_conf.c parses the command line into struct gen_conf, gen_data.c turns
 * a seed into the same event stream every time, gen_write.c writes that
 * stream as CSV, pcap or a binary capture, and gen_send.c (the only file that
 * needs the EAL) sends it out of a DPDK port. Everything except gen_send.c
 * lives in the EAL-free static library sl_gen_lib, so the test calls the
 * same functions the binary does.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sl_gen.h"
#include "sl_vec.h"
#include "sl_wire.h"

#define GEN_UDP_PAYLOAD_MAX 1472	/**< 1500-byte MTU minus IPv4 and UDP */
#define GEN_ERR_MAX 256

enum gen_mode {
	GEN_MODE_WRITE,
	GEN_MODE_SEND,
};

/** Everything the command line says; filled by gen_conf_parse(). */
struct gen_conf {
	enum gen_mode mode;
	const char *schema_spec;	/**< --schema, as given */
	const char *key_spec;		/**< --key: comma-separated names */
	const char *ts_name;		/**< --ts */
	struct sl_schema schema;
	uint32_t schema_id;
	uint16_t n_key;				/**< key fields */
	uint16_t key_f[SL_SCHEMA_MAX_FIELDS];	/**< their field indexes */
	uint16_t ts_f;				/**< event-time field index */

	uint64_t seed;
	uint64_t events;
	uint64_t keys;
	int64_t start_ms;
	uint64_t rate;		/**< events per second (write: of event time) */
	uint64_t disorder;	/**< ms */
	double late_fraction;
	uint64_t late_ms;
	uint16_t rpp;		/**< records per packet */
	uint32_t partitions;
	uint16_t udp_port;
	bool no_end;

	/* write */
	const char *csv;
	const char *pcap;
	const char *capture;

	/* send */
	const char *port;	/**< --vdev argument */
	const char *eal;	/**< extra EAL arguments, space separated */
	const char *replay;	/**< --replay: a pcap whose frames are sent as they are */
	double seconds;		/**< run time when --events is not given */
	bool events_given;
	int lcore;		/**< -1: first CPU we may run on */
	bool json;
	bool help;		/**< --help was given: print usage, exit 0 */
};

/** What a run produced; printed by the binary, checked by the test. */
struct gen_summary {
	uint64_t events;
	uint64_t packets;	/**< including END packets */
	uint64_t late;
	int64_t ts_min;
	int64_t ts_max;
};

/* ---- gen_conf.c ---- */

/**
 * Parse argv (argv[0] is the mode, "write" or "send") into *c.
 * @return 0, or -EINVAL with a message naming the option in err.
 */
int gen_conf_parse(struct gen_conf *c, int argc, char **argv, char *err,
		   size_t err_len);

/** Print the usage of every option to f. */
void gen_usage(FILE *f);

/** The largest records-per-packet a 1472-byte UDP payload allows. */
uint16_t gen_rpp_max(uint16_t row_size);

/* ---- gen_data.c: the deterministic event stream ---- */

/*
 * The generator itself is drivers/gen (sl_gen.h), shared with the
 * dataplane's `type: gen` source; these adapt a command line to it.
 */

/** Produces the events of a conf, one after the other. */
struct gen_stream {
	struct sl_gen g;
};

/** The generator parameters a command line stands for. */
void gen_params(const struct gen_conf *c, struct sl_gen_params *p);

/** @return 0, or -EINVAL if c is out of the generator's range. */
int gen_stream_init(struct gen_stream *st, const struct gen_conf *c);

/**
 * Write the next event into row (schema row_size bytes) and advance.
 * @return true if the event was made late on purpose.
 */
bool gen_stream_next(struct gen_stream *st, uint8_t *row);

/** Event-time base of event i: start + i * 1000 / rate (rate > 0). */
int64_t gen_base_ts(const struct gen_conf *c, uint64_t i);

/* ---- gen_write.c ---- */

/** Write the CSV header row. @return 0 or -EIO. */
int gen_csv_header(FILE *f, const struct sl_schema *s);
/** Write one row as a CSV line. @return 0 or -EIO. */
int gen_csv_row(FILE *f, const struct sl_schema *s, const uint8_t *row);

/**
 * Run `sluice-gen write`: generate c->events events into the files named
 * in c. @return 0, or a negative errno with a message in err.
 */
int gen_write(const struct gen_conf *c, struct gen_summary *sum, char *err,
	      size_t err_len);

/* ---- gen_send.c (the binary only: needs the EAL) ---- */

/** Run `sluice-gen send`. @return the process exit code. */
int gen_send(const struct gen_conf *c, const char *argv0);

#endif /* GEN_H */
