/* The monitor's half of a restore (vzctl's is in cpt.c): the network
 * namespace with the CT's interfaces and the host-side mounts criu binds,
 * made while vzctl mounts the root and writes the limits; then criu, while
 * the monitor answers the beancounter file's FUSE requests; then the
 * restored init handed to the monitor, its network made again on the host. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "cpt/taskfd.h"
#include "cpt/tmpfs.h"
#include "ct/bcfs.h"
#include "ct/internal.h"
#include "ct/state.h"
#include "linux/lxcfs.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/net.h"
#include "nvz/netif.h"

/* criu --veth-pair values: venet0 (routed) and each NETIF interface. */
static char **veth_pairs(const struct nvz_ct *ct, const char *ips, const char *netif)
{
	struct nvz_netifs all = { 0 };
	if (netif && *netif && nvz_ct_netifs(ct, netif, &all, NULL) < 0)
		all.n = 0;
	char **v = calloc(all.n + 2, sizeof(*v));
	size_t n = 0;
	char buf[2 * 16 + 2];
	if (v && ips && *ips && nvz_venet_pair(ct, buf, sizeof(buf)) == 0)
		v[n++] = strdup(buf);
	for (size_t i = 0; v && i < all.n; i++)
		if (asprintf(&v[n], "%s=%s", all.v[i].ifname, all.v[i].host_ifname) >= 0)
			n++;
	return v;
}

/* Run criu while answering the beancounter file's FUSE requests: criu
 * bind-mounts that file, and the monitor is its only server. */
static int wait_criu(pid_t pid, int sigfd, struct nvz_bcfs *bc, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		struct pollfd p[2] = {
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = bc ? nvz_bcfs_fd(bc) : -1, .events = POLLIN },
		};
		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			return -1;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) < 0 && errno != EAGAIN)
				return -1;
		}
		if ((p[1].revents & POLLIN) && nvz_bcfs_process(bc) < 0)
			bc = NULL;
	}
}

static int after_restore(struct nvz_ct *ct, pid_t pid, const char *ips, const char *netif,
			 double uptime, struct nvz_error **err)
{
	/* With criu gone, init was handed to us (the subreaper). The host side of
 * the network is made again and announced (routed: proxy ARP/NDP and
 * gratuitous ARP from the server, as at start; bridged: from the CT). */
	if (waitpid(pid, NULL, WNOHANG | __WALL) != 0)
		return nvz_err(err, NVZ_E_RESTORE, ECHILD, "restored init %d is not the monitor's child",
			       (int)pid);
	if (nvz_ct_uptime_restored(ct, uptime, err) < 0 || nvz_monitor_record(ct, pid, err) < 0 ||
	    nvz_venet_restored(ct, ips, err) < 0 ||
	    nvz_veth_restored(ct, pid, netif, err) < 0)
		return -1;
	return 0;
}

/* A new network namespace as an fd (the monitor stays in its own): criu
 * runs in it and restores the sockets there (a dump made with criu inside
 * the CT's netns, lib/cpt/criu.c ct_netns). Once the fd is closed with no
 * process inside, the namespace and the pairs in it are gone. */
static int new_netns(struct nvz_error **err)
{
	cleanup_close int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return nvz_err_sys(err, NVZ_E_RESTORE, errno, "open /proc/self/ns/net");
	if (unshare(CLONE_NEWNET) < 0)
		return nvz_err_sys(err, NVZ_E_RESTORE, errno, "new network namespace");
	int ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int saved = errno;
	if (setns(self, CLONE_NEWNET) < 0)
		/* The monitor cannot go on in the CT's namespace. */
		_exit(1);
	if (ns < 0)
		return nvz_err_sys(err, NVZ_E_RESTORE, saved, "open the new network namespace");
	return ns;
}

/* lo up and the CT's venet0 and NETIF pairs configured as at start. */
static int setup_netns(struct nvz_ct *ct, int ns, const char *ips, const char *netif,
		       struct nvz_error **err)
{
	if (nvz_link_set_up(ns, "lo", true, err) < 0 || nvz_venet_prepare(ct, ns, ips, err) < 0 ||
	    nvz_veth_prepare(ct, ns, netif, err) < 0)
		return -1;
	return 0;
}

/* A restore in two halves: what criu needs besides the root and the limits
 * (the netns with the CT's interfaces, the host-side mounts it binds) is
 * made while vzctl mounts the root and writes the limits. */
struct nvz_ct_restore {
	struct nvz_cpt_restore_spec spec;
	char *dumpdir, *console, *cgroot, *bcfile, *empty, *cgfs, *tmpfs, *ips, *netif, *criu_run;
	char **pairs;
	int netns;
	struct nvz_error *err; /* what begin met, reported by nvz_ct_restore_init */
};

static void restore_free(struct nvz_ct_restore *r)
{
	if (r->netns >= 0)
		close(r->netns);
	if (r->cgfs)
		nvz_cpt_cgfs_release(r->cgfs);
	if (r->tmpfs)
		nvz_cpt_tmpfs_release(r->tmpfs);
	char **strs[] = { &r->dumpdir, &r->console, &r->cgroot, &r->bcfile, &r->empty, &r->cgfs,
			  &r->tmpfs, &r->ips, &r->netif, &r->criu_run };
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]);
	nvz_strv_free(r->pairs);
	nvz_error_free(r->err);
	free(r);
}

static int restore_paths(struct nvz_ct *ct, struct nvz_ct_restore *r, bool bc)
{
	/* The interfaces the CT had when dumped, as the images hold them. */
	if (!(r->netif = nvz_cpt_dump_netif(r->dumpdir)))
		r->netif = strdup(nvz_ct_get(ct, "NETIF", ""));
	r->pairs = r->netif ? veth_pairs(ct, r->ips, r->netif) : NULL;
	if (asprintf(&r->cgroot, "/%s/%s", nvz_ct_get(ct, "CGROUP_PREFIX", "nvz"), ct->id) < 0 ||
	    (bc && asprintf(&r->bcfile, "%s/bc", ct->rundir) < 0) || !r->pairs ||
	    asprintf(&r->empty, "%s/empty", ct->rundir) < 0 ||
	    asprintf(&r->cgfs, "%s/cgfs", ct->rundir) < 0 ||
	    asprintf(&r->tmpfs, "%s/tmpfs", ct->rundir) < 0)
		return nvz_err(&r->err, NVZ_E_RESTORE, ENOMEM, "out of memory");
	return 0;
}

static int restore_start(struct nvz_ct *ct, struct nvz_ct_restore *r, int tty_fd)
{
	if (nvz_mkdir_p(ct->rundir, 0700, &r->err) < 0)
		return -1;
	if (mkdir(r->empty, 0555) < 0 && errno != EEXIST)
		return nvz_err_sys(&r->err, NVZ_E_RESTORE, errno, "mkdir '%s'", r->empty);
	/* criu restores detached: the tree's root is reparented to us. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return nvz_err_sys(&r->err, NVZ_E_RESTORE, errno, "become a subreaper");
	/* A dump made by an nvz without the exe mend (one suspended here
	 * before an upgrade, or a migration's source not yet upgraded) comes
	 * back too. Idempotent, and only files.img read where nothing needs
	 * it; a dump it cannot mend fails in criu, which says why. */
	nvz_cpt_exe_fix(r->dumpdir, NULL);
	bool own_net = nvz_cpt_dump_own_net(r->dumpdir);
	if (own_net && ((r->netns = new_netns(&r->err)) < 0 ||
			setup_netns(ct, r->netns, r->ips, r->netif, &r->err) < 0))
		return -1;
	r->criu_run = nvz_ct_criu_run(ct);
	r->spec = (struct nvz_cpt_restore_spec){
		.criu = nvz_ct_criu_path(ct), .dir = r->dumpdir, .workdir = ct->rundir, .root = ct->root,
		.tty_fd = tty_fd, .console = r->console, .bcfs_file = r->bcfile,
		.lxcfs_dir = nvz_ct_get(ct, "LXCFS_DIR", NVZ_LXCFS_DIR_DEFAULT), .empty_dir = r->empty,
		.cgfs_dir = r->cgfs, .tmpfs_dir = r->tmpfs, .cgroup_root = r->cgroot,
		.veth_pairs = r->pairs, .netns_fd = r->netns, .lazy = ct->lazy_ready_fd > 0,
		.criu_run = r->criu_run, .rundir = nvz_ctx_get(ct->ctx, "RUNDIR", "/run/nvz"),
	};
	return nvz_cpt_restore_mounts(&r->spec, &r->err);
}

struct nvz_ct_restore *nvz_ct_restore_begin(struct nvz_ct *ct, const char *dumpdir,
					    const char *console, int tty_fd, bool bc)
{
	struct nvz_ct_restore *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->netns = -1;
	r->dumpdir = strdup(dumpdir);
	r->console = strdup(console);
	if (!r->dumpdir || !r->console)
		nvz_err(&r->err, NVZ_E_RESTORE, ENOMEM, "out of memory");
	else
		r->ips = nvz_cpt_dump_ips(dumpdir);
	if (!r->err && restore_paths(ct, r, bc) == 0)
		restore_start(ct, r, tty_fd);
	return r;
}

void nvz_ct_restore_cancel(struct nvz_ct_restore *r)
{
	if (r)
		restore_free(r);
}

pid_t nvz_ct_restore_init(struct nvz_ct *ct, struct nvz_ct_restore *r, int sigfd,
			  struct nvz_bcfs *bc, char *warning, size_t warning_len,
			  struct nvz_error **err)
{
	if (!r)
		return nvz_err(err, NVZ_E_RESTORE, ENOMEM, "out of memory");
	if (r->err) {
		*err = steal_ptr(&r->err);
		restore_free(r);
		return -1;
	}
	/* Root mounted, limits written: criu now. With post-copy it does not
	 * wait for the lazy-pages daemon vzctl started: both spend their first
	 * tens of ms probing the kernel, in parallel; criu restore connects to
	 * the daemon only after its probe and image reading, and if the daemon
	 * was later still (a loaded host), criu failed before it restored
	 * anything and runs again once the daemon listens. */
	int status = 0;
	pid_t criu = nvz_cpt_restore_spawn(&r->spec, err);
	int waited = criu < 0 ? 0 : wait_criu(criu, sigfd, bc, &status);
	if (criu > 0 && waited == 0 && status != 0 && nvz_cpt_restore_met_no_daemon(&r->spec)) {
		nvz_log(ct->ctx, NVZ_LOG_VERBOSE, "criu restore came before criu lazy-pages: again");
		criu = -1;
		if (nvz_cpt_wait_ready(ct->lazy_ready_fd) < 0)
			nvz_err(err, NVZ_E_RESTORE, EIO,
				"criu lazy-pages did not start (log: %s/lazy-pages.log)", ct->rundir);
		else
			criu = nvz_cpt_restore_spawn(&r->spec, err);
		waited = criu < 0 ? 0 : wait_criu(criu, sigfd, bc, &status);
	}
	/* The CT's processes hold what it still needs of these. */
	close(steal_fd(&r->netns));
	nvz_cpt_cgfs_release(r->cgfs);
	nvz_cpt_tmpfs_release(r->tmpfs);
	free(steal_ptr(&r->cgfs));
	free(steal_ptr(&r->tmpfs));
	if (criu < 0 || waited < 0) {
		if (waited < 0) {
			nvz_err_sys(err, NVZ_E_RESTORE, errno, "wait for criu");
			kill(criu, SIGKILL);
			waitpid(criu, NULL, 0);
		}
		restore_free(r);
		return -1;
	}
	pid_t pid = nvz_cpt_restore_finish(&r->spec, status, err);
	cleanup_free char *cgnote = pid > 0 ? nvz_cpt_cgprops_failure(r->spec.workdir) : NULL;
	/* The monitor passes it on to vzctl, which says it. */
	if (cgnote)
		snprintf(warning, warning_len, "the CT's cgroups did not all come back: %s", cgnote);
	cleanup_free char *ips = steal_ptr(&r->ips), *netif = steal_ptr(&r->netif);
	double uptime = nvz_cpt_dump_uptime(r->dumpdir);
	int last_pid = nvz_cpt_dump_last_pid(r->dumpdir);
	restore_free(r);
	if (pid < 0)
		return -1;
	/* At once: a process the CT makes before this gets a low pid (it
	 * runs already: criu has no later hook that costs no exec). */
	if (nvz_cpt_last_pid_write(pid, last_pid) < 0)
		nvz_log(ct->ctx, NVZ_LOG_VERBOSE, "The CT's pid counter was not carried (%d): %s", last_pid,
			strerror(errno));
	/* First: until then its sd-event daemons spin (lib/cpt/psi.c). */
	char psi[384];
	if (nvz_cpt_psi_rearm(pid, psi, sizeof(psi)) > 0) {
		size_t used = strlen(warning);
		snprintf(warning + used, warning_len - used, "%sPSI triggers: %s", used ? "; " : "", psi);
	}
	if (after_restore(ct, pid, ips, netif, uptime, err) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, __WALL);
		nvz_venet_stop(ct);
		nvz_runstate_remove(ct);
		return -1;
	}
	return pid;
}
