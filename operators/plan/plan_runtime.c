/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The keys that say how a job runs rather than what it computes:
 * restart-strategy.* (read by sluiced, Flink's names and defaults),
 * parallelism.default and lcores.cpus. They live in the job file so a
 * job carries its own placement and recovery policy from machine to
 * machine.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_private.h"

/* Bounds that keep a typo from meaning "restart for a century". */
#define PLAN_MAX_ATTEMPTS 1000000
#define PLAN_MAX_MULTIPLIER 1000.0

void
sl_plan_restart_defaults(struct sl_plan_restart *r)
{
	memset(r, 0, sizeof(*r));
	r->type = SL_RESTART_FIXED_DELAY;
	r->fixed_attempts = 3;
	r->fixed_delay_ms = 1000;
	r->exp_initial_ms = 1000;
	r->exp_max_ms = 60000;
	r->exp_multiplier = 2.0;
	r->exp_attempts = 10;
}

const char *
sl_plan_restart_name(enum sl_restart_type t)
{
	switch (t) {
	case SL_RESTART_NONE:
		return "none";
	case SL_RESTART_FIXED_DELAY:
		return "fixed-delay";
	case SL_RESTART_EXPONENTIAL_DELAY:
		return "exponential-delay";
	}
	return "?";
}

int
sl_plan_cpus_parse(const char *list, uint64_t set[SL_PLAN_CPU_SETSIZE / 64],
		   char *why, size_t whylen)
{
	const char *s = list;

	memset(set, 0, SL_PLAN_CPU_SETSIZE / 8);
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (*s == '\0')
		goto syntax;
	for (;;) {
		unsigned long lo, hi;
		char *end;

		if (!isdigit((unsigned char)*s))
			goto syntax;
		lo = strtoul(s, &end, 10);
		s = end;
		hi = lo;
		if (*s == '-') {
			s++;
			if (!isdigit((unsigned char)*s))
				goto syntax;
			hi = strtoul(s, &end, 10);
			s = end;
		}
		if (lo >= SL_PLAN_CPU_SETSIZE || hi >= SL_PLAN_CPU_SETSIZE) {
			if (why != NULL)
				snprintf(why, whylen, "CPU %lu is out of range 0..%d",
					 lo >= SL_PLAN_CPU_SETSIZE ? lo : hi,
					 SL_PLAN_CPU_SETSIZE - 1);
			return -ERANGE;
		}
		if (hi < lo) {
			if (why != NULL)
				snprintf(why, whylen, "range %lu-%lu is reversed", lo, hi);
			return -EINVAL;
		}
		for (unsigned long cpu = lo; cpu <= hi; cpu++) {
			if (set[cpu / 64] & (1ull << (cpu % 64))) {
				if (why != NULL)
					snprintf(why, whylen, "CPU %lu is listed twice", cpu);
				return -EINVAL;
			}
			set[cpu / 64] |= 1ull << (cpu % 64);
		}
		if (*s == '\0')
			return 0;
		if (*s != ',')
			goto syntax;
		s++;
	}
syntax:
	if (why != NULL)
		snprintf(why, whylen, "expected a CPU list like 1, 0-3 or 0,2-3");
	return -EINVAL;
}

int
plan_get_cpus(struct plan_ctx *c, const struct plan_node *n)
{
	uint64_t set[SL_PLAN_CPU_SETSIZE / 64];
	char why[96], show[PLAN_SHOW_MAX];

	if (plan_expect(c, n, PLAN_SCALAR, "cpus") < 0)
		return -EINVAL;
	if (sl_plan_cpus_parse(n->text, set, why, sizeof(why)) < 0)
		return plan_err(c, n, "invalid lcores.cpus '%s': %s",
				plan_show(n->text, show), why);
	if (n->len >= SL_PLAN_CPUS_MAX)
		return plan_err(c, n, "'cpus' is longer than %d bytes",
				SL_PLAN_CPUS_MAX - 1);
	memcpy(c->p->lcores.cpus, n->text, n->len + 1);
	return 0;
}

static int
plan_get_multiplier(struct plan_ctx *c, const struct plan_node *n,
		    const char *what, double *out)
{
	char show[PLAN_SHOW_MAX];
	char *end;
	double d;

	if (plan_expect(c, n, PLAN_SCALAR, what) < 0)
		return -EINVAL;
	/* Decimal only: strtod alone would accept "inf", "nan" and hex. */
	for (const char *s = n->text; *s; s++)
		if (!isdigit((unsigned char)*s) && *s != '.' && *s != 'e' &&
		    *s != 'E' && *s != '+' && *s != '-')
			goto bad;
	errno = 0;
	d = strtod(n->text, &end);
	if (end == n->text || *end != '\0' || errno == ERANGE || !isfinite(d))
		goto bad;
	if (!(d > 1.0) || d > PLAN_MAX_MULTIPLIER)
		return plan_err(c, n, "%s must be > 1 and <= %g, got %s", what,
				PLAN_MAX_MULTIPLIER, plan_show(n->text, show));
	*out = d;
	return 0;
bad:
	return plan_err(c, n, "expected a number for '%s', got '%s'", what,
			plan_show(n->text, show));
}

/* A key of the other strategy is a mistake, not something to ignore. */
static int
plan_restart_only(struct plan_ctx *c, const struct plan_node *root,
		  const char *prefix, enum sl_restart_type want)
{
	struct sl_plan *p = c->p;
	size_t n = strlen(prefix);

	if (p->restart.type == want)
		return 0;
	for (uint32_t i = 0; i < root->n; i++) {
		const struct plan_node *k = root->kid[2 * i];

		if (strncmp(k->text, prefix, n) == 0)
			return plan_err(c, k, "%s is only valid with restart-strategy.type: %s (the type is %s)",
					k->text, sl_plan_restart_name(want),
					sl_plan_restart_name(p->restart.type));
	}
	return 0;
}

int
plan_restart(struct plan_ctx *c, const struct plan_node *root)
{
	struct sl_plan_restart *r = &c->p->restart;
	char show[PLAN_SHOW_MAX];
	struct plan_node *v;
	int64_t i64;

	sl_plan_restart_defaults(r);
	for (uint32_t i = 0; i < root->n; i++)
		if (strncmp(root->kid[2 * i]->text, "restart-strategy.", 17) == 0)
			r->from_job = true;

	v = plan_map_get(root, "restart-strategy.type", NULL);
	if (v != NULL) {
		if (plan_expect(c, v, PLAN_SCALAR, "restart-strategy.type") < 0)
			return -EINVAL;
		if (strcmp(v->text, "none") == 0)
			r->type = SL_RESTART_NONE;
		else if (strcmp(v->text, "fixed-delay") == 0)
			r->type = SL_RESTART_FIXED_DELAY;
		else if (strcmp(v->text, "exponential-delay") == 0)
			r->type = SL_RESTART_EXPONENTIAL_DELAY;
		else
			return plan_err(c, v, "unknown restart-strategy.type '%s'; expected one of: none, fixed-delay, exponential-delay",
					plan_show(v->text, show));
	}
	if (plan_restart_only(c, root, "restart-strategy.fixed-delay.",
			      SL_RESTART_FIXED_DELAY) < 0 ||
	    plan_restart_only(c, root, "restart-strategy.exponential-delay.",
			      SL_RESTART_EXPONENTIAL_DELAY) < 0)
		return -EINVAL;

	v = plan_map_get(root, "restart-strategy.fixed-delay.attempts", NULL);
	if (v != NULL) {
		if (plan_get_int(c, v, "restart-strategy.fixed-delay.attempts",
				 0, PLAN_MAX_ATTEMPTS, &i64) < 0)
			return -EINVAL;
		r->fixed_attempts = (uint32_t)i64;
	}
	v = plan_map_get(root, "restart-strategy.fixed-delay.delay", NULL);
	if (v != NULL) {
		if (plan_get_duration(c, v, &r->fixed_delay_ms) < 0)
			return -EINVAL;
		if (r->fixed_delay_ms < 0)
			return plan_err(c, v, "restart-strategy.fixed-delay.delay must be >= 0, got %s",
					plan_show(v->text, show));
	}
	v = plan_map_get(root, "restart-strategy.exponential-delay.initial-backoff", NULL);
	if (v != NULL) {
		if (plan_get_duration(c, v, &r->exp_initial_ms) < 0)
			return -EINVAL;
		if (r->exp_initial_ms <= 0)
			return plan_err(c, v, "restart-strategy.exponential-delay.initial-backoff must be > 0, got %s",
					plan_show(v->text, show));
	}
	v = plan_map_get(root, "restart-strategy.exponential-delay.max-backoff", NULL);
	if (v != NULL && plan_get_duration(c, v, &r->exp_max_ms) < 0)
		return -EINVAL;
	if (r->exp_max_ms < r->exp_initial_ms)
		return plan_err(c, v != NULL ? v : root,
				"restart-strategy.exponential-delay.max-backoff (%lldms) must be >= initial-backoff (%lldms)",
				(long long)r->exp_max_ms,
				(long long)r->exp_initial_ms);
	v = plan_map_get(root, "restart-strategy.exponential-delay.backoff-multiplier", NULL);
	if (v != NULL &&
	    plan_get_multiplier(c, v, "restart-strategy.exponential-delay.backoff-multiplier",
				&r->exp_multiplier) < 0)
		return -EINVAL;
	v = plan_map_get(root, "restart-strategy.exponential-delay.attempts", NULL);
	if (v != NULL) {
		if (plan_get_int(c, v, "restart-strategy.exponential-delay.attempts",
				 0, PLAN_MAX_ATTEMPTS, &i64) < 0)
			return -EINVAL;
		r->exp_attempts = (uint32_t)i64;
	}
	return 0;
}

int
plan_parallelism(struct plan_ctx *c, const struct plan_node *root)
{
	struct plan_node *v = plan_map_get(root, "parallelism.default", NULL);
	int64_t i64;

	if (v == NULL)
		return 0;
	if (plan_get_int(c, v, "parallelism.default", 1, 64, &i64) < 0)
		return -EINVAL;
	c->p->parallelism_default = (uint16_t)i64;
	return 0;
}

int
sl_plan_cpus_list(const char *list, int *cpus, int max)
{
	uint64_t set[SL_PLAN_CPU_SETSIZE / 64];
	int n = 0, rc = sl_plan_cpus_parse(list, set, NULL, 0);

	if (rc < 0)
		return rc;
	for (int c = 0; c < SL_PLAN_CPU_SETSIZE && n < max; c++)
		if (set[c / 64] & (1ull << (c % 64)))
			cpus[n++] = c;
	return n;
}
