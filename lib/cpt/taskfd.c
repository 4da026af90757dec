/* The open files of a restored CT's processes, reached from the host. What
 * criu cannot carry in an open file (a socket's repair mode it left on, a
 * PSI trigger) is set again on the very file the process holds: a copy
 * of its descriptor (pidfd_getfd) shares the open file, so a setsockopt
 * or a write acts on the process's own. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cpt/taskfd.h"
#include "nvz/cleanup.h"

static void each_fd(pid_t pid, nvz_cpt_fd_want_fn want, nvz_cpt_fd_fn fn, void *arg)
{
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	cleanup_dir DIR *d = pidfd >= 0 ? opendir(path) : NULL;
	for (struct dirent *de; d && (de = readdir(d));) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (!want(target))
			continue;
		/* -1 with errno: refused (Yama's ptrace_scope 3, a process gone). */
		cleanup_close int fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(de->d_name), 0);
		fn(pid, fd, target, arg);
	}
}

void nvz_cpt_each_task(pid_t init_pid, bool (*fn)(pid_t pid, void *arg), void *arg)
{
	char path[64];
	struct stat ns, st;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)init_pid);
	if (stat(path, &ns) < 0)
		return;
	/* The CT's processes are those in init's pid namespace. */
	cleanup_dir DIR *d = opendir("/proc");
	for (struct dirent *de; d && (de = readdir(d));) {
		pid_t pid = (pid_t)atoi(de->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
		if (stat(path, &st) == 0 && st.st_ino == ns.st_ino && st.st_dev == ns.st_dev &&
		    !fn(pid, arg))
			return;
	}
}

struct fd_walk {
	nvz_cpt_fd_want_fn want;
	nvz_cpt_fd_fn fn;
	void *arg;
};

static bool task_fds(pid_t pid, void *arg)
{
	struct fd_walk *w = arg;
	each_fd(pid, w->want, w->fn, w->arg);
	return true;
}

void nvz_cpt_each_task_fd(pid_t init_pid, nvz_cpt_fd_want_fn want, nvz_cpt_fd_fn fn, void *arg)
{
	struct fd_walk w = { want, fn, arg };
	nvz_cpt_each_task(init_pid, task_fds, &w);
}
