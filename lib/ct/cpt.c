/* vzctl chkpnt/suspend and restore/resume: the life-cycle side of CRIU
 * checkpoint/restore (lib/cpt runs criu). A checkpoint is DUMPDIR/Dump.<CTID>
 * (or --dumpfile), a CRIU image directory.
 *
 * Restore reuses start: mount, cgroup with the CT's limits, then the monitor
 * (which runs `criu restore` instead of cloning init, and becomes the
 * restored init's parent as a subreaper), so reaping, console, beancounters
 * and reboot/halt handling are the same as after a boot. The monitor's half
 * of a restore is cpt-restore.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "cpt/taskfd.h"
#include "ct/hub.h"
#include "ct/internal.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/net.h"
#include "nvz/netif.h"

char *nvz_ct_dump_path(const struct nvz_ct *ct)
{
	char *p = NULL;
	if (asprintf(&p, "%s/Dump.%s", nvz_ct_get(ct, "DUMPDIR", "/var/lib/vz/dump"), ct->id) < 0)
		return NULL;
	return p;
}

/* The dump's directory, absolute: a relative --dumpfile is the caller's
 * (vzctl opened it from its working directory), while criu and the CT's
 * monitor work from their own. */
static char *dump_dir(const struct nvz_ct *ct, const char *dumpfile)
{
	cleanup_free char *dir = dumpfile ? strdup(dumpfile) : nvz_ct_dump_path(ct);
	if (!dir || dir[0] == '/')
		return steal_ptr(&dir);
	cleanup_free char *cwd = getcwd(NULL, 0);
	char *abs = NULL;
	if (!cwd || asprintf(&abs, "%s/%s", cwd, dir) < 0)
		return NULL;
	return abs;
}

const char *nvz_ct_criu_path(const struct nvz_ct *ct)
{
	return nvz_ct_get(ct, "CRIU", NVZ_CRIU_DEFAULT);
}

char *nvz_ct_criu_run(const struct nvz_ct *ct)
{
	return nvz_cpt_kdat_run(nvz_ctx_get(ct->ctx, "RUNDIR", "/run/nvz"));
}

int nvz_ct_cgroup_version(const struct nvz_ct *ct)
{
	struct nvz_cgroup *cg = NULL;
	if (nvz_ct_cgroup(ct, &cg, NULL) < 0)
		return 0;
	int v = (int)nvz_cgroup_version(cg);
	nvz_cgroup_free(cg);
	return v;
}

/* criu with --freeze-cgroup freezes the whole tree at once through the
 * CT's cgroup (v1's freezer, v2's cgroup.freeze): no race with forks, as
 * when ptrace seizes task by task. But it writes FROZEN and, if a task was
 * running at that instant (likely on a busy host, or for any CT doing
 * work), sleeps 100 ms before it looks again: +100 ms of freeze in 1-5 of
 * 16 cycles of bench/cpt.sh, 3 of 8 in a profile. Seizing one by one,
 * rescanning each one's children until the tree is stable, takes a
 * millisecond or two for a small tree. So the freezer is for a large tree
 * only (a busy forking one is where seizing would chase forks), and for
 * post-copy, where criu holds the tree for its page server and the
 * rollback freezes it there (cpt-lazy.c). Returns the directory to give
 * criu, or NULL to seize. */
#define CPT_SEIZE_MAX_PROCS 64

static char *freezer_dir(const struct nvz_ct *ct, bool always)
{
	struct nvz_cgroup *cg = NULL;
	if (nvz_ct_cgroup(ct, &cg, NULL) < 0)
		return NULL;
	char *dir = nvz_cgroup_freezer_dir(cg);
	/* A count that fails (a cgroup gone) says large: the freezer is safe. */
	int procs = nvz_cgroup_nr_procs(cg, NULL);
	nvz_cgroup_free(cg);
	if (dir && !always && procs >= 0 && procs <= CPT_SEIZE_MAX_PROCS)
		free(steal_ptr(&dir));
	return dir;
}

/* Wait up to 10 s for a process (not our child) to exit. A pidfd polls
 * readable the moment it exits (a zombie counts as gone, as for
 * nvz_proc_alive): these waits sit inside the freeze window of chkpnt +
 * restore, where sleeping in 50 ms steps cost up to 0.1 s. The start time
 * is checked after the pidfd is open, so a reused pid is not waited for. */
static int wait_gone(pid_t pid, unsigned long long start)
{
	cleanup_close int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0 && nvz_proc_alive(pid, start)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		while (poll(&p, 1, 10000) < 0 && errno == EINTR)
			;
	}
	for (int i = 0; i < 200 && nvz_proc_alive(pid, start); i++)
		usleep(5000);
	return nvz_proc_alive(pid, start) ? -1 : 0;
}

/* Can the restore make the CT's network namespace again from its config
 * without losing anything (lib/net/inventory.c)? Looked at just before
 * criu freezes the CT: a change made in that instant is not seen. */
static bool net_from_config(struct nvz_ct *ct, pid_t init, const char *ips, const char *netif)
{
	char path[64], why[160];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init);
	cleanup_close int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns >= 0 && nvz_netns_only_config(ns, ips, netif, why, sizeof(why)))
		return true;
	nvz_log(ct->ctx, NVZ_LOG_VERBOSE, "CT %s's network namespace holds %s: criu saves all of it",
		ct->id, ns < 0 ? "what cannot be seen" : why);
	return false;
}

/* The NETIF the running CT has: an unsaved --netif_add or --netif_del
 * included (veth.c's record), else its config's. */
static char *netif_now(const struct nvz_ct *ct)
{
	char *live = nvz_ct_live_netif(ct);
	return live ? live : strdup(nvz_ct_get(ct, "NETIF", ""));
}

/* The host side of each NETIF pair goes with the CT's network namespace,
 * but the kernel deletes it later, from a work queue: a chkpnt that returns
 * sooner (criu leaves a given cgroup yard mounted) left it for a moment, and
 * a restore right after would find its name taken. Deleted here, as venet0. */
static void veth_host_gone(const struct nvz_ct *ct)
{
	struct nvz_netifs all = { 0 };
	cleanup_free char *netif = netif_now(ct);
	if (!netif || !*netif || nvz_ct_netifs(ct, netif, &all, NULL) < 0)
		return;
	for (size_t i = 0; i < all.n; i++)
		nvz_link_del(-1, all.v[i].host_ifname, NULL);
}

/* A host device given to the CT (NETDEV) is this server's: criu cannot
 * dump a physical NIC, and no other server has it. */
static int refuse_netdev(const struct nvz_ct *ct, struct nvz_error **err)
{
	if (!nvz_ct_has_netdev(ct))
		return 0;
	cleanup_free char *held = nvz_ct_netdev_held(ct);
	return nvz_err(err, NVZ_E_CHKPNT, EOPNOTSUPP,
		       "Checkpointing failed: the container has this server's network devices "
		       "(NETDEV=\"%s\"); give them back with --netdev_del first",
		       held ? held : "");
}

bool nvz_ct_frozen(const struct nvz_ct *ct)
{
	struct nvz_cgroup *cg = NULL;
	bool frozen = nvz_ct_cgroup(ct, &cg, NULL) == 0 && nvz_cgroup_frozen(cg);
	nvz_cgroup_free(cg);
	return frozen;
}

void nvz_ct_thaw(const struct nvz_ct *ct)
{
	struct nvz_cgroup *cg = NULL;
	if (nvz_ct_cgroup(ct, &cg, NULL) == 0 && nvz_cgroup_frozen(cg))
		nvz_cgroup_freeze(cg, false, NULL);
	nvz_cgroup_free(cg);
}

/* What to do while the CT is still frozen and its dump complete; then it
 * runs on (a snapshot's) or is killed (a live migration's). */
struct live_dump {
	nvz_cpt_post_dump_fn post_dump;
	void *arg;
	bool leave_running;
};

/* Freeze and dump (lazy_port > 0: without the memory, which the criu left
 * running in *lazy serves; see lib/cpt/lazy.c; live: the CT runs on). */
static int chkpnt_dump(struct nvz_ct *ct, const char *dumpfile, int lazy_port, pid_t *lazy,
		       int rounds, const struct live_dump *live, struct nvz_runstate *rs,
		       struct nvz_error **err)
{
	struct nvz_ct_state st;
	nvz_ct_get_state(ct, &st, NULL);
	if (!st.running || nvz_runstate_read(ct, rs) < 0)
		return nvz_err(err, NVZ_E_NOT_RUNNING, ESRCH, "Unable to setup checkpointing: container is not running");
	if (refuse_netdev(ct, err) < 0)
		return -1;
	cleanup_free char *dir = dump_dir(ct, dumpfile);
	cleanup_free char *freezer = freezer_dir(ct, lazy_port > 0 || nvz_ct_frozen(ct));
	cleanup_free char *ips = nvz_ct_live_ips(ct);
	cleanup_free char *cgroot = NULL;
	if (!dir || asprintf(&cgroot, "/%s/%s", nvz_ct_get(ct, "CGROUP_PREFIX", "nvz"), ct->id) < 0)
		return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	char prev[32] = "";
	if (rounds > 0)
		snprintf(prev, sizeof(prev), "pre/%d", rounds);
	cleanup_free char *last = NULL;
	if (rounds > 0 && (asprintf(&last, "%s/%s", dir, prev) < 0 || !nvz_path_exists(last)))
		return nvz_err(err, NVZ_E_CHKPNT, ENOENT, "Checkpointing failed: no pre-dump %s in %s",
			       prev, dir);
	if (rounds <= 0 && nvz_path_exists(dir))
		return nvz_err(err, NVZ_E_CHKPNT, EEXIST,
			       "Checkpointing failed: dump file %s already exists", dir);
	cleanup_free char *parent = strdup(dir);
	char *slash = parent ? strrchr(parent, '/') : NULL;
	if (slash && slash != parent) {
		*slash = '\0';
		if (nvz_mkdir_p(parent, 0700, err) < 0)
			return -1;
	}
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Setting up checkpoint...");
	nvz_log(ct->ctx, NVZ_LOG_INFO, "\tsuspend...");
	nvz_log(ct->ctx, NVZ_LOG_INFO, "\tdump...");
	cleanup_free char *live_conf = nvz_ct_live_text(ct), *netif = netif_now(ct);
	if (!netif)
		return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	struct nvz_cpt_dump_spec spec = {
		.live_conf = live_conf, .netif = netif, .uptime = nvz_ct_uptime(&st),
		.nesting = nvz_ct_nesting(ct),
		.criu = nvz_ct_criu_path(ct), .dir = dir, .root = ct->root, .init_pid = rs->init_pid,
		.freezer = freezer, .ips = ips, .cgroup_root = cgroot,
		.cgroup_version = nvz_ct_cgroup_version(ct),
		.isolated = !(ips && *ips) && !*netif,
		/* Post-copy: criu's page server must listen on the host's
		 * loopback, where ssh forwards to, not in the CT's netns. */
		.net_from_config = lazy_port <= 0 && net_from_config(ct, rs->init_pid, ips, netif),
		.lazy_port = lazy_port, .lazy_pid = lazy, .prev = rounds > 0 ? prev : NULL,
		.rundir = nvz_ctx_get(ct->ctx, "RUNDIR", "/run/nvz"),
		.leave_running = live && live->leave_running, .post_dump = live ? live->post_dump : NULL,
		.post_dump_arg = live ? live->arg : NULL,
	};
	if (nvz_cpt_dump(&spec, err) < 0)
		return nvz_err_wrap(err, "Checkpointing failed");
	return 0;
}

/* The tree is gone: the CT is stopped like after vzctl stop. */
static int ct_killed(struct nvz_ct *ct, const struct nvz_runstate *rs, struct nvz_error **err)
{
	cleanup_close int token = nvz_ct_monitor_token(ct);
	if (wait_gone(rs->init_pid, rs->init_start) < 0)
		return nvz_err(err, NVZ_E_CHKPNT, ETIMEDOUT,
			       "Checkpointing failed: init %d still runs after the dump", (int)rs->init_pid);
	/* The monitor sees init exit, waits for our lock, and finding no state
	 * leaves the rest to us, as with vzctl stop. */
	veth_host_gone(ct);
	if (nvz_ct_cleanup_stopped(ct, err) < 0)
		return -1;
	/* The old monitor exits once it sees the state gone; a restore right
	 * after us must not race it for the lock. */
	if (token >= 0 ? !nvz_ct_monitor_token_wait(token, 5000)
		       : wait_gone(rs->monitor_pid, rs->monitor_start) < 0)
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: monitor %d did not exit", (int)rs->monitor_pid);
	return 0;
}

/* criu killed the tree once the images (and, post-copy, the pages) were
 * all out: the CT is stopped and unmounted like after vzctl stop. */
static int chkpnt_stopped(struct nvz_ct *ct, const struct nvz_runstate *rs, struct nvz_error **err)
{
	nvz_log(ct->ctx, NVZ_LOG_INFO, "\tkill...");
	if (ct_killed(ct, rs, err) < 0)
		return -1;
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Checkpointing completed successfully");
	/* Then vzctl unmounted the CT, its umount scripts run; a failure there
	 * (a script's) is said, and the checkpoint stands: status 0. */
	struct nvz_error *e = NULL;
	if (nvz_ct_umount(ct, &e) < 0) {
		nvz_log(ct->ctx, NVZ_LOG_ERROR, "%s", e->msg);
		nvz_error_free(e);
		return 0;
	}
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Container is unmounted");
	return 0;
}

/* criu failed after it had killed the tree (after a migration's post-dump
 * hook had moved the CT elsewhere, say): the CT is stopped and unmounted
 * here all the same, or the copy here could neither start nor go. */
static void chkpnt_killed_anyway(struct nvz_ct *ct, const struct nvz_runstate *rs)
{
	struct nvz_error *e = NULL;
	if (rs->init_pid <= 0 || nvz_proc_alive(rs->init_pid, rs->init_start))
		return;
	nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: criu had killed the container before it failed: "
		"it is stopped");
	if (ct_killed(ct, rs, &e) < 0 || nvz_ct_umount(ct, &e) < 0) {
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: %s", e->msg);
		nvz_error_free(e);
	}
}

int nvz_ct_chkpnt(struct nvz_ct *ct, const char *dumpfile, struct nvz_error **err)
{
	struct nvz_runstate rs = { 0 };
	if (chkpnt_dump(ct, dumpfile, 0, NULL, 0, NULL, &rs, err) < 0) {
		chkpnt_killed_anyway(ct, &rs);
		return -1;
	}
	return chkpnt_stopped(ct, &rs, err);
}

int nvz_ct_chkpnt_live(struct nvz_ct *ct, const char *dir, nvz_ct_post_dump_fn post_dump, void *arg,
		       struct nvz_error **err)
{
	struct nvz_runstate rs;
	struct live_dump live = { post_dump, arg, true };
	if (chkpnt_dump(ct, dir, 0, NULL, 0, &live, &rs, err) < 0)
		return -1;
	nvz_log(ct->ctx, NVZ_LOG_INFO, "\tresume...");
	return 0;
}

static int chkpnt_rounds(struct nvz_ct *ct, const char *dumpfile, int rounds, const struct live_dump *hold,
			 struct nvz_error **err)
{
	struct nvz_runstate rs = { 0 };
	if (chkpnt_dump(ct, dumpfile, 0, NULL, rounds, hold, &rs, err) < 0) {
		/* A dump that failed took its directory with it; not always. */
		if (rounds > 0)
			nvz_ct_predump_drop(ct, dumpfile);
		chkpnt_killed_anyway(ct, &rs);
		return -1;
	}
	return chkpnt_stopped(ct, &rs, err);
}

int nvz_ct_chkpnt_after(struct nvz_ct *ct, const char *dumpfile, int rounds, struct nvz_error **err)
{
	return chkpnt_rounds(ct, dumpfile, rounds, NULL, err);
}

int nvz_ct_chkpnt_hold(struct nvz_ct *ct, int rounds, nvz_ct_post_dump_fn post_dump, void *arg,
		       struct nvz_error **err)
{
	struct live_dump hold = { post_dump, arg, false };
	return chkpnt_rounds(ct, NULL, rounds, &hold, err);
}

/* Round n's images are DIR/pre/<n>, each round's parent the one before
 * (criu's "parent" link, relative, so that the tree can be copied whole to
 * another server and restored there). */
int nvz_ct_predump(struct nvz_ct *ct, const char *dumpfile, int round, unsigned long long *bytes,
		   struct nvz_error **err)
{
	struct nvz_runstate rs;
	struct nvz_ct_state st;
	nvz_ct_get_state(ct, &st, NULL);
	if (!st.running || nvz_runstate_read(ct, &rs) < 0)
		return nvz_err(err, NVZ_E_NOT_RUNNING, ESRCH, "Unable to pre-dump: container is not running");
	if (refuse_netdev(ct, err) < 0)
		return -1;
	cleanup_free char *dir = dump_dir(ct, dumpfile);
	cleanup_free char *pre = NULL, *rd = NULL, *failed = NULL;
	cleanup_free char *freezer = freezer_dir(ct, nvz_ct_frozen(ct));
	if (!dir || asprintf(&pre, "%s/pre", dir) < 0 || asprintf(&rd, "%s/%d", pre, round) < 0 ||
	    asprintf(&failed, "%s.predump.failed.log", dir) < 0)
		return nvz_err(err, NVZ_E_CHKPNT, ENOMEM, "out of memory");
	if (round == 1) {
		if (nvz_path_exists(dir))
			return nvz_err(err, NVZ_E_CHKPNT, EEXIST, "dump file %s already exists", dir);
		/* DUMPDIR and the dump's own directory come with it. */
		if (nvz_mkdir_p(pre, 0700, err) < 0)
			return -1;
	}
	char prev[32];
	snprintf(prev, sizeof(prev), "../%d", round - 1);
	struct nvz_cpt_predump_spec spec = {
		.criu = nvz_ct_criu_path(ct), .dir = rd, .prev = round > 1 ? prev : NULL, .root = ct->root,
		.freezer = freezer, .init_pid = rs.init_pid, .failed_log = failed,
	};
	if (nvz_cpt_predump(&spec, err) < 0) {
		nvz_rm_rf(dir, NULL); /* the earlier rounds are no use without this one */
		return -1;
	}
	*bytes = nvz_cpt_dump_pages(rd);
	return 0;
}

void nvz_ct_predump_drop(const struct nvz_ct *ct, const char *dumpfile)
{
	cleanup_free char *dir = dump_dir(ct, dumpfile);
	if (dir)
		nvz_rm_rf(dir, NULL);
}

int nvz_ct_chkpnt_lazy(struct nvz_ct *ct, int port, struct nvz_ct_lazy *l, struct nvz_error **err)
{
	struct nvz_runstate rs;
	*l = (struct nvz_ct_lazy){ .criu = -1 };
	if (chkpnt_dump(ct, NULL, port, &l->criu, 0, NULL, &rs, err) < 0)
		return -1;
	l->init_pid = rs.init_pid;
	l->init_start = rs.init_start;
	l->monitor_pid = rs.monitor_pid;
	l->monitor_start = rs.monitor_start;
	return 0;
}

int nvz_ct_chkpnt_lazy_end(struct nvz_ct *ct, struct nvz_ct_lazy *l, struct nvz_error **err)
{
	int status = 0;
	while (waitpid(l->criu, &status, 0) < 0 && errno == EINTR)
		;
	l->criu = -1;
	if (status != 0) {
		cleanup_free char *dir = nvz_ct_dump_path(ct);
		return nvz_err(err, NVZ_E_CHKPNT, EIO,
			       "criu's page server failed (status %d, log: %s/dump.log)",
			       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
			       dir ? dir : "DUMPDIR");
	}
	struct nvz_runstate rs = { .init_pid = l->init_pid, .init_start = l->init_start,
				   .monitor_pid = l->monitor_pid, .monitor_start = l->monitor_start };
	return chkpnt_stopped(ct, &rs, err);
}

bool nvz_ct_chkpnt_lazy_abort(struct nvz_ct *ct, struct nvz_ct_lazy *l)
{
	/* criu waits in accept() for the lazy-pages daemon, or serves it:
	 * killed, it leaves the tree running where it stood (ptrace lets go
	 * of the tasks, its parasite code was already gone from them). The
	 * freezer holds them first: a task woken while its socket is still in
	 * repair mode would read EPERM from it. */
	if (l->criu > 0)
		nvz_ct_lazy_hold(ct);
	if (l->criu > 0) {
		kill(l->criu, SIGKILL);
		while (waitpid(l->criu, NULL, 0) < 0 && errno == EINTR)
			;
		l->criu = -1;
	}
	cleanup_free char *dir = nvz_ct_dump_path(ct);
	if (dir)
		nvz_rm_rf(dir, NULL);
	if (!nvz_proc_alive(l->init_pid, l->init_start)) {
		/* criu had killed it: stopped here as after a chkpnt. */
		struct nvz_runstate rs = { .init_pid = l->init_pid, .init_start = l->init_start,
					   .monitor_pid = l->monitor_pid, .monitor_start = l->monitor_start };
		chkpnt_stopped(ct, &rs, NULL);
		return false;
	}
	nvz_ct_lazy_unlock(ct, l->init_pid);
	return true;
}

int nvz_ct_suspend(struct nvz_ct *ct, bool frozen, struct nvz_error **err)
{
	struct nvz_ct_state st;
	nvz_ct_get_state(ct, &st, NULL);
	if (!st.running)
		return nvz_err(err, NVZ_E_NOT_RUNNING, ESRCH, "%s",
			       frozen ? "Unable to setup checkpointing: container is not running"
				      : "Container is not running");
	if (frozen) {
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Setting up checkpoint...");
		nvz_log(ct->ctx, NVZ_LOG_INFO, "\tsuspend...");
	} else {
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Resuming...");
	}
	struct nvz_cgroup *cg = NULL;
	int r = nvz_ct_cgroup(ct, &cg, err) < 0 ? -1 : nvz_cgroup_freeze(cg, frozen, err);
	nvz_cgroup_free(cg);
	if (r < 0) {
		if (*err)
			(*err)->status = NVZ_E_CHKPNT;
		return nvz_err_wrap(err, frozen ? "Checkpointing failed" : "Can not resume container");
	}
	if (frozen)
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Checkpointing completed successfully");
	return 0;
}

int nvz_ct_restore(struct nvz_ct *ct, const char *dumpfile, struct nvz_error **err)
{
	return nvz_ct_restore_opts(ct, &(struct nvz_restore_opts){ .dumpfile = dumpfile }, err);
}

/* The restore proper; with a local post-copy daemon (l->daemon > 0), it
 * returns once the CT runs, its memory still coming in. */
static int restore_run(struct nvz_ct *ct, const char *dir, struct nvz_ct_lazy_local *l,
		       struct nvz_error **err)
{
	struct nvz_start_opts o = { .dumpdir = dir };
	int r = nvz_ct_start_locked(ct, &o, err);
	nvz_ct_lazy_local_restored(ct, l);
	/* A dump of a suspended CT carries the freezer's state, which criu
	 * sets again: a restored CT runs, as in OpenVZ. */
	if (r == 0)
		nvz_ct_thaw(ct);
	if (r < 0) {
		/* The dump stays: nothing was served from it to a running CT. */
		nvz_ct_lazy_local_stop(ct, l);
		/* A mount script's failure is its own (79), as in vzctl. */
		if (*err && (*err)->status == NVZ_E_ACTIONSCRIPT)
			return -1;
		if (*err && (*err)->status != NVZ_E_RESTORE)
			(*err)->status = NVZ_E_RESTORE;
		return nvz_err_wrap(err, "Restore error");
	}
	return 0;
}

int nvz_ct_restore_opts(struct nvz_ct *ct, const struct nvz_restore_opts *opts,
			struct nvz_error **err)
{
	cleanup_free char *dir = dump_dir(ct, opts->dumpfile);
	if (!dir)
		return nvz_err(err, NVZ_E_RESTORE, ENOMEM, "out of memory");
	struct nvz_ct_state st;
	nvz_ct_get_state(ct, &st, NULL);
	if (st.running)
		return nvz_err(err, NVZ_E_RUNNING, EBUSY, "Unable to perform restore: container already running");
	/* vzctl said this line, then opened the dump. */
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Restoring container ...");
	struct stat sb;
	if (lstat(dir, &sb) < 0)
		return nvz_err_sys(err, NVZ_E_RESTORE, errno, "Unable to open %s", dir);
	if (nvz_cpt_dump_check(dir, nvz_ct_cgroup_version(ct), err) < 0)
		return nvz_err_wrap(err, "Restore error");
	struct nvz_ct_lazy_local l = { .daemon = -1, .watcher = -1 };
	if (nvz_ct_lazy_wanted(ct, dir, opts->lazy) && nvz_ct_lazy_local_start(ct, dir, &l, err) < 0)
		return nvz_err_wrap(err, "Restore error");
	if (restore_run(ct, dir, &l, err) < 0)
		return -1;
	nvz_log(ct->ctx, NVZ_LOG_INFO, "\tresume...");
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Container start in progress...");
	if (l.daemon > 0 && nvz_ct_lazy_local_wait(ct, dir, &l, err) < 0)
		return -1;
	/* As OpenVZ: a dump that was restored is gone (it would restore an
	 * older state at the next start). With post-copy, only once every
	 * page was read from it. */
	if (!opts->keep_dump)
		nvz_rm_rf(dir, NULL);
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Restoring completed successfully");
	return 0;
}
