#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ct/console.h"
#include "ct/state.h"
#include "nvz/cleanup.h"

static int sock_path(const struct nvz_ct *ct, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	int n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/console.sock", ct->rundir);
	return n > 0 && (size_t)n < sizeof(sa->sun_path) ? 0 : -1;
}

/* A pty pair for a CT's console: the slave's name in name, ONLCR on as a
 * real console has it. */
int nvz_console_pty(int *master, int *slave, char *name, size_t namelen)
{
	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0 || grantpt(*master) < 0 || unlockpt(*master) < 0)
		return -1;
	if (ptsname_r(*master, name, namelen) != 0)
		return -1;
	*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		return -1;
	struct termios t;
	if (tcgetattr(*slave, &t) == 0) {
		t.c_oflag |= ONLCR;
		tcsetattr(*slave, TCSANOW, &t);
	}
	return 0;
}

int nvz_console_open_log(const struct nvz_ct *ct)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/console.log", ct->rundir) >= (int)sizeof(path))
		return -1;
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
}

int nvz_console_listen(const struct nvz_ct *ct)
{
	struct sockaddr_un sa;
	if (sock_path(ct, &sa) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	unlink(sa.sun_path);
	/* RUNDIR/<id> is 0700 root: only root reaches the socket. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 2) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void nvz_console_unlisten(const struct nvz_ct *ct, int fd)
{
	struct sockaddr_un sa;
	if (fd < 0)
		return;
	close(fd);
	if (sock_path(ct, &sa) == 0)
		unlink(sa.sun_path);
}

int nvz_console_accept(int listen_fd, int master)
{
	int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return -1;
	if (nvz_send_fd(c, master) < 0) {
		close(c);
		return -1;
	}
	return c;
}

int nvz_ct_console_take(struct nvz_ct *ct, int *sock, struct nvz_error **err)
{
	struct sockaddr_un sa;
	*sock = -1;
	if (sock_path(ct, &sa) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENAMETOOLONG, "console socket path too long");
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		struct nvz_ct_state st;
		nvz_ct_get_state(ct, &st, NULL);
		/* Running, but nobody holds the console: its monitor (the hub)
		 * was killed, and the console's master went with it. */
		if (st.running)
			return nvz_err(err, NVZ_E_SYSTEM, ENOTCONN,
				       "The console of CT %s went with its monitor, which is gone: restart the container to get it back",
				       ct->id);
		return nvz_err(err, NVZ_E_NOT_RUNNING, ESRCH, "Container is not running");
	}
	int master = nvz_recv_fd(fd);
	if (master < 0)
		return nvz_err(err, NVZ_E_SYSTEM, EBUSY, "console of CT %s is in use", ct->id);
	*sock = steal_fd(&fd);
	return master;
}


int nvz_send_msg(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	union {
		char buf[CMSG_SPACE(sizeof(int) * NVZ_RECV_FDS_MAX)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds > NVZ_RECV_FDS_MAX)
		return -1;
	if (nfds) {
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

ssize_t nvz_recv_msg(int sock, void *buf, size_t len, int *fds, size_t *nfds, int flags)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	union {
		char buf[CMSG_SPACE(sizeof(int) * NVZ_RECV_FDS_MAX)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	ssize_t n;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
	while (n < 0 && errno == EINTR);
	*nfds = 0;
	for (struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++)
			memcpy(&fds[(*nfds)++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
	}
	/* A truncated message is not one we sent: nothing of it is kept. */
	if (n >= 0 && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		nvz_close_fds(fds, nfds);
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}

void nvz_close_fds(int *fds, size_t *nfds)
{
	for (size_t i = 0; i < *nfds; i++)
		close(fds[i]);
	*nfds = 0;
}

int nvz_send_fd(int sock, int fd)
{
	char c = 0;
	return nvz_send_msg(sock, &c, 1, &fd, 1);
}

int nvz_recv_fds(int sock, int *fds, size_t want)
{
	char c;
	int got[NVZ_RECV_FDS_MAX];
	size_t n = 0;
	if (want > NVZ_RECV_FDS_MAX || nvz_recv_msg(sock, &c, 1, got, &n, 0) <= 0 || n != want) {
		nvz_close_fds(got, &n);
		return -1;
	}
	memcpy(fds, got, sizeof(int) * want);
	return 0;
}

int nvz_recv_fd(int sock)
{
	int fd;
	return nvz_recv_fds(sock, &fd, 1) < 0 ? -1 : fd;
}

static bool write_all(int fd, const char *buf, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, buf + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return false;
		off += (size_t)w;
	}
	return true;
}

/* Whether the process has the console (the inode of its pty) open on a
 * descriptor. The inode, not the device number: each devpts instance (each
 * CT's, the host's) numbers its ptys from 0. */
static bool has_open(pid_t pid, const struct stat *tty)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	cleanup_dir DIR *d = opendir(path);
	int dfd = d ? dirfd(d) : -1;
	struct stat st;
	for (struct dirent *de; d && (de = readdir(d));)
		if (de->d_name[0] != '.' && fstatat(dfd, de->d_name, &st, 0) == 0 && S_ISCHR(st.st_mode) &&
		    st.st_dev == tty->st_dev && st.st_ino == tty->st_ino)
			return true;
	return false;
}

/* The pid a process has in its own (a CT's) pid namespace; 0 for a
 * process of the host's namespace, -1 if gone. */
static long ct_pid(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	cleanup_free char *text = NULL;
	if (nvz_read_file(path, 1 << 16, &text, NULL, NULL) < 0)
		return -1;
	const char *l = strstr(text, "\nNSpid:");
	if (!l)
		return -1;
	l += 7;
	size_t len = strcspn(l, "\n");
	long last = -1;
	int n = 0;
	for (const char *p = l; p < l + len; n++) {
		char *end;
		last = strtol(p, &end, 10);
		if (end == p)
			break;
		p = end;
	}
	return n >= 2 ? last : 0;
}

/* Esc ! : OpenVZ's SAK, "kill anything running on the console" (a login
 * prompt that does not come). Mainline has no SAK for one pty, so it is
 * done as the kernel's SAK does it, by the processes that have the console
 * open, but only inside a CT and never to the CT's init, which holds the
 * console and starts its getty again. */
static void console_sak(int master)
{
	cleanup_close int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (slave < 0 || fstat(slave, &st) < 0)
		return;
	cleanup_dir DIR *d = opendir("/proc");
	for (struct dirent *de; d && (de = readdir(d));) {
		pid_t pid = (pid_t)atol(de->d_name);
		if (de->d_name[strspn(de->d_name, "0123456789")] || pid <= 0 || pid == getpid())
			continue;
		/* Held before the checks: a pid reused meanwhile gets no signal. */
		cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pidfd >= 0 && ct_pid(pid) > 1 && has_open(pid, &st))
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	}
}

struct escape_state {
	bool line_start;
	bool saw_esc;
};

/* Forward typed bytes (master -1: drop them), watching for Esc . (detach)
 * and Esc ! (SAK) at the start of a line. */
static bool forward_input(int in, int master, struct escape_state *e, bool escape)
{
	char buf[4096], out[4096];
	ssize_t n = read(in, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 && errno == EINTR;
	size_t o = 0;
	for (ssize_t i = 0; i < n; i++) {
		char ch = buf[i];
		if (escape && e->saw_esc) {
			e->saw_esc = false;
			if (ch == '.')
				return false;
			if (ch == '!') {
				if (master >= 0)
					console_sak(master);
				continue;
			}
			out[o++] = 0x1b;
		} else if (escape && e->line_start && ch == 0x1b) {
			e->saw_esc = true;
			continue;
		}
		out[o++] = ch;
		e->line_start = ch == '\r' || ch == '\n';
	}
	return master < 0 || write_all(master, out, o);
}

/* The caller's terminal (if in is one) raw, its settings kept in saved. */
static bool raw_mode(int in, struct termios *saved)
{
	if (in < 0 || tcgetattr(in, saved) < 0)
		return false;
	struct termios t = *saved;
	cfmakeraw(&t);
	tcsetattr(in, TCSANOW, &t);
	return true;
}

static void sync_winsize(int tty, int master)
{
	struct winsize ws;
	if (ioctl(tty, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

/* vzctl enter whose input ended (a pipe, a file): the CT's shell must see
 * the end too, or it waits on a pty nobody types into any more. OpenVZ
 * closed the master, which also cut off what the shell still had to print;
 * nvz types the terminal's EOF character, at a moment a reader takes it as
 * the end: when the pty holds no input that is not yet read. A job in the
 * foreground gets one (it may be reading, as `cat` does); the shell gets
 * one each time it is back in front and has read the last. A shell that
 * still reads on is hung up, as OpenVZ did at once. */
#define EOF_POLL_MS 50
#define EOF_SHELL_GAP_MS 200
#define EOF_SHELL_TRIES 5

struct eof_feed {
	pid_t typed_for;  /* the foreground group the last EOF went to */
	int shell_tries;  /* EOFs typed to the shell itself */
	long long last_ms;
};

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void feed_eof(int master, struct eof_feed *f)
{
	/* The master answers for the slave's foreground group, session and
	 * modes; what waits unread is only seen from the slave. */
	pid_t fg = tcgetpgrp(master), sid = 0;
	struct termios t;
	if (fg <= 0 || ioctl(master, TIOCGSID, &sid) < 0 || tcgetattr(master, &t) < 0)
		return;
	cleanup_close int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	int unread = 0;
	if (slave < 0 || ioctl(slave, FIONREAD, &unread) < 0 || unread > 0)
		return;
	long long now = now_ms();
	if (fg != sid) {
		if (fg == f->typed_for)
			return;
	} else if (fg == f->typed_for && now - f->last_ms < EOF_SHELL_GAP_MS) {
		return;
	} else if (f->shell_tries++ >= EOF_SHELL_TRIES) {
		ioctl(slave, TIOCVHANGUP);
		return;
	}
	char eof = (char)t.c_cc[VEOF];
	if (write(master, &eof, 1) == 1) {
		f->typed_for = fg;
		f->last_ms = now;
	}
}

bool nvz_relay_pty(int master, int in, int out, bool escape)
{
	bool by_user = false;
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	cleanup_close int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	struct termios saved;
	bool raw = raw_mode(in, &saved);
	if (raw)
		sync_winsize(in, master);
	struct escape_state e = { .line_start = true };
	bool in_open = in >= 0, input_ended = false;
	struct eof_feed feed = { 0 };
	for (;;) {
		struct pollfd p[3] = { { .fd = master, .events = POLLIN },
				       { .fd = in_open ? in : -1, .events = POLLIN },
				       { .fd = sigfd, .events = POLLIN } };
		if (input_ended)
			feed_eof(master, &feed);
		if (poll(p, 3, input_ended ? EOF_POLL_MS : -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			char buf[8192];
			ssize_t n = read(master, buf, sizeof(buf));
			if (n <= 0 && !(n < 0 && errno == EINTR))
				break;
			if (n > 0 && !write_all(out, buf, (size_t)n))
				break;
		}
		if (p[1].revents && !forward_input(in, master, &e, escape)) {
			by_user = escape;
			if (escape)
				break; /* detach, or the user's input ended */
			in_open = false;
			input_ended = true;
		}
		if (p[2].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) > 0 && in >= 0)
				sync_winsize(in, master);
		}
	}
	if (raw)
		tcsetattr(in, TCSANOW, &saved);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	return by_user;
}

/* Until the CT runs: true then, false at Esc . (at the start of a line) or
 * the end of the input, which is read raw as while attached and dropped. */
static bool wait_running(struct nvz_ct *ct, int in)
{
	struct termios saved;
	bool raw = raw_mode(in, &saved);
	struct escape_state e = { .line_start = true };
	bool running = false;
	for (;;) {
		struct nvz_ct_state st;
		if (nvz_ct_get_state(ct, &st, NULL) == 0 && st.running) {
			running = true;
			break;
		}
		struct pollfd p = { .fd = in, .events = POLLIN };
		int n = poll(&p, in >= 0 ? 1 : 0, 50);
		if (n > 0 && !forward_input(in, -1, &e, true))
			break;
	}
	if (raw)
		tcsetattr(in, TCSANOW, &saved);
	return running;
}

/* The console of a CT that runs (a start in progress: its monitor takes
 * the console socket once init runs); -1 if it stopped meanwhile (*err
 * unset) or the console cannot be had. */
static int take_when_ready(struct nvz_ct *ct, int *sock, struct nvz_error **err)
{
	for (int i = 0;; i++) {
		struct nvz_error *e = NULL;
		int master = nvz_ct_console_take(ct, sock, &e);
		if (master >= 0)
			return master;
		struct nvz_ct_state st;
		bool running = nvz_ct_get_state(ct, &st, NULL) == 0 && st.running;
		/* A socket nobody answers on: its monitor is gone, no use waiting.
		 * No socket: a stop or start is under way. */
		struct sockaddr_un sa;
		struct stat sst;
		bool orphaned = sock_path(ct, &sa) == 0 && stat(sa.sun_path, &sst) == 0;
		if (!running || orphaned || e->code == EBUSY || i == 50) {
			if (running)
				*err = steal_ptr(&e);
			nvz_error_free(e);
			return -1;
		}
		nvz_error_free(e);
		usleep(100 * 1000);
	}
}

/* The console log's size now (-1: none). */
static off_t log_size(const struct nvz_ct *ct)
{
	cleanup_free char *path = NULL;
	struct stat st;
	if (asprintf(&path, "%s/console.log", ct->rundir) < 0 || stat(path, &st) < 0)
		return -1;
	return st.st_size;
}

/* What the monitor logged of this boot before we had the console (from
 * offset from; all of it if the log was cut since). */
static void replay_log(const struct nvz_ct *ct, off_t from, int out)
{
	cleanup_free char *path = NULL;
	if (asprintf(&path, "%s/console.log", ct->rundir) < 0)
		return;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || lseek(fd, st.st_size < from ? 0 : from, SEEK_SET) < 0)
		return;
	char buf[8192];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0 && write_all(out, buf, (size_t)n))
		;
}

int nvz_ct_console_attach(struct nvz_ct *ct, int in, int out, void (*attached)(void *), void *arg,
			  struct nvz_error **err)
{
	bool said = false;
	for (;;) {
		struct nvz_ct_state st;
		bool was_running = nvz_ct_get_state(ct, &st, NULL) == 0 && st.running;
		off_t from = was_running ? -1 : log_size(ct);
		/* Said once: before waiting, or once a running CT's console is ours
		 * (a console that cannot be had is an error, not an attach). */
		if (!was_running && !said) {
			said = true;
			attached(arg);
		}
		if (!wait_running(ct, in))
			return 0;
		cleanup_close int sock = -1;
		cleanup_close int master = take_when_ready(ct, &sock, err);
		if (master < 0 && *err)
			return -1;
		if (master >= 0 && !said) {
			said = true;
			attached(arg);
		}
		/* A boot we waited for is shown from its first line. */
		if (master >= 0 && !was_running)
			replay_log(ct, from < 0 ? 0 : from, out);
		/* Detached by the user, or the CT stopped: then wait for its next
		 * start, as OpenVZ's console stayed across restarts. */
		if (master >= 0 && nvz_relay_pty(master, in, out, true))
			return 0;
	}
}
