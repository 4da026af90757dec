/* ptyhold SOCKET: the host side of a console for crun's CTs, one process
 * for all of them (as nvz's hub): takes each CT's pty master from
 * `crun run --console-socket SOCKET` and drains it (what podman's conmon
 * does, one per CT) until the CT closes it. The output is discarded: nvz
 * appends it to a log file, which costs it page cache, not this process.
 * For bench/lib.sh's "crun given nvz's functions" column. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int recv_master(int conn)
{
	char data[256];
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			      .msg_controllen = sizeof(ctl) };
	if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

int main(int argc, char **argv)
{
	if (argc != 2 || strlen(argv[1]) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "usage: ptyhold SOCKET\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, argv[1]);
	unlink(sa.sun_path);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (lfd < 0 || ep < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0) {
		perror("ptyhold");
		return 1;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		struct epoll_event got[16];
		int n = epoll_wait(ep, got, 16, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return 1;
		for (int i = 0; i < n; i++) {
			int fd = got[i].data.fd;
			if (fd == lfd) {
				int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
				int master = conn >= 0 ? recv_master(conn) : -1;
				if (conn >= 0)
					close(conn);
				struct epoll_event mev = { .events = EPOLLIN, .data.fd = master };
				if (master >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, master, &mev) < 0)
					close(master);
				continue;
			}
			char buf[4096];
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
				close(fd); /* the CT is gone (EIO once its last slave closed) */
		}
	}
}
