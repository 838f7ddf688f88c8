/* SPDX-License-Identifier: BSD-3-Clause */
/* Producers' side of the wire format: sluice-gen and the tests. */
#include <errno.h>

#include "sl_wire.h"

void
sl_wire_hdr_fill(struct sl_wire_hdr *h, uint32_t schema_id,
		 uint16_t record_size, uint16_t record_count,
		 uint32_t partition, uint64_t seq, uint8_t flags)
{
	memset(h, 0, sizeof(*h));
	h->magic = SL_WIRE_MAGIC;
	h->version = SL_WIRE_VERSION;
	h->flags = flags;
	h->record_size = record_size;
	h->schema_id = schema_id;
	h->record_count = record_count;
	h->partition = partition;
	h->seq = seq;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1071 checksum of the IPv4 header: receivers may verify it. */
static uint16_t
ip_csum(const uint8_t *p, uint32_t len)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)((p[i] << 8) | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void
sl_wire_frame_hdr(uint8_t *frame, uint32_t payload_len, uint16_t udp_dst_port,
		  uint16_t udp_src_port)
{
	/* Locally administered MACs and TEST-NET-1 addresses (RFC 5737):
	 * these frames never leave a virtual device. */
	static const uint8_t dst_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t src_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	uint8_t *ip = frame + 14, *udp = ip + 20;

	memcpy(frame, dst_mac, 6);
	memcpy(frame + 6, src_mac, 6);
	put16(frame + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + 8 + payload_len));
	ip[6] = 0x40;		/* DF */
	ip[8] = 64;
	ip[9] = 17;
	ip[12] = 192, ip[13] = 0, ip[14] = 2, ip[15] = 1;
	ip[16] = 192, ip[17] = 0, ip[18] = 2, ip[19] = 2;
	put16(ip + 10, ip_csum(ip, 20));
	put16(udp, udp_src_port);
	put16(udp + 2, udp_dst_port);
	put16(udp + 4, (uint16_t)(8 + payload_len));
	put16(udp + 6, 0);	/* optional over IPv4 */
}

int
sl_wire_frame_build(uint8_t *frame, uint32_t cap, const void *payload,
		    uint32_t payload_len, uint16_t udp_dst_port,
		    uint16_t udp_src_port)
{
	uint32_t total = SL_WIRE_FRAME_HDR_LEN + payload_len;

	if (total > cap || payload_len > 65535 - 28)
		return -ENOSPC;
	sl_wire_frame_hdr(frame, payload_len, udp_dst_port, udp_src_port);
	memcpy(frame + SL_WIRE_FRAME_HDR_LEN, payload, payload_len);
	return (int)total;
}
