/* SPDX-License-Identifier: BSD-3-Clause */
/* Flink's StatusWatermarkValve (R1.7), step for step. */
#include "sl_wm.h"

void
sl_wm_valve_init(struct sl_wm_valve *v, uint16_t n_inputs)
{
	memset(v, 0, sizeof(*v));
	v->n = n_inputs;
	v->last_out = SL_TS_MIN;
	for (uint16_t i = 0; i < n_inputs; i++) {
		v->ch[i].wm = SL_TS_MIN;
		v->ch[i].aligned = true;
	}
}

static void
emit_aligned_min(struct sl_wm_valve *v, struct sl_wm_out *out)
{
	int64_t min = SL_TS_MAX;
	bool any = false;

	for (uint16_t i = 0; i < v->n; i++) {
		if (!v->ch[i].aligned)
			continue;
		any = true;
		if (v->ch[i].wm < min)
			min = v->ch[i].wm;
	}
	if (any && min > v->last_out) {
		v->last_out = min;
		out->wm = true;
		out->ts = min;
	}
}

void
sl_wm_valve_watermark(struct sl_wm_valve *v, uint16_t c, int64_t w,
		      struct sl_wm_out *out)
{
	out->wm = false;
	out->status = 0;
	if (v->idle_out || v->ch[c].idle || w <= v->ch[c].wm)
		return;
	v->ch[c].wm = w;
	if (!v->ch[c].aligned && w >= v->last_out)
		v->ch[c].aligned = true;
	emit_aligned_min(v, out);
}

void
sl_wm_valve_status(struct sl_wm_valve *v, uint16_t c, bool idle,
		   struct sl_wm_out *out)
{
	out->wm = false;
	out->status = 0;
	if (idle == v->ch[c].idle)
		return;
	if (idle) {
		bool all_idle = true;

		v->ch[c].idle = true;
		v->ch[c].aligned = false;
		for (uint16_t i = 0; i < v->n; i++)
			all_idle &= v->ch[i].idle;
		if (all_idle) {
			if (v->ch[c].wm == v->last_out) {
				int64_t max = SL_TS_MIN;

				for (uint16_t i = 0; i < v->n; i++)
					if (v->ch[i].wm > max)
						max = v->ch[i].wm;
				if (max > v->last_out) {
					v->last_out = max;
					out->wm = true;
					out->ts = max;
				}
			}
			v->idle_out = true;
			out->status = -1;
		} else if (v->ch[c].wm == v->last_out) {
			emit_aligned_min(v, out);
		}
		return;
	}
	v->ch[c].idle = false;
	if (v->ch[c].wm >= v->last_out)
		v->ch[c].aligned = true;
	if (v->idle_out) {
		v->idle_out = false;
		out->status = +1;
	}
}
