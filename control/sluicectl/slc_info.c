/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `sluicectl info JOB_FILE`: the compiled graph of a job, without a daemon
 * and without running it. The operator roles follow dataplane/ (filters on
 * RX lcores, key_by routes by key group over SPSC rings, window and
 * aggregate on workers, the sink on the main lcore), and the lcore
 * placement reproduces dataplane/eal.c dp_eal_args() and main.c
 * assign_lcores(): lcore 0 is the main lcore on the first CPU, polling
 * lcores 1..n take the CPUs in order (wrapping when there are fewer CPUs),
 * RX lcores first, then workers.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "sl_kg.h"
#include "sl_plan.h"
#include "slc.h"

int
slc_parse_cpus(const char *s, int *cpus, int max)
{
	/* The grammar of sluice-dp --cpus and lcores.cpus: one parser. */
	int n = sl_plan_cpus_list(s, cpus, max);

	return n < 0 ? -1 : n;
}

int
slc_job_cpus(const struct sl_plan *p, const char *cpu_opt, int *cpus, int max,
	     const char **source)
{
	cpu_set_t set;
	int n = 0;

	/* sluice-dp's order (dataplane/main.c): --cpus, then the job's
	 * lcores.cpus, then the CPUs the process may run on. */
	if (cpu_opt != NULL) {
		*source = "--cpus";
		return slc_parse_cpus(cpu_opt, cpus, max);
	}
	if (p != NULL && p->lcores.cpus[0] != '\0') {
		*source = "the job's lcores.cpus";
		return slc_parse_cpus(p->lcores.cpus, cpus, max);
	}
	*source = "the CPUs this process may use";
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE && n < max; c++)
			if (CPU_ISSET(c, &set))
				cpus[n++] = c;
	if (n == 0)
		cpus[n++] = 0;
	return n;
}

/* "0,1,2,5" -> "0-2,5" */
static void
fmt_cpus(char *buf, size_t len, const int *cpus, int n)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && off < len; i++) {
		int j = i;

		while (j + 1 < n && cpus[j + 1] == cpus[j] + 1)
			j++;
		if (j > i + 1 || j == i + 1)
			off += (size_t)snprintf(buf + off, len - off, "%s%d-%d",
						i ? "," : "", cpus[i], cpus[j]);
		else
			off += (size_t)snprintf(buf + off, len - off, "%s%d",
						i ? "," : "", cpus[i]);
		i = j;
	}
}

/* A duration as a job file would write it. */
static void
fmt_ms(char *buf, size_t len, int64_t ms)
{
	static const struct { int64_t ms; const char *u; } units[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" },
	};

	if (ms == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms % units[i].ms == 0) {
			snprintf(buf, len, "%" PRId64 "%s", ms / units[i].ms, units[i].u);
			return;
		}
	snprintf(buf, len, "%" PRId64 "ms", ms);
}

static const char *const src_names[] = {
	[SL_SRC_ETHDEV] = "ethdev", [SL_SRC_CSV] = "csv", [SL_SRC_CAPTURE] = "capture",
	[SL_SRC_GEN] = "gen",
};
static const char *const agg_names[] = {
	[SL_PLAN_AGG_COUNT] = "count", [SL_PLAN_AGG_SUM] = "sum", [SL_PLAN_AGG_MIN] = "min",
	[SL_PLAN_AGG_MAX] = "max", [SL_PLAN_AGG_AVG] = "avg", [SL_PLAN_AGG_FIRST] = "first",
	[SL_PLAN_AGG_LAST] = "last", [SL_PLAN_AGG_COUNT_DISTINCT] = "count_distinct",
	[SL_PLAN_AGG_APPROX_COUNT_DISTINCT] = "approx_count_distinct",
};

enum { OP_NAME, OP_ROLE, OP_DETAIL, OP__N };

/* One node of the graph as printed: name, lcore role, detail. */
struct node {
	char name[32];
	const char *role;
	char detail[2048];
};

/* A stateless pipeline after its filters: the map (if any) and the sink. */

/* The sink's node, whatever its type; order says how its rows come. */
static void
sink_node(const struct sl_plan *p, struct node *n, const char *order)
{
	n->role = "main";
	switch (p->sink.type) {
	case SL_SINK_ETHDEV:
		snprintf(n->name, sizeof(n->name), "sink.ethdev");
		snprintf(n->detail, sizeof(n->detail),
			 "wire packets out of %s, UDP %u, %s",
			 p->source.port, p->sink.udp_port, order);
		break;
	case SL_SINK_CSV:
		snprintf(n->name, sizeof(n->name), "sink.csv");
		snprintf(n->detail, sizeof(n->detail), "CSV to %s, %s", p->sink.path, order);
		break;
	default:
		snprintf(n->name, sizeof(n->name), "sink.stdout");
		snprintf(n->detail, sizeof(n->detail), "CSV to standard output, %s", order);
		break;
	}
}

static unsigned int
stateless_nodes(const struct sl_plan *p, struct node *n, unsigned int k,
		const char *wk)
{
	size_t off = 0;

	snprintf(n[k].name, sizeof(n[k].name), "map");
	n[k].role = wk;
	if (p->n_map == 0)
		snprintf(n[k].detail, sizeof(n[k].detail),
			 "none: the input rows as they are; each source partition stays on one worker, in order");
	for (unsigned int i = 0; i < p->n_map && off < sizeof(n[k].detail); i++)
		off += (size_t)snprintf(n[k].detail + off, sizeof(n[k].detail) - off,
					"%s%s = %s", i ? ", " : "", p->map_name[i],
					p->map_text[i]);
	k++;
	sink_node(p, &n[k], "each worker's rows in arrival order");
	return k + 1;
}

/* RX lcores: one per source of a sources: job, else lcores.rx. */
static unsigned int
rx_lcores(const struct sl_plan *p)
{
	return p->n_inputs > 1 ? p->n_inputs : p->lcores.rx;
}

/* One source's node: transport, time and watermark (name: sources: key). */
static void
source_node(const struct sl_plan *p, const struct sl_plan_input *in, struct node *n,
	    const char *rx)
{
	const struct sl_plan_source *s = &in->source;
	char a[32], b[32];
	size_t off = 0;

	snprintf(n->name, sizeof(n->name), "source.%s", src_names[s->type]);
	n->role = rx;
	if (p->n_inputs > 1)
		off = (size_t)snprintf(n->detail, sizeof(n->detail), "%s: ", in->name);
	if (s->type == SL_SRC_ETHDEV)
		off += (size_t)snprintf(n->detail + off, sizeof(n->detail) - off,
					"port %s, udp_port %u, queues %u, partitions %u",
					s->port, s->udp_port, s->rx_queues, s->partitions);
	else
		off += (size_t)snprintf(n->detail + off, sizeof(n->detail) - off, "path %s", s->path);
	fmt_ms(a, sizeof(a), s->out_of_orderness_ms);
	off += (size_t)snprintf(n->detail + off, sizeof(n->detail) - off,
				"; timestamp %s; watermark out_of_orderness %s, ",
				in->schema.f[s->ts_field].name, a);
	if (s->emit == SL_WM_PERIODIC) {
		fmt_ms(b, sizeof(b), s->interval_ms);
		off += (size_t)snprintf(n->detail + off, sizeof(n->detail) - off,
					"periodic every %s", b);
	} else {
		off += (size_t)snprintf(n->detail + off, sizeof(n->detail) - off,
					"punctuated");
	}
	if (s->idle_timeout_ms > 0) {
		fmt_ms(b, sizeof(b), s->idle_timeout_ms);
		snprintf(n->detail + off, sizeof(n->detail) - off,
			 ", idle_timeout %s", b);
	}
}

/* A join pipeline's operator: its kind, sides, keys and bounds. */
static void
join_node(const struct sl_plan *p, struct node *n, const char *wk)
{
	static const char *const kinds[] = {
		[SL_PLAN_JOIN_INTERVAL] = "join.interval", [SL_PLAN_JOIN_WINDOW] = "join.window",
		[SL_PLAN_JOIN_MATCH] = "join.match", [SL_PLAN_JOIN_ENRICH] = "join.enrich",
		[SL_PLAN_JOIN_PROCESS] = "join.process",
		[SL_PLAN_JOIN_BROADCAST] = "join.broadcast",
		[SL_PLAN_JOIN_TEMPORAL] = "join.temporal",
	};
	const struct sl_plan_join *j = &p->join;
	char a[32], b[32];
	size_t off;

	snprintf(n->name, sizeof(n->name), "%s", kinds[j->kind]);
	n->role = wk;
	off = (size_t)snprintf(n->detail, sizeof(n->detail), "left %s, right %s, key ",
			       p->inputs[j->left].name, p->inputs[j->right].name);
	for (unsigned int i = 0; i < j->n_keys; i++)
		off += (size_t)snprintf(n->detail + off, sizeof(n->detail) - off, "%s%s=%s",
					i ? ", " : "",
					p->inputs[j->left].schema.f[j->left_key[i]].name,
					p->inputs[j->right].schema.f[j->right_key[i]].name);
	switch (j->kind) {
	case SL_PLAN_JOIN_INTERVAL:
		fmt_ms(a, sizeof(a), j->lower_ms);
		fmt_ms(b, sizeof(b), j->upper_ms);
		off += (size_t)snprintf(n->detail + off, sizeof(n->detail) - off,
					"; right.ts in %cleft.ts + %s, left.ts + %s%c",
					j->lower_exclusive ? '(' : '[', a, b,
					j->upper_exclusive ? ')' : ']');
		break;
	case SL_PLAN_JOIN_WINDOW:
		if (j->gap_ms > 0) {
			fmt_ms(a, sizeof(a), j->gap_ms);
			off += (size_t)snprintf(n->detail + off, sizeof(n->detail) - off,
						"; sessions of both sides, gap %s", a);
			break;
		}
		fmt_ms(a, sizeof(a), j->size_ms);
		fmt_ms(b, sizeof(b), j->offset_ms);
		off += (size_t)snprintf(n->detail + off, sizeof(n->detail) - off,
					"; %s %s, offset %s", j->slide_ms ? "sliding" : "tumbling", a, b);
		if (j->slide_ms) {
			fmt_ms(a, sizeof(a), j->slide_ms);
			off += (size_t)snprintf(n->detail + off, sizeof(n->detail) - off,
						", slide %s", a);
		}
		break;
	case SL_PLAN_JOIN_MATCH:
		fmt_ms(a, sizeof(a), j->timeout_ms);
		off += (size_t)snprintf(n->detail + off, sizeof(n->detail) - off,
					"; unmatched after %s to late_sink", a);
		break;
	case SL_PLAN_JOIN_PROCESS:
		off += (size_t)snprintf(n->detail + off, sizeof(n->detail) - off,
					"; co_process %s of %s", p->udf_function, p->udf_plugin);
		break;
	case SL_PLAN_JOIN_BROADCAST:
	case SL_PLAN_JOIN_TEMPORAL:
		off += (size_t)snprintf(n->detail + off, sizeof(n->detail) - off,
					"; %s, each left row with the right row's version in force at its ts%s",
					j->kind == SL_PLAN_JOIN_BROADCAST ?
					"right rows broadcast to every worker (operator state)" :
					"right rows' versions per key (keyed state)",
					j->outer ? ", outer" : "");
		break;
	default:
		off += (size_t)snprintf(n->detail + off, sizeof(n->detail) - off,
					"; the latest right row per key%s",
					j->outer ? ", outer" : "");
		if (j->ttl_ms > 0) {
			fmt_ms(a, sizeof(a), j->ttl_ms);
			off += (size_t)snprintf(n->detail + off, sizeof(n->detail) - off,
						", state ttl %s (processing time)", a);
		}
		break;
	}
	snprintf(n->detail + off, sizeof(n->detail) - off, "; state.key-capacity %u",
		 p->key_capacity);
}

static unsigned int
build_nodes(const struct sl_plan *p, struct node *n)
{
	const char *rx = p->lcores.run_to_completion ? "rx+worker" : "rx";
	const char *wk = p->lcores.run_to_completion ? "rx+worker" : "worker";
	unsigned int k = 0;
	char a[32], b[32];
	size_t off;

	for (uint16_t i = 0; i < p->n_inputs; i++)
		source_node(p, &p->inputs[i], &n[k++], rx);
	if (p->join.kind != SL_PLAN_JOIN_NONE) {
		join_node(p, &n[k++], wk);
		sink_node(p, &n[k], p->join.kind == SL_PLAN_JOIN_INTERVAL ||
			  p->join.kind == SL_PLAN_JOIN_WINDOW ||
			  p->join.kind == SL_PLAN_JOIN_BROADCAST ||
			  p->join.kind == SL_PLAN_JOIN_TEMPORAL ?
			  "in join_ts order" : "each worker's rows in arrival order");
		return k + 1;
	}
	if (p->n_union > 0) {
		snprintf(n[k].name, sizeof(n[k].name), "union");
		n[k].role = rx;
		off = 0;
		for (uint16_t i = 0; i < p->n_union; i++)
			off += (size_t)snprintf(n[k].detail + off, sizeof(n[k].detail) - off,
						"%s%s", i ? ", " : "", p->inputs[p->union_input[i]].name);
		k++;
	}
	for (unsigned int i = 0; i < p->n_filters; i++, k++) {
		snprintf(n[k].name, sizeof(n[k].name), "filter");
		n[k].role = rx;
		snprintf(n[k].detail, sizeof(n[k].detail), "%s", p->filter_text[i]);
	}
	if (p->stateless)
		return stateless_nodes(p, n, k, wk);
	snprintf(n[k].name, sizeof(n[k].name), "key_by");
	n[k].role = rx;
	off = 0;
	for (unsigned int i = 0; i < p->n_keys; i++)
		off += (size_t)snprintf(n[k].detail + off, sizeof(n[k].detail) - off,
					"%s%s", i ? ", " : "", p->schema.f[p->key_field[i]].name);
	snprintf(n[k].detail + off, sizeof(n[k].detail) - off,
		 "; key group = xxh3(key) %% %u", p->max_parallelism);
	k++;
	if (p->dedup_within_ms > 0) {
		/* A dedup pipeline: the rows it keeps, as they come. */
		fmt_ms(a, sizeof(a), p->dedup_within_ms);
		snprintf(n[k].name, sizeof(n[k].name), "dedup");
		n[k].role = wk;
		snprintf(n[k].detail, sizeof(n[k].detail),
			 "within %s: the first row per key, then the first at or past t0 + %s; state.key-capacity %u",
			 a, a, p->key_capacity);
		k++;
		sink_node(p, &n[k], "each worker's rows in arrival order");
		return k + 1;
	}
	snprintf(n[k].name, sizeof(n[k].name), "%s",
		 p->window_gap_ms ? "window.session" :
		 p->window_slide_ms ? "window.sliding" : "window.tumbling");
	n[k].role = wk;
	fmt_ms(a, sizeof(a), p->window_size_ms);
	fmt_ms(b, sizeof(b), p->window_offset_ms);
	if (p->window_gap_ms) {
		fmt_ms(a, sizeof(a), p->window_gap_ms);
		snprintf(n[k].detail, sizeof(n[k].detail),
			 "gap %s; state.key-capacity %u", a, p->key_capacity);
	} else if (p->window_slide_ms) {
		char sl[32];

		fmt_ms(sl, sizeof(sl), p->window_slide_ms);
		snprintf(n[k].detail, sizeof(n[k].detail),
			 "size %s, slide %s, offset %s; state.key-capacity %u",
			 a, sl, b, p->key_capacity);
	} else {
		snprintf(n[k].detail, sizeof(n[k].detail), "size %s, offset %s; state.key-capacity %u",
			 a, b, p->key_capacity);
	}
	if (p->window_lateness_ms > 0) {
		size_t l = strlen(n[k].detail);

		fmt_ms(a, sizeof(a), p->window_lateness_ms);
		snprintf(n[k].detail + l, sizeof(n[k].detail) - l,
			 "; allowed lateness %s", a);
	}
	if (p->window_count_trigger != 0) {
		size_t l = strlen(n[k].detail);

		snprintf(n[k].detail + l, sizeof(n[k].detail) - l,
			 "; trigger count %" PRIu64, p->window_count_trigger);
	}
	if (p->window_continuous_ms != 0) {
		size_t l = strlen(n[k].detail);

		fmt_ms(a, sizeof(a), p->window_continuous_ms);
		snprintf(n[k].detail + l, sizeof(n[k].detail) - l,
			 "; trigger continuous every %s", a);
	}
	if (p->window_processing_time) {
		size_t l = strlen(n[k].detail);

		snprintf(n[k].detail + l, sizeof(n[k].detail) - l,
			 "; processing time (the worker's clock)");
	}
	k++;
	snprintf(n[k].name, sizeof(n[k].name), "aggregate");
	n[k].role = wk;
	off = 0;
	for (unsigned int i = 0; i < p->n_aggs; i++) {
		const struct sl_plan_agg *g = &p->agg[i];
		char def[2 * SL_NAME_MAX];
		const char *f = g->field >= 0 ? p->schema.f[g->field].name : "";

		if (g->fn == SL_PLAN_AGG_COUNT)
			snprintf(def, sizeof(def), "count");
		else
			snprintf(def, sizeof(def), "%s_%s", agg_names[g->fn], f);
		off += (size_t)snprintf(n[k].detail + off, sizeof(n[k].detail) - off,
					"%s%s(%s)%s%s", i ? ", " : "", agg_names[g->fn], f,
					strcmp(def, g->out_name) ? " as " : "",
					strcmp(def, g->out_name) ? g->out_name : "");
		if (off >= sizeof(n[k].detail))
			break;
	}
	k++;
	if (p->topk_k != 0) {
		/* The ranking runs where every worker's rows of a window meet. */
		snprintf(n[k].name, sizeof(n[k].name), "top_k");
		n[k].role = "main";
		snprintf(n[k].detail, sizeof(n[k].detail),
			 "per window the %u rows with the %s %s, ties by key ascending; a rank column",
			 p->topk_k, p->topk_asc ? "smallest" : "largest",
			 p->agg[p->topk_by].out_name);
		k++;
		sink_node(p, &n[k], "in (window_start, rank) order");
		return k + 1;
	}
	sink_node(p, &n[k], p->window_processing_time ?
		  "as the windows fire (processing time: not sorted)" :
		  "in (window_start, key) order");
	return k + 1;
}

/* How rows travel from node i to node i + 1. */
static void
edge_kind(const struct sl_plan *p, const struct node *from, const struct node *to,
	  char *buf, size_t len)
{
	unsigned int rx = rx_lcores(p), w = p->lcores.workers;

	if (strncmp(from->name, "source.", 7) == 0 && strncmp(to->name, "source.", 7) == 0) {
		snprintf(buf, len, "beside it: another source, its own rx lcore%s",
			 p->lcores.run_to_completion ? " (run to completion: polled in turn)" : "");
	} else if (strncmp(to->name, "join.", 5) == 0) {
		if (p->lcores.run_to_completion)
			snprintf(buf, len, "forward, same lcore (run to completion: no rings)");
		else if (p->join.kind == SL_PLAN_JOIN_BROADCAST)
			snprintf(buf, len, "left hashed by its key's key group, right to every worker, over %u SPSC rings (%u rx x %u worker%s)",
				 rx * w, rx, w, w == 1 ? "" : "s");
		else
			snprintf(buf, len, "each side hashed by its key's key group over %u SPSC rings (%u rx x %u worker%s)",
				 rx * w, rx, w, w == 1 ? "" : "s");
	} else if (strncmp(from->name, "join.", 5) == 0) {
		snprintf(buf, len, "%u SPSC ring%s to the main lcore, %s",
			 w, w == 1 ? "" : "s",
			 p->join.kind == SL_PLAN_JOIN_INTERVAL || p->join.kind == SL_PLAN_JOIN_WINDOW ||
			 p->join.kind == SL_PLAN_JOIN_BROADCAST || p->join.kind == SL_PLAN_JOIN_TEMPORAL ?
			 "merged by watermark" : "in arrival order");
	} else if (p->stateless && strcmp(to->name, "map") == 0) {
		if (p->lcores.run_to_completion)
			snprintf(buf, len, "forward, same lcore (run to completion: no rings)");
		else
			snprintf(buf, len, "by source partition over %u SPSC ring%s (a partition stays on one worker, in order)",
				 rx * w, rx * w == 1 ? "" : "s");
	} else if (p->stateless && strcmp(from->name, "map") == 0) {
		snprintf(buf, len, "%u SPSC ring%s to the main lcore, in arrival order",
			 w, w == 1 ? "" : "s");
	} else if (strcmp(from->name, "key_by") == 0) {
		if (p->lcores.run_to_completion)
			snprintf(buf, len, "forward, same lcore (run to completion: no rings)");
		else
			snprintf(buf, len, "hash by key group over %u SPSC ring%s (%u rx x %u worker%s)",
				 rx * w, rx * w == 1 ? "" : "s", rx, w, w == 1 ? "" : "s");
	} else if (strcmp(from->name, "dedup") == 0) {
		snprintf(buf, len, "%u SPSC ring%s to the main lcore, in arrival order",
			 w, w == 1 ? "" : "s");
	} else if (strcmp(from->name, "aggregate") == 0) {
		snprintf(buf, len, "%u SPSC ring%s to the main lcore, merged by watermark",
			 w, w == 1 ? "" : "s");
	} else {
		snprintf(buf, len, "forward, same lcore");
	}
}

/* Polling lcores in order, after the main lcore: RX first, then workers. */
static unsigned int
busy_lcores(const struct sl_plan *p)
{
	return p->lcores.run_to_completion ? 1u : rx_lcores(p) + p->lcores.workers;
}

static void
lcore_role(const struct sl_plan *p, unsigned int lcore, char *buf, size_t len)
{
	if (lcore == 0)
		snprintf(buf, len, "main");
	else if (p->lcores.run_to_completion)
		snprintf(buf, len, "rx+worker 0");
	else if (lcore - 1 < rx_lcores(p))
		snprintf(buf, len, "rx %u", lcore - 1);
	else
		snprintf(buf, len, "worker %u", lcore - 1 - rx_lcores(p));
}

static int
lcore_cpu(unsigned int lcore, const int *cpus, int ncpu)
{
	/* eal.c: "0@cpus[0]", then lcore i + 1 on cpus[i % ncpu]. */
	return lcore == 0 ? cpus[0] : cpus[(lcore - 1) % (unsigned int)ncpu];
}

void
slc_info_text(FILE *f, const struct sl_plan *p, const int *cpus, int ncpu,
	      const char *cpu_source)
{
	static const char *const ohdr[] = { "#", "OPERATOR", "LCORES", "DETAIL" };
	static const char *const ehdr[] = { "FROM", "TO", "HOW" };
	static const char *const khdr[] = { "WORKER", "KEY GROUPS", "COUNT" };
	static const char *const lhdr[] = { "LCORE", "ROLE", "CPU" };
	struct node *n = calloc(SL_PLAN_MAX_FILTERS + SL_PLAN_MAX_SOURCES + 6, sizeof(*n));
	unsigned int nn, busy = busy_lcores(p);
	struct slc_table t;
	char cl[1024];

	if (n == NULL)
		return;
	nn = build_nodes(p, n);
	fprintf(f, "job %s (%s)\n\noperators\n", p->name, p->file);
	slc_table_init(&t, 4);
	slc_table_row(&t, ohdr);
	for (unsigned int i = 0; i < nn; i++) {
		char idx[16];
		const char *row[4] = { idx, n[i].name, n[i].role, n[i].detail };

		snprintf(idx, sizeof(idx), "%u", i);
		slc_table_row(&t, row);
	}
	slc_table_print(f, &t, "  ", NULL);
	slc_table_fini(&t);

	fprintf(f, "\nedges\n");
	slc_table_init(&t, 3);
	slc_table_row(&t, ehdr);
	for (unsigned int i = 0; i + 1 < nn; i++) {
		char how[256];
		const char *row[3] = { n[i].name, n[i + 1].name, how };

		edge_kind(p, &n[i], &n[i + 1], how, sizeof(how));
		slc_table_row(&t, row);
	}
	slc_table_print(f, &t, "  ", NULL);
	slc_table_fini(&t);

	fprintf(f, "\nparallelism\n"
		"  rx lcores          %u\n"
		"  worker lcores      %u\n"
		"  run to completion  %s\n"
		"  max parallelism    %u (key groups)\n",
		rx_lcores(p), p->lcores.workers,
		p->lcores.run_to_completion ? "yes" : "no", p->max_parallelism);

	fprintf(f, "\nkey groups\n");
	slc_table_init(&t, 3);
	slc_table_row(&t, khdr);
	for (unsigned int w = 0; w < p->lcores.workers; w++) {
		uint32_t first, last;
		char c[3][32];
		const char *row[3] = { c[0], c[1], c[2] };

		sl_kg_range(w, p->max_parallelism, p->lcores.workers, &first, &last);
		snprintf(c[0], sizeof(c[0]), "%u", w);
		snprintf(c[1], sizeof(c[1]), "%u-%u", first, last);
		snprintf(c[2], sizeof(c[2]), "%u", last - first + 1);
		slc_table_row(&t, row);
	}
	slc_table_print(f, &t, "  ", NULL);
	slc_table_fini(&t);

	fmt_cpus(cl, sizeof(cl), cpus, ncpu);
	fprintf(f, "\nlcore placement (CPUs %s, from %s)\n", cl, cpu_source);
	slc_table_init(&t, 3);
	slc_table_row(&t, lhdr);
	for (unsigned int l = 0; l <= busy; l++) {
		char c[3][32];
		const char *row[3] = { c[0], c[1], c[2] };

		snprintf(c[0], sizeof(c[0]), "%u", l);
		lcore_role(p, l, c[1], sizeof(c[1]));
		snprintf(c[2], sizeof(c[2]), "%d", lcore_cpu(l, cpus, ncpu));
		slc_table_row(&t, row);
	}
	slc_table_print(f, &t, "  ", NULL);
	slc_table_fini(&t);
	if (busy > (unsigned int)ncpu)
		fprintf(f, "  note: %u polling lcores on %d CPU%s: they share CPUs, idle lcores yield\n",
			busy, ncpu, ncpu == 1 ? "" : "s");
	free(n);
}

json_t *
slc_info_json(const struct sl_plan *p, const int *cpus, int ncpu,
	      const char *cpu_source)
{
	struct node *n = calloc(SL_PLAN_MAX_FILTERS + SL_PLAN_MAX_SOURCES + 6, sizeof(*n));
	json_t *o, *ops, *edges, *kgs, *lcs, *cl;
	unsigned int nn, busy = busy_lcores(p);

	if (n == NULL)
		return NULL;
	nn = build_nodes(p, n);
	ops = json_array();
	edges = json_array();
	for (unsigned int i = 0; i < nn; i++) {
		json_array_append_new(ops, json_pack("{s:s, s:s, s:s}", "name", n[i].name,
						      "lcores", n[i].role, "detail", n[i].detail));
		if (i + 1 < nn) {
			char how[256];

			edge_kind(p, &n[i], &n[i + 1], how, sizeof(how));
			json_array_append_new(edges, json_pack("{s:i, s:i, s:s}", "from", i,
							       "to", i + 1, "how", how));
		}
	}
	kgs = json_array();
	for (unsigned int w = 0; w < p->lcores.workers; w++) {
		uint32_t first, last;

		sl_kg_range(w, p->max_parallelism, p->lcores.workers, &first, &last);
		json_array_append_new(kgs, json_pack("{s:i, s:i, s:i}", "worker", w,
						     "first", first, "last", last));
	}
	lcs = json_array();
	for (unsigned int l = 0; l <= busy; l++) {
		char role[32];

		lcore_role(p, l, role, sizeof(role));
		json_array_append_new(lcs, json_pack("{s:i, s:s, s:i}", "lcore", l, "role",
						     role, "cpu", lcore_cpu(l, cpus, ncpu)));
	}
	cl = json_array();
	for (int i = 0; i < ncpu; i++)
		json_array_append_new(cl, json_integer(cpus[i]));
	o = json_pack("{s:s, s:s, s:o, s:o, s:{s:i, s:i, s:b, s:i}, s:o, s:o, s:o, s:s, s:b}",
		      "job", p->name, "file", p->file, "operators", ops, "edges", edges,
		      "parallelism", "rx", rx_lcores(p), "workers", p->lcores.workers,
		      "runToCompletion", p->lcores.run_to_completion,
		      "maxParallelism", p->max_parallelism,
		      "keyGroups", kgs, "lcores", lcs, "cpus", cl, "cpuSource", cpu_source,
		      "sharedCpus", busy > (unsigned int)ncpu);
	free(n);
	return o;
}

int
slc_cmd_info(const struct slc_opts *o)
{
	struct sl_plan *p = calloc(1, sizeof(*p));
	int cpus[SLC_MAX_CPUS], ncpu, rc;
	char err[SL_PLAN_ERR_MAX];
	const char *src;

	if (p == NULL)
		return SLC_EXIT_CODE_BASE + SL_PROTO_INTERNAL;
	rc = sl_plan_load(o->pos[0], p, err, sizeof(err));
	if (rc != 0) {
		/* The same line the daemon would send with invalid_job. */
		fprintf(stderr, "sluicectl: %s\n", err);
		free(p);
		return SLC_EXIT_CODE_BASE + SL_PROTO_INVALID_JOB;
	}
	ncpu = slc_job_cpus(p, o->cpus, cpus, SLC_MAX_CPUS, &src);
	if (ncpu <= 0) {
		fprintf(stderr, "sluicectl: no CPUs to place lcores on\n");
		sl_plan_free(p);
		free(p);
		return SLC_EXIT_USAGE;
	}
	if (o->json) {
		json_t *j = slc_info_json(p, cpus, ncpu, src);

		slc_print_json(stdout, j);
		json_decref(j);
	} else {
		slc_info_text(stdout, p, cpus, ncpu, src);
	}
	sl_plan_free(p);
	free(p);
	return SLC_EXIT_OK;
}
