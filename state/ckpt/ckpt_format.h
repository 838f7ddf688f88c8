/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CKPT_FORMAT_H
#define CKPT_FORMAT_H

/*
 * Snapshot file format, version 1. The source of truth; docs/checkpoints.md
 * copies these tables. All integers little-endian, no padding anywhere.
 *
 * A file is: HEADER, then n SECTIONs (each a section header followed by
 * its payload), then a TRAILER. Sections appear in the order written.
 *
 * HEADER (96 bytes)
 *   OFFSET SIZE DESCRIPTION
 *        0    8 magic "SLCKPT\r\n" (53 4c 43 4b 50 54 0d 0a)
 *        8    2 format version (1)
 *       10    2 header size in bytes (96); a reader skips what it does
 *               not know only within the same major version
 *       12    2 task kind: 1 source, 2 worker, 3 sink
 *       14    2 task index (worker 2 -> 2)
 *       16    8 checkpoint id
 *       24    8 creation time, ns since the epoch (CLOCK_REALTIME)
 *       32    8 job hash: FNV-1a 64 of the whole job name
 *       40    4 max_parallelism (number of key groups)
 *       44    4 parallelism: tasks of this kind when the snapshot was taken
 *       48   48 job name, truncated to 47 bytes, NUL padded
 *
 * SECTION HEADER (32 bytes), then `length` payload bytes
 *   OFFSET SIZE DESCRIPTION
 *        0    2 kind: 1 keyed-state, 2 operator-state, 3 source-offsets,
 *               4 sink-state, 5 channel-state
 *        2    2 flags (0; a reader rejects unknown flags)
 *        4    4 section index, 0-based, = its position in the file
 *        8    4 operator id
 *       12    4 key group (keyed-state) or 0xffffffff
 *       16    8 payload length in bytes
 *       24    4 crc32c of the payload
 *       28    4 crc32c of bytes 0..27 of this section header
 *
 * TRAILER (24 bytes)
 *   OFFSET SIZE DESCRIPTION
 *        0    8 magic "SLCKEND\n" (53 4c 43 4b 45 4e 44 0a)
 *        8    4 section count
 *       12    4 crc32c over the header and every section header, in order
 *       16    8 total file length including the trailer
 *
 * What catches what: a file cut anywhere loses its trailer (bad trailer
 * magic or length != file size); a flipped payload byte fails its
 * section's crc; a flipped section-header byte fails that header's crc
 * (so a wrong length is never followed); a flipped header byte fails the
 * trailer's crc; a flipped trailer byte fails its magic, count, crc or
 * length check. The whole-file crc32c is not stored in the file; the
 * manifest lists it.
 */

#include <stdint.h>

#define CKPT_MAGIC "SLCKPT\r\n"
#define CKPT_END_MAGIC "SLCKEND\n"
#define CKPT_VERSION 1
#define CKPT_HDR_SIZE 96
#define CKPT_SEC_SIZE 32
#define CKPT_TRL_SIZE 24
#define CKPT_JOB_BYTES 48

/* Field offsets, HEADER */
#define CKPT_H_MAGIC 0
#define CKPT_H_VERSION 8
#define CKPT_H_HDRSIZE 10
#define CKPT_H_TASK_KIND 12
#define CKPT_H_TASK_INDEX 14
#define CKPT_H_CKPT_ID 16
#define CKPT_H_CREATED 24
#define CKPT_H_JOB_HASH 32
#define CKPT_H_MAXP 40
#define CKPT_H_PAR 44
#define CKPT_H_JOB 48

/* SECTION HEADER */
#define CKPT_S_KIND 0
#define CKPT_S_FLAGS 2
#define CKPT_S_INDEX 4
#define CKPT_S_OP 8
#define CKPT_S_KG 12
#define CKPT_S_LEN 16
#define CKPT_S_CRC 24
#define CKPT_S_HCRC 28

/* TRAILER */
#define CKPT_T_MAGIC 0
#define CKPT_T_COUNT 8
#define CKPT_T_CRC 12
#define CKPT_T_LEN 16

#define CKPT_SEC_KIND_MAX 5

#endif /* CKPT_FORMAT_H */
