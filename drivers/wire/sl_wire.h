/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_WIRE_H
#define SL_WIRE_H

/**
 * @file
 * The sluice wire format (docs/wire-format.md): a UDP payload made of a
 * 32-byte header and packed little-endian records in schema order.
 *
 * This module only validates bytes and copies records into vectors; it
 * knows nothing of ports or mbufs, so it is EAL-free and fuzzed
 * (tests/fuzz/wire). Nothing a packet contains can make it read out of
 * bounds, loop, or stall: every malformed packet is counted by reason.
 */

#include <stdbool.h>
#include <stdint.h>

#include "sl_vec.h"

#define SL_WIRE_MAGIC 0x45434c53u	/**< "SLCE" read as little-endian u32 */
#define SL_WIRE_VERSION 1
#define SL_WIRE_HDR_LEN 32
#define SL_WIRE_FLAG_END 0x01		/**< last packet of this partition */
#define SL_WIRE_MAX_PARTITIONS 64	/**< partitions tracked per source */
#define SL_WIRE_DEFAULT_UDP_PORT 9000

/** On-wire header; all fields little-endian. */
struct sl_wire_hdr {
	uint32_t magic;		/**< SL_WIRE_MAGIC */
	uint8_t version;	/**< SL_WIRE_VERSION */
	uint8_t flags;		/**< SL_WIRE_FLAG_* */
	uint16_t record_size;	/**< must equal the schema's row size */
	uint32_t schema_id;	/**< sl_schema_id() of the producer's schema */
	uint16_t record_count;	/**< records that follow the header */
	uint16_t reserved0;	/**< must be 0 */
	uint32_t partition;	/**< source partition, < SL_WIRE_MAX_PARTITIONS */
	uint32_t reserved1;	/**< must be 0 */
	uint64_t seq;		/**< per-partition sequence number, from 0 */
} __attribute__((packed));

_Static_assert(sizeof(struct sl_wire_hdr) == SL_WIRE_HDR_LEN,
	       "wire header is 32 bytes");

/**
 * Why a packet was dropped. The X-macro keeps the enum, the counter names
 * shown by stats and the docs in one list.
 */
#define SL_WIRE_DROP_REASONS(X)                                              \
	X(NOT_IPV4, "not_ipv4", "frame is not Ethernet/IPv4")              \
	X(NOT_UDP, "not_udp", "IPv4 packet is not UDP")                    \
	X(WRONG_PORT, "wrong_port", "UDP destination port is not ours")    \
	X(TRUNCATED, "truncated", "frame shorter than its headers claim")  \
	X(FRAGMENT, "fragment", "IPv4 fragment (not reassembled)")         \
	X(BAD_MAGIC, "bad_magic", "payload magic is not SLCE")             \
	X(BAD_VERSION, "bad_version", "unsupported wire version")          \
	X(BAD_SCHEMA, "bad_schema", "schema id differs from the job's")    \
	X(BAD_RECORD_SIZE, "bad_record_size", "record size differs from the schema's row size") \
	X(BAD_LENGTH, "bad_length", "payload length != header + count * record size") \
	X(BAD_RESERVED, "bad_reserved", "reserved header field is not zero") \
	X(BAD_PARTITION, "bad_partition", "partition id out of range")     \
	X(AFTER_END, "after_end", "packet after its partition's END")      \
	X(DUPLICATE, "duplicate", "sequence number already seen (duplicate or reordered)")

enum sl_wire_drop {
#define SL_WIRE_X(e, n, d) SL_WIRE_DROP_##e,
	SL_WIRE_DROP_REASONS(SL_WIRE_X)
#undef SL_WIRE_X
	SL_WIRE_DROP__COUNT
};

/** Counter name of a drop reason ("bad_magic"). */
const char *sl_wire_drop_name(enum sl_wire_drop r);
/** One-line description of a drop reason. */
const char *sl_wire_drop_desc(enum sl_wire_drop r);

/** Per-partition sequence tracking (single writer: the RX lcore). */
struct sl_wire_part {
	uint64_t next_seq;	/**< expected next sequence number */
	uint64_t gaps;		/**< packets missing (sum of sequence gaps) */
	uint8_t seen;
	uint8_t ended;		/**< END flag received */
};

/** Parser state and counters for one source (one RX lcore). */
struct sl_wire_rx {
	uint32_t schema_id;
	uint16_t row_size;
	uint16_t udp_port;	/**< host order; 0 accepts any port */
	uint64_t pkts;		/**< packets accepted */
	uint64_t records;	/**< records accepted */
	uint64_t drops[SL_WIRE_DROP__COUNT];
	uint32_t n_parts_ended;
	struct sl_wire_part part[SL_WIRE_MAX_PARTITIONS];
};

void sl_wire_rx_init(struct sl_wire_rx *rx, const struct sl_schema *s,
		     uint16_t udp_port);

/** Result of parsing one payload. */
struct sl_wire_pkt {
	const uint8_t *records;	/**< first record (inside the payload) */
	uint16_t count;		/**< records */
	uint16_t partition;
	uint8_t end;		/**< this packet carries the END flag */
};

/**
 * Validate one sluice payload (no L2-L4 headers).
 * @return 0 and fills *out, or a negative drop reason -(1 + enum sl_wire_drop)
 *   already counted in rx->drops.
 */
int sl_wire_parse_payload(struct sl_wire_rx *rx, const uint8_t *p,
			  uint32_t len, struct sl_wire_pkt *out);

/**
 * Validate an Ethernet frame (optionally one 802.1Q tag), IPv4 and UDP,
 * then the payload. Same return convention as sl_wire_parse_payload().
 */
int sl_wire_parse_frame(struct sl_wire_rx *rx, const uint8_t *frame,
			uint32_t len, struct sl_wire_pkt *out);

/*
 * End of input across the RX queues of one source. RSS puts each
 * partition's packets, END included, on one queue, any queue, so a count
 * kept per queue (sl_wire_rx.n_parts_ended) never reaches the number of
 * partitions when queues > 1. Every queue marks the partitions it sees
 * END for in one process-wide mask and reads the total from it.
 */
_Static_assert(SL_WIRE_MAX_PARTITIONS <= 64, "ended partitions fit a u64 mask");

/**
 * Mark partition ended in the shared mask (any lcore, lock-free).
 * @return true if this call ended it, false if it had ended already or
 *   is out of range (the parser never returns one).
 */
static inline bool
sl_wire_ended_mark(uint64_t *mask, uint32_t partition)
{
	uint64_t bit;

	if (partition >= SL_WIRE_MAX_PARTITIONS)
		return false;
	bit = 1ull << partition;
	return (__atomic_fetch_or(mask, bit, __ATOMIC_RELEASE) & bit) == 0;
}

/** Partitions ended on any queue. */
static inline uint32_t
sl_wire_ended_count(const uint64_t *mask)
{
	return (uint32_t)__builtin_popcountll(__atomic_load_n(mask,
							      __ATOMIC_ACQUIRE));
}

/** Fill a header for a producer (sluice-gen, tests). */
void sl_wire_hdr_fill(struct sl_wire_hdr *h, uint32_t schema_id,
		      uint16_t record_size, uint16_t record_count,
		      uint32_t partition, uint64_t seq, uint8_t flags);

#define SL_WIRE_FRAME_HDR_LEN 42		/**< Ethernet + IPv4 + UDP, no options */
#define SL_WIRE_UDP_PAYLOAD_MAX 1472	/**< a 1500-byte MTU minus IPv4 and UDP */

/**
 * Write the Ethernet/IPv4/UDP headers (SL_WIRE_FRAME_HDR_LEN bytes) of a
 * frame whose payload_len bytes of payload follow them, for producers that
 * fill the payload in place (the ethdev sink).
 */
void sl_wire_frame_hdr(uint8_t *frame, uint32_t payload_len,
		       uint16_t udp_dst_port, uint16_t udp_src_port);

/**
 * Build a complete Ethernet/IPv4/UDP frame around a payload, for producers
 * and tests. @return the frame length, or -ENOSPC if it does not fit cap.
 */
int sl_wire_frame_build(uint8_t *frame, uint32_t cap, const void *payload,
			uint32_t payload_len, uint16_t udp_dst_port,
			uint16_t udp_src_port);

/* ---- binary capture files (fast replay): docs/wire-format.md ---- */

#define SL_CAP_MAGIC "SLCAP001"		/**< 8 bytes at offset 0 */
#define SL_CAP_HDR_LEN 16		/**< magic + u32 schema id + u32 reserved */

#endif /* SL_WIRE_H */
