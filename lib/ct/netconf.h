/* The CT's own network files (ifupdown, systemd-networkd, /etc/hosts),
 * kept in agreement with IP_ADDRESS and NETIF. */
#ifndef NVZ_CT_NETCONF_H
#define NVZ_CT_NETCONF_H
#include <stddef.h>

#include "nvz/error.h"
#include "nvz/netif.h"

/* /etc/network/interfaces: old text with nvz's block replaced (or dropped
 * when there is nothing to configure). malloc'd; NULL on ENOMEM. */
char *nvz_netconf_ifupdown(const char *old, const char *venet_ips, const struct nvz_netifs *nifs);
/* One systemd-networkd .network file for ifname. */
char *nvz_netconf_networkd(const char *ifname, char addrs[][64], size_t n, const char *gw,
			   const char *gw6);
/* /etc/hosts: old text without Debian's 127.0.1.1 line or lines naming the
 * (old) hostname, plus "ADDR fqdn short" (127.0.1.1 without an address). */
char *nvz_netconf_hosts(const char *old, const char *hostname, const char *old_hostname,
			const char *addr);
/* The first routed address, else the first bridged one, without prefix; "" if none. */
void nvz_netconf_main_addr(const char *venet_ips, const struct nvz_netifs *nifs, char *buf,
			   size_t len);

/* Write the network files into the CT root (only those its distribution uses). */
int nvz_netconf_write(int rootfd, const char *ips, const char *netif, struct nvz_error **err);
int nvz_netconf_write_hosts(int rootfd, const char *hostname, const char *old_hostname,
			    const char *ips, const char *netif, struct nvz_error **err);
#endif
