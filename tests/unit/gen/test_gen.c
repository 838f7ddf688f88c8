/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: sluice-gen write. The same seed gives identical CSV, pcap
 * and capture bytes and another seed different ones; every pcap frame and
 * capture payload parses with the wire parser with no drops, the record
 * count equals --events and every partition ends with END; the CSV has
 * events + 1 lines; late events are exactly the ones the seed makes late
 * and match --late-fraction; bad options are refused by name. With the
 * built binary as argv[1], `sluice-gen send` to a net_pcap port (no
 * hugepages, no NIC) must produce the same kind of parseable stream, with
 * every key present. The receiving side: gen_recv records each result
 * row's latency from its stamp (warm-up rows and stamps from the future
 * left out and counted), counts END packets, sequence gaps (those before
 * the first measured row apart) and foreign packets; `decode` turns a
 * written pcap back into the very CSV `write` made; decode and latency
 * options are checked.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "gen.h"

#define SCHEMA "user_id:u64,url_id:u32,ts:timestamp_ms"

static char tmpdir[64];
static const char *gen_exe;	/* argv[1]: the built sluice-gen, if given */

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_gen.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Paths of one run's three outputs, named after a tag. */
struct outs {
	char csv[128], pcap[128], cap[128];
	char a_csv[140], a_pcap[140], a_cap[140];
};

static void
outs_init(struct outs *o, const char *tag)
{
	snprintf(o->csv, sizeof(o->csv), "%s/%s.csv", tmpdir, tag);
	snprintf(o->pcap, sizeof(o->pcap), "%s/%s.pcap", tmpdir, tag);
	snprintf(o->cap, sizeof(o->cap), "%s/%s.cap", tmpdir, tag);
	snprintf(o->a_csv, sizeof(o->a_csv), "--csv=%s", o->csv);
	snprintf(o->a_pcap, sizeof(o->a_pcap), "--pcap=%s", o->pcap);
	snprintf(o->a_cap, sizeof(o->a_cap), "--capture=%s", o->cap);
}

/* Parse "write" + extra args + the three outputs, run it, check success. */
static void
run_write(struct gen_conf *c, struct gen_summary *s, const struct outs *o,
	  const char *const *extra)
{
	char *argv[64];
	char err[GEN_ERR_MAX];
	int n = 0, rc;

	argv[n++] = (char *)"write";
	while (*extra)
		argv[n++] = (char *)*extra++;
	argv[n++] = (char *)o->a_csv;
	argv[n++] = (char *)o->a_pcap;
	argv[n++] = (char *)o->a_cap;
	rc = gen_conf_parse(c, n, argv, err, sizeof(err));
	if (rc != 0)
		fail_msg("parse: %s", err);
	rc = gen_write(c, s, err, sizeof(err));
	if (rc != 0)
		fail_msg("write: %s", err);
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static bool
same_file(const char *a, const char *b)
{
	size_t la, lb;
	uint8_t *pa = slurp(a, &la), *pb = slurp(b, &lb);
	bool same = la == lb && memcmp(pa, pb, la) == 0;

	free(pa);
	free(pb);
	return same;
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static const char *const base_args[] = {
	"--schema", SCHEMA, "--key", "user_id", "--ts", "ts", "--events",
	"3000", "--keys", "50", "--disorder", "200", "--late-fraction", "0.02",
	"--late-ms", "1000", NULL
};

static void
test_determinism(void **state)
{
	const char *seed1[32], *seed2[32];
	struct gen_conf c;
	struct gen_summary s;
	struct outs a, b, d;
	size_t n = 0;

	(void)state;
	for (; base_args[n]; n++)
		seed1[n] = seed2[n] = base_args[n];
	seed1[n] = seed2[n] = "--seed";
	seed1[n + 1] = "1";
	seed2[n + 1] = "2";
	seed1[n + 2] = seed2[n + 2] = NULL;

	outs_init(&a, "det_a");
	outs_init(&b, "det_b");
	outs_init(&d, "det_d");
	run_write(&c, &s, &a, seed1);
	run_write(&c, &s, &b, seed1);
	run_write(&c, &s, &d, seed2);
	assert_true(same_file(a.csv, b.csv));
	assert_true(same_file(a.pcap, b.pcap));
	assert_true(same_file(a.cap, b.cap));
	assert_false(same_file(a.csv, d.csv));
	assert_false(same_file(a.pcap, d.pcap));
	assert_false(same_file(a.cap, d.cap));
}

/*
 * Walk a pcap: every frame must parse; returns the rows in file order in
 * *rows (malloc'd) so callers can check their content.
 */
static void
check_pcap(const struct gen_conf *c, const char *path, bool gen_clock,
	   uint64_t *n_rows, uint8_t **rows)
{
	struct sl_wire_rx *rx = calloc(1, sizeof(*rx));
	size_t len, off = 24;
	uint8_t *buf = slurp(path, &len);
	uint64_t drops = 0, last_end_pkt = 0, pkts = 0;
	uint32_t rs = c->schema.row_size;

	assert_non_null(rx);
	assert_true(len >= 24);
	/* DPDK's net_pcap writes the nanosecond variant. */
	assert_true(le32(buf) == 0xa1b2c3d4u ||
		    (!gen_clock && le32(buf) == 0xa1b23c4du));
	assert_int_equal(buf[4] | buf[5] << 8, 2);
	assert_int_equal(buf[6] | buf[7] << 8, 4);
	assert_int_equal(le32(buf + 16), 65535);
	assert_int_equal(le32(buf + 20), 1);
	*rows = malloc((size_t)c->events * rs + 1);
	assert_non_null(*rows);
	*n_rows = 0;

	sl_wire_rx_init(rx, &c->schema, c->udp_port);
	while (off < len) {
		struct sl_wire_pkt p;
		uint32_t incl;
		uint64_t us;

		assert_true(off + 16 <= len);
		incl = le32(buf + off + 8);
		assert_int_equal(incl, le32(buf + off + 12));
		assert_true(off + 16 + incl <= len);
		/* 1 us per packet from --start-ms. */
		us = (uint64_t)le32(buf + off) * 1000000 + le32(buf + off + 4);
		if (gen_clock)
			assert_int_equal(us, (uint64_t)c->start_ms * 1000 + pkts);
		assert_int_equal(sl_wire_parse_frame(rx, buf + off + 16, incl,
						     &p), 0);
		assert_true(*n_rows + p.count <= c->events);
		memcpy(*rows + *n_rows * rs, p.records, (size_t)p.count * rs);
		*n_rows += p.count;
		if (p.end) {
			assert_int_equal(p.count, 0);
			last_end_pkt = pkts;
		} else {
			/* No data after the first END. */
			assert_int_equal(rx->n_parts_ended, 0);
		}
		pkts++;
		off += 16 + incl;
	}
	for (int r = 0; r < SL_WIRE_DROP__COUNT; r++)
		drops += rx->drops[r];
	assert_int_equal(drops, 0);
	assert_int_equal(rx->records, c->events);
	if (c->no_end) {
		assert_int_equal(rx->n_parts_ended, 0);
	} else {
		assert_int_equal(rx->n_parts_ended, c->partitions);
		assert_int_equal(last_end_pkt, pkts - 1);
	}
	for (uint32_t p = 0; p < c->partitions; p++)
		assert_int_equal(rx->part[p].gaps, 0);
	free(buf);
	free(rx);
}

static void
test_pcap_capture_csv(void **state)
{
	static const char *const args[] = {
		"--schema", "id:u32,name:str[6],v:f64,ok:bool,ts:timestamp_ms",
		"--key", "id,name", "--ts", "ts", "--events", "1000",
		"--keys", "7", "--records-per-packet", "7", "--partitions", "3",
		"--udp-port", "9123", "--seed", "5", NULL
	};
	struct gen_conf c;
	struct gen_summary s;
	struct outs o;
	struct sl_wire_rx *rx = calloc(1, sizeof(*rx));
	uint64_t n_rows, lines = 0, recs = 0;
	uint8_t *rows, *buf;
	size_t len, off;

	(void)state;
	assert_non_null(rx);
	outs_init(&o, "fmt");
	run_write(&c, &s, &o, args);
	/* 1000 / 7 = 143 packets (the last holds 6), then 3 END packets. */
	assert_int_equal(s.events, 1000);
	assert_int_equal(s.packets, 143 + 3);

	check_pcap(&c, o.pcap, true, &n_rows, &rows);
	assert_int_equal(n_rows, 1000);
	for (uint64_t i = 0; i < n_rows; i++) {
		const uint8_t *r = rows + i * c.schema.row_size;
		int64_t k = sl_row_get_int(r, &c.schema.f[0]);
		char want[8] = { 0 };

		assert_true(k >= 0 && k < 7);
		snprintf(want, sizeof(want), "k%d", (int)k);
		assert_memory_equal(r + c.schema.f[1].offset, want, 6);
		assert_int_equal(sl_row_ts(r, &c.schema.f[4]),
				 gen_base_ts(&c, i));
	}
	free(rows);

	/* The capture carries the same payloads. */
	buf = slurp(o.cap, &len);
	assert_memory_equal(buf, "SLCAP001", 8);
	assert_int_equal(le32(buf + 8), c.schema_id);
	assert_int_equal(le32(buf + 12), 0);
	sl_wire_rx_init(rx, &c.schema, 0);
	for (off = SL_CAP_HDR_LEN; off < len;) {
		struct sl_wire_pkt p;
		uint32_t plen = le32(buf + off);

		assert_true(off + 4 + plen <= len);
		assert_int_equal(sl_wire_parse_payload(rx, buf + off + 4, plen,
						       &p), 0);
		recs += p.count;
		off += 4 + plen;
	}
	assert_int_equal(recs, 1000);
	assert_int_equal(rx->pkts, 146);
	assert_int_equal(rx->n_parts_ended, 3);
	free(buf);

	buf = slurp(o.csv, &len);
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	assert_int_equal(lines, 1000 + 1);
	assert_memory_equal(buf, "id,name,v,ok,ts\n", 16);
	free(buf);
	free(rx);
}

/* A late event lies more than --disorder before its base time. */
static void
test_late_fraction(void **state)
{
	static const char *const args[] = {
		"--schema", SCHEMA, "--key", "user_id", "--ts", "ts",
		"--events", "20000", "--rate", "500", "--disorder", "300",
		"--late-fraction", "0.05", "--late-ms", "2000", "--seed", "42",
		"--no-end", NULL
	};
	struct gen_conf c;
	struct gen_summary s;
	struct outs o;
	uint64_t n_rows, late = 0;
	uint8_t *rows;

	(void)state;
	outs_init(&o, "late");
	run_write(&c, &s, &o, args);
	/* The exact count for seed 42: a change here means the stream of
	 * this seed changed, and with it every checked-in sample. */
	assert_int_equal(s.late, 958);
	assert_true(s.late > 20000 * 0.05 * 0.9 && s.late < 20000 * 0.05 * 1.1);

	check_pcap(&c, o.pcap, true, &n_rows, &rows);
	assert_int_equal(n_rows, 20000);
	for (uint64_t i = 0; i < n_rows; i++) {
		int64_t ts = sl_row_ts(rows + i * c.schema.row_size,
				       &c.schema.f[2]);
		int64_t base = gen_base_ts(&c, i);

		assert_true(ts <= base && ts >= base - 300 - 2000);
		late += ts < base - 300;
	}
	assert_int_equal(late, s.late);
	free(rows);
}

static void
test_send_pcap(void **state)
{
	char *argv[32], cmd[1024], pcap[128], port[160];
	char err[GEN_ERR_MAX];
	struct gen_conf c;
	uint64_t n_rows;
	uint8_t *rows, *seen;
	int argc = 0;

	(void)state;
	if (gen_exe == NULL)
		skip();
	snprintf(pcap, sizeof(pcap), "%s/send.pcap", tmpdir);
	snprintf(port, sizeof(port), "net_pcap0,tx_pcap=%s", pcap);
	argv[argc++] = (char *)"send";
	argv[argc++] = (char *)"--port";
	argv[argc++] = port;
	argv[argc++] = (char *)"--schema";
	argv[argc++] = (char *)"k:u32,s:str[3],ts:timestamp_ms";
	argv[argc++] = (char *)"--key";
	argv[argc++] = (char *)"k,s";
	argv[argc++] = (char *)"--ts";
	argv[argc++] = (char *)"ts";
	argv[argc++] = (char *)"--events";
	argv[argc++] = (char *)"5003";
	argv[argc++] = (char *)"--keys";
	argv[argc++] = (char *)"300";
	argv[argc++] = (char *)"--partitions";
	argv[argc++] = (char *)"3";
	argv[argc++] = (char *)"--udp-port";
	argv[argc++] = (char *)"9777";
	assert_int_equal(gen_conf_parse(&c, argc, argv, err, sizeof(err)), 0);

	snprintf(cmd, sizeof(cmd),
		 "'%s' send --port '%s' --schema '%s' --key k,s --ts ts "
		 "--events 5003 --keys 300 --partitions 3 --udp-port 9777 "
		 "--eal '--no-huge -m 128 --log-level=*:error' --json "
		 ">'%s/send.json' 2>'%s/send.err'", gen_exe, port,
		 "k:u32,s:str[3],ts:timestamp_ms", tmpdir, tmpdir);
	if (system(cmd) != 0) {
		snprintf(cmd, sizeof(cmd), "cat '%s/send.err' >&2", tmpdir);
		(void)system(cmd);
		fail_msg("sluice-gen send failed");
	}
	check_pcap(&c, pcap, false, &n_rows, &rows);
	assert_int_equal(n_rows, 5003);
	seen = calloc(300, 1);
	assert_non_null(seen);
	for (uint64_t i = 0; i < n_rows; i++) {
		const uint8_t *r = rows + i * c.schema.row_size;
		int64_t k = sl_row_get_int(r, &c.schema.f[0]);
		char want[4] = { 0 };

		assert_true(k >= 0 && k < 300);
		snprintf(want, sizeof(want), "k%d", (int)k);
		assert_memory_equal(r + c.schema.f[1].offset, want, 3);
		seen[k] = 1;
		/* Event time is monotonic in the sender. */
		if (i > 0)
			assert_true(sl_row_ts(r, &c.schema.f[2]) >=
				    sl_row_ts(r - c.schema.row_size,
					      &c.schema.f[2]));
	}
	for (int k = 0; k < 300; k++)
		assert_int_equal(seen[k], 1);
	free(seen);
	free(rows);
}

static void
expect_error(const char *const *args, const char *needle)
{
	char *argv[32];
	char err[GEN_ERR_MAX];
	struct gen_conf c;
	int n = 0;

	while (args[n]) {
		argv[n] = (char *)args[n];
		n++;
	}
	assert_int_equal(gen_conf_parse(&c, n, argv, err, sizeof(err)),
			 -EINVAL);
	if (strstr(err, needle) == NULL)
		fail_msg("error '%s' does not name '%s'", err, needle);
}

static void
test_bad_options(void **state)
{
	(void)state;
	expect_error((const char *const[]){ "write", "--schema", "a:u64",
		"--key", "a", "--ts", "b", "--csv", "x", NULL }, "--ts");
	expect_error((const char *const[]){ "write", "--schema", SCHEMA,
		"--key", "user_id", "--ts", "ts", "--records-per-packet", "100",
		"--csv", "x", NULL }, "--records-per-packet");
	expect_error((const char *const[]){ "write", "--schema", SCHEMA,
		"--key", "nope", "--ts", "ts", "--csv", "x", NULL }, "--key");
	expect_error((const char *const[]){ "write", "--schema", "a:u65",
		"--key", "a", "--ts", "a", "--csv", "x", NULL }, "--schema");
	expect_error((const char *const[]){ "write", "--schema", SCHEMA,
		"--key", "user_id", "--ts", "ts", "--rate", "-5", "--csv", "x",
		NULL }, "--rate");
	expect_error((const char *const[]){ "write", "--schema", SCHEMA,
		"--key", "user_id", "--ts", "ts", "--late-fraction", "0.1",
		"--csv", "x", NULL }, "--late-ms");
	expect_error((const char *const[]){ "write", "--schema", SCHEMA,
		"--key", "user_id", "--ts", "ts", "--partitions", "65",
		"--csv", "x", NULL }, "--partitions");
	expect_error((const char *const[]){ "send", "--schema", SCHEMA,
		"--key", "user_id", "--ts", "ts", "--csv", "x", NULL }, "--csv");
}

/* A result frame of n rows (k, sent) with the given stamps. */
static int
result_frame(uint8_t *frame, const struct sl_schema *s, uint32_t part,
	     uint64_t seq, const uint64_t *stamps, uint16_t n, uint8_t flags)
{
	uint8_t payload[GEN_UDP_PAYLOAD_MAX];
	struct sl_wire_hdr h;

	sl_wire_hdr_fill(&h, sl_schema_id(s), s->row_size, n, part, seq, flags);
	memcpy(payload, &h, sizeof(h));
	for (uint16_t i = 0; i < n; i++) {
		uint64_t k = i;

		memcpy(payload + SL_WIRE_HDR_LEN + (size_t)i * s->row_size, &k, 8);
		memcpy(payload + SL_WIRE_HDR_LEN + (size_t)i * s->row_size + 8, &stamps[i], 8);
	}
	return sl_wire_frame_build(frame, 2048, payload,
				   SL_WIRE_HDR_LEN + (uint32_t)n * s->row_size, 9001, 9001);
}

static void
test_recv_latency(void **state)
{
	struct gen_recv *r = malloc(sizeof(*r));
	struct sl_schema s, other;
	uint8_t frame[2048];
	size_t at = 0;
	int len;

	(void)state;
	assert_non_null(r);
	assert_int_equal(sl_schema_parse_spec(&s, "k:u64,sent:u64", &at), 0);
	assert_int_equal(gen_recv_init(r, &s, 9001, 8, 1000), 0);

	/* Warm-up: stamped before 1000 ns. Partition 0 starts at seq 2: a
	 * receiver that came up late, not a loss. */
	len = result_frame(frame, &s, 0, 2, (const uint64_t[]){ 100, 900 }, 2, 0);
	gen_recv_frame(r, frame, (uint32_t)len, 5000);
	assert_int_equal(r->warm, 2);
	assert_int_equal(sl_hdr_total_count(&r->h), 0);
	/* Measured: latencies 4000 - 1000, 4000 - 3000; one stamp from the future. */
	len = result_frame(frame, &s, 0, 3, (const uint64_t[]){ 1000, 3000, 9000 }, 3, 0);
	gen_recv_frame(r, frame, (uint32_t)len, 4000);
	assert_int_equal(sl_hdr_total_count(&r->h), 2);
	assert_int_equal(r->future, 1);
	assert_true(sl_hdr_values_equivalent(&r->h, sl_hdr_min(&r->h), 1000));
	assert_true(sl_hdr_values_equivalent(&r->h, sl_hdr_max(&r->h), 3000));
	assert_int_equal(gen_recv_gaps(r), 2);
	assert_int_equal(gen_recv_lost(r), 0);
	/* Seq 5 after 3: one packet lost while measuring. */
	len = result_frame(frame, &s, 0, 5, (const uint64_t[]){ 2000 }, 1, 0);
	gen_recv_frame(r, frame, (uint32_t)len, 2500);
	assert_int_equal(gen_recv_lost(r), 1);
	assert_true(sl_hdr_values_equivalent(&r->h, sl_hdr_min(&r->h), 500));
	/* END, then a frame of another schema: dropped and counted. */
	len = result_frame(frame, &s, 0, 6, NULL, 0, SL_WIRE_FLAG_END);
	gen_recv_frame(r, frame, (uint32_t)len, 6000);
	assert_int_equal(r->ends, 1);
	at = 0;
	assert_int_equal(sl_schema_parse_spec(&other, "k:u64,sent:i64", &at), 0);
	len = result_frame(frame, &other, 1, 0, (const uint64_t[]){ 1 }, 1, 0);
	gen_recv_frame(r, frame, (uint32_t)len, 6000);
	assert_int_equal(gen_recv_drops(r), 1);
	assert_int_equal(r->rx.drops[SL_WIRE_DROP_BAD_SCHEMA], 1);
	assert_int_equal(r->rows, 6);
	gen_recv_fini(r);
	free(r);
}

/* decode gives back the CSV that write made of the same events. */
static void
test_decode(void **state)
{
	struct gen_conf c;
	struct gen_summary sum;
	struct outs o;
	char err[GEN_ERR_MAX], out[160], a_out[170], cmd[512];
	char *argv[16];
	int n = 0;

	(void)state;
	outs_init(&o, "dec");
	run_write(&c, &sum, &o, (const char *const[]){ "--schema", SCHEMA,
		"--key", "user_id", "--ts", "ts", "--events", "3000",
		"--partitions", "3", "--disorder", "40", NULL });
	snprintf(out, sizeof(out), "%s/decoded.csv", tmpdir);
	snprintf(a_out, sizeof(a_out), "--csv=%s", out);
	argv[n++] = (char *)"decode";
	argv[n++] = (char *)"--schema";
	argv[n++] = (char *)SCHEMA;
	argv[n++] = o.a_pcap;
	argv[n++] = a_out;
	argv[n++] = (char *)"--udp-port";
	argv[n++] = (char *)"9000";
	assert_int_equal(gen_conf_parse(&c, n, argv, err, sizeof(err)), 0);
	assert_int_equal(gen_decode(&c), 0);
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", o.csv, out);
	assert_int_equal(system(cmd), 0);
	/* On the sink's port (9001, the default) every packet is foreign. */
	assert_int_equal(gen_conf_parse(&c, n - 2, argv, err, sizeof(err)), 0);
	assert_int_equal(gen_decode(&c), 1);
}

static void
test_bad_recv_options(void **state)
{
	(void)state;
	expect_error((const char *const[]){ "decode", "--schema", SCHEMA,
		"--csv", "x", NULL }, "--pcap");
	expect_error((const char *const[]){ "decode", "--schema", SCHEMA,
		"--pcap", "x", "--key", "user_id", NULL }, "--key");
	expect_error((const char *const[]){ "send", "--schema", SCHEMA ",sent:u64",
		"--key", "user_id", "--ts", "ts", "--port", "net_null0",
		"--latency", "sent", NULL }, "--out-schema");
	expect_error((const char *const[]){ "send", "--schema", SCHEMA ",sent:u64",
		"--key", "user_id", "--ts", "ts", "--port", "net_null0",
		"--latency", "sent", "--out-schema", "user_id:u64", NULL }, "--latency");
	expect_error((const char *const[]){ "send", "--schema", SCHEMA ",sent:u64",
		"--key", "user_id", "--ts", "ts", "--port", "net_null0",
		"--latency", "sent", "--out-schema", "sent:i64", NULL }, "the same in both");
	expect_error((const char *const[]){ "send", "--schema", SCHEMA ",sent:u64",
		"--key", "user_id", "--ts", "ts", "--port", "net_null0",
		"--latency", "ts", "--out-schema", "ts:timestamp_ms", NULL }, "u64 or i64");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_pcap_capture_csv),
		cmocka_unit_test(test_late_fraction),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_send_pcap),
		cmocka_unit_test(test_recv_latency),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_bad_recv_options),
	};

	if (argc > 1)
		gen_exe = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}
