/* Post-copy migration (vzmigrate --online --lazy), the criu side.
 *
 * The source dumps without the memory (criu dump --lazy-pages): criu keeps
 * the pages and serves them on 127.0.0.1:<port> until a lazy-pages daemon
 * has fetched them all, then kills the tree. The target runs
 * `criu lazy-pages`, which reads the images, takes the restored tasks'
 * userfaultfds through workdir/lazy-pages.socket, fills their faults on
 * demand and copies the rest in the background from 127.0.0.1:<port> on
 * its side. The only path between the two loopbacks is the migration's
 * ssh connection (a remote forward through its ControlMaster), so the
 * pages never cross the network unauthenticated or in clear. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "nvz/cleanup.h"
#include "nvz/config.h"

/* The kernel's choice of a free port; criu binds it a moment later (if
 * another process takes it meanwhile, the dump fails and nothing is lost). */
int nvz_cpt_lazy_port(struct nvz_error **err)
{
	cleanup_close int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return nvz_err_sys(err, NVZ_E_CHKPNT, errno, "find a free port for the page server");
	return ntohs(a.sin_port);
}

/* port > 0: pages from the page server on 127.0.0.1:port (migration);
 * else from the dump's own images (a local post-copy restore). ready_fd
 * NULL: wait until it listens; else return at once, the status pipe's
 * read end in *ready_fd (nvz_cpt_wait_ready). */
static pid_t daemon_spawn(const char *criu, const char *dir, const char *workdir, int port,
			  const char *run, int *ready_fd, struct nvz_error **err)
{
	char portstr[16];
	snprintf(portstr, sizeof(portstr), "%d", port);
	/* -v2 as for dump and restore: errors and warnings only. Its log
	 * stays in workdir (RUNDIR/<CTID>) while the CT runs. */
	char *const argv[] = {
		(char *)criu, "lazy-pages", "-D", (char *)dir, "--work-dir", (char *)workdir,
		"-o", "lazy-pages.log", "-v2", port > 0 ? "--page-server" : NULL, "--address",
		"127.0.0.1", "--port", portstr, NULL,
	};
	if (ready_fd)
		return nvz_cpt_spawn_status(argv, -1, run, ready_fd, err);
	pid_t pid;
	int status = 0;
	if (nvz_cpt_spawn_ready(argv, -1, run, &pid, &status, err) == 0)
		return pid;
	if (pid < 0)
		return -1;
	return nvz_err(err, NVZ_E_RESTORE, EIO,
		       "criu lazy-pages did not start (status %d; log: %s/lazy-pages.log)",
		       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), workdir);
}

pid_t nvz_cpt_lazy_daemon(const char *criu, const char *dir, const char *workdir, int port,
			  const char *run, struct nvz_error **err)
{
	return daemon_spawn(criu, dir, workdir, port, run, NULL, err);
}

pid_t nvz_cpt_lazy_local(const char *criu, const char *dir, const char *workdir, const char *run,
			 int *ready_fd, struct nvz_error **err)
{
	return daemon_spawn(criu, dir, workdir, 0, run, ready_fd, err);
}

/* criu's page server reads pages through a pipe it sizes to 4 MiB
 * (F_SETPIPE_SZ); beyond fs.pipe-max-size (1 MiB by default) that takes
 * CAP_SYS_RESOURCE, which a host may not give root (this CI host does
 * not). criu 4.2 ignores the refusal and fails the first page request
 * (splice: EBADF), after the CT was frozen: better refuse before. */
#define LAZY_PIPE_MIN (4u << 20)
#define CAP_SYS_RESOURCE_BIT 24

static bool have_sys_resource(void)
{
	cleanup_fclose FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7))
			return (strtoull(line + 7, NULL, 16) >> CAP_SYS_RESOURCE_BIT) & 1;
	return false;
}

int nvz_cpt_lazy_check(struct nvz_error **err)
{
	if (have_sys_resource())
		return 0;
	cleanup_fclose FILE *f = fopen("/proc/sys/fs/pipe-max-size", "re");
	unsigned long max = 0;
	if (!f || fscanf(f, "%lu", &max) != 1)
		return nvz_err_sys(err, NVZ_E_CHKPNT, errno, "read /proc/sys/fs/pipe-max-size");
	if (max >= LAZY_PIPE_MIN)
		return 0;
	return nvz_err(err, NVZ_E_CHKPNT, EPERM,
		       "post-copy needs 4 MiB pipes for criu's page server: without CAP_SYS_RESOURCE, "
		       "fs.pipe-max-size must be at least %u (it is %lu): "
		       "sysctl -w fs.pipe-max-size=%u", LAZY_PIPE_MIN, max, LAZY_PIPE_MIN);
}

int nvz_cpt_lazy_watch(int fd, pid_t criu, int timeout_ms, int *status)
{
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, criu, 0);
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
	int r;
	while ((r = poll(p, pidfd >= 0 ? 2 : 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (r > 0 && p[0].revents)
		return 1;
	if (r <= 0)
		return r;
	/* Exited: its status, but it stays a zombie for whoever reaps it. */
	siginfo_t si = { 0 };
	if (waitid(P_PID, (id_t)criu, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
		*status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	return 0;
}

unsigned long long nvz_cpt_dump_pages(const char *dir)
{
	cleanup_dir DIR *d = opendir(dir);
	unsigned long long sum = 0;
	for (struct dirent *de; d && (de = readdir(d));) {
		struct stat st;
		if (!strncmp(de->d_name, "pages-", 6) && fstatat(dirfd(d), de->d_name, &st, 0) == 0 &&
		    S_ISREG(st.st_mode))
			sum += (unsigned long long)st.st_size;
	}
	return sum;
}
