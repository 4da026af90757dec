/* Which host ids a CT's user namespace maps to (USERNS, USERNS_MAP). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ct/internal.h"

#define IDS_PER_CT 65536ULL
#define DEFAULT_BASE 100000ULL /* above the ids /etc/subuid hands out by default */

/* "HOST:COUNT", digits only. */
static int parse_map(const char *s, struct nvz_idmap *map)
{
	char *end;
	if (!s[0] || !strchr("0123456789", s[0]))
		return -1;
	unsigned long long host = strtoull(s, &end, 10), count;
	if (*end != ':' || !end[1] || !strchr("0123456789", end[1]))
		return -1;
	count = strtoull(end + 1, &end, 10);
	if (*end || host == 0 || count == 0 || host + count > UINT32_MAX)
		return -1;
	map->host = (uint32_t)host;
	map->count = (uint32_t)count;
	return 0;
}

int nvz_ct_idmap(const struct nvz_ct *ct, struct nvz_idmap *map, struct nvz_error **err)
{
	if (strcmp(nvz_ct_get(ct, "USERNS", "no"), "yes") != 0)
		return 0;
	const char *v = nvz_ct_get(ct, "USERNS_MAP", NULL);
	if (v && *v) {
		if (parse_map(v, map) < 0)
			return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid USERNS_MAP '%s'", v);
		return 1;
	}
	/* One 64 Ki block of ids per CTID, so no two CTs share an id. */
	const char *b = nvz_ct_get(ct, "USERNS_BASE", NULL);
	unsigned long long base = b && *b ? strtoull(b, NULL, 10) : DEFAULT_BASE;
	unsigned long long host = base + (unsigned long long)ct->veid * IDS_PER_CT;
	if (base == 0 || host + IDS_PER_CT > UINT32_MAX)
		return nvz_err(err, NVZ_E_VALUE, ERANGE,
			       "CT %s: no default id range (set USERNS_MAP=\"HOST:COUNT\")", ct->id);
	map->host = (uint32_t)host;
	map->count = (uint32_t)IDS_PER_CT;
	return 1;
}
