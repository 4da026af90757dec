/* The floor: what starting a container costs the kernel at the least.
 * clone() with the namespaces nvz gives a CT (pid, mount, uts, ipc, net),
 * a private bind of the rootfs, pivot_root into it and exec of /bin/true
 * as the new pid 1; the parent waits for it. Every container manager does
 * at least this, so no manager can be faster.
 * Usage: floor ROOTFS [PROGRAM] */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NS_FLAGS (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET)

static void die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	_exit(1);
}

static void child(const char *root, const char *prog)
{
	/* Nothing we mount may propagate back to the host's namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("make / private");
	/* pivot_root needs the new root to be a mount point. */
	if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
		die("bind rootfs");
	if (chdir(root) < 0)
		die("chdir rootfs");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die("pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		die("detach old root");
	if (chdir("/") < 0)
		die("chdir /");
	char *const argv[] = { (char *)prog, NULL };
	char *const envp[] = { "PATH=/bin:/sbin:/usr/bin:/usr/sbin", NULL };
	execve(prog, argv, envp);
	die("exec");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: floor ROOTFS [PROGRAM]\n");
		return 2;
	}
	const char *prog = argc > 2 ? argv[2] : "/bin/true";
	pid_t pid = (pid_t)syscall(SYS_clone, NS_FLAGS | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid < 0)
		die("clone");
	if (pid == 0)
		child(argv[1], prog);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
