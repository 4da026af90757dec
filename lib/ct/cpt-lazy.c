/* Rolling back a post-copy checkpoint (nvz_ct_chkpnt_lazy_abort): criu was
 * killed while it held the CT frozen for its page server, so what its own
 * rollback would undo is undone here: TCP repair mode, the freezer, the
 * network lock. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ct/internal.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/net.h"

static int freezer_write(struct nvz_ct *ct, const char *state)
{
	cleanup_free char *p = NULL;
	if (asprintf(&p, "/sys/fs/cgroup/freezer/%s/%s/freezer.state",
		     nvz_ct_get(ct, "CGROUP_PREFIX", "nvz"), ct->id) < 0)
		return -1;
	cleanup_close int fd = open(p, O_RDWR | O_CLOEXEC);
	if (fd < 0 || write(fd, state, strlen(state)) < 0)
		return -1;
	/* FREEZING until every task stopped (a few ms). */
	for (int i = 0; i < 200; i++) {
		char buf[16] = "";
		if (pread(fd, buf, sizeof(buf) - 1, 0) > 0 && !strncmp(buf, state, strlen(state)))
			return 0;
		usleep(5000);
	}
	return -1;
}

void nvz_ct_lazy_hold(struct nvz_ct *ct)
{
	if (freezer_write(ct, "FROZEN") < 0)
		nvz_log(ct->ctx, NVZ_LOG_VERBOSE, "CT %s: no freezer to hold it while criu goes", ct->id);
}

/* One process's TCP sockets out of repair mode, each through a copy of
 * its descriptor (pidfd_getfd): setsockopt acts on the socket itself. */
static void repair_off_pid(pid_t pid)
{
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	cleanup_dir DIR *d = pidfd >= 0 ? opendir(path) : NULL;
	for (struct dirent *de; d && (de = readdir(d));) {
		char target[64];
		ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (n <= 0 || strncmp(target, "socket:", 7))
			continue;
		cleanup_close int fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(de->d_name), 0);
		int proto = 0, off = TCP_REPAIR_OFF;
		socklen_t len = sizeof(proto);
		/* Refused (EPERM) for a socket neither established nor
		 * closed, which criu never put in repair mode. */
		if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 &&
		    proto == IPPROTO_TCP)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off));
	}
}

/* criu put the CT's established TCP connections in repair mode to dump
 * them; killed, it never took them out, and they would stay silent. Its
 * processes are those in init's pid namespace. */
static void tcp_repair_off(pid_t init_pid)
{
	char path[64];
	struct stat ns, st;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)init_pid);
	if (stat(path, &ns) < 0)
		return;
	cleanup_dir DIR *d = opendir("/proc");
	for (struct dirent *de; d && (de = readdir(d));) {
		pid_t pid = (pid_t)atoi(de->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
		if (stat(path, &st) == 0 && st.st_ino == ns.st_ino && st.st_dev == ns.st_dev)
			repair_off_pid(pid);
	}
}

void nvz_ct_lazy_unlock(struct nvz_ct *ct, pid_t init_pid)
{
	tcp_repair_off(init_pid);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init_pid);
	cleanup_close int ns = open(path, O_RDONLY | O_CLOEXEC);
	struct nvz_error *e = NULL;
	if (ns >= 0 && nvz_nft_drop_tables(ns, "CRIU-", &e) < 0) {
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: CT %s's network stays locked: %s", ct->id, e->msg);
		nvz_error_free(e);
	}
	/* Last: the CT runs again with its connections and network back. */
	if (freezer_write(ct, "THAWED") < 0)
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: cannot thaw CT %s", ct->id);
}
