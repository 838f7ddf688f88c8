/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN
 *
 * `sluice-gen write` runs the event stream once and hands each event to
 * every output that was asked for, so the CSV, the pcap and the capture of
 * one command line always hold the same events in the same order.
 *
 * Packets: records are grouped into packets of c->rpp in event order (the
 * last one may be short); data packet j goes to partition j % partitions
 * with that partition's next sequence number, from 0. Unless --no-end, each
 * partition then gets one packet with 0 records and SL_WIRE_FLAG_END. A
 * payload is struct sl_wire_hdr followed by the rows, whose bytes are the
 * wire bytes (sl_vec.h).
 *
 * CSV (the same format the dataplane's CSV source reads and its sink
 * writes): a header row of field names, then one line per event, fields in
 * schema order separated by ',' and lines ended by '\n'.
 *   i64 i32 timestamp_ms   signed decimal
 *   u64 u32                unsigned decimal
 *   f64                    printf "%.17g" (round-trips exactly)
 *   bool                   true / false
 *   str                    the bytes up to the first NUL (the padding is
 *                          not written); raw, unless they contain ',', '"',
 *                          CR or LF: then RFC 4180 quoting ("a""b")
 *
 * pcap: the classic libpcap format, written here without libpcap:
 *   global header (24 bytes, host order, which is LE on every target):
 *     u32 magic 0xa1b2c3d4, u16 2, u16 4, i32 thiszone 0, u32 sigfigs 0,
 *     u32 snaplen 65535, u32 linktype 1 (Ethernet)
 *   per packet: u32 ts_sec, u32 ts_usec, u32 incl_len, u32 orig_len, then
 *     an Ethernet/IPv4/UDP frame from sl_wire_frame_build(). Timestamps
 *     start at --start-ms and advance 1 us per packet.
 *
 * Capture (SL_CAP_MAGIC, for replay at speed):
 *   offset 0  8 bytes  "SLCAP001"
 *   offset 8  u32 LE   schema id
 *   offset 12 u32 LE   0 (reserved)
 *   then per packet: u32 LE payload length, the payload (header + records)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

#define PCAP_MAGIC 0xa1b2c3d4u
#define PCAP_SNAPLEN 65535u
#define PCAP_LINKTYPE_ETHERNET 1u
#define FRAME_MAX 2048

int
gen_csv_header(FILE *f, const struct sl_schema *s)
{
	for (uint16_t i = 0; i < s->n_fields; i++)
		fprintf(f, "%s%s", i ? "," : "", s->f[i].name);
	return fputc('\n', f) == EOF ? -EIO : 0;
}

static void
csv_str(FILE *f, const uint8_t *p, uint16_t size)
{
	size_t len = strnlen((const char *)p, size);
	bool quote = false;

	for (size_t i = 0; i < len; i++)
		if (p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n')
			quote = true;
	if (!quote) {
		fwrite(p, 1, len, f);
		return;
	}
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '"')
			fputc('"', f);
		fputc(p[i], f);
	}
	fputc('"', f);
}

int
gen_csv_row(FILE *f, const struct sl_schema *s, const uint8_t *row)
{
	for (uint16_t i = 0; i < s->n_fields; i++) {
		const struct sl_field *fd = &s->f[i];

		if (i)
			fputc(',', f);
		switch (fd->type) {
		case SL_T_U64: {
			uint64_t v;

			memcpy(&v, row + fd->offset, 8);
			fprintf(f, "%" PRIu64, v);
			break;
		}
		case SL_T_F64:
			fprintf(f, "%.17g", sl_row_get_f64(row, fd));
			break;
		case SL_T_BOOL:
			fputs(row[fd->offset] ? "true" : "false", f);
			break;
		case SL_T_STR:
			csv_str(f, row + fd->offset, fd->size);
			break;
		default:	/* i64, i32, u32 (widened exactly), timestamp */
			fprintf(f, "%" PRId64, sl_row_get_int(row, fd));
			break;
		}
	}
	return fputc('\n', f) == EOF ? -EIO : 0;
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* One run's open outputs and packet state. */
struct wctx {
	const struct gen_conf *c;
	FILE *csv, *pcap, *cap;
	uint8_t payload[GEN_UDP_PAYLOAD_MAX];
	uint8_t frame[FRAME_MAX];
	uint64_t seq[SL_WIRE_MAX_PARTITIONS];
	uint64_t data_pkts;	/* data packets so far: picks the partition */
	uint64_t pkts;		/* all packets so far: the pcap clock */
};

static int
emit(struct wctx *w, uint16_t n_rec, uint32_t part, uint8_t flags)
{
	const struct gen_conf *c = w->c;
	uint32_t len = SL_WIRE_HDR_LEN + (uint32_t)n_rec * c->schema.row_size;
	struct sl_wire_hdr h;
	uint8_t rec[16];

	sl_wire_hdr_fill(&h, c->schema_id, c->schema.row_size, n_rec, part,
			 w->seq[part]++, flags);
	memcpy(w->payload, &h, sizeof(h));

	if (w->pcap) {
		int64_t us = c->start_ms * 1000 + (int64_t)w->pkts;
		int flen = sl_wire_frame_build(w->frame, sizeof(w->frame),
					       w->payload, len, c->udp_port,
					       c->udp_port);

		if (flen < 0)
			return flen;
		if (us < 0)	/* pcap time is unsigned: clamp the epoch */
			us = 0;
		put_le32(rec, (uint32_t)(us / 1000000));
		put_le32(rec + 4, (uint32_t)(us % 1000000));
		put_le32(rec + 8, (uint32_t)flen);
		put_le32(rec + 12, (uint32_t)flen);
		fwrite(rec, 1, 16, w->pcap);
		fwrite(w->frame, 1, (size_t)flen, w->pcap);
	}
	if (w->cap) {
		put_le32(rec, len);
		fwrite(rec, 1, 4, w->cap);
		fwrite(w->payload, 1, len, w->cap);
	}
	w->pkts++;
	return 0;
}

static int
open_out(FILE **f, const char *path, const char *opt, char *err,
	 size_t err_len)
{
	int rc;

	if (path == NULL)
		return 0;
	*f = fopen(path, "wb");
	if (*f == NULL) {
		rc = -errno;
		snprintf(err, err_len, "--%s: cannot open %s: %s", opt, path,
			 strerror(errno));
		return rc;
	}
	/* Large buffers: the writers make many small fwrite() calls. */
	setvbuf(*f, NULL, _IOFBF, 1 << 20);
	return 0;
}

static int
close_out(FILE *f, const char *path, const char *opt, char *err,
	  size_t err_len, int rc)
{
	bool bad;

	if (f == NULL)
		return rc;
	bad = ferror(f) != 0;
	if (fclose(f) != 0)
		bad = true;
	if (bad && rc == 0) {
		snprintf(err, err_len, "--%s: writing %s failed: %s", opt, path,
			 strerror(errno));
		rc = -EIO;
	}
	return rc;
}

static void
write_headers(struct wctx *w)
{
	uint8_t h[24];

	if (w->csv)
		gen_csv_header(w->csv, &w->c->schema);
	if (w->pcap) {
		put_le32(h, PCAP_MAGIC);
		put_le16(h + 4, 2);
		put_le16(h + 6, 4);
		put_le32(h + 8, 0);
		put_le32(h + 12, 0);
		put_le32(h + 16, PCAP_SNAPLEN);
		put_le32(h + 20, PCAP_LINKTYPE_ETHERNET);
		fwrite(h, 1, 24, w->pcap);
	}
	if (w->cap) {
		memcpy(h, SL_CAP_MAGIC, 8);
		put_le32(h + 8, w->c->schema_id);
		put_le32(h + 12, 0);
		fwrite(h, 1, SL_CAP_HDR_LEN, w->cap);
	}
}

static int
run(struct wctx *w, struct gen_summary *sum)
{
	const struct gen_conf *c = w->c;
	uint16_t rs = c->schema.row_size;
	struct gen_stream st;
	uint16_t n = 0;
	int rc;

	rc = gen_stream_init(&st, c);
	if (rc < 0)
		return rc;	/* gen_conf_parse refuses such a conf first */
	write_headers(w);
	for (uint64_t i = 0; i < c->events; i++) {
		uint8_t *row = w->payload + SL_WIRE_HDR_LEN + (size_t)n * rs;
		int64_t ts;

		if (gen_stream_next(&st, row))
			sum->late++;
		ts = sl_row_ts(row, &c->schema.f[c->ts_f]);
		if (i == 0 || ts < sum->ts_min)
			sum->ts_min = ts;
		if (i == 0 || ts > sum->ts_max)
			sum->ts_max = ts;
		if (w->csv)
			gen_csv_row(w->csv, &c->schema, row);
		sum->events++;
		if (++n == c->rpp || i + 1 == c->events) {
			rc = emit(w, n, (uint32_t)(w->data_pkts++ %
						   c->partitions), 0);
			if (rc < 0)
				return rc;
			n = 0;
		}
	}
	if (!c->no_end) {
		for (uint32_t p = 0; p < c->partitions; p++) {
			rc = emit(w, 0, p, SL_WIRE_FLAG_END);
			if (rc < 0)
				return rc;
		}
	}
	sum->packets = w->pkts;
	return 0;
}

int
gen_write(const struct gen_conf *c, struct gen_summary *sum, char *err,
	  size_t err_len)
{
	struct wctx *w = calloc(1, sizeof(*w));
	int rc;

	memset(sum, 0, sizeof(*sum));
	err[0] = '\0';
	if (w == NULL) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	w->c = c;
	rc = open_out(&w->csv, c->csv, "csv", err, err_len);
	if (rc == 0)
		rc = open_out(&w->pcap, c->pcap, "pcap", err, err_len);
	if (rc == 0)
		rc = open_out(&w->cap, c->capture, "capture", err, err_len);
	if (rc == 0) {
		rc = run(w, sum);
		if (rc < 0)
			snprintf(err, err_len, "packet build failed: %s",
				 strerror(-rc));
	}
	rc = close_out(w->csv, c->csv, "csv", err, err_len, rc);
	rc = close_out(w->pcap, c->pcap, "pcap", err, err_len, rc);
	rc = close_out(w->cap, c->capture, "capture", err, err_len, rc);
	free(w);
	return rc;
}
