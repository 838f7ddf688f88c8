/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN
 *
 * Every option is one row of opts[]: name, type, where it lands in struct
 * gen_conf, bounds, the modes that accept it and its help text. The parser
 * and --help both read that table, so an option cannot be parsed without
 * being documented or documented without being parsed. Checks that relate
 * several options (the key must be a field of the schema, records per
 * packet must fit a datagram) run after the table, in conf_check().
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

enum opt_kind {
	O_FLAG,		/* bool, no argument */
	O_STR,		/* const char * */
	O_U16,
	O_U32,
	O_U64,
	O_I64,
	O_INT,
	O_DBL,
};

#define M_W (1u << GEN_MODE_WRITE)
#define M_S (1u << GEN_MODE_SEND)
#define M_D (1u << GEN_MODE_DECODE)

struct opt {
	const char *name;
	enum opt_kind kind;
	size_t off;
	unsigned int modes;
	uint64_t max;		/* for integers; min is 0 unless checked later */
	const char *arg;	/* argument name in --help */
	const char *help;
};

#define F(x) offsetof(struct gen_conf, x)

static const struct opt opts[] = {
	{ "schema", O_STR, F(schema_spec), M_W | M_S | M_D, 0, "SPEC",
	  "fields, e.g. user_id:u64,url_id:u32,ts:timestamp_ms (required); "
	  "decode: the result rows' fields" },
	{ "key", O_STR, F(key_spec), M_W | M_S, 0, "F[,F..]",
	  "key field(s): integer fields get k, str fields \"k<k>\" (required)" },
	{ "ts", O_STR, F(ts_name), M_W | M_S, 0, "F",
	  "event-time field: timestamp_ms, i64 or u64 (required)" },
	{ "seed", O_U64, F(seed), M_W | M_S, UINT64_MAX, "N",
	  "PRNG seed; the same seed gives the same bytes (1)" },
	{ "events", O_U64, F(events), M_W | M_S, UINT64_MAX / 1000, "N",
	  "events to generate (write: 10000; send: see --seconds)" },
	{ "seconds", O_DBL, F(seconds), M_S, 0, "S",
	  "send for S seconds of wall time instead of --events (10)" },
	{ "keys", O_U64, F(keys), M_W | M_S, UINT32_MAX, "N",
	  "distinct keys (write: 100; send: 10000)" },
	{ "start-ms", O_I64, F(start_ms), M_W | M_S, 0, "MS",
	  "event time of event 0 (1700000000000)" },
	{ "rate", O_U64, F(rate), M_W | M_S, UINT32_MAX, "R",
	  "write: events per second of event time (1000); "
	  "send: events per second of wall time, 0 = full speed (0)" },
	{ "disorder", O_U64, F(disorder), M_W, UINT32_MAX, "MS",
	  "timestamps lag their base by U[0, MS] (0)" },
	{ "late-fraction", O_DBL, F(late_fraction), M_W, 0, "P",
	  "fraction of events made late on purpose (0)" },
	{ "late-ms", O_U64, F(late_ms), M_W, UINT32_MAX, "MS",
	  "a late event lags by disorder + U[1, MS] (0)" },
	{ "records-per-packet", O_U16, F(rpp), M_W | M_S, UINT16_MAX, "N",
	  "records per packet (as many as fit 1472 bytes)" },
	{ "partitions", O_U32, F(partitions), M_W | M_S,
	  SL_WIRE_MAX_PARTITIONS, "N",
	  "packet j goes to partition j % N (1)" },
	{ "udp-port", O_U16, F(udp_port), M_W | M_S | M_D, UINT16_MAX, "P",
	  "UDP destination port (9000; decode: 9001, the ethdev sink's)" },
	{ "no-end", O_FLAG, F(no_end), M_W | M_S, 0, NULL,
	  "do not send END packets after the data" },
	{ "csv", O_STR, F(csv), M_W | M_D, 0, "FILE",
	  "write CSV with a header (decode: - for stdout)" },
	{ "pcap", O_STR, F(pcap), M_W | M_D, 0, "FILE",
	  "write a libpcap file (decode: the one to read)" },
	{ "capture", O_STR, F(capture), M_W, 0, "FILE",
	  "write a binary capture (SLCAP001)" },
	{ "port", O_STR, F(port), M_S, 0, "VDEV",
	  "DPDK virtual device to send on, e.g. "
	  "net_memif0,role=server,socket=/tmp/sl.sock (required)" },
	{ "eal", O_STR, F(eal), M_S, 0, "ARGS", "extra EAL arguments" },
	{ "replay", O_STR, F(replay), M_S, 0, "FILE",
	  "send the frames of a pcap file in order, unchanged, instead of generated events" },
	{ "lcore", O_INT, F(lcore), M_S, 1023, "N",
	  "lcore to run on (the first CPU we may use)" },
	{ "json", O_FLAG, F(json), M_S, 0, NULL,
	  "print the summary as one JSON line on stdout" },
	{ "latency", O_STR, F(latency), M_S, 0, "F",
	  "u64/i64 field stamped with each event's due send time (ns); the "
	  "results coming back on the port carry it, and their latency goes "
	  "into an HDR histogram (needs --out-schema)" },
	{ "out-schema", O_STR, F(out_schema_spec), M_S, 0, "SPEC",
	  "fields of the result rows, with the --latency field among them" },
	{ "out-udp-port", O_U16, F(out_udp_port), M_S, UINT16_MAX, "P",
	  "UDP port of the results (9001, the ethdev sink's default)" },
	{ "out-partitions", O_U32, F(out_partitions), M_S,
	  SL_WIRE_MAX_PARTITIONS, "N",
	  "result partitions (sink queues) whose END ends the run (1)" },
	{ "drain-ms", O_U64, F(drain_ms), M_S, 600000, "MS",
	  "after sending, wait at most this long for the results' END (2000)" },
	{ "warmup", O_DBL, F(warmup), M_S, 0, "S",
	  "leave results of the first S seconds out of the histogram (0)" },
	{ "hist", O_STR, F(hist), M_S, 0, "FILE",
	  "write the latency percentile distribution table to FILE" },
	{ "help", O_FLAG, F(help), M_W | M_S | M_D, 0, NULL, "this text" },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

void
gen_usage(FILE *f)
{
	fprintf(f, "usage: sluice-gen write|send|decode [options]\n"
		   "  write:  generate events into --csv/--pcap/--capture files\n"
		   "  send:   send wire packets out of a DPDK port (and measure\n"
		   "          the latency of the results coming back: --latency)\n"
		   "  decode: result packets in a pcap file (an ethdev sink's\n"
		   "          output) to CSV\n");
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt *o = &opts[i];
		char lhs[48];

		snprintf(lhs, sizeof(lhs), "--%s%s%s", o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-26s %s%s\n", lhs,
			o->modes == M_W ? "[write] " :
			o->modes == M_S ? "[send] " :
			o->modes == (M_W | M_D) ? "[write, decode] " : "", o->help);
	}
}

uint16_t
gen_rpp_max(uint16_t row_size)
{
	if (row_size == 0 || row_size > GEN_UDP_PAYLOAD_MAX - SL_WIRE_HDR_LEN)
		return 0;
	return (uint16_t)((GEN_UDP_PAYLOAD_MAX - SL_WIRE_HDR_LEN) / row_size);
}

static int fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fill the message and return -EINVAL, so a check is one statement. */
static int
fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
set_value(struct gen_conf *c, const struct opt *o, const char *v, char *err,
	  size_t err_len)
{
	void *dst = (char *)c + o->off;
	char *end;

	if (o->kind == O_STR) {
		if (*v == '\0')
			return fail(err, err_len, "--%s: empty value",
				    o->name);
		*(const char **)dst = v;
		return 0;
	}
	errno = 0;
	if (o->kind == O_DBL) {
		double d = strtod(v, &end);

		if (errno || end == v || *end || !isfinite(d) || d < 0)
			return fail(err, err_len,
				    "--%s: '%s' is not a non-negative number",
				    o->name, v);
		*(double *)dst = d;
		return 0;
	}
	if (o->kind == O_I64) {
		long long x = strtoll(v, &end, 10);

		if (errno || end == v || *end)
			return fail(err, err_len,
				    "--%s: '%s' is not an integer", o->name, v);
		*(int64_t *)dst = x;
		return 0;
	}

	/* Unsigned kinds: strtoull accepts "-1" silently, so refuse signs. */
	unsigned long long x = strtoull(v, &end, 10);

	if (v[0] == '-' || v[0] == '+' || errno || end == v || *end)
		return fail(err, err_len,
			    "--%s: '%s' is not a non-negative integer",
			    o->name, v);
	if (x > o->max) {
		return fail(err, err_len, "--%s: %s is above the maximum %llu",
			    o->name, v, (unsigned long long)o->max);
	}
	switch (o->kind) {
	case O_U16:
		*(uint16_t *)dst = (uint16_t)x;
		break;
	case O_U32:
		*(uint32_t *)dst = (uint32_t)x;
		break;
	case O_INT:
		*(int *)dst = (int)x;
		break;
	default:
		*(uint64_t *)dst = x;
		break;
	}
	return 0;
}

static int
field_index(const struct sl_schema *s, const char *name, size_t len)
{
	char buf[SL_NAME_MAX];

	if (len >= sizeof(buf))
		return -ENOENT;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return sl_schema_find(s, buf);
}

static int
parse_schema(struct sl_schema *s, const char *opt, const char *spec, char *err,
	     size_t err_len)
{
	size_t at = 0;
	int rc = sl_schema_parse_spec(s, spec, &at);

	if (rc < 0)
		return fail(err, err_len, "--%s: %s at byte %zu of '%s'", opt,
			    rc == -EEXIST ? "duplicate field" :
			    rc == -E2BIG ? "too many fields or row too long" :
			    "bad field or type", at, spec);
	return 0;
}

static int
check_fields(struct gen_conf *c, char *err, size_t err_len)
{
	const char *p = c->key_spec;
	int rc, fi;

	rc = parse_schema(&c->schema, "schema", c->schema_spec, err, err_len);
	if (rc < 0)
		return rc;
	c->schema_id = sl_schema_id(&c->schema);

	fi = sl_schema_find(&c->schema, c->ts_name);
	if (fi < 0)
		return fail(err, err_len, "--ts: '%s' is not a field of %s",
			    c->ts_name, c->schema_spec);
	if (c->schema.f[fi].type != SL_T_TS && c->schema.f[fi].type != SL_T_I64 &&
	    c->schema.f[fi].type != SL_T_U64)
		return fail(err, err_len,
			    "--ts: '%s' must be timestamp_ms, i64 or u64",
			    c->ts_name);
	c->ts_f = (uint16_t)fi;

	c->n_key = 0;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		enum sl_type t;

		fi = field_index(&c->schema, p, len);
		if (fi < 0)
			return fail(err, err_len,
				    "--key: '%.*s' names a field not in %s",
				    (int)len, p, c->schema_spec);
		t = c->schema.f[fi].type;
		if (t == SL_T_F64 || t == SL_T_BOOL)
			return fail(err, err_len,
				    "--key: '%s': a key must be an integer or "
				    "str field", c->schema.f[fi].name);
		if (fi == c->ts_f)
			return fail(err, err_len,
				    "--key: '%s' is also the --ts field",
				    c->schema.f[fi].name);
		for (uint16_t j = 0; j < c->n_key; j++)
			if (c->key_f[j] == fi)
				return fail(err, err_len,
					    "--key: '%s' given twice",
					    c->schema.f[fi].name);
		c->key_f[c->n_key++] = (uint16_t)fi;
		p += len;
		if (*p == ',')
			p++;
	}
	if (c->n_key == 0)
		return fail(err, err_len, "--key: no field given");
	return 0;
}

static int
decode_check(struct gen_conf *c, char *err, size_t err_len)
{
	int rc = parse_schema(&c->schema, "schema", c->schema_spec, err, err_len);

	if (rc < 0)
		return rc;
	c->schema_id = sl_schema_id(&c->schema);
	if (c->pcap == NULL || c->csv == NULL)
		return fail(err, err_len, "decode: give --pcap (to read) and --csv (to write, - for stdout)");
	if (c->udp_port == 0)
		return fail(err, err_len, "--udp-port: must be 1..65535");
	return 0;
}

/* The stamp field: a u64 or i64 of both schemas (a map passes it on). */
static int
latency_check(struct gen_conf *c, char *err, size_t err_len)
{
	int fi, fo, rc;

	if (c->latency == NULL || c->out_schema_spec == NULL)
		return fail(err, err_len, "--latency and --out-schema go together");
	if (c->replay != NULL)
		return fail(err, err_len, "--latency stamps generated events; it does not go with --replay");
	rc = parse_schema(&c->out_schema, "out-schema", c->out_schema_spec, err, err_len);
	if (rc < 0)
		return rc;
	c->out_schema_id = sl_schema_id(&c->out_schema);
	fi = sl_schema_find(&c->schema, c->latency);
	fo = sl_schema_find(&c->out_schema, c->latency);
	if (fi < 0 || fo < 0)
		return fail(err, err_len, "--latency: '%s' must be a field of both --schema and --out-schema",
			    c->latency);
	if ((c->schema.f[fi].type != SL_T_U64 && c->schema.f[fi].type != SL_T_I64) ||
	    c->out_schema.f[fo].type != c->schema.f[fi].type)
		return fail(err, err_len, "--latency: '%s' must be u64 or i64, the same in both schemas",
			    c->latency);
	if (fi == c->ts_f)
		return fail(err, err_len, "--latency: '%s' is also the --ts field", c->latency);
	for (uint16_t j = 0; j < c->n_key; j++)
		if (c->key_f[j] == fi)
			return fail(err, err_len, "--latency: '%s' is also a --key field", c->latency);
	c->lat_in_off = c->schema.f[fi].offset;
	c->lat_out_off = c->out_schema.f[fo].offset;
	if (c->out_udp_port == 0)
		return fail(err, err_len, "--out-udp-port: must be 1..65535");
	if (c->out_partitions == 0)
		return fail(err, err_len, "--out-partitions: must be 1..64");
	return 0;
}

static int
conf_check(struct gen_conf *c, bool rpp_given, char *err, size_t err_len)
{
	uint16_t max;
	int rc;

	if (c->schema_spec == NULL)
		return fail(err, err_len, "--schema is required");
	if (c->mode == GEN_MODE_DECODE)
		return decode_check(c, err, err_len);
	if (c->key_spec == NULL)
		return fail(err, err_len, "--key is required");
	if (c->ts_name == NULL)
		return fail(err, err_len, "--ts is required");
	rc = check_fields(c, err, err_len);
	if (rc < 0)
		return rc;

	max = gen_rpp_max(c->schema.row_size);
	if (max == 0)
		return fail(err, err_len,
			    "--schema: a %u-byte row does not fit a %d-byte "
			    "UDP payload", c->schema.row_size,
			    GEN_UDP_PAYLOAD_MAX);
	if (!rpp_given)
		c->rpp = max;
	if (c->rpp == 0 || c->rpp > max)
		return fail(err, err_len,
			    "--records-per-packet: %u does not fit: 1..%u "
			    "records of %u bytes fit a %d-byte UDP payload",
			    c->rpp, max, c->schema.row_size,
			    GEN_UDP_PAYLOAD_MAX);
	if (c->keys == 0)
		return fail(err, err_len, "--keys: must be at least 1");
	if (c->partitions == 0)
		return fail(err, err_len, "--partitions: must be 1..64");
	if (c->udp_port == 0)
		return fail(err, err_len, "--udp-port: must be 1..65535");
	if (c->late_fraction > 1)
		return fail(err, err_len,
			    "--late-fraction: must be between 0 and 1");
	if (c->late_fraction > 0 && c->late_ms == 0)
		return fail(err, err_len,
			    "--late-ms: must be at least 1 when --late-fraction "
			    "is above 0");

	if (c->mode == GEN_MODE_WRITE) {
		if (c->rate == 0)
			return fail(err, err_len,
				    "--rate: write needs at least 1 event per "
				    "second of event time");
		if (!c->csv && !c->pcap && !c->capture)
			return fail(err, err_len,
				    "write: give at least one of --csv, --pcap, "
				    "--capture");
	} else {
		if (c->port == NULL)
			return fail(err, err_len,
				    "--port is required for send");
		if (c->events_given && c->seconds > 0)
			return fail(err, err_len,
				    "--events and --seconds exclude each "
				    "other");
		if (!c->events_given && c->seconds == 0)
			c->seconds = 10;
		if (c->latency != NULL || c->out_schema_spec != NULL)
			return latency_check(c, err, err_len);
	}
	return 0;
}

static void
conf_defaults(struct gen_conf *c, enum gen_mode m)
{
	memset(c, 0, sizeof(*c));
	c->mode = m;
	c->seed = 1;
	c->events = m == GEN_MODE_WRITE ? 10000 : 0;
	c->keys = m == GEN_MODE_WRITE ? 100 : 10000;
	c->start_ms = 1700000000000LL;
	c->rate = m == GEN_MODE_WRITE ? 1000 : 0;
	c->partitions = 1;
	c->udp_port = m == GEN_MODE_DECODE ? 9001 : SL_WIRE_DEFAULT_UDP_PORT;
	c->lcore = -1;
	c->out_udp_port = 9001;
	c->out_partitions = 1;
	c->drain_ms = 2000;
}

int
gen_conf_parse(struct gen_conf *c, int argc, char **argv, char *err,
	       size_t err_len)
{
	bool rpp_given = false;
	enum gen_mode m;

	err[0] = '\0';
	if (argc < 1 || argv[0] == NULL)
		return fail(err, err_len, "missing mode: write, send or decode");
	if (strcmp(argv[0], "write") == 0) {
		m = GEN_MODE_WRITE;
	} else if (strcmp(argv[0], "send") == 0) {
		m = GEN_MODE_SEND;
	} else if (strcmp(argv[0], "decode") == 0) {
		m = GEN_MODE_DECODE;
	} else if (strcmp(argv[0], "--help") == 0 ||
		   strcmp(argv[0], "-h") == 0) {
		conf_defaults(c, GEN_MODE_WRITE);
		c->help = true;
		return 0;
	} else {
		return fail(err, err_len,
			    "unknown mode '%s': use write, send or decode", argv[0]);
	}
	conf_defaults(c, m);

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		const struct opt *o = NULL;
		size_t nlen;
		int rc;

		if (strncmp(a, "--", 2) != 0)
			return fail(err, err_len,
				    "unexpected argument '%s'", a);
		a += 2;
		eq = strchr(a, '=');
		nlen = eq ? (size_t)(eq - a) : strlen(a);
		for (size_t j = 0; j < N_OPTS; j++)
			if (strlen(opts[j].name) == nlen &&
			    strncmp(opts[j].name, a, nlen) == 0)
				o = &opts[j];
		if (o == NULL)
			return fail(err, err_len, "unknown option '%s'",
				    argv[i]);
		if (!(o->modes & (1u << m)))
			return fail(err, err_len, "--%s is not an option of %s",
				    o->name, argv[0]);
		if (o->kind == O_FLAG) {
			if (eq)
				return fail(err, err_len,
					    "--%s takes no value", o->name);
			*(bool *)((char *)c + o->off) = true;
			continue;
		}
		if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			return fail(err, err_len, "--%s needs a value",
				    o->name);
		}
		rc = set_value(c, o, val, err, err_len);
		if (rc < 0)
			return rc;
		if (o->off == F(rpp))
			rpp_given = true;
		if (o->off == F(events))
			c->events_given = true;
	}
	if (c->help)
		return 0;
	return conf_check(c, rpp_given, err, err_len);
}
