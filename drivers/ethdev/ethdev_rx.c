/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK port source: any PMD (net_pcap and net_memif in the tests, a NIC in
 * production). One RX queue per RX lcore; frames are parsed in place in
 * their mbufs and the batches point into them until release().
 */
#include <errno.h>
#include <stdlib.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "io_private.h"

#define ETH_RX_DESC 1024
#define ETH_MBUFS 8191
#define ETH_MBUF_CACHE 256
#define ETH_TX_DESC 512
#define ETH_TX_MBUFS 2047	/* per TX queue: its descriptors, a burst, slack */

static uint16_t eth_port;
static struct rte_mempool *eth_pool;
uint16_t sl_eth_port;
struct rte_mempool *sl_eth_tx_pool;
/*
 * Partitions whose END arrived, on any queue (sl_wire_ended_mark()). Each
 * partition's END reaches one queue only, so end of input is counted for
 * the port as a whole, not per queue: every RX lcore finishes, and sends
 * its EOI, once all partitions have ended somewhere.
 */
static uint64_t eth_ended;

struct eth_src {
	uint16_t port;
	uint16_t n_held;
	struct rte_mbuf *held[SL_IO_BURST];
};

/* The port name is the vdev spec up to its first comma. */
static void
port_name(const char *spec, char *name, size_t len)
{
	size_t n = strcspn(spec, ",");

	if (n >= len)
		n = len - 1;
	memcpy(name, spec, n);
	name[n] = '\0';
}

static int
eth_setup(const struct sl_plan *p, unsigned int socket)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t nrx = p->source.rx_queues, ntx;
	int rc;

	__atomic_store_n(&eth_ended, 0, __ATOMIC_RELAXED);
	port_name(p->source.port, name, sizeof(name));
	rc = rte_eth_dev_get_port_by_name(name, &eth_port);
	if (rc != 0) {
		SL_IO_LOG(ERR, "ethdev source: no port '%s'; give a vdev spec such as net_pcap0,rx_pcap=FILE or a device the EAL can probe",
			  name);
		return -ENODEV;
	}
	rc = rte_eth_dev_info_get(eth_port, &info);
	if (rc != 0)
		return rc;
	if (nrx > info.max_rx_queues) {
		SL_IO_LOG(ERR, "ethdev source: port %s has %u RX queues, the job asks for %u; lower source.queues",
			  name, info.max_rx_queues, nrx);
		return -EINVAL;
	}
	eth_pool = rte_pktmbuf_pool_create("sl_rx_mbufs", ETH_MBUFS * nrx,
					   ETH_MBUF_CACHE, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, (int)socket);
	if (eth_pool == NULL) {
		SL_IO_LOG(ERR, "ethdev source: cannot create the mbuf pool: %s; give the EAL more memory (-m) or hugepages",
			  rte_strerror(rte_errno));
		return -ENOMEM;
	}
	memset(&conf, 0, sizeof(conf));
	if (nrx > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
	}
	/* Some PMDs (net_pcap with only rx_pcap) have no TX queue at all. */
	ntx = info.max_tx_queues > 0 ? 1 : 0;
	sl_eth_tx_pool = NULL;
	if (p->sink.type == SL_SINK_ETHDEV) {
		ntx = sl_eth_sink_queues(p);
		if (ntx > info.max_tx_queues) {
			SL_IO_LOG(ERR, "ethdev sink: port %s has %u TX queues, the job needs %u (one per worker); lower lcores.workers or give the device more queues",
				  name, info.max_tx_queues, ntx);
			return -EINVAL;
		}
		sl_eth_tx_pool = rte_pktmbuf_pool_create("sl_tx_mbufs",
							 ETH_TX_MBUFS * ntx, ETH_MBUF_CACHE, 0,
							 RTE_MBUF_DEFAULT_BUF_SIZE, (int)socket);
		if (sl_eth_tx_pool == NULL) {
			SL_IO_LOG(ERR, "ethdev sink: cannot create the TX mbuf pool: %s; give the EAL more memory (-m) or hugepages",
				  rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	sl_eth_port = eth_port;
	rc = rte_eth_dev_configure(eth_port, nrx, ntx, &conf);
	if (rc != 0) {
		SL_IO_LOG(ERR, "ethdev source: configuring port %s failed: %s",
			  name, strerror(-rc));
		return rc;
	}
	for (uint16_t q = 0; q < nrx; q++) {
		rc = rte_eth_rx_queue_setup(eth_port, q, ETH_RX_DESC, socket,
					    NULL, eth_pool);
		if (rc != 0) {
			SL_IO_LOG(ERR, "ethdev source: RX queue %u setup failed: %s",
				  q, strerror(-rc));
			return rc;
		}
	}
	for (uint16_t q = 0; q < ntx; q++) {
		rc = rte_eth_tx_queue_setup(eth_port, q, ETH_TX_DESC, socket, NULL);
		if (rc != 0) {
			SL_IO_LOG(ERR, "ethdev: TX queue %u setup failed: %s",
				  q, strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(eth_port);
	if (rc != 0) {
		SL_IO_LOG(ERR, "ethdev source: starting port %s failed: %s",
			  name, strerror(-rc));
		return rc;
	}
	rte_eth_promiscuous_enable(eth_port);
	return 0;
}

static int
eth_open(struct sl_source *s, uint16_t queue)
{
	struct eth_src *e = rte_zmalloc("sl_eth_src", sizeof(*e), RTE_CACHE_LINE_SIZE);

	(void)queue;
	if (e == NULL)
		return -ENOMEM;
	e->port = eth_port;
	s->priv = e;
	return 0;
}

static uint16_t
eth_poll(struct sl_source *s, struct sl_src_batch *b, uint16_t max)
{
	struct eth_src *e = s->priv;
	struct rte_mbuf **m = e->held;
	uint16_t n, nb = 0;
	const uint32_t parts = s->plan->source.partitions;

	n = rte_eth_rx_burst(e->port, s->queue, m,
			     max < SL_IO_BURST ? max : SL_IO_BURST);
	e->n_held = n;
	for (uint16_t i = 0; i < n; i++) {
		struct sl_wire_pkt pkt;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 1], void *));
		if (unlikely(m[i]->nb_segs != 1)) {
			/* Records never span segments; a chained frame is
			 * bigger than any producer sends. */
			s->wire.drops[SL_WIRE_DROP_TRUNCATED]++;
			continue;
		}
		if (sl_wire_parse_frame(&s->wire, rte_pktmbuf_mtod(m[i], uint8_t *),
					m[i]->data_len, &pkt) != 0)
			continue;
		/* Before the zero-record check: END often carries no rows. */
		if (pkt.end)
			sl_wire_ended_mark(&eth_ended, pkt.partition);
		if (pkt.count == 0)
			continue;
		b[nb].rows = pkt.records;
		b[nb].n = pkt.count;
		b[nb].partition = pkt.partition;
		nb++;
	}
	/*
	 * A burst shorter than asked for emptied this queue: rows of a
	 * partition that RSS spread over several queues are not left
	 * behind in the ring when its END was taken on another queue.
	 */
	if (parts > 0 && n < (max < SL_IO_BURST ? max : SL_IO_BURST) &&
	    sl_wire_ended_count(&eth_ended) >= parts)
		s->done = true;
	return nb;
}

static void
eth_release(struct sl_source *s)
{
	struct eth_src *e = s->priv;

	if (e->n_held) {
		rte_pktmbuf_free_bulk(e->held, e->n_held);
		e->n_held = 0;
	}
}

static void
eth_stats(struct sl_source *s)
{
	struct eth_src *e = s->priv;
	struct rte_eth_stats st;

	if (rte_eth_stats_get(e->port, &st) == 0) {
		s->stats.rx_missed = st.imissed;
		s->stats.rx_nombuf = st.rx_nombuf;
	}
}

static void
eth_close(struct sl_source *s)
{
	struct eth_src *e = s->priv;

	if (e == NULL)
		return;
	eth_release(s);
	if (s->queue == 0) {
		rte_eth_dev_stop(e->port);
		rte_eth_dev_close(e->port);
	}
	rte_free(e);
	s->priv = NULL;
}

const struct sl_source_ops sl_ethdev_source_ops = {
	.name = "ethdev",
	.setup = eth_setup,
	.open = eth_open,
	.poll = eth_poll,
	.release = eth_release,
	.close = eth_close,
	.stats = eth_stats,
};
