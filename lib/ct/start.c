/* vzctl start: mount, cgroup, then hand over to a per-CT monitor that
 * creates init in new namespaces and outlives this command. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/sync.h"
#include "ct/hub.h"
#include "ct/internal.h"
#include "ct/state.h"
#include "linux/security.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"

int nvz_ct_cgroup(const struct nvz_ct *ct, struct nvz_cgroup **cg, struct nvz_error **err)
{
	const char *prefix = nvz_ct_get(ct, "CGROUP_PREFIX", "nvz");
	return nvz_cgroup_open(cg, prefix, ct->id, err);
}

char *nvz_ct_merge_capability(const char *cur, const char *arg, struct nvz_error **err)
{
	return nvz_caps_merge(cur, arg, err);
}

/* IOPRIO (0..7, default 4) is OpenVZ's: the higher, the more I/O time.
 * Linux's best-effort levels run the other way (0 is served first), so
 * OpenVZ's 7 is level 0 and its 0 level 7; the CT's processes inherit it
 * (set on init and on what exec starts). */
int nvz_ct_ioprio(const struct nvz_ct *ct)
{
	/* A live --ioprio without --save holds for what starts later too. */
	cleanup_free char *live = nvz_ct_live_value(ct, "IOPRIO");
	int prio = atoi(live ? live : nvz_ct_get(ct, "IOPRIO", "4"));
	if (prio < 0 || prio > 7)
		prio = 4;
	enum { IOPRIO_CLASS_BE = 2, IOPRIO_CLASS_SHIFT = 13 };
	return (IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT) | (7 - prio);
}

int nvz_ct_set_ioprio(const struct nvz_ct *ct, pid_t pid)
{
	enum { IOPRIO_WHO_PROCESS = 1 };
	return (int)syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, pid, nvz_ct_ioprio(ct));
}

int nvz_ct_caps(const struct nvz_ct *ct, uint64_t *keep, struct nvz_error **err)
{
	return nvz_caps_parse(nvz_ct_get(ct, "CAPABILITY", NULL), keep, err);
}

bool nvz_ct_nesting(const struct nvz_ct *ct)
{
	return nvz_feature_on(nvz_ct_get(ct, "FEATURES", NULL), "nesting");
}

static int check_init(const struct nvz_ct *ct, struct nvz_error **err)
{
	cleanup_close int rootfd = open(ct->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return nvz_err_sys(err, NVZ_E_MOUNT, errno, "open %s", ct->root);
	cleanup_close int fd = nvz_open_in_root(rootfd, "/sbin/init", O_PATH, 0);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return nvz_err(err, NVZ_E_BAD_TEMPLATE, ENOENT,
			       "Unable to start init, probably incorrect template");
	return 0;
}

struct monitor_fds {
	int report;  /* the monitor's reports (struct nvz_sync_msg) */
	int go;      /* our steps to the monitor (send_step) */
	int exec;    /* init's exec pipe: 'R' just before its exec, then EOF */
	pid_t inter; /* the intermediate fork, reaped by reap_inter */
};

/* Fork twice so the monitor is nobody's child here: it must outlive vzctl.
 * The intermediate is reaped once the start is over (reap_inter): waiting
 * for its exit here would put a round trip through the scheduler on the
 * start's path while the new monitor competes for the CPUs. The monitor is
 * spawned first, follows the steps sent on mf->go and reports on
 * mf->report; init inherits the exec pipe's write end from it. */

/* With a hub, the hub's monitor opens the CT's cgroup: *cg stays NULL
 * (reading mountinfo is a tenth of this command's CPU in a start). Without
 * one, the monitor this forks gets it, and so does the caller. */
static int spawn_monitor(struct nvz_ct *ct, struct nvz_cgroup **cg, const char *dumpdir,
			 struct monitor_fds *mf, struct nvz_error **err)
{
	int pfd[2], gfd[2], xfd[2];
	if (pipe2(xfd, O_CLOEXEC) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "pipe");
	mf->exec = xfd[0];
	cleanup_close int xwr = xfd[1];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "pipe");
	/* A socket, not a pipe: a monitor that already failed must not kill
	 * us with SIGPIPE when we send it a step (send, MSG_NOSIGNAL). */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gfd) < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "socketpair");
	}
	/* The server's hub forks it if it can (hub.h), unless the admin wants
	 * a monitor process per CT (MONITOR_HUB="no"). */
	struct nvz_error *herr = NULL;
	if (strcmp(nvz_ct_get(ct, "MONITOR_HUB", "yes"), "no") != 0 &&
	    nvz_hub_spawn_monitor(ct, dumpdir, pfd[1], gfd[0], xwr, &herr) == 0) {
		close(pfd[1]);
		close(gfd[0]);
		mf->inter = -1;
		mf->report = pfd[0];
		mf->go = gfd[1];
		return 0;
	}
	if (herr)
		nvz_log(ct->ctx, NVZ_LOG_DEBUG, "No monitor hub: %s", herr->msg);
	nvz_error_free(herr);
	pid_t a = -1;
	if (nvz_ct_cgroup(ct, cg, err) == 0 && (a = fork()) < 0)
		nvz_err_sys(err, NVZ_E_SYSTEM, errno, "fork");
	if (a < 0) {
		close(pfd[0]);
		close(pfd[1]);
		close(gfd[0]);
		close(gfd[1]);
		return -1;
	}
	if (a == 0) {
		close(pfd[0]);
		close(gfd[1]);
		/* The monitor keeps its copy of the command's lock until init runs
		 * (or start failed): a vzctl start killed midway leaves the CT
		 * locked until the start it began is complete, never half-seen. */
		setsid();
		close(xfd[0]);
		pid_t m = fork();
		if (m == 0)
			nvz_monitor_main(ct, *cg, pfd[1], gfd[0], xwr, dumpdir);
		_exit(m < 0 ? 1 : 0);
	}
	close(pfd[1]);
	close(gfd[0]);
	mf->inter = a;
	mf->report = pfd[0];
	mf->go = gfd[1];
	return 0;
}

static void reap_inter(pid_t *inter)
{
	if (*inter <= 0)
		return;
	while (waitpid(*inter, NULL, 0) < 0 && errno == EINTR)
		;
	*inter = -1;
}

static int read_report(const struct nvz_ct *ct, int fd, struct nvz_error **err);

/* A step for the monitor (see wait_step in monitor.c): 'c' (the cgroups
 * exist; not sent to a monitor the hub forked, which creates them), 'm'
 * (the root is mounted), 'l' (the files are written: the last one closes
 * the socket). A monitor that is gone said why on the report pipe (a
 * limit it could not write, say). */
static int send_step(const struct nvz_ct *ct, int *go_wr, int report, char step,
		     struct nvz_error **err)
{
	ssize_t n = send(*go_wr, &step, 1, MSG_NOSIGNAL);
	if (step == 'l')
		close(steal_fd(go_wr));
	if (n != 1 && read_report(ct, report, err) == 0)
		return nvz_err(err, NVZ_E_SYSTEM, EIO, "the container monitor exited during start");
	return n == 1 ? 0 : -1;
}

/* After a failed start: the monitor sees EOF on go (or already failed) and
 * exits; wait for that, so its launcher has left the cgroup. */
static void wait_monitor_gone(int *go_wr, int report_rd)
{
	if (*go_wr >= 0)
		close(steal_fd(go_wr));
	if (report_rd < 0)
		return;
	char buf[sizeof(struct nvz_sync_msg)];
	ssize_t n;
	do
		n = read(report_rd, buf, sizeof(buf));
	while (n > 0 || (n < 0 && errno == EINTR));
}

/* The monitor's report: SYNC_ERROR becomes *err, else SYNC_STARTED, whose
 * text is a warning for the admin (a restore that lost something). */
static int read_report(const struct nvz_ct *ct, int fd, struct nvz_error **err)
{
	struct nvz_sync_msg m;
	ssize_t n;
	do
		n = read(fd, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(m))
		return nvz_err(err, NVZ_E_SYSTEM, EIO, "the container monitor exited during start");
	if (m.step == SYNC_ERROR) {
		m.msg[sizeof(m.msg) - 1] = '\0';
		return nvz_err(err, m.status, m.code, "%s", m.msg);
	}
	m.msg[sizeof(m.msg) - 1] = '\0';
	if (m.step == SYNC_STARTED && m.msg[0])
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: %s", m.msg);
	return 0;
}

/* The end of a start: init's exec, seen directly on the exec pipe (its
 * 'R', then EOF when the exec closed it), or the monitor's report. The
 * report comes one wake-up later, after the monitor saw the exec itself;
 * it is what counts whenever the pipe says anything else: an 'E' (the exec
 * failed), EOF without 'R' (init died before its exec, a restore). */
static int wait_started(const struct nvz_ct *ct, int exec_fd, int report, struct nvz_error **err)
{
	bool ready = false;
	struct pollfd p[2] = { { .fd = report, .events = POLLIN }, { .fd = exec_fd, .events = POLLIN } };
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "wait for the container monitor");
		}
		if (p[0].revents)
			return read_report(ct, report, err);
		if (!p[1].revents)
			continue;
		char c;
		ssize_t n = read(exec_fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 1 && c == 'R' && !ready)
			ready = true;
		else if (n == 0 && ready)
			return 0;
		else
			p[1].fd = -1; /* the report tells */
	}
}

/* The monitor comes first: the hub's (a thread of the hub, which creates
 * the cgroups itself), or one this forks, which starts up
 * (two forks) while this creates the cgroups (one mkdir per v1 hierarchy,
 * the slowest the memory controller's). Then it writes their limits, and
 * its launcher enters them and makes the CT's namespaces, while this
 * mounts the private area and writes the CT's files; init is created once
 * all of that is done.
 * On failure the monitor is gone and *mounted, *cg say what to undo. */
static int start_steps(struct nvz_ct *ct, const char *dumpdir, bool mount, bool *mounted,
		       struct nvz_cgroup **cg, struct nvz_error **err)
{
	struct monitor_fds mf = { .report = -1, .go = -1, .exec = -1, .inter = -1 };
	if (spawn_monitor(ct, cg, dumpdir, &mf, err) < 0) {
		if (mf.exec >= 0)
			close(mf.exec);
		return -1;
	}
	cleanup_close int report = mf.report;
	cleanup_close int go = mf.go;
	cleanup_close int exec_rd = mf.exec;
	/* A monitor the hub forked creates the cgroups itself (monitor.c):
	 * this goes on with the mount at once. */
	bool hub = mf.inter < 0;
	int r = !hub && (nvz_cgroup_create(*cg, err) < 0 || send_step(ct, &go, report, 'c', err) < 0)
			? -1
			: 0;
	if (r == 0 && mount) {
		r = nvz_ct_mount(ct, false, err);
		*mounted = r == 0;
	}
	/* vzctl's order: the CT mounted, then its processes undumped. */
	if (r == 0 && dumpdir)
		nvz_log(ct->ctx, NVZ_LOG_INFO, "\tundump...");
	/* A restored CT keeps its files as they were dumped. */
	if (r < 0 || send_step(ct, &go, report, 'm', err) < 0 ||
	    (!dumpdir && (check_init(ct, err) < 0 || nvz_ct_setup_files(ct, err) < 0)) ||
	    send_step(ct, &go, report, 'l', err) < 0 || wait_started(ct, exec_rd, report, err) < 0) {
		wait_monitor_gone(&go, report);
		reap_inter(&mf.inter);
		return -1;
	}
	reap_inter(&mf.inter);
	return 0;
}

/* Why a start is refused, in vzctl's order: no config (14), disabled
 * (105), no private area (43), running (32). */
static int start_refused(struct nvz_ct *ct, const struct nvz_start_opts *o, bool running,
			 struct nvz_error **err)
{
	if (!ct->conf_exists)
		return nvz_err(err, NVZ_E_NOVECONFIG, ENOENT, "Container config file does not exist");
	if (!strcmp(nvz_ct_get(ct, "DISABLED", "no"), "yes") && !(o && o->force))
		return nvz_err(err, NVZ_E_START_DISABLED, EPERM, "Container start disabled");
	if (!nvz_path_exists(ct->private))
		return nvz_err(err, NVZ_E_NOPRIVATE, ENOENT, "Container private area %s does not exist",
			       ct->private);
	if (running)
		return nvz_err(err, NVZ_E_RUNNING, EBUSY, "Container is already running");
	return 0;
}

/* The start itself, once start_refused let it through; st is the CT's
 * state it was checked on. */
static int start_checked(struct nvz_ct *ct, const struct nvz_start_opts *o,
			 const struct nvz_ct_state *st, struct nvz_error **err)
{
	const char *dumpdir = o ? o->dumpdir : NULL;
	if (!dumpdir)
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Starting container...");
	bool mounted = false;
	struct nvz_cgroup *cg = NULL;
	if (start_steps(ct, dumpdir, !st->mounted, &mounted, &cg, err) < 0) {
		/* What the hub's monitor made and did not undo (it has gone). */
		if (cg || nvz_ct_cgroup(ct, &cg, NULL) == 0) {
			nvz_cgroup_kill(cg, NULL);
			nvz_cgroup_destroy(cg, NULL);
		}
		nvz_cgroup_free(cg);
		if (mounted)
			nvz_ct_umount(ct, NULL);
		nvz_runstate_forget(ct);
		return -1;
	}
	nvz_cgroup_free(cg);
	/* A restore says what a start says of the network, as vzctl's did. */
	const char *all = nvz_ct_get(ct, "IP_ADDRESS", NULL);
	cleanup_free char *ips = nvz_venet_ips(ct, all);
	nvz_venet_ipv6_warn(ct, all);
	if (ips && *ips)
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Adding IP address(es): %s", ips);
	nvz_ct_start_messages(ct);
	nvz_veth_messages(ct);
	if (dumpdir)
		return 0;
	if (!o || !o->wait)
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Container start in progress...");
	return 0;
}

int nvz_ct_start_locked(struct nvz_ct *ct, const struct nvz_start_opts *o, struct nvz_error **err)
{
	struct nvz_ct_state st;
	nvz_ct_get_state(ct, &st, NULL);
	if (start_refused(ct, o, st.running, err) < 0)
		return -1;
	return start_checked(ct, o, &st, err);
}

/* Run inside the CT: returns when its init reached its default target or
 * runlevel. systemd says so itself; sysvinit through `runlevel`, which
 * names the new runlevel before its rc script has run: that script (its
 * argv[0] /etc/init.d/rc or /etc/rc.d/rc) must also be gone, at two looks
 * in a row (init forks it just after it wrote the runlevel); busybox
 * init has no runlevels, so the end of its sysinit script (rcS) counts.
 * rcS is the first process init forks, pid 2: if pid 2 is one of ours,
 * this probe came first and rcS has not started, so "no rcS running"
 * counts only once rcS was seen, once init has reaped a child (the minor
 * faults of reaped children, cminflt in /proc/1/stat, are no longer 0: a
 * fast rcS can start and end between two looks), or once init forked
 * anything else that still runs. */
static const char wait_script[] =
	"n=$(($1 * 10)); i=0; seen=; early=; rc=; ours=' '; p=$$\n"
	"while [ \"${p:-0}\" -gt 1 ]; do ours=\"$ours$p \"\n"
	"  p=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$p/status 2>/dev/null); done\n"
	"case $ours in *' 2 '*) early=1;; esac\n"
	"others() { for d in /proc/[0-9]*; do d=${d#/proc/}\n"
	"  case \"$ours\" in *\" $d \"*) ;; *) [ \"$d\" -gt 1 ] && return 0;; esac; done; return 1; }\n"
	"reaped() { set -- $(sed 's/.*) //' /proc/1/stat); [ \"${9:-0}\" -gt 0 ]; }\n"
	"case $(readlink /proc/1/exe) in */systemd)\n"
	"  while [ $i -lt $n ]; do\n"
	"    s=$(timeout \"$1\" systemctl is-system-running --wait 2>/dev/null)\n"
	"    case $s in running|degraded) exit 0;; offline|initializing|starting|'') ;;\n"
	"      *) echo \"$s\"; exit 1;; esac\n"
	"    sleep 0.1; i=$((i+1))\n"
	"  done; exit 1;;\n"
	"esac\n"
	"while [ $i -lt $n ]; do\n"
	"  if command -v runlevel >/dev/null 2>&1; then\n"
	"    case $(runlevel 2>/dev/null) in *[0-9S])\n"
	"      if grep -qzxE '/etc/(init[.]d|rc[.]d)/rc' /proc/[0-9]*/cmdline 2>/dev/null; then rc=\n"
	"      elif [ -n \"$rc\" ]; then exit 0; else rc=gone; fi;; esac\n"
	"  elif ps -o args 2>/dev/null | grep -q '[/]etc/init[.]d/rc'; then seen=1\n"
	"  elif [ -n \"$seen\" ] || [ -z \"$early\" ] || reaped || others; then exit 0; fi\n"
	"  sleep 0.1; i=$((i+1))\n"
	"done\n"
	"exit 1\n";

static int wait_booted(struct nvz_ct *ct, int timeout, struct nvz_error **err)
{
	char secs[16];
	snprintf(secs, sizeof(secs), "%d", timeout);
	char *const argv[] = { "/bin/sh", "-c", (char *)wait_script, "nvz-wait", secs, NULL };
	struct nvz_exec_opts o = { .argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
				   .no_new_privs = true };
	int code = nvz_ct_exec(ct, &o, err);
	if (code < 0)
		return -1;
	if (code != 0)
		return nvz_err(err, NVZ_E_WAIT, ETIMEDOUT, "Container wait failed - timeout expired");
	return 0;
}

/* A start of a suspended CT: 0 restored, 1 to be booted afresh, < 0 an
 * error. vzctl booted a CT whose dump did not restore (another kernel
 * after a host reboot, a damaged dump) as if it had none, so that it runs;
 * nvz moves that dump aside first, where vzctl kept it: restored at a
 * later start, over a disk that has moved on, it would bring back
 * processes that no longer match their files (and it would block the next
 * chkpnt). */
static int start_from_dump(struct nvz_ct *ct, struct nvz_error **err)
{
	cleanup_free char *dump = nvz_ct_dump_path(ct), *aside = NULL;
	if (!dump || asprintf(&aside, "%s.failed", dump) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Dump file %s exists, trying to restore from it", dump);
	struct nvz_error *e = NULL;
	if (nvz_ct_restore(ct, NULL, &e) == 0)
		return 0;
	struct nvz_ct_state st;
	nvz_ct_get_state(ct, &st, NULL);
	/* Not when it runs after all (a post-copy restore that failed late). */
	if (st.running || !nvz_path_exists(dump)) {
		*err = e;
		return -1;
	}
	nvz_log(ct->ctx, NVZ_LOG_ERROR, "%s", e && e->msg ? e->msg : "Restore error");
	nvz_error_free(e);
	nvz_rm_rf(aside, NULL);
	if (rename(dump, aside) < 0)
		return nvz_err_sys(err, NVZ_E_RESTORE, errno, "Unable to move the dump %s aside", dump);
	nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: the dump that did not restore is kept as %s; starting afresh",
		aside);
	return 1;
}

int nvz_ct_start(struct nvz_ct *ct, const struct nvz_start_opts *o, struct nvz_error **err)
{
	/* OpenVZ: a CT suspended (vzctl suspend, or at host shutdown with
	 * VE_STOP_MODE=suspend) comes back from its dump. */
	struct nvz_ct_state st;
	nvz_ct_get_state(ct, &st, NULL);
	/* Before the dump is tried, as vzctl: a disabled CT that was
	 * suspended stays down with 105 (one without private area, 43),
	 * its dump kept. */
	if (start_refused(ct, o, st.running, err) < 0)
		return -1;
	if (!st.running && st.suspended && !(o && o->dumpdir)) {
		int r = start_from_dump(ct, err);
		if (r <= 0)
			return r;
		nvz_ct_get_state(ct, &st, NULL);
	}
	if (start_checked(ct, o, &st, err) < 0)
		return -1;
	/* OpenVZ's CTID.start: a CT whose start script fails did not start. */
	if (nvz_ct_inside_script(ct, "start", err) < 0) {
		struct nvz_stop_opts fast = { .fast = true };
		nvz_ct_stop(ct, &fast, NULL);
		return -1;
	}
	if (!o || !o->wait)
		return 0;
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Container start in progress, waiting ...");
	int timeout = atoi(nvz_ct_get(ct, "START_TIMEOUT", "300"));
	if (wait_booted(ct, timeout > 0 ? timeout : 300, err) < 0)
		return -1;
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Container started successfully");
	return 0;
}
