/* Internal to lib/net: one rtnetlink socket bound to a network namespace, and
 * request/ack plumbing that keeps the kernel's extended-ack message. */
#ifndef NVZ_NET_NL_H
#define NVZ_NET_NL_H

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

#include "nvz/error.h"

#define NVZ_NL_BUFSZ 8192   /* one request */
#define NVZ_NL_RECVSZ 32768 /* one recv of a dump (MNL_SOCKET_DUMP_SIZE) */
#define NVZ_NL_EXTSZ 256

struct nvz_nl {
	struct mnl_socket *sock;
	uint32_t seq;
	unsigned portid;
};

/* Switch the calling thread into netns (no-op for -1); *saved receives the fd
 * to return with. nvz_netns_leave switches back and closes it. */
int nvz_netns_enter(int netns, int *saved, struct nvz_error **err);
int nvz_netns_leave(int *saved, struct nvz_error **err);

int nvz_nl_open(int netns, struct nvz_nl *nl, struct nvz_error **err);
void nvz_nl_close(struct nvz_nl *nl);
#define cleanup_nl __attribute__((cleanup(nvz_nl_close)))

/* Start a request in buf (NVZ_NL_BUFSZ bytes, zeroed) with a fresh sequence. */
struct nlmsghdr *nvz_nl_msg(struct nvz_nl *nl, char *buf, uint16_t type, uint16_t flags);

/* Called for every non-control reply message; return < 0 to stop with that
 * -errno. */
typedef int (*nvz_nl_cb)(const struct nlmsghdr *nlh, void *data);

/* Send nlh and read until the ack (requests) or NLMSG_DONE (dumps). Returns
 * 0 or -errno; the kernel's extack text, if any, lands in ext. Sets no error so
 * callers can treat ENODEV/EEXIST as answers. */
int nvz_nl_talk(struct nvz_nl *nl, struct nlmsghdr *nlh, nvz_nl_cb cb, void *data, char *ext,
		size_t extlen);

/* Error for a failed nvz_nl_talk: "<what>: <extack>: <strerror>". */
__attribute__((format(printf, 5, 6)))
int nvz_nl_err(struct nvz_error **err, int status, int code, const char *ext, const char *fmt,
	       ...);

/* ifindex of name over an open socket; -ENODEV sets "no such device 'X'". */
int nvz_nl_ifindex(struct nvz_nl *nl, const char *name, struct nvz_error **err);

#endif
