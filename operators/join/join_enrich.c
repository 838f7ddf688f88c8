/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Enrichment by a changelog's latest row per key (sl_join.h): the right
 * rows are upserts into one value state, a vector at a time through
 * sl_state_fixed_upsert_bulk (rows of one key in a vector share one slot,
 * so the vector's last newest row wins); the left rows read it a vector
 * at a time with sl_state_value_get_bulk and go out at once. With a TTL
 * (R5.5) the value state carries each row's expiry, which the in-place
 * upsert cannot refresh: a changelog row is then a read and a write of
 * its key as of the clock (j->now), row after row, so a vector's later
 * row of a key compares with what the earlier one wrote.
 */
#include <errno.h>
#include <string.h>

#include "join_private.h"

int
join_enrich_setup(struct sl_join *j)
{
	struct sl_state_desc d;

	memset(&d, 0, sizeof(d));
	d.name = "join.latest";
	d.kind = SL_STATE_VALUE;
	d.val_len = j->conf.in[1].schema->row_size;
	/* Flink's StateTtlConfig defaults: OnCreateAndWrite,
	 * NeverReturnExpired, incremental cleanup of 5 entries an access. */
	d.ttl.ttl_ms = j->conf.ttl;
	d.ttl.cleanup_incremental = j->conf.ttl > 0 ? 5 : 0;
	j->sid[1] = join_register(j, d);
	return j->sid[1] < 0 ? j->sid[1] : 0;
}

static void
gather_refs(struct sl_join *j, int side, const struct sl_vec *v)
{
	struct join_scratch *s = j->s;

	for (uint16_t n = 0; n < v->n_sel; n++) {
		const uint16_t i = v->sel[n];
		struct sl_state_ref *r = &s->ref[n];

		r->key = join_key(j, side, sl_vec_crow(v, i), s->keys + (size_t)n * j->key_len);
		r->ns = NULL;
		r->kg = (uint16_t)sl_kg_of(v->hash[i], j->conf.max_parallelism);
	}
}

/* With a TTL: each row read and written as of now, in order. */
static void
enrich_changelog_ttl(struct sl_join *j, const struct sl_vec *v)
{
	struct join_scratch *s = j->s;
	uint8_t *cur = s->bucket;
	const uint16_t n = v->n_sel;

	gather_refs(j, SL_JOIN_RIGHT, v);
	sl_state_hash_bulk(j->st, j->sid[1], s->ref, n);
	sl_state_prefetch_bulk(j->st, j->sid[1], s->ref, n);
	for (uint16_t k = 0; k < n; k++) {
		const uint8_t *row = sl_vec_crow(v, v->sel[k]);
		int rc = sl_state_value_get(j->st, j->sid[1], &s->ref[k], j->now, cur);

		/* An expired row reads as absent (NeverReturnExpired): the
		 * change is the key's first again, whatever its ts. */
		if (rc == 1 &&
		    join_row_ts(j, SL_JOIN_RIGHT, row) < join_row_ts(j, SL_JOIN_RIGHT, cur))
			continue;
		if (rc >= 0)
			rc = sl_state_value_put(j->st, j->sid[1], &s->ref[k], j->now, row);
		if (rc == -ENOMEM)
			j->stats.state_full_dropped++;
		else if (rc < 0)
			j->stats.state_errors++;
	}
}

static void
enrich_changelog(struct sl_join *j, const struct sl_vec *v)
{
	struct join_scratch *s = j->s;
	const uint32_t rs = j->conf.in[1].schema->row_size;
	const uint16_t n = v->n_sel;
	int rc;

	gather_refs(j, SL_JOIN_RIGHT, v);
	rc = sl_state_fixed_upsert_bulk(j->st, j->sid[1], s->ref, n, s->val, s->created);
	if (rc < 0) {
		j->stats.state_errors += n;
		return;
	}
	for (uint16_t k = 0; k < n; k++) {
		const uint8_t *row = sl_vec_crow(v, v->sel[k]);

		if (s->val[k] == NULL) {
			j->stats.state_full_dropped++;
			continue;
		}
		/* Older than the stored version: a replayed or reordered
		 * change that must not undo a newer one. */
		if (!s->created[k] &&
		    join_row_ts(j, SL_JOIN_RIGHT, row) < join_row_ts(j, SL_JOIN_RIGHT, s->val[k]))
			continue;
		/* created[] marks only a key's first row in the vector; its
		 * slot is zeroed, so a later row of that key compares with
		 * what the first wrote. */
		memcpy(s->val[k], row, rs);
	}
	if (sl_state_fixed_release_bulk(j->st, j->sid[1], s->ref, n, s->val) < 0)
		j->stats.state_errors += n;
}

static void
enrich_events(struct sl_join *j, const struct sl_vec *v)
{
	struct join_scratch *s = j->s;
	const uint32_t rs = j->conf.in[1].schema->row_size;
	const uint16_t n = v->n_sel;
	int rc;

	gather_refs(j, SL_JOIN_LEFT, v);
	sl_state_hash_bulk(j->st, j->sid[1], s->ref, n);
	sl_state_prefetch_bulk(j->st, j->sid[1], s->ref, n);
	rc = sl_state_value_get_bulk(j->st, j->sid[1], s->ref, n, j->now, s->vals, s->found);
	if (rc < 0) {
		j->stats.state_errors += n;
		return;
	}
	for (uint16_t k = 0; k < n; k++) {
		const uint8_t *row = sl_vec_crow(v, v->sel[k]);
		const int64_t ts = join_row_ts(j, SL_JOIN_LEFT, row);

		if (s->found[k]) {
			join_emit(j, SL_JOIN_OUT_PAIR, ts, row, s->vals + (size_t)k * rs);
			continue;
		}
		j->stats.unmatched++;
		if (j->conf.outer)
			join_emit(j, SL_JOIN_OUT_LEFT_ONLY, ts, row, NULL);
	}
}

void
join_enrich_process(struct sl_join *j, int side, const struct sl_vec *v)
{
	if (side == SL_JOIN_RIGHT && j->conf.ttl > 0)
		enrich_changelog_ttl(j, v);
	else if (side == SL_JOIN_RIGHT)
		enrich_changelog(j, v);
	else
		enrich_events(j, v);
}
