/* rtnetlink socket per network namespace, request/ack with extended-ack
 * messages, and per-netns sysctls. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/nl.h"
#include "nvz/cleanup.h"
#include "nvz/net.h"

int nvz_netns_enter(int netns, int *saved, struct nvz_error **err)
{
	*saved = -1;
	if (netns < 0)
		return 0;
	/* thread-self, not self: setns() moves only the calling thread. */
	cleanup_close int cur = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (cur < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open current network namespace");
	if (setns(netns, CLONE_NEWNET) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "enter network namespace");
	*saved = steal_fd(&cur);
	return 0;
}

int nvz_netns_leave(int *saved, struct nvz_error **err)
{
	if (*saved < 0)
		return 0;
	cleanup_close int fd = steal_fd(saved);
	/* Failing here would leave this thread acting in the wrong namespace
	 * for whatever the caller does next: report it, never ignore it. */
	if (setns(fd, CLONE_NEWNET) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno,
				   "return to the original network namespace");
	return 0;
}

void nvz_nl_close(struct nvz_nl *nl)
{
	int saved = errno;
	nl_socket_free(nl->sock); /* closes the fd */
	nl->sock = NULL;
	errno = saved;
}

/* libnl folds errno into its own codes (EPERM and EACCES both become
 * NLE_PERM); a failed system call leaves the real one in errno, cleared
 * before each call. */
static int nl_errno(int nle)
{
	if (nle == -NLE_MSG_TRUNC)
		return -ENOSPC; /* a message larger than NVZ_NL_RECVSZ */
	if (nle == -NLE_NOMEM)
		return -ENOMEM;
	return errno ? -errno : -EIO;
}

static const char *proto_name(int proto)
{
	return proto == NETLINK_NETFILTER ? "nfnetlink" : "rtnetlink";
}

/* The socket is ours, close-on-exec whatever the libnl version, with the
 * kernel's default buffers and a port the kernel picks; libnl only wraps it. */
static int nl_socket(int proto, struct nl_sock **out, struct nvz_error **err)
{
	cleanup_close int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open %s socket", proto_name(proto));
	/* Ask for the kernel's explanation of a refusal and a short ack. */
	int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "bind %s socket", proto_name(proto));
	struct nl_sock *s = nl_socket_alloc();
	errno = 0;
	int r = s ? nl_socket_set_fd(s, proto, fd) : -NLE_NOMEM;
	if (r < 0) {
		r = nl_errno(r);
		nl_socket_free(s);
		return nvz_err_sys(err, NVZ_E_SYSTEM, -r, "open %s socket", proto_name(proto));
	}
	steal_fd(&fd);
	/* Replies are matched in nvz_nl_talk: libnl adds no NLM_F_ACK and checks
	 * no sequence. One recv of NVZ_NL_RECVSZ, no MSG_PEEK round trip. */
	nl_socket_disable_auto_ack(s);
	nl_socket_disable_seq_check(s);
	nl_socket_set_msg_buf_size(s, NVZ_NL_RECVSZ);
	nl_socket_disable_msg_peek(s);
	*out = s;
	return 0;
}

int nvz_nl_open_proto(int netns, int proto, struct nvz_nl *nl, struct nvz_error **err)
{
	nl->sock = NULL;
	int saved;
	int r = nvz_netns_enter(netns, &saved, err);
	if (r < 0)
		return r;
	/* A netlink socket acts in the netns it was created in, whatever the
	 * thread does afterwards: create it inside, then go back at once. */
	struct nl_sock *s = NULL;
	int made = nl_socket(proto, &s, err);
	r = nvz_netns_leave(&saved, err);
	if (r < 0) {
		nl_socket_free(s);
		return r;
	}
	if (made < 0)
		return made;
	nl->sock = s;
	nl->seq = (uint32_t)getpid() << 8;
	return 0;
}

struct nl_msg *nvz_nl_msg(struct nvz_nl *nl, uint16_t type, uint16_t flags, const void *hdr,
			  size_t hdrlen)
{
	struct nl_msg *msg = nlmsg_alloc_size(NVZ_NL_BUFSZ);
	if (!msg)
		return NULL;
	/* Port 0 in a request, as the kernel ignores it. */
	struct nlmsghdr *nlh =
		nlmsg_put(msg, 0, ++nl->seq, type, (int)hdrlen, NLM_F_REQUEST | flags);
	if (!nlh) {
		nlmsg_free(msg);
		return NULL;
	}
	memcpy(nlmsg_data(nlh), hdr, hdrlen);
	return msg;
}

int nvz_nl_send(struct nvz_nl *nl, struct nl_msg *const *msgs, unsigned n)
{
	struct iovec iov[NVZ_NL_MAXBATCH];
	if (n == 0 || n > NVZ_NL_MAXBATCH)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (!msgs[i])
			return -ENOMEM;
		iov[i] = (struct iovec){ nlmsg_hdr(msgs[i]), nlmsg_hdr(msgs[i])->nlmsg_len };
	}
	/* nl_send_iovec sends the headers as built (nl_send_auto would fill
	 * in our port and flags). */
	errno = 0;
	int r = nl_send_iovec(nl->sock, msgs[0], iov, n);
	return r < 0 ? nl_errno(r) : 0;
}

int nvz_nl_recv(struct nvz_nl *nl, unsigned char **buf)
{
	struct sockaddr_nl peer = { 0 };
	*buf = NULL;
	errno = 0;
	int n = nl_recv(nl->sock, &peer, buf, NULL); /* retries EINTR itself */
	if (n < 0)
		return nl_errno(n);
	if (n == 0)
		return -EIO; /* a blocking socket: nothing to read is no answer */
	/* Only the kernel (port 0) answers; anyone in the namespace could send
	 * to our port. */
	if (peer.nl_pid != 0)
		return -ESRCH;
	return n;
}

/* Extended-ack TLVs follow the error (and the echoed request unless capped). */
static void read_extack(struct nlmsghdr *m, int off, char *ext, size_t extlen)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	if (!(m->nlmsg_flags & NLM_F_ACK_TLVS) || !ext || !extlen ||
	    nlmsg_parse(m, off, tb, NLMSGERR_ATTR_MAX, NULL) < 0)
		return;
	const char *msg = nvz_nla_str(tb[NLMSGERR_ATTR_MSG]);
	if (msg)
		snprintf(ext, extlen, "%s", msg);
}

static int control_msg(struct nlmsghdr *m, char *ext, size_t extlen)
{
	if (m->nlmsg_type == NLMSG_DONE) {
		if (!nlmsg_valid_hdr(m, sizeof(int)))
			return 0;
		int e = *(const int *)nlmsg_data(m);
		if (e < 0)
			read_extack(m, sizeof(int), ext, extlen);
		return e < 0 ? e : 0;
	}
	const struct nlmsgerr *e = nlmsg_data(m);
	if (!nlmsg_valid_hdr(m, sizeof(*e)))
		return -EBADMSG;
	if (e->error == 0)
		return 0;
	int off = sizeof(*e);
	if (!(m->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len >= sizeof(struct nlmsghdr))
		off += (int)(e->msg.nlmsg_len - sizeof(struct nlmsghdr));
	read_extack(m, off, ext, extlen);
	return e->error < 0 ? e->error : -EPROTO;
}

int nvz_nl_talk(struct nvz_nl *nl, struct nl_msg *msg, nvz_nl_cb cb, void *data, char *ext,
		size_t extlen)
{
	if (ext && extlen)
		ext[0] = '\0';
	int r = nvz_nl_send(nl, &msg, 1);
	if (r < 0)
		return r;
	uint32_t seq = nlmsg_hdr(msg)->nlmsg_seq;
	uint32_t port = nl_socket_get_local_port(nl->sock);
	for (;;) {
		cleanup_free unsigned char *buf = NULL;
		int len = nvz_nl_recv(nl, &buf);
		if (len < 0)
			return len;
		for (struct nlmsghdr *m = (void *)buf; nlmsg_ok(m, len); m = nlmsg_next(m, &len)) {
			/* Leftovers of an earlier, abandoned dump: skip. */
			if (m->nlmsg_seq != seq || m->nlmsg_pid != port)
				continue;
			if (m->nlmsg_type == NLMSG_ERROR || m->nlmsg_type == NLMSG_DONE)
				return control_msg(m, ext, extlen);
			if (m->nlmsg_type < NLMSG_MIN_TYPE || !cb)
				continue;
			r = cb(m, data);
			if (r < 0)
				return r;
		}
	}
}

int nvz_nl_err(struct nvz_error **err, int status, int code, const char *ext, const char *fmt,
	       ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *what = NULL;
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	if (code < 0)
		code = -code;
	if (ext && *ext)
		return nvz_err(err, status, code, "%s: %s: %s", what ? what : "netlink", ext,
			       strerror(code));
	return nvz_err_sys(err, status, code, "%s", what ? what : "netlink");
}

/* Only keys under net/ differ per namespace; refuse anything that could walk
 * elsewhere in /proc. */
static int sysctl_path(const char *key, char *path, size_t len, struct nvz_error **err)
{
	bool ok = key && strncmp(key, "net/", 4) == 0 && !strstr(key, "..") &&
		  !strstr(key, "//") && key[strlen(key) - 1] != '/';
	for (const char *p = key; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		     (*p >= '0' && *p <= '9') || strchr("_-./@", *p);
	if (!ok)
		return nvz_err(err, NVZ_E_VALUE, EINVAL, "invalid network sysctl '%s'",
			       key ? key : "");
	if ((size_t)snprintf(path, len, "/proc/sys/%s", key) >= len)
		return nvz_err(err, NVZ_E_VALUE, ENAMETOOLONG, "network sysctl '%s' too long",
			       key);
	return 0;
}

/* /proc/sys/net resolves against the net namespace of the task that walks
 * the path; the open file keeps that namespace's table, so we may leave
 * before reading or writing. */
static int sysctl_open(int netns, const char *key, int flags, struct nvz_error **err)
{
	char path[256];
	if (sysctl_path(key, path, sizeof(path), err) < 0)
		return -1;
	int saved;
	if (nvz_netns_enter(netns, &saved, err) < 0)
		return -1;
	cleanup_close int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW);
	int e = errno;
	if (nvz_netns_leave(&saved, err) < 0)
		return -1;
	if (fd < 0)
		return nvz_err_sys(err, e == ENOENT ? NVZ_E_VALUE : NVZ_E_SYSTEM, e,
				   "sysctl %s", key);
	return steal_fd(&fd);
}

int nvz_net_sysctl(int netns, const char *key, const char *value, struct nvz_error **err)
{
	cleanup_close int fd = sysctl_open(netns, key, O_WRONLY, err);
	if (fd < 0)
		return -1;
	/* One write: sysctl handlers parse each write() on its own. */
	size_t n = strlen(value);
	ssize_t w = write(fd, value, n);
	if (w < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "set sysctl %s to '%s'", key, value);
	if ((size_t)w != n)
		return nvz_err(err, NVZ_E_SYSTEM, EIO, "set sysctl %s to '%s': short write", key,
			       value);
	return 0;
}

int nvz_net_sysctl_read(int netns, const char *key, char *buf, size_t len,
			struct nvz_error **err)
{
	if (len == 0)
		return nvz_err(err, NVZ_E_SYSTEM, EINVAL, "read sysctl %s: no buffer", key);
	cleanup_close int fd = sysctl_open(netns, key, O_RDONLY, err);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	if (n < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "read sysctl %s", key);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}
