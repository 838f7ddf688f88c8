/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Event-time temporal join (sl_join.h, SL_JOIN_TEMPORAL): Flink SQL's
 * `JOIN ... FOR SYSTEM_TIME AS OF l.ts` against a versioned table. Both
 * inputs are keyed; the right rows are the versions of their key's row,
 * each valid from its ts until the next one's. They are kept in keyed
 * list state ("join.tver", one element: the key's versions in ts order,
 * an equal ts replaced by the later arrival). A left row waits ("join.tleft",
 * namespace its ts, an event-time timer at its ts) until the watermark
 * (the minimum of both inputs, R1.7) reaches it: by then every version
 * at or before its ts has arrived, so it is joined with the newest of
 * them, the same on any number of instances and at any timing. The
 * versions older than the one in force at the watermark serve no left
 * row that is not late and go when one is added (older than the one in
 * force at a left row's ts, when that row fires).
 * The broadcast join is the same with the versions in a broadcast map;
 * the two share join_broadcast.c's version helpers.
 */
#include <errno.h>
#include <string.h>

#include "join_private.h"

int
join_temporal_setup(struct sl_join *j)
{
	static const char *const names[2] = { "join.tleft", "join.tver" };

	for (int side = 0; side < 2; side++) {
		struct sl_state_desc d;
		int rc;

		memset(&d, 0, sizeof(d));
		d.name = names[side];
		d.kind = SL_STATE_LIST;
		d.ns_len = side == SL_JOIN_LEFT ? sizeof(int64_t) : 0;
		rc = join_register(j, d);
		if (rc < 0)
			return rc;
		j->sid[side] = rc;
	}
	return 0;
}

/* The key's versions (at r) into *buf; @return how many, or -errno. */
static int
versions_get(struct sl_join *j, const struct sl_state_ref *r, uint8_t **buf,
	     size_t *len, size_t *cap)
{
	struct join_collect c = { buf, len, cap, 0 };
	int rc;

	*len = 0;
	rc = sl_state_list_get(j->st, j->sid[SL_JOIN_RIGHT], r, 0, join_collect_elem, &c);
	if (rc < 0 || c.err < 0)
		return rc < 0 ? rc : c.err;
	return (int)(*len / j->conf.in[1].schema->row_size);
}

static int
versions_put(struct sl_join *j, const struct sl_state_ref *r, const uint8_t *vers,
	     uint32_t n)
{
	const void *elem = vers;
	uint32_t len = n * j->conf.in[1].schema->row_size;

	return sl_state_list_update(j->st, j->sid[SL_JOIN_RIGHT], r, 0, &elem, &len,
				    n != 0 ? 1 : 0);
}

static void
temporal_version(struct sl_join *j, const struct sl_vec *v, uint16_t i)
{
	struct join_scratch *s = j->s;
	const uint8_t *row = sl_vec_crow(v, i);
	const int64_t wm = sl_timer_watermark(j->tm);
	struct sl_state_ref r;
	int n;

	/* Behind the watermark: in force from here on; left rows between
	 * its ts and the watermark went out with the version before it. */
	if (join_row_ts(j, SL_JOIN_RIGHT, row) < wm)
		j->stats.late_rules++;
	join_ref(j, SL_JOIN_RIGHT, j->sid[SL_JOIN_RIGHT], v, i, s->keys, NULL, &r);
	n = versions_get(j, &r, &s->mbuf, &s->mbuf_len, &s->mbuf_cap);
	if (n >= 0)
		n = join_versions_merge(j, s->mbuf, (uint32_t)n, row, wm);
	if (n >= 0)
		n = versions_put(j, &r, s->rbuf, (uint32_t)n);
	if (n == -ENOMEM)
		j->stats.state_full_dropped++;
	else if (n < 0)
		j->stats.state_errors++;
}

void
join_temporal_process(struct sl_join *j, int side, const struct sl_vec *v)
{
	for (uint16_t n = 0; n < v->n_sel; n++) {
		if (side == SL_JOIN_RIGHT)
			temporal_version(j, v, v->sel[n]);
		else
			join_version_wait(j, j->sid[SL_JOIN_LEFT], v, v->sel[n]);
	}
}

int
join_temporal_fire(struct sl_join *j, uint16_t kg, const void *key, const void *ns,
		   int64_t ts)
{
	struct join_scratch *s = j->s;
	const uint32_t rs = j->conf.in[1].schema->row_size;
	struct sl_state_ref r = { .key = key, .ns = NULL, .kg = kg };
	int64_t drop;
	int n, rc;

	sl_state_hash_bulk(j->st, j->sid[SL_JOIN_RIGHT], &r, 1);
	n = versions_get(j, &r, &s->rbuf, &s->rbuf_len, &s->rbuf_cap);
	if (n < 0) {
		j->stats.state_errors++;
		return n;
	}
	rc = join_version_fire(j, j->sid[SL_JOIN_LEFT], kg, key, ns, ts,
			       n > 0 ? s->rbuf : NULL, (uint32_t)n);
	/* The versions before the one in force at ts: the key's later rows
	 * fire after this one (timers go in ts order) and need no older.
	 * Not the watermark: in one advance the watermark is already where
	 * it goes while the rows between go out. */
	drop = n > 0 ? join_version_at(j, s->rbuf, (uint32_t)n, ts) : -1;
	if (rc == 0 && drop > 0)
		rc = versions_put(j, &r, s->rbuf + (size_t)drop * rs, (uint32_t)(n - drop));
	return rc;
}
