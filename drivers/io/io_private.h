/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_IO_PRIVATE_H
#define SL_IO_PRIVATE_H

#include <rte_log.h>

#include "sl_io.h"

extern int sl_io_logtype;
#define SL_IO_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, sl_io_logtype, "sluice: " fmt "\n", ##__VA_ARGS__)

extern const struct sl_source_ops sl_ethdev_source_ops;
extern const struct sl_source_ops sl_csv_source_ops;
extern const struct sl_source_ops sl_capture_source_ops;

/** Partition sequence state into and out of an offset. */
void sl_source_offset_wire(const struct sl_source *s, struct sl_src_offset *o);
void sl_source_seek_wire(struct sl_source *s, const struct sl_src_offset *o);

/** Map a whole file read-only; *len gets its size. NULL and errno on failure. */
const uint8_t *io_map_file(const char *path, size_t *len);
void io_unmap_file(const uint8_t *p, size_t len);

#endif
