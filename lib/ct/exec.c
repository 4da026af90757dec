/* vzctl exec / exec2 / enter: run a process inside a running CT.
 * The joining process never hands the CT a host descriptor: stdio is
 * relayed through pipes (or a pty allocated in the CT's own devpts), and
 * every other fd is closed before the exec. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ct/exec.h"
#include "ct/internal.h"
#include "ct/state.h"
#include "linux/security.h"
#include "nvz/cleanup.h"

/* vzctl's exec ran its command lines by bash where the CT has it (bash's
 * syntax, `source`, `echo -e`), else by sh. */
#define CT_BASH "/bin/bash"
#define CT_SH "/bin/sh"

static char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"container=nvz",
	NULL,
};

/* The arguments as one command line, joined by spaces as vzctl did; an
 * empty argument stays one ('') instead of vanishing. */
static char *join_args(char *const *argv)
{
	size_t len = 1;
	for (char *const *a = argv; *a; a++)
		len += strlen(*a) + 3;
	char *s = calloc(1, len), *p = s;
	if (!s)
		return NULL;
	for (char *const *a = argv; *a; a++) {
		if (a != argv)
			*p++ = ' ';
		const char *arg = **a ? *a : "''";
		size_t l = strlen(arg);
		memcpy(p, arg, l);
		p += l;
	}
	*p = '\0';
	return s;
}

/* In the final process, inside every namespace of the CT: drop to the CT's
 * capability set and seccomp filter, then exec. Never returns. Used by
 * runscript on a stopped CT (its own child, from the sealed vzctl copy);
 * a running CT is joined through the exec stub, which does the same. */
static __attribute__((noreturn)) void exec_inside(const struct nvz_ct *ct,
						   const struct nvz_exec_opts *o)
{
	uint64_t keep;
	nvz_ct_set_ioprio(ct, 0);
	/* The filter first: loading it without no_new_privs needs CAP_SYS_ADMIN. */
	if (nvz_ct_caps(ct, &keep, NULL) < 0 || nvz_seccomp_apply(nvz_ct_nesting(ct), NULL) < 0 ||
	    nvz_caps_apply(keep, NULL) < 0)
		_exit(126);
	syscall(SYS_close_range, 3, ~0U, 0);
	if (chdir("/") < 0 || (o->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0))
		_exit(126);
	char *const *envp = o->envp ? o->envp : default_env;
	if (o->shell) {
		char *cmd = o->argv[0] ? join_args(o->argv) : NULL;
		char *argv[] = { "bash", cmd ? "-c" : NULL, cmd, NULL };
		execve(CT_BASH, argv, envp);
		if (errno == ENOENT) {
			argv[0] = "sh";
			execve(CT_SH, argv, envp);
		}
	} else {
		execvpe(o->argv[0], o->argv, envp);
	}
	fprintf(stderr, "vzctl: exec %s: %s\n", o->argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

pid_t nvz_pidfd_pid(int pidfd)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	cleanup_fclose FILE *f = fopen(path, "re");
	pid_t pid = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	return pid;
}

static int wait_code(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static void copy_once(int from, int *to, bool *open_flag)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n <= 0) {
		*open_flag = false;
		return;
	}
	for (ssize_t off = 0; *to >= 0 && off < n;) {
		ssize_t w = write(*to, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			*to = -1; /* reader went away: keep draining, drop the data */
			break;
		}
		off += w;
	}
}

/* Relay the caller's stdio to the pipes until the command has exited and
 * its output is drained (a daemon it left behind does not hold us). */
static void relay_pipes(int in_fd, int in_w, int out_r, int out_fd, int err_r, int err_fd,
			int xpidfd)
{
	bool in_open = in_fd >= 0 && in_w >= 0, out_open = true, err_open = true, exited = false;
	int out_to = out_fd, err_to = err_fd;
	while (out_open || err_open) {
		struct pollfd p[4] = {
			{ .fd = out_open ? out_r : -1, .events = POLLIN },
			{ .fd = err_open ? err_r : -1, .events = POLLIN },
			{ .fd = in_open ? in_fd : -1, .events = POLLIN },
			{ .fd = exited ? -1 : xpidfd, .events = POLLIN },
		};
		int n = poll(p, 4, exited ? 50 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* exited and nothing more came within 50 ms */
		if (p[0].revents)
			copy_once(out_r, &out_to, &out_open);
		if (p[1].revents)
			copy_once(err_r, &err_to, &err_open);
		if (p[2].revents) {
			int to = in_w;
			copy_once(in_fd, &to, &in_open);
			if (!in_open || to < 0) {
				close(in_w);
				in_w = -1;
				in_open = false;
			}
		}
		if (p[3].revents)
			exited = true;
	}
	if (in_w >= 0)
		close(in_w);
}

/* Pipes as the command's stdio; the command is started by the exec stub
 * (exec-stub.c) and is our child: we relay and reap it. */
static int exec_pipes(struct nvz_ct *ct, struct nvz_cgroup *cg, int pidfd,
		      const struct nvz_exec_opts *o, const struct nvz_exec_cmd *c,
		      struct nvz_error **err)
{
	int in[2] = { -1, -1 }, out[2], errp[2];
	if ((o->stdin_fd >= 0 && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(errp, O_CLOEXEC) < 0)
		return nvz_err_sys(err, NVZ_E_EXEC, errno, "pipe");
	if (in[0] < 0)
		in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int fds[4] = { in[0], out[1], errp[1], -1 };
	pid_t x = -1;
	int r = nvz_exec_stub_spawn(ct, cg, pidfd, o, c, fds, &x, err);
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	if (r < 0) {
		if (in[1] >= 0)
			close(in[1]);
		close(out[0]);
		close(errp[0]);
		return -1;
	}
	int xpidfd = (int)syscall(SYS_pidfd_open, x, 0);
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	relay_pipes(o->stdin_fd, in[1], out[0], o->stdout_fd, errp[0], o->stderr_fd, xpidfd);
	signal(SIGPIPE, old);
	close(out[0]);
	close(errp[0]);
	if (xpidfd >= 0)
		close(xpidfd);
	return wait_code(x);
}

int nvz_ct_exec(struct nvz_ct *ct, const struct nvz_exec_opts *o, struct nvz_error **err)
{
	pid_t pid;
	cleanup_close int pidfd = nvz_ct_init_pidfd(ct, &pid);
	if (pidfd < 0)
		return nvz_err(err, NVZ_E_NOT_RUNNING, ESRCH, "Container is not running");
	/* Opened here, before the fork: the child only writes. */
	struct nvz_cgroup *cg = NULL;
	if (nvz_ct_cgroup(ct, &cg, err) < 0)
		return nvz_err_wrap(err, "unable to enter the container");
	/* Suspended (vzctl chkpnt --suspend), it would hold the command frozen
	 * before its first instruction, and vzctl with it. */
	if (nvz_cgroup_frozen(cg)) {
		nvz_cgroup_free(cg);
		return nvz_err(err, NVZ_E_EXEC, EAGAIN,
			       "Container is suspended (vzctl chkpnt --resume lets it run again)");
	}
	/* exec and exec2 run a command line through the CT's shell. */
	bool line = o->shell && o->argv[0];
	cleanup_free char *cmdline = line ? join_args(o->argv) : NULL;
	char *const sh_argv[] = { "bash", line ? "-c" : NULL, cmdline, NULL };
	struct nvz_exec_cmd c = { .argv = o->shell ? sh_argv : o->argv,
				  .envp = o->envp ? o->envp : default_env,
				  .file = o->shell ? CT_BASH : NULL,
				  .sh_fallback = o->shell };
	int r = line && !cmdline ? nvz_err(err, NVZ_E_EXEC, ENOMEM, "out of memory")
		: o->pty	     ? nvz_ct_exec_pty(ct, cg, pidfd, o, &c, err)
				     : exec_pipes(ct, cg, pidfd, o, &c, err);
	nvz_cgroup_free(cg);
	return r;
}

int nvz_wait_code(pid_t pid)
{
	return wait_code(pid);
}

void nvz_exec_inside(const struct nvz_ct *ct, const struct nvz_exec_opts *o)
{
	exec_inside(ct, o);
}
