/* Routed networking, OpenVZ's "venet", on a veth pair: the CT gets venet0
 * with its IP_ADDRESS list and a default route to the host side
 * (169.254.0.1 / fe80::1, on-link); the host routes each address to the
 * pair and answers ARP/NDP for it on NEIGHBOUR_DEVS (proxy neighbour), so
 * other machines on the LAN reach the CT. What was set up is recorded in
 * RUNDIR/<id>/net so it can be undone, in the same network namespace only. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ct/internal.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/net.h"

#define CT_IF "venet0"

static int host_ifname(const struct nvz_ct *ct, char *buf, size_t len)
{
	if (strlen(ct->id) + 6 > len)
		return -1;
	snprintf(buf, len, "venet%.10s", ct->id);
	return 0;
}

static unsigned long long netns_ino(void)
{
	struct stat st;
	return stat("/proc/self/ns/net", &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

static bool detect_mode(const struct nvz_ct *ct)
{
	return !strcmp(nvz_ct_get(ct, "NEIGHBOUR_DEVS", "all"), "detect");
}

/* NEIGHBOUR_DEVS=all (nvz's default; "detect" starts from the same list):
 * every interface that is up and has a global address, but not loopback,
 * NOARP, or other CTs' pairs. */
static char *neighbour_devs(const struct nvz_ct *ct)
{
	const char *conf = nvz_ct_get(ct, "NEIGHBOUR_DEVS", "all");
	if (!strncmp(conf, "list:", 5))
		return strdup(conf + 5);
	struct ifaddrs *ifa = NULL;
	if (getifaddrs(&ifa) < 0)
		return strdup("");
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	for (struct ifaddrs *i = ifa; f && i; i = i->ifa_next) {
		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & (IFF_LOOPBACK | IFF_NOARP)) ||
		    !strncmp(i->ifa_name, "venet", 5) || !strncmp(i->ifa_name, "veth", 4))
			continue;
		if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const void *)i->ifa_addr;
			if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
				continue;
		} else if (i->ifa_addr->sa_family != AF_INET) {
			continue;
		}
		/* Once per interface. */
		fflush(f);
		char pat[IFNAMSIZ + 2];
		snprintf(pat, sizeof(pat), "%s ", i->ifa_name);
		if (!out || !strstr(out, pat))
			fprintf(f, "%s ", i->ifa_name);
	}
	if (f)
		fclose(f);
	freeifaddrs(ifa);
	return out;
}

/* VE_ROUTE_SRC_DEV (vz.conf), as OpenVZ's vzaddrouting4: the host's routes
 * to the CT's IPv4 addresses prefer that device's first address as their
 * source (else the host speaks to the CT from the pair's 169.254.0.1). */
static int route_src(const struct nvz_ct *ct, struct nvz_addr *out, bool *found, struct nvz_error **err)
{
	const char *dev = nvz_ct_get(ct, "VE_ROUTE_SRC_DEV", "");
	*found = false;
	if (!*dev)
		return 0;
	struct ifaddrs *ifa = NULL;
	if (getifaddrs(&ifa) < 0)
		return nvz_err_sys(err, NVZ_E_CANT_ADDIP, errno, "Unable to get source ip [%s]", dev);
	for (struct ifaddrs *i = ifa; i && !*found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || strcmp(i->ifa_name, dev))
			continue;
		const struct sockaddr_in *s4 = (const void *)i->ifa_addr;
		if ((ntohl(s4->sin_addr.s_addr) >> 24) == 127)
			continue;
		*out = (struct nvz_addr){ .family = AF_INET, .prefix = 32 };
		memcpy(out->bytes, &s4->sin_addr, 4);
		*found = true;
	}
	freeifaddrs(ifa);
	if (!*found)
		return nvz_err(err, NVZ_E_CANT_ADDIP, ENOENT, "Unable to get source ip [%s]", dev);
	return 0;
}

static bool ipv6_off(const struct nvz_ct *ct)
{
	return !strcmp(nvz_ct_get(ct, "IPV6", "yes"), "no");
}

/* The words of a space-separated list that keep() takes, space separated
 * (malloc'd, "" for none). */
static char *words_kept(const char *list, bool (*keep)(const char *w, const void *arg),
			const void *arg)
{
	cleanup_free char *copy = strdup(list ? list : "");
	char *out = NULL, *save = NULL;
	size_t len = 0;
	FILE *f = copy ? open_memstream(&out, &len) : NULL;
	if (!f)
		return NULL;
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (keep(w, arg))
			fprintf(f, "%s%s", ftell(f) ? " " : "", w);
	fclose(f);
	return out;
}

static bool set_up_here(const char *ip, const void *ct)
{
	return !strchr(ip, ':') || !ipv6_off(ct);
}

char *nvz_venet_ips(const struct nvz_ct *ct, const char *ips)
{
	return words_kept(ips, set_up_here, ct);
}

void nvz_venet_ipv6_warn(const struct nvz_ct *ct, const char *ips)
{
	if (ips && strchr(ips, ':') && ipv6_off(ct))
		nvz_log(ct->ctx, NVZ_LOG_INFO, "WARNING: IPv6 support is disabled");
}

static int for_each_word(const char *list, int (*fn)(const char *w, void *arg), void *arg)
{
	cleanup_free char *copy = list ? strdup(list) : NULL;
	char *save = NULL;
	for (char *w = copy ? strtok_r(copy, " ", &save) : NULL; w; w = strtok_r(NULL, " ", &save))
		if (fn(w, arg) < 0)
			return -1;
	return 0;
}

struct ip_op {
	const struct nvz_ct *ct;
	int ct_ns;
	const char *hostif;
	const char *devs;
	bool add;
	struct nvz_error **err;
	bool host_only; /* restored CT: its side is already in place */
	const struct nvz_addr *src4; /* VE_ROUTE_SRC_DEV's address, or NULL */
	bool detect;                 /* NEIGHBOUR_DEVS=detect */
};

struct proxy_op {
	struct ip_op *op;
	const struct nvz_addr *a;
};

static int dev_proxy(const char *dev, void *arg)
{
	struct proxy_op *p = arg;
	if (p->op->add)
		return nvz_neigh_proxy_add(-1, dev, p->a, p->op->err);
	nvz_neigh_proxy_del(-1, dev, p->a, NULL);
	return 0;
}

/* Best effort: a lost announcement only delays neighbours until their
 * cache entry expires. */
static int dev_announce(const char *dev, void *arg)
{
	struct proxy_op *p = arg;
	struct nvz_error *e = NULL;
	if (nvz_net_announce(-1, dev, p->a, &e) < 0) {
		nvz_log(p->op->ct->ctx, NVZ_LOG_VERBOSE, "%s", e->msg);
		nvz_error_free(e);
	}
	return 0;
}

/* Whether the space separated list has the word w (n bytes). */
static bool has_word(const char *list, const char *w, size_t n)
{
	for (const char *p = list ? list : ""; *p; p += strcspn(p, " "), p += *p == ' ')
		if (strcspn(p, " ") == n && !strncmp(p, w, n))
			return true;
	return false;
}

/* NEIGHBOUR_DEVS=detect, as OpenVZ's vz_get_neighbour_devs: of the
 * candidate devices, only the one the host routes the address out of
 * directly (or via the address itself); one behind a gateway gets no
 * proxy entry. Asked before the address's own route exists. */
static char *detect_devs(const char *all, const struct nvz_addr *a)
{
	struct nvz_route_to rt;
	char name[IF_NAMESIZE];
	if (nvz_route_to(-1, a, &rt, NULL) < 0)
		return strdup("");
	bool direct = rt.oif && (!rt.has_gw || !memcmp(rt.gw.bytes, a->bytes, nvz_addr_len(a->family)));
	if (!direct || !if_indextoname((unsigned)rt.oif, name))
		return strdup("");
	return strdup(has_word(all, name, strlen(name)) ? name : "");
}

/* ADDR/PREFIX (IPv6) puts the prefix on-link on venet0, but nothing on the
 * pair answers the CT's neighbour solicitations for it (Linux proxies NDP
 * for single addresses only). On OpenVZ's NOARP venet0 the whole prefix
 * went to the host: here a route to it via the host side, ahead of the
 * prefix route (metric 1), does the same. Two addresses may share it. */
static int ct_prefix_route(int ct_ns, const struct nvz_addr *a, struct nvz_error **err)
{
	if (a->family != AF_INET6 || a->prefix >= 128)
		return 0;
	struct nvz_addr gw;
	nvz_addr_parse("fe80::1", &gw, NULL);
	struct nvz_route r = { .family = AF_INET6, .dst = a, .gw = &gw, .dev = CT_IF, .metric = 1 };
	cleanup_error struct nvz_error *e = NULL;
	int rc = nvz_route_add(ct_ns, &r, &e);
	if (rc < 0 && rc != -EEXIST && err && !*err) {
		*err = e;
		e = NULL;
	}
	return rc < 0 && rc != -EEXIST ? -1 : 0;
}

static int one_ip(const char *text, void *arg)
{
	struct ip_op *op = arg;
	struct nvz_addr a;
	if (nvz_addr_parse(text, &a, op->err) < 0)
		return -1;
	struct nvz_addr host = a;
	host.prefix = a.family == AF_INET ? 32 : 128;
	struct nvz_route r = { .family = a.family, .dst = &host, .dev = op->hostif,
			       .src = op->add && a.family == AF_INET ? op->src4 : NULL };
	struct proxy_op p = { op, &host };
	if (!op->add) {
		for_each_word(op->devs, dev_proxy, &p);
		nvz_route_del(-1, &r, NULL);
		if (op->ct_ns >= 0)
			nvz_addr_del(op->ct_ns, CT_IF, &a, NULL);
		return 0;
	}
	cleanup_free char *detected = op->detect ? detect_devs(op->devs, &host) : NULL;
	if (op->detect && !detected)
		return nvz_err(op->err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	const char *devs = op->detect ? detected : op->devs;
	if ((!op->host_only && (nvz_addr_add(op->ct_ns, CT_IF, &a, NVZ_ADDR_NODAD, op->err) < 0 ||
				ct_prefix_route(op->ct_ns, &a, op->err) < 0)) ||
	    nvz_route_add(-1, &r, op->err) < 0 || for_each_word(devs, dev_proxy, &p) < 0) {
		/* vzctl's status for an address the kernel would not take */
		if (op->err && *op->err && (*op->err)->status == NVZ_E_SYSTEM)
			(*op->err)->status = NVZ_E_CANT_ADDIP;
		return nvz_err_wrap(op->err, "Unable to add IP %s", text);
	}
	for_each_word(devs, dev_announce, &p);
	return 0;
}

static int forward_on(const char *dev, void *arg)
{
	struct nvz_error **err = arg;
	char key[96];
	snprintf(key, sizeof(key), "net/ipv4/conf/%s/forwarding", dev);
	if (nvz_net_sysctl(-1, key, "1", err) < 0)
		return -1;
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/forwarding", dev);
	nvz_net_sysctl(-1, key, "1", NULL);
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/proxy_ndp", dev);
	nvz_net_sysctl(-1, key, "1", NULL);
	return 0;
}

/* The pair's host side forwards, and answers ARP for whatever it routes
 * elsewhere: an address given with a mask (--ipadd IP/24) puts that
 * subnet on-link on venet0 in the CT, whose neighbours there must then be
 * reached through the host, as on OpenVZ's NOARP venet0. */
static int pair_host_on(const char *hostif, struct nvz_error **err)
{
	char key[96];
	snprintf(key, sizeof(key), "net/ipv4/conf/%s/proxy_arp", hostif);
	return forward_on(hostif, err) < 0 || nvz_net_sysctl(-1, key, "1", err) < 0 ? -1 : 0;
}

/* IPS: what was set up; ALL: what was asked for (IPV6="no" leaves some
 * out), the base of the next live change. */
static int record(const struct nvz_ct *ct, const char *ips, const char *all, const char *devs,
		  struct nvz_error **err)
{
	cleanup_free char *path = NULL, *text = NULL;
	if (asprintf(&path, "%s/net", ct->rundir) < 0 ||
	    asprintf(&text, "IPS=\"%s\"\nALL=\"%s\"\nDEVS=\"%s\"\nNETNS=\"%llu\"\n", ips, all, devs,
		     netns_ino()) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (nvz_mkdir_p(ct->rundir, 0700, err) < 0)
		return -1;
	return nvz_write_runtime_atomic(path, text, strlen(text), 0600, err);
}

/* A CT's IPv6 addresses need IPv6 on the server (the pair's host side
 * takes fe80::1, the server routes them); a server with IPv6 disabled still
 * runs IPv4 CTs. As vzctl, an address not set up is "Unable to add IP" (34). */
static int check_ipv6(const char *ips, struct nvz_error **err)
{
	const char *p = ips;
	size_t n = 0;
	for (; *p; p += n, p += strspn(p, " "))
		if (n = strcspn(p, " "), memchr(p, ':', n))
			break;
	if (!*p)
		return 0;
	char v[8] = "";
	if (nvz_net_sysctl_read(-1, "net/ipv6/conf/default/disable_ipv6", v, sizeof(v), NULL) == 0 && v[0] == '0')
		return 0;
	return nvz_err(err, NVZ_E_CANT_ADDIP, EAFNOSUPPORT, "Unable to add IP %.*s: IPv6 is disabled on this server",
		       (int)n, p);
}

/* The CT's on-link gateways (the host side of the pair) and its default
 * routes through them. */
struct venet_gw {
	struct nvz_addr gw4, gw6;
	struct nvz_route r4, r6;
};

static void venet_gw_init(struct venet_gw *g)
{
	nvz_addr_parse("169.254.0.1/32", &g->gw4, NULL);
	nvz_addr_parse("fe80::1/64", &g->gw6, NULL);
	g->r4 = (struct nvz_route){ .family = AF_INET, .gw = &g->gw4, .dev = CT_IF,
				    .flags = NVZ_ROUTE_ONLINK };
	g->r6 = (struct nvz_route){ .family = AF_INET6, .gw = &g->gw6, .dev = CT_IF };
}

/* The pair and the CT side's routes: before init runs (start) or live. */
static int make_pair(const struct nvz_ct *ct, int ct_ns, const char *hostif, const char *ips,
		     struct nvz_error **err)
{
	struct venet_gw g;
	venet_gw_init(&g);
	bool v6 = strchr(ips, ':');
	if (nvz_link_veth_add(-1, hostif, CT_IF, ct_ns, NULL, NULL, 0, err) < 0 ||
	    nvz_addr_add(-1, hostif, &g.gw4, NVZ_ADDR_NODAD, err) < 0 ||
	    (v6 && nvz_addr_add(-1, hostif, &g.gw6, NVZ_ADDR_NODAD, err) < 0) ||
	    nvz_link_set_up(-1, hostif, true, err) < 0 || pair_host_on(hostif, err) < 0 ||
	    nvz_link_set_up(ct_ns, CT_IF, true, err) < 0 || nvz_route_add(ct_ns, &g.r4, err) < 0)
		return -1;
	/* IPv6 only if the CT has an IPv6 address: the route needs one. */
	if (v6 && nvz_route_add(ct_ns, &g.r6, NULL) < 0)
		nvz_log(ct->ctx, NVZ_LOG_VERBOSE, "no IPv6 default route in CT %s", ct->id);
	return 0;
}

int nvz_venet_start(struct nvz_ct *ct, pid_t init_pid, const char *all, struct nvz_error **err)
{
	cleanup_free char *ips = nvz_venet_ips(ct, all);
	if (!ips)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (!*ips)
		return 0;
	char hostif[IFNAMSIZ], path[64];
	if (host_ifname(ct, hostif, sizeof(hostif)) < 0)
		return nvz_err(err, NVZ_E_VALUE, ENAMETOOLONG, "CT ID too long for an interface name");
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init_pid);
	cleanup_close int ct_ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ct_ns < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open %s", path);
	if (check_ipv6(ips, err) < 0)
		return -1;
	cleanup_free char *devs = neighbour_devs(ct);
	if (!devs || for_each_word(devs, forward_on, err) < 0)
		return devs ? -1 : nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	/* IPv6 forwards only with the global switch (OpenVZ set it at install
	 * time too); note that a host then ignores router advertisements on
	 * interfaces with accept_ra=1. */
	if (strchr(ips, ':') && nvz_net_sysctl(-1, "net/ipv6/conf/all/forwarding", "1", err) < 0)
		return -1;
	struct nvz_addr src;
	bool has_src;
	if (route_src(ct, &src, &has_src, err) < 0)
		return -1;
	struct ip_op op = { ct, ct_ns, hostif, devs, true, err, false, has_src ? &src : NULL, detect_mode(ct) };
	if (make_pair(ct, ct_ns, hostif, ips, err) < 0 || for_each_word(ips, one_ip, &op) < 0 ||
	    record(ct, ips, all, devs, err) < 0) {
		op.add = false;
		for_each_word(ips, one_ip, &op);
		nvz_link_del(-1, hostif, NULL);
		return -1;
	}
	return 0;
}

int nvz_venet_pair(const struct nvz_ct *ct, char *buf, size_t len)
{
	char hostif[IFNAMSIZ];
	if (host_ifname(ct, hostif, sizeof(hostif)) < 0)
		return -1;
	snprintf(buf, len, CT_IF "=%s", hostif);
	return 0;
}

/* Restore into a network namespace nvz made (ct_ns): the CT half of
 * make_pair and one_ip, venet0 with its addresses and routes. The host side
 * stays down and unrouted until criu restored the sockets (then
 * nvz_venet_restored): no packet reaches the CT meanwhile, none is answered
 * by a reset for a connection not restored yet. */
int nvz_venet_prepare(struct nvz_ct *ct, int ct_ns, const char *all, struct nvz_error **err)
{
	cleanup_free char *ips = nvz_venet_ips(ct, all);
	if (!ips)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (!*ips)
		return 0;
	char hostif[IFNAMSIZ];
	if (host_ifname(ct, hostif, sizeof(hostif)) < 0)
		return nvz_err(err, NVZ_E_VALUE, ENAMETOOLONG, "CT ID too long for an interface name");
	struct venet_gw g;
	venet_gw_init(&g);
	if (nvz_link_veth_add(-1, hostif, CT_IF, ct_ns, NULL, NULL, 0, err) < 0)
		return -1;
	int r = nvz_link_set_up(ct_ns, CT_IF, true, err);
	cleanup_free char *copy = r < 0 ? NULL : strdup(ips);
	char *save = NULL;
	for (char *w = copy ? strtok_r(copy, " ", &save) : NULL; w && r == 0; w = strtok_r(NULL, " ", &save)) {
		struct nvz_addr a;
		r = nvz_addr_parse(w, &a, err) < 0 || nvz_addr_add(ct_ns, CT_IF, &a, NVZ_ADDR_NODAD, err) < 0 ||
				    ct_prefix_route(ct_ns, &a, err) < 0
			    ? -1
			    : 0;
	}
	if (r == 0 && !copy)
		r = nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (r == 0)
		r = nvz_route_add(ct_ns, &g.r4, err);
	if (r == 0 && strchr(ips, ':') && nvz_route_add(ct_ns, &g.r6, NULL) < 0)
		nvz_log(ct->ctx, NVZ_LOG_VERBOSE, "no IPv6 default route in CT %s", ct->id);
	if (r < 0)
		nvz_link_del(-1, hostif, NULL);
	return r;
}

/* The host half of make_pair and one_ip: the gateway addresses, up,
 * forwarding, a route per address and its proxy neighbours. */
int nvz_venet_restored(struct nvz_ct *ct, const char *all, struct nvz_error **err)
{
	cleanup_free char *ips = nvz_venet_ips(ct, all);
	if (!ips)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (!*ips)
		return 0;
	char hostif[IFNAMSIZ];
	if (host_ifname(ct, hostif, sizeof(hostif)) < 0)
		return nvz_err(err, NVZ_E_VALUE, ENAMETOOLONG, "CT ID too long for an interface name");
	struct venet_gw g;
	venet_gw_init(&g);
	if (check_ipv6(ips, err) < 0)
		return -1;
	cleanup_free char *devs = neighbour_devs(ct);
	if (!devs)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	struct nvz_addr src;
	bool has_src;
	if (route_src(ct, &src, &has_src, err) < 0)
		return -1;
	struct ip_op op = { ct, -1, hostif, devs, true, err, true, has_src ? &src : NULL, detect_mode(ct) };
	if (nvz_addr_add(-1, hostif, &g.gw4, NVZ_ADDR_NODAD, err) < 0 ||
	    (strchr(ips, ':') && nvz_addr_add(-1, hostif, &g.gw6, NVZ_ADDR_NODAD, err) < 0) ||
	    nvz_link_set_up(-1, hostif, true, err) < 0 || pair_host_on(hostif, err) < 0 ||
	    for_each_word(devs, forward_on, err) < 0 ||
	    (strchr(ips, ':') && nvz_net_sysctl(-1, "net/ipv6/conf/all/forwarding", "1", err) < 0) ||
	    for_each_word(ips, one_ip, &op) < 0 || record(ct, ips, all, devs, err) < 0) {
		op.add = false;
		for_each_word(ips, one_ip, &op);
		nvz_link_del(-1, hostif, NULL);
		return -1;
	}
	return 0;
}

/* Undo what RUNDIR/<id>/net recorded, if we are in the namespace it was
 * made in (vzctl run from another netns must not touch this one's). */
void nvz_venet_stop(struct nvz_ct *ct)
{
	cleanup_free char *path = NULL;
	struct nvz_conf *c = NULL;
	if (asprintf(&path, "%s/net", ct->rundir) < 0 || nvz_conf_load(&c, path, NVZ_E_SYSTEM, NULL) < 0)
		return;
	const char *ns = nvz_conf_get(c, "NETNS");
	if (ns && strtoull(ns, NULL, 10) == netns_ino()) {
		char hostif[IFNAMSIZ] = "";
		host_ifname(ct, hostif, sizeof(hostif));
		struct ip_op op = { ct, -1, hostif, nvz_conf_get(c, "DEVS"), false, NULL, false, NULL, false };
		const char *ips = nvz_conf_get(c, "IPS");
		for_each_word(ips, one_ip, &op);
		nvz_link_del(-1, hostif, NULL);
		if (ips && *ips)
			nvz_log(ct->ctx, NVZ_LOG_VERBOSE, "Deleted IP address(es): %s", ips);
	}
	nvz_conf_free(c);
	unlink(path);
}

static bool not_in(const char *w, const void *list)
{
	return !has_word(list, w, strlen(w));
}

/* The words of a that b lacks, space separated (malloc'd, "" for none). */
static char *ips_minus(const char *a, const char *b)
{
	return words_kept(a, not_in, b ? b : "");
}

/* vzctl's lines for a live change: the addresses going, then those coming. */
static void log_ip_change(const struct nvz_ct *ct, const char *old, const char *ips)
{
	cleanup_free char *gone = ips_minus(old, ips), *added = ips_minus(ips, old);
	if (gone && *gone)
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Deleting IP address(es): %s", gone);
	if (added && *added)
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Adding IP address(es): %s", added);
}

int nvz_ct_set_ips(struct nvz_ct *ct, const char *ips, struct nvz_error **err)
{
	pid_t pid;
	cleanup_close int pidfd = nvz_ct_init_pidfd(ct, &pid);
	if (pidfd < 0)
		return nvz_err(err, NVZ_E_NOT_RUNNING, ESRCH, "Container is not running");
	cleanup_free char *old = nvz_ct_live_ips(ct), *mine = nvz_venet_ips(ct, ips);
	if (!mine)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	nvz_venet_ipv6_warn(ct, ips);
	log_ip_change(ct, old, mine);
	/* Refused before the rebuild: the CT keeps the addresses it has. */
	if (check_ipv6(mine, err) < 0)
		return -1;
	cleanup_free char *had = nvz_ct_live_ips_asked(ct);
	/* Rebuilt from scratch: simple, and a CT keeps no state in venet0. */
	nvz_venet_stop(ct);
	if (nvz_venet_start(ct, pid, ips, err) == 0)
		return 0;
	/* The kernel refused an address: the CT gets back the ones it had. */
	cleanup_error struct nvz_error *e = NULL;
	if (had && *had && nvz_venet_start(ct, pid, had, &e) < 0)
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: cannot give CT %s back its IP address(es) %s: %s", ct->id,
			had, e->msg);
	return -1;
}

char *nvz_ct_live_ips(const struct nvz_ct *ct)
{
	return nvz_ct_runtime_value(ct, "net", "IPS");
}

char *nvz_ct_live_ips_asked(const struct nvz_ct *ct)
{
	char *all = nvz_ct_runtime_value(ct, "net", "ALL");
	if (all)
		return all;
	return nvz_ct_live_ips(ct);
}
