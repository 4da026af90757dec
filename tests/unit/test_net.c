/* Unit tests of lib/net on the real kernel. Every test that touches the network
 * first moves its own (Criterion-forked) process into fresh network and mount
 * namespaces, with a private sysfs so /sys/class/net shows that netns; the
 * host's network is never touched. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nvz/cleanup.h"
#include "nvz/error.h"
#include "nvz/net.h"
#include "nvz/netif.h"

static void fresh_netns(void)
{
	cr_assert_eq(unshare(CLONE_NEWNET | CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	/* Private propagation first, so the sysfs below never reaches the host. */
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	cr_assert_eq(mount("sysfs", "/sys", "sysfs", 0, NULL), 0, "sysfs: %s", strerror(errno));
}

/* A second netns kept alive by its fd; the thread stays where it was. */
static int second_netns(void)
{
	cleanup_close int cur = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(cur, 0);
	cr_assert_eq(unshare(CLONE_NEWNET), 0);
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(setns(cur, CLONE_NEWNET), 0);
	return fd;
}

static ino_t netns_ino(void)
{
	struct stat st;
	cr_assert_eq(stat("/proc/thread-self/ns/net", &st), 0);
	return st.st_ino;
}

#define OK(call)                                                                           \
	do {                                                                               \
		struct nvz_error *e_ = NULL;                                               \
		int r_ = (call);                                                           \
		cr_assert_geq(r_, 0, "%s: %s", #call, e_ ? e_->msg : "?");                 \
		(void)e_;                                                                  \
	} while (0)
#define E (&e_)

/* Expect failure with a status and a message fragment. */
#define FAILS(call, want_status, frag)                                                     \
	do {                                                                               \
		struct nvz_error *e_ = NULL;                                               \
		int r_ = (call);                                                           \
		cr_assert_lt(r_, 0, "%s unexpectedly succeeded", #call);                   \
		cr_assert_not_null(e_);                                                    \
		cr_assert_eq(e_->status, (want_status), "%s: status %d (%s)", #call,       \
			     e_->status, e_->msg);                                         \
		cr_assert_not_null(strstr(e_->msg, (frag)), "%s: '%s'", #call, e_->msg);   \
		nvz_error_free(e_);                                                        \
	} while (0)

static struct nvz_addr addr(const char *s)
{
	struct nvz_addr a;
	struct nvz_error *e = NULL;
	cr_assert_eq(nvz_addr_parse(s, &a, &e), 0, "%s", s);
	return a;
}

static void read_sys(const char *path, char *buf, size_t len)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_not_null(fgets(buf, (int)len, f));
	buf[strcspn(buf, "\n")] = '\0';
}

static bool file_has(const char *path, const char *a, const char *b)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	char line[512];
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, a) && (!b || strstr(line, b)))
			return true;
	return false;
}

/* The flags column of /proc/net/if_inet6 for an address, -1 if absent. */
static int inet6_flags(const char *hex)
{
	cleanup_fclose FILE *f = fopen("/proc/net/if_inet6", "re");
	char a[40], dev[32];
	unsigned idx, plen, scope, flags;
	cr_assert_not_null(f);
	while (fscanf(f, "%39s %x %x %x %x %31s", a, &idx, &plen, &scope, &flags, dev) == 6)
		if (!strcmp(a, hex))
			return (int)flags;
	return -1;
}

Test(net, addr_parse)
{
	struct nvz_addr a;
	char buf[64];
	a = addr("192.0.2.10/24");
	cr_assert_eq(a.family, AF_INET);
	cr_assert_eq(a.prefix, 24);
	cr_assert_eq(a.bytes[0], 192);
	cr_assert_eq(a.bytes[3], 10);
	cr_assert_eq(addr("192.0.2.10").prefix, 32);
	a = addr("2001:db8::10/64");
	cr_assert_eq(a.family, AF_INET6);
	cr_assert_eq(a.prefix, 64);
	cr_assert_eq(addr("::1").prefix, 128);
	cr_assert_eq(nvz_addr_format(&a, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "2001:db8::10/64");
	const char *bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4/33", "1.2.3.4/",
			      "1.2.3.4/-1", "1.2.3.4/ 8", "1.2.3.4/0x8", "2001:db8::/129",
			      "2001:db8:::1", "hello", " 1.2.3.4", "1.2.3.4/24/8" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "invalid IP address '%s'", bad[i]);
		FAILS(nvz_addr_parse(bad[i], &a, E), NVZ_E_VALUE, want);
	}
}

/* What a CT cannot be given (nvz_addr_unusable), and what it can. */
Test(net, addr_unusable)
{
	struct {
		const char *ip, *why;
	} t[] = {
		{ "224.0.0.1", "(multicast address)" }, { "239.255.255.250", "(multicast address)" },
		{ "ff02::1", "(multicast address)" },   { "ff05::1:3/64", "(multicast address)" },
		{ "fe80::1", "(link-local address)" },  { "febf::5/64", "(link-local address)" },
		{ "::1", "(loopback address)" },        { "127.0.0.1", NULL },
		{ "10.0.0.1/0", NULL },                 { "2001:db8::1/0", NULL },
		{ "223.255.255.255", NULL },            { "240.0.0.1", NULL },
		{ "fec0::1", NULL },                    { "::2", NULL },
		{ "::ffff:224.0.0.1", NULL },           { "0.0.0.0", NULL },
		{ "169.254.0.1", "(the containers' venet gateway)" },
		{ "169.254.0.1/16", "(the containers' venet gateway)" }, { "169.254.0.2", NULL },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nvz_addr a = addr(t[i].ip);
		const char *why = nvz_addr_unusable(&a);
		if (t[i].why)
			cr_assert_str_eq(why ? why : "(null)", t[i].why, "%s", t[i].ip);
		else
			cr_assert_null(why, "%s: %s", t[i].ip, why);
	}
}

Test(net, mac_parse_and_generate)
{
	uint8_t m[6], m2[6];
	char s[NVZ_MAC_STRLEN];
	OK(nvz_mac_parse("00:18:51:AA:bb:0c", m, E));
	nvz_mac_format(m, s);
	cr_assert_str_eq(s, "00:18:51:aa:bb:0c");
	OK(nvz_mac_parse("02-00-00-00-00-01", m, E));
	const char *bad[] = { "00:18:51:aa:bb", "00:18:51:aa:bb:cc:dd", "0:18:51:aa:bb:cc",
			      "00:18:51:aa:bb:cg", "00:18-51:aa:bb:cc", "01:00:5e:00:00:01",
			      "+0:18:51:aa:bb:cc", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		FAILS(nvz_mac_parse(bad[i], m, E), NVZ_E_VALUE, "invalid MAC address");

	nvz_mac_generate(101, "eth0", "host-a", m);
	nvz_mac_generate(101, "eth0", "host-a", m2);
	cr_assert_arr_eq(m, m2, 6, "same inputs, same MAC");
	cr_assert(m[0] == 0x00 && m[1] == 0x18 && m[2] == 0x51, "OpenVZ OUI");
	cr_assert_eq(m[0] & 1, 0, "unicast");
	nvz_mac_generate(102, "eth0", "host-a", m2);
	cr_assert(memcmp(m, m2, 6), "ctid changes the MAC");
	nvz_mac_generate(101, "eth1", "host-a", m2);
	cr_assert(memcmp(m, m2, 6), "ifname changes the MAC");
	nvz_mac_generate(101, "eth0", "host-b", m2);
	cr_assert(memcmp(m, m2, 6), "seed changes the MAC");

	cr_assert(nvz_ifname_valid("veth101.0"));
	cr_assert_not(nvz_ifname_valid("0123456789abcdef"));
	cr_assert_not(nvz_ifname_valid("a/b"));
	cr_assert_not(nvz_ifname_valid("a b"));
	cr_assert_not(nvz_ifname_valid(".."));
	cr_assert_not(nvz_ifname_valid(""));
}

/* veth across two namespaces, both up, addressed, and a TCP connection over it. */
Test(net, veth_traffic_between_namespaces)
{
	fresh_netns();
	cleanup_close int ns2 = second_netns();
	ino_t self = netns_ino();
	struct nvz_link_info li;
	struct nvz_addr a1 = addr("10.99.0.1/24"), a2 = addr("10.99.0.2/24");

	OK(nvz_link_veth_add(-1, "nvzt0", "nvzt1", ns2, NULL, NULL, 1400, E));
	cr_assert_eq(netns_ino(), self, "the thread came back to its netns");
	OK(nvz_link_exists(-1, "nvzt0", E) == 1 ? 0 : -1);
	OK(nvz_link_exists(-1, "nvzt1", E) == 0 ? 0 : -1);
	OK(nvz_link_exists(ns2, "nvzt1", E) == 1 ? 0 : -1);
	OK(nvz_link_get(ns2, "nvzt1", &li, E));
	cr_assert_str_eq(li.kind, "veth");
	cr_assert_eq(li.mtu, 1400);
	cr_assert(access("/sys/class/net/nvzt0", F_OK) == 0);
	cr_assert(access("/sys/class/net/nvzt1", F_OK) != 0);

	OK(nvz_link_set_up(-1, "nvzt0", true, E));
	OK(nvz_link_set_up(ns2, "nvzt1", true, E));
	OK(nvz_addr_add(-1, "nvzt0", &a1, 0, E));
	OK(nvz_addr_add(ns2, "nvzt1", &a2, 0, E));
	FAILS(nvz_addr_add(-1, "nvzt0", &a1, 0, E), NVZ_E_VALUE, "already on device 'nvzt0'");
	cr_assert_eq(netns_ino(), self);
	OK(nvz_link_get(-1, "nvzt0", &li, E));
	cr_assert(li.flags & 1 /* IFF_UP */);

	cleanup_close int srv = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(7099) };
	memcpy(&sa.sin_addr, a1.bytes, 4);
	cr_assert_eq(bind(srv, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
	cr_assert_eq(listen(srv, 1), 0);
	/* The client socket is born in ns2 and stays there. */
	cleanup_close int back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert_eq(setns(ns2, CLONE_NEWNET), 0);
	cleanup_close int cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(setns(back, CLONE_NEWNET), 0);
	cr_assert_eq(connect(cli, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s",
		     strerror(errno));
	cleanup_close int conn = accept(srv, NULL, NULL);
	cr_assert_geq(conn, 0);
	cr_assert_eq(write(cli, "ping", 4), 4);
	char got[8] = { 0 };
	cr_assert_eq(read(conn, got, sizeof(got)), 4);
	cr_assert_str_eq(got, "ping");

	OK(nvz_addr_del(ns2, "nvzt1", &a2, E));
	FAILS(nvz_addr_del(ns2, "nvzt1", &a2, E), NVZ_E_VALUE, "not on device 'nvzt1'");
	OK(nvz_link_del(-1, "nvzt0", E));
	OK(nvz_link_exists(ns2, "nvzt1", E) == 0 ? 0 : -1);
}

Test(net, bridge_master_mac_rename_move)
{
	fresh_netns();
	cleanup_close int ns2 = second_netns();
	char buf[64];
	uint8_t mac[6];
	struct nvz_link_info br, li;

	OK(nvz_bridge_add(-1, "br0", E));
	OK(nvz_link_veth_add(-1, "nvzt0", "nvzp0", -1, NULL, NULL, 0, E));
	OK(nvz_link_veth_add(-1, "nvzt1", "nvzp1", -1, NULL, NULL, 0, E));
	OK(nvz_link_set_master(-1, "nvzt0", "br0", E));
	OK(nvz_link_set_master(-1, "nvzt1", "br0", E));
	OK(nvz_link_get(-1, "br0", &br, E));
	cr_assert_str_eq(br.kind, "bridge");
	OK(nvz_link_get(-1, "nvzt1", &li, E));
	cr_assert_eq(li.master, br.index);
	cr_assert_gt(readlink("/sys/class/net/nvzt0/master", buf, sizeof(buf)), 0);
	cr_assert(access("/sys/class/net/br0/brif/nvzt0", F_OK) == 0);
	cr_assert(access("/sys/class/net/br0/brif/nvzt1", F_OK) == 0);
	OK(nvz_link_set_master(-1, "nvzt1", NULL, E));
	cr_assert(access("/sys/class/net/br0/brif/nvzt1", F_OK) != 0);
	FAILS(nvz_link_set_master(-1, "nvzt1", "nope0", E), NVZ_E_VALUE, "unknown bridge 'nope0'");
	FAILS(nvz_link_set_master(-1, "nvzt1", "nvzp0", E), NVZ_E_VALUE, "unknown bridge 'nvzp0'");

	OK(nvz_mac_parse("00:18:51:12:34:56", mac, E));
	OK(nvz_link_set_mac(-1, "nvzt1", mac, E));
	read_sys("/sys/class/net/nvzt1/address", buf, sizeof(buf));
	cr_assert_str_eq(buf, "00:18:51:12:34:56");
	OK(nvz_link_veth_add(-1, "nvzt2", "nvzp2", -1, mac, (uint8_t[]){ 2, 0, 0, 0, 0, 9 }, 0,
			     E));
	read_sys("/sys/class/net/nvzp2/address", buf, sizeof(buf));
	cr_assert_str_eq(buf, "02:00:00:00:00:09");

	OK(nvz_link_rename(-1, "nvzp1", "nvzr1", E));
	cr_assert(access("/sys/class/net/nvzr1", F_OK) == 0);
	FAILS(nvz_link_rename(-1, "nvzr1", "nvzt0", E), NVZ_E_SYSTEM, "'nvzt0' already exists");
	OK(nvz_link_set_mtu(-1, "nvzr1", 1280, E));
	read_sys("/sys/class/net/nvzr1/mtu", buf, sizeof(buf));
	cr_assert_str_eq(buf, "1280");

	OK(nvz_link_move(-1, "nvzr1", ns2, E));
	cr_assert(access("/sys/class/net/nvzr1", F_OK) != 0);
	OK(nvz_link_exists(ns2, "nvzr1", E) == 1 ? 0 : -1);
	OK(nvz_link_move(ns2, "nvzr1", open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), E));
	cr_assert(access("/sys/class/net/nvzr1", F_OK) == 0);
}

Test(net, bad_inputs)
{
	fresh_netns();
	uint8_t mcast[6] = { 1, 0, 0x5e, 0, 0, 1 };
	struct nvz_addr a = addr("192.0.2.1/24");
	OK(nvz_link_veth_add(-1, "nvzt0", "nvzt1", -1, NULL, NULL, 0, E));
	FAILS(nvz_link_veth_add(-1, "nvzt0", "nvzx", -1, NULL, NULL, 0, E), NVZ_E_SYSTEM,
	      "device 'nvzt0' already exists");
	FAILS(nvz_link_veth_add(-1, "nvzx", "nvzt1", -1, NULL, NULL, 0, E), NVZ_E_SYSTEM,
	      "device 'nvzt1' already exists");
	FAILS(nvz_bridge_add(-1, "nvzt0", E), NVZ_E_SYSTEM, "device 'nvzt0' already exists");
	FAILS(nvz_link_veth_add(-1, "waytoolongname0123", "p", -1, NULL, NULL, 0, E),
	      NVZ_E_VALUE, "invalid interface name 'waytoolongname0123'");
	FAILS(nvz_link_veth_add(-1, "nvzx", "nvzy", -1, mcast, NULL, 0, E), NVZ_E_VALUE,
	      "multicast");
	FAILS(nvz_link_set_mac(-1, "nvzt0", mcast, E), NVZ_E_VALUE, "invalid MAC address");
	FAILS(nvz_link_set_up(-1, "nvzmissing", true, E), NVZ_E_VALUE,
	      "no such device 'nvzmissing'");
	FAILS(nvz_link_del(-1, "nvzmissing", E), NVZ_E_VALUE, "no such device 'nvzmissing'");
	FAILS(nvz_addr_add(-1, "nvzmissing", &a, 0, E), NVZ_E_VALUE, "no such device");
	FAILS(nvz_link_move(-1, "nvzt0", -1, E), NVZ_E_SYSTEM, "no target namespace");
	FAILS(nvz_link_set_mtu(-1, "nvzt0", 100000, E), NVZ_E_SYSTEM, "set MTU of device 'nvzt0'");
	cr_assert_eq(nvz_link_exists(-1, "nvzx", NULL), 0, "nothing half-made");
}

Test(net, proxy_neighbours)
{
	fresh_netns();
	struct nvz_addr v4 = addr("192.0.2.10"), v6 = addr("2001:db8::10"),
			other = addr("192.0.2.11");
	OK(nvz_link_veth_add(-1, "nvzt0", "nvzt1", -1, NULL, NULL, 0, E));
	OK(nvz_neigh_proxy_add(-1, "nvzt0", &v4, E));
	OK(nvz_neigh_proxy_add(-1, "nvzt0", &v4, E)); /* idempotent */
	OK(nvz_neigh_proxy_add(-1, "nvzt0", &v6, E));
	cr_assert_eq(nvz_neigh_proxy_exists(-1, "nvzt0", &v4, NULL), 1);
	cr_assert_eq(nvz_neigh_proxy_exists(-1, "nvzt0", &v6, NULL), 1);
	cr_assert_eq(nvz_neigh_proxy_exists(-1, "nvzt0", &other, NULL), 0);
	cr_assert_eq(nvz_neigh_proxy_exists(-1, "nvzt1", &v4, NULL), 0);
	OK(nvz_neigh_proxy_del(-1, "nvzt0", &v4, E));
	cr_assert_eq(nvz_neigh_proxy_exists(-1, "nvzt0", &v4, NULL), 0);
	cr_assert_eq(nvz_neigh_proxy_exists(-1, "nvzt0", &v6, NULL), 1);
	FAILS(nvz_neigh_proxy_del(-1, "nvzt0", &v4, E), NVZ_E_SYSTEM, "192.0.2.10");
}

Test(net, routes)
{
	fresh_netns();
	struct nvz_addr a = addr("10.99.0.1/24"), gw = addr("10.99.0.2"),
			net = addr("10.98.7.1/16"), far = addr("203.0.113.1"),
			v6 = addr("2001:db8::1/64"), v6net = addr("2001:db8:1::/48");
	OK(nvz_link_veth_add(-1, "nvzt0", "nvzt1", -1, NULL, NULL, 0, E));
	OK(nvz_link_set_up(-1, "nvzt1", true, E));
	OK(nvz_link_set_up(-1, "nvzt0", true, E));
	OK(nvz_addr_add(-1, "nvzt0", &a, 0, E));

	struct nvz_route via = { .family = AF_INET, .dst = &net, .gw = &gw, .dev = "nvzt0" };
	OK(nvz_route_add(-1, &via, E));
	/* /proc/net/route: iface, dest, gateway in little-endian hex. */
	cr_assert(file_has("/proc/net/route", "nvzt0\t0000620A\t0200630A", NULL));
	FAILS(nvz_route_add(-1, &via, E), NVZ_E_SYSTEM, "route 10.98.7.1/16 via 10.99.0.2 dev nvzt0 already exists");
	OK(nvz_route_del(-1, &via, E));
	cr_assert_not(file_has("/proc/net/route", "nvzt0\t0000620A", NULL));
	FAILS(nvz_route_del(-1, &via, E), NVZ_E_SYSTEM, "no such route");

	struct nvz_route def = { .family = AF_INET, .dev = "nvzt0" };
	OK(nvz_route_add(-1, &def, E));
	cr_assert(file_has("/proc/net/route", "nvzt0\t00000000\t00000000", NULL));
	OK(nvz_route_del(-1, &def, E));
	cr_assert_not(file_has("/proc/net/route", "nvzt0\t00000000", NULL));

	/* A gateway outside every subnet needs onlink. */
	struct nvz_route odd = { .family = AF_INET, .gw = &far, .dev = "nvzt0" };
	FAILS(nvz_route_add(-1, &odd, E), NVZ_E_SYSTEM, "add route default via 203.0.113.1");
	odd.flags = NVZ_ROUTE_ONLINK;
	OK(nvz_route_add(-1, &odd, E));
	cr_assert(file_has("/proc/net/route", "nvzt0\t00000000\t017100CB", NULL));

	OK(nvz_net_sysctl(-1, "net/ipv6/conf/nvzt0/accept_dad", "0", E));
	OK(nvz_addr_add(-1, "nvzt0", &v6, 0, E));
	struct nvz_route r6 = { .family = AF_INET6, .dst = &v6net, .dev = "nvzt0" };
	OK(nvz_route_add(-1, &r6, E));
	cr_assert(file_has("/proc/net/ipv6_route", "20010db8000100000000000000000000 30", "nvzt0"));
	OK(nvz_route_del(-1, &r6, E));
	cr_assert_not(file_has("/proc/net/ipv6_route", "20010db8000100000000000000000000 30", NULL));

	struct nvz_route mixed = { .family = AF_INET, .dst = &v6, .dev = "nvzt0" };
	FAILS(nvz_route_add(-1, &mixed, E), NVZ_E_VALUE, "mixed address families");
	struct nvz_route nowhere = { .family = AF_INET };
	FAILS(nvz_route_add(-1, &nowhere, E), NVZ_E_VALUE, "needs a gateway or a device");
}

Test(net, ipv6_address_and_sysctl)
{
	fresh_netns();
	cleanup_close int ns2 = second_netns();
	char v[32];
	struct nvz_addr a = addr("2001:db8::10/64"), b = addr("2001:db8::11/64");
	OK(nvz_link_veth_add(-1, "nvzt0", "nvzt1", ns2, NULL, NULL, 0, E));
	OK(nvz_net_sysctl(-1, "net/ipv6/conf/nvzt0/accept_dad", "0", E));
	OK(nvz_net_sysctl_read(-1, "net/ipv6/conf/nvzt0/accept_dad", v, sizeof(v), E));
	cr_assert_str_eq(v, "0");
	OK(nvz_link_set_up(-1, "nvzt0", true, E));
	OK(nvz_addr_add(-1, "nvzt0", &a, 0, E));
	cr_assert(file_has("/proc/net/if_inet6", "20010db8000000000000000000000010", "nvzt0"));
	/* With DAD left on, NODAD keeps the address usable at once: no
	 * "tentative" (0x40) in if_inet6's flags. */
	OK(nvz_link_veth_add(-1, "nvzt2", "nvzt3", -1, NULL, NULL, 0, E));
	OK(nvz_link_set_up(-1, "nvzt3", true, E));
	OK(nvz_link_set_up(-1, "nvzt2", true, E));
	OK(nvz_addr_add(-1, "nvzt2", &b, NVZ_ADDR_NODAD, E));
	int fl = inet6_flags("20010db8000000000000000000000011");
	cr_assert(fl >= 0 && !(fl & 0x40) && (fl & 0x02), "if_inet6 flags %x", fl);
	OK(nvz_addr_del(-1, "nvzt0", &a, E));
	cr_assert_not(file_has("/proc/net/if_inet6", "20010db8000000000000000000000010", NULL));

	/* Sysctls are per netns: setting it in ns2 leaves ours alone. */
	OK(nvz_net_sysctl(ns2, "net/ipv4/ip_forward", "1", E));
	OK(nvz_net_sysctl_read(ns2, "net/ipv4/ip_forward", v, sizeof(v), E));
	cr_assert_str_eq(v, "1");
	OK(nvz_net_sysctl_read(-1, "net/ipv4/ip_forward", v, sizeof(v), E));
	cr_assert_str_eq(v, "0");
	OK(nvz_net_sysctl_read(ns2, "net/ipv6/conf/nvzt1/accept_dad", v, sizeof(v), E));
	FAILS(nvz_net_sysctl(-1, "kernel/hostname", "x", E), NVZ_E_VALUE, "invalid network sysctl");
	FAILS(nvz_net_sysctl(-1, "net/../kernel/hostname", "x", E), NVZ_E_VALUE,
	      "invalid network sysctl");
	FAILS(nvz_net_sysctl(-1, "net/ipv4/no_such_key", "1", E), NVZ_E_VALUE,
	      "sysctl net/ipv4/no_such_key");
	FAILS(nvz_net_sysctl(-1, "net/ipv4/ip_forward", "bogus", E), NVZ_E_SYSTEM,
	      "set sysctl net/ipv4/ip_forward");
}

static int count_host_test_links(void)
{
	cleanup_dir DIR *d = opendir("/sys/class/net");
	cr_assert_not_null(d);
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += !strncmp(de->d_name, "nvzt", 4) || !strncmp(de->d_name, "nvzp", 4);
	return n;
}

/* Everything made in child namespaces vanishes with them; the host (whose
 * /sys/class/net this process still sees) never gets a test link. */
Test(net, nothing_leaks_to_host)
{
	int before = count_host_test_links();
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0)
			_exit(2);
		int ns2 = second_netns();
		int ok = nvz_bridge_add(-1, "nvzpbr", NULL) == 0 &&
			 nvz_link_veth_add(-1, "nvzt0", "nvzt1", ns2, NULL, NULL, 0, NULL) == 0 &&
			 nvz_link_set_master(-1, "nvzt0", "nvzpbr", NULL) == 0 &&
			 nvz_link_veth_add(ns2, "nvzt2", "nvzt3", -1, NULL, NULL, 0, NULL) == 0 &&
			 nvz_link_move(ns2, "nvzt2", open("/proc/self/ns/net", O_RDONLY), NULL) == 0 &&
			 nvz_link_exists(-1, "nvzt2", NULL) == 1;
		_exit(ok ? 0 : 1);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
	cr_assert_eq(count_host_test_links(), before);
	cr_assert_eq(before, 0, "host has nvzt*/nvzp* links: a leak");
}

/* Found by tests/fuzz/fuzz_net.c: the kernel takes "a;b" as a name, but
 * NETIF would be saved as a value that no longer parses. */
Test(net, netif_names_with_separators_refused)
{
	struct nvz_netifs n = { 0 };
	struct nvz_error *e = NULL;
	cr_assert_eq(nvz_netif_add_spec(&n, 101, ";e", "br0", "h", &e), -1);
	cr_assert_eq(e->status, NVZ_E_VALUE);
	nvz_error_free(e);
	e = NULL;
	cr_assert_eq(nvz_netif_add_spec(&n, 101, "eth0,,veth=1", "br0", "h", &e), -1);
	nvz_error_free(e);
	cr_assert_eq(nvz_netif_add_spec(&n, 101, "eth0", "br0", "h", NULL), 0);
	cleanup_free char *text = nvz_netif_format(&n);
	struct nvz_netifs back;
	cr_assert_eq(nvz_netif_parse(text, &back, NULL), 0);
	cr_assert_eq(back.n, 1);
	cr_assert_str_eq(back.v[0].host_ifname, "veth101.0");
}

Test(net, netif_mac_filter_round_trip)
{
	struct nvz_netifs n;
	struct nvz_error *e = NULL;
	cr_assert_eq(nvz_netif_parse("ifname=eth0,bridge=br0,mac_filter=on;ifname=eth1,mac_filter=off", &n, &e), 0);
	cr_assert(n.v[0].mac_filter);
	cr_assert(!n.v[1].mac_filter);
	cleanup_free char *text = nvz_netif_format(&n);
	cr_assert_str_eq(text, "ifname=eth0,bridge=br0,mac_filter=on;ifname=eth1");
	cr_assert_eq(nvz_netif_parse("ifname=eth0,mac_filter=yes", &n, &e), -1);
	cr_assert_eq(e->status, NVZ_E_VALUE);
	nvz_error_free(e);
}

/* vzctl's canon_ip: inet_ntop's spelling, a prefix only if given. */
Test(net, addr_canon)
{
	char buf[64];
	cr_assert_eq(nvz_addr_canon("2001:DB8:0:0::0010", buf, sizeof(buf), NULL), 0);
	cr_assert_str_eq(buf, "2001:db8::10");
	cr_assert_eq(nvz_addr_canon("2001:db8::10/064", buf, sizeof(buf), NULL), 0);
	cr_assert_str_eq(buf, "2001:db8::10/64");
	cr_assert_eq(nvz_addr_canon("10.0.0.1/24", buf, sizeof(buf), NULL), 0);
	cr_assert_str_eq(buf, "10.0.0.1/24");
	cr_assert_lt(nvz_addr_canon("10.0.0.1/255.255.255.0", buf, sizeof(buf), NULL), 0);
	struct nvz_addr a = addr("0.0.0.0"), b = addr("::"), c = addr("10.0.0.1");
	cr_assert(nvz_addr_unspecified(&a) && nvz_addr_unspecified(&b) && !nvz_addr_unspecified(&c));
}

/* vzctl's generate_veth_name: the number in the CT's interface name. */
Test(net, netif_default_host_ifname)
{
	const char *cases[][2] = { { "eth0", "veth101.0" }, { "eth01", "veth101.1" }, { "eth1a", "veth101.1" },
				   { "eth", "veth101.0" },  { "eth12", "veth101.12" } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nvz_netifs n = { 0 };
		cr_assert_eq(nvz_netif_add_spec(&n, 101, cases[i][0], "", "h", NULL), 0, "%s", cases[i][0]);
		cr_assert_str_eq(n.v[0].host_ifname, cases[i][1], "%s", cases[i][0]);
	}
}
