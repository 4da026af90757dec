/* Gratuitous ARP: "addr is at <ifname's MAC>", broadcast on ifname, so the
 * LAN's neighbour caches (hosts, routers, switches) move an address to this
 * server at once, as OpenVZ's arpsend -U did when a CT started or arrived
 * by migration. A raw AF_PACKET socket in the namespace, one frame. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/if_ether.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/nl.h"
#include "nvz/cleanup.h"
#include "nvz/net.h"

/* The ARP payload (RFC 826) of an announcement: a request whose sender and
 * target protocol addresses are both addr (RFC 5227 §3). */
void nvz_garp_frame(const uint8_t mac[NVZ_MAC_LEN], const uint8_t ip[4], struct ether_arp *out)
{
	memset(out, 0, sizeof(*out));
	out->arp_hrd = htons(ARPHRD_ETHER);
	out->arp_pro = htons(ETHERTYPE_IP);
	out->arp_hln = ETH_ALEN;
	out->arp_pln = 4;
	out->arp_op = htons(ARPOP_REQUEST);
	memcpy(out->arp_sha, mac, ETH_ALEN);
	memcpy(out->arp_spa, ip, 4);
	memcpy(out->arp_tpa, ip, 4);
}

static int send_frame(const char *ifname, const struct nvz_addr *a, struct nvz_error **err)
{
	cleanup_close int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "ARP socket");
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "MAC address of %s", ifname);
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return 0; /* no ARP on this link type */
	struct ether_arp arp;
	nvz_garp_frame((const uint8_t *)ifr.ifr_hwaddr.sa_data, a->bytes, &arp);
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = (int)if_nametoindex(ifname),
		.sll_halen = ETH_ALEN,
	};
	memset(to.sll_addr, 0xff, ETH_ALEN);
	if (!to.sll_ifindex)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "no such device '%s'", ifname);
	if (sendto(fd, &arp, sizeof(arp), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "send gratuitous ARP on %s", ifname);
	return 0;
}

int nvz_garp_send(int netns, const char *ifname, const struct nvz_addr *a, struct nvz_error **err)
{
	if (a->family != AF_INET)
		return 0; /* IPv6 neighbours learn by NDP; nothing to announce here */
	int saved = -1;
	if (nvz_netns_enter(netns, &saved, err) < 0)
		return -1;
	int r = send_frame(ifname, a, err);
	if (nvz_netns_leave(&saved, err) < 0)
		return -1;
	return r;
}
