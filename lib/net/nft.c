/* nftables tables by name prefix, over nfnetlink: what a criu
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

static void table_cb(struct nlmsghdr *nlh, struct tables *t)
{
	struct nlattr *tb[NFTA_TABLE_MAX + 1];
	if (nlmsg_parse(nlh, sizeof(struct nfgenmsg), tb, NFTA_TABLE_MAX, NULL) < 0)
		return;
	const struct nfgenmsg *g = nlmsg_data(nlh);
	const char *name = nvz_nla_str(tb[NFTA_TABLE_NAME]);
	if (name && t->n < MAX_TABLES && !strncmp(name, t->prefix, strlen(t->prefix)) &&
	    strlen(name) < sizeof(t->name[0])) {
		t->family[t->n] = g->nfgen_family;
		strcpy(t->name[t->n++], name); /* length checked above */
	}
}

static struct nl_msg *put(struct nvz_nl *nl, uint16_t type, uint16_t flags, uint8_t family,
			  uint16_t res_id)
{
	struct nfgenmsg g = {
		.nfgen_family = family,
		.version = NFNETLINK_V0,
		.res_id = htons(res_id),
	};
	return nvz_nl_msg(nl, type, flags, &g, sizeof(g));
}

/* Read until the answer to seq, strictly (unlike nvz_nl_talk): a reply of
 * another port or sequence (the error of a refused batch start) or an
 * interrupted dump is an error, not skipped, so a refused batch cannot leave
 * us waiting for an ack that never comes. */
static int wait_answer(struct nvz_nl *nl, uint32_t seq, struct tables *t)
{
	uint32_t port = nl_socket_get_local_port(nl->sock);
	for (;;) {
		cleanup_free unsigned char *buf = NULL;
		int len = nvz_nl_recv(nl, &buf);
		if (len < 0)
			return len;
		for (struct nlmsghdr *m = (void *)buf; nlmsg_ok(m, len); m = nlmsg_next(m, &len)) {
			if (m->nlmsg_pid && m->nlmsg_pid != port)
				return -ESRCH;
			if (m->nlmsg_seq && m->nlmsg_seq != seq)
				return -EPROTO;
			if (m->nlmsg_flags & NLM_F_DUMP_INTR)
				return -EINTR;
			if (m->nlmsg_type >= NLMSG_MIN_TYPE && t)
				table_cb(m, t);
			if (m->nlmsg_type == NLMSG_DONE)
				return 0;
			if (m->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = nlmsg_data(m);
			if (!nlmsg_valid_hdr(m, sizeof(*e)))
				return -EBADMSG;
			return e->error <= 0 ? e->error : -e->error;
		}
	}
}

/* Send msgs (one datagram) and wait for the answer to the one at index ans. */
static int talk(struct nvz_nl *nl, struct nl_msg *const *msgs, unsigned n, unsigned ans,
		struct tables *t)
{
	int r = nvz_nl_send(nl, msgs, n); /* -ENOMEM for a NULL one */
	return r < 0 ? r : wait_answer(nl, nlmsg_hdr(msgs[ans])->nlmsg_seq, t);
}

static int drop(struct nvz_nl *nl, struct tables *t)
{
	for (size_t i = 0; i < t->n; i++) {
		/* Changes to nftables go in a batch (one transaction). */
		cleanup_nlmsg struct nl_msg *b =
			put(nl, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
		uint16_t del = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE;
		cleanup_nlmsg struct nl_msg *d = put(nl, del, NLM_F_ACK, t->family[i], 0);
		cleanup_nlmsg struct nl_msg *e =
			put(nl, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
		if (d)
			nla_put_string(d, NFTA_TABLE_NAME, t->name[i]);
		struct nl_msg *batch[] = { b, d, e };
		int r = talk(nl, batch, 3, 1, NULL);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	return 0;
}

int nvz_nft_drop_tables(int netns, const char *prefix, struct nvz_error **err)
{
	cleanup_nl struct nvz_nl nl = { 0 };
	/* The socket acts in the netns it was made in. */
	if (nvz_nl_open_proto(netns, NETLINK_NETFILTER, &nl, err) < 0)
		return -1;
	struct tables t = { .prefix = prefix };
	cleanup_nlmsg struct nl_msg *q =
		put(&nl, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, NLM_F_DUMP, AF_UNSPEC, 0);
	int r = talk(&nl, &q, 1, 0, &t);
	if (r == 0)
		r = drop(&nl, &t);
	if (r < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, -r, "drop nftables tables %s*", prefix);
	return 0;
}
