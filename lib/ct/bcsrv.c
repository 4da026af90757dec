/* One beancounter file system for the whole server, served by the hub.
 *
 * Each CT's /run/user_beancounters used to be a FUSE file system of its
 * own: a FUSE connection (its request hash alone is a 4 kB allocation), a
 * superblock and a root inode per running CT, ~10 kB of kernel memory
 * (bench/RESULTS.md). Here the hub mounts one, detached (fsmount: in no
 * namespace, nothing on the host sees it), whose root directory holds a
 * file per CT named by its id; a start takes a bind of its CT's file
 * (open_tree(OPEN_TREE_CLONE)), which init attaches as before. A CT sees
 * only that bind, whose root is its file: no path leads from it to the
 * directory or to another CT's file, and every request it can make names
 * its own node. Only the hub looks names up.
 *
 * Cloning a file of a detached mount needs a kernel that allows it (6.15
 * on: `may_copy_tree` of an anonymous mount namespace); on an older one the
 * probe below fails and each CT gets a file system of its own (bcfs.c), as
 * do a restore's (criu binds it from the host) and an adopted CT's.
 *
 * The protocol is bcfs-raw.c's, per node, plus INIT, LOOKUP and FORGET. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ct/bcfs.h"
#include "ct/bcraw.h"

/* A node's id: the CT's, past the root's (1) and a reserved 2. */
#define NODE_OF(veid) ((uint64_t)(veid) + 3)
#define VEID_MAX (1UL << 62)
/* The kernel takes no smaller read of the device (FUSE_MIN_READ_BUFFER);
 * with a max_write of 4 kB no request is larger. */
#define SRV_BUF_SIZE 16384
#define SRV_MAX_WRITE 4096

struct srv_node {
	struct nvz_bcraw *b;
	uint64_t nlookup; /* the kernel's references (LOOKUP less FORGET) */
	struct srv_node *next;
};

static struct {
	int dev, mnt;
	pid_t owner; /* the hub: a child forked from it has no business here */
	time_t made_at;
	struct srv_node *nodes;
} srv = { .dev = -1, .mnt = -1 };

static char srv_buf[SRV_BUF_SIZE];

static void srv_close(void)
{
	if (srv.mnt >= 0)
		close(srv.mnt);
	if (srv.dev >= 0)
		close(srv.dev);
	srv.mnt = srv.dev = -1;
}

static struct srv_node *find_node(uint64_t nodeid)
{
	for (struct srv_node *n = srv.nodes; n; n = n->next)
		if (n->b->nodeid == nodeid)
			return n;
	return NULL;
}

static void reply_init(const struct fuse_in_header *h, const char *body, size_t len)
{
	const struct fuse_init_in *in = (const void *)body;
	if (len < offsetof(struct fuse_init_in, flags) + sizeof(in->flags) ||
	    in->major != FUSE_KERNEL_VERSION) {
		nvz_bcraw_reply(srv.dev, h->unique, EPROTO, NULL, 0);
		return;
	}
	struct fuse_init_out out = {
		.major = FUSE_KERNEL_VERSION, .minor = FUSE_KERNEL_MINOR_VERSION,
		.max_readahead = in->max_readahead, .max_background = 16,
		.congestion_threshold = 12, .max_write = SRV_MAX_WRITE, .time_gran = 1,
	};
	nvz_bcraw_reply(srv.dev, h->unique, 0, &out, sizeof(out));
}

bool nvz_bcsrv_name(const char *name, size_t len, unsigned long *veid)
{
	if (len == 0 || len > 19 || (name[0] == '0' && len > 1))
		return false;
	unsigned long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(name[i] - '0');
	}
	*veid = v;
	return v < VEID_MAX;
}

/* Looked up by a start (nvz_bcsrv_tree): the node's times are the start's. */
static void do_lookup(const struct fuse_in_header *h, const char *body, size_t len)
{
	const char *nul = memchr(body, '\0', len);
	unsigned long veid;
	if (h->nodeid != FUSE_ROOT_ID || !nul || !nvz_bcsrv_name(body, (size_t)(nul - body), &veid)) {
		nvz_bcraw_reply(srv.dev, h->unique, ENOENT, NULL, 0);
		return;
	}
	struct srv_node *n = find_node(NODE_OF(veid));
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n || !(n->b = nvz_bcraw_node(srv.dev, veid, NODE_OF(veid), time(NULL)))) {
			free(n);
			nvz_bcraw_reply(srv.dev, h->unique, ENOMEM, NULL, 0);
			return;
		}
		n->next = srv.nodes;
		srv.nodes = n;
	}
	n->b->mounted_at = time(NULL);
	/* entry_valid 0: every start looks its name up again. */
	struct fuse_entry_out e = { .nodeid = n->b->nodeid, .attr_valid = BC_TIMEOUT };
	nvz_bcraw_attr(n->b, &e.attr);
	n->nlookup++;
	nvz_bcraw_reply(srv.dev, h->unique, 0, &e, sizeof(e));
}

static void forget(uint64_t nodeid, uint64_t nlookup)
{
	for (struct srv_node **pn = &srv.nodes; *pn; pn = &(*pn)->next) {
		struct srv_node *n = *pn;
		if (n->b->nodeid != nodeid)
			continue;
		n->nlookup = nlookup < n->nlookup ? n->nlookup - nlookup : 0;
		if (!n->nlookup) {
			*pn = n->next;
			nvz_bcraw_free(n->b);
			free(n);
		}
		return;
	}
}

static void batch_forget(const char *body, size_t len)
{
	const struct fuse_batch_forget_in *in = (const void *)body;
	if (len < sizeof(*in))
		return;
	const struct fuse_forget_one *one = (const void *)(in + 1);
	size_t room = (len - sizeof(*in)) / sizeof(*one);
	for (size_t i = 0; i < in->count && i < room; i++)
		forget(one[i].nodeid, one[i].nlookup);
}

static void root_getattr(const struct fuse_in_header *h)
{
	struct fuse_attr_out a = { .attr_valid = BC_TIMEOUT };
	a.attr.ino = FUSE_ROOT_ID;
	a.attr.mode = S_IFDIR | 0555;
	a.attr.nlink = 2;
	a.attr.atime = a.attr.mtime = a.attr.ctime = (uint64_t)srv.made_at;
	nvz_bcraw_reply(srv.dev, h->unique, 0, &a, sizeof(a));
}

static void dispatch(const struct fuse_in_header *h, const char *body, size_t len)
{
	if (h->opcode == FUSE_INIT) {
		reply_init(h, body, len);
	} else if (h->opcode == FUSE_LOOKUP) {
		do_lookup(h, body, len);
	} else if (h->opcode == FUSE_FORGET) {
		const struct fuse_forget_in *in = (const void *)body;
		if (len >= sizeof(*in))
			forget(h->nodeid, in->nlookup);
	} else if (h->opcode == FUSE_BATCH_FORGET) {
		batch_forget(body, len);
	} else if (h->opcode == FUSE_INTERRUPT || h->opcode == FUSE_NOTIFY_REPLY) {
		/* no reply is expected */
	} else if (h->nodeid == FUSE_ROOT_ID) {
		struct fuse_statfs_out sf = { .st = { .bsize = 512, .namelen = 255 } };
		if (h->opcode == FUSE_GETATTR)
			root_getattr(h);
		else if (h->opcode == FUSE_STATFS)
			nvz_bcraw_reply(srv.dev, h->unique, 0, &sf, sizeof(sf));
		else
			nvz_bcraw_reply(srv.dev, h->unique, ENOSYS, NULL, 0);
	} else {
		struct srv_node *n = find_node(h->nodeid);
		if (n)
			nvz_bcraw_dispatch(n->b, h, body, len);
		else
			nvz_bcraw_reply(srv.dev, h->unique, ENOENT, NULL, 0);
	}
}

int nvz_bcsrv_process(void)
{
	for (;;) {
		ssize_t n = read(srv.dev, srv_buf, sizeof(srv_buf));
		if (n < 0) {
			if (errno == EINTR || errno == ENOENT) /* ENOENT: a request withdrawn */
				continue;
			if (errno == EAGAIN)
				return 0;
			/* Nobody would answer the next start's lookup: it must
			 * find no server (and take a file system of its own),
			 * and the CTs' files fail (ENOTCONN) instead of hanging. */
			srv_close();
			return -1;
		}
		const struct fuse_in_header *h = (const void *)srv_buf;
		if ((size_t)n < sizeof(*h) || h->len != (uint32_t)n)
			continue;
		dispatch(h, srv_buf + sizeof(*h), (size_t)n - sizeof(*h));
	}
}

int nvz_bcsrv_open(void)
{
	if (srv.dev >= 0 && srv.owner == getpid())
		return srv.dev;
	srv.dev = open("/dev/fuse", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	srv.made_at = time(NULL);
	/* The kernel queued INIT as the file system was made: answered now,
	 * so that nothing here waits on a loop that is not running yet. */
	if (srv.dev < 0 || (srv.mnt = nvz_bc_fsmount(srv.dev, "nvz-bc", S_IFDIR | 0555, NULL)) < 0 ||
	    nvz_bcsrv_process() < 0) {
		srv_close();
		return -1;
	}
	/* Can a file of a detached mount be cloned here? */
	int probe = (int)open_tree(srv.mnt, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (probe < 0) {
		srv_close();
		return -1;
	}
	close(probe);
	srv.owner = getpid();
	return srv.dev;
}

int nvz_bcsrv_tree(unsigned long veid)
{
	if (srv.mnt < 0 || srv.owner != getpid() || veid >= VEID_MAX) {
		errno = ENOSYS;
		return -1;
	}
	char name[24];
	snprintf(name, sizeof(name), "%lu", veid);
	/* Its LOOKUP is answered by the hub's loop (hub.c), not by us. */
	return (int)open_tree(srv.mnt, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
}
