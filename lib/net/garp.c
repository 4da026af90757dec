/* Address announcements: a gratuitous ARP (IPv4) or an unsolicited
 * neighbour advertisement with the override flag (IPv6) for an address, sent
 * on a link with that link's MAC. Neighbours that cached another MAC for the
 * address (the CT ran on another server before a migration, or a previous
 * pair) switch at once instead of when their cache entry times out. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/nl.h"
#include "nvz/cleanup.h"
#include "nvz/net.h"

struct arp_ipv4 {
	struct arphdr h;
	uint8_t sha[6], spa[4], tha[6], tpa[4];
} __attribute__((packed));

struct na_packet {
	struct nd_neighbor_advert na;
	struct nd_opt_hdr opt;
	uint8_t mac[6];
} __attribute__((packed));

static int link_mac(int sock, const char *dev, uint8_t mac[6], struct nvz_error **err)
{
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(sock, SIOCGIFHWADDR, &ifr) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "MAC address of %s", dev);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

/* Both forms arping sends (-U request, -A reply): hosts differ in which one
 * updates their cache. */
static int send_garp(int sock, int ifindex, const uint8_t mac[6], const uint8_t ip[4],
		     struct nvz_error **err)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP),
				  .sll_ifindex = ifindex, .sll_halen = 6 };
	memset(to.sll_addr, 0xff, 6);
	for (int op = ARPOP_REQUEST; op <= ARPOP_REPLY; op++) {
		struct arp_ipv4 p = { .h = { htons(ARPHRD_ETHER), htons(ETH_P_IP), 6, 4, htons(op) } };
		memcpy(p.sha, mac, 6);
		memcpy(p.spa, ip, 4);
		memcpy(p.tpa, ip, 4);
		if (op == ARPOP_REPLY)
			memset(p.tha, 0xff, 6);
		if (sendto(sock, &p, sizeof(p), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "send gratuitous ARP");
	}
	return 0;
}

static int send_na(int sock, int ifindex, const uint8_t mac[6], const uint8_t ip[16],
		   struct nvz_error **err)
{
	/* Hop limit 255 or receivers drop it (RFC 4861 7.1.2). */
	int hops = 255;
	if (setsockopt(sock, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(sock, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof(ifindex)) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "set up neighbour advertisement");
	struct na_packet p = { .na = { .nd_na_type = ND_NEIGHBOR_ADVERT } };
	p.na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
	memcpy(&p.na.nd_na_target, ip, 16);
	p.opt.nd_opt_type = ND_OPT_TARGET_LINKADDR;
	p.opt.nd_opt_len = 1; /* in units of 8 bytes */
	memcpy(p.mac, mac, 6);
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_scope_id = (uint32_t)ifindex };
	inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
	/* The kernel fills in the ICMPv6 checksum on raw ICMPv6 sockets. */
	if (sendto(sock, &p, sizeof(p), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "send neighbour advertisement");
	return 0;
}

int nvz_net_announce(int netns, const char *dev, const struct nvz_addr *a, struct nvz_error **err)
{
	int saved = -1;
	if (nvz_netns_enter(netns, &saved, err) < 0)
		return -1;
	/* The sockets act in the netns they are created in. */
	cleanup_close int sock = a->family == AF_INET
					 ? socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP))
					 : socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	int e = errno;
	unsigned ifindex = if_nametoindex(dev);
	int e2 = errno;
	if (nvz_netns_leave(&saved, err) < 0)
		return -1;
	if (sock < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, e, "socket for announcements on %s", dev);
	if (!ifindex)
		return nvz_err_sys(err, NVZ_E_SYSTEM, e2, "no such device '%s'", dev);
	uint8_t mac[6];
	if (link_mac(sock, dev, mac, err) < 0)
		return -1;
	int r = a->family == AF_INET ? send_garp(sock, (int)ifindex, mac, a->bytes, err)
				     : send_na(sock, (int)ifindex, mac, a->bytes, err);
	return r < 0 ? nvz_err_wrap(err, "announce an address on %s", dev) : 0;
}
