/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loading plugins. The ABI version is read through the one symbol whose
 * signature never changes (uint32_t (void)) before sluice_udf_plugin()
 * is called, so a plugin built against another header is refused before
 * any of its structures is read with the wrong layout.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sl_udf.h"

_Static_assert(SL_UDF_TYPES_AGREE, "sluice_type and sl_type must agree");

static const char *
kind_name(uint32_t k)
{
	switch (k) {
	case SLUICE_FN_MAP: return "map";
	case SLUICE_FN_FILTER: return "filter";
	case SLUICE_FN_FLAT_MAP: return "flat_map";
	case SLUICE_FN_AGGREGATE: return "aggregate";
	case SLUICE_FN_PROCESS: return "process";
	case SLUICE_FN_CO_PROCESS: return "co_process";
	default: return "unknown";
	}
}

static const char *
article(uint32_t k)
{
	return k == SLUICE_FN_AGGREGATE ? "an" : "a";
}

static bool
name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) >= SL_NAME_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

int
sl_udf_open(const char *dir, const char *name, struct sl_udf_lib *lib,
	    char *msg, size_t msglen)
{
	uint32_t (*abi)(void);
	const struct sluice_plugin *(*get)(void);
	struct stat sb;
	uint32_t v;

	memset(lib, 0, sizeof(*lib));
	if (!name_ok(name)) {
		snprintf(msg, msglen, "plugin name '%s' must be 1-63 letters, digits, '_' or '-'", name);
		return -EINVAL;
	}
	snprintf(lib->name, sizeof(lib->name), "%s", name);
	if (strcmp(name, SL_UDF_BUILTIN) == 0) {
		lib->pl = &sl_udf_builtin_plugin;
		return 0;
	}
	if (dir == NULL || *dir == '\0') {
		snprintf(msg, msglen, "plugin '%s' needs plugins: {dir: DIR} in the job, the directory of %s.so",
			 name, name);
		return -EINVAL;
	}
	if ((size_t)snprintf(lib->path, sizeof(lib->path), "%s/%s.so", dir, name) >= sizeof(lib->path)) {
		snprintf(msg, msglen, "plugin path %s/%s.so is too long", dir, name);
		return -ENAMETOOLONG;
	}
	if (stat(lib->path, &sb) != 0) {
		snprintf(msg, msglen, "plugin %s: %s (plugins.dir is resolved against the working directory)",
			 lib->path, strerror(errno));
		return -ENOENT;
	}
	lib->dl = dlopen(lib->path, RTLD_NOW | RTLD_LOCAL);
	if (lib->dl == NULL) {
		snprintf(msg, msglen, "plugin %s does not load: %s", lib->path, dlerror());
		return -ELIBBAD;
	}
	*(void **)&abi = dlsym(lib->dl, "sluice_udf_abi_version");
	*(void **)&get = dlsym(lib->dl, "sluice_udf_plugin");
	if (abi == NULL || get == NULL) {
		snprintf(msg, msglen, "plugin %s is not a sluice plugin: it exports no sluice_udf_abi_version/sluice_udf_plugin (define them with SLUICE_UDF_PLUGIN)",
			 lib->path);
		goto refuse;
	}
	v = abi();
	if (v != SLUICE_UDF_ABI_VERSION) {
		snprintf(msg, msglen, "plugin %s was built against UDF ABI version %u, this sluice expects version %u: rebuild it against this sluice's sluice/udf.h",
			 lib->path, v, SLUICE_UDF_ABI_VERSION);
		dlclose(lib->dl);
		lib->dl = NULL;
		return -EPROTO;
	}
	lib->pl = get();
	if (lib->pl == NULL || (lib->pl->n_fns > 0 && lib->pl->fns == NULL)) {
		snprintf(msg, msglen, "plugin %s: sluice_udf_plugin() gives no function table", lib->path);
		goto refuse;
	}
	return 0;
refuse:
	dlclose(lib->dl);
	lib->dl = NULL;
	lib->pl = NULL;
	return -ELIBBAD;
}

void
sl_udf_close(struct sl_udf_lib *lib)
{
	if (lib->dl != NULL)
		dlclose(lib->dl);
	lib->dl = NULL;
	lib->pl = NULL;
}

const struct sluice_fn *
sl_udf_lookup(const struct sl_udf_lib *lib, const char *fn, uint32_t kind,
	      char *msg, size_t msglen)
{
	size_t at = 0;

	for (uint32_t i = 0; i < lib->pl->n_fns; i++) {
		const struct sluice_fn *f = &lib->pl->fns[i];

		if (f->name == NULL || strcmp(f->name, fn) != 0)
			continue;
		if (kind != 0 && f->kind != kind) {
			snprintf(msg, msglen, "function '%s' of plugin '%s' is %s %s function, not %s %s function",
				 fn, lib->name, article(f->kind), kind_name(f->kind),
				 article(kind), kind_name(kind));
			return NULL;
		}
		return f;
	}
	at = (size_t)snprintf(msg, msglen, "plugin '%s' has no function '%s'; it has:", lib->name, fn);
	for (uint32_t i = 0; i < lib->pl->n_fns && at < msglen; i++)
		at += (size_t)snprintf(msg + at, msglen - at, "%s %s (%s)", i ? "," : "",
				       lib->pl->fns[i].name ? lib->pl->fns[i].name : "?",
				       kind_name(lib->pl->fns[i].kind));
	if (lib->pl->n_fns == 0 && at < msglen)
		snprintf(msg + at, msglen - at, " none");
	return NULL;
}
