/* Gratuitous ARP: the frame's fields, and a real one sent over a veth pair
 * in a private network namespace and read back with a packet socket. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/if_ether.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "nvz/net.h"

static const uint8_t mac[6] = { 0x00, 0x18, 0x51, 0x0a, 0x0b, 0x0c };

Test(garp, frame_fields)
{
	struct ether_arp a;
	const uint8_t ip[4] = { 192, 0, 2, 10 };
	nvz_garp_frame(mac, ip, &a);
	cr_assert_eq(ntohs(a.arp_hrd), ARPHRD_ETHER);
	cr_assert_eq(ntohs(a.arp_pro), ETHERTYPE_IP);
	cr_assert_eq(ntohs(a.arp_op), ARPOP_REQUEST);
	cr_assert_eq(memcmp(a.arp_sha, mac, 6), 0);
	cr_assert_eq(memcmp(a.arp_spa, ip, 4), 0, "sender is the announced address");
	cr_assert_eq(memcmp(a.arp_tpa, ip, 4), 0, "target is the announced address too");
	const uint8_t zero[6] = { 0 };
	cr_assert_eq(memcmp(a.arp_tha, zero, 6), 0);
}

Test(garp, sent_on_the_wire)
{
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	struct nvz_error *e = NULL;
	cr_assert_eq(nvz_link_veth_add(-1, "ga0", "gb0", -1, mac, NULL, 0, &e), 0, "%s", e ? e->msg : "");
	cr_assert_eq(nvz_link_set_up(-1, "ga0", true, &e), 0);
	cr_assert_eq(nvz_link_set_up(-1, "gb0", true, &e), 0);
	cleanup_close int rx = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
	cr_assert_geq(rx, 0);
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP),
				  .sll_ifindex = (int)if_nametoindex("gb0") };
	cr_assert_eq(bind(rx, (struct sockaddr *)&ll, sizeof(ll)), 0);
	struct nvz_addr a;
	cr_assert_eq(nvz_addr_parse("198.51.100.7", &a, &e), 0);
	cr_assert_eq(nvz_garp_send(-1, "ga0", &a, &e), 0, "%s", e ? e->msg : "");
	struct pollfd p = { .fd = rx, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 2000), 1, "no frame arrived");
	struct ether_arp got;
	struct sockaddr_ll from;
	socklen_t fl = sizeof(from);
	cr_assert_eq(recvfrom(rx, &got, sizeof(got), 0, (struct sockaddr *)&from, &fl), (ssize_t)sizeof(got));
	cr_assert_eq(from.sll_pkttype, PACKET_BROADCAST);
	cr_assert_eq(memcmp(got.arp_sha, mac, 6), 0, "sender MAC is ga0's");
	cr_assert_eq(memcmp(got.arp_spa, a.bytes, 4), 0);
	cr_assert_eq(memcmp(got.arp_tpa, a.bytes, 4), 0);
	/* IPv6 has nothing to announce by ARP. */
	cr_assert_eq(nvz_addr_parse("2001:db8::7", &a, &e), 0);
	cr_assert_eq(nvz_garp_send(-1, "ga0", &a, &e), 0);
	cr_assert_lt(nvz_garp_send(-1, "nosuchdev0", &(struct nvz_addr){ .family = AF_INET }, &e), 0);
	cr_assert_not_null(e);
	nvz_error_free(e);
}
