/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef UDF_PRIVATE_H
#define UDF_PRIVATE_H

/* Shared by the files of operators/udf only. */

#include "sl_udf.h"

const char *udf_param(sluice_setup *s, const char *name);
int udf_param_ms(sluice_setup *s, const char *name, int64_t *ms);
int udf_param_int(sluice_setup *s, const char *name, int64_t *v);
void udf_fail(sluice_setup *s, const char *msg);
int udf_out_field(sluice_setup *s, const char *name, uint32_t type, uint32_t str_len);
int udf_side_output(sluice_setup *s, const char *name);
int udf_value_state(sluice_setup *s, const char *name, uint32_t val_len, int64_t ttl_ms);
int udf_list_state(sluice_setup *s, const char *name, int64_t ttl_ms);
const struct sluice_schema *udf_input_schema(sluice_setup *s, uint32_t input);
int udf_map_state(sluice_setup *s, const char *name, uint32_t ukey_len, int64_t ttl_ms);

#endif /* UDF_PRIVATE_H */
