/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: test tool. Copies a pcap of sluice packets and inserts,
 * after its first packet, one malformed frame of each kind the parser must
 * count and drop. Usage: mkbad IN.pcap OUT.pcap
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_wire.h"

struct rec {
	uint32_t sec, usec, incl, orig;
};

static FILE *out;

static void
put(const uint8_t *f, uint32_t len)
{
	struct rec r = { 0, 0, len, len };

	fwrite(&r, sizeof(r), 1, out);
	fwrite(f, 1, len, out);
}

/* Re-frame a payload (used to make payload-level faults). */
static void
put_payload(const uint8_t *p, uint32_t len, uint16_t port)
{
	uint8_t f[2048];
	int n = sl_wire_frame_build(f, sizeof(f), p, len, port, 40000);

	if (n > 0)
		put(f, (uint32_t)n);
}

int
main(int argc, char **argv)
{
	uint8_t hdr[24], f[2048], g[2048], first[2048];
	uint32_t first_len = 0, n_pkts = 0;
	struct rec r;
	FILE *in;

	if (argc != 3 || (in = fopen(argv[1], "rb")) == NULL ||
	    (out = fopen(argv[2], "wb")) == NULL) {
		fprintf(stderr, "usage: mkbad IN.pcap OUT.pcap\n");
		return 2;
	}
	if (fread(hdr, sizeof(hdr), 1, in) != 1)
		return 1;
	fwrite(hdr, sizeof(hdr), 1, out);
	while (fread(&r, sizeof(r), 1, in) == 1 && r.incl <= sizeof(f) &&
	       fread(f, 1, r.incl, in) == r.incl) {
		put(f, r.incl);
		if (n_pkts++ != 0)
			continue;
		memcpy(first, f, r.incl);
		first_len = r.incl;
		{
			const uint32_t off = 14 + 20 + 8;	/* payload */
			uint32_t plen = first_len - off;
			uint8_t *p = g + off;

			/* bad_magic */
			memcpy(g, first, first_len);
			p[0] ^= 0xff;
			put_payload(p, plen, SL_WIRE_DEFAULT_UDP_PORT);
			/* bad_version */
			memcpy(g, first, first_len);
			p[4] = 9;
			put_payload(p, plen, SL_WIRE_DEFAULT_UDP_PORT);
			/* bad_schema */
			memcpy(g, first, first_len);
			p[8] ^= 1;
			put_payload(p, plen, SL_WIRE_DEFAULT_UDP_PORT);
			/* bad_length: one record missing, then one byte extra */
			memcpy(g, first, first_len);
			put_payload(p, plen - 20, SL_WIRE_DEFAULT_UDP_PORT);
			memcpy(g, first, first_len);
			g[first_len] = 0;
			put_payload(p, plen + 1, SL_WIRE_DEFAULT_UDP_PORT);
			/* bad_length: record count says one more than present */
			memcpy(g, first, first_len);
			p[12]++;
			put_payload(p, plen, SL_WIRE_DEFAULT_UDP_PORT);
			/* wrong_port */
			memcpy(g, first, first_len);
			put_payload(p, plen, 9001);
			/* truncated: the frame is cut short of its IP length */
			put(first, first_len - 7);
			/* not_ipv4: ARP */
			memcpy(g, first, 60);
			g[12] = 0x08;
			g[13] = 0x06;
			put(g, 60);
			/* fragment: MF set */
			memcpy(g, first, first_len);
			g[14 + 6] |= 0x20;
			put(g, first_len);
			/* duplicate: the first packet again */
			put(first, first_len);
		}
	}
	fclose(in);
	return fclose(out) == 0 && n_pkts > 1 ? 0 : 1;
}
