/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test plugin "abi_next": a plugin as a newer sluice/udf.h would build
 * it, its ABI version one above this one. The loader must refuse it
 * before reading its table (which here is deliberately garbage, so a
 * loader that read it would crash the test). Built only for the tests.
 */
#include <sluice/udf.h>

__attribute__((visibility("default"))) uint32_t
sluice_udf_abi_version(void)
{
	return SLUICE_UDF_ABI_VERSION + 1;
}

__attribute__((visibility("default"))) const struct sluice_plugin *
sluice_udf_plugin(void)
{
	return (const struct sluice_plugin *)(uintptr_t)0x10;
}
