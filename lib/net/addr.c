/* IP addresses, routes and proxy neighbour entries over rtnetlink; the
 * address parser. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/nl.h"
#include "nvz/cleanup.h"
#include "nvz/net.h"

size_t nvz_addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static int bad_addr(const char *text, struct nvz_error **err)
{
	return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid IP address '%s'", text ? text : "");
}

int nvz_addr_parse(const char *text, struct nvz_addr *out, struct nvz_error **err)
{
	char buf[INET6_ADDRSTRLEN + 8];
	if (!text || (size_t)snprintf(buf, sizeof(buf), "%s", text) >= sizeof(buf))
		return bad_addr(text, err);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	struct nvz_addr a = { 0 };
	if (inet_pton(AF_INET, buf, a.bytes) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, buf, a.bytes) == 1)
		a.family = AF_INET6;
	else
		return bad_addr(text, err);
	unsigned max = a.family == AF_INET ? 32 : 128;
	a.prefix = max;
	if (slash) {
		/* Digits only: strtoul would take signs, spaces and hex. */
		if (!*slash || strlen(slash) > 3 || strspn(slash, "0123456789") != strlen(slash))
			return bad_addr(text, err);
		a.prefix = (unsigned)strtoul(slash, NULL, 10);
		if (a.prefix > max)
			return bad_addr(text, err);
	}
	*out = a;
	return 0;
}

int nvz_addr_format(const struct nvz_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	if (!nvz_addr_len(a->family) || !inet_ntop(a->family, a->bytes, ip, sizeof(ip)))
		return -EAFNOSUPPORT;
	if ((size_t)snprintf(buf, len, "%s/%u", ip, a->prefix) >= len)
		return -ENOSPC;
	return 0;
}

/* vzctl's canon_ip: the address as inet_ntop writes it ("2001:DB8:0::10"
 * is "2001:db8::10"), "/N" only if the text had a prefix. Configs and
 * --ipdel then compare equal strings for the same address. */
int nvz_addr_canon(const char *text, char *buf, size_t len, struct nvz_error **err)
{
	struct nvz_addr a;
	char ip[INET6_ADDRSTRLEN];
	if (nvz_addr_parse(text, &a, err) < 0)
		return -1;
	inet_ntop(a.family, a.bytes, ip, sizeof(ip));
	int n = strchr(text, '/') ? snprintf(buf, len, "%s/%u", ip, a.prefix) : snprintf(buf, len, "%s", ip);
	if (n < 0 || (size_t)n >= len)
		return nvz_err(err, NVZ_E_VALUE, ENOSPC, "IP address '%s' too long", text);
	return 0;
}

bool nvz_addr_unspecified(const struct nvz_addr *a)
{
	static const uint8_t zero[16];
	return !memcmp(a->bytes, zero, nvz_addr_len(a->family));
}

const char *nvz_addr_unusable(const struct nvz_addr *a)
{
	const uint8_t *b = a->bytes;
	/* 169.254.0.1 is every CT's venet gateway (venet.c): on the CT's
	 * venet0 it would take the CT's own default route. */
	static const uint8_t venet_gw[4] = { 169, 254, 0, 1 };
	if (a->family == AF_INET) {
		if ((b[0] & 0xf0) == 0xe0)
			return "(multicast address)";
		return !memcmp(b, venet_gw, 4) ? "(the containers' venet gateway)" : NULL;
	}
	if (b[0] == 0xff)
		return "(multicast address)";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "(link-local address)";
	static const uint8_t loopback[16] = { [15] = 1 };
	return !memcmp(b, loopback, 16) ? "(loopback address)" : NULL;
}

static const char *addr_str(const struct nvz_addr *a, char *buf, size_t len)
{
	if (nvz_addr_format(a, buf, len) < 0)
		snprintf(buf, len, "?");
	return buf;
}

static int check_addr(const struct nvz_addr *a, struct nvz_error **err)
{
	if (!a || !nvz_addr_len(a->family) || a->prefix > nvz_addr_len(a->family) * 8)
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid IP address");
	return 0;
}

/* Open a socket in netns and resolve ifname there. */
static int open_dev(int netns, const char *ifname, struct nvz_nl *nl, struct nvz_error **err)
{
	if (nvz_nl_open(netns, nl, err) < 0)
		return -1;
	return nvz_nl_ifindex(nl, ifname, err);
}

static int addr_change(int netns, const char *ifname, const struct nvz_addr *a, unsigned flags,
		       bool add, struct nvz_error **err)
{
	char s[INET6_ADDRSTRLEN + 8], ext[NVZ_NL_EXTSZ];
	cleanup_nl struct nvz_nl nl = { 0 };
	if (check_addr(a, err) < 0)
		return -1;
	int index = open_dev(netns, ifname, &nl, err);
	if (index < 0)
		return -1;
	bool nodad = add && (flags & NVZ_ADDR_NODAD) && a->family == AF_INET6;
	struct ifaddrmsg ifa = {
		.ifa_family = (uint8_t)a->family,
		.ifa_prefixlen = (uint8_t)a->prefix,
		.ifa_flags = nodad ? IFA_F_NODAD : 0,
		.ifa_scope = RT_SCOPE_UNIVERSE,
		.ifa_index = (unsigned)index,
	};
	uint16_t nlf = NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	cleanup_nlmsg struct nl_msg *msg =
		nvz_nl_msg(&nl, add ? RTM_NEWADDR : RTM_DELADDR, nlf, &ifa, sizeof(ifa));
	size_t len = nvz_addr_len(a->family);
	if (msg) {
		nla_put(msg, IFA_LOCAL, (int)len, a->bytes);
		nla_put(msg, IFA_ADDRESS, (int)len, a->bytes);
		if (nodad)
			nla_put_u32(msg, IFA_FLAGS, IFA_F_NODAD);
	}
	int r = nvz_nl_talk(&nl, msg, NULL, NULL, ext, sizeof(ext));
	addr_str(a, s, sizeof(s));
	if (r == -EEXIST)
		return nvz_err(err, NVZ_E_VALUE, EEXIST, "address %s already on device '%s'", s,
			       ifname);
	if (r == -EADDRNOTAVAIL && !add)
		return nvz_err(err, NVZ_E_VALUE, EADDRNOTAVAIL, "address %s not on device '%s'",
			       s, ifname);
	if (r < 0)
		return nvz_nl_err(err, NVZ_E_SYSTEM, r, ext, "%s address %s %s device '%s'",
				  add ? "add" : "delete", s, add ? "to" : "from", ifname);
	return 0;
}

int nvz_addr_add(int netns, const char *ifname, const struct nvz_addr *a, unsigned flags,
		 struct nvz_error **err)
{
	return addr_change(netns, ifname, a, flags, true, err);
}

int nvz_addr_del(int netns, const char *ifname, const struct nvz_addr *a,
		 struct nvz_error **err)
{
	return addr_change(netns, ifname, a, 0, false, err);
}

void nvz_addr_network(struct nvz_addr *a)
{
	size_t len = nvz_addr_len(a->family);
	for (unsigned i = a->prefix; i < len * 8; i++)
		a->bytes[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

/* "default"/"dst [via gw] [dev X]" for messages. */
static void route_str(const struct nvz_route *r, char *buf, size_t len)
{
	char d[INET6_ADDRSTRLEN + 8] = "default", g[INET6_ADDRSTRLEN + 8];
	if (r->dst)
		addr_str(r->dst, d, sizeof(d));
	int n = snprintf(buf, len, "%s", d);
	if (r->gw && n >= 0 && (size_t)n < len) {
		char ip[INET6_ADDRSTRLEN] = "?";
		inet_ntop(r->gw->family, r->gw->bytes, ip, sizeof(ip));
		snprintf(g, sizeof(g), "%s", ip);
		n += snprintf(buf + n, len - (size_t)n, " via %s", g);
	}
	if (r->dev && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " dev %s", r->dev);
}

static int check_route(const struct nvz_route *r, struct nvz_error **err)
{
	const struct nvz_addr *parts[] = { r->dst, r->gw, r->src };
	if (!nvz_addr_len(r->family))
		return nvz_err(err, NVZ_E_VALUE, EAFNOSUPPORT, "route: unknown address family");
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (parts[i] && (check_addr(parts[i], err) < 0 || parts[i]->family != r->family))
			return nvz_err(err, NVZ_E_VALUE, EINVAL, "route: mixed address families");
	if (!r->gw && !r->dev)
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "route: needs a gateway or a device");
	return 0;
}

static struct nl_msg *route_msg(struct nvz_nl *nl, const struct nvz_route *r, int oif, bool add)
{
	size_t len = nvz_addr_len(r->family);
	struct rtmsg rtm = {
		.rtm_family = (uint8_t)r->family,
		.rtm_dst_len = r->dst ? (uint8_t)r->dst->prefix : 0,
		.rtm_table = RT_TABLE_MAIN,
		.rtm_protocol = add ? RTPROT_BOOT : RTPROT_UNSPEC,
		/* Delete matches any scope; a route without gateway is on-link. */
		.rtm_scope = !add ? RT_SCOPE_NOWHERE : r->gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
		.rtm_type = RTN_UNICAST,
		.rtm_flags = (r->flags & NVZ_ROUTE_ONLINK) ? RTNH_F_ONLINK : 0,
	};
	uint16_t nlf = NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	struct nl_msg *msg =
		nvz_nl_msg(nl, add ? RTM_NEWROUTE : RTM_DELROUTE, nlf, &rtm, sizeof(rtm));
	if (!msg)
		return NULL;
	if (r->dst) {
		/* The kernel refuses host bits under the prefix: clear them. */
		struct nvz_addr net = *r->dst;
		nvz_addr_network(&net);
		nla_put(msg, RTA_DST, (int)len, net.bytes);
	}
	if (r->metric)
		nla_put_u32(msg, RTA_PRIORITY, r->metric);
	if (r->gw)
		nla_put(msg, RTA_GATEWAY, (int)len, r->gw->bytes);
	if (oif > 0)
		nla_put_u32(msg, RTA_OIF, (uint32_t)oif);
	if (r->src)
		nla_put(msg, RTA_PREFSRC, (int)len, r->src->bytes);
	return msg;
}

static int route_change(int netns, const struct nvz_route *r, bool add, struct nvz_error **err)
{
	char what[128], ext[NVZ_NL_EXTSZ];
	cleanup_nl struct nvz_nl nl = { 0 };
	if (check_route(r, err) < 0 || nvz_nl_open(netns, &nl, err) < 0)
		return -1;
	int oif = r->dev ? nvz_nl_ifindex(&nl, r->dev, err) : 0;
	if (oif < 0)
		return -1;
	cleanup_nlmsg struct nl_msg *msg = route_msg(&nl, r, oif, add);
	int ret = nvz_nl_talk(&nl, msg, NULL, NULL, ext, sizeof(ext));
	route_str(r, what, sizeof(what));
	if (ret == -EEXIST)
		return nvz_err(err, NVZ_E_SYSTEM, EEXIST, "route %s already exists", what);
	if (ret == -ESRCH && !add)
		return nvz_err(err, NVZ_E_SYSTEM, ESRCH, "no such route %s", what);
	if (ret < 0)
		return nvz_nl_err(err, NVZ_E_SYSTEM, ret, ext, "%s route %s",
				  add ? "add" : "delete", what);
	return 0;
}

int nvz_route_add(int netns, const struct nvz_route *r, struct nvz_error **err)
{
	return route_change(netns, r, true, err);
}

int nvz_route_del(int netns, const struct nvz_route *r, struct nvz_error **err)
{
	return route_change(netns, r, false, err);
}

static int proxy_change(int netns, const char *ifname, const struct nvz_addr *a, bool add,
			struct nvz_error **err)
{
	char s[INET6_ADDRSTRLEN + 8], ext[NVZ_NL_EXTSZ];
	cleanup_nl struct nvz_nl nl = { 0 };
	if (check_addr(a, err) < 0)
		return -1;
	int index = open_dev(netns, ifname, &nl, err);
	if (index < 0)
		return -1;
	struct ndmsg nd = {
		.ndm_family = (uint8_t)a->family,
		.ndm_ifindex = index,
		.ndm_state = NUD_PERMANENT,
		/* NTF_PROXY puts the entry in the proxy table: we answer for it. */
		.ndm_flags = NTF_PROXY,
	};
	uint16_t nlf = NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	cleanup_nlmsg struct nl_msg *msg =
		nvz_nl_msg(&nl, add ? RTM_NEWNEIGH : RTM_DELNEIGH, nlf, &nd, sizeof(nd));
	if (msg)
		nla_put(msg, NDA_DST, (int)nvz_addr_len(a->family), a->bytes);
	int r = nvz_nl_talk(&nl, msg, NULL, NULL, ext, sizeof(ext));
	char ip[INET6_ADDRSTRLEN] = "?";
	inet_ntop(a->family, a->bytes, ip, sizeof(ip));
	snprintf(s, sizeof(s), "%s", ip);
	if (r == -ENOENT && !add)
		return nvz_err(err, NVZ_E_SYSTEM, ENOENT, "no proxy entry for %s on device '%s'",
			       s, ifname);
	if (r < 0)
		return nvz_nl_err(err, NVZ_E_SYSTEM, r, ext, "%s proxy entry for %s on device '%s'",
				  add ? "add" : "delete", s, ifname);
	return 0;
}

int nvz_neigh_proxy_add(int netns, const char *ifname, const struct nvz_addr *a,
			struct nvz_error **err)
{
	return proxy_change(netns, ifname, a, true, err);
}

int nvz_neigh_proxy_del(int netns, const char *ifname, const struct nvz_addr *a,
			struct nvz_error **err)
{
	return proxy_change(netns, ifname, a, false, err);
}

struct proxy_find {
	int index;
	const struct nvz_addr *a;
	bool found;
};

static int proxy_entry(struct nlmsghdr *nlh, void *data)
{
	struct proxy_find *f = data;
	struct nlattr *tb[NDA_MAX + 1];
	if (nlh->nlmsg_type != RTM_NEWNEIGH ||
	    nlmsg_parse(nlh, sizeof(struct ndmsg), tb, NDA_MAX, NULL) < 0)
		return 0;
	const struct ndmsg *nd = nlmsg_data(nlh);
	if (!(nd->ndm_flags & NTF_PROXY) || nd->ndm_ifindex != f->index ||
	    nd->ndm_family != f->a->family)
		return 0;
	size_t len = nvz_addr_len(f->a->family);
	if (tb[NDA_DST] && (size_t)nla_len(tb[NDA_DST]) == len &&
	    !memcmp(nla_data(tb[NDA_DST]), f->a->bytes, len))
		f->found = true;
	return 0;
}

int nvz_neigh_proxy_exists(int netns, const char *ifname, const struct nvz_addr *a,
			   struct nvz_error **err)
{
	char ext[NVZ_NL_EXTSZ];
	cleanup_nl struct nvz_nl nl = { 0 };
	if (check_addr(a, err) < 0)
		return -1;
	int index = open_dev(netns, ifname, &nl, err);
	if (index < 0)
		return -1;
	/* A dump request whose ndm_flags is exactly NTF_PROXY lists the proxy
	 * table; the rest of the header must stay zero. */
	struct ndmsg nd = { .ndm_family = (uint8_t)a->family, .ndm_flags = NTF_PROXY };
	cleanup_nlmsg struct nl_msg *msg =
		nvz_nl_msg(&nl, RTM_GETNEIGH, NLM_F_DUMP, &nd, sizeof(nd));
	struct proxy_find f = { index, a, false };
	int r = nvz_nl_talk(&nl, msg, proxy_entry, &f, ext, sizeof(ext));
	if (r < 0)
		return nvz_nl_err(err, NVZ_E_SYSTEM, r, ext, "list proxy entries of device '%s'",
				  ifname);
	return f.found ? 1 : 0;
}

static int route_reply(struct nlmsghdr *nlh, void *data)
{
	struct nvz_route_to *out = data;
	struct nlattr *tb[RTA_MAX + 1];
	if (nlh->nlmsg_type != RTM_NEWROUTE || nlmsg_parse(nlh, sizeof(struct rtmsg), tb, RTA_MAX, NULL) < 0)
		return 0;
	const struct rtmsg *rt = nlmsg_data(nlh);
	uint32_t v;
	if (nvz_nla_u32(tb[RTA_OIF], &v))
		out->oif = (int)v;
	size_t len = nvz_addr_len(rt->rtm_family);
	if (len && tb[RTA_GATEWAY] && (size_t)nla_len(tb[RTA_GATEWAY]) == len) {
		out->gw = (struct nvz_addr){ .family = rt->rtm_family, .prefix = (unsigned)len * 8 };
		memcpy(out->gw.bytes, nla_data(tb[RTA_GATEWAY]), len);
		out->has_gw = true;
	}
	return 0;
}

int nvz_route_to(int netns, const struct nvz_addr *dst, struct nvz_route_to *out, struct nvz_error **err)
{
	char ext[NVZ_NL_EXTSZ];
	cleanup_nl struct nvz_nl nl = { 0 };
	memset(out, 0, sizeof(*out));
	if (check_addr(dst, err) < 0 || nvz_nl_open(netns, &nl, err) < 0)
		return -1;
	size_t len = nvz_addr_len(dst->family);
	struct rtmsg rt = { .rtm_family = (uint8_t)dst->family, .rtm_dst_len = (uint8_t)(len * 8) };
	cleanup_nlmsg struct nl_msg *msg = nvz_nl_msg(&nl, RTM_GETROUTE, NLM_F_ACK, &rt, sizeof(rt));
	if (msg)
		nla_put(msg, RTA_DST, (int)len, dst->bytes);
	int r = nvz_nl_talk(&nl, msg, route_reply, out, ext, sizeof(ext));
	/* No route is an answer, not a failure. */
	if (r == -ENETUNREACH || r == -EHOSTUNREACH) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	if (r < 0)
		return nvz_nl_err(err, NVZ_E_SYSTEM, -r, ext, "route lookup");
	return 0;
}
