/* vzmigrate's destination argument: a host name, an IPv4 address or an
 * IPv6 address (bare or in brackets), optionally after "user@". ssh wants
 * the IPv6 address bare, rsync's host:path wants it in brackets. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvz/cleanup.h"
#include "nvz/migrate.h"

static bool host_name_ok(const char *h)
{
	/* What a resolver accepts as a name or an IPv4 address; nothing a
	 * shell or ssh would read as something else. */
	if (!*h || *h == '-' || *h == '.' || strlen(h) > 253)
		return false;
	for (const char *c = h; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '-' || *c == '.' || *c == '_'))
			return false;
	return true;
}

static bool user_ok(const char *u, size_t n)
{
	if (!n || *u == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= 'A' && u[i] <= 'Z') ||
		      (u[i] >= '0' && u[i] <= '9') || u[i] == '_' || u[i] == '-' || u[i] == '.'))
			return false;
	return true;
}

int nvz_migrate_parse_dest(const char *dest, struct nvz_migrate_dest *d, struct nvz_error **err)
{
	*d = (struct nvz_migrate_dest){ 0 };
	cleanup_free char *h = NULL;
	const char *at = strrchr(dest, '@');
	const char *host = at ? at + 1 : dest;
	size_t ulen = at ? (size_t)(at - dest) : 4;
	const char *user = at ? dest : "root";
	if (at && !user_ok(dest, ulen))
		goto bad;
	size_t hlen = strlen(host);
	if (hlen > 2 && host[0] == '[' && host[hlen - 1] == ']')
		h = strndup(host + 1, hlen - 2);
	else
		h = strdup(host);
	if (!h)
		return nvz_err(err, NVZ_MIG_USAGE, ENOMEM, "out of memory");
	bool v6 = strchr(h, ':') != NULL;
	struct in6_addr a6;
	if (v6 ? inet_pton(AF_INET6, h, &a6) != 1 : (host[0] == '[' || !host_name_ok(h)))
		goto bad;
	char *s = NULL, *r = NULL;
	if (asprintf(&s, "%.*s@%s", (int)ulen, user, h) < 0)
		s = NULL;
	if (asprintf(&r, v6 ? "%.*s@[%s]" : "%.*s@%s", (int)ulen, user, h) < 0)
		r = NULL;
	if (!s || !r) {
		free(s);
		free(r);
		return nvz_err(err, NVZ_MIG_USAGE, ENOMEM, "out of memory");
	}
	d->ssh = s;
	d->rsync = r;
	return 0;
bad:
	return nvz_err(err, NVZ_MIG_USAGE, EINVAL, "Bad destination address: %s", dest);
}

void nvz_migrate_dest_free(struct nvz_migrate_dest *d)
{
	free(d->ssh);
	free(d->rsync);
	*d = (struct nvz_migrate_dest){ 0 };
}

int nvz_migrate_parse_nodeps(const char *list)
{
	if (!list || !*list)
		return NVZ_MIG_NODEPS_ALL;
	size_t n = strlen(list);
	if (list[0] == ',' || list[n - 1] == ',' || strstr(list, ",,"))
		return -1;
	int flags = 0;
	cleanup_free char *copy = strdup(list);
	char *save = NULL;
	if (!copy)
		return -1;
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (!strcmp(w, "cpu") || !strcmp(w, "cpu_check")) /* cpu_check: OpenVZ's old name */
			flags |= NVZ_MIG_NODEPS_CPU;
		else if (!strcmp(w, "ipv6"))
			flags |= NVZ_MIG_NODEPS_IPV6;
		else if (!strcmp(w, "all"))
			flags |= NVZ_MIG_NODEPS_ALL;
		else
			return -1;
	}
	return flags ? flags : -1;
}
