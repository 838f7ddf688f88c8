/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK port sink: result rows leave as wire-format packets (docs/
 * wire-format.md) out of the source's port, one TX queue per sending
 * lcore. Rows are copied once, straight into the frame being filled; a
 * frame goes out when it is full or at a flush, so a quiet stream does not
 * wait for a frame to fill. Each queue is a partition of the output with
 * its own sequence numbers and an END packet at close, which is how a
 * receiver (sluice-gen, another sluice) knows it has everything.
 */
#include <errno.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "io_private.h"

/* How long a full TX queue may hold the lcore before a burst is dropped
 * (and counted): backpressure for a slow peer, not a hang for a dead one. */
#define ETH_TX_STALL_MS 1000

static void
frame_finish(struct sl_eth_sink *k, struct rte_mbuf *m, uint16_t n, uint8_t flags)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t payload = SL_WIRE_HDR_LEN + (uint32_t)n * k->rs;
	struct sl_wire_hdr h;

	sl_wire_frame_hdr(f, payload, k->udp_port, k->udp_port);
	sl_wire_hdr_fill(&h, k->schema_id, k->rs, n, k->queue, k->seq++, flags);
	memcpy(f + SL_WIRE_FRAME_HDR_LEN, &h, sizeof(h));
	m->data_len = (uint16_t)(SL_WIRE_FRAME_HDR_LEN + payload);
	m->pkt_len = m->data_len;
	k->pkts++;
}

/* Send every queued frame; a full queue is backpressure. */
static void
tx_drain(struct sl_eth_sink *k)
{
	uint16_t sent = 0;
	uint64_t t0 = 0;

	while (sent < k->n_tx) {
		uint16_t n = rte_eth_tx_burst(k->port, k->queue, k->tx + sent,
					      (uint16_t)(k->n_tx - sent));

		sent = (uint16_t)(sent + n);
		if (n != 0 || sent == k->n_tx)
			continue;
		if (t0 == 0) {
			t0 = rte_rdtsc();
			k->tx_full++;
		} else if (rte_rdtsc() - t0 > rte_get_tsc_hz() / 1000 * ETH_TX_STALL_MS) {
			uint16_t lost = (uint16_t)(k->n_tx - sent);

			if (k->tx_dropped == 0)
				SL_IO_LOG(WARNING, "ethdev sink: queue %u has been full for %d ms; dropping packets (counted as tx_dropped) until the receiver reads again",
					  k->queue, ETH_TX_STALL_MS);
			k->tx_dropped += lost;
			rte_pktmbuf_free_bulk(k->tx + sent, lost);
			break;
		}
		rte_pause();
	}
	k->n_tx = 0;
}

static void
frame_queue(struct sl_eth_sink *k)
{
	frame_finish(k, k->cur, k->n, 0);
	k->tx[k->n_tx++] = k->cur;
	k->cur = NULL;
	if (k->n_tx == SL_IO_BURST)
		tx_drain(k);
}

static void
frame_new(struct sl_eth_sink *k)
{
	/* The pool is sized for every queue's descriptors and bursts; an
	 * empty pool means the port holds them all: wait for it. */
	while ((k->cur = rte_pktmbuf_alloc(k->pool)) == NULL) {
		if (k->n_tx)
			tx_drain(k);
		rte_pause();
	}
	k->rec = rte_pktmbuf_mtod(k->cur, uint8_t *) + SL_WIRE_FRAME_HDR_LEN +
		 SL_WIRE_HDR_LEN;
	k->n = 0;
}

uint16_t
sl_eth_sink_queues(const struct sl_plan *p)
{
	return p->stateless ? p->lcores.workers : 1;
}

int
sl_eth_sink_open(struct sl_eth_sink *k, const struct sl_plan_sink *spec,
		 const struct sl_schema *out, uint16_t queue)
{
	uint16_t fit;

	memset(k, 0, sizeof(*k));
	if (sl_eth_tx_pool == NULL) {
		SL_IO_LOG(ERR, "ethdev sink: the source's port has no TX queues; the sink needs an ethdev source on a port that can send");
		return -ENODEV;
	}
	k->port = sl_eth_port;
	k->queue = queue;
	k->pool = sl_eth_tx_pool;
	k->rs = out->row_size;
	k->udp_port = spec->udp_port;
	k->schema_id = sl_schema_id(out);
	fit = (uint16_t)((SL_WIRE_UDP_PAYLOAD_MAX - SL_WIRE_HDR_LEN) / k->rs);
	if (fit == 0 || (spec->rpp != 0 && spec->rpp > fit)) {
		SL_IO_LOG(ERR, "ethdev sink: %u records of %u bytes do not fit a %d-byte datagram; lower records_per_packet to %u or less",
			  spec->rpp ? spec->rpp : 1, k->rs, SL_WIRE_UDP_PAYLOAD_MAX, fit);
		return -EINVAL;
	}
	k->rpp = spec->rpp ? spec->rpp : fit;
	return 0;
}

void
sl_eth_sink_rows(struct sl_eth_sink *k, const uint8_t *rows, uint32_t n)
{
	const uint16_t rs = k->rs;

	k->rows += n;
	while (n > 0) {
		uint32_t take;

		if (k->cur == NULL)
			frame_new(k);
		take = RTE_MIN(n, (uint32_t)(k->rpp - k->n));
		memcpy(k->rec, rows, (size_t)take * rs);
		k->rec += (size_t)take * rs;
		k->n = (uint16_t)(k->n + take);
		rows += (size_t)take * rs;
		n -= take;
		if (k->n == k->rpp)
			frame_queue(k);
	}
}

void
sl_eth_sink_flush(struct sl_eth_sink *k)
{
	if (k->cur != NULL && k->n != 0)
		frame_queue(k);
	if (k->n_tx)
		tx_drain(k);
}

int
sl_eth_sink_close(struct sl_eth_sink *k)
{
	if (k->pool == NULL)
		return 0;
	sl_eth_sink_flush(k);
	if (k->cur == NULL)
		frame_new(k);
	/* END: the queue's last packet, empty like sluice-gen's. */
	frame_finish(k, k->cur, 0, SL_WIRE_FLAG_END);
	k->tx[k->n_tx++] = k->cur;
	k->cur = NULL;
	tx_drain(k);
	k->pool = NULL;
	return 0;
}
