/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-partition watermark generation at a source (R1.3, R1.4, R1.6, R1.8). */
#include "sl_wm.h"

void
sl_wm_mux_init(struct sl_wm_mux *m, int64_t bound, int64_t idle_timeout)
{
	memset(m, 0, sizeof(*m));
	m->bound = bound;
	m->idle_timeout = idle_timeout;
	m->last_out = SL_TS_MIN;
	m->quiet_since = SL_TS_MIN;
	for (int i = 0; i < SL_WM_MAX_PARTS; i++) {
		sl_wm_gen_init(&m->part[i].gen, bound);
		m->part[i].quiet_since = SL_TS_MIN;
	}
}

void
sl_wm_mux_emit(struct sl_wm_mux *m, struct sl_wm_out *out)
{
	int64_t min = SL_TS_MAX;
	bool any_active = false, any_seen = false;

	out->wm = false;
	out->status = 0;
	for (uint16_t i = 0; i < m->n_parts; i++) {
		const struct sl_wm_part *p = &m->part[i];

		if (!p->seen)
			continue;
		any_seen = true;
		if (p->idle)
			continue;
		any_active = true;
		if (sl_wm_gen_candidate(&p->gen) < min)
			min = sl_wm_gen_candidate(&p->gen);
	}
	if (!any_seen) {
		/* No partition yet: the source-wide countdown of
		 * sl_wm_mux_poll() decides, and there is no watermark. */
		if (m->quiet_idle && !m->idle_out) {
			m->idle_out = true;
			out->status = -1;
		}
		return;
	}
	if (any_seen && !any_active) {
		/* All idle: go idle, do not flush the watermark forward. */
		if (!m->idle_out) {
			m->idle_out = true;
			out->status = -1;
		}
		return;
	}
	if (m->idle_out && any_active) {
		m->idle_out = false;
		out->status = +1;
	}
	if (any_active && min > m->last_out) {
		m->last_out = min;
		out->wm = true;
		out->ts = min;
	}
}

void
sl_wm_mux_poll(struct sl_wm_mux *m, int64_t now_ms, struct sl_wm_out *out)
{
	if (m->idle_timeout > 0 && m->n_parts == 0) {
		/*
		 * No partition has ever sent anything (n_parts grows with the
		 * first event). R1.8 starts the countdown at the first quiet
		 * poll whether or not events ever arrived, so run it for the
		 * source as a whole; otherwise a queue that never sees a
		 * partition holds its workers' watermark at MIN forever.
		 */
		if (m->quiet_since == SL_TS_MIN)
			m->quiet_since = now_ms;
		else if (now_ms - m->quiet_since > m->idle_timeout)
			m->quiet_idle = true;
	} else if (m->idle_timeout > 0) {
		for (uint16_t i = 0; i < m->n_parts; i++) {
			struct sl_wm_part *p = &m->part[i];

			if (!p->seen)
				continue;
			if (p->events != p->polled) {
				/* Activity since the last poll resets the
				 * countdown and wakes the partition. */
				p->polled = p->events;
				p->quiet_since = SL_TS_MIN;
				p->idle = false;
			} else if (!p->idle) {
				if (p->quiet_since == SL_TS_MIN)
					p->quiet_since = now_ms;
				else if (now_ms - p->quiet_since > m->idle_timeout)
					p->idle = true;
			}
		}
	}
	sl_wm_mux_emit(m, out);
}
