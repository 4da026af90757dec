/* What a CT's network namespace holds beyond what nvz makes from its
 * config. A checkpoint may leave the namespace out of criu's images and
 * make it again at restore (fast) only when nothing would be lost by that:
 * no address the CT gave itself (DHCP, by hand), no link of its own (a
 * tunnel, a bridge), no route but the kernel's and default ones, no
 * firewall table, no forwarding. Anything else, or any doubt, and criu
 * carries the whole namespace. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net/nl.h"
#include "nvz/cleanup.h"
#include "nvz/net.h"
#include "nvz/netif.h"

#define MAX_KNOWN 64

struct known {
	char links[NVZ_NETIF_MAX + 2][IFNAMSIZ];
	size_t nlinks;
	struct nvz_addr addrs[MAX_KNOWN];
	size_t naddrs;
	struct nvz_addr nets[MAX_KNOWN]; /* venet0's IPv6 prefixes, routed via the host */
	size_t nnets;
	char *why;
	size_t len;
};

static int beyond(struct known *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int beyond(struct known *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->why, k->len, fmt, ap);
	va_end(ap);
	return -EEXIST; /* stops the dump walk */
}

static void add_link(struct known *k, const char *name)
{
	if (k->nlinks < sizeof(k->links) / sizeof(k->links[0]))
		snprintf(k->links[k->nlinks++], IFNAMSIZ, "%s", name);
}

static void add_addr(struct known *k, const char *text)
{
	if (k->naddrs < MAX_KNOWN && nvz_addr_parse(text, &k->addrs[k->naddrs], NULL) == 0)
		k->naddrs++;
}

static bool link_known(const struct known *k, const char *name)
{
	for (size_t i = 0; i < k->nlinks; i++)
		if (!strcmp(k->links[i], name))
			return true;
	return false;
}

static bool addr_known(const struct known *k, int family, const uint8_t *bytes)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	if ((family == AF_INET && bytes[0] == 127) ||
	    (family == AF_INET6 && (!memcmp(bytes, lo6, 16) || (bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80))))
		return true;
	for (size_t i = 0; i < k->naddrs; i++)
		if (k->addrs[i].family == family && !memcmp(k->addrs[i].bytes, bytes, nvz_addr_len(family)))
			return true;
	return false;
}

static int on_link(struct nlmsghdr *nlh, void *data)
{
	struct nlattr *tb[IFLA_MAX + 1];
	if (nlmsg_parse(nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0 || !tb[IFLA_IFNAME])
		return 0;
	const char *name = nvz_nla_str(tb[IFLA_IFNAME]);
	if (!name || !link_known(data, name))
		return beyond(data, "an interface of its own (%s)", name ? name : "?");
	return 0;
}

static int on_addr(struct nlmsghdr *nlh, void *data)
{
	static const int types[] = { IFA_ADDRESS, IFA_LOCAL };
	struct nlattr *tb[IFA_MAX + 1];
	if (nlmsg_parse(nlh, sizeof(struct ifaddrmsg), tb, IFA_MAX, NULL) < 0)
		return 0;
	const struct ifaddrmsg *ifa = nlmsg_data(nlh);
	for (size_t i = 0; i < 2; i++) {
		const struct nlattr *a = tb[types[i]];
		if (!a || (size_t)nla_len(a) < nvz_addr_len(ifa->ifa_family))
			continue;
		const uint8_t *b = nla_data(a);
		if (!addr_known(data, ifa->ifa_family, b)) {
			char text[INET6_ADDRSTRLEN] = "?";
			inet_ntop(ifa->ifa_family, b, text, sizeof(text));
			return beyond(data, "an address of its own (%s)", text);
		}
	}
	return 0;
}

/* venet.c's route to the prefix of an IPv6 address of venet0. */
static bool net_known(const struct known *k, struct nlmsghdr *nlh)
{
	struct nlattr *tb[RTA_MAX + 1];
	const struct rtmsg *rt = nlmsg_data(nlh);
	if (nlmsg_parse(nlh, sizeof(*rt), tb, RTA_MAX, NULL) < 0 || !tb[RTA_DST] || nla_len(tb[RTA_DST]) != 16)
		return false;
	for (size_t i = 0; i < k->nnets; i++)
		if (k->nets[i].prefix == rt->rtm_dst_len && !memcmp(k->nets[i].bytes, nla_data(tb[RTA_DST]), 16))
			return true;
	return false;
}

/* The kernel's routes (addresses' prefixes, local, multicast, router
 * advertisements) and default routes are remade with the addresses;
 * any other route was added inside. */
static int on_route(struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rt = nlmsg_data(nlh);
	if (!nlmsg_valid_hdr(nlh, sizeof(*rt)))
		return 0;
	if (rt->rtm_protocol == RTPROT_KERNEL || rt->rtm_protocol == RTPROT_RA)
		return 0;
	if (rt->rtm_dst_len == 0 && rt->rtm_table == RT_TABLE_MAIN)
		return 0;
	if (rt->rtm_family == AF_INET6 && rt->rtm_table == RT_TABLE_MAIN && net_known(data, nlh))
		return 0;
	return beyond(data, "a route of its own (table %u, /%u, protocol %u)", rt->rtm_table,
		      rt->rtm_dst_len, rt->rtm_protocol);
}

static int dump(struct nvz_nl *nl, uint16_t type, const void *hdr, size_t hdrlen, nvz_nl_cb cb,
		void *k)
{
	cleanup_nlmsg struct nl_msg *msg = nvz_nl_msg(nl, type, NLM_F_DUMP, hdr, hdrlen);
	char ext[NVZ_NL_EXTSZ] = "";
	return nvz_nl_talk(nl, msg, cb, k, ext, sizeof(ext));
}

static int count_reply(struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	++*(int *)data;
	return 0;
}

/* nftables tables in the namespace (iptables-nft makes them too). */
static int nft_tables(int netns)
{
	cleanup_nl struct nvz_nl nl = { 0 };
	int r = nvz_nl_open_proto(netns, NETLINK_NETFILTER, &nl, NULL);
	if (r < 0) /* no nfnetlink: no nftables either */
		return r == -EPROTONOSUPPORT ? 0 : -1;
	int n = 0;
	struct nfgenmsg g = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0 };
	uint16_t type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE;
	r = dump(&nl, type, &g, sizeof(g), count_reply, &n);
	if (r == -ENOENT || r == -EOPNOTSUPP || r == -EPROTONOSUPPORT)
		return 0; /* nf_tables not loaded: no table anywhere */
	return r < 0 ? -1 : n;
}

/* Legacy iptables tables that exist in the namespace (the files list them
 * per namespace; absent when the module is not loaded). */
static bool xtables_used(int netns, char *which, size_t len)
{
	static const char *const files[] = { "ip_tables_names", "ip6_tables_names", "arp_tables_names" };
	int saved;
	if (nvz_netns_enter(netns, &saved, NULL) < 0)
		return true;
	bool used = false;
	for (size_t i = 0; i < 3 && !used; i++) {
		char path[64], c;
		snprintf(path, sizeof(path), "/proc/thread-self/net/%s", files[i]);
		cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && read(fd, &c, 1) == 1) {
			used = true;
			snprintf(which, len, "%s", files[i]);
		}
	}
	if (nvz_netns_leave(&saved, NULL) < 0)
		return true;
	return used;
}

static bool forwarding(int netns)
{
	static const char *const keys[] = { "net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding" };
	for (size_t i = 0; i < 2; i++) {
		char v[16] = "";
		if (nvz_net_sysctl_read(netns, keys[i], v, sizeof(v), NULL) == 0 && v[0] != '0')
			return true;
	}
	return false;
}

static void learn_config(struct known *k, const char *ips, const char *netif)
{
	add_link(k, "lo");
	if (ips && *ips) {
		add_link(k, "venet0");
		char copy[4096];
		snprintf(copy, sizeof(copy), "%s", ips);
		for (char *sp, *w = strtok_r(copy, " \t", &sp); w; w = strtok_r(NULL, " \t", &sp)) {
			add_addr(k, w);
			struct nvz_addr *n = &k->nets[k->nnets];
			if (k->nnets < MAX_KNOWN && nvz_addr_parse(w, n, NULL) == 0 && n->family == AF_INET6 &&
			    n->prefix < 128) {
				nvz_addr_network(n);
				k->nnets++;
			}
		}
	}
	struct nvz_netifs all = { 0 };
	if (netif && *netif && nvz_netif_parse(netif, &all, NULL) == 0)
		for (size_t i = 0; i < all.n; i++) {
			add_link(k, all.v[i].ifname);
			for (size_t j = 0; j < all.v[i].nips; j++)
				add_addr(k, all.v[i].ips[j]);
		}
}

bool nvz_netns_only_config(int netns, const char *ips, const char *netif, char *why, size_t len)
{
	struct known k = { .why = why, .len = len };
	snprintf(why, len, "it could not be inspected");
	learn_config(&k, ips, netif);
	cleanup_nl struct nvz_nl nl = { 0 };
	if (nvz_nl_open(netns, &nl, NULL) < 0)
		return false;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC };
	struct rtmsg rt4 = { .rtm_family = AF_INET }, rt6 = { .rtm_family = AF_INET6 };
	if (dump(&nl, RTM_GETLINK, &ifi, sizeof(ifi), on_link, &k) < 0 ||
	    dump(&nl, RTM_GETADDR, &ifa, sizeof(ifa), on_addr, &k) < 0 ||
	    dump(&nl, RTM_GETROUTE, &rt4, sizeof(rt4), on_route, &k) < 0 ||
	    dump(&nl, RTM_GETROUTE, &rt6, sizeof(rt6), on_route, &k) < 0)
		return false;
	char which[32];
	if (xtables_used(netns, which, sizeof(which))) {
		snprintf(why, len, "iptables rules (%s)", which);
		return false;
	}
	int nft = nft_tables(netns);
	if (nft != 0) {
		snprintf(why, len, nft > 0 ? "nftables tables" : "nftables could not be inspected");
		return false;
	}
	if (forwarding(netns)) {
		snprintf(why, len, "forwarding on");
		return false;
	}
	return true;
}
