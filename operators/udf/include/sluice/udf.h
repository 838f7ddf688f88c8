/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SLUICE_UDF_H
#define SLUICE_UDF_H

/**
 * @file
 * sluice's plugin API: user-defined map, filter, flat_map, aggregate and
 * keyed process functions in C, built as shared objects and loaded from
 * the directory a job names (docs/udf.md). This is the only header a
 * plugin includes; it includes nothing of sluice's own.
 *
 * A plugin defines one struct sluice_plugin (its functions) and exports
 * it with SLUICE_UDF_PLUGIN(), which also exports the ABI version the
 * plugin was compiled against. The loader reads that version first and
 * refuses a plugin whose version is not its own, before it touches any
 * structure declared here.
 *
 * Everything a function may do beyond computing on its row goes through
 * the struct sluice_host it is given at setup (as Redis modules get their
 * API at load time): its parameters, its output columns, its state, its
 * timers and its output. A function never sees sluice's internals, so
 * state and timers it keeps are checkpointed, restored and rescaled with
 * the job's other state.
 *
 * Threads: a function instance is set up, called and torn down on one
 * thread (a worker lcore); instances on other workers are separate
 * (separate self pointers). A call must not block, sleep or make system
 * calls on the hot path: it runs inside the dataplane's poll loop.
 *
 * Versioning: a change to what a plugin built against this header
 * already uses (a field moved, resized or retyped, a value renumbered)
 * bumps SLUICE_UDF_ABI_VERSION, and the loader refuses plugins of the
 * other version. Additions do not: a new enum sluice_fn_kind value (an
 * older plugin never names it; an older sluice finds no function of a
 * kind it does not know and says so), and functions appended to struct
 * sluice_host (its size field tells a plugin what is there, so a plugin
 * that calls one checks h->size first). struct sluice_fn and the
 * schemas are plugin-built arrays and never grow. docs/udf.md.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ABI this header describes. */
#define SLUICE_UDF_ABI_VERSION 1u

/** Field types; rows are packed little-endian in schema order. */
enum sluice_type {
	SLUICE_I64 = 0,
	SLUICE_U64 = 1,
	SLUICE_I32 = 2,
	SLUICE_U32 = 3,
	SLUICE_F64 = 4,
	SLUICE_BOOL = 5,
	SLUICE_TS = 6,		/**< event time: int64 ms since the epoch */
	SLUICE_STR = 7,		/**< fixed length, NUL-padded */
};

struct sluice_field {
	const char *name;
	uint32_t type;		/**< enum sluice_type */
	uint32_t size;		/**< bytes in the row */
	uint32_t offset;	/**< byte offset in the row (unaligned) */
};

/** A row layout; for the input also its event-time and key fields. */
struct sluice_schema {
	uint32_t n_fields;
	uint32_t row_size;
	const struct sluice_field *fields;
	int32_t ts_field;		/**< event-time field index, -1: none */
	uint32_t n_keys;		/**< key_by fields (0: not keyed) */
	const uint32_t *key_fields;	/**< their indices, in key_by order */
};

enum sluice_fn_kind {
	SLUICE_FN_MAP = 1,	/**< one row in, one row out */
	SLUICE_FN_FILTER = 2,	/**< one row in, kept or dropped */
	SLUICE_FN_FLAT_MAP = 3,	/**< one row in, 0..n rows out */
	SLUICE_FN_AGGREGATE = 4,	/**< an accumulator per key and window */
	SLUICE_FN_PROCESS = 5,	/**< keyed: state, timers, side outputs */
	/**
	 * Keyed, two inputs (Flink's KeyedCoProcessFunction): run as a
	 * join's process: both inputs keyed by the join key share the
	 * function's state and timers per key. Its process hook takes the
	 * rows of either input (h->input(c) says which: Flink's
	 * processElement1/2), on_timer its timers. Its default output is
	 * the join's columns (join_ts, the first input's fields, the
	 * second's); its side outputs take rows of its output schema.
	 */
	SLUICE_FN_CO_PROCESS = 6,
};

enum sluice_time {
	SLUICE_EVENT_TIME = 0,
	SLUICE_PROCESSING_TIME = 1,
};

/** A function instance being set up (opaque). */
typedef struct sluice_setup sluice_setup;
/** One call of a function: its key, time, state and output (opaque). */
typedef struct sluice_ctx sluice_ctx;

/** List element visitor; a nonzero return stops the visit. */
typedef int (*sluice_elem_fn)(void *arg, const void *elem, uint32_t len);
/** Map entry visitor; a nonzero return stops the visit. */
typedef int (*sluice_entry_fn)(void *arg, const void *ukey, const void *val,
			       uint32_t len);

/**
 * What sluice offers a function. Errors are negative errno values.
 * The setup calls are valid only inside sluice_fn.setup; the others only
 * inside a call that was given a sluice_ctx.
 */
struct sluice_host {
	uint32_t abi_version;	/**< SLUICE_UDF_ABI_VERSION of the host */
	uint32_t size;		/**< sizeof(struct sluice_host) of the host */

	/* ---- setup ---------------------------------------------------- */
	/** The job file's parameter name as written, or NULL if absent. */
	const char *(*param)(sluice_setup *s, const char *name);
	/**
	 * Parameter name as a duration ("60s", "250ms", "5m", "1h", a bare
	 * number is ms). @return 0, -ENOENT absent, -EINVAL not a duration.
	 */
	int (*param_ms)(sluice_setup *s, const char *name, int64_t *ms);
	/** Parameter name as a signed integer. Same returns as param_ms. */
	int (*param_int)(sluice_setup *s, const char *name, int64_t *v);
	/**
	 * Say why setup fails; the job is refused with this message at the
	 * operator's place in the job file. Return a negative errno after.
	 */
	void (*fail)(sluice_setup *s, const char *msg);
	/**
	 * Add an output column (map, flat_map, process). A function that
	 * adds none outputs rows of the input schema. str_len is the length
	 * of a SLUICE_STR column, 0 for other types.
	 * @return the column's index, -EEXIST, -E2BIG, -EINVAL.
	 */
	int (*out_field)(sluice_setup *s, const char *name, uint32_t type,
			 uint32_t str_len);
	/**
	 * Declare a side output (process): rows in the input schema that
	 * go to the job's side sink of that name. @return its tag (>= 0).
	 */
	int (*side_output)(sluice_setup *s, const char *name);
	/**
	 * Declare keyed state (process), scoped to the current key. ttl_ms
	 * > 0 expires entries ttl_ms of processing time after their last
	 * write (Flink's OnCreateAndWrite, NeverReturnExpired); 0: no TTL.
	 * Names are unique per function and must stay the same for a
	 * checkpoint to restore. @return the state's handle (>= 0).
	 */
	int (*value_state)(sluice_setup *s, const char *name, uint32_t val_len,
			   int64_t ttl_ms);
	int (*list_state)(sluice_setup *s, const char *name, int64_t ttl_ms);
	int (*map_state)(sluice_setup *s, const char *name, uint32_t ukey_len,
			 int64_t ttl_ms);

	/* ---- calls ---------------------------------------------------- */
	/** The current key's bytes (the key_by fields side by side). */
	const void *(*key)(const sluice_ctx *c, uint32_t *len);
	/** The row's event time, or the firing timer's timestamp. */
	int64_t (*timestamp)(const sluice_ctx *c);
	/** The operator's watermark (INT64_MIN before the first). */
	int64_t (*watermark)(const sluice_ctx *c);
	/** The operator's processing time, ms since the epoch. */
	int64_t (*now)(const sluice_ctx *c);
	/**
	 * Timers of the current key, identified by (key, domain, ts):
	 * registering one that exists does nothing, so timers coalesce.
	 * An event-time timer fires once a watermark >= ts arrives; one at
	 * or below the current watermark fires at the next one.
	 * @return 1 new, 0 already there; 1 deleted, 0 absent; -errno.
	 */
	int (*timer_register)(sluice_ctx *c, uint32_t domain, int64_t ts);
	int (*timer_delete)(sluice_ctx *c, uint32_t domain, int64_t ts);
	/** Value state: @return 1 found (out filled), 0 absent; -errno. */
	int (*value_get)(sluice_ctx *c, int state, void *out);
	int (*value_put)(sluice_ctx *c, int state, const void *val);
	/** Remove the current key's entry of any state (Flink's clear()). */
	int (*state_clear)(sluice_ctx *c, int state);
	int (*list_add)(sluice_ctx *c, int state, const void *elem, uint32_t len);
	/** @return elements visited, -errno. */
	int (*list_get)(sluice_ctx *c, int state, sluice_elem_fn fn, void *arg);
	int (*map_put)(sluice_ctx *c, int state, const void *ukey,
		       const void *val, uint32_t len);
	/** @return the value's length, -ENOENT absent, -errno. */
	int (*map_get)(sluice_ctx *c, int state, const void *ukey, void *out,
		       uint32_t cap);
	/** @return 1 removed, 0 absent, -errno. */
	int (*map_remove)(sluice_ctx *c, int state, const void *ukey);
	/** Entries in a backend-specific order. @return entries, -errno. */
	int (*map_iter)(sluice_ctx *c, int state, sluice_entry_fn fn, void *arg);
	/**
	 * A zeroed row of the output schema to fill before the call
	 * returns; it is emitted as it is then. NULL when there is no room
	 * (a map or flat_map's one vector is full): stop emitting.
	 */
	void *(*emit)(sluice_ctx *c);
	/**
	 * Copy row to side output tag: a row of the input schema (process),
	 * of the output schema (co_process). @return 0, -errno.
	 */
	int (*emit_side)(sluice_ctx *c, int tag, const void *row);

	/* ---- added without an ABI bump: check size first -------------- */
	/**
	 * co_process: which input the row of this process call came from,
	 * 1 (the join's left, Flink's processElement1) or 2 (right,
	 * processElement2); 0 in on_timer and for one-input kinds.
	 */
	uint32_t (*input)(const sluice_ctx *c);
	/**
	 * At setup: the schema of input 1 or 2 (co_process: setup's in is
	 * input 1; key_fields are each input's join key), NULL for another
	 * number or a one-input kind.
	 */
	const struct sluice_schema *(*input_schema)(sluice_setup *s,
						    uint32_t input);
};

/** Whether host h has member m (appended after a plugin was built). */
#define SLUICE_HOST_HAS(h, m)                                             \
	((h)->size >= offsetof(struct sluice_host, m) + sizeof((h)->m))

/**
 * One function. Unused hooks are NULL; which ones a kind needs:
 *  map: map; filter: filter; flat_map: flat_map; process and
 *  co_process: process (and on_timer if it sets timers); aggregate: acc_size, agg_create,
 *  agg_add, agg_result (agg_merge for sessions).
 * setup and teardown are optional for every kind.
 */
struct sluice_fn {
	const char *name;
	uint32_t kind;		/**< enum sluice_fn_kind */
	/**
	 * Set up one instance: read parameters, declare outputs and state,
	 * keep h and anything else in *self. Runs when the job is loaded
	 * (to check it) and again on every worker. @return 0 or -errno
	 * (after h->fail(s, why)).
	 */
	int (*setup)(const struct sluice_host *h, sluice_setup *s,
		     const struct sluice_schema *in, void **self);
	/** The instance's output schema, once known (offsets resolved). */
	void (*start)(void *self, const struct sluice_schema *out);
	void (*teardown)(void *self);

	/** map: fill out (zeroed; or a copy of in without out_field). @return 0, -errno drops the row. */
	int (*map)(void *self, const void *in, void *out);
	/** filter: @return nonzero to keep the row. */
	int (*filter)(void *self, const void *row);
	/** flat_map: emit 0..n rows with h->emit(c). @return 0, -errno. */
	int (*flat_map)(void *self, sluice_ctx *c, const void *row);
	/** process, co_process: one row of the current key. @return 0, -errno. */
	int (*process)(void *self, sluice_ctx *c, const void *row);
	/** process: a timer of the current key fired. @return 0, -errno. */
	int (*on_timer)(void *self, sluice_ctx *c, uint32_t domain, int64_t ts);

	/** aggregate: accumulator bytes, and Flink's AggregateFunction. */
	uint32_t acc_size;
	void (*agg_create)(void *self, void *acc);
	void (*agg_add)(void *self, void *acc, const void *row);
	void (*agg_merge)(void *self, void *acc, const void *other);
	/** The result, one column of the type given by agg_type. */
	void (*agg_result)(void *self, const void *acc, void *out);
	uint32_t agg_type;	/**< enum sluice_type of the result */
};

struct sluice_plugin {
	const char *name;	/**< for messages */
	uint32_t n_fns;
	const struct sluice_fn *fns;
};

/* The two symbols a plugin exports; SLUICE_UDF_PLUGIN() defines them. */
uint32_t sluice_udf_abi_version(void);
const struct sluice_plugin *sluice_udf_plugin(void);

/** Export plugin (a struct sluice_plugin) and this header's ABI version. */
#define SLUICE_UDF_PLUGIN(plugin)                                         \
	__attribute__((visibility("default"))) uint32_t                   \
	sluice_udf_abi_version(void)                                      \
	{                                                                 \
		return SLUICE_UDF_ABI_VERSION;                            \
	}                                                                 \
	__attribute__((visibility("default"))) const struct sluice_plugin * \
	sluice_udf_plugin(void)                                           \
	{                                                                 \
		return &(plugin);                                         \
	}

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_UDF_H */
