/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN
 *
 * The exposition is driven by one table of families (fams[] below), in the
 * order they are written. For each family the renderer walks every job (in
 * strcmp order of the names) and writes the samples that family takes from
 * it, so all samples of a family are contiguous and its # HELP and # TYPE
 * lines are written exactly once, just before its first sample. A family
 * that finds no sample writes nothing.
 *
 * The input is whatever sluiced holds: the dataplane object comes from
 * another process, so the renderer trusts nothing in it. A value that is
 * null (Flink's Long.MIN_VALUE watermark), absent or not a number gives no
 * sample; a label whose value is absent is left out. Only the outer shape
 * (an array of objects with a string "job") is an error.
 *
 * Millisecond values become seconds, Prometheus' base unit: integers are
 * divided exactly in decimal (1700000018943 ms -> 1700000018.943, with no
 * binary rounding), reals print with the fewest digits that read back to
 * the same double.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_metrics.h"

/* Label carrying the job's name; see sl_metrics.h for why not "job". */
#define JOB_LABEL "job_name"

/* Where a family's samples come from. */
enum fam_src {
	SRC_JOB_UP,	/* 1 per job: state == RUNNING */
	SRC_JOB,	/* key of the job object */
	SRC_DP,		/* key of the dataplane object */
	SRC_LCORE,	/* key of each dataplane.lcores[] */
	SRC_DROPS,	/* every key of each lcores[].drops, label reason */
	SRC_RING,	/* key of each lcores[].rings[], label from */
	SRC_OP,		/* key of each dataplane.operators[] */
};

struct fam {
	const char *name;	/* without the sluice_ prefix */
	const char *type;
	enum fam_src src;
	const char *key;	/* the JSON (Flink) name */
	bool ms;		/* milliseconds in JSON, seconds out */
	const char *help;
};

#define C "counter"
#define G "gauge"
static const struct fam fams[] = {
	{ "job_up", G, SRC_JOB_UP, "state", false,
	  "1 when the job is RUNNING, else 0; state is its state in sluiced." },
	{ "job_restarts_total", C, SRC_JOB, "numRestarts", false,
	  "Times sluiced restarted the job's dataplane." },
	{ "uptime_seconds", G, SRC_DP, "uptimeMs", true,
	  "Time since the job's dataplane started." },
	{ "num_records_in_total", C, SRC_LCORE, "numRecordsIn", false,
	  "Rows received (rx) or taken in (worker) by the lcore." },
	{ "num_records_out_total", C, SRC_LCORE, "numRecordsOut", false,
	  "Rows routed to workers (rx) or result rows emitted (worker)." },
	{ "num_records_in_per_second", G, SRC_LCORE, "numRecordsInPerSecond", false,
	  "Rows in over the last whole second." },
	{ "num_records_out_per_second", G, SRC_LCORE, "numRecordsOutPerSecond", false,
	  "Rows out over the last whole second." },
	{ "busy_time_seconds_per_second", G, SRC_LCORE, "busyTimeMsPerSecond", true,
	  "Share of the last second spent in polls that found work." },
	{ "idle_time_seconds_per_second", G, SRC_LCORE, "idleTimeMsPerSecond", true,
	  "Share of the last second spent in polls that found none." },
	{ "back_pressured_time_seconds_per_second", G, SRC_LCORE,
	  "backPressuredTimeMsPerSecond", true,
	  "Share of the last second spent waiting on a full ring." },
	{ "current_input_watermark_seconds", G, SRC_LCORE, "currentInputWatermark", true,
	  "Combined watermark of the lcore's inputs, event time in Unix seconds." },
	{ "current_output_watermark_seconds", G, SRC_LCORE, "currentOutputWatermark", true,
	  "Last watermark the lcore sent, event time in Unix seconds." },
	{ "watermark_lag_seconds", G, SRC_LCORE, "watermarkLagMs", true,
	  "Wall-clock time minus the lcore's watermark." },
	{ "num_packets_total", C, SRC_LCORE, "numPackets", false,
	  "Packets received." },
	{ "num_records_filtered_total", C, SRC_LCORE, "numRecordsFiltered", false,
	  "Rows removed by the job's filters on the rx lcore." },
	{ "num_seq_gaps_total", C, SRC_LCORE, "numSeqGaps", false,
	  "Gaps seen in the packets' sequence numbers." },
	{ "num_ring_full_total", C, SRC_LCORE, "numRingFull", false,
	  "Enqueues that found a worker's ring full (backpressure)." },
	{ "num_bad_lines_total", C, SRC_LCORE, "numBadLines", false,
	  "Input lines that could not be parsed." },
	{ "num_late_records_dropped_total", C, SRC_LCORE, "numLateRecordsDropped", false,
	  "Rows dropped because they arrived behind the watermark." },
	{ "num_state_full_dropped_total", C, SRC_LCORE, "numStateFullDropped", false,
	  "Rows dropped because the lcore's state was full." },
	{ "num_windows_fired_total", C, SRC_LCORE, "numWindowsFired", false,
	  "Windows fired." },
	{ "num_late_firings_total", C, SRC_LCORE, "numLateFirings", false,
	  "Result rows a late row fired again (allowed lateness)." },
	{ "open_windows", G, SRC_LCORE, "openWindows", false,
	  "Windows open now." },
	{ "state_bytes", G, SRC_LCORE, "stateBytes", false,
	  "Bytes of keyed state (heap: arena in use; rocksdb: memtables), sampled as windows fire." },
	{ "packets_dropped_total", C, SRC_DROPS, NULL, false,
	  "Malformed packets dropped, by reason (docs/wire-format.md)." },
	{ "ring_used", G, SRC_RING, "used", false,
	  "Vectors waiting in the ring from that rx lcore." },
	{ "ring_capacity", G, SRC_RING, "capacity", false,
	  "Capacity in vectors of the ring from that rx lcore." },
	{ "operator_num_records_in_total", C, SRC_OP, "numRecordsIn", false,
	  "Rows into the operator." },
	{ "operator_num_records_out_total", C, SRC_OP, "numRecordsOut", false,
	  "Rows out of the operator." },
	{ "operator_num_late_records_dropped_total", C, SRC_OP, "numLateRecordsDropped",
	  false, "Rows the operator dropped because they arrived behind the watermark." },
};
#undef C
#undef G

/* A growing text buffer; the first failure sticks, so callers check once. */
struct sbuf {
	char *p;
	size_t len;
	size_t cap;
	bool oom;
};

static void
sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_puts(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	/* Only numbers go through here: they always fit in tmp. */
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(tmp))
		sb_put(b, tmp, (size_t)n);
}

/* A double with the fewest digits that parse back to it (Go reads it alike). */
static void
put_double(struct sbuf *b, double d)
{
	char tmp[40];

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	sb_puts(b, tmp);
}

/* v must be a number; ms: divide by 1000. */
static void
put_num(struct sbuf *b, const json_t *v, bool ms)
{
	json_int_t i;
	unsigned long long u;
	unsigned int frac;

	if (json_is_real(v)) {
		put_double(b, ms ? json_real_value(v) / 1000.0 : json_real_value(v));
		return;
	}
	i = json_integer_value(v);
	if (!ms) {
		sb_printf(b, "%" JSON_INTEGER_FORMAT, i);
		return;
	}
	/* Exact decimal division: the magnitude, so INT64_MIN cannot overflow. */
	u = i < 0 ? 0ull - (unsigned long long)i : (unsigned long long)i;
	frac = (unsigned int)(u % 1000);
	sb_printf(b, "%s%llu", i < 0 ? "-" : "", u / 1000);
	if (frac != 0) {
		char f[8];
		int n = snprintf(f, sizeof(f), ".%03u", frac);

		while (f[n - 1] == '0')
			n--;
		sb_put(b, f, (size_t)n);
	}
}

/* Label value escaping of the text format: backslash, double quote, newline. */
static void
put_escaped(struct sbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '\\':
			sb_put(b, "\\\\", 2);
			break;
		case '"':
			sb_put(b, "\\\"", 2);
			break;
		case '\n':
			sb_put(b, "\\n", 2);
			break;
		default:
			sb_put(b, s, 1);
		}
	}
}

/* Append name="value" to a label list; a non-string, non-number v adds nothing. */
static void
label_json(struct sbuf *l, const char *name, const json_t *v)
{
	if (!json_is_string(v) && !json_is_number(v))
		return;
	if (l->len != 0)
		sb_put(l, ",", 1);
	sb_puts(l, name);
	sb_put(l, "=\"", 2);
	if (json_is_string(v))
		put_escaped(l, json_string_value(v));
	else
		put_num(l, v, false);
	sb_put(l, "\"", 1);
}

static void
label_str(struct sbuf *l, const char *name, const char *s)
{
	if (l->len != 0)
		sb_put(l, ",", 1);
	sb_puts(l, name);
	sb_put(l, "=\"", 2);
	put_escaped(l, s);
	sb_put(l, "\"", 1);
}

/* One family being written: its header goes out with its first sample. */
struct fam_out {
	struct sbuf *b;
	const struct fam *f;
	bool started;
};

static void
sample(struct fam_out *o, const struct sbuf *labels, const json_t *v)
{
	struct sbuf *b = o->b;

	if (!json_is_number(v))
		return;
	if (!o->started) {
		o->started = true;
		sb_puts(b, "# HELP sluice_");
		sb_puts(b, o->f->name);
		sb_put(b, " ", 1);
		sb_puts(b, o->f->help);
		sb_puts(b, "\n# TYPE sluice_");
		sb_puts(b, o->f->name);
		sb_put(b, " ", 1);
		sb_puts(b, o->f->type);
		sb_put(b, "\n", 1);
	}
	sb_puts(b, "sluice_");
	sb_puts(b, o->f->name);
	if (labels->len != 0) {
		sb_put(b, "{", 1);
		sb_put(b, labels->p, labels->len);
		sb_put(b, "}", 1);
	}
	sb_put(b, " ", 1);
	put_num(b, v, o->f->ms);
	sb_put(b, "\n", 1);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Drop reasons sorted, so the order never depends on the dataplane's. */
static void
lcore_drops(struct fam_out *o, struct sbuf *l, const json_t *drops)
{
	size_t n = json_object_size(drops), k = 0, base = l->len;
	const char **keys;
	const char *key;
	json_t *v;

	if (n == 0)
		return;
	keys = malloc(n * sizeof(*keys));
	if (keys == NULL) {
		o->b->oom = true;
		return;
	}
	json_object_foreach((json_t *)drops, key, v)
		keys[k++] = key;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (k = 0; k < n; k++) {
		l->len = base;
		label_str(l, "reason", keys[k]);
		sample(o, l, json_object_get(drops, keys[k]));
	}
	l->len = base;
	free(keys);
}

static void
job_lcores(struct fam_out *o, struct sbuf *l, const json_t *dp)
{
	const json_t *lcores = json_object_get(dp, "lcores");
	size_t base = l->len, i, j;
	json_t *lc, *ring;

	json_array_foreach(lcores, i, lc) {
		if (!json_is_object(lc))
			continue;
		l->len = base;
		label_json(l, "role", json_object_get(lc, "role"));
		label_json(l, "id", json_object_get(lc, "id"));
		label_json(l, "lcore", json_object_get(lc, "lcore"));
		label_json(l, "cpu", json_object_get(lc, "cpu"));
		switch (o->f->src) {
		case SRC_LCORE:
			sample(o, l, json_object_get(lc, o->f->key));
			break;
		case SRC_DROPS:
			lcore_drops(o, l, json_object_get(lc, "drops"));
			break;
		case SRC_RING: {
			size_t lbase = l->len;

			json_array_foreach(json_object_get(lc, "rings"), j, ring) {
				l->len = lbase;
				label_json(l, "from", json_object_get(ring, "from"));
				sample(o, l, json_object_get(ring, o->f->key));
			}
			break;
		}
		default:
			break;
		}
	}
	l->len = base;
}

static void
job_operators(struct fam_out *o, struct sbuf *l, const json_t *dp)
{
	size_t base = l->len, i;
	json_t *op;

	json_array_foreach(json_object_get(dp, "operators"), i, op) {
		char id[24];

		/* The position tells two operators of the same name apart. */
		snprintf(id, sizeof(id), "%zu", i);
		l->len = base;
		label_str(l, "id", id);
		label_json(l, "operator", json_object_get(op, "name"));
		sample(o, l, json_object_get(op, o->f->key));
	}
	l->len = base;
}

/* The samples of family o->f that job contributes. */
static void
job_samples(struct fam_out *o, struct sbuf *l, const json_t *job)
{
	const json_t *dp = json_object_get(job, "dataplane");
	const json_t *state = json_object_get(job, "state");
	json_t *up;

	l->len = 0;
	label_str(l, JOB_LABEL, json_string_value(json_object_get(job, "job")));
	switch (o->f->src) {
	case SRC_JOB_UP:
		if (json_is_string(state))
			label_str(l, "state", json_string_value(state));
		up = json_integer(json_is_string(state) &&
				  strcmp(json_string_value(state), "RUNNING") == 0);
		if (up == NULL) {
			o->b->oom = true;
			return;
		}
		sample(o, l, up);
		json_decref(up);
		break;
	case SRC_JOB:
		sample(o, l, json_object_get(job, o->f->key));
		break;
	case SRC_DP:
		sample(o, l, json_object_get(dp, o->f->key));
		break;
	case SRC_OP:
		job_operators(o, l, dp);
		break;
	default:
		job_lcores(o, l, dp);
		break;
	}
}

struct job_ref {
	const char *name;
	size_t idx;	/* ties keep input order: deterministic even for twins */
	const json_t *job;
};

static int
cmp_job(const void *a, const void *b)
{
	const struct job_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

int
sl_metrics_prom_render(const json_t *jobs, char **out, size_t *len)
{
	struct sbuf b = { 0 }, l = { 0 };
	struct job_ref *refs = NULL;
	size_t n, i;
	json_t *job;

	if (!json_is_array(jobs) || out == NULL || len == NULL)
		return -EINVAL;
	n = json_array_size(jobs);
	if (n != 0) {
		refs = calloc(n, sizeof(*refs));
		if (refs == NULL)
			return -ENOMEM;
	}
	json_array_foreach(jobs, i, job) {
		const json_t *name = json_object_get(job, "job");

		if (!json_is_string(name)) {
			free(refs);
			return -EINVAL;
		}
		refs[i] = (struct job_ref){ json_string_value(name), i, job };
	}
	if (n != 0)
		qsort(refs, n, sizeof(*refs), cmp_job);

	sb_put(&b, "", 0);	/* empty input still hands out a string */
	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		struct fam_out o = { &b, &fams[f], false };

		for (i = 0; i < n; i++)
			job_samples(&o, &l, refs[i].job);
	}
	free(refs);
	free(l.p);
	if (b.oom || l.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
