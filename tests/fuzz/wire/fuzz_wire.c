/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: libFuzzer target for the wire parser. The first input byte
 * picks the mode (even: Ethernet frame, odd: bare UDP payload); the rest
 * is parsed against the fixed schema "user_id:u64,url_id:u32,ts:timestamp_ms"
 * (udp port 9000) on a static rx whose sequence state carries across inputs
 * and is reset every 64 inputs. Every record byte of an accepted packet is
 * read, so ASan reports a parse that points outside the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_wire.h"

#define FUZZ_SPEC "user_id:u64,url_id:u32,ts:timestamp_ms"
#define FUZZ_RESET_EVERY 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sl_schema schema;
static struct sl_wire_rx rx;
static unsigned int n_inputs;
static volatile uint64_t sink;

static void
check_counters(uint64_t pkts, uint64_t drops, int ret)
{
	uint64_t d = 0;

	for (int r = 0; r < SL_WIRE_DROP__COUNT; r++)
		d += rx.drops[r];
	/* Exactly one counter moves per input, and the right one. */
	if (ret == 0 ? rx.pkts != pkts + 1 || d != drops :
		       rx.pkts != pkts || d != drops + 1 ||
		       ret < -SL_WIRE_DROP__COUNT)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_wire_pkt out;
	uint64_t pkts, drops = 0, sum = 0;
	uint32_t len;
	int ret;

	if (n_inputs == 0) {
		size_t err_at;

		if (sl_schema_parse_spec(&schema, FUZZ_SPEC, &err_at) != 0)
			abort();
	}
	if (n_inputs++ % FUZZ_RESET_EVERY == 0)
		sl_wire_rx_init(&rx, &schema, SL_WIRE_DEFAULT_UDP_PORT);
	if (size < 1 || size - 1 > UINT32_MAX)
		return 0;
	len = (uint32_t)(size - 1);
	pkts = rx.pkts;
	for (int r = 0; r < SL_WIRE_DROP__COUNT; r++)
		drops += rx.drops[r];

	if (data[0] & 1)
		ret = sl_wire_parse_payload(&rx, data + 1, len, &out);
	else
		ret = sl_wire_parse_frame(&rx, data + 1, len, &out);
	check_counters(pkts, drops, ret);
	if (ret != 0)
		return 0;

	if (out.records < data + 1 ||
	    out.records + (size_t)out.count * rx.row_size > data + size ||
	    out.partition >= SL_WIRE_MAX_PARTITIONS)
		abort();
	for (size_t i = 0; i < (size_t)out.count * rx.row_size; i++)
		sum += out.records[i];
	sink += sum;
	return 0;
}
