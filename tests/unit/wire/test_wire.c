/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: the wire parser (drivers/wire) against frames made by the
 * real builder for the schema "user_id:u64,url_id:u32,ts:timestamp_ms":
 * a good packet, every drop reason of SL_WIRE_DROP_REASONS counted exactly
 * once with return value -(1 + reason), VLAN and IP options, sequence gaps,
 * duplicates, END handling (also across RX queues), zero-record packets,
 * udp_port 0, and the drop reason names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <cmocka.h>

#include "sl_wire.h"

#define SPEC "user_id:u64,url_id:u32,ts:timestamp_ms"
#define PORT 9000
#define ROW 20			/* 8 + 4 + 8 */
#define L2L4 42			/* Ethernet 14 + IPv4 20 + UDP 8 */
#define BUF 2048

static struct sl_schema sch;
static uint32_t sch_id;

static int
setup(void **state)
{
	size_t err_at = 0;

	(void)state;
	if (sl_schema_parse_spec(&sch, SPEC, &err_at) != 0)
		return -1;
	sch_id = sl_schema_id(&sch);
	return sch.row_size == ROW ? 0 : -1;
}

/* Records i = 0..n-1 get user_id 1000 + i, url_id 7 * i, ts 1e12 + i. */
static void
fill_row(uint8_t *row, uint64_t i)
{
	sl_row_set_int(row, &sch.f[0], (int64_t)(1000 + i));
	sl_row_set_int(row, &sch.f[1], (int64_t)(7 * i));
	sl_row_set_int(row, &sch.f[2], (int64_t)(1000000000000LL + (int64_t)i));
}

/*
 * A payload whose header says `count` records but which carries `present`
 * of them. @return its length.
 */
static uint32_t
mk_payload_n(uint8_t *p, uint16_t count, uint16_t present, uint32_t partition,
	     uint64_t seq, uint8_t flags)
{
	struct sl_wire_hdr h;

	sl_wire_hdr_fill(&h, sch_id, ROW, count, partition, seq, flags);
	memcpy(p, &h, sizeof(h));
	for (uint16_t i = 0; i < present; i++)
		fill_row(p + SL_WIRE_HDR_LEN + (size_t)i * ROW, i);
	return SL_WIRE_HDR_LEN + (uint32_t)present * ROW;
}

static uint32_t
mk_payload(uint8_t *p, uint16_t count, uint32_t partition, uint64_t seq,
	   uint8_t flags)
{
	return mk_payload_n(p, count, count, partition, seq, flags);
}

/* A frame to PORT around a good payload. @return the frame length. */
static uint32_t
mk_frame(uint8_t *f, uint16_t count, uint32_t partition, uint64_t seq,
	 uint8_t flags)
{
	uint8_t p[BUF];
	uint32_t plen = mk_payload(p, count, partition, seq, flags);
	int n = sl_wire_frame_build(f, BUF, p, plen, PORT, 12345);

	assert_int_equal(n, (int)(L2L4 + plen));
	return (uint32_t)n;
}

static void
frame_from_payload(uint8_t *f, uint32_t *flen, const uint8_t *p, uint32_t plen)
{
	int n = sl_wire_frame_build(f, BUF, p, plen, PORT, 12345);

	assert_true(n > 0);
	*flen = (uint32_t)n;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint64_t
total_drops(const struct sl_wire_rx *rx)
{
	uint64_t n = 0;

	for (int r = 0; r < SL_WIRE_DROP__COUNT; r++)
		n += rx->drops[r];
	return n;
}

/* ret is drop reason r, counted exactly once, and nothing else happened. */
static void
check_dropped_once(const struct sl_wire_rx *rx, int ret, enum sl_wire_drop r)
{
	assert_int_equal(ret, -(1 + (int)r));
	assert_int_equal(rx->drops[r], 1);
	assert_int_equal(total_drops(rx), 1);
	assert_int_equal(rx->pkts, 0);
	assert_int_equal(rx->records, 0);
}

/* Parse a frame on a fresh rx and expect exactly one drop of reason r. */
static void
expect_frame_drop(const uint8_t *f, uint32_t len, enum sl_wire_drop r)
{
	struct sl_wire_rx rx;
	struct sl_wire_pkt out;

	sl_wire_rx_init(&rx, &sch, PORT);
	check_dropped_once(&rx, sl_wire_parse_frame(&rx, f, len, &out), r);
}

/*
 * Expect drop reason r for a payload, both bare and wrapped in a frame
 * (the frame path must hand the exact payload bytes down).
 */
static void
expect_payload_drop(const uint8_t *p, uint32_t len, enum sl_wire_drop r)
{
	struct sl_wire_rx rx;
	struct sl_wire_pkt out;
	uint8_t f[BUF];
	uint32_t flen;

	sl_wire_rx_init(&rx, &sch, PORT);
	check_dropped_once(&rx, sl_wire_parse_payload(&rx, p, len, &out), r);
	frame_from_payload(f, &flen, p, len);
	expect_frame_drop(f, flen, r);
}

static void
test_schema(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(sch.n_fields, 3);
	assert_int_equal(sch.row_size, ROW);
	sl_schema_canonical(&sch, buf, sizeof(buf));
	assert_string_equal(buf, SPEC);
	assert_int_equal(sizeof(struct sl_wire_hdr), SL_WIRE_HDR_LEN);
}

static void
test_good_frame(void **state)
{
	struct sl_wire_rx rx;
	struct sl_wire_pkt out;
	uint8_t f[BUF];
	uint32_t len;

	(void)state;
	sl_wire_rx_init(&rx, &sch, PORT);
	assert_int_equal(rx.schema_id, sch_id);
	assert_int_equal(rx.row_size, ROW);
	assert_int_equal(rx.udp_port, PORT);

	len = mk_frame(f, 3, 5, 0, 0);
	assert_int_equal(len, L2L4 + SL_WIRE_HDR_LEN + 3 * ROW);
	memset(&out, 0xa5, sizeof(out));
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out), 0);
	assert_ptr_equal(out.records, f + L2L4 + SL_WIRE_HDR_LEN);
	assert_int_equal(out.count, 3);
	assert_int_equal(out.partition, 5);
	assert_int_equal(out.end, 0);
	assert_int_equal(rx.pkts, 1);
	assert_int_equal(rx.records, 3);
	assert_int_equal(total_drops(&rx), 0);
	assert_int_equal(rx.part[5].seen, 1);
	assert_int_equal(rx.part[5].next_seq, 1);
	assert_int_equal(rx.part[5].gaps, 0);
	assert_int_equal(rx.part[5].ended, 0);
	assert_int_equal(rx.part[0].seen, 0);
	assert_int_equal(rx.n_parts_ended, 0);
	for (uint16_t i = 0; i < out.count; i++) {
		const uint8_t *row = out.records + (size_t)i * ROW;

		assert_int_equal(sl_row_get_int(row, &sch.f[0]), 1000 + i);
		assert_int_equal(sl_row_get_int(row, &sch.f[1]), 7 * i);
		assert_int_equal(sl_row_ts(row, &sch.f[2]),
				 1000000000000LL + i);
	}

	/* A second packet adds up. */
	len = mk_frame(f, 1, 5, 1, 0);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out), 0);
	assert_int_equal(rx.pkts, 2);
	assert_int_equal(rx.records, 4);
	assert_int_equal(rx.part[5].gaps, 0);
}

static void
test_good_payload(void **state)
{
	struct sl_wire_rx rx;
	struct sl_wire_pkt out;
	uint8_t p[BUF];
	uint32_t len;

	(void)state;
	sl_wire_rx_init(&rx, &sch, PORT);
	len = mk_payload(p, 50, 63, 0, 0);	/* 63: the last partition */
	assert_int_equal(sl_wire_parse_payload(&rx, p, len, &out), 0);
	assert_ptr_equal(out.records, p + SL_WIRE_HDR_LEN);
	assert_int_equal(out.count, 50);
	assert_int_equal(out.partition, 63);
	assert_int_equal(rx.pkts, 1);
	assert_int_equal(rx.records, 50);
	assert_int_equal(total_drops(&rx), 0);
}

/* The builder's bytes: what a producer in another language must send. */
static void
test_builder_layout(void **state)
{
	uint8_t p[BUF], f[BUF];
	uint32_t plen = mk_payload(p, 1, 2, 0x0102030405060708ull,
				   SL_WIRE_FLAG_END);
	static const uint8_t hdr[16] = {
		'S', 'L', 'C', 'E', 1, SL_WIRE_FLAG_END, ROW, 0,
	};

	(void)state;
	assert_memory_equal(p, hdr, 8);
	assert_int_equal(p[8] | p[9] << 8 | p[10] << 16 | (uint32_t)p[11] << 24,
			 sch_id);
	assert_int_equal(p[12], 1);	/* record_count */
	assert_int_equal(p[13], 0);
	assert_int_equal(p[14] | p[15], 0);	/* reserved0 */
	assert_int_equal(p[16], 2);	/* partition */
	assert_int_equal(p[17] | p[18] | p[19], 0);
	assert_int_equal(p[20] | p[21] | p[22] | p[23], 0);	/* reserved1 */
	for (int i = 0; i < 8; i++)	/* seq, little-endian */
		assert_int_equal(p[24 + i], 8 - i);
	/* user_id 1000 = 0x3e8, little-endian */
	assert_int_equal(p[32], 0xe8);
	assert_int_equal(p[33], 0x03);

	assert_int_equal(sl_wire_frame_build(f, BUF, p, plen, PORT, 4242),
			 L2L4 + plen);
	assert_int_equal(get16(f + 12), 0x0800);
	assert_int_equal(f[14], 0x45);
	assert_int_equal(get16(f + 16), 20 + 8 + plen);
	assert_int_equal(get16(f + 20), 0x4000);	/* DF, no offset */
	assert_int_equal(f[23], 17);
	assert_int_equal(get16(f + 34), 4242);
	assert_int_equal(get16(f + 36), PORT);
	assert_int_equal(get16(f + 38), 8 + plen);
	assert_memory_equal(f + L2L4, p, plen);
	/* The IPv4 header checksum verifies (sums to 0xffff). */
	{
		uint32_t sum = 0;

		for (int i = 0; i < 20; i += 2)
			sum += get16(f + 14 + i);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		assert_int_equal(sum, 0xffff);
	}

	/* Too small a buffer, too large a payload. */
	assert_int_equal(sl_wire_frame_build(f, L2L4 + plen - 1, p, plen, PORT,
					     1), -ENOSPC);
	assert_int_equal(sl_wire_frame_build(f, 1u << 20, p, 65535 - 27, PORT,
					     1), -ENOSPC);
}

static void
test_drop_not_ipv4(void **state)
{
	uint8_t f[BUF];
	uint32_t len;

	(void)state;
	len = mk_frame(f, 1, 0, 0, 0);
	put16(f + 12, 0x0806);			/* ARP */
	expect_frame_drop(f, len, SL_WIRE_DROP_NOT_IPV4);
	put16(f + 12, 0x86dd);			/* IPv6 */
	expect_frame_drop(f, len, SL_WIRE_DROP_NOT_IPV4);
	put16(f + 12, 0x88a8);			/* 802.1ad outer tag */
	expect_frame_drop(f, len, SL_WIRE_DROP_NOT_IPV4);
	/* Ethertype IPv4 but an IPv6 version nibble. */
	len = mk_frame(f, 1, 0, 0, 0);
	f[14] = 0x65;
	expect_frame_drop(f, len, SL_WIRE_DROP_NOT_IPV4);
}

static void
test_drop_not_udp(void **state)
{
	uint8_t f[BUF];
	uint32_t len;

	(void)state;
	len = mk_frame(f, 1, 0, 0, 0);
	f[23] = 6;				/* TCP */
	expect_frame_drop(f, len, SL_WIRE_DROP_NOT_UDP);
	f[23] = 1;				/* ICMP */
	expect_frame_drop(f, len, SL_WIRE_DROP_NOT_UDP);
}

static void
test_drop_wrong_port(void **state)
{
	uint8_t p[BUF], f[BUF];
	uint32_t plen = mk_payload(p, 1, 0, 0, 0);
	int n;

	(void)state;
	n = sl_wire_frame_build(f, BUF, p, plen, PORT + 1, PORT);
	assert_true(n > 0);
	expect_frame_drop(f, (uint32_t)n, SL_WIRE_DROP_WRONG_PORT);
}

static void
test_drop_truncated(void **state)
{
	uint8_t f[BUF], v[BUF];
	uint32_t len, l;

	(void)state;
	len = mk_frame(f, 2, 0, 0, 0);

	/* Shorter than an Ethernet header. */
	expect_frame_drop(f, 0, SL_WIRE_DROP_TRUNCATED);
	expect_frame_drop(f, 1, SL_WIRE_DROP_TRUNCATED);
	expect_frame_drop(f, 13, SL_WIRE_DROP_TRUNCATED);

	/* A VLAN tag cut short. */
	memcpy(v, f, 12);
	put16(v + 12, 0x8100);
	expect_frame_drop(v, 14, SL_WIRE_DROP_TRUNCATED);
	expect_frame_drop(v, 17, SL_WIRE_DROP_TRUNCATED);

	/* IPv4 header cut at every length short of 20 bytes. */
	for (l = 14; l < 34; l++)
		expect_frame_drop(f, l, SL_WIRE_DROP_TRUNCATED);

	/* IP total length larger than the frame (frame cut inside UDP or
	 * payload, or total length enlarged). */
	for (l = 34; l < len; l++)
		expect_frame_drop(f, l, SL_WIRE_DROP_TRUNCATED);
	memcpy(v, f, len);
	put16(v + 16, (uint16_t)(get16(v + 16) + 1));
	expect_frame_drop(v, len, SL_WIRE_DROP_TRUNCATED);

	/* IHL below 5 words, and IHL larger than the total length. */
	memcpy(v, f, len);
	v[14] = 0x44;
	expect_frame_drop(v, len, SL_WIRE_DROP_TRUNCATED);
	memcpy(v, f, len);
	put16(v + 16, 20);
	v[14] = 0x46;				/* 24 > 20 */
	expect_frame_drop(v, len, SL_WIRE_DROP_TRUNCATED);

	/* IP total length leaves no room for the UDP header. */
	memcpy(v, f, len);
	put16(v + 16, 27);
	expect_frame_drop(v, len, SL_WIRE_DROP_TRUNCATED);

	/* UDP length larger than the IP payload. */
	memcpy(v, f, len);
	put16(v + 38, (uint16_t)(get16(v + 38) + 1));
	expect_frame_drop(v, len, SL_WIRE_DROP_TRUNCATED);

	/* UDP length shorter than the UDP header. */
	memcpy(v, f, len);
	put16(v + 38, 7);
	expect_frame_drop(v, len, SL_WIRE_DROP_TRUNCATED);
}

static void
test_drop_fragment(void **state)
{
	uint8_t f[BUF];
	uint32_t len;

	(void)state;
	len = mk_frame(f, 1, 0, 0, 0);
	put16(f + 20, 0x2000);			/* MF, offset 0 */
	expect_frame_drop(f, len, SL_WIRE_DROP_FRAGMENT);
	put16(f + 20, 0x0001);			/* offset 8 bytes, last */
	expect_frame_drop(f, len, SL_WIRE_DROP_FRAGMENT);
	put16(f + 20, 0x4000 | 0x1fff);		/* DF and the largest offset */
	expect_frame_drop(f, len, SL_WIRE_DROP_FRAGMENT);
}

static void
test_drop_bad_magic(void **state)
{
	uint8_t p[BUF];
	uint32_t len;

	(void)state;
	len = mk_payload(p, 1, 0, 0, 0);
	p[0] ^= 0x01;
	expect_payload_drop(p, len, SL_WIRE_DROP_BAD_MAGIC);
	p[0] ^= 0x01;
	p[3] = 'c';
	expect_payload_drop(p, len, SL_WIRE_DROP_BAD_MAGIC);
	/* Shorter than a magic. */
	mk_payload(p, 1, 0, 0, 0);
	for (uint32_t l = 0; l < 4; l++)
		expect_payload_drop(p, l, SL_WIRE_DROP_BAD_MAGIC);
}

static void
test_drop_bad_version(void **state)
{
	uint8_t p[BUF];
	uint32_t len;

	(void)state;
	len = mk_payload(p, 1, 0, 0, 0);
	p[4] = 0;
	expect_payload_drop(p, len, SL_WIRE_DROP_BAD_VERSION);
	p[4] = 2;
	expect_payload_drop(p, len, SL_WIRE_DROP_BAD_VERSION);
}

static void
test_drop_bad_schema(void **state)
{
	uint8_t p[BUF];
	uint32_t len;
	struct sl_schema other;
	size_t err_at;
	uint32_t id;

	(void)state;
	len = mk_payload(p, 1, 0, 0, 0);
	p[8] ^= 0x80;
	expect_payload_drop(p, len, SL_WIRE_DROP_BAD_SCHEMA);

	/* Same row size, different names: a different schema. */
	assert_int_equal(sl_schema_parse_spec(&other,
		"user:u64,url:u32,ts:timestamp_ms", &err_at), 0);
	assert_int_equal(other.row_size, ROW);
	id = sl_schema_id(&other);
	assert_int_not_equal(id, sch_id);
	len = mk_payload(p, 1, 0, 0, 0);
	memcpy(p + 8, &id, 4);
	expect_payload_drop(p, len, SL_WIRE_DROP_BAD_SCHEMA);
}

static void
test_drop_bad_record_size(void **state)
{
	uint8_t p[BUF];
	struct sl_wire_hdr h;

	(void)state;
	/* Consistent length for the claimed size: only the size is wrong. */
	sl_wire_hdr_fill(&h, sch_id, ROW + 1, 2, 0, 0, 0);
	memset(p, 0, sizeof(p));
	memcpy(p, &h, sizeof(h));
	expect_payload_drop(p, SL_WIRE_HDR_LEN + 2 * (ROW + 1),
			    SL_WIRE_DROP_BAD_RECORD_SIZE);
	sl_wire_hdr_fill(&h, sch_id, 0, 0, 0, 0, 0);
	memcpy(p, &h, sizeof(h));
	expect_payload_drop(p, SL_WIRE_HDR_LEN, SL_WIRE_DROP_BAD_RECORD_SIZE);
}

static void
test_drop_bad_length(void **state)
{
	uint8_t p[BUF];
	uint32_t len;

	(void)state;
	/* The count says 3 records, 2 are present. */
	len = mk_payload_n(p, 3, 2, 0, 0, 0);
	assert_int_equal(len, SL_WIRE_HDR_LEN + 2 * ROW);
	expect_payload_drop(p, len, SL_WIRE_DROP_BAD_LENGTH);
	/* One byte too many. */
	len = mk_payload(p, 2, 0, 0, 0);
	p[len] = 0;
	expect_payload_drop(p, len + 1, SL_WIRE_DROP_BAD_LENGTH);
	/* One byte too few. */
	expect_payload_drop(p, len - 1, SL_WIRE_DROP_BAD_LENGTH);
	/* A zero-record header followed by one record. */
	len = mk_payload_n(p, 0, 1, 0, 0, 0);
	expect_payload_drop(p, len, SL_WIRE_DROP_BAD_LENGTH);
	/* Shorter than the header but holding a magic. */
	for (uint32_t l = 4; l < SL_WIRE_HDR_LEN; l++)
		expect_payload_drop(p, l, SL_WIRE_DROP_BAD_LENGTH);
	/* The largest count: no overflow of count * size. */
	len = mk_payload(p, 1, 0, 0, 0);
	p[12] = 0xff;
	p[13] = 0xff;
	expect_payload_drop(p, len, SL_WIRE_DROP_BAD_LENGTH);
}

static void
test_drop_bad_reserved(void **state)
{
	uint8_t p[BUF];
	uint32_t len;

	(void)state;
	len = mk_payload(p, 1, 0, 0, 0);
	p[15] = 1;				/* reserved0 */
	expect_payload_drop(p, len, SL_WIRE_DROP_BAD_RESERVED);
	len = mk_payload(p, 1, 0, 0, 0);
	p[20] = 1;				/* reserved1 */
	expect_payload_drop(p, len, SL_WIRE_DROP_BAD_RESERVED);
	len = mk_payload(p, 1, 0, 0, 0);
	p[23] = 0x80;
	expect_payload_drop(p, len, SL_WIRE_DROP_BAD_RESERVED);
	/* Every unknown flag bit, alone and with END. */
	for (unsigned int b = 1; b < 8; b++) {
		len = mk_payload(p, 1, 0, 0, (uint8_t)(1u << b));
		expect_payload_drop(p, len, SL_WIRE_DROP_BAD_RESERVED);
		len = mk_payload(p, 1, 0, 0,
				 (uint8_t)((1u << b) | SL_WIRE_FLAG_END));
		expect_payload_drop(p, len, SL_WIRE_DROP_BAD_RESERVED);
	}
}

static void
test_drop_bad_partition(void **state)
{
	uint8_t p[BUF];
	uint32_t len;

	(void)state;
	len = mk_payload(p, 1, SL_WIRE_MAX_PARTITIONS, 0, 0);
	expect_payload_drop(p, len, SL_WIRE_DROP_BAD_PARTITION);
	len = mk_payload(p, 1, 0x10000, 0, 0);	/* would alias 0 as u16 */
	expect_payload_drop(p, len, SL_WIRE_DROP_BAD_PARTITION);
	len = mk_payload(p, 1, UINT32_MAX, 0, 0);
	expect_payload_drop(p, len, SL_WIRE_DROP_BAD_PARTITION);
}

static void
test_drop_after_end(void **state)
{
	struct sl_wire_rx rx;
	struct sl_wire_pkt out;
	uint8_t f[BUF];
	uint32_t len;

	(void)state;
	sl_wire_rx_init(&rx, &sch, PORT);
	len = mk_frame(f, 1, 3, 0, SL_WIRE_FLAG_END);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out), 0);
	len = mk_frame(f, 1, 3, 1, 0);		/* next in sequence */
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out),
			 -(1 + SL_WIRE_DROP_AFTER_END));
	assert_int_equal(rx.drops[SL_WIRE_DROP_AFTER_END], 1);
	assert_int_equal(total_drops(&rx), 1);
	assert_int_equal(rx.pkts, 1);
	assert_int_equal(rx.records, 1);
}

static void
test_drop_duplicate(void **state)
{
	struct sl_wire_rx rx;
	struct sl_wire_pkt out;
	uint8_t f[BUF];
	uint32_t len;

	(void)state;
	sl_wire_rx_init(&rx, &sch, PORT);
	len = mk_frame(f, 2, 1, 0, 0);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out), 0);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out),
			 -(1 + SL_WIRE_DROP_DUPLICATE));
	assert_int_equal(rx.drops[SL_WIRE_DROP_DUPLICATE], 1);
	assert_int_equal(total_drops(&rx), 1);
	assert_int_equal(rx.pkts, 1);
	assert_int_equal(rx.records, 2);
	assert_int_equal(rx.part[1].next_seq, 1);
	assert_int_equal(rx.part[1].gaps, 0);
}

static void
test_sequence_gaps(void **state)
{
	struct sl_wire_rx rx;
	struct sl_wire_pkt out;
	uint8_t f[BUF];
	uint32_t len;
	static const uint64_t seqs[] = { 0, 1, 5 };

	(void)state;
	sl_wire_rx_init(&rx, &sch, PORT);
	for (unsigned int i = 0; i < 3; i++) {
		len = mk_frame(f, 1, 0, seqs[i], 0);
		assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out), 0);
	}
	assert_int_equal(rx.part[0].gaps, 3);		/* 2, 3 and 4 */
	assert_int_equal(rx.part[0].next_seq, 6);
	assert_int_equal(rx.pkts, 3);

	/* Reordered (3, late) and duplicate (5) packets are dropped and do
	 * not change the gap count. */
	len = mk_frame(f, 1, 0, 3, 0);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out),
			 -(1 + SL_WIRE_DROP_DUPLICATE));
	len = mk_frame(f, 1, 0, 5, 0);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out),
			 -(1 + SL_WIRE_DROP_DUPLICATE));
	assert_int_equal(rx.drops[SL_WIRE_DROP_DUPLICATE], 2);
	assert_int_equal(rx.part[0].gaps, 3);
	len = mk_frame(f, 1, 0, 6, 0);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out), 0);
	assert_int_equal(rx.part[0].gaps, 3);

	/* A partition whose first packet has seq 2 lost packets 0 and 1;
	 * partitions are independent. */
	len = mk_frame(f, 1, 9, 2, 0);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out), 0);
	assert_int_equal(rx.part[9].gaps, 2);
	assert_int_equal(rx.part[9].next_seq, 3);
	assert_int_equal(rx.part[0].gaps, 3);
	assert_int_equal(rx.part[0].next_seq, 7);
	/* seq 0 on partition 9 is now late. */
	len = mk_frame(f, 1, 9, 0, 0);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out),
			 -(1 + SL_WIRE_DROP_DUPLICATE));
	assert_int_equal(rx.drops[SL_WIRE_DROP_DUPLICATE], 3);
	assert_int_equal(total_drops(&rx), 3);
}

/*
 * The last possible sequence number: nothing can follow it, so a replay
 * of it (or anything else) on that partition is a duplicate, and the gap
 * count is not corrupted by next_seq wrapping to 0.
 */
static void
test_sequence_max(void **state)
{
	struct sl_wire_rx rx;
	struct sl_wire_pkt out;
	uint8_t f[BUF];
	uint32_t len;

	(void)state;
	sl_wire_rx_init(&rx, &sch, PORT);
	len = mk_frame(f, 1, 4, 0, 0);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out), 0);
	len = mk_frame(f, 1, 4, UINT64_MAX, 0);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out), 0);
	assert_int_equal(rx.part[4].gaps, UINT64_MAX - 1);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out),
			 -(1 + SL_WIRE_DROP_DUPLICATE));
	len = mk_frame(f, 1, 4, 0, 0);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out),
			 -(1 + SL_WIRE_DROP_DUPLICATE));
	assert_int_equal(rx.drops[SL_WIRE_DROP_DUPLICATE], 2);
	assert_int_equal(rx.part[4].gaps, UINT64_MAX - 1);
	assert_int_equal(rx.pkts, 2);
}

static void
test_end(void **state)
{
	struct sl_wire_rx rx;
	struct sl_wire_pkt out;
	uint8_t f[BUF];
	uint32_t len;

	(void)state;
	sl_wire_rx_init(&rx, &sch, PORT);
	len = mk_frame(f, 2, 0, 0, 0);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out), 0);
	assert_int_equal(out.end, 0);

	/* END with records: the records count, then the partition ends. */
	len = mk_frame(f, 2, 0, 1, SL_WIRE_FLAG_END);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out), 0);
	assert_int_equal(out.end, 1);
	assert_int_equal(out.count, 2);
	assert_int_equal(rx.part[0].ended, 1);
	assert_int_equal(rx.n_parts_ended, 1);
	assert_int_equal(rx.records, 4);

	/* A repeated END does not end the partition twice. */
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out),
			 -(1 + SL_WIRE_DROP_AFTER_END));
	assert_int_equal(rx.n_parts_ended, 1);

	/* Other partitions go on; a zero-record END on partition 1, whose
	 * first packet it is. */
	len = mk_frame(f, 1, 1, 0, 0);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out), 0);
	len = mk_frame(f, 0, 1, 1, SL_WIRE_FLAG_END);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out), 0);
	assert_int_equal(out.end, 1);
	assert_int_equal(out.count, 0);
	assert_int_equal(out.partition, 1);
	assert_int_equal(rx.n_parts_ended, 2);
	/* END as the very first packet of a partition (with a gap). */
	len = mk_frame(f, 0, 2, 7, SL_WIRE_FLAG_END);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out), 0);
	assert_int_equal(rx.n_parts_ended, 3);
	assert_int_equal(rx.part[2].gaps, 7);

	assert_int_equal(rx.pkts, 5);
	assert_int_equal(rx.records, 5);
	assert_int_equal(rx.drops[SL_WIRE_DROP_AFTER_END], 1);
	assert_int_equal(total_drops(&rx), 1);
}

static void
test_zero_records(void **state)
{
	struct sl_wire_rx rx;
	struct sl_wire_pkt out;
	uint8_t f[BUF], p[BUF];
	uint32_t len;

	(void)state;
	sl_wire_rx_init(&rx, &sch, PORT);
	len = mk_payload(p, 0, 0, 0, 0);
	assert_int_equal(len, SL_WIRE_HDR_LEN);
	assert_int_equal(sl_wire_parse_payload(&rx, p, len, &out), 0);
	assert_ptr_equal(out.records, p + SL_WIRE_HDR_LEN);
	assert_int_equal(out.count, 0);
	assert_int_equal(out.end, 0);
	len = mk_frame(f, 0, 0, 1, 0);
	assert_int_equal(len, L2L4 + SL_WIRE_HDR_LEN);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len, &out), 0);
	assert_int_equal(out.count, 0);
	assert_int_equal(rx.pkts, 2);
	assert_int_equal(rx.records, 0);
	assert_int_equal(rx.part[0].next_seq, 2);
	assert_int_equal(total_drops(&rx), 0);
}

static void
test_any_port(void **state)
{
	static const uint16_t ports[] = { 1, 53, PORT, 65535 };
	struct sl_wire_rx rx;
	struct sl_wire_pkt out;
	uint8_t p[BUF], f[BUF];

	(void)state;
	sl_wire_rx_init(&rx, &sch, 0);
	for (unsigned int i = 0; i < 4; i++) {
		uint32_t plen = mk_payload(p, 1, 0, i, 0);
		int n = sl_wire_frame_build(f, BUF, p, plen, ports[i], 1);

		assert_true(n > 0);
		assert_int_equal(sl_wire_parse_frame(&rx, f, (uint32_t)n, &out),
				 0);
	}
	assert_int_equal(rx.pkts, 4);
	assert_int_equal(total_drops(&rx), 0);
}

static void
test_vlan(void **state)
{
	struct sl_wire_rx rx;
	struct sl_wire_pkt out;
	uint8_t f[BUF], v[BUF];
	uint32_t len;

	(void)state;
	len = mk_frame(f, 2, 6, 0, 0);
	memcpy(v, f, 12);
	put16(v + 12, 0x8100);
	put16(v + 14, 0x2064);			/* PCP 1, VID 100 */
	memcpy(v + 16, f + 12, len - 12);
	sl_wire_rx_init(&rx, &sch, PORT);
	assert_int_equal(sl_wire_parse_frame(&rx, v, len + 4, &out), 0);
	assert_ptr_equal(out.records, v + 4 + L2L4 + SL_WIRE_HDR_LEN);
	assert_int_equal(out.count, 2);
	assert_int_equal(out.partition, 6);
	assert_int_equal(rx.records, 2);

	/* A second tag (0x8100 twice) is not accepted. */
	memcpy(v, f, 12);
	put16(v + 12, 0x8100);
	put16(v + 14, 100);
	put16(v + 16, 0x8100);
	put16(v + 18, 200);
	memcpy(v + 20, f + 12, len - 12);
	expect_frame_drop(v, len + 8, SL_WIRE_DROP_NOT_IPV4);
	/* A tag around something that is not IPv4. */
	memcpy(v, f, 12);
	put16(v + 12, 0x8100);
	put16(v + 14, 100);
	put16(v + 16, 0x86dd);
	memcpy(v + 18, f + 14, len - 14);
	expect_frame_drop(v, len + 4, SL_WIRE_DROP_NOT_IPV4);
	/* A tagged frame cut inside the IPv4 header. */
	put16(v + 16, 0x0800);
	expect_frame_drop(v, 18 + 19, SL_WIRE_DROP_TRUNCATED);
}

/* IPv4 options (IHL > 5) and Ethernet padding after the IP packet. */
static void
test_ip_options_and_padding(void **state)
{
	struct sl_wire_rx rx;
	struct sl_wire_pkt out;
	uint8_t f[BUF], v[BUF];
	uint32_t len;

	(void)state;
	len = mk_frame(f, 1, 0, 0, 0);
	memcpy(v, f, 34);
	v[14] = 0x46;
	put16(v + 16, (uint16_t)(get16(f + 16) + 4));
	memset(v + 34, 1, 4);			/* four NOP options */
	memcpy(v + 38, f + 34, len - 34);
	sl_wire_rx_init(&rx, &sch, PORT);
	assert_int_equal(sl_wire_parse_frame(&rx, v, len + 4, &out), 0);
	assert_ptr_equal(out.records, v + 4 + L2L4 + SL_WIRE_HDR_LEN);
	assert_int_equal(out.count, 1);

	/* Trailing bytes beyond the IP total length (padding, FCS). */
	len = mk_frame(f, 1, 0, 1, 0);
	memset(f + len, 0xee, 8);
	assert_int_equal(sl_wire_parse_frame(&rx, f, len + 8, &out), 0);
	assert_int_equal(rx.pkts, 2);
	/* Bytes beyond the UDP length inside the IP packet are ignored too. */
	len = mk_frame(f, 1, 0, 2, 0);
	put16(f + 16, (uint16_t)(get16(f + 16) + 3));
	assert_int_equal(sl_wire_parse_frame(&rx, f, len + 3, &out), 0);
	assert_int_equal(rx.pkts, 3);
	assert_int_equal(total_drops(&rx), 0);
}

/* Every reason, counted separately in one rx: the counters do not mix. */
static void
test_all_reasons_one_rx(void **state)
{
	struct sl_wire_rx rx;
	struct sl_wire_pkt out;
	uint8_t f[BUF], p[BUF];
	uint32_t len, plen;
	int ret[SL_WIRE_DROP__COUNT];

	(void)state;
	sl_wire_rx_init(&rx, &sch, PORT);
	len = mk_frame(f, 1, 0, 0, 0);
	put16(f + 12, 0x0806);
	ret[SL_WIRE_DROP_NOT_IPV4] = sl_wire_parse_frame(&rx, f, len, &out);
	len = mk_frame(f, 1, 0, 0, 0);
	f[23] = 6;
	ret[SL_WIRE_DROP_NOT_UDP] = sl_wire_parse_frame(&rx, f, len, &out);
	len = mk_frame(f, 1, 0, 0, 0);
	put16(f + 36, 1);
	ret[SL_WIRE_DROP_WRONG_PORT] = sl_wire_parse_frame(&rx, f, len, &out);
	ret[SL_WIRE_DROP_TRUNCATED] = sl_wire_parse_frame(&rx, f, 20, &out);
	len = mk_frame(f, 1, 0, 0, 0);
	put16(f + 20, 0x2000);
	ret[SL_WIRE_DROP_FRAGMENT] = sl_wire_parse_frame(&rx, f, len, &out);
	plen = mk_payload(p, 1, 0, 0, 0);
	p[1] = 0;
	ret[SL_WIRE_DROP_BAD_MAGIC] = sl_wire_parse_payload(&rx, p, plen, &out);
	plen = mk_payload(p, 1, 0, 0, 0);
	p[4] = 9;
	ret[SL_WIRE_DROP_BAD_VERSION] =
		sl_wire_parse_payload(&rx, p, plen, &out);
	plen = mk_payload(p, 1, 0, 0, 0);
	p[9] ^= 1;
	ret[SL_WIRE_DROP_BAD_SCHEMA] =
		sl_wire_parse_payload(&rx, p, plen, &out);
	plen = mk_payload(p, 1, 0, 0, 0);
	p[6] = ROW - 1;
	ret[SL_WIRE_DROP_BAD_RECORD_SIZE] =
		sl_wire_parse_payload(&rx, p, plen, &out);
	plen = mk_payload(p, 1, 0, 0, 0);
	ret[SL_WIRE_DROP_BAD_LENGTH] =
		sl_wire_parse_payload(&rx, p, plen - 1, &out);
	plen = mk_payload(p, 1, 0, 0, 0x40);
	ret[SL_WIRE_DROP_BAD_RESERVED] =
		sl_wire_parse_payload(&rx, p, plen, &out);
	plen = mk_payload(p, 1, 64, 0, 0);
	ret[SL_WIRE_DROP_BAD_PARTITION] =
		sl_wire_parse_payload(&rx, p, plen, &out);
	plen = mk_payload(p, 1, 7, 0, SL_WIRE_FLAG_END);
	assert_int_equal(sl_wire_parse_payload(&rx, p, plen, &out), 0);
	plen = mk_payload(p, 1, 7, 1, 0);
	ret[SL_WIRE_DROP_AFTER_END] = sl_wire_parse_payload(&rx, p, plen, &out);
	plen = mk_payload(p, 1, 8, 0, 0);
	assert_int_equal(sl_wire_parse_payload(&rx, p, plen, &out), 0);
	ret[SL_WIRE_DROP_DUPLICATE] = sl_wire_parse_payload(&rx, p, plen, &out);

	for (int r = 0; r < SL_WIRE_DROP__COUNT; r++) {
		assert_int_equal(ret[r], -(1 + r));
		assert_int_equal(rx.drops[r], 1);
	}
	assert_int_equal(rx.pkts, 2);
	assert_int_equal(rx.records, 2);
}

/*
 * End of input with source.queues > 1. RSS puts each partition's packets,
 * END included, on one queue, any queue: here partition 0 ends on queue 0
 * and partition 1 on queue 1. Counted per queue (the old rule) neither
 * queue ever reaches partitions = 2 and the job hangs; the count shared by
 * all queues reaches 2 on both.
 */
static void
test_end_across_queues(void **state)
{
	struct sl_wire_rx q[2];
	struct sl_wire_pkt out;
	uint64_t ended = 0;
	uint8_t f[BUF];
	uint32_t len;

	(void)state;
	for (int i = 0; i < 2; i++) {
		sl_wire_rx_init(&q[i], &sch, PORT);
		len = mk_frame(f, 2, (uint32_t)i, 0, 0);
		assert_int_equal(sl_wire_parse_frame(&q[i], f, len, &out), 0);
		assert_int_equal(out.end, 0);
		len = mk_frame(f, 0, (uint32_t)i, 1, SL_WIRE_FLAG_END);
		assert_int_equal(sl_wire_parse_frame(&q[i], f, len, &out), 0);
		assert_int_equal(out.end, 1);
		/* What eth_poll does with a packet carrying END. */
		assert_true(sl_wire_ended_mark(&ended, out.partition));
	}
	assert_int_equal(q[0].n_parts_ended, 1);	/* < 2: never done */
	assert_int_equal(q[1].n_parts_ended, 1);
	assert_int_equal(sl_wire_ended_count(&ended), 2);

	/* The same partition ending on a second queue counts once. */
	assert_false(sl_wire_ended_mark(&ended, 1));
	assert_int_equal(sl_wire_ended_count(&ended), 2);
	/* Partition 63 is the last bit; 64 is out of range (the parser drops it). */
	assert_true(sl_wire_ended_mark(&ended, 63));
	assert_false(sl_wire_ended_mark(&ended, 64));
	assert_int_equal(sl_wire_ended_count(&ended), 3);
	assert_int_equal(ended, (1ull << 63) | 3);
}

struct mark_arg {
	uint64_t *mask;
	uint32_t first;
};

/* One RX lcore marking its 32 partitions ended, over and over. */
static void *
mark_thread(void *p)
{
	struct mark_arg *a = p;

	for (int round = 0; round < 1000; round++)
		for (uint32_t i = 0; i < 32; i++)
			sl_wire_ended_mark(a->mask, a->first + i);
	return NULL;
}

/* Two lcores marking at once lose no bit: all 64 partitions count. */
static void
test_end_across_queues_concurrent(void **state)
{
	uint64_t ended = 0;
	struct mark_arg a[2] = { { &ended, 0 }, { &ended, 32 } };
	pthread_t t[2];

	(void)state;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, mark_thread, &a[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(sl_wire_ended_count(&ended), 64);
	assert_int_equal(ended, UINT64_MAX);
}

static void
test_drop_names(void **state)
{
	static const char *const names[] = {
		"not_ipv4", "not_udp", "wrong_port", "truncated", "fragment",
		"bad_magic", "bad_version", "bad_schema", "bad_record_size",
		"bad_length", "bad_reserved", "bad_partition", "after_end",
		"duplicate",
	};

	(void)state;
	assert_int_equal(SL_WIRE_DROP__COUNT, sizeof(names) / sizeof(names[0]));
	for (int r = 0; r < SL_WIRE_DROP__COUNT; r++) {
		const char *d = sl_wire_drop_desc((enum sl_wire_drop)r);

		assert_string_equal(sl_wire_drop_name((enum sl_wire_drop)r),
				    names[r]);
		assert_non_null(d);
		assert_true(strlen(d) > 8);
		assert_string_not_equal(d, "?");
		for (int q = 0; q < r; q++)
			assert_string_not_equal(
				d, sl_wire_drop_desc((enum sl_wire_drop)q));
	}
	assert_string_equal(sl_wire_drop_desc(SL_WIRE_DROP_BAD_MAGIC),
			    "payload magic is not SLCE");
	assert_string_equal(sl_wire_drop_name(SL_WIRE_DROP__COUNT), "?");
	assert_string_equal(sl_wire_drop_desc(SL_WIRE_DROP__COUNT), "?");
	assert_string_equal(sl_wire_drop_name((enum sl_wire_drop)1000), "?");
	assert_string_equal(sl_wire_drop_desc((enum sl_wire_drop)1000), "?");
	assert_string_equal(sl_wire_drop_name((enum sl_wire_drop)-1), "?");
	assert_string_equal(sl_wire_drop_desc((enum sl_wire_drop)-1), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_good_frame),
		cmocka_unit_test(test_good_payload),
		cmocka_unit_test(test_builder_layout),
		cmocka_unit_test(test_drop_not_ipv4),
		cmocka_unit_test(test_drop_not_udp),
		cmocka_unit_test(test_drop_wrong_port),
		cmocka_unit_test(test_drop_truncated),
		cmocka_unit_test(test_drop_fragment),
		cmocka_unit_test(test_drop_bad_magic),
		cmocka_unit_test(test_drop_bad_version),
		cmocka_unit_test(test_drop_bad_schema),
		cmocka_unit_test(test_drop_bad_record_size),
		cmocka_unit_test(test_drop_bad_length),
		cmocka_unit_test(test_drop_bad_reserved),
		cmocka_unit_test(test_drop_bad_partition),
		cmocka_unit_test(test_drop_after_end),
		cmocka_unit_test(test_drop_duplicate),
		cmocka_unit_test(test_sequence_gaps),
		cmocka_unit_test(test_sequence_max),
		cmocka_unit_test(test_end),
		cmocka_unit_test(test_end_across_queues),
		cmocka_unit_test(test_end_across_queues_concurrent),
		cmocka_unit_test(test_zero_records),
		cmocka_unit_test(test_any_port),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_ip_options_and_padding),
		cmocka_unit_test(test_all_reasons_one_rx),
		cmocka_unit_test(test_drop_names),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
