/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interval join (R7.1-R7.3, C4): Flink's IntervalJoinOperator. Each side's
 * buffer is a map state per key: user key = a row's event time, value =
 * the rows of that time in arrival order (Flink: MapState<Long,
 * List<BufferEntry>>). A row is buffered, then the other side's buffer of
 * its key is scanned for the buckets within the bounds; those are copied
 * out, sorted by time and paired. Each bucket has one cleanup timer,
 * namespace [side][bucket ts], so the firing timer names the bucket
 * itself rather than inverting Flink's cleanup formula (which saturation
 * at MAX would break).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "join_private.h"

int
join_interval_setup(struct sl_join *j)
{
	static const char *const names[2] = { "join.left", "join.right" };
	const struct sl_state_desc d = {
		.kind = SL_STATE_MAP, .ukey_len = sizeof(int64_t),
	};

	return join_register_sides(j, names, &d, false);
}

/* Cleanup time of a bucket (R7.3): left at ts + upper when upper > 0,
 * right at ts - lower when lower < 0, else ts; with the bounds after the
 * exclusive flags (C4). */
static int64_t
cleanup_time(const struct sl_join *j, int side, int64_t ts)
{
	if (side == SL_JOIN_LEFT)
		return j->hi > 0 ? join_add_sat(ts, j->hi) : ts;
	return j->lo < 0 ? join_add_sat(ts, -j->lo) : ts;
}

static int
probe_bucket(void *arg, const void *ukey, const void *val, uint32_t len)
{
	struct sl_join *j = arg;
	struct join_scratch *s = j->s;
	int64_t ts;

	memcpy(&ts, ukey, sizeof(ts));
	if (ts < s->probe_lo || ts > s->probe_hi)
		return 0;
	if (s->n_m == JOIN_MATCH_MAX || s->mbuf_len + len > s->mbuf_cap) {
		j->stats.state_full_dropped++;	/* more partners than the scratch holds */
		return 1;
	}
	s->m[s->n_m].ts = ts;
	s->m[s->n_m].off = (uint32_t)s->mbuf_len;
	s->m[s->n_m++].len = len;
	memcpy(s->mbuf + s->mbuf_len, val, len);
	s->mbuf_len += len;
	return 0;
}

static int
match_cmp(const void *a, const void *b)
{
	const struct join_match *x = a, *y = b;

	return (x->ts > y->ts) - (x->ts < y->ts);
}

/* Buffer one row and, for a new bucket, register its cleanup. @return 0
 * or -errno (the row is then neither buffered nor joined). */
static int
buffer_row(struct sl_join *j, int side, const struct sl_state_ref *r,
	   const uint8_t *row, int64_t ts)
{
	const uint32_t rs = j->conf.in[side].schema->row_size;
	uint8_t ns[1 + sizeof(int64_t)];
	int len, rc;

	len = sl_state_map_get(j->st, j->sid[side], r, 0, &ts, j->s->bucket,
			       SL_JOIN_BUCKET_MAX);
	if (len == -ENOENT)
		len = 0;
	if (len < 0)
		return len;
	if ((uint32_t)len + rs > SL_JOIN_BUCKET_MAX)
		return -ENOBUFS;
	memcpy(j->s->bucket + len, row, rs);
	rc = sl_state_map_put(j->st, j->sid[side], r, 0, &ts, j->s->bucket,
			      (uint32_t)len + rs);
	if (rc < 0 || len > 0)
		return rc;	/* an existing bucket has its timer */
	ns[0] = (uint8_t)side;
	memcpy(ns + 1, &ts, sizeof(ts));
	rc = sl_timer_register(j->tm, SL_TIMER_EVENT_TIME, r->kg, r->key, ns,
			       cleanup_time(j, side, ts));
	if (rc < 0) {
		/* Without its timer the bucket would never go: take the
		 * whole bucket out now. */
		(void)sl_state_map_remove(j->st, j->sid[side], r, &ts);
		return rc;
	}
	return 0;
}

void
join_interval_process(struct sl_join *j, int side, const struct sl_vec *v)
{
	struct join_scratch *s = j->s;
	const int other = 1 - side;
	const uint32_t ors = j->conf.in[other].schema->row_size;
	const int64_t wm = sl_timer_watermark(j->tm);

	for (uint16_t n = 0; n < v->n_sel; n++) {
		const uint16_t i = v->sel[n];
		const uint8_t *row = sl_vec_crow(v, i);
		const int64_t ts = join_row_ts(j, side, row);
		struct sl_state_ref r, ro;
		int rc;

		/* R7.3: late is ts < WM, strict; MIN means no watermark yet. */
		if (wm != INT64_MIN && ts < wm) {
			j->stats.late[side]++;
			join_emit(j, side == SL_JOIN_LEFT ? SL_JOIN_OUT_LATE_LEFT :
				  SL_JOIN_OUT_LATE_RIGHT, ts,
				  side == SL_JOIN_LEFT ? row : NULL,
				  side == SL_JOIN_LEFT ? NULL : row);
			continue;
		}
		join_ref(j, side, j->sid[side], v, i, s->keys, NULL, &r);
		rc = buffer_row(j, side, &r, row, ts);
		if (rc < 0) {
			if (rc == -ENOMEM || rc == -ENOBUFS)
				j->stats.state_full_dropped++;
			else
				j->stats.state_errors++;
			continue;
		}
		ro = r;
		sl_state_hash_bulk(j->st, j->sid[other], &ro, 1);
		if (side == SL_JOIN_LEFT) {
			s->probe_lo = join_add_sat(ts, j->lo);
			s->probe_hi = join_add_sat(ts, j->hi);
		} else {
			s->probe_lo = join_add_sat(ts, -j->hi);
			s->probe_hi = join_add_sat(ts, -j->lo);
		}
		s->n_m = 0;
		s->mbuf_len = 0;
		if (sl_state_map_iter(j->st, j->sid[other], &ro, 0, probe_bucket, j) < 0) {
			j->stats.state_errors++;
			continue;
		}
		if (s->n_m > 1)
			qsort(s->m, s->n_m, sizeof(s->m[0]), match_cmp);
		for (uint32_t m = 0; m < s->n_m; m++) {
			const int64_t ots = s->m[m].ts > ts ? s->m[m].ts : ts;

			for (uint32_t o = 0; o < s->m[m].len; o += ors) {
				const uint8_t *p = s->mbuf + s->m[m].off + o;

				join_emit(j, SL_JOIN_OUT_PAIR, ots,
					  side == SL_JOIN_LEFT ? row : p,
					  side == SL_JOIN_LEFT ? p : row);
			}
		}
	}
}

int
join_interval_fire(struct sl_join *j, uint16_t kg, const void *key,
		   const void *ns, int64_t ts)
{
	const uint8_t *b = ns;
	const int side = b[0] != 0;
	struct sl_state_ref r = { .key = key, .ns = NULL, .kg = kg };
	int64_t bts;
	int rc;

	(void)ts;
	memcpy(&bts, b + 1, sizeof(bts));
	sl_state_hash_bulk(j->st, j->sid[side], &r, 1);
	rc = sl_state_map_remove(j->st, j->sid[side], &r, &bts);
	if (rc < 0)
		return rc;
	j->stats.purged += (uint64_t)rc;
	return 0;
}
