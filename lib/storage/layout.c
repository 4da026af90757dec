/* The table of disk layouts and the DISKSPACE/DISKINODES/QUOTATIME parser. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "nvz/storage.h"
#include "storage/layouts.h"

static const struct nvz_layout *const layouts[] = {
	&nvz_layout_simfs,
	&nvz_layout_ploop,
};

int nvz_layout_get(const char *name, const struct nvz_layout **out, struct nvz_error **err)
{
	if (!name || !*name)
		name = "simfs";
	/* "ploop:expanded" (OpenVZ) or "ploop:shared" (nvz): the mode after the
	 * colon is the creator's business, the layout is the part before. */
	size_t len = strcspn(name, ":");
	const char *mode = name[len] ? name + len + 1 : "";
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (strlen(layouts[i]->name) == len && !strncmp(layouts[i]->name, name, len)) {
			if (*mode && strcmp(mode, "shared") && strcmp(mode, "expanded") &&
			    strcmp(mode, "plain") && strcmp(mode, "raw"))
				break;
			*out = layouts[i];
			return 0;
		}
	return nvz_err(err, NVZ_E_VALUE, ENOTSUP,
		       "unsupported VE_LAYOUT '%s' (supported: simfs, ploop, simfs:shared, ploop:shared)", name);
}

/* One number: digits, an optional fraction ("2.2G" in OpenVZ's samples) and,
 * when suffixes are allowed, K/M/G/T. unit: the multiplier of a bare number
 * relative to the result unit, as a shift of the suffixed one (KiB results:
 * a bare number is already KiB). Values at or above LONG_MAX and "unlimited"
 * mean no limit (0). */
static int parse_one(const char *s, size_t len, bool suffixes, uint64_t *out)
{
	if (len == 9 && !strncmp(s, "unlimited", 9)) {
		*out = 0;
		return 0;
	}
	unsigned __int128 whole = 0, frac = 0, fdiv = 1;
	size_t i = 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		if ((whole = whole * 10 + (unsigned)(s[i] - '0')) > (unsigned __int128)UINT64_MAX)
			return -1;
	if (i == 0)
		return -1;
	if (i < len && s[i] == '.' && suffixes) {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			if (fdiv < 1000000000000ULL) {
				frac = frac * 10 + (unsigned)(s[i] - '0');
				fdiv *= 10;
			}
	}
	unsigned shift = 0; /* in KiB: K = 0, M = 10, ... */
	if (i < len && suffixes) {
		const char *p = strchr("KkMmGgTt", s[i]);
		if (!p || !s[i])
			return -1;
		shift = (unsigned)(p - "KkMmGgTt") / 2 * 10;
		i++;
	} else if (frac) {
		return -1; /* a fraction of a 1 KiB block */
	}
	if (i != len)
		return -1;
	unsigned __int128 v = (whole << shift) + (frac << shift) / fdiv;
	*out = v >= (unsigned __int128)LONG_MAX ? 0 : (uint64_t)v;
	return 0;
}

/* "soft:hard" or one value for both. */
static int parse_pair(const char *key, const char *s, bool suffixes, uint64_t *soft, uint64_t *hard,
		      struct nvz_error **err)
{
	*soft = *hard = 0;
	if (!s || !*s)
		return 0;
	const char *colon = strchr(s, ':');
	size_t n1 = colon ? (size_t)(colon - s) : strlen(s);
	if (parse_one(s, n1, suffixes, soft) < 0 ||
	    parse_one(colon ? colon + 1 : s, colon ? strlen(colon + 1) : n1, suffixes, hard) < 0)
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid %s value '%s'", key, s);
	/* 0 is "no limit": a soft limit above a real hard limit makes no sense. */
	if (*hard && *soft > *hard)
		return nvz_err(err, NVZ_E_VALUE, EINVAL,
			       "invalid %s value '%s': soft limit is greater than hard limit", key, s);
	return 0;
}

int nvz_disk_limits_parse(const char *diskspace, const char *diskinodes, const char *quotatime,
			  struct nvz_disk_limits *out, struct nvz_error **err)
{
	struct nvz_disk_limits l = { 0 };
	uint64_t unused;
	*out = l;
	if (parse_pair("DISKSPACE", diskspace, true, &l.space_soft_kb, &l.space_hard_kb, err) < 0 ||
	    parse_pair("DISKINODES", diskinodes, false, &l.inodes_soft, &l.inodes_hard, err) < 0)
		return -1;
	if (quotatime && *quotatime &&
	    (strchr(quotatime, ':') || parse_pair("QUOTATIME", quotatime, false, &l.quotatime, &unused, NULL) < 0))
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid QUOTATIME value '%s'", quotatime);
	*out = l;
	return 0;
}
