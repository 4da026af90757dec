/* A new hub takes over the CTs of one that was killed (hub.h). Their init
 * runs on, but nobody answered /run/user_beancounters ("Transport endpoint
 * is not connected"), held the monitor lock, or did the work after init's
 * exit: a CT halted inside stayed mounted with its cgroups. The new hub
 * mounts a new beancounter file system over the dead one, takes the lock,
 * writes itself into the state as the CT's monitor, and watches init
 * through a pidfd, since init is not its child (it went to the old hub's
 * reaper, or to PID 1).
 *
 * The console comes back as a new pty bound over /dev/console (what held
 * the old one keeps a hung-up terminal). What cannot come back: where
 * init's new parent reaps it before we
 * read its zombie, the difference between a reboot and a halt inside:
 * the kernel tells a namespace's reboot only to init's parent, so such a
 * CT is cleaned up as halted instead of started again. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ct/bcfs.h"
#include "ct/console.h"
#include "ct/hub.h"
#include "ct/internal.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/ctx.h"

#define BC_PATH "/run/user_beancounters"

/* In a child (setns needs a single-threaded caller) inside init's mount
 * namespace: the old hub's mount at path goes (a dead FUSE file system, a
 * hung-up pty), the new tree takes its place. Only on the regular file the
 * start made there, never through a symlink the CT may have put in its
 * place. */
static int attach_in_ct(int pidfd, int tree_fd, const char *path)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setns(pidfd, CLONE_NEWNS) < 0)
			_exit(1);
		umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW);
		struct stat st;
		int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			_exit(1);
		_exit(move_mount(tree_fd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
		      0);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* The CT's beancounter view anew: o->m.bc_fd, or -1 where it cannot be.
 * A file system of its own, not a file of the hub's (bcsrv.c): we run in
 * the hub's loop, which answers that one's lookups. */
static void new_beancounters(struct nvz_ct *ct, struct nvz_hub_orphan *o)
{
	struct nvz_bcfs *bc = nvz_bcfs_new(ct, NULL, NULL);
	if (!bc)
		return;
	if (attach_in_ct(o->pidfd, nvz_bcfs_file_tree(bc), BC_PATH) == 0 &&
	    (o->m.bc_fd = fcntl(nvz_bcfs_fd(bc), F_DUPFD_CLOEXEC, 3)) >= 0) {
		o->m.bc_mounted_at = nvz_bcfs_mounted_at(bc);
		nvz_bcfs_release(bc); /* the mount is the hub's FUSE loop's now */
		return;
	}
	nvz_bcfs_unmount(bc);
}

/* The CT's console anew: its master went with the old hub, which hung up
 * the pty the CT's /dev/console is. A new pair, its slave bound over
 * /dev/console inside (by a clone of the host's devpts file, as the start
 * binds it): whatever opens the console from now on (a getty that
 * respawns, systemd, `vzctl exec CT 'echo x >/dev/console'`) reaches the
 * log and `vzctl console` again. What kept the old one open keeps a
 * hung-up terminal. */
static void new_console(struct nvz_ct *ct, struct nvz_hub_orphan *o)
{
	cleanup_close int master = -1, slave = -1;
	char name[64];
	if (nvz_console_pty(&master, &slave, name, sizeof(name)) < 0)
		return;
	struct nvz_idmap map;
	/* A CT in a user namespace gets it by ownership, as at its start. */
	if (nvz_ct_idmap(ct, &map, NULL) > 0 && fchown(slave, map.host, map.host + 5) < 0)
		return;
	cleanup_close int tree = (int)open_tree(AT_FDCWD, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0 || attach_in_ct(o->pidfd, tree, "/dev/console") < 0)
		return;
	o->m.master = steal_fd(&master);
	o->m.slave = steal_fd(&slave);
	o->m.logfd = nvz_console_open_log(ct);
	o->m.listen_fd = nvz_console_listen(ct);
}

bool nvz_ct_orphaned(const struct nvz_ct *ct, struct nvz_runstate *rs)
{
	return nvz_runstate_read(ct, rs) == 0 && !nvz_proc_alive(rs->monitor_pid, rs->monitor_start) &&
	       nvz_proc_alive(rs->init_pid, rs->init_start);
}

static const struct nvz_monwait no_fds = { .master = -1, .slave = -1, .logfd = -1, .listen_fd = -1,
					   .bc_fd = -1, .exe_fd = -1, .token = -1 };

/* With the CT's lock, so that no command is at work on it meanwhile: one
 * that holds it (a stop in progress), or the after-exit work of the old
 * hub that holds the monitor lock, is left to finish. 1: o is taken; 0:
 * no orphan (or none we can take); -1: one to look at again later. */
static int adopt_one(struct nvz_ctx *ctx, unsigned long veid, struct nvz_hub_orphan *o)
{
	struct nvz_ct *ct = NULL;
	struct nvz_runstate rs;
	int r = 0;
	if (nvz_ct_open(ctx, veid, &ct, NULL) < 0)
		return 0;
	/* Every descriptor -1 from the start: the way out closes them. */
	*o = (struct nvz_hub_orphan){ .token = -1, .pidfd = -1, .m = no_fds };
	if (!nvz_ct_orphaned(ct, &rs))
		goto out;
	/* Held (a command, or the old hub's after-exit work): later. A lock
	 * that cannot be had at all: never, rather than every few seconds. */
	int locked = nvz_ct_lock(ct, NULL);
	if (locked == 0 && (locked = nvz_ct_monitor_token_take(ct, NULL)) >= 0)
		o->token = locked;
	if (locked < 0) {
		r = locked == -EWOULDBLOCK ? -1 : 0;
		goto out;
	}
	/* Looked at again under the lock: the CT may have changed hands. */
	if (!nvz_ct_orphaned(ct, &rs) || (o->pidfd = (int)syscall(SYS_pidfd_open, rs.init_pid, 0)) < 0 ||
	    !nvz_proc_alive(rs.init_pid, rs.init_start))
		goto out;
	o->m.veid = veid;
	o->m.init_pid = rs.init_pid;
	o->init_start = rs.init_start;
	snprintf(o->m.rundir, sizeof(o->m.rundir), "%s", ct->rundir);
	const char *lockdir = nvz_ct_get(ct, "LOCKDIR", NULL);
	if (lockdir)
		snprintf(o->m.lockpath, sizeof(o->m.lockpath), "%s/%s.lck", lockdir, ct->id);
	new_beancounters(ct, o);
	new_console(ct, o);
	rs.monitor_pid = getpid();
	rs.monitor_start = nvz_proc_starttime(rs.monitor_pid);
	r = nvz_runstate_write(ct, &rs, NULL) == 0;
out:
	if (r != 1) {
		const int fds[] = { o->token, o->pidfd, o->m.bc_fd, o->m.master, o->m.slave, o->m.logfd };
		for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
			if (fds[i] >= 0)
				close(fds[i]);
		nvz_console_unlisten(ct, o->m.listen_fd);
	}
	nvz_ct_unlock(ct);
	nvz_ct_free(ct);
	return r;
}

int nvz_hub_adopt_orphans(void (*take)(void *arg, struct nvz_hub_orphan *o), void *arg)
{
	struct nvz_ctx *ctx = NULL;
	int busy = 0;
	if (nvz_ctx_open(&ctx, NULL, NULL, NULL) < 0)
		return 0;
	DIR *d = opendir(nvz_ctx_get(ctx, "RUNDIR", "/run/nvz"));
	for (struct dirent *de; d && (de = readdir(d));) {
		char *end;
		errno = 0;
		unsigned long veid = strtoul(de->d_name, &end, 10);
		struct nvz_hub_orphan o;
		if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end || errno)
			continue;
		int r = adopt_one(ctx, veid, &o);
		if (r > 0)
			take(arg, &o);
		busy += r < 0;
	}
	if (d)
		closedir(d);
	nvz_ctx_free(ctx);
	return busy;
}

int nvz_hub_orphan_status(const struct nvz_hub_orphan *o)
{
	return nvz_proc_zombie_status(o->m.init_pid, o->init_start);
}
