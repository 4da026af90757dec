/* Post-copy, the life-cycle side. Rolling back a post-copy checkpoint
 * (nvz_ct_chkpnt_lazy_abort): criu was killed while it held the CT frozen
 * for its page server, so what its own rollback would undo is undone here:
 * TCP repair mode, the freezer, the network lock. And a local post-copy
 * restore (vzctl restore --lazy): its criu lazy-pages daemon, below. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "cpt/taskfd.h"
#include "ct/internal.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/net.h"

/* The CT's freezer, v1 or v2. */
static int ct_freeze(struct nvz_ct *ct, bool frozen, struct nvz_error **err)
{
	struct nvz_cgroup *cg = NULL;
	int r = nvz_ct_cgroup(ct, &cg, err);
	if (r == 0)
		r = nvz_cgroup_freeze(cg, frozen, err);
	nvz_cgroup_free(cg);
	return r;
}

void nvz_ct_lazy_hold(struct nvz_ct *ct)
{
	/* Tasks criu still holds (ptrace) may not settle before it goes; the
	 * freeze holds them anyway, as they leave its stops. */
	cleanup_error struct nvz_error *e = NULL;
	if (ct_freeze(ct, true, &e) < 0)
		nvz_log(ct->ctx, NVZ_LOG_VERBOSE, "CT %s: held while criu goes: %s", ct->id, e->msg);
}

static bool is_socket(const char *target)
{
	return !strncmp(target, "socket:", 7);
}

/* Through a copy of the descriptor: setsockopt acts on the socket itself. */
static void repair_off(pid_t pid, int fd, const char *target, void *arg)
{
	(void)pid, (void)target, (void)arg;
	int proto = 0, off = TCP_REPAIR_OFF;
	socklen_t len = sizeof(proto);
	/* Refused (EPERM) for a socket neither established nor closed, which
	 * criu never put in repair mode. */
	if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 && proto == IPPROTO_TCP)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off));
}

/* criu put the CT's established TCP connections in repair mode to dump
 * them; killed, it never took them out, and they would stay silent. */
static void tcp_repair_off(pid_t init_pid)
{
	nvz_cpt_each_task_fd(init_pid, is_socket, repair_off, NULL);
}

void nvz_ct_lazy_unlock(struct nvz_ct *ct, pid_t init_pid)
{
	tcp_repair_off(init_pid);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init_pid);
	cleanup_close int ns = open(path, O_RDONLY | O_CLOEXEC);
	struct nvz_error *e = NULL;
	if (ns >= 0 && nvz_nft_drop_tables(ns, "CRIU-", &e) < 0) {
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: CT %s's network stays locked: %s", ct->id, e->msg);
		nvz_error_free(e);
	}
	/* Last: the CT runs again with its connections and network back. */
	cleanup_error struct nvz_error *thaw_err = NULL;
	if (ct_freeze(ct, false, &thaw_err) < 0)
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: cannot thaw CT %s: %s", ct->id, thaw_err->msg);
}

/* A local post-copy restore (vzctl restore --lazy, LAZY_RESTORE): criu
 * lazy-pages serves the memory from the dump's own images, so the restore
 * (the CT's freeze) no longer grows with its memory. A dump made for a
 * post-copy migration holds no memory: its daemon is vzmigrate's. */
bool nvz_ct_lazy_wanted(const struct nvz_ct *ct, const char *dir, enum nvz_lazy opt)
{
	if (nvz_cpt_dump_lazy(dir) || opt == NVZ_LAZY_NO)
		return false;
	if (opt == NVZ_LAZY_YES)
		return true;
	const char *v = nvz_ct_get(ct, "LAZY_RESTORE", "auto");
	if (!strcmp(v, "yes") || !strcmp(v, "no"))
		return !strcmp(v, "yes");
	/* auto: where the page copy would dominate the restore, and the
	 * kernel has userfaultfd (the daemon's only way in). */
	if (nvz_cpt_dump_pages(dir) < NVZ_LAZY_AUTO_MIN)
		return false;
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void drop_socket(const struct nvz_ct *ct)
{
	cleanup_free char *sock = NULL;
	if (asprintf(&sock, "%s/lazy-pages.socket", ct->rundir) >= 0)
		unlink(sock);
}

/* Started before the restore's set-up (its criu start-up and kernel probe,
 * ~40 ms here, overlap it); the monitor waits for it to listen just before
 * criu restore (ct->lazy_ready_fd). The watcher kills criu restore if the
 * daemon dies before the restore returned. */
int nvz_ct_lazy_local_start(struct nvz_ct *ct, const char *dir, struct nvz_ct_lazy_local *l,
			    struct nvz_error **err)
{
	*l = (struct nvz_ct_lazy_local){ .daemon = -1, .watcher = -1 };
	if (nvz_mkdir_p(ct->rundir, 0700, err) < 0)
		return -1;
	drop_socket(ct);
	cleanup_free char *run = nvz_ct_criu_run(ct);
	l->daemon = nvz_cpt_lazy_local(nvz_ct_get(ct, "CRIU", NVZ_CRIU_DEFAULT), dir, ct->rundir, run,
				       &ct->lazy_ready_fd, err);
	if (l->daemon < 0)
		return -1;
	l->watcher = nvz_cpt_lazy_watch_restore(ct, l->daemon, -1);
	return 0;
}

void nvz_ct_lazy_local_restored(struct nvz_ct *ct, struct nvz_ct_lazy_local *l)
{
	nvz_cpt_lazy_unwatch(l->watcher);
	l->watcher = -1;
	if (ct->lazy_ready_fd > 0)
		close(ct->lazy_ready_fd);
	ct->lazy_ready_fd = -1;
}

void nvz_ct_lazy_local_stop(struct nvz_ct *ct, struct nvz_ct_lazy_local *l)
{
	nvz_ct_lazy_local_restored(ct, l);
	if (l->daemon > 0) {
		kill(l->daemon, SIGKILL);
		while (waitpid(l->daemon, NULL, 0) < 0 && errno == EINTR)
			;
	}
	l->daemon = -1;
	drop_socket(ct);
}

/* The CT runs; until the daemon exits, its memory is incomplete. A daemon
 * that fails leaves holes the kernel would fill with zeros (its
 * userfaultfds close): the CT is killed at once, and the dump, the only
 * full copy of that memory, is kept with the daemon's log beside it. */
int nvz_ct_lazy_local_wait(struct nvz_ct *ct, const char *dir, struct nvz_ct_lazy_local *l,
			   struct nvz_error **err)
{
	int status = 0;
	while (waitpid(l->daemon, &status, 0) < 0 && errno == EINTR)
		;
	l->daemon = -1;
	drop_socket(ct);
	if (status == 0)
		return 0;
	struct nvz_runstate rs;
	if (nvz_runstate_read(ct, &rs) == 0 && nvz_proc_alive(rs.init_pid, rs.init_start))
		kill(rs.init_pid, SIGKILL);
	cleanup_free char *log = NULL, *keep = NULL;
	if (asprintf(&log, "%s/lazy-pages.log", ct->rundir) >= 0 &&
	    asprintf(&keep, "%s.lazy-pages.log", dir) >= 0 && rename(log, keep) < 0)
		free(steal_ptr(&keep));
	nvz_log(ct->ctx, NVZ_LOG_ERROR, "criu lazy-pages failed: killing CT %s", ct->id);
	nvz_ct_stop(ct, &(struct nvz_stop_opts){ .fast = true }, NULL);
	return nvz_err(err, NVZ_E_RESTORE, EIO,
		       "Restore error: criu lazy-pages exited (status %d) before all the memory of CT %s "
		       "was restored: the CT was killed, the dump %s is kept (log: %s)",
		       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), ct->id, dir,
		       keep ? keep : "lost");
}
