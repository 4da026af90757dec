/* vzctl runscript CT FILE: a host file run by the CT's shell (its
 * /bin/bash, else /bin/sh, as vzctl), read from stdin. On a
 * running CT it runs like exec; on a stopped one, as OpenVZ did, in the
 * CT's root and namespaces without its init (for repairs and setup). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ct/exec.h"
#include "ct/internal.h"
#include "linux/rootfs.h"
#include "linux/security.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

#define ONESHOT_NS (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET)

static __attribute__((noreturn)) void oneshot_child(struct nvz_ct *ct, int script_fd, int go_fd)
{
	char c;
	if (read(go_fd, &c, 1) != 1 || unshare(CLONE_NEWCGROUP) < 0)
		_exit(125);
	struct nvz_rootfs_spec spec = { .root = ct->root };
	if (nvz_rootfs_setup(&spec, NULL) < 0 || nvz_net_loopback_up(NULL) < 0)
		_exit(125);
	const char *hostname = nvz_ct_get(ct, "HOSTNAME", NULL);
	if (hostname && sethostname(hostname, strlen(hostname)) < 0)
		_exit(125);
	if (dup2(script_fd, 0) < 0)
		_exit(125);
	struct nvz_exec_opts o = { .argv = (char *[]){ NULL }, .shell = true };
	nvz_exec_inside(ct, &o);
}

static int run_stopped(struct nvz_ct *ct, int script_fd, struct nvz_error **err)
{
	bool mounted_here = !nvz_is_mountpoint(ct->root);
	if (mounted_here && nvz_ct_mount(ct, false, err) < 0)
		return -1;
	struct nvz_cgroup *cg = NULL;
	int go[2] = { -1, -1 }, code = -1;
	if (nvz_ct_cgroup(ct, &cg, err) == 0 && nvz_cgroup_create(cg, err) == 0 &&
	    pipe2(go, O_CLOEXEC) == 0) {
		pid_t pid = (pid_t)syscall(SYS_clone, ONESHOT_NS | SIGCHLD, NULL, NULL, NULL, 0);
		if (pid == 0) {
			close(go[1]);
			oneshot_child(ct, script_fd, go[0]);
		}
		close(go[0]);
		if (pid < 0) {
			nvz_err_sys(err, NVZ_E_SYSTEM, errno, "clone");
		} else {
			if (nvz_cgroup_attach(cg, pid, err) < 0)
				kill(pid, SIGKILL);
			else if (write(go[1], "g", 1) != 1)
				kill(pid, SIGKILL);
			code = nvz_wait_code(pid);
			if (code == 125 && !*err)
				nvz_err(err, NVZ_E_SYSTEM, EIO, "unable to set up the container for the script");
		}
		close(go[1]);
	}
	if (cg) {
		nvz_cgroup_kill(cg, NULL);
		nvz_cgroup_destroy(cg, NULL);
		nvz_cgroup_free(cg);
	}
	if (mounted_here)
		nvz_ct_umount(ct, NULL);
	return *err ? -1 : code;
}

int nvz_ct_runscript(struct nvz_ct *ct, const char *path, struct nvz_error **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	/* vzctl: a script that is not there is 11; one we cannot read, 79. */
	if (fd < 0 && errno == ENOENT)
		return nvz_err(err, NVZ_E_NOSCRIPT, ENOENT, "Script not found: %s", path);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_ACTIONSCRIPT, errno, "Unable to open script %s", path);
	/* A directory opens but is no script: sh would read nothing from it
	 * and succeed. vzctl failed reading it ("Error reading DIR: Is a
	 * directory"), before the CT was touched. */
	struct stat sb;
	if (fstat(fd, &sb) < 0)
		return nvz_err_sys(err, NVZ_E_ACTIONSCRIPT, errno, "Error reading %s", path);
	if (S_ISDIR(sb.st_mode))
		return nvz_err_sys(err, NVZ_E_ACTIONSCRIPT, EISDIR, "Error reading %s", path);
	struct nvz_ct_state st;
	nvz_ct_get_state(ct, &st, NULL);
	if (!st.running)
		return run_stopped(ct, fd, err);
	char *const argv[] = { NULL };
	struct nvz_exec_opts o = { .argv = argv, .shell = true, .stdin_fd = fd, .stdout_fd = 1, .stderr_fd = 2 };
	return nvz_ct_exec(ct, &o, err);
}
