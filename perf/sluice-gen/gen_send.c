/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN
 *
 * `sluice-gen send` is a DPDK primary process with one lcore and one port
 * (a virtual device: memif, ring, pcap...). Everything that costs is done
 * before the clock starts:
 *
 *   - a ring of n = --keys template records, record j carrying key
 *     perm[j] of a seeded random permutation, so any n consecutive events
 *     hold every key exactly once and a keyed job sees all of them;
 *   - the Ethernet/IPv4/UDP header of a full packet, from
 *     sl_wire_frame_build() (a full packet's lengths and IP checksum never
 *     change, and the UDP checksum is 0).
 *
 * The send loop then takes a burst of 32 mbufs with one
 * rte_pktmbuf_alloc_bulk(), re-stamps each one (the L2-L4 header copy, a
 * wire header with its partition and sequence number, rpp records copied
 * from the template ring and each given its event time), and hands the
 * burst to rte_eth_tx_burst(), retrying what the PMD did not take. No
 * other allocation, no syscall, no division per record: event time
 * advances by a precomputed quotient and remainder.
 *
 * Pacing is open loop on the TSC: packet k is due at t0 + k * rpp / rate
 * seconds, whatever happened to earlier packets, so a slow receiver shows
 * up as lag (reported) instead of silently lowering the offered load. The
 * event time written into record i is start + i * 1000 / R, with R = --rate
 * (or 10^6 events per second of event time at full speed): simple and
 * monotonic, since here only the rate matters.
 *
 * The last data packet may be short (--events not a multiple of rpp); it
 * and the END packets are built on the cold path with sl_wire_frame_build().
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include "gen.h"

#define BURST 32
#define NB_MBUF 8191
#define MBUF_CACHE 256
#define NB_TXD 1024
#define NB_RXD 256
#define L2L4_LEN (14 + 20 + 8)
#define LINK_WAIT_MS 10000
#define DRAIN_MS 200
#define TX_STALL_MS 1000	/* give up a burst the port refuses this long */
/*
 * A run fell behind when it ends more than this late on its schedule: it
 * could not keep the rate. A stall it caught up from (a VM's vCPU taken
 * away for a millisecond) does not void it: the packets it delayed still
 * carry their due times, so the delay is in their results' latency.
 */
#define BEHIND_US 1000
#define FULL_SPEED_EVENT_RATE 1000000
#define HUGE_MIN_KB (128 * 1024)

static atomic_bool stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store_explicit(&stop_flag, true, memory_order_relaxed);
}

/* The sender's state: one lcore writes all of it. */
struct sender {
	const struct gen_conf *c;
	uint16_t port;
	struct rte_mempool *mp;
	uint64_t hz;

	/* templates */
	uint8_t *rows;		/* keys records, row j has key perm[j] */
	uint64_t n_rows;
	uint64_t row_i;		/* next template row */
	uint8_t l2l4[L2L4_LEN];	/* headers of a full packet */
	struct sl_wire_hdr whdr;	/* header of a full data packet */
	uint32_t full_len;	/* frame length of a full packet */
	uint16_t ts_off;

	/* event time */
	int64_t ts;
	uint64_t ts_rem, ts_q, ts_r, ts_rate;

	/* sequencing */
	uint32_t part;		/* partition of the next data packet */
	uint64_t seq[SL_WIRE_MAX_PARTITIONS];

	/* counters */
	uint64_t pkts, events, alloc_fail, tx_dropped, end_pkts;
	uint64_t partial;	/* bursts the PMD did not take whole */
	uint64_t retries;	/* extra rte_eth_tx_burst() calls they cost */
	uint64_t max_lag_tsc;
	uint64_t end_lag_tsc;	/* lag of the last burst */

	/* latency (--latency): results come back on the same port */
	struct gen_recv *rcv;	/* NULL without --latency */
	uint64_t t0;		/* the stamps' clock starts here */
	uint64_t stamp;		/* due time of the packet being stamped, ns after t0 */
	uint64_t rx_bursts;
	uint64_t drain_tsc;	/* how long the results took to end after the last send */
	bool out_ended;		/* every result partition sent END */
	uint64_t rx_missed;	/* the port's imissed + rx_nombuf: results lost before us */
};

static inline uint64_t
tsc_ns(const struct sender *s, uint64_t d)
{
	return (uint64_t)((unsigned __int128)d * 1000000000u / s->hz);
}

/* Take the results that came back; each burst shares one arrival time. */
static unsigned int
rx_poll(struct sender *s)
{
	struct rte_mbuf *m[BURST];
	uint16_t n = rte_eth_rx_burst(s->port, 0, m, BURST);
	uint64_t now;

	if (n == 0)
		return 0;
	now = tsc_ns(s, rte_rdtsc() - s->t0);
	s->rx_bursts++;
	for (uint16_t i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 1], void *));
		if (m[i]->nb_segs == 1)
			gen_recv_frame(s->rcv, rte_pktmbuf_mtod(m[i], uint8_t *),
				       m[i]->data_len, now);
		else
			s->rcv->rx.drops[SL_WIRE_DROP_TRUNCATED]++;
	}
	rte_pktmbuf_free_bulk(m, n);
	return n;
}

/* ---- EAL ---- */

static bool
hugepages_free(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long free_pages = 0, page_kb = 0;
	char line[128];

	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Free: %llu", &free_pages);
		sscanf(line, "Hugepagesize: %llu kB", &page_kb);
	}
	fclose(f);
	return free_pages * page_kb >= HUGE_MIN_KB;
}

static int
first_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				return i;
	return 0;
}

static int
eal_start(const struct gen_conf *c, const char *argv0)
{
	/* Static: EAL may keep pointers into its argv after init. */
	static char prefix[64], lcore[16], extra[4096];
	char *argv[128], *save = NULL, *tok;
	int argc = 0, rc;

	snprintf(prefix, sizeof(prefix), "sluice-gen-%d", (int)getpid());
	snprintf(lcore, sizeof(lcore), "%d",
		 c->lcore >= 0 ? c->lcore : first_cpu());
	argv[argc++] = (char *)argv0;
	/* Never touch a real NIC: only the --vdev we are given. */
	argv[argc++] = (char *)"--no-pci";
	argv[argc++] = (char *)"--file-prefix";
	argv[argc++] = prefix;
	argv[argc++] = (char *)"--proc-type";
	argv[argc++] = (char *)"primary";
	argv[argc++] = (char *)"-l";
	argv[argc++] = lcore;
	argv[argc++] = (char *)"--vdev";
	argv[argc++] = (char *)c->port;
	if (c->eal != NULL && strstr(c->eal, "--no-huge") != NULL) {
		/* The caller chose; --huge-unlink would be refused. */
	} else if (!hugepages_free()) {
		fprintf(stderr, "sluice-gen: warning: fewer than %d MB of free "
			"hugepages, running with --no-huge -m 512 (slower)\n",
			HUGE_MIN_KB / 1024);
		argv[argc++] = (char *)"--no-huge";
		argv[argc++] = (char *)"-m";
		argv[argc++] = (char *)"512";
	} else {
		/* The file prefix is per pid, so hugepage files left by a
		 * killed run would never be reused: unlink them as soon as
		 * they are mapped. */
		argv[argc++] = (char *)"--huge-unlink";
	}
	if (c->eal) {
		/* A static copy, not strdup(): the EAL keeps the pointers. */
		if (strlen(c->eal) >= sizeof(extra))
			return -E2BIG;
		strcpy(extra, c->eal);
		for (tok = strtok_r(extra, " \t", &save); tok;
		     tok = strtok_r(NULL, " \t", &save)) {
			if (argc == (int)RTE_DIM(argv) - 1)
				return -E2BIG;
			argv[argc++] = tok;
		}
	}
	argv[argc] = NULL;
	/* EAL logs to stdout by default; --json owns stdout. */
	rte_openlog_stream(stderr);
	rc = rte_eal_init(argc, argv);
	return rc < 0 ? -rte_errno : 0;
}

static int
port_start(struct sender *s)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t port = RTE_MAX_ETHPORTS, nb_txd = NB_TXD, nb_rxd = NB_RXD;
	uint16_t id;
	int rc;

	RTE_ETH_FOREACH_DEV(id) {
		port = id;
		break;
	}
	if (port == RTE_MAX_ETHPORTS) {
		fprintf(stderr, "sluice-gen: --port: no device came up from "
			"'%s'\n", s->c->port);
		return -ENODEV;
	}
	s->port = port;
	s->mp = rte_pktmbuf_pool_create("gen_mbufs", NB_MBUF, MBUF_CACHE, 0,
					RTE_MBUF_DEFAULT_BUF_SIZE,
					(int)rte_socket_id());
	if (s->mp == NULL) {
		fprintf(stderr, "sluice-gen: mbuf pool: %s\n",
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(port, &info);
	if (rc == 0)
		rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	/* An RX queue too: memif and others refuse to start without one. */
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, nb_rxd,
					    rte_eth_dev_socket_id(port), NULL,
					    s->mp);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, nb_txd,
					    rte_eth_dev_socket_id(port), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc < 0) {
		fprintf(stderr, "sluice-gen: port %u (%s): setup failed: %s\n",
			port, info.driver_name ? info.driver_name : "?",
			rte_strerror(-rc));
		return rc;
	}
	return 0;
}

static int
link_wait(const struct sender *s)
{
	struct rte_eth_link link;

	for (int ms = 0; ms < LINK_WAIT_MS; ms += 100) {
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(s->port, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			return 0;
		if (atomic_load_explicit(&stop_flag, memory_order_relaxed))
			break;
		rte_delay_ms(100);
	}
	fprintf(stderr, "sluice-gen: --port: link still down after %d s "
		"(is the peer, e.g. the memif client, running?)\n",
		LINK_WAIT_MS / 1000);
	return -ETIMEDOUT;
}

/* ---- templates ---- */

static int
templates_build(struct sender *s)
{
	const struct gen_conf *c = s->c;
	uint16_t rs = c->schema.row_size;
	uint32_t plen = SL_WIRE_HDR_LEN + (uint32_t)c->rpp * rs;
	uint64_t *perm;
	uint8_t *payload, frame[L2L4_LEN + GEN_UDP_PAYLOAD_MAX];
	struct sl_gen_params gp;
	struct sl_gen_rng rng;
	struct gen_stream st;
	int flen;

	s->n_rows = c->keys;
	s->rows = malloc(s->n_rows * rs);
	perm = malloc(s->n_rows * sizeof(*perm));
	payload = calloc(1, plen);
	if (s->rows == NULL || perm == NULL || payload == NULL) {
		free(perm);
		free(payload);
		fprintf(stderr, "sluice-gen: --keys: no memory for %" PRIu64
			" template records\n", s->n_rows);
		return -ENOMEM;
	}
	/* Only the key and payload writers are used here: send's --rate is
	 * wall time and may be 0, which the event-time base does not take. */
	gen_params(c, &gp);
	gp.rate = 1;
	if (sl_gen_init(&st.g, &gp) < 0) {	/* gen_conf_parse refuses such a conf first */
		free(perm);
		free(payload);
		return -EINVAL;
	}
	sl_gen_rng_seed(&rng, c->seed);
	for (uint64_t j = 0; j < s->n_rows; j++)
		perm[j] = j;
	for (uint64_t j = s->n_rows - 1; j > 0; j--) {	/* Fisher-Yates */
		uint64_t k = sl_gen_rng_below(&rng, j + 1), t = perm[j];

		perm[j] = perm[k];
		perm[k] = t;
	}
	for (uint64_t j = 0; j < s->n_rows; j++) {
		uint8_t *row = s->rows + j * rs;

		memset(row, 0, rs);
		sl_gen_set_key(&st.g, row, perm[j]);
		sl_gen_fill_payload(&st.g, &rng, row);
	}
	free(perm);

	flen = sl_wire_frame_build(frame, sizeof(frame), payload, plen,
				   c->udp_port, c->udp_port);
	free(payload);
	if (flen < 0)
		return flen;
	memcpy(s->l2l4, frame, L2L4_LEN);
	s->full_len = (uint32_t)flen;
	sl_wire_hdr_fill(&s->whdr, c->schema_id, rs, c->rpp, 0, 0, 0);
	s->ts_off = c->schema.f[c->ts_f].offset;

	s->ts_rate = c->rate ? c->rate : FULL_SPEED_EVENT_RATE;
	s->ts_q = 1000 / s->ts_rate;
	s->ts_r = 1000 % s->ts_rate;
	s->ts = c->start_ms;
	return 0;
}

/* Copy n records from the template ring into dst, stamping event times. */
static inline void
records_fill(struct sender *s, uint8_t *dst, uint16_t n)
{
	uint16_t rs = s->c->schema.row_size;

	while (n > 0) {
		uint64_t run = s->n_rows - s->row_i;
		uint16_t k = run < n ? (uint16_t)run : n;

		memcpy(dst, s->rows + s->row_i * rs, (size_t)k * rs);
		for (uint16_t j = 0; j < k; j++) {
			memcpy(dst + (size_t)j * rs + s->ts_off, &s->ts, 8);
			if (s->rcv != NULL)
				memcpy(dst + (size_t)j * rs + s->c->lat_in_off, &s->stamp, 8);
			s->ts += (int64_t)s->ts_q;
			s->ts_rem += s->ts_r;
			if (s->ts_rem >= s->ts_rate) {
				s->ts_rem -= s->ts_rate;
				s->ts++;
			}
		}
		s->row_i += k;
		if (s->row_i == s->n_rows)
			s->row_i = 0;
		dst += (size_t)k * rs;
		n -= k;
	}
}

static inline void
next_part(struct sender *s)
{
	if (++s->part == s->c->partitions)
		s->part = 0;
}

/* Re-stamp one mbuf as the next full data packet (the hot path). */
static inline void
stamp_full(struct sender *s, struct rte_mbuf *m)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct sl_wire_hdr h = s->whdr;

	h.partition = s->part;
	h.seq = s->seq[s->part]++;
	memcpy(d, s->l2l4, L2L4_LEN);
	memcpy(d + L2L4_LEN, &h, sizeof(h));
	records_fill(s, d + L2L4_LEN + SL_WIRE_HDR_LEN, s->c->rpp);
	m->data_len = (uint16_t)s->full_len;
	m->pkt_len = s->full_len;
	next_part(s);
	s->events += s->c->rpp;
}

/* Cold path: a short data packet or an END packet, built from scratch. */
static int
stamp_odd(struct sender *s, struct rte_mbuf *m, uint16_t n, uint32_t part,
	  uint8_t flags)
{
	const struct gen_conf *c = s->c;
	uint32_t plen = SL_WIRE_HDR_LEN + (uint32_t)n * c->schema.row_size;
	uint8_t payload[GEN_UDP_PAYLOAD_MAX];
	struct sl_wire_hdr h;
	int flen;

	sl_wire_hdr_fill(&h, c->schema_id, c->schema.row_size, n, part,
			 s->seq[part]++, flags);
	memcpy(payload, &h, sizeof(h));
	records_fill(s, payload + SL_WIRE_HDR_LEN, n);
	flen = sl_wire_frame_build(rte_pktmbuf_mtod(m, uint8_t *),
				   rte_pktmbuf_tailroom(m), payload, plen,
				   c->udp_port, c->udp_port);
	if (flen < 0)
		return flen;
	m->data_len = (uint16_t)flen;
	m->pkt_len = (uint32_t)flen;
	s->events += n;
	return 0;
}

/*
 * Send all n mbufs, retrying what the PMD did not take (a full TX ring).
 * A port that refuses everything for TX_STALL_MS (peer gone) gets the rest
 * of the burst freed and counted, so the run still ends.
 */
static void
send_all(struct sender *s, struct rte_mbuf **m, uint16_t n)
{
	uint16_t sent = rte_eth_tx_burst(s->port, 0, m, n);
	uint64_t stall_start = 0;

	if (sent < n)
		s->partial++;
	while (sent < n) {
		uint16_t k;

		s->retries++;
		k = rte_eth_tx_burst(s->port, 0, m + sent, n - sent);
		if (k > 0) {
			sent += k;
			stall_start = 0;
			continue;
		}
		if (stall_start == 0) {
			stall_start = rte_rdtsc();
		} else if (rte_rdtsc() - stall_start >
			   s->hz * TX_STALL_MS / 1000) {
			rte_pktmbuf_free_bulk(m + sent, n - sent);
			s->tx_dropped += n - sent;
			break;
		}
		rte_pause();
	}
	s->pkts += sent;
}

/* Packet k is due at t0 + k * rpp / rate seconds. */
static inline uint64_t
due_tsc(const struct sender *s, uint64_t t0, uint64_t k)
{
	return t0 + (uint64_t)((unsigned __int128)k * s->c->rpp * s->hz /
			       s->c->rate);
}

/* Packets due by now, counting packet 0 as due at t0. */
static inline uint64_t
due_pkts(const struct sender *s, uint64_t t0, uint64_t now)
{
	return (uint64_t)((unsigned __int128)(now - t0) * s->c->rate /
			  ((unsigned __int128)s->hz * s->c->rpp)) + 1;
}

static uint64_t
send_loop(struct sender *s)
{
	const struct gen_conf *c = s->c;
	struct rte_mbuf *m[BURST];
	uint64_t total = UINT64_MAX, k = 0, t0, now, stop_at, warm_tsc;
	uint16_t tail = 0;

	if (c->events_given) {
		total = (c->events + c->rpp - 1) / c->rpp;
		tail = (uint16_t)(c->events % c->rpp);
	}
	warm_tsc = (uint64_t)(c->warmup * (double)s->hz);
	t0 = rte_rdtsc();
	s->t0 = t0;
	stop_at = c->events_given ? UINT64_MAX :
		  t0 + (uint64_t)(c->seconds * (double)s->hz);
	while (k < total) {
		uint64_t n = total - k, lag;

		if (s->rcv != NULL)
			rx_poll(s);
		now = rte_rdtsc();
		if (now >= stop_at ||
		    atomic_load_explicit(&stop_flag, memory_order_relaxed))
			break;
		if (c->rate) {
			uint64_t due = due_pkts(s, t0, now);

			if (due <= k) {
				if (s->rcv == NULL)
					rte_pause();
				continue;
			}
			if (n > due - k)
				n = due - k;
			lag = now - due_tsc(s, t0, k);
			/* Lag in the warm-up is not held against the run:
			 * its results are not recorded either. */
			if (lag < now - t0 && now - t0 >= warm_tsc) {	/* not wrapped */
				s->end_lag_tsc = lag;
				if (lag > s->max_lag_tsc)
					s->max_lag_tsc = lag;
			}
		}
		if (n > BURST)
			n = BURST;
		if (rte_pktmbuf_alloc_bulk(s->mp, m, (unsigned int)n) != 0) {
			s->alloc_fail++;
			rte_pause();
			continue;
		}
		for (uint64_t j = 0; j < n; j++) {
			/* The schedule's time, not the send's: a packet sent
			 * late carries the delay in its results' latency. */
			if (s->rcv != NULL)
				s->stamp = tsc_ns(s, c->rate ? due_tsc(s, t0, k + j) - t0 :
						      now - t0);
			if (k + j + 1 == total && tail) {
				stamp_odd(s, m[j], tail, s->part, 0);
				next_part(s);
			} else {
				stamp_full(s, m[j]);
			}
		}
		send_all(s, m, (uint16_t)n);
		k += n;
	}
	return rte_rdtsc() - t0;
}

/*
 * --replay: send a pcap file's frames in order and unchanged (END packets
 * included), so a test can push the exact bytes of a sample through a port
 * and compare against results computed from the sample's CSV.
 */
static uint64_t
replay_loop(struct sender *s)
{
	struct rte_mbuf *m[BURST];
	uint32_t hdr[6], rec[4];
	uint16_t n = 0;
	uint64_t t0 = rte_rdtsc();
	FILE *f = fopen(s->c->replay, "rb");

	if (f == NULL || fread(hdr, sizeof(hdr), 1, f) != 1 || hdr[0] != 0xa1b2c3d4u) {
		fprintf(stderr, "sluice-gen: --replay %s: not a readable pcap file\n",
			s->c->replay);
		if (f)
			fclose(f);
		s->tx_dropped = 1;	/* makes the run fail */
		return 0;
	}
	while (!atomic_load_explicit(&stop_flag, memory_order_relaxed) &&
	       fread(rec, sizeof(rec), 1, f) == 1) {
		struct rte_mbuf *mb;
		char *d;
		uint16_t cnt;

		if (rec[2] > RTE_MBUF_DEFAULT_DATAROOM)
			break;
		while ((mb = rte_pktmbuf_alloc(s->mp)) == NULL)
			rte_pause();
		d = rte_pktmbuf_append(mb, (uint16_t)rec[2]);
		if (d == NULL || fread(d, 1, rec[2], f) != rec[2]) {
			rte_pktmbuf_free(mb);
			break;
		}
		if (rec[2] >= L2L4_LEN + SL_WIRE_HDR_LEN) {
			memcpy(&cnt, d + L2L4_LEN + 12, 2);
			s->events += cnt;
			if (d[L2L4_LEN + 5] & SL_WIRE_FLAG_END)
				s->end_pkts++;
		}
		m[n++] = mb;
		if (n == BURST) {
			send_all(s, m, n);
			n = 0;
		}
	}
	if (n)
		send_all(s, m, n);
	fclose(f);
	return rte_rdtsc() - t0;
}

static void
send_end(struct sender *s)
{
	for (uint32_t p = 0; p < s->c->partitions; p++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(s->mp);

		while (m == NULL) {
			rte_delay_us(10);
			m = rte_pktmbuf_alloc(s->mp);
		}
		if (stamp_odd(s, m, 0, p, SL_WIRE_FLAG_END) < 0) {
			rte_pktmbuf_free(m);
			continue;
		}
		send_all(s, &m, 1);
		s->end_pkts++;
	}
}

/*
 * After the last send: results still in flight come in until every result
 * partition has sent END (the job ended: the input's END reached it), or
 * until nothing has come for --drain-ms (an unbounded job, --no-end).
 */
static void
results_drain(struct sender *s)
{
	uint64_t start = rte_rdtsc(), last = start, quiet = s->hz / 1000 * s->c->drain_ms;

	while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
		uint64_t now;

		if (s->rcv->ends >= s->c->out_partitions) {
			s->out_ended = true;
			break;
		}
		now = rte_rdtsc();
		if (rx_poll(s) > 0)
			last = now;
		else if (now - last > quiet)
			break;
	}
	s->drain_tsc = rte_rdtsc() - start;
}

/*
 * A run whose figures mean what they say: it kept its schedule, sent
 * everything, and (with --latency) got every result back in order.
 */
static bool
run_valid(const struct sender *s, bool behind)
{
	if (behind || s->tx_dropped)
		return false;
	if (s->rcv == NULL)
		return true;
	return (s->out_ended || s->c->no_end) && gen_recv_lost(s->rcv) == 0 &&
	       gen_recv_drops(s->rcv) == 0 && sl_hdr_total_count(&s->rcv->h) > 0 &&
	       s->rx_missed == 0;
}

/* Latency percentiles in µs, for the text and JSON summaries. */
static const double lat_pct[] = { 50, 90, 99, 99.9, 99.99 };
static const char *const lat_name[] = { "p50", "p90", "p99", "p99_9", "p99_99" };

static void
report_latency(const struct sender *s)
{
	const struct gen_recv *r = s->rcv;
	const struct sl_hdr *h = &r->h;
	FILE *f = s->c->json ? stdout : stderr;

	if (s->c->json) {
		printf(",\"latency\":{\"rows\":%" PRIu64 ",\"recorded\":%" PRIu64
		       ",\"warmup_rows\":%" PRIu64 ",\"future_stamps\":%" PRIu64
		       ",\"packets\":%" PRIu64 ",\"end_packets\":%" PRIu64
		       ",\"ended\":%s,\"gaps\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"drops\":%" PRIu64
		       ",\"drain_ms\":%.1f,\"mean_us\":%.3f",
		       r->rows, sl_hdr_total_count(h), r->warm, r->future, r->rx.pkts,
		       r->ends, s->out_ended ? "true" : "false", gen_recv_gaps(r),
		       gen_recv_lost(r), gen_recv_drops(r), (double)s->drain_tsc * 1e3 / (double)s->hz,
		       sl_hdr_mean(h) / 1e3);
		for (size_t i = 0; i < RTE_DIM(lat_pct); i++)
			printf(",\"%s_us\":%.3f", lat_name[i],
			       (double)sl_hdr_value_at_percentile(h, lat_pct[i]) / 1e3);
		printf(",\"max_us\":%.3f}", (double)sl_hdr_max(h) / 1e3);
	} else {
		fprintf(f, "sluice-gen latency: %" PRIu64 " result rows (%" PRIu64
			" recorded, %" PRIu64 " warm-up) in %" PRIu64 " packets, END %s; "
			"sequence gaps %" PRIu64 " (%" PRIu64 " after the warm-up), dropped %" PRIu64 "\n",
			r->rows, sl_hdr_total_count(h), r->warm, r->rx.pkts,
			s->out_ended ? "received" : s->c->no_end ? "not awaited (--no-end)" : "MISSING",
			gen_recv_gaps(r), gen_recv_lost(r), gen_recv_drops(r));
		fprintf(f, "sluice-gen latency (us):");
		for (size_t i = 0; i < RTE_DIM(lat_pct); i++)
			fprintf(f, " %s %.2f", lat_name[i],
				(double)sl_hdr_value_at_percentile(h, lat_pct[i]) / 1e3);
		fprintf(f, " max %.2f mean %.2f\n", (double)sl_hdr_max(h) / 1e3,
			sl_hdr_mean(h) / 1e3);
	}
	if (s->c->hist != NULL) {
		FILE *hf = fopen(s->c->hist, "w");

		if (hf == NULL || sl_hdr_print_percentiles(h, hf, SL_HDR_TICKS_PER_HALF_DEFAULT, 1000.0) < 0)
			fprintf(stderr, "sluice-gen: cannot write --hist %s\n", s->c->hist);
		if (hf != NULL)
			fclose(hf);
	}
}

static void
report(struct sender *s, uint64_t tsc)
{
	const struct gen_conf *c = s->c;
	double sec = (double)tsc / (double)s->hz;
	uint64_t data_pkts = s->pkts - s->end_pkts;
	double eps = sec > 0 ? (double)s->events / sec : 0;
	double pps = sec > 0 ? (double)data_pkts / sec : 0;
	double lag_us = (double)s->max_lag_tsc * 1e6 / (double)s->hz;
	double end_lag_us = (double)s->end_lag_tsc * 1e6 / (double)s->hz;
	bool behind = c->rate && end_lag_us > BEHIND_US;
	struct rte_eth_stats st;

	memset(&st, 0, sizeof(st));
	rte_eth_stats_get(s->port, &st);
	s->rx_missed = st.imissed + st.rx_nombuf;
	if (c->json) {
		printf("{\"packets\":%" PRIu64 ",\"events\":%" PRIu64
		       ",\"seconds\":%.6f,\"events_per_sec\":%.0f"
		       ",\"packets_per_sec\":%.0f,\"tx_partial\":%" PRIu64
		       ",\"tx_retries\":%" PRIu64 ",\"tx_dropped\":%" PRIu64
		       ",\"alloc_fail\":%" PRIu64
		       ",\"end_packets\":%" PRIu64 ",\"rate\":%" PRIu64
		       ",\"behind\":%s,\"max_lag_us\":%.1f,\"end_lag_us\":%.1f"
		       ",\"records_per_packet\":%u,\"partitions\":%u"
		       ",\"keys\":%" PRIu64 ",\"port_opackets\":%" PRIu64
		       ",\"port_oerrors\":%" PRIu64 ",\"port_ipackets\":%" PRIu64
		       ",\"port_imissed\":%" PRIu64 ",\"port_ierrors\":%" PRIu64
		       ",\"port_rx_nombuf\":%" PRIu64 ",\"valid\":%s",
		       data_pkts, s->events, sec, eps, pps, s->partial,
		       s->retries, s->tx_dropped, s->alloc_fail, s->end_pkts,
		       c->rate, behind ? "true" : "false", lag_us, end_lag_us,
		       c->rpp,
		       c->partitions, c->keys, st.opackets, st.oerrors,
		       st.ipackets, st.imissed, st.ierrors, st.rx_nombuf,
		       run_valid(s, behind) ? "true" : "false");
		if (s->rcv != NULL)
			report_latency(s);
		printf("}\n");
		fflush(stdout);
		return;
	}
	fprintf(stderr,
		"sluice-gen send: %" PRIu64 " packets, %" PRIu64 " events in "
		"%.3f s: %.0f events/s, %.0f packets/s; partial bursts %" PRIu64
		" (tx retries %" PRIu64 "), tx dropped %" PRIu64 ", END packets %"
		PRIu64 "; %s (max lag %.1f us, at end %.1f us); port opackets %"
		PRIu64 " oerrors %" PRIu64 "\n", data_pkts, s->events, sec, eps,
		pps, s->partial, s->retries, s->tx_dropped, s->end_pkts,
		!c->rate ? "full speed" :
		behind ? "schedule FELL BEHIND" : "schedule kept",
		lag_us, end_lag_us, st.opackets, st.oerrors);
	if (s->rcv != NULL)
		fprintf(stderr, "sluice-gen receive: port ipackets %" PRIu64 " imissed %" PRIu64
			" ierrors %" PRIu64 " rx_nombuf %" PRIu64 "\n",
			st.ipackets, st.imissed, st.ierrors, st.rx_nombuf);
	if (s->rcv != NULL)
		report_latency(s);
	if (!run_valid(s, behind))
		fprintf(stderr, "sluice-gen: this run is INVALID (%s): do not use its figures\n",
			behind ? "it fell behind its schedule" :
			s->tx_dropped ? "packets were dropped at send" :
			"results are missing or were dropped");
}

int
gen_send(const struct gen_conf *c, const char *argv0)
{
	struct sender *s = calloc(1, sizeof(*s));
	uint64_t tsc;
	int rc, code = 1;

	if (s == NULL)
		return 1;
	s->c = c;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = eal_start(c, argv0);
	if (rc < 0) {
		fprintf(stderr, "sluice-gen: EAL init failed: %s "
			"(check --port and --eal)\n", rte_strerror(-rc));
		free(s);
		return 1;
	}
	s->hz = rte_get_tsc_hz();
	if (templates_build(s) < 0 || port_start(s) < 0)
		goto out;
	if (link_wait(s) < 0)
		goto out_port;
	if (c->latency != NULL) {
		s->rcv = malloc(sizeof(*s->rcv));
		if (s->rcv == NULL ||
		    gen_recv_init(s->rcv, &c->out_schema, c->out_udp_port,
				  c->lat_out_off, (uint64_t)(c->warmup * 1e9)) < 0) {
			fprintf(stderr, "sluice-gen: no memory for the latency histogram\n");
			goto out_port;
		}
	}
	tsc = c->replay ? replay_loop(s) : send_loop(s);
	if (!c->no_end && !c->replay)
		send_end(s);
	if (s->rcv != NULL)
		results_drain(s);
	/* Let the PMD and the peer drain before the stats are read. */
	rte_delay_ms(DRAIN_MS);
	report(s, tsc);
	code = s->tx_dropped ? 1 : 0;
	if (s->rcv != NULL && !run_valid(s, false))
		code = 1;
out_port:
	rte_eth_dev_stop(s->port);
	rte_eth_dev_close(s->port);
out:
	if (s->rcv != NULL) {
		gen_recv_fini(s->rcv);
		free(s->rcv);
	}
	free(s->rows);
	rte_eal_cleanup();
	free(s);
	return code;
}
