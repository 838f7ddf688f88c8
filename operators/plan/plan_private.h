/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PLAN_PRIVATE_H
#define PLAN_PRIVATE_H

/*
 * Internal to operators/plan. The YAML text is first turned into a small
 * tree of plan_node (plan_yaml.c) that keeps the 1-based position of every
 * node: libfyaml 0.7 has no start mark for mappings and sequences in its
 * document API, and errors found during validation must point at the node
 * that caused them. The tree is then walked by the section parsers.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_plan.h"

/* Limits that keep hostile input cheap; documented in docs/job-spec.md. */
#define PLAN_MAX_INPUT (1u << 20)	/* bytes of YAML */
#define PLAN_MAX_DEPTH 32		/* nesting of mappings and sequences */
#define PLAN_MAX_ENTRIES 1024		/* pairs or items in one collection */

enum plan_kind {
	PLAN_SCALAR,
	PLAN_MAP,
	PLAN_SEQ,
};

struct plan_node {
	enum plan_kind kind;
	uint32_t line;			/* 1-based */
	uint32_t col;			/* 1-based */
	bool quoted;			/* single- or double-quoted scalar */
	bool exact;			/* scalar text is its source bytes, on one line */
	bool null;			/* empty plain scalar (no value at all) */
	char *text;			/* scalar: NUL-terminated, no inner NUL */
	size_t len;
	uint32_t n;			/* map: pairs; seq: items */
	uint32_t nkid;			/* used slots of kid[] */
	uint32_t cap;			/* allocated slots of kid[] */
	struct plan_node **kid;		/* map: key0, val0, key1, ...; seq: items */
};

/* What every section parser needs: the plan being filled and where to report. */
struct plan_ctx {
	const char *name;		/* file name or the caller's label */
	char *err;
	size_t errlen;
	struct sl_plan *p;
	unsigned int flags;		/* SL_PLAN_NO_PLUGINS */
	bool failed;			/* the first error is kept, later ones dropped */
	const char *section;		/* plan_source's name in messages: NULL = "source" */
};

#define PLAN_SRC_SECTION(c) ((c)->section != NULL ? (c)->section : "source")

/* Worker lcores at most (lcores.workers, a step's parallelism). */
#define PLAN_MAX_WORKERS 64

/* plan_parallel.c: a step's parallelism: taken out of the tree, then
 * checked against the lcores once they are known */
int plan_step_parallelism(struct plan_ctx *c, struct plan_node *seq);
int plan_apply_parallelism(struct plan_ctx *c, const struct plan_node *lcores);

/* plan_yaml.c */
int plan_yaml_parse(struct plan_ctx *c, const char *yaml, size_t len,
		    struct plan_node **root);
void plan_node_free(struct plan_node *n);

/* plan_value.c: errors */
int plan_err_at(struct plan_ctx *c, uint32_t line, uint32_t col,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int plan_err(struct plan_ctx *c, const struct plan_node *n,
	     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Quoted user text in messages: one line, at most 64 bytes shown. */
#define PLAN_SHOW_MAX 72
const char *plan_show(const char *s, char *buf);

/* plan_value.c: node shapes and mappings */
const char *plan_kind_name(const struct plan_node *n);
int plan_expect(struct plan_ctx *c, const struct plan_node *n,
		enum plan_kind kind, const char *what);
struct plan_node *plan_map_get(const struct plan_node *map, const char *key,
			       struct plan_node **keyp);
int plan_check_keys(struct plan_ctx *c, const struct plan_node *map,
		    const char *section, const char *const *allowed);
int plan_require(struct plan_ctx *c, const struct plan_node *map,
		 const char *section, const char *key, struct plan_node **val);

/* plan_value.c: scalars */
int plan_get_int(struct plan_ctx *c, const struct plan_node *n,
		 const char *what, int64_t min, int64_t max, int64_t *out);
int plan_get_bool(struct plan_ctx *c, const struct plan_node *n,
		  const char *what, bool *out);
int plan_get_duration(struct plan_ctx *c, const struct plan_node *n,
		      int64_t *ms);
int plan_parse_duration(const char *s, int64_t *ms);
int plan_parse_memsize(const char *s, uint64_t *bytes);
int plan_get_memsize(struct plan_ctx *c, const struct plan_node *n,
		     const char *what, uint64_t min, uint64_t max,
		     uint64_t *bytes);
int plan_get_str(struct plan_ctx *c, const struct plan_node *n,
		 const char *what, char *buf, size_t size);
int plan_get_field(struct plan_ctx *c, const struct plan_node *n,
		   const char *what, int *idx);
int plan_field_lookup(struct plan_ctx *c, const struct plan_node *at,
		      const char *name, const char *what, int *idx);
const char *plan_type_show(const struct sl_field *f, char *buf, size_t size);
bool plan_name_ok(const char *s);

/* plan_pipeline.c: an expression that does not compile, reported inside it */
struct sl_expr_err;
/* Compile filter v over s and check it is boolean: *out, or an error at v. */
int plan_filter_compile(struct plan_ctx *c, const struct plan_node *v,
			const struct sl_schema *s, struct sl_expr **out);
int plan_expr_err(struct plan_ctx *c, const struct plan_node *v, const char *what,
		  struct sl_expr_err *err);

/* plan_chain.c: stateless steps before key_by and after the keyed stage */
int plan_map_cols(struct plan_ctx *c, const struct plan_node *v,
		  const struct sl_schema *in, char names[][SL_NAME_MAX],
		  char texts[][SL_PLAN_ARG_MAX], uint16_t *n, struct sl_schema *out);
int plan_key_map(struct plan_ctx *c, const struct plan_node *v);
int plan_post_filter(struct plan_ctx *c, const struct plan_node *k,
		     const struct plan_node *v);
int plan_post_map(struct plan_ctx *c, const struct plan_node *k,
		  const struct plan_node *v);
int plan_after_join(struct plan_ctx *c, const struct plan_node *seq);
int plan_stage_out(struct plan_ctx *c, const struct plan_node *k);
int plan_window_out(struct plan_ctx *c, const struct plan_node *k,
		    const struct sl_schema *in, uint16_t n_keys, const int *key_field,
		    uint16_t n_aggs, const struct sl_plan_agg *agg, struct sl_schema *out);

/* plan_pipeline.c: the keyed steps, also for a second keyed stage */
int plan_key_by(struct plan_ctx *c, const struct plan_node *v);
int plan_window(struct plan_ctx *c, const struct plan_node *v);
int plan_aggregate(struct plan_ctx *c, const struct plan_node *v);

/* plan_stage2.c: a second keyed stage over the first one's results */
int plan_second_stage(struct plan_ctx *c, const struct plan_node *seq,
		      uint32_t first);
int plan_stage2_check(struct plan_ctx *c);

/* section parsers */
int plan_schema(struct plan_ctx *c, const struct plan_node *map);
int plan_source(struct plan_ctx *c, const struct plan_node *map);
/* plan_join.c: sources:, and a pipeline's union or join step */
int plan_sources(struct plan_ctx *c, const struct plan_node *map);
int plan_inputs(struct plan_ctx *c, const struct plan_node *seq,
		struct plan_node *rest);
void plan_single_input(struct sl_plan *p);
int plan_pipeline(struct plan_ctx *c, const struct plan_node *seq);

/* plan_udf.c: plugins, user-function steps, side_sink */
int plan_plugins(struct plan_ctx *c, const struct plan_node *v);
int plan_udf_step(struct plan_ctx *c, const struct plan_node *v, uint32_t kind);
int plan_side_sink(struct plan_ctx *c, const struct plan_node *v);
int plan_agg_udf(struct plan_ctx *c, const struct plan_node *v);

/* plan_runtime.c: restart-strategy.*, parallelism.default, lcores.cpus */
int plan_restart(struct plan_ctx *c, const struct plan_node *root);
int plan_parallelism(struct plan_ctx *c, const struct plan_node *root);
int plan_get_cpus(struct plan_ctx *c, const struct plan_node *n);

#endif /* PLAN_PRIVATE_H */
