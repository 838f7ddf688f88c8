/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Example plugin "rowfns": functions over any schema, built
 * against sluice/udf.h alone (docs/udf.md walks through it).
 *
 *  bits (flat_map), params field: one output row per set bit of an
 *    integer field: the input's columns and bit (u32), lowest bit first;
 *    a row whose field is 0 becomes no row.
 *  bucket (map), params field, width: the input's columns and bucket
 *    (i64) = field rounded down to a multiple of width (a duration when
 *    field is a timestamp, else a number).
 *  modulo (filter), params field, m, r: keeps rows with field % m == r.
 *  range (aggregate), params field: in a window, the largest value of
 *    an integer field minus the smallest (i64), Flink's AggregateFunction
 *    with a {min, max} accumulator; merge (sessions) takes both ends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/udf.h>

struct rowfns {
	const struct sluice_host *h;
	uint32_t in_size;		/* input row bytes, copied first */
	uint32_t off, size;		/* the field */
	int is_signed;
	int64_t width, m, r;
	uint32_t out_off;		/* bit / bucket */
};

static int
find_int_field(const struct sluice_host *h, sluice_setup *s,
	       const struct sluice_schema *in, struct rowfns *f)
{
	const char *name = h->param(s, "field");

	if (name == NULL) {
		h->fail(s, "needs field: the name of an integer field");
		return -EINVAL;
	}
	for (uint32_t i = 0; i < in->n_fields; i++) {
		const struct sluice_field *x = &in->fields[i];

		if (strcmp(x->name, name) != 0)
			continue;
		if (x->type == SLUICE_F64 || x->type == SLUICE_STR || x->type == SLUICE_BOOL) {
			h->fail(s, "field must be an integer or timestamp field");
			return -EINVAL;
		}
		f->off = x->offset;
		f->size = x->size;
		f->is_signed = x->type == SLUICE_I64 || x->type == SLUICE_I32 ||
			       x->type == SLUICE_TS;
		return (int)i;
	}
	h->fail(s, "field is not a column of the input");
	return -EINVAL;
}

static int64_t
load(const struct rowfns *f, const uint8_t *row)
{
	if (f->size == 4) {
		uint32_t u;
		int32_t i;

		memcpy(&u, row + f->off, 4);
		memcpy(&i, row + f->off, 4);
		return f->is_signed ? i : (int64_t)u;
	}
	{
		int64_t v;

		memcpy(&v, row + f->off, 8);
		return v;
	}
}

/* Declare the input's columns again (the output starts with a copy). */
static int
copy_columns(const struct sluice_host *h, sluice_setup *s,
	     const struct sluice_schema *in)
{
	for (uint32_t i = 0; i < in->n_fields; i++) {
		const struct sluice_field *x = &in->fields[i];
		int rc = h->out_field(s, x->name, x->type,
				      x->type == SLUICE_STR ? x->size : 0);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static struct rowfns *
setup_common(const struct sluice_host *h, sluice_setup *s,
	     const struct sluice_schema *in, int *field)
{
	struct rowfns *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->h = h;
	f->in_size = in->row_size;
	*field = find_int_field(h, s, in, f);
	if (*field < 0) {
		free(f);
		return NULL;
	}
	return f;
}

static int
bits_setup(const struct sluice_host *h, sluice_setup *s,
	   const struct sluice_schema *in, void **self)
{
	int field, rc;
	struct rowfns *f = setup_common(h, s, in, &field);

	if (f == NULL)
		return -EINVAL;
	rc = copy_columns(h, s, in);
	if (rc >= 0)
		rc = h->out_field(s, "bit", SLUICE_U32, 0);
	if (rc < 0) {
		h->fail(s, "the input already has a column called bit");
		free(f);
		return rc;
	}
	*self = f;
	return 0;
}

static void
last_column_start(void *self, const struct sluice_schema *out)
{
	struct rowfns *f = self;

	f->out_off = out->fields[out->n_fields - 1].offset;
}

static int
bits_flat_map(void *self, sluice_ctx *c, const void *row)
{
	struct rowfns *f = self;
	uint64_t v = (uint64_t)load(f, row);

	if (f->size == 4)
		v &= 0xffffffffu;
	while (v != 0) {
		uint32_t bit = (uint32_t)__builtin_ctzll(v);
		uint8_t *o = f->h->emit(c);

		if (o == NULL)
			return -ENOBUFS;
		memcpy(o, row, f->in_size);
		memcpy(o + f->out_off, &bit, sizeof(bit));
		v &= v - 1;
	}
	return 0;
}

static int
bucket_setup(const struct sluice_host *h, sluice_setup *s,
	     const struct sluice_schema *in, void **self)
{
	int field, rc;
	struct rowfns *f = setup_common(h, s, in, &field);

	if (f == NULL)
		return -EINVAL;
	rc = in->fields[field].type == SLUICE_TS ? h->param_ms(s, "width", &f->width) :
						   h->param_int(s, "width", &f->width);
	if (rc < 0 || f->width <= 0) {
		h->fail(s, "needs width > 0 (a duration for a timestamp field)");
		free(f);
		return -EINVAL;
	}
	rc = copy_columns(h, s, in);
	if (rc >= 0)
		rc = h->out_field(s, "bucket", SLUICE_I64, 0);
	if (rc < 0) {
		h->fail(s, "the input already has a column called bucket");
		free(f);
		return rc;
	}
	*self = f;
	return 0;
}

static int
bucket_map(void *self, const void *in, void *out)
{
	struct rowfns *f = self;
	int64_t v = load(f, in), b = v / f->width * f->width;

	if (v < 0 && b != v)	/* round down, not toward zero */
		b -= f->width;
	memcpy(out, in, f->in_size);
	memcpy((uint8_t *)out + f->out_off, &b, sizeof(b));
	return 0;
}

static int
modulo_setup(const struct sluice_host *h, sluice_setup *s,
	     const struct sluice_schema *in, void **self)
{
	int field;
	struct rowfns *f = setup_common(h, s, in, &field);

	if (f == NULL)
		return -EINVAL;
	if (h->param_int(s, "m", &f->m) < 0 || f->m <= 0 ||
	    h->param_int(s, "r", &f->r) < 0 || f->r < 0 || f->r >= f->m) {
		h->fail(s, "needs m > 0 and 0 <= r < m");
		free(f);
		return -EINVAL;
	}
	*self = f;
	return 0;
}

static int
modulo_filter(void *self, const void *row)
{
	struct rowfns *f = self;
	int64_t v = load(f, row) % f->m;

	return (v < 0 ? v + f->m : v) == f->r;
}

struct range_acc {
	int64_t min, max;
};

static int
range_setup(const struct sluice_host *h, sluice_setup *s,
	    const struct sluice_schema *in, void **self)
{
	int field;
	struct rowfns *f = setup_common(h, s, in, &field);

	if (f == NULL)
		return -EINVAL;
	*self = f;
	return 0;
}

static void
range_create(void *self, void *acc)
{
	struct range_acc a = { INT64_MAX, INT64_MIN };

	(void)self;
	memcpy(acc, &a, sizeof(a));
}

static void
range_add(void *self, void *acc, const void *row)
{
	struct range_acc a;
	int64_t v = load(self, row);

	memcpy(&a, acc, sizeof(a));
	a.min = v < a.min ? v : a.min;
	a.max = v > a.max ? v : a.max;
	memcpy(acc, &a, sizeof(a));
}

static void
range_merge(void *self, void *acc, const void *other)
{
	struct range_acc a, b;

	(void)self;
	memcpy(&a, acc, sizeof(a));
	memcpy(&b, other, sizeof(b));
	a.min = b.min < a.min ? b.min : a.min;
	a.max = b.max > a.max ? b.max : a.max;
	memcpy(acc, &a, sizeof(a));
}

static void
range_result(void *self, const void *acc, void *out)
{
	struct range_acc a;
	int64_t r;

	(void)self;
	memcpy(&a, acc, sizeof(a));
	r = (int64_t)((uint64_t)a.max - (uint64_t)a.min);
	memcpy(out, &r, sizeof(r));
}

static void
rowfns_teardown(void *self)
{
	free(self);
}

static const struct sluice_fn rowfns_fns[] = {
	{ .name = "bits", .kind = SLUICE_FN_FLAT_MAP, .setup = bits_setup,
	  .start = last_column_start, .teardown = rowfns_teardown,
	  .flat_map = bits_flat_map },
	{ .name = "bucket", .kind = SLUICE_FN_MAP, .setup = bucket_setup,
	  .start = last_column_start, .teardown = rowfns_teardown,
	  .map = bucket_map },
	{ .name = "modulo", .kind = SLUICE_FN_FILTER, .setup = modulo_setup,
	  .teardown = rowfns_teardown, .filter = modulo_filter },
	{ .name = "range", .kind = SLUICE_FN_AGGREGATE, .setup = range_setup,
	  .teardown = rowfns_teardown, .acc_size = sizeof(struct range_acc),
	  .agg_create = range_create, .agg_add = range_add,
	  .agg_merge = range_merge, .agg_result = range_result,
	  .agg_type = SLUICE_I64 },
};

static const struct sluice_plugin rowfns_plugin = {
	.name = "rowfns",
	.n_fns = sizeof(rowfns_fns) / sizeof(rowfns_fns[0]),
	.fns = rowfns_fns,
};

SLUICE_UDF_PLUGIN(rowfns_plugin)
