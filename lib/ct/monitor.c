/* The per-CT monitor: creates init in new namespaces, reaps it, keeps the
 * console drained, restarts the CT when it reboots and cleans up when it
 * halts. The CT does not depend on it: killing the monitor leaves the CT
 * running, and vzctl manages it through the state file and the cgroup. */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/sync.h"
#include "ct/bcfs.h"
#include "ct/console.h"
#include "ct/hub.h"
#include "ct/launcher.h"
#include "ct/monwait.h"
#include "linux/lxcfs.h"
#include "ct/internal.h"
#include "ct/state.h"
#include "linux/security.h"
#include "linux/trim.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

/* err for SYNC_ERROR; text, with SYNC_STARTED, a warning vzctl says. */
static void report(int fd, int step, const struct nvz_error *err, const char *text)
{
	struct nvz_sync_msg m = { .step = step };
	if (err) {
		m.code = err->code;
		m.status = err->status;
		snprintf(m.msg, sizeof(m.msg), "%s", err->msg);
	} else if (text) {
		snprintf(m.msg, sizeof(m.msg), "%s", text);
	}
	if (write(fd, &m, sizeof(m)) < 0)
		return;
}

void nvz_monitor_report_failure(int report_fd, struct nvz_error *err)
{
	report(report_fd, SYNC_ERROR, err, NULL);
	nvz_error_free(err);
}

/* vzctl goes on with the start while the monitor starts (start.c): a byte
 * on go_fd when the CT's cgroups exist, one when its root is mounted,
 * another when its files are written; EOF when the start failed. init is
 * created only after all three and after the limits, which the monitor
 * writes itself as soon as the cgroups exist:
 * init's /dev setup (mknod) must not meet the devices cgroup between the
 * "deny all" and the allow list. */
static int wait_step(int go_fd, struct nvz_error **err)
{
	char c;
	ssize_t n;
	do
		n = read(go_fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return nvz_err(err, NVZ_E_SYSTEM, ECANCELED, "start cancelled");
	return 0;
}

/* The CT runs without /run/user_beancounters rather than not at all. A
 * start's is attached by init (no mount on the host); a restore's is
 * mounted at RUNDIR/<id>/bc, where criu finds it. */
static struct nvz_bcfs *mount_bc(struct nvz_ct *ct, bool on_host)
{
	struct nvz_error *err = NULL;
	cleanup_free char *path = NULL;
	struct nvz_bcfs *bc = NULL;
	if (!on_host || asprintf(&path, "%s/bc", ct->rundir) >= 0)
		bc = nvz_bcfs_new(ct, path, &err);
	if (!bc)
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: no /run/user_beancounters: %s",
			err ? err->msg : "");
	nvz_error_free(err);
	return bc;
}

static int send_bc_tree(int sync_fd, int tree)
{
	char c = 0;
	if (tree >= 0)
		return nvz_send_fd(sync_fd, tree);
	return send(sync_fd, &c, 1, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* Sent as soon as the launch order is (init reads them from its end of
 * the socket): init was born in its cgroups (see launcher below), nothing
 * to move; then the beancounters' tree, mounted meanwhile (on two CPUs the
 * one time nothing else of the start runs but init). A child that failed
 * in its first mounts sent why and exited: a send may fail and the wait
 * reads the reason. Any other send failure ends our side, so the child's
 * wait sees EOF instead of hanging. */
static void first_steps(struct nvz_ct *ct, int sync_fd, struct nvz_bcfs **bc)
{
	if (nvz_sync_send(sync_fd, SYNC_CGROUP_JOINED) < 0) {
		shutdown(sync_fd, SHUT_WR);
		return;
	}
	/* The CT's file in the hub's file system, else one of its own. */
	cleanup_close int shared = nvz_bcsrv_tree(ct->veid);
	if (send_bc_tree(sync_fd, shared >= 0 ? shared : nvz_bcfs_file_tree(*bc = mount_bc(ct, false))) < 0)
		shutdown(sync_fd, SHUT_WR);
}

/* A start the hub serves (hub.h), in a monitor it forked or in a thread of
 * its own: the channel to the hub, the hub's pid (what the state names),
 * and the monitor lock taken before the state names the hub. Per thread:
 * the hub runs several starts side by side. */
static __thread int hub_fd = -1, token_fd = -1;
static __thread pid_t hub_pid;

void nvz_monitor_set_hub(int fd)
{
	hub_fd = fd;
	hub_pid = getppid();
}

int nvz_monitor_record(struct nvz_ct *ct, pid_t init_pid, struct nvz_error **err)
{
	struct nvz_runstate rs;
	nvz_runstate_make(ct, init_pid, hub_fd >= 0 ? hub_pid : getpid(), &rs);
	if (hub_fd >= 0 && token_fd < 0 && (token_fd = nvz_ct_monitor_token_take(ct, err)) < 0)
		return -1;
	return nvz_runstate_write(ct, &rs, err);
}

/* Parent side of the named steps: state recorded and network set up while
 * init makes its mounts (its namespaces exist from its birth), rootfs
 * ready, exec. */
static int init_handshake(struct nvz_ct *ct, pid_t pid, int sync_fd, struct nvz_error **err)
{
	/* A new init: its uptime is its own, whatever a restore left. */
	if (nvz_ct_uptime_restored(ct, 0, err) < 0 || nvz_monitor_record(ct, pid, err) < 0 ||
	    nvz_venet_start(ct, pid, nvz_ct_get(ct, "IP_ADDRESS", NULL), err) < 0 ||
	    nvz_veth_start(ct, pid, nvz_ct_get(ct, "NETIF", NULL), err) < 0 ||
	    nvz_netdev_start(ct, pid, err) < 0)
		return -1;
	if (nvz_sync_wait(sync_fd, SYNC_ROOTFS_READY, "container setup", err) < 0)
		return -1;
	/* vzctl returns as soon as init's exec closes the exec pipe, before we
	 * see it: drop our copy of its lock now, or a `vzctl stop` run right
	 * after start returns finds the CT locked (exit 9). All that is left
	 * of the start is init's exec. */
	nvz_ct_unlock(ct);
	if (nvz_sync_send(sync_fd, SYNC_EXEC) < 0)
		return -1;
	/* EOF means the exec succeeded (the socket was close-on-exec). */
	struct nvz_sync_msg m;
	ssize_t n;
	do
		n = recv(sync_fd, &m, sizeof(m), 0);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(m) && m.step == SYNC_ERROR) {
		m.msg[sizeof(m.msg) - 1] = '\0';
		return nvz_err(err, m.status, m.code, "%s", m.msg);
	}
	return 0;
}

/* A start that failed while init had not exec'd yet. Until its exec init
 * runs in our memory (nvz_clone_vm): a SIGKILL could catch it inside
 * malloc, holding a lock of the heap we share, and our next allocation
 * would wait for it forever (in the hub, every start after it too). Our
 * end of its sync socket goes instead: init gives up at its next wait on
 * it and exits on its own. SIGKILL only if it has not within 5 s (blocked
 * in the kernel, then, not in the heap). */
static void end_unexeced_init(struct nvz_ct *ct, pid_t pid, int sync_fd)
{
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	shutdown(sync_fd, SHUT_RDWR);
	if (pidfd < 0) /* exited, and the hub reaped it */
		return;
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int r;
	do
		r = poll(&p, 1, 5000);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		nvz_log(ct->ctx, NVZ_LOG_VERBOSE, "init ended before its exec");
	} else {
		nvz_log(ct->ctx, NVZ_LOG_WARN, "init did not end within 5 s of the failed start: killed");
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	}
	/* ECHILD if the hub's loop reaped it first. */
	waitpid(pid, NULL, 0);
}

/* Create init; returns its pid (> 0) once it has exec'd. */
static pid_t create_init(struct nvz_ct *ct, struct launcher *l, const char *console,
			 struct nvz_bcfs **bc, const struct ct_userns *u, struct nvz_error **err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "socketpair");
	struct launch_msg m = { .sync_fd = sv[1], .peer_fd = sv[0], .exec_fd = l->exec_fd,
				.userns = u != NULL };
	snprintf(m.console, sizeof(m.console), "%s", console);
	if (u)
		m.u = *u;
	if (send(l->fd, &m, sizeof(m), 0) != (ssize_t)sizeof(m)) {
		close(sv[0]);
		close(sv[1]);
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "start the init launcher");
	}
	cleanup_close int sync_fd = sv[0];
	/* While the launcher clones init and init makes its first mounts:
	 * init finds these waiting on its socket when it needs them. */
	first_steps(ct, sync_fd, bc);
	pid_t pid = nvz_launcher_wait(l, err);
	/* init has the exec pipe (vzctl sees its exec by the pipe's EOF). The
	 * launcher thread stays until init's exec (launcher_run), then goes. */
	nvz_launcher_close_exec(l);
	if (pid < 0)
		nvz_launcher_end(l);
	close(sv[1]);
	if (pid < 0)
		return -1;
	int r = init_handshake(ct, pid, sync_fd, err);
	nvz_launcher_end(l);
	if (r < 0) {
		cleanup_close int ct_ns = nvz_netdev_hold(ct, pid);
		end_unexeced_init(ct, pid, sync_fd);
		nvz_netdev_return(ct, ct_ns);
		nvz_venet_stop(ct);
		nvz_runstate_remove(ct);
		return -1;
	}
	return pid;
}

/* Wait for init to exit while keeping its console drained (or lent to a
 * `vzctl console` client); returns init's wait status. */
static int wait_init(pid_t pid, int master, int logfd, int sigfd, int listen_fd, struct nvz_bcfs *bc)
{
	int client = -1;
	for (;;) {
		struct pollfd p[5] = {
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = client < 0 ? master : -1, .events = POLLIN },
			{ .fd = client < 0 ? listen_fd : -1, .events = POLLIN },
			{ .fd = client, .events = POLLIN },
			{ .fd = nvz_bcfs_fd(bc), .events = POLLIN },
		};
		int n = poll(p, 5, -1);
		if ((p[4].revents & POLLIN) && nvz_bcfs_process(bc) < 0)
			bc = NULL;
		if (n < 0 && errno != EINTR)
			return -1;
		if (p[1].revents & POLLIN)
			nvz_console_drain(master, logfd);
		if (p[2].revents & POLLIN)
			client = nvz_console_accept(listen_fd, master);
		if (p[3].revents) {
			char c;
			if (read(client, &c, 1) <= 0) {
				close(client);
				client = -1;
			}
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) < 0)
				continue;
		}
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			if (client >= 0)
				close(client);
			return status;
		}
		if (r < 0 && errno == ECHILD)
			return -1;
	}
}

/* Does the state file still name this init and this monitor? */
static bool still_ours(const struct nvz_ct *ct, pid_t pid)
{
	struct nvz_runstate rs;
	/* The monitor is this process (exec'd by vzmon) or the hub, our parent. */
	return nvz_runstate_read(ct, &rs) == 0 && rs.init_pid == pid &&
	       (rs.monitor_pid == getpid() || rs.monitor_pid == getppid());
}

void nvz_monitor_after_exit(struct nvz_ct *ct, pid_t pid, int status, int token)
{
	/* A CT's init that called reboot(2) dies from SIGHUP; halt and
	 * poweroff from SIGINT (kernel/pid_namespace.c). */
	bool reboot = status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP;
	const char *lockdir = nvz_ct_get(ct, "LOCKDIR", NULL);
	/* The command that ended init (stop, chkpnt) holds the lock and
	 * removes the state: try the lock only while the state still names
	 * us, so we never take it after that command is done (a vzctl start
	 * or restore right after it would find the CT locked), and exit at
	 * once instead (vzctl chkpnt waits for that). Looked at every ms:
	 * that command waits for our exit, so a longer nap is its delay (a
	 * kill took 9 or 30 ms with 20 ms naps). After ~2 s of a held lock,
	 * wait for it as before. */
	bool locked = false;
	for (int i = 0; lockdir && !locked && still_ours(ct, pid); i++)
		if (nvz_lock(lockdir, ct->id, i >= 2000, &ct->lockfd, NULL) == 0)
			locked = true;
		else
			usleep(1000);
	/* Someone (vzctl stop, restart, chkpnt) already handled this init. */
	if (!locked || !still_ours(ct, pid))
		return;
	/* Read before the cleanup removes them. */
	if (reboot)
		nvz_hub_take_start_limits(ct);
	nvz_ct_cleanup_stopped(ct, NULL);
	/* The old init is done with: a restart takes the monitor lock anew. */
	if (token >= 0)
		close(token);
	nvz_log(ct->ctx, NVZ_LOG_INFO, reboot ? "Container was rebooted" : "Container was stopped");
	if (reboot) {
		struct nvz_ct *fresh = NULL;
		struct nvz_error *err = NULL;
		if (nvz_ct_open(ct->ctx, ct->veid, &fresh, &err) == 0) {
			fresh->lockfd = steal_fd(&ct->lockfd);
			/* As a start: CTID.start inside, and a failing one stops it. */
			if (nvz_ct_start_locked(fresh, NULL, &err) < 0)
				nvz_log(ct->ctx, NVZ_LOG_ERROR, "restart after reboot: %s", err->msg);
			else if (nvz_ct_inside_script(fresh, "start", &err) < 0) {
				nvz_log(ct->ctx, NVZ_LOG_ERROR, "restart after reboot: %s", err->msg);
				nvz_ct_stop(fresh, &(struct nvz_stop_opts){ .fast = true }, NULL);
			}
		}
		/* vzctl monitor-exit returns (and is leak-checked) after this. */
		nvz_ct_free(fresh);
		nvz_error_free(err);
		return;
	}
	if (nvz_ct_umount(ct, NULL) == 0)
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Container is unmounted");
}

/* 1 with u filled for a USERNS="yes" CT, 0 for others, < 0 on error. */
static int prepare_userns(struct nvz_ct *ct, int console_slave, struct ct_userns *u,
			  struct nvz_error **err)
{
	struct nvz_idmap map;
	int r = nvz_ct_idmap(ct, &map, err);
	if (r <= 0)
		return r;
	if ((u->nsfd = nvz_userns_create(&map, err)) < 0)
		return -1;
	if ((u->tree = nvz_idmapped_tree(ct->root, u->nsfd, err)) < 0) {
		close(u->nsfd);
		return -1;
	}
	u->owner = map.host;
	/* The CT's root is not host root: it gets its console by ownership. */
	if (fchown(console_slave, map.host, map.host + 5) < 0) {
		close(u->nsfd);
		close(u->tree);
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "chown the console pty");
	}
	return 1;
}

/* What a started CT's host side is made of, served for its life by the
 * hub or by this monitor. */
struct ct_host {
	pid_t pid;
	int master, slave, logfd, listen_fd;
	struct nvz_bcfs *bc;
};

static void ct_host_close(struct ct_host *h)
{
	int *fd[] = { &h->master, &h->slave, &h->logfd, &h->listen_fd };
	for (size_t i = 0; i < sizeof(fd) / sizeof(fd[0]); i++)
		if (*fd[i] >= 0)
			close(steal_fd(fd[i]));
}

/* What the hub or the small monitor needs to serve the CT's host side. */
static struct nvz_monwait host_monwait(const struct nvz_ct *ct, const struct ct_host *h)
{
	struct nvz_monwait m = {
		.veid = ct->veid, .init_pid = h->pid, .master = h->master, .slave = h->slave,
		.logfd = h->logfd, .listen_fd = h->listen_fd, .bc_fd = nvz_bcfs_fd(h->bc),
		.bc_mounted_at = nvz_bcfs_mounted_at(h->bc), .exe_fd = -1,
	};
	snprintf(m.rundir, sizeof(m.rundir), "%s", ct->rundir);
	const char *lockdir = nvz_ct_get(ct, "LOCKDIR", NULL);
	if (lockdir)
		snprintf(m.lockpath, sizeof(m.lockpath), "%s/%s.lck", lockdir, ct->id);
	return m;
}

/* Init runs: the rest of the CT's life is the small monitor's (monwait.h),
 * exec'd in our place with what it needs. Returns only if that failed: we
 * then do the same ourselves, at the memory cost of a fork of vzctl. */
static void hand_over(struct nvz_ct *ct, const struct ct_host *h, int report_fd)
{
	struct nvz_monwait m = host_monwait(ct, h);
	if (hub_fd >= 0) {
		/* The hub has the CT: init becomes its child when we exit. The
		 * exit (our memory torn down) at idle priority: nobody waits
		 * for it, while vzctl's return and the CT's boot do. */
		if (nvz_hub_hand_over(hub_fd, &m, token_fd) == 0) {
			sched_setscheduler(0, SCHED_IDLE, &(struct sched_param){ 0 });
			_exit(0);
		}
		/* No hub any more: we stay the CT's monitor, and the state says so. */
		struct nvz_runstate rs;
		nvz_runstate_make(ct, h->pid, getpid(), &rs);
		nvz_runstate_write(ct, &rs, NULL);
		close(hub_fd);
		hub_fd = -1;
		if (token_fd >= 0)
			close(token_fd);
		token_fd = -1;
	}
	/* After the command that started us is gone (its end of the report
	 * pipe closes: POLLERR here), so that the exec does not take a CPU
	 * from it on its way out; a command that lingers is not waited for
	 * longer than 200 ms. The CT runs meanwhile: nothing waits on us. */
	struct pollfd p = { .fd = report_fd };
	while (poll(&p, 1, 200) < 0 && errno == EINTR)
		;
	m.exe_fd = nvz_hub_vzctl_open();
	struct nvz_error *err = NULL;
	if (m.exe_fd < 0 || nvz_monwait_exec(&m, &err) < 0)
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: the small monitor did not start: %s",
			err ? err->msg : "the vzctl binary cannot be opened");
	nvz_error_free(err);
	if (m.exe_fd >= 0)
		close(m.exe_fd);
}

static void quiet_stdio(void)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		close(devnull);
	}
}

/* The launcher first, while the cgroups are created (by vzctl, or by us if
 * the hub forked us); once they exist the launcher enters them and we
 * write their limits, while vzctl mounts the root and writes the CT's
 * files (start.c). */
static int prepare_cgroups(struct nvz_ct *ct, struct nvz_cgroup *cg, struct launcher *l,
			   const char *dumpdir, int go_fd, struct nvz_error **err)
{
	char go = 1;
	if (!dumpdir && nvz_launcher_start(ct, cg, l, err) < 0)
		return -1;
	/* In the hub (a thread of it, or a child it forked): vzctl leaves
	 * the cgroups to us and mounts the root meanwhile (start.c). */
	if (hub_fd >= 0 ? nvz_cgroup_create(cg, err) < 0 : wait_step(go_fd, err) < 0)
		return -1;
	if (l->fd >= 0 && send(l->fd, &go, 1, MSG_NOSIGNAL) != 1)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "start the init launcher");
	return dumpdir ? nvz_ct_apply_resources_dumped(ct, dumpdir, cg, err)
		       : nvz_ct_apply_resources(ct, NULL, cg, err);
}

static int start_failed(struct ct_host *h, int report_fd, struct nvz_error *err)
{
	ct_host_close(h);
	report(report_fd, SYNC_ERROR, err, NULL);
	nvz_error_free(err);
	return -1;
}

/* The start, until init runs: 0 with h filled and "started" reported, or
 * -1 with the error reported and nothing of the start left (go_fd and
 * exec_fd are ours either way). */
static int monitor_start(struct nvz_ct *ct, struct nvz_cgroup *cg, int report_fd, int go_fd,
			 int exec_fd, const char *dumpdir, int sigfd, struct ct_host *h)
{
	*h = (struct ct_host){ .pid = -1, .master = -1, .slave = -1, .logfd = -1, .listen_fd = -1 };
	cleanup_close int go = go_fd;
	struct nvz_error *err = NULL;
	/* A restore has no exec for vzctl to see: it waits for our report. */
	if (dumpdir)
		close(steal_fd(&exec_fd));
	struct launcher l = { .fd = -1, .exec_fd = exec_fd };
	char console[64], warning[512] = "";
	if (prepare_cgroups(ct, cg, &l, dumpdir, go, &err) < 0) {
		nvz_launcher_end(&l);
		nvz_launcher_join(&l);
		return start_failed(h, report_fd, err);
	}
	if (nvz_console_pty(&h->master, &h->slave, console, sizeof(console)) < 0) {
		nvz_err_sys(&err, NVZ_E_SYSTEM, errno, "allocate console pty");
		nvz_launcher_end(&l);
		nvz_launcher_join(&l);
		return start_failed(h, report_fd, err);
	}
	/* The monitor keeps a slave open so the master never sees a hangup
	 * (which would make poll spin) when the CT closes its console. */
	/* The console's log and socket before init runs: vzctl may return as
	 * soon as init exec'd (start.c), and `vzctl console` right after. They
	 * are made while vzctl still mounts the root and writes the CT's
	 * files. criu binds the beancounters' file at restore; a new init gets
	 * it while it makes its first mounts (first_steps). */
	h->logfd = nvz_console_open_log(ct);
	h->listen_fd = nvz_console_listen(ct);
	h->bc = dumpdir ? mount_bc(ct, true) : NULL;
	struct ct_userns u = { .nsfd = -1, .tree = -1 };
	/* Root mounted, then files and limits written. A restored CT comes
	 * back in the namespaces CRIU makes from its dump. */
	/* The restore's own set-up (netns, host-side mounts) runs while vzctl
	 * mounts the root and writes the limits. */
	struct nvz_ct_restore *rst =
		dumpdir ? nvz_ct_restore_begin(ct, dumpdir, console, h->slave, h->bc) : NULL;
	int userns = -1;
	if (wait_step(go, &err) == 0 && wait_step(go, &err) == 0)
		userns = dumpdir ? 0 : prepare_userns(ct, h->slave, &u, &err);
	if (userns >= 0)
		h->pid = dumpdir ? nvz_ct_restore_init(ct, rst, sigfd, h->bc, warning,
						       sizeof(warning), &err)
				 : create_init(ct, &l, console, &h->bc, userns ? &u : NULL, &err);
	else if (dumpdir)
		nvz_ct_restore_cancel(rst);
	nvz_launcher_end(&l);
	if (userns > 0) {
		close(u.nsfd);
		close(u.tree);
	}
	if (h->pid < 0) {
		/* init is dead (create_init killed it) or was never made. */
		nvz_launcher_join(&l);
		/* Nobody else would unmount the beancounter file system. */
		nvz_bcfs_unmount(steal_ptr(&h->bc));
		nvz_console_unlisten(ct, steal_fd(&h->listen_fd));
		return start_failed(h, report_fd, err);
	}
	/* Init runs: drop our copy of the starting command's lock before saying
	 * so, or a `vzctl stop` run right after start returns finds the CT
	 * locked (exit 9). */
	nvz_ct_unlock(ct);
	report(report_fd, SYNC_STARTED, NULL, warning);
	/* init has exec'd: the launcher is on its way out. */
	nvz_launcher_join(&l);
	return 0;
}

void nvz_monitor_main(struct nvz_ct *ct, struct nvz_cgroup *cg, int report_fd, int go_fd,
		      int exec_fd, const char *dumpdir)
{
	quiet_stdio();
	ct->ctx->log = NULL; /* nobody reads our stdout; the log file still does */
	char comm[16];
	snprintf(comm, sizeof(comm), "vzmon %.9s", ct->id);
	prctl(PR_SET_NAME, comm);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	struct ct_host h;
	if (monitor_start(ct, cg, report_fd, go_fd, exec_fd, dumpdir, sigfd, &h) < 0)
		_exit(1);
	nvz_cgroup_free(cg);
	hand_over(ct, &h, report_fd);
	close(report_fd);
	/* The monitor lives as long as the CT: give back the heap and stack
	 * the start used, they count in the memory each running CT costs
	 * (bench/). */
	nvz_trim_memory();
	int status = wait_init(h.pid, h.master, h.logfd, sigfd, h.listen_fd, h.bc);
	nvz_bcfs_unmount(h.bc);
	nvz_monitor_after_exit(ct, h.pid, status, -1);
	_exit(0);
}

void nvz_monitor_in_hub(struct nvz_ct *ct, struct nvz_cgroup *cg, int report_fd, int go_fd,
			int exec_fd, int fd)
{
	hub_fd = fd;
	hub_pid = getpid();
	ct->ctx->log = NULL;
	char comm[16];
	snprintf(comm, sizeof(comm), "vzmon %.9s", ct->id);
	prctl(PR_SET_NAME, comm);
	struct ct_host h;
	if (monitor_start(ct, cg, report_fd, go_fd, exec_fd, NULL, -1, &h) == 0) {
		struct nvz_monwait m = host_monwait(ct, &h);
		/* A test's way to let init die before the hub has the CT (the
		 * hub then reaps it first: hub.c early_exit). */
		const char *delay = getenv("NVZ_TEST_HANDOVER_DELAY_MS");
		if (delay)
			usleep((useconds_t)atoi(delay) * 1000);
		/* To our own process: it fails only out of memory or descriptors,
		 * and then nobody would serve the CT. */
		if (nvz_hub_hand_over(hub_fd, &m, token_fd) < 0) {
			nvz_log(ct->ctx, NVZ_LOG_ERROR, "CT %s stopped: the hub could not take it: %m",
				ct->id);
			kill(h.pid, SIGKILL);
			nvz_venet_stop(ct);
			nvz_runstate_remove(ct);
			nvz_bcfs_unmount(steal_ptr(&h.bc));
		}
		/* The hub has its own copies now. */
		ct_host_close(&h);
		nvz_bcfs_release(h.bc);
	}
	if (token_fd >= 0)
		close(steal_fd(&token_fd));
	hub_fd = -1;
}
