/* vzctl enter: an interactive shell on a pty that belongs to the CT's own
 * devpts instance (so `tty` inside names /dev/pts/N of the CT), relayed to
 * the caller's terminal. The exec stub opens it inside the CT and hands the
 * master back over a socket; no host descriptor reaches the CT. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ct/console.h"
#include "ct/exec.h"
#include "nvz/cleanup.h"

int nvz_ct_exec_pty(struct nvz_ct *ct, struct nvz_cgroup *cg, int pidfd,
		    const struct nvz_exec_opts *o, const struct nvz_exec_cmd *c,
		    struct nvz_error **err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "socketpair");
	/* Until the pty is its stdio, the command has /dev/null. */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int fds[4] = { null, null, null, sv[1] };
	pid_t x = -1;
	int r = null < 0 ? nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open /dev/null")
			 : nvz_exec_stub_spawn(ct, cg, pidfd, o, c, fds, &x, err);
	if (null >= 0)
		close(null);
	close(sv[1]);
	if (r < 0) {
		close(sv[0]);
		return -1;
	}
	cleanup_close int master = nvz_recv_fd(sv[0]);
	close(sv[0]);
	if (master < 0) {
		nvz_wait_code(x);
		return nvz_err(err, NVZ_E_SYSTEM, EIO, "enter into CT %s failed", ct->id);
	}
	/* Typed as by the user (vzctl enter --exec): the pty keeps it until
	 * the shell reads its first line. */
	for (size_t off = 0, len = o->pty_input ? strlen(o->pty_input) : 0; off < len;) {
		ssize_t w = write(master, o->pty_input + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		off += (size_t)w;
	}
	nvz_relay_pty(master, o->stdin_fd, o->stdout_fd >= 0 ? o->stdout_fd : 1, false);
	return nvz_wait_code(x);
}
