/* vzctl's side of the exec stub (stub/exec-stub.c, protocol in exec-stub.h):
 * everything that needs the config, libseccomp or the host's files is
 * prepared here; the process that joins the CT only runs the stub, sealed
 * in a memfd, and then the CT's own binary. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/sched.h>

#include "ct/exec-stub.h"
#include "ct/exec.h"
#include "ct/internal.h"
#include "linux/security.h"
#include "linux/userns.h"
#include "linux/vmclone.h"
#include "nvz/cleanup.h"

/* A sealed copy of the stub: nothing can write it, and the CT never sees a
 * host file through its /proc/<pid>/exe. A few pages per exec. */
static int stub_memfd(struct nvz_error **err)
{
	int fd = memfd_create("nvz-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_EXEC, errno, "memfd_create");
	size_t len = (size_t)(nvz_exec_stub_end - nvz_exec_stub);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, nvz_exec_stub + off, len - off);
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			close(fd);
			return nvz_err_sys(err, NVZ_E_EXEC, e, "write the exec stub");
		}
		off += (size_t)w;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
		int e = errno;
		close(fd);
		return nvz_err_sys(err, NVZ_E_EXEC, e, "seal the exec stub");
	}
	return fd;
}

static int cap_last(void)
{
	char buf[16] = "";
	cleanup_close int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		return 63; /* unknown: try every bit, EINVAL past the last one */
	return atoi(buf);
}

/* The stub's parameters, then the seccomp filter, in a memfd read from 0. */
static int params_memfd(const struct nvz_ct *ct, const struct nvz_exec_opts *o,
			const struct nvz_exec_cmd *c, bool userns, bool join, bool leaf, bool timens,
			struct nvz_error **err)
{
	struct nvz_stub_params p = { .magic = NVZ_STUB_MAGIC, .cap_last = cap_last() };
	if (nvz_ct_caps(ct, &p.caps_keep, err) < 0)
		return -1;
	p.ioprio = nvz_ct_ioprio(ct);
	p.flags = (o->no_new_privs ? NVZ_STUB_NNP : 0) | (userns ? NVZ_STUB_USERNS : 0) |
		  (c->file ? 0 : NVZ_STUB_SEARCH) | (o->pty ? NVZ_STUB_PTY : 0) |
		  (join ? NVZ_STUB_JOIN : 0) | (join && leaf ? NVZ_STUB_JOIN_LEAF : 0) |
		  (c->sh_fallback ? NVZ_STUB_SH_FALLBACK : 0) | (timens ? NVZ_STUB_TIMENS : 0);
	if (c->file)
		snprintf(p.file, sizeof(p.file), "%s", c->file);
	/* execvp looked the command up in vzctl's own PATH: so does the stub. */
	const char *path = getenv("PATH");
	if (path && strlen(path) < sizeof(p.path))
		strcpy(p.path, path);
	cleanup_close int fd = memfd_create("nvz-exec-params", MFD_CLOEXEC);
	if (fd < 0)
		return nvz_err_sys(err, NVZ_E_EXEC, errno, "memfd_create");
	if (write(fd, &p, sizeof(p)) != (ssize_t)sizeof(p))
		return nvz_err_sys(err, NVZ_E_EXEC, errno, "write the exec parameters");
	off_t at = lseek(fd, 0, SEEK_CUR);
	if (nvz_seccomp_export(fd, nvz_ct_nesting(ct), err) < 0)
		return -1;
	p.nfilter = (uint32_t)((lseek(fd, 0, SEEK_CUR) - at) / 8); /* struct sock_filter */
	if (pwrite(fd, &p, sizeof(p), 0) != (ssize_t)sizeof(p) || lseek(fd, 0, SEEK_SET) < 0)
		return nvz_err_sys(err, NVZ_E_EXEC, errno, "write the exec parameters");
	int r = fd;
	fd = -1;
	return r;
}

/* Put from[i] on descriptor i (-1: close i), whatever the numbers overlap. */
static int place_fds(const int *from, int n)
{
	int high[16];
	for (int i = 0; i < n; i++)
		if (from[i] >= 0 && (high[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 64)) < 0)
			return -1;
	for (int i = 0; i < n; i++) {
		if (from[i] < 0)
			close(i);
		else if (dup2(high[i], i) < 0)
			return -1;
	}
	return 0;
}

/* The stub's parent: a child of vzctl in the host's pid namespace, born in
 * the CT's cgroup2 cgroup, moves itself into the v1 ones (no grace period,
 * see cgroup.h), then becomes the stub. */
struct stub_child {
	int tasks[NVZ_CGROUP_V1_MAX]; /* its v1 hierarchies' `tasks`, opened by us */
	int ntasks;
	const int *from;
	int stub;
	char *const *argv, *const *envp;
	int no_cgroup; /* the errno, if it could not enter its cgroup2 cgroup */
};

/* The portable clone's child could not move into the cgroup: we read it
 * once it is gone (CLONE_VFORK). */
static void stub_no_cgroup(void *arg, int e)
{
	((struct stub_child *)arg)->no_cgroup = e;
}

static void stub_child_close(struct stub_child *c)
{
	for (int i = 0; i < c->ntasks; i++)
		close(c->tasks[i]);
}

/* It runs in our memory until its exec: no allocation here (a `vzctl stop`
 * that kills it inside malloc would leave our heap locked for good). */
static int stub_child(void *arg)
{
	const struct stub_child *c = arg;
	signal(SIGPIPE, SIG_DFL);
	/* Out of the way of the descriptors the stub expects. */
	int s = fcntl(c->stub, F_DUPFD_CLOEXEC, 64);
	if (s < 0)
		return 125;
	/* As nvz_cgroup_enter_v1_self, on the files opened for it. */
	for (int i = 0; i < c->ntasks; i++)
		if (write(c->tasks[i], "0", 1) != 1)
			return 125;
	if (place_fds(c->from, 10) < 0)
		return 125;
	syscall(SYS_execveat, s, "", c->argv, c->envp, AT_EMPTY_PATH);
	return 125; /* no _exit: see init_main in launcher.c */
}

/* As posix_spawn does: the child borrows our memory (and a stack in our
 * frame) while we wait for its exec (CLONE_VFORK), so nothing is copied
 * or faulted for it. */
static pid_t spawn_stub(int cgfd, struct stub_child *c)
{
	char stack[64 * 1024] __attribute__((aligned(16)));
	struct clone_args a = { .flags = CLONE_VFORK, .exit_signal = SIGCHLD,
				.stack = (uint64_t)(uintptr_t)stack, .stack_size = sizeof(stack) };
	if (cgfd >= 0) {
		a.flags |= CLONE_INTO_CGROUP;
		a.cgroup = (uint64_t)cgfd;
	}
	pid_t pid = nvz_clone_vm_or(&a, stub_child, stub_no_cgroup, c);
	if (pid >= 0)
		nvz_clone_vm_stack_done(stack, sizeof(stack)); /* CLONE_VFORK: it exec'd */
	return pid;
}

int nvz_exec_stub_spawn(struct nvz_ct *ct, struct nvz_cgroup *cg, int pidfd,
			const struct nvz_exec_opts *o, const struct nvz_exec_cmd *c,
			const int fds[4], pid_t *pid, struct nvz_error **err)
{
	cleanup_close int userns = nvz_userns_of(nvz_pidfd_pid(pidfd), err);
	if (userns == -1)
		return -1;
	/* The helpers join every cgroup but the one that counts processes
	 * (numproc): the command joins that one itself, first thing, so an
	 * exec takes one slot, as in OpenVZ, not one per helper. */
	bool counting_v2 = false;
	cleanup_close int join = nvz_cgroup_open_counting(cg, &counting_v2);
	if (join < 0 && errno != ENOENT)
		return nvz_err_sys(err, NVZ_E_EXEC, errno, "open the container's cgroup");
	cleanup_close int leaf = counting_v2 && join >= 0 ? nvz_cgroup_open_leaf_of(cg, nvz_pidfd_pid(pidfd)) : -1;
	cleanup_close int params =
		params_memfd(ct, o, c, userns >= 0, join >= 0, leaf >= 0,
			     /* the launcher's or a restore's; not an older nvz's */
			     nvz_ns_cmp(nvz_pidfd_pid(pidfd), "time") == 1, err);
	if (params < 0)
		return -1;
	cleanup_close int stub = stub_memfd(err);
	if (stub < 0)
		return -1;
	cleanup_close int cgfd = counting_v2 ? -1 : nvz_cgroup_open_v2_dir(cg);
	if (cgfd < 0 && !counting_v2 && errno != ENOENT)
		return nvz_err_sys(err, NVZ_E_EXEC, errno, "open the container's cgroup");
	__attribute__((cleanup(stub_child_close))) struct stub_child sc = {
		.stub = stub, .argv = c->argv, .envp = c->envp,
	};
	sc.ntasks = nvz_cgroup_open_v1_tasks(cg, true, sc.tasks, NVZ_CGROUP_V1_MAX);
	if (sc.ntasks < 0)
		return nvz_err_sys(err, NVZ_E_EXEC, errno, "open the container's cgroups");
	int rep[2];
	if (pipe2(rep, O_CLOEXEC) < 0)
		return nvz_err_sys(err, NVZ_E_EXEC, errno, "pipe");
	int from[10] = { fds[0], fds[1], fds[2], params, pidfd, rep[1], userns, fds[3], join, leaf };
	sc.from = from;
	pid_t x = spawn_stub(cgfd, &sc);
	int e = errno;
	close(rep[1]);
	if (x < 0) {
		close(rep[0]);
		return nvz_err_sys(err, NVZ_E_EXEC, e, "fork into the container");
	}
	int v = -1;
	ssize_t n;
	do
		n = read(rep[0], &v, sizeof(v));
	while (n < 0 && errno == EINTR);
	close(rep[0]);
	int code = nvz_wait_code(x);
	if (sc.no_cgroup)
		return nvz_err_sys(err, NVZ_E_EXEC, sc.no_cgroup, "unable to enter the container's cgroup");
	if (code != 0 || n != (ssize_t)sizeof(v) || v <= 0)
		return nvz_err(err, NVZ_E_EXEC, EIO, "unable to enter the container");
	*pid = v;
	return 0;
}
