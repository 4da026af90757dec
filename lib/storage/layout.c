/* The table of disk layouts and the DISKSPACE/DISKINODES/QUOTATIME parser. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
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

/* No suffix allowed (QUOTATIME); else the shift of 'K' in the result's
 * unit: 0 for 1 KiB blocks, 10 for inode counts (vzctl takes K, M, G, T
 * for both). */
#define NO_SUFFIX (-1)
#define SFX_BLOCKS 0
#define SFX_ITEMS 10

/* One number: digits, an optional fraction ("2.2G" in OpenVZ's samples) and,
 * when suffixes are allowed, K/M/G/T. A bare number is already in the
 * result's unit. Values at or above LONG_MAX and "unlimited" mean no
 * limit (0). */
static int parse_one(const char *s, size_t len, int sfx, uint64_t *out)
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
	if (i < len && s[i] == '.' && sfx != NO_SUFFIX) {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			if (fdiv < 1000000000000ULL) {
				frac = frac * 10 + (unsigned)(s[i] - '0');
				fdiv *= 10;
			}
	}
	unsigned shift = 0;
	if (i < len && sfx != NO_SUFFIX) {
		const char *p = strchr("KkMmGgTt", s[i]);
		if (!p || !s[i])
			return -1;
		shift = (unsigned)(p - "KkMmGgTt") / 2 * 10 + (unsigned)sfx;
		i++;
	} else if (frac) {
		return -1; /* a fraction of a block or an inode */
	}
	if (i != len)
		return -1;
	unsigned __int128 v = (whole << shift) + (frac << shift) / fdiv;
	*out = v >= (unsigned __int128)LONG_MAX ? 0 : (uint64_t)v;
	return 0;
}

/* "soft:hard" or one value for both; reason: why, when it is not the
 * syntax. */
static int split_pair(const char *s, int sfx, uint64_t *soft, uint64_t *hard, const char **reason)
{
	*soft = *hard = 0;
	*reason = NULL;
	if (!s || !*s)
		return 0;
	const char *colon = strchr(s, ':');
	size_t n1 = colon ? (size_t)(colon - s) : strlen(s);
	if (parse_one(s, n1, sfx, soft) < 0 ||
	    parse_one(colon ? colon + 1 : s, colon ? strlen(colon + 1) : n1, sfx, hard) < 0)
		return -1;
	/* 0 is "no limit": a soft limit above a real hard limit makes no sense. */
	if (*hard && *soft > *hard) {
		*reason = "soft limit is greater than hard limit";
		return -1;
	}
	return 0;
}

static int parse_pair(const char *key, const char *s, int sfx, uint64_t *soft, uint64_t *hard,
		      struct nvz_error **err)
{
	const char *reason;
	if (split_pair(s, sfx, soft, hard, &reason) < 0)
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid %s value '%s'%s%s", key, s,
			       reason ? ": " : "", reason ? reason : "");
	return 0;
}

/* One part of a pair as vzctl writes it: the number in the unit, or the
 * word the admin gave for no limit. */
static void format_part(FILE *f, const char *s, size_t len, uint64_t v)
{
	if (len == 9 && !strncmp(s, "unlimited", 9))
		fputs("unlimited", f);
	else
		fprintf(f, "%llu", (unsigned long long)v);
}

char *nvz_disk_option_value(const char *option, const char *text, struct nvz_error **err)
{
	bool quotatime = !strcmp(option, "quotatime");
	int sfx = quotatime ? NO_SUFFIX : !strcmp(option, "diskinodes") ? SFX_ITEMS : SFX_BLOCKS;
	uint64_t soft, hard;
	const char *reason = NULL;
	if (!text || !*text || (quotatime && strchr(text, ':')) ||
	    split_pair(text, sfx, &soft, &hard, &reason) < 0) {
		nvz_err(err, NVZ_E_VALUE, EINVAL, "Bad parameter for --%s: %s%s%s%s", option,
			text ? text : "", reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
		return NULL;
	}
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	if (!f) {
		nvz_err_sys(err, NVZ_E_SYSTEM, errno, "--%s", option);
		return NULL;
	}
	const char *colon = strchr(text, ':');
	size_t n1 = colon ? (size_t)(colon - text) : strlen(text);
	format_part(f, text, n1, soft);
	if (!quotatime) {
		fputc(':', f);
		if (colon)
			format_part(f, colon + 1, strlen(colon + 1), hard);
		else
			format_part(f, text, n1, hard);
	}
	if (fclose(f) != 0) {
		free(out);
		nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "--%s: out of memory", option);
		return NULL;
	}
	return out;
}

int nvz_disk_limits_parse(const char *diskspace, const char *diskinodes, const char *quotatime,
			  struct nvz_disk_limits *out, struct nvz_error **err)
{
	struct nvz_disk_limits l = { 0 };
	uint64_t unused;
	*out = l;
	if (parse_pair("DISKSPACE", diskspace, SFX_BLOCKS, &l.space_soft_kb, &l.space_hard_kb, err) < 0 ||
	    parse_pair("DISKINODES", diskinodes, SFX_ITEMS, &l.inodes_soft, &l.inodes_hard, err) < 0)
		return -1;
	if (quotatime && *quotatime &&
	    (strchr(quotatime, ':') || parse_pair("QUOTATIME", quotatime, NO_SUFFIX, &l.quotatime, &unused, NULL) < 0))
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid QUOTATIME value '%s'", quotatime);
	*out = l;
	return 0;
}
