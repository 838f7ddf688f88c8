/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced.yaml. Keys are Flink-style dotted names; they may be written
 * flat (`control.socket: ...`) or nested (`control: {socket: ...}`), as in
 * Flink's config.yaml, so the file is read into a flat list of
 * (dotted key, value, positions) first and checked against one table.
 * Unknown keys and a key given twice (in either spelling) are errors with
 * file:line:col, as in job files.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "sld.h"

#define CFG_MAX_INPUT (1u << 20)
#define CFG_MAX_ENTRIES 128
#define CFG_MAX_DEPTH 8

struct cfg_ent {
	char key[256];
	char *val;		/* NULL: a mapping (a prefix of other keys) */
	unsigned int kline, kcol, vline, vcol;
};

struct cfg_ctx {
	const char *name;
	char *err;
	size_t errlen;
	bool failed;
	struct fy_parser *fyp;
	struct fy_diag *diag;
	unsigned int line, col;
	struct cfg_ent ent[CFG_MAX_ENTRIES];
	unsigned int n;
};

static int
cfg_err(struct cfg_ctx *c, unsigned int line, unsigned int col,
	const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->failed)
		return -EINVAL;
	c->failed = true;
	if (c->err == NULL || c->errlen == 0)
		return -EINVAL;
	n = snprintf(c->err, c->errlen, "%s:%u:%u: ", c->name, line, col);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < c->errlen)
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	for (char *s = c->err; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
	return -EINVAL;
}

static void
cfg_mark(struct cfg_ctx *c, struct fy_event *ev)
{
	const struct fy_mark *m = fy_event_start_mark(ev);

	if (m != NULL && m->line >= 0 && m->column >= 0) {
		c->line = (unsigned int)m->line + 1;
		c->col = (unsigned int)m->column + 1;
	}
}

static void
cfg_diag_out(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	(void)user;
	(void)buf;
	(void)len;
}

static int
cfg_next(struct cfg_ctx *c, struct fy_event **ev)
{
	struct fy_diag_error *de;
	void *it = NULL;

	*ev = fy_parser_parse(c->fyp);
	if (*ev != NULL) {
		cfg_mark(c, *ev);
		return 0;
	}
	while ((de = fy_diag_errors_iterate(c->diag, &it)) != NULL)
		if (de->type >= FYET_ERROR && de->msg != NULL)
			return cfg_err(c, de->line > 0 ? (unsigned int)de->line : c->line,
				       de->column > 0 ? (unsigned int)de->column : c->col,
				       "invalid YAML: %s", de->msg);
	return cfg_err(c, c->line, c->col, "invalid YAML: unexpected end of input");
}

static const char *
cfg_scalar(struct fy_event *ev, size_t *len)
{
	const char *s = fy_token_get_text(ev->scalar.value, len);

	return s != NULL ? s : "";
}

static int
cfg_add(struct cfg_ctx *c, const char *key, const char *val, size_t vlen,
	unsigned int kline, unsigned int kcol)
{
	struct cfg_ent *e;

	for (unsigned int i = 0; i < c->n; i++)
		if (strcmp(c->ent[i].key, key) == 0)
			return cfg_err(c, kline, kcol, "duplicate key '%s'", key);
	if (c->n == CFG_MAX_ENTRIES)
		return cfg_err(c, kline, kcol, "more than %d keys", CFG_MAX_ENTRIES);
	e = &c->ent[c->n++];
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->kline = kline;
	e->kcol = kcol;
	e->vline = c->line;
	e->vcol = c->col;
	if (val != NULL) {
		e->val = strndup(val, vlen);
		if (e->val == NULL)
			return cfg_err(c, kline, kcol, "out of memory");
	}
	return 0;
}

static int
cfg_map(struct cfg_ctx *c, const char *prefix, int depth)
{
	for (;;) {
		struct fy_event *ev;
		char key[256];
		unsigned int kl, kc;
		const char *t;
		size_t len;
		int rc;

		if (cfg_next(c, &ev) < 0)
			return -EINVAL;
		if (ev->type == FYET_MAPPING_END) {
			fy_parser_event_free(c->fyp, ev);
			return 0;
		}
		if (ev->type != FYET_SCALAR) {
			fy_parser_event_free(c->fyp, ev);
			return cfg_err(c, c->line, c->col, "mapping keys must be scalars");
		}
		t = cfg_scalar(ev, &len);
		kl = c->line;
		kc = c->col;
		if (len == 0 || strlen(prefix) + len + 2 > sizeof(key)) {
			fy_parser_event_free(c->fyp, ev);
			return cfg_err(c, kl, kc, "invalid key");
		}
		snprintf(key, sizeof(key), "%s%s%.*s", prefix, *prefix ? "." : "",
			 (int)len, t);
		fy_parser_event_free(c->fyp, ev);

		if (cfg_next(c, &ev) < 0)
			return -EINVAL;
		switch (ev->type) {
		case FYET_SCALAR:
			t = cfg_scalar(ev, &len);
			rc = cfg_add(c, key, t, len, kl, kc);
			fy_parser_event_free(c->fyp, ev);
			break;
		case FYET_MAPPING_START:
			fy_parser_event_free(c->fyp, ev);
			if (depth >= CFG_MAX_DEPTH)
				return cfg_err(c, kl, kc, "nesting deeper than %d levels",
					       CFG_MAX_DEPTH);
			rc = cfg_add(c, key, NULL, 0, kl, kc);
			if (rc == 0)
				rc = cfg_map(c, key, depth + 1);
			break;
		default:
			fy_parser_event_free(c->fyp, ev);
			rc = cfg_err(c, c->line, c->col,
				     "expected a scalar or a mapping for '%s'", key);
			break;
		}
		if (rc < 0)
			return rc;
	}
}

static int
cfg_stream(struct cfg_ctx *c)
{
	struct fy_event *ev;
	bool doc = false;

	for (;;) {
		if (cfg_next(c, &ev) < 0)
			return -EINVAL;
		switch (ev->type) {
		case FYET_STREAM_END:
			fy_parser_event_free(c->fyp, ev);
			return 0;
		case FYET_DOCUMENT_START:
			if (doc) {
				fy_parser_event_free(c->fyp, ev);
				return cfg_err(c, c->line, c->col,
					       "only one YAML document is allowed");
			}
			doc = true;
			break;
		case FYET_MAPPING_START:
			fy_parser_event_free(c->fyp, ev);
			if (cfg_map(c, "", 0) < 0)
				return -EINVAL;
			continue;
		case FYET_SCALAR:
			/* An empty file is a document with one empty scalar. */
			if (ev->scalar.value != NULL &&
			    fy_token_get_text0(ev->scalar.value) != NULL &&
			    fy_token_get_text0(ev->scalar.value)[0] != '\0') {
				fy_parser_event_free(c->fyp, ev);
				return cfg_err(c, c->line, c->col,
					       "expected a mapping at the top level");
			}
			break;
		case FYET_SEQUENCE_START:
		case FYET_ALIAS:
			fy_parser_event_free(c->fyp, ev);
			return cfg_err(c, c->line, c->col,
				       "expected a mapping at the top level");
		default:
			break;
		}
		fy_parser_event_free(c->fyp, ev);
	}
}

static int
cfg_int(struct cfg_ctx *c, const struct cfg_ent *e, long long min,
	long long max, long long *out)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)e->val[0]))
		return cfg_err(c, e->vline, e->vcol, "expected an integer for '%s', got '%s'",
			       e->key, e->val);
	errno = 0;
	v = strtoll(e->val, &end, 10);
	if (*end != '\0')
		return cfg_err(c, e->vline, e->vcol, "expected an integer for '%s', got '%s'",
			       e->key, e->val);
	if (errno == ERANGE || v < min || v > max)
		return cfg_err(c, e->vline, e->vcol, "%s must be %lld..%lld, got %s",
			       e->key, min, max, e->val);
	*out = v;
	return 0;
}

/* Same duration syntax as job files: an integer and ms, s, m, h or d. */
static int
cfg_duration(struct cfg_ctx *c, const struct cfg_ent *e, int64_t min,
	     int64_t *ms)
{
	static const struct {
		const char *u;
		int64_t ms;
	} units[] = { { "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		      { "h", 3600000 }, { "d", 86400000 } };
	const char *s = e->val;
	int64_t v = 0;

	if (!isdigit((unsigned char)*s))
		goto bad;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > 1000000000000LL)
			goto bad;
		v = v * 10 + (*s - '0');
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s, units[i].u) != 0)
			continue;
		if (v > INT64_MAX / units[i].ms / 2)
			goto bad;
		*ms = v * units[i].ms;
		if (*ms < min)
			return cfg_err(c, e->vline, e->vcol,
				       "%s must be at least %lldms, got %s", e->key,
				       (long long)min, e->val);
		return 0;
	}
bad:
	return cfg_err(c, e->vline, e->vcol,
		       "expected a duration like 10s or 250ms for '%s', got '%s'",
		       e->key, e->val);
}

static int
cfg_str(struct cfg_ctx *c, const struct cfg_ent *e, char *buf, size_t size)
{
	if (e->val[0] == '\0')
		return cfg_err(c, e->vline, e->vcol, "expected a non-empty string for '%s'",
			       e->key);
	if (strlen(e->val) >= size)
		return cfg_err(c, e->vline, e->vcol, "'%s' is longer than %zu bytes",
			       e->key, size - 1);
	memcpy(buf, e->val, strlen(e->val) + 1);
	return 0;
}

static const char *const cfg_keys[] = {
	"control.socket", "control.group", "control.shutdown-timeout",
	"state.dir", "metrics.prometheus.port",
	"restart-strategy.type",
	"restart-strategy.fixed-delay.attempts",
	"restart-strategy.fixed-delay.delay",
	"restart-strategy.exponential-delay.initial-backoff",
	"restart-strategy.exponential-delay.max-backoff",
	"restart-strategy.exponential-delay.backoff-multiplier",
	"restart-strategy.exponential-delay.attempts", NULL,
};

static int
cfg_apply(struct cfg_ctx *c, struct sld_config *cfg)
{
	struct sl_plan_restart *r = &cfg->restart;
	const struct cfg_ent *max_e = NULL;
	long long v;

	for (unsigned int i = 0; i < c->n; i++) {
		const struct cfg_ent *e = &c->ent[i];
		bool known = false, prefix = false;
		size_t kl = strlen(e->key);

		for (int k = 0; cfg_keys[k] != NULL; k++) {
			if (strcmp(cfg_keys[k], e->key) == 0)
				known = true;
			else if (strncmp(cfg_keys[k], e->key, kl) == 0 &&
				 cfg_keys[k][kl] == '.')
				prefix = true;
		}
		if (e->val == NULL ? !prefix : !known)
			return cfg_err(c, e->kline, e->kcol,
				       "unknown key '%s'; expected one of: control.socket, control.group, control.shutdown-timeout, state.dir, metrics.prometheus.port, restart-strategy.*",
				       e->key);
		if (e->val == NULL)
			continue;
		if (strcmp(e->key, "control.socket") == 0) {
			if (cfg_str(c, e, cfg->socket, sizeof(cfg->socket)) < 0)
				return -EINVAL;
		} else if (strcmp(e->key, "control.group") == 0) {
			if (cfg_str(c, e, cfg->group, sizeof(cfg->group)) < 0)
				return -EINVAL;
		} else if (strcmp(e->key, "control.shutdown-timeout") == 0) {
			if (cfg_duration(c, e, 0, &cfg->shutdown_timeout_ms) < 0)
				return -EINVAL;
		} else if (strcmp(e->key, "state.dir") == 0) {
			if (cfg_str(c, e, cfg->state_dir, sizeof(cfg->state_dir)) < 0)
				return -EINVAL;
		} else if (strcmp(e->key, "metrics.prometheus.port") == 0) {
			if (cfg_int(c, e, 1, 65535, &v) < 0)
				return -EINVAL;
			cfg->prometheus_port = (int)v;
		} else if (strcmp(e->key, "restart-strategy.type") == 0) {
			if (strcmp(e->val, "none") == 0)
				r->type = SL_RESTART_NONE;
			else if (strcmp(e->val, "fixed-delay") == 0)
				r->type = SL_RESTART_FIXED_DELAY;
			else if (strcmp(e->val, "exponential-delay") == 0)
				r->type = SL_RESTART_EXPONENTIAL_DELAY;
			else
				return cfg_err(c, e->vline, e->vcol,
					       "unknown restart-strategy.type '%s'; expected one of: none, fixed-delay, exponential-delay",
					       e->val);
		} else if (strcmp(e->key, "restart-strategy.fixed-delay.attempts") == 0) {
			if (cfg_int(c, e, 0, 1000000, &v) < 0)
				return -EINVAL;
			r->fixed_attempts = (uint32_t)v;
		} else if (strcmp(e->key, "restart-strategy.fixed-delay.delay") == 0) {
			if (cfg_duration(c, e, 0, &r->fixed_delay_ms) < 0)
				return -EINVAL;
		} else if (strcmp(e->key, "restart-strategy.exponential-delay.initial-backoff") == 0) {
			if (cfg_duration(c, e, 1, &r->exp_initial_ms) < 0)
				return -EINVAL;
		} else if (strcmp(e->key, "restart-strategy.exponential-delay.max-backoff") == 0) {
			if (cfg_duration(c, e, 1, &r->exp_max_ms) < 0)
				return -EINVAL;
			max_e = e;
		} else if (strcmp(e->key, "restart-strategy.exponential-delay.backoff-multiplier") == 0) {
			char *end;
			double d;

			errno = 0;
			d = strtod(e->val, &end);
			if (!isdigit((unsigned char)e->val[0]) || *end != '\0' ||
			    !isfinite(d))
				return cfg_err(c, e->vline, e->vcol,
					       "expected a number for '%s', got '%s'",
					       e->key, e->val);
			if (!(d > 1.0) || d > 1000.0)
				return cfg_err(c, e->vline, e->vcol,
					       "%s must be > 1 and <= 1000, got %s",
					       e->key, e->val);
			r->exp_multiplier = d;
		} else if (strcmp(e->key, "restart-strategy.exponential-delay.attempts") == 0) {
			if (cfg_int(c, e, 0, 1000000, &v) < 0)
				return -EINVAL;
			r->exp_attempts = (uint32_t)v;
		}
	}
	if (r->exp_max_ms < r->exp_initial_ms)
		return cfg_err(c, max_e ? max_e->vline : 1, max_e ? max_e->vcol : 1,
			       "restart-strategy.exponential-delay.max-backoff (%lldms) must be >= initial-backoff (%lldms)",
			       (long long)r->exp_max_ms, (long long)r->exp_initial_ms);
	return 0;
}

void
sld_config_defaults(struct sld_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->socket, sizeof(c->socket), "%s", SL_PROTO_DEFAULT_SOCKET);
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", SLD_DEFAULT_STATE_DIR);
	c->shutdown_timeout_ms = 10000;
	sl_plan_restart_defaults(&c->restart);
}

int
sld_config_load_str(const char *name, const char *yaml, size_t len,
		    struct sld_config *cfg, char *err, size_t errlen)
{
	struct cfg_ctx *c = calloc(1, sizeof(*c));
	struct fy_parse_cfg pcfg;
	struct fy_diag_cfg dcfg;
	int rc = -ENOMEM;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (c == NULL)
		return -ENOMEM;
	c->name = name;
	c->err = err;
	c->errlen = errlen;
	c->line = c->col = 1;
	if (memchr(yaml, '\0', len) != NULL) {
		rc = cfg_err(c, 1, 1, "NUL byte in the file");
		goto out;
	}
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = cfg_diag_out;
	dcfg.level = FYET_ERROR;
	dcfg.colorize = false;
	c->diag = fy_diag_create(&dcfg);
	if (c->diag == NULL)
		goto out;
	fy_diag_set_collect_errors(c->diag, true);
	memset(&pcfg, 0, sizeof(pcfg));
	pcfg.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG;
	pcfg.diag = c->diag;
	c->fyp = fy_parser_create(&pcfg);
	if (c->fyp == NULL)
		goto out;
	if (fy_parser_set_string(c->fyp, len ? yaml : "", len) != 0)
		goto out;
	rc = cfg_stream(c);
	if (rc == 0)
		rc = cfg_apply(c, cfg);
out:
	if (c->fyp != NULL)
		fy_parser_destroy(c->fyp);
	if (c->diag != NULL)
		fy_diag_destroy(c->diag);
	for (unsigned int i = 0; i < c->n; i++)
		free(c->ent[i].val);
	free(c);
	return rc;
}

int
sld_config_load(const char *path, struct sld_config *cfg, char *err,
		size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	int rc;

	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	buf = malloc(CFG_MAX_INPUT + 1);
	if (buf == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, CFG_MAX_INPUT + 1, f);
	fclose(f);
	if (n > CFG_MAX_INPUT) {
		snprintf(err, errlen, "%s:1:1: larger than %u bytes", path, CFG_MAX_INPUT);
		rc = -EINVAL;
	} else {
		rc = sld_config_load_str(path, buf, n, cfg, err, errlen);
	}
	free(buf);
	return rc;
}
