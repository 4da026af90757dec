#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/child.h"
#include "core/sync.h"
#include "nvz/cleanup.h"

int nvz_child_run(nvz_child_fn fn, void *arg, const char *what, struct nvz_error **err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "%s: socketpair", what);
	pid_t parent = getpid(), c = fork();
	if (c == 0) {
		close(sv[0]);
		/* The child's work (mounts in its own namespace, a half-made
		 * image) must not outlive a killed vzctl. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		struct nvz_error *cerr = NULL;
		if (fn(arg, &cerr) < 0) {
			nvz_sync_send_error(sv[1], cerr);
			_exit(1);
		}
		_exit(0);
	}
	close(sv[1]);
	cleanup_close int rd = sv[0];
	if (c < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "%s: fork", what);
	int status;
	while (waitpid(c, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	nvz_sync_wait(rd, SYNC_ERROR, what, err);
	return nvz_err(err, NVZ_E_SYSTEM, EIO, "%s: the helper process died", what);
}

void nvz_signals_default(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	/* Refused (EINVAL) for SIGKILL, SIGSTOP and libc's own two: harmless. */
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void nvz_rlimits_set(const struct rlimit *want)
{
	for (int r = 0; r < RLIM_NLIMITS; r++) {
		struct rlimit l = want[r], have;
		if (setrlimit(r, &l) == 0 || getrlimit(r, &have) < 0)
			continue;
		if (l.rlim_max > have.rlim_max)
			l.rlim_max = have.rlim_max;
		if (l.rlim_cur > l.rlim_max)
			l.rlim_cur = l.rlim_max;
		setrlimit(r, &l);
	}
}
