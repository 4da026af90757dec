/* vzctl set: one row per option, and how its value becomes config. */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvz/cleanup.h"
#include "nvz/net.h"
#include "nvz/netif.h"
#include "nvz/res.h"
#include "nvz/storage.h"
#include "set.h"
#include "vzctl.h"

static const struct set_opt static_opts[] = {
	{ "hostname", "HOSTNAME", K_HOSTNAME, 0 },
	{ "name", "NAME", K_NAME, 0 },
	{ "nameserver", "NAMESERVER", K_DNS, 0 },
	{ "searchdomain", "SEARCHDOMAIN", K_DNS, 0 },
	{ "description", "DESCRIPTION", K_PLAIN, P_WHY },
	{ "onboot", "ONBOOT", K_PLAIN, 0 },
	{ "bootorder", "BOOTORDER", K_PLAIN, 0 },
	{ "disabled", "DISABLED", K_PLAIN, 0 },
	{ "userns", "USERNS", K_PLAIN, P_WHY },
	{ "stop-timeout", "STOP_TIMEOUT", K_PLAIN, P_WHY },
	{ "ostemplate", "OSTEMPLATE", K_PLAIN, P_WHY },
	{ "root", "VE_ROOT", K_PLAIN, P_WHY },
	{ "mount_opts", "MOUNT_OPTS", K_PLAIN, P_WHY },
	{ "private", "VE_PRIVATE", K_PLAIN, P_WHY },
	{ "userpasswd", NULL, K_PASSWD, 0 },
	{ "applyconfig", NULL, K_SAMPLE, 0 },
	{ "ram", "PHYSPAGES", K_RAM, 0 },
	{ "swap", "SWAPPAGES", K_RAM, 0 },
	{ "cpuunits", "CPUUNITS", K_RES, 0 },
	{ "cpulimit", "CPULIMIT", K_RES, 0 },
	{ "cpus", "CPUS", K_RES, 0 },
	{ "cpumask", "CPUMASK", K_RES, 0 },
	{ "nodemask", "NODEMASK", K_RES, 0 },
	{ "iolimit", "IOLIMIT", K_RES, 0 },
	{ "iopslimit", "IOPSLIMIT", K_RES, 0 },
	{ "ioprio", "IOPRIO", K_RES, 0 },
	{ "devnodes", "DEVNODES", K_DEVLIST, 0 },
	{ "devices", "DEVICES", K_DEVLIST, 0 },
	{ "capability", "CAPABILITY", K_CAP, 0 },
	{ "netif_add", "NETIF", K_NETIF, 0 },
	{ "netif_del", "NETIF", K_NETIF, 1 },
	{ "ifname", "NETIF", K_NETIF, 2 },
	{ "mac", "NETIF", K_NETIF, 3 },
	{ "host_ifname", "NETIF", K_NETIF, 4 },
	{ "host_mac", "NETIF", K_NETIF, 5 },
	{ "bridge", "NETIF", K_NETIF, 6 },
	{ "gw", "NETIF", K_NETIF, 7 },
	{ "gw6", "NETIF", K_NETIF, 8 },
	{ "mac_filter", "NETIF", K_NETIF, 11 },
	{ "netdev_add", "NETDEV", K_NETDEV, 0 },
	{ "netdev_del", "NETDEV", K_NETDEV, 1 },
	{ "ipadd", "IP_ADDRESS", K_IP, 0 },
	{ "ip", "IP_ADDRESS", K_IP, 0 },
	{ "ipdel", "IP_ADDRESS", K_IP, 1 },
	{ "diskspace", "DISKSPACE", K_DISK, 0 },
	{ "diskinodes", "DISKINODES", K_DISK, 0 },
	{ "quotatime", "QUOTATIME", K_DISK, 0 },
	{ "diskquota", "DISK_QUOTA", K_DISK, 0 },
	{ "setmode", NULL, K_SETMODE, 0 },
	{ "applyconfig_map", NULL, K_MAP, 0 },
	{ "save", NULL, K_FLAG, 0 },
	{ "reset_ub", NULL, K_FLAG, 0 },
	{ "force", NULL, K_FLAG, 0 },
	/* OpenVZ's, nothing to do here: resizes of a stopped CT's image are
	 * offline anyway; no ARP probe precedes an --ipadd. */
	{ "offline-resize", NULL, K_FLAG, 0 },
	{ "offline", NULL, K_FLAG, 0 },
	{ "skip_arpdetect", NULL, K_FLAG, 0 },
	{ "features", "FEATURES", K_STORED, 0 },
	{ "netfilter", "NETFILTER", K_STORED, 0 },
	{ "iptables", "IPTABLES", K_STORED, 0 },
	{ "vm_overcommit", "VM_OVERCOMMIT", K_STORED, 0 },
	{ "meminfo", "MEMINFO", K_STORED, 0 },
	{ "quotaugidlimit", "QUOTAUGIDLIMIT", K_STORED, 0 },
	{ "avnumproc", "AVNUMPROC", K_STORED, 0 },
};

static const struct {
	const char *option, *reason;
} stored_reasons[] = {
	{ "features", "a CT's network namespace has sit, ipip, gre and bridge devices, and NFS, "
		      "wherever the host's kernel has them" },
	{ "netfilter", "every CT has the whole netfilter (iptables, nftables) of its own network namespace" },
	{ "iptables", "every CT has the whole netfilter (iptables, nftables) of its own network namespace" },
	{ "vm_overcommit", "memory is limited by --ram and --swap (PHYSPAGES, SWAPPAGES); vzmemcheck and "
			   "vzcalc read it for the Alloc limit" },
	{ "meminfo", "/proc/meminfo inside shows the CT's limits through lxcfs (LXCFS_DIR)" },
	{ "quotaugidlimit", "per-user and per-group quotas inside a CT are not available" },
	{ "avnumproc", "it only sized other limits in OpenVZ's vzsplit; --numproc limits processes" },
};

const char *set_stored_reason(const char *option)
{
	for (size_t i = 0; i < sizeof(stored_reasons) / sizeof(stored_reasons[0]); i++)
		if (!strcmp(stored_reasons[i].option, option))
			return stored_reasons[i].reason;
	return "";
}

/* parse_set's getopt table has room for SET_MAX_OPTS: a row more must
 * fail the build, not make every `vzctl set` exit 3 without a word. */
_Static_assert(sizeof(static_opts) / sizeof(static_opts[0]) + UBC_COUNT <= SET_MAX_OPTS,
	       "raise SET_MAX_OPTS");

const struct set_opt *set_opt_table(size_t *n)
{
	static struct set_opt table[sizeof(static_opts) / sizeof(static_opts[0]) + UBC_COUNT];
	size_t ns = sizeof(static_opts) / sizeof(static_opts[0]);
	if (!table[0].option) {
		memcpy(table, static_opts, sizeof(static_opts));
		for (int id = 0; id < UBC_COUNT; id++) {
			const struct nvz_ubc_info *info = nvz_ubc_info(id);
			table[ns + (size_t)id] = (struct set_opt){ info->name, info->key, K_UBC, id };
		}
	}
	*n = ns + UBC_COUNT;
	return table;
}

static int fail(struct nvz_error *err)
{
	return cli_fail(err);
}

/* A refused value: the reason, then vzctl's own last line for it (its
 * parse_opt), which scripts look for. Other statuses say it all. */
static int fail_value(struct nvz_error *err, const char *option, const char *arg)
{
	int status = fail(err);
	return status == NVZ_E_VALUE ? cli_bad_parameter(option, arg, NULL) : status;
}

static int put(struct set_req *r, const char *key, const char *value)
{
	struct nvz_error *err = NULL;
	if (nvz_conf_set(r->changes, key, value, &err) < 0)
		return fail(err);
	return 0;
}

/* One entry of a DEVNODES/DEVICES list into the list cur: it replaces the
 * entry for the same device (the text before its last ':'). */
static char *devlist_with(const char *cur, const char *entry)
{
	size_t idlen = (size_t)(strrchr(entry, ':') - entry);
	cleanup_free char *copy = strdup(cur);
	char *out = NULL, *save = NULL;
	size_t outlen = 0;
	FILE *f = copy ? open_memstream(&out, &outlen) : NULL;
	if (!f)
		return NULL;
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		if (!(!strncmp(t, entry, idlen) && t[idlen] == ':') && strcmp(t, "none"))
			fprintf(f, "%s ", t);
	fprintf(f, "%s", entry);
	fclose(f);
	return out;
}

static int parse_dev_entry(bool devnodes, const char *text)
{
	struct nvz_error *err = NULL;
	struct nvz_dev_rule rule;
	if ((devnodes ? nvz_res_parse_devnode(text, &rule, &err) : nvz_res_parse_device(text, &rule, &err)) >= 0)
		return 0;
	/* A node the host lacks, or a loop device, is a bad value of the
	 * option here (vzctl's parse refused it: 21), not a failure to set
	 * devices (86, a start's). The parser's own words already say
	 * "Bad parameter" for a malformed entry. */
	bool said = err && err->status == NVZ_E_VALUE;
	if (err && err->status == NVZ_E_DEVICES)
		err->status = NVZ_E_VALUE;
	const char *option = devnodes ? "devnodes" : "devices";
	return said ? fail(err) : fail_value(err, option, text);
}

/* DEVNODES/DEVICES accumulate: a new entry for the same device replaces the
 * old one, "none" empties the list. As vzctl, one argument may hold
 * several entries, space separated. */
static int merge_devlist(struct nvz_ct *ct, const struct set_opt *o, const char *arg,
			 struct set_req *r)
{
	bool devnodes = !strcmp(o->key, "DEVNODES");
	/* The base: this set's list, else what the running CT has. */
	cleanup_free char *live = NULL;
	const char *cur = nvz_conf_get(r->changes, o->key);
	if (!cur && (live = nvz_ct_live_value(ct, o->key)))
		cur = live;
	cleanup_free char *list = strdup(cur ? cur : nvz_ct_get(ct, o->key, ""));
	cleanup_free char *args = strdup(arg);
	if (!list || !args)
		return 3;
	char *save = NULL;
	char *t = strtok_r(args, " ", &save);
	if (!t) /* nothing but spaces: the parser's own "Bad parameter" */
		return parse_dev_entry(devnodes, arg);
	for (; t; t = strtok_r(NULL, " ", &save)) {
		int rc = parse_dev_entry(devnodes, t);
		if (rc)
			return rc;
		char *next = !strcmp(t, "none") ? strdup("") : devlist_with(list, t);
		if (!next)
			return 3;
		free(list);
		list = next;
	}
	r->live_devnodes |= devnodes;
	r->live_res = true;
	return put(r, o->key, list);
}

/* vzctl's words for a second --ifname or --bridge in one set. */
static int multiple_use(const char *option, const char *arg)
{
	cleanup_free char *line = NULL;
	if (asprintf(&line, "Multiple use of --%s option not allowed", option) >= 0)
		cli_error_line(line);
	return cli_bad_value(option, arg, NULL);
}

/* The options netif_opt handles, by its op number (the table's rows). */
static const char *const netif_option[] = { "netif_add", "netif_del", "ifname", "mac",   "host_ifname", "host_mac",
					    "bridge",    "gw",        "gw6",    "ipadd", "ipdel",       "mac_filter" };

/* vzctl's last line for a bad value (its parse_opt): status 21. */
static int bad_param(int op, const char *arg)
{
	return cli_bad_value(netif_option[op], arg, NULL);
}

/* NETIF: --netif_add/--netif_del, --ifname selecting an entry that the
 * following --mac --host_ifname --host_mac --bridge --gw --gw6 --ipadd
 * --ipdel change. op: the row's number (see the table). */
static int netif_opt(struct nvz_ct *ct, int op, const char *arg, struct set_req *r)
{
	struct nvz_error *err = NULL;
	struct nvz_netifs all;
	/* The base: this set's list, else what the running CT has. */
	cleanup_free char *live = NULL;
	const char *cur = nvz_conf_get(r->changes, "NETIF");
	if (!cur && (live = nvz_ct_live_netif(ct)))
		cur = live;
	if (nvz_netif_parse(cur ? cur : nvz_ct_get(ct, "NETIF", ""), &all, &err) < 0)
		return fail(err);
	if (op >= 3 && !*r->ifname) {
		if (r->npending == sizeof(r->pending) / sizeof(r->pending[0]))
			return cmd_bad_args("Too many interface options before --ifname: %s", arg);
		r->pending[r->npending++] = (struct netif_pending){ op, arg };
		return 0;
	}
	struct nvz_netif *f = *r->ifname ? nvz_netif_find(&all, r->ifname) : NULL;
	if (op >= 3 && !f) {
		fprintf(stderr, "Invalid usage: veth device %s is not configured, use --netif_add option first\n",
			r->ifname);
		return NVZ_E_VALUE;
	}
	struct nvz_addr a;
	int rc = 0;
	switch (op) {
	case 0: {
		/* As vzctl's parse_netif_cmd: several interfaces, space separated. */
		cleanup_free char *specs = strdup(arg);
		char *save = NULL;
		if (!specs)
			return 3;
		for (char *t = strtok_r(specs, " ", &save); t && rc == 0; t = strtok_r(NULL, " ", &save))
			rc = nvz_netif_add_spec(&all, ct->veid, t, nvz_ct_get(ct, "BRIDGE", ""), ct->ctx->conf_dir,
						&err);
		break;
	}
	case 1:
		for (size_t i = 0; i < all.n; i++)
			if (!strcmp(arg, "all") || !strcmp(all.v[i].ifname, arg))
				all.v[i--] = all.v[--all.n];
		break;
	case 2:
		/* vzctl changes one interface per set. */
		if (*r->ifname)
			return multiple_use("ifname", arg);
		if (!nvz_netif_find(&all, arg)) {
			fprintf(stderr, "Invalid usage: veth device %s is not configured, use --netif_add option first\n",
				arg);
			return NVZ_E_VALUE;
		}
		snprintf(r->ifname, sizeof(r->ifname), "%s", arg);
		for (size_t i = 0; i < r->npending; i++)
			if ((rc = netif_opt(ct, r->pending[i].op, r->pending[i].arg, r)))
				return rc;
		r->npending = 0;
		return 0;
	case 3: rc = nvz_mac_parse(arg, f->mac, &err); f->has_mac = true; break;
	case 5: rc = nvz_mac_parse(arg, f->host_mac, &err); f->has_host_mac = true; break;
	case 4: case 6:
		if (op == 6 && r->bridge_given)
			return multiple_use("bridge", arg);
		r->bridge_given |= op == 6;
		/* NETIF's own separators would save a value that no longer parses. */
		if (!nvz_ifname_valid(arg) || strpbrk(arg, ",;=")) {
			fprintf(stderr, "Invalid interface name: %s\n", arg);
			return bad_param(op, arg);
		}
		snprintf(op == 4 ? f->host_ifname : f->bridge, 16, "%s", arg);
		break;
	case 7: case 8:
		rc = nvz_addr_parse(arg, &a, &err);
		snprintf(op == 7 ? f->gw : f->gw6, sizeof(f->gw), "%s", arg);
		break;
	case 9:
		if ((rc = nvz_addr_parse(arg, &a, &err)) == 0 && f->nips < NVZ_NETIF_IPS)
			snprintf(f->ips[f->nips++], sizeof(f->ips[0]), "%s", arg);
		break;
	case 10:
		for (size_t i = 0; i < f->nips; i++)
			if (!strcmp(arg, "all") || !strcmp(f->ips[i], arg))
				memmove(f->ips[i], f->ips[i + 1], (--f->nips - i) * sizeof(f->ips[0])), i--;
		break;
	case 11:
		if (strcmp(arg, "on") && strcmp(arg, "off"))
			return bad_param(op, arg);
		f->mac_filter = !strcmp(arg, "on");
		break;
	}
	if (rc < 0) {
		int status = fail(err);
		return status == NVZ_E_VALUE ? bad_param(op, arg) : status;
	}
	char *text = nvz_netif_format(&all);
	rc = text ? put(r, "NETIF", text) : 3;
	free(text);
	r->netif = true;
	return rc;
}

/* vzctl's check_netdev: a name starting so is the CT's own kind of device
 * (venet, tun/tap, loopback), never a host device to give: refused. */
static bool reserved_netdev(const char *name)
{
	static const char *const prefix[] = { "venet", "tun", "tap", "lo" };
	for (size_t i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++)
		if (!strncmp(name, prefix[i], strlen(prefix[i])))
			return true;
	return false;
}

/* NETDEV: --netdev_add appends a host interface (once), --netdev_del
 * removes one the list has. The base is the set's pending value, else the
 * config. */
static int merge_netdev(struct nvz_ct *ct, const struct set_opt *o, const char *arg, struct set_req *r)
{
	bool del = o->ubc == 1;
	/* A bad value, 21 (vzctl stored any name but its reserved ones). */
	if (!nvz_ifname_valid(arg)) {
		return cli_bad_value(o->option, arg, "(not an interface name)");
	}
	if (reserved_netdev(arg))
		return cli_bad_parameter(o->option, arg, NULL);
	/* The base: this set's list, else what the running CT holds. */
	cleanup_free char *live = NULL;
	const char *cur = nvz_conf_get(r->changes, "NETDEV");
	if (!cur && (live = nvz_ct_live_netdev(ct)))
		cur = live;
	cleanup_free char *copy = strdup(cur ? cur : nvz_ct_get(ct, "NETDEV", ""));
	cleanup_free char *out = NULL;
	size_t len = 0;
	FILE *f = copy ? open_memstream(&out, &len) : NULL;
	if (!f)
		return 3;
	bool found = false;
	char *save = NULL;
	for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (!strcmp(t, arg)) {
			found = true;
			if (del)
				continue;
		}
		fprintf(f, "%s%s", ftell(f) ? " " : "", t);
	}
	if (!del && !found)
		fprintf(f, "%s%s", ftell(f) ? " " : "", arg);
	fclose(f);
	if (del && !found) {
		return cli_bad_value("netdev_del", arg, "(not in NETDEV)");
	}
	r->netdev = true;
	return put(r, "NETDEV", out);
}

/* Same address, the prefix aside (vzctl's find_ip: "10.0.0.1" is
 * "10.0.0.1/24"); both texts canonical. */
static bool same_ip(const char *a, const char *b)
{
	size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
	return la == lb && !strncmp(a, b, la);
}

/* A growing list of addresses, canonical where they parse. */
struct ip_list {
	char **v;
	size_t n;
};

static int ip_list_add(struct ip_list *l, const char *ip)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -1;
	l->v = v;
	if (!(l->v[l->n] = strdup(ip)))
		return -1;
	l->n++;
	return 0;
}

static void ip_list_free(struct ip_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* IP_ADDRESS: --ipadd appends (an address used by another CT is refused,
 * status 78), --ipdel removes one or "all". As vzctl: one argument may
 * hold several addresses (space or tab separated), each is stored in its
 * canonical form, and 0.0.0.0 / :: are ignored. */
static int merge_ip_list(struct nvz_ct *ct, const struct set_opt *o, const char *arg, struct ip_list *l)
{
	bool del = o->ubc == 1;
	cleanup_free char *args = strdup(arg);
	char *save = NULL;
	for (char *t = args ? strtok_r(args, " \t", &save) : NULL; t; t = strtok_r(NULL, " \t", &save)) {
		struct nvz_error *err = NULL;
		struct nvz_addr a;
		char ip[INET6_ADDRSTRLEN + 5];
		if (del && !strcmp(t, "all")) {
			while (l->n)
				free(l->v[--l->n]);
			continue;
		}
		if (nvz_addr_parse(t, &a, &err) < 0 || nvz_addr_canon(t, ip, sizeof(ip), &err) < 0) {
			nvz_error_free(err);
			return cli_bad_value(o->option, arg, NULL);
		}
		if (nvz_addr_unspecified(&a))
			continue;
		/* --ipdel still takes one, to remove it from a config written by hand. */
		const char *why = del ? NULL : nvz_addr_unusable(&a);
		if (why)
			return cli_bad_value(o->option, arg, why);
		unsigned long owner;
		if (!del && (owner = nvz_ct_ip_owner(ct->ctx, ip, ct->veid))) {
			fprintf(stderr, "IP address %s is already used by CT %lu\n", ip, owner);
			return 78;
		}
		for (size_t i = 0; i < l->n; i++)
			if (same_ip(l->v[i], ip)) {
				free(l->v[i]);
				memmove(&l->v[i], &l->v[i + 1], (--l->n - i) * sizeof(l->v[0]));
				i--;
			}
		if (!del && ip_list_add(l, ip) < 0)
			return 3;
	}
	return args ? 0 : 3;
}

static int merge_ip(struct nvz_ct *ct, const struct set_opt *o, const char *arg, struct set_req *r)
{
	/* The base is what the CT has now if it runs, else the config. */
	const char *cur = nvz_conf_get(r->changes, "IP_ADDRESS");
	cleanup_free char *live = cur ? NULL : nvz_ct_live_ips_asked(ct);
	if (!cur)
		cur = live ? live : nvz_ct_get(ct, "IP_ADDRESS", "");
	struct ip_list l = { 0 };
	cleanup_free char *base = strdup(cur), *out = NULL;
	char *save = NULL;
	int rc = base ? 0 : 3;
	for (char *t = base ? strtok_r(base, " \t", &save) : NULL; t && !rc; t = strtok_r(NULL, " \t", &save)) {
		char ip[INET6_ADDRSTRLEN + 5];
		rc = ip_list_add(&l, nvz_addr_canon(t, ip, sizeof(ip), NULL) == 0 ? ip : t) < 0 ? 3 : 0;
	}
	if (!rc)
		rc = merge_ip_list(ct, o, arg, &l);
	size_t len = 0;
	FILE *f = rc ? NULL : open_memstream(&out, &len);
	if (!rc && !f)
		rc = 3;
	for (size_t i = 0; f && i < l.n; i++)
		fprintf(f, "%s%s", i ? " " : "", l.v[i]);
	if (f)
		fclose(f);
	ip_list_free(&l);
	if (rc)
		return rc;
	r->ips = true;
	return put(r, "IP_ADDRESS", out);
}

static int merge_caps(struct nvz_ct *ct, const char *arg, struct set_req *r)
{
	struct nvz_error *err = NULL;
	const char *cur = nvz_conf_get(r->changes, "CAPABILITY");
	cleanup_free char *merged = nvz_ct_merge_capability(cur ? cur : nvz_ct_get(ct, "CAPABILITY", ""), arg, &err);
	if (!merged)
		return fail_value(err, "capability", arg);
	/* As vzctl: a restart is wanted (or warned about) only when the set
	 * changes what the config gives; the config's own value is written
	 * the same way for the comparison. */
	cleanup_free char *before = nvz_ct_merge_capability(nvz_ct_get(ct, "CAPABILITY", ""), "", NULL);
	bool changed = !before || strcmp(before, merged) != 0;
	r->needs_restart |= changed;
	r->restart_caps |= changed;
	return put(r, "CAPABILITY", merged);
}

static int apply_ubc(const struct set_opt *o, const char *arg, struct set_req *r)
{
	struct nvz_error *err = NULL;
	struct nvz_ubc_value v;
	if (nvz_ubc_parse_option(o->ubc, arg, &v, &err) < 0)
		return fail(err);
	char *s = nvz_ubc_format(&v);
	int rc = s ? put(r, o->key, s) : 3;
	free(s);
	r->live_res = true;
	return rc;
}

static int apply_ram(const struct set_opt *o, const char *arg, struct set_req *r)
{
	struct nvz_error *err = NULL;
	uint64_t pages;
	if (nvz_vswap_pages(o->option, arg, &pages, &err) < 0)
		return fail(err);
	char val[64];
	if (pages == NVZ_UNLIMITED)
		snprintf(val, sizeof(val), "0:unlimited");
	else
		snprintf(val, sizeof(val), "0:%llu", (unsigned long long)pages);
	r->live_res = true;
	return put(r, o->key, val);
}

static char *parse_res(const struct set_opt *o, const char *arg, struct nvz_error **err)
{
	if (!strcmp(o->key, "CPULIMIT"))
		return nvz_res_parse_cpulimit(arg, err);
	if (!strcmp(o->key, "CPUMASK"))
		return nvz_res_parse_cpumask(arg, err);
	if (!strcmp(o->key, "NODEMASK"))
		return nvz_res_parse_nodemask(arg, err);
	if (!strcmp(o->key, "IOLIMIT"))
		return nvz_res_parse_iolimit(arg, err);
	if (!strcmp(o->key, "CPUUNITS"))
		return nvz_res_parse_uint(o->key, arg, 8, 500000, err);
	if (!strcmp(o->key, "IOPRIO"))
		return nvz_res_parse_uint(o->key, arg, 0, 7, err);
	/* The bounds a start reads them with (nvz_res_compute): what set saves
	 * must start. IOPSLIMIT: vzctl's parse_int, CPUS: the largest
	 * CONFIG_NR_CPUS. */
	if (!strcmp(o->key, "CPUS"))
		return nvz_res_parse_uint(o->key, arg, 0, NVZ_CPUS_MAX, err);
	return nvz_res_parse_uint(o->key, arg, 0, INT_MAX, err);
}

/* A value the key table refuses (K_PLAIN, K_STORED, K_NAME): vzctl's "Bad
 * parameter for --OPTION: VALUE" (21), with nvz's reason where vzctl took
 * the value (P_WHY). */
static int plain_refused(const struct set_opt *o, const char *arg, struct nvz_error *err)
{
	/* vzctl's parse() refused a bad --name too (check_name): 21, not the
	 * 131 of a name that cannot be assigned. */
	bool name = o->kind == K_NAME && (err->status == NVZ_E_NAME || err->status == NVZ_E_VALUE);
	if (!name && ((o->kind != K_PLAIN && o->kind != K_STORED) || err->status != NVZ_E_VALUE))
		return fail(err);
	int status = cli_bad_parameter(o->option, arg, o->ubc == P_WHY ? err : NULL);
	nvz_error_free(err);
	return status;
}

/* FEATURES accumulate, as vzctl: NAME:on|off replaces NAME's entry. */
static int merge_features(struct nvz_ct *ct, const char *arg, struct set_req *r)
{
	struct nvz_error *err = NULL;
	if (nvz_conf_validate("FEATURES", arg, &err) < 0) {
		/* vzctl's parse_features: a warning for each entry it did not
		 * know, then its parse_opt's line. */
		nvz_error_free(err);
		cleanup_free char *words = strdup(arg);
		char *save = NULL;
		for (char *t = words ? strtok_r(words, "\t ,", &save) : NULL; t; t = strtok_r(NULL, "\t ,", &save))
			if (nvz_conf_validate("FEATURES", t, NULL) < 0)
				fprintf(stderr, "Warning: Unknown feature: %s\n", t);
		return cli_bad_parameter("features", arg, NULL);
	}
	const char *cur = nvz_conf_get(r->changes, "FEATURES");
	cleanup_free char *out = nvz_features_merge(cur ? cur : nvz_ct_get(ct, "FEATURES", ""), arg, &err);
	if (!out)
		return fail_value(err, "features", arg);
	set_features_nesting(ct, out, r);
	/* OpenVZ's own names change nothing here: said once (K_STORED). */
	for (const char *p = arg; *(p += strspn(p, "\t ,"));) {
		size_t n = strcspn(p, "\t ,");
		if (strncmp(p, "nesting:", 8) && r->nstored < sizeof(r->stored) / sizeof(r->stored[0])) {
			r->stored[r->nstored++] = "features";
			break;
		}
		p += n;
	}
	return put(r, "FEATURES", out);
}

void set_features_nesting(const struct nvz_ct *ct, const char *features, struct set_req *r)
{
	/* nvz's nesting is the CT's seccomp filter, which init has from its
	 * start: a change needs a restart, as a capability's. */
	bool changed = nvz_feature_on(features, "nesting") !=
		       nvz_feature_on(nvz_ct_get(ct, "FEATURES", NULL), "nesting");
	r->needs_restart |= changed;
	r->restart_features |= changed;
}

/* IPTABLES, as vzctl: repeated --iptables in one set add up, the set's
 * list replaces the config's; an unknown module is a bad value. */
static int merge_iptables(const char *arg, struct set_req *r)
{
	struct nvz_error *err = NULL;
	cleanup_free char *list = nvz_iptables_merge(nvz_conf_get(r->changes, "IPTABLES"), arg, &err);
	if (!list)
		return fail_value(err, "iptables", arg);
	return put(r, "IPTABLES", list);
}

static int apply_plain(struct nvz_ct *ct, const struct set_opt *o, const char *arg,
		       struct set_req *r)
{
	struct nvz_error *err = NULL;
	const char *value = arg;
	char *joined = NULL;
	if (o->kind == K_DNS) {
		/* Repeated --nameserver/--searchdomain build one list. */
		const char *prev = nvz_conf_get(r->changes, o->key);
		if (prev && asprintf(&joined, "%s %s", prev, arg) < 0)
			return 3;
		value = joined ? joined : arg;
		r->live_dns = true;
	}
	if (o->kind == K_HOSTNAME)
		r->live_hostname = true;
	int rc = nvz_conf_validate(o->key, value, &err) < 0 ? plain_refused(o, arg, err) : put(r, o->key, value);
	free(joined);
	(void)ct;
	return rc;
}

int set_opt_apply(struct nvz_ct *ct, const struct set_opt *o, const char *arg, struct set_req *r)
{
	switch (o->kind) {
	case K_PLAIN:
	case K_HOSTNAME:
	case K_DNS:
	case K_NAME:
		return apply_plain(ct, o, arg, r);
	case K_PASSWD:
		free(r->userpasswd);
		r->userpasswd = strdup(arg);
		return 0;
	case K_SAMPLE:
		free(r->sample);
		r->sample = strdup(arg);
		return 0;
	case K_UBC:
		return apply_ubc(o, arg, r);
	case K_RAM:
		return apply_ram(o, arg, r);
	case K_RES: {
		struct nvz_error *err = NULL;
		char *v = parse_res(o, arg, &err);
		if (!v)
			return fail(err);
		int rc = put(r, o->key, v);
		free(v);
		r->live_res = true;
		return rc;
	}
	case K_DEVLIST:
		return merge_devlist(ct, o, arg, r);
	case K_CAP:
		return merge_caps(ct, arg, r);
	case K_IP:
		return *r->ifname ? netif_opt(ct, o->ubc ? 10 : 9, arg, r) : merge_ip(ct, o, arg, r);
	case K_NETIF:
		return netif_opt(ct, o->ubc, arg, r);
	case K_NETDEV:
		return merge_netdev(ct, o, arg, r);
	case K_DISK: {
		struct nvz_error *err = NULL;
		if (!strcmp(o->key, "DISK_QUOTA")) {
			if (nvz_conf_validate(o->key, arg, &err) < 0) {
				nvz_error_free(err);
				return cli_bad_parameter(o->option, arg, NULL);
			}
			r->disk = true;
			return put(r, o->key, arg);
		}
		/* Saved as vzctl saves it: "soft:hard" in blocks or inodes. */
		cleanup_free char *v = nvz_disk_option_value(o->option, arg, &err);
		if (!v)
			return fail(err);
		r->disk = true;
		return put(r, o->key, v);
	}
	case K_SETMODE:
		if (!strcmp(arg, "restart"))
			r->restart = true;
		else if (!strcmp(arg, "ignore"))
			r->ignore = true;
		else {
			/* A bad value, not a bad option: 21, as vzctl. */
			return cli_bad_value("setmode", arg, NULL);
		}
		return 0;
	case K_MAP:
		if (strcmp(arg, "name")) {
			return cli_bad_value("applyconfig_map", arg, NULL);
		}
		r->map_name = true;
		return 0;
	case K_STORED: {
		if (!strcmp(o->key, "FEATURES"))
			return merge_features(ct, arg, r);
		int rc = !strcmp(o->key, "IPTABLES") ? merge_iptables(arg, r) : apply_plain(ct, o, arg, r);
		if (rc == 0 && r->nstored < sizeof(r->stored) / sizeof(r->stored[0]))
			r->stored[r->nstored++] = o->option;
		return rc;
	}
	case K_FLAG:
		if (!strcmp(o->option, "save"))
			r->save = true;
		else if (!strcmp(o->option, "reset_ub"))
			r->reset_ub = true;
		return 0;
	}
	return 3;
}
