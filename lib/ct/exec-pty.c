/* vzctl enter: an interactive shell on a pty that belongs to the CT's own
 * devpts instance (so `tty` inside names /dev/pts/N of the CT), relayed to
 * the caller's terminal. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ct/console.h"
#include "ct/exec.h"
#include "nvz/cleanup.h"

/* The child, born in the CT's pid namespace: joins the rest, opens a pty of
 * the CT's devpts, hands the master to the caller and runs on the slave. */
static __attribute__((noreturn)) void child_pty(struct nvz_ct *ct, struct nvz_cgroup *cg,
						 int pidfd, const struct nvz_exec_opts *o, int sock)
{
	if (nvz_ct_join(cg, pidfd) < 0)
		_exit(125);
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	char name[64];
	if (master < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0 ||
	    nvz_send_fd(sock, master) < 0)
		_exit(125);
	close(master);
	close(sock);
	setsid();
	int slave = open(name, O_RDWR | O_CLOEXEC);
	if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
		_exit(126);
	for (int i = 0; i < 3; i++)
		dup2(slave, i);
	nvz_exec_inside(ct, o);
}

int nvz_ct_exec_pty(struct nvz_ct *ct, struct nvz_cgroup *cg, int pidfd,
		    const struct nvz_exec_opts *o, struct nvz_error **err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "socketpair");
	pid_t x = nvz_fork_in_ct(cg, pidfd);
	if (x < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return nvz_err_sys(err, NVZ_E_SYSTEM, e, "fork into the container");
	}
	if (x == 0) {
		close(sv[0]);
		child_pty(ct, cg, pidfd, o, sv[1]);
	}
	close(sv[1]);
	cleanup_close int master = nvz_recv_fd(sv[0]);
	close(sv[0]);
	if (master < 0) {
		nvz_wait_code(x);
		return nvz_err(err, NVZ_E_SYSTEM, EIO, "enter into CT %s failed", ct->id);
	}
	nvz_relay_pty(master, o->stdin_fd, o->stdout_fd >= 0 ? o->stdout_fd : 1, false);
	return nvz_wait_code(x);
}
