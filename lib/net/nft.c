/* nftables tables by name prefix, over nfnetlink (libmnl): what a criu
 * killed during a post-copy dump leaves in a CT's network namespace (its
 * network lock, table "CRIU-<pid>") is dropped so the CT can talk again. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/nl.h"
#include "nvz/cleanup.h"
#include "nvz/net.h"

#define MAX_TABLES 16

struct tables {
	const char *prefix;
	size_t n;
	uint8_t family[MAX_TABLES];
	char name[MAX_TABLES][64];
};

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct tables *t = data;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		if (mnl_attr_get_type(a) != NFTA_TABLE_NAME || mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			continue;
		const char *name = mnl_attr_get_str(a);
		if (t->n < MAX_TABLES && !strncmp(name, t->prefix, strlen(t->prefix)) &&
		    strlen(name) < sizeof(t->name[0])) {
			t->family[t->n] = g->nfgen_family;
			strcpy(t->name[t->n++], name); /* length checked above */
		}
	}
	return MNL_CB_OK;
}

static struct nlmsghdr *put(char *buf, size_t *off, uint16_t type, uint16_t flags, uint8_t family,
			    uint16_t res_id, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + *off);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	return nlh;
}

/* Send what is in buf and read until the answer to seq. */
static int talk(struct mnl_socket *s, char *buf, size_t len, uint32_t seq, struct tables *t)
{
	if (mnl_socket_sendto(s, buf, len) < 0)
		return -errno;
	cleanup_free char *rbuf = malloc(NVZ_NL_RECVSZ);
	if (!rbuf)
		return -ENOMEM;
	unsigned portid = mnl_socket_get_portid(s);
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(s, rbuf, NVZ_NL_RECVSZ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		int r = mnl_cb_run(rbuf, (size_t)n, seq, portid, t ? table_cb : NULL, t);
		if (r <= MNL_CB_STOP)
			return r < 0 ? -errno : 0;
	}
}

static int drop(struct mnl_socket *s, struct tables *t, uint32_t seq)
{
	for (size_t i = 0; i < t->n; i++) {
		char buf[NVZ_NL_BUFSZ];
		size_t off = 0;
		/* Changes to nftables go in a batch (one transaction). */
		struct nlmsghdr *b = put(buf, &off, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC,
					 NFNL_SUBSYS_NFTABLES, seq++);
		off += b->nlmsg_len;
		struct nlmsghdr *d = put(buf, &off, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE,
					 NLM_F_ACK, t->family[i], 0, seq);
		mnl_attr_put_strz(d, NFTA_TABLE_NAME, t->name[i]);
		uint32_t del = seq++;
		off += d->nlmsg_len;
		struct nlmsghdr *e = put(buf, &off, NFNL_MSG_BATCH_END, 0, AF_UNSPEC,
					 NFNL_SUBSYS_NFTABLES, seq++);
		off += e->nlmsg_len;
		int r = talk(s, buf, off, del, NULL);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	return 0;
}

int nvz_nft_drop_tables(int netns, const char *prefix, struct nvz_error **err)
{
	int saved;
	if (nvz_netns_enter(netns, &saved, err) < 0)
		return -1;
	/* The socket acts in the netns it was made in. */
	struct mnl_socket *s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	int e = errno;
	if (nvz_netns_leave(&saved, err) < 0) {
		if (s)
			mnl_socket_close(s);
		return -1;
	}
	if (!s)
		return nvz_err_sys(err, NVZ_E_SYSTEM, e, "open nfnetlink socket");
	struct tables t = { .prefix = prefix };
	uint32_t seq = (uint32_t)getpid() << 8;
	char buf[NVZ_NL_BUFSZ];
	size_t off = 0;
	int r = mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0 ? -errno : 0;
	struct nlmsghdr *q = put(buf, &off, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, NLM_F_DUMP,
				 AF_UNSPEC, 0, seq);
	if (r == 0)
		r = talk(s, buf, q->nlmsg_len, seq, &t);
	if (r == 0)
		r = drop(s, &t, seq + 1);
	mnl_socket_close(s);
	if (r < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, -r, "drop nftables tables %s*", prefix);
	return 0;
}
