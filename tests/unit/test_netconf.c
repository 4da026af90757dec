/* Unit tests of the CT network files nvz writes (lib/ct/netconf.c): the
 * ifupdown block, systemd-networkd files, /etc/hosts, and their writing
 * through in-root resolution into a scratch tree. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ct/netconf.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

static struct nvz_netifs parse_netif(const char *text)
{
	struct nvz_netifs n;
	cr_assert_eq(nvz_netif_parse(text, &n, NULL), 0, "parse %s", text);
	return n;
}

Test(netconf, ifupdown_venet_block_replaces_old_block)
{
	const char *old = "auto lo\niface lo inet loopback\n"
			  "# BEGIN nvz: stale\nauto venet0\niface venet0 inet manual\n# END nvz\n"
			  "source /etc/network/interfaces.d/*\n";
	cleanup_free char *t = nvz_netconf_ifupdown(old, "192.0.2.10 2001:db8::10", NULL);
	cr_assert_not_null(t);
	cr_assert_not_null(strstr(t, "auto lo\niface lo inet loopback\n"));
	cr_assert_not_null(strstr(t, "source /etc/network/interfaces.d/*\n"));
	cr_assert_null(strstr(t, "stale"));
	cr_assert_not_null(strstr(t, "\tup ip addr replace 192.0.2.10/32 dev venet0\n"));
	cr_assert_not_null(strstr(t, "\tup ip addr replace 2001:db8::10/128 dev venet0\n"));
	cr_assert_not_null(strstr(t, "default via 169.254.0.1 dev venet0 onlink\n"));
	cr_assert_not_null(strstr(t, "\tup ip -6 route replace default via fe80::1 dev venet0\n"));
	cr_assert_not_null(strstr(t, "\tdown ip addr del 192.0.2.10/32 dev venet0\n"));
	/* Exactly one block. */
	cr_assert_null(strstr(strstr(t, "# BEGIN nvz") + 1, "# BEGIN nvz"));
}

Test(netconf, ifupdown_ipv4_only_has_no_ipv6_route)
{
	cleanup_free char *t = nvz_netconf_ifupdown(NULL, "192.0.2.10", NULL);
	cr_assert_null(strstr(t, "fe80::1"));
}

/* An IPv6 prefix on venet0 goes via the host side, once per prefix; a
 * bridged interface's stays on-link. */
Test(netconf, ifupdown_venet_ipv6_prefix_via_host)
{
	struct nvz_netifs n = parse_netif("ifname=eth0,bridge=br0,ip=2001:db8:1::5/64");
	cleanup_free char *t = nvz_netconf_ifupdown(NULL, "2001:db8::10/64 2001:db8::11/64 2001:db8::12", &n);
	const char *line = "\tup ip -6 route replace 2001:db8::/64 via fe80::1 dev venet0 metric 1\n";
	cr_assert_not_null(strstr(t, line), "%s", t);
	cr_assert_null(strstr(strstr(t, line) + strlen(line), "route replace 2001:db8::/64"));
	cr_assert_null(strstr(t, "2001:db8:1::/64"));
	char addrs[1][64] = { "2001:db8::10/64" };
	cleanup_free char *nd = nvz_netconf_networkd("venet0", addrs, 1, NULL, "fe80::1");
	cr_assert_not_null(strstr(nd, "[Route]\nDestination=2001:db8::/64\nGateway=fe80::1\nGatewayOnLink=yes\nMetric=1\n"), "%s", nd);
}

Test(netconf, ifupdown_netif_with_addresses_only)
{
	struct nvz_netifs n = parse_netif("ifname=eth0,bridge=br0,ip=192.168.61.12/24,gw=192.168.61.1;"
					  "ifname=eth1,bridge=br1");
	cleanup_free char *t = nvz_netconf_ifupdown("", NULL, &n);
	cr_assert_not_null(strstr(t, "iface eth0 inet manual\n"));
	cr_assert_not_null(strstr(t, "\tup ip addr replace 192.168.61.12/24 dev eth0\n"));
	cr_assert_not_null(strstr(t, "\tup ip route replace default via 192.168.61.1 dev eth0 onlink\n"));
	/* eth1 has no address: left to the admin (DHCP, own stanza). */
	cr_assert_null(strstr(t, "eth1"));
	cr_assert_null(strstr(t, "venet0"));
}

Test(netconf, ifupdown_nothing_drops_block_keeps_rest)
{
	cleanup_free char *t = nvz_netconf_ifupdown(
		"auto lo\n# BEGIN nvz: x\nauto venet0\n# END nvz\nauto eth9\n", "", NULL);
	cr_assert_str_eq(t, "auto lo\nauto eth9\n");
}

Test(netconf, networkd_file)
{
	char addrs[2][64] = { "192.0.2.10/32", "2001:db8::10/128" };
	cleanup_free char *t = nvz_netconf_networkd("venet0", addrs, 2, "169.254.0.1", "fe80::1");
	cr_assert_not_null(strstr(t, "[Match]\nName=venet0\n"));
	cr_assert_not_null(strstr(t, "Address=192.0.2.10/32\nAddress=2001:db8::10/128\n"));
	cr_assert_not_null(strstr(t, "KeepConfiguration=static\n"));
	cr_assert_not_null(strstr(t, "[Route]\nGateway=169.254.0.1\nGatewayOnLink=yes\n"));
	cr_assert_not_null(strstr(t, "[Route]\nGateway=fe80::1\n"));
}

Test(netconf, hosts_uses_address_and_drops_old_names)
{
	const char *old = "127.0.0.1 localhost ct1\n::1 localhost ip6-localhost\n"
			  "127.0.1.1 old.example.com old\n192.0.2.9 old.example.com old\n"
			  "198.51.100.1 other\n";
	cleanup_free char *t = nvz_netconf_hosts(old, "new.example.com", "old.example.com", "192.0.2.10");
	cr_assert_str_eq(t, "127.0.0.1 localhost ct1\n::1 localhost ip6-localhost\n198.51.100.1 other\n"
			    "192.0.2.10 new.example.com new\n");
	cleanup_free char *u = nvz_netconf_hosts("127.0.0.1 localhost\n", "box", NULL, "");
	cr_assert_str_eq(u, "127.0.0.1 localhost\n127.0.1.1 box\n");
}

Test(netconf, main_addr_prefers_routed)
{
	struct nvz_netifs n = parse_netif("ifname=eth0,ip=192.168.61.12/24");
	char buf[64];
	nvz_netconf_main_addr("10.0.0.5/24 10.0.0.6", &n, buf, sizeof(buf));
	cr_assert_str_eq(buf, "10.0.0.5");
	nvz_netconf_main_addr(NULL, &n, buf, sizeof(buf));
	cr_assert_str_eq(buf, "192.168.61.12");
	nvz_netconf_main_addr("", NULL, buf, sizeof(buf));
	cr_assert_str_eq(buf, "");
}

static int scratch_root(char *dir)
{
	strcpy(dir, "/tmp/nvz-netconf.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char p[256];
	snprintf(p, sizeof(p), "%s/etc", dir);
	mkdir(p, 0755);
	return open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static char *slurp(const char *dir, const char *rel)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	FILE *f = fopen(p, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 8192);
	size_t n = fread(buf, 1, 8191, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

Test(netconf, writes_only_what_the_distribution_uses)
{
	char dir[64];
	cleanup_close int root = scratch_root(dir);
	/* Neither ifupdown nor systemd: nothing written. */
	cr_assert_eq(nvz_netconf_write(root, "192.0.2.10", NULL, NULL), 0);
	cleanup_free char *none = slurp(dir, "etc/network/interfaces");
	cr_assert_null(none);
	/* A systemd tree: a networkd file; stale nvz files swept, others kept. */
	char p[256];
	snprintf(p, sizeof(p), "%s/etc/systemd", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/etc/systemd/network", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/etc/systemd/network/10-nvz-eth7.network", dir);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	snprintf(p, sizeof(p), "%s/etc/systemd/network/50-admin.network", dir);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	cr_assert_eq(nvz_netconf_write(root, "192.0.2.10", NULL, NULL), 0);
	cleanup_free char *nd = slurp(dir, "etc/systemd/network/10-nvz-venet0.network");
	cr_assert_not_null(nd);
	cr_assert_not_null(strstr(nd, "Address=192.0.2.10/32"));
	cleanup_free char *stale = slurp(dir, "etc/systemd/network/10-nvz-eth7.network");
	cr_assert_null(stale);
	cleanup_free char *admin = slurp(dir, "etc/systemd/network/50-admin.network");
	cr_assert_not_null(admin);
	/* /etc/network as a symlink to a host path: refused, host untouched. */
	snprintf(p, sizeof(p), "%s/sbin", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/sbin/ifup", dir);
	close(open(p, O_CREAT | O_WRONLY, 0755));
	snprintf(p, sizeof(p), "%s/etc/network", dir);
	cr_assert_eq(symlink("/tmp/nvz-netconf-host-target-does-not-exist", p), 0);
	struct nvz_error *err = NULL;
	cr_assert_lt(nvz_netconf_write(root, "192.0.2.10", NULL, &err), 0);
	cr_assert(access("/tmp/nvz-netconf-host-target-does-not-exist", F_OK) < 0);
	nvz_error_free(err);
	nvz_rm_rf(dir, NULL);
}
