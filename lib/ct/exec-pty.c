/* vzctl enter: an interactive shell on a pty that belongs to the CT's own
 * devpts instance (so `tty` inside names /dev/pts/N of the CT), relayed to
 * the caller's terminal. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ct/exec.h"
#include "nvz/cleanup.h"

static int send_fd(int sock, int fd)
{
	char c = 0;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

static int recv_fd(int sock)
{
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static __attribute__((noreturn)) void middle_pty(struct nvz_ct *ct, int pidfd,
						  const struct nvz_exec_opts *o, int sock)
{
	if (nvz_ct_join(ct, pidfd) < 0)
		_exit(125);
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	char name[64];
	if (master < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0 ||
	    send_fd(sock, master) < 0)
		_exit(125);
	pid_t child = fork();
	if (child < 0)
		_exit(125);
	if (child == 0) {
		close(master);
		close(sock);
		setsid();
		int slave = open(name, O_RDWR | O_CLOEXEC);
		if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
			_exit(126);
		for (int i = 0; i < 3; i++)
			dup2(slave, i);
		nvz_exec_inside(ct, o);
	}
	close(master);
	close(sock);
	_exit(nvz_wait_code(child));
}

static void copy_fd(int from, int to, bool *open_flag)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n <= 0) {
		if (n == 0 || errno != EINTR)
			*open_flag = false;
		return;
	}
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && errno != EINTR)
			return;
		if (w > 0)
			off += w;
	}
}

static void sync_winsize(int tty, int master)
{
	struct winsize ws;
	if (ioctl(tty, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

static void relay_pty(int master, int in, int out)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	cleanup_close int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	bool in_open = in >= 0, m_open = true;
	while (m_open) {
		struct pollfd p[3] = { { .fd = master, .events = POLLIN },
				       { .fd = in_open ? in : -1, .events = POLLIN },
				       { .fd = sigfd, .events = POLLIN } };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			copy_fd(master, out, &m_open);
		if (p[1].revents)
			copy_fd(in, master, &in_open);
		if (p[2].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) > 0)
				sync_winsize(in, master);
		}
	}
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
}

int nvz_ct_exec_pty(struct nvz_ct *ct, int pidfd, const struct nvz_exec_opts *o,
		    struct nvz_error **err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "socketpair");
	pid_t x = fork();
	if (x < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "fork");
	if (x == 0) {
		close(sv[0]);
		middle_pty(ct, pidfd, o, sv[1]);
	}
	close(sv[1]);
	cleanup_close int master = recv_fd(sv[0]);
	close(sv[0]);
	if (master < 0) {
		nvz_wait_code(x);
		return nvz_err(err, NVZ_E_SYSTEM, EIO, "enter into CT %s failed", ct->id);
	}
	int in = o->stdin_fd, out = o->stdout_fd >= 0 ? o->stdout_fd : 1;
	struct termios saved;
	bool raw = in >= 0 && tcgetattr(in, &saved) == 0;
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		tcsetattr(in, TCSANOW, &t);
		sync_winsize(in, master);
	}
	relay_pty(master, in, out);
	if (raw)
		tcsetattr(in, TCSANOW, &saved);
	return nvz_wait_code(x);
}
