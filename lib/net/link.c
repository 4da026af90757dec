/* Links over rtnetlink: veth pairs, bridges, up/down, MAC, MTU, rename, move
 * between namespaces, bridge membership; MAC address helpers. */
#include <errno.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "net/nl.h"
#include "nvz/cleanup.h"
#include "nvz/net.h"

/* SWsoft's OUI, as vzctl's generate_mac() used. */
#define NVZ_SW_OUI 0x001851u

bool nvz_ifname_valid(const char *name)
{
	if (!name || !*name || strlen(name) >= IFNAMSIZ)
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

int nvz_mac_parse(const char *text, uint8_t out[NVZ_MAC_LEN], struct nvz_error **err)
{
	unsigned b[NVZ_MAC_LEN];
	char sep[NVZ_MAC_LEN - 1];
	int end = -1;
	int n = text ? sscanf(text, "%2x%c%2x%c%2x%c%2x%c%2x%c%2x%n", &b[0], &sep[0], &b[1],
			      &sep[1], &b[2], &sep[2], &b[3], &sep[3], &b[4], &sep[4], &b[5], &end)
		     : 0;
	bool ok = n == 11 && end == 17 && text[end] == '\0';
	for (int i = 0; ok && i < NVZ_MAC_LEN - 1; i++)
		ok = (sep[i] == ':' || sep[i] == '-') && sep[i] == sep[0];
	/* sscanf's %x accepts a sign or a space: require plain hex digits. */
	for (int i = 0; ok && i < 17; i++)
		ok = i % 3 == 2 || (text[i] >= '0' && text[i] <= '9') ||
		     (text[i] >= 'a' && text[i] <= 'f') || (text[i] >= 'A' && text[i] <= 'F');
	/* A multicast source address would be refused by the kernel anyway. */
	if (!ok || (b[0] & 1))
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid MAC address '%s'",
			       text ? text : "");
	for (int i = 0; i < NVZ_MAC_LEN; i++)
		out[i] = (uint8_t)b[i];
	return 0;
}

void nvz_mac_format(const uint8_t mac[NVZ_MAC_LEN], char buf[NVZ_MAC_STRLEN])
{
	snprintf(buf, NVZ_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
}

/* vzctl's hash, byte for byte, with the time replaced by the caller's seed. */
void nvz_mac_generate(unsigned ctid, const char *ifname, const char *seed,
		      uint8_t out[NVZ_MAC_LEN])
{
	char data[128];
	snprintf(data, sizeof(data), "%s:%u:%s ", ifname ? ifname : "", ctid, seed ? seed : "");
	uint32_t hash = ctid;
	size_t len = strlen(data) - 1;
	for (size_t i = 0; i < len; i++) {
		hash += (uint32_t)(signed char)data[i];
		uint32_t tmp = ((uint32_t)(signed char)data[i + 1] << 11) ^ hash;
		hash = (hash << 16) ^ tmp;
		hash += hash >> 11;
	}
	hash ^= hash << 3;
	hash += hash >> 5;
	hash ^= hash << 4;
	hash += hash >> 17;
	hash ^= hash << 25;
	hash += hash >> 6;
	out[0] = (uint8_t)(NVZ_SW_OUI >> 16);
	out[1] = (uint8_t)(NVZ_SW_OUI >> 8);
	out[2] = (uint8_t)NVZ_SW_OUI;
	out[3] = (uint8_t)hash;
	out[4] = (uint8_t)(hash >> 8);
	out[5] = (uint8_t)(hash >> 15);
}

static int check_name(const char *name, struct nvz_error **err)
{
	if (nvz_ifname_valid(name))
		return 0;
	return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid interface name '%s'", name ? name : "");
}

static int link_reply(struct nlmsghdr *nlh, void *data)
{
	struct nvz_link_info *li = data;
	struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1];
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlmsg_parse(nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0)
		return 0;
	const struct ifinfomsg *ifi = nlmsg_data(nlh);
	memset(li, 0, sizeof(*li));
	li->index = ifi->ifi_index;
	li->flags = ifi->ifi_flags;
	li->link_netnsid = -1;
	uint32_t v;
	if (nvz_nla_u32(tb[IFLA_LINK], &v) && (int)v != li->index)
		li->link = (int)v;
	if (nvz_nla_u32(tb[IFLA_LINK_NETNSID], &v))
		li->link_netnsid = (int32_t)v;
	const char *s = nvz_nla_str(tb[IFLA_IFNAME]);
	if (s)
		snprintf(li->name, sizeof(li->name), "%s", s);
	if ((s = nvz_nla_str(tb[IFLA_PARENT_DEV_NAME])))
		snprintf(li->parent, sizeof(li->parent), "%s", s);
	if (nvz_nla_u32(tb[IFLA_MTU], &v))
		li->mtu = v;
	if (nvz_nla_u32(tb[IFLA_MASTER], &v))
		li->master = (int)v;
	if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == NVZ_MAC_LEN)
		memcpy(li->mac, nla_data(tb[IFLA_ADDRESS]), NVZ_MAC_LEN);
	const char *kind = NULL;
	struct nlattr *linkinfo = tb[IFLA_LINKINFO];
	if (linkinfo && nla_parse_nested(info, IFLA_INFO_MAX, linkinfo, NULL) >= 0)
		kind = nvz_nla_str(info[IFLA_INFO_KIND]);
	if (kind)
		snprintf(li->kind, sizeof(li->kind), "%s", kind);
	return 0;
}

/* RTM_GETLINK by name (index 0) or index: -ENODEV when there is none. */
static int nl_link_query(struct nvz_nl *nl, const char *name, int index, struct nvz_link_info *li,
			 char *ext)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
	cleanup_nlmsg struct nl_msg *msg =
		nvz_nl_msg(nl, RTM_GETLINK, NLM_F_ACK, &ifi, sizeof(ifi));
	if (msg && name)
		nla_put_string(msg, IFLA_IFNAME, name);
	memset(li, 0, sizeof(*li));
	int r = nvz_nl_talk(nl, msg, link_reply, li, ext, NVZ_NL_EXTSZ);
	if (r == 0 && li->index <= 0)
		r = -ENODEV;
	return r;
}

static int nl_link_get(struct nvz_nl *nl, const char *name, struct nvz_link_info *li, char *ext)
{
	return nl_link_query(nl, name, 0, li, ext);
}

static int link_lookup(struct nvz_nl *nl, const char *name, struct nvz_link_info *li,
		       struct nvz_error **err)
{
	char ext[NVZ_NL_EXTSZ];
	if (check_name(name, err) < 0)
		return -1;
	int r = nl_link_get(nl, name, li, ext);
	if (r == -ENODEV)
		return nvz_err(err, NVZ_E_VALUE, ENODEV, "no such device '%s'", name);
	if (r < 0)
		return nvz_nl_err(err, NVZ_E_SYSTEM, r, ext, "look up device '%s'", name);
	return 0;
}

int nvz_nl_ifindex(struct nvz_nl *nl, const char *name, struct nvz_error **err)
{
	struct nvz_link_info li;
	if (link_lookup(nl, name, &li, err) < 0)
		return -1;
	return li.index;
}

int nvz_link_get(int netns, const char *name, struct nvz_link_info *out,
		 struct nvz_error **err)
{
	cleanup_nl struct nvz_nl nl = { 0 };
	if (nvz_nl_open(netns, &nl, err) < 0)
		return -1;
	return link_lookup(&nl, name, out, err);
}

int nvz_link_get_index(int netns, int index, struct nvz_link_info *out, struct nvz_error **err)
{
	cleanup_nl struct nvz_nl nl = { 0 };
	char ext[NVZ_NL_EXTSZ];
	if (index <= 0)
		return nvz_err(err, NVZ_E_VALUE, ENODEV, "no such device #%d", index);
	if (nvz_nl_open(netns, &nl, err) < 0)
		return -1;
	int r = nl_link_query(&nl, NULL, index, out, ext);
	if (r == -ENODEV)
		return nvz_err(err, NVZ_E_VALUE, ENODEV, "no such device #%d", index);
	if (r < 0)
		return nvz_nl_err(err, NVZ_E_SYSTEM, r, ext, "look up device #%d", index);
	return 0;
}

int nvz_link_index(int netns, const char *name, struct nvz_error **err)
{
	struct nvz_link_info li;
	if (nvz_link_get(netns, name, &li, err) < 0)
		return -1;
	return li.index;
}

int nvz_link_exists(int netns, const char *name, struct nvz_error **err)
{
	cleanup_nl struct nvz_nl nl = { 0 };
	struct nvz_link_info li;
	char ext[NVZ_NL_EXTSZ];
	if (check_name(name, err) < 0 || nvz_nl_open(netns, &nl, err) < 0)
		return -1;
	int r = nl_link_get(&nl, name, &li, ext);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return nvz_nl_err(err, NVZ_E_SYSTEM, r, ext, "look up device '%s'", name);
	return 1;
}

static int refuse_existing(int netns, const char *name, struct nvz_error **err)
{
	int r = nvz_link_exists(netns, name, err);
	if (r > 0)
		return nvz_err(err, NVZ_E_SYSTEM, EEXIST, "device '%s' already exists", name);
	return r;
}

static void put_veth_peer(struct nl_msg *msg, const char *peer, int peer_netns,
			  const uint8_t *peer_mac, unsigned mtu)
{
	struct nlattr *data = nla_nest_start(msg, IFLA_INFO_DATA);
	struct nlattr *p = nla_nest_start(msg, VETH_INFO_PEER);
	/* The peer is described by a full ifinfomsg followed by its attributes. */
	struct ifinfomsg ifi = { 0 };
	nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	nla_put_string(msg, IFLA_IFNAME, peer);
	if (peer_mac)
		nla_put(msg, IFLA_ADDRESS, NVZ_MAC_LEN, peer_mac);
	if (mtu)
		nla_put_u32(msg, IFLA_MTU, mtu);
	if (peer_netns >= 0)
		nla_put_u32(msg, IFLA_NET_NS_FD, (uint32_t)peer_netns);
	nla_nest_end(msg, p);
	nla_nest_end(msg, data);
}

static int new_link(int netns, const char *name, const char *kind, const char *peer,
		    int peer_netns, const uint8_t *mac, const uint8_t *peer_mac, unsigned mtu,
		    struct nvz_error **err)
{
	cleanup_nl struct nvz_nl nl = { 0 };
	if (nvz_nl_open(netns, &nl, err) < 0)
		return -1;
	char ext[NVZ_NL_EXTSZ];
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	cleanup_nlmsg struct nl_msg *msg = nvz_nl_msg(
		&nl, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	if (msg) {
		nla_put_string(msg, IFLA_IFNAME, name);
		if (mac)
			nla_put(msg, IFLA_ADDRESS, NVZ_MAC_LEN, mac);
		if (mtu)
			nla_put_u32(msg, IFLA_MTU, mtu);
		struct nlattr *li = nla_nest_start(msg, IFLA_LINKINFO);
		nla_put_string(msg, IFLA_INFO_KIND, kind);
		if (peer)
			put_veth_peer(msg, peer, peer_netns, peer_mac, mtu);
		nla_nest_end(msg, li);
	}
	int r = nvz_nl_talk(&nl, msg, NULL, NULL, ext, sizeof(ext));
	if (r < 0 && peer)
		return nvz_nl_err(err, NVZ_E_SYSTEM, r, ext, "create veth pair '%s'/'%s'", name,
				  peer);
	if (r < 0)
		return nvz_nl_err(err, NVZ_E_SYSTEM, r, ext, "create %s '%s'", kind, name);
	return 0;
}

int nvz_link_veth_add(int netns, const char *name, const char *peer, int peer_netns,
		      const uint8_t *mac, const uint8_t *peer_mac, unsigned mtu,
		      struct nvz_error **err)
{
	if (check_name(name, err) < 0 || check_name(peer, err) < 0)
		return -1;
	if ((mac && (mac[0] & 1)) || (peer_mac && (peer_mac[0] & 1)))
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "veth '%s': multicast MAC address",
			       name);
	/* Name the culprit ourselves: the kernel only says "File exists". */
	if (refuse_existing(netns, name, err) < 0 ||
	    refuse_existing(peer_netns >= 0 ? peer_netns : netns, peer, err) < 0)
		return -1;
	return new_link(netns, name, "veth", peer, peer_netns, mac, peer_mac, mtu, err);
}

int nvz_bridge_add(int netns, const char *name, struct nvz_error **err)
{
	if (check_name(name, err) < 0 || refuse_existing(netns, name, err) < 0)
		return -1;
	return new_link(netns, name, "bridge", NULL, -1, NULL, NULL, 0, err);
}

/* What a change of an existing link sets; untouched fields stay zero/NULL. */
struct link_change {
	bool set_flags;
	unsigned flags;
	const uint8_t *mac;
	unsigned mtu;
	const char *newname;
	bool set_netns;
	int netns;
	bool set_master;
	int master;
	bool del;
};

static void put_change(struct nl_msg *msg, const struct link_change *c)
{
	if (c->mac)
		nla_put(msg, IFLA_ADDRESS, NVZ_MAC_LEN, c->mac);
	if (c->mtu)
		nla_put_u32(msg, IFLA_MTU, c->mtu);
	if (c->newname)
		nla_put_string(msg, IFLA_IFNAME, c->newname);
	if (c->set_netns)
		nla_put_u32(msg, IFLA_NET_NS_FD, (uint32_t)c->netns);
	if (c->set_master)
		nla_put_u32(msg, IFLA_MASTER, (uint32_t)c->master);
}

/* The change to name, or to the device of that index when name is NULL
 * (the name in messages is then "#index"). */
static int link_apply_at(int netns, const char *name, int index, const struct link_change *c,
			 const char *what, struct nvz_error **err)
{
	cleanup_nl struct nvz_nl nl = { 0 };
	if (nvz_nl_open(netns, &nl, err) < 0)
		return -1;
	char label[IFNAMSIZ + 16];
	if (name)
		index = nvz_nl_ifindex(&nl, name, err);
	else
		snprintf(label, sizeof(label), "#%d", index);
	if (index < 0)
		return -1;
	if (!name)
		name = label;
	char ext[NVZ_NL_EXTSZ];
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
	if (c->set_flags) {
		ifi.ifi_change = IFF_UP;
		ifi.ifi_flags = c->flags;
	}
	cleanup_nlmsg struct nl_msg *msg =
		nvz_nl_msg(&nl, c->del ? RTM_DELLINK : RTM_NEWLINK, NLM_F_ACK, &ifi, sizeof(ifi));
	if (msg)
		put_change(msg, c);
	int r = nvz_nl_talk(&nl, msg, NULL, NULL, ext, sizeof(ext));
	if (r == -EEXIST && c->newname)
		return nvz_err(err, NVZ_E_SYSTEM, EEXIST, "%s '%s': device '%s' already exists",
			       what, name, c->newname);
	if (r < 0)
		return nvz_nl_err(err, NVZ_E_SYSTEM, r, ext, "%s '%s'", what, name);
	return 0;
}

static int link_apply(int netns, const char *name, const struct link_change *c,
		      const char *what, struct nvz_error **err)
{
	return link_apply_at(netns, name, 0, c, what, err);
}

#define CHANGE(...) (&(struct link_change){ __VA_ARGS__ })

int nvz_link_del(int netns, const char *name, struct nvz_error **err)
{
	return link_apply(netns, name, CHANGE(.del = true), "delete device", err);
}

int nvz_link_set_up(int netns, const char *name, bool up, struct nvz_error **err)
{
	return link_apply(netns, name, CHANGE(.set_flags = true, .flags = up ? IFF_UP : 0),
			  up ? "bring up device" : "bring down device", err);
}

int nvz_link_set_mac(int netns, const char *name, const uint8_t mac[NVZ_MAC_LEN],
		     struct nvz_error **err)
{
	if (!mac || (mac[0] & 1))
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "device '%s': invalid MAC address",
			       name);
	return link_apply(netns, name, CHANGE(.mac = mac), "set MAC address of device", err);
}

int nvz_link_set_mtu(int netns, const char *name, unsigned mtu, struct nvz_error **err)
{
	if (mtu == 0)
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "device '%s': invalid MTU 0", name);
	return link_apply(netns, name, CHANGE(.mtu = mtu), "set MTU of device", err);
}

int nvz_link_rename(int netns, const char *name, const char *newname, struct nvz_error **err)
{
	if (check_name(newname, err) < 0)
		return -1;
	return link_apply(netns, name, CHANGE(.newname = newname), "rename device", err);
}

int nvz_link_move(int netns, const char *name, int target_netns, struct nvz_error **err)
{
	if (target_netns < 0)
		return nvz_err(err, NVZ_E_SYSTEM, EBADF, "move device '%s': no target namespace",
			       name);
	return link_apply(netns, name, CHANGE(.set_netns = true, .netns = target_netns),
			  "move device to network namespace", err);
}

int nvz_link_move_index(int netns, int index, int target_netns, const char *newname,
			struct nvz_error **err)
{
	if (target_netns < 0 || index <= 0 || (newname && check_name(newname, err) < 0))
		return target_netns < 0 || index <= 0
			       ? nvz_err(err, NVZ_E_SYSTEM, EINVAL, "move device #%d", index)
			       : -1;
	return link_apply_at(netns, NULL, index,
			     CHANGE(.set_netns = true, .netns = target_netns, .newname = newname),
			     "move device to network namespace", err);
}

int nvz_link_set_master(int netns, const char *name, const char *bridge,
			struct nvz_error **err)
{
	int master = 0;
	if (bridge) {
		cleanup_nl struct nvz_nl nl = { 0 };
		struct nvz_link_info br;
		char ext[NVZ_NL_EXTSZ];
		if (nvz_nl_open(netns, &nl, err) < 0)
			return -1;
		int r = nvz_ifname_valid(bridge) ? nl_link_get(&nl, bridge, &br, ext) : -ENODEV;
		if (r == -ENODEV || (r == 0 && strcmp(br.kind, "bridge") != 0))
			return nvz_err(err, NVZ_E_VALUE, r ? ENODEV : EINVAL,
				       "unknown bridge '%s'", bridge);
		if (r < 0)
			return nvz_nl_err(err, NVZ_E_SYSTEM, r, ext, "look up bridge '%s'", bridge);
		master = br.index;
	}
	return link_apply(netns, name, CHANGE(.set_master = true, .master = master),
			  bridge ? "attach to bridge device" : "detach from bridge device", err);
}

/* OpenVZ's mac_filter, on a bridge port: the port is locked (the bridge
 * takes only frames whose source MAC has an entry on this port, kernel
 * 5.18+) and learns nothing, and the one entry is the CT's MAC, static.
 * Added before the lock and removed after the unlock, so the CT's own
 * traffic never stops. */
static int port_fdb(struct nvz_nl *nl, int index, const uint8_t mac[NVZ_MAC_LEN], bool add,
		    char *ext)
{
	struct ndmsg nd = { .ndm_family = AF_BRIDGE, .ndm_ifindex = index, .ndm_state = NUD_NOARP,
			    .ndm_flags = NTF_MASTER };
	cleanup_nlmsg struct nl_msg *msg =
		nvz_nl_msg(nl, add ? RTM_NEWNEIGH : RTM_DELNEIGH,
			   NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0), &nd, sizeof(nd));
	if (msg)
		nla_put(msg, NDA_LLADDR, NVZ_MAC_LEN, mac);
	int r = nvz_nl_talk(nl, msg, NULL, NULL, ext, NVZ_NL_EXTSZ);
	return !add && r == -ENOENT ? 0 : r;
}

static int port_lock(struct nvz_nl *nl, int index, bool on, char *ext)
{
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = index };
	cleanup_nlmsg struct nl_msg *msg = nvz_nl_msg(nl, RTM_SETLINK, NLM_F_ACK, &ifi, sizeof(ifi));
	if (msg) {
		struct nlattr *pi = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED);
		nla_put_u8(msg, IFLA_BRPORT_LOCKED, on);
		nla_put_u8(msg, IFLA_BRPORT_LEARNING, !on);
		nla_nest_end(msg, pi);
	}
	return nvz_nl_talk(nl, msg, NULL, NULL, ext, NVZ_NL_EXTSZ);
}

int nvz_bridge_port_mac_filter(int netns, const char *port, const uint8_t mac[NVZ_MAC_LEN], bool on,
			       struct nvz_error **err)
{
	cleanup_nl struct nvz_nl nl = { 0 };
	char ext[NVZ_NL_EXTSZ];
	if (nvz_nl_open(netns, &nl, err) < 0)
		return -1;
	int index = nvz_nl_ifindex(&nl, port, err);
	if (index < 0)
		return -1;
	int r = on ? port_fdb(&nl, index, mac, true, ext) : port_lock(&nl, index, false, ext);
	if (r == 0)
		r = on ? port_lock(&nl, index, true, ext) : port_fdb(&nl, index, mac, false, ext);
	if (r < 0)
		return nvz_nl_err(err, NVZ_E_SYSTEM, r, ext, "%s the MAC filter of bridge port '%s'",
				  on ? "set" : "clear", port);
	return 0;
}

/* The kernel marks a link operationally up (IFF_RUNNING) from its linkwatch
 * work, after carrier on; until then a new veth drops what is sent on it and
 * a bridge has not enabled the port. */
int nvz_link_wait_running(int netns, const char *name, int timeout_ms, struct nvz_error **err)
{
	for (int waited = 0;; waited += 5) {
		struct nvz_link_info li;
		if (nvz_link_get(netns, name, &li, err) < 0)
			return -1;
		if (li.flags & IFF_RUNNING)
			return 0;
		if (waited >= timeout_ms)
			return nvz_err(err, NVZ_E_SYSTEM, ETIMEDOUT, "link %s is not running", name);
		usleep(5000);
	}
}
