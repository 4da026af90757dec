/* execwait: run a container manager's start command and return when both
 * the command has returned and the container's init has exec'd.
 *
 * Why: managers return at different points (nvz after init's execve, crun
 * and LXC when the payload was released, possibly before its execve), so
 * timing the command alone would not be fair. The kernel's process events
 * connector (NETLINK_CONNECTOR, PROC_EVENT_EXEC) reports every execve; the
 * container's init is the exec of a process that is pid 1 in its own pid
 * namespace (last NSpid field 1) and whose cgroup path contains MATCH (the
 * container's unique name, so other containers on the machine do not count).
 * Needs CAP_NET_ADMIN (root).
 *
 * The harness is in every tool's start row and not in the floor's, so it
 * does as little as it can: linked statically (bench/run.sh), the command
 * spawned with posix_spawn (vfork: no page tables copied), and a socket
 * filter that lets only exec events through (the connector reports every
 * fork and exit on the machine, each a wake-up on a busy CPU otherwise).
 * Usage: execwait MATCH command [args...]; exit 0 on success. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <spawn.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctinit.h"

/* Pass a message only if its event is an exec (what: after the netlink
 * and connector headers, in host byte order; BPF loads words big-endian). */
static int exec_events_only(int fd)
{
	const unsigned what = NLMSG_LENGTH(0) + offsetof(struct cn_msg, data) +
			      offsetof(struct proc_event, what);
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, what),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(PROC_EVENT_EXEC), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

static int nl_listen(void)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (fd < 0)
		return -1;
	int sz = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	if (exec_events_only(fd) < 0)
		return -1;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC, .nl_pid = 0 };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	struct {
		struct nlmsghdr nl;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) req = {
		.nl = { .nlmsg_len = sizeof(req), .nlmsg_type = NLMSG_DONE },
		.cn = { .id = { CN_IDX_PROC, CN_VAL_PROC }, .len = sizeof(enum proc_cn_mcast_op) },
		.op = PROC_CN_MCAST_LISTEN,
	};
	if (send(fd, &req, sizeof(req), 0) < 0)
		return -1;
	return fd;
}

/* Returns true when an exec event names the container's init. */
static bool handle_events(int fd, const char *match)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n <= 0)
		return false; /* ENOBUFS: events lost to a busy machine; keep going */
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
		struct cn_msg *cn = NLMSG_DATA(h);
		struct proc_event *ev = (struct proc_event *)cn->data;
		if (ev->what == PROC_EVENT_EXEC && is_ct_init(ev->event_data.exec.process_pid, match))
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: execwait MATCH command [args...]\n");
		return 2;
	}
	int nl = nl_listen();
	if (nl < 0) {
		perror("execwait: process events connector");
		return 2;
	}
	extern char **environ;
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[2], NULL, NULL, argv + 2, environ);
	if (rc != 0) {
		fprintf(stderr, "execwait: exec %s: %s\n", argv[2], strerror(rc));
		return 127;
	}
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	bool exited = false, seen = false;
	int status = 0;
	while (!exited || !seen) {
		/* Once init was seen, its events are no longer read: polling
		 * for them would spin (poll returns at once) and take a CPU from
		 * the command still on its way out. */
		struct pollfd p[2] = { { .fd = seen ? -1 : nl, .events = POLLIN },
				       { .fd = exited ? -1 : pfd, .events = POLLIN } };
		if (poll(p, 2, 30000) == 0) {
			fprintf(stderr, "execwait: timeout (command %s, init %s)\n",
				exited ? "returned" : "running", seen ? "seen" : "not seen");
			return 1;
		}
		if (p[0].revents & POLLIN)
			seen = seen || handle_events(nl, argv[1]);
		if (p[1].revents & POLLIN) {
			waitpid(pid, &status, 0);
			exited = true;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				fprintf(stderr, "execwait: %s failed (status %d)\n", argv[2], status);
				return 1;
			}
		}
	}
	return 0;
}
