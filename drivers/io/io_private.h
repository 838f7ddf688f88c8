/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_IO_PRIVATE_H
#define SL_IO_PRIVATE_H

#include <rte_cycles.h>
#include <rte_log.h>

#include "sl_io.h"

extern int sl_io_logtype;
#define SL_IO_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, sl_io_logtype, "sluice: " fmt "\n", ##__VA_ARGS__)

extern const struct sl_source_ops sl_ethdev_source_ops;
extern const struct sl_source_ops sl_csv_source_ops;
extern const struct sl_source_ops sl_capture_source_ops;
extern const struct sl_source_ops sl_gen_source_ops;

/* The ethdev source's port, and the mbufs its sink sends from (NULL: the
 * port has no TX queue for a sink). Set by its setup on the main lcore. */
struct rte_mempool;
extern uint16_t sl_eth_port;
extern struct rte_mempool *sl_eth_tx_pool;

/*
 * Replay pacing for file sources (source.rate): how many more rows may go
 * out now so that at most `rate` rows leave per second since the first
 * poll. UINT64_MAX when unpaced.
 */
struct io_pace {
	uint64_t rate;
	uint64_t start;
	uint64_t sent;
};

static inline uint64_t
io_pace_budget(struct io_pace *p)
{
	uint64_t now, allowed;

	if (p->rate == 0)
		return UINT64_MAX;
	now = rte_rdtsc();
	if (p->start == 0)
		p->start = now;
	allowed = (uint64_t)((unsigned __int128)(now - p->start) * p->rate /
			     rte_get_tsc_hz()) + 1;
	return allowed > p->sent ? allowed - p->sent : 0;
}

/** mkdir -p of the directory part of path. */
void io_make_parent(const char *path);

/** Partition sequence state into and out of an offset. */
void sl_source_offset_wire(const struct sl_source *s, struct sl_src_offset *o);
void sl_source_seek_wire(struct sl_source *s, const struct sl_src_offset *o);

/** Map a whole file read-only; *len gets its size. NULL and errno on failure. */
const uint8_t *io_map_file(const char *path, size_t *len);
void io_unmap_file(const uint8_t *p, size_t len);

#endif
