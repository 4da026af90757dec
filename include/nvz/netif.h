/* Bridged networking (OpenVZ "veth"): the NETIF config value, one entry per
 * CT interface, ';'-separated, each a ','-separated list of key=value:
 *   ifname=eth0,mac=..,host_ifname=veth101.0,host_mac=..,bridge=br0,mac_filter=on
 * nvz extends an entry with its addresses and gateways (older lines, without
 * them, stay valid):  ip=192.0.2.5/24,ip=2001:db8::5/64,gw=192.0.2.1,gw6=2001:db8::1 */
#ifndef NVZ_NETIF_H
#define NVZ_NETIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvz/error.h"

#define NVZ_NETIF_MAX 16
#define NVZ_NETIF_IPS 8

struct nvz_netif {
	char ifname[16], host_ifname[16], bridge[16];
	uint8_t mac[6], host_mac[6];
	bool has_mac, has_host_mac;
	char ips[NVZ_NETIF_IPS][64];
	size_t nips;
	char gw[64], gw6[64];
	bool mac_filter; /* only mac= leaves the CT through its bridge port */
};

struct nvz_netifs {
	struct nvz_netif v[NVZ_NETIF_MAX];
	size_t n;
};

/* Parse a NETIF value (NULL/empty: none). Status 21 on bad syntax, a bad
 * name, MAC or address. */
int nvz_netif_parse(const char *text, struct nvz_netifs *out, struct nvz_error **err);
/* The config form, malloc'd. */
char *nvz_netif_format(const struct nvz_netifs *in);
struct nvz_netif *nvz_netif_find(struct nvz_netifs *in, const char *ifname);
/* An entry without host_ifname gets vzctl's default, veth<CTID>.<N> (as
 * vzctl's parse_netif_str did for a NETIF written by hand). */
int nvz_netif_fill_host_names(struct nvz_netifs *in, unsigned long ctid, struct nvz_error **err);
/* --netif_add ifname[,mac,host_ifname,host_mac,bridge] with OpenVZ's
 * defaults: host_ifname veth<CTID>.<N>, MACs generated from the CT ID, the
 * interface name and the host, bridge from vz.conf's BRIDGE (may be ""). */
int nvz_netif_add_spec(struct nvz_netifs *in, unsigned long ctid, const char *spec,
		       const char *default_bridge, const char *host_seed, struct nvz_error **err);

#endif
