/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DESIGN: fault injection at stable numbered sites (SQLite's
 * sqlite3FaultSim). The product code asks sl_fault_sim(site) before a
 * step that can fail; unarmed that is one relaxed load of a global that is
 * always zero, so the branch predicts perfectly and costs nothing a
 * benchmark can see. Armed, a site fires once after n hits have passed, so
 * a test can break the third write or the manifest's fsync precisely.
 * Counters are plain: the writer runs on one thread, and tests arm before
 * they start it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sl_ckpt.h"
#include "ckpt_int.h"

atomic_uint sl_fault_armed_;

static struct {
	bool armed;
	unsigned int after;	/* hits still to pass before firing */
	unsigned int fired;
} sites[SL_FAULT__MAX];

static const char *const site_names[SL_FAULT__MAX] = {
	[SL_FAULT_NONE] = "none",
	[SL_FAULT_CKPT_WRITE_SHORT] = "ckpt_write_short",
	[SL_FAULT_CKPT_WRITE_ENOSPC] = "ckpt_write_enospc",
	[SL_FAULT_CKPT_FSYNC_EIO] = "ckpt_fsync_eio",
	[SL_FAULT_CKPT_RENAME] = "ckpt_rename",
	[SL_FAULT_CKPT_TORN] = "ckpt_torn",
	[SL_FAULT_CKPT_DIRSYNC_EIO] = "ckpt_dirsync_eio",
	[SL_FAULT_CKPT_OPEN] = "ckpt_open",
};

const char *
sl_fault_name(enum sl_fault_site site)
{
	if ((unsigned int)site >= SL_FAULT__MAX)
		return "?";
	return site_names[site];
}

static void
recount(void)
{
	unsigned int n = 0;

	for (unsigned int i = 1; i < SL_FAULT__MAX; i++)
		n += sites[i].armed;
	atomic_store_explicit(&sl_fault_armed_, n, memory_order_relaxed);
}

bool
sl_fault_hit_(enum sl_fault_site site)
{
	if ((unsigned int)site >= SL_FAULT__MAX || !sites[site].armed)
		return false;
	if (sites[site].after > 0) {
		sites[site].after--;
		return false;
	}
	sites[site].armed = false;
	sites[site].fired++;
	recount();
	return true;
}

void
sl_fault_arm(enum sl_fault_site site, unsigned int after_n)
{
	if ((unsigned int)site == 0 || (unsigned int)site >= SL_FAULT__MAX)
		return;
	sites[site].armed = true;
	sites[site].after = after_n;
	recount();
}

void
sl_fault_disarm_all(void)
{
	memset(sites, 0, sizeof(sites));
	recount();
}

unsigned int
sl_fault_fired(enum sl_fault_site site)
{
	if ((unsigned int)site >= SL_FAULT__MAX)
		return 0;
	return sites[site].fired;
}

static int
parse_site(const char *s, size_t n)
{
	char *end;
	unsigned long v;

	for (unsigned int i = 1; i < SL_FAULT__MAX; i++)
		if (strlen(site_names[i]) == n && strncasecmp(s, site_names[i], n) == 0)
			return (int)i;
	v = strtoul(s, &end, 10);
	if (end == s + n && n > 0 && v > 0 && v < SL_FAULT__MAX)
		return (int)v;
	return -1;
}

int
sl_fault_arm_from_env(char *err, size_t errlen)
{
	const char *env = getenv("SLUICE_FAULT");
	const char *p = env;

	if (env == NULL || *env == '\0')
		return 0;
	while (*p) {
		const char *colon = strchr(p, ':');
		const char *comma;
		char *end;
		unsigned long n;
		int site;

		if (colon == NULL)
			return ckpt_errf(err, errlen, -EINVAL,
					 "SLUICE_FAULT=%s: expected site:n[,site:n] "
					 "(e.g. ckpt_write_enospc:0)", env);
		site = parse_site(p, (size_t)(colon - p));
		if (site < 0)
			return ckpt_errf(err, errlen, -EINVAL,
					 "SLUICE_FAULT=%s: unknown site '%.*s' "
					 "(names are in sl_ckpt.h enum sl_fault_site)",
					 env, (int)(colon - p), p);
		n = strtoul(colon + 1, &end, 10);
		comma = end;
		if (end == colon + 1 || (*comma != ',' && *comma != '\0'))
			return ckpt_errf(err, errlen, -EINVAL,
					 "SLUICE_FAULT=%s: '%s' needs a hit count after ':'",
					 env, sl_fault_name((enum sl_fault_site)site));
		sl_fault_arm((enum sl_fault_site)site, (unsigned int)n);
		p = *comma == ',' ? comma + 1 : comma;
	}
	return 0;
}
