/* The NETIF value: parse, format, and --netif_add defaults. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvz/cleanup.h"
#include "nvz/net.h"
#include "nvz/netif.h"

static int bad(struct nvz_error **err, const char *what, const char *v)
{
	return nvz_err(err, NVZ_E_VALUE, EINVAL, "Invalid %s: %s", what, v);
}

/* A name the kernel takes may still hold NETIF's own separators: such a
 * name would be saved as a value that no longer parses (found by fuzzing). */
static int set_name(char dst[16], const char *v, struct nvz_error **err)
{
	if (!nvz_ifname_valid(v) || strpbrk(v, ",;="))
		return bad(err, "interface name", v);
	snprintf(dst, 16, "%s", v);
	return 0;
}

static int set_field(struct nvz_netif *f, const char *key, const char *v, struct nvz_error **err)
{
	struct nvz_addr a;
	if (!strcmp(key, "ifname"))
		return set_name(f->ifname, v, err);
	if (!strcmp(key, "host_ifname"))
		return set_name(f->host_ifname, v, err);
	if (!strcmp(key, "bridge"))
		return *v ? set_name(f->bridge, v, err) : 0;
	if (!strcmp(key, "mac"))
		return (f->has_mac = nvz_mac_parse(v, f->mac, err) == 0) ? 0 : -1;
	if (!strcmp(key, "host_mac"))
		return (f->has_host_mac = nvz_mac_parse(v, f->host_mac, err) == 0) ? 0 : -1;
	if (!strcmp(key, "ip")) {
		if (f->nips >= NVZ_NETIF_IPS || nvz_addr_parse(v, &a, err) < 0)
			return f->nips >= NVZ_NETIF_IPS ? bad(err, "NETIF (too many addresses)", v) : -1;
		snprintf(f->ips[f->nips++], sizeof(f->ips[0]), "%s", v);
		return 0;
	}
	if (!strcmp(key, "gw") || !strcmp(key, "gw6")) {
		if (nvz_addr_parse(v, &a, err) < 0)
			return -1;
		snprintf(!strcmp(key, "gw") ? f->gw : f->gw6, sizeof(f->gw), "%s", v);
		return 0;
	}
	if (!strcmp(key, "mac_filter")) {
		if (strcmp(v, "on") && strcmp(v, "off"))
			return bad(err, "mac_filter (on or off)", v);
		f->mac_filter = !strcmp(v, "on");
		return 0;
	}
	/* Other OpenVZ fields we do not act on are accepted. */
	return 0;
}

int nvz_netif_parse(const char *text, struct nvz_netifs *out, struct nvz_error **err)
{
	memset(out, 0, sizeof(*out));
	cleanup_free char *copy = text ? strdup(text) : NULL;
	char *s1 = NULL;
	for (char *e = copy ? strtok_r(copy, ";", &s1) : NULL; e; e = strtok_r(NULL, ";", &s1)) {
		if (out->n >= NVZ_NETIF_MAX)
			return bad(err, "NETIF (too many interfaces)", text);
		struct nvz_netif *f = &out->v[out->n];
		char *s2 = NULL;
		for (char *kv = strtok_r(e, ",", &s2); kv; kv = strtok_r(NULL, ",", &s2)) {
			char *eq = strchr(kv, '=');
			if (!eq)
				return bad(err, "NETIF field", kv);
			*eq = '\0';
			if (set_field(f, kv, eq + 1, err) < 0)
				return -1;
		}
		if (!*f->ifname)
			return bad(err, "NETIF entry without ifname", text);
		out->n++;
	}
	return 0;
}

char *nvz_netif_format(const struct nvz_netifs *in)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	for (size_t i = 0; i < in->n; i++) {
		const struct nvz_netif *v = &in->v[i];
		char mac[NVZ_MAC_STRLEN], hmac[NVZ_MAC_STRLEN];
		nvz_mac_format(v->mac, mac);
		nvz_mac_format(v->host_mac, hmac);
		fprintf(f, "%sifname=%s", i ? ";" : "", v->ifname);
		if (*v->bridge)
			fprintf(f, ",bridge=%s", v->bridge);
		if (v->has_mac)
			fprintf(f, ",mac=%s", mac);
		if (*v->host_ifname)
			fprintf(f, ",host_ifname=%s", v->host_ifname);
		if (v->has_host_mac)
			fprintf(f, ",host_mac=%s", hmac);
		for (size_t j = 0; j < v->nips; j++)
			fprintf(f, ",ip=%s", v->ips[j]);
		if (*v->gw)
			fprintf(f, ",gw=%s", v->gw);
		if (*v->gw6)
			fprintf(f, ",gw6=%s", v->gw6);
		if (v->mac_filter)
			fprintf(f, ",mac_filter=on");
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

struct nvz_netif *nvz_netif_find(struct nvz_netifs *in, const char *ifname)
{
	for (size_t i = 0; i < in->n; i++)
		if (!strcmp(in->v[i].ifname, ifname))
			return &in->v[i];
	return NULL;
}

/* veth<CTID>.<N>, N the number in the CT's name for it, as vzctl's
 * sscanf("%*[^0-9]%d"): eth0 -> 0, eth01 -> 1, eth1a -> 1, none (or a name
 * starting with a digit) -> 0. */
static int default_host_ifname(struct nvz_netif *f, unsigned long ctid, struct nvz_error **err)
{
	size_t skip = strcspn(f->ifname, "0123456789");
	long num = skip ? strtol(f->ifname + skip, NULL, 10) : 0;
	char name[40];
	snprintf(name, sizeof(name), "veth%lu.%ld", ctid, num);
	return set_name(f->host_ifname, name, err);
}

int nvz_netif_fill_host_names(struct nvz_netifs *in, unsigned long ctid, struct nvz_error **err)
{
	for (size_t i = 0; i < in->n; i++)
		if (!*in->v[i].host_ifname && default_host_ifname(&in->v[i], ctid, err) < 0)
			return nvz_err_wrap(err, "NETIF %s: default host interface name", in->v[i].ifname);
	return 0;
}

int nvz_netif_add_spec(struct nvz_netifs *in, unsigned long ctid, const char *spec,
		       const char *default_bridge, const char *host_seed, struct nvz_error **err)
{
	/* OpenVZ's positional form: ifname[,mac,host_ifname,host_mac,bridge]. */
	char *fields[5] = { NULL };
	cleanup_free char *copy = strdup(spec);
	if (!copy)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	char *p = copy;
	for (int i = 0; i < 5 && p; i++) {
		fields[i] = p;
		p = strchr(p, ',');
		if (p)
			*p++ = '\0';
	}
	if (p)
		return bad(err, "--netif_add value", spec);
	if (nvz_netif_find(in, fields[0]))
		return nvz_err(err, NVZ_E_VALUE, EEXIST, "Interface %s already exists", fields[0]);
	if (in->n >= NVZ_NETIF_MAX)
		return bad(err, "--netif_add (too many interfaces)", spec);
	struct nvz_netif f = { 0 };
	if (set_name(f.ifname, fields[0], err) < 0)
		return -1;
	if (fields[1] && *fields[1] ? set_field(&f, "mac", fields[1], err) < 0 : 0)
		return -1;
	if (fields[2] && *fields[2] ? set_name(f.host_ifname, fields[2], err) < 0 : 0)
		return -1;
	if (fields[3] && *fields[3] ? set_field(&f, "host_mac", fields[3], err) < 0 : 0)
		return -1;
	const char *bridge = fields[4] && *fields[4] ? fields[4] : default_bridge;
	if (bridge && *bridge && set_name(f.bridge, bridge, err) < 0)
		return -1;
	if (!*f.host_ifname && default_host_ifname(&f, ctid, err) < 0)
		return nvz_err_wrap(err, "default host interface name (give one)");
	char hostname_if[40];
	snprintf(hostname_if, sizeof(hostname_if), "host:%s", f.ifname);
	if (!f.has_mac)
		nvz_mac_generate((unsigned)ctid, f.ifname, host_seed, f.mac), f.has_mac = true;
	if (!f.has_host_mac)
		nvz_mac_generate((unsigned)ctid, hostname_if, host_seed, f.host_mac), f.has_host_mac = true;
	in->v[in->n++] = f;
	return 0;
}
