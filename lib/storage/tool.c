/* The e2fsprogs tools ploop images are made and repaired with (mkfs.ext4,
 * e2fsck, resize2fs), run as their interface: see tool.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/tool.h"

__attribute__((noreturn)) static void exec_tool(char *const argv[], int outfd, pid_t parent)
{
	/* Dies with us: a killed vzctl must not leave resize2fs working on an image. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, 0) < 0 || dup2(outfd, 1) < 0 || dup2(outfd, 2) < 0)
		_exit(127);
	/* A clean environment: no MKE2FS_CONFIG, E2FSCK_CONFIG or locale from the caller. */
	static char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", dirs[i], argv[0]);
		execve(path, argv, env);
	}
	dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
	_exit(127);
}

/* Run argv[0] (found in the system directories), its stdout and stderr
 * captured into out (the first bytes, newlines folded). Returns its exit
 * status (128 + signal if killed), < 0 if it could not be started. */
int nvz_run_tool(char *const argv[], char *out, size_t outlen, struct nvz_error **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "pipe");
	pid_t parent = getpid(), pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return nvz_err_sys(err, NVZ_E_SYSTEM, e, "fork %s", argv[0]);
	}
	if (pid == 0)
		exec_tool(argv, p[1], parent);
	close(p[1]);
	size_t n = 0;
	for (;;) {
		char buf[512];
		ssize_t r = read(p[0], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		size_t take = (size_t)r < outlen - 1 - n ? (size_t)r : outlen - 1 - n;
		memcpy(out + n, buf, take);
		n += take;
	}
	close(p[0]);
	out[n] = '\0';
	while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	for (char *c = out; *c; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "wait for %s", argv[0]);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
