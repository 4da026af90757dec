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
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
	errno = saved;
}

static struct mnl_socket *nl_socket(struct nvz_error **err)
{
	struct mnl_socket *s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!s) {
		nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open rtnetlink socket");
		return NULL;
	}
	/* Ask for the kernel's explanation of a refusal and a short ack. */
	int one = 1;
	mnl_socket_setsockopt(s, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
		nvz_err_sys(err, NVZ_E_SYSTEM, errno, "bind rtnetlink socket");
		mnl_socket_close(s);
		return NULL;
	}
	return s;
}

int nvz_nl_open(int netns, struct nvz_nl *nl, struct nvz_error **err)
{
	nl->sock = NULL;
	int saved;
	if (nvz_netns_enter(netns, &saved, err) < 0)
		return -1;
	/* A netlink socket acts in the netns it was created in, whatever the
	 * thread does afterwards: create it inside, then go back at once. */
	struct mnl_socket *s = nl_socket(err);
	if (nvz_netns_leave(&saved, err) < 0) {
		if (s)
			mnl_socket_close(s);
		return -1;
	}
	if (!s)
		return -1;
	nl->sock = s;
	nl->portid = mnl_socket_get_portid(s);
	nl->seq = (uint32_t)getpid() << 8;
	return 0;
}

struct nlmsghdr *nvz_nl_msg(struct nvz_nl *nl, char *buf, uint16_t type, uint16_t flags)
{
	memset(buf, 0, NVZ_NL_BUFSZ);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

struct ext_ctx {
	char *buf;
	size_t len;
};

static int ext_attr(const struct nlattr *a, void *data)
{
	struct ext_ctx *c = data;
	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0 && c->buf && c->len)
		snprintf(c->buf, c->len, "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

/* Extended-ack TLVs follow the error (and the echoed request unless capped). */
static void read_extack(const struct nlmsghdr *m, size_t off, char *ext, size_t extlen)
{
	if (!(m->nlmsg_flags & NLM_F_ACK_TLVS) || m->nlmsg_len < mnl_nlmsg_size(off))
		return;
	struct ext_ctx c = { ext, extlen };
	mnl_attr_parse(m, off, ext_attr, &c);
}

static int control_msg(const struct nlmsghdr *m, char *ext, size_t extlen)
{
	if (m->nlmsg_type == NLMSG_DONE) {
		if (m->nlmsg_len < mnl_nlmsg_size(sizeof(int)))
			return 0;
		int e = *(const int *)mnl_nlmsg_get_payload(m);
		if (e < 0)
			read_extack(m, sizeof(int), ext, extlen);
		return e < 0 ? e : 0;
	}
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
	if (m->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return -EBADMSG;
	if (e->error == 0)
		return 0;
	size_t off = sizeof(*e);
	if (!(m->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len >= sizeof(struct nlmsghdr))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	read_extack(m, off, ext, extlen);
	return e->error < 0 ? e->error : -EPROTO;
}

int nvz_nl_talk(struct nvz_nl *nl, struct nlmsghdr *nlh, nvz_nl_cb cb, void *data, char *ext,
		size_t extlen)
{
	if (ext && extlen)
		ext[0] = '\0';
	uint32_t seq = nlh->nlmsg_seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	cleanup_free char *buf = malloc(NVZ_NL_RECVSZ);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, NVZ_NL_RECVSZ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		int len = (int)n;
		for (const struct nlmsghdr *m = (const void *)buf; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			/* Leftovers of an earlier, abandoned dump: skip. */
			if (m->nlmsg_seq != seq || m->nlmsg_pid != nl->portid)
				continue;
			if (m->nlmsg_type == NLMSG_ERROR || m->nlmsg_type == NLMSG_DONE)
				return control_msg(m, ext, extlen);
			if (m->nlmsg_type < NLMSG_MIN_TYPE || !cb)
				continue;
			int r = cb(m, data);
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
