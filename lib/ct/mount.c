/* mount, umount, stop: the CT's private area and the end of its life. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ct/hub.h"
#include "ct/internal.h"
#include "ct/state.h"
#include "nvz/cleanup.h"
#include "nvz/fs.h"
#include "nvz/storage.h"
#include "storage/layouts.h"
#include "storage/overlay.h"

static int ct_layout(const struct nvz_ct *ct, const struct nvz_layout **l, struct nvz_error **err)
{
	return nvz_layout_get(nvz_ct_get(ct, "VE_LAYOUT", "simfs"), l, err);
}

int nvz_ct_disk(const struct nvz_ct *ct, const char *private, struct nvz_disk *d,
		struct nvz_error **err)
{
	*d = (struct nvz_disk){ .private = private ? private : ct->private, .root = ct->root,
				.mount_opts = nvz_ct_get(ct, "MOUNT_OPTS", NULL) };
	const char *tree = nvz_ct_get(ct, "TEMPLATE_TREE", NULL);
	const char *tmpl = nvz_ct_get(ct, "TEMPLATE", NULL);
	if (tree && *tree && tmpl) {
		if (strchr(tree, '/') || !strcmp(tree, "..") ||
		    snprintf(d->template_path, sizeof(d->template_path), "%s/shared/%s", tmpl, tree) >=
			    (int)sizeof(d->template_path))
			return nvz_err(err, NVZ_E_INVALID_CONFIG, EINVAL, "bad TEMPLATE_TREE '%s'", tree);
		d->template_tree = d->template_path;
	}
	return nvz_disk_limits_parse(nvz_ct_get(ct, "DISKSPACE", NULL),
				     nvz_ct_get(ct, "DISKINODES", NULL),
				     nvz_ct_get(ct, "QUOTATIME", NULL), &d->limits, err);
}

/* A CT on a shared template: its own layer (directory or image) is mounted
 * at RUNDIR/<id>/layer, the overlay of template + layer at VE_ROOT. */
char *nvz_ct_layer_dir(const struct nvz_ct *ct)
{
	char *s = NULL;
	if (asprintf(&s, "%s/layer", ct->rundir) < 0)
		return NULL;
	return s;
}

static int mount_shared(struct nvz_ct *ct, const struct nvz_layout *l, struct nvz_disk *d,
			struct nvz_error **err)
{
	if (!nvz_path_exists(d->template_tree))
		return nvz_err(err, NVZ_E_OSTEMPLATE_NOT_FOUND, ENOENT,
			       "shared template %s is missing", d->template_tree);
	cleanup_free char *layer = nvz_ct_layer_dir(ct);
	if (!layer || nvz_mkdir_p(layer, 0700, err) < 0)
		return layer ? -1 : nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	struct nvz_disk own = *d;
	own.root = layer;
	own.template_tree = NULL;
	if (!nvz_is_mountpoint(layer) && l->mount(&own, err) < 0)
		return -1;
	if (nvz_overlay_mount(d->template_tree, layer, ct->root, err) < 0) {
		l->umount(&own, NULL);
		return -1;
	}
	return 0;
}

static int umount_layers(struct nvz_ct *ct, struct nvz_error **err);

int nvz_ct_mount(struct nvz_ct *ct, bool quiet_if_mounted, struct nvz_error **err)
{
	(void)quiet_if_mounted;
	if (nvz_is_mountpoint(ct->root)) {
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Container is already mounted");
		return 0;
	}
	if (!nvz_path_exists(ct->private))
		return nvz_err(err, NVZ_E_NOPRIVATE, ENOENT, "Container private area %s does not exist",
			       ct->private);
	const struct nvz_layout *l;
	struct nvz_disk d;
	if (ct_layout(ct, &l, err) < 0 || nvz_ct_disk(ct, NULL, &d, err) < 0 ||
	    nvz_ct_action_script(ct, "premount", err) < 0)
		return -1;
	if (d.template_tree ? mount_shared(ct, l, &d, err) < 0 : l->mount(&d, err) < 0)
		return -1;
	/* A mount script that failed may have mounted part of what it does. */
	if (nvz_ct_action_script(ct, "mount", err) < 0) {
		nvz_detach_mounts_below(ct->root);
		umount_layers(ct, NULL);
		return -1;
	}
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Container is mounted");
	return 0;
}

int nvz_ct_umount(struct nvz_ct *ct, struct nvz_error **err)
{
	bool mounted = nvz_is_mountpoint(ct->root);
	if (mounted && nvz_ct_action_script(ct, "umount", err) < 0)
		return -1;
	/* What a mount script put below VE_ROOT and no umount script took
	 * away would keep the CT's file system busy. */
	if (mounted)
		nvz_detach_mounts_below(ct->root);
	if (umount_layers(ct, err) < 0)
		return -1;
	return mounted ? nvz_ct_action_script(ct, "postumount", err) : 0;
}

static int umount_layers(struct nvz_ct *ct, struct nvz_error **err)
{
	const struct nvz_layout *l;
	struct nvz_disk d;
	/* A bad DISKSPACE must not keep a CT from being unmounted: paths only. */
	nvz_ct_disk(ct, NULL, &d, NULL);
	if (ct_layout(ct, &l, err) < 0)
		return -1;
	if (!d.template_tree)
		return l->umount(&d, err);
	cleanup_free char *layer = nvz_ct_layer_dir(ct);
	if (!layer)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
	/* The overlay first, then the CT's own layer under it. */
	if (nvz_overlay_umount(layer, ct->root, err) < 0)
		return -1;
	d.root = layer;
	if (nvz_is_mountpoint(layer) && l->umount(&d, err) < 0)
		return -1;
	rmdir(layer);
	return 0;
}

int nvz_ct_cleanup_stopped(struct nvz_ct *ct, struct nvz_error **err)
{
	struct nvz_cgroup *cg = NULL;
	int r = nvz_ct_cgroup(ct, &cg, err);
	if (r == 0) {
		/* Anything left (a process that escaped the dying pid namespace
		 * cannot exist, but exec'd helpers may linger) goes now. */
		nvz_cgroup_kill(cg, NULL);
		r = nvz_cgroup_destroy(cg, err);
	}
	nvz_cgroup_free(cg);
	nvz_venet_stop(ct);
	nvz_runstate_remove(ct);
	return r;
}

static int wait_exit(int pidfd, int timeout_ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int r;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : -1;
}

/* The signal each init takes as "power off": busybox SIGUSR2, systemd
 * SIGRTMIN+4; sysvinit has none, so `halt` is run inside (as OpenVZ did). */
static int halt_signal(const struct nvz_ct *ct)
{
	cleanup_close int rootfd = open(ct->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char target[PATH_MAX] = "";
	for (int hops = 0; rootfd >= 0 && hops < 8; hops++) {
		cleanup_close int fd = nvz_open_in_root(rootfd, hops ? target : "/sbin/init",
							O_PATH | O_NOFOLLOW, 0);
		char next[PATH_MAX];
		ssize_t n = fd < 0 ? -1 : readlinkat(fd, "", next, sizeof(next) - 1);
		if (n < 0)
			break;
		next[n] = '\0';
		if (next[0] != '/') {
			/* Relative link: resolve against the directory of the current one. */
			char base[PATH_MAX];
			snprintf(base, sizeof(base), "%s", hops ? target : "/sbin/init");
			char *slash = strrchr(base, '/');
			if (slash)
				*slash = '\0';
			if (snprintf(target, sizeof(target), "%.2000s/%.2000s", base, next) < 0)
				break;
		} else {
			snprintf(target, sizeof(target), "%s", next);
		}
	}
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strstr(base, "busybox"))
		return SIGUSR2;
	if (strstr(base, "systemd"))
		return SIGRTMIN + 4;
	return 0;
}

static int request_halt(struct nvz_ct *ct, int pidfd, struct nvz_error **err)
{
	int sig = halt_signal(ct);
	if (sig)
		return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0
			       ? nvz_err_sys(err, NVZ_E_STOP, errno, "signal init")
			       : 0;
	char *const argv[] = { "halt", NULL };
	struct nvz_exec_opts o = { .argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1 };
	return nvz_ct_exec(ct, &o, err) < 0 ? -1 : 0;
}

/* Ask init to power off and give it STOP_TIMEOUT seconds. */
static int clean_halt(struct nvz_ct *ct, int pidfd)
{
	int timeout = atoi(nvz_ct_get(ct, "STOP_TIMEOUT", "120"));
	if (timeout <= 0)
		timeout = 120;
	struct nvz_error *herr = NULL;
	if (request_halt(ct, pidfd, &herr) < 0) {
		nvz_log(ct->ctx, NVZ_LOG_VERBOSE, "clean halt failed: %s", herr->msg);
		nvz_error_free(herr);
		return -1;
	}
	return wait_exit(pidfd, timeout * 1000);
}

/* The CT's monitor, pinned by a pidfd (-1 if none is alive). */
static int monitor_pidfd(struct nvz_ct *ct)
{
	struct nvz_runstate rs;
	if (nvz_runstate_read(ct, &rs) < 0 || !nvz_proc_alive(rs.monitor_pid, rs.monitor_start))
		return -1;
	int fd = (int)syscall(SYS_pidfd_open, rs.monitor_pid, 0);
	if (fd >= 0 && !nvz_proc_alive(rs.monitor_pid, rs.monitor_start)) {
		close(fd);
		return -1;
	}
	return fd;
}

int nvz_ct_stop(struct nvz_ct *ct, const struct nvz_stop_opts *o, struct nvz_error **err)
{
	pid_t pid;
	cleanup_close int pidfd = nvz_ct_init_pidfd(ct, &pid);
	if (pidfd < 0) {
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Unable to stop: container is not running");
		return 0;
	}
	/* chkpnt --kill says only "Killing...", as vzctl's. */
	int level = o && o->quiet ? NVZ_LOG_DEBUG : NVZ_LOG_INFO;
	nvz_log(ct->ctx, level, "Stopping container ...");
	/* A frozen CT (vzctl chkpnt --suspend, a checkpoint or snapshot cut
	 * short) would neither run its stop script nor halt, and on cgroup v1
	 * not even die of SIGKILL: thawed first. */
	nvz_ct_thaw(ct);
	/* OpenVZ's CTID.stop, inside; a failure does not keep the CT up. */
	struct nvz_error *serr = NULL;
	if (!(o && o->fast) && nvz_ct_inside_script(ct, "stop", &serr) < 0)
		nvz_log(ct->ctx, NVZ_LOG_WARN, "Warning: %s", serr->msg);
	nvz_error_free(serr);
	/* What to wait for once init is gone: the hub's lock on the CT, or
	 * its own monitor's exit. */
	cleanup_close int token = nvz_ct_monitor_token(ct);
	cleanup_close int monfd = token < 0 ? monitor_pidfd(ct) : -1;
	/* NETDEV devices go back to the host once init is gone. */
	cleanup_close int netdev_ns = nvz_netdev_hold(ct, pid);
	bool halted = !(o && o->fast) && clean_halt(ct, pidfd) == 0;
	if (!halted) {
		nvz_log(ct->ctx, level, "Killing container ...");
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		if (wait_exit(pidfd, 10000) < 0)
			return nvz_err(err, NVZ_E_STOP, ETIMEDOUT,
				       "Unable to stop container: operation timed out");
	}
	nvz_netdev_return(ct, netdev_ns);
	if (nvz_ct_cleanup_stopped(ct, err) < 0)
		return -1;
	/* The monitor goes once it sees the state file gone (it never waits
	 * for our lock then): wait, so the next command finds the CT free. */
	if (token >= 0)
		nvz_ct_monitor_token_wait(token, 5000);
	else if (monfd >= 0)
		wait_exit(monfd, 5000);
	nvz_log(ct->ctx, level, "Container was stopped");
	if (o && o->skip_umount)
		return 0;
	if (nvz_ct_umount(ct, err) < 0)
		return -1;
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Container is unmounted");
	return 0;
}

bool nvz_ct_simfs_quota_off(const struct nvz_ct *ct, const struct nvz_conf *changes)
{
	const char *layout = nvz_ct_get_pending(ct, changes, "VE_LAYOUT") ?: "simfs";
	return !strncmp(layout, "simfs", 5) && (!layout[5] || layout[5] == ':') &&
	       !strcasecmp(nvz_ct_get_pending(ct, changes, "DISK_QUOTA") ?: "yes", "no");
}

int nvz_ct_set_disk(struct nvz_ct *ct, const struct nvz_conf *changes, struct nvz_error **err)
{
	const struct nvz_layout *l;
	struct nvz_disk d;
	if (ct_layout(ct, &l, err) < 0 || nvz_ct_disk(ct, NULL, &d, err) < 0)
		return -1;
	/* DISK_QUOTA alone changes nothing but simfs's project limits. */
	bool limits_given = !changes || nvz_conf_get(changes, "DISKSPACE") ||
			    nvz_conf_get(changes, "DISKINODES") || nvz_conf_get(changes, "QUOTATIME");
	if (!limits_given && strcmp(l->name, "simfs"))
		return 0;
	if (nvz_disk_limits_parse(nvz_ct_get_pending(ct, changes, "DISKSPACE"),
				  nvz_ct_get_pending(ct, changes, "DISKINODES"),
				  nvz_ct_get_pending(ct, changes, "QUOTATIME"), &d.limits, err) < 0)
		return -1;
	/* DISK_QUOTA=no: OpenVZ then ran no vzquota for the CT, so it had no
	 * limits; the ones the project has are taken off, DISKSPACE stays saved. */
	if (nvz_ct_simfs_quota_off(ct, changes)) {
		if (d.limits.space_hard_kb || d.limits.inodes_hard)
			nvz_log(ct->ctx, NVZ_LOG_INFO,
				"Disk quota is not enabled (DISK_QUOTA=no): disk limits are not applied");
		d.limits = (struct nvz_disk_limits){ 0 };
	}
	bool mounted = nvz_is_mountpoint(ct->root);
	cleanup_free char *layer = NULL;
	if (mounted && d.template_tree) {
		/* The limits belong to the CT's own layer, mounted under the overlay. */
		if (!(layer = nvz_ct_layer_dir(ct)))
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		d.root = layer;
	}
	return l->set_limits(&d, mounted, err);
}

int nvz_ct_disk_usage(struct nvz_ct *ct, bool walk, struct nvz_disk_usage *u,
		      struct nvz_error **err)
{
	const struct nvz_layout *l;
	struct nvz_disk d;
	if (ct_layout(ct, &l, err) < 0 || nvz_ct_disk(ct, NULL, &d, err) < 0)
		return -1;
	/* On a shared template: the CT's own layer, mounted under the overlay. */
	cleanup_free char *layer = NULL;
	if (d.template_tree && nvz_is_mountpoint(ct->root)) {
		if (!(layer = nvz_ct_layer_dir(ct)))
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		d.root = layer;
	}
	return l->usage(&d, walk, u, err);
}

int nvz_ct_compact(struct nvz_ct *ct, struct nvz_error **err)
{
	const struct nvz_layout *l;
	struct nvz_disk d;
	if (ct_layout(ct, &l, err) < 0 || nvz_ct_disk(ct, NULL, &d, err) < 0)
		return -1;
	if (!nvz_path_exists(ct->private))
		return nvz_err(err, NVZ_E_NOPRIVATE, ENOENT, "Container private area %s does not exist",
			       ct->private);
	/* vzctl: a note, no failure (a script compacting every CT). */
	if (l != &nvz_layout_ploop) {
		nvz_log(ct->ctx, NVZ_LOG_INFO, "Compact only makes sense for ploop containers");
		return 0;
	}
	cleanup_free char *layer = NULL;
	if (d.template_tree && nvz_is_mountpoint(ct->root)) {
		if (!(layer = nvz_ct_layer_dir(ct)))
			return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "out of memory");
		d.root = layer;
	}
	uint64_t before = 0, after = 0;
	if (nvz_ploop_compact(&d, &before, &after, err) < 0)
		return -1;
	nvz_log(ct->ctx, NVZ_LOG_INFO, "Compacted %s: %llu KiB -> %llu KiB on disk", d.private,
		(unsigned long long)before, (unsigned long long)after);
	return 0;
}
