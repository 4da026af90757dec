/* Internal to lib/net: one netlink socket (libnl-3's core: sockets, messages,
 * attributes) bound to a network namespace, and request/ack plumbing that
 * keeps the kernel's extended-ack message. Replies are matched here, not by
 * libnl's callback machinery. */
#ifndef NVZ_NET_NL_H
#define NVZ_NET_NL_H

#include <errno.h>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvz/error.h"

/* Room for one request. Every request here is a few hundred bytes at most
 * (names are shorter than IFNAMSIZ, addresses fixed-size), so nla_put never
 * runs out of room and its result is not checked at each call. */
#define NVZ_NL_BUFSZ 8192
/* One recv: the kernel fills a dump datagram up to our largest recv, capped
 * at 32 KiB; a single larger message fails with ENOSPC. */
#define NVZ_NL_RECVSZ 32768
#define NVZ_NL_EXTSZ 256
/* Messages sent in one datagram at most (an nftables batch: 3). */
#define NVZ_NL_MAXBATCH 3

struct nvz_nl {
	struct nl_sock *sock;
	uint32_t seq;
};

/* Switch the calling thread into netns (no-op for -1); *saved receives the fd
 * to return with. nvz_netns_leave switches back and closes it. */
int nvz_netns_enter(int netns, int *saved, struct nvz_error **err);
int nvz_netns_leave(int *saved, struct nvz_error **err);

/* A socket of protocol proto (NETLINK_ROUTE, NETLINK_NETFILTER) in netns.
 * Returns 0 or -errno (with *err set). */
int nvz_nl_open_proto(int netns, int proto, struct nvz_nl *nl, struct nvz_error **err);
static inline int nvz_nl_open(int netns, struct nvz_nl *nl, struct nvz_error **err)
{
	return nvz_nl_open_proto(netns, NETLINK_ROUTE, nl, err);
}
void nvz_nl_close(struct nvz_nl *nl);
#define cleanup_nl __attribute__((cleanup(nvz_nl_close)))

static inline void nvz_nlmsg_freep(struct nl_msg **msg)
{
	int saved = errno;
	nlmsg_free(*msg);
	*msg = NULL;
	errno = saved;
}
#define cleanup_nlmsg __attribute__((cleanup(nvz_nlmsg_freep)))

/* A request with a fresh sequence number, NLM_F_REQUEST|flags, and the
 * family header hdr (hdrlen bytes); NULL when out of memory. */
struct nl_msg *nvz_nl_msg(struct nvz_nl *nl, uint16_t type, uint16_t flags, const void *hdr,
			  size_t hdrlen);

/* Send n messages (n <= NVZ_NL_MAXBATCH) in one datagram as they are. 0 or
 * -errno. */
int nvz_nl_send(struct nvz_nl *nl, struct nl_msg *const *msgs, unsigned n);

/* One datagram from the kernel: its length, *buf to free(); or -errno. */
int nvz_nl_recv(struct nvz_nl *nl, unsigned char **buf);

/* Called for every non-control reply message; return < 0 to stop with that
 * -errno. */
typedef int (*nvz_nl_cb)(struct nlmsghdr *nlh, void *data);

/* Send msg and read until the ack (requests) or NLMSG_DONE (dumps). Returns
 * 0 or -errno (-ENOMEM for a NULL msg); the kernel's extack text, if any,
 * lands in ext. Sets no error so callers can treat ENODEV/EEXIST as answers. */
int nvz_nl_talk(struct nvz_nl *nl, struct nl_msg *msg, nvz_nl_cb cb, void *data, char *ext,
		size_t extlen);

/* Error for a failed nvz_nl_talk: "<what>: <extack>: <strerror>". */
__attribute__((format(printf, 5, 6)))
int nvz_nl_err(struct nvz_error **err, int status, int code, const char *ext, const char *fmt,
	       ...);

/* ifindex of name over an open socket; -ENODEV sets "no such device 'X'". */
int nvz_nl_ifindex(struct nvz_nl *nl, const char *name, struct nvz_error **err);

/* A reply's attribute as a NUL-terminated string, or NULL. */
static inline const char *nvz_nla_str(const struct nlattr *a)
{
	const char *s = a ? nla_data(a) : NULL;
	int len = a ? nla_len(a) : 0;
	return len > 0 && s[len - 1] == '\0' ? s : NULL;
}

/* A reply's attribute as a u32, if it is exactly one. */
static inline bool nvz_nla_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a || nla_len(a) != (int)sizeof(uint32_t))
		return false;
	*v = nla_get_u32(a);
	return true;
}

#endif
