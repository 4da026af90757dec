/* clone3ns: inside a CT, try to make a UTS namespace with clone3 and with
 * unshare, and print what each returned: "clone3 ENOSYS", "unshare EPERM",
 * or "... made" if the kernel let it through. Static: busybox CTs have no
 * libc. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *result(long r)
{
	if (r >= 0)
		return "made";
	return errno == ENOSYS ? "ENOSYS" : errno == EPERM ? "EPERM" : strerror(errno);
}

int main(void)
{
	struct clone_args a = { .flags = CLONE_NEWUTS, .exit_signal = SIGCHLD };
	long pid = syscall(SYS_clone3, &a, sizeof(a));
	if (pid == 0)
		_exit(0);
	printf("clone3 %s\n", result(pid));
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	printf("unshare %s\n", result(unshare(CLONE_NEWUTS)));
	return 0;
}
