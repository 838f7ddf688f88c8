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
#include "sl_hdr.h"
#include "sl_vec.h"
#include "sl_wire.h"

#define GEN_UDP_PAYLOAD_MAX SL_WIRE_UDP_PAYLOAD_MAX
#define GEN_ERR_MAX 256

enum gen_mode {
	GEN_MODE_WRITE,
	GEN_MODE_SEND,
	GEN_MODE_DECODE,
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

	/* send: latency (the results come back on the same port) */
	const char *latency;	/**< --latency: input field stamped with the due time, ns */
	const char *out_schema_spec;	/**< --out-schema */
	struct sl_schema out_schema;
	uint32_t out_schema_id;
	uint16_t lat_in_off;	/**< the field's offset in input rows */
	uint16_t lat_out_off;	/**< ... and in result rows */
	uint16_t out_udp_port;	/**< results' UDP port (9001) */
	uint32_t out_partitions;	/**< result partitions whose END ends the run (1) */
	uint64_t drain_ms;	/**< wait this long for results after sending (2000) */
	const char *hist;	/**< --hist: percentile distribution table to this file */
	double warmup;		/**< seconds of results left out of the histogram */
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

/* ---- gen_recv.c: results coming back (latency, decode) ---- */

/**
 * The receiving side: wire-format result frames (sluice's ethdev sink)
 * parsed against the result schema, each row's latency recorded, or each
 * row written as CSV (decode). EAL-free, so the unit test drives it.
 */
struct gen_recv {
	struct sl_wire_rx rx;		/**< packets, records, drops by reason, gaps */
	const struct sl_schema *s;
	int lat_off;			/**< the stamp's offset in a result row; -1: none */
	uint64_t warm_ns;		/**< rows stamped before this are not recorded */
	uint64_t rows;
	uint64_t ends;			/**< END packets */
	uint64_t warm;			/**< rows left out as warm-up */
	uint64_t future;		/**< rows stamped after their arrival (a bad stamp) */
	bool measuring;			/**< a row past the warm-up has come */
	uint64_t warm_gaps;		/**< sequence gaps before that (a receiver starting up) */
	bool have_hist;
	struct sl_hdr h;		/**< latency, ns */
	FILE *csv;			/**< decode: rows as CSV, or NULL */
	int err;			/**< a CSV write failed */
	char line[65536];
};

/**
 * lat_off >= 0: record latencies (1 ns .. 1 h, 3 significant digits).
 * @return 0 or -ENOMEM.
 */
int gen_recv_init(struct gen_recv *r, const struct sl_schema *s,
		  uint16_t udp_port, int lat_off, uint64_t warm_ns);
/** One frame, arrived at now_ns on the stamps' clock. */
void gen_recv_frame(struct gen_recv *r, const uint8_t *frame, uint32_t len,
		    uint64_t now_ns);
/** Sequence gaps summed over the result partitions. */
uint64_t gen_recv_gaps(const struct gen_recv *r);
/** ... of them, those after the warm-up: results lost while measuring. */
uint64_t gen_recv_lost(const struct gen_recv *r);
/** Packets dropped, all reasons. */
uint64_t gen_recv_drops(const struct gen_recv *r);
void gen_recv_fini(struct gen_recv *r);

/**
 * Run `sluice-gen decode`: the frames of c->pcap to CSV (c->csv, "-" for
 * stdout), then a summary on stderr. @return the exit code: 0, 1 when a
 * packet was dropped or a sequence number is missing, 2 for bad usage.
 */
int gen_decode(const struct gen_conf *c);

/* ---- gen_send.c (the binary only: needs the EAL) ---- */

/** Run `sluice-gen send`. @return the process exit code. */
int gen_send(const struct gen_conf *c, const char *argv0);

#endif /* GEN_H */
