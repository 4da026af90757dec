/* The CT's pid counter (its pid namespace's last pid) carried across a
 * dump. criu gives each restored process its own pid back (clone3 with
 * set_tid), which does not move the namespace's counter: without this,
 * the first process made after a restore or a migration got pid 2, then
 * 3..., the pids of processes that had ended before the dump. A pid file
 * a crashed daemon left then names a live process at once. OpenVZ's
 * kernel checkpoint carried the counter.
 *
 * The counter is read and written through /proc/sys/kernel/ns_last_pid,
 * which acts on the pid namespace of the process that opens it: a child
 * forked after setns() into the CT's, for an instant (not in the CT's
 * cgroup, in the host's mount namespace). fork() here may run in a process
 * with threads (the hub's restore): the children call async-signal-safe
 * functions only. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpt/taskfd.h"
#include "nvz/cleanup.h"

#define NS_LAST_PID "/proc/sys/kernel/ns_last_pid"

/* In a process of the CT's pid namespace: write value (> 0) to the
 * counter, or read it (value 0). The result (the counter, 0 once written,
 * or -errno) goes to fd. */
static void counter_op(int value, int fd)
{
	char buf[24];
	int r = -EIO, len = 0;
	int c = open(NS_LAST_PID, (value > 0 ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (c < 0) {
		r = -errno;
	} else if (value > 0) {
		/* Decimal, by hand: snprintf is not async-signal-safe. */
		char *p = buf + sizeof(buf);
		for (int v = value; v > 0; v /= 10)
			*--p = (char)('0' + v % 10);
		len = (int)(buf + sizeof(buf) - p);
		r = write(c, p, (size_t)len) == len ? 0 : -errno;
	} else if ((len = (int)read(c, buf, sizeof(buf) - 1)) > 0) {
		r = 0;
		for (int i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++)
			r = r * 10 + (buf[i] - '0');
	} else {
		r = len < 0 ? -errno : -EIO;
	}
	if (write(fd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	_exit(0);
}

/* setns() moves only the caller's children into the CT's pid namespace:
 * a child joins it, and its own child does the work. */
static int in_ct_pidns(pid_t init, int value)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)init);
	cleanup_close int ns = open(path, O_RDONLY | O_CLOEXEC);
	int pipefd[2];
	if (ns < 0 || pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid_t child = fork();
	if (child < 0) {
		int e = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return -e;
	}
	if (child == 0) {
		int r = -EIO, st = 0;
		pid_t worker = setns(ns, CLONE_NEWPID) < 0 ? -1 : fork();
		if (worker == 0)
			counter_op(value, pipefd[1]);
		if (worker < 0)
			r = -errno;
		else if (waitpid(worker, &st, 0) == worker && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			_exit(0); /* the worker sent the result */
		if (write(pipefd[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	int r = -EIO;
	ssize_t n;
	while ((n = read(pipefd[0], &r, sizeof(r))) < 0 && errno == EINTR)
		;
	if (n != sizeof(r))
		r = -EIO;
	close(pipefd[0]);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	return r;
}

int nvz_cpt_last_pid_read(pid_t init)
{
	int r = in_ct_pidns(init, 0);
	return r > 0 ? r : -1;
}

int nvz_cpt_last_pid_write(pid_t init, int value)
{
	if (value <= 0)
		return 0;
	int r = in_ct_pidns(init, value);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}
