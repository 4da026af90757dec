/* vzmigrate --online --lazy (post-copy): the target's side of the restore.
 *
 * The dump came without the memory. criu lazy-pages starts first (it must
 * listen in the CT's RUNDIR, criu restore's work directory, before the
 * restore hands it the tasks' userfaultfds), then the CT is restored as
 * usual; the moment the restore returns the CT runs here, and every page it
 * touches is fetched from the source on demand while the rest streams in the
 * background. Until the daemon exits with all pages, the CT depends on the
 * source: if the daemon fails, the CT's memory has holes the kernel would
 * fill with zeros, so the CT is killed rather than left to run on. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "ct/internal.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/migrate.h"

void nvz_migrate_lazy_stop(pid_t *daemon)
{
	if (*daemon <= 0)
		return;
	kill(*daemon, SIGKILL);
	while (waitpid(*daemon, NULL, 0) < 0 && errno == EINTR)
		;
	*daemon = 0;
}

static void drop_socket(const struct nvz_ct *ct)
{
	cleanup_free char *sock = NULL;
	if (asprintf(&sock, "%s/lazy-pages.socket", ct->rundir) >= 0)
		unlink(sock);
}

/* Is pid a `criu restore` whose --pidfile is pidfile? Its arguments say
 * (argv, NUL-separated): the restore's criu is the monitor's child, not
 * ours, and nothing else names this CT's RUNDIR so. */
static bool is_restore_of(pid_t pid, const char *pidfile)
{
	char path[64], buf[8192];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	bool restore = false, named = false;
	for (char *a = buf, *prev = ""; a < buf + n; prev = a, a += strlen(a) + 1) {
		restore |= !strcmp(a, "restore");
		named |= !strcmp(prev, "--pidfile") && !strcmp(a, pidfile);
	}
	return restore && named;
}

static void kill_restore(const struct nvz_ct *ct)
{
	cleanup_free char *pidfile = NULL;
	if (asprintf(&pidfile, "%s/restore.pid", ct->rundir) < 0)
		return;
	cleanup_dir DIR *d = opendir("/proc");
	for (struct dirent *de; d && (de = readdir(d));) {
		pid_t pid = (pid_t)atoi(de->d_name);
		if (pid > 0 && is_restore_of(pid, pidfile))
			kill(pid, SIGKILL);
	}
}

/* The exit status of an exited (unreaped) process that is not our child:
 * the last field of /proc/<pid>/stat (exit_code, wait(2)'s encoding). */
static int exit_code(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *last = strrchr(buf, ' ');
	return last ? atoi(last + 1) : -1;
}

/* While the restore runs, a watcher process: if the daemon exits (the
 * source's page server is gone, or the ssh forward: criu restore would
 * then wait forever for pages that never come) or the source speaks on
 * the session (it gave up: only "abort" or "keep" can come now) or hangs
 * up, it kills criu restore, which fails the restore and lets the
 * session clean up. Not a thread: the restore forks the CT's monitor. */
pid_t nvz_cpt_lazy_watch_restore(const struct nvz_ct *ct, pid_t daemon, int session)
{
	int pidfd = (int)syscall(SYS_pidfd_open, daemon, 0);
	if (pidfd < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		struct pollfd p[2] = { { .fd = session, .events = POLLIN },
				       { .fd = pidfd, .events = POLLIN } };
		int n = session >= 0 ? 2 : 1, off = session >= 0 ? 0 : 1;
		for (;;) {
			if (poll(p + off, n, -1) < 0 && errno == EINTR)
				continue;
			/* A daemon done with every page (status 0) before
			 * the restore returned is no reason to stop it (a
			 * local post-copy restore of a small CT: no session,
			 * nothing left to watch). */
			if (p[1].revents && exit_code(daemon) == 0) {
				if (session < 0)
					_exit(0);
				n = 1;
				p[1].revents = 0;
				continue;
			}
			break;
		}
		/* The restore may not have started criu yet (its set-up runs
		 * first, slowly under load): kill it whenever it shows up,
		 * until unwatch() ends us once the restore has returned. */
		for (;;) {
			kill_restore(ct);
			usleep(20000);
		}
	}
	close(pidfd);
	return pid;
}

void nvz_cpt_lazy_unwatch(pid_t watcher)
{
	if (watcher <= 0)
		return;
	kill(watcher, SIGKILL);
	while (waitpid(watcher, NULL, 0) < 0 && errno == EINTR)
		;
}

int nvz_migrate_lazy_restore(struct nvz_ct *ct, int port, int session, pid_t *daemon,
			     struct nvz_error **err)
{
	cleanup_free char *dump = nvz_ct_dump_path(ct);
	if (!dump)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	if (nvz_cpt_dump_check(dump, nvz_ct_cgroup_version(ct), err) < 0 ||
	    nvz_mkdir_p(ct->rundir, 0700, err) < 0)
		return nvz_err_wrap(err, "Restore error");
	if (!nvz_cpt_dump_lazy(dump))
		return nvz_err(err, NVZ_E_RESTORE, EINVAL, "Restore error: %s was not dumped for post-copy",
			       dump);
	drop_socket(ct);
	cleanup_free char *run = nvz_ct_criu_run(ct);
	pid_t pid = nvz_cpt_lazy_daemon(nvz_ct_get(ct, "CRIU", NVZ_CRIU_DEFAULT), dump, ct->rundir,
					port, run, err);
	if (pid < 0)
		return nvz_err_wrap(err, "Restore error");
	*daemon = pid;
	pid_t watcher = nvz_cpt_lazy_watch_restore(ct, pid, session);
	int r = nvz_ct_restore(ct, NULL, err);
	nvz_cpt_lazy_unwatch(watcher);
	if (r < 0) {
		int status = 0;
		bool gone = waitpid(pid, &status, WNOHANG) == pid;
		if (gone)
			*daemon = 0;
		nvz_migrate_lazy_stop(daemon);
		drop_socket(ct);
		if (gone)
			return nvz_err_wrap(err, "criu lazy-pages exited during the restore (status %d, "
					    "log: %s/lazy-pages.log): the source's page server is gone",
					    WIFEXITED(status) ? WEXITSTATUS(status)
							      : 128 + WTERMSIG(status), ct->rundir);
		return -1;
	}
	return 0;
}

int nvz_migrate_lazy_wait(struct nvz_ct *ct, pid_t *daemon, struct nvz_error **err)
{
	if (*daemon <= 0)
		return nvz_err(err, NVZ_E_SYNTAX, EINVAL, "no post-copy restore of CT %s", ct->id);
	int status = 0;
	while (waitpid(*daemon, &status, 0) < 0 && errno == EINTR)
		;
	*daemon = 0;
	drop_socket(ct);
	if (status == 0)
		return 0;
	nvz_ct_stop(ct, &(struct nvz_stop_opts){ .fast = true }, NULL);
	return nvz_err(err, NVZ_E_RESTORE, EIO,
		       "the memory of CT %s did not all arrive (criu lazy-pages: status %d, log: "
		       "%s/lazy-pages.log): the CT was killed on the destination",
		       ct->id, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
		       ct->rundir);
}
