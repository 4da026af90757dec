/* cgroup v1 backend: the container's cgroup is /<prefix>/<name> in every
 * mounted v1 hierarchy (controllers and name=systemd) and in the empty
 * cgroup2 of a hybrid host. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup/backend.h"
#include "nvz/cleanup.h"

#define FREEZE_WAIT_MS 2000
#define MOUNT_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static bool hier_has(const struct nvz_cg_hier *h, const char *ctrl)
{
	if (h->v2)
		return false;
	if (nvz_cg_strv_has(h->ctrls, ctrl))
		return true;
	/* "name=systemd" and plain "systemd" both name the named hierarchy. */
	if (h->name && strncmp(ctrl, "name=", 5) == 0)
		return strcmp(h->name, ctrl + 5) == 0;
	return h->name && strcmp(h->name, ctrl) == 0;
}

static const struct nvz_cg_hier *find(const struct nvz_cgroup *cg, const char *ctrl)
{
	for (size_t i = 0; i < cg->nhier; i++)
		if (hier_has(&cg->hier[i], ctrl))
			return &cg->hier[i];
	return NULL;
}

/* An empty cpuset.cpus/mems keeps tasks out: copy the parent's values. */
static int cpuset_copy(const char *parent, const char *dir, const char *file,
		       struct nvz_error **err)
{
	cleanup_free char *here = nvz_cg_join(dir, file);
	cleanup_free char *there = nvz_cg_join(parent, file);
	cleanup_free char *cur = NULL, *val = NULL;
	if (!here || !there)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "cgroup '%s': out of memory", dir);
	if (nvz_cg_read_file(here, &cur, err) < 0)
		return -EIO;
	if (cur[strspn(cur, " \n")] != '\0')
		return 0;
	if (nvz_cg_read_file(there, &val, err) < 0)
		return -EIO;
	val[strcspn(val, "\n")] = '\0';
	return nvz_cg_write_file(here, val, err);
}

static int v1_level(const struct nvz_cg_hier *h, const char *parent, const char *dir,
		    bool is_ct, struct nvz_error **err)
{
	if (hier_has(h, "cpuset")) {
		int r = cpuset_copy(parent, dir, "cpuset.cpus", err);
		if (r == 0)
			r = cpuset_copy(parent, dir, "cpuset.mems", err);
		if (r < 0)
			return r;
	}
	if (hier_has(h, "memory") && !is_ct) {
		/* Charges of the containers must reach the prefix; newer kernels
		 * always do that and refuse or ignore the write, which is fine. */
		cleanup_free char *f = nvz_cg_join(dir, "memory.use_hierarchy");
		if (f)
			(void)nvz_cg_write_file(f, "1", NULL);
	}
	return 0;
}

static int v1_create(struct nvz_cgroup *cg, struct nvz_error **err)
{
	bool fresh = true;
	for (size_t i = 0; i < cg->nhier; i++) {
		int r = nvz_cg_mkdir_levels(cg, &cg->hier[i], v1_level, err);
		if (r < 0)
			return nvz_err_wrap(err, "create cgroup %s/%s", cg->prefix, cg->name);
		fresh = fresh && r == 1;
	}
	cg->fresh = fresh;
	return 0;
}

/* Freeze so nothing forks while we read cgroup.procs and no pid we read can
 * exit and be reused before the SIGKILL; v1 delivers the kill on thaw. */
static int freeze(const struct nvz_cg_hier *fr, struct nvz_error **err)
{
	cleanup_free char *state = nvz_cg_join(fr->path, "freezer.state");
	if (!state)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "freeze: out of memory");
	if (nvz_cg_write_file(state, "FROZEN", err) < 0)
		return -EIO;
	return nvz_cg_wait_line(state, "FROZEN", FREEZE_WAIT_MS, err);
}

static int thaw(const struct nvz_cg_hier *fr, struct nvz_error **err)
{
	cleanup_free char *state = nvz_cg_join(fr->path, "freezer.state");
	if (!state)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "thaw: out of memory");
	return nvz_cg_write_file(state, "THAWED", err);
}

static int v1_freeze(struct nvz_cgroup *cg, bool frozen, struct nvz_error **err)
{
	const struct nvz_cg_hier *fr = find(cg, "freezer");
	if (!fr)
		return nvz_err(err, NVZ_E_SYSTEM, ENOENT, "freeze cgroup %s/%s: no freezer hierarchy",
			       cg->prefix, cg->name);
	if (frozen)
		return freeze(fr, err);
	cleanup_free char *state = nvz_cg_join(fr->path, "freezer.state");
	if (!state)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "thaw: out of memory");
	if (thaw(fr, err) < 0)
		return -EIO;
	return nvz_cg_wait_line(state, "THAWED", FREEZE_WAIT_MS, err);
}

/* The sum of what tree_fn (kill or count the tasks of a tree) returns for
 * each hierarchy of the CT's cgroup. */
static int each_tree(const struct nvz_cgroup *cg, int (*tree_fn)(const char *, struct nvz_error **),
		     struct nvz_error **err)
{
	int n = 0;
	for (size_t i = 0; i < cg->nhier; i++) {
		int r = tree_fn(cg->hier[i].path, err);
		if (r < 0)
			return r;
		n += r;
	}
	return n;
}

static int kill_all(struct nvz_cgroup *cg, struct nvz_error **err)
{
	return each_tree(cg, nvz_cg_kill_tree, err);
}

static int v1_kill(struct nvz_cgroup *cg, struct nvz_error **err)
{
	const struct nvz_cg_hier *fr = find(cg, "freezer");
	struct stat st;
	/* An empty cgroup (the usual case: stop kills what is left once init
	 * is gone) is not frozen: a freeze and a thaw each flip a kernel
	 * static key, which rewrites kernel text on every CPU (2-4 ms on a
	 * paravirtualised guest). A task cannot fork into an empty cgroup. */
	int n = each_tree(cg, nvz_cg_count_tree, err);
	if (n < 0)
		return nvz_err_wrap(err, "kill cgroup %s/%s", cg->prefix, cg->name);
	if (n == 0)
		return 0;
	if (fr && stat(fr->path, &st) == 0) {
		/* A freeze that never completes (a task stuck in D state) must not
		 * stop the kill: remember the error, kill anyway, always thaw. */
		int r = freeze(fr, err);
		int k = kill_all(cg, err);
		int t = thaw(fr, err);
		if (r < 0 || k < 0 || t < 0)
			return nvz_err_wrap(err, "kill cgroup %s/%s", cg->prefix, cg->name);
		return 0;
	}
	/* No freezer: repeat until a pass finds nobody left to kill. */
	for (int round = 0; round < 50; round++) {
		int k = kill_all(cg, err);
		if (k < 0)
			return nvz_err_wrap(err, "kill cgroup %s/%s", cg->prefix, cg->name);
		if (k == 0)
			return 0;
		nvz_cg_sleep_ms(10);
	}
	return nvz_err(err, NVZ_E_SYSTEM, EBUSY, "kill cgroup %s/%s: processes keep appearing",
		       cg->prefix, cg->name);
}

/* An explicit controller, else the file's prefix ("pids.max" -> pids). */
static int v1_file_hier(const struct nvz_cgroup *cg, const char *controller, const char *file,
			const struct nvz_cg_hier **out, struct nvz_error **err)
{
	cleanup_free char *ctrl = strndup(controller ? controller : file,
					  controller ? strlen(controller) : strcspn(file, "."));
	if (!ctrl)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "cgroup file '%s': out of memory", file);
	if (!(*out = find(cg, ctrl)))
		return nvz_err(err, NVZ_E_SYSTEM, ENOENT,
			       "cgroup file '%s': no v1 hierarchy with controller '%s' is mounted",
			       file, ctrl);
	return 0;
}

static const struct nvz_cg_hier *v1_procs_hier(const struct nvz_cgroup *cg)
{
	const struct nvz_cg_hier *h = find(cg, "pids");
	if (!h)
		h = find(cg, "memory");
	return h ? h : cg->nhier ? &cg->hier[0] : NULL;
}

static const struct nvz_cg_hier *v1_freezer_hier(const struct nvz_cgroup *cg)
{
	return find(cg, "freezer");
}

static bool v1_has_controller(const struct nvz_cgroup *cg, const char *ctrl)
{
	return find(cg, ctrl) != NULL;
}

/* Mount options naming the same hierarchy and flags: "cpu,cpuacct" or
 * "none,xattr,name=systemd". */
static char *mount_opts(const struct nvz_cg_hier *h)
{
	char *s = NULL;
	size_t len = 0;
	cleanup_fclose FILE *f = open_memstream(&s, &len);
	if (!f)
		return NULL;
	for (char **c = h->ctrls; *c; c++)
		fprintf(f, "%s%s", c == h->ctrls ? "" : ",", *c);
	if (!h->ctrls[0])
		fputs("none", f);
	for (char **c = h->flags; *c; c++)
		fprintf(f, ",%s", *c);
	if (h->name)
		fprintf(f, ",name=%s", h->name);
	if (fclose(steal_ptr(&f)) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

static const char *base_of(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

/* One hierarchy at <dirfd>/<basename of host mount>. */
static int mount_hier(const struct nvz_cg_hier *h, int dirfd, const char *shown,
		      struct nvz_error **err)
{
	const char *base = base_of(h->mnt);
	cleanup_free char *where = nvz_cg_join(shown, base);
	cleanup_free char *opts = h->v2 ? strdup("") : mount_opts(h);
	if (!where || !opts)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "mount cgroups: out of memory");
	cleanup_close int fd = nvz_cg_mkdir_open(dirfd, base, shown, err);
	if (fd < 0)
		return fd;
	cleanup_free char *what = NULL;
	if (asprintf(&what, "%s '%s'", h->v2 ? "cgroup2" : "cgroup", h->v2 ? base : opts) < 0)
		return nvz_err(err, NVZ_E_SYSTEM, ENOMEM, "mount cgroups: out of memory");
	int r = nvz_cg_mount_fd(fd, where, what, h->v2 ? "cgroup2" : "cgroup",
				h->v2 ? "cgroup2" : "cgroup", MOUNT_FLAGS, h->v2 ? NULL : opts, err);
	if (r < 0)
		return r;
	/* Controllers are the host's policy: read-only. name=systemd and the
	 * hybrid cgroup2 stay writable, an init inside creates its own groups. */
	if (h->v2 || !h->ctrls[0])
		return 0;
	cleanup_close int top = openat(dirfd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0)
		return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "open '%s'", where);
	return nvz_cg_remount_ro(top, where, MOUNT_FLAGS, err);
}

static bool is_hier_base(const struct nvz_cgroup *cg, const char *dir, const char *name)
{
	for (size_t i = 0; i < cg->nhier; i++) {
		cleanup_free char *d = strdup(cg->hier[i].mnt);
		if (d && strcmp(base_of(cg->hier[i].mnt), name) == 0 && strcmp(dirname(d), dir) == 0)
			return true;
	}
	return false;
}

/* The host's aliases of co-mounted hierarchies (cpu -> cpu,cpuacct): copy
 * each symlink next to the first v1 mount whose target is a sibling mount. */
static int copy_links(const struct nvz_cgroup *cg, int into, const char *shown,
		      struct nvz_error **err)
{
	cleanup_free char *dir = cg->nhier ? strdup(cg->hier[0].mnt) : NULL;
	if (!dir)
		return 0;
	const char *hostdir = dirname(dir);
	cleanup_dir DIR *d = opendir(hostdir);
	if (!d)
		return 0;
	for (struct dirent *de; (de = readdir(d));) {
		char target[NAME_MAX + 1];
		if (de->d_type != DT_LNK)
			continue;
		ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strchr(target, '/') || !is_hier_base(cg, hostdir, target))
			continue;
		if (symlinkat(target, into, de->d_name) < 0)
			return nvz_err_sys(err, NVZ_E_SYSTEM, errno, "create symlink '%s/%s'", shown,
					   de->d_name);
	}
	return 0;
}

/* Runs in the container's mount namespace after it joined its own cgroup
 * namespace, so every cgroupfs mounted here shows only its subtree. */
static int v1_mount_inside(const struct nvz_cgroup *cg, int rootfd, const char *rel,
			   const char *shown, struct nvz_error **err)
{
	cleanup_close int under = nvz_cg_open_in_root(rootfd, rel, shown, err);
	if (under < 0)
		return under;
	/* A tmpfs of our own over the sysfs directory: nothing below it was
	 * made by the container, so names created inside cannot be redirected. */
	int r = nvz_cg_mount_fd(under, shown, "tmpfs", "tmpfs", "tmpfs", MOUNT_FLAGS, "mode=755", err);
	if (r < 0)
		return r;
	/* The fd still names the covered directory; the same lookup again
	 * ends on the tmpfs (checked, the container is not running yet). */
	cleanup_close int top = nvz_cg_open_in_root(rootfd, rel, shown, err);
	struct statfs sf;
	if (top < 0)
		return top;
	if (fstatfs(top, &sf) < 0 || sf.f_type != TMPFS_MAGIC)
		return nvz_err(err, NVZ_E_SYSTEM, EXDEV, "tmpfs at '%s' is not where it was mounted",
			       shown);
	for (size_t i = 0; i < cg->nhier; i++)
		if ((r = mount_hier(&cg->hier[i], top, shown, err)) < 0)
			return r;
	if ((r = copy_links(cg, top, shown, err)) < 0)
		return r;
	return nvz_cg_remount_ro(top, shown, MOUNT_FLAGS, err);
}

const struct nvz_cg_backend nvz_cg_v1_backend = {
	.version = NVZ_CGROUP_V1,
	.create = v1_create,
	.kill = v1_kill,
	.freeze = v1_freeze,
	.freezer_hier = v1_freezer_hier,
	.file_hier = v1_file_hier,
	.procs_hier = v1_procs_hier,
	.has_controller = v1_has_controller,
	.mount_inside = v1_mount_inside,
	.plan_limits = nvz_cg_v1_plan_limits,
	.set_devices = nvz_cg_v1_set_devices,
	.counters = nvz_cg_v1_counters,
	.enforces = nvz_cg_v1_enforces,
};
