/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_IO_H
#define SL_IO_H

/**
 * @file
 * Sources and sinks as the dataplane sees them; the only drivers/ header
 * dataplane/ includes.
 *
 * A source is polled by one RX lcore and hands out batches: runs of rows of
 * one partition, pointing into memory the source owns (an mbuf's payload, a
 * mapped capture file, a parse buffer) until the next release(). Sources
 * validate and count everything they drop; none of them allocates or makes
 * a syscall in poll() except where the medium is a syscall (none today:
 * files are mapped at open).
 *
 * Sinks run on the main lcore, never on a worker: they may block on I/O.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sl_plan.h"
#include "sl_vec.h"
#include "sl_wire.h"

#define SL_IO_BURST 32

struct sl_src_batch {
	const uint8_t *rows;	/**< n rows of the job's row size */
	uint16_t n;
	uint16_t partition;
};

/** Source counters beyond the wire parser's. */
struct sl_src_stats {
	uint64_t bad_lines;		/**< CSV lines that did not parse */
	uint64_t truncated_bytes;	/**< capture file bytes after the last whole packet */
	uint64_t rx_nombuf;		/**< ethdev: from rte_eth_stats */
	uint64_t rx_missed;		/**< ethdev: imissed */
};

struct sl_source;

/**
 * Where a replayable source stands, for checkpoints (R6.1: sources record
 * their offsets at the barrier) and recovery (rewind to them). Partition
 * sequence state travels with it, so a rewound capture counts no false gaps.
 */
struct sl_src_offset {
	uint64_t pos;			/**< byte offset of the next unread input */
	uint64_t line;			/**< CSV: lines consumed so far (for messages) */
	uint64_t next_seq[SL_WIRE_MAX_PARTITIONS];
	uint64_t seen_mask;		/**< partitions seen */
	uint64_t ended_mask;		/**< partitions that sent END */
};

struct sl_source_ops {
	const char *name;
	/** Per-process setup on the main lcore before lcores launch. */
	int (*setup)(const struct sl_plan *p, unsigned int socket);
	int (*open)(struct sl_source *s, uint16_t queue);
	/** Up to max batches; sets s->done once the input is exhausted. */
	uint16_t (*poll)(struct sl_source *s, struct sl_src_batch *b,
			 uint16_t max);
	/** The previous poll's batches are no longer used. */
	void (*release)(struct sl_source *s);
	void (*close)(struct sl_source *s);
	/** Refresh s->stats from the device (main lcore, off the hot path). */
	void (*stats)(struct sl_source *s);
	/** Replayable sources: the current offset. NULL for ports. */
	void (*offset)(const struct sl_source *s, struct sl_src_offset *o);
	/** Replayable sources: continue from o. -EINVAL if o is not in this input. */
	int (*seek)(struct sl_source *s, const struct sl_src_offset *o);
};

struct sl_source {
	const struct sl_source_ops *ops;
	const struct sl_plan *plan;
	uint16_t queue;
	bool done;
	struct sl_wire_rx wire;		/**< packets, records, drops by reason, gaps */
	struct sl_src_stats stats;
	void *priv;
};

/** The ops for the plan's source type. */
const struct sl_source_ops *sl_source_ops_get(enum sl_src_type t);

/** Pick ops, init counters and open queue of the plan's source. */
int sl_source_open(struct sl_source *s, const struct sl_plan *p,
		   uint16_t queue);

/* ---- sinks ---- */

struct sl_sink {
	FILE *f;
	bool own;			/**< fclose() at the end */
	char path[SL_PLAN_PATH_MAX];
	uint64_t rows;
	char line[65536];
};

/**
 * Open a sink of the plan (its sink, or its late_sink) and write the
 * header row for schema out.
 * @return 0 or a negative errno (logged with the path).
 */
int sl_sink_open(struct sl_sink *k, const struct sl_plan_sink *spec,
		 const struct sl_schema *out);

/** Write one result row. @return 0 or a negative errno. */
int sl_sink_write(struct sl_sink *k, const struct sl_schema *out,
		  const uint8_t *row);

/** Flush and close. @return 0 or a negative errno (a short write is an error). */
int sl_sink_close(struct sl_sink *k);

/* ---- ethdev sink: result rows as wire packets ---- */

struct rte_mbuf;
struct rte_mempool;

/**
 * One sending lcore's share of an ethdev sink: its TX queue, the frame it
 * is filling and the frames waiting for a burst. Output partition = queue;
 * sequence numbers from 0; an END packet at close. Single writer. Unlike
 * the file sinks it may run on a worker lcore: it never blocks on I/O,
 * only on a full TX queue (backpressure), and never allocates.
 */
struct sl_eth_sink {
	uint16_t port, queue;
	uint16_t rs, rpp;
	uint16_t udp_port;
	uint16_t n;			/**< records in cur */
	uint16_t n_tx;
	uint32_t schema_id;
	uint64_t seq;
	struct rte_mempool *pool;
	struct rte_mbuf *cur;		/**< frame being filled, or NULL */
	uint8_t *rec;			/**< its next record */
	struct rte_mbuf *tx[SL_IO_BURST];
	uint64_t rows, pkts;
	uint64_t tx_full;		/**< bursts that found the queue full */
	uint64_t tx_dropped;		/**< packets dropped after ETH_TX_STALL_MS of full queue */
};

/**
 * Set up TX queue `queue` of the source's port for rows of schema out.
 * @return 0, or a negative errno after a log line (no TX queue; rows that
 *   do not fit records_per_packet).
 */
int sl_eth_sink_open(struct sl_eth_sink *k, const struct sl_plan_sink *spec,
		     const struct sl_schema *out, uint16_t queue);
/** Append n contiguous rows; full frames go out in bursts. */
void sl_eth_sink_rows(struct sl_eth_sink *k, const uint8_t *rows, uint32_t n);
/** Send the partial frame and every queued one now. */
void sl_eth_sink_flush(struct sl_eth_sink *k);
/** Flush, then send the queue's END packet. @return 0. */
int sl_eth_sink_close(struct sl_eth_sink *k);
/**
 * TX queues the ethdev source configures for an ethdev sink: one per
 * worker when workers send their own rows (stateless pipelines), one for
 * the main lcore otherwise.
 */
uint16_t sl_eth_sink_queues(const struct sl_plan *p);

/* ---- exactly-once file sink: two-phase commit (semantics.md R6.10) ---- */

#define SL_SINK2PC_MAX_PENDING 16

/**
 * The sink's operator state, stored in checkpoints: the transaction open
 * at the barrier and the pre-committed ones waiting for their checkpoint
 * to complete.
 */
struct sl_sink2pc_state {
	uint64_t current;			/**< open transaction */
	uint32_t n_pending;
	uint64_t pending_txn[SL_SINK2PC_MAX_PENDING];
	uint64_t pending_ckpt[SL_SINK2PC_MAX_PENDING];	/**< checkpoint that commits it */
};

/**
 * Transactions are files: rows go to BASE.part-NNNNNNNNNN.pending, and a
 * commit renames it to BASE.part-NNNNNNNNNN (then fsyncs the directory).
 * Part 0 holds the header row and is committed at the first open. The
 * committed output is the concatenation of the parts in number order; a
 * reader sees only committed parts. Main lcore only.
 */
struct sl_sink2pc {
	char base[SL_PLAN_PATH_MAX];
	FILE *f;			/**< the open transaction's file */
	struct sl_sink2pc_state st;
	uint64_t rows;
	char line[65536];
};

/**
 * Start fresh (restore == NULL: remove every part of a previous run) or
 * from a checkpoint's state (recoverAndCommit its pending transactions,
 * abort the one that was open and remove every later part, committed or
 * not: the replay from that checkpoint writes them again), then open a
 * transaction. @return 0 or a negative errno.
 */
int sl_sink2pc_open(struct sl_sink2pc *k, const char *base,
		    const struct sl_schema *out,
		    const struct sl_sink2pc_state *restore);

int sl_sink2pc_write(struct sl_sink2pc *k, const struct sl_schema *out,
		     const uint8_t *row);

/**
 * At checkpoint ckpt's barrier: flush and fsync the open transaction, make
 * it pending on ckpt, open the next one; *st gets the state to snapshot.
 */
int sl_sink2pc_precommit(struct sl_sink2pc *k, uint64_t ckpt,
			 struct sl_sink2pc_state *st);

/** Checkpoint ckpt completed: commit every pending transaction of ckpt or older. */
int sl_sink2pc_commit(struct sl_sink2pc *k, uint64_t ckpt);

/**
 * End of input with no checkpoint to wait for (checkpointing off, or a
 * final drain): commit everything, including the open transaction.
 */
int sl_sink2pc_finish(struct sl_sink2pc *k);

#endif /* SL_IO_H */
