/* The small monitor's life (see monwait.h): handed over by the full
 * monitor once init runs, it keeps a CT's host side going with a few pages
 * of memory. Why an exec: the full monitor is a fork of vzctl, so each CT
 * kept vzctl's relocated data, libc's and the heap of the whole start
 * (~230 kB PSS per CT); vzmon is static and non-PIE (no relocations), and
 * holds no config between requests. It runs on the host, outside the CT's
 * pid namespace, as the full monitor did: nothing of it is visible inside. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ct/console.h"
#include "ct/bcfs.h"
#include "ct/monwait.h"
#include "nvz/config.h"
#include "linux/trim.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

/* On a stock host RUNDIR is a tmpfs, where the log is memory for the CT's
 * whole life: past its cap it keeps its newest part (several boots). */
#define CONSOLE_LOG_MAX (128 << 10)
#define CONSOLE_LOG_KEEP (64 << 10)
#define VZMON "vzmon"

extern char **environ;

/* The descriptors vzmon keeps lose close-on-exec; everything else the
 * monitor holds has it (or is closed by the exec). */
static int keep_over_exec(int fd)
{
	if (fd < 0)
		return 0;
	int fl = fcntl(fd, F_GETFD);
	return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
}

int nvz_monwait_exec(const struct nvz_monwait *m, struct nvz_error **err)
{
	char path[PATH_MAX];
	if (nvz_helper_path(VZMON, path, sizeof(path)) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "find %s", VZMON);
	const int fds[] = { m->master, m->slave, m->logfd, m->listen_fd, m->bc_fd, m->exe_fd };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (keep_over_exec(fds[i]) < 0)
			return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "keep descriptor %d", fds[i]);
	char a[9][32];
	snprintf(a[0], sizeof(a[0]), "%lu", m->veid);
	snprintf(a[1], sizeof(a[1]), "%d", (int)m->init_pid);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		snprintf(a[2 + i], sizeof(a[0]), "%d", fds[i]);
	snprintf(a[8], sizeof(a[8]), "%lld", (long long)m->bc_mounted_at);
	char *argv[] = { VZMON, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
			 (char *)m->rundir, (char *)m->lockpath, NULL };
	execve(path, argv, environ);
	return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "exec %s", path);
}

static int parse_long(const char *s, long long min, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min)
		return -1;
	*out = v;
	return 0;
}

int nvz_monwait_parse(int argc, char **argv, struct nvz_monwait *m, struct nvz_error **err)
{
	long long v[9];
	if (argc != 11)
		return nvz_err(err, NVZ_E_SYNTAX, EINVAL, "vzmon is started by vzctl only");
	for (int i = 0; i < 9; i++)
		if (parse_long(argv[i], i < 2 ? 1 : -1, &v[i]) < 0)
			return nvz_err(err, NVZ_E_SYNTAX, EINVAL, "bad argument %s", argv[i]);
	*m = (struct nvz_monwait){
		.veid = (unsigned long)v[0], .init_pid = (pid_t)v[1], .master = (int)v[2],
		.slave = (int)v[3], .logfd = (int)v[4], .listen_fd = (int)v[5], .bc_fd = (int)v[6],
		.exe_fd = (int)v[7], .bc_mounted_at = (time_t)v[8], .token = -1,
	};
	if (snprintf(m->rundir, sizeof(m->rundir), "%s", argv[9]) >= (int)sizeof(m->rundir))
		return nvz_err(err, NVZ_E_SYNTAX, ENAMETOOLONG, "bad argument %s", argv[9]);
	if (snprintf(m->lockpath, sizeof(m->lockpath), "%s", argv[10]) >= (int)sizeof(m->lockpath))
		return nvz_err(err, NVZ_E_SYNTAX, ENAMETOOLONG, "bad argument %s", argv[10]);
	return 0;
}

/* The log's last CONSOLE_LOG_KEEP bytes, from the first line that starts
 * in them, moved to its start. The fd is O_APPEND, with which pwrite
 * appends: cleared meanwhile (only this loop writes through it). It is
 * open for writing only (a hub of an older nvz may hand one over too): the
 * log is read through a descriptor of its own. In 4 kB steps on the stack,
 * so the hub's heap does not grow for it; the two ranges never overlap
 * (size > 2 * KEEP). On a failure the log starts afresh. */
static void console_log_cut(int logfd, off_t size)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "/proc/self/fd/%d", logfd);
	cleanup_close int reader = open(buf, O_RDONLY | O_CLOEXEC);
	int flags = fcntl(logfd, F_GETFL);
	off_t from = size - CONSOLE_LOG_KEEP, to = 0;
	bool ok = reader >= 0 && flags >= 0 && fcntl(logfd, F_SETFL, flags & ~O_APPEND) == 0;
	while (ok && from < size) {
		ssize_t n = pread(reader, buf, sizeof(buf), from);
		if (n <= 0)
			break;
		const char *start = buf;
		if (from == size - CONSOLE_LOG_KEEP) {
			const char *nl = memchr(buf, '\n', (size_t)n);
			start = nl ? nl + 1 : buf;
		}
		size_t len = (size_t)(buf + n - start);
		ok = len == 0 || pwrite(logfd, start, len, to) == (ssize_t)len;
		from += n;
		to += (off_t)len;
	}
	/* Cut half way: start afresh rather than keep a log in pieces. */
	if (ftruncate(logfd, ok && from >= size ? to : 0) < 0)
		ok = false;
	if (flags >= 0 && reader >= 0)
		fcntl(logfd, F_SETFL, flags);
}

/* Console output goes to the log, cut to its newest part past its cap. */
void nvz_console_drain(int master, int logfd)
{
	char buf[4096];
	ssize_t n = read(master, buf, sizeof(buf));
	if (n <= 0 || logfd < 0)
		return;
	off_t size = lseek(logfd, 0, SEEK_END);
	if (size > CONSOLE_LOG_MAX)
		console_log_cut(logfd, size);
	if (write(logfd, buf, (size_t)n) < 0)
		return;
}

/* The console is drained, or lent to one `vzctl console` client (which has
 * the master then: we stop reading until it goes). */
static void console_events(const struct nvz_monwait *m, const struct pollfd *p, int *client)
{
	if (p[1].revents & POLLIN)
		nvz_console_drain(m->master, m->logfd);
	if (p[2].revents & POLLIN)
		*client = nvz_console_accept(m->listen_fd, m->master);
	if (p[3].revents) {
		char c;
		if (read(*client, &c, 1) <= 0) {
			close(*client);
			*client = -1;
		}
	}
}

/* Only our descriptors stay: vzctl's caller may have left some open (a
 * pipe it reads to EOF), which the CT's lifetime must not hold. */
static void close_others(const struct nvz_monwait *m)
{
	const int keep[] = { m->master, m->slave, m->logfd, m->listen_fd, m->bc_fd, m->exe_fd };
	nvz_close_fds_except(keep, sizeof(keep) / sizeof(keep[0]));
}

int nvz_monwait_run(const struct nvz_monwait *m)
{
	close_others(m);
	/* SIGCHLD stays blocked across exec: a signalfd of our own sees it,
	 * even one sent before the exec (it is still pending). */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	struct nvz_bcraw *bc = nvz_bcraw_new(m);
	/* What start-up allocated and freed goes back now, and the code it ran. */
	malloc_trim(0);
	nvz_trim_text();
	int client = -1, status = -1;
	for (;;) {
		int status_now;
		pid_t r = waitpid(m->init_pid, &status_now, WNOHANG);
		if (r == m->init_pid) {
			status = status_now;
			break;
		}
		if (r < 0 && errno == ECHILD)
			break;
		struct pollfd p[5] = {
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = client < 0 ? m->master : -1, .events = POLLIN },
			{ .fd = client < 0 ? m->listen_fd : -1, .events = POLLIN },
			{ .fd = client, .events = POLLIN },
			{ .fd = bc ? m->bc_fd : -1, .events = POLLIN },
		};
		if (poll(p, 5, -1) < 0 && errno != EINTR)
			break;
		if (p[4].revents & (POLLIN | POLLERR | POLLHUP)) {
			if (nvz_bcraw_process(bc) < 0) {
				nvz_bcraw_free(bc);
				bc = NULL;
			}
			/* An open forked a child: what that faulted in goes again. */
			nvz_trim_text();
		}
		console_events(m, p, &client);
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sigfd, &si, sizeof(si)) > 0)
				;
		}
	}
	if (client >= 0)
		close(client);
	nvz_bcraw_free(bc);
	/* As fuse_session_unmount did: lazily, a reader may still hold it. */
	char bcpath[sizeof(m->rundir) + 4];
	snprintf(bcpath, sizeof(bcpath), "%s/bc", m->rundir);
	if (m->bc_fd >= 0) {
		close(m->bc_fd);
		nvz_bcfs_clear_host(bcpath);
	}
	if (sigfd >= 0)
		close(sigfd);
	return status;
}

/* Does RUNDIR/<id>/state still name this init and this monitor? */
bool nvz_monwait_still_ours(const struct nvz_monwait *m)
{
	char path[sizeof(m->rundir) + 8];
	snprintf(path, sizeof(path), "%s/state", m->rundir);
	struct nvz_conf *c = NULL;
	if (nvz_conf_load(&c, path, NVZ_E_SYSTEM, NULL) < 0)
		return false;
	const char *ipid = nvz_conf_get(c, "INIT_PID"), *mpid = nvz_conf_get(c, "MONITOR_PID");
	pid_t mon = m->monitor_pid ? m->monitor_pid : getpid();
	bool ours = ipid && mpid && atoi(ipid) == (int)m->init_pid && atoi(mpid) == (int)mon;
	nvz_conf_free(c);
	return ours;
}

/* Is the CT's lock held (by the command that ended init)? Tested, never
 * kept: vzctl takes it properly if we exec it. */
bool nvz_monwait_lock_held(const struct nvz_monwait *m)
{
	int fd = m->lockpath[0] ? open(m->lockpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
	if (fd < 0)
		return false;
	bool held = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

void nvz_monwait_exec_exit(const struct nvz_monwait *m, int status)
{
	/* As the full monitor's after-exit: while the state names us and a
	 * command holds the lock, that command is ending the CT and waits
	 * for our exit; look every ms (it waits that long for us). */
	for (int i = 0; i < 2000 && nvz_monwait_still_ours(m) && nvz_monwait_lock_held(m); i++)
		usleep(1000);
	if (!nvz_monwait_still_ours(m))
		return;
	struct nvz_monwait_exit_args a;
	nvz_monwait_exit_args(m, status, &a);
	nvz_monwait_exec_exit_now(m, &a);
}

void nvz_monwait_exit_args(const struct nvz_monwait *m, int status, struct nvz_monwait_exit_args *a)
{
	snprintf(a->id, sizeof(a->id), "%lu", m->veid);
	snprintf(a->pid, sizeof(a->pid), "%d", (int)m->init_pid);
	snprintf(a->status, sizeof(a->status), "%d", status);
	snprintf(a->token, sizeof(a->token), "%d", m->token);
	char *argv[] = { "vzctl", "--quiet", "monitor-exit", a->id, a->pid, a->status,
			 m->token >= 0 ? a->token : NULL, NULL };
	memcpy(a->argv, argv, sizeof(argv));
}

void nvz_monwait_exec_exit_now(const struct nvz_monwait *m, struct nvz_monwait_exit_args *a)
{
	/* Nothing of ours goes on: a restart after reboot would hand these to
	 * the next monitor (vzctl itself only needs the fd while exec'ing). */
	const int fds[] = { m->master, m->slave, m->logfd, m->listen_fd };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	fcntl(m->exe_fd, F_SETFD, FD_CLOEXEC);
	/* Our pid stays: the state file names it (or the hub, our parent),
	 * and vzctl stop waits for it (or for the monitor lock). */
	execveat(m->exe_fd, "", a->argv, environ, AT_EMPTY_PATH);
}
