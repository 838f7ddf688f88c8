/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_UDF_H
#define SL_UDF_H

/**
 * @file
 * The host side of the plugin API (include/sluice/udf.h): loading
 * plugins with the ABI check, setting up a function instance from a job
 * file's parameters, the struct sluice_host handed to functions, and the
 * stateless runner of map, filter and flat_map over a vector. The keyed
 * runtime of process functions is operators/process, over the same
 * struct sluice_ctx. EAL-free.
 *
 * Plugins are "<dir>/<name>.so", opened with dlopen(RTLD_NOW |
 * RTLD_LOCAL); the name "builtin" is the functions compiled into sluice
 * (udf_builtin.c), written against the same header as a plugin.
 *
 * Threads: sl_udf_open/close on the main thread (they change the
 * process's link map); an instance on the thread that runs it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/udf.h"
#include "sl_state.h"
#include "sl_vec.h"

#define SL_UDF_MAX_PARAMS 16
#define SL_UDF_PARAM_MAX 256	/**< bytes of a parameter's value, NUL included */
#define SL_UDF_MAX_STATES 8
#define SL_UDF_MAX_SIDES 4
#define SL_UDF_KEY_MAX 256	/**< key bytes (sl_timer's limit) */
#define SL_UDF_BUILTIN "builtin"

struct sl_timer;

struct sl_udf_param {
	char name[SL_NAME_MAX];
	char value[SL_UDF_PARAM_MAX];
};

/** A loaded plugin. */
struct sl_udf_lib {
	char name[SL_NAME_MAX];
	char path[1024];
	void *dl;		/**< dlopen handle; NULL for the builtins */
	const struct sluice_plugin *pl;
};

/**
 * Open plugin name from dir ("<dir>/<name>.so"; SL_UDF_BUILTIN needs no
 * dir). A plugin built against another ABI version is refused (-EPROTO)
 * before anything else of it runs, with a message naming the file, its
 * version and the expected one. @return 0 or -errno with msg set.
 */
int sl_udf_open(const char *dir, const char *name, struct sl_udf_lib *lib,
		char *msg, size_t msglen);
void sl_udf_close(struct sl_udf_lib *lib);

/**
 * The function fn of lib, which must be of kind (0: any).
 * @return it, or NULL with msg saying which functions there are.
 */
const struct sluice_fn *sl_udf_lookup(const struct sl_udf_lib *lib,
				      const char *fn, uint32_t kind,
				      char *msg, size_t msglen);

/** A state the function declared. */
struct sl_udf_state_decl {
	char name[SL_NAME_MAX];
	enum sl_state_kind kind;
	uint32_t val_len;	/**< value state */
	uint32_t ukey_len;	/**< map state */
	int64_t ttl_ms;
};

/** What an instance is set up from. */
struct sl_udf_conf {
	const struct sluice_fn *fn;
	const struct sl_schema *in;
	int ts_field;			/**< -1: none */
	uint16_t n_keys;
	const int *key_field;
	uint16_t n_params;
	const struct sl_udf_param *params;
	/* co_process: the second input (in is the first), and the output
	 * when the function adds no column (the join's) */
	const struct sl_schema *in2;
	int ts_field2;
	const int *key_field2;		/**< n_keys of them */
	const struct sl_schema *out_default;
};

/** Whether a function of kind keeps keyed state and timers. */
static inline bool
sl_udf_kind_keyed(uint32_t kind)
{
	return kind == SLUICE_FN_PROCESS || kind == SLUICE_FN_CO_PROCESS;
}

/** A function instance, set up. */
struct sl_udf_inst {
	const struct sluice_fn *fn;
	void *self;
	bool set_up;
	bool out_is_in;			/**< no out_field: the input's schema */
	struct sl_schema out;
	uint16_t n_states;
	struct sl_udf_state_decl state[SL_UDF_MAX_STATES];
	uint16_t n_sides;
	char side[SL_UDF_MAX_SIDES][SL_NAME_MAX];
	/* the schemas as the plugin sees them */
	struct sluice_field in_f[SL_SCHEMA_MAX_FIELDS];
	uint32_t in_keys[SL_SCHEMA_MAX_FIELDS];
	struct sluice_schema in_s;
	struct sluice_field in2_f[SL_SCHEMA_MAX_FIELDS];	/* co_process */
	uint32_t in2_keys[SL_SCHEMA_MAX_FIELDS];
	struct sluice_schema in2_s;
	bool has_in2;
	struct sluice_field out_f[SL_SCHEMA_MAX_FIELDS];
	struct sluice_schema out_s;
	int bad_param;			/**< setup: the parameter nobody asked for, or -1 */
	uint8_t scratch[SL_ROW_MAX];	/**< a map's row before it is kept */
	uint64_t errors;		/**< calls that returned < 0 */
};

/**
 * Set up u: run fn's setup with conf's parameters, collect what it
 * declared, then its start with the output schema. A parameter the
 * function did not ask for is refused (a typo would otherwise be
 * silently ignored; u->bad_param says which). @return 0, or -errno with
 * msg (the function's own message when it failed).
 */
int sl_udf_inst_setup(struct sl_udf_inst *u, const struct sl_udf_conf *c,
		      char *msg, size_t msglen);
/** Tear the instance down (the function's teardown). */
void sl_udf_inst_fini(struct sl_udf_inst *u);

/** Where the next output row goes; NULL: no room. */
typedef uint8_t *(*sl_udf_out_fn)(void *arg);
/** A row (input schema) to side output tag. */
typedef void (*sl_udf_side_fn)(void *arg, int tag, const uint8_t *row);

/**
 * A call's context: the opaque sluice_ctx of the header. The keyed
 * fields are set by operators/process; a stateless call has st NULL and
 * every state or timer call returns -ENOTSUP.
 */
struct sluice_ctx {
	struct sl_udf_inst *u;
	struct sl_state *st;
	struct sl_timer *tm;
	const int *sid;			/**< state handles -> sl_state ids */
	struct sl_state_ref ref;	/**< the current key (kg, key, hash) */
	uint32_t key_len;
	int64_t ts, wm, now;
	uint32_t input;			/**< co_process: 1 or 2 in process, else 0 */
	sl_udf_out_fn out;
	sl_udf_side_fn side;
	void *arg;
	uint64_t n_out, n_side;
	int err;			/**< the first state error of the call */
	/** The value state the call read last for this key, in place
	 * (sl_state_value_slot), so its put does not probe again; NULL
	 * whenever ref changes (sl_udf_ctx_key) or the state is cleared. */
	uint8_t *vslot;
	int vslot_id;
};

/** Point c at a key (ref filled and hashed): drops the cached slot. */
static inline void
sl_udf_ctx_key(struct sluice_ctx *c, const struct sl_state_ref *ref)
{
	c->ref = *ref;
	c->err = 0;
	c->vslot = NULL;
}

/** The function table handed to every function. */
extern const struct sluice_host sl_udf_host;

/**
 * Run a map, filter or flat_map instance over v's selected rows in
 * order, writing what it outputs through out(arg). Hot path: no
 * allocation; one indirect call per row.
 * @return rows written.
 */
uint32_t sl_udf_rows(struct sl_udf_inst *u, const struct sl_vec *v,
		     sl_udf_out_fn out, void *arg);

/** The builtin plugin (udf_builtin.c). */
extern const struct sluice_plugin sl_udf_builtin_plugin;

/** Type names as sluice_type and sl_type agree: a compile-time check. */
#define SL_UDF_TYPES_AGREE                                             \
	((int)SLUICE_I64 == (int)SL_T_I64 && (int)SLUICE_U64 == (int)SL_T_U64 && \
	 (int)SLUICE_I32 == (int)SL_T_I32 && (int)SLUICE_U32 == (int)SL_T_U32 && \
	 (int)SLUICE_F64 == (int)SL_T_F64 && (int)SLUICE_BOOL == (int)SL_T_BOOL && \
	 (int)SLUICE_TS == (int)SL_T_TS && (int)SLUICE_STR == (int)SL_T_STR)

#endif /* SL_UDF_H */
