/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef JOIN_PRIVATE_H
#define JOIN_PRIVATE_H

/* Shared by the join kinds' files; not for inclusion elsewhere. */

#include "sl_join.h"
#include "sl_kg.h"
#include "sl_timer.h"

#define JOIN_MATCH_MAX 4096		/* interval: partner buckets sorted per arriving row */

struct sess_ctx;	/* join_session.c */

/* Interval: one partner bucket found by a probe, its rows copied to mbuf. */
struct join_match {
	int64_t ts;
	uint32_t off, len;
};

struct join_scratch {
	struct sl_state_ref ref[SL_VEC_MAX];
	uint8_t found[SL_VEC_MAX];
	uint8_t created[SL_VEC_MAX];
	uint8_t *val[SL_VEC_MAX];
	uint8_t *vals;			/* SL_VEC_MAX * right row (enrich) */
	uint8_t *bucket;		/* SL_JOIN_BUCKET_MAX: one bucket or one stored row */
	uint8_t *mbuf;			/* interval: partners' rows; window: left rows */
	size_t mbuf_len, mbuf_cap;
	struct join_match *m;		/* interval: JOIN_MATCH_MAX */
	uint32_t n_m;
	int64_t probe_lo, probe_hi;	/* interval: the bucket range a probe takes */
	uint8_t *rbuf;			/* window: right rows */
	size_t rbuf_len, rbuf_cap;
	uint8_t *keys;			/* SL_VEC_MAX * key_len, gathered keys */
	struct sess_ctx *sess;		/* session: the key's set at hand */
};

/* a + b saturated to the int64 range (C3: no signed overflow). */
static inline int64_t
join_add_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* The key bytes of row (side), in key order: into buf, or in place. */
const uint8_t *join_key(const struct sl_join *j, int side, const uint8_t *row,
			uint8_t *buf);

/* Fill ref for row i of v (side) and namespace ns (the hash covers it),
 * and hash it for descriptor id. */
void join_ref(struct sl_join *j, int side, int id, const struct sl_vec *v,
	      uint16_t i, uint8_t *keybuf, const void *ns,
	      struct sl_state_ref *ref);

/* Write one output row: ts, left (or zeros), right (or zeros). */
int join_emit(struct sl_join *j, enum sl_join_out_kind k, int64_t ts,
	      const uint8_t *left, const uint8_t *right);

/* Append len bytes to a growable buffer (timer callbacks, session merges:
 * it grows by doubling, amortised). */
int join_buf_add(uint8_t **buf, size_t *len, size_t *cap, const void *p,
		 size_t n);

/* A list state's elements appended to a growable buffer (list_get's
 * callback, arg a join_collect); err: join_buf_add's failure. */
struct join_collect {
	uint8_t **buf;
	size_t *len, *cap;
	int err;
};
int join_collect_elem(void *arg, const void *elem, uint32_t len);

static inline int64_t
join_row_ts(const struct sl_join *j, int side, const uint8_t *row)
{
	const struct sl_join_input *in = &j->conf.in[side];

	return sl_row_ts(row, &in->schema->f[in->ts_field]);
}

/*
 * A state per side, shaped as tmpl (kind, ns_len, ukey_len, val_len),
 * named names[side], keyed by the join key and sized to this instance's
 * share of the capacity; row_vals: a VALUE's val_len is its side's row.
 * The ids go to j->sid[].
 */
/* Register keyed state d (name, kind, ns and value set) with the join's
 * key length and key capacity: its id, or -errno. */
int join_register(struct sl_join *j, struct sl_state_desc d);
int join_register_sides(struct sl_join *j, const char *const names[2],
			const struct sl_state_desc *tmpl, bool row_vals);

/* Per kind: setup (descriptors), rows of one side, timer callback. */
int join_interval_setup(struct sl_join *j);
void join_interval_process(struct sl_join *j, int side, const struct sl_vec *v);
int join_interval_fire(struct sl_join *j, uint16_t kg, const void *key,
		       const void *ns, int64_t ts);

int join_window_setup(struct sl_join *j);
void join_window_process(struct sl_join *j, int side, const struct sl_vec *v);
int join_window_fire(struct sl_join *j, uint16_t kg, const void *key,
		     const void *ns, int64_t ts);

int join_match_setup(struct sl_join *j);
void join_match_process(struct sl_join *j, int side, const struct sl_vec *v);
int join_match_fire(struct sl_join *j, uint16_t kg, const void *key,
		    const void *ns, int64_t ts);

int join_broadcast_setup(struct sl_join *j);
void join_broadcast_process(struct sl_join *j, int side, const struct sl_vec *v);
int join_broadcast_fire(struct sl_join *j, uint16_t kg, const void *key,
			const void *ns, int64_t ts);
/* Drop the rule versions no event can need at the watermark. */
int join_broadcast_prune(struct sl_join *j);
/* Versioned right rows (broadcast, temporal: join_broadcast.c). */
int64_t join_version_at(const struct sl_join *j, const uint8_t *vers, uint32_t n,
			int64_t ts);
int join_versions_merge(struct sl_join *j, const uint8_t *old, uint32_t n,
			const uint8_t *row, int64_t wm);
void join_version_wait(struct sl_join *j, int id, const struct sl_vec *v, uint16_t i);
int join_version_fire(struct sl_join *j, int id, uint16_t kg, const void *key,
		      const void *ns, int64_t ts, const uint8_t *vers, uint32_t n);

int join_temporal_setup(struct sl_join *j);
void join_temporal_process(struct sl_join *j, int side, const struct sl_vec *v);
int join_temporal_fire(struct sl_join *j, uint16_t kg, const void *key,
		       const void *ns, int64_t ts);

int join_enrich_setup(struct sl_join *j);
void join_enrich_process(struct sl_join *j, int side, const struct sl_vec *v);

int join_session_setup(struct sl_join *j);
void join_session_process(struct sl_join *j, int side, const struct sl_vec *v);
int join_session_fire(struct sl_join *j, uint16_t kg, const void *key,
		      const void *ns, int64_t ts);
/* Bytes of the session scratch (join_session.c's struct sess_ctx). */
size_t join_session_ctx_size(void);

int join_process_setup(struct sl_join *j);
void join_process_fini(struct sl_join *j);
void join_process_rows(struct sl_join *j, int side, const struct sl_vec *v);
int join_process_advance(struct sl_join *j, int64_t wm);
int join_process_ptime(struct sl_join *j, int64_t now);

#endif /* JOIN_PRIVATE_H */
