/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Validation of wire packets. Every check reads only bytes it has already
 * proven to be inside the buffer, so a hostile packet can at worst be
 * counted and dropped. Multi-byte fields are read with memcpy() and are
 * little-endian on the wire (sluice's header) or big-endian (L2-L4 headers).
 */
#include <errno.h>

#include "sl_wire.h"

static const char *const drop_names[] = {
#define SL_WIRE_X(e, n, d) n,
	SL_WIRE_DROP_REASONS(SL_WIRE_X)
#undef SL_WIRE_X
};

static const char *const drop_descs[] = {
#define SL_WIRE_X(e, n, d) d,
	SL_WIRE_DROP_REASONS(SL_WIRE_X)
#undef SL_WIRE_X
};

const char *
sl_wire_drop_name(enum sl_wire_drop r)
{
	return (unsigned int)r < SL_WIRE_DROP__COUNT ? drop_names[r] : "?";
}

const char *
sl_wire_drop_desc(enum sl_wire_drop r)
{
	return (unsigned int)r < SL_WIRE_DROP__COUNT ? drop_descs[r] : "?";
}

void
sl_wire_rx_init(struct sl_wire_rx *rx, const struct sl_schema *s,
		uint16_t udp_port)
{
	memset(rx, 0, sizeof(*rx));
	rx->schema_id = sl_schema_id(s);
	rx->row_size = s->row_size;
	rx->udp_port = udp_port;
}

static inline int
drop(struct sl_wire_rx *rx, enum sl_wire_drop r)
{
	rx->drops[r]++;
	return -(1 + (int)r);
}

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

int
sl_wire_parse_payload(struct sl_wire_rx *rx, const uint8_t *p, uint32_t len,
		      struct sl_wire_pkt *out)
{
	struct sl_wire_hdr h;
	struct sl_wire_part *part;

	if (len < SL_WIRE_HDR_LEN) {
		/* Too short to even hold a magic: call it what it most
		 * likely is, somebody else's datagram. */
		return drop(rx, len < 4 ? SL_WIRE_DROP_BAD_MAGIC :
					  SL_WIRE_DROP_BAD_LENGTH);
	}
	memcpy(&h, p, sizeof(h));
	if (h.magic != SL_WIRE_MAGIC)
		return drop(rx, SL_WIRE_DROP_BAD_MAGIC);
	if (h.version != SL_WIRE_VERSION)
		return drop(rx, SL_WIRE_DROP_BAD_VERSION);
	if (h.reserved0 != 0 || h.reserved1 != 0 ||
	    (h.flags & ~SL_WIRE_FLAG_END) != 0)
		return drop(rx, SL_WIRE_DROP_BAD_RESERVED);
	if (h.schema_id != rx->schema_id)
		return drop(rx, SL_WIRE_DROP_BAD_SCHEMA);
	if (h.record_size != rx->row_size)
		return drop(rx, SL_WIRE_DROP_BAD_RECORD_SIZE);
	if ((uint64_t)SL_WIRE_HDR_LEN + (uint64_t)h.record_count * h.record_size
	    != len)
		return drop(rx, SL_WIRE_DROP_BAD_LENGTH);
	if (h.partition >= SL_WIRE_MAX_PARTITIONS)
		return drop(rx, SL_WIRE_DROP_BAD_PARTITION);

	part = &rx->part[h.partition];
	if (part->ended)
		return drop(rx, SL_WIRE_DROP_AFTER_END);
	/* next_seq is 0 after a seen partition only if it wrapped past
	 * UINT64_MAX: no later sequence number exists. */
	if (part->seen && (h.seq < part->next_seq || part->next_seq == 0))
		return drop(rx, SL_WIRE_DROP_DUPLICATE);
	/* Losses are counted, never hidden: a jump forward is a gap. */
	part->gaps += h.seq - part->next_seq;
	part->next_seq = h.seq + 1;
	part->seen = 1;
	if (h.flags & SL_WIRE_FLAG_END) {
		part->ended = 1;
		rx->n_parts_ended++;
	}

	rx->pkts++;
	rx->records += h.record_count;
	out->records = p + SL_WIRE_HDR_LEN;
	out->count = h.record_count;
	out->partition = (uint16_t)h.partition;
	out->end = (h.flags & SL_WIRE_FLAG_END) != 0;
	return 0;
}

#define ETH_HLEN 14
#define ETH_P_IPV4 0x0800
#define ETH_P_VLAN 0x8100
#define IP_PROTO_UDP 17
#define UDP_HLEN 8

int
sl_wire_parse_frame(struct sl_wire_rx *rx, const uint8_t *frame, uint32_t len,
		    struct sl_wire_pkt *out)
{
	uint32_t off = ETH_HLEN;
	uint16_t etype, ip_total, udp_len, frag;
	uint32_t ihl;
	const uint8_t *ip, *udp;

	if (len < ETH_HLEN)
		return drop(rx, SL_WIRE_DROP_TRUNCATED);
	etype = be16(frame + 12);
	if (etype == ETH_P_VLAN) {
		if (len < ETH_HLEN + 4)
			return drop(rx, SL_WIRE_DROP_TRUNCATED);
		etype = be16(frame + 16);
		off += 4;
	}
	if (etype != ETH_P_IPV4)
		return drop(rx, SL_WIRE_DROP_NOT_IPV4);
	if (len < off + 20)
		return drop(rx, SL_WIRE_DROP_TRUNCATED);
	ip = frame + off;
	if ((ip[0] >> 4) != 4)
		return drop(rx, SL_WIRE_DROP_NOT_IPV4);
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	ip_total = be16(ip + 2);
	if (ihl < 20 || ip_total < ihl || len < off + ip_total)
		return drop(rx, SL_WIRE_DROP_TRUNCATED);
	frag = be16(ip + 6);
	if ((frag & 0x3fff) != 0)	/* MF set or a non-zero offset */
		return drop(rx, SL_WIRE_DROP_FRAGMENT);
	if (ip[9] != IP_PROTO_UDP)
		return drop(rx, SL_WIRE_DROP_NOT_UDP);
	if (ip_total < ihl + UDP_HLEN)
		return drop(rx, SL_WIRE_DROP_TRUNCATED);
	udp = ip + ihl;
	udp_len = be16(udp + 4);
	if (udp_len < UDP_HLEN || udp_len > ip_total - ihl)
		return drop(rx, SL_WIRE_DROP_TRUNCATED);
	if (rx->udp_port != 0 && be16(udp + 2) != rx->udp_port)
		return drop(rx, SL_WIRE_DROP_WRONG_PORT);
	return sl_wire_parse_payload(rx, udp + UDP_HLEN,
				     (uint32_t)udp_len - UDP_HLEN, out);
}
