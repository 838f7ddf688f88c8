/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Binary capture source: the wire payloads sluice-gen recorded, replayed
 * from a mapped file at memory speed. Each payload goes through the same
 * parser as a packet from a port, so drops, gaps and END behave the same.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "io_private.h"

struct cap_src {
	const uint8_t *data;
	size_t len;
	size_t pos;
	struct io_pace pace;
};

static int
cap_open(struct sl_source *s, uint16_t queue)
{
	const struct sl_plan *p = s->plan;
	struct cap_src *c = calloc(1, sizeof(*c));
	uint32_t id;

	(void)queue;
	if (c == NULL)
		return -ENOMEM;
	c->data = io_map_file(p->source.path, &c->len);
	if (c->data == NULL) {
		int e = errno;

		SL_IO_LOG(ERR, "capture source: cannot open %s: %s",
			  p->source.path, strerror(e));
		free(c);
		return -e;
	}
	if (c->len < SL_CAP_HDR_LEN ||
	    memcmp(c->data, SL_CAP_MAGIC, 8) != 0) {
		SL_IO_LOG(ERR, "capture source: %s is not a sluice capture (no %s header); write one with sluice-gen write --capture",
			  p->source.path, SL_CAP_MAGIC);
		goto bad;
	}
	memcpy(&id, c->data + 8, 4);
	if (id != s->wire.schema_id) {
		SL_IO_LOG(ERR, "capture source: %s has schema id %08x but the job's schema is %08x; regenerate it for this schema",
			  p->source.path, id, s->wire.schema_id);
		goto bad;
	}
	c->pos = SL_CAP_HDR_LEN;
	c->pace.rate = p->source.rate;
	s->priv = c;
	return 0;
bad:
	io_unmap_file(c->data, c->len);
	free(c);
	return -EINVAL;
}

static uint16_t
cap_poll(struct sl_source *s, struct sl_src_batch *b, uint16_t max)
{
	struct cap_src *c = s->priv;
	uint64_t budget = io_pace_budget(&c->pace);
	uint16_t nb = 0;

	while (nb < max && budget > 0) {
		struct sl_wire_pkt pkt;
		uint32_t plen = 0;

		if (c->len - c->pos >= 4)
			memcpy(&plen, c->data + c->pos, 4);
		if (c->len - c->pos < 4 || c->len - c->pos - 4 < plen) {
			if (c->pos < c->len) {
				s->stats.truncated_bytes = c->len - c->pos;
				SL_IO_LOG(WARNING, "capture source: %s is truncated: %zu bytes after the last whole packet at offset %zu were ignored",
					  s->plan->source.path, c->len - c->pos, c->pos);
				c->pos = c->len;
			}
			s->done = true;
			break;
		}
		c->pos += 4;
		if (sl_wire_parse_payload(&s->wire, c->data + c->pos, plen, &pkt) == 0 &&
		    pkt.count > 0) {
			b[nb].rows = pkt.records;
			b[nb].n = pkt.count;
			b[nb].partition = pkt.partition;
			nb++;
			c->pace.sent += pkt.count;
			budget = budget > pkt.count ? budget - pkt.count : 0;
		}
		c->pos += plen;
	}
	return nb;
}

static void
cap_release(struct sl_source *s)
{
	(void)s;
}

static void
cap_close(struct sl_source *s)
{
	struct cap_src *c = s->priv;

	if (c == NULL)
		return;
	io_unmap_file(c->data, c->len);
	free(c);
	s->priv = NULL;
}

static void
cap_offset(const struct sl_source *s, struct sl_src_offset *o)
{
	const struct cap_src *c = s->priv;

	memset(o, 0, sizeof(*o));
	o->pos = c->pos;
	sl_source_offset_wire(s, o);
}

/* Offsets come from our own checkpoints, but a checkpoint of another
 * capture must not send us into the middle of a packet: walk the packet
 * lengths from the start to check the offset is a packet boundary. */
static int
cap_seek(struct sl_source *s, const struct sl_src_offset *o)
{
	struct cap_src *c = s->priv;
	size_t pos = SL_CAP_HDR_LEN;

	while (pos < o->pos && c->len - pos >= 4) {
		uint32_t plen;

		memcpy(&plen, c->data + pos, 4);
		if (c->len - pos - 4 < plen)
			break;
		pos += 4 + (size_t)plen;
	}
	if (pos != o->pos) {
		SL_IO_LOG(ERR, "capture source: offset %" PRIu64 " is not a packet boundary of %s; the checkpoint belongs to another input",
			  o->pos, s->plan->source.path);
		return -EINVAL;
	}
	c->pos = pos;
	s->done = false;
	sl_source_seek_wire(s, o);
	return 0;
}

const struct sl_source_ops sl_capture_source_ops = {
	.name = "capture",
	.open = cap_open,
	.poll = cap_poll,
	.release = cap_release,
	.close = cap_close,
	.offset = cap_offset,
	.seek = cap_seek,
};
