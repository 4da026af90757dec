/* Reading a dump nvz made, and `criu restore` of it (see criu.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpt/criu.h"
#include "cpt/run.h"
#include "cpt/tmpfs.h"
#include "nvz/cleanup.h"
#include "nvz/config.h"
#include "nvz/fs.h"

static struct nvz_conf *load_meta(const char *dir, struct nvz_error **err)
{
	cleanup_free char *path = NULL;
	struct nvz_conf *c = NULL;
	if (asprintf(&path, "%s/" NVZ_CPT_META, dir) < 0) {
		nvz_err(err, NVZ_E_RESTORE, ENOMEM, "out of memory");
		return NULL;
	}
	if (nvz_conf_load(&c, path, NVZ_E_RESTORE, NULL) < 0) {
		nvz_err(err, NVZ_E_RESTORE, ENOENT, "%s is not a complete nvz dump (no %s)", dir,
			NVZ_CPT_META);
		return NULL;
	}
	return c;
}

int nvz_cpt_dump_check(const char *dir, int cgroup_version, struct nvz_error **err)
{
	struct nvz_conf *c = load_meta(dir, err);
	if (!c)
		return -1;
	/* Absent or 0 in a dump of an older nvz: not known, tried. */
	const char *v = nvz_conf_get(c, "CGROUP_VERSION");
	int made = v ? atoi(v) : 0;
	nvz_conf_free(c);
	if (made > 0 && cgroup_version > 0 && made != cgroup_version)
		return nvz_err(err, NVZ_E_RESTORE, ENOTSUP,
			       "the dump %s was made under cgroup v%d and this server's controllers are "
			       "on cgroup v%d: criu cannot restore its processes here (remove the dump "
			       "to start the CT afresh)",
			       dir, made, cgroup_version);
	return 0;
}

bool nvz_cpt_dump_own_net(const char *dir)
{
	struct nvz_conf *c = load_meta(dir, NULL);
	const char *v = c ? nvz_conf_get(c, "NETNS") : NULL;
	bool own = v && !strcmp(v, "nvz");
	nvz_conf_free(c);
	return own;
}

bool nvz_cpt_dump_lazy(const char *dir)
{
	struct nvz_conf *c = load_meta(dir, NULL);
	const char *v = c ? nvz_conf_get(c, "LAZY") : NULL;
	bool lazy = v && !strcmp(v, "yes");
	nvz_conf_free(c);
	return lazy;
}

char *nvz_cpt_dump_ips(const char *dir)
{
	struct nvz_conf *c = load_meta(dir, NULL);
	const char *ips = c ? nvz_conf_get(c, "IP_ADDRESS") : NULL;
	char *out = ips && *ips ? strdup(ips) : NULL;
	nvz_conf_free(c);
	return out;
}

char *nvz_cpt_dump_netif(const char *dir)
{
	struct nvz_conf *c = load_meta(dir, NULL);
	const char *netif = c ? nvz_conf_get(c, "NETIF") : NULL;
	char *out = netif ? strdup(netif) : NULL;
	nvz_conf_free(c);
	return out;
}

double nvz_cpt_dump_uptime(const char *dir)
{
	struct nvz_conf *c = load_meta(dir, NULL);
	const char *v = c ? nvz_conf_get(c, "UPTIME") : NULL;
	double up = v ? strtod(v, NULL) : 0;
	nvz_conf_free(c);
	return up > 0 ? up : 0;
}

int nvz_cpt_dump_last_pid(const char *dir)
{
	struct nvz_conf *c = load_meta(dir, NULL);
	const char *v = c ? nvz_conf_get(c, "NS_LAST_PID") : NULL;
	long n = v ? strtol(v, NULL, 10) : 0;
	nvz_conf_free(c);
	return n > 0 && n <= (1L << 22) ? (int)n : 0;
}

/* An empty directory of its own for each empty mask (empty_dir/N, made
 * here): masks bound from one directory are one mount's binds to criu's
 * next dump, which restored all but the first without their read-only
 * flag (a writable /proc/acpi after a second restore). */
static const char *empty_source(const char *empty_dir, int n)
{
	static char dir[4200];
	snprintf(dir, sizeof(dir), "%s/%d", empty_dir, n);
	if (mkdir(dir, 0555) < 0 && errno != EEXIST)
		return empty_dir;
	return dir;
}

/* Each external mount key of the dump, mapped to this host's source. (A
 * dump is trusted like criu's images themselves, which restore as root;
 * still, an lxcfs key never leaves LXCFS_DIR, anything unknown is
 * /dev/null.) */
static void restore_externals(struct nvz_cpt_args *a, const struct nvz_cpt_restore_spec *s,
			      const char *list)
{
	cleanup_free char *copy = strdup(list ? list : "");
	char *save = NULL;
	int empties = 0;
	for (char *k = copy ? strtok_r(copy, " ", &save) : NULL; k; k = strtok_r(NULL, " ", &save)) {
		nvz_cpt_arg(a, "--external");
		if (!strcmp(k, "nvz-bcfs"))
			nvz_cpt_arg(a, "mnt[%s]:%s", k, s->bcfs_file ? s->bcfs_file : "/dev/null");
		else if (!strcmp(k, "nvz-console"))
			nvz_cpt_arg(a, "mnt[%s]:%s", k, s->console ? s->console : "/dev/null");
		else if (!strcmp(k, NVZ_CPT_CGFS_KEY) && s->cgfs_dir)
			nvz_cpt_arg(a, "mnt[%s]:%s", k, s->cgfs_dir);
		else if (!strncmp(k, NVZ_CPT_TMPFS_KEY, strlen(NVZ_CPT_TMPFS_KEY)) && s->tmpfs_dir)
			nvz_cpt_arg(a, "mnt[%s]:%s/%d", k, s->tmpfs_dir, atoi(k + strlen(NVZ_CPT_TMPFS_KEY)));
		else if (!strncmp(k, "nvz-empty:", 10) && s->empty_dir)
			nvz_cpt_arg(a, "mnt[%s]:%s", k, empty_source(s->empty_dir, empties++));
		else if (!strncmp(k, "nvz-lxcfs:", 10) && k[10] == '/' && !strstr(k, ".."))
			nvz_cpt_arg(a, "mnt[%s]:%s%s", k, s->lxcfs_dir, k + 10);
		else if (!strncmp(k, "nvz-host:", 9) && nvz_cpt_plain_mount_point(k + 9) && nvz_cpt_host_mount_at(s->root, k + 9))
			nvz_cpt_arg(a, "mnt[%s]:%s%s", k, s->root, k + 9);
		else if (!strncmp(k, "nvz-host:", 9) && s->empty_dir)
			/* No mount script bound it again: an empty directory. */
			nvz_cpt_arg(a, "mnt[%s]:%s", k, empty_source(s->empty_dir, empties++));
		else
			nvz_cpt_arg(a, "mnt[%s]:/dev/null", k);
	}
}

pid_t nvz_cpt_restore_spawn(const struct nvz_cpt_restore_spec *s, struct nvz_error **err)
{
	struct nvz_conf *meta = load_meta(s->dir, err);
	if (!meta)
		return -1;
	cleanup_free char *cglist = NULL;
	if (asprintf(&cglist, "%s/" NVZ_CPT_CGROUPS, s->dir) < 0)
		cglist = NULL;
	if (!cglist || nvz_cpt_cgroups_restore(s->cgroup_root, cglist, err) < 0) {
		nvz_conf_free(meta);
		return cglist ? -1 : nvz_err(err, NVZ_E_RESTORE, ENOMEM, "out of memory");
	}
	char script[4200];
	cleanup_strv char **env = NULL;
	int act = nvz_cpt_cgprops_action(s->dir, s->cgroup_root, s->workdir, script, sizeof(script),
					 &env, err);
	if (act < 0) {
		nvz_conf_free(meta);
		return -1;
	}
	struct nvz_cpt_args a = { 0 };
	nvz_cpt_common(&a, s->criu, s->dir, s->root);
	nvz_cpt_arg(&a, "restore");
	nvz_cpt_add_yard(&a, s->rundir);
	if (act > 0) {
		nvz_cpt_arg(&a, "--action-script");
		nvz_cpt_arg(&a, "%s", script);
	}
	nvz_cpt_arg(&a, "--restore-detached");
	nvz_cpt_arg(&a, "--work-dir");
	nvz_cpt_arg(&a, "%s", s->workdir);
	nvz_cpt_arg(&a, "-o");
	nvz_cpt_arg(&a, "%s/restore.log", s->workdir);
	nvz_cpt_arg(&a, "--pidfile");
	nvz_cpt_arg(&a, "%s/restore.pid", s->workdir);
	/* Only when the CT's cgroup moved (another CGROUP_PREFIX): criu then
	 * maps every dumped cgroup onto the new root, flattening the tree a
	 * systemd CT made below its own. */
	const char *cgold = nvz_conf_get(meta, "CGROUP_ROOT");
	if (!cgold || strcmp(cgold, s->cgroup_root)) {
		nvz_cpt_arg(&a, "--cgroup-root");
		nvz_cpt_arg(&a, "%s", s->cgroup_root);
	}
	const char *tty = nvz_conf_get(meta, "TTY");
	if (tty && *tty && s->tty_fd >= 0) {
		/* The console slave the images refer to is gone with the old
		 * monitor: processes that had it open get the new one. */
		nvz_cpt_arg(&a, "--inherit-fd");
		nvz_cpt_arg(&a, "fd[%d]:%s", s->tty_fd, tty);
	}
	restore_externals(&a, s, nvz_conf_get(meta, "EXTERNAL_MOUNTS"));
	const char *lazy = nvz_conf_get(meta, "LAZY");
	if ((lazy && !strcmp(lazy, "yes")) || s->lazy)
		/* The memory comes from the lazy-pages daemon listening in
		 * workdir (lazy.c), on demand and in the background. */
		nvz_cpt_arg(&a, "--lazy-pages");
	for (char *const *p = s->netns_fd >= 0 ? NULL : s->veth_pairs; p && *p; p++) {
		nvz_cpt_arg(&a, "--veth-pair");
		nvz_cpt_arg(&a, "%s", *p);
	}
	nvz_conf_free(meta);
	cleanup_free char *pidfile = NULL;
	if (asprintf(&pidfile, "%s/restore.pid", s->workdir) >= 0)
		unlink(pidfile);
	pid_t pid = a.oom ? nvz_err(err, NVZ_E_RESTORE, ENOMEM, "out of memory")
			  : nvz_cpt_spawn(a.v, env, s->tty_fd, s->netns_fd, s->criu_run, err);
	nvz_strv_free(a.v);
	return pid;
}

int nvz_cpt_restore_mounts(const struct nvz_cpt_restore_spec *s, struct nvz_error **err)
{
	struct nvz_conf *meta = load_meta(s->dir, err);
	if (!meta)
		return -1;
	const char *cgfs = nvz_conf_get(meta, "CGFS");
	const char *tmpfs = nvz_conf_get(meta, "TMPFS");
	int r = 0;
	if (cgfs && *cgfs && s->cgfs_dir)
		r = nvz_cpt_cgfs_make(s->cgfs_dir, cgfs, err);
	if (r == 0 && tmpfs && *tmpfs)
		r = s->tmpfs_dir ? nvz_cpt_tmpfs_make(s->tmpfs_dir, s->dir, tmpfs, err)
				 : nvz_err(err, NVZ_E_RESTORE, EINVAL, "no place for the dump's tmpfs mounts");
	nvz_conf_free(meta);
	return r;
}

/* A criu restore that was killed (the post-copy watcher does that when
 * the lazy-pages daemon dies) leaves its cgroup yard mounted below its
 * work directory, in our mount namespace: detached here, deepest first. */
static void drop_yards(const char *workdir)
{
	cleanup_free char *prefix = NULL;
	if (asprintf(&prefix, "%s/.criu.cgyard.", workdir) < 0)
		return;
	for (int round = 0; round < 16; round++) {
		cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
		char line[4096], mnt[1024], deepest[1024] = "";
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "%*s %*s %*s %*s %1023s", mnt) == 1 &&
			    !strncmp(mnt, prefix, strlen(prefix)) && strlen(mnt) > strlen(deepest))
				snprintf(deepest, sizeof(deepest), "%s", mnt);
		if (!*deepest || umount2(deepest, MNT_DETACH) < 0)
			break;
		rmdir(deepest);
	}
}

bool nvz_cpt_restore_met_no_daemon(const struct nvz_cpt_restore_spec *s)
{
	cleanup_free char *log = NULL;
	if (!s->lazy || asprintf(&log, "%s/restore.log", s->workdir) < 0)
		return false;
	cleanup_fclose FILE *f = fopen(log, "re");
	char line[1024];
	/* criu's words when its connect to the daemon's socket failed, the
	 * last step before it restores anything (uffd.c). */
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "Error (") && strstr(line, "connect to lazy-pages.socket failed"))
			return true;
	return false;
}

pid_t nvz_cpt_restore_finish(const struct nvz_cpt_restore_spec *s, int status,
			     struct nvz_error **err)
{
	cleanup_free char *log = NULL, *pidfile = NULL, *text = NULL;
	if (asprintf(&log, "%s/restore.log", s->workdir) < 0 ||
	    asprintf(&pidfile, "%s/restore.pid", s->workdir) < 0)
		return nvz_err(err, NVZ_E_RESTORE, ENOMEM, "out of memory");
	if (status != 0) {
		if (WIFSIGNALED(status))
			drop_yards(s->workdir);
		/* What criu's action script could not write back may be why. */
		cleanup_free char *cg = nvz_cpt_cgprops_failure(s->workdir);
		return nvz_cpt_criu_failed("restore", s->criu, log, log, cg, status, NVZ_E_RESTORE, err);
	}
	if (nvz_read_file(pidfile, 64, &text, NULL, err) < 0)
		return nvz_err_wrap(err, "criu restore left no pid");
	int pid = atoi(text);
	if (pid <= 0)
		return nvz_err(err, NVZ_E_RESTORE, EINVAL, "criu restore: bad pid file %s", pidfile);
	struct nvz_conf *meta = load_meta(s->dir, NULL);
	const char *cgold = meta ? nvz_conf_get(meta, "CGROUP_ROOT") : NULL;
	cleanup_free char *procs = NULL;
	char cgdir[4200];
	cleanup_free char *props = NULL;
	/* Out of the new root, the cgroups below can have their controllers
	 * (which the action script could not enable with tasks in the root). */
	if (cgold && strcmp(cgold, s->cgroup_root) &&
	    asprintf(&procs, "%s/" NVZ_CPT_CGROUP_PROCS, s->dir) >= 0 &&
	    nvz_cpt_cgroups_move(s->cgroup_root, procs) > 0 &&
	    nvz_cpt_cgprops_dir(s->cgroup_root, cgdir, sizeof(cgdir)) &&
	    asprintf(&props, "%s/" NVZ_CPT_CGPROPS, s->dir) >= 0 && nvz_path_exists(props))
		nvz_cpt_cgprops_apply(cgdir, props, NULL);
	nvz_conf_free(meta);
	return pid;
}
