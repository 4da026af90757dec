/* Netlink networking for containers: veth pairs, bridges, addresses, routes,
 * proxy ARP/NDP and per-netns sysctls, over rtnetlink (libnl-3). Never runs ip(8).
 *
 * Every call takes the network namespace to act in as an fd (from
 * open("/proc/<pid>/ns/net")), or -1 for the caller's current one. To act in
 * another namespace the calling thread briefly setns()es into it to create the
 * netlink socket (a socket stays bound to the netns it was created in) or to
 * open the /proc/sys file, then setns()es back before returning. So: the caller
 * needs CAP_SYS_ADMIN, and must not rely on that thread's netns while a call is
 * in progress. If switching back ever fails the call reports it loudly. */
#ifndef NVZ_NET_H
#define NVZ_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvz/error.h"

#define NVZ_MAC_LEN 6
#define NVZ_MAC_STRLEN 18 /* "xx:xx:xx:xx:xx:xx" + NUL */

/* An IPv4 or IPv6 address with its prefix length. */
struct nvz_addr {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t bytes[16]; /* network order; 4 used for AF_INET */
	unsigned prefix;   /* 0..32 or 0..128 */
};

/* "192.0.2.10", "192.0.2.10/24", "2001:db8::10/64". Without a prefix: /32 or
 * /128. Garbage fails with NVZ_E_VALUE and "invalid IP address 'X'". */
int nvz_addr_parse(const char *text, struct nvz_addr *out, struct nvz_error **err);
/* "addr/prefix" into buf (INET6_ADDRSTRLEN + 4 is enough). */
int nvz_addr_format(const struct nvz_addr *a, char *buf, size_t len);
size_t nvz_addr_len(int family);
/* The canonical text of an address (lower case, shortest IPv6 form, a
 * prefix kept only if given): what vzctl stored in IP_ADDRESS. */
int nvz_addr_canon(const char *text, char *buf, size_t len, struct nvz_error **err);
/* 0.0.0.0 or :: (vzctl ignored them in --ipadd/--ipdel and IP_ADDRESS). */
bool nvz_addr_unspecified(const struct nvz_addr *a);
/* Why a cannot be a CT's address, as "(reason)", or NULL. vzctl took any
 * address, but here the server routes each one to the CT and answers ARP
 * and NDP for it on the LAN: a multicast group's route would leave the
 * server for the CT, and a link-local address (fe80::1 is the CT's own
 * gateway, often the LAN router's too) would be claimed on the LAN and is
 * never forwarded anyway. The kernel refuses ::1 and IPv6 multicast on the
 * CT's venet0, so a CT given one would not start. 127.0.0.1 works (the
 * server's local route wins), as on OpenVZ. */
const char *nvz_addr_unusable(const struct nvz_addr *a);
/* a's network: the bits under its prefix kept, the host bits cleared. */
void nvz_addr_network(struct nvz_addr *a);

/* "00:18:51:aa:bb:cc" (also with '-'): unicast only. NVZ_E_VALUE on garbage. */
int nvz_mac_parse(const char *text, uint8_t out[NVZ_MAC_LEN], struct nvz_error **err);
void nvz_mac_format(const uint8_t mac[NVZ_MAC_LEN], char buf[NVZ_MAC_STRLEN]);
/* vzctl's generate_mac: OUI 00:18:51 (SWsoft) + a hash of "ifname:ctid:seed".
 * vzctl used time(NULL) as the seed; pass a host id instead so the same
 * (ctid, ifname, seed) always gives the same MAC. */
void nvz_mac_generate(unsigned ctid, const char *ifname, const char *seed,
		      uint8_t out[NVZ_MAC_LEN]);

/* Interface names: 1..15 bytes, no '/', ':', whitespace, not "." or "..". */
bool nvz_ifname_valid(const char *name);

struct nvz_link_info {
	int index;
	int master;     /* ifindex of the master (bridge), 0 if none */
	unsigned flags; /* IFF_* */
	unsigned mtu;
	uint8_t mac[NVZ_MAC_LEN];
	char kind[32]; /* IFLA_INFO_KIND: "veth", "bridge", or "" */
	char name[16];
	/* What a device is tied to, which a CT cannot forge for a device it
	 * makes itself: the other end (a veth's peer, a VLAN's lower device:
	 * IFLA_LINK, 0 if none or itself) and the namespace that end is in, as
	 * the querying namespace numbers it (-1: the same one); the bus device
	 * of a physical NIC ("0000:00:03.0", or ""). */
	int link;
	int link_netnsid;
	char parent[64];
};

/* Links. A missing device fails with -ENODEV, "no such device 'X'". */
int nvz_link_get(int netns, const char *name, struct nvz_link_info *out,
		 struct nvz_error **err);
/* 1 if it exists, 0 if not, < 0 on error. */
int nvz_link_exists(int netns, const char *name, struct nvz_error **err);
/* ifindex (> 0) or < 0. */
int nvz_link_index(int netns, const char *name, struct nvz_error **err);
/* Create the pair name <-> peer in netns; the peer goes straight into
 * peer_netns (-1: same netns). mac/peer_mac NULL: kernel-random. mtu 0: default. */
int nvz_link_veth_add(int netns, const char *name, const char *peer, int peer_netns,
		      const uint8_t *mac, const uint8_t *peer_mac, unsigned mtu,
		      struct nvz_error **err);
int nvz_bridge_add(int netns, const char *name, struct nvz_error **err);
int nvz_link_del(int netns, const char *name, struct nvz_error **err);
/* OpenVZ's mac_filter on a bridge port (link.c): only frames from mac
 * enter the bridge through port (on), or any, learnt again (off). */
int nvz_bridge_port_mac_filter(int netns, const char *port, const uint8_t mac[NVZ_MAC_LEN], bool on,
			       struct nvz_error **err);
int nvz_link_set_up(int netns, const char *name, bool up, struct nvz_error **err);
int nvz_link_set_mac(int netns, const char *name, const uint8_t mac[NVZ_MAC_LEN],
		     struct nvz_error **err);
int nvz_link_set_mtu(int netns, const char *name, unsigned mtu, struct nvz_error **err);
/* Older kernels refuse to rename a link that is up (EBUSY): bring it down first. */
int nvz_link_rename(int netns, const char *name, const char *newname, struct nvz_error **err);
int nvz_link_move(int netns, const char *name, int target_netns, struct nvz_error **err);
/* By ifindex, for a device whose name its namespace may have changed:
 * look it up (-ENODEV: "no such device #N"), and move it, renamed to
 * newname in the target (NULL: keeps its name). */
int nvz_link_get_index(int netns, int index, struct nvz_link_info *out, struct nvz_error **err);
int nvz_link_move_index(int netns, int index, int target_netns, const char *newname,
			struct nvz_error **err);
/* Enslave to bridge, or release with bridge NULL. bridge must exist and be a
 * bridge: NVZ_E_VALUE, "unknown bridge 'X'" otherwise. */
int nvz_link_set_master(int netns, const char *name, const char *bridge,
			struct nvz_error **err);

/* Addresses. NVZ_ADDR_NODAD skips IPv6 duplicate address detection. */
#define NVZ_ADDR_NODAD 0x1u
int nvz_addr_add(int netns, const char *ifname, const struct nvz_addr *a, unsigned flags,
		 struct nvz_error **err);
int nvz_addr_del(int netns, const char *ifname, const struct nvz_addr *a,
		 struct nvz_error **err);

/* Routes in the main table. Pointers left NULL are absent: dst NULL is the
 * default route; dst's host bits are cleared. Without a gateway the route is
 * link-scoped on dev. NVZ_ROUTE_ONLINK: trust gw to be on dev's link even if
 * no address covers it (as venet-style setups need). */
#define NVZ_ROUTE_ONLINK 0x1u
struct nvz_route {
	int family;
	const struct nvz_addr *dst;
	const struct nvz_addr *gw;
	const char *dev;
	const struct nvz_addr *src;
	unsigned flags;
	unsigned metric; /* 0: the kernel's default */
};
int nvz_route_add(int netns, const struct nvz_route *r, struct nvz_error **err);
/* Where the kernel would send a packet to dst (`ip route get`): the output
 * interface's index (0: no route) and the gateway, if any. */
struct nvz_route_to {
	int oif;
	bool has_gw;
	struct nvz_addr gw;
};
int nvz_route_to(int netns, const struct nvz_addr *dst, struct nvz_route_to *out, struct nvz_error **err);
int nvz_route_del(int netns, const struct nvz_route *r, struct nvz_error **err);

/* Proxy neighbour entries (NTF_PROXY): the namespace answers ARP/NDP on ifname
 * for addr, e.g. the host answering for a container's address. */
int nvz_neigh_proxy_add(int netns, const char *ifname, const struct nvz_addr *a,
			struct nvz_error **err);
int nvz_neigh_proxy_del(int netns, const char *ifname, const struct nvz_addr *a,
			struct nvz_error **err);
/* 1 if present, 0 if not, < 0 on error. */
int nvz_neigh_proxy_exists(int netns, const char *ifname, const struct nvz_addr *a,
			   struct nvz_error **err);

/* Delete every nftables table (any family) in netns whose name starts
 * with prefix (lib/net/nft.c). */
int nvz_nft_drop_tables(int netns, const char *prefix, struct nvz_error **err);

/* /proc/sys/<key> as seen from netns, e.g. key "net/ipv4/ip_forward". Only
 * "net/" keys: they are the per-netns ones. */
int nvz_net_sysctl(int netns, const char *key, const char *value, struct nvz_error **err);
/* Read it into buf (trailing newline stripped). */
int nvz_net_sysctl_read(int netns, const char *key, char *buf, size_t len,
			struct nvz_error **err);

/* Wait until the link is operationally up (IFF_RUNNING), at most timeout_ms. */
int nvz_link_wait_running(int netns, const char *name, int timeout_ms, struct nvz_error **err);
/* Announce address a on dev with dev's MAC: gratuitous ARP (request and
 * reply forms) for IPv4, an unsolicited neighbour advertisement with the
 * override flag to ff02::1 for IPv6. */
int nvz_net_announce(int netns, const char *dev, const struct nvz_addr *a, struct nvz_error **err);

/* Does the network namespace hold only what nvz makes from a CT's config
 * (IP_ADDRESS ips, NETIF netif): lo, venet0 and NETIF's links, their
 * addresses (plus loopback and IPv6 link-local), kernel and default routes,
 * no iptables or nftables table, forwarding off? If not, or if it cannot
 * tell, false, and why names the first thing found. */
bool nvz_netns_only_config(int netns, const char *ips, const char *netif, char *why, size_t len);

#endif
