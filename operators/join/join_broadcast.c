/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Broadcast state join (sl_join.h, SL_JOIN_BROADCAST): Flink's broadcast
 * state pattern with event-time order. The right (rules) rows reach
 * every instance and go into one broadcast map state (state/opstate,
 * R5.3) "join.rules": key = the join key, value = the key's rule versions,
 * right rows in ts order. A left (event) row waits in keyed list state
 * ("join.bleft", namespace = its ts) for an event-time timer at its ts;
 * when the watermark (the minimum of both inputs, R1.7) reaches it, every
 * rule with ts <= the event's has arrived (each input's rows come before
 * the watermarks after them), so the event is joined with the latest
 * version at or before its ts, the same on any instance and at any
 * timing. Versions older than the newest one at or below the watermark
 * can serve no event that is not late, and go: on each put for that key
 * and, for all keys, before a snapshot, so the copies every instance
 * snapshots are equal bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "join_private.h"

#define RULES "join.rules"

int
join_broadcast_setup(struct sl_join *j)
{
	struct sl_state_desc d;
	int rc;

	memset(&d, 0, sizeof(d));
	d.name = "join.bleft";
	d.kind = SL_STATE_LIST;
	d.ns_len = sizeof(int64_t);
	rc = join_register(j, d);
	if (rc < 0)
		return rc;
	j->sid[0] = rc;
	j->os = sl_opstate_create(j->conf.task, j->conf.n_tasks ? j->conf.n_tasks : 1);
	if (j->os == NULL)
		return -errno;
	rc = sl_opstate_declare(j->os, RULES, SL_OPSTATE_BROADCAST);
	if (rc < 0)
		return rc;
	j->os_id = rc;
	return 0;
}

/* Index of the newest version at or below ts in vers[0..n), or -1. */
int64_t
join_version_at(const struct sl_join *j, const uint8_t *vers, uint32_t n, int64_t ts)
{
	const uint32_t rs = j->conf.in[1].schema->row_size;
	int64_t at = -1;

	for (uint32_t i = 0; i < n; i++) {
		if (join_row_ts(j, SL_JOIN_RIGHT, vers + (size_t)i * rs) > ts)
			break;
		at = i;
	}
	return at;
}

/*
 * Rebuild key's versions into s->rbuf: the old ones without those no
 * longer needed at wm, with row (if not NULL) in ts order (replacing an
 * equal ts: the later arrival wins). Returns the versions kept.
 */
int
join_versions_merge(struct sl_join *j, const uint8_t *old, uint32_t n, const uint8_t *row,
	       int64_t wm)
{
	struct join_scratch *s = j->s;
	const uint32_t rs = j->conf.in[1].schema->row_size;
	const int64_t rts = row != NULL ? join_row_ts(j, SL_JOIN_RIGHT, row) : 0;
	bool placed = row == NULL;
	int64_t keep_from;
	uint32_t kept = 0;

	s->rbuf_len = 0;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *v = old + (size_t)i * rs;
		const int64_t vts = join_row_ts(j, SL_JOIN_RIGHT, v);

		if (!placed && rts <= vts) {
			if (join_buf_add(&s->rbuf, &s->rbuf_len, &s->rbuf_cap, row, rs) < 0)
				return -ENOMEM;
			placed = true;
			if (rts == vts)
				continue;
		}
		if (join_buf_add(&s->rbuf, &s->rbuf_len, &s->rbuf_cap, v, rs) < 0)
			return -ENOMEM;
	}
	if (!placed && join_buf_add(&s->rbuf, &s->rbuf_len, &s->rbuf_cap, row, rs) < 0)
		return -ENOMEM;
	kept = (uint32_t)(s->rbuf_len / rs);
	keep_from = join_version_at(j, s->rbuf, kept, wm);
	if (keep_from > 0) {
		memmove(s->rbuf, s->rbuf + (size_t)keep_from * rs,
			(size_t)(kept - keep_from) * rs);
		kept -= (uint32_t)keep_from;
		s->rbuf_len = (size_t)kept * rs;
	}
	return (int)kept;
}

static void
broadcast_rule(struct sl_join *j, const uint8_t *row)
{
	const uint32_t rs = j->conf.in[1].schema->row_size;
	const int64_t wm = sl_timer_watermark(j->tm);
	const uint8_t *key = join_key(j, SL_JOIN_RIGHT, row, j->s->keys);
	uint32_t vlen = 0;
	const uint8_t *old = sl_opstate_map_get(j->os, j->os_id, key, j->key_len, &vlen);
	int rc;

	/* A rule behind the watermark (ts < WM) still applies from here
	 * on; events between its ts and the watermark went out with the
	 * version before it. */
	if (join_row_ts(j, SL_JOIN_RIGHT, row) < wm)
		j->stats.late_rules++;
	rc = join_versions_merge(j, old, old != NULL ? vlen / rs : 0, row, wm);
	if (rc >= 0)
		rc = sl_opstate_map_put(j->os, j->os_id, key, j->key_len, j->s->rbuf,
					(uint32_t)j->s->rbuf_len);
	if (rc < 0)
		j->stats.state_errors++;
}

/* An event row waits (list state id, namespace its ts) for the watermark
 * to reach its ts; strictly behind it, it is late. */
void
join_version_wait(struct sl_join *j, int id, const struct sl_vec *v, uint16_t i)
{
	const uint8_t *row = sl_vec_crow(v, i);
	int64_t ts = join_row_ts(j, SL_JOIN_LEFT, row);
	struct sl_state_ref r;
	int rc;

	/* Strictly behind the watermark: the version it needs may be gone
	 * (R7.3's rule for the interval join). */
	if (ts < sl_timer_watermark(j->tm)) {
		j->stats.late[SL_JOIN_LEFT]++;
		join_emit(j, SL_JOIN_OUT_LATE_LEFT, ts, row, NULL);
		return;
	}
	join_ref(j, SL_JOIN_LEFT, id, v, i, j->s->keys, &ts, &r);
	rc = sl_state_list_add(j->st, id, &r, 0, row, j->conf.in[0].schema->row_size);
	if (rc == 0) {
		rc = sl_timer_register(j->tm, SL_TIMER_EVENT_TIME, r.kg, r.key, &ts, ts);
		if (rc < 0)
			(void)sl_state_clear(j->st, id, &r);
	}
	if (rc == -ENOMEM)
		j->stats.state_full_dropped++;
	else if (rc < 0)
		j->stats.state_errors++;
}

void
join_broadcast_process(struct sl_join *j, int side, const struct sl_vec *v)
{
	for (uint16_t n = 0; n < v->n_sel; n++) {
		if (side == SL_JOIN_RIGHT)
			broadcast_rule(j, sl_vec_crow(v, v->sel[n]));
		else
			join_version_wait(j, j->sid[0], v, v->sel[n]);
	}
}

static int
collect_row(void *arg, const void *elem, uint32_t len)
{
	struct join_scratch *s = arg;

	return join_buf_add(&s->mbuf, &s->mbuf_len, &s->mbuf_cap, elem, len) < 0;
}

/*
 * The key's events of ts (list state id), each with the newest of vers
 * (n versions) at or below ts, or unmatched; then they go.
 */
int
join_version_fire(struct sl_join *j, int id, uint16_t kg, const void *key,
		  const void *ns, int64_t ts, const uint8_t *vers, uint32_t n)
{
	struct join_scratch *s = j->s;
	const uint32_t ls = j->conf.in[0].schema->row_size;
	const uint32_t rs = j->conf.in[1].schema->row_size;
	struct sl_state_ref r = { .key = key, .ns = ns, .kg = kg };
	const int64_t at = vers != NULL ? join_version_at(j, vers, n, ts) : -1;
	int rc;

	s->mbuf_len = 0;
	sl_state_hash_bulk(j->st, id, &r, 1);
	rc = sl_state_list_get(j->st, id, &r, 0, collect_row, s);
	if (rc < 0) {
		j->stats.state_errors++;
		return rc;
	}
	/* The key's events of this ts in arrival order, one version each. */
	for (size_t a = 0; a < s->mbuf_len; a += ls) {
		if (at >= 0) {
			join_emit(j, SL_JOIN_OUT_PAIR, ts, s->mbuf + a, vers + (size_t)at * rs);
			continue;
		}
		j->stats.unmatched++;
		if (j->conf.outer)
			join_emit(j, SL_JOIN_OUT_LEFT_ONLY, ts, s->mbuf + a, NULL);
	}
	j->stats.purged++;
	return sl_state_clear(j->st, id, &r) < 0 ? -EIO : 0;
}

int
join_broadcast_fire(struct sl_join *j, uint16_t kg, const void *key, const void *ns,
		    int64_t ts)
{
	const uint32_t rs = j->conf.in[1].schema->row_size;
	uint32_t vlen = 0;
	const uint8_t *vers = sl_opstate_map_get(j->os, j->os_id, key, j->key_len, &vlen);

	return join_version_fire(j, j->sid[0], kg, key, ns, ts, vers, vlen / rs);
}

struct prune {
	struct sl_join *j;
	uint8_t *keys;		/* keys whose versions shrink */
	size_t len, cap;
	int err;
};

static int
prune_key(void *arg, const void *k, uint32_t klen, const void *v, uint32_t vlen)
{
	struct prune *p = arg;
	struct sl_join *j = p->j;
	const uint32_t rs = j->conf.in[1].schema->row_size;

	/* Collected, not rewritten: the map must not change while iterated. */
	if (klen == j->key_len &&
	    join_version_at(j, v, vlen / rs, sl_timer_watermark(j->tm)) > 0)
		p->err = join_buf_add(&p->keys, &p->len, &p->cap, k, klen);
	return p->err;
}

int
join_broadcast_prune(struct sl_join *j)
{
	const uint32_t rs = j->conf.in[1].schema->row_size;
	struct prune p = { .j = j };
	int rc;

	rc = sl_opstate_map_iter(j->os, j->os_id, prune_key, &p);
	for (size_t off = 0; rc == 0 && off < p.len; off += j->key_len) {
		uint32_t vlen = 0;
		const uint8_t *v = sl_opstate_map_get(j->os, j->os_id, p.keys + off,
						      j->key_len, &vlen);

		rc = join_versions_merge(j, v, vlen / rs, NULL, sl_timer_watermark(j->tm));
		if (rc >= 0)
			rc = sl_opstate_map_put(j->os, j->os_id, p.keys + off, j->key_len,
						j->s->rbuf, (uint32_t)j->s->rbuf_len);
	}
	free(p.keys);
	return rc < 0 ? rc : 0;
}
