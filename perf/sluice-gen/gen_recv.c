/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Results coming back from sluice: the same parser the dataplane runs on
 * its input (sl_wire_parse_frame), against the result schema. A result
 * row carries, in the field named by --latency, the time its input event
 * was due to be sent (open loop: the schedule, not the send), so its
 * latency is arrival minus that stamp, and a sender that fell behind its
 * schedule shows the delay instead of hiding it (no coordinated omission).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "sl_csv.h"

#define LAT_LOWEST 1			/* ns */
#define LAT_HIGHEST 3600000000000ull	/* 1 h in ns */
#define LAT_SIGFIGS 3

int
gen_recv_init(struct gen_recv *r, const struct sl_schema *s, uint16_t udp_port,
	      int lat_off, uint64_t warm_ns)
{
	memset(r, 0, offsetof(struct gen_recv, line));
	sl_wire_rx_init(&r->rx, s, udp_port);
	r->s = s;
	r->lat_off = lat_off;
	r->warm_ns = warm_ns;
	if (lat_off >= 0) {
		if (sl_hdr_init(&r->h, LAT_LOWEST, LAT_HIGHEST, LAT_SIGFIGS) < 0)
			return -ENOMEM;
		r->have_hist = true;
	}
	return 0;
}

static void
rows_csv(struct gen_recv *r, const uint8_t *rows, uint16_t n)
{
	for (uint16_t i = 0; i < n && r->err == 0; i++) {
		int len = sl_csv_format_row(r->s, rows + (size_t)i * r->s->row_size,
					    r->line, sizeof(r->line) - 1);

		if (len < 0) {
			r->err = len;
			return;
		}
		r->line[len] = '\n';
		if (fwrite(r->line, 1, (size_t)len + 1, r->csv) != (size_t)len + 1)
			r->err = -EIO;
	}
}

void
gen_recv_frame(struct gen_recv *r, const uint8_t *frame, uint32_t len,
	       uint64_t now_ns)
{
	struct sl_wire_pkt pkt;
	const uint16_t rs = r->s->row_size;

	/* Until a row is measured, gaps are the warm-up's (a receiver that
	 * started late); from the packet with that row on, they are losses. */
	uint64_t before = r->measuring || !r->have_hist ? 0 : gen_recv_gaps(r);

	if (sl_wire_parse_frame(&r->rx, frame, len, &pkt) != 0)
		return;
	if (pkt.end)
		r->ends++;
	r->rows += pkt.count;
	if (r->csv != NULL)
		rows_csv(r, pkt.records, pkt.count);
	if (!r->have_hist)
		return;
	for (uint16_t i = 0; i < pkt.count; i++) {
		uint64_t stamp;

		memcpy(&stamp, pkt.records + (size_t)i * rs + r->lat_off, 8);
		if (stamp > now_ns)
			r->future++;
		else if (stamp < r->warm_ns)
			r->warm++;
		else
			sl_hdr_record(&r->h, now_ns - stamp);
	}
	if (!r->measuring && sl_hdr_total_count(&r->h) > 0) {
		r->measuring = true;
		r->warm_gaps = before;
	}
}

uint64_t
gen_recv_gaps(const struct gen_recv *r)
{
	uint64_t g = 0;

	for (int p = 0; p < SL_WIRE_MAX_PARTITIONS; p++)
		g += r->rx.part[p].gaps;
	return g;
}

uint64_t
gen_recv_drops(const struct gen_recv *r)
{
	uint64_t d = 0;

	for (int i = 0; i < SL_WIRE_DROP__COUNT; i++)
		d += r->rx.drops[i];
	return d;
}

uint64_t
gen_recv_lost(const struct gen_recv *r)
{
	return r->measuring ? gen_recv_gaps(r) - r->warm_gaps : 0;
}

void
gen_recv_fini(struct gen_recv *r)
{
	if (r->have_hist)
		sl_hdr_fini(&r->h);
	r->have_hist = false;
}

/* ---- decode: a pcap of result frames to CSV ---- */

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du

int
gen_decode(const struct gen_conf *c)
{
	struct gen_recv *r = malloc(sizeof(*r));
	uint32_t hdr[6], rec[4];
	uint8_t *frame = malloc(65536);
	FILE *in = NULL, *out = NULL;
	uint64_t frames = 0;
	int code = 2, n;

	if (r == NULL || frame == NULL)
		goto out;
	in = fopen(c->pcap, "rb");
	if (in == NULL || fread(hdr, sizeof(hdr), 1, in) != 1 ||
	    (hdr[0] != PCAP_MAGIC_US && hdr[0] != PCAP_MAGIC_NS)) {
		fprintf(stderr, "sluice-gen decode: %s is not a readable little-endian pcap file\n",
			c->pcap);
		goto out;
	}
	out = strcmp(c->csv, "-") == 0 ? stdout : fopen(c->csv, "w");
	if (out == NULL) {
		fprintf(stderr, "sluice-gen decode: cannot create %s\n", c->csv);
		goto out;
	}
	gen_recv_init(r, &c->schema, c->udp_port, -1, 0);
	r->csv = out;
	n = sl_csv_format_header(&c->schema, r->line, sizeof(r->line) - 1);
	if (n < 0)
		goto out;
	r->line[n] = '\n';
	fwrite(r->line, 1, (size_t)n + 1, out);
	while (fread(rec, sizeof(rec), 1, in) == 1) {
		if (rec[2] > 65536 || fread(frame, 1, rec[2], in) != rec[2]) {
			fprintf(stderr, "sluice-gen decode: %s: truncated after %" PRIu64 " frames\n",
				c->pcap, frames);
			goto out;
		}
		frames++;
		gen_recv_frame(r, frame, rec[2], 0);
	}
	if (r->err != 0 || fflush(out) != 0) {
		fprintf(stderr, "sluice-gen decode: writing %s failed\n", c->csv);
		goto out;
	}
	fprintf(stderr, "sluice-gen decode: %" PRIu64 " frames, %" PRIu64 " packets, %" PRIu64
		" rows, %" PRIu64 " END, %" PRIu64 " dropped, %" PRIu64 " missing (sequence gaps)\n",
		frames, r->rx.pkts, r->rows, r->ends, gen_recv_drops(r), gen_recv_gaps(r));
	for (int i = 0; i < SL_WIRE_DROP__COUNT; i++)
		if (r->rx.drops[i])
			fprintf(stderr, "sluice-gen decode:   dropped %" PRIu64 ": %s\n",
				r->rx.drops[i], sl_wire_drop_desc((enum sl_wire_drop)i));
	code = gen_recv_drops(r) || gen_recv_gaps(r) ? 1 : 0;
out:
	if (out != NULL && out != stdout)
		fclose(out);
	if (in != NULL)
		fclose(in);
	free(frame);
	free(r);
	return code;
}
